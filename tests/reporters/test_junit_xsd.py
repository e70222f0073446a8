"""JUnit output validates against the Jenkins xunit plugin's schema (tests/data/junit-10.xsd)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from stcheck.cli import main
from stcheck.reporters import junit
from tests.reporters.test_junit import _mixed

etree = pytest.importorskip("lxml.etree")

XSD = Path(__file__).resolve().parents[1] / "data" / "junit-10.xsd"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "stcheck.yaml"


def _schema() -> object:
    return etree.XMLSchema(etree.parse(str(XSD)))


def _assert_valid(text: str) -> None:
    schema = _schema()
    document = etree.fromstring(text.encode("utf-8"))
    if not schema.validate(document):  # type: ignore[attr-defined]
        raise AssertionError(str(schema.error_log))  # type: ignore[attr-defined]


def test_every_status_validates() -> None:
    # fail, error, skip, warn and pass results, hostile text included.
    _assert_valid(junit.render(_mixed()))


def test_the_old_skipped_attribute_on_testsuites_is_what_the_schema_refuses() -> None:
    text = junit.render(_mixed()).replace(
        '<testsuites name="stcheck"', '<testsuites skipped="1" name="stcheck"', 1
    )
    with pytest.raises(AssertionError, match="skipped"):
        _assert_valid(text)


def _run(tmp_path: Path, manifest: Path) -> str:
    target = tmp_path / "junit.xml"
    main(
        ["validate", str(manifest), "-q", "--output", f"junit={target}"],
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    return target.read_text(encoding="utf-8")


def test_real_validate_output_validates(tmp_path: Path) -> None:
    _assert_valid(_run(tmp_path, EXAMPLE))


def test_real_failing_output_validates(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(
        "version: 1\napp: {name: x, app_key: 'ak1.0123456789abcdef0123456789abcdef'}\n"
        "tenants:\n  - name: a\n    environments: {integration: {tenant_id: 0123}}\n",
        encoding="utf-8",
    )
    text = _run(tmp_path, manifest)
    assert "<failure" in text
    _assert_valid(text)

"""JSON pointers (RFC 6901) in one module; keys holding '/' or '~' are located right end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stcheck.manifest import pointer
from tests.conftest import VALID, run_cli

AWKWARD_KEYS = ["a/b~c", "~1", "~01", "/", "~", "", "a//b", "~0~1", "0", "ü/ß"]


@pytest.mark.parametrize("key", AWKWARD_KEYS)
def test_a_key_survives_escaping_and_splitting(key: str) -> None:
    built = pointer.join(("tenants", 0, key, "on"))
    assert pointer.split(built) == ["tenants", "0", key, "on"]
    assert pointer.unescape(pointer.escape(key)) == key


def test_escaping_follows_rfc_6901() -> None:
    assert pointer.escape("a/b~c") == "a~1b~0c"
    assert pointer.join(("app", "a/b~c")) == "/app/a~1b~0c"
    # '~01' is '~' then '1', never '/': '~1' is decoded first.
    assert pointer.split("/~01") == ["~1"]
    assert pointer.split("/a~1b") == ["a/b"]
    assert pointer.join(()) == "" and pointer.split("") == []
    assert pointer.split("/") == [""]  # the key "" (RFC 6901 section 5)
    assert pointer.path("/tenants/12/name") == ["tenants", 12, "name"]
    assert pointer.tenant_index("/tenants/12/environments/a~1b") == 12
    assert pointer.tenant_index("/app/tenants/1") is None
    assert pointer.child("/tenants", 0, "x/y") == "/tenants/0/x~1y"
    assert pointer.parent("/tenants/0/x~1y") == "/tenants/0"


def _failures(path: Path, check: str) -> list[dict[str, object]]:
    document = json.loads(run_cli("validate", "--format", "json", str(path)).out)
    return [r for r in document["results"] if r["check"] == check and r["status"] == "fail"]


def test_an_unknown_key_with_slash_and_tilde_is_located_by_the_cli(tmp_path: Path) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID.replace("app:\n", 'app:\n  "a/b~c": 1\n'), encoding="utf-8")
    (found,) = _failures(path, "schema")
    assert found["reason"] == "unknown_key"
    assert "'a/b~c'" in str(found["message"])
    assert found["location"] == {
        "file": str(path),
        "line": 3,
        "column": 3,
        "pointer": "/app/a~1b~0c",
    }


def test_a_bad_date_under_an_attestation_named_with_slash_and_tilde(tmp_path: Path) -> None:
    """The schema check's date rule built '/…/x/y~z/on' unescaped: the wrong place and pointer."""
    attestation = '        "x/y~z": {by: dana@acme.example, on: 2026-02-30}\n'
    text = VALID.replace(
        "        client_secret: file:secrets/gp-prod\n",
        "        client_secret: file:secrets/gp-prod\n"
        "    go_live:\n      attestations:\n" + attestation,
    )
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index(attestation.rstrip("\n")) + 1
    dates = [r for r in _failures(path, "schema") if "calendar date" in str(r["message"])]
    (found,) = dates
    assert found["location"] == {
        "file": str(path),
        "line": line,
        "column": attestation.index("2026-02-30") + 1,
        "pointer": "/tenants/0/go_live/attestations/x~1y~0z/on",
    }
    assert "attestations.x/y~z.on" in str(found["message"])


def test_a_credential_under_an_environment_named_with_a_slash(tmp_path: Path) -> None:
    """The references check's credential walk built '/…/environments/a/b/…' unescaped."""
    entry = (
        "      a/b:\n        tenant_id: 1\n        client_id: env:AB_ID\n"
        "        client_secret: vault:ab\n"
    )
    text = VALID.replace(
        "    environments:\n      integration:\n",
        "    environments:\n" + entry + "      integration:\n",
        1,
    )
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("        client_secret: vault:ab") + 1
    (found,) = _failures(path, "references")
    assert found["reason"] == "unknown_scheme"
    assert found["location"] == {
        "file": str(path),
        "line": line,
        "column": len("        client_secret: ") + 1,
        "pointer": "/tenants/0/environments/a~1b/client_secret",
    }

"""The wheel users install: it ships the schemas and works outside the repository."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

from .support import REPO, Venv, project_version

SCHEMAS = ("manifest-v1.schema.json", "report-v1.schema.json")
# The plugin's checks would add results; these runs look at stcheck alone.
WITHOUT_PLUGINS = {"STCHECK_DISABLE_PLUGINS": "dotenv,owner"}


def test_wheel_ships_the_published_schemas(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["stcheck"]) as wheel:
        names = set(wheel.namelist())
        for schema in SCHEMAS:
            assert f"stcheck/schemas/{schema}" in names
            shipped = json.loads(wheel.read(f"stcheck/schemas/{schema}"))
            assert shipped == json.loads((REPO / "schemas" / schema).read_text(encoding="utf-8"))
    assert not any(name.startswith(("tests/", "bench/", "plugins/")) for name in names)


def test_wheel_declares_the_console_script(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["stcheck"]) as wheel:
        (entry_points,) = [n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt")]
        text = wheel.read(entry_points).decode()
    assert "stcheck = stcheck.cli:entry" in text


def test_installed_package_is_the_wheel_not_the_checkout(venv: Venv, tmp_path: Path) -> None:
    done = venv.run(
        "python",
        "-c",
        "import stcheck, stcheck.manifest.schema as s\n"
        "print(stcheck.__file__)\n"
        "print(s.schema_path(s.MANIFEST_SCHEMA))\n",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    module, schema = (Path(line) for line in done.stdout.splitlines())
    assert venv.path in module.parents
    assert REPO not in module.parents
    assert schema.parent == module.parent / "schemas"


def test_version_has_one_source(venv: Venv, wheels: dict[str, Path], tmp_path: Path) -> None:
    """stcheck/__init__.py states the version; the wheel's metadata and --version agree."""
    version = project_version()
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    assert not re.search(r"^version\s*=", pyproject, re.MULTILINE)  # no second, static version
    assert 'dynamic = ["version"]' in pyproject
    with zipfile.ZipFile(wheels["stcheck"]) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        assert f"\nVersion: {version}\n" in wheel.read(metadata).decode()
    done = venv.run("stcheck", "--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"stcheck {version}"


def test_validate_the_example_outside_the_repository(venv: Venv, tmp_path: Path) -> None:
    shutil.copy(REPO / "examples" / "stcheck.yaml", tmp_path / "stcheck.yaml")
    done = venv.run("stcheck", "validate", cwd=tmp_path, env=WITHOUT_PLUGINS)  # default manifest
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok" in done.stdout

    done = venv.run(
        "stcheck", "validate", "--format", "json", "stcheck.yaml", cwd=tmp_path, env=WITHOUT_PLUGINS
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["summary"]["fail"] == report["summary"]["error"] == 0
    assert {"schema", "references", "unique"} <= set(report["checks"]["run"])


def test_validate_without_a_manifest_is_a_usage_error(venv: Venv, tmp_path: Path) -> None:
    done = venv.run("stcheck", "validate", cwd=tmp_path)
    assert done.returncode == 2
    assert "stcheck.yaml" in done.stderr
    assert done.stdout == ""


def test_schema_command_prints_the_published_schema(venv: Venv, tmp_path: Path) -> None:
    for args, schema in (((), SCHEMAS[0]), (("--report",), SCHEMAS[1])):
        done = venv.run("stcheck", "schema", *args, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        published = (REPO / "schemas" / schema).read_text(encoding="utf-8")
        assert json.loads(done.stdout) == json.loads(published)
        assert done.stdout.strip() == published.strip()


def test_trustme_is_only_in_the_demo_extra(wheels: dict[str, Path]) -> None:
    with zipfile.ZipFile(wheels["stcheck"]) as wheel:
        (metadata,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in wheel.read(metadata).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
    trustme = [r.replace('"', "'") for r in requires if r.startswith("trustme")]
    assert trustme and all("extra ==" in r for r in trustme)  # never unconditional
    assert any("extra == 'demo'" in r for r in trustme)


def test_installed_without_the_extra_there_is_no_cryptography_and_demo_says_why(
    venv: Venv, tmp_path: Path
) -> None:
    """What the pre-commit hook installs (stcheck and its runtime dependencies) has no
    cryptography; ``stcheck demo`` there names the extra that brings the fake's CA."""
    probe = "import importlib.util as u; print(u.find_spec('trustme'), u.find_spec('cryptography'))"
    done = venv.run("python", "-c", probe, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None"]
    done = venv.run("stcheck", "demo", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip().endswith("pip install 'stcheck[demo]'")
    assert "Traceback" not in done.stderr

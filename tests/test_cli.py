"""The command-line contract: exit codes, formats, several outputs at once, selection."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from stcheck import __version__
from stcheck import app as app_module
from stcheck.api import Check, CheckContext, RunOptions
from stcheck.hookspecs import hookimpl
from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from stcheck.model import Result, Status
from stcheck.plugins import build_plugins
from stcheck.runner import run
from tests.conftest import VALID, run_cli

BROKEN = VALID.replace("tenant_id: 2345678", "tenant_id: 1234567").replace(
    "      production:\n", "      staging:\n"
)


def write(tmp_path: Path, text: str, name: str = "stcheck.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_0_when_nothing_failed(tmp_path: Path) -> None:
    result = run_cli("validate", str(write(tmp_path, VALID)))
    assert result.code == 0, result
    assert result.out.strip().endswith("(1 manifest)")
    assert result.err == ""


def test_exit_1_with_file_line_column_lines(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    result = run_cli("validate", str(path))
    assert result.code == 1
    assert f"{path}:14:7: fail [schema] unknown environment 'staging'" in result.out
    assert f"{path}:21:20: fail [unique] integration tenant ID 1234567" in result.out
    assert "    hint: " in result.out


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "missing.yaml"],
        ["validate", "--format", "yaml"],
        ["validate", "--select", "nosuchcheck"],
        ["validate", "--tenant", "nobody"],
        ["validate", "--output", "json"],
        ["validate", "--output", "nosuch=x.out"],
        ["check", "--timeout", "-1"],
        ["check", "--resolve", "nonsense"],
        ["frobnicate"],
        [],
    ],
)
def test_exit_2_for_usage_and_input_errors(tmp_path: Path, monkeypatch, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    write(tmp_path, VALID)
    result = run_cli(*args)
    assert result.code == 2, result
    assert result.err.strip(), "a usage error says what is wrong on stderr"
    assert result.out == ""


def test_missing_manifest_names_the_file(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = run_cli("validate")
    assert result.code == 2
    assert "stcheck.yaml: no such manifest file" in result.err


def test_default_manifest_is_stcheck_yaml_in_the_working_directory(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    write(tmp_path, VALID)
    assert run_cli("validate").code == 0


def test_exit_3_when_stcheck_itself_breaks(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken_run(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(app_module, "run", broken_run)
    result = run_cli("validate", str(write(tmp_path, VALID)))
    assert result.code == 3
    assert "internal error: RuntimeError: boom" in result.err
    assert "Traceback" not in result.err


def test_several_manifests_at_once(tmp_path: Path) -> None:
    good = write(tmp_path, VALID, "a.stcheck.yaml")
    bad = write(tmp_path, BROKEN, "b.stcheck.yaml")
    result = run_cli("validate", "--format", "json", str(good), str(bad))
    document = json.loads(result.out)
    assert result.code == 1
    assert document["manifests"] == [str(good), str(bad)]
    files = {r["location"]["file"] for r in document["results"] if r["status"] == "fail"}
    assert files == {str(bad)}


def test_json_output_follows_the_published_report_schema(tmp_path: Path) -> None:
    for text in (VALID, BROKEN):
        result = run_cli("validate", "--format", "json", str(write(tmp_path, text)))
        document = json.loads(result.out)
        jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA)).validate(document)
        assert document["schema_version"] == 1
        assert document["tool"] == {"name": "stcheck", "version": __version__}
        counts = document["summary"]
        assert sum(counts.values()) == len(document["results"])


def test_network_checks_are_skipped_with_a_reason_offline(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", str(write(tmp_path, VALID)))
    document = json.loads(result.out)
    skipped = {r["check"]: r["reason"] for r in document["results"] if r["status"] == "skip"}
    for check in ("credentials", "dns", "token", "api"):
        assert skipped.get(check) == "offline"
    assert document["checks"]["not_run"]["golive"] == "not_applicable"


def test_github_annotations(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    result = run_cli("validate", "--format", "github", str(path))
    lines = result.out.splitlines()
    assert any(
        line.startswith(f"::error file={path},line=14,col=7,title=stcheck [schema] fail::")
        for line in lines
    ), lines
    assert lines[-1].startswith("::notice title=stcheck::")


def test_one_run_feeds_terminal_and_files(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    out = tmp_path / "out"
    result = run_cli(
        "validate",
        str(path),
        "--output",
        f"json={out}/report.json",
        "--output",
        f"junit={out}/junit.xml",
        "--output",
        f"sarif={out}/stcheck.sarif",
        "--output",
        f"markdown={out}/summary.md",
    )
    assert result.code == 1
    assert "fail [schema]" in result.out  # text still on stdout
    assert json.loads((out / "report.json").read_text())["summary"]["fail"] >= 2
    ET.fromstring((out / "junit.xml").read_text())
    assert json.loads((out / "stcheck.sarif").read_text())["version"] == "2.1.0"
    assert "unknown environment" in (out / "summary.md").read_text()


def test_quiet_writes_nothing_to_stdout(tmp_path: Path) -> None:
    result = run_cli("validate", "-q", str(write(tmp_path, BROKEN)))
    assert (result.code, result.out) == (1, "")


def test_select_and_skip(tmp_path: Path) -> None:
    path = write(tmp_path, BROKEN)
    only_unique = json.loads(
        run_cli("validate", "--format", "json", "--select", "unique", str(path)).out
    )
    ran = {r["check"] for r in only_unique["results"] if r["status"] != "skip"}
    assert ran == {"unique"}
    assert only_unique["checks"]["not_run"]["schema"] == "deselected"
    skipped = json.loads(
        run_cli("validate", "--format", "json", "--skip", "schema,unique", str(path)).out
    )
    assert {r["check"] for r in skipped["results"] if r["status"] == "fail"} == set()


def test_tenant_and_env_selection_filter_results(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("env:RH_INT_CLIENT_ID", "env:GP_INT_CLIENT_ID"))
    result = run_cli("validate", "--format", "json", "--tenant", "good-plumbing", str(path))
    document = json.loads(result.out)
    assert all(r["tenant"] in (None, "good-plumbing") for r in document["results"])
    assert result.code == 0  # the shared reference is reported on rapid-hvac, not selected


def test_verbose_text_lists_passes(tmp_path: Path) -> None:
    result = run_cli("validate", "-v", str(write(tmp_path, VALID)))
    assert "pass [schema]" in result.out
    assert "skip [token]" in result.out


def test_schema_command_prints_the_published_schemas() -> None:
    repo = Path(__file__).resolve().parent.parent
    result = run_cli("schema")
    assert result.code == 0
    assert result.out == (repo / "schemas" / "manifest-v1.schema.json").read_text()
    assert json.loads(run_cli("schema", "--report").out)["title"].startswith("stcheck JSON report")


def test_plugins_command_lists_builtins() -> None:
    result = run_cli("plugins")
    assert result.code == 0
    for word in ("stcheck.checks.schema", "references", "unique", "env:", "file:", "sarif"):
        assert word in result.out


def test_the_api_probe_plugin_keeps_its_name_after_its_module_moved() -> None:
    # The module is stcheck/checks/probe.py; users and scripts know the plugin as
    # stcheck.checks.api (``stcheck plugins``, ``--disable-plugin``).
    assert "  stcheck.checks.api 0.1.0 (built-in)\n      checks: api\n" in run_cli("plugins").out
    plugins = build_plugins(load_installed=False)
    (probe,) = [p for p in plugins.plugins if "api" in p.checks]
    assert (probe.name, probe.module.__name__) == ("stcheck.checks.api", "stcheck.checks.probe")
    for name in ("api", "stcheck.checks.api", "stcheck.checks.probe"):
        disabled = build_plugins(load_installed=False, disabled=[name])
        assert not any("api" in p.checks for p in disabled.plugins), name


def test_help_answers_the_question() -> None:
    result = run_cli("validate", "--help")
    assert result.code == 0
    assert "--select" in result.out and "exit status" in result.out


# --- a crashing check and a misbehaving plugin do not stop the run -----------------------


class Crashing(Check):
    """A check that crashes, to prove the run goes on."""

    id = "crashing"

    def run(self, ctx: CheckContext) -> list[Result]:
        raise ValueError("something inside the check broke")


class CrashingPlugin:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [Crashing()]


class WrongTypePlugin:
    __version__ = "9.9"

    @hookimpl
    def stcheck_checks(self) -> list[object]:
        return ["not a check"]


def test_crashing_check_is_an_error_result_and_the_run_goes_on(tmp_path: Path) -> None:
    plugins = build_plugins(
        load_installed=False, extra=[("crashing", CrashingPlugin()), ("wrong", WrongTypePlugin())]
    )
    report = run([str(write(tmp_path, VALID))], plugins, RunOptions())
    by_check = {r.check: r for r in report.results}
    assert by_check["crashing"].status is Status.ERROR
    assert by_check["crashing"].reason == "check_crashed"
    assert "ValueError: something inside the check broke" in by_check["crashing"].message
    assert by_check["plugins"].reason == "plugin_error"
    assert "wrong 9.9" in by_check["plugins"].message
    assert by_check["schema"].status is Status.PASS
    assert report.failed


def test_validate_never_imports_the_http_stack_or_templates(tmp_path: Path) -> None:
    """The pre-commit path must start fast: no requests, urllib3, Jinja2 or trustme."""
    import subprocess
    import sys

    path = write(tmp_path, VALID)
    probe = (
        "import sys\n"
        "from stcheck.cli import main\n"
        f"code = main(['validate', {str(path)!r}])\n"
        "heavy = sorted(m for m in ('requests', 'urllib3', 'jinja2', 'trustme', 'jsonschema',"
        " 'importlib.metadata', 'stcheck.net.http', 'stcheck.net.config', 'stcheck.net.tokens',"
        " 'stcheck.checks.support.preconditions', 'stcheck.checks.support.secretstore')"
        " if m in sys.modules)\n"
        "heavy += sorted(m for m in sys.modules if m.startswith('stcheck.checks.golive.'))\n"
        "print(code, heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.strip().splitlines()[-1] == "0 []"


def test_control_characters_from_the_manifest_cannot_reach_the_terminal(tmp_path: Path) -> None:
    hostile = '"t\\e]0;pwned\\a\\nforged"'  # YAML escapes: ESC, BEL, newline
    text = f"version: 1\napp: {{name: x, app_key: env:K}}\ntenants:\n  - name: {hostile}\n"
    path = write(tmp_path, text)
    for fmt in ("text", "github"):
        out = run_cli("validate", "--format", fmt, str(path)).out
        assert "\x1b" not in out and "\x07" not in out, fmt
        assert not any(line.startswith("forged") for line in out.splitlines()), fmt


def test_an_output_path_that_is_a_directory_is_a_usage_error(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    result = run_cli("validate", str(path), "--output", f"json={tmp_path}")
    assert result.code == 2
    assert "stcheck: error:" in result.err and "internal error" not in result.err


def test_a_full_device_is_written_to_not_replaced_and_exits_3(tmp_path: Path) -> None:
    """/dev/full fails every write (ENOSPC): exit 3, and the device itself is left alone.

    stcheck may run as root: deleting or renaming over a device node (``/dev/null``)
    would break the machine, so devices and pipes are written to directly.
    """
    import stat

    target = Path("/dev/full")
    if not target.exists() or not stat.S_ISCHR(target.stat().st_mode):
        pytest.skip("no /dev/full here")
    path = write(tmp_path, VALID)
    result = run_cli("validate", str(path), "--output", "json=/dev/full")
    assert result.code == 3
    assert "cannot write /dev/full" in result.err and "internal error" not in result.err
    assert stat.S_ISCHR(target.stat().st_mode)

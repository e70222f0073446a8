"""The configuration file: discovery, precedence, every error's shape, and its confinement.

Real command-line runs in temporary repositories (a ``.git`` directory marks
the root); nothing here reaches the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import VALID, CliResult, run_cli

WARNS = VALID.replace("[tn.stt.businessunits:r]", "[tn.set.businessunits:r]")  # one warn
BROKEN_SECOND = VALID.replace("tenant_id: 2345678", "tenant_id: 0")  # rapid-hvac is invalid


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository (``.git`` at its root) with a valid manifest; the working directory."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "stcheck.yaml").write_text(VALID, encoding="utf-8")
    monkeypatch.chdir(root)
    monkeypatch.delenv("STCHECK_DEADLINE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    return root


def _json(*args: str) -> tuple[CliResult, dict[str, Any]]:
    result = run_cli(*args, "--format", "json")
    assert result.out, result
    return result, json.loads(result.out)


def _ran(*args: str) -> list[str]:
    result, document = _json("validate", *args)
    assert result.code == 0, result
    return list(document["checks"]["run"])


def _error(*args: str) -> str:
    result = run_cli(*args)
    assert result.code == 2, result
    assert "Traceback" not in result.err
    assert result.err.startswith("stcheck: error: "), result.err
    return result.err.removeprefix("stcheck: error: ").strip()


# --- discovery -------------------------------------------------------------------------------


def test_found_from_a_subdirectory_upward(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.stcheck]\nselect = ["schema"]\n'
        'manifests = ["stcheck.yaml"]\n'
    )
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result, document = _json("validate")
    assert result.code == 0, result
    assert document["checks"]["run"] == ["schema"]
    assert document["manifests"] == [os.path.join("..", "..", "stcheck.yaml")]


def test_never_above_the_repository_root(repo: Path) -> None:
    (repo.parent / ".stcheck.toml").write_text('select = ["schema"]\n')
    assert _ran() == ["references", "schema", "unique"]


def test_outside_a_repository_only_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".stcheck.toml").write_text('select = ["schema"]\n')
    here = tmp_path / "work"
    here.mkdir()
    (here / "stcheck.yaml").write_text(VALID)
    monkeypatch.chdir(here)
    assert _ran() == ["references", "schema", "unique"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "stcheck.yaml").write_text(VALID)
    assert _ran() == ["schema"]


def test_dedicated_file_wins_over_pyproject_in_one_directory(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[tool.stcheck]\nselect = ["unique"]\n')
    (repo / ".stcheck.toml").write_text('select = ["schema"]\n')
    assert _ran() == ["schema"]


def test_a_pyproject_without_the_table_is_passed_over(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (repo / ".stcheck.toml").write_text('select = ["schema"]\n')
    sub = repo / "pkg"
    sub.mkdir()
    (sub / "pyproject.toml").write_text(
        '[project]\nname = "uses-stcheck"\ndependencies = ["stcheck"]\n'
    )
    (sub / "stcheck.yaml").write_text(VALID)
    monkeypatch.chdir(sub)
    assert _ran() == ["schema"]


def test_named_with_config_and_ignored_with_no_config(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('select = ["schema"]\n')
    other = repo / "ci.toml"
    other.write_text('select = ["unique"]\n')
    assert _ran("--config", str(other)) == ["unique"]
    assert _ran("--no-config") == ["references", "schema", "unique"]
    both = run_cli("validate", "--config", str(other), "--no-config")
    assert both.code == 2 and "--no-config: not allowed with argument --config" in both.err


def test_a_named_pyproject_without_the_table_is_an_error(repo: Path) -> None:
    (repo / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert _error("validate", "--config", "pyproject.toml") == (
        "pyproject.toml: has no [tool.stcheck] table (named by --config)"
    )


def test_a_missing_named_config_is_an_error(repo: Path) -> None:
    assert "nope.toml does not exist" in _error("validate", "--config", "nope.toml")


# --- precedence ------------------------------------------------------------------------------


def test_command_line_lists_replace_the_config_lists(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('select = ["schema", "unique"]\nskip = ["unique"]\n')
    assert _ran() == ["schema"]
    assert _ran("--select", "references") == ["references"]  # replaces select; skip still applies
    assert _ran("--skip", "schema") == ["unique"]  # replaces skip


def test_a_command_section_overrides_the_top_level(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text(
        'select = ["unique"]\n\n[validate]\nselect = ["schema"]\n\n[check]\nselect = ["token"]\n'
    )
    assert _ran() == ["schema"]


def test_positional_manifests_replace_the_configured_ones(repo: Path) -> None:
    (repo / "fleet").mkdir()
    for name in ("a", "b"):
        (repo / "fleet" / f"{name}.stcheck.yaml").write_text(BROKEN_SECOND)
    (repo / ".stcheck.toml").write_text('manifests = ["fleet/*.stcheck.yaml"]\n')
    result, document = _json("validate")
    assert result.code == 1
    assert document["manifests"] == ["fleet/a.stcheck.yaml", "fleet/b.stcheck.yaml"]
    result, document = _json("validate", "stcheck.yaml")
    assert (result.code, document["manifests"]) == (0, ["stcheck.yaml"])


def test_fail_on_warn_from_config_and_the_command_line_overriding_it(repo: Path) -> None:
    (repo / "stcheck.yaml").write_text(WARNS)
    assert run_cli("validate").code == 0
    assert run_cli("validate", "--fail-on", "warn").code == 1
    (repo / ".stcheck.toml").write_text('fail_on = "warn"\n')
    assert run_cli("validate").code == 1
    assert run_cli("validate", "--fail-on", "fail").code == 0
    assert run_cli("validate", "--no-config").code == 0


def test_fail_on_warn_without_a_warn_is_still_exit_0(repo: Path) -> None:
    assert run_cli("validate", "--fail-on", "warn").code == 0


def test_config_outputs_are_written_and_the_command_line_replaces_them(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text(
        '[outputs]\njunit = "out/junit.xml"\njson = "out/report.json"\n'
    )
    assert run_cli("validate", "-q").code == 0
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["junit.xml", "report.json"]
    for path in (repo / "out").iterdir():
        path.unlink()
    assert run_cli("validate", "-q", "--output", "sarif=out/x.sarif").code == 0
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["x.sarif"]


def test_config_output_formats_of_another_command_are_left_out(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('outputs = ["html=out/report.html", "json=out/r.json"]\n')
    assert run_cli("validate", "-q").code == 0
    assert sorted(p.name for p in (repo / "out").iterdir()) == ["r.json"]


def test_environment_deadline_beats_the_config_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    from stcheck.app import _deadline_for

    assert _deadline_for("check", None, 30.0) == 30.0
    monkeypatch.setenv("STCHECK_DEADLINE", "5")
    assert _deadline_for("check", None, 30.0) == 5.0
    assert _deadline_for("check", 2.0, 30.0) == 2.0
    assert _deadline_for("validate", None, 30.0) is None


def test_what_the_config_leaves_out_is_said_on_stderr(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('skip = ["unique"]\nexclude_tenants = ["rapid-*"]\n')
    result = run_cli("report", "--offline", "-q")
    assert result.code == 0
    assert result.err == "stcheck: from .stcheck.toml: skip 'unique'; exclude_tenants 'rapid-*'\n"
    # validate checks excluded tenants' entries all the same: only the skip is news
    assert run_cli("validate", "-q").err == "stcheck: from .stcheck.toml: skip 'unique'\n"
    quiet = run_cli("validate", "-q", "--skip", "references", "--exclude-tenant", "x")
    assert quiet.err == ""  # the command line's own choices need no note


# --- exclusion -------------------------------------------------------------------------------


def test_validate_still_checks_the_entries_of_an_excluded_tenant(repo: Path) -> None:
    (repo / "stcheck.yaml").write_text(BROKEN_SECOND)
    result, document = _json("validate", "--exclude-tenant", "rapid-*")
    assert result.code == 1  # the schema is about the file
    assert any(r["status"] == "fail" and r["check"] == "schema" for r in document["results"])


def test_report_leaves_excluded_tenants_out(repo: Path) -> None:
    _, everyone = _json("report", "--offline")
    _, fewer = _json("report", "--offline", "--exclude-tenant", "rapid-*")
    tenants = {r["tenant"] for r in everyone["results"] if r["check"] == "golive"}
    assert tenants == {"good-plumbing", "rapid-hvac"}
    assert {r["tenant"] for r in fewer["results"] if r["check"] == "golive"} == {"good-plumbing"}


def test_exclusion_globs_are_case_sensitive_and_whole_name(repo: Path) -> None:
    def assessed(*patterns: str) -> set[str]:
        args = [arg for pattern in patterns for arg in ("--exclude-tenant", pattern)]
        _, document = _json("report", "--offline", *args)
        return {r["tenant"] for r in document["results"] if r["check"] == "golive"}

    assert assessed("RAPID-*") == {"good-plumbing", "rapid-hvac"}
    assert assessed("rapid") == {"good-plumbing", "rapid-hvac"}
    assert assessed("*-hvac", "good-plumbin") == {"good-plumbing"}
    everyone = run_cli(
        "report", "--offline", "--exclude-tenant", "*-hvac", "--exclude-tenant", "good-plumbin?"
    )
    assert everyone.code == 2  # an online command left with no tenant fails closed
    assert "the excluded tenants" in everyone.err
    assert assessed("[gr]*-plumbing") == {"rapid-hvac"}


def test_exclude_tenants_from_config_and_replaced_on_the_command_line(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('exclude_tenants = ["rapid-*"]\n')
    _, document = _json("report", "--offline")
    assert {r["tenant"] for r in document["results"] if r["check"] == "golive"} == {"good-plumbing"}
    _, document = _json("report", "--offline", "--exclude-tenant", "good-*")
    assert {r["tenant"] for r in document["results"] if r["check"] == "golive"} == {"rapid-hvac"}


# --- every error's shape ---------------------------------------------------------------------


def test_unknown_key_with_line_and_did_you_mean(repo: Path) -> None:
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.stcheck]\nselct = ["schema"]\n'
    )
    assert _error("validate") == (
        "pyproject.toml:5: [tool.stcheck] 'selct': unknown key (did you mean 'select'?)"
    )


def test_unknown_key_in_a_section(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text("[check]\ntimeout = 5\nconcurrensy = 4\n")
    assert _error("validate") == (
        ".stcheck.toml:3: [check] 'concurrensy': unknown key (did you mean 'concurrency'?)"
    )


def test_unknown_key_without_a_close_match_lists_the_keys(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text("zzz = 1\n")
    message = _error("validate")
    assert message.startswith(".stcheck.toml:1: 'zzz': unknown key (known: check, concurrency,")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('timeout = "5"', ".stcheck.toml:1: timeout: expected a number of seconds, got a string"),
        ("timeout = 0", ".stcheck.toml:1: timeout: must be above 0, at most 600, got 0"),
        ("timeout = nan", ".stcheck.toml:1: timeout: must be above 0, at most 600, got nan"),
        (
            "concurrency = 2.5",
            ".stcheck.toml:1: concurrency: expected a whole number, got a number",
        ),
        ("concurrency = 0", ".stcheck.toml:1: concurrency: must be from 1 to 256, got 0"),
        (
            "concurrency = true",
            ".stcheck.toml:1: concurrency: expected a whole number, got a boolean",
        ),
        (
            'select = "schema"',
            ".stcheck.toml:1: select: expected an array of strings, got a string",
        ),
        (
            'skip = ["", "x"]',
            ".stcheck.toml:1: skip: expected an array of non-empty strings,"
            " got an empty string in it",
        ),
        ('fail_on = "wran"', """.stcheck.toml:1: fail_on: expected "fail" or "warn", got 'wran'"""),
        (
            "outputs = 3",
            '.stcheck.toml:1: outputs: expected a table of FORMAT = "PATH", got an integer',
        ),
        ('outputs = ["junit"]', ".stcheck.toml:1: outputs: expected FORMAT=PATH, got 'junit'"),
        ("check = 1", ".stcheck.toml:1: check: expected a table, got an integer"),
        ("[tool]\nx = 1", ".stcheck.toml:1: 'tool': unknown key (known: check, concurrency, "),
    ],
)
def test_wrong_types_name_the_key_and_line(repo: Path, text: str, expected: str) -> None:
    (repo / ".stcheck.toml").write_text(text + "\n")
    assert _error("validate").startswith(expected)


def test_a_key_for_another_command_in_a_section(repo: Path) -> None:
    (repo / "pyproject.toml").write_text("[tool.stcheck.validate]\ndeadline = 30\n")
    assert _error("validate") == (
        "pyproject.toml:2: [tool.stcheck.validate] deadline: does not apply to validate"
        " (only to check and report)"
    )


def test_a_toml_syntax_error_gives_the_line(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('select = ["schema"]\nskip = [\n  "a",\n  b\n')
    message = _error("validate")
    assert message.startswith(".stcheck.toml: not valid TOML: ")
    assert "line 4" in message


def test_a_glob_that_matches_nothing(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('\nmanifests = ["tenants/*.yaml"]\n')
    assert _error("validate") == ".stcheck.toml:2: manifests: 'tenants/*.yaml' matches no file"


def test_a_manifest_path_that_is_no_file(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('manifests = ["missing.yaml"]\n')
    assert _error("validate") == (
        ".stcheck.toml:1: manifests: 'missing.yaml' is not a file"
        " (paths are relative to the config file)"
    )


def test_unknown_check_id_and_output_format_with_did_you_mean(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text('skip = ["schmea"]\n')
    assert _error("validate") == (
        ".stcheck.toml:1: skip: unknown check id 'schmea' (did you mean 'schema'?)"
    )
    (repo / ".stcheck.toml").write_text('[validate]\noutputs = {junti = "j.xml"}\n')
    assert _error("validate") == (
        ".stcheck.toml:2: [validate] outputs: unknown output format 'junti' (did you mean 'junit'?)"
    )


def test_echoed_text_is_clipped_and_values_of_the_wrong_type_never_echoed(repo: Path) -> None:
    long_key = "k" * 5000
    (repo / ".stcheck.toml").write_text(f'"{long_key}\\u001b[2J" = 1\n')
    message = _error("validate")
    assert len(message) < 300
    assert "\x1b" not in message and "(5,004 characters)" in message
    canary = "cs1.CanaryCanaryCanary0123456789AbCdEfGhIjKlMnOpQrSt"
    (repo / ".stcheck.toml").write_text(f'timeout = "{canary}"\nselect = ["{canary}"]\n')
    message = _error("validate")
    assert canary not in message
    assert message == ".stcheck.toml:1: timeout: expected a number of seconds, got a string"


def test_no_traceback_for_a_config_that_is_not_utf8(repo: Path) -> None:
    (repo / ".stcheck.toml").write_bytes(b'select = ["\xff"]\n')
    assert _error("validate") == ".stcheck.toml: not UTF-8 text (byte 12)"


# --- confinement -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["../outside.xml", "/tmp/stcheck-config-outside.xml", ".git/hooks/pre-commit", "link/x.xml"],
)
def test_config_outputs_stay_inside_the_repository(repo: Path, path: str) -> None:
    (repo / "link").symlink_to(repo.parent)
    (repo / ".stcheck.toml").write_text(f'[outputs]\njunit = "{path}"\n')
    message = _error("validate")
    assert message.startswith(".stcheck.toml:1: outputs: ")  # the [outputs] table
    assert "relative to the config file" in message or "leads outside the repository" in message
    assert not (repo.parent / "outside.xml").exists()
    assert not Path("/tmp/stcheck-config-outside.xml").exists()
    assert not (repo / ".git" / "hooks").exists()


def test_command_line_outputs_are_not_confined(repo: Path) -> None:
    target = repo.parent / "elsewhere" / "junit.xml"
    assert run_cli("validate", "-q", "--output", f"junit={target}").code == 0
    assert target.exists()


def test_config_manifests_stay_inside_the_repository(repo: Path) -> None:
    (repo.parent / "other.yaml").write_text(VALID)
    (repo / ".stcheck.toml").write_text('manifests = ["../other.yaml"]\n')
    assert "leads outside the repository" in _error("validate")
    (repo / "fleet").mkdir()
    (repo / "fleet" / "a.yaml").symlink_to(repo.parent / "other.yaml")
    (repo / ".stcheck.toml").write_text('manifests = ["fleet/*.yaml"]\n')
    assert "'fleet/a.yaml' leads outside the repository" in _error("validate")


def test_a_discovered_config_that_links_outside_the_repository_is_refused(repo: Path) -> None:
    secret = repo.parent / "secrets.toml"
    secret.write_text('token = "cs1.CanaryCanaryCanary0123456789AbCdEfGhIjKlMnOpQrSt"\n')
    (repo / ".stcheck.toml").symlink_to(secret)
    message = _error("validate")
    assert "symbolic link that leads outside its repository" in message
    assert "token" not in message and "Canary" not in message


def test_a_fifo_as_config_is_refused_without_blocking(repo: Path) -> None:
    os.mkfifo(repo / ".stcheck.toml")
    assert "not a regular file (a FIFO)" in _error("validate")


# --- the validate path stays lean ------------------------------------------------------------


def _imports_tomllib(directory: Path) -> bool:
    code = (
        "import sys; from stcheck.cli import main; import io;"
        "main(['validate', '-q'], stdout=io.StringIO(), stderr=io.StringIO());"
        "print('tomllib' in sys.modules or 'tomli' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=directory, capture_output=True, text=True, check=True
    )
    return done.stdout.strip() == "True"


def test_tomllib_is_imported_only_when_a_config_file_exists(repo: Path) -> None:
    assert not _imports_tomllib(repo)
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\ndependencies = ["stcheck"]\n[project.scripts]\nstcheck = "a:b"\n'
    )
    assert not _imports_tomllib(repo)
    (repo / "pyproject.toml").write_text('[tool.stcheck]\nselect = ["schema"]\n')
    assert _imports_tomllib(repo)


def test_manifests_named_by_the_config_are_said_on_stderr(repo: Path) -> None:
    (repo / "decoy").mkdir()
    (repo / "decoy" / "clean.yaml").write_text(VALID, encoding="utf-8")
    (repo / ".stcheck.toml").write_text('manifests = ["decoy/clean.yaml"]\n')
    result = run_cli("validate", "-q")
    assert result.code == 0
    assert "from .stcheck.toml: manifests" in result.err and "clean.yaml" in result.err


def test_a_config_nested_too_deeply_is_an_input_error(repo: Path) -> None:
    (repo / ".stcheck.toml").write_text("x = " + "[" * 2000 + "]" * 2000 + "\n")
    assert "nested too deeply" in _error("validate")


def test_config_globs_do_not_follow_linked_folders_and_end(repo: Path) -> None:
    """Three links to '.' made glob.glob walk 3^depth paths: the gate never ended."""
    for name in "abc":
        (repo / name).symlink_to(".")
    for pattern in ("**/nothing-*.yaml", "*/" * 30 + "nothing.yaml"):
        (repo / ".stcheck.toml").write_text(f"manifests = [{pattern!r}]\n")
        started = time.monotonic()
        assert "matches no file" in _error("validate")
        assert time.monotonic() - started < 10
    (repo / ".stcheck.toml").write_text('manifests = ["**/*.yaml"]\n')
    assert run_cli("validate").code == 0  # stcheck.yaml itself, once


def test_config_globs_and_paths_outside_the_repository_are_refused_unlooked(repo: Path) -> None:
    """No listing of a folder outside, no existence test of a file outside."""
    outside = repo.parent / "outside"
    outside.mkdir()
    (outside / "private-name.conf").write_text("x")
    for pattern in ("../outside/*", "../outside/**/*.conf"):
        (repo / ".stcheck.toml").write_text(f"manifests = [{pattern!r}]\n")
        message = _error("validate")
        assert "leads outside the repository" in message
        assert "private-name" not in message
    answers = set()
    for path in ("../outside/private-name.conf", "../outside/absent.conf"):
        (repo / ".stcheck.toml").write_text(f"manifests = [{path!r}]\n")
        answers.add(_error("validate").replace(path, "PATH"))
    assert len(answers) == 1  # the same answer whether the file exists or not


@pytest.mark.parametrize("name", [".stcheck.toml", "pyproject.toml"])
def test_a_discovered_config_that_is_a_link_inside_the_repository_is_refused(
    repo: Path, name: str
) -> None:
    """Inside the repository a link could name .git/config or a secret file CI wrote; a TOML
    error's line and column told something of its text. Refused whatever the target says."""
    answers = set()
    for secret in ("ab-c$def-Canary", "abc$defgh-Canary"):
        target = repo / "secrets" / f"s{len(answers)}"
        target.parent.mkdir(exist_ok=True)
        target.write_text(f"[tool.stcheck]\n{secret}\n", encoding="utf-8")
        link = repo / name
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        message = _error("validate")
        assert "Canary" not in message
        answers.add(message)
    assert len(answers) == 1
    assert "symbolic link" in answers.pop()

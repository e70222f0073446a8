"""``--baseline REPORT.json``: only new findings count; new, known, fixed; bad baselines exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stcheck import baseline as baseline_module
from stcheck.fingerprint import Fingerprinter
from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from stcheck.model import Result, Status
from tests.conftest import CANARY_SECRET, VALID, run_cli
from tests.reporters.support import make_report

SARIF_SCHEMA = Path(__file__).resolve().parent / "data" / "sarif-schema-2.1.0.json"

# rapid-hvac shares good-plumbing's integration client ID: one unique fail.
SHARED = VALID.replace("client_id: env:RH_INT_CLIENT_ID", "client_id: env:GP_INT_CLIENT_ID")
# ... and now also its tenant ID: a second, new unique fail.
SHARED_AND_DUPLICATE = SHARED.replace("tenant_id: 2345678", "tenant_id: 1234567")
LEAKED = VALID.replace("client_secret: env:RH_INT_CLIENT_SECRET", f"client_secret: {CANARY_SECRET}")


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A git work tree (a ``.git`` directory is what stcheck looks for) as the working directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _manifest(repo: Path, text: str) -> None:
    (repo / "stcheck.yaml").write_text(text, encoding="utf-8")


def _base(repo: Path, text: str, command: str = "validate") -> Path:
    """Run once with --output json=base.json: the baseline."""
    _manifest(repo, text)
    made = run_cli(command, "-q", "--output", "json=base.json", "stcheck.yaml")
    assert made.code in (0, 1), made
    return repo / "base.json"


def _json_run(*args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("validate", "--format", "json", *args, "stcheck.yaml")
    assert result.err == "", result
    document: dict[str, Any] = json.loads(result.out)
    return result.code, document


def _marked(document: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    return [
        (r["reason"], r["tenant"], r["baseline"])
        for r in document["results"]
        if r["status"] not in ("pass", "skip")
    ]


def test_only_the_new_failure_counts(repo: Path) -> None:
    _base(repo, SHARED)
    _manifest(repo, SHARED_AND_DUPLICATE)
    assert run_cli("validate", "stcheck.yaml").code == 1  # without the baseline: two fails

    code, document = _json_run("--baseline", "base.json")
    assert code == 1
    assert document["summary"]["fail"] == 1
    assert document["baseline"] == {"path": "base.json", "new": 1, "known": 1, "fixed": 0}
    assert sorted(_marked(document)) == [
        ("duplicate_tenant_id", "rapid-hvac", "new"),
        ("shared_client_reference", "rapid-hvac", "known"),
    ]
    jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA)).validate(document)

    text = run_cli("validate", "--baseline", "base.json", "stcheck.yaml")
    assert text.code == 1
    assert "fail [unique] integration tenant ID 1234567" in text.out
    assert "shared" not in text.out.split("stcheck validate:")[0]  # known: not listed
    assert text.out.rstrip().endswith("baseline: 1 new, 1 known, 0 fixed")


def test_no_new_failure_exits_0_with_the_known_count(repo: Path) -> None:
    _base(repo, SHARED)
    result = run_cli("validate", "--baseline", "base.json", "stcheck.yaml")
    assert result.code == 0, result
    assert "validate: ok" in result.out
    assert result.out.rstrip().endswith("baseline: 0 new, 1 known, 0 fixed")
    verbose = run_cli("validate", "-v", "--baseline", "base.json", "stcheck.yaml")
    assert "fail (known) [unique]" in verbose.out


def test_fixed_counts_what_the_baseline_had_and_this_run_no_longer_finds(repo: Path) -> None:
    _base(repo, SHARED_AND_DUPLICATE)
    _manifest(repo, SHARED)  # the duplicate tenant ID is fixed
    code, document = _json_run("--baseline", "base.json")
    assert code == 0
    assert document["baseline"] == {"path": "base.json", "new": 0, "known": 1, "fixed": 1}
    # a run that leaves rapid-hvac out did not check it: nothing of it is "fixed"
    _manifest(repo, VALID)
    code, document = _json_run("--baseline", "base.json", "--tenant", "good-plumbing")
    assert document["baseline"]["fixed"] == 0
    code, document = _json_run("--baseline", "base.json")
    assert document["baseline"]["fixed"] == 2


def test_known_stays_known_when_lines_move_tenants_reorder_and_messages_change(
    repo: Path,
) -> None:
    base = _base(repo, SHARED)
    # reword every message of the baseline: matching never reads them
    document = json.loads(base.read_text())
    for result in document["results"]:
        result["message"] = "reworded"
    base.write_text(json.dumps(document))
    head, tenants = SHARED.split("tenants:\n")
    good, rapid = tenants.split("  - name: rapid-hvac\n")
    _manifest(repo, "# moved\n\n" + head + "tenants:\n  - name: rapid-hvac\n" + rapid + good)
    code, document = _json_run("--baseline", "base.json")
    # good-plumbing now comes second, so the unique check reports the shared reference on it
    # — a different finding; the rapid-hvac one from the baseline is then fixed.
    assert document["baseline"]["known"] + document["baseline"]["new"] == 1

    # a finding about one tenant keeps its fingerprint whatever the order of the others
    vault = VALID.replace("client_secret: env:RH_INT_CLIENT_SECRET", "client_secret: vault:rh")
    _base(repo, vault)
    head, tenants = vault.split("tenants:\n")
    good, rapid = tenants.split("  - name: rapid-hvac\n")
    _manifest(repo, "# moved\n\n\n" + head + "tenants:\n  - name: rapid-hvac\n" + rapid + good)
    code, document = _json_run("--baseline", "base.json")
    assert code == 0
    assert document["baseline"] == {"path": "base.json", "new": 0, "known": 1, "fixed": 0}


def test_same_fingerprint_twice_is_counted_as_a_multiset(repo: Path) -> None:
    one = VALID.replace("[tn.stt.businessunits:r]", "[tn.set.foo:r]")
    two = VALID.replace("[tn.stt.businessunits:r]", "[tn.set.foo:r, tn.set.bar:r]")
    _base(repo, one)
    _manifest(repo, two)
    code, document = _json_run("--baseline", "base.json")
    assert code == 0  # warnings do not fail
    warnings = [r for r in document["results"] if r["status"] == "warn"]
    assert len({r["fingerprint"] for r in warnings}) == 1 and len(warnings) == 2
    assert document["baseline"] == {"path": "base.json", "new": 1, "known": 1, "fixed": 0}
    assert document["summary"]["warn"] == 1


def test_a_finding_that_got_worse_is_new(repo: Path) -> None:
    base = _base(repo, SHARED)
    document = json.loads(base.read_text())
    for result in document["results"]:
        if result["status"] == "fail":
            result["status"] = "warn"
    base.write_text(json.dumps(document))
    code, document = _json_run("--baseline", "base.json")
    assert code == 1
    assert document["baseline"]["new"] == 1


def test_a_literal_secret_is_never_baselined(repo: Path) -> None:
    base = _base(repo, LEAKED)
    document = json.loads(base.read_text())
    leaked = [r for r in document["results"] if r["reason"] == "leaked_secret"]
    assert leaked, document["results"]
    # even a baseline that lists the finding as an ordinary fail does not hide it
    result = run_cli("validate", "--baseline", "base.json", "--format", "json", "stcheck.yaml")
    assert result.code == 1
    again = json.loads(result.out)
    assert {r["baseline"] for r in again["results"] if r["reason"] == "leaked_secret"} == {"new"}
    text = run_cli("validate", "--baseline", "base.json", "-v", "stcheck.yaml")
    for output in (base.read_text(), result.out, result.err, text.out, text.err):
        assert CANARY_SECRET not in output
        assert CANARY_SECRET[4:20] not in output


def test_a_manifest_that_does_not_load_is_never_baselined(repo: Path) -> None:
    _base(repo, "version: 1\napp: [unclosed\n")
    result = run_cli("validate", "--baseline", "base.json", "stcheck.yaml")
    assert result.code == 1, result
    assert "baseline: 1 new, 0 known" in result.out


def _write_report(repo: Path, name: str = "crafted.json", **changes: Any) -> str:
    document: dict[str, Any] = {
        "schema_version": 1,
        "tool": {"name": "stcheck", "version": "0.1.0"},
        "command": "validate",
        "summary": {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skip": 0},
        "results": [],
    }
    document.update(changes)
    (repo / name).write_text(json.dumps(document))
    return name


def _bad_baselines(repo: Path) -> dict[str, tuple[str, str]]:
    """name → (the --baseline argument, what the message must say)."""
    (repo / "garbage.json").write_text('{"schema_version": 1,\n  "tool": oops}')
    (repo / "list.json").write_text("[]")
    (repo / "latin1.json").write_bytes(b'{"a": "\xe9"}')
    (repo / "deep.json").write_text("[" * 100_000)
    (repo / "nan.json").write_text('{"a": NaN}')
    (repo / "adir").mkdir()
    big = repo / "big.json"
    with big.open("wb") as handle:
        handle.truncate(baseline_module.MAX_BYTES + 1)
    fingerprintless = {"check": "unique", "status": "fail", "message": "m"}
    cases = {
        "missing": ("nope.json", "does not exist"),
        "directory": ("adir", "not a regular file"),
        "not_json": ("garbage.json", "line 2, column 11: not JSON"),
        "not_an_object": ("list.json", "not a JSON object"),
        "not_utf8": ("latin1.json", "not UTF-8"),
        "too_deep": ("deep.json", "nested too deeply"),
        "nan": ("nan.json", "NaN"),
        "too_big": ("big.json", "larger than 64 MiB"),
        "other_tool": (
            _write_report(repo, "c1.json", tool={"name": "trivy"}),
            "not a stcheck JSON report",
        ),
        "other_schema": (_write_report(repo, "c2.json", schema_version=2), "schema_version 2"),
        # True == 1 in Python: a boolean must not pass for the version
        "bool_schema_version": (
            _write_report(repo, "c8.json", schema_version=True),
            "schema_version is a boolean",
        ),
        "float_schema_version": (
            _write_report(repo, "c9.json", schema_version=1.0),
            "schema_version is not an integer",
        ),
        "string_schema_version": (
            _write_report(repo, "c10.json", schema_version="1"),
            "schema_version is not an integer",
        ),
        "other_command": (
            _write_report(repo, "c3.json", command="check"),
            "a report of `stcheck check`",
        ),
        "no_results": (_write_report(repo, "c4.json", results={}), "no results list"),
        "old_stcheck": (_write_report(repo, "c5.json", results=[fingerprintless]), "/results/0"),
        "bad_fingerprint": (
            _write_report(repo, "c6.json", results=[{**fingerprintless, "fingerprint": "x"}]),
            "/results/0/fingerprint",
        ),
        "bad_status": (
            _write_report(
                repo, "c7.json", results=[{**fingerprintless, "status": 3, "fingerprint": "0" * 32}]
            ),
            "/results/0/status",
        ),
    }
    if hasattr(os, "mkfifo"):
        os.mkfifo(repo / "fifo.json")
        cases["fifo"] = ("fifo.json", "a FIFO")
    if os.path.exists("/dev/zero"):
        os.symlink("/dev/zero", repo / "zero.json")
        cases["special"] = ("zero.json", "special file")
    return cases


def test_every_malformed_baseline_exits_2_with_a_located_message_and_a_hint(repo: Path) -> None:
    _manifest(repo, VALID)
    for name, (path, said) in _bad_baselines(repo).items():
        result = run_cli("validate", "--baseline", path, "stcheck.yaml")
        assert result.code == 2, (name, result)
        assert result.err.startswith(f"stcheck: error: --baseline {path}: "), (name, result)
        assert said in result.err, (name, result)
        assert "\n  hint: " in result.err, (name, result)
        assert "Traceback" not in result.err
        assert result.out == ""


def test_a_baseline_of_another_command_is_refused_before_anything_runs(repo: Path) -> None:
    _base(repo, VALID)
    result = run_cli("check", "--baseline", "base.json", "stcheck.yaml")
    assert result.code == 2
    assert "a report of `stcheck validate`, not of `stcheck check`" in result.err
    assert "stcheck check --output json=PATH" in result.err
    assert run_cli("report", "--baseline", "base.json").code == 2  # not a report option


def test_check_gates_on_new_findings_only(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ST_APP_KEY", "GP_INT_CLIENT_ID", "GP_INT_CLIENT_SECRET", "GP_PROD_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    _manifest(repo, VALID)  # credentials: every reference is unresolved here
    made = run_cli("check", "--select", "credentials", "-q", "--output", "json=base.json")
    assert made.code == 1
    args = ("check", "--select", "credentials", "--baseline", "base.json")
    assert run_cli(*args, "stcheck.yaml").code == 0
    # another unset variable for the same entry is the same finding (messages do not count) ...
    _manifest(repo, VALID.replace("env:RH_INT_CLIENT_ID", "env:RH_OTHER_ID"))
    assert run_cli(*args, "stcheck.yaml").code == 0
    # ... a new entry's is new
    extra = "      production:\n        tenant_id: 7654321\n"
    extra += "        client_id: env:RH_PROD_ID\n        client_secret: env:RH_PROD_SECRET\n"
    _manifest(repo, VALID + extra)
    result = run_cli(*args, "--format", "json", "stcheck.yaml")
    assert result.code == 1, result
    assert json.loads(result.out)["baseline"] == {
        "path": "base.json",
        "new": 1,
        "known": 4,
        "fixed": 0,
    }


def test_nothing_of_the_baseline_is_quoted(repo: Path) -> None:
    _manifest(repo, VALID)
    hostile = CANARY_SECRET + "\x1b[2J" + "x" * 10_000
    path = _write_report(repo, command=hostile)
    result = run_cli("validate", "--baseline", path, "stcheck.yaml")
    assert result.code == 2
    assert "an unknown command" in result.err
    bad = {"check": hostile, "status": hostile, "fingerprint": hostile}
    path = _write_report(repo, results=[bad], schema_version=1)
    result = run_cli("validate", "--baseline", path, "stcheck.yaml")
    assert result.code == 2
    for needle in (CANARY_SECRET, CANARY_SECRET[:12], "\x1b", "xxxx"):
        assert needle not in result.err
    assert len(result.err) < 400


def test_sarif_partial_fingerprints_and_baseline_state_validate(repo: Path) -> None:
    _base(repo, SHARED)
    _manifest(repo, SHARED_AND_DUPLICATE)
    result = run_cli(
        "validate",
        "--baseline",
        "base.json",
        "--format",
        "sarif",
        "--output",
        "json=now.json",
        "stcheck.yaml",
    )
    assert result.code == 1
    document = json.loads(result.out)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(document)
    sarif_results = document["runs"][0]["results"]
    states = sorted(r["baselineState"] for r in sarif_results)
    assert states == ["new", "unchanged"]
    now = json.loads((repo / "now.json").read_text())
    json_fingerprints = sorted(r["fingerprint"] for r in now["results"] if r["status"] == "fail")
    sarif_fingerprints = sorted(r["partialFingerprints"]["stcheck/v1"] for r in sarif_results)
    assert sarif_fingerprints == json_fingerprints
    assert document["runs"][0]["properties"]["baseline"]["known"] == 1


def test_other_formats_show_known_findings_apart(repo: Path) -> None:
    _base(repo, SHARED)
    _manifest(repo, SHARED_AND_DUPLICATE)
    outputs = ("markdown=summary.md", "junit=junit.xml", "github=gh.txt")
    args = [arg for spec in outputs for arg in ("--output", spec)]
    result = run_cli("validate", "-q", "--baseline", "base.json", *args, "stcheck.yaml")
    assert result.code == 1
    markdown = (repo / "summary.md").read_text()
    assert "**1 new**, 1 known" in markdown
    assert "### Findings (1)" in markdown
    assert "Known from the baseline (1)" in markdown
    suites = ET.fromstring((repo / "junit.xml").read_text())
    assert suites.get("failures") == "1"
    skipped = [s.get("message") or "" for s in suites.iter("skipped")]
    assert any(
        m.startswith("known from the baseline: fail (shared_client_reference)") for m in skipped
    )
    github = (repo / "gh.txt").read_text()
    assert "::notice " in github and "(known)" in github
    assert github.count("::error ") == 1
    assert "baseline: 1 new, 1 known, 0 fixed" in github


def test_the_console_script_refuses_a_bad_baseline_without_a_traceback(repo: Path) -> None:
    _manifest(repo, VALID)
    (repo / "bad.json").write_text("{")
    done = subprocess.run(
        [sys.executable, "-m", "stcheck", "validate", "--baseline", "bad.json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done
    assert "stcheck: error: --baseline bad.json: line 1, column 2: not JSON" in done.stderr
    assert "Traceback" not in done.stderr


def test_known_results_do_not_count_for_summary_or_gate() -> None:
    fail = Result("unique", Status.FAIL, "m", reason="duplicate_tenant")
    report = make_report(fail, replace(fail, baseline="known"), Result("schema", Status.PASS, "ok"))
    assert report.summary["fail"] == 1 and report.failed
    only_known = make_report(replace(fail, baseline="known"))
    assert only_known.summary["fail"] == 0 and not only_known.failed
    assert replace(fail, baseline="new").counts and not replace(fail, baseline="known").counts


def test_compare_gives_baseline_failures_to_failures_first() -> None:
    warn = Result("schema", Status.WARN, "w", reason="unknown_scope_module")
    fail = replace(warn, status=Status.FAIL)
    key = Fingerprinter()(warn)
    entry = baseline_module.Entry(key, Status.FAIL, "schema", None, None)
    loaded = baseline_module.Baseline("b.json", "validate", (entry,))
    # the warning comes first, but the one baseline fail covers the fail, not the warning
    marked, counts = baseline_module.compare([warn, fail], loaded)
    assert [r.baseline for r in marked] == ["new", "known"]
    assert (counts.new, counts.known, counts.fixed) == (1, 1, 0)
    # a protected reason is new even when its fingerprint is in the baseline
    leaked = replace(fail, check="references", reason="leaked_secret")
    entry = baseline_module.Entry(Fingerprinter()(leaked), Status.FAIL, "references", None, None)
    loaded = baseline_module.Baseline("b.json", "validate", (entry,))
    assert baseline_module.compare([leaked], loaded)[0][0].baseline == "new"


def test_a_finding_waived_when_the_baseline_was_written_is_not_known(repo: Path) -> None:
    base = _base(repo, SHARED)
    document = json.loads(base.read_text())
    waiver = {"because": "OPS-1", "by": "dana@acme.example", "until": "2026-12-31"}
    for result in document["results"]:
        if result["status"] == "fail":
            result["waiver"] = waiver
    base.write_text(json.dumps(document))
    code, document = _json_run("--baseline", "base.json")
    assert code == 1
    assert document["baseline"]["new"] == 1 and document["baseline"]["known"] == 0


def test_a_literal_credential_field_is_never_baselined(repo: Path) -> None:
    literal = VALID.replace("client_secret: env:GP_INT_CLIENT_SECRET", "client_secret: hunter2", 1)
    assert literal != VALID
    _base(repo, literal)
    result = run_cli("validate", "--baseline", "base.json", "--format", "json", "stcheck.yaml")
    assert result.code == 1
    found = [r for r in json.loads(result.out)["results"] if r["reason"] == "not_a_reference"]
    assert found and {r["baseline"] for r in found} == {"new"}


def test_findings_of_a_file_that_did_not_load_are_not_fixed(repo: Path) -> None:
    broken = SHARED.replace("tenant_id: 2345678", "tenant_id: not-a-number")
    _base(repo, broken)  # a unique and a schema finding in stcheck.yaml
    _manifest(repo, broken + "  - [unclosed\n")  # now it does not load
    code, document = _json_run("--baseline", "base.json")
    assert code == 1  # the load failure is new, and protected
    assert document["baseline"] == {
        "path": "base.json",
        "new": 1,
        "known": 0,
        "fixed": 0,
        "unloaded": 2,
    }
    jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA)).validate(document)
    text = run_cli("validate", "--baseline", "base.json", "stcheck.yaml")
    said = "baseline: 1 new, 0 known, 0 fixed, 2 in files that did not load (not checked)"
    assert text.out.rstrip().endswith(said), text
    markdown = run_cli(
        "validate", "--format", "markdown", "--baseline", "base.json", "stcheck.yaml"
    )
    assert "0 fixed, 2 in files that did not load (not checked)." in markdown.out, markdown
    # a run where the file loads again counts them as before
    _manifest(repo, VALID)
    code, document = _json_run("--baseline", "base.json")
    assert document["baseline"] == {"path": "base.json", "new": 0, "known": 0, "fixed": 2}


def test_a_baseline_that_is_a_link_tells_nothing_of_its_target(repo: Path) -> None:
    """A committed link to a file CI wrote: the JSON error's column told where the
    secret's first character that cannot start JSON is; a link is refused instead."""
    _manifest(repo, VALID)
    answers = set()
    for secret in ("4242abcd-Canary", "ab-c$def-Canary"):
        target = repo.parent / f"secret-{len(answers)}"
        target.write_text(secret, encoding="utf-8")
        link = repo / "base.json"
        if link.is_symlink():
            link.unlink()
        link.symlink_to(target)
        result = run_cli("validate", "--baseline", "base.json", "stcheck.yaml")
        assert result.code == 2
        assert "Canary" not in result.err + result.out
        answers.add(result.err)
    assert len(answers) == 1
    assert "symbolic link" in answers.pop()

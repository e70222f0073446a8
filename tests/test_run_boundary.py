"""The gate fails closed: loading is always checked, nothing checked is a failure, skips point.

Every test runs the real command line in a subprocess (``python -m stcheck``)
and asserts the exit status and the JSON output, validated against the
published report schema. On the old code each of these runs said "ok" and
exited 0 (or, for the skips, named no failure).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from tests.conftest import VALID

STCHECK = (sys.executable, "-m", "stcheck")


class Run:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.out = done.stdout
        self.err = done.stderr
        self.document: dict[str, Any] = json.loads(done.stdout) if done.stdout.strip() else {}
        if self.document:
            jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA)).validate(self.document)

    @property
    def results(self) -> list[dict[str, Any]]:
        return list(self.document.get("results", ()))

    def verdicts(self) -> list[dict[str, Any]]:
        return [r for r in self.results if r["status"] != "skip"]

    def __repr__(self) -> str:
        return f"Run(code={self.code}, out={self.out[-3000:]!r}, err={self.err[-2000:]!r})"


def stcheck(*args: str | Path, cwd: Path | None = None) -> Run:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STCHECK_", "PYTHONPATH"))}
    done = subprocess.run(
        [*STCHECK, *map(str, args), "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )
    return Run(done)


UNLOADABLE = {
    "empty": ("", "empty"),
    "comments_only": ("# nothing here\n", "empty"),
    "invalid_yaml": ("version: 1\napp: [\n", "invalid_yaml"),
    "a_list": ("- version: 1\n", "not_a_mapping"),
    "two_documents": ("version: 1\n---\nversion: 1\n", "multi_document"),
}

SELECTIONS = {
    "validate --skip schema": ("validate", "--skip", "schema"),
    "check --select token,api": ("check", "--select", "token,api"),
    "check --select credentials,token,api": ("check", "--select", "credentials,token,api"),
    "check --select golive": ("check", "--select", "golive"),
    "check --tenant x --select token": ("check", "--tenant", "x", "--select", "token"),
    "report --skip schema": ("report", "--skip", "schema"),
}


@pytest.mark.parametrize("selection", SELECTIONS.values(), ids=list(SELECTIONS))
def test_a_manifest_that_does_not_load_fails_whatever_the_selection(
    tmp_path: Path, selection: tuple[str, ...]
) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text("version: 1\napp: [\n", encoding="utf-8")
    run = stcheck(*selection, path)
    assert run.code == 1, run
    failure = next(r for r in run.results if r["status"] == "fail")
    assert (failure["check"], failure["reason"]) == ("schema", "invalid_yaml"), run
    assert failure["location"]["line"] == 3
    # What depends on loading says so, and names the failure shown above.
    for skipped in (r for r in run.results if r["reason"] == "depends_on_failure"):
        assert "depends on the schema fail (invalid_yaml) at line 3" in skipped["message"]


@pytest.mark.parametrize("name", list(UNLOADABLE))
def test_every_kind_of_unloadable_manifest_is_a_fail_with_the_loaders_reason(
    tmp_path: Path, name: str
) -> None:
    text, reason = UNLOADABLE[name]
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    run = stcheck("check", "--select", "token,api", path)
    assert run.code == 1, run
    assert [(r["check"], r["status"], r["reason"]) for r in run.verdicts()] == [
        ("schema", "fail", reason)
    ]


def test_a_missing_or_refused_manifest_is_an_input_error_whatever_the_selection(
    tmp_path: Path,
) -> None:
    """Before any check can run: exit 2 (PRODUCT.md), never 0 — also under --select/--skip."""
    missing = stcheck("check", "--select", "token", tmp_path / "nope.yaml")
    assert missing.code == 2 and "no such manifest file" in missing.err, missing
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    refused = stcheck("validate", "--skip", "schema", fifo)
    assert refused.code == 2 and "fifo.yaml" in refused.err, refused
    special = stcheck("validate", "--skip", "schema", "/proc/self/status")
    assert special.code == 2, special


@pytest.mark.parametrize(
    "args",
    [
        ("validate", "--select", "dns"),  # offline: the network check is skipped
        ("report", "--offline", "--select", "token,api"),
        ("check", "--select", "token", "--env", "production", "--tenant", "rapid-hvac"),
    ],
    ids=["validate-select-dns", "report-offline-select-token", "check-no-such-entry"],
)
def test_a_run_that_checked_nothing_exits_1_with_nothing_checked(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID, encoding="utf-8")
    run = stcheck(*args, path)
    assert run.code == 1, run
    (verdict,) = run.verdicts()
    assert (verdict["check"], verdict["status"], verdict["reason"]) == (
        "run",
        "error",
        "nothing_checked",
    )
    assert verdict["message"].startswith("nothing was checked: every result is a skip")
    assert "\n" not in verdict["message"]
    assert run.document["summary"]["error"] == 1


def test_the_text_format_says_why_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID, encoding="utf-8")
    done = subprocess.run(
        [*STCHECK, "validate", "--select", "dns", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if "[run]" in line]
    assert len(lines) == 1 and "error [run] nothing was checked" in lines[0], done.stdout
    assert "stcheck validate: failed" in done.stdout


def test_one_verdict_is_enough(tmp_path: Path) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID, encoding="utf-8")
    run = stcheck("validate", "--select", "references", path)
    assert run.code == 0, run
    assert not any(r["reason"] == "nothing_checked" for r in run.results)


def test_a_tenant_no_manifest_has_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID, encoding="utf-8")
    run = stcheck("check", "--select", "token", "--tenant", "no-such-tenant", path)
    assert run.code == 2 and "no tenant named no-such-tenant" in run.err, run


def test_a_skip_names_the_failure_it_depends_on_and_that_failure_is_shown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID, encoding="utf-8")
    # No GP_*/RH_* variables are set: the credentials check fails, token and api skip.
    run = stcheck("check", "--select", "credentials,token,api", "--tenant", "rapid-hvac", path)
    assert run.code == 1, run
    skips = [
        r
        for r in run.results
        if r["reason"] == "depends_on_failure" and r["tenant"] == "rapid-hvac"
    ]
    assert {r["check"] for r in skips} == {"token", "api"}, run
    shown = {
        (r["check"], r["location"]["line"], r["location"]["column"])
        for r in run.results
        if r["status"] in ("fail", "error")
    }
    for skip in skips:
        assert "; depends on the credentials fail (" in skip["message"], skip
        line = int(skip["message"].rsplit("at line ", 1)[1].split(",")[0])
        column = int(skip["message"].rsplit("column ", 1)[1])
        assert ("credentials", line, column) in shown  # the failure named is in the output
        assert skip["hint"].startswith(f"Fix the credentials fail at line {line}, column {column}")
        assert str(tmp_path) not in skip["message"] + skip["hint"]  # no runner paths


def test_a_skip_whose_failure_did_not_run_is_an_error_not_a_silent_skip(tmp_path: Path) -> None:
    """app.probe is invalid, but the schema check that says so is deselected."""
    path = tmp_path / "stcheck.yaml"
    path.write_text(
        VALID.replace("  required_scopes:", "  probe: ../../etc/passwd\n  required_scopes:"),
        encoding="utf-8",
    )
    run = stcheck("check", "--select", "api", path)
    assert run.code == 1, run
    api = [r for r in run.results if r["check"] == "api"]
    assert api and all(r["status"] == "error" for r in api), run
    assert all(r["reason"] == "depends_on_failure" for r in api)
    assert "the failure it depends on is not in this run" in api[0]["message"]
    # With the schema check selected, the skip points at its failure instead.
    pointed = stcheck("check", "--select", "schema,api", path)
    api = [r for r in pointed.results if r["check"] == "api"]
    assert api and all(r["status"] == "skip" for r in api), pointed
    assert "depends on the schema fail" in api[0]["message"]

"""The run's plan (stcheck/plan.py): built before anything runs, inspectable, naming no check.

What a check needs from the core is a property of the check — ``stage``,
``network``, ``commands``, ``reports_load_problems`` — so a plugin check gets
exactly what a built-in one gets. These run the real plugin manager, loader and
runner; the plugin checks record what they were given.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, ClassVar

import pytest

from stcheck.api import Check, CheckContext, RunOptions
from stcheck.exitcodes import UsageError
from stcheck.hookspecs import hookimpl
from stcheck.manifest import Entry, Manifest
from stcheck.model import Result, Status
from stcheck.plan import Step, build_plan
from stcheck.plugins import build_plugins
from stcheck.runner import load_all, run
from tests.conftest import VALID

UNLOADABLE = "version: 1\napp: [\n"


class Plugin:
    """A plugin providing the given checks."""

    def __init__(self, *checks: Check) -> None:
        self.checks = list(checks)

    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return self.checks


class Recorder(Check):
    """Records the entries it is given (``ctx.entries``), one pass result per call."""

    id = "recorder"
    seen: ClassVar[list[tuple[str, ...]]] = []

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        self.seen.append(tuple(entry.label for entry in ctx.entries))
        return [ctx.result(self.id, Status.PASS, f"saw {len(ctx.entries)} entries")]


class ReportOnly(Recorder):
    """Runs by default only in ``stcheck report``."""

    id = "report-only"
    commands = frozenset({"report"})


class Loader(Check):
    """Reports a manifest that did not load, in place of the schema check."""

    id = "loader"
    reports_load_problems = True

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        status = Status.PASS if ctx.manifest.loaded else Status.FAIL
        return [ctx.result(self.id, status, "loaded" if ctx.manifest.loaded else "not loaded")]


@pytest.fixture(autouse=True)
def _fresh_recorders() -> None:
    Recorder.seen = []


def _manifest(tmp_path: Path, text: str = VALID) -> str:
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def _run(path: str, *checks: Check, disabled: Sequence[str] = (), **options: Any) -> Any:
    plugins = build_plugins(load_installed=False, disabled=disabled, extra=[("t", Plugin(*checks))])
    return run([path], plugins, RunOptions(**options))


def _by_check(report: Any) -> dict[str, list[Result]]:
    found: dict[str, list[Result]] = {}
    for result in report.results:
        found.setdefault(result.check, []).append(result)
    return found


def test_the_plan_of_validate_lists_each_stage_and_why_a_check_does_not_run(
    tmp_path: Path,
) -> None:
    manifests = load_all([_manifest(tmp_path)])
    checks = build_plugins(load_installed=False).checks
    plan = build_plan(manifests, checks, RunOptions(command="validate", skip=frozenset({"unique"})))
    (only,) = plan.manifests
    assert [repr(step) for step in only.steps("manifest")] == [
        "schema",
        "references",
        "unique(deselected)",
        "credentials(offline)",
        "dns(offline)",
    ]
    assert [repr(step) for step in only.steps("entry")] == ["token(offline)", "api(offline)"]
    assert only.steps("summary") == (Step(checks["golive"], "not_applicable"),)
    assert plan.not_run == {
        "unique": "deselected",
        "credentials": "offline",
        "dns": "offline",
        "token": "offline",
        "api": "offline",
        "golive": "not_applicable",
    }
    assert plan.checks_run == ("references", "schema")
    assert only.load_failures_as is None


def test_golive_runs_by_default_in_report_and_elsewhere_only_when_selected(tmp_path: Path) -> None:
    manifests = load_all([_manifest(tmp_path)])
    checks = build_plugins(load_installed=False).checks

    def golive(**options: Any) -> str | None:
        plan = build_plan(manifests, checks, RunOptions(**options))
        return plan.manifests[0].steps("summary")[0].not_run

    assert golive(command="report") is None
    assert golive(command="check") == "not_applicable"
    assert golive(command="check", select=frozenset({"golive"})) is None
    assert golive(command="report", skip=frozenset({"golive"})) == "deselected"


def test_a_plugin_check_with_commands_is_off_by_default_elsewhere_and_leaves_no_skip(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path)
    report = _run(path, ReportOnly(), command="validate")
    assert "report-only" not in _by_check(report)
    assert report.checks_not_run["report-only"] == "not_applicable"
    assert Recorder.seen == []
    report = _run(path, ReportOnly(), command="validate", select=frozenset({"report-only"}))
    assert [r.status for r in _by_check(report)["report-only"]] == [Status.PASS]
    report = _run(path, ReportOnly(), command="report")
    assert [r.status for r in _by_check(report)["report-only"]] == [Status.PASS]


def test_checks_are_given_the_selected_entries(tmp_path: Path) -> None:
    path = _manifest(tmp_path)
    _run(path, Recorder())
    _run(path, Recorder(), tenants=("rapid-hvac",))
    _run(path, Recorder(), environments=("production",))
    assert Recorder.seen == [
        ("good-plumbing/integration", "good-plumbing/production", "rapid-hvac/integration"),
        ("rapid-hvac/integration",),
        ("good-plumbing/production",),
    ]


def test_validate_never_lists_the_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """At 10,000 tenants listing them costs more than some checks: only a reader pays."""

    def refuse(self: Manifest) -> list[Entry]:
        raise AssertionError("entries listed")

    monkeypatch.setattr(Manifest, "entries", refuse)
    report = _run(_manifest(tmp_path), command="validate")
    assert not report.failed, report.results


def test_a_plugin_check_that_reports_load_problems_replaces_the_schema_check(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path, UNLOADABLE)
    report = _run(path, Loader(), Recorder(), disabled=["schema"])
    found = _by_check(report)
    assert [r.message for r in found["loader"]] == ["not loaded"]
    assert "schema" not in found  # the core reports nothing itself: the loader check did
    assert [r.reason for r in found["recorder"]] == ["depends_on_failure"]
    assert Recorder.seen == []
    assert report.failed


def test_deselected_loading_is_still_reported_under_the_check_that_reports_it(
    tmp_path: Path,
) -> None:
    path = _manifest(tmp_path, UNLOADABLE)
    report = _run(path, Loader(), disabled=["schema"], skip=frozenset({"loader"}))
    found = _by_check(report)
    assert [r.status for r in found["loader"]] == [Status.SKIP, Status.FAIL]
    assert "whatever --select/--skip say" in found["loader"][1].message
    assert report.failed


def test_without_any_load_problem_reporter_loading_failures_are_the_runs(tmp_path: Path) -> None:
    report = _run(_manifest(tmp_path, UNLOADABLE), disabled=["schema"])
    failures = [r for r in report.results if r.status is Status.FAIL]
    assert failures and {r.check for r in failures} == {"run"}
    assert report.failed


def test_an_unknown_check_id_is_refused_before_anything_runs(tmp_path: Path) -> None:
    manifests = load_all([_manifest(tmp_path)])
    checks = build_plugins(load_installed=False).checks
    with pytest.raises(UsageError, match="unknown check id nope"):
        build_plan(manifests, checks, RunOptions(select=frozenset({"nope"})))


MALFORMED = (
    VALID.replace("tenant_id: 2345678", "tenant_id: not-a-number")
    + "  - name: no-environments\n"
    + "  - just-a-string\n"
)


def test_selected_tenants_that_are_no_entry_are_listed_where_they_are(tmp_path: Path) -> None:
    from stcheck.plan import SelectedEntries, Unentered

    (manifest,) = load_all([_manifest(tmp_path, MALFORMED)])
    assert SelectedEntries(manifest).unentered() == [
        Unentered("/tenants/1/environments/integration", "rapid-hvac", "integration"),
        Unentered("/tenants/2", "no-environments", None),
        Unentered("/tenants/3", None, None),
    ]
    assert SelectedEntries(manifest, ["rapid-hvac"]).unentered() == [
        Unentered("/tenants/1/environments/integration", "rapid-hvac", "integration"),
    ]
    assert SelectedEntries(manifest, environments=["production"]).unentered() == [
        Unentered("/tenants/2", "no-environments", None),
        Unentered("/tenants/3", None, None),
    ]
    assert SelectedEntries(manifest, exclude=["*"]).unentered() == [
        Unentered("/tenants/3", None, None)
    ]
    (clean,) = load_all([_manifest(tmp_path, VALID)])
    assert SelectedEntries(clean).unentered() == []


def test_an_entry_check_skips_an_entry_it_never_saw_and_names_why(tmp_path: Path) -> None:
    path = _manifest(tmp_path, MALFORMED)
    report = _run(path, command="check", offline=False, select=frozenset({"schema", "token"}))
    skips = [r for r in report.results if r.check == "token" and r.status is Status.SKIP]
    assert [(r.tenant, r.environment, r.reason) for r in skips] == [
        ("rapid-hvac", "integration", "depends_on_failure"),
        ("no-environments", None, "depends_on_failure"),
        (None, None, "depends_on_failure"),
    ]
    assert all("depends on the schema fail" in r.message for r in skips)
    # without the check that reports the malformed field, nothing explains the skip: an error
    report = _run(path, command="check", offline=False, select=frozenset({"token"}))
    unchecked = [r for r in report.results if r.check == "token" and r.tenant == "rapid-hvac"]
    assert [(r.status, r.reason) for r in unchecked] == [(Status.ERROR, "depends_on_failure")]
    assert "so this was not checked" in unchecked[0].message
    # offline (validate), no check runs per entry: nothing to record
    report = _run(path, command="validate")
    assert not [r for r in report.results if r.reason == "depends_on_failure"]

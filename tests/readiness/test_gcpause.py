"""The golive check judges a fleet with the cyclic collector paused (then freezes what it
built): safe only because judging leaves no cyclic garbage, whatever the fleet's size."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from stcheck.api import Check, CheckContext, Result, hookimpl, plugin_set, run_checks
from stcheck.checks.golive.assess import Evidence, assess, today_of
from stcheck.gcpause import paused_gc
from stcheck.readiness import readiness_of

from .conftest import ATTESTED, tenant

WriteManifest = Callable[..., Path]


def test_paused_gc_restores_the_collector_state() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), paused_gc():
        raise RuntimeError("inside")
    assert gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()


def test_freeze_moves_what_was_built_out_of_later_collections() -> None:
    before = gc.get_freeze_count()
    with paused_gc(freeze=True):
        built = [[n] for n in range(1000)]
    assert gc.get_freeze_count() >= before + len(built)
    assert gc.isenabled()


def _mixed_fleet(size: int) -> list[dict[str, Any]]:
    """Tenants down every path of the rules: not ready, not planned, bad and future dates,
    overdue, old secrets, shared references, extra and malformed attestations."""
    odd = {
        **ATTESTED,
        "app_approved": {"by": "", "on": "someday"},
        "security_review": {"by": "sam@acme.example", "on": "2027-01-01", "note": "x"},
    }
    shapes: list[dict[str, Any]] = [
        {},
        {"attestations": {}},
        {"attestations": odd},
        {"planned": False, "because": "integration only"},
        {"production": False},
        {"target_date": "2026-01-01", "secret_created_on": "2020-01-01"},
        {"target_date": "not a date", "secret_created_on": "2030-01-01"},
        {"integration": False, "owner": None},
    ]
    fleet = [tenant(f"t-{n}", number=n, **shapes[n % len(shapes)]) for n in range(size)]
    fleet[1]["environments"]["production"]["client_id"] = fleet[1]["environments"]["integration"][
        "client_id"
    ]
    return fleet


class GarbageProbe(Check):
    """After golive: judges every tenant again with the collector off, counts the cycles."""

    id = "gcprobe"
    stage = "summary"
    network = False
    order = 95
    commands = frozenset({"report"})

    def __init__(self) -> None:
        self.cycles: list[int] = []
        self.judged: list[int] = []

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        evidence = Evidence(ctx.results, ctx.options)
        today = today_of(ctx.options)
        gc.collect()
        gc.disable()
        try:
            judged = [
                assess(ctx, position, data, evidence, today)
                for position, data in ctx.manifest.tenants()
            ]
            self.cycles.append(gc.collect())
        finally:
            gc.enable()
        self.judged.append(len(judged))
        return []

    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [self]


def test_judging_a_fleet_leaves_no_cyclic_garbage(write_manifest: WriteManifest) -> None:
    probe = GarbageProbe()
    plugins = plugin_set(probe)
    for size in (16, 400):
        path = write_manifest(*_mixed_fleet(size), name=f"fleet-{size}.yaml")
        report = run_checks(plugins, str(path), command="report", extra={"today": "2026-11-29"})
        verdicts = {t.verdict for t in readiness_of(report)}
        assert verdicts == {"not_ready", "unknown", "not_planned"}
    assert probe.judged == [16, 400]
    assert probe.cycles == [0, 0]


def test_the_json_report_of_a_fleet_leaves_no_cyclic_garbage(
    write_manifest: WriteManifest,
) -> None:
    """The JSON reporter renders with the collector paused too (its output is a fleet's worth
    of small objects): none of them may be left in a cycle."""
    from stcheck.reporters import json as json_reporter

    path = write_manifest(*_mixed_fleet(300))
    report = run_checks(plugin_set(), str(path), command="report", extra={"today": "2026-11-29"})
    assert len(report.readiness) == 300
    gc.collect()
    gc.disable()
    try:
        text = json_reporter.render(report)
        assert gc.collect() == 0
    finally:
        gc.enable()
    assert text.count('"tenant": "t-') >= 300

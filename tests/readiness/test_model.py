"""The readiness model: verdict rules, --strict semantics, the JSON form, the wording helpers."""

from __future__ import annotations

import dataclasses

import pytest

from stcheck import readiness
from stcheck.model import Result, RunReport, Status
from stcheck.readiness import (
    ReadinessItem,
    TenantReadiness,
    any_not_ready,
    counts,
    verdict_of,
    with_waivers,
    worst_first,
)


def _item(state: str, blocking: bool = True, item_id: str = "x") -> ReadinessItem:
    return ReadinessItem(item_id, "X", blocking, state, "detail")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("states", "verdict"),
    [
        ([], "ready"),
        (["pass", "pass"], "ready"),
        (["pass", "not_checked"], "unknown"),
        (["not_checked", "fail"], "not_ready"),
        (["fail"], "not_ready"),
    ],
)
def test_verdict_from_blocking_items(states: list[str], verdict: str) -> None:
    assert verdict_of([_item(state) for state in states]) == verdict


@pytest.mark.parametrize(
    ("states", "waived", "verdict"),
    [
        (["fail", "pass"], [True, False], "ready_with_waivers"),
        (["fail", "not_checked"], [True, False], "unknown"),
        (["fail", "fail"], [True, False], "not_ready"),
        (["pass", "fail"], [False, True], "ready_with_waivers"),
    ],
)
def test_verdict_with_waived_items(states: list[str], waived: list[bool], verdict: str) -> None:
    from stcheck.model import Waiver

    waiver = Waiver("known", "dana", "2026-12-31")
    items = [
        dataclasses.replace(_item(state), waiver=waiver if excused else None)
        for state, excused in zip(states, waived, strict=True)
    ]
    assert verdict_of(items) == verdict


def test_the_views_of_a_tenant_follow_its_items_after_replace() -> None:
    """The item views are kept once worked out: a tenant with other items has its own."""
    tenant = TenantReadiness("t", None, "not_ready", (_item("fail", item_id="a"),))
    assert [item.id for item in tenant.blockers] == ["a"]
    assert tenant.next_action == "X: detail"
    waived = with_waivers(tenant, (_item("not_checked", item_id="b"),))
    assert (waived.blockers, [item.id for item in waived.unchecked]) == ((), ["b"])
    assert waived.verdict == "unknown" and tenant.blockers[0].id == "a"
    assert TenantReadiness.blockers.__doc__  # still documented as a property


def test_advisory_items_never_change_the_verdict() -> None:
    items = [_item("pass"), _item("fail", blocking=False), _item("not_checked", blocking=False)]
    assert verdict_of(items) == "ready"


def _tenant(verdict: str, offline: bool = False, name: str = "t") -> TenantReadiness:
    return TenantReadiness(name, None, verdict, (), offline=offline)  # type: ignore[arg-type]


def _report(*tenants: TenantReadiness, results: tuple[Result, ...] = ()) -> RunReport:
    return RunReport("0.1.0", "report", ("stcheck.yaml",), results, readiness=tenants)


@pytest.mark.parametrize(
    ("verdict", "offline", "expected"),
    [
        ("ready", False, False),
        ("not_ready", False, True),
        ("not_ready", True, True),
        ("unknown", False, True),  # online: a gate fails closed
        ("unknown", True, False),  # offline: unknown is the best there is
    ],
)
def test_any_not_ready(verdict: str, offline: bool, expected: bool) -> None:
    assert any_not_ready(_report(_tenant(verdict, offline))) is expected


def test_any_not_ready_when_readiness_could_not_be_assessed() -> None:
    crashed = Result("golive", Status.ERROR, "crashed", reason="check_crashed")
    unloaded = Result("golive", Status.SKIP, "not loaded", reason="depends_on_failure")
    assert any_not_ready(_report(results=(crashed,)))
    assert any_not_ready(_report(results=(unloaded,)))
    assert not any_not_ready(_report())


def test_worst_first_is_stable() -> None:
    tenants = [
        _tenant("ready", name="a"),
        _tenant("unknown", name="b"),
        _tenant("not_ready", name="c"),
        _tenant("ready", name="d"),
        _tenant("not_ready", name="e"),
    ]
    assert [t.tenant for t in worst_first(tenants)] == ["c", "e", "b", "a", "d"]
    assert counts(tenants) == {
        "not_ready": 2,
        "unknown": 1,
        "ready_with_waivers": 0,
        "ready": 2,
        "not_planned": 0,
    }


def test_item_labels() -> None:
    assert _item("pass").label == "✅ pass"
    assert _item("fail").label == "❌ fail"
    assert _item("fail", blocking=False).label == "⚠️ attention"
    assert _item("fail", blocking=False).tone == "attention"
    assert _item("not_checked").word == "not checked"


@pytest.mark.parametrize(
    ("target", "days", "verdict", "text"),
    [
        (None, None, "ready", "—"),
        ("2026-12-15", 16, "unknown", "2026-12-15 (16 days left)"),
        ("2026-12-15", 1, "unknown", "2026-12-15 (1 day left)"),
        ("2026-12-15", 0, "unknown", "2026-12-15 (today)"),
        ("2026-12-15", -3, "not_ready", "2026-12-15 (overdue by 3 days)"),
        ("2026-12-15", -3, "ready", "2026-12-15 (3 days ago)"),
        ("2026-02-30", None, "unknown", "2026-02-30 (not a date)"),
    ],
)
def test_target_text(target: str | None, days: int | None, verdict: str, text: str) -> None:
    tenant = TenantReadiness(
        "t",
        None,
        verdict,  # type: ignore[arg-type]
        (),
        target_date=target,
        days_left=days,
    )
    assert tenant.target_text == text


def test_headline() -> None:
    items = (_item("fail", item_id="a"), _item("not_checked", item_id="b"), _item("pass"))
    assert TenantReadiness("t", None, "not_ready", items).headline == (
        "not ready — 1 blocking item fails"
    )
    assert TenantReadiness("t", None, "unknown", items[1:]).headline == (
        "unknown — 1 blocking item not checked, none fails"
    )
    assert TenantReadiness("t", None, "ready", items[2:]).headline == (
        "ready — all 1 blocking items pass"
    )


def test_as_dict_counts() -> None:
    items = (
        _item("fail", item_id="a"),
        _item("not_checked", item_id="b"),
        _item("fail", blocking=False, item_id="c"),
    )
    document = TenantReadiness("t", "o", "not_ready", items, today="2026-11-29").as_dict()
    assert (document["blockers"], document["not_checked"], document["warnings"]) == (1, 1, 1)
    assert document["items"][0] == {  # type: ignore[index]
        "id": "a",
        "title": "X",
        "blocking": True,
        "state": "fail",
        "detail": "detail",
        "remediation": None,
    }


@pytest.mark.parametrize("name", sorted(readiness._TENANT_LIMITS))
def test_every_tenant_text_field_is_bounded(name: str) -> None:
    """Each limit holds on its own: the fast path that skips the limits when nothing is long
    must look at every field the table bounds."""
    limit = readiness._TENANT_LIMITS[name]
    fields = {"tenant": "t", "owner": None, "verdict": "unknown", "items": ()}
    fields[name] = "x" * (limit + 1)
    made = TenantReadiness(**fields)  # type: ignore[arg-type]
    value = getattr(made, name)
    assert len(value) <= limit and value.endswith(f"({limit + 1:,} characters)")
    at_limit = TenantReadiness(**{**fields, name: "y" * limit})  # type: ignore[arg-type]
    assert getattr(at_limit, name) == "y" * limit

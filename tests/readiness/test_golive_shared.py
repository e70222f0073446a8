"""The ``golive`` check works out the items that read only the run's results and an entry's
shape once per shape, for the tenants no result concerns (offline: nearly all of a fleet).

Sharing must never change a verdict or an item: a tenant with a finding of its own is judged
on its own, and the shared items are the ones each tenant would get judged alone.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stcheck.checks.golive.evidence import Evidence, complete_tenant_id
from stcheck.manifest import load_manifest
from stcheck.model import Status
from stcheck.readiness import TenantReadiness, readiness_of

from .conftest import ATTESTED, Answer, RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]


def _fleet(size: int) -> list[dict[str, Any]]:
    """Tenants of a few shapes: complete, integration only, production only, shared
    references, incomplete entries, odd attestations."""
    shapes: list[dict[str, Any]] = [
        {},
        {"production": False},
        {"integration": False},
        {"attestations": {**ATTESTED, "app_approved": {"by": "", "on": "someday"}}},
        {"planned": False, "because": "integration only"},
        {"target_date": "2026-01-01", "secret_created_on": "2020-01-01"},
    ]
    fleet = [tenant(f"t-{n}", number=n, **shapes[n % len(shapes)]) for n in range(size)]
    production = fleet[6]["environments"]["production"]
    production["client_id"] = fleet[6]["environments"]["integration"]["client_id"]
    fleet[12]["environments"]["production"]["client_secret"] = ["not", "a", "reference"]
    fleet[18]["environments"]["integration"]["tenant_id"] = "0123"
    fleet[24]["owner"] = 42  # a schema finding inside this tenant only
    return fleet


def _judged(report: Any) -> list[dict[str, object]]:
    return [tenant.as_dict() for tenant in readiness_of(report)]


def _by_name(report: Any) -> dict[str, TenantReadiness]:
    return {tenant.tenant: tenant for tenant in readiness_of(report)}


def _item(readiness: TenantReadiness, item_id: str) -> str:
    return next(item.state for item in readiness.items if item.id == item_id)


@pytest.mark.parametrize("online", [False, True])
def test_shared_items_are_the_items_each_tenant_gets_judged_alone(
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    monkeypatch: pytest.MonkeyPatch,
    online: bool,
) -> None:
    path = str(write_manifest(*_fleet(60)))
    args = (path,) if online else ("--offline", path)

    def network() -> ScriptedNetwork | None:
        if not online:
            return None
        failing = Answer(Status.FAIL, "invalid_client", reason="invalid_client")
        return ScriptedNetwork().script("token", "t-30", "production", failing)

    shared = run_report(*args, network=network())
    monkeypatch.setattr(Evidence, "quiet", lambda self, position, name: False)
    alone = run_report(*args, network=network())
    assert shared.report is not None and alone.report is not None
    assert _judged(shared.report) == _judged(alone.report)
    assert {t["verdict"] for t in _judged(shared.report)} >= {"not_ready", "not_planned"}
    if online:
        assert _item(_by_name(shared.report)["t-30"], "production_token") == "fail"
        assert _item(_by_name(shared.report)["t-36"], "production_token") == "pass"


def test_a_tenant_with_a_finding_of_its_own_is_not_given_its_shapes_items(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    fleet = [tenant(f"t-{n}", number=n) for n in range(30)]
    fleet[5]["owner"] = 42  # the schema check's finding, at /tenants/5/owner
    fleet[11]["go_live"]["target_date"] = 20261215  # likewise, at /tenants/11/go_live/...
    run = run_report("--offline", str(write_manifest(*fleet)))
    assert run.report is not None
    judged = _by_name(run.report)
    failing = {name for name, t in judged.items() if _item(t, "manifest_valid") == "fail"}
    assert failing == {"t-5", "t-11"}
    assert {judged[name].verdict for name in failing} == {"not_ready"}
    assert {t.verdict for name, t in judged.items() if name not in failing} == {"unknown"}


def test_complete_tenant_id_is_the_test_of_the_manifests_entries(
    write_manifest: WriteManifest,
) -> None:
    environments: list[Any] = [
        {"tenant_id": 17, "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": "18", "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": "018", "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": 0, "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": True, "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": 2**64, "client_id": "env:A", "client_secret": "env:B"},
        {"tenant_id": 19, "client_id": ["env:A"], "client_secret": "env:B"},
        {"tenant_id": 20, "client_id": "env:A"},
        {"client_id": "env:A", "client_secret": "env:B"},
        "production",
        None,
    ]
    fleet = [
        {"name": f"t-{n}", "environments": {"production": env, "integration": env}}
        for n, env in enumerate(environments)
    ]
    manifest = load_manifest(str(write_manifest(*fleet)))
    entries = {(entry.tenant, entry.environment): entry for entry in manifest.entries()}
    assert len(entries) == 4  # the first two tenants' two environments
    for position, data in manifest.tenants():
        for environment in ("production", "integration"):
            entry = entries.get((data["name"], environment))
            expected = entry.tenant_id if entry is not None else None
            assert complete_tenant_id(data["environments"][environment]) == expected, position

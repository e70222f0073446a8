"""End to end with the real network checks against the built-in fake ServiceTitan.

``stcheck report`` online, over real TLS on 127.0.0.1 (``--resolve`` and the fake's
CA): the golive check must read the real credentials/token/api results the way
the scripted network of the other tests pretends they look.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stcheck.readiness import readiness_of
from stcheck.testing.fake import FakeClient, FakeServiceTitan

from .conftest import RunReportFn, manifest_text, tenant

WriteManifest = Callable[..., Path]


def _entry(
    monkeypatch: pytest.MonkeyPatch,
    data: dict[str, Any],
    environment: str,
    client: FakeClient,
    prefix: str,
) -> None:
    env = data["environments"][environment]
    monkeypatch.setenv(f"{prefix}_ID", client.client_id)
    monkeypatch.setenv(f"{prefix}_SECRET", client.client_secret)
    env["client_id"] = f"env:{prefix}_ID"
    env["client_secret"] = f"env:{prefix}_SECRET"


def test_report_online_against_the_fake(
    servicetitan_fake: FakeServiceTitan,
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = servicetitan_fake
    monkeypatch.setenv("ST_APP_KEY", fake.app_key)
    good = tenant("good-plumbing", number=1)
    denied = tenant("rapid-hvac", number=2)
    shipped = tenant("copy-paste", number=3)
    secrets: list[str] = []
    for data, allowed in ((good, True), (denied, False), (shipped, True)):
        integration_client = None
        for environment in ("integration", "production"):
            tenant_id = int(data["environments"][environment]["tenant_id"])
            if data is shipped and environment == "production":
                # Integration credentials shipped to production, under production's names.
                client = integration_client
                assert client is not None
            else:
                client = fake.add_client(
                    FakeClient(environment, tenants={tenant_id} if allowed else set())
                )
            integration_client = client
            prefix = f"RT_{data['name'].upper().replace('-', '_')}_{environment[:3].upper()}"
            _entry(monkeypatch, data, environment, client, prefix)
            secrets.append(client.client_secret)
    path = write_manifest(text=manifest_text(good, denied, shipped))
    run = run_report(*fake.cli_args(), "--format", "json", str(path))
    assert run.report is not None, run.err
    tenants = {t.tenant: t for t in readiness_of(run.report)}
    ok = {i.id: i for i in tenants["good-plumbing"].items}
    for item_id in (
        "app_key",
        "production_credentials",
        "production_token",
        "production_probe",
        "distinct_references",
    ):
        assert ok[item_id].state == "pass", (item_id, ok[item_id].detail)
    assert ok["integration_verified"].state == "pass"
    # Until the credentials check reports whether the values differ, that item (and only
    # that one) is left unchecked; once it does, the tenant is ready.
    unchecked = [i.id for i in tenants["good-plumbing"].unchecked]
    assert unchecked in ([], ["distinct_values"])
    assert tenants["good-plumbing"].verdict == ("ready" if not unchecked else "unknown")

    refused = {i.id: i for i in tenants["rapid-hvac"].items}
    assert tenants["rapid-hvac"].verdict == "not_ready"
    assert refused["production_probe"].state == "fail"
    # The pair works and its token grants the probe's scope: the tenant ID is the suspect.
    detail = refused["production_probe"].detail
    assert "not this client pair's tenant" in detail
    assert "has not allowed the app" not in detail
    # The same values under different references: the production token endpoint refuses
    # the integration pair, and (once the credentials check reports it) the values match.
    copied = {i.id: i for i in tenants["copy-paste"].items}
    assert tenants["copy-paste"].verdict == "not_ready"
    assert copied["distinct_references"].state == "pass"
    assert copied["production_token"].state == "fail"
    assert copied["distinct_values"].state == ("fail" if not unchecked else "not_checked")
    # Nothing secret reached the report.
    assert fake.app_key not in run.out
    for secret in secrets:
        assert secret not in run.out


def test_report_online_with_the_manifest_checks_skipped_is_not_ready(
    servicetitan_fake: FakeServiceTitan,
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Every network item passes against the fake; only the schema check would object.
    fake = servicetitan_fake
    monkeypatch.setenv("ST_APP_KEY", fake.app_key)
    data = tenant("good-plumbing", number=1)
    data["api_url"] = "https://evil.example"  # not in manifest v1
    for environment in ("integration", "production"):
        tenant_id = int(data["environments"][environment]["tenant_id"])
        client = fake.add_client(FakeClient(environment, tenants={tenant_id}))
        _entry(monkeypatch, data, environment, client, f"RS_{environment[:3].upper()}")
    path = write_manifest(text=manifest_text(data))

    checked = run_report(*fake.cli_args(), "--strict", "--format", "json", str(path))
    assert checked.report is not None, checked.err
    assert [t.verdict for t in readiness_of(checked.report)] == ["not_ready"]
    assert checked.code == 1

    skipped = run_report(
        *fake.cli_args(),
        "--strict",
        "--skip",
        "schema,unique,references",
        "--format",
        "json",
        str(path),
    )
    assert skipped.report is not None, skipped.err
    (good,) = readiness_of(skipped.report)
    items = {i.id: i for i in good.items}
    assert items["manifest_valid"].state == "not_checked"
    assert "did not run (deselected)" in items["manifest_valid"].detail
    assert items["production_probe"].state == "pass"
    assert good.verdict == "unknown"
    assert skipped.code == 1


def test_the_scopes_item_is_decided_by_the_token_checks_scopes_stated_fact(
    servicetitan_fake: FakeServiceTitan,
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A token that states no scopes leaves ``scopes`` advisory and not checked.

    Same app, same requirement: where the token endpoint states the scopes (and
    they lack one), the item is blocking and fails; where it states none, the
    item is *not checked*, advisory, and the tenant can still be ready — what
    decides is the real token check's ``scopes_stated`` fact, not a message.
    """
    fake = servicetitan_fake
    fake.add_behavior("unstated_scopes", token=lambda ctx: ctx.issue_token(omit=("scope",)))
    monkeypatch.setenv("ST_APP_KEY", fake.app_key)
    quiet = tenant("quiet-plumbing", number=1)
    stated = tenant("stated-plumbing", number=2)
    for number, data in enumerate((quiet, stated)):
        for environment in ("integration", "production"):
            tenant_id = int(data["environments"][environment]["tenant_id"])
            behavior = "unstated_scopes" if data is quiet and environment == "production" else "ok"
            client = fake.add_client(
                FakeClient(environment, tenants={tenant_id}, behavior=behavior)
            )
            _entry(monkeypatch, data, environment, client, f"SC{number}_{environment[:3].upper()}")
    app = {
        "name": "acme-dispatch-sync",
        "app_key": "env:ST_APP_KEY",
        "required_scopes": ["tn.stt.businessunits:r", "tn.crm.customers:w"],
    }
    path = write_manifest(text=manifest_text(quiet, stated, app=app))
    run = run_report(*fake.cli_args(), "--format", "json", str(path))
    assert run.report is not None, run.err
    tenants = {t.tenant: t for t in readiness_of(run.report)}
    facts = {
        r.tenant: r.facts.get("scopes_stated")
        for r in run.report.results
        if r.check == "token" and r.environment == "production"
    }
    assert facts == {"quiet-plumbing": "no", "stated-plumbing": "yes"}

    unstated = {i.id: i for i in tenants["quiet-plumbing"].items}["scopes"]
    assert (unstated.blocking, unstated.state) == (False, "not_checked")
    assert unstated.detail == "the token does not state its scopes; the API probe is the evidence"
    assert tenants["quiet-plumbing"].verdict == "ready"

    lacking = {i.id: i for i in tenants["stated-plumbing"].items}
    assert (lacking["scopes"].blocking, lacking["scopes"].state) == (True, "fail")
    assert "tn.crm.customers:w" in lacking["scopes"].detail
    # The token itself was issued: one problem is one blocker.
    assert lacking["production_token"].state == "pass"
    assert [i.id for i in tenants["stated-plumbing"].blockers] == ["scopes"]

"""Waivers and readiness, online against the fake ServiceTitan: "ready with waivers".

A tenant whose production probe answers 403 (its admin has not accepted the new
scope version) is not ready; a reviewed waiver for exactly that result makes it
*ready with waivers*: listed as such, the item shown as waived, and
``report --strict`` passes. Without the waiver, or once it expired, it fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from stcheck.readiness import readiness_of
from stcheck.testing.fake import FakeClient, FakeServiceTitan

from .conftest import TODAY, RunReportFn, manifest_text, tenant

WriteManifest = Callable[..., Path]

WAIVER = """\
waivers:
  - check: api
    tenant: rapid-hvac
    environment: production
    reason: forbidden
    because: "Admin accepts the new scope version on 2026-12-10 (OPS-123)"
    by: dana@acme.example
    until: {until}
  - check: api
    tenant: slow-hvac
    environment: production
    because: "Same scope upgrade (OPS-123)"
    by: dana@acme.example
    until: 2026-12-31
"""


def _fleet(fake: FakeServiceTitan, monkeypatch: pytest.MonkeyPatch) -> tuple[str, list[str]]:
    """good-plumbing works; rapid-hvac's production pair is not allowed its tenant (403)."""
    monkeypatch.setenv("ST_APP_KEY", fake.app_key)
    good = tenant("good-plumbing", number=1)
    denied = tenant("rapid-hvac", number=2)
    unattested = tenant("slow-hvac", number=3, attestations={})
    secrets = []
    for data in (good, denied, unattested):
        for environment in ("integration", "production"):
            env = data["environments"][environment]
            tenant_id = int(env["tenant_id"])
            allowed = not (data is not good and environment == "production")
            client = fake.add_client(
                FakeClient(environment, tenants={tenant_id} if allowed else set())
            )
            prefix = f"WV_{data['name'].upper().replace('-', '_')}_{environment[:3].upper()}"
            monkeypatch.setenv(f"{prefix}_ID", client.client_id)
            monkeypatch.setenv(f"{prefix}_SECRET", client.client_secret)
            env["client_id"] = f"env:{prefix}_ID"
            env["client_secret"] = f"env:{prefix}_SECRET"
            secrets.append(client.client_secret)
    return manifest_text(good, denied, unattested), secrets


def test_a_tenant_whose_only_blocker_is_waived_is_ready_with_waivers(
    servicetitan_fake: FakeServiceTitan,
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    fake = servicetitan_fake
    text, secrets = _fleet(fake, monkeypatch)

    plain = write_manifest(text=text)
    without = run_report(*fake.cli_args(), "--strict", "--format", "json", str(plain))
    assert without.report is not None, without.err
    verdicts = {t.tenant: t.verdict for t in readiness_of(without.report)}
    assert verdicts["rapid-hvac"] == verdicts["slow-hvac"] == "not_ready"
    assert without.code == 1
    baseline = {t.tenant: t for t in readiness_of(without.report)}
    assert [i.id for i in baseline["rapid-hvac"].blockers] == ["production_probe"]

    path = write_manifest(text=text + WAIVER.format(until="2026-12-31"))
    markdown, html = tmp_path / "report.md", tmp_path / "report.html"
    run = run_report(
        *fake.cli_args(),
        "--format",
        "json",
        "--output",
        f"markdown={markdown}",
        "--output",
        f"html={html}",
        str(path),
    )
    assert run.report is not None, run.err
    assert run.code == 0, run.out
    # --strict: the tenant ready with waivers passes it; the one still not ready fails it.
    strict = run_report(*fake.cli_args(), "--strict", "--tenant", "rapid-hvac", str(path))
    assert strict.code == 0, strict.out
    strict = run_report(*fake.cli_args(), "--strict", "--tenant", "slow-hvac", str(path))
    assert strict.code == 1, strict.out
    tenants = {t.tenant: t for t in readiness_of(run.report)}
    hvac = tenants["rapid-hvac"]
    assert hvac.verdict == "ready_with_waivers"
    assert hvac.blockers == ()
    (probe,) = hvac.waived
    assert probe.id == "production_probe" and probe.state == "fail"
    assert probe.waiver is not None and probe.waiver.by == "dana@acme.example"
    assert tenants["good-plumbing"].verdict in ("ready", "unknown")
    # Another tenant's probe is waived too, but its attestations are missing: still not ready.
    slow = tenants["slow-hvac"]
    assert slow.verdict == "not_ready"
    assert [i.id for i in slow.waived] == ["production_probe"]
    assert "production_probe" not in [i.id for i in slow.blockers]

    document = json.loads(run.out)
    jsonschema.validate(document, load_schema(REPORT_SCHEMA))
    (entry,) = [t for t in document["readiness"] if t["tenant"] == "rapid-hvac"]
    assert entry["verdict"] == "ready_with_waivers"
    assert (entry["blockers"], entry["waived"]) == (0, 1)
    (item,) = [i for i in entry["items"] if i["id"] == "production_probe"]
    assert item["waiver"]["until"] == "2026-12-31"
    forbidden = [
        r for r in document["results"] if r["check"] == "api" and r["reason"] == "forbidden"
    ]
    assert forbidden and all(r["status"] == "fail" and r["waiver"] for r in forbidden)
    (golive,) = [
        r for r in document["results"] if r["check"] == "golive" and r["tenant"] == "rapid-hvac"
    ]
    assert golive["waiver"]["because"].startswith("Admin accepts")
    assert golive["message"].startswith("ready for production with waivers")
    (still,) = [
        r for r in document["results"] if r["check"] == "golive" and r["tenant"] == "slow-hvac"
    ]
    assert still["status"] == "fail" and "waiver" not in still
    assert "(and 1 waived: The API probe passes in production)" in still["message"]
    assert run.report.summary["fail"] >= 1  # slow-hvac's verdict still counts

    shown = markdown.read_text(encoding="utf-8")
    assert "ready with waivers" in shown
    assert "☑️ waived" in shown
    page = html.read_text(encoding="utf-8")
    assert "ready with waivers" in page
    assert "fail waived</span>" in page
    assert "waived until 2026-12-31 by dana@acme.example: Admin accepts" in page
    for secret in secrets:
        assert secret not in run.out + shown + page

    expired = write_manifest(text=text + WAIVER.format(until="2026-11-28"))
    late = run_report(*fake.cli_args(), "--strict", "--format", "json", str(expired))
    assert late.report is not None, late.err
    assert {t.tenant: t.verdict for t in readiness_of(late.report)}["rapid-hvac"] == "not_ready"
    assert late.code == 1
    assert any(r.reason == "waiver_expired" for r in late.report.results)
    assert TODAY == "2026-11-29"  # the date the expiry above is judged on

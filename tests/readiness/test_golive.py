"""The golive check through the real CLI: verdicts and items from real manifests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from stcheck.model import Status
from stcheck.readiness import ReadinessItem, TenantReadiness, readiness_of

from .conftest import Answer, Run, RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]


def readiness(run: Run, name: str = "good-plumbing") -> TenantReadiness:
    assert run.report is not None, run.err
    found = [t for t in readiness_of(run.report) if t.tenant == name]
    assert len(found) == 1, [t.tenant for t in readiness_of(run.report)]
    return found[0]


def item(tenant_readiness: TenantReadiness, item_id: str) -> ReadinessItem:
    found = {i.id: i for i in tenant_readiness.items}
    assert item_id in found, sorted(found)
    return found[item_id]


def golive_results(run: Run) -> dict[str | None, tuple[Status, str | None, str]]:
    assert run.report is not None
    return {
        r.tenant: (r.status, r.reason, r.message) for r in run.report.results if r.check == "golive"
    }


def test_ready_online(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    run = run_report("--format", "json", str(path), network=ScriptedNetwork())
    assert run.code == 0, run.err
    good = readiness(run)
    assert good.verdict == "ready"
    assert [i.id for i in good.blocking if i.state != "pass"] == []
    assert {i.id for i in good.blocking} >= {
        "manifest_valid",
        "production_entry",
        "distinct_references",
        "distinct_values",
        "app_key",
        "production_credentials",
        "production_token",
        "production_probe",
        "scopes",
        "attestation.app_approved",
        "attestation.tenant_admin_connected",
        "attestation.api_terms_accepted",
    }
    assert item(good, "scopes").blocking
    assert item(good, "integration_verified").state == "pass"
    status, reason, message = golive_results(run)["good-plumbing"]
    assert (status, reason) == (Status.PASS, None)
    assert "ready for production" in message


def test_unknown_offline(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    run = run_report("--offline", "--format", "json", str(path))
    assert run.code == 0
    good = readiness(run)
    assert good.verdict == "unknown"
    assert good.offline
    assert good.blockers == ()
    unchecked = {i.id for i in good.unchecked}
    assert unchecked == {
        "distinct_values",
        "app_key",
        "production_credentials",
        "production_token",
        "production_probe",
    }
    assert all("offline" in i.detail for i in good.unchecked)
    status, reason, message = golive_results(run)["good-plumbing"]
    assert (status, reason) == (Status.WARN, "readiness_unknown")
    assert "5 of" in message and "offline" in message


def test_missing_production_entry_is_not_ready(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    run = run_report("--offline", str(path))
    rapid = readiness(run, "rapid-hvac")
    assert rapid.verdict == "not_ready"
    entry = item(rapid, "production_entry")
    assert entry.state == "fail" and entry.blocking
    assert "environments.production" in (entry.remediation or "")
    assert [i.id for i in rapid.blockers] == ["production_entry"]
    status, reason, message = golive_results(run)["rapid-hvac"]
    assert (status, reason) == (Status.FAIL, "not_ready")
    assert "1 of" in message and "A production entry exists" in message
    # The other tenant is unaffected.
    assert readiness(run).verdict == "unknown"


def test_incomplete_production_entry(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    data = tenant()
    del data["environments"]["production"]["client_secret"]
    path = write_manifest(data)
    run = run_report("--offline", str(path))
    good = readiness(run)
    assert good.verdict == "not_ready"
    assert "incomplete" in item(good, "production_entry").detail
    # The schema check's finding reaches the tenant as well.
    valid = item(good, "manifest_valid")
    assert valid.state == "fail" and "line" in valid.detail


def test_shared_references_between_environments(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    data = tenant()
    data["environments"]["production"]["client_secret"] = data["environments"]["integration"][
        "client_secret"
    ]
    path = write_manifest(data)
    good = readiness(run_report("--offline", str(path)))
    assert good.verdict == "not_ready"
    shared = item(good, "distinct_references")
    assert shared.state == "fail"
    assert "client_secret" in shared.detail
    # One problem, one blocker: the unique check's finding is not counted again.
    assert [i.id for i in good.blockers] == ["distinct_references"]
    assert item(good, "distinct_values").state == "not_checked"


def test_shared_reference_between_tenants_fails_manifest_item(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    first = tenant()
    second = tenant("rapid-hvac", number=2)
    second["environments"]["production"]["client_id"] = first["environments"]["production"][
        "client_id"
    ]
    path = write_manifest(first, second)
    rapid = readiness(run_report("--offline", str(path)), "rapid-hvac")
    assert rapid.verdict == "not_ready"
    assert "same credential" in item(rapid, "manifest_valid").detail


def test_same_values_online_is_not_ready(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    run = run_report(str(path), network=ScriptedNetwork(distinct={"good-plumbing": False}))
    good = readiness(run)
    assert good.verdict == "not_ready"
    values = item(good, "distinct_values")
    assert values.state == "fail" and "same values" in values.detail


def test_distinct_values_unreported_online_is_not_checked(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    good = readiness(run_report(str(path), network=ScriptedNetwork(report_distinct=False)))
    assert good.verdict == "unknown"
    values = item(good, "distinct_values")
    assert values.state == "not_checked"
    assert "did not report" in values.detail


def test_missing_attestations(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(
        tenant(
            attestations={
                "app_approved": {"by": "dana@acme.example", "on": "2026-11-20"},
                "tenant_admin_connected": {"by": "ops@goodplumbing.example", "on": "2027-01-05"},
                "infosec_review": {
                    "by": "sec@acme.example",
                    "on": "2026-09-01",
                    "note": "ticket SEC-42",
                },
            }
        )
    )
    run = run_report(str(path), network=ScriptedNetwork())
    good = readiness(run)
    assert good.verdict == "not_ready"
    assert {i.id for i in good.blockers} == {
        "attestation.tenant_admin_connected",
        "attestation.api_terms_accepted",
    }
    assert "in the future" in item(good, "attestation.tenant_admin_connected").detail
    assert "api_terms_accepted" in item(good, "attestation.api_terms_accepted").detail
    approved = item(good, "attestation.app_approved")
    assert approved.state == "pass"
    assert approved.detail == "by dana@acme.example on 2026-11-20"
    extra = item(good, "attestation.infosec_review")
    assert not extra.blocking and extra.state == "pass"
    assert "sec@acme.example" in extra.detail and "SEC-42" in extra.detail
    assert [a.key for a in good.attestations] == [
        "app_approved",
        "tenant_admin_connected",
        "infosec_review",
    ]


def test_attestations_are_judged_per_tenant_and_per_day(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """Equal attestations give tenants one shared item; the judgement cache keys on every
    input, so any difference (a date, a text that is not a string, a note past the cache's
    size, another --today) gets its own judgement, never a cached neighbour's."""
    approved = {"by": "dana@acme.example", "on": "2026-11-20"}
    standard = {
        "app_approved": approved,
        "tenant_admin_connected": {"by": "ops@acme.example", "on": "2026-11-22"},
        "api_terms_accepted": {"by": "dana@acme.example", "on": "2026-10-02"},
    }
    long_note = "reviewed " * 200
    path = write_manifest(
        tenant(attestations=standard),
        tenant("twin", attestations=dict(standard), number=2),
        tenant(
            "soon",
            attestations={**standard, "app_approved": {**approved, "on": "2026-12-01"}},
            number=3,
        ),
        tenant(
            "nobody", attestations={**standard, "app_approved": {**approved, "by": 42}}, number=4
        ),
        tenant(
            "noted",
            attestations={**standard, "app_approved": {**approved, "note": long_note}},
            number=5,
        ),
    )
    run = run_report("--offline", str(path))
    good, twin = readiness(run), readiness(run, "twin")
    assert item(good, "attestation.app_approved") is item(twin, "attestation.app_approved")
    assert good.attestations == twin.attestations
    soon = item(readiness(run, "soon"), "attestation.app_approved")
    assert (soon.state, soon.detail) == ("fail", "it is dated 2026-12-01, in the future")
    nobody = item(readiness(run, "nobody"), "attestation.app_approved")
    assert (nobody.state, nobody.detail) == ("fail", "who ('by') is missing")
    assert readiness(run, "nobody").attestations[0].by is None
    noted = item(readiness(run, "noted"), "attestation.app_approved")
    assert noted.state == "pass"
    assert noted.detail == f"by dana@acme.example on 2026-11-20 — {long_note}"
    later = readiness(run_report("--offline", str(path), today="2026-12-05"), "soon")
    assert item(later, "attestation.app_approved").state == "pass"


def test_no_attestations_at_all(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant(attestations={}))
    good = readiness(run_report("--offline", str(path)))
    assert good.verdict == "not_ready"
    assert len(good.blockers) == 3
    assert all(i.id.startswith("attestation.") for i in good.blockers)


def test_overdue_target_date_is_advisory(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(
        tenant(target_date="2026-11-01"),
        tenant("rapid-hvac", target_date="2026-11-01", attestations={}, number=2),
    )
    run = run_report(str(path), network=ScriptedNetwork())
    good = readiness(run)
    assert good.verdict == "ready"  # advisory items never change the verdict
    assert good.days_left == -28
    assert item(good, "target_date").state == "pass"
    assert "28 days ago" in item(good, "target_date").detail
    rapid = readiness(run, "rapid-hvac")
    target = item(rapid, "target_date")
    assert (target.state, target.blocking) == ("fail", False)
    assert "overdue by 28 days" in target.detail
    assert rapid.target_text == "2026-11-01 (overdue by 28 days)"


def test_target_date_days_left_and_missing(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", target_date=None, number=2))
    run = run_report("--offline", str(path))
    good = readiness(run)
    assert good.days_left == 16
    assert item(good, "target_date").detail == "2026-12-15: 16 days left"
    missing = item(readiness(run, "rapid-hvac"), "target_date")
    assert missing.state == "not_checked" and missing.remediation


@pytest.mark.parametrize(
    ("created", "state", "words"),
    [
        ("2026-11-02", "pass", "27 days old"),
        ("2025-10-20", "fail", "405 days old"),
        ("2027-01-01", "fail", "in the future"),
        (None, "not_checked", "no `secret_created_on` recorded"),
    ],
)
def test_secret_age(
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    created: str | None,
    state: str,
    words: str,
) -> None:
    path = write_manifest(tenant(secret_created_on=created))
    run = run_report(str(path), network=ScriptedNetwork())
    good = readiness(run)
    age = item(good, "secret_age")
    assert (age.state, age.blocking) == (state, False)
    assert words in age.detail
    assert good.verdict == "ready"


def test_today_defaults_to_the_real_date(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    import datetime

    path = write_manifest(tenant())
    good = readiness(run_report("--offline", str(path), today=None))
    assert good.today == datetime.date.today().isoformat()


def test_forbidden_probe_explains_403(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "api",
        "good-plumbing",
        "production",
        Answer(Status.FAIL, "the probe answered 403", "forbidden"),
    )
    good = readiness(run_report(str(path), network=network))
    assert good.verdict == "not_ready"
    probe = item(good, "production_probe")
    assert probe.state == "fail"
    # A client pair exists only after the admin clicked Allow: "not allowed" is no cause.
    assert probe.detail.startswith("403 with a working token")
    assert "has not allowed the app" not in probe.detail
    remediation = probe.remediation or ""
    causes = ("`tenant_id`", "scopes cover the probe", "Upgrade to New Version")
    assert all(cause in remediation for cause in causes), remediation
    assert [remediation.index(cause) for cause in causes] == sorted(
        remediation.index(cause) for cause in causes
    ), "most likely cause first"


def test_invalid_client_in_production(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = (
        ScriptedNetwork()
        .script(
            "token",
            "good-plumbing",
            "production",
            Answer(Status.FAIL, "the token endpoint answered invalid_client", "invalid_client"),
        )
        .script(
            "api",
            "good-plumbing",
            "production",
            Answer(Status.SKIP, "api: the token check did not pass", "depends_on_failure"),
        )
    )
    good = readiness(run_report(str(path), network=network))
    assert good.verdict == "not_ready"
    token = item(good, "production_token")
    assert token.state == "fail"
    assert "integration pair" in (token.remediation or "")
    assert item(good, "production_probe").state == "not_checked"
    assert item(good, "scopes").state == "not_checked"


def test_missing_scopes_block(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "token",
        "good-plumbing",
        "production",
        Answer(Status.PASS, "token issued (Bearer, expires_in 900)"),
        Answer(Status.FAIL, "the token lacks tn.stt.businessunits:r", "missing_scopes"),
    )
    good = readiness(run_report(str(path), network=network))
    assert good.verdict == "not_ready"
    assert [i.id for i in good.blockers] == ["scopes"]
    assert item(good, "production_token").state == "pass"


def test_scopes_advisory_when_token_does_not_say(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "token",
        "good-plumbing",
        "production",
        Answer(Status.PASS, "token issued (Bearer, expires_in 900); it carries no scope claim"),
    )
    good = readiness(run_report(str(path), network=network))
    scopes = item(good, "scopes")
    assert (scopes.blocking, scopes.state) == (False, "not_checked")
    assert good.verdict == "ready"


def test_scopes_are_judged_from_the_token_checks_facts_not_its_words(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """A message that talks about scopes proves nothing; the ``scopes_stated`` fact does."""
    path = write_manifest(tenant("worded", number=1), tenant("stated", number=2))
    network = (
        ScriptedNetwork()
        .script(
            "token",
            "worded",
            "production",
            Answer(Status.PASS, "token issued; scope includes the 1 required scope"),
        )
        .script(
            "token",
            "stated",
            "production",
            Answer(
                Status.PASS,
                "token issued (Bearer, expires_in 900)",
                facts={"scopes_stated": "yes", "scopes": ("tn.stt.businessunits:r",)},
            ),
        )
    )
    run = run_report(str(path), network=network)
    worded = item(readiness(run, "worded"), "scopes")
    assert (worded.blocking, worded.state) == (False, "not_checked")
    stated = item(readiness(run, "stated"), "scopes")
    assert (stated.blocking, stated.state) == (True, "pass")


def test_a_probe_outside_the_apps_scopes_leaves_production_unknown_not_failed(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "api",
        "good-plumbing",
        "production",
        Answer(
            Status.WARN,
            "GET ... answered HTTP 403: the token's scopes do not include tn.stt.tagtypes:r",
            "probe_scope_not_granted",
        ),
    )
    good = readiness(run_report(str(path), network=network))
    probe = item(good, "production_probe")
    assert probe.state == "not_checked" and probe.detail.startswith("could not tell")
    assert "app.probe" in (probe.remediation or "")
    assert good.verdict == "unknown"


def test_scopes_undeclared(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    app = {"name": "acme", "app_key": "env:ST_APP_KEY"}
    path = write_manifest(tenant(), app=app)
    good = readiness(run_report(str(path), network=ScriptedNetwork()))
    scopes = item(good, "scopes")
    assert (scopes.blocking, scopes.state) == (False, "not_checked")
    assert "required_scopes" in (scopes.remediation or "")


def test_timeout_leaves_verdict_unknown(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "api",
        "good-plumbing",
        "production",
        Answer(Status.ERROR, "no answer within 10 s", "timeout"),
    )
    good = readiness(run_report(str(path), network=network))
    assert good.verdict == "unknown"
    probe = item(good, "production_probe")
    assert probe.state == "not_checked" and probe.detail.startswith("could not tell")


def test_unresolved_app_key_and_credentials(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork(
        app_key=Answer(Status.FAIL, "env:ST_APP_KEY is not set", "unresolved_reference")
    ).script(
        "credentials",
        "good-plumbing",
        "production",
        Answer(Status.FAIL, "env:GOOD_PLUMBING_PROD_CLIENT_ID is not set", "unresolved_reference"),
    )
    good = readiness(run_report(str(path), network=network))
    assert {i.id for i in good.blockers} >= {"app_key", "production_credentials"}
    assert "Provide the secret" in (item(good, "app_key").remediation or "")


def test_integration_failure_is_advisory(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    network = ScriptedNetwork().script(
        "token",
        "good-plumbing",
        "integration",
        Answer(Status.FAIL, "invalid_client", "invalid_client"),
    )
    good = readiness(run_report(str(path), network=network))
    verified = item(good, "integration_verified")
    assert (verified.blocking, verified.state) == (False, "fail")
    assert good.verdict == "ready"


def test_deselected_network_check_is_not_checked(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    run = run_report("--skip", "api", str(path), network=ScriptedNetwork())
    good = readiness(run)
    assert good.verdict == "unknown"
    assert "deselected" in item(good, "production_probe").detail


@pytest.mark.parametrize(
    ("args", "missing"),
    [
        (("--skip", "schema"), "the schema check did not run (deselected)"),
        (("--skip", "references"), "the references check did not run (deselected)"),
        (
            ("--skip", "schema,unique,references"),
            "the schema, references and unique checks did not run (deselected)",
        ),
        (
            ("--select", "credentials,token,api,golive"),
            "the schema, references and unique checks did not run (deselected)",
        ),
    ],
)
def test_deselected_manifest_checks_leave_manifest_valid_unchecked(
    write_manifest: WriteManifest,
    run_report: RunReportFn,
    args: tuple[str, ...],
    missing: str,
) -> None:
    # Online and otherwise ready: "no problem found" by checks that did not run proves nothing.
    path = write_manifest(tenant())
    run = run_report("--strict", *args, str(path), network=ScriptedNetwork())
    good = readiness(run)
    valid = item(good, "manifest_valid")
    assert (valid.state, valid.detail) == ("not_checked", f"not checked: {missing}")
    assert [i.id for i in good.unchecked] == ["manifest_valid"]
    assert good.verdict == "unknown"
    status, reason, _ = golive_results(run)["good-plumbing"]
    assert (status, reason) == (Status.WARN, "readiness_unknown")
    # Online, --strict fails an unknown verdict (it passed as "ready" before).
    assert run.code == 1, run.err
    assert run_report(*args, str(path), network=ScriptedNetwork()).code == 0


def test_skipped_schema_never_hides_an_invalid_manifest(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    data = tenant()
    data["api_url"] = "https://evil.example"  # not in manifest v1: a schema error
    path = write_manifest(data)
    assert readiness(run_report(str(path), network=ScriptedNetwork())).verdict == "not_ready"
    skipped = run_report("--strict", "--skip", "schema", str(path), network=ScriptedNetwork())
    good = readiness(skipped)
    assert good.verdict == "unknown"
    assert item(good, "manifest_valid").state == "not_checked"
    # Offline too: the item is not checked rather than passed.
    offline = readiness(run_report("--offline", "--skip", "schema", str(path)))
    assert offline.verdict != "ready"
    assert item(offline, "manifest_valid").detail == (
        "not checked: the schema check did not run (deselected)"
    )


def test_a_problem_found_fails_manifest_valid_even_when_a_check_was_skipped(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    data = tenant()
    data["environments"]["production"]["client_id"] = "nosuchscheme:X"
    path = write_manifest(data)
    good = readiness(run_report("--offline", "--skip", "schema,unique", str(path)))
    assert good.verdict == "not_ready"
    assert item(good, "manifest_valid").state == "fail"


def test_env_selection_leaves_production_unchecked(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    run = run_report("--env", "integration", str(path), network=ScriptedNetwork())
    good = readiness(run)
    assert good.verdict == "unknown"
    assert "--env" in item(good, "production_token").detail


def test_tenant_selection(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", number=2))
    run = run_report("--offline", "--tenant", "rapid-hvac", str(path))
    assert run.report is not None
    assert [t.tenant for t in readiness_of(run.report)] == ["rapid-hvac"]


def test_several_manifests(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    first = write_manifest(tenant(), name="a.yaml")
    second = write_manifest(tenant("rapid-hvac", number=2), name="b.yaml")
    run = run_report("--offline", str(first), str(second))
    assert run.report is not None
    assert [(t.tenant, Path(t.manifest).name) for t in readiness_of(run.report)] == [
        ("good-plumbing", "a.yaml"),
        ("rapid-hvac", "b.yaml"),
    ]


def test_no_tenants(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest()
    run = run_report("--offline", "--strict", str(path))
    assert run.code == 0
    assert golive_results(run)[None][:2] == (Status.SKIP, "not_applicable")


def test_golive_runs_in_check_only_when_selected(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    plain = run_report(str(path), command="validate", today=None)
    assert plain.report is not None and not readiness_of(plain.report)
    selected = run_report("--select", "golive", str(path), command="validate")
    assert selected.report is not None
    assert [t.verdict for t in readiness_of(selected.report)] == ["unknown"]


def test_bad_today_is_a_usage_error(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    run = run_report("--offline", str(path), today="2026-02-30")
    assert run.code == 2
    assert "YYYY-MM-DD" in run.err

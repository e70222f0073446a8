"""The api check (the probe) against the fake over real TLS."""

from __future__ import annotations

import time

import pytest

from stcheck.testing.fake import BehaviorContext, FakeResponse, json_response, problem_response

from .conftest import Harness


def test_probe_sends_bearer_and_app_key_headers_and_page_size_1(harness: Harness) -> None:
    client = harness.add("t", "production")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout
    result = outcome.one("api", "t", "production")
    assert result["status"] == "pass"
    (request,) = harness.fake.api_requests("production", client.client_id)
    tenant_id = harness.tenants["t"]["environments"]["production"]["tenant_id"]
    assert request.method == "GET"
    assert request.host == "api.servicetitan.io" and request.sni == "api.servicetitan.io"
    assert request.path == f"/settings/v2/tenant/{tenant_id}/business-units"
    assert request.query == {"pageSize": "1"}  # the app key never goes in the URL
    assert request.headers["st-app-key"] == harness.fake.app_key
    assert request.headers["authorization"].startswith("Bearer ")
    assert "Main" not in outcome.stdout  # the body is never shown


def test_configured_probe_is_used(harness: Harness) -> None:
    harness.app["probe"] = "settings/tag-types"
    harness.add("t", scopes="tn.stt.tagtypes:r")
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("pass", None)
    assert harness.fake.api_requests()[0].path.endswith("/tag-types")


@pytest.mark.parametrize(
    ("behavior", "options", "status", "reason"),
    [
        ("probe_forbidden", {}, "fail", "forbidden"),
        ("probe_unauthorized", {}, "fail", "token_rejected"),
        ("probe_server_error", {}, "error", "server_error"),
        ("probe_redirect", {}, "error", "redirect_blocked"),
        ("probe_malformed_json", {}, "error", "malformed_response"),
        ("probe_rate_limited", {"rate_limit_times": 5, "retry_after": 0}, "error", "rate_limited"),
    ],
)
def test_probe_behaviours_are_classified(
    harness: Harness, behavior: str, options: dict[str, object], status: str, reason: str
) -> None:
    harness.add("t", behavior=behavior, **options)
    outcome = harness.run("--timeout", "2")
    assert outcome.code == 1
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert outcome.status("api", "t", "integration") == (status, reason)
    assert outcome.one("api", "t", "integration")["hint"]
    assert harness.fake.foreign_requests() == []


def test_a_tenant_id_that_is_not_the_pairs_tenant_is_forbidden_and_said_first(
    harness: Harness,
) -> None:
    # The pair works and its token grants the probe's scope; only the tenant ID is wrong.
    harness.add("t", "production", allowed=False)
    outcome = harness.run()
    result = outcome.one("api", "t", "production")
    assert (result["status"], result["reason"]) == ("fail", "forbidden")
    assert "traceId" in result["message"]
    tenant_id = harness.tenants["t"]["environments"]["production"]["tenant_id"]
    assert f"tenant_id {tenant_id} is not this client pair's tenant" in result["message"]
    assert "grants tn.stt.businessunits:r" in result["message"]
    # A client pair exists only after the admin clicked Allow: never the advice.
    assert "has not allowed" not in result["hint"]
    hint = result["hint"]
    assert hint.index("tenant_id") < hint.index("scope") < hint.index("Upgrade to New Version")


def test_default_probe_follows_the_scopes_the_token_states(harness: Harness) -> None:
    """An app with job scopes only: its working credentials pass, on a job-types probe."""
    client = harness.add("t", "production", scopes="tn.jpm.jobs:r tn.jpm.jobtypes:r")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout
    result = outcome.one("api", "t", "production")
    assert (result["status"], result["reason"]) == ("pass", None)
    assert "does not grant tn.stt.businessunits:r" in result["message"]
    assert result["facts"] == {
        "probe": "jpm/job-types",
        "probe_source": "token_scopes",
        "probe_scope": "tn.jpm.jobtypes:r",
        "scopes_stated": "yes",
    }
    (request,) = harness.fake.api_requests("production", client.client_id)
    tenant_id = harness.tenants["t"]["environments"]["production"]["tenant_id"]
    assert request.path == f"/jpm/v2/tenant/{tenant_id}/job-types"


def test_default_probe_prefers_business_units_then_tag_types(harness: Harness) -> None:
    harness.add("both", scopes="tn.jpm.jobtypes:r tn.stt.businessunits:r")
    harness.add("tags", scopes="tn.jpm.jobtypes:r tn.stt.tagtypes:r")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout
    assert outcome.one("api", "both", "integration")["facts"]["probe"] == (
        "settings/business-units"
    )
    assert outcome.one("api", "both", "integration")["facts"]["probe_source"] == "default"
    assert outcome.one("api", "tags", "integration")["facts"]["probe"] == "settings/tag-types"


def test_a_configured_probe_outside_the_tokens_scopes_is_a_warning_not_a_failure(
    harness: Harness,
) -> None:
    harness.app["probe"] = "settings/business-units"
    harness.add("t", "production", scopes="tn.jpm.jobtypes:r")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout  # warn: the credentials may well be fine
    result = outcome.one("api", "t", "production")
    assert (result["status"], result["reason"]) == ("warn", "probe_scope_not_granted")
    message = result["message"]
    assert "answered HTTP 403" in message
    assert "do not include tn.stt.businessunits:r" in message
    assert "Set app.probe: jpm/job-types" in message and "tn.jpm.jobtypes:r" in message
    assert "app.probe" in result["hint"]
    assert result["facts"]["probe_source"] == "manifest"


def test_no_known_probe_in_the_tokens_scopes_is_a_warning_naming_the_choices(
    harness: Harness,
) -> None:
    harness.add("t", scopes="tn.crm.customers:r")
    outcome = harness.run()
    result = outcome.one("api", "t", "integration")
    assert (result["status"], result["reason"]) == ("warn", "probe_scope_not_granted")
    assert "settings/tag-types (tn.stt.tagtypes:r)" in result["message"]
    assert "crm/customers" not in result["message"]  # never suggests a probe with PII


def test_without_stated_scopes_the_default_probe_and_a_403_fail_as_before(
    harness: Harness,
) -> None:
    def no_scope(ctx: BehaviorContext) -> FakeResponse | None:
        return ctx.issue_token(omit=("scope",))

    harness.fake.add_behavior("no_scope", token=no_scope)
    harness.add("t", behavior="no_scope", scopes="tn.jpm.jobtypes:r")
    outcome = harness.run()
    result = outcome.one("api", "t", "integration")
    assert (result["status"], result["reason"]) == ("fail", "forbidden")
    assert "the token does not state its scopes" in result["message"]
    assert "tn.stt.businessunits:r, which settings/business-units needs" in result["message"]
    assert result["facts"]["scopes_stated"] == "no"
    assert harness.fake.api_requests()[0].path.endswith("/business-units")
    assert outcome.one("token", "t", "integration")["facts"] == {"scopes_stated": "no"}


def test_an_enterprise_hub_token_probes_its_own_tenant_only(harness: Harness) -> None:
    shared = harness.add("east", "production", group="hub")
    harness.add("west", "production", client=shared, group="hub")
    outcome = harness.run()
    assert outcome.status("api", "east", "production") == ("pass", None)
    assert outcome.status("api", "west", "production") == ("pass", None)
    by_tenant = {r.tenant: r.headers["authorization"] for r in harness.fake.api_requests()}
    assert len(set(by_tenant.values())) == 2  # each tenant used its own token


def test_wrong_app_key_is_token_rejected(harness: Harness) -> None:
    harness.add("t")
    harness.monkeypatch.setenv("T_APP_KEY", "ak1.thisisnottheappkeyatall12")
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("fail", "token_rejected")
    assert "ST-App-Key" in outcome.one("api", "t", "integration")["message"]


def test_unknown_probe_resource_is_probe_not_found(harness: Harness) -> None:
    harness.app["probe"] = "settings/no-such-thing"
    harness.add("t")
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("fail", "probe_not_found")


def test_bad_request_answer(harness: Harness) -> None:
    def bad(ctx: object) -> FakeResponse:
        return problem_response(400, "One or more validation errors occurred.")

    harness.fake.add_behavior("bad", probe=bad)
    harness.add("t", behavior="bad")
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("fail", "bad_request")


def test_rate_limited_probe_recovers(harness: Harness) -> None:
    client = harness.add("t", behavior="probe_rate_limited", rate_limit_times=1, retry_after=0)
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("pass", None)
    assert [r.status for r in harness.fake.api_requests(client_id=client.client_id)] == [429, 200]


def test_slow_probe_times_out_promptly(harness: Harness) -> None:
    harness.add("t", behavior="probe_slow", delay=5)
    started = time.monotonic()
    outcome = harness.run("--timeout", "0.5")
    assert time.monotonic() - started < 3
    assert outcome.status("api", "t", "integration") == ("error", "timeout")


def test_probe_is_skipped_when_the_app_key_does_not_resolve(harness: Harness) -> None:
    harness.add("t")
    harness.monkeypatch.delenv("T_APP_KEY")
    outcome = harness.run()
    (app_key,) = [r for r in outcome.find("credentials") if r["tenant"] is None]
    assert (app_key["status"], app_key["reason"]) == ("fail", "unresolved_reference")
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert outcome.status("api", "t", "integration") == ("skip", "depends_on_failure")
    assert harness.fake.api_requests() == []


def test_probe_refuses_a_path_outside_the_allowed_modules(harness: Harness) -> None:
    harness.app["probe"] = "reporting/report-category/x"
    harness.add("t")
    outcome = harness.run()
    assert outcome.status("api", "t", "integration") == ("skip", "depends_on_failure")
    assert harness.fake.api_requests() == []


@pytest.mark.parametrize("token", ["abc123\r\n X-Injected: yes", "abc123\nX-Injected: yes"])
def test_a_token_with_a_line_break_is_never_sent_as_a_header(harness: Harness, token: str) -> None:
    """A token server's line break must not fold or add a header on the probe."""

    def folded(ctx: BehaviorContext) -> FakeResponse | None:
        payload = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 900,
            "scope": "tn.stt.businessunits:r",
        }
        return json_response(200, payload)

    harness.fake.add_behavior("folded", token=folded)
    harness.add("t", behavior="folded")
    outcome = harness.run()
    result = outcome.one("api", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "connection_error")
    assert "InvalidHeader" in result["message"]
    assert harness.fake.api_requests() == []
    assert "X-Injected" not in outcome.stdout + outcome.stderr

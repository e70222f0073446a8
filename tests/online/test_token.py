"""The token check against the fake over real TLS: every behaviour's status and reason."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from stcheck.testing.fake import (
    BehaviorContext,
    FakeClient,
    FakeResponse,
    json_response,
    oauth_error_response,
)

from .conftest import Harness


def test_healthy_pair_passes_and_request_is_form_encoded_client_credentials(
    harness: Harness,
) -> None:
    client = harness.add("good")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout
    assert outcome.status("token", "good", "integration") == ("pass", None)
    assert outcome.status("api", "good", "integration") == ("pass", None)
    (request,) = harness.fake.token_requests("integration", client.client_id)
    assert request.method == "POST" and request.path == "/connect/token"
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.form["grant_type"] == "client_credentials"
    assert request.form["client_secret"] == client.client_secret
    assert request.sni == "auth-integration.servicetitan.io"
    assert "authorization" not in request.headers
    assert "st-app-key" not in request.headers  # the app key goes to API hosts only


@pytest.mark.parametrize(
    ("behavior", "options", "status", "reason"),
    [
        ("unauthorized_client", {}, "fail", "unauthorized_client"),
        ("invalid_scope", {}, "fail", "invalid_scope"),
        ("server_error_html", {}, "error", "server_error"),
        ("malformed_json", {}, "error", "malformed_response"),
        ("missing_access_token", {}, "error", "malformed_response"),
        ("redirect", {}, "error", "redirect_blocked"),
        ("redirect", {"redirect_status": 307}, "error", "redirect_blocked"),
        ("bad_token_type", {}, "error", "bad_token_type"),
        ("drop_connection", {}, "error", "connection_error"),
        ("rate_limited", {"rate_limit_times": 5, "retry_after": 0}, "error", "rate_limited"),
    ],
)
def test_token_endpoint_behaviours_are_classified(
    harness: Harness, behavior: str, options: dict[str, object], status: str, reason: str
) -> None:
    harness.add("t", behavior=behavior, **options)
    outcome = harness.run("--timeout", "2")
    assert outcome.code == 1
    assert outcome.status("token", "t", "integration") == (status, reason)
    result = outcome.one("token", "t", "integration")
    assert result["hint"], "every non-pass result carries a hint"
    assert outcome.status("api", "t", "integration") == ("skip", "depends_on_failure")
    assert harness.fake.api_requests() == []
    assert harness.fake.foreign_requests() == []


def test_the_other_environments_pair_is_invalid_client(harness: Harness) -> None:
    integration = harness.add("t", "integration")
    harness.add("t", "production", client=integration)  # integration pair shipped to production
    outcome = harness.run()
    assert outcome.code == 1
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert outcome.status("token", "t", "production") == ("fail", "invalid_client")
    assert "auth.servicetitan.io" in outcome.one("token", "t", "production")["message"]


def test_wrong_secret_is_invalid_client(harness: Harness) -> None:
    harness.add("t", secret="cs1.thisisnotthesecretthisisnotthesecret123")
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == ("fail", "invalid_client")


def test_secret_with_whitespace_is_stripped_warned_and_works(harness: Harness) -> None:
    client = harness.add("t")
    harness.monkeypatch.setenv("T_T_INTE_SECRET", f"  {client.client_secret}\n")
    outcome = harness.run()
    assert outcome.status("credentials", "t", "integration") == ("warn", "whitespace")
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert outcome.code == 0


def test_rate_limited_once_is_retried_after_retry_after(harness: Harness) -> None:
    client = harness.add("t", behavior="rate_limited", rate_limit_times=1, retry_after=1)
    started = time.monotonic()
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert outcome.code == 0
    requests = harness.fake.token_requests("integration", client.client_id)
    assert [r.status for r in requests] == [429, 200]
    assert requests[1].time - requests[0].time >= 0.9  # Retry-After honoured
    assert time.monotonic() - started < 5


def test_retry_after_as_an_http_date_is_honoured(harness: Harness) -> None:
    client = harness.add(
        "t", behavior="rate_limited", rate_limit_times=1, retry_after=formatdate(time.time() + 1)
    )
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert len(harness.fake.token_requests("integration", client.client_id)) == 2


def test_retry_after_beyond_the_cap_is_reported_not_waited_out(harness: Harness) -> None:
    client = harness.add("t", behavior="rate_limited", rate_limit_times=5, retry_after=3600)
    started = time.monotonic()
    outcome = harness.run()
    assert time.monotonic() - started < 3
    assert outcome.status("token", "t", "integration") == ("error", "rate_limited")
    assert "Retry-After: 3600" in outcome.one("token", "t", "integration")["message"]
    assert len(harness.fake.token_requests("integration", client.client_id)) == 1


def test_persistent_5xx_is_retried_a_bounded_number_of_times(harness: Harness) -> None:
    client = harness.add("t", behavior="server_error_html")
    outcome = harness.run("--timeout", "2")
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "server_error")
    assert "HTML" in result["message"]
    assert "<" not in result["message"]  # the body is never shown
    assert len(harness.fake.token_requests("integration", client.client_id)) == 3


def test_short_expiry_is_a_warning_and_the_probe_still_runs(harness: Harness) -> None:
    harness.add("t", behavior="short_expiry")
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == ("warn", "unexpected_expiry")
    assert outcome.status("api", "t", "integration") == ("pass", None)
    assert outcome.code == 0


def test_missing_required_scopes_fail(harness: Harness) -> None:
    harness.app["required_scopes"] = ["tn.stt.businessunits:r", "tn.jpm.jobs:r"]
    harness.add("t")
    outcome = harness.run()
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("fail", "missing_scopes")
    assert "tn.jpm.jobs:r" in result["message"]


def test_required_scopes_present_in_a_jwt_claim(harness: Harness) -> None:
    harness.app["required_scopes"] = ["tn.stt.businessunits:r"]

    def no_scope_field(ctx: BehaviorContext) -> FakeResponse | None:
        return ctx.issue_token(omit=("scope",))

    harness.fake.add_behavior("no_scope_field", token=no_scope_field)
    harness.add("t", behavior="no_scope_field", token_format="jwt")
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert "required scopes present" in outcome.one("token", "t", "integration")["message"]


@pytest.mark.parametrize(
    ("response", "status", "reason"),
    [
        # Not a meaning for the client-credentials grant: could not tell, not a definite no.
        (oauth_error_response("invalid_grant"), "error", "oauth_error"),
        (oauth_error_response("slow_down"), "error", "oauth_error"),
        (json_response(401, {"error": "access_denied"}), "fail", "token_rejected"),
        (oauth_error_response("invalid_request"), "error", "invalid_request"),
        (oauth_error_response("unsupported_grant_type"), "error", "unsupported_grant_type"),
        (json_response(401, {"message": "no"}), "fail", "token_rejected"),
        (json_response(418, {"message": "teapot"}), "error", "http_error"),
        (json_response(200, ["not", "an", "object"]), "error", "malformed_response"),
    ],
)
def test_other_token_answers(
    harness: Harness, response: FakeResponse, status: str, reason: str
) -> None:
    harness.fake.add_behavior("scripted", token=lambda ctx: response)
    harness.add("t", behavior="scripted")
    outcome = harness.run()
    assert outcome.status("token", "t", "integration") == (status, reason)


def test_error_description_is_never_shown(harness: Harness) -> None:
    client = FakeClient("integration")

    def echo(ctx: BehaviorContext) -> FakeResponse | None:
        secret = ctx.form["client_secret"]
        return oauth_error_response("invalid_client", description=f"bad secret {secret}")

    harness.fake.add_behavior("echo", token=echo)
    client.behavior = "echo"
    harness.fake.add_client(client)
    harness.add("t", client=client)
    outcome = harness.run()
    message = outcome.one("token", "t", "integration")["message"]
    assert "bad secret" not in message
    assert message.endswith("invalid_client")
    assert client.client_secret not in outcome.stdout


def test_slow_token_endpoint_times_out_promptly(harness: Harness) -> None:
    harness.add("t", behavior="slow", delay=5)
    started = time.monotonic()
    outcome = harness.run("--timeout", "0.5")
    assert time.monotonic() - started < 3
    assert outcome.status("token", "t", "integration") == ("error", "timeout")
    assert outcome.code == 1


def test_an_unknown_oauth_error_name_is_could_not_tell_and_shown_when_safe(
    harness: Harness,
) -> None:
    harness.fake.add_behavior("throttled", token=lambda ctx: oauth_error_response("slow_down"))
    harness.add("t", behavior="throttled")
    outcome = harness.run()
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "oauth_error")
    assert "slow_down" in result["message"] and "cannot tell" in result["message"]
    assert "Retry later" in result["hint"]


@pytest.mark.parametrize(
    "name",
    ["<script>alert(1)</script>", "Invalid-Client", "x" * 41, "invalid_client\n", 42, ["a"]],
)
def test_an_unsafe_oauth_error_name_is_never_shown(harness: Harness, name: object) -> None:
    harness.fake.add_behavior(
        "odd", token=lambda ctx: json_response(400, {"error": name}, headers={})
    )
    harness.add("t", behavior="odd")
    outcome = harness.run()
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "oauth_error")
    assert "an unrecognised error name" in result["message"]
    if isinstance(name, str):
        assert name.strip() not in outcome.stdout


def test_an_ordinary_shared_pair_gets_one_token_request_without_tenant(harness: Harness) -> None:
    shared = harness.add("east", "production")
    harness.add("west", "production", client=shared)  # no enterprise_group: flagged, still tested
    outcome = harness.run("--concurrency", "4")
    assert outcome.status("api", "east", "production") == ("pass", None)
    assert outcome.status("api", "west", "production") == ("pass", None)
    (request,) = harness.fake.token_requests("production", shared.client_id)
    assert "tenant" not in request.form
    messages = [outcome.one("token", t, "production")["message"] for t in ("east", "west")]
    assert sum("reused" in message for message in messages) == 1


def test_an_enterprise_group_asks_one_token_per_tenant_with_the_tenant_field(
    harness: Harness,
) -> None:
    shared = harness.add("east", "production", group="hub")
    for name in ("west", "north", "south"):
        harness.add(name, "production", client=shared, group="hub")
    solo = harness.add("solo", "production")
    outcome = harness.run("--concurrency", "8")
    assert outcome.code == 0, outcome.stdout
    requests = harness.fake.token_requests("production", shared.client_id)
    tenant_ids = {
        name: str(harness.tenants[name]["environments"]["production"]["tenant_id"])
        for name in ("east", "west", "north", "south")
    }
    assert sorted(r.form["tenant"] for r in requests) == sorted(tenant_ids.values())
    (solo_request,) = harness.fake.token_requests("production", solo.client_id)
    assert "tenant" not in solo_request.form
    for name, tenant_id in tenant_ids.items():
        assert outcome.status("api", name, "production") == ("pass", None)
        message = outcome.one("token", name, "production")["message"]
        assert f"requested for tenant {tenant_id}" in message and "reused" not in message


def test_an_enterprise_hub_pair_without_enterprise_group_is_could_not_tell(
    harness: Harness,
) -> None:
    """The fake's Enterprise Hub client refuses a token request without `tenant`."""
    harness.add("t", "production", enterprise=True)
    outcome = harness.run()
    result = outcome.one("token", "t", "production")
    assert (result["status"], result["reason"]) == ("error", "invalid_request")
    assert "enterprise_group" in result["hint"]
    (request,) = harness.fake.token_requests("production")
    assert "tenant" not in request.form


def test_entries_sharing_a_slow_client_wait_for_one_request(harness: Harness) -> None:
    """Single flight: concurrent entries wait for the first token request, not race it."""
    shared = harness.add("a", "production", behavior="slow", delay=0.5)
    for name in ("b", "c", "d", "e", "f"):
        harness.add(name, "production", client=shared)
    outcome = harness.run("--concurrency", "6")
    for name in ("a", "b", "c", "d", "e", "f"):
        assert outcome.status("api", name, "production") == ("pass", None)
    assert len(harness.fake.token_requests("production", shared.client_id)) == 1


def test_token_is_skipped_when_credentials_do_not_resolve(harness: Harness) -> None:
    harness.add("t")
    harness.monkeypatch.delenv("T_T_INTE_SECRET")
    outcome = harness.run()
    assert outcome.status("credentials", "t", "integration") == ("fail", "unresolved_reference")
    assert outcome.status("token", "t", "integration") == ("skip", "depends_on_failure")
    assert outcome.status("api", "t", "integration") == ("skip", "depends_on_failure")
    assert harness.fake.received == []


def test_token_reports_unresolved_credentials_itself_when_credentials_is_skipped(
    harness: Harness,
) -> None:
    harness.add("t")
    harness.monkeypatch.delenv("T_T_INTE_SECRET")
    outcome = harness.run("--skip", "credentials")
    assert outcome.status("token", "t", "integration") == ("fail", "unresolved_reference")


def test_api_alone_fetches_its_own_token(harness: Harness) -> None:
    client = harness.add("t")
    outcome = harness.run("--select", "api")
    assert outcome.status("api", "t", "integration") == ("pass", None)
    assert len(harness.fake.token_requests("integration", client.client_id)) == 1


def test_scope_facts_hold_only_scope_names_never_a_value_sent(harness: Harness) -> None:
    client = FakeClient("integration")

    def echo(ctx: BehaviorContext) -> FakeResponse | None:
        sent = ctx.form["client_secret"]
        return ctx.issue_token(scope=f"tn.stt.businessunits:r {sent} <b>x</b> {sent[:12]}")

    harness.fake.add_behavior("echo_scope", token=echo)
    client.behavior = "echo_scope"
    harness.fake.add_client(client)
    harness.add("t", client=client)
    outcome = harness.run()
    result = outcome.one("token", "t", "integration")
    assert result["facts"] == {"scopes_stated": "yes", "scopes": ["tn.stt.businessunits:r"]}
    assert client.client_secret[:12] not in outcome.stdout

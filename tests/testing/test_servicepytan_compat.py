"""A real ServiceTitan client, servicepytan (PyPI), driven unchanged against the fake.

servicepytan is how many Python integrations talk to ServiceTitan; if it breaks
against ``stcheck.testing``, the fake is not faithful enough to test real code
with. It keeps the real host names (``https://auth-integration.servicetitan.io``
and ``https://api-integration.servicetitan.io``, port 443): name resolution
maps those two names to the fake on 127.0.0.1 (what curl's ``--resolve`` does,
plus the fake's port), TLS is verified against the fake's throwaway CA through
``REQUESTS_CA_BUNDLE``, and the network guard refuses anything beyond loopback.

What servicepytan 0.4.2 does that the fake must accept: a form-encoded token
request per API call, the token sent *without* ``Bearer``, page numbers as
strings, a JSON body ``{}`` on GETs, and 429s read as data with the wait parsed
from the title's "Try again in N seconds.".
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from stcheck.testing.fake import API_HOSTS, AUTH_HOSTS, FakeClient, FakeServiceTitan
from stcheck.testing.pytest_plugin import servicetitan_fake as servicetitan_fake
from tests.online.conftest import NetworkGuard

servicepytan = pytest.importorskip("servicepytan", reason="the test extra installs servicepytan")
from servicepytan.auth import get_auth_token, servicepytan_connect  # noqa: E402
from servicepytan.utils import endpoint_url, request_json_with_retry  # noqa: E402

TENANT = 4242424
ROUTED = {AUTH_HOSTS["integration"], API_HOSTS["integration"]}


@pytest.fixture
def fake(
    servicetitan_fake: FakeServiceTitan,
    network_guard: NetworkGuard,
    monkeypatch: pytest.MonkeyPatch,
) -> FakeServiceTitan:
    """The fake, reachable as the real integration hosts on port 443 (and nothing else)."""
    guarded = socket.getaddrinfo  # the network guard's: any other name still fails the test

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ROUTED and str(port) == "443":
            return guarded("127.0.0.1", servicetitan_fake.port, socket.AF_INET, socket.SOCK_STREAM)
        return guarded(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", servicetitan_fake.ca_bundle)
    return servicetitan_fake


def connect(fake: FakeServiceTitan, client: FakeClient, **override: str) -> dict[str, Any]:
    conn: dict[str, Any] = servicepytan_connect(
        api_environment="integration",
        app_key=fake.app_key,
        tenant_id=str(TENANT),
        client_id=client.client_id,
        client_secret=override.get("client_secret", client.client_secret),
    )
    assert conn["auth_root"] == "https://auth-integration.servicetitan.io"  # the real hosts
    assert conn["api_root"] == "https://api-integration.servicetitan.io"
    return conn


def test_token_request_and_invalid_client(fake: FakeServiceTitan) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    assert get_auth_token(connect(fake, client))
    [request] = fake.token_requests("integration", client.client_id)
    assert (request.status, request.host, request.form["grant_type"]) == (
        200,
        "auth-integration.servicetitan.io",
        "client_credentials",
    )
    with pytest.raises(requests.HTTPError) as failure:
        get_auth_token(connect(fake, client, client_secret="cs1.not-the-secret"))
    assert failure.value.response is not None
    assert failure.value.response.status_code == 400
    assert failure.value.response.json() == {"error": "invalid_client"}


def test_paginated_get_with_a_bare_token(fake: FakeServiceTitan) -> None:
    units = [{"id": n, "name": f"Unit {n}"} for n in range(1, 6)]
    fake.add_resource("settings/business-units", units, scope="tn.stt.businessunits:r")
    client = fake.add_client(
        FakeClient("integration", tenants={TENANT}, scopes="tn.stt.businessunits:r")
    )
    endpoint = servicepytan.Endpoint("settings", "business-units", conn=connect(fake, client))
    assert endpoint.get_all({"pageSize": 2}) == units
    calls = fake.api_requests("integration", tenant=TENANT)
    assert [(r.status, r.query["page"]) for r in calls] == [(200, "1"), (200, "2"), (200, "3")]
    # servicepytan sends the token bare, as ServiceTitan's own cURL example does
    assert all(not r.headers["authorization"].lower().startswith("bearer") for r in calls)
    assert all(r.headers["st-app-key"] == fake.app_key for r in calls)


def test_rate_limited_call_is_retried_after_the_wait_in_the_title(fake: FakeServiceTitan) -> None:
    client = fake.add_client(
        FakeClient(
            "integration",
            tenants={TENANT},
            behavior="probe_rate_limited",
            rate_limit_times=1,
            retry_after=1,
        )
    )
    conn = connect(fake, client)
    url = endpoint_url("settings", "business-units", conn=conn)
    page = request_json_with_retry(url, options={"pageSize": 1}, conn=conn)
    assert page["data"] == [{"id": 1, "name": "Main"}]
    first, second = fake.api_requests("integration", tenant=TENANT)
    assert (first.status, second.status) == (429, 200)
    assert second.time - first.time >= 1.0  # it waited the N seconds the title named

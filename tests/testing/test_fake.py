"""FakeServiceTitan over real TLS with requests: token endpoint, API, behaviours, records.

Every connection goes to 127.0.0.1: a small transport adapter routes the four
ServiceTitan host names to the fake's port while keeping them for SNI, the
``Host`` header and certificate verification (what curl's ``--resolve`` does).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool

from stcheck.servicetitan_scopes import PROBE_SCOPES
from stcheck.testing.fake import (
    API_HOSTS,
    AUTH_HOSTS,
    HOSTS,
    TITLE_INVALID_APP_KEY,
    TITLE_INVALID_TOKEN,
    TITLE_MISSING_APP_KEY,
    TITLE_MISSING_TOKEN,
    TITLE_TENANT_FORBIDDEN,
    BehaviorContext,
    FakeClient,
    FakeResponse,
    FakeServiceTitan,
    html_response,
)
from stcheck.testing.pytest_plugin import servicetitan_fake as servicetitan_fake
from stcheck.testing.pytest_plugin import (
    servicetitan_fake_session as servicetitan_fake_session,
)

TENANT = 1234567
PROBE = "/settings/v2/tenant/{tenant}/business-units?pageSize=1"


class ResolveAdapter(HTTPAdapter):
    """Send requests for the ServiceTitan hosts to the fake on 127.0.0.1, verifying TLS."""

    def __init__(self, fake: FakeServiceTitan) -> None:
        self._fake = fake
        super().__init__(max_retries=0)

    def get_connection_with_tls_context(
        self,
        request: requests.PreparedRequest,
        verify: Any,
        proxies: Any = None,
        cert: Any = None,
    ) -> HTTPConnectionPool:
        host = urlsplit(request.url).hostname
        if host not in HOSTS:
            raise AssertionError(f"a test tried to reach {host!r}")
        return self.poolmanager.connection_from_host(
            "127.0.0.1",
            self._fake.port,
            scheme="https",
            pool_kwargs={
                "server_hostname": host,
                "assert_hostname": host,
                "ca_certs": self._fake.ca_bundle,
                "cert_reqs": "CERT_REQUIRED",
            },
        )

    def add_headers(self, request: requests.PreparedRequest, **kwargs: Any) -> None:
        request.headers["Host"] = urlsplit(request.url).netloc


@pytest.fixture
def fake(servicetitan_fake: FakeServiceTitan) -> FakeServiceTitan:
    return servicetitan_fake


@pytest.fixture
def session(fake: FakeServiceTitan) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.trust_env = False  # no proxies, no .netrc: only ever 127.0.0.1
        s.verify = fake.ca_bundle
        s.mount("https://", ResolveAdapter(fake))
        s.mount("http://", ResolveAdapter(fake))
        yield s


def token_url(environment: str) -> str:
    return f"https://{AUTH_HOSTS[environment]}/connect/token"


def api_url(environment: str, path: str) -> str:
    return f"https://{API_HOSTS[environment]}{path}"


def get_token(
    session: requests.Session, client: FakeClient, environment: str | None = None
) -> requests.Response:
    return session.post(
        token_url(environment or client.environment),
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
        },
        allow_redirects=False,
        timeout=10,
    )


def probe(
    session: requests.Session,
    fake: FakeServiceTitan,
    token: str | None,
    *,
    environment: str = "integration",
    tenant: int = TENANT,
    app_key: str | None = "default",
    path: str = PROBE,
) -> requests.Response:
    headers = {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if app_key is not None:
        headers["ST-App-Key"] = fake.app_key if app_key == "default" else app_key
    return session.get(
        api_url(environment, path.format(tenant=tenant)),
        headers=headers,
        allow_redirects=False,
        timeout=10,
    )


def access_token(session: requests.Session, client: FakeClient) -> str:
    response = get_token(session, client)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert isinstance(token, str)
    return token


# ---------------------------------------------------------------- token endpoint


@pytest.mark.parametrize("environment", ["integration", "production"])
def test_token_ok(fake: FakeServiceTitan, session: requests.Session, environment: str) -> None:
    client = fake.add_client(FakeClient(environment, tenants={TENANT}, scopes="a:r b:w"))
    response = get_token(session, client)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert body["expires_in"] == 900
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "a:r b:w"
    assert len(body["access_token"]) >= 32
    assert get_token(session, client).json()["access_token"] != body["access_token"]


def test_client_defaults_look_like_servicetitan_credentials(fake: FakeServiceTitan) -> None:
    client = fake.add_client(environment="production", tenants={1})
    assert client.client_id.startswith("cid.")
    assert client.client_secret.startswith("cs1.")
    assert fake.app_key.startswith("ak1.")
    assert client.client_secret not in repr(client)


@pytest.mark.parametrize("wrong", ["secret", "id"])
def test_invalid_client(fake: FakeServiceTitan, session: requests.Session, wrong: str) -> None:
    client = fake.add_client(FakeClient("integration"))
    data = {
        "grant_type": "client_credentials",
        "client_id": client.client_id + ("x" if wrong == "id" else ""),
        "client_secret": client.client_secret + ("x" if wrong == "secret" else ""),
    }
    response = session.post(token_url("integration"), data=data, timeout=10)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_client"}


def test_pair_from_other_environment_is_rejected(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    integration = fake.add_client(FakeClient("integration", tenants={TENANT}))
    response = get_token(session, integration, environment="production")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_client"
    assert get_token(session, integration).status_code == 200


@pytest.mark.parametrize(
    ("case", "error"),
    [
        # IdentityServer's answers (TokenEndpoint.cs, TokenRequestValidator.cs)
        ("json_body", "invalid_request"),
        ("get", "invalid_request"),
        ("no_grant_type", "unsupported_grant_type"),
        ("unknown_grant", "unsupported_grant_type"),
        ("no_secret", "invalid_client"),
        ("no_client_id", "invalid_client"),
        ("empty_body", "invalid_client"),
        ("bad_client_before_bad_grant", "invalid_client"),
        ("password_grant", "unauthorized_client"),
        ("refresh_grant", "invalid_request"),
        ("scope_not_allowed", "invalid_scope"),
        # stricter than IdentityServer, on purpose
        ("repeated_field", "invalid_request"),
    ],
)
def test_malformed_token_requests(
    fake: FakeServiceTitan, session: requests.Session, case: str, error: str
) -> None:
    client = fake.add_client(FakeClient("integration"))
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    kwargs: dict[str, Any] = {"data": form}
    method = "POST"
    if case == "json_body":
        kwargs = {"json": form}
    elif case == "get":
        method, kwargs = "GET", {"params": form}
    elif case == "no_grant_type":
        del form["grant_type"]
    elif case == "unknown_grant":
        form["grant_type"] = "client_credential"
    elif case == "no_secret":
        del form["client_secret"]
    elif case == "no_client_id":
        del form["client_id"]
    elif case == "repeated_field":
        kwargs = {"data": [*form.items(), ("client_id", client.client_id)]}
    elif case == "empty_body":
        kwargs = {"headers": {"Content-Type": "application/x-www-form-urlencoded"}}
    elif case == "bad_client_before_bad_grant":
        form.update(grant_type="password", client_secret="cs1.wrong")
    elif case == "password_grant":
        form["grant_type"] = "password"
    elif case == "refresh_grant":
        form["grant_type"] = "refresh_token"
    elif case == "scope_not_allowed":
        form["scope"] = "tn.stt.businessunits:r tn.acc.invoices:w"
    response = session.request(method, token_url("integration"), timeout=10, **kwargs)
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    assert response.json()["error"] == error
    assert client.token_calls == 0


@pytest.mark.parametrize("encode", [False, True])
def test_client_secret_basic_is_accepted(
    fake: FakeServiceTitan, session: requests.Session, encode: bool
) -> None:
    # IdentityServer's BasicAuthenticationSecretParser runs before the form fields are read.
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    client_id, secret = client.client_id, client.client_secret
    if encode:  # RFC 6749 section 2.3.1: each part form-urlencoded first
        client.client_secret = secret = "cs1.with:colon+plus sp"
        user = requests.utils.quote(client_id, safe="")
        password = requests.utils.quote(secret, safe="")
    else:
        user, password = client_id, secret
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    response = session.post(
        token_url("integration"),
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    assert fake.token_requests(client_id=client_id)[0].status == 200
    wrong = base64.b64encode(f"{client_id}:cs1.wrong".encode()).decode()
    refused = session.post(
        token_url("integration"),
        data={"grant_type": "client_credentials", "client_secret": secret},
        headers={"Authorization": f"Basic {wrong}"},
        timeout=10,
    )
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_client"})


def test_requested_scope_narrows_the_token(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    response = session.post(
        token_url("integration"),
        data={
            "grant_type": "client_credentials",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "scope": "tn.stt.tagtypes:r",
        },
        timeout=10,
    )
    assert response.json()["scope"] == "tn.stt.tagtypes:r"
    token = response.json()["access_token"]
    tags = "/settings/v2/tenant/{tenant}/tag-types?pageSize=1"
    assert probe(session, fake, token, path=tags).status_code == 200
    assert probe(session, fake, token).status_code == 403  # business-units needs its own scope


def test_token_endpoint_only_serves_post_connect_token(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    refused = session.get(token_url("production"), timeout=10)
    assert (refused.status_code, refused.json()) == (400, {"error": "invalid_request"})
    other = session.post("https://auth.servicetitan.io/oauth2/token", data={}, timeout=10)
    assert other.status_code == 404


# -------------------------------------------------------------- token behaviours


def test_rate_limited_then_ok(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(
        FakeClient("production", behavior="rate_limited", rate_limit_times=2, retry_after=3)
    )
    first, second, third = (get_token(session, client) for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [429, 429, 200]
    assert first.headers["Retry-After"] == "3"
    assert first.json()["status"] == 429
    assert first.json()["title"].endswith("Try again in 3 seconds.")
    assert "access_token" in third.json()
    assert client.token_calls == 3


def test_server_error_html(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", behavior="server_error_html"))
    response = get_token(session, client)
    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.lstrip().startswith("<!DOCTYPE html>")


def test_malformed_json(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", behavior="malformed_json"))
    response = get_token(session, client)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        json.loads(response.text)


def test_json_without_access_token(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", behavior="missing_access_token"))
    body = get_token(session, client).json()
    assert "access_token" not in body
    assert body["token_type"] == "Bearer"


def test_redirect_to_foreign_host(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("production", behavior="redirect"))
    response = get_token(session, client)
    assert response.status_code == 302
    assert response.headers["Location"] == "https://evil.example/connect/token"
    client.redirect_status = 307
    assert get_token(session, client).status_code == 307
    assert fake.foreign_requests() == []


def test_slow(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", behavior="slow", delay=0.3))
    started = time.monotonic()
    assert get_token(session, client).status_code == 200
    assert time.monotonic() - started >= 0.3


def test_bad_token_type_and_short_expiry(fake: FakeServiceTitan, session: requests.Session) -> None:
    mac = fake.add_client(FakeClient("integration", behavior="bad_token_type"))
    short = fake.add_client(FakeClient("integration", behavior="short_expiry"))
    assert get_token(session, mac).json()["token_type"] == "mac"
    assert get_token(session, short).json()["expires_in"] == 60


@pytest.mark.parametrize("error", ["unauthorized_client", "invalid_scope"])
def test_oauth_error_behaviours(
    fake: FakeServiceTitan, session: requests.Session, error: str
) -> None:
    client = fake.add_client(FakeClient("production", behavior=error))
    response = get_token(session, client)
    assert (response.status_code, response.json()) == (400, {"error": error})


def test_drop_connection(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("production", behavior="drop_connection"))
    with pytest.raises(requests.ConnectionError):
        get_token(session, client)


def test_combined_behaviours(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(
        FakeClient("production", behavior="slow+rate_limited", delay=0.1, retry_after=7)
    )
    started = time.monotonic()
    response = get_token(session, client)
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert time.monotonic() - started >= 0.1


def test_custom_behaviour(fake: FakeServiceTitan, session: requests.Session) -> None:
    def flaky(ctx: BehaviorContext) -> FakeResponse | None:
        return html_response(502) if ctx.attempt == 1 else None

    fake.add_behavior("flaky", token=flaky, doc="First token request gets a 502.")
    client = fake.add_client(FakeClient("production", behavior="flaky"))
    assert [get_token(session, client).status_code for _ in range(2)] == [502, 200]


def test_unknown_behaviour_is_refused(fake: FakeServiceTitan) -> None:
    with pytest.raises(ValueError, match="unknown behaviour"):
        fake.add_client(FakeClient("production", behavior="sluggish"))


def test_error_in_custom_behaviour_is_a_500_and_kept(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    def broken(ctx: BehaviorContext) -> FakeResponse | None:
        raise RuntimeError("boom")

    fake.add_behavior("broken", token=broken)
    client = fake.add_client(FakeClient("production", behavior="broken"))
    assert get_token(session, client).status_code == 500
    assert [str(e) for e in fake.errors] == ["boom"]


def test_jwt_tokens_carry_claims(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(
        FakeClient(
            "production", tenants={TENANT}, scopes="tn.stt.businessunits:r y:r", token_format="jwt"
        )
    )
    token = access_token(session, client)
    _header, claims, _signature = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    assert payload["client_id"] == client.client_id
    assert payload["tenant"] == str(TENANT)
    assert payload["scope"] == ["tn.stt.businessunits:r", "y:r"]
    assert payload["exp"] - payload["iat"] == 900
    assert payload["iss"] == "https://auth.servicetitan.io"
    assert probe(session, fake, token, environment="production").status_code == 200


# ---------------------------------------------------------------------- the API


def test_probe_ok(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    response = probe(session, fake, access_token(session, client))
    assert response.status_code == 200
    assert response.json() == {
        "page": 1,
        "pageSize": 1,
        "hasMore": False,
        "totalCount": None,
        "data": [{"id": 1, "name": "Main"}],
    }
    assert client.probe_calls == 1


def _assert_problem(response: requests.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status
    # the specs declare application/json for error bodies, not application/problem+json
    assert response.headers["Content-Type"].split(";")[0] == "application/json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "traceId"} <= set(body)
    assert body["status"] == status
    return body


def test_probe_without_app_key_is_401(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    token = access_token(session, client)
    missing = _assert_problem(probe(session, fake, token, app_key=None), 401)
    wrong = _assert_problem(probe(session, fake, token, app_key="ak1.wrong"), 401)
    assert missing["title"] == "Application key not present, check ST-App-Key header value."
    assert missing["title"] == TITLE_MISSING_APP_KEY
    assert wrong["title"] == TITLE_INVALID_APP_KEY


def test_app_key_is_checked_before_the_token(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    for token in (None, "not-a-token"):
        body = _assert_problem(probe(session, fake, token, app_key=None), 401)
        assert body["title"] == TITLE_MISSING_APP_KEY
    assert _assert_problem(probe(session, fake, None), 401)["title"] == TITLE_MISSING_TOKEN


@pytest.mark.parametrize("form", ["Bearer {}", "bearer {}", "{}"])
def test_bearer_or_bare_token_is_accepted(
    fake: FakeServiceTitan, session: requests.Session, form: str
) -> None:
    # ServiceTitan's own cURL example and servicepytan send the token without "Bearer".
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    token = access_token(session, client)
    response = session.get(
        api_url("integration", PROBE.format(tenant=TENANT)),
        headers={"Authorization": form.format(token), "ST-App-Key": fake.app_key},
        timeout=10,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("resource", "scope"),
    [
        ("settings/business-units", "tn.stt.businessunits:r"),
        ("settings/tag-types", "tn.stt.tagtypes:r"),
        ("jpm/job-types", "tn.jpm.jobtypes:r"),
    ],
)
def test_default_resources_need_their_scope(
    fake: FakeServiceTitan, session: requests.Session, resource: str, scope: str
) -> None:
    module, _, name = resource.partition("/")
    path = f"/{module}/v2/tenant/{{tenant}}/{name}?pageSize=1&includeTotal=true"
    granted = fake.add_client(FakeClient("integration", tenants={TENANT}, scopes=scope))
    page = probe(session, fake, access_token(session, granted), path=path)
    assert page.status_code == 200, page.text
    body = page.json()
    assert list(body) == ["page", "pageSize", "hasMore", "totalCount", "data"]
    assert (body["page"], body["pageSize"], len(body["data"])) == (1, 1, 1)
    assert body["hasMore"] is (body["totalCount"] > 1)
    others = " ".join(s for s in fake.clients[0].scopes.split() if s != scope)
    lacking = fake.add_client(FakeClient("integration", tenants={TENANT}, scopes=others))
    denied = _assert_problem(probe(session, fake, access_token(session, lacking), path=path), 403)
    assert denied["title"] == "Provided authentication is insufficient to grant access."


def test_probe_token_problems_are_401_with_distinct_titles(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    token = access_token(session, client)
    no_token = _assert_problem(probe(session, fake, None), 401)
    bogus = _assert_problem(probe(session, fake, "not-a-token"), 401)
    other_env = _assert_problem(probe(session, fake, token, environment="production"), 401)
    assert no_token["title"] == TITLE_MISSING_TOKEN
    assert bogus["title"] == other_env["title"] == TITLE_INVALID_TOKEN
    assert TITLE_INVALID_APP_KEY not in (no_token["title"], bogus["title"])
    assert fake.revoke_tokens(client_id=client.client_id) == 1
    assert _assert_problem(probe(session, fake, token), 401)["title"] == TITLE_INVALID_TOKEN


def test_probe_tenant_not_allowed_is_403(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    token = access_token(session, client)
    body = _assert_problem(probe(session, fake, token, tenant=TENANT + 1), 403)
    assert body["title"] == TITLE_TENANT_FORBIDDEN


def test_default_resources_need_the_scope_of_stchecks_table(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    jobs_only = fake.add_client(
        FakeClient("integration", tenants={TENANT}, scopes="tn.jpm.jobtypes:r")
    )
    token = access_token(session, jobs_only)
    for resource, scope in PROBE_SCOPES.items():
        module, _, name = resource.partition("/")
        response = probe(session, fake, token, path=f"/{module}/v2/tenant/{{tenant}}/{name}")
        assert response.status_code == (200 if scope == "tn.jpm.jobtypes:r" else 403), resource


def test_enterprise_hub_token_needs_a_tenant_and_is_bound_to_it(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    group = {TENANT, TENANT + 1}
    client = fake.add_client(FakeClient("production", tenants=group, enterprise=True))
    refused = get_token(session, client)
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_request"
    form = {
        "grant_type": "client_credentials",
        "client_id": client.client_id,
        "client_secret": client.client_secret,
    }
    response = session.post(
        token_url("production"), data={**form, "tenant": str(TENANT)}, timeout=10
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    assert probe(session, fake, token, environment="production").status_code == 200
    other = probe(session, fake, token, environment="production", tenant=TENANT + 1)
    assert _assert_problem(other, 403)["title"] == TITLE_TENANT_FORBIDDEN
    # A tenant outside the group gets a token that works nowhere.
    outside = session.post(
        token_url("production"), data={**form, "tenant": str(TENANT + 9)}, timeout=10
    ).json()["access_token"]
    outside_probe = probe(session, fake, outside, environment="production", tenant=TENANT + 9)
    assert outside_probe.status_code == 403
    # An ordinary client ignores the field: its token serves all of its tenants.
    plain = fake.add_client(FakeClient("production", tenants=group))
    plain_form = {**form, "client_id": plain.client_id, "client_secret": plain.client_secret}
    plain_token = session.post(
        token_url("production"), data={**plain_form, "tenant": str(TENANT)}, timeout=10
    ).json()["access_token"]
    for tenant in group:
        ok = probe(session, fake, plain_token, environment="production", tenant=tenant)
        assert ok.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/nosuchmodule/v2/tenant/{tenant}/business-units",
        "/settings/v2/tenant/{tenant}/no-such-resource",
        "/settings/v1/tenant/{tenant}/business-units",
        "/",
    ],
)
def test_unknown_path_is_404(fake: FakeServiceTitan, session: requests.Session, path: str) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    _assert_problem(probe(session, fake, access_token(session, client), path=path), 404)


def test_added_resource_and_scope(fake: FakeServiceTitan, session: requests.Session) -> None:
    fake.add_resource("jpm/jobs", [{"id": n} for n in range(3)], scope="tn.jpm.jobs:r")
    allowed = fake.add_client(FakeClient("integration", tenants={TENANT}, scopes="tn.jpm.jobs:r"))
    denied = fake.add_client(FakeClient("integration", tenants={TENANT}))
    path = "/jpm/v2/tenant/{tenant}/jobs?pageSize=2"
    ok = probe(session, fake, access_token(session, allowed), path=path)
    assert ok.json()["data"] == [{"id": 0}, {"id": 1}]
    assert (ok.json()["hasMore"], ok.json()["totalCount"]) == (True, None)
    _assert_problem(probe(session, fake, access_token(session, denied), path=path), 403)


def test_probe_behaviours(fake: FakeServiceTitan, session: requests.Session) -> None:
    def client_with(behavior: str, **kw: Any) -> str:
        client = fake.add_client(
            FakeClient("integration", tenants={TENANT}, behavior=behavior, **kw)
        )
        return access_token(session, client)

    _assert_problem(probe(session, fake, client_with("probe_forbidden")), 403)
    _assert_problem(probe(session, fake, client_with("probe_unauthorized")), 401)
    error = probe(session, fake, client_with("probe_server_error"))
    assert error.status_code == 500
    assert error.headers["Content-Type"].startswith("text/html")
    limited = client_with("probe_rate_limited", rate_limit_times=1, retry_after=2)
    first = probe(session, fake, limited)
    assert (first.status_code, first.headers["Retry-After"]) == (429, "2")
    assert _assert_problem(first, 429)["title"] == "Rate limit is exceeded. Try again in 2 seconds."
    assert probe(session, fake, limited).status_code == 200
    redirect = probe(session, fake, client_with("probe_redirect"))
    assert redirect.status_code == 302
    assert urlsplit(redirect.headers["Location"]).hostname == "evil.example"


def test_app_key_in_query_is_not_accepted(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    path = PROBE + "&servicetitanapplicationkey=" + fake.app_key
    response = probe(session, fake, access_token(session, client), app_key=None, path=path)
    assert _assert_problem(response, 401)["title"] == TITLE_MISSING_APP_KEY


# ---------------------------------------------------------------- hosts and TLS


def _raw_pool(fake: FakeServiceTitan, sni: str = "auth.servicetitan.io") -> HTTPConnectionPool:
    return urllib3.HTTPSConnectionPool(
        "127.0.0.1",
        fake.port,
        server_hostname=sni,
        assert_hostname=sni,
        ca_certs=fake.ca_bundle,
        cert_reqs="CERT_REQUIRED",
        retries=False,
    )


def test_foreign_host_is_421_and_recorded(fake: FakeServiceTitan) -> None:
    with _raw_pool(fake) as pool:
        foreign = pool.request("GET", "/connect/token", headers={"Host": "evil.example"})
        mismatch = pool.request("GET", "/", headers={"Host": "api.servicetitan.io"})
    assert foreign.status == mismatch.status == 421
    records = fake.foreign_requests()
    assert [(r.host, r.sni) for r in records] == [
        ("evil.example", "auth.servicetitan.io"),
        ("api.servicetitan.io", "auth.servicetitan.io"),
    ]


def test_host_header_with_port_is_accepted(fake: FakeServiceTitan) -> None:
    client = fake.add_client(FakeClient("production"))
    body = f"grant_type=client_credentials&client_id={client.client_id}&client_secret="
    with _raw_pool(fake) as pool:
        response = pool.request(
            "POST",
            "/connect/token",
            body=body + client.client_secret,
            headers={
                "Host": f"auth.servicetitan.io:{fake.port}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
    assert response.status == 200


def test_certificate_names_every_host_and_nothing_else(fake: FakeServiceTitan) -> None:
    for host in HOSTS:
        with _raw_pool(fake, sni=host) as pool:
            assert pool.request("GET", "/", headers={"Host": host}).status == 404
    with _raw_pool(fake, sni="evil.example") as pool, pytest.raises(urllib3.exceptions.SSLError):
        pool.request("GET", "/", headers={"Host": "evil.example"})


def test_where_it_listens(fake: FakeServiceTitan) -> None:
    port = fake.port
    assert fake.address == ("127.0.0.1", port)
    assert fake.resolve == [f"{host}:{port}:127.0.0.1" for host in HOSTS]
    assert fake.base_url("api.servicetitan.io") == f"https://api.servicetitan.io:{port}"
    assert fake.token_url("integration") == (
        f"https://auth-integration.servicetitan.io:{port}/connect/token"
    )
    args = fake.cli_args()
    assert args[:2] == ["--ca-bundle", fake.ca_bundle]
    assert args.count("--resolve") == 4
    with open(fake.ca_bundle) as pem:
        assert pem.read().startswith("-----BEGIN CERTIFICATE-----")
    with pytest.raises(ValueError):
        fake.base_url("example.com")


def test_stop_is_prompt_with_idle_keepalive_and_removes_ca(session: requests.Session) -> None:
    fake = FakeServiceTitan()
    fake.start()
    adapter = ResolveAdapter(fake)
    session.mount("https://", adapter)
    session.verify = fake.ca_bundle
    client = fake.add_client(FakeClient("integration"))
    assert get_token(session, client).status_code == 200  # leaves an idle connection open
    ca_bundle = fake.ca_bundle
    started = time.monotonic()
    fake.stop()
    assert time.monotonic() - started < 2
    assert not fake.running
    assert not os.path.exists(ca_bundle)
    with pytest.raises(RuntimeError):
        _ = fake.port
    fake.stop()  # idempotent
    adapter.close()


# -------------------------------------------------------------------- recording


def test_recording(fake: FakeServiceTitan, session: requests.Session) -> None:
    a = fake.add_client(FakeClient("integration", tenants={TENANT}))
    b = fake.add_client(FakeClient("production", tenants={7}))
    token_a = access_token(session, a)
    access_token(session, b)
    probe(session, fake, token_a, path=PROBE)
    stranger = FakeClient("production")  # never registered
    get_token(session, stranger)

    assert len(fake.received) == 4
    assert [r.client_id for r in fake.token_requests()] == [
        a.client_id,
        b.client_id,
        stranger.client_id,
    ]
    assert len(fake.token_requests("production")) == 2
    assert len(fake.token_requests(client_id=a.client_id)) == 1
    (token_record,) = fake.token_requests("integration", a.client_id)
    assert token_record.method == "POST"
    assert token_record.host == "auth-integration.servicetitan.io"
    assert token_record.path == "/connect/token"
    assert token_record.form["client_secret"] == a.client_secret
    assert token_record.headers["content-type"] == "application/x-www-form-urlencoded"
    assert token_record.status == 200
    assert token_record.sni == "auth-integration.servicetitan.io"
    assert a.client_secret not in repr(token_record)

    (api_record,) = fake.api_requests(tenant=TENANT)
    assert api_record.client_id == a.client_id
    assert api_record.environment == "integration"
    assert api_record.query == {"pageSize": "1"}
    assert api_record.headers["st-app-key"] == fake.app_key
    assert api_record.headers["authorization"] == f"Bearer {token_a}"
    assert token_a not in repr(api_record) and fake.app_key not in repr(api_record)
    assert fake.api_requests("production") == []
    assert fake.token_requests()[-1].status == 400

    fake.reset_records()
    assert fake.received == []


def test_latency(fake: FakeServiceTitan, session: requests.Session) -> None:
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    fake.latency = 0.2
    started = time.monotonic()
    assert get_token(session, client).status_code == 200
    assert time.monotonic() - started >= 0.2


def test_keepalive_reuse_has_no_delayed_ack_stall(
    fake: FakeServiceTitan, session: requests.Session
) -> None:
    # Without one write per response and TCP_NODELAY, each request on a reused
    # connection waits ~40 ms for a delayed ACK: 20 requests would take ~0.8 s.
    client = fake.add_client(FakeClient("integration", tenants={TENANT}))
    token = access_token(session, client)
    started = time.monotonic()
    for _ in range(20):
        assert probe(session, fake, token).status_code == 200
    elapsed = time.monotonic() - started
    assert elapsed < 0.4, f"20 keep-alive requests took {elapsed:.3f}s"
    assert len({r.connection_id for r in fake.api_requests()}) == 1


def test_session_fixture(servicetitan_fake_session: FakeServiceTitan) -> None:
    assert servicetitan_fake_session.running
    client = servicetitan_fake_session.add_client(FakeClient("production"))
    assert servicetitan_fake_session.client("production", client.client_id) is client


def test_plugin_import_is_cheap() -> None:
    code = (
        "import sys, stcheck.testing.pytest_plugin as p\n"
        "assert hasattr(p, 'servicetitan_fake') and hasattr(p, 'servicetitan_fake_session')\n"
        "heavy = {'trustme', 'cryptography', 'requests', 'stcheck.testing.fake'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root
    ).stdout
    assert out.strip() == "[]"


def test_lazy_reexports() -> None:
    import stcheck.testing

    assert stcheck.testing.FakeServiceTitan is FakeServiceTitan
    with pytest.raises(AttributeError):
        _ = stcheck.testing.NoSuchThing  # type: ignore[attr-defined]

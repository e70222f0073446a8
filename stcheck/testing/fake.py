"""A fake ServiceTitan for tests, demos and benchmarks: real HTTPS on loopback.

:class:`FakeServiceTitan` runs one HTTPS server on ``127.0.0.1`` (a random port,
never any other address) that answers for all four ServiceTitan hosts at once
and tells them apart by the ``Host`` header, just like a gateway would:

======================================  ==========================================
``auth-integration.servicetitan.io``    ``POST /connect/token`` (integration)
``auth.servicetitan.io``                ``POST /connect/token`` (production)
``api-integration.servicetitan.io``     ``GET /{module}/v2/tenant/{tenant}/...``
``api.servicetitan.io``                 the same, production
======================================  ==========================================

Its certificate is issued at start by a throwaway CA made with ``trustme``; the
CA's PEM file is :attr:`FakeServiceTitan.ca_bundle`. Clients keep the real host
names (so SNI, ``Host`` and certificate checks are exercised) and route them to
the fake the way curl's ``--resolve`` does: :attr:`FakeServiceTitan.resolve` is a
list of ``"auth.servicetitan.io:PORT:127.0.0.1"`` strings, and
:meth:`FakeServiceTitan.cli_args` gives ``--ca-bundle``/``--resolve`` options ready
for the ``stcheck`` command line.

Usage::

    from stcheck.testing.fake import FakeClient, FakeServiceTitan

    with FakeServiceTitan() as fake:
        client = fake.add_client(FakeClient("integration", tenants={1234567}))
        fake.add_client(FakeClient("production", tenants={9876543}, behavior="rate_limited"))
        env = {
            "ST_APP_KEY": fake.app_key,
            "GP_INT_CLIENT_ID": client.client_id,
            "GP_INT_CLIENT_SECRET": client.client_secret,
        }
        ...  # run the code under test with fake.cli_args() / fake.ca_bundle / fake.resolve
        assert len(fake.token_requests("integration", client.client_id)) == 1
        assert fake.api_requests(tenant=1234567)[0].headers["st-app-key"] == fake.app_key

In a pytest suite, the ``servicetitan_fake`` fixture (from the ``stcheck`` pytest
plugin, :mod:`stcheck.testing.pytest_plugin`) yields a started fake.

What it checks, like the real service (a real client such as servicepytan runs
against it unchanged; ``tests/testing/test_servicepytan_compat.py`` holds that):

* Token endpoint, answering mistakes as the IdentityServer software ServiceTitan
  runs does (its ``TokenEndpoint`` and ``TokenRequestValidator``), in its order:
  anything but a ``POST`` with an ``application/x-www-form-urlencoded`` body
  (a ``GET``, a JSON body) is ``400 invalid_request``; then the client is
  authenticated, from HTTP Basic (``client_secret_basic``, both parts
  form-urlencoded) or else the ``client_id``/``client_secret`` form fields — a
  missing, wrong or unknown pair, or a pair registered in the *other*
  environment, is ``400 {"error": "invalid_client"}``; then the grant: a missing
  ``grant_type`` or an unknown one is ``400 unsupported_grant_type``,
  ``authorization_code``/``password``/device code ``unauthorized_client``,
  ``refresh_token`` ``invalid_request`` or ``invalid_grant``; a ``scope`` field
  asking for more than the client's scopes is ``invalid_scope`` (a narrower one
  narrows the token). An Enterprise Hub client (``FakeClient(enterprise=True)``)
  must also send ``tenant=<tenant ID>`` (else ``400 invalid_request``: the one
  public client supporting Enterprise Hub sends it as required); its token is
  bound to that tenant. Other clients' ``tenant`` fields are ignored. Success
  is ``200 {"access_token", "expires_in": 900, "token_type": "Bearer", "scope"}``.
  Every answer is ``application/json`` with ``Cache-Control: no-store`` and
  ``Pragma: no-cache``.
* API: ``ST-App-Key`` first — absent is ``401`` titled
  :data:`TITLE_MISSING_APP_KEY` (ServiceTitan's own words), not
  :attr:`FakeServiceTitan.app_key` is ``401`` :data:`TITLE_INVALID_APP_KEY`; then
  the token, sent as ``Authorization: Bearer <token>`` or bare as
  ``Authorization: <token>`` (ServiceTitan's cURL example and servicepytan send
  it so, and the service accepts both), issued by this fake for the same
  environment and not expired (else ``401``); the token's client allowed for the
  tenant in the path, and an Enterprise Hub token's own tenant (else ``403``);
  the token carrying the resource's scope
  (else ``403``; the default resources and their scopes are
  :data:`stcheck.servicetitan_scopes.PROBE_SCOPES`, e.g. ``settings/business-units``
  needs ``tn.stt.businessunits:r``); a known module and resource (else ``404``).
  Errors are RFC 7807-shaped JSON (``type, title, status, traceId, errors, data``)
  sent as ``application/json``, as the specs declare. A 429 is titled
  ``Rate limit is exceeded. Try again in N seconds.`` with ``Retry-After: N``
  (:func:`rate_limited_title`). Success is ``200 {"page": P, "pageSize": N,
  "hasMore": …, "totalCount": null, "data": [...]}`` where N is the
  ``pageSize`` query parameter (default 50) and ``totalCount`` is filled in with
  ``includeTotal=true``.

Where the fake is stricter than the real service, on purpose, so that client
bugs fail loudly in tests: a repeated form field or a body that is not valid
form encoding is ``invalid_request`` (IdentityServer would join repeated values
with commas, or drop what it cannot parse); the app key in the
``servicetitanapplicationkey`` query parameter is *not* accepted (the real API
management layer may accept it; a client that leaks the key into URLs should
fail); tokens are checked against this fake's own records (an opaque or
unsigned JWT, no signature); and the wording of :data:`TITLE_INVALID_APP_KEY`,
:data:`TITLE_MISSING_TOKEN`, :data:`TITLE_INVALID_TOKEN` and
:data:`TITLE_TENANT_FORBIDDEN` is the fake's own (the real ones are not known).
* Any other ``Host`` gets ``421 Misdirected Request``, as does a request whose
  TLS SNI names a different host than its ``Host`` header. Everything is
  recorded (:attr:`FakeServiceTitan.received`).

Scripting a client: :class:`FakeClient` has a ``behavior`` name (several may be
joined with ``+``, e.g. ``"slow+rate_limited"``). The built-in behaviours are in
:data:`DEFAULT_BEHAVIORS` (``ok``, ``rate_limited``, ``server_error_html``,
``malformed_json``, ``missing_access_token``, ``redirect``, ``slow``,
``bad_token_type``, ``short_expiry``, ``unauthorized_client``, ``invalid_scope``,
``drop_connection``, ``probe_forbidden``, ``probe_unauthorized``,
``probe_server_error``, ``probe_rate_limited``, ``probe_slow``,
``probe_redirect``, ``probe_malformed_json``, and the slowloris modes
``trickle_status``, ``trickle_headers``, ``trickle_body`` for the token endpoint
and ``probe_trickle_status``, ``probe_trickle_headers``, ``probe_trickle_body``
for the API, which send that part of a valid answer one byte at a time at
``trickle_rate`` bytes per second). A behaviour is a pair of small
functions taking a :class:`BehaviorContext` and returning a :class:`FakeResponse`
to send, or ``None`` to carry on as normal; add your own with
:meth:`FakeServiceTitan.add_behavior`::

    def flaky(ctx: BehaviorContext) -> FakeResponse | None:
        return html_response(502, "Bad Gateway") if ctx.attempt == 1 else None

    fake.add_behavior("flaky", token=flaky)
    fake.add_client(FakeClient("production", tenants={1}, behavior="flaky"))

Behaviours run only for requests whose credentials are right (token endpoint:
correct client pair; API: valid token and app key), before the tenant check.

Performance: HTTP/1.1 keep-alive, one thread per connection, every response
written in a single ``send`` with ``TCP_NODELAY`` set (no Nagle/delayed-ACK
stalls), so thousands of requests per second pass through it. A global
:attr:`FakeServiceTitan.latency` (seconds) is added before every response, for
benchmarks. Secrets live in memory only; the only file written is the CA
certificate, in a temporary directory removed by :meth:`FakeServiceTitan.stop`.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import dataclasses
import hmac
import http
import itertools
import json
import math
import re
import secrets
import shutil
import socket
import socketserver
import ssl
import string
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from stcheck.servicetitan_scopes import PROBE_SCOPES

__all__ = [
    "API_HOSTS",
    "AUTH_HOSTS",
    "DEFAULT_BEHAVIORS",
    "ENVIRONMENTS",
    "HOSTS",
    "Behavior",
    "BehaviorContext",
    "BehaviorHook",
    "FakeClient",
    "FakeResponse",
    "FakeServiceTitan",
    "ReceivedRequest",
    "html_response",
    "json_response",
    "oauth_error_response",
    "problem_response",
    "rate_limited_title",
]

# --------------------------------------------------------------------------- hosts

ENVIRONMENTS: tuple[str, ...] = ("integration", "production")
"""The two ServiceTitan API environments."""

AUTH_HOSTS: Mapping[str, str] = {
    "integration": "auth-integration.servicetitan.io",
    "production": "auth.servicetitan.io",
}
"""Token-endpoint host per environment."""

# The host tables and the module list below are written out here on purpose, not
# imported from stcheck.net: the fake is the tests' independent oracle, and a
# shared table would let a wrong host in stcheck pass stcheck's own tests.
API_HOSTS: Mapping[str, str] = {
    "integration": "api-integration.servicetitan.io",
    "production": "api.servicetitan.io",
}
"""API host per environment."""

HOSTS: tuple[str, ...] = (
    AUTH_HOSTS["integration"],
    AUTH_HOSTS["production"],
    API_HOSTS["integration"],
    API_HOSTS["production"],
)
"""Every host the fake answers for (and the names on its certificate)."""

NEEDS_TRUSTME = (
    "the fake ServiceTitan needs trustme for its throwaway CA:"
    " install it with pip install 'stcheck[demo]'"
)
"""Why the fake cannot start without ``trustme`` (the ``demo`` extra), in one line."""

_HOST_ROLES: dict[str, tuple[str, str]] = {
    **{host: ("auth", env) for env, host in AUTH_HOSTS.items()},
    **{host: ("api", env) for env, host in API_HOSTS.items()},
}

#: Module path segments of the V2 API (from ServiceTitan's OpenAPI ``servers``).
MODULES: frozenset[str] = frozenset(
    {
        "accounting",
        "crm",
        "customer-interactions",
        "dispatch",
        "equipmentsystems",
        "findings",
        "forms",
        "inventory",
        "jbce",
        "jpm",
        "marketing",
        "marketingads",
        "marketingreputation",
        "memberships",
        "payroll",
        "pricebook",
        "reporting",
        "sales",
        "schedulingpro",
        "service-agreements",
        "settings",
        "taskmanagement",
        "telecom",
        "timesheets",
    }
)

TRICKLE_PARTS: tuple[str, ...] = ("status", "headers", "body")
"""The parts of a response the fake can trickle (:attr:`FakeResponse.trickle`)."""

DEFAULT_SCOPES = " ".join(sorted(set(PROBE_SCOPES.values())))
"""A new client's scopes: the read scope of every default resource."""
EVIL_REDIRECT = "https://evil.example/connect/token"
_MAX_BODY = 1 << 20
_INT64_MAX = 2**63 - 1

TITLE_MISSING_APP_KEY = "Application key not present, check ST-App-Key header value."
"""ServiceTitan's own title for a resource call without ``ST-App-Key`` (a live probe)."""
TITLE_MISSING_TOKEN = "An Authorization header with a Bearer access token is required."
TITLE_INVALID_TOKEN = (
    "The access token is invalid, expired, revoked or was issued for another environment."
)
TITLE_INVALID_APP_KEY = "The ST-App-Key header value is not a valid application key."
TITLE_TENANT_FORBIDDEN = "The application is not authorized for this tenant."
TITLE_INSUFFICIENT_SCOPE = "Provided authentication is insufficient to grant access."
TITLE_NOT_FOUND = "Not Found"
TITLE_MISDIRECTED = "Misdirected Request: this server does not answer for that host."

_PROBLEM_TYPES = {
    400: "https://tools.ietf.org/html/rfc7231#section-6.5.1",
    401: "https://tools.ietf.org/html/rfc7235#section-3.1",
    403: "https://tools.ietf.org/html/rfc7231#section-6.5.3",
    404: "https://tools.ietf.org/html/rfc7231#section-6.5.4",
    405: "https://tools.ietf.org/html/rfc7231#section-6.5.5",
    413: "https://tools.ietf.org/html/rfc7231#section-6.5.11",
    421: "https://tools.ietf.org/html/rfc7540#section-9.1.2",
    429: "https://tools.ietf.org/html/rfc6585#section-4",
    500: "https://tools.ietf.org/html/rfc7231#section-6.6.1",
}

# ------------------------------------------------------------------------ responses


@dataclass(frozen=True)
class FakeResponse:
    """What the fake sends back. ``drop=True`` closes the connection without a response.

    ``trickle`` (``"status"``, ``"headers"`` or ``"body"``) sends that part of the
    response one byte at a time, ``trickle_rate`` bytes per second, and the rest
    at once — a slowloris server, to test that clients bound requests by
    wall-clock time rather than per ``recv``.
    """

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    close: bool = False
    drop: bool = False
    trickle: str | None = None
    trickle_rate: float = 4.0

    def __post_init__(self) -> None:
        if self.trickle not in (None, *TRICKLE_PARTS):
            raise ValueError(f"trickle must be one of {TRICKLE_PARTS} or None")
        if self.trickle is not None and not self.trickle_rate > 0:
            raise ValueError("trickle_rate must be positive (bytes per second)")


def json_response(
    status: int,
    payload: object,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json; charset=utf-8",
) -> FakeResponse:
    """A JSON response."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    return FakeResponse(status, body, content_type, dict(headers or {}))


def _trace_id() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-00"


def problem_response(
    status: int,
    title: str,
    *,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> FakeResponse:
    """An RFC 7807 problem response shaped like ServiceTitan's ``ApiErrorResponse``."""
    payload = {
        "type": _PROBLEM_TYPES.get(status, "about:blank"),
        "title": title,
        "status": status,
        "traceId": _trace_id(),
        "errors": dict(errors or {}),
        "data": {},
    }
    # The specs declare error bodies as application/json (not application/problem+json).
    return json_response(status, payload, headers=headers)


def rate_limited_title(seconds: int) -> str:
    """The title of ServiceTitan's 429 (clients such as servicepytan read N from it)."""
    return f"Rate limit is exceeded. Try again in {seconds} seconds."


def html_response(
    status: int, message: str | None = None, *, headers: Mapping[str, str] | None = None
) -> FakeResponse:
    """An HTML error page, as ServiceTitan's edge sends on 5xx."""
    reason = _reason(status)
    text = message or reason
    body = (
        f"<!DOCTYPE html>\n<html><head><title>{status} {reason}</title></head>"
        f"<body><h1>{text}</h1><p>Please try again later.</p></body></html>\n"
    ).encode()
    return FakeResponse(status, body, "text/html; charset=utf-8", dict(headers or {}))


def oauth_error_response(
    error: str, *, status: int = 400, description: str | None = None
) -> FakeResponse:
    """An OAuth 2.0 token-endpoint error (RFC 6749 section 5.2)."""
    payload: dict[str, str] = {"error": error}
    if description:
        payload["error_description"] = description
    return json_response(status, payload, headers=_NO_STORE)


_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


# --------------------------------------------------------------------- clients etc.

_ALNUM = string.ascii_lowercase + string.digits


def _random_text(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _new_client_id() -> str:
    return "cid." + _random_text(25)


def _new_client_secret() -> str:
    return "cs1." + _random_text(50)


@dataclass
class FakeClient:
    """A client ID/secret pair registered in one environment of the fake.

    Mutable on purpose: a test may change ``behavior`` (or any option) between
    requests. ``client_id`` and ``client_secret`` default to random values shaped
    like ServiceTitan's (``cid.…``, ``cs1.…``).

    Options used by the built-in behaviours:

    * ``rate_limit_times`` (N) and ``retry_after`` (n, seconds or an HTTP date):
      ``rate_limited``/``probe_rate_limited`` answer 429 with ``Retry-After: n``
      to the first N requests.
    * ``delay`` (seconds): ``slow``/``probe_slow`` wait this long before answering.
    * ``trickle_rate`` (bytes per second): ``trickle_*``/``probe_trickle_*`` send
      the status line, the headers or the body one byte at a time at this rate.
    * ``redirect_status``, ``redirect_location``: ``redirect``/``probe_redirect``.
    * ``expires_in``, ``token_type``: the token response's fields (``short_expiry``
      and ``bad_token_type`` override them); tokens really expire after
      ``expires_in`` seconds.
    * ``token_format``: ``"opaque"`` (random string) or ``"jwt"`` (an unsigned-in-
      spirit JWT with ``iss``, ``client_id``, ``tenant`` when exactly one tenant
      or an Enterprise Hub token, ``scope`` as a list, ``iat``/``nbf``/``exp``, ``jti``).
    * ``enterprise``: an Enterprise Hub pair (one pair for a group of tenants).
      Its token requests must carry a ``tenant`` form field naming a tenant ID
      (else ``400 invalid_request``), and the token works for that tenant only
      (another tenant's path answers 403, as does a tenant outside ``tenants``).

    ``token_calls``/``probe_calls`` count the requests that reached this
    client's behaviour (i.e. had valid credentials).
    """

    environment: str
    client_id: str = field(default_factory=_new_client_id)
    client_secret: str = field(default_factory=_new_client_secret, repr=False)
    tenants: set[int] = field(default_factory=set)
    scopes: str = DEFAULT_SCOPES
    behavior: str = "ok"
    rate_limit_times: int = 1
    retry_after: int | str = 1
    delay: float = 2.0
    redirect_status: int = 302
    redirect_location: str = EVIL_REDIRECT
    expires_in: int = 900
    token_type: str = "Bearer"
    token_format: str = "opaque"
    enterprise: bool = False
    token_calls: int = field(default=0, init=False)
    probe_calls: int = field(default=0, init=False)
    trickle_rate: float = 4.0

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}, not {self.environment!r}")
        if self.token_format not in ("opaque", "jwt"):
            raise ValueError("token_format must be 'opaque' or 'jwt'")
        self.tenants = {int(t) for t in self.tenants}

    @property
    def behavior_names(self) -> tuple[str, ...]:
        """The behaviour names, split on ``+``."""
        return tuple(name.strip() for name in self.behavior.split("+") if name.strip())


_REDACTED_HEADERS = frozenset({"authorization", "st-app-key", "cookie"})
_REDACTED_FIELDS = frozenset({"client_secret", "client_assertion", "password"})


@dataclass(frozen=True, repr=False)
class ReceivedRequest:
    """One request as the fake received it.

    ``host`` is the ``Host`` header without port, lower-cased (``None`` if
    absent); ``headers`` has lower-cased names; ``query`` and ``form`` map names to
    the last value given; ``time`` is ``time.monotonic()`` when the request
    arrived. ``kind`` is ``"token"`` (an auth host), ``"api"`` (an API host) or
    ``"foreign"`` (anything else); ``environment`` follows from the host.
    ``client_id`` is the form field on token requests and the token's client on
    API requests (when the token was valid); ``tenant`` is the tenant ID from an
    API path. ``connection_id`` identifies the TCP connection (equal IDs mean a
    reused keep-alive connection) and ``sni`` is the TLS server name sent.

    ``repr()`` masks secrets, so assertion failures don't print them.
    """

    method: str
    host: str | None
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    form: dict[str, str]
    time: float
    kind: str
    environment: str | None
    status: int
    client_id: str | None = None
    tenant: int | None = None
    sni: str | None = None
    connection_id: int = 0
    body: bytes = b""

    def __repr__(self) -> str:
        headers = {k: ("***" if k in _REDACTED_HEADERS else v) for k, v in self.headers.items()}
        form = {k: ("***" if k in _REDACTED_FIELDS else v) for k, v in self.form.items()}
        return (
            f"ReceivedRequest(method={self.method!r}, host={self.host!r}, path={self.path!r}, "
            f"query={self.query!r}, status={self.status}, kind={self.kind!r}, "
            f"environment={self.environment!r}, client_id={self.client_id!r}, "
            f"tenant={self.tenant!r}, connection_id={self.connection_id}, sni={self.sni!r}, "
            f"headers={headers!r}, form={form!r})"
        )


@dataclass
class _Incoming:
    method: str
    host: str | None
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    sni: str | None
    connection_id: int
    time: float
    form: dict[str, str] = field(default_factory=dict)
    form_error: str | None = None
    kind: str = "foreign"
    environment: str | None = None
    client_id: str | None = None
    tenant: int | None = None


@dataclass
class _TokenInfo:
    environment: str
    client_id: str
    expires_at: float
    scopes: frozenset[str] = frozenset()
    tenant: int | None = None


@dataclass(frozen=True)
class _Resource:
    data: tuple[dict[str, Any], ...]
    scope: str | None


# ------------------------------------------------------------------------ behaviours


@dataclass
class BehaviorContext:
    """What a behaviour function sees.

    ``kind`` is ``"token"`` or ``"api"``; ``attempt`` is the 1-based number of this
    request among the client's requests of that kind (``client.token_calls`` or
    ``client.probe_calls``); ``tenant`` is the tenant from an API path (if it is
    an integer). Use :meth:`issue_token` to build a real token response with some
    fields overridden, and :meth:`sleep` to wait (interrupted when the fake stops).
    """

    fake: FakeServiceTitan
    client: FakeClient
    kind: str
    attempt: int
    method: str
    path: str
    query: Mapping[str, str]
    headers: Mapping[str, str]
    form: Mapping[str, str]
    tenant: int | None = None

    def issue_token(
        self,
        *,
        token_type: str | None = None,
        expires_in: int | None = None,
        scope: str | None = None,
        omit: Iterable[str] = (),
    ) -> FakeResponse:
        """Issue a real token for this client; the response omits the fields in ``omit``."""
        return self.fake._token_response(
            self.client,
            token_type=token_type,
            expires_in=expires_in,
            scope=scope,
            omit=omit,
            tenant=_form_tenant(self.form) if self.client.enterprise else None,
        )

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` (returns early when the fake is stopping)."""
        self.fake._stopping.wait(seconds)

    def retry_after(self) -> dict[str, str]:
        """The ``Retry-After`` header for this client."""
        return {"Retry-After": str(self.client.retry_after)}

    def retry_seconds(self) -> int:
        """The client's ``retry_after`` as whole seconds from now (an HTTP date is converted)."""
        return _retry_seconds(self.client.retry_after)


def _retry_seconds(value: int | str) -> int:
    if isinstance(value, int):
        return max(0, value)
    text = value.strip()
    if text.isascii() and text.isdigit():
        return int(text)
    try:
        when = parsedate_to_datetime(text).timestamp()
    except (TypeError, ValueError):
        return 1
    return max(0, math.ceil(when - time.time()))


BehaviorHook = Callable[[BehaviorContext], FakeResponse | None]
"""A behaviour function: return a response to send, or ``None`` to carry on."""


@dataclass(frozen=True)
class Behavior:
    """A named scripted behaviour: an optional hook for token requests and one for probes."""

    token: BehaviorHook | None = None
    probe: BehaviorHook | None = None
    doc: str = ""


def _rate_limited(ctx: BehaviorContext) -> FakeResponse | None:
    if ctx.attempt <= ctx.client.rate_limit_times:
        return problem_response(
            429, rate_limited_title(ctx.retry_seconds()), headers=ctx.retry_after()
        )
    return None


def _server_error_html(ctx: BehaviorContext) -> FakeResponse | None:
    return html_response(503)


def _malformed_json(ctx: BehaviorContext) -> FakeResponse | None:
    return FakeResponse(200, b'{"access_token": "', "application/json; charset=utf-8")


def _missing_access_token(ctx: BehaviorContext) -> FakeResponse | None:
    return ctx.issue_token(omit=("access_token",))


def _redirect(ctx: BehaviorContext) -> FakeResponse | None:
    return FakeResponse(
        ctx.client.redirect_status,
        b"",
        None,
        {"Location": ctx.client.redirect_location},
    )


def _slow(ctx: BehaviorContext) -> FakeResponse | None:
    ctx.sleep(ctx.client.delay)
    return None


def _bad_token_type(ctx: BehaviorContext) -> FakeResponse | None:
    return ctx.issue_token(token_type="mac")


def _short_expiry(ctx: BehaviorContext) -> FakeResponse | None:
    return ctx.issue_token(expires_in=60)


def _oauth_error(error: str) -> BehaviorHook:
    def hook(ctx: BehaviorContext) -> FakeResponse | None:
        return oauth_error_response(error)

    return hook


def _drop(ctx: BehaviorContext) -> FakeResponse | None:
    return FakeResponse(0, drop=True)


def _probe_forbidden(ctx: BehaviorContext) -> FakeResponse | None:
    return problem_response(403, TITLE_INSUFFICIENT_SCOPE)


def _probe_unauthorized(ctx: BehaviorContext) -> FakeResponse | None:
    return problem_response(401, TITLE_INVALID_TOKEN, headers={"WWW-Authenticate": "Bearer"})


def _probe_server_error(ctx: BehaviorContext) -> FakeResponse | None:
    return html_response(500)


def _probe_malformed_json(ctx: BehaviorContext) -> FakeResponse | None:
    return FakeResponse(200, b"<html>not json</html>", "application/json; charset=utf-8")


def _trickle(part: str, kind: str) -> BehaviorHook:
    def hook(ctx: BehaviorContext) -> FakeResponse | None:
        if kind == "token":
            response = ctx.issue_token()
        else:  # a well-formed one-item page: the point is how it is sent
            page = {"page": 1, "pageSize": 1, "hasMore": False, "totalCount": None}
            response = json_response(200, {**page, "data": [{"id": 1, "name": "Main"}]})
        return dataclasses.replace(response, trickle=part, trickle_rate=ctx.client.trickle_rate)

    return hook


_TRICKLE_BEHAVIORS: dict[str, Behavior] = {
    **{
        f"trickle_{part}": Behavior(
            token=_trickle(part, "token"),
            doc=f"Token endpoint: a real token, the {part} sent a byte at a time (trickle_rate/s).",
        )
        for part in TRICKLE_PARTS
    },
    **{
        f"probe_trickle_{part}": Behavior(
            probe=_trickle(part, "api"),
            doc=f"API: a one-item page, the {part} sent a byte at a time (trickle_rate/s).",
        )
        for part in TRICKLE_PARTS
    },
}


DEFAULT_BEHAVIORS: Mapping[str, Behavior] = {
    "ok": Behavior(doc="Everything works."),
    "rate_limited": Behavior(
        token=_rate_limited,
        doc="Token endpoint: 429 with Retry-After for the first rate_limit_times requests.",
    ),
    "server_error_html": Behavior(
        token=_server_error_html, doc="Token endpoint: 503 with an HTML body."
    ),
    "malformed_json": Behavior(
        token=_malformed_json, doc="Token endpoint: 200 with a body that is not JSON."
    ),
    "missing_access_token": Behavior(
        token=_missing_access_token, doc="Token endpoint: 200 JSON without access_token."
    ),
    "redirect": Behavior(
        token=_redirect,
        doc="Token endpoint: redirect_status (302) to redirect_location (a foreign host).",
    ),
    "slow": Behavior(token=_slow, doc="Token endpoint: wait `delay` seconds, then answer."),
    "bad_token_type": Behavior(token=_bad_token_type, doc='Token endpoint: token_type "mac".'),
    "short_expiry": Behavior(token=_short_expiry, doc="Token endpoint: expires_in 60."),
    "unauthorized_client": Behavior(
        token=_oauth_error("unauthorized_client"), doc="Token endpoint: 400 unauthorized_client."
    ),
    "invalid_scope": Behavior(
        token=_oauth_error("invalid_scope"), doc="Token endpoint: 400 invalid_scope."
    ),
    "drop_connection": Behavior(
        token=_drop, doc="Token endpoint: close the connection without answering."
    ),
    "probe_forbidden": Behavior(probe=_probe_forbidden, doc="API: 403 problem JSON."),
    "probe_unauthorized": Behavior(probe=_probe_unauthorized, doc="API: 401 problem JSON."),
    "probe_server_error": Behavior(probe=_probe_server_error, doc="API: 500 with an HTML body."),
    "probe_rate_limited": Behavior(
        probe=_rate_limited,
        doc="API: 429 with Retry-After for the first rate_limit_times requests.",
    ),
    "probe_slow": Behavior(probe=_slow, doc="API: wait `delay` seconds, then answer."),
    "probe_redirect": Behavior(
        probe=_redirect, doc="API: redirect_status to redirect_location (a foreign host)."
    ),
    "probe_malformed_json": Behavior(
        probe=_probe_malformed_json, doc="API: 200 with a body that is not JSON."
    ),
    **_TRICKLE_BEHAVIORS,
}
"""The built-in behaviours, by name."""

_DEFAULT_ITEMS: dict[str, tuple[dict[str, Any], ...]] = {
    "settings/business-units": ({"id": 1, "name": "Main"},),
    "settings/tag-types": ({"id": 1, "name": "Example Tag"},),
    "settings/employees": ({"id": 1, "name": "Example Employee"},),
    "crm/customers": ({"id": 1, "name": "Example Customer"},),
    "jpm/job-types": ({"id": 1, "name": "Service Call"}, {"id": 2, "name": "Install"}),
}
_DEFAULT_RESOURCES: dict[str, _Resource] = {
    path: _Resource(items, PROBE_SCOPES[path]) for path, items in _DEFAULT_ITEMS.items()
}

_API_PATH = re.compile(r"/([a-z0-9-]+)/(v[0-9]+)/tenant/([^/]+)/(.+)")

# --------------------------------------------------------------------------- server


class FakeServiceTitan:
    """The fake service. Use as a context manager, or call :meth:`start`/:meth:`stop`.

    ``app_key`` defaults to a random ``ak1.…`` value; ``latency`` (seconds) is added
    before every response and may be changed at any time.
    """

    hosts: tuple[str, ...] = HOSTS
    environments: tuple[str, ...] = ENVIRONMENTS

    def __init__(
        self,
        *,
        app_key: str | None = None,
        latency: float = 0.0,
        clients: Iterable[FakeClient] = (),
    ) -> None:
        self.app_key: str = app_key if app_key is not None else "ak1." + _random_text(25)
        self.latency: float = latency
        self.behaviors: dict[str, Behavior] = dict(DEFAULT_BEHAVIORS)
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._clients: dict[tuple[str, str], FakeClient] = {}
        self._tokens: dict[str, _TokenInfo] = {}
        self._resources: dict[str, _Resource] = dict(_DEFAULT_RESOURCES)
        self._records: list[ReceivedRequest] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._tmpdir: str | None = None
        self._ca_bundle: str | None = None
        for client in clients:
            self.add_client(client)

    # -- lifecycle -------------------------------------------------------------

    def start(self) -> FakeServiceTitan:
        """Create the CA and certificate, bind 127.0.0.1:0 and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeServiceTitan is already running")
        try:
            import trustme  # lazily: importing cryptography is not free
        except ImportError as error:
            raise ImportError(NEEDS_TRUSTME) from error

        ca = trustme.CA(organization_name="stcheck FakeServiceTitan test CA")
        leaf = ca.issue_cert(*HOSTS)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        leaf.configure_cert(context)
        context.sni_callback = _remember_sni
        tmpdir = tempfile.mkdtemp(prefix="stcheck-fake-")
        ca_path = Path(tmpdir) / "fake-servicetitan-ca.pem"
        ca.cert_pem.write_to_path(str(ca_path))
        self._stopping.clear()
        try:
            server = _Server(self, context)
        except BaseException:
            shutil.rmtree(tmpdir, ignore_errors=True)
            raise
        self._tmpdir, self._ca_bundle, self._server = tmpdir, str(ca_path), server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeServiceTitan:{server.server_address[1]}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close every open connection and remove the CA file. Idempotent."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_connections(timeout=5.0)
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._tmpdir = self._ca_bundle = None

    def __enter__(self) -> FakeServiceTitan:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    # -- where it is -----------------------------------------------------------

    def _require_server(self) -> _Server:
        if self._server is None:
            raise RuntimeError("FakeServiceTitan is not running; call start() first")
        return self._server

    @property
    def port(self) -> int:
        """The TCP port on 127.0.0.1."""
        return int(self._require_server().server_address[1])

    @property
    def address(self) -> tuple[str, int]:
        """``("127.0.0.1", port)``."""
        return ("127.0.0.1", self.port)

    @property
    def ca_bundle(self) -> str:
        """Path of a PEM file holding the fake's CA certificate (removed on stop)."""
        self._require_server()
        assert self._ca_bundle is not None
        return self._ca_bundle

    @property
    def resolve(self) -> list[str]:
        """curl-style ``HOST:PORT:127.0.0.1`` entries for every host, PORT the fake's port."""
        port = self.port
        return [f"{host}:{port}:127.0.0.1" for host in HOSTS]

    def base_url(self, host: str) -> str:
        """``https://HOST:PORT`` for one of :data:`HOSTS`."""
        if host not in _HOST_ROLES:
            raise ValueError(f"not a ServiceTitan host: {host!r}")
        return f"https://{host}:{self.port}"

    def token_url(self, environment: str) -> str:
        """The token endpoint URL of an environment, with the fake's port."""
        return self.base_url(AUTH_HOSTS[environment]) + "/connect/token"

    def api_url(self, environment: str) -> str:
        """The API base URL of an environment, with the fake's port."""
        return self.base_url(API_HOSTS[environment])

    def cli_args(self) -> list[str]:
        """``["--ca-bundle", PATH, "--resolve", ENTRY, ...]`` for the ``stcheck`` CLI."""
        args = ["--ca-bundle", self.ca_bundle]
        for entry in self.resolve:
            args += ["--resolve", entry]
        return args

    def ssl_context(self) -> ssl.SSLContext:
        """A client-side SSL context that trusts the fake's CA (and nothing else)."""
        return ssl.create_default_context(cafile=self.ca_bundle)

    # -- scripting -------------------------------------------------------------

    def add_client(self, client: FakeClient | None = None, /, **fields: Any) -> FakeClient:
        """Register a client pair: ``add_client(FakeClient(...))`` or ``add_client(**fields)``.

        A (environment, client_id) pair may be registered once; the same client ID
        in both environments is two separate clients.
        """
        if client is None:
            client = FakeClient(**fields)
        elif fields:
            raise TypeError("pass either a FakeClient or keyword fields, not both")
        self._check_behavior(client.behavior)
        key = (client.environment, client.client_id)
        with self._lock:
            if key in self._clients:
                raise ValueError(f"client {client.client_id!r} already registered in {key[0]}")
            self._clients[key] = client
        return client

    def remove_client(self, environment: str, client_id: str) -> None:
        """Unregister a client; its tokens stop working."""
        with self._lock:
            self._clients.pop((environment, client_id), None)

    def client(self, environment: str, client_id: str) -> FakeClient:
        """The registered client (KeyError if unknown)."""
        with self._lock:
            return self._clients[(environment, client_id)]

    @property
    def clients(self) -> list[FakeClient]:
        """All registered clients."""
        with self._lock:
            return list(self._clients.values())

    def add_behavior(
        self,
        name: str,
        *,
        token: BehaviorHook | None = None,
        probe: BehaviorHook | None = None,
        doc: str = "",
    ) -> None:
        """Add (or replace) a named behaviour for this fake instance."""
        if not name or "+" in name:
            raise ValueError("a behaviour name must be non-empty and must not contain '+'")
        self.behaviors[name] = Behavior(token=token, probe=probe, doc=doc)

    def _check_behavior(self, behavior: str) -> None:
        for name in behavior.split("+"):
            if name.strip() not in self.behaviors:
                known = ", ".join(sorted(self.behaviors))
                raise ValueError(f"unknown behaviour {name.strip()!r}; known: {known}")

    def add_resource(
        self,
        path: str,
        data: Iterable[Mapping[str, Any]] | None = None,
        *,
        scope: str | None = None,
    ) -> None:
        """Serve ``GET /{module}/v2/tenant/{t}/{resource}`` for ``path="module/resource"``.

        ``data`` is the list of items paged out (default one ``{"id": 1, "name":
        "Main"}``); with ``scope`` set, a client whose scopes lack it gets 403.
        """
        module, _, resource = path.strip("/").partition("/")
        if module not in MODULES or not resource:
            raise ValueError(f"expected 'module/resource' with a known module, got {path!r}")
        items = tuple(dict(item) for item in (data or ({"id": 1, "name": "Main"},)))
        self._resources[f"{module}/{resource}"] = _Resource(items, scope)

    def revoke_tokens(self, environment: str | None = None, client_id: str | None = None) -> int:
        """Invalidate issued tokens (as a secret rotation would); returns how many."""
        with self._lock:
            doomed = [
                tok
                for tok, info in self._tokens.items()
                if environment in (None, info.environment) and client_id in (None, info.client_id)
            ]
            for tok in doomed:
                del self._tokens[tok]
        return len(doomed)

    def reset(self) -> None:
        """Forget clients, tokens, records, errors, custom behaviours and resources."""
        with self._lock:
            self._clients.clear()
            self._tokens.clear()
            self._resources = dict(_DEFAULT_RESOURCES)
            self._records.clear()
        self.behaviors = dict(DEFAULT_BEHAVIORS)
        self.errors.clear()
        self.latency = 0.0

    # -- records ---------------------------------------------------------------

    @property
    def received(self) -> list[ReceivedRequest]:
        """A snapshot of every request received, in arrival order of completion."""
        with self._lock:
            return list(self._records)

    def token_requests(
        self, environment: str | None = None, client_id: str | None = None
    ) -> list[ReceivedRequest]:
        """Requests to the auth hosts, optionally filtered by environment and form client_id."""
        return [
            r
            for r in self.received
            if r.kind == "token"
            and environment in (None, r.environment)
            and client_id in (None, r.client_id)
        ]

    def api_requests(
        self,
        environment: str | None = None,
        client_id: str | None = None,
        tenant: int | None = None,
    ) -> list[ReceivedRequest]:
        """Requests to the API hosts, optionally filtered."""
        return [
            r
            for r in self.received
            if r.kind == "api"
            and environment in (None, r.environment)
            and client_id in (None, r.client_id)
            and tenant in (None, r.tenant)
        ]

    def foreign_requests(self) -> list[ReceivedRequest]:
        """Requests whose ``Host`` was not a ServiceTitan host (or did not match SNI)."""
        return [r for r in self.received if r.kind == "foreign"]

    def reset_records(self) -> None:
        """Forget the recorded requests (clients, tokens and counters stay)."""
        with self._lock:
            self._records.clear()

    def _record(self, inc: _Incoming, status: int) -> None:
        record = ReceivedRequest(
            method=inc.method,
            host=inc.host,
            path=inc.path,
            query=inc.query,
            headers=inc.headers,
            form=inc.form,
            time=inc.time,
            kind=inc.kind,
            environment=inc.environment,
            status=status,
            client_id=inc.client_id,
            tenant=inc.tenant,
            sni=inc.sni,
            connection_id=inc.connection_id,
            body=inc.body,
        )
        with self._lock:
            self._records.append(record)

    # -- request handling ------------------------------------------------------

    def _handle(self, inc: _Incoming) -> FakeResponse:
        if inc.host is None:
            return problem_response(400, "A Host header is required.")
        role_env = _HOST_ROLES.get(inc.host)
        if role_env is None or (inc.sni is not None and inc.sni.lower() != inc.host):
            return problem_response(421, TITLE_MISDIRECTED)
        role, environment = role_env
        inc.environment = environment
        if role == "auth":
            inc.kind = "token"
            return self._handle_token(inc, environment)
        inc.kind = "api"
        return self._handle_api(inc, environment)

    def _handle_token(self, inc: _Incoming, environment: str) -> FakeResponse:
        # The order of IdentityServer's TokenEndpoint: the HTTP shape, then the
        # client's authentication, then the grant.
        if inc.path != "/connect/token":
            return problem_response(404, TITLE_NOT_FOUND)
        content_type = inc.headers.get("content-type", "").split(";")[0].strip().lower()
        if inc.method != "POST" or content_type != "application/x-www-form-urlencoded":
            return oauth_error_response("invalid_request")
        if inc.form_error:  # stricter than IdentityServer, on purpose: see the module doc
            return oauth_error_response("invalid_request", description=inc.form_error)
        client_id, client_secret = _client_authentication(inc)
        inc.client_id = client_id
        with self._lock:
            client = None if client_id is None else self._clients.get((environment, client_id))
        if (
            client is None
            or client_secret is None
            or not hmac.compare_digest(client_secret.encode(), client.client_secret.encode())
        ):
            return oauth_error_response("invalid_client")
        error = _grant_error(inc.form)
        if error is not None:
            return oauth_error_response(error)
        requested = inc.form.get("scope", "").split()
        if requested and not set(requested) <= set(client.scopes.split()):
            return oauth_error_response("invalid_scope")
        tenant = _form_tenant(inc.form) if client.enterprise else None
        if client.enterprise and tenant is None:
            return oauth_error_response(
                "invalid_request", description="tenant is required for Enterprise Hub clients"
            )
        with self._lock:
            client.token_calls += 1
            attempt = client.token_calls
        ctx = self._context(inc, client, "token", attempt)
        for name in client.behavior_names:
            hook = self.behaviors[name].token
            if hook is not None and (response := hook(ctx)) is not None:
                return response
        return self._token_response(
            client, scope=" ".join(dict.fromkeys(requested)) if requested else None, tenant=tenant
        )

    def _token_response(
        self,
        client: FakeClient,
        *,
        token_type: str | None = None,
        expires_in: int | None = None,
        scope: str | None = None,
        omit: Iterable[str] = (),
        tenant: int | None = None,
    ) -> FakeResponse:
        lifetime = client.expires_in if expires_in is None else expires_in
        scopes = client.scopes if scope is None else scope
        if client.token_format == "jwt":
            token = _make_jwt(client, lifetime, scopes, tenant)
        else:
            token = secrets.token_urlsafe(48)
        with self._lock:
            self._tokens[token] = _TokenInfo(
                client.environment,
                client.client_id,
                time.monotonic() + lifetime,
                frozenset(scopes.split()),
                tenant,
            )
        payload: dict[str, Any] = {
            "access_token": token,
            "expires_in": lifetime,
            "token_type": client.token_type if token_type is None else token_type,
            "scope": scopes,
        }
        for key in omit:
            payload.pop(key, None)
        return json_response(200, payload, headers=_NO_STORE)

    def _handle_api(self, inc: _Incoming, environment: str) -> FakeResponse:
        match = _API_PATH.fullmatch(inc.path)
        if match is None:
            return problem_response(404, TITLE_NOT_FOUND)
        module, version, tenant_text, rest = match.groups()
        resource = self._resources.get(f"{module}/{rest.rstrip('/')}")
        if module not in MODULES or version != "v2" or resource is None:
            return problem_response(404, TITLE_NOT_FOUND)
        if tenant_text.isascii() and tenant_text.isdigit() and 0 < int(tenant_text) <= _INT64_MAX:
            inc.tenant = int(tenant_text)
        if inc.method != "GET":
            return problem_response(405, "Method Not Allowed", headers={"Allow": "GET"})
        # ServiceTitan checks the app key before the token.
        app_key = inc.headers.get("st-app-key", "").strip()
        if not app_key:
            return problem_response(401, TITLE_MISSING_APP_KEY)
        if not hmac.compare_digest(app_key.encode(), self.app_key.encode()):
            return problem_response(401, TITLE_INVALID_APP_KEY)
        token = _access_token(inc.headers.get("authorization", ""))
        if token is None:
            return problem_response(
                401, TITLE_MISSING_TOKEN, headers={"WWW-Authenticate": "Bearer"}
            )
        with self._lock:
            info = self._tokens.get(token)
            client = None if info is None else self._clients.get((environment, info.client_id))
        if (
            info is None
            or client is None
            or info.environment != environment
            or info.expires_at <= time.monotonic()
        ):
            return problem_response(
                401,
                TITLE_INVALID_TOKEN,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        inc.client_id = client.client_id
        with self._lock:
            client.probe_calls += 1
            attempt = client.probe_calls
        ctx = self._context(inc, client, "api", attempt)
        for name in client.behavior_names:
            hook = self.behaviors[name].probe
            if hook is not None and (response := hook(ctx)) is not None:
                return response
        if inc.tenant is None:
            return problem_response(
                400,
                "One or more validation errors occurred.",
                errors={"tenant": [f"The value '{tenant_text}' is not valid."]},
            )
        if inc.tenant not in client.tenants or info.tenant not in (None, inc.tenant):
            return problem_response(403, TITLE_TENANT_FORBIDDEN)
        if resource.scope is not None and resource.scope not in info.scopes:
            return problem_response(403, TITLE_INSUFFICIENT_SCOPE)
        page_size = _int_param(inc.query.get("pageSize"), default=50, low=1, high=5000)
        page = _int_param(inc.query.get("page"), default=1, low=1, high=_INT64_MAX)
        start = (page - 1) * page_size
        items = list(resource.data[start : start + page_size])
        include_total = inc.query.get("includeTotal", "").lower() == "true"
        payload = {
            "page": page,
            "pageSize": page_size,
            "hasMore": len(resource.data) > start + page_size,
            "totalCount": len(resource.data) if include_total else None,
            "data": items,
        }
        return json_response(200, payload)

    def _context(
        self, inc: _Incoming, client: FakeClient, kind: str, attempt: int
    ) -> BehaviorContext:
        return BehaviorContext(
            fake=self,
            client=client,
            kind=kind,
            attempt=attempt,
            method=inc.method,
            path=inc.path,
            query=inc.query,
            headers=inc.headers,
            form=inc.form,
            tenant=inc.tenant,
        )


def _access_token(header: str) -> str | None:
    """The token in ``Authorization: Bearer <token>`` or in a bare ``Authorization: <token>``."""
    value = header.strip()
    scheme, sep, rest = value.partition(" ")
    if sep and scheme.lower() == "bearer":
        value = rest.strip()
    return value or None


def _client_authentication(inc: _Incoming) -> tuple[str | None, str | None]:
    """(client_id, client_secret) as IdentityServer's default secret parsers find them.

    HTTP Basic first (``client_secret_basic``: both parts form-urlencoded, RFC 6749
    section 2.3.1), then the form fields (``client_secret_post``). A malformed Basic
    header is ignored, as IdentityServer does.
    """
    header = inc.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            pair = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            pair = ""
        name, sep, secret = pair.partition(":")
        if sep and name:
            decoded = unquote(secret.replace("+", "%20"))
            return unquote(name.replace("+", "%20")), decoded or None
    return inc.form.get("client_id") or None, inc.form.get("client_secret") or None


_UNAUTHORIZED_GRANTS = frozenset(
    {"authorization_code", "password", "urn:ietf:params:oauth:grant-type:device_code"}
)


def _grant_error(form: Mapping[str, str]) -> str | None:
    """The OAuth error IdentityServer gives a client-credentials-only client for its grant."""
    grant_type = form.get("grant_type", "")
    if not grant_type or len(grant_type) > 100:
        return "unsupported_grant_type"
    if grant_type == "client_credentials":
        return None
    if grant_type in _UNAUTHORIZED_GRANTS:
        return "unauthorized_client"
    if grant_type == "refresh_token":
        return "invalid_grant" if form.get("refresh_token") else "invalid_request"
    return "unsupported_grant_type"


def _int_param(text: str | None, *, default: int, low: int, high: int) -> int:
    if text is None or not text.isascii() or not text.isdigit():
        return default
    return min(max(int(text), low), high)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _form_tenant(form: Mapping[str, str]) -> int | None:
    """The ``tenant`` form field of a token request as a tenant ID, or None."""
    text = form.get("tenant", "")
    if text.isascii() and text.isdigit() and text[0] != "0" and int(text) <= _INT64_MAX:
        return int(text)
    return None


def _make_jwt(client: FakeClient, lifetime: int, scopes: str, tenant: int | None = None) -> str:
    now = int(time.time())
    header = {"alg": "RS256", "kid": "stcheck-fake", "typ": "at+jwt"}
    claims: dict[str, Any] = {
        "nbf": now,
        "exp": now + lifetime,
        "iss": f"https://{AUTH_HOSTS[client.environment]}",
        "client_id": client.client_id,
        "jti": secrets.token_hex(16),
        "iat": now,
        "scope": scopes.split(),
    }
    if tenant is not None:
        claims["tenant"] = str(tenant)
    elif len(client.tenants) == 1:
        claims["tenant"] = str(next(iter(client.tenants)))
    parts = (json.dumps(header).encode(), json.dumps(claims).encode(), secrets.token_bytes(64))
    return ".".join(_b64url(part) for part in parts)


def _remember_sni(sock: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
    # For a server-side SSLSocket, ``sock`` is the SSLSocket itself; keep the name on it.
    sock.__dict__["stcheck_sni"] = name


class _BadRequest(Exception):
    def __init__(self, status: int, title: str) -> None:
        super().__init__(title)
        self.status = status
        self.title = title


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 512
    allow_reuse_address = True

    def __init__(self, fake: FakeServiceTitan, context: ssl.SSLContext) -> None:
        self.fake = fake
        self.ssl_context = context
        self.connection_ids = itertools.count(1)
        self._conn_lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._conn_threads: set[threading.Thread] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would do a reverse DNS lookup (getfqdn); skip it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = "127.0.0.1"
        self.server_port = int(self.server_address[1])

    def process_request(
        self,
        request: socket.socket | tuple[bytes, socket.socket],
        client_address: Any,
    ) -> None:
        assert isinstance(request, socket.socket)
        thread = threading.Thread(
            target=self._run_connection,
            args=(request, client_address),
            name="FakeServiceTitan-connection",
            daemon=True,
        )
        with self._conn_lock:
            self._connections.add(request)
            self._conn_threads.add(thread)
        thread.start()

    def _run_connection(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self._connections.discard(request)
                self._conn_threads.discard(threading.current_thread())

    def track(self, sock: socket.socket, *, add: bool) -> None:
        with self._conn_lock:
            if add:
                self._connections.add(sock)
            else:
                self._connections.discard(sock)

    def close_connections(self, timeout: float) -> None:
        with self._conn_lock:
            connections = list(self._connections)
            threads = list(self._conn_threads)
        for sock in connections:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up, fail the TLS handshake or time out are not news.
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeServiceTitan"
    timeout = 120.0
    server: _Server

    connection_id: int = 0
    sni: str | None = None

    def setup(self) -> None:
        raw: socket.socket = self.request
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        raw.settimeout(self.timeout)
        self.connection_id = next(self.server.connection_ids)
        tls = self.server.ssl_context.wrap_socket(raw, server_side=True)
        self.request = tls
        self.server.track(tls, add=True)
        self.sni = getattr(tls, "stcheck_sni", None)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            tls: socket.socket = self.request
            self.server.track(tls, add=False)
            tls.close()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Only reached for malformed requests (bad request line, oversize headers, ...).
        self.close_connection = True
        response = problem_response(code, message or _reason(code))
        self._write(response, head_only=getattr(self, "command", None) == "HEAD")

    def _dispatch(self) -> None:
        fake = self.server.fake
        arrived = time.monotonic()
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        target = urlsplit(self.path)
        host = headers.get("host")
        if host is not None:
            host = _strip_port(host.strip().lower()).rstrip(".")
        inc = _Incoming(
            method=self.command,
            host=host,
            path=target.path,
            query=dict(parse_qsl(target.query, keep_blank_values=True)),
            headers=headers,
            body=b"",
            sni=self.sni,
            connection_id=self.connection_id,
            time=arrived,
        )
        try:
            inc.body = self._read_body(headers)
            _parse_form(inc)
            response = fake._handle(inc)
        except _BadRequest as exc:
            response = dataclasses.replace(problem_response(exc.status, exc.title), close=True)
        except Exception as exc:  # a bug, or an exception in a user's behaviour hook
            fake.errors.append(exc)
            response = html_response(500, "FakeServiceTitan internal error")
        fake._record(inc, 0 if response.drop else response.status)
        if fake.latency > 0:
            fake._stopping.wait(fake.latency)
        if response.drop:
            self.close_connection = True
            return
        if response.close:
            self.close_connection = True
        self._write(response, head_only=self.command == "HEAD")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch

    def _read_body(self, headers: Mapping[str, str]) -> bytes:
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length_text = headers.get("content-length")
        if length_text is None:
            return b""
        if not length_text.strip().isdigit():
            raise _BadRequest(400, "Invalid Content-Length.")
        length = int(length_text)
        if length > _MAX_BODY:
            raise _BadRequest(413, "Request body too large.")
        body = self.rfile.read(length)
        if len(body) != length:
            raise _BadRequest(400, "Request body shorter than Content-Length.")
        return body

    def _read_chunked(self) -> bytes:
        out = bytearray()
        while True:
            line = self.rfile.readline(1026)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise _BadRequest(400, "Invalid chunked encoding.") from None
            if size == 0:
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(out)
            if len(out) + size > _MAX_BODY:
                raise _BadRequest(413, "Request body too large.")
            out += self.rfile.read(size)
            self.rfile.readline(3)

    def _write(self, response: FakeResponse, *, head_only: bool) -> None:
        lines = [
            f"{self.protocol_version} {response.status} {_reason(response.status)}",
            f"Date: {formatdate(usegmt=True)}",
            f"Server: {self.server_version}",
            f"Content-Length: {len(response.body)}",
        ]
        if response.content_type:
            lines.append(f"Content-Type: {response.content_type}")
        for name, value in response.headers.items():
            if any(c in name or c in value for c in "\r\n"):
                raise ValueError("header names and values must not contain CR or LF")
            lines.append(f"{name}: {value}")
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        data = head if head_only else head + response.body
        if response.trickle is not None:
            self._trickle(data, head, response)
            return
        # One write per response: with TCP_NODELAY this avoids Nagle/delayed-ACK stalls.
        self.wfile.write(data)

    def _trickle(self, data: bytes, head: bytes, response: FakeResponse) -> None:
        """Send ``data`` with one part a byte at a time; stop when the client or the fake quits."""
        status_end = head.index(b"\r\n") + 2
        start, end = {
            "status": (0, status_end),
            "headers": (status_end, len(head)),
            "body": (len(head), len(data)),
        }[response.trickle or "body"]
        gap = 1.0 / response.trickle_rate
        stopping = self.server.fake._stopping
        try:
            if start:
                self.wfile.write(data[:start])
            for index in range(start, end):
                if stopping.wait(gap):
                    return
                self.wfile.write(data[index : index + 1])
            if end < len(data):
                self.wfile.write(data[end:])
        except OSError:  # the client hung up, as it should
            return


def _strip_port(host: str) -> str:
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    name, sep, port = host.rpartition(":")
    return name if sep and port.isdigit() else host


def _parse_form(inc: _Incoming) -> None:
    content_type = inc.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded" or not inc.body:
        return
    try:
        pairs = parse_qsl(inc.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        inc.form_error = "the form body is not valid application/x-www-form-urlencoded"
        return
    names = [name for name, _ in pairs]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        inc.form_error = f"parameters must not be repeated: {', '.join(repeated)}"
    inc.form = dict(pairs)

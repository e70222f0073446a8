"""The two conversations stcheck has with ServiceTitan, and how each answer is classified.

* :func:`request_token` — the OAuth 2.0 client-credentials grant:
  form-encoded ``grant_type``, ``client_id``, ``client_secret`` POSTed to the
  environment's token endpoint; for an Enterprise Hub pair also ``tenant``
  (the entry's tenant ID), so the token is asked for that tenant of the group.
* :func:`probe` — ``GET /{module}/v2/tenant/{tenant}/{resource}?pageSize=1`` with
  ``Authorization: Bearer <token>`` and ``ST-App-Key`` (a header, never a
  query parameter). The body is parsed to see that it is the JSON list
  envelope and then dropped; only the status, ``traceId`` and timing are kept.

Statuses follow the result model: ``fail`` is a definite no (``invalid_client``,
``unauthorized_client``, ``invalid_scope``, 401, 403, 404), ``error`` is
could-not-tell (timeouts, 5xx, still 429 after retries, redirects, TLS or
connection failures, answers that are not the expected JSON, and OAuth error
names stcheck does not know — token-endpoint throttling is documented but its
answer is not, so an unknown name may be just that). Messages never include a
secret, a token or a response body. Of what the server says, only these are
shown: an OAuth ``error`` name from the known list (:data:`OAUTH_FAIL`,
:data:`OAUTH_ERROR`) or, for another name, the name itself only when it is a
plain word (``[a-z_]{1,40}``) that passes :func:`scrub`; an RFC 7807 ``title``
and a ``traceId`` that pass :func:`scrub` (no 6 characters of a value sent, no
fragment of any resolved value, in any case or encoding — otherwise the field
is not shown at all), a ``token_type`` from a short list and a numeric
``Retry-After``. ``error_description`` is never shown: nothing checks what a
token server writes there.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stcheck.model import Status
from stcheck.net import API_HOSTS, AUTH_HOSTS, DEFAULT_PROBE, PROBE_MODULES
from stcheck.net.classify import Rule, always, classify
from stcheck.net.http import Failure, HttpClient, Reply
from stcheck.scrubber import SecretScrubber, Sent

EXPECTED_EXPIRES_IN = 900
OAUTH_FAIL = frozenset({"invalid_client", "unauthorized_client", "invalid_scope"})
"""OAuth errors that are a definite no about the client pair."""
OAUTH_ERROR = frozenset({"invalid_request", "unsupported_grant_type"})
"""OAuth errors that mean the request was mangled (a proxy, or a bug): could not tell."""
_SAFE_ERROR_NAME = re.compile(r"[a-z_]{1,40}\Z")
"""An OAuth ``error`` name shown as sent; any other is "an unrecognised error name"."""
_PROBE = re.compile(r"([a-z-]+)/([a-z0-9][a-z0-9-]*(?:/[a-z0-9][a-z0-9-]*)*)\Z")


@dataclass(frozen=True)
class TokenOutcome:
    """What the token endpoint said for one (environment, client ID). Kept in memory only."""

    environment: str
    status: Status
    reason: str | None
    message: str
    access_token: str | None = field(default=None, repr=False)
    token_type: str | None = None
    expires_in: float | None = None
    scopes: tuple[str, ...] | None = None
    elapsed: float = 0.0
    attempts: int = 0

    @property
    def ok(self) -> bool:
        return self.access_token is not None and self.status is Status.PASS


@dataclass(frozen=True)
class ProbeOutcome:
    """What the API probe said: status, reason, message (no body)."""

    status: Status
    reason: str | None
    message: str
    http_status: int | None = None
    trace_id: str | None = None
    elapsed: float = 0.0


NOT_SHOWN = "(not shown: it may echo a credential)"
"""What a message says instead of a server-provided field that failed :func:`scrub`."""


def scrub(
    text: Any,
    sent: Iterable[str] | Sent,
    limit: int = 160,
    scrubber: SecretScrubber | None = None,
) -> str:
    """Server-provided text made safe to show, or :data:`NOT_SHOWN` ("" for no text).

    The whole field is withheld — not masked piecemeal — when it holds 6
    characters of a value sent in the request, 8 of any value the run resolved,
    or a whole short value, in any case and verbatim, URL-encoded, base64 or
    hex (:meth:`stcheck.scrubber.SecretScrubber.reveals`); or a credential
    shape. A fragment the manifest itself contains never counts, so a server
    echoing the manifest's own text cannot turn this into an oracle.
    """
    if not isinstance(text, str) or not text.strip():
        return ""
    shown = (scrubber or SecretScrubber()).shown(text, sent, limit)
    return NOT_SHOWN if shown is None else shown


def request_token(
    client: HttpClient,
    environment: str,
    client_id: str,
    client_secret: str,
    *,
    tenant: int | None = None,
) -> TokenOutcome:
    """One client-credentials token request (plus bounded retries on 429/5xx).

    ``tenant`` (an Enterprise Hub pair's tenant ID) adds the ``tenant`` form
    field, which the one public client supporting Enterprise Hub
    (``compwright/oauth2-servicetitan``) sends as required for those clients.
    The answer is classified by :func:`_issued` (200) or :data:`TOKEN_ANSWERS`.
    """
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if tenant is not None:
        form["tenant"] = str(tenant)
    answer = client.post_token(environment, form)
    if isinstance(answer, Failure):
        return TokenOutcome(
            environment,
            answer.status,
            answer.reason,
            answer.message,
            elapsed=answer.elapsed,
            attempts=answer.attempts,
        )
    sent = (client_id, client_secret)
    seen = _TokenAnswer(answer, answer.json(), AUTH_HOSTS[environment], sent, client)
    if answer.status == 200:
        return _issued(environment, seen)
    verdict = classify(TOKEN_ANSWERS, seen)
    return seen.outcome(environment, verdict.status, verdict.reason, verdict.message)


@dataclass(frozen=True)
class _TokenAnswer:
    """A token endpoint's answer, with what classifying it needs."""

    reply: Reply
    payload: Any = field(repr=False)
    """The body parsed as JSON (None when it is not JSON); never shown."""
    host: str
    sent: tuple[str, ...] = field(repr=False)
    client: HttpClient = field(repr=False)

    @property
    def where(self) -> str:
        return f"{self.host}{self.reply.via}"

    @property
    def tries(self) -> str:
        attempts = self.reply.attempts
        return f"{attempts} attempt{'s' if attempts != 1 else ''}"

    @property
    def code(self) -> int:
        return self.reply.status

    @property
    def has_error(self) -> bool:
        """The body is a JSON object with an ``error`` member (an OAuth error answer)."""
        return isinstance(self.payload, dict) and "error" in self.payload

    @property
    def error(self) -> Any:
        """The OAuth ``error`` member as sent (any JSON type), or None."""
        return self.payload.get("error") if isinstance(self.payload, dict) else None

    def known_error(self, names: frozenset[str]) -> bool:
        return self.has_error and isinstance(self.error, str) and self.error in names

    def shown_error(self) -> str:
        """An OAuth error name nobody checked: shown only if a plain word that is no echo."""
        error = self.error
        if (
            isinstance(error, str)
            and _SAFE_ERROR_NAME.match(error)
            and scrub(error, self.sent, 64, self.client.scrubber) == error
        ):
            return error
        return "an unrecognised error name"

    def outcome(
        self, environment: str, status: Status, reason: str | None, message: str, **got: Any
    ) -> TokenOutcome:
        reply = self.reply
        return TokenOutcome(
            environment,
            status,
            reason,
            message,
            elapsed=reply.elapsed,
            attempts=reply.attempts,
            **got,
        )


def _issued(environment: str, seen: _TokenAnswer) -> TokenOutcome:
    """A 200 from the token endpoint: the token, or why the body is not a token answer."""
    payload = seen.payload
    if not isinstance(payload, dict):
        message = (
            f"{seen.where} answered 200 with a body that is not a JSON object"
            f"{_html_note(seen.reply)}"
        )
        return seen.outcome(environment, Status.ERROR, "malformed_response", message)
    token = payload.get("access_token")
    if not isinstance(token, str) or not token.strip():
        message = f"{seen.where} answered 200 without an access_token"
        return seen.outcome(environment, Status.ERROR, "malformed_response", message)
    token_type = payload.get("token_type")
    return seen.outcome(
        environment,
        Status.PASS,
        None,
        f"{seen.where} issued a token",
        access_token=token.strip(),
        token_type=token_type if isinstance(token_type, str) else None,
        expires_in=_seconds(payload.get("expires_in")),
        scopes=_scopes(payload.get("scope"), token),
    )


TOKEN_ANSWERS: tuple[Rule[_TokenAnswer], ...] = (
    Rule(
        lambda a: a.code == 429,
        Status.ERROR,
        "rate_limited",
        lambda a: (
            f"{a.where} still answered 429 Too Many Requests after {a.tries}{_retry_note(a.reply)}"
        ),
    ),
    Rule(
        lambda a: a.code >= 500,
        Status.ERROR,
        "server_error",
        lambda a: f"{a.where} answered HTTP {a.code}{_html_note(a.reply)} after {a.tries}",
    ),
    Rule(
        lambda a: a.known_error(OAUTH_FAIL),
        Status.FAIL,
        lambda a: str(a.error),
        lambda a: f"{a.where} answered HTTP {a.code} {a.error}",
    ),
    Rule(
        lambda a: a.known_error(OAUTH_ERROR),
        Status.ERROR,
        lambda a: str(a.error),
        lambda a: f"{a.where} answered HTTP {a.code} {a.error}",
    ),
    Rule(
        lambda a: a.has_error and a.code == 401,  # the 401 is the definite part
        Status.FAIL,
        "token_rejected",
        lambda a: f"{a.where} answered HTTP 401 with {a.shown_error()}",
    ),
    Rule(
        lambda a: a.has_error,
        Status.ERROR,
        "oauth_error",
        lambda a: (
            f"{a.where} answered HTTP {a.code} {a.shown_error()}: an OAuth error stcheck"
            " does not know, so it cannot tell what it means (the token endpoint is throttled,"
            " and how it says so is not documented)"
        ),
    ),
    Rule(
        lambda a: a.code == 401,
        Status.FAIL,
        "token_rejected",
        lambda a: f"{a.where} answered HTTP 401 without an OAuth error name",
    ),
    Rule(
        always,
        Status.ERROR,
        "http_error",
        lambda a: f"{a.where} answered HTTP {a.code}{_html_note(a.reply)}",
    ),
)
"""How a token endpoint's non-200 answer is classified: the first row that matches decides.

An OAuth ``error`` name from :data:`OAUTH_FAIL` or :data:`OAUTH_ERROR` is the
reason; another name is shown only by :meth:`_TokenAnswer.shown_error`.
"""


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip())
    return None


def _scopes(scope: Any, token: str) -> tuple[str, ...] | None:
    """Scopes from the response's ``scope`` (space-separated), else from a JWT's ``scope`` claim.

    Interned: every token of a run lists the same few names, and a run keeps them all.
    """
    stated = _scope_names(scope)
    if stated is not None:
        return stated
    claims = jwt_claims(token)
    return _scope_names(claims.get("scope") if claims else None)


def _scope_names(scope: Any) -> tuple[str, ...] | None:
    if isinstance(scope, str):
        return tuple(sys.intern(s) for s in scope.split())
    if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
        return tuple(sys.intern(s) for s in scope)
    return None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The claims of a JWT-shaped token, decoded without verification (None if not a JWT)."""
    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 16384:
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, UnicodeError):
        return None
    return claims if isinstance(claims, dict) else None


def probe_path(probe: Any, tenant_id: int) -> str | None:
    """``/{module}/v2/tenant/{tenant_id}/{resource}`` for ``app.probe``, or None if not allowed."""
    text = DEFAULT_PROBE if probe is None else probe
    if not isinstance(text, str):
        return None
    match = _PROBE.match(text)
    if match is None:
        return None
    module, resource = match.groups()
    if module not in PROBE_MODULES or "export" in resource.split("/"):
        return None
    if not isinstance(tenant_id, int) or isinstance(tenant_id, bool) or tenant_id <= 0:
        return None
    return f"/{module}/v2/tenant/{tenant_id}/{resource}"


def probe(
    client: HttpClient,
    environment: str,
    path: str,
    *,
    token: str,
    app_key: str,
) -> ProbeOutcome:
    """GET the probe page (``pageSize=1``) and classify the answer by :data:`PROBE_ANSWERS`.

    The body is parsed to see the page envelope (or a problem's ``title`` and
    ``traceId``) and then dropped.
    """
    answer = client.get_api(
        environment,
        path,
        params={"pageSize": "1"},
        headers={"Authorization": f"Bearer {token}", "ST-App-Key": app_key},
    )
    if isinstance(answer, Failure):
        return ProbeOutcome(answer.status, answer.reason, answer.message, elapsed=answer.elapsed)
    sent = Sent((token, app_key))
    payload = answer.json()
    fields = payload if isinstance(payload, dict) else {}
    seen = _ProbeAnswer(
        answer,
        payload,
        path,
        f"{API_HOSTS[environment]}{answer.via}",
        trace=scrub(fields.get("traceId"), sent, 80, client.scrubber),
        title=scrub(fields.get("title"), sent, 160, client.scrubber),
    )
    verdict = classify(PROBE_ANSWERS, seen)
    return ProbeOutcome(
        verdict.status,
        verdict.reason,
        verdict.message,
        answer.status,
        seen.trace or None,
        answer.elapsed,
    )


@dataclass(frozen=True)
class _ProbeAnswer:
    """An API host's answer to the probe, with the server fields fit to show."""

    reply: Reply
    payload: Any = field(repr=False)
    """The body parsed as JSON (None when it is not JSON); never shown."""
    path: str
    where: str
    trace: str
    """The ``traceId``, scrubbed ("" when none)."""
    title: str
    """The problem ``title``, scrubbed ("" when none)."""

    @property
    def code(self) -> int:
        return self.reply.status

    @property
    def notes(self) -> str:
        title = f": {self.title}" if self.title else ""
        return f"{title}{self.trace_note}"

    @property
    def trace_note(self) -> str:
        return f" (traceId {self.trace})" if self.trace else ""

    @property
    def tries(self) -> str:
        attempts = self.reply.attempts
        return f"{attempts} attempt{'s' if attempts != 1 else ''}"

    @property
    def is_page(self) -> bool:
        """The JSON page envelope (``data``); a truncated JSON body counts (it is big, not bad)."""
        if self.reply.truncated and "json" in self.reply.content_type:
            return True
        return isinstance(self.payload, dict) and isinstance(self.payload.get("data"), list)


def _refused(code: int, status: Status, reason: str) -> Rule[_ProbeAnswer]:
    """A row for a status code that is a definite answer about the entry."""
    return Rule(
        lambda a: a.code == code,
        status,
        reason,
        lambda a: f"GET {a.path} answered HTTP {code}{a.notes}",
    )


PROBE_ANSWERS: tuple[Rule[_ProbeAnswer], ...] = (
    Rule(
        lambda a: a.code == 200 and a.is_page,
        Status.PASS,
        None,
        lambda a: f"GET {a.path} answered 200 on {a.where}",
    ),
    Rule(
        lambda a: a.code == 200,
        Status.ERROR,
        "malformed_response",
        lambda a: (
            f"GET {a.path} answered 200 on {a.where}, but not with the JSON page envelope"
            f"{_html_note(a.reply)}"
        ),
    ),
    _refused(400, Status.FAIL, "bad_request"),
    _refused(401, Status.FAIL, "token_rejected"),
    _refused(403, Status.FAIL, "forbidden"),
    _refused(404, Status.FAIL, "probe_not_found"),
    Rule(
        lambda a: a.code == 429,
        Status.ERROR,
        "rate_limited",
        lambda a: (
            f"GET {a.path} still answered 429 after {a.tries}{_retry_note(a.reply)}{a.trace_note}"
        ),
    ),
    Rule(
        lambda a: a.code >= 500,
        Status.ERROR,
        "server_error",
        lambda a: (
            f"GET {a.path} answered HTTP {a.code}{_html_note(a.reply)}{a.trace_note}"
            f" after {a.tries}"
        ),
    ),
    Rule(
        always,
        Status.ERROR,
        "http_error",
        lambda a: f"GET {a.path} answered HTTP {a.code}{a.notes}",
    ),
)
"""How the probe's answer is classified: the first row that matches decides."""


def _html_note(answer: Reply) -> str:
    return " (an HTML page)" if answer.is_html else ""


_RETRY_AFTER = re.compile(r"\d{1,6}\Z")


def _retry_note(answer: Reply) -> str:
    """The server's ``Retry-After``, shown only when it is a number of seconds."""
    if answer.retry_after is None:
        return ""
    value = answer.retry_after.strip()
    return f"; Retry-After: {value if _RETRY_AFTER.match(value) else 'not a number of seconds'}"

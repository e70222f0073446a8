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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stcheck.model import Status
from stcheck.net import API_HOSTS, AUTH_HOSTS, DEFAULT_PROBE, PROBE_MODULES
from stcheck.net.http import Failure, HttpClient, Reply
from stcheck.scrubber import SecretScrubber

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
    text: Any, sent: Iterable[str], limit: int = 160, scrubber: SecretScrubber | None = None
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
    """
    host = AUTH_HOSTS[environment]
    form = {
        "grant_type": "client_credentials",
        "client_id": client_id,
        "client_secret": client_secret,
    }
    if tenant is not None:
        form["tenant"] = str(tenant)
    answer = client.post_token(environment, form)
    sent = (client_id, client_secret)
    if isinstance(answer, Failure):
        return TokenOutcome(
            environment,
            answer.status,
            answer.reason,
            answer.message,
            elapsed=answer.elapsed,
            attempts=answer.attempts,
        )
    where = f"{host}{answer.via}"
    tries = f"{answer.attempts} attempt{'s' if answer.attempts != 1 else ''}"

    def outcome(status: Status, reason: str | None, message: str, **got: Any) -> TokenOutcome:
        return TokenOutcome(
            environment,
            status,
            reason,
            message,
            elapsed=answer.elapsed,
            attempts=answer.attempts,
            **got,
        )

    payload = answer.json()
    if answer.status == 200:
        if not isinstance(payload, dict):
            return outcome(
                Status.ERROR,
                "malformed_response",
                f"{where} answered 200 with a body that is not a JSON object{_html_note(answer)}",
            )
        token = payload.get("access_token")
        if not isinstance(token, str) or not token.strip():
            return outcome(
                Status.ERROR, "malformed_response", f"{where} answered 200 without an access_token"
            )
        token_type = payload.get("token_type")
        return outcome(
            Status.PASS,
            None,
            f"{where} issued a token",
            access_token=token.strip(),
            token_type=token_type if isinstance(token_type, str) else None,
            expires_in=_seconds(payload.get("expires_in")),
            scopes=_scopes(payload.get("scope"), token),
        )
    if answer.status == 429:
        return outcome(
            Status.ERROR,
            "rate_limited",
            f"{where} still answered 429 Too Many Requests after {tries}{_retry_note(answer)}",
        )
    if answer.status >= 500:
        return outcome(
            Status.ERROR,
            "server_error",
            f"{where} answered HTTP {answer.status}{_html_note(answer)} after {tries}",
        )
    if isinstance(payload, dict) and "error" in payload:
        error = payload["error"]
        if isinstance(error, str) and (error in OAUTH_FAIL or error in OAUTH_ERROR):
            status = Status.FAIL if error in OAUTH_FAIL else Status.ERROR
            return outcome(status, error, f"{where} answered HTTP {answer.status} {error}")
        # A name nobody checked: shown only if it is a plain word and cannot be an echo.
        shown = "an unrecognised error name"
        if (
            isinstance(error, str)
            and _SAFE_ERROR_NAME.match(error)
            and scrub(error, sent, 64, client.scrubber) == error
        ):
            shown = error
        if answer.status == 401:  # the 401 is the definite part
            return outcome(Status.FAIL, "token_rejected", f"{where} answered HTTP 401 with {shown}")
        return outcome(
            Status.ERROR,
            "oauth_error",
            f"{where} answered HTTP {answer.status} {shown}: an OAuth error stcheck does not"
            " know, so it cannot tell what it means (the token endpoint is throttled, and how"
            " it says so is not documented)",
        )
    if answer.status == 401:
        return outcome(
            Status.FAIL,
            "token_rejected",
            f"{where} answered HTTP 401 without an OAuth error name",
        )
    return outcome(
        Status.ERROR,
        "http_error",
        f"{where} answered HTTP {answer.status}{_html_note(answer)}",
    )


def _seconds(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and value.strip().isdigit():
        return float(value.strip())
    return None


def _scopes(scope: Any, token: str) -> tuple[str, ...] | None:
    """Scopes from the response's ``scope`` (space-separated), else from a JWT's ``scope`` claim."""
    if isinstance(scope, str):
        return tuple(scope.split())
    if isinstance(scope, list) and all(isinstance(s, str) for s in scope):
        return tuple(scope)
    claims = jwt_claims(token)
    claim = claims.get("scope") if claims else None
    if isinstance(claim, str):
        return tuple(claim.split())
    if isinstance(claim, list) and all(isinstance(s, str) for s in claim):
        return tuple(claim)
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
    """GET the probe page (``pageSize=1``) and classify the answer; the body is not kept."""
    host = API_HOSTS[environment]
    answer = client.get_api(
        environment,
        path,
        params={"pageSize": "1"},
        headers={"Authorization": f"Bearer {token}", "ST-App-Key": app_key},
    )
    if isinstance(answer, Failure):
        return ProbeOutcome(answer.status, answer.reason, answer.message, elapsed=answer.elapsed)
    sent = (token, app_key)
    where = f"{host}{answer.via}"
    payload = answer.json()
    fields = payload if isinstance(payload, dict) else {}
    trace = scrub(fields.get("traceId"), sent, 80, client.scrubber)
    title = scrub(fields.get("title"), sent, 160, client.scrubber)
    trace_note = f" (traceId {trace})" if trace else ""
    title_note = f": {title}" if title else ""
    status = answer.status

    def outcome(result: Status, reason: str | None, message: str) -> ProbeOutcome:
        return ProbeOutcome(result, reason, message, status, trace or None, answer.elapsed)

    if status == 200:
        if answer.truncated and "json" in answer.content_type:
            return outcome(Status.PASS, None, f"GET {path} answered 200 on {where}")
        if isinstance(payload, dict) and isinstance(payload.get("data"), list):
            return outcome(Status.PASS, None, f"GET {path} answered 200 on {where}")
        return outcome(
            Status.ERROR,
            "malformed_response",
            f"GET {path} answered 200 on {where}, but not with the JSON page envelope"
            f"{_html_note(answer)}",
        )
    known: dict[int, tuple[Status, str]] = {
        400: (Status.FAIL, "bad_request"),
        401: (Status.FAIL, "token_rejected"),
        403: (Status.FAIL, "forbidden"),
        404: (Status.FAIL, "probe_not_found"),
    }
    if status in known:
        result, reason = known[status]
        return outcome(result, reason, f"GET {path} answered HTTP {status}{title_note}{trace_note}")
    if status == 429:
        return outcome(
            Status.ERROR,
            "rate_limited",
            f"GET {path} still answered 429 after {answer.attempts} attempt"
            f"{'s' if answer.attempts != 1 else ''}{_retry_note(answer)}{trace_note}",
        )
    if status >= 500:
        return outcome(
            Status.ERROR,
            "server_error",
            f"GET {path} answered HTTP {status}{_html_note(answer)}{trace_note}"
            f" after {answer.attempts} attempt{'s' if answer.attempts != 1 else ''}",
        )
    return outcome(
        Status.ERROR, "http_error", f"GET {path} answered HTTP {status}{title_note}{trace_note}"
    )


def _html_note(answer: Reply) -> str:
    return " (an HTML page)" if answer.is_html else ""


_RETRY_AFTER = re.compile(r"\d{1,6}\Z")


def _retry_note(answer: Reply) -> str:
    """The server's ``Retry-After``, shown only when it is a number of seconds."""
    if answer.retry_after is None:
        return ""
    value = answer.retry_after.strip()
    return f"; Retry-After: {value if _RETRY_AFTER.match(value) else 'not a number of seconds'}"

"""The ``token`` check: each client pair obtains a token from its environment's token endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stcheck.api import Check, CheckContext, Result, Status, hookimpl
from stcheck.checks.support.entrycheck import EntryCheck
from stcheck.servicetitan_scopes import safe_scopes

if TYPE_CHECKING:
    from stcheck.checks.support.preconditions import EntryToken
    from stcheck.manifest import Entry

EXPECTED_EXPIRES_IN = 900
KNOWN_TOKEN_TYPES = frozenset({"bearer", "mac", "dpop", "pop", "basic", "n_a"})
"""``token_type`` values a message may name; any other server text is not shown."""


def required_scopes(ctx: CheckContext) -> list[str]:
    scopes: Any = ctx.manifest.app.get("required_scopes")
    if not isinstance(scopes, list):
        return []
    return [scope for scope in scopes if isinstance(scope, str)]


class TokenCheck(EntryCheck):
    """Each client pair obtains a token from its own environment's token endpoint.

    POSTs the OAuth 2.0 client-credentials grant (form-encoded ``grant_type``,
    ``client_id``, ``client_secret``) to
    ``https://auth-integration.servicetitan.io/connect/token`` or
    ``https://auth.servicetitan.io/connect/token`` — the host follows from the
    entry's environment, never from the manifest. For an entry with an
    ``enterprise_group`` (an Enterprise Hub pair serving several tenants) the
    request also carries ``tenant=<tenant_id>``: the one public client library
    that supports Enterprise Hub sends that field as required for such clients.
    Exactly one token request per (environment, client ID) per run — per
    (environment, client ID, tenant) for Enterprise Hub entries; ordinary
    entries sharing a client pair share the token. Tokens live in memory for
    the run only.

    - ``fail`` with the OAuth error name: ``invalid_client`` (wrong ID or
      secret, a deactivated secret, whitespace, or the *other environment's*
      pair), ``unauthorized_client``, ``invalid_scope``; ``token_rejected``
      for a 401;
    - ``fail`` ``missing_scopes``: the token's ``scope`` lacks one of
      ``app.required_scopes`` (compared when both are present);
    - ``warn`` ``unexpected_expiry``: ``expires_in`` is not the documented 900 s;
    - ``error`` (could not tell): ``timeout``, ``connection_error``,
      ``tls_error``, ``dns_error``, ``server_error`` (5xx, often HTML),
      ``rate_limited`` (still 429 after retries), ``redirect_blocked``,
      ``malformed_response``, ``bad_token_type`` (not ``Bearer``),
      ``invalid_request``/``unsupported_grant_type`` (stcheck's request was
      refused as malformed: mangled on the way, or a bug — or, for an
      Enterprise Hub pair, a missing ``enterprise_group``), ``oauth_error``
      (an error name stcheck does not know, such as ``invalid_grant``, which
      has no meaning for this grant: throttling of the token endpoint is
      documented but its answer is not);
    - ``skip`` ``depends_on_failure``: the entry's credentials did not resolve,
      or the token host did not resolve.

    Facts: ``scopes_stated`` (``yes``/``no``) and, when stated, ``scopes``.
    """

    id = "token"
    stage = "entry"
    network = True
    order = 60

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        from stcheck.checks.support.preconditions import entry_token
        from stcheck.net import AUTH_HOSTS

        host = AUTH_HOSTS[entry.environment]
        ready = entry_token(ctx, self.id, entry, hosts=(host,), field="client_id")
        if isinstance(ready, Result):
            return [ready]
        outcome = ready.grant.outcome
        shared = _shared_note(ready, entry)
        if not outcome.ok:
            return [
                self._result(ctx, entry, outcome.status, outcome.message + shared, outcome.reason)
            ]
        facts = _scope_facts(ctx, ready)
        findings = [
            finding
            for finding in (
                _token_type_problem(outcome.token_type, host),
                _missing_scopes(required_scopes(ctx), outcome.scopes, host),
                _expiry_problem(outcome.expires_in, host),
            )
            if finding is not None
        ]
        if findings:
            return [
                self._result(ctx, entry, status, message + shared, reason, facts)
                for status, reason, message in findings
            ]
        message = f"{outcome.message}: Bearer, expires in {EXPECTED_EXPIRES_IN} s"
        note = _scope_note(required_scopes(ctx), outcome.scopes)
        return [self._result(ctx, entry, Status.PASS, message + note + shared, None, facts)]


Finding = tuple[Status, str, str]
"""(status, reason, message) of one thing wrong with an issued token."""


def _shared_note(ready: EntryToken, entry: Entry) -> str:
    """Whose request the token came from, and for which tenant (Enterprise Hub)."""
    from stcheck.checks.support.services import token_tenant

    note = (
        "" if ready.requested else (f" (the token obtained for {ready.grant.requested_by}, reused)")
    )
    if token_tenant(entry) is not None:
        note += f" (Enterprise Hub: requested for tenant {entry.tenant_id})"
    return note


def _scope_facts(ctx: CheckContext, ready: EntryToken) -> dict[str, str | tuple[str, ...]]:
    """``scopes_stated`` and, when stated, the scopes safe to show."""
    from stcheck.checks.support.services import http_client
    from stcheck.net.servicetitan import scrub
    from stcheck.scrubber import Sent

    scopes = ready.grant.outcome.scopes
    if scopes is None:
        return {"scopes_stated": "no"}
    # Server-provided: only scope-shaped names, and none that is (or holds) a value sent.
    sent = Sent((ready.client_id, ready.client_secret))
    scrubber = http_client(ctx).scrubber
    stated = tuple(s for s in safe_scopes(scopes) if scrub(s, sent, 200, scrubber) == s)
    return {"scopes_stated": "yes", "scopes": stated}


def _token_type_problem(token_type: str | None, host: str) -> Finding | None:
    if token_type is not None and token_type.lower() == "bearer":
        return None
    shown = (
        repr(token_type)
        if token_type and token_type.lower() in KNOWN_TOKEN_TYPES
        else ("an unexpected value (not shown)" if token_type else "missing")
    )
    message = f"{host} issued a token whose token_type is {shown}, not Bearer"
    return Status.ERROR, "bad_token_type", message


def _missing_scopes(wanted: list[str], scopes: tuple[str, ...] | None, host: str) -> Finding | None:
    if not wanted or scopes is None:
        return None
    missing = [scope for scope in wanted if scope not in scopes]
    if not missing:
        return None
    plural = "s" if len(missing) > 1 else ""
    message = f"the token from {host} lacks required scope{plural} {', '.join(missing)}"
    return Status.FAIL, "missing_scopes", message


def _expiry_problem(expires_in: float | None, host: str) -> Finding | None:
    if expires_in == EXPECTED_EXPIRES_IN:
        return None
    shown = "no expires_in" if expires_in is None else f"expires_in {expires_in:g} s"
    message = f"the token from {host} has {shown}, not {EXPECTED_EXPIRES_IN} s"
    return Status.WARN, "unexpected_expiry", message


def _scope_note(wanted: list[str], scopes: tuple[str, ...] | None) -> str:
    if wanted and scopes is not None:
        return ", required scopes present"
    if wanted:
        return ", no scope in the answer to compare with app.required_scopes"
    return ""


@hookimpl
def stcheck_checks() -> list[Check]:
    return [TokenCheck()]

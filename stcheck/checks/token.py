"""The ``token`` check: each client pair obtains a token from its environment's token endpoint."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stcheck.api import Check, CheckContext
from stcheck.hookspecs import hookimpl
from stcheck.model import Result, Status
from stcheck.net import AUTH_HOSTS
from stcheck.servicetitan_scopes import safe_scopes

if TYPE_CHECKING:
    from stcheck.manifest import Entry

EXPECTED_EXPIRES_IN = 900
KNOWN_TOKEN_TYPES = frozenset({"bearer", "mac", "dpop", "pop", "basic", "n_a"})
"""``token_type`` values a message may name; any other server text is not shown."""


def required_scopes(ctx: CheckContext) -> list[str]:
    scopes: Any = ctx.manifest.app.get("required_scopes")
    if not isinstance(scopes, list):
        return []
    return [scope for scope in scopes if isinstance(scope, str)]


class TokenCheck(Check):
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
        from stcheck.net.lookup import unresolved_skip
        from stcheck.net.runtime import http_client, token_grant, token_tenant
        from stcheck.net.secretstore import credential_problem, entry_credentials
        from stcheck.net.servicetitan import scrub

        creds = entry_credentials(ctx, entry)
        if not creds.ok:
            return [credential_problem(ctx, self.id, entry, creds)]
        host = AUTH_HOSTS[entry.environment]
        skipped = unresolved_skip(ctx, self.id, entry, (host,), "client_id")
        if skipped is not None:
            return [skipped]
        assert creds.client_id is not None and creds.client_secret is not None
        grant, requested = token_grant(ctx, entry, creds.client_id, creds.client_secret)
        outcome = grant.outcome
        shared = "" if requested else f" (the token obtained for {grant.requested_by}, reused)"
        if token_tenant(entry) is not None:
            shared += f" (Enterprise Hub: requested for tenant {entry.tenant_id})"
        if not outcome.ok:
            return [
                self._result(ctx, entry, outcome.status, outcome.message + shared, outcome.reason)
            ]
        facts: dict[str, str | tuple[str, ...]] = {"scopes_stated": "no"}
        if outcome.scopes is not None:
            # Server-provided: only scope-shaped names, and none that is (or holds) a value sent.
            sent = (creds.client_id, creds.client_secret)
            scrubber = http_client(ctx).scrubber
            stated = tuple(
                s for s in safe_scopes(outcome.scopes) if scrub(s, sent, 200, scrubber) == s
            )
            facts = {"scopes_stated": "yes", "scopes": stated}
        results: list[Result] = []
        token_type = outcome.token_type
        if token_type is None or token_type.lower() != "bearer":
            shown = (
                repr(token_type)
                if token_type and token_type.lower() in KNOWN_TOKEN_TYPES
                else ("an unexpected value (not shown)" if token_type else "missing")
            )
            results.append(
                self._result(
                    ctx,
                    entry,
                    Status.ERROR,
                    f"{host} issued a token whose token_type is {shown}, not Bearer{shared}",
                    "bad_token_type",
                    facts,
                )
            )
        wanted = required_scopes(ctx)
        if wanted and outcome.scopes is not None:
            missing = [scope for scope in wanted if scope not in outcome.scopes]
            if missing:
                results.append(
                    self._result(
                        ctx,
                        entry,
                        Status.FAIL,
                        f"the token from {host} lacks required scope"
                        f"{'s' if len(missing) > 1 else ''} {', '.join(missing)}{shared}",
                        "missing_scopes",
                        facts,
                    )
                )
        if outcome.expires_in != EXPECTED_EXPIRES_IN:
            shown = (
                "no expires_in"
                if outcome.expires_in is None
                else (f"expires_in {outcome.expires_in:g} s")
            )
            results.append(
                self._result(
                    ctx,
                    entry,
                    Status.WARN,
                    f"the token from {host} has {shown}, not {EXPECTED_EXPIRES_IN} s{shared}",
                    "unexpected_expiry",
                    facts,
                )
            )
        if results:
            return results
        scope_note = ""
        if wanted and outcome.scopes is not None:
            scope_note = ", required scopes present"
        elif wanted:
            scope_note = ", no scope in the answer to compare with app.required_scopes"
        return [
            self._result(
                ctx,
                entry,
                Status.PASS,
                f"{outcome.message}: Bearer, expires in {EXPECTED_EXPIRES_IN} s"
                f"{scope_note}{shared}",
                None,
                facts,
            )
        ]

    def _result(
        self,
        ctx: CheckContext,
        entry: Entry,
        status: Status,
        message: str,
        reason: str | None,
        facts: dict[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        return ctx.entry_result(
            self.id, entry, status, message, reason=reason, field="client_id", facts=facts
        )


@hookimpl
def stcheck_checks() -> list[Check]:
    return [TokenCheck()]

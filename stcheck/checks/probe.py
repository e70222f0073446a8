"""The ``api`` check: app key, token and tenant work together on one cheap, low-PII API probe."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from stcheck.api import Check, CheckContext, Result, Status, hookimpl
from stcheck.checks.support.entrycheck import EntryCheck

if TYPE_CHECKING:
    from stcheck.manifest import Entry
    from stcheck.net.servicetitan import TokenOutcome


class ApiCheck(EntryCheck):
    """The app key, the entry's token and its tenant ID work together on one low-PII API read.

    Sends ``GET https://{api host}/{module}/v2/tenant/{tenant_id}/{resource}?pageSize=1``
    with ``Authorization: Bearer <token>`` and ``ST-App-Key: <app key>`` — the
    app key as a header, never in the URL. The body is read only far enough to
    see the JSON page envelope (``data``), then dropped: never stored or
    printed. One probe per entry; ServiceTitan's limit of 60 requests/s per app
    and tenant is never approached.

    Which resource: ``app.probe`` when set. Otherwise ``settings/business-units``
    (it needs the scope ``tn.stt.businessunits:r``) — unless the token states
    its scopes and they do not include that one: then the first of
    ``settings/tag-types`` (``tn.stt.tagtypes:r``) and ``jpm/job-types``
    (``tn.jpm.jobtypes:r``) the scopes allow. Every ServiceTitan read needs a
    scope, and a working token without it gets 403: that is a fact about the
    app's scopes, not about its credentials.

    - ``fail`` ``token_rejected`` (401): the token or the app key was refused;
    - ``fail`` ``forbidden`` (403) with a working token — most likely first: the
      entry's ``tenant_id`` is not the tenant of this client pair, the app lacks
      the probe's scope, or the tenant's admin has not accepted the app's new
      scope version (a client pair exists only after the admin clicked *Allow*,
      so "never connected" is not a cause);
    - ``warn`` ``probe_scope_not_granted``: the probe answered 403 and the
      token's stated scopes do not include the one the probe needs — the probe
      could not tell; the message names the scope and a probe the token allows;
    - ``fail`` ``probe_not_found`` (404), ``bad_request`` (400);
    - ``error`` (could not tell): ``rate_limited`` (still 429 after retries),
      ``server_error``, ``timeout``, ``connection_error``, ``tls_error``,
      ``redirect_blocked``, ``malformed_response``, ``http_error``;
    - ``skip`` ``depends_on_failure``: no token (see the token check), the app
      key or the client pair did not resolve, or the API host did not resolve.

    Facts: ``probe``, ``probe_source`` (``manifest``, ``default`` or
    ``token_scopes``), ``probe_scope`` (when known) and ``scopes_stated``.
    """

    id = "api"
    located_at = "tenant_id"
    stage = "entry"
    network = True
    order = 70

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        from stcheck.checks.support.preconditions import entry_token
        from stcheck.net import API_HOSTS, AUTH_HOSTS
        from stcheck.net.servicetitan import probe_path

        configured = ctx.manifest.app.get("probe")
        if probe_path(configured, entry.tenant_id) is None:
            return [self._bad_probe(ctx, entry)]
        app_key = self._app_key(ctx, entry)
        if isinstance(app_key, Result):
            return [app_key]
        hosts = (API_HOSTS[entry.environment], AUTH_HOSTS[entry.environment])
        ready = entry_token(ctx, self.id, entry, hosts=hosts, field="tenant_id")
        if isinstance(ready, Result):
            return [ready]
        token = self._usable_token(ctx, entry, ready.grant.outcome, prior)
        if isinstance(token, Result):
            return [token]
        return [self._probe(ctx, entry, configured, ready.grant.outcome.scopes, token, app_key)]

    def _bad_probe(self, ctx: CheckContext, entry: Entry) -> Result:
        return self.result(
            ctx,
            Status.SKIP,
            "not run: app.probe is not an allowed MODULE/RESOURCE (see the schema check)",
            reason="depends_on_failure",
            pointer="/app/probe",
            tenant=entry.tenant,
            environment=entry.environment,
        )

    def _app_key(self, ctx: CheckContext, entry: Entry) -> str | Result:
        """The resolved app key, or the result to report instead."""
        from stcheck.checks.support.secretstore import secret_store

        store = secret_store(ctx)
        app_key = store.resolve(ctx.manifest.directory, ctx.manifest.app.get("app_key"))
        if app_key.value is not None:
            return app_key.value
        if app_key.reason == "depends_on_failure" or store.checked(ctx.manifest.path):
            return self._result(
                ctx,
                entry,
                Status.SKIP,
                "not run: the app key did not resolve (see the credentials check)",
                "depends_on_failure",
            )
        return self.result(
            ctx,
            Status.FAIL,
            app_key.message,
            reason=app_key.reason,
            pointer="/app/app_key",
            tenant=entry.tenant,
            environment=entry.environment,
        )

    def _usable_token(
        self, ctx: CheckContext, entry: Entry, outcome: TokenOutcome, prior: Sequence[Result]
    ) -> str | Result:
        """The Bearer token to probe with, or the result to report instead."""
        bearer = outcome.token_type is not None and outcome.token_type.lower() == "bearer"
        if outcome.ok and bearer and outcome.access_token is not None:
            return outcome.access_token
        if any(result.check == "token" for result in prior):
            message = "not run: no usable token (see the token check)"
            return self._result(ctx, entry, Status.SKIP, message, "depends_on_failure")
        if outcome.ok:  # a token, but not a Bearer one; the token check is deselected
            message = "no usable token: the token_type is not Bearer"
            return self._result(ctx, entry, Status.ERROR, message, "bad_token_type")
        message = f"no token: {outcome.message}"
        return self._result(ctx, entry, outcome.status, message, outcome.reason)

    def _probe(
        self,
        ctx: CheckContext,
        entry: Entry,
        configured: object,
        scopes: tuple[str, ...] | None,
        token: str,
        app_key: str,
    ) -> Result:
        """Send the probe and say what its answer means for this entry."""
        from stcheck.checks.support.services import http_client
        from stcheck.net.probes import choose_probe
        from stcheck.net.servicetitan import probe, probe_path

        choice = choose_probe(configured, scopes)
        path = probe_path(choice.probe, entry.tenant_id)
        assert path is not None  # a configured probe was checked above; the others are ours
        answer = probe(http_client(ctx), entry.environment, path, token=token, app_key=app_key)
        status, reason, message = answer.status, answer.reason, answer.message
        if status is Status.PASS:
            message = (
                f"app key, token and tenant {entry.tenant_id} work together: {answer.message}"
                f"{choice.note}"
            )
        elif reason == "forbidden" and choice.granted is False:
            status, reason = Status.WARN, "probe_scope_not_granted"
            message = f"{answer.message}: {choice.not_granted(entry.tenant_id)}"
        elif reason == "forbidden":
            message = f"{answer.message}: {choice.forbidden(entry.tenant_id)}"
        return self._result(ctx, entry, status, message, reason, choice.facts)


@hookimpl
def stcheck_checks() -> list[Check]:
    return [ApiCheck()]

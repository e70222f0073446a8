"""The ``api`` check: app key, token and tenant work together on a cheap, low-PII API read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from stcheck.api import Check, CheckContext
from stcheck.hookspecs import hookimpl
from stcheck.model import Result, Status
from stcheck.net import API_HOSTS, AUTH_HOSTS

if TYPE_CHECKING:
    from stcheck.manifest import Entry


class ApiCheck(Check):
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
    stage = "entry"
    network = True
    order = 70

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        from stcheck.net.lookup import unresolved_skip
        from stcheck.net.probes import choose_probe
        from stcheck.net.runtime import http_client, token_grant
        from stcheck.net.secretstore import credential_problem, entry_credentials, secret_store
        from stcheck.net.servicetitan import probe, probe_path

        configured = ctx.manifest.app.get("probe")
        if probe_path(configured, entry.tenant_id) is None:
            return [
                ctx.result(
                    self.id,
                    Status.SKIP,
                    "not run: app.probe is not an allowed MODULE/RESOURCE (see the schema check)",
                    reason="depends_on_failure",
                    pointer="/app/probe",
                    tenant=entry.tenant,
                    environment=entry.environment,
                )
            ]
        app_key = secret_store(ctx).resolve(ctx.manifest.directory, ctx.manifest.app.get("app_key"))
        if not app_key.ok:
            if app_key.reason == "depends_on_failure" or secret_store(ctx).checked(
                ctx.manifest.path
            ):
                return [
                    self._result(
                        ctx,
                        entry,
                        Status.SKIP,
                        "not run: the app key did not resolve (see the credentials check)",
                        "depends_on_failure",
                    )
                ]
            return [
                ctx.result(
                    self.id,
                    Status.FAIL,
                    app_key.message,
                    reason=app_key.reason,
                    pointer="/app/app_key",
                    tenant=entry.tenant,
                    environment=entry.environment,
                )
            ]
        creds = entry_credentials(ctx, entry)
        if not creds.ok:
            return [credential_problem(ctx, self.id, entry, creds)]
        hosts = (API_HOSTS[entry.environment], AUTH_HOSTS[entry.environment])
        skipped = unresolved_skip(ctx, self.id, entry, hosts, "tenant_id")
        if skipped is not None:
            return [skipped]
        assert creds.client_id is not None and creds.client_secret is not None
        assert app_key.value is not None
        grant, _ = token_grant(ctx, entry, creds.client_id, creds.client_secret)
        outcome = grant.outcome
        bearer = outcome.token_type is not None and outcome.token_type.lower() == "bearer"
        if not outcome.ok or not bearer or outcome.access_token is None:
            if any(result.check == "token" for result in prior):
                return [
                    self._result(
                        ctx,
                        entry,
                        Status.SKIP,
                        "not run: no usable token (see the token check)",
                        "depends_on_failure",
                    )
                ]
            if outcome.ok:  # a token, but not a Bearer one; the token check is deselected
                return [
                    self._result(
                        ctx,
                        entry,
                        Status.ERROR,
                        "no usable token: the token_type is not Bearer",
                        "bad_token_type",
                    )
                ]
            return [
                self._result(
                    ctx, entry, outcome.status, f"no token: {outcome.message}", outcome.reason
                )
            ]
        choice = choose_probe(configured, outcome.scopes)
        path = probe_path(choice.probe, entry.tenant_id)
        assert path is not None  # a configured probe was checked above; the others are ours
        answer = probe(
            http_client(ctx),
            entry.environment,
            path,
            token=outcome.access_token,
            app_key=app_key.value,
        )
        status, reason = answer.status, answer.reason
        message = answer.message
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
        return [self._result(ctx, entry, status, message, reason, choice.facts)]

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
            self.id, entry, status, message, reason=reason, field="tenant_id", facts=facts
        )


@hookimpl
def stcheck_checks() -> list[Check]:
    return [ApiCheck()]

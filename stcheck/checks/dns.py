"""The ``dns`` check: the ServiceTitan hosts of the environments in use resolve."""

from __future__ import annotations

from collections.abc import Iterable

from stcheck.api import Check, CheckContext, Result, Status, hookimpl

_STATUS_RANK = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.ERROR: 2, Status.FAIL: 3}


class DnsCheck(Check):
    """The API and token-endpoint hosts of each environment in use resolve.

    For every environment that a selected entry uses, resolves its two hosts
    (``auth-integration.servicetitan.io`` and ``api-integration.servicetitan.io``,
    or ``auth.servicetitan.io`` and ``api.servicetitan.io``) with the system
    resolver, the way the HTTP requests will: a host given with ``--resolve``
    "resolves" to that address, and a host reached through a proxy is resolved
    by the proxy (``skip``, ``not_applicable``).

    - ``fail`` ``dns_error``: the name does not exist for this runner's resolver;
    - ``error`` ``dns_error``: the resolver failed or did not answer within
      ``--timeout``;
    - ``warn`` ``private_address``: a loopback or private address — expected
      with ``--resolve`` or an internal gateway, suspicious otherwise.

    One result per environment. Token and API checks of an environment whose
    host failed are skipped (``depends_on_failure``).
    """

    id = "dns"
    stage = "manifest"
    network = True
    order = 50

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        from stcheck.checks.support.services import dns_store, net_config
        from stcheck.net import API_HOSTS, AUTH_HOSTS, ENVIRONMENTS

        entries = ctx.entries
        used = [env for env in ENVIRONMENTS if any(e.environment == env for e in entries)]
        if not used:
            return [
                self.result(
                    ctx,
                    Status.SKIP,
                    "no selected entry: no host to resolve",
                    reason="not_applicable",
                )
            ]
        hosts = [host for env in used for host in (AUTH_HOSTS[env], API_HOSTS[env])]
        lookups = dns_store(ctx).lookup_all(hosts, net_config(ctx))
        results = []
        for env in used:
            pair = [lookups[AUTH_HOSTS[env]], lookups[API_HOSTS[env]]]
            worst = max(pair, key=lambda lookup: _STATUS_RANK[lookup.status])
            if all(lookup.status is Status.SKIP for lookup in pair):
                status, reason = Status.SKIP, "not_applicable"
            elif worst.status is Status.SKIP:
                status, reason = Status.PASS, None
            else:
                status, reason = worst.status, worst.reason
            first = next(e for e in entries if e.environment == env)
            message = "; ".join(lookup.message for lookup in pair)
            if status is Status.WARN and reason == "private_address":
                message += ": a loopback or private address"
            results.append(
                self.result(
                    ctx,
                    status,
                    message,
                    reason=reason,
                    pointer=first.pointer,
                    environment=env,
                )
            )
        return results


@hookimpl
def stcheck_checks() -> list[Check]:
    return [DnsCheck()]

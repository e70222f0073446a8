"""The ``golive`` check: per tenant, is production ready? (the go-live readiness report)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TYPE_CHECKING

from stcheck.api import Check, CheckContext, Result, Status, hookimpl
from stcheck.gcpause import paused_gc
from stcheck.text import clipped

if TYPE_CHECKING:
    from stcheck.readiness import ReadinessView, TenantReadiness


class GoLiveCheck(Check):
    """Go-live readiness: per tenant, is production ready? Blocking and advisory items, a verdict.

    Runs last (``summary`` stage) in ``stcheck report`` — elsewhere only with
    ``--select golive`` — and reads the results of the other checks by
    (check, tenant, environment). It needs no network itself: in an offline run
    (``stcheck report --offline``) the items that need the network are shown as
    *not checked*.

    Blocking items (all must pass for the verdict *ready*):

    - ``manifest_valid`` — the ``schema``, ``references`` and ``unique`` checks
      ran and no problem of theirs concerns this tenant's entries or the app
      settings (not checked when one of them was deselected);
    - ``production_entry`` — a complete ``environments.production`` entry;
    - ``distinct_references`` — production and integration reference different
      client IDs and secrets;
    - ``distinct_values`` — online, the resolved production values differ from
      the integration ones (reported by the ``credentials`` check);
    - ``app_key`` — the ``app.app_key`` reference is valid and, online, resolves;
    - ``production_credentials`` — the production client ID and secret resolve;
    - ``production_token`` — the production token endpoint issues a token;
    - ``production_probe`` — the API probe passes in production. A 403 with a
      working token fails it; most likely first, ``tenant_id`` is not the
      production pair's tenant, the app lacks the probe's scope, or the tenant's
      admin has not accepted the app's new scope version. A probe whose scope
      the token's stated scopes lack (``probe_scope_not_granted``) leaves it
      not checked: the 403 could not tell;
    - ``scopes`` — the token grants ``app.required_scopes`` (blocking when the
      token states its scopes, advisory when it does not);
    - ``attestation.app_approved``, ``attestation.tenant_admin_connected``,
      ``attestation.api_terms_accepted`` — recorded in ``go_live.attestations``
      with who (``by``) and when (``on``, not in the future).

    Advisory items (shown, never change the verdict): ``integration_verified``
    (integration token and probe pass), other attestations as given,
    ``target_date`` (days left, or overdue) and ``secret_age``
    (``secret_created_on`` older than 365 days).

    Verdict: *ready* when every blocking item passes; *not ready* when one
    fails (result ``fail``, reason ``not_ready``); *unknown* when none fails
    but some could not be checked (result ``warn``, reason
    ``readiness_unknown``); *not planned* when the tenant is not going live —
    it has no ``environments.production`` entry, or ``go_live.planned`` is
    false (with ``go_live.because``) — whatever its items say (result
    ``skip``, reason ``not_planned``): counted apart, never failing
    ``report --strict``. ``--today YYYY-MM-DD`` fixes the date the target
    date and ages are counted from.

    Report options: ``--group-by owner|enterprise_group`` groups the
    Markdown and HTML listings; ``--not-ready-only`` lists only the tenants
    that fail ``--strict`` (the counts still cover every tenant).
    """

    id = "golive"
    stage = "summary"
    network = False
    order = 90
    commands = frozenset({"report"})

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        from stcheck.checks.golive.assess import Evidence, assess, today_of

        today = today_of(ctx.options)
        evidence = Evidence(ctx.results, ctx.options)
        sink = ctx.run.readiness
        ctx.run.readiness_view = _view(ctx.options.extra)
        results: list[Result] = []
        with paused_gc(freeze=True):
            for position, tenant in ctx.manifest.tenants():
                name = tenant.get("name")
                if not isinstance(name, str) or not ctx.options.selects_tenant(name):
                    continue
                readiness = assess(ctx, position, tenant, evidence, today)
                sink.append(readiness)
                results.append(self._result(ctx, position, readiness))
        if not results:
            results.append(
                self.result(
                    ctx,
                    Status.SKIP,
                    "golive: the manifest lists no tenant to assess",
                    reason="not_applicable",
                    pointer="/tenants",
                )
            )
        return results

    def _result(self, ctx: CheckContext, position: int, readiness: TenantReadiness) -> Result:
        status, message, reason = _verdict_line(readiness)
        return self.result(
            ctx,
            status,
            message,
            reason=reason,
            pointer=f"/tenants/{position}",
            tenant=readiness.tenant,
        )


def _verdict_line(readiness: TenantReadiness) -> tuple[Status, str, str | None]:
    """The ``golive`` result for one tenant: status, message and reason."""
    blocking = len(readiness.blocking)
    if readiness.verdict == "not_planned":
        return (
            Status.SKIP,
            f"not planned for production: {clipped(readiness.not_planned_because or '', 200)}",
            "not_planned",
        )
    if readiness.verdict == "ready":
        return Status.PASS, f"ready for production: all {blocking} blocking items pass", None
    if readiness.verdict == "not_ready":
        blockers = readiness.blockers
        return (
            Status.FAIL,
            f"not ready for production: {len(blockers)} of {blocking} blocking items"
            f" {'fails' if len(blockers) == 1 else 'fail'}: "
            + "; ".join(item.title for item in blockers),
            "not_ready",
        )
    why = "this run is offline" if readiness.offline else "see the readiness report"
    return (
        Status.WARN,
        f"readiness unknown: {len(readiness.unchecked)} of {blocking} blocking items not checked"
        f" ({why}); none fails",
        "readiness_unknown",
    )


def _view(args: object) -> ReadinessView:
    from stcheck.readiness import ReadinessView

    group_by = getattr(args, "group_by", None)
    return ReadinessView(
        group_by=group_by if isinstance(group_by, str) else None,
        not_ready_only=getattr(args, "not_ready_only", False) is True,
    )


def _iso_date(text: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(text).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


@hookimpl
def stcheck_add_options(parser: argparse.ArgumentParser, command: str) -> None:
    group = parser.add_argument_group("go-live readiness")
    group.add_argument(
        "--today",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="judge target dates, attestation dates, secret ages and waiver expiry as of this"
        " date (default: today)",
    )
    if command != "report":
        return
    from stcheck.readiness import GROUP_KEYS

    group.add_argument(
        "--group-by",
        choices=GROUP_KEYS,
        help="group the Markdown and HTML listings by the tenants' owner or Enterprise Hub"
        " group, with counts per group (the JSON gives every tenant's key)",
    )
    group.add_argument(
        "--not-ready-only",
        action="store_true",
        help="list only the tenants that are not ready (and, online, unknown: what fails"
        " --strict); the counts still cover every tenant",
    )


@hookimpl
def stcheck_checks() -> list[Check]:
    return [GoLiveCheck()]

"""One tenant's go-live readiness, from its manifest entry and one run's results.

Used by the ``golive`` check (:mod:`stcheck.checks.golive`), which imports
this module only when it runs, so ``stcheck validate`` does not pay for it.
The rules themselves are :mod:`~stcheck.checks.golive.blocking`,
:mod:`~stcheck.checks.golive.attestations` and
:mod:`~stcheck.checks.golive.advisory`.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from typing import Any

from stcheck.api import CheckContext, RunOptions
from stcheck.checks.golive import advisory, blocking
from stcheck.checks.golive.attestations import attestations
from stcheck.checks.golive.evidence import Evidence, Subject
from stcheck.checks.golive.items import parse_date
from stcheck.readiness import Attestation, ReadinessItem, TenantReadiness, Verdict, verdict_of

__all__ = ["Evidence", "assess", "today_of"]


def today_of(options: RunOptions) -> datetime.date:
    """The date readiness is judged on: ``options.today``, ``--today``, else the real today."""
    text = options.today or getattr(options.extra, "today", None)
    if isinstance(text, str) and text:
        return datetime.date.fromisoformat(text)
    return datetime.date.today()


def assess(
    ctx: CheckContext,
    position: int,
    tenant: Mapping[str, Any],
    evidence: Evidence,
    today: datetime.date,
) -> TenantReadiness:
    """Build one tenant's readiness from the manifest and the other checks' results.

    Blocking items first (the rules, scopes when blocking, the standard
    attestations), then the advisory ones; the target date is judged against
    the verdict of the blocking items. A tenant that is not planned
    (:func:`not_planned_because`) keeps its items and gets ``not_planned``.
    """
    subject = Subject.of(ctx, position, tenant, evidence, today)
    rules, scopes, integration = _shared(subject)
    attested, attestation_items = attestations(subject)
    blockers = [
        rule(subject) if rule in blocking.OWN_VALUES else rules[rule] for rule in blocking.RULES
    ]
    blockers += [scopes] if scopes.blocking else []
    blockers += [item for item in attestation_items if item.blocking]
    because = not_planned_because(subject)
    verdict: Verdict = "not_planned" if because is not None else verdict_of(blockers)
    advice = [integration] if scopes.blocking else [integration, scopes]
    advice += [item for item in attestation_items if not item.blocking]
    advice += [advisory.target_date(subject, verdict), advisory.secret_age(subject)]
    return _readiness(subject, verdict, (*blockers, *advice), attested, because)


def _shared(subject: Subject) -> SharedItems:
    """:func:`shared_items`, worked out once per :func:`shape` for the tenants no result
    concerns (:meth:`Evidence.quiet`): offline, nearly every tenant of a fleet."""
    evidence = subject.evidence
    if evidence.quiet(subject.position, subject.name):
        return evidence.once(("shared_items", *shape(subject)), lambda: shared_items(subject))
    return shared_items(subject)


Rule = Callable[[Subject], ReadinessItem]
SharedItems = tuple[dict[Rule, ReadinessItem], ReadinessItem, ReadinessItem]


def shared_items(subject: Subject) -> SharedItems:
    """The items that read the run's results and the shape of the tenant's entries only:
    each rule's but :data:`~blocking.OWN_VALUES`, then ``scopes`` and
    ``integration_verified``."""
    rules = {rule: rule(subject) for rule in blocking.RULES if rule not in blocking.OWN_VALUES}
    return rules, blocking.scopes(subject), advisory.integration_verified(subject)


def shape(subject: Subject) -> tuple[bool, bool, bool, tuple[str, ...]]:
    """All :func:`shared_items` reads of a tenant that no result concerns: whether its
    production entry is complete, whether it has an integration mapping and whether that is
    a complete entry, and which credential references the two share."""
    return (
        subject.prod_tenant_id is not None,
        isinstance(subject.integration, dict),
        subject.int_complete,
        tuple(blocking.shared_references(subject)),
    )


def not_planned_because(subject: Subject) -> str | None:
    """Why the tenant is not going live, or None when it is planned.

    ``go_live.planned: false`` with a ``go_live.because`` says so; without
    ``go_live.planned``, a tenant with no ``environments.production`` key at
    all is not planned (integration only). Anything else keeps it planned —
    ``planned: true``, and a ``planned: false`` without a reason or a
    ``planned`` that is not a boolean (schema errors, so ``manifest_valid``
    fails): a gate fails closed.
    """
    planned = subject.go_live.get("planned")
    because = subject.go_live.get("because")
    if planned is False and isinstance(because, str) and because.strip():
        return printable(" ".join(because.split()))
    if planned is None and subject.production is None:
        return "no production entry (integration only)"
    return None


def _group(subject: Subject) -> str | None:
    for environment in (subject.production, subject.integration):
        if isinstance(environment, dict):
            group = environment.get("enterprise_group")
            if isinstance(group, str):
                return printable(group)
    return None


def printable(text: str) -> str:
    """``text`` with control and other unprintable characters shown as U+FFFD.

    Manifest text echoed in reports must not move a terminal's cursor or
    recolour a log; renderers escape the rest.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else "\ufffd" for char in text)


def _readiness(
    subject: Subject,
    verdict: Verdict,
    items: tuple[ReadinessItem, ...],
    attested: tuple[Attestation, ...],
    because: str | None,
) -> TenantReadiness:
    target_text = subject.go_live.get("target_date")
    target = parse_date(target_text)
    owner = subject.tenant.get("owner")
    app, today = subject.evidence.once("app_and_today", lambda: _app_and_today(subject))
    return TenantReadiness(
        tenant=subject.name,
        owner=printable(owner) if isinstance(owner, str) else None,
        verdict=verdict,
        items=items,
        target_date=target_text if isinstance(target_text, str) else None,
        days_left=(target - subject.today).days if target is not None else None,
        manifest=subject.ctx.manifest.path,
        app=app,
        attestations=attested,
        offline=subject.ctx.options.offline,
        today=today,
        not_planned_because=because,
        enterprise_group=_group(subject),
    )


def _app_and_today(subject: Subject) -> tuple[str | None, str]:
    """The app's name and the date judged on: the same for every tenant of the run."""
    name = subject.ctx.manifest.app.get("name")
    return (name if isinstance(name, str) else None), subject.today.isoformat()

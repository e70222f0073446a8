"""The go-live readiness model: per tenant, blocking and advisory items and one verdict.

The ``golive`` check (:mod:`stcheck.checks.golive`) builds one
:class:`TenantReadiness` per selected tenant from the manifest and the results
of the other checks; the runner puts them into ``RunReport.readiness``; the
readiness reporters (Markdown, HTML, JSON) render them. Everything here is
immutable and holds no secret: details name references, never their values.

Verdict rules (:func:`verdict_of`):

- ``ready`` — every blocking item passes;
- ``not_ready`` — at least one blocking item fails;
- ``unknown`` — no blocking item fails, but at least one could not be checked
  (an offline run, a deselected check, a timeout);
- ``ready_with_waivers`` — every blocking item passes but for failing ones a
  manifest waiver excuses (:mod:`stcheck.waivers`).
- ``not_planned`` — the tenant is not going live: it has no
  ``environments.production`` entry, or ``go_live.planned`` is false. Shown and
  counted apart, never "not ready", never failing ``report --strict``.

Advisory items (target date, secret age, extra attestations, ...) never change
the verdict.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, Literal, TypeVar, overload

from stcheck.model import RunReport, Status, Waiver
from stcheck.record import record, replace
from stcheck.text import bound_fields

State = Literal["pass", "fail", "not_checked"]
Verdict = Literal["ready", "not_ready", "unknown", "ready_with_waivers", "not_planned"]

STATES: tuple[State, ...] = ("pass", "fail", "not_checked")
VERDICTS: tuple[Verdict, ...] = (
    "not_ready",
    "unknown",
    "ready_with_waivers",
    "ready",
    "not_planned",
)
"""Verdicts from worst to best, then ``not_planned`` (the order reports list tenants in)."""

GROUP_KEYS: tuple[str, ...] = ("owner", "enterprise_group")
"""What ``stcheck report --group-by`` can group the tenants by."""

NEXT_ACTION_CHARS = 200
"""A tenant's next action is one line of at most this many characters."""

STANDARD_ATTESTATIONS: dict[str, str] = {
    "app_approved": "ServiceTitan approved the app",
    "tenant_admin_connected": (
        "The tenant's admin connected the app in production and accepted its current scopes"
    ),
    "api_terms_accepted": "The API Terms of Use were accepted",
}
"""The attestations every tenant needs before going live (blocking), with their titles."""

BIG_FLEET = 200
"""Reports of a fleet with more tenants than this show the tenants that need attention
(:func:`needs_attention`) in full and summarise the rest; the JSON output keeps everything."""

SECRET_MAX_AGE_DAYS = 365
"""A production client secret older than this is flagged (advisory)."""


VERDICT_LABELS: dict[Verdict, str] = {
    "not_ready": "❌ not ready",
    "unknown": "❔ unknown",
    "ready_with_waivers": "☑️ ready with waivers",
    "ready": "✅ ready",
    "not_planned": "⏸️ not planned",
}
"""Each verdict as emoji and word (reports never rely on the emoji or colour alone)."""

VERDICT_WORDS: dict[Verdict, str] = {
    "not_ready": "not ready",
    "unknown": "unknown",
    "ready_with_waivers": "ready with waivers",
    "ready": "ready",
    "not_planned": "not planned",
}


T = TypeVar("T")


class _once(Generic[T]):
    """A property of an immutable object, worked out on first use and kept in its ``__dict__``.

    ``functools.cached_property`` without its lock (Python 3.11 takes one per first use,
    which cost more than the work here at 10,000 tenants).
    """

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | _once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


@record(frozen=True)
class ReadinessItem:
    """One line of a tenant's readiness: what is checked, its state, and what to do.

    ``id`` is stable (``production_token``, ``attestation.app_approved``, ...);
    ``detail`` says what was found and ``remediation`` what to do about it
    (None when there is nothing to do). Both may contain manifest text
    (attestation names, notes): renderers must escape them. Text between
    backticks is a manifest key or a command, shown as code.
    """

    id: str
    title: str
    blocking: bool
    state: State
    detail: str
    remediation: str | None = None
    waiver: Waiver | None = None
    """Set on a failing blocking item whose failing results a manifest waiver excuses."""

    def __post_init__(self) -> None:
        # The common case (nothing to shorten) without bound_fields' loop: a 10,000-tenant
        # report makes 160,000 items.
        if (
            len(self.title) > 200
            or len(self.detail) > 4_000
            or (self.remediation is not None and len(self.remediation) > 4_000)
        ):
            bound_fields(self, {"title": 200, "detail": 4_000, "remediation": 4_000})

    @property
    def waived(self) -> bool:
        return self.state == "fail" and self.waiver is not None

    @property
    def tone(self) -> str:
        """``pass``, ``fail``, ``waived``, ``attention`` (advisory failure) or ``not_checked``."""
        if self.waived:
            return "waived"
        if self.state == "fail" and not self.blocking:
            return "attention"
        return self.state

    @property
    def word(self) -> str:
        """The state in words: ``pass``, ``fail``, ``attention``, ``not checked``."""
        return self.tone.replace("_", " ")

    @property
    def label(self) -> str:
        """The state as emoji and word; an advisory failure reads as a warning, not a blocker."""
        if self.state == "pass":
            return "✅ pass"
        if self.waived:
            return "☑️ waived"
        if self.state == "fail":
            return "❌ fail" if self.blocking else "⚠️ attention"
        return "❔ not checked"

    def as_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            "id": self.id,
            "title": self.title,
            "blocking": self.blocking,
            "state": self.state,
            "detail": self.detail,
            "remediation": self.remediation,
        }
        if self.waiver is not None:
            out["waiver"] = self.waiver.as_dict()
        return out


@record(frozen=True)
class Attestation:
    """A manual attestation as written in ``go_live.attestations``: who, when, an optional note."""

    key: str
    by: str | None
    on: str | None
    note: str | None = None

    def __post_init__(self) -> None:
        # The schema's limits: longer values are schema errors, and are not echoed whole.
        if (
            len(self.key) > 100
            or (self.by is not None and len(self.by) > 320)
            or (self.on is not None and len(self.on) > 100)
            or (self.note is not None and len(self.note) > 2_000)
        ):
            bound_fields(self, {"key": 100, "by": 320, "on": 100, "note": 2_000})

    @property
    def standard(self) -> bool:
        return self.key in STANDARD_ATTESTATIONS

    def as_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "by": self.by,
            "on": self.on,
            "note": self.note,
            "standard": self.standard,
        }


_TENANT_LIMITS = {
    "tenant": 100,
    "owner": 320,
    "target_date": 100,
    "app": 200,
    "not_planned_because": 500,
    "enterprise_group": 200,
}


@record(frozen=True)
class TenantReadiness:
    """One tenant's go-live readiness: its items, the verdict, the plan.

    The views of its items (:attr:`blockers`, :attr:`unchecked`, ...) are worked out once:
    reports of big fleets read them several times per tenant.

    ``days_left`` is the number of days from the run's "today" to
    ``target_date`` (negative when overdue; None without a valid target
    date). ``offline`` is True when the run did not use the network, so
    network items are ``not_checked`` by design. ``not_planned_because`` says
    why a ``not_planned`` tenant is not going live (``go_live.because`` as
    written, or that it has no production entry); None for every other
    verdict. ``enterprise_group`` is the Enterprise Hub group of the
    production entry (else of the integration entry).
    """

    tenant: str
    owner: str | None
    verdict: Verdict
    items: tuple[ReadinessItem, ...]
    target_date: str | None = None
    days_left: int | None = None
    manifest: str = ""
    app: str | None = None
    attestations: tuple[Attestation, ...] = ()
    offline: bool = False
    today: str = ""
    not_planned_because: str | None = None
    enterprise_group: str | None = None

    def __post_init__(self) -> None:
        # The common case (nothing to shorten) without bound_fields' loop, once per tenant.
        owner, because, group = self.owner, self.not_planned_because, self.enterprise_group
        if (
            len(self.tenant) > 100
            or (owner is not None and len(owner) > 320)
            or (self.target_date is not None and len(self.target_date) > 100)
            or (self.app is not None and len(self.app) > 200)
            or (because is not None and len(because) > 500)
            or (group is not None and len(group) > 200)
        ):
            bound_fields(self, _TENANT_LIMITS)

    @_once
    def blocking(self) -> tuple[ReadinessItem, ...]:
        return tuple(item for item in self.items if item.blocking)

    @_once
    def advisory(self) -> tuple[ReadinessItem, ...]:
        return tuple(item for item in self.items if not item.blocking)

    @_once
    def blockers(self) -> tuple[ReadinessItem, ...]:
        """The blocking items that fail, but for those a waiver excuses."""
        return tuple(
            item
            for item in self.items
            if item.blocking and item.state == "fail" and not item.waived
        )

    @_once
    def waived(self) -> tuple[ReadinessItem, ...]:
        """The blocking items that fail but a waiver excuses."""
        return tuple(item for item in self.items if item.blocking and item.waived)

    @_once
    def unchecked(self) -> tuple[ReadinessItem, ...]:
        """The blocking items that could not be checked."""
        return tuple(item for item in self.items if item.blocking and item.state == "not_checked")

    @_once
    def warnings(self) -> tuple[ReadinessItem, ...]:
        """The advisory items that fail."""
        return tuple(item for item in self.items if not item.blocking and item.state == "fail")

    @_once
    def next_action(self) -> str | None:
        """What to do first, in one line: the first blocker's remediation.

        A ``not_ready`` tenant's first failing blocking item (items are in
        their listed order) gives its remediation, else what was found; an
        ``unknown`` one's first unchecked item likewise, else how to check it.
        None for ``ready`` and ``not_planned`` tenants: nothing to do.
        Whitespace is collapsed and the text cut to
        :data:`NEXT_ACTION_CHARS` characters (at a word, ending ``…``).
        """
        if self.verdict == "not_ready":
            first = self.blockers[0]
            return one_line(first.remediation or f"{first.title}: {first.detail}")
        if self.verdict == "unknown":
            first = self.unchecked[0]
            if first.remediation:
                return one_line(first.remediation)
            if self.offline:
                return "Run `stcheck report` where the secrets are available (this run is offline)."
            return one_line(f"{first.title}: {first.detail}")
        return None

    @property
    def headline(self) -> str:
        """One line on the verdict: ``not ready — 2 blocking items fail``."""
        if self.verdict == "not_planned":
            return f"not planned — {self.not_planned_because or 'not going live'}"
        if self.verdict == "not_ready":
            count = len(self.blockers)
            return f"not ready — {count} blocking {'item fails' if count == 1 else 'items fail'}"
        if self.verdict == "unknown":
            count = len(self.unchecked)
            noun = "item" if count == 1 else "items"
            return f"unknown — {count} blocking {noun} not checked, none fails"
        if self.verdict == "ready_with_waivers":
            count = len(self.waived)
            noun = "item is" if count == 1 else "items are"
            return f"ready with waivers — {count} failing blocking {noun} waived"
        return f"ready — all {len(self.blocking)} blocking items pass"

    @property
    def target_text(self) -> str:
        """``2026-12-15 (16 days left)``, ``… (overdue by 3 days)``, ``… (today)``, or ``—``."""
        if self.target_date is None:
            return "—"
        days = self.days_left
        if days is None:
            return f"{self.target_date} (not a date)"
        if days == 0:
            return f"{self.target_date} (today)"
        unit = "day" if abs(days) == 1 else "days"
        if days > 0:
            return f"{self.target_date} ({days} {unit} left)"
        if self.verdict in ("ready", "ready_with_waivers", "not_planned"):
            return f"{self.target_date} ({-days} {unit} ago)"
        return f"{self.target_date} (overdue by {-days} {unit})"

    def as_dict(self, *, nested: bool = True) -> dict[str, object]:
        """The JSON form, described by ``$defs/readiness`` in ``schemas/report-v1.schema.json``.

        With ``nested`` false, ``items`` and ``attestations`` are left empty for the caller
        to fill (the JSON reporter encodes each shared item once).
        """
        return {
            "tenant": self.tenant,
            "owner": self.owner,
            "manifest": self.manifest,
            "app": self.app,
            "verdict": self.verdict,
            "blockers": len(self.blockers),
            "waived": len(self.waived),
            "not_checked": len(self.unchecked),
            "warnings": len(self.warnings),
            "target_date": self.target_date,
            "days_left": self.days_left,
            "today": self.today,
            "offline": self.offline,
            "items": [item.as_dict() for item in self.items] if nested else [],
            "attestations": [a.as_dict() for a in self.attestations] if nested else [],
            "next_action": self.next_action,
            "not_planned_because": self.not_planned_because,
            "enterprise_group": self.enterprise_group,
        }

    def group(self, key: str) -> str | None:
        """The value of ``key`` (one of :data:`GROUP_KEYS`) for ``--group-by``; None: no value."""
        if key == "owner":
            return self.owner
        if key == "enterprise_group":
            return self.enterprise_group
        raise ValueError(f"cannot group by {key!r}")


def one_line(text: str, limit: int = NEXT_ACTION_CHARS) -> str:
    """``text`` on one line (whitespace collapsed), cut at a word to ``limit`` characters."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 2]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    cut = cut.rstrip(" ,;:") + "…"
    # A cut inside a `code span` closes it, so renderers still show it as code.
    return cut + "`" if cut.count("`") % 2 else cut


@record(frozen=True)
class ReadinessView:
    """How a report presents the tenants (``stcheck report`` options), not what they are.

    ``group_by`` (``--group-by``, one of :data:`GROUP_KEYS`) groups the
    Markdown and HTML listings; the JSON output gives each tenant's key
    anyway. ``not_ready_only`` (``--not-ready-only``) lists only the tenants
    that :func:`needs_attention` (not ready; unknown in an online run) in
    Markdown and HTML; their counts, and the JSON output, still cover every
    tenant.
    """

    group_by: str | None = None
    not_ready_only: bool = False

    def listed(self, tenants: Sequence[TenantReadiness]) -> list[TenantReadiness]:
        """The tenants a report lists, worst first (``not_planned`` last)."""
        ordered = worst_first(tenants)
        if self.not_ready_only:
            return [tenant for tenant in ordered if needs_attention(tenant)]
        return ordered

    def groups(
        self, tenants: Sequence[TenantReadiness]
    ) -> list[tuple[str | None, list[TenantReadiness]]]:
        """``tenants`` grouped by :attr:`group_by` (one group ``None`` when not grouping).

        Groups come in the order of their first tenant in ``tenants``; the
        group of tenants without a value (``None``) comes last.
        """
        if self.group_by is None:
            return [(None, list(tenants))]
        found: dict[str | None, list[TenantReadiness]] = {}
        for tenant in tenants:
            found.setdefault(tenant.group(self.group_by), []).append(tenant)
        keyed = [(key, group) for key, group in found.items() if key is not None]
        return keyed + ([(None, found[None])] if None in found else [])


def fleet_headline(tenants: Sequence[TenantReadiness]) -> str:
    """``3 of 5 tenants ready`` — planned tenants only: ``3 of 5 planned tenants ready``,
    with how many are not planned (``; 2 not planned``)."""
    totals = counts(tenants)
    planned = len(tenants) - totals["not_planned"]
    noun = "tenant" if planned == 1 else "tenants"
    ready = totals["ready"] + totals["ready_with_waivers"]
    waived = (
        f" ({totals['ready_with_waivers']:,} with waivers)" if totals["ready_with_waivers"] else ""
    )
    if not totals["not_planned"]:
        return f"{ready:,} of {planned:,} {noun} ready{waived}"
    return (
        f"{ready:,} of {planned:,} planned {noun} ready{waived};"
        f" {totals['not_planned']:,} not planned"
    )


def verdict_of(items: Iterable[ReadinessItem]) -> Verdict:
    """``not_ready`` if a blocking item fails, else ``unknown`` if one is unchecked, else
    ``ready_with_waivers`` if a failing one is waived, else ready.

    ``not_planned`` is decided before the items (:mod:`stcheck.checks.golive.assess`).
    """
    unchecked = waived = False
    for item in items:
        if not item.blocking or item.state == "pass":
            continue
        if item.state == "not_checked":
            unchecked = True
        elif item.waiver is None:
            return "not_ready"
        else:
            waived = True
    if unchecked:
        return "unknown"
    return "ready_with_waivers" if waived else "ready"


def with_waivers(tenant: TenantReadiness, items: tuple[ReadinessItem, ...]) -> TenantReadiness:
    """``tenant`` with its items replaced (some waived) and its verdict decided again."""
    return replace(tenant, items=items, verdict=verdict_of(items))


def readiness_of(report: RunReport) -> list[TenantReadiness]:
    """The tenants' readiness carried by ``report``."""
    return list(report.readiness)


def worst_first(tenants: Sequence[TenantReadiness]) -> list[TenantReadiness]:
    """Tenants ordered worst verdict first (:data:`VERDICTS`, ``not_planned`` last); manifest
    order within each."""
    rank = {verdict: index for index, verdict in enumerate(VERDICTS)}
    return sorted(tenants, key=lambda tenant: rank[tenant.verdict])


def counts(tenants: Iterable[TenantReadiness]) -> dict[Verdict, int]:
    """How many tenants have each verdict."""
    totals: dict[Verdict, int] = {verdict: 0 for verdict in VERDICTS}
    for tenant in tenants:
        totals[tenant.verdict] += 1
    return totals


def needs_attention(tenant: TenantReadiness) -> bool:
    """True for a tenant that makes ``stcheck report --strict`` fail.

    That is a ``not_ready`` tenant, or an ``unknown`` one in an online run.
    Offline, ``unknown`` is the best verdict there is. A ``not_planned``
    tenant never needs attention. Reports of big fleets
    show these tenants in full and summarise the rest.
    """
    return tenant.verdict == "not_ready" or (tenant.verdict == "unknown" and not tenant.offline)


def any_not_ready(report: RunReport) -> bool:
    """True when ``stcheck report --strict`` must exit 1.

    That is when a reported tenant is ``not_ready``, or is ``unknown`` in an
    online run (something could not be told: a timeout, a deselected check —
    a gate fails closed). In an offline run (``--offline``) ``unknown`` is the
    best possible verdict, so only ``not_ready`` counts there. A manifest whose
    readiness could not be assessed at all (it did not load, or the ``golive``
    check crashed) counts as not ready too.
    """
    if any(needs_attention(tenant) for tenant in readiness_of(report)):
        return True
    return any(
        result.check == "golive"
        and (
            result.status is Status.ERROR
            or (result.status is Status.SKIP and result.reason == "depends_on_failure")
        )
        for result in report.results
    )

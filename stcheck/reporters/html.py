"""The go-live readiness report as one self-contained HTML page (``--output html=PATH``).

The page is rendered from ``stcheck/templates/report.html.j2`` with Jinja2
autoescaping on, so every manifest string (tenant names, owners, attestation
names and notes) is escaped — nothing is ever concatenated into HTML here.

It is self-contained: inline CSS, no scripts, no fonts, images or links to
anything outside the page (a Content-Security-Policy ``default-src 'none'``
makes sure of it), so it can be attached to a CI run, mailed or archived. It
is accessible (``lang``, real tables with captions and header scopes, status
always written as a word next to its colour), readable on a phone (viewport,
fluid layout, tables scroll sideways) and printable (``@media print``).

From top to bottom: the counts per verdict (the headline counts planned
tenants only), with ``--group-by`` a table of the groups and their counts, a
summary table of the tenants shown in full (worst first, not planned last,
each linking to its section, with its next action; one per group with
``--group-by``), a section per such
tenant with its blocking items, advisory items and attestations, the other
tenants one line each in collapsed ``<details>`` groups per verdict, the other
checks' findings (at most :data:`MAX_FINDINGS`), and what produced the report —
stcheck version, plugins and their versions, the checks run and not run (with
the reason), when, and the manifests.

Big fleets: a fleet of up to :data:`MAX_SECTIONS` tenants gets a section for
every tenant. Above that, only the tenants that need attention
(:func:`~stcheck.readiness.needs_attention`: not ready, or unknown in an online
run — what fails ``--strict``) get one, worst first, at most
:data:`MAX_SECTIONS` of them and at most :data:`SECTIONS_BUDGET` bytes; every
other tenant is one table row in a collapsed group. A 10,000-tenant page stays
a few MB instead of 83 MB, and the JSON output keeps every item of every tenant.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from stcheck.gcpause import paused_gc
from stcheck.model import RunReport, Status
from stcheck.readiness import (
    BIG_FLEET,
    VERDICT_WORDS,
    VERDICTS,
    ReadinessView,
    TenantReadiness,
    Verdict,
    counts,
    fleet_headline,
    needs_attention,
    readiness_of,
    worst_first,
)
from stcheck.record import record

__all__ = ["MAX_FINDINGS", "MAX_SECTIONS", "SECTIONS_BUDGET", "layout", "render"]

MAX_FINDINGS = 1000
"""At most this many non-passing check results are listed (the JSON output holds all)."""

MAX_SECTIONS = BIG_FLEET
"""A fleet up to this size gets a full section per tenant; a bigger one, at most this many."""

MAX_GROUPS = 500
"""At most this many groups (``--group-by``) get a row in the table of groups."""

GROUP_TITLES = {"owner": "Owner", "enterprise_group": "Enterprise Hub group"}

SECTIONS_BUDGET = 2_500_000
"""The tenant sections stop before their UTF-8 size passes this (a section is ~8 kB)."""

SYMBOLS = {
    "ready": "✓",
    "not_ready": "✗",
    "unknown": "?",
    "ready_with_waivers": "✓",
    "waived": "~",
    "not_planned": "–",
    "pass": "✓",
    "fail": "✗",
    "attention": "!",
    "not_checked": "?",
    "warn": "!",
    "error": "✗",
}
"""Symbols shown (hidden from screen readers) before each state word: plain text that any
font has, unlike emoji; the word and the colour carry the meaning too."""


_CODE = re.compile(r"`([^`<]+)`")


def code_spans(text: object) -> Any:
    """Escape ``text``, then show `spans` in backticks as <code> (a Jinja filter)."""
    if type(text) is str:  # not Markup, which escape() would pass through unchanged
        return _code_spans_of_text(text)
    return _code_spans(text)


def _code_spans(text: object) -> Any:
    from markupsafe import Markup, escape

    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


@functools.lru_cache(maxsize=1024)
def _code_spans_of_text(text: str) -> Any:
    # Plain text only: thousands of tenants share a next action or a "not checked" detail.
    return _code_spans(text)


def thousands(number: int) -> str:
    """``9963`` as ``9,963`` (a Jinja filter)."""
    return f"{number:,}"


def template_environment() -> Any:
    """The Jinja2 environment of the page (its templates precompiled:
    :mod:`stcheck.reporters.precompiled`)."""
    import jinja2

    from stcheck.reporters.precompiled import Loader

    environment = jinja2.Environment(
        loader=Loader(),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["code"] = code_spans
    environment.filters["thousands"] = thousands
    return environment


@record(frozen=True)
class Layout:
    """Which tenants get a full section, and how the others are grouped (worst first)."""

    full: tuple[TenantReadiness, ...]
    sections: tuple[Any, ...]  # the rendered sections of ``full``, as Markup
    others: tuple[tuple[Verdict, tuple[TenantReadiness, ...], bool], ...]
    """(verdict, tenants, open): the groups of one-line rows; groups that need attention open."""
    note: str
    """One sentence on what is shown in full and what is summarised; empty when all is in full."""


def layout(
    tenants: Sequence[TenantReadiness], environment: Any = None, view: ReadinessView | None = None
) -> Layout:
    """Render the sections of the tenants shown in full, within the limits; group the rest.

    Only the tenants ``view`` lists (all, or ``--not-ready-only``'s) appear; with
    ``--group-by`` they come group by group, worst first within each group.
    """
    from markupsafe import Markup

    environment = environment or template_environment()
    view = view or ReadinessView()
    ordered = [t for _, group in view.groups(view.listed(tenants)) for t in group]
    big = len(ordered) > MAX_SECTIONS
    candidates = [t for t in ordered if needs_attention(t)] if big else ordered
    section = environment.get_template("report_tenant.html.j2")
    full: list[TenantReadiness] = []
    sections: list[Markup] = []
    size = 0
    for tenant in candidates[:MAX_SECTIONS]:
        text = section.render(
            t=tenant, n=len(full) + 1, symbols=SYMBOLS, verdict_words=VERDICT_WORDS
        )
        size += len(text.encode("utf-8"))
        if size > SECTIONS_BUDGET:
            break
        full.append(tenant)
        sections.append(Markup(text))
    shown = {id(tenant) for tenant in full}
    rest = [tenant for tenant in worst_first(ordered) if id(tenant) not in shown]
    others = tuple(
        (verdict, group, any(needs_attention(t) for t in group))
        for verdict in VERDICTS
        if (group := tuple(t for t in rest if t.verdict == verdict))
    )
    return Layout(tuple(full), tuple(sections), others, _note(ordered, full, rest, big))


@record(frozen=True)
class Group:
    """One ``--group-by`` group: its key, the counts of all its tenants, those shown in full."""

    number: int
    """1, 2, ...: the group's anchor (``#group-N``)."""
    value: str | None
    total: int
    totals: dict[Verdict, int]
    headline: str
    full: tuple[tuple[int, TenantReadiness], ...]
    """(section number, tenant) of the group's tenants that have a section."""


def groups_of(
    tenants: Sequence[TenantReadiness], shown: Layout, view: ReadinessView
) -> tuple[Group, ...]:
    """The groups of ``tenants`` (every tenant counts), each with its tenants shown in full."""
    if view.group_by is None:
        return ()
    numbers = {id(tenant): number for number, tenant in enumerate(shown.full, 1)}
    return tuple(
        Group(
            number=number,
            value=value,
            total=len(members),
            totals=counts(members),
            headline=fleet_headline(members),
            full=tuple((numbers[id(t)], t) for t in members if id(t) in numbers),
        )
        for number, (value, members) in enumerate(view.groups(worst_first(tenants)), 1)
    )


def _note(
    ordered: Sequence[TenantReadiness],
    full: Sequence[TenantReadiness],
    rest: Sequence[TenantReadiness],
    big: bool,
) -> str:
    if not rest:
        return ""
    attention = sum(1 for tenant in ordered if needs_attention(tenant))
    offline = any(tenant.offline for tenant in ordered)
    which = "not ready" if offline else "not ready or unknown"
    head = f"{len(ordered):,} tenants"
    tail = (
        f"the other {len(rest):,} are listed one line each, collapsed by verdict."
        " The JSON output holds every tenant in full."
    )
    if not big:
        return f"{head}: the first {len(full):,}, worst first, are shown in full; {tail}"
    if not attention:
        return (
            f"{head}, none of them needs attention (none is {which}): all are listed one"
            " line each, collapsed by verdict. The JSON output holds every tenant in full."
        )
    if len(full) == attention == 1:
        return f"{head}: the one that needs attention ({which}) is shown in full; {tail}"
    if len(full) == attention:
        return f"{head}: the {attention:,} that need attention ({which}) are shown in full; {tail}"
    return (
        f"{head}: {len(full):,} of the {attention:,} that need attention ({which}) are"
        f" shown in full, worst first; {tail}"
    )


CompactRow = tuple[str, int | str, int | str, Any, str, str, str]
"""Tenant, blockers, not checked, next action (as Markup), target date, owner, manifest."""


def compact_row(tenant: TenantReadiness) -> CompactRow:
    """The values of one tenant's line among the other tenants (the template escapes them).

    Worked out here, not by the template: a big fleet has thousands of these lines, and
    Jinja's attribute lookups cost more than the rest of the row.
    """
    planned = tenant.verdict != "not_planned"
    action = (tenant.next_action if planned else tenant.not_planned_because) or "—"
    return (
        tenant.tenant,
        len(tenant.blockers) if planned else "—",
        len(tenant.unchecked) if planned else "—",
        code_spans(action),
        tenant.target_text,
        tenant.owner or "—",
        tenant.manifest,
    )


def context(report: RunReport, environment: Any = None) -> dict[str, Any]:
    """What the template sees (plain values and the immutable model objects)."""
    tenants = readiness_of(report)
    order = {Status.ERROR: 0, Status.FAIL: 1, Status.WARN: 2}
    findings = sorted(
        (r for r in report.results if r.status in order and r.check != "golive"),
        key=lambda r: order[r.status],
    )
    apps = sorted({tenant.app for tenant in tenants if tenant.app})
    view = report.readiness_view or ReadinessView()
    shown = layout(tenants, environment, view)
    groups = groups_of(tenants, shown, view)
    return {
        "report": report,
        "total": len(tenants),
        "full": shown.full,
        "full_rows": list(enumerate(shown.full, 1)),
        "sections": shown.sections,
        "others": shown.others,
        "other_rows": [
            (verdict, [compact_row(tenant) for tenant in group], expanded)
            for verdict, group, expanded in shown.others
        ],
        "fleet_note": shown.note,
        "totals": counts(tenants),
        "headline": fleet_headline(tenants),
        "group_by": view.group_by,
        "group_title": GROUP_TITLES.get(view.group_by or "", ""),
        "groups": groups[:MAX_GROUPS],
        "groups_left_out": max(0, len(groups) - MAX_GROUPS),
        "not_ready_only": view.not_ready_only,
        "listed": len(view.listed(tenants)),
        "verdict_words": VERDICT_WORDS,
        "symbols": SYMBOLS,
        "app": apps[0] if len(apps) == 1 else None,
        "offline": any(tenant.offline for tenant in tenants),
        "today": next((tenant.today for tenant in tenants if tenant.today), ""),
        "several_manifests": len(set(report.manifests)) > 1,
        "findings": findings[:MAX_FINDINGS],
        "findings_left_out": max(0, len(findings) - MAX_FINDINGS),
        "summary": report.summary,
    }


def render(report: RunReport) -> str:
    """The readiness report as a self-contained HTML document."""
    with paused_gc():  # its cyclic garbage is one template context
        environment = template_environment()
        template = environment.get_template("report.html.j2")
        rendered: str = template.render(**context(report, environment))
    return rendered

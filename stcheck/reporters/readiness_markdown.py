"""The go-live readiness report as Markdown (``stcheck report --format markdown``).

Written for a GitHub job summary (``--output markdown=$GITHUB_STEP_SUMMARY``)
and for pull-request comments. From top to bottom:

1. A heading with how many tenants are ready, and one line of counts per
   verdict — always a word next to each emoji, so it reads without them.
2. For an offline run, a note that the network items were not checked.
3. A summary table: tenant, verdict, blocking items that fail, blocking items
   not checked, next action (the first blocker's remediation; why, for a tenant
   not planned), target date (days left or overdue), owner. With
   ``--group-by`` one table per group, under a heading with its counts.
4. Per tenant, a collapsed ``<details>`` section: the blocking items, then the
   advisory items, each with its state (emoji and word), what was found and
   what to do. Attestations appear as items with who and when.
5. A footer saying what produced the report: stcheck version, manifests, when,
   and the checks that did not run.

Tenants are listed worst first: not ready, unknown, ready, then not planned
(manifest order within each verdict); ``--not-ready-only`` lists only those
that need attention, and the heading's counts still cover every tenant.
Manifest strings are untrusted (a pull request may change them), so every one
of them is escaped with
:func:`stcheck.reporters.markdown.escape`: nothing can close a table cell, open
a link or inject HTML.

The report is posted as a pull-request comment (GitHub refuses a body over
65,536 characters) and written to job summaries (1 MiB), so it always stays
under :data:`MAX_BYTES` UTF-8 bytes — and so under 65,536 characters however
GitHub counts them. A fleet of more than :data:`~stcheck.readiness.BIG_FLEET`
tenants lists only the tenants that need attention
(:func:`~stcheck.readiness.needs_attention`: not ready, or unknown in an
online run), worst first, and one line counts the rest per verdict. The summary
table takes at most half of the budget and the details what is left, worst
first; a line says how many were left out. The HTML and JSON outputs hold
every tenant. A run where no readiness was assessed (``--skip golive``, a
manifest that did not load) falls back to the check summary of
:mod:`stcheck.reporters.markdown`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from stcheck.model import RunReport
from stcheck.readiness import (
    BIG_FLEET,
    VERDICT_LABELS,
    VERDICTS,
    ReadinessItem,
    ReadinessView,
    TenantReadiness,
    counts,
    fleet_headline,
    needs_attention,
    readiness_of,
    worst_first,
)
from stcheck.reporters.markdown import escape

__all__ = ["GITHUB_COMMENT_LIMIT", "MAX_BYTES", "render"]

GITHUB_COMMENT_LIMIT = 65_536
"""The most characters GitHub accepts in a pull-request comment body."""

MAX_BYTES = 60_000
"""The UTF-8 size this reporter stays under: a comment fits with room for a workflow's own
lines (a character is at least one byte), and so does a job summary (1 MiB)."""

MAX_MANIFESTS = 20

_DETAIL_CHARS = 600
_REMEDIATION_CHARS = 400


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |\n"


# After escaping, a backtick is "&#96;": a pair of them marks a key or a command, shown as code.
_CODE = re.compile(r"&#96;([^<]+?)&#96;")


def _cell(text: object | None, limit: int = 200) -> str:
    """Untrusted text escaped for one table cell; `spans` in backticks become <code>."""
    if text is None:
        return "—"
    return _CODE.sub(r"<code>\1</code>", escape(text, limit)) or "—"


def _items_table(title: str, items: Sequence[ReadinessItem]) -> str:
    if not items:
        return ""
    text = _row(["State", title, "Found", "What to do"]) + _row(["---"] * 4)
    for item in items:
        text += _row(
            [
                item.label,
                _cell(item.title),
                _cell(item.detail, _DETAIL_CHARS),
                _cell(item.remediation, _REMEDIATION_CHARS),
            ]
        )
    return text + "\n"


def tenant_details(tenant: TenantReadiness, *, several_manifests: bool = False) -> str:
    """The collapsed section of one tenant."""
    facts = [f"Owner: {_cell(tenant.owner)}", f"Target date: {_cell(tenant.target_text)}"]
    if tenant.enterprise_group is not None:
        facts.append(f"Enterprise Hub group: {_cell(tenant.enterprise_group)}")
    if tenant.next_action is not None:
        facts.append(f"Next action: {_cell(tenant.next_action, _REMEDIATION_CHARS)}")
    if several_manifests:
        facts.append(f"Manifest: {_cell(tenant.manifest)}")
    summary = (
        f"{VERDICT_LABELS[tenant.verdict].split(' ', 1)[0]} <b>{_cell(tenant.tenant)}</b>:"
        f" {escape(tenant.headline)}"
    )
    if tenant.verdict == "not_planned":
        return (
            f"<details><summary>{summary}</summary>\n\n"
            + " · ".join(facts)
            + "\n\nNot going live, so not judged: its items are in the JSON report.\n\n"
            + "</details>\n\n"
        )
    return (
        f"<details><summary>{summary}</summary>\n\n"
        + " · ".join(facts)
        + "\n\n"
        + _items_table("Blocking item", tenant.blocking)
        + _items_table("Advisory item", tenant.advisory)
        + "</details>\n\n"
    )


def _summary_row(tenant: TenantReadiness) -> str:
    planned = tenant.verdict != "not_planned"
    return _row(
        [
            _cell(tenant.tenant),
            VERDICT_LABELS[tenant.verdict],
            str(len(tenant.blockers)) if planned else "—",
            str(len(tenant.unchecked)) if planned else "—",
            _cell(tenant.next_action if planned else tenant.not_planned_because),
            _cell(tenant.target_text),
            _cell(tenant.owner),
        ]
    )


_TABLE_HEAD = _row(
    ["Tenant", "Verdict", "Blockers", "Not checked", "Next action", "Target date", "Owner"]
) + _row(["---", "---", "---:", "---:", "---", "---", "---"])


def _count_line(tenants: Sequence[TenantReadiness]) -> str:
    """``❌ not ready: 1 · ❔ unknown: 0 · ✅ ready: 2`` (and not planned, when there are any)."""
    totals = counts(tenants)
    return " · ".join(
        f"{VERDICT_LABELS[verdict]}: {totals[verdict]:,}"
        for verdict in VERDICTS
        if totals[verdict] or verdict not in ("not_planned", "ready_with_waivers")
    )


def _heading(tenants: Sequence[TenantReadiness]) -> str:
    apps = sorted({tenant.app for tenant in tenants if tenant.app})
    about = f" — {escape(apps[0])}" if len(apps) == 1 else ""
    text = (
        f"## 🚦 Go-live readiness{about}: {fleet_headline(tenants)}\n\n"
        f"**{_count_line(tenants)}**\n\n"
    )
    if any(tenant.offline for tenant in tenants):
        text += (
            "> [!NOTE]\n"
            "> Offline run: the items that need the network and the secrets (credentials,"
            " token, API probe) were not checked, so no tenant can be confirmed ready."
            " Run `stcheck report` where the secrets are available for a full verdict.\n\n"
        )
    return text


def _footer(report: RunReport, tenants: Sequence[TenantReadiness]) -> str:
    parts = [f"stcheck {escape(report.tool_version)}"]
    if report.manifests:
        names = ", ".join(escape(name) for name in report.manifests[:MAX_MANIFESTS])
        extra = len(report.manifests) - MAX_MANIFESTS
        if extra > 0:
            names += f" and {extra} more"
        parts.append(f"{'manifest' if len(report.manifests) == 1 else 'manifests'}: {names}")
    today = next((tenant.today for tenant in tenants if tenant.today), "")
    if today:
        parts.append(f"as of {escape(today)}")
    if report.started_at:
        parts.append(f"started {escape(report.started_at)}")
    lines = ["---", "", "<sub>" + " · ".join(parts) + "</sub>"]
    if report.checks_not_run:
        not_run = ", ".join(
            f"{escape(check)} ({escape(why)})" for check, why in report.checks_not_run.items()
        )
        lines += ["", f"<sub>Checks not run: {not_run}</sub>"]
    return "\n".join(lines) + "\n"


def _rest_line(rest: Sequence[TenantReadiness], view: ReadinessView) -> str:
    """One line counting, per verdict, the tenants the report does not list."""
    totals = counts(rest)
    parts = [
        f"{VERDICT_LABELS[verdict]}: {totals[verdict]:,}" for verdict in VERDICTS if totals[verdict]
    ]
    noun = "tenant is" if len(rest) == 1 else "tenants are"
    why = " (`--not-ready-only`)" if view.not_ready_only else ""
    if totals["ready"] == len(rest):
        return (
            f"_{len(rest):,} more {noun} ✅ ready and not listed{why}."
            " The HTML and JSON reports list every tenant._\n\n"
        )
    fine = (
        "none of them is not ready" if totals["not_planned"] else "no blocking item of theirs fails"
    )
    listing = "The JSON report lists" if view.not_ready_only else "The HTML and JSON reports list"
    return (
        f"_{len(rest):,} more {noun} not listed{why} ({' · '.join(parts)}): {fine}."
        f" {listing} every tenant._\n\n"
    )


def _group_title(key: str, value: str | None, tenants: Sequence[TenantReadiness]) -> str:
    name = GROUP_TITLES[key]
    shown = _cell(value) if value is not None else f"no {name.lower()}"
    noun = "tenant" if len(tenants) == 1 else "tenants"
    return (
        f"#### {name}: {shown} — {len(tenants):,} {noun}: {fleet_headline(tenants)}"
        f"\n\n{_count_line(tenants)}\n\n"
    )


GROUP_TITLES = {"owner": "Owner", "enterprise_group": "Enterprise Hub group"}


def _tables(
    groups: Sequence[tuple[str | None, Sequence[TenantReadiness]]],
    everyone: Sequence[TenantReadiness],
    view: ReadinessView,
    budget: int,
) -> str:
    """The summary table (one per group when grouping), rows until ``budget`` bytes."""
    text = ""
    size = 0
    left_out = 0
    # A group's counts cover all of its tenants, listed or not.
    members = dict(view.groups(everyone)) if view.group_by is not None else {}
    for value, listed in groups:
        if view.group_by is not None:
            part = _group_title(view.group_by, value, members[value])
        else:
            part = ""
        part += _TABLE_HEAD
        if left_out or size + len(part.encode()) > budget:
            left_out += len(listed)
            continue
        rows = 0
        for tenant in listed:
            row = _summary_row(tenant)
            if size + len(part.encode()) + len(row.encode()) > budget:
                break
            part += row
            rows += 1
        left_out += len(listed) - rows
        text += part + "\n"
        size += len(part.encode()) + 1
    if left_out:
        text += f"_…and {left_out:,} more tenants — see the HTML or JSON report._\n\n"
    return text


def render(report: RunReport) -> str:
    """The readiness report as GitHub-flavoured Markdown of at most MAX_BYTES UTF-8 bytes."""
    tenants = readiness_of(report)
    if not tenants:
        from stcheck.reporters import markdown

        return markdown.render(report)
    view = report.readiness_view or ReadinessView()
    listed = view.listed(tenants)
    if len(listed) > BIG_FLEET:
        listed = [t for t in listed if needs_attention(t)]
    shown_ids = {id(t) for t in listed}
    rest = [t for t in worst_first(tenants) if id(t) not in shown_ids]
    groups = view.groups(listed)
    several = len(set(report.manifests)) > 1
    head = _heading(tenants)
    if view.not_ready_only:
        head += (
            f"_Listing only the {len(listed):,} tenants that need attention"
            " (`--not-ready-only`: not ready, or unknown in an online run);"
            " the counts cover all of them._\n\n"
        )
    footer = _footer(report, tenants)
    rest_line = _rest_line(rest, view) if rest else ""
    budget = MAX_BYTES - sum(len(part.encode()) for part in (head, footer, rest_line)) - 512

    table = _tables(groups, tenants, view, budget // 2) if listed else ""
    budget -= len(table.encode())

    details = ""
    shown = 0
    for tenant in (t for _, group in groups for t in group):
        section = tenant_details(tenant, several_manifests=several)
        length = len(section.encode())
        if length > budget:
            break
        details += section
        budget -= length
        shown += 1
    body = head + table + rest_line
    if details:
        body += "### Tenants\n\n" + details
    if shown < len(listed):
        body += (
            f"_Details of {len(listed) - shown:,} more tenants are left out to stay under"
            " GitHub's comment size limit — see the HTML or JSON report._\n\n"
        )
    return body + footer

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

From top to bottom: the counts per verdict, a summary table of the tenants
(worst first, each linking to its section), a section per tenant with its
blocking items, advisory items and attestations, the other checks' findings
(at most :data:`MAX_FINDINGS`), and what produced the report — stcheck
version, plugins and their versions, the checks run and not run (with the
reason), when, and the manifests.
"""

from __future__ import annotations

import re
from typing import Any

from stcheck.model import RunReport, Status
from stcheck.readiness import VERDICT_WORDS, counts, readiness_of, worst_first

__all__ = ["MAX_FINDINGS", "render"]

MAX_FINDINGS = 1000
"""At most this many non-passing check results are listed (the JSON output holds all)."""

SYMBOLS = {
    "ready": "✓",
    "not_ready": "✗",
    "unknown": "?",
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
    from markupsafe import Markup, escape

    return Markup(_CODE.sub(r"<code>\1</code>", str(escape(text))))


def _environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("stcheck", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.filters["code"] = code_spans
    return environment


def context(report: RunReport) -> dict[str, Any]:
    """What the template sees (plain values and the immutable model objects)."""
    tenants = readiness_of(report)
    order = {Status.ERROR: 0, Status.FAIL: 1, Status.WARN: 2}
    findings = sorted(
        (r for r in report.results if r.status in order and r.check != "golive"),
        key=lambda r: order[r.status],
    )
    apps = sorted({tenant.app for tenant in tenants if tenant.app})
    return {
        "report": report,
        "tenants": worst_first(tenants),
        "totals": counts(tenants),
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
    template = _environment().get_template("report.html.j2")
    rendered: str = template.render(**context(report))
    return rendered

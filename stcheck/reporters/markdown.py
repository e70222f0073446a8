"""Markdown summary (``--format markdown``) for CI job summaries and pull-request comments.

Written for ``$GITHUB_STEP_SUMMARY`` (``--output markdown=$GITHUB_STEP_SUMMARY``)
and for bots that post a comment; any GitHub-flavoured Markdown viewer shows it
the same way. From top to bottom:

1. A heading with the verdict — ``✅ … passed`` or ``❌ … failed`` — always in
   words as well as a symbol, so it reads without colour or emoji.
2. A table of counts per status (pass, warn, fail, error, skip).
3. A table of the findings — every ``fail``, ``error`` and ``warn`` result,
   failures first — with status, check, tenant, environment, location
   (``file:line``), message and what to do about it.
4. With ``--baseline``: a line with the new, known and fixed counts under
   the counts table, and the known findings (which do not count) collapsed in
   a ``<details>`` block.
5. The skipped results, collapsed in a ``<details>`` block (with the reason
   each was not run).
6. A footer with the stcheck version, the command, the manifests, when the run
   started and how long it took (the gate's provenance).

Manifest values are untrusted (a pull request may change them), so every value
shown is escaped: Markdown and HTML punctuation becomes character references,
newlines become ``<br>``, control characters are dropped and long values are
shortened. Nothing from a manifest can close a table cell, open a link or an
image, or inject HTML.

GitHub shows at most 1 MiB of summary per step, so the tables list at most
:data:`MAX_ROWS` findings and :data:`MAX_SKIPPED_ROWS` skipped results, and
stop earlier if the text would grow past :data:`MAX_BYTES`; a line then says
how many more there are — the JSON and JUnit outputs always hold every result.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from stcheck.model import STATUS_ORDER, Result, RunReport, Status
from stcheck.reasons import hint_for

__all__ = ["GITHUB_SUMMARY_LIMIT", "MAX_BYTES", "MAX_ROWS", "MAX_SKIPPED_ROWS", "render"]

GITHUB_SUMMARY_LIMIT = 1_048_576
"""GitHub's limit on one step's job summary, in bytes."""

MAX_BYTES = 1_000_000
"""The size this reporter stays under (some headroom below GitHub's limit)."""

MAX_ROWS = 500
"""At most this many findings are listed."""

MAX_SKIPPED_ROWS = 200
"""At most this many skipped results are listed."""

MAX_MANIFESTS = 20
"""At most this many manifest names are listed in the footer."""

_MESSAGE_CHARS = 1000
_HINT_CHARS = 500
_NAME_CHARS = 200

_LABELS: dict[Status, str] = {
    Status.PASS: "✅ pass",
    Status.WARN: "⚠️ warn",
    Status.FAIL: "❌ fail",
    Status.ERROR: "❗ error",
    Status.SKIP: "⏭️ skip",
}

# Control characters (C0 except tab and newline, DEL, C1) and lone surrogates.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# Characters that mean something to Markdown (escapes, code, emphasis, links and
# images, table cells, headings, strikethrough, math) or HTML; all become
# character references, which GitHub shows as the plain character.
_ESCAPES: dict[int, str] = {ord(char): f"&#{ord(char)};" for char in "\\`*_[]|#~$"} | {
    ord("&"): "&amp;",
    ord("<"): "&lt;",
    ord(">"): "&gt;",
}


def escape(text: object, limit: int = _NAME_CHARS) -> str:
    """Untrusted text made safe for one Markdown table cell or one line of prose.

    Control characters are dropped, tabs and line breaks are normalised (line
    breaks become ``<br>``), the text is shortened to ``limit`` characters with
    an ellipsis, and every Markdown- or HTML-significant character becomes a
    character reference.
    """
    value = _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n"))
    value = value.replace("\t", " ").strip()
    if len(value) > limit:
        value = value[: limit - 1].rstrip() + "…"
    lines = [line.strip().translate(_ESCAPES) for line in value.split("\n")]
    return "<br>".join(line for line in lines if line)


def _cell(text: object | None, limit: int = _NAME_CHARS) -> str:
    if text is None:
        return "—"
    escaped = escape(text, limit)
    return escaped or "—"


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |\n"


def _location(result: Result) -> str:
    location = result.location
    if location is None or not location.file:
        return "—"
    where = location.file if location.line is None else f"{location.file}:{location.line}"
    return _cell(where)


def _result_row(result: Result, last: str | None) -> str:
    """A finding's row: status, where, the message, and ``last`` (what to do, or the excuse)."""
    return _row(
        [
            _LABELS[result.status],
            _cell(result.check),
            _cell(result.tenant),
            _cell(result.environment),
            _location(result),
            _cell(result.message, _MESSAGE_CHARS),
            _cell(last, _HINT_CHARS),
        ]
    )


def _finding_row(result: Result) -> str:
    return _result_row(result, result.hint or hint_for(result.reason))


def _waived_row(result: Result) -> str:
    waiver = result.waiver
    excuse = (
        f"until {waiver.until} by {waiver.by}: {waiver.because}" if waiver is not None else None
    )
    return _result_row(result, excuse)


def _skipped_row(result: Result) -> str:
    return _row(
        [
            _cell(result.check),
            _cell(result.tenant),
            _cell(result.environment),
            _cell(result.reason),
            _cell(result.message, _MESSAGE_CHARS),
        ]
    )


def _table(
    header: Sequence[str],
    results: Sequence[Result],
    row: Callable[[Result], str],
    max_rows: int,
    budget: int,
) -> tuple[str, int]:
    """A table of at most ``max_rows`` rows within ``budget`` bytes, and how many were left out."""
    text = _row(header) + _row(["---"] * len(header))
    size = len(text.encode("utf-8"))
    shown = 0
    for result in results[:max_rows]:
        line = row(result)
        size += len(line.encode("utf-8"))
        if size > budget:
            break
        text += line
        shown += 1
    return text, len(results) - shown


def _more(left_out: int) -> str:
    return f"\n_…and {left_out} more — see the JSON/JUnit output._\n" if left_out else ""


def _heading(report: RunReport) -> str:
    counts = report.summary
    command = escape(f"stcheck {report.command}" if report.command else "stcheck")
    if report.failed:
        problems = []
        if counts["fail"]:
            problems.append(f"{counts['fail']} failed")
        if counts["error"]:
            problems.append(f"{counts['error']} could not be checked (error)")
        return f"## ❌ {command}: failed — {', '.join(problems)}\n"
    waived = f" ({counts['waived']} waived)" if counts["waived"] else ""
    if counts["warn"]:
        noun = "warning" if counts["warn"] == 1 else "warnings"
        return f"## ✅ {command}: passed with {counts['warn']} {noun}{waived}\n"
    return f"## ✅ {command}: passed{waived}\n"


def _counts(report: RunReport) -> str:
    counts = report.summary
    labels = [_LABELS[status] for status in STATUS_ORDER]
    values = [str(counts[status.value]) for status in STATUS_ORDER]
    if counts["waived"]:
        labels.append("☑️ waived")
        values.append(str(counts["waived"]))
    return _row(labels) + _row(["---:"] * len(labels)) + _row(values)


def _baseline(report: RunReport) -> str:
    """The comparison with ``--baseline``: new, known and fixed findings."""
    if report.baseline is None:
        return ""
    counted = report.baseline
    return (
        f"Compared with the baseline {_cell(counted.path)}: **{counted.new} new**,"
        f" {counted.known} known (listed below, not counted), {counted.fixed} fixed"
        f"{counted.unloaded_note}.\n\n"
    )


def _footer(report: RunReport) -> str:
    parts = [f"stcheck {escape(report.tool_version)}"]
    if report.command:
        parts.append(f"command: {escape(report.command)}")
    if report.manifests:
        names = ", ".join(escape(name) for name in report.manifests[:MAX_MANIFESTS])
        extra = len(report.manifests) - MAX_MANIFESTS
        if extra > 0:
            names += f" and {extra} more"
        noun = "manifest" if len(report.manifests) == 1 else "manifests"
        parts.append(f"{noun}: {names}")
    if report.started_at:
        parts.append(f"started: {escape(report.started_at)}")
    if report.duration > 0:
        parts.append(f"took {report.duration:.2f} s")
    lines = ["---", "", "<sub>" + " · ".join(parts) + "</sub>"]
    if report.checks_not_run:
        not_run = ", ".join(
            f"{escape(check)} ({escape(why)})"
            for check, why in list(report.checks_not_run.items())[:MAX_MANIFESTS]
        )
        lines.append("")
        lines.append(f"<sub>Checks not run: {not_run}</sub>")
    return "\n".join(lines) + "\n"


def _results_table(
    results: Sequence[Result], last: str, row: Callable[[Result], str], budget: int
) -> tuple[str, int]:
    """A table of ``results`` (``last`` names its last column) with its "and N more" line, and
    the budget left after it."""
    table, left_out = _table(
        ["Status", "Check", "Tenant", "Environment", "Location", "Message", last],
        results,
        row,
        MAX_ROWS,
        budget,
    )
    return table + _more(left_out), budget - len(table.encode("utf-8"))


def render(report: RunReport) -> str:
    """Render the run report as a GitHub-flavoured Markdown summary of at most MAX_BYTES bytes."""
    counted = [r for r in report.results if r.counts]
    findings = [r for r in counted if r.status.is_failure] + [
        r for r in counted if r.status is Status.WARN
    ]
    waived = [r for r in report.results if r.waiver is not None]
    known = [r for r in report.results if r.waiver is None and not r.counts]
    skipped = [r for r in report.results if r.status is Status.SKIP]

    head = _heading(report) + "\n" + _counts(report) + "\n" + _baseline(report)
    footer = _footer(report)
    # Room for the section titles, the "and N more" lines and the <details> wrapper.
    budget = MAX_BYTES - len(head.encode("utf-8")) - len(footer.encode("utf-8")) - 1024

    body = ""
    if findings:
        table, budget = _results_table(findings, "What to do", _finding_row, budget)
        body += f"### Findings ({len(findings)})\n\n{table}\n"
    else:
        body += "No findings.\n\n"

    if waived:
        table, budget = _results_table(waived, "Waived", _waived_row, budget)
        body += f"### ☑️ Waived ({len(waived)})\n\n{table}\n"

    if known:
        table, budget = _results_table(known, "What to do", _finding_row, budget)
        body += (
            f"<details><summary>Known from the baseline ({len(known)})</summary>\n\n"
            f"{table}\n</details>\n\n"
        )

    if skipped:
        table, left_out = _table(
            ["Check", "Tenant", "Environment", "Reason", "Why"],
            skipped,
            _skipped_row,
            MAX_SKIPPED_ROWS,
            budget,
        )
        body += (
            f"<details><summary>⏭️ Skipped ({len(skipped)})</summary>\n\n"
            f"{table}{_more(left_out)}\n</details>\n\n"
        )

    return head + body + footer

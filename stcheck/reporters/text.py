"""Human-readable text: one line per finding, ``file:line:col: status [check] message``."""

from __future__ import annotations

from stcheck.model import Result, RunReport, Status
from stcheck.reporters import printable
from stcheck.text import clipped

_QUIET = (Status.PASS, Status.SKIP)


def _position(result: Result) -> str:
    location = result.location
    if location is None:
        return "stcheck"
    parts = [location.file]
    if location.line is not None:
        parts.append(str(location.line))
        if location.column is not None:
            parts.append(str(location.column))
    return ":".join(parts)


def waived_line(result: Result) -> str:
    """``waived (was fail, invalid_client) until 2026-12-31 by dana@…: because …``."""
    waiver = result.waiver
    if waiver is None:
        return ""
    was = ", ".join(part for part in (result.status.value, result.reason) if part)
    where = ""
    if waiver.location is not None and waiver.location.line is not None:
        where = f" (waiver at line {waiver.location.line})"
    return (
        f"waived (was {was}) until {waiver.until} by {clipped(waiver.by, 100)}:"
        f" {clipped(waiver.because, 200)}{where}"
    )


def render(report: RunReport, *, verbose: bool = False) -> str:
    """Non-pass results (all results with ``verbose``), then a one-line summary.

    Findings known from a ``--baseline`` are listed with ``verbose`` only, as
    ``fail (known)``; the summary line ends with the new, known and fixed counts.
    """
    lines: list[str] = []
    for result in report.results:
        if result.status in _QUIET and not verbose:
            continue
        if not result.counts and not verbose:
            continue
        subject = ""
        if result.tenant and result.environment:
            subject = f" ({result.tenant}/{result.environment})"
        elif result.tenant:
            subject = f" ({result.tenant})"
        status = result.status.value
        if result.waiver is not None:
            status = "waived"
        elif not result.counts:
            status = f"{result.status.value} (known)"
        line = f"{_position(result)}: {status} [{result.check}] {result.message}{subject}"
        lines.append(printable(line).replace("\n", "\\n"))
        if result.waiver is not None:
            lines.append(printable(f"    {waived_line(result)}").replace("\n", "\\n"))
        elif result.hint and result.status is not Status.PASS:
            lines.append(f"    hint: {result.hint}")
    counts = report.summary
    summary = ", ".join(f"{counts[key]} {key}" for key in counts if counts[key])
    files = len(report.manifests)
    verdict = "failed" if report.failed else "ok"
    baseline = ""
    if report.baseline is not None:
        counted = report.baseline
        baseline = f"; baseline: {counted.new} new, {counted.known} known, {counted.fixed} fixed"
        baseline += counted.unloaded_note
    lines.append(
        f"stcheck {report.command}: {verdict} — {summary or 'no results'}"
        f" ({files} manifest{'s' if files != 1 else ''}){baseline}"
    )
    return "\n".join(lines) + "\n"

"""Human-readable text: one line per finding, ``file:line:col: status [check] message``."""

from __future__ import annotations

from stcheck.model import Result, RunReport, Status
from stcheck.reporters import printable


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


def render(report: RunReport, *, verbose: bool = False) -> str:
    """Non-pass results (all results with ``verbose``), then a one-line summary."""
    lines: list[str] = []
    for result in report.results:
        if result.status is Status.PASS and not verbose:
            continue
        if result.status is Status.SKIP and not verbose:
            continue
        subject = ""
        if result.tenant and result.environment:
            subject = f" ({result.tenant}/{result.environment})"
        elif result.tenant:
            subject = f" ({result.tenant})"
        line = (
            f"{_position(result)}: {result.status.value} [{result.check}] {result.message}{subject}"
        )
        lines.append(printable(line).replace("\n", "\\n"))
        if result.hint and result.status is not Status.PASS:
            lines.append(f"    hint: {result.hint}")
    counts = report.summary
    summary = ", ".join(f"{counts[key]} {key}" for key in counts if counts[key])
    files = len(report.manifests)
    verdict = "failed" if report.failed else "ok"
    lines.append(
        f"stcheck {report.command}: {verdict} — {summary or 'no results'}"
        f" ({files} manifest{'s' if files != 1 else ''})"
    )
    return "\n".join(lines) + "\n"

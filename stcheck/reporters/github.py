"""GitHub Actions workflow commands: ``::error file=…,line=…::message`` annotations.

A result a manifest waiver excuses is a ``::notice`` saying who waived it, until when, why.
"""

from __future__ import annotations

from stcheck.model import RunReport, Status
from stcheck.reporters import printable
from stcheck.reporters.text import waived_line

LEVELS = {Status.FAIL: "error", Status.ERROR: "error", Status.WARN: "warning"}


def _data(text: str) -> str:
    text = printable(text)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def render(report: RunReport) -> str:
    """One annotation per fail, error and warn result; a notice with the totals.

    A finding known from ``--baseline`` is a ``notice`` titled ``… (known)``.
    """
    lines: list[str] = []
    for result in report.results:
        level = LEVELS.get(result.status)
        if level is None:
            continue
        known = " (known)" if result.waiver is None and not result.counts else ""
        if not result.counts:  # waived, or a --baseline finding: shown, not failed
            level = "notice"
        props: list[str] = []
        if result.location is not None:
            props.append(f"file={_property(result.location.file)}")
            if result.location.line is not None:
                props.append(f"line={result.location.line}")
                if result.location.column is not None:
                    props.append(f"col={result.location.column}")
        status = result.status.value if result.waiver is None else f"{result.status.value} waived"
        props.append(f"title={_property(f'stcheck [{result.check}] {status}{known}')}")
        message = result.message
        if result.waiver is not None:
            message += f"\n{waived_line(result)}"
        elif result.hint:
            message += f"\nhint: {result.hint}"
        lines.append(f"::{level} {','.join(props)}::{_data(message)}")
    counts = report.summary
    totals = ", ".join(f"{counts[key]} {key}" for key in counts)
    if report.baseline is not None:
        counted = report.baseline
        totals += f"; baseline: {counted.new} new, {counted.known} known, {counted.fixed} fixed"
        totals += counted.unloaded_note
    lines.append("::notice title=stcheck::" + _data(totals))
    return "\n".join(lines) + "\n"

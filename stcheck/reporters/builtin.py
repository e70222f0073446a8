"""Registers the built-in output formats through the same hook plugins use.

One module per format renders it, imported on first use. ``html`` (one
self-contained page, :mod:`stcheck.reporters.html`) exists only for ``stcheck
report``; there ``markdown`` is the readiness report
(:mod:`stcheck.reporters.readiness_markdown`) and ``json`` carries the
readiness in its ``readiness`` array.
"""

from __future__ import annotations

from stcheck.api import OutputFormat
from stcheck.hookspecs import hookimpl
from stcheck.model import RunReport

ALL = frozenset({"validate", "check", "report"})
REPORT = frozenset({"report"})


def _lazy(module: str, function: str = "render"):  # type: ignore[no-untyped-def]
    """A renderer that imports its module on first use (keeps `validate` start-up fast)."""

    def render(report: RunReport) -> str:
        import importlib

        rendered: str = getattr(importlib.import_module(module), function)(report)
        return rendered

    return render


def _markdown(report: RunReport) -> str:
    """The readiness report in ``stcheck report``, the check summary elsewhere."""
    module = "readiness_markdown" if report.command == "report" else "markdown"
    rendered: str = _lazy(f"stcheck.reporters.{module}")(report)
    return rendered


@hookimpl
def stcheck_output_formats() -> list[OutputFormat]:
    return [
        OutputFormat(
            "text",
            "human-readable lines: file:line:col: status [check] message",
            _lazy("stcheck.reporters.text"),
            ALL,
        ),
        OutputFormat(
            "json",
            "the machine format, schemas/report-v1.schema.json",
            _lazy("stcheck.reporters.json"),
            ALL,
        ),
        OutputFormat(
            "github",
            "GitHub Actions annotations (::error file=…,line=…::)",
            _lazy("stcheck.reporters.github"),
            ALL,
        ),
        OutputFormat(
            "junit",
            "JUnit XML, one test case per check × entry",
            _lazy("stcheck.reporters.junit"),
            ALL,
        ),
        OutputFormat(
            "sarif", "SARIF 2.1.0 for code scanning", _lazy("stcheck.reporters.sarif"), ALL
        ),
        OutputFormat(
            "markdown",
            "a Markdown summary for $GITHUB_STEP_SUMMARY and PR comments"
            " (in `report`: the readiness report)",
            _markdown,
            ALL,
        ),
        OutputFormat(
            "html",
            "the go-live readiness report as one self-contained, printable HTML page",
            _lazy("stcheck.reporters.html"),
            REPORT,
        ),
    ]

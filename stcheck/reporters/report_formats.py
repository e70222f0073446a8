"""Registers the go-live readiness formats of ``stcheck report`` through the plugin hook.

``html`` (one self-contained page, :mod:`stcheck.reporters.html`) exists only
for ``stcheck report``. The readiness Markdown (:mod:`stcheck.reporters.readiness_markdown`)
is what ``--format markdown`` gives in ``stcheck report``, and the ``json``
format carries the readiness in its ``readiness`` array.
"""

from __future__ import annotations

from stcheck.api import OutputFormat
from stcheck.hookspecs import hookimpl
from stcheck.model import RunReport

REPORT = frozenset({"report"})


def _html(report: RunReport) -> str:
    from stcheck.reporters.html import render

    return render(report)


@hookimpl
def stcheck_output_formats() -> list[OutputFormat]:
    return [
        OutputFormat(
            "html",
            "the go-live readiness report as one self-contained, printable HTML page",
            _html,
            REPORT,
        ),
    ]

"""A real stcheck plugin whose checks and reference scheme never return (tests of the run boundary).

Installed for a test by putting this directory, with a ``hangplug-1.0.dist-info``
holding an ``entry_points.txt``, on ``PYTHONPATH`` of a subprocess. Behaviour
comes from the environment:

- ``HANG_HOW``: ``sleep`` (default: ``time.sleep`` in a loop) or ``read`` (a
  blocking ``read(2)`` on a pipe nobody writes to: a worker stuck in a system call);
- ``HANG_TENANT``: only this tenant's ``hang_entry`` hangs (default: all);
- ``HANG_MARK``: a file created when a hang begins, so a test knows when to signal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence

from stcheck.api import Check, CheckContext, ReferenceScheme
from stcheck.hookspecs import hookimpl
from stcheck.manifest import Entry
from stcheck.model import Result, Status


def _hang() -> None:
    mark = os.environ.get("HANG_MARK")
    if mark:
        with open(mark, "a", encoding="utf-8") as handle:
            handle.write(f"{os.getpid()}\n")
    if os.environ.get("HANG_HOW") == "read":
        reader, _writer = os.pipe()
        os.read(reader, 1)  # never answered: the thread stays in the system call
    while True:
        time.sleep(3600)


class Hang(Check):
    """Never returns (manifest stage)."""

    id = "hang"
    stage = "manifest"
    order = 95

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        _hang()
        return []


class HangEntry(Check):
    """Never returns for the tenant in HANG_TENANT (or every tenant); passes for the others."""

    id = "hang_entry"
    stage = "entry"
    order = 95

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        if os.environ.get("HANG_TENANT", entry.tenant) == entry.tenant:
            _hang()
        return [
            ctx.result(
                self.id, Status.PASS, "returned", tenant=entry.tenant, environment=entry.environment
            )
        ]


def _resolve(rest: str, context: object) -> str:
    _hang()
    return ""


@hookimpl
def stcheck_checks() -> list[Check]:
    return [Hang(), HangEntry()]


@hookimpl
def stcheck_reference_schemes() -> list[ReferenceScheme]:
    return [ReferenceScheme("hang", "never resolves", "hang:anything", resolve=_resolve)]

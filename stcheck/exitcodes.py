"""The exit statuses of ``stcheck``: the whole, documented set (pytest's ``ExitCode`` pattern).

CI scripts branch on these numbers, so a process never exits with any other
status — not even when a plugin calls ``sys.exit(7)``: plugin code runs
behind a boundary that turns every exception (``SystemExit`` included) into
an ``error`` result.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """How a ``stcheck`` run ended."""

    OK = 0
    """Nothing failed (warnings and skips do not fail a run)."""
    FAILURES = 1
    """At least one result is ``fail`` or ``error`` (a crashed check or plugin included)."""
    USAGE = 2
    """Usage or input error before checks could run: a bad option, a missing manifest."""
    INTERNAL = 3
    """stcheck itself broke, an output format crashed, or an ``--output`` file was not written."""
    INTERRUPTED = 130
    """Interrupted by the user (SIGINT, Ctrl-C): 128 + 2, as shells report it."""
    TERMINATED = 143
    """Terminated (SIGTERM): 128 + 15."""


class UsageError(Exception):
    """Bad input before any check could run (a bad option, a missing manifest): exit status 2."""

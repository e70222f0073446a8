"""SIGINT and SIGTERM stop a run at once: an exception on the main thread, exit 128 + signal.

Python turns SIGINT into ``KeyboardInterrupt`` but leaves SIGTERM to its
default action (the process dies with no message and no clean-up). While
:func:`stop_on_signals` is active both raise :class:`Interrupted` on the main
thread, which is only ever waiting for worker threads (see
:mod:`stcheck.bounded`), so the run stops within moments however stuck its
workers are; the CLI then reports one line and exits 130 (SIGINT) or 143
(SIGTERM), the statuses a shell gives a process killed by those signals.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``code`` is the exit status to use."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.code = 128 + signum


def _raise(signum: int, _frame: object) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise :class:`Interrupted` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return
    previous = {signum: signal.signal(signum, _raise) for signum in STOP_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)

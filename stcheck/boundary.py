"""The plugin boundary: whatever plugin code raises stops there, except a real signal.

Plugin code (hooks, checks, resolvers, output formats) runs inside
:class:`Boundary`. Every exception it raises — ``SystemExit``,
``KeyboardInterrupt`` and ``GeneratorExit`` included — is caught and kept on
the boundary for the caller to report as an ``error`` result: a plugin's
``sys.exit(0)`` must not end a run that had failures with status 0.

The one exception let through is the one a real signal causes. Signals reach
only the main thread, so on a worker thread nothing is let through. On the
main thread the boundary wraps the SIGINT and SIGTERM handlers for the
duration of the call (calling whatever handler was installed before, so the
run's own signal handling is unchanged); if one of those signals arrived
during the call, the exception that follows it propagates. A plugin that
raises ``KeyboardInterrupt`` itself, with no signal, is a crash like any other.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable
from types import FrameType, TracebackType
from typing import Any

from stcheck.text import clipped

_WATCHED = (signal.SIGINT, signal.SIGTERM)
MESSAGE_CHARS = 300
"""The most of an exception's text a message quotes (after scrubbing)."""


class Boundary:
    """``with Boundary() as boundary: plugin code`` — then ``boundary.failure`` is what it raised.

    ``failure`` is None when the code returned normally.
    """

    def __init__(self) -> None:
        self.failure: BaseException | None = None
        self._signalled = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Boundary:
        if threading.current_thread() is threading.main_thread():
            for signum in _WATCHED:
                # Not the main interpreter: there is nothing to watch.
                with contextlib.suppress(ValueError, OSError):
                    self._previous[signum] = signal.signal(signum, self._on_signal)
        return self

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self._signalled = True
        previous = self._previous.get(signum)
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_IGN:
            return
        else:  # SIG_DFL, or a handler not installed from Python: what would have happened
            signal.signal(signum, signal.SIG_DFL)
            signal.raise_signal(signum)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        if exc is None or self._signalled:
            return False
        self.failure = exc
        return True


def describe(exc: BaseException, scrub: Callable[[str], str] | None = None) -> str:
    """``TypeName: text`` of a plugin's exception, its text scrubbed and shortened.

    ``scrub`` masks the values resolved during the run (``Redactor.secrets.mask``):
    exception text from plugin code may hold anything.
    """
    text = str(exc)
    if not text.strip():
        return type(exc).__name__
    if scrub is not None:
        text = scrub(text)
    return f"{type(exc).__name__}: {clipped(text, MESSAGE_CHARS)}"

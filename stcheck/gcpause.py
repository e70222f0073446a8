"""Pausing the cyclic garbage collector over a phase that only builds objects.

Reference counting still frees everything as usual; only the cycle detector
waits. The manifest loader pauses it and freezes the loaded data
(``paused_gc(freeze=True)``), so the collections that a later phase allocating
~10^5 objects would trigger scan mostly what that phase made and keeps: about
a fifth of the ``golive`` check's time and of the HTML report's rendering at
10,000 tenants. Use it only around
stcheck's own code whose cyclic garbage stays small (a few dozen objects for
a whole fleet: measured in tests/test_gcpause.py), never around plugin code.
"""

from __future__ import annotations

import gc
from types import TracebackType


class paused_gc:
    """``with paused_gc():`` — no cyclic collection inside; the previous state after."""

    __slots__ = ("_freeze", "_was_enabled")

    def __init__(self, *, freeze: bool = False) -> None:
        self._freeze = freeze

    def __enter__(self) -> None:
        self._was_enabled = gc.isenabled()
        gc.disable()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._freeze:
            gc.freeze()
        if self._was_enabled:
            gc.enable()

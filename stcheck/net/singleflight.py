"""A per-key cache where the first caller computes and concurrent callers wait for its answer.

Entries of one run are checked on a worker pool; entries that share a client
pair (Enterprise Hub) must share one token request rather than race to make
several. :class:`SingleFlight` gives each key a slot: the first thread to ask
runs the function, later threads block on the slot's event and get the same
value. Values are kept for the run (in memory only).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Slot(Generic[V]):
    __slots__ = ("event", "failure", "finished", "value")

    def __init__(self) -> None:
        # The event exists only while the value is being computed: a run keeps
        # one slot per token and DNS name, and an Event (a Condition and its
        # locks) costs ~700 bytes that nobody needs once the value is there.
        self.event: threading.Event | None = threading.Event()
        self.finished = False
        self.value: V | None = None
        self.failure: BaseException | None = None

    def finish(self) -> None:
        self.finished = True
        event, self.event = self.event, None
        if event is not None:
            event.set()

    def wait(self) -> None:
        event = self.event  # None once finished (set only after `finished`)
        if event is not None:
            event.wait()


class SingleFlight(Generic[K, V]):
    """``get(key, compute)``: ``compute()`` runs at most once per key; everyone gets its value.

    If ``compute`` raises, every caller for that key gets the same exception
    (the run does not retry behind the first caller's back).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[K, _Slot[V]] = {}

    def get(self, key: K, compute: Callable[[], V]) -> tuple[V, bool]:
        """The value for ``key`` and whether this call computed it (False: shared)."""
        with self._lock:
            slot = self._slots.get(key)
            owner = slot is None
            if slot is None:
                slot = self._slots[key] = _Slot()
        if owner:
            try:
                slot.value = compute()
            except BaseException as exc:
                slot.failure = exc
                raise
            finally:
                slot.finish()
        else:
            slot.wait()
            if slot.failure is not None:
                raise slot.failure
        return slot.value, owner  # type: ignore[return-value]

    def peek(self, key: K) -> V | None:
        """The value for ``key`` if it has been computed, else None (never waits)."""
        with self._lock:
            slot = self._slots.get(key)
        if slot is None or not slot.finished:
            return None
        return slot.value

    def __len__(self) -> int:
        with self._lock:
            return len(self._slots)

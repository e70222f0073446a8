"""Wall-clock deadlines and a watchdog that acts when one passes.

Two small tools, independent of what they guard:

* :class:`Deadline` — a point on the monotonic clock (``time.monotonic``, so
  changes of the system time neither extend nor cut it short). Made with
  :meth:`Deadline.after`; asked how much time is left with
  :meth:`Deadline.remaining`; combined with :meth:`Deadline.earliest`.
* :class:`Watchdog` — one daemon thread and a heap of alarms:
  :meth:`Watchdog.call_at` runs a callback when a deadline passes unless the
  alarm is cancelled first. One thread serves any number of alarms, so arming
  one costs a heap push, not a thread (unlike ``threading.Timer``).

The HTTP layer (:mod:`stcheck.net.http`) arms one alarm per request that
shuts the request's socket down when its deadline passes, which bounds a
request by wall-clock time however slowly the server trickles its answer.
Callbacks run on the watchdog thread, outside its lock; they must be quick
and must not raise (an exception is swallowed so one bad callback cannot stop
the others).

Nothing here knows about HTTP, checks or the CLI.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
import time
from collections.abc import Callable

from stcheck.record import record

__all__ = ["Alarm", "Deadline", "Watchdog"]


@record(frozen=True, slots=True)
class Deadline:
    """A moment on the monotonic clock (``time.monotonic()`` seconds)."""

    at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        """The deadline ``seconds`` from now."""
        return cls(time.monotonic() + seconds)

    def remaining(self) -> float:
        """Seconds left, never negative."""
        return max(0.0, self.at - time.monotonic())

    @property
    def expired(self) -> bool:
        """True once the deadline has passed."""
        return time.monotonic() >= self.at

    def earliest(self, other: Deadline | None) -> Deadline:
        """Whichever of ``self`` and ``other`` comes first (``None`` is no deadline)."""
        return self if other is None or self.at <= other.at else other

    def clip(self, seconds: float) -> float:
        """``seconds``, cut down to what remains."""
        return min(seconds, self.remaining())


_PENDING, _CANCELLED, _FIRED = 0, 1, 2


class Alarm:
    """An armed callback of a :class:`Watchdog`; :meth:`cancel` it when it is no longer needed."""

    __slots__ = ("_callback", "_state", "_watchdog", "deadline")

    def __init__(self, watchdog: Watchdog, deadline: Deadline, callback: Callable[[], None]):
        self._watchdog = watchdog
        self._callback = callback
        self._state = _PENDING
        self.deadline = deadline

    def cancel(self) -> bool:
        """Disarm. True if the callback had not been started (and now never will be)."""
        return self._watchdog._cancel(self)

    @property
    def fired(self) -> bool:
        """True once the deadline passed and the callback was (or is being) run."""
        return self._state == _FIRED


class Watchdog:
    """Runs callbacks when their deadlines pass, on one lazily started daemon thread.

    Thread-safe. :meth:`close` stops the thread; alarms still armed then never
    fire. A closed watchdog refuses new alarms (``RuntimeError``).
    """

    def __init__(self, name: str = "stcheck-watchdog") -> None:
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, Alarm]] = []
        self._order = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_at(self, deadline: Deadline, callback: Callable[[], None]) -> Alarm:
        """Run ``callback`` on the watchdog thread once ``deadline`` passes, unless cancelled."""
        alarm = Alarm(self, deadline, callback)
        with self._cond:
            if self._closed:
                raise RuntimeError("the watchdog is closed")
            earliest = self._heap[0][0] if self._heap else None
            heapq.heappush(self._heap, (deadline.at, next(self._order), alarm))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            elif earliest is None or deadline.at < earliest:
                # Only a new earliest deadline changes how long the thread sleeps.
                self._cond.notify()
        return alarm

    def close(self, timeout: float = 1.0) -> None:
        """Stop the thread (waiting up to ``timeout`` s for a running callback). Idempotent."""
        with self._cond:
            self._closed = True
            self._heap.clear()
            self._cancelled = 0
            self._cond.notify()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def __len__(self) -> int:
        """Alarms armed and not cancelled."""
        with self._cond:
            return len(self._heap) - self._cancelled

    def _cancel(self, alarm: Alarm) -> bool:
        with self._cond:
            if alarm._state != _PENDING:
                return False
            alarm._state = _CANCELLED
            if self._closed:
                return True
            self._cancelled += 1
            # Cancelled alarms stay in the heap until they come due; compact when
            # they are the majority, so a long run does not accumulate them.
            if self._cancelled > 256 and self._cancelled * 2 > len(self._heap):
                self._heap = [item for item in self._heap if item[2]._state == _PENDING]
                heapq.heapify(self._heap)
                self._cancelled = 0
            return True

    def _run(self) -> None:
        while True:
            due: list[Alarm] = []
            with self._cond:
                while not self._closed:
                    now = time.monotonic()
                    while self._heap and self._heap[0][0] <= now:
                        _, _, alarm = heapq.heappop(self._heap)
                        if alarm._state == _PENDING:
                            alarm._state = _FIRED
                            due.append(alarm)
                        else:
                            self._cancelled -= 1
                    if due:
                        break
                    wait = self._heap[0][0] - now if self._heap else None
                    self._cond.wait(wait)
                if self._closed:
                    return
            for alarm in due:
                with contextlib.suppress(Exception):  # one bad callback must not stop the rest
                    alarm._callback()

"""Wall-clock deadlines and a watchdog that acts when one passes.

Two small tools, independent of what they guard:

* :class:`Deadline` — a point on the monotonic clock (``time.monotonic``, so
  changes of the system time neither extend nor cut it short). Made with
  :meth:`Deadline.after`; asked how much time is left with
  :meth:`Deadline.remaining`; combined with :meth:`Deadline.earliest`.
* :class:`Watchdog` — one daemon thread and a set of alarms:
  :meth:`Watchdog.call_at` runs a callback when a deadline passes unless the
  alarm is cancelled first. One thread serves any number of alarms, so arming
  one costs a dict entry, not a thread (unlike ``threading.Timer``), and no
  lock.

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
import math
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

    Arming and cancelling take no lock: the HTTP layer arms and cancels one
    alarm per request from up to ``--concurrency`` threads, and a shared lock
    there cost GIL hand-overs on every request. The armed alarms are a dict;
    whoever removes an alarm from it (``dict.pop`` is atomic) owns it — the
    thread to fire it, or :meth:`Alarm.cancel` to disarm it. The thread sleeps
    until the earliest deadline it knows of; arming an earlier one wakes it.
    While the thread computes, its wake-up time reads as "never", so an alarm
    armed meanwhile always wakes it again: none is missed.
    """

    def __init__(self, name: str = "stcheck-watchdog") -> None:
        self._name = name
        self._armed: dict[Alarm, float] = {}
        self._wake = threading.Event()
        self._wake_at = math.inf
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def call_at(self, deadline: Deadline, callback: Callable[[], None]) -> Alarm:
        """Run ``callback`` on the watchdog thread once ``deadline`` passes, unless cancelled."""
        if self._closed:
            raise RuntimeError("the watchdog is closed")
        alarm = Alarm(self, deadline, callback)
        self._armed[alarm] = deadline.at
        if self._thread is None:
            with self._start:
                if self._thread is None and not self._closed:
                    thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                    thread.start()
                    self._thread = thread
        if deadline.at < self._wake_at:
            self._wake.set()
        if self._closed:  # closed while arming: it never fires
            self._armed.pop(alarm, None)
            raise RuntimeError("the watchdog is closed")
        return alarm

    def close(self, timeout: float = 1.0, *, fire_armed: bool = False) -> None:
        """Stop the thread (waiting up to ``timeout`` s for a running callback). Idempotent.

        Alarms still armed then never fire, unless ``fire_armed``: then each one's
        callback runs now, on the calling thread, as if its deadline had passed.
        """
        with self._start:
            self._closed = True
            thread = self._thread
        self._wake.set()  # armed alarms stay armed (cancel() still says True) unless fired
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        if fire_armed:
            for alarm in list(self._armed.copy()):
                if self._armed.pop(alarm, None) is not None:
                    alarm._state = _FIRED
                    with contextlib.suppress(Exception):
                        alarm._callback()

    def __len__(self) -> int:
        """Alarms armed and not cancelled."""
        return len(self._armed)

    def _cancel(self, alarm: Alarm) -> bool:
        if self._armed.pop(alarm, None) is None:
            return False
        alarm._state = _CANCELLED
        return True

    def _run(self) -> None:
        armed = self._armed
        while not self._closed:
            self._wake.clear()
            self._wake_at = math.inf  # computing: whoever arms now wakes the thread again
            now = time.monotonic()
            earliest = math.inf
            due: list[Alarm] = []
            # dict.copy runs no Python code; list(armed.items()) can (a garbage collection
            # in the middle runs finalizers, another thread arms meanwhile: RuntimeError).
            for alarm, at in armed.copy().items():
                if at > now:
                    earliest = min(earliest, at)
                elif armed.pop(alarm, None) is not None:
                    alarm._state = _FIRED
                    due.append(alarm)
            for alarm in due:
                with contextlib.suppress(Exception):  # one bad callback must not stop the rest
                    alarm._callback()
            if due:
                continue  # time passed while the callbacks ran
            self._wake_at = earliest
            self._wake.wait(None if earliest == math.inf else earliest - now)

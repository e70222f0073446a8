"""Run calls on daemon threads under one run-wide deadline, and never wait past it.

The run's main thread only waits here — on a condition, which a signal
interrupts — while checks and resolvers (built-in or a plugin's) run on
daemon worker threads. When the run's :class:`~stcheck.deadline.Deadline`
passes, or the main thread is interrupted, the workers still busy are
abandoned, not joined: a plugin check that never returns, or one stuck in a
blocking system call, cannot hold the run or the interpreter's exit.
(``concurrent.futures`` workers are joined at interpreter exit, which is why
this module does not use it.)

A :class:`~stcheck.deadline.Watchdog` alarm wakes the waiting thread when the
deadline passes, so waiting costs no polling.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from stcheck.deadline import Deadline, Watchdog

T = TypeVar("T")
R = TypeVar("R")

_WATCHDOG = Watchdog("stcheck-run-deadline")


class RunBound:
    """The run's wall-clock deadline ``seconds`` from now (or none); did it cut the run short."""

    def __init__(self, seconds: float | None = None) -> None:
        self.seconds = seconds
        deadline = None if seconds is None else Deadline.after(seconds)
        self.deadline = deadline
        self.cut_short = False
        self._listeners: list[threading.Condition] = []
        self._lock = threading.Lock()
        self._alarm = None if deadline is None else _WATCHDOG.call_at(deadline, self._wake)

    @property
    def expired(self) -> bool:
        return self.deadline is not None and self.deadline.expired

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline.remaining()

    def close(self) -> None:
        if self._alarm is not None:
            self._alarm.cancel()

    def _listen(self, cond: threading.Condition) -> None:
        with self._lock:
            self._listeners.append(cond)

    def _unlisten(self, cond: threading.Condition) -> None:
        with self._lock:
            if cond in self._listeners:
                self._listeners.remove(cond)

    def _wake(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for cond in listeners:
            with cond:
                cond.notify_all()


class Slots(Generic[R]):
    """What :func:`map_bounded` produced: one value per item, ``None`` where not finished."""

    def __init__(self, size: int) -> None:
        self.values: list[R | None] = [None] * size
        self.finished: list[bool] = [False] * size
        self.errors: list[BaseException | None] = [None] * size


def map_bounded(
    call: Callable[[int, T], R],
    items: Sequence[T],
    workers: int,
    bound: RunBound,
    on_done: Callable[[int], None] | None = None,
) -> Slots[R]:
    """``call(index, item)`` for each item on up to ``workers`` daemon threads, within ``bound``.

    Returns when every call has returned or the deadline has passed; in the
    second case ``bound.cut_short`` is set and the unfinished slots are left
    ``None`` (their threads are abandoned and start no further item).
    ``on_done(count)`` runs on the calling thread as items finish.
    A signal's exception (``KeyboardInterrupt``) raised in the calling thread
    propagates at once; the workers are abandoned the same way.
    An exception that escapes ``call`` (even a ``SystemExit``) finishes its
    slot with the exception in ``errors``; the worker goes on with the next item.
    """
    slots: Slots[R] = Slots(len(items))
    if not items:
        return slots
    cond = threading.Condition(threading.Lock())
    state = {"next": 0, "done": 0, "stop": False}

    def worker() -> None:
        while True:
            with cond:
                index = state["next"]
                if state["stop"] or index >= len(items):
                    return
                state["next"] = index + 1
            value: R | None = None
            error: BaseException | None = None
            try:
                value = call(index, items[index])
            except BaseException as exc:  # a worker must never die silently
                error = exc
            with cond:
                slots.values[index] = value
                slots.errors[index] = error
                slots.finished[index] = True
                state["done"] += 1
                # Wake the waiting thread only when it has something to do: waking it
                # for every item costs a GIL hand-over per item.
                if on_done is not None or state["done"] == len(items):
                    cond.notify_all()

    bound._listen(cond)
    try:
        for number in range(max(1, min(workers, len(items)))):
            threading.Thread(target=worker, name=f"stcheck-{number}", daemon=True).start()
        reported = 0
        with cond:
            while state["done"] < len(items):
                if bound.expired:
                    bound.cut_short = True
                    break
                cond.wait(bound.remaining())
                if on_done is not None and state["done"] != reported:
                    reported = state["done"]
                    cond.release()
                    try:
                        on_done(reported)
                    finally:
                        cond.acquire()
    finally:
        with cond:
            state["stop"] = True  # on a deadline or an interrupt: abandon, never join
        bound._unlisten(cond)
    return slots


def call_bounded(call: Callable[[], R], bound: RunBound) -> tuple[bool, R | None]:
    """``call()`` on a daemon thread within ``bound``: ``(True, value)``, or ``(False, None)``.

    An exception from ``call`` is re-raised on the calling thread.
    """
    slots: Slots[R] = map_bounded(lambda _index, _item: call(), (None,), 1, bound)
    error = slots.errors[0]
    if error is not None:
        raise error
    return slots.finished[0], slots.values[0]

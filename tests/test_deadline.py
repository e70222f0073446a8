"""The Deadline value and the Watchdog thread of stcheck.deadline."""

from __future__ import annotations

import threading
import time

import pytest

from stcheck.deadline import Deadline, Watchdog


def test_deadline_arithmetic() -> None:
    soon = Deadline.after(0.5)
    later = Deadline.after(60)
    assert 0 < soon.remaining() <= 0.5
    assert not soon.expired
    assert soon.earliest(later) is soon and later.earliest(soon) is soon
    assert later.earliest(None) is later
    assert soon.clip(10) <= 0.5 and soon.clip(0.1) == 0.1
    past = Deadline(time.monotonic() - 1)
    assert past.expired and past.remaining() == 0.0


def test_alarms_fire_in_deadline_order_and_cancelled_ones_never_fire() -> None:
    fired: list[str] = []
    done = threading.Event()
    watchdog = Watchdog()
    try:
        late = watchdog.call_at(Deadline.after(0.3), lambda: (fired.append("late"), done.set()))
        cancelled = watchdog.call_at(Deadline.after(0.1), lambda: fired.append("cancelled"))
        # Armed after a later one: it must wake the sleeping thread.
        early = watchdog.call_at(Deadline.after(0.05), lambda: fired.append("early"))
        assert cancelled.cancel() is True
        assert cancelled.cancel() is False  # once only
        assert done.wait(5)
    finally:
        watchdog.close()
    assert fired == ["early", "late"]
    assert early.fired and late.fired and not cancelled.fired
    assert late.cancel() is False  # too late: it went off


def test_a_failing_callback_does_not_stop_the_watchdog() -> None:
    done = threading.Event()
    watchdog = Watchdog()

    def boom() -> None:
        raise RuntimeError("boom")

    try:
        watchdog.call_at(Deadline.after(0.01), boom)
        watchdog.call_at(Deadline.after(0.05), done.set)
        assert done.wait(5)
    finally:
        watchdog.close()


def test_many_cancelled_alarms_do_not_accumulate() -> None:
    watchdog = Watchdog()
    try:
        for _ in range(2000):
            watchdog.call_at(Deadline.after(3600), lambda: None).cancel()
        assert len(watchdog) == 0
        assert not watchdog._armed  # each left when it was cancelled
    finally:
        watchdog.close()


def test_close_stops_the_thread_and_refuses_new_alarms() -> None:
    watchdog = Watchdog(name="test-watchdog")
    watchdog.call_at(Deadline.after(3600), lambda: None)
    watchdog.close()
    assert not any(t.name == "test-watchdog" for t in threading.enumerate())
    with pytest.raises(RuntimeError):
        watchdog.call_at(Deadline.after(1), lambda: None)
    watchdog.close()  # idempotent


def test_alarms_armed_and_cancelled_from_many_threads_fire_exactly_when_not_cancelled() -> None:
    """No lock guards arming: every alarm either fires once or is cancelled, never both."""
    watchdog = Watchdog()
    fired: list[int] = []
    outcomes: dict[int, bool] = {}

    def work(base: int) -> None:
        for number in range(base, base + 300):
            alarm = watchdog.call_at(
                Deadline.after(0.002 * (number % 5)), lambda n=number: fired.append(n)
            )
            if number % 3:
                outcomes[number] = alarm.cancel()

    try:
        threads = [threading.Thread(target=work, args=(k * 1000,)) for k in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        deadline = time.monotonic() + 5
        while len(watchdog) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watchdog.close()
    assert len(fired) == len(set(fired))
    for number in range(8000):
        if number % 1000 >= 300:
            continue
        if number % 3 and outcomes[number]:
            assert number not in fired  # cancelled in time: never fired
        else:
            assert number in fired  # not cancelled, or cancelled too late: it went off


def test_an_alarm_armed_earlier_than_the_one_the_thread_sleeps_for_wakes_it() -> None:
    watchdog = Watchdog()
    done = threading.Event()
    try:
        watchdog.call_at(Deadline.after(3600), lambda: None)
        time.sleep(0.05)  # the thread now sleeps for an hour
        started = time.monotonic()
        watchdog.call_at(Deadline.after(0.05), done.set)
        assert done.wait(5)
        assert time.monotonic() - started < 2
    finally:
        watchdog.close()


def test_the_watchdog_survives_a_garbage_collection_that_lets_another_thread_arm() -> None:
    """A collection during the thread's scan runs finalizers, which may let the GIL go: an
    alarm armed then must not change the dict under the scan (the thread would die, and no
    deadline would ever fire again)."""
    watchdog = Watchdog()
    died: list[str] = []
    hook = threading.excepthook
    threading.excepthook = lambda args: died.append(repr(args.exc_value))

    class Cycle:
        def __del__(self) -> None:
            time.sleep(0.001)  # a finalizer closing a file or socket lets the GIL go

    try:
        for _ in range(20_000):  # a big dict makes each scan long
            watchdog.call_at(Deadline.after(3600), lambda: None)
        stop = time.monotonic() + 2

        def churn() -> None:
            count = 0
            while time.monotonic() < stop and not died:
                count += 1
                if count % 200 == 0:
                    cycle = Cycle()
                    cycle.me = cycle  # type: ignore[attr-defined]
                    del cycle
                    watchdog.call_at(Deadline.after(0), lambda: None)  # the thread rescans
                watchdog.call_at(Deadline.after(60), lambda: None).cancel()

        worker = threading.Thread(target=churn, daemon=True)
        worker.start()
        worker.join(10)
        fired = threading.Event()
        watchdog.call_at(Deadline.after(0.05), fired.set)
        assert fired.wait(5), died
        assert not died
    finally:
        threading.excepthook = hook
        watchdog.close()

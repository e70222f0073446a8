"""stcheck.affinity: the entry stage's workers share one CPU while they work, then let go."""

from __future__ import annotations

import os
import threading

import pytest

from stcheck.affinity import one_cpu

pytestmark = pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs CPU affinity and at least two CPUs",
)


def test_threads_started_inside_run_on_one_cpu_and_the_caller_gets_its_cpus_back() -> None:
    before = os.sched_getaffinity(0)
    seen: dict[str, set[int]] = {}

    def worker() -> None:
        seen["worker"] = os.sched_getaffinity(0)

    with one_cpu():
        seen["caller"] = os.sched_getaffinity(0)
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert len(seen["caller"]) == 1 and seen["caller"] <= before
    assert seen["worker"] == seen["caller"]
    assert os.sched_getaffinity(0) == before


def test_the_cpus_come_back_when_the_block_raises() -> None:
    before = os.sched_getaffinity(0)
    with pytest.raises(RuntimeError), one_cpu():
        raise RuntimeError("a check crashed")
    assert os.sched_getaffinity(0) == before


def test_stcheck_cpu_affinity_0_leaves_the_cpus_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STCHECK_CPU_AFFINITY", "0")
    before = os.sched_getaffinity(0)
    with one_cpu():
        assert os.sched_getaffinity(0) == before

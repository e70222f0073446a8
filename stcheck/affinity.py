"""Keep a run's network workers on one CPU while they work.

CPython lets one thread at a time run Python (the GIL). The network checks'
workers (``--concurrency`` of them) mostly wait on sockets; each time one
wakes it must take the GIL from whichever thread holds it. Between threads on
the same CPU that hand-over is cheap; between two CPUs it is a cross-CPU
wake-up and a cache line moving back and forth, on every one of the ~3 system
calls a request makes. Measured on a 2-CPU machine at ``--concurrency 64``
against the fake on loopback (docs/performance.md): the same run used ~50 %
more CPU spread over both CPUs than kept on one, and was slower for it. What
the workers do without the GIL (TLS on a few hundred bytes, system calls) is
too little to be worth a second CPU.

So while the entry stage runs, the calling thread — and the worker threads it
starts, which inherit its affinity — is bound to the CPU it is running on;
the previous affinity is restored afterwards (threads started before are not
touched). Nothing happens where the OS has no affinity call (macOS,
Windows), when the process may use one CPU only, or when
``STCHECK_CPU_AFFINITY=0`` is set (for a plugin check that does heavy work
without the GIL).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["one_cpu"]


def _current_cpu() -> int | None:
    """The CPU the calling thread last ran on (Linux: field 39 of its ``stat``), or None."""
    try:
        with open("/proc/thread-self/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return int(fields[36])  # field 39, counted after the command name's field 2
    except (OSError, IndexError, ValueError):
        return None


@contextlib.contextmanager
def one_cpu() -> Iterator[None]:
    """Within the block, this thread and the threads it starts run on one CPU (see above)."""
    if os.environ.get("STCHECK_CPU_AFFINITY") == "0" or not hasattr(os, "sched_setaffinity"):
        yield
        return
    try:
        allowed = os.sched_getaffinity(0)
    except OSError:
        allowed = set()
    cpu = _current_cpu()
    if len(allowed) < 2 or cpu not in allowed:
        cpu = min(allowed) if len(allowed) >= 2 else None
    if cpu is None:
        yield
        return
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError:
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, allowed)

"""What plugin code writes to ``sys.stdout``/``sys.stderr`` passes the redactor first.

The core never prints — only the CLI writes, through the redactor. Plugin
code may print (a debugging ``print(value)`` left in a resolver is the classic
leak). While the CLI runs, :class:`PluginStreams` replaces ``sys.stdout`` and
``sys.stderr`` with proxies that collect what is written, line by line and
per thread (checks run on a pool: lines of two threads are never glued
together, and a secret written in pieces is whole when it is scrubbed), mask
the run's resolved values and credential shapes in each complete line, and
only then write it to the real stream.

Where plugin stdout goes: to stdout only while the format on stdout is the
human ``text`` format; with a machine format (``json``, ``sarif``, …) or
``--quiet``, to stderr, so a plugin's print cannot corrupt the document a CI
script parses. Until the CLI knows the format, stdout lines are held back.

This is a net for accidental output, not a sandbox: plugin code that writes to
file descriptor 1 directly (``os.write``), or to ``sys.__stdout__``, is not
seen. Plugins are installed code you chose to trust.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

HOLD_CHARS = 64 * 1024
"""A line longer than this is written in pieces of this size (memory stays bounded)."""


class _Proxy(io.TextIOBase):
    """``sys.stdout`` or ``sys.stderr`` while plugin code may run."""

    def __init__(self, owner: PluginStreams, kind: str, real: TextIO) -> None:
        super().__init__()
        self._owner = owner
        self._kind = kind
        self._encoding = getattr(real, "encoding", None) or "utf-8"

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self._encoding

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:  # type: ignore[override]
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._owner.write(self._kind, text)
        return len(text)

    def flush(self) -> None:
        """Complete lines are already written; a partial line waits for its end (see module)."""


class PluginStreams:
    """Install redacting ``sys.stdout``/``sys.stderr`` for the duration of a ``with`` block."""

    def __init__(self, scrub: Callable[[str], str], stdout: TextIO, stderr: TextIO) -> None:
        self._scrub = scrub
        self._stdout = stdout
        self._stderr = stderr
        self._stdout_target: TextIO | None = None
        self._held: list[str] = []  # complete stdout lines before the target is known
        self._pending: dict[tuple[int, str], list[str]] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._saved: tuple[TextIO, TextIO] | None = None

    def route_stdout(self, *, to_stdout: bool) -> None:
        """Decide where plugin stdout goes (stdout for the text format, else stderr)."""
        with self._lock:
            self._stdout_target = self._stdout if to_stdout else self._stderr
            held, self._held = self._held, []
            for text in held:
                self._emit(self._stdout_target, text)

    def __enter__(self) -> PluginStreams:
        self._saved = (sys.stdout, sys.stderr)
        sys.stdout = _Proxy(self, "out", self._stdout)  # type: ignore[assignment]
        sys.stderr = _Proxy(self, "err", self._stderr)  # type: ignore[assignment]
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            for key in list(self._pending):
                self._send(key[1], "".join(self._pending.pop(key)))
            if self._stdout_target is None:  # the format never became known: a usage error
                self.route_stdout(to_stdout=False)
            self._closed = True
        if self._saved is not None:
            sys.stdout, sys.stderr = self._saved  # type: ignore[assignment]

    def write(self, kind: str, text: str) -> None:
        if not text:
            return
        key = (threading.get_ident(), kind)
        with self._lock:
            if self._closed:
                self._send(kind, text)
                return
            parts = self._pending.setdefault(key, [])
            parts.append(text)
            if "\n" not in text and sum(map(len, parts)) < HOLD_CHARS:
                return
            joined = "".join(parts)
            cut = joined.rfind("\n") + 1 or len(joined)
            ready, rest = joined[:cut], joined[cut:]
            if rest:
                self._pending[key] = [rest]
            else:
                del self._pending[key]
            self._send(kind, ready)

    def _send(self, kind: str, text: str) -> None:
        if not text:
            return
        if kind == "err":
            self._emit(self._stderr, text)
        elif self._stdout_target is None:
            self._held.append(text)
        else:
            self._emit(self._stdout_target, text)

    def _emit(self, stream: TextIO, text: str) -> None:
        try:
            stream.write(self._scrub(text))
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: plugin output is not vital
            pass

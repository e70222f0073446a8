"""The state one run shares between its checks: typed fields for what the core owns,
and a registry keyed by type for what checks create lazily.

Modelled on hynek's ``svcs`` Container, in small: ``registry.get(HttpClient,
factory)`` creates the run's HTTP client once, whichever worker thread asks
first, and ``registry.close()`` runs the cleanups registered with it (every
object with a ``close()`` method, in reverse order of creation) when the run
ends. One lock, owned by the registry, serialises creation; reading an object
that exists takes no lock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from stcheck.record import field, record

if TYPE_CHECKING:
    from stcheck.fleet import FleetIndex
    from stcheck.readiness import ReadinessView, TenantReadiness
    from stcheck.redact import Redactor

T = TypeVar("T")


class Registry:
    """Per-run objects, each created once, keyed by its type.

    .. versionadded:: 0.2
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._objects: dict[object, object] = {}
        self._cleanups: list[Callable[[], object]] = []

    def get(self, kind: type[T], factory: Callable[[], T]) -> T:
        """The run's ``kind`` object, created with ``factory`` the first time it is asked for."""
        return cast(T, self.get_named(kind, factory))

    def get_named(self, key: object, factory: Callable[[], Any]) -> Any:
        """The object under ``key`` (a type, or a plugin's own string key), created once."""
        existing = self._objects.get(key)
        if existing is not None:
            return existing
        with self._lock:
            if key not in self._objects:
                created = factory()
                if isinstance(key, type) and not isinstance(created, key):
                    raise TypeError(f"the factory for {key.__name__} made a {type(created)!r}")
                self._objects[key] = created
                close = getattr(created, "close", None)
                if callable(close):
                    self._cleanups.append(close)
            return self._objects[key]

    def peek(self, kind: type[T]) -> T | None:
        """The run's ``kind`` object if one was created, else None (never creates)."""
        return cast("T | None", self._objects.get(kind))

    def on_close(self, cleanup: Callable[[], object]) -> None:
        """Run ``cleanup`` when the run ends."""
        with self._lock:
            self._cleanups.append(cleanup)

    def close(self, *, wait: bool = True) -> None:
        """Run the cleanups, newest first; a failing cleanup does not stop the others.

        After a deadline or an interrupt, abandoned workers may still hold what a
        cleanup needs: with ``wait=False`` the cleanups run on a daemon thread,
        given at most a second.
        """
        with self._lock:
            cleanups, self._cleanups = self._cleanups[::-1], []

        def close_all() -> None:
            for cleanup in cleanups:
                with contextlib.suppress(Exception):
                    cleanup()

        if wait:
            close_all()
            return
        closer = threading.Thread(target=close_all, name="stcheck-close", daemon=True)
        closer.start()
        closer.join(1.0)


@record
class RunState:
    """What the checks of one run share (one per run, across its manifests).

    .. versionadded:: 0.2
    """

    redactor: Redactor | None = None
    """The output redactor (set by the command line; None in library use)."""
    readiness: list[TenantReadiness] = field(default_factory=list)
    """The go-live check's verdicts, one per tenant, in the order assessed."""
    readiness_view: ReadinessView | None = None
    """How the readiness reports present them (``--group-by``, ``--not-ready-only``)."""
    registry: Registry = field(default_factory=Registry)
    """Objects checks create lazily: network settings, HTTP client, tokens, secrets, DNS."""
    fleet: FleetIndex | None = None
    """Names, tenant IDs and client references of the manifests checked so far, by app: set by
    the runner when a run checks several manifests or included files (``unique`` uses it)."""

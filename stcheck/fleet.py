"""What the ``unique`` check remembers across the manifests of one run: a compact index.

When several manifests of one app (``app.name``) are checked in one run —
passed on the command line or included — their names, tenant IDs and client
references must be unique across all of them. The manifests are checked one
at a time and released, so what a later one is compared with is this index:
for each name, (environment, tenant ID) and (environment, field, reference),
the manifest (a number), file and line it was first written at, never the data.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# (unit, file number, line, tenant label)
Seen = tuple[int, int, int | None, str]
# (unit, file number, line, tenant label, enterprise group)
SeenClient = tuple[int, int, int | None, str, str | None]


@dataclass
class AppIndex:
    """Where each name, tenant ID and client reference of one app was first written."""

    names: dict[str, Seen] = field(default_factory=dict)
    tenant_ids: dict[tuple[str, int], Seen] = field(default_factory=dict)
    clients: dict[tuple[str, str, str], SeenClient] = field(default_factory=dict)


class FleetIndex:
    """The run's index (see the module docstring); set by the runner in ``RunState.fleet``.

    .. versionadded:: 0.3
    """

    def __init__(self) -> None:
        self._files: list[str] = []
        self._numbers: dict[str, int] = {}
        self._apps: dict[str, AppIndex] = {}
        self._units = 0

    def begin_unit(self) -> int:
        """A number for the manifest now checked: findings inside it are its own check's."""
        self._units += 1
        return self._units

    def app(self, name: str) -> AppIndex:
        found = self._apps.get(name)
        if found is None:
            found = self._apps[name] = AppIndex()
        return found

    def file_number(self, path: str) -> int:
        number = self._numbers.get(path)
        if number is None:
            number = self._numbers[path] = len(self._files)
            self._files.append(path)
        return number

    def where(self, file_number: int, line: int | None) -> str:
        """``tenants/b.stcheck.yaml line 12``: how a finding names the first occurrence."""
        path = self._files[file_number]
        return f"{path} line {line}" if line else path

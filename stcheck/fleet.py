"""What the ``unique`` check remembers across the manifests of one run: a compact index.

When several manifests of one app (``app.name``) are checked in one run —
passed on the command line or included — their names, tenant IDs and client
references must be unique across all of them. The manifests are checked one
at a time and released, so what a later one is compared with is this index:
for each name, (environment, tenant ID) and (environment, field, reference),
the manifest (a number), file and line it was first written at, never the data.
"""

from __future__ import annotations

from array import array

from stcheck.record import field, record


@record
class AppIndex:
    """Where each name, tenant ID and client reference of one app was first written.

    Only ints and strings, so the garbage collector never scans it (350,000
    entries at 50,000 tenants): each tenant is a number, with its label, unit
    (manifest) and where it was written in three flat arrays; a tenant ID is
    ``id << 8 | environment number``; a client reference is the hash of
    (environment, field, reference) — 64 bits: two different references taken
    for one is as likely as ~10⁻⁹ at 200,000 references, and it would be a
    false ``fail``, never a missed one.
    """

    names: dict[str, int] = field(default_factory=dict)
    tenant_ids: dict[int, int] = field(default_factory=dict)
    clients: dict[int, int] = field(default_factory=dict)
    groups: dict[int, str] = field(default_factory=dict)  # client key → enterprise_group
    environments: dict[str, int] = field(default_factory=dict)
    labels: list[str] = field(default_factory=list)
    units: array[int] = field(default_factory=lambda: array("i"))
    lines: array[int] = field(default_factory=lambda: array("i"))  # 0: no line
    files: array[int] = field(default_factory=lambda: array("i"))

    def add_tenant(self, unit: int, file_number: int, line: int | None, label: str) -> int:
        """The number of a new tenant."""
        self.labels.append(label)
        self.units.append(unit)
        self.files.append(file_number)
        self.lines.append(line or 0)
        return len(self.labels) - 1

    def tenant_id_key(self, environment: str, tenant_id: int) -> int:
        number = self.environments.setdefault(environment, len(self.environments))
        return tenant_id << 8 | number if number < 256 else hash((environment, tenant_id))


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

    def where(self, app: AppIndex, tenant: int) -> str:
        """``tenants/b.stcheck.yaml line 12``: how a finding names the first occurrence."""
        path = self._files[app.files[tenant]]
        line = app.lines[tenant]
        return f"{path} line {line}" if line else path

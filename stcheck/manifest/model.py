"""What a loaded manifest is: its data, where each value was written, what loading found.

The checks read a :class:`Manifest`; network checks work on its
:class:`Entry` items, one per well-formed (tenant, environment).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NamedTuple

from stcheck.manifest import locate as _locate
from stcheck.manifest import pointer as jsonpointer
from stcheck.model import Location
from stcheck.record import field, record
from stcheck.redact import scan_text

ENVIRONMENTS = ("integration", "production")
MAX_TENANT_ID = 2**63 - 1
DATE_FIELDS = frozenset({"target_date", "on", "secret_created_on", "until"})
"""The fields that hold a date (``YYYY-MM-DD``), wherever they are written."""


class LoadProblem(NamedTuple):
    """Something wrong found while loading: reason word, message, position.

    ``file`` names the file the problem is in when it is not the manifest's own
    path: an included tenant file, or the include pattern of a root manifest. A
    fatal problem with a ``file`` stops only that file (its tenants are not
    checked, the result fails); the rest of the manifest is still checked.
    """

    reason: str
    message: str
    line: int | None
    column: int | None
    pointer: str = ""
    fatal: bool = False
    file: str | None = None


class Entry(NamedTuple):
    """One (tenant, environment) entry of a well-formed manifest: what network checks work on.

    .. versionadded:: 0.1
    """

    tenant: str
    environment: str
    tenant_id: int
    client_id_ref: str
    client_secret_ref: str
    pointer: str
    secret_created_on: str | None = None
    enterprise_group: str | None = None

    @property
    def label(self) -> str:
        return f"{self.tenant}/{self.environment}"


@record
class Manifest:
    """A loaded manifest: its data, where each value was written, and what loading found.

    .. versionadded:: 0.1
    """

    path: str
    data: Any
    positions: _locate.Positions | None = field(default=None, repr=False)
    problems: list[LoadProblem] = field(default_factory=list)
    text: str = ""
    decoded: list[str] = field(default_factory=list, repr=False)
    _secret_runs: list[tuple[int, str, str]] | None = field(default=None, repr=False)
    suspect: bool = field(default=True, repr=False, compare=False)
    """False when loading saw that no date field and no tenant ID holds what the schema check's
    pass over them reports (:mod:`stcheck.manifest.plain`): that pass is skipped."""

    included = False
    """True for a batch of included tenant files (:mod:`.include`): its ``app`` is its root's."""

    def secret_runs(self) -> list[tuple[int, str, str]]:
        """(offset, kind, text) of every credential-shaped run in the file, computed once."""
        if self._secret_runs is None:
            self._secret_runs = scan_text(self.text)
        return self._secret_runs

    def texts(self) -> tuple[str, ...]:
        """What the manifest says, for the redactor: its path, its text as written, and the
        strings it decodes to that the text does not hold as written (escapes, folded lines)."""
        return (self.path, self.text, "\n".join(self.decoded))

    def release(self) -> None:
        """Drop the data, text and positions once the manifest is checked; path and problems stay.

        A run over several manifests loads and checks them one at a time, so it
        holds the largest, not the sum.
        """
        self.data = None
        self.positions = None
        self.text = ""
        self.decoded = []
        self._secret_runs = None

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    @property
    def loaded(self) -> bool:
        return not any(problem.fatal and problem.file is None for problem in self.problems)

    @property
    def blocked(self) -> bool:
        """Some part of it (an included file, an include pattern) could not be loaded."""
        return any(problem.fatal for problem in self.problems)

    @property
    def files(self) -> tuple[str, ...]:
        """The files its data was read from (several for a batch of included files)."""
        return (self.path,)

    def localized(self, location: Location) -> Location:
        """``location`` as the file it names has it (a batch's tenants are a file's list)."""
        return location

    def locate(self, pointer: str, *, key: str | None = None) -> Location:
        """Location of the value at JSON ``pointer`` (or of the mapping key ``key`` inside it).

        Falls back to the deepest value that exists, so every error gets a line.
        """
        return _locate.locate(self.path, self.data, self.positions, self.text, pointer, key)

    def at_offset(self, offset: int) -> tuple[Location, str]:
        """Location of character ``offset`` of the text, and what is there: key, value or other."""
        return _locate.at_offset(self.path, self.data, self.positions, self.text, offset)

    # --- convenient views of well-formed data ---------------------------------

    @property
    def app(self) -> dict[str, Any]:
        app = self.data.get("app") if isinstance(self.data, dict) else None
        return app if isinstance(app, dict) else {}

    def tenants(self) -> Iterator[tuple[int, dict[str, Any]]]:
        tenants = self.data.get("tenants") if isinstance(self.data, dict) else None
        if isinstance(tenants, list):
            for index, tenant in enumerate(tenants):
                if isinstance(tenant, dict):
                    yield index, tenant

    def entries(self) -> list[Entry]:
        """The (tenant, environment) entries whose required fields are well-formed."""
        found: list[Entry] = []
        for index, tenant in self.tenants():
            name = tenant.get("name")
            environments = tenant.get("environments")
            if not isinstance(name, str) or not isinstance(environments, dict):
                continue
            for env_name in ENVIRONMENTS:
                entry = _entry(name, env_name, environments.get(env_name), index)
                if entry is not None:
                    found.append(entry)
        return found


def _entry(tenant: str, env_name: str, env: Any, index: int) -> Entry | None:
    """The entry for one environment mapping, or None when a required field is malformed."""
    if not isinstance(env, dict):
        return None
    tenant_id = parse_tenant_id(env.get("tenant_id"))
    client_id = env.get("client_id")
    client_secret = env.get("client_secret")
    if tenant_id is None or not isinstance(client_id, str) or not isinstance(client_secret, str):
        return None
    created = env.get("secret_created_on")
    group = env.get("enterprise_group")
    return Entry(
        tenant=tenant,
        environment=env_name,
        tenant_id=tenant_id,
        client_id_ref=client_id,
        client_secret_ref=client_secret,
        pointer=jsonpointer.join(("tenants", index, "environments", env_name)),
        secret_created_on=created if isinstance(created, str) else None,
        enterprise_group=group if isinstance(group, str) else None,
    )


def parse_tenant_id(value: Any) -> int | None:
    """A tenant ID as an int when it is a positive 64-bit integer (bare or digit string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (0 < len(value) <= 19 and value.isascii() and value.isdigit() and value[0] != "0"):
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_TENANT_ID:
        return value
    return None

"""The ``unique`` check: names, tenant IDs and client references are not shared by mistake."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from stcheck.api import Check, CheckContext, Result, Status, hookimpl
from stcheck.fleet import AppIndex, FleetIndex
from stcheck.listing import Listing
from stcheck.manifest import MAX_TENANT_ID, parse_tenant_id
from stcheck.manifest.model import ENVIRONMENTS
from stcheck.manifest.pointer import child, join
from stcheck.text import clipped, shown


class UniqueCheck(Check):
    """Names, tenant IDs and client references are unique where they must be.

    - Tenant names are unique.
    - A tenant ID appears once per environment.
    - A client reference (``client_id`` or ``client_secret``) is not shared by
      two tenants — unless both entries declare the same ``enterprise_group``
      (Enterprise Hub customers share one pair across a group of tenants).
    - A tenant's integration and production entries do not reference the same
      client credentials: ServiceTitan issues separate pairs per environment,
      and the production token endpoint rejects integration pairs.

    When a run checks several manifests of one app (``app.name``) — passed on
    the command line, or tenant files a manifest includes — names, tenant IDs
    per environment and client references are unique across all of them too
    (manifests of different apps are not compared).

    Each finding points at the second occurrence and names the file and line
    of the first. Beyond 200 findings the rest are counted in one last result.
    """

    id = "unique"
    stage = "manifest"
    order = 30

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        data = ctx.manifest.data
        tenants = data.get("tenants") if isinstance(data, dict) else None
        if ctx.run.fleet is None and isinstance(tenants, list) and nothing_shared(tenants):
            return [self.passed(ctx)]  # what the rules would find: nothing
        return self.scan(ctx)

    def scan(self, ctx: CheckContext) -> list[Result]:
        """The four rules, tenant by tenant (and against the run's other manifests)."""
        scan = _Scan(ctx, self)
        for index, tenant in ctx.manifest.tenants():
            scan.tenant(index, tenant)
        if not scan.listing.results:
            return [self.passed(ctx)]
        return scan.listing.finish(ctx, self.id, "uniqueness problems")

    def passed(self, ctx: CheckContext) -> Result:
        return self.result(
            ctx, Status.PASS, "tenant names, tenant IDs and client references are unique"
        )


CLIENT_FIELDS = ("client_id", "client_secret")
_ENVIRONMENTS = frozenset(ENVIRONMENTS)
_TENANT_ID_TYPES = frozenset({int, str})


def nothing_shared(tenants: list[Any]) -> bool:
    """True when no rule of :class:`UniqueCheck` can find anything in ``tenants``.

    A sufficient test, not a necessary one (False sends the manifest through the
    rules, which decide): every tenant is a mapping, every ``environments`` holds
    only ``integration`` and ``production``, and within each environment the
    names, the tenant IDs (by their text: ``"5"`` and ``5`` are the same ID) and
    each client field's references are all different, and no reference is used
    in both environments. It looks at each kind of value in one pass over the
    fleet, with sets, instead of bookkeeping per value where it was first written:
    10,000 tenants take a few milliseconds, not ~40.
    """
    if set(map(type, tenants)) - {dict}:
        return False  # a tenant that is not a mapping: the rules skip it, or a subclass
    names = [name for tenant in tenants if isinstance(name := tenant.get("name"), str)]
    if len(set(names)) != len(names):
        return False
    environments = [
        envs for tenant in tenants if isinstance(envs := tenant.get("environments"), dict)
    ]
    if not _ENVIRONMENTS.issuperset(set().union(*environments)):
        return False  # another environment's name: the rules compare it too
    refs: dict[tuple[str, str], set[str]] = {}
    for env_name in ENVIRONMENTS:
        entries = [env for envs in environments if isinstance(env := envs.get(env_name), dict)]
        ids = [tenant_id for env in entries if (tenant_id := env.get("tenant_id")) is not None]
        if not _TENANT_ID_TYPES.issuperset(map(type, ids)):
            return False  # a bool, a float, a collection: the rules parse it
        try:
            # a tenant ID the rules compare is an int, or a str that is its decimal text
            if len(set(map(str, ids))) != len(ids):
                return False
        except ValueError:  # an int too long to write out
            return False
        for field in CLIENT_FIELDS:
            found = [ref for env in entries if isinstance(ref := env.get(field), str)]
            unique = refs[(env_name, field)] = set(found)
            if len(unique) != len(found):
                return False
    return all(
        refs[("integration", field)].isdisjoint(refs[("production", field)])
        for field in CLIENT_FIELDS
    )


class _Tenant(NamedTuple):
    label: str  # the name, or tenants[N] when it has none
    pointer: str


class _Scan:
    """One pass over the tenants: where each thing was first written, and the findings.

    The four rules are the methods below; each lists a finding only while the
    listing has room (beyond it, a finding is counted, not built).
    """

    def __init__(self, ctx: CheckContext, check: Check) -> None:
        self.ctx = ctx
        self.check = check
        self.listing = Listing()
        # Where each thing was first written, as (label, tenant index[, group]): the pointer
        # is built only for a finding (10,000 tenants: 60,000 pointers never needed).
        self.names: dict[str, int] = {}
        self.tenant_ids: dict[tuple[str, int], tuple[str, int]] = {}
        self.clients: dict[tuple[str, str, str], tuple[str, int, str | None]] = {}
        self.cross = _Cross.for_run(ctx)

    def tenant(self, index: int, tenant: dict[str, Any]) -> None:
        """The four rules over one tenant. Hot (10,000 tenants): what finds nothing is inlined
        here; each rule's method below is called for what may be a finding, in the same order."""
        name = tenant.get("name")
        label = name if isinstance(name, str) else f"tenants[{index}]"
        # join(("tenants", index)), spelt out: neither segment needs escaping
        this = _Tenant(label, f"/tenants/{index}")
        if isinstance(name, str) and self.names.setdefault(name, index) != index:
            self.tenant_name(index, name, this)
        environments = tenant.get("environments")
        if self.cross is not None:
            self.cross.tenant(self, index, this, name, environments)
        if not isinstance(environments, dict):
            return
        refs_by_env: dict[str, dict[str, str]] = {}
        tenant_ids = self.tenant_ids
        clients = self.clients
        for env_name, env in environments.items():
            if not isinstance(env, dict):
                continue
            tenant_id = env.get("tenant_id")
            if tenant_id.__class__ is not int or not 0 < tenant_id <= MAX_TENANT_ID:
                tenant_id = parse_tenant_id(tenant_id)
            if tenant_id is not None:
                first = tenant_ids.setdefault((env_name, tenant_id), (label, index))
                if first[1] != index:
                    self.tenant_id(this, index, env_name, env)
            group = env.get("enterprise_group")
            client_id, client_secret = env.get("client_id"), env.get("client_secret")
            if group is None and client_id.__class__ is str and client_secret.__class__ is str:
                owner = (label, index, None)
                first_id = clients.setdefault((env_name, "client_id", client_id), owner)
                first_secret = clients.setdefault((env_name, "client_secret", client_secret), owner)
                if first_id[0] == label and first_secret[0] == label:
                    refs_by_env[env_name] = {"client_id": client_id, "client_secret": client_secret}
                    continue
            refs_by_env[env_name] = self.client_references(this, index, env_name, env)
        integration = refs_by_env.get("integration")
        production = refs_by_env.get("production")
        if integration and production:
            for field, ref in production.items():
                if integration.get(field) == ref:
                    self.same_in_both(this, refs_by_env)
                    break

    def tenant_name(self, index: int, name: str, this: _Tenant) -> None:
        """Rule 1: tenant names are unique."""
        first = self.names.setdefault(name, index)
        if first != index and self.listing.room():
            self.fail(
                f"tenant name {shown(name)} is used twice"
                f" (first at {self.first_line(child('/tenants', first, 'name'))})",
                "duplicate_tenant",
                child(this.pointer, "name"),
                name,
            )

    def tenant_id(self, this: _Tenant, index: int, env_name: str, env: dict[str, Any]) -> None:
        """Rule 2: a tenant ID appears once per environment (:meth:`tenant` has noted it)."""
        tenant_id = parse_tenant_id(env.get("tenant_id"))
        if tenant_id is None:
            return
        first = self.tenant_ids[(env_name, tenant_id)]
        if first[1] != index and self.listing.room():
            at = _field(first[1], env_name, "tenant_id")
            self.fail(
                f"{clipped(env_name)} tenant ID {tenant_id} of {shown(this.label)} is already"
                f" used by {shown(first[0])} (at {self.first_line(at)})",
                "duplicate_tenant_id",
                _field(index, env_name, "tenant_id"),
                this.label,
                env_name,
            )

    def client_references(
        self, this: _Tenant, index: int, env_name: str, env: dict[str, Any]
    ) -> dict[str, str]:
        """Rule 3: no two tenants share a client reference, unless one enterprise_group says so.

        Returns the entry's client references, for rule 4.
        """
        group = env.get("enterprise_group")
        group = group if isinstance(group, str) else None
        refs: dict[str, str] = {}
        for field in CLIENT_FIELDS:
            ref = env.get(field)
            if not isinstance(ref, str):
                continue
            refs[field] = ref
            owner = self.clients.setdefault((env_name, field, ref), (this.label, index, group))
            shared = owner[0] != this.label and not (group and owner[2] == group)
            if shared and self.listing.room():
                at = _field(owner[1], env_name, field)
                self.fail(
                    f"{shown(this.label)} {clipped(env_name)} {field} references the same"
                    f" credential as {shown(owner[0])} (at {self.first_line(at)});"
                    " declare the same enterprise_group on both if they share an"
                    " Enterprise Hub pair",
                    "shared_client_reference",
                    _field(index, env_name, field),
                    this.label,
                    env_name,
                )
        return refs

    def same_in_both(self, this: _Tenant, refs_by_env: dict[str, dict[str, str]]) -> None:
        """Rule 4: a tenant's integration and production entries reference different clients."""
        integration = refs_by_env.get("integration", {})
        for field, ref in refs_by_env.get("production", {}).items():
            if integration.get(field) == ref and self.listing.room():
                self.fail(
                    f"{shown(this.label)} references the same {field} in integration and"
                    " production; each environment has its own client pair",
                    "same_reference_both_environments",
                    child(this.pointer, "environments", "production", field),
                    this.label,
                    "production",
                )

    def first_line(self, pointer: str) -> str:
        """``line N`` of the first occurrence; with its file when that is another file (a batch
        of included files is checked as one manifest)."""
        location = self.ctx.locate(pointer)
        if location.line is None:
            return pointer
        if self.ctx.manifest.included:
            return f"{location.file} line {location.line}"
        return f"line {location.line}"

    def fail(
        self, message: str, reason: str, pointer: str, tenant: str, environment: str | None = None
    ) -> None:
        self.listing.add(
            self.check.result(
                self.ctx,
                Status.FAIL,
                message,
                reason=reason,
                pointer=pointer,
                tenant=tenant,
                environment=environment,
            )
        )


class _Cross:
    """The cross-manifest pass: this manifest's tenants against the run's index, by app.

    What is written again inside this manifest is the rules' above to report;
    a finding names the first occurrence by its file and its tenant's line.
    """

    def __init__(self, fleet: FleetIndex, app: AppIndex) -> None:
        self.fleet = fleet
        self.app = app
        self.unit = fleet.begin_unit()

    @classmethod
    def for_run(cls, ctx: CheckContext) -> _Cross | None:
        fleet = ctx.run.fleet
        name = ctx.manifest.app.get("name")
        if fleet is None or not isinstance(name, str):
            return None
        return cls(fleet, fleet.app(name))

    def earlier(self, first: int) -> bool:
        """Whether tenant number ``first`` is from a manifest checked before this one."""
        return self.app.units[first] != self.unit

    def tenant(self, scan: _Scan, index: int, this: _Tenant, name: Any, environments: Any) -> None:
        location = scan.ctx.locate(this.pointer)
        number = self.app.add_tenant(
            self.unit, self.fleet.file_number(location.file), location.line, this.label
        )
        if isinstance(name, str):
            first = self.app.names.setdefault(name, number)
            if self.earlier(first) and scan.listing.room():
                scan.fail(
                    f"tenant name {shown(name)} is used twice"
                    f" (first in {self.fleet.where(self.app, first)})",
                    "duplicate_tenant",
                    child(this.pointer, "name"),
                    name,
                )
        if not isinstance(environments, dict):
            return
        for env_name, env in environments.items():
            if isinstance(env, dict):
                self.tenant_id(scan, index, this, env_name, env, number)
                self.clients(scan, index, this, env_name, env, number)

    def tenant_id(
        self,
        scan: _Scan,
        index: int,
        this: _Tenant,
        env_name: str,
        env: dict[str, Any],
        number: int,
    ) -> None:
        tenant_id = parse_tenant_id(env.get("tenant_id"))
        if tenant_id is None:
            return
        first = self.app.tenant_ids.setdefault(self.app.tenant_id_key(env_name, tenant_id), number)
        if self.earlier(first) and scan.listing.room():
            scan.fail(
                f"{clipped(env_name)} tenant ID {tenant_id} of {shown(this.label)} is already"
                f" used by {shown(self.app.labels[first])}"
                f" (in {self.fleet.where(self.app, first)})",
                "duplicate_tenant_id",
                _field(index, env_name, "tenant_id"),
                this.label,
                env_name,
            )

    def clients(
        self,
        scan: _Scan,
        index: int,
        this: _Tenant,
        env_name: str,
        env: dict[str, Any],
        number: int,
    ) -> None:
        group = env.get("enterprise_group")
        group = group if isinstance(group, str) else None
        for field in CLIENT_FIELDS:
            ref = env.get(field)
            if not isinstance(ref, str):
                continue
            key = hash((env_name, field, ref))
            first = self.app.clients.setdefault(key, number)
            if first == number and group:
                self.app.groups[key] = group
            if not self.earlier(first):
                continue
            owner = self.app.labels[first]
            shared = owner != this.label and not (group and self.app.groups.get(key) == group)
            if shared and scan.listing.room():
                scan.fail(
                    f"{shown(this.label)} {clipped(env_name)} {field} references the same"
                    f" credential as {shown(owner)} (in {self.fleet.where(self.app, first)});"
                    " declare the same enterprise_group on both if they share an"
                    " Enterprise Hub pair",
                    "shared_client_reference",
                    _field(index, env_name, field),
                    this.label,
                    env_name,
                )


def _field(index: int, env_name: str, field: str) -> str:
    return join(("tenants", index, "environments", env_name, field))


@hookimpl
def stcheck_checks() -> list[Check]:
    return [UniqueCheck()]

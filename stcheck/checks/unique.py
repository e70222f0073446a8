"""The ``unique`` check: names, tenant IDs and client references are not shared by mistake."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from stcheck.api import Check, CheckContext
from stcheck.hookspecs import hookimpl
from stcheck.listing import Listing
from stcheck.manifest import parse_tenant_id
from stcheck.model import Result, Status
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

    Each finding points at the second occurrence and names the line of the first.
    Beyond 200 findings the rest are counted in one last result.
    """

    id = "unique"
    stage = "manifest"
    order = 30

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        listing = Listing()
        names: dict[str, int] = {}
        tenant_ids: dict[tuple[str, int], tuple[str, str]] = {}
        clients: dict[tuple[str, str, str], tuple[str, str, str | None]] = {}

        def first_line(pointer: str) -> str:
            line = ctx.locate(pointer).line
            return f"line {line}" if line else pointer

        for index, tenant in ctx.manifest.tenants():
            name = tenant.get("name")
            tenant_pointer = f"/tenants/{index}"
            if isinstance(name, str):
                if name in names and listing.room():
                    listing.add(
                        ctx.result(
                            self.id,
                            Status.FAIL,
                            f"tenant name {shown(name)} is used twice (first at"
                            f" {first_line(f'/tenants/{names[name]}/name')})",
                            reason="duplicate_tenant",
                            pointer=f"{tenant_pointer}/name",
                            tenant=name,
                        )
                    )
                elif name not in names:
                    names[name] = index
            label = name if isinstance(name, str) else f"tenants[{index}]"
            quoted = shown(label)
            environments = tenant.get("environments")
            if not isinstance(environments, dict):
                continue
            refs_by_env: dict[str, dict[str, str]] = {}
            for env_name, env in environments.items():
                if not isinstance(env, dict):
                    continue
                env_pointer = f"{tenant_pointer}/environments/{env_name}"
                tenant_id = parse_tenant_id(env.get("tenant_id"))
                if tenant_id is not None:
                    seen = tenant_ids.get((env_name, tenant_id))
                    if seen:
                        if not listing.room():
                            continue
                        listing.add(
                            ctx.result(
                                self.id,
                                Status.FAIL,
                                f"{clipped(env_name)} tenant ID {tenant_id} of {quoted} is already"
                                f" used by {shown(seen[0])} (at {first_line(seen[1])})",
                                reason="duplicate_tenant_id",
                                pointer=f"{env_pointer}/tenant_id",
                                tenant=label,
                                environment=env_name,
                            )
                        )
                    else:
                        tenant_ids[(env_name, tenant_id)] = (label, f"{env_pointer}/tenant_id")
                group = env.get("enterprise_group")
                refs_by_env[env_name] = {}
                for field in ("client_id", "client_secret"):
                    ref = env.get(field)
                    if not isinstance(ref, str):
                        continue
                    refs_by_env[env_name][field] = ref
                    key = (env_name, field, ref)
                    owner = clients.get(key)
                    field_pointer = f"{env_pointer}/{field}"
                    if owner is None:
                        clients[key] = (
                            label,
                            field_pointer,
                            group if isinstance(group, str) else None,
                        )
                    elif owner[0] != label and not (group and owner[2] == group) and listing.room():
                        listing.add(
                            ctx.result(
                                self.id,
                                Status.FAIL,
                                f"{quoted} {clipped(env_name)} {field} references the same"
                                f" credential as {shown(owner[0])} (at {first_line(owner[1])});"
                                " declare the same enterprise_group on both if they share an"
                                " Enterprise Hub pair",
                                reason="shared_client_reference",
                                pointer=field_pointer,
                                tenant=label,
                                environment=env_name,
                            )
                        )
            for field in self._same_in_both(refs_by_env):
                if listing.room():
                    listing.add(
                        ctx.result(
                            self.id,
                            Status.FAIL,
                            f"{quoted} references the same {field} in integration and"
                            " production; each environment has its own client pair",
                            reason="same_reference_both_environments",
                            pointer=f"{tenant_pointer}/environments/production/{field}",
                            tenant=label,
                            environment="production",
                        )
                    )
        if not listing.results:
            return [
                ctx.result(
                    self.id,
                    Status.PASS,
                    "tenant names, tenant IDs and client references are unique",
                )
            ]
        return listing.finish(ctx, self.id, "uniqueness problems")

    @staticmethod
    def _same_in_both(refs_by_env: dict[str, dict[str, Any]]) -> list[str]:
        """The credential fields a tenant's two environments reference alike."""
        integration = refs_by_env.get("integration", {})
        production = refs_by_env.get("production", {})
        return [field for field, ref in production.items() if integration.get(field) == ref]


@hookimpl
def stcheck_checks() -> list[Check]:
    return [UniqueCheck()]

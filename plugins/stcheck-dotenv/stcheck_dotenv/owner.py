"""The ``owner`` check: a team's own rule that every tenant names a reachable owner."""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable

from stcheck.api import Check, CheckContext, Result, Status, hookimpl

EMAIL = re.compile(r"[^@\s]+@([^@\s]+\.[^@\s.]+)\Z")


class OwnerCheck(Check):
    """Every tenant names an owner by e-mail address, so someone answers for its credentials.

    A tenant without ``owner`` is a warning (reason ``owner.missing``), and so
    is an owner that does not look like an e-mail address
    (``owner.not_an_email``). With ``--owner-domain DOMAIN`` (repeatable) the
    address must be in one of those domains (``owner.wrong_domain``).
    Warnings do not change the exit status; the check runs offline, in
    ``validate``, ``check`` and ``report``.
    """

    id = "owner"
    stage = "manifest"
    order = 90

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        wanted = getattr(ctx.options.extra, "owner_domain", None) or ()
        domains = tuple(domain.lower().lstrip("@") for domain in wanted)
        results: list[Result] = []
        for index, tenant in ctx.manifest.tenants():
            name = tenant.get("name")
            label = name if isinstance(name, str) else None
            owner = tenant.get("owner")
            if owner is None:
                results.append(
                    self.result(
                        ctx,
                        Status.WARN,
                        "the tenant has no owner: add 'owner: someone@example.com'",
                        reason="owner.missing",
                        pointer=f"/tenants/{index}",
                        tenant=label,
                        hint="Name who answers for this tenant's credentials and go-live.",
                    )
                )
                continue
            if not isinstance(owner, str):
                continue  # a wrong type is the schema check's to report
            match = EMAIL.match(owner.strip())
            if match is None:
                results.append(
                    self.result(
                        ctx,
                        Status.WARN,
                        "the owner does not look like an e-mail address",
                        reason="owner.not_an_email",
                        pointer=f"/tenants/{index}/owner",
                        tenant=label,
                        hint="Write the owner as an e-mail address (a team alias is best).",
                    )
                )
            elif domains and match.group(1).lower() not in domains:
                results.append(
                    self.result(
                        ctx,
                        Status.WARN,
                        f"the owner's address is not in {' or '.join(domains)}",
                        reason="owner.wrong_domain",
                        pointer=f"/tenants/{index}/owner",
                        tenant=label,
                        hint="Use an address of your organisation (--owner-domain).",
                    )
                )
        if not results:
            results.append(self.result(ctx, Status.PASS, "every tenant names an owner by e-mail"))
        return results


@hookimpl
def stcheck_checks() -> list[Check]:
    return [OwnerCheck()]


@hookimpl
def stcheck_add_options(parser: argparse.ArgumentParser, command: str) -> None:
    parser.add_argument(
        "--owner-domain",
        action="append",
        default=[],
        metavar="DOMAIN",
        help="owner check: owners' e-mail addresses must be in DOMAIN (repeatable)",
    )

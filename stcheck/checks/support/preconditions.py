"""What the ``token`` and ``api`` checks need before they can ask ServiceTitan anything.

Both first need the entry's client pair resolved, the hosts they talk to
resolved (when the ``dns`` check ran), and the run's token for the pair.
:func:`entry_token` checks those, in that order, and gives either what the
check needs or the result the check reports instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from stcheck.checks.support.secretstore import Resolved, secret_store
from stcheck.checks.support.services import host_problem, token_grant
from stcheck.manifest.pointer import child
from stcheck.model import Result, Status

if TYPE_CHECKING:
    from stcheck.api import CheckContext
    from stcheck.manifest import Entry
    from stcheck.net.tokens import TokenGrant


@dataclass(frozen=True)
class EntryCredentials:
    """An entry's client pair, or the resolution problem to report instead of using it."""

    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    problem: Resolved | None = None
    field_name: str = ""

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass(frozen=True)
class EntryToken:
    """An entry whose preconditions hold: its resolved client pair and the run's grant for it."""

    client_id: str = field(repr=False)
    client_secret: str = field(repr=False)
    grant: TokenGrant
    requested: bool
    """Whether this entry's check made the token request (else it reuses another's)."""


def entry_token(
    ctx: CheckContext, check_id: str, entry: Entry, *, hosts: Sequence[str], field: str
) -> EntryToken | Result:
    """The entry's client pair and token — or the result ``check_id`` reports instead.

    In order: the client ID and secret resolve (else :func:`credential_problem`);
    none of ``hosts`` failed the ``dns`` check (else a ``skip`` at ``field``);
    then the run's token for the pair (requested now, or shared). Whether the
    token is usable is the caller's question: the two checks answer it
    differently.
    """
    creds = entry_credentials(ctx, entry)
    if creds.client_id is None or creds.client_secret is None:
        return credential_problem(ctx, check_id, entry, creds)
    skipped = unresolved_skip(ctx, check_id, entry, hosts, field)
    if skipped is not None:
        return skipped
    grant, requested = token_grant(ctx, entry, creds.client_id, creds.client_secret)
    return EntryToken(creds.client_id, creds.client_secret, grant, requested)


def entry_credentials(ctx: CheckContext, entry: Entry) -> EntryCredentials:
    """Resolve (or look up) the entry's client ID and secret."""
    store = secret_store(ctx)
    client_id = store.resolve(ctx.manifest.directory, entry.client_id_ref)
    if not client_id.ok:
        return EntryCredentials(problem=client_id, field_name="client_id")
    secret = store.resolve(ctx.manifest.directory, entry.client_secret_ref)
    if not secret.ok:
        return EntryCredentials(problem=secret, field_name="client_secret")
    return EntryCredentials(client_id.value, secret.value)


def credential_problem(
    ctx: CheckContext, check_id: str, entry: Entry, creds: EntryCredentials
) -> Result:
    """What a later check reports when the entry's credentials did not resolve.

    ``skip`` (``depends_on_failure``) when the ``credentials`` check already
    reported it; otherwise (``credentials`` deselected) the resolution failure
    itself, so it is not lost.
    """
    problem = creds.problem
    assert problem is not None
    pointer = child(entry.pointer, creds.field_name)
    if problem.reason == "depends_on_failure" or secret_store(ctx).checked(ctx.manifest.path):
        return ctx.result(
            check_id,
            Status.SKIP,
            f"not run: the {creds.field_name} reference did not resolve"
            " (see the credentials check)",
            reason="depends_on_failure",
            pointer=pointer,
            tenant=entry.tenant,
            environment=entry.environment,
        )
    return ctx.result(
        check_id,
        Status.ERROR if problem.reason == "plugin_error" else Status.FAIL,
        problem.message,
        reason=problem.reason,
        pointer=pointer,
        tenant=entry.tenant,
        environment=entry.environment,
    )


def unresolved_skip(
    ctx: CheckContext, check: str, entry: Entry, hosts: Sequence[str], field: str
) -> Result | None:
    """A ``skip`` result for ``check`` when one of ``hosts`` did not resolve, else None."""
    for host in hosts:
        if host_problem(ctx, host) is not None:
            return ctx.entry_result(
                check,
                entry,
                Status.SKIP,
                f"not run: {host} did not resolve (see the dns check)",
                reason="depends_on_failure",
                field=field,
            )
    return None

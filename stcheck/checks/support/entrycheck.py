"""The base of the token and api checks: results located at one field of the entry.

Kept apart from :mod:`stcheck.checks.support.preconditions` so that importing a
check (as ``stcheck validate`` does, to list it) pulls in nothing of the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from stcheck.api import Check, CheckContext, Result, Status

if TYPE_CHECKING:
    from stcheck.manifest import Entry


class EntryCheck(Check):
    """An ``entry`` check whose results point at one field of the entry (``located_at``)."""

    located_at: ClassVar[str] = "client_id"

    def _result(
        self,
        ctx: CheckContext,
        entry: Entry,
        status: Status,
        message: str,
        reason: str | None,
        facts: dict[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        return self.entry_result(
            ctx, entry, status, message, reason=reason, field=self.located_at, facts=facts
        )

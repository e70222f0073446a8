"""A check lists at most so many findings; the rest are counted in one last result.

A hostile manifest can hold 170,000 wrong tenants. Listing, locating and
rendering every finding would cost gigabytes of memory and output nobody
reads; the first ones are what the user fixes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stcheck.model import Result, Status

if TYPE_CHECKING:
    from stcheck.api import CheckContext

MAX_LISTED = 200


class Listing:
    """The first ``limit`` results of a check, and a count of the ones left out."""

    def __init__(self, limit: int = MAX_LISTED) -> None:
        self.limit = limit
        self.results: list[Result] = []
        self.unlisted = 0

    def room(self) -> bool:
        """True when one more result is listed; False counts it instead (build nothing then)."""
        if len(self.results) < self.limit:
            return True
        self.unlisted += 1
        return False

    def add(self, result: Result) -> None:
        self.results.append(result)

    def finish(self, ctx: CheckContext, check: str, what: str) -> list[Result]:
        """The listed results, plus one ``not_listed`` failure counting ``what`` left out."""
        if not self.unlisted:
            return self.results
        return [
            *self.results,
            ctx.result(
                check,
                Status.FAIL,
                f"and {self.unlisted:,} more {what} not listed; fix the ones above first",
                reason="not_listed",
            ),
        ]

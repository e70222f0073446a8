"""Classification tables: an answer or an exception mapped to (status, reason, message).

A table is a tuple of :class:`Rule` rows, read top to bottom; the first row
whose ``when`` holds decides, so the most specific case comes first and the
last row matches everything. One row per case, in the manner of httpx's
exception map, instead of an if-ladder: a reader sees every outcome, and its
order, in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from stcheck.model import Status

A = TypeVar("A")


def always(_: object) -> bool:
    """``when`` of a table's last row."""
    return True


@dataclass(frozen=True)
class Rule(Generic[A]):
    """One row: when it applies to what was seen, the status, reason and message it gives.

    ``reason`` is a reason word (None for a pass), or a function of what was
    seen (an OAuth error name is the reason). ``message`` never quotes server text that has
    not passed :func:`stcheck.net.servicetitan.scrub`.
    """

    when: Callable[[A], bool]
    status: Status
    reason: str | Callable[[A], str] | None
    message: Callable[[A], str]


@dataclass(frozen=True)
class Verdict:
    """The row that decided: status, reason word, message."""

    status: Status
    reason: str | None
    message: str


def classify(table: Sequence[Rule[A]], seen: A) -> Verdict:
    """The verdict of the first row of ``table`` that applies to ``seen``."""
    for rule in table:
        if rule.when(seen):
            reason = rule.reason(seen) if callable(rule.reason) else rule.reason
            return Verdict(rule.status, reason, rule.message(seen))
    raise LookupError("a classification table ends with a row that matches everything")

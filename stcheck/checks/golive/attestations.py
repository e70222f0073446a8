"""The attestation items: the standard ones are blocking, any other one is advisory."""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Mapping
from typing import Any

from stcheck.checks.golive.evidence import Subject
from stcheck.checks.golive.items import (
    REMEDIATION,
    ItemSpec,
    advisory_item,
    blocking_item,
    parse_date,
)
from stcheck.readiness import STANDARD_ATTESTATIONS, Attestation, ReadinessItem

ATTESTATION_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A valid ``go_live.attestations`` key (the manifest schema's ``propertyNames`` pattern).

Other keys are schema errors (reported by the ``schema`` check, under ``manifest_valid``)
and get no item of their own: an item id must stay ``attestation.KEY``."""

Judged = tuple[Attestation | None, ReadinessItem]


def attestations(subject: Subject) -> tuple[tuple[Attestation, ...], list[ReadinessItem]]:
    """The attestations as given, and one item per standard attestation and per other one."""
    raw = subject.go_live.get("attestations")
    given: Mapping[Any, Any] = raw if isinstance(raw, dict) else {}
    today = subject.today
    judged = [_standard(key, given.get(key), today) for key in STANDARD_SPECS]
    if not given.keys() <= STANDARD_KEYS:  # most fleets record the standard ones only
        judged += [
            _judge(key, False, value, today) for key, value in given.items() if _is_other(key)
        ]
    found = tuple(attestation for attestation, _ in judged if attestation is not None)
    return found, [item for _, item in judged]


@functools.lru_cache(maxsize=256)
def _other_spec(key: str) -> ItemSpec:
    return advisory_item(f"attestation.{key}", f"Attestation: {key}")


def _is_other(key: object) -> bool:
    return (
        key not in STANDARD_ATTESTATIONS
        and isinstance(key, str)
        and ATTESTATION_KEY.fullmatch(key) is not None
    )


STANDARD_SPECS = {
    key: blocking_item(f"attestation.{key}", title) for key, title in STANDARD_ATTESTATIONS.items()
}
STANDARD_KEYS = STANDARD_SPECS.keys()


def _spec(key: str, standard: bool) -> ItemSpec:
    return STANDARD_SPECS[key] if standard else _other_spec(key)


def _standard(key: str, value: Any, today: datetime.date) -> Judged:
    if value is None:
        spec = STANDARD_SPECS[key]
        return None, spec.fails(f"no `go_live.attestations.{key}` recorded", REMEDIATION[spec.id])
    return _judge(key, True, value, today)


def _judge(key: str, standard: bool, value: Any, today: datetime.date) -> Judged:
    if not isinstance(value, dict):
        spec = _spec(key, standard)
        todo = REMEDIATION.get(spec.id, REMEDIATION["attestation.other"])
        return None, spec.fails("not a `{by, on}` mapping", todo)
    by, on, note = value.get("by"), value.get("on"), value.get("note")
    # Only text counts (anything else reads as missing), so the judgement depends on these
    # strings alone: a fleet's tenants mostly share them, and are judged once (short ones:
    # the cache outlives the manifest).
    by = by if isinstance(by, str) else None
    on = on if isinstance(on, str) else None
    note = note if isinstance(note, str) else None
    size = (len(by) if by else 0) + (len(on) if on else 0) + (len(note) if note else 0)
    judge = _judged if size <= CACHED_CHARS else _judge_text
    return judge(key, standard, by, on, note, today)


CACHED_CHARS = 1_000
"""Attestations whose ``by``, ``on`` and ``note`` are longer than this together are not cached."""


def _judge_text(
    key: str,
    standard: bool,
    by: str | None,
    on: str | None,
    note: str | None,
    today: datetime.date,
) -> Judged:
    spec = _spec(key, standard)
    todo = REMEDIATION.get(spec.id, REMEDIATION["attestation.other"])
    attestation = Attestation(
        key=key, by=by, on=on, note=note if note is not None and note.strip() else None
    )
    problems = _problems(attestation, on, today)
    if problems:
        return attestation, spec.fails("; ".join(problems), todo)
    detail = f"by {attestation.by} on {attestation.on}"
    if attestation.note:
        detail += f" — {attestation.note}"
    return attestation, spec.passes(detail)


_judged = functools.lru_cache(maxsize=4096)(_judge_text)


def _problems(attestation: Attestation, on: str | None, today: datetime.date) -> list[str]:
    problems = []
    if not attestation.by or not attestation.by.strip():
        problems.append("who ('by') is missing")
    when = parse_date(on)
    if when is None:
        problems.append("when ('on') is missing or not a date")
    elif when > today:
        problems.append(f"it is dated {on}, in the future")
    return problems

"""Reporters: each module turns the immutable run report into one output format."""

from __future__ import annotations

import re
from datetime import datetime, timezone

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, BEL, CR) shown as ``\\xNN``.

    Manifest text is untrusted: a tenant name must not move the cursor or
    forge a line in a CI log.
    """
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def started_utc(started_at: str) -> datetime | None:
    """The report's ``started_at`` as an aware UTC datetime, or None when it is not ISO 8601."""
    if not started_at:
        return None
    try:
        moment = datetime.fromisoformat(started_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)

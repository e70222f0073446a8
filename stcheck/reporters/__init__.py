"""Reporters: each module turns the immutable run report into one output format."""

from __future__ import annotations

from datetime import datetime, timezone


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

"""Building real run reports for the reporter tests."""

from __future__ import annotations

from stcheck.model import Result, RunReport


def make_report(*results: Result, **fields: object) -> RunReport:
    """A run report holding ``results``; ``fields`` override the defaults below."""
    values: dict[str, object] = {
        "tool_version": "9.8.7",
        "command": "check",
        "manifests": ("stcheck.yaml",),
        "results": results,
        "started_at": "2026-11-20T10:15:00+01:00",
        "duration": 2.5,
    }
    values.update(fields)
    return RunReport(**values)  # type: ignore[arg-type]

"""JSON output: the contract's machine format, described by ``schemas/report-v1.schema.json``."""

from __future__ import annotations

import json
from typing import Any

from stcheck.model import RunReport

SCHEMA_VERSION = 1


def as_document(report: RunReport) -> dict[str, Any]:
    """The report as the JSON document of schema version 1."""
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "stcheck", "version": report.tool_version},
        "command": report.command,
        "started_at": report.started_at,
        "duration": round(report.duration, 6),
        "manifests": list(report.manifests),
        "checks": {"run": list(report.checks_run), "not_run": dict(report.checks_not_run)},
        "plugins": [
            {"name": p.name, "version": p.version, "builtin": p.builtin, "error": p.error}
            for p in report.plugins
        ],
        "summary": report.summary,
        "results": [result.as_dict() for result in report.results],
    }
    readiness = [getattr(item, "as_dict", None) for item in report.readiness]
    if readiness:
        document["readiness"] = [to_dict() for to_dict in readiness if to_dict is not None]
    return document


def render(report: RunReport) -> str:
    return json.dumps(as_document(report), indent=2, ensure_ascii=False) + "\n"

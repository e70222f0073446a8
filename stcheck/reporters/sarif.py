"""SARIF 2.1.0 output (``--format sarif``, ``--output sarif=PATH``) for code-scanning tools.

Upload the file with ``github/codeql-action/upload-sarif`` (GitHub code
scanning) or any other SARIF consumer; findings then show on the manifest's
lines in pull requests. The document has one run:

- ``tool.driver``: ``name`` ``stcheck``, the stcheck ``version``, and one
  *rule* per check id in the run (``schema``, ``token``, …). A rule's short and
  full descriptions are the check's documentation; its ``help.text`` explains
  every reason word the check reported in this run (meaning and what to do,
  from ``stcheck.reasons``).
- ``results``: one per ``fail``, ``error`` and ``warn`` result — passes and
  skips are not findings. ``fail`` and ``error`` have level ``error``, ``warn``
  has level ``warning``. ``message.text`` is the message followed by the
  remediation hint; ``properties`` holds ``reason``, ``tenant``,
  ``environment`` and ``status`` for scripts and filters.
- ``locations``: the manifest file as a relative URI with forward slashes
  (an absolute path under the working directory is made relative to it), and
  a ``region`` with ``startLine``/``startColumn`` when the line is known.
  Results about a whole run point at the manifest when there is only one.
- ``suppressions``: a result a manifest waiver excuses keeps its level and
  carries one suppression, ``kind`` ``inSource`` (the waiver is written in the
  manifest), ``status`` ``accepted`` (it was reviewed with the manifest),
  ``justification`` the waiver's ``because``, its ``location``, and ``by`` and
  ``until`` in ``properties``; code scanning shows it as dismissed.
- ``partialFingerprints["stcheck/v1"]``: the result's fingerprint
  (:mod:`stcheck.fingerprint`, the JSON report's ``fingerprint``), which stays
  the same when lines move or tenants are reordered, so code scanning keeps one
  alert per problem across runs.
- ``baselineState`` (with ``--baseline`` only): ``unchanged`` for a finding
  the baseline report had, ``new`` for one it did not.

The document validates against the official OASIS SARIF 2.1.0 schema.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import quote

from stcheck.fingerprint import Fingerprinter
from stcheck.model import Location, Result, RunReport, Status, Waiver
from stcheck.reasons import REASONS, hint_for
from stcheck.reporters import started_utc

__all__ = ["FINGERPRINT_KEY", "INFORMATION_URI", "SARIF_SCHEMA", "build", "render"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
INFORMATION_URI = "https://pypi.org/project/stcheck/"
FINGERPRINT_KEY = "stcheck/v1"

_LEVELS: dict[Status, str] = {
    Status.FAIL: "error",
    Status.ERROR: "error",
    Status.WARN: "warning",
}


def _artifact_uri(path: str) -> str:
    """A manifest path as a SARIF artifact URI: relative, forward slashes, percent-encoded."""
    if PureWindowsPath(path).is_absolute() or PurePosixPath(path).is_absolute():
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            relative = ""
        if not relative or relative == ".." or relative.startswith(("../", "..\\")):
            return Path(path).absolute().as_uri()
        path = relative
    posix = path.replace("\\", "/")
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix, safe="/")


def _location(result: Result, report: RunReport) -> Location | None:
    if result.location is not None and result.location.file:
        return result.location
    if len(report.manifests) == 1:
        return Location(file=report.manifests[0])
    return None


def _sarif_location(location: Location) -> dict[str, object]:
    physical: dict[str, object] = {"artifactLocation": {"uri": _artifact_uri(location.file)}}
    if location.line is not None and location.line >= 1:
        region: dict[str, int] = {"startLine": location.line}
        if location.column is not None and location.column >= 1:
            region["startColumn"] = location.column
        physical["region"] = region
    return {"physicalLocation": physical}


_BASELINE_STATES = {"new": "new", "known": "unchanged"}


def _message(result: Result) -> str:
    hint = result.hint or hint_for(result.reason)
    return f"{result.message}\nHint: {hint}" if hint else result.message


def _short(doc: str) -> str:
    """The first paragraph of a docstring, on one line."""
    paragraph = doc.strip().split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def _help(full: str, reasons: Iterable[str]) -> str:
    lines = [full, ""]
    listed = list(reasons)
    if not listed:
        lines.append("This check reported no findings in this run.")
        return "\n".join(lines)
    lines.append("Reasons reported by this check in this run:")
    for reason in listed:
        known = REASONS.get(reason)
        if known is None:
            lines.append(f"- {reason}")
        else:
            lines.append(f"- {reason}: {known.meaning} What to do: {known.hint}")
    return "\n".join(lines)


def _rules(report: RunReport, findings: list[Result]) -> list[dict[str, object]]:
    checks: dict[str, dict[str, None]] = {}
    for check in report.checks_run:
        checks.setdefault(check, {})
    for result in report.results:
        checks.setdefault(result.check, {})
    for result in findings:
        if result.reason:
            checks[result.check].setdefault(result.reason, None)

    rules: list[dict[str, object]] = []
    for check, reasons in checks.items():
        doc = (report.check_docs.get(check) or "").strip()
        short = _short(doc) if doc else f"The stcheck check '{check}'."
        full = doc or short
        rules.append(
            {
                "id": check,
                "name": check,
                "shortDescription": {"text": short},
                "fullDescription": {"text": full},
                "help": {"text": _help(full, reasons)},
                "defaultConfiguration": {"level": "error"},
            }
        )
    return rules


def _start_time(started_at: str) -> str | None:
    """``started_at`` as SARIF's UTC date-time, or None when it is not ISO 8601."""
    moment = started_utc(started_at)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _result(
    result: Result, rule_index: int, report: RunReport, fingerprint: Fingerprinter
) -> dict[str, object]:
    out: dict[str, object] = {
        "ruleId": result.check,
        "ruleIndex": rule_index,
        "level": _LEVELS[result.status],
        "message": {"text": _message(result)},
    }
    location = _location(result, report)
    if location is not None:
        out["locations"] = [_sarif_location(location)]
    out["partialFingerprints"] = {FINGERPRINT_KEY: fingerprint(result)}
    if result.baseline in _BASELINE_STATES:
        out["baselineState"] = _BASELINE_STATES[result.baseline]
    if result.waiver is not None:
        out["suppressions"] = [_suppression(result.waiver)]
    out["properties"] = {
        "reason": result.reason,
        "tenant": result.tenant,
        "environment": result.environment,
        "status": result.status.value,
    }
    return out


def _suppression(waiver: Waiver) -> dict[str, object]:
    """A waiver as SARIF's in-source, accepted suppression."""
    out: dict[str, object] = {
        "kind": "inSource",
        "status": "accepted",
        "justification": waiver.because,
    }
    if waiver.location is not None and waiver.location.file:
        out["location"] = _sarif_location(waiver.location)
    out["properties"] = {"by": waiver.by, "until": waiver.until}
    return out


def build(report: RunReport) -> dict[str, object]:
    """The SARIF log as a JSON-ready dict (what :func:`render` serialises)."""
    findings = [result for result in report.results if result.status in _LEVELS]
    rules = _rules(report, findings)
    fingerprint = Fingerprinter(report.tenant_names)
    index = {str(rule["id"]): position for position, rule in enumerate(rules)}

    invocation: dict[str, object] = {"executionSuccessful": True}
    start = _start_time(report.started_at)
    if start is not None:
        invocation["startTimeUtc"] = start

    run: dict[str, object] = {
        "tool": {
            "driver": {
                "name": "stcheck",
                "version": report.tool_version,
                "informationUri": INFORMATION_URI,
                "rules": rules,
            }
        },
        "invocations": [invocation],
        "columnKind": "unicodeCodePoints",
        "results": [
            _result(result, index[result.check], report, fingerprint) for result in findings
        ],
        "properties": {
            "command": report.command,
            "manifests": list(report.manifests),
            "summary": report.summary,
        },
    }
    if report.baseline is not None:
        run_properties = run["properties"]
        assert isinstance(run_properties, dict)
        run_properties["baseline"] = report.baseline.as_dict()
    return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]}


def render(report: RunReport) -> str:
    """Render the run report as a SARIF 2.1.0 JSON document."""
    return json.dumps(build(report), indent=2) + "\n"

"""JUnit XML output (``--format junit``, ``--output junit=PATH``) for CI test-report views.

The dialect is the common one read by Jenkins, GitLab, GitHub test-report
actions, Azure DevOps and Buildkite::

    <testsuites name="stcheck" tests="…" failures="…" errors="…" time="…">
      <testsuite name="token" tests="…" failures="…" errors="…" skipped="…" time="…">
        <properties>…stcheck version, command, manifests…</properties>
        <testcase classname="stcheck.token" name="good-plumbing/production" time="0.412">
          <failure message="…" type="invalid_client">message, reason, location, hint</failure>
        </testcase>
      </testsuite>
    </testsuites>

- One ``<testsuite>`` per check id (``schema``, ``token``, …), in the order the
  checks first appear in the run; one ``<testcase>`` per result.
- A test case is named after what it checked: ``TENANT/ENVIRONMENT`` for an
  entry, ``TENANT`` for a whole tenant, or the manifest file for manifest-level
  results. When one check reports several results for the same name (several
  schema errors in one file, say), the JSON pointer of each is appended, so
  every name is unique and stable from run to run (CI history matches on it).
- ``classname`` is ``stcheck.<check>``; ``time`` is the result's duration in
  seconds (``0.000`` when the check did not time itself).
- A result a manifest waiver excuses is ``<skipped message="waived: because
  (by, until)">``, whatever its status.
- Status mapping: ``fail`` → ``<failure>``, ``error`` (could not tell) →
  ``<error>``, ``skip`` → ``<skipped message="reason: why">``, ``warn`` → a
  passing test case with the warning in ``<system-out>``, ``pass`` → an empty
  passing test case; a finding known from ``--baseline`` →
  ``<skipped message="known from the baseline: …">``. ``type`` is the result's reason word (see
  ``stcheck.reasons``); the element's text repeats the message with the
  location and the remediation hint.

The document validates against the Jenkins xunit plugin's JUnit schema
(``junit-10.xsd``, the strictest of the common readers; vendored in
``tests/data``): ``<testsuites>`` has no ``skipped`` attribute there, so the
skipped count is given per ``<testsuite>`` only.

The document is built with :mod:`xml.etree.ElementTree`, so every value is
XML-escaped; characters XML 1.0 cannot represent (most control characters) are
removed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable

from stcheck.model import Result, RunReport, Status
from stcheck.reasons import hint_for
from stcheck.reporters import started_utc

__all__ = ["render"]

# Everything outside XML 1.0's Char production (lone surrogates included).
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

_RUN_LEVEL_NAME = "(run)"


def _clean(text: object) -> str:
    """The text with every character XML 1.0 cannot hold removed."""
    return _ILLEGAL_XML.sub("", str(text))


def _duration(value: float | None) -> float:
    """A duration in seconds; 0 when unknown, negative or NaN."""
    if value is None or value != value or value < 0:
        return 0.0
    return value


def _seconds(value: float | None) -> str:
    return f"{_duration(value):.3f}"


def _timestamp(started_at: str) -> str | None:
    """``started_at`` as the timezone-less UTC ``YYYY-MM-DDTHH:MM:SS`` JUnit expects."""
    moment = started_utc(started_at)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") if moment else None


def _base_name(result: Result, report: RunReport) -> str:
    if result.tenant:
        return f"{result.tenant}/{result.environment}" if result.environment else result.tenant
    if result.location is not None and result.location.file:
        return result.location.file
    if len(report.manifests) == 1:
        return report.manifests[0]
    return _RUN_LEVEL_NAME


def _case_names(results: list[Result], report: RunReport) -> list[str]:
    """One unique, stable name per result of one check."""
    bases = [_base_name(result, report) for result in results]
    base_counts = Counter(bases)
    names: list[str] = []
    for base, result in zip(bases, results, strict=True):
        if base_counts[base] > 1 and result.location is not None:
            where = result.location.pointer or (
                f":{result.location.line}" if result.location.line is not None else ""
            )
            names.append(f"{base} {where}" if where.startswith("/") else f"{base}{where}")
        else:
            names.append(base)
    seen: dict[str, int] = {}
    unique: list[str] = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        unique.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return unique


def _where(result: Result) -> str | None:
    location = result.location
    if location is None:
        return None
    text = location.file
    if location.line is not None:
        text += f":{location.line}"
        if location.column is not None:
            text += f":{location.column}"
    if location.pointer:
        text += f" ({location.pointer})"
    return text


def _details(result: Result) -> str:
    lines = [result.message]
    if result.reason:
        lines.append(f"reason: {result.reason}")
    where = _where(result)
    if where:
        lines.append(f"location: {where}")
    hint = result.hint or hint_for(result.reason)
    if hint:
        lines.append(f"hint: {hint}")
    return "\n".join(lines)


def _sub(parent: ET.Element, tag: str, attrib: dict[str, str], text: str | None = None) -> None:
    element = ET.SubElement(parent, tag, {key: _clean(value) for key, value in attrib.items()})
    if text is not None:
        element.text = _clean(text)


def _counts(results: Iterable[Result]) -> dict[str, int]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for result in results:
        counts["tests"] += 1
        if not result.counts:
            counts["skipped"] += 1
        elif result.status is Status.FAIL:
            counts["failures"] += 1
        elif result.status is Status.ERROR:
            counts["errors"] += 1
        elif result.status is Status.SKIP:
            counts["skipped"] += 1
    return counts


def _testcase(suite: ET.Element, result: Result, name: str) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        {
            "classname": _clean(f"stcheck.{result.check}"),
            "name": _clean(name),
            "time": _seconds(result.duration),
        },
    )
    kind = result.reason or result.status.value
    if result.waiver is not None:
        waiver = result.waiver
        message = f"waived: {waiver.because} ({waiver.by}, until {waiver.until})"
        _sub(case, "skipped", {"message": message})
        _sub(case, "system-out", {}, f"WAIVED {result.status.value.upper()}: {_details(result)}")
    elif not result.counts:  # known from --baseline: reported, not failed
        why = f"known from the baseline: {result.status.value} ({kind}): {result.message}"
        _sub(case, "skipped", {"message": why})
    elif result.status is Status.FAIL:
        _sub(case, "failure", {"message": result.message, "type": kind}, _details(result))
    elif result.status is Status.ERROR:
        _sub(case, "error", {"message": result.message, "type": kind}, _details(result))
    elif result.status is Status.SKIP:
        reason = f"{result.reason}: " if result.reason else ""
        _sub(case, "skipped", {"message": f"{reason}{result.message}"})
    elif result.status is Status.WARN:
        _sub(case, "system-out", {}, f"WARNING: {_details(result)}")


def render(report: RunReport) -> str:
    """Render the run report as a JUnit XML document (UTF-8, with an XML declaration)."""
    by_check: dict[str, list[Result]] = {}
    for result in report.results:
        by_check.setdefault(result.check, []).append(result)

    totals = _counts(report.results)
    wall = _duration(report.duration) or sum(_duration(r.duration) for r in report.results)
    totals.pop("skipped")  # not an attribute of <testsuites> in junit-10.xsd
    root = ET.Element(
        "testsuites",
        {"name": "stcheck", **{k: str(v) for k, v in totals.items()}, "time": _seconds(wall)},
    )
    timestamp = _timestamp(report.started_at)
    for check, results in by_check.items():
        attrib = {
            "name": _clean(check),
            **{key: str(value) for key, value in _counts(results).items()},
            "time": _seconds(sum(_duration(r.duration) for r in results)),
        }
        if timestamp:
            attrib["timestamp"] = timestamp
        suite = ET.SubElement(root, "testsuite", attrib)
        properties = ET.SubElement(suite, "properties")
        _sub(properties, "property", {"name": "stcheck.version", "value": report.tool_version})
        _sub(properties, "property", {"name": "stcheck.command", "value": report.command})
        for manifest in report.manifests:
            _sub(properties, "property", {"name": "stcheck.manifest", "value": manifest})
        for result, name in zip(results, _case_names(results, report), strict=True):
            _testcase(suite, result, name)

    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'

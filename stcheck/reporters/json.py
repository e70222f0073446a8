"""JSON output: the contract's machine format, described by ``schemas/report-v1.schema.json``.

The contract is the document, not its whitespace. It is written with the C
encoder, one line per top-level key and one line per element of the
``results``, ``plugins`` and ``readiness`` arrays: still readable and
diff-friendly (a result is one line, so ``grep`` finds it whole), and about
four times faster than ``json.dumps(indent=2)``, whose indentation runs the
pure-Python encoder (2.4 s against 0.6 s for a 10,000-tenant report; see
docs/performance.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from stcheck.fingerprint import Fingerprinter
from stcheck.gcpause import paused_gc
from stcheck.model import Result, RunReport

if TYPE_CHECKING:
    from stcheck.readiness import Attestation, ReadinessItem, TenantReadiness

SCHEMA_VERSION = 1

_ENCODER = json.JSONEncoder(ensure_ascii=False)
"""No ``indent``: the C encoder (``c_make_encoder``) does the work."""


def as_document(report: RunReport) -> dict[str, Any]:
    """The report as the JSON document of schema version 1."""
    document = _document(report)
    if report.readiness:
        document["readiness"] = [tenant.as_dict() for tenant in report.readiness]
    return document


def _document(report: RunReport) -> dict[str, Any]:
    """The document but for its ``readiness``."""
    fingerprint = Fingerprinter(report.tenant_names)
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
        "results": [_result(result, fingerprint) for result in report.results],
    }
    if report.baseline is not None:
        document["baseline"] = report.baseline.as_dict()
    return document


class _Encoded(tuple[str, ...]):
    """Array elements already encoded as JSON text (see :func:`_tenants`)."""


def _tenants(tenants: Sequence[TenantReadiness]) -> _Encoded:
    """Each tenant's readiness as one JSON object, each distinct item encoded once.

    Tenants share most of their item and attestation objects (they are immutable and
    made once per distinct text), and those are nine tenths of a fleet report's bytes:
    encoding each once, not once per tenant, is most of the reporter's time saved. The
    text decodes to :func:`as_document`'s ``readiness`` (a test holds it).
    """
    memo: dict[int, tuple[object, str]] = {}

    def encoded(value: ReadinessItem | Attestation) -> str:
        found = memo.get(id(value))
        if found is None:  # the value is kept with its text, so its id is not reused
            found = memo[id(value)] = (value, _ENCODER.encode(value.as_dict()))
        return found[1]

    return _Encoded(
        _object(
            tenant.as_dict(nested=False),
            {
                "items": "[" + ", ".join(map(encoded, tenant.items)) + "]",
                "attestations": "[" + ", ".join(map(encoded, tenant.attestations)) + "]",
            },
        )
        for tenant in tenants
    )


def _object(fields: dict[str, Any], encoded: dict[str, str]) -> str:
    """``fields`` as a JSON object in their order, the keys in ``encoded`` with its JSON text."""
    parts: list[str] = []
    plain: dict[str, Any] = {}
    for key, value in fields.items():
        if key not in encoded:
            plain[key] = value
            continue
        if plain:
            parts.append(_ENCODER.encode(plain)[1:-1])
            plain = {}
        parts.append(f"{_ENCODER.encode(key)}: {encoded[key]}")
    if plain:
        parts.append(_ENCODER.encode(plain)[1:-1])
    return "{" + ", ".join(parts) + "}"


def _result(result: Result, fingerprint: Fingerprinter) -> dict[str, Any]:
    out = result.as_dict()
    out["fingerprint"] = fingerprint(result)
    return out


def _elements(value: Any) -> Iterable[str] | None:
    """The encoded elements of a non-empty array of objects (one a line), else None."""
    if isinstance(value, _Encoded):
        return value or None
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        return map(_ENCODER.encode, value)
    return None


def dumps(document: dict[str, Any]) -> str:
    """``document`` as JSON text: one line per top-level key and per element of an object list.

    The pieces are joined once: a fleet report is tens of MB, and each concatenation of
    the whole would copy it again (and hold another copy at once).
    """
    if not document:
        return "{}\n"
    parts = ["{\n"]
    for key, value in document.items():
        if len(parts) > 1:
            parts.append(",\n")
        parts += ("  ", _ENCODER.encode(key), ": ")
        elements = _elements(value)
        if elements is None:
            parts.append(_ENCODER.encode(value))
            continue
        parts.append("[\n    ")
        for number, element in enumerate(elements):
            if number:
                parts.append(",\n    ")
            parts.append(element)
        parts.append("\n  ]")
    parts.append("\n}\n")
    return "".join(parts)


def render(report: RunReport) -> str:
    with paused_gc():  # it builds a fleet's worth of small objects, none in a cycle
        document = _document(report)
        if report.readiness:
            document["readiness"] = _tenants(report.readiness)
        return dumps(document)

"""Schema violations explained in the user's words, one best explanation per place.

jsonschema's raw messages quote values (which may be secrets) and speak in
schema keywords. Here each violation becomes a reason word from
:mod:`stcheck.reasons` and a sentence about the manifest: *unknown
environment 'staging' (expected integration or production)*. Values are never
quoted, only key names and tenant names, through :func:`stcheck.text.shown`
(quoted, at most 64 characters). Where one value breaks several rules
(a compound failure), the most telling one is kept and the rest are counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.model import DATE_FIELDS, ENVIRONMENTS, MAX_TENANT_ID
from stcheck.manifest.schema import Violation
from stcheck.redact import credential_kind
from stcheck.text import clipped, shown

__all__ = ["DATE_FIELDS", "ENVIRONMENTS", "Explanation", "explain", "explain_window", "where"]
REFERENCE_FIELDS = frozenset({"app_key", "client_id", "client_secret"})
SHOWN_KEY = 64
HOST_WORDS = ("host", "url", "uri", "endpoint", "server", "domain", "base")
ENVIRONMENT_HINTS = {
    "sandbox": "ServiceTitan's sandbox is the integration environment",
    "staging": "ServiceTitan has no staging API; use integration for testing",
    "dev": "use integration for development",
    "development": "use integration for development",
    "test": "use integration for testing",
    "testing": "use integration for testing",
    "prod": "did you mean production?",
    "live": "did you mean production?",
    "next": "NEXT is a ServiceTitan web UI, not an API environment",
    "go": "GO is ServiceTitan's web UI, not an API environment",
}
# When one value breaks several rules, the first kind in this list explains it best.
PRIORITY = (
    "type",
    "anyOf",
    "const",
    "enum",
    "not",
    "pattern",
    "propertyNames",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "minProperties",
    "uniqueItems",
)


class Explanation(NamedTuple):
    reason: str
    message: str
    pointer: str
    key: str | None = None  # set when the position is a mapping key rather than a value


def explain(
    violations: Iterable[Violation], data: Any, schema: dict[str, Any]
) -> list[Explanation]:
    """Explain violations, keeping the best one per value and counting the rest."""
    return explain_window(violations, data, schema)[0]


def explain_window(
    violations: Iterable[Violation],
    data: Any,
    schema: dict[str, Any],
    limit: int | None = None,
) -> tuple[list[Explanation], int]:
    """(at most ``limit`` explanations, how many more there would be).

    One ``additionalProperties`` violation can name 100,000 keys: those beyond
    the window are counted, never explained (explaining one costs a did-you-mean
    search).
    """
    grouped: dict[str, list[Violation]] = {}
    keyed: list[Explanation] = []
    room = _Room(limit)
    for violation in violations:
        if violation.keyword == "additionalProperties":
            keys = violation.detail or ()
            keyed.extend(
                _unknown_key(violation.path, str(key), data, schema) for key in keys if room.take()
            )
        elif violation.keyword == "required":
            if room.take():
                keyed.append(_missing_key(violation.path, str(violation.detail), data))
        else:
            place = jsonpointer.join(violation.path)
            if place in grouped or room.take():
                grouped.setdefault(place, []).append(violation)
    return keyed + [_best(group, data) for group in grouped.values()], room.more


class _Room:
    """Room left in the window of explanations; what does not fit is counted."""

    def __init__(self, limit: int | None) -> None:
        self.left = limit if limit is not None else -1
        self.more = 0

    def take(self) -> bool:
        if self.left == 0:
            self.more += 1
            return False
        self.left -= 1
        return True


def _best(group: list[Violation], data: Any) -> Explanation:
    """The most telling explanation of one value's violations, counting the others."""
    group.sort(key=lambda v: PRIORITY.index(v.keyword) if v.keyword in PRIORITY else 99)
    best = _value_problem(group[0], _value_at(data, group[0].path), data)
    if len(group) == 1:
        return best
    more_here = len(group) - 1
    return best._replace(
        message=f"{best.message} (and {more_here} more problem{'s' if more_here > 1 else ''}"
        " with this value)"
    )


def _value_at(data: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def where(path: Sequence[str | int], data: Any) -> str:
    """A human name for the place ``path`` points at: tenant 'x', production entry, ..."""
    if not path:
        return "the manifest"
    if path[0] == "app":
        return "app" if len(path) == 1 else f"app.{clipped(path[1])}"
    if path[0] == "tenants" and len(path) >= 2:
        tenant = _value_at(data, path[:2])
        name = tenant.get("name") if isinstance(tenant, dict) else None
        label = f"tenant {shown(name)}" if isinstance(name, str) and name else f"tenants[{path[1]}]"
        rest = [clipped(p) for p in path[2:]]
        if rest[:1] == ["environments"] and len(rest) >= 2:
            label += f", {rest[1]} entry"
            rest = rest[2:]
        if rest:
            label += ": " + ".".join(rest)
        return label
    if path[0] == "waivers" and len(path) >= 2 and isinstance(path[1], int):
        label = f"waiver {path[1] + 1}"
        return label + (": " + ".".join(clipped(p) for p in path[2:]) if len(path) > 2 else "")
    return ".".join(clipped(p) for p in path)


def _field(path: Sequence[str | int]) -> str:
    return str(path[-1]) if path else ""


def _allowed_keys(path: Sequence[str | int], schema: dict[str, Any]) -> list[str]:
    node: Any = schema
    for part in path:
        node = _deref(node, schema)
        if isinstance(part, int):
            node = node.get("items", {})
        elif part in node.get("properties", {}):
            node = node["properties"][part]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return []
    node = _deref(node, schema)
    return list(node.get("properties", {}))


def _deref(node: Any, schema: dict[str, Any]) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = schema
        for part in jsonpointer.split(node["$ref"].removeprefix("#")):
            target = target[part]
        node = target
    return node


def _unknown_key(
    path: Sequence[str | int], key: str, data: Any, schema: dict[str, Any]
) -> Explanation:
    at = jsonpointer.join(path)
    if credential_kind(key):
        return Explanation(
            "unknown_key",
            f"{where(path, data)} has an unknown key that looks like a credential (not shown)",
            at,
            key,
        )
    lowered = key.lower()
    names_a_host = any(word in lowered for word in HOST_WORDS)
    if len(path) == 3 and path[0] == "tenants" and path[2] == "environments" and not names_a_host:
        message = f"unknown environment {shown(key)} (expected integration or production)"
        hint = ENVIRONMENT_HINTS.get(lowered)
        return Explanation(
            "unknown_environment", f"{message}: {hint}" if hint else message, at, key
        )
    if names_a_host:
        return Explanation(
            "host_in_manifest",
            f"hosts cannot be set in the manifest: they follow from the environment"
            f" (remove {shown(key)} from {where(path, data)})",
            at,
            key,
        )
    allowed = _allowed_keys(path, schema)
    import difflib  # only on this rare path: keeps start-up fast

    # a did-you-mean for a key far longer than any allowed one would be no help
    close = difflib.get_close_matches(key, allowed, n=1) if len(key) <= 2 * SHOWN_KEY else []
    suggestion = f"; did you mean {shown(close[0])}?" if close else ""
    if not close and allowed:
        suggestion = f" (expected one of: {', '.join(allowed)})"
    return Explanation(
        "unknown_key", f"unknown key {shown(key)} in {where(path, data)}{suggestion}", at, key
    )


def _missing_key(path: Sequence[str | int], key: str, data: Any) -> Explanation:
    message = f"{where(path, data)} is missing the required key {shown(key)}"
    return Explanation("missing_key", message, jsonpointer.join(path))


def _type_name(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number with a fraction"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


_EXPECTED = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "empty",
}


class _Problem(NamedTuple):
    """What the value-problem table looks at: one violation, the value, where it is."""

    keyword: str
    path: Sequence[str | int]
    name: str  # the last key of the path: the field
    place: str  # a human name for the place (see where)
    value: Any
    detail: Any


class _Case(NamedTuple):
    """One row: when ``applies`` holds, the problem is explained as ``reason`` and ``message``."""

    applies: Callable[[_Problem], bool]
    reason: str
    message: Callable[[_Problem], str]


REFERENCE_KEYWORDS = frozenset({"pattern", "minLength", "maxLength", "type"})


def _bad_reference(p: _Problem) -> bool:
    return p.name in REFERENCE_FIELDS and p.keyword in REFERENCE_KEYWORDS


def _has_url(p: _Problem, *marks: str) -> bool:
    return isinstance(p.value, str) and any(mark in p.value for mark in marks)


def _expected_types(p: _Problem) -> str:
    return " or ".join(_EXPECTED.get(t, t) for t in p.detail or ())


# First match wins: the specific field before the general keyword.
VALUE_PROBLEMS: tuple[_Case, ...] = (
    _Case(
        lambda p: p.name == "tenant_id",
        "invalid_tenant_id",
        lambda p: f"{p.place} {_tenant_id_problem(p.value)}",
    ),
    _Case(
        lambda p: _bad_reference(p) and _has_url(p, "://"),
        "host_in_manifest",
        lambda p: (
            f"{p.place} must be a credential reference, not a URL: hosts follow from the"
            " environment"
        ),
    ),
    _Case(
        _bad_reference,
        "not_a_reference",
        lambda p: (
            f"{p.place} must be a credential reference such as env:NAME or file:PATH"
            f" (got {_type_name(p.value)}; the value is not shown)"
        ),
    ),
    _Case(
        lambda p: p.keyword == "type",
        "wrong_type",
        lambda p: f"{p.place} must be {_expected_types(p)}, not {_type_name(p.value)}",
    ),
    _Case(
        lambda p: p.keyword == "anyOf" and not p.path,
        "missing_key",
        lambda p: (
            "the manifest is missing the key 'tenants' (or 'include:' to include tenant files)"
        ),
    ),
    _Case(
        lambda p: p.keyword == "const" and tuple(p.path) == ("version",),
        "invalid_value",
        lambda p: "version must be 1: this stcheck reads manifest version 1",
    ),
    _Case(
        lambda p: p.name == "probe" and _has_url(p, "://", "servicetitan"),
        "host_in_manifest",
        lambda p: (
            "app.probe is a path (MODULE/RESOURCE), not a URL: hosts follow from the environment"
        ),
    ),
    _Case(
        lambda p: p.name == "probe" and p.keyword == "not",
        "invalid_value",
        lambda p: "app.probe cannot be an export endpoint: without 'from' it starts a full export",
    ),
    _Case(
        lambda p: p.name == "probe",
        "invalid_value",
        lambda p: (
            "app.probe must be MODULE/RESOURCE with a ServiceTitan module, such as"
            " settings/business-units (reporting and export endpoints are not allowed)"
        ),
    ),
    _Case(
        lambda p: p.name in DATE_FIELDS and p.keyword == "pattern",
        "invalid_value",
        lambda p: f"{p.place} must be a date written YYYY-MM-DD",
    ),
    _Case(
        lambda p: p.name == "name" and p.keyword == "pattern" and len(p.path) == 3,
        "invalid_value",
        lambda p: (
            f"{p.place} must be a slug: lowercase letters, digits, '.', '_' and '-',"
            " starting with a letter or digit, at most 63 characters"
        ),
    ),
    _Case(
        lambda p: p.keyword == "enum" and p.name == "environment",
        "unknown_environment",
        lambda p: f"{p.place} must be integration or production",
    ),
    _Case(
        lambda p: p.keyword == "propertyNames",
        "invalid_value",
        lambda p: f"{p.place} names must be lowercase identifiers (letters, digits, '_')",
    ),
    _Case(
        lambda p: p.keyword == "minProperties" and p.name == "environments",
        "missing_key",
        lambda p: f"{p.place} is empty: add an integration and/or production entry",
    ),
    _Case(
        lambda p: p.keyword == "uniqueItems",
        "invalid_value",
        lambda p: f"{p.place} lists the same item twice",
    ),
    _Case(
        lambda p: p.keyword == "minLength",
        "invalid_value",
        lambda p: f"{p.place} must not be empty",
    ),
    _Case(
        lambda p: p.keyword == "maxLength",
        "invalid_value",
        lambda p: f"{p.place} is too long (at most {p.detail} characters)",
    ),
    _Case(
        lambda p: p.keyword == "pattern" and len(p.path) >= 2 and p.path[-2] == "required_scopes",
        "invalid_value",
        lambda p: f"{p.place} must be a scope such as tn.stt.businessunits:r",
    ),
    _Case(
        lambda p: True,
        "schema",
        lambda p: f"{p.place} does not match the manifest schema ({p.keyword})",
    ),
)


def _value_problem(violation: Violation, value: Any, data: Any) -> Explanation:
    """The explanation of the first row of :data:`VALUE_PROBLEMS` that applies."""
    path = violation.path
    problem = _Problem(
        violation.keyword, path, _field(path), where(path, data), value, violation.detail
    )
    case = next(case for case in VALUE_PROBLEMS if case.applies(problem))
    return Explanation(case.reason, case.message(problem), jsonpointer.join(path))


def _tenant_id_problem(value: Any) -> str:
    if value is None:
        return "is empty: write the tenant ID (a positive integer)"
    if isinstance(value, bool):
        return "must be a positive integer, not true/false"
    if isinstance(value, float):
        return "must be a whole number"
    if isinstance(value, int):
        if value <= 0:
            return "must be a positive integer"
        if value > MAX_TENANT_ID:
            return f"is beyond 64 bits (at most {MAX_TENANT_ID})"
    if isinstance(value, str):
        if value.isascii() and value.isdigit():
            if value.startswith("0"):
                return "has a leading zero: write the digits without it"
            return f"is beyond 64 bits (at most {MAX_TENANT_ID})"
        return "must be a positive integer, or a quoted string of digits"
    return f"must be a positive integer, not {_type_name(value)}"

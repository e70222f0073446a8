"""The published JSON Schemas and manifest validation against them.

The schemas live in ``schemas/`` at the top of the repository (the path editors
use) and are shipped inside the package as ``stcheck/schemas/``; both are
found here (the manifest's, and the JSON report's that ``stcheck schema
--report`` prints). Validation runs on jsonschema-rs (a compiled validator,
~50x faster than the pure-Python ``jsonschema`` on a 1,000-tenant manifest and
cheap to import); ``jsonschema`` stays the reference implementation — used
when jsonschema-rs is not installable and in tests that compare both. Both
are normalised to :class:`Violation` so the explanations do not depend on the
engine.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from functools import cached_property, lru_cache
from typing import Any, NamedTuple

MANIFEST_SCHEMA = "manifest-v1.schema.json"
REPORT_SCHEMA = "report-v1.schema.json"
TENANTS_SCHEMA = "tenants-v1.schema.json"


def schema_path(name: str) -> str:
    """Filesystem path of a published schema, in an installed package or a checkout."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # stcheck/
    packaged = os.path.join(here, "schemas", name)  # inside an installed wheel
    if os.path.isfile(packaged):
        return packaged
    checkout = os.path.join(os.path.dirname(here), "schemas", name)  # a source checkout
    if os.path.isfile(checkout):
        return checkout
    raise FileNotFoundError(f"schema {name} is missing from this stcheck installation")


def schema_text(name: str = MANIFEST_SCHEMA) -> str:
    with open(schema_path(name), encoding="utf-8") as handle:
        return handle.read()


@lru_cache(maxsize=4)
def load_schema(name: str = MANIFEST_SCHEMA) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(schema_text(name))
    return loaded


def tenants_schema(manifest: dict[str, Any]) -> dict[str, Any]:
    """The schema of an included tenant file, derived from the manifest schema's tenant.

    ``schemas/tenants-v1.schema.json`` is this, written out (a test keeps them equal):
    a list of the manifest's tenants, with the manifest's definitions.
    """
    return {
        "$schema": manifest["$schema"],
        "$id": manifest["$id"].replace(MANIFEST_SCHEMA, TENANTS_SCHEMA),
        "title": "stcheck tenant file, version 1",
        "description": (
            "A file a manifest includes (include: [tenants/*.stcheck.yaml]): a list of tenants,"
            " each as the manifest's tenants list holds them. The app is the including"
            " manifest's; an included file cannot include."
        ),
        "type": "array",
        "items": {"$ref": "#/$defs/tenant"},
        "$defs": manifest["$defs"],
    }


def tenants_schema_text() -> str:
    """:func:`tenants_schema` as the published file holds it."""
    return json.dumps(tenants_schema(load_schema()), indent=2, ensure_ascii=False) + "\n"


class Violation(NamedTuple):
    """One schema violation, independent of the validator that found it.

    ``path`` is the instance path; ``keyword`` the JSON Schema keyword;
    ``detail`` the keyword-specific part (missing property, unexpected keys,
    expected types, ...).
    """

    path: tuple[str | int, ...]
    keyword: str
    detail: Any = None


_RS_KEYWORDS = {
    "AdditionalProperties": "additionalProperties",
    "AnyOf": "anyOf",
    "Constant": "const",
    "Enum": "enum",
    "MaxItems": "maxItems",
    "MaxLength": "maxLength",
    "MaxProperties": "maxProperties",
    "Maximum": "maximum",
    "MinItems": "minItems",
    "MinLength": "minLength",
    "MinProperties": "minProperties",
    "Minimum": "minimum",
    "Not": "not",
    "OneOfNotValid": "oneOf",
    "OneOfMultipleValid": "oneOf",
    "Pattern": "pattern",
    "PropertyNames": "propertyNames",
    "Required": "required",
    "Type": "type",
    "UniqueItems": "uniqueItems",
    "FalseSchema": "false",
}


def _rs_detail(keyword: str, kind: Any) -> Any:
    if keyword == "required":
        return kind.property
    if keyword == "additionalProperties":
        return tuple(kind.unexpected)
    if keyword == "type":
        return tuple(str(t) for t in kind.types)
    if keyword in ("minLength", "maxLength", "minimum", "maximum", "minProperties"):
        return kind.limit
    return None


class Validator:
    """Validates instances against one schema with the fastest engine available."""

    def __init__(self, schema: dict[str, Any], *, engine: str | None = None) -> None:
        self.schema = schema
        self.engine = engine or _default_engine()
        if self.engine == "jsonschema-rs":
            import jsonschema_rs

            self._rs = jsonschema_rs.validator_for(schema)
        else:
            import jsonschema

            self._py = jsonschema.Draft202012Validator(schema)

    def is_valid(self, instance: Any) -> bool:
        if self.engine == "jsonschema-rs":
            return bool(self._rs.is_valid(instance))
        return bool(self._py.is_valid(instance))

    def window(self, instance: Any, limit: int) -> tuple[list[Violation], int]:
        """(the first ``limit`` or so violations, how many more there are — at least).

        jsonschema-rs builds every error before it yields the first: 170,000
        wrong tenants took 25 s and 1.2 GB that way. A manifest with many
        tenants is validated in parts instead — everything but the tenants,
        then tenant by tenant until the window is full; each later tenant
        only has its validity checked, and counts as one more problem.
        """
        if self.is_valid(instance):
            return [], 0
        tenants = instance.get("tenants") if isinstance(instance, dict) else None
        if not isinstance(tenants, list) or len(tenants) <= _SPLIT_AT or self.tenant is None:
            found = self.violations(instance)
            window = list(itertools.islice(found, limit))
            return window, sum(1 for _ in found)
        window = list(self.violations({**instance, "tenants": []}))
        more = 0
        for index, tenant in enumerate(tenants):
            if len(window) < limit:
                window.extend(
                    Violation(("tenants", index, *v.path), v.keyword, v.detail)
                    for v in self.tenant.violations(tenant)
                )
            elif not self.tenant.is_valid(tenant):
                more += 1
        return window[:limit], more + max(0, len(window) - limit)

    @cached_property
    def tenant(self) -> Validator | None:
        """A validator for one item of ``tenants`` (None when the schema has no such part)."""
        items = self.schema.get("properties", {}).get("tenants", {}).get("items")
        if not isinstance(items, dict):
            return None
        return Validator({**items, "$defs": self.schema.get("$defs", {})}, engine=self.engine)

    def violations(self, instance: Any) -> Iterator[Violation]:
        if self.engine == "jsonschema-rs":
            yield from self._rs_violations(instance)
        else:
            yield from self._py_violations(instance)

    def _rs_violations(self, instance: Any) -> Iterator[Violation]:
        for error in self._rs.iter_errors(instance):
            kind = error.kind
            keyword = _RS_KEYWORDS.get(type(kind).__name__, type(kind).__name__)
            yield Violation(tuple(error.instance_path), keyword, _rs_detail(keyword, kind))

    def _py_violations(self, instance: Any) -> Iterator[Violation]:
        for error in self._py.iter_errors(instance):
            keyword = str(error.validator)
            path = tuple(error.absolute_path)
            detail: Any = None
            if keyword == "required":
                missing = [p for p in error.validator_value if p not in error.instance]
                for prop in missing:
                    yield Violation(path, keyword, prop)
                continue
            if keyword == "additionalProperties":
                allowed = error.schema.get("properties", {})
                detail = tuple(k for k in error.instance if k not in allowed)
            elif keyword == "type":
                expected = error.validator_value
                detail = tuple([expected] if isinstance(expected, str) else expected)
            elif keyword in ("minLength", "maxLength", "minimum", "maximum", "minProperties"):
                detail = error.validator_value
            yield Violation(path, keyword, detail)


# Manifests with more tenants than this are validated in parts (see Validator.window).
_SPLIT_AT = 100


def _default_engine() -> str:
    try:
        import jsonschema_rs  # noqa: F401
    except ImportError:  # platforms without a wheel (tested by hiding the module)
        return "jsonschema"
    return "jsonschema-rs"


@lru_cache(maxsize=4)
def validator(name: str = MANIFEST_SCHEMA, engine: str | None = None) -> Validator:
    return Validator(load_schema(name), engine=engine)

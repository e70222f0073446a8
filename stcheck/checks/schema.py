"""The ``schema`` check: the manifest loads cleanly and matches manifest v1."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from stcheck.api import Check, CheckContext, Location, Result, Status, hookimpl
from stcheck.manifest import MAX_TENANT_ID, Manifest
from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.model import DATE_FIELDS
from stcheck.manifest.plain import is_calendar_date as plain_is_calendar_date
from stcheck.manifest.schema import load_schema, validator
from stcheck.redact import credential_kind
from stcheck.servicetitan_scopes import MODULE_ABBREVIATIONS, scope_module, suggest_scope
from stcheck.text import shown

MAX_REPORTED = 200
MAX_EXPLAINED = 1_000


class SchemaCheck(Check):
    """The manifest is well-formed YAML and valid against the manifest v1 JSON Schema.

    Catches YAML's traps (duplicate keys, ``0123`` read as octal, ``1:30`` read
    as 90, unsupported tags, alias bombs, several documents in one file), then
    validates against ``schemas/manifest-v1.schema.json`` and explains each
    problem in the manifest's terms: unknown environments, hosts or URLs
    (never allowed: hosts follow from the environment), tenant IDs that are not
    positive 64-bit integers, credential fields that are not references, dates
    that are not real dates. One value that breaks several rules is reported
    once, with the number of further problems; beyond 200 problems the rest
    are counted in one last result.

    A ``required_scopes`` entry ``tn.MODULE.RESOURCE:r|w`` whose MODULE is not a
    ServiceTitan scope module abbreviation stcheck knows (``acc``, ``crm``,
    ``inv``, ``jpm``, ``pb``, ``rpr``, ``sa``, ``sal``, ``sp``, ``stt``, ``tlc``,
    ``tms``, ``tsm``) is a ``warn`` (``unknown_scope_module``) with a
    did-you-mean: ``tn.set.businessunits:r`` is ``tn.stt.businessunits:r``, and
    a token never carries the misspelt name, so the ``token`` check would fail
    with ``missing_scopes`` on working credentials.
    """

    id = "schema"
    stage = "manifest"
    order = 10
    reports_load_problems = True

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        manifest = ctx.manifest
        results: list[Result] = []
        for problem in manifest.problems:
            location = Location(
                problem.file or manifest.path, problem.line, problem.column, problem.pointer
            )
            results.append(
                self.result(
                    ctx,
                    Status.FAIL,
                    problem.message,
                    reason=problem.reason,
                    location=location,
                    tenant=_tenant_name(manifest.data, problem.pointer),
                )
            )
        if not manifest.loaded:
            return results
        trapped = {problem.pointer for problem in manifest.problems}
        schema = load_schema()
        # Explain a bounded window; a hostile file can hold a million violations.
        window, unexplained = validator().window(manifest.data, MAX_EXPLAINED)
        explanations, unlisted = _explained(window, manifest.data, schema)
        unexplained += unlisted
        explained = set(trapped)
        for explanation in explanations:
            if explanation.pointer in trapped:
                continue  # already explained by the loader (e.g. tenant_id: 0123)
            if manifest.included and not explanation.pointer.startswith("/tenants/"):
                continue  # included tenants: the root's app is the root's to report
            explained.add(explanation.pointer)
            location = manifest.locate(explanation.pointer, key=explanation.key)
            if explanation.key is not None and credential_kind(explanation.key):
                # the key's position, but not the key itself in the pointer
                location = Location(
                    location.file, location.line, location.column, explanation.pointer
                )
            results.append(
                self.result(
                    ctx,
                    Status.FAIL,
                    explanation.message,
                    reason=explanation.reason,
                    location=location,
                    tenant=_tenant_name(manifest.data, explanation.pointer),
                )
            )
        extra = itertools.chain(self._semantic(ctx, explained), self._scope_modules(ctx, explained))
        results.extend(itertools.islice(extra, MAX_EXPLAINED))
        unexplained += sum(1 for _ in extra)
        results.sort(key=lambda r: (r.location.line or 0) if r.location else 0)
        if len(results) > MAX_REPORTED or unexplained:
            more = max(0, len(results) - MAX_REPORTED) + unexplained
            results = results[:MAX_REPORTED]
            about = "about " if unexplained else ""
            results.append(
                self.result(
                    ctx,
                    Status.FAIL,
                    f"and {about}{more} more schema problems not listed; fix the ones above first",
                    reason="schema",
                )
            )
        if not results:
            files = len(manifest.files)
            passed = "the manifest matches manifest v1"
            if manifest.included:
                passed = f"the included tenant files match tenants v1 ({files} checked together)"
            results.append(self.result(ctx, Status.PASS, passed))
        return results

    def _scope_modules(self, ctx: CheckContext, explained: set[str]) -> Iterator[Result]:
        """Warn about required scopes whose module part no ServiceTitan scope uses."""
        if ctx.manifest.included:
            return  # the root manifest's app: reported there
        app = ctx.manifest.data.get("app") if isinstance(ctx.manifest.data, dict) else None
        scopes = app.get("required_scopes") if isinstance(app, dict) else None
        if not isinstance(scopes, list):
            return
        for index, scope in enumerate(scopes):
            pointer = jsonpointer.join(("app", "required_scopes", index))
            if pointer in explained or not isinstance(scope, str):
                continue
            module = scope_module(scope)
            if module is None or module in MODULE_ABBREVIATIONS:
                continue
            suggestion = suggest_scope(scope)
            advice = (
                f"did you mean {suggestion}?"
                if suggestion
                else f"known modules: {', '.join(sorted(MODULE_ABBREVIATIONS))}"
            )
            yield self.result(
                ctx,
                Status.WARN,
                f"{_where(ctx, pointer)}: {shown(module)} is not a ServiceTitan scope module"
                f" stcheck knows, so no token will carry this scope; {advice}",
                reason="unknown_scope_module",
                pointer=pointer,
            )

    def _semantic(self, ctx: CheckContext, explained: set[str]) -> Iterator[Result]:
        """What JSON Schema cannot say: real dates, 64-bit tenant IDs as text, 1.0 is not 1."""
        if not ctx.manifest.suspect:
            return  # loading saw every date field and tenant ID: none of them is wrong this way
        for path, problem in _semantic_problems(ctx.manifest):
            pointer = jsonpointer.join(path)
            if pointer in explained:
                continue
            message, reason = problem
            yield self.result(
                ctx,
                Status.FAIL,
                f"{_where(ctx, pointer)} {message}",
                reason=reason,
                pointer=pointer,
            )


def _semantic_problem(key: str, value: Any) -> tuple[str, str] | None:
    """(message after the field's name, reason) when a date or tenant ID is wrong, else None."""
    if key == "tenant_id" and isinstance(value, float):
        # JSON Schema counts 9876543.0 as an integer; stcheck would drop the entry.
        return (
            "must be a whole number written without a decimal point or exponent",
            "invalid_tenant_id",
        )
    if not isinstance(value, str):
        return None
    if key in DATE_FIELDS and len(value) == 10 and not is_calendar_date(value):
        return "is not a real calendar date", "invalid_value"
    if (
        key == "tenant_id"
        and value.isascii()
        and value.isdigit()
        and not value.startswith("0")
        and (len(value) > 19 or int(value) > MAX_TENANT_ID)
    ):
        return f"is beyond 64 bits (at most {MAX_TENANT_ID})", "invalid_tenant_id"
    return None


# a fleet's dates repeat: 50,000 fields, a few hundred days
is_calendar_date = functools.lru_cache(maxsize=4096)(plain_is_calendar_date)


Path = tuple[str | int, ...]


def _semantic_problems(manifest: Manifest) -> Iterator[tuple[Path, tuple[str, str]]]:
    """(path, problem) of each date field and tenant ID with a :func:`_semantic_problem`.

    Hot (10,000 tenants hold 70,000 such fields): a path is built only for a problem.
    """
    for index, tenant in manifest.tenants():
        environments = tenant.get("environments")
        if isinstance(environments, dict):
            for name, env in environments.items():
                if isinstance(env, dict):
                    for key in ("tenant_id", "secret_created_on"):
                        problem = _semantic_problem(key, env.get(key))
                        if problem is not None:
                            yield ("tenants", index, "environments", name, key), problem
        go_live = tenant.get("go_live")
        if not isinstance(go_live, dict):
            continue
        problem = _semantic_problem("target_date", go_live.get("target_date"))
        if problem is not None:
            yield ("tenants", index, "go_live", "target_date"), problem
        attestations = go_live.get("attestations")
        if isinstance(attestations, dict):
            for name, attestation in attestations.items():
                if isinstance(attestation, dict):
                    problem = _semantic_problem("on", attestation.get("on"))
                    if problem is not None:
                        yield ("tenants", index, "go_live", "attestations", name, "on"), problem


def _explained(window: list[Any], data: Any, schema: dict[str, Any]) -> tuple[list[Any], int]:
    """:func:`~stcheck.manifest.explain.explain_window`; a valid manifest never imports it."""
    if not window:
        return [], 0
    from stcheck.manifest.explain import explain_window

    return explain_window(window, data, schema, MAX_EXPLAINED)


def _where(ctx: CheckContext, pointer: str) -> str:
    from stcheck.manifest.explain import where  # only for a warning about a scope

    return where(jsonpointer.path(pointer), ctx.manifest.data)


def _tenant_name(data: Any, pointer: str) -> str | None:
    index = jsonpointer.tenant_index(pointer)
    tenants = data.get("tenants") if isinstance(data, dict) else None
    if index is not None and isinstance(tenants, list) and index < len(tenants):
        tenant = tenants[index]
        name = tenant.get("name") if isinstance(tenant, dict) else None
        return name if isinstance(name, str) else None
    return None


@hookimpl
def stcheck_checks() -> list[Check]:
    return [SchemaCheck()]

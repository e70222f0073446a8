"""The blocking go-live rules: one function per item, each reading one :class:`Subject`.

The attestation items are in :mod:`stcheck.checks.golive.attestations`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from stcheck.checks.golive.evidence import MAX_MESSAGES, Subject, hint, messages, where
from stcheck.checks.golive.items import (
    APP_KEY,
    DISTINCT_REFERENCES,
    DISTINCT_VALUES,
    MANIFEST_VALID,
    NO_PRODUCTION,
    PRODUCTION_CREDENTIALS,
    PRODUCTION_ENTRY,
    PRODUCTION_PROBE,
    PRODUCTION_TOKEN,
    REMEDIATION,
    SCOPES,
    count,
)
from stcheck.model import Result, Status
from stcheck.readiness import ReadinessItem

MANIFEST_CHECKS = ("schema", "references", "unique")
"""The offline checks whose passing proves ``manifest_valid``: all must have run."""


NO_INTEGRATION = "no integration entry to mix up with"


def manifest_valid(subject: Subject) -> ReadinessItem:
    evidence = subject.evidence
    problems = evidence.offline_problems(subject.position, subject.name)
    if not problems:
        # No problem found proves nothing unless the checks that look for them ran.
        missing = evidence.once(
            "manifest_checks_missing", lambda: evidence.did_not_run(MANIFEST_CHECKS)
        )
        if missing:
            return MANIFEST_VALID.not_checked(f"not checked: {missing}")
        return MANIFEST_VALID.passes("no problem found by the offline checks")
    shown = [where(result) for result in problems[:MAX_MESSAGES]]
    more = len(problems) - len(shown)
    detail = f"{count(len(problems), 'problem')}: " + "; ".join(shown)
    if more > 0:
        detail += f"; and {more} more"
    return MANIFEST_VALID.fails(detail, REMEDIATION["manifest_valid"])


def production_entry(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is not None:
        return PRODUCTION_ENTRY.passes(f"production tenant ID {subject.prod_tenant_id}")
    detail = (
        "the production entry is incomplete: `tenant_id`, `client_id` and `client_secret` must"
        " all be valid"
        if isinstance(subject.production, dict)
        else "no `environments.production` entry"
    )
    return PRODUCTION_ENTRY.fails(detail, REMEDIATION["production_entry"])


def shared_references(subject: Subject) -> list[str]:
    """The credential fields production references exactly as integration does."""
    production, integration = subject.production, subject.integration
    if not isinstance(production, dict) or not isinstance(integration, dict):
        return []
    return [
        field
        for field in ("client_id", "client_secret")
        if integration.get(field) == production.get(field)
    ]


def distinct_references(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is None:
        return DISTINCT_REFERENCES.not_checked(NO_PRODUCTION)
    if not isinstance(subject.integration, dict):
        return DISTINCT_REFERENCES.passes(NO_INTEGRATION)
    same = shared_references(subject)
    if same:
        fields = " and ".join(f"`{field}`" for field in same)
        return DISTINCT_REFERENCES.fails(
            f"production and integration reference the same {fields}",
            REMEDIATION["distinct_references"],
        )
    return DISTINCT_REFERENCES.passes("`client_id` and `client_secret` references differ")


def distinct_values(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is None:
        return DISTINCT_VALUES.not_checked(NO_PRODUCTION)
    if not isinstance(subject.integration, dict):
        return DISTINCT_VALUES.passes(NO_INTEGRATION)
    if shared_references(subject):
        return DISTINCT_VALUES.not_checked("not compared: the references are already the same")
    distinct = _values_distinct(subject)
    if distinct is False:
        return DISTINCT_VALUES.fails(
            "the production references resolve to the same values as the integration ones"
            " (integration credentials shipped to production?)",
            REMEDIATION["distinct_values"],
        )
    if distinct is True:
        return DISTINCT_VALUES.passes(
            "the resolved production client ID and secret differ from the integration ones"
        )
    if not _integration_pair_real(subject) and _production_pair_real(subject):
        # ServiceTitan rejects an integration pair in production, so a production token
        # settles it without comparing values nobody vouched for.
        return DISTINCT_VALUES.passes(
            "the production pair got a production token, so it is not the integration pair"
            " (values not compared: the integration pair has no token)"
        )
    return DISTINCT_VALUES.not_checked(_why_values_unchecked(subject))


def _values_distinct(subject: Subject) -> bool | None:
    """Whether the resolved production values differ; None when nobody reported it."""
    same = [
        result
        for result in subject.results("credentials", "production")
        if result.reason == "same_reference_both_environments" and result.status.is_failure
    ]
    if same:
        return False
    if not _integration_pair_real(subject):
        return None  # comparing with values nobody vouched for would test guesses
    from stcheck.checks.support.services import DistinctValues

    flags: Mapping[tuple[str, str], bool] = subject.ctx.run.registry.peek(DistinctValues) or {}
    return flags.get((subject.ctx.manifest.path, subject.name))


def _production_pair_real(subject: Subject) -> bool:
    tokens = subject.results("token", "production")
    return bool(tokens) and all(r.status in (Status.PASS, Status.WARN) for r in tokens)


def _integration_pair_real(subject: Subject) -> bool:
    """The integration pair got a token: its values are ServiceTitan credentials, not guesses."""
    tokens = subject.results("token", "integration")
    return bool(tokens) and all(r.status in (Status.PASS, Status.WARN) for r in tokens)


def _why_values_unchecked(subject: Subject) -> str:
    if subject.ctx.options.offline:
        return "not checked: this run is offline (values are compared online)"
    if subject.results("credentials", "production") and not _integration_pair_real(subject):
        return (
            "not checked: the integration pair has no token, so its values are not known to be"
            " ServiceTitan credentials (comparing them could only test guesses)"
        )
    if subject.results("credentials", "production"):
        return "not checked: the credentials check did not report whether the values differ"
    return subject.evidence.why_unchecked("credentials", "production")


def app_key(subject: Subject) -> ReadinessItem:
    """The same item for every tenant: it reads the app settings and app-level results only."""
    return subject.evidence.once("app_key", lambda: _app_key(subject))


def _app_key(subject: Subject) -> ReadinessItem:
    problems = subject.evidence.app_key_problems
    if problems or not isinstance(subject.ctx.manifest.app.get("app_key"), str):
        detail = messages(problems) if problems else "`app.app_key` is missing"
        return APP_KEY.fails(detail, hint(problems, "Set `app.app_key` to a reference."))
    # The app key's result has no tenant and no environment.
    online = subject.evidence.get("credentials", None, None)
    return subject.evidence.decide(APP_KEY, "credentials", None, online)


def production_credentials(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is None:
        return PRODUCTION_CREDENTIALS.not_checked(NO_PRODUCTION)
    results = subject.results("credentials", "production")
    return subject.evidence.decide(PRODUCTION_CREDENTIALS, "credentials", "production", results)


def _is_scope_finding(result: Result) -> bool:
    return result.reason == "missing_scopes"


def production_token(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is None:
        return PRODUCTION_TOKEN.not_checked(NO_PRODUCTION)
    results = subject.results("token", "production")
    others = [result for result in results if not _is_scope_finding(result)]
    if results and not others:
        return PRODUCTION_TOKEN.passes("a token was issued (its scopes are judged separately)")
    todo = None
    if any(r.reason == "invalid_client" and r.status is Status.FAIL for r in others):
        todo = REMEDIATION["production_token.invalid_client"]
    return subject.evidence.decide(PRODUCTION_TOKEN, "token", "production", others, todo)


def production_probe(subject: Subject) -> ReadinessItem:
    if subject.prod_tenant_id is None:
        return PRODUCTION_PROBE.not_checked(NO_PRODUCTION)
    results = subject.results("api", "production")
    forbidden = [r for r in results if r.status is Status.FAIL and r.reason == "forbidden"]
    if forbidden:
        return PRODUCTION_PROBE.fails(
            "403 with a working token: " + messages(forbidden),
            REMEDIATION["production_probe.forbidden"],
        )
    return subject.evidence.decide(PRODUCTION_PROBE, "api", "production", results)


def scopes(subject: Subject) -> ReadinessItem:
    """Blocking when it fails or the token states its scopes; advisory (not checked) else."""
    if subject.prod_tenant_id is None:
        return SCOPES.as_advisory.not_checked(NO_PRODUCTION)
    results = subject.results("token", "production")
    missing = [result for result in results if _is_scope_finding(result)]
    if missing:
        return SCOPES.fails(messages(missing), REMEDIATION["scopes"])
    required = subject.ctx.manifest.app.get("required_scopes")
    if not isinstance(required, list) or not required:
        return SCOPES.as_advisory.not_checked(
            "`app.required_scopes` is not set: nothing to compare",
            REMEDIATION["scopes.undeclared"],
        )
    return _scopes_stated(subject, results)


def _scopes_stated(subject: Subject, results: Sequence[Result]) -> ReadinessItem:
    if not results:
        return SCOPES.as_advisory.not_checked(subject.evidence.why_unchecked("token", "production"))
    passed = [result for result in results if result.status in (Status.PASS, Status.WARN)]
    if not passed:
        return SCOPES.as_advisory.not_checked("not checked: no token was issued")
    stated = [result for result in passed if result.facts.get("scopes_stated") == "yes"]
    if stated:
        return SCOPES.passes(messages(stated))
    return SCOPES.as_advisory.not_checked(
        "the token does not state its scopes; the API probe is the evidence"
    )


RULES: tuple[Callable[[Subject], ReadinessItem], ...] = (
    manifest_valid,
    production_entry,
    distinct_references,
    distinct_values,
    app_key,
    production_credentials,
    production_token,
    production_probe,
)
"""The blocking rules, in the order their items are listed (then scopes, then attestations)."""

OWN_VALUES: frozenset[Callable[[Subject], ReadinessItem]] = frozenset({production_entry})
"""The rules whose item shows the tenant's own values (its production tenant ID).

Every other rule of :data:`RULES`, and :func:`scopes`, read only the run's results
for the tenant and the shape of its entries (:func:`stcheck.checks.golive.assess.shape`):
for the tenants no result concerns (:meth:`Evidence.quiet`), the same."""

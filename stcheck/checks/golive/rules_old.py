"""The go-live readiness rules: turn one run's results and a tenant's manifest entry into items.

Used by the ``golive`` check (:mod:`stcheck.checks.golive`), which imports
this module only when it runs, so ``stcheck validate`` does not pay for it.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from stcheck.api import CheckContext, RunOptions
from stcheck.manifest import Entry
from stcheck.model import Result, Status
from stcheck.readiness import (
    SECRET_MAX_AGE_DAYS,
    STANDARD_ATTESTATIONS,
    Attestation,
    ReadinessItem,
    State,
    TenantReadiness,
    verdict_of,
)
from stcheck.reasons import hint_for

NETWORK_CHECKS = ("credentials", "dns", "token", "api")
NOT_MANIFEST_CHECKS = frozenset({*NETWORK_CHECKS, "golive", "plugins"})
TENANT_POINTER = re.compile(r"/tenants/([0-9]+)(?:/|$)")
ATTESTATION_KEY = re.compile(r"[a-z][a-z0-9_]{0,62}")
"""A valid ``go_live.attestations`` key (the manifest schema's ``propertyNames`` pattern).

Other keys are schema errors (reported by the ``schema`` check, under ``manifest_valid``)
and get no item of their own: an item id must stay ``attestation.KEY``."""
MANIFEST_CHECKS = ("schema", "references", "unique")
"""The offline checks whose passing proves ``manifest_valid``: all must have run."""
OWN_ITEM_REASONS = frozenset({"same_reference_both_environments"})
"""Offline findings that an item of their own reports (so one problem is one blocker)."""

DISTINCT_VALUES_SERVICE = "credentials.distinct_values"
"""``ctx.services`` key the ``credentials`` check fills: a mapping from the tenant name (or
``(manifest path, tenant name)``) to True when the resolved production client ID and
secret both differ from the integration ones, False when either is the same."""

MAX_MESSAGES = 3
"""At most this many check messages are quoted in one item's detail."""

INCONCLUSIVE_WARNINGS = frozenset({"probe_scope_not_granted"})
"""``warn`` reasons that mean the check could not tell (not a pass for readiness)."""

REMEDIATION = {
    "manifest_valid": "Fix the problems listed (`stcheck validate` shows each with its line).",
    "production_entry": (
        "Add `environments.production` with the production tenant ID and references to the"
        " production client pair (generated after the tenant's admin clicked Allow)."
    ),
    "distinct_references": (
        "Reference the production client pair separately from the integration pair:"
        " ServiceTitan issues one pair per environment."
    ),
    "distinct_values": (
        "Store the pair generated in the tenant's production instance in the production"
        " secrets; integration credentials are rejected in production."
    ),
    "production_credentials": "Provide the production secrets to this runner.",
    "production_token": "See the token check's message for this entry.",
    "production_token.invalid_client": (
        "Use the pair generated for this tenant in production (an integration pair is"
        " rejected there); check the secret for whitespace and that the tenant's admin has"
        " not disabled it."
    ),
    "production_probe.forbidden": (
        "Check, most likely first: that `tenant_id` is the tenant this production pair was"
        " generated for (the tenant's 'My Tenant ID' under Settings > Integrations > API"
        " Application Access); that the app's scopes cover the probe (or set `app.probe` to a"
        " resource they cover); that the tenant's admin accepted the app's current scope"
        " version (Upgrade to New Version)."
    ),
    "scopes": (
        "Add the scopes to the app in the developer portal, then have the tenant's admin"
        " accept the new version (Upgrade to New Version)."
    ),
    "scopes.undeclared": "List the scopes the app needs in `app.required_scopes`.",
    "integration_verified": "Run `stcheck check --env integration` and fix what it reports.",
    "integration_missing": (
        "Optional: keep an integration entry to test changes before they reach production."
    ),
    "attestation.app_approved": (
        "Once ServiceTitan has approved the app (public apps: reviewed in a weekly batch,"
        " without notification; a private app needs no review), record it in"
        " `go_live.attestations.app_approved: {by: WHO, on: YYYY-MM-DD}`."
    ),
    "attestation.tenant_admin_connected": (
        "Ask the tenant's admin to connect the app in production and accept its current"
        " scopes (Settings > Integrations > API Application Access), then record it in"
        " `go_live.attestations.tenant_admin_connected: {by: WHO, on: YYYY-MM-DD}`."
    ),
    "attestation.api_terms_accepted": (
        "Accept the API Terms of Use in the developer portal, then record it in"
        " `go_live.attestations.api_terms_accepted: {by: WHO, on: YYYY-MM-DD}`."
    ),
    "attestation.other": "Write the attestation as `{by: WHO, on: YYYY-MM-DD, note: ...}`.",
    "target_date.missing": "Set `go_live.target_date` to track the plan.",
    "target_date.overdue": "Resolve the blocking items, or move `go_live.target_date`.",
    "secret_age.missing": (
        "Record when the production secret was generated in"
        " `environments.production.secret_created_on`."
    ),
    "secret_age.old": (
        "Generate a new production client secret, switch to it, then disable the old one;"
        " update `secret_created_on`."
    ),
}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def today_of(options: RunOptions) -> datetime.date:
    """The date readiness is judged on: ``options.today``, ``--today``, else the real today."""
    text = options.today or getattr(options.extra, "today", None)
    if isinstance(text, str) and text:
        return datetime.date.fromisoformat(text)
    return datetime.date.today()


def _date(value: Any) -> datetime.date | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


class Evidence:
    """The results of the other checks, indexed by (check, tenant, environment)."""

    def __init__(self, results: Sequence[Result], options: RunOptions) -> None:
        self.options = options
        self.by_key: dict[tuple[str, str | None, str | None], list[Result]] = defaultdict(list)
        self.not_run: dict[str, str] = {}
        self.seen: set[str] = set()
        self.ran: set[str] = set()
        """Checks that gave at least one result other than "did not run"."""
        self.results = results
        # Findings of the offline checks (schema, references, unique, plugins' own),
        # indexed by the tenant they concern: (position in results, result).
        self.app_key_problems: list[Result] = []
        self._by_position: dict[int, list[tuple[int, Result]]] = defaultdict(list)
        self._by_name: dict[str, list[tuple[int, Result]]] = defaultdict(list)
        self._manifest_wide: list[tuple[int, Result]] = []
        for number, result in enumerate(results):
            if result.check in NOT_MANIFEST_CHECKS or not result.status.is_failure:
                continue
            pointer = result.location.pointer if result.location is not None else ""
            if pointer.startswith("/app/app_key"):
                self.app_key_problems.append(result)
                continue
            if result.reason in OWN_ITEM_REASONS:
                continue
            match = TENANT_POINTER.match(pointer)
            if match:
                self._by_position[int(match.group(1))].append((number, result))
            elif result.tenant is not None:
                self._by_name[result.tenant].append((number, result))
            else:
                self._manifest_wide.append((number, result))
        for result in results:
            self.seen.add(result.check)
            if (
                result.status is Status.SKIP
                and result.tenant is None
                and result.environment is None
                and result.reason in ("offline", "deselected", "depends_on_failure")
            ):
                self.not_run.setdefault(result.check, result.reason or "")
                continue
            self.ran.add(result.check)
            self.by_key[(result.check, result.tenant, result.environment)].append(result)

    def get(self, check: str, tenant: str | None, environment: str | None) -> list[Result]:
        return self.by_key.get((check, tenant, environment), [])

    def offline_problems(self, position: int, name: str) -> list[Result]:
        """Offline findings about the tenant at ``/tenants/{position}``, or manifest-wide ones.

        Manifest-wide problems (app settings, version) concern every tenant; the
        app key has an item of its own.
        """
        found = self._by_position.get(position, []) + self._by_name.get(name, [])
        return [result for _, result in sorted(found + self._manifest_wide, key=lambda p: p[0])]

    def did_not_run(self, checks: Sequence[str]) -> str | None:
        """Why some of ``checks`` gave no evidence ("the schema check did not run (deselected)").

        None when every one of them ran.
        """
        missing = [check for check in checks if check not in self.ran]
        if not missing:
            return None
        why: dict[str, list[str]] = defaultdict(list)
        for check in missing:
            reason = self.not_run.get(check)
            if reason == "deselected":
                why["deselected"].append(check)
            elif reason == "depends_on_failure":
                why["it could not run"].append(check)
            elif check not in self.seen:
                why["no results; see `stcheck plugins`"].append(check)
            else:
                why[reason or "no results"].append(check)
        parts = []
        for reason, names in why.items():
            listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
            noun = "check" if len(names) == 1 else "checks"
            parts.append(f"the {listed} {noun} did not run ({reason})")
        return "; ".join(parts)

    def why_unchecked(self, check: str, environment: str | None = None) -> str:
        """Why there is no result of ``check`` for an entry."""
        reason = self.not_run.get(check)
        if reason == "offline" or (
            reason is None and self.options.offline and check in NETWORK_CHECKS
        ):
            return f"not checked: this run is offline (the {check} check needs the network)"
        if reason == "deselected":
            return f"not checked: the {check} check was deselected"
        if reason == "depends_on_failure":
            return f"not checked: the {check} check could not run"
        if (
            environment is not None
            and self.options.environments
            and environment not in self.options.environments
        ):
            return f"not checked: {environment} was deselected (--env)"
        if check not in self.seen:
            return f"not checked: no {check} results (see `stcheck plugins`)"
        return f"not checked: the {check} check gave no result for this entry"


def _messages(results: Sequence[Result]) -> str:
    shown = [result.message for result in results[:MAX_MESSAGES]]
    more = len(results) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} more" if more > 0 else text


def _where(result: Result) -> str:
    location = result.location
    if location is not None and location.line:
        return f"line {location.line}: {result.message}"
    return result.message


def _judge(results: Sequence[Result]) -> tuple[State, list[Result]]:
    """Fold one check's results for one entry into a state and the results that decided it."""
    failed = [r for r in results if r.status is Status.FAIL]
    if failed:
        return "fail", failed
    errors = [r for r in results if r.status is Status.ERROR]
    if errors:
        return "not_checked", errors
    undecided = [r for r in results if r.reason in INCONCLUSIVE_WARNINGS]
    if undecided:
        return "not_checked", undecided
    passed = [r for r in results if r.status in (Status.PASS, Status.WARN)]
    if passed:
        return "pass", passed
    return "not_checked", list(results)


def _hint(results: Sequence[Result], fallback: str | None = None) -> str | None:
    for result in results:
        hint = result.hint or hint_for(result.reason)
        if hint:
            return hint
    return fallback


def _from_check(
    item_id: str,
    title: str,
    results: Sequence[Result],
    evidence: Evidence,
    check: str,
    environment: str | None,
    remediation: str | None = None,
) -> ReadinessItem:
    """An item decided by one check's results for one entry."""
    if not results:
        return ReadinessItem(
            item_id, title, True, "not_checked", evidence.why_unchecked(check, environment)
        )
    state, deciding = _judge(results)
    detail = _messages(deciding)
    if state == "fail":
        return ReadinessItem(item_id, title, True, "fail", detail, remediation or _hint(deciding))
    if state == "not_checked":
        prefix = (
            "could not tell: "
            if deciding
            and (deciding[0].status is Status.ERROR or deciding[0].reason in INCONCLUSIVE_WARNINGS)
            else ""
        )
        return ReadinessItem(item_id, title, True, "not_checked", prefix + detail, _hint(deciding))
    return ReadinessItem(item_id, title, True, "pass", detail)


def assess(
    ctx: CheckContext,
    position: int,
    tenant: Mapping[str, Any],
    entries: Mapping[str, Entry],
    evidence: Evidence,
    today: datetime.date,
) -> TenantReadiness:
    """Build one tenant's readiness from the manifest and the other checks' results."""
    name = str(tenant.get("name"))
    prefix = f"/tenants/{position}"
    environments = tenant.get("environments")
    environments = environments if isinstance(environments, dict) else {}
    production = environments.get("production")
    integration = environments.get("integration")
    prod_entry = entries.get(f"{prefix}/environments/production")
    int_entry = entries.get(f"{prefix}/environments/integration")
    go_live = tenant.get("go_live")
    go_live = go_live if isinstance(go_live, dict) else {}

    blocking: list[ReadinessItem] = [
        _manifest_valid(position, name, evidence),
        _production_entry(production, prod_entry),
        _distinct_references(production, integration, prod_entry),
    ]
    blocking.append(_distinct_values(ctx, name, blocking[-1], prod_entry, integration, evidence))
    blocking.append(_app_key(ctx, evidence))
    if prod_entry is None:
        for item_id, title in (
            ("production_credentials", "The production client ID and secret resolve"),
            ("production_token", "The production token endpoint issues a token"),
            ("production_probe", "The API probe passes in production"),
        ):
            blocking.append(
                ReadinessItem(
                    item_id, title, True, "not_checked", "not checked: no complete production entry"
                )
            )
        scopes = ReadinessItem(
            "scopes",
            "The token grants the required scopes",
            False,
            "not_checked",
            "not checked: no complete production entry",
        )
    else:
        blocking.append(
            _from_check(
                "production_credentials",
                "The production client ID and secret resolve",
                evidence.get("credentials", name, "production"),
                evidence,
                "credentials",
                "production",
                None,
            )
        )
        token_results = evidence.get("token", name, "production")
        blocking.append(_production_token(token_results, evidence))
        blocking.append(_production_probe(evidence.get("api", name, "production"), evidence))
        scopes = _scopes(ctx, token_results, evidence)
    if scopes.blocking:
        blocking.append(scopes)
    attestations, attestation_items = _attestations(go_live.get("attestations"), today)
    blocking.extend(item for item in attestation_items if item.blocking)
    verdict = verdict_of(blocking)

    advisory: list[ReadinessItem] = [_integration_verified(name, int_entry, integration, evidence)]
    if not scopes.blocking:
        advisory.append(scopes)
    advisory.extend(item for item in attestation_items if not item.blocking)
    target_text = go_live.get("target_date")
    target = _date(target_text)
    days_left = (target - today).days if target is not None else None
    advisory.append(_target_date(target_text, target, days_left, verdict))
    advisory.append(_secret_age(production, prod_entry, today))
    owner = tenant.get("owner")
    app_name = ctx.manifest.app.get("name")
    return TenantReadiness(
        tenant=name,
        owner=owner if isinstance(owner, str) else None,
        verdict=verdict,
        items=tuple(blocking + advisory),
        target_date=target_text if isinstance(target_text, str) else None,
        days_left=days_left,
        manifest=ctx.manifest.path,
        app=app_name if isinstance(app_name, str) else None,
        attestations=attestations,
        offline=ctx.options.offline,
        today=today.isoformat(),
    )


def _manifest_valid(position: int, name: str, evidence: Evidence) -> ReadinessItem:
    title = "The manifest's settings for this tenant are valid"
    problems = evidence.offline_problems(position, name)
    if not problems:
        # No problem found proves nothing unless the checks that look for them ran.
        missing = evidence.did_not_run(MANIFEST_CHECKS)
        if missing:
            return ReadinessItem(
                "manifest_valid", title, True, "not_checked", f"not checked: {missing}"
            )
        return ReadinessItem(
            "manifest_valid", title, True, "pass", "no problem found by the offline checks"
        )
    shown = [_where(result) for result in problems[:MAX_MESSAGES]]
    more = len(problems) - len(shown)
    detail = f"{_count(len(problems), 'problem')}: " + "; ".join(shown)
    if more > 0:
        detail += f"; and {more} more"
    return ReadinessItem(
        "manifest_valid", title, True, "fail", detail, REMEDIATION["manifest_valid"]
    )


def _production_entry(production: Any, entry: Entry | None) -> ReadinessItem:
    title = "A production entry exists"
    if entry is not None:
        return ReadinessItem(
            "production_entry", title, True, "pass", f"production tenant ID {entry.tenant_id}"
        )
    detail = (
        "the production entry is incomplete: `tenant_id`, `client_id` and `client_secret` must"
        " all be valid"
        if isinstance(production, dict)
        else "no `environments.production` entry"
    )
    return ReadinessItem(
        "production_entry", title, True, "fail", detail, REMEDIATION["production_entry"]
    )


def _distinct_references(
    production: Any, integration: Any, prod_entry: Entry | None
) -> ReadinessItem:
    title = "Production and integration reference different client credentials"
    if prod_entry is None:
        return ReadinessItem(
            "distinct_references",
            title,
            True,
            "not_checked",
            "not checked: no complete production entry",
        )
    if not isinstance(integration, dict):
        return ReadinessItem(
            "distinct_references", title, True, "pass", "no integration entry to mix up with"
        )
    same = [
        field
        for field in ("client_id", "client_secret")
        if isinstance(production, dict) and integration.get(field) == production.get(field)
    ]
    if same:
        fields = " and ".join(f"`{field}`" for field in same)
        return ReadinessItem(
            "distinct_references",
            title,
            True,
            "fail",
            f"production and integration reference the same {fields}",
            REMEDIATION["distinct_references"],
        )
    return ReadinessItem(
        "distinct_references",
        title,
        True,
        "pass",
        "`client_id` and `client_secret` references differ",
    )


def _distinct_values(
    ctx: CheckContext,
    name: str,
    references: ReadinessItem,
    prod_entry: Entry | None,
    integration: Any,
    evidence: Evidence,
) -> ReadinessItem:
    title = "Production and integration credentials have different values"
    item_id = "distinct_values"
    if prod_entry is None:
        return ReadinessItem(
            item_id, title, True, "not_checked", "not checked: no complete production entry"
        )
    if not isinstance(integration, dict):
        return ReadinessItem(item_id, title, True, "pass", "no integration entry to mix up with")
    if references.state == "fail":
        return ReadinessItem(
            item_id, title, True, "not_checked", "not compared: the references are already the same"
        )
    same = [
        result
        for result in evidence.get("credentials", name, "production")
        if result.reason == "same_reference_both_environments" and result.status.is_failure
    ]
    flags = ctx.services.get(DISTINCT_VALUES_SERVICE)
    flag: object = None
    if isinstance(flags, Mapping):
        flag = flags.get((ctx.manifest.path, name), flags.get(name))
    if same or flag is False:
        return ReadinessItem(
            item_id,
            title,
            True,
            "fail",
            "the production references resolve to the same values as the integration ones"
            " (integration credentials shipped to production?)",
            REMEDIATION["distinct_values"],
        )
    if flag is True:
        return ReadinessItem(
            item_id,
            title,
            True,
            "pass",
            "the resolved production client ID and secret differ from the integration ones",
        )
    if ctx.options.offline:
        return ReadinessItem(
            item_id,
            title,
            True,
            "not_checked",
            "not checked: this run is offline (values are compared online)",
        )
    why = evidence.why_unchecked("credentials", "production")
    if evidence.get("credentials", name, "production"):
        why = "not checked: the credentials check did not report whether the values differ"
    return ReadinessItem(item_id, title, True, "not_checked", why)


def _app_key(ctx: CheckContext, evidence: Evidence) -> ReadinessItem:
    title = "The app key reference resolves"
    offline_problems = evidence.app_key_problems
    if offline_problems or not isinstance(ctx.manifest.app.get("app_key"), str):
        detail = _messages(offline_problems) if offline_problems else "`app.app_key` is missing"
        return ReadinessItem(
            "app_key",
            title,
            True,
            "fail",
            detail,
            _hint(offline_problems, "Set `app.app_key` to a reference."),
        )
    online = [
        result
        for result in evidence.get("credentials", None, None)
        if result.status is not Status.SKIP
        or result.reason not in ("offline", "deselected", "depends_on_failure")
    ]
    if not online:
        return ReadinessItem(
            "app_key", title, True, "not_checked", evidence.why_unchecked("credentials")
        )
    item = _from_check("app_key", title, online, evidence, "credentials", None)
    return item


def _production_token(results: Sequence[Result], evidence: Evidence) -> ReadinessItem:
    title = "The production token endpoint issues a token"
    scope_results = [r for r in results if r.reason == "missing_scopes"]
    others = [r for r in results if r.reason != "missing_scopes"]
    if scope_results and not others:
        return ReadinessItem(
            "production_token",
            title,
            True,
            "pass",
            "a token was issued (its scopes are judged separately)",
        )
    remediation = None
    if any(r.reason == "invalid_client" and r.status is Status.FAIL for r in others):
        remediation = REMEDIATION["production_token.invalid_client"]
    return _from_check(
        "production_token", title, others, evidence, "token", "production", remediation
    )


def _production_probe(results: Sequence[Result], evidence: Evidence) -> ReadinessItem:
    title = "The API probe passes in production"
    forbidden = [r for r in results if r.status is Status.FAIL and r.reason == "forbidden"]
    if forbidden:
        return ReadinessItem(
            "production_probe",
            title,
            True,
            "fail",
            "403 with a working token: " + _messages(forbidden),
            REMEDIATION["production_probe.forbidden"],
        )
    return _from_check("production_probe", title, results, evidence, "api", "production")


def _scopes(
    ctx: CheckContext, token_results: Sequence[Result], evidence: Evidence
) -> ReadinessItem:
    title = "The token grants the required scopes"
    required = ctx.manifest.app.get("required_scopes")
    missing = [r for r in token_results if r.reason == "missing_scopes"]
    if missing:
        return ReadinessItem(
            "scopes", title, True, "fail", _messages(missing), REMEDIATION["scopes"]
        )
    if not isinstance(required, list) or not required:
        return ReadinessItem(
            "scopes",
            title,
            False,
            "not_checked",
            "`app.required_scopes` is not set: nothing to compare",
            REMEDIATION["scopes.undeclared"],
        )
    passed = [r for r in token_results if r.status in (Status.PASS, Status.WARN)]
    if not token_results:
        return ReadinessItem(
            "scopes", title, False, "not_checked", evidence.why_unchecked("token", "production")
        )
    if not passed:
        return ReadinessItem(
            "scopes", title, False, "not_checked", "not checked: no token was issued"
        )
    stated = [r for r in passed if r.facts.get("scopes_stated") == "yes"]
    if stated:
        return ReadinessItem("scopes", title, True, "pass", _messages(stated))
    return ReadinessItem(
        "scopes",
        title,
        False,
        "not_checked",
        "the token does not state its scopes; the API probe is the evidence",
    )


def _integration_verified(
    name: str, entry: Entry | None, integration: Any, evidence: Evidence
) -> ReadinessItem:
    title = "Integration was verified (token and probe pass)"
    item_id = "integration_verified"
    if not isinstance(integration, dict):
        return ReadinessItem(
            item_id,
            title,
            False,
            "not_checked",
            "no integration entry",
            REMEDIATION["integration_missing"],
        )
    if entry is None:
        return ReadinessItem(
            item_id, title, False, "not_checked", "not checked: the integration entry is incomplete"
        )
    token = evidence.get("token", name, "integration")
    probe = evidence.get("api", name, "integration")
    parts = [
        (check, results, _judge(results)) for check, results in (("token", token), ("api", probe))
    ]
    failed = [r for _, results, (state, deciding) in parts if state == "fail" for r in deciding]
    if failed:
        return ReadinessItem(
            item_id, title, False, "fail", _messages(failed), REMEDIATION["integration_verified"]
        )
    if all(results and state == "pass" for _, results, (state, _d) in parts):
        return ReadinessItem(
            item_id, title, False, "pass", "the integration token and API probe pass"
        )
    if evidence.options.offline and not token and not probe:
        return ReadinessItem(
            item_id,
            title,
            False,
            "not_checked",
            "not checked: this run is offline (the token and api checks need the network)",
        )
    unchecked = [
        evidence.why_unchecked(check, "integration") if not results else _messages(deciding)
        for check, results, (state, deciding) in parts
        if state != "pass" or not results
    ]
    return ReadinessItem(item_id, title, False, "not_checked", "; ".join(unchecked))


def _attestations(
    raw: Any, today: datetime.date
) -> tuple[tuple[Attestation, ...], list[ReadinessItem]]:
    given = raw if isinstance(raw, dict) else {}
    attestations: list[Attestation] = []
    items: list[ReadinessItem] = []
    for key, title in STANDARD_ATTESTATIONS.items():
        value = given.get(key)
        item_id = f"attestation.{key}"
        if value is None:
            items.append(
                ReadinessItem(
                    item_id,
                    title,
                    True,
                    "fail",
                    f"no `go_live.attestations.{key}` recorded",
                    REMEDIATION[item_id],
                )
            )
            continue
        attestation, item = _attestation(item_id, title, True, key, value, today)
        if attestation is not None:
            attestations.append(attestation)
        items.append(item)
    for key, value in given.items():
        if (
            key in STANDARD_ATTESTATIONS
            or not isinstance(key, str)
            or not ATTESTATION_KEY.fullmatch(key)
        ):
            continue
        attestation, item = _attestation(
            f"attestation.{key}", f"Attestation: {key}", False, key, value, today
        )
        if attestation is not None:
            attestations.append(attestation)
        items.append(item)
    return tuple(attestations), items


def _attestation(
    item_id: str, title: str, blocking: bool, key: str, value: Any, today: datetime.date
) -> tuple[Attestation | None, ReadinessItem]:
    remediation = REMEDIATION.get(item_id, REMEDIATION["attestation.other"])
    if not isinstance(value, dict):
        return None, ReadinessItem(
            item_id, title, blocking, "fail", "not a `{by, on}` mapping", remediation
        )
    by, on, note = value.get("by"), value.get("on"), value.get("note")
    attestation = Attestation(
        key=key,
        by=by if isinstance(by, str) else None,
        on=on if isinstance(on, str) else None,
        note=note if isinstance(note, str) and note.strip() else None,
    )
    problems = []
    if not attestation.by or not attestation.by.strip():
        problems.append("who ('by') is missing")
    when = _date(on)
    if when is None:
        problems.append("when ('on') is missing or not a date")
    elif when > today:
        problems.append(f"it is dated {on}, in the future")
    if problems:
        return attestation, ReadinessItem(
            item_id, title, blocking, "fail", "; ".join(problems), remediation
        )
    detail = f"by {attestation.by} on {attestation.on}"
    if attestation.note:
        detail += f" — {attestation.note}"
    return attestation, ReadinessItem(item_id, title, blocking, "pass", detail)


def _target_date(
    text: Any, target: datetime.date | None, days_left: int | None, verdict: str
) -> ReadinessItem:
    title = "Target date"
    if text is None:
        return ReadinessItem(
            "target_date",
            title,
            False,
            "not_checked",
            "no `go_live.target_date` set",
            REMEDIATION["target_date.missing"],
        )
    if target is None or days_left is None:
        return ReadinessItem(
            "target_date",
            title,
            False,
            "fail",
            "`go_live.target_date` is not a valid date (YYYY-MM-DD)",
            REMEDIATION["target_date.missing"],
        )
    if days_left > 0:
        return ReadinessItem(
            "target_date",
            title,
            False,
            "pass",
            f"{target.isoformat()}: {_count(days_left, 'day')} left",
        )
    if days_left == 0:
        return ReadinessItem("target_date", title, False, "pass", f"{target.isoformat()}: today")
    ago = _count(-days_left, "day")
    if verdict == "ready":
        return ReadinessItem(
            "target_date", title, False, "pass", f"{target.isoformat()}: {ago} ago"
        )
    return ReadinessItem(
        "target_date",
        title,
        False,
        "fail",
        f"{target.isoformat()}: overdue by {ago}",
        REMEDIATION["target_date.overdue"],
    )


def _secret_age(production: Any, entry: Entry | None, today: datetime.date) -> ReadinessItem:
    title = "Production client secret age"
    if not isinstance(production, dict):
        return ReadinessItem("secret_age", title, False, "not_checked", "no production entry")
    text = production.get("secret_created_on")
    if text is None:
        return ReadinessItem(
            "secret_age",
            title,
            False,
            "not_checked",
            "no `secret_created_on` recorded",
            REMEDIATION["secret_age.missing"],
        )
    created = _date(text)
    if created is None:
        return ReadinessItem(
            "secret_age",
            title,
            False,
            "fail",
            "`secret_created_on` is not a valid date (YYYY-MM-DD)",
            REMEDIATION["secret_age.missing"],
        )
    age = (today - created).days
    if age < 0:
        return ReadinessItem(
            "secret_age",
            title,
            False,
            "fail",
            f"`secret_created_on` {created.isoformat()} is in the future",
            REMEDIATION["secret_age.missing"],
        )
    if age > SECRET_MAX_AGE_DAYS:
        return ReadinessItem(
            "secret_age",
            title,
            False,
            "fail",
            f"created {created.isoformat()}: {age} days old (policy: at most"
            f" {SECRET_MAX_AGE_DAYS})",
            REMEDIATION["secret_age.old"],
        )
    return ReadinessItem(
        "secret_age",
        title,
        False,
        "pass",
        f"created {created.isoformat()}: {_count(age, 'day')} old",
    )

"""The readiness items the ``golive`` check can report: their ids, titles and remediations.

Every item is made through an :class:`ItemSpec` — one row of the table below,
or :func:`blocking_item` / :func:`advisory_item` for an attestation — whose methods
:meth:`~ItemSpec.passes`, :meth:`~ItemSpec.fails` and
:meth:`~ItemSpec.not_checked` fix the state; whether the item is blocking is
part of the spec, never an argument at a call site.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from stcheck.readiness import ReadinessItem, State
from stcheck.record import record, replace


@record(frozen=True)
class ItemSpec:
    """What one readiness item is: a stable id, a title, blocking or advisory."""

    id: str
    title: str
    blocking: bool

    def passes(self, found: str) -> ReadinessItem:
        """The item passes; ``found`` says what was found."""
        return _item(self.id, self.title, self.blocking, "pass", found, None)

    def fails(self, found: str, todo: str | None = None) -> ReadinessItem:
        """The item fails; ``todo`` is the remediation (None: nothing to say)."""
        return _item(self.id, self.title, self.blocking, "fail", found, todo)

    def not_checked(self, why: str, todo: str | None = None) -> ReadinessItem:
        """The item could not be checked; ``why`` says why."""
        return _item(self.id, self.title, self.blocking, "not_checked", why, todo)

    @property
    def as_advisory(self) -> ItemSpec:
        """The same item, advisory (the scopes item when the token states no scopes)."""
        return _advisory(self)


@functools.lru_cache(maxsize=4096)
def _item(
    item_id: str, title: str, blocking: bool, state: State, detail: str, todo: str | None
) -> ReadinessItem:
    """One item; items are immutable, so the many tenants whose item reads the same (offline,
    most "not checked" ones) share one object instead of building 16 per tenant."""
    return ReadinessItem(item_id, title, blocking, state, detail, todo)


@functools.lru_cache(maxsize=64)
def _advisory(spec: ItemSpec) -> ItemSpec:
    return replace(spec, blocking=False)


def blocking_item(item_id: str, title: str) -> ItemSpec:
    """A blocking item: the verdict is *ready* only when it passes."""
    return ItemSpec(item_id, title, blocking=True)


def advisory_item(item_id: str, title: str) -> ItemSpec:
    """An advisory item: shown with its remediation, never changes the verdict."""
    return ItemSpec(item_id, title, blocking=False)


MANIFEST_VALID = blocking_item(
    "manifest_valid", "The manifest's settings for this tenant are valid"
)
PRODUCTION_ENTRY = blocking_item("production_entry", "A production entry exists")
DISTINCT_REFERENCES = blocking_item(
    "distinct_references", "Production and integration reference different client credentials"
)
DISTINCT_VALUES = blocking_item(
    "distinct_values", "Production and integration credentials have different values"
)
APP_KEY = blocking_item("app_key", "The app key reference resolves")
PRODUCTION_CREDENTIALS = blocking_item(
    "production_credentials", "The production client ID and secret resolve"
)
PRODUCTION_TOKEN = blocking_item("production_token", "The production token endpoint issues a token")
PRODUCTION_PROBE = blocking_item("production_probe", "The API probe passes in production")
SCOPES = blocking_item("scopes", "The token grants the required scopes")
"""Blocking when the production token states its scopes; :attr:`~ItemSpec.as_advisory` else."""
INTEGRATION_VERIFIED = advisory_item(
    "integration_verified", "Integration was verified (token and probe pass)"
)
TARGET_DATE = advisory_item("target_date", "Target date")
SECRET_AGE = advisory_item("secret_age", "Production client secret age")

NO_PRODUCTION = "not checked: no complete production entry"

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


def count(number: int, noun: str) -> str:
    """``1 day``, ``3 days``."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def parse_date(value: Any) -> datetime.date | None:
    """A ``YYYY-MM-DD`` string as a date; None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None

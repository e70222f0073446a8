"""Waivers: the manifest's ``waivers:`` list, judged, and applied to one manifest's results.

A waiver excuses the ``fail``, ``error`` and ``warn`` results of one check —
optionally of one tenant, one environment, one reason word — until a date,
with who decided it and why. It is written in the manifest, so it is reviewed
in the same pull request as the tenants it excuses (docs/waivers.md)::

    manifest's waivers → parse (well-formed ones) → judge (known check, tenant,
    environment, reason; not expired) → apply to the manifest's results →
    waiver_unused for the ones that excused nothing → readiness items waived

A waived result keeps its status and reason and gains
:class:`~stcheck.model.Waiver`; it does not count for the exit status or the
summary's failures. The runner calls :func:`apply_waivers` once per manifest,
after its checks and before its data is released.

What no waiver excuses (a pull request must not be able to waive "you
committed a secret" or "the gate could not tell"): the ``schema`` and
``references`` checks — the manifest's integrity and literal secrets in it —
and the findings in :data:`UNWAIVABLE_REASONS`, whichever check reports them.
``golive`` is refused too: its verdict is waived through the results it reads.
A waiver for them is a ``fail`` (``waiver_not_allowed``) and is not applied.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from stcheck.manifest import Manifest
from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.model import ENVIRONMENTS
from stcheck.model import Location, Result, Status, Waiver
from stcheck.plan import WAIVERS_CHECK
from stcheck.readiness import ReadinessItem, TenantReadiness, with_waivers
from stcheck.reasons import REASONS, hint_for
from stcheck.record import record, replace
from stcheck.text import clipped, shown

__all__ = [
    "MAX_DAYS_AHEAD",
    "REFUSED_CHECKS",
    "UNWAIVABLE_REASONS",
    "WAIVERS_CHECK",
    "Rule",
    "apply_waivers",
    "today_of",
]


REFUSED_CHECKS: Mapping[str, str] = {
    "schema": "the manifest must match manifest v1 for any check (or waiver) to be trusted",
    "references": "a secret written into the manifest must be removed and rotated, not waived",
    "golive": "its verdict follows from the other checks' results: waive the result that blocks"
    " the tenant instead (it is then ready with waivers)",
}
"""Checks no waiver may name, and why."""

UNWAIVABLE_REASONS = frozenset(
    {
        "leaked_secret",
        "not_a_reference",
        "host_in_manifest",
        "reference_not_allowed",
        "redirect_blocked",
        "check_crashed",
        "deadline_exceeded",
        "nothing_checked",
        "plugin_error",
    }
)
"""Findings no waiver excuses whichever check reports them: a literal secret, a host or a
confinement breach in the manifest, a server redirecting credentials, a crashed check, and a
run that could not reach a verdict."""

WAIVABLE_STATUSES = frozenset({Status.FAIL, Status.ERROR, Status.WARN})
MAX_DAYS_AHEAD = 366
"""A waiver's ``until`` further ahead than this is a ``warn`` (``waiver_too_long``)."""
SHOWN_TEXT = 200
"""``because`` is shown at most this long in messages (the JSON ``waiver`` holds 500)."""


def today_of(options: Any) -> datetime.date:
    """The date waivers expire against: ``--today`` (as readiness uses it), else today in UTC."""
    text = getattr(options, "today", None) or getattr(
        getattr(options, "extra", None), "today", None
    )
    if isinstance(text, str) and text:
        return datetime.date.fromisoformat(text)  # --today's parser checked it
    return datetime.datetime.now(datetime.timezone.utc).date()


@record(frozen=True)
class Rule:
    """One well-formed waiver as written: what it matches, and the :class:`Waiver` it gives."""

    index: int
    check: str
    tenant: str | None
    environment: str | None
    reason: str | None
    because: str
    by: str
    until: str
    location: Location

    @property
    def pointer(self) -> str:
        return jsonpointer.join(("waivers", self.index))

    @property
    def waiver(self) -> Waiver:
        return Waiver(self.because, self.by, self.until, self.location)

    @property
    def label(self) -> str:
        scope = [f"check {shown(self.check)}"]
        if self.tenant is not None:
            scope.append(f"tenant {shown(self.tenant)}")
        if self.environment is not None:
            scope.append(clipped(self.environment))
        if self.reason is not None:
            scope.append(f"reason {shown(self.reason)}")
        return f"waiver {self.index + 1} ({', '.join(scope)})"

    def matches(self, result: Result) -> bool:
        """True when this waiver excuses ``result``."""
        return (
            result.check == self.check
            and result.status in WAIVABLE_STATUSES
            and result.waiver is None
            and result.reason not in UNWAIVABLE_REASONS
            and result.check not in REFUSED_CHECKS
            and (self.tenant is None or result.tenant == self.tenant)
            and (self.environment is None or result.environment == self.environment)
            and (self.reason is None or result.reason == self.reason)
        )

    def _covers(self, result: Result) -> bool:
        """``result`` is of this waiver's check and could concern its tenant and environment."""
        return (
            result.check == self.check
            and (result.tenant is None or self.tenant is None or result.tenant == self.tenant)
            and (
                result.environment is None
                or self.environment is None
                or result.environment == self.environment
            )
        )

    def stale_in(self, results: Sequence[Result]) -> bool:
        """Its check reached verdicts in ``results`` and skipped nothing this waiver covers, so
        a waiver that matched none of them excuses nothing any more."""
        ran = any(r.check == self.check and r.status is not Status.SKIP for r in results)
        skipped = any(r.status is Status.SKIP and self._covers(r) for r in results)
        return ran and not skipped


_FIELDS = ("check", "tenant", "environment", "reason", "because", "by", "until")


def parse(manifest: Manifest) -> list[Rule]:
    """The manifest's well-formed waivers; a malformed one is the ``schema`` check's to report
    (and is never applied: a gate fails closed)."""
    data = manifest.data
    written = data.get("waivers") if isinstance(data, dict) else None
    if not isinstance(written, list):
        return []
    rules = []
    for index, item in enumerate(written):
        if not isinstance(item, dict) or not set(item) <= set(_FIELDS):
            continue
        check, because, by, until = (item.get(k) for k in ("check", "because", "by", "until"))
        tenant, environment, reason = (item.get(k) for k in ("tenant", "environment", "reason"))
        if not (
            isinstance(check, str)
            and isinstance(because, str)
            and isinstance(by, str)
            and isinstance(until, str)
        ):
            continue
        if not all(v is None or isinstance(v, str) for v in (tenant, environment, reason)):
            continue
        if environment is not None and environment not in ENVIRONMENTS:
            continue
        location = manifest.locate(jsonpointer.join(("waivers", index)))
        rules.append(Rule(index, check, tenant, environment, reason, because, by, until, location))
    return rules


@record(frozen=True)
class Scope:
    """What a waiver may name in one run: the check ids, and the manifest's tenants."""

    checks: Collection[str]
    tenants: Mapping[str, tuple[str, ...]]
    """Tenant name → the environments it has."""
    today: datetime.date

    @classmethod
    def of(
        cls,
        manifest: Manifest,
        checks: Collection[str],
        today: datetime.date,
        included: Mapping[str, tuple[str, ...]] | None = None,
    ) -> Scope:
        tenants = dict(included or {})
        for name, envs in tenant_environments(manifest).items():
            tenants[name] = tenants.get(name, ()) + envs
        return cls(checks, tenants, today)


def tenant_environments(manifest: Manifest) -> dict[str, tuple[str, ...]]:
    """The manifest's tenant names, each with the environments it has."""
    tenants: dict[str, tuple[str, ...]] = {}
    for _, tenant in manifest.tenants():
        name, environments = tenant.get("name"), tenant.get("environments")
        if isinstance(name, str):
            envs = tuple(environments) if isinstance(environments, dict) else ()
            tenants[name] = tenants.get(name, ()) + tuple(str(e) for e in envs)
    return tenants


def _did_you_mean(value: str, known: Iterable[str]) -> str:
    import difflib  # only on this rare path

    close = difflib.get_close_matches(value, list(known), n=1) if len(value) <= 100 else []
    return f" (did you mean {shown(close[0])}?)" if close else ""


def _problem(rule: Rule, scope: Scope, manifest: Manifest) -> Result | None:
    """Why ``rule`` is not applied (a fail), or None when it may be."""

    def fail(reason: str, message: str, key: str | None = None, hint: str | None = None) -> Result:
        at = manifest.locate(rule.pointer + f"/{key}") if key else rule.location
        return Result(
            check=WAIVERS_CHECK,
            status=Status.FAIL,
            message=f"{rule.label} is not applied: {message}",
            reason=reason,
            tenant=rule.tenant if rule.tenant in scope.tenants else None,
            location=at,
            hint=hint or hint_for(reason),
        )

    if rule.check in REFUSED_CHECKS:
        why = REFUSED_CHECKS[rule.check]
        return fail(
            "waiver_not_allowed", f"the {rule.check} check cannot be waived: {why}", "check"
        )
    if rule.check not in scope.checks:
        known = ", ".join(sorted(scope.checks))
        return fail(
            "waiver_invalid",
            f"no loaded plugin provides the check {shown(rule.check)}"
            f"{_did_you_mean(rule.check, scope.checks)}",
            "check",
            f"Name a check id this run knows (`stcheck plugins`): {known}.",
        )
    if rule.reason is not None and rule.reason in UNWAIVABLE_REASONS:
        return fail(
            "waiver_not_allowed", f"{shown(rule.reason)} findings cannot be waived", "reason"
        )
    if rule.reason is not None and rule.reason not in REASONS and "." not in rule.reason:
        return fail(
            "waiver_invalid",
            f"{shown(rule.reason)} is not a reason word{_did_you_mean(rule.reason, REASONS)}",
            "reason",
            "Use a word from docs/reference.md (Reasons), as the result to waive shows it.",
        )
    if rule.tenant is not None and rule.tenant not in scope.tenants:
        return fail(
            "waiver_invalid",
            f"the manifest has no tenant {shown(rule.tenant)}"
            f"{_did_you_mean(rule.tenant, scope.tenants)}",
            "tenant",
        )
    if (
        rule.tenant is not None
        and rule.environment is not None
        and rule.environment not in scope.tenants[rule.tenant]
    ):
        return fail(
            "waiver_invalid",
            f"tenant {shown(rule.tenant)} has no {clipped(rule.environment)} entry",
            "environment",
        )
    for key in ("because", "by"):
        if not getattr(rule, key).strip():
            return fail("waiver_invalid", f"`{key}` is blank: say why and who decided", key)
    if _date(rule.until) is None:
        return fail("waiver_invalid", "`until` is not a real date YYYY-MM-DD", "until")
    return None


def _date(text: str) -> datetime.date | None:
    """``YYYY-MM-DD`` only (Python 3.11's fromisoformat also takes week dates like 2026-W53-1,
    which the schema refuses: a waiver the schema calls malformed is never applied)."""
    if len(text) != 10 or not (text[:4] + text[5:7] + text[8:]).isdigit():
        return None
    if text[4] != "-" or text[7] != "-":
        return None
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        return None


def _shown_because(rule: Rule) -> str:
    return shown(rule.because, SHOWN_TEXT)


def _about_until(
    rule: Rule, manifest: Manifest, status: Status, reason: str, message: str
) -> Result:
    """A result about ``rule``'s ``until``, located at it."""
    return Result(
        check=WAIVERS_CHECK,
        status=status,
        message=message,
        reason=reason,
        tenant=rule.tenant,
        environment=rule.environment,
        location=manifest.locate(rule.pointer + "/until"),
        hint=hint_for(reason),
    )


def judge(
    rules: Sequence[Rule], scope: Scope, manifest: Manifest
) -> tuple[list[Rule], list[Result]]:
    """(the waivers that apply, a result for each one that does not or is too long)."""
    usable: list[Rule] = []
    found: list[Result] = []
    for rule in rules:
        problem = _problem(rule, scope, manifest)
        if problem is not None:
            found.append(problem)
            continue
        until = _date(rule.until)
        assert until is not None  # _problem checked it
        if until < scope.today:
            found.append(
                _about_until(
                    rule,
                    manifest,
                    Status.FAIL,
                    "waiver_expired",
                    f"{rule.label} expired on {rule.until} (by {shown(rule.by)}:"
                    f" {_shown_because(rule)}); the results it excused count again",
                )
            )
            continue
        usable.append(rule)
        if (until - scope.today).days > MAX_DAYS_AHEAD:
            found.append(
                _about_until(
                    rule,
                    manifest,
                    Status.WARN,
                    "waiver_too_long",
                    f"{rule.label} runs until {rule.until}, more than a year ahead;"
                    " waivers are meant to be reviewed again",
                )
            )
    return usable, found


def waive(results: Sequence[Result], rules: Sequence[Rule]) -> tuple[list[Result], set[int]]:
    """``results`` with each one a waiver excuses carrying it (first waiver wins), and the
    indexes of the waivers used."""
    by_check: dict[str, list[Rule]] = {}
    for each in rules:
        by_check.setdefault(each.check, []).append(each)
    used: set[int] = set()
    out: list[Result] = []
    for result in results:
        candidates = by_check.get(result.check, [])
        rule = next((c for c in candidates if c.matches(result)), None)
        if rule is None:
            out.append(result)
            continue
        used.add(rule.index)
        out.append(replace(result, waiver=rule.waiver))
    return out, used


def unused(
    rules: Sequence[Rule],
    used: set[int],
    results: Sequence[Result],
    selected: Callable[[str | None, str | None], bool],
) -> list[Result]:
    """A ``warn`` for each waiver that excused nothing although its check reached a verdict
    within its tenant and environment (``selected``: the run's --tenant/--env filter)."""
    found = []
    checks = {rule.check for rule in rules if rule.index not in used}
    of_check: dict[str, list[Result]] = {check: [] for check in checks}
    for result in results:
        if result.check in of_check:
            of_check[result.check].append(result)
    for rule in rules:
        if rule.index in used or not selected(rule.tenant, rule.environment):
            continue
        if not rule.stale_in(of_check[rule.check]):
            continue  # its check did not run there (deselected, offline, skipped): no news
        found.append(
            Result(
                check=WAIVERS_CHECK,
                status=Status.WARN,
                message=f"{rule.label} excused nothing in this run: its check ran and found"
                " nothing it matches",
                reason="waiver_unused",
                tenant=rule.tenant,
                environment=rule.environment,
                location=rule.location,
                hint=hint_for("waiver_unused"),
            )
        )
    return found


ITEM_SOURCES: Mapping[str, tuple[tuple[str, ...], str | None]] = {
    "production_credentials": (("credentials",), "production"),
    "distinct_values": (("credentials",), "production"),
    "production_token": (("token",), "production"),
    "scopes": (("token",), "production"),
    "production_probe": (("api",), "production"),
    "app_key": (("credentials",), None),
    "manifest_valid": (("unique",), None),
}
"""Which checks' results (for the tenant, in which environment) decide a readiness item:
an item that fails only because of waived results is waived. Items not listed (the
production entry, the attestations) are facts of the manifest: no waiver excuses them."""


ONLINE_CHECKS = frozenset({"credentials", "dns", "token", "api", "golive", WAIVERS_CHECK})
"""Checks whose failures are not offline manifest problems (``manifest_valid`` ignores them)."""


def _pointer(result: Result) -> str:
    return result.location.pointer if result.location is not None else ""


def _item_waiver(item: ReadinessItem, failing: Sequence[Result]) -> Waiver | None:
    """The waiver of a failing blocking item when every result that can fail it is waived.

    ``failing``: the failing results about the item's tenant or about no tenant.
    """
    source = ITEM_SOURCES.get(item.id)
    if source is None or not item.blocking or item.state != "fail":
        return None
    checks, environment = source
    if item.id == "manifest_valid":  # every offline problem of the tenant: one unwaived fails it
        concerned = [r for r in failing if r.check not in ONLINE_CHECKS]
    else:
        concerned = [
            r
            for r in failing
            if (r.check in checks and r.environment == environment)
            or (item.id == "app_key" and _pointer(r).startswith("/app/app_key"))
        ]
    if not concerned or any(r.waiver is None for r in concerned):
        return None
    return min((r.waiver for r in concerned if r.waiver is not None), key=lambda w: w.until)


def waive_readiness(
    tenants: Sequence[TenantReadiness], results: Sequence[Result]
) -> list[TenantReadiness]:
    """Each tenant's failing blocking items that only waived results fail, waived; the verdict
    decided again (``ready_with_waivers`` when those were its only blockers)."""
    if not any(r.waiver is not None for r in results):
        return list(tenants)
    failing: dict[str | None, list[Result]] = {}
    for result in results:
        if result.status.is_failure:
            failing.setdefault(result.tenant, []).append(result)
    everyone = failing.get(None, [])
    out = []
    for tenant in tenants:
        concerning = failing.get(tenant.tenant, []) + everyone
        items = tuple(
            replace(item, waiver=waiver)
            if (waiver := _item_waiver(item, concerning)) is not None
            else item
            for item in tenant.items
        )
        out.append(with_waivers(tenant, items) if items != tenant.items else tenant)
    return out


def _golive_results(results: Sequence[Result], tenants: Sequence[TenantReadiness]) -> list[Result]:
    """The ``golive`` results of tenants with waived blockers, saying so; the result of a tenant
    now ready with waivers carries the waiver that expires first (so it is counted as waived)."""
    touched = {t.tenant: t for t in tenants if t.waived}
    out = []
    for result in results:
        tenant = touched.get(result.tenant or "") if result.check == "golive" else None
        if tenant is None or result.status is not Status.FAIL:
            out.append(result)
            continue
        waived = "; ".join(item.title for item in tenant.waived)
        if tenant.verdict != "ready_with_waivers":
            blockers = "; ".join(item.title for item in tenant.blockers)
            message = (
                f"not ready for production: {len(tenant.blockers)} of {len(tenant.blocking)}"
                f" blocking items fail: {blockers} (and {len(tenant.waived)} waived: {waived})"
            )
            out.append(replace(result, message=message))
            continue
        waivers = [item.waiver for item in tenant.waived if item.waiver is not None]
        out.append(
            replace(
                result,
                message=f"ready for production with waivers: {len(tenant.waived)} failing"
                f" blocking items waived: {waived}",
                waiver=min(waivers, key=lambda w: w.until),
            )
        )
    return out


def apply_waivers(
    manifest: Manifest,
    results: Sequence[Result],
    readiness: Sequence[TenantReadiness],
    checks: Collection[str],
    options: Any,
    included: Mapping[str, tuple[str, ...]] | None = None,
) -> tuple[list[Result], list[TenantReadiness]]:
    """One manifest's results and readiness with its waivers applied, and the results about
    the waivers (invalid, refused, expired, unused, too long) appended.

    With ``include:``, ``results`` and ``readiness`` are those of the manifest and of every
    tenant file it includes, and ``included`` names those files' tenants (name → environments).
    """
    if not manifest.loaded:
        return list(results), list(readiness)
    rules = parse(manifest)
    if not rules:
        return list(results), list(readiness)
    scope = Scope.of(manifest, checks, today_of(options), included)
    usable, about = judge(rules, scope, manifest)
    waived, used = waive(results, usable)
    tenants = waive_readiness(readiness, waived)
    waived = _golive_results(waived, tenants)

    def selected(tenant: str | None, environment: str | None) -> bool:
        chosen_tenants = getattr(options, "tenants", ())
        chosen_envs = getattr(options, "environments", ())
        return not (
            (chosen_tenants and tenant is not None and tenant not in chosen_tenants)
            or (chosen_envs and environment is not None and environment not in chosen_envs)
        )

    return waived + about + unused(usable, used, results, selected), tenants

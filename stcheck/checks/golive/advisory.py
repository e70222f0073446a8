"""The advisory go-live rules: shown with a remediation, never changing the verdict."""

from __future__ import annotations

from collections.abc import Sequence

from stcheck.checks.golive.evidence import Subject, judge, messages
from stcheck.checks.golive.items import (
    INTEGRATION_VERIFIED,
    REMEDIATION,
    SECRET_AGE,
    TARGET_DATE,
    count,
    parse_date,
)
from stcheck.model import Result
from stcheck.readiness import SECRET_MAX_AGE_DAYS, ReadinessItem, State, Verdict
from stcheck.record import record


@record(frozen=True)
class _Judged:
    """One check's results for the integration entry, and what they decide."""

    check: str
    results: Sequence[Result]
    state: State
    deciding: Sequence[Result]

    @property
    def passed(self) -> bool:
        return bool(self.results) and self.state == "pass"


def integration_verified(subject: Subject) -> ReadinessItem:
    if not isinstance(subject.integration, dict):
        return INTEGRATION_VERIFIED.not_checked(
            "no integration entry", REMEDIATION["integration_missing"]
        )
    if not subject.int_complete:
        return INTEGRATION_VERIFIED.not_checked("not checked: the integration entry is incomplete")
    found = [(check, subject.results(check, "integration")) for check in ("token", "api")]
    if not any(results for _, results in found):  # offline, say: the same for every tenant
        return subject.evidence.once("integration_unchecked", lambda: _unchecked(subject))
    parts = [_Judged(check, results, *judge(results)) for check, results in found]
    failed = [result for part in parts if part.state == "fail" for result in part.deciding]
    if failed:
        return INTEGRATION_VERIFIED.fails(messages(failed), REMEDIATION["integration_verified"])
    if all(part.passed for part in parts):
        return INTEGRATION_VERIFIED.passes("the integration token and API probe pass")
    return INTEGRATION_VERIFIED.not_checked(_why_integration_unchecked(subject, parts))


def _unchecked(subject: Subject) -> ReadinessItem:
    """The item when neither the token nor the api check gave a result for the entry."""
    parts = [_Judged(check, (), *judge(())) for check in ("token", "api")]
    return INTEGRATION_VERIFIED.not_checked(_why_integration_unchecked(subject, parts))


def _why_integration_unchecked(subject: Subject, parts: Sequence[_Judged]) -> str:
    evidence = subject.evidence
    if evidence.options.offline and not any(part.results for part in parts):
        return "not checked: this run is offline (the token and api checks need the network)"
    return "; ".join(
        messages(part.deciding)
        if part.results
        else evidence.why_unchecked(part.check, "integration")
        for part in parts
        if not part.passed
    )


def target_date(subject: Subject, verdict: Verdict) -> ReadinessItem:
    """Days left to ``go_live.target_date``; overdue is *attention* unless the tenant is ready."""
    text = subject.go_live.get("target_date")
    if text is None:
        return TARGET_DATE.not_checked(
            "no `go_live.target_date` set", REMEDIATION["target_date.missing"]
        )
    target = parse_date(text)
    if target is None:
        return TARGET_DATE.fails(
            "`go_live.target_date` is not a valid date (YYYY-MM-DD)",
            REMEDIATION["target_date.missing"],
        )
    days_left = (target - subject.today).days
    if days_left > 0:
        return TARGET_DATE.passes(f"{target.isoformat()}: {count(days_left, 'day')} left")
    if days_left == 0:
        return TARGET_DATE.passes(f"{target.isoformat()}: today")
    ago = count(-days_left, "day")
    if verdict in ("ready", "not_planned"):
        return TARGET_DATE.passes(f"{target.isoformat()}: {ago} ago")
    return TARGET_DATE.fails(
        f"{target.isoformat()}: overdue by {ago}", REMEDIATION["target_date.overdue"]
    )


def secret_age(subject: Subject) -> ReadinessItem:
    """The production secret's age from ``secret_created_on``: *attention* when too old."""
    if not isinstance(subject.production, dict):
        return SECRET_AGE.not_checked("no production entry")
    text = subject.production.get("secret_created_on")
    if text is None:
        return SECRET_AGE.not_checked(
            "no `secret_created_on` recorded", REMEDIATION["secret_age.missing"]
        )
    created = parse_date(text)
    if created is None:
        return SECRET_AGE.fails(
            "`secret_created_on` is not a valid date (YYYY-MM-DD)",
            REMEDIATION["secret_age.missing"],
        )
    age = (subject.today - created).days
    if age < 0:
        return SECRET_AGE.fails(
            f"`secret_created_on` {created.isoformat()} is in the future",
            REMEDIATION["secret_age.missing"],
        )
    if age > SECRET_MAX_AGE_DAYS:
        return SECRET_AGE.fails(
            f"created {created.isoformat()}: {age} days old (policy: at most"
            f" {SECRET_MAX_AGE_DAYS})",
            REMEDIATION["secret_age.old"],
        )
    return SECRET_AGE.passes(f"created {created.isoformat()}: {count(age, 'day')} old")

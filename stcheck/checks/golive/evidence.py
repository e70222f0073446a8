"""What the go-live rules read: the other checks' results, and one tenant's manifest entry.

The rules decide on a result's ``check``, ``tenant``, ``environment``,
``status``, ``reason``, ``facts`` and location pointer only. A ``message`` is
quoted in an item's detail, never parsed.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, TypeVar

from stcheck.api import CheckContext, RunOptions
from stcheck.checks.golive.items import ItemSpec
from stcheck.manifest import parse_tenant_id
from stcheck.model import Result, Status
from stcheck.readiness import ReadinessItem, State
from stcheck.reasons import hint_for
from stcheck.record import record

T = TypeVar("T")

NETWORK_CHECKS = ("credentials", "dns", "token", "api")
NOT_MANIFEST_CHECKS = frozenset({*NETWORK_CHECKS, "golive", "plugins"})
TENANT_POINTER = re.compile(r"/tenants/([0-9]+)(?:/|$)")
OWN_ITEM_REASONS = frozenset({"same_reference_both_environments"})
"""Offline findings that an item of their own reports (so one problem is one blocker)."""
NOT_RUN_REASONS = ("offline", "deselected", "depends_on_failure")
"""Reasons of the one manifest-level ``skip`` a check gives when it did not run at all."""

MAX_MESSAGES = 3
"""At most this many check messages are quoted in one item's detail."""

INCONCLUSIVE_WARNINGS = frozenset({"probe_scope_not_granted"})
"""``warn`` reasons that mean the check could not tell (not a pass for readiness)."""

JUDGEMENTS: tuple[tuple[Callable[[Result], bool], State], ...] = (
    (lambda result: result.status is Status.FAIL, "fail"),
    (lambda result: result.status is Status.ERROR, "not_checked"),
    (lambda result: result.reason in INCONCLUSIVE_WARNINGS, "not_checked"),
    (lambda result: result.status in (Status.PASS, Status.WARN), "pass"),
)
"""How one check's results for one entry decide an item: the first row any result matches
wins, and the results that match it are the ones quoted."""

NO_RESULTS: tuple[Result, ...] = ()
"""What :meth:`Evidence.get` gives for an entry without results."""

NOT_RUN_WORDS = {"deselected": "deselected", "depends_on_failure": "it could not run"}
UNCHECKED_WORDS = {
    "deselected": "not checked: the {check} check was deselected",
    "depends_on_failure": "not checked: the {check} check could not run",
}


def judge(results: Sequence[Result]) -> tuple[State, list[Result]]:
    """Fold one check's results for one entry into a state and the results that decided it."""
    for matches, state in JUDGEMENTS:
        deciding = [result for result in results if matches(result)]
        if deciding:
            return state, deciding
    return "not_checked", list(results)


def messages(results: Sequence[Result]) -> str:
    """The first :data:`MAX_MESSAGES` messages, joined, and how many more there are."""
    shown = [result.message for result in results[:MAX_MESSAGES]]
    more = len(results) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} more" if more > 0 else text


def where(result: Result) -> str:
    """A result's message, after its line when it has one."""
    location = result.location
    if location is not None and location.line:
        return f"line {location.line}: {result.message}"
    return result.message


def hint(results: Sequence[Result], fallback: str | None = None) -> str | None:
    """The first hint the results (or their reasons) give."""
    for result in results:
        found = result.hint or hint_for(result.reason)
        if found:
            return found
    return fallback


def _could_not_tell(deciding: Sequence[Result]) -> bool:
    first = deciding[0] if deciding else None
    return first is not None and (
        first.status is Status.ERROR or first.reason in INCONCLUSIVE_WARNINGS
    )


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


class Evidence:
    """The results of the other checks, indexed by (check, tenant, environment)."""

    def __init__(self, results: Sequence[Result], options: RunOptions) -> None:
        self.options = options
        self.results = results
        self.by_key: dict[tuple[str, str | None, str | None], list[Result]] = defaultdict(list)
        self.not_run: dict[str, str] = {}
        self.seen: set[str] = set()
        self.ran: set[str] = set()
        """Checks that gave at least one result other than "did not run"."""
        self.named: set[str] = set()
        """The tenants some result of the run names (their evidence is their own)."""
        # Findings of the offline checks (schema, references, unique, plugins' own),
        # indexed by the tenant they concern: (position in results, result).
        self.app_key_problems: list[Result] = []
        self._by_position: dict[int, list[tuple[int, Result]]] = defaultdict(list)
        self._by_name: dict[str, list[tuple[int, Result]]] = defaultdict(list)
        self._manifest_wide: list[tuple[int, Result]] = []
        self._once: dict[Hashable, Any] = {}
        for number, result in enumerate(results):
            self._file_offline_problem(number, result)
            self._file_evidence(result)

    def _file_offline_problem(self, number: int, result: Result) -> None:
        if result.check in NOT_MANIFEST_CHECKS or not result.status.is_failure:
            return
        pointer = result.location.pointer if result.location is not None else ""
        if pointer.startswith("/app/app_key"):
            self.app_key_problems.append(result)
        elif result.reason not in OWN_ITEM_REASONS:
            self._offline_bucket(pointer, result).append((number, result))

    def _offline_bucket(self, pointer: str, result: Result) -> list[tuple[int, Result]]:
        match = TENANT_POINTER.match(pointer)
        if match:
            return self._by_position[int(match.group(1))]
        if result.tenant is not None:
            return self._by_name[result.tenant]
        return self._manifest_wide

    def _file_evidence(self, result: Result) -> None:
        self.seen.add(result.check)
        if (
            result.status is Status.SKIP
            and result.tenant is None
            and result.environment is None
            and result.reason in NOT_RUN_REASONS
        ):
            self.not_run.setdefault(result.check, result.reason or "")
            return
        self.ran.add(result.check)
        if result.tenant is not None:
            self.named.add(result.tenant)
        self.by_key[(result.check, result.tenant, result.environment)].append(result)

    def once(self, key: Hashable, compute: Callable[[], T]) -> T:
        """``compute()``, worked out on the first call with ``key`` only.

        For what depends on the run's results and the manifest's app settings alone,
        never on a tenant: every tenant of a fleet shares it.
        """
        if key in self._once:
            found: T = self._once[key]
            return found
        value = self._once[key] = compute()
        return value

    def get(self, check: str, tenant: str | None, environment: str | None) -> Sequence[Result]:
        return self.by_key.get((check, tenant, environment), NO_RESULTS)

    def quiet(self, position: int, name: str) -> bool:
        """Whether no result of the run concerns the tenant at ``/tenants/{position}`` named
        ``name`` in particular: no check names it and no offline finding points into it.

        Every rule then reads the same run-wide evidence of every such tenant
        (:func:`stcheck.checks.golive.assess.shared_items`, once per entry shape).
        """
        return (
            name not in self.named
            and position not in self._by_position
            and name not in self._by_name
        )

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
            why[self._why_not_run(check)].append(check)
        return "; ".join(
            f"the {_listed(names)} {'check' if len(names) == 1 else 'checks'} did not run"
            f" ({reason})"
            for reason, names in why.items()
        )

    def _why_not_run(self, check: str) -> str:
        reason = self.not_run.get(check)
        if reason in NOT_RUN_WORDS:
            return NOT_RUN_WORDS[reason]
        if check not in self.seen:
            return "no results; see `stcheck plugins`"
        return reason or "no results"

    def why_unchecked(self, check: str, environment: str | None = None) -> str:
        """Why there is no result of ``check`` for an entry."""
        key = ("why_unchecked", check, environment)
        found = self._once.get(key)
        return found if found is not None else self.once(key, lambda: self._why(check, environment))

    def _why(self, check: str, environment: str | None) -> str:
        reason = self.not_run.get(check)
        if reason == "offline" or (
            reason is None and self.options.offline and check in NETWORK_CHECKS
        ):
            return f"not checked: this run is offline (the {check} check needs the network)"
        if reason in UNCHECKED_WORDS:
            return UNCHECKED_WORDS[reason].format(check=check)
        if self._environment_deselected(environment):
            return f"not checked: {environment} was deselected (--env)"
        if check not in self.seen:
            return f"not checked: no {check} results (see `stcheck plugins`)"
        return f"not checked: the {check} check gave no result for this entry"

    def _environment_deselected(self, environment: str | None) -> bool:
        chosen = self.options.environments
        return environment is not None and bool(chosen) and environment not in chosen

    def decide(
        self,
        spec: ItemSpec,
        check: str,
        environment: str | None,
        results: Sequence[Result],
        todo: str | None = None,
    ) -> ReadinessItem:
        """The item ``spec``, decided by ``check``'s ``results`` for one entry.

        ``todo`` is the remediation when it fails (else the deciding results' hint).
        """
        if not results:
            return spec.not_checked(self.why_unchecked(check, environment))
        state, deciding = judge(results)
        detail = messages(deciding)
        if state == "fail":
            return spec.fails(detail, todo or hint(deciding))
        if state == "not_checked":
            prefix = "could not tell: " if _could_not_tell(deciding) else ""
            return spec.not_checked(prefix + detail, hint(deciding))
        return spec.passes(detail)


def complete_tenant_id(environment: Any) -> int | None:
    """The tenant ID of an environment mapping that is a complete entry, else None.

    The test :meth:`stcheck.manifest.Manifest.entries` makes (a tenant ID, a ``client_id``
    and a ``client_secret`` reference), without building the entries: the ``golive`` check
    of a 10,000-tenant offline report would build 20,000 of them for this alone.
    """
    if not isinstance(environment, dict):
        return None
    tenant_id = parse_tenant_id(environment.get("tenant_id"))
    if (
        tenant_id is None
        or not isinstance(environment.get("client_id"), str)
        or not isinstance(environment.get("client_secret"), str)
    ):
        return None
    return tenant_id


@record(frozen=True)
class Subject:
    """One tenant as the rules see it: its manifest entry, the run's evidence, the date."""

    ctx: CheckContext
    evidence: Evidence
    position: int
    tenant: Mapping[str, Any]
    name: str
    production: Any
    """``environments.production`` as written (a mapping, or anything else)."""
    integration: Any
    prod_tenant_id: int | None
    """The production tenant ID when the production entry is complete (an
    :class:`~stcheck.manifest.Entry`: ``tenant_id``, ``client_id`` and ``client_secret``
    well-formed), else None."""
    int_complete: bool
    """Whether the integration entry is complete."""
    go_live: Mapping[str, Any]
    today: datetime.date

    @classmethod
    def of(
        cls,
        ctx: CheckContext,
        position: int,
        tenant: Mapping[str, Any],
        evidence: Evidence,
        today: datetime.date,
    ) -> Subject:
        environments = tenant.get("environments")
        environments = environments if isinstance(environments, dict) else {}
        production = environments.get("production")
        integration = environments.get("integration")
        go_live = tenant.get("go_live")
        return cls(
            ctx=ctx,
            evidence=evidence,
            position=position,
            tenant=tenant,
            name=str(tenant.get("name")),
            production=production,
            integration=integration,
            prod_tenant_id=complete_tenant_id(production),
            int_complete=complete_tenant_id(integration) is not None,
            go_live=go_live if isinstance(go_live, dict) else {},
            today=today,
        )

    def results(self, check: str, environment: str) -> Sequence[Result]:
        """``check``'s results for this tenant's ``environment`` entry."""
        return self.evidence.by_key.get((check, self.name, environment), NO_RESULTS)

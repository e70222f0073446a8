"""The plan of a run: per manifest and stage, each check and why it will not run; the entries.

Built by :func:`build_plan` from the loaded manifests, the plugins' checks and
the :class:`~stcheck.api.RunOptions`, frozen, then executed by
:mod:`stcheck.runner` — which plans each manifest (:func:`plan_manifest`) as
it loads it, so a run holds one manifest at a time. What a check needs from the core is a
property of the check (:class:`~stcheck.api.Check`): its ``stage`` and
``order``, ``network`` (not run offline), ``commands`` (run by default only
there) and ``reports_load_problems`` (runs on a manifest that did not load) —
the plan never names a particular check.

A step's ``not_run`` is a reason word of :mod:`stcheck.reasons`:
``deselected`` (``--select``/``--skip``), ``offline``, ``not_applicable`` (not
one of the command's checks, and not named in ``--select``) or
``depends_on_failure`` (the manifest could not be loaded).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import overload

from stcheck.api import Check, RunOptions, Stage
from stcheck.exitcodes import UsageError
from stcheck.manifest import Entry, Manifest
from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.model import ENVIRONMENTS
from stcheck.record import record

STAGES: tuple[Stage, ...] = ("manifest", "entry", "summary")
"""The stages in the order they run, each over every manifest in turn."""

RUN_CHECK = "run"
"""The ``check`` of results about the run as a whole (``nothing_checked``), and of a manifest's
loading failures when no check that reports them is installed."""
WAIVERS_CHECK = "waivers"
"""The ``check`` of results about the manifest's waivers (:mod:`stcheck.waivers`)."""


def not_run_reason(check: Check, options: RunOptions) -> str | None:
    """Why ``check`` does not run at all in a run with ``options``; None when it runs."""
    elsewhere = check.commands is not None and options.command not in check.commands
    if (
        check.id in options.skip
        or (options.select is not None and check.id not in options.select)
        or (options.select is None and elsewhere)
    ):
        return "not_applicable" if elsewhere else "deselected"
    if check.network and options.offline:
        return "offline"
    return None


@record(frozen=True)
class Step:
    """One check of a stage: it runs (``not_run`` None), or the reason word why not."""

    check: Check
    not_run: str | None = None

    @property
    def id(self) -> str:
        return self.check.id

    def __repr__(self) -> str:
        return self.id if self.not_run is None else f"{self.id}({self.not_run})"


@record(frozen=True)
class Unentered:
    """A selected tenant (or one environment of it) that is no entry: where, and whose."""

    pointer: str
    tenant: str | None
    environment: str | None


class SelectedEntries(Sequence[Entry]):
    """The manifest's entries that ``--tenant``/``--exclude-tenant``/``--env`` select, in order.

    Listed on first use, once (from any thread): ``validate`` never needs them,
    and at 10,000 tenants building them costs more than some checks.
    """

    def __init__(
        self,
        manifest: Manifest,
        tenants: Sequence[str] = (),
        environments: Sequence[str] = (),
        exclude: Sequence[str] = (),
    ) -> None:
        self._manifest = manifest
        self._tenants = tuple(tenants)
        self._environments = tuple(environments)
        self._options = RunOptions(tenants=self._tenants, exclude_tenants=tuple(exclude))
        self._lock = threading.Lock()
        self._items: tuple[Entry, ...] | None = None

    def _listed(self) -> tuple[Entry, ...]:
        with self._lock:
            if self._items is None:
                self._items = tuple(self._select()) if self._manifest.loaded else ()
            return self._items

    def _select(self) -> Iterator[Entry]:
        for entry in self._manifest.entries():
            if not self._options.selects_tenant(entry.tenant):
                continue
            if self._environments and entry.environment not in self._environments:
                continue
            yield entry

    @overload
    def __getitem__(self, index: int) -> Entry: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Entry, ...]: ...
    def __getitem__(self, index: int | slice) -> Entry | tuple[Entry, ...]:
        return self._listed()[index]

    def __len__(self) -> int:
        return len(self._listed())

    def __iter__(self) -> Iterator[Entry]:
        return iter(self._listed())

    def unentered(self) -> list[Unentered]:
        """The selected parts of ``tenants`` that are no entry: a malformed required field.

        The per-entry checks never see them, so the runner records a skip for each
        (fail closed: an entry nobody checked must say so). Read while the manifest
        is loaded.
        """
        data = self._manifest.data if self._manifest.loaded else None
        tenants = data.get("tenants") if isinstance(data, dict) else None
        if tenants is None:
            return []
        if not isinstance(tenants, list):
            return [Unentered("/tenants", None, None)]
        entered = {entry.pointer for entry in self._listed()}
        entered_tenants = {jsonpointer.tenant_index(pointer) for pointer in entered}
        found: list[Unentered] = []
        for index, tenant in enumerate(tenants):
            name = tenant.get("name") if isinstance(tenant, dict) else None
            name = name if isinstance(name, str) else None
            if name is None and self._tenants:
                continue  # --tenant names tenants; one without a name is not among them
            if name is not None and not self._options.selects_tenant(name):
                continue
            environments = tenant.get("environments") if isinstance(tenant, dict) else None
            at = jsonpointer.join(("tenants", index))
            if name is not None and isinstance(environments, dict):
                for env_name in ENVIRONMENTS:
                    pointer = jsonpointer.join(("tenants", index, "environments", env_name))
                    if env_name not in environments or pointer in entered:
                        continue
                    if not self._environments or env_name in self._environments:
                        found.append(Unentered(pointer, name, env_name))
            elif index not in entered_tenants:
                found.append(Unentered(at, name, None))
        return found

    def __repr__(self) -> str:
        chosen = [f"tenant={name}" for name in self._tenants]
        chosen += [f"exclude={name}" for name in self._options.exclude_tenants]
        chosen += [f"env={name}" for name in self._environments]
        which = " ".join(chosen) if chosen else "all"
        count = "not listed yet" if self._items is None else f"{len(self._items)}"
        return f"<entries {which}: {count}>"


@record(frozen=True)
class ManifestPlan:
    """What runs over one manifest: the steps of each stage, the selected entries.

    ``load_failures_as`` is set when the manifest could not be loaded and no
    check that runs reports that: the ``check`` id under which the runner
    reports the loader's fatal problems itself (loading is not something a
    selection can turn off). ``reporter`` is the check that reports what is
    malformed (named by the skips of :meth:`SelectedEntries.unentered`).
    """

    manifest: Manifest
    stages: tuple[tuple[Stage, tuple[Step, ...]], ...]
    entries: SelectedEntries
    load_failures_as: str | None = None
    reporter: str = RUN_CHECK

    def per_entry(self) -> list[Check]:
        """The checks that run here and check each entry: the entry stage, the network checks."""
        return [
            step.check
            for stage, steps in self.stages
            for step in steps
            if step.not_run is None
            and (stage == "entry" or (stage == "manifest" and step.check.network))
        ]

    def steps(self, stage: Stage) -> tuple[Step, ...]:
        return next((steps for name, steps in self.stages if name == stage), ())

    def runs(self, stage: Stage) -> list[Check]:
        """The checks of ``stage`` that run on this manifest, in order."""
        return [step.check for step in self.steps(stage) if step.not_run is None]

    def __repr__(self) -> str:
        stages = " ".join(f"{name}={list(steps)!r}" for name, steps in self.stages if steps)
        state = "" if self.manifest.loaded else " (not loaded)"
        loading = f" load_failures_as={self.load_failures_as}" if self.load_failures_as else ""
        return f"<{self.manifest.path}{state}: {stages}{loading} {self.entries!r}>"


@record(frozen=True)
class Plan:
    """A run, before it runs: every check (plugin order) with its run-wide reason, per manifest."""

    options: RunOptions
    checks: tuple[Step, ...]
    manifests: tuple[ManifestPlan, ...]

    @property
    def not_run(self) -> dict[str, str]:
        """Check id → why it runs nowhere in this run (the report's ``checks_not_run``)."""
        return {step.id: step.not_run for step in self.checks if step.not_run is not None}

    @property
    def checks_run(self) -> tuple[str, ...]:
        """The ids of the checks that run on at least one manifest, sorted."""
        ran = {c.id for m in self.manifests for stage in STAGES for c in m.runs(stage)}
        return tuple(sorted(ran))

    def __repr__(self) -> str:
        manifests = "\n  ".join(repr(m) for m in self.manifests)
        return f"Plan({self.options.command}, checks={list(self.checks)!r},\n  {manifests})"


def build_plan(
    manifests: Sequence[Manifest], checks: Mapping[str, Check], options: RunOptions
) -> Plan:
    """The plan of a run; :class:`UsageError` for an unknown check id or tenant name."""
    check_selection(options, checks, manifests)
    steps = plan_steps(checks, options)
    reporter = load_reporter(checks)
    return Plan(
        options=options,
        checks=steps,
        manifests=tuple(plan_manifest(m, steps, options, reporter) for m in manifests),
    )


def plan_steps(checks: Mapping[str, Check], options: RunOptions) -> tuple[Step, ...]:
    """Every check (plugin order) with the reason it runs nowhere in this run, or None."""
    return tuple(Step(check, not_run_reason(check, options)) for check in checks.values())


def load_reporter(checks: Mapping[str, Check]) -> str:
    """The id under which a manifest's loading failures are reported when no check does."""
    return next((c.id for c in checks.values() if c.reports_load_problems), RUN_CHECK)


def plan_manifest(
    manifest: Manifest, steps: Iterable[Step], options: RunOptions, reporter: str
) -> ManifestPlan:
    stages: list[tuple[Stage, tuple[Step, ...]]] = []
    for stage in STAGES:
        mine = sorted((s for s in steps if s.check.stage == stage), key=lambda s: s.check.order)
        stages.append((stage, tuple(_on(manifest, step) for step in mine)))
    reported = any(
        step.not_run is None and step.check.reports_load_problems
        for _, stage_steps in stages
        for step in stage_steps
    )
    return ManifestPlan(
        manifest,
        tuple(stages),
        SelectedEntries(manifest, options.tenants, options.environments, options.exclude_tenants),
        None if not manifest.blocked or reported else reporter,
        reporter,
    )


def _on(manifest: Manifest, step: Step) -> Step:
    """``step`` on ``manifest``: on one that did not load, only load-problem reporters run."""
    if step.not_run is None and not manifest.loaded and not step.check.reports_load_problems:
        return Step(step.check, "depends_on_failure")
    return step


def check_ids(options: RunOptions, checks: Mapping[str, Check]) -> None:
    """Refuse (:class:`UsageError`) check ids in ``--select``/``--skip`` no plugin provides."""
    unknown = (set(options.select or ()) | options.skip) - set(checks)
    if unknown:
        raise UsageError(
            f"unknown check id {', '.join(sorted(unknown))} (known: {', '.join(sorted(checks))})"
        )


def check_selection(
    options: RunOptions, checks: Mapping[str, Check], manifests: Sequence[Manifest]
) -> None:
    """Refuse (:class:`UsageError`) check ids no plugin provides and tenants no manifest has."""
    check_ids(options, checks)
    if options.tenants:
        names = {tenant.get("name") for manifest in manifests for _, tenant in manifest.tenants()}
        missing = [name for name in options.tenants if name not in names]
        loaded = all(manifest.loaded for manifest in manifests)
        if missing and loaded:
            raise UsageError(f"no tenant named {', '.join(missing)} in the manifest")
    _check_exclusion(options, manifests)


def _check_exclusion(options: RunOptions, manifests: Sequence[Manifest]) -> None:
    if not options.exclude_tenants or not all(manifest.loaded for manifest in manifests):
        return
    refuse_empty_exclusion(
        options,
        {
            name
            for manifest in manifests
            for _, tenant in manifest.tenants()
            if isinstance(name := tenant.get("name"), str)
        },
    )


def refuse_empty_exclusion(options: RunOptions, names: Collection[str]) -> None:
    """Refuse an online run that ``--exclude-tenant`` leaves without a tenant (fail closed).

    ``validate`` checks every entry of the file whatever is excluded, so it is exempt.
    """
    if not options.exclude_tenants or options.command == "validate":
        return
    if names and not any(options.selects_tenant(name) for name in names):
        raise UsageError(
            "the excluded tenants (--exclude-tenant, exclude_tenants) are every tenant"
            f" {'selected' if options.tenants else 'in the manifest'}: nothing would be checked"
        )

"""Run the checks: load the manifests, build the plan (:mod:`stcheck.plan`), execute it.

manifest → load → plan → manifest-stage checks (schema, references, …) →
entries × entry-stage checks (token → api) on a bounded worker pool →
summary-stage checks (golive) → one immutable :class:`RunReport`. A check that
raises — anything, ``SystemExit`` and ``KeyboardInterrupt`` included
(:mod:`stcheck.boundary`) — becomes an ``error`` result for that check; the
run goes on.

The gate fails closed (see docs/online.md, "What the gate guarantees"):

- a manifest that cannot be loaded is a ``fail`` whatever the selection;
- a run in which no result reached a verdict (pass, warn, fail or error) gets
  an ``error`` result ``nothing_checked``, and so does an online run that
  checked no tenant entry (the app key alone is no tenant);
- a selected tenant that is no entry (a malformed required field) gets a
  ``depends_on_failure`` skip of each per-entry check;
- a ``depends_on_failure`` skip names the failure it depends on, and that
  failure stays in the output whatever ``--tenant``/``--env`` filter away;
- with a ``--deadline``, every check runs on a daemon thread within it; one
  that has not finished when it passes is an ``error`` ``deadline_exceeded``
  and is abandoned, never waited for (without one, plugin and network checks
  still run on daemon threads; built-in offline checks run inline).
"""

from __future__ import annotations

import functools
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from typing import TYPE_CHECKING

from stcheck import __version__
from stcheck.affinity import one_cpu
from stcheck.api import Check, CheckContext, RunOptions, Stage
from stcheck.boundary import Boundary, describe
from stcheck.bounded import RunBound, call_bounded, map_bounded
from stcheck.confine import FileRefused, confined_manifest, special_area, type_name
from stcheck.exitcodes import UsageError
from stcheck.fleet import FleetIndex
from stcheck.manifest import Entry, Manifest, include, load_manifest
from stcheck.manifest import pointer as jsonpointer
from stcheck.model import MAX_NAME_CHARS, Location, PluginInfo, Result, RunReport, Status
from stcheck.plan import (
    RUN_CHECK,
    STAGES,
    WAIVERS_CHECK,
    ManifestPlan,
    Plan,
    Step,
    build_plan,
    check_ids,
    load_reporter,
    plan_manifest,
    plan_steps,
    refuse_empty_exclusion,
)
from stcheck.plugins import LoadedPlugin, PluginSet
from stcheck.reasons import hint_for
from stcheck.record import field, record, replace
from stcheck.redact import Redactor
from stcheck.runstate import RunState

if TYPE_CHECKING:
    from stcheck.baseline import Baseline

__all__ = ["RUN_CHECK", "RUN_FAILURES", "Plan", "UsageError", "build_plan", "run"]

RUN_FAILURES = frozenset({"nothing_checked", "deadline_exceeded"})
"""Reason words that say the run itself did not reach a verdict: never exit 0, even in report."""

Progress = Callable[[int, int], None]


def plugin_infos(plugins: PluginSet) -> tuple[PluginInfo, ...]:
    return tuple(
        PluginInfo(
            name=p.name,
            version=p.version,
            builtin=p.builtin,
            checks=tuple(p.checks),
            schemes=tuple(p.schemes),
            formats=tuple(p.formats),
            error=p.error,
        )
        for p in plugins.plugins
    )


def load_all(paths: Sequence[str]) -> list[Manifest]:
    """Load every manifest; a missing or unreadable file is a usage error (exit 2)."""
    manifests = []
    for path in paths:
        if not os.path.exists(path):
            raise UsageError(f"{path}: no such manifest file")
        if os.path.isdir(path):
            raise UsageError(f"{path}: is a directory, not a manifest file")
        try:
            manifests.append(load_manifest(path))
        except FileRefused as exc:
            raise UsageError(f"{path}: {exc.message}") from None
        except FileNotFoundError:
            raise UsageError(f"{path}: no such manifest file") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    return manifests


def _stamp(results: list[Result], elapsed: float) -> list[Result]:
    """Give the first result of a check call its duration, unless the check set one."""
    if results and results[0].duration is None:
        results[0] = replace(results[0], duration=elapsed)
    return results


def _unscrubbed(text: str) -> str:
    return text


@record(frozen=True)
class CheckGuard:
    """Runs one check call behind the plugin boundary; what it raises becomes a result.

    ``scrub`` masks the run's resolved values (``Redactor.secrets.mask``) in
    exception text and in the messages and hints of plugin (non-built-in)
    checks; ``providers`` maps check ids to the plugin that provides them.
    """

    scrub: Callable[[str], str] = _unscrubbed
    providers: Mapping[str, LoadedPlugin] = field(default_factory=dict)

    @classmethod
    def for_run(cls, ctx: CheckContext, plugins: PluginSet) -> CheckGuard:
        redactor = ctx.run.redactor
        scrub = redactor.secrets.mask if redactor is not None else _unscrubbed
        providers = {p_check: p for p in plugins.plugins for p_check in p.checks}
        return cls(scrub, providers)

    def __call__(
        self,
        check: Check,
        call: Callable[[], Iterable[Result]],
        location: Location,
        tenant: str | None = None,
        environment: str | None = None,
    ) -> list[Result]:
        started = time.perf_counter()
        results: list[Result] = []
        with Boundary() as boundary:
            results = list(call())
            wrong = [r for r in results if not isinstance(r, Result)]
            if wrong:
                raise TypeError(f"returned {type(wrong[0]).__name__} instead of Result")
        provider = self.providers.get(check.id)
        if boundary.failure is not None:
            by = f" (plugin {provider.label})" if provider is not None else ""
            return [
                Result(
                    check=check.id,
                    status=Status.ERROR,
                    message=f"the {check.id} check{by} crashed:"
                    f" {describe(boundary.failure, self.scrub)}",
                    reason="check_crashed",
                    tenant=tenant,
                    environment=environment,
                    location=location,
                    hint=hint_for("check_crashed"),
                    duration=time.perf_counter() - started,
                )
            ]
        if provider is not None and not provider.builtin:
            results = [self._scrubbed(result) for result in results]
        return _stamp(results, time.perf_counter() - started)

    def inline(self, check: Check) -> bool:
        """Whether ``check`` is a built-in that needs no network (see :func:`_bounded`)."""
        provider = self.providers.get(check.id)
        return provider is not None and provider.builtin and not check.network

    def _scrubbed(self, result: Result) -> Result:
        """A plugin's result with the run's resolved values masked in its message and hint."""
        hint = self.scrub(result.hint) if result.hint else result.hint
        message = self.scrub(result.message)
        if message == result.message and hint == result.hint:
            return result
        return replace(result, message=message, hint=hint)


def _bounded(
    bound: RunBound,
    guard: CheckGuard,
    check: Check,
    call: Callable[[], Iterable[Result]],
    location: Location,
    tenant: str | None = None,
    environment: str | None = None,
) -> list[Result]:
    """``guard`` on a daemon thread; not finished within the run's deadline: an error.

    A built-in offline check of a run without a deadline runs on this thread
    instead: with nothing to abandon it at, the thread would only be waited
    for, and such a check neither blocks nor waits (its input is bounded by
    the manifest size cap), so a signal stops it here just as it stops the wait.
    """
    if bound.deadline is None and guard.inline(check):
        return guard(check, call, location, tenant, environment)
    if bound.expired:
        bound.cut_short = True
        return [_deadline(bound, check.id, location, tenant, environment)]
    finished, produced = call_bounded(
        lambda: guard(check, call, location, tenant, environment), bound
    )
    if not finished or produced is None:
        return [_deadline(bound, check.id, location, tenant, environment)]
    return produced


def _deadline(
    bound: RunBound,
    check_id: str,
    location: Location,
    tenant: str | None = None,
    environment: str | None = None,
) -> Result:
    return Result(
        check=check_id,
        status=Status.ERROR,
        message=f"{check_id}: not finished within the run's deadline"
        f" ({bound.seconds:g} s, --deadline); abandoned",
        reason="deadline_exceeded",
        tenant=tenant,
        environment=environment,
        location=location,
        hint=hint_for("deadline_exceeded"),
    )


def run(
    paths: Sequence[str],
    plugins: PluginSet,
    options: RunOptions,
    *,
    state: RunState | None = None,
    progress: Progress | None = None,
    bound: RunBound | None = None,
    baseline: Baseline | None = None,
) -> RunReport:
    """Load ``paths``, plan the run, execute the plan. Raises :class:`UsageError` for bad input.

    The manifests (and the tenant files they include) are loaded, planned,
    checked and released one at a time: a run holds the largest, not the sum.
    Every path is looked at first, so a missing or special file is a usage
    error before any check runs. ``bound`` carries the run's wall-clock
    deadline (``--deadline``); with
    ``baseline`` (``--baseline``), findings it has are marked known
    (:func:`stcheck.baseline.compare`) after every check has finished.
    """
    bound = bound or RunBound()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    started = time.perf_counter()
    for path in paths:
        _check_path(path)
    check_ids(options, plugins.checks)
    if options.tenants or (options.exclude_tenants and options.command != "validate"):
        _check_tenants(paths, options)
    state = state if state is not None else RunState()
    if len({os.path.realpath(path) for path in paths}) > 1:
        state.fleet = FleetIndex()
    steps = plan_steps(plugins.checks, options)
    reporter = load_reporter(plugins.checks)
    planned: list[ManifestPlan] = []
    names: dict[str, tuple[str | None, ...]] = {}  # for fingerprints, kept past each release
    results = _plugin_errors(plugins)
    entries = _EntryCount()
    completed = False
    try:
        held: _HeldWaivers | None = None
        for manifest in _units(paths, state):
            if held is not None and not manifest.included:
                results.extend(held.apply(state, plugins, options))
                held = None
            manifest_plan = plan_manifest(manifest, steps, options, reporter)
            planned.append(manifest_plan)
            entries.note(manifest_plan)
            _teach_redactor(state.redactor, [manifest])
            names.setdefault(manifest.path, _tenant_names(manifest))
            if held is None and _includes_with_waivers(manifest):
                held = _HeldWaivers(manifest, len(state.readiness))
            if held is None:
                results.extend(
                    _execute_one(options, steps, manifest_plan, plugins, state, progress, bound)
                )
                continue
            held.note(manifest)
            held.results.extend(
                _execute_one(
                    options, steps, manifest_plan, plugins, state, progress, bound, waive=False
                )
            )
        if held is not None:
            results.extend(held.apply(state, plugins, options))
        completed = not bound.cut_short
    finally:
        state.registry.close(wait=completed)
    plan = Plan(options=options, checks=steps, manifests=tuple(planned))
    manifests = [m.manifest for m in planned]
    unloaded = _unloaded(manifests)
    finished, causes = _finished(results, plan, entries.none_checked)
    counts = None
    if baseline is not None:  # post-processing of the finished results
        from stcheck.baseline import compare

        finished, counts = compare(
            finished,
            baseline,
            unloaded=frozenset(unloaded),
            depended_on=[r for r in finished if id(r) in causes],
            names=names,
            tenants=options.tenants,
            environments=options.environments,
        )
    return RunReport(
        tool_version=__version__,
        command=options.command,
        manifests=tuple(path for m in manifests for path in m.files),
        results=tuple(finished),
        checks_run=plan.checks_run,
        checks_not_run=plan.not_run,
        plugins=plugin_infos(plugins),
        started_at=started_at,
        duration=time.perf_counter() - started,
        check_docs={check_id: check.summary() for check_id, check in plugins.checks.items()},
        readiness=tuple(state.readiness),
        unloaded=unloaded,
        baseline=counts,
        tenant_names=names,
        readiness_view=state.readiness_view,
    )


def _unloaded(manifests: Sequence[Manifest]) -> tuple[str, ...]:
    """The files that could not be loaded: manifests, included files, roots whose include
    failed (``report`` fails on them too: it would inform of less than the fleet)."""
    found: dict[str, None] = {}
    for manifest in manifests:
        if not manifest.loaded:
            found[manifest.path] = None
        for problem in manifest.problems:
            if problem.fatal and problem.file is not None:
                found[problem.file] = None
    return tuple(found)


def _check_path(path: str) -> None:
    """A usage error (exit 2) for a manifest path that cannot be read, before anything runs."""
    if not os.path.exists(path):
        raise UsageError(f"{path}: no such manifest file")
    if os.path.isdir(path):
        raise UsageError(f"{path}: is a directory, not a manifest file")
    try:
        real = confined_manifest(path)
        area = special_area(real)
        if area is not None:
            raise FileRefused("not_allowed", f"the manifest is a special file (under {area})")
        mode = os.stat(real).st_mode
    except FileRefused as exc:
        raise UsageError(f"{path}: {exc.message}") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the manifest ({exc.strerror})") from None
    kind = type_name(mode)
    if kind is not None:
        raise UsageError(f"{path}: the manifest is not a regular file ({kind})")


def _units(paths: Sequence[str], state: RunState) -> Iterator[Manifest]:
    """Each manifest, then the batches of tenant files it includes, loaded when reached.

    The caller checks and releases each before asking for the next. A file is
    checked once per run: a manifest named twice, or a tenant file two roots of
    one app include, is checked the first time only (else it would repeat its
    own tenants).
    """
    roots: set[str] = set()
    included_by_app: set[tuple[str, object]] = set()
    for path in paths:
        real = os.path.realpath(path)
        if real in roots:
            continue
        roots.add(real)
        (root,) = load_all([path])
        included = include.expand(root) if root.loaded else include.Included()
        root.problems.extend(included.problems)
        name = root.app.get("name")
        app = name if isinstance(name, str) else None  # a list or mapping is the schema's to report
        fresh = [
            (shown, real) for shown, real in included.files if (real, app) not in included_by_app
        ]
        included_by_app.update((real, app) for _, real in fresh)
        included.files = fresh
        if included.files and state.fleet is None:
            state.fleet = FleetIndex()
        later = include.batches(root, included)  # takes what it needs of the root now
        yield root
        yield from later


def _check_tenants(paths: Sequence[str], options: RunOptions) -> None:
    """Refuse ``--tenant`` names no manifest (or included file) has, before any check runs.

    One pass that loads each manifest, notes its tenant names and drops it.
    """
    names: set[str] = set()
    loaded = True
    for manifest in _units(paths, RunState()):
        loaded = loaded and manifest.loaded and not manifest.blocked
        names.update(
            name for _, tenant in manifest.tenants() if isinstance(name := tenant.get("name"), str)
        )
        manifest.release()
    missing = [name for name in options.tenants if name not in names]
    if missing and loaded:
        raise UsageError(f"no tenant named {', '.join(missing)} in the manifest")
    if loaded:
        refuse_empty_exclusion(options, names)


def _tenant_names(manifest: Manifest) -> tuple[str | None, ...]:
    """Each item of the manifest's ``tenants`` list by its name (for fingerprints), else None.

    A name no valid manifest has (longer than a result's ``tenant`` field may
    be) is None too: a 15 MB name is not kept past the manifest's release.
    """
    tenants = manifest.data.get("tenants") if isinstance(manifest.data, dict) else None
    if not isinstance(tenants, list):
        return ()
    names: list[str | None] = []
    for tenant in tenants:
        name = tenant.get("name") if isinstance(tenant, dict) else None
        names.append(name if isinstance(name, str) and len(name) <= MAX_NAME_CHARS else None)
    return tuple(names)


def _teach_redactor(redactor: Redactor | None, manifests: Sequence[Manifest]) -> None:
    """Whichever check mentions a credential-shaped string, the output will not show it;
    and what the manifest says is never taken for a fragment of a resolved secret."""
    if redactor is None:
        return
    for manifest in manifests:
        for _, _, secret in manifest.secret_runs():
            redactor.add(secret)
        # its text, and only the decoded strings the text does not hold as written
        for text in manifest.texts():
            redactor.secrets.add_manifest_text(text)


def _plugin_errors(plugins: PluginSet) -> list[Result]:
    return [
        Result(
            check="plugins",
            status=Status.ERROR,
            message=f"plugin {plugin.label} left out: {plugin.error}",
            reason="plugin_error",
            hint=hint_for("plugin_error"),
        )
        for plugin in plugins.errors
    ]


def _execute_one(
    options: RunOptions,
    checks: Sequence[Step],
    manifest_plan: ManifestPlan,
    plugins: PluginSet,
    state: RunState,
    progress: Progress | None,
    bound: RunBound,
    *,
    waive: bool = True,
) -> list[Result]:
    """The results over one manifest; then it is released (path and load problems stay).

    With ``waive`` false its waivers are left to :class:`_HeldWaivers` (a manifest that
    includes tenant files is kept until they are checked too).
    """
    manifest = manifest_plan.manifest
    ctx = CheckContext(
        manifest=manifest,
        options=options,
        schemes=plugins.schemes,
        run=state,
        entries=manifest_plan.entries,
    )
    stage = _StageRun(ctx, CheckGuard.for_run(ctx, plugins), progress, bound)
    assessed = len(state.readiness)
    produced = _run_manifest(checks, manifest_plan, stage)
    results = _waived(manifest, produced, state, assessed, plugins, options) if waive else produced
    if manifest.included:  # a batch's pointers as each file has them
        results = [
            r if r.location is None else replace(r, location=manifest.localized(r.location))
            for r in results
        ]
    if waive or manifest.included:
        manifest.release()
    return results


def _includes_with_waivers(manifest: Manifest) -> bool:
    data = manifest.data
    return isinstance(data, dict) and "waivers" in data and "include" in data


@record
class _HeldWaivers:
    """A manifest's ``waivers:`` held until the tenant files it includes are checked too.

    The waivers name tenants of those files, so they are judged and applied over
    the results of the manifest and of all its batches; the manifest (the app and
    its waivers: small) is kept until then, each batch only as its tenant names.
    """

    root: Manifest
    assessed: int
    results: list[Result] = field(default_factory=list)
    tenants: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def note(self, manifest: Manifest) -> None:
        if manifest is self.root:
            return
        from stcheck.waivers import tenant_environments

        for name, envs in tenant_environments(manifest).items():
            self.tenants[name] = self.tenants.get(name, ()) + envs

    def apply(self, state: RunState, plugins: PluginSet, options: RunOptions) -> list[Result]:
        from stcheck.waivers import apply_waivers

        waived, tenants = apply_waivers(
            self.root,
            self.results,
            state.readiness[self.assessed :],
            plugins.checks,
            options,
            self.tenants,
        )
        state.readiness[self.assessed :] = tenants
        self.root.release()
        return waived


def _waived(
    manifest: Manifest,
    results: list[Result],
    state: RunState,
    assessed: int,
    plugins: PluginSet,
    options: RunOptions,
) -> list[Result]:
    """One manifest's results with its ``waivers:`` applied (:mod:`stcheck.waivers`), and the
    readiness verdicts its run added (from index ``assessed`` on) decided again."""
    if not (isinstance(manifest.data, dict) and "waivers" in manifest.data):
        return results
    from stcheck.waivers import apply_waivers

    waived, tenants = apply_waivers(
        manifest, results, state.readiness[assessed:], plugins.checks, options
    )
    state.readiness[assessed:] = tenants
    return waived


@record
class _EntryCount:
    """Whether a run that checks entries (``check``, ``report`` online) had any to check."""

    planned: bool = False
    entries: int = 0

    def note(self, manifest_plan: ManifestPlan) -> None:
        if manifest_plan.per_entry():
            self.planned = True
            self.entries += len(manifest_plan.entries)

    @property
    def none_checked(self) -> bool:
        return self.planned and self.entries == 0


def _finished(
    results: list[Result], plan: Plan, no_entry: bool = False
) -> tuple[list[Result], set[int]]:
    """Skips pointed at their failures, the ``--tenant``/``--env`` filter, ``nothing_checked``;
    and the ``id()`` of each failure a ``depends_on_failure`` skip names.

    ``no_entry``: checks that check each tenant entry ran, over none — the app key
    alone (credentials, dns) is no tenant checked, so that run checked nothing either.
    """
    results, causes = _point_dependencies(results, [step.id for step in plan.checks])
    results = [r for r in results if id(r) in causes or _selected(r, plan.options)]
    # What the waivers say is no verdict on the manifest: a run of only those checked nothing.
    if not any(r.status is not Status.SKIP and r.check != WAIVERS_CHECK for r in results):
        results.append(_nothing_checked(results, plan.not_run, plan.manifests))
    elif no_entry:
        detail = "no tenant entry was checked (none is selected: the app key alone is no tenant)"
        results.append(_nothing_checked(results, plan.not_run, plan.manifests, detail))
    return results, causes


def _nothing_checked(
    results: Sequence[Result],
    not_run: dict[str, str],
    manifests: Sequence[ManifestPlan],
    detail: str | None = None,
) -> Result:
    """The run-level error of a run in which no selected check reached a verdict."""
    if detail is None and not_run:
        why = ", ".join(f"{check_id} {reason}" for check_id, reason in not_run.items())
        detail = f"every result is a skip (not run: {why})"
    elif detail is None:
        detail = "every result is a skip" if results else "no check produced a result"
    location = Location(manifests[0].manifest.path) if len(manifests) == 1 else None
    return Result(
        check=RUN_CHECK,
        status=Status.ERROR,
        message=f"nothing was checked: {detail}; a gate that tested nothing is not ok",
        reason="nothing_checked",
        location=location,
        hint=hint_for("nothing_checked"),
    )


_SEE_CHECK = re.compile(r"see the ([a-z][a-z0-9_.-]*) check")


def _where(location: Location | None) -> str:
    """Where in its manifest a failure is, without the path (it may name the runner's disk)."""
    if location is None or location.line is None:
        return "in the manifest"
    where = f"at line {location.line}"
    if location.column is not None:
        where += f", column {location.column}"
    return where


def _point_dependencies(
    results: list[Result], check_order: Sequence[str]
) -> tuple[list[Result], set[int]]:
    """Make each ``depends_on_failure`` skip name the failure it depends on.

    Returns the results (skips rewritten) and the ``id()`` of every failure so
    named, which the ``--tenant``/``--env`` filter must keep. A skip whose
    failure is nowhere in the run (the check that would report it did not run)
    becomes an ``error``: it stands for something nobody checked.
    """
    if not any(r.reason == "depends_on_failure" for r in results):
        return results, set()
    failures = _Failures([r for r in results if r.status.is_failure])
    order = {check_id: index for index, check_id in enumerate(check_order)}
    causes: set[int] = set()
    pointed: list[Result] = []
    for result in results:
        if result.status is not Status.SKIP or result.reason != "depends_on_failure":
            pointed.append(result)
            continue
        cause = _cause(result, failures, order)
        if cause is None:
            pointed.append(
                replace(
                    result,
                    status=Status.ERROR,
                    message=f"{result.message}; the failure it depends on is not in this run"
                    " (the check that reports it did not run), so this was not checked",
                    hint="Run again with the check named in the message selected, and fix"
                    " what it reports.",
                )
            )
            continue
        causes.add(id(cause))
        where = _where(cause.location)
        pointed.append(
            replace(
                result,
                message=f"{result.message}; depends on the {cause.check} {cause.status.value}"
                f" ({cause.reason or 'no reason given'}) {where}",
                hint=f"Fix the {cause.check} {cause.status.value} {where} first;"
                f" {result.check} runs once it passes.",
            )
        )
    return pointed, causes


class _Failures:
    """A run's failures, indexed so that a skip ranks only those that can be its cause: its
    tenant's, those of no tenant at the app level or at its own tenant's place, and the
    first of the check it names (per environment and overall) — linear, not one pass over
    every failure per skip (thousands of malformed tenants made that quadratic)."""

    def __init__(self, failures: list[Result]) -> None:
        self.all = failures
        self._by_tenant: dict[str, list[int]] = {}
        self._by_place: dict[int | None, list[int]] = {}
        self._first: dict[tuple[str, str | None, bool], int] = {}
        for index, failure in enumerate(failures):
            if failure.tenant is not None:
                self._by_tenant.setdefault(failure.tenant, []).append(index)
            else:
                self._by_place.setdefault(_place(failure), []).append(index)
            self._first.setdefault((failure.check, failure.environment, False), index)
            self._first.setdefault((failure.check, None, True), index)

    def candidates(self, skip: Result, check: str | None) -> list[int]:
        """Indexes (in run order) of the failures that may be what ``skip`` waited for."""
        found = set(self._by_tenant.get(skip.tenant, ())) if skip.tenant is not None else set()
        found.update(self._by_place.get(None, ()))
        place = _place(skip)
        if place is not None:
            found.update(self._by_place.get(place, ()))
        if check is not None:
            for key in ((check, skip.environment, False), (check, None, True)):
                if key in self._first:
                    found.add(self._first[key])
        return sorted(found)


def _place(result: Result) -> int | None:
    """The index of the tenant ``result`` is located in, or None (app level, no location)."""
    if result.location is None or not result.location.pointer:
        return None
    return jsonpointer.tenant_index(result.location.pointer)


def _cause(result: Result, failures: _Failures, order: dict[str, int]) -> Result | None:
    """The failure ``result`` (a ``depends_on_failure`` skip) stands on, best match first."""
    file = result.location.file if result.location is not None else None
    named = _SEE_CHECK.search(result.message)
    wanted = named.group(1) if named else None
    mine = order.get(result.check, len(order))
    pointer = result.location.pointer if result.location is not None else ""

    def rank(failure: Result) -> tuple[int, int, int] | None:
        if failure is result or failure.check == result.check:
            return None
        if file is not None and failure.location is not None and failure.location.file != file:
            return None
        same_entry = failure.tenant == result.tenant and failure.environment == result.environment
        if same_entry or (failure.tenant == result.tenant and failure.environment is None):
            scope = 0
        elif failure.tenant is None:
            scope = 1
        elif failure.check == wanted and failure.environment == result.environment:
            scope = 2  # one result per environment (dns), tagged with its first tenant
        elif failure.check == wanted:
            scope = 3
        else:
            return None
        if wanted is None and order.get(failure.check, -1) >= mine:
            return None  # without a name, only an earlier check can be what this waited for
        there = failure.location.pointer if failure.location is not None else ""
        related = bool(pointer and there) and (
            there.startswith(pointer) or pointer.startswith(there)
        )
        return (0 if failure.check == wanted else 1, scope, 0 if related else 1)

    ranked = [
        (key, index, failure)
        for index in failures.candidates(result, wanted)
        if (key := rank(failure := failures.all[index])) is not None
    ]
    if not ranked:
        return None
    return min(ranked, key=lambda item: (item[0], item[1]))[2]


def _selected(result: Result, options: RunOptions) -> bool:
    if options.tenants and result.tenant and result.tenant not in options.tenants:
        return False
    return not (
        options.environments
        and result.environment
        and result.environment not in options.environments
    )


@record(frozen=True)
class _StageRun:
    """What running the checks of one manifest needs: its context, guard, progress, deadline."""

    ctx: CheckContext
    guard: CheckGuard
    progress: Progress | None
    bound: RunBound

    @property
    def here(self) -> Location:
        return Location(self.ctx.manifest.path)

    def stage(self, stage: Stage, steps: Sequence[Step]) -> list[Result]:
        """The results of one stage's steps over this manifest."""
        if stage == "entry":  # an unloaded manifest has no entries: its skips would be per entry
            return self.entries([step.check for step in steps if step.not_run is None])
        results: list[Result] = []
        for step in steps:
            if step.not_run == "depends_on_failure":
                results.append(_skip(step, self.here))
            elif step.not_run is None:
                call = functools.partial(step.check.run, self.ctx)
                produced = _bounded(self.bound, self.guard, step.check, call, self.here)
                results.extend(produced)
                if stage == "summary":  # each summary check sees the ones before it
                    self.ctx.results.extend(produced)
        return results

    def entries(self, checks: list[Check]) -> list[Result]:
        if not checks:
            return []
        entries = list(self.ctx.entries)
        return _run_entries(self.ctx, checks, entries, self.progress, self.bound, self.guard)


_NOT_RUN = {
    "deselected": "{}: deselected",
    "offline": "{}: needs the network and secrets; this run is offline",
    "depends_on_failure": "{}: the manifest could not be loaded",
}
"""The skip result a step that does not run leaves; a reason not here (``not_applicable``:
not one of this command's checks) leaves none."""


def _run_manifest(
    checks: Sequence[Step], manifest_plan: ManifestPlan, run: _StageRun
) -> list[Result]:
    """The results over one manifest: what does not run, then each stage in turn."""
    results = [_skip(step, run.here) for step in checks if step.not_run in _NOT_RUN]
    if manifest_plan.load_failures_as is not None:
        results.extend(_load_failures(manifest_plan.manifest, manifest_plan.load_failures_as))
    for stage in STAGES:
        if stage == "summary":
            run.ctx.results = list(results)  # summary checks see every result so far
            results.extend(_unentered_skips(manifest_plan, run.ctx))
        results.extend(run.stage(stage, manifest_plan.steps(stage)))
    return results


def _unentered_skips(manifest_plan: ManifestPlan, ctx: CheckContext) -> list[Result]:
    """A ``depends_on_failure`` skip of each per-entry check for each selected tenant (or
    environment of one) that is no entry: the checks never saw it, and the output says so.

    :func:`_point_dependencies` names the failure each depends on (else makes it an
    error), and a baseline never makes that failure known (:func:`stcheck.baseline.compare`).
    """
    checks = manifest_plan.per_entry()
    if not checks:
        return []
    results: list[Result] = []
    for part in manifest_plan.entries.unentered():
        what = "this entry" if part.environment is not None else "this tenant"
        location = ctx.locate(part.pointer)
        results.extend(
            Result(
                check=check.id,
                status=Status.SKIP,
                message=f"not run for {what}: a required field is missing or malformed"
                f" (see the {manifest_plan.reporter} check)",
                reason="depends_on_failure",
                tenant=part.tenant,
                environment=part.environment,
                location=location,
                hint=hint_for("depends_on_failure"),
            )
            for check in checks
        )
    return results


def _skip(step: Step, location: Location) -> Result:
    reason = step.not_run or "deselected"
    return Result(
        step.id,
        Status.SKIP,
        _NOT_RUN[reason].format(step.id),
        reason=reason,
        location=location,
        hint=hint_for(reason),
    )


def _load_failures(manifest: Manifest, check_id: str) -> list[Result]:
    """What the loader found fatal, reported whatever the selection (as ``check_id``)."""
    return [
        Result(
            check=check_id,
            status=Status.FAIL,
            message=f"{problem.message} (the manifest could not be loaded;"
            " loading is checked whatever --select/--skip say)",
            reason=problem.reason,
            location=Location(
                problem.file or manifest.path, problem.line, problem.column, problem.pointer
            ),
            hint=hint_for(problem.reason),
        )
        for problem in manifest.problems
        if problem.fatal
    ]


def _run_entries(
    ctx: CheckContext,
    checks: list[Check],
    entries: list[Entry],
    progress: Progress | None,
    bound: RunBound,
    guard: CheckGuard | None = None,
) -> list[Result]:
    """Each entry's checks in order, entries on daemon workers, all within the run's deadline."""
    guarded = guard or CheckGuard()
    # Per entry, (check id, results) as each check finishes: what a deadline leaves is kept.
    finished: list[list[tuple[str, list[Result]]]] = [[] for _ in entries]

    def pipeline(index: int, entry: Entry) -> list[Result]:
        produced: list[Result] = []
        location = ctx.locate(entry.pointer)
        for check in checks:
            if bound.cut_short:
                break  # abandoned: the main thread has reported this entry already
            results = guarded(
                check,
                lambda c=check: c.run_entry(ctx, entry, tuple(produced)),  # type: ignore[misc]
                location,
                entry.tenant,
                entry.environment,
            )
            produced.extend(results)
            finished[index].append((check.id, results))
        return produced

    total = len(entries)
    if total == 0:
        return []
    if bound.expired:
        bound.cut_short = True
    workers = max(1, min(ctx.options.concurrency, total))
    done = (lambda count: progress(count, total)) if progress is not None else None
    slots = None
    if not bound.cut_short:
        # Network workers share the GIL: on one CPU it changes hands cheaply (stcheck.affinity).
        bind = one_cpu() if workers > 1 and any(c.network for c in checks) else nullcontext()
        with bind:
            slots = map_bounded(pipeline, entries, workers, bound, done)
    results: list[Result] = []
    for index, entry in enumerate(entries):
        if slots is not None and slots.finished[index] and slots.errors[index] is None:
            results.extend(slots.values[index] or ())
            continue
        error = slots.errors[index] if slots is not None else None
        kept = list(finished[index])  # a snapshot: an abandoned worker may append later
        results.extend(_unfinished(ctx, checks, entry, kept, error, bound))
    return results


def _unfinished(
    ctx: CheckContext,
    checks: list[Check],
    entry: Entry,
    kept: list[tuple[str, list[Result]]],
    error: BaseException | None,
    bound: RunBound,
) -> list[Result]:
    """An entry the deadline cut short: what its checks finished, an error for each other one."""
    results = [result for _, produced in kept for result in produced]
    reported = {check_id for check_id, _ in kept}
    location = ctx.locate(entry.pointer)
    for check in checks:
        if check.id in reported:
            continue
        if error is not None:
            raise error  # an exception the guard let through: as if run on this thread
        results.append(_deadline(bound, check.id, location, entry.tenant, entry.environment))
    return results

"""Plan and run the checks over manifests: manifest checks, entry checks on a pool, summary checks.

manifest → load → (schema, references, unique, …) → entries × (credentials →
dns → token → api) on a bounded worker pool → (golive) → one immutable
:class:`RunReport`. A check that raises — anything, ``SystemExit`` and
``KeyboardInterrupt`` included (:mod:`stcheck.boundary`) — becomes an
``error`` result for that check; the run goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple, cast

from stcheck import __version__
from stcheck.api import Check, CheckContext, RunOptions
from stcheck.boundary import Boundary, describe
from stcheck.confine import FileRefused
from stcheck.manifest import Entry, Manifest, load_manifest
from stcheck.model import Location, PluginInfo, Result, RunReport, Status
from stcheck.plugins import LoadedPlugin, PluginSet
from stcheck.reasons import hint_for
from stcheck.secrets import Redactor


class UsageError(Exception):
    """Bad input before any check could run: exit status 2."""


class Selection(NamedTuple):
    """Which checks, tenants and environments a run covers."""

    select: frozenset[str] | None = None
    skip: frozenset[str] = frozenset()
    tenants: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()

    def wants(self, check_id: str) -> bool:
        if check_id in self.skip:
            return False
        return self.select is None or check_id in self.select


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


def check_selection(
    selection: Selection, plugins: PluginSet, manifests: Sequence[Manifest]
) -> None:
    unknown = (set(selection.select or ()) | selection.skip) - set(plugins.checks)
    if unknown:
        raise UsageError(
            f"unknown check id {', '.join(sorted(unknown))}"
            f" (known: {', '.join(sorted(plugins.checks))})"
        )
    if selection.tenants:
        names = {tenant.get("name") for manifest in manifests for _, tenant in manifest.tenants()}
        missing = [name for name in selection.tenants if name not in names]
        loaded = all(manifest.loaded for manifest in manifests)
        if missing and loaded:
            raise UsageError(f"no tenant named {', '.join(missing)} in the manifest")


def _ordered(checks: Iterable[Check], stage: str) -> list[Check]:
    return sorted((c for c in checks if c.stage == stage), key=lambda c: c.order)


def _stamp(results: list[Result], elapsed: float) -> list[Result]:
    """Give the first result of a check call its duration, unless the check set one."""
    if results and results[0].duration is None:
        results[0] = dataclasses.replace(results[0], duration=elapsed)
    return results


def _unscrubbed(text: str) -> str:
    return text


@dataclass(frozen=True)
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
        redactor = ctx.services.get("redactor")
        scrub = redactor.secrets.mask if isinstance(redactor, Redactor) else _unscrubbed
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

    def _scrubbed(self, result: Result) -> Result:
        """A plugin's result with the run's resolved values masked in its message and hint."""
        hint = self.scrub(result.hint) if result.hint else result.hint
        message = self.scrub(result.message)
        if message == result.message and hint == result.hint:
            return result
        return dataclasses.replace(result, message=message, hint=hint)


def _guarded(
    check: Check,
    call: Callable[[], Iterable[Result]],
    location: Location,
    tenant: str | None = None,
    environment: str | None = None,
) -> list[Result]:
    """:class:`CheckGuard` without a run's scrubber or providers (for callers outside a run)."""
    return CheckGuard()(check, call, location, tenant, environment)


def _unloaded(check: Check, location: Location) -> Result:
    return _skip(
        check, "depends_on_failure", f"{check.id}: the manifest could not be loaded", location
    )


def _skip(check: Check, reason: str, message: str, location: Location) -> Result:
    return Result(
        check.id, Status.SKIP, message, reason=reason, location=location, hint=hint_for(reason)
    )


def run(
    paths: Sequence[str],
    plugins: PluginSet,
    options: RunOptions,
    selection: Selection | None = None,
    *,
    services: dict[str, object] | None = None,
    progress: Progress | None = None,
    default_off: frozenset[str] = frozenset(),
) -> RunReport:
    """Run the selected checks over ``paths``. Raises :class:`UsageError` for bad input.

    ``default_off`` lists checks that run only when named in ``--select``
    (``golive`` outside ``stcheck report``).
    """
    selection = selection or Selection()
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    started = time.perf_counter()
    manifests = load_all(paths)
    check_selection(selection, plugins, manifests)
    shared: dict[str, object] = services if services is not None else {}
    redactor = shared.get("redactor")
    if isinstance(redactor, Redactor):
        # Whichever check mentions a credential-shaped string, the output will not show it;
        # and what the manifest says is never taken for a fragment of a resolved secret.
        for manifest in manifests:
            for _, _, secret in manifest.secret_runs():
                redactor.add(secret)
            redactor.secrets.add_manifest_text(_manifest_text(manifest))
    results: list[Result] = []
    for plugin in plugins.errors:
        results.append(
            Result(
                check="plugins",
                status=Status.ERROR,
                message=f"plugin {plugin.label} left out: {plugin.error}",
                reason="plugin_error",
                hint=hint_for("plugin_error"),
            )
        )
    not_run: dict[str, str] = {}
    ran: set[str] = set()
    for check_id, check in plugins.checks.items():
        if not selection.wants(check_id) or (
            check_id in default_off
            and (selection.select is None or check_id not in selection.select)
        ):
            not_run[check_id] = "deselected" if check_id not in default_off else "not_applicable"
        elif check.network and options.offline:
            not_run[check_id] = "offline"
    try:
        for manifest in manifests:
            ctx = CheckContext(
                manifest=manifest, options=options, schemes=plugins.schemes, services=shared
            )
            results.extend(_run_manifest(ctx, plugins, not_run, ran, selection, progress))
    finally:
        _close_services(shared)
    results = [r for r in results if _selected(r, selection)]
    return RunReport(
        tool_version=__version__,
        command=options.command,
        manifests=tuple(m.path for m in manifests),
        results=tuple(results),
        checks_run=tuple(sorted(ran)),
        checks_not_run={k: v for k, v in not_run.items() if k not in ran},
        plugins=plugin_infos(plugins),
        started_at=started_at,
        duration=time.perf_counter() - started,
        check_docs={check_id: check.summary() for check_id, check in plugins.checks.items()},
        readiness=tuple(cast(Sequence[object], shared.get("readiness", ()))),
    )


def _manifest_text(manifest: Manifest) -> str:
    """The manifest as written and every string it decodes to (escapes resolved), and its path."""
    parts = [manifest.path, manifest.text]
    stack: list[object] = [manifest.data]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, dict):
            parts.extend(str(key) for key in value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return "\n".join(parts)


def _close_services(services: dict[str, object]) -> None:
    """Close per-run objects (the HTTP client's connections) when the run ends."""
    for name, service in list(services.items()):
        close = getattr(service, "close", None)
        if name != "redactor" and callable(close):
            with contextlib.suppress(Exception):
                close()


def _selected(result: Result, selection: Selection) -> bool:
    if selection.tenants and result.tenant and result.tenant not in selection.tenants:
        return False
    return not (
        selection.environments
        and result.environment
        and result.environment not in selection.environments
    )


def _run_manifest(
    ctx: CheckContext,
    plugins: PluginSet,
    not_run: dict[str, str],
    ran: set[str],
    selection: Selection,
    progress: Progress | None,
) -> list[Result]:
    manifest = ctx.manifest
    here = Location(manifest.path)
    guard = CheckGuard.for_run(ctx, plugins)
    results: list[Result] = []
    checks = list(plugins.checks.values())
    for check in checks:
        reason = not_run.get(check.id)
        if reason == "offline":
            results.append(
                _skip(
                    check,
                    reason,
                    f"{check.id}: needs the network and secrets; this run is offline",
                    here,
                )
            )
        elif reason == "deselected":
            results.append(_skip(check, reason, f"{check.id}: deselected", here))
    runnable = [c for c in checks if c.id not in not_run]
    for check in _ordered(runnable, "manifest"):
        if not manifest.loaded and check.id != "schema":
            results.append(_unloaded(check, here))
            continue
        ran.add(check.id)
        results.extend(guard(check, lambda c=check: c.run(ctx), here))  # type: ignore[misc]
    entry_checks = _ordered(runnable, "entry")
    if entry_checks and manifest.loaded:
        entries = [
            e
            for e in manifest.entries()
            if (not selection.tenants or e.tenant in selection.tenants)
            and (not selection.environments or e.environment in selection.environments)
        ]
        ctx.entries = entries
        ran.update(check.id for check in entry_checks)
        results.extend(_run_entries(ctx, entry_checks, entries, progress, guard))
    ctx.results = list(results)
    for check in _ordered(runnable, "summary"):
        if not manifest.loaded:
            results.append(_unloaded(check, here))
            continue
        ran.add(check.id)
        produced = guard(check, lambda c=check: c.run(ctx), here)  # type: ignore[misc]
        results.extend(produced)
        ctx.results.extend(produced)
    return results


def _run_entries(
    ctx: CheckContext,
    checks: list[Check],
    entries: list[Entry],
    progress: Progress | None,
    guard: CheckGuard | None = None,
) -> list[Result]:
    guarded = guard or CheckGuard()

    def pipeline(entry: Entry) -> list[Result]:
        produced: list[Result] = []
        location = ctx.locate(entry.pointer)
        for check in checks:
            produced.extend(
                guarded(
                    check,
                    lambda c=check: c.run_entry(ctx, entry, tuple(produced)),  # type: ignore[misc]
                    location,
                    entry.tenant,
                    entry.environment,
                )
            )
        return produced

    total = len(entries)
    if total == 0:
        return []
    from concurrent.futures import ThreadPoolExecutor  # not needed by offline runs

    workers = max(1, min(ctx.options.concurrency, total))
    done = 0
    results: list[Result] = []
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stcheck") as pool:
        for produced in pool.map(pipeline, entries):
            results.extend(produced)
            done += 1
            if progress is not None:
                progress(done, total)
    return results

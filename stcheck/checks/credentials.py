"""The ``credentials`` check: every credential reference resolves in this run, to a usable value."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from stcheck.api import Check, CheckContext, Result, Status, hookimpl
from stcheck.manifest.pointer import child, parent

if TYPE_CHECKING:
    from stcheck.checks.support.secretstore import Resolved
    from stcheck.manifest import Entry


class CredentialsCheck(Check):
    """Every credential reference resolves, here and now, to a usable value.

    Resolves ``app.app_key`` and each selected entry's ``client_id`` and
    ``client_secret`` through their scheme (``env:``, ``file:`` or a plugin's),
    once per reference per run. Values stay in memory for the run, are never
    put in a result, and are masked in everything stcheck writes.

    - ``fail`` ``unresolved_reference``: the variable is unset, the file is
      missing or unreadable, the plugin could not resolve it;
    - ``fail`` ``reference_not_allowed``: a ``file:`` path or link that leads
      outside the repository holding the manifest, a special file (``/proc``,
      ``/sys``, ``/dev``, a FIFO, socket or device), or an ``env:`` name
      outside the operator's ``STCHECK_ENV_ALLOW`` / ``--allow-env`` policy
      (the same answer whether or not the variable is set);
    - ``fail`` ``unusable_value``: the value holds a NUL, line break or other
      control character (the value is not used, and not shown);
    - ``fail`` ``empty_value``: it resolves to nothing (or only whitespace);
    - ``error`` ``plugin_error``: a plugin's resolver crashed (anything it
      raised other than ``ResolveReferenceError``, ``SystemExit`` included);
      the exception's type is named, never its text;
    - ``warn`` ``whitespace``: leading or trailing whitespace, stripped before
      use (copied secrets with a trailing newline or space are a classic cause
      of ``invalid_client``);
    - ``warn`` ``insecure_permissions``: a secret file readable by group or
      others.

    One result for the app key, one per entry. Needs the secrets, so it runs
    only in online runs (``stcheck check``, ``stcheck report``).
    """

    id = "credentials"
    stage = "manifest"
    network = True
    order = 40

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        from stcheck.checks.support.secretstore import secret_store

        store = secret_store(ctx)
        directory = ctx.manifest.directory
        results: list[Result] = []
        app_ref = ctx.manifest.app.get("app_key")
        if app_ref is not None:
            resolved = store.resolve(directory, app_ref)
            results.append(self._result(ctx, [("app_key", "/app/app_key", resolved)], None))
        resolved_entries = [
            (
                entry,
                [
                    (name, child(entry.pointer, name), store.resolve(directory, ref))
                    for name, ref in (
                        ("client_id", entry.client_id_ref),
                        ("client_secret", entry.client_secret_ref),
                    )
                ],
            )
            for entry in ctx.entries
        ]
        from stcheck.checks.support.services import DistinctValues

        distinct = ctx.run.registry.get(DistinctValues, DistinctValues)
        for tenant, flag in _distinct_values(resolved_entries).items():
            distinct[(ctx.manifest.path, tenant)] = flag
        results.extend(self._result(ctx, fields, entry) for entry, fields in resolved_entries)
        store.mark_checked(ctx.manifest.path)
        return results

    def _result(
        self,
        ctx: CheckContext,
        fields: list[tuple[str, str, Resolved]],
        entry: Entry | None,
    ) -> Result:
        tenant = entry.tenant if entry else None
        environment = entry.environment if entry else None
        failures = [(pointer, r) for _, pointer, r in fields if not r.ok]
        if failures:
            real = [(p, r) for p, r in failures if r.reason != "depends_on_failure"]
            pointer, first = (real or failures)[0]
            status = Status.FAIL if real else Status.SKIP
            if first.reason == "plugin_error":
                status = Status.ERROR  # the resolver crashed: could not tell
            return self.result(
                ctx,
                status,
                "; ".join(r.message for _, r in failures),
                reason=first.reason,
                pointer=pointer,
                tenant=tenant,
                environment=environment,
            )
        warnings = [
            (pointer, reason, message) for _, pointer, r in fields for reason, message in r.warnings
        ]
        if warnings:
            pointer, reason, _ = warnings[0]
            return self.result(
                ctx,
                Status.WARN,
                "; ".join(message for _, _, message in warnings),
                reason=reason,
                pointer=pointer,
                tenant=tenant,
                environment=environment,
            )
        refs = " and ".join(f"{name} ({r.reference})" for name, _, r in fields)
        return self.result(
            ctx,
            Status.PASS,
            f"{refs} resolve{'s' if len(fields) == 1 else ''}",
            pointer=parent(fields[0][1]) if entry else fields[0][1],
            tenant=tenant,
            environment=environment,
        )


@hookimpl
def stcheck_checks() -> list[Check]:
    return [CredentialsCheck()]


def _distinct_values(
    resolved_entries: list[tuple[Entry, list[tuple[str, str, Resolved]]]],
) -> dict[str, bool]:
    """Per tenant with both environments resolved: do production's values differ from integration's?

    Only this yes/no leaves the check, in the run's registry
    (:class:`stcheck.checks.support.services.DistinctValues`), never in an output.
    """
    values: dict[str, dict[str, tuple[str | None, ...]]] = {}
    for entry, fields in resolved_entries:
        values.setdefault(entry.tenant, {})[entry.environment] = tuple(
            resolved.value for _, _, resolved in fields
        )
    distinct = {}
    for tenant, by_env in values.items():
        production, integration = by_env.get("production"), by_env.get("integration")
        if production and integration and None not in production + integration:
            distinct[tenant] = all(
                mine != other for mine, other in zip(production, integration, strict=True)
            )
    return distinct

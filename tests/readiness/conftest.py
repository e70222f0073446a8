"""Fixtures for the readiness report tests: real manifests, the real CLI, a scripted network.

The network checks (``credentials``, ``dns``, ``token``, ``api``) are replaced
by :class:`ScriptedNetwork`, a plugin whose checks have the same ids, stages
and result shapes and answer what a test scripts — so the ``golive`` check
is exercised end to end through the real command line, online, without a
network and independently of the real network checks.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from stcheck import cli, plugins, runner
from stcheck.api import Check, CheckContext
from stcheck.hookspecs import hookimpl
from stcheck.manifest import Entry
from stcheck.model import Result, RunReport, Status

TODAY = "2026-11-29"
NETWORK = ("credentials", "dns", "token", "api")

ATTESTED = {
    "app_approved": {"by": "dana@acme.example", "on": "2026-11-20"},
    "tenant_admin_connected": {"by": "ops@goodplumbing.example", "on": "2026-11-22"},
    "api_terms_accepted": {"by": "dana@acme.example", "on": "2026-10-02"},
}


def tenant(
    name: str = "good-plumbing",
    *,
    owner: str | None = "ops@acme.example",
    integration: bool = True,
    production: bool = True,
    attestations: dict[str, Any] | None = None,
    target_date: str | None = "2026-12-15",
    secret_created_on: str | None = "2026-11-02",
    number: int = 1,
    planned: bool | None = None,
    because: str | None = None,
    enterprise_group: str | None = None,
) -> dict[str, Any]:
    """One tenant of a manifest, complete and attested unless told otherwise.

    ``planned``/``because`` write ``go_live.planned``/``go_live.because``;
    ``enterprise_group`` goes into the production entry.
    """
    slug = name.upper().replace("-", "_").replace(".", "_")
    data: dict[str, Any] = {"name": name}
    if owner is not None:
        data["owner"] = owner
    environments: dict[str, Any] = {}
    if integration:
        environments["integration"] = {
            "tenant_id": 1_000_000 + number,
            "client_id": f"env:{slug}_INT_CLIENT_ID",
            "client_secret": f"env:{slug}_INT_CLIENT_SECRET",
        }
    if production:
        environments["production"] = {
            "tenant_id": str(9_000_000 + number),
            "client_id": f"env:{slug}_PROD_CLIENT_ID",
            "client_secret": f"file:secrets/{name}/production",
        }
        if secret_created_on is not None:
            environments["production"]["secret_created_on"] = secret_created_on
        if enterprise_group is not None:
            environments["production"]["enterprise_group"] = enterprise_group
    data["environments"] = environments
    go_live: dict[str, Any] = {}
    if planned is not None:
        go_live["planned"] = planned
    if because is not None:
        go_live["because"] = because
    if target_date is not None:
        go_live["target_date"] = target_date
    chosen = dict(ATTESTED) if attestations is None else attestations
    if chosen:
        go_live["attestations"] = chosen
    if go_live:
        data["go_live"] = go_live
    return data


def manifest_text(*tenants: dict[str, Any], app: dict[str, Any] | None = None) -> str:
    document = {
        "version": 1,
        "app": app
        or {
            "name": "acme-dispatch-sync",
            "app_key": "env:ST_APP_KEY",
            "required_scopes": ["tn.stt.businessunits:r"],
        },
        "tenants": list(tenants),
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


@dataclass
class Answer:
    status: Status
    message: str
    reason: str | None = None
    facts: dict[str, str | tuple[str, ...]] = field(default_factory=dict)


PASS_MESSAGES = {
    "credentials": "the client ID and secret references resolve",
    "token": "token issued (Bearer, expires_in 900); scope includes the 1 required scope",
    "api": "the probe settings/business-units answered 200",
}
PASS_FACTS: dict[str, dict[str, str | tuple[str, ...]]] = {
    "token": {"scopes_stated": "yes", "scopes": ("tn.stt.businessunits:r",)},
}


@dataclass
class ScriptedNetwork:
    """Stand-ins for the network checks, answering per (check, tenant, environment).

    Unscripted entries pass. ``distinct`` fills the ``credentials.distinct_values``
    service the way the real credentials check does (tenant -> values differ).
    """

    answers: dict[tuple[str, str | None, str | None], list[Answer]] = field(default_factory=dict)
    distinct: dict[str, bool] | None = None
    app_key: Answer | None = None
    report_distinct: bool = True

    def script(
        self, check: str, tenant: str | None, environment: str | None, *answers: Answer
    ) -> ScriptedNetwork:
        self.answers[(check, tenant, environment)] = list(answers)
        return self

    def answer(self, ctx: CheckContext, check: str, entry: Entry) -> list[Result]:
        scripted = self.answers.get((check, entry.tenant, entry.environment))
        if scripted is None:
            scripted = [Answer(Status.PASS, PASS_MESSAGES[check], facts=PASS_FACTS.get(check, {}))]
        return [
            ctx.result(
                check,
                a.status,
                a.message,
                reason=a.reason,
                pointer=entry.pointer,
                tenant=entry.tenant,
                environment=entry.environment,
                facts=a.facts,
            )
            for a in scripted
        ]

    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        script = self

        class Credentials(Check):
            """Scripted credentials."""

            id = "credentials"
            stage = "manifest"
            network = True
            order = 40

            def run(self, ctx: CheckContext) -> Iterable[Result]:
                key = script.app_key or Answer(Status.PASS, "app.app_key resolves")
                results = [
                    ctx.result(
                        "credentials",
                        key.status,
                        key.message,
                        reason=key.reason,
                        pointer="/app/app_key",
                    )
                ]
                from stcheck.checks.support.services import DistinctValues

                distinct = ctx.run.registry.get(DistinctValues, DistinctValues)
                for entry in ctx.manifest.entries():
                    results.extend(script.answer(ctx, "credentials", entry))
                    if entry.environment == "production" and script.report_distinct:
                        default = True
                        if script.distinct is not None:
                            default = script.distinct.get(entry.tenant, True)
                        distinct[(ctx.manifest.path, entry.tenant)] = default
                return results

        class Token(Check):
            """Scripted token."""

            id = "token"
            stage = "entry"
            network = True
            order = 60

            def run_entry(
                self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
            ) -> Iterable[Result]:
                return script.answer(ctx, "token", entry)

        class Api(Check):
            """Scripted api."""

            id = "api"
            stage = "entry"
            network = True
            order = 70

            def run_entry(
                self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
            ) -> Iterable[Result]:
                return script.answer(ctx, "api", entry)

        return [Credentials(), Token(), Api()]


@dataclass
class Run:
    code: int
    out: str
    err: str
    report: RunReport | None = None


RunReportFn = Callable[..., Run]


@pytest.fixture
def write_manifest(tmp_path: Path) -> Callable[..., Path]:
    """Write a manifest made of ``tenant(...)`` dicts (or raw text) and return its path."""

    def write(
        *tenants: dict[str, Any],
        text: str | None = None,
        name: str = "stcheck.yaml",
        app: dict[str, Any] | None = None,
    ) -> Path:
        path = tmp_path / name
        path.write_text(
            text if text is not None else manifest_text(*tenants, app=app), encoding="utf-8"
        )
        return path

    return write


@pytest.fixture
def run_report(monkeypatch: pytest.MonkeyPatch) -> RunReportFn:
    """Run ``stcheck report`` through the real CLI; with ``network=`` the run is online.

    Returns the exit status, stdout, stderr and the RunReport the reporters saw.
    """

    def run(
        *args: str,
        network: ScriptedNetwork | None = None,
        command: str = "report",
        today: str | None = TODAY,
    ) -> Run:
        seen: list[RunReport] = []
        real_run = runner.run

        def spy(*a: Any, **k: Any) -> RunReport:
            report = real_run(*a, **k)
            seen.append(report)
            return report

        monkeypatch.setattr("stcheck.app.run", spy)
        argv = [command, *args]
        if today is not None:
            argv += ["--today", today]
        if network is not None:
            real_build = plugins.build_plugins

            def build(**kwargs: Any) -> plugins.PluginSet:
                return real_build(extra=[("scripted-network", network)], **kwargs)

            monkeypatch.setattr(cli, "build_plugins", build)
            for check in NETWORK:
                argv += ["--disable-plugin", check]
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(argv, stdout=out, stderr=err)
        return Run(code, out.getvalue(), err.getvalue(), seen[-1] if seen else None)

    return run

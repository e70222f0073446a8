"""``stcheck report --strict``: exit 1 when a tenant is not ready."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from stcheck.model import Status

from .conftest import Answer, RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]


def test_strict_fails_on_not_ready(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    assert run_report("--offline", "--strict", str(path)).code == 1
    # Without --strict the report is information: exit 0.
    assert run_report("--offline", str(path)).code == 0


def test_strict_offline_unknown_passes(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    assert run_report("--offline", "--strict", str(path)).code == 0


def test_strict_online(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    assert run_report("--strict", str(path), network=ScriptedNetwork()).code == 0
    timeout = ScriptedNetwork().script(
        "api", "good-plumbing", "production", Answer(Status.ERROR, "timed out", "timeout")
    )
    assert run_report("--strict", str(path), network=timeout).code == 1


def test_strict_with_a_manifest_that_does_not_load(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(text="version: 1\napp: [unclosed\n")
    run = run_report("--offline", "--strict", str(path))
    assert run.code == 1
    # The Markdown falls back to the check summary, which says why.
    assert "invalid" in run.out.lower() or "yaml" in run.out.lower()


def test_strict_on_a_single_selected_tenant(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    assert run_report("--offline", "--strict", "--tenant", "good-plumbing", str(path)).code == 0
    assert run_report("--offline", "--strict", "--tenant", "rapid-hvac", str(path)).code == 1

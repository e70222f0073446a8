"""The credentials check: references resolve, once per run, to usable values."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from stcheck.api import ReferenceScheme, ResolveContext, RunOptions
from stcheck.hookspecs import hookimpl
from stcheck.plugins import build_plugins
from stcheck.redact import Redactor
from stcheck.runner import run
from stcheck.runstate import RunState

from .conftest import Harness


def app_key_result(outcome: Any) -> dict[str, Any]:
    (result,) = [r for r in outcome.find("credentials") if r["tenant"] is None]
    return result


def test_app_key_and_entries_resolve(harness: Harness) -> None:
    harness.add("a")
    harness.add("a", "production")
    outcome = harness.run()
    assert app_key_result(outcome)["status"] == "pass"
    assert app_key_result(outcome)["location"]["pointer"] == "/app/app_key"
    assert outcome.status("credentials", "a", "integration") == ("pass", None)
    assert outcome.status("credentials", "a", "production") == ("pass", None)
    assert "env:T_A_INTE_ID" in outcome.one("credentials", "a", "integration")["message"]


def test_unset_variable_fails_with_its_location(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.delenv("T_A_INTE_ID")
    outcome = harness.run()
    result = outcome.one("credentials", "a", "integration")
    assert (result["status"], result["reason"]) == ("fail", "unresolved_reference")
    assert result["location"]["pointer"] == "/tenants/0/environments/integration/client_id"
    assert result["location"]["line"] is not None
    assert outcome.code == 1


def test_empty_value_fails(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.setenv("T_A_INTE_SECRET", "  \n")
    outcome = harness.run()
    assert outcome.status("credentials", "a", "integration") == ("fail", "empty_value")
    assert outcome.status("token", "a", "integration") == ("skip", "depends_on_failure")


def secret_file(harness: Harness, mode: int, text: str | None) -> None:
    client = harness.add("a")
    path = harness.dir / "secrets" / "a"
    path.parent.mkdir(exist_ok=True)
    if text is not None:
        path.write_text(text.replace("SECRET", client.client_secret))
        path.chmod(mode)
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = "file:secrets/a"


def test_file_reference_passes(harness: Harness) -> None:
    secret_file(harness, 0o600, "SECRET\n")
    outcome = harness.run()
    assert outcome.status("credentials", "a", "integration") == ("pass", None)
    assert outcome.status("token", "a", "integration") == ("pass", None)


def test_group_readable_file_warns(harness: Harness) -> None:
    secret_file(harness, 0o644, "SECRET\n")
    outcome = harness.run()
    result = outcome.one("credentials", "a", "integration")
    assert (result["status"], result["reason"]) == ("warn", "insecure_permissions")
    assert result["location"]["pointer"].endswith("/client_secret")
    assert outcome.status("token", "a", "integration") == ("pass", None)


def test_missing_file_fails(harness: Harness) -> None:
    secret_file(harness, 0o600, None)
    outcome = harness.run()
    assert outcome.status("credentials", "a", "integration") == ("fail", "unresolved_reference")


def test_tenant_and_environment_selection(harness: Harness) -> None:
    harness.add("a")
    harness.add("a", "production")
    harness.add("b")
    outcome = harness.run("--tenant", "a", "--env", "production")
    entries = {(r["tenant"], r["environment"]) for r in outcome.find("credentials")}
    assert entries == {(None, None), ("a", "production")}
    assert {r.environment for r in harness.fake.received} == {"production"}
    assert outcome.status("dns", None, "production")[0] == "warn"
    assert outcome.find("dns", None, "integration") == []


def test_unknown_scheme_is_left_to_the_references_check(harness: Harness) -> None:
    harness.add("a")
    harness.tenants["a"]["environments"]["integration"]["client_id"] = "vault:secret/a#id"
    outcome = harness.run()
    assert outcome.status("references", None, None)[0] == "fail"
    assert outcome.status("credentials", "a", "integration") == ("skip", "depends_on_failure")
    assert outcome.status("token", "a", "integration") == ("skip", "depends_on_failure")


class CountingScheme:
    """A plugin providing ``count:NAME`` that counts resolutions (values from a dict)."""

    def __init__(self, values: dict[str, str]) -> None:
        self.values = values
        self.calls: dict[str, int] = {}
        self.lock = threading.Lock()

    def resolve(self, rest: str, context: ResolveContext) -> str:
        with self.lock:
            self.calls[rest] = self.calls.get(rest, 0) + 1
        return self.values[rest]

    @hookimpl
    def stcheck_reference_schemes(self) -> list[ReferenceScheme]:
        return [ReferenceScheme("count", "counted", "count:NAME", resolve=self.resolve)]


def test_each_reference_is_resolved_once_per_run(harness: Harness, tmp_path: Path) -> None:
    shared = harness.add("a", "production", group="g")
    harness.add("b", "production", client=shared, group="g")
    harness.add("c", "production", client=shared, group="g")
    scheme = CountingScheme(
        {"app": harness.fake.app_key, "id": shared.client_id, "secret": shared.client_secret}
    )
    harness.app["app_key"] = "count:app"
    for tenant in harness.tenants.values():
        entry = tenant["environments"]["production"]
        entry["client_id"], entry["client_secret"] = "count:id", "count:secret"
    manifest = harness.write()
    redactor = Redactor()
    report = run(
        [str(manifest)],
        build_plugins(extra=[("counting", scheme)]),
        RunOptions(
            command="check",
            offline=False,
            ca_bundle=harness.fake.ca_bundle,
            resolve=tuple(harness.fake.resolve),
            concurrency=4,
        ),
        state=RunState(redactor=redactor),
    )
    assert not report.failed, [r for r in report.results if r.status.is_failure]
    assert scheme.calls == {"app": 1, "id": 1, "secret": 1}
    # Enterprise Hub: one token per tenant of the group, each asked for with `tenant`.
    requests = harness.fake.token_requests()
    assert sorted(r.form["tenant"] for r in requests) == sorted(
        str(t["environments"]["production"]["tenant_id"]) for t in harness.tenants.values()
    )
    assert redactor(f"x {shared.client_secret} y") == "x [REDACTED] y"


def test_a_resolver_exception_never_shows_its_text(harness: Harness) -> None:
    class Broken:
        @hookimpl
        def stcheck_reference_schemes(self) -> list[ReferenceScheme]:
            def resolve(rest: str, context: ResolveContext) -> str:
                raise RuntimeError("connection to vault failed, token=s3cr3t-vault-token")

            return [ReferenceScheme("broken", "broken", "broken:X", resolve=resolve)]

    harness.add("a")
    harness.app["app_key"] = "broken:x"
    manifest = harness.write()
    report = run(
        [str(manifest)],
        build_plugins(extra=[("broken", Broken())]),
        RunOptions(
            command="check",
            offline=False,
            ca_bundle=harness.fake.ca_bundle,
            resolve=tuple(harness.fake.resolve),
        ),
    )
    text = "\n".join(r.message for r in report.results)
    assert "s3cr3t-vault-token" not in text
    assert "RuntimeError" in text


@pytest.mark.parametrize("command", ["validate"])
def test_offline_runs_never_resolve_or_connect(harness: Harness, command: str) -> None:
    harness.add("a")
    harness.write()
    import io

    from stcheck.cli import main

    stdout = io.StringIO()
    code = main([command, str(harness.manifest), "--format", "json"], stdout=stdout)
    assert code == 0
    assert '"offline"' in stdout.getvalue()
    assert harness.fake.received == []

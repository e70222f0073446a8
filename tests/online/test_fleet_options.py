"""``--exclude-tenant`` and ``--fail-on warn`` in the online gate, and the config setting them."""

from __future__ import annotations

import pytest

from tests.conftest import run_cli

from .conftest import Harness


def test_an_excluded_tenant_gets_no_request_and_no_result(harness: Harness) -> None:
    harness.add("north-good")
    bad = harness.add("south-bad", behavior="unauthorized_client")
    assert harness.run().code == 1
    before = len(harness.fake.token_requests(client_id=bad.client_id))
    assert before == 1
    outcome = harness.run("--exclude-tenant", "south-*")
    assert outcome.code == 0, outcome.stdout
    assert len(harness.fake.token_requests(client_id=bad.client_id)) == before
    assert not [r for r in outcome.results if r["tenant"] == "south-bad"]
    assert outcome.status("token", "north-good", "integration") == ("pass", None)


def test_excluding_every_tenant_is_not_a_pass(harness: Harness) -> None:
    harness.add("only", behavior="unauthorized_client")
    outcome = harness.run("--exclude-tenant", "*")
    assert outcome.code == 2  # nothing would be checked: the gate fails closed
    assert "the excluded tenants" in outcome.stderr and "every tenant" in outcome.stderr
    assert not harness.fake.token_requests()


def test_fail_on_warn_turns_a_remaining_warn_into_exit_1(harness: Harness) -> None:
    harness.add("t", behavior="short_expiry")
    assert harness.run().code == 0
    assert harness.run("--fail-on", "warn").code == 1


def test_the_config_file_excludes_and_fails_on_warn(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("north-good")
    bad = harness.add("south-bad", behavior="unauthorized_client")
    harness.add("warned", behavior="short_expiry")
    (harness.dir / ".git").mkdir()
    (harness.dir / ".stcheck.toml").write_text(
        'exclude_tenants = ["south-*"]\n\n[check]\nfail_on = "warn"\ntimeout = 5\n'
    )
    monkeypatch.chdir(harness.dir)
    outcome = harness.run()
    assert outcome.code == 1  # the warn of "warned"
    assert not harness.fake.token_requests(client_id=bad.client_id)
    assert harness.run("--fail-on", "fail").code == 0
    assert harness.run("--no-config").code == 1
    assert harness.fake.token_requests(client_id=bad.client_id)


def test_check_of_a_manifest_without_tenants_is_not_a_pass(harness: Harness) -> None:
    harness.write()  # tenants: [] — the app key alone resolves
    assert "tenants: []" in harness.manifest.read_text()
    outcome = harness.run(write=False)
    assert outcome.code == 1, outcome.stdout
    (verdict,) = [r for r in outcome.results if r["reason"] == "nothing_checked"]
    assert verdict["status"] == "error"
    assert "no tenant entry was checked" in verdict["message"]
    assert outcome.status("credentials") == ("pass", None)  # the app key is no tenant
    # validate: the schema allows an empty list, and nothing there is checked per entry
    assert run_cli("validate", str(harness.manifest)).code == 0


def test_check_whose_env_selects_no_entry_is_not_a_pass(harness: Harness) -> None:
    harness.add("integration-only")
    assert harness.run().code == 0
    outcome = harness.run("--env", "production")
    assert outcome.code == 1, outcome.stdout
    assert [r["reason"] for r in outcome.results if r["status"] == "error"] == ["nothing_checked"]

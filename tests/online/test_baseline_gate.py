"""``--baseline`` in the online gate: a known failure never hides checks that did not run."""

from __future__ import annotations

import time
from typing import Any

import yaml

from .conftest import Harness, Outcome


def _marked(outcome: Outcome, tenant: str) -> list[tuple[str, str, str | None, Any]]:
    return sorted(
        (r["check"], r["status"], r["reason"], r.get("baseline"))
        for r in outcome.results
        if r["tenant"] == tenant
    )


def test_a_baselined_schema_error_does_not_drop_an_entrys_online_checks(
    harness: Harness,
) -> None:
    harness.add("north-good")
    harness.add("south-broken")
    harness.tenants["south-broken"]["environments"]["integration"]["tenant_id"] = "not-a-number"
    made = harness.run("--output", f"json={harness.dir / 'base.json'}")
    assert made.code == 1
    # the entry is not checked online, and the output says so, naming the failure
    skipped = [r for r in made.results if r["tenant"] == "south-broken" and r["status"] == "skip"]
    assert {r["check"] for r in skipped} >= {"credentials", "token", "api"}
    for result in skipped:
        assert result["reason"] == "depends_on_failure"
        assert result["environment"] == "integration"
        assert "depends on the schema fail" in result["message"], result

    # a baseline that knows the schema error does not make the unchecked entry a pass
    outcome = harness.run("--baseline", str(harness.dir / "base.json"))
    assert outcome.code == 1, outcome.stdout
    schema = [r for r in outcome.find("schema", "south-broken") if r["status"] == "fail"]
    assert [r["baseline"] for r in schema] == ["new"]
    assert outcome.document is not None
    assert outcome.document["baseline"]["new"] == 1
    assert outcome.document["baseline"]["fixed"] == 0  # it is still there: not fixed either
    assert outcome.document["summary"]["fail"] == 1
    assert outcome.status("api", "north-good", "integration") == ("pass", None)


def test_a_baselined_credentials_failure_does_not_pass_an_unchecked_entry(
    harness: Harness,
) -> None:
    harness.add("north-good")
    harness.add("south-unset")
    harness.monkeypatch.delenv("T_SOUTH_UNSET_INTE_SECRET")
    made = harness.run("--output", f"json={harness.dir / 'base.json'}")
    assert made.code == 1
    assert made.status("token", "south-unset", "integration") == ("skip", "depends_on_failure")
    outcome = harness.run("--baseline", str(harness.dir / "base.json"))
    assert outcome.code == 1, outcome.stdout
    assert outcome.status("credentials", "south-unset", "integration") == (
        "fail",
        "unresolved_reference",
    )
    assert outcome.one("credentials", "south-unset", "integration")["baseline"] == "new"


def test_an_included_tenant_that_is_no_entry_is_skipped_in_its_own_file(harness: Harness) -> None:
    harness.add("north")
    harness.add("south")
    harness.tenants["south"]["environments"]["integration"].pop("client_secret")
    (harness.dir / ".git").mkdir()
    tenants = harness.dir / "tenants"
    tenants.mkdir()
    for name in ("north", "south"):
        (tenants / f"{name}.stcheck.yaml").write_text(
            yaml.safe_dump([harness.tenants[name]], sort_keys=False), encoding="utf-8"
        )
    root = {"version": 1, "app": harness.app, "include": ["tenants/*.stcheck.yaml"]}
    harness.manifest.write_text(yaml.safe_dump(root, sort_keys=False), encoding="utf-8")
    base = harness.dir / "base.json"
    made = harness.run("--output", f"json={base}", write=False)
    assert made.code == 1
    skip = made.one("api", "south", "integration")
    assert (skip["status"], skip["reason"]) == ("skip", "depends_on_failure")
    assert skip["location"]["file"] == str(tenants / "south.stcheck.yaml")
    assert skip["location"]["pointer"] == "/0/environments/integration"
    assert "depends on the schema fail" in skip["message"]
    outcome = harness.run("--baseline", str(base), write=False)
    assert outcome.code == 1, outcome.stdout
    assert outcome.status("api", "north", "integration") == ("pass", None)


def test_thousands_of_malformed_tenants_are_skipped_in_linear_time(harness: Harness) -> None:
    """Each skip ranked every failure as its possible cause: 6,000 malformed tenants took
    minutes after the checks, past --deadline. Each still names its own tenant's failure."""
    harness.add("good")
    harness.write()
    text = harness.manifest.read_text()
    unresolved = "".join(  # each a credentials fail for token and api to be skipped on
        f"- name: t{n}\n  environments:\n    integration:\n      tenant_id: {10_000 + n}\n"
        f"      client_id: env:NOPE_{n}_ID\n      client_secret: env:NOPE_{n}_SECRET\n"
        for n in range(3000)
    )
    malformed = "".join(f"- environments: x{n}\n" for n in range(3000))
    tenants = "tenants:\n" + malformed + unresolved
    harness.manifest.write_text(text.replace("tenants:\n", tenants, 1))
    started = time.monotonic()
    outcome = harness.run("--deadline", "60", write=False)
    assert time.monotonic() - started < 30
    assert outcome.code == 1
    skips = [r for r in outcome.results if r["reason"] == "depends_on_failure"]
    assert len(skips) >= 3000 * 2 + 3000
    last = next(r for r in skips if r["location"]["pointer"] == "/tenants/2999")
    assert "depends on the schema fail" in last["message"]  # past the explained window
    fifth = next(r for r in skips if r["location"]["pointer"] == "/tenants/5")
    assert f"at line {fifth['location']['line']}," in fifth["message"]  # its own tenant's

"""The unique check: names, tenant IDs and client references, through the real CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stcheck.api import Status
from tests.conftest import VALID

from .support import failures, write


def test_duplicate_tenant_name_points_at_the_second(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("name: rapid-hvac", "name: good-plumbing"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "duplicate_tenant"
    assert "first at line 7" in str(found["message"])
    assert found["location"]["line"] == 18  # type: ignore[index]


def test_duplicate_tenant_id_within_an_environment(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("tenant_id: 2345678", "tenant_id: 1234567"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "duplicate_tenant_id"
    assert found["environment"] == "integration"


def test_same_tenant_id_in_two_environments_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace('tenant_id: "9876543"', "tenant_id: 2345678"))
    assert failures(path, "unique") == []


def test_client_reference_shared_by_two_tenants(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("env:RH_INT_CLIENT_ID", "env:GP_INT_CLIENT_ID"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "shared_client_reference"
    assert found["tenant"] == "rapid-hvac"
    assert "(at line 12)" in str(found["message"])


def test_enterprise_group_allows_a_shared_pair(tmp_path: Path) -> None:
    text = (
        VALID.replace("env:RH_INT_CLIENT_ID", "env:GP_INT_CLIENT_ID")
        .replace("env:RH_INT_CLIENT_SECRET", "env:GP_INT_CLIENT_SECRET")
        .replace(
            "        client_secret: env:GP_INT_CLIENT_SECRET\n",
            "        client_secret: env:GP_INT_CLIENT_SECRET\n        enterprise_group: west\n",
        )
    )
    assert failures(write(tmp_path, text), "unique") == []
    one_sided = text.replace("        enterprise_group: west\n", "", 1)
    assert len(failures(write(tmp_path, one_sided), "unique")) == 2


def test_same_reference_in_both_environments(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("env:GP_PROD_CLIENT_ID", "env:GP_INT_CLIENT_ID"))
    (found,) = failures(path, "unique")
    assert found["reason"] == "same_reference_both_environments"
    assert found["environment"] == "production"


def _reference(tenants: list[dict[str, object]]) -> list[tuple[str, str, str, str | None]]:
    """The four rules, written out plainly: (reason, pointer, tenant, environment) in order."""
    found: list[tuple[str, str, str, str | None]] = []
    names: dict[str, int] = {}
    ids: dict[tuple[str, int], int] = {}
    clients: dict[tuple[str, str, str], tuple[str, str | None]] = {}
    for index, tenant in enumerate(tenants):
        name = tenant["name"]
        assert isinstance(name, str)
        if names.setdefault(name, index) != index:
            found.append(("duplicate_tenant", f"/tenants/{index}/name", name, None))
        environments = tenant["environments"]
        assert isinstance(environments, dict)
        refs: dict[str, dict[str, str]] = {}
        for env_name, env in environments.items():
            at = f"/tenants/{index}/environments/{env_name}"
            if ids.setdefault((env_name, env["tenant_id"]), index) != index:
                found.append(("duplicate_tenant_id", f"{at}/tenant_id", name, env_name))
            group = env.get("enterprise_group")
            refs[env_name] = {}
            for field in ("client_id", "client_secret"):
                if field not in env:
                    continue
                refs[env_name][field] = env[field]
                owner = clients.setdefault((env_name, field, env[field]), (name, group))
                if owner[0] != name and not (group and owner[1] == group):
                    found.append(("shared_client_reference", f"{at}/{field}", name, env_name))
        for field, ref in refs.get("production", {}).items():
            if refs.get("integration", {}).get(field) == ref:
                at = f"/tenants/{index}/environments/production/{field}"
                found.append(("same_reference_both_environments", at, name, "production"))
    return found


def test_the_rules_find_what_they_say_on_generated_fleets(tmp_path: Path) -> None:
    """Random fleets drawn from small pools of names, IDs, references and groups: the check's
    findings (its hot path finds nothing, its rules find the rest) are the rules' written out."""
    import json
    import random

    from tests.conftest import run_cli

    rng = random.Random(10)
    for round_ in range(40):
        tenants: list[dict[str, object]] = []
        for _ in range(rng.randint(1, 60 if round_ % 10 else 400)):
            environments: dict[str, dict[str, object]] = {}
            for env_name in rng.sample(["integration", "production"], rng.randint(1, 2)):
                env: dict[str, object] = {"tenant_id": rng.randint(1, 40)}
                for field in ("client_id", "client_secret"):
                    if rng.random() < 0.95:
                        env[field] = f"env:{rng.choice('ABCDEFGHIJKLMNOPQRSTUVWXYZ')}_{field}"
                if rng.random() < 0.2:
                    env["enterprise_group"] = rng.choice(["west", "east"])
                environments[env_name] = env
            tenants.append({"name": f"t{rng.randint(1, 50)}", "environments": environments})
        lines = ["version: 1", "app:", "  name: a", "  app_key: env:K", "tenants:"]
        for tenant in tenants:
            lines.append(f"  - name: {tenant['name']}")
            lines.append("    environments:")
            for env_name, env in tenant["environments"].items():  # type: ignore[attr-defined]
                lines.append(f"      {env_name}:")
                lines += [f"        {key}: {value}" for key, value in env.items()]
        path = write(tmp_path, "\n".join(lines) + "\n")
        document = json.loads(run_cli("validate", "--format", "json", str(path)).out)
        results = [r for r in document["results"] if r["check"] == "unique"]
        got = [
            (r["reason"], r["location"]["pointer"], r["tenant"], r["environment"])
            for r in results
            if r["status"] == "fail" and r["reason"] != "not_listed"
        ]
        expected = _reference(tenants)
        assert got == expected[:200]
        unlisted = [r for r in results if r["reason"] == "not_listed"]
        assert len(unlisted) == (1 if len(expected) > 200 else 0)


def _random_value(rng: Any) -> object:
    """A value of any kind a loaded manifest may hold where an ID or a reference belongs."""
    return rng.choice(
        [
            rng.randint(1, 9),
            str(rng.randint(1, 9)),
            f"0{rng.randint(1, 9)}",
            f"env:{rng.choice('ABC')}",
            rng.choice([True, False, None, 1.0, 2**70, -3, 0]),
            [rng.randint(1, 3)],
            {"k": rng.randint(1, 3)},
        ]
    )


def _random_fleet(rng: Any) -> list[object]:
    tenants: list[object] = []
    for index in range(rng.randint(0, 12)):
        if rng.random() < 0.03:
            tenants.append(rng.choice(["a tenant", 5, None, ["x"]]))
            continue
        tenant: dict[str, object] = {}
        if rng.random() < 0.95:
            tenant["name"] = rng.choice([f"t{index}", f"t{rng.randint(0, 12)}", 7, None])
        environments: dict[str, object] = {}
        for env_name in ("integration", "production", "staging"):
            roll = rng.random()
            if env_name == "staging" and roll < 0.9:
                continue
            if roll < 0.1:
                continue
            if roll < 0.13:
                environments[env_name] = rng.choice([None, "x", [1]])
                continue
            env: dict[str, object] = {}
            for field in ("tenant_id", "client_id", "client_secret", "enterprise_group"):
                unique_value = rng.random() < 0.9
                if field == "enterprise_group" and rng.random() < 0.8:
                    continue
                if rng.random() < 0.05:
                    continue
                if unique_value and field == "tenant_id":
                    other = 1000 + rng.randint(0, 12)  # as text, the same ID as an int
                    env[field] = rng.choice([1000 + index, str(1000 + index), 1000 + index, other])
                    env[field] = str(other) if env[field] == other else env[field]
                elif unique_value and field != "enterprise_group":
                    env[field] = f"env:{env_name[0].upper()}{field[7]}{index}"
                else:
                    env[field] = _random_value(rng)
            if env_name == "staging":
                env["tenant_id"] = rng.randint(1, 3)  # compared within staging too
            environments[env_name] = env
        integration, production = environments.get("integration"), environments.get("production")
        if isinstance(integration, dict) and isinstance(production, dict) and rng.random() < 0.1:
            field = rng.choice(["client_id", "client_secret"])
            production[field] = integration.get(field)  # one tenant's pair in both
        if rng.random() < 0.97:
            tenant["environments"] = environments if rng.random() < 0.97 else "none"
        tenants.append(tenant)
    return tenants


def test_the_fast_test_says_nothing_is_shared_only_when_the_rules_find_nothing() -> None:
    """Random fleets of every kind of value (duplicates, ``5`` and ``"5"``, bools, lists, other
    environments, tenants that are not mappings): whenever :func:`nothing_shared` lets the check
    skip its rules, the rules find nothing; and it does say so for most clean fleets."""
    import random

    from stcheck.api import CheckContext, RunOptions
    from stcheck.checks.unique import UniqueCheck, nothing_shared
    from stcheck.manifest import Manifest

    rng = random.Random(20261203)
    check = UniqueCheck()
    skipped = clean = 0
    for _ in range(4000):
        tenants = _random_fleet(rng)
        manifest = Manifest("m.yaml", {"version": 1, "tenants": tenants})
        ctx = CheckContext(manifest=manifest, options=RunOptions(), schemes={})
        found = [r for r in check.scan(ctx) if r.status != Status.PASS]
        clean += not found
        if nothing_shared(tenants):
            skipped += 1
            assert not found, tenants
            assert [r.message for r in check.run(ctx)] == [r.message for r in check.scan(ctx)]
    assert skipped > 1000 and clean - skipped > 300  # both ways, often


def test_the_fast_test_passes_a_generated_fleet() -> None:
    """The benchmark's fleets take the fast path (their tenant IDs are ints in integration and
    quoted text in production)."""
    import importlib.util

    from stcheck.checks.unique import nothing_shared
    from stcheck.manifest import load_bytes

    spec = importlib.util.spec_from_file_location(
        "generate", Path(__file__).resolve().parents[2] / "bench" / "generate.py"
    )
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    for make in generate.GENERATORS.values():
        manifest = load_bytes(make(300).encode(), "m.yaml")
        assert nothing_shared(manifest.data["tenants"])
        duplicate = make(300).replace("tenant-00007", "tenant-00003")
        assert not nothing_shared(load_bytes(duplicate.encode(), "m.yaml").data["tenants"])

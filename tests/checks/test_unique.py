"""The unique check: names, tenant IDs and client references, through the real CLI."""

from __future__ import annotations

from pathlib import Path

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

"""``unique`` across the manifests of one app in one run: command line and included files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import run_cli

MANIFEST = """\
version: 1
app:
  name: {app}
  app_key: env:ST_APP_KEY
tenants:
{tenants}"""
TENANT = """\
  - name: {name}
    environments:
      production:
        tenant_id: {tenant_id}
        client_id: env:{ref}_ID
        client_secret: env:{ref}_SECRET
"""


def tenants(*items: tuple[str, int, str], indent: str = "  ") -> str:
    text = "".join(TENANT.format(name=n, tenant_id=i, ref=r) for n, i, r in items)
    return text if indent == "  " else "".join(line[2:] + "\n" for line in text.splitlines())


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def manifest(path: Path, *items: tuple[str, int, str], app: str = "acme-dispatch") -> Path:
    return write(path, MANIFEST.format(app=app, tenants=tenants(*items)))


def unique_fails(*paths: Path) -> list[dict[str, Any]]:
    done = run_cli("validate", "--format", "json", *map(str, paths))
    results = json.loads(done.out)["results"]
    fails = [r for r in results if r["check"] == "unique" and r["status"] == "fail"]
    assert (done.code == 1) == bool(fails), done.out
    return fails


def test_two_manifests_of_one_app_share_nothing(tmp_path: Path) -> None:
    first = manifest(tmp_path / "east.stcheck.yaml", ("north", 101, "NORTH"), ("south", 102, "S"))
    second = manifest(
        tmp_path / "west.stcheck.yaml",
        ("west", 201, "WEST"),
        ("north", 301, "NORTH2"),  # the name again
        ("other", 102, "OTHER"),  # south's tenant ID again
        ("shared", 401, "S"),  # south's client references again
    )
    fails = unique_fails(first, second)
    by_reason = {(f["reason"], f["location"]["pointer"]): f for f in fails}
    assert set(by_reason) == {
        ("duplicate_tenant", "/tenants/1/name"),
        ("duplicate_tenant_id", "/tenants/2/environments/production/tenant_id"),
        ("shared_client_reference", "/tenants/3/environments/production/client_id"),
        ("shared_client_reference", "/tenants/3/environments/production/client_secret"),
    }
    for fail in fails:  # each points into the second file and names the first file and line
        assert fail["location"]["file"] == str(second)
        assert fail["location"]["line"] is not None
    name = by_reason[("duplicate_tenant", "/tenants/1/name")]
    assert f"first in {first} line 6" in name["message"]
    assert name["location"]["line"] == 12
    tenant_id = by_reason[("duplicate_tenant_id", "/tenants/2/environments/production/tenant_id")]
    assert f"used by 'south' (in {first} line 12)" in tenant_id["message"]


def test_manifests_of_different_apps_are_not_compared(tmp_path: Path) -> None:
    first = manifest(tmp_path / "a.stcheck.yaml", ("north", 101, "NORTH"), app="app-one")
    second = manifest(tmp_path / "b.stcheck.yaml", ("north", 101, "NORTH"), app="app-two")
    assert unique_fails(first, second) == []
    assert len(unique_fails(first, manifest(tmp_path / "c.stcheck.yaml", ("north", 5, "X"),
                                            app="app-one"))) == 1  # fmt: skip


def test_an_enterprise_group_may_share_a_pair_across_manifests(tmp_path: Path) -> None:
    grouped = TENANT + "        enterprise_group: hub-1\n"
    one = MANIFEST.format(app="acme", tenants=grouped.format(name="a", tenant_id=1, ref="HUB"))
    two = MANIFEST.format(app="acme", tenants=grouped.format(name="b", tenant_id=2, ref="HUB"))
    assert unique_fails(write(tmp_path / "1.yaml", one), write(tmp_path / "2.yaml", two)) == []


def test_included_files_are_unique_with_the_root_and_each_other(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    root = write(
        tmp_path / "stcheck.yaml",
        MANIFEST.format(app="acme", tenants=tenants(("root-one", 100, "ROOT")))
        + "include: [tenants/*.stcheck.yaml]\n",
    )
    a = write(tmp_path / "tenants/a.stcheck.yaml", tenants(("alpha", 101, "A"), indent=""))
    b = write(
        tmp_path / "tenants/b.stcheck.yaml",
        "# b\n" + tenants(("alpha", 102, "A2"), ("beta", 100, "B"), indent=""),
    )
    fails = unique_fails(root)
    found = {(f["reason"], f["location"]["file"], f["location"]["line"]) for f in fails}
    assert found == {
        ("duplicate_tenant", str(b), 2),
        ("duplicate_tenant_id", str(b), 11),
    }
    messages = " | ".join(f["message"] for f in fails)
    assert f"first at {a} line 1" in messages  # a and b are one batch
    assert f"(in {root} line 6)" in messages  # the root's tenant, another manifest


def test_a_second_root_on_the_command_line_is_compared_with_included_files(
    tmp_path: Path,
) -> None:
    (tmp_path / ".git").mkdir()
    root = write(
        tmp_path / "stcheck.yaml",
        MANIFEST.format(app="acme", tenants="").replace("tenants:\n", "")
        + "include: [tenants/*.stcheck.yaml]\n",
    )
    included = write(tmp_path / "tenants/a.stcheck.yaml", tenants(("alpha", 101, "A"), indent=""))
    other = manifest(tmp_path / "eu.stcheck.yaml", ("alpha", 999, "EU"), app="acme")
    (fail,) = unique_fails(root, other)
    assert fail["location"]["file"] == str(other)
    assert f"first in {included} line 1" in fail["message"]


def test_a_file_named_twice_or_included_by_two_roots_is_checked_once(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    one = manifest(tmp_path / "one.stcheck.yaml", ("north", 101, "NORTH"))
    assert unique_fails(one, one) == []
    shared = tmp_path / "shared/a.stcheck.yaml"
    write(shared, tenants(("alpha", 101, "A"), indent=""))
    root = MANIFEST.format(app="acme", tenants="").replace("tenants:\n", "")
    east = write(tmp_path / "east.stcheck.yaml", root + "include: [shared/*.stcheck.yaml]\n")
    west = write(tmp_path / "west.stcheck.yaml", root + "include: ['shared/a.stcheck.yaml']\n")
    done = run_cli("validate", "--format", "json", str(east), str(west))
    assert done.code == 0, done.out
    assert json.loads(done.out)["manifests"] == [str(east), str(shared), str(west)]

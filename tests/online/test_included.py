"""``check`` over included tenant files: entries checked online, located in their files."""

from __future__ import annotations

import yaml

from .conftest import Harness


def test_included_tenants_are_checked_online_and_located_in_their_files(harness: Harness) -> None:
    harness.add("north")
    harness.add("south", allowed=False)  # the probe is refused for this tenant
    (harness.dir / ".git").mkdir()
    tenants = harness.dir / "tenants"
    tenants.mkdir()
    for name in ("north", "south"):
        (tenants / f"{name}.stcheck.yaml").write_text(
            "# one tenant\n" + yaml.safe_dump([harness.tenants[name]], sort_keys=False),
            encoding="utf-8",
        )
    root = {"version": 1, "app": harness.app, "include": ["tenants/*.stcheck.yaml"]}
    harness.manifest.write_text(yaml.safe_dump(root, sort_keys=False), encoding="utf-8")
    outcome = harness.run(write=False)
    assert outcome.status("token", "north", "integration") == ("pass", None)
    assert outcome.status("api", "north", "integration")[0] == "pass"
    refused = outcome.one("api", "south", "integration")
    assert refused["status"] == "fail", refused
    assert refused["location"]["file"] == str(tenants / "south.stcheck.yaml")
    assert refused["location"]["line"] == 5  # its tenant ID, under the comment line
    assert refused["location"]["pointer"] == "/0/environments/integration/tenant_id"
    assert outcome.code == 1

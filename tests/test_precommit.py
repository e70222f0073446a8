"""``validate --pre-commit``: changed tenant files map to the manifests that include them;
the default manifest is ``stcheck.yaml``, else ``stcheck.yml``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stcheck.precommit import manifests_for
from tests.conftest import VALID, run_cli

ROOT = "version: 1\napp: {{name: a, app_key: env:K}}\ninclude: [{pattern}]\n"
TENANT = """\
- name: {name}
  environments:
    integration: {{tenant_id: {tid}, client_id: env:{var}_ID, client_secret: env:{var}_S}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "fleet/stcheck.yaml", ROOT.format(pattern="tenants/*.stcheck.yaml"))
    write(tmp_path / "fleet/eu.stcheck.yml", ROOT.format(pattern="tenants/eu-*.stcheck.yaml"))
    write(tmp_path / "fleet/tenants/north.stcheck.yaml", TENANT.format(name="n", tid=1, var="N"))
    write(tmp_path / "fleet/tenants/eu-x.stcheck.yaml", TENANT.format(name="x", tid=2, var="X"))
    write(tmp_path / "other/stcheck.yaml", VALID)
    return tmp_path


def test_a_tenant_file_maps_to_every_root_that_includes_it(repo: Path) -> None:
    assert manifests_for(["fleet/tenants/north.stcheck.yaml"]) == ["fleet/stcheck.yaml"]
    assert manifests_for(["fleet/tenants/eu-x.stcheck.yaml"]) == [
        "fleet/eu.stcheck.yml",
        "fleet/stcheck.yaml",
    ]


def test_roots_and_other_files_are_validated_as_they_are(repo: Path) -> None:
    changed = ["other/stcheck.yaml", "fleet/stcheck.yaml", "fleet/tenants/north.stcheck.yaml"]
    assert manifests_for(changed) == ["other/stcheck.yaml", "fleet/stcheck.yaml"]
    write(repo / "loose/tenants.stcheck.yaml", TENANT.format(name="l", tid=3, var="L"))
    assert manifests_for(["loose/tenants.stcheck.yaml"]) == ["loose/tenants.stcheck.yaml"]


def test_the_pre_commit_mode_validates_the_root_with_all_its_files(repo: Path) -> None:
    write(repo / "fleet/tenants/south.stcheck.yaml", TENANT.format(name="s", tid=1, var="S"))
    done = run_cli("validate", "--pre-commit", "fleet/tenants/south.stcheck.yaml")
    assert done.code == 1, done.out
    assert "fleet/tenants/south.stcheck.yaml:3:" in done.out
    assert "duplicate" in done.out or "already used" in done.out
    assert "(4 manifests)" in done.out  # the root and the three files it includes
    # without the mode, the tenant file alone is not a manifest
    alone = run_cli("validate", "fleet/tenants/south.stcheck.yaml")
    assert "not a mapping" in alone.out


def test_the_default_manifest_falls_back_to_stcheck_yml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    missing = run_cli("validate")
    assert missing.code == 2 and "stcheck.yaml: no such manifest file" in missing.err
    write(tmp_path / "stcheck.yml", VALID)
    done = run_cli("validate")
    assert done.code == 0, done.out + done.err
    write(tmp_path / "stcheck.yaml", "version: 2\n")  # stcheck.yaml wins when both exist
    assert run_cli("validate").code == 1
    os.remove(tmp_path / "stcheck.yaml")
    assert run_cli("validate").code == 0

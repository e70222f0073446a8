"""Fingerprints: stable across line moves, tenant reordering, rewording and working directories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stcheck.fingerprint import PATTERN, Fingerprinter, fingerprint, pointer_shape, repository_path
from stcheck.model import Location, Result, Status
from tests.conftest import VALID, run_cli

# rapid-hvac's secret uses a scheme nobody provides: a references fail with no tenant field.
UNKNOWN_SCHEME = VALID.replace("client_secret: env:RH_INT_CLIENT_SECRET", "client_secret: vault:rh")


def _result(**changes: object) -> Result:
    fields: dict[str, object] = {
        "check": "token",
        "status": Status.FAIL,
        "message": "rejected",
        "reason": "invalid_client",
        "tenant": "good-plumbing",
        "environment": "production",
        "location": Location("stcheck.yaml", 10, 3, "/tenants/0/environments/production"),
    }
    fields.update(changes)
    return Result(**fields)  # type: ignore[arg-type]


def _fingerprints(report: dict[str, object]) -> list[str]:
    results = report["results"]
    assert isinstance(results, list)
    return sorted(r["fingerprint"] for r in results if r["status"] not in ("pass", "skip"))


def test_what_is_in_and_out_of_a_fingerprint() -> None:
    base = fingerprint(_result(), "stcheck.yaml")
    assert PATTERN.fullmatch(base)
    same = [
        _result(message="reworded entirely"),
        _result(location=Location("stcheck.yaml", 99, 1, "/tenants/0/environments/production")),
        _result(status=Status.ERROR, hint="other hint", duration=1.5),
    ]
    for result in same:
        assert fingerprint(result, "stcheck.yaml") == base
    different = [
        _result(check="api"),
        _result(tenant="fast-hvac"),
        _result(environment="integration"),
        _result(reason="unauthorized_client"),
        _result(location=Location("stcheck.yaml", 10, 3, "/app/app_key")),
    ]
    for result in different:
        assert fingerprint(result, "stcheck.yaml") != base
    assert fingerprint(_result(), "deploy/stcheck.yaml") != base


def test_pointer_shape_names_the_tenant_and_drops_other_indexes() -> None:
    names = ("good-plumbing", None, "a/b~c")
    assert pointer_shape("/tenants/0/environments/integration", names) == (
        "/tenants/=good-plumbing/environments/integration"
    )
    assert pointer_shape("/tenants/2/name", names) == "/tenants/=a~1b~0c/name"
    assert pointer_shape("/tenants/1/name", names) == "/tenants/*/name"  # no valid name
    assert pointer_shape("/tenants/7/name", names) == "/tenants/*/name"  # out of range
    assert pointer_shape("/app/required_scopes/3") == "/app/required_scopes/*"
    assert pointer_shape("/0/environments/production") == "/*/environments/production"


def test_two_tenants_with_the_same_problem_differ_by_name() -> None:
    first = _result(tenant=None, location=Location("m.yaml", 1, 1, "/tenants/0/x"))
    second = _result(tenant=None, location=Location("m.yaml", 9, 1, "/tenants/1/x"))
    names = Fingerprinter({"m.yaml": ("a", "b")})
    assert names(first) != names(second)
    # reordered: tenant "a" is now at index 1, same fingerprint as before
    reordered = Fingerprinter({"m.yaml": ("b", "a")})
    assert reordered(second) == names(first)


def test_repository_path_is_relative_to_the_git_work_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    manifest = tmp_path / "deploy" / "stcheck.yaml"
    manifest.parent.mkdir()
    manifest.write_text("version: 1\n")
    assert repository_path(str(manifest)) == "deploy/stcheck.yaml"
    monkeypatch.chdir(manifest.parent)
    assert repository_path("stcheck.yaml") == "deploy/stcheck.yaml"
    monkeypatch.chdir(tmp_path)
    assert repository_path("deploy/stcheck.yaml") == "deploy/stcheck.yaml"
    assert repository_path("") == ""


def test_repository_path_without_git_is_the_manifest_directory(tmp_path: Path) -> None:
    manifest = tmp_path / "somewhere" / "fleet.yaml"
    manifest.parent.mkdir()
    manifest.write_text("version: 1\n")
    assert repository_path(str(manifest)) == "fleet.yaml"


def test_cli_fingerprints_survive_moved_lines_and_reordered_tenants(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / ".git").mkdir()
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(UNKNOWN_SCHEME)
    monkeypatch.chdir(tmp_path)
    first = run_cli("validate", "--format", "json", "stcheck.yaml")
    assert first.code == 1, first
    before = _fingerprints(json.loads(first.out))
    assert before

    # comments and blank lines move every line; the tenants swap places
    head, tenants = UNKNOWN_SCHEME.split("tenants:\n")
    good, rapid = tenants.split("  - name: rapid-hvac\n")
    moved = "# a comment\n\n\n" + head + "\n# more\ntenants:\n  - name: rapid-hvac\n" + rapid + good
    manifest.write_text(moved)
    second = run_cli("validate", "--format", "json", "stcheck.yaml")
    assert second.code == 1, second
    document = json.loads(second.out)
    lines_before = [r["location"]["line"] for r in json.loads(first.out)["results"]]
    lines_after = [r["location"]["line"] for r in document["results"]]
    assert lines_before != lines_after  # the lines did move
    assert _fingerprints(document) == before

    # the same manifest named from another working directory: same fingerprints
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    third = run_cli("validate", "--format", "json", "../stcheck.yaml")
    assert _fingerprints(json.loads(third.out)) == before


def test_every_json_result_has_a_fingerprint(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(UNKNOWN_SCHEME)
    document = json.loads(run_cli("validate", "--format", "json", str(manifest)).out)
    assert document["results"]
    assert all(PATTERN.fullmatch(r["fingerprint"]) for r in document["results"])

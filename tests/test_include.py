"""``include:`` tenant files: located results, confinement, caps, invalid files, batches."""

from __future__ import annotations

import json
import os
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from stcheck.manifest import include
from stcheck.manifest.schema import TENANTS_SCHEMA, schema_text, tenants_schema_text, validator
from tests.conftest import run_cli

ROOT = """\
version: 1
app:
  name: acme-dispatch
  app_key: env:ST_APP_KEY
include:
  - {pattern}
"""


def tenant(name: str, tenant_id: int, prefix: str = "") -> str:
    var = name.upper().replace("-", "_")
    return textwrap.indent(
        textwrap.dedent(f"""\
        - name: {name}
          environments:
            production:
              tenant_id: {tenant_id}
              client_id: env:{var}_ID
              client_secret: env:{var}_SECRET
        """),
        prefix,
    )


def layout(tmp_path: Path, files: dict[str, str], pattern: str = "tenants/*.stcheck.yaml") -> Path:
    (tmp_path / ".git").mkdir(exist_ok=True)  # the repository the files are confined to
    root = tmp_path / "stcheck.yaml"
    root.write_text(ROOT.format(pattern=pattern), encoding="utf-8")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def validate(*paths: Path | str) -> tuple[int, list[dict[str, Any]]]:
    done = run_cli("validate", "--format", "json", *map(str, paths))
    assert done.out, done.err
    return done.code, json.loads(done.out)["results"]


def failures(results: list[dict[str, Any]]) -> list[tuple[str, str, int | None, str]]:
    """(reason, file name, line, pointer) of each fail."""
    return [
        (
            r["reason"],
            os.path.basename(r["location"]["file"]),
            r["location"].get("line"),
            r["location"].get("pointer", ""),
        )
        for r in results
        if r["status"] == "fail"
    ]


def test_included_tenants_are_checked_and_results_point_into_their_files(tmp_path: Path) -> None:
    bad = tenant("beta", 201).replace("env:BETA_SECRET", "not-a-reference")
    root = layout(
        tmp_path,
        {
            "tenants/a.stcheck.yaml": tenant("alpha", 101),
            "tenants/b.stcheck.yaml": "# beta first, then gamma\n" + bad + tenant("gamma", 0),
        },
    )
    code, results = validate(root)
    assert code == 1
    assert sorted(failures(results)) == [
        ("invalid_tenant_id", "b.stcheck.yaml", 11, "/1/environments/production/tenant_id"),
        ("not_a_reference", "b.stcheck.yaml", 7, "/0/environments/production/client_secret"),
    ]
    named = {r["tenant"] for r in results if r["status"] == "fail"}
    assert named == {"beta", "gamma"}
    done = run_cli("validate", str(root))
    assert f"{tmp_path}/tenants/b.stcheck.yaml:7:" in done.out, done.out
    report = json.loads(run_cli("validate", "--format", "json", str(root)).out)
    assert report["manifests"] == [
        str(root),
        str(tmp_path / "tenants/a.stcheck.yaml"),
        str(tmp_path / "tenants/b.stcheck.yaml"),
    ]


def test_a_fleet_of_included_files_passes_and_the_root_needs_no_tenants(tmp_path: Path) -> None:
    files = {f"tenants/t{i}.stcheck.yaml": tenant(f"t-{i}", 1000 + i) for i in range(30)}
    code, results = validate(layout(tmp_path, files))
    assert code == 0, failures(results)
    assert not failures(results)


def test_many_small_files_are_checked_as_few_batches(tmp_path: Path) -> None:
    files = {f"tenants/t{i:03}.stcheck.yaml": tenant(f"t-{i}", 1000 + i) for i in range(200)}
    root = layout(tmp_path, files)
    from stcheck.manifest import load_manifest

    manifest = load_manifest(str(root))
    found = include.expand(manifest)
    assert len(found.files) == 200 and not found.problems
    batches = list(include.batches(manifest, found))
    assert len(batches) == 1
    assert len(batches[0].data["tenants"]) == 200
    # the 151st tenant is the first of t150's file, at its line 1
    location = batches[0].locate("/tenants/150/name")
    assert (os.path.basename(location.file), location.line) == ("t150.stcheck.yaml", 1)


def test_large_files_are_batches_of_their_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(include, "BATCH_BYTES", 1)
    files = {f"tenants/t{i}.stcheck.yaml": tenant(f"t-{i}", 1000 + i) for i in range(3)}
    root = layout(tmp_path, files)
    from stcheck.manifest import load_manifest

    manifest = load_manifest(str(root))
    assert len(list(include.batches(manifest, include.expand(manifest)))) == 3
    code, results = validate(root)
    assert code == 0, failures(results)


def test_a_pattern_that_matches_nothing_fails_at_its_line_with_a_hint(tmp_path: Path) -> None:
    root = layout(tmp_path, {}, pattern="tenants/*.stcheck.yaml")
    code, results = validate(root)
    assert code == 1
    (fail,) = [r for r in results if r["status"] == "fail"]
    assert fail["reason"] == "include_no_match"
    assert fail["location"]["line"] == 6
    assert "matches no file" in fail["message"]
    assert "relative to the manifest's directory" in fail["hint"]


@pytest.mark.parametrize(
    "text",
    [
        "- name: [unclosed\n",  # YAML error
        "name: alpha\n",  # a mapping, not a list
        "just text\n",
    ],
)
def test_an_invalid_included_file_is_a_located_fail_in_that_file(tmp_path: Path, text: str) -> None:
    root = layout(
        tmp_path,
        {"tenants/a.stcheck.yaml": tenant("alpha", 101), "tenants/b.stcheck.yaml": text},
    )
    code, results = validate(root)
    assert code == 1
    fails = failures(results)
    assert fails and all(name == "b.stcheck.yaml" for _, name, _, _ in fails), fails
    assert all(line is not None for _, _, line, _ in fails)
    assert {r["reason"] for r in results if r["status"] == "fail"} <= {"invalid_yaml", "not_a_list"}
    # the other file was still checked
    assert any(r["check"] == "unique" and r["status"] == "pass" for r in results)


def test_included_schema_errors_are_located_in_the_file(tmp_path: Path) -> None:
    text = tenant("alpha", 101) + "  colour: blue\n"
    code, results = validate(layout(tmp_path, {"tenants/a.stcheck.yaml": text}))
    assert code == 1
    assert failures(results) == [("unknown_key", "a.stcheck.yaml", 7, "/0/colour")]


def test_an_included_file_cannot_include(tmp_path: Path) -> None:
    nested = "include: [more/*.stcheck.yaml]\n"
    root = layout(
        tmp_path,
        {"tenants/a.stcheck.yaml": nested, "tenants/more/x.stcheck.yaml": tenant("x", 1)},
    )
    code, results = validate(root)
    assert code == 1
    assert failures(results) == [("include_nested", "a.stcheck.yaml", 1, "")]
    assert not any(r.get("tenant") == "x" for r in results)


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("../outside/*.stcheck.yaml", "climbs out"),
        ("tenants/../../outside/*.stcheck.yaml", "climbs out"),
        ("/etc/passwd", "absolute"),
        ("~/tenants.yaml", "'~'"),
    ],
)
def test_patterns_that_escape_are_refused(tmp_path: Path, pattern: str, words: str) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.stcheck.yaml").write_text(tenant("outsider", 9), encoding="utf-8")
    repo.mkdir()
    code, results = validate(layout(repo, {}, pattern=f"'{pattern}'"))
    assert code == 1
    (fail,) = [r for r in results if r["status"] == "fail"]
    assert fail["reason"] == "include_refused"
    assert words in fail["message"]
    assert fail["location"]["line"] == 6
    assert not any(r.get("tenant") == "outsider" for r in results)
    assert "outsider" not in json.dumps(results)


def test_a_symbolic_link_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    secret = tmp_path / "secret.stcheck.yaml"
    secret.write_text(tenant("outsider", 9) + "# CANARY-SECRET-9f3\n", encoding="utf-8")
    root = layout(repo, {"tenants/a.stcheck.yaml": tenant("alpha", 101)})
    os.symlink(secret, repo / "tenants" / "evil.stcheck.yaml")
    code, results = validate(root)
    assert code == 1
    (fail,) = [r for r in results if r["status"] == "fail"]
    assert fail["reason"] == "include_refused"
    assert "outside the repository" in fail["message"]
    assert str(tmp_path / "secret") not in fail["message"]
    assert "CANARY-SECRET" not in json.dumps(results)
    assert not any(r.get("tenant") == "outsider" for r in results)
    # the other included file was still checked
    assert any(r.get("tenant") == "alpha" or r["check"] == "unique" for r in results)


def test_a_symbolic_link_inside_the_repository_is_followed(tmp_path: Path) -> None:
    root = layout(tmp_path, {"shared/a.yaml": tenant("alpha", 101)})
    (tmp_path / "tenants").mkdir()
    os.symlink(tmp_path / "shared" / "a.yaml", tmp_path / "tenants" / "a.stcheck.yaml")
    code, results = validate(root)
    assert code == 0, failures(results)


def test_a_fifo_included_file_is_refused_without_hanging(tmp_path: Path) -> None:
    root = layout(tmp_path, {"tenants/a.stcheck.yaml": tenant("alpha", 101)})
    os.mkfifo(tmp_path / "tenants" / "b.stcheck.yaml")
    code, results = validate(root)
    assert code == 1
    assert [reason for reason, *_ in failures(results)] == ["include_refused"]


def test_the_number_of_included_files_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(include, "MAX_INCLUDED_FILES", 3)
    files = {f"tenants/t{i}.stcheck.yaml": tenant(f"t-{i}", 1000 + i) for i in range(5)}
    code, results = validate(layout(tmp_path, files))
    assert code == 1
    (fail,) = [r for r in results if r["status"] == "fail"]
    assert fail["reason"] == "include_too_many"
    assert "more than 3 included files" in fail["message"]


def test_the_total_size_of_included_files_is_capped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(include, "MAX_INCLUDED_BYTES", 400)
    files = {f"tenants/t{i}.stcheck.yaml": tenant(f"t-{i}", 1000 + i) for i in range(5)}
    code, results = validate(layout(tmp_path, files))
    assert code == 1
    assert [reason for reason, *_ in failures(results)] == ["include_too_many"]


def test_the_include_failure_is_reported_even_when_schema_is_skipped(tmp_path: Path) -> None:
    root = layout(tmp_path, {})
    done = run_cli("validate", "--skip", "schema", "--format", "json", str(root))
    assert done.code == 1, done.out
    reasons = [r["reason"] for r in json.loads(done.out)["results"] if r["status"] == "fail"]
    assert reasons == ["include_no_match"]


def test_the_tenants_schema_is_derived_from_the_manifest_schema() -> None:
    assert schema_text(TENANTS_SCHEMA) == tenants_schema_text()
    assert run_cli("schema", "--tenants").out == tenants_schema_text()
    tenants_validator = validator(TENANTS_SCHEMA)
    assert tenants_validator.is_valid([{"name": "a", "environments": {"integration": {
        "tenant_id": 1, "client_id": "env:A", "client_secret": "env:B"}}}])  # fmt: skip
    assert not tenants_validator.is_valid({"name": "a"})


def test_the_readiness_report_fails_when_an_include_failed(tmp_path: Path) -> None:
    root = layout(
        tmp_path,
        {"tenants/a.stcheck.yaml": tenant("alpha", 101), "tenants/b.stcheck.yaml": "x: [\n"},
    )
    done = run_cli("report", "--offline", "--format", "json", str(root))
    assert done.code == 1, done.out + done.err


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github", "junit", "markdown"])
def test_a_secret_written_into_an_included_file_is_located_and_never_shown(
    tmp_path: Path, fmt: str
) -> None:
    from tests.conftest import CANARY_SECRET

    leaked = tenant("beta", 201).replace("env:BETA_SECRET", CANARY_SECRET)
    root = layout(
        tmp_path,
        {"tenants/a.stcheck.yaml": tenant("alpha", 101), "tenants/b.stcheck.yaml": leaked},
    )
    done = run_cli("validate", "--format", fmt, str(root))
    assert done.code == 1
    assert CANARY_SECRET not in done.out + done.err
    if fmt == "json":
        found = [r for r in json.loads(done.out)["results"] if r["reason"] == "leaked_secret"]
        assert [
            (os.path.basename(r["location"]["file"]), r["location"]["line"]) for r in found
        ] == [("b.stcheck.yaml", 6)]
        assert found[0]["location"]["pointer"] == "/0/environments/production/client_secret"


def test_the_example_fleet_validates() -> None:
    root = Path(__file__).resolve().parent.parent / "examples" / "fleet" / "stcheck.yaml"
    code, results = validate(root)
    assert code == 0, failures(results)
    files = {os.path.basename(r["location"]["file"]) for r in results if r.get("location")}
    assert {"north-electric.stcheck.yaml", "stcheck.yaml"} <= files


def test_an_include_glob_does_not_follow_linked_folders_and_ends(tmp_path: Path) -> None:
    """Links to '.' and '**' (or many '*/') made glob walk an exponential number of paths."""
    for pattern in ("**/nothing.stcheck.yaml", "*/" * 30 + "nothing.yaml"):
        files = {"tenants/a.stcheck.yaml": tenant("a", 1)}
        root = layout(tmp_path, files, pattern=f'"{pattern}"')
        for name in "abc":
            if not (tmp_path / name).is_symlink():
                (tmp_path / name).symlink_to(".")
        started = time.monotonic()
        code, results = validate(root)
        assert time.monotonic() - started < 10
        assert code == 1
        assert "include_no_match" in {r["reason"] for r in results if r["status"] == "fail"}


@pytest.mark.parametrize("pattern", ["tenants", '"tenants/"', '"tenants/*/"'])
def test_a_pattern_that_names_only_folders_matches_no_file(tmp_path: Path, pattern: str) -> None:
    """``include: [tenants]`` included nothing and passed: a folder is not a match."""
    root = layout(tmp_path, {"tenants/a.stcheck.yaml": tenant("a", 1)}, pattern=pattern)
    code, results = validate(root)
    assert code == 1
    assert "include_no_match" in {r["reason"] for r in results if r["status"] == "fail"}


def test_many_copies_of_a_pattern_cost_one_walk(tmp_path: Path) -> None:
    """Each pattern re-walked and re-checked every match, even past the schema's 100
    patterns: thousands of copies ran for hours before the schema said no."""
    files = {f"t/{n:04d}.stcheck.yaml": tenant(f"t{n}", 1000 + n) for n in range(200)}
    for copies, expected in ((99, 0), (5000, 1)):
        again = '  - "t/*.stcheck.yaml"\n' * copies
        root = layout(tmp_path, files, pattern='"t/*.stcheck.yaml"\n' + again)
        started = time.monotonic()
        code, _ = validate(root)
        assert code == expected  # 5,000: the schema's maxItems
        assert time.monotonic() - started < 20


def test_a_date_that_is_no_day_in_one_included_file_of_a_batch_is_reported(
    tmp_path: Path,
) -> None:
    """Loading rules out the date and tenant-ID pass per file; a batch runs it if any file of
    it could not be ruled out."""
    bad = tenant("beta", 201) + "  go_live: {target_date: 2026-02-30}\n"
    files = {"tenants/a.stcheck.yaml": tenant("alpha", 101), "tenants/b.stcheck.yaml": bad}
    code, results = validate(layout(tmp_path, files))
    assert code == 1
    assert failures(results) == [("invalid_value", "b.stcheck.yaml", 7, "/0/go_live/target_date")]


@pytest.mark.parametrize("name", ["[a]", "{x: 1}"])
def test_an_app_name_that_is_no_text_in_a_manifest_with_includes_is_a_schema_finding(
    tmp_path: Path, name: str
) -> None:
    """A list or mapping as ``app.name`` crashed the include bookkeeping (exit 3: unhashable),
    found by review; it is the schema check's finding, exit 1."""
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "a.yaml").write_text(
        "- name: a\n  environments:\n    production:\n      tenant_id: 1\n"
        "      client_id: env:A_ID\n      client_secret: env:A_SECRET\n",
        encoding="utf-8",
    )
    root = tmp_path / "stcheck.yaml"
    root.write_text(
        f"version: 1\napp:\n  name: {name}\n  app_key: env:K\ninclude:\n  - t/*.yaml\n",
        encoding="utf-8",
    )
    done = run_cli("validate", str(root))
    assert done.code == 1, done.err
    assert "app.name must be text" in done.out

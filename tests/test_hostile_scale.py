"""Hostile but loadable manifests: problems are located in linear time, counted past a window,
and manifest text echoed in messages is shortened."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from stcheck.manifest import load_bytes
from stcheck.manifest import locate as locate_module
from stcheck.manifest.schema import load_schema, validator
from stcheck.text import shortened, shown
from tests.conftest import VALID, run_cli

HEADER = "version: 1\napp:\n  name: x\n  app_key: env:K\n"


def test_100000_unknown_keys_validate_in_seconds_not_minutes(tmp_path: Path) -> None:
    """The issue's case: 1.3 MB, 100,000 unknown keys; locating each scanned them all (385 s)."""
    keys = "".join(f"  x{i:06d}: 1\n" for i in range(100_000))
    path = tmp_path / "stcheck.yaml"
    path.write_text(HEADER + keys + "tenants: []\n", encoding="utf-8")
    started = time.monotonic()
    result = run_cli("validate", "--format", "json", str(path))
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"took {elapsed:.0f} s"
    failures = [r for r in json.loads(result.out)["results"] if r["status"] == "fail"]
    assert len(failures) == 201
    listed = [r for r in failures if r["reason"] == "unknown_key"]
    assert [r["location"]["line"] for r in listed] == list(range(5, 205))
    assert "and about 99800 more schema problems" in failures[-1]["message"]


def _wide(count: int) -> str:
    """A manifest with wide mappings and a wide list, comments and non-ASCII text between."""
    keys = "".join(f"  k{i}: v{i}  # ké {i}\n" for i in range(count))
    keys += "  k7: duplicate\n"  # first key k7 stays the located key; its last value wins
    tenants = "".join(f"  - name: t{i}  # ñ\n    environments: {{}}\n" for i in range(count))
    return HEADER + keys + "tenants:\n" + tenants


def test_indexed_lookups_agree_with_scanning(monkeypatch: pytest.MonkeyPatch) -> None:
    text = _wide(300)
    pointers = [f"/app/k{i}" for i in range(300)] + [f"/tenants/{i}/name" for i in range(300)]
    offsets = [text.index(marker) for marker in ("k0:", "k150:", "v299", "ké 42", "ñ", "t250")]
    offsets += [text.rindex("ñ"), len(text) - 2, 0, 10]

    def answers() -> tuple[list[object], list[object]]:
        loaded = load_bytes(text.encode(), "m.yaml")
        located = [loaded.locate(p) for p in pointers]
        located += [loaded.locate("/app", key=f"k{i}") for i in (0, 7, 299)]
        return located, [loaded.at_offset(o) for o in offsets]

    indexed = answers()
    monkeypatch.setattr(locate_module, "_SCAN_WIDTH", 10**9)  # the plain scans
    scanned = answers()
    assert indexed == scanned
    loaded = load_bytes(text.encode(), "m.yaml")
    assert loaded.locate("/app/k7").line == 5 + 300  # the last value of a duplicate key
    assert loaded.locate("/app", key="k7").line == 5 + 7  # the first key
    location, what = loaded.at_offset(text.index("ké 42"))
    assert what == "other" and location.line == 5 + 42 and location.column == 15


def test_aliases_out_of_document_order_fall_back_to_scanning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = "".join(f"  - *a\n  - v{i}\n" for i in range(40))
    text = "anchor: &a {deep: value}\nlist:\n" + items
    loaded = load_bytes(text.encode(), "m.yaml")
    offsets = [text.index("value"), text.index("v17"), text.rindex("*a")]
    indexed = [loaded.at_offset(o) for o in offsets]
    monkeypatch.setattr(locate_module, "_SCAN_WIDTH", 10**9)
    assert indexed == [loaded.at_offset(o) for o in offsets]
    assert indexed[0][0].pointer == "/anchor/deep" and indexed[1][0].pointer == "/list/35"


def test_many_wrong_tenants_are_listed_in_a_window_and_counted(tmp_path: Path) -> None:
    """Every check lists at most 200 problems: 3,000 tenants sharing one reference, bad names."""
    tenants = "".join(
        f"  - name: Bad_{i}\n    environments:\n      integration:"
        f" {{tenant_id: {i + 1}, client_id: env:SAME, client_secret: env:S{i}}}\n"
        for i in range(3_000)
    )
    path = tmp_path / "stcheck.yaml"
    path.write_text(HEADER + "tenants:\n" + tenants, encoding="utf-8")
    result = run_cli("validate", "--format", "json", str(path))
    results = json.loads(result.out)["results"]
    unique = [r for r in results if r["check"] == "unique"]
    assert len(unique) == 201
    assert unique[-1]["reason"] == "not_listed"
    assert "and 2,799 more uniqueness problems not listed" in unique[-1]["message"]
    schema = [r for r in results if r["check"] == "schema"]
    assert len(schema) == 201 and "more schema problems" in schema[-1]["message"]


def test_uniqueness_problems_beyond_the_window_are_all_counted(tmp_path: Path) -> None:
    """300 tenants share one tenant ID and one client ID: 299 + 299 findings, 200 listed.

    Once the listing was full, a duplicate tenant ID used to skip the entry's
    client references, so the count of the rest came out at 199.
    """
    tenants = "".join(
        f"  - name: t{i}\n    environments:\n      integration:"
        f" {{tenant_id: 1, client_id: env:SAME, client_secret: env:S{i}}}\n"
        for i in range(300)
    )
    path = tmp_path / "stcheck.yaml"
    path.write_text(HEADER + "tenants:\n" + tenants, encoding="utf-8")
    result = run_cli("validate", "--format", "json", "--select", "unique", str(path))
    unique = [r for r in json.loads(result.out)["results"] if r["check"] == "unique"]
    assert len(unique) == 201
    assert "and 398 more uniqueness problems not listed" in unique[-1]["message"]


def test_the_split_validation_window_matches_a_whole_validation() -> None:
    """Validating tenant by tenant finds what one validation of the whole manifest finds."""
    tenants = "".join(
        f"  - name: {'Bad' if i % 3 else 'ok'}{i}\n    environments: {{staging: {{}}}}\n"
        for i in range(150)
    )
    data = load_bytes((HEADER + "  extra: 1\ntenants:\n" + tenants).encode(), "m").data
    whole = list(validator().violations(data))
    window, more = validator().window(data, 10_000)
    assert more == 0
    assert sorted(map(repr, window)) == sorted(map(repr, whole))
    small, rest = validator().window(data, 50)
    assert len(small) == 50 and rest >= 100  # at least one per tenant past the window


def test_tenants_schema_has_no_keyword_across_items() -> None:
    """Validator.window checks tenants one by one: sound only while no rule spans items."""
    tenants = load_schema()["properties"]["tenants"]
    assert set(tenants) <= {"type", "items", "description"}


def test_a_15_mb_tenant_name_is_not_echoed_whole(tmp_path: Path) -> None:
    name = "a" * (15 * 1024 * 1024)
    text = VALID.replace("name: good-plumbing", f"name: {name}\n    colour: blue")
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    for fmt in ("text", "json", "github", "junit", "sarif", "markdown"):
        result = run_cli("validate", "--format", fmt, str(path))
        assert result.code == 1
        assert len(result.out) < 100_000, (fmt, len(result.out))
    document = json.loads(run_cli("validate", "--format", "json", str(path)).out)
    reasons = {r["reason"] for r in document["results"]}
    assert {"invalid_value", "unknown_key"} <= reasons
    named = [r for r in document["results"] if (r["tenant"] or "").startswith("aaaa")]
    assert named and all(len(r["tenant"]) <= 100 for r in named)
    assert all(r["tenant"].endswith("… (15,728,640 characters)") for r in named)


def test_shown_quotes_shortens_and_neutralises() -> None:
    assert shown("good-plumbing") == "'good-plumbing'"
    assert shown("x" * 100) == "'" + "x" * 64 + "…' (100 characters)"
    assert shown("\x1b]0;pwned\x07\u202e") == "'\\x1b]0;pwned\\x07\\u202e'"
    assert shortened("x" * 500, 100) == shortened(shortened("x" * 500, 100), 100)
    assert len(shortened("x" * 500, 100) or "") == 100
    cut = shown("'\n" * 100)
    assert "\n" not in cut and cut.endswith("(200 characters)")

"""Loading manifests: positions, and YAML's traps caught instead of passed on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stcheck import manifest as manifest_module
from stcheck.manifest import HAVE_LIBYAML, MAX_BYTES, load_bytes, load_manifest
from stcheck.model import Location


def problems(text: str) -> list[tuple[str, int | None, int | None, str]]:
    loaded = load_bytes(text.encode(), "m.yaml")
    return [(p.reason, p.line, p.column, p.pointer) for p in loaded.problems]


def test_libyaml_c_parser_is_used_when_present() -> None:
    import yaml

    assert yaml.__with_libyaml__ == HAVE_LIBYAML


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: 1\nb: 2\na: 3\n", [("duplicate_key", 3, 1, "/a")]),
        ("x:\n  tenant_id: 0123\n", [("yaml_trap", 2, 14, "/x/tenant_id")]),
        ("t: 1:30\n", [("yaml_trap", 1, 4, "/t")]),
        ("t: 0x1F\n", [("yaml_trap", 1, 4, "/t")]),
        ("t: 1_000\n", [("yaml_trap", 1, 4, "/t")]),
        ("t: 0o17\n", [("yaml_trap", 1, 4, "/t")]),
        ("a: !!python/object:os.system x\n", [("unsupported_tag", 1, 4, "/a")]),
        ("a: !!binary aGVsbG8=\n", [("unsupported_tag", 1, 4, "/a")]),
        ("base: &b {x: 1}\nother:\n  <<: *b\n", [("unsupported_tag", 3, 3, "/other/<<")]),
        ("", [("empty", None, None, "")]),
        ("# only a comment\n", [("empty", None, None, "")]),
        ("a: 1\n---\nb: 2\n", [("multi_document", 2, 1, "")]),
        ("- a\n- b\n", [("not_a_mapping", 1, 1, "")]),
        ("just text\n", [("not_a_mapping", 1, 1, "")]),
        ("a: [1, 2\n", [("invalid_yaml", 2, 1, "")]),
        ("a: b: c\n", [("invalid_yaml", 1, 5, "")]),
    ],
)
def test_traps_and_malformed_input(text: str, expected: list[tuple[str, int, int, str]]) -> None:
    assert problems(text) == expected


def test_duplicate_key_names_the_first_line() -> None:
    loaded = load_bytes(b"tenants:\n  - name: a\n    owner: x\n    name: b\n", "m.yaml")
    (problem,) = loaded.problems
    assert problem.reason == "duplicate_key"
    assert (problem.line, problem.column) == (4, 5)
    assert "first written at line 2" in problem.message


def test_octal_trap_says_what_yaml_would_read() -> None:
    loaded = load_bytes(b"tenant_id: 0123\n", "m.yaml")
    assert "83" in loaded.problems[0].message
    assert loaded.data == {"tenant_id": "0123"}  # what was written, not 83


def test_yaml_1_1_booleans_and_dates_stay_what_was_written() -> None:
    loaded = load_bytes(
        b"name: no\non: 2026-11-20\nflag: true\nnothing: ~\nbig: 123456789012345678901234\n",
        "m.yaml",
    )
    assert loaded.problems == []
    assert loaded.data == {
        "name": "no",
        "on": "2026-11-20",
        "flag": True,
        "nothing": None,
        "big": 123456789012345678901234,
    }


def test_quoted_values_are_text() -> None:
    loaded = load_bytes(b"a: '0123'\nb: \"true\"\nc: '12'\n", "m.yaml")
    assert loaded.data == {"a": "0123", "b": "true", "c": "12"}
    assert loaded.problems == []


def test_alias_bomb_is_refused_without_expanding() -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]']
    previous = "a"
    for name in "bcdefghi":
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 10) + "]")
        previous = name
    loaded = load_bytes(("\n".join(lines) + "\n").encode(), "bomb.yaml")
    assert [p.reason for p in loaded.problems] == ["alias_expansion"]
    assert loaded.problems[0].line is not None
    assert not loaded.loaded


def test_a_few_aliases_are_fine() -> None:
    loaded = load_bytes(b"a: &x {k: 1}\nb: *x\nc: *x\n", "m.yaml")
    assert loaded.problems == []
    assert loaded.data == {"a": {"k": 1}, "b": {"k": 1}, "c": {"k": 1}}


def test_deep_nesting_is_refused() -> None:
    loaded = load_bytes(b"[" * 5000 + b"]" * 5000, "deep.yaml")
    assert loaded.problems[0].reason in {"invalid_yaml", "too_deep"}
    assert not loaded.loaded
    nested = "a:\n" + "".join("  " * i + "- \n" for i in range(1, 80))
    loaded = load_bytes(nested.encode(), "deep2.yaml")
    assert not loaded.loaded


def test_invalid_encoding_is_reported() -> None:
    loaded = load_bytes(b"a: \x80\x81\n", "bin.yaml")
    assert loaded.problems[0].reason == "invalid_yaml"
    assert "UTF-8" in loaded.problems[0].message


def test_huge_file_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:  # sparse: no disk used, no bytes read
        handle.truncate(MAX_BYTES + 1)
    loaded = load_manifest(str(path))
    assert [p.reason for p in loaded.problems] == ["too_large"]
    assert f"{MAX_BYTES + 1:,}" in loaded.problems[0].message


def test_small_limit_applies(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("".join(f"k{i}: 1\n" for i in range(100)))
    assert load_manifest(str(path), max_bytes=50).problems[0].reason == "too_large"
    assert load_manifest(str(path)).problems == []


def test_locate_gives_line_column_and_falls_back(write) -> None:  # type: ignore[no-untyped-def]
    path = write("version: 1\napp:\n  name: x\ntenants:\n  - name: a\n    environments: {}\n")
    loaded = load_manifest(str(path))
    assert loaded.locate("/app/name") == Location(str(path), 3, 9, "/app/name")
    assert loaded.locate("/tenants/0/name").line == 5
    # the key rather than the value
    assert loaded.locate("/app", key="name").column == 3
    # a pointer below what exists: the deepest node that does
    assert loaded.locate("/tenants/0/environments/production/tenant_id").line == 6


def test_offset_positions_distinguish_keys_values_and_comments(write) -> None:  # type: ignore[no-untyped-def]
    text = "# a comment\nkey: value\nlist:\n  - item\n"
    path = write(text)
    loaded = load_manifest(str(path))
    assert loaded.at_offset(text.index("comment"))[1] == "other"
    location, what = loaded.at_offset(text.index("key"))
    assert (what, location.line) == ("key", 2)
    location, what = loaded.at_offset(text.index("value"))
    assert (what, location.pointer) == ("value", "/key")
    location, what = loaded.at_offset(text.index("item"))
    assert (what, location.pointer, location.line, location.column) == ("value", "/list/0", 4, 5)


def test_entries_only_for_well_formed_environments(write) -> None:  # type: ignore[no-untyped-def]
    path = write(
        """\
        version: 1
        tenants:
          - name: a
            environments:
              integration: {tenant_id: 5, client_id: env:A, client_secret: env:B}
              production: {tenant_id: "0012", client_id: env:C, client_secret: env:D}
          - name: b
            environments:
              production: {tenant_id: "77", client_id: env:E, client_secret: env:F,
                           enterprise_group: west, secret_created_on: 2026-01-02}
        """
    )
    entries = load_manifest(str(path)).entries()
    assert [(e.tenant, e.environment, e.tenant_id) for e in entries] == [
        ("a", "integration", 5),
        ("b", "production", 77),
    ]
    assert entries[1].enterprise_group == "west"
    assert entries[1].secret_created_on == "2026-01-02"
    assert entries[1].pointer == "/tenants/1/environments/production"


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        load_manifest(str(tmp_path / "nope.yaml"))
    assert not os.path.exists(tmp_path / "nope.yaml")


def test_loader_messages_and_pointers_never_show_credential_shaped_keys() -> None:
    secret = "Xk9mP2qR7vT4wZ8nB3cF6hJ1"
    loaded = load_bytes(
        f"app:\n  {secret}: 1\n  {secret}: 2\n  x: {{y: 0123}}\n".encode(), "m.yaml"
    )
    (duplicate, trap) = loaded.problems
    assert duplicate.reason == "duplicate_key" and trap.reason == "yaml_trap"
    assert secret not in duplicate.message + duplicate.pointer
    assert duplicate.pointer == "/app/*"
    nested = load_bytes(f"{secret}:\n  a: 0123\n".encode(), "m.yaml")
    assert nested.problems[0].pointer == "/*/a"


def test_trap_in_a_credential_field_is_not_quoted() -> None:
    loaded = load_bytes(b"app:\n  app_key: 0x1234abcd5678ef90\n  other: 0x1F\n", "m.yaml")
    secret_field, other = loaded.problems
    assert "0x1234abcd5678ef90" not in secret_field.message
    assert "1311862289879068560" not in secret_field.message
    assert other.message.startswith("0x1F is ambiguous: YAML 1.1 reads it as 31")


def test_many_problems_are_listed_up_to_a_limit() -> None:
    loaded = load_bytes(("t:\n" + "  - 0123\n" * 5000).encode(), "m.yaml")
    assert len(loaded.problems) == manifest_module.MAX_LOAD_PROBLEMS + 1
    assert loaded.problems[-1].message == "and 4800 more problems of this kind not listed"
    assert loaded.problems[0].pointer == "/t/0"


def test_too_many_items_are_refused_before_parsing() -> None:
    loaded = load_bytes(b"t: [" + b"1," * (manifest_module.MAX_ITEMS + 1) + b"]\n", "big.yaml")
    assert [p.reason for p in loaded.problems] == ["too_large"]
    assert "lines and items" in loaded.problems[0].message


PARSER_CASES = [
    "a: 1\nb: 2\na: {x: 0123}\n",
    "tenants:\n  - name: a\n    owner: x\n    name: b\n",
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: *b\n",
    "? [a]\n: 1\nk: 'v'\nl: |\n  text\n",
    "a: 1\n---\nb: 2\n",
    "a: [1, 2\n",
    'a: !!binary aGVsbG8=\n# ké\nb: "\\u00e9"\n',
    "x: *nowhere\n",
    "- a\n- b\n",
    "",
]


@pytest.mark.parametrize("text", PARSER_CASES)
def test_pure_python_parser_loads_what_libyaml_loads(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without libyaml the pure-Python parser's events build the same data, problems, positions."""
    from stcheck.manifest import load as load_module

    def answers() -> tuple[object, ...]:
        loaded = load_bytes(text.encode(), "m.yaml")
        offsets = range(0, len(loaded.text), 3)
        pointers = ["/a", "/a/x", "/tenants/0/name", "/other/y/x", "/k", "/l", "/b", "/1"]
        return (
            loaded.data,
            # the parsers word their syntax errors differently; the rest is stcheck's
            [p if p.reason != "invalid_yaml" else p._replace(message="") for p in loaded.problems],
            [loaded.locate(p) for p in pointers],
            [loaded.at_offset(o) for o in offsets],
        )

    native = answers()
    monkeypatch.setattr(load_module, "_Parser", load_module.PurePythonParser)
    assert answers() == native


def test_duplicate_keys_locate_the_first_key_and_the_last_value() -> None:
    text = "app:\n  name: a\n  owner: o\n  name: {deep: b}\nafter: 1\n"
    loaded = load_bytes(text.encode(), "m.yaml")
    assert loaded.data["app"] == {"name": {"deep": "b"}, "owner": "o"}
    assert loaded.locate("/app", key="name").line == 2
    assert loaded.locate("/app/name/deep").line == 4
    assert loaded.locate("/app/owner").line == 3
    assert loaded.locate("/after").line == 5
    assert loaded.at_offset(text.index("deep"))[0].pointer == "/app/name"
    assert loaded.at_offset(text.index(": a") + 2)[1] == "value"  # the overwritten scalar


def test_an_alias_repeats_its_anchors_positions_and_value() -> None:
    text = "anchor: &a {deep: 0123, k: v}\nlist: [*a, *a]\nnext: x\n"
    loaded = load_bytes(text.encode(), "m.yaml")
    assert loaded.data["list"] == [{"deep": "0123", "k": "v"}] * 2
    assert [p.pointer for p in loaded.problems] == ["/anchor/deep"]  # reported once, where written
    assert loaded.locate("/list/1/k") == Location("m.yaml", 1, 28, "/list/1/k")
    assert loaded.locate("/next").line == 3


def test_a_duplicate_anchor_is_invalid_yaml() -> None:
    loaded = load_bytes(b"a: &x 1\nb: &x 2\n", "m.yaml")
    assert [(p.reason, p.line) for p in loaded.problems] == [("invalid_yaml", 2)]
    assert "first at line 1" in loaded.problems[0].message


def test_dropped_pairs_leave_the_other_keys_located() -> None:
    """A merge key or a non-text key is not in the data; the keys after it keep their lines."""
    text = "base: &b {x: 1}\nother:\n  <<: *b\n  ? [a, b]\n  : {deep: 1}\n  y: two\n"
    loaded = load_bytes(text.encode(), "m.yaml")
    assert loaded.data == {"base": {"x": 1}, "other": {"y": "two"}}
    assert loaded.locate("/other/y") == Location("m.yaml", 6, 6, "/other/y")
    assert loaded.locate("/other", key="y").line == 6
    location, what = loaded.at_offset(text.index("two"))
    assert (what, location.pointer) == ("value", "/other/y")
    assert loaded.at_offset(text.index("deep"))[1] == "other"


def test_an_alias_of_a_mapping_with_a_duplicate_key_is_located_like_its_anchor() -> None:
    text = "a: &m\n  k: 1\n  j: 2\n  k: {z: 3}\nlist:\n  - *m\n  - *m\n"
    loaded = load_bytes(text.encode(), "m.yaml")
    assert loaded.data["list"][1] == {"k": {"z": 3}, "j": 2}
    assert loaded.locate("/list/1/k/z").line == 4
    assert loaded.locate("/list/1/j").line == 3
    assert loaded.locate("/list/1", key="k").line == 2


def test_nested_anchors_do_not_copy_their_positions() -> None:
    """64 anchors around 20,000 values: an anchor's slots are copied only where an alias repeats
    them (copied per anchor, they took 64 times the positions)."""
    import tracemalloc

    inner = "{" + ", ".join(f"k{i}: v" for i in range(20_000)) + "}"
    text = "".join(f"{'  ' * i}l{i}: &a{i}\n" for i in range(60)) + "  " * 60 + f"x: {inner}\n"
    tracemalloc.start()
    try:
        loaded = load_bytes(text.encode(), "m.yaml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert loaded.problems == []
    assert peak < 12 * 1024 * 1024, peak


FAST_PATH_SCALARS = [
    "1234567",
    "0",
    "7",
    "0123",
    "00",
    "12345678901234567890",
    "123456789012345678901",  # longer than the fast path takes
    "1_000",
    "1:30",
    "2026-11-02",
    "2026-13-45",
    "2026-1-02",
    "20261102",
    "1.5",
    "1e5",
    "-1",
    "+1",
    "٣",  # a digit, not ASCII
    "１２３",
    "2026-11-0٢",
    "2026-11-02 # a comment",
    '"9000000"',
    "'2026-11-02'",
    '"a\\tb"',
    "~",
    "true",
    "no",
    "env:A_B",
]


@pytest.mark.parametrize("scalar", FAST_PATH_SCALARS)
def test_mapping_values_read_as_the_same_scalar_inside_a_list(scalar: str) -> None:
    """A value in a mapping (the loader's fast paths) loads and is located as the same scalar
    written as a list item (always the general path): same value and type, same problems."""
    loaded = load_bytes(f"k: {scalar}\nl:\n  - {scalar}\n".encode(), "m.yaml")
    value, item = loaded.data["k"], loaded.data["l"][0]
    assert (type(value), value) == (type(item), item)
    by_pointer: dict[str, list[str]] = {"/k": [], "/l/0": []}
    for problem in loaded.problems:
        by_pointer[problem.pointer].append(problem.reason)
    assert by_pointer["/k"] == by_pointer["/l/0"]
    assert (loaded.locate("/k").line, loaded.locate("/k").column) == (1, 4)
    assert (loaded.locate("/l/0").line, loaded.locate("/l/0").column) == (3, 5)
    assert loaded.at_offset(3)[1] == "value"
    assert loaded.decoded[::2] == loaded.decoded[1::2]  # the redactor learns both or neither


def test_nested_mappings_keep_their_spans_and_anchors(write) -> None:  # type: ignore[no-untyped-def]
    """Plain nested mappings skip the general path; anchored or tagged ones take it."""
    text = "a:\n  x:\n    y: 1\nb: &m\n  z: 2\nc: *m\nd: !!map\n  w: 3\n"
    loaded = load_manifest(str(write(text)))
    assert loaded.data == {"a": {"x": {"y": 1}}, "b": {"z": 2}, "c": {"z": 2}, "d": {"w": 3}}
    assert [(p.reason, p.line) for p in loaded.problems] == []
    assert loaded.locate("/a/x/y").line == 3
    assert loaded.locate("/c/z").line == 5  # the alias repeats the anchor's positions
    assert loaded.locate("/d/w").line == 8
    location, what = loaded.at_offset(text.index("y:"))
    assert (what, location.pointer) == ("key", "/a/x")

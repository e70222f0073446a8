"""The loader's fast path for plain documents is proven equal to the constructor's general path.

Each generated document is loaded twice: as the loader does (a plain document
takes :mod:`stcheck.manifest.plain`, its positions built on first need) and
with the fast path switched off (the constructor only, positions built while
loading). Data (in order, with types), problems, the strings the redactor is
taught, every location and every offset's answer must be the same; the
schema check's pass over dates and tenant IDs is skipped only when it would
have found nothing.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from stcheck.checks.schema import _semantic_problems
from stcheck.manifest import load as load_module
from stcheck.manifest import load_bytes
from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.model import Manifest

KEYS = [
    "name",
    "tenant_id",
    "on",
    "target_date",
    "secret_created_on",
    "client_id",
    "k",
    "my key",
    '"name"',
    "'on'",
    '"a\\tb"',
    "<<",
    "'<<'",
    "true",
    "1",
    '""',
    "é",
    "x" * 30,
]
SCALARS = [
    "plain",
    "env:T00001_INT_CLIENT_ID",
    "two words",
    "1234567",
    "0",
    "0123",
    "00",
    "12345678901234567890",
    "123456789012345678901",
    "99999999999999999999",
    "1_000",
    "1:30",
    "0x1F",
    "2026-11-02",
    "2026-02-29",
    "2024-02-29",
    "2026-13-45",
    "2026-1-02",
    "1.5",
    "1e5",
    "-1",
    "+1",
    ".inf",
    "٣",
    "2026-11-0٢",
    '"9000000"',
    '"99999999999999999999"',
    "'2026-11-02'",
    "'2026-02-30'",
    '"a\\tb"',
    '"line\\nbreak"',
    "'it''s'",
    "''",
    '""',
    "~",
    "null",
    "true",
    "FALSE",
    "no",
    "",
    "!!str tagged",
    "! bang",
    "&anchor anchored",
    "a # comment",
    "é accent",
    "cid.AbCdEfGhIjKlMnOpQr",
    "Xk9mP2qR7vT4wZ8nB3cF6hJ1",
]


class Writer:
    """Random block-style YAML, with the odd flow collection, multi-line and block scalar."""

    def __init__(self, rng: random.Random, brk: str) -> None:
        self.rng = rng
        self.brk = brk
        self.anchors = 0

    def scalar(self, indent: int) -> str:
        rng = self.rng
        roll = rng.random()
        if roll < 0.04:
            return f"folded{self.brk}{' ' * (indent + 2)}continued"
        if roll < 0.07:
            style = rng.choice(["|", ">", "|-"])
            return f"{style}{self.brk}{' ' * (indent + 2)}block text{self.brk}"
        if roll < 0.09:
            return f"'quoted{self.brk}{' ' * (indent + 2)}over lines'"
        if roll < 0.11 and self.anchors:
            return f"*a{rng.randrange(self.anchors)}"
        if roll < 0.13:
            self.anchors += 1
            return f"&a{self.anchors - 1} {rng.choice(SCALARS)}"
        return rng.choice(SCALARS)

    def mapping(self, indent: int, depth: int) -> list[str]:
        rng = self.rng
        lines: list[str] = []
        for _ in range(rng.randint(1, 5)):
            key = rng.choice(KEYS) if rng.random() < 0.85 else f"k{rng.randrange(3)}"
            pad = " " * indent
            roll = rng.random()
            if depth < 4 and roll < 0.25:
                lines.append(f"{pad}{key}:")
                lines += self.mapping(indent + 2, depth + 1)
            elif depth < 4 and roll < 0.4:
                lines.append(f"{pad}{key}:")
                lines += self.sequence(indent + 2, depth + 1)
            elif roll < 0.45:
                lines.append(f"{pad}{key}: {{a: 1, b: {rng.choice(SCALARS[:20])}}}")
            elif roll < 0.48:
                lines.append(f"{pad}{key}: [x, 2026-11-02, 7]")
            else:
                lines.append(f"{pad}{key}: {self.scalar(indent)}")
        return lines

    def sequence(self, indent: int, depth: int) -> list[str]:
        rng = self.rng
        lines: list[str] = []
        pad = " " * indent
        for _ in range(rng.randint(1, 4)):
            if depth < 4 and rng.random() < 0.5:
                inner = self.mapping(indent + 2, depth + 1)
                lines.append(f"{pad}- {inner[0].lstrip()}")
                lines += inner[1:]
            else:
                lines.append(f"{pad}- {self.scalar(indent)}")
        return lines

    def document(self) -> str:
        body = self.sequence(0, 0) if self.rng.random() < 0.1 else self.mapping(0, 0)
        return self.brk.join(body) + self.brk


def _ordered(value: Any) -> Any:
    """The value with dicts as lists of pairs and each scalar with its type: equal iff same."""
    if isinstance(value, dict):
        return ("dict", [(key, _ordered(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("list", [_ordered(item) for item in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


def _pointers(value: Any, pointer: str = "") -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = [(pointer, None)]
    if isinstance(value, dict):
        for key, item in value.items():
            found.append((pointer, key))
            found += _pointers(item, jsonpointer.child(pointer, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _pointers(item, jsonpointer.child(pointer, index))
    return found


def _answers(loaded: Manifest) -> tuple[Any, ...]:
    where = [loaded.locate(p, key=k) for p, k in _pointers(loaded.data)]
    where.append(loaded.locate("/nowhere/at/all"))
    offsets = [loaded.at_offset(offset) for offset in range(len(loaded.text) + 1)]
    return (
        _ordered(loaded.data),
        loaded.problems,
        loaded.decoded,
        where,
        offsets,
        list(loaded.positions.slots) if loaded.positions is not None else None,
        dict(loaded.positions.written) if loaded.positions is not None else None,
    )


def _general(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> Manifest:
    with monkeypatch.context() as patch:
        patch.setattr(load_module, "plain_text", lambda text: False)
        return load_bytes(raw, "m.yaml")


@pytest.mark.parametrize("brk", ["\n", "\r\n", "\u2028", "\x85"])
def test_the_fast_path_loads_what_the_constructor_loads(
    brk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = random.Random(f"plain-{brk!r}")
    plain_taken = 0
    for _ in range(400):
        text = Writer(rng, brk).document()
        raw = text.encode("utf-8")
        general = _general(raw, monkeypatch)
        fast = load_bytes(raw, "m.yaml")
        plain_taken += fast.positions is not None and fast.positions.pending
        assert _answers(fast) == _answers(general), text
        if not fast.suspect:
            assert list(_semantic_problems(general)) == [], text
    if brk == "\u2028":  # LS is kept in a folded plain scalar: such text takes the general path
        assert plain_taken == 0
    else:
        assert plain_taken > 40  # the generator writes plain documents too


def test_a_valid_manifest_takes_the_fast_path_and_locates_its_root_without_positions() -> None:
    text = (
        "version: 1\napp:\n  name: a\n  app_key: env:K\ntenants:\n  - name: t\n"
        "    environments:\n      integration:\n        tenant_id: 1\n"
        "        client_id: env:A\n        client_secret: env:B\n"
    )
    loaded = load_bytes(("# comment\n" + text).encode(), "m.yaml")
    assert loaded.positions is not None and loaded.positions.pending
    assert not loaded.suspect
    assert (loaded.locate("").line, loaded.locate("").column) == (2, 1)
    assert loaded.positions.pending  # the root's place is known without them
    assert loaded.locate("/tenants/0/name").line == 7
    assert not loaded.positions.pending


@pytest.mark.parametrize(
    ("text", "suspect"),
    [
        ("on: 2026-02-29\n", True),
        ("on: '2026-02-30'\n", True),
        ("target_date: 2024-02-29\n", False),
        ("tenant_id: '99999999999999999999'\n", True),
        ("tenant_id: '9223372036854775808'\n", True),
        ("tenant_id: '9223372036854775807'\n", False),
        ("other: 2026-02-30\n", False),
        ("on: abcdefghij\n", True),
    ],
)
def test_loading_says_when_the_date_and_tenant_id_pass_may_find_something(
    text: str, suspect: bool
) -> None:
    assert load_bytes(text.encode(), "m.yaml").suspect is suspect


@pytest.mark.parametrize(
    "encoded",
    [
        "k: é\nn: 1\n".encode("utf-8-sig"),
        "k: é\nn: 1\n".encode("utf-16"),
        "k: \U0001f600 x\nn: [a, b]\n".encode("utf-16-le").join([b"\xff\xfe", b""]),
        # Two BOMs: the text keeps the second, which a reading of the text would take for
        # the stream's own (every position one off; found by review).
        b"\xef\xbb\xbf\xef\xbb\xbfx: 1\n y: 2\n",
        b"\xef\xbb\xbf\xef\xbb\xbf# c\nx: 1\n",
        b"\xef\xbb\xbf\xef\xbb\xbfx:\n waivers: [{check: a, because: b, by: c, until: d}]\n",
    ],
)
def test_positions_built_later_match_for_every_encoding(
    encoded: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast = load_bytes(encoded, "m.yaml")
    assert fast.positions is not None and fast.positions.pending
    assert _answers(fast) == _answers(_general(encoded, monkeypatch))


@pytest.mark.parametrize(
    "text",
    [
        "app: {name: a}\ntenants:\n  - name: a\n    owner: o\n  -   name: b\n  - plain\n"
        "  - [x, y]\n  - {name: c}\n  -\n  - name: d\nafter: 1\n",
        "tenants: [{name: a}, b, {name: c}]\n",
        "- name: a\n  environments: {}\n- name: b\n\n\n-   name: c\n",
        "x:\n  tenants:\n    - name: a\n    - name: b\ntenants: []\n",
        "tenants: {a: 1}\n",
    ],
)
def test_tenants_are_located_without_the_positions_where_they_are_located_with_them(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``unique`` check of a run of several files locates every tenant: the fast path knows
    where each starts, and says what the positions would."""
    general = _general(text.encode(), monkeypatch)
    fast = load_bytes(text.encode(), "m.yaml")
    assert fast.positions is not None and fast.positions.pending
    pointers = [f"{prefix}{n}" for prefix in ("/tenants/", "/") for n in (*range(10), "01", "-1")]
    pointers += ["/tenants", "/tenants/0/name", "/x/tenants/1", ""]
    for pointer in pointers:
        assert fast.locate(pointer) == general.locate(pointer), pointer
    fresh = load_bytes(text.encode(), "m.yaml")
    tenants = fresh.data.get("tenants") if isinstance(fresh.data, dict) else fresh.data
    prefix = "/tenants/" if isinstance(fresh.data, dict) else "/"
    if isinstance(tenants, list):
        for index in range(len(tenants)):
            assert fresh.locate(f"{prefix}{index}") == general.locate(f"{prefix}{index}")
        assert fresh.positions is not None
        assert fresh.positions.pending  # every tenant was known without them


def test_a_manifest_with_two_boms_gives_the_old_answers_on_the_command_line(
    tmp_path: Path,
) -> None:
    """The review's 50-byte file: exit 3 (IndexError in the positions) where it was exit 1."""
    import subprocess
    import sys

    manifest = tmp_path / "stcheck.yaml"
    manifest.write_bytes(
        b"\xef\xbb\xbf\xef\xbb\xbfx:\n waivers: [{check: a, because: b, by: c, until: d}]\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "stcheck", "validate", str(manifest)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 1, done.stderr
    assert "internal error" not in done.stdout + done.stderr
    assert f"{manifest}:2:49: fail [schema] waiver 1: until must be a date" in done.stdout

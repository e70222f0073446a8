"""The README's security section names, for each guarantee, the test that holds it.

Those names must stay true: a renamed or deleted test would leave a guarantee
that nothing holds. Every ``tests/FILE.py::test_name`` cited in the README (and
every ``::test_name`` continuing a cell that named its file) must exist.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CITATION = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def citations() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for line in (ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        current: str | None = None
        for match in CITATION.finditer(line):
            path, name = match.groups()
            current = path or current
            if path or name:
                found.append((current or "", name))
    return found


def test_the_readme_cites_tests_for_its_guarantees() -> None:
    assert len([c for c in citations() if c[1]]) >= 20


def test_every_test_the_readme_cites_exists() -> None:
    missing = []
    for path, name in citations():
        file = ROOT / path
        if not path or not file.is_file():
            missing.append(f"{path or '(no file)'}::{name}")
        elif name and not re.search(rf"^def {name}\b", file.read_text(encoding="utf-8"), re.M):
            missing.append(f"{path}::{name}")
    assert not missing, missing

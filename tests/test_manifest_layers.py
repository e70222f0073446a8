"""The manifest package reads like its pipeline: each module imports only those before it."""

from __future__ import annotations

import ast
from pathlib import Path

import stcheck.manifest

PACKAGE = Path(stcheck.manifest.__file__).parent
# Lowest first: a module may import the package's modules listed before it, never after.
ORDER = ["pointer", "schema", "locate", "model", "construct", "plain", "load", "include", "explain"]
# What the package may use from the rest of stcheck: nothing that runs checks or talks to the net.
OUTSIDE = {
    "stcheck.model",
    "stcheck.record",
    "stcheck.redact",
    "stcheck.text",
    "stcheck.confine",
    "stcheck.globbing",
    "stcheck.gcpause",
}


def _stcheck_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("stcheck"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stcheck"):
            module = node.module or ""
            if module == "stcheck.manifest":  # from stcheck.manifest import pointer
                found.update(f"{module}.{alias.name}" for alias in node.names)
            else:
                found.add(module)
    return found


def test_every_module_of_the_package_has_a_place_in_the_order() -> None:
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(ORDER)


def test_nothing_flows_backwards_in_the_manifest_package() -> None:
    for position, name in enumerate(ORDER):
        imported = _stcheck_imports(PACKAGE / f"{name}.py")
        inside = {m.removeprefix("stcheck.manifest.") for m in imported if "manifest" in m}
        assert inside <= set(ORDER[:position]), (name, inside - set(ORDER[:position]))
        assert {m for m in imported if "manifest" not in m} <= OUTSIDE, name

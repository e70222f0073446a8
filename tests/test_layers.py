"""Layering rules the folder listing promises, held by reading the code's syntax trees.

``stcheck.net`` is the transport: it talks to ServiceTitan and returns plain
outcomes. It never imports the plugin API, the checks, the runner or the
reporters, and never builds a ``Result`` — what an outcome means for a check
is decided in ``stcheck.checks``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import stcheck.net

NET = Path(stcheck.net.__file__).parent
FORBIDDEN = ("stcheck.api", "stcheck.checks", "stcheck.runner", "stcheck.reporters")
RESULT_BUILDERS = frozenset({"Result", "result", "entry_result"})
"""``Result(...)`` and ``CheckContext.result``/``entry_result``: how results are built."""


def _forbidden(module: str) -> bool:
    return any(module == name or module.startswith(name + ".") for name in FORBIDDEN)


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The modules (and, for ``from X import y``, the X.y candidates) a statement imports."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: resolve against the importing module's package
        parts = package.split(".")
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, base] if base else parts)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def violations(source: str, package: str = "stcheck.net") -> list[str]:
    """Every forbidden import and every result construction in ``source``."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [
                f"line {node.lineno}: imports {m}"
                for m in _imported(node, package)
                if _forbidden(m)
            ]
            if isinstance(node, ast.ImportFrom):
                found += [
                    f"line {node.lineno}: imports Result"
                    for alias in node.names
                    if alias.name == "Result"
                ]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name in RESULT_BUILDERS:
                found.append(f"line {node.lineno}: builds a result ({name}(...))")
    return found


def test_the_transport_imports_no_check_api_runner_or_reporter_and_builds_no_result() -> None:
    modules = sorted(NET.rglob("*.py"))
    assert len(modules) >= 8  # the walk really sees the package
    problems = {}
    for path in modules:
        package = ".".join(path.relative_to(NET.parent.parent).parent.parts)
        found = violations(path.read_text(encoding="utf-8"), package)
        if found:
            problems[str(path.relative_to(NET.parent.parent))] = found
    assert problems == {}


@pytest.mark.parametrize(
    "source",
    [
        "from stcheck.api import CheckContext",
        "import stcheck.checks.references",
        "from stcheck import api",
        "from stcheck import runner",
        "from stcheck.reporters import builtin",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from stcheck.api import X",
        "def f():\n    from stcheck.checks.support.services import shared",
        "from ..checks import token",
        "from stcheck.model import Result, Status",
        "r = Result('dns', status)",
        "def f(ctx):\n    return ctx.entry_result('token', entry, status, 'm')",
        "def f(ctx):\n    return ctx.result('dns', status, 'm')",
    ],
)
def test_the_rule_catches_each_way_of_breaking_it(source: str) -> None:
    assert violations(source) != []


@pytest.mark.parametrize(
    "source",
    [
        "from stcheck.model import Status",
        "from stcheck.net.http import Failure",
        "import stcheck.apis_of_someone_else",
        "from . import config",
        "outcome = classify(TABLE, seen)",
    ],
)
def test_the_rule_allows_what_the_transport_may_use(source: str) -> None:
    assert violations(source) == []

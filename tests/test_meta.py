"""Meta tests: hooks and checks are documented, reasons are a closed and documented set."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from stcheck import hookspecs
from stcheck.introspect import reference_markdown
from stcheck.plugins import DEFAULT_PLUGINS, build_plugins
from stcheck.reasons import REASONS

REPO = Path(__file__).resolve().parent.parent


def test_every_hookspec_is_documented() -> None:
    specs = [name for name in dir(hookspecs) if name.startswith("stcheck_")]
    assert specs == [
        "stcheck_add_options",
        "stcheck_checks",
        "stcheck_output_formats",
        "stcheck_reference_schemes",
    ]
    for name in specs:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 80, name


def test_every_builtin_hook_is_exercised_by_a_builtin_plugin() -> None:
    plugins = build_plugins(load_installed=False)
    assert plugins.errors == []
    assert len(plugins.plugins) == len(DEFAULT_PLUGINS)
    assert {
        "schema",
        "references",
        "unique",
        "credentials",
        "dns",
        "token",
        "api",
        "golive",
    } <= set(plugins.checks)
    assert {"env", "file"} <= set(plugins.schemes)
    assert {"text", "json", "github", "junit", "sarif", "markdown"} <= set(plugins.formats)


def test_every_check_is_documented() -> None:
    for check_id, check in build_plugins(load_installed=False).checks.items():
        doc = inspect.getdoc(type(check)) or ""
        assert doc and type(check).__doc__, check_id
        assert check.summary() != check_id, check_id


def test_every_reason_used_in_the_code_is_in_the_vocabulary() -> None:
    used: set[str] = set()
    pattern = re.compile(
        r"""(?:reason\s*=\s*|ResolveReferenceError\(\s*|Explanation\(\s*)["']([a-z_.]+)["']"""
    )
    for path in (REPO / "stcheck").rglob("*.py"):
        used |= set(pattern.findall(path.read_text()))
    assert used, "the pattern finds reasons"
    assert used - set(REASONS) == set()


def test_reference_doc_is_up_to_date() -> None:
    assert (REPO / "docs" / "reference.md").read_text() == reference_markdown(), (
        "regenerate: python -m stcheck.introspect > docs/reference.md"
    )


def test_every_reason_in_the_vocabulary_is_used() -> None:
    """The documented vocabulary holds no word that no result can carry."""
    sources = "".join(
        path.read_text() for path in (REPO / "stcheck").rglob("*.py") if path.name != "reasons.py"
    )
    unused = [word for word in REASONS if f'"{word}"' not in sources]
    assert unused == []

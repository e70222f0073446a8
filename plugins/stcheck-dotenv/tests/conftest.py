"""Fixtures of the plugin's unit tests: its modules, imported from this source tree.

The tests run in stcheck's own suite (``python -m pytest -q`` from the
repository collects this directory too) without the plugin being installed;
``tests/integration/test_plugin_package.py`` tests it installed from its wheel.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

PLUGIN_SRC = Path(__file__).resolve().parents[1]


@pytest.fixture
def dotenv(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """The plugin's modules ``parser``, ``scheme`` and ``owner``, from this source tree."""
    monkeypatch.syspath_prepend(str(PLUGIN_SRC))
    yield {
        name: importlib.import_module(f"stcheck_dotenv.{name}")
        for name in ("parser", "scheme", "owner")
    }

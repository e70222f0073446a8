"""Helpers of the integration tests: clean subprocess environments, wheels, a venv runner."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGIN_SRC = REPO / "plugins" / "stcheck-dotenv"
BIN = "Scripts" if os.name == "nt" else "bin"
# Variables that would make a subprocess see something other than what is installed.
SCRUBBED = (
    "PYTHONPATH",
    "PYTHONHOME",
    "VIRTUAL_ENV",
    "STCHECK_DISABLE_PLUGINS",
    "STCHECK_ENV_ALLOW",
    "PYTHONSTARTUP",
)


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SCRUBBED}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra or {})
    return env


def run_ok(
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a setup command; on failure, fail the test with its output (not a bare traceback)."""
    done = subprocess.run(
        [str(arg) for arg in args],
        capture_output=True,
        text=True,
        check=False,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(map(str, args))} exited {done.returncode}\n"
            f"--- stdout ---\n{done.stdout}\n--- stderr ---\n{done.stderr}",
            pytrace=False,
        )
    return done


def source_version(init: Path) -> str:
    """The ``__version__`` a package's ``__init__.py`` states (its one version source)."""
    match = re.search(r'^__version__ = "([^"]+)"', init.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"no __version__ in {init}"
    return match.group(1)


def project_version() -> str:
    return source_version(REPO / "stcheck" / "__init__.py")


def plugin_version() -> str:
    return source_version(PLUGIN_SRC / "stcheck_dotenv" / "__init__.py")


def build_wheel(source: Path, outdir: Path) -> Path:
    """``python -m build --wheel`` of ``source`` into ``outdir``; returns the wheel's path.

    Without build isolation when hatchling is importable here (fast, no
    download); isolated otherwise.
    """
    outdir.mkdir(parents=True, exist_ok=True)
    before = set(outdir.glob("*.whl"))
    isolation = [] if importlib.util.find_spec("hatchling") is None else ["--no-isolation"]
    run_ok(
        [sys.executable, "-m", "build", "--wheel", *isolation, "--outdir", outdir, source],
        env=clean_env(),
        cwd=outdir,
    )
    (wheel,) = set(outdir.glob("*.whl")) - before
    return wheel


@dataclass(frozen=True)
class Venv:
    """A virtual environment with stcheck (from its wheel) and the stcheck-dotenv plugin."""

    path: Path

    @property
    def bin(self) -> Path:
        return self.path / BIN

    @property
    def python(self) -> Path:
        return self.bin / "python"

    def run(
        self,
        command: str,
        *args: str | os.PathLike[str],
        cwd: Path,
        env: Mapping[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run one of the environment's console scripts (``stcheck``) or ``python``."""
        path = clean_env({"PATH": f"{self.bin}{os.pathsep}{os.environ.get('PATH', '')}"})
        path.update(env or {})
        return subprocess.run(
            [str(self.bin / command), *map(str, args)],
            capture_output=True,
            text=True,
            cwd=cwd,
            env=path,
            check=False,
            timeout=300,
        )

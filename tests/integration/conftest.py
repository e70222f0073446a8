"""Session fixtures for the integration tests: built wheels and one fresh virtual environment.

The tests here install what users install — stcheck's wheel, the stcheck-dotenv
plugin's wheel, a broken plugin package — and run the installed console
scripts in subprocesses, from directories outside the repository. Building
wheels and creating the environment is slow (pip fetches stcheck's
dependencies from the package index), so it happens once per session.
"""

from __future__ import annotations

import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from .support import PLUGIN_SRC, REPO, Venv, build_wheel, clean_env, run_ok


@pytest.fixture(scope="session")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The wheels of stcheck (the repository) and of plugins/stcheck-dotenv."""
    outdir = tmp_path_factory.mktemp("wheels")
    return {
        "stcheck": build_wheel(REPO, outdir / "stcheck"),
        "stcheck-dotenv": build_wheel(PLUGIN_SRC, outdir / "stcheck-dotenv"),
    }


@pytest.fixture(scope="session")
def venv(tmp_path_factory: pytest.TempPathFactory, wheels: dict[str, Path]) -> Venv:
    """A fresh virtual environment (not inside the repository) with both wheels installed.

    stcheck is installed from its wheel, never from the source tree, so tests
    see exactly what users get; its dependencies come from the package index.
    """
    env = Venv(tmp_path_factory.mktemp("venv") / "env")
    run_ok([sys.executable, "-m", "venv", env.path], env=clean_env())
    run_ok(
        [
            env.python,
            "-m",
            "pip",
            "install",
            "--quiet",
            wheels["stcheck"],
            wheels["stcheck-dotenv"],
        ],
        env=clean_env(),
        cwd=env.path,
    )
    return env


BROKEN_PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "stcheck-broken"
version = "6.6.6"
dependencies = []

[project.entry-points.stcheck]
broken_import = "stcheck_broken.boom"
broken_type = "stcheck_broken.wrong"

[tool.hatch.build.targets.wheel]
packages = ["stcheck_broken"]
"""

BROKEN_MODULES = {
    "__init__.py": "",
    "boom.py": """\
        raise ImportError("stcheck_broken needs a module that is not installed")
        """,
    "wrong.py": """\
        from stcheck.hookspecs import hookimpl


        @hookimpl
        def stcheck_checks():
            return ["a string, not a Check"]
        """,
}


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory: pytest.TempPathFactory, venv: Venv) -> Path:
    """A directory holding the installed ``stcheck-broken`` package (two broken plugins).

    It is installed with ``pip install --target`` rather than into the shared
    environment, so only the runs that put it on ``PYTHONPATH`` see it.
    """
    source = tmp_path_factory.mktemp("broken-src")
    (source / "pyproject.toml").write_text(BROKEN_PYPROJECT, encoding="utf-8")
    package = source / "stcheck_broken"
    package.mkdir()
    for name, text in BROKEN_MODULES.items():
        (package / name).write_text(textwrap.dedent(text), encoding="utf-8")
    wheel = build_wheel(source, tmp_path_factory.mktemp("broken-wheel"))
    site = tmp_path_factory.mktemp("broken-site")
    shutil.rmtree(site)
    run_ok(
        [venv.python, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, wheel],
        env=clean_env(),
    )
    return site

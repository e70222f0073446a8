"""The validate path stays cheap: what it imports, which threads it starts, no plugin manager.

These are behaviour, not timing: a module that is not imported costs nothing,
whatever the machine's load.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterable
from pathlib import Path
from types import FrameType, SimpleNamespace
from typing import Any

import pytest

from stcheck import hookspecs
from stcheck.api import Check, CheckContext, Result, Status, hookimpl, plugin_set, run_checks
from stcheck.bounded import RunBound
from stcheck.plugins import _builtin_impls, build_plugins
from tests.conftest import VALID

WAIVED_SHARED_PAIR = """\
version: 1
app:
  name: acme
  app_key: env:ST_APP_KEY
tenants:
  - name: north-electric
    environments:
      integration:
        tenant_id: 1234567
        client_id: env:NE_ID
        client_secret: env:NE_SECRET
  - name: south-electric
    environments:
      integration:
        tenant_id: 2345678
        client_id: env:NE_ID
        client_secret: env:NE_SECRET
waivers:
  - check: unique
    tenant: south-electric
    environment: integration
    reason: shared_client_reference
    because: "Shares north's pair until its own is issued (OPS-123)"
    by: dana@acme.example
    until: 2026-12-31
"""

NEVER_ON_VALIDATE = (
    "requests",
    "urllib3",
    "jinja2",
    "ssl",
    "http.client",
    "stcheck.net",
    # ~10 ms: the dataclass machinery imports inspect (ast, dis, tokenize); pluggy does too
    "dataclasses",
    "inspect",
    "ast",
    "dis",
    "tokenize",
    "pluggy",
    "stcheck.manifest.explain",  # a valid manifest has nothing to explain
)


@pytest.mark.parametrize("waived", [False, True], ids=["plain", "with-a-waiver"])
def test_validate_never_imports_the_network_stack_or_the_templates(
    tmp_path: Path, waived: bool
) -> None:
    """A whole ``stcheck validate`` run (the pre-commit hook) in a fresh interpreter —
    also when a waiver applies (waivers, readiness items and ``replace`` on results)."""
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(WAIVED_SHARED_PAIR if waived else VALID, encoding="utf-8")
    script = (
        "import json, sys\n"
        "from stcheck.cli import main\n"
        f"code = main(['validate', '--today', '2026-12-01', {str(manifest)!r}])\n"
        "print(json.dumps([code, sorted(sys.modules)]), file=sys.__stderr__)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STCHECK_", "PYTHONPATH"))}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60
    )
    code, modules = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done
    assert "stcheck.checks.schema" in modules  # the run did happen, with the built-in checks
    assert ("stcheck.waivers" in modules) is waived
    assert [name for name in NEVER_ON_VALIDATE if name in modules] == []


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"tryfirst": True},
        {"trylast": True, "specname": "stcheck_checks"},
        {"optionalhook": True, "hookwrapper": True},
        {"wrapper": True},
    ],
)
def test_hookimpl_marks_a_function_exactly_as_pluggys_marker(options: dict[str, Any]) -> None:
    """stcheck's markers need no pluggy; what pluggy's manager reads from them is the same."""
    import pluggy

    def ours() -> None: ...

    def theirs() -> None: ...

    if options:
        hookspecs.hookimpl(**options)(ours)
        pluggy.HookimplMarker("stcheck")(**options)(theirs)
    else:
        hookspecs.hookimpl(ours)
        pluggy.HookimplMarker("stcheck")(theirs)
    assert ours.stcheck_impl == theirs.stcheck_impl  # type: ignore[attr-defined]
    spec = pluggy.HookspecMarker("stcheck")(lambda: None)
    assert hookspecs.stcheck_checks.stcheck_spec == spec.stcheck_spec  # type: ignore[attr-defined]


def test_the_builtins_direct_path_lists_what_pluggy_would() -> None:
    """Without a manager, each built-in hook implementation has pluggy's HookImpl attributes."""
    import pluggy

    direct = build_plugins(load_installed=False)
    for hook in ("stcheck_checks", "stcheck_reference_schemes", "stcheck_output_formats"):
        for impl in _builtin_impls(direct.plugins, hook):
            real = pluggy.HookImpl(impl.plugin, "x", impl.function, impl.function.stcheck_impl)  # type: ignore[attr-defined]
            for name in ("argnames", "wrapper", "hookwrapper", "tryfirst", "trylast"):
                assert getattr(impl, name) == getattr(real, name), (hook, name)
    options = [i for p in direct.plugins for i in _builtin_impls([p], "stcheck_add_options")]
    assert all(impl.argnames == ("parser", "command") for impl in options)


def test_only_builtins_build_no_plugin_manager_and_provide_what_the_manager_would() -> None:
    """The direct path over the built-in modules and pluggy's manager give the same plugin set."""
    direct = build_plugins(load_installed=False)
    assert direct.manager is None
    managed = build_plugins(load_installed=False, extra=[("nothing", SimpleNamespace())])
    assert managed.manager is not None
    assert not direct.errors and not managed.errors
    for kind in ("checks", "schemes", "formats"):
        assert list(getattr(direct, kind)) == list(getattr(managed, kind)), kind
        assert [type(v) for v in getattr(direct, kind).values()] == [
            type(v) for v in getattr(managed, kind).values()
        ], kind
    assert [(p.name, p.checks, p.schemes, p.formats) for p in direct.plugins] == [
        (p.name, p.checks, p.schemes, p.formats) for p in managed.plugins[:-1]
    ]
    for command in ("validate", "check", "report"):
        assert _options(direct, command) == _options(managed, command), command


def _options(plugins: Any, command: str) -> list[str]:
    import argparse

    parser = argparse.ArgumentParser()
    plugins.add_options(parser, command)
    return sorted(option for action in parser._actions for option in action.option_strings)


class _Threads:
    """The names of the threads started while it is installed (``threading.setprofile``)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def __enter__(self) -> _Threads:
        threading.setprofile(self._started)
        return self

    def __exit__(self, *exc: object) -> None:
        threading.setprofile(None)  # type: ignore[arg-type]

    def _started(self, frame: FrameType, event: str, arg: object) -> None:
        sys.setprofile(None)  # once per thread: it has started, that is all we want to know
        self.names.append(threading.current_thread().name)


class WhereItRuns(Check):
    """Records the thread it runs on."""

    id = "where_it_runs"
    threads: list[str] = []

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        self.threads.append(threading.current_thread().name)
        return [self.result(ctx, Status.PASS, "ran")]


class _Plugin:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [WhereItRuns()]


def test_builtin_offline_checks_run_inline_and_plugin_checks_on_a_worker(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    builtins_only = plugin_set()
    with _Threads() as started:
        report = run_checks(builtins_only, str(manifest))
    assert {r.check for r in report.results if r.status is Status.PASS} >= {"schema", "unique"}
    assert started.names == []  # no deadline: nothing to abandon a built-in check at

    WhereItRuns.threads = []
    with _Threads() as started:
        report = run_checks(plugin_set(_Plugin()), str(manifest))
    assert [r.status for r in report.results if r.check == "where_it_runs"] == [Status.PASS]
    assert WhereItRuns.threads == started.names  # the one thread started ran the plugin's check
    assert WhereItRuns.threads != [threading.main_thread().name]


def test_with_a_deadline_every_check_runs_on_a_worker_it_can_be_abandoned_on(
    tmp_path: Path,
) -> None:
    from stcheck.api import RunOptions
    from stcheck.runner import run

    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    bound = RunBound(60)
    try:
        with _Threads() as started:
            report = run(
                [str(manifest)],
                plugin_set(),
                RunOptions(command="validate", offline=True),
                bound=bound,
            )
    finally:
        bound.close()
    ran = [r.check for r in report.results if r.status is not Status.SKIP]
    assert ran and len([name for name in started.names if name.startswith("stcheck-")]) == len(
        set(ran)
    )


def test_record_inits_compiled_ahead_are_current() -> None:
    """stcheck/_record_inits.py is what ``python -m stcheck.record`` writes today: regenerate it
    after changing a record's fields (a stale file costs a compile per class at import)."""
    done = subprocess.run(
        [sys.executable, "-m", "stcheck.record"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    current = Path(__file__).resolve().parent.parent / "stcheck" / "_record_inits.py"
    assert done.stdout == current.read_text(encoding="utf-8")


def test_no_record_on_the_validate_path_compiles_its_init(tmp_path: Path) -> None:
    """Every record class a ``validate`` run defines takes its ``__init__`` from the table, and
    no ``NamedTuple`` of stcheck's own start-up modules compiles its annotations."""
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    script = (
        "import builtins, json, sys, typing\n"
        "compiled = []\n"
        "real = builtins.compile\n"
        "def counting(source, filename, *args, **kwargs):\n"
        "    compiled.append(str(filename))\n"
        "    return real(source, filename, *args, **kwargs)\n"
        "builtins.compile = counting\n"
        "refs = []\n"
        "real_ref = typing.ForwardRef.__init__\n"
        "def ref(self, arg, *args, **kwargs):\n"
        "    frame = sys._getframe(1)\n"
        "    while frame and not frame.f_globals.get('__name__', '').startswith('stcheck'):\n"
        "        frame = frame.f_back\n"
        "    refs.append(frame and frame.f_globals['__name__'])\n"
        "    real_ref(self, arg, *args, **kwargs)\n"
        "typing.ForwardRef.__init__ = ref\n"
        "from stcheck.cli import main\n"
        f"code = main(['validate', '--today', '2026-12-01', {str(manifest)!r}])\n"
        "from stcheck import record\n"
        "inits = [c.__init__.__code__.co_filename for m in list(sys.modules.values())\n"
        "         for c in vars(m).values() if isinstance(c, type) and c.__module__ == m.__name__\n"
        "         and '__record_fields__' in vars(c) and m.__name__.startswith('stcheck')]\n"
        "print(json.dumps([code, compiled, refs, inits]), file=sys.__stderr__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    code, compiled, refs, inits = json.loads(done.stderr.strip().splitlines()[-1])
    assert code == 0, done
    assert [name for name in compiled if name.startswith("<record")] == []
    assert len(inits) >= 20
    assert all(name.endswith("_record_inits.py") for name in inits), inits
    mine = ("stcheck.config", "stcheck.plugins", "stcheck.entrypoints", "stcheck.reasons")
    assert [module for module in refs if module in mine] == []

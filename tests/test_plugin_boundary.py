"""The plugin boundary, end to end: real plugin packages, the real ``python -m stcheck`` process.

Each plugin here is a real installed distribution — a ``*.dist-info``
directory with ``entry_points.txt`` next to its module, which is what
``pip install --target`` leaves — in a temporary site directory put on
``PYTHONPATH``. The manifests live in a separate temporary git repository,
the working directory of the run, as in a CI gate. What is asserted is what
users and CI scripts see: the exit status, stdout, stderr and ``--output``
files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from stcheck.api import Check, CheckContext
from stcheck.exitcodes import ExitCode
from stcheck.hookspecs import hookimpl
from stcheck.model import Result, Status
from stcheck.plugins import build_plugins

# A secret with no credential shape: only the run's scrubber (the values it resolved) masks it.
CANARY = "Quartz7731MellowZebraCanary"
CANARY_APP_KEY = "Harbor5519VelvetOtterCanary"

MANIFEST = """\
version: 1
app:
  name: boundary
  app_key: env:ST_APP_KEY
tenants:
  - name: good-plumbing
    environments:
      integration:
        tenant_id: 1234567
        client_id: {client_id}
        client_secret: {client_secret}
"""


def plugin_site(root: Path, plugins: dict[str, str]) -> Path:
    """A site directory holding one installed distribution per plugin: name -> module source."""
    site = root / "site"
    site.mkdir(exist_ok=True)
    for name, source in plugins.items():
        module = f"stcheck_test_{name}"
        (site / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        info = site / f"stcheck_test_{name}-1.2.3.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: stcheck-test-{name}\nVersion: 1.2.3\n", encoding="utf-8"
        )
        (info / "entry_points.txt").write_text(f"[stcheck]\n{name} = {module}\n", encoding="utf-8")
    return site


def git_repo(
    path: Path, client_id: str = "env:GP_ID", client_secret: str = "env:GP_SECRET"
) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / ".git").mkdir(exist_ok=True)  # a work tree, as far as stcheck's root finding goes
    (path / "stcheck.yaml").write_text(
        MANIFEST.format(client_id=client_id, client_secret=client_secret), encoding="utf-8"
    )
    return path


def stcheck(
    *args: str | Path,
    cwd: Path,
    site: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m stcheck ARGS`` in ``cwd``, with ``site``'s plugins installed."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "STCHECK_DISABLE_PLUGINS", "STCHECK_ENV_ALLOW")
        and not key.startswith("PYTEST")
    }
    clean.update(
        {"ST_APP_KEY": CANARY_APP_KEY, "GP_ID": "gp-client-id-1", "GP_SECRET": CANARY},
    )
    if site is not None:
        clean["PYTHONPATH"] = str(site)
    clean.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "stcheck", *map(str, args)],
        cwd=cwd,
        env=clean,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def no_canary(done: subprocess.CompletedProcess[str], *files: Path) -> None:
    seen = done.stdout + done.stderr + "".join(f.read_text() for f in files if f.exists())
    for secret in (CANARY, CANARY_APP_KEY):
        assert secret not in seen
        assert secret[:12] not in seen and secret[-12:] not in seen  # nor a fragment


def results(stdout: str, check: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(stdout)["results"]
    return [r for r in found if check is None or r["check"] == check]


CHECK_THAT_EXITS = """\
    import sys
    from stcheck.api import Check
    from stcheck.hookspecs import hookimpl

    class Exits(Check):
        '''A check that calls sys.exit.'''
        id = "exits"
        def run(self, ctx):
            sys.exit({code})

    @hookimpl
    def stcheck_checks():
        return [Exits()]
"""


# --- 1, 2: SystemExit / KeyboardInterrupt / GeneratorExit never choose the exit status ----------


@pytest.mark.parametrize("code", [0, 7])
def test_a_check_calling_sys_exit_is_an_error_result_and_the_run_exits_1(
    tmp_path: Path, code: int
) -> None:
    site = plugin_site(tmp_path, {"exiter": CHECK_THAT_EXITS.format(code=code)})
    repo = git_repo(tmp_path / "repo")
    out = repo / "report.json"
    done = stcheck(
        "check", "--select", "schema,exits", "--format", "json", "--output", f"json={out}",
        cwd=repo, site=site,
    )  # fmt: skip
    assert done.returncode == ExitCode.FAILURES, done.stderr
    (crash,) = results(done.stdout, "exits")
    assert (crash["status"], crash["reason"]) == ("error", "check_crashed")
    assert "plugin exiter 1.2.3" in crash["message"]
    assert f"SystemExit: {code}" in crash["message"]
    assert results(out.read_text(), "exits") == [crash]  # the --output file was written
    assert [r["status"] for r in results(done.stdout, "schema")] == ["pass"]


def test_sys_exit_7_from_an_options_hook_is_a_plugin_error_not_exit_7(tmp_path: Path) -> None:
    site = plugin_site(
        tmp_path,
        {
            "badopts": """\
                import sys
                from stcheck.hookspecs import hookimpl

                @hookimpl
                def stcheck_add_options(parser, command):
                    sys.exit(7)
            """
        },
    )
    repo = git_repo(tmp_path / "repo")
    done = stcheck("validate", "--format", "json", cwd=repo, site=site)
    assert done.returncode == ExitCode.FAILURES, done.stderr
    (error,) = results(done.stdout, "plugins")
    assert (error["status"], error["reason"]) == ("error", "plugin_error")
    assert error["message"].startswith("plugin badopts 1.2.3 left out: stcheck_add_options")
    assert "SystemExit: 7" in error["message"]


def test_sys_exit_from_a_plugin_option_type_at_parse_time_exits_3(tmp_path: Path) -> None:
    site = plugin_site(
        tmp_path,
        {
            "parsexit": """\
                import sys
                from stcheck.hookspecs import hookimpl

                def leave(text):
                    sys.exit(0)

                @hookimpl
                def stcheck_add_options(parser, command):
                    parser.add_argument("--parsexit-x", type=leave)
            """
        },
    )
    repo = git_repo(tmp_path / "repo")
    done = stcheck("validate", "--parsexit-x", "1", cwd=repo, site=site)
    assert done.returncode == ExitCode.INTERNAL
    assert "internal error: SystemExit" in done.stderr
    assert stcheck("validate", "--help", cwd=repo, site=site).returncode == ExitCode.OK
    assert stcheck("validate", "--no-such", cwd=repo, site=site).returncode == ExitCode.USAGE


def test_keyboard_interrupt_raised_by_a_check_is_a_crash_not_an_interrupt(tmp_path: Path) -> None:
    """Raised by plugin code, on a worker thread and on the main thread, with no signal sent."""
    site = plugin_site(
        tmp_path,
        {
            "interrupts": """\
                from stcheck.api import Check
                from stcheck.hookspecs import hookimpl

                class OnWorker(Check):
                    '''Raises KeyboardInterrupt on a worker thread.'''
                    id = "on_worker"
                    stage = "entry"
                    def run_entry(self, ctx, entry, prior):
                        raise KeyboardInterrupt

                class OnMain(Check):
                    '''Raises KeyboardInterrupt on the main thread.'''
                    id = "on_main"
                    def run(self, ctx):
                        raise KeyboardInterrupt

                class Closes(Check):
                    '''Raises GeneratorExit.'''
                    id = "closes"
                    def run(self, ctx):
                        raise GeneratorExit

                @hookimpl
                def stcheck_checks():
                    return [OnWorker(), OnMain(), Closes()]
            """
        },
    )
    repo = git_repo(tmp_path / "repo")
    done = stcheck("validate", "--format", "json", cwd=repo, site=site)
    assert done.returncode == ExitCode.FAILURES, done.stderr
    for check, kind in [
        ("on_worker", "KeyboardInterrupt"),
        ("on_main", "KeyboardInterrupt"),
        ("closes", "GeneratorExit"),
    ]:
        (crash,) = results(done.stdout, check)
        assert (crash["status"], crash["reason"]) == ("error", "check_crashed"), check
        assert kind in crash["message"] and "plugin interrupts 1.2.3" in crash["message"]
    assert "interrupted" not in done.stderr


def test_exceptions_from_every_hook_are_plugin_errors(tmp_path: Path) -> None:
    hooks = {
        "stcheck_checks": "GeneratorExit",
        "stcheck_reference_schemes": "SystemExit(0)",
        "stcheck_output_formats": "KeyboardInterrupt",
    }
    site = plugin_site(
        tmp_path,
        {
            f"raises{index}": f"""\
                from stcheck.hookspecs import hookimpl

                @hookimpl
                def {hook}():
                    raise {raised}
            """
            for index, (hook, raised) in enumerate(hooks.items())
        },
    )
    repo = git_repo(tmp_path / "repo")
    done = stcheck("validate", "--format", "json", cwd=repo, site=site)
    assert done.returncode == ExitCode.FAILURES, done.stderr
    messages = sorted(r["message"] for r in results(done.stdout, "plugins"))
    assert len(messages) == 3
    for index, (hook, raised) in enumerate(hooks.items()):
        assert (
            f"plugin raises{index} 1.2.3 left out: {hook} raised {raised.split('(')[0]}"
            in (messages[index])
        )


def test_an_output_format_that_exits_costs_that_output_and_exits_3(tmp_path: Path) -> None:
    site = plugin_site(
        tmp_path,
        {
            "fmt": """\
                import sys
                from stcheck.api import OutputFormat
                from stcheck.hookspecs import hookimpl

                def render(report):
                    sys.exit(0)

                @hookimpl
                def stcheck_output_formats():
                    return [OutputFormat("exiting", "exits", render)]
            """
        },
    )
    repo = git_repo(tmp_path / "repo")
    out = repo / "out.json"
    done = stcheck(
        "validate", "--format", "exiting", "--output", f"json={out}", cwd=repo, site=site
    )
    assert done.returncode == ExitCode.INTERNAL
    assert "the exiting output format (plugin fmt 1.2.3) crashed: SystemExit" in done.stderr
    assert json.loads(out.read_text())["summary"]["fail"] == 0  # the other output was written


# --- 3: what plugin code prints passes the redactor, and keeps machine formats intact ----------

PRINTER = """\
    import os, sys
    from stcheck.api import Check
    from stcheck.hookspecs import hookimpl
    from stcheck.model import Status

    print("import-time line")

    class Printer(Check):
        '''Prints a secret it should not, and puts it in its result.'''
        id = "printer"
        stage = "summary"
        def run(self, ctx):
            secret = os.environ["GP_SECRET"]
            print("debug: client secret is", secret)
            sys.stdout.write("split: " + secret[:5])
            sys.stdout.write(secret[5:] + " end\\n")
            print("stderr:", secret, file=sys.stderr)
            yield ctx.result(self.id, Status.WARN, f"saw {secret}", reason="printer.saw",
                             hint=f"hint {secret}")

    @hookimpl
    def stcheck_checks():
        return [Printer()]
"""


@pytest.mark.parametrize("fmt", ["json", "sarif", "text"])
def test_plugin_prints_are_redacted_and_never_corrupt_a_machine_format(
    tmp_path: Path, fmt: str
) -> None:
    site = plugin_site(tmp_path, {"printer": PRINTER})
    repo = git_repo(tmp_path / "repo")
    out = repo / "report.json"
    done = stcheck(
        "check", "--select", "credentials,printer", "--format", fmt, "--output", f"json={out}",
        cwd=repo, site=site,
    )  # fmt: skip
    assert done.returncode == ExitCode.OK, done.stdout + done.stderr
    no_canary(done, out)
    assert "debug: client secret is [REDACTED]" in (done.stdout if fmt == "text" else done.stderr)
    assert "split: [REDACTED] end" in (done.stdout if fmt == "text" else done.stderr)
    assert "stderr: [REDACTED]" in done.stderr
    assert "import-time line" in (done.stdout if fmt == "text" else done.stderr)
    if fmt != "text":
        json.loads(done.stdout)  # nothing but the document on stdout
    (warning,) = results(out.read_text(), "printer")
    assert warning["message"] == "saw [REDACTED]" and warning["hint"] == "hint [REDACTED]"


# --- 4: resolver messages and exception text are scrubbed and shortened -------------------------

LEAKY_SCHEME = """\
    import os
    from stcheck.api import ReferenceScheme, ResolveReferenceError
    from stcheck.hookspecs import hookimpl

    def resolve(rest, context):
        if rest == "refused":  # got a value from its store, then refused it (and quoted it)
            value = os.environ["GP_SECRET"]
            raise ResolveReferenceError(
                "unresolved_reference", f"value {value} has expired", value=value
            )
        if rest == "echo":  # quotes a value resolved earlier in the run
            raise ResolveReferenceError(
                "unresolved_reference", "app key was " + os.environ["ST_APP_KEY"] + " x" * 5000
            )
        if rest == "exits":
            raise SystemExit("vault said " + os.environ["ST_APP_KEY"])
        raise RuntimeError("token=" + os.environ["ST_APP_KEY"])

    @hookimpl
    def stcheck_reference_schemes():
        return [ReferenceScheme("leaky", "leaks", "leaky:X", resolve=resolve)]
"""


@pytest.mark.parametrize(
    ("client_id", "client_secret", "status", "reason", "said"),
    [
        ("env:GP_ID", "leaky:refused", "fail", "unresolved_reference", "value [REDACTED] has"),
        ("leaky:echo", "env:GP_SECRET", "fail", "unresolved_reference", "app key was [REDACTED]"),
        ("leaky:exits", "env:GP_SECRET", "error", "plugin_error", "resolver failed (SystemExit)"),
        ("leaky:boom", "env:GP_SECRET", "error", "plugin_error", "resolver failed (RuntimeError)"),
    ],
    ids=["value-refused", "echoes-earlier-value", "sys-exit", "raises"],
)
def test_resolver_messages_never_show_a_secret(
    tmp_path: Path, client_id: str, client_secret: str, status: str, reason: str, said: str
) -> None:
    site = plugin_site(tmp_path, {"leaky": LEAKY_SCHEME})
    repo = git_repo(tmp_path / "repo", client_id=client_id, client_secret=client_secret)
    out = repo / "report.json"
    done = stcheck(
        "check", "--select", "credentials", "--format", "json", "--output", f"json={out}",
        cwd=repo, site=site,
    )  # fmt: skip
    assert done.returncode == ExitCode.FAILURES, done.stderr
    no_canary(done, out)
    (entry,) = [r for r in results(done.stdout, "credentials") if r["tenant"]]
    assert (entry["status"], entry["reason"]) == (status, reason)
    assert said in entry["message"]
    assert len(entry["message"]) < 600  # a 10,000-character message is shortened


def test_a_plugin_check_crash_message_is_scrubbed(tmp_path: Path) -> None:
    site = plugin_site(
        tmp_path,
        {
            "crashy": """\
                import os
                from stcheck.api import Check
                from stcheck.hookspecs import hookimpl

                class Crashy(Check):
                    '''Crashes quoting a secret.'''
                    id = "crashy"
                    stage = "summary"
                    def run(self, ctx):
                        raise ValueError("bad secret " + os.environ["GP_SECRET"] + "!" * 9000)

                @hookimpl
                def stcheck_checks():
                    return [Crashy()]
            """
        },
    )
    repo = git_repo(tmp_path / "repo")
    done = stcheck(
        "check", "--select", "credentials,crashy", "--format", "json", cwd=repo, site=site
    )
    assert done.returncode == ExitCode.FAILURES
    no_canary(done)
    (crash,) = results(done.stdout, "crashy")
    assert "ValueError: bad secret [REDACTED]" in crash["message"]
    assert len(crash["message"]) < 600


# --- 5: plugins never come from the repository being checked ------------------------------------

EVIL = """\
    import pathlib
    pathlib.Path({marker!r}).write_text("ran")
    from stcheck.hookspecs import hookimpl

    @hookimpl
    def stcheck_checks():
        return []
"""


def commit_evil(directory: Path, marker: Path) -> None:
    """What a pull request can commit: an entry point, its module, and modules that shadow."""
    info = directory / "evil-6.6.6.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: evil\nVersion: 6.6.6\n")
    (info / "entry_points.txt").write_text("[stcheck]\nevil = evil_mod\n")
    (directory / "evil_mod.py").write_text(textwrap.dedent(EVIL).format(marker=str(marker)))
    (directory / "yaml.py").write_text(f"open({str(marker)!r}, 'w').write('yaml')\n")


@pytest.mark.parametrize("command", ["plugins", "validate", "check"])
def test_python_m_stcheck_never_loads_plugins_committed_to_the_checked_repository(
    tmp_path: Path, command: str
) -> None:
    marker = tmp_path / "marker"
    repo = git_repo(tmp_path / "repo")
    commit_evil(repo, marker)
    subprocess.run(["git", "init", "-q", str(repo)], check=False, capture_output=True)
    args = [command] if command == "plugins" else [command, "--format", "json"]
    if command == "check":
        args += ["--select", "schema"]
    done = stcheck(*args, cwd=repo)
    assert not marker.exists(), done.stdout + done.stderr
    assert "evil" not in done.stdout
    assert done.returncode == ExitCode.OK, done.stderr


@pytest.mark.parametrize(
    "pythonpath", ["", ".", "{repo}", "{repo}/sub/.."], ids=["empty", "dot", "repo", "repo-dotdot"]
)
def test_relative_and_manifest_directory_path_entries_are_not_searched(
    tmp_path: Path, pythonpath: str
) -> None:
    """Even when the operator's PYTHONPATH names the checked repository (or '.')."""
    marker = tmp_path / "marker"
    repo = git_repo(tmp_path / "repo")
    (repo / "sub").mkdir()
    info = repo / "evil-6.6.6.dist-info"
    info.mkdir()
    (info / "entry_points.txt").write_text("[stcheck]\nevil = evil_mod\n")
    (repo / "evil_mod.py").write_text(textwrap.dedent(EVIL).format(marker=str(marker)))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": pythonpath.format(repo=repo)}
    for cwd in (repo, elsewhere):
        done = stcheck("validate", "--format", "json", repo / "stcheck.yaml", cwd=cwd, env=env)
        assert not marker.exists(), (cwd, done.stderr)
        assert "evil" not in {p["name"] for p in json.loads(done.stdout)["plugins"]}


def test_a_plugin_installed_elsewhere_is_still_found(tmp_path: Path) -> None:
    site = plugin_site(tmp_path, {"exiter": CHECK_THAT_EXITS.format(code=0)})
    repo = git_repo(tmp_path / "repo")
    done = stcheck("plugins", cwd=repo, site=site)
    assert "exiter 1.2.3 (installed)" in done.stdout


# --- 6: hooks through pluggy: typo'd names, specname, tryfirst, the documented failures ---------


class One(Check):
    """A check provided under a hook name of the plugin's own choosing."""

    id = "one"

    def run(self, ctx: CheckContext) -> list[Result]:
        return [ctx.result(self.id, Status.PASS, "one ran")]


class Typo:
    @hookimpl
    def stcheck_chekcs(self) -> list[Check]:
        return [One()]


class SpecName:
    @hookimpl(specname="stcheck_checks")
    def my_checks(self) -> list[Check]:
        return [One()]


class Loser:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [type("LoserOne", (One,), {"__doc__": "The loser's one."})()]


class Winner:
    @hookimpl(tryfirst=True)
    def stcheck_checks(self) -> list[Check]:
        return [One()]


class BadSignature:
    @hookimpl
    def stcheck_add_options(self, parser: Any, command: str, extra: Any) -> None:
        raise AssertionError("never called")


class Raises:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        raise RuntimeError("hook broke")


class TakesSchema:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [type("Schema", (One,), {"id": "schema", "__doc__": "Not the schema check."})()]


def test_a_typod_hook_name_is_a_plugin_error_naming_plugin_and_hook() -> None:
    plugins = build_plugins(load_installed=False, extra=[("typo", Typo())])
    (failed,) = plugins.errors
    assert failed.name == "typo"
    assert "stcheck_chekcs" in (failed.error or "") and "not a stcheck hook" in (failed.error or "")
    assert "one" not in plugins.checks


def test_specname_and_tryfirst_are_honoured() -> None:
    plugins = build_plugins(load_installed=False, extra=[("spec", SpecName())])
    assert plugins.errors == [] and isinstance(plugins.checks["one"], One)

    plugins = build_plugins(load_installed=False, extra=[("loser", Loser()), ("winner", Winner())])
    assert type(plugins.checks["one"]) is One  # tryfirst: the winner claimed the id first
    (failed,) = plugins.errors
    assert failed.name == "loser" and "already taken" in (failed.error or "")


@pytest.mark.parametrize(
    ("plugin", "words"),
    [
        (BadSignature(), ["failed to register", "extra"]),
        (Raises(), ["stcheck_checks raised RuntimeError: hook broke"]),
        (TakesSchema(), ["check id 'schema' is empty or already taken"]),
    ],
    ids=["bad-signature", "hook-raises", "id-taken"],
)
def test_documented_plugin_failures_leave_the_plugin_out(plugin: object, words: list[str]) -> None:
    plugins = build_plugins(load_installed=False, extra=[("bad", plugin)])
    (failed,) = plugins.errors
    for word in words:
        assert word in (failed.error or "")
    assert plugins.checks["schema"].__class__.__module__ == "stcheck.checks.schema"


def test_a_plugin_that_fails_to_import_is_an_error_and_the_run_goes_on(tmp_path: Path) -> None:
    site = plugin_site(tmp_path, {"noimport": "import no_such_module_anywhere\n"})
    repo = git_repo(tmp_path / "repo")
    done = stcheck("validate", "--format", "json", cwd=repo, site=site)
    assert done.returncode == ExitCode.FAILURES
    (error,) = results(done.stdout, "plugins")
    assert error["message"].startswith("plugin noimport 1.2.3 left out: failed to import:")
    assert "ModuleNotFoundError" in error["message"]
    assert [r["status"] for r in results(done.stdout, "schema")] == ["pass"]


def test_exit_codes_are_the_documented_set() -> None:
    assert {int(code) for code in ExitCode} == {0, 1, 2, 3, 130, 143}


class Wrapping:
    @hookimpl(wrapper=True)
    def stcheck_checks(self) -> Any:
        result = yield
        return result


def test_a_hook_wrapper_is_refused_not_half_run() -> None:
    plugins = build_plugins(load_installed=False, extra=[("wrapping", Wrapping())])
    (failed,) = plugins.errors
    assert "hook wrappers are not supported" in (failed.error or "")
    assert "schema" in plugins.checks  # the built-ins were not wrapped

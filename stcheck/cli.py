"""The ``stcheck`` command line: argparse, ``main(argv) -> int`` and the console script.

The run commands themselves (options, running, outputs, exit status) are
:mod:`stcheck.app`; this module and it are the only places that write.

Exit status (:class:`stcheck.exitcodes.ExitCode`): 0 nothing failed; 1 at
least one ``fail`` or ``error`` result (also: a manifest that did not load,
nothing checked, the ``--deadline`` passed); 2 usage or input error before
checks could run; 3 stcheck itself broke; 130/143 stopped by SIGINT/SIGTERM.
Plugin code never chooses the status: its ``SystemExit`` is an ``error`` result.
Everything written — stdout, stderr, ``--output`` files, and what plugin code
prints — passes the redactor.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from stcheck import __version__
from stcheck.app import DEFAULT_MANIFEST, Writer, deadline_seconds, run_command
from stcheck.boundary import describe
from stcheck.exitcodes import ExitCode, UsageError
from stcheck.plugin_io import PluginStreams
from stcheck.plugins import DEFAULT_PLUGINS, PluginSet, build_plugins
from stcheck.redact import Redactor
from stcheck.signals import Interrupted, stop_on_signals

ENVIRONMENTS = ("integration", "production")
DEFAULT_FORMAT = {"validate": "text", "check": "text", "report": "markdown"}

EPILOG = """\
exit status: 0 nothing failed; 1 a result is fail or error (with --fail-on
warn, or warn; also: a manifest that cannot be loaded, whatever the selection;
nothing checked; the --deadline passed); 2 usage or input error (bad option,
missing manifest, a --tenant no manifest has, an --output path that cannot be
written, a config file that cannot be used: see docs/config.md); 3 stcheck
itself broke, an output format crashed, or an --output file could not be
written after the run (disk full): the previous file is then left as it was;
130 interrupted (SIGINT), 143 terminated (SIGTERM): no --output file is left.
A plugin that raises or calls sys.exit() is an error result (exit 1), never
the exit status.
"""


def _ids(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _output_spec(text: str) -> tuple[str, str]:
    name, sep, path = text.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"expected FORMAT=PATH, got {text!r}")
    return name, path


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value <= 600:
        raise argparse.ArgumentTypeError("must be between 0 and 600 seconds")
    return value


def _deadline(text: str) -> float:
    try:
        return deadline_seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _concurrency(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError("must be between 1 and 256")
    return value


def _resolve_spec(text: str) -> str:
    host, _, rest = text.partition(":")
    port, _, address = rest.partition(":")
    if not host or not port.isdigit() or not address:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT:ADDRESS, got {text!r}")
    return text


def _common(parser: argparse.ArgumentParser, command: str, plugins: PluginSet) -> None:
    parser.add_argument(
        "manifests",
        nargs="*",
        metavar="MANIFEST",
        help=f"manifest files (default: {DEFAULT_MANIFEST}, else stcheck.yml, in the working"
        " directory)",
    )
    formats = sorted(n for n, f in plugins.formats.items() if command in f.commands)
    selection = parser.add_argument_group("selection")
    selection.add_argument(
        "--tenant",
        action="append",
        default=[],
        metavar="NAME",
        help="only this tenant (repeatable)",
    )
    selection.add_argument(
        "--exclude-tenant",
        action="append",
        default=[],
        metavar="NAME",
        help="leave out tenants matching NAME, a shell-style glob such as 'acme-*' (repeatable):"
        " no online checks, no readiness; validate still checks their entries in the file",
    )
    selection.add_argument(
        "--env",
        action="append",
        default=[],
        choices=ENVIRONMENTS,
        help="only this environment (repeatable)",
    )
    selection.add_argument(
        "--select",
        type=_ids,
        action="append",
        default=[],
        metavar="ID[,ID]",
        help="run only these checks (see `stcheck plugins`); replaces the config's select",
    )
    selection.add_argument(
        "--skip",
        type=_ids,
        action="append",
        default=[],
        metavar="ID[,ID]",
        help="do not run these checks; replaces the config's skip",
    )
    if command in ("validate", "check"):
        selection.add_argument(
            "--fail-on",
            choices=("fail", "warn"),
            default=None,
            help="warn: exit 1 also when a warn result remains (default: fail, or the"
            " config's fail_on)",
        )
    config = parser.add_argument_group("configuration").add_mutually_exclusive_group()
    config.add_argument(
        "--config",
        metavar="PATH",
        help="read options from this file (.stcheck.toml, or a pyproject.toml with"
        " [tool.stcheck]) instead of the one found from the working directory upward",
    )
    config.add_argument("--no-config", action="store_true", help="read no configuration file")
    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=formats,
        default=DEFAULT_FORMAT[command],
        help=f"format for stdout (default: {DEFAULT_FORMAT[command]})",
    )
    output.add_argument(
        "--output",
        type=_output_spec,
        action="append",
        default=[],
        metavar="FORMAT=PATH",
        help="also write FORMAT to PATH (repeatable), e.g. junit=report.xml. PATH is"
        " deleted before the checks run, so an interrupted run leaves no stale file, and"
        " written whole (a temporary file renamed into place) when they are done; the file"
        " $GITHUB_STEP_SUMMARY names is appended to instead. Replaces the config's outputs",
    )
    output.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="nothing on stdout; the exit status and --output files only",
    )
    output.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="text format: list passing and skipped results too",
    )
    if command in ("validate", "check"):
        parser.add_argument(
            "--baseline",
            metavar="REPORT.json",
            help="fail only on findings this earlier JSON report (--output json=PATH of the"
            " same command) does not have; those it has are shown as known and do not count."
            " Literal secrets, hosts in the manifest, manifests that do not load and other"
            " findings that protect the gate always count (docs/baseline.md)",
        )
    parser.add_argument(
        "--disable-plugin",
        action="append",
        default=[],
        metavar="NAME",
        help="do not load this plugin (entry-point name, or a built-in module)",
    )


def _network(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("network")
    group.add_argument(
        "--timeout",
        type=_positive_float,
        default=None,
        metavar="SECONDS",
        help="wall-clock limit per request: connect, TLS, headers and body (default: 10)",
    )
    group.add_argument(
        "--deadline",
        type=_deadline,
        default=None,
        metavar="SECONDS",
        help="wall-clock limit for the whole run: checks not finished by then are errors"
        " (deadline_exceeded), abandoned, and the run exits 1 (default: STCHECK_DEADLINE,"
        " else the config's deadline, else none)",
    )
    group.add_argument(
        "--concurrency",
        type=_concurrency,
        default=None,
        metavar="N",
        help="entries checked at once (default: 16)",
    )
    group.add_argument(
        "--ca-bundle",
        metavar="PATH",
        help="CA certificates to trust (default: REQUESTS_CA_BUNDLE, then certifi)",
    )
    group.add_argument(
        "--resolve",
        type=_resolve_spec,
        action="append",
        default=[],
        metavar="HOST:PORT:ADDRESS",
        help="connect to ADDRESS for HOST:PORT, as curl --resolve (repeatable)",
    )
    group.add_argument(
        "--allow-env",
        action="append",
        default=[],
        metavar="PATTERN",
        help="env: references may read only variables matching PATTERN, e.g. 'ST_*'"
        " (repeatable; adds to STCHECK_ENV_ALLOW; default: any variable)",
    )


class ParserExit(Exception):
    """argparse ended the command line (``--help``: 0, a bad option: 2) — not a plugin's exit."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = ExitCode.OK if status == 0 else ExitCode.USAGE


def _help_width() -> int:
    """argparse's default help width: ``shutil.get_terminal_size().columns - 2``, without shutil."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return (columns or 80) - 2


def _parser_class(writer: Writer | None) -> type[argparse.ArgumentParser]:
    """argparse's help and errors through ``writer`` (the redactor); its exit as ParserExit.

    Raising :class:`ParserExit` rather than ``SystemExit`` is how :func:`main`
    tells argparse's own ending from a ``SystemExit`` raised by plugin code
    during parsing (an option's ``type=`` or action), which exits 3.
    """
    out = writer

    class Parser(argparse.ArgumentParser):
        def _print_message(self, message: str, file: Any = None) -> None:
            if not message:
                return
            if out is None:
                super()._print_message(message, file)
            else:
                (out.err if file is sys.stderr else out.out)(message)

        def _get_formatter(self) -> argparse.HelpFormatter:
            # argparse makes a formatter for every add_argument (to check its metavar); the
            # default width comes from shutil, whose import (bz2, lzma, fnmatch) the
            # pre-commit hook would pay on every start. The same width, from os.
            return self.formatter_class(prog=self.prog, width=_help_width())  # type: ignore[call-arg]

        def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
            if message:
                self._print_message(message, sys.stderr)
            raise ParserExit(status)

    return Parser


def build_parser(
    plugins: PluginSet, only: str | None = None, writer: Writer | None = None
) -> argparse.ArgumentParser:
    """The full parser; with ``only``, the options of that one command are the only ones added.

    Adding every option of every command costs a few milliseconds the
    pre-commit hook does not need to spend.
    """
    parser = _parser_class(writer)(
        prog="stcheck",
        description="Keep a ServiceTitan API integration honest: validate the manifest, "
        "check credentials online, report go-live readiness.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"stcheck {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    validate = commands.add_parser(
        "validate",
        help="offline: schema, references, uniqueness (the pre-commit hook)",
        description="Validate manifests offline: no network, no secrets.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if only in (None, "validate"):
        _common(validate, "validate", plugins)
        validate.add_argument(
            "--pre-commit",
            action="store_true",
            help="the MANIFEST arguments are changed files (the pre-commit hook): a tenant file"
            " a manifest includes validates that manifest instead",
        )
    check = commands.add_parser(
        "check",
        help="validate + online checks: credentials, DNS, token, API probe (the CI gate)",
        description="Validate, then check each entry online with the secrets this runner holds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if only in (None, "check"):
        _common(check, "check", plugins)
        _network(check)
    report = commands.add_parser(
        "report",
        help="go-live readiness report (markdown, html, json)",
        description="Per tenant: is production ready? Blocking and advisory items, attestations,"
        " next steps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if only in (None, "report"):
        _common(report, "report", plugins)
        _network(report)
        report.add_argument(
            "--offline",
            action="store_true",
            help="manifest-only items; network items are shown as not checked",
        )
        report.add_argument(
            "--strict", action="store_true", help="exit 1 when a selected tenant is not ready"
        )
    for name, sub in (("validate", validate), ("check", check), ("report", report)):
        if only in (None, name):
            plugins.add_options(sub, name)
    commands.add_parser("plugins", help="list plugins, their checks, schemes and formats")
    schema = commands.add_parser("schema", help="print a published JSON Schema")
    which = schema.add_mutually_exclusive_group()
    which.add_argument(
        "--report", action="store_true", help="the JSON report's schema instead of the manifest's"
    )
    which.add_argument(
        "--tenants",
        action="store_true",
        help="the schema of an included tenant file (include:) instead of the manifest's",
    )
    commands.add_parser("demo", help="check a bundled sample against a built-in fake ServiceTitan")
    return parser


def _disabled_plugins(argv: Sequence[str]) -> list[str]:
    disabled = _ids(os.environ.get("STCHECK_DISABLE_PLUGINS", ""))
    for index, arg in enumerate(argv):
        if arg == "--disable-plugin" and index + 1 < len(argv):
            disabled.append(argv[index + 1])
        elif arg.startswith("--disable-plugin="):
            disabled.append(arg.split("=", 1)[1])
    return disabled


def entry() -> None:
    """The console script: run, flush, and exit without tearing the process down.

    Freeing a 10,000-tenant manifest object by object takes ~0.2 s the user
    would wait for; the operating system reclaims it at once. Files written
    by ``--output`` are closed before :func:`main` returns. And after a
    ``--deadline`` or a signal, worker threads abandoned in a blocking call (a
    plugin's ``sleep``, a socket read) still exist: a normal interpreter exit
    would run atexit handlers and finalization alongside them (which can block
    on locks they hold, or abort on stdout's), so ``os._exit`` it is — the exit
    status is then exactly what :func:`main` returned.
    """
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):
        code = code or ExitCode.INTERNAL
    os._exit(code)


def _manifest_candidates(argv: Sequence[str]) -> list[str]:
    """The arguments that name existing files: the manifests, before the parser exists.

    Plugins are discovered before the command line can be parsed (they add
    options), so this is how the directories of the manifests to be checked
    are kept out of plugin discovery. The default manifest lives in the working
    directory, which is excluded anyway, as is its repository, which holds a
    discovered config file and everything it names; a ``--config`` file is a
    candidate like a manifest (its repository holds what it names).
    """
    named = [arg.split("=", 1)[1] for arg in argv if arg.startswith("--config=")]
    return [arg for arg in [*argv, *named] if not arg.startswith("-") and os.path.isfile(arg)]


def main(
    argv: Sequence[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    """Run the command line; returns the exit status."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    redactor = Redactor()
    writer = Writer(redactor, stdout or sys.stdout, stderr or sys.stderr)
    streams = PluginStreams(
        lambda text: redactor(redactor.secrets.mask(text)), writer.stdout, writer.stderr
    )
    try:
        with stop_on_signals(), streams:
            return _main(args_list, writer, redactor, streams)
    except UsageError as exc:
        writer.err(f"stcheck: error: {exc}\n")
        return ExitCode.USAGE
    except ParserExit as exc:  # argparse: --help exits 0, bad options exit 2
        return exc.status
    except KeyboardInterrupt as exc:
        stopped = exc if isinstance(exc, Interrupted) else Interrupted(signal.SIGINT)
        with contextlib.suppress(Exception):
            writer.err(f"stcheck: stopped by {stopped.name}; the run did not finish\n")
        return ExitCode(stopped.code)
    except BrokenPipeError:  # `stcheck … | head`: the reader left; nothing more to say
        return ExitCode.FAILURES
    except BaseException as exc:  # SystemExit from plugin code outside any boundary, a bug
        writer.err(
            f"stcheck: internal error: {describe(exc, redactor.secrets.mask)}\n"
            "This is a bug in stcheck or a plugin; please report it.\n"
        )
        return ExitCode.INTERNAL


_PLAIN_FLAGS = {
    "-q": "quiet",
    "--quiet": "quiet",
    "-v": "verbose",
    "--verbose": "verbose",
    "--no-config": "no_config",
    "--pre-commit": "pre_commit",
}


def plain_validate(argv: Sequence[str]) -> argparse.Namespace | None:
    """``validate [FLAG…] [FILE…] [FLAG…]`` parsed without building the parser, else None.

    FLAG is one of :data:`_PLAIN_FLAGS`, spelled out; FILE does not start with
    ``-``. That is the pre-commit hook's command line (``validate --pre-commit
    FILE…``) and the usual hand-typed one; building argparse's parser for it
    costs more than the rest of stcheck's start-up beyond its imports. Anything
    else — another option, an abbreviation, ``--``, ``-``, files on both sides
    of a flag, ``--help`` — is None: the parser decides, with its messages and
    exit status. The namespace is the parser's own for the same argv (with the
    built-in plugins only: :func:`_main` checks; tests/test_plain_validate.py
    compares both over many command lines).
    """
    if not argv or argv[0] != "validate":
        return None
    flags = dict.fromkeys(("quiet", "verbose", "no_config", "pre_commit"), False)
    manifests: list[str] = []
    after_files = False
    for arg in argv[1:]:
        flag = _PLAIN_FLAGS.get(arg)
        if flag is not None:
            flags[flag] = True
            after_files = bool(manifests)
        elif arg and not arg.startswith("-") and not after_files:
            manifests.append(arg)
        else:
            return None
    return argparse.Namespace(
        command="validate",
        manifests=manifests,
        tenant=[],
        exclude_tenant=[],
        env=[],
        select=[],
        skip=[],
        fail_on=None,
        config=None,
        format=DEFAULT_FORMAT["validate"],
        output=[],
        baseline=None,
        disable_plugin=[],
        today=None,
        **flags,
    )


def _only_builtins(plugins: PluginSet) -> bool:
    """Every built-in plugin and nothing else, all working: the options are the built-ins'."""
    names = [plugin.name for plugin in plugins.plugins]
    return plugins.manager is None and not plugins.errors and names == list(DEFAULT_PLUGINS)


def _main(argv: list[str], writer: Writer, redactor: Redactor, streams: PluginStreams) -> int:
    plugins = build_plugins(disabled=_disabled_plugins(argv), untrusted=_manifest_candidates(argv))
    args = plain_validate(argv) if _only_builtins(plugins) else None
    if args is None:
        command = next((arg for arg in argv if not arg.startswith("-")), None)
        parser = build_parser(plugins, command if command in DEFAULT_FORMAT else None, writer)
        args = parser.parse_args(argv)
    human = args.command in ("plugins", "demo") or (
        args.command in DEFAULT_FORMAT and args.format == "text" and not args.quiet
    )
    streams.route_stdout(to_stdout=human)
    if args.command == "plugins":
        from stcheck.introspect import render_plugins

        writer.out(render_plugins(plugins))
        return ExitCode.OK
    if args.command == "schema":
        from stcheck.manifest.schema import (
            MANIFEST_SCHEMA,
            REPORT_SCHEMA,
            TENANTS_SCHEMA,
            schema_text,
        )

        name = TENANTS_SCHEMA if args.tenants else REPORT_SCHEMA if args.report else MANIFEST_SCHEMA
        writer.out(schema_text(name))
        return ExitCode.OK
    if args.command == "demo":
        from stcheck.demo import run_demo

        return run_demo(writer, redactor, build_parser)
    return run_command(args, plugins, writer, redactor)

"""The run commands (``validate``, ``check``, ``report``): options → run → outputs → exit status.

:mod:`stcheck.cli` parses the command line; :func:`run_command` turns the
parsed options into :class:`~stcheck.api.RunOptions`, runs
(:func:`stcheck.runner.run`), writes each output through the redactor
(:class:`Writer`) and decides the exit status (:class:`~stcheck.exitcodes.ExitCode`).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from stcheck import outputs
from stcheck.api import RunOptions
from stcheck.boundary import Boundary, describe
from stcheck.bounded import RunBound
from stcheck.exitcodes import ExitCode, UsageError
from stcheck.model import RunReport
from stcheck.plan import not_run_reason
from stcheck.plugins import PluginSet
from stcheck.redact import Redactor
from stcheck.runner import RUN_FAILURES, run
from stcheck.runstate import RunState

if TYPE_CHECKING:
    from stcheck.baseline import Baseline

DEFAULT_MANIFEST = "stcheck.yaml"
FALLBACK_MANIFEST = "stcheck.yml"
"""The default manifest when ``stcheck.yaml`` does not exist in the working directory."""


def default_manifest() -> str:
    """``stcheck.yaml``, else ``stcheck.yml`` when only that exists (then the error names the
    first)."""
    if not os.path.lexists(DEFAULT_MANIFEST) and os.path.lexists(FALLBACK_MANIFEST):
        return FALLBACK_MANIFEST
    return DEFAULT_MANIFEST


MAX_DEADLINE = 86_400.0
DEFAULT_TIMEOUT = 10.0
DEFAULT_CONCURRENCY = 16


class Writer:
    """Writes text through the redactor."""

    def __init__(self, redactor: Redactor, stdout: TextIO, stderr: TextIO) -> None:
        self.redact = redactor
        self.stdout = stdout
        self.stderr = stderr

    def out(self, text: str) -> None:
        try:
            self.stdout.write(self.redact(text))
            self.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise UsageError(f"cannot write to standard output ({exc.strerror})") from None

    def err(self, text: str) -> None:
        self.stderr.write(self.redact(text))
        self.stderr.flush()

    def file(self, path: str, text: str) -> None:
        """Write ``text`` to ``path`` atomically; raises :class:`outputs.OutputWriteError`."""
        outputs.write(path, self.redact(text))


def deadline_seconds(text: str) -> float:
    """``--deadline``/``STCHECK_DEADLINE`` seconds; ValueError says what is wrong with ``text``."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"not a number: {text!r}") from None
    if not 0 < value <= MAX_DEADLINE:  # also refuses nan and inf
        raise ValueError(f"must be between 0 and {MAX_DEADLINE:g} seconds")
    return value


def _deadline_for(
    command: str, given: float | None, configured: float | None = None
) -> float | None:
    """``--deadline``, else ``STCHECK_DEADLINE`` (a malformed value is an input error), else
    the config file's ``deadline``: the CI's own setting beats the repository's.

    ``validate`` has no deadline: it is offline and bounded by size.
    """
    if given is not None or command == "validate":
        return given
    text = os.environ.get("STCHECK_DEADLINE", "").strip()
    if not text:
        return configured
    try:
        return deadline_seconds(text)
    except ValueError as exc:
        raise UsageError(f"STCHECK_DEADLINE: {exc}") from None


def options_from(args: argparse.Namespace) -> RunOptions:
    """The run's options, as checks see them, from the parsed command line."""
    select = frozenset(i for group in args.select for i in group)
    return RunOptions(
        command=args.command,
        offline=args.command == "validate" or bool(getattr(args, "offline", False)),
        timeout=getattr(args, "timeout", None) or DEFAULT_TIMEOUT,
        concurrency=getattr(args, "concurrency", None) or DEFAULT_CONCURRENCY,
        ca_bundle=getattr(args, "ca_bundle", None),
        resolve=tuple(getattr(args, "resolve", ())),
        tenants=tuple(args.tenant),
        exclude_tenants=tuple(getattr(args, "exclude_tenant", ())),
        environments=tuple(args.env),
        today=getattr(args, "today", None),
        allow_env=tuple(getattr(args, "allow_env", ())),
        extra=args,
        select=select or None,
        skip=frozenset(i for group in args.skip for i in group),
    )


def run_command(
    args: argparse.Namespace,
    plugins: PluginSet,
    writer: Writer,
    redactor: Redactor,
) -> int:
    """Run ``validate``, ``check`` or ``report`` as parsed into ``args``; the exit status."""
    _configure(args, plugins, writer)
    paths = args.manifests or [default_manifest()]
    if getattr(args, "pre_commit", False) and args.manifests:
        from stcheck.precommit import manifests_for

        paths = manifests_for(args.manifests)
    _check_formats(args, plugins)
    # a bad baseline is exit 2 before anything runs; read before --output may replace it
    baseline = _baseline(args)
    try:
        outputs.prepare(args.output, paths)
    except outputs.OutputSetupError as exc:
        raise UsageError(str(exc)) from None
    options = options_from(args)
    state = RunState(redactor=redactor)
    if _uses_network(plugins, options):
        config = _network_config(options)  # a malformed proxy is exit 2 before anything runs
        state.registry.get(type(config), lambda: config)
    deadline = _deadline_for(
        options.command, getattr(args, "deadline", None), getattr(args, "config_deadline", None)
    )
    bound = RunBound(deadline)
    report = _run(paths, plugins, options, state, writer, bound, baseline)
    if write_outputs(args, plugins, report, writer):
        return ExitCode.INTERNAL  # the verdict exists but did not reach every output asked for
    return exit_status(
        report,
        strict=bool(getattr(args, "strict", False)),
        fail_on=getattr(args, "fail_on", None) or "fail",
    )


def _configure(args: argparse.Namespace, plugins: PluginSet, writer: Writer) -> None:
    """Fill in what the command line left unsaid from the config file (:mod:`stcheck.config`).

    What the file leaves out of the run (checks, tenants) is said on stderr, ``-q`` or not:
    the CI log is where a pull request's change to the gate must show.
    """
    from stcheck import config

    found = None if args.no_config else config.load(args.config)
    formats = {name: fmt.commands for name, fmt in plugins.formats.items()}
    taken = config.apply(args, found, plugins.checks.keys(), formats)
    note = config.narrowing_note(found, taken, args.command) if found is not None else None
    if note is not None:
        writer.err(note)


def _check_formats(args: argparse.Namespace, plugins: PluginSet) -> None:
    """Refuse (exit 2) a stdout or ``--output`` format that no plugin of this run provides."""
    if not args.quiet and args.format not in plugins.formats:
        raise UsageError(f"output format {args.format!r}: its plugin was left out (see above)")
    for name, _ in args.output:
        fmt = plugins.formats.get(name)
        if fmt is None or args.command not in fmt.commands:
            allowed = sorted(n for n, f in plugins.formats.items() if args.command in f.commands)
            raise UsageError(f"unknown output format {name!r} (choose from {', '.join(allowed)})")


def _baseline(args: argparse.Namespace) -> Baseline | None:
    path = getattr(args, "baseline", None)
    if path is None:
        return None
    from stcheck.baseline import load

    return load(path, args.command)


def _uses_network(plugins: PluginSet, options: RunOptions) -> bool:
    return any(c.network and not_run_reason(c, options) is None for c in plugins.checks.values())


def _run(
    paths: Sequence[str],
    plugins: PluginSet,
    options: RunOptions,
    state: RunState,
    writer: Writer,
    bound: RunBound,
    baseline: Baseline | None = None,
) -> RunReport:
    """:func:`stcheck.runner.run`, with a progress line on a terminal (not for ``validate``)."""
    progress = (
        _progress(writer) if writer.stderr.isatty() and options.command != "validate" else None
    )
    try:
        report = run(
            paths, plugins, options, state=state, progress=progress, bound=bound, baseline=baseline
        )
    finally:
        bound.close()
    if progress is not None:
        writer.err("\r\033[K")
    return report


def write_outputs(
    args: argparse.Namespace, plugins: PluginSet, report: RunReport, writer: Writer
) -> int:
    """Write every ``--output`` file, then stdout; the number of outputs not written.

    Interrupted, it deletes the files it wrote: a stopped run leaves none of them.
    """
    unwritten = 0
    written: list[str] = []
    try:
        for name, path in args.output:
            text = _render(plugins, name, report, writer)
            if text is not None and _write_file(writer, path, text):
                written.append(path)
            else:
                unwritten += 1
        if not args.quiet:
            text = _stdout_text(args, plugins, report, writer)
            if text is None:
                unwritten += 1
            else:
                writer.out(text)
    except KeyboardInterrupt:
        outputs.discard(written)
        raise
    return unwritten


def _write_file(writer: Writer, path: str, text: str) -> bool:
    try:
        writer.file(path, text)
    except outputs.OutputWriteError as exc:
        writer.err(f"stcheck: error: {exc}\n")
        return False
    return True


def _stdout_text(
    args: argparse.Namespace, plugins: PluginSet, report: RunReport, writer: Writer
) -> str | None:
    if args.format == "text" and args.verbose:
        from stcheck.reporters.text import render as render_text

        return render_text(report, verbose=True)
    return _render(plugins, args.format, report, writer)


def exit_status(report: RunReport, *, strict: bool = False, fail_on: str = "fail") -> ExitCode:
    """1 when a result failed (with ``fail_on="warn"``, also when one warns); in ``report``,
    only when ``strict`` and a tenant is not ready.

    A report still fails when a manifest did not load, nothing was checked or
    time ran out: then it informs of nothing, and a gate fails closed.
    """
    if report.command != "report":
        warned = fail_on == "warn" and report.summary["warn"] > 0
        return ExitCode.FAILURES if report.failed or warned else ExitCode.OK
    if report.unloaded or any(result.reason in RUN_FAILURES for result in report.results):
        return ExitCode.FAILURES
    from stcheck.readiness import any_not_ready

    return ExitCode.FAILURES if strict and any_not_ready(report) else ExitCode.OK


def _render(plugins: PluginSet, name: str, report: RunReport, writer: Writer) -> str | None:
    """Format ``name``'s text for ``report``, or None (said on stderr) when the format crashed.

    A format's ``render`` is plugin code: whatever it raises, ``SystemExit``
    included, costs that one output (exit 3), never the verdict of the others.
    """
    text: Any = None
    with Boundary() as boundary:
        text = plugins.formats[name].render(report)
        if not isinstance(text, str):
            raise TypeError(f"render returned {type(text).__name__}, not text")
    if boundary.failure is None:
        return str(text)
    provider = plugins.provider("formats", name)
    by = f" (plugin {provider.label})" if provider is not None else ""
    writer.err(
        f"stcheck: error: the {name} output format{by} crashed:"
        f" {describe(boundary.failure, writer.redact.secrets.mask)}\n"
    )
    return None


def _network_config(options: RunOptions) -> Any:
    """The run's network settings, read once; a malformed proxy variable is an input error."""
    from stcheck.net.config import NetConfig

    config = NetConfig.from_options(
        timeout=options.timeout,
        concurrency=options.concurrency,
        ca_bundle=options.ca_bundle,
        resolve=options.resolve,
    )
    if config.problem is not None:
        raise UsageError(config.problem)
    return config


def _progress(writer: Writer) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if total >= 20 and (done == total or done % max(1, total // 100) == 0):
            writer.err(f"\rstcheck: {done}/{total} entries checked")

    return show

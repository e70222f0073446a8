"""The public namespace for plugin authors: everything a plugin imports comes from here.

A plugin module implements hooks from :mod:`stcheck.hookspecs`, decorated with
:data:`hookimpl`, and returns instances of the types below. The built-in
checks, schemes and formats use exactly the same types. The names in
:data:`__all__` are stcheck's plugin API (each says when it was added, with
``versionadded``); every other module of stcheck is internal, even where its
names can be imported, and may change in any release (docs/plugins.md,
"Compatibility policy").

Importing this module stays cheap (no YAML parser, no HTTP stack): the
manifest types and the test helpers are imported when first used.
"""

from __future__ import annotations

import argparse
import fnmatch
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from stcheck.confine import FileRefused, confined_path, has_control, read_regular, repository_root
from stcheck.confine import path_problem as path_problem
from stcheck.hookspecs import hookimpl as hookimpl
from stcheck.model import Location, PluginInfo, Result, RunReport, Status
from stcheck.reasons import hint_for
from stcheck.record import field, record

if TYPE_CHECKING:
    from stcheck.manifest.model import Entry, Manifest
    from stcheck.runstate import RunState
    from stcheck.testing.plugins import plugin_set, run_checks

__all__ = [
    "SECRET_FILE_MAX_BYTES",
    "Check",
    "CheckContext",
    "ConfinedFile",
    "Entry",
    "Location",
    "Manifest",
    "OutputFormat",
    "PluginInfo",
    "ReferenceScheme",
    "ResolveContext",
    "ResolveReferenceError",
    "Result",
    "RunOptions",
    "RunReport",
    "Stage",
    "Status",
    "hookimpl",
    "path_problem",
    "plugin_set",
    "read_secret_file",
    "run_checks",
]

# Public names defined elsewhere and imported on first use (module → names).
_LAZY = {
    "stcheck.manifest.model": ("Entry", "Manifest"),
    "stcheck.testing.plugins": ("plugin_set", "run_checks"),
}


def __getattr__(name: str) -> Any:
    for module_name, names in _LAZY.items():
        if name in names:
            import importlib

            value = getattr(importlib.import_module(module_name), name)
            globals()[name] = value
            return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _run_state() -> RunState:
    from stcheck.runstate import RunState

    return RunState()


Stage = Literal["manifest", "entry", "summary"]
"""When a check runs: once per manifest, once per (tenant, environment) entry, or last.

.. versionadded:: 0.1
"""


class ResolveReferenceError(Exception):
    """Raised by a scheme's resolver when a reference cannot be resolved.

    ``reason`` is a word of :mod:`stcheck.reasons` (``unresolved_reference``,
    ``empty_value``, ...). The message names the reference, never a value.

    ``value``: when the resolver did obtain a value and refuses it (the wrong
    shape, expired), pass it here. It is never shown; stcheck masks it, and its
    fragments, everywhere from then on — in this message too, should the
    message quote it after all. The message is scrubbed against every value
    resolved in the run and shortened before it is shown.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``value``.
    """

    def __init__(self, reason: str, message: str, *, value: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.value = value

    def __repr__(self) -> str:  # never the value
        return f"ResolveReferenceError({self.reason!r}, {self.message!r})"


SECRET_FILE_MAX_BYTES = 64 * 1024
"""The most a ``file:`` reference reads: far more than any credential, far less than a dump.

.. versionadded:: 0.2
"""

_REFUSED_REASON = {
    "missing": "unresolved_reference",
    "unreadable": "unresolved_reference",
    "too_large": "unresolved_reference",
    "not_allowed": "reference_not_allowed",
}


@record(frozen=True)
class ConfinedFile:
    """A file read for a reference by :meth:`ResolveContext.read_file`: its bytes and mode.

    .. versionadded:: 0.2
    """

    path: str
    """The path as the manifest wrote it (for messages)."""
    data: bytes = field(repr=False)
    mode: int = 0o600
    what: str = "file"

    @property
    def readable_by_others(self) -> bool:
        """Group or others may read the file: worth an ``insecure_permissions`` warning."""
        return bool(self.mode & (stat.S_IRWXG | stat.S_IRWXO))

    def text(self) -> str:
        """The content as UTF-8 text (a leading byte-order mark dropped).

        Raises :class:`ResolveReferenceError` (``unresolved_reference``) for
        bytes that are not UTF-8, naming the exception's type only: a decoding
        error's text quotes the file's bytes.
        """
        try:
            return self.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ResolveReferenceError(
                "unresolved_reference",
                f"{self.what} {self.path} cannot be read ({type(exc).__name__})",
            ) from None


@record(frozen=True)
class ResolveContext:
    """What a resolver may know and use: the manifest's directory, a warnings sink, the policy.

    ``root`` is the directory tree that files named by references are confined
    to (the git work tree holding the manifest, else the manifest's directory;
    found from ``manifest_dir`` when not given). ``env_allow`` is the CI
    operator's allow-list of environment variable names (``fnmatch`` patterns,
    from ``STCHECK_ENV_ALLOW`` and ``--allow-env``; never from the manifest);
    None allows every name. A resolver that reads a file named by a reference
    must use :meth:`read_file` (or :func:`read_secret_file` for a file that
    holds one secret).

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``root``, ``env_allow``, :meth:`env_allowed` and :meth:`read_file`.
    """

    manifest_dir: str
    warn: Callable[[str, str], None] = field(default=lambda reason, message: None)
    root: str | None = None
    env_allow: tuple[str, ...] | None = None

    def env_allowed(self, name: str) -> bool:
        """Whether the operator's policy lets a reference read environment variable ``name``.

        .. versionadded:: 0.2
        """
        if self.env_allow is None:
            return True
        return any(fnmatch.fnmatchcase(name, pattern) for pattern in self.env_allow)

    def read_file(
        self, path: str, *, max_bytes: int = SECRET_FILE_MAX_BYTES, what: str = "file"
    ) -> ConfinedFile:
        """Read the file ``path`` (as the reference wrote it, relative to the manifest), confined.

        Refused with :class:`ResolveReferenceError` ``reference_not_allowed``:
        absolute and ``~`` paths, a path or symbolic link that leads outside
        the repository holding the manifest, anything under ``/proc``, ``/sys``
        or ``/dev``, FIFOs, sockets and devices. ``unresolved_reference``: a
        missing or unreadable file, or one larger than ``max_bytes`` (at most
        ``max_bytes + 1`` bytes are ever read). The file is opened
        non-blocking and its type re-checked on the open descriptor. Messages
        say ``{what} {path} ...`` and never quote the file.

        .. versionadded:: 0.2
        """
        shown = f"{what} {path}"
        root = self.root if self.root is not None else repository_root(self.manifest_dir)
        try:
            real = confined_path(root, self.manifest_dir, path, shown)
            data, info = read_regular(real, max_bytes=max_bytes, shown=shown)
        except FileRefused as exc:
            message = exc.message
            if exc.kind == "missing":
                message += " (relative to the manifest)"
            raise ResolveReferenceError(_REFUSED_REASON[exc.kind], message) from None
        return ConfinedFile(path, data, stat.S_IMODE(info.st_mode), what)


def read_secret_file(
    context: ResolveContext,
    path: str,
    *,
    what: str = "file",
    max_bytes: int = SECRET_FILE_MAX_BYTES,
) -> str:
    """The secret held by the file ``path`` (relative to the manifest): the ``file:`` rules.

    For a scheme whose references name a file holding one secret (a mounted
    secret, a key file): what the built-in ``file:`` scheme does, so the
    plugin gets its safety without repeating it.

    - The path is refused offline-style first (``invalid_reference``: empty,
      absolute, ``~``, a NUL or another control character), then read with
      :meth:`ResolveContext.read_file` — confined to the repository holding
      the manifest (``reference_not_allowed``), never a special file, a FIFO
      or a device (``reference_not_allowed``), at most ``max_bytes``
      (``unresolved_reference``), UTF-8 (``unresolved_reference``, naming the
      exception type only).
    - One trailing newline (``\\n`` or ``\\r\\n``) is dropped. A value that still
      holds a NUL, a line break or another control character inside is
      refused (``unusable_value``) before anything learns it: a whole
      ``.env`` or a dump is not a secret.
    - A file that group or others may read gets an ``insecure_permissions``
      warning through ``context.warn``.

    Every refusal is a :class:`ResolveReferenceError` whose message names
    ``{what} {path}`` as the manifest wrote it, never the runner's absolute
    path and never the file's content.

    .. versionadded:: 0.2
    """
    problem = path_problem(path)
    if problem is not None:
        raise ResolveReferenceError("invalid_reference", problem)
    found = context.read_file(path, max_bytes=max_bytes, what=what)
    value = found.text()
    if value.endswith("\r\n"):
        value = value[:-2]
    elif value.endswith("\n"):
        value = value[:-1]
    if has_control(value.strip()):
        raise ResolveReferenceError(
            "unusable_value",
            f"{what} {path} holds a NUL, a line break or another control character"
            " besides one trailing newline (not shown); a secret file holds the secret alone",
        )
    if found.readable_by_others:
        context.warn(
            "insecure_permissions",
            f"{what} {path} is readable by group or others (mode {found.mode:o})",
        )
    return value


@record(frozen=True)
class ReferenceScheme:
    """A credential reference scheme such as ``env`` (``env:NAME``) or ``file`` (``file:PATH``).

    ``syntax`` checks the part after the colon offline and returns a problem
    description or None. ``resolve`` turns the part after the colon into the
    secret value (online runs only); it raises :class:`ResolveReferenceError`
    when it cannot. A resolver must not log or print the value.

    .. versionadded:: 0.1
    """

    name: str
    description: str
    example: str
    syntax: Callable[[str], str | None] | None = None
    resolve: Callable[[str, ResolveContext], str] | None = None


@record(frozen=True)
class OutputFormat:
    """An output format: ``render`` turns the run report into text for stdout or a file.

    ``commands`` limits the format to some commands. ``render`` must not print.

    .. versionadded:: 0.1
    """

    name: str
    description: str
    render: Callable[[RunReport], str]
    commands: frozenset[str] = frozenset({"validate", "check", "report"})


@record(frozen=True)
class RunOptions:
    """What the command line asked for, as checks see it (``extra``: plugins' options).

    .. versionadded:: 0.1
    """

    command: str = "validate"
    offline: bool = True
    timeout: float = 10.0
    concurrency: int = 16
    ca_bundle: str | None = None
    resolve: tuple[str, ...] = ()
    tenants: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()
    today: str | None = None
    allow_env: tuple[str, ...] = ()
    extra: argparse.Namespace = field(default_factory=argparse.Namespace)
    select: frozenset[str] | None = None
    """``--select``: the only checks to run (None: every check the command runs).

    .. versionadded:: 0.2
    """
    skip: frozenset[str] = frozenset()
    """``--skip``: checks not to run.

    .. versionadded:: 0.2
    """
    exclude_tenants: tuple[str, ...] = ()
    """``--exclude-tenant``: shell-style globs of tenant names left out of the entries and the
    readiness report (:meth:`selects_tenant`).

    .. versionadded:: 0.3
    """

    def selects_tenant(self, name: str) -> bool:
        """Whether the tenant ``name`` is in this run: ``--tenant`` (if any) names it and no
        ``--exclude-tenant`` glob matches it (exclusion wins).

        .. versionadded:: 0.3
        """
        if self.tenants and name not in self.tenants:
            return False
        if not self.exclude_tenants:
            return True
        return not any(fnmatch.fnmatchcase(name, pattern) for pattern in self.exclude_tenants)


@record
class CheckContext:
    """Everything a check may use during one run over one manifest.

    ``run`` is the state the run's checks share (:class:`stcheck.runstate.RunState`):
    the redactor, the go-live verdicts and a registry keyed by type of what
    checks create lazily (the HTTP client, the token cache, resolved secrets),
    reached with :meth:`service`. ``results`` holds the results produced so far (complete
    for ``summary``-stage checks). ``entries`` are the manifest's (tenant,
    environment) entries that ``--tenant``/``--env`` select, in manifest order
    (none when the manifest could not be loaded): work on these, not on
    ``manifest.entries()``, which ignores the selection.

    .. versionadded:: 0.1
    .. versionchanged:: 0.2
       ``services`` (a dict keyed by strings) became ``run``, typed.
    """

    manifest: Manifest
    options: RunOptions
    schemes: Mapping[str, ReferenceScheme]
    results: list[Result] = field(default_factory=list)
    run: RunState = field(default_factory=_run_state)
    entries: Sequence[Entry] = ()

    def service(self, key: Any, factory: Callable[[], Any]) -> Any:
        """The run's shared object for ``key`` — its type, or a plugin's own string —
        created with ``factory`` once, whichever worker thread asks first."""
        return self.run.registry.get_named(key, factory)

    def locate(self, pointer: str) -> Location:
        """The file, line and column of JSON ``pointer`` in the manifest."""
        return self.manifest.locate(pointer)

    def result(
        self,
        check: str,
        status: Status,
        message: str,
        *,
        reason: str | None = None,
        pointer: str | None = None,
        tenant: str | None = None,
        environment: str | None = None,
        hint: str | None = None,
        duration: float | None = None,
        key: str | None = None,
        location: Location | None = None,
        facts: Mapping[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        """Build a result located at ``pointer`` (or at mapping key ``key`` inside it).

        ``hint`` defaults to the reason's remediation hint; ``location``
        overrides the position when the caller already knows it; ``facts`` are
        structured, non-secret findings for other checks (see :class:`Result`).

        .. versionchanged:: 0.2
           ``facts``.
        """
        if location is None:
            location = self.manifest.locate(pointer if pointer is not None else "", key=key)
        return Result(
            check=check,
            status=status,
            message=message,
            reason=reason,
            tenant=tenant,
            environment=environment,
            location=location,
            hint=hint if hint is not None else hint_for(reason),
            duration=duration,
            facts=dict(facts or {}),
        )

    def entry_result(
        self,
        check: str,
        entry: Entry,
        status: Status,
        message: str,
        *,
        reason: str | None = None,
        field: str | None = None,
        facts: Mapping[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        """A result about one (tenant, environment) entry, located at its ``field`` if given."""
        from stcheck.manifest.pointer import child  # the manifest package imports YAML

        return self.result(
            check,
            status,
            message,
            reason=reason,
            pointer=child(entry.pointer, field) if field else entry.pointer,
            tenant=entry.tenant,
            environment=entry.environment,
            facts=facts,
        )


class Check:
    """Base class of every check; the class docstring is the check's user documentation.

    Set ``id`` (stable, lowercase, used by --select/--skip and in output),
    ``stage`` and ``network``; implement :meth:`run` (``manifest`` and
    ``summary`` stages) or :meth:`run_entry` (``entry`` stage).

    - ``manifest`` checks run first, once per manifest, offline.
    - ``entry`` checks run per (tenant, environment) entry on a worker pool, in
      ascending ``order`` within an entry; ``prior`` holds the results of the
      entry's earlier checks (to skip a token request when credentials failed).
    - ``summary`` checks run last and see every result in ``ctx.results``.

    A check with ``network = True`` is skipped (status ``skip``, reason
    ``offline``) in offline runs. An exception raised by a check becomes an
    ``error`` result for that check; the run goes on.

    ``commands`` names the commands that run the check by default (None: all
    of them); elsewhere it runs only when named in ``--select``. A check with
    ``reports_load_problems = True`` reports a manifest that could not be
    loaded (it runs on such a manifest; the others are skipped,
    ``depends_on_failure``); when no such check runs, stcheck reports the
    loading failures itself, whatever the selection.

    Build results with :meth:`result` and :meth:`entry_result`, which fill in
    the check's ``id``.

    .. versionadded:: 0.1
    """

    id: ClassVar[str] = ""
    stage: ClassVar[Stage] = "manifest"
    network: ClassVar[bool] = False
    order: ClassVar[int] = 50
    commands: ClassVar[frozenset[str] | None] = None
    """The commands that run this check unless deselected (None: all); elsewhere only --select.

    .. versionadded:: 0.2
    """
    reports_load_problems: ClassVar[bool] = False
    """Runs on a manifest that could not be loaded, and reports that it could not.

    .. versionadded:: 0.2
    """

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring: a one-line description."""
        # inspect.getdoc's lookup (the first docstring along the MRO, object's aside) without
        # importing inspect (~10 ms, on every run: the report carries every check's summary)
        doc = next((c.__doc__ for c in cls.__mro__[:-1] if c.__doc__ is not None), None) or ""
        doc = doc.expandtabs().strip()
        return doc.splitlines()[0] if doc else cls.id

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        """The results of a ``manifest`` or ``summary`` stage check."""
        return ()

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        """The results of an ``entry`` stage check for ``entry``."""
        return ()

    def result(
        self,
        ctx: CheckContext,
        status: Status,
        message: str,
        *,
        reason: str | None = None,
        pointer: str | None = None,
        tenant: str | None = None,
        environment: str | None = None,
        hint: str | None = None,
        duration: float | None = None,
        key: str | None = None,
        location: Location | None = None,
        facts: Mapping[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        """A result of this check: :meth:`CheckContext.result` with the check's ``id``.

        .. versionadded:: 0.2
        """
        return ctx.result(
            self.id,
            status,
            message,
            reason=reason,
            pointer=pointer,
            tenant=tenant,
            environment=environment,
            hint=hint,
            duration=duration,
            key=key,
            location=location,
            facts=facts,
        )

    def entry_result(
        self,
        ctx: CheckContext,
        entry: Entry,
        status: Status,
        message: str,
        *,
        reason: str | None = None,
        field: str | None = None,
        facts: Mapping[str, str | tuple[str, ...]] | None = None,
    ) -> Result:
        """A result of this check about ``entry``: :meth:`CheckContext.entry_result` with ``id``.

        .. versionadded:: 0.2
        """
        return ctx.entry_result(
            self.id, entry, status, message, reason=reason, field=field, facts=facts
        )

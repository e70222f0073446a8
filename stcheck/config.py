"""The configuration file: ``[tool.stcheck]`` in ``pyproject.toml``, or ``.stcheck.toml``.

Found from the working directory upward, directory by directory, up to and
including the repository root (the directory holding ``.git``) and never
above it; outside a repository only the working directory is looked in. In
each directory ``.stcheck.toml`` wins over ``pyproject.toml``; a
``pyproject.toml`` without a ``[tool.stcheck]`` table is passed over.
``--config PATH`` names the file (then a ``pyproject.toml`` without the table
is an error), ``--no-config`` reads none. docs/config.md is the user's page.

The file is as much attacker input as the manifest (a pull request can change
it), so: it holds no key that widens what the run may read or where it may
connect (no ``allow_env``, ``ca_bundle``, ``resolve``, plugins); the manifests
and output files it names are confined to its repository (symbolic links
resolved, ``.git`` refused); a discovered file is read only if it is a regular
file inside the repository; what it says is echoed clipped (:func:`shown`),
and a value of the wrong type is described by its type, never quoted.

Precedence: a command-line option replaces the file's value (lists too:
``--select`` replaces ``select``, as ruff does); a command's section
(``[tool.stcheck.check]``) replaces the top-level value for that command.

The file is parsed with ``tomllib`` (``tomli`` before Python 3.11), imported
only when a candidate file exists: ``validate`` without a config file pays a
few ``stat`` calls.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from stcheck.exitcodes import UsageError
from stcheck.text import shortened, shown

DEDICATED = ".stcheck.toml"
PYPROJECT = "pyproject.toml"
MAX_BYTES = 1024 * 1024
COMMANDS = ("validate", "check", "report")
ONLINE = frozenset({"check", "report"})
GATES = frozenset({"validate", "check"})
EVERY = frozenset(COMMANDS)


class ConfigError(UsageError):
    """The configuration file cannot be used (exit 2): the message names the file, key and line."""


class _Wrong(Exception):
    """A value of the wrong type or range; the message says what was expected."""


def _type_name(value: object) -> str:
    names = {bool: "a boolean", str: "a string", int: "an integer", float: "a number"}
    names.update({list: "an array", dict: "a table"})
    return names.get(type(value), f"a {type(value).__name__}")


def _strings(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _Wrong(f"expected an array of strings, got {_type_name(value)}")
    for item in value:
        if not isinstance(item, str) or not item.strip():
            got = "an empty string" if isinstance(item, str) else _type_name(item)
            raise _Wrong(f"expected an array of non-empty strings, got {got} in it")
    return tuple(value)


def _fail_on(value: object) -> str:
    if value in ("fail", "warn"):
        return str(value)
    got = shown(value) if isinstance(value, str) else _type_name(value)
    raise _Wrong(f'expected "fail" or "warn", got {got}')


def _number(low: float, high: float, whole: bool = False) -> Callable[[object], float]:
    def parse(value: object) -> float:
        kinds = (int,) if whole else (int, float)
        if isinstance(value, bool) or not isinstance(value, kinds):
            expected = "a whole number" if whole else "a number of seconds"
            raise _Wrong(f"expected {expected}, got {_type_name(value)}")
        if not (low < value <= high if not whole else low <= value <= high):
            bounds = f"from {low:g} to {high:g}" if whole else f"above {low:g}, at most {high:g}"
            raise _Wrong(f"must be {bounds}, got {value!r}")
        return value

    return parse


def _outputs(value: object) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, list):
        pairs = []
        for item in _strings(value):
            name, sep, path = item.partition("=")
            if not sep or not name or not path:
                raise _Wrong(f"expected FORMAT=PATH, got {shown(item)}")
            pairs.append((name, path))
    else:
        raise _Wrong(f'expected a table of FORMAT = "PATH", got {_type_name(value)}')
    for name, path in pairs:
        if not isinstance(path, str) or not path.strip():
            got = "an empty string" if isinstance(path, str) else _type_name(path)
            raise _Wrong(f"expected a path for {shown(name)}, got {got}")
    return tuple(pairs)


# The functional form: the class form's string annotations would be compiled on every start.
Key = NamedTuple(  # noqa: UP014 - see above
    "Key", [("parse", Callable[[Any], Any]), ("commands", frozenset[str])]
)
Key.__doc__ = "One configuration key: how its value is read and the commands it applies to."


KEYS: dict[str, Key] = {
    "manifests": Key(_strings, EVERY),
    "select": Key(_strings, EVERY),
    "skip": Key(_strings, EVERY),
    "exclude_tenants": Key(_strings, EVERY),
    "fail_on": Key(_fail_on, GATES),
    "timeout": Key(_number(0, 600), ONLINE),
    "concurrency": Key(_number(1, 256, whole=True), ONLINE),
    "deadline": Key(_number(0, 86_400), ONLINE),
    "outputs": Key(_outputs, EVERY),
}
"""Every key, at the top level and in a command's section (``[tool.stcheck.check]``)."""


def _did_you_mean(word: str, choices: Collection[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


class Config:
    """A configuration file, read and type-checked; paths are resolved on use.

    A plain class, not a dataclass: building a dataclass costs about a
    millisecond at import, and ``validate`` imports this module on every run.
    """

    __slots__ = ("directory", "path", "root", "sections", "table", "text", "values")

    def __init__(
        self,
        path: str,
        directory: str,
        root: str,
        table: str,
        text: str,
        values: Mapping[str, Any] | None = None,
        sections: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.path = path
        """How messages name the file (relative to the working directory)."""
        self.directory = directory
        """The file's absolute directory, as named: manifests and outputs are relative to it."""
        self.root = root
        """The real path of the repository holding the file: what it names must lie inside."""
        self.table = table
        """``[tool.stcheck]`` in messages, or "" for a .stcheck.toml (its top level)."""
        self.text = text
        self.values: Mapping[str, Any] = values or {}
        self.sections: Mapping[str, Mapping[str, Any]] = sections or {}

    def __repr__(self) -> str:
        return f"<Config {self.path}: {dict(self.values)!r} {dict(self.sections)!r}>"

    def settings(self, command: str) -> dict[str, Any]:
        """The values that apply to ``command``: the top level, then its section over it."""
        merged = {k: v for k, v in self.values.items() if command in KEYS[k].commands}
        merged.update(self.sections.get(command, {}))
        return merged

    def section_of(self, key: str, command: str) -> str | None:
        """``command`` when the value ``key`` has for it comes from its section, else None."""
        return command if key in self.sections.get(command, {}) else None

    def where(self, key: str, section: str | None = None, *, quoted: bool = False) -> str:
        """Where ``key`` is written (in ``section``, or at the top level): file, line, table."""
        line = _line_of(self.text, self._header(section), key)
        at = f"{self.path}:{line}" if line is not None else self.path
        table = self.table if section is None else f"[{self._header(section)}]"
        name = shown(key) if quoted else key
        return f"{at}: {table} {name}" if table else f"{at}: {name}"

    def error(self, key: str, problem: str, section: str | None = None) -> ConfigError:
        return ConfigError(f"{self.where(key, section)}: {problem}")

    def _header(self, section: str | None) -> str:
        base = "tool.stcheck" if self.table else ""
        return ".".join(part for part in (base, section) if part)

    def confined(self, key: str, path: str, section: str | None = None) -> str:
        """``path`` (relative to the file) as this run names it; refused outside the repository."""
        from stcheck.confine import path_problem

        problem = path_problem(path)
        if problem is not None:
            problem = problem.replace("the manifest", "the config file")
            raise self.error(key, f"{shown(path)}: {problem}", section)
        joined = os.path.normpath(os.path.join(self.directory, path))
        real = os.path.realpath(joined)
        inside = real == self.root or real.startswith(self.root.rstrip(os.sep) + os.sep)
        if not inside or ".git" in os.path.relpath(real, self.root).split(os.sep):
            raise self.error(
                key,
                f"{shown(path)} leads outside the repository that holds the config file"
                " (or into its .git); paths in the config file are confined to it",
                section,
            )
        return _for_display(joined)

    def manifest_paths(self, patterns: Sequence[str], command: str) -> list[str]:
        """The manifests ``patterns`` name (globs expanded, sorted); each must match a file.

        A plain path, and a glob's leading folders, are confined before the disk is looked
        at: nothing outside the repository is listed or probed."""
        from stcheck.globbing import GlobTooWide, bounded_glob, has_magic

        section = self.section_of("manifests", command)
        found: list[str] = []
        for pattern in patterns:
            if has_magic(pattern):
                parts = pattern.replace("\\", "/").split("/")
                fixed = next(i for i, part in enumerate(parts) if has_magic(part))
                prefix = "/".join(parts[:fixed])
                if prefix:
                    self.confined("manifests", prefix, section)
                base = os.path.join(self.directory, prefix)
                try:
                    tail = bounded_glob(base, "/".join(parts[fixed:]))
                except GlobTooWide as exc:
                    raise self.error("manifests", f"{shown(pattern)}: {exc}", section) from None
                matches = [os.path.join(prefix, m) if prefix else m for m in tail]
                matches = [m for m in matches if os.path.isfile(os.path.join(self.directory, m))]
                missing = f"{shown(pattern)} matches no file"
            else:
                self.confined("manifests", pattern, section)
                exists = os.path.isfile(os.path.join(self.directory, pattern))
                matches = [pattern] if exists else []
                missing = f"{shown(pattern)} is not a file (paths are relative to the config file)"
            if not matches:
                raise self.error("manifests", missing, section)
            found.extend(self.confined("manifests", match, section) for match in matches)
        return list(dict.fromkeys(found))


def _for_display(path: str) -> str:
    """``path`` relative to the working directory: messages never show the runner's layout."""
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        return path


def _line_of(text: str, header: str, key: str) -> int | None:
    """The line where ``key`` is set in table ``header`` ("" for the top level); best effort."""
    import re

    current = ""
    pattern = re.compile(rf"""\s*["']?{re.escape(key)}["']?\s*=""")
    own = f"{header}.{key}" if header else key
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            current = re.sub(r"""[\s"'\[\]]""", "", stripped.split("#", 1)[0])
            if current == own:  # the key is a table of its own: [outputs]
                return number
            continue
        if current == header and pattern.match(line):
            return number
    return None


def discover(start: str) -> str | None:
    """The configuration file for a run in ``start``, or None; see the module's docstring."""
    start = os.path.abspath(start)
    top = _repository_top(start)
    current = start
    while True:
        dedicated = os.path.join(current, DEDICATED)
        if os.path.lexists(dedicated) and not os.path.isdir(dedicated):
            return dedicated  # a FIFO or a link out is refused when read, not passed over
        pyproject = os.path.join(current, PYPROJECT)
        if os.path.islink(pyproject):
            return pyproject  # refused when read: never opened to look for the table
        if os.path.isfile(pyproject) and _has_table(pyproject):
            return pyproject
        parent = os.path.dirname(current)
        if top is None or current == top or parent == current:
            return None
        current = parent


def _repository_top(start: str) -> str | None:
    current = start
    while True:
        parent = os.path.dirname(current)
        if parent == current:  # "/" is no repository
            return None
        if os.path.lexists(os.path.join(current, ".git")):
            return current
        current = parent


def _has_table(pyproject: str) -> bool:
    """Whether ``pyproject`` has ``[tool.stcheck]``: parsed only when it mentions stcheck."""
    try:
        with open(pyproject, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError:
        return False
    if b"stcheck" not in data or not _may_have_table(data):
        return False
    return _stcheck_table(_parse(_read(pyproject, explicit=False), pyproject)) is not None


def _may_have_table(data: bytes) -> bool:
    """False only when no TOML spelling of ``tool.stcheck`` is in ``data``: then no parse.

    Spellings: a ``[tool.stcheck…]`` header, a dotted ``tool.stcheck`` key, or a
    ``stcheck`` key in a ``[tool]`` table or a ``tool = {…}`` inline table. A
    project's ``pyproject.toml`` that only names stcheck (a dependency, a
    script) is passed over without importing tomllib. Each spelling is on a line
    that says ``tool``, and reads as one of the shapes below once that line's
    quotes, spaces and tabs are dropped: a superset (tomllib decides), without
    compiling a regular expression on every start.
    """
    at = data.find(b"tool")
    while at >= 0:
        begin = data.rfind(b"\n", 0, at) + 1
        end = data.find(b"\n", at)
        line = data[begin : len(data) if end < 0 else end]
        bare = line.translate(None, b"\"' \t")
        if (
            bare.startswith((b"[tool.stcheck", b"[[tool.stcheck", b"[tool]", b"tool={"))
            or b"tool.stcheck." in bare
            or b"tool.stcheck=" in bare
        ):
            return True
        if end < 0:
            return False
        at = data.find(b"tool", end)
    return False


def _stcheck_table(document: Mapping[str, Any]) -> Any:
    tool = document.get("tool")
    return tool.get("stcheck") if isinstance(tool, dict) else None


def _read(path: str, *, explicit: bool) -> str:
    """The file's text; a discovered file must be a regular file inside its repository."""
    from stcheck.confine import FileRefused, read_regular, repository_root

    named = _for_display(path)
    real = os.path.realpath(path)
    if not explicit:
        root = repository_root(os.path.dirname(os.path.abspath(path)))
        if not (real == root or real.startswith(root.rstrip(os.sep) + os.sep)):
            raise ConfigError(
                f"{named}: the config file is a symbolic link that leads outside its repository;"
                " refused"
            )
        if os.path.islink(path):
            # Inside the repository it could still be .git/config or a secret file CI wrote,
            # and a TOML error's line and column would tell something of its text.
            raise ConfigError(
                f"{named}: the config file is a symbolic link; a discovered config file must be"
                " a regular file (name the target with --config to use it)"
            )
    try:
        data, _ = read_regular(real, max_bytes=MAX_BYTES, shown=named)
    except FileRefused as exc:
        raise ConfigError(f"config file {exc.message}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{named}: not UTF-8 text (byte {exc.start + 1})") from None


def _parse(text: str, path: str) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        why = shortened(str(exc), 200)
        raise ConfigError(f"{_for_display(path)}: not valid TOML: {why}") from None
    except RecursionError:
        raise ConfigError(
            f"{_for_display(path)}: not usable: arrays or tables nested too deeply"
        ) from None
    return document


def load(path: str | None = None, *, start: str | None = None) -> Config | None:
    """The configuration: the file ``path`` (``--config``), else the one found from ``start``."""
    explicit = path is not None
    found = path if path is not None else discover(start or os.getcwd())
    if found is None:
        return None
    text = _read(found, explicit=explicit)
    document = _parse(text, found)
    named = _for_display(found)
    if os.path.basename(found) == PYPROJECT:
        table = _stcheck_table(document)
        if table is None:
            raise ConfigError(f"{named}: has no [tool.stcheck] table (named by --config)")
        label = "[tool.stcheck]"
    else:
        table, label = document, ""
    from stcheck.confine import repository_root

    directory = os.path.dirname(os.path.abspath(found))
    config = Config(named, directory, repository_root(directory), label, text)
    if not isinstance(table, dict):
        raise ConfigError(f"{named}: tool.stcheck must be a table, not {_type_name(table)}")
    values, sections = _checked(config, table)
    return Config(named, directory, config.root, label, text, values, sections)


def _checked(
    config: Config, table: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    values = _checked_keys(config, table, None)
    sections: dict[str, dict[str, Any]] = {}
    for command in COMMANDS:
        section = table.get(command)
        if section is None:
            continue
        if not isinstance(section, dict):
            raise config.error(command, f"expected a table, got {_type_name(section)}")
        sections[command] = _checked_keys(config, section, command)
    return values, sections


def _checked_keys(config: Config, table: Mapping[str, Any], command: str | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        if command is None and key in COMMANDS:
            continue
        spec = KEYS.get(key)
        if spec is None:
            allowed = set(KEYS) | (set(COMMANDS) if command is None else set())
            hint = _did_you_mean(key, allowed) or f" (known: {', '.join(sorted(allowed))})"
            raise ConfigError(f"{config.where(key, command, quoted=True)}: unknown key{hint}")
        if command is not None and command not in spec.commands:
            only = " and ".join(sorted(spec.commands))
            raise config.error(key, f"does not apply to {command} (only to {only})", command)
        try:
            values[key] = spec.parse(value)
        except _Wrong as exc:
            raise config.error(key, str(exc), command) from None
    return values


def apply(
    args: argparse.Namespace,
    config: Config | None,
    checks: Collection[str],
    formats: Mapping[str, Collection[str]],
) -> dict[str, Any]:
    """Fill in ``args`` (the parsed command line) from ``config`` where no option was given.

    ``checks`` are the check ids of this run's plugins; ``formats`` maps each
    output format to the commands it serves. A config ``select``/``skip`` id
    no plugin provides, or an output format no command has, is an error
    naming the file; a format that exists but not for this command is left out.
    Returns the values taken from the file, by key.
    """
    command = args.command
    settings = config.settings(command) if config is not None else {}
    taken: dict[str, Any] = {}
    if config is not None:
        for key in ("select", "skip"):
            for check_id in settings.get(key, ()):
                if check_id not in checks:
                    raise config.error(
                        key,
                        f"unknown check id {shown(check_id)}{_did_you_mean(check_id, checks)}",
                        config.section_of(key, command),
                    )
        if not args.manifests and "manifests" in settings:
            args.manifests = taken["manifests"] = config.manifest_paths(
                settings["manifests"], command
            )
        if not args.output and "outputs" in settings:
            args.output = taken["outputs"] = list(
                _config_outputs(config, settings["outputs"], command, formats)
            )
    for key in ("select", "skip"):
        if not getattr(args, key) and key in settings:
            taken[key] = settings[key]
            setattr(args, key, [list(settings[key])])
    if not args.exclude_tenant and "exclude_tenants" in settings:
        args.exclude_tenant = list(taken.setdefault("exclude_tenants", settings["exclude_tenants"]))
    if hasattr(args, "fail_on") and args.fail_on is None:
        args.fail_on = taken.setdefault("fail_on", settings.get("fail_on", "fail"))
    for key, default in (("timeout", 10.0), ("concurrency", 16)):
        if hasattr(args, key) and getattr(args, key) is None:
            setattr(args, key, taken.setdefault(key, settings.get(key, default)))
    args.config_deadline = settings.get("deadline")
    return {key: value for key, value in taken.items() if key in settings}


def narrowing_note(config: Config, taken: Mapping[str, Any], command: str) -> str | None:
    """One line for stderr naming what the file left out of the run, or None.

    The file is as much a pull request's to change as the manifest: a CI log
    that says "exclude_tenants 'south-*' from .stcheck.toml" (or which manifests
    it named instead of the default) makes such a change
    visible where the gate's verdict is read. (``validate`` checks excluded
    tenants' entries all the same, so exclusions are not news there.)
    """
    parts = [
        f"{key} {', '.join(shown(value) for value in taken[key][:5])}"
        + (f" and {len(taken[key]) - 5} more" if len(taken[key]) > 5 else "")
        for key in ("manifests", "select", "skip", "exclude_tenants")
        if taken.get(key) and not (key == "exclude_tenants" and command == "validate")
    ]
    return f"stcheck: from {config.path}: {'; '.join(parts)}\n" if parts else None


def _config_outputs(
    config: Config,
    pairs: Sequence[tuple[str, str]],
    command: str,
    formats: Mapping[str, Collection[str]],
) -> Iterator[tuple[str, str]]:
    section = config.section_of("outputs", command)
    for name, path in pairs:
        if name not in formats:
            hint = _did_you_mean(name, formats) or f" (formats: {', '.join(sorted(formats))})"
            raise config.error("outputs", f"unknown output format {shown(name)}{hint}", section)
        if command in formats[name]:
            yield name, config.confined("outputs", path, section)

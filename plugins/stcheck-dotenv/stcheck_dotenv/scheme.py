"""The ``dotenv:`` reference scheme: ``dotenv:PATH#NAME`` is variable NAME of the .env file PATH.

PATH is relative to the manifest's directory and must stay inside the
repository holding the manifest (read through ``ResolveContext.read_file``,
which refuses absolute paths, ``~``, links out of the repository and special
files). Offline,
``stcheck validate`` checks the reference's shape only — a path, ``#`` and a
variable name; the file is not read. Online, ``stcheck check`` reads the file
and returns NAME's value; it fails with ``unresolved_reference`` when the file
or the name is missing. No message ever contains a value, nor any line of the
file: only the reference, line numbers and counts.
"""

from __future__ import annotations

from stcheck.api import (
    ConfinedFile,
    ReferenceScheme,
    ResolveContext,
    ResolveReferenceError,
    hookimpl,
    path_problem,
)
from stcheck_dotenv.parser import NAME, parse

MAX_BYTES = 1024 * 1024


def split(rest: str) -> tuple[str, str]:
    """``PATH#NAME`` → (PATH, NAME); the last ``#`` separates them."""
    path, _, name = rest.rpartition("#")
    return path, name


def syntax(rest: str) -> str | None:
    """Offline: the problem with the part after ``dotenv:``, or None."""
    path, sep, name = rest.rpartition("#")
    if not sep:
        return "expected PATH#NAME (e.g. dotenv:.env#GP_CLIENT_SECRET): '#NAME' is missing"
    if not path.strip():
        return "expected PATH#NAME: the path before '#' is empty"
    problem = path_problem(path)
    if problem is not None:
        return problem
    if not NAME.match(name):
        return (
            "the variable name after '#' must be letters, digits and '_', not starting with a digit"
        )
    return None


def _read(path_text: str, context: ResolveContext) -> ConfinedFile:
    """The file, confined to the manifest's repository (never a special file, at most 1 MiB)."""
    return context.read_file(path_text, max_bytes=MAX_BYTES, what="dotenv file")


def resolve(rest: str, context: ResolveContext) -> str:
    """Online: the value of NAME in the .env file PATH; raises ResolveReferenceError."""
    problem = syntax(rest)
    if problem:
        raise ResolveReferenceError("invalid_reference", f"dotenv:{rest}: {problem}")
    path_text, name = split(rest)
    found = _read(path_text, context)
    parsed = parse(found.text())
    if name not in parsed.values:
        message = f"{name} is not defined in dotenv file {path_text}"
        if parsed.malformed:
            shown = ", ".join(str(number) for number in parsed.malformed[:5])
            more = ", ..." if len(parsed.malformed) > 5 else ""
            noun = "line" if len(parsed.malformed) == 1 else "lines"
            verb = "is" if len(parsed.malformed) == 1 else "are"
            message += f" ({noun} {shown}{more} {verb} not NAME=VALUE and skipped)"
        raise ResolveReferenceError("unresolved_reference", message)
    lines = parsed.defined_at[name]
    if len(lines) > 1:
        context.warn(
            "dotenv.duplicate_name",
            f"{name} is defined {len(lines)} times in dotenv file {path_text}"
            f" (lines {', '.join(map(str, lines))}); the last one is used",
        )
    if found.readable_by_others:
        context.warn(
            "insecure_permissions",
            f"dotenv file {path_text} is readable by group or others (mode {found.mode:o})",
        )
    return parsed.values[name]


DOTENV = ReferenceScheme(
    name="dotenv",
    description="variable NAME of a .env file, path relative to the manifest",
    example="dotenv:.env#GP_INT_CLIENT_SECRET",
    syntax=syntax,
    resolve=resolve,
)


@hookimpl
def stcheck_reference_schemes() -> list[ReferenceScheme]:
    return [DOTENV]

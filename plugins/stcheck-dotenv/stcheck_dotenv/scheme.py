"""The ``dotenv:`` reference scheme: ``dotenv:PATH#NAME`` is variable NAME of the .env file PATH.

PATH is relative to the manifest's directory (``~`` is expanded). Offline,
``stcheck validate`` checks the reference's shape only — a path, ``#`` and a
variable name; the file is not read. Online, ``stcheck check`` reads the file
and returns NAME's value; it fails with ``unresolved_reference`` when the file
or the name is missing. No message ever contains a value, nor any line of the
file: only the reference, line numbers and counts.
"""

from __future__ import annotations

import os
import stat

from stcheck.api import ReferenceScheme, ResolveContext, ResolveReferenceError
from stcheck.hookspecs import hookimpl
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
    if "\x00" in path:
        return "the path contains a NUL character"
    if not NAME.match(name):
        return (
            "the variable name after '#' must be letters, digits and '_', not starting with a digit"
        )
    return None


def _read(path_text: str, context: ResolveContext) -> tuple[str, int]:
    path = os.path.join(context.manifest_dir, os.path.expanduser(path_text))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ResolveReferenceError(
                "unresolved_reference", f"dotenv file {path_text} is not a regular file"
            )
        if info.st_size > MAX_BYTES:
            raise ResolveReferenceError(
                "unresolved_reference", f"dotenv file {path_text} is larger than 1 MiB"
            )
        with open(path, encoding="utf-8") as handle:
            text = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise ResolveReferenceError(
            "unresolved_reference",
            f"dotenv file {path_text} does not exist (relative to the manifest)",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        # Only the exception's type: a decoding error's text quotes the file's bytes.
        raise ResolveReferenceError(
            "unresolved_reference", f"dotenv file {path_text} cannot be read ({type(exc).__name__})"
        ) from None
    return text, info.st_mode


def resolve(rest: str, context: ResolveContext) -> str:
    """Online: the value of NAME in the .env file PATH; raises ResolveReferenceError."""
    problem = syntax(rest)
    if problem:
        raise ResolveReferenceError("invalid_reference", f"dotenv:{rest}: {problem}")
    path_text, name = split(rest)
    text, mode = _read(path_text, context)
    parsed = parse(text)
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
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        context.warn(
            "insecure_permissions",
            f"dotenv file {path_text} is readable by group or others (mode {stat.S_IMODE(mode):o})",
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

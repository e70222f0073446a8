"""The built-in credential reference schemes: ``env:NAME`` and ``file:PATH``."""

from __future__ import annotations

import os
import re
import stat

from stcheck.api import ReferenceScheme, ResolveContext, ResolveReferenceError
from stcheck.hookspecs import hookimpl

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _env_syntax(rest: str) -> str | None:
    if not ENV_NAME.match(rest):
        return "an environment variable name is letters, digits and '_', not starting with a digit"
    return None


def _env_resolve(rest: str, context: ResolveContext) -> str:
    value = os.environ.get(rest)
    if value is None:
        raise ResolveReferenceError(
            "unresolved_reference", f"environment variable {rest} is not set"
        )
    return value


def _file_syntax(rest: str) -> str | None:
    if "\x00" in rest or not rest.strip():
        return "a file reference needs a path"
    return None


def _file_resolve(rest: str, context: ResolveContext) -> str:
    path = os.path.join(context.manifest_dir, os.path.expanduser(rest))
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ResolveReferenceError(
                "unresolved_reference", f"file {rest} is not a regular file"
            )
        if info.st_size > 64 * 1024:
            raise ResolveReferenceError(
                "unresolved_reference", f"file {rest} is larger than a credential (64 KiB)"
            )
        with open(path, encoding="utf-8") as handle:
            value = handle.read()
    except FileNotFoundError:
        raise ResolveReferenceError(
            "unresolved_reference", f"file {rest} does not exist (relative to the manifest)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResolveReferenceError(
            "unresolved_reference", f"file {rest} cannot be read ({type(exc).__name__})"
        ) from None
    if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        context.warn(
            "insecure_permissions",
            f"file {rest} is readable by group or others (mode {stat.S_IMODE(info.st_mode):o})",
        )
    if value.endswith("\r\n"):
        return value[:-2]
    if value.endswith("\n"):
        return value[:-1]
    return value


ENV = ReferenceScheme(
    name="env",
    description="an environment variable (how CI systems hand secrets to jobs)",
    example="env:ST_APP_KEY",
    syntax=_env_syntax,
    resolve=_env_resolve,
)
FILE = ReferenceScheme(
    name="file",
    description="a file's content, path relative to the manifest; one trailing newline is dropped",
    example="file:secrets/good-plumbing-prod",
    syntax=_file_syntax,
    resolve=_file_resolve,
)


@hookimpl
def stcheck_reference_schemes() -> list[ReferenceScheme]:
    return [ENV, FILE]

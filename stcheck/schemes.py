"""The built-in credential reference schemes: ``env:NAME`` and ``file:PATH``."""

from __future__ import annotations

import os
import re

from stcheck.api import (
    ReferenceScheme,
    ResolveContext,
    ResolveReferenceError,
    hookimpl,
    path_problem,
    read_secret_file,
)

ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def _env_syntax(rest: str) -> str | None:
    if not ENV_NAME.match(rest):
        return "an environment variable name is letters, digits and '_', not starting with a digit"
    return None


def _env_resolve(rest: str, context: ResolveContext) -> str:
    problem = _env_syntax(rest)
    if problem is not None:
        raise ResolveReferenceError("invalid_reference", problem)
    # The policy is decided before the environment is read: a disallowed name gets the same
    # answer whether or not it is set, and its value never reaches the redactor.
    if not context.env_allowed(rest):
        raise ResolveReferenceError(
            "reference_not_allowed",
            f"environment variable {rest} is not allowed by this runner's policy"
            " (STCHECK_ENV_ALLOW / --allow-env)",
        )
    value = os.environ.get(rest)
    if value is None:
        raise ResolveReferenceError(
            "unresolved_reference", f"environment variable {rest} is not set"
        )
    return value


def _file_syntax(rest: str) -> str | None:
    return path_problem(rest)


def _file_resolve(rest: str, context: ResolveContext) -> str:
    return read_secret_file(context, rest)


ENV = ReferenceScheme(
    name="env",
    description="an environment variable (how CI systems hand secrets to jobs);"
    " STCHECK_ENV_ALLOW / --allow-env limit the names",
    example="env:ST_APP_KEY",
    syntax=_env_syntax,
    resolve=_env_resolve,
)
FILE = ReferenceScheme(
    name="file",
    description="a file's content, path relative to the manifest and inside its repository;"
    " one trailing newline is dropped",
    example="file:secrets/good-plumbing-prod",
    syntax=_file_syntax,
    resolve=_file_resolve,
)


@hookimpl
def stcheck_reference_schemes() -> list[ReferenceScheme]:
    return [ENV, FILE]

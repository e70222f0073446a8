"""Shell-style globs over a repository, bounded: the pull request writes the patterns.

:func:`glob.glob` follows links to folders, so three links to ``.`` and a pattern
like ``**/x`` or ``*/*/*/…/x`` make it walk an exponential number of paths — a
gate that never ends, before ``--deadline`` exists. :func:`bounded_glob` walks
the tree once, never into a linked folder or ``.git``, prunes folders the pattern
cannot reach, and stops after :data:`MAX_VISITED` entries. Its matching is
:mod:`glob`'s (``recursive=True``): ``*``, ``?``, ``[…]`` within a name, ``**`` for
any number of folders, and wildcards do not match names that start with a dot
unless the pattern's part does.
"""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

MAX_VISITED = 200_000
"""Entries (files and folders) one pattern may look at."""

_MAGIC = frozenset("*?[")


class GlobTooWide(ValueError):
    """A pattern (or the patterns sharing a :class:`Budget`) looked at too many entries."""


class Budget:
    """Entries several patterns may look at between them (one manifest's ``include:``)."""

    def __init__(self, limit: int = MAX_VISITED) -> None:
        self.limit = limit
        self.left = limit


def has_magic(pattern: str) -> bool:
    return not _MAGIC.isdisjoint(pattern)


def pattern_problem(pattern: str, relative_to: str) -> str | None:
    """Why ``pattern`` may not be looked up at all (before touching the disk), or None:
    control characters, ``~``, absolute paths and ``..`` lead out of the repository."""
    if any(ord(char) < 32 or ord(char) == 127 for char in pattern):
        return "the pattern contains a NUL or another control character"
    if pattern.startswith("~"):
        return f"the pattern starts with '~': write it relative to {relative_to}"
    if os.path.isabs(pattern) or pattern.startswith(("/", "\\")):
        return f"the pattern is absolute: write it relative to {relative_to}"
    if ".." in pattern.replace("\\", "/").split("/"):
        return f"the pattern climbs out of {relative_to}'s directory with '..'; refused"
    return None


def bounded_glob(base: str, pattern: str, budget: Budget | None = None) -> list[str]:
    """The paths under ``base`` (relative, ``/``-separated, sorted) that ``pattern`` matches.

    Raises :class:`GlobTooWide` once the budget (:data:`MAX_VISITED` entries for this
    pattern alone, unless a shared one is given) is spent.
    """
    budget = budget or Budget()
    slashed = pattern.replace("\\", "/")
    parts = tuple(part for part in slashed.split("/") if part)
    if not parts:
        return []
    folders_only = slashed.endswith("/")  # as glob: 'tenants/*/' names folders
    found: list[str] = []
    for directory, dirs, files in os.walk(base, followlinks=False):
        rel = os.path.relpath(directory, base)
        prefix = () if rel == os.curdir else tuple(rel.split(os.sep))
        states = _advance(parts, _closure(parts, {0}), prefix)
        kept = []
        for name in sorted(dirs) + sorted(files):
            budget.left -= 1
            if budget.left < 0:
                raise GlobTooWide(f"looks at more than {budget.limit:,} files and folders")
            after = _step(parts, states, name)
            if len(parts) in after and (name in dirs or not folders_only):
                found.append("/".join((*prefix, name)))
            if name in dirs and name != ".git" and any(i < len(parts) for i in after):
                kept.append(name)
        dirs[:] = kept  # never into .git or where the pattern cannot lead; links: not followed
    return sorted(found)


def _advance(parts: tuple[str, ...], states: set[int], names: tuple[str, ...]) -> set[int]:
    for name in names:
        states = _step(parts, states, name)
    return states


def _step(parts: tuple[str, ...], states: set[int], name: str) -> set[int]:
    """The pattern positions reachable after one more path name (an NFA step)."""
    after: set[int] = set()
    for i in states:
        if i == len(parts):
            continue
        part = parts[i]
        if part == "**":
            if not name.startswith("."):
                after.add(i)
        elif _name_matches(part, name):
            after.add(i + 1)
    return _closure(parts, after)


def _closure(parts: tuple[str, ...], states: set[int]) -> set[int]:
    """``**`` also matches no folder at all."""
    out = set(states)
    for i in sorted(states):
        while i < len(parts) and parts[i] == "**":
            i += 1
            out.add(i)
    return out


def _name_matches(part: str, name: str) -> bool:
    if not has_magic(part):
        return part == name
    if name.startswith(".") and not part.startswith("."):
        return False
    return fnmatchcase(name, part)

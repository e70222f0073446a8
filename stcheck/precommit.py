"""``stcheck validate --pre-commit FILES``: the manifests to validate when FILES changed.

pre-commit passes the changed files that match the hook's ``files:`` pattern.
A changed root manifest is validated as it is; a changed tenant file that a
manifest includes (``include:``) is not validated alone — its root is, with
all of the root's included files, so names and IDs stay unique across them.

The roots of a file are found without a configuration: an include pattern
cannot climb with ``..``, so a root lies in the file's directory or one above
it, inside the repository. Each such directory's ``stcheck.yaml``,
``stcheck.yml``, ``*.stcheck.yaml`` and ``*.stcheck.yml`` whose ``include:``
matches the file is one of its roots. A file no manifest includes is
validated as a manifest itself.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Sequence

from stcheck.confine import FileRefused, repository_root
from stcheck.manifest import load_manifest
from stcheck.manifest.include import expand, patterns

ROOT_NAMES = ("stcheck.yaml", "stcheck.yml", "*.stcheck.yaml", "*.stcheck.yml")
"""The names a root manifest may have (the hook's ``files:`` pattern matches the same)."""


def manifests_for(files: Sequence[str]) -> list[str]:
    """The manifests to validate for the changed ``files``, each once, in the order met."""
    finder = _RootFinder()
    chosen: list[str] = []
    for path in files:
        for manifest in finder.roots(path) or [path]:
            if manifest not in chosen:
                chosen.append(manifest)
    return chosen


class _RootFinder:
    def __init__(self) -> None:
        self._included: dict[str, frozenset[str]] = {}  # candidate root → real paths it includes

    def roots(self, path: str) -> list[str]:
        """The manifests that include ``path`` (as their paths relative to the same place)."""
        real = os.path.realpath(path)
        directory = os.path.dirname(os.path.abspath(path))
        top = _top(directory)
        shown_dir = os.path.dirname(path)
        found: list[str] = []
        while True:
            for candidate in _candidates(directory, shown_dir):
                if os.path.realpath(candidate) != real and real in self._includes(candidate):
                    found.append(candidate)
            if os.path.realpath(directory) == top or os.path.dirname(directory) == directory:
                return found
            directory = os.path.dirname(directory)
            shown_dir = os.path.join(shown_dir, "..") if shown_dir else ".."

    def _includes(self, candidate: str) -> frozenset[str]:
        key = os.path.realpath(candidate)
        known = self._included.get(key)
        if known is None:
            known = self._included[key] = frozenset(_included(candidate))
        return known


def _top(directory: str) -> str:
    """The highest directory a root of a file in ``directory`` may be in: the repository's
    top; outside a git work tree, the working directory when it holds ``directory``."""
    top = repository_root(directory)
    if os.path.lexists(os.path.join(top, ".git")):
        return top
    here = os.path.realpath(os.getcwd())
    real = os.path.realpath(directory)
    return here if real == here or real.startswith(here.rstrip(os.sep) + os.sep) else real


def _candidates(directory: str, shown_dir: str) -> Iterable[str]:
    names: set[str] = set()
    for pattern in ROOT_NAMES:
        names.update(glob.glob(pattern, root_dir=directory))
    for name in sorted(names):
        yield os.path.normpath(os.path.join(shown_dir, name)) if shown_dir else name


def _included(candidate: str) -> list[str]:
    """The real paths ``candidate`` includes; none when it is not a loadable root."""
    try:
        manifest = load_manifest(candidate)
    except (OSError, FileRefused):
        return []
    if not manifest.loaded or not patterns(manifest):
        return []
    return [real for _, real in expand(manifest).files]

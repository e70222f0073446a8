"""Entry-point discovery without importing ``importlib.metadata``.

``importlib.metadata.entry_points()`` parses every installed distribution's
METADATA with the ``email`` package: ~30 ms before stcheck can do anything,
a third of the pre-commit hook's start-up budget. The entry points live in
plain ``entry_points.txt`` files next to each distribution's metadata, so this
module reads just those, in ``sys.path`` order, first distribution of a name
wins — the same answer for the ``stcheck`` group at a fraction of the cost.

Only *trusted* path entries are searched (:func:`trusted_path`): never an
empty or relative entry, the working directory, or the directory or git work
tree of a manifest being checked. ``python -m stcheck`` puts the working
directory first on ``sys.path``; without this filter a pull request could
commit ``evil.dist-info/entry_points.txt`` and a module, and run code in the
CI gate.
"""

# No ``from __future__ import annotations``: with string annotations, ``NamedTuple`` compiles
# each field's (a ForwardRef), ~0.3 M instructions a field on every start.
import importlib
import os
import sys
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

_METADATA_SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint(NamedTuple):
    name: str
    value: str
    distribution: str
    version: str | None

    def load(self) -> Any:
        module_name, _, attribute = self.value.partition(":")
        target: Any = importlib.import_module(module_name.strip())
        for part in filter(None, attribute.strip().split(".")):
            target = getattr(target, part)
        return target


def _split_dist_dir(entry: str) -> tuple[str, str | None]:
    stem = entry.rsplit(".", 1)[0]
    name, _, rest = stem.partition("-")
    version = rest.split("-")[0] if rest else None
    return name, version


def _parse(text: str, group: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    in_group = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            in_group = line[1:-1].strip() == group
            continue
        if in_group and "=" in line:
            name, _, value = line.partition("=")
            found.append((name.strip(), value.strip()))
    return found


def untrusted_directories(candidates: Iterable[str] = ()) -> set[str]:
    """Real paths that never hold plugins: the working directory, ``candidates`` and their trees.

    ``candidates`` are the manifests (or their directories) a run checks; each
    one's directory and the git work tree holding it are untrusted, as are the
    working directory and its work tree.
    """
    from stcheck.confine import repository_root

    refused: set[str] = set()
    directories = [os.getcwd()]
    for candidate in candidates:
        directories.append(candidate if os.path.isdir(candidate) else os.path.dirname(candidate))
    for directory in directories:
        real = os.path.realpath(directory or ".")
        refused.add(real)
        refused.add(os.path.realpath(repository_root(real)))
    return refused


def trusted_path(path: Sequence[str], untrusted: Iterable[str]) -> list[str]:
    """The entries of ``path`` that may hold plugins: absolute, and not an ``untrusted`` directory.

    An empty or relative entry means "the working directory" to the import
    system, so it is dropped whatever the working directory is. Directories
    *below* an untrusted one (a virtual environment created inside the
    checkout) are kept: that is where CI installs packages.
    """
    refused = {os.path.realpath(directory) for directory in untrusted}
    return [
        entry
        for entry in path
        if entry and os.path.isabs(entry) and os.path.realpath(entry) not in refused
    ]


def find_entry_points(group: str, path: Sequence[str] | None = None) -> list[EntryPoint]:
    """Entry points of ``group`` from the distributions on ``path``.

    Without ``path``: ``sys.path`` less the untrusted directories
    (:func:`trusted_path`, :func:`untrusted_directories`).
    """
    if path is None:
        path = trusted_path(sys.path, untrusted_directories())
    seen: set[str] = set()
    found: list[EntryPoint] = []
    header = f"[{group}]".encode()
    for directory in path:
        try:
            entries = os.listdir(directory)
        except OSError:
            continue
        for entry in sorted(e for e in entries if e.endswith(_METADATA_SUFFIXES)):
            dist, version = _split_dist_dir(entry)
            key = dist.lower().replace("-", "_").replace(".", "_")
            if key in seen:
                continue
            seen.add(key)
            try:
                with open(f"{directory}{os.sep}{entry}{os.sep}entry_points.txt", "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            # bytes first: most distributions' entry points are of other groups (console
            # scripts), passed over without decoding their text
            if header not in data:
                continue
            for name, value in _parse(data.decode("utf-8"), group):
                found.append(EntryPoint(name, value, dist, version))
    return found

"""Included tenant files: ``include:`` globs, confined and bounded, loaded in batches.

A root manifest may say ``include: [tenants/*.stcheck.yaml]``. Each pattern is
relative to the root manifest's directory, may not be absolute, start with
``~`` or climb out with ``..``, and every file it matches must lie inside the
root's repository once symbolic links are resolved (:mod:`stcheck.confine`),
be a regular file and not the root itself. An included file holds a YAML
list of tenants (``schemas/tenants-v1.schema.json``) and cannot include. At
most :data:`MAX_INCLUDED_FILES` files and :data:`MAX_INCLUDED_BYTES` bytes
are read per root (attacker input: a pull request can add any number of files).

What a pattern does wrong is a fatal :class:`~.model.LoadProblem` of the root
at that pattern's line, with the root's path as its ``file``: the root's own
tenants and the other files are still checked, and the run fails.

Included files are loaded one after another into :class:`TenantBatch`
manifests of up to :data:`BATCH_BYTES` of text each: the checks see a batch as
one manifest whose ``tenants`` are the files' lists one after the other, and
every location of a batch names the file and line the value was written at.
Many small files cost about what one file of the same tenants costs; a run
holds one batch (or one large file) at a time, not the fleet.
"""

from __future__ import annotations

import bisect
import os
import stat
from collections.abc import Iterator
from typing import Any

from stcheck.confine import FileRefused, confined_path, read_regular, repository_root
from stcheck.globbing import Budget, GlobTooWide, bounded_glob, has_magic, pattern_problem
from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.load import MAX_BYTES, load_bytes
from stcheck.manifest.locate import at_offset as _at_offset
from stcheck.manifest.locate import locate as _locate
from stcheck.manifest.model import LoadProblem, Manifest
from stcheck.model import Location
from stcheck.record import field, record
from stcheck.redact import scan_text

MAX_INCLUDED_FILES = 10_000
"""Files one root manifest may include (all patterns together)."""
MAX_INCLUDED_BYTES = 256 * 1024 * 1024
"""Bytes one root manifest may include (all files together); each file is also bounded by
:data:`~stcheck.manifest.load.MAX_BYTES`."""
BATCH_BYTES = 4 * 1024 * 1024
"""Included files are checked in batches of about this much text (a larger file alone)."""


def patterns(manifest: Manifest) -> list[tuple[int, Any]]:
    """(index, pattern) of each ``include:`` item of a loaded root manifest."""
    data = manifest.data
    include = data.get("include") if isinstance(data, dict) else None
    return list(enumerate(include)) if isinstance(include, list) else []


@record
class Included:
    """The files a root manifest includes, in order, and what was wrong with its patterns."""

    files: list[tuple[str, str]] = field(default_factory=list)  # (shown path, real path)
    problems: list[LoadProblem] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)  # real path → bytes, as listed


def expand(root: Manifest) -> Included:
    """The files ``root``'s ``include:`` patterns match, confined; problems at the patterns."""
    found = Included()
    items = patterns(root)
    if not items:
        return found
    base = root.directory
    repo = repository_root(base)
    own = os.path.realpath(root.path)
    seen: set[str] = set()
    total = 0
    directories: dict[str, str] = {}
    budget = Budget()  # one walk budget for all the patterns: many patterns cannot add up
    done: set[str] = set()
    for index, pattern in items:
        pointer = jsonpointer.join(("include", index))

        def refuse(reason: str, message: str, at: str = pointer) -> None:
            location = root.locate(at)
            found.problems.append(
                LoadProblem(reason, message, location.line, location.column, at, True, root.path)
            )

        if not isinstance(pattern, str):
            continue  # the schema check reports the type
        problem = _pattern_problem(pattern)
        if problem is not None:
            refuse("include_refused", f"include {pattern!r}: {problem}")
            continue
        if pattern in done:
            continue  # the same pattern again names the same files
        done.add(pattern)
        matched = 0
        try:
            relatives = _matches(base, pattern, budget)
        except GlobTooWide as exc:
            refuse("include_too_many", f"include {pattern!r}: the patterns {exc}; refused")
            return found
        for relative in relatives:
            shown = os.path.join(os.path.dirname(root.path), relative)
            try:
                real, info = _confined(repo, base, relative, directories)
            except FileRefused as exc:
                refuse("include_refused", f"include {pattern!r}: {exc.message}")
                continue
            if info is not None and stat.S_ISDIR(info.st_mode):
                continue  # 'tenants/*' matches folders too: only files are included (or count)
            matched += 1
            if real == own or real in seen:
                continue
            if len(found.files) >= MAX_INCLUDED_FILES:
                refuse(
                    "include_too_many",
                    f"include {pattern!r}: more than {MAX_INCLUDED_FILES:,} included files;"
                    " the rest are not read",
                )
                return found
            size = info.st_size if info is not None else 0
            total += size
            if total > MAX_INCLUDED_BYTES:
                refuse(
                    "include_too_many",
                    f"include {pattern!r}: the included files hold more than"
                    f" {MAX_INCLUDED_BYTES // (1024 * 1024)} MiB; the rest are not read",
                )
                return found
            seen.add(real)
            found.files.append((shown, real))
            found.sizes[real] = size
        if not matched:
            refuse(
                "include_no_match",
                f"include {pattern!r} matches no file (relative to the manifest's directory)",
            )
    return found


def _confined(
    repo: str, base: str, relative: str, directories: dict[str, str]
) -> tuple[str, os.stat_result | None]:
    """The real path of a matched file and its ``stat``, refused unless inside ``repo``.

    :func:`~stcheck.confine.confined_path`, cheaper for many files in few
    folders: each folder's real path is computed once, and a file that is not a
    symbolic link costs one ``lstat``; a link, or anything not plainly inside the
    repository, goes through ``confined_path`` (which also words the refusal).
    """
    folder, name = os.path.split(relative)
    real_folder = directories.get(folder)
    if real_folder is None:
        real_folder = directories[folder] = os.path.realpath(os.path.join(base, folder))
    candidate = os.path.join(real_folder, name)
    try:
        info: os.stat_result | None = os.lstat(candidate)
    except OSError:
        info = None
    inside = candidate.startswith(repo.rstrip(os.sep) + os.sep)
    if info is None or stat.S_ISLNK(info.st_mode) or not inside or _in_git(repo, candidate):
        real = confined_path(repo, base, relative, relative)
        try:
            info = os.stat(real)
        except OSError:
            info = None
        return real, info
    return candidate, info


def _in_git(repo: str, real: str) -> bool:
    return ".git" in os.path.relpath(real, repo).split(os.sep)


def _pattern_problem(pattern: str) -> str | None:
    if not pattern.strip():
        return "an include pattern needs a path"
    return pattern_problem(pattern, "the manifest")


def _matches(base: str, pattern: str, budget: Budget) -> list[str]:
    """Paths relative to ``base`` that ``pattern`` names, sorted (:func:`bounded_glob`: no
    linked folder followed, a bounded walk)."""
    if not has_magic(pattern):
        return [pattern] if os.path.lexists(os.path.join(base, pattern)) else []
    return bounded_glob(base, pattern, budget)


@record
class _Segment:
    """One included file in a batch: its tenants are the batch's from ``start`` on."""

    path: str
    start: int
    data: list[Any]
    positions: Any
    text: str
    offset: int  # where its text starts in the batch's offset space


class TenantBatch(Manifest):
    """Several included files checked as one manifest (see the module docstring).

    ``data`` is ``{"version": 1, "app": <the root's app>, "tenants": [...]}``;
    pointers are the batch's (``/tenants/N``) while the checks run, and
    :meth:`localized` turns a location into its file's own (``/M/...``).
    """

    included = True

    def __init__(self, root_path: str, root_directory: str, app: Any) -> None:
        super().__init__(path="", data={"version": 1, "app": app, "tenants": []})
        self.root_path = root_path
        self._directory = root_directory
        self._segments: list[_Segment] = []
        self._starts: list[int] = []
        self._offsets: list[int] = []
        self._size = 0
        self._files: list[str] = []
        self.suspect = False  # until a file whose loading could not rule it out is added

    @property
    def directory(self) -> str:
        """``file:`` references in included files are relative to the root manifest."""
        return self._directory

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(self._files)

    @property
    def size(self) -> int:
        return self._size

    def add(self, loaded: Manifest) -> None:
        """Append the included file ``loaded`` (a tenants file from :func:`load_tenant_file`)."""
        if not self.path:
            self.path = loaded.path
        self._files.append(loaded.path)
        self.suspect = self.suspect or loaded.suspect
        tenants = self.data["tenants"]
        start = len(tenants)
        self._size += len(loaded.text)
        for problem in loaded.problems:
            self.problems.append(
                problem._replace(
                    pointer=_canonical(problem.pointer, start) if problem.pointer else "",
                    file=loaded.path,
                )
            )
        if not isinstance(loaded.data, list) or not loaded.loaded:
            return
        offset = self._offsets[-1] + len(self._segments[-1].text) + 1 if self._segments else 0
        self._segments.append(
            _Segment(loaded.path, start, loaded.data, loaded.positions, loaded.text, offset)
        )
        self._starts.append(start)
        self._offsets.append(offset)
        tenants.extend(loaded.data)
        self.decoded.extend(loaded.decoded)

    def _segment(self, index: int) -> _Segment | None:
        at = bisect.bisect_right(self._starts, index) - 1
        return self._segments[at] if at >= 0 else None

    def locate(self, pointer: str, *, key: str | None = None) -> Location:
        index = jsonpointer.tenant_index(pointer)
        segment = self._segment(index) if index is not None else None
        if index is None or segment is None:
            return Location(self.path, None, None, pointer)
        local = _local(pointer, index - segment.start)
        found = _locate(segment.path, segment.data, segment.positions, segment.text, local, key)
        full = pointer if key is None else jsonpointer.child(pointer, key)
        return Location(found.file, found.line, found.column, full)

    def at_offset(self, offset: int) -> tuple[Location, str]:
        at = max(0, bisect.bisect_right(self._offsets, offset) - 1)
        if not self._segments:
            return Location(self.path), "other"
        segment = self._segments[at]
        found, what = _at_offset(
            segment.path, segment.data, segment.positions, segment.text, offset - segment.offset
        )
        keys = jsonpointer.split(found.pointer)
        pointer = found.pointer
        if keys and keys[0].isascii() and keys[0].isdigit():
            pointer = _canonical(found.pointer, segment.start)
        return Location(found.file, found.line, found.column, pointer), what

    def secret_runs(self) -> list[tuple[int, str, str]]:
        if self._secret_runs is None:
            self._secret_runs = [
                (segment.offset + offset, kind, text)
                for segment in self._segments
                for offset, kind, text in scan_text(segment.text)
            ]
        return self._secret_runs

    def texts(self) -> tuple[str, ...]:
        return (*self._files, *(s.text for s in self._segments), "\n".join(self.decoded))

    def localized(self, location: Location) -> Location:
        """A batch pointer (``/tenants/N/...``) as its file's own (``/M/...``)."""
        if location.file not in self._files:
            return location
        index = jsonpointer.tenant_index(location.pointer)
        segment = self._segment(index) if index is not None else None
        if index is None or segment is None or segment.path != location.file:
            return location
        local = _local(location.pointer, index - segment.start)
        return Location(location.file, location.line, location.column, local)

    def release(self) -> None:
        super().release()
        self._segments = []
        self._starts = []
        self._offsets = []


def _canonical(pointer: str, start: int) -> str:
    """A tenants file's pointer ``/M/...`` as the batch's ``/tenants/start+M/...``."""
    keys = jsonpointer.split(pointer)
    if not keys or not (keys[0].isascii() and keys[0].isdigit()):
        return jsonpointer.child("/tenants", *keys)
    return jsonpointer.join(("tenants", start + int(keys[0]), *keys[1:]))


def _local(pointer: str, index: int) -> str:
    """The batch pointer ``/tenants/N/rest`` as the file's ``/index/rest``."""
    keys = jsonpointer.split(pointer)
    return jsonpointer.join((index, *keys[2:]))


def load_tenant_file(shown: str, real: str) -> Manifest:
    """Read and load one included file (already confined: ``real`` is its real path)."""
    try:
        raw, _ = read_regular(real, max_bytes=MAX_BYTES, shown=shown)
    except FileRefused as exc:
        reason = "too_large" if exc.kind == "too_large" else "include_refused"
        return Manifest(shown, None, None, [LoadProblem(reason, exc.message, None, None, "", True)])
    return load_bytes(raw, shown, tenants_file=True)


def batches(root: Manifest, included: Included) -> Iterator[TenantBatch]:
    """The included files of ``root`` loaded one after another, in batches (module docstring).

    What the batches need of the root (its path, directory and ``app``) is taken
    now: the root may be released before the first batch is loaded.
    """
    return _batches(root.path, root.directory, root.app, list(included.files), included.sizes)


def _batches(
    root_path: str,
    directory: str,
    app: Any,
    files: list[tuple[str, str]],
    sizes: dict[str, int],
) -> Iterator[TenantBatch]:
    batch: TenantBatch | None = None
    for shown, real in files:
        size = sizes.get(real, 0)
        if batch is not None and batch.size + size > BATCH_BYTES:
            yield batch  # checked and released before the next file is read
            batch = None
        if batch is None:
            batch = TenantBatch(root_path, directory, app)
        batch.add(load_tenant_file(shown, real))
    if batch is not None:
        yield batch

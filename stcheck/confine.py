"""Reading files that a manifest names, without being led outside its repository or into a hang.

Everything a manifest says is attacker input in a CI gate: a pull request may
add ``file:../../../etc/shadow``, a symbolic link to ``/proc/self/environ``, a
FIFO, or make the manifest itself such a link. This module is the one place
that opens such files:

- :func:`repository_root` — the directory tree that references are confined
  to: the git work tree holding the manifest (found by walking up for a
  ``.git`` entry; git is not run), else the manifest's own directory;
- :func:`confined_path` — the real path (symbolic links resolved) of a
  relative path, refused unless it lies inside that root;
- :func:`read_regular` — read a regular file, opened non-blocking, its type
  re-checked on the open descriptor, at most ``max_bytes + 1`` bytes read
  (``/proc`` files say size 0 and would pass a ``stat`` size check);
  ``/proc``, ``/sys``, ``/dev``, FIFOs, sockets and devices are refused
  without reading.

Messages name the path as the manifest wrote it (``shown``), never the file's
content and never the runner's absolute paths.
"""

from __future__ import annotations

import functools
import os
import stat
import unicodedata
from typing import Literal

Kind = Literal["missing", "not_allowed", "unreadable", "too_large"]

SPECIAL_AREAS = ("/proc", "/sys", "/dev")
"""Kernel and device file systems: never read, wherever a path or link leads."""

_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO or device that slipped through must not block
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_NOFOLLOW", 0)  # the last component was resolved already: no swap
    | getattr(os, "O_CLOEXEC", 0)
)
_CHUNK = 64 * 1024


class FileRefused(Exception):
    """A file that is not read: ``kind`` says why, ``message`` names the path as written."""

    def __init__(self, kind: Kind, message: str, size: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.size = size


def repository_root(directory: str) -> str:
    """The real path of the git work tree holding ``directory``, else of ``directory`` itself.

    The walk is lexical, from ``directory`` as named (made absolute), so a
    symbolic link inside the repository cannot move the root elsewhere. A
    ``.git`` at the file-system root is ignored: ``/`` is no repository.
    """
    directory = os.path.abspath(directory)
    current = directory
    while True:
        parent = os.path.dirname(current)
        if parent == current:  # reached "/" without finding a work tree
            return os.path.realpath(directory)
        if os.path.lexists(os.path.join(current, ".git")):
            return os.path.realpath(current)
        current = parent


def path_problem(path: str) -> str | None:
    """Offline: why ``path`` (as a manifest wrote it) can never be a confined file, or None.

    Public as :func:`stcheck.api.path_problem`, for a scheme's ``syntax``.

    .. versionadded:: 0.2
    """
    if not path.strip():
        return "a file reference needs a path"
    if any(_is_control(char) for char in path):
        return "the path contains a NUL or another control character"
    if path.startswith("~"):
        return "the path starts with '~': write it relative to the manifest, inside its repository"
    if os.path.isabs(path) or path.startswith(("/", "\\")):
        return "the path is absolute: write it relative to the manifest, inside its repository"
    return None


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def special_area(real: str) -> str | None:
    """``/proc``, ``/sys`` or ``/dev`` when the real path ``real`` lies in one, else None.

    Besides the path, the device is compared with those mount points', so a
    ``/proc`` mounted elsewhere (``/host/proc``) is recognised too.
    """
    for area in SPECIAL_AREAS:
        if _inside(real, area):
            return area
    try:
        device = os.stat(real).st_dev
    except OSError:
        return None
    for area, area_device in _special_devices():
        if device == area_device:
            return area
    return None


@functools.lru_cache(maxsize=1)
def _special_devices() -> tuple[tuple[str, int], ...]:
    """(area, st_dev) of each special area that is a file system of its own."""
    try:
        root_device = os.stat("/").st_dev
    except OSError:  # pragma: no cover - no root file system to compare with
        return ()
    found = []
    for area in SPECIAL_AREAS:
        try:
            device = os.stat(area).st_dev
        except OSError:
            continue
        if device != root_device:
            found.append((area, device))
    return tuple(found)


def confined_path(root: str, base: str, path: str, shown: str) -> str:
    """The real path of ``path`` (relative to ``base``), refused unless it lies inside ``root``.

    ``root`` is a real path (from :func:`repository_root`); ``shown`` is how
    messages name the file (the path as the manifest wrote it).
    """
    problem = path_problem(path)
    if problem is not None:
        raise FileRefused("not_allowed", f"{shown}: {problem}")
    joined = os.path.join(base, path)
    real = os.path.realpath(joined)
    if _inside(real, root):
        if ".git" in os.path.relpath(real, root).split(os.sep):
            # git's own files (config with the checkout's auth header, hooks, objects)
            # are never a credential of this manifest.
            raise FileRefused(
                "not_allowed",
                f"{shown} is inside the repository's .git directory;"
                " file references may not read git's own files",
            )
        return real
    # Only say whether a link was involved: where it leads is the runner's business.
    lexical = os.path.normpath(os.path.join(os.path.realpath(base), path))
    how = " through a symbolic link" if _inside(lexical, root) else ""
    raise FileRefused(
        "not_allowed",
        f"{shown} leads outside the repository that holds the manifest{how};"
        " file references are confined to it",
    )


def confined_manifest(path: str) -> str:
    """The real path of the manifest ``path``, refused when a symbolic link leads it elsewhere.

    The manifest defines the repository (:func:`repository_root` of the
    directory it is named in); a pull request that turns ``stcheck.yaml``
    into a link to ``/etc/shadow`` or another checkout's file must not get it
    read, and quoted in error messages.
    """
    absolute = os.path.abspath(path)
    root = repository_root(os.path.dirname(absolute))
    real = os.path.realpath(absolute)
    if not _inside(real, root):
        area = special_area(real)
        where = f" (into {area})" if area else ""
        raise FileRefused(
            "not_allowed",
            f"the manifest is a symbolic link that leads outside its repository{where}; refused",
        )
    return real


def type_name(mode: int) -> str | None:
    """What a non-regular file is (``a FIFO``), or None for a regular file."""
    return _type_name(mode)


def _type_name(mode: int) -> str | None:
    """What a non-regular file is, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def read_regular(real: str, *, max_bytes: int, shown: str) -> tuple[bytes, os.stat_result]:
    """Read the regular file at the real path ``real``: at most ``max_bytes`` bytes, or refuse.

    Refuses (:class:`FileRefused`) special areas, FIFOs, sockets, devices and
    directories before opening them; opens non-blocking without following a
    final symbolic link, and re-checks the type and identity on the open
    descriptor; reads at most ``max_bytes + 1`` bytes, whatever ``stat`` said.
    """
    area = special_area(real)
    if area is not None:
        raise FileRefused("not_allowed", f"{shown} is a special file (under {area}); refused")
    try:
        before = os.stat(real)
    except FileNotFoundError:
        raise FileRefused("missing", f"{shown} does not exist") from None
    except OSError as exc:
        raise FileRefused("unreadable", f"{shown} cannot be read ({_why(exc)})") from None
    kind = _type_name(before.st_mode)
    if stat.S_ISDIR(before.st_mode):
        raise FileRefused("unreadable", f"{shown} is not a regular file (a directory)")
    if kind is not None:
        raise FileRefused("not_allowed", f"{shown} is not a regular file ({kind}); refused")
    if before.st_size > max_bytes:
        raise FileRefused(
            "too_large",
            f"{shown} is {before.st_size:,} bytes, larger than {amount(max_bytes)}",
            before.st_size,
        )
    try:
        descriptor = os.open(real, _FLAGS)
    except FileNotFoundError:
        raise FileRefused("missing", f"{shown} does not exist") from None
    except OSError as exc:
        raise FileRefused("unreadable", f"{shown} cannot be read ({_why(exc)})") from None
    try:
        info = os.fstat(descriptor)
        if (info.st_dev, info.st_ino) != (before.st_dev, before.st_ino) or _type_name(info.st_mode):
            raise FileRefused("not_allowed", f"{shown} changed while it was opened; refused")
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:
            try:
                chunk = os.read(descriptor, min(_CHUNK, max_bytes + 1 - total))
            except BlockingIOError:  # pragma: no cover - regular files do not block
                raise FileRefused("unreadable", f"{shown} would block; refused") from None
            except OSError as exc:
                raise FileRefused("unreadable", f"{shown} cannot be read ({_why(exc)})") from None
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    finally:
        os.close(descriptor)
    if total > max_bytes:
        raise FileRefused("too_large", f"{shown} is larger than {amount(max_bytes)}")
    return b"".join(chunks), info


def amount(size: int) -> str:
    """``65536`` → ``64 KiB``; ``1048576`` → ``1 MiB``; other sizes in bytes."""
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size:,} bytes"


def _why(exc: OSError) -> str:
    """An OSError's description without its file name (which may be a runner's absolute path)."""
    return exc.strerror or type(exc).__name__


def _is_control(char: str) -> bool:
    return unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp")


def has_control(value: str) -> bool:
    """True when ``value`` holds a NUL, a line break or another control or format character."""
    # A printable string has none (Python counts every category below as unprintable);
    # isprintable is one C loop, where a credential's characters one by one cost ~20 µs.
    return not value.isprintable() and any(_is_control(char) for char in value)

"""``--output FORMAT=PATH`` files: cleared before the run, written atomically after it.

Two failures this module exists for:

- A full disk (``ENOSPC``, ``EDQUOT``, a file-size limit) half-way through
  writing ``report.json`` used to leave truncated JSON in place of the previous
  good report. Now each file is written to a temporary file in the same
  directory, flushed to disk, and renamed over the target only when complete:
  the target holds either the previous file or the whole new one, never a part.
  The temporary file is removed on failure.
- A run stopped by SIGINT/SIGTERM (or a crash) used to leave the previous run's
  ``junit.xml`` in place, and an ``if: always()`` upload published those stale
  results as current. Now every target is deleted before any check runs, so
  an interrupted run leaves no file — which the upload reports as missing.

One exception to both, GitHub's convention for the job summary: when the
path is the value of ``GITHUB_STEP_SUMMARY`` (the same file, however it is
named), the file is shared by every step of the job, so it is neither deleted
before the run nor replaced after it — the output is appended to it, after a
blank line when the file already holds something.

Only regular files are handled so: a target that is a device, a pipe or a
socket (``/dev/stdout``, bash's ``>(jq .)``, ``/dev/null``) is neither deleted
nor replaced — stcheck may run as root, and must never delete ``/dev/null`` —
but written to directly. A symbolic link is followed: the file it points to
is replaced, the link stays.

The exit-status split: a target that cannot be prepared before the run (its
directory cannot be created, is not writable, the path is a directory or is
one of the manifests) is a usage error, exit 2, and nothing has run. A write
that fails after the checks ran (the disk filled up meanwhile) is exit 3:
the run's verdict exists but could not be delivered, and the CI job must not
read it as a usage mistake.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterable, Sequence


class OutputSetupError(Exception):
    """An ``--output`` target cannot be written: found before the run (exit 2)."""


class OutputWriteError(Exception):
    """Writing an ``--output`` file failed after the run (exit 3); the previous file is intact."""


def prepare(targets: Iterable[tuple[str, str]], manifests: Sequence[str]) -> None:
    """Make each target's directory, check that it is writable, and delete the old file.

    Raises :class:`OutputSetupError` naming the first target that cannot be
    written. Deleting the previous file here, before any check runs, is what
    keeps an interrupted run from leaving it to look current.
    """
    inputs = {_identity(path) for path in manifests} - {None}
    for name, path in targets:
        label = f"--output {name}={path}"
        status = _stat(path)
        if status is not None and stat.S_ISDIR(status.st_mode):
            raise OutputSetupError(f"{label}: is a directory, not a file")
        if status is not None and (status.st_dev, status.st_ino) in inputs:
            raise OutputSetupError(f"{label}: is one of the manifests; it would be overwritten")
        if is_step_summary(path):
            _check_appendable(label, path)
            continue
        if status is not None and not stat.S_ISREG(status.st_mode):
            continue  # a device or a pipe: written to as it is, after the run
        target = os.path.realpath(path)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            import tempfile  # only when there is an --output: not on the pre-commit path

            probe, probe_path = tempfile.mkstemp(
                dir=os.path.dirname(target), prefix=".stcheck-", suffix=".tmp"
            )
            os.close(probe)
            os.unlink(probe_path)
        except OSError as exc:
            raise OutputSetupError(f"{label}: cannot write there ({_why(exc)})") from None
        try:
            os.unlink(target)
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise OutputSetupError(
                f"{label}: cannot remove the previous file ({_why(exc)})"
            ) from None


def write(path: str, text: str) -> None:
    """Write ``text`` to ``path`` atomically: a temporary file, fsync, then ``os.replace``.

    Raises :class:`OutputWriteError` when any step fails; ``path`` then still
    holds what it held before, and the temporary file is gone. A device or a
    pipe is written to directly.
    """
    if is_step_summary(path):
        _append(path, text)
        return
    status = _stat(path)
    if status is not None and not stat.S_ISREG(status.st_mode):
        try:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
        except OSError as exc:
            raise OutputWriteError(f"cannot write {path} ({_why(exc)})") from None
        return
    target = os.path.realpath(path)
    directory = os.path.dirname(target)
    temporary: str | None = None
    import tempfile

    try:
        descriptor, temporary = tempfile.mkstemp(
            dir=directory, prefix=f".{os.path.basename(target)}.", suffix=".tmp"
        )
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o666 & ~_umask())  # mkstemp's 0600, as open() would have made it
        os.replace(temporary, target)
        temporary = None
        _sync_directory(directory)
    except OSError as exc:
        raise OutputWriteError(f"cannot write {path} ({_why(exc)})") from None
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def discard(paths: Iterable[str]) -> None:
    """Delete files this run wrote (a run stopped by a signal leaves none); devices are left."""
    for path in paths:
        status = _stat(path)
        if is_step_summary(path):
            continue  # shared with the job's other steps: what they wrote stays
        if status is not None and stat.S_ISREG(status.st_mode):
            with contextlib.suppress(OSError):
                os.unlink(os.path.realpath(path))


def is_step_summary(path: str) -> bool:
    """Whether ``path`` is GitHub Actions' job summary file (``GITHUB_STEP_SUMMARY``)."""
    summary = os.environ.get("GITHUB_STEP_SUMMARY", "")
    if not summary:
        return False
    if os.path.abspath(path) == os.path.abspath(summary):
        return True
    mine, theirs = _identity(path), _identity(summary)
    return mine is not None and mine == theirs


def _check_appendable(label: str, path: str) -> None:
    try:
        with open(path, "a", encoding="utf-8"):
            pass
    except OSError as exc:
        raise OutputSetupError(f"{label}: cannot append there ({_why(exc)})") from None


def _append(path: str, text: str) -> None:
    """Append ``text`` (after a blank line if the file is not empty) in one write."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            if handle.tell() > 0:
                text = "\n" + text
            handle.write(text if text.endswith("\n") else text + "\n")
    except OSError as exc:
        raise OutputWriteError(f"cannot append to {path} ({_why(exc)})") from None


def _stat(path: str) -> os.stat_result | None:
    try:
        return os.stat(path)
    except OSError:
        return None


def _identity(path: str) -> tuple[int, int] | None:
    status = _stat(path)
    return None if status is None else (status.st_dev, status.st_ino)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (best effort: not every platform can open a directory)."""
    with contextlib.suppress(OSError, AttributeError):
        descriptor = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__

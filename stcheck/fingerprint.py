"""Result fingerprints: one short, stable name per finding, across runs and line moves.

A fingerprint is the first 32 hex digits (128 bits) of the SHA-256 of the JSON
array ``[check, tenant, environment, reason, path, shape]``:

- ``path`` is the result's manifest path relative to the repository root (the
  git work tree holding it, else the manifest's own directory — the same root
  :func:`stcheck.confine.repository_root` confines references to), with ``/``
  separators: the same wherever the repository is checked out and whatever
  the working directory was; empty for results about no file;
- ``shape`` is the result's JSON pointer with every list index written ``*``
  (``/tenants/*/environments/production/client_secret``): it tells apart two
  findings of one check about one entry (its ``client_id`` and its
  ``client_secret``) without changing when tenants are reordered, added or
  removed — the tenant is named by ``tenant``, which is stable.

Line and column numbers, the message text (messages may be reworded), the
status, the hint and the duration are not part of it. Two results can share a
fingerprint (two entries of one list with the same problem); whoever compares
fingerprints counts them as a multiset (:mod:`stcheck.baseline` does).

JSON reports carry it as ``fingerprint`` on every result; SARIF as
``partialFingerprints["stcheck/v1"]``.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from stcheck.confine import repository_root
from stcheck.model import Result

__all__ = ["LENGTH", "PATTERN", "Fingerprinter", "fingerprint", "repository_path"]

LENGTH = 32
"""Hex digits kept of the SHA-256 (128 bits: no accidental collision in any fleet)."""

PATTERN = re.compile(r"[0-9a-f]{32}")
"""What a fingerprint looks like (``fullmatch``)."""

_INDEX = re.compile(r"/[0-9]+(?=/|$)")
_ENCODER = json.JSONEncoder(ensure_ascii=True)


def repository_path(file: str) -> str:
    """``file`` relative to its repository root, ``/``-separated; ``""`` for no file.

    A file that resolves outside the root (it should not: manifests are
    confined to it) is named by its base name alone, never by an absolute path
    of the runner's disk.
    """
    if not file:
        return ""
    absolute = os.path.abspath(file)
    root = repository_root(os.path.dirname(absolute))
    real = os.path.realpath(absolute)
    relative = os.path.relpath(real, root) if real.startswith(root + os.sep) else ""
    if not relative or relative.startswith(".."):
        relative = os.path.basename(real)
    return relative.replace(os.sep, "/")


def pointer_shape(pointer: str) -> str:
    """``pointer`` with its list indexes written ``*``: stable when list items move."""
    return _INDEX.sub("/*", pointer)


def fingerprint(result: Result, path: str) -> str:
    """The fingerprint of ``result``, whose manifest is at ``path`` in its repository."""
    pointer = result.location.pointer if result.location is not None else ""
    identity = [
        result.check,
        result.tenant,
        result.environment,
        result.reason,
        path,
        pointer_shape(pointer),
    ]
    digest = hashlib.sha256(_ENCODER.encode(identity).encode("ascii"))
    return digest.hexdigest()[:LENGTH]


class Fingerprinter:
    """Fingerprints the results of one run, finding each file's repository path once."""

    def __init__(self) -> None:
        self._paths: dict[str, str] = {}

    def path(self, result: Result) -> str:
        file = result.location.file if result.location is not None else ""
        known = self._paths.get(file)
        if known is None:
            known = self._paths[file] = repository_path(file)
        return known

    def __call__(self, result: Result) -> str:
        return fingerprint(result, self.path(result))

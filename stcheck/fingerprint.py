"""Result fingerprints: one short, stable name per finding, across runs and line moves.

A fingerprint is the first 32 hex digits (128 bits) of the SHA-256 of the JSON
array ``[check, tenant, environment, reason, path, shape]``:

- ``path`` is the result's manifest path relative to the repository root (the
  git work tree holding it, else the manifest's own directory — the same root
  :func:`stcheck.confine.repository_root` confines references to), with ``/``
  separators: the same wherever the repository is checked out and whatever
  the working directory was; empty for results about no file;
- ``shape`` is the result's JSON pointer with the tenant's index replaced by
  its name (``/tenants/=good-plumbing/environments/production/client_secret``)
  and every other list index written ``*`` (``/app/required_scopes/*``): it
  tells apart two findings of one check about one entry (its ``client_id`` and
  its ``client_secret``), and the same finding in two tenants (the
  ``references`` and ``schema`` checks leave ``tenant`` empty), without
  changing when tenants are reordered, added or removed — a tenant's name is
  stable, its index is not. Where the name is not known (a tenant without a
  valid name, a report built without the run's manifests) the index is ``*``
  too.

Line and column numbers, the message text (messages may be reworded), the
status, the hint and the duration are not part of it. Two results can share a
fingerprint (two entries of one list with the same problem); whoever compares
fingerprints counts them as a multiset (:mod:`stcheck.baseline` does).

JSON reports carry it as ``fingerprint`` on every result; SARIF as
``partialFingerprints["stcheck/v1"]``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence

from stcheck.confine import repository_root
from stcheck.model import Result

__all__ = [
    "LENGTH",
    "PATTERN",
    "Fingerprinter",
    "fingerprint",
    "pointer_shape",
    "repository_path",
]

LENGTH = 32
"""Hex digits kept of the SHA-256 (128 bits: no accidental collision in any fleet)."""

PATTERN = re.compile(r"[0-9a-f]{32}")
"""What a fingerprint looks like (``fullmatch``)."""

_INDEX = re.compile(r"/[0-9]+(?=/|$)")
_TENANT = re.compile(r"/tenants/([0-9]+)(?=/|$)")
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


def pointer_shape(pointer: str, names: Sequence[str | None] = ()) -> str:
    """``pointer`` with the tenant index as the tenant's name, other list indexes ``*``."""
    head = ""
    match = _TENANT.match(pointer)
    if match is not None:
        index = int(match.group(1))
        name = names[index] if index < len(names) else None
        if name is not None:
            head = "/tenants/=" + name.replace("~", "~0").replace("/", "~1")
            pointer = pointer[match.end() :]
    return head + _INDEX.sub("/*", pointer)


def fingerprint(result: Result, path: str, names: Sequence[str | None] = ()) -> str:
    """The fingerprint of ``result``, whose manifest is at ``path`` in its repository.

    ``names`` are that manifest's tenant names by index (``RunReport.tenant_names``).
    """
    pointer = result.location.pointer if result.location is not None else ""
    identity = [
        result.check,
        result.tenant,
        result.environment,
        result.reason,
        path,
        pointer_shape(pointer, names),
    ]
    import hashlib  # here: OpenSSL's import costs validate 3 ms it need not spend

    digest = hashlib.sha256(_ENCODER.encode(identity).encode("ascii"))
    return digest.hexdigest()[:LENGTH]


class Fingerprinter:
    """Fingerprints the results of one run, finding each file's repository path once.

    ``names`` maps a manifest path to its tenant names by index
    (:attr:`stcheck.model.RunReport.tenant_names`).
    """

    def __init__(self, names: Mapping[str, Sequence[str | None]] | None = None) -> None:
        self._paths: dict[str, str] = {}
        self._names = names or {}

    def __call__(self, result: Result) -> str:
        file = result.location.file if result.location is not None else ""
        path = self._paths.get(file)
        if path is None:
            path = self._paths[file] = repository_path(file)
        return fingerprint(result, path, self._names.get(file, ()))

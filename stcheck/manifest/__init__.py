"""The manifest: read it, load it with positions, validate it, explain what is wrong.

The modules follow the data, each with one job::

    load       bytes (confined, bounded) → parser events → Manifest
    include    include: globs → confined tenant files → batches checked as one manifest
    construct  parser events → plain values and their positions, YAML's traps reported
    model      Manifest, Entry, LoadProblem: what the checks read
    locate     compact positions: pointer → line/column, offset → pointer
    pointer    JSON pointers (RFC 6901): the one place they are built and split
    schema     the published JSON Schemas and validation against them
    explain    schema violations → reason words and sentences about the manifest

The names below are the package's public face, as ``stcheck.manifest`` was
before it became a package; ``schema``, ``explain`` and ``pointer`` are
imported as modules.
"""

from __future__ import annotations

from stcheck.manifest.construct import (
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    MAX_LOAD_PROBLEMS,
    SECRET_FIELDS,
)
from stcheck.manifest.load import HAVE_LIBYAML, MAX_BYTES, MAX_ITEMS, load_bytes, load_manifest
from stcheck.manifest.locate import Positions
from stcheck.manifest.model import MAX_TENANT_ID, Entry, LoadProblem, Manifest, parse_tenant_id

__all__ = [
    "HAVE_LIBYAML",
    "MAX_ALIAS_EXPANSION",
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "MAX_LOAD_PROBLEMS",
    "MAX_TENANT_ID",
    "SECRET_FIELDS",
    "Entry",
    "LoadProblem",
    "Manifest",
    "Positions",
    "load_bytes",
    "load_manifest",
    "parse_tenant_id",
]

"""Read a manifest and load it with source positions: bytes → YAML node tree → Manifest.

The file is read confined to its repository and bounded in size
(:mod:`stcheck.confine`); libyaml (through PyYAML's C parser when present)
composes the node tree, with no implicit typing; :mod:`.construct` turns the
nodes into plain values and reports YAML's traps. The node tree is kept on the
:class:`~stcheck.manifest.model.Manifest` so errors can be located later
(:mod:`.locate`).
"""

from __future__ import annotations

import gc
from typing import Any

import yaml
from yaml.nodes import Node
from yaml.resolver import BaseResolver

from stcheck.confine import FileRefused, confined_manifest, read_regular
from stcheck.manifest.construct import Abort, Constructor
from stcheck.manifest.locate import pointers_of
from stcheck.manifest.model import LoadProblem, Manifest

try:  # libyaml's C parser: ~4x faster than the pure-Python one
    from yaml._yaml import CParser as _Parser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - exercised only without libyaml
    from yaml.composer import Composer
    from yaml.parser import Parser
    from yaml.reader import Reader
    from yaml.scanner import Scanner

    class _Parser(Reader, Scanner, Parser, Composer):  # type: ignore[no-redef]
        def __init__(self, stream: bytes) -> None:
            Reader.__init__(self, stream)
            Scanner.__init__(self)
            Parser.__init__(self)
            Composer.__init__(self)

    HAVE_LIBYAML = False

MAX_BYTES = 20 * 1024 * 1024
# Lines plus flow-collection items: bounds the node tree libyaml builds before
# stcheck sees any of it (a 10,000-tenant manifest has about 180,000 lines).
MAX_ITEMS = 1_000_000


class _Loader(_Parser, BaseResolver):  # type: ignore[misc, valid-type]
    """libyaml parser + composer with no implicit typing: every scalar arrives as text."""

    def __init__(self, stream: bytes) -> None:
        _Parser.__init__(self, stream)
        BaseResolver.__init__(self)


def load_manifest(path: str, *, max_bytes: int = MAX_BYTES) -> Manifest:
    """Read and load ``path``.

    Raises ``FileNotFoundError`` for a missing file and
    :class:`~stcheck.confine.FileRefused` for one that is not read: a FIFO,
    socket, device or directory, anything under ``/proc``, ``/sys`` or
    ``/dev``, a symbolic link out of the manifest's repository, an unreadable
    file. Never blocks: the file is opened non-blocking and at most
    ``max_bytes + 1`` bytes are read, whatever ``stat`` says (``/proc`` files
    say 0).
    """
    try:
        real = confined_manifest(path)
        raw, _ = read_regular(real, max_bytes=max_bytes, shown="the manifest")
    except FileRefused as exc:
        if exc.kind == "missing":
            raise FileNotFoundError(2, "no such manifest file", path) from None
        if exc.kind != "too_large":
            raise
        if exc.size is not None:
            return _fatal(
                path,
                "too_large",
                f"the file is {exc.size:,} bytes;"
                f" stcheck reads manifests up to {max_bytes:,} bytes",
            )
        return _fatal(path, "too_large", f"the file is larger than {max_bytes:,} bytes")
    return load_bytes(raw, path)


def load_bytes(raw: bytes, path: str) -> Manifest:
    """Load manifest text already read into memory (``path`` is used in locations)."""
    items = raw.count(b"\n") + raw.count(b",")
    if items > MAX_ITEMS:
        return _fatal(
            path,
            "too_large",
            f"the file holds about {items:,} lines and items; stcheck reads manifests of up to"
            f" {MAX_ITEMS:,} (10,000 tenants take about 180,000)",
        )
    gc_was_enabled = gc.isenabled()
    gc.disable()  # composing allocates many small objects; collections only slow it
    try:
        manifest = _load(raw, path)
        # The loaded tree lives for the whole run: keep later collections from re-scanning it.
        gc.freeze()
        return manifest
    finally:
        if gc_was_enabled:
            gc.enable()


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _load(raw: bytes, path: str) -> Manifest:
    manifest = _load_nodes(raw, path)
    manifest.text = _decode(raw)
    return manifest


def _load_nodes(raw: bytes, path: str) -> Manifest:
    composed = _compose(raw, path)
    if isinstance(composed, Manifest):
        return composed
    return _construct(composed, path)


def _compose(raw: bytes, path: str) -> Node | Manifest:
    """The document's root node, or a manifest holding the one fatal problem that stopped it."""
    loader = _Loader(raw)
    try:
        root: Node | None = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if "expected a single document" in f"{exc.context} {exc.problem}":
            return _fatal(
                path, "multi_document", "the file holds more than one YAML document", mark
            )
        problem = exc.problem or "malformed YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        return _fatal(path, "invalid_yaml", problem, mark)
    except yaml.YAMLError as exc:
        # Reader errors (bad encoding) carry a position but no mark object.
        return _fatal(path, "invalid_yaml", _reader_problem(exc))
    except RecursionError:
        return _fatal(path, "too_deep", "the document nests too deeply to parse")
    finally:
        dispose = getattr(loader, "dispose", None)
        if dispose is not None:
            dispose()
    if root is None:
        return _fatal(path, "empty", "the file holds no YAML document")
    return root


def _construct(root: Node, path: str) -> Manifest:
    """The manifest of a composed document: its values and every problem constructing found."""
    constructor = Constructor()
    try:
        data = constructor.construct(root)
    except Abort as abort:
        mark = abort.node.start_mark
        aborted = LoadProblem(abort.reason, abort.message, mark.line + 1, mark.column + 1, "", True)
        return Manifest(path, None, root, [aborted])
    except RecursionError:
        return _fatal(path, "too_deep", "the document nests too deeply to load")
    problems = _problems(constructor, root)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        mark = root.start_mark
        message = f"the document is {kind}, not a mapping: a manifest starts with 'version: 1'"
        problems.append(
            LoadProblem("not_a_mapping", message, mark.line + 1, mark.column + 1, "", True)
        )
    return Manifest(path, data, root, problems)


def _problems(constructor: Constructor, root: Node) -> list[LoadProblem]:
    """What constructing found, located (pointers from one walk of the tree)."""
    pointers = pointers_of(root, {id(node) for _, _, node, _ in constructor.problems})
    problems = [
        LoadProblem(
            reason,
            message,
            node.start_mark.line + 1,
            node.start_mark.column + 1,
            pointers.get(id(node), ""),
            fatal,
        )
        for reason, message, node, fatal in constructor.problems
    ]
    if constructor.unlisted:
        more = f"and {constructor.unlisted} more problems of this kind not listed"
        problems.append(LoadProblem("invalid_yaml", more, None, None))
    return problems


def _reader_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"the file is not valid UTF-8/UTF-16 text (byte offset {exc.position})"
    return "malformed YAML"


def _fatal(path: str, reason: str, message: str, mark: Any = None) -> Manifest:
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Manifest(path, None, None, [LoadProblem(reason, message, line, column, "", True)])

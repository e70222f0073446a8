"""Read a manifest and load it with source positions: bytes → parser events → Manifest.

The file is read confined to its repository and bounded in size
(:mod:`stcheck.confine`); libyaml (through PyYAML's C parser when present)
parses it, and :mod:`.construct` builds the values from the parser's events in
one pass, with a compact index of where each key and value was written
(:class:`~stcheck.manifest.locate.Positions`) and YAML's traps reported. No
node tree is composed: PyYAML's took ~37 times the file's size in memory.

A plain document (:mod:`.plain`: most manifests) is built without its
positions first; they are built from a second reading of the events only if
something in it is located.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import DocumentEndEvent, StreamEndEvent
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.scanner import Scanner

from stcheck.confine import FileRefused, confined_manifest, read_regular
from stcheck.gcpause import paused_gc
from stcheck.manifest.construct import Constructor, Fatal
from stcheck.manifest.locate import Positions
from stcheck.manifest.model import LoadProblem, Manifest
from stcheck.manifest.plain import NotPlain, Plain, plain_text
from stcheck.manifest.plain import index as plain_index


class PurePythonParser(Reader, Scanner, Parser):
    """PyYAML's pure-Python reader, scanner and parser: the same events as libyaml's, slower."""

    def __init__(self, stream: bytes) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)


_Parser: Any
try:  # libyaml's C parser: ~4x faster than the pure-Python one
    from yaml._yaml import CParser as _Parser

    HAVE_LIBYAML = True
except ImportError:  # pragma: no cover - exercised only without libyaml
    _Parser = PurePythonParser
    HAVE_LIBYAML = False

MAX_BYTES = 20 * 1024 * 1024
# Lines plus flow-collection items: bounds the node tree libyaml builds before
# stcheck sees any of it (a 10,000-tenant manifest has about 180,000 lines).
MAX_ITEMS = 1_000_000


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


def load_bytes(raw: bytes, path: str, *, tenants_file: bool = False) -> Manifest:
    """Load manifest text already read into memory (``path`` is used in locations).

    ``tenants_file``: the text is an included tenant file, whose document is a
    list of tenants (:mod:`.include`), not a mapping.
    """
    items = raw.count(b"\n") + raw.count(b",")
    if items > MAX_ITEMS:
        return _fatal(
            path,
            "too_large",
            f"the file holds about {items:,} lines and items; stcheck reads manifests of up to"
            f" {MAX_ITEMS:,} (10,000 tenants take about 180,000)",
        )
    # Loading allocates many small objects, collections only slow it; the data lives while
    # its manifest is checked, so it is frozen out of later collections.
    with paused_gc(freeze=True):
        return _load(raw, path, tenants_file)


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", errors="replace")
    return raw.decode("utf-8-sig", errors="replace")


def _load(raw: bytes, path: str, tenants_file: bool = False) -> Manifest:
    text = _decode(raw)
    try:
        manifest = _build(raw, path, text, tenants_file)
    except Fatal as fatal:
        manifest = _fatal(path, fatal.reason, fatal.message, fatal.mark)
    except yaml.MarkedYAMLError as exc:
        problem = exc.problem or "malformed YAML"
        if exc.context:
            problem = f"{problem} ({exc.context})"
        manifest = _fatal(path, "invalid_yaml", problem, exc.problem_mark or exc.context_mark)
    except yaml.YAMLError as exc:
        # Reader errors (bad encoding) carry a position but no mark object.
        manifest = _fatal(path, "invalid_yaml", _reader_problem(exc))
    manifest.text = text
    return manifest


def _build(raw: bytes, path: str, text: str, tenants_file: bool = False) -> Manifest:
    """The manifest of the single document in ``raw``: values, positions, what building found."""
    if plain_text(text):
        try:
            return _build_plain(raw, path, text, tenants_file)
        except NotPlain:
            pass  # the constructor reads it again from the start, and reports what it finds
    parser = _Parser(raw)
    try:
        next_event: Any = parser.get_event
        root = _document(next_event)
        if root is None:
            return _fatal(path, "empty", "the file holds no YAML document")
        positions = Positions()
        constructor = Constructor(next_event, positions, text)
        data = constructor.node(root, 0)
        _end(next_event, root)
    finally:
        _dispose(parser)
    manifest = _manifest(
        path, data, root, positions, constructor.problems, constructor.unlisted, tenants_file
    )
    manifest.decoded = constructor.decoded
    return manifest


def _build_plain(raw: bytes, path: str, text: str, tenants_file: bool) -> Manifest:
    """:func:`_build` for a plain document (:mod:`.plain`); raises :class:`NotPlain` if not."""
    parser = _Parser(raw)
    try:
        next_event: Any = parser.get_event
        root = _document(next_event)
        if root is None:
            return _fatal(path, "empty", "the file holds no YAML document")
        plain = Plain(next_event)
        data = plain.root(root)
        _end(next_event, root)
    finally:
        _dispose(parser)
    positions = Positions(_positions_of(raw, text), root.start_mark.index, plain.tenant_starts)
    manifest = _manifest(path, data, root, positions, [], 0, tenants_file)
    manifest.decoded = plain.decoded
    manifest.suspect = plain.suspect
    return manifest


def _positions_of(raw: bytes, text: str) -> Any:
    """What builds a plain document's positions on first need: :func:`.plain.index`, reading
    the events again — from ``text`` re-encoded a chunk at a time when that gives the parser
    ``raw``'s characters (neither the raw bytes nor a second copy of them are kept)."""
    if text.startswith("\ufeff"):
        # A second BOM: the first reading counted it as a character, a reading of the text
        # would take it for the stream's BOM and shift every position (found by review).
        kept = raw
    elif text.isascii() and not raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        kept = None  # ASCII, with or without a UTF-8 BOM: the text is the bytes
    else:
        encoded = text.encode("utf-8")
        kept = None if raw == encoded or raw == b"\xef\xbb\xbf" + encoded else raw
        del encoded

    def fill(positions: Positions) -> None:
        parser = _Parser(kept if kept is not None else _Utf8Chunks(text))
        try:
            next_event: Any = parser.get_event
            plain_index(next_event, _document(next_event), positions.slots)
        finally:
            _dispose(parser)

    return fill


class _Utf8Chunks:
    """``text`` as a stream of UTF-8 bytes for the parser, encoded a chunk at a time."""

    name = "<manifest>"
    CHUNK = 1 << 16  # characters

    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def read(self, size: int = -1) -> bytes:
        chunk = self.text[self.at : self.at + self.CHUNK]
        self.at += len(chunk)
        return chunk.encode("utf-8")


def _document(next_event: Any) -> Any:
    """The root event of the stream's first document, or None for a stream without one."""
    next_event()  # StreamStartEvent
    event = next_event()
    if event.__class__ is StreamEndEvent:
        return None
    return next_event()


def _end(next_event: Any, root: Any) -> None:
    """Read past the document's end: the stream must end there."""
    if next_event().__class__ is not DocumentEndEvent:  # pragma: no cover - the parser's rule
        raise Fatal("invalid_yaml", "malformed YAML", root.start_mark)
    event = next_event()
    if event.__class__ is not StreamEndEvent:
        raise Fatal(
            "multi_document", "the file holds more than one YAML document", event.start_mark
        )


def _dispose(parser: Any) -> None:
    dispose = getattr(parser, "dispose", None)
    if dispose is not None:
        dispose()


def _manifest(
    path: str,
    data: Any,
    root: Any,
    positions: Positions,
    found: list[Any],
    unlisted: int,
    tenants_file: bool,
) -> Manifest:
    """The loaded manifest: ``found`` are the constructor's problems, then the document's."""
    problems = [
        LoadProblem(reason, message, line, column, pointer)
        for reason, message, line, column, pointer in found
    ]
    if unlisted:
        more = f"and {unlisted} more problems of this kind not listed"
        problems.append(LoadProblem("invalid_yaml", more, None, None))
    mark = root.start_mark
    if tenants_file:
        if isinstance(data, dict) and "include" in data:
            message = (
                "an included file cannot include other files: it holds a list of tenants,"
                " and only the root manifest has 'include:'"
            )
            problems.append(
                LoadProblem("include_nested", message, mark.line + 1, mark.column + 1, "", True)
            )
        elif not isinstance(data, list):
            kind = "a mapping" if isinstance(data, dict) else "a single value"
            message = (
                f"the document is {kind}, not a list: an included file holds a list of tenants"
                " ('- name: ...')"
            )
            problems.append(
                LoadProblem("not_a_list", message, mark.line + 1, mark.column + 1, "", True)
            )
    elif not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        message = f"the document is {kind}, not a mapping: a manifest starts with 'version: 1'"
        problems.append(
            LoadProblem("not_a_mapping", message, mark.line + 1, mark.column + 1, "", True)
        )
    return Manifest(path, data, positions, problems)


def _reader_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"the file is not valid UTF-8/UTF-16 text (byte offset {exc.position})"
    return "malformed YAML"


def _fatal(path: str, reason: str, message: str, mark: Any = None) -> Manifest:
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Manifest(path, None, None, [LoadProblem(reason, message, line, column, "", True)])

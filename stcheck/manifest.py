"""Load a manifest with source positions, catching YAML's traps instead of passing them on.

libyaml (through PyYAML's C parser when present) composes the node tree; the
constructor here turns nodes into plain JSON-like values with YAML 1.2 core
rules — ``no``/``on`` stay strings, dates stay the text written — and reports
what YAML 1.1 would have read differently (``0123`` as octal 83, ``1:30`` as
90, ``0x1F``), duplicate keys, unsupported tags, alias bombs and absurd
nesting. Positions are not copied onto every value: :meth:`Manifest.locate`
walks the retained node tree for the one pointer an error needs.
"""

from __future__ import annotations

import bisect
import gc
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

from stcheck.confine import FileRefused, confined_manifest, read_regular
from stcheck.model import Location
from stcheck.secrets import credential_kind, scan_text
from stcheck.text import shown as quote

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
MAX_NUMBER_DIGITS = 40
MAX_LOAD_PROBLEMS = 200
# Fields whose values are credentials or references to them: never quoted in messages.
SECRET_FIELDS = frozenset({"app_key", "client_id", "client_secret"})
MAX_DEPTH = 64
# Values produced by expanding aliases, beyond the nodes written out, before
# the file is treated as an alias bomb.
MAX_ALIAS_EXPANSION = 100_000

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
ACCEPTED_TAGS = frozenset({STR_TAG, MAP_TAG, SEQ_TAG})

PLAIN_CONSTANTS: dict[str, Any] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
}
SPECIAL_FLOAT = {
    ".inf": float("inf"),
    "-.inf": float("-inf"),
    "+.inf": float("inf"),
    ".nan": float("nan"),
}


@lru_cache(maxsize=1)
def _number_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """(YAML 1.1 integer traps, floats), compiled on first need: most manifests never need them."""
    trap = re.compile(
        r"[-+]?(?:0[0-9_]+|0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|[1-9][0-9_]*(?::[0-5]?[0-9])+"
        r"|[0-9][0-9_]*_[0-9_]*)\Z"
    )
    floating = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
    return trap, floating


def _is_decimal_int(text: str) -> bool:
    digits = text[1:] if text[0] in "+-" else text
    return digits.isascii() and digits.isdigit() and (digits == "0" or digits[0] != "0")


def _is_date(text: str) -> bool:
    return len(text) == 10 and text[4] == "-" and text[7] == "-"


class _Loader(_Parser, BaseResolver):  # type: ignore[misc, valid-type]
    """libyaml parser + composer with no implicit typing: every scalar arrives as text."""

    def __init__(self, stream: bytes) -> None:
        _Parser.__init__(self, stream)
        BaseResolver.__init__(self)


class LoadProblem(NamedTuple):
    """Something wrong found while loading: reason word, message, position."""

    reason: str
    message: str
    line: int | None
    column: int | None
    pointer: str = ""
    fatal: bool = False


class Entry(NamedTuple):
    """One (tenant, environment) entry of a well-formed manifest: what network checks work on."""

    tenant: str
    environment: str
    tenant_id: int
    client_id_ref: str
    client_secret_ref: str
    pointer: str
    secret_created_on: str | None = None
    enterprise_group: str | None = None

    @property
    def label(self) -> str:
        return f"{self.tenant}/{self.environment}"


@dataclass
class Manifest:
    """A loaded manifest: its data, where each value was written, and what loading found."""

    path: str
    data: Any
    root: Node | None
    problems: list[LoadProblem] = field(default_factory=list)
    text: str = ""
    _secret_runs: list[tuple[int, str, str]] | None = field(default=None, repr=False)
    # Indexes of wide collections, built on first use (see locate and at_offset).
    _keys: dict[int, dict[str, tuple[Node, Node]]] = field(default_factory=dict, repr=False)
    _starts: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def secret_runs(self) -> list[tuple[int, str, str]]:
        """(offset, kind, text) of every credential-shaped run in the file, computed once."""
        if self._secret_runs is None:
            self._secret_runs = scan_text(self.text)
        return self._secret_runs

    @property
    def directory(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    @property
    def loaded(self) -> bool:
        return not any(problem.fatal for problem in self.problems)

    def locate(self, pointer: str, *, key: str | None = None) -> Location:
        """Location of the value at JSON ``pointer`` (or of the mapping key ``key`` inside it).

        Falls back to the deepest node that exists, so every error gets a line.
        A wide mapping is indexed the first time a pointer passes through it, so
        locating many problems costs time linear in their number, not quadratic.
        """
        node = self.root
        if node is None:
            return Location(self.path, None, None, pointer)
        target: Node = node
        for segment in _split_pointer(pointer):
            child = self._child(target, segment)
            if child is None:
                break
            target = child[1]
        if key is not None and isinstance(target, MappingNode):
            found = self._child(target, key)
            if found is not None:
                target = found[0]
        mark = target.start_mark
        full_pointer = pointer if key is None else f"{pointer}/{_escape(key)}"
        return Location(self.path, mark.line + 1, mark.column + 1, full_pointer)

    def _child(self, node: Node, segment: str) -> tuple[Node, Node] | None:
        """(key node, value node) of ``segment`` in ``node``: the first key, the last value."""
        if isinstance(node, MappingNode):
            if len(node.value) <= _SCAN_WIDTH:
                return _child(node, segment)
            index = self._keys.get(id(node))
            if index is None:
                index = self._keys[id(node)] = _key_index(node)
            return index.get(segment)
        return _child(node, segment)

    def at_offset(self, offset: int) -> tuple[Location, str]:
        """Location of character ``offset`` of the text, and what is there: key, value or other.

        ``other`` is text outside any scalar: a comment, most likely. Wide
        collections whose items are in document order are searched by bisection.
        """
        pointer, what = "", "other"
        node = self.root
        nearest: Any = None  # the last mark at or before offset: lines are counted from it
        while node is not None and not isinstance(node, ScalarNode):
            if node.start_mark.index <= offset:
                nearest = node.start_mark
            pairs = (
                node.value
                if isinstance(node, MappingNode)
                else [(None, item) for item in node.value]
            )
            first, ordered = self._candidate(node, pairs, offset)
            next_node = None
            for index in range(first, len(pairs)):
                key_node, value_node = pairs[index]
                if key_node is not None and _spans(key_node, offset):
                    return self._location_at(offset, key_node.start_mark, pointer), "key"
                if _spans(value_node, offset):
                    segment = _escape(key_node.value) if key_node is not None else str(index)
                    pointer = f"{pointer}/{segment}"
                    next_node = value_node
                    break
                if ordered:  # only the candidate can hold the offset
                    break
            node = next_node
        if isinstance(node, ScalarNode):
            what = "value"
            nearest = node.start_mark
        return self._location_at(offset, nearest, pointer), what

    def _candidate(self, node: Node, pairs: list[Any], offset: int) -> tuple[int, bool]:
        """(first pair to look at, whether it is the only one that can span ``offset``).

        In a wide collection whose items are in document order, one bisection
        finds the only candidate; narrow or out-of-order ones (aliases) are scanned.
        """
        if len(pairs) <= _SCAN_WIDTH:
            return 0, False
        starts = self._starts.get(id(node))
        if starts is None:
            starts = self._starts[id(node)] = _ordered_starts(pairs)
        if not starts:
            return 0, False
        return max(0, bisect.bisect_right(starts, offset) - 1), True

    def _location_at(self, offset: int, mark: Any, pointer: str) -> Location:
        """Line and column of ``offset``, counted from ``mark`` (at or before it) if given."""
        if mark is None or mark.index > offset:
            line = self.text.count("\n", 0, offset) + 1
        else:
            line = mark.line + 1 + self.text.count("\n", mark.index, offset)
        column = offset - (self.text.rfind("\n", 0, offset) + 1) + 1
        return Location(self.path, line, column, pointer)

    # --- convenient views of well-formed data ---------------------------------

    @property
    def app(self) -> dict[str, Any]:
        app = self.data.get("app") if isinstance(self.data, dict) else None
        return app if isinstance(app, dict) else {}

    def tenants(self) -> Iterator[tuple[int, dict[str, Any]]]:
        tenants = self.data.get("tenants") if isinstance(self.data, dict) else None
        if isinstance(tenants, list):
            for index, tenant in enumerate(tenants):
                if isinstance(tenant, dict):
                    yield index, tenant

    def entries(self) -> list[Entry]:
        """The (tenant, environment) entries whose required fields are well-formed."""
        found: list[Entry] = []
        for index, tenant in self.tenants():
            name = tenant.get("name")
            environments = tenant.get("environments")
            if not isinstance(name, str) or not isinstance(environments, dict):
                continue
            for env_name in ("integration", "production"):
                env = environments.get(env_name)
                if not isinstance(env, dict):
                    continue
                tenant_id = parse_tenant_id(env.get("tenant_id"))
                client_id = env.get("client_id")
                client_secret = env.get("client_secret")
                if tenant_id is None or not isinstance(client_id, str):
                    continue
                if not isinstance(client_secret, str):
                    continue
                created = env.get("secret_created_on")
                group = env.get("enterprise_group")
                found.append(
                    Entry(
                        tenant=name,
                        environment=env_name,
                        tenant_id=tenant_id,
                        client_id_ref=client_id,
                        client_secret_ref=client_secret,
                        pointer=f"/tenants/{index}/environments/{env_name}",
                        secret_created_on=created if isinstance(created, str) else None,
                        enterprise_group=group if isinstance(group, str) else None,
                    )
                )
        return found


MAX_TENANT_ID = 2**63 - 1


def parse_tenant_id(value: Any) -> int | None:
    """A tenant ID as an int when it is a positive 64-bit integer (bare or digit string)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        if not (0 < len(value) <= 19 and value.isascii() and value.isdigit() and value[0] != "0"):
            return None
        value = int(value)
    if isinstance(value, int) and 0 < value <= MAX_TENANT_ID:
        return value
    return None


def _spans(node: Node, offset: int) -> bool:
    return bool(
        node.start_mark.index <= offset < max(node.end_mark.index, node.start_mark.index + 1)
    )


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def _split_pointer(pointer: str) -> list[str]:
    if not pointer:
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer.split("/")[1:]]


# Collections up to this many items are scanned; wider ones are indexed once.
_SCAN_WIDTH = 32


def _child(node: Node, segment: str) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        key_found: Node | None = None
        value_found: Node | None = None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == segment:
                key_found = key_found or key_node
                value_found = value_node
        return None if key_found is None or value_found is None else (key_found, value_found)
    if isinstance(node, SequenceNode) and segment.isdigit():
        index = int(segment)
        if index < len(node.value):
            item: Node = node.value[index]
            return item, item
    return None


def _key_index(node: MappingNode) -> dict[str, tuple[Node, Node]]:
    """Key text -> (first key node, last value node), as a scan of the mapping would find them."""
    index: dict[str, tuple[Node, Node]] = {}
    for key_node, value_node in node.value:
        if isinstance(key_node, ScalarNode):
            seen = index.get(key_node.value)
            index[key_node.value] = (seen[0] if seen else key_node, value_node)
    return index


def _ordered_starts(pairs: list[Any]) -> list[int]:
    """Start offsets of each pair when every key and value lies between its neighbours, else [].

    Then only the pair starting last at or before an offset can span it. An
    alias sends a value back to its anchor's place: such collections are scanned.
    """
    starts: list[int] = []
    previous_end = -1
    for key_node, value_node in pairs:
        first = key_node if key_node is not None else value_node
        start = first.start_mark.index
        if start < previous_end or value_node.start_mark.index < start:
            return []
        starts.append(start)
        previous_end = max(value_node.end_mark.index, value_node.start_mark.index + 1)
    return starts


def pointers_of(root: Node, targets: set[int]) -> dict[int, str]:
    """JSON pointers of the nodes whose ``id`` is in ``targets``, in one walk of the tree.

    A key that looks like a credential stands as ``*`` in the pointers below it.
    """
    found: dict[int, str] = {}
    stack: list[tuple[Node, str]] = [(root, "")]
    seen: set[int] = set()
    while stack and len(found) < len(targets):
        node, path = stack.pop()
        if id(node) in targets:
            found.setdefault(id(node), path)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                name = key_node.value if isinstance(key_node, ScalarNode) else "?"
                child = f"{path}/{'*' if credential_kind(name) else _escape(name)}"
                if id(key_node) in targets:
                    found.setdefault(id(key_node), child)
                stack.append((value_node, child))
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                stack.append((item, f"{path}/{index}"))
    return found


class _Constructor:
    """Turns a composed node tree into plain values, recording problems."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str, Node, bool]] = []
        self.unlisted = 0
        self.expanded = 0
        self.seen: set[int] = set()
        self.in_secret_field = False

    def problem(self, reason: str, message: str, node: Node, fatal: bool = False) -> None:
        if len(self.problems) < MAX_LOAD_PROBLEMS:
            self.problems.append((reason, message, node, fatal))
        else:
            self.unlisted += 1

    def construct(self, node: Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise _Abort("too_deep", f"the document nests deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        # An alias re-visits a node composed once: count what it would expand to.
        if id(node) in self.seen:
            self.expanded += _size(node)
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise _Abort(
                    "alias_expansion",
                    f"aliases expand to more than {MAX_ALIAS_EXPANSION} values (an alias bomb?)",
                    node,
                )
        else:
            self.seen.add(id(node))
        if node.tag not in ACCEPTED_TAGS:
            self.problem("unsupported_tag", f"unsupported YAML tag {_shown_tag(node.tag)}", node)
        if isinstance(node, MappingNode):
            return self.mapping(node, depth)
        return [self.construct(item, depth + 1) for item in node.value]

    def mapping(self, node: MappingNode, depth: int) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.problem("wrong_type", "mapping keys must be plain text", key_node)
                continue
            key = key_node.value
            if key == "<<" and not key_node.style:
                self.problem(
                    "unsupported_tag",
                    "merge keys ('<<') are not supported: write the keys out",
                    key_node,
                )
                continue
            if key in result:
                shown = "a key that looks like a credential" if credential_kind(key) else quote(key)
                self.problem(
                    "duplicate_key",
                    f"duplicate key {shown} (first written at line {first_line[key]});"
                    " YAML would silently keep only the last",
                    key_node,
                )
            else:
                first_line[key] = key_node.start_mark.line + 1
            self.in_secret_field = key in SECRET_FIELDS
            result[key] = self.construct(value_node, depth + 1)
            self.in_secret_field = False
        return result

    def scalar(self, node: ScalarNode) -> Any:
        text: str = node.value
        if node.tag != STR_TAG:
            self.problem("unsupported_tag", f"unsupported YAML tag {_shown_tag(node.tag)}", node)
            return text
        if node.style:  # quoted or block scalar: text as written ('' / None when plain)
            return text
        if not text:
            return None
        first = text[0]
        if first.isdigit() or first in "+-.":
            if len(text) > MAX_NUMBER_DIGITS:
                return text  # no number is this long; the schema says what is wrong with it
            if _is_decimal_int(text):
                return int(text)
            if _is_date(text):
                return text  # dates stay the text written; the schema checks their shape
            trap, floating = _number_patterns()
            if trap.match(text):
                quotable = len(text) <= 20 and not self.in_secret_field
                shown = f"{text} is" if quotable else "this value is"
                read_as = _yaml11_value(text) if quotable else "a number"
                self.problem(
                    "yaml_trap",
                    f"{shown} ambiguous: YAML 1.1 reads it as {read_as}; quote it,"
                    " or write it without leading zeros or separators",
                    node,
                )
                return text
            if floating.match(text):
                if "." not in text and "e" in text.lower():
                    self.problem(
                        "yaml_trap",
                        "this value is ambiguous: YAML 1.2 reads it as a number, YAML 1.1 as"
                        " text; quote it, or write the number out",
                        node,
                    )
                return float(text)
            special = SPECIAL_FLOAT.get(text.lower())
            if special is not None:
                return special
            return text
        if text in PLAIN_CONSTANTS:
            return PLAIN_CONSTANTS[text]
        return text


def _shown_tag(tag: str) -> str:
    return "(not shown: it looks like a credential)" if credential_kind(tag) else quote(tag)


def _yaml11_value(text: str) -> str:
    """What YAML 1.1 would read ``text`` as (for the message only)."""
    try:
        return str(yaml.load(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:  # pragma: no cover - defensive
        return "a number"


def _size(node: Node) -> int:
    if isinstance(node, ScalarNode):
        return 1
    count = 1
    stack = [node]
    while stack:
        current = stack.pop()
        items = current.value
        if isinstance(current, MappingNode):
            items = [value for _, value in items]
        count += len(items)
        if count > MAX_ALIAS_EXPANSION:
            return count
        stack.extend(item for item in items if not isinstance(item, ScalarNode))
    return count


class _Abort(Exception):
    def __init__(self, reason: str, message: str, node: Node) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.node = node


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
    loader = _Loader(raw)
    try:
        root = loader.get_single_node()
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
    constructor = _Constructor()
    try:
        data = constructor.construct(root)
    except _Abort as abort:
        mark = abort.node.start_mark
        aborted = LoadProblem(abort.reason, abort.message, mark.line + 1, mark.column + 1, "", True)
        return Manifest(path, None, root, [aborted])
    except RecursionError:
        return _fatal(path, "too_deep", "the document nests too deeply to load")
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
        problems.append(
            LoadProblem(
                "invalid_yaml",
                f"and {constructor.unlisted} more problems of this kind not listed",
                None,
                None,
            )
        )
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        problems.append(
            LoadProblem(
                "not_a_mapping",
                f"the document is {kind}, not a mapping: a manifest starts with 'version: 1'",
                root.start_mark.line + 1,
                root.start_mark.column + 1,
                "",
                True,
            )
        )
    return Manifest(path, data, root, problems)


def _reader_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.reader.ReaderError):
        return f"the file is not valid UTF-8/UTF-16 text (byte offset {exc.position})"
    return "malformed YAML"


def _fatal(path: str, reason: str, message: str, mark: Any = None) -> Manifest:
    line = mark.line + 1 if mark is not None else None
    column = mark.column + 1 if mark is not None else None
    return Manifest(path, None, None, [LoadProblem(reason, message, line, column, "", True)])

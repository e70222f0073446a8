"""Positions in the composed YAML node tree: pointer → line and column, offset → pointer.

Positions are not copied onto every loaded value: the node tree libyaml
composed is kept, and walked for the one pointer an error needs. Wide
collections (a 10,000-tenant ``tenants`` list) are indexed the first time a
walk passes through them, so locating many problems costs time linear in
their number, not quadratic.
"""

from __future__ import annotations

import bisect
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stcheck.manifest import pointer as jsonpointer
from stcheck.model import Location
from stcheck.redact import credential_kind

# Collections up to this many items are scanned; wider ones are indexed once.
_SCAN_WIDTH = 32

Pair = tuple[Node, Node]


class TreeIndex:
    """Indexes of a tree's wide collections, built on first use and kept for the run."""

    def __init__(self) -> None:
        self._keys: dict[int, dict[str, Pair]] = {}
        self._starts: dict[int, list[int]] = {}

    def child(self, node: Node, segment: str) -> Pair | None:
        """(key node, value node) of ``segment`` in ``node``: the first key, the last value."""
        if isinstance(node, MappingNode) and len(node.value) > _SCAN_WIDTH:
            index = self._keys.get(id(node))
            if index is None:
                index = self._keys[id(node)] = _key_index(node)
            return index.get(segment)
        return _child(node, segment)

    def candidate(self, node: Node, pairs: list[Any], offset: int) -> tuple[int, bool]:
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


def locate(
    file: str, root: Node | None, index: TreeIndex, pointer: str, key: str | None = None
) -> Location:
    """Location of the value at ``pointer`` (or of the mapping key ``key`` inside it).

    Falls back to the deepest node that exists, so every error gets a line.
    """
    if root is None:
        return Location(file, None, None, pointer)
    target: Node = root
    for segment in jsonpointer.split(pointer):
        found = index.child(target, segment)
        if found is None:
            break
        target = found[1]
    if key is not None and isinstance(target, MappingNode):
        found = index.child(target, key)
        if found is not None:
            target = found[0]
    mark = target.start_mark
    full_pointer = pointer if key is None else jsonpointer.child(pointer, key)
    return Location(file, mark.line + 1, mark.column + 1, full_pointer)


def at_offset(
    file: str, root: Node | None, index: TreeIndex, text: str, offset: int
) -> tuple[Location, str]:
    """Location of character ``offset`` of ``text``, and what is there: key, value or other.

    ``other`` is text outside any scalar: a comment, most likely.
    """
    pointer = ""
    node = root
    nearest: Any = None  # the last mark at or before offset: lines are counted from it
    while node is not None and not isinstance(node, ScalarNode):
        if node.start_mark.index <= offset:
            nearest = node.start_mark
        pairs = node.value if isinstance(node, MappingNode) else [(None, v) for v in node.value]
        first, ordered = index.candidate(node, pairs, offset)
        next_node = None
        for position in range(first, len(pairs)):
            key_node, value_node = pairs[position]
            if key_node is not None and _spans(key_node, offset):
                return _location_at(file, text, offset, key_node.start_mark, pointer), "key"
            if _spans(value_node, offset):
                segment = key_node.value if key_node is not None else position
                pointer = jsonpointer.child(pointer, segment)
                next_node = value_node
                break
            if ordered:  # only the candidate can hold the offset
                break
        node = next_node
    if isinstance(node, ScalarNode):
        return _location_at(file, text, offset, node.start_mark, pointer), "value"
    return _location_at(file, text, offset, nearest, pointer), "other"


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
                child = jsonpointer.child(path, "*" if credential_kind(name) else name)
                if id(key_node) in targets:
                    found.setdefault(id(key_node), child)
                stack.append((value_node, child))
        elif isinstance(node, SequenceNode):
            for position, item in enumerate(node.value):
                stack.append((item, jsonpointer.child(path, position)))
    return found


def _location_at(file: str, text: str, offset: int, mark: Any, pointer: str) -> Location:
    """Line and column of ``offset``, counted from ``mark`` (at or before it) if given."""
    if mark is None or mark.index > offset:
        line = text.count("\n", 0, offset) + 1
    else:
        line = mark.line + 1 + text.count("\n", mark.index, offset)
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Location(file, line, column, pointer)


def _spans(node: Node, offset: int) -> bool:
    return bool(
        node.start_mark.index <= offset < max(node.end_mark.index, node.start_mark.index + 1)
    )


def _child(node: Node, segment: str) -> Pair | None:
    if isinstance(node, MappingNode):
        key_found: Node | None = None
        value_found: Node | None = None
        for key_node, value_node in node.value:
            if isinstance(key_node, ScalarNode) and key_node.value == segment:
                key_found = key_found or key_node
                value_found = value_node
        return None if key_found is None or value_found is None else (key_found, value_found)
    if isinstance(node, SequenceNode) and segment.isdigit():
        position = int(segment)
        if position < len(node.value):
            item: Node = node.value[position]
            return item, item
    return None


def _key_index(node: MappingNode) -> dict[str, Pair]:
    """Key text -> (first key node, last value node), as a scan of the mapping would find them."""
    index: dict[str, Pair] = {}
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

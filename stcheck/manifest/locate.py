"""Positions of the loaded values: pointer → line and column, offset → pointer.

No YAML node tree is kept. While loading, :mod:`.construct` writes one *slot*
per mapping key and per value (scalar, mapping or list) into one flat
``array('i')``, three integers each: where it starts and ends (character
offsets into the decoded text) and how many slots its subtree takes (1 for a
scalar, 0 for a key). Slots follow the data in pre-order — a mapping's slot,
then for each key in the dict's order its key slot and its value's subtree; a list's
slot, then each item's subtree — so a walk of the data along a JSON pointer
finds each value's slot by skipping the subtrees of the siblings before it.
About 12 bytes per key or value, where PyYAML's nodes took ~600 (two ``Mark``
objects each).

The data cannot show what YAML wrote but a dict does not hold: a mapping with
a duplicate key, or a pair the data drops (a merge key, a key that is not
text), keeps its pairs in the order written, with relative slots, in
:attr:`Positions.written` (the key is the one written first, the value the one
written last, as the data has it); the slots of a dropped pair stay, unused.

Lines and columns are computed from offsets (a few directly, then through a
table of line starts built on first need); YAML's line breaks (CRLF, CR, LF,
NEL, LS, PS) count as libyaml counts them.

Wide collections (a 10,000-tenant ``tenants`` list) are indexed the first time
a walk passes through them, so locating many problems costs time linear in
their number, not quadratic.

A plain document's positions are built on first need (:meth:`Positions.ready`,
called by :func:`locate` and :func:`at_offset`): a valid manifest locates
nothing but its root, whose start is known without them (see
:mod:`stcheck.manifest.plain`).
"""

from __future__ import annotations

import bisect
import itertools
import re
import threading
from array import array
from collections.abc import Callable
from typing import Any

from stcheck.manifest import pointer as jsonpointer
from stcheck.model import Location

# Collections up to this many items are scanned; wider ones are indexed once.
_SCAN_WIDTH = 32
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_ODD_BREAKS = ("\r", "\x85", "\u2028", "\u2029")  # line breaks other than LF
# Lines and columns are counted directly for this many lookups, then through a table.
_DIRECT_LOOKUPS = 16

# (pointer segment, key slot or None for a list item, value slot, value or None when the
# value written there is not the one the data holds: an overwritten duplicate)
Child = tuple[str | int, int | None, int, Any]
# A mapping's pairs in the order written: (key, key slot, value slot), slots relative to it.
Written = list[tuple[str, int, int]]


class Positions:
    """Where each key and value of a loaded document was written (see the module docstring)."""

    __slots__ = (
        "_children",
        "_direct",
        "_fill",
        "_items",
        "_keys",
        "_lines",
        "_lock",
        "_plain",
        "_starts",
        "root_start",
        "slots",
        "tenant_starts",
        "written",
        "written_log",
    )

    def __init__(
        self,
        fill: Callable[[Positions], None] | None = None,
        root_start: int = 0,
        tenant_starts: array[int] | None = None,
    ) -> None:
        """Empty, to be built by the constructor; or, with ``fill``, built by ``fill(self)`` on
        first need (:meth:`ready`), what is known now given: the root's start offset
        ``root_start`` and ``tenant_starts``, where each tenant starts (each item of the root's
        ``tenants`` list, or of the root list)."""
        self._fill = fill
        self._lock = threading.Lock() if fill is not None else None
        self.root_start = root_start
        self.tenant_starts = tenant_starts
        self.slots = array("i")
        self.written: dict[int, Written] = {}
        self.written_log: list[int] = []  # mapping slots in the order their pairs were kept
        self._lines: array[int] | None = None
        self._direct = 0
        self._plain: bool | None = None  # whether LF is the text's only line break
        self._keys: dict[int, dict[str, int]] = {}
        self._items: dict[int, array[int]] = {}
        self._starts: dict[int, list[int]] = {}
        self._children: dict[int, list[Child]] = {}

    def __len__(self) -> int:
        return len(self.slots) // 3

    @property
    def pending(self) -> bool:
        """Whether the positions are still to be built (:meth:`ready` builds them)."""
        return self._fill is not None

    def ready(self) -> None:
        """Build the positions now if they were left for first need (once, whichever thread
        asks first)."""
        if self._fill is None or self._lock is None:
            return
        with self._lock:
            fill = self._fill
            if fill is not None:
                built = len(self.slots)
                try:
                    fill(self)
                except BaseException:
                    del self.slots[built:]  # a failed reading leaves no half-built table
                    raise
                self._fill = None

    # --- building (used by the constructor) ------------------------------------

    def add(self, start: int, end: int) -> int:
        """A new slot of one key or scalar: its number."""
        slot = len(self.slots) // 3
        self.slots.extend((start, end, 1))
        return slot

    def close(self, slot: int, end: int) -> None:
        """A collection's slot ends here: its subtree is every slot added since."""
        self.slots[3 * slot + 1] = end
        self.slots[3 * slot + 2] = len(self.slots) // 3 - slot

    def keep_written(self, slot: int, pairs: Written) -> None:
        """The pairs of the mapping at ``slot`` as written (it repeats a key or drops a pair)."""
        self.written[slot] = pairs
        self.written_log.append(slot)

    def inner_written(self, slot: int, since: int) -> dict[int, Written]:
        """The written-order pairs kept inside ``slot``'s subtree (since log entry ``since``),
        by slot relative to it."""
        return {m - slot: self.written[m] for m in self.written_log[since:] if m in self.written}

    def replay(self, slot: int, written: dict[int, Written]) -> None:
        """Append a copy of ``slot``'s subtree where an alias repeats it (sizes are relative)."""
        base = len(self.slots) // 3
        self.slots.extend(self.slots[3 * slot : 3 * (slot + self.size(slot))])
        for relative, pairs in written.items():
            self.keep_written(base + relative, pairs)

    def values_in(self, slot: int) -> int:
        """Values (not keys: their slots have size 0) in ``slot``'s subtree."""
        sizes = self.slots[3 * slot + 2 : 3 * (slot + self.size(slot)) : 3]
        return len(sizes) - sizes.count(0)

    # --- reading ---------------------------------------------------------------

    def start(self, slot: int) -> int:
        return self.slots[3 * slot]

    def end(self, slot: int) -> int:
        """Where ``slot`` ends (at least one character after its start, as a span)."""
        return max(self.slots[3 * slot + 1], self.slots[3 * slot] + 1)

    def size(self, slot: int) -> int:
        return self.slots[3 * slot + 2]

    def line_column(self, text: str, offset: int) -> tuple[int, int]:
        """1-based line and column of character ``offset`` of ``text``."""
        if self._lines is None:
            if self._plain is None:
                self._plain = not _odd_breaks(text)
            if self._plain and self._direct < _DIRECT_LOOKUPS:
                # A few lookups (a valid manifest's) cost less than the table of every line.
                self._direct += 1
                start = text.rfind("\n", 0, offset) + 1
                return text.count("\n", 0, offset) + 1, offset - start + 1
            self._lines = _line_starts(text)
        line = bisect.bisect_right(self._lines, offset) - 1
        return line + 1, offset - self._lines[line] + 1

    def child(self, value: Any, slot: int, segment: str) -> tuple[int, int, Any] | None:
        """(key slot, value slot, value) of ``segment`` in the collection ``value`` at ``slot``.

        For a mapping: the key written first and the value written last (what
        the data holds); for a list item the key slot is the item's.
        """
        if isinstance(value, dict):
            if segment not in value:
                return None
            pairs = self.written.get(slot)
            if pairs is not None:
                key_slot = next(k for key, k, _ in pairs if key == segment)
                value_slot = next(v for key, _, v in reversed(pairs) if key == segment)
                return slot + key_slot, slot + value_slot, value[segment]
            if len(value) > _SCAN_WIDTH or slot == 0:  # wide, or the root every walk starts at
                index = self._keys.get(slot)
                if index is None:
                    index = self._keys[slot] = dict(
                        zip(value, self.key_slots(value, slot), strict=False)
                    )
                key_slot = index[segment]
                return key_slot, key_slot + 1, value[segment]
            for key, key_slot in zip(value, self.key_slots(value, slot), strict=False):
                if key == segment:
                    return key_slot, key_slot + 1, value[key]
            return None  # pragma: no cover - the key is in the dict
        if isinstance(value, list) and segment.isascii() and segment.isdigit():
            position = int(segment)
            if position >= len(value):
                return None
            item_slot = self._item_slots(value, slot)[position]
            return item_slot, item_slot, value[position]
        return None

    def children(self, value: Any, slot: int) -> list[Child]:
        """The collection's keys and values in the order written."""
        cached = self._children.get(slot)
        if cached is None:
            cached = self._listed(value, slot)
            if len(cached) > _SCAN_WIDTH:
                self._children[slot] = cached
        return cached

    def _listed(self, value: Any, slot: int) -> list[Child]:
        if isinstance(value, list):
            return [
                (i, None, s, item)
                for i, (s, item) in enumerate(
                    zip(self._item_slots(value, slot), value, strict=False)
                )
            ]
        pairs = self.written.get(slot)
        if pairs is None:
            return [
                (key, k, k + 1, value[key])
                for key, k in zip(value, self.key_slots(value, slot), strict=False)
            ]
        last = {key: v for key, _, v in pairs}
        return [
            (key, slot + k, slot + v, value[key] if last[key] == v else None) for key, k, v in pairs
        ]

    def ordered_starts(self, value: Any, slot: int, children: list[Child]) -> list[int] | None:
        """Start offsets of a wide collection's children when they lie in document order.

        Then only the child starting last at or before an offset can span it.
        An alias sends a value back to its anchor's place: such collections
        (and narrow ones) are scanned (None).
        """
        if len(children) <= _SCAN_WIDTH:
            return None
        starts = self._starts.get(slot)
        if starts is None:
            starts = []
            previous_end = -1
            for _, key_slot, value_slot, _ in children:
                first = self.start(key_slot if key_slot is not None else value_slot)
                if first < previous_end or self.start(value_slot) < first:
                    starts = []
                    break
                starts.append(first)
                previous_end = self.end(value_slot)
            self._starts[slot] = starts
        return starts or None

    def key_slots(self, value: dict[str, Any], slot: int) -> list[int]:
        slots = self.slots
        found: list[int] = []
        current = slot + 1
        for _ in range(len(value)):
            found.append(current)
            current += 1 + slots[3 * (current + 1) + 2]
        return found

    def _item_slots(self, value: list[Any], slot: int) -> array[int]:
        cached = self._items.get(slot)
        if cached is not None:
            return cached
        slots = self.slots
        found = array("i")
        current = slot + 1
        for _ in range(len(value)):
            found.append(current)
            current += slots[3 * current + 2]
        if len(value) > _SCAN_WIDTH:
            self._items[slot] = found
        return found


def _odd_breaks(text: str) -> bool:
    """Whether ``text`` holds a line break other than LF (four substring searches: ~100x faster
    than one regex search over a 6 MB manifest)."""
    return any(brk in text for brk in _ODD_BREAKS)


def _line_starts(text: str) -> array[int]:
    """The offset of each line's first character: after each line break YAML counts."""
    starts = array("i", [0])
    if _odd_breaks(text):
        starts.extend(match.end() for match in _LINE_BREAK.finditer(text))
    else:
        starts.extend(itertools.accumulate(len(line) + 1 for line in text.split("\n")))
        starts.pop()  # the end of the text, after its last line
    return starts


def locate(
    file: str,
    data: Any,
    positions: Positions | None,
    text: str,
    pointer: str,
    key: str | None = None,
) -> Location:
    """Location of the value at ``pointer`` (or of the mapping key ``key`` inside it).

    Falls back to the deepest value that exists, so every error gets a line.
    """
    if positions is None:
        return Location(file, None, None, pointer)
    if key is None and positions.pending:
        known = _known_start(data, positions, pointer)
        if known is not None:  # the root, or a tenant: known without the positions
            line, column = positions.line_column(text, known)
            return Location(file, line, column, pointer)
    positions.ready()
    if not len(positions):
        return Location(file, None, None, pointer)
    value, slot = data, 0
    for segment in jsonpointer.split(pointer):
        found = positions.child(value, slot, segment)
        if found is None:
            break
        _, slot, value = found
    if key is not None and isinstance(value, dict):
        found = positions.child(value, slot, key)
        if found is not None:
            slot = found[0]
    line, column = positions.line_column(text, positions.start(slot))
    full_pointer = pointer if key is None else jsonpointer.child(pointer, key)
    return Location(file, line, column, full_pointer)


def _known_start(data: Any, positions: Positions, pointer: str) -> int | None:
    """Where the root or a tenant (``/tenants/N``, or ``/N`` of a root list) starts, if known
    while the positions are pending."""
    if not pointer:
        return positions.root_start
    starts = positions.tenant_starts
    if not starts:
        return None
    prefix = "/tenants/" if isinstance(data, dict) else "/"
    if not pointer.startswith(prefix):
        return None
    index = pointer[len(prefix) :]
    if not (index.isascii() and index.isdigit()) or (index[0] == "0" and index != "0"):
        return None
    number = int(index)
    return starts[number] if number < len(starts) else None


def at_offset(
    file: str, data: Any, positions: Positions | None, text: str, offset: int
) -> tuple[Location, str]:
    """Location of character ``offset`` of ``text``, and what is there: key, value or other.

    ``other`` is text outside any scalar: a comment, most likely.
    """
    pointer = ""

    def where() -> Location:
        if positions is None:
            line = text.count("\n", 0, offset) + 1
            return Location(file, line, offset - (text.rfind("\n", 0, offset) + 1) + 1, pointer)
        line, column = positions.line_column(text, offset)
        return Location(file, line, column, pointer)

    if positions is not None:
        positions.ready()
    if positions is None or not len(positions):
        return where(), "other"
    value, slot = data, 0
    while isinstance(value, (dict, list)):
        children = positions.children(value, slot)
        starts = positions.ordered_starts(value, slot, children)
        first = 0 if starts is None else max(0, bisect.bisect_right(starts, offset) - 1)
        found: Child | None = None
        for child in children[first:] if starts is None else children[first : first + 1]:
            _, key_slot, value_slot, _ = child
            if key_slot is not None and positions.start(key_slot) <= offset < positions.end(
                key_slot
            ):
                return where(), "key"  # with the pointer of the mapping holding it
            if positions.start(value_slot) <= offset < positions.end(value_slot):
                found = child
                break
        if found is None:
            return where(), "other"
        segment, _, slot, value = found
        pointer = jsonpointer.child(pointer, segment)
        if value is None and positions.size(slot) > 1:
            return where(), "other"  # inside a value a later duplicate key overwrote
    return where(), "value"

"""YAML parser events to plain values and their positions in one pass, YAML's traps reported.

The parser's event stream (libyaml's, or PyYAML's pure-Python parser's: the
same events) is read once; no node tree is composed and no resolver runs (the
data does not depend on one: every scalar arrives as the text written, and the
rules below decide). Each key and value gets a slot in a
:class:`~stcheck.manifest.locate.Positions` as it is built.

Here ``no``/``on`` stay strings, dates stay the text written, and what YAML 1.1
would have read differently (``0123`` as octal 83, ``1:30`` as 90, ``0x1F``) is
reported, along with duplicate keys (at the second one, naming the line of the
first), merge keys, unsupported tags, alias bombs and absurd nesting.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
)

from stcheck.manifest import pointer as jsonpointer
from stcheck.manifest.locate import Positions, Written
from stcheck.redact import credential_kind
from stcheck.text import shown as quote

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


class Fatal(Exception):
    """The document cannot be loaded: a reason word, a message and where (0-based mark)."""

    def __init__(self, reason: str, message: str, mark: Any) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.mark = mark


class _Anchor:
    """What an alias repeats: the anchored value and where its slots are (copied per alias)."""

    __slots__ = ("line", "slot", "text", "value", "values", "written")

    def __init__(
        self, value: Any, text: str | None, slot: int, written: dict[int, Written], line: int
    ) -> None:
        self.value = value
        self.text = text  # a scalar's text as written (an alias of it can be a key)
        self.slot = slot
        self.written = written
        self.values: int | None = None  # how many values an alias expands to, counted once used
        self.line = line


Problem = tuple[str, str, int, int, str]  # reason, message, line, column (1-based), pointer


class Constructor:
    """Builds a document's values and positions from parser events, recording problems.

    ``next_event`` is the parser's ``get_event``. The value an alias names is
    shared, not copied (the data is read, never changed); expanding aliases is
    counted against :data:`MAX_ALIAS_EXPANSION`.
    """

    def __init__(self, next_event: Any, positions: Positions, text: str) -> None:
        self.next_event = next_event
        self.text = text
        self.positions = positions
        self.problems: list[Problem] = []
        self.unlisted = 0
        self.expanded = 0
        self.quiet = 0  # > 0 while building what the data will not hold
        self.anchors: dict[str, _Anchor] = {}
        self.path: list[str | int] = []
        self.in_secret_field = False
        self.keys: dict[str, str] = {}  # one str object per distinct key text
        # Strings the document decodes to that its text does not hold as written (escapes,
        # folded lines, block scalars): the redactor must know them as manifest text too.
        self.decoded: list[str] = []

    def problem(self, reason: str, message: str, mark: Any, segment: Any = None) -> None:
        """Record a problem at ``mark``; its pointer is the current path (+ ``segment``)."""
        if self.quiet:
            return
        if len(self.problems) >= MAX_LOAD_PROBLEMS:
            self.unlisted += 1
            return
        path = self.path if segment is None else [*self.path, segment]
        shown = ("*" if isinstance(key, str) and credential_kind(key) else key for key in path)
        self.problems.append(
            (reason, message, mark.line + 1, mark.column + 1, jsonpointer.join(shown))
        )

    def node(self, event: Any, depth: int) -> Any:
        """The value of the node ``event`` starts (reading the events up to its end)."""
        kind = event.__class__
        log_start = len(self.positions.written_log)
        if kind is ScalarEvent:
            start, end = event.start_mark, event.end_mark
            slot = self.positions.add(start.index, end.index)
            if not _verbatim(event.value, event.style, start, end):
                self.decoded.append(event.value)
            value = self.scalar(event)
        elif kind is AliasEvent:
            return self.alias(event)
        else:
            if depth > MAX_DEPTH:
                raise Fatal(
                    "too_deep",
                    f"the document nests deeper than {MAX_DEPTH} levels",
                    event.start_mark,
                )
            slot = self.positions.add(event.start_mark.index, event.start_mark.index)
            tag = event.tag
            if tag is not None and tag != "!" and tag not in ACCEPTED_TAGS:
                self.problem(
                    "unsupported_tag", f"unsupported YAML tag {_shown_tag(tag)}", event.start_mark
                )
            if kind is MappingStartEvent:
                value, end = self.mapping(slot, depth)
            else:
                value, end = self.sequence(depth)
            self.positions.close(slot, end.end_mark.index)
        anchor = event.anchor
        if anchor is not None:
            first = self.anchors.get(anchor)
            if first is not None:
                raise Fatal(
                    "invalid_yaml",
                    f"the anchor {_shown_tag(anchor)} is defined twice"
                    f" (first at line {first.line})",
                    event.start_mark,
                )
            text = event.value if kind is ScalarEvent else None
            written = self.positions.inner_written(slot, log_start)
            line = event.start_mark.line + 1
            self.anchors[anchor] = _Anchor(value, text, slot, written, line)
        return value

    def alias(self, event: Any) -> Any:
        anchor = self.anchors.get(event.anchor)
        if anchor is None:
            raise Fatal(
                "invalid_yaml",
                f"found undefined alias {_shown_tag(event.anchor)}",
                event.start_mark,
            )
        if anchor.values is None:
            anchor.values = self.positions.values_in(anchor.slot)
        self.expanded += anchor.values
        if self.expanded > MAX_ALIAS_EXPANSION:
            raise Fatal(
                "alias_expansion",
                f"aliases expand to more than {MAX_ALIAS_EXPANSION} values (an alias bomb?)",
                event.start_mark,
            )
        self.positions.replay(anchor.slot, anchor.written)
        return anchor.value

    def sequence(self, depth: int) -> tuple[list[Any], Any]:
        items: list[Any] = []
        path = self.path
        path.append(0)
        while True:
            event = self.next_event()
            if event.__class__ is SequenceEndEvent:
                path.pop()
                return items, event
            path[-1] = len(items)
            items.append(self.node(event, depth + 1))

    def mapping(self, slot: int, depth: int) -> tuple[dict[str, Any], Any]:
        """A mapping's values, up to its end event. Hot: most of a manifest is read here."""
        result: dict[str, Any] = {}
        written: Written | None = None  # the pairs as written, once a key repeats
        positions = self.positions
        slots = positions.slots
        extend = slots.extend
        next_event = self.next_event
        keys = self.keys
        decoded = self.decoded
        mark: Any
        end: Any
        while True:
            event = next_event()
            kind = event.__class__
            if kind is ScalarEvent:
                text = event.value
                mark, end = event.start_mark, event.end_mark
                key_start, key_end = mark.index, end.index
                if key_end - key_start != len(text) or event.style or mark.line != end.line:
                    if not _verbatim(text, event.style, mark, end):
                        decoded.append(text)
                elif text == "<<":
                    written = self.as_written(result, slot) if written is None else written
                    self.merge_key(mark, depth)
                    continue
            elif kind is MappingEndEvent:
                if written is not None:
                    positions.keep_written(slot, written)
                return result, event
            else:
                text = self.key_text(event)
                mark, end = event.start_mark, event.end_mark
                key_start, key_end = mark.index, end.index
                if text is None:
                    self.problem("wrong_type", "mapping keys must be plain text", mark)
                    written = self.as_written(result, slot) if written is None else written
                    self.discard(event, depth + 1)
                    self.discard(next_event(), depth + 1)
                    continue
            key = keys.setdefault(text, text)
            if key in result:
                written = self.as_written(result, slot) if written is None else written
                self.duplicate(key, slot, written, mark)
            if written is not None:
                key_slot = len(slots) // 3
                written.append((key, key_slot - slot, key_slot + 1 - slot))
            # A key's slot has size 0 (a value's is at least 1): an anchor counts its values.
            # It is added with the value's in one step on the fast paths below.
            event = next_event()
            if event.__class__ is ScalarEvent and event.tag is None and event.anchor is None:
                value: str = event.value
                mark, end = event.start_mark, event.end_mark
                start_index, end_index = mark.index, end.index
                span = end_index - start_index
                style = event.style
                # Most values: text as written on one line, no tag, anchor or trap; and the
                # plain decimal integers and dates :meth:`number` would read the same way.
                if value and mark.line == end.line:
                    if style:
                        if (style == "'" or style == '"') and span - 2 == len(value):
                            extend((key_start, key_end, 0, start_index, end_index, 1))
                            result[key] = value
                            continue
                    elif span == len(value):
                        first = value[0]
                        if not (first.isdigit() or first in "+-."):
                            if value not in PLAIN_CONSTANTS:
                                extend((key_start, key_end, 0, start_index, end_index, 1))
                                result[key] = value
                                continue
                        elif first.isascii() and first.isdigit() and len(value) <= 20:
                            if value.isdigit() and value.isascii():
                                if first != "0" or span == 1:
                                    extend((key_start, key_end, 0, start_index, end_index, 1))
                                    result[key] = int(value)
                                    continue
                            elif span == 10 and value[4] == "-" and value[7] == "-":
                                extend((key_start, key_end, 0, start_index, end_index, 1))
                                result[key] = value
                                continue
            extend((key_start, key_end, 0))
            self.path.append(key)
            self.in_secret_field = key in SECRET_FIELDS
            if (
                event.__class__ is MappingStartEvent
                and event.tag is None
                and event.anchor is None
                and depth < MAX_DEPTH
            ):  # what node() does for a plain nested mapping, without its checks
                value_slot = len(slots) // 3
                mark = event.start_mark
                start_index = mark.index
                extend((start_index, start_index, 1))
                result[key], end = self.mapping(value_slot, depth + 1)
                positions.close(value_slot, end.end_mark.index)
            else:
                result[key] = self.node(event, depth + 1)
            self.in_secret_field = False
            self.path.pop()

    def as_written(self, result: dict[str, Any], slot: int) -> Written:
        """The pairs of the mapping at ``slot`` so far (in the dict's order: none was dropped)."""
        key_slots = self.positions.key_slots(result, slot)
        return [(k, s - slot, s + 1 - slot) for k, s in zip(result, key_slots, strict=True)]

    def merge_key(self, mark: Any, depth: int) -> None:
        self.problem(
            "unsupported_tag", "merge keys ('<<') are not supported: write the keys out", mark, "<<"
        )
        self.discard(self.next_event(), depth + 1)

    def key_text(self, event: Any) -> str | None:
        """The text of a mapping key that is not a scalar: an alias of one; None otherwise."""
        kind = event.__class__
        if kind is AliasEvent:
            anchored = self.anchors.get(event.anchor)
            if anchored is not None and anchored.text is not None:
                return anchored.text
        return None

    def duplicate(self, key: str, slot: int, written: Written, mark: Any) -> None:
        first = next(key_slot for name, key_slot, _ in written if name == key)
        line, _ = self.positions.line_column(self.text, self.positions.start(slot + first))
        shown = "a key that looks like a credential" if credential_kind(key) else quote(key)
        self.problem(
            "duplicate_key",
            f"duplicate key {shown} (first written at line {line});"
            " YAML would silently keep only the last",
            mark,
            key,
        )

    def discard(self, event: Any, depth: int) -> None:
        """Read one node's events for what the data will not hold (its anchors still count).

        Its slots stay where they are, unused: the mapping holding it keeps its pairs as written.
        """
        self.quiet += 1
        try:
            self.node(event, depth)
        finally:
            self.quiet -= 1

    def scalar(self, event: Any) -> Any:
        text: str = event.value
        tag = event.tag
        if tag is not None and tag != "!" and tag != STR_TAG:
            self.problem(
                "unsupported_tag", f"unsupported YAML tag {_shown_tag(tag)}", event.start_mark
            )
            return text
        if event.style:  # quoted or block scalar: text as written ('' / None when plain)
            return text
        if not text:
            return None
        if text[0].isdigit() or text[0] in "+-.":
            return self.number(event, text)
        if text in PLAIN_CONSTANTS:
            return PLAIN_CONSTANTS[text]
        return text

    def number(self, event: Any, text: str) -> Any:
        """A plain scalar that starts like a number: int, float, or the text (a trap, a date)."""
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
                event.start_mark,
            )
            return text
        if floating.match(text):
            if "." not in text and "e" in text.lower():
                self.problem(
                    "yaml_trap",
                    "this value is ambiguous: YAML 1.2 reads it as a number, YAML 1.1 as"
                    " text; quote it, or write the number out",
                    event.start_mark,
                )
            return float(text)
        return SPECIAL_FLOAT.get(text.lower(), text)


def _verbatim(value: str, style: str | None, start: Any, end: Any) -> bool:
    """Whether the scalar between the marks is ``value`` as written, character for character.

    Only a scalar on one line can be: a plain one always is, a quoted one when
    it holds no escape (each escape is longer than what it stands for).
    """
    if start.line != end.line:
        return False
    span: int = end.index - start.index
    if not style:
        return span == len(value)
    return style in "'\"" and span - 2 == len(value)


def _shown_tag(tag: str) -> str:
    return "(not shown: it looks like a credential)" if credential_kind(tag) else quote(tag)


def _yaml11_value(text: str) -> str:
    """What YAML 1.1 would read ``text`` as (for the message only)."""
    try:
        return str(yaml.load(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError:  # pragma: no cover - defensive
        return "a number"

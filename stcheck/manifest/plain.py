"""The loader's fast path: the data of a *plain* document, without building its positions.

Most manifests are plain: block mappings and lists of text, decimal
integers, dates, booleans and nulls, no anchors, aliases, tags, merge keys,
duplicate keys or anything else :class:`~stcheck.manifest.construct.Constructor`
would report. For those, :func:`build` makes the same data and the same
``decoded`` strings from the parser's events as the constructor, doing only
what the data needs per event: no position slots, no JSON path, no marks read
except for the rare scalar that may not be written verbatim. Positions are
needed only when something is located (a finding); the loader then reads the
events again through the constructor, on first need
(:meth:`~stcheck.manifest.locate.Positions.ready`).

At the first event that is not plain :func:`build` raises :class:`NotPlain`,
and the loader starts over with the constructor: the fast path never decides
anything the constructor would decide differently (tests/test_manifest_loading.py
compares both on generated documents).
"""

from __future__ import annotations

from array import array
from typing import Any

from yaml.events import (
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)

from stcheck.manifest.construct import MAX_DEPTH, PLAIN_CONSTANTS
from stcheck.manifest.model import DATE_FIELDS, MAX_TENANT_ID

# Keys whose values the schema check's pass over dates and tenant IDs looks at.
WATCHED = DATE_FIELDS | {"tenant_id"}
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


class NotPlain(Exception):
    """The document holds something only the constructor builds (or reports)."""


def plain_text(text: str) -> bool:
    """Whether :func:`build` may be tried on ``text``: no LS or PS line break in it.

    libyaml folds a plain scalar's line break into a space (LF, CR, CRLF, NEL) or
    keeps it (LS, PS); without LS and PS a plain scalar whose value holds no space
    and no LF was written on one line, verbatim, and its marks need not be read.
    """
    return text.isascii() or ("\u2028" not in text and "\u2029" not in text)


def is_calendar_date(text: str) -> bool:
    """YYYY-MM-DD names a real day (without importing datetime on the validate path)."""
    year, month, day = text[:4], text[5:7], text[8:]
    if not (year.isdigit() and month.isdigit() and day.isdigit()) or text[4] + text[7] != "--":
        return False
    y, m, d = int(year), int(month), int(day)
    if not 1 <= m <= 12 or d < 1:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return d <= _DAYS_IN_MONTH[m - 1] + (1 if m == 2 and leap else 0)


class Plain:
    """Builds a plain document's data from its events (see the module docstring).

    ``decoded`` are the strings the text does not hold as written, in the
    constructor's order; ``suspect`` is False when no date field and no tenant
    ID can hold what the schema check's pass over them reports (a date that is
    not a real day, a tenant ID beyond 64 bits): that pass may then be skipped.
    """

    def __init__(self, next_event: Any) -> None:
        self.next_event = next_event
        self.keys: dict[str, str] = {}  # plain keys seen, verbatim by rule: one str per text
        self.decoded: list[str] = []
        self.suspect = False
        self.days: dict[str, bool] = {}  # date text → a real day
        # Where each tenant starts (the items of the root's ``tenants`` list, or of the root list
        # of a tenants file): the ``unique`` check locates every tenant of a run of several files.
        self.tenant_starts = array("i")

    def root(self, event: Any) -> Any:
        if event.__class__ is MappingStartEvent and event.tag is None and event.anchor is None:
            return self.mapping(1)
        if event.__class__ is SequenceStartEvent and event.tag is None and event.anchor is None:
            return self.sequence(1, self.tenant_starts)
        raise NotPlain

    def mapping(self, depth: int) -> dict[str, Any]:
        """A mapping's values, up to its end event. Hot: most of a manifest is read here."""
        result: dict[str, Any] = {}
        next_event = self.next_event
        keys = self.keys
        while True:
            event = next_event()
            kind = event.__class__
            if kind is ScalarEvent:
                key = keys.get(event.value)
                if key is None or event.style or event.tag is not None or event.anchor is not None:
                    key = self.new_key(event)
            elif kind is MappingEndEvent:
                return result
            else:
                raise NotPlain  # a key that is not text, or an alias of one
            if key in result:
                raise NotPlain  # a duplicate key: the constructor names the first one's line
            event = next_event()
            kind = event.__class__
            if kind is ScalarEvent:
                if event.tag is not None or event.anchor is not None:
                    raise NotPlain
                value = event.value
                if event.style:
                    result[key] = self.quoted(event, value)
                    if key in WATCHED:
                        self.watch(key, value)
                    continue
                if not value or " " in value or "\n" in value:
                    self.spaced(event)
                    if not value:
                        result[key] = None
                        continue
                first = value[0]
                if not (first.isdigit() or first in "+-."):
                    if value in PLAIN_CONSTANTS:
                        result[key] = PLAIN_CONSTANTS[value]
                        continue
                    result[key] = value
                    if key in WATCHED:
                        self.watch(key, value)
                    continue
                if len(value) <= 20 and first.isascii():
                    if value.isdigit() and value.isascii():
                        if first != "0" or len(value) == 1:
                            result[key] = int(value)
                            continue
                    elif len(value) == 10 and value[4] == "-" and value[7] == "-":
                        result[key] = value
                        if key in WATCHED:
                            self.watch(key, value)
                        continue
                raise NotPlain  # a number or a trap: the constructor reads (and reports) it
            if kind is MappingStartEvent:
                if depth >= MAX_DEPTH or event.tag is not None or event.anchor is not None:
                    raise NotPlain
                result[key] = self.mapping(depth + 1)
            elif kind is SequenceStartEvent:
                if depth >= MAX_DEPTH or event.tag is not None or event.anchor is not None:
                    raise NotPlain
                starts = self.tenant_starts if depth == 1 and key == "tenants" else None
                result[key] = self.sequence(depth + 1, starts)
            else:
                raise NotPlain  # an alias

    def sequence(self, depth: int, starts: array[int] | None = None) -> list[Any]:
        """A list's items, up to its end event; with ``starts``, where each item starts."""
        items: list[Any] = []
        next_event = self.next_event
        while True:
            event = next_event()
            kind = event.__class__
            if kind is SequenceEndEvent:
                return items
            if starts is not None:
                starts.append(event.start_mark.index)
            if kind is ScalarEvent:
                if event.tag is not None or event.anchor is not None:
                    raise NotPlain
                value = event.value
                if event.style:
                    items.append(self.quoted(event, value))
                    continue
                if not value or " " in value or "\n" in value:
                    self.spaced(event)
                first = value[:1]
                if first and (first.isdigit() or first in "+-."):
                    raise NotPlain  # a number or a trap: the constructor reads (and reports) it
                items.append(PLAIN_CONSTANTS.get(value, value))
            elif kind is MappingStartEvent or kind is SequenceStartEvent:
                if depth >= MAX_DEPTH or event.tag is not None or event.anchor is not None:
                    raise NotPlain
                if kind is MappingStartEvent:
                    items.append(self.mapping(depth + 1))
                else:
                    items.append(self.sequence(depth + 1))
            else:
                raise NotPlain  # an alias

    def new_key(self, event: Any) -> str:
        """A key not seen before as plain text (or quoted, tagged, anchored: not plain)."""
        if event.tag is not None or event.anchor is not None:
            raise NotPlain
        text: str = event.value
        start, end = event.start_mark, event.end_mark
        if event.style:
            quoted = event.style in "'\"" and _span(event) - 2 == len(text)
            if not (start.line == end.line and quoted):
                self.decoded.append(text)
            return self.keys.get(text, text)
        if text == "<<":
            raise NotPlain  # a merge key
        if start.line != end.line or _span(event) != len(text):
            self.decoded.append(text)
            return self.keys.get(text, text)
        if text and " " not in text and "\n" not in text:
            self.keys[text] = text  # plain, one line, no space: verbatim wherever it is written
        return self.keys.get(text, text)

    def quoted(self, event: Any, value: str) -> str:
        """A quoted or block scalar: its text; learnt for the redactor if not written verbatim."""
        start, end = event.start_mark, event.end_mark
        style = event.style
        one_line = start.line == end.line and (style == "'" or style == '"')
        if not one_line or end.index - start.index - 2 != len(value):
            self.decoded.append(value)
        return value

    def spaced(self, event: Any) -> None:
        """A plain scalar that may span lines (empty, or holding a space or LF): its marks say."""
        start, end = event.start_mark, event.end_mark
        if start.line != end.line or end.index - start.index != len(event.value):
            self.decoded.append(event.value)

    def watch(self, key: str, value: str) -> None:
        """A date field's or tenant ID's text: suspect if the schema check's pass may report it."""
        if key == "tenant_id":
            digits = value.isascii() and value.isdigit() and not value.startswith("0")
            if digits and (len(value) > 19 or int(value) > MAX_TENANT_ID):
                self.suspect = True
            return
        if len(value) == 10:
            real = self.days.get(value)
            if real is None:
                real = self.days[value] = is_calendar_date(value)
            if not real:
                self.suspect = True


def _span(event: Any) -> int:
    span: int = event.end_mark.index - event.start_mark.index
    return span


def index(next_event: Any, root: Any, slots: array[int]) -> None:
    """Write the slots of a plain document (``root`` and the events after it) into ``slots``,
    as :class:`~stcheck.manifest.construct.Constructor` writes them (see
    :mod:`~stcheck.manifest.locate`): a plain document repeats no key and drops no pair, so
    its positions follow from the events alone, without building the data again."""
    extend = slots.extend

    def node(event: Any) -> None:
        key: Any
        item: Any
        start: int = event.start_mark.index
        end_mark: Any = event.end_mark
        if event.__class__ is ScalarEvent:
            extend((start, end_mark.index, 1))
            return
        slot = len(slots) // 3
        extend((start, start, 1))
        end: Any
        if event.__class__ is MappingStartEvent:
            while (key := next_event()).__class__ is not MappingEndEvent:
                extend((key.start_mark.index, key.end_mark.index, 0))
                node(next_event())
            end = key
        else:
            while (item := next_event()).__class__ is not SequenceEndEvent:
                node(item)
            end = item
        slots[3 * slot + 1] = end.end_mark.index
        slots[3 * slot + 2] = len(slots) // 3 - slot

    node(root)

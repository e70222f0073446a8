"""Composed YAML nodes to plain values, with YAML 1.2 core rules and YAML's traps reported.

Every scalar arrives as the text written. Here ``no``/``on`` stay strings,
dates stay the text written, and what YAML 1.1 would have read differently
(``0123`` as octal 83, ``1:30`` as 90, ``0x1F``) is reported, along with
duplicate keys, merge keys, unsupported tags, alias bombs and absurd nesting.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

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


class Constructor:
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
            raise Abort("too_deep", f"the document nests deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, ScalarNode):
            return self.scalar(node)
        # An alias re-visits a node composed once: count what it would expand to.
        if id(node) in self.seen:
            self.expanded += _size(node)
            if self.expanded > MAX_ALIAS_EXPANSION:
                raise Abort(
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
        if text[0].isdigit() or text[0] in "+-.":
            return self.number(node, text)
        if text in PLAIN_CONSTANTS:
            return PLAIN_CONSTANTS[text]
        return text

    def number(self, node: ScalarNode, text: str) -> Any:
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
        return SPECIAL_FLOAT.get(text.lower(), text)


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


class Abort(Exception):
    """Loading stops here: the document is too deep or its aliases expand too far."""

    def __init__(self, reason: str, message: str, node: Node) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.node = node

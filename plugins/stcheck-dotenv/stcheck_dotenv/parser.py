"""A small ``.env`` parser: ``NAME=VALUE`` lines, no dependency, no variable expansion.

What it reads::

    # a comment line
    GP_CLIENT_ID=cid.abc123            # unquoted: a '#' after a blank starts a comment
    export GP_CLIENT_SECRET='cs1.x#y'   # 'export ' prefix; single quotes are literal
    GREETING="two\\nlines"             # double quotes: \\n \\t \\r \\" \\\\ \\$ escapes
    PEM="-----BEGIN...
    ...END-----"                        # a quoted value may span lines

Blank lines and ``#`` comments are skipped. ``${VAR}`` is *not* expanded: the
value is the text written. A line that is not an assignment is recorded by
line number (never by content — it may hold a secret) and skipped. A name
defined twice keeps its last value, as a shell would; the line numbers of every
definition are kept so callers can warn about it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)[ \t]*=(.*)\Z", re.DOTALL)
INLINE_COMMENT = re.compile(r"\s#")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "$": "$"}


@dataclass
class Dotenv:
    """A parsed ``.env`` file: the values, where each name is defined, and the lines skipped."""

    values: dict[str, str] = field(default_factory=dict)
    defined_at: dict[str, list[int]] = field(default_factory=dict)
    malformed: list[int] = field(default_factory=list)


def _closing(body: str, quote: str) -> int:
    """Index of the quote closing ``body`` (which follows an opening quote), or -1."""
    if quote == "'":
        return body.find("'")
    index = 0
    while index < len(body):
        char = body[index]
        if char == "\\":
            index += 2
            continue
        if char == '"':
            return index
        index += 1
    return -1


def _unescape(text: str) -> str:
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            following = text[index + 1]
            out.append(ESCAPES.get(following, "\\" + following))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)


def parse(text: str) -> Dotenv:
    """Parse the text of a ``.env`` file."""
    result = Dotenv()
    lines = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    index = 0
    while index < len(lines):
        number = index + 1
        line = lines[index]
        index += 1
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        match = ASSIGNMENT.match(line)
        if match is None:
            result.malformed.append(number)
            continue
        name, raw = match.groups()
        if raw.lstrip()[:1] in ("'", '"'):
            raw = raw.lstrip()
            quote, body = raw[0], raw[1:]
            end = _closing(body, quote)
            following = index
            while end < 0 and following < len(lines):  # a quoted value may span lines
                body += "\n" + lines[following]
                following += 1
                end = _closing(body, quote)
            tail = body[end + 1 :].strip() if end >= 0 else ""
            if end < 0 or (tail and not tail.startswith("#")):
                result.malformed.append(number)  # unterminated: go on with the next line
                continue
            index = following
            value = body[:end] if quote == "'" else _unescape(body[:end])
        else:
            value = INLINE_COMMENT.split(raw, maxsplit=1)[0].strip()
        result.values[name] = value
        result.defined_at.setdefault(name, []).append(number)
    return result

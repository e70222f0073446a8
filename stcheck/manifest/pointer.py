"""JSON pointers (RFC 6901) into the manifest: the one place they are built and taken apart.

A result's location names the value it is about by pointer,
``/tenants/0/environments/production/client_id``. Keys come from the
manifest, so a key may hold ``/`` or ``~``: in a pointer ``~`` is written
``~0`` and ``/`` is written ``~1``, and reading reverses it in the other
order (``~1`` first), so ``~01`` reads back as ``~1``, not ``/``.
"""

from __future__ import annotations

from collections.abc import Iterable

Segment = str | int


def escape(segment: Segment) -> str:
    """One reference token: ``a/b~c`` is ``a~1b~0c``; list indexes are written as digits."""
    text = str(segment)
    if "~" not in text and "/" not in text:
        return text
    return text.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """The key one reference token names: ``a~1b~0c`` is ``a/b~c``."""
    if "~" not in token:
        return token
    return token.replace("~1", "/").replace("~0", "~")


def join(path: Iterable[Segment]) -> str:
    """The pointer of ``path``, a sequence of keys and list indexes (``()`` is ``""``)."""
    return "".join("/" + escape(segment) for segment in path)


def child(pointer: str, *segments: Segment) -> str:
    """``pointer`` extended by ``segments``: ``child("/tenants", 0, "name")``."""
    return pointer + join(segments)


def split(pointer: str) -> list[str]:
    """The keys ``pointer`` names, unescaped, as text (``""`` is the whole document: ``[]``).

    Lenient: a pointer without a leading ``/`` (a plugin's mistake) reads as if it had one.
    """
    if not pointer:
        return []
    tokens = pointer.split("/")
    return [unescape(token) for token in (tokens[1:] if tokens[0] == "" else tokens)]


def path(pointer: str) -> list[Segment]:
    """Like :func:`split`, with the tokens that are all ASCII digits as list indexes."""
    return [int(key) if key.isascii() and key.isdigit() else key for key in split(pointer)]


def parent(pointer: str) -> str:
    """The pointer of the collection holding what ``pointer`` names (``""`` for the document)."""
    return pointer.rpartition("/")[0]


def tenant_index(pointer: str) -> int | None:
    """N when ``pointer`` is ``/tenants/N`` or below it, else None."""
    keys = split(pointer)
    if len(keys) >= 2 and keys[0] == "tenants" and keys[1].isascii() and keys[1].isdigit():
        return int(keys[1])
    return None

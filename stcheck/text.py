"""Manifest text made fit to echo in a message: quoted, shortened, without control characters.

Anything the manifest controls is attacker input, and messages quote some of
it back — tenant names, keys, environment and scheme names, attestation keys.
:func:`shown` is the one way they are quoted: a 15 MB tenant name must not
become 60 MB of output, and a name must not move the terminal's cursor.
"""

from __future__ import annotations

SHOWN_CHARS = 64


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``value`` quoted as Python's ``repr`` quotes text, at most ``limit`` characters of it.

    ``repr`` writes control characters, bidirectional overrides and other
    unprintable characters as escapes (``\\x1b``, ``\\u202e``), so the result
    is one printable line. Longer text is cut, with ``…`` and its full length:
    ``'aaaa…' (15,728,640 characters)``.
    """
    text = value if isinstance(value, str) else str(value)
    if len(text) <= limit:
        return repr(text)
    quoted = repr(text[:limit])
    return f"{quoted[:-1]}…{quoted[-1]} ({len(text):,} characters)"


def clipped(value: object, limit: int = SHOWN_CHARS) -> str:
    """Like :func:`shown`, without the quotes: for names that read as words (environments)."""
    text = value if isinstance(value, str) else str(value)
    if text.isprintable() and len(text) <= limit:
        return text
    quoted = shown(text, limit)
    cut = quoted.rfind(quoted[0], 1)
    return quoted[1:cut] + quoted[cut + 1 :]


def shortened(text: str | None, limit: int) -> str | None:
    """``text`` cut to at most ``limit`` characters ending ``… (N characters)``, if longer.

    The result is never longer than ``limit``, so shortening twice changes
    nothing. For fields that renderers escape themselves (they keep line breaks).
    """
    if text is None or len(text) <= limit:
        return text
    suffix = f"… ({len(text):,} characters)"
    return text[: max(0, limit - len(suffix))] + suffix


def bound_fields(instance: object, limits: dict[str, int]) -> None:
    """Shorten the text fields of a frozen dataclass ``instance`` in place (from __post_init__)."""
    for name, limit in limits.items():
        value = getattr(instance, name)
        if isinstance(value, str) and len(value) > limit:
            object.__setattr__(instance, name, shortened(value, limit))

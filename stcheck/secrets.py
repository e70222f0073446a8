"""Recognising credential-shaped text, and redacting it from everything stcheck writes.

Two layers: checks never put a secret into a message (they name references,
not values), and the CLI passes every byte it writes through a
:class:`Redactor` that masks credential shapes and the exact values resolved
during the run. The second layer is the safety net for the first.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter

REDACTED = "[REDACTED]"

# Shapes of ServiceTitan credentials seen in the wild (cid./cs1./ak1.) and JWTs.
SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a ServiceTitan client ID", re.compile(r"\bcid\.[A-Za-z0-9]{16,}")),
    ("a ServiceTitan client secret", re.compile(r"\bcs[0-9]\.[A-Za-z0-9]{16,}")),
    ("a ServiceTitan app key", re.compile(r"\bak[0-9]\.[A-Za-z0-9]{16,}")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")),
    ("a bearer token", re.compile(r"\b[Bb]earer\s+[A-Za-z0-9._~+/=-]{16,}")),
)
_ANY_SHAPE = re.compile("|".join(f"(?:{pattern.pattern})" for _, pattern in SHAPES))
_TOKENISH = re.compile(r"[A-Za-z0-9+/=_.~-]{24,}")
_NAME_LIKE = re.compile(r"[A-Za-z0-9_]*\Z")
_WORD_SEPARATORS = re.compile(r"[/._~+=-]+")


def entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def high_entropy(text: str) -> bool:
    """True for long, random-looking strings without spaces (API keys, passwords, tokens)."""
    if len(text) < 24 or not _TOKENISH.fullmatch(text):
        return False
    if all(_word_like(part) for part in _WORD_SEPARATORS.split(text) if part):
        return False  # words and numbers joined by separators: a path, a name, a slug
    classes = sum(
        (
            any(c.islower() for c in text),
            any(c.isupper() for c in text),
            any(c.isdigit() for c in text),
        )
    )
    if classes < 2:
        return False
    if _NAME_LIKE.fullmatch(text) and (text.isupper() or text.islower()) and "_" in text:
        return False  # ENVIRONMENT_VARIABLE_NAMES and snake_case words
    threshold = 3.5 if len(text) < 40 else 3.2
    return entropy(text) >= threshold


def _word_like(part: str) -> bool:
    """A word, a number, or a short lowercase token like ``v1`` — not a random run."""
    return part.isalpha() or part.isdigit() or (len(part) <= 3 and part.islower())


def credential_kind(text: str) -> str | None:
    """What ``text`` looks like if it looks like a credential, else None. Never echoes it."""
    for name, pattern in SHAPES:
        if pattern.search(text):
            return name
    if high_entropy(text):
        return "a high-entropy string (a key, password or token)"
    return None


_CANDIDATE = re.compile(r"[A-Za-z0-9+/=_.~-]{16,}")


def scan_text(text: str) -> list[tuple[int, str, str]]:
    """(offset, kind, text) of each credential-shaped run: in values, keys and comments alike."""
    found: list[tuple[int, str, str]] = []
    for match in _CANDIDATE.finditer(text):
        candidate = match.group()
        kind = None
        if "." in candidate:
            for name, pattern in SHAPES:
                if pattern.search(candidate):
                    kind = name
                    break
        if kind is None and len(candidate) >= 24 and high_entropy(candidate):
            kind = "a high-entropy string (a key, password or token)"
        if kind is not None:
            found.append((match.start(), kind, candidate))
    return found


class Redactor:
    """Masks credential shapes and every secret value registered during the run.

    Thread-safe: resolvers register values from worker threads.
    """

    def __init__(self) -> None:
        self._values: set[str] = set()
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        value = value.strip()
        if len(value) >= 4:
            with self._lock:
                self._values.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            values = sorted(self._values, key=len, reverse=True)
        for value in values:
            if value in text:
                text = text.replace(value, REDACTED)
        return _ANY_SHAPE.sub(REDACTED, text)

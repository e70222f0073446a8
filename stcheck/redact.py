"""Recognising credential-shaped text, and redacting it from everything stcheck writes.

Three layers: checks never put a secret into a message (they name references,
not values); text from outside the manifest (server answers, exception text,
plugin output) is scrubbed against the values resolved during the run where it
enters (:mod:`stcheck.scrubber`, reached as :attr:`Redactor.secrets`); and the
CLI passes every byte it writes through a :class:`Redactor` that masks
credential shapes and the credential-shaped strings the manifests hold. The
last layer depends on the text alone, never on a secret's value, so it cannot
be used as an oracle. :func:`shown_scheme` decides whether the part before the
colon of a credential field may be named in a message.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator

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
_SHAPE_LITERALS = ("cid.", "eyJ", "earer")
_SHAPE_PREFIXES = (re.compile(r"cs[0-9]\."), re.compile(r"ak[0-9]\."))
"""What each of :data:`SHAPES` cannot match without: ``cid.``, ``cs1.``, ``ak1.``, ``eyJ`` and
``[Bb]earer``. Plain substring and literal-prefix searches run at memory speed, while the
shapes' leading word boundary makes the regex engine try every position (about 1 s for a
10,000-tenant JSON report that holds none of them)."""
_TOKENISH = re.compile(r"[A-Za-z0-9+/=_.~-]{24,}")
_NAME_LIKE = re.compile(r"[A-Za-z0-9_]*\Z")
_WORD_SEPARATORS = re.compile(r"[/._~+=-]+")
_DIGIT = re.compile("[0-9]")


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
    # ASCII from here (the pattern's class): case and digits are tested on the whole string.
    lower, upper = text.lower(), text.upper()
    if _NAME_LIKE.fullmatch(text) and text in (lower, upper) and "_" in text:
        return False  # ENVIRONMENT_VARIABLE_NAMES and snake_case words
    if all(_word_like(part) for part in _WORD_SEPARATORS.split(text) if part):
        return False  # words and numbers joined by separators: a path, a name, a slug
    classes = (text != upper) + (text != lower) + (_DIGIT.search(text) is not None)
    if classes < 2:
        return False
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
_TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_.~-")
# ASCII bytes with each token character as "a" and any other as " ": runs found by bytes.find
_AS_RUNS = bytes(ord("a") if chr(code) in _TOKEN_CHARS else ord(" ") for code in range(256))
_LONG_RUN = b"a" * 16


def _candidates(text: str) -> Iterator[tuple[int, str]]:
    """(offset, run) of each maximal run of 16 or more token characters (:data:`_CANDIDATE`)
    that :func:`scan_text` looks at: 24 or more characters, or holding a dot.

    For ASCII text, through a translated copy of its bytes and substring searches: the regex
    retries at every character of every shorter run, and ``str.translate`` looks every
    character up in a dict (a 6 MB manifest: ~80 ms and ~40 ms, against ~25 ms).
    """
    if not text.isascii():
        for match in _CANDIDATE.finditer(text):
            run = match.group()
            if len(run) >= 24 or "." in run:
                yield match.start(), run
        return
    marked = text.encode("ascii").translate(_AS_RUNS)
    find = marked.find
    dot = text.find
    start = find(_LONG_RUN)
    while start != -1:
        end = find(b" ", start + 16)
        if end == -1:
            end = len(marked)
        if end - start >= 24 or dot(".", start, end) != -1:
            yield start, text[start:end]
        start = find(_LONG_RUN, end)


def _name_like(run: str) -> bool:
    """An ENVIRONMENT_VARIABLE_NAME: what :func:`high_entropy` says no to first, said cheaply."""
    return "_" in run and run.isupper() and run.replace("_", "").isalnum()


def scan_text(text: str) -> list[tuple[int, str, str]]:
    """(offset, kind, text) of each credential-shaped run: in values, keys and comments alike."""
    found: list[tuple[int, str, str]] = []
    for offset, candidate in _candidates(text):
        # a run shorter than 24 is too short to be high-entropy, and every shape has a dot
        kind = None
        if "." in candidate:
            for name, pattern in SHAPES:
                if pattern.search(candidate):
                    kind = name
                    break
        if (
            kind is None
            and len(candidate) >= 24
            and not _name_like(candidate)
            and high_entropy(candidate)
        ):
            kind = "a high-entropy string (a key, password or token)"
        if kind is not None:
            found.append((offset, kind, candidate))
    return found


REDACT_MIN = 8
"""The shortest value the :class:`Redactor` registers, and the fragment length it masks.

A shorter value cannot be masked without corrupting output: a secret ``true``
turned ``"builtin": true`` into ``"builtin": [REDACTED]`` (invalid JSON), and
masking every ``2024`` or ``prod`` would also point at the secret. No
ServiceTitan credential is that short, and the checks never put a value into a
message anyway — the redactor is the safety net, not the first layer.
"""

_RUN = re.compile(rf"[A-Za-z0-9+/=_.~-]{{{REDACT_MIN},}}")
"""A token-like run: the characters of keys, secrets, tokens and base64 (and of paths)."""


_PROBE = 5
_STRIDE = REDACT_MIN - _PROBE + 1
"""A run is probed with its 5-grams at every 4th offset: any 8-character window holds one."""


def _grams(value: str, size: int) -> set[str]:
    """Every ``size``-character window of ``value``'s token-like runs.

    A window holding another character can never lie inside a token-like run
    of the text, so only windows of runs are kept.
    """
    found: set[str] = set()
    for match in _RUN.finditer(value):
        run = match.group()
        found.update(run[i : i + size] for i in range(len(run) - size + 1))
    return found


class Redactor:
    """The last pass over every byte written: credential shapes and the manifests' own secrets.

    Values registered with :meth:`add` are the credential-shaped strings found
    in the manifests' text (never a value resolved during the run: those go to
    :attr:`secrets`, which scrubs outside text where it enters; masking echoes
    of manifest text by resolved values would tell a pull request which of its
    guesses match a secret). Three nets, in order:

    1. a registered value that is not one token-like run (it holds a space, a
       colon, ...) is replaced wherever it occurs;
    2. every token-like run of the text (``[A-Za-z0-9+/=_.~-]``, 8 or more)
       that shares an 8-character window with a registered value is replaced
       whole: the value itself, and any fragment of 8 or more characters of it
       a server echoed (``cs1.rydqpupgot...``), with whatever it is glued to;
    3. credential shapes (:data:`SHAPES`) are replaced wherever they occur.

    Values shorter than :data:`REDACT_MIN` are not registered (see there).
    The windows of all values form one set, so the cost grows with the text,
    not with the number of values: with 4,000 registered 50-character secrets,
    about 35 ms for a 5,000-tenant markdown report (1 MB) and 65 ms for 6,000
    long result lines (1.2 MB), a third of it the shape patterns
    (``python tests/test_redactor.py`` measures it). Thread-safe: resolvers
    register values from worker threads while the CLI may be writing progress.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        from stcheck.scrubber import SecretScrubber

        self.secrets = SecretScrubber()
        """The values resolved during the run, and the scrubbing of outside text against them."""
        self._values: set[str] = set()
        self._literal: list[str] = []  # values that are not one token-like run, longest first
        self._windows: set[str] = set()  # every 8-character window of every value
        self._probes: set[str] = set()  # every 5-character window: the cheap first look
        self._lock = threading.Lock()
        for value in values:
            self.add(value)

    def add(self, value: str) -> None:
        """Mask ``value`` (stripped) and its fragments from now on; ignored when shorter than 8."""
        value = value.strip()
        if len(value) < REDACT_MIN:
            return
        windows = _grams(value, REDACT_MIN)
        probes = _grams(value, _PROBE)
        with self._lock:
            if value in self._values:
                return
            self._values.add(value)
            self._windows |= windows
            self._probes |= probes
            if not _RUN.fullmatch(value):
                self._literal.append(value)
                self._literal.sort(key=len, reverse=True)

    def add_secret(self, value: str) -> None:
        """A value resolved during the run (a secret, an app key, a token): see :attr:`secrets`."""
        self.secrets.add(value)

    def __call__(self, text: str) -> str:
        with self._lock:
            for value in self._literal:
                if value in text:
                    text = text.replace(value, REDACTED)
            if self._windows:
                text = _mask_runs(text, self._windows, self._probes)
        return mask_shapes(text)


def mask_shapes(text: str) -> str:
    """``text`` with every credential shape (:data:`SHAPES`) replaced; the same as
    ``_ANY_SHAPE.sub`` on any text, but a text that holds none of the shapes' literal parts
    (:data:`_SHAPE_LITERALS`, :data:`_SHAPE_PREFIXES`) is returned without running it."""
    if any(literal in text for literal in _SHAPE_LITERALS) or any(
        prefix.search(text) for prefix in _SHAPE_PREFIXES
    ):
        return _ANY_SHAPE.sub(REDACTED, text)
    return text


@functools.lru_cache(maxsize=4096)
def _probe_slices(length: int) -> tuple[slice, ...]:
    return tuple(slice(at, at + _PROBE) for at in range(0, length - _PROBE + 1, _STRIDE))


def _mask_runs(text: str, windows: set[str], probes: set[str]) -> str:
    """``text`` with each token-like run that holds one of ``windows`` replaced whole.

    Each distinct run is probed with its 5-grams at offsets 0, 4, 8, ...: an
    8-character window at offset ``p`` holds the probe at the first multiple
    of 4 from ``p``, so a run with no known probe holds no window (nearly every
    run, at a quarter of the lookups). Near a known probe, the 8-character
    windows that hold it are looked up.
    """
    hits: set[str] = set()
    for run in set(_RUN.findall(text)):
        if probes.isdisjoint(map(run.__getitem__, _probe_slices(len(run)))):
            continue
        starts = range(0, len(run) - _PROBE + 1, _STRIDE)
        last = len(run) - REDACT_MIN
        if any(
            run[start : start + REDACT_MIN] in windows
            for at in starts
            if run[at : at + _PROBE] in probes
            for start in range(max(0, at - _STRIDE + 1), min(at, last) + 1)
        ):
            hits.add(run)
    if not hits:
        return text
    return _RUN.sub(lambda match: REDACTED if match.group() in hits else match.group(), text)


WELL_KNOWN_SCHEMES = frozenset(
    {
        "vault",
        "aws-sm",
        "awssm",
        "gcp-sm",
        "azure-kv",
        "op",
        "sops",
        "doppler",
        "dotenv",
        "keyring",
        "k8s",
    }
)
"""Secret-manager reference schemes a manifest may name without a plugin for them loaded."""

_SCHEME_NAME = re.compile(r"[a-z][a-z0-9+.-]{0,11}\Z")


def suggested_scheme(scheme: str, known: Iterable[str]) -> str | None:
    """The known scheme ``scheme`` is probably a typo of (``evn`` → ``env``), else None.

    Close per :func:`difflib.get_close_matches` (cutoff 0.6) and at most two
    characters longer or shorter. Only worth saying when :func:`shown_scheme`
    shows ``scheme``.
    """
    import difflib  # only for a typo'd scheme

    candidates = sorted(name for name in known if abs(len(name) - len(scheme)) <= 2)
    matches = difflib.get_close_matches(scheme, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def shown_scheme(scheme: str, known: Iterable[str]) -> str | None:
    """``scheme`` if a message may show it, else None (say "an unknown reference scheme").

    The part before the colon of a credential field is not always a scheme:
    ``mypassword:Summer2024`` is a password. It is shown only when it is a
    known scheme, a well-known secret-manager scheme (:data:`WELL_KNOWN_SCHEMES`),
    or a short scheme-shaped name close to a known one (a typo such as ``evn``;
    see :func:`suggested_scheme`).
    """
    known = list(known)
    if scheme in known or scheme in WELL_KNOWN_SCHEMES:
        return scheme
    if not _SCHEME_NAME.match(scheme) or credential_kind(scheme) is not None:
        return None
    return scheme if suggested_scheme(scheme, known) is not None else None

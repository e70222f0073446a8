"""Masking secrets in text that comes from outside the manifest — without becoming an oracle.

Where redaction acts, and where it must not:

- **Text the manifest wrote** (references, paths, names, keys) is echoed as
  written, masked only by *shape* (:class:`stcheck.redact.Redactor`: ``cid.``,
  ``cs1.``, ``ak1.``, JWTs and the credential-shaped strings the manifest
  itself holds). Shape masking depends on the text alone, so the same manifest
  text gives the same output whether or not it matches a secret: a pull
  request cannot test guesses against the CI's secrets (the red team's
  62-candidate round recovered a token, one character per round, from an
  earlier design that masked any manifest echo sharing 8 characters with a
  resolved value).
- **Text from outside the manifest** — server answers, exception text,
  resolver messages, plugin output and plugin results — is scrubbed here,
  where it enters, against every value resolved during the run
  (:meth:`SecretScrubber.mask`) or, for server-provided fields, against the
  values sent in that request (:func:`reveals`): case-insensitively, and in
  the URL-encoded, base64 (any alignment, standard or URL-safe) and hex forms
  as well as verbatim.
- A fragment that the manifest itself contains (in any of its strings, in any
  case) never counts as a hit: a server or a plugin echoing what the manifest
  wrote must not make the output depend on whether that text matches a
  secret.

Values that a credential shape already masks (the access tokens, which are
JWTs) are not indexed: the shape masks them wherever they appear.
"""

from __future__ import annotations

import base64
import binascii
import re
import threading
from array import array
from collections import OrderedDict, deque
from collections.abc import Collection, Iterable, Iterator

from stcheck.redact import _ANY_SHAPE, REDACTED

MASK_WINDOW = 8
"""Fragments of this many characters of a resolved value are masked in free text."""

FIELD_WINDOW = 6
"""A server-provided field sharing this many characters with a value sent is not shown."""

_RUN = re.compile(r"[A-Za-z0-9+/=_.~%-]{6,}")
"""A token-like run (and the characters of URL-encoding): masked whole when it holds a hit."""
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]{6,}={0,2}")
_HEX = re.compile(r"[0-9A-Fa-f]{12,}")


def _decodings(text: str) -> Iterator[str]:
    """``text`` lower-cased, and lower-cased decodings of its URL-encoded, base64 and hex parts."""
    yield text.lower()
    if "%" in text or "+" in text:
        from urllib.parse import unquote_plus  # with ipaddress, ~5 ms: not on validate's path

        yield unquote_plus(text).lower()
    for match in _BASE64.finditer(text):
        run = match.group().rstrip("=").replace("-", "+").replace("_", "/")
        for offset in range(4):  # a fragment inside a longer encoding starts at any alignment
            part = run[offset:]
            if len(part) < 6:
                break
            if len(part) % 4 == 1:
                part = part[:-1]
            try:
                raw = base64.b64decode(part + "=" * (-len(part) % 4), validate=True)
            except (binascii.Error, ValueError):
                continue
            yield raw.decode("utf-8", "ignore").lower()
            yield raw.decode("latin-1").lower()
    for match in _HEX.finditer(text):
        run = match.group()
        for offset in (0, 1):
            part = run[offset:]
            part = part[: len(part) - len(part) % 2]
            try:
                yield bytes.fromhex(part).decode("utf-8", "ignore").lower()
            except ValueError:
                continue


class _WindowSet:
    """A set of strings kept as their 64-bit hashes in an open-addressing table.

    About 16 bytes per window instead of ~90 for a ``set`` of ``str``: with
    20,000 resolved values (5,000 tenants), 660,000 windows take ~10 MB, not
    ~60. A hash collision can only make a window a false hit (more masking),
    never a miss; Python's string hash is 64-bit and salted per process.
    """

    def __init__(self) -> None:
        self._slots = array("q", bytes(8 * 1024))
        self._mask = 1023
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def update(self, items: Collection[str]) -> None:
        """Add each of ``items`` (one loop with room made first: a call or a growth test per
        window costs as much as the window)."""
        while (self._count + len(items)) * 2 > self._mask:
            self._grow()
        slots, mask = self._slots, self._mask
        added = 0
        for item in items:
            key = hash(item) or 1
            index = key & mask
            while slot := slots[index]:
                if slot == key:
                    break
                index = (index + 1) & mask
            else:
                slots[index] = key
                added += 1
        self._count += added

    def __contains__(self, item: object) -> bool:
        key = hash(item) or 1
        slots, mask = self._slots, self._mask
        index = key & mask
        while slots[index]:
            if slots[index] == key:
                return True
            index = (index + 1) & mask
        return False

    def members(self, items: Iterable[str]) -> Iterator[str]:
        """The ``items`` in the set (one loop: ``in`` item by item costs a call each)."""
        slots, mask = self._slots, self._mask
        for item in items:
            key = hash(item) or 1
            index = key & mask
            while slot := slots[index]:
                if slot == key:
                    yield item
                    break
                index = (index + 1) & mask

    def _grow(self) -> None:
        old = self._slots
        self._slots = array("q", bytes(16 * len(old)))
        self._mask = 2 * len(old) - 1
        slots, mask = self._slots, self._mask
        for key in old:
            if key:
                index = key & mask
                while slots[index]:
                    index = (index + 1) & mask
                slots[index] = key


_BASE32 = re.compile(r"[A-Z2-7]{8,}=*")
_NOT_ALNUM = re.compile(r"[^0-9A-Za-z]+")


def _variants(text: str) -> Iterator[str]:
    """``text`` and the transformations a server (or a proxy) might apply to what it echoes.

    For server-provided fields, which are withheld whole on a hit: Unicode
    compatibility forms (full-width letters), HTML entities, quoted-printable,
    the text reversed and ROT13, and the text with every separator removed
    (``Zq-7W.m3`` or spaced hex such as ``5a 71 37``), plus base32 runs.
    """
    import codecs  # imported here: validate never scrubs server text
    import html
    import quopri
    import unicodedata

    yield text
    normal = unicodedata.normalize("NFKC", text)
    yield normal
    if "&" in normal:
        yield html.unescape(normal)
    if "=" in normal:
        yield quopri.decodestring(normal.encode("utf-8", "ignore")).decode("latin-1")
    yield normal[::-1]
    yield codecs.encode(normal, "rot13")
    for compact in _compacted(html.unescape(normal)):
        yield compact
        yield compact[::-1]
    for match in _BASE32.finditer(normal.upper()):
        run = match.group().rstrip("=")
        for offset in range(8):
            part = run[offset:]
            part = part[: len(part) - len(part) % 8] if len(part) % 8 else part
            if len(part) < 8:
                break
            try:
                yield base64.b32decode(part).decode("latin-1")
            except (binascii.Error, ValueError):
                continue


_SEP = r"[ .\-_:,;/|]{1,2}"
_SPREAD = tuple(
    re.compile(
        rf"(?<![0-9A-Za-z])(?:[0-9A-Za-z]{{{n}}}{_SEP}){{2,}}[0-9A-Za-z]{{1,{n}}}(?![0-9A-Za-z])"
    )
    for n in range(1, 9)
)
_NOT_ALNUM_RUN = re.compile(r"[^0-9A-Za-z]+")


def _compacted(text: str) -> Iterator[str]:
    """Characters spread out by separators, joined: ``Z q 7 W``, ``5a 71 37`` or
    ``Zq7Wm-3Rt9L-p2Xv8`` — pieces of one size (the last may be shorter). Ordinary
    words joined (``ST-App-Key header``) would match English-looking fragments, so
    uneven pieces are left alone."""
    for pattern in _SPREAD:
        for match in pattern.finditer(text):
            yield _NOT_ALNUM_RUN.sub("", match.group())


def _field_decodings(text: str) -> Iterator[str]:
    """The decodings of every variant of ``text`` (see :func:`_variants`), lower-cased,
    each also reversed (a reversed value, then encoded)."""
    seen: set[str] = set()
    for variant in _variants(text):
        if variant in seen:  # NFKC, unescaping, ... of plain ASCII change nothing
            continue
        seen.add(variant)
        for decoded in _decodings(variant):
            yield decoded
            yield decoded[::-1]


class _Decoded:
    """One server field's decodings (:func:`_field_decodings`), distinct, and their windows.

    Matching a field against the values sent and resolved is then set work:
    the 6-character windows as a set to intersect with a request's grams, the
    8-character ones looked up once each in the resolved values' table.
    """

    __slots__ = ("eight", "hits", "six", "size", "texts", "upto")

    def __init__(self, text: str) -> None:
        texts = tuple(dict.fromkeys(_field_decodings(text)))
        self.texts = texts
        self.six = frozenset(
            d[i : i + FIELD_WINDOW] for d in texts for i in range(len(d) - FIELD_WINDOW + 1)
        )
        self.eight = frozenset(
            d[i : i + MASK_WINDOW] for d in texts for i in range(len(d) - MASK_WINDOW + 1)
        )
        self.size = len(texts) + len(self.six) + len(self.eight)
        self.hits: frozenset[str] = frozenset()
        """The 8-character windows found among the resolved values' when last looked."""
        self.upto = -1
        """How many values had been indexed then (-1: never looked)."""


class _DecodedCache:
    """The decodings of server fields that come up again (scope names, error titles).

    The same few fields arrive in thousands of answers (every token answer
    lists the same scopes); decoding each once saves ~0.3 ms per field. A
    field is kept only the second time it is seen (trace IDs are unique), and
    the whole cache holds at most :attr:`BUDGET` strings (~4 MB).
    """

    BUDGET = 60_000
    LONGEST = 512  # characters of a field worth remembering
    SEEN = 1024  # fields seen once, remembered to spot the second time

    def __init__(self) -> None:
        self._kept: OrderedDict[str, _Decoded] = OrderedDict()
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> _Decoded:
        if len(text) > self.LONGEST:
            return _Decoded(text)
        with self._lock:
            decoded = self._kept.get(text)
            if decoded is not None:
                self._kept.move_to_end(text)
                return decoded
            again = self._seen.pop(text, False) is None
            if not again:
                self._seen[text] = None
                if len(self._seen) > self.SEEN:
                    self._seen.popitem(last=False)
        decoded = _Decoded(text)  # outside the lock: pure, and the costly part
        if again and decoded.size <= self.BUDGET // 16:
            with self._lock:
                if text not in self._kept:
                    self._kept[text] = decoded
                    self._size += decoded.size
                    while self._size > self.BUDGET:
                        _, dropped = self._kept.popitem(last=False)
                        self._size -= dropped.size
        return decoded


def _grams(value: str, size: int) -> set[str]:
    lowered = value.lower()
    return {lowered[i : i + size] for i in range(len(lowered) - size + 1)}


class _ManifestText:
    """Everything the run's manifests say, lower-cased: fragments found here are never hits."""

    KEPT_AS_IS = 4 * 1024 * 1024
    """Characters kept as written; beyond, each manifest's text is kept zlib-compressed (a
    50,000-tenant fleet's text is ~30 MB, and is read only after a server field's hit)."""

    def __init__(self) -> None:
        self._parts: list[str | bytes] = []
        self._kept = 0
        self._blob: str | None = None
        self._seen: dict[str, bool] = {}

    def add(self, text: str) -> None:
        self._kept += len(text)
        if self._kept > self.KEPT_AS_IS:
            import zlib

            self._parts.append(zlib.compress(text.encode("utf-8", "surrogatepass"), 1))
        else:
            self._parts.append(text)
        self._blob = None
        self._seen.clear()

    def _text(self) -> str:
        import zlib

        return "\n".join(
            part
            if isinstance(part, str)
            else zlib.decompress(part).decode("utf-8", "surrogatepass")
            for part in self._parts
        )

    def holds(self, fragment: str) -> bool:
        known = self._seen.get(fragment)
        if known is None:
            if self._blob is None:
                self._blob = self._text().lower()
            known = self._seen[fragment] = fragment in self._blob
        return known

    def holds_run(self, run: str) -> bool:
        """Whether the token-like ``run`` of some text is manifest text, as written.

        Such a run is never decoded and matched: a path written percent-encoded or
        in base64 and echoed back must not become a hit once decoded (that was an
        oracle). Up to 3 characters at either end may be a message's own glue
        (``X.``, ``'X'``), so those are trimmed before looking. Checking the run,
        not the manifest's decodings, keeps this as cheap as a substring test
        (decoding a 6.5 MB manifest took 28 s).
        """
        lowered = run.lower()
        return any(
            self.holds(lowered[head : len(lowered) - tail])
            for head in range(4)
            for tail in range(4)
            if len(lowered) - head - tail >= FIELD_WINDOW
        )


class Sent:
    """The values one request sent, prepared once for :meth:`SecretScrubber.reveals`.

    Their lower-cased 6-character windows and the values shorter than that:
    an answer's fields (a token answer's scopes, say) are each checked
    against the same few values, so their windows are built once per request —
    and only when a field is checked at all (most answers have none to show).
    """

    __slots__ = ("_grams", "_short", "_values")

    def __init__(self, values: Iterable[str]) -> None:
        self._values = tuple(values)
        self._grams: frozenset[str] | None = None
        self._short: frozenset[str] = frozenset()

    def _prepare(self) -> frozenset[str]:
        grams: set[str] = set()
        short: set[str] = set()
        for value in self._values:
            value = value.strip()
            if len(value) < FIELD_WINDOW:
                if value:
                    short.add(value.lower())
            else:
                grams |= _grams(value, FIELD_WINDOW)
        # Two threads preparing the same Sent build equal sets: either assignment is right.
        self._short = frozenset(short)
        self._grams = prepared = frozenset(grams)
        return prepared

    @property
    def grams(self) -> frozenset[str]:
        """Lower-cased 6-character windows of the values at least that long."""
        grams = self._grams
        return grams if grams is not None else self._prepare()

    @property
    def short(self) -> frozenset[str]:
        """Lower-cased values shorter than the window."""
        if self._grams is None:
            self._prepare()
        return self._short


class SecretScrubber:
    """The values resolved during the run, and the scrubbing of outside text against them.

    Thread-safe: resolvers register values from worker threads.
    """

    RECENT = 128
    """Values whose windows are also kept as strings, newest last: a server field seen
    again (a scope name in every token answer) is compared with the values indexed
    since it was last looked at — a set intersection — instead of all of them."""

    def __init__(self) -> None:
        self._windows = _WindowSet()  # lower-cased 8-character windows of every value
        self._short: set[str] = set()  # lower-cased values shorter than the window
        self._literal: list[str] = []  # values that are not one token-like run
        self._manifest = _ManifestText()
        self._decoded = _DecodedCache()
        self._indexed = 0  # values whose windows are in the index
        self._recent: deque[frozenset[str]] = deque(maxlen=self.RECENT)
        self._lock = threading.Lock()

    def add(self, value: str) -> None:
        """Scrub ``value`` (stripped) and its fragments from outside text from now on."""
        value = value.strip()
        if not value or _ANY_SHAPE.fullmatch(value):
            return  # a shape masks it wherever it appears
        with self._lock:
            if len(value) < MASK_WINDOW:
                self._short.add(value.lower())
                return
            windows = _grams(value, MASK_WINDOW)
            self._windows.update(windows)
            self._indexed += 1
            self._recent.append(frozenset(windows))
            if not _RUN.fullmatch(value):
                self._literal.append(value.lower())

    def add_manifest_text(self, text: str) -> None:
        """Text a manifest holds: a fragment found in it is never treated as a secret's."""
        with self._lock:
            self._manifest.add(text)

    def _hit(self, text: str) -> bool:
        """Whether ``text``, in any of its decodings, holds 8 characters of a resolved value
        that the manifest does not hold (under the lock)."""
        windows, size = self._windows, MASK_WINDOW
        for decoded in _decodings(text):
            for i in range(len(decoded) - size + 1):
                window = decoded[i : i + size]
                if window in windows and not self._manifest.holds(window):
                    return True
        return False

    def mask(self, text: str) -> str:
        """``text`` with every run holding a fragment of a resolved value replaced whole.

        Values with spaces or other separators are also replaced where they occur
        (case-insensitively). Short values (< 8 characters) cannot be masked
        without mangling ordinary words; :meth:`reveals` is the test for them.
        """
        with self._lock:
            windows = self._windows
            literal = list(self._literal)
            if not windows and not literal:
                return text
            for value in literal:
                if value in text.lower() and not self._manifest.holds(value):
                    text = re.sub(re.escape(value), REDACTED, text, flags=re.IGNORECASE)
            hits = {
                run
                for run in set(_RUN.findall(text))
                if self._hit(run) and not self._manifest.holds_run(run)
            }
        if not hits:
            return text
        return _RUN.sub(lambda m: REDACTED if m.group() in hits else m.group(), text)

    def reveals(self, text: str, sent: Iterable[str] | Sent = ()) -> bool:
        """True when ``text`` may show part of a secret, so it must not be shown at all.

        A hit is: 6 characters of a value in ``sent`` (the values of the request
        whose answer ``text`` is), 8 characters of any resolved value, or a
        whole short value — in any case, verbatim, URL-encoded, base64 or hex.
        ``sent`` may be a :class:`Sent`, prepared once for several fields.
        """
        prepared = sent if isinstance(sent, Sent) else Sent(sent)
        decoded = self._decoded.get(text)
        with self._lock:
            if not self._reveals(decoded, prepared):
                return False
            # Only now (a hit is rare) look whether the hit is manifest text echoed back.
            held = self._manifest.holds_run
            unechoed = _RUN.sub(lambda m: " " if held(m.group()) else m.group(), text)
            return self._reveals(_Decoded(unechoed), prepared)

    def _reveals(self, decoded: _Decoded, sent: Sent) -> bool:
        holds = self._manifest.holds
        if sent.grams and any(not holds(w) for w in decoded.six & sent.grams):
            return True
        if any(not holds(w) for w in self._indexed_hits(decoded)):
            return True
        for value in (*sent.short, *self._short, *self._literal):
            if any(value in d for d in decoded.texts) and not holds(value):
                return True
        return False

    def _indexed_hits(self, decoded: _Decoded) -> frozenset[str]:
        """The field's 8-character windows that are some resolved value's (under the lock)."""
        new = self._indexed - decoded.upto
        if new == 0:
            return decoded.hits
        if decoded.upto >= 0 and new <= len(self._recent):
            found = [w for i in range(1, new + 1) for w in decoded.eight & self._recent[-i]]
            hits = decoded.hits.union(found) if found else decoded.hits
        else:
            hits = frozenset(self._windows.members(decoded.eight))
        decoded.hits, decoded.upto = hits, self._indexed
        return hits

    def shown(self, text: str, sent: Iterable[str] | Sent = (), limit: int = 160) -> str | None:
        """Server-provided ``text`` made printable and short, or None when it must not be shown."""
        printable = (
            text if text.isprintable() else "".join(ch if ch.isprintable() else " " for ch in text)
        )
        cleaned = printable.strip()
        if not cleaned or self.reveals(cleaned, sent) or _ANY_SHAPE.search(cleaned):
            return None
        return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"

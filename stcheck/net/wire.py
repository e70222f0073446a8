"""HTTP/1.1 on one connected socket: one request written, one answer read and framed.

Here, not in http.client and urllib3, because that is where the CPU of a
request went: http.client parses every header block with the ``email``
package and urllib3 wraps the answer in two more layers — about two thirds of
a request's CPU, which 64 threads under one GIL pay in turn (docs/online.md,
``--concurrency``). Connections come from :mod:`stcheck.net.pool`.

The reader is strict where a lenient one would have to guess: a status line
that is not ``HTTP/1.x NNN``, a header line without a name and colon, a folded
header, a head larger than :data:`MAX_HEAD`, more than :data:`MAX_INTERIM`
interim (1xx) answers, a transfer coding other than ``chunked``, a
``Content-Length`` that is not one number, or a chunk that does not parse are
all :class:`Garbled`. An answer that ends before it is complete is
:class:`Incomplete`. The body is decoded (gzip, deflate) in bounded steps, so
a compression bomb costs at most the limit plus one step of memory.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

MAX_HEAD = 64 * 1024
"""Bytes of one status line plus headers (or of a chunked body's trailers) read at most."""
MAX_FIELDS = 100
"""Header lines in one head read at most (as http.client)."""
MAX_INTERIM = 8
"""Interim (1xx) answers skipped before one answer is taken as garbled."""
STEP = 16 * 1024
"""Bytes received, and decoded, per step."""

_STATUS = re.compile(rb"HTTP/1\.([01]) ([1-9]\d\d)(?: [^\r\n]*)?\Z")
_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]*)?\Z")


class Socket(Protocol):
    def sendall(self, data: bytes, /) -> None: ...
    def recv(self, size: int, /) -> bytes: ...


class Garbled(ValueError):
    """The answer is not HTTP/1.1 as stcheck reads it (its text is never shown)."""


class Incomplete(ConnectionError):
    """The connection ended before the answer was complete."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A framed answer: status, headers (lower-case names), decoded body prefix."""

    status: int
    headers: dict[str, str]
    body: bytes
    truncated: bool
    reusable: bool
    """True when the connection may carry another request (the answer was read to its end)."""


def request_bytes(method: str, target: str, headers: dict[str, str], body: bytes | None) -> bytes:
    """The request as sent: request line, headers and body in one buffer (one write).

    The caller has checked the target and header values (no white space or
    control characters in the target, no line breaks in values).
    """
    lines = [f"{method} {target} HTTP/1.1"]
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body else head


class _Reader:
    """Received bytes not consumed yet, and the socket they come from."""

    __slots__ = ("buffer", "sock")

    def __init__(self, sock: Socket) -> None:
        self.sock = sock
        self.buffer = b""

    def more(self) -> bool:
        """Receive once more; False at the end of the stream."""
        data = self.sock.recv(STEP)
        if not data:
            return False
        self.buffer += data
        return True

    def block(self, what: str) -> bytes:
        """Everything up to the next empty line (``what`` names it for :class:`Garbled`)."""
        searched = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n", searched)
            if 0 <= end <= MAX_HEAD:
                block, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
                return block
            if end > MAX_HEAD or len(self.buffer) > MAX_HEAD:
                raise Garbled(f"the {what} is longer than {MAX_HEAD} bytes")
            searched = max(0, len(self.buffer) - 3)
            if not self.more():
                raise Incomplete(f"the connection ended in the {what}")

    def line(self) -> bytes:
        searched = 0
        while True:
            end = self.buffer.find(b"\r\n", searched)
            if 0 <= end <= MAX_HEAD:
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                return line
            if end > MAX_HEAD or len(self.buffer) > MAX_HEAD:
                raise Garbled("a chunk size line is too long")
            searched = max(0, len(self.buffer) - 1)
            if not self.more():
                raise Incomplete("the connection ended in a chunk size line")

    def take(self, count: int) -> bytes:
        """Exactly ``count`` bytes (:class:`Incomplete` if the stream ends first)."""
        while len(self.buffer) < count:
            if not self.more():
                raise Incomplete("the connection ended in the body")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def some(self) -> bytes:
        """What is buffered, else one receive (b"" at the end of the stream)."""
        if not self.buffer and not self.more():
            return b""
        data, self.buffer = self.buffer, b""
        return data


def _head(reader: _Reader) -> tuple[int, int, dict[str, str]]:
    """(minor version, status, headers) of the final answer, interim answers skipped."""
    for _ in range(MAX_INTERIM + 1):
        block = reader.block("head")
        lines = _lines(block)
        match = _STATUS.match(lines[0])
        if match is None:
            raise Garbled("the status line is not HTTP/1.x")
        status = int(match.group(2))
        headers: dict[str, str] = {}
        repeated: dict[str, list[str]] = {}
        for line in lines[1:]:
            name, colon, value = line.partition(b":")
            if not colon or _NAME.match(name) is None:
                raise Garbled("a header line is not 'name: value'")  # also folded lines
            key = name.decode("ascii").lower()
            text = value.strip(b" \t").decode("latin-1")
            if key in headers:
                repeated.setdefault(key, [headers[key]]).append(text)
            headers[key] = text
        for key, values in repeated.items():  # joined once: no quadratic re-joining
            headers[key] = ", ".join(values)
        if status >= 200:
            return int(match.group(1)), status, headers
        if status == 101:
            raise Garbled("the server switched protocols unasked")
    raise Garbled(f"more than {MAX_INTERIM} interim answers")


def _lines(block: bytes) -> list[bytes]:
    """The lines of a head: CR LF ends a line; a bare CR or LF, or a NUL, is garbled."""
    breaks = block.count(b"\r\n")
    if block.count(b"\r") != breaks or block.count(b"\n") != breaks or b"\0" in block:
        raise Garbled("a head holds a bare CR, LF or NUL")
    if breaks >= MAX_FIELDS + 1:
        raise Garbled(f"more than {MAX_FIELDS} header lines")
    return block.split(b"\r\n")


def read_tunnel_answer(sock: Socket) -> int:
    """The status of a proxy's answer to ``CONNECT`` (its head read, nothing after it)."""
    reader = _Reader(sock)
    _, status, _ = _head(reader)
    if reader.buffer:
        raise Garbled("bytes after the proxy's answer")
    return status


class _Decoder:
    """Content decoding in bounded steps: at most ``limit + 1`` bytes ever come out."""

    __slots__ = ("_inflate", "_pending", "_tried_raw")

    def __init__(self, coding: str) -> None:
        self._tried_raw = coding != "deflate"
        self._pending = b""
        if coding in ("gzip", "x-gzip"):
            self._inflate: zlib._Decompress | None = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self._inflate = zlib.decompressobj()
        else:  # identity, or a coding stcheck never asked for: the bytes as they came
            self._inflate = None

    def feed(self, data: bytes, room: int) -> bytes:
        """Up to ``room`` decoded bytes of ``data`` (and of what earlier steps left)."""
        inflate = self._inflate
        if inflate is None:
            return data
        try:
            out = inflate.decompress(inflate.unconsumed_tail + data, room)
        except zlib.error:
            if self._tried_raw:
                raise Garbled("the body does not decode") from None
            # "deflate" is sent both zlib-wrapped (as the RFC says) and raw: try raw once.
            self._tried_raw = True
            self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)
            return self.feed(data, room)
        self._tried_raw = True
        return out

    def pending(self) -> bool:
        return self._inflate is not None and bool(self._inflate.unconsumed_tail)


def read_answer(sock: Socket, method: str, limit: int) -> Answer:
    """Read one answer from ``sock``: at most ``limit`` decoded body bytes are kept."""
    reader = _Reader(sock)
    minor, status, headers = _head(reader)
    close = minor == 0 or "close" in headers.get("connection", "").lower()
    if method == "HEAD" or status in (204, 304):
        return Answer(status, headers, b"", False, not close and not reader.buffer)
    coding = headers.get("transfer-encoding")
    length: int | None = None
    if coding is not None:
        if coding.strip().lower() != "chunked":
            raise Garbled("a transfer coding other than chunked")
        close = close or "content-length" in headers  # both framings: never reuse (RFC 9112)
    elif "content-length" in headers:
        length = _content_length(headers["content-length"])
    decoder = _Decoder(headers.get("content-encoding", "").strip().lower())
    parts: list[bytes] = []
    total = 0
    complete = False
    raw = _chunks(reader) if coding is not None else _sized(reader, length)
    for data in raw:
        while True:
            out = decoder.feed(data, limit + 1 - total)
            parts.append(out)
            total += len(out)
            if total > limit or not decoder.pending():
                break
            data = b""
        if total > limit:
            break
    else:
        complete = True
    framed = length is not None or coding is not None  # else the body ends at the close
    reusable = complete and framed and not close and not reader.buffer
    return Answer(status, headers, b"".join(parts)[:limit], total > limit, reusable)


def _content_length(value: str) -> int:
    """One length, also when repeated with the same value ("5, 5", RFC 9110 §8.6)."""
    first, *others = (text.strip() for text in value.split(","))
    if not first.isdigit() or not first.isascii() or len(first) > 18:
        raise Garbled("the Content-Length is not one number")
    if any(other != first for other in others):
        raise Garbled("the Content-Length is not one number")
    return int(first)


def _sized(reader: _Reader, length: int | None) -> Iterator[bytes]:
    """The body's bytes, step by step: ``length`` of them, or up to the end of the stream."""
    if length is None:
        while data := reader.some():
            yield data
        return
    left = length
    while left > 0:
        data = reader.some()
        if not data:
            raise Incomplete("the connection ended in the body")
        if len(data) > left:  # more than the answer: the connection is not reusable
            reader.buffer = data[left:]
            data = data[:left]
        left -= len(data)
        yield data


def _chunks(reader: _Reader) -> Iterator[bytes]:
    """The bytes of a chunked body, chunk by chunk; trailers read and dropped."""
    while True:
        match = _CHUNK_SIZE.match(reader.line())
        if match is None:
            raise Garbled("a chunk size does not parse")
        size = int(match.group(1), 16)
        if size == 0:
            break
        left = size
        while left > 0:
            data = reader.take(min(left, STEP))
            left -= len(data)
            yield data
        if reader.take(2) != b"\r\n":
            raise Garbled("a chunk does not end with a line break")
    # Trailers: none, or header lines up to an empty line.
    if reader.line():
        reader.buffer = b"\r\n" + reader.buffer
        reader.block("trailer")

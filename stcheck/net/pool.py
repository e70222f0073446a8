"""Keep-alive connections to one ServiceTitan host: connect, tunnel, TLS, reuse.

One :class:`HostPool` per host and port, sized to ``--concurrency``. A
connection is TCP to the host (or to its ``--resolve`` address), or through an
HTTP ``CONNECT`` tunnel of the proxy the environment names (``http://`` or
``https://``, with ``Proxy-Authorization`` from the proxy URL's user and
password), then TLS verified against the run's one SSL context with the
ServiceTitan host as SNI and certificate name.

Every connection carries a *twin*: a duplicate of its TCP socket
(``socket.dup()``, the same connection under another descriptor, usable while
TLS owns the original). A request's deadline guard shuts the twin down when
the deadline passes, which ends any blocked ``recv`` or ``send`` — connect,
tunnel, handshake, status line, headers or body — at once. The twin is also
how an idle connection is tested before reuse (a peek that does not block).
"""

from __future__ import annotations

import base64
import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from urllib.parse import unquote, urlsplit

from stcheck.net import wire
from stcheck.net.config import Route

T = TypeVar("T")


class Guard(Protocol):
    """What a request's deadline guard offers a connection (see :class:`stcheck.net.http`)."""

    def attach(self, sock: socket.socket) -> None: ...
    def detach(self, sock: socket.socket) -> None: ...


class ProxyFailed(ConnectionError):
    """Connecting to the proxy, or opening the tunnel through it, failed."""


class ConnectTimedOut(TimeoutError):
    """No TCP connection within the request's time."""


class Stream(Protocol):
    def sendall(self, data: bytes, /) -> None: ...
    def recv(self, size: int, /) -> bytes: ...
    def settimeout(self, value: float | None, /) -> None: ...
    def close(self) -> None: ...


class Connection:
    """A connected TLS stream to the host, its twin, and the guard watching it now."""

    __slots__ = ("_guard", "stream", "twin")

    def __init__(self, stream: Stream, twin: socket.socket) -> None:
        self.stream = stream
        self.twin = twin
        self._guard: Guard | None = None

    def watch(self, guard: Guard) -> None:
        self._guard = guard
        guard.attach(self.twin)

    def unwatch(self) -> None:
        guard, self._guard = self._guard, None
        if guard is not None:
            guard.detach(self.twin)

    def dropped(self) -> bool:
        """True when the idle connection was closed, or has bytes nobody asked for.

        Bytes already taken off the socket by TLS (a record read ahead, or in a
        tunnel's buffers) count as much as bytes still in the kernel.
        """
        stream = self.stream
        if isinstance(stream, ssl.SSLSocket | TunnelTLS) and stream.pending():
            return True
        try:
            self.twin.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False  # nothing to read: open and quiet
        except OSError:
            return True
        return True  # the end of the stream, or bytes that answer nothing

    def close(self) -> None:
        self.unwatch()
        with contextlib.suppress(OSError):
            self.stream.close()
        self.twin.close()


class HostPool:
    """Idle connections to ``route``'s host (last in, first out), at most ``maxsize`` kept."""

    def __init__(self, route: Route, port: int, context: ssl.SSLContext, maxsize: int) -> None:
        self._route = route
        self._port = port
        self._context = context
        self._maxsize = maxsize
        self._idle: list[Connection] = []
        self._lock = threading.Lock()
        self._closed = False
        self._tunnel_head = b""
        if route.proxy is not None:
            target = f"{route.host}:{port}"
            lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
            lines.extend(f"{k}: {v}" for k, v in proxy_headers(route.proxy).items())
            self._tunnel_head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def get(self, limit: float, guard: Guard) -> Connection:
        """An idle connection that is still open, else a new one (within ``limit`` seconds)."""
        while True:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return self._connect(limit, guard)
            if not conn.dropped():
                conn.watch(guard)
                return conn
            conn.close()

    def put(self, conn: Connection) -> None:
        """Keep ``conn`` for the next request (its guard already left), or close it."""
        with self._lock:
            if not self._closed and len(self._idle) < self._maxsize:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _connect(self, limit: float, guard: Guard) -> Connection:
        route = self._route
        proxied = route.proxy is not None
        if route.proxy is not None:
            parts = urlsplit(route.proxy)
            address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
        else:
            address = (route.address or route.host, self._port)
        try:
            raw = connect_within(address, time.monotonic() + limit)
        except TimeoutError as exc:
            if proxied:
                raise ProxyFailed(None, "no connection to the proxy in time") from exc
            raise ConnectTimedOut() from exc
        except socket.gaierror:
            raise
        except OSError as exc:
            if proxied:
                raise ProxyFailed("the proxy refused or failed the connection") from exc
            raise
        try:
            twin = raw.dup()
        except OSError:
            raw.close()
            raise
        conn = Connection(raw, twin)  # closed on any failure below (the twin with it)
        conn.watch(guard)
        try:
            if route.proxy is not None:  # kept on conn at each step, so a failure closes it
                conn.stream = self._tunnel(raw, urlsplit(route.proxy).scheme == "https")
            conn.stream = self._tls(conn.stream, route.host)
            # From here on the socket blocks and the guard's shutdown ends a request. The
            # twin shares the descriptor's blocking mode; as a blocking socket object its
            # peek with MSG_DONTWAIT returns at once (with a timeout Python would wait).
            conn.stream.settimeout(None)
            twin.settimeout(None)
        except BaseException:
            conn.close()
            raise
        return conn

    def _tunnel(self, raw: socket.socket, tls_to_proxy: bool) -> Stream:
        """``raw`` (or TLS to the proxy on it) with a CONNECT tunnel to the host opened."""
        assert self._route.proxy is not None
        stream: Stream = raw
        try:
            if tls_to_proxy:
                stream = self._context.wrap_socket(
                    raw, server_hostname=urlsplit(self._route.proxy).hostname
                )
            stream.sendall(self._tunnel_head)
            status = wire.read_tunnel_answer(stream)
            if not 200 <= status < 300:
                raise ProxyFailed(None, f"the proxy answered HTTP {status} to CONNECT")
        except BaseException as exc:
            if stream is not raw:  # the TLS socket took the descriptor over from ``raw``
                stream.close()
            if isinstance(exc, (OSError, wire.Garbled)) and not isinstance(exc, ProxyFailed):
                raise ProxyFailed("the proxy refused or failed the connection") from exc
            raise
        return stream

    def _tls(self, stream: Stream, host: str) -> Stream:
        if isinstance(stream, ssl.SSLSocket):  # TLS inside the TLS to an https:// proxy
            return TunnelTLS(stream, self._context, host)
        assert isinstance(stream, socket.socket)
        return self._context.wrap_socket(stream, server_hostname=host)


def connect_within(address: tuple[str, int], deadline: float) -> socket.socket:
    """TCP to ``address`` by ``deadline`` (``time.monotonic()``), whatever its name resolves to."""
    host, port = address
    found = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    return connect_any([(family, sockaddr) for family, _, _, _, sockaddr in found], deadline)


def connect_any(candidates: list[tuple[int, tuple[Any, ...]]], deadline: float) -> socket.socket:
    """TCP to the first of ``candidates`` (family, address) that accepts, all by ``deadline``.

    Unlike :func:`socket.create_connection`, which gives every address the whole
    timeout, each address gets only what is left of the one deadline.
    """
    error: OSError | None = None
    for family, sockaddr in candidates:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(left)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    if time.monotonic() >= deadline:
        raise TimeoutError("no connection in time")
    raise error if error is not None else OSError("the name resolves to no address")


def proxy_headers(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization: Basic ...`` from the proxy URL's user and password, if any."""
    parts = urlsplit(proxy)
    if not parts.username:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode("latin-1")
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


class TunnelTLS:
    """TLS to the ServiceTitan host through a TLS connection to an ``https://`` proxy.

    The inner TLS runs on memory buffers (:class:`ssl.MemoryBIO`) that are
    filled from, and emptied into, the outer TLS socket.
    """

    def __init__(self, outer: ssl.SSLSocket, context: ssl.SSLContext, host: str) -> None:
        self._outer = outer
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        self._io(self._tls.do_handshake)

    def _io(self, operation: Callable[..., T], *args: object) -> T:
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush()
                if self._incoming.eof:  # wants more after the end: never comes
                    raise wire.Incomplete("the proxy's connection ended") from None
                data = self._outer.recv(wire.STEP)
                if data:
                    self._incoming.write(data)
                else:
                    self._incoming.write_eof()
                continue
            self._flush()
            return result

    def _flush(self) -> None:
        data = self._outgoing.read()
        if data:
            self._outer.sendall(data)

    def sendall(self, data: bytes, /) -> None:
        view = memoryview(data)
        while view:
            view = view[self._io(self._tls.write, view) :]

    def recv(self, size: int, /) -> bytes:
        try:
            data = self._io(self._tls.read, size)
        except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
            return b""  # as an SSL socket with ragged end-of-file suppressed
        return data

    def settimeout(self, value: float | None, /) -> None:
        self._outer.settimeout(value)

    def pending(self) -> int:
        """Bytes received and not read yet: in either TLS layer or between them."""
        return self._tls.pending() + self._incoming.pending + self._outer.pending()

    def close(self) -> None:
        self._outer.close()

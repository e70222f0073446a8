"""The HTTP exchange (stcheck.net.wire) against a TLS server on loopback that sends exact bytes.

The fake ServiceTitan speaks well-formed HTTP; these answers are the shapes it
does not send — chunked bodies with extensions and trailers, interim answers,
bodies that end at the close, garbled heads, early closes, compressed bodies —
written byte for byte by a scripted server (real TLS, a throwaway CA, 127.0.0.1).
Each case goes through :class:`stcheck.net.http.HttpClient`, so what is checked
is what a check sees: a :class:`Reply`, or a :class:`Failure` with its reason.
"""

from __future__ import annotations

import contextlib
import gc
import gzip
import os
import socket
import ssl
import threading
import time
import warnings
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import trustme

from stcheck.net import HOSTS
from stcheck.net.config import NetConfig, Route
from stcheck.net.http import MAX_BODY, Failure, HttpClient, Reply
from stcheck.net.pool import connect_any
from stcheck.net.wire import MAX_FIELDS, MAX_HEAD, MAX_INTERIM

from .proxy import ConnectProxy

Script = Callable[[bytes], list[bytes] | None]
"""From one request's bytes, the pieces to send (each in its own write; a last b"" closes
the connection after them), or None to close at once."""

CANARY = "wire-canary-0f3c9a"


class ScriptedServer:
    """TLS on 127.0.0.1 for the four hosts; every request gets the current script's answer."""

    def __init__(self, tmp: Path) -> None:
        ca = trustme.CA()
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ca.issue_cert(*HOSTS).configure_cert(self.context)
        self.ca_file = str(tmp / "ca.pem")
        ca.cert_pem.write_to_path(self.ca_file)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.script: Script = lambda request: [ok(b"{}")]
        self.connections = 0
        self.requests: list[bytes] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._connection, args=(raw,), daemon=True).start()

    def _connection(self, raw: socket.socket) -> None:
        try:
            with self.context.wrap_socket(raw, server_side=True) as tls:
                while (request := _read_request(tls)) is not None:
                    self.requests.append(request)
                    pieces = self.script(request)
                    if pieces is None:
                        return
                    for piece in pieces:
                        tls.sendall(piece)
                    if pieces and pieces[-1] == b"":  # then close: the end of the body
                        return
        except (OSError, ssl.SSLError):
            return

    def client(self, timeout: float = 2.0) -> HttpClient:
        routes = {h: Route(h, address="127.0.0.1", port=self.port) for h in HOSTS}
        config = NetConfig(
            timeout=timeout, concurrency=1, ca_file=self.ca_file, ca_source="test", routes=routes
        )
        return HttpClient(config)

    def close(self) -> None:
        self.listener.close()


def _read_request(tls: ssl.SSLSocket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        piece = tls.recv(65536)
        if not piece:
            return None
        data += piece
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
            while len(body) < length:
                body += tls.recv(65536)
    return data


def ok(body: bytes, *headers: str) -> bytes:
    lines = ["HTTP/1.1 200 OK", "Content-Type: application/json", *headers]
    if not any(h.lower().startswith(("content-length", "transfer-encoding")) for h in headers):
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ScriptedServer]:
    scripted = ScriptedServer(tmp_path)
    yield scripted
    scripted.close()


def get(client: HttpClient) -> Reply | Failure:
    return client.get_api("integration", "/x", params={"pageSize": "1"}, headers={})


def twice(server: ScriptedServer, script: Script) -> tuple[Reply | Failure, Reply | Failure]:
    server.script = script
    with server.client() as client:
        return get(client), get(client)


def test_a_chunked_body_with_extensions_and_trailers_is_joined_and_keeps_the_connection(
    server: ScriptedServer,
) -> None:
    head = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    pieces = [head, b'3;name=value\r\n{"a', b"\r\n", b'5\r\n": 1}\r\n', b"0\r\nX-T: 1\r\n\r\n"]
    first, second = twice(server, lambda request: pieces)
    assert isinstance(first, Reply) and first.json() == {"a": 1}, first
    assert isinstance(second, Reply) and second.json() == {"a": 1}
    assert server.connections == 1


def test_a_body_in_many_records_and_a_head_split_anywhere_are_read_whole(
    server: ScriptedServer,
) -> None:
    answer = ok(b'{"items": [1, 2, 3]}')
    pieces = [answer[i : i + 1] for i in range(len(answer))]  # one TLS record per byte
    first, second = twice(server, lambda request: pieces)
    assert isinstance(first, Reply) and first.json() == {"items": [1, 2, 3]}
    assert isinstance(second, Reply) and server.connections == 1


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{}",  # ends at the close
        b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}",
        ok(b"{}") + b"HTTP/1.1 200 OK\r\n",  # more than the answer: never reused
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"2\r\n{}\r\n0\r\n\r\n",  # both framings: chunked wins, the connection is not reused
    ],
    ids=["close-delimited", "connection-close", "http-1.0", "extra-bytes", "both-framings"],
)
def test_answers_that_cannot_keep_their_connection_are_read_and_it_is_not_reused(
    server: ScriptedServer, answer: bytes
) -> None:
    close_delimited = b"Content-Length" not in answer and b"chunked" not in answer
    server.script = lambda request: [answer, b""] if close_delimited else [answer]
    with server.client() as client:
        first = get(client)
        server.script = lambda request: [ok(b'{"second": true}')]
        second = get(client)
    assert isinstance(first, Reply) and first.json() == {}, first
    assert isinstance(second, Reply) and second.json() == {"second": True}, second
    assert server.connections == 2


def test_interim_answers_are_skipped_and_too_many_are_garbled(server: ScriptedServer) -> None:
    interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\n"
    server.script = lambda request: [interim, ok(b"[]")]
    with server.client() as client:
        reply = get(client)
        server.script = lambda request: [b"HTTP/1.1 100 Continue\r\n\r\n" * (MAX_INTERIM + 1)]
        endless = get(client)
    assert isinstance(reply, Reply) and reply.json() == []
    assert isinstance(endless, Failure) and endless.reason == "malformed_response"


@pytest.mark.parametrize(
    "answer",
    [
        b"HTTP/2 200\r\n\r\n",
        b"ICY 200 OK\r\n\r\n",
        b"HTTP/1.1 20 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-A: 1\r\n folded: 2\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 12x\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nnope",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * MAX_HEAD + b"\r\n\r\n",
    ],
    ids=[
        "http-2",
        "icy",
        "two-digit-status",
        "no-colon",
        "folded",
        "space-in-name",
        "length-not-a-number",
        "two-lengths",
        "transfer-coding",
        "chunk-size",
        "chunk-end",
        "switching-protocols",
        "bad-gzip",
        "head-too-long",
    ],
)
def test_a_garbled_answer_is_malformed_and_its_text_never_shown(
    server: ScriptedServer, answer: bytes
) -> None:
    marked = answer.replace(b"\r\n\r\n", f"\r\nX-Echo: {CANARY}\r\n\r\n".encode(), 1)
    server.script = lambda request: [marked]
    with server.client() as client:
        failure = get(client)
    assert isinstance(failure, Failure), failure
    assert (failure.status.value, failure.reason) == ("error", "malformed_response")
    assert failure.message.endswith(": the answer was garbled"), failure.message
    assert CANARY not in failure.message


@pytest.mark.parametrize(
    "answer",
    [
        b"",
        b"HTTP/1.1 200 OK\r\nContent-Le",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{}",
    ],
    ids=["nothing", "in-the-head", "short-body", "short-chunk"],
)
def test_an_answer_cut_short_by_the_close_is_a_connection_error(
    server: ScriptedServer, answer: bytes
) -> None:
    original = server._connection

    def closing(raw: socket.socket) -> None:  # send the piece, then close the connection
        with server.context.wrap_socket(raw, server_side=True) as tls:
            if _read_request(tls) is not None and answer:
                tls.sendall(answer)

    server._connection = closing  # type: ignore[method-assign]
    try:
        with server.client() as client:
            failure = get(client)
    finally:
        server._connection = original  # type: ignore[method-assign]
    assert isinstance(failure, Failure), failure
    assert (failure.status.value, failure.reason) == ("error", "connection_error")
    assert "without a complete answer" in failure.message


@pytest.mark.parametrize("coding", ["gzip", "x-gzip", "deflate-zlib", "deflate-raw", "identity"])
def test_compressed_bodies_are_decoded(server: ScriptedServer, coding: str) -> None:
    payload = b'{"data": [' + b", ".join(b"%d" % i for i in range(3000)) + b"]}"
    if coding in ("gzip", "x-gzip"):
        encoded = gzip.compress(payload)
    elif coding == "deflate-zlib":
        encoded = zlib.compress(payload)
    elif coding == "deflate-raw":
        squeeze = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        encoded = squeeze.compress(payload) + squeeze.flush()
    else:
        encoded = payload
    name = coding.split("-")[0] if coding.startswith("deflate") else coding
    server.script = lambda request: [ok(encoded, f"Content-Encoding: {name}")]
    with server.client() as client:
        reply = get(client)
    assert isinstance(reply, Reply) and reply.body == payload and not reply.truncated


@pytest.mark.parametrize("framing", ["length", "chunked", "close", "gzip"])
def test_a_body_over_the_limit_is_truncated_at_the_limit(
    server: ScriptedServer, framing: str
) -> None:
    big = b"[" + b"1," * MAX_BODY + b"1]"
    if framing == "length":
        answer = ok(big)
    elif framing == "chunked":
        chunks = b"".join(
            b"%x\r\n%s\r\n" % (len(big[i : i + 5000]), big[i : i + 5000])
            for i in range(0, len(big), 5000)
        )
        answer = ok(chunks + b"0\r\n\r\n", "Transfer-Encoding: chunked")
    elif framing == "close":
        answer = b"HTTP/1.1 200 OK\r\n\r\n" + big  # the server keeps the connection open
    else:
        answer = ok(gzip.compress(big), "Content-Encoding: gzip")
    server.script = lambda request: [answer]
    with server.client() as client:
        reply = get(client)
        server.script = lambda request: [ok(b"{}")]
        after = get(client)
    assert isinstance(reply, Reply) and reply.truncated and len(reply.body) == MAX_BODY
    assert reply.body == big[:MAX_BODY] and reply.json() is None
    assert isinstance(after, Reply) and after.json() == {}
    assert server.connections == 2  # the rest was never read: the connection was not reused


def test_no_body_after_204_and_the_connection_is_kept(server: ScriptedServer) -> None:
    first, second = twice(server, lambda request: [b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert isinstance(first, Reply) and first.status == 204 and first.body == b""
    assert isinstance(second, Reply) and server.connections == 1


def test_the_request_is_one_exact_block_and_a_post_carries_its_length(
    server: ScriptedServer,
) -> None:
    with server.client() as client:
        client.get_api("integration", "/a/b", params={"pageSize": "1"}, headers={"X-K": "v"})
        client.post_token("integration", {"grant_type": "client_credentials", "client_id": "c"})
    get_request, post_request = server.requests
    assert get_request.startswith(b"GET /a/b?pageSize=1 HTTP/1.1\r\n")
    assert b"\r\nHost: api-integration.servicetitan.io:%d\r\n" % server.port in get_request
    assert b"\r\nX-K: v\r\n" in get_request and b"Content-Length" not in get_request
    head, _, body = post_request.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /connect/token HTTP/1.1\r\n")
    assert body == b"grant_type=client_credentials&client_id=c"
    assert b"\r\nContent-Length: %d" % len(body) in head
    assert b"\r\nContent-Type: application/x-www-form-urlencoded" in head


@pytest.mark.parametrize("path", ["/a b", "/a\tb", "/a\x7fb", "/caf\u00e9"])
def test_a_path_that_is_not_visible_ascii_is_refused_before_anything_is_sent(
    server: ScriptedServer, path: str
) -> None:
    with server.client() as client, pytest.raises(ValueError):
        client.get_api("integration", path, params={}, headers={})
    assert server.requests == []


def test_a_kept_connection_the_server_closed_while_idle_is_replaced_not_failed(
    server: ScriptedServer,
) -> None:
    """The answer kept the connection open, then the server closed it (an idle timeout)."""
    first, second = twice(server, lambda request: [ok(b"{}"), b""])
    assert isinstance(first, Reply) and isinstance(second, Reply), (first, second)
    assert server.connections == 2


def test_an_https_proxy_carries_tls_inside_tls(tmp_path: Path) -> None:
    """TLS to an ``https://`` proxy, CONNECT, then TLS to the host inside it."""
    import trustme

    from stcheck.testing import FakeServiceTitan

    from .proxy import ConnectProxy

    proxy_ca = trustme.CA()
    proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    proxy_ca.issue_cert("127.0.0.1").configure_cert(proxy_tls)
    with FakeServiceTitan() as fake, ConnectProxy(fake.port, tls=proxy_tls) as proxy:
        bundle = tmp_path / "both.pem"
        bundle.write_bytes(Path(fake.ca_bundle).read_bytes() + proxy_ca.cert_pem.bytes())
        url = proxy.url.replace("http://", "https://")
        routes = {h: Route(h, port=fake.port, proxy=url) for h in HOSTS}
        config = NetConfig(
            timeout=2.0, concurrency=1, ca_file=str(bundle), ca_source="test", routes=routes
        )
        with HttpClient(config) as client:
            first = client.get_api("integration", "/x", params={}, headers={})
            second = client.get_api("integration", "/x", params={}, headers={})
        targets = [c.target for c in proxy.connects]
        port, sni = fake.port, fake.received[0].sni
    assert isinstance(first, Reply) and isinstance(second, Reply), (first, second)
    assert targets == [f"api-integration.servicetitan.io:{port}"]  # one tunnel, kept alive
    assert sni == "api-integration.servicetitan.io"


@contextlib.contextmanager
def proxied(tmp: Path, server: ScriptedServer, refuse: bytes | None = None) -> Iterator[HttpClient]:
    """A client of ``server`` through an ``https://`` CONNECT proxy on loopback."""
    proxy_ca = trustme.CA()
    proxy_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    proxy_ca.issue_cert("127.0.0.1").configure_cert(proxy_tls)
    bundle = tmp / "both.pem"
    bundle.write_bytes(Path(server.ca_file).read_bytes() + proxy_ca.cert_pem.bytes())
    with ConnectProxy(server.port, tls=proxy_tls, refuse=refuse) as proxy:
        url = proxy.url.replace("http://", "https://")
        routes = {h: Route(h, port=server.port, proxy=url) for h in HOSTS}
        config = NetConfig(
            timeout=2.0, concurrency=1, ca_file=str(bundle), ca_source="test", routes=routes
        )
        with HttpClient(config) as client:
            yield client


def test_bytes_after_an_answer_in_a_tunnels_buffers_retire_the_connection(
    tmp_path: Path, server: ScriptedServer
) -> None:
    """The host sends a second, unasked answer at once; through an ``https://`` proxy it
    can sit in the inner TLS's buffers, where a peek at the socket does not see it. The
    next request must get its own answer, not that one."""
    answers = iter([[ok(b'{"n":1}'), ok(b'{"stale":1}')], [ok(b'{"n":2}')], [ok(b'{"n":3}')]])
    server.script = lambda request: next(answers)
    with proxied(tmp_path, server) as client:
        first, second = get(client), get(client)
    assert isinstance(first, Reply) and isinstance(second, Reply), (first, second)
    assert (first.body, second.body) == (b'{"n":1}', b'{"n":2}')
    assert server.connections == 2


def test_a_refused_tunnel_through_an_https_proxy_leaves_no_socket_open(
    tmp_path: Path, server: ScriptedServer
) -> None:
    refuse = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"
    descriptors = len(os.listdir("/proc/self/fd"))
    with proxied(tmp_path, server, refuse) as client, warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        results = [get(client) for _ in range(3)]
        gc.collect()
    assert all(isinstance(r, Failure) and "403 to CONNECT" in r.message for r in results), results
    assert len(os.listdir("/proc/self/fd")) <= descriptors


def test_a_tunnel_the_proxy_closes_before_the_handshake_ends_fails_at_once(
    tmp_path: Path, server: ScriptedServer
) -> None:
    established = b"HTTP/1.1 200 Connection established\r\n\r\n"  # then the proxy closes
    with proxied(tmp_path, server, established) as client:
        started = time.monotonic()
        result = get(client)
    assert isinstance(result, Failure) and result.reason != "timeout", result
    assert time.monotonic() - started < 2.0  # well inside the 2 s timeout: no spinning


@pytest.mark.parametrize("lines", [MAX_FIELDS, MAX_FIELDS + 1])
def test_a_head_of_more_than_max_fields_header_lines_is_garbled(
    server: ScriptedServer, lines: int
) -> None:
    repeats = [f"X-Repeat: {i}" for i in range(lines - 2)]  # with Content-Type/-Length
    server.script = lambda request: [ok(b"{}", *repeats)]
    with server.client() as client:
        result = get(client)
    if lines <= MAX_FIELDS:
        assert isinstance(result, Reply) and result.body == b"{}", result
    else:
        assert isinstance(result, Failure) and result.reason == "malformed_response", result


def test_repeated_headers_are_joined_once_and_an_equal_repeated_length_is_one_length(
    server: ScriptedServer,
) -> None:
    server.script = lambda request: [
        ok(b"{}", "Content-Length: 2", "Content-Length: 2", "Retry-After: 1", "Retry-After: 2")
    ]
    with server.client() as client:
        result = get(client)
    assert isinstance(result, Reply) and result.body == b"{}", result
    assert result.retry_after == "1, 2"


@pytest.mark.parametrize(
    "head",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\n{}",
        b"HTTP/1.1 200 OK\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-A: a\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=["two-lengths", "two-lengths-one-line", "bare-lf-status", "bare-lf", "bare-cr", "nul"],
)
def test_conflicting_lengths_bare_line_breaks_and_nul_are_garbled(
    server: ScriptedServer, head: bytes
) -> None:
    server.script = lambda request: [head]
    with server.client() as client:
        result = get(client)
    assert isinstance(result, Failure) and result.reason == "malformed_response", result


def test_closing_the_client_ends_a_request_blocked_on_a_silent_server(
    server: ScriptedServer,
) -> None:
    """close() mid-run: the watchdog stops, so it fires the armed deadlines first."""
    server.script = lambda request: []  # keeps the connection and never answers
    results: list[Reply | Failure] = []
    client = server.client(timeout=30.0)
    worker = threading.Thread(target=lambda: results.append(get(client)))
    worker.start()
    while not server.requests:
        time.sleep(0.01)
    client.close()
    worker.join(5)
    assert not worker.is_alive()
    assert isinstance(results[0], Failure) and "stopped" in results[0].message, results
    after = get(client)  # a request after close() is refused, not raised
    assert isinstance(after, Failure) and "stopped" in after.message, after


def test_connecting_gives_all_addresses_one_deadline_not_one_each() -> None:
    """Two addresses that never accept (full backlogs on loopback): one deadline for both."""
    listeners, fillers = [], []
    for _ in range(2):
        listener = socket.create_server(("127.0.0.1", 0), backlog=0)
        filler = socket.create_connection(listener.getsockname())
        listeners.append(listener)
        fillers.append(filler)
    candidates = [(socket.AF_INET, listener.getsockname()) for listener in listeners]
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        connect_any(candidates, started + 0.5)
    elapsed = time.monotonic() - started
    for sock in listeners + fillers:
        sock.close()
    assert elapsed < 0.9  # create_connection's way: 0.5 s per address, 1.0 s

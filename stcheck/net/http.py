"""The hardened HTTP client every network check uses: one per run, shared by all workers.

What it guarantees, whatever the manifest or the environment says:

* **Only the four ServiceTitan hosts.** Client credentials can only be posted
  to the two token endpoints (:meth:`HttpClient.post_token`), the app key and
  tokens only sent to the two API hosts (:meth:`HttpClient.get_api`); the
  transport adapter refuses any other host as a second line of defence.
* **TLS always verified** against the run's CA bundle (``--ca-bundle``, else
  ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``, else certifi), loaded once into one
  SSL context; certificate hostname and SNI are the ServiceTitan host even with
  ``--resolve``.
* **No redirects**: any 3xx is ``redirect_blocked`` (a 307/308 would re-send
  the client secret to wherever it points).
* **No ambient configuration per request**: no HTTP library, HTTP/1.1 on the
  standard library's ``socket`` and ``ssl`` (:mod:`stcheck.net.pool` connects,
  :mod:`stcheck.net.wire` frames answers): no ``.netrc``, no per-request scan
  of the environment, no cookie jar; proxies and the CA bundle come from
  :class:`stcheck.net.config.NetConfig`, read once per run. Cookies are never
  stored or sent.
* **Bounded by wall-clock deadlines**: every request (connect, TLS handshake,
  proxy tunnel, status line, headers, body) must complete within ``--timeout``
  seconds of wall-clock time. A :class:`stcheck.deadline.Watchdog` alarm shuts
  the request's socket down when its deadline passes, so a server trickling
  its answer a byte at a time cannot renew a per-``recv`` timeout; the answer
  is then ``error`` ``timeout``. Bodies are read up to :data:`MAX_BODY` bytes
  (decompressed, in bounded chunks). 429 and 5xx are retried at most
  :data:`MAX_RETRIES` times, all attempts and waits of one exchange within
  :data:`ATTEMPTS` × ``--timeout`` (the retry budget). A retry is made only
  when its wait and a whole attempt fit in what remains of the budget; the
  wait is the ``Retry-After`` (seconds or an HTTP date, at most
  :data:`RETRY_WAIT_CAP` seconds) — a longer one, or one that does not fit, is
  reported with the last answer, not waited out, and never cut short
  (retrying early would only earn another 429).
* **Quiet**: nothing is logged; failures are described from the exception's
  *type* and OS/TLS error text, never from ``str(exception)`` (which can hold
  URLs and, for requests, a reference to the request body).
* **Connection reuse**: keep-alive pools per host, sized to ``--concurrency``,
  built once per host; the headers every request carries are built once.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import math
import re
import socket
import ssl
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from stcheck import __version__
from stcheck.deadline import Deadline, Watchdog
from stcheck.model import Status
from stcheck.net import API_HOSTS, AUTH_HOSTS, HOSTS, TOKEN_PATH, wire
from stcheck.net.classify import Rule, always, classify
from stcheck.net.config import NetConfig, Route
from stcheck.net.pool import ConnectTimedOut, HostPool, ProxyFailed
from stcheck.scrubber import SecretScrubber

MAX_BODY = 256 * 1024
"""Bytes of a response body read at most; a token answer or a one-item page is far smaller."""
MAX_RETRIES = 2
ATTEMPTS = MAX_RETRIES + 1
"""Requests one exchange may make; its retry budget is ATTEMPTS x ``--timeout`` seconds."""
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRY_WAIT_CAP = 5.0
"""The longest single wait stcheck accepts from Retry-After, in seconds."""
BACKOFF = 0.5
"""First wait when a 429/5xx has no usable Retry-After; doubled for each further retry."""
USER_AGENT = f"stcheck/{__version__} (+https://github.com/stcheck/stcheck)"


@dataclass(frozen=True)
class Reply:
    """A response that arrived: status, content type, and at most :data:`MAX_BODY` of body.

    ``body`` is for the caller to parse and drop; it is never shown (``repr``
    omits it). ``attempts`` counts requests made, ``waited`` the seconds spent
    waiting between them.
    """

    host: str
    status: int
    content_type: str = ""
    body: bytes = field(default=b"", repr=False)
    truncated: bool = False
    retry_after: str | None = None
    elapsed: float = 0.0
    attempts: int = 1
    waited: float = 0.0
    via: str = ""

    def json(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON (or was truncated)."""
        if self.truncated or not self.body:
            return None
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return None

    @property
    def is_html(self) -> bool:
        head = self.body[:256].lstrip().lower()
        return "html" in self.content_type or head.startswith((b"<!doctype", b"<html"))


@dataclass(frozen=True)
class Failure:
    """No usable answer: the status (``error`` for could-not-tell), reason word and message."""

    status: Status
    reason: str
    message: str
    attempts: int = 1
    elapsed: float = 0.0


class HostNotAllowed(ValueError):
    """Raised by the transport for any host that is not one of the four ServiceTitan hosts."""


class InvalidHeader(ValueError):
    """A header value stcheck would send holds a line break or leading white space.

    The values are the app key and a token the server issued: a token ending
    in ``\\r\\n X-Other: ...`` must not add a header (http.client would pass
    a folded line). The same rule as ``requests``' ``check_header_validity``.
    """


_CLEAN_HEADER = re.compile(r"\S[^\r\n]*\Z|\Z")
_TARGET = re.compile(r"/[!-~]*\Z")
"""A request target: an absolute path (and query) of visible ASCII, nothing else."""


class _Guard:
    """One request's deadline at the socket: when it fires, the request's socket is shut down.

    The connection attaches its twin (a duplicate of its TCP socket, see
    :mod:`stcheck.net.pool`) as soon as it exists and on every request it
    carries. Shutting the twin down makes any blocked ``recv`` or ``send`` in
    the connect, tunnel, handshake, status line, headers or body return at
    once. All under one lock, so once a connection has left the guard
    (:meth:`detach`, before it goes back to the pool) no shutdown can hit it.
    """

    __slots__ = ("_lock", "_sock", "fired")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self.fired = False

    def attach(self, sock: socket.socket) -> None:
        with self._lock:
            if self.fired:
                _shutdown(sock)
            else:
                self._sock = sock

    def detach(self, sock: socket.socket) -> None:
        with self._lock:
            if self._sock is sock:
                self._sock = None

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shutdown(self._sock)

    def finish(self) -> bool:
        """Stop guarding; True if the deadline fired."""
        with self._lock:
            self._sock = None
            return self.fired


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)


def retry_delay(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        current = time.time() if now is None else now
        seconds = when.timestamp() - current
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


class _Transport:
    """Connection pools for the four ServiceTitan hosts, as :class:`NetConfig` routes them.

    With ``--resolve`` a host's pool connects to the given address, with SNI
    and certificate verification against the ServiceTitan host name; through a
    proxy, a CONNECT tunnel to the host is opened (see :mod:`stcheck.net.pool`).
    All pools share the run's one SSL context (CA bundle loaded once). Any
    other host, or any scheme but ``https``, is refused (:class:`HostNotAllowed`):
    a second line of defence behind :meth:`HttpClient.post_token` and
    :meth:`HttpClient.get_api`.
    """

    def __init__(self, config: NetConfig, context: ssl.SSLContext | None) -> None:
        self._config = config
        self._context = context
        self._maxsize = max(1, config.concurrency)
        self._pools: dict[tuple[str, int], HostPool] = {}
        self._lock = threading.Lock()

    def pool(self, scheme: str, host: str, port: int) -> HostPool:
        """The pool for ``https://host:port`` (built on first use), or :class:`HostNotAllowed`."""
        host = host.lower()
        if scheme != "https" or host not in HOSTS:
            raise HostNotAllowed("stcheck only connects to the ServiceTitan hosts over HTTPS")
        key = (host, port)
        pool = self._pools.get(key)
        if pool is None:
            assert self._context is not None  # without one, HttpClient sends nothing
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    route = self._config.route(host)
                    pool = HostPool(route, port, self._context, self._maxsize)
                    self._pools[key] = pool
        return pool

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


class HttpClient:
    """The run's HTTP client: thread-safe, one per run (one session, one SSL context)."""

    def __init__(self, config: NetConfig, scrubber: SecretScrubber | None = None) -> None:
        self.config = config
        self.scrubber = scrubber or SecretScrubber()
        """What decides whether server-provided text may be shown (the run's, from the CLI)."""
        self._setup_failure: str | None = None
        context: ssl.SSLContext | None = None
        try:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies chain and host name
            context.minimum_version = ssl.TLSVersion.TLSv1_2
            context.load_verify_locations(cafile=config.ca_file, capath=config.ca_dir)
        except (OSError, ssl.SSLError, ValueError) as exc:
            detail = (
                exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            )
            self._setup_failure = f"cannot load the CA bundle from {config.ca_label}: {detail}"
            context = None
        self._transport = _Transport(config, context)
        self._headers = {
            "User-Agent": USER_AGENT,
            "Accept": "application/json",
            "Accept-Encoding": "gzip",
        }
        """What every request carries, built once."""
        self._closed = threading.Event()
        self._watchdog = Watchdog("stcheck-http-deadlines")
        # Close pooled sockets even if nobody calls close() (no ResourceWarning at exit).
        self._finalizer = weakref.finalize(self, _close, self._transport, self._watchdog)

    def close(self) -> None:
        """Close every pooled connection. Idempotent."""
        self._closed.set()
        self._finalizer()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the only two ways to send anything ------------------------------------

    def post_token(self, environment: str, form: Mapping[str, str]) -> Reply | Failure:
        """POST ``form`` (client credentials) to ``environment``'s token endpoint, form-encoded."""
        host = AUTH_HOSTS[environment]
        return self._exchange(
            "POST",
            host,
            TOKEN_PATH,
            body=urlencode(form).encode("ascii"),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )

    def get_api(
        self,
        environment: str,
        path: str,
        *,
        params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> Reply | Failure:
        """GET ``path`` on ``environment``'s API host (``path`` starts with ``/``)."""
        if not path.startswith("/") or "//" in path or ".." in path or "?" in path:
            raise ValueError("an API path is an absolute path without a query")
        host = API_HOSTS[environment]
        target = f"{path}?{urlencode(params)}" if params else path
        if not _TARGET.match(target):
            raise ValueError("an API path is visible ASCII without white space")
        return self._exchange("GET", host, target, headers=dict(headers))

    # -- machinery ---------------------------------------------------------------

    def _exchange(
        self,
        method: str,
        host: str,
        path: str,
        *,
        headers: dict[str, str],
        body: bytes | None = None,
    ) -> Reply | Failure:
        started = time.monotonic()
        timeout = self.config.timeout
        budget = Deadline(started + ATTEMPTS * timeout)
        waited = 0.0
        attempts = 0
        route = self.config.route(host)
        if self._setup_failure is not None:
            return Failure(Status.ERROR, "tls_error", f"{host}: {self._setup_failure}", 0)
        if self.config.problem is not None:
            return Failure(Status.ERROR, "connection_error", f"{host}: {self.config.problem}", 0)
        while True:
            attempts += 1
            deadline = Deadline.after(timeout).earliest(budget)
            outcome = self._once(method, route, path, deadline, headers=headers, body=body)
            if self._closed.is_set():  # whatever happened, it was cut short by close()
                outcome = _stopped(route)
            if isinstance(outcome, Failure):
                return _with(outcome, attempts, time.monotonic() - started)
            if outcome.status in RETRY_STATUSES and attempts <= MAX_RETRIES:
                delay = retry_delay(outcome.retry_after)
                if delay is None:
                    delay = BACKOFF * (2 ** (attempts - 1))
                # Retry only when the wait and a whole attempt fit in what remains of
                # the budget; a Retry-After is never cut short (that earns another 429).
                if delay <= RETRY_WAIT_CAP and delay + timeout <= budget.remaining():
                    if self._closed.wait(delay):
                        break
                    waited += delay
                    continue
            return _reply_with(outcome, attempts, waited, time.monotonic() - started)
        return _with(_stopped(route), attempts, time.monotonic() - started)

    def _once(
        self,
        method: str,
        route: Route,
        path: str,
        deadline: Deadline,
        *,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Reply | Failure:
        limit = deadline.remaining()
        if limit <= 0:
            return _timed_out(route, limit)
        guard = _Guard()
        try:
            alarm = self._watchdog.call_at(deadline, guard.fire)
        except RuntimeError:  # closed: the run is being stopped
            return _stopped(route)
        try:
            return self._send(method, route, path, guard, limit, headers, body)
        finally:
            alarm.cancel()
            guard.finish()

    def _send(
        self,
        method: str,
        route: Route,
        path: str,
        guard: _Guard,
        limit: float,
        headers: dict[str, str],
        body: bytes | None,
    ) -> Reply | Failure:
        try:
            for value in headers.values():
                if not _CLEAN_HEADER.match(value):
                    raise InvalidHeader("a header value holds a line break")
            request = wire.request_bytes(
                method, path, {**self._headers, **headers, "Host": route.netloc}, body
            )
            pool = self._transport.pool("https", route.host, route.port)
            answer = _exchange_on(pool, request, method, limit, guard)
            status = answer.status
            if 300 <= status < 400:
                location = answer.headers.get("location", "")
                target = _location_host(location)
                where = (
                    f" to {target}"
                    if target
                    else (" to another address (not shown)" if location else "")
                )
                return Failure(
                    Status.ERROR,
                    "redirect_blocked",
                    f"{route.host}{route.via} answered HTTP {status}, a redirect{where};"
                    " stcheck never follows redirects",
                )
            if guard.fired:  # a body without a length ends at the shutdown: not complete
                return _timed_out(route, limit)
            return Reply(
                host=route.host,
                status=status,
                content_type=answer.headers.get("content-type", "").lower(),
                body=answer.body,
                truncated=answer.truncated,
                retry_after=answer.headers.get("retry-after"),
                via=route.via,
            )
        except Exception as exc:  # every failure becomes a result, never a traceback
            if guard.fired:
                return _timed_out(route, limit)
            return describe_exception(exc, route, limit, self.config)


def _exchange_on(
    pool: HostPool, request: bytes, method: str, limit: float, guard: _Guard
) -> wire.Answer:
    """Send ``request`` on a pooled (or new) connection of ``pool`` and read its answer.

    The connection goes back to the pool only when its answer was read to the
    end and the deadline did not fire.
    """
    conn = pool.get(limit, guard)
    reusable = False
    try:
        conn.stream.sendall(request)
        answer = wire.read_answer(conn.stream, method, MAX_BODY)
        reusable = answer.reusable
        return answer
    finally:
        # Out of the guard first: a late alarm must not shut a connection another
        # request takes from the pool next.
        conn.unwatch()
        if reusable and not guard.fired:
            pool.put(conn)
        else:
            conn.close()


def _close(transport: _Transport, watchdog: Watchdog) -> None:
    # Requests still on the wire end now (their guards shut their sockets down):
    # with the watchdog gone, nothing else would bound them.
    watchdog.close(fire_armed=True)
    transport.close()


def _stopped(route: Route) -> Failure:
    return Failure(Status.ERROR, "connection_error", f"{route.host}: the run was stopped", 0)


def _seconds(value: float) -> str:
    return f"{round(value, 2):g}"


def _timed_out(route: Route, limit: float) -> Failure:
    return Failure(
        Status.ERROR,
        "timeout",
        f"{route.host}{route.via}: no complete answer within {_seconds(limit)} s (--timeout)",
    )


def _location_host(location: str) -> str | None:
    """The host a redirect points to, when it is a ServiceTitan host (else None: not shown).

    Any other text of a ``Location`` header is the server's and may echo what
    was sent, so only the four known host names are ever named.
    """
    try:
        host = urlsplit(location).hostname
    except ValueError:
        return None
    return host if host in HOSTS else None


def _with(failure: Failure, attempts: int, elapsed: float) -> Failure:
    return Failure(failure.status, failure.reason, failure.message, attempts, elapsed)


def _reply_with(reply: Reply, attempts: int, waited: float, elapsed: float) -> Reply:
    return Reply(
        host=reply.host,
        status=reply.status,
        content_type=reply.content_type,
        body=reply.body,
        truncated=reply.truncated,
        retry_after=reply.retry_after,
        elapsed=elapsed,
        attempts=attempts,
        waited=waited,
        via=reply.via,
    )


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it wraps (causes, contexts, exception args)."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < 32:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__]
        wrapped.extend(arg for arg in current.args if isinstance(arg, BaseException))
        stack.extend(w for w in wrapped if isinstance(w, BaseException))


def _tls_detail(exc: BaseException) -> str:
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLCertVerificationError):
            return f"certificate verify failed: {cause.verify_message}"
        if isinstance(cause, ssl.CertificateError):
            return "the certificate does not match the host name"
    for cause in _causes(exc):
        if isinstance(cause, ssl.SSLError) and cause.reason:
            return str(cause.reason).lower().replace("_", " ")
    return "handshake failed"


def _os_detail(exc: BaseException) -> str | None:
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.strerror:
            return str(cause.strerror)
    return None


@dataclass(frozen=True)
class _Raised:
    """A transport exception, everything it wraps, and where the request was going."""

    exc: BaseException
    kinds: tuple[type[BaseException], ...]
    route: Route
    timeout: float
    config: NetConfig

    @property
    def where(self) -> str:
        return f"{self.route.host}{self.route.via}"

    def wraps(self, *types: type[BaseException]) -> bool:
        """True when the exception or anything it wraps is one of ``types``."""
        return any(issubclass(kind, types) for kind in self.kinds)

    def raised(self, *types: type[BaseException]) -> bool:
        """True when the exception itself is one of ``types``."""
        return isinstance(self.exc, types)


def _connection_detail(seen: _Raised) -> str:
    if seen.wraps(wire.Incomplete):
        return "the server closed the connection without a complete answer"
    return _os_detail(seen.exc) or "the connection failed"


EXCEPTIONS: tuple[Rule[_Raised], ...] = (
    Rule(
        lambda s: s.raised(HostNotAllowed),
        Status.ERROR,
        "connection_error",
        lambda s: f"{s.route.host}: {s.exc.args[0]}",
    ),
    Rule(
        lambda s: s.wraps(socket.gaierror),
        Status.ERROR,
        "dns_error",
        lambda s: f"{s.where}: the host name does not resolve",
    ),
    Rule(
        lambda s: s.wraps(ProxyFailed),
        Status.ERROR,
        "connection_error",
        lambda s: (
            f"{s.where}: proxy error:"
            f" {_os_detail(s.exc) or 'the proxy refused or failed the connection'}"
        ),
    ),
    Rule(
        lambda s: s.wraps(ssl.SSLError, ssl.CertificateError),
        Status.ERROR,
        "tls_error",
        lambda s: f"{s.where}: TLS failed: {_tls_detail(s.exc)} (CA bundle: {s.config.ca_label})",
    ),
    Rule(
        lambda s: s.wraps(ConnectTimedOut),
        Status.ERROR,
        "timeout",
        lambda s: f"{s.where}: no connection within {_seconds(s.timeout)} s (--timeout)",
    ),
    Rule(
        lambda s: s.wraps(TimeoutError),
        Status.ERROR,
        "timeout",
        lambda s: _timed_out(s.route, s.timeout).message,
    ),
    Rule(
        lambda s: s.wraps(wire.Garbled),
        Status.ERROR,
        "malformed_response",
        lambda s: f"{s.where}: the answer was garbled",
    ),
    Rule(
        lambda s: s.wraps(OSError),
        Status.ERROR,
        "connection_error",
        lambda s: f"{s.where}: {_connection_detail(s)}",
    ),
    Rule(
        always,
        Status.ERROR,
        "connection_error",
        lambda s: f"{s.where}: the request failed ({type(s.exc).__name__})",
    ),
)
"""How a transport exception is classified: the first row that matches decides.

Every row is ``error`` (could not tell). Messages are built from exception
*types* and OS/TLS error text, never from ``str(exception)``.
"""


def describe_exception(
    exc: BaseException, route: Route, timeout: float, config: NetConfig
) -> Failure:
    """Classify a transport exception by :data:`EXCEPTIONS`."""
    kinds = tuple(type(cause) for cause in _causes(exc))
    verdict = classify(EXCEPTIONS, _Raised(exc, kinds, route, timeout, config))
    assert verdict.reason is not None  # every row of EXCEPTIONS names its reason
    return Failure(verdict.status, verdict.reason, verdict.message)

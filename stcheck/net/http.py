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
* **No ambient configuration per request**: urllib3's connection pools are
  used directly (``requests``' session layer cost about as much CPU per
  request as urllib3 itself, and its ambient features are all ones stcheck
  must switch off): no ``.netrc``, no per-request scan of the environment, no
  cookie jar; proxies and the CA bundle come from
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

import base64
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
from http.client import HTTPException
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

import urllib3
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.poolmanager import ProxyManager

from stcheck import __version__
from stcheck.deadline import Deadline, Watchdog
from stcheck.model import Status
from stcheck.net import API_HOSTS, AUTH_HOSTS, HOSTS, TOKEN_PATH, wire
from stcheck.net.classify import Rule, always, classify
from stcheck.net.config import NetConfig, Route
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

    The connection attaches a duplicate of its socket (``socket.dup()``: the
    same connection under another descriptor, usable while TLS owns the
    original) as soon as it exists and on every request it carries. Shutting
    it down makes any blocked ``recv`` in the handshake, status line, headers
    or body return at once. All under one lock, so once :meth:`finish` has
    returned no shutdown can hit a socket the pool reuses (and a connection
    given back to the pool is detached from its guard first).

    When http.client closes the connection object while its answer is still
    being read (``Connection: close``, HTTP/1.0, a body that ends at the
    close), the guard *adopts* the duplicate — the read goes on through the
    answer's own reference to the socket, and only the duplicate can end it —
    and closes it in :meth:`finish`.
    """

    __slots__ = ("_adopted", "_lock", "_sock", "fired")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._adopted: socket.socket | None = None
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

    def adopt(self, sock: socket.socket) -> bool:
        """Take over closing ``sock`` if it is the one guarded (True), else leave it (False)."""
        with self._lock:
            if self._sock is not sock:
                return False
            self._adopted = sock
            return True

    def fire(self) -> None:
        with self._lock:
            self.fired = True
            if self._sock is not None:
                _shutdown(self._sock)

    def finish(self) -> bool:
        """Stop guarding (closing an adopted socket); True if the deadline fired."""
        with self._lock:
            self._sock = None
            adopted, self._adopted = self._adopted, None
            fired = self.fired
        if adopted is not None:
            adopted.close()
        return fired


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed or never connected
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()
"""``_current.guard``: the :class:`_Guard` of the request this thread is sending, if any."""


class _Connection(HTTPSConnection):
    """urllib3's HTTPS connection, watched by the current request's :class:`_Guard`.

    urllib3 connects it (TCP, proxy tunnel, TLS); requests and answers go
    through :mod:`stcheck.net.wire` on its socket.
    """

    _twin: socket.socket | None = None
    _guard: _Guard | None = None

    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        self._drop_twin()
        try:
            self._twin = sock.dup()
        except OSError:
            sock.close()
            raise
        self.watch()
        return sock

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._drop_twin()

    def watch(self) -> None:
        """Put the connection under the current request's guard (from the moment it exists)."""
        guard: _Guard | None = getattr(_current, "guard", None)
        twin = self._twin
        if guard is not None and twin is not None:
            self._guard = guard
            guard.attach(twin)

    def unwatch(self) -> None:
        """Leave the current request's guard (before the connection goes back to the pool)."""
        guard, self._guard = self._guard, None
        if guard is not None and self._twin is not None:
            guard.detach(self._twin)

    def _drop_twin(self) -> None:
        twin, self._twin = self._twin, None
        guard, self._guard = self._guard, None
        if twin is None:
            return
        # Closed by http.client while the guard still needs it (a failed proxy tunnel):
        # the guard keeps the twin and closes it when the request ends.
        if guard is not None and guard.adopt(twin):
            return
        twin.close()


class _SSLSocket(ssl.SSLSocket):
    """An SSL socket whose ``settimeout`` does nothing when the timeout does not change.

    Every request sets its socket blocking; on a reused connection that is
    already so, and the system call (which lets go of the GIL, a hand-over
    for 64 busy threads) is skipped.
    """

    def settimeout(self, value: float | None) -> None:
        if value != self.gettimeout():
            super().settimeout(value)


class _Pool(HTTPSConnectionPool):
    ConnectionCls = _Connection

    def _put_conn(self, conn: Any) -> None:
        # A request's alarm may still go off after its answer gave the connection back:
        # it must not shut down the connection another request has taken from the pool.
        if isinstance(conn, _Connection):
            conn.unwatch()
        super()._put_conn(conn)


_POOL_CLASSES = {"http": HTTPConnectionPool, "https": _Pool}


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
    proxy, a CONNECT tunnel to the host is opened by urllib3's proxy manager
    (with ``Proxy-Authorization`` from the proxy URL's user and password, as
    ``requests`` sends it). All pools share the run's one SSL context (CA
    bundle loaded once). Any other host, or any scheme but ``https``, is
    refused (:class:`HostNotAllowed`): a second line of defence behind
    :meth:`HttpClient.post_token` and :meth:`HttpClient.get_api`.
    """

    def __init__(self, config: NetConfig, context: ssl.SSLContext | None) -> None:
        self._config = config
        self._maxsize = max(1, config.concurrency)
        self._pool_kwargs: dict[str, Any] = {"cert_reqs": "CERT_REQUIRED"}
        if context is not None:
            self._pool_kwargs["ssl_context"] = context
        self._pools: dict[tuple[str, int], HTTPConnectionPool] = {}
        self._proxies: dict[str, ProxyManager] = {}
        self._lock = threading.Lock()

    def pool(self, scheme: str, host: str, port: int) -> HTTPConnectionPool:
        """The pool for ``https://host:port`` (built on first use), or :class:`HostNotAllowed`."""
        host = host.lower()
        if scheme != "https" or host not in HOSTS:
            raise HostNotAllowed("stcheck only connects to the ServiceTitan hosts over HTTPS")
        key = (host, port)
        pool = self._pools.get(key)
        if pool is None:
            with self._lock:
                pool = self._pools.get(key)
                if pool is None:
                    pool = self._pools[key] = self._new_pool(host, port)
        return pool

    def _new_pool(self, host: str, port: int) -> HTTPConnectionPool:
        route = self._config.route(host)
        if route.proxy is not None:
            manager = self._proxies.get(route.proxy)
            if manager is None:
                manager = self._proxies[route.proxy] = ProxyManager(
                    route.proxy,
                    num_pools=8,
                    maxsize=self._maxsize,
                    block=False,
                    proxy_headers=_proxy_headers(route.proxy),
                )
                manager.pool_classes_by_scheme = _POOL_CLASSES
            pool: HTTPConnectionPool = manager.connection_from_host(
                host=host, port=port, scheme="https", pool_kwargs=dict(self._pool_kwargs)
            )
            return pool
        address = host
        kwargs = dict(self._pool_kwargs)
        if route.address is not None and port == route.port:
            address = route.address
            kwargs["server_hostname"] = host
        return _Pool(address, port, maxsize=self._maxsize, block=False, **kwargs)

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
            proxies, self._proxies = list(self._proxies.values()), {}
        for pool in pools:
            pool.close()
        for manager in proxies:
            manager.clear()


def _proxy_headers(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization: Basic ...`` from the proxy URL's user and password, if any."""
    parts = urlsplit(proxy)
    if not parts.username:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode("latin-1")
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


class HttpClient:
    """The run's HTTP client: thread-safe, one per run (one session, one SSL context)."""

    def __init__(self, config: NetConfig, scrubber: SecretScrubber | None = None) -> None:
        self.config = config
        self.scrubber = scrubber or SecretScrubber()
        """What decides whether server-provided text may be shown (the run's, from the CLI)."""
        self._setup_failure: str | None = None
        context: ssl.SSLContext | None = None
        try:
            context = urllib3.util.ssl_.create_urllib3_context(cert_reqs=ssl.CERT_REQUIRED)
            context.load_verify_locations(cafile=config.ca_file, capath=config.ca_dir)
            context.sslsocket_class = _SSLSocket
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
        return Failure(Status.ERROR, "connection_error", f"{host}: the run was stopped", attempts)

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
        alarm = self._watchdog.call_at(deadline, guard.fire)
        _current.guard = guard
        try:
            return self._send(method, route, path, guard, limit, headers, body)
        finally:
            _current.guard = None
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
    pool: HTTPConnectionPool, request: bytes, method: str, limit: float, guard: _Guard
) -> wire.Answer:
    """Send ``request`` on a pooled (or new) connection of ``pool`` and read its answer.

    urllib3 connects (TCP within ``limit`` seconds, the proxy tunnel, TLS with
    verification); :mod:`stcheck.net.wire` writes the request and frames the
    answer. The connection goes back to the pool only when its answer was read
    to the end and the deadline did not fire; errors are wrapped as urllib3's
    ``urlopen`` wraps them, so :data:`EXCEPTIONS` classifies both alike.
    """
    conn: Any = pool._get_conn()
    reusable = False
    try:
        conn.timeout = limit
        if conn.is_closed:
            if pool.proxy is not None:
                pool._prepare_proxy(conn)  # the CONNECT tunnel, then TLS through it
            else:
                conn.connect()
        else:
            conn.watch()
        sock = conn.sock
        # Connected within the connect timeout: from here on the socket blocks, and
        # the guard's shutdown is what ends the request at its deadline.
        sock.settimeout(None)
        sock.sendall(request)
        answer = wire.read_answer(sock, method, MAX_BODY)
        reusable = answer.reusable
        return answer
    except (OSError, HTTPException, urllib3.exceptions.HTTPError, ssl.CertificateError) as exc:
        raise _as_urlopen_raises(exc, conn) from exc
    finally:
        # Out of the guard first: a late alarm must not shut a connection another
        # request takes from the pool next.
        conn.unwatch()
        if not reusable or guard.fired:
            conn.close()
            conn = None
        pool._put_conn(conn)


def _as_urlopen_raises(exc: BaseException, conn: Any) -> BaseException:
    """``exc`` wrapped the way urllib3's ``urlopen`` wraps a failed request's exception."""
    wrapped: BaseException = exc
    if isinstance(exc, (ssl.SSLError, ssl.CertificateError)):
        wrapped = urllib3.exceptions.SSLError(exc)
    if (
        isinstance(wrapped, (OSError, TimeoutError, HTTPException, urllib3.exceptions.HTTPError))
        and conn.proxy is not None
        and not conn.has_connected_to_proxy
    ):
        return urllib3.exceptions.ProxyError("Unable to connect to proxy", wrapped)
    if isinstance(wrapped, (OSError, HTTPException)):
        return urllib3.exceptions.ProtocolError("Connection aborted.", wrapped)
    return wrapped


def _close(transport: _Transport, watchdog: Watchdog) -> None:
    watchdog.close()
    transport.close()


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
    """``exc`` and everything it wraps (causes, contexts, urllib3 reasons, exception args)."""
    seen: set[int] = set()
    stack = [exc]
    while stack and len(seen) < 32:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [getattr(current, "reason", None), current.__cause__, current.__context__]
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


def _connect_timed_out(seen: _Raised) -> bool:
    # urllib3 wraps a refused connection's timeout too; that one is not a timeout.
    return seen.wraps(urllib3.exceptions.ConnectTimeoutError) and not seen.wraps(
        urllib3.exceptions.NewConnectionError
    )


def _connection_detail(seen: _Raised) -> str:
    detail = _os_detail(seen.exc)
    if detail:
        return detail
    if seen.wraps(urllib3.exceptions.ProtocolError):
        return "the server closed the connection without a complete answer"
    return "the connection failed"


_TLS_ERRORS = (
    ssl.SSLError,
    ssl.CertificateError,
    urllib3.exceptions.SSLError,
)
_CONNECTION_ERRORS = (
    ConnectionError,
    OSError,
    urllib3.exceptions.HTTPError,
)

EXCEPTIONS: tuple[Rule[_Raised], ...] = (
    Rule(
        lambda s: s.raised(HostNotAllowed),
        Status.ERROR,
        "connection_error",
        lambda s: f"{s.route.host}: {s.exc.args[0]}",
    ),
    Rule(
        lambda s: s.wraps(urllib3.exceptions.NameResolutionError, socket.gaierror),
        Status.ERROR,
        "dns_error",
        lambda s: f"{s.where}: the host name does not resolve",
    ),
    Rule(
        lambda s: s.wraps(urllib3.exceptions.ProxyError),
        Status.ERROR,
        "connection_error",
        lambda s: (
            f"{s.where}: proxy error:"
            f" {_os_detail(s.exc) or 'the proxy refused or failed the connection'}"
        ),
    ),
    Rule(
        lambda s: s.wraps(*_TLS_ERRORS),
        Status.ERROR,
        "tls_error",
        lambda s: f"{s.where}: TLS failed: {_tls_detail(s.exc)} (CA bundle: {s.config.ca_label})",
    ),
    Rule(
        _connect_timed_out,
        Status.ERROR,
        "timeout",
        lambda s: f"{s.where}: no connection within {_seconds(s.timeout)} s (--timeout)",
    ),
    Rule(
        lambda s: s.wraps(urllib3.exceptions.ReadTimeoutError, TimeoutError, socket.timeout),
        Status.ERROR,
        "timeout",
        lambda s: _timed_out(s.route, s.timeout).message,
    ),
    Rule(
        lambda s: s.wraps(urllib3.exceptions.DecodeError, wire.Garbled),
        Status.ERROR,
        "malformed_response",
        lambda s: f"{s.where}: the answer was garbled",
    ),
    Rule(
        lambda s: s.route.proxy is not None and s.wraps(urllib3.exceptions.LocationValueError),
        Status.ERROR,
        "connection_error",
        lambda s: f"{s.where}: the proxy setting is not usable (check HTTPS_PROXY)",
    ),
    Rule(
        lambda s: s.wraps(*_CONNECTION_ERRORS),
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

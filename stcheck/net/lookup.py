"""Host lookups for the ``dns`` check, done the way the HTTP client will connect.

A host given with ``--resolve`` "resolves" to that address; a host reached
through a proxy is resolved by the proxy (not looked up here); any other host
goes to the system resolver (``getaddrinfo``) on a daemon thread, bounded by
``--timeout``. Each host is looked up once per run (:class:`DnsStore`, the
run's shared service ``dns``, which the ``token`` and ``api`` checks consult).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from stcheck.model import Status

if TYPE_CHECKING:
    from stcheck.net.config import NetConfig, Route


@dataclass(frozen=True)
class HostLookup:
    """How one host resolved in this run."""

    host: str
    status: Status
    reason: str | None
    message: str
    addresses: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """False when the host cannot be reached (checks that need it are skipped)."""
        return self.status in (Status.PASS, Status.WARN, Status.SKIP)


class DnsStore:
    """The run's host lookups (shared service ``dns``); each host is looked up once per run."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lookups: dict[str, HostLookup] = {}

    def get(self, host: str) -> HostLookup | None:
        with self._lock:
            return self._lookups.get(host)

    def lookup_all(self, hosts: Sequence[str], config: NetConfig) -> dict[str, HostLookup]:
        """Look up ``hosts`` concurrently; none takes longer than ``config.timeout``."""
        with self._lock:
            todo = [h for h in dict.fromkeys(hosts) if h not in self._lookups]
        found: dict[str, HostLookup] = {}
        threads: list[tuple[str, threading.Thread]] = []
        for host in todo:
            route = config.route(host)
            immediate = _without_lookup(route)
            if immediate is not None:
                found[host] = immediate
                continue

            def work(route: Route = route) -> None:
                lookup = _lookup(route)
                with self._lock:
                    found[route.host] = lookup

            # Daemon threads: getaddrinfo cannot be interrupted, and a hung
            # resolver must not keep the process alive past the run.
            thread = threading.Thread(target=work, name=f"stcheck-dns-{host}", daemon=True)
            thread.start()
            threads.append((host, thread))
        deadline = time.monotonic() + config.timeout
        for _, thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            for host, _ in threads:
                if host not in found:
                    found[host] = HostLookup(
                        host,
                        Status.ERROR,
                        "dns_error",
                        f"{host}: no answer from the resolver within {config.timeout:g} s",
                    )
            for host, lookup in found.items():
                self._lookups.setdefault(host, lookup)
            return {host: self._lookups[host] for host in hosts}


def _private(address: str) -> bool:
    import ipaddress

    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_unspecified
        or ip.is_multicast
    )


def _classify(host: str, addresses: tuple[str, ...], how: str) -> HostLookup:
    shown = ", ".join(addresses[:3]) + (" …" if len(addresses) > 3 else "")
    if any(_private(a) for a in addresses):
        return HostLookup(host, Status.WARN, "private_address", f"{host} → {shown}{how}", addresses)
    return HostLookup(host, Status.PASS, None, f"{host} → {shown}{how}", addresses)


def _without_lookup(route: Route) -> HostLookup | None:
    if route.proxy is not None:
        return HostLookup(
            route.host,
            Status.SKIP,
            "not_applicable",
            f"{route.host} is reached through proxy {route.proxy_label}, which resolves it",
        )
    if route.address is not None:
        return _classify(route.host, (route.address,), " (--resolve)")
    return None


def _lookup(route: Route) -> HostLookup:
    import socket

    not_found = {
        getattr(socket, name) for name in ("EAI_NONAME", "EAI_NODATA") if hasattr(socket, name)
    }
    host = route.host
    try:
        infos = socket.getaddrinfo(host, route.port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in not_found:
            message = f"{host} does not resolve (no such name)"
            return HostLookup(host, Status.FAIL, "dns_error", message)
        detail = exc.strerror or "resolver error"
        return HostLookup(host, Status.ERROR, "dns_error", f"{host} did not resolve: {detail}")
    except (OSError, UnicodeError) as exc:
        return HostLookup(
            host, Status.ERROR, "dns_error", f"{host} did not resolve ({type(exc).__name__})"
        )
    addresses = tuple(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        return HostLookup(host, Status.FAIL, "dns_error", f"{host} resolves to no address")
    return _classify(host, addresses, "")

"""The run's network settings, read from the options and the environment once per run.

``requests`` with ``trust_env=True`` re-reads proxies, ``NO_PROXY``, CA bundles
and ``.netrc`` from the process environment on *every* request; a CI runner
holding thousands of secret variables makes that cost milliseconds of CPU per
request, and ``.netrc`` must never be read at all. So stcheck reads what it
honours here, once, and the HTTP client runs with ``trust_env=False``:

* **CA bundle**: ``--ca-bundle``, else ``REQUESTS_CA_BUNDLE``, else
  ``CURL_CA_BUNDLE``, else certifi's bundle. Verification is never off.
* **Proxy**: ``https_proxy``/``HTTPS_PROXY`` (then ``all_proxy``), minus the
  hosts ``no_proxy``/``NO_PROXY`` exempts — the same variables and precedence as
  ``requests`` and ``urllib``. A proxy URL that cannot be used (a port out of
  range, an unbalanced ``[``, a scheme other than ``http``/``https``, a
  malformed host) is recorded as :attr:`NetConfig.problem`, naming the
  variable and never repeating the value (it may hold a password): the CLI
  makes it an input error, the HTTP client refuses to send.
* **--resolve HOST:PORT:ADDRESS**, as curl: requests to ``https://HOST:PORT``
  connect to ``ADDRESS`` while TLS SNI, certificate verification and the
  ``Host`` header keep ``HOST``. The URL's port is the one given, so
  ``auth.servicetitan.io:8443:127.0.0.1`` sends token requests to
  ``https://auth.servicetitan.io:8443/connect/token``. As with curl, a host
  reached through a proxy is resolved by the proxy, so ``--resolve`` does not
  apply to it (exempt it with ``NO_PROXY`` to connect directly). Entries for
  hosts other than the four ServiceTitan hosts are ignored.

Nothing here imports ``requests``.
"""

from __future__ import annotations

import ipaddress
import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from stcheck.net import DEFAULT_PORT, HOSTS


@dataclass(frozen=True)
class Route:
    """How to reach one ServiceTitan host in this run."""

    host: str
    port: int = DEFAULT_PORT
    address: str | None = None
    """The ``--resolve`` address to connect to instead of resolving ``host`` (direct only)."""
    proxy: str | None = field(default=None, repr=False)
    """The proxy URL (it may hold credentials: never show it; see :attr:`proxy_label`)."""

    @property
    def netloc(self) -> str:
        return self.host if self.port == DEFAULT_PORT else f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        """``https://HOST[:PORT]PATH``."""
        return f"https://{self.netloc}{path}"

    @property
    def proxy_label(self) -> str | None:
        """The proxy as ``scheme://host:port``, without any credentials."""
        if self.proxy is None:
            return None
        parts = urlsplit(self.proxy)
        host = parts.hostname or "?"
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{host}{port}"

    @property
    def via(self) -> str:
        """A few words on how the host is reached, for messages."""
        if self.proxy is not None:
            return f" via proxy {self.proxy_label}"
        if self.address is not None:
            return f" (--resolve to {self.address})"
        return ""


@dataclass(frozen=True)
class NetConfig:
    """Everything the HTTP client and the DNS check need to know about the network."""

    timeout: float = 10.0
    concurrency: int = 16
    ca_file: str | None = None
    ca_dir: str | None = None
    ca_source: str = "certifi"
    routes: Mapping[str, Route] = field(default_factory=dict)
    ignored_resolve: tuple[str, ...] = ()
    problem: str | None = None
    """Why the settings cannot be used (a malformed proxy URL), or None; never holds a value."""

    def route(self, host: str) -> Route:
        """The route to ``host``, one of the four ServiceTitan hosts."""
        if host not in HOSTS:
            raise ValueError(f"{host!r} is not a ServiceTitan host")
        return self.routes.get(host) or Route(host)

    @property
    def ca_label(self) -> str:
        path = self.ca_file or self.ca_dir
        return f"{self.ca_source} ({path})" if path else self.ca_source

    @classmethod
    def from_options(
        cls,
        *,
        timeout: float = 10.0,
        concurrency: int = 16,
        ca_bundle: str | None = None,
        resolve: tuple[str, ...] | list[str] = (),
        environ: Mapping[str, str] | None = None,
    ) -> NetConfig:
        """Read the settings once: options first, then the environment (``os.environ``)."""
        env = os.environ if environ is None else environ
        ca_file, ca_dir, source = _ca_bundle(ca_bundle, env)
        overrides, ignored = parse_resolve(resolve)
        proxies = _proxies(env)
        problem: str | None = None
        routes: dict[str, Route] = {}
        for host in sorted(HOSTS):
            port, address = overrides.get(host, (DEFAULT_PORT, None))
            proxy = _proxy_for(host, proxies)
            if proxy is not None and (issue := proxy_problem(proxy)) is not None:
                problem = f"{_proxy_source(env, proxies)} is not a usable proxy URL: {issue}"
                proxy = None
            routes[host] = Route(
                host=host,
                port=port,
                address=None if proxy is not None else address,
                proxy=proxy,
            )
        return cls(
            timeout=timeout,
            concurrency=max(1, concurrency),
            ca_file=ca_file,
            ca_dir=ca_dir,
            ca_source=source,
            routes=routes,
            ignored_resolve=tuple(ignored),
            problem=problem,
        )


def parse_resolve(
    specs: tuple[str, ...] | list[str],
) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """``HOST:PORT:ADDRESS`` entries for ServiceTitan hosts, by host; the first entry wins.

    ``ADDRESS`` may be an IPv6 address, bracketed or not, or a comma-separated
    list (the first address is used). Returns the overrides and the entries
    ignored (other hosts, malformed).
    """
    overrides: dict[str, tuple[int, str]] = {}
    ignored: list[str] = []
    for spec in specs:
        host, _, rest = spec.partition(":")
        port_text, _, address = rest.partition(":")
        host = host.strip().lower().rstrip(".")
        address = address.split(",", 1)[0].strip()
        if address.startswith("[") and address.endswith("]"):
            address = address[1:-1]
        if (
            host not in HOSTS
            or not port_text.isdigit()
            or not 0 < int(port_text) < 65536
            or not address
        ):
            ignored.append(spec)
            continue
        overrides.setdefault(host, (int(port_text), address))
    return overrides, ignored


def _ca_bundle(option: str | None, env: Mapping[str, str]) -> tuple[str | None, str | None, str]:
    for source, value in (
        ("--ca-bundle", option),
        ("REQUESTS_CA_BUNDLE", env.get("REQUESTS_CA_BUNDLE")),
        ("CURL_CA_BUNDLE", env.get("CURL_CA_BUNDLE")),
    ):
        if value:
            path = os.path.expanduser(value)
            if os.path.isdir(path):
                return None, path, source
            return path, None, source
    import certifi

    return certifi.where(), None, "certifi"


def _proxies(env: Mapping[str, str]) -> dict[str, str]:
    if env is os.environ and sys.platform in ("darwin", "win32"):
        import urllib.request  # ~50 ms of imports: only where the OS has proxy settings

        # The OS's proxy settings too (macOS, Windows); elsewhere the environment only.
        return dict(urllib.request.getproxies())
    proxies: dict[str, str] = {}
    # Names first: a CI runner's environment holds thousands of credentials, and
    # reading every value twice (as urllib does) cost ~40 ms at 4,000 of them.
    named = [(name, env[name]) for name in env if name[-6:].lower() == "_proxy"]
    # The same rules as urllib.request.getproxies_environment: lowercase wins.
    for name, value in named:
        if value:
            proxies[name.lower()[:-6]] = value
    for name, value in named:
        if name.endswith("_proxy"):  # as urllib: the suffix lowercase, not the whole name
            if value:
                proxies[name.lower()[:-6]] = value
            else:
                proxies.pop(name.lower()[:-6], None)
    return proxies


_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")


def proxy_problem(url: str) -> str | None:
    """What makes ``url`` unusable as the HTTPS proxy, or None.

    The words never repeat any part of ``url``: a proxy URL may carry a user
    name and password.
    """
    if any(c.isspace() or not c.isprintable() for c in url):
        return "it contains whitespace or control characters"
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it is not a URL (check the brackets around an IPv6 address)"
    if parts.scheme not in ("http", "https"):
        return "the scheme must be http:// or https://"
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.rpartition("@")[2].endswith(":")):
        return "the port is not a number from 1 to 65535"
    host = parts.hostname or ""
    if not host:
        return "it names no proxy host"
    hostinfo = parts.netloc.rpartition("@")[2]
    if hostinfo.startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return "the IPv6 address in brackets is not valid"
    elif len(host) > 253 or not _HOST_NAME.fullmatch(host):
        return "the proxy host name is not valid"
    return None


def _proxy_source(env: Mapping[str, str], proxies: Mapping[str, str]) -> str:
    """The variable the HTTPS proxy came from, for messages."""
    value = proxies.get("https") or proxies.get("all")
    for name in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        if value and env.get(name) == value:
            return name
    return "the system proxy setting"


def _proxy_for(host: str, proxies: Mapping[str, str]) -> str | None:
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy or bypass_proxy(host, proxies.get("no", "")):
        return None
    if "://" not in proxy:
        proxy = "http://" + proxy
    return proxy


def bypass_proxy(host: str, no_proxy: str) -> bool:
    """True when ``no_proxy`` (comma- or space-separated) exempts ``host``, as curl and urllib do.

    ``*`` exempts everything; ``example.com`` and ``.example.com`` exempt the
    domain and its subdomains; a ``:port`` suffix on an entry is ignored.
    """
    host = host.lower().rstrip(".")
    for raw in no_proxy.replace(" ", ",").split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name == "*":
            return True
        if not name.startswith("["):
            name = name.rsplit(":", 1)[0] if name.count(":") == 1 else name
        name = name.lstrip(".").rstrip(".")
        if name and (host == name or host.endswith("." + name)):
            return True
    return False

"""Fixtures of the online suite: a network guard, a clean network environment, a run harness.

Every test here talks to :class:`stcheck.testing.fake.FakeServiceTitan` over real
TLS on 127.0.0.1 through the real command line (``stcheck.cli.main``). The
autouse ``network_guard`` fails any test that tries to connect, or look up a
name, outside 127.0.0.0/8.
"""

from __future__ import annotations

import io
import ipaddress
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from stcheck.cli import main
from stcheck.testing.fake import FakeClient, FakeServiceTitan

NETWORK_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "SSL_CERT_FILE",
)


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host == "localhost"
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@dataclass
class NetworkGuard:
    """Records connection attempts and name lookups that would leave 127.0.0.0/8."""

    violations: list[str] = field(default_factory=list)


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[NetworkGuard]:
    """Refuse (and fail the test for) any connection or lookup beyond loopback."""
    guard = NetworkGuard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family == socket.AF_UNIX:
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            guard.violations.append(f"connect to {address!r}")
            raise PermissionError(f"network guard: {address!r} is not loopback")

    def connect(self: socket.socket, address: Any) -> None:
        check(self, address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        check(self, address)
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else host
        if name is not None and not _loopback(name):
            guard.violations.append(f"getaddrinfo({name!r})")
            raise socket.gaierror(socket.EAI_NONAME, "network guard: not a loopback name")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield guard
    assert not guard.violations, f"the test tried to leave loopback: {guard.violations}"


@pytest.fixture(autouse=True)
def clean_network_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy or CA variables from the machine running the tests."""
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@dataclass
class Outcome:
    """A finished CLI run: exit status, stdout, stderr, and the JSON document when asked for."""

    code: int
    stdout: str
    stderr: str
    document: dict[str, Any] | None = None

    @property
    def results(self) -> list[dict[str, Any]]:
        assert self.document is not None, "run with fmt='json' to inspect results"
        return list(self.document["results"])

    def find(
        self, check: str, tenant: str | None = None, environment: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            r
            for r in self.results
            if r["check"] == check
            and (tenant is None or r["tenant"] == tenant)
            and (environment is None or r["environment"] == environment)
        ]

    def one(
        self, check: str, tenant: str | None = None, environment: str | None = None
    ) -> dict[str, Any]:
        found = self.find(check, tenant, environment)
        assert len(found) == 1, f"expected one {check} result for {tenant}/{environment}: {found}"
        return found[0]

    def status(
        self, check: str, tenant: str | None = None, environment: str | None = None
    ) -> tuple[str, str | None]:
        result = self.one(check, tenant, environment)
        return result["status"], result["reason"]


class Harness:
    """Builds a manifest + environment for clients registered with the fake, and runs the CLI."""

    def __init__(
        self, fake: FakeServiceTitan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        self.fake = fake
        self.dir = tmp_path
        self.monkeypatch = monkeypatch
        self.tenants: dict[str, dict[str, Any]] = {}
        self.app: dict[str, Any] = {"name": "test-app", "app_key": "env:T_APP_KEY"}
        self.next_tenant_id = 1000
        monkeypatch.setenv("T_APP_KEY", fake.app_key)
        self.manifest = tmp_path / "stcheck.yaml"

    def add(
        self,
        name: str,
        environment: str = "integration",
        *,
        behavior: str = "ok",
        client: FakeClient | None = None,
        allowed: bool = True,
        secret: str | None = None,
        group: str | None = None,
        register: bool = True,
        **client_options: Any,
    ) -> FakeClient:
        """Add a tenant entry; register a new fake client for it unless ``client`` is given.

        ``secret`` overrides the value put in the secret's variable; ``allowed=False``
        leaves the tenant out of the client's allowed tenants (probe 403); ``group``
        declares an ``enterprise_group`` and makes a new client an Enterprise Hub one.
        """
        self.next_tenant_id += 1
        tenant_id = self.next_tenant_id
        if client is None:
            if group is not None:
                client_options.setdefault("enterprise", True)
            client = FakeClient(environment, behavior=behavior, **client_options)
            if register:
                self.fake.add_client(client)
        if allowed:
            client.tenants.add(tenant_id)
        prefix = f"T_{name.upper().replace('-', '_')}_{environment[:4].upper()}"
        self.monkeypatch.setenv(f"{prefix}_ID", client.client_id)
        self.monkeypatch.setenv(
            f"{prefix}_SECRET", client.client_secret if secret is None else secret
        )
        entry: dict[str, Any] = {
            "tenant_id": tenant_id,
            "client_id": f"env:{prefix}_ID",
            "client_secret": f"env:{prefix}_SECRET",
        }
        if group is not None:
            shared = f"T_GROUP_{group.upper()}_{environment[:4].upper()}"
            self.monkeypatch.setenv(f"{shared}_ID", client.client_id)
            self.monkeypatch.setenv(
                f"{shared}_SECRET", client.client_secret if secret is None else secret
            )
            entry.update(
                client_id=f"env:{shared}_ID",
                client_secret=f"env:{shared}_SECRET",
                enterprise_group=group,
            )
        self.tenants.setdefault(name, {"name": name, "environments": {}})
        self.tenants[name]["environments"][environment] = entry
        return client

    def write(self) -> Path:
        document = {"version": 1, "app": self.app, "tenants": list(self.tenants.values())}
        self.manifest.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
        return self.manifest

    def run(
        self, *args: str, fmt: str = "json", network: bool = True, write: bool = True
    ) -> Outcome:
        if write:
            self.write()
        argv = ["check", str(self.manifest), "--format", fmt, *args]
        if network:
            argv += self.fake.cli_args()
        stdout, stderr = io.StringIO(), io.StringIO()
        code = main(argv, stdout=stdout, stderr=stderr)
        document = json.loads(stdout.getvalue()) if fmt == "json" and stdout.getvalue() else None
        return Outcome(code, stdout.getvalue(), stderr.getvalue(), document)


@pytest.fixture
def harness(
    servicetitan_fake: FakeServiceTitan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Harness:
    return Harness(servicetitan_fake, tmp_path, monkeypatch)

"""Secrets never leak, and a manifest cannot send stcheck anywhere but the ServiceTitan hosts.

Canary credentials (shaped so the redactor's pattern net does *not* recognise
them: only the first layer — messages that never hold values — and the exact
value net can hide them) go through every failure path of the online checks
against the fake over real TLS, and every byte written — stdout in each
format, every ``--output`` file, stderr — is searched for them, for the
tokens the fake issued, and for any 10-character fragment of either.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from stcheck.cli import main
from stcheck.model import Status
from stcheck.net.servicetitan import TokenOutcome
from stcheck.testing.fake import (
    DEFAULT_BEHAVIORS,
    BehaviorContext,
    FakeClient,
    FakeResponse,
    FakeServiceTitan,
    oauth_error_response,
    problem_response,
)

CANARY_SECRET = "CanarySecret-7f3a9c2e41d8b6-QX"
CANARY_APP_KEY = "CanaryAppKey-51d0b7e9a2c4f3-ZW"
CANARY_CLIENT_ID = "CanaryClientId-0c9d8e7f6a5b-KV"
FORMATS = ("text", "json", "github", "junit", "sarif", "markdown")
NETWORK_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
)

# Token-endpoint behaviours (integration entries) and probe behaviours (production entries).
TOKEN_PATHS = [
    "ok",
    "rate_limited",
    "server_error_html",
    "malformed_json",
    "missing_access_token",
    "redirect",
    "slow",
    "bad_token_type",
    "short_expiry",
    "unauthorized_client",
    "invalid_scope",
    "drop_connection",
    "echo_secret",
]
PROBE_PATHS = [
    "probe_forbidden",
    "probe_unauthorized",
    "probe_server_error",
    "probe_rate_limited",
    "probe_slow",
    "probe_redirect",
    "probe_malformed_json",
    "echo_app_key",
]


def _loopback(host: Any) -> bool:
    try:
        return ipaddress.ip_address(str(host).split("%", 1)[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Only 127.0.0.0/8: record and refuse anything else (the test then fails)."""
    violations: list[str] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX and not _loopback(address[0]):
            violations.append(f"connect {address!r}")
            raise PermissionError("network guard")
        real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _loopback(host):
            violations.append(f"getaddrinfo {host!r}")
            raise socket.gaierror(socket.EAI_NONAME, "network guard")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    for name in NETWORK_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield violations
    assert not violations, violations


class Listener:
    """A TCP listener on 127.0.0.2 that records every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.2", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def foreign() -> Iterator[Listener]:
    listener = Listener()
    yield listener
    listener.close()


def _capturing(fake: FakeServiceTitan, issued: list[str]) -> None:
    """Register ``cap_*`` twins of the token behaviours that remember every token issued."""

    def remember(response: FakeResponse | None) -> FakeResponse | None:
        if response is not None and response.body.startswith(b"{"):
            with contextlib.suppress(ValueError):
                token = json.loads(response.body).get("access_token")
                if isinstance(token, str):
                    issued.append(token)
        return response

    def wrap(hook: Any) -> Any:
        def captured(ctx: BehaviorContext) -> FakeResponse | None:
            response = hook(ctx) if hook is not None else None
            return remember(response if response is not None else ctx.issue_token())

        return captured

    for name, behavior in DEFAULT_BEHAVIORS.items():
        fake.add_behavior(f"cap_{name}", token=wrap(behavior.token), probe=behavior.probe)

    def echo_secret(ctx: BehaviorContext) -> FakeResponse | None:
        secret = ctx.form["client_secret"]
        return oauth_error_response("invalid_client", description=f"secret {secret} rejected")

    def echo_app_key(ctx: BehaviorContext) -> FakeResponse | None:
        key = ctx.headers.get("st-app-key", "")
        token = ctx.headers.get("authorization", "")
        return problem_response(401, f"key {key} with {token} is not valid")

    fake.add_behavior("cap_echo_secret", token=echo_secret)
    fake.add_behavior("cap_echo_app_key", token=wrap(None), probe=echo_app_key)


def _build(
    fake: FakeServiceTitan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, foreign: Listener
) -> tuple[Path, list[str]]:
    issued: list[str] = []
    _capturing(fake, issued)
    elsewhere = f"https://127.0.0.2:{foreign.port}/connect/token"
    tenants: list[dict[str, Any]] = []
    index = 0

    def entry(name: str, environment: str, behavior: str, **options: Any) -> None:
        nonlocal index
        index += 1
        tenant_id = 5000 + index
        client = fake.add_client(
            FakeClient(
                environment,
                client_id=f"{CANARY_CLIENT_ID}-{index}",
                client_secret=f"{CANARY_SECRET}-{index}",
                tenants={tenant_id},
                behavior=f"cap_{behavior}",
                redirect_location=elsewhere,
                **options,
            )
        )
        prefix = f"LEAK_{index}"
        monkeypatch.setenv(f"{prefix}_ID", client.client_id)
        monkeypatch.setenv(f"{prefix}_SECRET", client.client_secret)
        tenants.append(
            {
                "name": name,
                "environments": {
                    environment: {
                        "tenant_id": tenant_id,
                        "client_id": f"env:{prefix}_ID",
                        "client_secret": f"env:{prefix}_SECRET",
                    }
                },
            }
        )

    for behavior in TOKEN_PATHS:
        entry(
            f"tok-{behavior.replace('_', '-')}",
            "integration",
            behavior,
            delay=2,
            rate_limit_times=1 if behavior == "rate_limited" else 9,
            retry_after=0,
        )
    for behavior in PROBE_PATHS:
        entry(
            f"api-{behavior.replace('_', '-')}",
            "production",
            behavior,
            delay=2,
            rate_limit_times=9,
            retry_after=0,
        )
    # The other environment's pair (invalid_client), a wrong secret, whitespace.
    monkeypatch.setenv("LEAK_OTHER_ID", f"{CANARY_CLIENT_ID}-1")
    monkeypatch.setenv("LEAK_OTHER_SECRET", f"{CANARY_SECRET}-1")
    monkeypatch.setenv("LEAK_WRONG_SECRET", f"{CANARY_SECRET}-wrong")
    monkeypatch.setenv("LEAK_SPACE_SECRET", f"  {CANARY_SECRET}-2\n")
    for name, secret in (("other-env", "LEAK_OTHER_SECRET"), ("wrong-secret", "LEAK_WRONG_SECRET")):
        tenants.append(
            {
                "name": name,
                "environments": {
                    "production": {
                        "tenant_id": 9000 + len(tenants),
                        "client_id": "env:LEAK_OTHER_ID",
                        "client_secret": f"env:{secret}",
                    }
                },
            }
        )
    tenants.append(
        {
            "name": "space",
            "environments": {
                "integration": {
                    "tenant_id": 9100,
                    "client_id": "env:LEAK_2_ID",
                    "client_secret": "env:LEAK_SPACE_SECRET",
                    "enterprise_group": "g",
                }
            },
        }
    )
    tenants[1]["environments"]["integration"]["enterprise_group"] = "g"
    monkeypatch.setenv("LEAK_APP_KEY", CANARY_APP_KEY)
    document = {
        "version": 1,
        "app": {"name": "leaks", "app_key": "env:LEAK_APP_KEY"},
        "tenants": tenants,
    }
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    return manifest, issued


def _fragments(value: str, size: int = 10) -> set[str]:
    return {value[i : i + size] for i in range(len(value) - size + 1)}


def _assert_clean(blobs: dict[str, str], secrets: list[str]) -> None:
    fragments = set().union(*(_fragments(s) for s in secrets if len(s) >= 10))
    for where, text in blobs.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {where}"
        for fragment in fragments:
            assert fragment not in text, f"a fragment of a secret leaked into {where}"


@pytest.mark.parametrize("stdout_format", FORMATS)
def test_no_secret_or_token_in_any_output(
    stdout_format: str,
    servicetitan_fake: FakeServiceTitan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    foreign: Listener,
) -> None:
    fake = servicetitan_fake
    fake.app_key = CANARY_APP_KEY
    manifest, issued = _build(fake, tmp_path, monkeypatch, foreign)
    outputs = {name: tmp_path / "out" / f"report.{name}" for name in FORMATS}
    argv = [
        "check",
        str(manifest),
        "--format",
        stdout_format,
        "--timeout",
        "0.5",
        "-v",
        "--concurrency",
        "8",
        *fake.cli_args(),
        "--resolve",
        "evil.example:443:127.0.0.2",
    ]
    for name, path in outputs.items():
        argv += ["--output", f"{name}={path}"]
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(argv, stdout=stdout, stderr=stderr)
    assert code == 1
    assert len(issued) >= 10, "the fake issued tokens on the paths that reach it"
    blobs = {"stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
    blobs.update({f"--output {name}": path.read_text() for name, path in outputs.items()})
    # Everything it would have sent: canaries for every client, the app key, every token.
    secrets = [CANARY_APP_KEY, *issued]
    secrets += [c.client_secret for c in fake.clients]
    secrets += [c.client_id for c in fake.clients]
    _assert_clean(blobs, secrets)
    # ... while the run really did exercise the paths (the results name them).
    report = blobs["--output json"]
    for reason in (
        "invalid_client",
        "server_error",
        "malformed_response",
        "redirect_blocked",
        "timeout",
        "bad_token_type",
        "unexpected_expiry",
        "rate_limited",
        "forbidden",
        "token_rejected",
        "connection_error",
        "whitespace",
    ):
        assert f'"{reason}"' in report, reason
    assert foreign.accepted == 0
    assert fake.foreign_requests() == []


def test_a_manifest_cannot_send_stcheck_to_another_host(
    servicetitan_fake: FakeServiceTitan,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    foreign: Listener,
) -> None:
    fake = servicetitan_fake
    elsewhere = f"https://127.0.0.2:{foreign.port}"
    client = fake.add_client(
        FakeClient(
            "integration",
            tenants={77},
            behavior="redirect",
            redirect_location=f"{elsewhere}/connect/token",
            redirect_status=307,
        )
    )
    probe_client = fake.add_client(
        FakeClient(
            "production",
            tenants={78},
            behavior="probe_redirect",
            redirect_location=f"{elsewhere}/x",
        )
    )
    monkeypatch.setenv("K", fake.app_key)
    for prefix, c in (("A", client), ("B", probe_client)):
        monkeypatch.setenv(f"{prefix}_ID", c.client_id)
        monkeypatch.setenv(f"{prefix}_SECRET", c.client_secret)
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(
        "version: 1\n"
        "app:\n  name: x\n  app_key: env:K\n"
        f"  token_url: {elsewhere}/connect/token\n"
        f'  probe: "settings/../../..//127.0.0.2:{foreign.port}"\n'
        "tenants:\n"
        "  - name: a\n"
        f"    api_host: 127.0.0.2:{foreign.port}\n"
        "    environments:\n"
        "      integration: {tenant_id: 77, client_id: env:A_ID, client_secret: env:A_SECRET}\n"
        f"      staging: {{tenant_id: 1, client_id: env:A_ID, client_secret: env:A_SECRET,"
        f" url: '{elsewhere}'}}\n"
        "  - name: b\n"
        "    environments:\n"
        "      production: {tenant_id: 78, client_id: env:B_ID, client_secret: env:B_SECRET}\n"
    )
    stdout = io.StringIO()
    code = main(
        [
            "check",
            str(manifest),
            "--format",
            "json",
            *fake.cli_args(),
            "--resolve",
            f"127.0.0.2:{foreign.port}:127.0.0.2",
        ],
        stdout=stdout,
        stderr=io.StringIO(),
    )
    assert code == 1
    document = json.loads(stdout.getvalue())
    reasons = {r["reason"] for r in document["results"]}
    assert "host_in_manifest" in reasons or "unknown_key" in reasons
    token = [r for r in document["results"] if r["check"] == "token" and r["tenant"] == "a"]
    assert [(r["status"], r["reason"]) for r in token] == [("error", "redirect_blocked")]
    assert foreign.accepted == 0
    assert {r.host for r in fake.received} <= {
        "auth-integration.servicetitan.io",
        "auth.servicetitan.io",
        "api.servicetitan.io",
    }
    assert len(fake.token_requests("integration", client.client_id)) == 1  # not re-sent


def test_token_values_are_not_in_reprs() -> None:
    outcome = TokenOutcome("integration", Status.PASS, None, "ok", access_token="tok-SECRETVALUE")
    assert "SECRETVALUE" not in repr(outcome)

"""Network options and the safety envelope: CA bundles, proxies, .netrc, timeouts, concurrency."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import trustme

from stcheck.testing.fake import BehaviorContext, FakeResponse, FakeServiceTitan

from .conftest import Harness
from .proxy import ConnectProxy


def resolve_args(fake: FakeServiceTitan) -> list[str]:
    return [arg for entry in fake.resolve for arg in ("--resolve", entry)]


def test_all_pass_exits_0_and_a_failure_exits_1(harness: Harness) -> None:
    harness.add("a")
    harness.add("b", "production")
    assert harness.run().code == 0
    harness.add("c", behavior="probe_forbidden")
    assert harness.run().code == 1


def test_bad_resolve_option_is_a_usage_error(harness: Harness) -> None:
    harness.add("a")
    outcome = harness.run("--resolve", "auth.servicetitan.io:443", network=False)
    assert outcome.code == 2
    assert harness.fake.received == []


def test_requests_ca_bundle_is_honoured(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add("a")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", harness.fake.ca_bundle)
    outcome = harness.run(*resolve_args(harness.fake), network=False)
    assert outcome.code == 0, outcome.stdout


def test_curl_ca_bundle_is_honoured(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add("a")
    monkeypatch.setenv("CURL_CA_BUNDLE", harness.fake.ca_bundle)
    outcome = harness.run(*resolve_args(harness.fake), network=False)
    assert outcome.code == 0, outcome.stdout


def test_ca_bundle_option_wins_over_the_environment(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    harness.add("a")
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
    outcome = harness.run()  # --ca-bundle of the fake
    assert outcome.code == 0, outcome.stdout


def test_a_wrong_ca_is_a_tls_error(harness: Harness, tmp_path: Path) -> None:
    harness.add("a")
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    outcome = harness.run("--ca-bundle", str(other), *resolve_args(harness.fake), network=False)
    assert outcome.code == 1
    result = outcome.one("token", "a", "integration")
    assert (result["status"], result["reason"]) == ("error", "tls_error")
    assert "certificate verify failed" in result["message"]
    assert outcome.status("api", "a", "integration") == ("skip", "depends_on_failure")


def test_the_default_trust_store_does_not_trust_the_fake(harness: Harness) -> None:
    harness.add("a")
    outcome = harness.run(*resolve_args(harness.fake), network=False)  # certifi
    assert outcome.status("token", "a", "integration") == ("error", "tls_error")


def test_a_missing_ca_bundle_is_a_tls_error(harness: Harness, tmp_path: Path) -> None:
    harness.add("a")
    missing = tmp_path / "nope.pem"
    outcome = harness.run("--ca-bundle", str(missing), *resolve_args(harness.fake), network=False)
    result = outcome.one("token", "a", "integration")
    assert (result["status"], result["reason"]) == ("error", "tls_error")
    assert "cannot load the CA bundle" in result["message"]
    assert harness.fake.received == []


def test_netrc_is_never_read(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(
        "machine auth-integration.servicetitan.io login netrcuser password netrcpassword\n"
        "machine api-integration.servicetitan.io login netrcuser password netrcpassword\n"
        "default login netrcuser password netrcpassword\n"
    )
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("NETRC", str(netrc))
    harness.add("a")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stdout
    (token,) = harness.fake.token_requests()
    assert "authorization" not in token.headers
    (probe,) = harness.fake.api_requests()
    assert probe.headers["authorization"].startswith("Bearer ")


def test_https_proxy_is_used_with_a_connect_tunnel(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("a")
    harness.add("a", "production")
    with ConnectProxy(harness.fake.port) as proxy:
        password = "pr0xyS3cretPassw0rd"
        monkeypatch.setenv("HTTPS_PROXY", proxy.url.replace("http://", f"http://u:{password}@"))
        # No --resolve: the proxy resolves the hosts (here: to the fake).
        outcome = harness.run("--ca-bundle", harness.fake.ca_bundle, network=False)
        targets = sorted({c.target for c in proxy.connects})
    assert outcome.code == 0, outcome.stdout
    assert targets == [
        "api-integration.servicetitan.io:443",
        "api.servicetitan.io:443",
        "auth-integration.servicetitan.io:443",
        "auth.servicetitan.io:443",
    ]
    assert all(c.proxy_authorization for c in proxy.connects)
    assert outcome.status("dns", None, "integration") == ("skip", "not_applicable")
    assert password not in outcome.stdout + outcome.stderr
    assert harness.fake.received[0].sni in {
        "auth-integration.servicetitan.io",
        "auth.servicetitan.io",
    }


def test_lowercase_https_proxy_and_the_resolve_port(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As with curl, a proxied host is resolved by the proxy; the --resolve port stays."""
    harness.add("a")
    with ConnectProxy(harness.fake.port) as proxy:
        monkeypatch.setenv("https_proxy", proxy.url)
        outcome = harness.run()
        targets = {c.target for c in proxy.connects}
    assert outcome.code == 0, outcome.stdout
    assert targets == {
        f"auth-integration.servicetitan.io:{harness.fake.port}",
        f"api-integration.servicetitan.io:{harness.fake.port}",
    }


@pytest.mark.parametrize("no_proxy", [".servicetitan.io", "servicetitan.io", "*"])
def test_no_proxy_bypasses_the_proxy(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, no_proxy: str
) -> None:
    harness.add("a")
    with ConnectProxy(harness.fake.port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", f"example.com, {no_proxy}")
        outcome = harness.run()
        connects = list(proxy.connects)
    assert outcome.code == 0, outcome.stdout
    assert connects == []


def test_an_unreachable_proxy_is_a_connection_error(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("a")
    with ConnectProxy(harness.fake.port) as proxy:
        url = proxy.url
    monkeypatch.setenv("HTTPS_PROXY", url)  # closed: nothing listens there any more
    outcome = harness.run()
    assert outcome.status("token", "a", "integration") == ("error", "connection_error")


def test_nothing_listening_is_a_connection_error(harness: Harness) -> None:
    harness.add("a")
    with socket_port() as port:
        resolve = [
            arg
            for host in ("auth-integration.servicetitan.io", "api-integration.servicetitan.io")
            for arg in ("--resolve", f"{host}:{port}:127.0.0.1")
        ]
    outcome = harness.run("--ca-bundle", harness.fake.ca_bundle, *resolve, network=False)
    result = outcome.one("token", "a", "integration")
    assert (result["status"], result["reason"]) == ("error", "connection_error")
    assert "refused" in result["message"].lower()


class socket_port:
    """A loopback port with nothing listening on it (bound, then released)."""

    def __enter__(self) -> int:
        import socket

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        return int(self._sock.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._sock.close()


def test_concurrency_bound_is_respected(harness: Harness) -> None:
    lock = threading.Lock()
    state = {"now": 0, "max": 0}

    def counting(ctx: BehaviorContext) -> FakeResponse | None:
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        ctx.sleep(0.05)
        with lock:
            state["now"] -= 1
        return None

    harness.fake.add_behavior("counting", token=counting, probe=counting)
    for index in range(12):
        harness.add(f"t{index}", behavior="counting")
    outcome = harness.run("--concurrency", "3")
    assert outcome.code == 0, outcome.stdout
    assert 2 <= state["max"] <= 3


def test_timeouts_bound_the_whole_run(harness: Harness) -> None:
    for index in range(6):
        harness.add(f"t{index}", behavior="slow", delay=10)
    started = time.monotonic()
    outcome = harness.run("--timeout", "0.5", "--concurrency", "6")
    assert time.monotonic() - started < 4
    assert {outcome.status("token", f"t{i}", "integration") for i in range(6)} == {
        ("error", "timeout")
    }


def test_connections_are_reused(harness: Harness) -> None:
    for index in range(6):
        harness.add(f"t{index}")
    outcome = harness.run("--concurrency", "1")
    assert outcome.code == 0
    connections = {(r.host, r.connection_id) for r in harness.fake.received}
    assert len(connections) == 2  # one keep-alive connection per host


def test_every_request_stays_on_the_four_hosts(harness: Harness) -> None:
    harness.add("a", behavior="redirect")
    harness.add("b", "production", behavior="probe_redirect")
    harness.add("c", "production")
    harness.run()
    assert {r.host for r in harness.fake.received} <= {
        "auth-integration.servicetitan.io",
        "auth.servicetitan.io",
        "api-integration.servicetitan.io",
        "api.servicetitan.io",
    }
    assert harness.fake.foreign_requests() == []
    for request in harness.fake.received:
        if request.kind == "token":
            assert request.host.startswith("auth")
        else:
            assert "client_secret" not in request.form

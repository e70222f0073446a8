"""The dns check: the derived hosts resolve, honouring --resolve and proxies like the HTTP layer."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from .conftest import Harness


def test_resolve_override_is_a_private_address_warning(harness: Harness) -> None:
    harness.add("a")
    harness.add("a", "production")
    outcome = harness.run()
    for env in ("integration", "production"):
        result = outcome.one("dns", None, env)
        assert (result["status"], result["reason"]) == ("warn", "private_address")
        assert "127.0.0.1 (--resolve)" in result["message"]
    assert outcome.code == 0


def fake_resolver(monkeypatch: pytest.MonkeyPatch, answer: Any) -> list[str]:
    asked: list[str] = []

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(host)
        if isinstance(answer, BaseException):
            raise answer
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answer, port))]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_public_addresses_pass(harness: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    harness.add("a", "production")
    asked = fake_resolver(monkeypatch, "93.184.216.34")
    outcome = harness.run("--select", "dns", "--ca-bundle", harness.fake.ca_bundle, network=False)
    assert outcome.status("dns", None, "production") == ("pass", None)
    assert sorted(asked) == ["api.servicetitan.io", "auth.servicetitan.io"]


def test_unknown_name_fails_and_network_checks_are_skipped(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("a", "production")
    fake_resolver(monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    outcome = harness.run("--ca-bundle", harness.fake.ca_bundle, network=False)
    assert outcome.status("dns", None, "production") == ("fail", "dns_error")
    assert outcome.status("token", "a", "production") == ("skip", "depends_on_failure")
    assert outcome.status("api", "a", "production") == ("skip", "depends_on_failure")
    assert harness.fake.received == []
    assert outcome.code == 1


def test_temporary_resolver_failure_is_an_error(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("a", "production")
    fake_resolver(monkeypatch, socket.gaierror(socket.EAI_AGAIN, "Temporary failure"))
    outcome = harness.run("--select", "dns", "--ca-bundle", harness.fake.ca_bundle, network=False)
    assert outcome.status("dns", None, "production") == ("error", "dns_error")


def test_a_hung_resolver_is_bounded_by_the_timeout(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("a")
    release = threading.Event()

    def getaddrinfo(*args: Any, **kwargs: Any) -> Any:
        release.wait(10)
        raise socket.gaierror(socket.EAI_AGAIN, "gave up")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    try:
        outcome = harness.run(
            "--select",
            "dns",
            "--timeout",
            "0.3",
            "--ca-bundle",
            harness.fake.ca_bundle,
            network=False,
        )
    finally:
        release.set()
    result = outcome.one("dns", None, "integration")
    assert (result["status"], result["reason"]) == ("error", "dns_error")
    assert "within 0.3 s" in result["message"]


def test_only_environments_in_use_are_resolved(harness: Harness) -> None:
    harness.add("a", "production")
    outcome = harness.run()
    assert outcome.find("dns", None, "integration") == []
    assert len(outcome.find("dns")) == 1

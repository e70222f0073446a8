"""A malformed proxy variable is an input error of the run (exit 2), never a crashed check."""

from __future__ import annotations

import os
import sys

import pytest

from stcheck.model import Status
from stcheck.net.config import NetConfig
from stcheck.net.http import Failure, HttpClient

from .conftest import Harness

CANARY = "Pr0xyCanaryS3cret"
"""A proxy password (or something in its place) that must never be echoed."""

MALFORMED = [
    "http://proxy:99999",
    "http://[::1",
    "::::garbage::::",
    "socks5://127.0.0.1:1080",
    "http://proxy.example:3128 extra",
    f"http://user:{CANARY}@proxy:99999",
    f"http://user:{CANARY}@[::1:3128",
    f"http://proxy:{CANARY}",  # a password where the port goes
]


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_https_proxy_is_an_input_error_naming_the_variable(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    harness.add("t")
    monkeypatch.setenv("HTTPS_PROXY", value)
    outcome = harness.run()
    assert outcome.code == 2
    assert outcome.stdout == ""
    assert "HTTPS_PROXY is not a usable proxy URL" in outcome.stderr
    assert "check_crashed" not in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert CANARY not in outcome.stderr
    assert harness.fake.received == []


def test_the_lowercase_variable_is_the_one_named(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("t")
    monkeypatch.setenv("https_proxy", "http://[::1")
    outcome = harness.run()
    assert outcome.code == 2
    assert "https_proxy is not a usable proxy URL" in outcome.stderr


def test_a_malformed_proxy_that_no_proxy_exempts_everywhere_is_not_used(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("t")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:99999")
    monkeypatch.setenv("NO_PROXY", "*")
    outcome = harness.run()
    assert outcome.code == 0, outcome.stderr + outcome.stdout


def test_offline_commands_do_not_read_the_proxy(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("t")
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:99999")
    harness.write()
    from io import StringIO

    from stcheck.cli import main

    assert main(["validate", str(harness.manifest)], stdout=StringIO(), stderr=StringIO()) == 0


def test_the_http_client_refuses_to_send_with_a_malformed_proxy() -> None:
    """Outside the CLI (the library path) the settings' problem is an error result."""
    config = NetConfig.from_options(environ={"HTTPS_PROXY": f"http://u:{CANARY}@proxy:99999"})
    assert config.problem is not None and CANARY not in config.problem
    with HttpClient(config) as client:
        outcome = client.post_token("integration", {"grant_type": "client_credentials"})
    assert isinstance(outcome, Failure)
    assert (outcome.status, outcome.reason) == (Status.ERROR, "connection_error")
    assert "HTTPS_PROXY is not a usable proxy URL" in outcome.message
    assert CANARY not in outcome.message


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the OS's proxy settings apply")
def test_the_process_environment_gives_the_proxies_urllib_would(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read without importing urllib.request: the same variables, lowercase winning."""
    import urllib.request

    from stcheck.net.config import _proxies

    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HTTPS_PROXY", "http://upper.example:3128")
    monkeypatch.setenv("https_proxy", "http://lower.example:3128")
    monkeypatch.setenv("ALL_PROXY", "http://all.example:8080")
    monkeypatch.setenv("no_proxy", "api.servicetitan.io")
    assert _proxies(os.environ) == urllib.request.getproxies_environment()
    assert _proxies(os.environ)["https"] == "http://lower.example:3128"


@pytest.mark.skipif(sys.platform in ("darwin", "win32"), reason="the OS's proxy settings apply")
@pytest.mark.parametrize(
    "variables",
    [
        {"HTTPS_PROXY": "http://a.example:1", "HTTPS_proxy": ""},
        {"HTTPS_PROXY": "http://a.example:1", "HTTPS_proxy": "http://b.example:2"},
        {"Https_Proxy": "http://c.example:3", "HTTPS_PROXY": "http://a.example:1"},
    ],
)
def test_mixed_case_proxy_variables_are_read_as_urllib_reads_them(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    """urllib's second pass takes any name whose ``_proxy`` suffix is lowercase."""
    import urllib.request

    from stcheck.net.config import _proxies

    for name in [n for n in os.environ if n.lower().endswith("_proxy")]:
        monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    assert _proxies(os.environ) == urllib.request.getproxies_environment()


def test_proxy_credentials_are_sent_decoded_as_basic_auth_as_requests_did() -> None:
    """The user and password of the proxy URL, percent-decoded, in Proxy-Authorization."""
    import base64

    from stcheck.net.pool import proxy_headers as _proxy_headers

    (value,) = _proxy_headers(f"http://us%40er:{CANARY}%3Ax@proxy.example:3128").values()
    scheme, _, encoded = value.partition(" ")
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == f"us@er:{CANARY}:x"
    assert _proxy_headers("http://proxy.example:3128") == {}

"""Pure parts of the network layer: settings, Retry-After, single flight, host allow-list."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate

import pytest

from stcheck.net import HOSTS
from stcheck.net.config import NetConfig, bypass_proxy, parse_resolve
from stcheck.net.http import HostNotAllowed, HttpClient, retry_delay
from stcheck.net.servicetitan import NOT_SHOWN, jwt_claims, probe_path, scrub
from stcheck.net.singleflight import SingleFlight
from stcheck.reasons import REASONS
from stcheck.testing.fake import FakeServiceTitan


def test_parse_resolve_like_curl() -> None:
    overrides, ignored = parse_resolve(
        [
            "auth.servicetitan.io:8443:127.0.0.1",
            "API.servicetitan.io.:443:[::1]",
            "auth.servicetitan.io:9999:10.0.0.1",  # the first entry for a host wins
            "example.com:443:127.0.0.1",
            "api-integration.servicetitan.io:0:127.0.0.1",
            "auth-integration.servicetitan.io:443:10.0.0.1,10.0.0.2",
        ]
    )
    assert overrides == {
        "auth.servicetitan.io": (8443, "127.0.0.1"),
        "api.servicetitan.io": (443, "::1"),
        "auth-integration.servicetitan.io": (443, "10.0.0.1"),
    }
    assert ignored == ["example.com:443:127.0.0.1", "api-integration.servicetitan.io:0:127.0.0.1"]


def test_routes_and_urls_use_the_resolve_port() -> None:
    config = NetConfig.from_options(resolve=["auth.servicetitan.io:8443:127.0.0.1"], environ={})
    route = config.route("auth.servicetitan.io")
    assert route.url("/connect/token") == "https://auth.servicetitan.io:8443/connect/token"
    assert route.address == "127.0.0.1"
    assert config.route("api.servicetitan.io").url("/x") == "https://api.servicetitan.io/x"
    with pytest.raises(ValueError):
        config.route("evil.example")


def test_ca_bundle_precedence(tmp_path: object) -> None:
    env = {"REQUESTS_CA_BUNDLE": "/r.pem", "CURL_CA_BUNDLE": "/c.pem"}
    assert NetConfig.from_options(ca_bundle="/o.pem", environ=env).ca_file == "/o.pem"
    assert NetConfig.from_options(environ=env).ca_source == "REQUESTS_CA_BUNDLE"
    assert NetConfig.from_options(environ={"CURL_CA_BUNDLE": "/c.pem"}).ca_file == "/c.pem"
    default = NetConfig.from_options(environ={"REQUESTS_CA_BUNDLE": ""})
    assert default.ca_source == "certifi" and default.ca_file


def test_proxy_settings_are_read_once_with_urllib_precedence() -> None:
    config = NetConfig.from_options(
        environ={
            "HTTPS_PROXY": "http://upper:3128",
            "https_proxy": "lower:3128",
            "NO_PROXY": "api.servicetitan.io",
        }
    )
    assert config.route("auth.servicetitan.io").proxy == "http://lower:3128"
    assert config.route("api.servicetitan.io").proxy is None
    all_proxy = NetConfig.from_options(environ={"ALL_PROXY": "http://u:p@all:1"})
    route = all_proxy.route("api.servicetitan.io")
    assert route.proxy_label == "http://all:1"  # never the credentials
    assert route.address is None


@pytest.mark.parametrize(
    ("no_proxy", "bypassed"),
    [
        ("*", True),
        ("servicetitan.io", True),
        (".servicetitan.io", True),
        ("auth.servicetitan.io:443", True),
        ("titan.io", False),
        ("example.com,other.org", False),
        ("", False),
    ],
)
def test_no_proxy_matching(no_proxy: str, bypassed: bool) -> None:
    assert bypass_proxy("auth.servicetitan.io", no_proxy) is bypassed


def test_retry_after_forms() -> None:
    assert retry_delay("3") == 3.0
    assert retry_delay(" 0.5 ") == 0.5
    assert retry_delay("-4") == 0.0
    assert retry_delay("soon") is None
    assert retry_delay(None) is None
    assert retry_delay("nan") is None
    now = time.time()
    assert 9 <= (retry_delay(formatdate(now + 10), now) or 0) <= 11
    assert retry_delay(formatdate(now - 100), now) == 0.0


def test_single_flight_runs_once_for_concurrent_callers() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    calls = []
    gate = threading.Event()

    def compute() -> int:
        calls.append(1)
        gate.wait(5)
        return 42

    results: list[tuple[int, bool]] = []
    threads = [
        threading.Thread(target=lambda: results.append(flight.get("k", compute))) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.05)
    gate.set()
    for thread in threads:
        thread.join(5)
    assert len(calls) == 1
    assert sorted(results) == [(42, False)] * 7 + [(42, True)]
    assert flight.peek("k") == 42 and flight.peek("other") is None


def test_the_client_refuses_other_hosts_and_plain_http() -> None:
    with FakeServiceTitan() as fake:
        config = NetConfig.from_options(ca_bundle=fake.ca_bundle, resolve=fake.resolve, environ={})
        with HttpClient(config) as client:
            transport = client._transport
            for scheme, host in (("https", "example.com"), ("http", "auth.servicetitan.io")):
                with pytest.raises(HostNotAllowed):
                    transport.pool(scheme, host, fake.port)
            with pytest.raises(ValueError):
                client.get_api("integration", "/settings/../../x", params={}, headers={})
            with pytest.raises(KeyError):
                client.post_token("staging", {})
        assert fake.received == []


def test_probe_paths_are_built_from_an_allow_list() -> None:
    assert probe_path(None, 5) == "/settings/v2/tenant/5/business-units"
    assert probe_path("crm/customers", 5) == "/crm/v2/tenant/5/customers"
    for bad in ("reporting/x", "settings/../x", "settings", "memberships/export/x", "Settings/x"):
        assert probe_path(bad, 5) is None
    assert probe_path("settings/x", 0) is None


def test_scrub_and_jwt_claims() -> None:
    assert scrub("bad\nsecret", ["cs1.abcdefgh"]) == "bad secret"
    assert scrub("bad\nsecret cs1.abcdefgh", ["cs1.abcdefgh"]) == NOT_SHOWN
    assert scrub(None, []) == ""
    assert len(scrub("x" * 500, [])) == 160
    assert jwt_claims("not-a-jwt") is None
    assert jwt_claims("a.eyJzY29wZSI6ICJ4In0.c") == {"scope": "x"}


def test_hosts_are_the_four_servicetitan_hosts() -> None:
    assert sorted(HOSTS) == [
        "api-integration.servicetitan.io",
        "api.servicetitan.io",
        "auth-integration.servicetitan.io",
        "auth.servicetitan.io",
    ]


def test_every_reason_the_network_layer_uses_is_in_the_vocabulary() -> None:
    import inspect
    import re

    from stcheck.checks import credentials, dns, probe, token
    from stcheck.checks.support import preconditions, secretstore
    from stcheck.net import http, lookup, servicetitan

    used: set[str] = set()
    modules = (http, lookup, servicetitan, probe, credentials, dns, token)
    for module in (*modules, preconditions, secretstore):
        source = inspect.getsource(module)
        used.update(re.findall(r'"([a-z]+(?:_[a-z]+)+)"', source))
    candidates = {word for word in used if word in REASONS or word.endswith(("_error", "_client"))}
    assert candidates <= set(REASONS), candidates - set(REASONS)

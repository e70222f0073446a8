"""Wall-clock deadlines: a server that trickles its answer cannot stretch a run past --timeout.

The fake's slowloris modes send the status line, the headers or the body one
byte at a time, faster than any per-``recv`` timeout (so a client that only
has those waits forever) but far too slowly to finish in time. Every run here
is guarded: it runs on a daemon thread and the test *fails* — it does not
hang — when the run is not over within the issue's bound,
``2 x timeout x attempts + 1`` seconds. (Stopping the fake at teardown
releases a run that overstayed.)
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from stcheck.net.http import ATTEMPTS
from stcheck.testing.fake import BehaviorContext, FakeResponse, html_response, json_response

from .conftest import Harness, Outcome
from .proxy import ConnectProxy

TIMEOUT = 1.0
BOUND = 2 * TIMEOUT * ATTEMPTS + 1
RATE = 2.0
"""Bytes per second: a byte every 0.5 s renews any per-recv timeout of 1 s."""


def run_bounded(harness: Harness, seconds: float, *args: str) -> tuple[Outcome, float]:
    """``harness.run(*args)``, failing the test if it is not finished within ``seconds``."""
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["outcome"] = harness.run(*args)
        except BaseException as exc:  # re-raised on the test's thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="bounded-run", daemon=True)
    started = time.monotonic()
    thread.start()
    thread.join(seconds)
    elapsed = time.monotonic() - started
    if thread.is_alive():
        pytest.fail(f"the run was still going after {seconds:g} s (bound: {seconds:g} s)")
    if "error" in box:
        raise box["error"]
    return box["outcome"], elapsed


@pytest.mark.parametrize("part", ["status", "headers", "body"])
def test_a_trickling_token_endpoint_times_out_within_the_bound(harness: Harness, part: str) -> None:
    harness.add("t", behavior=f"trickle_{part}", trickle_rate=RATE)
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", f"{TIMEOUT:g}")
    assert elapsed <= BOUND
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "timeout"), result
    assert "no complete answer within 1 s" in result["message"]
    assert outcome.status("api", "t", "integration") == ("skip", "depends_on_failure")
    assert len(harness.fake.token_requests()) == 1  # a timeout is not retried
    assert outcome.code == 1


@pytest.mark.parametrize("part", ["status", "headers", "body"])
def test_a_trickling_api_host_times_out_within_the_bound(harness: Harness, part: str) -> None:
    harness.add("t", behavior=f"probe_trickle_{part}", trickle_rate=RATE)
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", f"{TIMEOUT:g}")
    assert elapsed <= BOUND
    assert outcome.status("token", "t", "integration") == ("pass", None)
    result = outcome.one("api", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "timeout"), result
    assert "no complete answer within 1 s" in result["message"]
    assert outcome.code == 1


def test_a_120_byte_body_at_2_bytes_a_second_ends_at_the_timeout(harness: Harness) -> None:
    """The issue's case: 60 s with --timeout 1, and a message saying "within 2 s"."""
    body = b'{"page":1,"pageSize":1,"hasMore":false,"data":[]}'
    body = body[:-1] + b" " * (120 - len(body)) + b"}"
    assert len(body) == 120

    def trickled_page(ctx: BehaviorContext) -> FakeResponse | None:
        return FakeResponse(200, body, "application/json", trickle="body", trickle_rate=2)

    harness.fake.add_behavior("trickled_page", probe=trickled_page)
    harness.add("t", behavior="trickled_page")
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", "1")
    result = outcome.one("api", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "timeout")
    assert result["message"].endswith("no complete answer within 1 s (--timeout)")
    assert elapsed < 1 + 2  # the probe's 1 s, plus the token request and start-up


@pytest.mark.parametrize("where", ["token", "probe"])
def test_an_answer_with_connection_close_cannot_trickle_past_the_timeout(
    harness: Harness, where: str
) -> None:
    """``Connection: close`` makes http.client close the connection as soon as the headers
    are in, while the body is still read: the deadline must still end that read (found by
    review: the read blocked for ever once per-recv timeouts were gone)."""
    import dataclasses

    def closing(ctx: BehaviorContext) -> FakeResponse | None:
        if where == "token":
            answer = ctx.issue_token()
        else:
            answer = FakeResponse(200, b'{"page":1,"data":[]}' + b" " * 60, "application/json")
        return dataclasses.replace(answer, trickle="body", trickle_rate=RATE, close=True)

    harness.fake.add_behavior("closing", **{where: closing})
    harness.add("t", behavior="closing")
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", f"{TIMEOUT:g}")
    check = "token" if where == "token" else "api"
    result = outcome.one(check, "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "timeout"), result
    assert elapsed <= BOUND


def test_the_deadline_holds_through_a_proxy_tunnel(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    harness.add("t", behavior="trickle_headers", trickle_rate=RATE)
    with ConnectProxy(harness.fake.port) as proxy:
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        outcome, elapsed = run_bounded(harness, BOUND, "--timeout", f"{TIMEOUT:g}")
        assert proxy.connects
    assert outcome.status("token", "t", "integration") == ("error", "timeout")
    assert elapsed <= BOUND


def test_a_fast_answer_is_unaffected_and_keeps_its_connection(harness: Harness) -> None:
    for index in range(4):
        harness.add(f"t{index}")
    outcome, _ = run_bounded(harness, BOUND, "--timeout", "1", "--concurrency", "1")
    assert outcome.code == 0, outcome.stdout
    # One keep-alive connection per host: the deadline guard does not spoil reuse.
    assert len({(r.host, r.connection_id) for r in harness.fake.received}) == 2


def test_retries_and_their_waits_stay_within_attempts_times_timeout(harness: Harness) -> None:
    """Slow 503s with Retry-After: retry only while a wait and a whole attempt still fit.

    Budget 3 x 1 s: attempt (0.7 s), wait 0.5 s, attempt (0.7 s) — now 1.1 s
    remain, less than a wait plus a whole attempt, so the 503 is the answer.
    """

    def slow_unavailable(ctx: BehaviorContext) -> FakeResponse | None:
        ctx.sleep(0.7)
        return html_response(503, headers={"Retry-After": "0.5"})

    harness.fake.add_behavior("slow_unavailable", token=slow_unavailable)
    harness.add("t", behavior="slow_unavailable")
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", "1", "--select", "token")
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "server_error")
    requests = harness.fake.token_requests()
    assert len(requests) == 2
    assert requests[1].time - requests[0].time >= 0.5 + 0.7 - 0.05  # Retry-After honoured
    assert elapsed < ATTEMPTS * 1.0 + 1


def test_three_quick_attempts_fit_the_budget(harness: Harness) -> None:
    client = harness.add("t", behavior="rate_limited", rate_limit_times=2, retry_after=0)
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", "1", "--select", "token")
    assert outcome.status("token", "t", "integration") == ("pass", None)
    assert [r.status for r in harness.fake.token_requests(client_id=client.client_id)] == [
        429,
        429,
        200,
    ]
    assert elapsed < BOUND


def test_a_retry_after_that_does_not_fit_the_budget_is_reported_not_waited(
    harness: Harness,
) -> None:
    def limited(ctx: BehaviorContext) -> FakeResponse | None:
        return json_response(429, {"title": "Too Many Requests"}, headers={"Retry-After": "4"})

    harness.fake.add_behavior("limited", token=limited)
    harness.add("t", behavior="limited")
    outcome, elapsed = run_bounded(harness, BOUND, "--timeout", "1", "--select", "token")
    result = outcome.one("token", "t", "integration")
    assert (result["status"], result["reason"]) == ("error", "rate_limited")
    assert "Retry-After: 4" in result["message"]
    assert len(harness.fake.token_requests()) == 1
    assert elapsed < 2


def test_a_compression_bomb_is_read_in_bounded_chunks(harness: Harness) -> None:
    """64 MiB of gzip-compressed zeros: stcheck decodes a bounded prefix, never the whole.

    Measured against the same run with a normal answer (a run has a peak of its
    own); the bomb may add a few MiB at most, not the 64 it decompresses to.
    """
    import gzip
    import tracemalloc

    bomb = gzip.compress(b"0" * (64 << 20), compresslevel=9)

    def gzip_bomb(ctx: BehaviorContext) -> FakeResponse | None:
        return FakeResponse(200, bomb, "application/json", headers={"Content-Encoding": "gzip"})

    harness.fake.add_behavior("gzip_bomb", token=gzip_bomb)
    client = harness.add("t")
    run_bounded(harness, BOUND, "--select", "token")  # imports and first-use caches

    def peak_of_a_run() -> tuple[Outcome, int]:
        tracemalloc.start()
        try:
            outcome, _ = run_bounded(harness, BOUND, "--select", "token")
            return outcome, tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    normal, baseline = peak_of_a_run()
    client.behavior = "gzip_bomb"
    outcome, peak = peak_of_a_run()
    assert normal.status("token", "t", "integration") == ("pass", None)
    assert outcome.status("token", "t", "integration") == ("error", "malformed_response")
    assert peak - baseline < 4 << 20, (peak, baseline)


def test_a_late_alarm_never_shuts_the_connection_the_pool_gave_to_the_next_request(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A complete answer gives its connection back before its request disarms its alarm. If
    the deadline passes in that gap (widened here to 0.3 s, what a GIL hand-over under many
    threads does), the next request on the connection must not be cut off (found by review)."""
    import stcheck.deadline as deadline
    from stcheck.net import HOSTS
    from stcheck.net.config import NetConfig, Route
    from stcheck.net.http import HttpClient, Reply
    from stcheck.testing import FakeServiceTitan

    cancel = deadline.Watchdog._cancel

    def slow_cancel(self: deadline.Watchdog, alarm: deadline.Alarm) -> bool:
        if threading.current_thread().name == "first":
            time.sleep(0.3)
        return cancel(self, alarm)

    monkeypatch.setattr(deadline.Watchdog, "_cancel", slow_cancel)
    answers: dict[str, object] = {}
    with FakeServiceTitan(latency=0.12) as fake:
        routes = {h: Route(h, address="127.0.0.1", port=fake.port) for h in HOSTS}
        config = NetConfig(
            timeout=0.2, concurrency=1, ca_file=fake.ca_bundle, ca_source="test", routes=routes
        )
        with HttpClient(config) as client:

            def get(name: str) -> None:
                answers[name] = client.get_api("production", "/x", params={}, headers={})

            first = threading.Thread(target=get, args=("first",), name="first")
            first.start()
            time.sleep(0.14)  # the first answer is in (0.12 s): its connection is pooled
            second = threading.Thread(target=get, args=("second",), name="second")
            second.start()
            first.join(5)
            second.join(5)
    assert isinstance(answers["second"], Reply), answers["second"]

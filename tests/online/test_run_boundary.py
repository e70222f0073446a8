"""The run's own bounds: ``--deadline`` and SIGINT/SIGTERM stop it, however stuck its workers are.

Each test runs the real command line in a subprocess (``python -m stcheck``)
with a real plugin installed — ``tests/data/hangplug``, put on ``PYTHONPATH``
with a ``.dist-info`` holding its entry point — whose checks and ``hang:``
reference scheme never return (a ``sleep`` loop, or a ``read(2)`` on a pipe
nobody writes to), or against the fake ServiceTitan trickling its answer a
byte at a time. On the old code the deadline runs never ended, and a signal
left the run waiting for its stuck workers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import Harness

REPO = Path(__file__).resolve().parents[2]
STCHECK = (sys.executable, "-m", "stcheck")
DEADLINE_BOUND = 4.0
"""``--deadline 2`` plus interpreter start-up on a busy machine (about 2.3 s when idle)."""
SIGNAL_BOUND = 2.0


@pytest.fixture
def plugin_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a subprocess in which the hangplug plugin is installed."""
    site = tmp_path / "site"
    (site / "hangplug-1.0.dist-info").mkdir(parents=True)
    shutil.copy(REPO / "tests" / "data" / "hangplug" / "hangplug.py", site / "hangplug.py")
    (site / "hangplug-1.0.dist-info" / "entry_points.txt").write_text(
        "[stcheck]\nhangplug = hangplug\n", encoding="utf-8"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STCHECK_")}
    env["PYTHONPATH"] = str(site)
    env["HANG_MARK"] = str(tmp_path / "hanging")
    return env


def spawn(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*STCHECK, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def finish(process: subprocess.Popen[str], within: float) -> tuple[int, str, str, float]:
    started = time.monotonic()
    try:
        out, err = process.communicate(timeout=within + 10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"the run was still going {within + 10:g} s later")
    return process.returncode, out, err, time.monotonic() - started


def two_tenants(harness: Harness) -> Path:
    harness.add("a")
    harness.add("b")
    return harness.write()


def results(text: str) -> list[dict[str, Any]]:
    return list(json.loads(text)["results"])


@pytest.mark.parametrize("how", ["sleep", "read"])
def test_a_plugin_check_that_never_returns_ends_at_the_deadline(
    harness: Harness, plugin_env: dict[str, str], tmp_path: Path, how: str
) -> None:
    manifest = two_tenants(harness)
    target = tmp_path / "out.json"
    process = spawn(
        [
            "check",
            str(manifest),
            "--select",
            "hang",
            "--deadline",
            "2",
            "--format",
            "json",
            "--output",
            f"json={target}",
        ],
        {**plugin_env, "HANG_HOW": how},
    )
    code, out, err, elapsed = finish(process, DEADLINE_BOUND)
    assert elapsed < DEADLINE_BOUND, (elapsed, err)
    assert code == 1, err
    (hung,) = [r for r in results(out) if r["check"] == "hang"]
    assert (hung["status"], hung["reason"]) == ("error", "deadline_exceeded")
    assert "not finished within the run's deadline (2 s, --deadline)" in hung["message"]
    assert results(target.read_text(encoding="utf-8")) == results(out)  # outputs written


def test_entries_that_finished_keep_their_results_and_the_rest_are_errors(
    harness: Harness, plugin_env: dict[str, str]
) -> None:
    manifest = two_tenants(harness)
    process = spawn(
        ["check", str(manifest), "--select", "hang_entry", "--deadline", "2", "--format", "json"],
        {**plugin_env, "HANG_TENANT": "b", "HANG_HOW": "read"},
    )
    code, out, err, elapsed = finish(process, DEADLINE_BOUND)
    assert elapsed < DEADLINE_BOUND and code == 1, err
    by_tenant = {r["tenant"]: r for r in results(out) if r["check"] == "hang_entry"}
    assert (by_tenant["a"]["status"], by_tenant["a"]["reason"]) == ("pass", None)
    assert (by_tenant["b"]["status"], by_tenant["b"]["reason"]) == ("error", "deadline_exceeded")
    assert by_tenant["b"]["environment"] == "integration"


def test_a_resolver_that_never_returns_ends_at_the_deadline(
    harness: Harness, plugin_env: dict[str, str]
) -> None:
    harness.add("a")
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = "hang:forever"
    manifest = harness.write()
    process = spawn(
        ["check", str(manifest), "--select", "credentials", "--format", "json"],
        {**plugin_env, "STCHECK_DEADLINE": "2"},
    )
    code, out, err, elapsed = finish(process, DEADLINE_BOUND)
    assert elapsed < DEADLINE_BOUND and code == 1, err
    (credentials,) = [r for r in results(out) if r["check"] == "credentials"]
    assert (credentials["status"], credentials["reason"]) == ("error", "deadline_exceeded")


def test_a_report_cut_short_by_its_deadline_is_not_exit_0(
    harness: Harness, plugin_env: dict[str, str]
) -> None:
    """Without --strict a report is information (exit 0) — not when time ran out."""
    manifest = two_tenants(harness)
    process = spawn(
        [
            "report",
            str(manifest),
            "--offline",
            "--select",
            "hang,schema",
            "--deadline",
            "2",
            "--format",
            "json",
        ],
        plugin_env,
    )
    code, out, err, elapsed = finish(process, DEADLINE_BOUND)
    assert elapsed < DEADLINE_BOUND and code == 1, err
    assert ("hang", "deadline_exceeded") in {(r["check"], r["reason"]) for r in results(out)}


@pytest.mark.parametrize("value", ["0", "-1", "nan", "soon"])
def test_a_malformed_deadline_is_a_usage_error(
    harness: Harness, plugin_env: dict[str, str], value: str
) -> None:
    manifest = two_tenants(harness)
    flag = spawn(["check", str(manifest), "--select", "hang", f"--deadline={value}"], plugin_env)
    assert finish(flag, 10)[0] == 2
    env = spawn(
        ["check", str(manifest), "--select", "hang"], {**plugin_env, "STCHECK_DEADLINE": value}
    )
    code, _, err, _ = finish(env, 10)
    assert code == 2 and "STCHECK_DEADLINE" in err, err


def _wait_for(condition: Any, process: subprocess.Popen[str], seconds: float = 20) -> None:
    limit = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the run ended (status {process.returncode}) before it hung")
        if time.monotonic() > limit:
            process.kill()
            pytest.fail("the run never reached the point to interrupt")
        time.sleep(0.05)


SIGNALS = [(signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")]


def _assert_stopped(
    process: subprocess.Popen[str], signum: int, status: int, name: str, target: Path
) -> None:
    process.send_signal(signum)
    code, out, err, elapsed = finish(process, SIGNAL_BOUND)
    assert elapsed < SIGNAL_BOUND, (elapsed, err)
    assert code == status, (code, err)
    assert err.splitlines() == [f"stcheck: stopped by {name}; the run did not finish"], err
    assert out == ""
    assert not target.exists()  # the stale file was deleted, and nothing took its place
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.parametrize(("signum", "status", "name"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_run_stuck_in_a_plugin_system_call(
    harness: Harness,
    plugin_env: dict[str, str],
    tmp_path: Path,
    signum: int,
    status: int,
    name: str,
) -> None:
    manifest = two_tenants(harness)
    target = tmp_path / "reports" / "junit.xml"
    target.parent.mkdir()
    target.write_text("<stale/>", encoding="utf-8")
    mark = Path(plugin_env["HANG_MARK"])
    process = spawn(
        ["check", str(manifest), "--select", "schema,hang_entry", "--output", f"junit={target}"],
        {**plugin_env, "HANG_HOW": "read"},
    )
    _wait_for(mark.exists, process)
    _assert_stopped(process, signum, status, name, target)


@pytest.mark.parametrize(("signum", "status", "name"), SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_a_run_waiting_on_a_trickling_server(
    harness: Harness, tmp_path: Path, signum: int, status: int, name: str
) -> None:
    harness.add("t", behavior="trickle_body", trickle_rate=2.0)
    manifest = harness.write()
    target = tmp_path / "report.json"
    target.write_text('{"stale": true}', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STCHECK_")}
    process = spawn(
        [
            "check",
            str(manifest),
            "--timeout",
            "600",
            "--output",
            f"json={target}",
            *harness.fake.cli_args(),
        ],
        env,
    )
    _wait_for(lambda: bool(harness.fake.token_requests()), process)
    time.sleep(0.3)  # well inside the trickled answer
    _assert_stopped(process, signum, status, name, target)

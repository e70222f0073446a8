"""The fast loop leaves out what starts the fake ServiceTitan, installs packages or needs Chromium.

``python -m pytest -q -m "not integration and not browser"`` (CONTRIBUTING.md)
is collected for real, in a subprocess, and its test IDs are checked against
the tests that must not be in it, wherever they live.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FAST = "not integration and not browser"


def collected(expression: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    command = [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(
        [*command, "-m", expression],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return [line for line in done.stdout.splitlines() if "::" in line]


def test_the_fast_loop_leaves_out_the_fake_the_installs_and_the_browser() -> None:
    fast = collected(FAST)
    slow_places = ("tests/online/", "tests/testing/", "tests/integration/")
    assert not [test for test in fast if test.startswith(slow_places)]
    # Users of the fake's fixtures outside those directories are marked too.
    assert not [test for test in fast if test.startswith("tests/readiness/test_online_fake.py")]
    assert "tests/test_leaks.py::test_token_values_are_not_in_reprs" in fast
    assert not [test for test in fast if "test_no_secret_or_token_in_any_output" in test]
    assert not [test for test in fast if test.startswith("tests/readiness/test_browser.py")]
    # What the fast loop is for: the offline checks, reporters and the plugin's unit tests.
    for place in ("tests/checks/", "tests/reporters/", "plugins/stcheck-dotenv/tests/"):
        assert any(test.startswith(place) for test in fast), place

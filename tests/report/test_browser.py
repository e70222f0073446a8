"""The HTML report in a real browser: headless Chromium renders it, screenshots it, dumps the DOM.

Runs wherever ``chromium`` (Debian's ``/usr/bin/chromium``) or ``chromium-browser``
is installed. Skipped, with the reason, only when no Chromium is found and
``STCHECK_REQUIRE_BROWSER`` is unset; CI sets it to 1, so there it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _chromium() -> str:
    for candidate in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    if os.environ.get("STCHECK_REQUIRE_BROWSER"):
        pytest.fail("STCHECK_REQUIRE_BROWSER is set but no chromium is installed")
    pytest.skip(
        "no chromium installed (apt-get install chromium); "
        "set STCHECK_REQUIRE_BROWSER=1 to make this a failure"
    )


def _browser(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [
        binary,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    env = {**os.environ, "HOME": str(profile)}
    return subprocess.run(command, capture_output=True, timeout=120, check=False, env=env)


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.mark.parametrize("width", [1200, 390])
def test_report_renders_in_chromium(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path, width: int
) -> None:
    binary = _chromium()
    path = write_manifest(
        tenant(),
        tenant("rapid-hvac", production=False, number=2),
        tenant("<script>alert(1)</script>", owner="<b>owner</b>", number=3),
    )
    page = tmp_path / "readiness.html"
    run = run_report("--output", f"html={page}", str(path), network=ScriptedNetwork())
    assert page.exists(), run.err
    url = page.as_uri()
    profile = tmp_path / "profile"

    dumped = _browser(binary, profile, "--dump-dom", url)
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode("utf-8")
    assert "<table" in dom and "<caption>" in dom
    for words in (
        "Go-live readiness",
        "good-plumbing",
        "rapid-hvac",
        "not ready",
        "ready",
        "A production entry exists",
        "About this report",
    ):
        assert words in dom, words
    # The hostile tenant name arrived as text; the browser built no script element from it.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert "<script" not in dom
    assert "<b>owner</b>" not in dom

    shot = tmp_path / "readiness.png"
    taken = _browser(
        binary,
        profile,
        f"--screenshot={shot}",
        f"--window-size={width},1600",
        "--hide-scrollbars",
        url,
    )
    assert taken.returncode == 0, taken.stderr.decode(errors="replace")[-2000:]
    data = shot.read_bytes()
    assert _png_size(data) == (width, 1600)
    # A blank page compresses to a few kB; a rendered report is far larger.
    assert len(data) > 20_000

"""The HTML report in a real browser: headless Chromium renders it, screenshots it, dumps the DOM.

Runs wherever ``chromium`` (Debian's ``/usr/bin/chromium``) or ``chromium-browser``
is installed. Skipped, with the reason, only when no Chromium is found and
``STCHECK_REQUIRE_BROWSER`` is unset; CI sets it to 1, so there it must run.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import RunReportFn, ScriptedNetwork, tenant

pytestmark = pytest.mark.browser

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
        tenant("rapid-hvac", production=False, planned=True, number=2),
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


def _pdf_pages(data: bytes) -> int:
    assert data.startswith(b"%PDF-")
    return len(re.findall(rb"/Type\s*/Page\b(?!s)", data))


def test_big_fleet_report_in_chromium(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    """1,000 tenants, 3 not ready: those in full, the rest collapsed — and the page stays small."""
    binary = _chromium()
    not_ready = {17: "<script>alert(1)</script>", 500: "rapid-hvac", 999: "last-one"}
    tenants = [
        tenant(not_ready[n], production=False, planned=True, number=n)
        if n in not_ready
        else tenant(f"tenant-{n:04d}", owner=f"ops{n}@acme.example", number=n)
        for n in range(1000)
    ]
    page = tmp_path / "readiness.html"
    run = run_report(
        "--offline", "--quiet", "--output", f"html={page}", str(write_manifest(*tenants))
    )
    assert run.code == 0, run.err
    # The budget is 5 MB at 10,000 tenants; 1,000 must be far below it.
    assert page.stat().st_size < 500_000
    profile = tmp_path / "profile"

    dumped = _browser(binary, profile, "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    dom = dumped.stdout.decode("utf-8")
    assert "<script" not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    sections = re.findall(r'<section class="tenant" id="tenant-(\d+)"', dom)
    assert sections == ["1", "2", "3"]
    for name in (
        "&lt;script&gt;alert(1)&lt;/script&gt; <span",
        "rapid-hvac <span",
        "last-one <span",
    ):
        assert name in dom, name
    # The 997 others are in the page, one row each, inside a closed <details>.
    assert len(re.findall(r'<details class="others">', dom)) == 1
    assert dom.count('<tr><th scope="row">tenant-') == 997
    assert "997 tenants</summary>" in dom

    # Printing lays out what is open: closed, the 997 rows take no pages; opened, many.
    printed = tmp_path / "closed.pdf"
    done = _browser(
        binary, profile, "--no-pdf-header-footer", f"--print-to-pdf={printed}", page.as_uri()
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    opened_page = tmp_path / "opened.html"
    opened_page.write_text(
        page.read_text(encoding="utf-8").replace(
            '<details class="others">', '<details class="others" open>'
        ),
        encoding="utf-8",
    )
    opened = tmp_path / "opened.pdf"
    done = _browser(
        binary, profile, "--no-pdf-header-footer", f"--print-to-pdf={opened}", opened_page.as_uri()
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]
    closed_pages, opened_pages = _pdf_pages(printed.read_bytes()), _pdf_pages(opened.read_bytes())
    assert 3 <= closed_pages < 15
    assert opened_pages > closed_pages + 15  # 6 and 31 pages when written

    shot = tmp_path / "big.png"
    taken = _browser(
        binary,
        profile,
        f"--screenshot={shot}",
        "--window-size=1200,1600",
        "--hide-scrollbars",
        page.as_uri(),
    )
    assert taken.returncode == 0, taken.stderr.decode(errors="replace")[-2000:]
    assert len(shot.read_bytes()) > 20_000


def test_grouped_report_with_not_planned_in_chromium(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    """Groups, a not-planned tenant and the next-action column render; every link lands."""
    binary = _chromium()
    path = write_manifest(
        tenant(owner="ana@acme.example", enterprise_group="east"),
        tenant("late", owner="<b>bo</b>", attestations={}, number=2),
        tenant("sandbox", owner="<b>bo</b>", production=False, number=3),
        tenant("paused", owner=None, planned=False, because="<i>on hold</i>", number=4),
    )
    page = tmp_path / "readiness.html"
    run = run_report(
        *("--group-by", "owner", "--output", f"html={page}", str(path)),
        network=ScriptedNetwork(),
    )
    assert run.code == 0, run.err
    profile = tmp_path / "profile"
    dumped = _browser(binary, profile, "--enable-logging=stderr", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr.decode(errors="replace")[-2000:]
    log = dumped.stderr.decode(errors="replace")
    assert "Refused to" not in log and "Uncaught" not in log, log[-2000:]
    dom = dumped.stdout.decode("utf-8")
    assert "1 of 2 planned tenants ready; 2 not planned" in dom
    assert "not planned</span>" in dom and "Next action</th>" in dom
    assert "&lt;i&gt;on hold&lt;/i&gt;" in dom and "<i>on hold" not in dom
    assert "&lt;b&gt;bo&lt;/b&gt;" in dom and "<b>bo" not in dom
    # Every in-page link points at an element the browser built.
    ids = set(re.findall(r'\bid="([^"]+)"', dom))
    targets = set(re.findall(r'href="#([^"]+)"', dom))
    assert {"group-1", "group-2", "group-3", "tenant-1"} <= targets
    assert targets <= ids, targets - ids

"""``--output`` files: atomic writes that survive a full disk, and no stale file after a kill."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import VALID, run_cli

ERRORS = VALID.replace("tenant_id: 1234567", "tenant_id: 0").replace(
    "owner:", "colour: x\n    owner:"
)
STCHECK = (sys.executable, "-m", "stcheck")
FILE_LIMIT = 2048  # bytes: a --format json report of ERRORS is larger


def _limited_file_size() -> None:
    """In the child: writes past FILE_LIMIT fail with EFBIG (the kernel's, like a full disk)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (FILE_LIMIT, FILE_LIMIT))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the writer


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_an_interrupted_write_leaves_the_previous_file_whole(tmp_path: Path) -> None:
    """outputs.write: a write that fails half-way (EFBIG) leaves the old file and no temp file."""
    target = tmp_path / "report.json"
    target.write_text('{"previous": "good report"}\n', encoding="utf-8")
    script = (
        "import sys\n"
        "from stcheck.outputs import OutputWriteError, write\n"
        "try:\n"
        f"    write(sys.argv[1], 'x' * {FILE_LIMIT * 8})\n"
        "except OutputWriteError as exc:\n"
        "    print(exc)\n"
        "    raise SystemExit(3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(target)],
        capture_output=True,
        text=True,
        preexec_fn=_limited_file_size,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert "cannot write" in done.stdout and "File too large" in done.stdout
    assert target.read_text(encoding="utf-8") == '{"previous": "good report"}\n'
    assert _leftovers(tmp_path) == []


def test_a_run_whose_output_cannot_be_written_exits_3_with_no_partial_file(
    tmp_path: Path,
) -> None:
    """The CLI on a "full disk": exit 3 (not 2, a usage error), no truncated JSON left behind.

    The previous report was deleted when the run started (a failed run must not
    leave it to look current), so nothing is at the path afterwards.
    """
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(ERRORS, encoding="utf-8")
    target = tmp_path / "out" / "report.json"
    target.parent.mkdir()
    target.write_text("previous run\n", encoding="utf-8")
    done = subprocess.run(
        [*STCHECK, "validate", str(manifest), "--format", "text", "--output", f"json={target}"],
        capture_output=True,
        text=True,
        preexec_fn=_limited_file_size,
        timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert f"stcheck: error: cannot write {target} (File too large)" in done.stderr
    assert "fail [schema]" in done.stdout  # stdout got the verdict all the same
    assert not target.exists()
    assert _leftovers(target.parent) == []


def test_the_previous_output_is_gone_before_any_check_runs(tmp_path: Path) -> None:
    """Kill -9 a run while it loads a big manifest: the old junit.xml must not survive it.

    No signal handling is involved: the file is deleted before the checks start.
    """
    tenants = "".join(
        f"  - name: t{i}\n    environments:\n      integration:\n        tenant_id: {i + 1}\n"
        f"        client_id: env:C{i}\n        client_secret: env:S{i}\n"
        for i in range(40_000)
    )
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text("version: 1\napp: {name: x, app_key: env:K}\ntenants:\n" + tenants)
    junit = tmp_path / "junit.xml"
    junit.write_text("<testsuites><!-- the previous run --></testsuites>\n")
    process = subprocess.Popen(
        [*STCHECK, "validate", str(manifest), "-q", "--output", f"junit={junit}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while junit.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.005)
        assert process.poll() is None, "the run finished before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not junit.exists()


def test_outputs_are_whole_files_with_the_usual_permissions(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(ERRORS, encoding="utf-8")
    target = tmp_path / "deeper" / "report.json"
    result = run_cli("validate", str(manifest), "-q", "--output", f"json={target}")
    assert result.code == 1
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["fail"] >= 2
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert _leftovers(target.parent) == []


def test_a_symbolic_link_is_followed_and_kept(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    real = tmp_path / "reports" / "junit.xml"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "junit.xml"
    link.symlink_to(real)
    assert run_cli("validate", str(manifest), "-q", "--output", f"junit={link}").code == 0
    assert link.is_symlink() and "<testsuite" in real.read_text()


def test_an_output_that_is_a_manifest_is_refused_and_the_manifest_kept(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    result = run_cli("validate", str(manifest), "--output", f"json={manifest}")
    assert result.code == 2
    assert "is one of the manifests" in result.err
    assert manifest.read_text(encoding="utf-8") == VALID


def test_an_output_directory_that_cannot_be_made_is_a_usage_error(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a directory\n")
    result = run_cli("validate", str(manifest), "--output", f"json={blocker}/report.json")
    assert result.code == 2
    assert "cannot write there" in result.err


@pytest.mark.parametrize("device", ["/dev/null"])
def test_a_device_is_written_to_and_never_deleted(tmp_path: Path, device: str) -> None:
    """stcheck may run as root: ``--output json=/dev/null`` must not delete /dev/null."""
    if not Path(device).exists() or not stat.S_ISCHR(Path(device).stat().st_mode):
        pytest.skip(f"no {device} here")
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    assert run_cli("validate", str(manifest), "-q", "--output", f"json={device}").code == 0
    assert stat.S_ISCHR(Path(device).stat().st_mode)


def test_the_step_summary_is_appended_to_by_two_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GitHub's job summary is shared by the job's steps: neither deleted nor replaced."""
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    summary = tmp_path / "step_summary.md"
    summary.write_text("## an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    first = run_cli("validate", str(manifest), "-q", "--output", f"markdown={summary}")
    assert first.code == 0, first
    after_one = summary.read_text(encoding="utf-8")
    assert after_one.startswith("## an earlier step\n\n")
    second = run_cli("validate", str(manifest), "-q", "--output", f"markdown={summary}")
    assert second.code == 0, second
    after_two = summary.read_text(encoding="utf-8")
    run_text = after_one.removeprefix("## an earlier step\n\n")
    assert after_two.startswith(after_one + "\n")
    appended = after_two.removeprefix(after_one + "\n")
    assert appended.splitlines()[0] == run_text.splitlines()[0]
    assert len(appended.splitlines()) == len(run_text.splitlines())


def test_another_markdown_file_is_still_replaced_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(tmp_path / "step_summary.md"))
    other = tmp_path / "report.md"
    for _ in range(2):
        assert run_cli("validate", str(manifest), "-q", "--output", f"markdown={other}").code == 0
    text = other.read_text(encoding="utf-8")
    fresh = run_cli("validate", str(manifest), "--format", "markdown").out
    assert len(text.splitlines()) == len(fresh.splitlines())  # one run's text, not two

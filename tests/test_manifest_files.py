"""The manifest file itself: special files and links out of the repository are input errors.

A pull request can turn ``stcheck.yaml`` into a FIFO's place or a symbolic link
to ``/proc/self/environ``; the CLI runs in a subprocess with a timeout, so a
hang fails the test instead of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stcheck.confine import FileRefused, read_regular

CANARY = "cs1.Kq3vN8pX2mZ7rT5wB9yD4hF6"
MANIFEST = "version: 1\napp:\n  name: demo\n  app_key: env:ST_APP_KEY\ntenants: []\n"


def stcheck(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "STCHECK_ENV_ALLOW"}
    try:
        return subprocess.run(
            [sys.executable, "-m", "stcheck", *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,  # so /dev/stdin is /dev/null, whatever runs the tests
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"stcheck {' '.join(args)} hangs")


def refused(done: subprocess.CompletedProcess[str], words: str) -> None:
    assert done.returncode == 2, done.stdout + done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert CANARY not in done.stdout + done.stderr


def test_a_fifo_manifest_is_an_input_error_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "stcheck.yaml")
    done = stcheck(tmp_path, "validate")
    refused(done, "stcheck.yaml: the manifest is not a regular file (a FIFO)")


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="no /proc")
def test_a_manifest_linked_to_proc_self_environ_is_refused(tmp_path: Path) -> None:
    (tmp_path / "stcheck.yaml").symlink_to("/proc/self/environ")
    refused(stcheck(tmp_path, "check"), "leads outside its repository (into /proc)")


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/kmsg", "/dev/zero", "/dev/stdin"])
def test_special_files_named_directly_are_refused(tmp_path: Path, path: str) -> None:
    if not os.path.exists(path):
        pytest.skip(f"no {path} here")
    area = "/" + path.split("/")[1]
    refused(stcheck(tmp_path, "validate", path), f"{path}: the manifest is a special file")
    assert f"(under {area})" in stcheck(tmp_path, "validate", path).stderr


def test_a_manifest_linked_out_of_the_repository_is_not_read(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    outside = tmp_path_factory.mktemp("outside") / "other.yaml"
    outside.write_text(f"{CANARY}: [\n")  # malformed: the loader's messages would quote it
    (tmp_path / "stcheck.yaml").symlink_to(outside)
    refused(stcheck(tmp_path, "validate"), "symbolic link that leads outside its repository")


def test_links_inside_the_repository_still_work(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "real.yaml").write_text(MANIFEST)
    (tmp_path / "stcheck.yaml").symlink_to("config/real.yaml")
    done = stcheck(tmp_path, "validate", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_reader_reads_at_most_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text("x" * 100)
    with pytest.raises(FileRefused) as caught:
        read_regular(str(path), max_bytes=99, shown="the manifest")
    assert caught.value.kind == "too_large"
    data, _ = read_regular(str(path), max_bytes=100, shown="the manifest")
    assert data == b"x" * 100

"""Several manifests: each is released once checked; a bad file still stops the run first."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from stcheck.api import Check, CheckContext, RunOptions
from stcheck.exitcodes import UsageError
from stcheck.hookspecs import hookimpl
from stcheck.manifest import Manifest, load_bytes
from stcheck.model import Result, Status
from stcheck.plugins import build_plugins
from stcheck.redact import Redactor
from stcheck.runner import run
from stcheck.runstate import RunState
from tests.conftest import VALID


class Recorder(Check):
    """Notes, for every manifest it checks, whether the manifests checked before still hold data."""

    id = "recorder"
    stage = "manifest"
    order = 99

    def __init__(self) -> None:
        self.seen: list[Manifest] = []
        self.earlier_held: list[bool] = []

    def run(self, ctx: CheckContext) -> list[Result]:
        self.earlier_held.append(any(m.data is not None or m.text for m in self.seen))
        self.seen.append(ctx.manifest)
        return [ctx.result(self.id, Status.PASS, "seen")]


class RecorderPlugin:
    def __init__(self) -> None:
        self.check = Recorder()

    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [self.check]


def manifests(tmp_path: Path, count: int) -> list[str]:
    paths = []
    for index in range(count):
        path = tmp_path / f"m{index}.yaml"
        # One app per file: the manifests of one app must not share tenants (see test_fleet.py).
        text = VALID.replace("good-plumbing", f"tenant-of-file-{index}")
        path.write_text(text.replace("acme-dispatch-sync", f"app-{index}"), encoding="utf-8")
        paths.append(str(path))
    return paths


def test_each_manifest_is_released_before_the_next_is_checked(tmp_path: Path) -> None:
    recorder = RecorderPlugin()
    plugins = build_plugins(load_installed=False, extra=[("recorder", recorder)])
    paths = manifests(tmp_path, 3)
    report = run(paths, plugins, RunOptions(), state=RunState(redactor=Redactor()))
    assert recorder.check.earlier_held == [False, False, False]
    assert [m.path for m in recorder.check.seen] == paths
    assert report.manifests == tuple(paths)
    assert [r.status for r in report.results if r.check == "schema"] == [Status.PASS] * 3


def test_a_bad_file_anywhere_is_a_usage_error_before_any_check_runs(tmp_path: Path) -> None:
    paths = manifests(tmp_path, 2)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    for bad in (str(tmp_path / "missing.yaml"), str(tmp_path), str(fifo)):
        recorder = RecorderPlugin()
        plugins = build_plugins(load_installed=False, extra=[("recorder", recorder)])
        with pytest.raises(UsageError):
            run([*paths, bad], plugins, RunOptions())
        assert recorder.check.seen == []


def test_selected_tenants_are_looked_up_in_every_manifest(tmp_path: Path) -> None:
    paths = manifests(tmp_path, 3)
    plugins = build_plugins(load_installed=False)
    report = run(paths, plugins, RunOptions(tenants=("tenant-of-file-2",)))
    assert not report.failed
    with pytest.raises(UsageError, match="no tenant named nobody"):
        run(paths, plugins, RunOptions(tenants=("tenant-of-file-1", "nobody")))


TRICKY = """\
plain: some words here
single: 'it''s'
double: "tab\\there \\u00e9 \\x41"
folded: >
  one
  two
literal: |
  line one
  line two
multi plain: first
  second
"key \\u00e9": v
same line quoted: "no escapes"
list: [a, 'b', "c\\n"]
"""


def test_the_redactor_is_told_every_string_the_manifest_decodes_to() -> None:
    """What the manifest says is never taken for a secret's fragment: every string is known."""
    loaded = load_bytes(TRICKY.encode(), "m.yaml")
    told = "\n".join(loaded.texts())
    strings: list[str] = []
    stack: list[object] = [loaded.data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            strings.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str):
            strings.append(value)
    assert "c\n" in strings and "it's" in strings and "key é" in strings
    assert [s for s in strings if s not in told] == []
    # and only those the text does not hold as written are copied
    assert "some words here" not in loaded.decoded and "no escapes" not in loaded.decoded
    assert load_bytes(VALID.encode(), "m.yaml").decoded == []

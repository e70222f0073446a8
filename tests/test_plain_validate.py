"""``validate FILE…`` without argparse (:func:`stcheck.cli.plain_validate`) is argparse's answer.

The fast path is a partial parser: for every command line it either gives the
namespace the real parser gives, or declines (None) and the real parser
decides. These tests hold it to that over every short command line of a token
alphabet (good and bad options, abbreviations, ``--``, ``--help``), and run
whole commands both ways to compare exit status, stdout and stderr.
"""

from __future__ import annotations

import io
import itertools
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from stcheck import cli
from stcheck.app import Writer
from stcheck.plugins import build_plugins
from stcheck.redact import Redactor
from tests.conftest import VALID

TOKENS = (
    "validate",
    "check",
    "a.yaml",
    "b.yaml",
    "-q",
    "--quiet",
    "-v",
    "--verbose",
    "--no-config",
    "--pre-commit",
    "--quie",
    "--pre",
    "-qv",
    "--",
    "-",
    "",
    "-1",
    "--format",
    "text",
    "--today",
    "2026-12-01",
    "--help",
    "-h",
    "--version",
    "--quiet=1",
    "--config",
    "--tenant",
    "--no-such",
)
FIRST = ("validate", "check", "report", "-q", "--version", "a.yaml", "plugins")
FAST = ("a.yaml", "b.yaml", "-q", "--quiet", "-v", "--verbose", "--no-config", "--pre-commit")


def _parsed(parser: Any, argv: Sequence[str]) -> dict[str, Any] | int:
    """The real parser's namespace for ``argv``, or the status it exits with."""
    try:
        return vars(parser.parse_args(list(argv)))
    except cli.ParserExit as exc:
        return int(exc.status)


def _command_lines() -> list[list[str]]:
    lines = [[first, *rest] for first in FIRST for n in range(3) for rest in _tuples(TOKENS, n)]
    lines += [["validate", *rest] for n in (3, 4) for rest in _tuples((*FAST, "--", "-x"), n)]
    return lines


def _tuples(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return list(itertools.product(tokens, repeat=n))


def test_the_fast_path_gives_argparses_namespace_or_declines() -> None:
    plugins = build_plugins(load_installed=False)
    assert cli._only_builtins(plugins)
    writer = Writer(Redactor(), io.StringIO(), io.StringIO())
    parser = cli.build_parser(plugins, "validate", writer)
    taken = 0
    for argv in _command_lines():
        fast = cli.plain_validate(argv)
        if fast is None:
            continue
        taken += 1
        assert _parsed(parser, argv) == vars(fast), argv
    assert taken > 4_000  # not vacuous: the plain shapes are taken
    for argv in (
        ["validate"],
        ["validate", "--pre-commit", "a.yaml", "b.yaml"],
        ["validate", "-q"],
    ):
        assert cli.plain_validate(argv) is not None, argv
    for argv in (
        ["validate", "a.yaml", "-q", "b.yaml"],  # argparse: unrecognized arguments: b.yaml
        ["validate", "--quie"],  # an abbreviation argparse would accept
        ["validate", "-qv"],
        ["validate", "--", "a.yaml"],
        ["validate", "--help"],
        ["validate", "--today", "2026-12-01"],
        ["validate", ""],
        ["check", "a.yaml"],
    ):
        assert cli.plain_validate(argv) is None, argv


def test_the_parser_is_not_built_for_the_pre_commit_hooks_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(VALID, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    built: list[object] = []
    real = cli.build_parser
    monkeypatch.setattr(cli, "build_parser", lambda *a, **k: built.append(a) or real(*a, **k))
    out = io.StringIO()
    assert cli.main(["validate", "--pre-commit", str(manifest)], out, io.StringIO()) == 0
    assert built == []
    assert cli.main(["validate", "--today", "2026-12-01", str(manifest)], out, io.StringIO()) == 0
    assert len(built) == 1  # any other option: the parser


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", "{good}"],
        ["validate", "-q", "{good}"],
        ["validate", "-v", "{good}", "{bad}"],
        ["validate", "--pre-commit", "{good}", "--no-config"],
        ["validate", "{bad}", "--verbose"],
        ["validate", "{missing}"],
        ["validate"],
        ["validate", "-q"],
        ["validate", "{good}", "-q", "{bad}"],
        ["validate", "--quie", "{good}"],
        ["validate", "--help"],
        ["validate", "--no-such", "{good}"],
        ["validate", "--", "{good}"],
        ["validate", "-"],
    ],
)
def test_a_whole_run_is_the_same_with_and_without_the_fast_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, argv: list[str]
) -> None:
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "bad.yaml").write_text(VALID.replace("version: 1", "version: 7"), encoding="utf-8")
    names = {"good": "good.yaml", "bad": "bad.yaml", "missing": "missing.yaml"}
    argv = [arg.format(**names) for arg in argv]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COLUMNS", "100")
    for name in [name for name in os.environ if name.startswith("STCHECK_")]:
        monkeypatch.delenv(name)

    def run() -> tuple[int, str, str]:
        out, err = io.StringIO(), io.StringIO()
        code = cli.main(list(argv), out, err)
        return code, out.getvalue(), err.getvalue()

    fast = run()
    with monkeypatch.context() as patched:
        patched.setattr(cli, "plain_validate", lambda argv: None)
        slow = run()
    assert fast == slow

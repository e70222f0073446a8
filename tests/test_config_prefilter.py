"""The pre-parse filter of config discovery (``config._may_have_table``) never misses a table.

It decides whether a ``pyproject.toml`` that mentions stcheck is worth parsing
with tomllib. A false "no" would silently ignore the repository's
``[tool.stcheck]`` (its ``select``, ``skip``, ``fail_on`` — a gate's settings),
so it is held to a superset of the regular expressions it replaced, over every
spelling built from TOML's quoting and spacing, and to tomllib itself.
"""

from __future__ import annotations

import itertools
import re
import sys

import pytest

from stcheck import config

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_Q = rb"""["']?"""
_OLD = (
    rb"^[ \t]*\[\[?[ \t]*" + _Q + rb"tool" + _Q + rb"[ \t]*\.[ \t]*" + _Q + rb"stcheck",
    rb"\btool" + _Q + rb"[ \t]*\.[ \t]*" + _Q + rb"stcheck" + _Q + rb"[ \t]*[.=]",
    rb"^[ \t]*\[[ \t]*" + _Q + rb"tool" + _Q + rb"[ \t]*\]",
    rb"^[ \t]*" + _Q + rb"tool" + _Q + rb"[ \t]*=[ \t]*\{",
)


def _old(data: bytes) -> bool:
    return any(re.search(pattern, data, re.MULTILINE) for pattern in _OLD)


def _spellings() -> list[bytes]:
    quotes = (b"", b'"', b"'")
    spaces = (b"", b" ", b"\t ")
    lines: list[bytes] = []
    for q1, q2, s1, s2 in itertools.product(quotes, quotes, spaces, spaces):
        tool, stcheck = q1 + b"tool" + q1, q2 + b"stcheck" + q2
        lines += [
            s1 + b"[" + s2 + tool + s1 + b"." + s2 + stcheck + s1 + b"]",
            s1 + b"[[" + s2 + tool + s1 + b"." + s2 + stcheck + b".x]]",
            s1 + tool + s2 + b"." + s1 + stcheck + s2 + b"=" + s1 + b"{}",
            s1 + tool + s2 + b"." + s1 + stcheck + s2 + b"." + b"select = []",
            b"x = 1 # " + tool + b"." + stcheck + s1 + b"=",
            s1 + b"[" + s2 + tool + s1 + b"]",
            s1 + tool + s2 + b"=" + s1 + b"{ stcheck = {} }",
            s1 + b"[" + s2 + tool + s1 + b".ruff]",
            s1 + b"dependencies = [" + q1 + b"stcheck>=0.1" + q1 + b"]",
            s1 + b"toolbox." + stcheck + b" = 1",
        ]
    return lines


@pytest.mark.parametrize("ending", [b"\n", b"\r\n", b""])
def test_every_spelling_the_expressions_matched_is_still_parsed(ending: bytes) -> None:
    lines = _spellings()
    matched = 0
    for line in lines:
        for data in (line + ending, b"[project]\nname = 'x'\n" + line + ending + b"a = 1\n"):
            if _old(data):
                matched += 1
                assert config._may_have_table(data), data
    assert matched > 500  # the corpus exercises the spellings, not just misses


def test_a_pyproject_that_only_names_stcheck_is_passed_over() -> None:
    data = (
        b"[project]\nname = 'app'\ndependencies = ['stcheck>=0.1']\n"
        b"[tool.ruff]\nline-length = 100\n[tool.hatch.build]\ninclude = ['stcheck']\n"
    )
    assert not config._may_have_table(data)
    assert not _old(data)


def test_whenever_tomllib_finds_the_table_the_filter_says_maybe() -> None:
    documents = [
        "[tool.stcheck]\nselect = ['schema']\n",
        '[ "tool" . "stcheck" ]\nskip = []\n',
        "[tool]\nstcheck = { fail_on = 'warn' }\n",
        "tool = { stcheck = { select = [] } }\n",
        "tool.stcheck.select = ['schema']\n",
        "[tool.stcheck.check]\ntimeout = 5\n",
        "'tool'.'stcheck' = { skip = [] }\n",
        "[tool]\n[tool.stcheck]\n",
    ]
    for text in documents:
        document = tomllib.loads(text)
        assert isinstance(document["tool"]["stcheck"], dict), text
        assert config._may_have_table(text.encode()), text

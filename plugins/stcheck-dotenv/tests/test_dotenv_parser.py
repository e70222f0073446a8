"""The ``.env`` parser of stcheck-dotenv: values, quoting, comments, malformed lines."""

from __future__ import annotations

from types import ModuleType

import pytest


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1", {"A": "1"}),
        ("A = 1 ", {"A": "1"}),
        ("export A=1", {"A": "1"}),
        ("  export   A=1", {"A": "1"}),
        ("exported=1", {"exported": "1"}),
        ("A=value # comment", {"A": "value"}),
        ("A=value#not-a-comment", {"A": "value#not-a-comment"}),
        ("A=#not-a-comment", {"A": "#not-a-comment"}),
        ("A= # only a comment", {"A": ""}),
        ("A=", {"A": ""}),
        ("A='single # quoted'  # comment", {"A": "single # quoted"}),
        ("A='no \\n escapes'", {"A": "no \\n escapes"}),
        ('A="tab\\there \\"q\\" \\\\ \\$HOME"', {"A": 'tab\there "q" \\ $HOME'}),
        ('A="${NOT_EXPANDED}"', {"A": "${NOT_EXPANDED}"}),
        ('A="two\nlines"\nB=2', {"A": "two\nlines", "B": "2"}),
        ("# comment\n\n   # indented comment\nA=1", {"A": "1"}),
        ("\ufeffA=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ("A=1\nA=2", {"A": "2"}),
        ("A=é€", {"A": "é€"}),
    ],
)
def test_parser_values(dotenv: dict[str, ModuleType], text: str, expected: dict[str, str]) -> None:
    assert dotenv["parser"].parse(text).values == expected


def test_parser_records_malformed_lines_and_goes_on(dotenv: dict[str, ModuleType]) -> None:
    parsed = dotenv["parser"].parse(
        'A=1\nnot an assignment\nB=\'unterminated\nC=3\nD="x" trailing\n1BAD=2\nA=4\n'
    )
    assert parsed.values == {"A": "4", "C": "3"}
    assert parsed.defined_at == {"A": [1, 7], "C": [4]}
    assert parsed.malformed == [2, 3, 5, 6]

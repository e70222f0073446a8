"""The character test of stcheck.confine (confinement: tests/online/test_file_references.py)."""

from __future__ import annotations


def test_has_control_agrees_with_the_character_categories_for_every_code_point() -> None:
    """The ``isprintable`` shortcut never hides a control, format or separator character."""
    import sys
    import unicodedata

    from stcheck.confine import has_control

    categories = {"Cc", "Cf", "Cs", "Zl", "Zp"}
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        assert has_control(f"ab{char}cd") is (unicodedata.category(char) in categories), hex(code)

"""The Markdown summary: verdict, counts, findings table, escaping, size cap, footer."""

from __future__ import annotations

import re

from stcheck.model import Location, Result, RunReport, Status
from stcheck.reasons import hint_for
from stcheck.reporters import markdown
from tests.reporters.support import make_report

HOSTILE = (
    "bad <script>alert(1)</script> | ]]> & `tick` ![x](https://evil.example/p.png) "
    "**bold** [link](javascript:alert(1)) $x$ \x07bell\nsecond line"
)


def _report(*results: Result, **kwargs: object) -> RunReport:
    return make_report(*results, **kwargs)


def _mixed() -> RunReport:
    return _report(
        Result(
            "token",
            Status.WARN,
            "expires_in is 3600, not 900",
            reason="unexpected_expiry",
            tenant="fast-hvac",
            environment="integration",
            location=Location("stcheck.yaml"),
        ),
        Result(
            "schema",
            Status.FAIL,
            HOSTILE,
            reason="host_in_manifest",
            tenant="evil|<b>tenant</b>",
            location=Location("stcheck.yaml", 3, 5, "/app/host"),
        ),
        Result(
            "token",
            Status.FAIL,
            "the token endpoint rejected the client pair",
            reason="invalid_client",
            tenant="good-plumbing",
            environment="production",
            location=Location("stcheck.yaml", 14, 20, "/tenants/0"),
        ),
        Result(
            "api",
            Status.ERROR,
            "timed out after 10 s",
            reason="timeout",
            tenant="fast-hvac",
            environment="integration",
        ),
        Result("unique", Status.PASS, "names are unique"),
        Result(
            "dns",
            Status.SKIP,
            "needs the network",
            reason="offline",
            tenant="fast-hvac",
            environment="production",
        ),
    )


def _table(text: str, first_header: str) -> list[list[str]]:
    """The rows (header first, separator dropped) of the table whose header starts so."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {first_header} |"))
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    del rows[1]
    return rows


def test_heading_failed() -> None:
    text = markdown.render(_mixed())
    heading = text.splitlines()[0]
    assert heading.startswith("## ❌ stcheck check: failed")
    assert "2 failed" in heading
    assert "1 could not be checked (error)" in heading


def test_heading_passed_and_passed_with_warnings() -> None:
    ok = _report(Result("unique", Status.PASS, "fine"))
    assert markdown.render(ok).splitlines()[0] == "## ✅ stcheck check: passed"
    warned = _report(Result("token", Status.WARN, "slow"), Result("token", Status.WARN, "slow"))
    assert markdown.render(warned).splitlines()[0] == "## ✅ stcheck check: passed with 2 warnings"


def test_counts_table() -> None:
    rows = _table(markdown.render(_mixed()), "✅ pass")
    assert rows == [
        ["✅ pass", "⚠️ warn", "❌ fail", "❗ error", "⏭️ skip"],
        ["1", "1", "2", "1", "1"],
    ]


def test_findings_table_structure_and_order() -> None:
    rows = _table(markdown.render(_mixed()), "Status")
    assert rows[0] == [
        "Status",
        "Check",
        "Tenant",
        "Environment",
        "Location",
        "Message",
        "What to do",
    ]
    body = rows[1:]
    assert all(len(row) == 7 for row in body)  # hostile "|" did not add cells
    # Failures and errors first, warnings last; passes and skips not listed.
    assert [row[0] for row in body] == ["❌ fail", "❌ fail", "❗ error", "⚠️ warn"]
    token = body[1]
    assert token[1:5] == ["token", "good-plumbing", "production", "stcheck.yaml:14"]
    assert token[5] == "the token endpoint rejected the client pair"
    assert token[6] == markdown.escape(hint_for("invalid_client"))
    # No location at all, and a location without a line.
    assert body[2][4] == "—"
    assert body[3][4] == "stcheck.yaml"
    # Manifest-level result: no environment.
    assert body[0][3] == "—"


def test_hostile_text_is_escaped() -> None:
    text = markdown.render(_mixed())
    for raw in ("<script>", "<b>", "](", "![", "**", "`", "$x$", "]]>", "\x07"):
        assert raw not in text, raw
    row = _table(text, "Status")[1]
    assert row[2] == "evil&#124;&lt;b&gt;tenant&lt;/b&gt;"
    message = row[5]
    assert message.startswith("bad &lt;script&gt;alert(1)&lt;/script&gt; &#124; &#93;&#93;&gt; ")
    assert "&amp;" in message
    assert "&#96;tick&#96;" in message
    assert "&#42;&#42;bold&#42;&#42;" in message
    assert "bell<br>second line" in message  # control character dropped, newline kept


def test_escape_function() -> None:
    assert markdown.escape("a|b") == "a&#124;b"
    assert markdown.escape("<&>") == "&lt;&amp;&gt;"
    assert markdown.escape("x\r\ny\n\nz\t!") == "x<br>y<br>z !"
    assert markdown.escape("\x00\x1b[31mred\x9b") == "&#91;31mred"
    assert markdown.escape("abcdef", limit=4) == "abc…"
    assert markdown.escape("## title #") == "&#35;&#35; title &#35;"


def test_skipped_results_are_collapsed() -> None:
    text = markdown.render(_mixed())
    details = text[text.index("<details>") : text.index("</details>")]
    assert "<summary>⏭️ Skipped (1)</summary>" in details
    rows = _table(details, "Check")
    assert rows == [
        ["Check", "Tenant", "Environment", "Reason", "Why"],
        ["dns", "fast-hvac", "production", "offline", "needs the network"],
    ]
    assert "needs the network" not in text[: text.index("<details>")]


def test_footer() -> None:
    report = _report(
        Result("unique", Status.PASS, "ok"),
        manifests=("a.yaml", "b|c.yaml"),
        checks_not_run={"golive": "deselected"},
    )
    text = markdown.render(report)
    footer = text[text.rindex("\n---\n") :]
    assert "stcheck 9.8.7" in footer
    assert "manifests: a.yaml, b&#124;c.yaml" in footer
    assert "started: 2026-11-20T10:15:00+01:00" in footer
    assert "took 2.50 s" in footer
    assert "Checks not run: golive (deselected)" in footer


def test_no_findings() -> None:
    text = markdown.render(_report(started_at="", duration=0.0))
    assert text.startswith("## ✅ stcheck check: passed\n")
    assert "No findings." in text
    assert "<details>" not in text


def test_row_cap_for_a_large_run() -> None:
    results = tuple(
        Result(
            "token",
            Status.FAIL if i % 2 else Status.SKIP,
            f"rejected {i}",
            reason="invalid_client" if i % 2 else "offline",
            tenant=f"tenant-{i}",
            environment="production",
            location=Location("stcheck.yaml", i + 1, 3),
        )
        for i in range(10_000)
    )
    text = markdown.render(_report(*results))
    assert len(text.encode("utf-8")) < markdown.GITHUB_SUMMARY_LIMIT
    findings = _table(text, "Status")[1:]
    assert len(findings) == markdown.MAX_ROWS
    assert f"…and {5000 - markdown.MAX_ROWS} more — see the JSON/JUnit output." in text
    skipped = _table(text[text.index("<details>") :], "Check")[1:]
    assert len(skipped) == markdown.MAX_SKIPPED_ROWS
    assert f"…and {5000 - markdown.MAX_SKIPPED_ROWS} more" in text


def test_byte_cap_with_huge_hostile_messages() -> None:
    message = ("|<&>`" * 2000) + "\n" + "x" * 10_000
    results = tuple(
        Result(
            "schema",
            Status.ERROR if i % 3 else Status.SKIP,
            message,
            reason="schema",
            tenant="|" * 1000,
            environment="<" * 1000,
            hint="&" * 5000,
            location=Location("|" * 1000, i + 1),
        )
        for i in range(10_000)
    )
    text = markdown.render(_report(*results, manifests=tuple(f"m{i}.yaml" for i in range(500))))
    size = len(text.encode("utf-8"))
    assert size <= markdown.MAX_BYTES < markdown.GITHUB_SUMMARY_LIMIT
    assert "more — see the JSON/JUnit output." in text
    assert "and 480 more" in text  # manifests listed in the footer are capped too
    assert text.rstrip().endswith("</sub>")  # the footer survived
    for row in _table(text, "Status")[1:]:
        assert len(row) == 7
    assert re.search(r"<details><summary>⏭️ Skipped \(3334\)</summary>", text)

"""Waivers through the real command line: applied, shown in every format, judged, refused.

The waivable failure used offline is the ``unique`` check's
``shared_client_reference``: two tenants that reference the same client pair.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from tests.conftest import CANARY_SECRET, run_cli

TODAY = "2026-12-03"

SHARED = """\
version: 1
app:
  name: acme
  app_key: env:ST_APP_KEY
tenants:
  - name: north-electric
    environments:
      integration:
        tenant_id: 1234567
        client_id: env:NE_ID
        client_secret: env:NE_SECRET
  - name: south-electric
    environments:
      integration:
        tenant_id: 2345678
        client_id: env:NE_ID
        client_secret: env:NE_SECRET
"""

WAIVER = """\
waivers:
  - check: unique
    tenant: south-electric
    environment: integration
    reason: shared_client_reference
    because: "Shares north's pair until its own is issued (OPS-123)"
    by: dana@acme.example
    until: 2026-12-31
"""
WAIVER_LINE = SHARED.count("\n") + 2  # the line of `- check: unique`


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _validate(path: Path, *args: str) -> tuple[int, dict[str, object], str]:
    result = run_cli("validate", "--today", TODAY, "--format", "json", *args, str(path))
    document = json.loads(result.out)
    jsonschema.validate(document, load_schema(REPORT_SCHEMA))
    return result.code, document, result.err


def _results(document: dict[str, object], **match: object) -> list[dict[str, object]]:
    results = document["results"]
    assert isinstance(results, list)
    return [r for r in results if all(r.get(k) == v for k, v in match.items())]


def test_without_the_waiver_the_shared_pair_fails(tmp_path: Path) -> None:
    code, document, _ = _validate(_write(tmp_path, SHARED))
    assert code == 1
    assert len(_results(document, reason="shared_client_reference", status="fail")) == 2


def test_a_waived_fail_exits_0_and_keeps_its_status_and_reason(tmp_path: Path) -> None:
    path = _write(tmp_path, SHARED + WAIVER)
    code, document, _ = _validate(path)
    assert code == 0, document
    waived = _results(document, reason="shared_client_reference")
    assert len(waived) == 2
    for result in waived:
        assert result["status"] == "fail"
        assert result["waiver"] == {
            "because": "Shares north's pair until its own is issued (OPS-123)",
            "by": "dana@acme.example",
            "until": "2026-12-31",
            "location": {
                "file": str(path),
                "line": WAIVER_LINE,
                "column": 5,
                "pointer": "/waivers/0",
            },
        }
    summary = document["summary"]
    assert isinstance(summary, dict)
    assert summary["fail"] == 0 and summary["waived"] == 2


def test_every_format_shows_the_waived_result(tmp_path: Path) -> None:
    path = _write(tmp_path, SHARED + WAIVER)
    out = {name: tmp_path / f"out.{name}" for name in ("sarif", "junit", "github", "markdown")}
    args = [arg for name, p in out.items() for arg in ("--output", f"{name}={p}")]
    result = run_cli("validate", "--today", TODAY, "-v", *args, str(path))
    assert result.code == 0, result
    # text: a `waived` line under -v, and the count in the summary line
    assert "waived [unique]" in result.out
    assert "waived (was fail, shared_client_reference) until 2026-12-31 by dana@acme.example" in (
        result.out
    )
    assert result.out.rstrip().splitlines()[-1].startswith("stcheck validate: ok — ")
    assert "2 waived" in result.out.rstrip().splitlines()[-1]
    quiet = run_cli("validate", "--today", TODAY, str(path))
    assert "[unique]" not in quiet.out and "2 waived" in quiet.out
    # SARIF: native suppressions
    sarif = json.loads(out["sarif"].read_text(encoding="utf-8"))
    suppressed = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "unique"]
    assert len(suppressed) == 2
    for finding in suppressed:
        (suppression,) = finding["suppressions"]
        assert suppression["kind"] == "inSource"
        assert suppression["status"] == "accepted"
        assert suppression["justification"].startswith("Shares north's pair")
        region = suppression["location"]["physicalLocation"]["region"]
        assert region["startLine"] == WAIVER_LINE
    # JUnit: skipped with the reason, not a failure
    root = ET.fromstring(out["junit"].read_text(encoding="utf-8"))
    assert root.get("failures") == "0"
    suite = root.find("testsuite[@name='unique']")
    assert suite is not None and suite.get("failures") == "0"
    messages = [s.get("message") for s in suite.iter("skipped")]
    assert (
        messages
        == [
            "waived: Shares north's pair until its own is issued (OPS-123)"
            " (dana@acme.example, until 2026-12-31)"
        ]
        * 2
    )
    # GitHub: notices, no error annotation
    github = out["github"].read_text(encoding="utf-8")
    assert "::error" not in github
    assert github.count("::notice file=") == 2
    assert "title=stcheck [unique] fail waived" in github
    # Markdown: a waived section and count, and a passing heading
    markdown = out["markdown"].read_text(encoding="utf-8")
    assert markdown.startswith("## ✅ stcheck validate: passed (2 waived)")
    assert "### ☑️ Waived (2)" in markdown
    assert "Findings (" not in markdown


def test_an_expired_waiver_fails_at_its_line_and_stops_applying(tmp_path: Path) -> None:
    path = _write(tmp_path, SHARED + WAIVER.replace("2026-12-31", "2026-12-02"))
    code, document, _ = _validate(path)
    assert code == 1
    (expired,) = _results(document, reason="waiver_expired")
    assert expired["status"] == "fail"
    assert expired["check"] == "waivers"
    assert expired["location"] == {
        "file": str(path),
        "line": WAIVER_LINE + 6,
        "column": 12,
        "pointer": "/waivers/0/until",
    }
    assert "expired on 2026-12-02" in str(expired["message"])
    failing = _results(document, reason="shared_client_reference")
    assert [r.get("waiver") for r in failing] == [None, None]
    # The last day still applies.
    code, _, _ = _validate(path, "--today", "2026-12-02")
    assert code == 0


def test_an_unused_waiver_warns_where_its_check_ran(tmp_path: Path) -> None:
    stale = WAIVER.replace("south-electric", "north-electric") + (
        "  - check: api\n"
        "    tenant: north-electric\n"
        "    because: the probe is flaky\n"
        "    by: dana@acme.example\n"
        "    until: 2026-12-31\n"
    )
    distinct = SHARED.replace(
        "tenant_id: 2345678\n        client_id: env:NE_ID\n        client_secret: env:NE_SECRET",
        "tenant_id: 2345678\n        client_id: env:SE_ID\n        client_secret: env:SE_SECRET",
    )
    code, document, _ = _validate(_write(tmp_path, distinct + stale))
    assert code == 0, document
    (unused,) = _results(document, reason="waiver_unused")
    assert unused["status"] == "warn"
    assert unused["location"]["line"] == distinct.count("\n") + 2  # type: ignore[index]
    # The api waiver says nothing: the api check does not run in validate.
    assert "check 'api'" not in json.dumps(document)
    assert document["summary"]["warn"] == 1  # type: ignore[index]


@pytest.mark.parametrize(
    ("edit", "reason", "line_offset", "words"),
    [
        (("check: unique", "check: uniqe"), "waiver_invalid", 0, "did you mean 'unique'?"),
        (
            ("tenant: south-electric", "tenant: south-electirc"),
            "waiver_invalid",
            1,
            "did you mean 'south-electric'?",
        ),
        (
            ("environment: integration", "environment: staging"),
            "unknown_environment",
            2,
            "must be integration or production",
        ),
        (
            ("environment: integration", "environment: production"),
            "waiver_invalid",
            2,
            "has no production entry",
        ),
        (
            ("reason: shared_client_reference", "reason: shared_client_ref"),
            "waiver_invalid",
            3,
            "did you mean 'shared_client_reference'?",
        ),
        (
            ('because: "Shares north\'s pair until its own is issued (OPS-123)"', "because: '  '"),
            "waiver_invalid",
            4,
            "`because` is blank",
        ),
        (
            ('    because: "Shares north\'s pair until its own is issued (OPS-123)"\n', ""),
            "missing_key",
            -1,
            "missing the required key 'because'",
        ),
        (("by: dana@acme.example", "by: ''"), "invalid_value", 5, "must not be empty"),
        (("until: 2026-12-31", "until: 2026-02-30"), "waiver_invalid", 6, "not a real date"),
        (("until: 2026-12-31", "until: next week"), "invalid_value", 6, "YYYY-MM-DD"),
        (
            ("until: 2026-12-31", "until: 2026-12-31\n    owner: me"),
            "unknown_key",
            7,
            "unknown key 'owner'",
        ),
    ],
)
def test_validate_rejects_a_malformed_waiver_at_its_line(
    tmp_path: Path, edit: tuple[str, str], reason: str, line_offset: int, words: str
) -> None:
    assert edit[0] in WAIVER
    path = _write(tmp_path, SHARED + WAIVER.replace(edit[0], edit[1]))
    code, document, _ = _validate(path)
    assert code == 1
    (problem,) = _results(document, reason=reason)
    assert problem["status"] == "fail"
    assert words in str(problem["message"]), problem
    if line_offset >= 0:
        assert problem["location"]["line"] == WAIVER_LINE + line_offset  # type: ignore[index]
    else:  # a missing key: the waiver's own line
        assert problem["location"]["line"] == WAIVER_LINE  # type: ignore[index]
    assert problem.get("hint")
    # Not applied: the shared pair fails again.
    assert all(r.get("waiver") is None for r in _results(document, check="unique"))


def test_a_waiver_for_more_than_a_year_warns_and_applies(tmp_path: Path) -> None:
    path = _write(tmp_path, SHARED + WAIVER.replace("until: 2026-12-31", "until: 2027-12-05"))
    code, document, _ = _validate(path)
    assert code == 0
    (long,) = _results(document, reason="waiver_too_long")
    assert long["status"] == "warn"
    assert long["location"]["line"] == WAIVER_LINE + 6  # type: ignore[index]
    assert all(r.get("waiver") for r in _results(document, check="unique"))
    code, document, _ = _validate(
        _write(tmp_path, SHARED + WAIVER.replace("until: 2026-12-31", "until: 2027-12-04"))
    )
    assert not _results(document, reason="waiver_too_long")


LEAKED = SHARED.replace(
    "client_secret: env:NE_SECRET\n  - name: south",
    f"client_secret: {CANARY_SECRET}\n  - name: south",
)


def test_a_literal_secret_cannot_be_waived(tmp_path: Path) -> None:
    assert CANARY_SECRET in LEAKED
    waivers = (
        "waivers:\n"
        "  - check: references\n"
        "    because: rotating it next week\n"
        "    by: mallory@evil.example\n"
        "    until: 2026-12-31\n"
        "  - check: schema\n"
        "    because: it is fine\n"
        "    by: mallory@evil.example\n"
        "    until: 2026-12-31\n"
        "  - check: unique\n"
        "    reason: leaked_secret\n"
        "    because: a plugin check might call it that\n"
        "    by: mallory@evil.example\n"
        "    until: 2026-12-31\n"
    )
    path = _write(tmp_path, LEAKED + waivers)
    for fmt in ("json", "text", "sarif", "junit", "github", "markdown"):
        result = run_cli("validate", "--today", TODAY, "--format", fmt, "-v", str(path))
        assert result.code == 1, (fmt, result)
        assert CANARY_SECRET not in result.out + result.err
        assert CANARY_SECRET[4:20] not in result.out + result.err
    _, document, _ = _validate(path)
    leaks = _results(document, reason="leaked_secret")
    assert leaks and all(r["status"] == "fail" and "waiver" not in r for r in leaks)
    refused = _results(document, reason="waiver_not_allowed")
    assert [r["location"]["pointer"] for r in refused] == [  # type: ignore[index]
        "/waivers/0/check",
        "/waivers/1/check",
        "/waivers/2/reason",
    ]


def test_echoed_waiver_text_is_redacted_and_clipped(tmp_path: Path) -> None:
    # A secret pasted into `because` is a leaked_secret (not waivable) and never echoed.
    text = SHARED + WAIVER.replace("(OPS-123)", f"(OPS-123) {CANARY_SECRET}")
    path = _write(tmp_path, text)
    for fmt in ("json", "text", "sarif", "junit", "github", "markdown"):
        result = run_cli("validate", "--today", TODAY, "--format", fmt, "-v", str(path))
        assert result.code == 1
        assert CANARY_SECRET not in result.out + result.err
    long = SHARED + WAIVER.replace("(OPS-123)", "x" * 5_000)
    code, document, _ = _validate(_write(tmp_path, long))
    assert code == 1  # longer than the schema's 1,000 characters
    assert len(json.dumps(document)) < 20_000


def test_waiver_results_alone_are_not_a_verdict(tmp_path: Path) -> None:
    # --select dns offline checks nothing; a waiver's own warn must not make that "ok".
    text = SHARED + WAIVER.replace("until: 2026-12-31", "until: 2028-01-01")
    code, document, _ = _validate(_write(tmp_path, text), "--select", "dns")
    assert code == 1
    assert _results(document, reason="waiver_too_long")
    assert _results(document, reason="nothing_checked")


def test_the_golive_verdict_is_not_waived_directly(tmp_path: Path) -> None:
    text = SHARED + WAIVER.replace("check: unique", "check: golive")
    code, document, _ = _validate(_write(tmp_path, text))
    assert code == 1
    (refused,) = _results(document, reason="waiver_not_allowed")
    assert "waive the result that blocks" in str(refused["message"])


def test_a_waiver_excuses_only_what_it_names(tmp_path: Path) -> None:
    # Another reason word, another tenant: nothing is excused, and each waiver is unused.
    other_reason = WAIVER.replace("reason: shared_client_reference", "reason: duplicate_tenant_id")
    other_tenant = WAIVER.replace("tenant: south-electric", "tenant: north-electric")
    for text in (other_reason, other_tenant):
        code, document, _ = _validate(_write(tmp_path, SHARED + text))
        assert code == 1
        failing = _results(document, reason="shared_client_reference")
        assert len(failing) == 2 and all("waiver" not in r for r in failing)
        assert len(_results(document, reason="waiver_unused")) == 1


INCLUDING_ROOT = """\
version: 1
app:
  name: acme
  app_key: env:ST_APP_KEY
include:
  - tenants/*.stcheck.yaml
"""

TENANT_FILE = """\
- name: {name}
  environments:
    integration:
      tenant_id: {tenant_id}
      client_id: env:NE_ID
      client_secret: env:NE_SECRET
"""


def _fleet(tmp_path: Path, waivers: str) -> Path:
    (tmp_path / ".git").mkdir(parents=True)
    (tmp_path / "tenants").mkdir()
    for name, tenant_id in (("north-electric", 1234567), ("south-electric", 2345678)):
        text = TENANT_FILE.format(name=name, tenant_id=tenant_id)
        (tmp_path / "tenants" / f"{name}.stcheck.yaml").write_text(text, encoding="utf-8")
    return _write(tmp_path, INCLUDING_ROOT + waivers)


def test_a_waiver_in_the_root_applies_to_tenants_of_included_files(tmp_path: Path) -> None:
    code, document, _ = _validate(_fleet(tmp_path, ""))
    assert code == 1  # the two files share one client pair
    shared = _results(document, reason="shared_client_reference", status="fail")
    assert shared and all(r["tenant"] == "south-electric" for r in shared)

    code, document, _ = _validate(_fleet(tmp_path / "waived", WAIVER))
    assert code == 0, document["results"]
    waived = _results(document, reason="shared_client_reference")
    assert waived and all(r["waiver"]["by"] == "dana@acme.example" for r in waived)
    assert str(waived[0]["location"]["file"]).endswith("south-electric.stcheck.yaml")
    assert not _results(document, check="waivers")  # the included tenant is known: no problem


def test_a_root_waiver_for_a_tenant_no_file_has_is_still_refused(tmp_path: Path) -> None:
    code, document, _ = _validate(_fleet(tmp_path, WAIVER.replace("south-electric", "west")))
    assert code == 1
    refused = _results(document, check="waivers", reason="waiver_invalid")
    assert refused and "west" in str(refused[0]["message"])


@pytest.mark.parametrize("reason", ["redirect_blocked", "check_crashed"])
def test_a_redirect_or_a_crash_cannot_be_waived(tmp_path: Path, reason: str) -> None:
    waiver = WAIVER.replace("reason: shared_client_reference", f"reason: {reason}")
    code, document, _ = _validate(_write(tmp_path, SHARED + waiver))
    assert code == 1
    assert _results(document, check="waivers", reason="waiver_not_allowed")


def test_a_week_date_until_is_malformed_and_never_applied(tmp_path: Path) -> None:
    waiver = WAIVER.replace("until: 2026-12-31", 'until: "2026-W53-1"')
    code, document, _ = _validate(_write(tmp_path, SHARED + waiver))
    assert code == 1
    assert document["summary"]["waived"] == 0

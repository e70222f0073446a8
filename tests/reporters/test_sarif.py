"""The SARIF reporter: valid against the official SARIF 2.1.0 schema; rules, levels, locations."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from stcheck.model import Location, Result, RunReport, Status, Waiver
from stcheck.reasons import REASONS, hint_for
from stcheck.reporters import sarif
from stcheck.reporters.json import render as render_json
from tests.reporters.support import make_report

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "data" / "sarif-schema-2.1.0.json"

HOSTILE = "bad <script>alert(1)</script> | ]]> & \x07bell `tick`\nsecond line"

TOKEN_DOC = "Obtain a token for each client pair.\n\nOne request per (environment, client ID)."


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    return jsonschema.Draft4Validator(
        schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER
    )


def _report(*results: Result, **kwargs: object) -> RunReport:
    defaults: dict[str, object] = {
        "manifests": ("deploy/stcheck.yaml",),
        "check_docs": {"token": TOKEN_DOC, "schema": "Validate against the schema."},
    }
    return make_report(*results, **{**defaults, **kwargs})


def _mixed() -> RunReport:
    return _report(
        Result(
            "schema",
            Status.FAIL,
            HOSTILE,
            reason="host_in_manifest",
            location=Location("deploy/stcheck.yaml", 3, 5, "/app/host"),
        ),
        Result(
            "token",
            Status.FAIL,
            "the token endpoint rejected the client pair",
            reason="invalid_client",
            tenant="good-plumbing",
            environment="production",
            location=Location(
                "deploy\\stcheck.yaml", 14, 20, "/tenants/0/environments/production/client_id"
            ),
            duration=0.41,
        ),
        Result(
            "token",
            Status.WARN,
            "expires_in is 3600, not 900",
            reason="unexpected_expiry",
            tenant="fast-hvac",
            environment="integration",
            location=Location("deploy/stcheck.yaml", 22, None, "/tenants/1"),
            hint="Cache tokens for expires_in.",
        ),
        Result(
            "api",
            Status.ERROR,
            "timed out after 10 s",
            reason="timeout",
            tenant="fast-hvac",
            environment="integration",
            location=Location("./deploy/stcheck.yaml", None, None, "/tenants/1"),
        ),
        Result("unique", Status.FAIL, "two tenants share a name", reason="duplicate_tenant"),
        Result("token", Status.PASS, "ok", tenant="good-plumbing", environment="integration"),
        Result(
            "dns",
            Status.SKIP,
            "needs the network",
            reason="offline",
            tenant="fast-hvac",
            environment="production",
        ),
    )


def _run(report: RunReport) -> dict[str, Any]:
    document = json.loads(sarif.render(report))
    assert len(document["runs"]) == 1
    run: dict[str, Any] = document["runs"][0]
    return run


def test_valid_against_official_schema(validator: Any) -> None:
    document = json.loads(sarif.render(_mixed()))
    errors = sorted(validator.iter_errors(document), key=str)
    assert errors == []
    assert document["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert document["version"] == "2.1.0"


def test_waived_results_are_suppressions_valid_against_official_schema(validator: Any) -> None:
    waiver = Waiver(
        "Admin accepts the new scope version on 2026-12-10 (OPS-123)",
        "dana@acme.example",
        "2026-12-31",
        Location("deploy/stcheck.yaml", 40, 5, "/waivers/0"),
    )
    mixed = _mixed()
    flaky = Result(
        "api", Status.WARN, "flaky", reason="timeout", waiver=Waiver("b", "c", "2026-12-31")
    )
    results = (
        *(
            dataclasses.replace(r, waiver=waiver)
            if r.check == "token" and r.status is Status.FAIL
            else r
            for r in mixed.results
        ),
        flaky,
    )
    document = json.loads(sarif.render(dataclasses.replace(mixed, results=results)))
    assert sorted(validator.iter_errors(document), key=str) == []
    findings = document["runs"][0]["results"]
    suppressed = [f for f in findings if "suppressions" in f]
    assert len(suppressed) == 2
    first = suppressed[0]
    assert first["level"] == "error"  # the finding keeps its level; the suppression excuses it
    assert first["suppressions"] == [
        {
            "kind": "inSource",
            "status": "accepted",
            "justification": "Admin accepts the new scope version on 2026-12-10 (OPS-123)",
            "location": {
                "physicalLocation": {
                    "artifactLocation": {"uri": "deploy/stcheck.yaml"},
                    "region": {"startLine": 40, "startColumn": 5},
                }
            },
            "properties": {"by": "dana@acme.example", "until": "2026-12-31"},
        }
    ]
    assert "location" not in suppressed[1]["suppressions"][0]
    assert document["runs"][0]["properties"]["summary"]["waived"] == 2


def test_empty_report_is_valid(validator: Any) -> None:
    document = json.loads(sarif.render(_report(started_at="", check_docs={})))
    validator.validate(document)
    run = document["runs"][0]
    assert run["results"] == []
    assert run["tool"]["driver"]["rules"] == []
    assert "startTimeUtc" not in run["invocations"][0]


def test_driver() -> None:
    run = _run(_mixed())
    driver = run["tool"]["driver"]
    assert driver["name"] == "stcheck"
    assert driver["version"] == "9.8.7"
    assert driver["informationUri"] == sarif.INFORMATION_URI
    assert run["invocations"] == [
        {"executionSuccessful": True, "startTimeUtc": "2026-11-20T09:15:00Z"}
    ]
    assert run["properties"]["summary"] == {
        "pass": 1,
        "warn": 1,
        "fail": 3,
        "error": 1,
        "skip": 1,
        "waived": 0,
    }


def test_one_rule_per_check_with_docs_and_reason_help() -> None:
    rules = _run(_mixed())["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["schema", "token", "api", "unique", "dns"]
    token = rules[1]
    assert token["shortDescription"]["text"] == "Obtain a token for each client pair."
    assert token["fullDescription"]["text"] == TOKEN_DOC
    help_text = token["help"]["text"]
    for reason in ("invalid_client", "unexpected_expiry"):
        assert reason in help_text
        assert REASONS[reason].meaning in help_text
        assert REASONS[reason].hint in help_text
    assert "timeout" not in help_text  # reported by another check
    # A check without documentation still gets non-empty descriptions.
    api = rules[2]
    assert api["shortDescription"]["text"]
    assert REASONS["timeout"].hint in api["help"]["text"]
    # A check without findings says so.
    assert "no findings" in rules[4]["help"]["text"]


def test_unknown_plugin_reason_is_listed() -> None:
    report = _report(Result("vault", Status.FAIL, "denied", reason="vault.permission_denied"))
    rules = _run(report)["tool"]["driver"]["rules"]
    assert "- vault.permission_denied" in rules[0]["help"]["text"]


def test_results_levels_and_rule_links() -> None:
    run = _run(_mixed())
    results = run["results"]
    rules = run["tool"]["driver"]["rules"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("schema", "error"),
        ("token", "error"),
        ("token", "warning"),
        ("api", "error"),
        ("unique", "error"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    statuses = [r["properties"]["status"] for r in results]
    assert "pass" not in statuses
    assert "skip" not in statuses


def test_message_properties() -> None:
    results = _run(_mixed())["results"]
    token = results[1]
    assert token["message"]["text"] == (
        f"the token endpoint rejected the client pair\nHint: {hint_for('invalid_client')}"
    )
    assert token["properties"] == {
        "reason": "invalid_client",
        "tenant": "good-plumbing",
        "environment": "production",
        "status": "fail",
    }
    # An explicit hint wins over the reason's default hint.
    assert results[2]["message"]["text"].endswith("\nHint: Cache tokens for expires_in.")
    # Hostile text survives as data.
    assert results[0]["message"]["text"].startswith(HOSTILE)
    assert results[0]["properties"]["tenant"] is None


def test_locations() -> None:
    results = _run(_mixed())["results"]

    def physical(index: int) -> dict[str, Any]:
        locations = results[index]["locations"]
        assert len(locations) == 1
        location: dict[str, Any] = locations[0]["physicalLocation"]
        return location

    assert physical(0) == {
        "artifactLocation": {"uri": "deploy/stcheck.yaml"},
        "region": {"startLine": 3, "startColumn": 5},
    }
    # Backslashes become forward slashes.
    assert physical(1) == {
        "artifactLocation": {"uri": "deploy/stcheck.yaml"},
        "region": {"startLine": 14, "startColumn": 20},
    }
    # Line without column.
    assert physical(2)["region"] == {"startLine": 22}
    # No line: no region; a leading ./ is dropped.
    assert physical(3) == {"artifactLocation": {"uri": "deploy/stcheck.yaml"}}
    # No location at all: the run's only manifest.
    assert physical(4) == {"artifactLocation": {"uri": "deploy/stcheck.yaml"}}


def test_no_location_with_several_manifests(validator: Any) -> None:
    report = _report(
        Result("references", Status.ERROR, "plugin broke", reason="plugin_error"),
        manifests=("a.yaml", "b.yaml"),
    )
    document = json.loads(sarif.render(report))
    validator.validate(document)
    assert "locations" not in document["runs"][0]["results"][0]


def test_invalid_line_numbers_are_not_emitted(validator: Any) -> None:
    report = _report(Result("schema", Status.FAIL, "x", location=Location("s.yaml", 0, 0)))
    document = json.loads(sarif.render(report))
    validator.validate(document)
    physical = document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert "region" not in physical


def test_uris_are_relative_and_encoded(
    validator: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    inside = tmp_path / "conf" / "my manifest#1.yaml"
    outside = tmp_path.parent / "elsewhere.yaml"
    report = _report(
        Result("schema", Status.FAIL, "a", location=Location(str(inside), 1, 1)),
        Result("schema", Status.FAIL, "b", location=Location(str(outside), 1, 1)),
    )
    document = json.loads(sarif.render(report))
    validator.validate(document)
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in document["runs"][0]["results"]
    ]
    assert uris[0] == "conf/my%20manifest%231.yaml"
    assert uris[1] == outside.as_uri()


def test_partial_fingerprints_are_stable_and_distinct() -> None:
    def result(line: int, tenant: str) -> Result:
        return Result(
            "token",
            Status.FAIL,
            f"rejected at line {line}",
            reason="invalid_client",
            tenant=tenant,
            environment="production",
            location=Location("stcheck.yaml", line, 3, "/tenants/0/environments/production"),
        )

    def fingerprint(report: RunReport) -> str:
        value: str = _run(report)["results"][0]["partialFingerprints"][sarif.FINGERPRINT_KEY]
        return value

    first = fingerprint(_report(result(10, "good-plumbing")))
    assert len(first) == 32
    assert first == fingerprint(_report(result(10, "good-plumbing")))
    # Lines move, message changes: same problem, same fingerprint.
    assert first == fingerprint(_report(result(42, "good-plumbing")))
    assert first != fingerprint(_report(result(10, "fast-hvac")))
    # The same name as the JSON report's fingerprint.
    assert (
        first
        == json.loads(render_json(_report(result(10, "good-plumbing"))))["results"][0][
            "fingerprint"
        ]
    )


def test_output_is_ascii_json() -> None:
    report = _report(Result("schema", Status.FAIL, "ünïcode \ud800 lone"))
    text = sarif.render(report)
    text.encode("ascii")
    assert json.loads(text)["runs"][0]["results"][0]["message"]["text"].startswith("ünïcode")


def test_schema_check_is_not_vacuous(validator: Any) -> None:
    document = json.loads(sarif.render(_mixed()))
    document["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"] = {
        "startLine": 0
    }
    document["runs"][0]["results"][1]["level"] = "fatal"
    assert len(list(validator.iter_errors(document))) == 2

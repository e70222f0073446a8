"""The JUnit XML reporter: structure, counts, names, times, escaping."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from stcheck.model import Location, Result, RunReport, Status
from stcheck.reasons import hint_for
from stcheck.reporters import junit
from tests.reporters.support import make_report

HOSTILE = 'bad <script>alert(1)</script> | ]]> & "q" \x07bell\x00 `tick`\nsecond line'


def _report(*results: Result, **kwargs: object) -> RunReport:
    return make_report(*results, **kwargs)


def _mixed() -> RunReport:
    return _report(
        Result(
            "schema",
            Status.FAIL,
            HOSTILE,
            reason="schema",
            location=Location("stcheck.yaml", 3, 5, "/app/name"),
        ),
        Result(
            "token",
            Status.FAIL,
            "the token endpoint rejected the client pair",
            reason="invalid_client",
            tenant="good-plumbing",
            environment="production",
            location=Location(
                "stcheck.yaml", 14, 20, "/tenants/0/environments/production/client_id"
            ),
            hint=hint_for("invalid_client"),
            duration=0.4123,
        ),
        Result(
            "token",
            Status.PASS,
            "token obtained",
            tenant="good-plumbing",
            environment="integration",
            location=Location("stcheck.yaml", 9, 7),
            duration=0.25,
        ),
        Result(
            "token",
            Status.WARN,
            "expires_in is 3600, not 900",
            reason="unexpected_expiry",
            tenant="fast-hvac",
            environment="integration",
            location=Location("stcheck.yaml"),
            duration=0.1,
        ),
        Result(
            "api",
            Status.ERROR,
            "timed out after 10 s",
            reason="timeout",
            tenant="fast-hvac",
            environment="integration",
            duration=10.0,
        ),
        Result(
            "dns",
            Status.SKIP,
            "needs the network",
            reason="offline",
            tenant="fast-hvac",
            environment="production",
        ),
        Result("golive", Status.PASS, "ready", tenant="good-plumbing"),
    )


def _parse(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def _case(root: ET.Element, check: str, name: str) -> ET.Element:
    suite = root.find(f"testsuite[@name='{check}']")
    assert suite is not None
    for case in suite.iter("testcase"):
        if case.get("name") == name:
            return case
    raise AssertionError(f"no test case {name!r} in suite {check!r}")


def test_document_is_wellformed_with_declaration() -> None:
    text = junit.render(_mixed())
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    assert _parse(text).tag == "testsuites"


def test_totals_on_testsuites() -> None:
    root = _parse(junit.render(_mixed()))
    assert root.get("name") == "stcheck"
    assert root.get("tests") == "7"
    assert root.get("failures") == "2"
    assert root.get("errors") == "1"
    assert root.get("skipped") is None  # not in junit-10.xsd; counted per suite
    assert root.get("time") == "2.500"


def test_one_suite_per_check_in_order_of_appearance() -> None:
    root = _parse(junit.render(_mixed()))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["schema", "token", "api", "dns", "golive"]
    token = suites[1]
    assert token.get("tests") == "3"
    assert token.get("failures") == "1"
    assert token.get("errors") == "0"
    assert token.get("skipped") == "0"
    assert token.get("time") == "0.762"  # 0.4123 + 0.25 + 0.1
    assert token.get("timestamp") == "2026-11-20T09:15:00"
    assert len(token.findall("testcase")) == 3


def test_suite_properties_carry_provenance() -> None:
    root = _parse(junit.render(_mixed()))
    props = {
        (p.get("name"), p.get("value")) for p in root.findall("testsuite[1]/properties/property")
    }
    assert ("stcheck.version", "9.8.7") in props
    assert ("stcheck.command", "check") in props
    assert ("stcheck.manifest", "stcheck.yaml") in props


def test_case_names_classnames_and_times() -> None:
    root = _parse(junit.render(_mixed()))
    failed = _case(root, "token", "good-plumbing/production")
    assert failed.get("classname") == "stcheck.token"
    assert failed.get("time") == "0.412"
    manifest_level = _case(root, "schema", "stcheck.yaml")
    assert manifest_level.get("classname") == "stcheck.schema"
    assert manifest_level.get("time") == "0.000"  # duration None
    tenant_level = _case(root, "golive", "good-plumbing")
    assert tenant_level.get("time") == "0.000"
    assert list(tenant_level) == []  # a pass has no child element


def test_failure_element() -> None:
    root = _parse(junit.render(_mixed()))
    failure = _case(root, "token", "good-plumbing/production").find("failure")
    assert failure is not None
    assert failure.get("type") == "invalid_client"
    assert failure.get("message") == "the token endpoint rejected the client pair"
    body = failure.text or ""
    assert "reason: invalid_client" in body
    assert "location: stcheck.yaml:14:20 (/tenants/0/environments/production/client_id)" in body
    assert f"hint: {hint_for('invalid_client')}" in body


def test_error_element_uses_reason_hint_when_result_has_none() -> None:
    root = _parse(junit.render(_mixed()))
    case = _case(root, "api", "fast-hvac/integration")
    error = case.find("error")
    assert error is not None
    assert error.get("type") == "timeout"
    assert error.get("message") == "timed out after 10 s"
    assert f"hint: {hint_for('timeout')}" in (error.text or "")
    assert "location" not in (error.text or "")  # no location given
    assert case.get("time") == "10.000"


def test_skip_and_warn() -> None:
    root = _parse(junit.render(_mixed()))
    skipped = _case(root, "dns", "fast-hvac/production").find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "offline: needs the network"

    warn = _case(root, "token", "fast-hvac/integration")
    assert warn.find("failure") is None
    assert warn.find("error") is None
    out = warn.find("system-out")
    assert out is not None
    assert (out.text or "").startswith("WARNING: expires_in is 3600, not 900")
    assert "location: stcheck.yaml\n" in (out.text or "")


def test_hostile_text_is_escaped_and_illegal_characters_removed() -> None:
    text = junit.render(_mixed())
    assert "<script>" not in text
    assert "]]>" not in text
    assert "\x07" not in text
    assert "\x00" not in text
    failure = _case(_parse(text), "schema", "stcheck.yaml").find("failure")
    assert failure is not None
    expected = 'bad <script>alert(1)</script> | ]]> & "q" bell `tick`\nsecond line'
    assert failure.get("message") == expected
    assert (failure.text or "").startswith(expected)


def test_hostile_names_and_surrogates() -> None:
    report = _report(
        Result(
            "plugin\x1bcheck",
            Status.FAIL,
            "lone \ud800 surrogate",
            tenant="ten<ant>",
            environment="prod\x0b",
        ),
    )
    text = junit.render(report)
    text.encode("utf-8")  # no lone surrogate survives
    case = _parse(text).find("testsuite/testcase")
    assert case is not None
    assert case.get("classname") == "stcheck.plugincheck"
    assert case.get("name") == "ten<ant>/prod"


def test_duplicate_names_are_made_unique_and_stable() -> None:
    report = _report(
        Result("schema", Status.FAIL, "a", location=Location("stcheck.yaml", 3, 1, "/app")),
        Result("schema", Status.FAIL, "b", location=Location("stcheck.yaml", 7, 1, "/tenants")),
        Result("schema", Status.FAIL, "c", location=Location("stcheck.yaml", 9, 1)),
        Result("schema", Status.FAIL, "d", location=Location("stcheck.yaml", 9, 4)),
        Result("unique", Status.PASS, "ok"),
    )
    root = _parse(junit.render(report))
    names = [c.get("name") for c in root.findall("testsuite[@name='schema']/testcase")]
    assert names == [
        "stcheck.yaml /app",
        "stcheck.yaml /tenants",
        "stcheck.yaml:9",
        "stcheck.yaml:9 #2",
    ]
    # A run-level result without location in a one-manifest run is named after the manifest.
    assert _case(root, "unique", "stcheck.yaml") is not None


def test_run_level_result_with_several_manifests() -> None:
    report = _report(
        Result("references", Status.ERROR, "plugin broke", reason="plugin_error"),
        manifests=("a.yaml", "b.yaml"),
    )
    root = _parse(junit.render(report))
    assert _case(root, "references", "(run)").find("error") is not None


def test_empty_report() -> None:
    root = _parse(junit.render(_report(duration=0.0, started_at="")))
    assert root.get("tests") == "0"
    assert root.get("time") == "0.000"
    assert root.findall("testsuite") == []


def test_time_falls_back_to_sum_and_ignores_bad_durations() -> None:
    report = _report(
        Result("token", Status.PASS, "ok", tenant="a", environment="production", duration=0.5),
        Result("token", Status.PASS, "ok", tenant="b", environment="production", duration=-1.0),
        Result(
            "token", Status.PASS, "ok", tenant="c", environment="production", duration=float("nan")
        ),
        duration=0.0,
        started_at="not a date",
    )
    root = _parse(junit.render(report))
    assert root.get("time") == "0.500"
    suite = root.find("testsuite")
    assert suite is not None
    assert suite.get("time") == "0.500"
    assert suite.get("timestamp") is None
    assert [c.get("time") for c in suite.findall("testcase")] == ["0.500", "0.000", "0.000"]

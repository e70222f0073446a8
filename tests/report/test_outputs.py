"""The readiness report's outputs: Markdown, HTML and JSON from real runs, escaping, size."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from stcheck import __version__
from stcheck.model import RunReport, Status
from stcheck.readiness import ReadinessItem, TenantReadiness
from stcheck.reporters import html, readiness_markdown
from stcheck.schema import REPORT_SCHEMA, load_schema

from .conftest import Answer, RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]

GITHUB_SUMMARY_LIMIT = 1_048_576
HOSTILE = (
    "<script>alert(1)</script> | `x` [a](javascript:alert(1)) ![i](https://evil.example/i.png)"
)


def hostile_tenant() -> dict[str, object]:
    data = tenant("evil|<b>tenant</b>", owner=HOSTILE, number=7)
    data["go_live"]["attestations"]["app_approved"] = {  # type: ignore[index]
        "by": "<img src=x onerror=alert(1)>|mallory",
        "on": "2026-11-20",
        "note": "line one\n| --- |\n<script>alert(2)</script>",
    }
    data["go_live"]["attestations"]["x_custom"] = {  # type: ignore[index]
        "by": HOSTILE,
        "on": "2026-11-21",
    }
    return data


# --- Markdown -------------------------------------------------------------------------------


def _tables(markdown: str) -> list[list[str]]:
    tables: list[list[str]] = []
    current: list[str] = []
    for line in markdown.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def test_markdown_structure(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, number=2))
    run = run_report("--offline", str(path))  # markdown is the default format of `report`
    assert run.code == 0, run.err
    md = run.out
    assert md.startswith("## 🚦 Go-live readiness — acme-dispatch-sync: 0 of 2 tenants ready")
    assert "❌ not ready: 1 · ❔ unknown: 1 · ✅ ready: 0" in md
    assert "Offline run" in md
    summary = _tables(md)[0]
    assert summary[0].startswith("| Tenant | Verdict | Blockers | Not checked | Target date |")
    # Worst first: the not-ready tenant leads.
    assert summary[2].startswith("| rapid-hvac | ❌ not ready | 1 |")
    assert summary[3].startswith("| good-plumbing | ❔ unknown | 0 | 5 | 2026-12-15 (16 days left)")
    assert md.count("<details><summary>") == 2
    summary_line = "<summary>❌ <b>rapid-hvac</b>: not ready — 1 blocking item fails</summary>"
    assert f"<details>{summary_line}" in md
    assert "| ❌ fail | A production entry exists |" in md
    assert "| ✅ pass | ServiceTitan approved the app | by dana@acme.example on 2026-11-20 |" in md
    assert "| ❔ not checked | The API probe passes in production |" in md
    assert md.count("</details>") == 2
    assert f"stcheck {__version__}" in md and "as of 2026-11-29" in md


def test_markdown_escapes_hostile_text(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(hostile_tenant())
    md = run_report("--offline", str(path)).out
    assert "evil" in md and "mallory" in md
    for raw in ("<script", "<img", "<b>tenant", "](javascript:", "![i]", "`x`"):
        assert raw not in md
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    # No cell was split or table closed by the untrusted text.
    for table in _tables(md):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table


def test_markdown_online_ready(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(tenant())
    md = run_report(str(path), network=ScriptedNetwork()).out
    assert "1 of 1 tenant ready" in md
    assert "Offline run" not in md
    assert "✅ <b>good-plumbing</b>: ready — all 12 blocking items pass" in md


def test_markdown_1000_tenants_fits_a_job_summary(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    tenants = [
        tenant(
            f"tenant-{n:04d}",
            number=n,
            owner=f"owner-{n}@example.com",
            attestations={} if n % 3 == 0 else None,
        )
        for n in range(1000)
    ]
    path = write_manifest(*tenants)
    out = tmp_path / "summary.md"
    run = run_report("--offline", "--quiet", "--output", f"markdown={out}", str(path))
    assert run.code == 0, run.err
    size = out.stat().st_size
    assert size < GITHUB_SUMMARY_LIMIT
    md = out.read_text(encoding="utf-8")
    summary = _tables(md)[0]
    assert len(summary) == 2 + 1000  # every tenant is in the summary table
    assert "more tenants are left out to stay under GitHub's 1 MiB summary limit" in md
    # Not-ready tenants get their details first.
    first_details = md.index("<details>")
    assert "tenant-0000" in md[first_details : first_details + 200]


def test_markdown_10000_tenants_caps_the_table_too() -> None:
    item = ReadinessItem(
        "production_entry",
        "A production entry exists",
        True,
        "fail",
        "no environments.production entry",
        "Add it.",
    )
    tenants = tuple(
        TenantReadiness(
            f"tenant-{n:05d}",
            f"owner-{n}@example.com",
            "not_ready",
            (item,),
            target_date="2026-12-15",
            days_left=16,
            today="2026-11-29",
        )
        for n in range(10_000)
    )
    report = RunReport("0.1.0", "report", ("stcheck.yaml",), (), readiness=tenants)
    md = readiness_markdown.render(report)
    assert len(md.encode()) <= readiness_markdown.MAX_BYTES
    assert "more tenants — see the HTML or JSON report" in md


def test_markdown_without_readiness_falls_back_to_the_check_summary(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    md = run_report("--offline", "--skip", "golive", str(path)).out
    assert "Go-live readiness" not in md
    assert "stcheck report" in md


# --- HTML ------------------------------------------------------------------------------------


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _parse(page: str) -> _Elements:
    parser = _Elements()
    parser.feed(page)
    parser.close()
    return parser


def test_html_and_markdown_files_in_one_run(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, number=2))
    page, md = tmp_path / "out" / "readiness.html", tmp_path / "out" / "summary.md"
    run = run_report(
        "--offline",
        "--format",
        "json",
        "--output",
        f"html={page}",
        "--output",
        f"markdown={md}",
        str(path),
    )
    assert run.code == 0, run.err
    # JSON keeps the manifest's order; the Markdown and HTML put the worst first.
    assert [t["tenant"] for t in json.loads(run.out)["readiness"]] == [
        "good-plumbing",
        "rapid-hvac",
    ]
    assert md.read_text(encoding="utf-8").startswith("## 🚦 Go-live readiness")
    text = page.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "good-plumbing" in text and "rapid-hvac" in text


def test_html_is_self_contained_and_accessible(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, number=2))
    page = tmp_path / "r.html"
    run_report("--offline", "--output", f"html={page}", str(path))
    text = page.read_text(encoding="utf-8")
    parsed = _parse(text)
    tags = [tag for tag, _ in parsed.tags]
    assert ("html", {"lang": "en"}) in parsed.tags
    assert any(tag == "meta" and attrs.get("name") == "viewport" for tag, attrs in parsed.tags)
    csp = [
        attrs
        for tag, attrs in parsed.tags
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
    ]
    assert csp and "default-src 'none'" in (csp[0]["content"] or "")
    # No script, no external resource of any kind.
    assert "script" not in tags and "link" not in tags and "img" not in tags
    assert "iframe" not in tags and "object" not in tags
    for _, attrs in parsed.tags:
        for name in ("src", "href", "action", "srcset"):
            value = attrs.get(name)
            assert value is None or value.startswith("#"), (name, value)
    assert not re.search(r"url\(|@import|https?://", text)
    # Real tables with captions and header scopes.
    assert tags.count("table") == tags.count("caption") >= 5
    scopes = {attrs.get("scope") for tag, attrs in parsed.tags if tag == "th"}
    assert scopes == {"col", "row"}
    assert "@media print" in text and "@media (max-width" in text
    # Status as words, not only colour.
    words = " ".join(parsed.text)
    for word in ("not ready", "unknown", "pass", "fail", "not checked"):
        assert word in words


def test_html_states_what_produced_it(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(tenant())
    page = tmp_path / "r.html"
    run = run_report("--offline", "--skip", "unique", "--output", f"html={page}", str(path))
    assert run.report is not None
    words = " ".join(" ".join(_parse(page.read_text(encoding="utf-8")).text).split())
    assert f"stcheck {__version__}" in words
    assert str(path) in words
    assert run.report.started_at and run.report.started_at in words
    assert "stcheck.checks.golive" in words and "built-in" in words
    assert "golive — Go-live readiness" in words
    assert "unique : deselected" in words  # "<code>unique</code>: deselected" as text
    assert "Dates as of 2026-11-29" in words


def test_html_escapes_hostile_text(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(hostile_tenant())
    page = tmp_path / "r.html"
    run_report("--offline", "--output", f"html={page}", str(path))
    text = page.read_text(encoding="utf-8")
    parsed = _parse(text)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "b" not in tags
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert not any("onerror" in attrs for _, attrs in parsed.tags)
    words = "".join(parsed.text)
    assert "evil|<b>tenant</b>" in words  # shown as text, exactly as written
    assert "<img src=x onerror=alert(1)>|mallory" in words


def test_html_lists_findings_of_other_checks(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    data = tenant()
    data["environments"]["production"]["client_id"] = "plain-text-not-a-reference"
    path = write_manifest(data)
    page = tmp_path / "r.html"
    run_report("--offline", "--output", f"html={page}", str(path))
    words = " ".join(_parse(page.read_text(encoding="utf-8")).text)
    assert "Findings of the other checks" in words
    assert "references" in words or "schema" in words


def test_html_without_readiness(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(text="version: 1\napp: [unclosed\n")
    page = tmp_path / "r.html"
    run_report("--offline", "--output", f"html={page}", str(path))
    words = " ".join(_parse(page.read_text(encoding="utf-8")).text)
    assert "No tenant was assessed" in words


def test_html_format_is_only_for_report(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    run = run_report("--format", "html", str(path), command="validate", today=None)
    assert run.code == 2


def test_html_render_direct() -> None:
    report = RunReport("0.1.0", "report", (), (), readiness=())
    assert "<caption>" not in html.render(report)


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("online", [False, True])
def test_json_readiness_matches_the_schema(
    write_manifest: WriteManifest, run_report: RunReportFn, online: bool
) -> None:
    path = write_manifest(
        tenant(),
        tenant("rapid-hvac", production=False, number=2, target_date=None),
        hostile_tenant(),
    )
    forbidden = Answer(Status.FAIL, "the probe answered 403", "forbidden")
    network = (
        ScriptedNetwork().script("api", "good-plumbing", "production", forbidden)
        if online
        else None
    )
    args = ["--format", "json", str(path)] + ([] if online else ["--offline"])
    run = run_report(*args, network=network)
    document = json.loads(run.out)
    schema = load_schema(REPORT_SCHEMA)
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    readiness = document["readiness"]
    assert {entry["tenant"] for entry in readiness} == {
        "good-plumbing",
        "rapid-hvac",
        "evil|<b>tenant</b>",
    }
    good = next(entry for entry in readiness if entry["tenant"] == "good-plumbing")
    assert good["verdict"] == ("not_ready" if online else "unknown")
    assert good["offline"] is (not online)
    assert good["days_left"] == 16 and good["today"] == "2026-11-29"


def test_json_with_invalid_attestation_keys_matches_the_schema(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    data = tenant()
    bad_keys: list[object] = ["<img src=x onerror=alert(1)>", "Bad-Key", "x" * 64, "9lives", 1]
    for key in bad_keys:
        data["go_live"]["attestations"][key] = {"by": "mallory", "on": "2026-11-20"}
    data["go_live"]["attestations"]["x_custom"] = {"by": "dana", "on": "2026-11-21"}
    path = write_manifest(data)
    run = run_report("--offline", "--format", "json", str(path))
    document = json.loads(run.out)
    validator = jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA))
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]
    (good,) = document["readiness"]
    ids = [entry["id"] for entry in good["items"]]
    # Invalid keys get no item (nor attestation); a valid custom one still does.
    assert [i for i in ids if i.startswith("attestation.")] == [
        "attestation.app_approved",
        "attestation.tenant_admin_connected",
        "attestation.api_terms_accepted",
        "attestation.x_custom",
    ]
    assert "mallory" not in {entry["by"] for entry in good["attestations"]}
    # They are schema errors, so the manifest item fails.
    valid = next(entry for entry in good["items"] if entry["id"] == "manifest_valid")
    assert valid["state"] == "fail"
    assert good["verdict"] == "not_ready"
    # The other outputs render without them too.
    html_out = run_report("--offline", "--format", "html", str(path)).out
    assert "<img src=x" not in html_out


def test_schema_rejects_a_malformed_readiness_entry() -> None:
    schema = load_schema(REPORT_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    base = {
        "schema_version": 1,
        "tool": {"name": "stcheck", "version": "0"},
        "summary": {"pass": 0, "warn": 0, "fail": 0, "error": 0, "skip": 0},
        "results": [],
    }
    good = TenantReadiness("t", None, "ready", (), today="2026-11-29").as_dict()
    assert validator.is_valid({**base, "readiness": [good]})
    assert not validator.is_valid({**base, "readiness": [{**good, "verdict": "maybe"}]})
    assert not validator.is_valid({**base, "readiness": [{**good, "extra": 1}]})

"""The readiness report's outputs: Markdown, HTML and JSON from real runs, escaping, size."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import jsonschema
import pytest

from stcheck import __version__
from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from stcheck.model import RunReport, Status
from stcheck.readiness import ReadinessItem, TenantReadiness
from stcheck.reporters import html, readiness_markdown

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
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    run = run_report("--offline", str(path))  # markdown is the default format of `report`
    assert run.code == 0, run.err
    md = run.out
    assert md.startswith("## 🚦 Go-live readiness — acme-dispatch-sync: 0 of 2 tenants ready")
    assert "❌ not ready: 1 · ❔ unknown: 1 · ✅ ready: 0" in md
    assert "Offline run" in md
    summary = _tables(md)[0]
    assert summary[0].startswith(
        "| Tenant | Verdict | Blockers | Not checked | Next action | Target date |"
    )
    # Worst first: the not-ready tenant leads.
    assert summary[2].startswith(
        "| rapid-hvac | ❌ not ready | 1 | 6 | Add <code>environments.production</code> with"
    )
    assert summary[3].startswith(
        "| good-plumbing | ❔ unknown | 0 | 5 | Run <code>stcheck report</code> where the"
        " secrets are available (this run is offline). | 2026-12-15 (16 days left)"
    )
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


def _real_pair(
    write_manifest: WriteManifest, run_report: RunReportFn, *args: str
) -> tuple[RunReport, TenantReadiness, TenantReadiness]:
    """A real offline run's report, its unknown tenant and its not-ready one (to copy from)."""
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    base = run_report("--offline", *args, str(path)).report
    assert base is not None
    good, bad = sorted(base.readiness, key=lambda t: t.verdict != "unknown")  # type: ignore[attr-defined]
    assert (good.verdict, bad.verdict) == ("unknown", "not_ready")
    return base, good, bad


def _fleet(
    base: RunReport, size: int, pick: Callable[[int], TenantReadiness], **overrides: object
) -> RunReport:
    """``base`` with ``size`` tenants named tenant-NNNNN, each a copy of ``pick(n)``."""
    tenants = tuple(
        dataclasses.replace(pick(n), tenant=f"tenant-{n:05d}", **overrides)  # type: ignore[arg-type]
        for n in range(size)
    )
    return dataclasses.replace(base, readiness=tenants)


def test_markdown_1000_tenants_fits_a_pr_comment(
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
    md = out.read_text(encoding="utf-8")
    assert len(md.encode()) <= readiness_markdown.MAX_BYTES
    assert len(md) < readiness_markdown.GITHUB_COMMENT_LIMIT
    assert "0 of 1,000 tenants ready" in md
    # A big fleet lists the 334 not-ready tenants (as many as fit), never an unknown one.
    rows = _tables(md)[0][2:]
    assert 80 < len(rows) < 334
    assert all("❌ not ready" in row for row in rows)
    assert rows[0].startswith("| tenant-0000 |") and rows[1].startswith("| tenant-0003 |")
    assert f"…and {334 - len(rows)} more tenants — see the HTML or JSON report" in md
    assert "_666 more tenants are not listed (❔ unknown: 666): no blocking item" in md
    assert "tenant-0001 " not in md and "tenant-0001|" not in md
    # Details follow, worst first, until the budget is spent; a line says how many are left out.
    first_details = md.index("<details>")
    assert "tenant-0000" in md[first_details : first_details + 200]
    assert "more tenants are left out to stay under GitHub's comment size limit" in md


def test_markdown_10000_tenants_offline_lists_the_not_ready_ones(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """10,000 tenants, 3 not ready: those in full, one line for the rest, under the limit."""
    base, good, bad = _real_pair(write_manifest, run_report)
    tenants = tuple(
        dataclasses.replace(
            bad if n in (17, 5000, 9999) else good,
            tenant=f"tenant-{n:05d}",
            owner="<img src=x onerror=alert(1)>|mallory" if n == 5000 else good.owner,
        )
        for n in range(10_000)
    )
    md = readiness_markdown.render(dataclasses.replace(base, readiness=tenants))
    assert len(md.encode()) <= readiness_markdown.MAX_BYTES
    assert "0 of 10,000 tenants ready" in md and "❔ unknown: 9,997" in md
    rows = _tables(md)[0][2:]
    assert [row.split(" | ")[0] for row in rows] == [
        "| tenant-00017",
        "| tenant-05000",
        "| tenant-09999",
    ]
    assert md.count("<details><summary>❌") == 3 and md.count("<details>") == 3
    assert "_9,997 more tenants are not listed (❔ unknown: 9,997)" in md
    assert "tenant-00018" not in md
    assert "<img" not in md and "mallory" in md
    for table in _tables(md):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in table}
        assert len(widths) == 1, table


def test_markdown_big_online_fleet_lists_unknown_tenants_too() -> None:
    """Online, ``unknown`` fails ``--strict``: such tenants are listed; ready ones are counted."""
    item = ReadinessItem(
        "production_token",
        "The production token endpoint issues a token",
        True,
        "not_checked",
        "could not tell: timeout",
        "Run again.",
    )
    passing = dataclasses.replace(item, state="pass", detail="token issued", remediation=None)
    tenants = tuple(
        TenantReadiness(
            f"tenant-{n:04d}",
            None,
            "unknown" if n % 100 == 0 else "ready",
            (item if n % 100 == 0 else passing,),
            today="2026-11-29",
        )
        for n in range(1000)
    )
    report = RunReport("0.1.0", "report", ("stcheck.yaml",), (), readiness=tenants)
    md = readiness_markdown.render(report)
    assert len(md.encode()) <= readiness_markdown.MAX_BYTES
    rows = _tables(md)[0][2:]
    assert len(rows) == 10 and all("❔ unknown" in row for row in rows)
    assert "_990 more tenants are ✅ ready and not listed." in md
    assert md.count("<details>") == 10
    assert "Offline run" not in md


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
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
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
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
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


HTML_BUDGET = 5_000_000
"""The issue's size budget for a 10,000-tenant page."""


def _sections(page: str) -> list[str]:
    return re.findall(
        r'<section class="tenant" id="tenant-\d+"[^>]*>\n<h2[^>]*>([^<]*) <span', page
    )


def _collapsed(page: str) -> list[tuple[str, str]]:
    """(details start tag, summary text) of each collapsed group."""
    return [
        (tag, " ".join(re.sub(r"<[^>]+>", " ", summary).split()))
        for tag, summary in re.findall(
            r'(<details class="others"[^>]*>)\n<summary>(.*?)</summary>', page
        )
    ]


def test_html_10000_tenants_offline_shows_the_not_ready_in_full(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    base, good, bad = _real_pair(write_manifest, run_report)
    hostile = {17: "<script>alert(1)</script>", 5000: "evil|<b>tenant</b>"}
    report = _fleet(base, 10_000, lambda n: bad if n in (17, 5000, 9999) else good)
    report = dataclasses.replace(
        report,
        readiness=tuple(
            dataclasses.replace(
                t,
                tenant=hostile.get(n, t.tenant),
                owner="<img src=x onerror=alert(1)>" if n == 42 else t.owner,
            )
            for n, t in enumerate(report.readiness)  # type: ignore[arg-type]
        ),
    )
    page = html.render(report)
    assert len(page.encode()) <= HTML_BUDGET
    # The three not-ready tenants have their sections, worst first; nobody else has one.
    assert _sections(page) == [
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "evil|&lt;b&gt;tenant&lt;/b&gt;",
        "tenant-09999",
    ]
    assert "the 3 that need attention (not ready) are shown in full" in page
    # Everyone else is one row in a collapsed group.
    assert _collapsed(page) == [('<details class="others">', "? unknown 9,997 tenants")]
    assert page.count('<tr><th scope="row">tenant-') == 9_997
    assert '<tr><th scope="row">tenant-00018</th><td>0</td><td>5</td>' in page
    assert "tenant-00017" not in page
    # Still escaped, self-contained, and every table has its caption.
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "script" not in tags and "img" not in tags and "b" not in tags
    assert not any("onerror" in attrs for _, attrs in parsed.tags)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert tags.count("table") == tags.count("caption")
    assert tags.count("details") == 1 and tags.count("summary") == 1


def test_html_big_fleet_caps_the_full_sections(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    base, _good, bad = _real_pair(write_manifest, run_report)
    page = html.render(_fleet(base, 10_000, lambda n: bad))
    assert len(page.encode()) <= HTML_BUDGET
    assert len(_sections(page)) == html.MAX_SECTIONS
    assert _sections(page)[-1] == f"tenant-{html.MAX_SECTIONS - 1:05d}"
    assert "200 of the 10,000 that need attention (not ready) are shown in full" in page
    # The not-ready tenants beyond the cap need attention: their group is open.
    assert _collapsed(page) == [('<details class="others" open>', "✗ not ready 9,800 tenants")]


def test_html_big_online_fleet_shows_unknown_in_full_and_collapses_ready() -> None:
    item = ReadinessItem(
        "production_token",
        "The production token endpoint issues a token",
        True,
        "not_checked",
        "could not tell: timeout",
        "Run again.",
    )
    passing = dataclasses.replace(item, state="pass", detail="token issued", remediation=None)
    tenants = tuple(
        TenantReadiness(
            f"tenant-{n:04d}",
            None,
            "unknown" if n % 100 == 0 else "ready",
            (item if n % 100 == 0 else passing,),
        )
        for n in range(1000)
    )
    page = html.render(RunReport("0.1.0", "report", ("stcheck.yaml",), (), readiness=tenants))
    assert _sections(page) == [f"tenant-{n:04d}" for n in range(0, 1000, 100)]
    assert "(not ready or unknown)" in page
    assert _collapsed(page) == [('<details class="others">', "✓ ready 990 tenants")]


@pytest.mark.parametrize(("size", "sections"), [(html.MAX_SECTIONS, 200), (201, 0)])
def test_html_every_tenant_in_full_up_to_the_big_fleet_size(
    write_manifest: WriteManifest, run_report: RunReportFn, size: int, sections: int
) -> None:
    base, good, _bad = _real_pair(write_manifest, run_report)
    page = html.render(_fleet(base, size, lambda n: good))
    assert len(_sections(page)) == sections
    assert len(_collapsed(page)) == (0 if sections else 1)
    assert ("none of them needs attention" in page) is (not sections)


# --- JSON ------------------------------------------------------------------------------------


@pytest.mark.parametrize("online", [False, True])
def test_json_readiness_matches_the_schema(
    write_manifest: WriteManifest, run_report: RunReportFn, online: bool
) -> None:
    path = write_manifest(
        tenant(),
        tenant("rapid-hvac", production=False, planned=True, number=2, target_date=None),
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


def test_json_readiness_decodes_to_the_document_when_tenants_share_items(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """The reporter encodes each shared item and attestation once and splices the text: what
    it writes must still decode to every tenant's items and attestations, in order."""
    path = write_manifest(
        tenant(),
        tenant("rapid-hvac", number=2),  # the same attestations as good-plumbing: shared
        hostile_tenant(),
        tenant("no-prod", production=False, number=3),
        tenant("later", planned=False, because='next "year" \\ maybe', number=4),
    )
    run = run_report("--offline", "--format", "json", str(path))
    assert run.report is not None
    from stcheck.model import Waiver
    from stcheck.readiness import Attestation, with_waivers
    from stcheck.reporters.json import as_document
    from stcheck.reporters.json import render as render_json

    first = run.report.readiness[0]
    waived = tuple(
        dataclasses.replace(item, state="fail", waiver=Waiver("known", "dana", "2026-12-31"))
        if item.id == "production_token"
        else item
        for item in first.items
    )
    odd = dataclasses.replace(
        first,
        tenant="Zoë \u2028 \x07",
        attestations=(*first.attestations, Attestation("x_other", None, None, "a\nb")),
    )
    report = dataclasses.replace(
        run.report, readiness=(*run.report.readiness, with_waivers(first, waived), odd)
    )
    shared = {id(item) for item in report.readiness[0].items} & {
        id(item) for item in report.readiness[1].items
    }
    assert len(shared) >= 8  # the case the encoding is for
    assert json.loads(render_json(report)) == json.loads(json.dumps(as_document(report)))
    readiness = json.loads(render_json(report))["readiness"]
    assert [t["tenant"] for t in readiness][-2:] == ["good-plumbing", "Zoë \u2028 \x07"]
    assert readiness[-2]["items"][[i.id for i in first.items].index("production_token")][
        "waiver"
    ] == {"because": "known", "by": "dana", "until": "2026-12-31"}


def test_json_is_one_line_per_result_and_per_tenant(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """The C encoder's layout: the document is the contract, and each element stays greppable."""
    path = write_manifest(
        tenant(owner="Zoë <ops@acme.example>"),
        tenant("rapid-hvac", production=False, planned=True, number=2),
    )
    run = run_report("--offline", "--format", "json", str(path))
    assert run.report is not None
    document = json.loads(run.out)
    from stcheck.reporters.json import as_document

    assert document == json.loads(json.dumps(as_document(run.report)))
    lines = run.out.splitlines()
    assert lines[0] == "{" and lines[-1] == "}" and run.out.endswith("}\n")
    elements = [json.loads(line.strip().rstrip(",")) for line in lines if line.startswith("    ")]
    assert elements == document["plugins"] + document["results"] + document["readiness"]
    assert '  "schema_version": 1,' in lines
    assert '"owner": "Zoë <ops@acme.example>"' in run.out  # as written, not \u-escaped

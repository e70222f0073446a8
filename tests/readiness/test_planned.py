"""Readiness that counts what is planned: ``not_planned``, the next action, grouping, filtering.

Every test runs the real ``stcheck report`` (the network checks scripted where
a run is online) and reads what a user reads: the exit status, the Markdown,
the HTML and the JSON document.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema

from stcheck.manifest.schema import REPORT_SCHEMA, load_schema
from stcheck.readiness import NEXT_ACTION_CHARS, one_line

from .conftest import RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]


def _document(run_out: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(run_out)
    errors = list(jsonschema.Draft202012Validator(load_schema(REPORT_SCHEMA)).iter_errors(document))
    assert errors == [], [e.message for e in errors]
    return document


def _by_tenant(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["tenant"]: entry for entry in document["readiness"]}


def _golive(document: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [r for r in document["results"] if r["check"] == "golive" and r["tenant"] == name]
    return found


# --- not planned ----------------------------------------------------------------------------


def test_integration_only_tenant_is_not_planned_and_strict_passes(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """An integration-only tenant is counted apart; --strict passes when the planned are ready."""
    path = write_manifest(tenant(), tenant("sandbox", production=False, number=2))
    network = ScriptedNetwork()
    run = run_report("--strict", str(path), network=network)
    assert run.code == 0, run.out + run.err
    md = run.out
    assert md.startswith(
        "## 🚦 Go-live readiness — acme-dispatch-sync: 1 of 1 planned tenant ready; 1 not planned"
    )
    assert "❌ not ready: 0 · ❔ unknown: 0 · ✅ ready: 1 · ⏸️ not planned: 1" in md
    assert "| sandbox | ⏸️ not planned | — | — | no production entry (integration only) |" in md
    assert "not ready</" not in md.split("### Tenants")[1].split("sandbox")[0]
    # Listed last, after the ready tenant.
    assert md.index("| good-plumbing |") < md.index("| sandbox |")

    document = _document(run_report("--format", "json", str(path), network=network).out)
    sandbox = _by_tenant(document)["sandbox"]
    assert sandbox["verdict"] == "not_planned"
    assert sandbox["not_planned_because"] == "no production entry (integration only)"
    assert sandbox["next_action"] is None
    result = _golive(document, "sandbox")
    assert (result["status"], result["reason"]) == ("skip", "not_planned")


def test_planned_true_without_production_is_not_ready(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """Saying it is planned keeps the missing production entry a blocker."""
    path = write_manifest(tenant(), tenant("rapid-hvac", production=False, planned=True, number=2))
    run = run_report("--strict", str(path), network=ScriptedNetwork())
    assert run.code == 1
    assert "1 of 2 tenants ready" in run.out
    assert "| rapid-hvac | ❌ not ready | 1 |" in run.out


def test_go_live_planned_false_excuses_a_not_ready_tenant(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """``planned: false`` with a reason turns not ready into not planned, shown with the reason."""
    unattested = tenant("paused", attestations={}, number=2)
    path = write_manifest(tenant(), unattested)
    assert run_report("--offline", "--strict", str(path)).code == 1

    because = "Customer paused the rollout until spring (OPS-42)"
    path = write_manifest(
        tenant(), {**unattested, "go_live": {"planned": False, "because": because}}
    )
    run = run_report("--offline", "--strict", str(path))
    assert run.code == 0, run.out
    assert "0 of 1 planned tenant ready; 1 not planned" in run.out
    assert f"| paused | ⏸️ not planned | — | — | {because} |" in run.out
    assert f"⏸️ <b>paused</b>: not planned — {because}" in run.out
    document = _document(run_report("--offline", "--format", "json", str(path)).out)
    assert _by_tenant(document)["paused"]["not_planned_because"] == because
    assert because in _golive(document, "paused")["message"]


def test_planned_false_without_because_fails_closed(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """Without a reason ``planned: false`` is a schema error and excuses nothing."""
    path = write_manifest(tenant(), tenant("paused", planned=False, number=2))
    validate = run_report(str(path), command="validate", today=None)
    assert validate.code == 1
    assert "because" in validate.out
    run = run_report("--offline", "--strict", "--format", "json", str(path))
    assert run.code == 1
    paused = _by_tenant(_document(run.out))["paused"]
    assert paused["verdict"] == "not_ready"
    assert paused["items"][0]["id"] == "manifest_valid"
    assert paused["items"][0]["state"] == "fail"


# --- next action ----------------------------------------------------------------------------


def test_next_action_in_markdown_html_and_json(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    """The first blocker's remediation, one line, in every format; none for a ready tenant."""
    path = write_manifest(
        tenant(), tenant("no-terms", number=2, attestations={"app_approved": ATTESTED_APP})
    )
    page, md_file, json_file = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.json"
    run = run_report(
        *("--output", f"html={page}", "--output", f"markdown={md_file}"),
        *("--output", f"json={json_file}", str(path)),
        network=ScriptedNetwork(),
    )
    assert run.code == 0, run.err
    document = _document(json_file.read_text(encoding="utf-8"))
    entries = _by_tenant(document)
    assert entries["good-plumbing"]["next_action"] is None
    first = next(i for i in entries["no-terms"]["items"] if i["blocking"] and i["state"] == "fail")
    assert first["id"] == "attestation.tenant_admin_connected"
    action = entries["no-terms"]["next_action"]
    assert action == one_line(first["remediation"])
    assert action.startswith("Ask the tenant's admin to connect the app in production")
    assert len(action) <= NEXT_ACTION_CHARS and "\n" not in action
    assert action.endswith("…")

    md = md_file.read_text(encoding="utf-8")
    header = "| Tenant | Verdict | Blockers | Not checked | Next action | Target date | Owner |"
    assert header in md
    assert "| no-terms | ❌ not ready | 2 | 0 | Ask the tenant's admin to connect the app" in md
    assert "| good-plumbing | ✅ ready | 0 | 0 | — |" in md

    page_text = page.read_text(encoding="utf-8")
    summary = page_text.split('<table class="summary', 1)[1].split("</table>", 1)[0]
    assert '<th role="columnheader" scope="col">Next action</th>' in summary
    assert 'data-label="Next action">Ask the tenant&#39;s admin to connect the app' in summary


ATTESTED_APP = {"by": "dana@acme.example", "on": "2026-11-20"}


def test_one_line_collapses_and_cuts_at_a_word() -> None:
    assert one_line("Fix\n  the   thing.") == "Fix the thing."
    cut = one_line("word " * 100)
    assert len(cut) <= NEXT_ACTION_CHARS and cut.endswith("word…")
    # A cut inside a `code span` closes it, so it still renders as code.
    code = one_line("Set `" + "a_" * 150 + "` now.")
    assert len(code) <= NEXT_ACTION_CHARS and code.endswith("…`") and code.count("`") == 2


# --- group by -------------------------------------------------------------------------------


def _fleet() -> list[dict[str, Any]]:
    return [
        tenant("east-1", owner="ana@acme.example", enterprise_group="east", number=1),
        tenant(
            "east-2",
            owner="bo@acme.example",
            enterprise_group="east",
            attestations={},
            number=2,
        ),
        tenant("west-1", owner="ana@acme.example", enterprise_group="west", number=3),
        tenant("solo", owner=None, number=4),
        tenant("sandbox", owner="bo@acme.example", production=False, number=5),
    ]


def test_group_by_owner_in_markdown(write_manifest: WriteManifest, run_report: RunReportFn) -> None:
    path = write_manifest(*_fleet())
    run = run_report("--group-by", "owner", str(path), network=ScriptedNetwork())
    assert run.code == 0, run.err
    md = run.out
    headings = re.findall(r"^#### (.*)$", md, flags=re.M)
    assert headings == [
        "Owner: bo@acme.example — 2 tenants: 0 of 1 planned tenant ready; 1 not planned",
        "Owner: ana@acme.example — 2 tenants: 2 of 2 tenants ready",
        "Owner: no owner — 1 tenant: 1 of 1 tenant ready",
    ]
    # Each group's table lists its own tenants, worst first; the headline counts everyone.
    bo = md.split(headings[0])[1].split("####")[0]
    assert bo.index("| east-2 |") < bo.index("| sandbox |") and "| east-1 |" not in bo
    assert "3 of 4 planned tenants ready; 1 not planned" in md.splitlines()[0]


def test_group_by_enterprise_group_in_html_and_json(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(*_fleet())
    page = tmp_path / "r.html"
    run = run_report(
        *("--group-by", "enterprise_group", "--output", f"html={page}", "--format", "json"),
        str(path),
        network=ScriptedNetwork(),
    )
    assert run.code == 0, run.err
    text = page.read_text(encoding="utf-8")
    groups = text.split('<table class="groups', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<tr role="row"><th role="rowheader" scope="row">(.*?)</tr>', groups)
    cells = [re.sub(r"<[^>]+>", " ", row).split() for row in rows]
    # group, tenants, not ready, unknown, ready with waivers, ready, not planned
    assert cells == [
        ["east", "2", "1", "0", "0", "1", "0"],
        ["west", "1", "0", "0", "0", "1", "0"],
        ["(none)", "2", "0", "0", "0", "1", "1"],
    ]
    titles = [html.unescape(t) for t in re.findall(r'<h3 id="group-\d+">(.*?)</h3>', text)]
    assert titles == [
        "Enterprise Hub group: east — 1 of 2 tenants ready",
        "Enterprise Hub group: west — 1 of 1 tenant ready",
        "Enterprise Hub group: (none) — 1 of 1 planned tenant ready; 1 not planned",
    ]
    # JSON: the flat list, every tenant with its grouping keys.
    entries = _by_tenant(_document(run.out))
    assert [e["tenant"] for e in _document(run.out)["readiness"]] == [
        "east-1",
        "east-2",
        "west-1",
        "solo",
        "sandbox",
    ]
    assert entries["east-2"]["enterprise_group"] == "east"
    assert entries["solo"]["enterprise_group"] is None
    assert entries["east-2"]["owner"] == "bo@acme.example"


def test_group_by_rejects_other_keys(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    path = write_manifest(tenant())
    run = run_report("--group-by", "tenant_id", "--offline", str(path))
    assert run.code == 2
    assert "owner" in run.err and "enterprise_group" in run.err


# --- not ready only -------------------------------------------------------------------------


def test_not_ready_only_lists_the_not_ready_and_counts_all(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    path = write_manifest(*_fleet())
    page = tmp_path / "r.html"
    run = run_report(
        "--not-ready-only", "--output", f"html={page}", str(path), network=ScriptedNetwork()
    )
    assert run.code == 0, run.err
    md = run.out
    assert "3 of 4 planned tenants ready; 1 not planned" in md
    assert "❌ not ready: 1 · ❔ unknown: 0 · ✅ ready: 3 · ⏸️ not planned: 1" in md
    summary = md.split("### Tenants")[0].splitlines()
    rows = [line for line in summary if line.startswith("| ") and "---" not in line]
    assert [row.split(" | ")[0] for row in rows if "Verdict" not in row] == ["| east-2"]
    assert "_4 more tenants are not listed (`--not-ready-only`)" in md
    assert md.count("<details>") == 1
    text = page.read_text(encoding="utf-8")
    assert ">east-2<" in text and ">east-1<" not in text and ">sandbox<" not in text
    assert "Listing only the 1 tenant that need attention" in text
    assert "ready: 3</span>" in text
    # The JSON keeps every tenant.
    document = _document(run_report("--not-ready-only", "--format", "json", str(path)).out)
    assert len(document["readiness"]) == 5


def test_not_ready_only_online_lists_unknown_too(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """Online, unknown fails --strict, so it is listed; offline it is the best verdict."""
    path = write_manifest(tenant(), tenant("late", attestations={}, number=2))
    offline = run_report("--offline", "--not-ready-only", str(path)).out
    assert "| late |" in offline and "| good-plumbing |" not in offline
    from stcheck.model import Status

    from .conftest import Answer

    timeout = ScriptedNetwork().script(
        "api", "good-plumbing", "production", Answer(Status.ERROR, "timed out", "timeout")
    )
    online = run_report("--not-ready-only", str(path), network=timeout).out
    assert "| late |" in online and "| good-plumbing | ❔ unknown |" in online


# --- hostile text ---------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>|[x](javascript:alert(2))`code`\x1b[31m"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)


def test_hostile_because_and_owner_are_escaped_clipped_and_redacted(
    write_manifest: WriteManifest, run_report: RunReportFn, tmp_path: Path
) -> None:
    because = HOSTILE + " token " + JWT + " " + "x" * 600
    data = tenant("paused", owner=HOSTILE, enterprise_group=HOSTILE, number=2)
    data["go_live"] = {"planned": False, "because": because}
    path = write_manifest(tenant(owner=HOSTILE), data)
    page, md_file, json_file = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "r.json"
    run = run_report(
        *("--offline", "--group-by", "enterprise_group", "--output", f"html={page}"),
        *("--output", f"markdown={md_file}", "--output", f"json={json_file}", str(path)),
    )
    assert run.code == 0, run.err
    outputs = {p.name: p.read_text(encoding="utf-8") for p in (page, md_file, json_file)}
    for name, text in outputs.items():
        assert JWT not in text and JWT[:40] not in text, name
        assert "\x1b" not in text, name
        assert "x" * 501 not in text, name
    for name in ("r.html", "r.md"):
        assert "<script>alert" not in outputs[name]
    assert "](javascript:" not in outputs["r.md"]
    assert "javascript:" not in "".join(re.findall(r'href="[^"]*"', outputs["r.html"]))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in outputs["r.html"]
    markdown_rows = [line for line in outputs["r.md"].splitlines() if line.startswith("|")]
    assert len({len(re.findall(r"(?<!\\)\|", row)) for row in markdown_rows}) <= 2  # 2 tables
    assert "\x1b" not in run.err and JWT not in run.err

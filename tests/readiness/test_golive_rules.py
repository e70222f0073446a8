"""The go-live rules' building blocks: the item factory, the judgement table, and the rule
that messages never decide (through the real CLI, with a scripted network)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from stcheck.checks.golive import items
from stcheck.checks.golive.evidence import judge
from stcheck.model import Result, Status
from stcheck.readiness import STANDARD_ATTESTATIONS, TenantReadiness, readiness_of

from .conftest import ATTESTED, Answer, RunReportFn, ScriptedNetwork, tenant

WriteManifest = Callable[..., Path]
GOLIVE = Path(items.__file__).parent


def test_an_item_spec_fixes_id_title_and_blocking_whatever_the_state() -> None:
    spec = items.blocking_item("x", "X works")
    made = [spec.passes("fine"), spec.fails("broken", "fix it"), spec.not_checked("offline")]
    assert [(i.id, i.title, i.blocking, i.state) for i in made] == [
        ("x", "X works", True, "pass"),
        ("x", "X works", True, "fail"),
        ("x", "X works", True, "not_checked"),
    ]
    assert [i.remediation for i in made] == [None, "fix it", None]
    # An advisory failure reads as "attention", never as a blocker.
    soft = items.advisory_item("y", "Y").fails("late", "hurry")
    assert (soft.blocking, soft.tone, soft.label) == (False, "attention", "⚠️ attention")
    assert items.SCOPES.blocking and not items.SCOPES.as_advisory.blocking
    assert items.SCOPES.as_advisory.id == items.SCOPES.id


def test_the_item_table_is_what_a_run_reports(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """Every item of a real run comes from the table (or is a standard attestation)."""
    extra = {**ATTESTED, "security_review": {"by": "sam@acme.example", "on": "2026-11-01"}}
    path = write_manifest(tenant(attestations=extra))
    run = run_report(str(path), network=ScriptedNetwork())
    assert run.report is not None, run.err
    (good,) = readiness_of(run.report)
    specs = {spec.id: spec for spec in vars(items).values() if isinstance(spec, items.ItemSpec)}
    for key, title in STANDARD_ATTESTATIONS.items():
        specs[f"attestation.{key}"] = items.blocking_item(f"attestation.{key}", title)
    specs["attestation.security_review"] = items.advisory_item(
        "attestation.security_review", "Attestation: security_review"
    )
    assert {i.id for i in good.items} == set(specs)
    for made in good.items:
        assert (made.title, made.blocking) == (specs[made.id].title, specs[made.id].blocking)


def result(status: Status, reason: str | None = None, message: str = "m") -> Result:
    return Result("token", status, message, reason=reason, tenant="t", environment="production")


@pytest.mark.parametrize(
    ("statuses", "state", "deciding"),
    [
        ([(Status.PASS, None), (Status.FAIL, "invalid_client")], "fail", [1]),
        ([(Status.ERROR, "timeout"), (Status.FAIL, "forbidden")], "fail", [1]),
        ([(Status.PASS, None), (Status.ERROR, "timeout")], "not_checked", [1]),
        ([(Status.PASS, None), (Status.WARN, "probe_scope_not_granted")], "not_checked", [1]),
        ([(Status.WARN, "whitespace"), (Status.PASS, None)], "pass", [0, 1]),
        ([(Status.SKIP, "not_applicable")], "not_checked", [0]),
        ([], "not_checked", []),
    ],
)
def test_judge_the_most_decisive_row_wins_and_its_results_are_quoted(
    statuses: list[tuple[Status, str | None]], state: str, deciding: list[int]
) -> None:
    results = [result(status, reason, f"m{n}") for n, (status, reason) in enumerate(statuses)]
    got_state, got = judge(results)
    assert (got_state, [r.message for r in got]) == (state, [f"m{n}" for n in deciding])


SCENARIOS: dict[str, list[tuple[str, str, Answer]]] = {
    "refused": [("token", "production", Answer(Status.FAIL, "", "invalid_client"))],
    "unauthorized": [("token", "production", Answer(Status.FAIL, "", "unauthorized_client"))],
    "forbidden": [("api", "production", Answer(Status.FAIL, "", "forbidden"))],
    "missing": [("api", "production", Answer(Status.FAIL, "", "probe_not_found"))],
    "narrow": [
        (
            "token",
            "production",
            Answer(Status.FAIL, "", "missing_scopes", facts={"scopes_stated": "yes"}),
        )
    ],
    "unprovable": [("api", "production", Answer(Status.WARN, "", "probe_scope_not_granted"))],
    "slow": [
        ("token", "production", Answer(Status.ERROR, "", "timeout")),
        ("api", "integration", Answer(Status.FAIL, "", "http_error")),
    ],
    "quiet": [("token", "production", Answer(Status.PASS, "", facts={"scopes_stated": "no"}))],
    "copied": [
        (
            "credentials",
            "production",
            Answer(Status.FAIL, "", "same_reference_both_environments"),
        )
    ],
    "fine": [],
}

TRUE_WORDS = {
    "invalid_client": "the token endpoint refused the client pair (invalid_client)",
    "unauthorized_client": "the token endpoint says this client may not use this grant",
    "forbidden": "the probe answered HTTP 403",
    "probe_not_found": "the probe answered HTTP 404",
    "missing_scopes": "the token lacks required scope tn.stt.businessunits:r",
    "probe_scope_not_granted": "403, and the token does not grant the probe's scope",
    "timeout": "no answer within 10 s",
    "http_error": "the probe answered HTTP 404",
    "same_reference_both_environments": "production resolves to the integration values",
    None: "token issued (Bearer, expires_in 900)",
}
LYING_WORDS = (
    "ready for production: token issued, scope includes the required scopes, 200 OK;"
    " or was it 403 forbidden invalid_client missing_scopes timeout?"
)


def _network(words: Callable[[Answer], str]) -> ScriptedNetwork:
    network = ScriptedNetwork(distinct={"copied": False})
    for name, answers in SCENARIOS.items():
        for check, environment, answer in answers:
            worded = Answer(answer.status, words(answer), answer.reason, answer.facts)
            network.script(check, name, environment, worded)
    return network


Decisions = dict[str, tuple[str, list[tuple[str, bool, str, str | None]]]]


def _decisions(tenants: list[TenantReadiness]) -> Decisions:
    return {
        t.tenant: (t.verdict, [(i.id, i.blocking, i.state, i.remediation) for i in t.items])
        for t in tenants
    }


def test_messages_never_decide_an_item(
    write_manifest: WriteManifest, run_report: RunReportFn
) -> None:
    """The same statuses, reasons and facts under true and lying messages: same decisions.

    The rules read a result's status, reason and facts; its message is only quoted.
    """
    path = write_manifest(*(tenant(name, number=n) for n, name in enumerate(SCENARIOS, 1)))
    told = run_report(str(path), network=_network(lambda a: TRUE_WORDS[a.reason]))
    lied = run_report(str(path), network=_network(lambda a: LYING_WORDS))
    assert told.report is not None and lied.report is not None, (told.err, lied.err)
    decisions = _decisions(readiness_of(told.report))
    assert decisions == _decisions(readiness_of(lied.report))
    # The lies were read: they are quoted in the details.
    assert any(LYING_WORDS in i.detail for t in readiness_of(lied.report) for i in t.items)
    verdicts = {name: verdict for name, (verdict, _) in decisions.items()}
    assert verdicts == {
        "refused": "not_ready",
        "unauthorized": "not_ready",
        "forbidden": "not_ready",
        "missing": "not_ready",
        "narrow": "not_ready",
        "unprovable": "unknown",
        "slow": "unknown",
        "quiet": "ready",
        "copied": "not_ready",
        "fine": "ready",
    }


def test_the_rules_stay_small() -> None:
    """Each function of the go-live package is under 30 lines and of complexity <= 10."""
    long = []
    for path in sorted(GOLIVE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.end_lineno is not None:
                lines = node.end_lineno - node.lineno + 1
                if lines >= 30:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert long == []
    ruff = subprocess.run(
        [
            *(sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "C901"),
            *("--config", "lint.mccabe.max-complexity=10", str(GOLIVE)),
        ],
        capture_output=True,
        text=True,
    )
    assert ruff.returncode == 0, ruff.stdout + ruff.stderr

"""The schema check: violations explained in the manifest's terms, at the right line."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from stcheck.manifest import load_bytes
from stcheck.manifest.explain import explain
from stcheck.manifest.schema import MANIFEST_SCHEMA, Validator, load_schema, schema_path
from tests.conftest import VALID, run_cli

REPO = Path(__file__).resolve().parents[2]


def schema_results(tmp_path: Path, text: str) -> list[dict[str, object]]:
    path = tmp_path / "stcheck.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_cli("validate", "--select", "schema", "--format", "json", str(path))
    document = json.loads(result.out)
    return [r for r in document["results"] if r["check"] == "schema" and r["status"] == "fail"]


def mutate(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


CASES = [
    # (old, new, reason, message fragment, line)
    (
        "      production:\n",
        "      staging:\n",
        "unknown_environment",
        "unknown environment 'staging' (expected integration or production)",
        14,
    ),
    (
        "      production:\n",
        "      sandbox:\n",
        "unknown_environment",
        "sandbox is the integration environment",
        14,
    ),
    (
        "        client_secret: env:GP_INT_CLIENT_SECRET\n",
        "        client_secret: env:GP_INT_CLIENT_SECRET\n        api_url: https://evil.example\n",
        "host_in_manifest",
        "hosts cannot be set in the manifest: they follow from the environment",
        14,
    ),
    (
        "  name: acme-dispatch-sync\n",
        "  name: acme-dispatch-sync\n  auth_host: auth.servicetitan.io\n",
        "host_in_manifest",
        "hosts cannot be set in the manifest",
        4,
    ),
    (
        "        client_secret: file:secrets/gp-prod\n",
        "",
        "missing_key",
        "tenant 'good-plumbing', production entry is missing the required key 'client_secret'",
        15,
    ),
    (
        "        tenant_id: 1234567\n",
        "        tenant_id: true\n",
        "invalid_tenant_id",
        "not true/false",
        11,
    ),
    (
        "        tenant_id: 1234567\n",
        "        tenant_id: -4\n",
        "invalid_tenant_id",
        "positive",
        11,
    ),
    (
        "        tenant_id: 1234567\n",
        "        tenant_id: 1.5\n",
        "invalid_tenant_id",
        "whole number",
        11,
    ),
    (
        "        tenant_id: 1234567\n",
        "        tenant_id: '0123'\n",
        "invalid_tenant_id",
        "leading zero",
        11,
    ),
    ("        tenant_id: 1234567\n", "        tenant_id: abc\n", "invalid_tenant_id", "digits", 11),
    ("        tenant_id: 1234567\n", "        tenant_id:\n", "invalid_tenant_id", "is empty", 11),
    (
        "        tenant_id: 1234567\n",
        "        tenant_id: 18446744073709551616\n",
        "invalid_tenant_id",
        "beyond 64 bits",
        11,
    ),
    (
        "        tenant_id: 1234567\n",
        '        tenant_id: "99999999999999999999"\n',
        "invalid_tenant_id",
        "beyond 64 bits",
        11,
    ),
    (
        '        tenant_id: "9876543"\n',
        '        tenant_id: "9223372036854775808"\n',
        "invalid_tenant_id",
        "beyond 64 bits",
        15,
    ),
    ("version: 1\n", "version: 2\n", "invalid_value", "version must be 1", 1),
    (
        "  app_key: env:ST_APP_KEY\n",
        "  app_key: 42\n",
        "not_a_reference",
        "app.app_key must be a credential reference such as env:NAME or file:PATH",
        4,
    ),
    (
        "  app_key: env:ST_APP_KEY\n",
        "  app_key: x\n",
        "not_a_reference",
        "(and 1 more problem with this value)",
        4,
    ),
    (
        "  required_scopes: [tn.stt.businessunits:r]\n",
        "  probe: https://api.servicetitan.io/settings/v2/tenant/1/business-units\n",
        "host_in_manifest",
        "not a URL",
        5,
    ),
    (
        "  required_scopes: [tn.stt.businessunits:r]\n",
        "  probe: memberships/export/memberships\n",
        "invalid_value",
        "cannot be an export endpoint",
        5,
    ),
    (
        "  required_scopes: [tn.stt.businessunits:r]\n",
        "  probe: reporting/report-categories\n",
        "invalid_value",
        "MODULE/RESOURCE",
        5,
    ),
    ("  - name: rapid-hvac\n", "  - name: Rapid HVAC\n", "invalid_value", "must be a slug", 18),
    (
        "  - name: rapid-hvac\n",
        "  - name: rapid-hvac\n    go_live: {target_date: 2026-02-30}\n",
        "invalid_value",
        "not a real calendar date",
        19,
    ),
    (
        "  - name: rapid-hvac\n",
        "  - name: rapid-hvac\n    go_live: {target_date: 15/12/2026}\n",
        "invalid_value",
        "YYYY-MM-DD",
        19,
    ),
    (
        "  - name: rapid-hvac\n",
        "  - name: rapid-hvac\n    go_live: {attestations: {app_approved: {by: dana}}}\n",
        "missing_key",
        "missing the required key 'on'",
        19,
    ),
    (
        "    owner: ops@acme.example\n",
        "    ownr: ops@acme.example\n",
        "unknown_key",
        "did you mean 'owner'?",
        8,
    ),
    (
        "tenants:\n",
        "tenant:\n",
        "unknown_key",
        "unknown key 'tenant' in the manifest",
        6,
    ),
]


@pytest.mark.parametrize(("old", "new", "reason", "fragment", "line"), CASES)
def test_violation_is_explained_at_its_line(
    tmp_path: Path, old: str, new: str, reason: str, fragment: str, line: int
) -> None:
    failures = schema_results(tmp_path, mutate(old, new))
    matching = [r for r in failures if r["reason"] == reason]
    assert matching, failures
    assert any(fragment in str(r["message"]) for r in matching), matching
    assert any(r["location"]["line"] == line for r in matching), matching  # type: ignore[index]


def test_valid_manifest_passes(tmp_path: Path) -> None:
    assert schema_results(tmp_path, VALID) == []


def test_every_error_has_a_line_and_pointer(tmp_path: Path) -> None:
    text = VALID.replace("version: 1", "version: 3").replace("tenant_id: 1234567", "tenant_id: x")
    failures = schema_results(tmp_path, text + "extra: 1\n")
    assert len(failures) == 3
    for failure in failures:
        location = failure["location"]
        assert isinstance(location, dict) and location["line"] and location["column"]


def test_many_errors_are_capped_and_counted(tmp_path: Path) -> None:
    tenants = "".join(
        f"  - name: t{i}\n    environments:\n      staging: {{}}\n" for i in range(250)
    )
    text = "version: 1\napp: {name: x, app_key: env:K}\ntenants:\n" + tenants
    failures = schema_results(tmp_path, text)
    assert len(failures) == 201
    assert "and 50 more schema problems" in str(failures[-1]["message"])


def test_yaml_trap_is_reported_once(tmp_path: Path) -> None:
    failures = schema_results(tmp_path, mutate("tenant_id: 1234567", "tenant_id: 0123"))
    assert [(f["reason"], f["location"]["line"]) for f in failures] == [("yaml_trap", 11)]  # type: ignore[index]


def test_messages_never_quote_credential_values(tmp_path: Path) -> None:
    secret = "s3cr3t-Value-that-is-not-a-reference"
    failures = schema_results(tmp_path, mutate("env:GP_INT_CLIENT_SECRET", secret))
    assert failures
    assert secret not in json.dumps(failures)


# --- the published schema itself -------------------------------------------------


def test_published_schema_is_valid_draft_2020_12() -> None:
    schema = json.loads((REPO / "schemas" / MANIFEST_SCHEMA).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert load_schema() == schema
    assert (
        Path(schema_path(MANIFEST_SCHEMA)).read_text()
        == (REPO / "schemas" / MANIFEST_SCHEMA).read_text()
    )


def test_example_manifest_validates_with_the_reference_implementation() -> None:
    path = REPO / "examples" / "stcheck.yaml"
    loaded = load_bytes(path.read_bytes(), str(path))
    assert loaded.problems == []
    jsonschema.Draft202012Validator(load_schema()).validate(loaded.data)


ENGINE_CORPUS = [VALID] + [mutate(old, new) for old, new, *_ in CASES]


@pytest.mark.parametrize("text", ENGINE_CORPUS)
def test_fast_engine_agrees_with_the_reference_implementation(text: str) -> None:
    """jsonschema-rs (the hot path) and jsonschema (the reference) find the same problems."""
    loaded = load_bytes(text.encode(), "m.yaml")
    schema = load_schema()
    fast = Validator(schema, engine="jsonschema-rs")
    reference = Validator(schema, engine="jsonschema")
    fast_found = {
        (e.pointer, e.reason) for e in explain(fast.violations(loaded.data), loaded.data, schema)
    }
    ref_found = {
        (e.pointer, e.reason)
        for e in explain(reference.violations(loaded.data), loaded.data, schema)
    }
    assert fast_found == ref_found


@pytest.mark.parametrize("value", ["9876543.0", "9.876543e6", "1e3"])
def test_float_tenant_id_is_not_a_tenant_id(tmp_path: Path, value: str) -> None:
    """JSON Schema counts 9876543.0 as an integer; the entry would silently drop out of `check`."""
    failures = schema_results(tmp_path, mutate('tenant_id: "9876543"', f"tenant_id: {value}"))
    assert failures
    assert {f["reason"] for f in failures} <= {"invalid_tenant_id", "yaml_trap"}
    assert all(f["location"]["line"] == 15 for f in failures)  # type: ignore[index]


@pytest.mark.parametrize("quoted", [False, True])
def test_absurdly_long_numbers_are_input_errors_not_crashes(tmp_path: Path, quoted: bool) -> None:
    digits = "9" * 5000
    value = f'"{digits}"' if quoted else digits
    path = tmp_path / "stcheck.yaml"
    path.write_text(VALID.replace('"9876543"', value), encoding="utf-8")
    for command in (["validate"], ["report", "--offline"]):
        result = run_cli(*command, "--format", "json", str(path))
        document = json.loads(result.out)
        assert result.code in (0, 1)
        assert not [r for r in document["results"] if r["reason"] == "check_crashed"]
    assert "beyond 64 bits" in run_cli("validate", str(path)).out


def test_a_flood_of_violations_is_explained_in_a_window_and_counted(tmp_path: Path) -> None:
    text = "version: 1\napp: {name: x, app_key: env:K}\ntenants:\n" + "  - x\n" * 5000
    failures = schema_results(tmp_path, text)
    assert len(failures) == 201
    assert "and about 4800 more schema problems" in str(failures[-1]["message"])


def test_reference_validator_is_the_fallback_when_jsonschema_rs_is_missing(tmp_path: Path) -> None:
    import subprocess
    import sys

    path = tmp_path / "stcheck.yaml"
    path.write_text(mutate("      production:\n", "      staging:\n"), encoding="utf-8")
    probe = (
        "import sys\n"
        "sys.modules['jsonschema_rs'] = None  # as if no wheel could be installed\n"
        "from stcheck.manifest.schema import validator\n"
        "from stcheck.cli import main\n"
        f"code = main(['validate', {str(path)!r}])\n"
        "print(validator().engine, code)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "unknown environment 'staging'" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "jsonschema 1"


# ------------------------------------------------- required_scopes module names


def _validate(tmp_path: Path, scopes: str) -> tuple[int, list[dict[str, object]]]:
    path = tmp_path / "stcheck.yaml"
    path.write_text(
        mutate("  required_scopes: [tn.stt.businessunits:r]\n", f"  required_scopes: {scopes}\n"),
        encoding="utf-8",
    )
    result = run_cli("validate", "--format", "json", str(path))
    document = json.loads(result.out)
    return result.code, [r for r in document["results"] if r["check"] == "schema"]


@pytest.mark.parametrize(
    ("scope", "suggestion"),
    [
        ("tn.set.businessunits:r", "tn.stt.businessunits:r"),  # the old docs' misspelling
        ("tn.settings.tagtypes:r", "tn.stt.tagtypes:r"),  # the module's path name
        ("tn.jpmm.jobs:r", "tn.jpm.jobs:r"),
    ],
)
def test_unknown_scope_module_warns_with_did_you_mean(
    tmp_path: Path, scope: str, suggestion: str
) -> None:
    code, results = _validate(tmp_path, f"[tn.acc.invoices:r, {scope}]")
    assert code == 0  # a warn does not fail validate
    [warn] = results
    assert (warn["status"], warn["reason"]) == ("warn", "unknown_scope_module")
    assert f"did you mean {suggestion}?" in str(warn["message"])
    location = warn["location"]
    assert isinstance(location, dict)
    assert (location["pointer"], location["line"]) == ("/app/required_scopes/1", 5)


def test_unknown_scope_module_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    code, [warn] = _validate(tmp_path, "[tn.qqqqqq.things:r]")
    assert (code, warn["status"], warn["reason"]) == (0, "warn", "unknown_scope_module")
    assert "known modules: acc, crm, inv, jpm" in str(warn["message"])


def test_known_scope_modules_do_not_warn(tmp_path: Path) -> None:
    scopes = "[tn.stt.businessunits:r, tn.jpm.jobtypes:r, tn.crm.customers:w, tn.inv.vendors:r]"
    code, results = _validate(tmp_path, scopes)
    assert code == 0
    assert [(r["status"], r["reason"]) for r in results] == [("pass", None)]


def test_shipped_manifests_use_real_scope_names() -> None:
    for path in (
        REPO / "examples" / "stcheck.yaml",
        REPO / "stcheck" / "demo_data" / "stcheck.yaml",
    ):
        result = run_cli("validate", "--select", "schema", "--format", "json", str(path))
        results = json.loads(result.out)["results"]
        schema = [r["status"] for r in results if r["check"] == "schema"]
        assert schema == ["pass"], (path, result.out)

"""The references check (credential fields are references, never values), through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import CANARY_APP_KEY, CANARY_CLIENT_ID, CANARY_SECRET, VALID, run_cli

from .support import failures, write

FORMATS = ("text", "json", "github", "junit", "sarif", "markdown")


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("env:GP_INT_CLIENT_SECRET", CANARY_SECRET, "a ServiceTitan client secret"),
        ("env:ST_APP_KEY", CANARY_APP_KEY, "a ServiceTitan app key"),
        ("env:GP_INT_CLIENT_ID", CANARY_CLIENT_ID, "a ServiceTitan client ID"),
        (
            "env:GP_INT_CLIENT_SECRET",
            "eyJhbGciOiJSUzI1NiJ9.eyJjbGllbnRfaWQiOiJ4In0.c2lnbmF0dXJlc2lnbmF0dXJl",
            "a JSON Web Token",
        ),
        ("env:GP_INT_CLIENT_SECRET", "Zx8vB2nQ7rT1yU5iO9pL3kJ6hG4fD0sA", "high-entropy"),
        ("env:GP_INT_CLIENT_SECRET", "env:Zx8vB2nQ7rT1yU5iO9pL3kJ6hG4fD0sA", "high-entropy"),
        ("ops@acme.example", f"ops@acme.example  # {CANARY_SECRET}", "client secret"),
    ],
)
def test_leaked_secret_is_reported_without_echo(
    tmp_path: Path, old: str, new: str, kind: str
) -> None:
    path = write(tmp_path, VALID.replace(old, new, 1))
    found = [r for r in failures(path, "references") if r["reason"] == "leaked_secret"]
    assert len(found) == 1
    assert kind in str(found[0]["message"])
    assert found[0]["location"]["line"] is not None  # type: ignore[index]
    secret = new.split("# ")[-1].removeprefix("env:")
    for fmt in FORMATS:
        result = run_cli("validate", "--format", fmt, str(path))
        assert result.code == 1
        assert secret not in result.out + result.err, fmt
        # not even a fragment of it
        assert secret[4:20] not in result.out + result.err, fmt


def test_secret_used_as_a_key_is_not_echoed(tmp_path: Path) -> None:
    key = "Zx8vB2nQ7rT1yU5iO9pL3kJ6hG4fD0sA"
    path = write(tmp_path, VALID + f"{key}: 1\n{key}: 2\n{key}x:\n  a: 0123\n")
    for fmt in FORMATS:
        result = run_cli("validate", "--format", fmt, str(path))
        assert "Zx8vB2nQ7rT1yU5iO9pL3kJ6hG4fD0sA" not in result.out + result.err, fmt
        result = run_cli("validate", "--skip", "references", "--format", fmt, str(path))
        assert "Zx8vB2nQ7rT1yU5iO9pL3kJ6hG4fD0sA" not in result.out + result.err, fmt


@pytest.mark.parametrize(
    ("new", "reason", "fragment"),
    [
        (
            "vault:secret/gp#x",
            "unknown_scheme",
            "unknown reference scheme 'vault' (known: env:, file:)",
        ),
        ("env:1BAD", "invalid_reference", "not a valid env: reference"),
        ("env:GP-INT", "invalid_reference", "environment variable name"),
    ],
)
def test_reference_schemes_are_checked(
    tmp_path: Path, new: str, reason: str, fragment: str
) -> None:
    path = write(tmp_path, VALID.replace("env:GP_INT_CLIENT_SECRET", new, 1))
    (found,) = failures(path, "references")
    assert found["reason"] == reason
    assert fragment in str(found["message"])
    assert found["location"]["line"] == 13  # type: ignore[index]
    assert found["location"]["pointer"] == "/tenants/0/environments/integration/client_secret"  # type: ignore[index]


def test_ordinary_values_are_not_mistaken_for_secrets(tmp_path: Path) -> None:
    text = VALID.replace(
        "owner: ops@acme.example",
        "owner: a.very.long.team-name+ops@some-company.example",
    ).replace("env:GP_PROD_CLIENT_ID", "env:GOOD_PLUMBING_PRODUCTION_CLIENT_IDENTIFIER")
    path = write(tmp_path, text)
    assert failures(path, "references") == []


def test_valid_manifest_passes_every_offline_check(tmp_path: Path) -> None:
    result = run_cli("validate", "--format", "json", str(write(tmp_path, VALID)))
    document = json.loads(result.out)
    assert result.code == 0
    passed = {r["check"] for r in document["results"] if r["status"] == "pass"}
    assert {"schema", "references", "unique"} <= passed


def test_example_manifest_passes_validate() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "stcheck.yaml"
    result = run_cli("validate", str(example))
    assert result.code == 0, result.out


@pytest.mark.parametrize(
    "text",
    [
        "file:secrets/tenant-0000-prod",
        "../schemas/manifest-v1.schema.json",
        "env:T00001_PROD_CLIENT_SECRET",
        "tenant_admin_connected",
    ],
)
def test_paths_names_and_slugs_are_not_secrets(text: str) -> None:
    from stcheck.redact import scan_text

    assert scan_text(f"key: {text}  # {text}\n") == []


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("mypassword:Summer2024", None),
        ("evn:GP_INT_CLIENT_SECRET", "did you mean env:?"),
        ("vault:secret/gp#x", "'vault'"),
    ],
)
def test_unknown_scheme_is_named_only_when_it_cannot_be_a_secret(
    tmp_path: Path, value: str, shown: str | None
) -> None:
    path = write(tmp_path, VALID.replace("env:GP_INT_CLIENT_SECRET", value, 1))
    (found,) = failures(path, "references")
    assert found["reason"] == "unknown_scheme"
    for fmt in FORMATS:
        out = run_cli("validate", "--format", fmt, str(path)).out
        if shown is None:
            assert "mypassword" not in out and "Summer2024" not in out, fmt
    if shown is not None:
        assert shown in str(found["message"])

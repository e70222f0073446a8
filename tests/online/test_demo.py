"""``stcheck demo`` runs the real machinery against the embedded fake and exits 0."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from stcheck.cli import main
from stcheck.demo import EXPECTED, sample_manifest


def test_demo_runs_as_intended(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    before = dict(os.environ)
    stdout, stderr = io.StringIO(), io.StringIO()
    started = time.monotonic()
    code = main(["demo"], stdout=stdout, stderr=stderr)
    elapsed = time.monotonic() - started
    text = stdout.getvalue()
    assert code == 0, text + stderr.getvalue()
    assert "ran as intended" in text
    assert "exits 0" in text
    assert "invalid_client" in text and "HTTP 403" in text
    # north-electric: a working pair and a mistyped tenant ID, not an app "not allowed"
    # (a client pair exists only after the tenant's admin clicked Allow).
    assert "tenant_id 2001030 is not this client pair's tenant" in text
    assert "has not allowed" not in text and "not allowed the app" not in text
    # Enterprise Hub: one pair, a token per tenant, asked for with the tenant field.
    assert "asked once per tenant with tenant=<tenant_id>" in text
    assert "14 token requests for 12 client pairs" in text
    assert elapsed < 15
    assert dict(os.environ) == before  # the demo's variables were for its run only
    assert "cs1." not in text and "ak1." not in text


def test_demo_sample_is_a_valid_manifest(tmp_path: Path) -> None:
    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(sample_manifest())
    assert main(["validate", str(manifest)], stdout=io.StringIO()) == 0
    assert {check for check, _, _ in EXPECTED} <= {"dns", "credentials", "token", "api"}

"""Shared helpers: write manifests, run the real CLI in-process, the canary secrets."""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

from stcheck.cli import main

# Directories of tests/ whose every test is an integration test (see CONTRIBUTING.md).
INTEGRATION_DIRECTORIES = frozenset({"online", "testing", "integration"})
# Fixtures that start the fake ServiceTitan (stcheck.testing, tests/online/conftest.py).
FAKE_FIXTURES = frozenset({"servicetitan_fake", "servicetitan_fake_session", "harness"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``integration`` what starts the fake or installs packages, wherever it lives."""
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            top = item.path.resolve().relative_to(tests).parts[0]
        except ValueError:
            top = ""
        fixtures = set(getattr(item, "fixturenames", ()))
        if top in INTEGRATION_DIRECTORIES or fixtures & FAKE_FIXTURES:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(autouse=True)
def no_env_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The machine's STCHECK_ENV_ALLOW (an operator's env: policy) does not leak into tests."""
    monkeypatch.delenv("STCHECK_ENV_ALLOW", raising=False)


# Canary credentials: tests fail if any of these shows up in any output.
CANARY_SECRET = "cs1.CanaryCanaryCanary0123456789AbCdEfGhIjKlMnOpQrSt"
CANARY_APP_KEY = "ak1.canarycanarycanary01234567"
CANARY_CLIENT_ID = "cid.canarycanarycanary0123456"

VALID = """\
version: 1
app:
  name: acme-dispatch-sync
  app_key: env:ST_APP_KEY
  required_scopes: [tn.stt.businessunits:r]
tenants:
  - name: good-plumbing
    owner: ops@acme.example
    environments:
      integration:
        tenant_id: 1234567
        client_id: env:GP_INT_CLIENT_ID
        client_secret: env:GP_INT_CLIENT_SECRET
      production:
        tenant_id: "9876543"
        client_id: env:GP_PROD_CLIENT_ID
        client_secret: file:secrets/gp-prod
  - name: rapid-hvac
    environments:
      integration:
        tenant_id: 2345678
        client_id: env:RH_INT_CLIENT_ID
        client_secret: env:RH_INT_CLIENT_SECRET
"""


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code = code
        self.out = out
        self.err = err

    def __repr__(self) -> str:
        return f"CliResult(code={self.code}, out={self.out!r}, err={self.err!r})"


def run_cli(*args: str) -> CliResult:
    """Run the real command line in-process; capture stdout and stderr."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(args), stdout=out, stderr=err)
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """Write dedented text to a file under tmp_path and return its path."""

    def _write(text: str, name: str = "stcheck.yaml") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return _write

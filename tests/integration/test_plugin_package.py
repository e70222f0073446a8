"""The stcheck-dotenv plugin package, installed into a fresh environment, and broken plugins.

The first part runs the installed console script (``stcheck``) of the session's
virtual environment, where stcheck and stcheck-dotenv were installed from their
wheels: entry-point discovery, the ``dotenv:`` scheme in ``validate``, the
``owner`` check and its option, the isolation of broken plugins and
``--disable-plugin``. The plugin's code in process (the ``.env`` parser, the
offline syntax and the resolver) is tested in ``plugins/stcheck-dotenv/tests/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .support import Venv, plugin_version

MANIFEST = """\
version: 1
app:
  name: dotenv-demo
  app_key: env:ST_APP_KEY
tenants:
  - name: good-plumbing
    owner: {owner}
    environments:
      integration:
        tenant_id: 1234567
        client_id: dotenv:.env#GP_INT_CLIENT_ID
        client_secret: {secret}
"""
SECRET_LINE, SECRET_COLUMN = 12, 24


def write_manifest(
    directory: Path, secret: str = "dotenv:.env#GP_SECRET", owner: str = "ops@acme.example"
) -> Path:
    path = directory / "stcheck.yaml"
    path.write_text(MANIFEST.format(secret=secret, owner=owner), encoding="utf-8")
    return path


def results(stdout: str, check: str | None = None) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = json.loads(stdout)["results"]
    return [r for r in found if check is None or r["check"] == check]


# --- installed: discovery, validate, owner ------------------------------------------


def test_plugins_command_lists_both_plugins_with_name_and_version(
    venv: Venv, tmp_path: Path
) -> None:
    done = venv.run("stcheck", "plugins", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    version = plugin_version()
    dotenv = lines.index(f"  dotenv {version} (installed)")
    assert lines[dotenv + 1].split() == ["schemes:", "dotenv:"]
    owner = lines.index(f"  owner {version} (installed)")
    assert lines[owner + 1].split() == ["checks:", "owner"]
    assert "ERROR" not in done.stdout
    # The scheme's description and the check's docstring summary are listed too.
    assert any(line.split()[:1] == ["dotenv:"] and ".env" in line for line in lines)
    assert any(
        line.split()[:1] == ["owner"] and "owner by e-mail address" in line for line in lines
    )


def test_validate_accepts_a_dotenv_reference_offline(venv: Venv, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path)  # no .env file: validate never reads it
    done = venv.run("stcheck", "validate", "--format", "json", manifest, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [r["status"] for r in results(done.stdout, "references")] == ["pass"]
    assert [r["status"] for r in results(done.stdout, "owner")] == ["pass"]


def test_validate_rejects_a_dotenv_reference_without_a_name(venv: Venv, tmp_path: Path) -> None:
    write_manifest(tmp_path, secret="dotenv:.env")
    done = venv.run("stcheck", "validate", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    (failure,) = results(done.stdout, "references")
    assert failure["status"] == "fail"
    assert failure["reason"] == "invalid_reference"
    assert "#NAME" in failure["message"]
    assert failure["location"]["line"] == SECRET_LINE
    assert failure["location"]["column"] == SECRET_COLUMN
    assert failure["location"]["pointer"] == "/tenants/0/environments/integration/client_secret"

    text = venv.run("stcheck", "validate", cwd=tmp_path)
    assert text.returncode == 1
    assert f"stcheck.yaml:{SECRET_LINE}:{SECRET_COLUMN}: fail [references]" in text.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--disable-plugin", "dotenv"), {}),
        (("--disable-plugin=dotenv",), {}),
        ((), {"STCHECK_DISABLE_PLUGINS": "owner, dotenv"}),
    ],
    ids=["option", "option=", "environment"],
)
def test_without_the_plugin_the_scheme_is_unknown(
    venv: Venv, tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    write_manifest(tmp_path)
    done = venv.run("stcheck", "validate", "--format", "json", *args, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [r for r in results(done.stdout, "references") if r["status"] == "fail"]
    assert [r["reason"] for r in failures] == ["unknown_scheme", "unknown_scheme"]
    assert all("'dotenv'" in r["message"] for r in failures)
    names = [plugin["name"] for plugin in json.loads(done.stdout)["plugins"]]
    assert "dotenv" not in names


def test_owner_check_warns_without_failing_the_run(venv: Venv, tmp_path: Path) -> None:
    write_manifest(tmp_path, owner="the ops team")
    done = venv.run("stcheck", "validate", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (warning,) = results(done.stdout, "owner")
    assert (warning["status"], warning["reason"]) == ("warn", "owner.not_an_email")
    assert warning["tenant"] == "good-plumbing"
    assert warning["location"]["line"] == 7
    assert "the ops team" not in warning["message"]  # values are pointed at, not echoed

    manifest = tmp_path / "stcheck.yaml"
    manifest.write_text(
        "\n".join(line for line in manifest.read_text().splitlines() if "owner:" not in line) + "\n"
    )
    done = venv.run("stcheck", "validate", "--format", "json", cwd=tmp_path)
    assert done.returncode == 0
    (warning,) = results(done.stdout, "owner")
    assert (warning["status"], warning["reason"]) == ("warn", "owner.missing")
    assert warning["location"]["line"] == 6


def test_owner_domain_option_added_by_the_plugin(venv: Venv, tmp_path: Path) -> None:
    write_manifest(tmp_path)
    helped = venv.run("stcheck", "validate", "--help", cwd=tmp_path)
    assert "--owner-domain DOMAIN" in helped.stdout

    done = venv.run(
        "stcheck", "validate", "--format", "json", "--owner-domain", "other.example", cwd=tmp_path
    )
    assert done.returncode == 0
    (warning,) = results(done.stdout, "owner")
    assert warning["reason"] == "owner.wrong_domain"

    done = venv.run(
        "stcheck", "validate", "--format", "json", "--owner-domain", "acme.example", cwd=tmp_path
    )
    assert [r["status"] for r in results(done.stdout, "owner")] == ["pass"]

    done = venv.run(
        "stcheck", "validate", "--owner-domain", "x", "--disable-plugin", "owner", cwd=tmp_path
    )
    assert done.returncode == 2  # the option is gone with the plugin that added it
    assert "--owner-domain" in done.stderr


def test_installed_scheme_resolves_through_the_plugin_manager(venv: Venv, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("export GP_SECRET='cs1.only-for-this-test'\n")
    script = (
        "import sys\n"
        "from stcheck.api import ResolveContext\n"
        "from stcheck.plugins import build_plugins\n"
        "scheme = build_plugins().schemes['dotenv']\n"
        "value = scheme.resolve('.env#GP_SECRET', ResolveContext(sys.argv[1]))\n"
        "print(value == 'cs1.only-for-this-test')\n"
    )
    done = venv.run("python", "-c", script, tmp_path, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_check_resolves_dotenv_references_online(venv: Venv, tmp_path: Path) -> None:
    """The CI gate's credentials check resolves dotenv: references through the plugin."""
    write_manifest(tmp_path)
    dotenv_file = tmp_path / ".env"
    dotenv_file.write_text(
        "GP_INT_CLIENT_ID=cid.5b7c1e9a\nexport GP_SECRET='cs1.Zq8xW3pLr0bN6yT2vK9m'\n"
    )
    dotenv_file.chmod(0o600)
    args = ("check", "--select", "credentials", "--format", "json")
    env = {"ST_APP_KEY": "ak1.not-a-real-app-key-for-tests"}
    done = venv.run("stcheck", *args, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    statuses = {r["status"] for r in results(done.stdout, "credentials")}
    assert statuses == {"pass"}

    write_manifest(tmp_path, secret="dotenv:.env#GP_MISSING")
    done = venv.run("stcheck", *args, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [r for r in results(done.stdout, "credentials") if r["status"] == "fail"]
    assert [r["reason"] for r in failures] == ["unresolved_reference"]
    assert "GP_MISSING is not defined in dotenv file .env" in failures[0]["message"]
    assert "Zq8xW3pLr0bN6yT2vK9m" not in done.stdout + done.stderr
    assert "5b7c1e9a" not in done.stdout + done.stderr


def test_check_confines_dotenv_files_to_the_repository(
    venv: Venv, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The installed plugin reads through ResolveContext.read_file: a link out is refused."""
    write_manifest(tmp_path)
    outside = tmp_path_factory.mktemp("outside") / "runner.env"
    outside.write_text("GP_INT_CLIENT_ID=cid.5b7c1e9a\nGP_SECRET=cs1.Zq8xW3pLr0bN6yT2vK9m\n")
    outside.chmod(0o600)
    (tmp_path / ".env").symlink_to(outside)
    args = ("check", "--select", "credentials", "--format", "json")
    env = {"ST_APP_KEY": "ak1.not-a-real-app-key-for-tests"}
    done = venv.run("stcheck", *args, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stdout + done.stderr
    failures = [r for r in results(done.stdout, "credentials") if r["status"] == "fail"]
    assert [r["reason"] for r in failures] == ["reference_not_allowed"]
    assert "dotenv file .env leads outside the repository" in failures[0]["message"]
    assert str(outside) not in done.stdout + done.stderr


# --- installed: broken plugins --------------------------------------------------------


def test_broken_plugins_are_reported_and_the_run_goes_on(
    venv: Venv, broken_site: Path, tmp_path: Path
) -> None:
    write_manifest(tmp_path)
    done = venv.run(
        "stcheck",
        "validate",
        "--format",
        "json",
        cwd=tmp_path,
        env={"PYTHONPATH": str(broken_site)},
    )
    assert done.returncode == 1, done.stdout + done.stderr  # because of the error results
    report = json.loads(done.stdout)
    errors = results(done.stdout, "plugins")
    assert {(r["status"], r["reason"]) for r in errors} == {("error", "plugin_error")}
    messages = sorted(r["message"] for r in errors)
    assert len(messages) == 2
    assert messages[0].startswith("plugin broken_import 6.6.6 ")
    assert "ImportError" in messages[0]
    assert messages[1].startswith("plugin broken_type 6.6.6 ")
    assert "stcheck_checks" in messages[1]
    assert "Check" in messages[1]
    # Everything else ran as usual, the other installed plugins included.
    assert {"schema", "references", "unique", "owner"} <= set(report["checks"]["run"])
    others = [r for r in report["results"] if r["check"] != "plugins"]
    assert {r["status"] for r in others} <= {"pass", "skip"}  # network checks skip offline
    passed = {r["check"] for r in others if r["status"] == "pass"}
    assert {"schema", "references", "unique", "owner"} <= passed
    by_name = {plugin["name"]: plugin for plugin in report["plugins"]}
    assert by_name["broken_import"]["version"] == "6.6.6"
    assert by_name["broken_import"]["error"]
    assert by_name["dotenv"]["error"] is None


def test_broken_plugins_are_shown_by_the_plugins_command(
    venv: Venv, broken_site: Path, tmp_path: Path
) -> None:
    done = venv.run("stcheck", "plugins", cwd=tmp_path, env={"PYTHONPATH": str(broken_site)})
    assert done.returncode == 0, done.stderr
    assert "broken_import 6.6.6 (installed)  ERROR: failed to import: ImportError" in done.stdout
    assert "broken_type 6.6.6 (installed)  ERROR: stcheck_checks returned str" in done.stdout


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (("--disable-plugin", "broken_import", "--disable-plugin", "broken_type"), {}),
        ((), {"STCHECK_DISABLE_PLUGINS": "broken_import,broken_type"}),
    ],
    ids=["option", "environment"],
)
def test_disabled_broken_plugins_are_not_loaded(
    venv: Venv, broken_site: Path, tmp_path: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    write_manifest(tmp_path)
    env = {"PYTHONPATH": str(broken_site), **env}
    done = venv.run("stcheck", "validate", "--format", "json", *args, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(done.stdout, "plugins") == []
    names = {plugin["name"] for plugin in json.loads(done.stdout)["plugins"]}
    assert not names & {"broken_import", "broken_type"}
    assert "dotenv" in names

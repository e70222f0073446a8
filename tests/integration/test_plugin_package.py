"""The stcheck-dotenv plugin package, installed into a fresh environment, and broken plugins.

The first part runs the installed console script (``stcheck``) of the session's
virtual environment, where stcheck and stcheck-dotenv were installed from their
wheels: entry-point discovery, the ``dotenv:`` scheme in ``validate``, the
``owner`` check and its option, the isolation of broken plugins and
``--disable-plugin``. The second part exercises the plugin's code in process:
the ``.env`` parser, the offline syntax and the online resolver.
"""

from __future__ import annotations

import importlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from stcheck.api import ResolveContext, ResolveReferenceError

from .support import PLUGIN_SRC, Venv, plugin_version

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


# --- in process: the plugin's code ----------------------------------------------------


@pytest.fixture
def dotenv(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, ModuleType]]:
    """The plugin's modules, imported from plugins/stcheck-dotenv (not installed here)."""
    monkeypatch.syspath_prepend(str(PLUGIN_SRC))
    yield {
        name: importlib.import_module(f"stcheck_dotenv.{name}")
        for name in ("parser", "scheme", "owner")
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A=1", {"A": "1"}),
        ("A = 1 ", {"A": "1"}),
        ("export A=1", {"A": "1"}),
        ("  export   A=1", {"A": "1"}),
        ("exported=1", {"exported": "1"}),
        ("A=value # comment", {"A": "value"}),
        ("A=value#not-a-comment", {"A": "value#not-a-comment"}),
        ("A=#not-a-comment", {"A": "#not-a-comment"}),
        ("A= # only a comment", {"A": ""}),
        ("A=", {"A": ""}),
        ("A='single # quoted'  # comment", {"A": "single # quoted"}),
        ("A='no \\n escapes'", {"A": "no \\n escapes"}),
        ('A="tab\\there \\"q\\" \\\\ \\$HOME"', {"A": 'tab\there "q" \\ $HOME'}),
        ('A="${NOT_EXPANDED}"', {"A": "${NOT_EXPANDED}"}),
        ('A="two\nlines"\nB=2', {"A": "two\nlines", "B": "2"}),
        ("# comment\n\n   # indented comment\nA=1", {"A": "1"}),
        ("\ufeffA=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
        ("A=1\nA=2", {"A": "2"}),
        ("A=é€", {"A": "é€"}),
    ],
)
def test_parser_values(dotenv: dict[str, ModuleType], text: str, expected: dict[str, str]) -> None:
    assert dotenv["parser"].parse(text).values == expected


def test_parser_records_malformed_lines_and_goes_on(dotenv: dict[str, ModuleType]) -> None:
    parsed = dotenv["parser"].parse(
        'A=1\nnot an assignment\nB=\'unterminated\nC=3\nD="x" trailing\n1BAD=2\nA=4\n'
    )
    assert parsed.values == {"A": "4", "C": "3"}
    assert parsed.defined_at == {"A": [1, 7], "C": [4]}
    assert parsed.malformed == [2, 3, 5, 6]


@pytest.mark.parametrize(
    ("rest", "problem"),
    [
        (".env#GP_SECRET", None),
        ("secrets/prod.env#_X1", None),
        ("dir#with#hash/.env#NAME", None),
        ("~/.config/app.env#NAME", "starts with '~'"),
        ("/etc/app.env#NAME", "absolute"),
        (".env", "'#NAME' is missing"),
        (".env#", "variable name"),
        (".env#1ABC", "variable name"),
        (".env#A-B", "variable name"),
        ("#NAME", "path before '#' is empty"),
        ("  #NAME", "path before '#' is empty"),
        ("a\x00b#NAME", "NUL"),
    ],
)
def test_syntax(dotenv: dict[str, ModuleType], rest: str, problem: str | None) -> None:
    found = dotenv["scheme"].syntax(rest)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


SECRETS = {"GP_ID": "cid.3f9a2c", "GP_SECRET": "cs1.Zq8xW3pLr0bN6yT2vK9m"}


@pytest.fixture
def env_dir(tmp_path: Path) -> Path:
    (tmp_path / ".env").write_text(
        "# test secrets\n"
        f"GP_ID={SECRETS['GP_ID']}\n"
        f'export GP_SECRET="{SECRETS["GP_SECRET"]}"\n'
        f"garbage {SECRETS['GP_SECRET']}\n"
        f"GP_ID={SECRETS['GP_ID']}\n"
    )
    (tmp_path / ".env").chmod(0o600)
    return tmp_path


class Warnings(list[tuple[str, str]]):
    def __call__(self, reason: str, message: str) -> None:
        self.append((reason, message))


def resolve_error(
    dotenv: dict[str, ModuleType], rest: str, directory: Path
) -> ResolveReferenceError:
    with pytest.raises(ResolveReferenceError) as caught:
        dotenv["scheme"].resolve(rest, ResolveContext(str(directory)))
    error = caught.value
    for secret in SECRETS.values():  # no value, and no line of the file, in any message
        assert secret not in str(error)
        assert secret[4:12] not in error.message
    return error


def test_resolve_returns_the_value(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    warnings = Warnings()
    context = ResolveContext(str(env_dir), warn=warnings)
    assert dotenv["scheme"].resolve(".env#GP_SECRET", context) == SECRETS["GP_SECRET"]
    assert warnings == []
    assert dotenv["scheme"].resolve(".env#GP_ID", context) == SECRETS["GP_ID"]
    ((reason, message),) = warnings
    assert reason == "dotenv.duplicate_name"
    assert "lines 2, 5" in message
    assert SECRETS["GP_ID"] not in message


def test_resolve_relative_to_the_manifest_directory(
    dotenv: dict[str, ModuleType], env_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (env_dir / "sub").mkdir()
    monkeypatch.chdir(env_dir / "sub")
    context = ResolveContext(str(env_dir))
    assert dotenv["scheme"].resolve(".env#GP_SECRET", context) == SECRETS["GP_SECRET"]


def test_resolve_missing_name(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    error = resolve_error(dotenv, ".env#GP_OTHER", env_dir)
    assert error.reason == "unresolved_reference"
    assert "GP_OTHER is not defined in dotenv file .env" in error.message
    assert "(line 4 is not NAME=VALUE and skipped)" in error.message


def test_resolve_missing_file(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    error = resolve_error(dotenv, "missing.env#GP_SECRET", env_dir)
    assert error.reason == "unresolved_reference"
    assert "missing.env does not exist" in error.message


def test_resolve_directory(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    (env_dir / "dir.env").mkdir()
    error = resolve_error(dotenv, "dir.env#GP_SECRET", env_dir)
    assert "not a regular file" in error.message


def test_resolve_undecodable_file_does_not_quote_its_bytes(
    dotenv: dict[str, ModuleType], tmp_path: Path
) -> None:
    (tmp_path / ".env").write_bytes(b"GP_SECRET=cs1.\xff\xfeZq8xW3pLr0bN6yT2vK9m\n")
    error = resolve_error(dotenv, ".env#GP_SECRET", tmp_path)
    assert error.reason == "unresolved_reference"
    assert "UnicodeDecodeError" in error.message
    assert "0xff" not in error.message


def test_resolve_too_large(dotenv: dict[str, ModuleType], tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=" + "x" * (1024 * 1024))
    assert "larger than 1 MiB" in resolve_error(dotenv, ".env#A", tmp_path).message


def test_resolve_invalid_reference(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    assert resolve_error(dotenv, ".env", env_dir).reason == "invalid_reference"


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_resolve_warns_about_a_readable_file(dotenv: dict[str, ModuleType], env_dir: Path) -> None:
    (env_dir / ".env").chmod(0o644)
    warnings = Warnings()
    value = dotenv["scheme"].resolve(".env#GP_SECRET", ResolveContext(str(env_dir), warnings))
    assert value == SECRETS["GP_SECRET"]
    assert warnings == [
        (
            "insecure_permissions",
            "dotenv file .env is readable by group or others (mode 644)",
        )
    ]
    assert stat.S_IMODE((env_dir / ".env").stat().st_mode) == 0o644


@pytest.mark.parametrize("how", ["dotdot", "symlink", "symlinked-directory"])
def test_resolve_is_confined_to_the_repository(
    dotenv: dict[str, ModuleType], tmp_path: Path, how: str
) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (outside / ".env").write_text(f"GP_SECRET={SECRETS['GP_SECRET']}\n")
    rest = {
        "dotdot": "../outside/.env#GP_SECRET",
        "symlink": ".env#GP_SECRET",
        "symlinked-directory": "config/.env#GP_SECRET",
    }[how]
    if how == "symlink":
        (repo / ".env").symlink_to(outside / ".env")
    elif how == "symlinked-directory":
        (repo / "config").symlink_to(outside, target_is_directory=True)
    error = resolve_error(dotenv, rest, repo)
    assert error.reason == "reference_not_allowed"
    assert "leads outside the repository that holds the manifest" in error.message
    assert str(outside) not in error.message


def test_resolve_refuses_special_files_without_hanging(
    dotenv: dict[str, ModuleType], tmp_path: Path
) -> None:
    os.mkfifo(tmp_path / "fifo.env")  # would block an open() for reading forever
    error = resolve_error(dotenv, "fifo.env#GP_SECRET", tmp_path)
    assert (error.reason, "a FIFO" in error.message) == ("reference_not_allowed", True)
    (tmp_path / "environ.env").symlink_to("/proc/self/environ")
    assert resolve_error(dotenv, "environ.env#HOME", tmp_path).reason == "reference_not_allowed"


def test_scheme_and_check_are_documented(dotenv: dict[str, ModuleType]) -> None:
    scheme = dotenv["scheme"].stcheck_reference_schemes()[0]
    assert (scheme.name, scheme.example) == ("dotenv", "dotenv:.env#GP_INT_CLIENT_SECRET")
    assert dotenv["scheme"].syntax(scheme.example.partition(":")[2]) is None
    (check,) = dotenv["owner"].stcheck_checks()
    assert check.id == "owner"
    assert check.stage == "manifest"
    assert not check.network
    assert check.summary().startswith("Every tenant names an owner")

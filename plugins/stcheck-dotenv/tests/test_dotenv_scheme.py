"""The ``dotenv:`` scheme: its offline syntax, the resolver, and what the plugin registers."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from types import ModuleType

import pytest

from stcheck.api import ResolveContext, ResolveReferenceError


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

"""The ``stcheck-validate`` pre-commit hook, run by the real pre-commit.

Two ways in, both real: ``pre-commit try-repo`` (how a hook author tries a
hook) and ``pre-commit run`` with a ``.pre-commit-config.yaml`` (how users run
it). ``try-repo`` clones the hook repository at a commit: for a local path with
uncommitted changes it commits only the *tracked* files' changes into a shadow
clone, so new, untracked files (such as a new ``.pre-commit-hooks.yaml``)
would be left out. To test exactly the working tree on disk, the session
fixture copies it (tracked and untracked files, minus .gitignore'd ones) into
a fresh repository and commits it there.

``try-repo`` builds the hook's environment (pip installs stcheck from the
snapshot) in a throw-away store on every call, so only two tests use it;
``pre-commit run`` keeps its environments in ``PRE_COMMIT_HOME``, shared by the
session, so those are built once.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from .support import REPO, clean_env, run_ok

GOOD = """\
version: 1
app:
  name: hook-demo
  app_key: env:ST_APP_KEY
tenants:
  - name: {name}
    environments:
      integration:
        tenant_id: {tenant_id}
        client_id: env:{var}_CLIENT_ID
        client_secret: env:{var}_CLIENT_SECRET
"""
BAD = """\
version: 1
app:
  name: hook-demo
  app_key: env:ST_APP_KEY
tenants:
  - name: bad-plumbing
    colour: blue
    environments:
      integration:
        tenant_id: 0123
        client_id: env:BP_CLIENT_ID
        client_secret: env:BP_CLIENT_SECRET
"""
NOT_A_MANIFEST = "just: some\nother: config\nlist: [1, 2\n"  # not even valid YAML
GIT = ("git", "-c", "user.name=stcheck tests", "-c", "user.email=tests@stcheck.invalid",
       "-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main")  # fmt: skip


def git(*args: str, cwd: Path) -> None:
    run_ok([*GIT, *args], cwd=cwd, env=clean_env())


def good(name: str, tenant_id: int) -> str:
    var = re.sub(r"[^A-Z0-9]", "_", name.upper())
    return GOOD.format(name=name, tenant_id=tenant_id, var=var)


@dataclass(frozen=True)
class HookRepo:
    path: Path
    rev: str


@pytest.fixture(scope="session")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> HookRepo:
    """A git repository holding a committed copy of the working tree (what try-repo uses)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    snapshot = tmp_path_factory.mktemp("hook-repo")
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():  # deleted-but-tracked files are left out
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git("init", "-q", cwd=snapshot)
    git("add", "-A", cwd=snapshot)
    git("commit", "-q", "-m", "snapshot of the working tree", cwd=snapshot)
    rev = run_ok(["git", "rev-parse", "HEAD"], cwd=snapshot, env=clean_env()).stdout.strip()
    return HookRepo(snapshot, rev)


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def project(directory: Path, files: dict[str, str]) -> Path:
    """A git repository with ``files`` committed."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git("init", "-q", cwd=directory)
    git("add", "-A", cwd=directory)
    git("commit", "-q", "-m", "files", cwd=directory)
    return directory


def pre_commit(
    pre_commit_home: Path, cwd: Path, *args: str | Path
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *map(str, args)],
        cwd=cwd,
        env=clean_env({"PRE_COMMIT_HOME": str(pre_commit_home)}),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def try_repo(
    hook_repo: HookRepo, pre_commit_home: Path, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    return pre_commit(
        pre_commit_home, cwd, "try-repo", hook_repo.path, "stcheck-validate", "--color=never", *args
    )


def config(hook_repo: HookRepo, *additional_dependencies: str) -> str:
    """A .pre-commit-config.yaml using the hook from the snapshot repository."""
    hook: dict[str, object] = {"id": "stcheck-validate"}
    if additional_dependencies:
        hook["additional_dependencies"] = list(additional_dependencies)
    repos = [{"repo": str(hook_repo.path), "rev": hook_repo.rev, "hooks": [hook]}]
    return yaml.safe_dump({"repos": repos})


def test_hooks_manifest_is_valid() -> None:
    run_ok(
        [sys.executable, "-m", "pre_commit", "validate-manifest", REPO / ".pre-commit-hooks.yaml"]
    )
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "stcheck-validate"
    assert hook["entry"] == "stcheck validate --pre-commit"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is True
    # one run for all the commit's manifests: unique across them
    assert hook["require_serial"] is True


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("stcheck.yaml", True),
        ("deploy/stcheck.yaml", True),
        ("prod.stcheck.yaml", True),
        ("deploy/eu/prod.stcheck.yaml", True),
        ("stcheck.yml", True),
        ("deploy/stcheck.yml", True),
        ("tenants/north.stcheck.yml", True),
        ("stcheck.yml.bak", False),
        ("stcheck.ymlx", False),
        ("config.yaml", False),
        ("mystcheck.yaml", False),
        ("stcheck.yaml.bak", False),
        ("stcheck.yaml/other.txt", False),
        (".stcheck.yaml/x", False),
    ],
)
def test_files_pattern(path: str, matches: bool) -> None:
    (hook,) = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert bool(re.search(hook["files"], path)) is matches


def test_good_manifests_pass_and_other_yaml_is_ignored(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    project(
        tmp_path,
        {
            "stcheck.yaml": good("good-plumbing", 1234567),
            "deploy/prod.stcheck.yaml": good("rapid-hvac", 2345678),
            "config.yaml": NOT_A_MANIFEST,
            "notes/stcheck.yaml.bak": NOT_A_MANIFEST,
        },
    )
    done = try_repo(hook_repo, pre_commit_home, tmp_path, "--all-files", "--verbose")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert re.search(r"stcheck validate\.+Passed", output), output
    assert "config.yaml" not in output
    assert "stcheck.yaml.bak" not in output
    # --verbose shows the hook's own output: both manifests were validated.
    summaries = re.findall(r"stcheck validate: ok — .* \((\d+) manifests?\)", output)
    assert sum(map(int, summaries)) == 2, output


def test_bad_manifest_fails_with_file_line_column_and_check(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    project(
        tmp_path,
        {
            "stcheck.yaml": good("good-plumbing", 1234567),
            "deploy/prod.stcheck.yaml": BAD,
            "config.yaml": NOT_A_MANIFEST,
        },
    )
    done = try_repo(hook_repo, pre_commit_home, tmp_path, "--all-files")
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert re.search(r"stcheck validate\.+Failed", output), output
    assert "deploy/prod.stcheck.yaml:7:5: fail [schema]" in output  # the unknown key
    assert "deploy/prod.stcheck.yaml:10:20: fail [schema]" in output  # 0123, octal in YAML 1.1
    assert "config.yaml" not in output.replace("prod.stcheck.yaml", "")


def test_run_from_a_config_checks_the_staged_files(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    project(
        tmp_path,
        {
            ".pre-commit-config.yaml": config(hook_repo),
            "stcheck.yaml": good("good-plumbing", 1234567),
            "deploy/prod.stcheck.yaml": good("rapid-hvac", 2345678),
        },
    )
    done = pre_commit(pre_commit_home, tmp_path, "run", "--all-files", "--color=never")
    assert done.returncode == 0, done.stdout + done.stderr

    # A commit that stages a broken manifest is refused: only the staged file is checked.
    (tmp_path / "deploy" / "prod.stcheck.yaml").write_text(BAD, encoding="utf-8")
    git("add", "deploy/prod.stcheck.yaml", cwd=tmp_path)
    done = pre_commit(pre_commit_home, tmp_path, "run", "--color=never")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "deploy/prod.stcheck.yaml:7:5: fail [schema]" in done.stdout
    assert re.search(r"(?m)^stcheck\.yaml:", done.stdout) is None

    done = pre_commit(pre_commit_home, tmp_path, "run", "--files", "stcheck.yaml", "--color=never")
    assert done.returncode == 0, done.stdout + done.stderr


def test_plugins_come_from_additional_dependencies(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    manifest = good("good-plumbing", 1234567).replace(
        "env:GOOD_PLUMBING_CLIENT_SECRET", "dotenv:.env#GP_CLIENT_SECRET"
    )
    assert "dotenv:" in manifest
    files = {"stcheck.yaml": manifest}

    plain = tmp_path / "plain"
    project(plain, {**files, ".pre-commit-config.yaml": config(hook_repo)})
    done = pre_commit(pre_commit_home, plain, "run", "--all-files", "--color=never")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "unknown reference scheme 'dotenv'" in done.stdout

    plugin = str(hook_repo.path / "plugins" / "stcheck-dotenv")
    with_plugin = tmp_path / "with-plugin"
    project(with_plugin, {**files, ".pre-commit-config.yaml": config(hook_repo, plugin)})
    done = pre_commit(pre_commit_home, with_plugin, "run", "--all-files", "--color=never")
    assert done.returncode == 0, done.stdout + done.stderr


TENANT = """\
- name: {name}
  environments:
    integration:
      tenant_id: {tenant_id}
      client_id: env:{var}_CLIENT_ID
      client_secret: env:{var}_CLIENT_SECRET
"""
ROOT = """\
version: 1
app:
  name: hook-demo
  app_key: env:ST_APP_KEY
include:
  - tenants/*.stcheck.yaml
"""


def tenant_file(name: str, tenant_id: int) -> str:
    var = re.sub(r"[^A-Z0-9]", "_", name.upper())
    return TENANT.format(name=name, tenant_id=tenant_id, var=var)


def test_a_changed_tenant_file_validates_the_root_that_includes_it(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    project(
        tmp_path,
        {
            ".pre-commit-config.yaml": config(hook_repo),
            "fleet/stcheck.yaml": ROOT,
            "fleet/tenants/north.stcheck.yaml": tenant_file("north", 1001),
            "fleet/tenants/south.stcheck.yaml": tenant_file("south", 1002),
        },
    )
    done = pre_commit(pre_commit_home, tmp_path, "run", "--all-files", "--color=never", "-v")
    assert done.returncode == 0, done.stdout + done.stderr
    # the root was validated once, with its two included files (3 manifests), not the
    # tenant files alone (a list is not a manifest)
    assert re.findall(r"stcheck validate: ok — .* \((\d+) manifests?\)", done.stdout) == ["3"]

    # Only south changes, and now repeats north's tenant ID: the root is validated with every
    # file it includes, so the duplicate across the two files is found.
    (tmp_path / "fleet/tenants/south.stcheck.yaml").write_text(
        tenant_file("south", 1001), encoding="utf-8"
    )
    git("add", "fleet/tenants/south.stcheck.yaml", cwd=tmp_path)
    done = pre_commit(pre_commit_home, tmp_path, "run", "--color=never")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "fleet/tenants/south.stcheck.yaml:4:18: fail [unique]" in done.stdout, done.stdout
    assert "already used by 'north' (at fleet/tenants/north.stcheck.yaml line 4)" in done.stdout
    assert "not a mapping" not in done.stdout


def test_a_yml_manifest_is_validated(
    hook_repo: HookRepo, pre_commit_home: Path, tmp_path: Path
) -> None:
    project(
        tmp_path,
        {".pre-commit-config.yaml": config(hook_repo), "stcheck.yml": BAD},
    )
    done = pre_commit(pre_commit_home, tmp_path, "run", "--all-files", "--color=never")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "stcheck.yml:7:5: fail [schema]" in done.stdout

"""What a manifest's references may reach: ``file:`` confined to the repository, ``env:`` policy.

The threat: a pull request that edits only the manifest (or files beside it)
and runs ``stcheck check`` in CI with production secrets. Each test here puts
the *real* client secret where the reference points, outside the repository,
so the old code's ``pass [credentials]`` (and a token request carrying that
file's content) is what a regression would look like.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from stcheck.redact import REDACTED

from .conftest import Harness, Outcome

ENTRY = "/tenants/0/environments/integration"


@pytest.fixture
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory beside the repository, on the same runner: never readable by a reference."""
    return tmp_path_factory.mktemp("outside")


def within(seconds: float, call: Callable[[], Outcome]) -> Outcome:
    """``call()``'s outcome, or a test failure when it has not returned after ``seconds``."""
    box: list[Outcome] = []
    worker = threading.Thread(target=lambda: box.append(call()), daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"stcheck check still running after {seconds} s: it hangs")
    return box[0]


def use_file(harness: Harness, reference: str) -> Any:
    """An entry whose client_secret is ``reference``; returns its fake client."""
    client = harness.add("a")
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = reference
    return client


def refused(
    outcome: Outcome, reason: str = "reference_not_allowed", field: str = "client_secret"
) -> dict[str, Any]:
    """The entry's credentials result, asserted to be a fail for ``reason``; no token was asked."""
    result = outcome.one("credentials", "a", "integration")
    assert (result["status"], result["reason"]) == ("fail", reason), result
    assert result["location"]["pointer"] == f"{ENTRY}/{field}"
    assert outcome.status("token", "a", "integration") == ("skip", "depends_on_failure")
    assert outcome.code == 1
    return result


def assert_no_runner_paths(outcome: Outcome, *paths: Path) -> None:
    """The messages name the reference as written, not where it led on the runner."""
    messages = " ".join(r["message"] + (r.get("hint") or "") for r in outcome.results)
    for path in paths:
        assert str(path) not in messages
        assert str(path.resolve()) not in messages


def test_absolute_path_is_refused(harness: Harness, outside: Path) -> None:
    client = use_file(harness, "")
    (outside / "secret").write_text(client.client_secret + "\n")
    reference = f"file:{outside / 'secret'}"
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = reference
    outcome = harness.run()
    result = refused(outcome, "invalid_reference")
    assert "absolute" in result["message"]
    assert outcome.status("references")[0] == "fail"  # offline too: the pre-commit hook says so
    assert harness.fake.token_requests() == []


def test_home_relative_path_is_refused(harness: Harness) -> None:
    use_file(harness, "file:~/.ssh/id_rsa")
    result = refused(harness.run(), "invalid_reference")
    assert "'~'" in result["message"]


def test_dotdot_escape_is_refused(harness: Harness, outside: Path) -> None:
    client = use_file(harness, "")
    (outside / "secret").write_text(client.client_secret)
    escape = os.path.relpath(outside / "secret", harness.dir)
    assert escape.startswith("..")
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = f"file:{escape}"
    outcome = harness.run()
    result = refused(outcome)
    assert f"file {escape} leads outside the repository" in result["message"]
    assert "symbolic link" not in result["message"]
    assert harness.fake.token_requests() == []
    assert_no_runner_paths(outcome, outside, harness.dir)


def test_symlink_inside_the_repository_pointing_outside_is_refused(
    harness: Harness, outside: Path
) -> None:
    client = use_file(harness, "file:secrets/a")
    (outside / "secret").write_text(client.client_secret)
    (harness.dir / "secrets").mkdir()
    (harness.dir / "secrets" / "a").symlink_to(outside / "secret")
    outcome = harness.run()
    result = refused(outcome)
    assert (
        "leads outside the repository that holds the manifest through a symbolic link"
        in (result["message"])
    )
    assert harness.fake.token_requests() == []
    assert_no_runner_paths(outcome, outside, harness.dir)


def test_a_symlinked_directory_leading_outside_is_refused(harness: Harness, outside: Path) -> None:
    client = use_file(harness, "file:secrets/a")
    (outside / "a").write_text(client.client_secret)
    (harness.dir / "secrets").symlink_to(outside, target_is_directory=True)
    refused(harness.run())


@pytest.mark.parametrize("how", ["relative", "symlink"])
def test_proc_self_environ_is_refused_and_the_log_is_not_blinded(
    harness: Harness, how: str
) -> None:
    if not os.path.exists("/proc/self/environ"):
        pytest.skip("no /proc on this system")
    if how == "relative":
        reference = "file:" + "../" * (len(harness.dir.parts) + 2) + "proc/self/environ"
    else:
        (harness.dir / "secrets").mkdir()
        (harness.dir / "secrets" / "env").symlink_to("/proc/self/environ")
        reference = "file:secrets/env"
    use_file(harness, reference)
    harness.add("b")
    outcome = harness.run(fmt="text", network=True)
    # Text output, so the redactor's masking (registering the environment would mask nearly
    # everything) shows: the other entry's lines are intact.
    assert outcome.code == 1
    line = next(line for line in outcome.stdout.splitlines() if "[credentials]" in line)
    assert "fail [credentials]" in line and "(a/integration)" in line
    assert REDACTED not in outcome.stdout + outcome.stderr
    assert harness.fake.token_requests(client_id=None) != []  # b's token request went out
    json_outcome = harness.run()
    refused(json_outcome)


def test_fifo_in_the_repository_is_refused_without_hanging(harness: Harness) -> None:
    use_file(harness, "file:secrets/a")
    (harness.dir / "secrets").mkdir()
    os.mkfifo(harness.dir / "secrets" / "a")
    result = refused(within(20, harness.run))
    assert "not a regular file (a FIFO)" in result["message"]


def test_device_is_refused(harness: Harness) -> None:
    use_file(harness, "file:secrets/zero")
    (harness.dir / "secrets").mkdir()
    (harness.dir / "secrets" / "zero").symlink_to("/dev/zero")
    refused(within(20, harness.run))


def test_file_larger_than_the_cap_is_refused_unread(harness: Harness) -> None:
    use_file(harness, "file:secrets/big")
    (harness.dir / "secrets").mkdir()
    (harness.dir / "secrets" / "big").write_text("x" * (64 * 1024 + 1))
    result = refused(harness.run(), "unresolved_reference")
    assert "larger than 64 KiB" in result["message"]


@pytest.mark.parametrize(
    "content",
    [
        "cs1.SECRETPART\x00tail\n",
        "first-line-of-a-file\nsecond-line-of-the-file\n",
        "cs1.SECRET\x1b[2Jcleared\n",
        "cs1.SECRET\u202eevil\n",
    ],
    ids=["nul", "line-break", "escape", "bidi-override"],
)
def test_control_characters_in_a_value_are_refused_without_echoing_it(
    harness: Harness, content: str
) -> None:
    use_file(harness, "file:secrets/a")
    (harness.dir / "secrets").mkdir()
    (harness.dir / "secrets" / "a").write_text(content)
    (harness.dir / "secrets" / "a").chmod(0o600)
    outcome = harness.run()
    result = refused(outcome, "unusable_value")
    assert "control character" in result["message"]
    words = [w for w in re.split(r"[\x00-\x1f\u202e\s\[]+", content) if len(w) >= 4]
    for word in words:
        assert word not in outcome.stdout + outcome.stderr


def test_control_characters_in_an_environment_variable_are_refused(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.setenv("T_A_INTE_SECRET", "cs1.before\x07after")
    outcome = harness.run()
    refused(outcome, "unusable_value")
    assert "before" not in outcome.stdout and "after" not in outcome.stdout


def test_a_file_in_the_git_work_tree_above_the_manifest_resolves(harness: Harness) -> None:
    """The repository is the work tree holding the manifest: ``../`` inside it is fine."""
    (harness.dir / ".git").mkdir()
    harness.manifest = harness.dir / "config" / "stcheck.yaml"
    harness.manifest.parent.mkdir()
    client = use_file(harness, "file:../secrets/a")
    (harness.dir / "secrets").mkdir()
    (harness.dir / "secrets" / "a").write_text(client.client_secret + "\n")
    (harness.dir / "secrets" / "a").chmod(0o600)
    outcome = harness.run()
    assert outcome.status("credentials", "a", "integration") == ("pass", None)
    assert outcome.status("token", "a", "integration") == ("pass", None)
    # Without the work tree, the manifest's directory is the repository.
    (harness.dir / ".git").rmdir()
    refused(harness.run())


def test_files_of_the_git_directory_are_refused(harness: Harness) -> None:
    """The red team's route to the checkout's token: ``.git/config`` holds actions/checkout's
    ``extraheader``; git's own files are never a credential, even one line long."""
    (harness.dir / ".git").mkdir()
    (harness.dir / ".git" / "token").write_text("AUTHORIZATION: basic Zm9vOmJhcg==\n")
    use_file(harness, "file:.git/token")
    result = refused(harness.run())
    assert ".git directory" in result["message"]
    assert "Zm9v" not in json.dumps(result)


# --- env: the operator's allow-list ---------------------------------------------------------


def comparable(outcome: Outcome) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "duration"} for r in outcome.results]


def test_env_policy_allows_matching_names(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.setenv("STCHECK_ENV_ALLOW", " T_APP_*, T_A_* ")
    outcome = harness.run()
    assert outcome.status("credentials", "a", "integration") == ("pass", None)
    assert outcome.code == 0


def test_env_policy_gives_the_same_answer_whether_or_not_the_variable_exists(
    harness: Harness,
) -> None:
    client = harness.add("a")
    harness.monkeypatch.setenv("STCHECK_ENV_ALLOW", "T_*")
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = "env:CI_DEPLOY_KEY"
    harness.monkeypatch.setenv("CI_DEPLOY_KEY", client.client_secret)  # exists, and is right
    existing = harness.run()
    existing_text = harness.run(fmt="text")
    harness.monkeypatch.delenv("CI_DEPLOY_KEY")
    missing = harness.run()
    missing_text = harness.run(fmt="text")
    result = refused(existing)
    assert "CI_DEPLOY_KEY is not allowed by this runner's policy" in result["message"]
    assert comparable(existing) == comparable(missing)
    assert (existing_text.code, existing_text.stdout, existing_text.stderr) == (
        missing_text.code,
        missing_text.stdout,
        missing_text.stderr,
    )
    assert harness.fake.token_requests() == []


def test_allow_env_option_adds_to_the_policy(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.setenv("STCHECK_ENV_ALLOW", "T_APP_KEY")
    refused(harness.run(), field="client_id")
    outcome = harness.run("--allow-env", "T_A_*")
    assert outcome.status("credentials", "a", "integration") == ("pass", None)


def test_allow_env_option_alone_is_a_policy(harness: Harness) -> None:
    harness.add("a")
    outcome = harness.run("--allow-env", "T_APP_KEY", "--allow-env", "T_A_INTE_ID")
    refused(outcome)
    assert "T_A_INTE_SECRET" in outcome.one("credentials", "a", "integration")["message"]


def test_an_empty_policy_allows_no_name(harness: Harness) -> None:
    """A policy variable that is set but empty (a CI variable gone missing) fails closed."""
    harness.add("a")
    harness.monkeypatch.setenv("STCHECK_ENV_ALLOW", "")
    outcome = harness.run()
    refused(outcome, field="client_id")
    app_key = next(r for r in outcome.find("credentials") if r["tenant"] is None)
    assert (app_key["status"], app_key["reason"]) == ("fail", "reference_not_allowed")


def test_env_names_are_checked_when_resolving(harness: Harness) -> None:
    harness.add("a")
    harness.monkeypatch.setenv("T-A", "x")  # the environment allows it; a reference may not
    harness.tenants["a"]["environments"]["integration"]["client_secret"] = "env:T-A"
    outcome = harness.run("--skip", "references")
    refused(outcome, "invalid_reference")

"""The plugin registered next to the built-ins with ``stcheck.api.plugin_set``, run in process.

What a plugin author's own tests look like: no installation, the real plugin
manager, the real runner — ``plugin_set`` and ``run_checks`` from
``stcheck.api`` (the ``dotenv`` fixture imports the plugin's modules from this
tree). ``tests/integration/test_plugin_package.py`` installs the wheel and runs
the console script.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from stcheck.api import RunReport, plugin_set, run_checks

SECRET = "cs1.Zq8xW3pLr0bN6yT2vK9mQ4"
CLIENT_ID = "cid.3f9a2c71be"


def manifest(directory: Path, *, owner: str | None, secret: str = "dotenv:.env#GP_SECRET") -> str:
    owner_line = f"    owner: {owner}\n" if owner is not None else ""
    path = directory / "stcheck.yaml"
    path.write_text(
        "version: 1\n"
        "app: {name: demo, app_key: dotenv:.env#APP_KEY}\n"
        "tenants:\n"
        "  - name: good-plumbing\n"
        f"{owner_line}"
        "    environments:\n"
        "      integration:\n"
        "        tenant_id: 1234567\n"
        "        client_id: dotenv:.env#GP_ID\n"
        f"        client_secret: {secret}\n",
        encoding="utf-8",
    )
    return str(path)


def of(report: RunReport, check: str) -> list[tuple[str, str | None]]:
    return [(r.status.value, r.reason) for r in report.results if r.check == check]


def test_both_plugins_register_cleanly_next_to_the_builtins(
    dotenv: dict[str, ModuleType],
) -> None:
    plugins = plugin_set(("dotenv", dotenv["scheme"]), ("owner", dotenv["owner"]))
    assert plugins.errors == []
    scheme, check = plugins.provider("schemes", "dotenv"), plugins.provider("checks", "owner")
    assert (scheme and scheme.name, check and check.name) == ("dotenv", "owner")
    assert {"schema", "references", "env", "file"} <= set(plugins.checks) | set(plugins.schemes)


@pytest.mark.parametrize(
    ("owner", "extra", "expected", "line"),
    [
        (None, {}, ("warn", "owner.missing"), 4),
        ("the ops team", {}, ("warn", "owner.not_an_email"), 5),
        (
            "ops@acme.example",
            {"owner_domain": ["other.example"]},
            ("warn", "owner.wrong_domain"),
            5,
        ),
        ("ops@acme.example", {"owner_domain": ["acme.example"]}, ("pass", None), None),
        ("ops@acme.example", {}, ("pass", None), None),
    ],
)
def test_owner_check_in_a_validate_run(
    dotenv: dict[str, ModuleType],
    tmp_path: Path,
    owner: str | None,
    extra: dict[str, list[str]],
    expected: tuple[str, str | None],
    line: int | None,
) -> None:
    plugins = plugin_set(("dotenv", dotenv["scheme"]), ("owner", dotenv["owner"]))
    report = run_checks(plugins, manifest(tmp_path, owner=owner), extra=extra)
    assert of(report, "owner") == [expected]
    assert of(report, "references") == [("pass", None)]  # dotenv: references are known
    (result,) = (r for r in report.results if r.check == "owner")
    if line is not None:  # Check.result located the warning at its pointer
        assert result.location is not None and result.location.line == line
        assert result.tenant == "good-plumbing"
    if owner is not None:
        assert owner not in result.message  # pointed at, never echoed
    assert not report.failed


def test_without_the_scheme_plugin_dotenv_references_are_unknown(
    dotenv: dict[str, ModuleType], tmp_path: Path
) -> None:
    report = run_checks(plugin_set(dotenv["owner"]), manifest(tmp_path, owner="a@b.example"))
    assert {reason for _, reason in of(report, "references")} == {"unknown_scheme"}
    assert report.failed


def test_dotenv_references_resolve_inside_the_repository_and_never_outside(
    dotenv: dict[str, ModuleType], tmp_path: Path
) -> None:
    repo, outside = tmp_path / "repo", tmp_path / "outside"
    repo.mkdir()
    outside.mkdir()
    (repo / ".env").write_text(f"APP_KEY=ak1.x9d8\nGP_ID={CLIENT_ID}\nGP_SECRET={SECRET}\n")
    (repo / ".env").chmod(0o600)
    (outside / ".env").write_text(f"GP_SECRET={SECRET}\n")
    plugins = plugin_set(("dotenv", dotenv["scheme"]))

    inside = run_checks(plugins, manifest(repo, owner=None), command="check", resolve=True)
    assert of(inside, "credentials") == [("pass", None), ("pass", None)]
    assert inside.checks_not_run.get("token") == "deselected"  # nothing connects

    path = manifest(repo, owner=None, secret="dotenv:../outside/.env#GP_SECRET")
    refused = run_checks(plugins, path, command="check", resolve=True)
    assert of(refused, "credentials") == [("pass", None), ("fail", "reference_not_allowed")]
    text = "\n".join(r.message + (r.hint or "") for r in refused.results)
    assert SECRET not in text and str(outside) not in text

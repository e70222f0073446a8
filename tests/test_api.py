"""The public plugin API: ``stcheck.api``'s surface, ``Check.result``, ``read_secret_file``.

``stcheck.api.__all__`` is the contract plugin authors rely on; the tests here
pin it, check that the old (internal) import paths still give the same
objects, that importing it stays cheap, that every public name and hook says
when it was added, and that the example plugin and the docs import only from
it. ``read_secret_file`` is tested through a scheme plugin the way a user's
run reaches it: the ``credentials`` check resolving a manifest's references.
"""

from __future__ import annotations

import ast
import inspect
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

import stcheck.api
from stcheck import hookspecs
from stcheck.api import (
    Check,
    CheckContext,
    Entry,
    ReferenceScheme,
    ResolveContext,
    ResolveReferenceError,
    Result,
    RunReport,
    Status,
    hookimpl,
    plugin_set,
    read_secret_file,
    run_checks,
)

REPO = Path(__file__).resolve().parents[1]
PLUGIN_PACKAGE = REPO / "plugins" / "stcheck-dotenv" / "stcheck_dotenv"

PUBLIC = {
    # checks
    "Check",
    "CheckContext",
    "Entry",
    "Manifest",
    "RunOptions",
    "Stage",
    # results and the run report (output formats read them)
    "Location",
    "PluginInfo",
    "Result",
    "RunReport",
    "Status",
    # reference schemes
    "ConfinedFile",
    "ReferenceScheme",
    "ResolveContext",
    "ResolveReferenceError",
    "SECRET_FILE_MAX_BYTES",
    "path_problem",
    "read_secret_file",
    # output formats
    "OutputFormat",
    # hooks
    "hookimpl",
    # testing a plugin
    "plugin_set",
    "run_checks",
}

# Where each public name was defined before stcheck.api was the one namespace:
# those paths keep working and give the very same objects.
OLD_PATHS = {
    "hookimpl": "stcheck.hookspecs",
    "Status": "stcheck.model",
    "Result": "stcheck.model",
    "Location": "stcheck.model",
    "RunReport": "stcheck.model",
    "PluginInfo": "stcheck.model",
    "Entry": "stcheck.manifest",
    "Manifest": "stcheck.manifest",
    "path_problem": "stcheck.confine",
    "plugin_set": "stcheck.testing.plugins",
    "run_checks": "stcheck.testing.plugins",
}


def test_the_public_surface_is_the_listed_set() -> None:
    assert sorted(stcheck.api.__all__) == sorted(PUBLIC)
    assert len(stcheck.api.__all__) == len(set(stcheck.api.__all__))


def test_every_public_name_imports_and_old_paths_give_the_same_object() -> None:
    namespace: dict[str, object] = {}
    exec("from stcheck.api import *", namespace)
    assert set(namespace) >= PUBLIC
    for name, module_name in OLD_PATHS.items():
        module = __import__(module_name, fromlist=[name])
        assert getattr(module, name) is getattr(stcheck.api, name), name
    with pytest.raises(AttributeError):
        stcheck.api.no_such_name  # noqa: B018 - the lazy lookup does not invent names


def test_importing_the_api_pulls_in_no_heavy_module() -> None:
    """A plugin module imports stcheck.api at load time: no YAML, HTTP stack or runner."""
    heavy = (
        "yaml",
        "requests",
        "urllib3",
        "jinja2",
        "jsonschema_rs",
        "importlib.metadata",
        "stcheck.manifest",
        "stcheck.runner",
        "stcheck.plugins",
        "stcheck.net",
    )
    probe = f"import sys, stcheck.api; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert done.stdout.strip() == "[]"


def _attribute_docs(module: object) -> dict[str, str]:
    """``NAME = ...`` followed by a string literal: the attribute docstrings of a module."""
    tree = ast.parse(inspect.getsource(module))  # type: ignore[arg-type]
    docs: dict[str, str] = {}
    for node, following in zip(tree.body, tree.body[1:], strict=False):
        if (
            isinstance(node, ast.Assign)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    docs[target.id] = following.value.value
    return docs


SINCE_0_1 = {
    "ConfinedFile",
    "SECRET_FILE_MAX_BYTES",
    "path_problem",
    "read_secret_file",
    "plugin_set",
    "run_checks",
}


def test_every_public_name_and_hook_says_when_it_was_added() -> None:
    attribute_docs = {**_attribute_docs(hookspecs), **_attribute_docs(stcheck.api)}
    for name in PUBLIC:
        value = getattr(stcheck.api, name)
        own = inspect.getdoc(value) if inspect.isclass(value) or callable(value) else None
        doc = attribute_docs.get(name) if name in attribute_docs else own
        assert doc and re.search(r"\.\. versionadded:: \d+\.\d+", doc), name
        # 0.1.0 had the types and hooks; what came after it says 0.2
        version = "0.2" if name in SINCE_0_1 else "0.1"
        assert f".. versionadded:: {version}" in doc, (name, version)
    added = {"result": "0.2", "entry_result": "0.2"}
    for method, version in added.items():
        assert f".. versionadded:: {version}" in (getattr(Check, method).__doc__ or "")
    hooks = [name for name in vars(hookspecs) if name.startswith("stcheck_")]
    assert len(hooks) == 4
    for name in hooks:  # none was added since 0.1 (git log stcheck/hookspecs.py)
        assert ".. versionadded:: 0.1" in (getattr(hookspecs, name).__doc__ or ""), name


def _stcheck_imports(tree: ast.AST) -> Iterable[tuple[str, tuple[str, ...]]]:
    """(module, names) of every import of stcheck or a submodule in ``tree``."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "stcheck":
                    yield alias.name, ()
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module.split(".")[0] == "stcheck"
        ):
            yield node.module, tuple(alias.name for alias in node.names)


def test_the_example_plugin_imports_only_from_stcheck_api() -> None:
    seen: set[str] = set()
    for path in sorted(PLUGIN_PACKAGE.glob("*.py")):
        for module, names in _stcheck_imports(ast.parse(path.read_text(encoding="utf-8"))):
            assert module == "stcheck.api", f"{path.name} imports {module}"
            assert set(names) <= PUBLIC, f"{path.name} imports {set(names) - PUBLIC}"
            seen.update(names)
    assert {"hookimpl", "Check", "ReferenceScheme"} <= seen  # the check found the imports


def test_the_plugin_guide_examples_import_only_from_stcheck_api() -> None:
    text = (REPO / "docs" / "plugins.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, re.DOTALL | re.MULTILINE)
    found = 0
    for _, block in blocks:
        for module, names in _stcheck_imports(ast.parse(textwrap.dedent(block))):
            assert module == "stcheck.api", module
            assert set(names) <= PUBLIC, set(names) - PUBLIC
            found += 1
    assert found >= 5
    # Prose pointing authors at internal modules would undo the namespace.
    for internal in ("stcheck.hookspecs import", "stcheck.model import", "build_plugins("):
        assert internal not in text, internal


# --- Check.result ----------------------------------------------------------------------


class Noted(Check):
    """A test check: one result per manifest, one per entry, built without repeating its id."""

    id = "noted"
    stage = "manifest"

    def run(self, ctx: CheckContext) -> Iterable[Result]:
        return [self.result(ctx, Status.WARN, "the app", reason="invalid_value", pointer="/app")]


class NotedEntries(Check):
    """A test check of each entry."""

    id = "noted-entries"
    stage = "entry"

    def run_entry(
        self, ctx: CheckContext, entry: Entry, prior: Sequence[Result]
    ) -> Iterable[Result]:
        return [self.entry_result(ctx, entry, Status.PASS, "fine", field="tenant_id")]


class NotedPlugin:
    @hookimpl
    def stcheck_checks(self) -> list[Check]:
        return [Noted(), NotedEntries()]


MANIFEST = """\
version: 1
app:
  name: demo
  app_key: env:APP_KEY
tenants:
  - name: good-plumbing
    environments:
      integration:
        tenant_id: 1234567
        client_id: env:GP_ID
        client_secret: env:GP_SECRET
"""


def test_check_result_fills_in_the_check_id_and_locates_the_pointer(tmp_path: Path) -> None:
    path = tmp_path / "stcheck.yaml"
    path.write_text(MANIFEST, encoding="utf-8")
    report = run_checks(plugin_set(NotedPlugin()), str(path))
    (app,) = (r for r in report.results if r.check == "noted")
    assert (app.status, app.reason, app.location and app.location.line) == (
        Status.WARN,
        "invalid_value",
        3,
    )
    assert app.hint  # the reason's remediation, as ctx.result gives it
    (entry,) = (r for r in report.results if r.check == "noted-entries")
    assert (entry.tenant, entry.environment) == ("good-plumbing", "integration")
    assert entry.location is not None and entry.location.line == 9
    assert entry.location.pointer == "/tenants/0/environments/integration/tenant_id"


def test_plugin_set_reports_a_broken_plugin_and_keeps_the_rest() -> None:
    class Typo:
        @hookimpl
        def stcheck_chekcs(self) -> list[Check]:
            return []

    plugins = plugin_set(NotedPlugin(), Typo(), NotedPlugin())
    # Two instances of one class are two plugins (named apart): the second one's ids are taken.
    assert [(p.name, p.error) for p in plugins.errors] == [
        ("Typo", plugins.errors[0].error),
        ("NotedPlugin-2", "check id 'noted' is empty or already taken"),
    ]
    assert "stcheck_chekcs, which is not a stcheck hook" in (plugins.errors[0].error or "")
    assert {"noted", "noted-entries", "schema"} <= set(plugins.checks)
    assert plugins.provider("checks", "noted") is plugins.plugins[-3]
    alone = plugin_set(NotedPlugin(), builtins=False)
    assert set(alone.checks) == {"noted", "noted-entries"} and not alone.schemes


# --- read_secret_file, through a scheme plugin ---------------------------------------

SECRET = "cs1.Rk2pQ8vX4mN7bT1yW6zL3s"


def _mounted(rest: str, context: ResolveContext) -> str:
    return read_secret_file(context, rest, what="mounted secret")


MOUNTED = ReferenceScheme(
    "mounted", "a mounted secret file", "mounted:secrets/app", stcheck.api.path_problem, _mounted
)


class MountedPlugin:
    @hookimpl
    def stcheck_reference_schemes(self) -> list[ReferenceScheme]:
        return [MOUNTED]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository (its own git work tree) with three secret files and a manifest using them."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    secrets = root / "secrets"
    secrets.mkdir()
    for name, value in (("app", "ak1.9x8c7v"), ("id", "cid.4b3a2f"), ("secret", SECRET)):
        (secrets / name).write_text(value + "\n", encoding="utf-8")
        (secrets / name).chmod(0o600)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_text(SECRET + "\n", encoding="utf-8")
    return root


def credentials(repo: Path, secret_reference: str) -> tuple[list[tuple[str, str | None]], str]:
    """The credentials results of a run whose client secret is ``secret_reference``."""
    path = repo / "config" / "stcheck.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        MANIFEST.replace("env:APP_KEY", "mounted:../secrets/app")
        .replace("env:GP_ID", "mounted:../secrets/id")
        .replace("env:GP_SECRET", secret_reference),
        encoding="utf-8",
    )
    report: RunReport = run_checks(
        plugin_set(MountedPlugin()), str(path), command="check", resolve=True
    )
    results = [r for r in report.results if r.check == "credentials"]
    text = "\n".join(f"{r.message} {r.hint}" for r in report.results)
    assert SECRET not in text and SECRET[4:14] not in text
    return [(r.status.value, r.reason) for r in results], text


def test_read_secret_file_reads_a_file_inside_the_repository(repo: Path) -> None:
    found, _ = credentials(repo, "mounted:../secrets/secret")
    assert found == [("pass", None), ("pass", None)]
    # one trailing newline dropped, as file: does; nothing else changed
    context = ResolveContext(str(repo / "config"))
    assert MOUNTED.resolve is not None
    assert MOUNTED.resolve("../secrets/secret", context) == SECRET


@pytest.mark.parametrize(
    ("how", "reason", "said"),
    [
        ("outside", "reference_not_allowed", "leads outside the repository"),
        ("link-outside", "reference_not_allowed", "through a symbolic link"),
        ("proc", "reference_not_allowed", "leads outside the repository"),
        ("fifo", "reference_not_allowed", "a FIFO"),
        ("absolute", "invalid_reference", "absolute"),
        ("large", "unresolved_reference", "larger than 64 KiB"),
        ("two-lines", "unusable_value", "control character"),
        ("missing", "unresolved_reference", "mounted secret ../secrets/nope does not exist"),
    ],
)
def test_read_secret_file_refuses_what_file_references_refuse(
    repo: Path, how: str, reason: str, said: str
) -> None:
    secrets = repo / "secrets"
    outside = repo.parent / "outside" / "secret"
    reference = {
        "outside": "mounted:../../outside/secret",
        "absolute": f"mounted:{outside}",
        "missing": "mounted:../secrets/nope",
    }.get(how, f"mounted:../secrets/{how}")
    if how == "link-outside":
        (secrets / how).symlink_to(outside)
    elif how == "proc":
        (secrets / how).symlink_to("/proc/self/environ")
    elif how == "fifo":
        os.mkfifo(secrets / how)  # an open() for reading would block forever
    elif how == "large":
        (secrets / how).write_text("x" * (64 * 1024 + 1))
    elif how == "two-lines":
        (secrets / how).write_text(f"{SECRET}\nsecond line\n")
    found, text = credentials(repo, reference)
    assert found == [("pass", None), ("fail", reason)]
    assert said in text
    assert str(repo.parent) not in text.replace(f"mounted:{outside}", "")  # runner paths unsaid


def test_read_secret_file_warns_about_a_file_others_may_read(repo: Path) -> None:
    (repo / "secrets" / "secret").chmod(0o644)
    warnings: list[tuple[str, str]] = []
    context = ResolveContext(
        str(repo), warn=lambda reason, message: warnings.append((reason, message))
    )
    assert read_secret_file(context, "secrets/secret", what="mounted secret") == SECRET
    assert warnings == [
        (
            "insecure_permissions",
            "mounted secret secrets/secret is readable by group or others (mode 644)",
        )
    ]
    found, _ = credentials(repo, "mounted:../secrets/secret")
    assert found == [("pass", None), ("warn", "insecure_permissions")]


def test_read_secret_file_errors_are_resolve_reference_errors(repo: Path) -> None:
    with pytest.raises(ResolveReferenceError) as caught:
        read_secret_file(ResolveContext(str(repo)), "~/.ssh/id_rsa")
    assert caught.value.reason == "invalid_reference"

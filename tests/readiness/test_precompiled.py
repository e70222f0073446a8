"""The HTML report's templates run precompiled, and only while they are current."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from stcheck.readiness import VERDICT_WORDS, TenantReadiness
from stcheck.reporters import precompiled
from stcheck.reporters.html import SYMBOLS, template_environment


def test_the_precompiled_modules_are_what_the_templates_compile_to() -> None:
    files = precompiled.generate(template_environment())
    assert set(files) == {"report_html_j2.py", "report_tenant_html_j2.py", "stamps.py"}
    for name, text in files.items():
        assert (precompiled.HERE / name).read_text(encoding="utf-8") == text, (
            "regenerate: python -m stcheck.reporters.precompiled"
        )


def test_a_current_template_runs_its_precompiled_module() -> None:
    environment = template_environment()
    for name in precompiled.TEMPLATES:
        template = environment.get_template(name)
        assert Path(template.filename or "").name == f"{precompiled.module_name(name)}.py"


class EditedLoader(precompiled.Loader):
    """The templates as a developer edits them, before regenerating the modules."""

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        source, filename, uptodate = super().get_source(environment, template)
        edited = source.replace("Back to the top", "Back to the top (edited)")
        return edited, filename, uptodate


def test_an_edited_template_is_compiled_from_its_source_not_run_stale() -> None:
    environment = template_environment()
    environment.loader = EditedLoader()
    template = environment.get_template("report_tenant.html.j2")
    assert not (template.filename or "").endswith(".py")
    name = "report_tenant.html.j2"
    source, _, _ = environment.loader.get_source(environment, name)
    assert precompiled._current_code(environment, name, source) is None
    tenant = TenantReadiness(tenant="t-1", owner=None, verdict="ready", items=())
    text = template.render(t=tenant, n=1, symbols=SYMBOLS, verdict_words=VERDICT_WORDS)
    assert "Back to the top (edited)" in text


def test_other_environment_settings_compile_from_the_source() -> None:
    """Autoescaping is decided when a template is compiled: code compiled with it on never
    runs in an environment with it off, nor the other way round."""
    environment = template_environment()
    environment.autoescape = False
    template = environment.get_template("report_tenant.html.j2")
    assert not (template.filename or "").endswith(".py")


def test_another_jinja2_compiles_from_the_source(monkeypatch: Any) -> None:
    """Code Jinja2 generated is only for the Jinja2 that generated it."""
    monkeypatch.setattr(jinja2, "__version__", "99.0")
    environment = template_environment()
    template = environment.get_template("report.html.j2")
    assert not (template.filename or "").endswith(".py")

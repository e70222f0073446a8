"""The readiness formats are wired into the real registry, not only by the test shim.

Checked against the registry as shipped (captured in conftest.py before its shim can
patch anything): ``stcheck.reporters.report_formats`` is one of
``stcheck/plugins.py``'s default plugins, and the built-in ``markdown`` format of
``stcheck/reporters/builtin.py`` renders the readiness report for ``stcheck report``
and the check summary for other commands.
"""

from __future__ import annotations

from stcheck.model import RunReport
from stcheck.readiness import TenantReadiness

from .conftest import SHIPPED_DEFAULT_PLUGINS, SHIPPED_OUTPUT_FORMATS


def test_report_formats_plugin_is_a_default_plugin() -> None:
    assert "stcheck.reporters.report_formats" in SHIPPED_DEFAULT_PLUGINS


def test_markdown_renders_readiness_for_report_only() -> None:
    markdown = next(f for f in SHIPPED_OUTPUT_FORMATS() if f.name == "markdown")
    tenants = (TenantReadiness("good-plumbing", None, "ready", ()),)
    report = RunReport("0.1.0", "report", ("stcheck.yaml",), (), readiness=tenants)
    assert "Go-live readiness" in markdown.render(report)
    check = RunReport("0.1.0", "check", ("stcheck.yaml",), ())
    assert "Go-live readiness" not in markdown.render(check)

"""stcheck: keep a ServiceTitan API integration honest.

A YAML manifest of tenants, environments and credential references is
validated against a published JSON Schema; pluggable checks prove, per entry,
that hosts resolve, client pairs obtain tokens from the right environment and
the app key + token + tenant work on a cheap API probe; a readiness report
says whether each tenant can go live.
"""

__version__ = "0.1.0"  # the one version source: pyproject.toml reads it (tool.hatch.version)

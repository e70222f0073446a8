"""``stcheck plugins``: what is loaded — plugins, versions, checks, schemes, formats."""

from __future__ import annotations

from stcheck.plugins import PluginSet


def render_plugins(plugins: PluginSet) -> str:
    lines = ["plugins:"]
    for plugin in plugins.plugins:
        kind = "built-in" if plugin.builtin else "installed"
        version = plugin.version or "unknown version"
        status = f"  ERROR: {plugin.error}" if plugin.error else ""
        lines.append(f"  {plugin.name} {version} ({kind}){status}")
        provided = [
            ("checks", plugin.checks),
            ("schemes", [f"{s}:" for s in plugin.schemes]),
            ("formats", plugin.formats),
        ]
        for label, items in provided:
            if items:
                lines.append(f"      {label}: {', '.join(items)}")
    lines.append("")
    lines.append("checks:")
    for check_id, check in plugins.checks.items():
        where = "network/secrets" if check.network else "offline"
        lines.append(f"  {check_id:<12} [{check.stage}, {where}] {check.summary()}")
    lines.append("")
    lines.append("reference schemes:")
    for name, scheme in plugins.schemes.items():
        lines.append(f"  {name + ':':<12} {scheme.description} (e.g. {scheme.example})")
    lines.append("")
    lines.append("output formats:")
    for name, output in plugins.formats.items():
        lines.append(f"  {name:<12} {output.description} [{', '.join(sorted(output.commands))}]")
    return "\n".join(lines) + "\n"


def reference_markdown() -> str:
    """docs/reference.md: every built-in check (its docstring) and the reason vocabulary.

    Regenerate with ``python -m stcheck.introspect > docs/reference.md``; a test
    keeps the file in step with the code.
    """
    import inspect

    from stcheck.plugins import build_plugins
    from stcheck.reasons import REASONS

    plugins = build_plugins(load_installed=False)
    lines = [
        "# stcheck reference: checks and reasons",
        "",
        "Generated from the code by `python -m stcheck.introspect > docs/reference.md`.",
        "",
        "## Checks",
        "",
    ]
    for check_id, check in plugins.checks.items():
        where = "needs the network and secrets" if check.network else "offline"
        lines += [f"### `{check_id}`", "", f"*Stage {check.stage}, {where}.*", ""]
        lines += [inspect.getdoc(type(check)) or "", ""]
    lines += [
        "## Reasons",
        "",
        "Every result that is not `pass` carries one of these words in `reason`.",
        "",
        "| reason | meaning | what to do |",
        "|---|---|---|",
    ]
    for word, reason in REASONS.items():
        lines.append(f"| `{word}` | {reason.meaning} | {reason.hint} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    sys.stdout.write(reference_markdown())

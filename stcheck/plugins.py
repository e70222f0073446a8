"""Building the plugin manager for one run, with every plugin's failures isolated.

Built-ins come from :data:`DEFAULT_PLUGINS`, third-party plugins from the
entry-point group ``stcheck`` of installed packages (never from the checked
repository). Each plugin's hooks are called one plugin at a time, so a plugin
that raises or returns the wrong type is reported — by name and version — and
left out, while the others go on.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pluggy

from stcheck import hookspecs
from stcheck.api import Check, OutputFormat, ReferenceScheme

ENTRY_POINT_GROUP = "stcheck"

# The built-in plugins, in order. Each is a module implementing hooks.
DEFAULT_PLUGINS: tuple[str, ...] = (
    "stcheck.checks.schema",
    "stcheck.checks.references",
    "stcheck.checks.unique",
    "stcheck.checks.credentials",
    "stcheck.checks.dns",
    "stcheck.checks.token",
    "stcheck.checks.api",
    "stcheck.checks.golive",
    "stcheck.schemes",
    "stcheck.reporters.builtin",
    "stcheck.reporters.report_formats",
)

T = TypeVar("T")


@dataclass
class LoadedPlugin:
    name: str
    version: str | None
    builtin: bool
    module: Any = None
    error: str | None = None
    checks: list[str] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)


@dataclass
class PluginSet:
    """What the plugins of this run provide, and which plugins failed."""

    manager: pluggy.PluginManager
    plugins: list[LoadedPlugin]
    checks: dict[str, Check] = field(default_factory=dict)
    schemes: dict[str, ReferenceScheme] = field(default_factory=dict)
    formats: dict[str, OutputFormat] = field(default_factory=dict)

    @property
    def errors(self) -> list[LoadedPlugin]:
        return [plugin for plugin in self.plugins if plugin.error]

    def add_options(self, parser: argparse.ArgumentParser, command: str) -> None:
        for plugin in self.plugins:
            if plugin.error or plugin.module is None:
                continue
            hook = getattr(plugin.module, "stcheck_add_options", None)
            if hook is None:
                continue
            try:
                hook(parser=parser, command=command)
            except argparse.ArgumentError as exc:
                plugin.error = f"stcheck_add_options failed: {exc}"
            except Exception as exc:
                plugin.error = f"stcheck_add_options raised {type(exc).__name__}: {exc}"


def _installed_plugins(disabled: set[str]) -> Iterable[tuple[str, str | None, Callable[[], Any]]]:
    from stcheck.entrypoints import find_entry_points

    for entry_point in find_entry_points(ENTRY_POINT_GROUP):
        if entry_point.name in disabled or entry_point.distribution in disabled:
            continue
        yield entry_point.name, entry_point.version, entry_point.load


def build_plugins(
    *,
    load_installed: bool = True,
    disabled: Sequence[str] = (),
    extra: Sequence[tuple[str, Any]] = (),
) -> PluginSet:
    """Load built-in and installed plugins (minus ``disabled``) and collect what they provide.

    ``extra`` registers (name, module-or-object) pairs directly — for tests
    and embedding.
    """
    from stcheck import __version__

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    disabled_set = set(disabled)
    plugins: list[LoadedPlugin] = []
    for module_name in DEFAULT_PLUGINS:
        short = module_name.rsplit(".", 1)[-1]
        if short in disabled_set or module_name in disabled_set:
            continue
        module = importlib.import_module(module_name)
        plugins.append(LoadedPlugin(module_name, __version__, True, module))
    if load_installed:
        for name, version, load in _installed_plugins(disabled_set):
            plugin = LoadedPlugin(name, version, False)
            try:
                plugin.module = load()
            except Exception as exc:
                plugin.error = f"failed to import: {type(exc).__name__}: {exc}"
            plugins.append(plugin)
    for name, module in extra:
        plugins.append(LoadedPlugin(name, getattr(module, "__version__", None), False, module))
    for plugin in plugins:
        if plugin.module is None:
            continue
        try:
            manager.register(plugin.module, name=plugin.name)
        except Exception as exc:
            plugin.error = f"failed to register: {type(exc).__name__}: {exc}"
    result = PluginSet(manager, plugins)
    _collect(result)
    return result


def _call(plugin: LoadedPlugin, hook_name: str, kind: type[T]) -> list[T]:
    hook = getattr(plugin.module, hook_name, None)
    if hook is None or plugin.error:
        return []
    try:
        returned = hook()
        items = list(returned or ())
    except Exception as exc:
        plugin.error = f"{hook_name} raised {type(exc).__name__}: {exc}"
        return []
    wrong = [item for item in items if not isinstance(item, kind)]
    if wrong:
        plugin.error = (
            f"{hook_name} returned {type(wrong[0]).__name__}, expected {kind.__name__} instances"
        )
        return []
    return items


def _collect(plugin_set: PluginSet) -> None:
    for plugin in plugin_set.plugins:
        for check in _call(plugin, "stcheck_checks", Check):
            _claim(plugin, "check id", check.id, check, plugin_set.checks, plugin.checks)
        for scheme in _call(plugin, "stcheck_reference_schemes", ReferenceScheme):
            _claim(
                plugin, "reference scheme", scheme.name, scheme, plugin_set.schemes, plugin.schemes
            )
        for output in _call(plugin, "stcheck_output_formats", OutputFormat):
            _claim(plugin, "output format", output.name, output, plugin_set.formats, plugin.formats)


def _claim(
    plugin: LoadedPlugin,
    what: str,
    name: str,
    item: T,
    registry: dict[str, T],
    provided: list[str],
) -> None:
    """Register ``item`` under ``name`` unless the name is empty or another plugin has it."""
    if not name or name in registry:
        plugin.error = f"{what} {name!r} is empty or already taken"
        return
    registry[name] = item
    provided.append(name)

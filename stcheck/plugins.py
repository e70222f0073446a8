"""Building the plugin manager for one run, with every plugin's failures isolated.

Built-ins come from :data:`DEFAULT_PLUGINS`, third-party plugins from the
entry-point group ``stcheck`` of installed packages (never from the checked
repository: :mod:`stcheck.entrypoints`). Hooks are called from the plugin
manager's hook implementations (``pm.hook.NAME.get_hookimpls()``) — so
``specname=`` and ``tryfirst``/``trylast`` work as pluggy documents — one
implementation at a time, with the arguments it names, so a plugin that raises
(``SystemExit`` included), returns the wrong type or implements a hook that
does not exist is reported — by name and version — and left out, while the
others go on.

When no plugin but the built-ins takes part (no entry point installed, none
given to :func:`build_plugins`), no plugin manager is built: the built-in
modules implement only the hooks the specs name, with no ``specname`` or
ordering marks (a test compares both paths), so their hook implementations
are read straight from the hook names — which saves the manager's scan of
every attribute of every module on each start of the pre-commit hook, and
importing pluggy at all (:class:`stcheck.hookspecs.HookimplMarker` marks
functions without it).
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from stcheck import hookspecs
from stcheck.api import Check, OutputFormat, ReferenceScheme
from stcheck.boundary import Boundary, describe
from stcheck.record import field, record
from stcheck.text import clipped, shown

if TYPE_CHECKING:
    import pluggy

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
)

BUILTIN_MODULES: Mapping[str, str] = {"stcheck.checks.api": "stcheck.checks.probe"}
"""Built-in plugins whose module was renamed: the plugin keeps its published name.

``stcheck plugins`` shows, and ``--disable-plugin`` accepts, the name; the module is
where the code lives now.
"""

T = TypeVar("T")


@record
class LoadedPlugin:
    name: str
    version: str | None
    builtin: bool
    module: Any = None
    error: str | None = None
    checks: list[str] = field(default_factory=list)
    schemes: list[str] = field(default_factory=list)
    formats: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """``name version``, as messages name the plugin."""
        return f"{self.name} {self.version}" if self.version else self.name


@record
class PluginSet:
    """What the plugins of this run provide, and which plugins failed."""

    manager: pluggy.PluginManager | None
    """None when only the built-ins take part (see the module docstring)."""
    plugins: list[LoadedPlugin]
    checks: dict[str, Check] = field(default_factory=dict)
    schemes: dict[str, ReferenceScheme] = field(default_factory=dict)
    formats: dict[str, OutputFormat] = field(default_factory=dict)

    @property
    def errors(self) -> list[LoadedPlugin]:
        return [plugin for plugin in self.plugins if plugin.error]

    def provider(self, kind: str, name: str) -> LoadedPlugin | None:
        """The plugin that provides check, scheme or format ``name`` (``kind`` says which)."""
        for plugin in self.plugins:
            if name in getattr(plugin, kind):
                return plugin
        return None

    def is_builtin(self, kind: str, name: str) -> bool:
        plugin = self.provider(kind, name)
        return plugin is not None and plugin.builtin

    def add_options(self, parser: argparse.ArgumentParser, command: str) -> None:
        """Call every plugin's ``stcheck_add_options``; a plugin whose hook fails is left out."""
        for plugin, _ in _call_each(self, "stcheck_add_options", parser=parser, command=command):
            if plugin.error:
                _leave_out(self, plugin)

    def leave_out(self, plugin: LoadedPlugin, error: str) -> None:
        """Mark ``plugin`` failed and remove what it provided from this run."""
        plugin.error = plugin.error or error
        _leave_out(self, plugin)


def _installed_plugins(
    disabled: set[str], untrusted: Sequence[str]
) -> Iterable[tuple[str, str | None, Callable[[], Any]]]:
    import sys

    from stcheck.entrypoints import find_entry_points, trusted_path, untrusted_directories

    path = trusted_path(sys.path, untrusted_directories(untrusted))
    for entry_point in find_entry_points(ENTRY_POINT_GROUP, path):
        if entry_point.name in disabled or entry_point.distribution in disabled:
            continue
        yield entry_point.name, entry_point.version, entry_point.load


def build_plugins(
    *,
    load_installed: bool = True,
    disabled: Sequence[str] = (),
    extra: Sequence[tuple[str, Any]] = (),
    untrusted: Sequence[str] = (),
) -> PluginSet:
    """Load built-in and installed plugins (minus ``disabled``) and collect what they provide.

    ``extra`` registers (name, module-or-object) pairs directly — for tests
    and embedding. ``untrusted`` names the manifests to be checked: their
    directories and git work trees are never searched for plugins (nor is the
    working directory, nor a relative ``sys.path`` entry).
    """
    from stcheck import __version__

    disabled_set = set(disabled)
    plugins: list[LoadedPlugin] = []
    for plugin_name in DEFAULT_PLUGINS:
        short = plugin_name.rsplit(".", 1)[-1]
        module_name = BUILTIN_MODULES.get(plugin_name, plugin_name)
        if disabled_set & {short, plugin_name, module_name}:
            continue
        module = importlib.import_module(module_name)
        plugins.append(LoadedPlugin(plugin_name, __version__, True, module))
    if load_installed:
        for name, version, load in _installed_plugins(disabled_set, untrusted):
            plugin = LoadedPlugin(name, version, False)
            with Boundary() as boundary:
                plugin.module = load()
            if boundary.failure is not None:
                plugin.module = None
                plugin.error = f"failed to import: {describe(boundary.failure)}"
            plugins.append(plugin)
    for name, module in extra:
        plugins.append(LoadedPlugin(name, getattr(module, "__version__", None), False, module))
    if all(plugin.builtin for plugin in plugins):
        result = PluginSet(None, plugins)
    else:
        result = PluginSet(_registered(plugins), plugins)
    _collect(result)
    return result


def _registered(plugins: list[LoadedPlugin]) -> pluggy.PluginManager:
    """A plugin manager with every loadable plugin registered; failures marked on the plugin."""
    import pluggy  # with its import of inspect, ~10 ms: only when a plugin takes part

    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    for plugin in plugins:
        if plugin.module is None:
            continue
        with Boundary() as boundary:
            manager.register(plugin.module, name=plugin.name)
        if boundary.failure is not None:
            plugin.error = f"failed to register: {describe(boundary.failure)}"
            _unregister(manager, plugin)
            continue
        unknown = _unknown_hooks(manager, plugin)
        if unknown:
            plugin.error = (
                f"implements {', '.join(unknown)}, which is not a stcheck hook"
                f" (a typo? the hooks are {', '.join(_hook_names())})"
            )
            _unregister(manager, plugin)
    manager.check_pending()  # every plugin left registered implements only hooks that exist
    return manager


# The functional form: under ``from __future__ import annotations`` the class form's string
# annotations are compiled, one by one, on every start (ForwardRef).
_BuiltinImpl = NamedTuple(  # noqa: UP014 - see above
    "_BuiltinImpl",
    [
        ("plugin", Any),
        ("function", Callable[..., Any]),
        ("argnames", tuple[str, ...]),
        ("wrapper", bool),
        ("hookwrapper", bool),
        ("tryfirst", bool),
        ("trylast", bool),
    ],
)
_BuiltinImpl.__doc__ = (
    "A built-in hook implementation, with the attributes of ``pluggy.HookImpl`` used here."
)


def _argnames(function: Callable[..., Any]) -> tuple[str, ...]:
    """A module function's positional parameters without a default, as ``HookImpl.argnames``."""
    code = function.__code__
    names = code.co_varnames[: code.co_argcount]
    defaults = function.__defaults__
    return names[: len(names) - len(defaults)] if defaults else names


def _builtin_impls(plugins: list[LoadedPlugin], hook_name: str) -> list[_BuiltinImpl]:
    """The built-ins' implementations of ``hook_name``, as the manager would list them."""
    impls: list[_BuiltinImpl] = []
    for plugin in plugins:
        function = getattr(plugin.module, hook_name, None)
        opts = getattr(function, f"{hookspecs.PROJECT}_impl", None)
        if plugin.error is None and plugin.module is not None and isinstance(opts, dict):
            assert function is not None
            impls.append(
                _BuiltinImpl(
                    plugin.module,
                    function,
                    _argnames(function),
                    opts["wrapper"],
                    opts["hookwrapper"],
                    opts["tryfirst"],
                    opts["trylast"],
                )
            )
    return impls


def _hook_names() -> list[str]:
    return sorted(name for name in vars(hookspecs) if name.startswith("stcheck_"))


def _unknown_hooks(manager: pluggy.PluginManager, plugin: LoadedPlugin) -> list[str]:
    """The hooks ``plugin`` implements that have no hookspec (what ``check_pending`` rejects)."""
    unknown: list[str] = []
    for caller in manager.get_hookcallers(plugin.module) or ():
        if caller.has_spec():
            continue
        for impl in caller.get_hookimpls():
            if impl.plugin is plugin.module and not impl.optionalhook:
                unknown.append(clipped(caller.name))
    return sorted(set(unknown))


def _unregister(manager: pluggy.PluginManager | None, plugin: LoadedPlugin) -> None:
    if manager is not None and manager.get_plugin(plugin.name) is not None:
        manager.unregister(name=plugin.name)


def _rank(impls: list[Any]) -> int:
    """0 for a plugin with a ``tryfirst`` implementation, 2 for only ``trylast`` ones, else 1."""
    if any(impl.tryfirst for impl in impls):
        return 0
    return 2 if impls and all(impl.trylast for impl in impls) else 1


def _call_each(
    plugin_set: PluginSet, hook_name: str, **kwargs: Any
) -> list[tuple[LoadedPlugin, list[Any]]]:
    """Call hook ``hook_name`` of each working plugin alone: its hookimpls, in pluggy's order.

    Order: built-in plugins first (their check ids, schemes and formats are
    never taken over), then the others — ``tryfirst`` before ``trylast``, in
    load order otherwise. Each implementation gets the arguments it names, as
    pluggy passes them. A plugin whose hook raises (anything, ``SystemExit``
    included), or that declares a hook wrapper (each plugin is called alone:
    there is nothing to wrap), gets an error and no results.
    """
    manager = plugin_set.manager
    if manager is None:
        impls = _builtin_impls(plugin_set.plugins, hook_name)
    else:
        impls = list(reversed(getattr(manager.hook, hook_name).get_hookimpls()))
    by_plugin: list[tuple[LoadedPlugin, list[Any]]] = []
    for plugin in plugin_set.plugins:
        if plugin.error or plugin.module is None:
            continue
        mine = [impl for impl in impls if impl.plugin is plugin.module]
        if mine:
            by_plugin.append((plugin, mine))
    by_plugin.sort(key=lambda pair: (not pair[0].builtin, _rank(pair[1])))
    called: list[tuple[LoadedPlugin, list[Any]]] = []
    for plugin, mine in by_plugin:
        if any(impl.hookwrapper or impl.wrapper for impl in mine):
            plugin.error = f"{hook_name}: hook wrappers are not supported by stcheck's hooks"
            called.append((plugin, []))
            continue
        returned: list[Any] = []
        with Boundary() as boundary:
            for impl in mine:
                returned.append(impl.function(*[kwargs[name] for name in impl.argnames]))
        if boundary.failure is not None:
            failure = boundary.failure
            if isinstance(failure, argparse.ArgumentError):
                plugin.error = f"{hook_name} failed: {clipped(str(failure), 300)}"
            else:
                plugin.error = f"{hook_name} raised {describe(failure)}"
            returned = []
        called.append((plugin, returned))
    return called


def _items(plugin: LoadedPlugin, hook_name: str, returned: list[Any], kind: type[T]) -> list[T]:
    """The items the plugin's implementations of ``hook_name`` returned, if all are ``kind``."""
    items: list[Any] = []
    with Boundary() as boundary:
        for value in returned:
            items.extend(value or ())
    if boundary.failure is not None:
        plugin.error = f"{hook_name} raised {describe(boundary.failure)}"
        return []
    wrong = [item for item in items if not isinstance(item, kind)]
    if wrong:
        plugin.error = (
            f"{hook_name} returned {type(wrong[0]).__name__}, expected {kind.__name__} instances"
        )
        return []
    return items


def _collect(plugin_set: PluginSet) -> None:
    for plugin, returned in _call_each(plugin_set, "stcheck_checks"):
        for check in _items(plugin, "stcheck_checks", returned, Check):
            _claim(plugin, "check id", check.id, check, plugin_set.checks, plugin.checks)
    for plugin, returned in _call_each(plugin_set, "stcheck_reference_schemes"):
        for scheme in _items(plugin, "stcheck_reference_schemes", returned, ReferenceScheme):
            _claim(
                plugin, "reference scheme", scheme.name, scheme, plugin_set.schemes, plugin.schemes
            )
    for plugin, returned in _call_each(plugin_set, "stcheck_output_formats"):
        for output in _items(plugin, "stcheck_output_formats", returned, OutputFormat):
            _claim(plugin, "output format", output.name, output, plugin_set.formats, plugin.formats)
    for plugin in plugin_set.errors:
        _leave_out(plugin_set, plugin)


def _leave_out(plugin_set: PluginSet, plugin: LoadedPlugin) -> None:
    """Remove what a failed plugin provided: a half-working plugin does not run."""
    for names, registry in (
        (plugin.checks, plugin_set.checks),
        (plugin.schemes, plugin_set.schemes),
        (plugin.formats, plugin_set.formats),
    ):
        for name in names:
            registry.pop(name, None)
        names.clear()
    _unregister(plugin_set.manager, plugin)


def _claim(
    plugin: LoadedPlugin,
    what: str,
    name: str,
    item: T,
    registry: dict[str, T],
    provided: list[str],
) -> None:
    """Register ``item`` under ``name`` unless the name is empty or another plugin has it."""
    if plugin.error:
        return
    if not isinstance(name, str) or not name or name in registry:
        plugin.error = f"{what} {shown(name)} is empty or already taken"
        return
    registry[name] = item
    provided.append(name)

"""Testing a plugin in process: its own plugin set, and an offline run over a manifest.

What stcheck's own tests do to register a test plugin next to the built-ins,
for plugin authors (re-exported as :func:`stcheck.api.plugin_set` and
:func:`stcheck.api.run_checks`)::

    from stcheck.api import Status, plugin_set, run_checks
    import my_plugin

    plugins = plugin_set(my_plugin)
    assert not plugins.errors                  # it imported, registered, returned the right types
    report = run_checks(plugins, "stcheck.yaml")
    assert {r.status for r in report.results if r.check == "mine"} == {Status.PASS}

Installed plugins are never loaded here: a test sees the built-ins and what it
names, whatever else is installed in the environment running the tests.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stcheck.model import RunReport
    from stcheck.plugins import PluginSet


def _name(plugin: object) -> str:
    name = getattr(plugin, "__name__", None)  # a module (or a class used as a plugin)
    return name if isinstance(name, str) else type(plugin).__name__


def plugin_set(*plugins: object, builtins: bool = True) -> PluginSet:
    """The plugins of a test run: stcheck's built-ins (unless ``builtins=False``) and ``plugins``.

    Each plugin is a module or an object whose methods are decorated with
    ``hookimpl``, or a ``(name, plugin)`` pair; the name is otherwise the
    module's ``__name__`` or the object's class name. Its version is its
    ``__version__``, if any. A plugin is registered exactly as an installed
    one would be: one that fails to register, raises in a hook, returns the
    wrong type, takes a taken check id or implements a hook that does not
    exist is left out and listed in ``.errors`` (each with ``.name`` and
    ``.error``). The set provides ``.checks``, ``.schemes`` and ``.formats``
    (dictionaries by id and name).

    .. versionadded:: 0.2
    """
    from stcheck.plugins import DEFAULT_PLUGINS, build_plugins

    named: list[tuple[str, Any]] = []
    taken: set[str] = set()
    for plugin in plugins:
        if isinstance(plugin, tuple) and len(plugin) == 2 and isinstance(plugin[0], str):
            name, plugin = plugin
        else:
            name = _name(plugin)
        unique, number = name, 1
        while unique in taken:  # two instances of one class are two plugins
            number += 1
            unique = f"{name}-{number}"
        taken.add(unique)
        named.append((unique, plugin))
    return build_plugins(
        load_installed=False,
        disabled=() if builtins else DEFAULT_PLUGINS,
        extra=named,
    )


def run_checks(
    plugins: PluginSet,
    *manifests: str,
    command: str = "validate",
    select: Iterable[str] | None = None,
    skip: Iterable[str] = (),
    extra: Mapping[str, Any] | None = None,
    resolve: bool = False,
) -> RunReport:
    """Run the checks of ``plugins`` over ``manifests`` without the network, as ``stcheck COMMAND``.

    ``select`` and ``skip`` are ``--select``/``--skip``; ``extra`` holds the
    values of the plugins' own options (``{"owner_domain": ["acme.example"]}``
    for ``--owner-domain acme.example``), as checks see them in
    ``ctx.options.extra``. Checks with ``network = True`` are skipped with
    reason ``offline`` — except, with ``resolve=True``, the ``credentials``
    check, which resolves every credential reference through its scheme (the
    real path of a resolver: its warnings, its refusals, the value checks)
    without connecting anywhere; the other network checks are then
    deselected. Token and API checks belong against the fake ServiceTitan of
    :mod:`stcheck.testing`. ``golive`` runs only for ``command="report"`` or
    when selected. A manifest that cannot be read raises ``UsageError``, as
    the command line exits 2 for it.

    .. versionadded:: 0.2
    """
    from stcheck.api import RunOptions
    from stcheck.runner import run

    chosen = frozenset(select) if select is not None else None
    skipped = set(skip)
    if resolve:  # only the credentials check may run of the network checks: it connects nowhere
        skipped |= {
            check_id
            for check_id, check in plugins.checks.items()
            if check.network and check_id != "credentials"
        }
    options = RunOptions(
        command=command,
        offline=not resolve,
        extra=argparse.Namespace(**(extra or {})),
        select=chosen,
        skip=frozenset(skipped),
    )
    return run(list(manifests), plugins, options)

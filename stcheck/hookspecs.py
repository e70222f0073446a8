"""The hooks a stcheck plugin can implement — this module is the plugin author's manual.

A plugin is a module (or object) with functions decorated with
:data:`hookimpl` and named after the hooks below; a plugin imports
``hookimpl``, like everything else it uses, from :mod:`stcheck.api`, the one
public namespace. Install it as a package that declares an entry point in the
group ``stcheck``::

    [project.entry-points.stcheck]
    my_plugin = "my_package.stcheck_plugin"

The built-in checks, reference schemes and output formats are registered
through exactly these hooks (``stcheck.plugins.DEFAULT_PLUGINS`` lists them).
Plugins are only ever loaded from installed packages, never from the
repository being checked.

The hooks, their arguments and what they return are public API: each says
when it was added (``versionadded``); see the compatibility policy in
docs/plugins.md for how a hook would be deprecated and removed.

Hooks are called through pluggy's plugin manager, one plugin at a time:
``specname=`` and ``tryfirst``/``trylast`` work as pluggy documents (hook
wrappers are refused: each implementation is called alone).
A plugin that fails to import, whose hook raises (anything, ``SystemExit``
included) or returns something that is not of the expected type, or that
implements a hook not listed here (a typo such as ``stcheck_chekcs``), is
reported as an ``error`` result (reason ``plugin_error``, with the plugin's
name and version) and the run goes on without it. What plugin code prints
passes the redactor (see docs/plugins.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:  # stcheck.api imports this module (it re-exports hookimpl)
    import argparse

    from stcheck.api import Check, OutputFormat, ReferenceScheme

PROJECT = "stcheck"

F = TypeVar("F", bound=Callable[..., Any])


class HookimplMarker:
    """``pluggy.HookimplMarker("stcheck")``, without importing pluggy.

    Every plugin module and the built-ins apply it at import time, while
    pluggy (and, through it, :mod:`inspect`) is only needed when a plugin
    manager is built — never for the built-ins alone (:mod:`stcheck.plugins`).
    It marks a function exactly as pluggy's marker does: the ``stcheck_impl``
    attribute, with the same options (a test compares the two).
    """

    __slots__ = ()

    @overload
    def __call__(
        self,
        function: F,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> F: ...

    @overload
    def __call__(
        self,
        function: None = ...,
        hookwrapper: bool = ...,
        optionalhook: bool = ...,
        tryfirst: bool = ...,
        trylast: bool = ...,
        specname: str | None = ...,
        wrapper: bool = ...,
    ) -> Callable[[F], F]: ...

    def __call__(
        self,
        function: F | None = None,
        hookwrapper: bool = False,
        optionalhook: bool = False,
        tryfirst: bool = False,
        trylast: bool = False,
        specname: str | None = None,
        wrapper: bool = False,
    ) -> F | Callable[[F], F]:
        opts = {
            "wrapper": wrapper,
            "hookwrapper": hookwrapper,
            "optionalhook": optionalhook,
            "tryfirst": tryfirst,
            "trylast": trylast,
            "specname": specname,
        }

        def mark(func: F) -> F:
            setattr(func, f"{PROJECT}_impl", dict(opts))
            return func

        return mark if function is None else mark(function)


def hookspec(function: F) -> F:
    """``@pluggy.HookspecMarker("stcheck")`` with no options: marks a hook below."""
    setattr(
        function,
        f"{PROJECT}_spec",
        {"firstresult": False, "historic": False, "warn_on_impl": None, "warn_on_impl_args": None},
    )
    return function


hookimpl = HookimplMarker()
"""The decorator that marks a plugin's hook implementations (also :data:`stcheck.api.hookimpl`).

It is pluggy's ``HookimplMarker("stcheck")`` in all but type: ``@hookimpl``,
``@hookimpl(tryfirst=True)``, ``@hookimpl(specname="stcheck_checks")``.

.. versionadded:: 0.1
.. versionchanged:: 0.3
   Not an instance of ``pluggy.HookimplMarker`` any more (it marks functions the same way).
"""


@hookspec
def stcheck_checks() -> Iterable[Check]:  # type: ignore[empty-body]
    """Return the checks this plugin provides, as :class:`stcheck.api.Check` instances.

    Each check's ``id`` must be unique across all plugins; the class docstring
    is its documentation (its first line is shown by ``stcheck plugins``).

    .. versionadded:: 0.1
    """


@hookspec
def stcheck_reference_schemes() -> Iterable[ReferenceScheme]:  # type: ignore[empty-body]
    """Return the credential reference schemes this plugin provides.

    A scheme named ``vault`` makes ``vault:...`` a valid reference in the
    manifest (checked offline by the ``references`` check through
    ``ReferenceScheme.syntax``) and resolvable online through
    ``ReferenceScheme.resolve``.

    .. versionadded:: 0.1
    """


@hookspec
def stcheck_output_formats() -> Iterable[OutputFormat]:  # type: ignore[empty-body]
    """Return the output formats this plugin provides (``--format NAME``, ``--output NAME=PATH``).

    ``OutputFormat.render`` receives the immutable :class:`stcheck.api.RunReport`
    and returns text. It must not print; the CLI writes the text.

    .. versionadded:: 0.1
    """


@hookspec
def stcheck_add_options(parser: argparse.ArgumentParser, command: str) -> None:
    """Add command-line options to ``command`` (``validate``, ``check`` or ``report``).

    Prefix option names with the plugin's name (``--vault-addr``) to avoid
    clashes. The parsed values reach checks as ``ctx.options.extra``.

    .. versionadded:: 0.1
    """

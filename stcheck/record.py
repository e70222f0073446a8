"""Record classes — what ``@dataclass`` gives stcheck, without importing :mod:`dataclasses`.

``import dataclasses`` costs ~10 ms (it imports :mod:`inspect`, and that
``ast``, ``dis`` and ``tokenize``), and each ``@dataclass(frozen=True)``
compiles six methods: on the ~20 classes a ``stcheck validate`` imports,
about a sixth of the pre-commit hook's start-up. :func:`record` builds the
same classes from the same class bodies: an ``__init__`` compiled once per
class (defaults, ``default_factory``, ``__post_init__``), and shared
``__eq__``/``__hash__``/``__repr__`` that compare, hash and show the fields
through :func:`operator.attrgetter`. Frozen records refuse assignment with
:class:`dataclasses.FrozenInstanceError`, unhashable mutable ones are
unhashable, as with ``@dataclass``.

The :mod:`dataclasses` functions keep working on records —
``dataclasses.replace``, ``fields``, ``asdict``, ``is_dataclass`` (tests and
plugins use them): the first time one looks for ``__dataclass_fields__``,
the real :class:`dataclasses.Field` objects are made, with
:func:`dataclasses.make_dataclass` over the same fields. stcheck's own code
uses :func:`replace`, which does not import :mod:`dataclasses`.

Supported: ``frozen``, ``slots``, and :func:`field` with ``default``,
``default_factory``, ``repr``, ``hash``, ``compare``. Not: ``init=False``,
``kw_only``, ``InitVar``, ordering — nothing here uses them.
"""

from __future__ import annotations

from operator import attrgetter
from types import CodeType, FunctionType
from typing import TYPE_CHECKING, Any, TypeVar, overload

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import dataclass_transform
else:

    def dataclass_transform(**_: object) -> Any:
        return lambda function: function


T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Field:
    """One field of a record: its name, and what :func:`field` said about it."""

    __slots__ = ("compare", "default", "default_factory", "hash", "name", "repr", "type")

    def __init__(
        self,
        default: Any = MISSING,
        default_factory: Any = MISSING,
        repr: bool = True,
        hash: bool | None = None,
        compare: bool = True,
    ) -> None:
        if default is not MISSING and default_factory is not MISSING:
            raise ValueError("cannot specify both default and default_factory")
        self.name = ""
        self.type: Any = None
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.hash = hash
        self.compare = compare

    @property
    def hashed(self) -> bool:
        return self.compare if self.hash is None else self.hash


def field(
    *,
    default: Any = MISSING,
    default_factory: Any = MISSING,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
) -> Any:
    """A field's default, ``default_factory`` and flags, as :func:`dataclasses.field`."""
    return Field(default, default_factory, repr, hash, compare)


@overload
def record(cls: type[T], /) -> type[T]: ...


@overload
def record(*, frozen: bool = False, slots: bool = False) -> Callable[[type[T]], type[T]]: ...


@dataclass_transform(field_specifiers=(field,))
def record(
    cls: type[T] | None = None, /, *, frozen: bool = False, slots: bool = False
) -> type[T] | Callable[[type[T]], type[T]]:
    """Make ``cls`` a record: ``@record``, ``@record(frozen=True)``, ``@record(slots=True)``."""

    def wrap(cls: type[T]) -> type[T]:
        return _process(cls, frozen, slots)

    return wrap if cls is None else wrap(cls)


def _is_classvar(annotation: object) -> bool:
    text = annotation if isinstance(annotation, str) else repr(annotation)
    return text.startswith(("ClassVar", "typing.ClassVar"))


def _process(cls: type[T], frozen: bool, slots: bool) -> type[T]:
    by_name: dict[str, Field] = {}  # a field a subclass redefines keeps its place
    for base in reversed(cls.__mro__[1:]):
        by_name.update((f.name, f) for f in base.__dict__.get("__record_fields__", ()))
    # not inspect.get_annotations (the import this module avoids); from 3.10 a class's
    # __annotations__ are its own, never a base's
    own = getattr(cls, "__annotations__", {})
    for name, annotation in own.items():
        if _is_classvar(annotation):
            continue
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(value)
        spec.name = name
        spec.type = annotation
        by_name[name] = spec
        if spec.default is MISSING or slots:
            if name in cls.__dict__:
                delattr(cls, name)
        else:
            setattr(cls, name, spec.default)
    fields = list(by_name.values())
    if slots:
        cls = _with_slots(cls, fields, frozen)
    namespace = cls.__dict__
    attributes: dict[str, Any] = {
        "__record_fields__": tuple(fields),
        "__record_frozen__": frozen,
        # staticmethod: a plain function (0 or 1 field) must not bind to the instance.
        "__record_compare__": staticmethod(_getter([f.name for f in fields if f.compare])),
        "__record_hashed__": staticmethod(_getter([f.name for f in fields if f.hashed])),
        "__record_shown__": tuple(f.name for f in fields if f.repr),
        "__match_args__": tuple(f.name for f in fields),
        "__dataclass_fields__": _DataclassFields(),
        "__dataclass_params__": _DataclassParams(),
        "__replace__": replace,
    }
    if "__init__" not in namespace:
        attributes["__init__"] = _init(cls, fields, frozen, slots)
    if "__repr__" not in namespace:
        attributes["__repr__"] = _repr
    if "__eq__" not in namespace:
        attributes["__eq__"] = _eq
    if namespace.get("__hash__") is None:  # not written, or None because __eq__ was
        attributes["__hash__"] = _hash if frozen else None
    if frozen:
        attributes["__setattr__"] = _frozen_setattr
        attributes["__delattr__"] = _frozen_delattr
        if slots:
            attributes["__getstate__"] = _getstate
            attributes["__setstate__"] = _setstate
    for name, value in attributes.items():
        setattr(cls, name, value)
    return cls


def _getter(names: list[str]) -> Callable[[Any], Any]:
    if not names:
        return lambda _: ()
    if len(names) == 1:
        get = attrgetter(names[0])
        return lambda obj: (get(obj),)
    return attrgetter(*names)


def _with_slots(cls: type[T], fields: list[Field], frozen: bool) -> type[T]:
    body = {k: v for k, v in cls.__dict__.items() if k not in ("__dict__", "__weakref__")}
    body["__slots__"] = tuple(f.name for f in fields if f.name not in _inherited_slots(cls))
    qualname = body.get("__qualname__")
    made: type[T] = type(cls)(cls.__name__, cls.__bases__, body)  # type: ignore[misc]
    if qualname is not None:
        made.__qualname__ = qualname
    return made


def _inherited_slots(cls: type) -> set[str]:
    names: set[str] = set()
    for base in cls.__mro__[1:]:
        slots = base.__dict__.get("__slots__", ())
        names.update((slots,) if isinstance(slots, str) else slots)
    return names


def _init(cls: type, fields: list[Field], frozen: bool, slots: bool) -> Callable[..., None]:
    """``__init__(self, <fields>)``, compiled: as fast per call as the dataclass one.

    A frozen record without slots fills its ``__dict__`` with one ``update`` (as
    ``object.__setattr__`` field by field would; the smallest source to compile).
    Compiling costs about a million instructions a class, most of a record's
    cost at import: the bodies of stcheck's own records are compiled ahead, in
    :mod:`stcheck._record_inits` (cached as bytecode like any module), and
    only a body not found there is compiled here.
    """
    globals_: dict[str, Any] = {"_MISSING": MISSING, "_set": object.__setattr__}
    params: list[str] = []
    defaults: list[Any] = []
    body: list[str] = []
    items: list[str] = []
    for f in fields:
        name = f.name
        value = name
        params.append(name)
        if f.default_factory is not MISSING:
            globals_[f"_factory_{name}"] = f.default_factory
            defaults.append(MISSING)
            value = f"_factory_{name}() if {name} is _MISSING else {name}"
        elif f.default is not MISSING:
            defaults.append(f.default)
        elif defaults:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        if not frozen:
            body.append(f"    self.{name} = {value}")
        elif slots:
            body.append(f"    _set(self, {name!r}, {value})")
        else:
            items.append(f"{name!r}: {value}")
    if items:
        body.append(f"    self.__dict__.update({{{', '.join(items)}}})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    if not body:
        body.append("    pass")
    source = init_source(params, body)
    code = _compiled(source, cls.__qualname__)
    argdefs = tuple(defaults) or None
    function: Callable[..., None] = FunctionType(code, globals_, "__init__", argdefs)
    function.__qualname__ = f"{cls.__qualname__}.__init__"
    function.__module__ = cls.__module__
    return function


def init_source(params: list[str], body: list[str]) -> str:
    """The source of a record's ``__init__`` (its defaults are given to the function, not here)."""
    return f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body) + "\n"


SOURCES: dict[str, str] = {}
"""Every ``__init__`` source compiled or found, by source, with the module of its first class:
what ``python -m stcheck.record`` writes :mod:`stcheck._record_inits` from."""

_AHEAD: dict[str, CodeType] | None = None


def _compiled(source: str, qualname: str) -> CodeType:
    global _AHEAD
    if _AHEAD is None:
        try:
            from stcheck._record_inits import CODE
        except ImportError:  # pragma: no cover - a broken install: compile everything
            CODE = {}
        _AHEAD = CODE
    SOURCES.setdefault(source, qualname)
    code = _AHEAD.get(source)
    if code is None:
        made = compile(source, f"<record {qualname}>", "exec")
        code = next(c for c in made.co_consts if isinstance(c, CodeType))
    if hasattr(code, "co_qualname"):  # 3.11: what tracebacks name the function by
        code = code.replace(co_qualname=f"{qualname}.__init__")  # type: ignore[call-arg]
    return code


def generated() -> str:
    """The text of :mod:`stcheck._record_inits`: every record ``__init__`` of stcheck's modules.

    ``python -m stcheck.record > stcheck/_record_inits.py`` after changing a record's fields;
    tests/test_startup.py fails while the file is not current (a stale file is only slower:
    a body not found in it is compiled at import, as before).
    """
    import importlib
    import pkgutil

    import stcheck

    for module in pkgutil.walk_packages(stcheck.__path__, "stcheck."):
        # __main__ runs the command line; the compiled templates are loaded by Jinja2
        if module.name != "stcheck.__main__" and ".compiled." not in module.name:
            importlib.import_module(module.name)
    lines = [
        '"""Generated by ``python -m stcheck.record > stcheck/_record_inits.py``: do not edit.',
        "",
        "The ``__init__`` of every record class in stcheck, compiled ahead: :func:`stcheck.record`",
        "takes the code object of a body found here instead of compiling it at import.",
        '"""',
        "",
        "from types import CodeType",
        "",
        "CODE: dict[str, CodeType] = {}",
    ]
    for source in sorted(SOURCES):
        lines += ["", "", source.rstrip("\n"), "", f"CODE[{source!r}] = __init__.__code__"]
    lines += ["", "del __init__"]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    import sys

    from stcheck import record as _record  # this file runs as __main__: the real module's table

    sys.stdout.write(_record.generated())


def _repr(self: Any) -> str:
    shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__record_shown__)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is not self.__class__:
        return NotImplemented
    return self.__record_compare__(self) == self.__record_compare__(other)


def _hash(self: Any) -> int:
    return hash(self.__record_hashed__(self))


def _frozen_error(name: str) -> BaseException:
    from dataclasses import FrozenInstanceError  # only on this mistake

    return FrozenInstanceError(f"cannot assign to field {name!r}")


def _frozen_setattr(self: Any, name: str, value: object) -> None:
    raise _frozen_error(name)


def _frozen_delattr(self: Any, name: str) -> None:
    raise _frozen_error(name)


def _getstate(self: Any) -> list[Any]:
    return [getattr(self, f.name) for f in self.__record_fields__]


def _setstate(self: Any, state: list[Any]) -> None:
    for f, value in zip(self.__record_fields__, state, strict=True):
        object.__setattr__(self, f.name, value)


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of record ``obj`` with ``changes``: :func:`dataclasses.replace` for records."""
    for f in type(obj).__record_fields__:  # type: ignore[attr-defined]
        if f.name not in changes:
            changes[f.name] = getattr(obj, f.name)
    return type(obj)(**changes)


def _shadow(owner: type) -> type:
    """The dataclass twin of a record (imports :mod:`dataclasses`); its fields and params
    replace the lazy attributes on ``owner`` from now on."""
    import dataclasses

    specs = [
        (
            f.name,
            f.type,
            dataclasses.field(
                default=dataclasses.MISSING if f.default is MISSING else f.default,
                default_factory=(
                    dataclasses.MISSING if f.default_factory is MISSING else f.default_factory
                ),
                repr=f.repr,
                hash=f.hash,
                compare=f.compare,
            ),
        )
        for f in owner.__record_fields__  # type: ignore[attr-defined]
    ]
    shadow = dataclasses.make_dataclass(
        owner.__name__,
        specs,
        frozen=owner.__record_frozen__,  # type: ignore[attr-defined]
    )
    for name in ("__dataclass_fields__", "__dataclass_params__"):
        type.__setattr__(owner, name, getattr(shadow, name))  # from now on, plain values
    return shadow


class _DataclassFields:
    """``__dataclass_fields__``, made on first use (it imports :mod:`dataclasses`)."""

    def __get__(self, instance: object, owner: type) -> dict[str, Any]:
        found: dict[str, Any] = getattr(_shadow(owner), "__dataclass_fields__")  # noqa: B009
        return found


class _DataclassParams:
    """``__dataclass_params__`` (read by ``@dataclass`` on a subclass), made on first use."""

    def __get__(self, instance: object, owner: type) -> Any:
        return getattr(_shadow(owner), "__dataclass_params__")  # noqa: B009

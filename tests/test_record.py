"""Records (:mod:`stcheck.record`) behave as the dataclasses they replace.

The public result types (``Result``, ``Location``, ``RunReport``, ...) were
frozen dataclasses; plugins and tests construct them by keyword, compare,
hash and print them, and use ``dataclasses.replace`` on them. Each test here
builds the same class both ways and holds the record to what the dataclass
does, so a difference fails here rather than in a plugin.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from collections.abc import Mapping
from typing import Any, ClassVar

import pytest

from stcheck.api import Location, Result, RunReport, Status
from stcheck.record import field, record, replace


def _pair(frozen: bool, slots: bool = False) -> tuple[type[Any], type[Any]]:
    """The same class body as a record and as a dataclass."""

    def body() -> dict[str, Any]:
        return {
            "__annotations__": {
                "name": "str",
                "count": "int",
                "tags": "dict[str, str]",
                "note": "str | None",
                "kind": ClassVar[str],
            },
            "count": 0,
            "tags": None,
            "note": None,
            "kind": "k",
            "__module__": __name__,
        }

    made = []
    for decorate, spec in (
        (record(frozen=frozen, slots=slots), field),
        (dataclasses.dataclass(frozen=frozen, slots=slots), dataclasses.field),
    ):
        namespace = body()
        namespace["tags"] = spec(default_factory=dict, hash=False, repr=False)
        made.append(decorate(type("Thing", (), namespace)))
    return made[0], made[1]


@pytest.mark.parametrize(("frozen", "slots"), [(True, False), (False, False), (True, True)])
def test_a_record_constructs_compares_hashes_and_shows_as_the_dataclass(
    frozen: bool, slots: bool
) -> None:
    rec, dc = _pair(frozen, slots)
    ours, theirs = inspect.signature(rec).parameters, inspect.signature(dc).parameters
    assert list(ours) == list(theirs) == ["name", "count", "tags", "note"]
    assert [ours[n].default for n in ("count", "note")] == [0, None]
    a, b = rec("x", 2, {"k": "v"}), dc("x", 2, {"k": "v"})
    assert repr(a) == repr(b) == "Thing(name='x', count=2, note=None)"
    assert a.tags == b.tags and rec("y").tags == {} and rec("y").tags is not rec("z").tags
    assert a == rec("x", count=2, tags={"k": "v"}) and a != rec("x", 3) and a != b
    assert (a == b) is False  # other classes never compare equal, whatever their fields
    assert rec.__match_args__ == dc.__match_args__
    assert rec.kind == "k" and "kind" not in [f.name for f in dataclasses.fields(rec)]
    if frozen:
        assert hash(a) == hash(rec("x", 2, {"other": "tags"}))  # hash=False: tags not hashed
        with pytest.raises(dataclasses.FrozenInstanceError):
            a.name = "changed"
        with pytest.raises(dataclasses.FrozenInstanceError):
            del a.count
    else:
        with pytest.raises(TypeError):
            hash(a)
        a.count = 5
        assert a.count == 5
    with pytest.raises(TypeError):
        rec()  # a field without a default is required, as in the dataclass


def test_dataclasses_functions_work_on_records() -> None:
    """``dataclasses.replace``/``fields``/``asdict``/``is_dataclass``: what plugins may call."""
    location = Location("m.yaml", 3, 5, "/tenants/0")
    result = Result("schema", Status.FAIL, "bad", location=location, facts={"a": "b"})
    assert dataclasses.is_dataclass(result) and dataclasses.is_dataclass(Result)
    moved = dataclasses.replace(result, message="worse")
    assert moved == replace(result, message="worse")
    assert moved.message == "worse" and moved.location is location and moved.facts == {"a": "b"}
    assert [f.name for f in dataclasses.fields(Location)] == ["file", "line", "column", "pointer"]
    assert dataclasses.asdict(location) == location.as_dict()
    report = RunReport("0", "validate", ("m.yaml",), (result,))
    assert dataclasses.replace(report, results=()).results == ()
    assert dataclasses.replace(report, results=()).manifests == ("m.yaml",)


def test_post_init_runs_and_bounds_still_apply() -> None:
    long = Result("schema", Status.FAIL, "x" * 5_000)
    assert len(long.message) == 2_000
    assert len(replace(long, message="y" * 3_000).message) == 2_000


@pytest.mark.parametrize("slots", [False, True])
def test_records_copy_and_pickle(slots: bool) -> None:
    rec, _ = _pair(frozen=True, slots=slots)
    globals()["Thing"] = rec  # pickle finds classes by module and name
    try:
        thing = rec("x", 2, {"k": "v"})
        for twin in (copy.copy(thing), copy.deepcopy(thing), pickle.loads(pickle.dumps(thing))):
            assert twin == thing and twin.tags == {"k": "v"}
    finally:
        del globals()["Thing"]
    result = Result("schema", Status.PASS, "ok", facts={"k": ("a", "b")})
    assert pickle.loads(pickle.dumps(result)) == result


def test_a_slotted_record_has_no_instance_dict() -> None:
    rec, dc = _pair(frozen=True, slots=True)
    assert rec.__slots__ == dc.__slots__
    with pytest.raises(AttributeError):
        rec("x").__dict__  # noqa: B018


def test_a_record_keeps_what_its_class_defines_itself() -> None:
    @record(frozen=True)
    class Named:
        name: str
        size: int = 1

        def __repr__(self) -> str:
            return f"<{self.name}>"

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Named) and other.name == self.name

        def __hash__(self) -> int:
            return hash(self.name)

    assert repr(Named("a")) == "<a>" and Named("a", 1) == Named("a", 2)
    assert hash(Named("a", 1)) == hash(Named("a", 2))


def test_record_subclasses_inherit_fields() -> None:
    @record(frozen=True)
    class Base:
        a: int
        b: int = 2

    @record(frozen=True)
    class Derived(Base):
        c: int = 3
        b: int = 20

    assert repr(Derived(1)).endswith(".Derived(a=1, b=20, c=3)")  # the qualname, as dataclasses
    assert [f.name for f in dataclasses.fields(Derived)] == ["a", "b", "c"]


def test_mapping_fields_keep_their_types_for_plugins() -> None:
    report = RunReport("0", "validate", (), ())
    assert isinstance(report.checks_not_run, Mapping) and report.checks_not_run == {}
    assert report.checks_not_run is not RunReport("0", "validate", (), ()).checks_not_run


@pytest.mark.parametrize("fields", [0, 1, 2])
@pytest.mark.parametrize("slots", [False, True])
def test_records_of_few_fields_compare_and_hash_as_the_dataclass(fields: int, slots: bool) -> None:
    """One field or none: the compare/hash getter must not bind to the instance."""
    names = ["a", "b"][:fields]
    made = []
    for decorate in (
        record(frozen=True, slots=slots),
        dataclasses.dataclass(frozen=True, slots=slots),
    ):
        namespace: dict[str, Any] = {
            "__annotations__": dict.fromkeys(names, "int"),
            "__module__": __name__,
        }
        made.append(decorate(type("Few", (), namespace)))
    rec, dc = made
    values = dict(zip(names, [1, 2], strict=False))
    assert (rec(**values) == rec(**values)) == (dc(**values) == dc(**values)) is True
    assert hash(rec(**values)) == hash(rec(**values))
    assert len({rec(**values), rec(**values)}) == 1
    if fields:
        assert rec(**values) != rec(**{**values, "a": 9})
        assert rec(**values) in [rec(**values)]


def test_a_plugin_dataclass_may_subclass_a_result() -> None:
    """A third-party @dataclass on top of a record, as it could on top of the dataclass."""

    @dataclasses.dataclass(frozen=True)
    class Annotated(Result):
        extra: int = 0

    one = Annotated(check="mine", status=Status.PASS, message="m", extra=3)
    assert (one.check, one.extra) == ("mine", 3)
    assert one == Annotated(check="mine", status=Status.PASS, message="m", extra=3)
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.extra = 4  # type: ignore[misc]
    assert [f.name for f in dataclasses.fields(Annotated)][-1] == "extra"
    with pytest.raises(TypeError):

        @dataclasses.dataclass
        class Thawed(Result):  # a non-frozen dataclass over a frozen one, as before
            extra: int = 0

"""The value classes of the query's path (:mod:`khalis_kg.records`, issue 23) behave as
the dataclasses they replace: equal only to an instance of the same class, hashed and
frozen where they were frozen, shown by their fields, pickled whole."""

from __future__ import annotations

import copy
import pickle

import pytest

from khalis_kg import QueryResult, Stats, Term
from khalis_kg.backends.base import QueryDataset
from khalis_kg.catalogue import Parameter, QueryInfo
from khalis_kg.isolation import Limits, Work, Worker
from khalis_kg.rdfio import FORMATS, Source
from khalis_kg.records import FrozenError
from khalis_kg.safety import Limits as QueryLimits
from khalis_kg.safety import ReadOnlyQuery

FROZEN = [
    Term("literal", "12", "http://www.w3.org/2001/XMLSchema#integer"),
    Parameter("event", "iri", None, "the event"),
    QueryInfo("q", "Title", "Why?", (Parameter("e", "iri"),), ("a", "b"), "select", "SELECT"),
    FORMATS[0],
    Source("f.ttl", b"<a> <b> <c> .", "turtle", "http://e/", "http://e/g"),
    QueryDataset((None, "http://e/g"), ("http://e/h",)),
    ReadOnlyQuery("ASK {}", "ask", True, "http://e/", ("http://e/g",), (), "builtin"),
    Limits(3.0, 64 * 1024**2, False, True),
    Work(len, len, "the work"),
]
MUTABLE = [
    QueryResult("select", ["a"], [{"a": Term.iri("http://e/a")}]),
    Stats(1, 0, 2, {"http://e/C": 1}, 3, {"http://e/s": 3}, {"http://e/c": 3}),
    QueryLimits(2.5, 10),
]


@pytest.mark.parametrize("value", FROZEN + MUTABLE, ids=lambda v: type(v).__name__)
def test_equal_by_fields_and_class_only(value: object) -> None:
    fields = value.__match_args__  # type: ignore[attr-defined]
    twin = type(value)(*(getattr(value, name) for name in fields))
    assert twin == value
    assert not twin != value  # noqa: SIM202 - the other operator
    assert value != tuple(getattr(value, name) for name in fields)
    assert pickle.loads(pickle.dumps(value)) == value
    assert copy.deepcopy(value) == value
    hidden = ("text",) if isinstance(value, QueryInfo) else ()  # a query's whole text
    shown = ", ".join(f"{n}={getattr(value, n)!r}" for n in fields if n not in hidden)
    assert repr(value) == f"{type(value).__name__}({shown})"


@pytest.mark.parametrize("value", FROZEN, ids=lambda v: type(v).__name__)
def test_frozen_values_hash_and_refuse_assignment(value: object) -> None:
    name = value.__match_args__[0]  # type: ignore[attr-defined]
    assert hash(value) == hash(copy.copy(value))
    with pytest.raises(FrozenError, match=f"cannot assign to field '{name}'"):
        setattr(value, name, None)
    with pytest.raises(AttributeError):  # as a dataclass's FrozenInstanceError is one
        delattr(value, name)


@pytest.mark.parametrize("value", MUTABLE, ids=lambda v: type(v).__name__)
def test_mutable_values_are_not_hashable(value: object) -> None:
    with pytest.raises(TypeError, match="unhashable"):
        hash(value)


def test_defaults_are_fresh_and_kept() -> None:
    a, b = QueryResult("select"), QueryResult("select")
    a.rows.append({})
    assert (b.rows, b.variables, b.triples) == ([], [], [])
    rows: list[dict[str, Term]] = []
    assert QueryResult("select", rows=rows).rows is rows  # a list given is the list held
    assert Stats(1, 2, 3).to_dict() == {
        "triples": 1, "named_graphs": 2, "classes": 3, "instances_per_class": {},
        "claims": 0, "claims_per_source": {}, "claims_per_claimant": {},
    }  # fmt: skip


class _Answer(QueryResult):
    def __init__(self, variables: list[str], note: str) -> None:
        super().__init__("select", variables)
        self.note = note


def test_a_subclass_with_its_own_constructor_pickles() -> None:
    """A mutable record pickles its slots (and a subclass its ``__dict__``) as any
    object does: the subclass's constructor is not called again."""
    answer = pickle.loads(pickle.dumps(_Answer(["a"], "kept")))
    assert type(answer) is _Answer
    assert (answer.variables, answer.rows, answer.note) == (["a"], [], "kept")


def test_a_worker_is_equal_only_to_itself() -> None:
    one, other = Worker(1, None, 2), Worker(1, None, 2)  # type: ignore[arg-type]
    assert one == one
    assert one != other
    assert len({one, other}) == 2


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_records_pickle_with_every_protocol(protocol: int) -> None:
    """As the dataclasses they replaced: mutable and frozen, and a subclass's own fields."""
    for value in (
        QueryResult("select", ["a"], [{"a": Term("literal", "x")}]),
        Stats(1, 2, 3),
        Term("literal", "x"),
        _Answer(["a"], "kept"),
    ):
        again = pickle.loads(pickle.dumps(value, protocol))
        assert again == value
        assert type(again) is type(value)
        assert getattr(again, "__dict__", None) == getattr(value, "__dict__", None)

"""The memory backend's hash joins give rdflib's answers (``backends/rdflib_joins``).

Three levels: the join itself against rdflib's nested loop (``evalutils._join``) on
solution sequences built to hit every branch, in the same order; whole queries on the
memory backend against the same rdflib running its own joins, as multisets; and which
joins are marked. The W3C suite (test_w3c: ``memory`` against ``rdflib-raw``) and the
packaged queries on every backend (test_backends) are the wider proof.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from rdflib import BNode, Dataset, Literal, URIRef, Variable
from rdflib.plugins.sparql.evalutils import _join
from rdflib.plugins.sparql.sparql import FrozenBindings, FrozenDict, QueryContext

from khalis_kg import KnowledgeGraph
from khalis_kg.backends.memory import _prepare
from khalis_kg.backends.rdflib_joins import HASH_JOIN, hash_join
from khalis_kg.resources import queries_dir, read_text
from khalis_kg.safety import parse_nodes

X, Y, Z, W = (Variable(v) for v in "xyzw")
A, B, C = (URIRef(f"urn:x:{n}") for n in "abc")
INTEGER, DECIMAL, STRING = (
    URIRef(f"http://www.w3.org/2001/XMLSchema#{n}") for n in ("integer", "decimal", "string")
)


def sol(**bindings: Any) -> FrozenDict:
    return FrozenDict({Variable(k): v for k, v in bindings.items()})


CASES: dict[str, tuple[list[FrozenDict], list[FrozenDict]]] = {
    "one shared variable": (
        [sol(x=A, y=B), sol(x=B, y=B), sol(x=C, y=A)],
        [sol(x=A, z=C), sol(x=A, z=A), sol(x=C, z=B), sol(x=B, z=B)],
    ),
    "two shared variables, one bound by only some left solutions": (
        [sol(x=A, y=B), sol(x=A), sol(y=B), sol(w=C)],
        [sol(x=A, y=B, z=A), sol(x=A, y=C, z=B), sol(x=B, y=B, z=C)],
    ),
    "a variable some right solutions leave unbound (no index on it)": (
        [sol(x=A, y=A), sol(x=B, y=C)],
        [sol(x=A, z=A), sol(z=B), sol(x=B, y=C), sol(y=A)],
    ),
    "no shared variable: every pair": (
        [sol(x=A), sol(x=B)],
        [sol(y=A), sol(y=B), sol(y=C)],
    ),
    "duplicate left solutions are joined each time": (
        [sol(x=A), sol(x=A), sol(x=B)],
        [sol(x=A, y=C)],
    ),
    "terms rdflib holds equal or unequal": (
        [
            sol(x=Literal("a", lang="en")),
            sol(x=Literal("a", lang="EN")),
            sol(x=Literal("1", datatype=INTEGER)),
            sol(x=URIRef("urn:x:same")),
            sol(x=BNode("urn:x:same")),
            sol(x=Literal("urn:x:same")),
        ],
        [
            sol(x=Literal("a", lang="en-GB")),
            sol(x=Literal("a", lang="En"), y=A),
            sol(x=Literal("1.0", datatype=DECIMAL), y=B),
            sol(x=Literal("1", datatype=INTEGER), y=C),
            sol(x=URIRef("urn:x:same"), y=A),
            sol(x=Literal("urn:x:same", datatype=STRING), y=B),
        ],
    ),
    "empty right side": ([sol(x=A)], []),
    "empty left side": ([], [sol(x=A)]),
}


def as_items(solutions: list[Any]) -> list[dict[Variable, Any]]:
    return [dict(s.items()) for s in solutions]


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_solutions_in_the_same_order_as_rdflibs_nested_loop(case: str) -> None:
    left, right = CASES[case]
    ours = as_items(list(hash_join(iter(left), right)))
    assert ours == as_items(list(_join(iter(left), right)))


def test_answers_of_a_case_written_out() -> None:
    """One case by hand, so the reference is not only rdflib's own join."""
    left, right = CASES["two shared variables, one bound by only some left solutions"]
    assert as_items(list(hash_join(left, right))) == [
        {X: A, Y: B, Z: A},  # x=A, y=B
        {X: A, Y: B, Z: A},  # x=A: y free
        {X: A, Y: C, Z: B},
        {Y: B, X: A, Z: A},  # y=B: x free
        {Y: B, X: B, Z: C},
        {W: C, X: A, Y: B, Z: A},  # no shared variable bound
        {W: C, X: A, Y: C, Z: B},
        {W: C, X: B, Y: B, Z: C},
    ]


def test_initial_bindings_are_compared_as_rdflib_compares_them() -> None:
    """A solution that leaves a variable unbound answers rdflib's lookups with the
    query's initial binding (``FrozenBindings``); the join must agree with that."""
    ctx = QueryContext(initBindings={X: A})

    def bound(**bindings: Any) -> FrozenBindings:
        return FrozenBindings(ctx, {Variable(k): v for k, v in bindings.items()})

    left = [bound(x=A, y=B), bound(x=B, y=B), bound(y=C)]
    right = [bound(y=B), bound(y=B, x=B), bound(y=C, z=A)]
    ours = as_items(list(hash_join(left, right)))
    assert ours == as_items(list(_join(left, right)))
    # x=B, y=B meets y=B alone too, but that one's x is the initial A: refused
    assert ours == [{X: A, Y: B}, {X: B, Y: B}, {Y: C, Z: A}]


QUERIES = {
    "sub-SELECT joined to a pattern": """
        SELECT ?s ?p ?o WHERE {
          { SELECT DISTINCT ?s WHERE { ?s a ?type } }
          ?s ?p ?o
        }""",
    "duplicate solutions on the right (kept once, as rdflib's set keeps them)": """
        SELECT ?type WHERE {
          { SELECT DISTINCT ?type WHERE { ?s a ?type } }
          { SELECT ?type WHERE { ?x a ?type } }
        }""",
    "UNION with BIND and FILTER on the right": """
        SELECT ?s ?label WHERE {
          { SELECT ?s WHERE { ?s a ?c } LIMIT 40 }
          { ?s ?p ?label FILTER (isLiteral(?label)) }
          UNION
          { BIND (?s AS ?label) }
        }""",
    "OPTIONAL inside the right side": """
        SELECT ?s ?o ?q ?n WHERE {
          { SELECT DISTINCT ?s (1 AS ?n) WHERE { ?s ?p ?o } }
          { ?s a ?o OPTIONAL { ?o ?q ?s } }
        }""",
    "the same node under two names": """
        SELECT ?s ?node ?p ?o WHERE {
          { SELECT DISTINCT ?node WHERE { ?node a ?t } }
          ?node ?p ?o .
          BIND (?node AS ?s)
        }""",
}


SMALL_GRAPH = """
@prefix : <urn:x:> .
:e1 a :Event , :Break ; :label "one" , "un"@fr ; :place :p1 ; :actor :a1 , :a2 .
:e2 a :Event ; :label "two" ; :place :p1 ; :related :e1 .
:p1 a :Place ; :label "town" ; :within :p2 .
:p2 a :Place ; :label "province" .
:a1 a :Actor ; :label "one" ; :partOf :e1 .
:a2 a :Actor , :Group .
:c1 a :Claim ; :about :e1 ; :count 9 , 9.0 ; :label "nine" .
"""


@pytest.fixture(scope="module")
def memory(tmp_path_factory: pytest.TempPathFactory) -> KnowledgeGraph:
    """A small graph (rdflib's own joins are quadratic), every kind of term in it."""
    path = tmp_path_factory.mktemp("joins") / "small.ttl"
    path.write_text(SMALL_GRAPH, encoding="utf-8")
    return KnowledgeGraph.load([path], backend="memory")


def multiset(rows: Any) -> Counter[tuple[Any, ...]]:
    return Counter(tuple(row) for row in rows)


@pytest.mark.parametrize("name", sorted(QUERIES))
def test_memory_backend_answers_as_rdflib_does(memory: KnowledgeGraph, name: str) -> None:
    text = QUERIES[name]
    prepared = _prepare(text, None)
    assert any(n.name == HASH_JOIN for n in parse_nodes(prepared.algebra)), "no join marked"
    dataset = memory.backend.dataset  # type: ignore[attr-defined]
    assert isinstance(dataset, Dataset)
    theirs = dataset.query(text)  # rdflib prepares it itself: its own joins
    variables = [str(v) for v in theirs.vars or []]
    ours = memory.sparql(text)
    assert ours.variables == variables
    expected = multiset(
        tuple(None if value is None else str(value) for value in row) for row in theirs
    )
    assert sum(expected.values()) > 0
    got = multiset(
        tuple(None if v not in row else row[v].value for v in variables) for row in ours.rows
    )
    assert got == expected


def test_which_joins_are_marked() -> None:
    """The packaged query that needed it has its three nested-loop joins marked;
    a plain pattern (rdflib's lazy join) is left to rdflib."""
    marked = _prepare(read_text(queries_dir() / "construct-event-subgraph.rq"), None)
    assert sum(n.name == HASH_JOIN for n in parse_nodes(marked.algebra)) == 3
    plain = _prepare("SELECT * WHERE { ?s ?p ?o . ?o ?q ?r }", None)
    assert [n.name for n in parse_nodes(plain.algebra) if n.name in ("Join", HASH_JOIN)] == []
    lazy = _prepare("SELECT * WHERE { ?s ?p ?o { ?o ?q ?r } }", None)
    assert [n.name for n in parse_nodes(lazy.algebra) if n.name in ("Join", HASH_JOIN)] == ["Join"]


def test_outside_the_tested_rdflib_releases_rdflib_joins_itself(
    memory: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash joins are made only for the rdflib releases they were tested with
    (``rdflib_joins.ACTIVE``); without them nothing is marked, and the memory backend
    gives every query's answer as it does with them."""
    from khalis_kg.backends import rdflib_joins

    expected = {name: memory.sparql(text).canonical() for name, text in QUERIES.items()}
    monkeypatch.setattr(rdflib_joins, "ACTIVE", False)
    _prepare.cache_clear()
    try:
        for name, text in QUERIES.items():
            assert not any(n.name == HASH_JOIN for n in parse_nodes(_prepare(text, None).algebra))
            assert memory.sparql(text).canonical() == expected[name], name
    finally:
        _prepare.cache_clear()  # the next test prepares with the joins marked again

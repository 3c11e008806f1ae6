"""The Oxigraph engine's ordered SELECT answers as pyoxigraph writes them when SPARQL
JSON is wanted (:data:`khalis_kg.results.WRITING`, :class:`khalis_kg.backends.oxigraph.Written`):
the same answer as the rows' path, byte for byte in every format (but for the case of a
``\\u`` escape's hex digits with pyoxigraph 0.5.4, the floor), with the same rows, and the
time limit and the row cap of the rows' path.

The rows' path is the same engine's ``run`` told the answer is unordered (nothing else
changes: ``Backend.query`` sorts unordered rows, ``run`` does not), so the two answers
come from one evaluation order. Every packaged and internal query is compared on the
packaged graph, and Hypothesis draws the terms: literals of any text, language or
datatype, IRIs and blank nodes.
"""

from __future__ import annotations

import contextlib
import copy
import pickle
import re
from collections.abc import Iterator

import pyoxigraph as ox
import pytest
from helpers import EVENT
from hypothesis import example, given, settings
from hypothesis import strategies as st

from khalis_kg import KnowledgeGraph, api, resources, results
from khalis_kg.backends import oxigraph as engine
from khalis_kg.catalogue import Catalogue, QueryInfo
from khalis_kg.errors import QueryError, QueryTimeoutError, TimeLimitError, UnwritableError
from khalis_kg.results import QueryResult
from khalis_kg.safety import Limits, ReadOnlyQuery, builtin

CATALOGUES = {
    "packaged": Catalogue.load(),
    **{f: Catalogue.load(resources.queries_dir() / f) for f in api.INTERNAL},
}
CASES = [(kind, q) for kind, c in CATALOGUES.items() for q in c if q.form == "select"]
SAMPLE = {"iri": EVENT, "date": "2015-05-08", "string": "en", "integer": 0}
FORMATS = ("json", "xml", "csv", "tsv", "table")


def _both(
    kg: KnowledgeGraph,
    plan: ReadOnlyQuery,
    bindings: dict | None = None,
    limits: Limits | None = None,
) -> tuple[QueryResult, QueryResult]:
    """The answer as written (``plan`` ordered), and as rows (the same plan, unordered)."""
    limits = limits or Limits()
    with writing("json"):
        written = kg.backend.run(_ordered(plan, True), bindings or {}, limits, None)
        rows = kg.backend.run(_ordered(plan, False), bindings or {}, limits, None)
    return written, rows


def _ordered(plan: ReadOnlyQuery, ordered: bool) -> ReadOnlyQuery:
    """``plan``, said to be ordered or not."""
    fields = {name: getattr(plan, name) for name in ReadOnlyQuery.__match_args__}
    return ReadOnlyQuery(**{**fields, "ordered": ordered})


@contextlib.contextmanager
def writing(fmt: str | None) -> Iterator[None]:
    before, results.WRITING = results.WRITING, fmt
    try:
        yield
    finally:
        results.WRITING = before


def _same(written: QueryResult, rows: QueryResult) -> None:
    """Written by pyoxigraph, and equal to the rows' answer in every format and in rows."""
    assert type(written) is engine.Written
    assert type(rows) is QueryResult
    assert _escapes_lower(written.serialize("json")) == rows.serialize(
        "json"
    )  # before a row is read
    assert written.variables == rows.variables
    assert written.rows == rows.rows
    assert written == rows
    assert rows == written
    for fmt in FORMATS:
        assert _out(written, fmt) == _out(rows, fmt), fmt


def _escapes_lower(answer: tuple[bytes, str]) -> tuple[bytes, str]:
    """The answer with its ``\\u`` escapes' hex digits in lower case, as ours: pyoxigraph
    0.5.4 (the floor) writes a control character as ``\\u001F``, 0.5.13 as ``\\u001f``."""
    data, media = answer
    # an escaped backslash is matched first: "\\\\u001F" is a backslash, then text
    return re.sub(rb"\\\\|\\u[0-9A-F]{4}", lambda m: m.group().lower(), data), media


def _out(result: QueryResult, fmt: str) -> tuple[bytes, str] | str:
    """The answer in ``fmt``, or the words refusing it (XML cannot carry every character)."""
    try:
        return result.serialize(fmt)
    except UnwritableError as refused:
        return str(refused)


def test_there_are_queries_to_compare() -> None:
    assert len(CASES) >= 40


@pytest.mark.parametrize(("kind", "info"), CASES, ids=[f"{k}:{q.name}" for k, q in CASES])
def test_every_query_written_as_its_rows(kg: KnowledgeGraph, kind: str, info: QueryInfo) -> None:
    """Every packaged and internal SELECT: the answer pyoxigraph writes is the rows'."""
    bindings = info.bind({p.name: SAMPLE[p.type] for p in info.parameters if p.required})
    written, rows = _both(kg, builtin(info.text), bindings)
    _same(written, rows)


def test_an_ordered_select_is_written_when_json_is_wanted(kg: KnowledgeGraph) -> None:
    """What ``KnowledgeGraph.query`` gives for an ordered SELECT: rows, unless SPARQL JSON
    is wanted (``khalis-kg serve``'s workers); then written, its JSON the bytes written
    (no row read to write it)."""
    for fmt in (None, "xml", "csv", "tsv"):
        with writing(fmt):
            assert type(kg.query("casualties")) is QueryResult
    with writing("json"):
        result = kg.query("casualties")
    assert type(result) is engine.Written
    assert result._written is not None
    data, media = result.serialize("json")
    assert data is result._written
    assert media == "application/sparql-results+json"
    assert data.startswith(b'{"head":{"vars":["event","status",')
    assert data.endswith(b"]}}\n")


IRIS = st.sampled_from(["http://e/a", "http://e/b", "urn:x:é", "http://e/p?q=1#f"])
DATATYPES = st.sampled_from(
    [
        None,
        "http://www.w3.org/2001/XMLSchema#string",
        "http://www.w3.org/2001/XMLSchema#integer",
        "http://www.w3.org/2001/XMLSchema#date",
        "http://e/type",
    ]
)
LANGUAGES = st.sampled_from(["en", "EN-gb", "ar", "x-private-1"])
TEXTS = st.text(st.characters(blacklist_categories=["Cs"]), max_size=12)


@st.composite
def terms(draw: st.DrawFn) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = draw(st.sampled_from(["iri", "bnode", "plain", "typed", "lang"]))
    if kind == "iri":
        return ox.NamedNode(draw(IRIS))
    if kind == "bnode":
        return ox.BlankNode(draw(st.sampled_from(["b0", "x1", "node_2"])))
    value = draw(TEXTS)
    if kind == "lang":
        return ox.Literal(value, language=draw(LANGUAGES))
    if kind == "typed":
        datatype = draw(DATATYPES)
        return ox.Literal(value, datatype=None if datatype is None else ox.NamedNode(datatype))
    return ox.Literal(value)


def _graph(objects: list[ox.NamedNode | ox.BlankNode | ox.Literal]) -> KnowledgeGraph:
    graph = KnowledgeGraph.load([], with_ontology=False)
    store = graph.backend.store  # type: ignore[attr-defined]
    for n, o in enumerate(objects):
        store.add(ox.Quad(ox.NamedNode(f"http://e/s{n % 3}"), ox.NamedNode("http://e/p"), o))
    return graph


SELECT = (
    "SELECT ?s ?o ?none ?len WHERE { ?s <http://e/p> ?o OPTIONAL { ?o <http://e/q> ?none } "
    "BIND (STRLEN(STR(?o)) AS ?len) } ORDER BY ?s ?len"
)


@settings(max_examples=120, derandomize=True, deadline=None)
@given(objects=st.lists(terms(), max_size=8))
@example(objects=[ox.Literal('a\u2028"b\\\x00\x7f\ud7ff😀')])
@example(objects=[ox.Literal("", language="en"), ox.Literal("", datatype=None)])
@example(objects=[ox.Literal("triple"), ox.Literal("its:dir")])  # whole values: no term
@example(objects=[ox.Literal("\\u00AB\x1f\\\x7f")])  # an escape's text, a control character
@example(objects=[ox.Literal(" "), ox.Literal("  ", language="en"), ox.Literal("\t")])  # blank
def test_any_terms_written_as_their_rows(objects: list) -> None:
    """Any literal (text, language, datatype: xsd:string left implicit), IRI or blank
    node, bound or not: the written answer is the rows' one, in every format."""
    graph = _graph(objects)
    written, rows = _both(graph, graph.decide(SELECT))
    if b'"triple"' in rows.serialize("json")[0]:  # a value "triple": read as rows
        assert type(written) is QueryResult
        assert written == rows
        return
    _same(written, rows)


def test_terms_a_row_does_not_hold_take_the_rows_path() -> None:
    """A triple term (refused, as on the rows' path) and a literal's base direction (left
    out by the rows, so by the answer): never written by pyoxigraph for us."""
    directional = _graph([ox.Literal("x", language="ar")])
    store = directional.backend.store  # type: ignore[attr-defined]
    store.load(b'<http://e/s9> <http://e/p> "y"@ar--rtl .', ox.RdfFormat.N_TRIPLES)
    written, rows = _both(directional, directional.decide(SELECT))
    assert type(written) is QueryResult
    assert written == rows
    assert [r["o"].lang for r in written.rows] == ["ar", "ar"]
    triple = _graph([])
    triple.backend.store.load(  # type: ignore[attr-defined]
        b"<http://e/s> <http://e/p> <<( <http://e/a> <http://e/b> <http://e/c> )>> .",
        ox.RdfFormat.N_TRIPLES,
    )
    plan = builtin("SELECT ?o WHERE { ?s <http://e/p> ?o } ORDER BY ?o")
    for ordered in (True, False):
        with writing("json"), pytest.raises(QueryError, match="unsupported RDF term in results"):
            triple.backend.run(_ordered(plan, ordered), {}, Limits(), None)


def _numbers(count: int) -> KnowledgeGraph:
    return _graph([ox.Literal(str(n)) for n in range(count)])


NUMBERS = builtin("SELECT ?o WHERE { ?s <http://e/p> ?o } ORDER BY ?o")


@pytest.mark.parametrize("count", [0, 1, 5, 6, 40])
def test_the_row_cap_as_on_the_rows_path(count: int) -> None:
    """At most ``max_rows`` rows, or QueryTimeoutError in the same words, whether the
    answer could hold more rows than the cap (counted) or not."""
    graph = _numbers(count)
    for cap in (1, 5, 6, 40, 10**6):
        outcomes = []
        for ordered in (True, False):
            plan = _ordered(NUMBERS, ordered)
            try:
                with writing("json"):
                    answer = graph.backend.run(plan, {}, Limits(max_rows=cap), None)
                outcomes.append(answer.to_python())
            except QueryTimeoutError as exc:
                outcomes.append(str(exc))
        assert outcomes[0] == outcomes[1], (count, cap)
        assert isinstance(outcomes[0], str) == (count > cap)


def test_the_time_limit_as_on_the_rows_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """The time limit is checked at each piece written (every 8 KiB), as between rows: a
    clock past it stops the answer with TimeLimitError, in the same words."""
    graph = _numbers(3000)  # ~170 KB written
    ticks = iter(range(10**6))
    monkeypatch.setattr("khalis_kg.safety.time.monotonic", lambda: float(next(ticks)))
    words = []
    for ordered in (True, False):
        plan = _ordered(NUMBERS, ordered)
        with writing("json"), pytest.raises(TimeLimitError) as stopped:
            graph.backend.run(plan, {}, Limits(timeout=5), None)
        words.append(str(stopped.value))
    assert words == ["query stopped after 5 s (time limit)"] * 2


def test_an_answer_too_large_to_write_is_read_as_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past WRITTEN_MAX bytes the answer is left unwritten and read as rows (which stop
    at the row cap): the same answer."""
    monkeypatch.setattr(engine, "WRITTEN_MAX", 10_000)
    graph = _numbers(3000)
    written, rows = _both(graph, NUMBERS)
    assert type(written) is QueryResult
    assert written == rows
    assert len(written) == 3000
    with writing("json"), pytest.raises(QueryTimeoutError, match="more than 2999 results"):
        graph.backend.run(NUMBERS, {}, Limits(max_rows=2999), None)


def test_a_written_answer_changed_is_written_from_its_rows(kg: KnowledgeGraph) -> None:
    """Rows read (and maybe changed), rows replaced, variables reordered: written from
    the rows from then on. A pickled answer keeps what was written."""
    with writing("json"):
        fresh, read, replaced, reordered = (kg.query("casualties") for _ in range(4))
    kept = pickle.loads(pickle.dumps(fresh))
    assert type(kept) is engine.Written
    assert kept.serialize("json") == fresh.serialize("json")
    assert kept._written is not None
    read.rows[0]["status"] = read.rows[1]["status"]
    assert read._written is None
    assert b'"status":{"type":"literal","value":"claim"}' in read.serialize("json")[0]
    replaced.rows = replaced.rows[:1]
    assert len(replaced) == 1
    assert replaced.serialize("json")[0].count(b'"event":') == 1
    reordered.variables.reverse()  # what Backend.query does to a SELECT *'s columns
    # kept by a pickle or a copy made before anything is read
    others = [pickle.loads(pickle.dumps(reordered)), copy.copy(reordered)]
    assert reordered.serialize("json")[0].startswith(b'{"head":{"vars":["circumstance",')
    for other in others:
        assert other.variables == reordered.variables
        assert other == reordered
        assert other.serialize("json") == reordered.serialize("json")


def test_one_time_limit_when_the_answer_is_read_as_rows_after_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An answer left unwritten (too large) is read as rows within what is left of the
    same time limit, not a new one: a clock that ticks at each look allows the rows'
    path alone, and not the writing begun before it."""
    graph = _numbers(3000)  # ~126 KB written: ~16 pieces of 8 KiB
    ticks = iter(range(10**7))
    monkeypatch.setattr("khalis_kg.safety.time.monotonic", lambda: float(next(ticks)))
    start = next(ticks)
    graph.backend.run(_ordered(NUMBERS, False), {}, Limits(timeout=86400), None)
    alone = next(ticks) - start  # the ticks the rows' path takes
    monkeypatch.setattr(engine, "WRITTEN_MAX", 100_000)  # given up after ~12 pieces
    graph.backend.run(_ordered(NUMBERS, False), {}, Limits(timeout=alone + 2), None)
    with writing("json"), pytest.raises(TimeLimitError):
        graph.backend.run(_ordered(NUMBERS, True), {}, Limits(timeout=alone + 2), None)


def test_an_answer_past_the_row_cap_stops_being_written(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the objects the cap's rows can hold, the writing stops (then the rows' path
    stops at the cap): the answer is not written whole first."""
    pieces = []
    write = engine._Sink.write
    monkeypatch.setattr(
        engine._Sink, "write", lambda sink, data: pieces.append(data) or write(sink, data)
    )
    with writing("json"), pytest.raises(QueryTimeoutError, match="more than 10 results"):
        _numbers(3000).backend.run(NUMBERS, {}, Limits(max_rows=10), None)
    assert len(pieces) <= 2  # of ~16 (the one past the cap, and what pyoxigraph flushes)

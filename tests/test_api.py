"""The KnowledgeGraph facade on both backends: same answers, typed errors, result formats."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest
from helpers import BACKENDS, EVENT, assert_isomorphic
from rdflib.plugins.sparql.results.csvresults import CSVResultParser
from rdflib.query import Result

from khalis_kg import KnowledgeGraph
from khalis_kg.api import query_catalogue
from khalis_kg.catalogue import Catalogue
from khalis_kg.errors import (
    InputError,
    KhalisError,
    ParameterError,
    QueryError,
    QuerySyntaxError,
    QueryTimeoutError,
    RDFSyntaxError,
    UnknownQueryError,
)
from khalis_kg.namespaces import ID, KG, PREFIXES, XSD
from khalis_kg.results import QueryResult
from khalis_kg.safety import Limits
from khalis_kg.terms import XSD_INTEGER, Term

Q = "https://w3id.org/khalis-kg/id/quantity/"
C = "https://w3id.org/khalis-kg/concept/"

EVENT_QUANTITIES = [
    ("escaped-prisoners", "more-than", 50, "More than fifty"),
    ("escaped-terrorism-charges", "exact", 9, "nine"),
    ("killed-police-officers", "exact", 12, "twelve"),
    ("killed-prisoners", "approximate", 50, "An estimated fifty"),
]


@pytest.fixture(scope="module")
def examples(
    kgs: dict[str, KnowledgeGraph], test_catalogue: Catalogue
) -> dict[str, KnowledgeGraph]:
    """The packaged graph on both backends, with the example queries as catalogue."""
    out = {}
    for name, graph in kgs.items():
        clone = KnowledgeGraph(graph.backend, sources=graph.sources, catalogue=test_catalogue)
        out[name] = clone
    return out


# --- the facade ----------------------------------------------------------------------------


def test_data_only_graph_has_no_ontology(kg: KnowledgeGraph) -> None:
    assert kg.backend.name == "oxigraph"
    assert [Path(s.name).name for s in kg.sources] == ["khalis.ttl"]
    assert len(kg) == kg.backend.triple_count()
    assert kg.sparql("ASK { ?o a <http://www.w3.org/2002/07/owl#Ontology> }").boolean is False


def test_packaged_graph_comes_with_its_ontology_by_default(kg: KnowledgeGraph) -> None:
    """Concept labels are there for queries; export and stats still cover the data."""
    default = KnowledgeGraph.load()
    assert default.backend.name == "oxigraph"
    assert default.with_ontology is True
    label = default.sparql(
        "SELECT ?l { <https://w3id.org/khalis-kg/concept/prison-break> "
        "<http://www.w3.org/2004/02/skos/core#prefLabel> ?l }"
    )
    assert [r["l"].value for r in label.rows] == ["prison break"]
    assert default.export("nt") == kg.export("nt")
    assert default.stats() == kg.stats()


def test_own_files_come_without_the_ontology_by_default(tricky_file: Path) -> None:
    assert KnowledgeGraph.load([tricky_file]).with_ontology is False


def test_with_ontology_adds_the_ontology(kg: KnowledgeGraph) -> None:
    both = KnowledgeGraph.load(with_ontology=True)
    ask = "ASK { <https://w3id.org/khalis-kg/ontology> a <http://www.w3.org/2002/07/owl#Ontology> }"
    assert both.sparql(ask).boolean is True
    assert len(both) > len(kg)


@pytest.mark.parametrize("backend", BACKENDS)
def test_example_query_exact_answer(examples: dict[str, KnowledgeGraph], backend: str) -> None:
    result = examples[backend].query("event-quantities")
    assert result.variables == ["event", "minimum", "quantity", "qualifier", "value", "statedAs"]
    got = [
        (
            r["quantity"].value.removeprefix(Q),
            r["qualifier"].value.removeprefix(C),
            r["value"].to_python(),
            r["statedAs"].value,
        )
        for r in result.rows
    ]
    assert got == EVENT_QUANTITIES
    assert {r["event"] for r in result.rows} == {Term.iri(EVENT)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_parameters_are_bound_not_spliced(
    examples: dict[str, KnowledgeGraph], backend: str
) -> None:
    kg = examples[backend]
    result = kg.query("event-quantities", minimum=10)
    assert [r["statedAs"].value for r in result.rows] == [
        "More than fifty",
        "twelve",
        "An estimated fifty",
    ]
    assert result.rows[0]["minimum"] == Term.literal("10", XSD_INTEGER)
    days = kg.query("events-on-day", day="2015-05-08")
    assert [r["event"].value.removeprefix(ID) for r in days.rows] == [
        "event/al-khalis-prison-break-2015",
        "event/diyala-suicide-attacks",
    ]
    assert kg.query("events-on-day", day="2015-05-09").rows == []
    assert kg.query("events-on-day", day="2015-05-08", lang="ar").rows == []
    # a string that would break out of a spliced literal is just a string here
    assert kg.query("events-on-day", day="2015-05-08", lang='en")) } #').rows == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_query_errors(examples: dict[str, KnowledgeGraph], backend: str) -> None:
    kg = examples[backend]
    with pytest.raises(UnknownQueryError, match="Did you mean: events-on-day"):
        kg.query("events-on-da")
    with pytest.raises(ParameterError, match=r"needs parameter 'day' \(date\)"):
        kg.query("events-on-day")
    with pytest.raises(ParameterError, match="must be a date"):
        kg.query("events-on-day", day="yesterday")
    with pytest.raises(ParameterError, match="has no parameter 'when'"):
        kg.query("events-on-day", day="2015-05-08", when="now")


def test_construct_query_gives_triples(examples: dict[str, KnowledgeGraph]) -> None:
    event = ID + "event/al-khalis-curfew"
    answers = {b: examples[b].query("construct-event", event=event) for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    result = answers["oxigraph"]
    assert result.form == "graph"
    assert {(p.value.rsplit("/", 1)[-1], o.value) for _, p, o in result.triples} == {
        ("sem#eventType" if False else "eventType", C + "curfew"),
        ("hasPlace", ID + "place/al-khalis"),
        ("22-rdf-syntax-ns#type", "http://semanticweb.cs.vu.nl/2009/11/sem/Event"),
        ("rdf-schema#label", "Curfew in Al Khalis"),
        ("prov#wasDerivedFrom", ID + "span/aftermath-5"),
    }


@pytest.mark.parametrize("backend", BACKENDS)
def test_check_query_returns_no_rows(examples: dict[str, KnowledgeGraph], backend: str) -> None:
    assert examples[backend].query("unlabelled-event-violation").rows == []


# --- both backends give the same answers -----------------------------------------------------

PARITY_QUERIES = [
    "SELECT ?s ?p ?o WHERE { ?s ?p ?o FILTER (!isBlank(?s) && !isBlank(?o)) }",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER (isBlank(?s) || isBlank(?o)) }",
    "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c",
    # (no AVG: the mean of the packaged integers, 523/9, is a non-terminating decimal that
    # each engine rounds to its own precision)
    "SELECT (SUM(?v) AS ?sum) (MIN(?v) AS ?min) (MAX(?v) AS ?max) "
    "(COUNT(DISTINCT ?v) AS ?n) WHERE { ?q <https://schema.org/value> ?v }",
    "SELECT ?s (LANG(?l) AS ?lang) (STRLEN(?l) AS ?len) WHERE "
    "{ ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l }",
    "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o FILTER (!isBlank(?s) && !isBlank(?o)) }",
    "ASK { ?s a kg:Claim }",
    "SELECT ?claim ?source WHERE { ?claim a kg:Claim OPTIONAL { ?claim kg:publishedIn ?source } }",
]


PARITY_BY_VALUE = [
    # Computed numbers: Oxigraph writes XSD's canonical forms (``50`` for the decimal
    # 50), rdflib Python's (``50.0``). Both are right; they are compared by value.
    "SELECT ?q (?v * 1.0 AS ?dec) (?v / 4 AS ?div) (STR(?v) AS ?s) WHERE "
    "{ ?q <https://schema.org/value> ?v }",
]


@pytest.mark.parametrize("text", PARITY_QUERIES)
def test_backends_agree_on_the_packaged_graph(kgs: dict[str, KnowledgeGraph], text: str) -> None:
    """The packaged data is written in canonical forms, so both engines answer alike."""
    ox_answer = kgs["oxigraph"].sparql(text)
    rdflib_answer = kgs["memory"].sparql(text)
    assert ox_answer == rdflib_answer
    assert len(ox_answer) == len(rdflib_answer) > 0


@pytest.mark.parametrize("text", PARITY_BY_VALUE)
def test_backends_agree_by_value(kgs: dict[str, KnowledgeGraph], text: str) -> None:
    ox_answer = kgs["oxigraph"].sparql(text)
    rdflib_answer = kgs["memory"].sparql(text)
    assert ox_answer != rdflib_answer  # the lexical forms differ (see PARITY_BY_VALUE) ...
    assert ox_answer.normalized() == rdflib_answer.normalized()  # ... the values do not
    assert len(ox_answer) > 0


PACKAGED = query_catalogue().list()
WITHOUT_REQUIRED = [q.name for q in PACKAGED if not any(p.required for p in q.parameters)]
EVENT_QUERIES = [
    q.name
    for q in PACKAGED
    if any(p.name == "event" and p.type == "iri" for p in q.parameters)
    and not any(p.required for p in q.parameters if p.name != "event")
]


def test_the_parametrised_lists_are_not_empty() -> None:
    """A catalogue read wrongly would make the tests below vanish, not fail."""
    assert len(WITHOUT_REQUIRED) >= 20
    assert len(EVENT_QUERIES) >= 5


@pytest.mark.parametrize("name", WITHOUT_REQUIRED)
def test_packaged_queries_agree(kgs: dict[str, KnowledgeGraph], name: str) -> None:
    """Every packaged query whose parameters all have defaults: identical on both engines."""
    assert kgs["oxigraph"].query(name) == kgs["memory"].query(name)


def test_literals_leave_as_each_engine_gives_them(tricky: dict[str, KnowledgeGraph]) -> None:
    """No rewriting on the way out: Oxigraph stores literals in canonical form (and
    integer subtypes as xsd:integer, language tags lower-cased), rdflib keeps them as
    written; each backend answers with its engine's forms, and they agree by value."""
    text = "SELECT ?p ?o WHERE { <http://example.org/a> ?p ?o FILTER(!isBlank(?o)) }"
    answers = {b: tricky[b].sparql(text) for b in BACKENDS}
    got = {
        b: {r["p"].value.removeprefix("http://example.org/"): r["o"] for r in a.rows}
        for b, a in answers.items()
    }
    common = {
        "bad": Term("literal", "abc", XSD_INTEGER),
        "date": Term("literal", "2015-05-08", XSD + "date"),
        "flt": Term("literal", "0.5", XSD + "float"),
        "plain": Term("literal", "plain"),
        "typed": Term("literal", "typed"),
        "text": Term("literal", 'tab\there, comma "quoted"\nnew line <&>'),
    }
    assert got["memory"] == {
        **common,
        "int": Term("literal", "01", XSD_INTEGER),
        "short": Term("literal", "+007", XSD + "short"),
        "nonneg": Term("literal", "5", XSD + "nonNegativeInteger"),
        "dec": Term("literal", "1.50", XSD + "decimal"),
        "dec2": Term("literal", "2.0", XSD + "decimal"),
        "dbl": Term("literal", "1.5e2", XSD + "double"),
        "bool": Term("literal", "1", XSD + "boolean"),
        "dt": Term("literal", "2015-05-08T10:00:00.000+00:00", XSD + "dateTime"),
        "lang": Term("literal", "Khalis", None, "EN-GB"),
    }
    assert got["oxigraph"] == {
        **common,
        "int": Term("literal", "1", XSD_INTEGER),
        "short": Term("literal", "7", XSD_INTEGER),
        "nonneg": Term("literal", "5", XSD_INTEGER),
        "dec": Term("literal", "1.5", XSD + "decimal"),
        "dec2": Term("literal", "2", XSD + "decimal"),
        "dbl": Term("literal", "150", XSD + "double"),
        "bool": Term("literal", "true", XSD + "boolean"),
        "dt": Term("literal", "2015-05-08T10:00:00Z", XSD + "dateTime"),
        "lang": Term("literal", "Khalis", None, "en-gb"),
    }
    # By value (the explicit option) they agree; xsd:short and xsd:integer become one.
    assert answers["oxigraph"].normalized() == answers["memory"].normalized()
    assert got["memory"]["dec"].to_python() == got["oxigraph"]["dec"].to_python() == Decimal("1.5")
    assert got["memory"]["short"].to_python() == 7
    assert got["memory"]["bool"].to_python() is True
    assert got["memory"]["dt"].to_python().isoformat() == "2015-05-08T10:00:00+00:00"
    assert got["memory"]["dt"].normalized() == got["oxigraph"]["dt"]


def test_literals_keep_their_information_on_both_engines(tmp_path: Path) -> None:
    data = tmp_path / "d.ttl"
    data.write_text(
        "@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .\n"
        '<http://ex/a> <http://ex/p> "2015-05-08Z"^^xsd:date , "INF"^^xsd:double , '
        '"-0"^^xsd:integer .\n',
        "utf-8",
    )
    answers = [
        KnowledgeGraph.load([data], backend=b).sparql("SELECT ?o { ?s ?p ?o }").rows
        for b in BACKENDS
    ]
    assert answers[0] == [
        {"o": Term("literal", "0", XSD_INTEGER)},
        {"o": Term("literal", "2015-05-08Z", XSD + "date")},
        {"o": Term("literal", "INF", XSD + "double")},
    ]
    assert answers[1] == [
        {"o": Term("literal", "-0", XSD_INTEGER)},
        {"o": Term("literal", "2015-05-08Z", XSD + "date")},
        {"o": Term("literal", "INF", XSD + "double")},
    ]


def test_aggregates_agree(tricky: dict[str, KnowledgeGraph]) -> None:
    text = (
        "SELECT (COUNT(?n) AS ?c) (SUM(?n) AS ?s) (AVG(?n) AS ?a) "
        "WHERE { <http://example.org/b> <http://example.org/n> ?n }"
    )
    answers = {b: tricky[b].sparql(text).rows for b in BACKENDS}
    assert (
        answers["oxigraph"]
        == answers["memory"]
        == [
            {
                "c": Term.literal("3", XSD_INTEGER),
                "s": Term.literal("6", XSD_INTEGER),
                "a": Term.literal("2", XSD + "decimal"),
            }
        ]
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_rows_have_every_projected_variable(
    tricky: dict[str, KnowledgeGraph], backend: str
) -> None:
    text = "SELECT ?o ?missing WHERE { <http://example.org/b> ?p ?o }"
    rows = tricky[backend].sparql(text).to_python()
    assert rows == [{"o": 1, "missing": None}, {"o": 2, "missing": None}, {"o": 3, "missing": None}]


@pytest.mark.parametrize("backend", BACKENDS)
def test_select_star_columns_in_order_of_appearance(
    tricky: dict[str, KnowledgeGraph], backend: str
) -> None:
    text = "SELECT * WHERE { ?s ?p ?o OPTIONAL { ?o ?q ?z } }"
    assert tricky[backend].sparql(text).variables == ["s", "p", "o", "q", "z"]


def test_unordered_rows_come_sorted(kgs: dict[str, KnowledgeGraph]) -> None:
    text = "SELECT ?s WHERE { ?s a kg:Claim }"
    rows = kgs["oxigraph"].sparql(text).rows
    assert [r["s"].value for r in rows] == sorted(r["s"].value for r in rows)
    assert len(rows) == 14


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_sparql_syntax_error_has_line_and_column(
    kgs: dict[str, KnowledgeGraph], backend: str
) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        kgs[backend].sparql("SELECT * WHERE {\n ?s ?p ?o }\nLIMIT x")
    # One parser (Oxigraph's) checks the syntax on both backends: the same words.
    assert (info.value.line, info.value.column) == (3, 7)
    assert str(info.value) == "SPARQL syntax error at line 3, column 7: unexpected 'x'"


@pytest.mark.parametrize("backend", BACKENDS)
def test_undeclared_prefix_is_named(kgs: dict[str, KnowledgeGraph], backend: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        kgs[backend].sparql("SELECT * WHERE {\n  ?s foo:bar ?o }")
    message = str(info.value)
    assert message.startswith(
        "SPARQL syntax error at line 2, column 6: the prefix 'foo:' is not declared; "
        "add PREFIX foo: <...> (pre-declared: "
    )
    assert " kg:, " in message
    assert "expected one of" not in message


UNDECLARED = [
    # Oxigraph says "expected OPTIONAL" past a two-letter or empty prefix
    ("SELECT * WHERE { ?s ex:p ?o }", "ex", 21),
    ("SELECT * WHERE { ?s ab:p ?o }", "ab", 21),
    ("SELECT * WHERE { ?s :p ?o }", "", 21),
    ('SELECT * WHERE { ?s ?p "ex:p" . ?s ab:p <http://e/cd:p> } # ef:p', "ab", 36),
    # rdflib's grammar cannot read it: Oxigraph's words, read on our tokens
    ("SELECT * WHERE { ?s ex:p ?o } LIMIT x", "ex", 21),
]


@pytest.mark.parametrize(("text", "prefix", "column"), UNDECLARED)
@pytest.mark.parametrize("backend", [*BACKENDS, "remote"])
def test_undeclared_prefix_is_named_on_every_backend(
    kgs: dict[str, KnowledgeGraph], backend: str, text: str, prefix: str, column: int
) -> None:
    # the remote backend decides before it sends anything: nothing listens on port 9
    remote = backend == "remote"
    kg = KnowledgeGraph.connect("http://127.0.0.1:9/sparql") if remote else kgs[backend]
    with pytest.raises(QuerySyntaxError) as info:
        kg.sparql(text)
    assert str(info.value) == (
        f"SPARQL syntax error at line 1, column {column}: the prefix '{prefix}:' is not "
        f"declared; add PREFIX {prefix}: <...> (pre-declared: "
        + ", ".join(f"{p}:" for p in sorted(PREFIXES))
        + ")"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_base_resolves_relative_iris_and_from(tmp_path: Path, backend: str) -> None:
    data = tmp_path / "g.ttl"
    data.write_text("<http://ex/s> <http://ex/p> <http://ex/o> .\n", "utf-8")
    kg = KnowledgeGraph.load([], backend=backend, named_graphs={"http://ex/graphs/g": data})
    text = "SELECT ?o FROM <g> WHERE { ?s <../p> ?o }"
    with pytest.raises(QueryError, match="FROM an unresolvable IRI is refused"):
        kg.sparql(text)  # no base: the relative FROM cannot be resolved, so it is refused
    assert kg.sparql(text, base="http://ex/graphs/").to_python() == [{"o": "http://ex/o"}]
    assert kg.sparql("BASE <http://ex/graphs/> " + text).to_python() == [{"o": "http://ex/o"}]
    assert kg.sparql("BASE <graphs/> " + text, base="http://ex/").to_python() == [
        {"o": "http://ex/o"}
    ]


@pytest.mark.parametrize("backend", BACKENDS)
def test_protocol_dataset_selects_held_graphs(tmp_path: Path, backend: str) -> None:
    files = {}
    for name in ("a", "b"):
        files[f"http://ex/{name}"] = tmp_path / f"{name}.ttl"
        files[f"http://ex/{name}"].write_text(f"<http://ex/{name}> a <http://ex/T> .\n", "utf-8")
    kg = KnowledgeGraph.load([], backend=backend, named_graphs=files)
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s a ?t }"
    assert kg.sparql(count).to_python() == [{"n": 0}]  # the default graph is empty
    assert kg.sparql(count, default_graphs=["http://ex/a", "http://ex/b"]).to_python() == [{"n": 2}]
    named = "SELECT ?g WHERE { GRAPH ?g { ?s a ?t } }"
    assert kg.sparql(named, named_graphs=["http://ex/b"]).to_python() == [{"g": "http://ex/b"}]
    assert kg.sparql(named, default_graphs=["http://ex/a"]).to_python() == []
    # The protocol's dataset replaces the query's FROM NAMED.
    text = "SELECT ?g FROM NAMED <http://ex/a> WHERE { GRAPH ?g { ?s a ?t } }"
    assert kg.sparql(text, named_graphs=["http://ex/b"]).to_python() == [{"g": "http://ex/b"}]
    with pytest.raises(QueryError, match="named-graph-uri <http://ex/c> names no graph held"):
        kg.sparql(named, named_graphs=["http://ex/c"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_malformed_turtle_names_file_and_line(tmp_path: Path, backend: str) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b .\n", encoding="utf-8")
    with pytest.raises(RDFSyntaxError) as info:
        KnowledgeGraph.load([bad], backend=backend)
    assert info.value.line == 3
    assert info.value.source == str(bad)
    assert str(info.value).startswith(f"{bad}:3: invalid turtle: ")


@pytest.mark.parametrize("backend", BACKENDS)
def test_missing_file(tmp_path: Path, backend: str) -> None:
    with pytest.raises(InputError, match=r"missing\.ttl: no such file"):
        KnowledgeGraph.load([tmp_path / "missing.ttl"], backend=backend)


def test_timeout_and_row_cap(kg: KnowledgeGraph) -> None:
    with pytest.raises(QueryTimeoutError, match=r"time limit"):
        kg.sparql("SELECT * WHERE { ?a ?b ?c . ?d ?e ?f }", timeout=0.000001)
    with pytest.raises(QueryTimeoutError, match="more than 10 results"):
        kg.backend.query("SELECT * WHERE { ?s ?p ?o }", limits=Limits(max_rows=10))


# --- engines and storage -----------------------------------------------------------------


def test_on_disk_store_is_reused(tmp_path: Path, tricky_file: Path) -> None:
    store = tmp_path / "store"
    first = KnowledgeGraph.build_store(store, [tricky_file])
    count = len(first)
    first.close()
    del first
    again = KnowledgeGraph.build_store(store, [tricky_file])
    assert len(again) == count == 20


def test_load_takes_the_local_engines_only() -> None:
    """``load`` reads files into this process; a remote store is ``connect``'s, an
    on-disk one ``build_store``'s and ``open_store``'s."""
    choose = "choose one of: oxigraph, memory; a remote store: KnowledgeGraph.connect"
    with pytest.raises(ParameterError, match=f"unknown backend 'jena' for load \\({choose}"):
        KnowledgeGraph.load(backend="jena")
    with pytest.raises(ParameterError, match=f"unknown backend 'remote' for load \\({choose}"):
        KnowledgeGraph.load(backend="remote")


def test_facade_constructors_are_small() -> None:
    """At most six parameters each, none whose meaning depends on the engine (issue 21)."""
    import inspect

    shapes = {
        name: list(inspect.signature(getattr(KnowledgeGraph, name)).parameters)
        for name in ("load", "build_store", "open_store", "connect")
    }
    assert shapes == {
        "load": ["files", "backend", "with_ontology", "named_graphs"],
        "build_store": ["directory", "files", "with_ontology", "named_graphs"],
        "open_store": ["directory"],
        "connect": ["endpoint", "graph_store", "graph", "timeout", "request"],
    }


def test_public_names_import_from_the_package() -> None:
    import khalis_kg
    from khalis_kg import errors, results

    assert khalis_kg.QueryResult is results.QueryResult
    public_errors = {
        n for n, v in vars(errors).items() if isinstance(v, type) and issubclass(v, Exception)
    }
    assert public_errors <= set(khalis_kg.__all__)
    for name in public_errors:
        assert getattr(khalis_kg, name) is getattr(errors, name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_graph_answer_to_rdflib_converts_terms(backend: str) -> None:
    """``to_rdflib()`` gives the graph the answer's Turtle parses to, blank nodes and
    literals (language, datatype) included, without re-parsing."""
    from rdflib import Graph

    kg = KnowledgeGraph.load(backend=backend, with_ontology=False)
    result = kg.sparql(
        "CONSTRUCT { ?s <http://ex/p> [ <http://ex/l> ?l ; <http://ex/n> 5 ; "
        '<http://ex/t> "x"@en ] } WHERE { ?s a <https://w3id.org/khalis-kg/ontology#Claim> ; '
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 3"
    )
    graph = result.to_rdflib()
    assert isinstance(graph, Graph)
    assert len(graph) == len(result.triples) == 12
    turtle, _ = result.serialize("turtle")
    assert_isomorphic(graph, Graph().parse(data=turtle.decode(), format="turtle"), "turtle")
    with pytest.raises(ParameterError, match="to_rdflib\\(\\) takes a graph answer"):
        kg.sparql("ASK { ?s ?p ?o }").to_rdflib()


def test_stats(kg: KnowledgeGraph, kg_memory: KnowledgeGraph) -> None:
    stats = kg.stats()
    assert stats == kg_memory.stats()
    assert stats.triples == len(kg)
    assert stats.claims == 14
    assert stats.instances_per_class[KG + "Claim"] == 14
    assert stats.classes == len(stats.instances_per_class)
    assert sum(stats.claims_per_source.values()) == 7
    assert stats.claims_per_source == {
        ID + "channel/amaq-news-agency": 3,
        ID + "channel/official-reports": 3,
        ID + "channel/isis-social-media": 1,
    }
    assert stats.claims_per_claimant == {
        ID + "group/officials": 3,
        ID + "organization/amaq-news-agency": 3,
        ID + "organization/isil": 3,
        ID + "group/local-sources": 1,
        ID + "person/ahmed-al-timimi": 1,
        ID + "person/oudi-al-khadran": 1,
        ID + "person/police-officer-eyewitness": 1,
        ID + "person/saad-maan-ibrahim": 1,
    }
    assert stats.to_dict()["claims"] == 14


def test_to_python(examples: dict[str, KnowledgeGraph]) -> None:
    rows = examples["oxigraph"].query("event-quantities").to_python()
    assert rows[0] == {
        "event": EVENT,
        "minimum": 0,
        "quantity": Q + "escaped-prisoners",
        "qualifier": C + "more-than",
        "value": 50,
        "statedAs": "More than fifty",
    }
    assert examples["oxigraph"].sparql("ASK { ?s ?p ?o }").to_python() is True


# --- result formats read back by independent parsers --------------------------------------


def _sample(tricky: dict[str, KnowledgeGraph]) -> QueryResult:
    result = tricky["oxigraph"].sparql(
        "SELECT ?p ?o ?missing WHERE { <http://example.org/a> ?p ?o }"
    )
    assert len(result.rows) == 16
    return result


def _from_ox(value: object) -> Term:
    from khalis_kg.rdfio import from_ox

    return from_ox(value)


@pytest.mark.parametrize(
    ("fmt", "ox_format"),
    [
        ("json", ox.QueryResultsFormat.JSON),
        ("xml", ox.QueryResultsFormat.XML),
        ("tsv", ox.QueryResultsFormat.TSV),
    ],
)
def test_results_read_back_by_pyoxigraph(
    tricky: dict[str, KnowledgeGraph], fmt: str, ox_format: ox.QueryResultsFormat
) -> None:
    result = _sample(tricky)
    data, _media = result.serialize(fmt)
    parsed = ox.parse_query_results(data, ox_format)
    assert [v.value for v in parsed.variables] == ["p", "o", "missing"]
    rows = []
    for solution in parsed:
        rows.append({v: _from_ox(solution[v]) for v in ("p", "o") if solution[v] is not None})
        assert solution["missing"] is None
    bnodes = [r for r in rows if r["o"].type == "bnode"]
    assert len(bnodes) == 1
    assert [r for r in rows if r["o"].type != "bnode"] == [
        r for r in result.rows if r["o"].type != "bnode"
    ]


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_results_read_back_by_rdflib(tricky: dict[str, KnowledgeGraph], fmt: str) -> None:
    result = _sample(tricky)
    data, _ = result.serialize(fmt)
    if fmt == "csv":
        parsed = CSVResultParser().parse(io.StringIO(data.decode("utf-8")))
    else:
        from khalis_kg.backends.memory import _lexical_forms_kept

        with _lexical_forms_kept():  # read back the lexical forms as written
            parsed = Result.parse(io.BytesIO(data), format=fmt)
    assert [str(v) for v in parsed.vars] == ["p", "o", "missing"]
    from khalis_kg.backends.memory import from_rdflib

    values = [row[1] for row in parsed]
    expected = [r["o"] for r in result.rows]
    assert len(values) == len(expected) == 16
    for got, term in zip(values, expected, strict=True):
        if term.type == "bnode":
            assert str(got).removeprefix("_:") == term.value
        elif fmt == "csv":
            assert str(got) == term.value
        else:
            assert from_rdflib(got) == term


def test_csv_is_w3c(tricky: dict[str, KnowledgeGraph]) -> None:
    data, media = _sample(tricky).serialize("csv")
    assert media == "text/csv; charset=utf-8"
    text = data.decode("utf-8")
    assert text.startswith("p,o,missing\r\n")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert ["http://example.org/text", 'tab\there, comma "quoted"\nnew line <&>', ""] in rows


def test_ask_formats(kg: KnowledgeGraph) -> None:
    answer = kg.sparql("ASK { ?s a kg:Claim }")
    assert json.loads(answer.serialize("json")[0]) == {"head": {}, "boolean": True}
    assert bool(ox.parse_query_results(answer.serialize("xml")[0], ox.QueryResultsFormat.XML))
    assert answer.serialize("table")[0] == b"true\n"


def test_table_format(examples: dict[str, KnowledgeGraph]) -> None:
    data, media = examples["oxigraph"].query("event-quantities", minimum=51).serialize("table")
    assert media == "text/plain; charset=utf-8"
    assert data.decode() == (
        "event  minimum  quantity  qualifier  value  statedAs\n"
        "-----  -------  --------  ---------  -----  --------\n"
        "(0 rows)\n"
    )


@pytest.mark.parametrize(
    ("fmt", "rdflib_format"), [("turtle", "turtle"), ("jsonld", "json-ld"), ("xml", "xml")]
)
def test_graph_result_reads_back(
    examples: dict[str, KnowledgeGraph], fmt: str, rdflib_format: str
) -> None:
    import rdflib

    result = examples["oxigraph"].query("construct-event", event=EVENT)
    reference = rdflib.Graph().parse(data=result.serialize("nt")[0], format="nt")
    assert len(reference) == len(result.triples) > 10
    data, _media = result.serialize(fmt)
    assert_isomorphic(rdflib.Graph().parse(data=data, format=rdflib_format), reference, fmt)


def test_graph_result_formats(examples: dict[str, KnowledgeGraph]) -> None:
    result = examples["oxigraph"].query("construct-event", event=EVENT)
    turtle = result.serialize("turtle")[0].decode()
    assert "@prefix event: <https://w3id.org/khalis-kg/id/event/> ." in turtle
    assert "@prefix void:" not in turtle  # only the prefixes used
    with pytest.raises(Exception, match="not available for graph results"):
        result.serialize("csv")


EVENTS = [
    ID + "event/" + slug
    for slug in (
        "al-khalis-curfew",
        "al-khalis-house-searches",
        "al-khalis-prison-break-2015",
        "diyala-prison-breaks-since-2014-06",
        "diyala-suicide-attacks",
        "isil-iraqi-military-conflict",
        "significant-violence-in-the-area",
    )
]


def test_the_seven_events(kgs: dict[str, KnowledgeGraph]) -> None:
    rows = kgs["oxigraph"].sparql("SELECT ?e WHERE { ?e a sem:Event }").rows
    assert sorted(r["e"].value for r in rows) == sorted(EVENTS)


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: e.rsplit("/", 1)[1])
@pytest.mark.parametrize("name", EVENT_QUERIES)
def test_packaged_queries_agree_for_every_event(
    kgs: dict[str, KnowledgeGraph], name: str, event: str
) -> None:
    """Parameters bound by substitution (Oxigraph) and initBindings (rdflib) agree."""
    assert kgs["oxigraph"].query(name, event=event) == kgs["memory"].query(name, event=event)


def test_query_limits_and_mapping_parameters(kg: KnowledgeGraph) -> None:
    event = "https://w3id.org/khalis-kg/id/event/al-khalis-prison-break-2015"
    by_keyword = kg.query("casualties", event=event)
    by_mapping = kg.query("casualties", {"event": event}, timeout=30.0)
    assert by_mapping.to_python() == by_keyword.to_python()
    with pytest.raises(QueryTimeoutError, match="more than 2 results"):
        kg.query("casualties", event=event, max_rows=2)
    with pytest.raises(QueryTimeoutError, match="more than 5 results"):
        kg.sparql("SELECT * WHERE { ?s ?p ?o }", max_rows=5)


# --- DataFrames ------------------------------------------------------------------------------


def test_to_dataframe_select(examples: dict[str, KnowledgeGraph]) -> None:
    result = examples["oxigraph"].query("event-quantities", event=EVENT)
    frame = result.to_dataframe()
    assert list(frame.columns) == result.variables
    assert sorted(frame["quantity"]) == sorted(Q + q for q, *_ in EVENT_QUANTITIES)


def test_to_dataframe_values(kg: KnowledgeGraph) -> None:
    text = (
        "SELECT ?q ?v WHERE { ?q <https://schema.org/value> ?v "
        "FILTER (?q = <https://w3id.org/khalis-kg/id/quantity/killed-police-officers>) }"
    )
    frame = kg.sparql(text).to_dataframe()
    assert frame.to_dict("records") == [{"q": Q + "killed-police-officers", "v": 12}]


def test_to_dataframe_ask_and_graph(kg: KnowledgeGraph) -> None:
    assert kg.sparql("ASK { ?s a kg:Claim }").to_dataframe().to_dict("records") == [
        {"boolean": True}
    ]
    text = (
        "CONSTRUCT { <https://w3id.org/khalis-kg/id/quantity/killed-police-officers> "
        "<https://schema.org/value> ?v } WHERE { "
        "<https://w3id.org/khalis-kg/id/quantity/killed-police-officers> "
        "<https://schema.org/value> ?v }"
    )
    frame = kg.sparql(text).to_dataframe()
    assert list(frame.columns) == ["subject", "predicate", "object"]
    assert frame.to_dict("records") == [
        {
            "subject": Q + "killed-police-officers",
            "predicate": "https://schema.org/value",
            "object": 12,
        }
    ]


def test_to_dataframe_without_pandas_says_what_to_install(
    kg: KnowledgeGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "pandas", None)  # import pandas -> ImportError
    with pytest.raises(KhalisError, match=r"pip install 'khalis-kg\[pandas\]'"):
        kg.sparql("ASK { ?s ?p ?o }").to_dataframe()


@pytest.mark.parametrize("backend", BACKENDS)
def test_named_graphs_are_kept_by_export_and_stats(tmp_path: Path, backend: str) -> None:
    data, graph = tmp_path / "d.ttl", tmp_path / "g.nt"
    data.write_text("<http://ex/a> <http://ex/p> <http://ex/b> .\n", "utf-8")
    graph.write_text('<http://ex/a> <http://ex/p> "in g" .\n', "utf-8")
    kg = KnowledgeGraph.load([data], backend=backend, named_graphs={"http://ex/g": graph})
    assert kg.export("nq").decode().splitlines() == [
        '<http://ex/a> <http://ex/p> "in g" <http://ex/g> .',
        "<http://ex/a> <http://ex/p> <http://ex/b> .",
    ]
    assert (kg.stats().triples, kg.stats().named_graphs) == (2, 1)
    assert kg.sparql("SELECT ?o WHERE { ?s ?p ?o }").to_python() == [{"o": "http://ex/b"}]

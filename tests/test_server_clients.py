"""Real SPARQL clients against the live server: SPARQLWrapper and rdflib's SPARQLStore."""

from __future__ import annotations

import pytest
from server_helpers import BASE

pytestmark = pytest.mark.server

PLACES = f'FILTER(STRSTARTS(STR(?s), "{BASE}id/place/"))'
LABELS = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?s ?label WHERE {{ ?s rdfs:label ?label {PLACES} }} ORDER BY ?s"""
CONSTRUCT = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
CONSTRUCT {{ ?s rdfs:label ?label }} WHERE {{ ?s rdfs:label ?label {PLACES} }}"""


def test_sparqlwrapper_select_json(live_server: str) -> None:
    from SPARQLWrapper import JSON, POST, SPARQLWrapper

    for method in (None, POST):
        sw = SPARQLWrapper(live_server + "/sparql")
        if method:
            sw.setMethod(method)
        sw.setQuery(LABELS)
        sw.setReturnFormat(JSON)
        result = sw.query().convert()
        assert isinstance(result, dict)
        rows = result["results"]["bindings"]
        labels = {r["label"]["value"] for r in rows}
        assert "Al Khalis" in labels
        assert rows[0]["s"]["type"] == "uri"


def test_sparqlwrapper_construct(live_server: str) -> None:
    import rdflib
    from SPARQLWrapper import JSONLD, N3, TURTLE, XML, SPARQLWrapper

    for fmt in (TURTLE, XML, N3, JSONLD):
        sw = SPARQLWrapper(live_server + "/sparql")
        sw.setQuery(CONSTRUCT)
        sw.setReturnFormat(fmt)
        result = sw.query()
        converted = result.convert()
        if isinstance(converted, bytes):
            syntax = {TURTLE: "turtle", N3: "turtle", JSONLD: "json-ld"}[fmt]
            graph = rdflib.Graph().parse(data=converted, format=syntax)
        else:
            graph = converted
        assert isinstance(graph, rdflib.Graph)
        al_khalis = rdflib.URIRef(BASE + "id/place/al-khalis")
        assert (al_khalis, rdflib.RDFS.label, rdflib.Literal("Al Khalis", lang="en")) in graph


def test_sparqlwrapper_ask_and_errors(live_server: str) -> None:
    from SPARQLWrapper import JSON, SPARQLWrapper
    from SPARQLWrapper.SPARQLExceptions import QueryBadFormed

    sw = SPARQLWrapper(live_server + "/sparql")
    sw.setQuery("ASK { ?s ?p ?o }")
    sw.setReturnFormat(JSON)
    assert sw.query().convert()["boolean"] is True
    sw.setQuery("SELECT ?x WHERE { ?x ?y }")
    with pytest.raises(QueryBadFormed):
        sw.query()


def test_rdflib_sparqlstore(live_server: str) -> None:
    import rdflib
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    al_khalis = rdflib.URIRef(BASE + "id/place/al-khalis")
    # JSON results: SELECT, ASK and triple patterns (the store turns them into SELECTs).
    graph = rdflib.Graph(store=SPARQLStore(live_server + "/sparql", returnFormat="json"))
    rows = list(graph.query(LABELS))
    assert any(str(row[1]) == "Al Khalis" for row in rows)  # type: ignore[index]
    assert graph.query("ASK { ?s ?p ?o }").askAnswer is True
    labels = list(graph.objects(al_khalis, rdflib.RDFS.label))
    assert rdflib.Literal("Al Khalis", lang="en") in labels
    # The default (XML results, RDF/XML graphs), POST, and the dataset named explicitly.
    store = SPARQLStore(live_server + "/sparql", method="POST")
    named = rdflib.Graph(store=store, identifier=rdflib.URIRef(BASE + "dataset"))
    assert any(str(r[1]) == "Al Khalis" for r in named.query(LABELS))  # type: ignore[index]
    constructed = named.query(CONSTRUCT).graph
    assert constructed is not None
    assert (al_khalis, rdflib.RDFS.label, rdflib.Literal("Al Khalis", lang="en")) in constructed

"""Export: every format read back by rdflib and by pyoxigraph is the same graph; atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from helpers import BACKENDS, assert_isomorphic
from pyld import jsonld

from khalis_kg import KnowledgeGraph, resources
from khalis_kg.errors import KhalisError, OutputError
from khalis_kg.export import jsonld_context
from khalis_kg.rdfio import formats_of

RDF_FORMAT_NAMES = [f.name for f in formats_of("rdf")]

RDFLIB_FORMAT = {
    "turtle": "turtle",
    "nt": "nt",
    "nq": "nquads",
    "trig": "trig",
    "xml": "xml",
    "jsonld": "json-ld",
}
OX_FORMAT = {
    "turtle": ox.RdfFormat.TURTLE,
    "nt": ox.RdfFormat.N_TRIPLES,
    "nq": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "xml": ox.RdfFormat.RDF_XML,
    "jsonld": ox.RdfFormat.JSON_LD,
}


def _source_graph(with_ontology: bool = False) -> rdflib.Graph:
    graph = rdflib.Graph().parse(data=resources.data_file().read_bytes(), format="turtle")
    if with_ontology:
        for entry in resources.ontology_files():
            graph.parse(data=entry.read_bytes(), format="turtle")
    return graph


@pytest.fixture(scope="module")
def source() -> rdflib.Graph:
    return _source_graph()


def read_with_rdflib(data: bytes, fmt: str) -> rdflib.Graph:
    if fmt in ("nq", "trig"):
        dataset = rdflib.Dataset()
        dataset.parse(data=data, format=RDFLIB_FORMAT[fmt])
        graph = rdflib.Graph()
        for s, p, o, _g in dataset.quads((None, None, None, None)):
            graph.add((s, p, o))
        return graph
    return rdflib.Graph().parse(data=data, format=RDFLIB_FORMAT[fmt])


def read_with_oxigraph(data: bytes, fmt: str) -> rdflib.Graph:
    triples = [ox.Triple(q.subject, q.predicate, q.object) for q in ox.parse(data, OX_FORMAT[fmt])]
    nt = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
    return rdflib.Graph().parse(data=nt, format="nt")


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fmt", sorted(RDF_FORMAT_NAMES))
def test_export_reads_back_identically(
    kgs: dict[str, KnowledgeGraph], source: rdflib.Graph, backend: str, fmt: str
) -> None:
    data = kgs[backend].export(fmt)
    assert_isomorphic(read_with_rdflib(data, fmt), source, f"{backend} {fmt} via rdflib")
    assert_isomorphic(read_with_oxigraph(data, fmt), source, f"{backend} {fmt} via pyoxigraph")


def test_jsonld_expanded_by_pyld(kg: KnowledgeGraph, source: rdflib.Graph) -> None:
    document = json.loads(kg.export("jsonld"))
    assert document["@context"] == jsonld_context()
    expanded = jsonld.expand(document)
    nquads = jsonld.to_rdf(expanded, {"format": "application/n-quads"})
    graph = rdflib.Graph().parse(data=nquads, format="nt")
    assert_isomorphic(graph, source, "JSON-LD expanded by pyld")


def test_jsonld_is_compact_and_readable(kg: KnowledgeGraph) -> None:
    document = json.loads(kg.export("jsonld"))
    nodes = {node["@id"]: node for node in document["@graph"]}
    event = nodes["event:al-khalis-prison-break-2015"]
    assert event["@type"] == "sem:Event"
    assert "hasQuantity" in event
    assert "quantity:escaped-prisoners" in event["hasQuantity"]


def test_context_covers_prefixes_and_ontology_terms() -> None:
    from khalis_kg.namespaces import KG, PREFIXES

    context = jsonld_context()
    for prefix, namespace in PREFIXES.items():
        assert context[prefix] == namespace
    ontology = rdflib.Graph().parse(
        data=resources.ontology_files()[0].read_bytes(), format="turtle"
    )
    owl = rdflib.Namespace("http://www.w3.org/2002/07/owl#")
    local = {
        str(s)[len(KG) :]
        for kind in (owl.ObjectProperty, owl.DatatypeProperty, owl.Class)
        for s in ontology.subjects(rdflib.RDF.type, kind)
        if str(s).startswith(KG)
    }
    assert local - set(context) == set()


@pytest.mark.parametrize("fmt", ["turtle", "jsonld"])
def test_with_ontology(kg: KnowledgeGraph, fmt: str) -> None:
    data = kg.export(fmt, with_ontology=True)
    expected = _source_graph(True)
    assert_isomorphic(read_with_rdflib(data, fmt), expected, f"{fmt} with ontology, rdflib")
    assert_isomorphic(read_with_oxigraph(data, fmt), expected, f"{fmt} with ontology, oxigraph")


@pytest.mark.parametrize("fmt", sorted(RDF_FORMAT_NAMES))
def test_export_is_deterministic(kgs: dict[str, KnowledgeGraph], fmt: str) -> None:
    """Same graph, same bytes: blank nodes get canonical (RDFC-1.0) labels."""
    fresh = KnowledgeGraph.load()
    data = kgs["oxigraph"].export(fmt)
    assert data == fresh.export(fmt) == kgs["memory"].export(fmt)


def test_unknown_format(kg: KnowledgeGraph) -> None:
    with pytest.raises(KhalisError, match="format 'rdfa' is not available for RDF data"):
        kg.export("rdfa")


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("TTL", "turtle"),
        ("n3", "turtle"),
        ("N-Triples", "nt"),
        ("json-ld", "jsonld"),
        ("rdfxml", "xml"),
        ("nquads", "nq"),
    ],
)
def test_format_aliases(kg: KnowledgeGraph, alias: str, name: str) -> None:
    """Aliases and case do not matter (Turtle is the RDF subset of N3)."""
    assert kg.export(alias) == kg.export(name)


# --- atomic writes -------------------------------------------------------------------------


def test_write_to_path(kg: KnowledgeGraph, tmp_path: Path) -> None:
    target = tmp_path / "graph.ttl"
    target.write_text("old", "utf-8")
    data = kg.export("turtle", target)
    assert target.read_bytes() == data
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.ttl"]


def test_failed_write_leaves_no_partial_file(
    kg: KnowledgeGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "graph.nt"
    target.write_text("old", "utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OutputError, match=r"graph\.nt: cannot write \(No space left on device\)"):
        kg.export("nt", target)
    assert target.read_text("utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.nt"]


def test_unwritable_paths(kg: KnowledgeGraph, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x", "utf-8")
    with pytest.raises(OutputError, match="does not exist"):
        kg.export("nt", blocker / "out.nt")
    with pytest.raises(OutputError, match="does not exist"):
        kg.export("nt", tmp_path / "missing" / "out.nt")
    with pytest.raises(OutputError, match="is a directory"):
        kg.export("nt", tmp_path)


@pytest.mark.parametrize("backend", BACKENDS)
def test_construct_answer_as_compact_jsonld(kgs: dict[str, KnowledgeGraph], backend: str) -> None:
    """A CONSTRUCT answer in JSON-LD uses the packaged context and reads back unchanged."""
    result = kgs[backend].query("construct-schema-org")
    data, media_type = result.serialize("jsonld")
    assert media_type == "application/ld+json"
    document = json.loads(data)
    assert document["@context"] == jsonld_context()
    assert all("@type" in node for node in document["@graph"])
    expected = rdflib.Graph().parse(data=result.serialize("nt")[0], format="nt")
    got = rdflib.Graph().parse(data=data, format="json-ld")
    assert_isomorphic(got, expected, f"construct-schema-org as JSON-LD on {backend}")

"""data/khalis.ttl is generated from data/authoring/khalis.trig, deterministically.

The shipped file must be exactly the generator's output (so that nobody edits the
generated file by hand, and the authoring source is the truth), it must be plain
Turtle that rdflib and Oxigraph read alike, and the generator must refuse an
authoring source that hides content where no sentence backs it.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from authoring import AuthoringError, build, main, statement_iri
from helpers import REPO

SOURCE = REPO / "data" / "authoring" / "khalis.trig"
DATA = REPO / "data" / "khalis.ttl"

PREFIXES = """\
@prefix kg: <https://w3id.org/khalis-kg/ontology#> .
@prefix kgc: <https://w3id.org/khalis-kg/concept/> .
@prefix event: <https://w3id.org/khalis-kg/id/event/> .
@prefix span: <https://w3id.org/khalis-kg/id/span/> .
@prefix inference: <https://w3id.org/khalis-kg/id/inference/> .
@prefix sem: <http://semanticweb.cs.vu.nl/2009/11/sem/> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def test_shipped_data_is_the_generators_output() -> None:
    assert DATA.read_text(encoding="utf-8") == build(SOURCE.read_text(encoding="utf-8")), (
        "data/khalis.ttl is stale: run python tools/authoring.py"
    )


def test_check_mode(tmp_path: Path) -> None:
    assert main([str(SOURCE), str(DATA), "--check"]) == 0
    stale = tmp_path / "khalis.ttl"
    stale.write_text("# edited by hand\n", encoding="utf-8")
    assert main([str(SOURCE), str(stale), "--check"]) == 1


def test_output_is_plain_turtle_read_alike() -> None:
    text = DATA.read_bytes()
    with_rdflib = rdflib.Graph().parse(data=text, format="turtle")
    with_oxigraph = list(ox.parse(text, ox.RdfFormat.TURTLE))
    assert len(with_rdflib) == len(with_oxigraph) == 2881
    # the union of the authoring graphs is in it, nothing lost
    authored = rdflib.Dataset()
    authored.parse(SOURCE, format="trig")
    for s, p, o, _g in authored.quads((None, None, None, None)):
        if not isinstance(o, rdflib.BNode) and not isinstance(s, rdflib.BNode):
            assert (s, p, o) in with_rdflib


def test_statement_iris_are_stable() -> None:
    s = rdflib.URIRef("https://w3id.org/khalis-kg/id/event/al-khalis-prison-break-2015")
    p = rdflib.URIRef("http://semanticweb.cs.vu.nl/2009/11/sem/hasTimeStamp")
    o = rdflib.Literal("2015-05-08", datatype=rdflib.XSD.date)
    iri = statement_iri(s, p, o)
    assert iri.startswith("https://w3id.org/khalis-kg/id/statement/")
    graph = rdflib.Graph().parse(DATA)
    node = rdflib.URIRef(iri)
    assert (node, rdflib.RDF.subject, s) in graph
    assert (node, rdflib.RDF.object, o) in graph


SPAN = """
span:s a oa:SpecificResource .
inference:i a kg:Inference .
event:e a sem:Event ; rdfs:label "e"@en .
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(
            SPAN + 'event:e sem:hasTimeStamp "2015-05-08"^^xsd:date .',
            "is content: put it in a span's graph",
            id="content-in-the-default-graph",
        ),
        pytest.param(
            SPAN + "event:undeclared { event:e sem:eventType kgc:curfew . }",
            "neither a declared span nor a kg:Inference",
            id="graph-of-no-sentence",
        ),
        pytest.param(
            SPAN
            + "span:s { event:e sem:eventType kgc:curfew . }\n"
            + "inference:i { event:e sem:eventType kgc:curfew . }",
            "is both stated and inferred",
            id="stated-and-inferred",
        ),
        pytest.param(
            SPAN + 'span:s { event:e rdfs:label "a label is a name"@en . }',
            "is not a world statement",
            id="name-in-a-span",
        ),
    ],
)
def test_the_generator_refuses(body: str, message: str) -> None:
    with pytest.raises(AuthoringError, match=message):
        build(PREFIXES + body)


def test_a_minimal_source() -> None:
    text = build(
        PREFIXES
        + SPAN
        + "span:s { event:e sem:eventType kgc:curfew . }\n"
        + 'inference:i { event:e sem:hasTimeStamp "2015-05-08"^^xsd:date . }\n'
    )
    graph = rdflib.Graph().parse(data=text, format="turtle")
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    e = rdflib.URIRef("https://w3id.org/khalis-kg/id/event/e")
    statements = set(graph.subjects(rdflib.RDF.type, rdflib.RDF.Statement))
    assert len(statements) == 2
    # node-level provenance: the spans of the stated statements only
    assert set(graph.objects(e, prov.wasDerivedFrom)) == {
        rdflib.URIRef("https://w3id.org/khalis-kg/id/span/s")
    }
    generated = {graph.value(st, prov.wasGeneratedBy) for st in statements}
    assert rdflib.URIRef("https://w3id.org/khalis-kg/id/inference/i") in generated

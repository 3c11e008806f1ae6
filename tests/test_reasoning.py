"""The ontology's alignments survive a reasoner.

The data and the ontology (with its concept schemes) are closed under the OWL RL rules
(owlrl) and under RDFS; the closure must not say surprising things: claims are not
collections, concepts are not occupations or role types, Wikidata's items are not
derived from Wikipedia sentences (no owl:sameAs), and every inferred type of a world
node is one its class's alignment intends. The graph still conforms to the shapes
under both (see also tests/test_shapes.py for RDFS).
"""

from __future__ import annotations

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from khalis_kg import resources
from khalis_kg.api import packaged_source
from khalis_kg.namespaces import ID, KG, PREFIXES
from khalis_kg.validation import validate

SEM, GEO, FOAF, PROV, SCHEMA, SKOS, OA = (
    rdflib.Namespace(PREFIXES[p]) for p in ("sem", "geo", "foaf", "prov", "schema", "skos", "oa")
)
K = rdflib.Namespace(KG)
CIDOC_E89 = URIRef("http://www.cidoc-crm.org/cidoc-crm/E89_Propositional_Object")

# class → every type a node of that class may carry after the closure
EXPECTED_TYPES = {
    K.Claim: {K.Claim, PROV.Entity, CIDOC_E89},
    K.Account: {K.Account, PROV.Collection, PROV.Entity},
    K.Step: {K.Step},
    K.Quantity: {K.Quantity, SCHEMA.QuantitativeValue},
    K.EventLink: {K.EventLink},
    SEM.Event: {SEM.Event},
    GEO.Feature: {GEO.Feature, SCHEMA.Place},
    FOAF.Person: {FOAF.Person, PROV.Agent},
    FOAF.Organization: {FOAF.Organization, PROV.Agent},
    FOAF.Group: {FOAF.Group, PROV.Agent},
    K.InformationSource: {K.InformationSource, PROV.Entity},
    K.Inference: {K.Inference, PROV.Activity},
    RDF.Statement: {RDF.Statement, PROV.Entity},
    SKOS.Concept: {SKOS.Concept, URIRef(PREFIXES["sem"] + "EventType"), SCHEMA.DefinedTerm},
}
# what a closure adds to every node, and means nothing here
TRIVIAL = {OWL.Thing, RDFS.Resource, OWL.NamedIndividual}


def _graph() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=resources.data_file().read_bytes(), format="turtle")
    for entry in resources.ontology_files():
        graph.parse(data=entry.read_bytes(), format="turtle")
    return graph


@pytest.fixture(scope="module", params=["owlrl", "rdfs"])
def closure(request: pytest.FixtureRequest) -> rdflib.Graph:
    import owlrl

    graph = _graph()
    semantics = owlrl.OWLRL_Semantics if request.param == "owlrl" else owlrl.RDFS_Semantics
    owlrl.DeductiveClosure(semantics).expand(graph)
    return graph


def test_no_surprising_inferred_types(closure: rdflib.Graph) -> None:
    surprises = []
    for cls, allowed in EXPECTED_TYPES.items():
        for node in closure.subjects(RDF.type, cls):
            if not isinstance(node, URIRef) or not str(node).startswith((ID, PREFIXES["kgc"])):
                continue
            # blank nodes: the owl:unionOf classes of union domains and ranges
            # (kg:hasQuantity's domain: an event or a place), which say no more
            extra = {t for t in closure.objects(node, RDF.type) if not isinstance(t, rdflib.BNode)}
            extra = extra - allowed - TRIVIAL
            # a node may have two of the classes above (an agent that is also a person)
            extra = {t for t in extra if not (t in EXPECTED_TYPES and (node, RDF.type, t))}
            if extra:
                surprises.append((str(node), sorted(str(t) for t in extra)))
    assert surprises == []


def test_claims_are_not_collections_nor_activities(closure: rdflib.Graph) -> None:
    claims = set(closure.subjects(RDF.type, K.Claim))
    assert len(claims) == 14
    for claim in claims:
        assert (claim, RDF.type, PROV.Collection) not in closure
        assert (claim, RDF.type, PROV.Activity) not in closure
    # accounts are the collections of the claims that support them
    riot = URIRef(ID + "account/internal-riot")
    if (riot, PROV.hadMember, None) in closure:  # OWL RL (owl:inverseOf); not RDFS
        members = set(closure.objects(riot, PROV.hadMember))
        assert URIRef(ID + "claim/official-internal-riot") in members


def test_concepts_stay_concepts(closure: rdflib.Graph) -> None:
    for concept in (URIRef(PREFIXES["kgc"] + "police-officer"), URIRef(PREFIXES["kgc"] + "head")):
        types = set(closure.objects(concept, RDF.type)) - TRIVIAL
        assert types == {SKOS.Concept}, concept


def test_wikidata_items_are_not_merged_with_ours(closure: rdflib.Graph) -> None:
    wikidata = {
        o for o in closure.objects() if str(o).startswith("http://www.wikidata.org/entity/")
    }
    assert len(wikidata) == 3
    for item in wikidata:
        assert (item, PROV.wasDerivedFrom, None) not in closure
        assert (item, RDFS.label, None) not in closure
        assert {o for o in closure.objects(item, OWL.sameAs)} <= {item}


def test_conforms_under_owl_rl() -> None:
    report = validate([packaged_source("data")], inference="owlrl")
    assert report.conforms, report.text

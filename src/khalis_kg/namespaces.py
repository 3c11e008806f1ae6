"""The project's namespaces and prefixes: the one place where they are defined.

Plain strings only, so that importing this module costs nothing; modules that use
rdflib build ``rdflib.Namespace`` objects from these strings.
"""

from __future__ import annotations

BASE = "https://w3id.org/khalis-kg/"
"""Root of every IRI the project mints (a permanent-identifier namespace)."""

ONTOLOGY = BASE + "ontology"
"""The ontology's own IRI."""

KG = ONTOLOGY + "#"
"""Terms of the khalis-kg ontology: classes, properties, individuals of the vocabulary."""

SHAPES = BASE + "shapes"
"""IRI of the SHACL shapes graph."""

SHAPE = SHAPES + "#"
"""Namespace of the SHACL shapes."""

ID = BASE + "id/"
"""Instance data: ``id/<type>/<slug>``, e.g. ``id/person/saad-maan-ibrahim``."""

CONCEPT = BASE + "concept/"
"""SKOS concept schemes and concepts: ``concept/<slug>`` (slugs are unique across schemes)."""

ID_TYPES: tuple[str, ...] = (
    "event",
    "claim",
    "account",
    "person",
    "organization",
    "group",
    "place",
    "location",
    "quantity",
    "position",
    "link",
    "channel",
    "document",
    "span",
)
"""The ``<type>`` segments of instance IRIs; each is also a prefix (``person:``)."""

DATASET = BASE + "dataset"
"""The dataset (DCAT/VoID description of the graph)."""

PREFIXES: dict[str, str] = {
    "kg": KG,
    "kgr": ID,
    "kgc": CONCEPT,
    "kgsh": SHAPE,
    **{t: ID + t + "/" for t in ID_TYPES},
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "dcterms": "http://purl.org/dc/terms/",
    "dcat": "http://www.w3.org/ns/dcat#",
    "void": "http://rdfs.org/ns/void#",
    "prov": "http://www.w3.org/ns/prov#",
    "sem": "http://semanticweb.cs.vu.nl/2009/11/sem/",
    "schema": "https://schema.org/",
    "time": "http://www.w3.org/2006/time#",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "oa": "http://www.w3.org/ns/oa#",
    "nif": "http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "wd": "http://www.wikidata.org/entity/",
}
"""Prefix → namespace, used for Turtle output, SPARQL prologues and the JSON-LD context."""


def sparql_prologue() -> str:
    """``PREFIX`` lines for every prefix in :data:`PREFIXES`."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())

"""The project's namespaces and prefixes: the one place where they are defined.

Plain strings only, so that importing this module costs nothing; modules that use
rdflib build ``rdflib.Namespace`` objects from these strings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

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
    "step",
    "inference",
    "statement",
)
"""The ``<type>`` segments of instance IRIs; each is also a prefix (``person:``)."""

DATASET = BASE + "dataset"
"""The dataset (DCAT/VoID description of the graph)."""

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"
RDF_TYPE = RDF + "type"

PREFIXES: dict[str, str] = {
    "kg": KG,
    "kgr": ID,
    "kgc": CONCEPT,
    "kgsh": SHAPE,
    **{t: ID + t + "/" for t in ID_TYPES},
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "sh": SH,
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


def _simple_local(local: str) -> bool:
    """A local name that reads back unchanged after ``prefix:`` in Turtle and SPARQL."""
    return (
        bool(local)
        and all(c.isalnum() or c in "_-." for c in local)
        and local[0] not in "-."
        and not local.endswith(".")
    )


def shorten(
    iri: str,
    prefixes: Mapping[str, str] | None = None,
    *,
    local_ok: Callable[[str], bool] = _simple_local,
) -> str:
    """``kg:Claim`` for ``https://w3id.org/khalis-kg/ontology#Claim``: the longest
    namespace of ``prefixes`` (default :data:`PREFIXES`) whose local part ``local_ok``
    accepts (by default one that reads back in Turtle and SPARQL); the IRI itself when
    none does. The one IRI-shortening function: tables, HTML pages, validation reports,
    statistics and the JSON-LD export (with its context's prefixes) use it."""
    best = ""
    best_prefix = ""
    for prefix, ns in (PREFIXES if prefixes is None else prefixes).items():
        if iri.startswith(ns) and len(ns) > len(best) and local_ok(iri[len(ns) :]):
            best, best_prefix = ns, prefix
    return f"{best_prefix}:{iri[len(best) :]}" if best else iri


def used_prefixes(iris: Iterable[str]) -> dict[str, str]:
    """The entries of :data:`PREFIXES` whose namespace starts one of ``iris``."""
    seen = set(iris)
    return {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in seen)}

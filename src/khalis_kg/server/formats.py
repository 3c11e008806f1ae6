"""Media types the endpoint offers, and how a request picks one.

Result forms follow the facade: ``"select"`` and ``"ask"`` give SPARQL results,
``"graph"`` (CONSTRUCT, DESCRIBE) gives RDF. The keys (``"json"``, ``"turtle"``…)
are the format names of :meth:`QueryResult.serialize`.
"""

from __future__ import annotations

from collections.abc import Sequence

from .negotiation import negotiate

RESULTS_OFFERS: dict[str, str] = {
    # media type -> serialize() format, in the server's order of preference
    "application/sparql-results+json": "json",
    "application/sparql-results+xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "application/json": "json",
    "application/xml": "xml",
}

GRAPH_OFFERS: dict[str, str] = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "xml",
    "application/x-turtle": "turtle",
    "application/json": "jsonld",
    "application/xml": "xml",
}

FORMAT_PARAM: dict[str, dict[str, str]] = {
    # value of the ``format=`` request parameter -> media type, per result kind
    "results": {
        "json": "application/sparql-results+json",
        "srj": "application/sparql-results+json",
        "xml": "application/sparql-results+xml",
        "srx": "application/sparql-results+xml",
        "csv": "text/csv",
        "tsv": "text/tab-separated-values",
    },
    "graph": {
        "ttl": "text/turtle",
        "turtle": "text/turtle",
        "nt": "application/n-triples",
        "ntriples": "application/n-triples",
        "jsonld": "application/ld+json",
        "json": "application/ld+json",
        "n3": "text/turtle",  # Turtle is N3's RDF subset (SPARQLWrapper sends format=n3)
        "rdf": "application/rdf+xml",
        "rdfxml": "application/rdf+xml",
        "rdf+xml": "application/rdf+xml",
        "xml": "application/rdf+xml",
        "json-ld": "application/ld+json",
    },
}

FILE_EXTENSIONS: dict[str, str] = {
    "application/sparql-results+json": "srj",
    "application/sparql-results+xml": "srx",
    "application/json": "json",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/n-triples": "nt",
    "application/ld+json": "jsonld",
    "application/rdf+xml": "rdf",
}

ALL_QUERY_MEDIA_TYPES: tuple[str, ...] = tuple(dict.fromkeys([*RESULTS_OFFERS, *GRAPH_OFFERS]))


def offers_for(form: str) -> dict[str, str]:
    return GRAPH_OFFERS if form == "graph" else RESULTS_OFFERS


def known_format_names() -> set[str]:
    return set(FORMAT_PARAM["results"]) | set(FORMAT_PARAM["graph"])


def choose(
    form: str, accept: str | None, format_params: Sequence[str] = ()
) -> tuple[str, str] | None:
    """``(media_type, serialize_format)`` for a result of this form, or None (406).

    Explicit ``format=`` parameters win over the ``Accept`` header; the first one that
    suits this form is used (some clients send several, e.g. ``json`` and ``json-ld``).
    """
    offers = offers_for(form)
    if format_params:
        kind = "graph" if form == "graph" else "results"
        for value in format_params:
            media = FORMAT_PARAM[kind].get(value.lower())
            if media is not None:
                return media, offers[media]
        return None
    media = negotiate(accept, list(offers))
    return None if media is None else (media, offers[media])


def acceptable_at_all(accept: str | None) -> bool:
    """Whether any query result could satisfy this ``Accept`` header (early 406)."""
    return negotiate(accept, ALL_QUERY_MEDIA_TYPES) is not None

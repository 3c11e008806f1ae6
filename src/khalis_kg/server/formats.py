"""Media types the endpoint offers, and how a request picks one.

Result forms follow the facade: ``"select"`` and ``"ask"`` give SPARQL results,
``"graph"`` (CONSTRUCT, DESCRIBE) gives RDF. Every table here is built from the one
vocabulary of format names, :data:`khalis_kg.rdfio.FORMATS` (names, aliases, media
types), which the command line uses too.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..rdfio import Format, formats_of
from .negotiation import negotiate


def _offers(formats: list[Format]) -> dict[str, str]:
    """media type -> format name, in the server's order of preference: every format's
    own media type first, then the generic ones (``application/json``...)."""
    offers = {f.media_type: f.name for f in formats}
    for f in formats:
        for media in f.other_media_types:
            offers.setdefault(media, f.name)
    return offers


_RESULTS = [f for f in formats_of("results") if f.name != "table"]
_GRAPH = formats_of("graph")

RESULTS_OFFERS: dict[str, str] = _offers(_RESULTS)
"""SELECT and ASK: media type -> format name (:mod:`khalis_kg.rdfio`), preferred first
(the order of :data:`~khalis_kg.rdfio.FORMATS`: JSON, XML, CSV, TSV)."""

GRAPH_OFFERS: dict[str, str] = _offers(_GRAPH)
"""CONSTRUCT and DESCRIBE: media type -> format name, preferred first."""

GRAPH_MEDIA_TYPES: dict[str, str] = {f.media_type: f.name for f in _GRAPH}
"""Each graph format's own media type -> its name (what a resource page is offered as)."""

FORMAT_PARAM: dict[str, dict[str, str]] = {
    # value of the ``format=`` request parameter (any case) -> media type, per result kind
    "results": {name: f.media_type for f in _RESULTS for name in f.names},
    "graph": {name: f.media_type for f in _GRAPH for name in f.names},
}

ALL_QUERY_MEDIA_TYPES: tuple[str, ...] = tuple(dict.fromkeys([*RESULTS_OFFERS, *GRAPH_OFFERS]))
FORMAT_NAMES = frozenset({*FORMAT_PARAM["results"], *FORMAT_PARAM["graph"]})


def offers_for(form: str) -> dict[str, str]:
    return GRAPH_OFFERS if form == "graph" else RESULTS_OFFERS


def choose(
    form: str, accept: str | None, format_params: Sequence[str] = ()
) -> tuple[str, str] | None:
    """``(media_type, serialize_format)`` for a result of this form, or None (406).

    Explicit ``format=`` parameters win over the ``Accept`` header; the first one that
    suits this form is used (some clients send several, e.g. ``json`` and ``json-ld``).
    """
    offers = offers_for(form)
    if format_params:
        known = FORMAT_PARAM["graph" if form == "graph" else "results"]
        media = next((known[v.lower()] for v in format_params if v.lower() in known), None)
    else:
        media = negotiate(accept, list(offers))
    return None if media is None else (media, offers[media])

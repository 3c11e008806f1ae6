"""Server-side HTML for resource pages (the Cool-URIs "HTML for browsers" half).

Everything that comes from the graph goes through :func:`esc` (text and attribute
values alike), and only ``http``/``https`` IRIs become links: an IRI such as
``javascript:…`` in the data is shown, never followed.

The SPARQL that describes a resource is in ``queries/pages/`` (the resource bound as
``?resource``, never written into the text); :func:`description_queries` names it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .. import diagrams
from ..errors import esc
from ..namespaces import BASE, KG, ONTOLOGY, RDF_TYPE, RDFS, shorten

SAFE_PATH = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%/-]*")
"""Characters allowed in a resource path: valid inside a SPARQL IRIREF, no escapes."""

EXTERNAL = re.compile(r"https?://[^\x00-\x20\x7f<>\"'`\\]+")
"""An IRI linked as itself: http(s), no whitespace, control characters, quotes or
backslash (browsers read a backslash as a slash and drop tabs and newlines)."""

LABEL_PREDICATES = (
    RDFS + "label",
    "http://www.w3.org/2004/02/skos/core#prefLabel",
    "http://xmlns.com/foaf/0.1/name",
    "http://purl.org/dc/terms/title",
)
COMMENT_PREDICATES = (RDFS + "comment", "http://www.w3.org/2004/02/skos/core#definition")

Binding = dict[str, dict[str, str]]
"""One row of SPARQL JSON results: variable -> {"type", "value", ...}."""


def local_path(iri: str) -> str | None:
    """The server path of an IRI under the project namespace (fragment kept), else None.

    The path is a path-absolute reference that stays on this server, whatever the IRI:
    only :data:`SAFE_PATH` characters (no backslash, which browsers read as a slash, no
    whitespace or control characters, which they drop), and never ``//`` at its start,
    which would make ``https://w3id.org/khalis-kg//evil.example/x`` a link to another
    host (``href="//evil.example/x"``). Such IRIs are linked as themselves instead.
    """
    rest = iri[len(BASE) :]  # the path, and the fragment after its first "#"
    if iri.startswith(BASE) and not rest.startswith("/"):
        return "/" + rest if SAFE_PATH.fullmatch(rest.replace("#", "", 1)) else None
    return None


def href(iri: str) -> str | None:
    """Where a link to ``iri`` should point, or None when it must not be a link."""
    return local_path(iri) or (iri if EXTERNAL.fullmatch(iri) else None)


def link(iri: str, text: str | None = None) -> str:
    shown = esc(text if text else shorten(iri))
    if (target := href(iri)) is None:
        return f'<span class="iri">{shown}</span>'
    external = "" if target.startswith("/") else ' rel="noopener noreferrer" class="external"'
    return f'<a href="{esc(target)}" title="{esc(iri)}"{external}>{shown}</a>'


def term_html(term: Mapping[str, str], label: str | None = None) -> str:
    kind = term.get("type")
    value = term.get("value", "")
    if kind == "uri":
        return link(value, label)
    if kind == "bnode":
        return f'<span class="bnode">_:{esc(value)}</span>'
    extra = ""
    if "xml:lang" in term:
        extra = f'<span class="lang">@{esc(term["xml:lang"])}</span>'
    elif "datatype" in term:
        extra = f'<span class="datatype">^^{esc(shorten(term["datatype"]))}</span>'
    cls = "literal long" if len(value) > 300 or "\n" in value else "literal"
    return f'<span class="{cls}">{esc(value)}</span>{extra}'


# ------------------------------------------------------------------ SPARQL

DESCRIPTION = (
    "outgoing",
    "blank-nodes",
    "incoming",
    "quotes",
    "claims",
    "related-events",
    "quantities",
    "inferred",
)
"""The queries of ``queries/pages/`` that describe a resource (bound as ``?resource``),
in the order :func:`build_description` reads their answers."""


def description_queries(iri: str) -> list[tuple[str, dict[str, str]]]:
    """The queries describing ``iri`` with their parameters (:data:`DESCRIPTION`, and the
    ontology's terms on the ontology's page)."""
    queries: list[tuple[str, dict[str, str]]] = [(n, {"resource": iri}) for n in DESCRIPTION]
    if iri == ONTOLOGY:  # so that /ontology#Term lands on its row
        queries.append(("ontology-terms", {}))
    return queries


def construct_query(iri: str) -> tuple[str, dict[str, str]]:
    """The CONSTRUCT of the resource's description (``queries/pages/construct.rq``: out,
    blank-node closure (2 levels), in) with its parameters; the ontology's is its terms'."""
    return ("construct-ontology", {}) if iri == ONTOLOGY else ("construct", {"resource": iri})


# ------------------------------------------------------------------ model


def _first(row: Binding, *names: str) -> str | None:
    return next((row[name]["value"] for name in names if name in row), None)


@dataclass
class Statement:
    predicate: str
    predicate_label: str | None
    value: dict[str, str]
    value_label: str | None


@dataclass
class Claim:
    iri: str
    label: str | None
    predicates: dict[str, str | None] = field(default_factory=dict)
    claimants: dict[str, str | None] = field(default_factory=dict)
    channels: dict[str, str | None] = field(default_factory=dict)
    quotes: dict[str, None] = field(default_factory=dict)  # in order, each once


@dataclass
class Term:
    """A term of the ontology, for the list on the ontology's page."""

    iri: str
    types: dict[str, None] = field(default_factory=dict)  # in order, each once
    label: str | None = None
    comment: str | None = None


# A related event's link in the timeline's words (one wording), longer where a page has room
RELATION_PHRASES = diagrams.RELATION_WORDS | {"aftermath": "after it (aftermath)"}
CERTAINTY_PHRASES = diagrams.CERTAINTY_WORDS | {
    "unclear": "the article says it is unclear whether they are related",
    "not-stated": "the article does not say how they are related",
}


ROLE_PHRASES = {
    "about": "about this",
    "assertsResponsibility": "holds it responsible",
    "assertsQuantity": "states this number",
    "assertsCause": "gives this as the cause",
    "assertsMethod": "gives this as a method",
    "assertsAim": "gives this as the aim",
    "assertsExternalAttack": "says this of an attack from outside",
    "claimant": "made by it",
    "publishedIn": "published here",
    "supportsAccount": "supports this account",
    "contradicts": "contradicts it",
    "corroborates": "backs it",
}


def role_phrase(predicate: str, label: str | None) -> str:
    """How a claim refers to the described resource, in words: ``holds it responsible``."""
    phrase = ROLE_PHRASES.get(predicate[len(KG) :]) if predicate.startswith(KG) else None
    return phrase or f"linked to it by “{label or shorten(predicate)}”"


def quantity_words(q: Mapping[str, str]) -> str:
    """A quantity's number as the article hedges it (:func:`khalis_kg.diagrams.quantity_words`,
    the one phrasing) and its words: ``more than 50 (the article: “More than fifty”)``."""
    number = diagrams.quantity_words(q)
    stated = q.get("statedAs")
    words = f"the article: “{stated}”" if stated else ""
    return f"{number} ({words})" if number and words and number != stated else number or words


@dataclass
class Description:
    iri: str
    outgoing: list[Statement]
    blank: dict[str, list[tuple[str, dict[str, str]]]]
    incoming: list[Statement]
    quotes: list[tuple[str, str, str | None, str | None]]
    claims: list[Claim]
    terms: list[Term]
    related: dict[str, str] = field(default_factory=dict)
    """Event link IRI → the related event, its relation and certainty (HTML)."""
    quantities: dict[str, str] = field(default_factory=dict)
    """Quantity IRI → its number as the article hedges it (``more than 50 (“More than fifty”)``)."""
    diagrams: list[tuple[str, str, str]] = field(default_factory=list)
    """``(kind, heading, svg)``: pictures drawn by the facade (trusted SVG, escaped there)."""
    inferred: dict[tuple[str, str], tuple[str, str | None]] = field(default_factory=dict)
    """``(predicate, value)`` → ``(kg:Inference IRI, its label)``: statements that are
    inferences of ours, not the article's, marked as such on the page."""

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)

    def literals(self, predicates: Sequence[str]) -> list[str]:
        """The literal values of ``predicates``, in their order."""
        return [
            st.value["value"]
            for p in predicates
            for st in self.outgoing
            if st.predicate == p and st.value.get("type") == "literal"
        ]

    @property
    def label(self) -> str:
        return next(iter(self.literals(LABEL_PREDICATES)), shorten(self.iri))


def build_description(iri: str, results: Sequence[Mapping[str, Any]]) -> Description:
    """Turn the SPARQL JSON answers to :func:`description_queries` into a Description."""

    def rows(i: int) -> list[Binding]:  # none for a query not run (the ontology's terms)
        answer = results[i] if i < len(results) else {}
        bindings: list[Binding] = answer.get("results", {}).get("bindings", [])
        return bindings

    # Each statement, link and quote once (the first of its rows: the labels are OPTIONAL)
    outgoing: dict[tuple[str, str, str], Statement] = {}
    for r in rows(0):
        o = r["o"]
        outgoing.setdefault(
            (r["p"]["value"], o["type"], o["value"] + o.get("xml:lang", "")),
            Statement(r["p"]["value"], _first(r, "pl", "pl2"), o, _first(r, "ol", "ol2")),
        )
    blank: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for r in rows(1):
        blank.setdefault(r["b"]["value"], []).append((r["p"]["value"], r["o"]))
    incoming: dict[tuple[str, str], Statement] = {}
    for r in rows(2):
        incoming.setdefault(
            (r["p"]["value"], r["s"]["value"]),
            Statement(r["p"]["value"], _first(r, "pl", "pl2"), r["s"], _first(r, "sl", "sl2")),
        )
    quotes: dict[tuple[str, str], tuple[str, str, str | None, str | None]] = {}
    for r in rows(3):
        span, exact = r["span"]["value"], r["exact"]["value"]
        quotes.setdefault((span, exact), (span, exact, _first(r, "start"), _first(r, "end")))
    claims: dict[str, Claim] = {}
    for r in rows(4):
        c = claims.setdefault(r["claim"]["value"], Claim(r["claim"]["value"], _first(r, "cl")))
        c.predicates[r["p"]["value"]] = _first(r, "pl")
        if "claimant" in r:
            c.claimants[r["claimant"]["value"]] = _first(r, "claimantl")
        if "channel" in r:
            c.channels[r["channel"]["value"]] = _first(r, "channell")
        if quote := _first(r, "exact"):
            c.quotes.setdefault(quote)
    related = {r["link"]["value"]: _related_html(r) for r in rows(5)}
    quantities = {
        r["q"]["value"]: quantity_words({k: v["value"] for k, v in r.items() if k != "q"})
        for r in rows(6)
    }
    inferred = {
        (r["p"]["value"], r["o"]["value"]): (r["inference"]["value"], _first(r, "il"))
        for r in rows(7)
    }
    terms: dict[str, Term] = {}
    for r in rows(8):
        term = terms.setdefault(r["t"]["value"], Term(r["t"]["value"]))
        term.types.setdefault(r["type"]["value"])
        term.label = term.label or _first(r, "l")
        term.comment = term.comment or _first(r, "c", "c2")
    return Description(
        iri,
        list(outgoing.values()),
        blank,
        list(incoming.values()),
        list(quotes.values()),
        list(claims.values()),
        list(terms.values()),
        related=related,
        quantities=quantities,
        inferred=inferred,
    )


# ------------------------------------------------------------------ HTML

RDF_FORMATS = (
    ("ttl", "Turtle"),
    ("jsonld", "JSON-LD"),
    ("nt", "N-Triples"),
    ("rdf", "RDF/XML"),
)


def page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · khalis-kg</title>"
        '<link rel="stylesheet" href="/static/style.css">'
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'
        "</head><body>"
        '<header class="top"><a class="brand" href="/">khalis-kg</a>'
        '<nav><a href="/">Query</a><a href="/id/event/al-khalis-prison-break-2015">The event</a>'
        '<a href="/dataset">Dataset</a><a href="/ontology">Ontology</a>'
        '<a href="/sparql">Service description</a></nav></header>'
        f'<main class="resource">{body}</main>'
        '<footer>Data derived from the Wikipedia article "2015 Al Khalis prison break" '
        '(<a href="https://creativecommons.org/licenses/by-sa/4.0/" rel="noopener noreferrer">'
        "CC BY-SA 4.0</a>).</footer>"
        "</body></html>\n"
    )


def _related_html(r: Binding) -> str:
    """A row of ``related-events``: ``Curfew in Al Khalis — after it (aftermath) (the
    article states the link)``."""
    kind = (_first(r, "type") or "").rsplit("/", 1)[-1]
    sure = (_first(r, "certainty") or "").rsplit("/", 1)[-1]
    relation = RELATION_PHRASES.get(kind, _first(r, "tl") or "related")
    certainty = CERTAINTY_PHRASES.get(sure, _first(r, "cl") or "")
    when = diagrams.date_words(_first(r, "date"), _first(r, "since"))
    when = f' <span class="when">{esc(when)}</span>' if when else ""
    event = link(r["event"]["value"], _first(r, "el"))
    return f'{event}{when} <span class="relation">— {esc(relation)}</span>' + (
        f' <span class="certainty certainty-{esc(sure)}">({esc(certainty)})</span>'
        if certainty
        else ""
    )


def _value_html(st: Statement, d: Description) -> str:
    """One value of a property: a blank node's details, a related event, a quantity's
    number, or the term, marked when it is an inference of ours."""
    value, shown = st.value.get("value", ""), term_html(st.value, st.value_label)
    if st.value.get("type") == "bnode" and value in d.blank:
        inner = "".join(f"<li>{link(p)} {term_html(o)}</li>" for p, o in d.blank[value])
        return f'<li><ul class="bnode-detail">{inner}</ul></li>'
    if value in d.related:
        return f'<li class="related">{d.related[value]}</li>'
    if value in d.quantities:
        return f'<li>{shown}: <span class="number">{esc(d.quantities[value])}</span></li>'
    if (st.predicate, value) in d.inferred:
        inference, why = d.inferred[st.predicate, value]
        return (
            f'<li class="inferred">{shown} <span class="inference">our inference, not the '
            f"article's words: {link(inference, why)}</span></li>"
        )
    return f"<li>{shown}</li>"


def _statement_rows(statements: Iterable[Statement], d: Description) -> str:
    """The rows of the table of properties: one per predicate, its values in a list."""
    grouped: dict[str, list[Statement]] = {}
    for st in statements:
        grouped.setdefault(st.predicate, []).append(st)
    rows = []
    for predicate, sts in grouped.items():
        plabel = sts[0].predicate_label
        note = f' <span class="plabel">{esc(plabel)}</span>' if plabel else ""
        values = "".join(_value_html(st, d) for st in sts)
        rows.append(
            f'<tr><th scope="row">{link(predicate)}{note}</th>'
            f'<td><ul class="values">{values}</ul></td></tr>'
        )
    return "".join(rows)


def _section(heading: str, body: str, attributes: str = "") -> str:
    """A section of a page: ``attributes`` (HTML, escaped by the caller), its heading
    (text) and ``body`` (HTML)."""
    return f"<section{attributes}><h2>{esc(heading)}</h2>{body}</section>"


def _claim_html(c: Claim) -> str:
    """A claim: its label, by whom and where, how it refers to the resource, its quotes."""
    roles = " and ".join(
        f'<span class="role" title="{esc(shorten(p))}">{esc(role_phrase(p, lbl))}</span>'
        for p, lbl in c.predicates.items()
    )
    who = ", ".join(link(i, lbl) for i, lbl in c.claimants.items())
    via = ", ".join(link(i, lbl) for i, lbl in c.channels.items())
    return (
        f'<li class="claim"><p class="claim-label">{link(c.iri, c.label)}</p>'
        f'<p class="claim-meta">claimed by {who or "a claimant the article does not name"}'
        + (f" · published in {via}" if via else "")
        + f" · {roles}</p>"
        + "".join(f"<blockquote>{esc(q)}</blockquote>" for q in c.quotes)
        + "</li>"
    )


def resource_page(d: Description, *, path: str) -> str:
    types = " ".join(
        f'<span class="type">{term_html(t.value, t.value_label)}</span>'
        for t in d.outgoing
        if t.predicate == RDF_TYPE
    )
    parts = [f'<h1>{esc(d.label)}</h1><p class="iri-line"><code>{esc(d.iri)}</code></p>']
    if types:
        parts.append(f'<p class="types">{types}</p>')
    parts += [
        f'<p class="comment">{esc(comment)}</p>' for comment in d.literals(COMMENT_PREDICATES)
    ]
    # The pictures first: a reader would rather look at the accounts than read 14 cards.
    parts += [
        _section(
            heading,
            f'<div class="diagram-scroll">{svg}</div>',
            f' class="diagram-section {esc(kind)}" id="{esc(kind)}"',
        )
        for kind, heading, svg in d.diagrams
    ]
    if d.quotes:
        quotes = (
            f'<figure class="quote"><blockquote>{esc(exact)}</blockquote><figcaption>{link(span)}'
            + (f" characters {esc(start)} to {esc(end)}" if start and end else "")
            + " of the article</figcaption></figure>"
            for span, exact, start, end in d.quotes
        )
        parts.append(_section("From the article", "".join(quotes), ' class="quotes"'))
    if others := [st for st in d.outgoing if st.predicate != RDF_TYPE]:
        rows = _statement_rows(others, d)
        parts.append(_section("Properties", f'<table class="props">{rows}</table>'))
    if d.claims:
        about = all(p == KG + "about" for c in d.claims for p in c.predicates)
        claims = f'<ul class="claims">{"".join(_claim_html(c) for c in d.claims)}</ul>'
        heading = "Claims about it" if about else "Claims that mention it"
        parts.append(_section(heading, claims, ' class="claims"'))
    if d.terms:
        rows = "".join(
            f'<tr id="{esc(t.iri.rsplit("#", 1)[-1])}"><th scope="row">{link(t.iri)}</th>'
            f"<td>{', '.join(link(ty) for ty in t.types)}</td>"
            f"<td>{esc(t.label or '')}</td><td>{esc(t.comment or '')}</td></tr>"
            for t in d.terms
        )
        head = "<tr><th>term</th><th>type</th><th>label</th><th>comment</th></tr>"
        table = f'<table class="terms"><thead>{head}</thead><tbody>{rows}</tbody></table>'
        parts.append(_section("Terms", table))
    shown = {c.iri for c in d.claims}
    if incoming := [st for st in d.incoming if st.value.get("value") not in shown]:
        rows = "".join(
            f'<tr><th scope="row">{term_html(st.value, st.value_label)}</th>'
            f"<td>{link(st.predicate)}</td></tr>"
            for st in incoming
        )
        note = " (besides the claims above)" if shown else ""
        parts.append(
            _section(f"Referenced by{note}", f'<table class="props incoming">{rows}</table>')
        )
    downloads = " ".join(
        f'<a href="{esc(path)}?format={key}">{name}</a>' for key, name in RDF_FORMATS
    )
    explore = "SELECT ?p ?o WHERE {\n  <" + d.iri + "> ?p ?o\n}\nORDER BY ?p"
    query_link = f' · <a href="/?{esc(urlencode({"query": explore}))}">query it</a>'
    parts.append(f'<p class="downloads">This description as {downloads}{query_link}</p>')
    return page(d.label, "".join(parts))


def message_page(status: int, title: str, message: str) -> str:
    return page(
        title,
        f'<h1>{esc(title)}</h1><p class="error-message">{esc(message)}</p>'
        f'<p>HTTP status {esc(status)}. <a href="/">Back to the query page</a>.</p>',
    )

"""Serialise query results: a terminal table and the four W3C result formats.

* ``table``: aligned columns for people (IRIs shortened with the project prefixes);
* ``csv``: SPARQL 1.1 Query Results CSV (values only, CRLF line ends);
* ``tsv``: SPARQL 1.1 Query Results TSV (terms in N-Triples syntax);
* ``json``: SPARQL 1.1 Query Results JSON;
* ``xml``: SPARQL Query Results XML.

Graph answers (CONSTRUCT, DESCRIBE) are written as ``turtle``, ``nt``, ``jsonld`` or
``xml`` (RDF/XML) with pyoxigraph. Only the standard library is used for the rest.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from .errors import KhalisError
from .namespaces import PREFIXES
from .terms import QueryResult, Term

FORMATS: dict[str, str] = {
    "table": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
}
"""Formats for SELECT and ASK answers → media type."""

GRAPH_FORMATS: dict[str, str] = {
    "turtle": "text/turtle; charset=utf-8",
    "nt": "application/n-triples",
    "jsonld": "application/ld+json",
    "xml": "application/rdf+xml",
}
"""Formats for CONSTRUCT and DESCRIBE answers → media type."""


def escape(text: str) -> str:
    """XML character data (xml.sax.saxutils would import urllib.request and http.client)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """A double-quoted XML attribute value."""
    escaped = escape(text).replace('"', "&quot;")
    return '"' + escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;") + '"'


SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
MAX_CELL = 80


def serialize(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    """``(bytes, media type)`` of ``result`` in ``fmt``."""
    if result.form == "graph":
        if fmt == "table":
            fmt = "turtle"
        if fmt not in GRAPH_FORMATS:
            raise KhalisError(
                f"format {fmt!r} is not available for graph results "
                f"(choose one of: {', '.join(GRAPH_FORMATS)})"
            )
        return graph_bytes(result, fmt), GRAPH_FORMATS[fmt]
    if fmt not in FORMATS:
        raise KhalisError(
            f"format {fmt!r} is not available for {result.form.upper()} results "
            f"(choose one of: {', '.join(FORMATS)})"
        )
    writer = {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json, "xml": to_xml}
    return writer[fmt](result).encode("utf-8"), FORMATS[fmt]


def shorten(iri: str) -> str:
    """``kg:Claim`` for ``https://w3id.org/khalis-kg/ontology#Claim`` (longest namespace wins)."""
    best = ""
    best_prefix = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(best):
            local = iri[len(ns) :]
            if local and all(c.isalnum() or c in "_-." for c in local):
                best, best_prefix = ns, prefix
    return f"{best_prefix}:{iri[len(best) :]}" if best else iri


def _cell(term: Term | None) -> str:
    if term is None:
        return ""
    if term.type == "uri":
        text = shorten(term.value)
    elif term.type == "bnode":
        text = f"_:{term.value}"
    else:
        text = term.value + (f"@{term.lang}" if term.lang else "")
    text = text.replace("\n", " ").replace("\t", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def to_table(result: QueryResult) -> str:
    """Aligned columns with a header and a row count; ``true``/``false`` for ASK."""
    if result.form == "ask":
        return ("true" if result.boolean else "false") + "\n"
    cols = result.variables
    cells = [[_cell(row.get(v)) for v in cols] for row in result.rows]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip(),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    n = len(result.rows)
    lines.append(f"({n} row{'s' if n != 1 else ''})")
    return "\n".join(lines) + "\n"


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    return f"_:{term.value}" if term.type == "bnode" else term.value


def to_csv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results CSV. ASK answers are a single ``true``/``false`` line."""
    if result.form == "ask":
        return ("true" if result.boolean else "false") + "\r\n"
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(result.variables)
    for row in result.rows:
        writer.writerow([_csv_value(row.get(v)) for v in result.variables])
    return out.getvalue()


def to_tsv(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results TSV (N-Triples terms). ASK: a single ``true``/``false``."""
    if result.form == "ask":
        return ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join(f"?{v}" for v in result.variables)]
    for row in result.rows:
        lines.append(
            "\t".join("" if row.get(v) is None else row[v].to_ntriples() for v in result.variables)
        )
    return "\n".join(lines) + "\n"


def to_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON."""
    if result.form == "ask":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}) + "\n"
    data = {
        "head": {"vars": list(result.variables)},
        "results": {"bindings": [{k: t.to_json() for k, t in row.items()} for row in result.rows]},
    }
    return json.dumps(data, ensure_ascii=False, indent=1) + "\n"


def _xml_term(term: Term) -> str:
    if term.type == "uri":
        return f"<uri>{escape(term.value)}</uri>"
    if term.type == "bnode":
        return f"<bnode>{escape(term.value)}</bnode>"
    attrs = ""
    if term.lang:
        attrs = f" xml:lang={quoteattr(term.lang)}"
    elif term.datatype:
        attrs = f" datatype={quoteattr(term.datatype)}"
    return f"<literal{attrs}>{escape(term.value)}</literal>"


def to_xml(result: QueryResult) -> str:
    """SPARQL Query Results XML."""
    out = ['<?xml version="1.0" encoding="utf-8"?>', f'<sparql xmlns="{SPARQL_RESULTS_NS}">']
    if result.form == "ask":
        out += ["<head/>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>"]
    else:
        out.append("<head>")
        out += [f"<variable name={quoteattr(v)}/>" for v in result.variables]
        out += ["</head>", "<results>"]
        for row in result.rows:
            out.append("<result>")
            for var in result.variables:
                if var in row:
                    out.append(f"<binding name={quoteattr(var)}>{_xml_term(row[var])}</binding>")
            out.append("</result>")
        out.append("</results>")
    out.append("</sparql>")
    return "\n".join(out) + "\n"


def used_prefixes(iris: Iterable[str]) -> dict[str, str]:
    """The entries of :data:`PREFIXES` whose namespace starts one of ``iris``."""
    seen = set(iris)
    return {p: ns for p, ns in PREFIXES.items() if any(i.startswith(ns) for i in seen)}


def graph_bytes(result: QueryResult, fmt: str) -> bytes:
    """The triples of a graph answer as turtle, nt, jsonld or xml (via pyoxigraph)."""
    import pyoxigraph as ox

    from .backends.oxigraph import RDF_FORMATS, to_ox_triple

    triples = [to_ox_triple(t) for t in result.triples]
    if fmt == "jsonld":
        # Compact JSON-LD with the packaged context, as the export writes it.
        from .export import jsonld_bytes

        ntriples = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES)
        assert ntriples is not None
        return jsonld_bytes(ntriples)
    used = used_prefixes(t.value for triple in result.triples for t in triple if t.is_iri)
    prefixes = used if fmt == "turtle" else None
    data = ox.serialize(triples, format=RDF_FORMATS[fmt], prefixes=prefixes)
    assert data is not None
    return data

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


def truncate(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, ending with an ellipsis when cut."""
    if len(text) <= width:
        return text
    return text[: max(0, width - 1)] + "…" if width > 0 else ""


def _cell(term: Term | None, show_lang: bool = False) -> str:
    if term is None:
        return ""
    if term.type == "uri":
        text = shorten(term.value)
    elif term.type == "bnode":
        text = f"_:{term.value}"
    else:
        text = term.value + (f"@{term.lang}" if term.lang and show_lang else "")
    return " ".join(text.replace("\t", " ").split("\n")).strip()


TABLE_WIDTH = 100
"""Default width of a table (``--width``): fits a 100-column terminal."""
MIN_COLUMN = 6
"""Narrowest column of a fitted table; a table that would need narrower ones is printed
as one record per block instead (as ``psql``'s expanded display does)."""


def select_columns(result: QueryResult, columns: Iterable[str]) -> QueryResult:
    """``result`` with only ``columns`` (in that order); ParameterError names the others."""
    from .errors import ParameterError

    wanted = [c.strip().lstrip("?") for c in columns if c.strip()]
    if result.form != "select":
        raise ParameterError("--columns applies to SELECT results only")
    unknown = [c for c in wanted if c not in result.variables]
    if unknown:
        raise ParameterError(
            f"no column {', '.join(map(repr, unknown))} in this result "
            f"(columns: {', '.join(result.variables)})"
        )
    rows = [{k: v for k, v in row.items() if k in wanted} for row in result.rows]
    return QueryResult("select", wanted, rows)


def _fit(natural: list[int], width: int) -> list[int] | None:
    """Column widths summing (with two-space gaps) to at most ``width``: narrow columns
    keep their width, the rest share what is left; None when that is too narrow."""
    n = len(natural)
    available = width - 2 * (n - 1)
    if n * MIN_COLUMN > available:
        return None
    widths = list(natural)
    remaining = available
    order = sorted(range(n), key=lambda i: natural[i])
    for k, i in enumerate(order):
        share = remaining // (n - k)
        widths[i] = min(natural[i], max(MIN_COLUMN, share))
        remaining -= widths[i]
    return widths


def _records(cols: list[str], cells: list[list[str]], width: int) -> str:
    """One block per row, ``name | value``, long values wrapped (``psql \\x``)."""
    import textwrap

    name_w = max(len(c) for c in cols)
    value_w = max(20, width - name_w - 3)
    out: list[str] = []
    for n, row in enumerate(cells, 1):
        head = f"-[ RECORD {n} ]"
        out.append(head + "-" * max(0, min(width, name_w + 3 + value_w) - len(head)))
        for col, value in zip(cols, row, strict=True):
            if not value:
                continue
            lines = textwrap.wrap(value, value_w, break_long_words=True) or [""]
            out.append(f"{col.ljust(name_w)} | {lines[0]}")
            out += [f"{'':{name_w}} | {line}" for line in lines[1:]]
    return "\n".join(out)


def to_table(
    result: QueryResult, *, width: int | None = TABLE_WIDTH, show_lang: bool = False
) -> str:
    """Aligned columns with a header and a row count; ``true``/``false`` for ASK.

    The table fits ``width`` characters (None: no limit): wide columns are cut with an
    ellipsis, and a result with too many columns to fit is printed one record per
    block. Language tags (``@en``) are left out unless ``show_lang``.
    """
    if result.form == "ask":
        return ("true" if result.boolean else "false") + "\n"
    cols = list(result.variables)
    cells = [[_cell(row.get(v), show_lang) for v in cols] for row in result.rows]
    natural = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(cols)]
    n = len(result.rows)
    count = f"({n} row{'s' if n != 1 else ''})"
    widths = natural
    if width is not None and cols and sum(natural) + 2 * (len(cols) - 1) > width:
        fitted = _fit(natural, width)
        if fitted is None or sum(1 for f, w in zip(fitted, natural, strict=True) if f < w) > 3:
            # Too many columns cut: one record per block reads better.
            return (_records(cols, cells, width) + "\n" if cells else "") + count + "\n"
        widths = fitted

    def line(values: list[str]) -> str:
        return "  ".join(
            truncate(v, w).ljust(w) for v, w in zip(values, widths, strict=True)
        ).rstrip()

    lines = [line(cols), "  ".join("-" * w for w in widths)]
    lines += [line(r) for r in cells]
    lines.append(count)
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

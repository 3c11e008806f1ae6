"""The engine-neutral answer to a query (:class:`QueryResult`) and its serialisations.

* ``table``: aligned columns for people (IRIs shortened with the project prefixes);
* ``csv``: SPARQL 1.1 Query Results CSV (values only, CRLF line ends);
* ``tsv``: SPARQL 1.1 Query Results TSV (terms in N-Triples syntax);
* ``json``: SPARQL 1.1 Query Results JSON;
* ``xml``: SPARQL Query Results XML.

Graph answers (CONSTRUCT, DESCRIBE) are written as ``turtle``, ``nt``, ``jsonld`` or
``xml`` (RDF/XML) through :mod:`khalis_kg.rdfio`. Format names (and their aliases) are
those of :mod:`khalis_kg.rdfio`. No engine is imported here.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator, Sequence

from . import rdfio
from .errors import KhalisError, ParameterError, printable, truncate
from .namespaces import shorten, used_prefixes
from .records import Record
from .terms import Row, Term, Triple, natural

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from .terms import Form


class QueryResult(Record):
    """The answer to a query, whatever the engine.

    ``form`` is ``select``, ``ask`` or ``graph`` (CONSTRUCT and DESCRIBE). SELECT answers
    have ``variables`` (for ``SELECT *``, in the order the variables first appear in the
    query) and ``rows`` (unbound variables are absent from a row: ``row.get(var)``), ASK
    answers ``boolean``, graph answers ``triples``. Literals are as the engine gave them;
    :meth:`normalized` gives a copy for comparing values across engines.
    """

    __match_args__ = ("form", "variables", "rows", "boolean", "triples")
    __slots__ = __match_args__
    form: Form
    variables: list[str]
    rows: list[Row]
    boolean: bool | None
    triples: list[Triple]

    def __init__(
        self,
        form: Form,
        variables: list[str] | None = None,
        rows: list[Row] | None = None,
        boolean: bool | None = None,
        triples: list[Triple] | None = None,
    ) -> None:
        self.form = form
        self.variables = [] if variables is None else variables
        self.rows = [] if rows is None else rows
        self.boolean = boolean
        self.triples = [] if triples is None else triples

    def __len__(self) -> int:
        return {"select": len(self.rows), "graph": len(self.triples)}.get(self.form, 1)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def to_python(self) -> Any:
        """Plain Python values: SELECT → list of dicts (every projected variable is a key
        of every row, None when unbound), ASK → bool, graph → list of tuples."""
        if self.form == "ask":
            return bool(self.boolean)
        if self.form == "graph":
            return [(s.to_python(), p.to_python(), o.to_python()) for s, p, o in self.triples]
        return [
            {v: None if (t := row.get(v)) is None else t.to_python() for v in self.variables}
            for row in self.rows
        ]

    def normalized(self) -> QueryResult:
        """A copy with every literal in canonical form (:meth:`Term.normalized`): for
        comparing answers by value where engines legitimately write them differently."""
        rows = [{k: t.normalized() for k, t in row.items()} for row in self.rows]
        triples = [(s.normalized(), p.normalized(), o.normalized()) for s, p, o in self.triples]
        return QueryResult(self.form, list(self.variables), rows, self.boolean, triples)

    def to_dataframe(self) -> Any:
        """A pandas ``DataFrame`` of the rows (needs the ``pandas`` extra)."""
        try:
            import pandas as pd
        except ImportError as exc:
            raise KhalisError(
                "to_dataframe() needs pandas: pip install 'khalis-kg[pandas]'"
            ) from exc
        if self.form == "graph":
            return pd.DataFrame(self.to_python(), columns=["subject", "predicate", "object"])
        if self.form == "ask":
            return pd.DataFrame([{"boolean": self.boolean}])
        return pd.DataFrame(self.to_python(), columns=self.variables)

    def serialize(self, fmt: str = "json") -> tuple[bytes, str]:
        """``(bytes, media type)`` in one of the result formats of :mod:`khalis_kg.rdfio`."""
        return serialize(self, fmt)

    def to_rdflib(self) -> Any:
        """A CONSTRUCT or DESCRIBE answer as an ``rdflib.Graph``, its terms converted one
        by one (nothing is serialised and parsed again); the project's prefixes it uses
        are bound. SELECT and ASK answers are a ParameterError."""
        if self.form != "graph":
            raise ParameterError(
                f"to_rdflib() takes a graph answer (CONSTRUCT, DESCRIBE), not {self.form}"
            )
        from rdflib import Graph

        graph = Graph()
        for prefix, namespace in used_prefixes(
            t.value for triple in self.triples for t in triple if t.is_iri
        ).items():
            graph.bind(prefix, namespace)
        for s, p, o in self.triples:
            graph.add((rdfio.to_rdflib(s), rdfio.to_rdflib(p), rdfio.to_rdflib(o)))
        return graph

    def count(self, name: str = "n") -> int | None:
        """The one non-negative integer a COUNT query answers (one row, ``name`` bound to
        :func:`~khalis_kg.terms.natural` digits); None for any other answer."""
        if self.form != "select" or len(self.rows) != 1:
            return None
        return count_of(self.rows[0].get(name))

    def canonical(self) -> QueryResult:
        """A copy whose rows (or triples) are sorted: for comparing unordered answers."""
        rows = sort_rows(self.rows, self.variables)
        triples = sorted(self.triples, key=lambda t: [x.sort_key() for x in t])
        return QueryResult(self.form, list(self.variables), rows, self.boolean, triples)


WRITING: str | None = None
"""The format the caller will write a SELECT answer in, reading nothing else of it
(``khalis-kg serve``'s worker sets ``"json"`` around each task whose answer it sends as
SPARQL JSON, and sets it back): an engine that writes that format itself, the bytes
:func:`serialize` writes, may answer with those bytes, its rows read only if looked at
(the Oxigraph engine's ordered answers, :mod:`khalis_kg.backends.oxigraph`). None (the
default): rows, as those who read the rows want them (written and read back, they would
cost more). One value for the process (not a ``contextvars`` variable, whose import a
cold query would pay): a thread that meets another's setting gets the same answer, only
written and read back."""


def count_of(term: Term | None) -> int | None:
    """The count ``term`` writes (:func:`~khalis_kg.terms.natural`), or None."""
    return None if term is None else natural(term.value)


def _cell_key(term: Term | None) -> tuple[int, str, str, str]:
    return (-1, "", "", "") if term is None else term.sort_key()


def sort_rows(rows: Sequence[Row], variables: Sequence[str]) -> list[Row]:
    return sorted(rows, key=lambda r: [_cell_key(r.get(v)) for v in variables])


def escape(text: str) -> str:
    """XML character data (xml.sax.saxutils would import urllib.request and http.client;
    errors.esc imports html, which an isolated query's child has not loaded)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def quoteattr(text: str) -> str:
    """A double-quoted XML attribute value."""
    escaped = escape(text).replace('"', "&quot;")
    return '"' + escaped.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;") + '"'


SPARQL_RESULTS_NS = "http://www.w3.org/2005/sparql-results#"


def serialize(result: QueryResult, fmt: str) -> tuple[bytes, str]:
    """``(bytes, content type)`` of ``result`` in ``fmt`` (a name or alias of
    :mod:`khalis_kg.rdfio`; ``table`` gives Turtle for graph answers)."""
    if result.form == "graph" and fmt.lower() == "table":
        fmt = "turtle"
    spec = rdfio.result_format(fmt, result.form)
    if result.form == "graph":
        return graph_bytes(result, spec.name), spec.content_type
    writer = {"table": to_table, "csv": to_csv, "tsv": to_tsv, "json": to_json, "xml": to_xml}
    data = writer[spec.name](result).encode("utf-8")
    return (rdfio.xml_checked(data) if spec.name == "xml" else data), spec.content_type


def _cell(term: Term | None, show_lang: bool = False) -> str:
    if term is None:
        return ""
    if term.type == "uri":
        text = shorten(term.value)
    elif term.type == "bnode":
        text = f"_:{term.value}"
    else:
        text = term.value + (f"@{term.lang}" if term.lang and show_lang else "")
    # one line, and nothing the terminal would act on (escape sequences: printable)
    return printable(" ".join(text.replace("\t", " ").split("\n")).strip())


TABLE_WIDTH = 100
"""Default width of a table (``--width``): fits a 100-column terminal."""
MIN_COLUMN = 6
"""Narrowest column of a fitted table; a table that would need narrower ones is printed
as one record per block instead (as ``psql``'s expanded display does)."""


def select_columns(result: QueryResult, columns: Iterable[str]) -> QueryResult:
    """``result`` with only ``columns`` (in that order); ParameterError names the others."""
    wanted = [name for name in (c.strip().lstrip("?") for c in columns) if name]
    if result.form != "select":
        raise ParameterError("--columns applies to SELECT results only")
    if not wanted:  # "-c ''": a table of nothing, said to be a success, is no answer
        raise ParameterError(f"--columns names no column (columns: {', '.join(result.variables)})")
    if unknown := [c for c in wanted if c not in result.variables]:
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
    widths, remaining = list(natural), available
    for k, i in enumerate(sorted(range(n), key=natural.__getitem__)):  # narrowest first
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
    import csv  # here: most commands never write CSV

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
    lines = ["\t".join(f"?{v}" for v in result.variables)] + [
        "\t".join("" if row.get(v) is None else row[v].to_ntriples() for v in result.variables)
        for row in result.rows
    ]
    return "\n".join(lines) + "\n"


def to_json(result: QueryResult) -> str:
    """SPARQL 1.1 Query Results JSON, on one line and without spaces: the bytes
    pyoxigraph's writer gives for the same answer (:data:`WRITING`), ~36 % smaller than
    indented at 100k triples, and written by the json module's C encoder."""
    import json  # here: a table or CSV needs no JSON

    if result.form == "ask":
        return json.dumps({"head": {}, "boolean": bool(result.boolean)}, separators=COMPACT) + "\n"
    data = {
        "head": {"vars": list(result.variables)},
        "results": {"bindings": [{k: t.to_json() for k, t in row.items()} for row in result.rows]},
    }
    return json.dumps(data, ensure_ascii=False, separators=COMPACT) + "\n"


COMPACT = (",", ":")
"""JSON separators without spaces, as pyoxigraph writes SPARQL JSON."""


def _xml_term(term: Term) -> str:
    if term.type != "literal":  # the element is named as the type: <uri>, <bnode>
        return f"<{term.type}>{escape(term.value)}</{term.type}>"
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


def graph_bytes(result: QueryResult, fmt: str) -> bytes:
    """The triples of a graph answer as turtle, nt, jsonld or xml."""
    triples = [rdfio.to_ox_triple(t) for t in result.triples]
    if fmt == "jsonld":
        from .export import jsonld_bytes

        # Compact JSON-LD with the packaged context, as the export writes it.
        return jsonld_bytes(rdfio.serialize(triples, "nt"))
    used = used_prefixes(t.value for triple in result.triples for t in triple if t.is_iri)
    return rdfio.serialize(triples, fmt, used if fmt == "turtle" else None)

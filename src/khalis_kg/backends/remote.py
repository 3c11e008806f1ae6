"""The ``remote`` engine: any SPARQL 1.1 endpoint, reached over HTTP with httpx.

* **Queries** go to the query URL with the SPARQL 1.1 Protocol. The request style is
  ``form`` by default (``POST`` with ``application/x-www-form-urlencoded``, which every
  store answers), ``get`` (``GET ?query=``; queries whose URL would be long are sent as
  a form POST instead) or ``direct`` (``POST`` with ``application/sparql-query``, which
  Virtuoso 7 accepts and never answers). SELECT and ASK answers are read as SPARQL JSON
  results, CONSTRUCT and DESCRIBE as N-Triples (parsed by pyoxigraph).
* **One graph**: with ``graph=IRI`` every query is scoped to that graph of the store
  (``default-graph-uri=IRI`` on each request, so the query's default graph is that
  graph alone, not the union of everything the store holds — Virtuoso's default graph
  includes its own system graphs — and a ``named-graph-uri`` naming no graph, so that
  ``GRAPH ?g`` sees no other graph), ``load`` writes there, and ``dump``/``triple_count``
  see only it.
* **Loading** (``load``) and the full dump (``dump``) use the SPARQL 1.1 Graph Store
  HTTP Protocol when a Graph Store URL is given (see :mod:`khalis_kg.loader`);
  without one the backend is read-only and ``dump`` falls back to a ``SELECT``.
* **Credentials** (from the environment only) and **one total deadline per exchange**
  (an endpoint down, too slow or dripping its answer is a
  :class:`~khalis_kg.errors.RemoteStoreError`, exit 6, never a hang): the session of
  :mod:`khalis_kg.http_session`.
* **Answers are untrusted input**: SELECT and ASK answers must be SPARQL JSON results
  of the right shape (:func:`read_json_results`), CONSTRUCT, DESCRIBE and Graph Store
  answers valid N-Triples or N-Quads. Anything else (malformed, truncated, nested too
  deeply, wrongly typed, another results format) is a
  :class:`~khalis_kg.errors.RemoteAnswerError` (exit 6, HTTP 502 from ``serve``) and
  never an answer.

Parameters (``bindings``)
-------------------------
A remote endpoint cannot take rdflib's ``initBindings`` or Oxigraph's substitutions,
so the values travel in the query text - but never by formatting user text into it.
Each value is first written as an RDF term by :func:`sparql_term`, which validates
IRIs (absolute, no character that could close ``<...>``), escapes every literal
(quotes, backslashes, control characters), checks language tags and datatype IRIs
and refuses blank nodes (SPARQL has no syntax for a *given* blank node). The terms
are used in two ways, both located with the same tokenizer as the safety checks (so
braces, ``?`` and keywords inside strings, IRIs and comments are never touched):

1. one ``VALUES (?a ?b) { (<...> "...") }`` row is inserted as the **first element
   of the query's outermost group graph pattern**. In SPARQL algebra the group
   ``{ VALUES ... P }`` is ``Join(VALUES, P)`` with the group's FILTERs applied to
   the joined solutions, so the parameter is bound for the whole top-level group and
   is returned when projected. (A trailing ``VALUES`` after the query would be joined
   *after* grouping and filtering, so ``FILTER (?x >= ?minimum)`` would never see
   ``?minimum``; that is why it is not used.)
2. inside that group, every occurrence of the parameter's variable is **replaced by
   the term itself** (token by token, never by formatting text) - what Oxigraph's
   substitutions (SEP-0007) do on the algebra. This matters for speed, not for the
   answer: the endpoint's planner sees ``?claim kg:about <event>`` as a selective
   pattern, whereas a VALUES join may be planned after a large UNION. The
   replacement is skipped (step 1 alone binds the parameter) where a constant cannot
   stand: after ``AS``, inside ``BOUND()``, and in queries with a nested ``VALUES``
   or sub-``SELECT`` (whose bottom-up scoping would differ).

Both give the answers Oxigraph's substitutions and rdflib's ``initBindings`` give; the
test suite checks it for every packaged query.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from ..errors import (
    InputError,
    ParameterError,
    QueryError,
    QuerySyntaxError,
    ReadOnlyError,
    RemoteAnswerError,
    RemoteStoreError,
    one_line,
    printable,
)
from ..http_session import DEFAULT_TIMEOUT, Answer, HttpSession, check_url
from ..loader import graph_url, post_sources
from ..namespaces import PREFIXES
from ..rdfio import Source, canonical_triples, formats_of, ox_format, result_format
from ..results import QueryResult, sort_rows
from ..safety import Limits, ReadOnlyQuery, Token, decide, tokenize, undeclared_names
from ..terms import Row, Term, is_absolute_iri
from .base import Backend, Bindings, QueryDataset

REQUEST_STYLES = ("form", "get", "direct")
"""How queries are sent: form-encoded POST (default), GET, or a direct POST."""
NO_NAMED_GRAPHS = "urn:x-khalis-kg:no-named-graphs"
"""Sent as ``named-graph-uri`` beside ``default-graph-uri``: a graph no store holds, so
``GRAPH ?g`` matches nothing, as on the embedded engines. The protocol says that
``default-graph-uri`` alone leaves no named graphs, but Virtuoso then lets ``GRAPH ?g``
range over every graph it holds (its system graphs included)."""
GET_MAX_URL = 2000
"""With ``request="get"``, longer URLs are sent as a form POST instead."""

SPARQL_JSON = result_format("json", "select").media_type

_LANG = re.compile(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*")
# SPARQL 1.1's VARNAME (grammar rules 166 and 164): a digit may lead, and most letters
# of Unicode are letters; a name of a store's answer or a parameter outside it is refused.
_PN_CHARS_U = (
    "A-Za-z_\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c\u200d"
    "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff"
)
_VARNAME = re.compile(f"[{_PN_CHARS_U}0-9][{_PN_CHARS_U}0-9\u00b7\u0300-\u036f\u203f\u2040]*")

_DATASET_QUERY = "SELECT ?s ?p ?o ?g WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
_COUNT_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
_GRAPHS_QUERY = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"


# ---------------------------------------------------------------------------- terms
def sparql_term(name: str, term: Term) -> str:
    """``term`` in SPARQL syntax, validated and escaped; ParameterError if it cannot be."""
    if term.type == "uri":
        if not is_absolute_iri(term.value):
            raise ParameterError(f"parameter {name!r}: not an absolute IRI: {term.value!r}")
        return f"<{term.value}>"
    if term.type == "bnode":
        raise ParameterError(
            f"parameter {name!r}: a blank node cannot be sent to a remote endpoint"
        )
    if term.lang is not None and not _LANG.fullmatch(term.lang):
        raise ParameterError(f"parameter {name!r}: bad language tag {term.lang!r}")
    if term.datatype is not None and not is_absolute_iri(term.datatype):
        raise ParameterError(f"parameter {name!r}: bad datatype IRI {term.datatype!r}")
    return term.to_ntriples()


def _word(tokens: list[Token], words: tuple[str, ...], start: int = 0) -> int | None:
    """The index of the first of ``tokens`` from ``start`` that is one of ``words``."""
    found = (k for k in range(start, len(tokens)) if tokens[k].kind == "word")
    return next((k for k in found if tokens[k].text.lower() in words), None)


def outer_group_offset(text: str) -> int:
    """Index just after the ``{`` opening the query's WHERE group (QueryError if none)."""
    tokens = list(tokenize(text))
    form_at = _word(tokens, ("select", "construct", "ask", "describe"))
    if form_at is None:
        raise QuerySyntaxError("not a SPARQL query: expected SELECT, CONSTRUCT, ASK or DESCRIBE")
    form = tokens[form_at].text.lower()
    start = form_at + 1
    if form in ("construct", "describe"):
        # the template of CONSTRUCT comes before WHERE; DESCRIBE needs WHERE for a group
        where = _word(tokens, ("where",), start)
        if where is None:
            raise QueryError(
                f"{form.upper()} without a WHERE clause cannot take parameters on a remote endpoint"
            )
        short = where == start and where + 1 < len(tokens) and tokens[where + 1].text == "{"
        if form == "construct" and short:
            raise QueryError(
                "the short form CONSTRUCT WHERE { ... } cannot take parameters on a remote "
                "endpoint; write CONSTRUCT { template } WHERE { pattern }"
            )
        start = where + 1
    depth = 0
    for tok in tokens[start:]:
        if tok.kind == "punct":
            depth += (tok.text == "(") - (tok.text == ")")
            if tok.text == "{" and depth == 0:
                return tok.offset + 1
    raise QuerySyntaxError("no WHERE group found in the query")


def bind_values(text: str, bindings: Mapping[str, Term], *, substitute: bool = True) -> str:
    """``text`` with ``VALUES (?a ...) { (term ...) }`` as the first element of its
    outermost group and, when ``substitute`` and it is safe, the parameters also written
    as constants inside that group (see the module documentation)."""
    if not bindings:
        return text
    names = sorted(bindings)
    for name in names:
        if not _VARNAME.fullmatch(name):
            raise ParameterError(f"bad parameter name {name!r}")
    written = {n: sparql_term(n, bindings[n]) for n in names}
    terms = " ".join(written[n] for n in names)
    variables = " ".join(f"?{n}" for n in names)
    at = outer_group_offset(text)
    body = _substitute(text[at:], written) if substitute else text[at:]
    return f"{text[:at]} VALUES ({variables}) {{ ({terms}) }}\n{body}"


def _substitute(body: str, written: Mapping[str, str]) -> str:
    """Write the parameters as constants in ``body`` (the text just after the outer
    group's ``{``) up to the group's closing brace, the way Oxigraph's substitutions
    and rdflib's initBindings bind them before the query is planned. Left unchanged
    (the VALUES row alone binds them) when a constant could not stand where the variable
    is: after ``AS``, in ``BOUND( )``, in a nested VALUES or a sub-SELECT."""
    tokens = list(tokenize(body))
    depth, end = 1, len(tokens)
    for k, tok in enumerate(tokens):
        if tok.kind == "punct":
            depth += (tok.text == "{") - (tok.text == "}")
            if depth == 0:
                end = k
                break
    inner = tokens[:end]
    if any(t.kind == "word" and t.text.lower() in ("select", "values") for t in inner):
        return body
    edits: list[tuple[int, int, str]] = []
    for k, tok in enumerate(inner):
        if tok.kind != "var" or tok.text[1:] not in written:
            continue
        before = [t.text.lower() for t in inner[max(0, k - 2) : k]]
        if before[-1:] == ["as"] or before == ["bound", "("]:
            return body
        edits.append((tok.offset, tok.offset + len(tok.text), written[tok.text[1:]]))
    for start, stop, term in reversed(edits):
        body = body[:start] + term + body[stop:]
    return body


def _prologue(text: str) -> str:
    """The default prefixes the query does not declare itself (as Oxigraph's
    ``prefixes=`` and rdflib's ``initNs`` do for the local engines)."""
    used = {prefix for prefix, _, _ in undeclared_names(text, ())}
    return "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in sorted(PREFIXES.items()) if p in used)


# ------------------------------------------------------------------------- results
_SURROGATE = re.compile("[\ud800-\udfff]")
OTHER_RESULTS = {  # what a store may answer instead of the SPARQL JSON asked for
    f.media_type: f"{f.label} results"
    for f in formats_of("results")
    if f.name in ("xml", "csv", "tsv")
}


def _bad(url: str, what: str) -> RemoteAnswerError:
    return RemoteAnswerError(
        f"{printable(url)}: the answer is not valid SPARQL JSON results ({what})"
    )


def _text(value: object, url: str, what: str) -> str:
    if not isinstance(value, str) or _SURROGATE.search(value):
        raise _bad(url, f"{what} is not a string")
    return value


def term_from_json(value: object, url: str = "the endpoint") -> Term:
    """A SPARQL JSON results term, validated: RemoteAnswerError unless it is an object
    with a known ``type``, a string ``value``, and (literals) an optional string
    ``xml:lang`` that is a language tag or an absolute ``datatype`` IRI."""
    if not isinstance(value, dict):
        raise _bad(url, "a binding is not an object")
    kind = value.get("type")
    text = _text(value.get("value"), url, "a term's value")
    if kind == "uri":
        if not is_absolute_iri(text):
            raise _bad(url, f"not an absolute IRI: {printable(text)[:80]!r}")
        return Term.iri(text)
    if kind == "bnode":
        if not text:
            raise _bad(url, "an empty blank node label")
        return Term.bnode(text)
    if kind in ("literal", "typed-literal"):
        lang, datatype = value.get("xml:lang"), value.get("datatype")
        # present means a string (null is no language tag: a malformed answer)
        if "xml:lang" in value and not _LANG.fullmatch(_text(lang, url, "a language tag")):
            raise _bad(url, f"a bad language tag {printable(str(lang))[:40]!r}")
        if "datatype" in value and not is_absolute_iri(_text(datatype, url, "a datatype")):
            raise _bad(
                url, f"a datatype that is not an absolute IRI {printable(str(datatype))[:80]!r}"
            )
        return Term.literal(text, datatype, lang)
    raise _bad(url, f"a term of type {printable(str(kind))[:40]!r}")


def read_json_results(answer: Answer, form: str, guard: Any = iter) -> QueryResult:
    """``answer``'s SPARQL JSON results as a QueryResult of ``form`` (``select``/``ask``),
    shape and terms checked; ``guard`` wraps the bindings (a row limit). By hand, as
    pyoxigraph 0.5's ``parse_query_results`` reads ``{"boolean": true}`` (no ``head``)
    and triple terms, and refuses valid answers with a member after ``bindings`` or
    ``results`` (Virtuoso's ``distinct``/``ordered``) or an extra key in a term."""
    url = answer.url
    kind = answer.media_type
    if kind in OTHER_RESULTS:
        raise RemoteAnswerError(
            f"{printable(url)}: the store answered with {OTHER_RESULTS[kind]}, not the SPARQL "
            "JSON results asked for"
        )
    try:
        data = json.loads(answer.content)
    except RecursionError:
        raise _bad(url, "nested too deeply") from None
    except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError
        raise _bad(url, f"{type(exc).__name__} {one_line(str(exc), 80)}") from None
    if not isinstance(data, dict):
        raise _bad(url, "not a JSON object")
    head = data.get("head")
    if not isinstance(head, dict):
        raise _bad(url, "'head' is not an object")
    if form == "ask":
        if "boolean" not in data or type(data["boolean"]) is not bool:
            raise _bad(url, "an ASK answer without a true or false 'boolean'")
        return QueryResult("ask", boolean=data["boolean"])
    if "boolean" in data:
        raise _bad(url, "an ASK answer to a SELECT query")
    names = head.get("vars")
    if not isinstance(names, list) or not all(
        isinstance(v, str) and _VARNAME.fullmatch(v) for v in names
    ):
        raise _bad(url, "'head.vars' is not a list of variable names")
    known = set(names)
    results = data.get("results")
    if not isinstance(results, dict) or not isinstance(results.get("bindings"), list):
        raise _bad(url, "no 'results.bindings' list")
    rows: list[Row] = []
    for binding in guard(results["bindings"]):
        if not isinstance(binding, dict):
            raise _bad(url, "a solution is not an object")
        for name in binding:
            if name not in known:
                raise _bad(url, f"a solution binds {printable(name)[:40]!r}, not in 'head.vars'")
        rows.append({k: term_from_json(v, url) for k, v in binding.items()})
    return QueryResult("select", variables=names, rows=rows)


def parse_rdf_answer(answer: Answer, fmt: Any, guard: Any = iter) -> list[Any]:
    """The triples or quads of ``answer`` (N-Triples or N-Quads, ``fmt`` a pyoxigraph
    RdfFormat), parsed whole: RemoteAnswerError if it is not valid."""
    import pyoxigraph as ox

    try:
        return list(guard(ox.parse(answer.content, fmt)))
    except (SyntaxError, ValueError) as exc:
        raise RemoteAnswerError(
            f"{printable(answer.url)}: the answer is not valid {fmt.name} "
            f"({one_line(str(exc), 120)})"
        ) from None


class RemoteBackend(Backend):
    """A SPARQL 1.1 endpoint (``query_url``), optionally with a Graph Store
    (``store_url``) for loading and dumping."""

    name = "remote"

    def __init__(
        self,
        query_url: str,
        *,
        store_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        env: Mapping[str, str] | None = None,
        graph: str | None = None,
        request: str = "form",
    ):
        for url in (query_url, store_url):
            if url is not None:
                check_url(url)
        if graph is not None and not is_absolute_iri(graph):
            raise InputError(f"not an absolute graph IRI: {graph!r}")
        if request not in REQUEST_STYLES:
            raise InputError(
                f"unknown request style {request!r}; use one of {', '.join(REQUEST_STYLES)}"
            )
        self.query_url = query_url
        self.store_url = store_url
        self.graph = graph
        """The graph of the store that holds the data (None: the store's default graph)."""
        self.request_style = request
        self.http = HttpSession(timeout=timeout, env=env)

    def after_fork(self) -> None:
        """In a forked child (``isolated=True``, a server's worker): new connections."""
        self.http.after_fork()

    def __repr__(self) -> str:
        return f"RemoteBackend({self.query_url!r}, store_url={self.store_url!r}, {self.http!r})"

    # -- Backend protocol -----------------------------------------------------------
    def load(self, sources: Sequence[Source]) -> None:
        """Add the sources to the backend's graph (else the endpoint's default graph), or
        to their named graph when they have one (Graph Store POST)."""
        if self.store_url is None:
            raise ReadOnlyError(
                f"{self.query_url}: no Graph Store URL given, so nothing can be loaded"
            )
        for graph in dict.fromkeys(s.graph for s in sources):
            chunk = [s for s in sources if s.graph == graph]
            post_sources(self.http, self.store_url, chunk, graph or self.graph)

    def graph_names(self) -> frozenset[str]:
        if self.graph is not None:
            return frozenset()  # the data is the default graph of every query
        result = self._select(_GRAPHS_QUERY, Limits(max_rows=None), [])
        return frozenset(r["g"].value for r in result.rows if "g" in r and r["g"].is_iri)

    def triple_count(self) -> int:
        found = self._select(_COUNT_QUERY, Limits(), []).count()
        if found is None:
            raise RemoteAnswerError(
                f"{printable(self.query_url)}: the answer to the triple count is not one "
                "non-negative integer"
            )
        return found

    def dump(self) -> bytes:
        """The whole dataset as N-Quads (with ``graph``: that graph's triples): a Graph
        Store GET when a store URL is known and answers with N-Quads or N-Triples
        (Oxigraph does), else a SELECT."""
        if self.store_url is not None:
            whole = self.graph is None
            url = self.store_url if whole else graph_url(self.store_url, self.graph)
            fmt = ox_format("nq" if whole else "nt")
            answer = self.http.request("GET", url, headers={"Accept": fmt.media_type})
            if answer.status == 200 and answer.media_type == fmt.media_type:
                parse_rdf_answer(answer, fmt)  # validated whole before it is used
                return answer.content
        result = self._select(_DATASET_QUERY, Limits(max_rows=None), [])
        lines = []
        for row in sort_rows(result.rows, result.variables):
            s, p, o, g = (row.get(v) for v in ("s", "p", "o", "g"))
            if not (s and p and o) or s.type == "literal" or not p.is_iri or (g and not g.is_iri):
                raise RemoteAnswerError(
                    f"{printable(self.query_url)}: the answer to the dataset query holds a "
                    "solution that is not a triple or quad (?s ?p ?o, ?g)"
                )
            quad = (s, p, o) if g is None else (s, p, o, g)
            lines.append(" ".join(t.to_ntriples() for t in quad) + " .\n")
        return "".join(lines).encode("utf-8")

    def close(self) -> None:
        self.http.close()

    def run(
        self, plan: ReadOnlyQuery, bindings: Bindings, limits: Limits, dataset: QueryDataset | None
    ) -> QueryResult:
        sent = _prologue(plan.text) + bind_values(plan.text, bindings)
        if plan.base is not None:
            sent = f"BASE <{plan.base}>\n" + sent  # the query's own BASE resolves against it
        if bindings and plan.verified != "builtin":
            # The parameters changed the text: what is sent is decided again, on its parse.
            decide(sent, None, self.graph_names)
        params: list[tuple[str, str]] = []
        # Sent as the protocol's dataset, which takes precedence over the query's FROM
        # (SPARQL 1.1 Protocol, 2.1.4): the endpoint does not resolve them its own way.
        if dataset is not None:
            if None in dataset.default_graphs and self.graph is None:
                raise QueryError("a remote store's own default graph cannot be named")
            # Scoped to a graph, "the default graph" is that graph (and no graph is held).
            params += [("default-graph-uri", g or str(self.graph)) for g in dataset.default_graphs]
            params += [("named-graph-uri", g) for g in dataset.named_graphs]
            if self.graph is not None and not dataset.named_graphs:
                params.append(("named-graph-uri", NO_NAMED_GRAPHS))
        if plan.form in ("construct", "describe"):
            fmt = ox_format("nt")
            answer = self._post_query(sent, fmt.media_type, limits, params)
            triples = parse_rdf_answer(answer, fmt, limits.guard)
            # Blank nodes relabelled with RDFC-1.0, as every engine does (docs/architecture.md).
            return QueryResult("graph", triples=canonical_triples(triples))
        return self._select(sent, limits, params, plan.form)

    # -- helpers ---------------------------------------------------------------------
    def _post_query(
        self, text: str, accept: str, limits: Limits, params: list[tuple[str, str]]
    ) -> Answer:
        """A SPARQL Protocol query request for ``text`` with the dataset ``params``, in this
        backend's request style. URL parameters go in httpx's ``params=``, so that error
        messages name the endpoint, not the query."""
        if not params and self.graph is not None:  # every request is scoped to the graph
            params = [("default-graph-uri", self.graph), ("named-graph-uri", NO_NAMED_GRAPHS)]
        headers = {"Accept": accept}
        fields = [("query", text), *params]
        form = urlencode(fields)
        arguments: dict[str, Any]
        if self.request_style == "direct":
            headers["Content-Type"] = "application/sparql-query"
            method, arguments = "POST", {"params": params, "content": text.encode("utf-8")}
        elif self.request_style == "get" and len(self.query_url) + 1 + len(form) <= GET_MAX_URL:
            method, arguments = "GET", {"params": fields}
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            method, arguments = "POST", {"content": form.encode("ascii")}
        answer = self.http.request(
            method, self.query_url, timeout=limits.timeout, headers=headers, **arguments
        )
        if answer.status == 400:
            raise QuerySyntaxError(f"the endpoint refused the query: {answer.first_line()}")
        if not answer.ok:
            raise RemoteStoreError(
                f"{printable(answer.url)}: HTTP {answer.status}: {answer.first_line()}"
            )
        return answer

    def _select(
        self, text: str, limits: Limits, params: list[tuple[str, str]], form: str = "select"
    ) -> QueryResult:
        answer = self._post_query(text, SPARQL_JSON, limits, params)
        return read_json_results(answer, form, limits.guard)

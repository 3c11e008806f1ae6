"""The rdflib engine: an in-memory ``rdflib.Dataset``.

Parameters are bound with rdflib's parse + translate + ``initBindings``, never by editing the
query text. Input is checked with pyoxigraph's parser first, so both engines report
syntax errors the same way (file, line, column).
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import pyparsing
from rdflib import BNode, Dataset, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.term import Identifier, Variable

from ..errors import InputError, QueryError, QuerySyntaxError, one_line
from ..namespaces import PREFIXES
from ..rdfio import Source, canonical_triples, check_syntax, to_ox_triple
from ..results import QueryResult, sort_rows
from ..safety import Limits, check_query
from ..terms import Row, Term


def from_rdflib(term: Any) -> Term:
    """An rdflib term as a neutral :class:`Term`."""
    if isinstance(term, URIRef):
        return Term.iri(str(term))
    if isinstance(term, BNode):
        return Term.bnode(str(term))
    if isinstance(term, RdfLiteral):
        datatype = None if term.datatype is None else str(term.datatype)
        return Term.literal(str(term), datatype, term.language)
    raise QueryError(f"unsupported RDF term in results: {term!r}")


def to_rdflib(term: Term) -> Identifier:
    """A neutral :class:`Term` as an rdflib term."""
    if term.type == "uri":
        return URIRef(term.value)
    if term.type == "bnode":
        return BNode(term.value)
    if term.lang:
        return RdfLiteral(term.value, lang=term.lang)
    if term.datatype:
        return RdfLiteral(term.value, datatype=URIRef(term.datatype))
    return RdfLiteral(term.value)


def _walk(node: Any) -> Iterator[CompValue]:
    if isinstance(node, CompValue):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, (list, tuple, pyparsing.ParseResults)):
        for value in node:
            yield from _walk(value)


def _check_prefixes(parsed: Any) -> None:
    """Refuse a prefixed name whose prefix is declared neither in the query nor in
    :data:`PREFIXES`, on rdflib's parse tree (rdflib itself raises a bare Exception)."""
    declared = {str(k) for k in PREFIXES}
    prologue, body = parsed[0], parsed[1]
    for decl in _walk(prologue):
        if decl.name == "PrefixDecl":
            declared.add(decl.get("prefix") or "")
    for node in _walk(body):
        if node.name == "pname":
            prefix = node.get("prefix") or ""
            if prefix not in declared:
                raise QuerySyntaxError(f"SPARQL syntax error: undeclared prefix {prefix}:")


class _IllTypedLiteralWarnings(logging.Filter):
    """Drop rdflib's warning (with a traceback) for an ill-typed literal such as
    ``"2015-13-45"^^xsd:date``: such a literal is valid RDF, kept as written."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("Failed to convert Literal lexical form")


logging.getLogger("rdflib.term").addFilter(_IllTypedLiteralWarnings())

_TOO_DEEP = "nested too deeply for the memory backend (Python recursion limit)"


_NORMALIZE_LOCK = threading.Lock()


@contextlib.contextmanager
def _lexical_forms_kept() -> Iterator[None]:
    """Keep literals as written while parsing.

    rdflib rewrites literals as it reads them (``rdflib.NORMALIZE_LITERALS``) and loses
    information on the way: ``"2015-05-08Z"^^xsd:date`` becomes ``"2015-05-08"``. With
    the lexical forms kept, :meth:`Term.literal` canonicalises them the same way as
    Oxigraph's. The switch is process-wide, so it is held only during the parse.
    """
    import rdflib

    with _NORMALIZE_LOCK:
        previous = rdflib.NORMALIZE_LITERALS
        rdflib.NORMALIZE_LITERALS = False
        try:
            yield
        finally:
            rdflib.NORMALIZE_LITERALS = previous


class MemoryBackend:
    """An rdflib ``Dataset`` held in memory (named graphs kept apart, as in Oxigraph)."""

    name = "memory"

    def __init__(self) -> None:
        self.dataset = Dataset()

    def load(self, sources: Sequence[Source]) -> None:
        for source in sources:
            fmt = source.spec().rdflib
            check_syntax(source)
            try:
                with _lexical_forms_kept():
                    self.dataset.parse(data=source.data, format=fmt, publicID=source.base_iri)
            except (SyntaxError, ValueError) as exc:
                raise InputError(f"{source.name}: cannot load: {one_line(str(exc))}") from None
            except RecursionError:
                raise InputError(f"{source.name}: {_TOO_DEEP}") from None

    def graph_names(self) -> frozenset[str]:
        return frozenset(
            str(g.identifier)
            for g in self.dataset.graphs()
            if isinstance(g.identifier, URIRef)
            and g.identifier != DATASET_DEFAULT_GRAPH_ID
            and len(g) > 0
        )

    def triple_count(self) -> int:
        return sum(1 for _ in self.dataset.quads((None, None, None, None)))

    def dump(self) -> bytes:
        return self.dataset.serialize(format="nquads", encoding="utf-8")

    def close(self) -> None:
        self.dataset.close()

    def query(
        self,
        text: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        limits: Limits | None = None,
    ) -> QueryResult:
        scan = check_query(text, self.graph_names, PREFIXES)
        limits = limits or Limits()
        try:
            parsed = parseQuery(text)
            _check_prefixes(parsed)
            prepared = translateQuery(parsed, None, PREFIXES)  # as prepareQuery does
            prepared._original_args = (text, PREFIXES, None)
        except RecursionError:
            raise QuerySyntaxError(f"the query is {_TOO_DEEP}") from None
        except pyparsing.ParseBaseException as exc:
            raise QuerySyntaxError(
                f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: {one_line(exc.msg)}",
                line=exc.lineno,
                column=exc.col,
            ) from None
        except (ValueError, KeyError) as exc:
            # rdflib raises these for e.g. undeclared prefixes
            raise QuerySyntaxError(f"SPARQL syntax error: {one_line(str(exc))}") from None
        # Defence in depth: the parsed algebra must agree with the lexical check.
        for node in _walk(prepared.algebra):
            if node.name == "ServiceGraphPattern":
                raise QueryError("SERVICE is refused: queries never reach the network")
        held = self.graph_names()
        for clause in prepared.algebra.get("datasetClause") or []:
            iri = clause["default"] if "default" in clause else clause["named"]
            if str(iri) not in held:
                raise QueryError(f"FROM <{iri}> is refused: it names no graph held by this store")
        init: dict[str, Identifier] = {
            Variable(k): to_rdflib(v) for k, v in (bindings or {}).items()
        }
        try:
            answer = self.dataset.query(prepared, initBindings=init)
            if answer.type == "ASK":
                return QueryResult("ask", boolean=bool(answer.askAnswer))
            if answer.type == "SELECT":
                variables = [str(v) for v in answer.vars or []]
                rows: list[Row] = []
                for solution in limits.guard(answer):
                    row: Row = {}
                    for var, value in zip(variables, solution, strict=True):  # type: ignore[arg-type]
                        if value is not None:
                            row[var] = from_rdflib(value)
                    rows.append(row)
                if not scan.has_order_by:
                    rows = sort_rows(rows, variables)
                return QueryResult("select", variables=variables, rows=rows)
            assert answer.graph is not None
            triples = [
                to_ox_triple((from_rdflib(s), from_rdflib(p), from_rdflib(o)))
                for s, p, o in limits.guard(answer.graph)
            ]
            return QueryResult("graph", triples=canonical_triples(triples))
        except re.error as exc:
            raise QueryError(f"invalid regular expression: {one_line(str(exc))}") from None
        except RecursionError:
            raise QueryError(f"the query is {_TOO_DEEP}") from None
        except (ValueError, TypeError, KeyError, ZeroDivisionError) as exc:
            raise QueryError(f"query failed: {one_line(str(exc))}") from None

"""The rdflib engine: an in-memory ``rdflib.Dataset``.

Parameters are bound with rdflib's parse + translate + ``initBindings``, never by editing the
query text. Input is checked with pyoxigraph's parser first, so both engines report
syntax errors the same way (file, line, column).
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import cast

import pyparsing
import rdflib.plugins.sparql
from rdflib import Dataset, URIRef
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import Query, SPARQLError
from rdflib.query import ResultRow
from rdflib.term import Identifier, Variable

from ..errors import InputError, QueryError, QueryRefusedError, QuerySyntaxError, one_line
from ..namespaces import PREFIXES
from ..rdfio import Source, canonical_triples, check_syntax, from_rdflib, to_ox_triple, to_rdflib
from ..results import QueryResult
from ..safety import (
    Limits,
    ReadOnlyQuery,
    check_prefixes,
    parse_nodes,
    rdflib_parse,
    take_parsed,
)
from ..terms import Row, is_absolute_iri
from .base import Backend, Bindings, QueryDataset, parse_query
from .rdflib_joins import mark_hash_joins

# rdflib's warning (with a traceback) for an ill-typed literal such as
# "2015-13-45"^^xsd:date is dropped: such a literal is valid RDF, kept as written.
logging.getLogger("rdflib.term").addFilter(
    lambda record: not str(record.msg).startswith("Failed to convert Literal lexical form")
)

_TOO_DEEP = "nested too deeply for the memory backend (Python recursion limit)"


def _absolute_bases(text: str, base: str | None) -> str:
    """``text`` with each relative ``BASE <iri>`` resolved against the base before it
    (rdflib would keep it relative, and resolve nothing against it)."""
    from ..safety import resolve_iri, tokenize

    tokens = list(tokenize(text))
    edits: list[tuple[int, int, str]] = []
    for k, tok in enumerate(tokens[:-1]):
        nxt = tokens[k + 1]
        if tok.kind == "word" and tok.text.lower() == "base" and nxt.kind == "iri":
            absolute = is_absolute_iri(nxt.text)
            resolved = nxt.text if absolute or base is None else resolve_iri(nxt.text, base)
            if not absolute and base is not None:
                edits.append((nxt.offset, nxt.offset + len(nxt.text) + 2, f"<{resolved}>"))
            base = resolved
    for start, end, new in reversed(edits):
        text = text[:start] + new + text[end:]
    return text


# rdflib fetches a FROM / FROM NAMED graph it finds empty (from the web or a file):
# never. A graph named in a query is one the store holds, checked before, or nothing.
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

_NORMALIZE_LOCK = threading.Lock()


@contextlib.contextmanager
def _lexical_forms_kept() -> Iterator[None]:
    """Keep literals as written while parsing.

    rdflib rewrites literals as it reads them (``rdflib.NORMALIZE_LITERALS``) and loses
    information on the way: ``"2015-05-08Z"^^xsd:date`` becomes ``"2015-05-08"``. With
    the lexical forms kept, :meth:`Term.literal` canonicalises them the same way as
    Oxigraph's. The switch is process-wide, so it is held only during the parse.
    """
    with _NORMALIZE_LOCK:
        previous = rdflib.NORMALIZE_LITERALS
        rdflib.NORMALIZE_LITERALS = False
        try:
            yield
        finally:
            rdflib.NORMALIZE_LITERALS = previous


def _cannot_run(exc: BaseException) -> QueryError:
    return QueryError(
        f"query failed: the rdflib engine cannot run this query ({one_line(str(exc))})"
    )


@functools.lru_cache(maxsize=128)
def _prepare(text: str, base: str | None) -> Query:
    """``text`` parsed and translated by rdflib, as ``prepareQuery`` does, and checked;
    cached, as rdflib's grammar takes milliseconds to tens of milliseconds a query (a
    prepared query is made to be run many times: rdflib's evaluation does not change
    it). Errors are not cached: they are raised again on the next call. The joins rdflib
    would run as a nested loop are marked to run as hash joins (:mod:`.rdflib_joins`).
    The text is parsed once: when the decision that admitted it has just parsed it, its
    tree is translated (:func:`~khalis_kg.safety.take_parsed`)."""
    try:
        absolute = _absolute_bases(text, base)
        # the decision has just parsed this text, most often: its tree, not a second parse
        parsed = take_parsed(absolute)
        if parsed is None:
            parsed = rdflib_parse(absolute)
        check_prefixes(parsed[0], parse_nodes(parsed[1]), absolute)
        prepared: Query = translateQuery(parsed, base, PREFIXES)  # as prepareQuery does
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
    except Exception as exc:
        if type(exc) is not Exception:
            raise
        # rdflib raises a bare Exception for queries it cannot translate or run (a
        # negated inverse path, !^p): valid SPARQL this engine does not run.
        raise _cannot_run(exc) from None
    nodes = list(parse_nodes(prepared.algebra))
    # Defence in depth: the algebra rdflib will run must agree with the decision.
    if any(node.name == "ServiceGraphPattern" for node in nodes):
        raise QueryRefusedError("SERVICE is refused: queries never reach the network")
    mark_hash_joins(nodes)  # rdflib's answers, without its nested loop
    return prepared


class MemoryBackend(Backend):
    """An rdflib ``Dataset`` held in memory (named graphs kept apart, as in Oxigraph)."""

    name = "memory"

    def __init__(self) -> None:
        self.dataset = Dataset()
        self._declared: set[str] = set()

    def load(self, sources: Sequence[Source]) -> None:
        # A named graph given by a file is held even when the file is empty.
        self._declared |= {s.graph for s in sources if s.graph is not None}
        for source in sources:
            fmt = source.spec().media_type  # rdflib's parsers go by media type too
            check_syntax(source)
            target = (
                self.dataset if source.graph is None else self.dataset.graph(URIRef(source.graph))
            )
            try:
                with _lexical_forms_kept():
                    target.parse(data=source.data, format=fmt, publicID=source.base_iri)
            except (SyntaxError, ValueError) as exc:
                raise InputError(f"{source.name}: cannot load: {one_line(str(exc))}") from None
            except RecursionError:
                raise InputError(f"{source.name}: {_TOO_DEEP}") from None

    def graph_names(self) -> frozenset[str]:
        """The non-empty named graphs, and those loaded from a file (even empty)."""
        held = (g.identifier for g in self.dataset.graphs() if len(g) > 0)
        named = {str(i) for i in held if isinstance(i, URIRef) and i != DATASET_DEFAULT_GRAPH_ID}
        return frozenset(named) | self._declared

    def triple_count(self) -> int:
        return sum(1 for _ in self.dataset.quads((None, None, None, None)))

    def dump(self) -> bytes:
        return self.dataset.serialize(format="nquads", encoding="utf-8")

    def close(self) -> None:
        self.dataset.close()

    def run(
        self, plan: ReadOnlyQuery, bindings: Bindings, limits: Limits, dataset: QueryDataset | None
    ) -> QueryResult:
        # invalid queries rdflib would accept are refused in Oxigraph's words (plan: admitted)
        parse_query(plan.text, plan.base)
        prepared = _prepare(plan.text, plan.base)
        if dataset is not None:
            # It replaces the query's own FROM / FROM NAMED, on a copy, never on the cached
            # query; rdflib builds it from graphs the store holds, never fetching one.
            prepared = Query(
                prepared.prologue, CompValue(prepared.algebra.name, **prepared.algebra)
            )
            prepared.algebra["datasetClause"] = [
                CompValue(
                    "DatasetClause", default=DATASET_DEFAULT_GRAPH_ID if g is None else URIRef(g)
                )
                for g in dataset.default_graphs
            ] + [CompValue("DatasetClause", named=URIRef(g)) for g in dataset.named_graphs]
        init: dict[str, Identifier] = {Variable(k): to_rdflib(v) for k, v in bindings.items()}
        try:
            answer = self.dataset.query(prepared, initBindings=init)
            if answer.type == "ASK":
                return QueryResult("ask", boolean=bool(answer.askAnswer))
            if answer.type == "SELECT":
                variables = [str(v) for v in answer.vars or []]
                rows: list[Row] = []
                for row in cast("Iterable[ResultRow]", limits.guard(answer)):
                    pairs = zip(variables, row, strict=True)
                    rows.append({var: from_rdflib(x) for var, x in pairs if x is not None})
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
        except (ValueError, TypeError, KeyError, ZeroDivisionError, SPARQLError) as exc:
            raise QueryError(f"query failed: {one_line(str(exc))}") from None
        except AttributeError as exc:  # an rdflib bug (e.g. on VALUES () { () })
            raise _cannot_run(exc) from None
        except Exception as exc:
            if type(exc) is not Exception:
                raise
            raise _cannot_run(exc) from None  # rdflib's bare Exception (a negated inverse path)

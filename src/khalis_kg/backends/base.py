"""The ``Backend`` protocol every query engine implements.

A backend holds a read-only RDF dataset (loaded from :class:`~khalis_kg.rdfio.Source`
inputs) and answers SPARQL queries with :class:`~khalis_kg.results.QueryResult`. The
protocol speaks only in SPARQL text, neutral terms and N-Quads bytes, so that an engine
reached over the SPARQL 1.1 Protocol (:mod:`.remote`) fits as well as an in-process
one: it sends parameters as a ``VALUES`` block built from :meth:`Term.to_ntriples`,
and implements :meth:`dump` with the Graph Store protocol or a ``SELECT``. Every backend
runs only a :class:`~khalis_kg.safety.ReadOnlyQuery`: given text, it first calls
:func:`khalis_kg.safety.decide` with its own held graphs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from ..errors import QueryError
from ..rdfio import Source
from ..results import QueryResult
from ..safety import Limits, ReadOnlyQuery
from ..terms import Term


@dataclass(frozen=True)
class QueryDataset:
    """An RDF dataset chosen for one query, as the SPARQL 1.1 Protocol's
    ``default-graph-uri`` and ``named-graph-uri`` parameters choose it.

    It replaces the query's own ``FROM`` / ``FROM NAMED``. ``default_graphs`` are merged
    into the default graph (``None`` stands for the store's own default graph);
    ``named_graphs`` are the graphs ``GRAPH`` can see. Every IRI must name a graph the
    store holds: nothing is ever fetched.
    """

    default_graphs: tuple[str | None, ...] = ()
    named_graphs: tuple[str, ...] = ()

    def check_held(self, held: frozenset[str]) -> None:
        """Raise QueryError for a graph IRI the store does not hold."""
        for kind, iris in (
            ("default-graph-uri", self.default_graphs),
            ("named-graph-uri", self.named_graphs),
        ):
            for iri in iris:
                if iri is not None and iri not in held:
                    shown = ", ".join(f"<{g}>" for g in sorted(held)) or "none"
                    raise QueryError(
                        f"{kind} <{iri}> names no graph held by this store (graphs held: "
                        f"{shown}); graphs are never fetched from elsewhere"
                    )

    @classmethod
    def chosen(
        cls, dataset: QueryDataset | None, plan: ReadOnlyQuery, held: Callable[[], frozenset[str]]
    ) -> QueryDataset | None:
        """What the engine gets in place of the query's ``FROM`` / ``FROM NAMED``: ``dataset``
        (checked against the graphs ``held``), else the graphs ``decide()`` resolved."""
        if dataset is not None:
            dataset.check_held(held())
            return dataset
        if plan.default_graphs is None and plan.named_graphs is None:
            return None
        return cls(plan.default_graphs or (), plan.named_graphs or ())


class Backend(Protocol):
    """A read-only SPARQL engine over one RDF dataset."""

    name: str

    def load(self, sources: Sequence[Source]) -> None:
        """Add the sources' triples and quads (a syntax error → RDFSyntaxError)."""

    def query(
        self,
        query: str | ReadOnlyQuery,
        *,
        bindings: Mapping[str, Term] | None = None,
        limits: Limits | None = None,
        base: str | None = None,
        dataset: QueryDataset | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query (text is first decided by
        :func:`khalis_kg.safety.decide`); ``bindings`` pre-bind variables by name, ``base``
        resolves relative IRIs (the query's own ``BASE`` is resolved against it),
        ``dataset`` replaces the query's ``FROM`` / ``FROM NAMED``."""
        ...

    def graph_names(self) -> frozenset[str]:
        """IRIs of the non-empty named graphs held (for FROM / FROM NAMED)."""
        ...

    def triple_count(self) -> int:
        """Number of quads in the dataset (default graph and named graphs)."""
        ...

    def dump(self) -> bytes:
        """The whole dataset as N-Quads."""
        ...

    def close(self) -> None:
        """Release the store (files, connections)."""

"""The ``Backend`` protocol every query engine implements, and RDF input sources.

A backend holds a read-only RDF dataset and answers SPARQL queries with
:class:`~khalis_kg.terms.QueryResult`. The protocol speaks only in SPARQL text, neutral
terms and N-Quads bytes, so that an engine reached over the SPARQL 1.1 Protocol (a
``remote`` backend) fits as well as an in-process one: such a backend would run
:func:`khalis_kg.safety.check_query` the same way, send parameters as a ``VALUES``
block built from :meth:`Term.to_ntriples`, and implement :meth:`dump` with a
``CONSTRUCT``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..safety import Limits
from ..terms import QueryResult, Term

FORMAT_BY_SUFFIX: dict[str, str] = {
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".nt": "nt",
    ".ntriples": "nt",
    ".nq": "nq",
    ".nquads": "nq",
    ".trig": "trig",
    ".rdf": "xml",
    ".xml": "xml",
    ".owl": "xml",
    ".jsonld": "jsonld",
    ".json": "jsonld",
}
"""File suffix → format name (the names used across khalis-kg)."""


def format_for(name: str) -> str:
    """The RDF format of a file, from its suffix (turtle when unknown)."""
    return FORMAT_BY_SUFFIX.get(Path(name).suffix.lower(), "turtle")


@dataclass(frozen=True)
class Source:
    """RDF input: its display name (file path), bytes, format and base IRI."""

    name: str
    data: bytes
    format: str
    base_iri: str | None = None

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        from ..files import read_input

        p = Path(path)
        data = read_input(p)  # a regular file only: never a FIFO or a device
        return cls(str(path), data, format_for(p.name), p.resolve().as_uri())


@runtime_checkable
class Backend(Protocol):
    """A read-only SPARQL engine over one RDF dataset."""

    name: str

    def load(self, sources: Sequence[Source]) -> None:
        """Add the sources' triples and quads (a syntax error → RDFSyntaxError)."""

    def query(
        self,
        text: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        limits: Limits | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query; ``bindings`` pre-bind variables by name."""
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

"""Push RDF files to a triple store with the SPARQL 1.1 Graph Store HTTP Protocol.

:func:`load_to_store` sends the union of the sources as **one** ``PUT`` to the graph
(``?default`` or ``?graph=IRI``): PUT replaces the graph's content, so running the load
twice leaves the store exactly as after the first run (idempotent; blank nodes get new
labels but the graph is isomorphic). ``POST`` (used by
:meth:`RemoteBackend.load <khalis_kg.backends.remote.RemoteBackend.load>`) adds instead.

The sources are read locally with pyoxigraph and sent as N-Triples, so relative IRIs
are resolved against the file (not against the store's URL) and a syntax error names
the file and line before anything is sent. An N-Triples file is sent as it is (after
the same syntax check). Quads in named graphs are refused: name the target graph
with ``graph=`` instead.

For Oxigraph server the Graph Store URL is ``http://HOST:PORT/store``; credentials come
from the environment, as for the remote backend (:mod:`khalis_kg.http_session`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from .errors import InputError, RemoteStoreError, printable
from .http_session import DEFAULT_TIMEOUT, HttpSession, check_url
from .rdfio import Source, parse, rdf_format
from .rdfio import serialize as rdf_serialize
from .terms import is_absolute_iri

N_TRIPLES = rdf_format("nt").media_type


@dataclass(frozen=True)
class LoadReport:
    """What a Graph Store load did."""

    url: str
    """The Graph Store URL the data was sent to (with ``?default`` or ``?graph=``)."""
    graph: str | None
    triples: int
    bytes_sent: int
    status: int
    seconds: float
    requests: int = 1
    """How many requests carried the data (more than 1 when chunked)."""


def graph_url(store_url: str, graph: str | None) -> str:
    """The Graph Store URL of ``graph`` (its IRI, or None for the default graph)."""
    separator = "&" if "?" in store_url else "?"
    if graph is None:
        return f"{store_url}{separator}default"
    if not is_absolute_iri(graph):
        raise InputError(f"not an absolute graph IRI: {graph!r}")
    return f"{store_url}{separator}graph={quote(graph, safe='')}"


def to_ntriples(sources: Sequence[Source]) -> tuple[bytes, int]:
    """The union of ``sources`` as N-Triples, with its triple count (a source's own
    ``graph`` is the caller's to send it to).

    A single N-Triples source is checked and returned unchanged (no re-serialisation).
    """
    import pyoxigraph as ox

    chunks: list[bytes] = []
    total = 0
    for source in sources:
        triples: list[ox.Triple] = []
        for quad in parse(source):
            if not isinstance(quad.graph_name, ox.DefaultGraph) and source.graph is None:
                raise InputError(
                    f"{source.name}: holds quads in the named graph {quad.graph_name}; "
                    "load it into one graph with graph=IRI (named graphs are not kept)"
                )
            triples.append(quad.triple)
        total += len(triples)
        if source.format == "nt" and len(sources) == 1:
            ended = source.data.endswith(b"\n") or not source.data
            return (source.data if ended else source.data + b"\n"), total
        chunks.append(rdf_serialize(triples, "nt"))
    return b"".join(chunks), total


def _send(session: HttpSession, method: str, url: str, body: bytes) -> int:
    """One write; success only on a 2xx from the store (a 3xx is an error naming its
    Location, raised by the session: nothing was stored)."""
    answer = session.request(
        method, url, write=True, content=body, headers={"Content-Type": N_TRIPLES}
    )
    if not answer.ok:
        raise RemoteStoreError(
            f"{printable(url)}: the Graph Store refused the {method} (HTTP {answer.status}) "
            f"{answer.first_line()}"
        )
    return answer.status


_BNODE = re.compile(rb"_:[A-Za-z0-9_][A-Za-z0-9_.-]*")


def chunks(body: bytes, triples: int) -> list[bytes]:
    """N-Triples ``body`` cut into pieces of about ``triples`` lines, never between two
    lines that share a blank node (each request is parsed on its own, so a blank node
    label split across two would become two nodes); a piece grows past ``triples`` until
    such a cut is possible."""
    if triples < 1:
        raise InputError("a chunk must hold at least one triple")
    lines = body.splitlines(keepends=True)
    last: dict[bytes, int] = {}
    for i, line in enumerate(lines):
        for label in _BNODE.findall(line):
            last[label] = i
    pieces: list[bytes] = []
    start, reach = 0, -1  # reach: the last line a blank node seen so far appears on
    for i, line in enumerate(lines):
        if i - start >= triples and reach < i:
            pieces.append(b"".join(lines[start:i]))
            start = i
        for label in _BNODE.findall(line):
            reach = max(reach, last[label])
    if start < len(lines):
        pieces.append(b"".join(lines[start:]))
    return pieces


def load_to_store(
    store_url: str,
    sources: Sequence[Source | str | Path],
    graph: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    env: Mapping[str, str] | None = None,
    chunk_triples: int | None = None,
) -> LoadReport:
    """Replace ``graph`` (the default graph when None) of the Graph Store at ``store_url``
    with the union of ``sources`` (files or :class:`Source`): see the module documentation.

    With ``chunk_triples``, the data goes as a ``PUT`` of the first piece of about that
    many triples and a ``POST`` of each further piece (see :func:`chunks`), for stores
    that cannot take one large request (Virtuoso 7 stalls on a 140 MB ``PUT``). The
    final state is the same; an interrupted chunked load leaves part of the graph, which
    running it again replaces. ``timeout`` bounds each request, whole (connect, send,
    answer)."""
    check_url(store_url)
    items = [s if isinstance(s, Source) else Source.from_path(s) for s in sources]
    if not items:
        raise InputError("nothing to load: give at least one RDF file")
    body, count = to_ntriples(items)
    url = graph_url(store_url, graph)
    pieces = [body] if chunk_triples is None else chunks(body, chunk_triples)
    session = HttpSession(timeout=timeout, env=env)
    started = time.perf_counter()
    try:
        status = _send(session, "PUT", url, pieces[0])
        for piece in pieces[1:]:
            _send(session, "POST", url, piece)
    finally:
        session.close()
    seconds = time.perf_counter() - started
    return LoadReport(url, graph, count, len(body), status, seconds, len(pieces))


def post_sources(
    session: HttpSession, store_url: str, sources: Sequence[Source], graph: str | None = None
) -> None:
    """Add ``sources`` to ``graph`` with a Graph Store ``POST`` (not idempotent)."""
    _send(session, "POST", graph_url(store_url, graph), to_ntriples(sources)[0])

"""Export the graph as turtle, nt, nq, trig, xml (RDF/XML) or jsonld; atomic file writes.

The dataset travels as N-Quads from the backend. Turtle, N-Triples, RDF/XML and JSON-LD
hold one graph: the union of the default graph and any named graphs is written. TriG and
N-Quads keep named graphs. JSON-LD is compacted with the ``@context`` shipped as
``ontology/context.jsonld`` (embedded in the output, so reading it needs no network);
it is the only format that imports rdflib. Everything else uses pyoxigraph.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import resources
from .backends.base import Source
from .errors import KhalisError, OutputError

FORMATS: dict[str, str] = {
    "turtle": "text/turtle",
    "nt": "application/n-triples",
    "nq": "application/n-quads",
    "trig": "application/trig",
    "xml": "application/rdf+xml",
    "jsonld": "application/ld+json",
}
"""Export format → media type."""

SUFFIXES = {"turtle": ".ttl", "nt": ".nt", "nq": ".nq", "trig": ".trig", "xml": ".rdf"}
SUFFIXES["jsonld"] = ".jsonld"


def jsonld_context() -> dict[str, Any]:
    """The compact JSON-LD context (the value of ``@context`` in ``context.jsonld``)."""
    data = json.loads(resources.jsonld_context_file().read_text("utf-8"))
    context = data["@context"] if isinstance(data, dict) and "@context" in data else data
    assert isinstance(context, dict)
    return context


def export(
    nquads: bytes, fmt: str, path: str | Path | None = None, *, extra: Sequence[Source] = ()
) -> bytes:
    """Serialise the N-Quads dataset ``nquads`` (plus ``extra`` sources) as ``fmt``.

    Returns the bytes; also writes them atomically to ``path`` when given.
    """
    if fmt not in FORMATS:
        raise KhalisError(f"unknown export format {fmt!r} (choose one of: {', '.join(FORMATS)})")
    data = jsonld_bytes(nquads, extra) if fmt == "jsonld" else rdf_bytes(nquads, fmt, extra)
    if path is not None:
        write_atomic(Path(path), data)
    return data


def _quads(nquads: bytes, extra: Sequence[Source]) -> list[Any]:
    import pyoxigraph as ox

    from .backends.oxigraph import RDF_FORMATS, check_syntax

    quads = list(ox.parse(nquads, ox.RdfFormat.N_QUADS))
    for source in extra:
        check_syntax(source)
        quads.extend(ox.parse(source.data, RDF_FORMATS[source.format], base_iri=source.base_iri))
    return list(ox.Dataset(quads))


def rdf_bytes(nquads: bytes, fmt: str, extra: Sequence[Source] = ()) -> bytes:
    """Every format but JSON-LD, with pyoxigraph."""
    import pyoxigraph as ox

    from .backends.oxigraph import RDF_FORMATS
    from .results import used_prefixes

    quads = _quads(nquads, extra)
    iris = {
        t.value
        for q in quads
        for t in (q.subject, q.predicate, q.object)
        if isinstance(t, ox.NamedNode)
    }
    prefixes = used_prefixes(iris) if fmt in ("turtle", "trig") else None
    items: list[Any]
    if fmt in ("nq", "trig"):
        items = quads
    else:
        seen: dict[Any, None] = {}
        for q in quads:
            seen.setdefault(ox.Triple(q.subject, q.predicate, q.object), None)
        items = list(seen)
    items.sort(key=str)  # deterministic output: same data, same bytes
    data = ox.serialize(items, format=RDF_FORMATS[fmt], prefixes=prefixes)
    assert data is not None
    return data


def jsonld_bytes(nquads: bytes, extra: Sequence[Source] = ()) -> bytes:
    """Compact JSON-LD with the packaged context, written by rdflib."""
    from rdflib import Graph

    triples = rdf_bytes(nquads, "nt", extra)
    graph = Graph()
    graph.parse(data=triples, format="nt")
    text = graph.serialize(format="json-ld", context=jsonld_context(), indent=1)
    return text.encode("utf-8")


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same directory.

    On any failure the temporary file is removed and ``path`` is left as it was.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise OutputError(f"{path}: is a directory")
    if not directory.is_dir():
        raise OutputError(f"{path}: directory {directory} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o644 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

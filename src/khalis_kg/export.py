"""Export the graph as turtle, nt, nq, trig, xml (RDF/XML) or jsonld; atomic file writes.

The dataset travels as N-Quads from the backend. Turtle, N-Triples, RDF/XML and JSON-LD
hold one graph: the union of the default graph and any named graphs is written. TriG and
N-Quads keep named graphs. JSON-LD is compacted with the ``@context`` shipped as
``ontology/context.jsonld`` (embedded in the output, so reading it needs no network);
written here (flattened, one node object per subject). Only pyoxigraph is used.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from . import resources
from .files import write_output
from .namespaces import RDF_TYPE, XSD, shorten, used_prefixes
from .rdfio import Source, parse, rdf_format
from .rdfio import serialize as rdf_serialize


@functools.cache
def _context_text() -> str:
    """The packaged ``context.jsonld``, read once (an isolated query reads it before its
    descriptors are locked)."""
    return resources.read_text(resources.jsonld_context_file())


def jsonld_context() -> dict[str, Any]:
    """The compact JSON-LD context (the value of ``@context`` in ``context.jsonld``)."""
    context = json.loads(_context_text())["@context"]
    assert isinstance(context, dict)
    return context


def export(
    nquads: bytes, fmt: str, path: str | Path | None = None, *, extra: Sequence[Source] = ()
) -> bytes:
    """Serialise the N-Quads dataset ``nquads`` (plus ``extra`` sources) as ``fmt``.

    Returns the bytes; also writes them atomically to ``path`` when given.
    """
    fmt = rdf_format(fmt).name
    data = jsonld_bytes(nquads, extra) if fmt == "jsonld" else rdf_bytes(nquads, fmt, extra)
    if path is not None:  # atomic for regular files; devices and FIFOs in place
        write_output(path, data)
    return data


def _quads(nquads: bytes, extra: Sequence[Source]) -> list[Any]:
    quads = list(ox.parse(nquads, ox.RdfFormat.N_QUADS))
    for source in extra:
        quads.extend(parse(source))
    dataset = ox.Dataset(quads)
    # Blank nodes get RDFC-1.0 canonical labels: the same graph exports to the same bytes.
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return list(dataset)


def rdf_bytes(nquads: bytes, fmt: str, extra: Sequence[Source] = ()) -> bytes:
    """Every format but JSON-LD, with pyoxigraph."""
    quads = _quads(nquads, extra)
    iris = {t.value for q in quads for t in q.triple if isinstance(t, ox.NamedNode)}
    prefixes = used_prefixes(iris) if fmt in ("turtle", "trig") else None
    items = quads if fmt in ("nq", "trig") else list(dict.fromkeys(q.triple for q in quads))
    items.sort(key=str)  # deterministic output: same data, same bytes
    return rdf_serialize(items, fmt, prefixes)


def jsonld_bytes(nquads: bytes, extra: Sequence[Source] = ()) -> bytes:
    """Compact JSON-LD (flattened: one node object per subject) with the packaged context.

    Written here rather than by rdflib, whose compacting serializer drops blank-node
    subjects reached through ``"@type": "@id"`` terms. The context is simple (prefixes and
    terms, some coerced to ``@id``), so compaction is a lookup: a property uses its term
    when the term's coercion fits the value, its compact IRI otherwise. Canonical
    ``xsd:integer`` and ``xsd:boolean`` values are native JSON; other typed literals
    keep their lexical form in ``@value``, so the graph reads back unchanged.
    """
    context = jsonld_context()
    compactor = _Compactor(context)
    nodes: dict[str, dict[str, Any]] = {}
    for quad in _quads(nquads, extra):
        subject = compactor.node_id(quad.subject)
        node = nodes.setdefault(subject, {})
        predicate = quad.predicate.value
        obj = quad.object
        if predicate == RDF_TYPE and not isinstance(obj, ox.Literal):
            node.setdefault("@type", []).append(compactor.node_id(obj))
            continue
        key, value = compactor.property_value(predicate, obj)
        node.setdefault(key, []).append(value)
    graph = []
    for subject, node in sorted(nodes.items()):
        out: dict[str, Any] = {"@id": subject}
        for key in sorted(node, key=lambda k: (k != "@type", k)):  # @type first
            values = sorted(node[key], key=lambda v: json.dumps(v, sort_keys=True))
            out[key] = values[0] if len(values) == 1 else values
        graph.append(out)
    document = {"@context": context, "@graph": graph}
    return (json.dumps(document, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


class _Compactor:
    """IRI and value compaction against a context of prefixes and simple terms."""

    def __init__(self, context: dict[str, Any]):
        items = [(k, v) for k, v in context.items() if not k.startswith("@")]
        prefixes = [(k, v) for k, v in items if isinstance(v, str) and v.endswith(("/", "#"))]
        self.prefix_map = dict(sorted(prefixes, key=lambda p: -len(p[1])))
        self.terms: dict[str, tuple[str, bool]] = {}  # IRI -> (term, coerced to @id)
        for key, value in items:
            if key in self.prefix_map:
                continue
            if isinstance(value, str):
                iri, coerced = value, False
            elif set(value) <= {"@id", "@type"} and value.get("@type") in (None, "@id"):
                iri, coerced = value.get("@id"), value.get("@type") == "@id"
            else:
                continue  # only simple term definitions are used
            prefix, sep, local = (iri or "").partition(":")  # a compact IRI, expanded
            if sep and prefix in self.prefix_map and not local.startswith("//"):
                iri = self.prefix_map[prefix] + local
            if iri:
                self.terms.setdefault(iri, (key, coerced))

    def iri(self, iri: str) -> str:
        """A compact IRI with the context's prefixes: any local part but empty or ``//...``
        (which would read as an IRI)."""
        return shorten(iri, self.prefix_map, local_ok=lambda s: bool(s) and s[:2] != "//")

    def node_id(self, term: Any) -> str:
        return f"_:{term.value}" if isinstance(term, ox.BlankNode) else self.iri(term.value)

    def property_value(self, predicate: str, obj: Any) -> tuple[str, Any]:
        term = self.terms.get(predicate)
        is_node = not isinstance(obj, ox.Literal)
        if term is not None and term[1] == is_node:  # the term's coercion fits the value
            return term[0], self.node_id(obj) if is_node else self.literal(obj)
        key = self.iri(predicate)
        key = key if ":" in key else predicate  # no prefix fits: the full IRI
        return key, {"@id": self.node_id(obj)} if is_node else self.literal(obj)

    def literal(self, literal: Any) -> Any:
        if literal.language:
            return {"@value": literal.value, "@language": literal.language}
        datatype = literal.datatype.value
        if datatype == XSD + "string":
            return literal.value
        if datatype == XSD + "integer" and re.fullmatch(r"-?(0|[1-9]\d{0,15})", literal.value):
            return int(literal.value)
        if datatype == XSD + "boolean" and literal.value in ("true", "false"):
            return literal.value == "true"
        return {"@value": literal.value, "@type": self.iri(datatype)}

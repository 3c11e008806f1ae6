"""SHACL validation with pySHACL, reported as typed :class:`ValidationReport` objects.

pySHACL (and rdflib) are imported only when :func:`validate` runs. Shapes come from the
packaged ``ontology/shapes.ttl``; the packaged ontology is added to (a copy of) the
data graph, and no inference is done unless asked (``inference="rdfs"``).
Input files are first read with Oxigraph's parser, so a syntax error names the file
and the line; each result names the file its focus node comes from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import KhalisError
from .namespaces import SH, shorten
from .rdfio import Source, check_syntax
from .resources import ontology_sources, packaged_source

INFERENCE = ("none", "rdfs", "owlrl", "both")


@dataclass(frozen=True)
class ValidationResult:
    """One SHACL result (``sh:ValidationResult``)."""

    focus_node: str
    path: str | None
    severity: str
    """``Violation``, ``Warning`` or ``Info``."""
    message: str
    source_shape: str | None
    """The shape's IRI (prefixed); for an anonymous property shape, the named shape holding it."""
    value: str | None = None
    source_constraint: str | None = None
    file: str | None = None
    """The input file in which the focus node is a subject (when known)."""


@dataclass
class ValidationReport:
    """The outcome of a SHACL validation."""

    conforms: bool
    results: list[ValidationResult] = field(default_factory=list)
    report_turtle: str = field(default="", repr=False)

    @property
    def text(self) -> str:
        """A report for people: one line per result naming the file, focus node, path,
        value, message and the constraint that caught it (``sh:datatype``) with its
        shape. Several results on one focus node, path and value are grouped under one
        heading, one line per constraint."""
        if self.conforms:
            return "Conforms: yes\n"
        lines = [
            f"Conforms: no ({len(self.results)} result{'s' if len(self.results) != 1 else ''})"
        ]
        groups: dict[tuple[str, str, str, str], list[ValidationResult]] = {}
        for r in self.results:
            key = (r.file or "", r.focus_node, r.path or "", r.value or "")
            groups.setdefault(key, []).append(r)
        for (file, focus, path, value), results in groups.items():
            where = f"{file}: " if file else ""
            subject = f"focus {focus}" + (f" path {path}" if path else "")
            subject += f" value {value}" if value else ""
            if len(results) == 1:
                r = results[0]
                lines.append(f"{where}{r.severity}: {subject}: {r.message} [{_caught_by(r)}]")
                continue
            lines.append(f"{where}{subject}: {len(results)} results")
            # One line per message: constraints of one shape that give the same message
            # (a datatype and a range check on one date) are named together.
            same: dict[tuple[str, str, str], list[str]] = {}
            for r in results:
                said = (r.severity, r.message, r.source_shape or "")
                same.setdefault(said, []).append(constraint_name(r.source_constraint) or "?")
            for (severity, message, shape), names in same.items():
                caught = ", ".join(names) + (f" in {shape}" if shape else "")
                lines.append(f"  {severity}: {message} [{caught}]")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        return {"conforms": self.conforms, "results": [asdict(r) for r in self.results]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=1) + "\n"

    def to_turtle(self) -> str:
        """The ``sh:ValidationReport`` graph as Turtle."""
        return self.report_turtle

    def __bool__(self) -> bool:
        return self.conforms


def constraint_name(component: str | None) -> str | None:
    """``sh:datatype`` for ``sh:DatatypeConstraintComponent``: the constraint parameter a
    reader finds in the shape."""
    if not component:
        return None
    prefix, _, local = component.rpartition(":")
    if not local.endswith("ConstraintComponent"):
        return component
    name = local[: -len("ConstraintComponent")]
    name = "sparql" if name == "SPARQL" else name[:1].lower() + name[1:]
    return f"{prefix}:{name}" if prefix else name


def _caught_by(r: ValidationResult) -> str:
    """``sh:datatype in kgsh:QuantityShape``: which constraint of which shape."""
    constraint = constraint_name(r.source_constraint)
    if constraint and r.source_shape:
        return f"{constraint} in {r.source_shape}"
    return constraint or r.source_shape or "no constraint named"


def _n3(term: Any, graph: Any) -> str:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return _short(str(term))
    if isinstance(term, Literal):
        return term.n3()
    if isinstance(term, BNode):
        return _path(term, graph) or f"_:{term}"
    return str(term)


def _short(iri: str) -> str:
    short = shorten(iri)
    return short if short != iri else f"<{iri}>"


def _shape_name(shape: Any, shapes: Any) -> str:
    """The shape's IRI; for an anonymous property shape, the named shape that holds it."""
    from rdflib import BNode, URIRef

    seen = set()
    node = shape
    while isinstance(node, BNode) and node not in seen:
        seen.add(node)
        parent = shapes.value(predicate=URIRef(SH + "property"), object=node)
        if parent is None:
            parent = shapes.value(predicate=URIRef(SH + "node"), object=node)
        if parent is None:
            break
        node = parent
    return _n3(node, shapes)


def _path(node: Any, graph: Any) -> str | None:
    """A SHACL property path as SPARQL path syntax."""
    from rdflib import RDF, BNode, URIRef
    from rdflib.collection import Collection

    if isinstance(node, URIRef):
        return _short(str(node))
    if not isinstance(node, BNode):
        return None
    sh = {
        k: URIRef(SH + k)
        for k in (
            "inversePath",
            "alternativePath",
            "zeroOrMorePath",
            "oneOrMorePath",
            "zeroOrOnePath",
        )
    }
    for key, fmt in (
        ("inversePath", "^{}"),
        ("zeroOrMorePath", "{}*"),
        ("oneOrMorePath", "{}+"),
        ("zeroOrOnePath", "{}?"),
    ):
        inner = graph.value(node, sh[key])
        if inner is not None:
            return fmt.format(_path(inner, graph))
    alt = graph.value(node, sh["alternativePath"])
    if alt is not None:
        return "(" + "|".join(str(_path(x, graph)) for x in Collection(graph, alt)) + ")"
    if graph.value(node, RDF.first) is not None:
        return "/".join(str(_path(x, graph)) for x in Collection(graph, node))
    return None


def validate(sources: Sequence[Source], *, inference: str = "none") -> ValidationReport:
    """Validate the union of ``sources`` (and of their named graphs) against the shapes."""
    from rdflib import Dataset, Graph

    data = Graph()
    parts: list[tuple[str, Graph]] = []
    for source in sources:
        check_syntax(source)
        spec = source.spec()
        fmt = spec.rdflib
        if spec.quads:
            # named graphs are validated together with the default graph (their union)
            dataset = Dataset()
            dataset.parse(data=source.data, format=fmt, publicID=source.base_iri)
            part = Graph()
            for s, p, o, _g in dataset.quads((None, None, None, None)):
                part.add((s, p, o))
        else:
            part = Graph()
            part.parse(data=source.data, format=fmt, publicID=source.base_iri)
        parts.append((source.name, part))
        data += part
    return validate_graph(data, inference=inference, origin=_Origin(parts))


class _Origin:
    """Which input file a result comes from: the file holding the offending triple
    (focus, path, value); otherwise the last file in which the focus node is a subject
    (later files are usually the additions being checked)."""

    def __init__(self, parts: list[tuple[str, Any]]):
        self.parts = parts

    def find(self, focus: Any, path: Any, value: Any) -> str | None:
        from rdflib import URIRef

        if isinstance(path, URIRef) and value is not None:
            for name, graph in self.parts:
                if (focus, path, value) in graph:
                    return str(name)
        for name, graph in reversed(self.parts):
            if (focus, None, None) in graph:
                return str(name)
        return None


def validate_graph(
    data: Any, *, inference: str = "none", origin: _Origin | None = None
) -> ValidationReport:
    """Validate an rdflib graph against the packaged shapes, with the ontology."""
    import pyshacl
    from rdflib import RDF, Graph, URIRef

    if inference not in INFERENCE:
        raise KhalisError(
            f"unknown inference {inference!r} (choose one of: {', '.join(INFERENCE)})"
        )
    shapes = Graph().parse(data=packaged_source("shapes").data, format="turtle")
    ontology = Graph()
    for source in ontology_sources():
        ontology.parse(data=source.data, format="turtle")
    # The ontology is added to a copy of the data graph rather than passed as pySHACL's
    # ont_graph: that mix-in copies only class and property definitions, while the SKOS
    # concepts (individuals such as kgc:prison-break a sem:EventType) must be visible
    # to sh:class.
    target = Graph()
    target += data
    target += ontology
    conforms, report_graph, _text = pyshacl.validate(
        target,
        shacl_graph=shapes,
        inference=inference,
        abort_on_first=False,
        meta_shacl=False,
        advanced=True,
        allow_warnings=False,
    )
    g: Graph = report_graph
    results: list[ValidationResult] = []
    result_type = URIRef(SH + "ValidationResult")
    for node in g.subjects(RDF.type, result_type):

        def get(prop: str, node: Any = node) -> Any:
            return g.value(node, URIRef(SH + prop))

        focus = get("focusNode")
        severity = get("resultSeverity")
        path = get("resultPath")
        value = get("value")
        shape = get("sourceShape")
        constraint = get("sourceConstraintComponent")
        messages = sorted(str(m) for m in g.objects(node, URIRef(SH + "resultMessage")))
        results.append(
            ValidationResult(
                focus_node=_n3(focus, data),
                path=None if path is None else _path(path, shapes) or _path(path, g),
                severity=str(severity).rsplit("#", 1)[-1] if severity is not None else "Violation",
                message="; ".join(messages) or "(no message)",
                source_shape=None if shape is None else _shape_name(shape, shapes),
                value=None if value is None else _n3(value, data),
                source_constraint=None if constraint is None else _short(str(constraint)),
                file=None if origin is None else origin.find(focus, path, value),
            )
        )
    results.sort(key=lambda r: (r.file or "", r.focus_node, r.path or "", r.message))
    return ValidationReport(
        conforms=bool(conforms),
        results=results,
        report_turtle=g.serialize(format="turtle"),
    )

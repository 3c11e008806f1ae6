"""SHACL validation with two engines behind one call, reported as typed
:class:`ValidationReport` objects.

* ``turbo`` (the default when installed): pyshacl-turbo, a Rust SHACL engine, parses
  what it validates itself: one N-Triples or Turtle file as it is, other inputs as
  N-Quads read by Oxigraph's parser (datatypes as written: an Oxigraph store would turn
  ``xsd:int`` into ``xsd:integer``); :meth:`khalis_kg.KnowledgeGraph.validate` hands it
  the pyoxigraph ``Store`` its queries already use.
* ``pyshacl``: pySHACL, the reference implementation, on an rdflib graph. The
  differential test (``tests/test_engines.py``) proves that both engines give the same
  results on the project's shapes.

Both validate the union of the inputs (named graphs included) with the packaged ontology
(its SKOS concepts must be visible to ``sh:class``), with no inference unless asked.
Shapes and ontology are parsed (and compiled) once per process. A syntax error names the
file and the line (Oxigraph's parser).
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from .errors import EngineCrashError, InputError, KhalisError, one_line, printable
from .namespaces import ONTOLOGY, OWL, RDF_TYPE, SH, shorten
from .rdfio import Source, check_syntax, format_for, from_rdflib, parse, serialize, to_ox
from .resources import ontology_sources, packaged_source, tested
from .terms import XSD_STRING, canonical_literal

if TYPE_CHECKING:
    import pyoxigraph

INFERENCE = ("none", "rdfs", "owlrl", "both")
ENGINES = ("turbo", "pyshacl")
"""``turbo``: pyshacl-turbo (Rust, the default when installed); ``pyshacl``: pySHACL,
the reference implementation."""
EngineName = Literal["turbo", "pyshacl"]
SourceLike = Source | str | Path
"""What :func:`validate` reads: a source, or the path of an RDF file, read when the
engine needs it; a file's bytes are then not kept while the engine runs (163 MB at 1M
triples, beside the text handed to pyshacl-turbo)."""
FALLBACK_NOTE = (
    "pyshacl-turbo is not installed: validating with pySHACL, the slower reference engine "
    "(pip install 'khalis-kg[fast]' for the fast one)"
)


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
    engine: str = "pyshacl"
    """The engine that produced the report: ``turbo`` or ``pyshacl``."""
    note: str | None = None
    """Said once to the user beside the report (e.g. why the default engine was not used)."""

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
        # each result on its line, and no escape sequence from the data reaches a terminal
        return "\n".join(printable(" ".join(line.split("\n"))) for line in lines) + "\n"

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
        return str(_literal(term).n3())
    if isinstance(term, BNode):
        return (_path(term, graph) if graph is not None else None) or f"_:{term}"
    return str(term)


def _literal(term: Any) -> Any:
    """A literal with its lexical form made canonical (``"12.0"`` and ``"12.00"`` as
    ``xsd:decimal`` are one value; Oxigraph's store keeps only the canonical form) and
    ``xsd:string`` written as a simple literal, as in query results. The datatype is
    kept: ``"5"^^xsd:int`` stays an ``xsd:int``."""
    from rdflib import Literal, URIRef

    datatype = None if term.datatype is None else str(term.datatype)
    lexical, _datatype, lang = canonical_literal(str(term), datatype, term.language)
    if lang is not None:
        return Literal(lexical, lang=lang)
    if datatype is None or datatype == XSD_STRING:
        return Literal(lexical)
    return Literal(lexical, datatype=URIRef(datatype))


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


_PATH_FORMS = {
    "inversePath": "^{}",
    "zeroOrMorePath": "{}*",
    "oneOrMorePath": "{}+",
    "zeroOrOnePath": "{}?",
}


def _path(node: Any, graph: Any) -> str | None:
    """A SHACL property path as SPARQL path syntax."""
    from rdflib import RDF, BNode, URIRef
    from rdflib.collection import Collection

    if isinstance(node, URIRef):
        return _short(str(node))
    if not isinstance(node, BNode):
        return None
    for key, form in _PATH_FORMS.items():
        inner = graph.value(node, URIRef(SH + key))
        if inner is not None:
            return form.format(_path(inner, graph))
    alt = graph.value(node, URIRef(SH + "alternativePath"))
    if alt is not None:
        return "(" + "|".join(str(_path(x, graph)) for x in Collection(graph, alt)) + ")"
    if graph.value(node, RDF.first) is not None:
        return "/".join(str(_path(x, graph)) for x in Collection(graph, node))
    return None


# -- engines ------------------------------------------------------------------------------


def turbo_available() -> bool:
    """Whether pyshacl-turbo can be imported (the ``fast`` extra, Python >= 3.11)."""
    from importlib.util import find_spec

    return find_spec("pyshacl_turbo") is not None


def resolve_engine(engine: str | None, inference: str = "none") -> tuple[EngineName, str | None]:
    """The engine to run and a note for the user: ``None`` picks ``turbo`` when it is
    installed and falls back to ``pyshacl`` (with a note) otherwise. Asking for an
    engine or ``inference`` that is unknown, or an engine not installed, is a usage
    error."""
    if inference not in INFERENCE:
        raise KhalisError(
            f"unknown inference {inference!r} (choose one of: {', '.join(INFERENCE)})"
        )
    if engine is None:
        return ("turbo", None) if turbo_available() else ("pyshacl", FALLBACK_NOTE)
    if engine not in ENGINES:
        raise KhalisError(f"unknown SHACL engine {engine!r} (choose one of: {', '.join(ENGINES)})")
    if engine == "turbo" and not turbo_available():
        raise KhalisError(
            "the turbo engine needs pyshacl-turbo (Python >= 3.11): "
            "pip install 'khalis-kg[fast]', or use --engine pyshacl"
        )
    return cast(EngineName, engine), None


@lru_cache(maxsize=1)
def _shapes_graph() -> Any:
    """The packaged shapes as an rdflib graph, parsed once per process (both engines
    name shapes and paths from it; pyshacl-turbo compiles it)."""
    from rdflib import Graph

    return Graph().parse(data=packaged_source("shapes").data, format="turtle")


@lru_cache(maxsize=1)
def _ontology_graph() -> Any:
    """The packaged ontology as an rdflib graph, parsed once per process (pySHACL)."""
    from rdflib import Graph

    return Graph().parse(data=_ontology_text(), format="nt")


@lru_cache(maxsize=1)
def _compiled_shapes() -> Any:
    """The packaged shapes compiled by pyshacl-turbo, once per process."""
    import pyshacl_turbo

    try:
        return pyshacl_turbo.compile_shapes(  # type: ignore[no-untyped-call]
            _shapes_graph(), advanced=True
        )
    except (pyshacl_turbo.ValidationFailure, RuntimeError) as exc:
        raise EngineCrashError(f"pyshacl-turbo cannot compile the shapes: {exc}") from None


def warm_up(engine: str | None = None) -> None:
    """Parse (and for turbo compile) the shapes and the ontology now, e.g. in a server
    worker before its first request; later validations reuse them."""
    name, _note = resolve_engine(engine)
    _shapes_graph()
    _ontology_text()
    if name == "turbo":
        _compiled_shapes()
    else:
        _ontology_graph()


_SOURCE_GRAPH = "urn:khalis-kg:validate:source:"


class _Origin:
    """Which input file a result comes from: the file holding the offending triple
    (focus, path, value); otherwise the last file in which the focus node is a subject
    (later files are usually the additions being checked). The sources are loaded into a
    store, one named graph each, only when there is a result to attribute; a blank node
    cannot be looked up (each parser labels it anew), so its results name no file."""

    def __init__(self, inputs: Sequence[SourceLike]) -> None:
        self.inputs = inputs
        self.store: pyoxigraph.Store | None = None
        self.graphs: list[tuple[str, pyoxigraph.NamedNode]] = []

    def find(self, focus: Any, path: Any, value: Any) -> str | None:
        import pyoxigraph as ox
        from rdflib import Literal, URIRef

        if self.store is None:
            self.store = ox.Store()
            for i, source in enumerate(map(_read, self.inputs)):
                graph = ox.NamedNode(f"{_SOURCE_GRAPH}{i}")
                self.graphs.append((source.name, graph))
                self.store.extend(
                    ox.Quad(q.subject, q.predicate, q.object, graph) for q in parse(source)
                )
        store, graphs = self.store, self.graphs
        # blank nodes cannot be looked up (each parser relabels them); a literal is no subject
        if not isinstance(focus, URIRef):
            return None
        s = ox.NamedNode(str(focus))
        o = to_ox(from_rdflib(value)) if isinstance(value, URIRef | Literal) else None
        if isinstance(path, URIRef) and o is not None:
            for name, graph in graphs:
                if any(store.quads_for_pattern(s, ox.NamedNode(str(path)), o, graph)):
                    return name
        for name, graph in reversed(graphs):
            if any(store.quads_for_pattern(s, None, None, graph)):
                return name
        return None


# -- entry points ---------------------------------------------------------------------


def _read(item: SourceLike) -> Source:
    """A source as it is; a path read (its nesting checked) now."""
    return item if isinstance(item, Source) else Source.from_path(item)


def validate(
    sources: Sequence[SourceLike], *, inference: str = "none", engine: str | None = None
) -> ValidationReport:
    """Validate the union of ``sources`` (and of their named graphs) against the shapes:
    sources, or paths of RDF files read here (:data:`SourceLike`).

    ``engine``: ``turbo``, ``pyshacl`` or ``None`` (turbo when installed)."""
    name, note = resolve_engine(engine, inference)
    if name == "turbo":
        origin = _Origin(sources)
        direct = _direct_input(sources)
        if direct is not None:
            try:
                return _run("turbo", direct, inference, note, origin)
            except ValueError:  # pyshacl-turbo cannot read it: Oxigraph's parser says why
                del direct
        return _run("turbo", _exact_input(sources), inference, note, origin)
    return _run("pyshacl", _parse_rdflib(sources), inference, note, _Origin(sources))


def validate_store(
    store: pyoxigraph.Store, *, inference: str = "none", engine: str | None = None
) -> ValidationReport:
    """Validate what a pyoxigraph ``Store`` holds (the union of its graphs).

    With ``turbo`` the store is read as it is when it already holds the packaged
    ontology (``KnowledgeGraph.load(..., with_ontology=True)``); otherwise its quads are
    copied, in Rust, into an in-memory store beside the ontology. pySHACL reads an
    rdflib copy of the store."""
    import pyoxigraph as ox

    name, note = resolve_engine(engine, inference)
    if name == "turbo":
        marker = ox.Quad(*(ox.NamedNode(t) for t in (ONTOLOGY, RDF_TYPE, OWL + "Ontology")))
        target = store
        if marker not in store:
            target = ox.Store()
            target.bulk_load(store.dump(format=ox.RdfFormat.N_QUADS), ox.RdfFormat.N_QUADS)
            target.load(_ontology_text(), ox.RdfFormat.N_QUADS)
        return _run("turbo", target, inference, note)
    dump = Source("<store>", store.dump(format=ox.RdfFormat.N_QUADS) or b"", "nq")
    return _run("pyshacl", _parse_rdflib([dump]), inference, note)


def validate_graph(
    data: Any, *, inference: str = "none", engine: str | None = None
) -> ValidationReport:
    """Validate an rdflib graph against the packaged shapes, with the ontology."""
    from rdflib import Graph

    name, note = resolve_engine(engine, inference)
    # The ontology is added to a copy of the data graph rather than passed as the
    # engine's ont_graph: that mix-in copies only class and property definitions, while
    # the SKOS concepts (individuals such as kgc:prison-break a sem:EventType) must be
    # visible to sh:class.
    target = Graph()
    target += data
    target += _ontology_graph()
    return _run(name, target, inference, note)


# -- turbo ------------------------------------------------------------------------------


def _direct_input(sources: Sequence[SourceLike]) -> Any | None:
    """One N-Triples or Turtle file handed to pyshacl-turbo as it is, after the ontology's
    N-Triples (a Turtle document may follow N-Triples lines; its ``@prefix`` and ``@base``
    then only apply to its own lines): the engine parses it once, with datatypes as
    written, instead of Oxigraph's parser reading it into Python objects and
    serialising it again (:func:`_exact_input`; 2.3 s and two more copies of the text at
    1M triples). None for anything else: several files (blank nodes must be renamed
    apart), named graphs, other syntaxes, text that is not UTF-8. A text pyshacl-turbo
    cannot parse raises ValueError, and :func:`_exact_input` then gives Oxigraph's error,
    naming the file and the line."""
    if len(sources) != 1:
        return None
    item = sources[0]
    # pyshacl-turbo's names for them too
    fmt = item.spec().name if isinstance(item, Source) else format_for(str(item))
    if fmt not in ("nt", "turtle"):
        return None
    source = _read(item)
    if source.data.startswith(b"\xef\xbb\xbf"):
        return None
    from pyshacl_turbo.rdf import Input

    try:
        text = _ontology_text() + source.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return Input(text, fmt, source.base_iri, {}, {}, preserve_ids=True)


def _exact_input(sources: Sequence[SourceLike]) -> Any:
    """The sources and the ontology as one N-Quads text (named graphs merged into the
    default graph: their union is validated, as with pySHACL), for pyshacl-turbo to
    parse itself. Read with Oxigraph's parser (a syntax error names the file and the
    line; blank nodes are renamed apart per file) but not through a ``Store``: a store
    keeps the value of a typed literal rather than its datatype (``"5"^^xsd:int`` comes
    back as ``"5"^^xsd:integer``, tests/data/engine-deviations.json), which
    ``sh:datatype`` would see. ``Input`` is pyshacl-turbo's own holder of such text (the
    version is pinned; tests/test_engines.py covers this path)."""
    import pyoxigraph as ox
    from pyshacl_turbo.rdf import Input

    from .rdfio import ox_format, rdf_syntax_error

    chunks: list[str] = []  # decoded one source at a time: no joined copy in bytes
    for source in map(_read, sources):
        fmt = ox_format(source.spec().name)
        try:
            quads = ox.parse(source.data, fmt, base_iri=source.base_iri, rename_blank_nodes=True)
            nquads = ox.serialize(
                (ox.Quad(q.subject, q.predicate, q.object) for q in quads),
                format=ox.RdfFormat.N_QUADS,
            )
            chunks.append((nquads or b"").decode("utf-8"))
            del nquads
        except SyntaxError as exc:
            raise rdf_syntax_error(source, exc) from None
        except (ValueError, OSError) as exc:
            raise InputError(f"{source.name}: cannot read: {one_line(str(exc))}") from None
    chunks.append(_ontology_text())
    text = "".join(chunks)
    del chunks
    return Input(text, "nquads", None, {}, {}, preserve_ids=True)


@lru_cache(maxsize=1)
def _ontology_text() -> str:
    """The packaged ontology as N-Triples in ASCII, each other character a ``\\u`` escape.
    One em dash in it made the text handed to pyshacl-turbo a string of two bytes a
    character, which the engine then also encoded in UTF-8: 327 MB more at the peak for
    1M triples of ASCII data (163 MB)."""
    quads = [q for source in ontology_sources() for q in parse(source)]  # the default graph
    text = serialize(quads, "nq").decode()
    return re.sub("[^\x00-\x7f]", _escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}"


def _turbo(data: Any, inference: str) -> tuple[Any, Any]:
    import pyshacl_turbo

    compiled = _compiled_shapes()
    try:
        if inference == "none":
            conforms, report, text = compiled.validate(
                data, allow_warnings=False, abort_on_first=False
            )
        else:  # pre-inference needs the one-call API; the compiled program is cached
            conforms, report, text = pyshacl_turbo.validate(
                data,
                shacl_graph=compiled.graph,
                inference=inference,
                advanced=True,
                allow_warnings=False,
                abort_on_first=False,
            )
    except (pyshacl_turbo.ValidationFailure, RuntimeError) as exc:
        raise EngineCrashError(f"pyshacl-turbo failed: {exc}") from None
    if not hasattr(report, "subjects"):  # validate() returns a failure in place of a graph
        raise EngineCrashError(f"pyshacl-turbo failed: {text}")
    return conforms, report


# -- pySHACL ----------------------------------------------------------------------------


def _parse_rdflib(sources: Sequence[SourceLike]) -> Any:
    """The union of the sources (named graphs included) with the ontology, one rdflib
    graph."""
    from rdflib import Dataset, Graph

    target = Graph()
    for source in map(_read, sources):
        check_syntax(source)
        spec = source.spec()
        if spec.quads:
            dataset = Dataset()
            dataset.parse(data=source.data, format=spec.media_type, publicID=source.base_iri)
            for s, p, o, _g in dataset.quads((None, None, None, None)):
                target.add((s, p, o))
        else:
            target.parse(data=source.data, format=spec.media_type, publicID=source.base_iri)
    target += _ontology_graph()
    return target


def _pyshacl(target: Any, inference: str) -> tuple[Any, Any]:
    import pyshacl

    with _pyshacl_accelerated():
        conforms, report, _text = pyshacl.validate(
            target,
            shacl_graph=_shapes_graph(),
            inference=inference,
            abort_on_first=False,
            meta_shacl=False,
            advanced=True,
            allow_warnings=False,
        )
    return conforms, report


# -- pySHACL, made faster without changing a result -----------------------------------------
# Two things pySHACL repeats on every focus node are done once per validation while it runs
# (:func:`_pyshacl_accelerated`: one validation at a time, undone after it):
#
# * SPARQL-based constraints: pySHACL runs each once per focus node with the same text
#   (``$this`` bound by initBindings), and rdflib parsed the text every time: most of a
#   pySHACL run went into rdflib's SPARQL grammar. rdflib's "sparql" processor is then one
#   that parses and translates each text once, as rdflib does, and evaluates the prepared
#   query (rdflib's prepared queries are made to be run many times).
# * ``sh:in``: pySHACL builds a shape's components each time it validates the shape, and a
#   shape inside ``sh:or`` is validated once per value node: the ``sh:in`` list
#   (kgsh:KnownClassShape: 58 members) was walked for every rdf:type value, 40-50% of a
#   pySHACL run with RDFS inference. The ``sh:in`` component is then one that reads each
#   shape's list once (the shapes graph does not change during a validation); reports are
#   unchanged, ``sh:sourceConstraintComponent`` included.
#
# The differential tests compare pySHACL's reports with the other engines', and
# tests/test_validation_api.py with pySHACL left alone.

ACCELERATED = tested("pyshacl", (0, 30), (0, 41)) and tested("rdflib", (7, 5), (7, 7))
"""Both speed-ups lean on pySHACL's and rdflib's internals (the ``sh:in`` component class
and ``CONSTRAINT_PARAMETERS_MAP``; the "sparql" processor plugin), so they are made only
for the releases they were tested with: pySHACL 0.30 (the floor) to 0.40, rdflib 7.5 (the
floor) to 7.6. Elsewhere pySHACL runs as it comes (slower, the same report);
tests/test_validation_api.py compares the reports with and without them."""

_PYSHACL_LOCK = threading.Lock()
PreparingProcessor: Any = None
"""The processor class, made at the first pySHACL run (rdflib's plugin registry imports
it from here by name)."""


@lru_cache(maxsize=256)
def _prepared_query(text: str, base: str | None, namespaces: tuple[tuple[str, Any], ...]) -> Any:
    from rdflib.plugins.sparql.algebra import translateQuery
    from rdflib.plugins.sparql.parser import parseQuery

    return translateQuery(parseQuery(text), base, dict(namespaces))


def _preparing_processor() -> Any:
    from rdflib.plugins.sparql.processor import SPARQLProcessor

    class PreparingProcessor(SPARQLProcessor):  # type: ignore[misc]
        def query(  # type: ignore[override] # rdflib's own signature
            self,
            strOrQuery: Any,  # noqa: N803
            initBindings: Any = None,  # noqa: N803
            initNs: Any = None,  # noqa: N803
            base: str | None = None,
            DEBUG: bool = False,  # noqa: N803
        ) -> Any:
            if isinstance(strOrQuery, str):
                namespaces = tuple(sorted((initNs or {}).items()))
                strOrQuery = _prepared_query(strOrQuery, base, namespaces)  # noqa: N806
            return super().query(strOrQuery, initBindings, initNs, base, DEBUG)

    return PreparingProcessor


def _in_read_once(lists: dict[int, tuple[Any, Any, Any]]) -> Any:
    """pySHACL's ``sh:in`` component, reading each shape's list once into ``lists``
    (keyed by the shape's id; the shape is kept with its entry, so the id stays its own)."""
    from pyshacl.constraints.constraint_component import ConstraintComponent
    from pyshacl.constraints.core.other_constraints import InConstraintComponent

    class InReadOnce(InConstraintComponent):  # type: ignore[misc]
        def __init__(self, shape: Any) -> None:
            known = lists.get(id(shape))
            if known is not None and known[0] is shape:
                ConstraintComponent.__init__(self, shape)
                self.in_list, self.in_vals = known[1], known[2]
                return
            super().__init__(shape)
            lists[id(shape)] = (shape, self.in_list, self.in_vals)

    return InReadOnce


@contextlib.contextmanager
def _pyshacl_accelerated() -> Iterator[None]:
    """Both speed-ups, for the block, one validation at a time (none outside the tested
    releases, :data:`ACCELERATED`)."""
    if not ACCELERATED:
        yield
        return
    with _PYSHACL_LOCK, _sparql_prepared_once(), _in_lists_read_once():
        yield


@contextlib.contextmanager
def _sparql_prepared_once() -> Iterator[None]:
    """rdflib's "sparql" processor is :func:`_preparing_processor`'s for the block (the
    caller holds ``_PYSHACL_LOCK`` where validations may run in several threads)."""
    from rdflib import plugin
    from rdflib.query import Processor

    global PreparingProcessor
    if PreparingProcessor is None:
        PreparingProcessor = _preparing_processor()
    plugin.register("sparql", Processor, __name__, "PreparingProcessor")
    try:
        yield
    finally:
        plugin.register("sparql", Processor, "rdflib.plugins.sparql.processor", "SPARQLProcessor")


@contextlib.contextmanager
def _in_lists_read_once() -> Iterator[None]:
    """pySHACL's ``sh:in`` component is :func:`_in_read_once`'s for the block (the caller
    holds ``_PYSHACL_LOCK`` where validations may run in several threads). A component
    that is not pySHACL's own (someone else's replacement) is left as it is."""
    from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.core.other_constraints import InConstraintComponent

    (sh_in,) = InConstraintComponent.constraint_parameters()
    if CONSTRAINT_PARAMETERS_MAP.get(sh_in) is not InConstraintComponent:
        yield
        return
    CONSTRAINT_PARAMETERS_MAP[sh_in] = _in_read_once({})
    try:
        yield
    finally:
        CONSTRAINT_PARAMETERS_MAP[sh_in] = InConstraintComponent


# -- the report -------------------------------------------------------------------------


def _run(
    engine: EngineName, data: Any, inference: str, note: str | None, origin: _Origin | None = None
) -> ValidationReport:
    """``data`` validated by ``engine`` (an rdflib graph for pySHACL; for turbo one, a
    pyoxigraph ``Store`` or pyshacl-turbo's ``Input``), as one report."""
    from rdflib import RDF, URIRef

    conforms, g = (_turbo if engine == "turbo" else _pyshacl)(data, inference)
    data = data if hasattr(data, "triples") and hasattr(data, "serialize") else None
    shapes = _shapes_graph()
    results: list[ValidationResult] = []
    result_type = URIRef(SH + "ValidationResult")
    for node in g.subjects(RDF.type, result_type):
        focus, severity, path, value, shape, constraint = (
            g.value(node, URIRef(SH + p))
            for p in (
                "focusNode",
                "resultSeverity",
                "resultPath",
                "value",
                "sourceShape",
                "sourceConstraintComponent",
            )
        )
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
    # every field in the key: results that tie on the first four came in the engine's order,
    # which pyshacl-turbo does not keep from one run to the next
    results.sort(
        key=lambda r: (
            r.file or "",
            r.focus_node,
            r.path or "",
            r.message,
            r.value or "",
            r.source_constraint or "",
            r.source_shape or "",
            r.severity,
        )
    )
    return ValidationReport(
        conforms=bool(conforms),
        results=results,
        report_turtle=g.serialize(format="turtle"),
        engine=engine,
        note=note,
    )

"""RDF syntax I/O, at the bottom of the package: every engine and skin uses it.

* **One vocabulary of format names** (:data:`FORMATS`): each RDF syntax and each
  SPARQL result format has one canonical name, its media type, file suffixes and
  case-insensitive aliases; :func:`rdf_format` and :func:`result_format` resolve a name
  given by a person or a client, for the command line and the HTTP server alike.
  ``docs/formats.md`` is the table for people (a test keeps it in step).
* **RDF input** (:class:`Source`, :func:`format_for`), the syntax check with file and
  line (:func:`check_syntax`, :func:`rdf_syntax_error`), and the conversion between
  pyoxigraph terms and the neutral :class:`~khalis_kg.terms.Term`.

It imports only the standard library and the package's bottom modules (``errors``,
``namespaces``, ``terms``); pyoxigraph is imported by the functions that parse or
serialise, so naming a format costs nothing. That is why the media types, suffixes and
labels are written out rather than read from pyoxigraph's ``RdfFormat`` and
``QueryResultsFormat``: the parent process of ``khalis-kg query`` checks ``--format``
and reads the suffix of each ``--data`` file but never imports pyoxigraph (the engine is
the child's; tests/test_startup.py), and the import costs 4.2 ms of CPU there (median
of 21 paired runs, issue 21: 40 % of a bare ``python -c pass``). pyoxigraph has neither
the aliases nor ``table``. tests/test_formats.py checks that every media type, suffix
and label here is pyoxigraph's own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

from .errors import (
    InputError,
    KhalisError,
    ParameterError,
    QueryError,
    RDFSyntaxError,
    UnwritableError,
    one_line,
)
from .files import as_path, read_input
from .records import Frozen
from .terms import Term, Triple, is_absolute_iri

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any, Literal

    import pyoxigraph as ox

    Kind = Literal["rdf", "results"]


class Format(Frozen):
    """One serialisation: its canonical name, what it holds and how it is named."""

    __match_args__ = (
        "name", "kind", "label", "media_type", "suffix", "aliases", "suffixes",
        "other_media_types", "quads",
    )  # fmt: skip
    __slots__ = __match_args__
    name: str
    kind: Kind
    """``rdf`` (a graph or a dataset) or ``results`` (SELECT and ASK answers)."""
    label: str
    media_type: str
    """The media type without parameters (``text/*`` types are sent with ``charset=utf-8``)."""
    suffix: str
    """The file suffix written (``.ttl``); :func:`format_for` also reads ``suffixes``."""
    aliases: tuple[str, ...]
    """Other names accepted, compared case-insensitively."""
    suffixes: tuple[str, ...]
    """Other file suffixes read as this format."""
    other_media_types: tuple[str, ...]
    """Further media types offered by the server for this format, after ``media_type``."""
    quads: bool
    """Whether the syntax keeps named graphs (N-Quads, TriG)."""

    def __init__(
        self,
        name: str,
        kind: Kind,
        label: str,
        media_type: str,
        suffix: str,
        aliases: tuple[str, ...] = (),
        suffixes: tuple[str, ...] = (),
        other_media_types: tuple[str, ...] = (),
        quads: bool = False,
    ) -> None:
        self._init(
            name, kind, label, media_type, suffix, aliases, suffixes, other_media_types, quads
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The name and the aliases, in lower case."""
        return tuple(dict.fromkeys(n.lower() for n in (self.name, *self.aliases)))

    @property
    def graph_answer(self) -> bool:
        """Whether CONSTRUCT and DESCRIBE answers are offered in it: a syntax of triples."""
        return self.kind == "rdf" and not self.quads

    @property
    def content_type(self) -> str:
        """The ``Content-Type`` value: text types say their charset."""
        if self.media_type.startswith("text/"):
            return f"{self.media_type}; charset=utf-8"
        return self.media_type


FORMATS: tuple[Format, ...] = (
    # -- RDF syntaxes -------------------------------------------------------------------
    Format(
        "turtle",
        "rdf",
        "Turtle",
        "text/turtle",
        ".ttl",
        aliases=("ttl", "n3"),
        suffixes=(".turtle",),
        other_media_types=("application/x-turtle",),
    ),
    Format(
        "nt",
        "rdf",
        "N-Triples",
        "application/n-triples",
        ".nt",
        aliases=("ntriples", "n-triples"),
        suffixes=(".ntriples",),
    ),
    Format(
        "nq",
        "rdf",
        "N-Quads",
        "application/n-quads",
        ".nq",
        aliases=("nquads", "n-quads"),
        suffixes=(".nquads",),
        quads=True,
    ),
    Format(
        "trig",
        "rdf",
        "TriG",
        "application/trig",
        ".trig",
        quads=True,
    ),
    Format(
        "jsonld",
        "rdf",
        "JSON-LD",
        "application/ld+json",
        ".jsonld",
        aliases=("json-ld", "json"),
        suffixes=(".json",),
        other_media_types=("application/json",),
    ),
    Format(
        "xml",
        "rdf",
        "RDF/XML",
        "application/rdf+xml",
        ".rdf",
        aliases=("rdf", "rdfxml", "rdf+xml", "rdf/xml", "owl"),
        suffixes=(".xml", ".owl"),
        other_media_types=("application/xml",),
    ),
    # -- SPARQL query results ---------------------------------------------------------
    Format("table", "results", "Table", "text/plain", ".txt", aliases=("text", "txt")),
    Format(
        "json",
        "results",
        "SPARQL JSON",
        "application/sparql-results+json",
        ".srj",
        aliases=("srj", "sparql-json"),
        other_media_types=("application/json",),
    ),
    Format(
        "xml",
        "results",
        "SPARQL XML",
        "application/sparql-results+xml",
        ".srx",
        aliases=("srx", "sparql-xml"),
        other_media_types=("application/xml",),
    ),
    Format("csv", "results", "SPARQL CSV", "text/csv", ".csv"),
    Format("tsv", "results", "SPARQL TSV", "text/tab-separated-values", ".tsv"),
)
"""Every format khalis-kg reads or writes. ``xml`` and ``json`` name a different format
for each kind (RDF/XML and JSON-LD for graphs, SPARQL XML and JSON for results)."""


def formats_of(kind: Kind | Literal["graph"]) -> list[Format]:
    """The formats of one kind; ``graph``: those offered for CONSTRUCT and DESCRIBE."""
    return [f for f in FORMATS if (f.graph_answer if kind == "graph" else f.kind == kind)]


def _lookup(name: str, pool: list[Format], what: str) -> Format:
    key = name.strip().lower()
    for fmt in pool:
        if key in fmt.names:
            return fmt
    choices = ", ".join(dict.fromkeys(f.name for f in pool))
    raise ParameterError(f"format {name!r} is not available for {what} (choose one of: {choices})")


def rdf_format(name: str) -> Format:
    """The RDF syntax called ``name`` (canonical or alias, any case); ParameterError else."""
    return _lookup(name, formats_of("rdf"), "RDF data")


def result_format(name: str, form: str) -> Format:
    """The format called ``name`` for an answer of ``form`` (``select``, ``ask`` or
    ``graph``): SPARQL results for SELECT and ASK, an RDF syntax for graph answers."""
    if form == "graph":
        return _lookup(name, formats_of("graph"), "graph results")
    return _lookup(name, formats_of("results"), f"{form.upper()} results")


def format_names(kind: Kind | Literal["graph"]) -> list[str]:
    """Every accepted name (canonical names first, then aliases) of one kind, for
    the command line's ``--format`` and error messages."""
    pool = formats_of(kind)
    names = [f.name for f in pool] + [a for f in pool for a in f.names]
    return list(dict.fromkeys(names))


def format_for(filename: str) -> str:
    """The RDF format of a file, from its suffix (``turtle`` when unknown)."""
    suffix = Path(filename).suffix.lower()
    for fmt in formats_of("rdf"):
        if suffix == fmt.suffix or suffix in fmt.suffixes:
            return fmt.name
    return "turtle"


def ox_format(name: str) -> ox.RdfFormat:
    """The ``pyoxigraph.RdfFormat`` of an RDF format name, found by its media type."""
    import pyoxigraph as ox

    fmt = ox.RdfFormat.from_media_type(rdf_format(name).media_type)
    assert fmt is not None  # tests/test_formats.py: every RDF format's is pyoxigraph's
    return fmt


# ------------------------------------------------------------------------- sources
class Source(Frozen):
    """RDF input: its display name (file path), bytes, format and base IRI; ``graph``,
    when given, is the IRI of the named graph its triples go to (the default graph
    otherwise)."""

    __match_args__ = ("name", "data", "format", "base_iri", "graph")
    __slots__ = __match_args__
    name: str
    data: bytes
    format: str
    base_iri: str | None
    graph: str | None

    def __init__(
        self,
        name: str,
        data: bytes,
        format: str,
        base_iri: str | None = None,
        graph: str | None = None,
    ) -> None:
        self._init(name, data, format, base_iri, graph)

    def into_graph(self, iri: str) -> Source:
        """This source loaded as the named graph ``iri`` (triples only: a file of quads
        already names its graphs)."""
        if not is_absolute_iri(iri):
            raise InputError(f"not an absolute graph IRI: {iri!r}")
        if self.format in ("nq", "trig"):
            raise InputError(
                f"{self.name}: holds quads ({self.format}), which name their own graphs; "
                "give a file of triples to load it as a named graph"
            )
        return Source(self.name, self.data, self.format, self.base_iri, iri)

    @classmethod
    def from_path(cls, path: str | Path) -> Source:
        from .nesting import check_input_nesting

        p = as_path(path)
        data = read_input(p)  # a regular file only: never a FIFO or a device
        fmt = format_for(p.name)
        check_input_nesting(data, fmt, str(path))  # before any parser reads it
        return cls(str(path), data, fmt, p.resolve().as_uri())

    def spec(self) -> Format:
        """This source's format (InputError naming the file if it is not an RDF syntax)."""
        try:
            return rdf_format(self.format)
        except ParameterError:
            raise InputError(f"{self.name}: unsupported RDF format {self.format!r}") from None


def rdf_syntax_error(source: Source, exc: SyntaxError) -> RDFSyntaxError:
    """Oxigraph's parse error for ``source`` as an RDFSyntaxError naming file and line."""
    line = exc.lineno
    where = f"{source.name}:{line}" if line else source.name
    return RDFSyntaxError(
        f"{where}: invalid {source.format}: {one_line(str(exc))}",
        source=source.name,
        line=line,
    )


def parse(source: Source) -> Iterator[ox.Quad]:
    """The quads of ``source``, read with Oxigraph's parser (in ``source.graph`` when it
    names one); a syntax error is an RDFSyntaxError with file and line (raised while
    iterating)."""
    import pyoxigraph as ox

    fmt = ox_format(source.spec().name)
    graph = None if source.graph is None else ox.NamedNode(source.graph)
    try:
        for quad in ox.parse(source.data, fmt, base_iri=source.base_iri):
            yield (
                quad if graph is None else ox.Quad(quad.subject, quad.predicate, quad.object, graph)
            )
    except SyntaxError as exc:
        raise rdf_syntax_error(source, exc) from None
    except MemoryError as exc:
        raise token_too_long(source, exc) from None


def token_too_long(source: Source, exc: MemoryError) -> KhalisError:
    """Oxigraph's parser raises MemoryError *with a message* when one token (a literal or
    an IRI) passes its 16 MiB buffer: an input error, not the memory limit. A MemoryError
    without a message is a real exhaustion and is raised again."""
    if not exc.args:
        raise exc
    return InputError(
        f"{source.name}: a literal or IRI is longer than the parser allows "
        f"({one_line(str(exc.args[0]))})"
    )


def check_syntax(source: Source) -> None:
    """Parse ``source`` with Oxigraph's parser, raising RDFSyntaxError with file and line."""
    for _ in parse(source):
        pass


def serialize(items: Sequence[Any], fmt: str, prefixes: dict[str, str] | None = None) -> bytes:
    """pyoxigraph triples or quads in the RDF syntax ``fmt`` (prefixes for Turtle/TriG)."""
    import pyoxigraph as ox

    data = ox.serialize(items, format=ox_format(fmt), prefixes=prefixes) or b""
    return xml_checked(data) if rdf_format(fmt).media_type == "application/rdf+xml" else data


_NOT_XML = rb"[\x00-\x08\x0b\x0c\x0e-\x1f]|\xef\xbf[\xbe\xbf]"


def xml_checked(data: bytes) -> bytes:
    """An XML document (UTF-8) as written, each carriage return as ``&#13;`` (a raw one is
    read back as a newline: XML normalises line ends; pyoxigraph's RDF/XML writer leaves
    it raw), or :class:`~khalis_kg.errors.UnwritableError` when it holds a character
    XML 1.0 cannot carry at all."""
    found = re.search(_NOT_XML, data)
    if found:
        code = ord(found.group().decode())
        raise UnwritableError(
            f"the answer cannot be written as XML: it holds U+{code:04X}, which XML 1.0 "
            "cannot carry; choose another format"
        )
    return data.replace(b"\r", b"&#13;")


# --------------------------------------------------------------- term conversion
def from_ox(term: Any) -> Term:
    """A pyoxigraph term as a neutral :class:`Term`."""
    import pyoxigraph as ox

    if isinstance(term, ox.NamedNode):
        return Term.iri(term.value)
    if isinstance(term, ox.BlankNode):
        return Term.bnode(term.value)
    if isinstance(term, ox.Literal):
        return Term.literal(term.value, term.datatype.value, term.language)
    raise QueryError(f"unsupported RDF term in results: {term!r}")


def to_ox(term: Term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """A neutral :class:`Term` as a pyoxigraph term."""
    import pyoxigraph as ox

    if term.type == "uri":
        return ox.NamedNode(term.value)
    if term.type == "bnode":
        return ox.BlankNode(term.value)
    datatype = ox.NamedNode(term.datatype) if term.datatype and not term.lang else None
    return ox.Literal(term.value, datatype=datatype, language=term.lang or None)


def to_ox_triple(triple: Triple) -> ox.Triple:
    """A neutral triple as a pyoxigraph ``Triple``."""
    import pyoxigraph as ox

    s, p, o = triple
    return ox.Triple(to_ox(s), to_ox(p), to_ox(o))  # type: ignore[arg-type]


def from_rdflib(term: Any) -> Term:
    """An rdflib term as a neutral :class:`Term`."""
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return Term.iri(str(term))
    if isinstance(term, BNode):
        return Term.bnode(str(term))
    if isinstance(term, Literal):
        datatype = None if term.datatype is None else str(term.datatype)
        return Term.literal(str(term), datatype, term.language)
    raise QueryError(f"unsupported RDF term in results: {term!r}")


def to_rdflib(term: Term) -> Any:
    """A neutral :class:`Term` as an rdflib term (``URIRef``, ``BNode``, ``Literal``)."""
    from rdflib import BNode, Literal, URIRef

    if term.type == "uri":
        return URIRef(term.value)
    if term.type == "bnode":
        return BNode(term.value)
    datatype = URIRef(term.datatype) if term.datatype and not term.lang else None
    return Literal(term.value, lang=term.lang or None, datatype=datatype)


def canonical_triples(triples: Sequence[Any]) -> list[Triple]:
    """pyoxigraph triples as sorted neutral triples, blank nodes relabelled with RDFC-1.0,
    so that every engine gives the same graph answer, labels included."""
    import pyoxigraph as ox

    items = list(triples)
    if any(
        isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in items
    ):
        dataset = ox.Dataset(ox.Quad(t.subject, t.predicate, t.object) for t in items)
        dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
        items = list(dataset)
    out = [(from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)) for t in items]
    out.sort(key=lambda t: [x.sort_key() for x in t])
    return out

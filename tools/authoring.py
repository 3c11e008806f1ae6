"""Build ``data/khalis.ttl`` from its authoring source ``data/authoring/khalis.trig``.

A tool of the repository, not of the installed package (it needs a checkout and
``pip install -e .``: it reads the project's namespaces from :mod:`khalis_kg.namespaces`).

The authoring source is TriG. Its default graph holds the dataset, the document and
its spans, the inferences of ours (``kg:Inference``) and the *names* of things
(``rdf:type``, ``rdfs:label``, ``rdfs:comment``, ``skos:prefLabel``, and
``prov:wasDerivedFrom`` for a node a sentence mentions without saying anything else
about it). Every other triple about the world sits in a named graph: ``span:X`` holds
what sentence X says, ``inference:Y`` what our inference Y concludes. A triple said by
two sentences sits in both graphs.

:func:`build` writes plain Turtle that every tool reads:

* the union of all the graphs;
* one ``rdf:Statement`` per triple about the world (RDF 1.1 reification:
  ``rdf:subject``, ``rdf:predicate``, ``rdf:object``), named
  ``statement:<16 hex digits of the SHA-256 of the triple in N-Triples>``, with
  ``prov:wasDerivedFrom`` every span that says it, or ``prov:wasGeneratedBy`` the
  inference that produced it;
* on every node, ``prov:wasDerivedFrom`` the union of the spans of its stated
  statements (plus any given explicitly), so that node-level provenance keeps working.

The output is deterministic (sorted subjects, predicates and objects) and
``tests/test_authoring.py`` checks that the shipped file equals it. Regenerate with
``python tools/authoring.py`` (``--check`` only compares).
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from khalis_kg.namespaces import ID, KG, PREFIXES
from khalis_kg.namespaces import RDF as RDF_NS
from khalis_kg.namespaces import RDFS as RDFS_NS
from khalis_kg.namespaces import XSD as XSD_NS

SKOS_NS = PREFIXES["skos"]
PROV_NS = PREFIXES["prov"]
OA_NS = PREFIXES["oa"]
NIF_NS = PREFIXES["nif"]
SPDX_NS = "http://spdx.org/rdf/terms#"  # not among the project's prefixes

WORLD_KINDS = (
    "event",
    "link",
    "place",
    "location",
    "quantity",
    "organization",
    "group",
    "person",
    "position",
    "channel",
    "account",
    "claim",
    "step",
)
"""Instance namespaces (``id/<kind>/``) of the nodes that describe the world."""

NAMING = (
    RDF_NS + "type",
    RDFS_NS + "label",
    RDFS_NS + "comment",
    SKOS_NS + "prefLabel",
    PROV_NS + "wasDerivedFrom",
)
"""Predicates of world nodes allowed in the default graph: names, not content."""

_SECTIONS = ("other", *WORLD_KINDS, "inference", "span", "statement")
_PREDICATE_ORDER = (
    RDF_NS + "type",
    RDFS_NS + "label",
    SKOS_NS + "prefLabel",
    SKOS_NS + "altLabel",
    RDFS_NS + "comment",
    RDF_NS + "subject",
    RDF_NS + "predicate",
    RDF_NS + "object",
)
_PREDICATE_LAST = (PROV_NS + "used", PROV_NS + "wasDerivedFrom", PROV_NS + "wasGeneratedBy")
_PN_LOCAL = re.compile(r"([A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?)?")

HEADER = """\
# The 2015 Al Khalis prison break as a knowledge graph.
#
# GENERATED FILE: do not edit. The source is data/authoring/khalis.trig; run
#     python tools/authoring.py
# to regenerate (tests/test_authoring.py checks this file equals the output).
#
# Every triple about the world (events, claims, quantities, places, agents, steps
# and their links) is reified once as an rdf:Statement (statement:…) that says which
# sentence(s) of the Wikipedia article "2015 Al Khalis prison break"
# (document:wikipedia-2015-al-khalis-prison-break, CC BY-SA 4.0) state it
# (prov:wasDerivedFrom a span: an oa:SpecificResource whose selectors quote the
# sentence and give its character offsets), or which inference of ours produced it
# (prov:wasGeneratedBy a kg:Inference, with its reason and the spans it used).
# Every node also has prov:wasDerivedFrom: the union of the spans of its statements.
#
# Facts are what the article states in its own voice. Everything the article
# attributes to someone ("according to official reports", "ISIS claimed",
# "Amaq stated", "local sources reported") is a kg:Claim with its claimant;
# its content is never asserted as a fact of the graph.
# Numbers keep the article's uncertainty: see kg:qualifier and kg:statedAs.
"""


class AuthoringError(ValueError):
    """The authoring source breaks one of the rules above."""


def _kind(iri: str) -> str | None:
    if not iri.startswith(ID):
        return None
    kind = iri[len(ID) :].split("/", 1)[0]
    return kind if kind in (*WORLD_KINDS, "span", "inference", "statement") else None


def _is_world(term: Any) -> bool:
    from rdflib import URIRef

    return isinstance(term, URIRef) and _kind(str(term)) in WORLD_KINDS


def statement_iri(s: Any, p: Any, o: Any) -> str:
    """The IRI of the statement reifying the triple (s, p, o)."""
    digest = hashlib.sha256(f"{s.n3()} {p.n3()} {o.n3()} .".encode()).hexdigest()
    return f"{ID}statement/{digest[:16]}"


def build(source: str) -> str:
    """The Turtle of ``data/khalis.ttl`` for the TriG authoring ``source``."""
    from rdflib import RDF, BNode, Dataset, Graph, URIRef
    from rdflib.graph import DATASET_DEFAULT_GRAPH_ID

    dataset = Dataset()
    dataset.parse(data=source, format="trig")
    prefixes = {p: str(n) for p, n in dataset.namespace_manager.namespaces() if p}
    prefixes = {p: prefixes[p] for p in _declared_prefixes(source) if p in prefixes}

    wdf = URIRef(PROV_NS + "wasDerivedFrom")
    out = Graph()
    stated: dict[tuple[Any, Any, Any], set[Any]] = defaultdict(set)
    inferred: dict[tuple[Any, Any, Any], set[Any]] = defaultdict(set)
    spans: set[Any] = set()
    inferences: set[Any] = set()
    errors: list[str] = []

    default = dataset.graph(DATASET_DEFAULT_GRAPH_ID)
    spans = set(default.subjects(RDF.type, URIRef(OA_NS + "SpecificResource")))
    inferences = set(default.subjects(RDF.type, URIRef(KG + "Inference")))
    for s, p, o in default:
        if _is_world(s) and str(p) not in NAMING:
            errors.append(f"default graph: {s.n3()} {p.n3()} is content: put it in a span's graph")
        out.add((s, p, o))
    for graph in dataset.graphs():
        name = graph.identifier
        if name == DATASET_DEFAULT_GRAPH_ID or len(graph) == 0:
            continue
        if name in spans:
            target = stated
        elif name in inferences:
            target = inferred
        else:
            errors.append(f"graph {name.n3()} is neither a declared span nor a kg:Inference")
            continue
        for s, p, o in graph:
            if not _is_world(s) or isinstance(o, BNode) or str(p) in NAMING:
                errors.append(f"graph {name.n3()}: {s.n3()} {p.n3()} is not a world statement")
            target[(s, p, o)].add(name)
            out.add((s, p, o))
    for triple in sorted(set(stated) & set(inferred)):
        errors.append(f"{' '.join(t.n3() for t in triple)} is both stated and inferred")
    if errors:
        raise AuthoringError("\n".join(errors))

    _anchor(out, spans)
    for (s, _p, _o), names in stated.items():
        for span in names:
            out.add((s, wdf, span))
    for triples, link in ((stated, wdf), (inferred, URIRef(PROV_NS + "wasGeneratedBy"))):
        for (s, p, o), names in triples.items():
            node = URIRef(statement_iri(s, p, o))
            out.add((node, RDF.type, RDF.Statement))
            out.add((node, RDF.subject, s))
            out.add((node, RDF.predicate, p))
            out.add((node, RDF.object, o))
            for name in names:
                out.add((node, link, name))
    return _serialize(out, prefixes)


def _anchor(graph: Any, spans: Iterable[Any]) -> None:
    """Add what follows from the document's text: its SHA-256 (``spdx:checksum``) and,
    on each span's ``oa:TextQuoteSelector``, ``oa:prefix`` and ``oa:suffix`` (the
    characters around the offsets of its ``oa:TextPositionSelector``)."""
    from rdflib import RDF, BNode, Literal, URIRef

    from khalis_kg.sourcecheck import context, sha256

    oa, nif, spdx = OA_NS, NIF_NS, SPDX_NS
    texts = {}
    for document, text in graph.subject_objects(URIRef(nif + "isString")):
        texts[document] = str(text)
        checksum = BNode(f"checksum-{hashlib.sha256(str(document).encode()).hexdigest()[:12]}")
        graph.add((document, URIRef(spdx + "checksum"), checksum))
        graph.add((checksum, RDF.type, URIRef(spdx + "Checksum")))
        graph.add((checksum, URIRef(spdx + "algorithm"), URIRef(spdx + "checksumAlgorithm_sha256")))
        value = Literal(sha256(str(text)), datatype=URIRef(XSD_NS + "hexBinary"))
        graph.add((checksum, URIRef(spdx + "checksumValue"), value))
    for span in spans:
        text = texts.get(graph.value(span, URIRef(oa + "hasSource")))
        if text is None:
            continue  # a span of a document whose text the source does not give
        selectors = list(graph.objects(span, URIRef(oa + "hasSelector")))
        position = next(
            s for s in selectors if (s, RDF.type, URIRef(oa + "TextPositionSelector")) in graph
        )
        start = int(graph.value(position, URIRef(oa + "start")))
        end = int(graph.value(position, URIRef(oa + "end")))
        prefix, suffix = context(text, start, end)
        for quote in selectors:
            if (quote, RDF.type, URIRef(oa + "TextQuoteSelector")) in graph:
                graph.add((quote, URIRef(oa + "prefix"), Literal(prefix)))
                graph.add((quote, URIRef(oa + "suffix"), Literal(suffix)))


def _declared_prefixes(source: str) -> list[str]:
    return re.findall(r"^@prefix\s+([A-Za-z][\w.-]*)\s*:", source, flags=re.MULTILINE)


class _Writer:
    def __init__(self, graph: Any, prefixes: dict[str, str]):
        self.graph = graph
        self.prefixes = sorted(prefixes.items(), key=lambda kv: -len(kv[1]))
        self.declared = prefixes

    def iri(self, iri: str) -> str:
        if iri == RDF_NS + "type":
            return "a"
        for prefix, namespace in self.prefixes:
            if iri.startswith(namespace):
                local = iri[len(namespace) :]
                if _PN_LOCAL.fullmatch(local):
                    return f"{prefix}:{local}"
        return f"<{iri}>"

    def literal(self, lit: Any) -> str:
        text = str(lit)
        datatype = str(lit.datatype) if lit.datatype is not None else None
        if datatype == XSD_NS + "integer" and re.fullmatch(r"[+-]?[0-9]+", text):
            return text
        if "\n" in text:
            body = text.replace("\\", "\\\\").replace('"""', '\\"""')
            if body.endswith('"'):
                body = body[:-1] + '\\"'
            quoted = f'"""{body}"""'
        else:
            body = (
                text.replace("\\", "\\\\")
                .replace('"', '\\"')
                .replace("\r", "\\r")
                .replace("\t", "\\t")
            )
            quoted = f'"{body}"'
        if lit.language:
            return f"{quoted}@{lit.language}"
        if datatype and datatype != XSD_NS + "string":
            return f"{quoted}^^{self.iri(datatype)}"
        return quoted

    def term(self, term: Any, indent: str) -> str:
        from rdflib import BNode, Literal

        if isinstance(term, Literal):
            return self.literal(term)
        if isinstance(term, BNode):
            return "[ " + " ; ".join(self.pairs(term, indent)) + " ]"
        return self.iri(str(term))

    def pairs(self, subject: Any, indent: str) -> list[str]:
        by_predicate: dict[Any, list[Any]] = defaultdict(list)
        for p, o in self.graph.predicate_objects(subject):
            by_predicate[p].append(o)
        out = []
        for p in sorted(by_predicate, key=_predicate_key):
            objects = sorted(self.term(o, indent) for o in by_predicate[p])
            out.append(f"{self.iri(str(p))} " + " , ".join(objects))
        return out

    def subject(self, subject: Any) -> str:
        pairs = self.pairs(subject, "    ")
        return f"{self.iri(str(subject))} " + " ;\n    ".join(pairs) + " .\n"


def _predicate_key(p: Any) -> tuple[int, str]:
    iri = str(p)
    if iri in _PREDICATE_ORDER:
        return (_PREDICATE_ORDER.index(iri), iri)
    if iri in _PREDICATE_LAST:
        return (100 + _PREDICATE_LAST.index(iri), iri)
    return (50, iri)


def _section(subject: Any) -> int:
    kind = _kind(str(subject))
    return _SECTIONS.index(kind) if kind else 0


def _serialize(graph: Any, prefixes: dict[str, str]) -> str:
    from rdflib import BNode

    writer = _Writer(graph, prefixes)
    width = max(len(p) for p in prefixes) + 2
    lines = [HEADER]
    lines += [f"@prefix {(p + ':').ljust(width)}<{n}> ." for p, n in prefixes.items()]
    subjects = sorted(
        {s for s in graph.subjects() if not isinstance(s, BNode)},
        key=lambda s: (_section(s), str(s)),
    )
    current = None
    for subject in subjects:
        section = _SECTIONS[_section(subject)]
        if section != current:
            current = section
            title = "dataset and document" if section == "other" else section
            lines += ["", f"# {'=' * (70 - len(title))} {title}", ""]
        lines.append(writer.subject(subject))
    return "\n".join(lines).rstrip("\n") + "\n"


def _repo_paths() -> tuple[Path, Path]:
    root = Path(__file__).resolve().parent.parent  # the checkout this tool sits in
    return root / "data" / "authoring" / "khalis.trig", root / "data" / "khalis.ttl"


def main(argv: Sequence[str] | None = None) -> int:
    source_default, output_default = _repo_paths()
    parser = argparse.ArgumentParser(prog="tools/authoring.py", description=__doc__)
    parser.add_argument("source", nargs="?", type=Path, default=source_default)
    parser.add_argument("output", nargs="?", type=Path, default=output_default)
    parser.add_argument("--check", action="store_true", help="only compare; exit 1 if stale")
    args = parser.parse_args(argv)
    try:
        text = build(args.source.read_text(encoding="utf-8"))
    except AuthoringError as exc:
        print(f"{args.source}: {exc}", file=sys.stderr)
        return 2
    if args.check:
        same = args.output.exists() and args.output.read_text(encoding="utf-8") == text
        if not same:
            print(f"{args.output} is stale: run python tools/authoring.py", file=sys.stderr)
        return 0 if same else 1
    args.output.write_text(text, encoding="utf-8")
    return 0


def statements_of(triples: Iterable[tuple[Any, Any, Any]]) -> list[str]:
    """The statement IRIs of ``triples`` (for tests and tools)."""
    return [statement_iri(s, p, o) for s, p, o in triples]


if __name__ == "__main__":
    raise SystemExit(main())

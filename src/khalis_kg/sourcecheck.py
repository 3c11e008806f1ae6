"""Re-anchor the graph's spans in a new text of its article (``khalis-kg check-source``).

The graph quotes one text by character offsets (``oa:TextPositionSelector``) and by
quote with the :data:`CONTEXT` characters around it (``oa:TextQuoteSelector``), as the
Web Annotation model recommends for robust anchoring. :func:`anchor` finds each span
again the way the Hypothesis annotation client does, with Google's diff-match-patch
(``unchanged``, ``moved``, ``changed`` or ``missing``); :func:`judge` says which
statements to ``review``. docs/check-source.md states the rules for readers. Offsets
count characters (code points) from 0, end exclusive, as the graph's do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from diff_match_patch import diff_match_patch

from .errors import InputError, printable
from .namespaces import shorten
from .terms import natural

CONTEXT = 32
"""Characters of ``oa:prefix`` and ``oa:suffix`` (fewer at the ends of the text), as
the Hypothesis client records."""

MIN_SIMILARITY = 0.5
"""Below this similarity to its quote, the text a span maps to is not that sentence
edited: the span is ``missing``."""

DIFF_TIMEOUT = 5.0
"""Seconds diff-match-patch may spend on the diff of the two texts; past them it returns
a coarser (still valid) diff. The article takes milliseconds."""

MAX_CHARACTERS = 2_000_000
"""Largest text compared (characters): a Wikipedia article is far shorter."""

STATUSES = ("unchanged", "moved", "changed", "missing")


def context(text: str, start: int, end: int) -> tuple[str, str]:
    """``(prefix, suffix)``: the :data:`CONTEXT` characters before ``start`` and after
    ``end`` in ``text`` (fewer at its ends)."""
    return text[max(0, start - CONTEXT) : start], text[end : end + CONTEXT]


def sha256(text: str) -> str:
    """The SHA-256 of ``text`` in UTF-8, as 64 lowercase hex digits (SPARQL's SHA256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Span:
    """A span as the graph records it."""

    iri: str
    exact: str
    start: int
    end: int
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class Statement:
    """A reified statement and the spans it rests on (its sentences, or those its
    inference used)."""

    iri: str
    subject: str
    predicate: str
    object: str
    inferred: bool
    spans: tuple[str, ...]


@dataclass(frozen=True)
class SpanCheck:
    span: str
    status: str
    start: int
    end: int
    new_start: int | None
    new_end: int | None
    similarity: float
    new_text: str | None


@dataclass(frozen=True)
class StatementCheck:
    statement: str
    subject: str
    predicate: str
    object: str
    status: str
    spans: tuple[str, ...]


@dataclass(frozen=True)
class SourceReport:
    """What :func:`check` found: the document, each span, each statement."""

    document: Mapping[str, Any]
    spans: tuple[SpanCheck, ...]
    statements: tuple[StatementCheck, ...]
    text: str = field(repr=False)
    """The new text (what a re-anchored graph would quote)."""

    @property
    def anchored(self) -> bool:
        """Every span unchanged or moved: the graph can be re-anchored as it is."""
        return all(s.status in ("unchanged", "moved") for s in self.spans)

    @property
    def exit_code(self) -> int:
        """0 when every span is unchanged or moved, 1 when any changed or is missing."""
        return 0 if self.anchored else 1

    def counts(self) -> dict[str, int]:
        return {s: sum(1 for c in self.spans if c.status == s) for s in STATUSES}

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": dict(self.document),
            "spans": [asdict(s) for s in self.spans],
            "statements": [{**asdict(s), "spans": list(s.spans)} for s in self.statements],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    def to_text(self) -> str:
        """A summary: the document, the spans that are not unchanged, the statements to
        review (IRIs shortened with the packaged prefixes)."""
        doc = self.document
        same = "the same text" if doc["sha256"] == doc["recorded_sha256"] else "a different text"
        lines = [
            f"document {shorten(doc['document'])}: {same} "
            f"({doc['length']} characters, sha256 {doc['sha256'][:16]}…; "
            f"recorded {doc['recorded_length']}, {str(doc['recorded_sha256'])[:16]}…)",
            f"spans: {len(self.spans)}, "
            + ", ".join(f"{n} {status}" for status, n in self.counts().items()),
        ]
        for s in self.spans:
            if s.status == "unchanged":
                continue
            now = "" if s.new_start is None else f" -> {s.new_start}-{s.new_end}"
            where = f"{s.start}-{s.end}{now} similarity {s.similarity:.2f}"
            lines.append(f"  {s.status:<8} {shorten(s.span)} {where}")
            if s.status == "changed":
                lines.append(f"           now: {s.new_text}")
        review = [st for st in self.statements if st.status == "review"]
        lines.append(
            f"statements: {len(self.statements)}, {len(self.statements) - len(review)} "
            f"supported, {len(review)} to review"
        )
        for st in review:
            triple = " ".join(shorten(x) for x in (st.subject, st.predicate, st.object))
            lines.append(f"  review   {shorten(st.statement)} ({triple})")
            lines.append(f"           rests on {', '.join(shorten(x) for x in st.spans)}")
        return "\n".join(lines) + "\n"


def _similarity(dmp: Any, a: str, b: str) -> float:
    longest = max(len(a), len(b))
    if longest == 0:
        return 1.0
    distance = int(dmp.diff_levenshtein(dmp.diff_main(a, b, False)))
    return round(1 - distance / longest, 4)


def _best(dmp: Any, new: str, found: Sequence[int], span: Span, expected: int) -> int:
    """The occurrence of the quote whose context best matches the recorded prefix and
    suffix; among equals, the nearest to where the diff maps the span."""
    size = span.end - span.start

    def fit(at: int) -> tuple[float, int]:
        prefix, suffix = context(new, at, at + size)
        score = _similarity(dmp, span.prefix, prefix) + _similarity(dmp, span.suffix, suffix)
        return (-score, abs(at - expected))

    return min(found, key=fit)


def _occurrences(text: str, exact: str) -> list[int]:
    """Where ``exact`` starts in ``text``, overlaps included (str.find: 30 times faster
    than a regular expression's lookahead on a long text)."""
    found = []
    at = text.find(exact)
    while at != -1:
        found.append(at)
        at = text.find(exact, at + 1)
    return found


def anchor(spans: Iterable[Span], old: str, new: str) -> list[SpanCheck]:
    """Each of ``spans`` (anchored in ``old``) found again in ``new``: the quote at its
    offsets (``unchanged``); else elsewhere (``moved``: the occurrence whose context best
    matches, then the nearest to where the diff maps the span); else the text the diff
    maps it to, ``changed`` when at least :data:`MIN_SIMILARITY` similar, or ``missing``."""
    dmp = diff_match_patch()
    dmp.Diff_Timeout = DIFF_TIMEOUT
    diffs = dmp.diff_main(old, new, len(old) + len(new) > 100_000)
    out = []
    for span in spans:
        found: tuple[str, int | None, int | None, float, str | None]
        if new[span.start : span.end] == span.exact:
            found = ("unchanged", span.start, span.end, 1.0, None)
        elif occurrences := _occurrences(new, span.exact):
            at = _best(dmp, new, occurrences, span, dmp.diff_xIndex(diffs, span.start))
            found = ("moved", at, at + span.end - span.start, 1.0, None)
        else:
            start = dmp.diff_xIndex(diffs, span.start)
            end = max(start, dmp.diff_xIndex(diffs, span.end))
            region = new[start:end]
            similarity = _similarity(dmp, span.exact, region)
            if region and similarity >= MIN_SIMILARITY:
                found = ("changed", start, end, similarity, region)
            else:
                found = ("missing", None, None, similarity, None)
        out.append(SpanCheck(span.iri, found[0], span.start, span.end, *found[1:]))
    return out


def judge(statements: Iterable[Statement], spans: Sequence[SpanCheck]) -> list[StatementCheck]:
    """``review`` for a statement whose every sentence is changed or missing, or an
    inferred one whose inference used such a sentence; ``supported`` otherwise."""
    lost = {s.span for s in spans if s.status in ("changed", "missing")}
    out = []
    for st in statements:
        used = [s in lost for s in st.spans]
        review = any(used) if st.inferred else bool(used) and all(used)
        status = "review" if review else "supported"
        out.append(StatementCheck(st.iri, st.subject, st.predicate, st.object, status, st.spans))
    return out


def check(
    document: str,
    old: str,
    recorded_sha256: str | None,
    spans: Iterable[Span],
    statements: Iterable[Statement],
    new: str,
    *,
    file: str,
) -> SourceReport:
    """The report on re-anchoring ``spans`` (quoting the text ``old`` of ``document``)
    in ``new``, read from ``file``."""
    if len(new) > MAX_CHARACTERS:
        raise InputError(f"{file}: longer than {MAX_CHARACTERS} characters; not an article")
    checked = anchor(sorted(spans, key=lambda s: (s.start, s.end, s.iri)), old, new)
    judged = judge(sorted(statements, key=lambda s: s.iri), checked)
    info = {
        "document": document,
        "file": file,
        "length": len(new),
        "sha256": sha256(new),
        "recorded_length": len(old),
        "recorded_sha256": recorded_sha256,
        "recorded_text_sha256": sha256(old),
    }
    return SourceReport(info, tuple(checked), tuple(judged), new)


def reanchor(graph: Any, report: SourceReport, *, created: str) -> Any:
    """``graph`` (an rdflib Graph, changed in place and returned) re-anchored to the
    report's text: the document's text, checksum and ``dcterms:created`` (``created``,
    an ISO date), and every span's offsets, prefix and suffix. Only when every span is
    unchanged or moved (:attr:`SourceReport.anchored`)."""
    from rdflib import RDF, BNode, Literal, Namespace, URIRef
    from rdflib.namespace import DCTERMS, XSD

    if not report.anchored:
        raise InputError("some sentences changed or are missing: nothing re-anchored")
    oa = Namespace("http://www.w3.org/ns/oa#")
    nif = Namespace("http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#")
    spdx = Namespace("http://spdx.org/rdf/terms#")
    text = report.text
    document = URIRef(report.document["document"])
    graph.set((document, nif.isString, Literal(text)))
    graph.set((document, DCTERMS.created, Literal(created, datatype=XSD.date)))
    for checksum in list(graph.objects(document, spdx.checksum)):
        graph.remove((checksum, None, None))
        graph.remove((document, spdx.checksum, checksum))
    checksum = BNode()
    graph.add((document, spdx.checksum, checksum))
    graph.add((checksum, RDF.type, spdx.Checksum))
    graph.add((checksum, spdx.algorithm, spdx.checksumAlgorithm_sha256))
    graph.add((checksum, spdx.checksumValue, Literal(sha256(text), datatype=XSD.hexBinary)))
    for span in report.spans:
        assert span.new_start is not None
        assert span.new_end is not None
        prefix, suffix = context(text, span.new_start, span.new_end)
        for selector in graph.objects(URIRef(span.span), oa.hasSelector):
            if (selector, RDF.type, oa.TextPositionSelector) in graph:
                nonneg = XSD.nonNegativeInteger
                graph.set((selector, oa.start, Literal(str(span.new_start), datatype=nonneg)))
                graph.set((selector, oa.end, Literal(str(span.new_end), datatype=nonneg)))
            if (selector, RDF.type, oa.TextQuoteSelector) in graph:
                graph.set((selector, oa.prefix, Literal(prefix)))
                graph.set((selector, oa.suffix, Literal(suffix)))
    return graph


MAX_BYTES = 8 << 20
"""Largest FILE read (8 MiB)."""


def spans_of(rows: Iterable[Mapping[str, Any]]) -> list[Span]:
    """:class:`Span` objects from rows of ``queries/sourcecheck/spans.rq`` (values as
    plain Python); a span whose offsets are not non-negative integers, that ends before
    it starts or whose quote is not as long as its offsets say, is an InputError naming
    it (the graph may be the user's, ``--data``)."""
    spans = []
    for r in rows:
        start, end = _offset(r, "start"), _offset(r, "end")
        if end < start:
            raise _bad_span(r, f"ends ({end}) before it starts ({start})")
        if len(exact := str(r["exact"])) != end - start:  # an empty quote would match everywhere
            raise _bad_span(r, f"quotes {len(exact)} characters but its offsets span {end - start}")
        prefix, suffix = str(r.get("prefix") or ""), str(r.get("suffix") or "")
        spans.append(Span(str(r["span"]), exact, start, end, prefix, suffix))
    return spans


def _offset(row: Mapping[str, Any], name: str) -> int:
    if (value := natural(str(row[name]))) is None:
        raise _bad_span(row, f"has oa:{name} {str(row[name])[:40]!r}, not a non-negative integer")
    return value


def _bad_span(row: Mapping[str, Any], why: str) -> Exception:
    return InputError(f"the span {printable(str(row['span']))[:200]} {why}")


def statements_of(rows: Iterable[Mapping[str, Any]]) -> list[Statement]:
    """:class:`Statement` objects from rows of ``queries/sourcecheck/statements.rq``
    (plain Python)."""
    triples: dict[str, tuple[str, str, str]] = {}
    inferred: set[str] = set()
    spans: dict[str, dict[str, None]] = {}  # an ordered set per statement
    for r in rows:
        iri = str(r["statement"])
        triples.setdefault(iri, (str(r["subject"]), str(r["predicate"]), str(r["object"])))
        if r.get("inference") is not None:
            inferred.add(iri)
        spans.setdefault(iri, {}).update({} if r.get("span") is None else {str(r["span"]): None})
    return [Statement(i, *t, i in inferred, tuple(spans[i])) for i, t in triples.items()]

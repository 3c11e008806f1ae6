"""How deep an RDF input nests, measured before any parser reads it.

The parsers are recursive, or slower than linear in the depth: pyoxigraph 0.5 reads
20,000 nested RDF/XML elements in ~5-18 s and 50,000 in over a minute, overflows its
stack (a segmentation fault) on 5,000 nested JSON-LD objects or 20,000 nested RDF 1.2
triple terms ``<<( ... )>>``; rdflib recurses in Python. So a file that nests deeper
than :data:`MAX_INPUT_NESTING` levels is refused with one line (InputError, exit 2)
before it is parsed, as a query is (:data:`khalis_kg.safety.MAX_NESTING`, the same
bound). What counts as a level, by format:

* Turtle, TriG, N-Triples, N-Quads: ``[``, ``(``, ``{`` and ``<<`` (a quoted or
  reified triple), outside strings, IRIs and comments;
* JSON-LD: ``{`` and ``[`` outside strings;
* RDF/XML: an XML element (read with the standard library's expat, which also stops
  entity expansion attacks); a file expat cannot read is left to the RDF parser,
  which reports the error.

Real data nests a few levels: the packaged graph at most 4. See docs/upstream.md.
"""

from __future__ import annotations

import re

from .errors import InputError

MAX_INPUT_NESTING = 256
"""Deepest nesting an RDF input may have (brackets, quoted triples, XML elements)."""

# Strings in the "unrolled" form (a run of plain characters, then escape + run, ...):
# the same matches as "(?:[^"\\]|\\.)*", but ~50x faster on a long literal (0.03 s,
# not 1.7, for 17 MiB), so a long literal meets the parser's own token limit, not ours.
_TURTLE = re.compile(
    rb'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""'
    rb"|'''[^'\\]*(?:(?:\\.|'(?!''))[^'\\]*)*'''"
    rb'|"[^"\\\n\r]*(?:\\.[^"\\\n\r]*)*"'
    rb"|'[^'\\\n\r]*(?:\\.[^'\\\n\r]*)*'"
    rb"|<<|>>"
    rb"|<[^<>\"{}|^`\\\x00-\x20]*>"
    rb"|\\."  # an escape in a prefixed name (e:a\#b): not a comment
    rb"|#[^\n\r]*"
    rb"|[\[\](){}]",
    re.DOTALL,
)
_JSON = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_OPEN = frozenset({b"[", b"(", b"{", b"<<"})
_CLOSE = frozenset({b"]", b")", b"}", b">>"})


def check_input_nesting(data: bytes, fmt: str, where: str, limit: int = MAX_INPUT_NESTING) -> None:
    """Raise InputError (one line, naming ``where`` and the line) if ``data``, an RDF
    document in format ``fmt`` (a name of :mod:`khalis_kg.rdfio`), nests deeper than
    ``limit`` levels."""
    if fmt == "xml":
        _check_xml(data, where, limit)
        return
    if fmt in ("nt", "nq") and 2 * data.count(b"<<") <= limit:
        # Only a triple term "<<( ... )>>" opens levels (two) in a file of these formats
        # that parses: so no scan is needed when there are few (0.3 s, not 1.2, at 1M).
        return
    tokens = _JSON if fmt == "jsonld" else _TURTLE
    depth = 0
    for match in tokens.finditer(data):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                _refuse(where, limit, data.count(b"\n", 0, match.start()) + 1)
        elif token in _CLOSE:
            depth = max(depth - 1, 0)


def _check_xml(data: bytes, where: str, limit: int) -> None:
    from xml.parsers import expat

    parser = expat.ParserCreate()
    depth = 0

    def start(name: str, attributes: object) -> None:
        nonlocal depth
        depth += 1
        if depth > limit:
            _refuse(where, limit, parser.CurrentLineNumber)

    def end(name: str) -> None:
        nonlocal depth
        depth -= 1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(data, True)
    except expat.ExpatError:
        return  # not well-formed: the RDF parser says where, in its words


def _refuse(where: str, limit: int, line: int) -> None:
    raise InputError(
        f"{where}:{line}: the data nests more than {limit} levels deep; refused before "
        "parsing (no real data nests so deep)"
    )

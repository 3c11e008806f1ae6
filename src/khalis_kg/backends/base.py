"""The ``Backend`` protocol every query engine implements.

A backend holds a read-only RDF dataset (loaded from :class:`~khalis_kg.rdfio.Source`
inputs) and answers SPARQL queries with :class:`~khalis_kg.results.QueryResult`. The
protocol speaks only in SPARQL text, neutral terms and N-Quads bytes, so that an engine
reached over the SPARQL 1.1 Protocol (:mod:`.remote`) fits as well as an in-process
one: it sends parameters as a ``VALUES`` block built from :meth:`Term.to_ntriples`,
and implements :meth:`dump` with the Graph Store protocol or a ``SELECT``. Every backend
runs only a :class:`~khalis_kg.safety.ReadOnlyQuery`: given text, :meth:`Backend.query`
first admits it (:func:`admit`) with the backend's own held graphs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from ..errors import KhalisError, QueryError, QuerySyntaxError, UnverifiableQueryError, one_line
from ..namespaces import PREFIXES
from ..rdfio import Source
from ..records import Frozen
from ..results import QueryResult, sort_rows
from ..safety import (
    HeldGraphs,
    Limits,
    ReadOnlyQuery,
    check_nesting,
    decide,
    lexical,
    tokenize,
    undeclared_names,
    undeclared_prefix,
)
from ..terms import Term

_POSITION = r"(?:error )?at (\d+):(\d+)"
_EXPECTED_PUNCT = r'^"[^"\sA-Za-z0-9]{1,3}"$'


def _near(text: str, line: int, column: int) -> str | None:
    """The token of ``text`` starting at ``line``:``column``, else the one before it."""
    before = None
    for tok in tokenize(text):
        if (tok.line, tok.column) > (line, column):
            break
        before = tok
    if before is None:
        return None
    shown = before.text if before.kind != "iri" else f"<{before.text}>"
    return shown if len(shown) <= 40 else shown[:39] + "…"


def syntax_error(message: str, text: str) -> QuerySyntaxError:
    """Oxigraph's parse error for ``text`` in plain words: line, column, the offending
    token, and what was expected when that is short; an undeclared prefix is named."""
    m = re.search(_POSITION, message)
    if not m:
        return QuerySyntaxError(f"SPARQL syntax error: {one_line(message)}")
    line, column = int(m.group(1)), int(m.group(2))
    rest = message[m.end() :].lstrip(": ")
    near = _near(text, line, column)
    where = f"SPARQL syntax error at line {line}, column {column}"
    # Oxigraph cannot read a name whose prefix is not declared, but says so only for some
    # ("Prefix not found"), and past the name (``ex:p ?o``: "expected OPTIONAL" at ``?o``):
    # a name read on our own tokens at or before its position is the mistake.
    names = list(undeclared_names(text))
    earlier = [n for n in names if (n[1], n[2]) <= (line, column)]
    if earlier or (names and "Prefix not found" in rest):
        return undeclared_prefix(text, (earlier[-1] if earlier else names[0])[0])
    if "IRI parsing failed" in rest:
        bad = re.search(r"<[^<>]*>", text[text_offset(text, line, 1) :])
        explanation = "invalid IRI" + (f" {bad.group(0)}" if bad else "")
    elif not text[text_offset(text, line, column) :].strip() and not _balanced_end(text):
        explanation = "the query ends too early" + (f", after '{near}'" if near else "")
    else:
        explanation = f"unexpected '{near}'" if near else "unexpected text"
    if "Prefix not found" not in rest and "IRI parsing failed" not in rest:
        expected = rest.removeprefix("expected one of ").removeprefix("expected ")
        options = [o.strip() for o in expected.split(", ")]
        options = [o for o in options if o not in ('"{|"', '"~"', "[_]")]
        if (
            "\n" not in expected
            and 0 < len(options) <= 8
            and all(re.match(_EXPECTED_PUNCT, o) for o in options)
        ):
            listed = options[0] if len(options) == 1 else ", ".join(options[:-1])
            explanation += f"; expected {listed}" + (
                f" or {options[-1]}" if len(options) > 1 else ""
            )
    return QuerySyntaxError(f"{where}: {explanation}", line=line, column=column)


def _balanced_end(text: str) -> bool:
    """Whether ``text`` closes every bracket it opens and ends with one: the parser then
    stopped on that last bracket, not on a missing end."""
    punct = [t.text for t in tokenize(text) if t.kind == "punct"]
    return (
        bool(punct)
        and punct[-1] in "})"
        and punct.count("{") == punct.count("}")
        and punct.count("(") == punct.count(")")
    )


def text_offset(text: str, line: int, column: int) -> int:
    """The index in ``text`` of the character at ``line`` and ``column`` (from 1)."""
    lines = text.split("\n")
    return sum(len(x) + 1 for x in lines[: line - 1]) + column - 1


def parse_query(text: str, base: str | None = None) -> None:
    """Check ``text`` with Oxigraph's SPARQL parser: both local backends report syntax
    errors in the same words, and accept the same language.

    pyoxigraph has no parse-only call: ``Store.query`` parses *and runs* (on an empty
    store here, so it finds nothing, but a ``SERVICE`` would still be called). So this
    is for text already admitted by :func:`khalis_kg.safety.decide`, never before.
    """
    message = _syntax_message(text, base)
    if message is not None:
        raise syntax_error(message, text)


def _syntax_message(text: str, base: str | None) -> str | None:
    """Oxigraph's syntax error for ``text`` (run on an empty store), or None."""
    import pyoxigraph as ox

    try:
        ox.Store().query(text, base_iri=base, prefixes=PREFIXES)
    except SyntaxError as exc:
        return str(exc)
    except (OSError, ValueError, RuntimeError):
        pass  # parsed; would fail when run (an unknown function), which is not a syntax error
    return None


PROBE_TIMEOUT = 2.0
"""Seconds the isolated syntax probe (:func:`admit`) may take."""
PROBE_MEMORY = 512 * 1024**2
"""Address-space cap of the isolated syntax probe, in bytes."""


def admit(text: str, base: str | None, held_graphs: HeldGraphs) -> ReadOnlyQuery:
    """:func:`khalis_kg.safety.decide`, with Oxigraph's own words for a syntax error.

    When the verifier's grammar cannot read ``text``, the query is refused whatever
    happens next; this only asks Oxigraph's parser for its message (line, column, the
    offending token, an undeclared prefix named), so that both local engines explain a
    mistake the same way. Oxigraph cannot parse without running, so the question is
    asked in an isolated child (:mod:`khalis_kg.isolation`) whose descriptor table is
    locked (no socket, no file can be opened there), with a time limit and a memory
    cap, on an empty store. If Oxigraph reads the text without a syntax error, the two
    parsers disagree and the verifier's refusal stands: "cannot be verified". A text
    that nests too deep is refused first, before any parser (deep nesting crashes them).
    """
    check_nesting(text)
    try:
        return decide(text, base, held_graphs)
    except UnverifiableQueryError as refusal:
        explained = _oxigraph_says(text, base)
        raise (refusal if explained is None else explained) from None


def _oxigraph_says(text: str, base: str | None) -> QuerySyntaxError | None:
    """Oxigraph's syntax error for ``text``, asked in a locked, isolated child; None
    when it reads the text, or the probe cannot run or fails."""
    from .. import isolation

    if not isolation.available():  # pragma: no cover - Windows: nowhere safe to ask
        return None

    limits = isolation.Limits(timeout=PROBE_TIMEOUT, memory=PROBE_MEMORY, lock_descriptors=True)
    probe = isolation.Work(lambda: None, lambda _: _syntax_message(text, base), "the syntax check")
    try:
        message = isolation.run(probe, limits)
    except KhalisError:  # the probe hit a limit or crashed: keep the verifier's words
        return None
    return None if message is None else syntax_error(message, text)


class QueryDataset(Frozen):
    """An RDF dataset chosen for one query, as the SPARQL 1.1 Protocol's
    ``default-graph-uri`` and ``named-graph-uri`` parameters choose it.

    It replaces the query's own ``FROM`` / ``FROM NAMED``. ``default_graphs`` are merged
    into the default graph (``None`` stands for the store's own default graph);
    ``named_graphs`` are the graphs ``GRAPH`` can see. Every IRI must name a graph the
    store holds: nothing is ever fetched.
    """

    __match_args__ = ("default_graphs", "named_graphs")
    __slots__ = __match_args__
    default_graphs: tuple[str | None, ...]
    named_graphs: tuple[str, ...]

    def __init__(
        self, default_graphs: tuple[str | None, ...] = (), named_graphs: tuple[str, ...] = ()
    ) -> None:
        self._init(default_graphs, named_graphs)

    def check_held(self, held: frozenset[str]) -> None:
        """Raise QueryError for a graph IRI the store does not hold."""
        for kind, iris in (
            ("default-graph-uri", self.default_graphs),
            ("named-graph-uri", self.named_graphs),
        ):
            for iri in iris:
                if iri is not None and iri not in held:
                    shown = ", ".join(f"<{g}>" for g in sorted(held)) or "none"
                    raise QueryError(
                        f"{kind} <{iri}> names no graph held by this store (graphs held: "
                        f"{shown}); graphs are never fetched from elsewhere"
                    )


Bindings = Mapping[str, Term]


class Backend:
    """A read-only SPARQL engine over one RDF dataset: each engine subclasses it and
    implements what raises NotImplementedError here."""

    name: str

    def load(self, sources: Sequence[Source]) -> None:
        """Add the sources' triples and quads (a syntax error → RDFSyntaxError)."""

    def query(
        self,
        query: str | ReadOnlyQuery,
        *,
        bindings: Mapping[str, Term] | None = None,
        limits: Limits | None = None,
        base: str | None = None,
        dataset: QueryDataset | None = None,
    ) -> QueryResult:
        """Run a read-only SPARQL query (text is first admitted by :func:`admit`);
        ``bindings`` pre-bind variables by name, ``base`` resolves relative IRIs (the
        query's own ``BASE`` is resolved against it), ``dataset`` replaces the query's
        ``FROM`` / ``FROM NAMED``."""
        plan = query if isinstance(query, ReadOnlyQuery) else admit(query, base, self.graph_names)
        # The engine gets the dataset in place of the query's FROM / FROM NAMED: the one
        # given (checked against the graphs held), else the graphs decide() resolved.
        if dataset is not None:
            dataset.check_held(self.graph_names())
        elif plan.default_graphs is not None or plan.named_graphs is not None:
            dataset = QueryDataset(plan.default_graphs or (), plan.named_graphs or ())
        result = self.run(plan, bindings or {}, limits or Limits(), dataset)
        if result.form != "select":
            return result
        if not plan.ordered:  # one order of the rows, whatever the engine
            result.rows = sort_rows(result.rows, result.variables)
        facts = lexical(plan.text)  # one tokenisation per text, shared with the decision
        if facts.projection is None:  # SELECT *: the engines each choose an order of columns
            first = facts.variables  # where each variable first appears; the others after
            result.variables.sort(key=lambda v: (v not in first, first.get(v, 0)))
        return result

    def run(
        self, plan: ReadOnlyQuery, bindings: Bindings, limits: Limits, dataset: QueryDataset | None
    ) -> QueryResult:
        """Answer an admitted query on ``dataset`` (None: the query's own dataset)."""
        raise NotImplementedError

    def graph_names(self) -> frozenset[str]:
        """IRIs of the non-empty named graphs held (for FROM / FROM NAMED)."""
        raise NotImplementedError

    def triple_count(self) -> int:
        """Number of quads in the dataset (default graph and named graphs)."""
        raise NotImplementedError

    def dump(self) -> bytes:
        """The whole dataset as N-Quads."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the store (files, connections)."""

"""Read-only and no-I/O guarantees: the decision on every query, taken on its parse.

A query run by khalis-kg never writes, never reads a local file and never reaches the
network. The engines would otherwise do so: Oxigraph sends ``SERVICE`` clauses over
HTTP, and rdflib fetches ``FROM``/``FROM NAMED`` graphs it does not hold (file or web)
and follows ``SERVICE`` too. :func:`decide` is the one place where a query text is
admitted; every backend runs only what it returns (a :class:`ReadOnlyQuery`):

* the text is parsed with a complete SPARQL parser (rdflib's grammar), never scanned
  for words: anything that parser cannot read is refused (it "cannot be verified as
  read-only"), even if an engine could run it;
* SPARQL's ``\\uXXXX``/``\\UXXXXXXXX`` codepoint escapes are expanded first, as the
  specification says, and the engine is given that expanded text: the verifier and
  the engine read the same characters (Oxigraph alone would expand them only inside
  strings and IRIs);
* a ``SERVICE`` anywhere in the parse tree (nested groups, sub-queries, ``EXISTS`` in
  a ``FILTER``, ``BIND``, a projection or ``ORDER BY``...) is refused
  (:class:`QueryRefusedError`);
* SPARQL Update (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``...) is refused with
  :class:`ReadOnlyError` (the engines' query entry points cannot run updates anyway);
* ``FROM <g>`` / ``FROM NAMED <g>``, resolved against the query's ``BASE`` and the
  caller's base IRI, are accepted only when ``<g>`` is a non-empty named graph the store
  holds, and the resolved graphs are handed to the engine explicitly; any other
  dataset clause is refused rather than silently answered from nothing;
* a prefixed name whose prefix is declared neither by the query nor in
  :data:`~khalis_kg.namespaces.PREFIXES` is a syntax error naming that prefix (one
  line, the same on every backend, decided on the parse tree, located on the tokens).

Queries that ship with khalis-kg (the packaged ``queries/*.rq`` and the facade's own
statistics queries) are admitted by :func:`builtin` without the parser, so that
``khalis-kg query NAME`` does not import rdflib; the test suite checks that
:func:`decide` returns the same plan for every one of them, and :func:`builtin` falls
back to :func:`decide` for any text that is not plainly clean.
"""

from __future__ import annotations

import collections
import functools
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from .checks import optional_count, optional_seconds
from .errors import (
    QueryError,
    QueryRefusedError,
    QuerySyntaxError,
    QueryTimeoutError,
    ReadOnlyError,
    TimeLimitError,
    UnverifiableQueryError,
)
from .namespaces import PREFIXES, XSD
from .records import Frozen, Record
from .terms import is_absolute_iri

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    import threading
    from typing import Any, NamedTuple, TypeVar

    T = TypeVar("T")

QUERY_FORMS = ("select", "construct", "ask", "describe")
UPDATE_KEYWORDS = frozenset(
    ("insert", "delete", "load", "clear", "create", "drop", "copy", "move", "add", "with")
)

_TOKEN = re.compile(  # the alternatives start with different characters; the likeliest first
    r"([^\S\n]*)(?:(?P<skip>\n\s*|\#[^\n]*)"  # white space and comments
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_\-.]*(?::[^\s{}()<>;,]*)?|[A-Za-z0-9_\-.]*:[^\s{}()<>;,]*)"
    # [?$][A-Za-z0-9_\u00b7\u00c0-\uffff]*, written as the complement of the excluded code
    # points: the same matches, compiled faster (the wide range made sre build a large charset)
    r"|(?P<var>[?$][^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\U00010000-\U0010ffff]*)"
    r'|<(?P<iri>[^<>"{}|^`\\\x00-\x20]*)>'
    r'|(?P<string>"""(?:[^"\\]|\\[\s\S]?|"(?!""))*(?:"""|\Z)'
    r"|'''(?:[^'\\]|\\[\s\S]?|'(?!''))*(?:'''|\Z)"
    r'|"(?:[^"\\]|\\[\s\S]?)*(?:"|\Z)'
    r"|'(?:[^'\\]|\\[\s\S]?)*(?:'|\Z))"  # strings run to the end when unterminated
    r"|(?P<punct>\S))"
)

MAX_NESTING = 256
"""Deepest nesting of ``(``, ``{`` and ``[`` a query may have. Deeper queries are
refused before any engine parses them: Oxigraph's recursive parser overflows its stack
on ~30,000 levels (a segmentation fault here, an abort of a remote Oxigraph server)."""

DEFAULT_MAX_ROWS = 100_000
"""Largest number of rows (or triples) a query may return before it is stopped."""


if TYPE_CHECKING:  # the type checker's view of the named tuple made below

    class Token(NamedTuple):
        kind: str  # "word", "iri", "string", "var", "punct"
        text: str
        line: int
        column: int
        offset: int  # in the text (an IRI's: of its ``<``, as its column)

else:  # collections' named tuple, as typing's would be, without importing typing
    Token = collections.namedtuple("Token", "kind text line column offset")
    Token.__doc__ = """One lexical token (a named tuple: tokenising makes many, and a
    class of them is cheaper to define at import than a dataclass)."""


def tokenize(text: str) -> Iterator[Token]:
    """SPARQL tokens, with comments dropped; strings and IRIs kept whole (an IRI's text
    without its ``<>``)."""
    line, line_start = 1, 0
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or ""  # the name of the alternative that matched
        if kind != "skip":
            yield Token(kind, m.group(kind), line, m.end(1) - line_start + 1, m.end(1))
            if kind != "string":
                continue
        if "\n" in (part := m.group()):
            line += part.count("\n")
            line_start = text.rfind("\n", 0, m.end()) + 1


def projection(text: str) -> list[str] | None:
    """Variables projected by a SELECT query (``None`` for ``SELECT *`` or other forms)."""
    found = lexical(text).projection
    return None if found is None else list(found)


class Lexical(Frozen):
    """What one tokenisation of a query text tells (:func:`lexical`)."""

    __match_args__ = (
        "projection", "variables", "too_deep", "plainly_clean", "form", "is_update",
        "has_service", "has_order_by",
    )  # fmt: skip
    __slots__ = __match_args__
    projection: tuple[str, ...] | None
    """As :func:`projection`."""
    variables: dict[str, int]
    """Each variable (without ``?``) and the rank of its first appearance (read only)."""
    too_deep: Token | None
    """The first bracket nested deeper than :data:`MAX_NESTING`, if any."""
    plainly_clean: bool
    """No update keyword and no word that contains ``service`` or starts with ``from``
    (:func:`builtin`)."""
    form: str | None
    """``select``, ``construct``, ``ask``, ``describe``; or the first update keyword."""
    is_update: bool
    """An update keyword, and no query form before it."""
    has_service: bool
    """The keyword ``SERVICE`` (a prefixed name such as ``ex:service`` is not it)."""
    has_order_by: bool
    """Whether the outer query has ORDER BY (unordered answers are sorted canonically)."""

    def __init__(
        self,
        projection: tuple[str, ...] | None,
        variables: dict[str, int],
        too_deep: Token | None,
        plainly_clean: bool,
        form: str | None,
        is_update: bool,
        has_service: bool,
        has_order_by: bool,
    ) -> None:
        self._init(
            projection, variables, too_deep, plainly_clean, form, is_update, has_service,
            has_order_by,
        )  # fmt: skip


LEXICAL_CACHE_CHARS = 64 * 1024
"""Texts up to this many characters keep their :func:`lexical` facts (in a bounded
cache); longer ones are tokenised again when asked."""


def lexical(text: str) -> Lexical:
    """The lexical facts of ``text``, from one tokenisation: its projection, the order of
    its variables, its nesting, and what :func:`builtin` asks. Cached per text (the 512
    most recent texts of at most :data:`LEXICAL_CACHE_CHARS` characters)."""
    if len(text) <= LEXICAL_CACHE_CHARS:
        return _lexical_cached(text)
    return _lexical(text)


scan = lexical
"""The lexical scan a refusal falls back on when a text does not parse (its form, an
update, SERVICE, ORDER BY); the catalogue reads a query file's form with it."""


def _lexical(text: str) -> Lexical:
    tokens = list(tokenize(text))
    braces = 0  # { } only, for the outer ORDER BY
    variables: dict[str, int] = {}
    clean = True
    update = service = ordered = False
    form: str | None = None
    select_at: int | None = None
    for k, tok in enumerate(tokens):
        kind, word = tok.kind, tok.text
        if kind == "punct":
            braces += (word == "{") - (word == "}")
        elif kind == "var":
            variables.setdefault(word[1:], k)
        elif kind == "word":
            low = word.lower()
            if low in UPDATE_KEYWORDS or "service" in low or low.startswith("from"):
                clean = False
                update = update or low in UPDATE_KEYWORDS
                service = service or low == "service"
            if form is None and (low in QUERY_FORMS or low in UPDATE_KEYWORDS):
                form = low
            if low == "select" and select_at is None:
                select_at = k
            elif (
                low == "order"
                and braces == 0
                and k + 1 < len(tokens)
                and tokens[k + 1].text.lower() == "by"
            ):
                ordered = True
    return Lexical(
        projection=None if select_at is None else _projected(tokens, select_at),
        variables=variables,
        too_deep=_too_deep(tokens),
        plainly_clean=clean,
        form=form,
        is_update=update and form not in QUERY_FORMS,
        has_service=service,
        has_order_by=ordered,
    )


_lexical_cached = functools.lru_cache(maxsize=512)(_lexical)


def _projected(tokens: list[Token], start: int) -> tuple[str, ...] | None:
    """The variables projected by the SELECT at ``tokens[start]``; None for ``*``."""
    names: list[str] = []
    depth = 0
    for k in range(start + 1, len(tokens)):
        kind, low = tokens[k].kind, tokens[k].text.lower()
        if depth == 0 and kind == "punct" and low == "*":
            return None
        if depth == 0 and (low in ("where", "from") if kind == "word" else low == "{"):
            break
        if kind == "punct":
            depth += (low == "(") - (low == ")")
        elif kind == "var" and (depth == 0 or tokens[k - 1].text.lower() == "as"):
            names.append(tokens[k].text[1:])
    return tuple(names)


_IRI_PARTS = r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$"


def _remove_dot_segments(path: str) -> str:
    """RFC 3986, 5.2.4, on the path's segments (equal to the RFC's steps on 2M paths)."""
    out: list[str] = []
    segments = path.split("/")
    rootless = True  # before the first "/", or after leading "." and ".." (steps A, D)
    for k, segment in enumerate(segments):
        if segment in (".", ".."):
            if not rootless:
                if segment == ".." and out:
                    out.pop()
                if k == len(segments) - 1:
                    out.append("/")
        elif rootless:
            rootless = False
            out.append(segment)
        else:
            out.append("/" + segment)
    return "".join(out)


def resolve_iri(reference: str, base: str) -> str:
    """``reference`` resolved against the absolute IRI ``base`` (RFC 3986, section 5.2).

    Our own, not the ``rfc3986`` package (measured, issue 21;
    bench/negotiation_libraries.py): rfc3986 2.0.0 (its last release, 2022) cannot resolve
    an IRI (``iri_reference(...).resolve_with`` raises AttributeError), and its
    ``uri_reference`` percent-encodes non-ASCII characters (``é`` became ``%C3%A9``), so a
    graph named with an IRI would no longer match; on the 28 examples of RFC 3986 5.4 it
    agrees with this function, at 7-10x its time. tests/test_safety.py checks those examples.
    """
    m_ref, m_base = re.match(_IRI_PARTS, reference), re.match(_IRI_PARTS, base)
    assert m_ref is not None
    assert m_base is not None
    r_scheme, r_auth, r_path, r_query, r_frag = m_ref.groups()
    b_scheme, b_auth, b_path, b_query, _ = m_base.groups()
    if r_scheme is not None:
        scheme, auth, path, query = r_scheme, r_auth, _remove_dot_segments(r_path), r_query
    elif r_auth is not None:
        scheme, auth, path, query = b_scheme, r_auth, _remove_dot_segments(r_path), r_query
    elif r_path == "":
        scheme, auth, path = b_scheme, b_auth, b_path
        query = r_query if r_query is not None else b_query
    else:
        if r_path.startswith("/"):
            path = _remove_dot_segments(r_path)
        elif b_auth is not None and b_path == "":
            path = _remove_dot_segments("/" + r_path)
        else:
            path = _remove_dot_segments(b_path[: b_path.rfind("/") + 1] + r_path)
        scheme, auth, query = b_scheme, b_auth, r_query
    out = f"{scheme}:" if scheme is not None else ""
    if auth is not None:
        out += f"//{auth}"
    out += path
    if query is not None:
        out += f"?{query}"
    if r_frag is not None:
        out += f"#{r_frag}"
    return out


def check_nesting(text: str) -> None:
    """Refuse a query whose brackets nest deeper than :data:`MAX_NESTING` (counted on its
    tokens, so brackets inside strings, IRIs and comments do not count). A long text is
    streamed, and refused at the first bracket too deep."""
    long = len(text) > LEXICAL_CACHE_CHARS  # else the tokenisation lexical() shares
    tok = _too_deep(tokenize(text)) if long else lexical(text).too_deep
    if tok is not None:
        raise QuerySyntaxError(
            f"the query nests brackets more than {MAX_NESTING} deep (line {tok.line}, "
            f"column {tok.column}); refused before parsing",
            line=tok.line,
            column=tok.column,
        )


def _too_deep(tokens: Iterable[Token]) -> Token | None:
    """The first bracket among ``tokens`` nested deeper than :data:`MAX_NESTING`."""
    depth = 0
    for tok in tokens:
        if tok.kind == "punct" and tok.text in "({[":
            depth += 1
            if depth > MAX_NESTING:
                return tok
        elif tok.kind == "punct" and tok.text in ")}]":
            depth = max(depth - 1, 0)
    return None


_KEYWORDS_BEFORE_NAME = frozenset(("from", "named", "service", "graph"))
"""Keywords the parsers read apart from a name written right after them: ``FROM:g`` is
``FROM`` and ``:g`` (the tokens keep it as one word)."""


def undeclared_names(
    text: str, prefixes: Collection[str] = PREFIXES
) -> Iterator[tuple[str, int, int]]:
    """Each prefixed name of ``text`` (not in a string, an IRI or a comment) whose prefix
    is declared neither by the query's ``PREFIX`` nor in ``prefixes``: its prefix
    (``""`` for ``:name``), line and column."""
    declared = set(prefixes)
    after_prefix = False
    for tok in tokenize(text):
        if tok.kind != "word":
            after_prefix = False
            continue
        if after_prefix:
            declared.add(tok.text.partition(":")[0])
            after_prefix = False
            continue
        head, colon, _ = tok.text.partition(":")
        if not colon:
            after_prefix = head.lower() == "prefix"
            continue
        column = tok.column
        if column > 1 and not text[tok.offset - 1].isascii():
            continue  # the tail of a name the tokens do not read (``éx:p``): not placed
        if head.lower() in _KEYWORDS_BEFORE_NAME:
            head, column = "", column + len(head)
        if head not in declared:
            yield head, tok.line, column


def undeclared_prefix(
    text: str, prefix: str, prefixes: Mapping[str, str] = PREFIXES
) -> QuerySyntaxError:
    """The one-line error for ``prefix``, used in ``text`` but declared neither by the
    query nor in ``prefixes``, located at its first use."""
    at = next(((n[1], n[2]) for n in undeclared_names(text, prefixes) if n[0] == prefix), None)
    if at is None:  # a prefix spelt as a keyword (``from:x``): the tokens read it apart
        words = (t for t in tokenize(text) if t.kind == "word")
        at = next(((t.line, t.column) for t in words if t.text.startswith(prefix + ":")), None)
    line, column = at or (None, None)
    where = "SPARQL syntax error" + (f" at line {line}, column {column}" if line else "")
    declared = ", ".join(f"{p}:" for p in sorted(prefixes))
    return QuerySyntaxError(
        f"{where}: the prefix '{prefix}:' is not declared; add PREFIX {prefix}: <...> "
        f"(pre-declared: {declared})",
        line=line,
        column=column,
    )


class ReadOnlyQuery(Frozen):
    """A query admitted by :func:`decide` (or :func:`builtin`): what an engine may run.

    Engines run :attr:`text` (codepoint escapes already expanded) with :attr:`base`,
    and, when the query has a dataset clause, exactly the graphs in
    :attr:`default_graphs` and :attr:`named_graphs` (absolute IRIs the store holds).
    """

    __match_args__ = (
        "text", "form", "ordered", "base", "default_graphs", "named_graphs", "verified",
    )  # fmt: skip
    __slots__ = __match_args__
    text: str
    form: str
    """``select``, ``construct``, ``ask`` or ``describe``."""
    ordered: bool
    """Whether the outer query has ORDER BY (unordered answers are sorted canonically)."""
    base: str | None
    """The caller's base IRI (the query's own ``BASE`` is in :attr:`text`)."""
    default_graphs: tuple[str, ...] | None
    """``FROM`` graphs, resolved; ``None`` when the query has no dataset clause."""
    named_graphs: tuple[str, ...] | None
    """``FROM NAMED`` graphs, resolved; ``None`` when the query has no dataset clause."""
    verified: str
    """``parsed`` (by :func:`decide`) or ``builtin`` (shipped with khalis-kg)."""

    def __init__(
        self,
        text: str,
        form: str,
        ordered: bool = False,
        base: str | None = None,
        default_graphs: tuple[str, ...] | None = None,
        named_graphs: tuple[str, ...] | None = None,
        verified: str = "parsed",
    ) -> None:
        self._init(text, form, ordered, base, default_graphs, named_graphs, verified)


HeldGraphs = Collection[str] | Callable[[], Collection[str]]
"""The IRIs of the non-empty named graphs a store holds, or a function that returns
them (called only when a query has a dataset clause)."""

_ESCAPE = r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})"
_ANY_ESCAPE = r"\\[uU][0-9A-Fa-f]{4}"  # what any reader could take for one
_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*:"


def rdflib_parse(text: str) -> Any:
    """rdflib's parse tree of the query ``text`` (every rdflib parse of a query goes
    through here), each tab inside a string handed to it as the escape ``\\t``. rdflib
    parses with pyparsing, which first expands every tab to spaces (to the next multiple
    of 8 columns), inside strings too: ``"a<TAB>b"`` was matched as ``"a      b"`` (rdflib
    7.5 and 7.6; docs/upstream.md). Elsewhere a tab is white space, as spaces are; an
    escape pair in the string is kept as it is."""
    from rdflib.plugins.sparql.parser import parseQuery

    return parseQuery(_tabs_escaped(text) if "\t" in text else text)


def _tabs_escaped(text: str) -> str:
    out, last = [], 0
    for token in tokenize(text):
        if token.kind == "string" and "\t" in token.text:
            tabbed = re.sub(
                _TAB_OR_PAIR, lambda m: "\\t" if m.group() == "\t" else m.group(), token.text
            )
            out += [text[last : token.offset], tabbed]
            last = token.offset + len(token.text)
    return "".join(out) + text[last:]


_TAB_OR_PAIR = r"\\[\s\S]|\t"


def expand_escapes(text: str) -> str:
    r"""``text`` with SPARQL's codepoint escapes (``\uXXXX``, ``\UXXXXXXXX``) replaced by
    the characters they stand for (SPARQL 1.1, 19.2: before parsing, over the whole text).

    QuerySyntaxError when an escape names no character (a surrogate, past U+10FFFF) or
    when the expanded text still holds something that reads as an escape (``\u005Cu0053``
    expands to ``\u0053``): a second reader could expand it again and see another query.
    """
    if "\\" not in text:
        return text

    def one(m: re.Match[str]) -> str:
        code = int(m.group(1) or m.group(2), 16)
        if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise QuerySyntaxError(
                f"SPARQL syntax error: {m.group(0)} is not a Unicode character escape"
            )
        return chr(code)

    expanded = re.sub(_ESCAPE, one, text)
    if expanded != text and re.search(_ANY_ESCAPE, expanded):
        raise QuerySyntaxError(
            "SPARQL syntax error: a \\u escape expands to another escape; "
            "the query cannot be verified as read-only"
        )
    return expanded


def decide(
    text: str,
    base: str | None = None,
    held_graphs: HeldGraphs = (),
    *,
    prefixes: Mapping[str, str] = PREFIXES,
) -> ReadOnlyQuery:
    """Admit ``text`` as a read-only query that touches nothing beyond the store.

    ``base`` is the caller's base IRI (``None``: only the query's own ``BASE``);
    ``held_graphs`` the named graphs the store holds; ``prefixes`` the prefixes the
    engines declare by default. Refusals are one line (see the module documentation).
    Parsing imports rdflib's SPARQL grammar (~0.25 s, once per process); the parse of
    a text is cached.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise QuerySyntaxError("SPARQL syntax error: the query is not valid Unicode") from None
    if not text.strip():
        raise QuerySyntaxError("the query is empty", line=1, column=1)
    if base is not None and not is_absolute_iri(base):
        raise QueryError(f"the base IRI must be an absolute IRI: {base!r}")
    expanded = expand_escapes(text)
    facts = _analysed(expanded, base, tuple(sorted(prefixes.items())))
    if isinstance(facts, QueryError):  # a kept refusal, raised as a new one each time
        import copy

        error = copy.copy(facts)  # its class, message, line and column
        error.__suppress_context__ = facts.__suppress_context__
        raise error
    default_graphs: tuple[str, ...] | None = None
    named_graphs: tuple[str, ...] | None = None
    if facts.dataset is not None:
        held = held_graphs() if callable(held_graphs) else held_graphs
        for kind, iri in facts.dataset:
            if iri is None or iri not in held:
                shown = f"<{iri}>" if iri else "an unresolvable IRI"
                raise QueryRefusedError(
                    f"{kind.upper()} {shown} is refused: it names no graph held by this store, "
                    "and queries never load local files or web documents"
                )
        default_graphs = tuple(iri for kind, iri in facts.dataset if kind == "from" and iri)
        named_graphs = tuple(iri for kind, iri in facts.dataset if kind == "from named" and iri)
    return ReadOnlyQuery(
        text=expanded,
        form=facts.form,
        ordered=facts.ordered,
        base=base,
        default_graphs=default_graphs,
        named_graphs=named_graphs,
    )


@functools.lru_cache(maxsize=512)
def builtin(text: str) -> ReadOnlyQuery:
    """Admit a query that ships with khalis-kg without importing the parser, when its
    text is plainly clean; anything else goes through :func:`decide` (see the module
    documentation). Decided once per text and process (a bounded cache: the packaged
    texts are few).

    Plainly clean, read conservatively on the lexical tokens: a query form, no escape,
    no update keyword, and no word (keyword or prefixed name: ``SERVICE:x`` is one) that
    contains ``service`` or starts with ``from``.
    """
    if "\\u" not in text and "\\U" not in text:
        facts = lexical(text)
        if facts.form in QUERY_FORMS and facts.plainly_clean:
            return ReadOnlyQuery(
                text=text, form=facts.form, ordered=facts.has_order_by, verified="builtin"
            )
    return decide(text)


_PARSED: list[threading.local] = []
"""Its one item's ``tree``: (text, parse tree) of the last text :func:`_analyse` parsed
and admitted on this thread, for :func:`take_parsed` (an engine that runs rdflib's grammar
itself). Made on first use (:func:`_parsed`): a cold query imports no ``threading``."""


def _parsed() -> threading.local:
    if not _PARSED:  # (two threads may both make one: the first is the one used)
        import threading

        _PARSED.append(threading.local())
    return _PARSED[0]


def take_parsed(text: str) -> Any | None:
    """rdflib's parse tree of ``text`` if the last decision on this thread parsed that very
    text (escapes expanded) and admitted it, given away once (the engine may change it);
    else None. The memory backend translates it instead of parsing the text again."""
    parsed = _parsed()
    kept = getattr(parsed, "tree", None)
    parsed.tree = None
    if kept is None or kept[0] != text:
        return None
    return kept[1]


class _Facts(Frozen):
    __match_args__ = ("form", "ordered", "dataset")
    __slots__ = __match_args__
    form: str
    ordered: bool
    dataset: tuple[tuple[str, str | None], ...] | None

    def __init__(
        self, form: str, ordered: bool, dataset: tuple[tuple[str, str | None], ...] | None
    ) -> None:
        self._init(form, ordered, dataset)


@functools.lru_cache(maxsize=256)
def _analysed(
    text: str, base: str | None, prefixes: tuple[tuple[str, str], ...]
) -> _Facts | QueryError:
    """The facts of ``text``, or its refusal: both kept (the cache keeps no exception)."""
    try:
        return _analyse(text, base, prefixes)
    except QueryError as exc:  # kept without the frames of the parse that refused it
        if exc.__suppress_context__:
            exc.__context__ = None
        return exc.with_traceback(None)


def _analyse(text: str, base: str | None, prefixes: tuple[tuple[str, str], ...]) -> _Facts:
    """Parse ``text`` (escapes expanded) and take the decision's facts from the tree."""
    import pyparsing

    try:
        tree = rdflib_parse(text)
    except pyparsing.ParseBaseException as exc:
        if (found := lexical(text)).is_update:  # refused either way: this chooses the words
            raise ReadOnlyError(
                "SPARQL Update is not allowed: khalis-kg is read-only "
                f"(found {(found.form or 'an update keyword').upper()})"
            ) from None
        raise UnverifiableQueryError(
            f"SPARQL syntax error at line {exc.lineno}, column {exc.col}: "
            f"{_expected(exc)}; the query cannot be verified as read-only",
            line=exc.lineno,
            column=exc.col,
        ) from None
    except RecursionError:
        raise QuerySyntaxError(
            "the query is nested too deeply to be verified as read-only"
        ) from None
    prologue, query = tree[0], tree[1]
    nodes = list(parse_nodes(tree))
    if any(node.name == "ServiceGraphPattern" for node in nodes):
        raise QueryRefusedError(
            "SERVICE is refused: queries never reach other endpoints or the network"
        )
    declared = check_prefixes(prologue, nodes, text, dict(prefixes))
    for node in nodes:
        if node.name == "Function":
            iri = node.iri
            if getattr(iri, "name", None) == "pname":  # else an IRI (a URIRef)
                iri = _expanded(iri, declared)
            # XSD names casts (SPARQL 1.1, 17.5); no other function IRI is called: an
            # engine or a remote store may give one I/O (Virtuoso's bif:file_to_string...)
            if not str(iri).startswith(XSD):
                raise QueryRefusedError(
                    f"the function <{iri}> is refused: only SPARQL's own functions and XSD "
                    "casts run (a store may give other functions file or network access)"
                )
    dataset = None
    if query.datasetClause:
        dataset = tuple(_resolve_dataset(prologue, query.datasetClause, base, prefixes))
    form = query.name.removesuffix("Query").lower()  # SelectQuery, ConstructQuery...
    assert form in QUERY_FORMS  # the Query grammar has exactly these four forms
    _parsed().tree = (text, tree)
    return _Facts(form=form, ordered=query.orderby is not None, dataset=dataset)


def _resolve_dataset(
    prologue: Any, clauses: Any, base: str | None, prefixes: tuple[tuple[str, str], ...]
) -> Iterator[tuple[str, str | None]]:
    """Each dataset clause's graph IRI as SPARQL resolves it: ``BASE`` and ``PREFIX``
    declarations in order, each relative IRI against the base in effect (RFC 3986),
    the caller's base first. ``None`` for an IRI that stays relative."""
    namespaces: dict[str, str | None] = dict(prefixes)
    for decl in prologue:
        if decl.name == "Base":
            base = _against(base, str(decl.iri))
        elif decl.name == "PrefixDecl":
            namespaces[decl.prefix or ""] = _against(base, str(decl.iri))
    for clause in clauses:
        named = clause.default is None
        kind, iri = ("from named", clause.named) if named else ("from", clause.default)
        pname = getattr(iri, "name", None) == "pname"
        yield kind, _expanded(iri, namespaces) if pname else _against(base, str(iri))


def _expanded(pname: Any, namespaces: Mapping[str, str | None]) -> str | None:
    """The IRI a parsed prefixed name stands for (None when its namespace is unknown)."""
    namespace = namespaces.get(pname.prefix or "")
    local = re.sub(_PN_LOCAL_ESCAPE, r"\1", pname.localname or "")
    return None if namespace is None else namespace + local


_PN_LOCAL_ESCAPE = r"\\([_~.\-!$&'()*+,;=/?#@%])"


def _against(base: str | None, ref: str) -> str | None:
    """``ref`` resolved against ``base`` (RFC 3986); ``None`` when it stays relative."""
    if re.match(_SCHEME, ref):
        return resolve_iri(ref, ref)  # absolute: only its dot segments are removed
    return None if base is None else resolve_iri(ref, base)


def check_prefixes(
    prologue: Any, nodes: Iterable[Any], text: str, prefixes: Mapping[str, str] = PREFIXES
) -> dict[str, str]:
    """Every prefix declared for a parsed query (``prefixes`` and the ``PREFIX``
    declarations of its ``prologue``); the :func:`undeclared_prefix` error for the first
    prefixed name among the parse tree's ``nodes`` whose prefix is not one of them."""
    declared = dict(prefixes)
    for decl in prologue:
        if decl.name == "PrefixDecl":
            declared[decl.prefix or ""] = str(decl.iri)
    for node in nodes:
        if node.name == "pname" and (node.prefix or "") not in declared:
            raise undeclared_prefix(text, node.prefix or "", prefixes)
    return declared


def parse_nodes(node: Any) -> Iterator[Any]:
    """Every ``CompValue`` of a parse tree (depth-first, without recursion)."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            yield item
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, ParseResults)):
            stack.extend(item)


def _expected(exc: Any) -> str:
    """pyparsing's message, shortened: what was expected and what was found."""
    message = str(exc.msg)
    found = str(exc.line)[exc.col - 1 : exc.col + 19].strip()  # "" past the line's end
    shown = repr(found) if found else "end of line"
    return f"{message[0].lower() + message[1:]}, found {shown}" if message else f"at {shown}"


class Limits(Record):
    """A time limit (seconds, checked between results) and a cap on results."""

    __match_args__ = ("timeout", "max_rows")
    __slots__ = __match_args__
    timeout: float | None
    max_rows: int | None

    def __init__(
        self, timeout: float | None = None, max_rows: int | None = DEFAULT_MAX_ROWS
    ) -> None:
        """Checked when made (ParameterError): a finite time limit in (0, a day], a
        cap of at least one row — not a string, an infinity or a NaN."""
        self.timeout = optional_seconds(timeout, "timeout")
        self.max_rows = optional_count(max_rows, "max_rows")

    def deadline(self) -> float | None:
        """The monotonic time at which the time limit, counted from now, is passed."""
        return None if self.timeout is None else time.monotonic() + self.timeout

    def guard(self, items: Iterable[T], deadline: float | None = None) -> Iterator[T]:
        """Yield from ``items``, raising QueryTimeoutError past the time limit or the cap;
        the time limit counts from the first item asked for, or ends at ``deadline``
        (from :meth:`deadline`: one limit for work done in several parts)."""
        if deadline is None:
            deadline = self.deadline()
        for count, item in enumerate(items, start=1):
            self.check(deadline)
            if self.max_rows is not None and count > self.max_rows:
                raise QueryTimeoutError(f"query stopped: more than {self.max_rows} results")
            yield item
        self.check(deadline)

    def check(self, deadline: float | None) -> None:
        """TimeLimitError once ``deadline`` (from :meth:`deadline`) is passed."""
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitError(f"query stopped after {self.timeout:g} s (time limit)")

"""Read-only and no-I/O guarantees for SPARQL text, without a SPARQL parser.

A query run by khalis-kg never writes, never reads a local file and never reaches the
network. Both engines would otherwise do so: Oxigraph sends ``SERVICE`` clauses over
HTTP, and rdflib fetches ``FROM``/``FROM NAMED`` graphs it does not hold (file or web)
and follows ``SERVICE`` too. The policy:

* SPARQL Update (``INSERT``, ``DELETE``, ``LOAD``, ``CLEAR``, ``CREATE``, ``DROP``,
  ``COPY``, ``MOVE``, ``ADD``, ``WITH``) is refused with :class:`ReadOnlyError`;
* ``SERVICE`` is refused with :class:`QueryError`, wherever it appears;
* ``FROM <g>`` and ``FROM NAMED <g>`` are accepted only when ``<g>`` is a non-empty
  named graph the store holds; any other dataset clause is refused (rather than
  silently ignored, so that nobody mistakes an empty answer for a real one).

The check is lexical (comments, strings and IRIs are skipped the way the SPARQL grammar
tokenises them, keywords are case-insensitive); the rdflib backend double-checks on the
parsed algebra. The module also holds the cooperative time limit used while results
are read.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from .errors import QueryError, QuerySyntaxError, QueryTimeoutError, ReadOnlyError, TimeLimitError

QUERY_FORMS = ("select", "construct", "ask", "describe")
UPDATE_KEYWORDS = frozenset(
    ("insert", "delete", "load", "clear", "create", "drop", "copy", "move", "add", "with")
)

_IRIREF = re.compile(r'<[^<>"{}|^`\\\x00-\x20]*>')
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_\-.]*(?::[^\s{}()<>;,]*)?|[A-Za-z0-9_\-.]*:[^\s{}()<>;,]*")
# [?$][A-Za-z0-9_\u00b7\u00c0-\uffff]*, written as the complement of the excluded code
# points: the same matches (checked on every code point), compiled in 0.4 ms instead of
# 2.4 ms at import (the wide range made sre build a large charset).
_VAR = re.compile(r"[?$][^\x00-\x2f\x3a-\x40\x5b-\x5e\x60\x7b-\xb6\xb8-\xbf\U00010000-\U0010ffff]*")

MAX_NESTING = 256
"""Deepest nesting of ``(``, ``{`` and ``[`` a query may have. Deeper queries are
refused before any engine parses them: Oxigraph's recursive parser overflows its stack
on ~30,000 levels (a segmentation fault here, an abort of a remote Oxigraph server)."""

DEFAULT_MAX_ROWS = 100_000
"""Largest number of rows (or triples) a query may return before it is stopped."""


@dataclass(frozen=True)
class Token:
    kind: str  # "word", "iri", "string", "var", "punct"
    text: str
    line: int
    column: int


def tokenize(text: str) -> Iterator[Token]:
    """SPARQL tokens, with comments dropped; strings and IRIs kept whole."""
    i, n = 0, len(text)
    line, line_start = 1, 0
    while i < n:
        ch = text[i]
        col = i - line_start + 1
        if ch == "\n":
            line += 1
            line_start = i + 1
            i += 1
            continue
        if ch.isspace():
            i += 1
            continue
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        if ch in "\"'":
            quote = ch * 3 if text.startswith(ch * 3, i) else ch
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                if text[j] == "\\":
                    j += 1
                elif text[j] == "\n":
                    line += 1
                    line_start = j + 1
                j += 1
            j = min(n, j + len(quote))
            yield Token("string", text[i:j], line, col)
            i = j
            continue
        if ch == "<":
            m = _IRIREF.match(text, i)
            if m:
                yield Token("iri", m.group(0)[1:-1], line, col)
                i = m.end()
                continue
            yield Token("punct", ch, line, col)
            i += 1
            continue
        if ch in "?$":
            m = _VAR.match(text, i)
            assert m is not None
            yield Token("var", m.group(0), line, col)
            i = max(m.end(), i + 1)
            continue
        m = _WORD.match(text, i)
        if m and m.end() > i:
            yield Token("word", m.group(0), line, col)
            i = m.end()
            continue
        yield Token("punct", ch, line, col)
        i += 1


@dataclass
class QueryScan:
    """What a lexical scan of a query found."""

    form: str | None = None
    """``select``, ``construct``, ``ask``, ``describe``; or the update keyword."""
    is_update: bool = False
    has_service: bool = False
    service_line: int | None = None
    dataset: list[tuple[str, str | None]] = field(default_factory=list)
    """``("from" | "from named", resolved IRI or None when it cannot be resolved)``."""
    has_order_by: bool = False
    """Whether the outer query has ORDER BY (unordered answers are sorted canonically)."""
    prefixes: dict[str, str] = field(default_factory=dict)


def scan(
    text: str, default_prefixes: Mapping[str, str] | None = None, *, base: str | None = None
) -> QueryScan:
    """Scan ``text``: its form, SERVICE, dataset clauses, ORDER BY. ``base`` is the
    caller's base IRI; the query's own ``BASE`` is resolved against it."""
    result = QueryScan(prefixes=dict(default_prefixes or {}))
    tokens = list(tokenize(text))
    depth = 0
    for k, tok in enumerate(tokens):
        if tok.kind == "punct" and tok.text in "{}":
            depth += 1 if tok.text == "{" else -1
        if tok.kind != "word":
            continue
        word = tok.text.lower()
        if word == "prefix" and k + 2 < len(tokens) and tokens[k + 2].kind == "iri":
            result.prefixes[tokens[k + 1].text.rstrip(":")] = tokens[k + 2].text
        elif word == "base" and k + 1 < len(tokens) and tokens[k + 1].kind == "iri":
            base = _resolve(tokens[k + 1], {}, base)
        elif result.form is None and (word in QUERY_FORMS or word in UPDATE_KEYWORDS):
            result.form = word
            result.is_update = word in UPDATE_KEYWORDS
        elif word == "service":
            result.has_service = True
            result.service_line = result.service_line or tok.line
        elif (
            word == "order"
            and depth == 0
            and k + 1 < len(tokens)
            and tokens[k + 1].text.lower() == "by"
        ):
            result.has_order_by = True  # only the outer query's ORDER BY orders the answer
        elif word == "from":
            kind = "from"
            j = k + 1
            if j < len(tokens) and tokens[j].text.lower() == "named":
                kind = "from named"
                j += 1
            target = tokens[j] if j < len(tokens) else None
            result.dataset.append((kind, _resolve(target, result.prefixes, base)))
    if any(t.kind == "word" and t.text.lower() in UPDATE_KEYWORDS for t in tokens) and (
        result.form is None or result.form not in QUERY_FORMS
    ):
        result.is_update = True
    return result


def projection(text: str) -> list[str] | None:
    """Variables projected by a SELECT query (``None`` for ``SELECT *`` or other forms)."""
    tokens = list(tokenize(text))
    start = next(
        (k for k, t in enumerate(tokens) if t.kind == "word" and t.text.lower() == "select"),
        None,
    )
    if start is None:
        return None
    names: list[str] = []
    depth = 0
    for k in range(start + 1, len(tokens)):
        tok = tokens[k]
        low = tok.text.lower()
        if depth == 0 and (
            (tok.kind == "word" and low in ("where", "from"))
            or (tok.kind == "punct" and low == "{")
        ):
            break
        if tok.kind == "punct" and low == "*" and depth == 0:
            return None
        if tok.kind == "punct" and low == "(":
            depth += 1
        elif tok.kind == "punct" and low == ")":
            depth -= 1
        elif tok.kind == "var" and (depth == 0 or (k > 0 and tokens[k - 1].text.lower() == "as")):
            names.append(tok.text[1:])
    return names


def _resolve(tok: Token | None, prefixes: dict[str, str], base: str | None) -> str | None:
    if tok is None:
        return None
    if tok.kind == "iri":
        if re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", tok.text):
            return tok.text
        return None if base is None else resolve_iri(tok.text, base)  # no base: refused
    if tok.kind == "word" and ":" in tok.text:
        prefix, _, local = tok.text.partition(":")
        ns = prefixes.get(prefix)
        return None if ns is None else ns + local
    return None


_IRI_PARTS = re.compile(r"^(?:([^:/?#]+):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")


def _remove_dot_segments(path: str) -> str:
    out: list[str] = []
    while path:
        if path.startswith("../"):
            path = path[3:]
        elif path.startswith("./") or path.startswith("/./"):
            path = path[2:]
        elif path == "/.":
            path = "/"
        elif path.startswith("/../"):
            path = path[3:]
            if out:
                out.pop()
        elif path == "/..":
            path = "/"
            if out:
                out.pop()
        elif path in (".", ".."):
            path = ""
        else:
            m = re.match(r"/?[^/]*", path)
            assert m is not None
            out.append(m.group(0))
            path = path[m.end() :]
    return "".join(out)


def resolve_iri(reference: str, base: str) -> str:
    """``reference`` resolved against the absolute IRI ``base`` (RFC 3986, section 5.2)."""
    m_ref, m_base = _IRI_PARTS.match(reference), _IRI_PARTS.match(base)
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


def check_nesting(text: str, limit: int = MAX_NESTING) -> None:
    """Refuse a query whose brackets nest deeper than ``limit`` (counted on its tokens,
    so brackets inside strings, IRIs and comments do not count)."""
    depth = 0
    for tok in tokenize(text):
        if tok.kind != "punct":
            continue
        if tok.text in "({[":
            depth += 1
            if depth > limit:
                raise QuerySyntaxError(
                    f"the query nests brackets more than {limit} deep (line {tok.line}, "
                    f"column {tok.column}); refused before parsing",
                    line=tok.line,
                    column=tok.column,
                )
        elif tok.text in ")}]":
            depth = max(depth - 1, 0)


def check_query(
    text: str,
    held_graphs: Callable[[], Iterable[str]],
    default_prefixes: Mapping[str, str] | None = None,
    *,
    base: str | None = None,
) -> QueryScan:
    """Refuse updates, SERVICE and dataset clauses naming graphs the store does not hold.

    ``held_graphs`` is called only when the query has a dataset clause; ``base`` (the
    caller's base IRI) resolves ``FROM <relative>``, after the query's own ``BASE``.
    """
    result = scan(text, default_prefixes, base=base)
    if result.is_update:
        raise ReadOnlyError(
            "SPARQL Update is not allowed: khalis-kg is read-only "
            f"(found {(result.form or 'an update keyword').upper()})"
        )
    if result.form is None:
        raise QuerySyntaxError(
            "not a SPARQL query: expected SELECT, CONSTRUCT, ASK or DESCRIBE", line=1, column=1
        )
    if result.has_service:
        raise QueryError(
            f"SERVICE is refused (line {result.service_line}): "
            "queries never reach other endpoints or the network"
        )
    if result.dataset:
        held = set(held_graphs())
        for kind, iri in result.dataset:
            if iri is None or iri not in held:
                shown = f"<{iri}>" if iri else "an unresolvable IRI"
                raise QueryError(
                    f"{kind.upper()} {shown} is refused: it names no graph held by this store, "
                    "and queries never load local files or web documents"
                )
    return result


T = TypeVar("T")


@dataclass
class Limits:
    """A time limit (seconds, checked between results) and a cap on results."""

    timeout: float | None = None
    max_rows: int | None = DEFAULT_MAX_ROWS

    def guard(self, items: Iterable[T]) -> Iterator[T]:
        """Yield from ``items``, raising QueryTimeoutError past the time limit or the cap."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        for count, item in enumerate(items, start=1):
            if deadline is not None and time.monotonic() > deadline:
                raise TimeLimitError(f"query stopped after {self.timeout:g} s (time limit)")
            if self.max_rows is not None and count > self.max_rows:
                raise QueryTimeoutError(f"query stopped: more than {self.max_rows} results")
            yield item
        if deadline is not None and time.monotonic() > deadline:
            raise TimeLimitError(f"query stopped after {self.timeout:g} s (time limit)")

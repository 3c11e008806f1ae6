"""The query decision (:func:`khalis_kg.safety.decide`) on its own: exact plans and
exact one-line refusals, and the packaged queries admitted without a parse."""

from __future__ import annotations

import traceback

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rfc3986_examples import BASE as RFC3986_BASE
from rfc3986_examples import EXAMPLES as RFC3986_EXAMPLES

from khalis_kg import api, resources
from khalis_kg.catalogue import Catalogue
from khalis_kg.errors import (
    QueryError,
    QueryRefusedError,
    QuerySyntaxError,
    ReadOnlyError,
    UnverifiableQueryError,
)
from khalis_kg.namespaces import PREFIXES
from khalis_kg.safety import ReadOnlyQuery, _analysed, builtin, decide, expand_escapes

HELD = frozenset({"http://example.org/g", "http://example.org/h"})
DECLARED = ", ".join(f"{p}:" for p in sorted(PREFIXES))


def _shipped_queries() -> dict[str, str]:
    """Every query text khalis-kg ships: the packaged files and the internal ones
    (``queries/FOLDER/``: the diagrams', the pages', check-source's and stats')."""
    texts = {f"queries/{q.name}.rq": q.text for q in Catalogue.load()}
    for folder in api.INTERNAL:
        for q in Catalogue.load(resources.queries_dir() / folder):
            texts[f"queries/{folder}/{q.name}.rq"] = q.text
    return texts


SHIPPED = _shipped_queries()


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_every_shipped_query_is_admitted_alike_with_or_without_the_parse(name: str) -> None:
    """builtin() takes no parse; decide() must reach the same plan for each shipped text."""
    text = SHIPPED[name]
    quick = builtin(text)
    assert quick.verified == "builtin"
    parsed = decide(text)
    assert parsed == ReadOnlyQuery(
        text=quick.text, form=quick.form, ordered=quick.ordered, verified="parsed"
    )


def test_the_catalogue_is_packaged_only_by_default(tmp_path: object) -> None:
    assert Catalogue.open().packaged
    assert Catalogue.load().packaged
    from helpers import TEST_QUERIES

    assert not Catalogue.load(TEST_QUERIES).packaged
    assert not Catalogue([]).packaged


def test_builtin_falls_back_to_the_parse_for_anything_not_plainly_clean() -> None:
    with pytest.raises(QueryRefusedError):
        builtin("PREFIX : <http://127.0.0.1:9/> SELECT * WHERE { SERVICE:x { ?s ?p ?o } }")
    with pytest.raises(QueryRefusedError):
        builtin("SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
    assert builtin('SELECT ("\\u0041" AS ?a) {}').verified == "parsed"
    assert builtin('SELECT ("\\u0041" AS ?a) {}').text == 'SELECT ("A" AS ?a) {}'


@pytest.mark.parametrize(
    ("text", "base", "plan"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", None, ("select", False, None, None)),
        ("select ?s { ?s ?p ?o } order by ?s", None, ("select", True, None, None)),
        (
            "SELECT ?s { { SELECT ?s { ?s ?p ?o } ORDER BY ?s } }",
            None,
            ("select", False, None, None),
        ),
        ("ASK {}", None, ("ask", False, None, None)),
        ("CONSTRUCT WHERE { ?s ?p ?o }", None, ("construct", False, None, None)),
        ("DESCRIBE <http://example.org/a>", None, ("describe", False, None, None)),
        (
            "SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }",
            None,
            ("select", False, ("http://example.org/g",), ()),
        ),
        (
            "SELECT * FROM NAMED <http://example.org/h> { GRAPH ?g { ?s ?p ?o } }",
            None,
            ("select", False, (), ("http://example.org/h",)),
        ),
        (
            "PREFIX e: <http://example.org/> SELECT * FROM e:g FROM NAMED e:h {}",
            None,
            ("select", False, ("http://example.org/g",), ("http://example.org/h",)),
        ),
        (
            "BASE <http://example.org/x/> SELECT * FROM <../g> {}",
            None,
            ("select", False, ("http://example.org/g",), ()),
        ),
        (
            "SELECT * FROM <h> {}",
            "http://example.org/",
            ("select", False, ("http://example.org/h",), ()),
        ),
        (
            "BASE <x/> SELECT * FROM <../g> {}",
            "http://example.org/",
            ("select", False, ("http://example.org/g",), ()),
        ),
    ],
)
def test_admitted_plans(
    text: str, base: str | None, plan: tuple[str, bool, object, object]
) -> None:
    got = decide(text, base, HELD)
    assert (got.form, got.ordered, got.default_graphs, got.named_graphs) == plan
    assert got.base == base


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        ("", QuerySyntaxError, "the query is empty"),
        (" \n\t", QuerySyntaxError, "the query is empty"),
        (
            "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
            QueryRefusedError,
            "SERVICE is refused: queries never reach other endpoints or the network",
        ),
        (
            "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
            QueryRefusedError,
            "FROM <file:///etc/passwd> is refused: it names no graph held by this store, "
            "and queries never load local files or web documents",
        ),
        (
            "SELECT * FROM NAMED <relative> WHERE { ?s ?p ?o }",
            QueryRefusedError,
            "FROM NAMED an unresolvable IRI is refused: it names no graph held by this "
            "store, and queries never load local files or web documents",
        ),
        (
            "PREFIX : <file:///x/> SELECT * FROM:passwd.nt WHERE { ?s ?p ?o }",
            QueryRefusedError,
            "FROM <file:///x/passwd.nt> is refused: it names no graph held by this store, "
            "and queries never load local files or web documents",
        ),
        (
            "PREFIX bif: <bif:> SELECT (bif:file_to_string('/etc/passwd') AS ?x) {}",
            QueryRefusedError,
            "the function <bif:file_to_string> is refused: only SPARQL's own functions and "
            "XSD casts run (a store may give other functions file or network access)",
        ),
        (
            "INSERT DATA { <http://a/b> <http://a/c> 1 }",
            ReadOnlyError,
            "SPARQL Update is not allowed: khalis-kg is read-only (found INSERT)",
        ),
        (
            "LOAD <file:///etc/passwd>",
            ReadOnlyError,
            "SPARQL Update is not allowed: khalis-kg is read-only (found LOAD)",
        ),
        (
            "WITH <http://a/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
            ReadOnlyError,
            "SPARQL Update is not allowed: khalis-kg is read-only (found WITH)",
        ),
        (
            "DROP ALL GRAPHS",  # not valid Update either: refused by its first keyword
            ReadOnlyError,
            "SPARQL Update is not allowed: khalis-kg is read-only (found DROP)",
        ),
        (
            "SELECT * { ?s ex:bar ?o }",
            QuerySyntaxError,
            "SPARQL syntax error at line 1, column 15: the prefix 'ex:' is not declared; "
            f"add PREFIX ex: <...> (pre-declared: {DECLARED})",
        ),
        (
            "SELECT * FROM:passwd { ?s ?p ?o }",
            QuerySyntaxError,
            "SPARQL syntax error at line 1, column 14: the prefix ':' is not declared; "
            f"add PREFIX : <...> (pre-declared: {DECLARED})",
        ),
        (
            "SELECT * WHERE {\n ?s ?p ?o }\nLIMIT x",
            UnverifiableQueryError,
            "SPARQL syntax error at line 3, column 1: expected end of text, found 'LIMIT x'; "
            "the query cannot be verified as read-only",
        ),
        (
            "SELECT * WHERE { \\u005Cu0053ERVICE <http://x/> {} }",
            QuerySyntaxError,
            "SPARQL syntax error: a \\u escape expands to another escape; "
            "the query cannot be verified as read-only",
        ),
        (
            "SELECT * WHERE { ?s ?p '\\uD800' }",
            QuerySyntaxError,
            "SPARQL syntax error: \\uD800 is not a Unicode character escape",
        ),
        (
            "SELECT * WHERE { ?s ?p '\udc80' }",
            QuerySyntaxError,
            "SPARQL syntax error: the query is not valid Unicode",
        ),
        (
            "SELECT * WHERE " + "{ " * 200 + "}" * 200,
            QuerySyntaxError,
            "the query is nested too deeply to be verified as read-only",
        ),
    ],
)
def test_refusals_are_one_line(text: str, error: type[QueryError], message: str) -> None:
    with pytest.raises(error) as info:
        decide(text, None, HELD)
    assert type(info.value) is error
    assert str(info.value) == message


def test_the_held_graphs_are_asked_for_only_when_a_dataset_is_named() -> None:
    calls: list[int] = []

    def held() -> frozenset[str]:
        calls.append(1)
        return HELD

    decide("SELECT * { ?s ?p ?o }", None, held)
    assert calls == []
    decide("SELECT * FROM <http://example.org/g> { ?s ?p ?o }", None, held)
    assert calls == [1]


def test_a_base_must_be_an_absolute_iri() -> None:
    with pytest.raises(QueryError) as info:
        decide("ASK {}", "relative/", HELD)
    assert str(info.value) == "the base IRI must be an absolute IRI: 'relative/'"


def test_codepoint_escapes_are_expanded_once_as_the_specification_says() -> None:
    assert expand_escapes("\\u0053ERVICE \\U0001F600 \\u00e9") == "SERVICE \U0001f600 é"
    assert expand_escapes("no escape \\n here") == "no escape \\n here"
    # the engine is given the expanded text: it reads the SERVICE the verifier read
    with pytest.raises(QueryRefusedError):
        decide("SELECT * WHERE { \\u0053ERVICE <http://127.0.0.1:9/> { } }")
    assert decide('SELECT ("caf\\u00e9" AS ?x) {}').text == 'SELECT ("café" AS ?x) {}'


def test_dataset_iris_resolve_as_rfc_3986_says() -> None:
    from khalis_kg.safety import resolve_iri

    got = {ref: resolve_iri(ref, RFC3986_BASE) for ref in RFC3986_EXAMPLES}
    assert got == RFC3986_EXAMPLES
    assert decide(
        "SELECT * FROM <file:///x/../etc/passwd> {}", None, {"file:///etc/passwd"}
    ).default_graphs == ("file:///etc/passwd",)


def test_packaged_queries_and_stats_run_without_importing_rdflib() -> None:
    """The fast path is real: the API runs packaged queries (and the statistics) on
    Oxigraph without importing rdflib's parser; an ad-hoc query imports it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from khalis_kg import KnowledgeGraph\n"
        "kg = KnowledgeGraph.load()\n"
        "kg.query('casualties'); kg.query('timeline'); kg.stats()\n"
        "print(sorted(m for m in sys.modules if m.startswith('rdflib')))\n"
        "kg.sparql('ASK {}')\n"
        "print('rdflib.plugins.sparql.parser' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines() == ["[]", "True"]


def test_admit_explains_in_oxigraph_words_and_the_probe_reaches_nothing() -> None:
    """admit() asks Oxigraph (which cannot parse without running) for its syntax
    message in a locked child: a text only Oxigraph reads is still refused, and its
    SERVICE, run there, cannot open a socket."""
    import socket

    from khalis_kg.backends.base import admit

    with pytest.raises(QuerySyntaxError) as info:
        admit("SELECT * WHERE {\n ?s ?p ?o }\nLIMIT x", None, HELD)
    assert str(info.value) == "SPARQL syntax error at line 3, column 7: unexpected 'x'"
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(4)
        server.settimeout(0.2)
        url = f"http://127.0.0.1:{server.getsockname()[1]}/"
        text = f"PREFIX pfx: <{url}>\nSELECT * WHERE {{ SERVICEpfx:x {{ ?s ?p ?o }} }}"
        with pytest.raises(UnverifiableQueryError) as refused:
            admit(text, None, HELD)
        assert str(refused.value).endswith("the query cannot be verified as read-only")
        with pytest.raises(TimeoutError):
            server.accept()  # nobody called


def test_the_decisions_parse_tree_is_given_once_to_the_same_text_only() -> None:
    from khalis_kg.safety import take_parsed

    text = "SELECT ?given WHERE { ?given ?p ?o } # a text no other test decides"
    decide(text)
    assert take_parsed("SELECT * WHERE { ?s ?p ?o }") is None  # another text: nothing
    decide(text + " ")  # a fresh parse: the text differs
    tree = take_parsed(text + " ")
    assert tree is not None
    assert tree[1].name == "SelectQuery"
    assert take_parsed(text + " ") is None  # given away once
    with pytest.raises(QueryRefusedError):
        decide("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } } # refused")
    assert take_parsed("SELECT * WHERE { SERVICE <http://example.org/> { ?s ?p ?o } }") is None


def test_the_memory_backend_parses_a_new_query_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The decision parses the text with rdflib's grammar; the memory backend translates
    that tree rather than parse the text a second time, and answers the same."""
    import rdflib.plugins.sparql.parser

    from khalis_kg import KnowledgeGraph

    parses: list[str] = []
    real = rdflib.plugins.sparql.parser.parseQuery

    def counted(text: str) -> object:
        parses.append(text)
        return real(text)

    kg = KnowledgeGraph.load(backend="memory")
    expected = kg.backend.triple_count()  # counted over the quads, not by SPARQL
    # every rdflib parse of a query, the decision's and the engine's, is safety.rdflib_parse's
    monkeypatch.setattr(rdflib.plugins.sparql.parser, "parseQuery", counted)
    text = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?p != <urn:x:parsed-once>) }"
    rows = kg.sparql(text).rows
    assert len(parses) == 1
    assert [row["n"].value for row in rows] == [str(expected)]
    kg.sparql(text)  # both caches hit: no parse at all
    assert len(parses) == 1


# PN_PREFIX: PN_CHARS_BASE ((PN_CHARS | '.')* PN_CHARS)?, over ASCII and a few others
_BASE = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u00e9\u03a9\u4e2d"
_CHARS = _BASE + "_-0123456789\u00b7"
PN_PREFIX = st.builds(
    lambda first, middle, last: first + middle + last,
    st.sampled_from(_BASE),
    st.text(_CHARS + ".", max_size=6),
    st.sampled_from(["", *_CHARS]),
).filter(lambda p: not p.endswith("."))
EMPTY_OR_PN_PREFIX = st.one_of(st.just(""), PN_PREFIX)


def _uses(prefix: str) -> str:
    """A query using ``prefix:`` once as a name, after the same text in a string, an IRI
    and a comment (which declare and use nothing)."""
    return (
        f"SELECT * WHERE {{\n  ?s ?p '{prefix}:s', <http://e/{prefix}:i> # {prefix}:c\n"
        f"  . ?s {prefix}:name ?o }}"
    )


@settings(max_examples=50, derandomize=True, deadline=None)
@given(EMPTY_OR_PN_PREFIX.filter(lambda p: p not in PREFIXES))
def test_an_undeclared_prefix_is_named_wherever_it_is(prefix: str) -> None:
    with pytest.raises(QuerySyntaxError) as info:
        decide(_uses(prefix))
    assert type(info.value) is QuerySyntaxError  # decided: no engine is asked again
    message = str(info.value)
    assert message.endswith(
        f"the prefix '{prefix}:' is not declared; add PREFIX {prefix}: <...> "
        f"(pre-declared: {DECLARED})"
    )
    if prefix.isascii():  # the tokens read ASCII names; others are named without a place
        assert (info.value.line, info.value.column) == (3, 8)
        assert message.startswith("SPARQL syntax error at line 3, column 8: ")
    # only in a string, an IRI or a comment, it is no prefixed name
    decide(_uses(prefix).replace(f"{prefix}:name", "<http://e/name>"))


@settings(max_examples=50, derandomize=True, deadline=None)
@given(st.one_of(EMPTY_OR_PN_PREFIX, st.sampled_from(sorted(PREFIXES))))
def test_a_declared_prefix_is_no_error(prefix: str) -> None:
    declared = f"PREFIX {prefix}: <http://e/>\n{_uses(prefix)}"
    assert decide(declared).form == "select"
    if prefix in PREFIXES:  # pre-declared by the project
        assert decide(_uses(prefix)).form == "select"


@pytest.mark.parametrize("backend", ["oxigraph", "memory"])
def test_a_backend_given_text_refuses_deep_nesting_as_the_facade_does(backend: str) -> None:
    """Backend.query admits a text as KnowledgeGraph.sparql does: the nesting is counted
    before any parser reads it (admit), whichever door the text comes in by."""
    from khalis_kg import KnowledgeGraph

    text = "SELECT * WHERE " + "{" * 300 + " ?s ?p ?o " + "}" * 300
    expected = (
        "the query nests brackets more than 256 deep (line 1, column 272); refused before parsing"
    )
    with KnowledgeGraph.load([], backend=backend) as kg:
        for door in (kg.sparql, kg.backend.query):
            with pytest.raises(QuerySyntaxError) as info:
                door(text)
            assert str(info.value) == expected


REFUSAL_SEEDS = (
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }",
    "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }",
    "INSERT DATA { <http://e/x> <http://e/p> 1 }",
    "SELECT (<bif:http_get>('x') AS ?x) WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ex:p ?o }",
    "SELECT * WHERE { ?a ?b 'it''s' . ?s ?p ?o }",
    "ASK { ?s ?p ?o }",
)


@settings(max_examples=150, derandomize=True, deadline=None, database=None)
@given(seed=st.sampled_from(REFUSAL_SEEDS), at=st.integers(0, 80), insert=st.text(max_size=3))
def test_a_decision_made_again_is_the_same(seed: str, at: int, insert: str) -> None:
    """The second decision of a text (the kept facts or the kept refusal) equals the first:
    the same class, message, line and column, or the same admitted query; a refusal is a
    new exception each time, whose traceback is its own."""
    text = seed[:at] + insert + seed[at:]
    made: list[QueryError] = []

    def outcome() -> tuple[object, ...]:
        try:
            q = decide(text, None, {"http://example.org/g"})
        except QueryError as exc:
            made.append(exc)
            return (type(exc), str(exc), getattr(exc, "line", None), getattr(exc, "column", None))
        return (q, q.text, q.form, q.ordered)

    assert outcome() == outcome()
    if made:
        first, second = made
        assert first is not second
        assert traceback.format_exception(first)[1:] == traceback.format_exception(second)[1:]
        kept = _analysed(expand_escapes(text), None, tuple(sorted(PREFIXES.items())))
        if isinstance(kept, QueryError):  # (a FROM refusal is decided after the facts)
            assert kept.__traceback__ is None  # the cache holds no frame of the parse
            assert kept.__context__ is None or not kept.__suppress_context__

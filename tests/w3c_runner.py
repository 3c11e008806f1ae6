"""Read the W3C SPARQL 1.1 test manifests and run their tests on an engine.

Used by ``tests/test_w3c.py``. The suite is vendored under ``tests/w3c/sparql11``; its
manifests are read with pyoxigraph, with each directory at its published address
(``http://www.w3.org/2009/sparql/docs/tests/data-sparql11/<dir>/``) so that the graph
names and relative IRIs are the ones the expected results use.

Engines
-------
``oxigraph-raw`` and ``rdflib-raw`` are the controls: the bare engines, no khalis-kg
code at all. ``oxigraph`` and ``memory`` are the project: :class:`KnowledgeGraph`
with that backend, the query run by :meth:`KnowledgeGraph.sparql` with the query
file's IRI as ``base``.

Comparison is exact: IRIs, blank-node structure (a bijection of labels), literals'
lexical forms, datatypes and language tags (``xsd:string`` is the same as a simple
literal, as in RDF 1.1). Rows are compared as multisets, graphs as isomorphic graphs.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

HERE = Path(__file__).parent / "w3c"
SUITE = HERE / "sparql11"
PUBLISHED = "http://www.w3.org/2009/sparql/docs/tests/data-sparql11/"
DEVIATIONS = HERE / "known_deviations.txt"

QUERY_DIRS = (
    "aggregates",
    "bind",
    "bindings",
    "cast",
    "construct",
    "csv-tsv-res",
    "exists",
    "functions",
    "grouping",
    "json-res",
    "negation",
    "project-expression",
    "property-path",
    "subquery",
    "syntax-query",
)
ENGINES = ("oxigraph-raw", "oxigraph", "rdflib-raw", "memory")
CONTROL = {"oxigraph": "oxigraph-raw", "memory": "rdflib-raw"}
"""Each project backend and the raw engine it is measured against."""

MF = "http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#"
QT = "http://www.w3.org/2001/sw/DataAccess/tests/test-query#"
DAWGT = "http://www.w3.org/2001/sw/DataAccess/tests/test-dawg#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RS = "http://www.w3.org/2001/sw/DataAccess/tests/result-set#"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
LANG_STRING = RDF + "langString"

# A neutral term: ("uri", iri) | ("bnode", label) | ("literal", lexical, datatype, lang)
T = tuple[str, ...]


def iri_to_path(iri: str) -> Path:
    assert iri.startswith(PUBLISHED), iri
    return SUITE / iri[len(PUBLISHED) :]


def path_to_iri(path: Path) -> str:
    return PUBLISHED + path.relative_to(SUITE).as_posix()


# ----------------------------------------------------------------------- manifests


@dataclass(frozen=True)
class W3CTest:
    id: str
    """``directory/name``."""
    kind: str
    """``eval``, ``csv``, ``syntax+``, ``syntax-``."""
    name: str
    query: Path
    data: tuple[Path, ...] = ()
    graph_data: tuple[tuple[str, Path], ...] = ()
    result: Path | None = None
    approval: str = ""

    @property
    def query_iri(self) -> str:
        return path_to_iri(self.query)


def _one(store: ox.Store, s: Any, p: str) -> Any:
    for q in store.quads_for_pattern(s, ox.NamedNode(p), None):
        return q.object
    return None


def _all(store: ox.Store, s: Any, p: str) -> list[Any]:
    return [q.object for q in store.quads_for_pattern(s, ox.NamedNode(p), None)]


def _list(store: ox.Store, head: Any) -> Iterator[Any]:
    nil = ox.NamedNode(RDF + "nil")
    while head is not None and head != nil:
        yield _one(store, head, RDF + "first")
        head = _one(store, head, RDF + "rest")


def read_manifest(directory: str) -> tuple[ox.Store, list[Any]]:
    path = SUITE / directory / "manifest.ttl"
    store = ox.Store()
    store.load(path.read_bytes(), ox.RdfFormat.TURTLE, base_iri=path_to_iri(path))
    manifest = ox.NamedNode(path_to_iri(path))
    entries = list(_list(store, _one(store, manifest, MF + "entries")))
    return store, entries


def load_tests(directory: str) -> list[W3CTest]:
    store, entries = read_manifest(directory)
    kinds = {
        MF + "QueryEvaluationTest": "eval",
        MF + "CSVResultFormatTest": "csv",
        MF + "PositiveSyntaxTest11": "syntax+",
        MF + "NegativeSyntaxTest11": "syntax-",
    }
    tests: list[W3CTest] = []
    for entry in entries:
        types = {t.value for t in _all(store, entry, RDF + "type")}
        kind = next((kinds[t] for t in types if t in kinds), None)
        if kind is None:
            raise ValueError(f"{entry}: unknown test type {types}")
        name = str(_one(store, entry, MF + "name").value)
        local = entry.value.rsplit("#", 1)[-1]
        approval = _one(store, entry, DAWGT + "approval")
        action = _one(store, entry, MF + "action")
        result = _one(store, entry, MF + "result")
        common = {
            "id": f"{directory}/{local}",
            "kind": kind,
            "name": name,
            "approval": approval.value.rsplit("#", 1)[-1] if approval else "",
            "result": iri_to_path(result.value) if result is not None else None,
        }
        if kind.startswith("syntax"):
            tests.append(W3CTest(query=iri_to_path(action.value), **common))
            continue
        graph_data = []
        for g in _all(store, action, QT + "graphData"):
            if isinstance(g, ox.NamedNode):
                graph_data.append((g.value, iri_to_path(g.value)))
            else:  # [ ut:graph <file> ; rdfs:label "name" ] (not used by the query tests)
                raise ValueError(f"{entry}: unsupported graphData form")
        tests.append(
            W3CTest(
                query=iri_to_path(_one(store, action, QT + "query").value),
                data=tuple(iri_to_path(d.value) for d in _all(store, action, QT + "data")),
                graph_data=tuple(sorted(graph_data)),
                **common,
            )
        )
    return tests


def all_tests() -> list[W3CTest]:
    return [t for d in QUERY_DIRS for t in load_tests(d)]


# ----------------------------------------------------------------------- deviations


def read_deviations(path: Path = DEVIATIONS) -> dict[tuple[str, str], str]:
    """``(engine, test id) -> reason`` from the known-deviations file.

    One deviation a line: ``ENGINE TEST-ID REASON...``; ``#`` starts a comment. An
    engine of ``*`` stands for all four engines."""
    out: dict[tuple[str, str], str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split(None, 2)
        if len(parts) < 3:
            raise ValueError(f"{path.name}:{number}: expected ENGINE TEST-ID REASON")
        engine, test_id, reason = parts
        for e in ENGINES if engine == "*" else (engine,):
            if e not in ENGINES and not e.startswith("protocol"):
                raise ValueError(f"{path.name}:{number}: unknown engine {e!r}")
            if (e, test_id) in out:
                raise ValueError(f"{path.name}:{number}: {e} {test_id} listed twice")
            out[(e, test_id)] = reason
    return out


# ----------------------------------------------------------------------- answers


@dataclass
class Answer:
    form: str  # "select", "ask", "graph", "csv", "parsed", "error"
    variables: list[str] = field(default_factory=list)
    rows: list[dict[str, T]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[T, T, T]] = field(default_factory=list)
    csv_rows: list[list[str]] = field(default_factory=list)
    error: str = ""


def lit(value: str, datatype: str | None, lang: str | None) -> T:
    if lang:
        return ("literal", value, "", lang)
    if datatype in (None, XSD_STRING, LANG_STRING):
        return ("literal", value, "", "")
    return ("literal", value, datatype, "")


def from_ox(term: Any) -> T:
    if isinstance(term, ox.NamedNode):
        return ("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return ("bnode", term.value)
    if isinstance(term, ox.Literal):
        return lit(term.value, term.datatype.value, term.language)
    raise TypeError(f"unexpected term {term!r}")


def from_rdflib(term: Any) -> T:
    from rdflib import BNode, Literal, URIRef

    if isinstance(term, URIRef):
        return ("uri", str(term))
    if isinstance(term, BNode):
        return ("bnode", str(term))
    if isinstance(term, Literal):
        return lit(str(term), None if term.datatype is None else str(term.datatype), term.language)
    raise TypeError(f"unexpected term {term!r}")


def from_kg(term: Any) -> T:
    if term.type == "literal":
        return lit(term.value, term.datatype, term.lang)
    return (term.type, term.value)


def _ox_answer(answer: Any) -> Answer:
    if isinstance(answer, ox.QueryBoolean):
        return Answer("ask", boolean=bool(answer))
    if isinstance(answer, ox.QuerySolutions):
        variables = [v.value for v in answer.variables]
        rows = [{v: from_ox(s[v]) for v in variables if s[v] is not None} for s in answer]
        return Answer("select", variables=variables, rows=rows)
    return Answer("graph", triples=[(from_ox(t[0]), from_ox(t[1]), from_ox(t[2])) for t in answer])


def expected_answer(test: W3CTest) -> Answer:
    assert test.result is not None
    path = test.result
    suffix = path.suffix
    if suffix in (".srx", ".srj", ".tsv"):
        fmt = {
            ".srx": ox.QueryResultsFormat.XML,
            ".srj": ox.QueryResultsFormat.JSON,
            ".tsv": ox.QueryResultsFormat.TSV,
        }[suffix]
        return _ox_answer(ox.parse_query_results(path.read_bytes(), fmt))
    if suffix == ".csv":
        return Answer("csv", csv_rows=_csv_rows(path.read_text(encoding="utf-8")))
    fmt = ox.RdfFormat.TURTLE if suffix == ".ttl" else ox.RdfFormat.RDF_XML
    quads = list(ox.parse(path.read_bytes(), fmt, base_iri=path_to_iri(path)))
    triples = [(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)) for q in quads]
    if any(t[1] == ("uri", RDF + "type") and t[2] == ("uri", RS + "ResultSet") for t in triples):
        return _result_set(triples)
    return Answer("graph", triples=triples)


def _result_set(triples: list[tuple[T, T, T]]) -> Answer:
    """The DAWG result-set vocabulary (``rs:ResultSet``) as an answer."""
    by_subject: dict[T, list[tuple[T, T]]] = {}
    for s, p, o in triples:
        by_subject.setdefault(s, []).append((p, o))

    def objects(s: T, p: str) -> list[T]:
        return [o for pp, o in by_subject.get(s, []) if pp == ("uri", RS + p)]

    rs = next(s for s, p, o in triples if o == ("uri", RS + "ResultSet"))
    booleans = objects(rs, "boolean")
    if booleans:
        return Answer("ask", boolean=booleans[0][1] == "true")
    variables = [o[1] for o in objects(rs, "resultVariable")]
    rows = []
    for solution in objects(rs, "solution"):
        row = {}
        for binding in objects(solution, "binding"):
            row[objects(binding, "variable")[0][1]] = objects(binding, "value")[0]
        rows.append(row)
    return Answer("select", variables=variables, rows=rows)


def _csv_rows(text: str) -> list[list[str]]:
    return [row for row in csv.reader(io.StringIO(text, newline=""))]


# ----------------------------------------------------------------------- engines


def _from_clauses(text: str, base: str) -> set[str]:
    """Graph IRIs named by FROM / FROM NAMED (the harness holds them: nothing is fetched)."""
    from khalis_kg.safety import resolve_iri

    return {
        resolve_iri(m.group(1), base)
        for m in re.finditer(r"(?i)\bFROM\s+(?:NAMED\s+)?<([^>]*)>", text)
    }


def dataset_of(test: W3CTest, text: str) -> tuple[list[Path], list[tuple[str, Path]]]:
    """The default-graph files and the named graphs (IRI, file) of ``test``: its
    ``qt:data`` and ``qt:graphData``, and the test files its FROM clauses name."""
    named = dict(test.graph_data)
    for iri in _from_clauses(text, test.query_iri):
        if iri.startswith(PUBLISHED) and iri_to_path(iri).is_file():
            named.setdefault(iri, iri_to_path(iri))
    return list(test.data), sorted(named.items())


def _rdf_format(path: Path) -> ox.RdfFormat:
    return {
        ".ttl": ox.RdfFormat.TURTLE,
        ".nt": ox.RdfFormat.N_TRIPLES,
        ".rdf": ox.RdfFormat.RDF_XML,
    }[path.suffix]


def run(engine: str, test: W3CTest) -> Answer:
    """Run ``test`` on ``engine``; a refusal or failure is an ``error`` answer."""
    text = test.query.read_text(encoding="utf-8")
    if engine == "oxigraph-raw":
        return _run_oxigraph_raw(test, text)
    if engine == "rdflib-raw":
        return _run_rdflib_raw(test, text)
    return _run_project(engine, test, text)


def _run_oxigraph_raw(test: W3CTest, text: str) -> Answer:
    if test.kind.startswith("syntax"):
        try:
            ox.Store().query(text, base_iri=test.query_iri)
        except SyntaxError as exc:
            return Answer("error", error=str(exc))
        except (OSError, RuntimeError):
            pass  # parsed, then failed to run (an unknown function): the syntax is fine
        return Answer("parsed")
    store = ox.Store()
    data, named = dataset_of(test, text)
    for path in data:
        store.load(path.read_bytes(), _rdf_format(path), base_iri=path_to_iri(path))
    for iri, path in named:
        store.load(
            path.read_bytes(),
            _rdf_format(path),
            base_iri=path_to_iri(path),
            to_graph=ox.NamedNode(iri),
        )
    try:
        answer = store.query(text, base_iri=test.query_iri)
        if test.kind == "csv":
            assert isinstance(answer, ox.QuerySolutions)
            body = answer.serialize(format=ox.QueryResultsFormat.CSV)
            assert body is not None
            return Answer("csv", csv_rows=_csv_rows(body.decode("utf-8")))
        return _ox_answer(answer)
    except (SyntaxError, OSError, ValueError, RuntimeError) as exc:
        return Answer("error", error=f"{type(exc).__name__}: {exc}")


def _run_rdflib_raw(test: W3CTest, text: str) -> Answer:
    import pyparsing
    from rdflib import Dataset, URIRef
    from rdflib.plugins.sparql import prepareQuery

    if test.kind.startswith("syntax"):
        try:
            prepareQuery(text, base=test.query_iri)
        except (pyparsing.ParseBaseException, ValueError, KeyError, TypeError) as exc:
            return Answer("error", error=f"{type(exc).__name__}: {exc}")
        return Answer("parsed")
    dataset = Dataset()
    formats = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml"}
    data, named = dataset_of(test, text)
    for path in data:
        dataset.parse(
            data=path.read_bytes(), format=formats[path.suffix], publicID=path_to_iri(path)
        )
    for iri, path in named:
        dataset.graph(URIRef(iri)).parse(
            data=path.read_bytes(), format=formats[path.suffix], publicID=path_to_iri(path)
        )
    try:
        result = dataset.query(text, base=test.query_iri)
        if test.kind == "csv":
            return Answer("csv", csv_rows=_csv_rows(result.serialize(format="csv").decode("utf-8")))
        if result.type == "ASK":
            return Answer("ask", boolean=bool(result.askAnswer))
        if result.type == "SELECT":
            variables = [str(v) for v in result.vars or []]
            rows = [
                {v: from_rdflib(x) for v, x in zip(variables, row, strict=True) if x is not None}
                for row in result
            ]
            return Answer("select", variables=variables, rows=rows)
        assert result.graph is not None
        return Answer(
            "graph",
            triples=[(from_rdflib(s), from_rdflib(p), from_rdflib(o)) for s, p, o in result.graph],
        )
    except Exception as exc:
        # The control is the bare engine, which fails in its own ways (rdflib raises bare
        # Exception, AttributeError...): whatever it raises is recorded as its answer.
        return Answer("error", error=f"{type(exc).__name__}: {exc}")


FORMATS = {".ttl": "turtle", ".nt": "nt", ".rdf": "xml"}


def _run_project(engine: str, test: W3CTest, text: str) -> Answer:
    from khalis_kg import KnowledgeGraph
    from khalis_kg.backends import create_backend
    from khalis_kg.errors import KhalisError, QuerySyntaxError
    from khalis_kg.rdfio import Source

    data, named = dataset_of(test, text)
    try:
        # As KnowledgeGraph.load(data, named_graphs=...), but with the files' published
        # IRIs as their base (load would give them their file: URLs).
        sources = [Source(p.name, p.read_bytes(), FORMATS[p.suffix], path_to_iri(p)) for p in data]
        sources += [
            Source(p.name, p.read_bytes(), FORMATS[p.suffix], path_to_iri(p)).into_graph(iri)
            for iri, p in named
        ]
        backend = create_backend(engine)
        backend.load(sources)
        kg = KnowledgeGraph(backend, sources=sources)
        result = kg.sparql(text, base=test.query_iri, max_rows=None)
        if test.kind.startswith("syntax"):
            return Answer("parsed")
        if test.kind == "csv":
            body, _ = result.serialize("csv")
            return Answer("csv", csv_rows=_csv_rows(body.decode("utf-8")))
        if result.form == "ask":
            return Answer("ask", boolean=bool(result.boolean))
        if result.form == "select":
            rows = [{k: from_kg(v) for k, v in row.items()} for row in result.rows]
            return Answer("select", variables=list(result.variables), rows=rows)
        return Answer(
            "graph", triples=[(from_kg(s), from_kg(p), from_kg(o)) for s, p, o in result.triples]
        )
    except QuerySyntaxError as exc:
        return Answer("error", error=f"{type(exc).__name__}: {exc}")
    except KhalisError as exc:
        if test.kind.startswith("syntax"):
            # Not a syntax error: refused (a FROM naming a graph not held) or failed to
            # run (an unknown function). The syntax tests ask only about the syntax.
            return Answer("parsed")
        return Answer("error", error=f"{type(exc).__name__}: {exc}")


# ----------------------------------------------------------------------- comparison


def _bnodes(rows: Iterable[Iterable[T]]) -> set[str]:
    return {t[1] for row in rows for t in row if t[0] == "bnode"}


def _match_rows(got: Sequence[tuple[T, ...]], expected: Sequence[tuple[T, ...]]) -> bool:
    """Whether the multisets of rows are equal up to a bijection of blank-node labels."""
    if len(got) != len(expected):
        return False
    plain_got = Counter(r for r in got if not any(t[0] == "bnode" for t in r))
    plain_exp = Counter(r for r in expected if not any(t[0] == "bnode" for t in r))
    if plain_got != plain_exp:
        return False
    rest_got = [r for r in got if any(t[0] == "bnode" for t in r)]
    rest_exp = [r for r in expected if any(t[0] == "bnode" for t in r)]
    if len(rest_got) != len(rest_exp):
        return False

    def shape(row: tuple[T, ...]) -> tuple[Any, ...]:
        return tuple(("bnode",) if t[0] == "bnode" else t for t in row)

    if Counter(map(shape, rest_got)) != Counter(map(shape, rest_exp)):
        return False

    def search(i: int, used: list[bool], fwd: dict[str, str], back: dict[str, str]) -> bool:
        if i == len(rest_got):
            return True
        row = rest_got[i]
        for j, cand in enumerate(rest_exp):
            if used[j] or shape(cand) != shape(row):
                continue
            new_f, new_b, ok = dict(fwd), dict(back), True
            for a, b in zip(row, cand, strict=True):
                if a[0] != "bnode":
                    continue
                if new_f.setdefault(a[1], b[1]) != b[1] or new_b.setdefault(b[1], a[1]) != a[1]:
                    ok = False
                    break
            if ok:
                used[j] = True
                if search(i + 1, used, new_f, new_b):
                    return True
                used[j] = False
        return False

    return search(0, [False] * len(rest_exp), {}, {})


def _graph_key(triples: Iterable[tuple[T, T, T]]) -> set[tuple[T, ...]]:
    """The triples with RDFC-1.0 canonical blank-node labels (isomorphic ⇔ equal)."""

    def to_ox(t: T) -> Any:
        if t[0] == "uri":
            return ox.NamedNode(t[1])
        if t[0] == "bnode":
            return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", t[1]) or "b")
        if t[3]:
            return ox.Literal(t[1], language=t[3])
        return ox.Literal(t[1], datatype=ox.NamedNode(t[2] or XSD_STRING))

    dataset = ox.Dataset(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in triples)
    dataset.canonicalize(ox.CanonicalizationAlgorithm.RDFC_1_0)
    return {(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object)) for q in dataset}


def compare(got: Answer, expected: Answer, test: W3CTest) -> str | None:
    """``None`` when ``got`` is the expected answer, else what differs (short)."""
    if test.kind == "syntax+":
        return None if got.form == "parsed" else f"refused: {got.error[:300]}"
    if test.kind == "syntax-":
        return None if got.form == "error" else "accepted an invalid query"
    if got.form == "error":
        return f"error: {got.error[:300]}"
    if expected.form == "csv":
        if got.form != "csv" or not got.csv_rows or got.csv_rows[0] != expected.csv_rows[0]:
            return f"CSV header differs: {got.csv_rows[:1]} != {expected.csv_rows[:1]}"
        g_rows, e_rows = (
            [
                tuple(("bnode", c[2:]) if c.startswith("_:") else ("v", c) for c in r)
                for r in rows[1:]
            ]
            for rows in (got.csv_rows, expected.csv_rows)
        )
        if _match_rows(g_rows, e_rows):
            return None
        return f"CSV rows differ: {got.csv_rows} != {expected.csv_rows}"
    if got.form != expected.form:
        return f"a {got.form} answer where {expected.form} was expected"
    if expected.form == "ask":
        return None if got.boolean == expected.boolean else f"{got.boolean} != {expected.boolean}"
    if expected.form == "graph":
        g, e = _graph_key(got.triples), _graph_key(expected.triples)
        if g == e:
            return None
        return f"graphs differ: extra {sorted(g - e)[:3]}, missing {sorted(e - g)[:3]}"
    if set(got.variables) != set(expected.variables):
        return f"variables {sorted(got.variables)} != {sorted(expected.variables)}"
    order = sorted(expected.variables)
    none: T = ("unbound",)
    g_rows = [tuple(r.get(v, none) for v in order) for r in got.rows]
    e_rows = [tuple(r.get(v, none) for v in order) for r in expected.rows]
    if _match_rows(g_rows, e_rows):
        return None
    extra = Counter(g_rows) - Counter(e_rows)
    missing = Counter(e_rows) - Counter(g_rows)
    return (
        f"rows differ ({len(g_rows)} vs {len(e_rows)}): "
        f"extra {list(extra)[:2]}, missing {list(missing)[:2]}"
    )


def outcome(engine: str, test: W3CTest) -> str | None:
    """``None`` when ``test`` passes on ``engine``, else why not."""
    got = run(engine, test)
    expected = Answer("parsed") if test.kind.startswith("syntax") else expected_answer(test)
    return compare(got, expected, test)


# ----------------------------------------------------------------------- protocol

HT = "http://www.w3.org/2011/http#"
CNT = "http://www.w3.org/2011/content#"
UT = "http://www.w3.org/2009/sparql/tests/test-update#"
PROTOCOL_DATA = "http://kasei.us/2009/09/sparql/data/"
EMPTY_GRAPHS = (PROTOCOL_DATA + "data0.rdf",)
"""Graphs the protocol tests name without giving a file: served empty."""


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    body: bytes | None
    expected_status: tuple[str, ...]
    """``2xx``, ``3xx``, ``4xx``..."""
    expected_format: str | None
    expected_boolean: bool | None


@dataclass(frozen=True)
class ProtocolTest:
    id: str
    name: str
    requests: tuple[HttpRequest, ...]
    graph_data: tuple[tuple[str, Path], ...]


def protocol_tests() -> list[ProtocolTest]:
    """The protocol manifest's query tests (``query_*``, ``bad_query_*`` and
    ``bad_multiple_queries``); the update tests do not apply to a read-only endpoint."""
    store, entries = read_manifest("protocol")
    tests = []
    for entry in entries:
        local = entry.value.rsplit("#", 1)[-1]
        if not local.startswith(("query_", "bad_")) or "update" in local:
            continue
        graph_data = []
        for g in _all(store, entry, UT + "graphData"):
            graph_data.append(
                (
                    str(_one(store, g, RDFS + "label").value),
                    iri_to_path(_one(store, g, UT + "graph").value),
                )
            )
        action = _one(store, entry, MF + "action")
        requests = []
        for req in _list(store, _one(store, action, HT + "requests")):
            headers = tuple(
                (
                    str(_one(store, h, HT + "fieldName").value),
                    str(_one(store, h, HT + "fieldValue").value),
                )
                for h in _list(store, _one(store, req, HT + "headers"))
            )
            body_node = _one(store, req, HT + "body")
            body = None
            if body_node is not None:
                encoding = _one(store, body_node, CNT + "characterEncoding")
                chars = str(_one(store, body_node, CNT + "chars").value)
                body = chars.encode(encoding.value if encoding is not None else "utf-8")
            resp = _one(store, req, HT + "resp")
            boolean = _one(store, resp, MF + "expectedBoolean")
            fmt = _one(store, resp, MF + "expectedFormat")
            requests.append(
                HttpRequest(
                    method=str(_one(store, req, HT + "methodName").value),
                    path=str(_one(store, req, HT + "absolutePath").value),
                    headers=headers,
                    body=body,
                    expected_status=tuple(
                        sorted(
                            s.value.rsplit("StatusCode", 1)[-1]
                            for s in _all(store, resp, MF + "expectedStatus")
                        )
                    ),
                    expected_format=None if fmt is None else str(fmt.value),
                    expected_boolean=None if boolean is None else boolean.value == "true",
                )
            )
        tests.append(
            ProtocolTest(
                f"protocol/{local}",
                str(_one(store, entry, MF + "name").value),
                tuple(requests),
                tuple(sorted(graph_data)),
            )
        )
    return tests


def protocol_graphs() -> dict[str, Path | None]:
    """Every graph the protocol tests name: its file, or None (served empty)."""
    graphs: dict[str, Path | None] = dict.fromkeys(EMPTY_GRAPHS)
    for test in protocol_tests():
        for iri, path in test.graph_data:
            graphs[iri] = path
    return graphs


RESULTS_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "text/csv": ox.QueryResultsFormat.CSV,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
}
RDF_TYPES = {
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/n-quads",
    "application/trig",
}


def run_protocol(test: ProtocolTest, endpoint: str) -> str | None:
    """Send the test's requests to ``endpoint`` (its ``/sparql/`` prefix replaced);
    ``None`` when every response is as the manifest expects, else what differed."""
    import httpx

    from khalis_kg.http_session import tls_context

    with httpx.Client(timeout=30.0, verify=tls_context()) as client:
        for req in test.requests:
            assert req.path.startswith("/sparql/"), req.path
            url = endpoint + req.path[len("/sparql/") :]  # "" or "?..."
            response = client.request(req.method, url, headers=list(req.headers), content=req.body)
            status = f"{response.status_code // 100}xx"
            if status not in req.expected_status:
                return (
                    f"{req.method} answered {response.status_code} "
                    f"(expected {'/'.join(req.expected_status)}): {response.text[:200]!r}"
                )
            media = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if req.expected_format in ("boolean", "tabular") and media not in RESULTS_TYPES:
                return f"{req.expected_format} results expected, got {media or 'no content type'}"
            if req.expected_format == "RDF" and media not in RDF_TYPES:
                return f"RDF expected, got {media or 'no content type'}"
            if req.expected_boolean is not None:
                answer = ox.parse_query_results(response.content, RESULTS_TYPES[media])
                if not isinstance(answer, ox.QueryBoolean) or bool(answer) != req.expected_boolean:
                    return f"expected {req.expected_boolean}, got {response.text[:200]!r}"
    return None


# ----------------------------------------------------------------------- report


def conformance_table() -> str:
    """The pass counts per directory and engine, as the Markdown table of
    docs/conformance.md (computed from the manifests and the deviations file, which
    test_w3c holds every engine to)."""
    deviations = read_deviations()
    tests = all_tests()
    header = "| directory | tests | oxigraph-raw | oxigraph | rdflib-raw | memory |"
    lines = [header, "|---|---:|---:|---:|---:|---:|"]
    totals = Counter[str]()
    for directory in QUERY_DIRS:
        ids = [t.id for t in tests if t.id.split("/")[0] == directory]
        row = [directory, str(len(ids))]
        totals["tests"] += len(ids)
        for engine in ENGINES:
            passed = sum(1 for i in ids if (engine, i) not in deviations)
            totals[engine] += passed
            row.append(str(passed))
        lines.append("| " + " | ".join(row) + " |")
    lines.append(
        "| **all** | **"
        + str(totals["tests"])
        + "** | "
        + " | ".join(f"**{totals[e]}**" for e in ENGINES)
        + " |"
    )
    protocol = protocol_tests()
    ours = sum(1 for t in protocol if ("protocol-khalis", t.id) not in deviations)
    oxigraph = sum(1 for t in protocol if ("protocol-oxigraph", t.id) not in deviations)
    lines += [
        "",
        "| protocol (query tests) | tests | khalis-kg serve | oxigraph serve |",
        "|---|---:|---:|---:|",
        f"| protocol | {len(protocol)} | {ours} | {oxigraph} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # python tests/w3c_runner.py: the tables of docs/conformance.md
    print(conformance_table(), end="")

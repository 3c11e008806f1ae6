"""The remote backend and the Graph Store loader against a real Oxigraph server.

The server is the ``oxigraph`` binary of the PyPI ``oxigraph`` package, started on a
free 127.0.0.1 port in a temporary directory, waited for (bounded) and killed at
teardown. Tests that need it are marked ``oxigraph_server``.
"""

from __future__ import annotations

import json
import re
import socket
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers import (
    EVENT,
    REPO,
    TEST_QUERIES,
    OxigraphServer,
    assert_isomorphic,
    free_port,
    invoke,
    running_oxigraph,
)
from rdflib import Graph

from khalis_kg import KnowledgeGraph
from khalis_kg.backends.remote import (
    RemoteBackend,
    bind_values,
    outer_group_offset,
    sparql_term,
)
from khalis_kg.catalogue import Catalogue
from khalis_kg.errors import (
    BackendError,
    InputError,
    ParameterError,
    QueryError,
    QuerySyntaxError,
    ReadOnlyError,
    RemoteAnswerError,
)
from khalis_kg.http_session import HttpSession, auth_headers
from khalis_kg.loader import graph_url, load_to_store
from khalis_kg.terms import Term

DATA = REPO / "data" / "khalis.ttl"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OxigraphServer]:
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph")) as srv:
        load_to_store(srv.store_url, [DATA], env={})
        yield srv


@dataclass
class Store:
    """A SPARQL store under test: its query and Graph Store URLs and the graph of it that
    holds the packaged data (None: its default graph)."""

    name: str
    query_url: str
    store_url: str
    graph: str | None

    def backend(self, timeout: float = 10.0, env: dict[str, str] | None = None) -> RemoteBackend:
        return RemoteBackend(
            self.query_url,
            store_url=self.store_url,
            timeout=timeout,
            env=env or {},
            graph=self.graph,
        )


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("oxigraph", marks=pytest.mark.oxigraph_server),
        pytest.param("virtuoso", marks=pytest.mark.virtuoso),
    ],
)
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The packaged data on Oxigraph server (its default graph), then on Virtuoso (a
    graph of its own, the remote backend scoped to it)."""
    if request.param == "oxigraph":
        srv: OxigraphServer = request.getfixturevalue("server")
        yield Store("oxigraph", srv.query_url, srv.store_url, None)
    else:
        from helpers import VIRTUOSO_DATA_GRAPH

        vt = request.getfixturevalue("virtuoso")
        yield Store("virtuoso", vt.query_url, vt.store_url, VIRTUOSO_DATA_GRAPH)


@pytest.fixture(scope="module")
def remote(store: Store) -> Iterator[KnowledgeGraph]:
    graph = KnowledgeGraph(store.backend())
    yield graph
    graph.close()


def _graph_of(nquads: bytes) -> Graph:
    """The default-graph triples of an N-Quads dump (every line here is a triple)."""
    return Graph().parse(data=nquads.decode("utf-8"), format="nt")


XSD_NS = "http://www.w3.org/2001/XMLSchema#"


def _as_stored(source: Path | Graph) -> Graph:
    """The graph with xsd:nonNegativeInteger literals (the span offsets, as the Web
    Annotation vocabulary types them) as xsd:integer: Oxigraph stores them so, Virtuoso
    does not, so both sides of a comparison are brought to the same form."""
    from rdflib import Literal, URIRef

    graph = Graph()
    parsed = source if isinstance(source, Graph) else Graph().parse(source, format="turtle")
    for s, p, o in parsed:
        if isinstance(o, Literal) and str(o.datatype) == XSD_NS + "nonNegativeInteger":
            o = Literal(str(o), datatype=URIRef(XSD_NS + "integer"))
        graph.add((s, p, o))
    return graph


# ------------------------------------------------------------------ Graph Store load
@pytest.mark.oxigraph_server
def test_load_twice_gives_the_same_store(tmp_path: Path) -> None:
    with running_oxigraph(tmp_path / "store") as srv:
        backend = srv.backend()
        first = load_to_store(srv.store_url, [DATA], env={})
        count1, dump1 = backend.triple_count(), backend.dump()
        second = load_to_store(srv.store_url, [DATA], env={})
        count2, dump2 = backend.triple_count(), backend.dump()
        backend.close()
    expected = len(Graph().parse(DATA, format="turtle"))
    assert first.triples == second.triples == count1 == count2 == expected
    assert first.url.endswith("/store?default")
    assert_isomorphic(_graph_of(dump1), _graph_of(dump2), "the second load")
    assert_isomorphic(_as_stored(_graph_of(dump1)), _as_stored(DATA), "the store")


@pytest.mark.oxigraph_server
def test_load_into_a_named_graph(server: OxigraphServer, tmp_path: Path) -> None:
    extra = tmp_path / "extra.ttl"
    extra.write_text("<http://example.org/a> <http://example.org/p> 1 .\n", encoding="utf-8")
    graph = "http://example.org/graph/extra"
    backend = server.backend()
    try:
        report = load_to_store(server.store_url, [extra], graph, env={})
        assert report.triples == 1
        assert graph in backend.graph_names()
        # FROM a held graph is accepted, and the default graph is untouched
        answer = backend.query(f"SELECT ?o FROM <{graph}> WHERE {{ ?s ?p ?o }}")
        assert [r["o"].value for r in answer.rows] == ["1"]
        assert backend.query("ASK { <http://example.org/a> ?p ?o }").boolean is False
    finally:
        httpx.delete(graph_url(server.store_url, graph), timeout=5)
        backend.close()


def test_loader_refuses_bad_input(tmp_path: Path) -> None:
    quads = tmp_path / "q.nq"
    quads.write_text("<http://e/a> <http://e/p> <http://e/o> <http://e/g> .\n", encoding="utf-8")
    with pytest.raises(InputError, match="named graph"):
        load_to_store("http://127.0.0.1:9/store", [quads], env={})
    broken = tmp_path / "broken.ttl"
    broken.write_text("<http://e/a> <http://e/p> .\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.ttl:1"):
        load_to_store("http://127.0.0.1:9/store", [broken], env={})
    with pytest.raises(InputError, match="graph IRI"):
        graph_url("http://127.0.0.1:9/store", "not an iri")


# ------------------------------------------------------------------------- queries
def test_remote_answers_like_oxigraph(remote: KnowledgeGraph, kg: KnowledgeGraph) -> None:
    assert len(remote) == len(kg) > 700
    text = "SELECT ?claim ?claimant WHERE { ?claim a kg:Claim ; kg:claimant ?claimant }"
    assert remote.sparql(text).rows == kg.sparql(text).rows
    assert remote.sparql("ASK { ?s a kg:Claim }").boolean is True
    assert remote.backend.graph_names() == frozenset()


def test_remote_graph_answers_have_canonical_blank_nodes(
    remote: KnowledgeGraph, kg: KnowledgeGraph
) -> None:
    """Blank nodes of a remote CONSTRUCT get the same RDFC-1.0 labels as locally."""
    # the offsets cast to xsd:integer: Oxigraph stores the data's xsd:nonNegativeInteger
    # so, Virtuoso keeps it
    text = (
        "CONSTRUCT { ?span kg:selector [ kg:start ?b ; kg:end ?e ] } WHERE { "
        "?span oa:hasSelector ?sel . ?sel oa:start ?start ; oa:end ?end . "
        "BIND (xsd:integer(?start) AS ?b) BIND (xsd:integer(?end) AS ?e) } ORDER BY ?b LIMIT 5"
    )
    local = kg.sparql(text).triples
    assert any(t.type == "bnode" for triple in local for t in triple)
    assert remote.sparql(text).triples == local


def test_parameters_are_values_not_text(store: Store, kg: KnowledgeGraph) -> None:
    # Facades of their own over the shared backends: the session `kg` keeps its catalogue.
    catalogue = Catalogue.load(TEST_QUERIES)
    remote = KnowledgeGraph(store.backend(), catalogue=catalogue)
    kg = KnowledgeGraph(kg.backend, sources=kg.sources, catalogue=catalogue)
    for graph in (remote, kg):
        rows = graph.query("events-on-day", day="2015-05-08").rows
        assert len(rows) == 2
        # a hostile string stays a literal: no rows, no error, nothing run
        hostile = 'en" ) } } ; DROP ALL ; SELECT * { ?s ?p ?o } #'
        assert graph.query("events-on-day", day="2015-05-08", lang=hostile).rows == []
    a = remote.query("event-quantities", minimum=20)
    b = kg.query("event-quantities", minimum=20)
    assert a.rows == b.rows
    assert len(a.rows) == 2
    assert remote.query("construct-event", event=EVENT).triples == (
        kg.query("construct-event", event=EVENT).triples
    )
    remote.close()


def test_sparql_term_escapes_and_validates() -> None:
    assert sparql_term("x", Term.literal('a"b\\c\nd')) == '"a\\"b\\\\c\\nd"'
    assert sparql_term("x", Term.literal("chat", lang="fr")) == '"chat"@fr'
    assert sparql_term("x", Term.iri("http://e/a")) == "<http://e/a>"
    for bad in ("http://e/a> } DROP ALL {<x", "relative", "http://e/a b"):
        with pytest.raises(ParameterError):
            sparql_term("x", Term("uri", bad))
    with pytest.raises(ParameterError):
        sparql_term("x", Term.bnode("b0"))
    with pytest.raises(ParameterError):
        sparql_term("x", Term("literal", "v", lang="en } DROP"))
    with pytest.raises(ParameterError):
        sparql_term("x", Term("literal", "v", datatype="http://e/> } <x"))
    with pytest.raises(ParameterError):
        bind_values("SELECT * {}", {"a b": Term.literal("x")})


def test_values_go_into_the_outer_group() -> None:
    text = (
        "# a { comment\nPREFIX ex: <http://e/{>\n"
        'SELECT ?x (EXISTS { ?x ?p "}" } AS ?e) WHERE { ?x ex:p "{" }'
    )
    x = {"x": Term.iri("http://e/a")}
    assert bind_values(text, x, substitute=False).endswith(
        'WHERE { VALUES (?x) { (<http://e/a>) }\n ?x ex:p "{" }'
    )
    # substituted inside the outer group only; the projection keeps the variable
    bound = bind_values(text + " ORDER BY ?x", x)
    assert bound.endswith(
        'WHERE { VALUES (?x) { (<http://e/a>) }\n <http://e/a> ex:p "{" } ORDER BY ?x'
    )
    assert bound.count("SELECT ?x (EXISTS { ?x ?p") == 1
    # where a constant cannot stand, the VALUES row alone binds the parameter
    for body in (
        "{ ?s ?p ?o BIND (?o AS ?x) }",
        "{ ?x ?p ?o FILTER (BOUND(?x)) }",
        "{ { SELECT ?x WHERE { ?x ?p ?o } } }",
        "{ ?x ?p ?o VALUES ?o { 1 } }",
    ):
        assert bind_values(f"SELECT * WHERE {body}", x) == (
            f"SELECT * WHERE {{ VALUES (?x) {{ (<http://e/a>) }}\n{body[1:]}"
        )
    construct = "CONSTRUCT { ?x ?p ?o } WHERE { ?x ?p ?o }"
    assert construct[outer_group_offset(construct) - 1 :].startswith("{ ?x ?p ?o }")
    assert outer_group_offset(construct) > construct.index("WHERE")
    ask = "ASK { ?x ?p ?o }"
    assert outer_group_offset(ask) == 5
    with pytest.raises(QueryError, match="short form"):
        bind_values("CONSTRUCT WHERE { ?x ?p ?o }", {"x": Term.iri("http://e/a")})
    with pytest.raises(QueryError, match="WHERE"):
        bind_values("DESCRIBE ?x", {"x": Term.iri("http://e/a")})


def test_remote_keeps_the_safety_rules(remote: KnowledgeGraph) -> None:
    with pytest.raises(ReadOnlyError):
        remote.sparql("DROP ALL")
    with pytest.raises(QueryError, match="SERVICE"):
        remote.sparql("SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
    with pytest.raises(QueryError, match="FROM"):
        remote.sparql("SELECT * FROM <http://example.org/elsewhere> { ?s ?p ?o }")
    with pytest.raises(QuerySyntaxError):
        remote.sparql("SELECT * { ?s ?p }")
    with pytest.raises(ReadOnlyError):
        RemoteBackend("http://127.0.0.1:9/query", env={}).load([])


# ---------------------------------------------------------------------- validation
def test_shacl_validation_on_the_remote_backend(remote: KnowledgeGraph) -> None:
    report = remote.validate()
    assert report.conforms, report.text
    assert_isomorphic(_as_stored(_graph_of(remote.backend.dump())), _as_stored(DATA), "dump")


def test_dump_without_graph_store_uses_select(store: Store) -> None:
    backend = RemoteBackend(store.query_url, env={}, graph=store.graph)
    try:
        dump = backend.dump()
    finally:
        backend.close()
    assert_isomorphic(_as_stored(_graph_of(dump)), _as_stored(DATA), "dump")


# -------------------------------------------------------------------------- failures
def test_endpoint_down_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}/query"
    backend = RemoteBackend(url, timeout=3.0, env={})
    started = time.monotonic()
    with pytest.raises(BackendError) as info:
        backend.query("ASK {}")
    assert time.monotonic() - started < 3.5
    assert url in str(info.value)
    assert str(info.value).startswith(f"{url}: cannot connect (")
    assert str(info.value).endswith("); is the endpoint up?")


def test_slow_endpoint_times_out() -> None:
    """A server that accepts the connection and never answers."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                accepted.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/query"
    try:
        backend = RemoteBackend(url, timeout=1.0, env={})
        started = time.monotonic()
        with pytest.raises(BackendError) as info:
            backend.query("ASK {}")
        elapsed = time.monotonic() - started
        assert elapsed < 3.0
        assert url in str(info.value)
        # silent, not down: connected, no answer
        assert str(info.value).startswith(f"{url}: connected, but no answer within 1 s (the ")
        # the query's own time limit is the tighter one when given
        started = time.monotonic()
        with pytest.raises(BackendError, match=r"0\.5 s"):
            KnowledgeGraph(backend).sparql("ASK {}", timeout=0.5)
        assert time.monotonic() - started < 2.0
    finally:
        stop.set()
        thread.join(timeout=2)
        for conn in accepted:
            conn.close()
        listener.close()


def test_sessions_share_one_verifying_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    """One CA bundle read per process, and still httpx's verification: certificates
    and host names checked, against certifi's bundle, whatever SSL_CERT_FILE says."""
    import ssl

    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    first, second = HttpSession(env={}), HttpSession(env={})
    try:
        # httpx keeps the context on its connection pool (private, but that is the wiring)
        contexts = [s.client._transport._pool._ssl_context for s in (first, second)]  # type: ignore[attr-defined]
    finally:
        first.client.close()
        second.client.close()
    assert contexts[0] is contexts[1]
    assert contexts[0].verify_mode == ssl.CERT_REQUIRED
    assert contexts[0].check_hostname is True
    assert contexts[0].cert_store_stats()["x509_ca"] > 100  # certifi's bundle


def test_credentials_come_from_the_environment() -> None:
    assert auth_headers({}) == {}
    assert auth_headers({"KHALIS_KG_TOKEN": "t0k"}) == {"Authorization": "Bearer t0k"}
    basic = auth_headers({"KHALIS_KG_USER": "ann", "KHALIS_KG_PASSWORD": "s3cret"})
    assert basic == {"Authorization": "Basic YW5uOnMzY3JldA=="}
    with pytest.raises(InputError, match="KHALIS_KG_PASSWORD"):
        auth_headers({"KHALIS_KG_USER": "ann"})
    with pytest.raises(InputError, match="credentials in an endpoint URL") as info:
        RemoteBackend("http://ann:s3cret@127.0.0.1:9/query", env={})
    assert "s3cret" not in str(info.value)
    with pytest.raises(InputError):
        RemoteBackend("file:///etc/passwd", env={})


@pytest.mark.oxigraph_server
def test_credentials_are_sent(server: OxigraphServer) -> None:
    """Oxigraph ignores Authorization; the header must still be on the request."""
    seen: list[str | None] = []

    def hook(request: httpx.Request) -> None:
        seen.append(request.headers.get("authorization"))

    backend = RemoteBackend(server.query_url, env={"KHALIS_KG_TOKEN": "t0k"})
    backend.http.client.event_hooks["request"] = [hook]
    try:
        assert backend.query("ASK { ?s ?p ?o }").boolean is True
    finally:
        backend.close()
    assert seen == ["Bearer t0k"]


POLL = 0.02
"""Seconds between a canned server's checks for shutdown (http.server's default is 0.5,
which every test using one would wait once)."""


@contextmanager
def canned_server(
    status: int, body: bytes, content_type: str, record: list[dict[str, str]] | None = None
) -> Iterator[str]:
    """A 127.0.0.1 HTTP server answering every request with one canned response; each
    request (method, path, content type, body) is appended to ``record`` when given."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            sent = self.rfile.read(length).decode("utf-8", "replace") if length else ""
            if record is not None:
                record.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "type": self.headers.get("Content-Type", ""),
                        "body": sent,
                    }
                )
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's names)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # shutdown() returns once serve_forever next checks for it: at most POLL seconds
    thread = threading.Thread(target=httpd.serve_forever, args=(POLL,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize(
    ("status", "body", "kind", "error", "match"),
    [
        (401, b"no", "text/plain", BackendError, "KHALIS_KG_TOKEN"),
        (500, b"engine exploded\nstack", "text/plain", BackendError, "HTTP 500: engine exploded"),
        (400, b"Parser error at 1:5", "text/plain", QuerySyntaxError, "Parser error"),
        (200, b"<html>not json</html>", "text/html", RemoteAnswerError, "not valid SPARQL JSON"),
    ],
)
def test_endpoint_errors_are_named(
    status: int, body: bytes, kind: str, error: type[Exception], match: str
) -> None:
    with canned_server(status, body, kind) as base:
        backend = RemoteBackend(base + "/sparql", timeout=5.0, env={})
        try:
            with pytest.raises(error, match=match):
                backend.query("SELECT * { ?s ?p ?o }")
        finally:
            backend.close()


def test_graph_store_refusal_is_named(tmp_path: Path) -> None:
    data = tmp_path / "a.ttl"
    data.write_text("<http://e/a> <http://e/p> 1 .\n", encoding="utf-8")
    with (
        canned_server(403, b"", "text/plain") as base,
        pytest.raises(BackendError, match="access refused"),
    ):
        load_to_store(base + "/store", [data], env={"KHALIS_KG_TOKEN": "t0k"})
    with (
        canned_server(415, b"unsupported", "text/plain") as base,
        pytest.raises(BackendError, match=r"refused the PUT \(HTTP 415\)"),
    ):
        load_to_store(base + "/store", [data], env={})


# ------------------------------------------------------------------ the command line
@pytest.mark.oxigraph_server
def test_cli_load_then_query_the_remote_store(tmp_path: Path) -> None:
    """`khalis-kg load` twice, then `--backend remote` answers as the local engine does."""

    with running_oxigraph(tmp_path / "store") as srv:
        for _ in range(2):  # idempotent
            done = invoke(["load", "--graph-store", srv.store_url])
            assert done.exit_code == 0, done.output
        count = srv.backend().query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
        local = KnowledgeGraph.load()
        assert int(count.rows[0]["n"].value) == len(local)
        remote_args = ["--backend", "remote", "--endpoint", srv.query_url]
        done = invoke([*remote_args, "query", "casualties", "--format", "json"])
        assert done.exit_code == 0, done.output
        expected = local.query("casualties").serialize("json")[0].decode("utf-8")
        assert done.output == expected
        # validate reads what the store holds (it used to validate the packaged files and
        # never ask the store): a store that does not answer cannot conform
        done = invoke([*remote_args, "validate", "--format", "json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["conforms"] is True


def test_cli_remote_endpoint_down_is_a_clear_error() -> None:

    url = f"http://127.0.0.1:{free_port()}/query"
    args = ["--backend", "remote", "--endpoint", url, "--remote-timeout", "2"]
    done = invoke([*args, "query", "casualties"])
    assert done.exit_code == 6  # the remote store failed
    assert url in done.output
    assert "Traceback" not in done.output


@pytest.mark.oxigraph_server
@pytest.mark.server
def test_serve_fronts_a_remote_store(tmp_path: Path) -> None:
    """`khalis-kg serve --backend remote` answers from the store as the local engine does."""
    from server_helpers import run_server

    with running_oxigraph(tmp_path / "store") as srv:
        load_to_store(srv.store_url, [DATA], env={})
        with run_server(
            "--backend", "remote", "--endpoint", srv.query_url, "--workers", "1"
        ) as base:
            got = httpx.get(
                base + "/queries/casualties",
                headers={"Accept": "application/sparql-results+json"},
                timeout=30.0,
            )
    assert got.status_code == 200, got.text
    expected = KnowledgeGraph.load(with_ontology=False).query("casualties").to_python()
    rows = [{k: v["value"] for k, v in row.items()} for row in got.json()["results"]["bindings"]]
    assert rows == [{k: str(v) for k, v in row.items() if v is not None} for row in expected]


def test_serve_remote_without_endpoint_is_a_usage_error() -> None:

    done = invoke(["serve", "--backend", "remote"])
    assert done.exit_code == 2
    assert done.stderr == (
        "khalis-kg: error: --backend remote needs --endpoint URL (or KHALIS_KG_ENDPOINT)\n"
    )


def test_remote_without_httpx_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:

    monkeypatch.setitem(sys.modules, "httpx", None)  # import httpx → ImportError
    url = f"http://127.0.0.1:{free_port()}"
    for args in (
        ["--backend", "remote", "--endpoint", url + "/query", "query", "casualties"],
        ["load", "--graph-store", url + "/store"],
    ):
        done = invoke(args)
        assert done.exit_code == 2, done.output
        assert "pip install 'khalis-kg[remote]'" in done.output
        assert "Traceback" not in done.output


# ------------------------------------------------------------------ request styles
@contextmanager
def recording_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A 127.0.0.1 server that records each request and answers ASK's ``true``."""
    seen: list[dict[str, str]] = []
    answer = b'{"head": {}, "boolean": true}'
    with canned_server(200, answer, "application/sparql-results+json", record=seen) as url:
        yield url, seen


GRAPH = "https://w3id.org/khalis-kg/graph"
SCOPE = (
    "default-graph-uri=https%3A%2F%2Fw3id.org%2Fkhalis-kg%2Fgraph"
    "&named-graph-uri=urn%3Ax-khalis-kg%3Ano-named-graphs"
)


@pytest.mark.parametrize(
    ("request_style", "graph", "expected"),
    [
        # form-encoded POST by default, which every store answers
        ("form", None, {"method": "POST", "path": "/sparql",
                        "type": "application/x-www-form-urlencoded",
                        "body": "query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D"}),
        ("form", GRAPH, {"method": "POST", "path": "/sparql",
                         "type": "application/x-www-form-urlencoded",
                         "body": "query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D&" + SCOPE}),
        ("get", GRAPH, {"method": "GET", "type": "", "body": "",
                        "path": "/sparql?query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D&" + SCOPE}),
        ("direct", GRAPH, {"method": "POST", "path": "/sparql?" + SCOPE,
                           "type": "application/sparql-query", "body": "ASK { ?s ?p ?o }"}),
    ],
)  # fmt: skip
def test_request_styles(request_style: str, graph: str | None, expected: dict[str, str]) -> None:
    with recording_server() as (base, seen):
        backend = RemoteBackend(base + "/sparql", env={}, graph=graph, request=request_style)
        try:
            assert backend.query("ASK { ?s ?p ?o }").boolean is True
        finally:
            backend.close()
    # Compared as decoded parameters, in order: a space is `+` or `%20` alike in a query
    # string (httpx 0.27 writes one, later releases the other).
    assert [_decoded(request) for request in seen] == [_decoded(expected)]


def _decoded(request: dict[str, str]) -> dict[str, object]:
    path, _, query = request["path"].partition("?")
    form = request["type"] == "application/x-www-form-urlencoded"
    body = urllib.parse.parse_qsl(request["body"], strict_parsing=True) if form else request["body"]
    return {**request, "path": (path, urllib.parse.parse_qsl(query)), "body": body}


def test_long_get_queries_go_as_forms() -> None:
    text = "ASK { ?s ?p ?o }" + " " * 3000
    with recording_server() as (base, seen):
        backend = RemoteBackend(base + "/sparql", env={}, request="get")
        try:
            assert backend.query(text).boolean is True
        finally:
            backend.close()
    assert [(r["method"], r["type"]) for r in seen] == [
        ("POST", "application/x-www-form-urlencoded")
    ]


def test_remote_options_are_checked() -> None:
    with pytest.raises(InputError, match="request style 'put'"):
        RemoteBackend("http://127.0.0.1:9/sparql", env={}, request="put")
    with pytest.raises(InputError, match="graph IRI"):
        RemoteBackend("http://127.0.0.1:9/sparql", env={}, graph="not an iri")

    done = invoke(["--remote-graph", GRAPH, "stats"])
    assert done.exit_code == 2
    assert done.stderr == "khalis-kg: error: --remote-graph: only with --backend remote\n"


# ------------------------------------------------------------------ Virtuoso, end to end
@pytest.mark.virtuoso
def test_direct_post_to_virtuoso_is_reported_as_silent(virtuoso: Any) -> None:
    """Virtuoso 7 accepts a direct POST and never answers it: the message says so."""
    from helpers import VIRTUOSO_DATA_GRAPH

    backend = RemoteBackend(
        virtuoso.query_url, env={}, graph=VIRTUOSO_DATA_GRAPH, request="direct", timeout=1.0
    )
    try:
        with pytest.raises(BackendError) as info:
            backend.query("ASK { ?s ?p ?o }")
    finally:
        backend.close()
    assert str(info.value).startswith(
        f"{virtuoso.query_url}: connected, but no answer within 1 s (the endpoint is silent"
    )


@pytest.mark.virtuoso
def test_cli_with_a_remote_graph_on_virtuoso(tmp_path: Path) -> None:
    """`--remote-graph G load`, then queries, stats and validate see that graph only
    (Virtuoso's default graph is the union of every graph it holds, its own included).
    On a Virtuoso of its own, as it writes: see conftest's ``virtuoso_as_loaded``."""
    from helpers import running_virtuoso

    with running_virtuoso(tmp_path) as virtuoso:
        graph = "https://w3id.org/khalis-kg/test/cli"
        scope = ["--remote-graph", graph]
        # In pieces of about 100 triples (a PUT, then POSTs), as for a large corpus.
        load = ["load", "--graph-store", virtuoso.store_url, "--chunk", "100"]
        done = invoke([*scope, "--without-ontology", *load])
        assert done.exit_code == 0, done.output
        local = KnowledgeGraph.load(with_ontology=False)
        assert done.output.startswith(f"loaded {len(local)} triples into <{graph}> at ")
        assert re.search(r", [0-9]+ requests\)\n$", done.output), done.output
        remote = ["--backend", "remote", "--endpoint", virtuoso.query_url, *scope]
        done = invoke([*remote, "query", "casualties", "--format", "json"])
        assert done.exit_code == 0, done.output
        assert done.output == local.query("casualties").serialize("json")[0].decode("utf-8")
        done = invoke([*remote, "stats", "--format", "json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.output) == json.loads(
            invoke(["--without-ontology", "stats", "--format", "json"]).output
        )
        done = invoke([*remote, "validate"])
        assert done.exit_code == 0, done.output
        # No blank node was split between two requests: every selector is whole.
        selectors = "SELECT (COUNT(*) AS ?n) { ?span oa:hasSelector ?s . ?s a ?t ; ?p ?o }"
        done = invoke([*remote, "sparql", selectors, "--format", "csv"])
        expected = local.sparql(selectors).serialize("csv")[0].decode("utf-8")
        assert done.output.splitlines() == expected.splitlines()
        # Unscoped, the store's default graph holds much more (Virtuoso's own graphs too).
        unscoped = RemoteBackend(virtuoso.query_url, env={})
        try:
            assert unscoped.triple_count() > 2 * len(local)
        finally:
            unscoped.close()


@pytest.mark.virtuoso
def test_virtuoso_restart_keeps_the_graph(tmp_path: Path) -> None:
    """``VirtuosoServer.restart`` (what bench/virtuoso_scale.py does after a large load, so
    that Virtuoso plans on fresh estimates: docs/scaling.md) keeps the loaded graph and
    answers again, on the same ports, with a new process; its own Virtuoso, not the
    session's."""
    from helpers import running_virtuoso

    graph = "https://w3id.org/khalis-kg/test/restart"
    local = KnowledgeGraph.load(with_ontology=False)
    with running_virtuoso(tmp_path) as server:
        load_to_store(server.store_url, [DATA], graph, env={}, chunk_triples=500)
        before = server.process.pid
        server.restart()
        assert server.process.pid != before
        assert server.process.poll() is None
        remote = KnowledgeGraph(server.backend(graph))
        assert len(remote) == len(local)
        assert remote.query("casualties").to_python() == local.query("casualties").to_python()
    assert server.process.poll() is not None, "stopped on exit"


@pytest.mark.virtuoso
@pytest.mark.server
def test_serve_fronts_virtuoso(virtuoso: Any) -> None:
    """`khalis-kg serve --backend remote --remote-graph G` in front of Virtuoso."""
    from helpers import VIRTUOSO_DATA_GRAPH
    from server_helpers import run_server

    with run_server(
        "--backend", "remote", "--endpoint", virtuoso.query_url,
        "--remote-graph", VIRTUOSO_DATA_GRAPH, "--workers", "1",
    ) as base:  # fmt: skip
        got = httpx.get(
            base + "/queries/casualties",
            headers={"Accept": "application/sparql-results+json"},
            timeout=30.0,
        )
        page = httpx.get(base + "/id/place/al-khalis", headers={"Accept": "text/html"})
        province = httpx.get(base + "/id/place/diyala-province", headers={"Accept": "text/html"})
    assert got.status_code == 200, got.text
    expected = KnowledgeGraph.load(with_ontology=False).query("casualties").to_python()
    rows = [{k: v["value"] for k, v in row.items()} for row in got.json()["results"]["bindings"]]
    assert rows == [{k: str(v) for k, v in row.items() if v is not None} for row in expected]
    assert page.status_code == 200, page.text
    assert "Al Khalis is a town located in Diyala province" in page.text
    assert "our inference, not the article" not in page.text
    # the one inferred value of this page is marked on Virtuoso as on the embedded engine
    assert province.text.count("our inference, not the article") == 1, province.text
    assert 'href="/id/inference/diyala-province-in-iraq"' in province.text


def test_chunks_never_split_a_blank_node() -> None:
    from khalis_kg.loader import chunks

    body = (
        b"<http://e/a> <http://e/p> _:x .\n"
        b"_:x <http://e/q> 1 .\n"
        b"<http://e/b> <http://e/p> 2 .\n"
        b"<http://e/c> <http://e/p> _:y .\n"
        b"<http://e/d> <http://e/p> 3 .\n"
        b"_:y <http://e/q> 4 .\n"
        b"<http://e/e> <http://e/p> 5 .\n"
    )
    assert chunks(body, 1) == [
        b"<http://e/a> <http://e/p> _:x .\n_:x <http://e/q> 1 .\n",
        b"<http://e/b> <http://e/p> 2 .\n",
        b"<http://e/c> <http://e/p> _:y .\n<http://e/d> <http://e/p> 3 .\n_:y <http://e/q> 4 .\n",
        b"<http://e/e> <http://e/p> 5 .\n",
    ]
    assert chunks(body, 100) == [body]
    assert b"".join(chunks(body, 2)) == body
    with pytest.raises(InputError, match="at least one triple"):
        chunks(body, 0)


def test_chunked_load_is_a_put_then_posts() -> None:
    seen: list[tuple[str, int]] = []
    with recording_server() as (base, requests):
        report = load_to_store(base + "/store", [DATA], timeout=30, env={}, chunk_triples=200)
        seen = [(r["method"], r["body"].count("\n")) for r in requests]
    assert report.requests == len(seen) > 2
    assert [m for m, _ in seen] == ["PUT"] + ["POST"] * (len(seen) - 1)
    assert sum(n for _, n in seen) == report.triples


def test_a_protocol_dataset_on_a_scoped_backend() -> None:
    """The store's default graph, named in a protocol dataset (``default-graph-uri`` of
    ``serve``), is the backend's graph; no other graph is held."""
    from khalis_kg.backends.base import QueryDataset

    with recording_server() as (base, seen):
        backend = RemoteBackend(base + "/sparql", env={}, graph=GRAPH)
        try:
            backend.query("ASK { ?s ?p ?o }", dataset=QueryDataset((None,), ()))
            with pytest.raises(QueryError, match="named-graph-uri <http://e/g> names no graph"):
                backend.query("ASK { ?s ?p ?o }", dataset=QueryDataset((None,), ("http://e/g",)))
        finally:
            backend.close()
    assert [r["body"] for r in seen] == ["query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D&" + SCOPE]


def test_serve_sends_queries_as_remote_request_says() -> None:
    """``serve`` honours ``--remote-request`` (it ignored it): the store it fronts is
    asked with a GET when told so (the option's way to the server: test_cli)."""
    import asyncio

    from khalis_kg.server import Settings
    from khalis_kg.server.app import _load

    with recording_server() as (base, seen):
        settings = Settings(backend="remote", endpoint=base + "/sparql", remote_request="get")
        kg = asyncio.run(_load(settings))
        try:
            assert kg.sparql("ASK { ?s ?p ?o }").boolean is True
        finally:
            kg.close()
    assert [request["method"] for request in seen] == ["GET"]

"""A query never reads local files, never reaches the network, never writes.

Each attack runs on both backends, through the API and through the CLI, with a secret
file on disk (its content must appear in no output) and a TCP listener on 127.0.0.1
(it must receive no connection).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import BACKENDS

from khalis_kg import KnowledgeGraph
from khalis_kg.cli import cli
from khalis_kg.errors import KhalisError, QueryError, ReadOnlyError
from khalis_kg.safety import scan

SECRET = "TOP-SECRET-7f3a9c"


@dataclass
class Listener:
    """A loopback TCP server that records every connection it accepts."""

    sock: socket.socket
    port: int
    connections: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/sparql"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(1.0)
            try:
                self.connections.append(conn.recv(200))
            except OSError:
                self.connections.append(b"<no data>")
            finally:
                conn.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.05)  # bounded waits: the thread checks `stop` 20 times a second
    server = Listener(sock, sock.getsockname()[1])
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    yield server
    server.stop.set()
    thread.join(timeout=2.0)
    sock.close()


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    path = tmp_path / "secret.ttl"
    path.write_text(f'<http://example.org/s> <http://example.org/p> "{SECRET}" .\n', "utf-8")
    return path


@pytest.fixture(scope="module")
def graphs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, KnowledgeGraph]:
    data = tmp_path_factory.mktemp("sec") / "data.trig"
    data.write_text(
        "<http://example.org/a> <http://example.org/p> 'public' .\n"
        "<http://example.org/g> { <http://example.org/b> <http://example.org/p> 'in g' . }\n",
        "utf-8",
    )
    return {b: KnowledgeGraph.load([data], backend=b) for b in BACKENDS}


def attacks(secret: Path, listener: Listener) -> list[str]:
    file_iri = secret.as_uri()
    folder = secret.parent.as_uri() + "/"
    return [
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"select * where {{ service silent <{listener.url}> {{ ?s ?p ?o }} }}",
        "SELECT * WHERE { # a comment with a quote ' in it\n SeRvIcE\n"
        f"<{listener.url}> {{ ?s ?p ?o }} }}",
        f"SELECT * WHERE {{ BIND(<{listener.url}> AS ?e) SERVICE ?e {{ ?s ?p ?o }} }}",
        "PREFIX : <http://example.org/>\n"
        f"SELECT * WHERE {{ ?s :p 'x' . SERVICE <{listener.url}#x> {{ ?s ?p ?o }} }}",
        f"SELECT * FROM <{file_iri}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM <{listener.url}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * FROM NAMED <{file_iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"SELECT * FROM NAMED <{listener.url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
        f"PREFIX f: <{folder}>\nSELECT * FROM f:secret.ttl WHERE {{ ?s ?p ?o }}",
        f"BASE <{folder}>\nSELECT * FROM <secret.ttl> WHERE {{ ?s ?p ?o }}",
        f"CONSTRUCT {{ ?s ?p ?o }} FROM <{file_iri}> WHERE {{ ?s ?p ?o }}",
        f"ASK FROM <{listener.url}> {{ ?s ?p ?o }}",
        f"LOAD <{file_iri}>",
        f"LOAD <{listener.url}> INTO GRAPH <http://example.org/x>",
        "INSERT DATA { <http://example.org/x> <http://example.org/p> 1 }",
        "DELETE WHERE { ?s ?p ?o }",
        "DROP ALL",
        "CLEAR DEFAULT",
        "WITH <http://example.org/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
        f"DESCRIBE <{file_iri}>",
    ]


def _assert_clean(listener: Listener, output: str) -> None:
    assert SECRET not in output
    assert listener.connections == []


def _assert_no_late_connection(listener: Listener) -> None:
    # a connection would have been made during a query; allow 0.3 s for the accept
    threading.Event().wait(0.3)
    assert listener.connections == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_api_refuses_every_attack(
    graphs: dict[str, KnowledgeGraph], backend: str, secret: Path, listener: Listener
) -> None:
    kg = graphs[backend]
    outcomes = []
    for text in attacks(secret, listener):
        try:
            result = kg.sparql(text)
        except ReadOnlyError as exc:
            outcomes.append("read-only")
            _assert_clean(listener, str(exc))
        except QueryError as exc:
            outcomes.append("refused")
            _assert_clean(listener, str(exc))
        else:
            outcomes.append(f"{len(result)} results")
            _assert_clean(
                listener, result.serialize("json" if result.form != "graph" else "nt")[0].decode()
            )
    assert outcomes == ["refused"] * 13 + ["read-only"] * 7 + ["0 results"]
    _assert_no_late_connection(listener)


@pytest.mark.parametrize("backend", BACKENDS)
def test_cli_refuses_every_attack(
    tmp_path: Path, backend: str, secret: Path, listener: Listener
) -> None:
    data = tmp_path / "data.ttl"
    data.write_text("<http://example.org/a> <http://example.org/p> 'public' .\n", "utf-8")
    runner = CliRunner()
    codes = []
    for text in attacks(secret, listener):
        result = runner.invoke(cli, ["--backend", backend, "--data", str(data), "sparql", text])
        codes.append(result.exit_code)
        _assert_clean(listener, result.output)
        if result.exit_code == 2:
            assert result.output.startswith("khalis-kg: error: ")
            assert result.output.count("\n") == 1
            assert "Traceback" not in result.output
    assert codes == [2] * 20 + [0]
    _assert_no_late_connection(listener)


@pytest.mark.parametrize("backend", BACKENDS)
def test_from_a_held_named_graph_is_allowed(
    graphs: dict[str, KnowledgeGraph], backend: str
) -> None:
    kg = graphs[backend]
    result = kg.sparql("SELECT ?s ?o FROM <http://example.org/g> WHERE { ?s ?p ?o }")
    assert [(r["s"].value, r["o"].value) for r in result.rows] == [("http://example.org/b", "in g")]
    named = kg.sparql(
        "SELECT ?g ?s FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }"
    )
    assert [(r["g"].value, r["s"].value) for r in named.rows] == [
        ("http://example.org/g", "http://example.org/b")
    ]
    default = kg.sparql("SELECT ?s WHERE { ?s ?p ?o }")
    assert [r["s"].value for r in default.rows] == ["http://example.org/a"]


@pytest.mark.parametrize("backend", BACKENDS)
def test_loading_fetches_nothing(
    tmp_path: Path, backend: str, secret: Path, listener: Listener
) -> None:
    """Remote JSON-LD contexts and XML external entities are not followed when loading."""
    ctx = tmp_path / "remote-context.jsonld"
    ctx.write_text(f'{{"@context": "{listener.url}", "@id": "http://a/b", "name": "x"}}', "utf-8")
    xxe = tmp_path / "xxe.rdf"
    xxe.write_text(
        '<?xml version="1.0"?>\n'
        f'<!DOCTYPE rdf:RDF [ <!ENTITY sec SYSTEM "{secret.as_uri()}"> ]>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns:ex="http://example.org/">'
        '<rdf:Description rdf:about="http://example.org/a"><ex:p>&sec;</ex:p>'
        "</rdf:Description></rdf:RDF>\n",
        "utf-8",
    )
    for path in (ctx, xxe):
        with pytest.raises(KhalisError) as info:
            KnowledgeGraph.load([path], backend=backend)
        assert str(info.value).startswith(f"{path}:")
        _assert_clean(listener, str(info.value))
    _assert_no_late_connection(listener)


@pytest.mark.parametrize(
    ("text", "service", "update"),
    [
        ("SELECT ?service WHERE { ?service a <http://ex/Service> }", False, False),
        ('SELECT * WHERE { ?s ?p "SERVICE <http://x> { }" }', False, False),
        ("SELECT * WHERE { ?s <http://ex/it's#SERVICE> ?o }", False, False),
        ("SELECT * WHERE { ?s ex:service ?o }", False, False),
        ("SELECT * WHERE { ?s ?p ?o } # SERVICE <http://x> {}", False, False),
        ("SELECT * WHERE { ?s ?p '''\nSERVICE''' }", False, False),
        ("SELECT * WHERE { ?s ?p ?o FILTER(?o<?s) SERVICE <http://x> {} }", True, False),
        ("SELECT * WHERE { ?s ?p 'it''s' . SERVICE <http://x> {} }", True, False),
        ('SELECT * WHERE { ?s ?p "a\\"b" . SERVICE <http://x> {} }', True, False),
        ("select * { ?s ?p ?o }", False, False),
        ("PREFIX insert: <http://x/> SELECT * { ?s insert:p ?o }", False, False),
        ("drop silent graph <http://x>", False, True),
    ],
)
def test_lexical_scan(text: str, service: bool, update: bool) -> None:
    found = scan(text)
    assert (found.has_service, found.is_update) == (service, update)


def test_scan_finds_the_outer_order_by() -> None:
    assert scan("SELECT ?s { ?s ?p ?o } ORDER BY ?s").has_order_by
    assert not scan("SELECT ?s { { SELECT ?s { ?s ?p ?o } ORDER BY ?s LIMIT 1 } }").has_order_by
    assert not scan("SELECT ?s { ?s ?p 'ORDER BY' }").has_order_by

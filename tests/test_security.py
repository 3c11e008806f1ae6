"""A query never reads local files, never reaches the network, never writes.

The hostile queries themselves (SERVICE, FROM, updates, spelled every way) are in
``test_query_corpus.py``, through every entry point and backend; here: the graphs a
query may name, loading that fetches nothing, and the lexical scan that is left.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import BACKENDS, Listener, listening

from khalis_kg import KnowledgeGraph
from khalis_kg.errors import KhalisError
from khalis_kg.safety import scan

SECRET = "TOP-SECRET-7f3a9c"


@pytest.fixture
def listener() -> Iterator[Listener]:
    with listening(backlog=8) as server:
        yield server


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


def _assert_clean(listener: Listener, output: str) -> None:
    assert SECRET not in output
    assert listener.hits == []


def _assert_no_late_connection(listener: Listener) -> None:
    # a connection would have been made during a query; allow 0.3 s for the accept
    threading.Event().wait(0.3)
    assert listener.hits == []


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

"""The W3C SPARQL 1.1 Protocol query tests against ``khalis-kg serve`` over HTTP, and
against ``oxigraph serve`` (the PyPI ``oxigraph`` package) as the control.

Both servers hold the suite's data files as the named graphs the tests name
(``--named-graph IRI=FILE``); ``data0.rdf``, named by the tests without a file, is
served as an empty named graph. One live server of each kind for the module. Failures
are listed in ``tests/w3c/known_deviations.txt`` (engines ``protocol-khalis`` and
``protocol-oxigraph``), like the query suites'.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import w3c_runner as w
from server_helpers import run_server

TESTS = w.protocol_tests()
DEVIATIONS = w.read_deviations()


def _check(engine: str, test: w.ProtocolTest, endpoint: str) -> None:
    failure = w.run_protocol(test, endpoint)
    reason = DEVIATIONS.get((engine, test.id))
    if reason is None:
        assert failure is None, f"{test.name}: {failure}"
        return
    assert failure is not None, f"{engine} {test.id} passes now: remove it from the deviations"
    pytest.xfail(f"known deviation: {reason} ({failure[:200]})")


@pytest.fixture(scope="module")
def khalis_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    empty = tmp_path_factory.mktemp("protocol") / "empty.nt"
    empty.write_bytes(b"")
    args = ["--data", str(empty), "--without-ontology", "--workers", "1"]
    for iri, path in w.protocol_graphs().items():
        args += ["--named-graph", f"{iri}={path or empty}"]
    with run_server(*args) as base:
        yield base + "/sparql"


@pytest.fixture(scope="module")
def oxigraph_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from helpers import oxigraph_binary, running_oxigraph

    binary = oxigraph_binary()
    if binary is None:
        pytest.fail("the oxigraph server binary (PyPI package 'oxigraph', a test dependency)")
    location: Path = tmp_path_factory.mktemp("oxigraph-protocol")
    for iri, path in w.protocol_graphs().items():
        if path is not None:  # Oxigraph answers a graph it does not hold as empty
            subprocess.run(
                [binary, "load", "--location", str(location), "--file", str(path), "--graph", iri],
                check=True,
                capture_output=True,
            )
    with running_oxigraph(location) as server:
        yield server.query_url


@pytest.mark.server
@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_protocol(khalis_endpoint: str, test: w.ProtocolTest) -> None:
    _check("protocol-khalis", test, khalis_endpoint)


@pytest.mark.oxigraph_server
@pytest.mark.parametrize("test", TESTS, ids=[t.id for t in TESTS])
def test_protocol_on_oxigraph_serve(oxigraph_endpoint: str, test: w.ProtocolTest) -> None:
    _check("protocol-oxigraph", test, oxigraph_endpoint)


def test_khalis_passes_at_least_as_many_as_oxigraph_serve() -> None:
    """The target of issue 11, read from the deviations file the tests above hold."""
    ours = sum(1 for e, i in DEVIATIONS if e == "protocol-khalis")
    oxigraph = sum(1 for e, i in DEVIATIONS if e == "protocol-oxigraph")
    assert len(TESTS) == 20
    assert len(TESTS) - ours >= len(TESTS) - oxigraph


@pytest.mark.server
@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/ld+json", "application/ld+json", "json-ld"),
    ],
)
def test_service_description_is_negotiated(
    khalis_endpoint: str, accept: str, media: str, fmt: str
) -> None:
    import rdflib

    r = httpx.get(khalis_endpoint, headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    graph = rdflib.Graph().parse(data=r.content, format=fmt)
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    service = rdflib.URIRef(khalis_endpoint)
    assert (service, rdflib.RDF.type, sd.Service) in graph
    names = {str(n) for n in graph.objects(None, sd.name)}
    assert names == set(w.protocol_graphs())


@pytest.mark.server
def test_service_description_refuses_what_it_cannot_give(khalis_endpoint: str) -> None:
    r = httpx.get(khalis_endpoint, headers={"Accept": "image/png"}, timeout=10)
    assert r.status_code == 406
    assert "application/rdf+xml" in r.text

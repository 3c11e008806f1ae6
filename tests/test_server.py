"""``khalis-kg serve`` over real HTTP: a uvicorn server on 127.0.0.1 in a subprocess.

Covers the SPARQL 1.1 Protocol (GET, POST form, POST sparql-query), content
negotiation, the service description, the packaged-query routes, Cool-URIs resource
pages, CORS, and the safety guarantees (read-only, no outbound reads, time limit,
result cap, size limits, no stack traces).
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from helpers import assert_isomorphic, files_of, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from server_helpers import (
    BASE,
    DATASET,
    SERVER_PIDS,
    TEST_MAX_RESULTS,
    TEST_TIMEOUT,
    run_server,
    worker_pids,
)

from khalis_kg.http_session import tls_context
from khalis_kg.server.negotiation import negotiate, parse_accept


@pytest.fixture
def client(live_server: str) -> Iterator[httpx.Client]:
    # one TLS context for every client (httpx reads the CA bundle for each new one)
    with httpx.Client(base_url=live_server, timeout=30.0, verify=tls_context()) as c:
        yield c


COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
LABELS = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s LIMIT 5"
)
CONSTRUCT = (
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    f"CONSTRUCT {{ ?s rdfs:label ?l }} WHERE {{ ?s rdfs:label ?l FILTER(STRSTARTS(STR(?s), "
    f'"{BASE}id/place/")) }}'
)
CARTESIAN = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CARTESIAN_SORTED = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?a"

SRJ = "application/sparql-results+json"


def raw_get(base: str, target: str) -> tuple[int, str]:
    """A GET over a plain socket: ``(status, body)``."""
    url = httpx.URL(base)
    with socket.create_connection((url.host, url.port or 80), timeout=30) as sock:
        request = f"GET {target} HTTP/1.1\r\nHost: {url.host}\r\nConnection: close\r\n\r\n"
        sock.sendall(request.encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8", "replace")


def assert_no_trace(response: httpx.Response) -> None:
    assert "Traceback" not in response.text
    assert 'File "' not in response.text


# ---------------------------------------------------------------- negotiation (pure)


class TestNegotiation:
    OFFERS: ClassVar[list[str]] = [
        "application/sparql-results+json",
        "application/sparql-results+xml",
        "text/csv",
        "text/tab-separated-values",
    ]

    def test_absent_header_takes_the_first_offer(self) -> None:
        assert negotiate(None, self.OFFERS) == self.OFFERS[0]
        assert negotiate("", self.OFFERS) == self.OFFERS[0]

    def test_q_values_order(self) -> None:
        header = "text/csv;q=0.5, application/sparql-results+xml;q=0.9"
        assert negotiate(header, self.OFFERS) == "application/sparql-results+xml"

    def test_most_specific_range_wins_and_q0_excludes(self) -> None:
        assert negotiate("text/*;q=0.3, text/csv;q=0", self.OFFERS) == "text/tab-separated-values"

    def test_wildcards(self) -> None:
        assert negotiate("*/*", self.OFFERS) == self.OFFERS[0]
        assert negotiate("text/*", self.OFFERS) == "text/csv"
        assert negotiate("image/png", self.OFFERS) is None
        assert negotiate("*/*;q=0", self.OFFERS) is None

    def test_malformed_elements_are_skipped(self) -> None:
        ranges = parse_accept("text/csv;q=abc, ;;, foo, */json, text/tab-separated-values;q=0.4")
        assert [(r.type, r.subtype, r.q) for r in ranges] == [("text", "tab-separated-values", 0.4)]
        assert negotiate("text/csv;q=2", self.OFFERS) == self.OFFERS[0]  # nothing valid left

    def test_browser_header(self) -> None:
        header = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        assert negotiate(header, ["text/html", "text/turtle"]) == "text/html"
        assert negotiate(header, ["text/turtle", "text/html"]) == "text/html"


ACCEPT_PIECES = ["text/csv", "text/*", "*/*", "application/sparql-results+json", "image/png"]
ACCEPT_PIECES += [";q=0", ";q=0.5", ";q=1", ";q=2", ";q=x", ", ", ",", ";charset=utf-8", " "]


@settings(max_examples=300, derandomize=True, deadline=None)
@given(header=st.lists(st.sampled_from(ACCEPT_PIECES), max_size=10).map("".join))
def test_a_remembered_negotiation_is_the_negotiation(header: str) -> None:
    """negotiate keeps the answers for short headers: asked again, or with a header
    too long to keep, the answer is the one computed afresh, for every list of offers."""
    from khalis_kg.server import negotiation

    for offers in (TestNegotiation.OFFERS, TestNegotiation.OFFERS[::-1], ["text/html"]):
        fresh = negotiation._negotiate(header, offers)
        assert negotiate(header, offers) == fresh
        assert negotiate(header, tuple(offers)) == fresh  # kept: the same answer
        long = header + " " * negotiation.REMEMBERED_LENGTH  # white space: the same header
        assert negotiate(long, offers) == fresh
    kept = negotiation._remembered.cache_info()
    assert kept.maxsize == negotiation.REMEMBERED
    assert kept.currsize <= negotiation.REMEMBERED


FORM_PIECES = [*"%+&=aZ09fFx\\é ;\x00名", "%41", "%e9", "%C3%A9", "%C3", "%FF", "%0A", "%25"]
FORM_PIECES += ["%5C", "%5cx41", "\\x41", "%zz", "%4", "%%", "+%2B", "=%3D&"]


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    text=st.one_of(
        st.lists(st.sampled_from(FORM_PIECES), max_size=24).map("".join),
        st.text(max_size=40),
    )
)
def test_query_strings_and_forms_are_read_as_parse_qsl_reads_them(text: str) -> None:
    """The server's own reading of a URL's query and a form (its escapes decoded by the
    C codec) gives exactly what ``parse_qsl(text, keep_blank_values=True)`` gives, on
    escapes good and bad, UTF-8 and not, backslashes, ``+``, empty fields (Hypothesis)."""
    from urllib.parse import parse_qsl, urlencode

    from khalis_kg.server.app import _pairs

    assert _pairs(text) == parse_qsl(text, keep_blank_values=True)
    form = urlencode({"query": CONSTRUCT + text, "default-graph-uri": text})
    assert _pairs(form) == [("query", CONSTRUCT + text), ("default-graph-uri", text)]


# ---------------------------------------------------------------- protocol

pytestmark = pytest.mark.server


def test_service_description(client: httpx.Client) -> None:
    import rdflib

    r = client.get("/sparql")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=r.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    services = list(g.subjects(rdflib.RDF.type, sd.Service))
    assert len(services) == 1
    assert (services[0], sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (services[0], sd.endpoint, None) in g
    formats = set(g.objects(services[0], sd.resultFormat))
    assert rdflib.URIRef("http://www.w3.org/ns/formats/SPARQL_Results_JSON") in formats


def test_get_post_form_and_post_query_agree(client: httpx.Client) -> None:
    get = client.get("/sparql", params={"query": COUNT})
    form = client.post("/sparql", data={"query": COUNT})
    direct = client.post(
        "/sparql", content=COUNT.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    for r in (get, form, direct):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == SRJ
    counts = {int(r.json()["results"]["bindings"][0]["n"]["value"]) for r in (get, form, direct)}
    assert len(counts) == 1
    assert counts.pop() > 500


@pytest.mark.parametrize(
    ("accept", "media", "marker"),
    [
        (None, SRJ, '"bindings"'),
        ("*/*", SRJ, '"bindings"'),
        ("application/sparql-results+xml", "application/sparql-results+xml", "<sparql"),
        ("text/csv", "text/csv", "s,label"),
        ("text/tab-separated-values", "text/tab-separated-values", "?s\t?label"),
        ("text/csv;q=0.5, application/sparql-results+xml;q=0.9",
         "application/sparql-results+xml", "<sparql"),
        ("text/*;q=0.3, text/csv;q=0", "text/tab-separated-values", "?s\t?label"),
        ("application/json", "application/json", '"bindings"'),
    ],
)  # fmt: skip
def test_select_content_negotiation(
    client: httpx.Client, accept: str | None, media: str, marker: str
) -> None:
    headers = {"Accept": accept} if accept is not None else {}
    r = client.get("/sparql", params={"query": LABELS}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    assert marker in r.text
    assert "accept" in r.headers.get("vary", "").lower()


@pytest.mark.parametrize(
    ("accept", "media", "fmt"),
    [
        (None, "text/turtle", "turtle"),
        ("text/turtle", "text/turtle", "turtle"),
        ("application/n-triples", "application/n-triples", "nt"),
        ("application/ld+json", "application/ld+json", "json-ld"),
        ("application/rdf+xml", "application/rdf+xml", "xml"),
        ("application/sparql-results+json;q=1, application/n-triples;q=0.5",
         "application/n-triples", "nt"),
    ],
)  # fmt: skip
def test_construct_content_negotiation(
    client: httpx.Client, accept: str | None, media: str, fmt: str
) -> None:
    import rdflib

    headers = {"Accept": accept} if accept is not None else {}
    r = client.post("/sparql", data={"query": CONSTRUCT}, headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].split(";")[0] == media
    g = rdflib.Graph().parse(data=r.content, format=fmt)
    assert (rdflib.URIRef(BASE + "id/place/al-khalis"), rdflib.RDFS.label, None) in g
    assert len(g) >= 5


def test_describe(client: httpx.Client) -> None:
    r = client.get(
        "/sparql",
        params={"query": f"DESCRIBE <{BASE}id/place/al-khalis>"},
        headers={"Accept": "text/turtle"},
    )
    assert r.status_code == 200, r.text
    assert "Al Khalis" in r.text


def test_ask(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert r.status_code == 200
    assert r.json()["boolean"] is True
    xml = client.get(
        "/sparql",
        params={"query": "ASK { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+xml"},
    )
    assert "<boolean>true</boolean>" in xml.text


def test_format_parameter_overrides_accept(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": LABELS, "format": "csv"}, headers={"Accept": SRJ})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    bad = client.get("/sparql", params={"query": LABELS, "format": "pdf"})
    assert bad.status_code == 400
    assert "unknown format" in bad.text


def test_not_acceptable(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "application/sparql-results+json" in r.text
    # Acceptable for some result kind, but not for this one (a SELECT as Turtle).
    r = client.get("/sparql", params={"query": LABELS}, headers={"Accept": "text/turtle"})
    assert r.status_code == 406
    assert "SPARQL results" in r.text


def test_dataset_parameters(client: httpx.Client) -> None:
    ok = client.get("/sparql", params={"query": COUNT, "default-graph-uri": DATASET})
    assert ok.status_code == 200
    other = client.get(
        "/sparql", params={"query": COUNT, "default-graph-uri": "http://example.org/g"}
    )
    assert other.status_code == 400
    assert "not a graph held by this server" in other.text
    named = client.post("/sparql", data={"query": COUNT, "named-graph-uri": "http://example.org/g"})
    assert named.status_code == 400
    assert "named-graph-uri" in named.text


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": {"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}, 403),
        ({"content": b"INSERT DATA { <urn:a> <urn:b> <urn:c> }",
          "headers": {"Content-Type": "application/sparql-update"}}, 403),
        ({"data": {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}}, 403),
        ({"data": {"query": "DELETE WHERE { ?s ?p ?o }"}}, 403),
        ({"data": {"query": "DROP ALL"}}, 403),
        ({"data": {"query": "LOAD <http://example.org/x>"}}, 403),
    ],
)  # fmt: skip
def test_read_only(client: httpx.Client, kwargs: dict[str, object], status: int) -> None:
    r = client.post("/sparql", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == status, r.text
    assert "read-only" in r.text
    assert (
        client.get("/sparql", params={"query": "ASK { <urn:a> <urn:b> <urn:c> }"}).json()["boolean"]
        is False
    )
    get_update = client.get("/sparql", params={"update": "DROP ALL"})
    assert get_update.status_code == 403


def test_malformed_query(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": "SELECT ?x WHERE { ?x ?y }"})
    assert r.status_code == 400
    assert r.text.strip()
    assert_no_trace(r)
    prefix = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ex:p ?o }"})
    assert prefix.status_code == 400
    assert "the prefix 'ex:' is not declared; add PREFIX ex: <...>" in prefix.text
    assert_no_trace(prefix)
    empty = client.post("/sparql", data={"query": "  "})
    assert empty.status_code == 400
    missing = client.post("/sparql", data={"nothing": "here"})
    assert missing.status_code == 400
    twice = client.get("/sparql", params=[("query", COUNT), ("query", COUNT)])
    assert twice.status_code == 400


def test_wrong_method(client: httpx.Client) -> None:
    for method in ("PUT", "DELETE", "PATCH"):
        r = client.request(method, "/sparql", content=b"x")
        assert r.status_code == 405
        assert "GET" in r.headers.get("allow", "")
    assert client.post("/queries").status_code == 405


def test_unsupported_content_type(client: httpx.Client) -> None:
    r = client.post("/sparql", json={"query": COUNT})
    assert r.status_code == 415
    assert "application/sparql-query" in r.text


def test_oversized_requests(client: httpx.Client) -> None:
    big = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (1024 * 1024 + 10)
    r = client.post("/sparql", data={"query": big})
    assert r.status_code == 413
    r = client.post(
        "/sparql", content=big.encode(), headers={"Content-Type": "application/sparql-query"}
    )
    assert r.status_code == 413
    # httpx refuses URLs over 64 KiB: send the long GET by hand.
    long_get = "SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%23" + "x" * 150_000
    status, text = raw_get(str(client.base_url), "/sparql?query=" + long_get)
    assert status == 413, text
    assert "at most" in text
    assert client.get("/sparql", params={"query": COUNT}).status_code == 200


def test_cors(client: httpx.Client) -> None:
    r = client.get("/sparql", params={"query": COUNT}, headers={"Origin": "https://example.org"})
    assert r.headers["access-control-allow-origin"] == "*"
    pre = client.options(
        "/sparql",
        headers={
            "Origin": "https://example.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert pre.status_code == 200
    assert "POST" in pre.headers["access-control-allow-methods"]


# ---------------------------------------------------------------- safety: time and results


def test_pathological_query_is_stopped_and_others_are_served(live_server: str) -> None:
    """A cartesian product gets a 503 with a message; meanwhile other clients are served."""

    def slow(query: str) -> tuple[httpx.Response, float]:
        t0 = time.monotonic()
        with httpx.Client(base_url=live_server, timeout=60) as c:
            r = c.post("/sparql", data={"query": query})
        return r, time.monotonic() - t0

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(slow, CARTESIAN_SORTED)
        time.sleep(0.3)  # let it occupy a worker
        latencies = []
        with httpx.Client(base_url=live_server, timeout=30) as c:
            for _ in range(10):
                t0 = time.monotonic()
                r = c.get("/sparql", params={"query": LABELS})
                latencies.append(time.monotonic() - t0)
                assert r.status_code == 200
        response, elapsed = future.result()
    assert response.status_code == 503
    # Stopped by the time limit, or earlier by the worker's memory limit (a sort of a
    # cartesian product can reach 2 GiB within the 2 s): both kill and replace the worker.
    assert response.text in {
        f"the query was stopped at the time limit ({TEST_TIMEOUT:g} s)\n",
        "the query needed more memory than the limit (2 GiB)\n",
    }, response.text
    assert_no_trace(response)
    assert elapsed < TEST_TIMEOUT + 5
    # Generous bound: the machine may be shared; typical figures are in docs/server.md.
    assert max(latencies) < 3.0, latencies
    # The killed worker is replaced: the server keeps answering.
    with httpx.Client(base_url=live_server, timeout=30) as c:
        for _ in range(4):
            assert c.get("/sparql", params={"query": COUNT}).status_code == 200


def test_result_cap(client: httpx.Client) -> None:
    # The whole graph (3710 triples) is more than this server's cap of 2000 results.
    r = client.post("/sparql", data={"query": "SELECT * { ?s ?p ?o }"})
    assert r.status_code == 503
    assert f"more than {TEST_MAX_RESULTS} results" in r.text
    # A cartesian product is stopped by the cap or the time limit, whichever comes first.
    t0 = time.monotonic()
    r = client.post("/sparql", data={"query": CARTESIAN})
    assert r.status_code == 503
    assert "results" in r.text or "time limit" in r.text
    assert time.monotonic() - t0 < TEST_TIMEOUT + 5
    within = client.get("/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1000"})
    assert within.status_code == 200
    assert len(within.json()["results"]["bindings"]) == 1000


# ---------------------------------------------------------------- safety: no outbound reads


class Listener:
    """A loopback TCP listener that records every connection it receives."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


def test_no_outbound_reads(client: httpx.Client, tmp_path: Path) -> None:
    secret = tmp_path / "secret.ttl"
    token = "TOP-SECRET-7f3a9c"
    secret.write_text(f'<urn:x> <urn:y> "{token}" .\n')
    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}/graph.ttl"
    file_url = secret.resolve().as_uri()
    try:
        attempts = [
            {"query": f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}"},
            {"query": f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}"},
            {"query": f"SELECT * FROM NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"},
            {"query": f"SELECT * FROM <{file_url}> WHERE {{ ?s ?p ?o }}"},
            {"query": f"SELECT * WHERE {{ GRAPH <{file_url}> {{ ?s ?p ?o }} }}"},
            {"query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": url},
            {"query": "SELECT * WHERE { ?s ?p ?o }", "named-graph-uri": file_url},
            {"update": f"LOAD <{url}>"},
            {"query": f"LOAD <{file_url}>"},
            {"query": f"DESCRIBE <{url}>"},
        ]
        for data in attempts:
            r = client.post("/sparql", data=data)
            assert token not in r.text
            assert_no_trace(r)
            if "GRAPH <" in data.get("query", "") or "DESCRIBE" in data.get("query", ""):
                # Harmless: a graph name or IRI the store does not hold matches nothing.
                assert r.status_code in {200, 400}, r.text
                if r.status_code == 200:
                    assert r.text.count("<urn:") == 0
            else:
                assert r.status_code in {400, 403}, (data, r.status_code, r.text)
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()


# ---------------------------------------------------------------- packaged queries


def test_catalogue(client: httpx.Client) -> None:
    r = client.get("/queries")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    entries = r.json()
    assert isinstance(entries, list)
    for entry in entries:
        assert {"name", "title", "question", "parameters", "form", "url", "text"} <= set(entry)


def _runnable(client: httpx.Client) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = client.get("/queries").json()
    return [
        e for e in entries
        if not any(p["required"] for p in e["parameters"])  # type: ignore[attr-defined]
    ]  # fmt: skip


def test_run_packaged_queries(client: httpx.Client) -> None:
    runnable = _runnable(client)
    if not runnable:
        pytest.skip("no packaged query without required parameters in the catalogue")
    for entry in runnable:
        r = client.get(str(entry["url"]))
        assert r.status_code == 200, (entry["name"], r.text)
        fmt = "ttl" if entry["form"] in {"construct", "describe", "graph"} else "csv"
        download = client.get(str(entry["url"]), params={"format": fmt})
        assert download.status_code == 200, (entry["name"], download.text)
        wrong = "csv" if fmt == "ttl" else "ttl"  # a format of the other result kind
        assert client.get(str(entry["url"]), params={"format": wrong}).status_code == 406


def test_packaged_query_errors(client: httpx.Client) -> None:
    r = client.get("/queries/no-such-query")
    assert r.status_code == 404
    assert "no packaged query" in r.json()["error"]["message"]
    runnable = _runnable(client)
    if runnable:
        r = client.get(str(runnable[0]["url"]), params={"not_a_parameter": "1"})
        assert r.status_code == 400
        assert "not_a_parameter" in r.json()["error"]["message"]


# ---------------------------------------------------------------- Cool URIs


def test_resource_html(client: httpx.Client) -> None:
    r = client.get("/id/place/al-khalis", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    assert "accept" in r.headers["vary"].lower()
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert r.headers.get_list("x-content-type-options") == ["nosniff"]
    assert r.headers.get_list("referrer-policy") == ["same-origin"]
    html = r.text
    assert "<h1>Al Khalis</h1>" in html
    assert "Al Khalis is a town located in Diyala province, 50 mi north of Baghdad." in html
    assert 'href="/id/place/diyala-province"' in html  # outgoing link, as a local page
    assert 'href="/id/event/al-khalis-prison-break-2015"' in html  # incoming link


INFERRED_ON_PAGES = {
    # page → (property CURIE shown, value text, the kg:Inference linked) for every value
    # that is an inference of ours (data/authoring/khalis.trig, "inferences of ours")
    "/id/event/diyala-suicide-attacks": [
        ("sem:hasTimeStamp", "2015-05-08", "/id/inference/date-of-the-suicide-attacks")
    ],
    "/id/event/al-khalis-prison-break-2015": [
        ("sem:hasPlace", "Al Khalis prison", "/id/inference/break-at-the-towns-prison")
    ],
    "/id/place/diyala-province": [
        ("geo:sfWithin", "Iraq", "/id/inference/diyala-province-in-iraq")
    ],
    "/id/place/iraq": [
        ("kg:placeType", "country", "/id/inference/general-knowledge"),
        (
            "schema:sameAs",
            "wd:Q796",
            "/id/inference/wikidata-identifiers",
        ),
    ],
    "/id/quantity/escaped-prisoners": [
        ("schema:minValue", "51", "/id/inference/least-whole-count")
    ],
    "/id/claim/official-escapee-breakdown": [
        (
            "kg:contradicts",
            "Amaq: thirty ISIS members were among those who escaped",
            "/id/inference/thirty-isis-members-against-nine",
        )
    ],
    # the article's own statements only: nothing marked
    "/id/place/al-khalis": [],
    "/id/quantity/killed-police-officers": [],
}


@pytest.mark.parametrize("path", INFERRED_ON_PAGES)
def test_resource_page_marks_our_inferences(client: httpx.Client, path: str) -> None:
    """A value that is an inference of ours, not the article's, says so on its page and
    links to the kg:Inference that says why; the article's own values are not marked."""
    html = client.get(path, headers={"Accept": "text/html"}).text
    marked = sorted(_marked_values(html))
    expected = sorted(INFERRED_ON_PAGES[path])
    assert [(p, i) for p, _, i in marked] == [(p, i) for p, _, i in expected], marked
    for (_, value, _), (_, want, _) in zip(marked, expected, strict=True):
        assert want in value, (value, want)
    assert html.count('<span class="inference">our inference, not the article') == len(expected)


def _marked_values(html: str) -> list[tuple[str, str, str]]:
    """``(property CURIE, value text, inference path)`` of each value a resource page
    marks as an inference of ours."""
    marked = []
    for row in re.findall(r'<tr><th scope="row">(.*?)</tr>', html, re.S):
        prop = re.sub(r"<[^>]+>", "", row.split("</th>", 1)[0]).split()[0]
        for item in re.findall(r'<li class="inferred">(.*?)</li>', row, re.S):
            value = re.sub(r"<[^>]+>", "", item.split('<span class="inference">', 1)[0]).strip()
            [inference] = re.findall(r'href="(/id/inference/[^"]+)"', item)
            marked.append((prop, value, inference))
    return marked


def _inferred_statements() -> dict[str, list[tuple[str, str]]]:
    """Page path → (predicate IRI, inference path) of every rdf:Statement of the packaged
    data generated by a kg:Inference, read from data/khalis.ttl with rdflib."""
    import rdflib

    graph = rdflib.Graph().parse(Path(__file__).resolve().parents[1] / "data" / "khalis.ttl")
    rdf, prov = rdflib.RDF, rdflib.Namespace("http://www.w3.org/ns/prov#")
    found: dict[str, list[tuple[str, str]]] = {}
    for statement, inference in graph.subject_objects(prov.wasGeneratedBy):
        subject = str(graph.value(statement, rdf.subject))
        page = subject.removeprefix(BASE.rstrip("/"))
        found.setdefault(page, []).append(
            (str(graph.value(statement, rdf.predicate)), str(inference).removeprefix(BASE[:-1]))
        )
    return found


INFERRED_STATEMENTS = _inferred_statements()


@pytest.mark.parametrize("path", sorted(INFERRED_STATEMENTS))
def test_every_inference_of_ours_is_marked_on_its_page(client: httpx.Client, path: str) -> None:
    """The class, not the examples above: every statement of the data that an inference of
    ours generated is marked on its subject's page, with a link to that inference, and
    nothing else is marked there."""
    from khalis_kg.namespaces import shorten

    marked = _marked_values(client.get(path, headers={"Accept": "text/html"}).text)
    assert sorted((p, i) for p, _, i in marked) == sorted(
        (shorten(p), i) for p, i in INFERRED_STATEMENTS[path]
    )


def test_resource_page_lists_claims_with_sources(client: httpx.Client) -> None:
    r = client.get("/id/organization/isil", headers={"Accept": "text/html"})
    assert r.status_code == 200
    html = r.text
    assert "Claims that mention it" in html  # they hold ISIL responsible; not all are about it
    assert 'href="/id/claim/amaq-break-in-with-explosives"' in html
    assert 'href="/id/channel/amaq-news-agency"' in html  # where it was published
    assert "broke into the prison with the help of explosives" in html  # the quote


def test_resource_rdf(client: httpx.Client) -> None:
    import rdflib

    iri = rdflib.URIRef(BASE + "id/span/lead-1")
    cases = [
        ("text/turtle", "turtle"),
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ]
    for accept, fmt in cases:
        r = client.get("/id/span/lead-1", headers={"Accept": accept})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].split(";")[0] == accept
        g = rdflib.Graph().parse(data=r.content, format=fmt)
        oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
        exact = {str(o) for o in g.objects(None, oa.exact)}
        assert "On 8 May 2015, a prison break occurred in the Iraqi town of Al Khalis." in exact
        assert (iri, oa.hasSource, None) in g
    via_param = client.get("/id/span/lead-1", params={"format": "ttl"})
    assert via_param.headers["content-type"].startswith("text/turtle")


def test_ontology_and_concepts(client: httpx.Client) -> None:
    r = client.get("/ontology", headers={"Accept": "text/html"})
    assert r.status_code == 200
    assert 'id="Claim"' in r.text  # /ontology#Claim lands on the term's row
    ttl = client.get("/ontology", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200
    assert "owl:Ontology" in ttl.text or "Ontology" in ttl.text
    concept = client.get("/concept/prison-break", headers={"Accept": "text/html"})
    assert concept.status_code == 200
    assert "skos:" in concept.text


def test_unknown_resource(client: httpx.Client) -> None:
    r = client.get("/id/place/atlantis", headers={"Accept": "text/html"})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    r = client.get("/id/place/atlantis", headers={"Accept": "text/turtle"})
    assert r.status_code == 404
    assert client.get("/elsewhere").status_code == 404
    assert client.get("/id/place/%3Cscript%3E").status_code == 404
    r = client.get("/id/place/al-khalis", headers={"Accept": "image/png"})
    assert r.status_code == 406


def test_query_page_and_static_files(client: httpx.Client) -> None:
    import re

    r = client.get("/")
    assert r.status_code == 200
    assert "default-src 'self'" in r.headers["content-security-policy"]
    # No CDN: every script and stylesheet is served by the package.
    refs = re.findall(r'(?:src|href)="([^"]+)"', r.text)
    assets = [u for u in refs if u.endswith((".js", ".css", ".svg"))]
    assert assets
    assert all(u.startswith("/static/") for u in assets), assets
    for asset in assets:
        a = client.get(asset)
        assert a.status_code == 200, asset
    assert client.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    # YASGUI, vendored with its licence (docs/server.md)
    assert "/static/yasgui/yasgui.min.js" in assets
    assert "/static/yasgui/yasgui.min.css" in assets
    licence = client.get("/static/yasgui/LICENSE")
    assert licence.headers["content-type"].startswith("text/plain")
    assert licence.text.startswith("YASGUI 4.6.2 (npm: @zazuko/yasgui")
    assert client.get("/static/yasgui/%2e%2e/app.js").status_code == 404
    assert client.get("/static/other/app.js").status_code == 404
    for hostile in (
        "yasgui/..%2F..%2Fserver%2Fapp.py",
        "yasgui/%2E%2E%2Fapp.js",
        "yasgui//yasgui.min.js",
        "yasgui/yasgui.min.js.map",  # not vendored: the browser asks only with devtools open
        "YASGUI/yasgui.min.js",
        "yasgui/LICENSE/x",
        "yasgui/yasgui/yasgui.min.js",
        "LICENSE%00.js",
        ".%2Fapp.js",
    ):
        assert client.get("/static/" + hostile).status_code == 404, hostile
    # the page's configuration: the endpoint, the project's prefixes, terms to complete
    import html
    import json

    from khalis_kg.namespaces import KG, PREFIXES

    found = re.search(r'<div id="yasgui" data-config="([^"]*)"', r.text)
    assert found
    config = json.loads(html.unescape(found.group(1)))
    assert config["endpoint"] == "/sparql"
    assert config["prefixes"] == PREFIXES
    assert {KG + "Claim", KG + "Account"} <= set(config["classes"])
    assert {KG + "claimant", "http://www.w3.org/2000/01/rdf-schema#label"} <= set(
        config["properties"]
    )
    assert client.get("/static/..%2Fserver%2Fapp.py").status_code == 404
    assert client.get("/static/missing.js").status_code == 404


# ---------------------------------------------------------------- escaping (own server)

HOSTILE = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix kg: <https://w3id.org/khalis-kg/ontology#> .
<https://w3id.org/khalis-kg/id/person/mallory> a kg:Person ;
    rdfs:label "<script>alert('label')</script>" ;
    rdfs:comment "\\" onmouseover=\\"alert(1)\\" <img src=x onerror=alert(2)>" ;
    rdfs:seeAlso <javascript:alert(3)> , <https://example.org/a?b=1&c=2> ;
    <https://w3id.org/khalis-kg/ontology#note> "</td></tr></table><h1>pwned</h1>"@en .
"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("hostile") / "hostile.ttl"
    path.write_text(HOSTILE)
    with run_server("--data", str(path), "--workers", "1", "--without-ontology") as base:
        yield base


def test_resource_page_escapes_everything(hostile_server: str) -> None:
    r = httpx.get(hostile_server + "/id/person/mallory", headers={"Accept": "text/html"})
    assert r.status_code == 200, r.text
    html = r.text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;label&#x27;)&lt;/script&gt;" in html
    assert "<img" not in html
    assert "<h1>pwned</h1>" not in html
    assert 'href="javascript:' not in html
    assert "javascript:alert(3)" in html  # shown, not linked
    assert 'onmouseover="' not in html
    assert 'href="https://example.org/a?b=1&amp;c=2"' in html


def test_errors_never_show_a_stack_trace(client: httpx.Client) -> None:
    probes = [
        client.get("/sparql", params={"query": "SELECT ?x WHERE {"}),
        client.get("/sparql", params={"query": "\x00\x01"}),
        client.post("/sparql", content=b"\xff\xfe",
                    headers={"Content-Type": "application/sparql-query"}),
        client.get("/queries/%00"),
        client.get("/id/" + "a" * 5000),
    ]  # fmt: skip
    for r in probes:
        assert r.status_code < 500 or r.status_code == 503
        assert_no_trace(r)


def test_json_error_shape(client: httpx.Client) -> None:
    body = json.loads(client.get("/queries/nope").text)
    assert body["error"]["status"] == 404


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],  # one server, read only
)
@given(
    name=st.one_of(
        st.text(min_size=1, max_size=40), st.text(alphabet="a-._", min_size=90, max_size=400)
    ),
    event=st.one_of(
        st.text(max_size=20).map(lambda t: "http://x/" + t),
        st.binary(max_size=8).map(lambda b: "http://x/" + quote_from_bytes(b, safe="")),
    ),
)
def test_query_names_and_iris_over_http(client: httpx.Client, name: str, event: str) -> None:
    """Any name is a query or simply unknown (404); an IRI parameter is refused (400)
    exactly when the engine would refuse it — never a 500 (Hypothesis, fixed seed)."""
    from urllib.parse import unquote

    from khalis_kg.catalogue import Catalogue
    from khalis_kg.terms import is_absolute_iri

    path = quote(name, safe="").replace(".", "%2E")  # no dot segment for the client to resolve
    r = client.get("/queries/" + path, params={"format": "json"})
    known = name in Catalogue.load().names()
    assert r.status_code == (200 if known else 404), (name, r.text[:200])
    r = client.get(f"/queries/event-summary?event={quote(event, safe=':/%')}&format=json")
    decoded = unquote(event, errors="replace")
    assert r.status_code == (200 if is_absolute_iri(decoded.strip()) else 400), (event, r.text)


def test_service_description_in_a_browser(client: httpx.Client) -> None:
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    r = client.get("/sparql", headers={"Accept": browser})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")  # shown, not downloaded
    assert "sd:Service" in r.text
    assert client.get("/sparql", headers={"Accept": "image/png"}).status_code == 406


def test_client_quirks(client: httpx.Client) -> None:
    # SPARQLWrapper sends format (and output) parameters, sometimes more than one.
    r = client.get(
        "/sparql",
        params=[("query", CONSTRUCT), ("format", "json"), ("format", "turtle"), ("output", "x")],
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/ld+json")
    # rdflib's SPARQLStore names the default graph urn:x-rdflib:default.
    r = client.get("/sparql", params={"query": COUNT, "default-graph-uri": "urn:x-rdflib:default"})
    assert r.status_code == 200
    head = client.head("/id/place/al-khalis", headers={"Accept": "text/turtle"})
    assert head.status_code == 200
    assert head.headers["content-type"].startswith("text/turtle")


# ---------------------------------------------------------------- rdflib engine, dead workers


@pytest.fixture(scope="module")
def memory_server() -> Iterator[str]:
    with run_server("--backend", "memory", "--timeout", "2", "--workers", "2") as base:
        yield base


def test_memory_backend_is_stopped_too(memory_server: str) -> None:
    """rdflib's engine cannot be interrupted either: its worker is killed at the limit."""
    with httpx.Client(base_url=memory_server, timeout=60) as c:
        assert c.get("/sparql", params={"query": LABELS}).status_code == 200
        page = c.get("/id/place/al-khalis", headers={"Accept": "text/html"})
        assert "Al Khalis is a town located in Diyala province" in page.text
        t0 = time.monotonic()
        r = c.post("/sparql", data={"query": CARTESIAN_SORTED})
        assert r.status_code == 503
        assert time.monotonic() - t0 < 2 + 5
        for _ in range(3):
            assert c.get("/sparql", params={"query": COUNT}).status_code == 200


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_a_worker_killed_while_idle_is_replaced(memory_server: str) -> None:
    import signal

    pids = worker_pids(SERVER_PIDS[memory_server])
    assert len(pids) == 2
    os.kill(pids[0], signal.SIGKILL)
    time.sleep(0.2)
    with httpx.Client(base_url=memory_server, timeout=60) as c:
        for _ in range(6):  # every request succeeds: the dead worker is skipped and replaced
            assert c.get("/sparql", params={"query": COUNT}).status_code == 200
    deadline = time.monotonic() + 30
    while len(worker_pids(SERVER_PIDS[memory_server])) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(worker_pids(SERVER_PIDS[memory_server])) == 2


def test_shapes_document(client: httpx.Client) -> None:
    import rdflib

    ttl = client.get("/shapes", headers={"Accept": "text/turtle"})
    assert ttl.status_code == 200
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    g = rdflib.Graph().parse(data=ttl.text, format="turtle")
    assert any(g.subjects(rdflib.RDF.type, sh.NodeShape))
    page = client.get("/shapes", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "sh:NodeShape" in page.text
    assert "<script" not in page.text
    # every RDF format /ontology is served in, negotiated the same way: the same graph
    shapes = rdflib.Graph().parse(data=ttl.text, format="turtle")
    for media, fmt in (
        ("application/ld+json", "json-ld"),
        ("application/n-triples", "nt"),
        ("application/rdf+xml", "xml"),
    ):
        answer = client.get("/shapes", headers={"Accept": media})
        assert answer.status_code == 200, media
        assert answer.headers["content-type"].split(";")[0] == media
        assert client.get("/ontology", headers={"Accept": media}).status_code == 200
        parsed = rdflib.Graph().parse(data=answer.text, format=fmt)
        assert_isomorphic(parsed, shapes, media)
    assert (
        client.get("/shapes?format=nt").headers["content-type"].startswith("application/n-triples")
    )
    assert client.get("/shapes", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406


BOUNDED = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Bounded, derandomized examples: the same cases on every run and in CI."""

MEDIA_RANGES = st.sampled_from(
    [
        "text/html",
        "application/xhtml+xml",
        "text/turtle",
        "application/ld+json",
        "application/n-triples",
        "application/rdf+xml",
        "text/*",
        "application/*",
        "*/*",
        "image/png",
        "text/plain",
        "application/json",
        "nonsense",
    ]
)
ACCEPT = st.lists(
    st.tuples(MEDIA_RANGES, st.sampled_from(["", ";q=0", ";q=0.2", ";q=0.9", ";q=1", ";q=x"])),
    max_size=4,
).map(lambda ranges: ", ".join(media + q for media, q in ranges))


@BOUNDED
@given(accept=ACCEPT)
def test_shapes_are_negotiated_as_the_ontology_is(client: httpx.Client, accept: str) -> None:
    """Any Accept header: /shapes and /ontology answer with the same status and media
    type (one code path), 200 or 406, never another."""
    shapes = client.get("/shapes", headers={"Accept": accept})
    ontology = client.get("/ontology", headers={"Accept": accept})
    assert shapes.status_code in (200, 406), accept
    assert shapes.status_code == ontology.status_code, accept
    media = shapes.headers["content-type"].split(";")[0]
    assert media == ontology.headers["content-type"].split(";")[0], accept


STATIC_FILES = {
    p.read_bytes()
    for p in Path(__file__).parent.parent.joinpath("src/khalis_kg/static").rglob("*")
    if p.is_file()
}


@BOUNDED
@given(name=st.text(alphabet="abcijLICENSE./%2Fey-_09", max_size=30))
def test_static_serves_only_its_own_files(client: httpx.Client, name: str) -> None:
    """Any name under /static/: one of the page's files, or a 404; nothing else is read."""
    r = client.get("/static/" + name)
    assert r.status_code in (200, 404), name
    if r.status_code == 200:
        assert r.content in STATIC_FILES, name


def test_memory_backend_makes_no_outbound_reads(memory_server: str, tmp_path: Path) -> None:
    """rdflib's engine would fetch FROM graphs and SERVICE endpoints: never through us."""
    secret = tmp_path / "secret.ttl"
    secret.write_text('<urn:x> <urn:y> "TOP-SECRET-rdflib" .\n')
    listener = Listener()
    url = f"http://127.0.0.1:{listener.port}/g.ttl"
    try:
        with httpx.Client(base_url=memory_server, timeout=30) as c:
            for query in (
                f"SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
                f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
                f"SELECT * FROM <{secret.resolve().as_uri()}> WHERE {{ ?s ?p ?o }}",
                f"LOAD <{url}>",
            ):
                r = c.post("/sparql", data={"query": query})
                assert r.status_code in {400, 403}, (query, r.text)
                assert "TOP-SECRET" not in r.text
        time.sleep(0.5)
        assert listener.connections == 0
    finally:
        listener.close()


def test_serve_without_the_server_extra_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # import uvicorn → ImportError
    done = invoke(["serve"])
    assert done.exit_code == 2
    assert "pip install 'khalis-kg[server]'" in done.output
    assert "Traceback" not in done.output


# ------------------------------------------------------------------ an on-disk store
def _threads(pid: int) -> list[str]:
    """The names of the threads of process ``pid`` (Linux /proc), sorted."""
    return sorted(p.read_text().strip() for p in Path(f"/proc/{pid}/task").glob("*/comm"))


def test_serve_an_on_disk_store_in_place(tmp_path: Path) -> None:
    """``serve --store DIR``: each worker opens the store read-only, nothing is loaded;
    the answers are the store's, a worker killed at the time limit comes back on the
    same store, and nothing in the store changes. The server itself never opens it: no
    RocksDB thread runs in the process its workers are forked from (a fork while one
    holds a lock of RocksDB's can leave the child waiting for ever). The store a worker
    holds does not count against a query's memory limit, as a loaded graph does not
    (opening it under the smallest limit crashed the worker)."""
    from khalis_kg import KnowledgeGraph

    store = tmp_path / "store"
    with KnowledgeGraph.build_store(store, with_ontology=True) as kg:
        held = kg.backend.triple_count()  # counted over the quads, not by SPARQL
    before = files_of(store)
    count = {"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"}
    accept = {"Accept": "application/sparql-results+json"}
    with (
        run_server(
            "--store", str(store), "--workers", "1", "--timeout", "1", "--memory-limit", "64M"
        ) as base,
        httpx.Client(base_url=base, timeout=30, verify=tls_context()) as c,
    ):
        answer = c.get("/sparql", params=count, headers=accept).json()
        assert answer["results"]["bindings"][0]["n"]["value"] == str(held)
        server, (worker,) = SERVER_PIDS[base], worker_pids(SERVER_PIDS[base])
        assert [name for name in _threads(server) if "rocksdb" in name] == []
        assert "rocksdb:low" in _threads(worker)
        page = c.get("/id/place/al-khalis", headers={"Accept": "text/html"})
        assert "Al Khalis is a town located in Diyala province" in page.text
        stopped = c.post("/sparql", data={"query": CARTESIAN_SORTED})
        assert stopped.status_code == 503
        again = c.get("/sparql", params=count, headers=accept).json()  # a new worker
        assert again == answer
    assert files_of(store) == before


def test_serve_store_refuses_what_would_be_ignored(tmp_path: Path) -> None:

    data = tmp_path / "a.ttl"
    data.write_text("<http://e/a> <http://e/p> 1 .\n", "utf-8")
    usage = "khalis-kg: error: --store DIR reads the store as it is: give no "
    for extra, named in (
        (["--data", str(data)], "--data"),
        (["--without-ontology"], "--without-ontology"),
        (["--named-graph", f"http://e/g={data}"], "--named-graph"),
        (["--data", str(data), "--without-ontology"], "--data, --without-ontology"),
    ):
        done = invoke(["serve", "--store", str(tmp_path), *extra])
        assert (done.exit_code, done.stderr) == (2, usage + named + "\n")
    done = invoke(["serve", "--store", str(tmp_path), "--backend", "memory"])
    assert (done.exit_code, done.stderr) == (
        2,
        "khalis-kg: error: --store DIR is an Oxigraph store: use --backend oxigraph\n",
    )


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"workers": -1}, "workers"),
        ({"timeout": float("nan")}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"max_results": 0}, "max_results"),
        ({"queue_timeout": float("inf")}, "queue_timeout"),
        ({"body_timeout": -1.0}, "body_timeout"),
        ({"remote_timeout": 0}, "remote_timeout"),
        ({"memory_limit": 1024}, "memory_limit"),
    ],
)
def test_serve_from_python_checks_its_numbers_before_starting(
    given: dict[str, object], named: str
) -> None:
    """``serve(Settings(...))`` called from Python: a bad number is one ParameterError
    naming it when the settings are made, before any worker or socket (not a ValueError
    from the pool, nor a server whose every query then fails)."""
    from khalis_kg.errors import ParameterError
    from khalis_kg.server import Settings

    with pytest.raises(ParameterError, match=named):
        Settings(**given)  # type: ignore[arg-type]

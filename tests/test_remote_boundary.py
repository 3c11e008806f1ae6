"""The remote boundary, proven on classes of answers (issue 20): a store is untrusted input.

A fake store (http.server on 127.0.0.1) serves what Hypothesis generates: valid and
malformed SPARQL JSON results (SELECT and ASK), answers in the other results formats
(XML, CSV, TSV), N-Triples and N-Quads answers (CONSTRUCT, Graph Store GET), every status
code on reads and writes, and bodies dripped one byte at a time. Every example ends in the
right answer or a typed error (``RemoteAnswerError`` / ``RemoteStoreError``, exit 6)
within the remote timeout: never a wrong answer, never a builtin exception, never a hang.
Valid answers are generated with the answer they must give (the oracle); invalid ones
are invalid by construction (one field of a valid answer given a wrong type, a body cut
short...), so no second validator is needed to tell them apart.

The examples are bounded and derandomized (:data:`PROFILE`); the module takes ~10 s.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from helpers import free_port, invoke
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from khalis_kg.api import KnowledgeGraph
from khalis_kg.backends.remote import RemoteBackend
from khalis_kg.errors import (
    EXIT_REMOTE,
    InputError,
    KhalisError,
    QuerySyntaxError,
    RemoteAnswerError,
    RemoteStoreError,
)
from khalis_kg.loader import load_to_store
from khalis_kg.results import sort_rows
from khalis_kg.terms import Term

PROFILE = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
"""Bounded, derandomized examples: the same cases on every run and in CI."""
FEW = settings(PROFILE, max_examples=10)
"""For the classes whose every example waits for a deadline, or forks the CLI's child."""

TIMEOUT = 0.6
"""The remote timeout of the drip examples, in seconds."""
SLACK = 1.0
"""How much later than the deadline an exchange may end (thread hand-over, a loaded
machine: the ends measured are within 0.05 s)."""
START = 10.0
"""Seconds a command-line process may take to start and stop on a loaded machine."""

JSON = "application/sparql-results+json"
NT = "application/n-triples"
NQ = "application/n-quads"
SELECT = "SELECT * WHERE { ?s ?p ?o }"
PROJECTED = "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"
"""Its answer's columns are read as the store gives them (SELECT *'s are then put in the
order the query's variables first appear, on every engine: Backend.query)."""
CONSTRUCT = "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }"
CANARY = "canary-Zq7xK2p9-secret"

ATTEMPTS: dict[str, int] = {}
"""Examples run per class, printed at the end of the module (for the issue's note)."""


def count(kind: str) -> None:
    ATTEMPTS[kind] = ATTEMPTS.get(kind, 0) + 1


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    print("\nremote boundary attempts per class:", json.dumps(ATTEMPTS, sort_keys=True))


# ------------------------------------------------------------------ the fake store
@dataclass
class Script:
    """What the fake store answers next."""

    status: int = 200
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    declared: int | None = None
    """Content-Length to announce (None: the body's length)."""
    drip: float = 0.0
    """Seconds between the body's bytes (0: all at once)."""
    count_answer: bytes | None = None
    """The answer to a COUNT query (serve's start-up), when it differs; then a GRAPH
    query (the start-up's other one) is answered with no graphs."""


class FakeStore:
    """A 127.0.0.1 HTTP server answering every request with :attr:`script`; each
    request's method, path and Authorization header is recorded."""

    def __init__(self) -> None:
        self.script = Script()
        self.seen: list[tuple[str, str, str | None]] = []
        store = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                sent = self.rfile.read(length) if length else b""
                store.seen.append((self.command, self.path, self.headers.get("Authorization")))
                script = store.script
                body = script.body
                if script.count_answer is not None and b"COUNT" in sent:
                    body = script.count_answer
                elif script.count_answer is not None and b"GRAPH" in sent:
                    body = b'{"head": {"vars": ["g"]}, "results": {"bindings": []}}'

                self.send_response(script.status)
                self.send_header("Content-Type", script.content_type)
                for name, value in script.headers:
                    self.send_header(name, value)
                declared = len(body) if script.declared is None else script.declared
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                try:
                    if not script.drip:
                        self.wfile.write(body)
                        return
                    stop = time.monotonic() + 10.0  # bounded, whatever the client does
                    for i in range(len(body)):
                        if time.monotonic() > stop:
                            return
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                        time.sleep(script.drip)
                except (BrokenPipeError, ConnectionResetError):
                    return

            do_GET = do_POST = do_PUT = _answer  # noqa: N815 (http.server's names)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,))
        self.thread.daemon = True
        self.thread.start()

    def serve(self, script: Script) -> None:
        self.script = script
        self.seen.clear()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture(scope="module")
def store() -> Iterator[FakeStore]:
    fake = FakeStore()
    try:
        yield fake
    finally:
        fake.close()


def backend(store: FakeStore, timeout: float = 5.0, **extra: Any) -> RemoteBackend:
    return RemoteBackend(store.url + "/sparql", timeout=timeout, env={}, **extra)


def run(store: FakeStore, script: Script, query: str = SELECT, timeout: float = 5.0) -> Any:
    """The backend's answer to ``query`` when the store answers ``script``."""
    store.serve(script)
    engine = backend(store, timeout)
    try:
        return engine.query(query)
    finally:
        engine.close()


# ------------------------------------------------------------------ strategies
# SPARQL 1.1's VARNAME: a digit may lead, most of Unicode's letters are letters
NAMES = st.sampled_from(["s", "p", "o", "a", "b_1", "1x", "0", "é", "x·y", "ω‿z", "名"])
SAFE_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
IRIS = st.builds(
    lambda path, fragment: "http://example.org/" + path + fragment,
    st.text(st.sampled_from("abcxyz019-_~/é"), max_size=8),
    st.sampled_from(["", "#", "#f"]),
)
LANGS = st.from_regex(r"\A[a-z]{2}(-[A-Z]{2})?\Z")
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | SAFE_TEXT,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(SAFE_TEXT, kids, max_size=3),
    max_leaves=6,
)


@st.composite
def terms(draw: st.DrawFn) -> tuple[dict[str, Any], Term]:
    """A valid SPARQL JSON term and the Term it must be read as."""
    kind = draw(st.sampled_from(["uri", "literal", "lang", "typed", "bnode"]))
    if kind == "uri":
        iri = draw(IRIS)
        return {"type": "uri", "value": iri}, Term.iri(iri)
    if kind == "bnode":
        label = "b" + str(draw(st.integers(0, 99)))
        return {"type": "bnode", "value": label}, Term.bnode(label)
    text = draw(SAFE_TEXT)
    if kind == "lang":
        lang = draw(LANGS)
        return {"type": "literal", "value": text, "xml:lang": lang}, Term.literal(text, lang=lang)
    if kind == "typed":
        datatype = draw(IRIS)
        json_type = draw(st.sampled_from(["literal", "typed-literal"]))
        return {"type": json_type, "value": text, "datatype": datatype}, Term.literal(
            text, datatype
        )
    return {"type": "literal", "value": text}, Term.literal(text)


@st.composite
def select_answers(draw: st.DrawFn) -> tuple[dict[str, Any], list[str], list[dict[str, Term]]]:
    """A valid SELECT answer, its variables and its rows."""
    variables = draw(st.lists(NAMES, unique=True, max_size=4))
    rows_json, rows = [], []
    for _ in range(draw(st.integers(0, 4))):
        bound = draw(st.lists(st.sampled_from(variables), unique=True)) if variables else []
        pairs = {name: draw(terms()) for name in bound}
        rows_json.append({n: pair[0] for n, pair in pairs.items()})
        rows.append({n: pair[1] for n, pair in pairs.items()})
    answer = {"head": {"vars": variables}, "results": {"bindings": rows_json}}
    return answer, variables, rows


def not_(kind: type | tuple[type, ...]) -> st.SearchStrategy[Any]:
    return JSON_VALUES.filter(lambda v: not isinstance(v, kind))


BREAKS = [
    "head",
    "vars",
    "var-name",
    "results",
    "bindings",
    "solution",
    "term",
    "term-type",
    "value",
    "lang",
    "datatype",
    "unknown-var",
    "boolean",
    "top",
    "truncated",
    "deep",
    "not-utf8",
    "surrogate",
]
"""The ways a SELECT answer is broken, each by construction."""


@st.composite
def broken_select_answers(draw: st.DrawFn, how: str) -> bytes:
    """A SELECT answer that is invalid by construction, broken the way ``how`` says."""
    answer, variables, _ = draw(select_answers())
    bindings = answer["results"]["bindings"]
    if how in ("term", "term-type", "value", "lang", "datatype"):
        variables.append("z")
        bindings.append({"z": {"type": "literal", "value": "x"}})
    term = bindings[-1]["z"] if bindings and "z" in bindings[-1] else None
    if how == "head":
        answer["head"] = draw(not_(dict))
    elif how == "vars":
        answer["head"]["vars"] = draw(not_(list))
    elif how == "var-name":
        not_a_name = not_(str) | st.sampled_from(["", "x-y", "a b", "?x", "·x"])
        answer["head"]["vars"] = [*variables, draw(not_a_name)]
    elif how == "results":
        if draw(st.booleans()):
            del answer["results"]
        else:
            answer["results"] = draw(not_(dict))
    elif how == "bindings":
        answer["results"]["bindings"] = draw(not_(list))
    elif how == "solution":
        bindings.append(draw(not_(dict)))
    elif how == "term":
        bindings[-1]["z"] = draw(not_(dict))
    elif how == "term-type" and term is not None:
        term["type"] = draw(not_(str) | st.sampled_from(["URI", "triple", "", "literal "]))
    elif how == "value" and term is not None:
        term["value"] = draw(not_(str))
    elif how == "lang" and term is not None:
        term["xml:lang"] = draw(not_(str) | st.sampled_from(["", "en_GB", "x" * 9, "e n"]))
    elif how == "datatype" and term is not None:
        term["datatype"] = draw(not_(str) | st.sampled_from(["", "integer", "<http://x>"]))
    elif how == "unknown-var":
        bindings.append({"not_in_head": {"type": "literal", "value": "x"}})
    elif how == "boolean":
        answer["boolean"] = draw(st.booleans())  # an ASK answer to a SELECT
    elif how == "top":
        return json.dumps(draw(not_(dict))).encode()
    text = json.dumps(answer).encode()
    if how == "truncated":
        return text[: draw(st.integers(0, len(text) - 1))]
    if how == "deep":
        depth = draw(st.integers(2_000, 200_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a":', b"}")]))
        nested = opener * depth + b"1" + closer * depth
        return text[:-1] + b', "extra": ' + nested + b"}"
    if how == "not-utf8":
        return text[:-1] + b', "x": "\xff\xfe"}'
    if how == "surrogate":
        answer["head"]["vars"] = [*variables, "\ud800"]
        return json.dumps(answer).encode()
    return text


# ------------------------------------------------------------------ SELECT and ASK
@PROFILE
@given(case=select_answers())
def test_a_valid_select_answer_is_read_exactly(
    store: FakeStore, case: tuple[dict[str, Any], list[str], list[dict[str, Term]]]
) -> None:
    count("json-select-valid")
    answer, variables, rows = case
    result = run(store, Script(body=json.dumps(answer).encode()), PROJECTED)
    assert (result.form, result.variables) == ("select", variables)
    assert result.rows == sort_rows(rows, variables)


def test_select_star_columns_are_in_the_query_order_whatever_the_store_says(
    store: FakeStore,
) -> None:
    """SELECT *: the store chooses an order of the columns (Virtuoso's is not the query's);
    the backend gives the order in which the variables first appear in the query, as the
    embedded engines do, and the variables the query does not name after them."""
    answer = {"head": {"vars": ["o", "x", "s", "p"]}, "results": {"bindings": []}}
    result = run(store, Script(body=json.dumps(answer).encode()))
    assert result.variables == ["s", "p", "o", "x"]


@PROFILE
@given(case=select_answers())
def test_a_select_answer_is_read_whatever_the_order_of_its_members(
    store: FakeStore, case: tuple[dict[str, Any], list[str], list[dict[str, Term]]]
) -> None:
    """JSON members are unordered: ``results`` first, members after ``bindings`` (as
    Virtuoso's ``distinct``/``ordered``) and after ``results``, ``head.link``: read."""
    count("json-select-reordered")
    answer, variables, rows = case
    results = {**answer["results"], "distinct": False, "ordered": True}
    body = {"results": results, "head": {**answer["head"], "link": []}, "extra": 1}
    result = run(store, Script(body=json.dumps(body).encode()), PROJECTED)
    assert (result.form, result.variables) == ("select", variables)
    assert result.rows == sort_rows(rows, variables)


@pytest.mark.parametrize("how", BREAKS)
@settings(PROFILE, max_examples=6)
@given(data=st.data())
def test_a_broken_select_answer_is_a_typed_error(
    store: FakeStore, how: str, data: st.DataObject
) -> None:
    body = data.draw(broken_select_answers(how))
    count(f"json-select-broken:{how}")
    with pytest.raises(RemoteAnswerError) as info:
        run(store, Script(body=body))
    message = str(info.value)
    assert message.startswith(store.url + "/sparql: the answer is not valid SPARQL JSON results")
    assert "\n" not in message
    assert "query is nested" not in message  # the store's answer is blamed, not the query


@PROFILE
@given(value=JSON_VALUES, head=st.booleans())
def test_ask_answers_are_strict_booleans(store: FakeStore, value: Any, head: bool) -> None:
    count("json-ask")
    answer: dict[str, Any] = {"boolean": value}
    if head:
        answer["head"] = {}
    body = json.dumps(answer).encode()
    if head and isinstance(value, bool):
        assert run(store, Script(body=body), "ASK {}").boolean is value
    else:  # "false", 0, null, [] ... or no head: never read as an answer
        with pytest.raises(RemoteAnswerError, match="not valid SPARQL JSON results"):
            run(store, Script(body=body), "ASK {}")


@PROFILE
@given(
    kind=st.sampled_from(
        ["application/sparql-results+xml", "text/csv", "text/tab-separated-values"]
    ),
    body=st.one_of(
        st.binary(max_size=200),
        st.just(b'<?xml version="1.0"?><sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                b'<head/><boolean>true</boolean></sparql>'),
        st.just(b"s,p,o\r\nhttp://e/a,http://e/p,1\r\n"),
        st.just(b"?s\t?p\t?o\n<http://e/a>\t<http://e/p>\t1\n"),
        st.just(b'{"head": {"vars": []}, "results": {"bindings": []}}'),
    ),
    query=st.sampled_from([SELECT, "ASK {}"]),
)  # fmt: skip
def test_other_results_formats_are_refused(
    store: FakeStore, kind: str, body: bytes, query: str
) -> None:
    """JSON is asked for: an answer in XML, CSV or TSV (valid or not) is not guessed at."""
    count("xml-csv-tsv")
    with pytest.raises(RemoteAnswerError, match="not the SPARQL JSON results asked for"):
        run(store, Script(body=body, content_type=kind), query)


# ------------------------------------------------------------------ RDF answers
TRIPLES = st.lists(
    st.tuples(IRIS, IRIS, IRIS | SAFE_TEXT.map(lambda t: json.dumps(t, ensure_ascii=False))),
    max_size=5,
    unique=True,
)


def ntriples(triples: list[tuple[str, str, str]]) -> bytes:
    lines = [
        f"<{s}> <{p}> {o if o.startswith(chr(34)) else '<' + o + '>'} .\n" for s, p, o in triples
    ]
    return "".join(lines).encode("utf-8")


@PROFILE
@given(
    triples=TRIPLES,
    damage=st.sampled_from(["none", "cut", "garbage", "not-utf8", "quad"]),
    cut=st.integers(1, 200),
    garbage=st.text(max_size=20),
)
def test_construct_answers_are_parsed_whole(
    store: FakeStore, triples: list[tuple[str, str, str]], damage: str, cut: int, garbage: str
) -> None:
    count(f"ntriples:{damage}")
    body = ntriples(triples)
    if damage == "cut":  # inside the last statement: it loses its " ." at least
        last = len(body.splitlines()[-1]) if body else 0
        body = body[: len(body) - 2 - cut % max(last - 1, 1)] if body else b"<http://e/a>"
    elif damage == "garbage":
        body += f"<http://e/a> <http://e/p> {garbage!r} \n".encode()
    elif damage == "not-utf8":
        body += b'<http://e/a> <http://e/p> "\xff" .\n'
    elif damage == "quad":
        body += b"<http://e/a> <http://e/p> <http://e/o> <http://e/g> .\n"
    script = Script(body=body, content_type=NT)
    if damage == "none":
        result = run(store, script, CONSTRUCT)
        expected = {
            (Term.iri(s), Term.iri(p), Term.literal(json.loads(o)) if o[0] == '"' else Term.iri(o))
            for s, p, o in triples
        }
        assert set(result.triples) == expected
        return
    with pytest.raises(RemoteAnswerError, match="the answer is not valid N-Triples"):
        run(store, script, CONSTRUCT)


@PROFILE
@given(body=st.binary(max_size=120), graph=st.booleans())
def test_graph_store_dumps_are_validated(store: FakeStore, body: bytes, graph: bool) -> None:
    """A Graph Store GET (``export`` from a remote store) is parsed before it is used."""
    count("gsp-get")
    kind = NT if graph else NQ
    body = b"<http://e/a> <http://e/p> " + body  # never a valid statement: no end
    store.serve(Script(body=body, content_type=kind))
    engine = RemoteBackend(
        store.url + "/sparql",
        store_url=store.url + "/store",
        env={},
        graph="http://e/g" if graph else None,
    )
    try:
        with pytest.raises(RemoteAnswerError, match=r"the answer is not valid N-(Triples|Quads)"):
            engine.dump()
    finally:
        engine.close()


# ------------------------------------------------------------------ status codes
@PROFILE
@given(status=st.integers(200, 599), location=st.sampled_from([None, "elsewhere", "same"]))
@example(status=204, location=None)  # once generated in a full run only: pinned
def test_read_status_codes(store: FakeStore, status: int, location: str | None) -> None:
    """2xx is an answer; a redirect is followed only to the same origin (here it
    redirects forever: the limit ends it), never elsewhere; 400 blames the query;
    everything else is the store failing."""
    count("status-read")
    headers = []
    if location == "elsewhere":
        headers = [("Location", "http://127.0.0.2:9/sparql")]
    elif location == "same":
        headers = [("Location", "/sparql")]
    script = Script(status=status, body=b'{"head": {}, "boolean": true}', headers=headers)
    if 200 <= status < 300 and status != 204:
        assert run(store, script, "ASK {}").boolean is True
        return
    expected: type[KhalisError] = QuerySyntaxError if status == 400 else RemoteStoreError
    if status == 204:  # No Content: HTTP carries no body, so there is no answer
        expected = RemoteAnswerError
    with pytest.raises(expected) as info:
        run(store, script, "ASK {}")
    assert type(info.value) is expected
    if 300 <= status < 400 and location == "elsewhere" and status in (307, 308):
        assert "another origin, http://127.0.0.2:9/sparql: not followed" in str(info.value)
    assert all(path.startswith("/sparql") for _, path, _ in store.seen)


@PROFILE
@given(
    status=st.sampled_from([400, 500, 503]),
    charset=st.sampled_from(["hex", "uu_codec", "idna", "undefined", "punycode", "utf-8"]),
)
def test_an_error_answer_in_any_declared_charset_is_one_typed_line(
    store: FakeStore, status: int, charset: str
) -> None:
    """The first line of an error answer is shown whatever charset the store declares:
    one a Python codec cannot decode text with (``hex``) is read as UTF-8."""
    count("status-charset")
    script = Script(
        status=status, body=b"oops \xff\\x", content_type=f"text/plain; charset={charset}"
    )
    expected: type[KhalisError] = QuerySyntaxError if status == 400 else RemoteStoreError
    with pytest.raises(expected) as info:
        run(store, script, "ASK {}")
    assert "oops" in str(info.value)
    assert "\n" not in str(info.value)


@PROFILE
@given(
    status=st.integers(200, 599),
    location=st.sampled_from(["/store?default", "http://127.0.0.2:9/x"]),
)
def test_write_status_codes(
    store: FakeStore, tmp_path_factory: pytest.TempPathFactory, status: int, location: str
) -> None:
    """A write succeeds only on the store's 2xx; a 3xx names its Location and is not
    followed (one request reached the store)."""
    count("status-write")
    data = tmp_path_factory.getbasetemp() / "one.nt"
    data.write_bytes(b"<http://e/a> <http://e/p> <http://e/o> .\n")
    store.serve(Script(status=status, body=b"", headers=[("Location", location)]))
    if 200 <= status < 300:
        report = load_to_store(store.url + "/store", [data], env={})
        assert (report.status, report.triples) == (status, 1)
        return
    with pytest.raises(RemoteStoreError) as info:
        load_to_store(store.url + "/store", [data], env={})
    if 300 <= status < 400:
        where = location if location.startswith("http") else store.url + location
        assert f"Location {where}: nothing was stored" in str(info.value)
    assert len(store.seen) == 1


# ------------------------------------------------------------------ slow answers
@FEW
@given(
    drip=st.floats(0.05, 0.3),
    declared=st.sampled_from([None, 10_000]),
    query=st.sampled_from([SELECT, CONSTRUCT, "ASK {}"]),
)
def test_a_dripping_answer_ends_at_the_deadline(
    store: FakeStore, drip: float, declared: int | None, query: str
) -> None:
    """Headers at once, then one byte every ``drip`` seconds: each read is quick, the
    exchange is not. It ends at the remote timeout, whatever the read timeouts say."""
    count("drip")
    body = b'{"head": {}, "boolean": true}' + b" " * 200
    started = time.monotonic()
    with pytest.raises(RemoteStoreError, match=f"did not arrive whole within {TIMEOUT:g} s"):
        run(store, Script(body=body, drip=drip, declared=declared), query, timeout=TIMEOUT)
    assert time.monotonic() - started < TIMEOUT + SLACK


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_an_answer_whose_content_coding_is_broken_is_an_error(
    store: FakeStore, coding: str
) -> None:
    count("content-coding")
    script = Script(body=b'{"head": {}, "boolean": true}', headers=[("Content-Encoding", coding)])
    with pytest.raises(RemoteAnswerError, match="content coding cannot be decoded"):
        run(store, script, "ASK {}")


def test_an_answer_shorter_than_announced_is_an_error(store: FakeStore) -> None:
    count("truncated-body")
    body = b'{"head": {}, "boolean": true}'
    with pytest.raises(RemoteStoreError, match="the answer broke off or broke the HTTP protocol"):
        run(store, Script(body=body, declared=len(body) + 100), "ASK {}")


def test_a_same_origin_redirect_is_followed_once_there(store: FakeStore) -> None:
    """A read follows a 307 to the same origin, and keeps its body (a form POST)."""
    other = FakeStore()
    try:
        other.serve(Script(status=307, headers=[("Location", store.url + "/sparql")]))
        store.serve(Script(body=b'{"head": {}, "boolean": false}'))
        engine = RemoteBackend(other.url + "/sparql", env={"KHALIS_KG_TOKEN": CANARY})
        try:
            with pytest.raises(RemoteStoreError, match="another origin"):
                engine.query("ASK {}")
        finally:
            engine.close()
        assert store.seen == []  # the token never went to the other origin
        other.serve(Script(status=307, headers=[("Location", "/moved")]))
        engine = RemoteBackend(other.url + "/sparql", env={})
        try:
            with pytest.raises(RemoteStoreError, match="more than 5 redirects"):
                engine.query("ASK {}")
        finally:
            engine.close()
        assert [path for _, path, _ in other.seen] == ["/sparql"] + ["/moved"] * 5
    finally:
        other.close()


# ------------------------------------------------------------------ the Python API
def _select(variables: list[str], *rows: dict[str, Any]) -> bytes:
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": list(rows)}}).encode()


IRI = {"type": "uri", "value": "http://e/a"}
LITERAL = {"type": "literal", "value": "x"}


@FEW
@given(
    case=st.sampled_from(
        [
            ("stats", _select(["class", "n"], {"class": IRI, "n": LITERAL})),
            ("stats", _select(["class", "n"], {"class": IRI})),
            ("stats", _select(["class", "n"], {"class": IRI, "n": {**LITERAL, "value": "-1"}})),
            ("export", _select(["s", "p", "o", "g"], {"p": IRI, "o": IRI})),
            ("export", _select(["s", "p", "o", "g"], {"s": LITERAL, "p": IRI, "o": IRI})),
            ("export", _select(["s", "p", "o", "g"], {"s": IRI, "p": LITERAL, "o": IRI})),
            ("export", _select(["s", "p", "o", "g"], {"s": IRI, "p": IRI, "o": IRI, "g": LITERAL})),
        ]
    )
)
def test_well_formed_answers_that_cannot_be_what_was_asked(
    store: FakeStore, case: tuple[str, bytes]
) -> None:
    """Valid SPARQL JSON, but a count that is no number, a triple without a subject:
    RemoteAnswerError from the API, never a KeyError or ValueError."""
    from khalis_kg import KnowledgeGraph

    verb, body = case
    count(f"api-{verb}")
    store.serve(Script(body=body))
    kg = KnowledgeGraph.connect(store.url + "/sparql", timeout=5.0)
    with kg, pytest.raises(RemoteAnswerError):
        kg.stats() if verb == "stats" else kg.export("nt")


def test_the_api_ends_a_dripping_answer_at_the_remote_timeout(store: FakeStore) -> None:
    """The issue's third reproduction: the query's own limit (5 s) is looser than the
    remote timeout (1 s), which bounds the exchange."""
    from khalis_kg import KnowledgeGraph

    count("api-drip")
    store.serve(Script(body=b"{}" + b" " * 100, drip=0.3))
    with KnowledgeGraph.connect(store.url + "/sparql", timeout=1.0) as kg:
        started = time.monotonic()
        with pytest.raises(RemoteStoreError, match="did not arrive whole within 1 s"):
            kg.sparql(SELECT, timeout=5)
        assert time.monotonic() - started < 1 + SLACK


# ------------------------------------------------------------------ the command line
CLI_CASES = st.sampled_from(
    [
        Script(body=b'{"head": [], "results": {"bindings": []}}'),
        Script(body=b'{"head": {"vars": ["s"]}, "results": {"bindings": ["x"]}}'),
        Script(body=b'{"head": {"vars": ["s"]}}'),
        Script(body=b"[" * 100_000 + b"]" * 100_000),
        Script(body=b"<sparql/>", content_type="application/sparql-results+xml"),
        Script(status=500, body=b"boom \x1b]0;title\x07 \x1b[2J"),
        Script(status=307, headers=[("Location", "http://127.0.0.2:9/")]),
        Script(body=b"{}" + b" " * 100, drip=0.2),
    ]
)


@FEW
@given(script=CLI_CASES, verb=st.sampled_from(["sparql", "query", "stats", "export", "validate"]))
def test_cli_remote_failures_are_one_line_exit_6(
    store: FakeStore, script: Script, verb: str
) -> None:
    count("cli")
    store.serve(script)
    args = ["--backend", "remote", "--endpoint", store.url + "/sparql", "--remote-timeout", "1"]
    tail = {
        "sparql": ["sparql", SELECT],
        "query": ["query", "casualties"],
        "stats": ["stats"],
        "export": ["export", "--format", "nt"],
        "validate": ["validate"],
    }[verb]
    started = time.monotonic()
    done = invoke([*args, *tail])
    assert time.monotonic() - started < 1 + SLACK + START  # one exchange failing stops the verb
    assert done.exit_code == EXIT_REMOTE, done.output
    lines = done.output.splitlines()
    assert len(lines) == 1, done.output
    assert lines[0].startswith("khalis-kg: error: ")
    assert "\x1b" not in done.output
    assert "\x07" not in done.output


def test_cli_drip_and_load_redirect_in_a_real_process(store: FakeStore, tmp_path: Path) -> None:
    """The issue's reproductions, as a user runs them: exit 6, one line on stderr."""
    count("cli-process")
    store.serve(Script(body=b"{}" + b" " * 100, drip=1.0))
    command = [sys.executable, "-m", "khalis_kg.cli", "--backend", "remote"]
    started = time.monotonic()
    done = subprocess.run(
        [*command, "--endpoint", store.url + "/q", "--remote-timeout", "2", "sparql", SELECT],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert time.monotonic() - started < 2 + SLACK + START
    assert (done.returncode, done.stdout) == (EXIT_REMOTE, "")
    assert done.stderr.count("\n") == 1
    assert "did not arrive whole within 2 s" in done.stderr
    data = tmp_path / "f.nt"
    data.write_bytes(b"<http://e/a> <http://e/p> <http://e/o> .\n")
    store.serve(Script(status=307, headers=[("Location", "http://127.0.0.2:9/store")]))
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.cli", "load", "--graph-store", store.url + "/store",
         str(data)],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (EXIT_REMOTE, "")
    assert done.stderr == (
        f"khalis-kg: error: {store.url}/store?default: the store answered the PUT with HTTP "
        "307, Location http://127.0.0.2:9/store: nothing was stored; give that URL instead\n"
    )


# ------------------------------------------------------------------ URLs and secrets
@PROFILE
@given(
    url=st.sampled_from(["http://[::1", "http://[::1]:99999/q", "ftp://h/q", "http:///q", "h/q"])
    | st.builds(
        lambda c, t: f"http://h/{t}{c}x",
        st.sampled_from("\r\n\t \x00\x1b\x7f\x85\udc80"),  # \udc80: a byte not UTF-8
        SAFE_TEXT,
    )
)
def test_endpoint_urls_are_checked_where_they_enter(url: str) -> None:
    count("url")
    with pytest.raises(InputError, match="not an http\\(s\\) endpoint URL") as info:
        RemoteBackend(url, env={})
    assert "\n" not in str(info.value)
    assert "\r" not in str(info.value)


@pytest.mark.parametrize(
    "url",
    [f"http://user:{CANARY}@[::1", f"http://user:{CANARY}@h/\rx", f"ftp://{CANARY}@h/q",
     f"http://{CANARY}:pw@h:99999/q", f"http://user:{CANARY}@h/q"],
)  # fmt: skip
def test_a_bad_url_with_credentials_is_refused_without_them(url: str) -> None:
    count("url-credentials")
    with pytest.raises(InputError) as info:
        RemoteBackend(url, env={})
    assert CANARY not in str(info.value)
    done = invoke(["--endpoint", url, "--backend", "remote", "stats"])
    assert done.exit_code == 2
    assert CANARY not in done.output


@PROFILE
@given(
    name=st.sampled_from(["KHALIS_KG_TOKEN", "KHALIS_KG_USER", "KHALIS_KG_PASSWORD"]),
    bad=st.sampled_from(["\r", "\n", "\x00", "\x1b", "\x7f", "\x85", "\udcff", " "]),
    where=st.sampled_from(["end", "start", "middle"]),
)
def test_secrets_are_checked_when_read(name: str, bad: str, where: str) -> None:
    count("secret-check")
    value = {"end": CANARY + bad, "start": bad + CANARY, "middle": CANARY[:6] + bad + CANARY[6:]}
    env = {"KHALIS_KG_USER": "ann", "KHALIS_KG_PASSWORD": "pwd", name: value[where]}
    if bad == " " and where == "middle" and name != "KHALIS_KG_TOKEN":
        RemoteBackend("http://127.0.0.1:9/q", env=env)  # a user name or password may have one
        return
    with pytest.raises(InputError) as info:
        RemoteBackend("http://127.0.0.1:9/q", env=env)
    message = str(info.value)
    assert message.startswith(name + " holds ")
    assert message.endswith("its value is not shown")
    assert CANARY[:6] not in message
    assert CANARY[6:] not in message


SECRET_NAMES = ["KHALIS_KG_TOKEN", "KHALIS_KG_USER", "KHALIS_KG_PASSWORD"]
TOKEN_CHARS = st.characters(min_codepoint=0x21, max_codepoint=0x7E)  # '*' and ':' too
"""What a token may hold (ASCII without a space); a user name has no colon."""


@PROFILE
@given(name=st.sampled_from(SECRET_NAMES), secret=st.text(TOKEN_CHARS, min_size=1, max_size=24))
@example(name="KHALIS_KG_PASSWORD", secret="dba")  # Virtuoso's default: 3 characters
@example(name="KHALIS_KG_TOKEN", secret="x**")  # the stars and a neighbour spell it again
def test_a_secret_of_any_length_is_refused_or_masked(name: str, secret: str) -> None:
    """The rule for credentials (http_session.MIN_SECRET): one or two characters are
    refused when read (one line naming the variable, never the value; exit 2), every
    longer secret is masked wherever a store echoes it: in an error answer's first
    line, in a redirect's Location, in an exception's text."""
    from khalis_kg.http_session import MIN_SECRET, Answer, HttpSession

    count("secret-length")
    if name == "KHALIS_KG_USER":
        secret = secret.replace(":", ";")
    env = {"KHALIS_KG_USER": "ann", "KHALIS_KG_PASSWORD": "pwd", name: secret}
    if len(secret) < MIN_SECRET:
        with pytest.raises(InputError) as info:
            HttpSession(env=env)
        assert str(info.value) == (
            f"{name} holds fewer than 3 characters (too short to keep out of messages); "
            "its value is not shown"
        )
        return
    session = HttpSession(env=env)
    auth = session.headers["Authorization"]
    echoes = (f"you sent {secret}", secret[0] + secret, auth, f"*{secret}*", secret[:-1])
    for echo in echoes:
        answer = Answer("http://h/q", 500, {}, echo.encode(), secrets=session._secrets)
        for shown in (answer.first_line(), session.mask(echo), repr(answer)):
            assert secret not in shown, (echo, shown)
            assert auth.split(" ", 1)[1] not in shown
        if "*" not in secret and secret not in "you sent ":
            assert session.mask(f"you sent {secret}.") == "you sent ***."


@PROFILE
@given(
    timeout=st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, 86_400, 86_400.5, 7 * 86_400, True, "5", None]),
    )
)
def test_the_remote_timeout_is_checked_once_with_every_time_limit(timeout: object) -> None:
    """One check, one limit, one message: the remote timeout accepts exactly what every
    time limit accepts (``checks.seconds``: more than 0, at most a day), and refuses the
    rest in the same words, whether it comes to the session, the backend or the facade."""
    from khalis_kg.checks import seconds
    from khalis_kg.errors import ParameterError
    from khalis_kg.http_session import HttpSession

    count("remote-timeout")
    try:
        expected: float | str = seconds(timeout, "the remote timeout")
    except ParameterError as exc:
        expected = str(exc)
    for make in (
        lambda: HttpSession(timeout=timeout, env={}).timeout,  # type: ignore[arg-type]
        lambda: RemoteBackend("http://h/q", timeout=timeout, env={}).http.timeout,  # type: ignore[arg-type]
    ):
        try:
            got: float | str = make()
        except ParameterError as exc:
            got = str(exc)
        assert got == expected


def _no_canary(*texts: object) -> None:
    for text in texts:
        assert CANARY not in str(text)
        assert CANARY not in repr(text)


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


ECHOES = [
    Script(status=500, body=f"you sent Bearer {CANARY}".encode()),
    Script(status=404, body=CANARY.encode()),
    Script(status=307, headers=[("Location", f"http://127.0.0.2:9/?t={CANARY}")]),
    Script(status=302, headers=[("Location", f"/x?t={CANARY}")]),
    Script(body=f'{{"head": {{"vars": ["{CANARY}"]}}}}'.encode()),
    Script(body=f"<{CANARY}> garbage".encode(), content_type=NT),
    Script(body=b"{}" + b" " * 50, drip=0.1),
]


@pytest.mark.parametrize("script", ECHOES, ids=lambda s: f"{s.status}-{s.content_type}")
def test_a_canary_secret_appears_nowhere(store: FakeStore, script: Script, tmp_path: Path) -> None:
    """A store that echoes the token (in its error body, in a Location) or answers
    oddly: the secret is in no message, repr, or exception of the chain, for the
    backend, the loader and the command line."""
    count("canary")
    env = {"KHALIS_KG_TOKEN": CANARY}
    store.serve(script)
    engine = RemoteBackend(store.url + "/sparql", env=env, timeout=TIMEOUT)
    query = CONSTRUCT if script.content_type == NT else SELECT
    with pytest.raises(KhalisError) as info:
        engine.query(query)
    _no_canary(engine, engine.http, *_chain(info.value))
    engine.close()
    assert all(auth == f"Bearer {CANARY}" for _, _, auth in store.seen)  # it was sent
    data = tmp_path / "f.nt"
    data.write_bytes(b"<http://e/a> <http://e/p> <http://e/o> .\n")
    if script.status != 200 or script.drip:
        with pytest.raises(KhalisError) as loaded:
            load_to_store(store.url + "/store", [data], env=env, timeout=TIMEOUT)
        _no_canary(*_chain(loaded.value))
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.cli", "--backend", "remote", "--endpoint",
         store.url + "/sparql", "--remote-timeout", str(TIMEOUT), "sparql", query],
        capture_output=True, text=True, timeout=30, check=False,
        env={**os.environ, **env},
    )  # fmt: skip
    assert done.returncode == EXIT_REMOTE, done.stderr
    _no_canary(done.stdout, done.stderr)
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("value", "why"),
    [(CANARY + "\r", "a control character or a line break (a file's line ending?)"),
     ("Zq", "fewer than 3 characters (too short to keep out of messages)")],
)  # fmt: skip
def test_a_bad_secret_in_the_environment_is_one_line_exit_2(
    store: FakeStore, value: str, why: str
) -> None:
    count("secret-cli")
    env = {**os.environ, "KHALIS_KG_TOKEN": value}
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.cli", "--backend", "remote", "--endpoint",
         store.url + "/sparql", "sparql", SELECT],
        capture_output=True, text=True, timeout=30, check=False, env=env,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"khalis-kg: error: KHALIS_KG_TOKEN holds {why}; its value is not shown\n"
    assert value not in done.stderr


# ------------------------------------------------------------------ serve
def _count_answer(value: str) -> bytes:
    term = {"type": "literal", "value": value}
    return json.dumps({"head": {"vars": ["n"]}, "results": {"bindings": [{"n": term}]}}).encode()


COUNT_OK = _count_answer("3")


@pytest.mark.server
def test_serve_answers_502_for_a_bad_store_answer(store: FakeStore) -> None:
    """The server in front of a store that answers oddly: HTTP 502 with one line, the
    canary secret in no answer and no log line, no traceback in the log."""
    import httpx
    from server_helpers import SERVER_LOGS, run_server

    count("serve-502")
    store.serve(Script(body=b'{"head": []}', count_answer=COUNT_OK))
    os.environ["KHALIS_KG_TOKEN"] = CANARY
    try:
        remote = ["--backend", "remote", "--endpoint", store.url + "/sparql"]
        with run_server(*remote, "--workers", "1", "--remote-timeout", "1") as base:
            answers = []
            for script in [Script(body=b'{"head": []}'), *ECHOES[:5]]:
                script.count_answer = COUNT_OK
                store.serve(script)
                got = httpx.post(base + "/sparql", data={"query": SELECT}, timeout=30)
                answers.append((got.status_code, got.text))
            store.serve(Script(body=b"{}" + b" " * 100, drip=0.2, count_answer=COUNT_OK))
            started = time.monotonic()
            got = httpx.post(base + "/sparql", data={"query": SELECT}, timeout=30)
            answers.append((got.status_code, got.text))
            elapsed = time.monotonic() - started
            log = SERVER_LOGS[base].read_text()
    finally:
        del os.environ["KHALIS_KG_TOKEN"]
    assert [status for status, _ in answers] == [502] * 7
    assert "did not arrive whole within 1 s" in answers[-1][1]
    assert elapsed < 1 + SLACK  # serve --remote-timeout bounds the exchange
    assert all(text.count("\n") == 1 for _, text in answers)
    _no_canary(answers, log)
    assert "Traceback" not in log


@pytest.mark.parametrize("value", ["x", "-1", "1.5", "\u00b2", "\u0663", "1" * 5000, ""])
def test_a_triple_count_that_is_not_a_plain_integer_is_remote_answer_error(
    store: FakeStore, value: str
) -> None:
    count("triple-count")
    store.serve(Script(body=_count_answer(value)))
    with pytest.raises(RemoteAnswerError, match="not one non-negative integer"):
        backend(store).triple_count()


@pytest.mark.parametrize("value", ["x", "\u00b2", "1" * 5000])
def test_stats_over_a_count_that_is_not_a_plain_integer_is_remote_answer_error(
    store: FakeStore, value: str
) -> None:
    count("stats-count")
    term = {"type": "literal", "value": value}
    body = {"head": {"vars": ["class", "n"]}, "results": {"bindings": [
        {"class": {"type": "uri", "value": "http://e/C"}, "n": term}]}}  # fmt: skip
    store.serve(Script(body=json.dumps(body).encode()))
    with (
        KnowledgeGraph.connect(store.url + "/sparql") as kg,
        pytest.raises(RemoteAnswerError, match="not a non-negative integer"),
    ):
        kg.stats()


@pytest.mark.server
@pytest.mark.parametrize(
    ("count_answer", "message"),
    [
        (b'{"head": []}', "the answer is not valid SPARQL JSON results ('head' is not an object)"),
        (b'{"head": {"vars": ["n"]}, "results": {"bindings": []}}', "not one non-negative integer"),
        (_count_answer("x"), "not one non-negative integer"),
        (_count_answer("\u00b2"), "not one non-negative integer"),  # isdigit(), not int()
        (_count_answer("1" * 5000), "not one non-negative integer"),  # past int()'s digits
    ],
)  # fmt: skip
def test_serve_start_up_with_an_odd_store_is_one_line_exit_6(
    store: FakeStore, count_answer: bytes, message: str
) -> None:
    count("serve-start")
    store.serve(Script(body=b"", count_answer=count_answer))
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.server", "--port", str(free_port()), "--workers", "1",
         "--backend", "remote", "--endpoint", store.url + "/sparql"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "KHALIS_KG_TOKEN": CANARY},
    )  # fmt: skip
    assert done.returncode == EXIT_REMOTE, done.stderr
    assert done.stderr.startswith("khalis-kg: error: ")
    assert done.stderr.count("\n") == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    _no_canary(done.stderr, done.stdout)


@pytest.mark.server
def test_serve_cannot_listen_is_one_line_exit_8(store: FakeStore) -> None:
    count("serve-port")
    port = store.url.rsplit(":", 1)[1]
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.server", "--port", port, "--workers", "1"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (8, "")
    assert (
        done.stderr
        == f"khalis-kg: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


@pytest.mark.server
def test_serve_with_data_that_cannot_be_read_is_one_line_exit_2(tmp_path: Path) -> None:
    count("serve-data")
    bad = tmp_path / "bad.ttl"
    bad.write_text("garbage <<\n", encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "khalis_kg.server", "--port", str(free_port()), "--workers", "1",
         "--data", str(bad)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout) == (2, "")
    assert re.fullmatch(
        r"khalis-kg: error: cannot load the knowledge graph: .*bad\.ttl:1: invalid turtle: .*\n",
        done.stderr,
    ), done.stderr

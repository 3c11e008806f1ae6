"""No outbound request and no file read, for a class of hostile queries, everywhere.

The corpus is generated (templates x spellings): ``SERVICE`` spelled in every case,
with codepoint escapes, comments, ``SILENT``, glued to a prefixed name, behind a
``BASE``, through a variable bound by ``BIND`` or ``VALUES``, nested in every kind of
group and expression; ``FROM``/``FROM NAMED`` naming a local file or the listener
through full IRIs, prefixed names (glued too), ``BASE``-relative IRIs, dot segments
and escapes; SPARQL Update spelled many ways (``LOAD`` included). Every variant goes
through each entry point (the API, the command line, HTTP ``/sparql`` as GET, form
POST and direct POST) on each backend (oxigraph, memory, and remote against a real
``oxigraph serve``), with a loopback listener that counts connections and a secret
file: zero connections, the secret never shown, and a one-line refusal everywhere
(exit code 2, HTTP 400 or 403).

The differential check: every variant the decision *admits* is also run on a bare
pyoxigraph store, unguarded, with the listener up: it must make no request either, so
for each variant the verifier and the engine agree, or the variant is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from helpers import Listener, OxigraphServer, invoke, listening, running_oxigraph
from server_helpers import run_server

from khalis_kg import KnowledgeGraph
from khalis_kg.errors import KhalisError, QueryRefusedError, QuerySyntaxError, ReadOnlyError
from khalis_kg.namespaces import PREFIXES
from khalis_kg.safety import decide

SECRET = "TOP-SECRET-c0ffee-5a1t"
HELD = "http://example.org/g"
DATA = (
    "<http://example.org/a> <http://example.org/p> 'public' .\n"
    f"<{HELD}> {{ <http://example.org/b> <http://example.org/p> 'in g' . }}\n"
)

REFUSED, READ_ONLY, UNVERIFIABLE, ADMITTED = "refused", "read-only", "unverifiable", "admitted"
ERRORS: dict[str, type[KhalisError]] = {
    REFUSED: QueryRefusedError,
    READ_ONLY: ReadOnlyError,
    UNVERIFIABLE: QuerySyntaxError,
}


def setup_module() -> None:
    """Import rdflib's SPARQL grammar here once, so that the command line's forked
    children (one per variant) do not each import and build it (~0.15 s) when this
    module runs before any other parsed a query in this process."""
    from khalis_kg.safety import decide

    decide("ASK {}")


# ------------------------------------------------------------------------ the listener
@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    with listening() as server:
        yield server


def test_the_listener_hears_an_unguarded_engine() -> None:
    """The control that makes every ``hits == []`` below mean something: bare pyoxigraph,
    with no decision in front of it, does reach the listener."""
    with listening() as fresh:
        with pytest.raises(OSError, match="500"):
            list(ox.Store().query(f"SELECT * WHERE {{ SERVICE <{fresh.url}x> {{ ?s ?p ?o }} }}"))
        fresh.settle(0.3)
        assert len(fresh.hits) == 1
        assert fresh.hits[0].startswith(b"POST /x HTTP/1.1")


# -------------------------------------------------------------------------- the corpus
@dataclass(frozen=True)
class Variant:
    name: str
    text: str
    expect: str


SERVICE_SPELLINGS = {
    "upper": "SERVICE",
    "lower": "service",
    "mixed": "SeRvIcE",
    "escaped-S": "\\u0053ERVICE",
    "escaped-I": "SERV\\u0049CE",
    "long-escape": "\\U00000053ervice",
    "silent": "SERVICE SILENT",
    "tab-silent": "service\tsilent",
    "comment": "SERVICE # a comment with a quote ' and a \" in it\n",
}


def service_variants(url: str) -> list[Variant]:
    host = url.removeprefix("http://")
    # target name -> (prologue, group prefix, how the keyword meets the target, expect)
    targets = {
        "iri": ("", "", " <{u}>", REFUSED),
        "iri-fragment": ("", "", " <{u}x#y>", REFUSED),
        "iri-escaped": ("", "", " <\\u0068ttp://" + host + ">", REFUSED),
        "glued-colon": ("PREFIX : <{u}>\n", "", ":x", REFUSED),
        "prefixed": ("PREFIX p: <{u}>\n", "", " p:x", REFUSED),
        "glued-prefixed": ("PREFIX pfx: <{u}>\n", "", "pfx:x", UNVERIFIABLE),
        "base-relative": ("BASE <{u}>\n", "", " <x>", REFUSED),
        "bind-variable": ("", "BIND(<{u}> AS ?u) ", " ?u", REFUSED),
        "values-variable": ("", "VALUES ?u { <{u}> } ", " ?u", REFUSED),
    }
    out = []
    for sname, spelling in SERVICE_SPELLINGS.items():
        for tname, (prologue, pre, target, expect) in targets.items():
            if tname == "glued-prefixed" and sname in ("comment", "silent", "tab-silent"):
                # not glued after the comment's newline; glued to SILENT, rdflib still
                # reads a SERVICE
                expect = REFUSED
            text = (
                prologue.replace("{u}", url)
                + "SELECT * WHERE { "
                + pre.replace("{u}", url)
                + spelling
                + target.replace("{u}", url)
                + " { ?s ?p ?o } }"
            )
            out.append(Variant(f"service-{sname}-{tname}", text, expect))
    return out


def nesting_variants(url: str) -> list[Variant]:
    s = f"SERVICE <{url}> {{ ?s ?p ?o }}"
    wrappers = {
        "group": "SELECT * WHERE {{ {{ {s} }} }}",
        "deep-group": "SELECT * WHERE {{ {{ {{ {{ {{ {s} }} }} }} }} }}",
        "optional": "SELECT * WHERE {{ ?a ?b ?c OPTIONAL {{ {s} }} }}",
        "minus": "SELECT * WHERE {{ ?a ?b ?c MINUS {{ {s} }} }}",
        "union": "SELECT * WHERE {{ {{ ?a ?b ?c }} UNION {{ {s} }} }}",
        "graph": "SELECT * WHERE {{ GRAPH ?g {{ {s} }} }}",
        "filter-exists": "SELECT * WHERE {{ ?a ?b ?c FILTER EXISTS {{ {s} }} }}",
        "filter-not-exists": "SELECT * WHERE {{ ?a ?b ?c FILTER (NOT EXISTS {{ {s} }}) }}",
        "subselect": "SELECT * WHERE {{ {{ SELECT * WHERE {{ {s} }} LIMIT 1 }} }}",
        "bind-exists": "SELECT * WHERE {{ BIND(EXISTS {{ {s} }} AS ?x) }}",
        "projection": "SELECT (EXISTS {{ {s} }} AS ?x) WHERE {{}}",
        "order-by": "SELECT * WHERE {{ ?a ?b ?c }} ORDER BY (EXISTS {{ {s} }})",
        "values-after": "SELECT * WHERE {{ {s} }} VALUES ?x {{ 1 }}",
        "ask": "ASK {{ {s} }}",
        "construct": "CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {s} }}",
        "describe": "DESCRIBE ?s WHERE {{ {s} }}",
        "after-string": 'SELECT * WHERE {{ ?a ?b "it\'s # not a comment" . {s} }}',
        "after-long-string": "SELECT * WHERE {{ ?a ?b '''a\n'b' # c''' . {s} }}",
    }
    # rdflib's grammar cannot read a SERVICE after a string holding '#': unverifiable.
    why = {"after-string": UNVERIFIABLE, "after-long-string": UNVERIFIABLE}
    out = [Variant(f"nested-{n}", w.format(s=s), why.get(n, REFUSED)) for n, w in wrappers.items()]
    out += [
        Variant(
            f"nested-{n}-lower",
            w.format(s=s.replace("SERVICE", "service silent")),
            why.get(n, REFUSED),
        )
        for n, w in wrappers.items()
    ]
    # A '#' inside a prefixed name starts a comment for SPARQL: both readers stop there.
    out.append(
        Variant(
            "hash-in-prefixed-name",
            "PREFIX kg: <http://e/>\n"
            f"SELECT * WHERE {{ ?s kg:a#b\nSERVICE <{url}> {{ ?s ?p ?o }} }}",
            UNVERIFIABLE,
        )
    )
    out.append(
        Variant(
            "hash-in-prefixed-name-hides-nothing",
            f"PREFIX kg: <http://e/>\nSELECT * WHERE {{ ?s kg:a#b }}\n{{ SERVICE <{url}> {{ }} }}",
            UNVERIFIABLE,
        )
    )
    out.append(
        Variant(
            "escape-expanding-to-escape",
            f"SELECT * WHERE {{ \\u005Cu0053ERVICE <{url}> {{ }} }}",
            UNVERIFIABLE,
        )
    )
    out.append(
        Variant(
            "escape-in-string",
            f'SELECT * WHERE {{ ?s ?p "\\u0022 }} SERVICE <{url}> {{ }} # " }}',
            UNVERIFIABLE,
        )
    )
    return out


def dataset_variants(url: str, secret: Path) -> list[Variant]:
    file_iri = secret.as_uri()
    folder = secret.parent.as_uri() + "/"
    escaped_file = file_iri.replace("file:", "file:\\u002F\\u002F", 1).replace("///", "/", 1)
    targets = {
        "file": ("", f"<{file_iri}>"),
        "listener": ("", f"<{url}g>"),
        "glued-colon": (f"PREFIX : <{folder}>\n", ":" + secret.name),
        "prefixed": (f"PREFIX f: <{folder}>\n", " f:" + secret.name),
        "base-relative": (f"BASE <{folder}>\n", f" <{secret.name}>"),
        "no-base-relative": ("", f" <{secret.name}>"),
        "dot-segments": ("", f" <{folder}x/../{secret.name}>"),
        "escaped": ("", f" <{escaped_file}>"),
    }
    kinds = {
        "from": "FROM",
        "from-lower": "from",
        "named": "FROM NAMED",
        "named-lower": "from named",
    }
    out = []
    for kname, kind in kinds.items():
        for tname, (prologue, target) in targets.items():
            sep = "" if target.startswith((":", " ")) else " "
            text = f"{prologue}SELECT * {kind}{sep}{target} WHERE {{ ?s ?p ?o }}"
            # FROM NAMED:x reads as FROM and the prefixed name NAMED:x (undeclared)
            glued_named = kname.startswith("named") and tname == "glued-colon"
            expect = UNVERIFIABLE if glued_named else REFUSED
            out.append(Variant(f"dataset-{kname}-{tname}", text, expect))
    out.append(Variant("dataset-ask", f"ASK FROM <{url}> {{ ?s ?p ?o }}", REFUSED))
    out.append(
        Variant(
            "dataset-construct",
            f"CONSTRUCT {{ ?s ?p ?o }} FROM <{file_iri}> WHERE {{ ?s ?p ?o }}",
            REFUSED,
        )
    )
    out.append(
        Variant(
            "dataset-describe",
            f"DESCRIBE ?s FROM NAMED <{file_iri}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}",
            REFUSED,
        )
    )
    out.append(
        Variant(
            "dataset-held-and-file",
            f"SELECT * FROM <{HELD}> FROM <{file_iri}> {{ ?s ?p ?o }}",
            REFUSED,
        )
    )
    return out


def update_variants(url: str, secret: Path) -> list[Variant]:
    file_iri = secret.as_uri()
    ops = {
        "insert-data": "INSERT DATA { <http://e/x> <http://e/p> 1 }",
        "delete-data": "DELETE DATA { <http://example.org/a> <http://example.org/p> 'public' }",
        "delete-where": "DELETE WHERE { ?s ?p ?o }",
        "load-file": f"LOAD <{file_iri}>",
        "load-silent": f"LOAD SILENT <{url}>",
        "load-into": f"LOAD <{url}> INTO GRAPH <http://e/x>",
        "load-escaped": f"\\u004cOAD <{file_iri}>",
        "clear-default": "CLEAR DEFAULT",
        "clear-all": "CLEAR ALL",
        "drop-graph": f"DROP GRAPH <{HELD}>",
        "drop-all": "DROP ALL",
        "create": "CREATE GRAPH <http://e/n>",
        "copy": "COPY DEFAULT TO <http://e/n>",
        "move": f"MOVE <{HELD}> TO DEFAULT",
        "add": "ADD DEFAULT TO <http://e/n>",
        "with": f"WITH <{HELD}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
        "insert-service": f"INSERT {{ ?s ?p ?o }} WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
        "prefixed": f"PREFIX : <{url}>\nINSERT DATA {{ :a :b :c }}",
        "two-ops": f"LOAD <{file_iri}> ;\nDROP ALL",
        "using": f"DELETE {{ ?s ?p ?o }} USING <{file_iri}> WHERE {{ ?s ?p ?o }}",
        "using-named": (
            f"INSERT {{ ?s ?p ?o }} USING NAMED <{url}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
        ),
    }
    out = []
    for name, op in ops.items():
        out.append(Variant(f"update-{name}", op, READ_ONLY))
        out.append(
            Variant(
                f"update-{name}-lower",
                op.replace("LOAD", "load")
                .replace("DROP", "drop")
                .replace("INSERT", "insert")
                .replace("DELETE", "delete"),
                READ_ONLY,
            )
        )
    return out


def function_variants(url: str, secret: Path) -> list[Variant]:
    """Extension functions: a store may implement one with I/O (Virtuoso's
    bif:file_to_string, bif:http_get); only SPARQL's own functions and XSD casts run."""
    calls = {
        "bif-prefixed": ("PREFIX bif: <bif:>\n", f"bif:file_to_string('{secret}')"),
        "bif-iri": ("", f"<bif:http_get>('{url}')"),
        "openlink-iri": ("", f"<http://www.openlinksw.com/schemas/bif#http_get>('{url}')"),
        "escaped-iri": ("", f"<\\u0062if:http_get>('{url}')"),
        "distinct-call": ("", f"<{url}f>(DISTINCT ?o)"),
        "relative-iri": (f"BASE <{url}>\n", "<f>(?o)"),
    }
    places = {
        "select": "SELECT ({call} AS ?x) WHERE {{ ?s ?p ?o }}",
        "filter": "SELECT * WHERE {{ ?s ?p ?o FILTER({call}) }}",
        "bind": "SELECT * WHERE {{ ?s ?p ?o BIND({call} AS ?x) }}",
        "order-by": "SELECT * WHERE {{ ?s ?p ?o }} ORDER BY ({call})",
    }
    return [
        Variant(f"function-{c}-{w}", prologue + place.format(call=call), REFUSED)
        for c, (prologue, call) in calls.items()
        for w, place in places.items()
    ]


def admitted_variants(url: str, secret: Path) -> list[Variant]:
    """Look hostile to a word scanner, are harmless: admitted, and no request either."""
    texts = {
        "service-in-string": f'SELECT * WHERE {{ ?s ?p "SERVICE <{url}> {{ }}" }}',
        "service-in-comment": f"SELECT * WHERE {{ ?s ?p ?o }} # SERVICE <{url}> {{ }}",
        "service-variable": "SELECT ?service WHERE { ?service ?p ?o }",
        "service-in-iri": f"SELECT * WHERE {{ ?s <{url}SERVICE> ?o }}",
        "service-local-name": "PREFIX e: <http://e/>\nSELECT * WHERE { ?s e:SERVICE ?o }",
        "escaped-service-in-string": 'SELECT * WHERE { ?s ?p "\\u0053ERVICE" }',
        "from-in-string": f"SELECT * WHERE {{ ?s ?p 'FROM <{secret.as_uri()}>' }}",
        "load-variable": "SELECT ?load WHERE { ?load ?p ?o }",
        "held-graph": f"SELECT ?o FROM <{HELD}> WHERE {{ ?s ?p ?o }}",
        "held-graph-prefixed": (
            "PREFIX e: <http://example.org/>\nSELECT ?o FROM e:g WHERE { ?s ?p ?o }"
        ),
        "held-graph-base": "BASE <http://example.org/x/>\nSELECT ?o FROM <../g> WHERE { ?s ?p ?o }",
        "held-graph-escaped": (
            "SELECT ?o FROM NAMED <http://example.org/\\u0067> { GRAPH ?g { ?s ?p ?o } }"
        ),
        "describe-file": f"DESCRIBE <{secret.as_uri()}>",
        "xsd-cast": (
            "SELECT (xsd:integer('7') AS ?n) "
            "(<http://www.w3.org/2001/XMLSchema#string>(1) AS ?s) {}"
        ),
        # the verifier reads FROM <http://example.org/g>; an engine that would read
        # FROM NAMED :g is given the held graph explicitly all the same
        "named-declared-as-prefix": (
            f"PREFIX NAMED: <http://example.org/>\nPREFIX : <{secret.parent.as_uri()}/>\n"
            "SELECT ?o FROM NAMED:g WHERE { ?s ?p ?o }"
        ),
    }
    return [Variant(f"admitted-{n}", t, ADMITTED) for n, t in texts.items()]


def build_corpus(url: str, secret: Path) -> list[Variant]:
    return (
        service_variants(url)
        + nesting_variants(url)
        + dataset_variants(url, secret)
        + update_variants(url, secret)
        + function_variants(url, secret)
        + admitted_variants(url, secret)
    )


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def secret(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("secret") / "secret.ttl"
    path.write_text(f'<http://example.org/s> <http://example.org/p> "{SECRET}" .\n', "utf-8")
    return path


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "data.trig"
    path.write_text(DATA, "utf-8")
    return path


@pytest.fixture(scope="module")
def corpus(listener: Listener, secret: Path) -> list[Variant]:
    return build_corpus(listener.url, secret)


@pytest.fixture(scope="module")
def oxigraph_server(
    tmp_path_factory: pytest.TempPathFactory, data_file: Path
) -> Iterator[OxigraphServer]:
    with running_oxigraph(tmp_path_factory.mktemp("oxigraph")) as srv:
        httpx.post(
            srv.store_url, content=DATA.encode(), headers={"Content-Type": "application/trig"}
        ).raise_for_status()
        yield srv


@pytest.fixture(scope="module")
def graphs(data_file: Path, oxigraph_server: OxigraphServer) -> Iterator[dict[str, KnowledgeGraph]]:
    out = {b: KnowledgeGraph.load([data_file], backend=b) for b in ("oxigraph", "memory")}
    out["remote"] = KnowledgeGraph(oxigraph_server.backend())
    yield out
    for graph in out.values():
        graph.close()


def sample(corpus: list[Variant], full: bool) -> list[Variant]:
    """The whole corpus, or every fourth variant and all admitted ones (each template
    is still represented): the full corpus runs once per backend through the API and
    once per entry point, the sample through the remaining combinations."""
    return [v for k, v in enumerate(corpus) if full or k % 4 == 0 or v.expect == ADMITTED]


def _check_clean(listener: Listener, *outputs: str) -> None:
    for output in outputs:
        assert SECRET not in output
    assert listener.hits == []


# ------------------------------------------------------------------------------ tests
def test_the_corpus_is_a_class_not_a_list(corpus: list[Variant]) -> None:
    counts: dict[str, int] = {}
    for v in corpus:
        counts[v.expect] = counts.get(v.expect, 0) + 1
    assert len({v.name for v in corpus}) == len(corpus)
    assert len(corpus) - counts[ADMITTED] >= 100
    assert counts == {REFUSED: 165, UNVERIFIABLE: 16, READ_ONLY: 42, ADMITTED: 15}


def test_the_decision(corpus: list[Variant], listener: Listener) -> None:
    """Each variant gets its exact outcome from decide(), with a one-line message."""
    got, messages = {}, []
    for v in corpus:
        try:
            decide(v.text, None, {HELD})
        except KhalisError as exc:
            got[v.name] = next((k for k, e in ERRORS.items() if isinstance(exc, e)), repr(exc))
            messages.append(str(exc))
        else:
            got[v.name] = ADMITTED
    assert got == {v.name: v.expect for v in corpus}
    assert [m for m in messages if "\n" in m] == []
    _check_clean(listener)


def test_admitted_variants_make_no_request_on_the_bare_engine(
    corpus: list[Variant], listener: Listener, data_file: Path
) -> None:
    """The differential check: what the verifier admits, unguarded pyoxigraph runs
    without a request (the verifier saw no SERVICE, nor does the engine)."""
    store = ox.Store()
    store.load(data_file.read_bytes(), ox.RdfFormat.TRIG)
    for v in corpus:
        if v.expect != ADMITTED:
            continue
        plan = decide(v.text, None, {HELD})
        answer = store.query(plan.text, prefixes=PREFIXES)  # as the engines are given
        shown = str(list(answer)) if not isinstance(answer, ox.QueryBoolean) else str(answer)
        _check_clean(listener, shown)
    listener.settle()
    _check_clean(listener)


@pytest.mark.oxigraph_server
@pytest.mark.parametrize("backend", ["oxigraph", "memory", "remote"])
def test_api(
    corpus: list[Variant], graphs: dict[str, KnowledgeGraph], backend: str, listener: Listener
) -> None:
    kg = graphs[backend]
    for v in corpus:
        if v.expect == ADMITTED:
            result = kg.sparql(v.text)
            media = "json" if result.form != "graph" else "nt"
            _check_clean(listener, result.serialize(media)[0].decode())
            continue
        with pytest.raises(ERRORS[v.expect]) as info:
            kg.sparql(v.text)
        assert "\n" not in str(info.value), v.name
        _check_clean(listener, str(info.value))
    listener.settle()
    _check_clean(listener)


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, data_file: Path) -> Path:
    """The data in an on-disk Oxigraph store, for ``khalis-kg --store DIR``."""
    directory = tmp_path_factory.mktemp("store") / "store"
    KnowledgeGraph.build_store(directory, [data_file], with_ontology=False).close()
    return directory


@pytest.mark.oxigraph_server
@pytest.mark.parametrize(
    ("backend", "full"),
    [("oxigraph", True), ("memory", False), ("remote", False), ("store", False)],
)
def test_cli(
    corpus: list[Variant],
    backend: str,
    full: bool,
    data_file: Path,
    store_dir: Path,
    oxigraph_server: OxigraphServer,
    listener: Listener,
) -> None:
    """The command line on each backend, and on an on-disk store read in place (whose
    child keeps the store's files open while it may open no new one)."""
    where = {
        "remote": ["--backend", "remote", "--endpoint", oxigraph_server.query_url],
        "store": ["--store", str(store_dir)],
    }.get(backend, ["--backend", backend, "--data", str(data_file)])
    for v in sample(corpus, full):
        result = invoke([*where, "sparql", v.text])
        _check_clean(listener, result.output)
        assert "Traceback" not in result.output
        if v.expect == ADMITTED:
            assert result.exit_code == 0, (v.name, result.output)
            continue
        assert result.exit_code == 2, (v.name, result.output)
        assert result.output.startswith("khalis-kg: error: ")
        assert result.output.count("\n") == 1, (v.name, result.output)
    listener.settle()
    _check_clean(listener)


@pytest.fixture(scope="module")
def khalis_server(data_file: Path) -> Iterator[str]:
    with run_server("--data", str(data_file), "--without-ontology", "--workers", "1") as base:
        yield base


@pytest.mark.parametrize(("how", "full"), [("direct", True), ("get", False), ("form", False)])
def test_http(
    corpus: list[Variant], khalis_server: str, how: str, full: bool, listener: Listener
) -> None:
    accept = {"Accept": "application/sparql-results+json, application/n-triples;q=0.9"}
    with httpx.Client(base_url=khalis_server, timeout=30.0) as client:
        for v in sample(corpus, full):
            if how == "get":
                r = client.get("/sparql", params={"query": v.text}, headers=accept)
            elif how == "form":
                r = client.post("/sparql", data={"query": v.text}, headers=accept)
            else:
                r = client.post(
                    "/sparql",
                    content=v.text.encode("utf-8"),
                    headers={**accept, "Content-Type": "application/sparql-query"},
                )
            _check_clean(listener, r.text)
            if v.expect == ADMITTED:
                assert r.status_code == 200, (v.name, r.status_code, r.text)
                continue
            expected = 400 if v.expect == UNVERIFIABLE else 403
            assert r.status_code == expected, (v.name, r.status_code, r.text)
            assert r.text.strip().count("\n") == 0, (v.name, r.text)
    listener.settle()
    _check_clean(listener)


def test_http_packaged_queries_with_hostile_parameters(
    khalis_server: str, listener: Listener, secret: Path
) -> None:
    """``/queries/NAME``: the text is packaged and parameters are bound as terms, never
    spliced, so values naming the listener or the secret file reach nothing."""
    values = [
        listener.url,
        secret.as_uri(),
        f"{listener.url}> }} SERVICE <{listener.url}> {{ ?s ?p ?o",
        f"x' . SERVICE <{listener.url}> {{ }} #",
    ]
    with httpx.Client(base_url=khalis_server, timeout=30.0) as client:
        statuses = []
        for value in values:
            for name, param in (("casualties", "event"), ("evidence", "resource")):
                r = client.get(
                    f"/queries/{name}",
                    params={param: value},
                    headers={"Accept": "application/sparql-results+json"},
                )
                statuses.append(r.status_code)
                _check_clean(listener, r.text)
    assert statuses == [200, 200, 200, 200, 400, 400, 400, 400]
    listener.settle()
    _check_clean(listener)

"""The command line: commands, formats, exit codes, one-line errors, light imports."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import rdflib
from helpers import (
    BACKENDS,
    EVENT,
    TEST_QUERIES,
    TESTS,
    Invocation,
    assert_isomorphic,
    files_of,
    invoke,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from khalis_kg import KnowledgeGraph, __version__, resources
from khalis_kg.catalogue import Catalogue

INVALID = TESTS / "data" / "invalid"


@pytest.fixture
def example_queries(monkeypatch: pytest.MonkeyPatch) -> Path:
    """Make the example queries the packaged catalogue for the CLI."""
    monkeypatch.setattr(resources, "queries_dir", lambda: TEST_QUERIES)
    return TEST_QUERIES


def assert_error(result: Invocation, message: str, code: int = 2) -> None:
    assert result.exit_code == code, result.output
    assert result.stdout == ""
    assert result.stderr == f"khalis-kg: error: {message}\n"


# --- help, version ---------------------------------------------------------------------------


def test_help_and_version() -> None:
    result = invoke(["--help"])
    assert result.exit_code == 0
    for command in ("queries", "query", "sparql", "validate", "export", "stats"):
        assert f"\n  {command} " in result.output
    assert "--backend [oxigraph|memory|remote]" in result.output
    version = invoke(["--version"])
    assert version.output == f"khalis-kg, version {__version__}\n"
    alone = invoke([])  # what is missing, and only that
    assert (alone.exit_code, alone.stdout, alone.stderr) == (
        2,
        "",
        "khalis-kg: error: the following arguments are required: COMMAND (see khalis-kg --help)\n",
    )


def test_console_script_runs() -> None:
    script = Path(sys.executable).parent / "khalis-kg"
    done = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=False)
    assert (done.returncode, done.stdout) == (0, f"khalis-kg, version {__version__}\n")


# --- queries and query -----------------------------------------------------------------------


def test_queries_lists_the_catalogue(example_queries: Path) -> None:
    result = invoke(["queries"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "event-quantities: Quantities of an event" in lines
    assert "unlabelled-event-violation [check]: Events without a label" in lines
    assert "    --param day=<date> (required) -- the day (YYYY-MM-DD)" in lines
    assert f"    --param event=<iri> = {EVENT} -- the event to report on" in lines
    as_json = json.loads(invoke(["queries", "--format", "json"]).output)
    assert as_json == [q.to_dict() for q in Catalogue.load(TEST_QUERIES).list()]


def test_queries_lists_the_packaged_catalogue() -> None:
    result = invoke(["queries", "--format", "json"])
    assert [q["name"] for q in json.loads(result.output)] == Catalogue.load().names()


@pytest.mark.parametrize("backend", BACKENDS)
def test_query_csv(example_queries: Path, backend: str) -> None:
    result = invoke([
        "--backend", backend, "query", "events-on-day", "-p", "day=2015-05-08",
        "--format", "csv",
    ])  # fmt: skip
    assert result.exit_code == 0
    assert result.stdout_bytes.decode() == (
        "day,lang,event,label\r\n"
        "2015-05-08,en,https://w3id.org/khalis-kg/id/event/al-khalis-prison-break-2015,"
        "2015 Al Khalis prison break\r\n"
        "2015-05-08,en,https://w3id.org/khalis-kg/id/event/diyala-suicide-attacks,"
        "Series of suicide attacks in Diyala at the same time as the prison break\r\n"
    )


def test_query_default_table_and_other_formats(example_queries: Path) -> None:
    table = invoke(["query", "event-quantities", "--param", "minimum=13", "--width", "0"])
    assert table.exit_code == 0
    assert table.output.splitlines()[-1] == "(2 rows)"
    assert table.output.splitlines()[2].startswith("event:al-khalis-prison-break-2015  13  ")
    as_json = json.loads(invoke(["query", "event-quantities", "--format", "json"]).output)
    assert as_json["head"]["vars"] == [
        "event",
        "minimum",
        "quantity",
        "qualifier",
        "value",
        "statedAs",
    ]
    assert len(as_json["results"]["bindings"]) == 4
    tsv = invoke(["query", "event-quantities", "-p", "minimum=50", "--format", "tsv"]).output
    assert tsv.splitlines()[0] == "?event\t?minimum\t?quantity\t?qualifier\t?value\t?statedAs"
    assert len(tsv.splitlines()) == 3
    xml = invoke(["query", "event-quantities", "--format", "xml"]).output
    assert xml.count("<result>") == 4
    graph = invoke(["query", "construct-event", "-p", f"event={EVENT}", "--format", "nt"])
    parsed = rdflib.Graph().parse(data=graph.output, format="nt")
    assert len(parsed) == len(graph.output.splitlines()) > 10


def test_query_errors(example_queries: Path) -> None:
    assert_error(
        invoke(["query", "event-quantity"]),
        "no packaged query named 'event-quantity'. Did you mean: event-quantities, events-on-day?",
    )
    assert_error(
        invoke(["query", "events-on-day"]),
        "query 'events-on-day' needs parameter 'day' (date): the day (YYYY-MM-DD)",
    )
    assert_error(
        invoke(["query", "events-on-day", "-p", "day=May 8"]),
        "parameter 'day' must be a date (YYYY-MM-DD), got 'May 8'",
    )
    assert_error(
        invoke(["query", "events-on-day", "-p", "day"]),
        "--param expects KEY=VALUE, got 'day'",
    )
    assert_error(
        invoke(["query", "event-quantities", "-p", "minimum=ten"]),
        "parameter 'minimum' must be an integer, got 'ten'",
    )
    assert_error(
        invoke(["query", "event-quantities", "-p", "event=not an iri"]),
        "parameter 'event' must be an absolute IRI, got 'not an iri'",
    )


# --- sparql ----------------------------------------------------------------------------------

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s a kg:Claim }"


def test_sparql_inline_file_and_stdin(tmp_path: Path) -> None:
    expected = b"n\r\n14\r\n"
    assert invoke(["sparql", COUNT, "--format", "csv"]).stdout_bytes == expected
    query = tmp_path / "q.rq"
    query.write_text(COUNT, "utf-8")
    assert invoke(["sparql", "-f", str(query), "--format", "csv"]).stdout_bytes == expected
    assert invoke(["sparql", "-", "--format", "csv"], input=COUNT).stdout_bytes == expected
    memory = invoke(["--backend", "memory", "sparql", COUNT, "--format", "csv"])
    assert memory.stdout_bytes == expected


def test_sparql_graph_results() -> None:
    text = f"CONSTRUCT {{ <{EVENT}> ?p ?o }} WHERE {{ <{EVENT}> ?p ?o }}"
    turtle = invoke(["sparql", text])
    assert turtle.exit_code == 0
    assert "@prefix event: <https://w3id.org/khalis-kg/id/event/> ." in turtle.output
    graph = rdflib.Graph().parse(data=turtle.output, format="turtle")
    for fmt, rdflib_format in (("nt", "nt"), ("jsonld", "json-ld"), ("xml", "xml")):
        other = invoke(["sparql", text, "--format", fmt]).output
        assert len(rdflib.Graph().parse(data=other, format=rdflib_format)) == len(graph)
    assert_error(
        invoke(["sparql", text, "--format", "csv"]),
        "format 'csv' is not available for graph results (choose one of: turtle, nt, jsonld, xml)",
    )


def test_sparql_errors(tmp_path: Path) -> None:
    syntax = invoke(["sparql", "SELECT * WHERE {\n ?s ?p ?o }\nLIMIT x"])
    assert syntax.exit_code == 2
    assert syntax.stderr.startswith("khalis-kg: error: SPARQL syntax error at line 3, column 7: ")
    assert syntax.stderr.count("\n") == 1
    for backend in ("oxigraph", "memory"):
        prefix = invoke(["--backend", backend, "sparql", "SELECT * WHERE { ?s ex:p ?o }"])
        assert prefix.exit_code == 2
        assert prefix.stderr.startswith(
            "khalis-kg: error: SPARQL syntax error at line 1, column 21: the prefix 'ex:' is "
            "not declared; add PREFIX ex: <...> (pre-declared: "
        )
        assert prefix.stderr.count("\n") == 1
    assert_error(
        invoke(["sparql", "INSERT DATA { <http://a/b> <http://a/c> 1 }"]),
        "SPARQL Update is not allowed: khalis-kg is read-only (found INSERT)",
    )
    assert_error(
        invoke(["sparql", "-f", str(tmp_path / "missing.rq")]),
        f"{tmp_path / 'missing.rq'}: no such file",
    )
    both = invoke(["sparql", "ASK {}", "-f", "x.rq"])
    assert both.exit_code == 2
    assert "give exactly one of QUERY, -f FILE or - (stdin)" in both.stderr
    assert_error(
        invoke(["--data", str(tmp_path / "nope.ttl"), "sparql", "ASK {}"]),
        f"{tmp_path / 'nope.ttl'}: no such file",
    )
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://a/b> <http://a/c> .\n", "utf-8")
    result = invoke(["--data", str(bad), "sparql", "ASK {}"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"khalis-kg: error: {bad}:1: invalid turtle: ")


def test_data_option_uses_user_files(tricky_file: Path) -> None:
    result = invoke([
        "--data", str(tricky_file), "sparql",
        "SELECT ?o WHERE { <http://example.org/b> ?p ?o }", "--format", "tsv",
    ])  # fmt: skip
    assert result.output == (
        "?o\n"
        '"1"^^<http://www.w3.org/2001/XMLSchema#integer>\n'
        '"2"^^<http://www.w3.org/2001/XMLSchema#integer>\n'
        '"3"^^<http://www.w3.org/2001/XMLSchema#integer>\n'
    )


# --- validate --------------------------------------------------------------------------------


def test_validate_packaged_data_conforms() -> None:
    result = invoke(["validate"])
    assert (result.exit_code, result.output) == (0, "Conforms: yes\n")


def test_validate_reports_file_focus_path_message() -> None:
    path = INVALID / "claim-without-claimant.ttl"
    result = invoke(["validate", "--with-data", str(path)])
    assert result.exit_code == 1
    assert (
        f"{path}: Violation: focus claim:armory-captured path kg:claimant: "
        "A claim needs a claimant" in result.output
    )
    # without --with-data the file is validated alone (and fails for more reasons)
    as_json = json.loads(invoke(["validate", str(path), "--format", "json"]).output)
    assert as_json["conforms"] is False
    assert {r["file"] for r in as_json["results"]} == {str(path)}
    report = invoke(["validate", str(path), "--format", "turtle"])
    assert report.exit_code == 1
    graph = rdflib.Graph().parse(data=report.output, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert set(graph.objects(None, sh.conforms)) == {rdflib.Literal(False)}


def test_validate_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\n\nex:a ex:b\n", "utf-8")
    result = invoke(["validate", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"khalis-kg: error: {bad}:")
    assert result.stderr.count("\n") == 1
    assert_error(
        invoke(["validate", str(tmp_path / "x.ttl")]), f"{tmp_path / 'x.ttl'}: no such file"
    )


HOLD_STORE = """\
import sys
from khalis_kg import KnowledgeGraph
with KnowledgeGraph.build_store(sys.argv[1], sys.argv[2:], with_ontology=True) as kg:
    print(kg.backend.triple_count(), flush=True)
    sys.stdin.readline()
    print(kg.backend.triple_count(), flush=True)
"""


@pytest.mark.parametrize("engine", ["turbo", "pyshacl"])
def test_validate_store_reads_an_oxigraph_store_in_place(tmp_path: Path, engine: str) -> None:
    """``validate --store DIR`` validates what an on-disk store holds, through
    ``KnowledgeGraph.open_store`` (read-only: the store may be open for writing
    elsewhere, here by another process), with the results of the same files."""
    if engine == "turbo":
        pytest.importorskip("pyshacl_turbo")
    fixture = INVALID / "claim-without-claimant.ttl"
    store = tmp_path / "store"
    files = [TESTS.parent / "data" / "khalis.ttl", fixture]
    # The store is held open for writing by another process (as a loader would hold it):
    # held by this one, the verb's child would be forked from a process with RocksDB's
    # threads running, and a fork while one of them holds a lock can leave the child
    # waiting on it for ever (seen once, 6 minutes). The runs stay bounded all the same.
    bounded = ["--timeout", "300"]
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_STORE, str(store), *map(str, files)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        triples = int(holder.stdout.readline())
        result = invoke(
            [*bounded, "validate", "--store", str(store), "--engine", engine, "-o", "-"]
        )
        assert result.exit_code == 1, result.output
        assert "focus claim:armory-captured path kg:claimant: A claim needs a claimant" in (
            result.output
        )
        in_store = json.loads(
            invoke(
                [
                    *bounded,
                    "validate",
                    "--store",
                    str(store),
                    "--engine",
                    engine,
                    "--format",
                    "json",
                ]
            ).output
        )["results"]
        written, _ = holder.communicate("\n", timeout=60)
        assert int(written) == triples  # nothing was written
    finally:
        holder.kill()
        holder.wait(timeout=60)
    from_files = json.loads(
        invoke(
            ["validate", "--with-data", str(fixture), "--engine", engine, "--format", "json"]
        ).output
    )["results"]

    def key(r: dict[str, object]) -> tuple[str, ...]:
        return tuple(str(r[k]) for k in sorted(r) if k != "file")

    assert sorted(map(key, in_store)) == sorted(map(key, from_files))
    assert {r["file"] for r in in_store} == {None}


def test_validate_store_errors(tmp_path: Path) -> None:
    assert_error(
        invoke(["validate", "--store", str(tmp_path)]),
        f"{tmp_path}: not an Oxigraph store directory",
    )
    usage = "--store DIR reads the store as it is: give no "
    store = ["validate", "--store", str(tmp_path)]
    assert_error(invoke([*store, str(INVALID / "x.ttl")]), usage + "FILES")
    assert_error(invoke(["--data", "x.ttl", *store]), usage + "--data")
    assert_error(invoke([*store, "--with-data"]), usage + "--with-data")
    assert_error(
        invoke(["--data", "x.ttl", "--without-ontology", *store, "--with-data"]),
        usage + "--data, --with-data, --without-ontology",
    )
    assert_error(
        invoke(["--backend", "memory", "validate", "--store", str(tmp_path)]),
        "--store DIR is an Oxigraph store: use --backend oxigraph",
    )


def test_global_store_is_read_in_place_by_every_verb_that_reads_the_graph(tmp_path: Path) -> None:
    """``khalis-kg --store DIR VERB``: the on-disk store, opened read-only in each verb's
    child, gives what the same data loaded from the files gives; nothing is written."""
    store = tmp_path / "store"
    with KnowledgeGraph.build_store(store, with_ontology=True) as kg:
        held = kg.backend.triple_count()  # counted over the quads, not by SPARQL
        dumped = rdflib.Graph().parse(data=kg.backend.dump(), format="nt")  # no named graph
    before = files_of(store)
    on_store = ["--store", str(store)]

    def same(*args: str) -> str:
        got = invoke([*on_store, *args])
        assert got.exit_code == 0, got.output
        assert got.output == invoke([*args]).output  # the packaged graph, with ontology
        return got.output

    same("query", "casualties", "--format", "json")
    same("query", "event-summary")
    same("diagram")
    same("diagram", "--kind", "ontology")
    count = invoke([*on_store, "sparql", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }", "--format", "csv"])
    assert count.output.splitlines() == ["n", str(held)]
    stats = json.loads(invoke([*on_store, "stats", "--format", "json"]).output)
    assert stats["triples"] == held  # what the store holds: the ontology too
    exported = invoke([*on_store, "export", "--format", "nt"]).output
    assert_isomorphic(rdflib.Graph().parse(data=exported, format="nt"), dumped, "the export")
    validated = invoke([*on_store, "validate", "--format", "json"])
    assert validated.exit_code == 0, validated.output
    assert (
        validated.output == invoke(["validate", "--store", str(store), "--format", "json"]).output
    )
    refused = invoke([*on_store, "sparql", "SELECT * FROM <file:///etc/passwd> { ?s ?p ?o }"])
    assert refused.exit_code == 2
    assert refused.stderr.startswith("khalis-kg: error: FROM <file:///etc/passwd> is refused")
    assert files_of(store) == before  # nothing written, not even a lock's timestamp
    bare = tmp_path / "bare"
    KnowledgeGraph.build_store(bare, with_ontology=False).close()
    assert_error(
        invoke(["--store", str(bare), "diagram", "--kind", "ontology"]),
        "no ontology classes to draw: load the ontology (--with-ontology), "
        "or use a store that holds it",
    )


STORE_VERBS = (
    ("sparql", "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"),
    ("query", "casualties"),
    ("stats",),
    ("validate",),
    ("export", "--format", "nt"),
    ("diagram",),
)


@pytest.fixture(scope="module")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = tmp_path_factory.mktemp("capped") / "store"
    KnowledgeGraph.build_store(store, with_ontology=True).close()
    return store


@settings(max_examples=12, derandomize=True, deadline=None)
@given(verb=st.sampled_from(STORE_VERBS), mib=st.integers(64, 400))
def test_a_store_is_opened_outside_the_memory_limit(
    small_store: Path, verb: tuple[str, ...], mib: int
) -> None:
    """Opening an on-disk store reserves ~300 MB of address space (RocksDB's threads):
    under a smaller --memory-limit every verb ended in "the engine crashed (SIGABRT)",
    exit 5. The store counts as a loaded graph does, outside the limit; what the step
    adds after it is still capped (a query that needs more ends with exit 4)."""
    on_store = ["--store", str(small_store)]
    capped = invoke([*on_store, "--memory-limit", f"{mib}M", *verb])
    assert capped.exit_code == 0, capped.output
    assert capped.output == invoke([*on_store, "--memory-limit", "none", *verb]).output


def test_what_a_step_adds_to_a_store_is_still_capped(small_store: Path) -> None:
    hungry = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?f ?c"
    assert_error(
        invoke(["--store", str(small_store), "--memory-limit", "64M", "sparql", hungry]),
        "the query needed more memory than the limit (64 MiB)",
        4,
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--data", "x.ttl"], "--store DIR reads the store as it is: give no --data"),
        (["--named-graph", "http://e/g=FILE"],
         "--store DIR reads the store as it is: give no --named-graph"),
        (["--with-ontology"], "--store DIR reads the store as it is: give no --with-ontology"),
        (["--without-ontology"],
         "--store DIR reads the store as it is: give no --without-ontology"),
        (["--endpoint", "http://127.0.0.1:9/q"], "--endpoint: only with --backend remote"),
        (["--backend", "memory"], "--store DIR is an Oxigraph store: use --backend oxigraph"),
        (["--backend", "remote"], "--store DIR is an Oxigraph store: use --backend oxigraph"),
    ],
)  # fmt: skip
def test_global_store_refuses_what_would_be_ignored(
    tmp_path: Path, options: list[str], message: str
) -> None:
    a_file = tmp_path / "g.ttl"
    a_file.write_text("<http://e/a> <http://e/p> 1 .\n", "utf-8")
    options = [o.replace("FILE", str(a_file)) for o in options]
    for verb in (["stats"], ["sparql", "ASK {}"], ["export", "--format", "nt"]):
        result = invoke(["--store", str(tmp_path), *options, *verb])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"khalis-kg: error: {message}\n", result.stderr
    assert_error(
        invoke(["--store", str(tmp_path / "none"), "stats"]),
        f"{tmp_path / 'none'}: not an Oxigraph store directory",
    )


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        (["--data", "FILE", "stats"], "--data"),
        (["--data", "FILE", "serve"], "--data"),
        (["--data", "FILE", "validate"], "--data"),
        (["--named-graph", "http://e/g=FILE", "sparql", "ASK {}"], "--named-graph"),
        (["--named-graph", "http://e/g=FILE", "serve"], "--named-graph"),
        (["--without-ontology", "query", "casualties"], "--without-ontology"),
        (["serve", "--without-ontology"], "--without-ontology"),
        (["--with-ontology", "export", "--format", "nt"], "--with-ontology"),
        (["validate", "FILE"], "FILES"),
        (["validate", "--with-data", "FILE"], "FILES, --with-data"),
        (["--data", "FILE", "--with-ontology", "stats"], "--data, --with-ontology"),
    ],
)
def test_remote_backend_refuses_what_it_would_ignore(
    tmp_path: Path, given: list[str], flags: str
) -> None:
    """A remote store's data is put there by ``load`` (an idempotent PUT), not as a side
    effect of a query, and read as it is: ``--data`` / ``--named-graph`` (files to
    load), ``--with-ontology`` / ``--without-ontology`` and ``validate FILES`` (which
    --backend remote would leave unused) are a usage error for the verbs and for
    ``serve``, in the same words, before any request is sent."""
    a_file = tmp_path / "g.ttl"
    a_file.write_text("<http://e/a> <http://e/p> 1 .\n", "utf-8")
    remote = ["--backend", "remote", "--endpoint", "http://127.0.0.1:9/query"]
    assert_error(
        invoke([*remote, *(o.replace("FILE", str(a_file)) for o in given)]),
        f"--backend remote reads the store's data: give no {flags} "
        "(khalis-kg load FILE --graph-store URL puts files there)",
    )


# --- export and stats --------------------------------------------------------------------------


def test_export_to_file_and_stdout(tmp_path: Path) -> None:
    target = tmp_path / "out.nt"
    result = invoke(["export", "--format", "nt", "-o", str(target)])
    assert (result.exit_code, result.output) == (0, "")
    stdout = invoke(["export", "--format", "nt"])
    assert stdout.output.encode() == target.read_bytes()
    with_ontology = invoke(["export", "--format", "nt", "--with-ontology"]).output
    assert len(with_ontology.splitlines()) > len(stdout.output.splitlines())


def test_export_errors(tmp_path: Path) -> None:
    assert_error(
        invoke(["export", "--format", "nt", "-o", str(tmp_path / "no" / "out.nt")]),
        f"{tmp_path / 'no' / 'out.nt'}: directory {tmp_path / 'no'} does not exist",
    )
    missing = invoke(["export"])
    assert missing.exit_code == 2
    assert (
        "the following arguments are required: --format (see khalis-kg export --help)"
        in missing.stderr
    )


def test_stats() -> None:
    result = invoke(["stats"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[3] == "claims         14"
    assert "claims per source:" in lines
    assert "  channel:amaq-news-agency   3" in lines
    as_json = json.loads(invoke(["stats", "--format", "json"]).output)
    memory = json.loads(invoke(["--backend", "memory", "stats", "--format", "json"]).output)
    assert as_json == memory
    assert as_json["claims"] == 14


# --- nothing heavy on the query path -----------------------------------------------------------

HEAVY = (
    "rdflib",
    "pyshacl",
    "http.client",
    "urllib.request",
    "httpx",
    "requests",
    "starlette",
    "uvicorn",
)

PROBE = """
import sys
from pathlib import Path
import khalis_kg.resources as r
if {argv!r}[0] == "query":  # the example queries; stats reads the internal ones (queries/stats/)
    r.queries_dir = lambda: Path({queries!r})
from khalis_kg.cli import main
assert main({argv!r}) == 0
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r} or m in {heavy!r})
print("HEAVY", heavy, file=sys.stderr)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["sparql", "SELECT * WHERE { ?s ?p ?o } LIMIT 1", "--format", "json"],
        ["sparql", "CONSTRUCT WHERE { ?s a kg:Claim }", "--format", "jsonld"],
        ["query", "event-quantities", "--format", "xml"],
        ["queries"],
        ["stats"],
        ["export", "--format", "jsonld"],
    ],
)
def test_query_path_imports_no_rdflib_pyshacl_or_http(argv: list[str]) -> None:
    code = PROBE.format(queries=str(TEST_QUERIES), argv=argv, heavy=set(HEAVY))
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "HEAVY []"


def test_import_khalis_kg_is_cheap() -> None:
    code = (
        "import sys, khalis_kg; print(sorted(m for m in sys.modules"
        " if m.startswith(('pyoxigraph', 'rdflib', 'click', 'khalis_kg'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['khalis_kg']"


@pytest.mark.parametrize("backend", BACKENDS)
def test_named_graph_and_base(tmp_path: Path, backend: str) -> None:
    data, graph = tmp_path / "d.nt", tmp_path / "g.nt"
    data.write_text("", "utf-8")
    graph.write_text('<http://ex/s> <http://ex/p> "in g" .\n', "utf-8")
    common = ["--backend", backend, "--data", str(data)]
    common += ["--named-graph", f"http://ex/graphs/g={graph}"]
    text = "SELECT ?o FROM <g> WHERE { ?s ?p ?o }"
    ok = invoke([*common, "sparql", "--base", "http://ex/graphs/", text, "--format", "csv"])
    assert (ok.exit_code, ok.stdout.splitlines()) == (0, ["o", "in g"])
    refused = invoke([*common, "sparql", text])
    assert refused.exit_code == 2
    assert "FROM an unresolvable IRI is refused" in refused.stderr
    bad = invoke([*common, "sparql", "--base", "relative/", text])
    assert (bad.exit_code, bad.stderr) == (
        2,
        "khalis-kg: error: --base must be an absolute IRI, got 'relative/'\n",
    )
    usage = invoke(["--named-graph", "no-equals-sign", "stats"])
    assert usage.exit_code == 2
    assert "'no-equals-sign' is not IRI=FILE" in usage.stderr


def test_serve_shares_the_groups_options() -> None:
    """``serve`` shares the group's definitions (:data:`khalis_kg.options.SHARED`): the
    same flags, type, metavar and help; and takes the group's value of one it is not
    given."""
    from khalis_kg.cli import parser, verb_parser

    group = parser()

    def spec(command: Any, flag: str) -> tuple[Any, ...]:
        (action,) = [a for a in command.arguments if flag in a.option_strings]
        return (action.dest, action.type, action.metavar, action.help, action.choices)

    shared = ("--backend", "--endpoint", "--remote-graph", "--remote-timeout")
    shared += ("--remote-request", "--data", "--named-graph", "--store", "--without-ontology")
    shared += ("--timeout", "--memory-limit")
    for flag in shared:
        assert spec(group, flag) == spec(verb_parser("serve"), flag), flag
    for flag in ("--timeout", "--memory-limit"):
        assert spec(group, flag) == spec(verb_parser("sparql"), flag), flag


def test_serve_takes_without_ontology_before_or_after_the_verb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``--without-ontology`` is serve's as any shared option is: given before or after
    the verb, the value after it winning; serve's second name for it, ``--no-ontology``,
    is gone."""
    import khalis_kg.server as server

    seen: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda settings, **kw: seen.append(settings))
    for argv in (
        ["serve"],
        ["--with-ontology", "serve"],
        ["--without-ontology", "serve"],
        ["serve", "--without-ontology"],
        ["--with-ontology", "serve", "--without-ontology"],
    ):
        assert invoke(argv).exit_code == 0, argv
    assert [s.with_ontology for s in seen] == [True, True, False, False, False]
    done = invoke(["serve", "--no-ontology"])
    assert (done.exit_code, done.stdout, len(seen)) == (2, "", 5)
    assert done.stderr == (
        "khalis-kg: error: unrecognized arguments: --no-ontology (see khalis-kg serve --help)\n"
    )


def test_serve_takes_the_groups_limits_and_remote_options(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """One definition, one meaning: ``--timeout``, ``--memory-limit``, the data and the
    remote options given before ``serve`` are serve's (it ignored ``--remote-request``),
    its own given after win, and the defaults are those its ``--help`` states."""
    import khalis_kg.server as server

    seen: list[Any] = []
    monkeypatch.setattr(server, "serve", lambda settings, **kw: seen.append(settings))
    data = tmp_path / "d.ttl"
    data.write_text("<http://e/a> <http://e/p> 1 .\n", "utf-8")
    local = ["--timeout", "7", "--memory-limit", "300M", "--data", str(data)]
    local += ["--backend", "memory"]
    remote = ["--timeout", "7", "--memory-limit", "300M", "--remote-request", "get"]
    remote += ["--remote-timeout", "4", "--backend", "remote", "--endpoint", "http://e/q"]
    for words in (local, remote):
        for argv in ([*words, "serve"], ["serve", *words], ["--timeout", "9", "serve", *words]):
            assert invoke(argv).exit_code == 0, argv
    assert invoke(["serve"]).exit_code == 0
    picked = ("timeout", "memory_limit", "data", "remote_request", "remote_timeout", "backend")
    on_files = (7.0, 300 * 1024**2, (str(data),), "form", None, "memory")
    on_store = (7.0, 300 * 1024**2, None, "get", 4.0, "remote")
    assert [tuple(getattr(s, k) for k in picked) for s in seen] == [on_files] * 3 + [
        on_store
    ] * 3 + [(5.0, 2 * 1024**3, None, "form", None, "oxigraph")]
    assert {s.endpoint for s in seen[3:6]} == {"http://e/q"}


NAMED = settings(max_examples=50, derandomize=True, deadline=None)
iri_tails = st.text(alphabet="ab=?&/", max_size=10)
file_names = st.text(alphabet="ab=._-", min_size=1, max_size=10).filter(
    lambda n: n not in (".", "..")
)


@NAMED
@given(tail=iri_tails, name=file_names)
def test_named_graph_splits_where_an_iri_and_a_file_are(tail: str, name: str) -> None:
    """``--named-graph IRI=FILE`` with ``=`` in the IRI, the file name or both: the one
    split that leaves an absolute IRI and an existing file is taken."""
    import tempfile

    from khalis_kg.options import named_graph

    iri = f"http://e/g{tail}"
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, name)
        Path(path).write_text("", "utf-8")
        assert named_graph(f"{iri}={path}") == (iri, path)
        os.remove(path)
        with pytest.raises(argparse.ArgumentTypeError) as refused:
            named_graph(f"{iri}={path}")
        assert f"{path!r}: no such file" in str(refused.value)


@NAMED
@given(left=st.booleans(), right=st.booleans(), key=st.sampled_from(["c", "c=d", "=c"]))
def test_named_graph_never_guesses(left: bool, right: bool, key: str) -> None:
    """``http://e/g?x=KEY=b``: split at either ``=`` when only one leaves a file; refused
    as ambiguous when both do, and as no such file when neither does."""
    import tempfile

    from khalis_kg.options import named_graph

    value = f"http://e/g?x={key}=b"
    first, second = (f"{key}=b", "http://e/g?x"), ("b", f"http://e/g?x={key}")
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as directory:
        os.chdir(directory)  # the relative file names are read from here
        try:
            for exists, (file, _iri) in ((left, first), (right, second)):
                if exists:
                    Path(file).write_text("", "utf-8")
            pairs = ((left, first), (right, second))
            found = [(iri, file) for exists, (file, iri) in pairs if exists]
            if len(found) == 1:
                assert named_graph(value) == found[0]
            else:
                why = "is ambiguous" if found else "no such file"
                with pytest.raises(argparse.ArgumentTypeError, match=why):
                    named_graph(value)
        finally:
            os.chdir(here)


GRAPH_IRIS = ("http://x/g", "http://x/h", "urn:x:g")
graph_pairs = st.lists(
    st.tuples(st.sampled_from(GRAPH_IRIS), st.sampled_from(("a.nt", "b.nt", "c.nt"))),
    max_size=6,
)


def _first_repeat(pairs: list[tuple[str, str]]) -> str | None:
    iris = [iri for iri, _file in pairs]
    return next((iri for i, iri in enumerate(iris) if iri in iris[:i]), None)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(pairs=graph_pairs, serve_has=st.integers(0, 6))
def test_named_graphs_given_twice_are_refused_at_every_door(
    tmp_path_factory: pytest.TempPathFactory, pairs: list[tuple[str, str]], serve_has: int
) -> None:
    """``(IRI, file)`` pairs with an IRI given twice are refused with one line naming it
    (ParameterError, exit 2), not the first file dropped without a word: by the one
    conversion (:func:`khalis_kg.options.graph_files`), by ``serve``'s ``Settings`` from
    Python (before any worker or socket), and by the command line, the pairs before and
    after ``serve``; pairs without a repeat are all kept, in order."""
    import khalis_kg.server
    from khalis_kg.errors import ParameterError
    from khalis_kg.options import graph_files
    from khalis_kg.server import Settings

    folder = tmp_path_factory.getbasetemp() / "named-graph-files"
    folder.mkdir(exist_ok=True)
    files = [(iri, str(folder / name)) for iri, name in pairs]
    for _iri, name in files:
        Path(name).write_text("<http://a> <http://b> <http://c> .\n", encoding="utf-8")
    twice = _first_repeat(pairs)
    said = f"the named graph <{twice}> is given twice: one file per graph"
    argv = [word for iri, name in files for word in ("--named-graph", f"{iri}={name}")]
    cut = len(argv) - 2 * min(serve_has, len(files))  # the words given before serve
    seen: list[Settings] = []
    with pytest.MonkeyPatch.context() as patch:  # never a real server
        patch.setattr(khalis_kg.server, "serve", lambda settings, **_: seen.append(settings))
        done = invoke([*argv[:cut], "serve", *argv[cut:]])
    if twice is None:
        assert graph_files(files) == graph_files(dict(files)) == dict(files)
        assert Settings(named_graphs=tuple(files)).named_graphs == tuple(files)
        assert done.exit_code == 0, done.output
        (called,) = seen
        assert called.named_graphs == tuple(files)
        return
    with pytest.raises(ParameterError) as raised:
        graph_files(files)
    assert str(raised.value) == said
    with pytest.raises(ParameterError) as raised:
        Settings(named_graphs=tuple(files))
    assert str(raised.value) == said
    assert (done.exit_code, done.stdout, seen) == (2, "", [])
    assert done.stderr == f"khalis-kg: error: {said}\n"


@pytest.mark.parametrize(
    "pair", [("http://x/g",), ("http://x/g", "a", "b"), "ab", (1, "a.nt"), ("http://x/g", b"a")]
)
def test_a_named_graph_that_is_not_a_pair_is_one_line(pair: object) -> None:
    from khalis_kg.errors import ParameterError
    from khalis_kg.options import graph_files

    with pytest.raises(ParameterError, match=r"^a named graph is an \(IRI, file name\) pair, not"):
        graph_files([pair])  # type: ignore[list-item]


NAMED_SO = {  # a verb line with FILE where the name goes
    "export -o": ["export", "--format", "nt", "-o", "FILE"],
    "query -o": ["query", "casualties", "-o", "FILE"],
    "sparql -o": ["sparql", "ASK {}", "-o", "FILE"],
    "validate -o": ["validate", "-o", "FILE"],
    "check-source -o": ["check-source", "article.txt", "-o", "FILE"],
    "diagram -o": ["diagram", "-o", "FILE"],
    "docs -o": ["docs", "-o", "FILE"],
    "--data": ["--data", "FILE", "stats"],
    "sparql -f": ["sparql", "-f", "FILE"],
    "validate FILES": ["validate", "FILE"],
}
BLANK = ["", " ", "\t", "  \n"]
DIRECTORY = [".", "..", "/", "sub", "sub/", "new/", "./sub/"]


@pytest.mark.parametrize("value", [*BLANK, *DIRECTORY], ids=repr)
@pytest.mark.parametrize("where", NAMED_SO)
def test_a_blank_or_directory_name_for_a_file_is_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, value: str
) -> None:
    """An empty or blank name (``Path("")`` is ``.``), or a directory's (one that exists,
    or any name ending in ``/``: ``Path("x/")`` is the file ``x``) where a file goes: exit
    2, one line that names the value as given, and nothing written (``docs -o DIR``
    takes a directory: only the blank names are refused there)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "article.txt").write_text("text", encoding="utf-8")
    if where == "docs -o" and value in DIRECTORY:
        return  # a directory: what docs writes into (tested in test_docs)
    argv = [value if word == "FILE" else word for word in NAMED_SO[where]]
    done = invoke(argv)
    why = "is not a name (empty or blank)" if value in BLANK else "directory"
    assert (done.exit_code, done.stdout) == (2, "")
    (line,) = done.stderr.splitlines()
    label = "FILES" if where == "validate FILES" else argv[argv.index(value) - 1]
    assert line.startswith(f"khalis-kg: error: argument {label}"), line
    assert f": {value!r} " in line, line
    assert why in line, line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["article.txt", "sub"]


REMOTE_ONLY = [["--endpoint", "http://127.0.0.1:9/sparql"], ["--remote-graph", "http://e/g"]]
REMOTE_ONLY += [["--remote-timeout", "3"], ["--remote-request", "get"]]


@pytest.mark.parametrize("given", REMOTE_ONLY, ids=lambda g: g[0])
@pytest.mark.parametrize("after", [False, True], ids=["before serve", "after serve"])
def test_serve_refuses_remote_options_without_the_remote_backend(
    monkeypatch: pytest.MonkeyPatch, given: list[str], after: bool
) -> None:
    """A remote store's option without ``--backend remote`` is refused by ``serve`` as it
    is by every verb, in the same words (it served the packaged graph, the option ignored
    without a word)."""
    import khalis_kg.server

    monkeypatch.setattr(khalis_kg.server, "serve", lambda *a, **kw: None)  # never a server
    for verb in (["serve"], ["stats"]):
        done = invoke([*verb, *given] if after and verb == ["serve"] else [*given, *verb])
        assert (done.exit_code, done.stdout) == (2, "")
        assert done.stderr == f"khalis-kg: error: {given[0]}: only with --backend remote\n"
    done = invoke(["--graph-store", "http://127.0.0.1:9/store", "serve"])
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr == (
        "khalis-kg: error: serve does not use --graph-store (khalis-kg load does) "
        "(see khalis-kg --help)\n"
    )

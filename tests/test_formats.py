"""One vocabulary of format names: the table in docs/formats.md, the CLI and the server."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
from helpers import free_port, invoke, stop_process, wait_until_answering
from hypothesis import example, given, settings
from hypothesis import strategies as st

from khalis_kg import KnowledgeGraph
from khalis_kg.errors import ParameterError, UnwritableError
from khalis_kg.rdfio import FORMATS, Format, format_for, rdf_format, result_format
from khalis_kg.results import SPARQL_RESULTS_NS
from khalis_kg.server import formats as server_formats

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


def _cells(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _doc_rows() -> dict[tuple[str, str], list[str]]:
    rows = {}
    for line in DOC.read_text("utf-8").splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if len(parts) == 7 and parts[0] in ("RDF", "results"):
            kind = "rdf" if parts[0] == "RDF" else "results"
            rows[(kind, parts[1].strip("`"))] = parts
    return rows


def test_doc_table_lists_every_format_once() -> None:
    assert sorted(_doc_rows()) == sorted((f.kind, f.name) for f in FORMATS)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f"{f.kind}-{f.name}")
def test_doc_row_matches_the_code(fmt: Format) -> None:
    row = _doc_rows()[(fmt.kind, fmt.name)]
    assert row[2] == fmt.label
    assert _cells(row[3]) == list(fmt.aliases)
    assert _cells(row[4]) == [fmt.media_type, *fmt.other_media_types]
    assert _cells(row[5]) == [fmt.suffix, *fmt.suffixes]


@pytest.mark.parametrize(
    ("given", "form", "expected"),
    [
        ("TTL", "graph", "turtle"),
        ("Turtle", "graph", "turtle"),
        ("n-triples", "graph", "nt"),
        ("NTRIPLES", "graph", "nt"),
        ("json-ld", "graph", "jsonld"),
        ("json", "graph", "jsonld"),
        ("rdfxml", "graph", "xml"),
        ("rdf", "graph", "xml"),
        ("xml", "graph", "xml"),
        ("json", "select", "json"),
        ("SRJ", "select", "json"),
        ("srx", "ask", "xml"),
        ("CSV", "select", "csv"),
        ("tsv", "select", "tsv"),
    ],
)
def test_aliases_any_case(given: str, form: str, expected: str) -> None:
    assert result_format(given, form).name == expected


def test_json_and_xml_depend_on_the_answer() -> None:
    assert result_format("json", "select").media_type == "application/sparql-results+json"
    assert result_format("json", "graph").media_type == "application/ld+json"
    assert result_format("xml", "select").media_type == "application/sparql-results+xml"
    assert result_format("xml", "graph").media_type == "application/rdf+xml"


@pytest.mark.parametrize("name", ["n4", "rdfa", "", "csv"])
def test_unknown_names_are_refused(name: str) -> None:
    with pytest.raises(ParameterError, match="choose one of"):
        rdf_format(name)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [("a.TTL", "turtle"), ("a.nt", "nt"), ("b.nquads", "nq"), ("c.owl", "xml"), ("d", "turtle")],
)
def test_file_suffixes(filename: str, expected: str) -> None:
    assert format_for(filename) == expected


def test_server_accepts_the_same_names() -> None:
    """Every alias of a graph or results format is a ``format=`` value of the endpoint."""
    for fmt in FORMATS:
        kind = "graph" if fmt.graph_answer else "results" if fmt.kind == "results" else None
        if kind is None or fmt.name == "table":
            continue
        for name in fmt.names:
            assert server_formats.FORMAT_PARAM[kind][name] == fmt.media_type, name


@pytest.mark.parametrize("alias", ["SRJ", "Json", "sparql-json"])
def test_cli_accepts_aliases(alias: str) -> None:
    done = invoke(["sparql", "ASK { ?s ?p ?o }", "--format", alias])
    assert done.exit_code == 0, done.output
    assert done.output.strip() == '{"head":{},"boolean":true}'


def test_cli_refuses_unknown_format() -> None:
    done = invoke(["export", "--format", "rdfa"])
    assert done.exit_code == 2
    assert "not a known format" in done.output


def test_media_types_suffixes_and_labels_are_pyoxigraphs() -> None:
    """The vocabulary's media types, file suffixes and labels are pyoxigraph's own for
    every format it knows (``RdfFormat``, ``QueryResultsFormat``); rdfio.py says why they
    are written out, not looked up."""
    import pyoxigraph as ox

    from khalis_kg.rdfio import FORMATS, ox_format

    for fmt in FORMATS:
        if fmt.kind == "rdf":
            theirs = ox_format(fmt.name)
            label = theirs.name
        elif fmt.name == "table":
            continue  # ours alone
        else:
            theirs = getattr(ox.QueryResultsFormat, fmt.name.upper())
            label = fmt.label
        media_type = theirs.media_type.split(";")[0]
        assert (fmt.label, fmt.media_type, fmt.suffix) == (
            label,
            media_type,
            "." + theirs.file_extension,
        ), fmt.name


# -- what XML can carry ---------------------------------------------------------------------

NOT_XML = {*map(chr, range(0x20)), "\ufffe", "\uffff"} - {"\t", "\n", "\r"}
"""XML 1.0's Char production leaves these out: no document can carry them, escaped or not."""

xml_texts = st.text(
    st.one_of(st.sampled_from(sorted(NOT_XML | {"\t", "\n", "\r", "\x7f", "\x85"})), st.characters(
        blacklist_categories=["Cs"])),
    max_size=12,
)  # fmt: skip


@pytest.fixture(scope="module", params=["oxigraph", "memory"])
def bare_kg(request: pytest.FixtureRequest) -> KnowledgeGraph:
    return KnowledgeGraph.load([], backend=request.param, with_ontology=False)


@settings(max_examples=60, derandomize=True, deadline=None)
@given(text=xml_texts)
@example(text="a\rb\r\nc")  # a carriage return, alone and before a newline
@example(text="a\tb")  # a tab (the memory engine's parser made it spaces)
@example(text="a\x01b")
@example(text="\ufffe")
def test_xml_answers_carry_every_literal_or_refuse_it(bare_kg: KnowledgeGraph, text: str) -> None:
    """A literal in SPARQL XML results and in RDF/XML reads back exactly as it was
    (a carriage return too: XML reads a raw one as a newline), or, when XML 1.0 cannot
    carry one of its characters, the answer is refused with UnwritableError naming it
    (HTTP 406, exit 2), never written as a document no XML parser accepts."""
    echar = {"\r": "\\r", "\n": "\\n", '"': '\\"', "\\": "\\\\"}  # \u is read first
    escaped = "".join(echar.get(c) or f"\\U{ord(c):08X}" for c in text)
    where = f'VALUES ?o {{ "{escaped}" }}'
    select = bare_kg.sparql(f"SELECT ?o {{ {where} }}")
    construct = bare_kg.sparql(f"CONSTRUCT {{ <http://e/s> <http://e/p> ?o }} {{ {where} }}")
    bad = [c for c in text if c in NOT_XML]
    for answer, fmt in ((select, "xml"), (construct, "xml")):
        if bad:
            with pytest.raises(UnwritableError, match=f"it holds U\\+{ord(bad[0]):04X},"):
                answer.serialize(fmt)
            continue
        data, _ = answer.serialize(fmt)
        if answer.form == "graph":
            (quad,) = ox.parse(data, format=ox.RdfFormat.RDF_XML)
            assert quad.object.value == text
        else:
            # read by the standard library's XML parser (pyoxigraph 0.5.4's results
            # parser, the floor's, reads a literal of white space alone as empty)
            (literal,) = ElementTree.fromstring(data).iter(f"{{{SPARQL_RESULTS_NS}}}literal")
            assert (literal.text or "") == text


@pytest.mark.server
def test_an_unwritable_answer_is_one_line_and_a_406(tmp_path: Path) -> None:
    """The CLI's exit 2 and one line; the server's 406 with the same words."""
    data = tmp_path / "control.nt"
    data.write_text('<http://e/s> <http://e/p> "a\\u0001b" .\n', "utf-8")
    why = (
        "the answer cannot be written as XML: it holds U+0001, which XML 1.0 cannot carry; "
        "choose another format"
    )
    queries = {
        "SELECT ?o { ?s ?p ?o }": "sparql-results+xml",
        "CONSTRUCT WHERE { ?s ?p ?o }": "rdf+xml",
    }
    for query in queries:
        done = invoke(
            ["--data", str(data), "--without-ontology", "sparql", query, "--format", "xml"]
        )
        assert (done.exit_code, done.output) == (2, f"khalis-kg: error: {why}\n")
    port = free_port()
    khalis = str(Path(sys.executable).parent / "khalis-kg")
    serve = [khalis, "--data", str(data), "--without-ontology"]
    serve += ["serve", "--port", str(port), "--workers", "1", "--log-level", "warning"]
    server = subprocess.Popen(serve, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answering(server, base + "/", timeout=60, what="serve", output=str)
        for query, media in queries.items():
            answer = httpx.post(base + "/sparql", data={"query": query},
                                headers={"Accept": f"application/{media}"}, timeout=30)  # fmt: skip
            assert (answer.status_code, answer.text.strip()) == (406, why), query
    finally:
        stop_process(server, grace=10)

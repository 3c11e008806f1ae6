"""One vocabulary of format names: the table in docs/formats.md, the CLI and the server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import invoke

from khalis_kg.errors import ParameterError
from khalis_kg.rdfio import FORMATS, Format, format_for, rdf_format, result_format
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
    assert done.output.strip() == '{"head": {}, "boolean": true}'


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

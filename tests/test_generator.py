"""bench/generate.py: the synthetic corpus is valid, deterministic and sized as asked."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pyoxigraph as ox
import pytest
from helpers import REPO, assert_isomorphic
from rdflib import Graph

from khalis_kg import KnowledgeGraph


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_generate", REPO / "bench" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_generate"] = module
    spec.loader.exec_module(module)
    return module


gen = _load_generator()


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("synthetic") / "small.nt"
    gen.write(path, events=3, seed=7)
    return path


def test_small_corpus_is_valid_under_the_shapes(small: Path) -> None:
    kg = KnowledgeGraph.load([small])
    report = kg.validate()
    assert report.conforms, report.text


def test_deterministic(tmp_path: Path, small: Path) -> None:
    again = tmp_path / "again.nt"
    gen.write(again, events=3, seed=7)
    assert again.read_bytes() == small.read_bytes()
    other = tmp_path / "other.nt"
    gen.write(other, events=3, seed=8)
    assert other.read_bytes() != small.read_bytes()


def test_turtle_output_is_the_same_graph(tmp_path: Path, small: Path) -> None:
    ttl = tmp_path / "small.ttl"
    count = gen.write(ttl, events=3, seed=7, fmt="turtle")
    g_ttl = Graph().parse(ttl, format="turtle")
    g_nt = Graph().parse(small, format="nt")
    assert count == len(g_nt)
    assert_isomorphic(g_ttl, g_nt, "turtle")


def test_quotes_and_offsets_match_the_document(small: Path) -> None:
    store = ox.Store()
    store.load(small.read_bytes(), ox.RdfFormat.N_TRIPLES)
    rows = list(
        store.query(
            """PREFIX oa: <http://www.w3.org/ns/oa#>
            PREFIX nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#>
            SELECT ?text ?exact ?start ?end WHERE {
              ?span oa:hasSource ?doc ; oa:hasSelector ?q , ?p .
              ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end .
              ?doc nif:isString ?text }"""
        )
    )
    assert len(rows) == 3 * 6
    for row in rows:
        text, exact = row["text"].value, row["exact"].value
        start, end = int(row["start"].value), int(row["end"].value)
        assert text[start:end] == exact


def test_size_follows_the_request(tmp_path: Path) -> None:
    events = gen.events_for(20_000)
    count = gen.write(tmp_path / "20k.nt", events)
    assert 0.9 * 20_000 <= count <= 1.1 * 20_000
    assert not list(tmp_path.glob(".*.tmp"))  # the temporary file was renamed


def test_counts_follow_their_qualifiers(small: Path) -> None:
    kg = KnowledgeGraph.load([small])
    result = kg.sparql(
        """SELECT ?qualifier (COUNT(*) AS ?n) WHERE { ?q kg:qualifier ?qualifier }
        GROUP BY ?qualifier ORDER BY ?qualifier"""
    )
    counts = {r["qualifier"].value.rsplit("/", 1)[-1]: int(r["n"].value) for r in result.rows}
    assert counts == {"approximate": 6, "at-least": 3, "exact": 3, "more-than": 3}
    claims = kg.sparql("SELECT ?c WHERE { ?c a kg:Claim ; kg:claimant ?who }")
    assert len(claims.rows) == 6

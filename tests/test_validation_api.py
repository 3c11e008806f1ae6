"""Validation through the API: typed reports, file names, the lead's SHACL fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rdflib
from helpers import TESTS, assert_isomorphic, fixture_expectations, fixture_results, report_rows

from khalis_kg import KnowledgeGraph, ValidationReport, ValidationResult
from khalis_kg.errors import KhalisError, RDFSyntaxError
from khalis_kg.rdfio import Source
from khalis_kg.resources import packaged_source
from khalis_kg.validation import validate

INVALID = sorted((TESTS / "data" / "invalid").glob("*.ttl"))
VALID = sorted((TESTS / "data" / "valid").glob("*.ttl"))


@pytest.fixture(scope="module")
def packaged_report(kg: KnowledgeGraph) -> ValidationReport:
    return kg.validate()


def test_packaged_graph_conforms(packaged_report: ValidationReport) -> None:
    assert packaged_report.conforms is True
    assert packaged_report.results == []
    assert packaged_report.text == "Conforms: yes\n"
    assert json.loads(packaged_report.to_json()) == {"conforms": True, "results": []}
    report = rdflib.Graph().parse(data=packaged_report.to_turtle(), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert set(report.objects(None, sh.conforms)) == {rdflib.Literal(True)}


@pytest.fixture(scope="module")
def all_invalid() -> ValidationReport:
    """One validation of the packaged graph with every invalid fixture added (pySHACL's
    SPARQL constraints make each run take seconds; the fixtures touch distinct nodes)."""
    return validate([packaged_source("data"), *(Source.from_path(p) for p in INVALID)])


def test_all_invalid_fixtures_give_exactly_their_results(all_invalid: ValidationReport) -> None:
    """Together, the fixtures give the union of their pinned result sets, nothing more."""
    expected = sorted(row for path in INVALID for row in fixture_results(path))
    assert report_rows(all_invalid.results) == expected, all_invalid.text


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_fixture_is_reported(path: Path, all_invalid: ValidationReport) -> None:
    expect = fixture_expectations(path)
    report = all_invalid
    assert report.conforms is False
    assert all(isinstance(r, ValidationResult) for r in report.results)
    shapes = rdflib.Graph().parse(data=packaged_source("shapes").data, format="turtle")
    kgsh = rdflib.Namespace("https://w3id.org/khalis-kg/shapes#")
    sh_property = rdflib.URIRef("http://www.w3.org/ns/shacl#property")

    def shape_matches(name: str | None) -> bool:
        # the named shape, or a named property shape that the expected node shape uses
        if name == expect["shape"]:
            return True
        if not (name or "").startswith("kgsh:") or not expect["shape"].startswith("kgsh:"):
            return False
        node_shape = kgsh[expect["shape"][5:]]
        return (node_shape, sh_property, kgsh[str(name)[5:]]) in shapes

    matching = [
        r
        for r in report.results
        if r.focus_node == expect["focus"]
        and shape_matches(r.source_shape)
        and (r.path or "") == expect["path"]
        and expect["message"] in r.message
    ]
    assert matching, report.text
    result = matching[0]
    assert result.severity == "Violation"
    assert result.file == str(path)
    # one line per result, or one line for the results on the same focus, path and value
    # (the statement-support shape adds one to most mistakes: nothing says which
    # sentence states the wrong triple either)
    lines = (f"{path}: Violation: focus {expect['focus']}", f"{path}: focus {expect['focus']}")
    assert any(x.startswith(lines) for x in report.text.splitlines())


def test_valid_fixtures_conform() -> None:
    report = validate([packaged_source("data"), *(Source.from_path(p) for p in VALID)])
    assert report.conforms, report.text


def test_report_formats_for_a_failure() -> None:
    path = TESTS / "data" / "invalid" / "claim-without-claimant.ttl"
    report = validate([packaged_source("data"), Source.from_path(path)])
    data = json.loads(report.to_json())
    assert data["conforms"] is False
    assert {
        "focus_node": "claim:armory-captured",
        "path": "kg:claimant",
        "severity": "Violation",
        "source_shape": "kgsh:ClaimShape",
        "file": str(path),
    }.items() <= next(r for r in data["results"] if r["path"] == "kg:claimant").items()
    graph = rdflib.Graph().parse(data=report.to_turtle(), format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    assert set(graph.objects(None, sh.conforms)) == {rdflib.Literal(False)}
    assert len(set(graph.subjects(rdflib.RDF.type, sh.ValidationResult))) == len(report.results)
    count = len(report.results)
    plural = "result" if count == 1 else "results"
    assert report.text.splitlines()[0] == f"Conforms: no ({count} {plural})"


@pytest.mark.parametrize("engine", ["pyshacl", "turbo"])
def test_results_that_tie_come_in_one_order(engine: str) -> None:
    """Results on one focus node, path and value are ordered by every field, not left in
    the engine's order: pyshacl-turbo gave the three date checks of this fixture in a
    different order from one run to the next, and so the report's grouped line too."""
    if engine == "turbo":
        pytest.importorskip("pyshacl_turbo")
    path = TESTS / "data" / "invalid" / "date-as-plain-string.ttl"
    report = validate([packaged_source("data"), Source.from_path(path)], engine=engine)
    date = [
        r.source_constraint
        for r in report.results
        if r.source_shape == "kgsh:EventShape" and r.value == '"8 May 2015"'
    ]
    assert date == [
        "sh:DatatypeConstraintComponent",
        "sh:MaxInclusiveConstraintComponent",
        "sh:MinInclusiveConstraintComponent",
    ], report.text
    assert "[sh:datatype, sh:maxInclusive, sh:minInclusive in kgsh:EventShape]" in report.text


def test_validate_accepts_paths_and_graphs(kg: KnowledgeGraph) -> None:
    path = TESTS / "data" / "invalid" / "unknown-class.ttl"
    by_path = kg.validate(path)
    by_graph = kg.validate(rdflib.Graph().parse(path))
    assert by_path.conforms is by_graph.conforms is False
    assert [(r.focus_node, r.path, r.message) for r in by_path.results] == [
        (r.focus_node, r.path, r.message) for r in by_graph.results
    ]
    assert {r.file for r in by_path.results} == {str(path)}
    assert {r.file for r in by_graph.results} == {None}


def test_malformed_file_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("@prefix ex: <http://example.org/> .\nex:a ex:b ex:c ;\n", "utf-8")
    with pytest.raises(RDFSyntaxError, match=rf"^{bad}:\d+: invalid turtle: "):
        validate([Source.from_path(bad)])


def test_unknown_inference_is_refused(kg: KnowledgeGraph) -> None:
    with pytest.raises(KhalisError, match="unknown inference 'owl'"):
        kg.validate(inference="owl")


def test_named_graphs_are_validated(tmp_path: Path) -> None:
    trig = tmp_path / "g.trig"
    trig.write_text(
        "<http://example.org/g> {\n"
        "  <https://w3id.org/khalis-kg/id/event/x> a <http://x/Unknown> .\n"
        "}\n",
        "utf-8",
    )
    report = validate([Source.from_path(trig)])
    assert report.conforms is False
    assert {(r.focus_node, r.path, r.file) for r in report.results if r.path == "rdf:type"} == {
        ("event:x", "rdf:type", str(trig))
    }


def test_default_engine_falls_back_to_pyshacl_with_a_note(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without pyshacl-turbo (Python 3.10, musl...) the default is pySHACL, said once."""
    from khalis_kg import validation

    monkeypatch.setattr(validation, "turbo_available", lambda: False)
    report = validation.validate([packaged_source("data")])
    assert (report.conforms, report.engine, report.note) == (
        True,
        "pyshacl",
        validation.FALLBACK_NOTE,
    )
    assert "\n" not in validation.FALLBACK_NOTE
    with pytest.raises(KhalisError, match=r"pip install 'khalis-kg\[fast\]'"):
        validation.validate([packaged_source("data")], engine="turbo")
    with pytest.raises(KhalisError, match="unknown SHACL engine 'jena'"):
        validation.validate([packaged_source("data")], engine="jena")


def test_in_lists_read_once_give_pyshacls_own_report() -> None:
    """While khalis-kg runs pySHACL it reads each ``sh:in`` list once (validation.py):
    the report graph is the one pySHACL's own ``sh:in`` component gives, with RDFS
    inference (every typed node gets several types, each checked against the list) on the
    ontology and every invalid fixture (an unknown class among them), and pySHACL's
    component is back
    afterwards. (Both runs prepare SPARQL constraints once, the other speed-up; the
    differential tests in test_engines.py check pySHACL's results, with and without
    inference, against two other SHACL engines.)"""
    import pyshacl
    from pyshacl.constraints import CONSTRAINT_PARAMETERS_MAP
    from pyshacl.constraints.core.other_constraints import InConstraintComponent

    from khalis_kg.validation import (
        _in_lists_read_once,
        _parse_rdflib,
        _shapes_graph,
        _sparql_prepared_once,
    )

    target = _parse_rdflib([Source.from_path(p) for p in INVALID])
    options = {
        "shacl_graph": _shapes_graph(),
        "inference": "rdfs",
        "abort_on_first": False,
        "meta_shacl": False,
        "advanced": True,
        "allow_warnings": False,
    }
    with _sparql_prepared_once():
        alone = pyshacl.validate(target, **options)
        with _in_lists_read_once():
            faster = pyshacl.validate(target, **options)
    (sh_in,) = InConstraintComponent.constraint_parameters()
    assert CONSTRAINT_PARAMETERS_MAP[sh_in] is InConstraintComponent
    assert faster[0] is alone[0] is False
    assert "Unknown class" in alone[2]  # the sh:in violation is among the results
    assert_isomorphic(
        faster[1], alone[1], "the report with the lists read once (got) against pySHACL's own"
    )


@pytest.mark.parametrize("inference", ["none", "rdfs"])
def test_pyshacl_reports_the_same_with_and_without_the_speed_ups(
    monkeypatch: pytest.MonkeyPatch, inference: str
) -> None:
    """The speed-ups to pySHACL (validation.py) are made only for the releases they were
    tested with (``ACCELERATED``); with them and without them, pySHACL's report on every
    invalid fixture is the same, result for result. Run it when widening the range."""
    from khalis_kg import validation

    sources = [Source.from_path(p) for p in INVALID]
    reports = {}
    for accelerated in (True, False):
        monkeypatch.setattr(validation, "ACCELERATED", accelerated)
        reports[accelerated] = validate(sources, inference=inference, engine="pyshacl")
    assert reports[True].conforms is reports[False].conforms is False
    assert reports[True].to_dict() == reports[False].to_dict()
    assert len(reports[True].results) >= len(INVALID)  # each fixture breaks a rule

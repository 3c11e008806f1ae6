"""SHACL from both sides: the shapes are well-formed, good data conforms, each mistake is caught.

Files under ``tests/data/invalid/`` are realistic mistakes a data steward could make
while extending the graph. Each is validated together with the packaged data (as an
extension of it) and must fail with the shape, path, focus node and message named in
its header::

    # expect-shape: kgsh:EventShape
    # expect-path: sem:eventType
    # expect-focus: event:al-khalis-night-curfew
    # expect-message: An event needs sem:eventType
"""

from __future__ import annotations

from pathlib import Path

import pyshacl
import pytest
import rdflib
from helpers import fixture_expectations, fixture_results, report_rows
from pyshacl.errors import ReportableRuntimeError

from khalis_kg import resources
from khalis_kg.rdfio import Source
from khalis_kg.resources import packaged_source
from khalis_kg.validation import ValidationReport, validate

DATA = Path(__file__).resolve().parent / "data"
INVALID = sorted((DATA / "invalid").glob("*.ttl"))
VALID = sorted((DATA / "valid").glob("*.ttl"))


def _with_packaged_data(path: Path) -> ValidationReport:
    return validate([packaged_source("data"), Source.from_path(path)])


def test_shapes_pass_shacl_for_shacl() -> None:
    """The shapes graph conforms to the W3C SHACL-for-SHACL shapes (pySHACL's meta_shacl)."""
    shapes = rdflib.Graph().parse(data=resources.shapes_file().read_text("utf-8"), format="turtle")
    # As pySHACL checks shapes before validating data (meta_shacl=True): it runs
    # meta_validate(shapes) and raises with that report's text if they do not conform;
    # then the shapes are loaded with the SHACL-AF features (advanced) and used.
    try:
        conforms, _, text = pyshacl.validate(
            rdflib.Graph(), shacl_graph=shapes, meta_shacl=True, inference="none", advanced=True
        )
    except ReportableRuntimeError as exc:
        pytest.fail(f"the shapes do not conform to SHACL-for-SHACL: {exc.message}")
    assert conforms, text


def test_packaged_data_conforms() -> None:
    report = validate([packaged_source("data")])
    assert report.conforms, report.text
    assert report.results == []


@pytest.mark.parametrize("path", VALID, ids=[p.stem for p in VALID])
def test_valid_extension_conforms(path: Path) -> None:
    report = _with_packaged_data(path)
    assert report.conforms, report.text


def test_every_invalid_file_states_itsfixture_expectations() -> None:
    assert len(INVALID) >= 12
    for path in INVALID:
        assert set(fixture_expectations(path)) == {"shape", "path", "focus", "message"}, path.name
        assert fixture_results(path), f"{path.name} pins no result set"


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_extension_fails_with_its_message(path: Path) -> None:
    expected = fixture_expectations(path)
    report = _with_packaged_data(path)
    assert not report.conforms
    matching = [
        r
        for r in report.results
        if r.source_shape == expected["shape"]
        and (r.path or "") == expected["path"]
        and r.focus_node == expected["focus"]
        and expected["message"] in r.message
    ]
    assert matching, f"expected {expected}, got:\n{report.text}"
    # ... and nothing else: the fixture pins its full result set.
    assert report_rows(report.results) == fixture_results(path), report.text
    assert all(r.severity == "Violation" for r in matching)
    # The mistake is reported against the file that made it.
    assert {r.file for r in matching} == {str(path)}


def test_packaged_data_conforms_under_rdfs_inference() -> None:
    """Inferred superclasses, rdfs:Resource and rdf:Property are not unknown classes."""
    report = validate([packaged_source("data")], inference="rdfs")
    assert report.conforms, report.text


ENTAILED = b"""
@prefix kg: <https://w3id.org/khalis-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix claim: <https://w3id.org/khalis-kg/id/claim/> .
@prefix account: <https://w3id.org/khalis-kg/id/account/> .
@prefix organization: <https://w3id.org/khalis-kg/id/organization/> .

# Entailed by supported triples: kg:claimant is a sub-property of prov:wasAttributedTo,
# kg:supportedBy the inverse of kg:supportsAccount. No statement of their own is needed.
claim:amaq-break-in-with-explosives prov:wasAttributedTo organization:amaq-news-agency .
account:coordinated-isis-attack kg:supportedBy claim:amaq-break-in-with-explosives .
# Not entailed (the claimant is the agency, not ISIL): it needs a statement.
claim:amaq-break-in-with-explosives prov:wasAttributedTo organization:isil .
"""


@pytest.mark.parametrize("engine", ["pyshacl", "turbo"])
def test_statement_support_asks_only_unentailed_triples(engine: str) -> None:
    """The sub-property and inverse exemptions of kgsh:StatementSupportShape hold on
    both engines, and only for a triple a supported one entails."""
    if engine == "turbo":
        pytest.importorskip("pyshacl_turbo")
    extra = Source("entailed.ttl", ENTAILED, "turtle")
    report = validate([packaged_source("data"), extra], engine=engine)
    support = [r for r in report.results if r.source_shape == "kgsh:StatementSupportShape"]
    assert [(r.focus_node, r.path, r.value) for r in support] == [
        ("claim:amaq-break-in-with-explosives", "prov:wasAttributedTo", "organization:isil")
    ], report.text


def test_statement_support_lookups_are_anchored_on_this() -> None:
    """Every look-up of kgsh:StatementSupportShape is an OPTIONAL whose first pattern
    names $this, with no FILTER NOT EXISTS: the form pyshacl-turbo evaluates in time
    linear in the data (docs/benchmarks.md, SHACL validation)."""
    import re

    shapes = rdflib.Graph().parse(data=packaged_source("shapes").data, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    shape = rdflib.URIRef("https://w3id.org/khalis-kg/shapes#StatementSupportShape")
    (constraint,) = shapes.objects(shape, sh.sparql)
    select = str(shapes.value(constraint, sh.select))
    assert "NOT EXISTS" not in select.upper()
    groups = re.findall(r"OPTIONAL\s*\{\s*([^.]*)\.", select)
    assert len(groups) == 3, select
    assert all("$this" in first for first in groups), groups


def test_known_class_target_lists_the_known_classes() -> None:
    """kgsh:KnownClassShape targets, by one SPARQL query, only the nodes with an rdf:type
    outside its sh:in list (the only ones that can fail it): the query's list is that list."""
    import re

    shapes = rdflib.Graph().parse(data=packaged_source("shapes").data, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    shape = rdflib.URIRef("https://w3id.org/khalis-kg/shapes#KnownClassShape")
    (target,) = shapes.objects(shape, sh.target)
    select = str(shapes.value(target, sh.select))
    (listed,) = re.findall(r"NOT IN \(([^)]*)\)", select)
    in_query = {shapes.namespace_manager.expand_curie(name.strip()) for name in listed.split(",")}
    (prop,) = shapes.objects(shape, sh.property)
    members = set()
    for alternative in rdflib.collection.Collection(shapes, shapes.value(prop, sh["or"])):
        head = shapes.value(alternative, sh["in"])
        if head is not None:
            members |= set(rdflib.collection.Collection(shapes, head))
    assert len(members) == 61
    assert in_query == members

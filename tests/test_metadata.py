"""One version, and licences that agree everywhere they are stated.

The package version is defined once (``khalis_kg.__version__``, read by hatch for the
package metadata); the ontology and the shapes restate it in RDF, so a test ties them
together. The code and ontology are MIT, the data (derived from Wikipedia) CC BY-SA 4.0.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, URIRef
from rdflib.namespace import DCTERMS

import khalis_kg
from khalis_kg import resources
from khalis_kg.namespaces import DATASET, ID, ONTOLOGY, SHAPES

REPO = Path(__file__).resolve().parents[1]
MIT = URIRef("https://opensource.org/license/mit")
CC_BY_SA = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")
ARTICLE = "https://en.wikipedia.org/wiki/2015_Al_Khalis_prison_break"


def _graph(entry: object) -> rdflib.Graph:
    return rdflib.Graph().parse(data=resources.read_text(entry), format="turtle")  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ontology() -> rdflib.Graph:
    return _graph(resources.ontology_files()[0])


@pytest.fixture(scope="module")
def shapes() -> rdflib.Graph:
    return _graph(resources.shapes_file())


@pytest.fixture(scope="module")
def data() -> rdflib.Graph:
    return _graph(resources.data_file())


def test_version_is_defined_once_in_python() -> None:
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert '[tool.hatch.version]\npath = "src/khalis_kg/__init__.py"' in pyproject
    assert not re.search(r"^version\s*=", pyproject, re.M)
    assert re.fullmatch(r"\d+\.\d+\.\d+", khalis_kg.__version__)


def test_ontology_version_is_the_package_version(ontology: rdflib.Graph) -> None:
    subject = URIRef(ONTOLOGY)
    assert [str(v) for v in ontology.objects(subject, OWL.versionInfo)] == [khalis_kg.__version__]
    assert list(ontology.objects(subject, OWL.versionIRI)) == [
        URIRef(f"https://w3id.org/khalis-kg/ontology/{khalis_kg.__version__}")
    ]


def test_shapes_version_is_the_package_version(shapes: rdflib.Graph) -> None:
    versions = [str(v) for v in shapes.objects(URIRef(SHAPES), OWL.versionInfo)]
    assert versions == [khalis_kg.__version__]


def test_ontology_is_mit_like_the_code(ontology: rdflib.Graph) -> None:
    assert list(ontology.objects(URIRef(ONTOLOGY), DCTERMS.license)) == [MIT]
    assert (REPO / "LICENSE").read_text("utf-8").startswith("MIT License")


def test_data_is_cc_by_sa_like_its_source(data: rdflib.Graph) -> None:
    assert list(data.objects(URIRef(DATASET), DCTERMS.license)) == [CC_BY_SA]
    document = URIRef(ID + "document/wikipedia-2015-al-khalis-prison-break")
    assert list(data.objects(document, DCTERMS.license)) == [CC_BY_SA]


def test_notice_attributes_the_article_and_its_authors() -> None:
    notice = (REPO / "NOTICE").read_text("utf-8")
    for needle in (ARTICLE, "action=history", "Wikipedia contributors", str(CC_BY_SA), str(MIT)):
        assert needle in notice, needle
    readme = (REPO / "README.md").read_text("utf-8")
    assert "## Licences" in readme
    assert ARTICLE in readme
    assert str(CC_BY_SA) in readme


def test_package_metadata_declares_both_licences() -> None:
    pyproject = (REPO / "pyproject.toml").read_text("utf-8")
    assert re.search(r'^license = "MIT AND CC-BY-SA-4\.0"$', pyproject, re.M)
    assert re.search(r'^license-files = \["LICENSE", "NOTICE"\]$', pyproject, re.M)

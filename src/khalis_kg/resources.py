"""Where the packaged files live, reached through :mod:`importlib.resources`.

``ontology/``, ``data/`` and ``queries/`` sit at the top of the repository and are
shipped inside the wheel as ``khalis_kg/ontology``, ``khalis_kg/data`` and
``khalis_kg/queries`` (see ``[tool.hatch.build.targets.wheel.force-include]``).
"""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable

PACKAGE = "khalis_kg"


def package_root() -> Traversable:
    return resources.files(PACKAGE)


def data_file() -> Traversable:
    """The knowledge graph itself: ``data/khalis.ttl``."""
    return package_root() / "data" / "khalis.ttl"


def ontology_file() -> Traversable:
    """The OWL ontology: ``ontology/khalis.ttl``."""
    return package_root() / "ontology" / "khalis.ttl"


def shapes_file() -> Traversable:
    """The SHACL shapes: ``ontology/shapes.ttl``."""
    return package_root() / "ontology" / "shapes.ttl"


def jsonld_context_file() -> Traversable:
    """The compact JSON-LD ``@context`` used by the JSON-LD export."""
    return package_root() / "ontology" / "context.jsonld"


def queries_dir() -> Traversable:
    """The packaged SPARQL queries, one ``<name>.rq`` per question."""
    return package_root() / "queries"


def static_dir() -> Traversable:
    """HTML, JavaScript and CSS served by ``khalis-kg serve`` (no CDN)."""
    return package_root() / "static"

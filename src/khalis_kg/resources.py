"""Where the packaged files live, reached through :mod:`importlib.resources`.

``ontology/``, ``data/`` and ``queries/`` sit at the top of the repository (the fixed
layout). ``src/khalis_kg/{ontology,data,queries}`` are symbolic links to them, so the
same ``importlib.resources`` paths work in a source checkout, an editable install and
a wheel (hatchling follows the links and ships real files).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from importlib.abc import Traversable

PACKAGE = "khalis_kg"
_HERE = Path(__file__).parent


def package_root() -> Traversable:
    """The package's directory. Installed as files (a wheel, an editable install, a
    checkout) it is this module's directory, which is what ``importlib.resources.files``
    returns there; importing ``importlib.resources`` (and the ``tempfile``, ``inspect``,
    ``uuid`` it pulls in: ~7 ms, a fifth of ``khalis-kg query``'s imports) is only needed
    for other loaders (a zip file)."""
    if (_HERE / "queries").is_dir():
        return _HERE
    from importlib import resources

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

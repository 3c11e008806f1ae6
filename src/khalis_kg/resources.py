"""Where the packaged files live, and reading them.

``ontology/``, ``data/`` and ``queries/`` sit at the top of the repository (the fixed
layout); there are no links to them inside ``src/``. The wheel maps them into the
package (hatch ``force-include``: ``khalis_kg/ontology/`` ...), so :func:`package_root`
finds them in one of two places, and nowhere else (never relative to the working
directory):

1. the installed package's directory (a wheel, including one built from the sdist);
2. the repository root, two levels above this file (a checkout, an editable install,
   an unpacked sdist).

A packaged file that is missing or unreadable is an :class:`~khalis_kg.errors.InputError`
(exit 2), never an empty answer. ``static/`` (the HTML pages) is part of the package.
"""

from __future__ import annotations

from pathlib import Path

from .errors import InputError
from .rdfio import Source

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from importlib.abc import Traversable
    from typing import Literal

PACKAGE = "khalis_kg"
_HERE = Path(__file__).parent
_REPO = _HERE.parent.parent

DATA_DIRS: tuple[str, ...] = ("ontology", "data", "queries")
"""The top-level folders shipped as package data (see ``pyproject.toml``)."""

ONTOLOGY_FILES: tuple[str, ...] = ("khalis.ttl", "concepts.ttl")
"""The ontology, as files of ``ontology/``: the one list every loader reads (the OWL
ontology, then its SKOS concept schemes)."""

SHAPES_FILE = "shapes.ttl"
"""The SHACL shapes, in ``ontology/``."""


def tested(distribution: str, low: tuple[int, int], high: tuple[int, int]) -> bool:
    """Whether the installed ``distribution``'s version (major, minor) is in
    ``[low, high)``: the releases a change to its behaviour was tested with (the floor
    and the version the suite last ran with). Outside them the change is not made."""
    import re
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = tuple(int(n) for n in re.findall(r"\d+", version(distribution))[:2])
    except PackageNotFoundError:
        return False
    return low <= release < high


def _has_data(root: Path | Traversable) -> bool:
    return all((root / name).is_dir() for name in DATA_DIRS)


def package_root() -> Traversable:
    """The directory holding ``ontology/``, ``data/`` and ``queries/``: the installed
    package, else the repository root of a checkout; InputError if neither has them."""
    if _has_data(_HERE):
        return _HERE
    if _has_data(_REPO) and (_REPO / "pyproject.toml").is_file():
        return _REPO
    from importlib import resources  # another loader (a zip file)

    root = resources.files(PACKAGE)
    if _has_data(root):
        return root
    raise InputError(
        "the packaged files (ontology/, data/, queries/) are missing from this "
        f"installation: looked in {_HERE} and {_REPO}; reinstall khalis-kg"
    )


def read_bytes(entry: Traversable | Path) -> bytes:
    """The bytes of a packaged file; InputError (exit 2) if it is missing or unreadable."""
    try:
        return entry.read_bytes()
    except FileNotFoundError:
        raise InputError(f"packaged file missing: {entry}; reinstall khalis-kg") from None
    except OSError as exc:
        raise InputError(f"packaged file unreadable: {entry} ({exc.strerror or exc})") from None


def read_text(entry: Traversable | Path) -> str:
    """The UTF-8 text of a packaged file (InputError if missing, unreadable or not UTF-8)."""
    try:
        return read_bytes(entry).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"packaged file is not UTF-8: {entry} ({exc.reason})") from None


def data_file() -> Traversable:
    """The knowledge graph itself: ``data/khalis.ttl``."""
    return package_root() / "data" / "khalis.ttl"


def ontology_files() -> list[Traversable]:
    """Every file of the ontology (:data:`ONTOLOGY_FILES`)."""
    root = package_root() / "ontology"
    return [root / name for name in ONTOLOGY_FILES]


def shapes_file() -> Traversable:
    """The SHACL shapes: ``ontology/shapes.ttl``."""
    return package_root() / "ontology" / SHAPES_FILE


def jsonld_context_file() -> Traversable:
    """The compact JSON-LD ``@context`` used by the JSON-LD export."""
    return package_root() / "ontology" / "context.jsonld"


def queries_dir() -> Traversable:
    """The packaged SPARQL queries, one ``<name>.rq`` per question."""
    return package_root() / "queries"


def static_dir() -> Traversable:
    """HTML, JavaScript and CSS served by ``khalis-kg serve`` (no CDN)."""
    return _HERE / "static"


def _source(entry: Traversable) -> Source:
    return Source(str(entry), read_bytes(entry), "turtle", None)


def packaged_source(which: Literal["data", "shapes"]) -> Source:
    """The packaged data graph or the SHACL shapes as a :class:`~khalis_kg.rdfio.Source`."""
    return _source(data_file() if which == "data" else shapes_file())


def ontology_sources() -> list[Source]:
    """The packaged ontology, one :class:`~khalis_kg.rdfio.Source` per file."""
    return [_source(entry) for entry in ontology_files()]

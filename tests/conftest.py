"""Shared fixtures: the packaged graph, loaded once per session on each backend.

Other test modules may append fixtures here. Constants and helper functions live in
``helpers.py`` (import them from there, not from this file).
"""

from __future__ import annotations

import compileall
import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import BACKENDS, TEST_QUERIES

import khalis_kg
from khalis_kg import KnowledgeGraph
from khalis_kg.catalogue import Catalogue

TRICKY_TTL = """\
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
ex:a ex:int "01"^^xsd:integer ;
    ex:short "+007"^^xsd:short ;
    ex:nonneg "5"^^xsd:nonNegativeInteger ;
    ex:dec "1.50"^^xsd:decimal ;
    ex:dec2 "2.0"^^xsd:decimal ;
    ex:dbl "1.5e2"^^xsd:double ;
    ex:flt "0.5"^^xsd:float ;
    ex:bool "1"^^xsd:boolean ;
    ex:date "2015-05-08"^^xsd:date ;
    ex:dt "2015-05-08T10:00:00.000+00:00"^^xsd:dateTime ;
    ex:lang "Khalis"@EN-GB ;
    ex:plain "plain" ;
    ex:typed "typed"^^xsd:string ;
    ex:bad "abc"^^xsd:integer ;
    ex:text "tab\\there, comma \\"quoted\\"\\nnew line <&>" ;
    ex:node [ ex:p ex:b ] .
ex:b ex:n 1 , 2 , 3 .
"""


# ------------------------------------------------- pytest-xdist: how many workers
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` starts one worker per available core, and one more. Much of the suite
    waits rather than computes (servers starting, requests to stores and Virtuoso, work
    stopped at a time limit, connections closed at a timeout), and the extra worker
    runs meanwhile: on the 2-core machine the suite without the browser test takes ~90 s
    with 3 workers and ~100 s with 2 (docs/benchmarks.md, "Test suite time"). The
    ``PYTEST_XDIST_AUTO_NUM_WORKERS`` environment variable still decides when set."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return cores + 1


# ------------------------------------------------- bytecode
def pytest_configure(config: pytest.Config) -> None:
    """Before any worker starts (in pytest-xdist's controller, or the one process of a
    run without it): the package compiled into its ``__pycache__``, as installing a wheel
    does. With ``PYTHONDONTWRITEBYTECODE`` set (this project's environments and CI set
    it) and an editable install, each ``khalis-kg`` process a test starts would compile
    every module it imports from source again. Up-to-date files are only looked at; a
    package that cannot be written to is left as it is."""
    if not hasattr(config, "workerinput"):
        compileall.compile_dir(Path(khalis_kg.__file__).parent, quiet=2)


@pytest.hookimpl(hookwrapper=True)
def pytest_collection(session: pytest.Session) -> Iterator[None]:
    """What collection imports is written as bytecode even with ``PYTHONDONTWRITEBYTECODE``
    set: the test modules as pytest rewrites their asserts (its own cache, in
    ``tests/__pycache__``), their helpers, the plugins' modules pytest rewrites. Each
    worker rewrote them all at every run, ~1.5 s of CPU each (docs/benchmarks.md,
    "Tenth session: the suite's time"); from the second run on they are read. The
    environment's setting holds again for the tests themselves."""
    saved, sys.dont_write_bytecode = sys.dont_write_bytecode, False
    try:
        yield
    finally:
        sys.dont_write_bytecode = saved


# ------------------------------------------------- the garbage collector
def _freeze_what_lives_on() -> None:
    """Collect, then freeze what is left for the garbage collector (``gc.freeze``)."""
    gc.collect()
    gc.freeze()


def pytest_collection_finish(session: pytest.Session) -> None:
    """What collection built (the engines imported, ~3,000 test items with their
    parameters, the W3C manifests) lives for the whole run: it is frozen for the garbage
    collector, as khalis-kg's own long-lived processes freeze what they loaded, so that
    the full collections the tests set off walk only what the tests make. They took
    ~15 s of a run's CPU before, ~4 s now (docs/benchmarks.md, "Test suite time")."""
    _freeze_what_lives_on()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """The same once a module is done (its fixtures finalised): what is left, the session's
    fixtures and caches, lives on."""
    yield
    if nextitem is None or getattr(nextitem, "module", None) is not getattr(item, "module", None):
        _freeze_what_lives_on()


# ------------------------------------------------- pytest-xdist: one worker per module
SHARED_FIXTURES = {
    "virtuoso": frozenset({"test_backends.py", "test_remote.py"}),
    "live_server": frozenset(
        {
            "test_server.py",
            "test_ontology_docs.py",
            "test_pages_read_well.py",
            "test_server_clients.py",
            "test_browser.py",
        }
    ),
}
"""Session fixtures that start a costly process (Virtuoso; the ``khalis-kg serve`` of the
server, client and page tests) -> the modules that use them: these modules run on one
worker together, so that the process is started once a run, not once per worker (and
a served page or document is built once)."""


SPREAD_MODULES = frozenset({"test_hostile.py"})
"""The modules whose tests are handed out one by one, not as a whole: long tests with
no costly module-scoped fixture (the hostile corpus, one test per group of cases)."""


HEAVY_FIRST = (
    "test_hostile.py",
    "virtuoso",
    "test_remote_boundary.py",
    "test_query_corpus.py",
    "live_server",
    "test_api.py",
    "test_server_resilience.py",
    "test_cli.py",
    "test_store_reliability.py",
    "test_w3c.py",
    "test_isolation.py",
    "test_queries.py",
    "test_edges.py",
    "test_distribution.py",
    "test_reasoning.py",
    "test_shapes.py",
    "test_engines.py",
    "test_validation_api.py",
    "test_export.py",
    "test_startup.py",
    "test_doc_examples.py",
)
"""The units that take the longest (seconds of a worker, measured over a whole run),
longest first: a worker takes the longest unit left, so that none is left to run alone
at the end; the rest go by number of tests (pytest-xdist's order). The hostile
corpus's groups come first: pytest-xdist hands each worker its first few units at once,
and these are short."""


def _file_name(scope: str) -> str:
    return scope.split("::", 1)[0].rsplit("/", 1)[-1]


def _rank(scope: str) -> int:
    name = _file_name(scope)
    return HEAVY_FIRST.index(name) if name in HEAVY_FIRST else len(HEAVY_FIRST)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under pytest-xdist (``-n auto``, as the README runs the suite) a worker runs a
    whole module, so each module-scoped fixture (a server, a store) starts once, and the
    users of each of :data:`SHARED_FIXTURES` together, but the tests of
    :data:`SPREAD_MODULES` one by one; the :data:`HEAVY_FIRST` units are handed out
    first. Another ``--dist`` given explicitly is kept."""
    if config.getvalue("dist") != "load":
        return None
    from collections import OrderedDict

    from xdist.scheduler import LoadScopeScheduling

    unit = {module: fixture for fixture, modules in SHARED_FIXTURES.items() for module in modules}

    class HeavyFirst(OrderedDict[str, Any]):
        def popitem(self, last: bool = True) -> tuple[str, Any]:
            if last:
                return super().popitem(last=True)
            scope = min(self, key=_rank)  # the first of the heaviest left
            return scope, self.pop(scope)

    class ByModule(LoadScopeScheduling):
        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self.workqueue = HeavyFirst()

        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            if _file_name(module) in SPREAD_MODULES:
                return nodeid
            return unit.get(_file_name(module), module)

    return ByModule(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A module that uses one of :data:`SHARED_FIXTURES` must be listed with it."""
    for fixture, modules in SHARED_FIXTURES.items():
        users = {
            _file_name(i.nodeid.split("::", 1)[0])
            for i in items
            if fixture in getattr(i, "fixturenames", ())
        }
        if not users <= modules:
            raise pytest.UsageError(
                f"tests/conftest.py: add {sorted(users - modules)} to SHARED_FIXTURES[{fixture!r}]"
            )


@pytest.fixture(scope="session")
def kg() -> Iterator[KnowledgeGraph]:
    """The packaged data alone (no ontology) on the default (oxigraph) backend."""
    graph = KnowledgeGraph.load(with_ontology=False)
    graph.queries()  # bind the packaged catalogue now, before any test patches resources
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def kg_memory() -> Iterator[KnowledgeGraph]:
    """The packaged data alone (no ontology) on the rdflib backend."""
    graph = KnowledgeGraph.load(backend="memory", with_ontology=False)
    graph.queries()  # bind the packaged catalogue now, before any test patches resources
    yield graph
    graph.close()


@pytest.fixture(scope="session")
def kgs(kg: KnowledgeGraph, kg_memory: KnowledgeGraph) -> dict[str, KnowledgeGraph]:
    """Both backends over the packaged graph, by backend name."""
    return {"oxigraph": kg, "memory": kg_memory}


@pytest.fixture(scope="session", params=BACKENDS)
def any_kg(request: pytest.FixtureRequest, kgs: dict[str, KnowledgeGraph]) -> KnowledgeGraph:
    """The packaged graph, once per backend."""
    graph: KnowledgeGraph = kgs[request.param]
    return graph


@pytest.fixture(scope="session")
def test_catalogue() -> Catalogue:
    """The example queries in tests/data/queries (not the packaged ones)."""
    return Catalogue.load(TEST_QUERIES)


@pytest.fixture(scope="session")
def tricky_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small graph of literals the two engines write differently."""
    path = tmp_path_factory.mktemp("tricky") / "tricky.ttl"
    path.write_text(TRICKY_TTL, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tricky(tricky_file: Path) -> dict[str, KnowledgeGraph]:
    """The tricky graph, by backend name."""
    return {b: KnowledgeGraph.load([tricky_file], backend=b) for b in BACKENDS}


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """One ``khalis-kg serve`` for the whole session (server, client and browser tests)."""
    from server_helpers import TEST_MAX_RESULTS, TEST_TIMEOUT, run_server

    with run_server(
        "--timeout", str(TEST_TIMEOUT), "--max-results", str(TEST_MAX_RESULTS), "--workers", "2"
    ) as base:  # fmt: skip
        yield base


# ---------------------------------------------------------------- Virtuoso (one per session)
VIRTUOSO_AS_LOADED = pytest.StashKey[tuple[Any, dict[str, int]]]()
"""The session's Virtuoso, while it runs, and its graphs' sizes once loaded."""


@pytest.fixture(scope="session")
def virtuoso(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[object]:
    """Debian's Virtuoso, started once per session (see ``helpers.running_virtuoso``), with the
    packaged data in one graph and the data with the ontology in another, both loaded
    through ``khalis_kg.loader`` (Graph Store HTTP Protocol PUT). Tests only read it
    (:func:`virtuoso_as_loaded`); a test that writes starts a Virtuoso of its own."""
    from helpers import VIRTUOSO_DATA_GRAPH, VIRTUOSO_FULL_GRAPH, running_virtuoso

    from khalis_kg.loader import load_to_store
    from khalis_kg.resources import ontology_sources, packaged_source

    with running_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
        data = packaged_source("data")
        load_to_store(server.store_url, [data], VIRTUOSO_DATA_GRAPH, env={})
        load_to_store(server.store_url, [data, *ontology_sources()], VIRTUOSO_FULL_GRAPH, env={})
        request.config.stash[VIRTUOSO_AS_LOADED] = (server, server.graph_sizes())
        yield server
        del request.config.stash[VIRTUOSO_AS_LOADED]


@pytest.fixture(autouse=True)
def virtuoso_as_loaded(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each Virtuoso test, the session's Virtuoso (if started) holds the graphs it was
    loaded with, each of the same size, and no other: what one test leaves there must not
    change what the next one is answered. Virtuoso 7.2 answers ``construct-event-subgraph``
    on one graph without some of its triples once the same triples are in two more graphs
    (by ``default-graph-uri`` or ``FROM`` alike), and, if queried meanwhile, still after
    those are deleted; a restart mends it. So a test that writes cannot clean up after
    itself: it needs a Virtuoso of its own."""
    yield
    found = request.config.stash.get(VIRTUOSO_AS_LOADED, None)
    uses = "virtuoso" in request.fixturenames or request.node.get_closest_marker("virtuoso")
    if found is None or not uses:
        return
    server, loaded = found
    now = server.graph_sizes()
    if now != loaded:
        request.config.stash[VIRTUOSO_AS_LOADED] = (server, now)  # only this test is blamed
        changed = {
            g: (loaded.get(g), now.get(g))
            for g in loaded.keys() | now
            if loaded.get(g) != now.get(g)
        }
        pytest.fail(
            f"the test changed the session's Virtuoso (graph: triples before, after): "
            f"{changed}; a test that writes needs a Virtuoso of its own"
        )

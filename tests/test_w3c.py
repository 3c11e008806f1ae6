"""The W3C SPARQL 1.1 test suites, run from their manifests (``tests/w3c``).

Every query-evaluation, syntax and results-format test runs on four engines: the bare
engines as the control (``oxigraph-raw``: pyoxigraph; ``rdflib-raw``: rdflib) and the
project (``oxigraph`` and ``memory``: :class:`KnowledgeGraph` with that backend). A test
listed in ``tests/w3c/known_deviations.txt`` for an engine must fail there (it is
reported as an expected failure with its reason); passing unexpectedly fails the run,
and so does a failure that is not listed. Nothing is skipped.

The protocol tests (``protocol/manifest.ttl``: the query tests and the bad-query tests)
run against ``khalis-kg serve`` over HTTP, and against ``oxigraph serve`` as the
control (:mod:`test_w3c_protocol`).
"""

from __future__ import annotations

import pytest
import w3c_runner as w

TESTS = w.all_tests()
DEVIATIONS = w.read_deviations()
QUERY_ENGINES = set(w.ENGINES)


def _params() -> list[object]:
    return [
        pytest.param(engine, test, id=f"{engine}:{test.id}")
        for test in TESTS
        for engine in w.ENGINES
    ]


@pytest.mark.parametrize(("engine", "test"), _params())
def test_w3c(engine: str, test: w.W3CTest) -> None:
    failure = w.outcome(engine, test)
    reason = DEVIATIONS.get((engine, test.id))
    if reason is None:
        assert failure is None, f"{test.name}: {failure}"
        return
    if reason.startswith("varies:"):  # the engine's column order follows the hash seed
        if failure is None:
            return
        assert failure.startswith("CSV header differs"), f"{test.name}: {failure}"
    assert failure is not None, (
        f"{engine} {test.id} passes now: remove it from tests/w3c/known_deviations.txt"
    )
    pytest.xfail(f"known deviation: {reason} ({failure[:200]})")


def test_deviations_name_real_tests() -> None:
    ids = {t.id for t in TESTS}
    unknown = [(e, i) for e, i in DEVIATIONS if e in QUERY_ENGINES and i not in ids]
    assert unknown == []


@pytest.mark.parametrize("backend", sorted(w.CONTROL))
def test_the_project_loses_nothing_against_the_raw_engine(backend: str) -> None:
    """No test passes on the raw engine and fails through khalis-kg (the deviations
    file is the record, and test_w3c holds every engine to it)."""
    control = w.CONTROL[backend]
    listed = {i for e, i in DEVIATIONS if e == backend}
    on_raw = {i for e, i in DEVIATIONS if e == control}
    assert sorted(listed - on_raw) == []


def test_every_directory_is_run() -> None:
    assert {t.id.split("/")[0] for t in TESTS} == set(w.QUERY_DIRS)
    assert len(TESTS) == 338


def test_docs_conformance_has_the_current_counts() -> None:
    text = (w.HERE.parent.parent / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert w.conformance_table() in text

"""Zero tracebacks, zero aborts, zero hangs: the hostile corpus through every command on
every backend, each run ending with a documented exit code and, when it is not 0, one
line on stderr, within its time limit (see tests/hostile_corpus.py)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from helpers import invoke
from hostile_corpus import (
    DOCUMENTED_EXIT_CODES,
    GROUPS,
    LIMIT_OPTIONS,
    REMOTE_SKIPPED,
    TIME_LIMIT,
    Case,
    HostileCorpus,
    remote_cases,
)


def setup_module() -> None:
    """Import the engines here once, so that each forked child does not import them again
    (the command line's parent imports none; a test process has them anyway)."""
    import pyshacl  # noqa: F401
    import rdflib.plugins.sparql.evaluate  # noqa: F401

    import khalis_kg.backends.memory
    import khalis_kg.validation  # noqa: F401


SLACK = 1.0
"""Seconds past the time limit a run may take (forking, loading, killing)."""


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> HostileCorpus:
    """Written once per worker (the groups of a module may run apart, see conftest.py)."""
    return HostileCorpus(tmp_path_factory.mktemp("hostile") / "corpus")


def test_the_groups_cover_the_corpus(corpus: HostileCorpus) -> None:
    """Every case is in one of the groups the next test runs, and there are many."""
    cases = list(corpus.cases())
    assert len(cases) > 250
    assert {case.group for case in cases} == set(GROUPS)


@pytest.mark.parametrize("group", GROUPS)
def test_hostile_corpus_ends_cleanly_everywhere(corpus: HostileCorpus, group: str) -> None:
    """One group of cases (pytest-xdist spreads the groups over its workers)."""
    counts = run_cases(case for case in corpus.cases() if case.group == group)
    # every RDF input, or every query and the sort panic on its data
    expected = len(corpus.queries) + 1 if group.endswith("sparql -f") else len(corpus.data)
    assert counts["inputs"] == expected


@pytest.mark.oxigraph_server
def test_hostile_queries_on_the_remote_backend(tmp_path: Path) -> None:
    from helpers import running_oxigraph

    from khalis_kg.loader import load_to_store
    from khalis_kg.resources import packaged_source

    corpus = HostileCorpus(tmp_path / "corpus")
    with running_oxigraph(tmp_path / "store") as server:
        load_to_store(server.store_url, [packaged_source("data")], env={})
        counts = run_cases(remote_cases(corpus, server.query_url, server.store_url))
        # The API's isolated mode over the remote backend: the child talks over its own
        # connections, and the parent's pooled connection still answers afterwards.
        from khalis_kg import KnowledgeGraph
        from khalis_kg.backends.remote import RemoteBackend

        with KnowledgeGraph(RemoteBackend(server.query_url, env={})) as kg:
            count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
            expected = kg.sparql(count).rows
            assert kg.sparql(count, isolated=True, timeout=10).rows == expected
            assert kg.sparql(count).rows == expected
        alive = server.process.poll() is None
        died = "" if alive or server.process.stderr is None else server.process.stderr.read()
        assert alive, f"the store died: {died[-400:]!r}"  # nothing sent crashed it
    assert counts["inputs"] == len(corpus.queries) - len(REMOTE_SKIPPED) + len(corpus.data)


def run_cases(cases: Iterable[Case]) -> Counter[str]:
    counts: Counter[str] = Counter()
    problems: list[str] = []
    for case in cases:
        started = time.monotonic()
        result = invoke([*LIMIT_OPTIONS, *case.args], catch_exceptions=True)
        elapsed = time.monotonic() - started
        counts["inputs"] += 1
        counts[f"exit {result.exit_code}"] += 1
        stderr = result.stderr
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            counts["tracebacks"] += 1
            problems.append(f"{case.name}: raised {result.exception!r}")
        if "Traceback" in stderr or "panicked" in stderr:
            counts["tracebacks"] += 1
            problems.append(f"{case.name}: traceback on stderr")
        if result.exit_code not in DOCUMENTED_EXIT_CODES:
            counts["aborts"] += 1
            problems.append(f"{case.name}: exit {result.exit_code}")
        if result.exit_code != 0 and (
            stderr.count("\n") != 1 or not stderr.startswith("khalis-kg: error: ")
        ):
            problems.append(f"{case.name}: not one line: {stderr[:300]!r}")
        if elapsed > TIME_LIMIT + SLACK:
            counts["hangs"] += 1
            problems.append(f"{case.name}: {elapsed:.1f} s")
    assert problems == [], "\n".join(problems)
    assert counts["tracebacks"] == counts["aborts"] == counts["hangs"] == 0
    return counts

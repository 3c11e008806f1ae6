"""The memory backend's hash joins against rdflib's own joins, in the same run.

    .venv/bin/python bench/memory_joins.py                   # packaged graph and ~10k
    .venv/bin/python bench/memory_joins.py --sizes packaged --queries construct-event-subgraph

For every packaged query on the ``memory`` backend: the median time with the joins run as
hash joins (``backends/rdflib_joins``, what the backend does) and with rdflib's own
``evalJoin`` on the same prepared query (the baseline: rdflib 7 as it is, a nested loop
over a ``set``), and whether the two answers are the same. Corpora: the packaged graph
(with the ontology, as ``KnowledgeGraph.load(backend="memory")`` loads it) and the
synthetic corpora of ``bench/run.py``; queries with an ``event`` parameter are bound to
the middle synthetic event there. Every loop is bounded: up to ``--repeat`` runs within
``--budget`` seconds, and one run is interrupted after ``--cap`` seconds (rdflib is
Python, so SIGALRM stops it). One JSON line per measurement goes to ``--out`` (default
``bench/results/memory-joins.jsonl``), then a Markdown table to standard output.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: corpora, parameters, machine)
from query_scale import canonical  # noqa: E402


@contextlib.contextmanager
def rdflib_joins() -> Iterator[None]:
    """Run the marked joins with rdflib's own ``evalJoin`` (a nested loop) meanwhile."""
    import rdflib.plugins.sparql
    from rdflib.plugins.sparql.evaluate import evalJoin

    from khalis_kg.backends.rdflib_joins import HASH_JOIN

    ours = rdflib.plugins.sparql.CUSTOM_EVALS[HASH_JOIN]

    def theirs(ctx: Any, part: Any) -> Any:
        if part.name != HASH_JOIN:
            raise NotImplementedError
        return evalJoin(ctx, part)  # lazy is false on every marked join: _join(a, set(b))

    rdflib.plugins.sparql.CUSTOM_EVALS[HASH_JOIN] = theirs
    try:
        yield
    finally:
        rdflib.plugins.sparql.CUSTOM_EVALS[HASH_JOIN] = ours


def main() -> int:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["packaged", "10k"])
    parser.add_argument("--queries", nargs="*", default=None, help="names (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=5.0)
    parser.add_argument("--cap", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "memory-joins.jsonl")
    args = parser.parse_args()

    table: list[str] = []
    with bench.jsonl_log(args.out) as emit:
        for size in args.sizes:
            kg, event = bench.memory_corpus(size)
            triples = len(kg)
            for name in args.queries or kg.catalogue.names():
                info = kg.catalogue.get(name)
                params = {} if event is None else bench.query_params(info, event)
                medians: dict[str, float | None] = {}
                answers = {}
                for joins in ("hash", "rdflib"):
                    switch = rdflib_joins() if joins == "rdflib" else contextlib.nullcontext()
                    with switch:
                        try:
                            times, result = bench.timed_runs(
                                lambda kg=kg, name=name, params=params: kg.query(name, **params),
                                args.repeat,
                                args.budget,
                                args.cap,
                            )
                        except bench.QueryCapError:
                            medians[joins] = None
                            emit(kind="query", size=size, triples=triples, query=name,
                                 joins=joins, over_cap=args.cap)  # fmt: skip
                            continue
                    medians[joins] = statistics.median(times)
                    answers[joins] = canonical(result)
                    emit(kind="query", size=size, triples=triples, query=name, joins=joins,
                         median=medians[joins], runs=len(times))  # fmt: skip
                same = answers["hash"] == answers["rdflib"] if len(answers) == 2 else None
                emit(kind="parity", size=size, query=name, same=same)
                ours, theirs = medians["hash"], medians.get("rdflib")
                ratio = f"{theirs / ours:.1f}x" if ours and theirs else "—"
                table.append(
                    f"| {size} ({triples:,}) | {name} | "
                    f"{'—' if theirs is None else f'{theirs:.3f}'} | "
                    f"{'—' if ours is None else f'{ours:.3f}'} | {ratio} | {same} |"
                )
            kg.close()
    print("| corpus (triples) | query | rdflib's joins (s) | hash joins (s) | speed-up | same |")
    print("|---|---|---:|---:|---:|---|")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    bench.script(main)

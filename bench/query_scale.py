"""Packaged queries on the ``oxigraph`` backend at ~10k, ~100k and ~1M triples, and the
parity of two versions of the query files on the same corpora.

    .venv/bin/python bench/query_scale.py                                  # every query
    .venv/bin/python bench/query_scale.py --queries conflicting-claims ...
    .venv/bin/python bench/query_scale.py --baseline OLD_QUERIES_DIR       # old vs new

The corpora are those of ``bench/run.py`` (``bench/generate.py``, cached in
``$TMPDIR/khalis-kg-bench``); queries with an ``event`` parameter are bound to the middle
event, as in ``bench/run.py``. Every loop is bounded: a query runs up to ``--repeat``
times and stops repeating after ``--budget`` seconds (median reported); a query whose
time at the previous size, extrapolated quadratically, exceeds ``--cap`` is not started
(Oxigraph cannot be interrupted inside a query). With ``--baseline DIR`` the query files
of DIR (for instance the previous version, ``git archive HEAD~1 queries``) are timed too
and their answers compared row for row with the current ones. One JSON line per
measurement goes to ``--out`` (default ``bench/results/query-scale.jsonl``).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: corpora, parameters)


def canonical(result: Any) -> Any:
    """An order-independent, comparable form of a QueryResult."""
    if result.form == "select":
        rows = [tuple(sorted((k, v.to_ntriples()) for k, v in row.items())) for row in result.rows]
        return ("select", tuple(result.variables), sorted(rows))
    if result.form == "graph":
        triples = sorted(tuple(t.to_ntriples() for t in triple) for triple in result.triples)
        return ("graph", triples)
    return ("ask", result.boolean)


def main() -> int:
    from khalis_kg import KnowledgeGraph
    from khalis_kg.catalogue import Catalogue

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=list(bench.SIZES))
    parser.add_argument("--queries", nargs="*", default=None, help="names (default: all)")
    parser.add_argument("--baseline", type=Path, help="directory of the old .rq files")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--budget", type=float, default=4.0)
    parser.add_argument("--cap", type=float, default=60.0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "query-scale.jsonl")
    args = parser.parse_args()

    current = Catalogue.load()
    names = args.queries or current.names()
    versions = {"new": current}
    if args.baseline is not None:
        versions["old"] = Catalogue.load(args.baseline)
    previous: dict[tuple[str, str], tuple[int, float]] = {}
    with bench.jsonl_log(args.out, echo=sys.stdout, with_machine=False) as emit:
        for size in args.sizes:
            data, events = bench.generate(size, bench.SIZES[size])
            event = bench.ID + f"event/synthetic-{events // 2:07d}"
            t0 = time.perf_counter()
            kg = KnowledgeGraph.load([data], backend="oxigraph")
            triples = len(kg)
            emit(kind="load", size=size, triples=triples, seconds=time.perf_counter() - t0)
            for name in names:
                answers = {}
                for version, catalogue in versions.items():
                    info = catalogue.get(name)
                    before = previous.get((version, name))
                    if before is not None:
                        predicted = before[1] * (triples / before[0]) ** 2
                        if predicted > args.cap:
                            emit(kind="query", size=size, query=name, version=version,
                                 skipped=f"predicted {predicted:.0f} s")  # fmt: skip
                            continue
                    kg.catalogue = catalogue
                    params = bench.query_params(info, event)
                    times, result = bench.timed(
                        lambda kg=kg, name=name, params=params: kg.query(name, **params),
                        args.repeat,
                        args.budget,
                    )
                    median = statistics.median(times)
                    previous[(version, name)] = (triples, median)
                    answers[version] = canonical(result)
                    emit(kind="query", size=size, triples=triples, query=name, version=version,
                         median=median, runs=len(times), results=len(result))  # fmt: skip
                if len(answers) == 2:
                    emit(kind="parity", size=size, query=name,
                         same=answers["old"] == answers["new"])  # fmt: skip
            kg.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

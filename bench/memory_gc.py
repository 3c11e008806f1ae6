"""Queries on the memory backend with the loaded graph frozen for the garbage collector,
against the collector scanning it, in the same process.

    .venv/bin/python bench/memory_gc.py                    # packaged, ~10k and ~100k
    .venv/bin/python bench/memory_gc.py --sizes 100k --repeat 5

What khalis-kg does where it owns the process (an isolated child once its work is
prepared, a server's query worker once its graph is loaded: ``gc.freeze()``), measured
on the rdflib engine, whose graph is Python objects: for each corpus, the time of one
full collection right after the load and the number of objects the collector tracks;
then, alternately with the graph frozen and not (``gc.freeze``/``gc.unfreeze``: the
baseline is Python's collector as it is), the median time of a query that builds many
results (every triple, up to 50 000 rows) and of the packaged ``construct-event-subgraph``
(bound to the middle synthetic event), and whether the answers are the same. Bounded:
``--repeat`` runs of each. One JSON line per measurement goes to ``--out`` (default
``bench/results/memory-gc.jsonl``), then a Markdown table to standard output.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: corpora, parameters, machine)
from query_scale import canonical  # noqa: E402

ALL_ROWS = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 50000"


def main() -> int:

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["packaged", "10k", "100k"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "memory-gc.jsonl")
    args = parser.parse_args()

    table: list[str] = []
    with bench.jsonl_log(args.out) as emit:
        for size in args.sizes:
            kg, synthetic = bench.memory_corpus(size)
            event = synthetic or bench.ID + "event/al-khalis-prison-break-2015"
            triples = len(kg)
            started = time.perf_counter()
            gc.collect()
            collection = time.perf_counter() - started
            tracked = len(gc.get_objects())
            emit(kind="collection", size=size, triples=triples, seconds=collection,
                 tracked=tracked)  # fmt: skip
            work = {
                "all rows": lambda kg=kg: kg.sparql(ALL_ROWS, max_rows=None),
                "construct-event-subgraph": lambda kg=kg, event=event: kg.query(
                    "construct-event-subgraph", event=event
                ),
            }
            for name, run in work.items():
                times: dict[str, list[float]] = {"scanned": [], "frozen": []}
                answers: dict[str, Any] = {}
                for _ in range(args.repeat):
                    for way in ("scanned", "frozen"):
                        if way == "frozen":
                            gc.freeze()
                        started = time.perf_counter()
                        result = run()
                        times[way].append(time.perf_counter() - started)
                        answers[way] = canonical(result)
                        gc.unfreeze()
                medians = {way: statistics.median(t) for way, t in times.items()}
                same = answers["scanned"] == answers["frozen"]
                for way, median in medians.items():
                    emit(kind="query", size=size, triples=triples, query=name, way=way,
                         median=median, runs=len(times[way]))  # fmt: skip
                emit(kind="parity", size=size, query=name, same=same)
                table.append(
                    f"| {size} ({triples:,}) | {collection:.3f} ({tracked:,}) | {name} | "
                    f"{medians['scanned']:.3f} | {medians['frozen']:.3f} | "
                    f"{medians['scanned'] / medians['frozen']:.2f}x | {same} |"
                )
            kg.close()
            del kg, work
            gc.collect()
    print(
        "| corpus (triples) | a full collection after the load, s (objects tracked) | query "
        "| collector scanning the graph (s) | graph frozen (s) | speed-up | same |"
    )
    print("|---|---|---|---:|---:|---:|---|")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    bench.script(main)

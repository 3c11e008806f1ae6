"""pySHACL as khalis-kg runs it against pySHACL left alone, in the same run.

    .venv/bin/python bench/pyshacl_speedups.py                 # packaged graph and ~10k
    .venv/bin/python bench/pyshacl_speedups.py --sizes packaged --inference rdfs

For each corpus and inference mode, the median time of one pySHACL validation (the
packaged shapes, the ontology added to the data, as ``validate(engine="pyshacl")`` runs
it) three ways: pySHACL alone (the baseline: pySHACL and rdflib as they are), with each
SPARQL-based constraint prepared once, and with that and each ``sh:in`` list read once
(both: what khalis-kg does, ``validation._pyshacl_accelerated``); and whether the three
report graphs are isomorphic. Every loop is bounded: up to ``--repeat`` runs within
``--budget`` seconds, one run interrupted after ``--cap`` seconds. One JSON line per
measurement goes to ``--out`` (default ``bench/results/pyshacl-speedups.jsonl``), then a
Markdown table to standard output.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: corpora, timing, machine)


def main() -> int:
    import pyshacl
    from rdflib.compare import isomorphic

    from khalis_kg.rdfio import Source
    from khalis_kg.resources import packaged_source
    from khalis_kg.validation import (
        _in_lists_read_once,
        _parse_rdflib,
        _shapes_graph,
        _sparql_prepared_once,
    )

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["packaged", "10k"])
    parser.add_argument("--inference", nargs="*", default=["none", "rdfs"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=60.0)
    parser.add_argument("--cap", type=float, default=300.0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "pyshacl-speedups.jsonl")
    args = parser.parse_args()

    @contextlib.contextmanager
    def both() -> Iterator[None]:
        with _sparql_prepared_once(), _in_lists_read_once():
            yield

    ways: dict[str, Callable[[], contextlib.AbstractContextManager[None]]] = {
        "alone": contextlib.nullcontext,
        "sparql prepared once": _sparql_prepared_once,
        "khalis-kg (both)": both,
    }
    table: list[str] = []
    with bench.jsonl_log(args.out) as emit:
        for size in args.sizes:
            if size == "packaged":
                source = packaged_source("data")
            else:
                data, _events = bench.generate(size, bench.SIZES[size])
                source = Source.from_path(data)
            target = _parse_rdflib([source])
            triples = len(target)
            for inference in args.inference:
                medians: dict[str, float | None] = {}
                reports: dict[str, Any] = {}
                for way, switch in ways.items():

                    def once(
                        switch: Any = switch, inference: str = inference, target: Any = target
                    ) -> Any:
                        with switch():
                            return pyshacl.validate(
                                target, shacl_graph=_shapes_graph(), inference=inference,
                                abort_on_first=False, meta_shacl=False, advanced=True,
                                allow_warnings=False,
                            )  # fmt: skip

                    try:
                        times, result = bench.timed_runs(once, args.repeat, args.budget, args.cap)
                    except bench.QueryCapError:
                        medians[way] = None
                        emit(kind="validate", size=size, triples=triples, inference=inference,
                             way=way, over_cap=args.cap)  # fmt: skip
                        continue
                    medians[way] = statistics.median(times)
                    reports[way] = result[1]
                    emit(kind="validate", size=size, triples=triples, inference=inference,
                         way=way, median=medians[way], runs=len(times),
                         conforms=result[0])  # fmt: skip
                graphs = list(reports.values())
                same = len(graphs) == len(ways) and all(isomorphic(graphs[0], g) for g in graphs)
                emit(kind="parity", size=size, inference=inference, same=same)
                base, mid, ours = (medians.get(w) for w in ways)

                def cell(t: float | None) -> str:
                    return "—" if t is None else f"{t:.2f}"

                ratio = f"{base / ours:.1f}x" if base and ours else "—"
                step = f"{mid / ours:.1f}x" if mid and ours else "—"
                table.append(
                    f"| {size} ({triples:,}) | {inference} | {cell(base)} | {cell(mid)} | "
                    f"{cell(ours)} | {ratio} | {step} | {same} |"
                )
    print(
        "| corpus (triples, with the ontology) | inference | pySHACL alone (s) "
        "| SPARQL prepared once (s) | both (s) | both vs alone | sh:in step | same report |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    bench.script(main)

"""`khalis-kg serve --store DIR` against `serve --data FILE`, on the same data, same run.

    .venv/bin/python bench/serve_store.py                  # ~100k and ~1M triples
    .venv/bin/python bench/serve_store.py --sizes 100k --workers 2

For each synthetic corpus of ``bench/run.py``: the seconds from starting ``khalis-kg
serve`` until ``/sparql`` answers (every worker has loaded the data, or opened the
store: the pool starts them all before it serves) and the peak resident memory of each
query worker (``VmHWM``), once with ``--data FILE`` (each worker loads the file: the
baseline) and once with ``--store DIR`` (each worker opens the on-disk store that
``KnowledgeGraph.build_store(DIR)`` built, read-only), both with the ontology; and
whether a ``COUNT(*)`` answers the same. Then, with one worker and a 1 s time limit, the
seconds until the server answers again after a query was stopped at the limit (its
worker killed and replaced: it loads the file again, or opens the store), three times.
The store is built once and kept beside the corpus. Bounded: each server gets
``--start-timeout`` seconds to answer. One JSON line per measurement goes to ``--out``
(default ``bench/results/serve-store.jsonl``), then a Markdown table to standard output.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: corpora, servers, machine)

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
KILLS = 3


def _workers(server: int) -> list[int]:
    """The query workers: the server's children (each forked from it)."""
    return [int(pid) for pid in Path(f"/proc/{server}/task/{server}/children").read_text().split()]


def _start(args: list[str], limit: float) -> tuple[str, subprocess.Popen[bytes], float]:
    """``khalis-kg serve`` with ``args``; its base URL, process and seconds to answer."""
    port = bench.free_port()
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "khalis_kg.server", "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        bench.wait_http(base + "/sparql?query=ASK%7B%7D", proc, limit)
    except BaseException:
        _stop(proc)
        raise
    return base, proc, time.monotonic() - started


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(timeout=30)


def _serve(args: list[str], workers: int, limit: float) -> dict[str, Any]:
    import httpx

    base, proc, seconds = _start([*args, "--workers", str(workers)], limit)
    try:
        memory = [bench.vm_hwm_mb(pid) for pid in _workers(proc.pid)]
        answer = httpx.get(
            base + "/sparql",
            params={"query": COUNT},
            headers={"Accept": "application/sparql-results+json"},
            timeout=60,
        ).json()
        count = answer["results"]["bindings"][0]["n"]["value"]
    finally:
        _stop(proc)
    base, proc, _seconds = _start([*args, "--workers", "1", "--timeout", "1"], limit)
    again = []
    try:
        with httpx.Client(base_url=base, timeout=limit) as client:
            for _ in range(KILLS):
                stopped = client.post("/sparql", data={"query": ENDLESS})
                assert stopped.status_code == 503, stopped.text
                t0 = time.monotonic()
                assert client.get("/sparql", params={"query": "ASK {}"}).status_code == 200
                again.append(time.monotonic() - t0)
    finally:
        _stop(proc)
    return {"seconds": seconds, "worker_mb": memory, "count": count, "again_s": again}


def main() -> int:
    from khalis_kg import KnowledgeGraph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="*", default=["100k", "1M"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "serve-store.jsonl")
    args = parser.parse_args()

    table: list[str] = []
    with bench.jsonl_log(args.out) as emit:
        for size in args.sizes:
            data, _events = bench.generate(size, bench.SIZES[size])
            store = data.with_name(data.stem + ".store")
            if not store.exists():
                KnowledgeGraph.build_store(store, [data], with_ontology=True).close()
            runs: dict[str, dict[str, Any]] = {}
            ways = {"data": ["--data", str(data)], "store": ["--store", str(store)]}
            for way, options in ways.items():
                runs[way] = _serve(options, args.workers, args.start_timeout)
                emit(kind="serve", size=size, way=way, workers=args.workers, **runs[way])
            same = runs["data"]["count"] == runs["store"]["count"]
            emit(kind="parity", size=size, same=same)

            def memory(run: dict[str, Any]) -> str:
                return ", ".join(f"{m:.0f}" for m in run["worker_mb"] if m is not None)

            def again(run: dict[str, Any]) -> str:
                return f"{statistics.median(run['again_s']):.2f}"

            table.append(
                f"| {size} ({int(runs['data']['count']):,}) | "
                f"{runs['data']['seconds']:.2f} | {runs['store']['seconds']:.2f} | "
                f"{memory(runs['data'])} | {memory(runs['store'])} | "
                f"{again(runs['data'])} | {again(runs['store'])} | {same} |"
            )
    print(
        f"| corpus (triples, with the ontology) | --data: answering after (s) | --store (s) "
        f"| --data: each worker's peak MB ({args.workers}) | --store (MB) "
        f"| --data: answering again after a kill (s, median of {KILLS}) | --store (s) "
        "| same COUNT |"
    )
    print("|---|---:|---:|---|---|---:|---:|---|")
    print("\n".join(table))
    return 0


if __name__ == "__main__":
    bench.script(main)

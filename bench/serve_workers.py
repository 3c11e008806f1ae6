"""``khalis-kg serve``'s query workers: start-up, a request's round trip, and how soon a
query is answered again after a worker was killed at the time limit; for this code and,
with ``--baseline SRC``, for the code in SRC (another checkout's ``src``), in the same
run, so the two are compared on the same machine at the same moment.

    .venv/bin/python bench/serve_workers.py [--baseline /path/to/old/src] [--rounds 3]

Each server: ``--workers 1 --timeout 1`` on 127.0.0.1, the packaged graph. Measured per
round: seconds from the process start to the first answer; the median and 90th
percentile of 200 sequential requests (``ASK {}`` and a 50-row SELECT by GET, so the
worker round trip dominates); seconds from the 503 of a query killed at its time limit
to the next 200 (the worker's replacement). Every loop is bounded.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import run as bench  # noqa: E402  (bench/run.py: free_port, machine)

ASK = "ASK {}"
LABELS = "SELECT ?s ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 50"
ENDLESS = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def measure(src: str | None) -> dict[str, float]:
    port = bench.free_port()
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = src
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "khalis_kg.server", "--port", str(port), "--workers", "1",
         "--timeout", "1", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() - started < 120:
                try:
                    if client.get("/sparql", params={"query": ASK}).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.02)
            ready = time.monotonic() - started
            times = []
            for i in range(200):
                t0 = time.perf_counter()
                r = client.get("/sparql", params={"query": ASK if i % 2 else LABELS})
                times.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
            stopped = client.post("/sparql", data={"query": ENDLESS})
            assert stopped.status_code == 503, stopped.text
            t0 = time.monotonic()
            while client.get("/sparql", params={"query": ASK}).status_code != 200:
                if time.monotonic() - t0 > 60:
                    break
            again = time.monotonic() - t0
    finally:
        proc.terminate()
        proc.wait(30)
    times.sort()
    return {
        "ready_s": ready,
        "median_ms": statistics.median(times) * 1e3,
        "p90_ms": times[179] * 1e3,
        "after_kill_s": again,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--baseline", metavar="SRC")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(bench.machine())
    codes = [("this code", None)] + ([("baseline", args.baseline)] if args.baseline else [])
    for round_ in range(1, min(args.rounds, 10) + 1):
        for name, src in codes:
            m = measure(src)
            print(
                f"round {round_} {name:9s}: ready {m['ready_s']:.2f} s, round trip median "
                f"{m['median_ms']:.2f} ms (p90 {m['p90_ms']:.2f}), answering again "
                f"{m['after_kill_s'] * 1e3:.0f} ms after a worker killed at the time limit",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

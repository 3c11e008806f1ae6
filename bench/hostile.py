"""The hostile-input corpus through the real ``khalis-kg`` command, for docs/benchmarks.md.

Runs every case of ``tests/hostile_corpus.py`` (at the issue's sizes with ``--full``)
as a fresh process with ``--timeout 1 --memory-limit 512M`` and counts: inputs, exit
codes, tracebacks (``Traceback`` or a Rust ``panicked`` on stderr), aborts (an exit
code that is not documented, e.g. 134 or 139, or death by a signal), hangs (past the
time limit plus 2 s; each run is also capped by the harness at 30 s), and lines that
are not one ``khalis-kg: error:`` line. Then the time-limit overshoot per query shape:
the wall-clock time past ``--timeout`` of each costly query, median of 3.

    python bench/hostile.py [--full] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from hostile_corpus import (  # noqa: E402
    CARTESIAN,
    DOCUMENTED_EXIT_CODES,
    HostileCorpus,
)

KHALIS_KG = Path(sys.executable).parent / "khalis-kg"
LIMITS = ["--timeout", "1", "--memory-limit", "512M"]
SHAPES = {
    "cartesian COUNT": f"SELECT (COUNT(*) AS ?n) WHERE {CARTESIAN}",
    "sort (ORDER BY)": f"SELECT * WHERE {CARTESIAN} ORDER BY ?a ?i LIMIT 10",
    "aggregate (GROUP BY)": f"SELECT ?a (COUNT(*) AS ?n) WHERE {CARTESIAN} GROUP BY ?a",
    "property path": "SELECT (COUNT(*) AS ?n) WHERE { ?a (<urn:p>|!<urn:q>)* ?b . ?c ?d ?e }",
    "string doubling": 'SELECT (SUM(STRLEN(?x6)) AS ?n) WHERE { BIND("abcdefgh" AS ?x0) '
    + " ".join(f"BIND(CONCAT(?x{i}, ?x{i}) AS ?x{i + 1})" for i in range(6))
    + f" {CARTESIAN[1:-1]} }}",
}


def run_corpus(full: bool) -> dict[str, object]:
    counts: Counter[str] = Counter()
    slowest = 0.0
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        corpus = HostileCorpus(Path(tmp) / "corpus", full=full)
        for case in corpus.cases():
            started = time.monotonic()
            try:
                done = subprocess.run(
                    [str(KHALIS_KG), *LIMITS, *case.args],
                    capture_output=True,
                    stdin=subprocess.DEVNULL,
                    timeout=30,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                counts["hangs"] += 1
                problems.append(f"{case.name}: still running at 30 s")
                continue
            elapsed = time.monotonic() - started
            slowest = max(slowest, elapsed)
            counts["inputs"] += 1
            code = done.returncode
            counts[f"exit {code}"] += 1
            err = done.stderr.decode("utf-8", "replace")
            if "Traceback" in err or "panicked" in err:
                counts["tracebacks"] += 1
                problems.append(f"{case.name}: traceback")
            if code not in DOCUMENTED_EXIT_CODES:
                counts["aborts"] += 1
                problems.append(f"{case.name}: exit {code}")
            if code != 0 and (err.count("\n") != 1 or not err.startswith("khalis-kg: error: ")):
                counts["not one line"] += 1
                problems.append(f"{case.name}: {err[:200]!r}")
            if elapsed > 1 + 2:
                counts["hangs"] += 1
                problems.append(f"{case.name}: {elapsed:.1f} s")
    return {"counts": dict(counts), "slowest_s": round(slowest, 2), "problems": problems}


def overshoot() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for backend in ("oxigraph", "memory"):
        for shape, query in SHAPES.items():
            times, codes = [], []
            for _ in range(3):
                started = time.monotonic()
                done = subprocess.run(
                    [str(KHALIS_KG), "--backend", backend, *LIMITS, "sparql", query],
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
                times.append(time.monotonic() - started)
                codes.append(done.returncode)
            median = statistics.median(times)
            out[f"{backend}: {shape}"] = {
                "exit": sorted(set(codes)),
                "wall_s": round(median, 2),
                "past_limit_s": round(median - 1, 2),
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the issue's input sizes")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results = {"corpus": run_corpus(args.full), "overshoot": overshoot()}
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")


if __name__ == "__main__":
    main()

"""The packaged queries at ~1M triples on Virtuoso, beside Oxigraph embedded and Oxigraph
server, with answer parity.

    .venv/bin/python bench/virtuoso_scale.py                 # 1M (the default)
    .venv/bin/python bench/virtuoso_scale.py --size 100k --queries casualties timeline

The corpus is ``bench/generate.py``'s (cached by ``bench/run.py`` in
``$TMPDIR/khalis-kg-bench``). It is loaded three times: into the embedded Oxigraph
(``KnowledgeGraph.load``), into an Oxigraph server and into Virtuoso (started as the
tests start it: ``tests/helpers.py``, own directory and ``virtuoso.ini``, 127.0.0.1,
memory capped) through the project's Graph Store loader (``khalis_kg.loader``: one
N-Triples ``PUT`` for Oxigraph server, as ``khalis-kg load`` does; for Virtuoso, which
stalls on one 140 MB ``PUT``, ``khalis-kg load --chunk``: a ``PUT`` of the first
``--chunk`` triples and a ``POST`` per further piece); Virtuoso also loads the
same file with its bulk loader (``ld_dir`` + ``rdf_loader_run()``, through ``isql-vt``)
into a second graph, for the load times only. Virtuoso is then restarted (a checkpoint,
then stop and start on the same database; ``--no-restart`` skips it): until it restarts,
Virtuoso 7 plans queries on a graph loaded through the Graph Store protocol with a stale
estimate of its size (docs/scaling.md). Queries with an ``event`` parameter are
bound to the middle event. Each query runs up to ``--repeat`` times within ``--budget``
seconds (median reported); every HTTP exchange is bounded by ``--timeout``. Answers are
compared with the embedded engine's as sets of rows, with the normalisations the parity
tests allow (Virtuoso's 0/1 booleans; blank node labels). One JSON line per measurement
goes to ``--out`` (default ``bench/results/virtuoso-scale.jsonl``).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

import run as bench  # noqa: E402  (bench/run.py: corpora, parameters, Oxigraph server)

GRAPH = "https://w3id.org/khalis-kg/bench/graph"
BULK_GRAPH = "https://w3id.org/khalis-kg/bench/bulk"
XSD = "http://www.w3.org/2001/XMLSchema#"
MEMORY_CAP = 12 * 1024**3
"""Address-space cap of this process (the embedded store and the clients)."""


def normal(result: Any, booleans: set[str]) -> Any:
    """An order-independent form of a result, with Virtuoso's allowed differences."""
    if result.form == "ask":
        return ("ask", result.boolean)
    if result.form == "graph":
        rows = {
            tuple("_:b" if t.type == "bnode" else t.to_ntriples() for t in triple)
            for triple in result.triples
        }
        return ("graph", len(rows), rows)
    out = set()
    for row in result.rows:
        items = []
        for name, term in row.items():
            if term is None:
                continue
            if term.type == "bnode":
                text = "_:b"
            elif name in booleans and term.datatype in (XSD + "boolean", XSD + "integer"):
                text = "true" if term.value in ("1", "true") else "false"
            else:
                text = term.to_ntriples()
            items.append((name, text))
        out.add(tuple(sorted(items)))
    return ("select", out)


def boolean_columns(result: Any) -> set[str]:
    if result.form != "select":
        return set()
    return {
        name
        for row in result.rows
        for name, term in row.items()
        if term is not None and term.datatype == XSD + "boolean"
    }


def gpf_line(directory: Path) -> str | None:
    """The last ``GPF`` line of Virtuoso's log (how it says why it stopped), if any."""
    log = directory / "virtuoso.log"
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    return next((line for line in reversed(lines) if "GPF" in line), None)


def main() -> int:
    from helpers import running_virtuoso

    from khalis_kg import KnowledgeGraph
    from khalis_kg.backends.remote import RemoteBackend
    from khalis_kg.catalogue import Catalogue
    from khalis_kg.errors import KhalisError
    from khalis_kg.loader import load_to_store

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1M", choices=list(bench.SIZES))
    parser.add_argument("--queries", nargs="*", default=None, help="names (default: all)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--budget", type=float, default=6.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--buffers", type=int, default=100_000, help="Virtuoso's buffers")
    parser.add_argument("--chunk", type=int, default=50_000, help="triples per request to Virtuoso")
    parser.add_argument(
        "--no-restart",
        action="store_true",
        help="query Virtuoso as loaded, without the restart after the loads (its stale "
        "estimate of the graph's size then shows in some plans)",
    )
    parser.add_argument("--out", type=Path, default=HERE / "results" / "virtuoso-scale.jsonl")
    args = parser.parse_args()
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))

    catalogue = Catalogue.load()
    names = args.queries or catalogue.names()
    data, events = bench.generate(args.size, bench.SIZES[args.size])
    event = bench.ID + f"event/synthetic-{events // 2:07d}"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="khalis-kg-virtuoso-bench-"))
    with args.out.open("a", encoding="utf-8") as out:

        def emit(**fields: Any) -> None:
            fields = {"size": args.size, **fields}
            out.write(json.dumps(fields) + "\n")
            out.flush()
            print(json.dumps(fields), flush=True)

        emit(kind="machine", **bench.machine())
        t0 = time.perf_counter()
        embedded = KnowledgeGraph.load([data], backend="oxigraph")
        triples = len(embedded)
        emit(kind="load", engine="oxigraph", triples=triples, seconds=time.perf_counter() - t0)
        (work / "oxigraph").mkdir()
        (work / "virtuoso").mkdir()
        try:
            with (
                bench.oxigraph_server(work / "oxigraph", timeout_s=int(args.timeout)) as (
                    ox_base,
                    _,
                ),
                running_virtuoso(work / "virtuoso", buffers=args.buffers) as vt,
            ):
                t0 = time.perf_counter()
                report = load_to_store(ox_base + "/store", [data], timeout=1800, env={})
                emit(kind="load", engine="oxigraph-server", method="khalis-kg load (PUT)",
                     triples=report.triples, bytes=report.bytes_sent,
                     seconds=time.perf_counter() - t0)  # fmt: skip
                t0 = time.perf_counter()
                report = load_to_store(
                    vt.store_url, [data], GRAPH, timeout=600, env={}, chunk_triples=args.chunk
                )
                emit(kind="load", engine="virtuoso",
                     method=f"khalis-kg load --chunk {args.chunk} (PUT + POSTs)",
                     triples=report.triples, bytes=report.bytes_sent, requests=report.requests,
                     seconds=time.perf_counter() - t0)  # fmt: skip
                bulk_dir = work / "virtuoso" / "bulk"
                bulk_dir.mkdir()
                shutil.copy(data, bulk_dir / data.name)
                t0 = time.perf_counter()
                vt.isql(f"ld_dir('{bulk_dir}', '{data.name}', '{BULK_GRAPH}');")
                vt.isql("rdf_loader_run();", timeout=1800)
                vt.isql("checkpoint;", timeout=600)
                seconds = time.perf_counter() - t0
                bulk = RemoteBackend(vt.query_url, timeout=args.timeout, env={}, graph=BULK_GRAPH)
                emit(kind="load", engine="virtuoso", method="bulk loader (ld_dir, rdf_loader_run)",
                     triples=bulk.triple_count(), seconds=seconds)  # fmt: skip
                bulk.close()
                # Virtuoso 7 plans with a stale estimate of a graph loaded through the
                # Graph Store protocol until it restarts (docs/scaling.md): restarted here,
                # as a deployment would be after a large load.
                if not args.no_restart:
                    t0 = time.perf_counter()
                    vt.restart()
                    emit(kind="restart", engine="virtuoso", seconds=time.perf_counter() - t0)
                engines = {
                    "oxigraph": embedded,
                    "oxigraph-server": KnowledgeGraph(
                        RemoteBackend(ox_base + "/query", timeout=args.timeout, env={})
                    ),
                    "virtuoso": KnowledgeGraph(
                        RemoteBackend(vt.query_url, timeout=args.timeout, env={}, graph=GRAPH)
                    ),
                }
                for name in ["virtuoso", "oxigraph-server"]:
                    emit(kind="count", engine=name, triples=len(engines[name]))
                for name in names:
                    info = catalogue.get(name)
                    params = bench.query_params(info, event)
                    answers: dict[str, Any] = {}
                    expected_booleans: set[str] = set()
                    for engine, kg in engines.items():
                        try:
                            times, result = bench.timed(
                                lambda kg=kg, name=name, params=params: kg.query(
                                    name, **params, max_rows=None
                                ),
                                args.repeat,
                                args.budget,
                            )
                        except KhalisError as exc:
                            died = {}
                            if engine == "virtuoso" and vt.process.poll() is not None:
                                died = {"server_exit": vt.process.returncode,
                                        "server_log": gpf_line(vt.directory)}  # fmt: skip
                            emit(kind="query", engine=engine, query=name, error=str(exc)[:300],
                                 **died)  # fmt: skip
                            continue
                        if engine == "oxigraph":
                            expected_booleans = boolean_columns(result)
                        answers[engine] = normal(result, expected_booleans)
                        emit(kind="query", engine=engine, query=name,
                             median=statistics.median(times), runs=len(times),
                             results=len(result))  # fmt: skip
                    for engine in ("oxigraph-server", "virtuoso"):
                        if engine in answers and "oxigraph" in answers:
                            emit(kind="parity", engine=engine, query=name,
                                 same=answers[engine] == answers["oxigraph"])  # fmt: skip
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmarks of khalis-kg: backends x corpus sizes, cold start, wrapper overhead, serving.

    .venv/bin/python bench/run.py                 # the full run (< 20 min on 2 cores)
    .venv/bin/python bench/run.py --quick         # 10k only, fewer repetitions

For each backend (``oxigraph`` in process, ``memory`` = rdflib, ``remote`` = a local
Oxigraph server reached over HTTP and loaded with the Graph Store Protocol) and each
synthetic corpus size (``bench/generate.py``: ~10k, ~100k, ~1M triples), one
**subprocess** measures: load time, each packaged query's latency (median of up to
``--repeat`` runs, stopped early past ``--query-budget`` seconds), export time
(N-Triples) and the peak resident memory (``ru_maxrss`` of the worker; for
``remote`` also the server's ``VmHWM``). Workers write one JSON line per measurement,
so a worker stopped by its time cap still leaves what it measured. rdflib is capped
(``--memory-max-triples``) and SHACL validation too (``--validate-max-triples``, plus
a time cap): the caps are recorded in the results.

Also measured: the cold ``khalis-kg query NAME`` against a bare Python script that
imports rdflib, parses data/khalis.ttl and runs the same query (target ≤ 0.3x);
the facade's overhead over calling pyoxigraph directly at the biggest size (target
≤ 1.2x); and the throughput of ``khalis-kg serve`` against ``oxigraph serve`` on the
same queries. Raw results go to ``bench/results/<timestamp>.json`` (and
``latest.json``), the plot to ``docs/bench-latency.png``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn, TextIO

from khalis_kg.api import BACKENDS
from khalis_kg.namespaces import ID, PREFIXES
from khalis_kg.rdfio import result_format

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
RESULTS = HERE / "results"
DATA_DIR = Path(tempfile.gettempdir()) / "khalis-kg-bench"  # generated corpora, not in git
PLOT = REPO / "docs" / "bench-latency.png"
EVENT = ID + "event/al-khalis-prison-break-2015"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
HARD_CAP_SECONDS = 19 * 60
SPARQL_JSON = result_format("json", "select").media_type


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def vm_hwm_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def stop(proc: subprocess.Popen[bytes]) -> None:
    """A server started by a benchmark: SIGTERM, then SIGKILL after 15 s."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str, proc: subprocess.Popen[bytes], limit: float) -> None:
    import httpx

    deadline = time.monotonic() + limit
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not answer within {limit} s") from None
            time.sleep(0.1)


@contextmanager
def oxigraph_server(
    location: Path, timeout_s: int = 60
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "oxigraph"), "serve", "--location", str(location), "--bind",
         f"127.0.0.1:{port}", "--timeout-s", str(timeout_s)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/query?query=ASK%7B%7D", proc, 30)
        yield base, proc
    finally:
        proc.kill()
        proc.wait(timeout=10)


# ----------------------------------------------------------------------------- worker
def timed(fn: Any, repeat: int, budget: float) -> tuple[list[float], Any]:
    """Run ``fn`` up to ``repeat`` times within ``budget`` seconds: the times and the
    last answer (query_scale and virtuoso_scale)."""
    times: list[float] = []
    result = None
    while len(times) < repeat and sum(times) < budget:
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return times, result


def bare_count(store: Any, text: str, substitutions: dict[Any, Any] | None) -> int:
    """``text`` run on a bare pyoxigraph ``store`` as a user's own script would, every
    value read: its rows (1 for an ASK, the triples of a graph). The baseline of the
    facade's overhead here and in ``bench/overhead.py scale``."""
    import pyoxigraph as ox

    answer = store.query(text, prefixes=PREFIXES, substitutions=substitutions or None)
    if isinstance(answer, ox.QueryBoolean):
        return 1
    if isinstance(answer, ox.QuerySolutions):
        names = answer.variables
        return len([[s[v] for v in names] for s in answer])
    return len(list(answer))


def query_params(info: Any, event: str) -> dict[str, object]:
    """Parameters for the synthetic corpus: ``event`` for every event parameter."""
    sample = {"date": "2015-05-08", "string": "en", "integer": 0}
    params: dict[str, object] = {}
    for p in info.parameters:
        if p.type == "iri":
            params[p.name] = event
        elif p.required:
            params[p.name] = sample[p.type]
    return params


class QueryCapError(Exception):
    """One run of a query went past the per-query cap (raised from SIGALRM)."""


def _alarm(signum: int, frame: Any) -> None:
    raise QueryCapError


def timed_runs(fn: Any, repeat: int, budget: float, cap: float) -> tuple[list[float], Any]:
    """Run ``fn`` up to ``repeat`` times, stopping once ``budget`` seconds are spent; one
    run longer than ``cap`` seconds is interrupted (QueryCapError). The interruption works
    for Python engines (rdflib); Rust code (pyoxigraph) only notices it on return."""
    times: list[float] = []
    result = None
    spent = 0.0
    signal.signal(signal.SIGALRM, _alarm)
    while len(times) < repeat and (not times or spent < budget):
        t0 = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, cap)
        try:
            result = fn()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return times, result


def predicted_over_cap(
    before: tuple[int, dict[str, float]] | None, triples: int, cap: float
) -> dict[str, float]:
    """Queries whose time at the previous size, scaled quadratically to ``triples``,
    exceeds ``cap``: a Rust query cannot be interrupted, so these are not started."""
    if before is None:
        return {}
    size, medians = before
    factor = (triples / size) ** 2
    return {q: t * factor for q, t in medians.items() if t * factor > cap}


def worker(args: argparse.Namespace) -> int:
    """One backend x size in this process; one JSON line per measurement on ``--out``."""
    from khalis_kg import KnowledgeGraph

    out = open(args.out, "a", encoding="utf-8")  # noqa: SIM115

    def emit(kind: str, **fields: Any) -> None:
        fields.update(kind=kind, backend=args.backend, size=args.size)
        out.write(json.dumps(fields) + "\n")
        out.flush()

    data = Path(args.data)
    t0 = time.perf_counter()
    if args.backend == "remote":
        from khalis_kg.backends.remote import RemoteBackend
        from khalis_kg.loader import load_to_store

        report = load_to_store(args.endpoint + "/store", [data], timeout=600)
        load_s = time.perf_counter() - t0
        backend = RemoteBackend(
            args.endpoint + "/query", store_url=args.endpoint + "/store", timeout=120
        )
        kg = KnowledgeGraph(backend)
        triples = report.triples
    else:
        kg = KnowledgeGraph.load([data], backend=args.backend)
        load_s = time.perf_counter() - t0
        triples = len(kg)
    emit("load", seconds=load_s, triples=triples, rss_mb=peak_rss_mb())

    direct_store = None
    if args.direct:
        import pyoxigraph as ox

        direct_store = kg.backend.store  # type: ignore[attr-defined]

    skip = json.loads(args.skip) if args.skip else {}
    for info in kg.queries():
        if info.name in skip:
            emit("query", query=info.name, skipped=skip[info.name])
            continue
        params = query_params(info, args.event)
        try:
            times, result = timed_runs(
                lambda info=info, params=params: kg.query(info.name, **params),
                args.repeat,
                args.query_budget,
                args.query_cap,
            )
        except QueryCapError:
            emit("query", query=info.name, capped=args.query_cap)
            continue
        except Exception as exc:  # recorded, not hidden: the run goes on
            emit("query", query=info.name, error=f"{type(exc).__name__}: {exc}")
            continue
        fields: dict[str, Any] = dict(
            query=info.name,
            median=statistics.median(times),
            runs=len(times),
            min=min(times),
            results=len(result),
        )
        if direct_store is not None:
            bindings = info.bind(params)
            from khalis_kg.rdfio import to_ox

            subs = {ox.Variable(k): to_ox(v) for k, v in bindings.items()}

            def direct(text: str = info.text, subs: dict[Any, Any] = subs) -> int:
                return bare_count(direct_store, text, subs)

            dtimes, _ = timed_runs(direct, args.repeat, args.query_budget, args.query_cap)
            fields["direct_median"] = statistics.median(dtimes)
            fields["direct_runs"] = len(dtimes)
        emit("query", **fields)

    t0 = time.perf_counter()
    exported = kg.export("nt")
    emit("export", seconds=time.perf_counter() - t0, bytes=len(exported), rss_mb=peak_rss_mb())
    del exported
    emit("peak", rss_mb=peak_rss_mb())
    kg.close()
    out.close()
    return 0


def validate_worker(args: argparse.Namespace) -> int:
    from khalis_kg import KnowledgeGraph

    t0 = time.perf_counter()
    kg = KnowledgeGraph.load([args.data])
    report = kg.validate()
    result = {
        "kind": "validate",
        "size": args.size,
        "seconds": time.perf_counter() - t0,
        "conforms": report.conforms,
        "triples": len(kg),
        "rss_mb": peak_rss_mb(),
    }
    with open(args.out, "a", encoding="utf-8") as out:
        out.write(json.dumps(result) + "\n")
    return 0


# ------------------------------------------------------------------------ orchestrator
def run_worker(cmd: list[str], cap: float) -> dict[str, Any]:
    t0 = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=cap)
        status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        tail = proc.stderr.strip().splitlines()[-3:] if proc.returncode else []
    except subprocess.TimeoutExpired:
        status, tail = f"stopped at the {cap:g} s cap", []
    return {"status": status, "wall": time.monotonic() - t0, "stderr": tail}


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def generate(size: str, triples: int) -> tuple[Path, int]:
    sys.path.insert(0, str(HERE))
    import generate as gen

    events = gen.events_for(triples)
    path = DATA_DIR / f"synthetic-{size}.nt"
    if not path.exists():
        t0 = time.perf_counter()
        count = gen.write(path, events)
        log(f"generated {path.name}: {count} triples in {time.perf_counter() - t0:.1f} s")
    return path, events


def memory_corpus(size: str) -> tuple[Any, str | None]:
    """A ``KnowledgeGraph`` on the memory backend: the packaged graph with its ontology
    (``"packaged"``: no event to bind, None) or a synthetic corpus and its middle event."""
    from khalis_kg import KnowledgeGraph

    if size == "packaged":
        return KnowledgeGraph.load(backend="memory"), None
    data, events = generate(size, SIZES[size])
    kg = KnowledgeGraph.load([data], backend="memory")
    return kg, ID + f"event/synthetic-{events // 2:07d}"


def cold_start(repeat: int) -> dict[str, Any]:
    """``khalis-kg query casualties`` vs a bare rdflib script, both cold subprocesses."""
    query = REPO / "queries" / "casualties.rq"
    name = "casualties" if query.exists() else None
    if name is None:
        return {"skipped": "queries/casualties.rq not found"}
    script = (
        "import rdflib\n"
        "g = rdflib.Graph()\n"
        f"g.parse({str(REPO / 'data' / 'khalis.ttl')!r})\n"
        f"text = open({str(query)!r}, encoding='utf-8').read()\n"
        f"rows = list(g.query(text, initBindings={{'event': rdflib.URIRef({EVENT!r})}}))\n"
        "print(len(rows))\n"
    )
    commands = {
        "cli": [str(BIN / "khalis-kg"), "query", name],
        "bare_rdflib": [PYTHON, "-c", script],
    }
    out: dict[str, Any] = {"query": name}
    for label, cmd in commands.items():
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, check=True, timeout=60)
            times.append(time.perf_counter() - t0)
        out[label] = {"median": statistics.median(times), "runs": times}
    out["ratio"] = out["cli"]["median"] / out["bare_rdflib"]["median"]
    return out


async def _hammer(base: str, path: str, bodies: list[str], clients: int, seconds: float,
                  form: bool) -> dict[str, Any]:  # fmt: skip
    import httpx

    done = 0
    errors = 0
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def client(k: int) -> None:
        nonlocal done, errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as c:
            i = k
            while time.monotonic() < stop:
                text = bodies[i % len(bodies)]
                i += 1
                t0 = time.perf_counter()
                if form:
                    r = await c.post(path, data={"query": text}, headers={"Accept": SPARQL_JSON})
                else:
                    r = await c.post(
                        path,
                        content=text.encode(),
                        headers={"Content-Type": "application/sparql-query", "Accept": SPARQL_JSON},
                    )  # fmt: skip
                latencies.append(time.perf_counter() - t0)
                if r.status_code == 200:
                    done += 1
                else:
                    errors += 1

    t0 = time.monotonic()
    await asyncio.gather(*(client(k) for k in range(clients)))
    elapsed = time.monotonic() - t0
    latencies.sort()
    return {
        "requests": done,
        "errors": errors,
        "seconds": elapsed,
        "throughput": done / elapsed,
        "p50": latencies[len(latencies) // 2] if latencies else None,
        "p95": latencies[int(len(latencies) * 0.95)] if latencies else None,
    }


def serve_throughput(clients: int, seconds: float) -> dict[str, Any]:
    """``khalis-kg serve`` vs ``oxigraph serve``: the packaged SELECT queries (defaults
    bound in the text as VALUES, as a client would send them) over the packaged data."""
    from khalis_kg.backends.remote import bind_values
    from khalis_kg.catalogue import Catalogue
    from khalis_kg.errors import ParameterError

    bodies = []
    for info in Catalogue.load():
        if info.form != "select":
            continue
        try:
            bodies.append(bind_values(info.text, info.bind({})))
        except ParameterError:  # a required parameter without a default: not sent
            continue
    result: dict[str, Any] = {"clients": clients, "seconds": seconds, "queries": len(bodies)}
    data = REPO / "data" / "khalis.ttl"
    from khalis_kg.loader import load_to_store

    with tempfile.TemporaryDirectory() as tmp, oxigraph_server(Path(tmp) / "store") as (base, _):
        load_to_store(base + "/store", [data])
        result["oxigraph_serve"] = asyncio.run(
            _hammer(base, "/query", bodies, clients, seconds, form=False)
        )
    port = free_port()
    cmd = [str(BIN / "khalis-kg"), "serve", "--port", str(port), "--log-level", "warning",
           "--without-ontology"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/sparql", proc, 90)
        result["khalis_kg_serve"] = asyncio.run(
            _hammer(base, "/sparql", bodies, clients, seconds, form=True)
        )
    except RuntimeError as exc:
        result["khalis_kg_serve"] = {"error": str(exc)}
    finally:
        stop(proc)
    k, o = result.get("khalis_kg_serve", {}), result["oxigraph_serve"]
    if "throughput" in k:
        result["ratio"] = k["throughput"] / o["throughput"]
    return result


@contextmanager
def jsonl_log(
    path: Path, *, echo: TextIO | None = None, with_machine: bool = True
) -> Iterator[Callable[..., None]]:
    """``emit(**fields)``: append one JSON line per measurement to ``path`` (created with
    its folder) and echo it on ``echo`` (standard error by default); the first line
    describes the machine unless ``with_machine`` is false."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:

        def emit(**fields: Any) -> None:
            line = json.dumps(fields)
            out.write(line + "\n")
            out.flush()
            print(line, file=echo or sys.stderr, flush=True)

        if with_machine:
            emit(kind="machine", **machine())
        yield emit


def script(main: Callable[[], int]) -> NoReturn:
    """Run a benchmark's ``main``, say on standard error how long it took, and exit with
    its status."""
    started = time.perf_counter()
    status = main()
    print(f"\n{time.perf_counter() - started:.0f} s in all", file=sys.stderr)
    sys.exit(status)


def machine() -> dict[str, Any]:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout
    import pyoxigraph
    import rdflib

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "free_h": free,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pyoxigraph": pyoxigraph.__version__,
        "rdflib": rdflib.__version__,
        "loadavg_start": os.getloadavg(),
    }


def _terminate(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # so that servers started in `with` blocks are stopped


def orchestrate(args: argparse.Namespace) -> int:
    signal.signal(signal.SIGTERM, _terminate)
    started = time.monotonic()
    sizes = {"10k": SIZES["10k"]} if args.quick else dict(SIZES)
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "settings": {
            "repeat": args.repeat,
            "query_budget_s": args.query_budget,
            "worker_cap_s": args.worker_cap,
            "memory_max_triples": args.memory_max_triples,
            "query_cap_s": args.query_cap,
            "memory_query_cap_s": args.memory_query_cap,
            "validate_sizes": args.validate_sizes,
            "validate_cap_s": args.validate_cap,
        },
        "runs": [],
        "caps": [],
    }
    lines = Path(tempfile.mkdtemp(prefix="khalis-bench-")) / "lines.jsonl"
    biggest = max(sizes, key=lambda s: sizes[s])

    def remaining() -> float:
        return HARD_CAP_SECONDS - (time.monotonic() - started)

    previous: dict[str, tuple[int, dict[str, float]]] = {}  # backend -> (triples, medians)
    for size, triples in sizes.items():
        data, events = generate(size, triples)
        event = ID + f"event/synthetic-{events // 2:07d}"
        for backend in BACKENDS:
            if backend == "memory" and triples > args.memory_max_triples:
                results["caps"].append(
                    f"memory (rdflib) not run at {size}: above --memory-max-triples "
                    f"{args.memory_max_triples}"
                )
                continue
            cap = min(args.worker_cap, max(10.0, remaining() - 120))
            cmd = [PYTHON, __file__, "worker", "--backend", backend, "--size", size,
                   "--data", str(data), "--out", str(lines), "--event", event,
                   "--repeat", str(args.repeat), "--query-budget", str(args.query_budget),
                   "--query-cap", str(args.memory_query_cap if backend == "memory"
                                      else args.query_cap)]  # fmt: skip
            if backend == "oxigraph" and size == biggest:
                cmd.append("--direct")
            query_cap = args.memory_query_cap if backend == "memory" else args.query_cap
            skip = predicted_over_cap(previous.get(backend), triples, query_cap)
            if skip:
                cmd += ["--skip", json.dumps(skip)]
                for name, predicted in skip.items():
                    results["caps"].append(
                        f"{backend} {size}: {name} not run, predicted {predicted:.0f} s "
                        f"(quadratic extrapolation) > {query_cap:g} s query cap"
                    )
            log(f"{backend} {size} (cap {cap:.0f} s)")
            if backend == "remote":
                with (
                    tempfile.TemporaryDirectory() as tmp,
                    oxigraph_server(Path(tmp) / "store") as (base, proc),
                ):
                    run = run_worker([*cmd, "--endpoint", base], cap)
                    run["server_vmhwm_mb"] = vm_hwm_mb(proc.pid)
            else:
                run = run_worker(cmd, cap)
            run.update(backend=backend, size=size)
            results["runs"].append(run)
            if run["status"] != "ok":
                results["caps"].append(f"{backend} {size}: {run['status']}")
            log(f"  {run['status']} in {run['wall']:.1f} s")
            medians = {
                m["query"]: m["median"]
                for m in read_lines(lines)
                if m["kind"] == "query" and m["backend"] == backend and m["size"] == size
                and "median" in m
            }  # fmt: skip
            previous[backend] = (triples, medians)
    results["caps"].append(
        f"validation run only at {', '.join(str(n) for n in args.validate_sizes)} triples "
        "(pySHACL time grows faster than linearly; see docs/benchmarks.md)"
    )
    for target in args.validate_sizes:
        if remaining() < 180:
            results["caps"].append(f"validation at {target}: skipped, bench time budget")
            continue
        data, _events = generate(f"v{target}", target)
        cap = min(args.validate_cap, max(10.0, remaining() - 150))
        log(f"validate ~{target} triples (cap {cap:.0f} s)")
        run = run_worker(
            [PYTHON, __file__, "validate", "--data", str(data), "--size", str(target),
             "--out", str(lines)],
            cap,
        )  # fmt: skip
        run.update(kind="validate", size=str(target))
        results["runs"].append(run)
        if run["status"] != "ok":
            results["caps"].append(f"validation at ~{target} triples: {run['status']}")
        log(f"  {run['status']} in {run['wall']:.1f} s")
    results["measurements"] = read_lines(lines)

    if remaining() > 60:
        log("cold start: khalis-kg query vs bare rdflib")
        results["cold_start"] = cold_start(args.cold_repeat)
    if remaining() > 60:
        log("serve throughput")
        results["serve"] = serve_throughput(args.clients, args.serve_seconds)
    results["wall_seconds"] = time.monotonic() - started
    results["machine"]["loadavg_end"] = os.getloadavg()

    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    text = json.dumps(results, indent=1)
    for name in (f"{stamp}.json", "latest.json"):
        tmp = RESULTS / f".{name}.tmp"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, RESULTS / name)
    log(f"wrote bench/results/{stamp}.json in {results['wall_seconds']:.0f} s")
    from report import plot

    plot(results, PLOT)
    log(f"wrote {PLOT.relative_to(REPO)}")
    shutil.rmtree(lines.parent, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="khalis-kg benchmarks")
    sub = parser.add_subparsers(dest="mode")
    w = sub.add_parser("worker")
    w.add_argument("--backend", required=True)
    w.add_argument("--size", required=True)
    w.add_argument("--data", required=True)
    w.add_argument("--out", required=True)
    w.add_argument("--event", required=True)
    w.add_argument("--endpoint")
    w.add_argument("--repeat", type=int, default=5)
    w.add_argument("--query-budget", type=float, default=5.0)
    w.add_argument("--query-cap", type=float, default=60.0)
    w.add_argument("--direct", action="store_true")
    w.add_argument("--skip", help="JSON {query: predicted seconds}: queries not run")
    v = sub.add_parser("validate")
    v.add_argument("--data", required=True)
    v.add_argument("--size", required=True)
    v.add_argument("--out", required=True)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--query-budget", type=float, default=4.0)
    parser.add_argument("--worker-cap", type=float, default=420.0)
    parser.add_argument("--query-cap", type=float, default=60.0)
    parser.add_argument("--memory-query-cap", type=float, default=10.0)
    parser.add_argument("--memory-max-triples", type=int, default=200_000)
    parser.add_argument("--validate-sizes", type=int, nargs="*", default=[1_000, 2_500, 5_000])
    parser.add_argument("--validate-cap", type=float, default=120.0)
    parser.add_argument("--cold-repeat", type=int, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--serve-seconds", type=float, default=10.0)
    args = parser.parse_args()
    if args.mode == "worker":
        return worker(args)
    if args.mode == "validate":
        return validate_worker(args)
    sys.path.insert(0, str(HERE))
    return orchestrate(args)


if __name__ == "__main__":
    raise SystemExit(main())

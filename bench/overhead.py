"""What khalis-kg adds around the engine, against what a user would run instead (issue 23).

    .venv/bin/python bench/overhead.py cold        # khalis-kg query / --help, cold processes
    .venv/bin/python bench/overhead.py inproc      # KnowledgeGraph.query vs Store.query
    .venv/bin/python bench/overhead.py endpoint    # khalis-kg serve vs oxigraph serve-read-only
    .venv/bin/python bench/overhead.py validate    # validation vs a bare bulk_load, 1M
    .venv/bin/python bench/overhead.py scale       # every query and the load at 1M, in process
    ... --baseline-src DIR [DIR ...]               # also time the code in DIR/src (before)

Every figure is **CPU time** (user + system, children included), not wall time: the
machine is shared, and CPU time is what another process's load disturbs least. Each
mode runs the two sides as **pairs**, one after the other (the order alternating), and
reports the median of each side and the median of the pairs' ratios. The baselines,
named in each mode:

* ``cold``: ``khalis-kg query casualties`` against a bare pyoxigraph script that loads
  the same files (the packaged data and ontology) and runs the same query text with the
  same binding, printing each row; ``khalis-kg --help`` against ``python -c pass``. Run
  twice: as this environment runs it (``PYTHONDONTWRITEBYTECODE`` as set), and with
  bytecode cached for everything (``PYTHONPYCACHEPREFIX``, warmed first), as a wheel
  install runs it. ``--breakdown`` also times the parts of a cold query, each side
  adding one part (the standard-library modules it imports, then the package's, the
  work in one process, the fork), paired with the same baseline.
* ``inproc``: ``KnowledgeGraph.query("casualties")`` on the packaged graph against
  ``Store.query`` of the same text with the same substitution on the same store, rows
  materialised (one subprocess per source tree; the ratio is taken inside it).
* ``endpoint``: ``khalis-kg serve`` against ``oxigraph serve-read-only`` on a store
  holding the same data, 4 client threads (keep-alive ``http.client``), the casualties
  text with its event written in as ``VALUES`` (what a client sends), SPARQL JSON;
  requests/s, p50/p99 latency and the server's CPU per request (the server and its
  worker processes, and its main process alone: the HTTP side); the ratios are medians
  of the rounds' ratios, of the request rate and of the CPU per request (the
  baseline's over ours: its efficiency). Also at 100k triples (the synthetic corpus):
  casualties for its middle event (which costs what it costs on the packaged graph),
  and the heavier query, the timeline of every event (``timeline`` with no event: it
  reads the steps, dates and phases of all 195 events, 389 rows, 224 KB of JSON). There
  the baseline's store is on disk (RocksDB, as ``serve-read-only`` needs) and ours in
  memory (``serve --data``, the default), so ``khalis-kg serve --store`` on the
  baseline's very store is measured too: the same storage on both sides.
* ``validate``: ``khalis_kg.api.validate_files([FILE])`` (what ``khalis-kg validate
  FILE`` runs in its child) against ``Store().bulk_load(path=FILE)``, each in a fresh
  subprocess: CPU seconds and peak RSS (``ru_maxrss``). ``--cli`` also runs ``khalis-kg
  validate FILE`` with the default limits (``--sizes 5M``: a corpus that fits).
  ``--preload LIB`` also runs this checkout's side with ``LD_PRELOAD=LIB``, e.g.
  mimalloc (Debian's ``libmimalloc2.0``): what pyshacl-turbo would cost with another
  allocator than glibc's (the bare load keeps glibc's: it is what a user runs).

* ``scale``: at 1M triples (the synthetic corpus), ``KnowledgeGraph.load([FILE])``
  (the in-memory Oxigraph store ``--data FILE`` reads) against ``Store().load`` and
  ``Store().bulk_load`` of the same file, and ``KnowledgeGraph.build_store(DIR, FILE)``
  (on disk) against ``Store(DIR).bulk_load``, in one process per source tree and round
  (the trees' order rotating each round); then every packaged query through
  ``KnowledgeGraph.query`` against ``Store.query`` of the same text with the same
  substitutions on the same store, rows materialised (the "Wrapper overhead at 1M"
  table): one call of each side first (not counted; their row counts must agree), then
  pairs, the order alternating, up to ``--calls`` pairs and no more once a side has
  spent ``--budget`` CPU seconds on that query. Each tree reads its own ``queries/``.

Results: one JSON line per measurement in ``bench/results/overhead.jsonl``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any

import run

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PYTHON = sys.executable
BIN = Path(PYTHON).parent
LOG = HERE / "results" / "overhead.jsonl"
EVENT = run.EVENT
QUERY = REPO / "queries" / "casualties.rq"
DATA_FILES = [
    REPO / "data" / "khalis.ttl",
    REPO / "ontology" / "khalis.ttl",
    REPO / "ontology" / "concepts.ttl",
]
SIZES = {"100k": 100_000, "1M": 1_000_000, "5M": 5_000_000}

BARE_QUERY = """\
import sys
import pyoxigraph as ox
store = ox.Store()
for path in sys.argv[3:]:
    store.load(path=path, format=ox.RdfFormat.TURTLE)
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
answer = store.query(text, substitutions={ox.Variable("event"): ox.NamedNode(sys.argv[2])})
names = answer.variables
for solution in answer:
    print("\\t".join(str(solution[v]) for v in names))
"""


def cpu_of(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """CPU seconds (user + system, children included) and peak RSS (MB) of ``cmd``, run to
    its end (it must exit 0)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:3]}... exited {proc.returncode}: {err[-500:]}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def env_for(src: Path | None, **extra: str | None) -> dict[str, str]:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    for k, v in extra.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def paired(sides: dict[str, tuple[list[str], dict[str, str]]], pairs: int) -> dict[str, Any]:
    """Each side once per round, the order rotating; medians and per-round ratios to the
    last side (the baseline)."""
    names = list(sides)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(pairs):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            cmd, env = sides[name]
            times[name].append(cpu_of(cmd, env)[0])
    base = names[-1]
    out: dict[str, Any] = {"pairs": pairs, "baseline": base}
    for name in names:
        out[name] = {
            "median_ms": 1000 * statistics.median(times[name]),
            "runs_ms": [round(1000 * t, 2) for t in times[name]],
        }
        if name != base:
            ratios = [a / b for a, b in zip(times[name], times[base], strict=True)]
            out[name]["ratio"] = statistics.median(ratios)
    return out


def _trees(args: argparse.Namespace) -> dict[str, Path | None]:
    """The source trees to time: each ``--baseline-src`` DIR's src/ ("before", or "before1",
    "before2" ... for several), then this checkout's ("after")."""
    bases = args.baseline_src or []
    names = ["before"] if len(bases) == 1 else [f"before{i + 1}" for i in range(len(bases))]
    return {**{n: Path(b) / "src" for n, b in zip(names, bases, strict=True)}, "after": None}


def cold(args: argparse.Namespace, emit: Any) -> None:
    trees = _trees(args)
    cli = [str(BIN / "khalis-kg")]
    bare = [PYTHON, "-c", BARE_QUERY, str(QUERY), EVENT, *map(str, DATA_FILES)]
    with tempfile.TemporaryDirectory(prefix="khalis-pyc-") as pyc:
        for label, extra in (
            ("as this environment runs it", {}),
            ("bytecode cached", {"PYTHONDONTWRITEBYTECODE": None, "PYTHONPYCACHEPREFIX": pyc}),
        ):
            query_sides = {
                f"cli {t}": ([*cli, "query", "casualties"], env_for(s, **extra))
                for t, s in trees.items()
            }
            query_sides["bare pyoxigraph"] = (bare, env_for(None, **extra))
            help_sides = {
                f"--help {t}": ([*cli, "--help"], env_for(s, **extra)) for t, s in trees.items()
            }
            help_sides["python -c pass"] = ([PYTHON, "-c", "pass"], env_for(None, **extra))
            for sides in (query_sides, help_sides):
                for cmd, env in sides.values():  # warm the caches (and fail early)
                    cpu_of(cmd, env)
            for what, sides in (("query casualties", query_sides), ("--help", help_sides)):
                emit(kind="cold", what=what, setting=label, **paired(sides, args.pairs))
            if args.breakdown:
                env = env_for(None, **extra)
                emit(kind="cold-breakdown", setting=label, **paired(_stages(bare, env), args.pairs))


IN_ONE_PROCESS = """\
import sys
import khalis_kg.isolation as isolation
isolation.available = lambda: False  # the verb's work, parent and child, in this process
from khalis_kg.cli import main
code = main(["query", "casualties"])
if len(sys.argv) > 1:
    names = {m.partition(".")[0] for m in sys.modules} - set(sys.builtin_module_names)
    print(",".join(sorted(n for n in names if not n.startswith(("_", "khalis_kg", "pyox")))),
          file=sys.stderr)
sys.exit(code)
"""


def _stages(bare: list[str], env: dict[str, str]) -> dict[str, tuple[list[str], dict[str, str]]]:
    """Where a cold ``query casualties`` spends its CPU: each side adds one part to the
    one before it, up to the whole command; the bare script last (the baseline)."""
    listed = subprocess.run(
        [PYTHON, "-c", IN_ONE_PROCESS, "list"], env=env, capture_output=True, text=True
    )
    stdlib = listed.stderr.strip().splitlines()[-1]
    stages = {
        "python -c pass": "pass",
        "its standard-library modules alone": f"import {stdlib}",
        "import khalis_kg.cli": "import khalis_kg.cli",
        "+ khalis_kg.isolation": "import khalis_kg.cli, khalis_kg.isolation",
        "+ khalis_kg.api": "import khalis_kg.cli, khalis_kg.isolation, khalis_kg.api",
        "+ engine and result model": "import khalis_kg.cli, khalis_kg.isolation, "
        "khalis_kg.api, khalis_kg.backends.oxigraph, khalis_kg.results, textwrap",
        "the verb in one process (no fork)": IN_ONE_PROCESS,
    }
    sides = {name: ([PYTHON, "-c", code], env) for name, code in stages.items()}
    sides["khalis-kg query casualties"] = ([str(BIN / "khalis-kg"), "query", "casualties"], env)
    sides["bare pyoxigraph"] = (bare, env)
    return sides


INPROC = """\
import json, statistics, sys, time
import pyoxigraph as ox
from khalis_kg import KnowledgeGraph
from khalis_kg.namespaces import PREFIXES
kg = KnowledgeGraph.load()
store = kg.backend.store
text = kg.catalogue.get("casualties").text
subs = {ox.Variable("event"): ox.NamedNode(sys.argv[1])}
def bare():
    answer = store.query(text, prefixes=PREFIXES, substitutions=subs)
    names = answer.variables
    return [[s[v] for v in names] for s in answer]
def facade():
    return kg.query("casualties", event=sys.argv[1])
assert len(bare()) == len(facade())
t = {"facade": [], "bare": []}
clock = time.process_time
for r in range(int(sys.argv[2])):
    for name, fn in (("facade", facade), ("bare", bare))[:: 1 if r % 2 else -1]:
        t0 = clock(); fn(); t[name].append(clock() - t0)
ratios = [a / b for a, b in zip(t["facade"], t["bare"])]
print(json.dumps({"facade_ms": 1000 * statistics.median(t["facade"]),
                  "bare_ms": 1000 * statistics.median(t["bare"]),
                  "ratio": statistics.median(ratios), "rows": len(bare())}))
"""


def inproc(args: argparse.Namespace, emit: Any) -> None:
    trees = _trees(args)
    for label, src in trees.items():
        out = subprocess.run(
            [PYTHON, "-c", INPROC, EVENT, str(args.calls)],
            env=env_for(src),
            capture_output=True,
            text=True,
            check=True,
            timeout=600,
        )
        emit(kind="inproc", tree=label, calls=args.calls, **json.loads(out.stdout))


SCALE = """\
import json, os, resource, shutil, sys, tempfile, time
import pyoxigraph as ox
from khalis_kg import KnowledgeGraph
from khalis_kg.rdfio import to_ox
sys.path.insert(0, sys.argv[5])
from run import bare_count, query_params
data, event, calls, budget = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
clock = time.process_time
out = {"load": {}, "queries": {}}
def facade_load():
    return KnowledgeGraph.load([data], backend="oxigraph")
def bare_load():
    store = ox.Store()
    store.load(path=data, format=ox.RdfFormat.N_TRIPLES)
    return store
def bare_bulk():
    store = ox.Store()
    store.bulk_load(path=data, format=ox.RdfFormat.N_TRIPLES)
    return store
tmp = tempfile.mkdtemp(prefix="khalis-scale-")
def facade_disk():
    if hasattr(KnowledgeGraph, "build_store"):
        kg = KnowledgeGraph.build_store(os.path.join(tmp, "kg"), [data])
    else:  # an older tree (--baseline-src)
        kg = KnowledgeGraph.load([data], backend="oxigraph", store=os.path.join(tmp, "kg"))
    kg.close()
def bare_disk():
    store = ox.Store(os.path.join(tmp, "ox"))
    store.bulk_load(path=data, format=ox.RdfFormat.N_TRIPLES)
    store.flush()
    del store
sides = [("facade", facade_load), ("bare load", bare_load), ("bare bulk_load", bare_bulk),
         ("facade build_store", facade_disk), ("bare bulk_load on disk", bare_disk)]
if len(sys.argv) > 6 and sys.argv[6] == "reverse":
    sides.reverse()
kg = None
try:
    for name, fn in sides:
        t0 = clock(); w0 = time.perf_counter(); held = fn()
        out["load"][name] = {"cpu_s": clock() - t0, "wall_s": time.perf_counter() - w0}
        if name == "facade":
            kg = held
            out["load"][name]["triples"] = len(kg)
        del held
finally:
    shutil.rmtree(tmp, ignore_errors=True)
store = kg.backend.store
for info in kg.queries():
    params = query_params(info, event)
    subs = {ox.Variable(k): to_ox(v) for k, v in info.bind(params).items()} or None
    def bare(text=info.text, subs=subs):
        return bare_count(store, text, subs)
    def facade(name=info.name, params=params):
        return len(kg.query(name, **params))
    rows = facade()
    assert rows == bare(), info.name
    t = {"facade": [], "bare": []}
    for r in range(calls):
        for name, fn in (("facade", facade), ("bare", bare))[:: 1 if r % 2 else -1]:
            t0 = clock(); fn(); t[name].append(clock() - t0)
        if min(sum(v) for v in t.values()) > budget:
            break
    out["queries"][info.name] = {"rows": rows, **t}
print(json.dumps(out))
"""


def scale(args: argparse.Namespace, emit: Any) -> None:
    trees = _trees(args)
    size = (args.sizes or ["1M"])[0]
    data, events = run.generate(size, SIZES[size])
    event = run.ID + f"event/synthetic-{events // 2:07d}"
    labels = list(trees)
    runs: dict[str, list[dict[str, Any]]] = {t: [] for t in labels}
    for r in range(args.rounds):
        for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
            cmd = [PYTHON, "-c", SCALE, str(data), event, str(args.pairs), str(args.budget),
                   str(HERE), "reverse" if r % 2 else "forward"]  # fmt: skip
            env = env_for(trees[label])
            proc = subprocess.run(
                ["timeout", str(args.cap), *cmd], env=env, capture_output=True, text=True
            )
            if proc.returncode != 0:
                raise RuntimeError(f"{label} exited {proc.returncode}: {proc.stderr[-2000:]}")
            one = json.loads(proc.stdout)
            runs[label].append(one)
            emit(
                kind="scale-run",
                tree=label,
                src=str(trees[label]),
                round=r,
                loadavg=os.getloadavg(),
                **one,
            )
    emit(kind="scale", size=size, rounds=args.rounds, **_scale_summary(runs))


def _scale_summary(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per tree: each load's median CPU, each query's median CPU of both sides and the
    median of its pairs' ratios, and the sums of the medians; across trees, each figure of
    a baseline tree over the current tree's."""
    out: dict[str, Any] = {}
    for label, one in runs.items():
        loads = {k: statistics.median(o["load"][k]["cpu_s"] for o in one) for k in one[0]["load"]}
        queries: dict[str, Any] = {}
        for name in one[0]["queries"]:
            f = [x for o in one for x in o["queries"][name]["facade"]]
            b = [x for o in one for x in o["queries"][name]["bare"]]
            if not f:  # --pairs 0: the loads alone
                continue
            queries[name] = {
                "facade_ms": 1000 * statistics.median(f),
                "bare_ms": 1000 * statistics.median(b),
                "ratio": statistics.median(x / y for x, y in zip(f, b, strict=True) if y > 0),
                "pairs": len(f),
                "rows": one[0]["queries"][name]["rows"],
            }
        out[label] = {
            "load_cpu_s": loads,
            "queries": queries,
            "sum_facade_ms": sum(q["facade_ms"] for q in queries.values()),
            "sum_bare_ms": sum(q["bare_ms"] for q in queries.values()),
        }
    return out


# ------------------------------------------------------------------ endpoint
def _proc_cpu(pid: int) -> tuple[float, float]:
    """CPU seconds of ``pid`` and of its living descendants (their own, not reaped), and
    of ``pid`` alone (khalis-kg serve's main process: the HTTP side, without the workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    own: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        own[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += own.get(p, 0.0)
        todo += [c for c, pp in parents.items() if pp == p]
    return total, own.get(pid, 0.0)


def _hammer(
    url: str, path: str, body: bytes, threads: int, seconds: float, server_pid: int
) -> dict[str, Any]:
    parsed = urllib.parse.urlsplit(url)
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/sparql-results+json",
    }

    def client() -> None:
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            mine.append(time.perf_counter() - t0)
            bad += response.status != 200
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    cpu0, main0 = _proc_cpu(server_pid)
    t0 = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    elapsed = time.monotonic() - t0
    cpu1, main1 = _proc_cpu(server_pid)
    cpu, main = cpu1 - cpu0, main1 - main0
    latencies.sort()
    n = len(latencies)
    return {
        "requests": n,
        "errors": errors[0],
        "rate": n / elapsed,
        "p50_ms": 1000 * latencies[n // 2],
        "p99_ms": 1000 * latencies[min(n - 1, int(n * 0.99))],
        "server_cpu_ms_per_request": 1000 * cpu / max(n, 1),
        "main_process_cpu_ms_per_request": 1000 * main / max(n, 1),
    }


ENDPOINT_QUERIES = {"packaged": ["casualties"], "corpus": ["casualties", "timeline"]}
"""The queries each corpus is asked: casualties with its event bound; at 100k also the
timeline of every event (no event bound: the heavier query, see the module's text)."""


def endpoint(args: argparse.Namespace, emit: Any) -> None:
    from khalis_kg.backends.remote import bind_values
    from khalis_kg.catalogue import Catalogue

    catalogue = Catalogue.open()
    trees = _trees(args)
    corpora: dict[str, tuple[list[Path], str]] = {"packaged": (DATA_FILES, EVENT)}
    for size in args.sizes:
        data, events = run.generate(size, SIZES[size])
        corpora[size] = ([data, *DATA_FILES[1:]], run.ID + f"event/synthetic-{events // 2:07d}")
    for corpus, (files, event) in corpora.items():
        queries = {}
        for name in ENDPOINT_QUERIES["packaged" if corpus == "packaged" else "corpus"]:
            info = catalogue.get(name)
            bound = name == "casualties"  # the timeline of every event: nothing bound
            text = bind_values(info.text, info.bind({"event": event})) if bound else info.text
            queries[name] = urllib.parse.urlencode({"query": text}).encode()
        with tempfile.TemporaryDirectory(prefix="khalis-ep-") as tmp:
            store = Path(tmp) / "store"
            for f in files:
                subprocess.run(
                    [str(BIN / "oxigraph"), "load", "--location", str(store), "--file", str(f)],
                    check=True,
                    capture_output=True,
                )
            servers: dict[str, tuple[list[str], dict[str, str], str]] = {}
            port = run.free_port()
            servers["oxigraph serve-read-only"] = (
                [
                    str(BIN / "oxigraph"),
                    "serve-read-only",
                    "--location",
                    str(store),
                    "--bind",
                    f"127.0.0.1:{port}",
                ],
                env_for(None),
                f"http://127.0.0.1:{port}/query",
            )
            sources = {"": [] if corpus == "packaged" else ["--data", str(files[0])]}
            if corpus != "packaged":  # the baseline's store itself (it holds the ontology)
                sources[" --store"] = ["--store", str(store)]
            for label, src in trees.items():
                for how, source in sources.items():
                    if how and label != "after":
                        continue
                    port = run.free_port()
                    servers[f"khalis-kg serve{how} {label}"] = (
                        [
                            str(BIN / "khalis-kg"),
                            *source,
                            "serve",
                            "--port",
                            str(port),
                            "--log-level",
                            "warning",
                            "--workers",
                            str(args.workers),
                        ],
                        env_for(src),
                        f"http://127.0.0.1:{port}/sparql",
                    )
            procs = {}
            try:
                for name, (cmd, env, url) in servers.items():
                    procs[name] = subprocess.Popen(
                        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                    )
                    run.wait_http(url.rsplit("/", 1)[0] + "/", procs[name], 120)
                for query, body in queries.items():
                    rounds = _endpoint_rounds(args, servers, procs, body)
                    emit(
                        kind="endpoint",
                        corpus=corpus,
                        query=query if query == "timeline" else f"{query} (one event)",
                        threads=args.threads,
                        seconds=args.seconds,
                        rounds=args.rounds,
                        workers=args.workers,
                        baseline=BASE_SERVER,
                        **_endpoint_summary(rounds),
                    )
            finally:
                for proc in procs.values():
                    run.stop(proc)


BASE_SERVER = "oxigraph serve-read-only"


def _endpoint_rounds(
    args: argparse.Namespace,
    servers: dict[str, tuple[list[str], dict[str, str], str]],
    procs: dict[str, subprocess.Popen[bytes]],
    body: bytes,
) -> dict[str, list[dict[str, Any]]]:
    """``args.rounds`` rounds of every server, the order rotating."""
    rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in servers}
    names = list(servers)
    for r in range(args.rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            url = servers[name][2]
            path = urllib.parse.urlsplit(url).path
            rounds[name].append(
                _hammer(url, path, body, args.threads, args.seconds, procs[name].pid)
            )
    return rounds


def _endpoint_summary(rounds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Each server's medians, and its ratios to the baseline's (medians of the rounds')."""
    out: dict[str, Any] = {}
    for name, runs in rounds.items():
        out[name] = {
            k: statistics.median(r[k] for r in runs)
            for k in (
                "rate",
                "p50_ms",
                "p99_ms",
                "server_cpu_ms_per_request",
                "main_process_cpu_ms_per_request",
            )
        }
        out[name]["requests"] = sum(r["requests"] for r in runs)
        out[name]["errors"] = sum(r["errors"] for r in runs)
        if name != BASE_SERVER:
            pairs = list(zip(runs, rounds[BASE_SERVER], strict=True))
            out[name]["rate_ratio"] = statistics.median(a["rate"] / b["rate"] for a, b in pairs)
            # the CPU a request costs the baseline over what it costs this server
            out[name]["cpu_ratio"] = statistics.median(
                b["server_cpu_ms_per_request"] / a["server_cpu_ms_per_request"] for a, b in pairs
            )
    return out


# ------------------------------------------------------------------ validation
BARE_LOAD = """\
import sys, pyoxigraph as ox
store = ox.Store()
store.bulk_load(path=sys.argv[1], format=ox.RdfFormat.N_TRIPLES)
print(len(store))
"""
VALIDATE = """\
import sys
from khalis_kg import api
if hasattr(api, "validate_files"):  # what khalis-kg validate FILE runs in its child
    report = api.validate_files([sys.argv[1]], engine="turbo")
else:  # an older tree (--baseline-src): the caller read the file
    report = api.validate_sources(api.read_sources([sys.argv[1]]), engine="turbo")
assert report.conforms, report.text[:2000]
"""


def validate(args: argparse.Namespace, emit: Any) -> None:
    trees = _trees(args)
    for size in args.sizes:
        data, _events = run.generate(size, SIZES[size])
        sides: dict[str, tuple[list[str], dict[str, str]]] = {
            f"validate {t}": ([PYTHON, "-c", VALIDATE, str(data)], env_for(s))
            for t, s in trees.items()
        }
        if args.cli:
            sides.update(
                {
                    f"khalis-kg validate {t}": (
                        [str(BIN / "khalis-kg"), "validate", str(data)],
                        env_for(s),
                    )
                    for t, s in trees.items()
                }
            )
        for lib in args.preload or []:  # pyshacl-turbo with another allocator (issue 23)
            sides[f"validate after, LD_PRELOAD={Path(lib).name}"] = (
                [PYTHON, "-c", VALIDATE, str(data)],
                env_for(None, LD_PRELOAD=str(Path(lib).resolve(strict=True))),
            )
        sides["bare bulk_load"] = ([PYTHON, "-c", BARE_LOAD, str(data)], env_for(None))
        names = list(sides)
        cpu: dict[str, list[float]] = {n: [] for n in names}
        rss: dict[str, list[float]] = {n: [] for n in names}
        for r in range(args.pairs):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                cmd, env = sides[name]
                c, m = cpu_of(["timeout", str(args.cap), *cmd], env)
                cpu[name].append(c)
                rss[name].append(m)
        base = "bare bulk_load"
        out: dict[str, Any] = {}
        for name in [base, *names[:-1]]:
            out[name] = {
                "cpu_s": statistics.median(cpu[name]),
                "peak_rss_mb": statistics.median(rss[name]),
                "runs_cpu_s": [round(c, 2) for c in cpu[name]],
            }
            if name != base:
                out[name]["cpu_ratio"] = statistics.median(
                    a / b for a, b in zip(cpu[name], cpu[base], strict=True)
                )
                out[name]["rss_ratio"] = out[name]["peak_rss_mb"] / out[base]["peak_rss_mb"]
        emit(kind="validate", size=size, pairs=args.pairs, baseline=base, **out)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["cold", "inproc", "endpoint", "validate", "scale"])
    parser.add_argument(
        "--baseline-src",
        metavar="DIR",
        nargs="+",
        help="checkouts of the code to compare with (their src/ is used)",
    )
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--calls", type=int, default=301, help="inproc: calls per side")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="khalis-kg serve --workers")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", nargs="*", choices=list(SIZES), default=None)
    parser.add_argument("--cli", action="store_true", help="validate: also khalis-kg validate")
    parser.add_argument(
        "--preload",
        metavar="LIB",
        nargs="+",
        help="validate: also this checkout's validation with LD_PRELOAD=LIB (an allocator)",
    )
    parser.add_argument(
        "--breakdown", action="store_true", help="cold: also the parts of a cold query"
    )
    parser.add_argument("--cap", type=int, default=900, help="validate, scale: seconds per run")
    parser.add_argument("--budget", type=float, default=2.0, help="scale: CPU s per query")
    args = parser.parse_args()
    if args.sizes is None:
        args.sizes = {"endpoint": ["100k"], "validate": ["1M"]}.get(args.mode, [])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    with run.jsonl_log(LOG) as emit:
        emit(
            kind="start",
            mode=args.mode,
            baseline_src=args.baseline_src,
            loadavg=os.getloadavg(),
            date=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        )
        modes = {"cold": cold, "inproc": inproc, "endpoint": endpoint, "validate": validate}
        (modes | {"scale": scale})[args.mode](args, emit)
        emit(kind="end", mode=args.mode, loadavg=os.getloadavg())
    return 0


if __name__ == "__main__":
    run.script(main)

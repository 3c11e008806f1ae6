"""SHACL validation at 10k / 100k / 1M triples: pyshacl-turbo vs pySHACL, one run.

::

    .venv/bin/python bench/shacl_engines.py                  # ~25 min here
    .venv/bin/python bench/shacl_engines.py --sizes 10k --cold 5   # quick look
    .venv/bin/python bench/shacl_engines.py --pyrudof /tmp/rudof   # + pyrudof, installed
        # with: pip install --target /tmp/rudof pyrudof        (not a dependency)

Writes ``bench/results/shacl-engines.json`` and, with ``--plot FILE``, the plot of
validation time vs size. Corpora come from ``bench/generate.py`` (seeded), kept in
``$TMPDIR/khalis-kg-bench/`` like ``bench/run.py``'s.

Every (engine, size) runs in its own worker subprocess under a hard address-space cap
(``prlimit --as``) and a wall-clock cap, so that each peak-memory figure (``ru_maxrss``)
belongs to one engine at one size and a runaway run is stopped. Per size, in one run:

* ``load``: Oxigraph's own bulk load of the N-Triples file into an in-memory ``Store``
  (the reference line: what the queries' store costs to build);
* ``turbo``: ``khalis_kg.validation.validate([file], engine="turbo")``, end to end as
  ``khalis-kg validate FILE`` runs it (read, load into a store with the ontology,
  validate, report), and ``store``: ``KnowledgeGraph.validate(engine="turbo")`` on a
  graph already loaded with the ontology (validation on the queries' store);
* ``pyshacl``: the same ``validate([file], engine="pyshacl")`` end to end;
* ``pyrudof`` (with ``--pyrudof DIR``): read ontology, data and shapes, validate.

The figures are medians of the repetitions (``--repeat`` N: N + 2 at 10k, N above;
wall and CPU seconds); pySHACL and pyrudof run N times at 10k and once above, and
pySHACL is not run at 1M, where it is extrapolated from the 10k and 100k runs with the
fitted exponent. ``--cold N`` times ``khalis-kg validate`` on the packaged graph against
a bare ``pyshacl -s ontology/shapes.ttl`` on the same merged file (data + ontology),
interleaved, N runs each (fresh processes). ``uptime`` is recorded before and after.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATA_DIR = Path(tempfile.gettempdir()) / "khalis-kg-bench"
SIZES = {"10k": 10_000, "100k": 100_000, "1M": 1_000_000}
MEMORY_CAP = 12 * 1024**3  # bytes of address space per worker
TIME_CAP = {"load": 300, "turbo": 900, "store": 900, "pyshacl": 900, "pyrudof": 900}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- workers ------------------------------------------------------------------------------


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Timer:
    """Wall and CPU seconds (user + system, all threads) of each run."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> Timer:
        self._t, self._c = time.perf_counter(), cpu_s()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._t)
        self.cpu.append(cpu_s() - self._c)


def work(engine: str, path: Path, repeat: int, pyrudof_dir: str | None) -> dict[str, Any]:
    """Run ``engine`` on ``path`` ``repeat`` times in this process; seconds per run."""
    import pyoxigraph as ox

    timer = Timer()
    extra: dict[str, Any] = {}
    if engine == "load":
        for _ in range(repeat):
            with timer:
                store = ox.Store()
                store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
            extra["triples"] = len(store)
            del store
    elif engine in ("turbo", "pyshacl"):
        from khalis_kg.rdfio import Source
        from khalis_kg.validation import validate

        for i in range(repeat):
            with timer:
                report = validate([Source.from_path(path)], engine=engine)
            if i == 0:
                extra["conforms"] = report.conforms
                extra["results"] = len(report.results)
    elif engine == "store":
        from khalis_kg import KnowledgeGraph

        t0 = time.perf_counter()
        kg = KnowledgeGraph.load([path], with_ontology=True)
        extra["load_with_ontology"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        from khalis_kg.validation import warm_up

        warm_up("turbo")
        extra["compile_shapes"] = time.perf_counter() - t0
        for i in range(repeat):
            with timer:
                report = kg.validate(engine="turbo")
            if i == 0:
                extra["conforms"] = report.conforms
    elif engine == "pyrudof":
        assert pyrudof_dir is not None
        sys.path.insert(0, pyrudof_dir)
        import pyrudof

        from khalis_kg.resources import ontology_files, shapes_file

        for i in range(repeat):
            with timer:
                rudof = pyrudof.Rudof(pyrudof.RudofConfig())
                strict = pyrudof.ReaderMode.Strict
                for entry in ontology_files():
                    rudof.read_data(str(entry), merge=True, reader_mode=strict)
                rudof.read_data(
                    str(path), format=pyrudof.RDFFormat.NTriples, merge=True, reader_mode=strict
                )
                rudof.read_shacl(str(shapes_file()), reader_mode=strict)
                result = rudof.validate_shacl()
            if i == 0:
                extra["conforms"] = bool(result.conforms)
                extra["version"] = pyrudof.Rudof(pyrudof.RudofConfig()).get_version()
    else:
        raise SystemExit(f"unknown engine {engine}")
    return {
        "runs": timer.wall,
        "median": statistics.median(timer.wall),
        "cpu_runs": timer.cpu,
        "cpu_median": statistics.median(timer.cpu),
        "peak_rss_mb": peak_mb(),
        **extra,
    }


def run_worker(engine: str, path: Path, repeat: int, pyrudof_dir: str | None) -> dict[str, Any]:
    cmd = [
        "prlimit",
        f"--as={MEMORY_CAP}",
        "--",
        sys.executable,
        __file__,
        "--worker",
        engine,
        str(path),
        str(repeat),
    ]
    if pyrudof_dir:
        cmd += ["--pyrudof", pyrudof_dir]
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIME_CAP[engine])
    except subprocess.TimeoutExpired:
        return {"capped_s": TIME_CAP[engine]}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-3:], "returncode": proc.returncode}
    out: dict[str, Any] = json.loads(proc.stdout)
    out["worker_wall_s"] = time.perf_counter() - t0
    return out


# -- cold start -----------------------------------------------------------------------------


def cold(n: int) -> dict[str, Any]:
    """``khalis-kg validate`` (packaged graph) vs a bare pySHACL CLI on the same merged
    file, interleaved, fresh processes, n runs each."""
    bin_dir = Path(sys.executable).parent
    merged = DATA_DIR / "packaged-with-ontology.ttl"
    subprocess.run(
        [bin_dir / "khalis-kg", "export", "--format", "turtle", "--with-ontology", "-o", merged],
        check=True,
    )
    commands = {
        "khalis-kg validate": [str(bin_dir / "khalis-kg"), "validate"],
        "khalis-kg validate --engine pyshacl": [
            str(bin_dir / "khalis-kg"),
            "validate",
            "--engine",
            "pyshacl",
        ],
        "pyshacl -s ontology/shapes.ttl": [
            str(bin_dir / "pyshacl"),
            "-s",
            str(REPO / "ontology" / "shapes.ttl"),
            str(merged),
        ],
    }
    times: dict[str, list[float]] = {k: [] for k in commands}
    codes: dict[str, set[int]] = {k: set() for k in commands}
    for _ in range(n):
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, cwd=REPO)
            times[name].append(time.perf_counter() - t0)
            codes[name].add(proc.returncode)
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "runs": times,
        "median_s": med,
        "exit_codes": {k: sorted(v) for k, v in codes.items()},
        "ratio": med["khalis-kg validate"] / med["pyshacl -s ontology/shapes.ttl"],
        "merged_file": str(merged),
    }


# -- driver ---------------------------------------------------------------------------------


def fit_exponent(points: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of log(time) against log(triples)."""
    if len(points) < 2:
        return None
    xs = [math.log(x) for x, _ in points]
    ys = [math.log(y) for _, y in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sum(
        (x - mx) ** 2 for x in xs
    )


def machine() -> dict[str, Any]:
    import pyoxigraph
    import pyshacl
    import rdflib

    cpu = "?"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": Path("/proc/meminfo").read_text().splitlines()[0],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "pyoxigraph": pyoxigraph.__version__,
        "pyshacl": pyshacl.__version__,
        "rdflib": rdflib.__version__,
    }
    try:
        import pyshacl_turbo

        info["pyshacl_turbo"] = pyshacl_turbo.__version__
    except ImportError:
        info["pyshacl_turbo"] = None
    return info


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def corpus(size: str) -> Path:
    sys.path.insert(0, str(HERE))
    import generate

    path = DATA_DIR / f"synthetic-{size}.nt"
    if not path.exists():
        log(f"generating {path}")
        generate.write(path, generate.events_for(SIZES[size]))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "FILE", "REPEAT"))
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--repeat", type=int, default=3, help="runs per engine and size")
    parser.add_argument("--pyshacl-max", default="100k", choices=list(SIZES))
    parser.add_argument("--pyrudof", metavar="DIR", help="a --target directory with pyrudof")
    parser.add_argument("--cold", type=int, default=7, metavar="N", help="0 to skip")
    parser.add_argument("--plot", type=Path, metavar="PNG")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "shacl-engines.json")
    parser.add_argument(
        "--replot", action="store_true", help="recompute the summary and plot of --out only"
    )
    args = parser.parse_args()
    if args.replot:
        out = json.loads(args.out.read_text("utf-8"))
        summarize(out)
        args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
        if args.plot:
            plot(out, args.plot)
        return 0
    if args.worker:
        engine, file, repeat = args.worker
        print(json.dumps(work(engine, Path(file), int(repeat), args.pyrudof)))
        return 0

    out: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": machine(),
        "uptime_start": uptime(),
        "memory_cap_bytes": MEMORY_CAP,
        "sizes": {},
    }
    log(out["uptime_start"])
    pyshacl_limit = list(SIZES).index(args.pyshacl_max)
    for size in args.sizes:
        path = corpus(size)
        row: dict[str, Any] = {}
        engines = ["load", "turbo", "store"]
        if list(SIZES).index(size) <= pyshacl_limit:
            engines.append("pyshacl")
        if args.pyrudof and size != "1M":
            engines.append("pyrudof")
        for engine in engines:
            repeat = args.repeat + 2 if size == "10k" else args.repeat
            if engine in ("pyshacl", "pyrudof"):
                repeat = args.repeat if size == "10k" else 1
            log(f"{size} {engine} x{repeat}")
            row[engine] = run_worker(engine, path, repeat, args.pyrudof)
            log(f"  -> {row[engine].get('median', row[engine])}  (load {uptime()[-16:]})")
        row["triples"] = row["load"].get("triples")
        out["sizes"][size] = row
        out["uptime_after_" + size] = uptime()
    if args.cold:
        log(f"cold start x{args.cold}")
        out["cold"] = cold(args.cold)
        log(f"  -> {out['cold']['median_s']} ratio {out['cold']['ratio']:.3f}")
    summarize(out)
    out["uptime_end"] = uptime()
    log(out["uptime_end"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    log(f"wrote {args.out}")
    if args.plot:
        plot(out, args.plot)
        log(f"wrote {args.plot}")
    return 0


def _median(row: dict[str, Any], engine: str) -> float | None:
    value = row.get(engine, {}).get("median")
    return float(value) if value is not None else None


def summarize(out: dict[str, Any]) -> None:
    """Ratios, exponents and the pySHACL extrapolation, added to ``out["summary"]``."""
    sizes = out["sizes"]
    summary: dict[str, Any] = {"per_size": {}}
    fits: dict[str, list[tuple[float, float]]] = {
        "turbo": [],
        "store": [],
        "pyshacl": [],
        "load": [],
    }
    for row in sizes.values():
        for engine in fits:
            m = _median(row, engine)
            if m is not None and row.get("triples"):
                fits[engine].append((row["triples"], m))
    exponents = {engine: fit_exponent(points) for engine, points in fits.items()}
    summary["exponents"] = exponents
    for size, row in sizes.items():
        load, turbo, store, ref = (_median(row, e) for e in ("load", "turbo", "store", "pyshacl"))
        entry: dict[str, Any] = {}
        if ref is None and fits["pyshacl"] and exponents["pyshacl"] and row.get("triples"):
            n0, t0 = fits["pyshacl"][-1]
            ref = t0 * (row["triples"] / n0) ** exponents["pyshacl"]
            entry["pyshacl_extrapolated_s"] = ref
        if turbo and ref:
            entry["pyshacl_over_turbo"] = ref / turbo
        if store and ref:
            entry["pyshacl_over_store"] = ref / store
        if load and store:
            entry["store_validation_over_load"] = store / load
        cpu_load = row.get("load", {}).get("cpu_median")
        cpu_store = row.get("store", {}).get("cpu_median")
        if cpu_load and cpu_store:
            entry["store_validation_over_load_cpu"] = cpu_store / cpu_load
        if load and turbo:
            entry["turbo_end_to_end_over_load"] = turbo / load
        summary["per_size"][size] = entry
    out["summary"] = summary


def plot(out: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = out["sizes"]
    fig, ax = plt.subplots(figsize=(7.5, 5))
    series = [
        ("pyshacl", "pySHACL (reference), file → report", "tab:red", "o-"),
        ("turbo", "pyshacl-turbo (default), file → report", "tab:blue", "o-"),
        ("store", "pyshacl-turbo on the loaded Oxigraph store", "tab:cyan", "s-"),
        ("pyrudof", "pyrudof (evaluated), file → report", "tab:green", "^:"),
        ("load", "Oxigraph bulk load of the file (reference line)", "black", "x--"),
    ]
    for engine, label, color, style in series:
        pts = [
            (row["triples"], row[engine]["median"])
            for row in sizes.values()
            if engine in row and "median" in row[engine]
        ]
        if pts:
            ax.plot(*zip(*pts, strict=True), style, color=color, label=label)
    extra = [
        (sizes[s]["triples"], e["pyshacl_extrapolated_s"])
        for s, e in out["summary"]["per_size"].items()
        if "pyshacl_extrapolated_s" in e
    ]
    measured = [
        (row["triples"], row["pyshacl"]["median"])
        for row in sizes.values()
        if "median" in row.get("pyshacl", {})
    ]
    if extra and measured:
        xs, ys = zip(*[measured[-1], *extra], strict=True)
        ax.plot(xs, ys, "o:", color="tab:red", alpha=0.5, label="pySHACL, extrapolated")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("triples in the synthetic corpus (N-Triples file)")
    ax.set_ylabel("seconds (median)")
    exps = {k: v if v is not None else float("nan") for k, v in out["summary"]["exponents"].items()}
    ax.set_title(
        "SHACL validation vs size  (fitted exponent: turbo "
        f"{exps.get('turbo', math.nan):.2f}, pySHACL {exps.get('pyshacl', math.nan):.2f}, "
        f"Oxigraph load {exps.get('load', math.nan):.2f})",
        fontsize=10,
    )
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())

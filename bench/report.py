"""Tables (Markdown) and the latency plot from a bench/run.py result file.

.venv/bin/python bench/report.py bench/results/latest.json          # tables
.venv/bin/python bench/report.py bench/results/latest.json --plot   # and the plot
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from khalis_kg.api import BACKENDS

SIZE_ORDER = ("10k", "100k", "1M")
COLORS = {"oxigraph": "tab:blue", "memory": "tab:orange", "remote": "tab:green"}


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.1f}" if seconds < 10 else f"{seconds * 1000:.0f}"


def _s(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.2f}"


def by_kind(results: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [m for m in results.get("measurements", []) if m.get("kind") == kind]


def sizes(results: dict[str, Any]) -> list[str]:
    seen = {m["size"] for m in results.get("measurements", [])}
    return [s for s in SIZE_ORDER if s in seen]


def triples_by_size(results: dict[str, Any]) -> dict[str, int]:
    return {m["size"]: m["triples"] for m in by_kind(results, "load") if m["backend"] == "oxigraph"}


def query_medians(results: dict[str, Any]) -> dict[tuple[str, str], dict[str, float]]:
    """(backend, size) → query → median seconds."""
    out: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for m in by_kind(results, "query"):
        if "median" in m:
            out[(m["backend"], m["size"])][m["query"]] = m["median"]
    return out


def tables(results: dict[str, Any]) -> str:
    lines: list[str] = []
    loads = {(m["backend"], m["size"]): m for m in by_kind(results, "load")}
    exports = {(m["backend"], m["size"]): m for m in by_kind(results, "export")}
    peaks = {(m["backend"], m["size"]): m for m in by_kind(results, "peak")}
    runs = {(r.get("backend"), r["size"]): r for r in results.get("runs", []) if "backend" in r}
    medians = query_medians(results)
    triples = triples_by_size(results)

    lines.append("| backend | size | triples | load (s) | export N-Triples (s) | "
                 "median query (ms) | slowest query (ms) | peak RSS (MB) | status |")  # fmt: skip
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for size in sizes(results):
        for backend in BACKENDS:
            key = (backend, size)
            if key not in runs:
                continue
            q = medians.get(key, {})
            rss = peaks.get(key, {}).get("rss_mb")
            server = runs[key].get("server_vmhwm_mb")
            rss_text = "-" if rss is None else f"{rss:.0f}"
            if server is not None:
                rss_text += f" (+ server {server:.0f})"
            lines.append(
                f"| {backend} | {size} | {triples.get(size, '-')} "
                f"| {_s(loads.get(key, {}).get('seconds'))} "
                f"| {_s(exports.get(key, {}).get('seconds'))} "
                f"| {_ms(statistics.median(q.values()) if q else None)} "
                f"| {_ms(max(q.values()) if q else None)} "
                f"| {rss_text} | {runs[key]['status']} |"
            )
    lines.append("")

    # per-query latency table
    names = sorted({m["query"] for m in by_kind(results, "query")})
    cols = [(b, s) for s in sizes(results) for b in BACKENDS if (b, s) in runs]
    lines.append("| query | " + " | ".join(f"{b} {s}" for b, s in cols) + " |")
    lines.append("|---|" + "---:|" * len(cols))
    notes: dict[tuple[str, str, str], str] = {}
    for m in by_kind(results, "query"):
        key = (m["backend"], m["size"], m["query"])
        if "error" in m:
            notes[key] = "error"
        elif "capped" in m:
            notes[key] = f"> {m['capped']:g} s (cap)"
        elif "skipped" in m:
            notes[key] = f"not run (~{m['skipped']:.0f} s predicted)"
    for name in names:
        cells = []
        for b, s in cols:
            value = medians.get((b, s), {}).get(name)
            cells.append(notes.get((b, s, name)) or _ms(value))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Latencies in ms, median of up to the configured repetitions.")
    lines.append("")

    # wrapper overhead
    direct = [m for m in by_kind(results, "query") if "direct_median" in m]
    if direct:
        lines.append("| query | khalis-kg (ms) | pyoxigraph direct (ms) | ratio |")
        lines.append("|---|---:|---:|---:|")
        ratios = []
        for m in sorted(direct, key=lambda m: m["query"]):
            ratio = m["median"] / m["direct_median"] if m["direct_median"] > 0 else float("nan")
            ratios.append(ratio)
            lines.append(
                f"| {m['query']} | {_ms(m['median'])} | {_ms(m['direct_median'])} | {ratio:.2f} |"
            )
        total_k = sum(m["median"] for m in direct)
        total_d = sum(m["direct_median"] for m in direct)
        lines.append(
            f"| **all (sum of medians)** | {_ms(total_k)} | {_ms(total_d)} "
            f"| **{total_k / total_d:.2f}** |"
        )
        lines.append(f"\nMedian per-query ratio: {statistics.median(ratios):.2f}; "
                     f"largest: {max(ratios):.2f}.")  # fmt: skip
        lines.append("")

    for m in by_kind(results, "validate"):
        lines.append(
            f"Validation at {m['size']}: {m['seconds']:.1f} s "
            f"(conforms: {m['conforms']}, peak RSS {m['rss_mb']:.0f} MB)."
        )
    for r in results.get("runs", []):
        if r.get("kind") == "validate" and r["status"] != "ok":
            lines.append(f"Validation at {r['size']}: {r['status']}.")
    cold = results.get("cold_start")
    if cold and "ratio" in cold:
        lines.append("")
        lines.append(
            f"Cold start (`khalis-kg query {cold['query']}` vs bare rdflib script, median of "
            f"{len(cold['cli']['runs'])}): {cold['cli']['median']:.3f} s vs "
            f"{cold['bare_rdflib']['median']:.3f} s, ratio **{cold['ratio']:.2f}**."
        )
    serve = results.get("serve")
    if serve:
        lines.append("")
        head = f"{serve['clients']} clients, {serve['seconds']:.0f} s, {serve['queries']} queries"
        lines.append(f"| server ({head}) | requests/s | p50 (ms) | p95 (ms) | errors |")
        lines.append("|---|---:|---:|---:|---:|")
        for label in ("oxigraph_serve", "khalis_kg_serve"):
            s = serve.get(label, {})
            if "throughput" in s:
                lines.append(
                    f"| {label.replace('_', ' ')} | {s['throughput']:.0f} | {_ms(s['p50'])} "
                    f"| {_ms(s['p95'])} | {s['errors']} |"
                )
            elif s:
                lines.append(f"| {label} | {s.get('error')} | | | |")
        if "ratio" in serve:
            lines.append(f"\nkhalis-kg serve / oxigraph serve throughput: {serve['ratio']:.2f}.")
    if results.get("caps"):
        lines.append("")
        lines.append("Caps applied:")
        lines.extend(f"- {c}" for c in results["caps"])
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    medians = query_medians(results)
    triples = triples_by_size(results)
    loads = {(m["backend"], m["size"]): m["seconds"] for m in by_kind(results, "load")}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    for backend in BACKENDS:
        xs, med, worst, lx, ly = [], [], [], [], []
        ran = [medians[(backend, s)] for s in sizes(results) if (backend, s) in medians]
        # only the queries measured at every size, so the lines compare like with like
        common = set.intersection(*(set(m) for m in ran)) if ran else set()
        for size in sizes(results):
            q = {k: v for k, v in medians.get((backend, size), {}).items() if k in common}
            if q and size in triples:
                xs.append(triples[size])
                med.append(statistics.median(q.values()) * 1000)
                worst.append(max(q.values()) * 1000)
            if (backend, size) in loads and size in triples:
                lx.append(triples[size])
                ly.append(loads[(backend, size)])
        if xs:
            ax1.plot(xs, med, "o-", color=COLORS[backend],
                     label=f"{backend}: median of {len(common)} queries")  # fmt: skip
            ax1.plot(xs, worst, "s--", color=COLORS[backend], alpha=0.6,
                     label=f"{backend}: slowest of them")  # fmt: skip
        if lx:
            ax2.plot(lx, ly, "o-", color=COLORS[backend], label=backend)
    for ax, title, ylabel in (
        (ax1, "Packaged query latency (queries run at every size)", "latency (ms)"),
        (ax2, "Load time (remote: Graph Store PUT to an on-disk server)", "load (s)"),
    ):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("triples")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results", type=Path)
    parser.add_argument("--plot", type=Path, nargs="?", const=Path("docs/bench-latency.png"))
    args = parser.parse_args()
    results = json.loads(args.results.read_text())
    print(tables(results), end="")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

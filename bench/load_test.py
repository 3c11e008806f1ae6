"""Load test for ``khalis-kg serve``.

Starts a server on 127.0.0.1 (a free port) unless ``--url`` is given, then runs N
concurrent clients for a bounded time, mixing packaged queries, ad-hoc SPARQL,
resource pages and bad requests (malformed, update, unknown query, unacceptable
Accept, wrong content type). Reports requests/s, latency percentiles and error
counts. Valid requests that fail must be 0; bad requests must get their expected
status. ``--pathological`` adds one client that keeps sending a cartesian-product
query (stopped by the server's time limit) to show the others are still served.

    python bench/load_test.py                      # 16 clients, 20 s
    python bench/load_test.py --clients 32 --duration 30 --pathological
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from server_helpers import run_server

HARD_CAP_SECONDS = 120.0
BASE = "https://w3id.org/khalis-kg/"

SELECTS = [
    "PREFIX kg: <https://w3id.org/khalis-kg/ontology#>\n"
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?claim ?label ?claimant WHERE { ?claim a kg:Claim ; rdfs:label ?label ; "
    "kg:claimant ?claimant } ORDER BY ?claimant",
    "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
    "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
    "SELECT ?s ?label WHERE { ?s rdfs:label ?label } ORDER BY ?s LIMIT 50",
    f"CONSTRUCT {{ <{BASE}id/place/al-khalis> ?p ?o }} "
    f"WHERE {{ <{BASE}id/place/al-khalis> ?p ?o }}",
    "ASK { ?s a <https://w3id.org/khalis-kg/ontology#Claim> }",
]
PAGES = [
    "/id/event/al-khalis-prison-break-2015",
    "/id/place/al-khalis",
    "/id/organization/isil",
    "/id/claim/amaq-break-in-with-explosives",
    "/id/span/cause-9",
]
CARTESIAN = "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?i ?a"


@dataclass
class Request:
    kind: str
    method: str
    path: str
    expect: int
    params: dict[str, str] | None = None
    data: dict[str, str] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def valid(self) -> bool:
        return self.expect == 200


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    valid_failed: Counter[str] = field(default_factory=Counter)
    bad_unexpected: Counter[str] = field(default_factory=Counter)
    transport_errors: Counter[str] = field(default_factory=Counter)
    pathological: Counter[int] = field(default_factory=Counter)

    def record(self, req: Request, status: int | None, elapsed: float) -> None:
        self.latencies.setdefault(req.kind, []).append(elapsed)
        if status is None:
            self.transport_errors[req.kind] += 1
            if req.valid:
                self.valid_failed[req.kind] += 1
            return
        self.statuses[(req.kind, status)] += 1
        if status != req.expect:
            (self.valid_failed if req.valid else self.bad_unexpected)[req.kind] += 1


def build_mix(catalogue: list[dict[str, object]]) -> list[tuple[Request, int]]:
    """(request, weight) pairs."""
    mix: list[tuple[Request, int]] = []
    runnable = [
        q for q in catalogue
        if not q.get("check") and not any(p["required"] for p in q["parameters"])  # type: ignore[attr-defined, union-attr]
    ]  # fmt: skip
    for q in runnable:
        mix.append((Request("packaged", "GET", str(q["url"]), 200), 2))
    for text in SELECTS:
        mix.append((Request("sparql-get", "GET", "/sparql", 200, params={"query": text}), 3))
        mix.append((Request("sparql-post", "POST", "/sparql", 200, data={"query": text}), 3))
    for path in PAGES:
        mix.append((Request("page-html", "GET", path, 200, headers={"Accept": "text/html"}), 2))
        mix.append((Request("page-turtle", "GET", path, 200, headers={"Accept": "text/turtle"}), 1))
    mix += [
        (Request("bad-syntax", "GET", "/sparql", 400,
                 params={"query": "SELECT ?x WHERE { ?x ?y }"}), 2),
        (Request("bad-update", "POST", "/sparql", 403,
                 data={"update": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"}), 2),
        (Request("bad-name", "GET", "/queries/no-such-query", 404), 1),
        (Request("bad-accept", "GET", "/sparql", 406, params={"query": SELECTS[1]},
                 headers={"Accept": "image/png"}), 1),
        (Request("bad-type", "POST", "/sparql", 415, content=b"{}",
                 headers={"Content-Type": "application/json"}), 1),
        (Request("bad-service", "POST", "/sparql", 400,
                 data={"query": "SELECT * { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}), 1),
    ]  # fmt: skip
    return mix


async def client_loop(
    client: httpx.AsyncClient, mix: list[tuple[Request, int]], stats: Stats, deadline: float,
    rng: random.Random,
) -> None:  # fmt: skip
    requests = [r for r, _ in mix]
    weights = [w for _, w in mix]
    while time.monotonic() < deadline:
        req = rng.choices(requests, weights)[0]
        t0 = time.perf_counter()
        try:
            r = await client.request(
                req.method, req.path, params=req.params, data=req.data, content=req.content,
                headers=req.headers,
            )  # fmt: skip
            status: int | None = r.status_code
        except httpx.HTTPError:
            status = None
        stats.record(req, status, time.perf_counter() - t0)


async def pathological_loop(client: httpx.AsyncClient, stats: Stats, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            r = await client.post("/sparql", data={"query": CARTESIAN}, timeout=60)
            stats.pathological[r.status_code] += 1
        except httpx.HTTPError:
            stats.pathological[0] += 1


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@contextmanager
def server(args: argparse.Namespace) -> Iterator[str]:
    """The server under load: ``--url``, or ``khalis-kg serve`` started as the tests start
    it (``tests/server_helpers.run_server``: a free loopback port, a bounded wait)."""
    if args.url:
        yield args.url.rstrip("/")
        return
    extra = ["--timeout", str(args.timeout)]
    if args.workers:
        extra += ["--workers", str(args.workers)]
    with ExitStack() as stack:
        try:
            base = stack.enter_context(run_server(*extra, start_timeout=90))
        except RuntimeError as exc:  # it exited, or did not answer in time
            raise SystemExit(str(exc)) from None
        yield base


async def run(base: str, args: argparse.Namespace) -> dict[str, object]:
    limits = httpx.Limits(max_connections=args.clients + 4)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        catalogue = (await client.get("/queries")).json()
        mix = build_mix(catalogue)
        stats = Stats()
        duration = min(args.duration, HARD_CAP_SECONDS)
        started = time.monotonic()
        deadline = started + duration
        tasks = [
            client_loop(client, mix, stats, deadline, random.Random(args.seed + i))
            for i in range(args.clients)
        ]
        if args.pathological:
            tasks.append(pathological_loop(client, stats, deadline))
        await asyncio.wait_for(asyncio.gather(*tasks), duration + 90)
        elapsed = time.monotonic() - started
    valid = [x for k, v in stats.latencies.items() for x in v if not k.startswith("bad")]
    every = [x for v in stats.latencies.values() for x in v]
    return {
        "clients": args.clients,
        "duration_s": round(elapsed, 1),
        "requests": len(every),
        "requests_per_s": round(len(every) / elapsed, 1),
        "valid_requests": len(valid),
        "latency_ms_all": {
            "p50": round(percentile(every, 50) * 1000, 1),
            "p99": round(percentile(every, 99) * 1000, 1),
            "max": round(max(every) * 1000, 1) if every else None,
        },
        "latency_ms_valid": {
            "p50": round(percentile(valid, 50) * 1000, 1),
            "p99": round(percentile(valid, 99) * 1000, 1),
        },
        "latency_ms_by_kind": {
            k: f"n={len(v)} p50={percentile(v, 50) * 1000:.1f} p99={percentile(v, 99) * 1000:.1f}"
            for k, v in sorted(stats.latencies.items())
        },
        "valid_failed": sum(stats.valid_failed.values()),
        "valid_failed_by_kind": dict(stats.valid_failed),
        "bad_with_unexpected_status": sum(stats.bad_unexpected.values()),
        "transport_errors": sum(stats.transport_errors.values()),
        "statuses": {f"{k} {s}": n for (k, s), n in sorted(stats.statuses.items())},
        "pathological_statuses": dict(stats.pathological),
        "packaged_queries_in_mix": sum(1 for r, _ in mix if r.kind == "packaged"),
    }


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "nproc": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    try:
        with open("/proc/meminfo") as f:
            total_kb = int(f.readline().split()[1])
        info["memory_gib"] = round(total_kb / 1024 / 1024, 1)
    except (OSError, ValueError, IndexError):
        pass
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--duration", type=float, default=20.0,
                        help=f"seconds (hard cap {HARD_CAP_SECONDS:g})")  # fmt: skip
    parser.add_argument("--url", help="use a running server instead of starting one")
    parser.add_argument("--workers", type=int, help="query worker processes of the server")
    parser.add_argument("--timeout", type=float, default=5.0, help="server query time limit")
    parser.add_argument("--pathological", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", help="also write the report to this file")
    args = parser.parse_args()
    with server(args) as base:
        report = asyncio.run(run(base, args))
    report["machine"] = machine()
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    if report["valid_failed"] or report["bad_with_unexpected_status"]:
        sys.exit(1)


if __name__ == "__main__":
    main()

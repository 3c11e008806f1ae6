"""``khalis-kg serve`` under attack: slow-header clients, a connection flood, the pool's
workers killed while the server's descriptors are exhausted; how long each takes to be
dealt with, and how big the log of the episode is.

    .venv/bin/python bench/server_attack.py

The server runs in a subprocess on 127.0.0.1 (``tests/server_helpers.py``) with
``--workers 2 --header-timeout 2 --max-connections 50 --queue-timeout 5``; descriptor
exhaustion is its ``RLIMIT_NOFILE`` lowered to 3 (nothing can be opened or accepted),
not thousands of sockets. Every loop is bounded. Prints one line per measurement.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import httpx  # noqa: E402
from server_helpers import SERVER_LOGS, SERVER_PIDS, run_server  # noqa: E402

COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def worker_pids(server: int) -> list[int]:
    out = []
    for child in Path(f"/proc/{server}/task/{server}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"spawn_main" in cmdline and b"resource_tracker" not in cmdline:
            out.append(int(child))
    return out


def slow_loris(host: str, port: int, closed: list[float]) -> None:
    """Dribble a request head one byte every 0.2 s; record when the server hangs up."""
    head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 500
    with socket.create_connection((host, port)) as sock:
        sock.settimeout(0.2)
        t0 = time.monotonic()
        for i in range(len(head)):
            if time.monotonic() - t0 > 10:
                break
            try:
                sock.sendall(head[i : i + 1])
                if not sock.recv(100):
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        closed.append(time.monotonic() - t0)


def main() -> int:
    with run_server(
        "--workers", "2", "--timeout", "2", "--header-timeout", "2", "--keep-alive", "2",
        "--max-connections", "50", "--queue-timeout", "5",
    ) as base:  # fmt: skip
        host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        closed: list[float] = []
        threads = [threading.Thread(target=slow_loris, args=(host, port, closed)) for _ in "12345"]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        print("5 slow-header clients closed after (s):", sorted(round(x, 2) for x in closed))

        idle = [socket.create_connection((host, port)) for _ in range(50)]
        time.sleep(0.3)
        with socket.create_connection((host, port)) as extra:
            extra.settimeout(5)
            t0 = time.monotonic()
            answer = extra.recv(200).split(b"\r\n")[0].decode()
            print(f"51st connection: {answer!r} in {(time.monotonic() - t0) * 1000:.1f} ms")
        for s in idle:
            s.close()
        time.sleep(0.5)

        pid, log = SERVER_PIDS[base], SERVER_LOGS[base]
        soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
        with httpx.Client(base_url=base, timeout=30) as client:
            client.get("/sparql", params={"query": COUNT})
            before = log.stat().st_size
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, hard))
            try:
                for worker in worker_pids(pid):
                    os.kill(worker, signal.SIGKILL)
                t0 = time.monotonic()
                statuses = [
                    client.get("/sparql", params={"query": COUNT}).status_code for _ in range(500)
                ]
                counts = {s: statuses.count(s) for s in set(statuses)}
                print(f"500 requests while exhausted: {counts} in {time.monotonic() - t0:.2f} s")
                time.sleep(3)
            finally:
                resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
            t0 = time.monotonic()
            deadline = t0 + 30
            while time.monotonic() < deadline:
                if client.get("/sparql", params={"query": COUNT}).status_code == 200:
                    break
                time.sleep(0.05)
            first = time.monotonic() - t0
            while len(worker_pids(pid)) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            print(f"after the pressure: first 200 in {first:.2f} s, "
                  f"{len(worker_pids(pid))} workers at {time.monotonic() - t0:.2f} s")  # fmt: skip
        time.sleep(6)  # the repeat counts are logged when their 5 s window ends
        text = log.read_bytes()[before:]
        lines = text.count(b"\n")
        print(f"log of the episode: {len(text)} bytes, {lines} lines")
        print(text.decode("utf-8", "replace"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

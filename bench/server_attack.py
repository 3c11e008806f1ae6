"""``khalis-kg serve`` under attack: slow-header clients, a client holding every
connection the server allows, the pool's workers killed while the server's descriptors
are exhausted; how long each takes to be dealt with, and how big the log of the
episode is.

    .venv/bin/python bench/server_attack.py
    PYTHONPATH=OLD/src .venv/bin/python bench/server_attack.py --baseline

The server runs in a subprocess on 127.0.0.1 (``tests/server_helpers.py``) with
``--workers 2 --max-connections 50 --queue-timeout 5`` and ``--body-timeout 2``
(``--baseline``: ``--header-timeout 2``, the option of the code before the protocol
subclass was removed, for that code); descriptor exhaustion is its ``RLIMIT_NOFILE``
lowered to 3 (nothing can be opened or accepted), not thousands of sockets. Every loop
is bounded. Prints one line per measurement.
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
    """The server's children but multiprocessing's resource tracker (the baseline's)."""
    out = []
    for child in Path(f"/proc/{server}/task/{server}/children").read_text().split():
        try:
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in cmdline:
            out.append(int(child))
    return out


def hold_every_connection(
    host: str, port: int, count: int, seconds: float, reopened: list[int]
) -> None:
    """Keep ``count`` silent connections open for ``seconds``, reopening each as soon
    as the server closes it (a slow-loris that never sends a byte)."""
    socks = [socket.create_connection((host, port)) for _ in range(count)]
    for sock in socks:
        sock.setblocking(False)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for i, sock in enumerate(socks):
            try:
                closed = sock.recv(4096) == b""
            except BlockingIOError:
                continue
            except OSError:
                closed = True
            if closed:
                sock.close()
                socks[i] = socket.create_connection((host, port))
                socks[i].setblocking(False)
                reopened[0] += 1
        time.sleep(0.05)
    for sock in socks:
        sock.close()


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
    timeout = "--header-timeout" if "--baseline" in sys.argv else "--body-timeout"
    with run_server(
        "--workers", "2", "--timeout", "2", timeout, "2", "--keep-alive", "2",
        "--max-connections", "50", "--queue-timeout", "5",
    ) as base:  # fmt: skip
        host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
        closed: list[float] = []
        threads = [threading.Thread(target=slow_loris, args=(host, port, closed)) for _ in "12345"]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        print("5 slow-header clients, 10 s: closed after (s):", sorted(round(x, 2) for x in closed))

        # One client holds 50 silent connections for 8 s, reopening any the server
        # closes; an ordinary client asks every 0.1 s meanwhile.
        reopened = [0]
        attacker = threading.Thread(
            target=hold_every_connection, args=(host, port, 50, 8.0, reopened)
        )
        attacker.start()
        time.sleep(0.5)
        statuses: list[str] = []
        while attacker.is_alive():
            try:
                r = httpx.get(base + "/sparql", params={"query": COUNT}, timeout=2)
                statuses.append(str(r.status_code))
            except httpx.HTTPError as exc:
                statuses.append(type(exc).__name__)
            time.sleep(0.1)
        attacker.join()
        t0 = time.monotonic()
        while httpx.get(base + "/sparql", params={"query": COUNT}, timeout=5).status_code != 200:
            if time.monotonic() - t0 > 10:
                break
            time.sleep(0.05)
        counts = {s: statuses.count(s) for s in sorted(set(statuses))}
        print(
            f"50 silent connections held 8 s ({reopened[0]} reopened after the server closed "
            f"them): an ordinary client's answers {counts}; first 200 after they went: "
            f"{(time.monotonic() - t0) * 1000:.0f} ms"
        )
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

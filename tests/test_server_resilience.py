"""``khalis-kg serve`` under attack: a real server in a subprocess, hostile clients.

* slow-header (slow-loris) and silent connections are closed after ``--header-timeout``;
* connections over ``--max-connections`` are answered 503 and closed at once;
* an engine crash (SIGSEGV, SIGABRT), the memory limit and the time limit are three
  different answers;
* the worker pool comes back to its size after its workers are killed while the server's
  file descriptors are exhausted (its ``RLIMIT_NOFILE`` lowered below what it has open),
  and a burst of identical failures is logged as one line plus a count.
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_helpers import SERVER_LOGS, SERVER_PIDS, run_server, worker_pids

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc"),
]

HEADER_TIMEOUT = 1.0
MAX_CONNECTIONS = 6
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with run_server(
        "--workers", "2", "--timeout", "2", "--memory-limit", "400M",
        "--header-timeout", str(HEADER_TIMEOUT), "--keep-alive", "2",
        "--max-connections", str(MAX_CONNECTIONS), "--queue-timeout", "5",
    ) as base:  # fmt: skip
        yield base


def _address(base: str) -> tuple[str, int]:
    url = httpx.URL(base)
    assert url.host
    assert url.port
    return url.host, url.port


def _wait_for(predicate: object, timeout: float) -> bool:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return bool(predicate())


def _closed_after(sock: socket.socket, dribble: bytes | None, limit: float) -> float | None:
    """Seconds until the server closes ``sock`` (sending ``dribble`` one byte every 0.2 s
    meanwhile), or None if it is still open after ``limit`` seconds."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    sent = 0
    while time.monotonic() - t0 < limit:
        if dribble is not None and sent < len(dribble):
            try:
                sock.sendall(dribble[sent : sent + 1])
            except OSError:
                return time.monotonic() - t0
            sent += 1
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        except OSError:
            return time.monotonic() - t0
        if not data or b"408" in data:
            return time.monotonic() - t0
    return None


def test_slow_header_and_silent_connections_are_closed(server: str) -> None:
    """Three stalled connections, watched at the same time (each is closed after the
    header timeout, on its own): a head sent one byte at a time that never ends, a
    connection that sends nothing, and a keep-alive connection that starts a second
    request and stalls."""
    from concurrent.futures import ThreadPoolExecutor

    dribble = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200
    with contextlib.ExitStack() as stack:
        slow, silent, again = (
            stack.enter_context(socket.create_connection(_address(server))) for _ in range(3)
        )
        again.sendall(b"GET /static/style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        again.settimeout(5)
        assert again.recv(65536).startswith(b"HTTP/1.1 200")
        watches = [(slow, dribble), (silent, None), (again, b"GET / HTTP/1.1\r\nHost: 1")]
        with ThreadPoolExecutor(len(watches)) as pool:
            closed = list(
                pool.map(lambda w: _closed_after(w[0], w[1], HEADER_TIMEOUT + 4), watches)
            )
    times = [t for t in closed if t is not None]
    assert len(times) == len(watches), f"a stalled connection was kept open: {closed}"
    slow_closed, silent_closed, again_closed = times
    assert HEADER_TIMEOUT - 0.2 <= slow_closed <= HEADER_TIMEOUT + 1.5, closed
    assert silent_closed <= HEADER_TIMEOUT + 1.5, closed
    assert again_closed <= HEADER_TIMEOUT + 1.5, closed
    # Ordinary clients are unaffected.
    assert httpx.get(server + "/sparql", params={"query": COUNT}, timeout=30).status_code == 200


def test_connections_over_the_cap_are_refused_at_once(server: str) -> None:
    idle = [socket.create_connection(_address(server)) for _ in range(MAX_CONNECTIONS)]
    try:
        time.sleep(0.2)
        with socket.create_connection(_address(server)) as extra:
            extra.settimeout(5)
            t0 = time.monotonic()
            answer = extra.recv(4096)
            assert time.monotonic() - t0 < 1.0
        assert answer.startswith(b"HTTP/1.1 503"), answer
        assert answer.endswith(b"the server has too many open connections; try later\n")
    finally:
        for s in idle:
            s.close()
    # Once they are gone, the server answers again.
    assert _wait_for(
        lambda: (
            httpx.get(server + "/sparql", params={"query": COUNT}, timeout=30).status_code == 200
        ),
        5,
    )


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        # A sorted cartesian product outgrows the 400 MiB limit within a second.
        (
            "SELECT * { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?a ?i",
            503,
            "the query was stopped at this server's memory limit (400 MiB per query "
            "worker); narrow the query",
        ),
        # Counting it needs no memory and runs past the 2 s time limit.
        (
            "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
            503,
            "the query was stopped after 2 s (this server's time limit)",
        ),
    ],
    ids=["memory", "time"],
)
def test_crash_memory_and_time_limits_are_told_apart(
    server: str, query: str, status: int, message: str
) -> None:
    r = httpx.post(server + "/sparql", data={"query": query}, timeout=30)
    assert (r.status_code, r.text) == (status, message + "\n")
    assert httpx.get(server + "/sparql", params={"query": COUNT}, timeout=30).status_code == 200


@pytest.mark.parametrize("sig", [signal.SIGSEGV, signal.SIGABRT], ids=lambda s: s.name)
def test_a_crash_signal_is_a_crash(server: str, sig: signal.Signals) -> None:
    """A worker that dies of SIGSEGV or SIGABRT (what an engine panic or a failed
    assertion ends in) in the middle of a query: a 500 that says crash, and names the
    signal. (pyoxigraph's sort panic, the crash found first, is now guarded before it
    reaches the engine.)"""
    pid = SERVER_PIDS[server]
    slow = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"

    def state(w: int) -> str:
        try:
            return Path(f"/proc/{w}/stat").read_text().split(") ", 1)[1][0]
        except FileNotFoundError:
            return "X"

    # Both workers started and idle (a replacement from an earlier test may be loading).
    assert _wait_for(
        lambda: len(worker_pids(pid)) == 2 and {state(w) for w in worker_pids(pid)} == {"S"},
        10,
    )
    time.sleep(0.3)
    before = set(worker_pids(pid))
    result: list[httpx.Response] = []
    thread = threading.Thread(
        target=lambda: result.append(
            httpx.post(server + "/sparql", data={"query": slow}, timeout=30)
        )
    )
    thread.start()
    busy: list[int] = []

    def find_busy() -> bool:  # the worker using CPU is the one running the query
        for w in before:
            if state(w) == "R":
                busy.append(w)
                return True
        return False

    assert _wait_for(find_busy, 3)
    os.kill(busy[0], sig)
    thread.join(30)
    r = result[0]
    assert (r.status_code, r.text) == (
        500,
        f"the query engine crashed (killed by {sig.name}); the worker was replaced\n",
    )


def test_pool_heals_after_its_workers_die_while_descriptors_are_exhausted(server: str) -> None:
    pid = SERVER_PIDS[server]
    log = SERVER_LOGS[server]

    def log_tail() -> str:  # for the failure messages: what the server said
        return log.read_text("utf-8", "replace")[-4000:]

    assert _wait_for(lambda: len(worker_pids(pid)) == 2, 10)
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    late: list[httpx.Response] = []
    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/sparql", params={"query": COUNT}).status_code == 200  # connected
        log_before = log.stat().st_size
        # No descriptor can be opened any more: 3 is below every descriptor in use.
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, hard))
        try:
            for w in worker_pids(pid):
                os.kill(w, signal.SIGKILL)
            # A new client cannot even be accepted now; it is served once pressure ends.
            newcomer = threading.Thread(
                target=lambda: late.append(
                    httpx.get(server + "/sparql", params={"query": COUNT}, timeout=30)
                )
            )
            newcomer.start()
            # A burst on the open connection: each answered 503 at once, none hangs.
            statuses = []
            t0 = time.monotonic()
            for _ in range(40):
                r = client.get("/sparql", params={"query": COUNT})
                statuses.append(r.status_code)
            burst = time.monotonic() - t0
            assert statuses == [503] * 40
            # Why the start failed depends on where it first needed a descriptor: the
            # pipes (EMFILE) or the child's set-up (it ends at once: EOFError).
            assert r.text.startswith(
                "the server has no query worker right now (starting one failed: "
            )
            assert r.text.endswith("); try again later\n")
            assert "EMFILE" in r.text or "EOFError" in r.text, r.text
            assert burst < 10, burst
            assert worker_pids(pid) == []
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        # The pressure ends: the pool is back at its size and answers again.
        # (Until a worker is ready, each request is a quick 503: poll, bounded.)
        t0 = time.monotonic()
        assert _wait_for(
            lambda: client.get("/sparql", params={"query": COUNT}).status_code == 200, 15
        ), log_tail()
        answered = time.monotonic() - t0
        assert _wait_for(lambda: len(worker_pids(pid)) == 2, 10), (worker_pids(pid), log_tail())
        healed = time.monotonic() - t0
        assert client.get("/sparql", params={"query": COUNT}).status_code == 200
    newcomer.join(30)
    assert len(late) == 1, "the client that connected under pressure got no answer"
    assert late[0].status_code == 200, (late[0].text, answered, healed, log_tail())
    assert answered < 7, answered
    assert healed < 12, healed
    # The log: every kind of failure once, its repeats as a count, no traceback per event.
    assert _wait_for(lambda: b"repeated" in log.read_bytes()[log_before:], 8), log_tail()
    text = log.read_bytes()[log_before:].decode("utf-8", "replace")
    assert len(text) < 8000, text
    assert text.count("Traceback") <= 1, text
    assert text.count("the server has no query worker right now") <= 2, text


def test_server_page_synopsis_matches_serve_help() -> None:
    """Every ``[--option DEFAULT]`` of the ``serve`` heading of docs/server.md is an option
    of ``serve`` with that default (a placeholder such as ``N`` only has to exist)."""
    from khalis_kg.server import serve_command

    page = Path(__file__).resolve().parents[1] / "docs" / "server.md"
    text = page.read_text(encoding="utf-8")
    heading = next(line for line in text.splitlines() if line.startswith("### `khalis-kg serve"))
    shown = re.findall(r"\[(--[a-z-]+)(?: ([^\]]+))?\]", heading)
    assert len(shown) >= 10, heading
    options = {opt: p for p in serve_command.params for opt in getattr(p, "opts", [])}
    for name, value in shown:
        assert name in options, name
        if value and re.fullmatch(r"[0-9]+(?:\.[0-9]+)?", value):
            assert float(options[name].default) == float(value), name
        elif value and not value.isupper():
            assert options[name].default == value, name


def test_first_request_after_the_pressure_is_served_not_sent_to_the_backoff(server: str) -> None:
    """Pressure long enough for the supervisor's backoff to grow past a second; the
    first request once it ends has a worker started at once and is answered 200, not
    turned away until the backoff runs out."""
    pid = SERVER_PIDS[server]
    assert _wait_for(lambda: len(worker_pids(pid)) == 2, 10)
    soft, hard = resource.prlimit(pid, resource.RLIMIT_NOFILE)
    with httpx.Client(base_url=server, timeout=30) as client:
        assert client.get("/sparql", params={"query": COUNT}).status_code == 200  # connected
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (3, hard))
        try:
            for w in worker_pids(pid):
                os.kill(w, signal.SIGKILL)
            assert _wait_for(lambda: worker_pids(pid) == [], 5)
            # The supervisor's own attempts fail 0.1, 0.3, 0.7, 1.5 and 3.1 s in; the
            # requests meanwhile (which also keep the connection open) are turned away.
            for _ in range(5):
                down = client.get("/sparql", params={"query": COUNT})
                assert down.status_code == 503, down.text
                time.sleep(0.45)
        finally:
            resource.prlimit(pid, resource.RLIMIT_NOFILE, (soft, hard))
        t0 = time.monotonic()
        first = client.get("/sparql", params={"query": COUNT})
        waited = time.monotonic() - t0
        assert first.status_code == 200, first.text
        assert waited < 10, waited
    assert _wait_for(lambda: len(worker_pids(pid)) == 2, 10), worker_pids(pid)


def test_a_request_waiting_for_a_worker_start_is_answered_when_the_pool_closes() -> None:
    """A request waiting on the supervisor's attempt when the server shuts down gets the
    shutdown's 503 at once, not a wait until its queue timeout."""
    import asyncio

    from khalis_kg.server.pool import PoolError, WorkerPool
    from khalis_kg.server.worker import WorkerConfig

    config = WorkerConfig(None, "oxigraph", False, 10, None)

    async def scenario() -> tuple[str, float]:
        pool = WorkerPool(config, size=1, queue_timeout=30)
        pool.spawn_failures = 1  # down: no worker, the last start failed (long ago)
        pool.last_spawn_error = "EMFILE: Too many open files"
        request = asyncio.create_task(pool.run({"kind": "query"}, timeout=1))
        await asyncio.sleep(0.1)
        assert not request.done()  # waiting for the attempt it asked for
        t0 = time.monotonic()
        await pool.close()
        with pytest.raises(PoolError) as info:
            await asyncio.wait_for(request, 5)
        return str(info.value), time.monotonic() - t0

    message, waited = asyncio.run(scenario())
    assert message == "the server is shutting down"
    assert waited < 1, waited

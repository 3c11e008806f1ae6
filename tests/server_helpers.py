"""Start ``khalis-kg serve`` in a subprocess on a free loopback port, for the server tests."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from helpers import stop_process, wait_until_answering

BASE = "https://w3id.org/khalis-kg/"
DATASET = BASE + "dataset"
START_TIMEOUT = 90.0
TEST_TIMEOUT = 2.0  # the server's per-query time limit in these tests
# the server's result cap in these tests: above every packaged query's answer (the
# largest, construct-event-subgraph, is 1068 triples), below the whole graph's 3710
TEST_MAX_RESULTS = 2000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVER_PIDS: dict[str, int] = {}
"""Base URL -> process id of the servers started by :func:`run_server`."""
SERVER_LOGS: dict[str, Path] = {}
"""Base URL -> the file receiving the server's output (stdout and stderr)."""


@contextlib.contextmanager
def run_server(*extra: str, start_timeout: float = START_TIMEOUT) -> Iterator[str]:
    """Start ``python -m khalis_kg.server`` on a free loopback port; yield its base URL."""
    port = free_port()
    log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in the finally clause
        prefix="khalis-serve-", suffix=".log", delete=False
    )
    cmd = [
        sys.executable, "-m", "khalis_kg.server",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning", *extra,
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(
            proc,
            base + "/sparql",
            timeout=start_timeout,
            what="server",
            output=lambda: Path(log.name).read_text(),
        )
        SERVER_PIDS[base] = proc.pid
        SERVER_LOGS[base] = Path(log.name)
        yield base
    finally:
        SERVER_PIDS.pop(base, None)
        SERVER_LOGS.pop(base, None)
        stop_process(proc, grace=15)
        log.close()
        os.unlink(log.name)


def worker_pids(server_pid: int) -> list[int]:
    """The query workers of the server ``server_pid``: its children (Linux /proc), each
    forked from it (a worker that ended counts until the server reaps it)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(pid) for pid in children]

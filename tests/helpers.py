"""Constants and helpers shared by the test modules (fixtures are in ``conftest.py``).

Import from here (``from helpers import EVENT``), never from ``conftest`` or from
another test module.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from khalis_kg.api import BACKENDS as ALL_BACKENDS
from khalis_kg.backends.remote import RemoteBackend

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TEST_QUERIES = TESTS / "data" / "queries"
BACKENDS = tuple(b for b in ALL_BACKENDS if b != "remote")
"""The in-process engines (``remote`` needs a server: see :func:`running_oxigraph`)."""

EVENT = "https://w3id.org/khalis-kg/id/event/al-khalis-prison-break-2015"
START_TIMEOUT = 20.0


def oxigraph_binary() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class OxigraphServer:
    base: str
    process: subprocess.Popen[bytes]

    @property
    def query_url(self) -> str:
        return self.base + "/query"

    @property
    def store_url(self) -> str:
        return self.base + "/store"

    def backend(self, timeout: float = 10.0) -> RemoteBackend:
        return RemoteBackend(self.query_url, store_url=self.store_url, timeout=timeout, env={})


@contextmanager
def running_oxigraph(location: Path) -> Iterator[OxigraphServer]:
    """An Oxigraph server on a free 127.0.0.1 port, killed on exit."""
    binary = oxigraph_binary()
    if binary is None:
        pytest.skip("the oxigraph server binary (PyPI package 'oxigraph') is not installed")
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                err = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"oxigraph server exited with {process.returncode}: {err}")
            try:
                httpx.get(base + "/query?query=ASK%7B%7D", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    pytest.fail(f"oxigraph server did not answer within {START_TIMEOUT} s")
                time.sleep(0.1)
        yield OxigraphServer(base, process)
    finally:
        process.kill()
        process.wait(timeout=10)


def fixture_expectations(path: Path) -> dict[str, str]:
    """The ``# expect-KEY: value`` lines of an invalid SHACL fixture (shape, path, focus,
    message: the result the fixture is about)."""
    found = {}
    for line in path.read_text("utf-8").splitlines():
        if line.startswith("# expect-") and not line.startswith("# expect-result:"):
            key, _, value = line[len("# expect-") :].partition(":")
            found[key.strip()] = value.strip()
    return found


def fixture_results(path: Path) -> list[tuple[str, ...]]:
    """The fixture's full expected result set, from its ``# expect-result:`` lines:
    ``(severity, shape, constraint, focus, path, value)``, ``-`` for none, sorted."""
    prefix = "# expect-result:"
    rows = [
        tuple(part.strip() for part in line[len(prefix) :].split(" | "))
        for line in path.read_text("utf-8").splitlines()
        if line.startswith(prefix)
    ]
    return sorted(rows)


def report_rows(results: object) -> list[tuple[str, ...]]:
    """Validation results as ``fixture_results`` rows, sorted."""
    return sorted(
        (
            r.severity,
            str(r.source_shape),
            str(r.source_constraint),
            r.focus_node,
            r.path or "-",
            "-" if r.value is None else r.value,
        )
        for r in results  # type: ignore[attr-defined]
    )

"""Constants and helpers shared by the test modules (fixtures are in ``conftest.py``).

Import from here (``from helpers import EVENT``), never from ``conftest`` or from
another test module.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from khalis_kg.api import BACKENDS as ALL_BACKENDS
from khalis_kg.backends.remote import RemoteBackend
from khalis_kg.http_session import tls_context

if TYPE_CHECKING:
    import rdflib

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
TEST_QUERIES = TESTS / "data" / "queries"
BACKENDS = tuple(b for b in ALL_BACKENDS if b != "remote")
"""The in-process engines (``remote`` needs a server: see :func:`running_oxigraph`)."""

EVENT = "https://w3id.org/khalis-kg/id/event/al-khalis-prison-break-2015"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Invocation:
    """What one in-process run of the command line left behind (see :func:`invoke`)."""

    exit_code: int
    stdout: str
    stderr: str
    output: str
    """What a terminal shows: standard output and standard error, interleaved."""
    stdout_bytes: bytes
    exception: BaseException | None
    """None, the ``SystemExit`` of a run that did not exit 0, or (only with
    ``catch_exceptions=True``) what the run raised."""


def invoke(
    args: Sequence[str],
    *,
    input: str | bytes | None = None,
    env: Mapping[str, str | None] | None = None,
    catch_exceptions: bool = False,
) -> Invocation:
    """Run ``khalis-kg ARGS`` in this process, as a user would type it, and return what it
    left behind.

    This is the ONE place that knows how the command line is called in-process: every
    test runs the CLI through it (or as a real subprocess), never through the CLI
    framework's own test runner. ``input`` is standard input; ``env`` sets (a value) or
    unsets (None) environment variables for the run only. An exception the command does
    not handle propagates, as a traceback would reach the user; with
    ``catch_exceptions=True`` it is returned in ``exception`` instead, for tests that
    collect every problem of many runs before failing.
    """
    from khalis_kg.cli import main

    data = input.encode("utf-8") if isinstance(input, str) else (input or b"")
    both = io.BytesIO()
    out, err = _Tee(both), _Tee(both)
    streams = (sys.stdin, sys.stdout, sys.stderr)
    saved = {name: os.environ.get(name) for name in env or {}}
    text = (  # kept here: a wrapper that is collected closes its stream
        io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = text
    exception: BaseException | None = None
    try:
        _set_environment(env or {})
        try:
            code = main(list(args))
        except Exception as exc:
            if not catch_exceptions:
                raise
            code, exception = 1, exc
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        _set_environment(saved)
    if exception is None and code != 0:
        exception = SystemExit(code)
    return Invocation(
        exit_code=code,
        stdout=out.getvalue().decode("utf-8", "replace"),
        stderr=err.getvalue().decode("utf-8", "replace"),
        output=both.getvalue().decode("utf-8", "replace"),
        stdout_bytes=out.getvalue(),
        exception=exception,
    )


class _Tee(io.BytesIO):
    """A byte stream that also writes into ``both`` (what a terminal shows)."""

    def __init__(self, both: io.BytesIO):
        super().__init__()
        self.both = both

    def write(self, data: Any) -> int:
        self.both.write(data)
        return super().write(data)


def _set_environment(values: Mapping[str, str | None]) -> None:
    for name, value in values.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def canonical(graph: rdflib.Graph) -> set[str]:
    """The graph's triples with RDFC-1.0 blank-node labels (pyoxigraph), as N-Triples lines:
    two graphs are isomorphic exactly when these are equal. Milliseconds, where
    ``rdflib.compare.isomorphic`` takes seconds on many blank nodes (2.5 s on the shapes)."""
    import pyoxigraph

    data = graph.serialize(format="nt", encoding="utf-8")
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(data, format=pyoxigraph.RdfFormat.N_TRIPLES))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)
    return {str(q) for q in dataset}


def assert_isomorphic(got: rdflib.Graph, expected: rdflib.Graph, what: str) -> None:
    """Fail, showing up to 20 triples found only on each side, unless the graphs are
    isomorphic (:func:`canonical`)."""
    if canonical(got) == canonical(expected):
        return
    from rdflib.compare import graph_diff, to_isomorphic

    _both, only_got, only_expected = graph_diff(to_isomorphic(got), to_isomorphic(expected))
    lines = [f"{what}: not isomorphic", f"--- only in what was got ({len(only_got)})"]
    lines += sorted(only_got.serialize(format="nt").splitlines())[:20]
    lines.append(f"--- only in what was expected ({len(only_expected)})")
    lines += sorted(only_expected.serialize(format="nt").splitlines())[:20]
    pytest.fail("\n".join(lines))


def stop_process(process: subprocess.Popen[bytes], grace: float) -> None:
    """SIGTERM, then SIGKILL if the process is still there after ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wait_until_answering(
    process: subprocess.Popen[bytes],
    url: str,
    *,
    timeout: float,
    what: str,
    output: Callable[[], str],
    interval: float = 0.05,
) -> None:
    """Return once ``url`` answers 200, asked every ``interval`` seconds (a refused
    connection costs ~1 ms of CPU; a server is used ~0.1 s sooner than when asked every
    0.2 s); a bounded wait (``timeout`` seconds). Raises RuntimeError, with ``output()``
    (the process's last words), if ``process`` exits first, or if the time runs out."""
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0, verify=tls_context()) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{what} exited with {process.returncode}: {output()}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{what} did not answer within {timeout:g} s")
            time.sleep(interval)


def live_children(parent: int) -> list[int]:
    """The processes whose parent is ``parent`` and that are not zombies (Linux /proc)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            state, ppid = stat.read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue  # ended meanwhile
        if int(ppid) == parent and state != "Z":
            children.append(int(stat.parent.name))
    return children


def files_of(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file below ``directory``: (size, modification time in ns), to show that
    nothing in it was written."""
    return {
        str(p.relative_to(directory)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


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
        wait_until_answering(
            process,
            base + "/query?query=ASK%7B%7D",
            timeout=START_TIMEOUT,
            what="oxigraph server",
            output=lambda: process.stderr.read().decode() if process.stderr else "",
        )
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


# ---------------------------------------------------------------- Virtuoso
# Debian's Virtuoso (``virtuoso-opensource`` 7) for the tests: its own temporary directory
# and ``virtuoso.ini``, HTTP and ISQL ports on 127.0.0.1 (free ports), small buffers, a
# query memory cap and an address-space cap (util-linux prlimit), a bounded start-up wait,
# then ``GRANT SPARQL_UPDATE TO "SPARQL"`` through ``isql-vt`` so that the Graph Store
# endpoint (``/sparql-graph-crud``) accepts writes; stopped by PID (SIGTERM, then
# SIGKILL). Without ``virtuoso-t``/``isql-vt`` the tests that need it are skipped, unless
# ``KHALIS_KG_REQUIRE_VIRTUOSO=1`` (set by ``.ci/run``), which makes that a failure.

VIRTUOSO_DATA_GRAPH = "https://w3id.org/khalis-kg/test/data"
"""The packaged data alone, in the Virtuoso of the session."""
VIRTUOSO_FULL_GRAPH = "https://w3id.org/khalis-kg/test/data-and-ontology"
"""The packaged data and ontology, in the Virtuoso of the session."""

VIRTUOSO_START_TIMEOUT = 120.0
VIRTUOSO_MEMORY_CAP = 3 * 1024**3
"""Address-space limit of the Virtuoso process (bytes)."""

VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
MaxQueryMem = 500M
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {dir}
MaxClientConnections = 10
ServerThreads = 10
MaxKeepAlives = 10
KeepAliveTimeout = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryExecutionTime = 120
MaxQueryCostEstimationTime = 0
"""


def virtuoso_binaries() -> tuple[str, str] | None:
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt")
    return (server, isql) if server and isql else None


@dataclass
class VirtuosoServer:
    base: str
    process: subprocess.Popen[bytes]
    isql_port: int
    directory: Path
    http: httpx.Client = field(default_factory=httpx.Client, repr=False)
    """For the tests' own checks, kept open: a new client per request costs ~0.08 s (its TLS
    context is built each time), this one ~0.01 s a check."""

    @property
    def query_url(self) -> str:
        return self.base + "/sparql"

    @property
    def store_url(self) -> str:
        return self.base + "/sparql-graph-crud"

    def backend(self, graph: str, timeout: float = 30.0) -> RemoteBackend:
        return RemoteBackend(
            self.query_url, store_url=self.store_url, timeout=timeout, env={}, graph=graph
        )

    def graph_sizes(self) -> dict[str, int]:
        """Every graph this Virtuoso holds (its own system graphs too) -> its triple count."""
        answer = self.http.post(
            self.query_url,
            data={"query": "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
            headers={"Accept": "application/sparql-results+json"},
            timeout=30.0,
        )
        answer.raise_for_status()
        rows = answer.json()["results"]["bindings"]
        return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}

    def isql(self, statement: str, timeout: float = 60.0) -> str:
        found = virtuoso_binaries()
        assert found
        done = subprocess.run(
            [found[1], f"127.0.0.1:{self.isql_port}", "dba", "dba", f"exec={statement}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0 or "Error" in done.stdout:
            raise RuntimeError(f"isql-vt {statement!r}: {done.stdout}{done.stderr}")
        return done.stdout

    def restart(self) -> None:
        """A checkpoint, then stop this Virtuoso and start it again on the same directory
        and ports (the data stays). After a large load through the Graph Store protocol
        Virtuoso 7 can keep planning with a stale estimate of the graph's size until it
        restarts (docs/scaling.md); the 1M benchmark restarts it after loading."""
        self.isql("checkpoint;", timeout=600)
        stop_process(self.process, grace=60)
        self.process = _start_virtuoso(self.directory, self.base)


def _start_virtuoso(directory: Path, base: str) -> subprocess.Popen[bytes]:
    """``virtuoso-t`` on ``directory``'s ``virtuoso.ini``, memory-capped, once it answers
    at ``base`` (a bounded wait); its output is appended to ``stdout.log``."""
    found = virtuoso_binaries()
    assert found
    # A hard memory cap and no core file, through util-linux's prlimit (no preexec_fn:
    # the test process may have threads).
    capped = (
        ["prlimit", f"--as={VIRTUOSO_MEMORY_CAP}", "--core=0"] if shutil.which("prlimit") else []
    )
    with (directory / "stdout.log").open("ab") as log:
        process = subprocess.Popen(
            [*capped, found[0], "+foreground", "+configfile", str(directory / "virtuoso.ini")],
            cwd=directory,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until_answering(
            process,
            base + "/sparql?query=ASK%7B%7D",
            timeout=VIRTUOSO_START_TIMEOUT,
            what="Virtuoso",
            output=lambda: (directory / "stdout.log").read_text(errors="replace")[-2000:],
            interval=0.2,  # it takes seconds to start
        )
        return process
    except BaseException:
        stop_process(process, grace=20)
        raise


@contextmanager
def running_virtuoso(directory: Path, *, buffers: int = 10_000) -> Iterator[VirtuosoServer]:
    """A Virtuoso on free 127.0.0.1 ports in ``directory``, stopped on exit."""
    found = virtuoso_binaries()
    if found is None:
        if os.environ.get("KHALIS_KG_REQUIRE_VIRTUOSO") == "1":
            pytest.fail("virtuoso-t / isql-vt not found (apt-get install virtuoso-opensource)")
        pytest.skip("Virtuoso is not installed (Debian: apt-get install virtuoso-opensource)")
    http_port, isql_port = free_port(), free_port()
    (directory / "virtuoso.ini").write_text(
        VIRTUOSO_INI.format(
            dir=directory,
            http_port=http_port,
            isql_port=isql_port,
            buffers=buffers,
            dirty=buffers * 3 // 4,
        )
    )
    base = f"http://127.0.0.1:{http_port}"
    server = VirtuosoServer(base, _start_virtuoso(directory, base), isql_port, directory)
    try:
        server.isql('GRANT SPARQL_UPDATE TO "SPARQL";')
        yield server
    finally:
        server.http.close()
        stop_process(server.process, grace=20)


# ------------------------------------------------------------- a loopback listener
@dataclass
class Listener:
    """A loopback HTTP listener for the no-outbound-request tests: records the first
    bytes of every connection it accepts (``hits``) and answers 500 at once."""

    sock: socket.socket
    hits: list[bytes] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/"

    def serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(0.5)
                try:
                    self.hits.append(conn.recv(300))
                    conn.sendall(
                        b"HTTP/1.1 500 No\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                except OSError:
                    self.hits.append(b"<no data>")

    def settle(self, seconds: float = 0.05) -> None:
        """Give a late connection (if any) time to be accepted. (The engines make their
        requests while the query runs and wait for the answer, so none is expected.)"""
        time.sleep(seconds)


@contextmanager
def listening(backlog: int = 64) -> Iterator[Listener]:
    """A :class:`Listener` on 127.0.0.1 for the duration of the block (bounded waits:
    its thread checks ``stop`` 20 times a second)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(backlog)
    sock.settimeout(0.05)
    server = Listener(sock)
    thread = threading.Thread(target=server.serve, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        thread.join(timeout=2.0)
        sock.close()

"""The isolated execution model: limits that hold, crashes that stay in the child,
errors that come back as themselves, and a child that can open nothing new."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import BACKENDS, TESTS, Invocation, invoke, live_children

from khalis_kg import isolation
from khalis_kg.errors import (
    EXIT_CODES,
    EngineCrashError,
    InputError,
    KhalisError,
    MemoryLimitError,
    ParameterError,
    QuerySyntaxError,
    RDFSyntaxError,
    TimeLimitError,
    UnknownQueryError,
)

SMALL = isolation.Limits(timeout=1.0, memory=512 * 1024**2)
CARTESIAN = "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def run_work(prepare, run, limits=SMALL):  # type: ignore[no-untyped-def]
    return isolation.run(isolation.Work(prepare, run, "the work"), limits)


def test_what_the_child_holds_once_prepared_is_frozen_for_the_collector() -> None:
    """The child freezes what it holds after ``prepare`` (the inherited heap and what was
    prepared, such as a loaded graph: it lives until the child exits), so a collection in
    ``run`` scans only what ``run`` allocates; the parent's collector is untouched."""
    import gc

    parent_frozen = gc.get_freeze_count()

    def prepare() -> list[object]:
        return [[] for _ in range(1000)]  # 1000 tracked objects made in the child

    def run(state: list[object]) -> tuple[int, bool, int]:
        fresh = [[] for _ in range(10)]  # made by the work: not frozen
        frozen = gc.get_freeze_count()
        tracked = {id(o) for o in gc.get_objects()}
        return frozen, any(id(o) in tracked for o in state), sum(id(o) in tracked for o in fresh)

    frozen, prepared_scanned, fresh_scanned = run_work(prepare, run)
    assert frozen >= parent_frozen + 1000  # what was prepared, and what was inherited
    assert prepared_scanned is False  # the prepared lists: frozen, no longer in a generation
    assert fresh_scanned == 10  # the work's own: scanned as usual
    assert gc.get_freeze_count() == parent_frozen


def test_answer_and_errors_come_back_as_themselves() -> None:
    assert run_work(lambda: 20, lambda s: s + 1) == 21

    def unknown(_: object) -> None:
        raise UnknownQueryError("casualty", ["casualties"])

    with pytest.raises(UnknownQueryError) as info:
        run_work(lambda: None, unknown)
    assert info.value.suggestions == ["casualties"]
    assert str(info.value) == "no packaged query named 'casualty'. Did you mean: casualties?"

    def syntax(_: object) -> None:
        raise QuerySyntaxError("bad", line=3, column=4)

    with pytest.raises(QuerySyntaxError) as where:
        run_work(lambda: None, syntax)
    assert (where.value.line, where.value.column) == (3, 4)


def test_time_limit_kills_whatever_the_child_does() -> None:
    for busy in (lambda _: time.sleep(30), lambda _: sum(iter(int, 1))):
        started = time.monotonic()
        with pytest.raises(TimeLimitError, match=r"stopped at the time limit \(1 s\)") as info:
            run_work(lambda: None, busy)
        assert 1.0 <= time.monotonic() - started < 1.6
        assert info.value.exit_code == 3


def test_memory_limit() -> None:
    with pytest.raises(MemoryLimitError, match=r"more memory than the limit \(512 MiB\)") as info:
        run_work(lambda: None, lambda _: bytearray(4 * 1024**3))
    assert info.value.exit_code == 4


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_memory_limit_is_headroom_above_a_large_host() -> None:
    """A host that already maps more than the limit (a notebook with a big store, a long
    test session) still leaves the work its limit: the cap is the size at the fork plus
    the limit, and it still stops work that needs more."""
    import mmap

    reserved = mmap.mmap(-1, 1024**3)  # 1 GiB of address space, twice SMALL's limit
    # SMALL's memory limit; time enough that a large, busy host's fork is never what ends
    # the work (the suite's workers are large: 1 s was reached at a load average of 10)
    limits = isolation.Limits(timeout=30.0, memory=SMALL.memory)
    try:

        def recurse(n: int) -> int:
            return recurse(n + 1)

        assert run_work(lambda: None, lambda _: len(bytearray(100 * 1024**2)), limits) == (
            100 * 1024**2
        )
        with pytest.raises(InputError, match="nested too deeply"):
            run_work(lambda: None, lambda _: recurse(0), limits)
        with pytest.raises(MemoryLimitError, match=r"more memory than the limit \(512 MiB\)"):
            run_work(lambda: None, lambda _: bytearray(1024**3), limits)
    finally:
        reserved.close()


def test_a_child_that_ends_while_preparing_is_classified_like_any_other() -> None:
    """``prepare`` failing at once (the memory limit, an abort, its own error): the
    child may end before it reads its task, which resets its channel under the parent
    (ECONNRESET on the send or the read); the end is still classified, never an
    OSError. Repeated, since which of the two comes first is a race."""

    def raises() -> None:
        raise InputError("no such file")

    for _ in range(5):
        with pytest.raises(MemoryLimitError):
            run_work(lambda: bytearray(4 * 1024**3), lambda _: None)
        with pytest.raises(EngineCrashError, match=r"crashed \(SIGABRT\)"):
            run_work(os.abort, lambda _: None)
        with pytest.raises(InputError, match="no such file"):
            run_work(raises, lambda _: None)


def test_crashes_are_named_not_blamed_on_memory() -> None:
    with pytest.raises(EngineCrashError, match=r"crashed \(SIGABRT\)") as info:
        run_work(lambda: None, lambda _: os.abort())
    assert info.value.exit_code == 5
    assert info.value.signal == "SIGABRT"
    with pytest.raises(EngineCrashError, match="segmentation fault"):
        run_work(lambda: None, lambda _: os.kill(os.getpid(), signal.SIGSEGV))
    with pytest.raises(EngineCrashError, match="internal error in the work: ZeroDivisionError"):
        run_work(lambda: None, lambda _: 1 / 0)

    def recurse(n: int) -> int:
        return recurse(n + 1)

    with pytest.raises(InputError, match="nested too deeply"):
        run_work(lambda: None, lambda _: recurse(0))


def _open_everything(secret: Path) -> list[str]:
    """Open a file, a socket, a pipe and /dev/null: each ``opened`` or its error."""
    outcomes = []
    for action in (
        lambda: open(secret, "rb"),  # noqa: SIM115
        lambda: socket.socket(),
        lambda: os.pipe(),
        lambda: os.open(os.devnull, os.O_RDONLY),
    ):
        try:
            action()
            outcomes.append("opened")
        except OSError as exc:
            outcomes.append(os.strerror(exc.errno or 0))
    return outcomes


def test_locked_child_opens_no_file_and_no_socket(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("x", "utf-8")
    assert run_work(lambda: None, lambda _: _open_everything(secret)) == ["Too many open files"] * 4
    # Without the lock (the remote backend) the same child may open files.
    unlocked = isolation.Limits(timeout=5, lock_descriptors=False)
    assert run_work(lambda: None, lambda _: secret.read_text("utf-8"), unlocked) == "x"


def ask(worker: isolation.Worker, task: object) -> object:
    """Send ``task`` to ``worker`` and read its answer (EOFError when it ends)."""
    worker.channel.sendall(isolation.frame(task))
    header = worker.channel.recv(isolation.LENGTH.size, socket.MSG_WAITALL)
    if len(header) < isolation.LENGTH.size:
        raise EOFError
    size = isolation.LENGTH.unpack(header)[0]
    return isolation.unpickle(worker.channel.recv(size, socket.MSG_WAITALL))


@contextlib.contextmanager
def forked_worker(serve, limits, ready=lambda: None):  # type: ignore[no-untyped-def]
    worker = isolation.fork_worker(serve, limits, ready=ready)
    try:
        yield worker
    finally:
        worker.channel.close()
        os.close(worker.stderr)
        with contextlib.suppress(ProcessLookupError, ChildProcessError):
            os.kill(worker.pid, signal.SIGKILL)
            os.waitpid(worker.pid, 0)


def test_a_worker_is_the_same_child_answering_task_after_task() -> None:
    """:func:`isolation.fork_worker` (the server's query workers): the same set-up (the
    frozen heap), errors that come back as themselves, each task's memory headroom
    above what the worker holds, and the same classifier of how it ended."""
    import gc

    def serve(task: str) -> object:
        if task == "frozen":
            return gc.get_freeze_count() > 0
        if task == "error":
            raise UnknownQueryError("casualty", ["casualties"])
        if task == "fits":  # twice, so each task has its own headroom
            return len(bytearray(300 * 1024**2))
        return len(bytearray(600 * 1024**2))

    with forked_worker(serve, isolation.Limits(memory=512 * 1024**2)) as worker:
        answers = [ask(worker, task) for task in ("frozen", "fits", "fits")]
        assert answers == [True, 300 * 1024**2, 300 * 1024**2]
        with pytest.raises(UnknownQueryError):
            ask(worker, "error")
        with pytest.raises(EOFError):
            ask(worker, "too much")
        status = os.waitpid(worker.pid, 0)[1]
        error = isolation.classify(
            status, os.read(worker.stderr, 65536), "the query", 512 * 1024**2
        )
        assert isinstance(error, MemoryLimitError)
        assert str(error) == "the query needed more memory than the limit (512 MiB)"


def test_a_locked_worker_opens_no_file_and_no_socket(tmp_path: Path) -> None:
    """The server's query workers are locked as the command line's query children are
    (after ``ready``, which may open what the tasks need): no file, socket or pipe can
    be opened by any task; a worker that keeps its descriptors (an on-disk store's)
    still reads the file it held, and an unlocked one (the remote backend) opens."""
    secret = tmp_path / "secret"
    secret.write_text("x", "utf-8")
    held: list[int] = []

    def attempt(task: str) -> object:
        if task == "fits":  # the headroom is measured once locked too (/proc/self/statm)
            return len(bytearray(200 * 1024**2))
        if task == "held":
            os.lseek(held[0], 0, os.SEEK_SET)
            return os.read(held[0], 10).decode()
        return _open_everything(secret)

    def ready() -> None:
        held.append(os.open(secret, os.O_RDONLY))  # opened before the lock: kept

    memory = 256 * 1024**2
    for limits, expected in (
        (isolation.Limits(memory=memory), ["Too many open files"] * 4),
        (isolation.Limits(memory=memory, keep_descriptors=True), ["Too many open files"] * 4),
        (isolation.Limits(memory=memory, lock_descriptors=False), ["opened"] * 4),
    ):
        with forked_worker(attempt, limits, ready) as worker:
            assert ask(worker, "try") == expected
            assert ask(worker, "fits") == ask(worker, "fits") == 200 * 1024**2
            assert ask(worker, "try") == expected  # every task, not only the first
            if limits.keep_descriptors or not limits.lock_descriptors:
                assert ask(worker, "held") == "x"


def test_a_kill_from_outside_is_told_apart() -> None:
    """SIGKILL from outside (the out-of-memory killer, an operator): exit 5 on the command
    line as before, but a 503 from the server (no crash of a valid query: a retry can
    succeed), whether the worker was idle or busy when it came."""
    error = isolation.classify(signal.SIGKILL, b"", "the query", None)  # its wait status
    assert isinstance(error, EngineCrashError)
    assert str(error) == (
        "the query was killed (SIGKILL from outside, e.g. the system's out-of-memory killer)"
    )
    assert (error.exit_code, error.http_status, error.signal) == (5, 503, "SIGKILL")


def test_parse_size() -> None:
    assert isolation.parse_size("512M") == 512 * 1024**2
    assert isolation.parse_size("2G") == 2 * 1024**3
    assert isolation.parse_size("1.5GiB") == 3 * 1024**3 // 2
    assert isolation.parse_size("none") is None
    for bad in ("lots", "1M", "-3G"):
        with pytest.raises(ParameterError):
            isolation.parse_size(bad)


def test_exit_codes_are_documented_once() -> None:
    assert sorted(EXIT_CODES) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 130]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    for code in EXIT_CODES:
        assert f"| `{code}` |" in readme


# -- the command line --------------------------------------------------------------------


def one_line(result: Invocation, code: int, message: str) -> None:
    assert result.exit_code == code, result.output
    assert result.stderr == f"khalis-kg: error: {message}\n"
    assert result.stdout == ""


def test_cli_memory_limit() -> None:
    result = invoke(
        ["--memory-limit", "512M", "sparql", f"SELECT * WHERE {CARTESIAN} ORDER BY ?a ?i"]
    )
    one_line(result, 4, "the query needed more memory than the limit (512 MiB)")


def test_cli_engine_crashes_are_one_line(tmp_path: Path) -> None:
    # The packaged graph of an earlier version: pyoxigraph 0.5.13's ORDER BY panics on it
    # (docs/upstream.md); the data has changed since, the engine has not.
    fixture = Path(__file__).resolve().parent / "data" / "sort-panic"
    panic = invoke(
        [
            "--data",
            str(fixture / "data.ttl"),
            "--data",
            str(fixture / "ontology.ttl"),
            "sparql",
            "SELECT ?s ?o WHERE { ?s ?p ?o } ORDER BY ?o ?s",
        ]
    )
    one_line(
        panic,
        5,
        "the engine crashed in the query: Rust panic: user-provided comparison function "
        "does not correctly implement a total order",
    )
    # Deep nesting is refused before any parser sees it (the engine's parser would
    # overflow its stack); past the guard, a segfault is still one line (exit 5).
    deep = tmp_path / "deep.rq"
    deep.write_text("SELECT * WHERE { FILTER(" + "(" * 40000 + "1" + ")" * 40000 + ") }")
    # The query decision parses first and refuses what it cannot parse: the engine
    # (which would segfault on this) never sees it.
    one_line(
        invoke(["sparql", "-f", str(deep)]),
        2,
        "the query nests brackets more than 256 deep (line 1, column 279); refused before parsing",
    )


def test_cli_usage_errors() -> None:
    one_line(invoke(["sparql", "-"], input=""), 2, "empty query")
    one_line(invoke(["sparql", "-"], input="  \n# nothing\n"[:3]), 2, "empty query")
    bad = invoke(["--memory-limit", "lots", "stats"])
    assert bad.exit_code == 2
    assert "not a memory size" in bad.stderr


@pytest.mark.parametrize("where", [(), ("serve",)], ids=["global", "serve"])
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("lots", "not a memory size: 'lots' (write e.g. 512M, 2G, or none)"),
        ("400", "memory limit '400' is too small (at least 64M; a number without a unit is bytes)"),
        ("-1G", "memory limit '-1G' is too small"),
    ],
)
def test_one_memory_size_notation(where: tuple[str, ...], value: str, message: str) -> None:
    """The global --memory-limit and serve's take the same SIZE notation and refuse the
    same values with the same words (serve's was once a bare number of MiB). (A value
    that starts with ``-`` is given as ``--memory-limit=-1G``: ``--memory-limit -1G`` is
    read as a missing value, exit 2 too.)"""
    option = f"--memory-limit={value}"
    args = (option, "stats") if not where else ("serve", option)
    bad = invoke(args)
    assert bad.exit_code == 2, bad.stderr
    assert message in bad.stderr, bad.stderr
    spaced = invoke([*where, "--memory-limit", value, *(() if where else ("stats",))])
    assert (spaced.exit_code, spaced.stderr.count("\n")) == (2, 1), spaced.stderr


def _as_a_foreground_job() -> None:
    """SIGINT handled by default, as in a terminal's foreground job, whatever this test
    run inherited (a shell's background job starts with SIGINT ignored, and so would
    every process it starts)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _endless_query(output: int) -> subprocess.Popen[bytes]:
    """``khalis-kg sparql`` on a query that never ends (no time limit), in its own session
    (its process group: as a terminal's foreground job)."""
    script = Path(sys.executable).parent / "khalis-kg"
    return subprocess.Popen(
        [str(script), "sparql", f"SELECT (COUNT(*) AS ?n) WHERE {CARTESIAN}"],
        stdout=output,
        stderr=output,
        start_new_session=True,
        preexec_fn=_as_a_foreground_job,
    )


def test_ctrl_c_exits_130_without_aborted(tmp_path: Path) -> None:
    process = _endless_query(subprocess.PIPE)
    time.sleep(1.0)
    os.killpg(process.pid, signal.SIGINT)  # as a terminal does: the whole group
    try:
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130
    assert err == b"khalis-kg: error: interrupted\n"
    assert out == b""


AT_THE_FORK = r"""
import json, os, signal, sys, time
sys.path.insert(0, sys.argv[1])
from helpers import live_children
from khalis_kg import isolation

moment = []

def interrupt(where):
    if where in moment:
        os.kill(os.getpid(), signal.SIGINT)

os.register_at_fork(
    before=lambda: interrupt("before the fork"),
    after_in_parent=lambda: interrupt("in the parent, just after the fork"),
    after_in_child=lambda: interrupt("in the child, just after the fork"),
)

def forever(_):
    while True:
        time.sleep(0.01)

outcomes = {}
for where in sys.argv[2:]:
    moment[:] = [where]
    try:
        isolation.run(isolation.Work(lambda: None, forever), isolation.Limits(timeout=0.5))
        outcome = "answered"
    except BaseException as exc:
        outcome = type(exc).__name__
    moment.clear()
    left = live_children(os.getpid())
    for pid in left:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    outcomes[where] = [outcome, len(left)]
print(json.dumps(outcomes))
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc (Linux)")
def test_ctrl_c_at_the_fork_leaves_no_child_running() -> None:
    """Ctrl-C at the moment of the fork, sent by fork hooks (so, deterministic), in the
    main thread of a fresh process as the command line meets it: the interrupted parent
    kills its child; a child interrupted before it ignores SIGINT leaves the decision
    to its parent (here, the time limit). No child is left running."""
    moments = [
        "before the fork",
        "in the parent, just after the fork",
        "in the child, just after the fork",
    ]
    done = subprocess.run(
        [sys.executable, "-c", AT_THE_FORK, str(TESTS), *moments],
        preexec_fn=_as_a_foreground_job,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == {
        "before the fork": ["KeyboardInterrupt", 0],
        "in the parent, just after the fork": ["KeyboardInterrupt", 0],
        "in the child, just after the fork": ["TimeLimitError", 0],
    }, done.stderr


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_parent_killed_outright_takes_its_child_with_it() -> None:
    process = _endless_query(subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        while not (children := live_children(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(children) == 1, "the command line forked no child"
        process.kill()  # SIGKILL: the parent cannot stop its child itself
        process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while Path(f"/proc/{children[0]}").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not Path(f"/proc/{children[0]}").exists(), "the child outlived its parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


def test_khalis_error_pickles_with_its_attributes() -> None:
    import pickle

    error = EngineCrashError("boom", signal="SIGSEGV")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is EngineCrashError
    assert (str(copy), copy.signal, copy.exit_code) == ("boom", "SIGSEGV", 5)
    assert isinstance(pickle.loads(pickle.dumps(KhalisError("x"))), KhalisError)
    # whatever the constructor takes, and attributes and args set after it (a worker's
    # refusal carries its own HTTP status; the server's start-up rewrites the message)
    unknown = UnknownQueryError("casualtees", ["casualties"])
    unknown.args = ("cannot load the knowledge graph: " + str(unknown),)
    refused = KhalisError("not acceptable")
    refused.http_status = 406
    for error in (unknown, refused, RDFSyntaxError("bad", source="a.ttl", line=3)):
        copy = pickle.loads(pickle.dumps(error))
        assert (type(copy), copy.args, vars(copy)) == (type(error), error.args, vars(error))


# -- the Python API ----------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_api_isolated_calls_stop_and_leave_the_host_alive(backend: str) -> None:
    from khalis_kg import KnowledgeGraph

    with KnowledgeGraph.load(backend=backend) as kg:
        fatalities = kg.query("event-summary", isolated=True).rows[0]["fatalities"].value
        assert fatalities == "62"
        started = time.monotonic()
        with pytest.raises(TimeLimitError):
            kg.sparql(f"SELECT (COUNT(*) AS ?n) WHERE {CARTESIAN}", isolated=True, timeout=0.5)
        assert time.monotonic() - started < 1.2
        deep = "SELECT * WHERE { FILTER(" + "(" * 40000 + "1" + ")" * 40000 + ") }"
        with pytest.raises((EngineCrashError, QuerySyntaxError)):
            kg.sparql(deep, isolated=True)
        # The host process is still here and the graph still answers.
        assert len(kg.sparql("SELECT * WHERE { ?s ?p ?o } LIMIT 3", isolated=True)) == 3
        assert kg.validate(isolated=True, timeout=60).conforms


def test_api_validate_timeout_needs_isolation(kg) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match="needs isolated=True"):
        kg.validate(timeout=1)


def test_api_isolated_on_disk_store(tmp_path: Path) -> None:
    from khalis_kg import KnowledgeGraph

    store = tmp_path / "store"
    with KnowledgeGraph.build_store(store) as kg:
        count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
        expected = kg.sparql(count).rows
        # Right after the bulk load RocksDB may be compacting in its own threads: the
        # child reads through a fresh read-only handle, never the parent's (a time
        # limit here turns a regression into a failure instead of a hang).
        for _ in range(5):
            assert kg.sparql(count, isolated=True, timeout=30).rows == expected
        with pytest.raises(TimeLimitError):
            kg.sparql(f"SELECT (COUNT(*) AS ?n) WHERE {CARTESIAN}", isolated=True, timeout=0.5)
        assert kg.sparql(count).rows == expected  # the parent's store is unharmed


def test_isolated_reads_see_what_was_loaded_since(tmp_path: Path) -> None:
    """The checkpoint an isolated child reads is made again after a load into the store:
    a child never answers from the store as it was."""
    from khalis_kg import KnowledgeGraph
    from khalis_kg.rdfio import Source

    extra = tmp_path / "extra.ttl"
    extra.write_text('<http://example.org/a> <http://example.org/b> "c" .\n', "utf-8")
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    with KnowledgeGraph.build_store(tmp_path / "store") as kg:
        before = int(kg.sparql(count, isolated=True, timeout=30).rows[0]["n"].value)
        kg.backend.load([Source.from_path(extra)])
        assert int(kg.sparql(count).rows[0]["n"].value) == before + 1
        assert int(kg.sparql(count, isolated=True, timeout=30).rows[0]["n"].value) == before + 1
    assert not list(tmp_path.glob(".store.view-*"))


# -- stores and parameters -----------------------------------------------------------------


def test_store_refuses_an_ordinary_directory(tmp_path: Path) -> None:
    from khalis_kg import KnowledgeGraph
    from khalis_kg.errors import BackendError

    (tmp_path / "notes.txt").write_text("mine", "utf-8")
    with pytest.raises(BackendError, match="not an Oxigraph store; refused"):
        KnowledgeGraph.build_store(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


OPEN_STORE = """
import sys
from khalis_kg import KnowledgeGraph
from khalis_kg.errors import KhalisError
try:
    with KnowledgeGraph.build_store(sys.argv[1]) as kg:
        print(len(kg))
except KhalisError as exc:  # the store's lock: one process at a time
    print(type(exc).__name__)
"""


def test_processes_creating_the_same_store_do_not_race_into_raw_errors(tmp_path: Path) -> None:
    store = str(tmp_path / "store")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_STORE, store],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    answers = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert err == ""
        answers.append(out.strip())
    counts = {a for a in answers if a != "BackendError"}
    assert len(counts) == 1, answers  # the store built once, the same for every reader
    assert counts.pop().isdigit()


def test_integer_parameters_past_64_bits_are_refused_on_every_backend() -> None:
    from khalis_kg.catalogue import Catalogue

    catalogue = Catalogue.load(Path(__file__).resolve().parent / "data" / "queries")
    info = catalogue.get("event-quantities")
    for value in ("99999999999999999999999999999999", "-99999999999999999999999999999999"):
        with pytest.raises(ParameterError, match="must be an integer from"):
            info.bind({"minimum": value})
    assert info.bind({"minimum": str(2**63 - 1)})["minimum"].value == str(2**63 - 1)


def test_service_reaches_nothing_even_if_the_safety_check_were_bypassed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Defence in depth: with the parse-based refusal switched off, the engine would
    send SERVICE over HTTP; the locked child cannot open the socket."""
    import khalis_kg.api as api
    from khalis_kg.safety import ReadOnlyQuery

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]

    def no_decision(text: str, base: str | None, held: object) -> ReadOnlyQuery:
        return ReadOnlyQuery(text=text, form="select", base=base)  # admitted unread

    monkeypatch.setattr(api, "admit", no_decision)
    query = f"PREFIX : <http://127.0.0.1:{port}/> SELECT * WHERE {{ SERVICE :x {{ ?s ?p ?o }} }}"
    result = invoke(["--timeout", "5", "sparql", query])
    hits = 0
    try:
        while True:
            connection, _ = listener.accept()
            connection.close()
            hits += 1
    except (TimeoutError, OSError):
        pass
    finally:
        listener.close()
    assert hits == 0
    assert result.exit_code == 2
    assert result.stderr.startswith("khalis-kg: error: ")
    assert result.stderr.count("\n") == 1

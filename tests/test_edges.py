"""Every boundary typed, proven on classes of inputs (Hypothesis, derandomized).

(a) every option and argument of every verb, driven with hostile values (infinities, NaN,
huge, negative, empty, control characters, bytes that are not UTF-8, very long): the exit
code is one the documentation gives, stderr is at most one line, never a traceback;
(b) the API's checks: a KhalisError, never a builtin exception;
(c) every verb writing to a full device and to a closed pipe: exit 7, at most one line;
and the terminal: escape sequences in data are shown escaped in tables and error lines,
while the machine formats carry them byte-exact.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
from helpers import invoke
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from khalis_kg import KnowledgeGraph, api, checks, cli
from khalis_kg.catalogue import MAX_NAME, Catalogue, is_query_name
from khalis_kg.cli import main, parser, verb_parser
from khalis_kg.errors import (
    EXIT_CODES,
    InputError,
    OutputError,
    ParameterError,
    RDFSyntaxError,
    TimeLimitError,
    UnknownQueryError,
    WriteError,
    one_line,
    printable,
)
from khalis_kg.files import output_directory, write_output
from khalis_kg.nesting import MAX_INPUT_NESTING, check_input_nesting
from khalis_kg.terms import is_absolute_iri

EXAMPLES = int(os.environ.get("KHALIS_KG_EXAMPLES", "25"))
"""Examples a class (25 in the suite; the note's counts were run with more)."""
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ARTICLE = Path(__file__).resolve().parents[1] / "data/source/2015_Al_Khalis_prison_break.txt"

TINY = (
    "@prefix e: <http://example.org/> .\n"
    'e:s e:p "a \\u001B]0;title\\u0007 b \\u001B[2J c \\u009B d" ; e:q e:o .\n'
)
"""A tiny graph whose one literal holds an OSC 0 (window title), a CSI (clear screen) and
a C1 CSI: the verbs' real work stays cheap, and the terminal class has its sample."""

HOSTILE_WORDS = [
    "inf", "-inf", "+inf", "Infinity", "nan", "NaN", "-nan", "1e400", "-1e400", "1e-400",
    "-1", "0", "-0", "0.0", "1e308", "99999999999T", "9" * 40, "-3", "99999", "65536",
    "", " ", "\t", "\x00", "a\x00b", "\x1b]0;pwned\x07", "\x1b]52;c;aGk=\x07", "\x1b[2J",
    "\x9b31m", "\x7f", "\r\n", "http://[::1", "http://x/\r\nX-Injected: 1", "http://x:99999/",
    "ftp://x/", "http:///nohost", "http://x/\udcff", "\udcff\udcfe", "\ud800", "-", "--help",
    "x" * 300, "é" * 200, "1_000", "0x10", "١٢", "none", "2G", "63M", "1P", "1.1P",
]  # fmt: skip
"""Members of each hostile class written out (the strategies below draw more)."""

hostile = st.one_of(
    st.sampled_from(HOSTILE_WORDS),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),  # control characters and all of Unicode
    st.binary(max_size=24).map(os.fsdecode),  # bytes that are not UTF-8: surrogateescape
    st.text(alphabet="ab/.-", min_size=250, max_size=400),  # very long
)

DOCUMENTED = {0, 1, 2, 3, 4, 6, 7}
"""The codes an argument may end in: 5 (our engine crashed) is never right for one."""


CLI = parser()
VERBS = {name: verb_parser(name) for name in cli.VERBS}


def _value_params(command: Any) -> list[argparse.Action]:
    """The options that take a value, and the arguments (flags take none)."""
    return [a for a in command.arguments if a.nargs != 0 and a.dest not in ("command", "args")]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("edges") / "tiny.ttl"
    path.write_text(TINY, encoding="utf-8")
    return path


@pytest.fixture
def docs_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    """The documentation generator (pyLODE, seconds) gives one small file instead."""
    monkeypatch.setattr(
        api.KnowledgeGraph, "ontology_docs", staticmethod(lambda *a: {"a.html": b"x"})
    )


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, docs_stub: None) -> Path:
    """No connection leaves (children are forked: they inherit it), the docs generator
    is stubbed, and serve does nothing but check its options; the current directory is
    a fresh one (hostile -o names land there)."""

    def refuse(self: socket.socket, address: Any) -> None:
        raise ConnectionRefusedError(111, "refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    import khalis_kg.server as server

    monkeypatch.setattr(server, "serve", lambda *a, **kw: None)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _base(verb: str, tiny: Path) -> list[str]:
    """A cheap invocation of ``verb`` that succeeds (what a hostile value is put into)."""
    return {
        "query": ["query", "event-summary"],
        "sparql": ["sparql", "SELECT * { ?s ?p ?o }"],
        "export": ["export", "--format", "nt"],
        "validate": ["validate", str(tiny)],
        "docs": ["docs", "-o", "docs-out"],
        "load": ["load", "--graph-store", "http://127.0.0.1:9/store", str(tiny)],
    }.get(verb, [verb])


def _argv(verb: str, param: argparse.Action, value: str, tiny: Path) -> list[str]:
    """``verb``'s base invocation with ``param`` set to ``value`` (the group's own
    options go before the verb; an argument replaces the base's)."""
    group = verb == ""
    base = ["--data", str(tiny)] if verb not in ("docs", "load", "serve", "") else []
    verb_args = _base(verb or "stats", tiny)
    if not param.option_strings:  # an argument
        keep = [a for a in verb_args[1:] if a.startswith("-")] if param.nargs != "*" else []
        keep = verb_args[1:3] if verb == "load" else keep
        return [*base, verb_args[0], *keep, "--", value]
    option = param.option_strings[-1]
    if group:
        return [option, value, *(["--data", str(tiny)] if option != "--data" else []), *verb_args]
    return [*base, *verb_args, option, value]


def _check(result: Any, argv: list[str]) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        argv,
        repr(result.exception),
    )
    assert result.exit_code in DOCUMENTED, (argv, result.exit_code, result.output)
    stderr = result.stderr
    assert "Traceback" not in stderr, (argv, stderr)
    assert "Traceback" not in result.stdout, (argv, result.stdout)
    assert stderr.count("\n") <= 1, (argv, stderr)
    if stderr:
        assert stderr.startswith("khalis-kg: "), (argv, stderr)
        assert stderr.endswith("\n"), (argv, stderr)
        assert printable(stderr[:-1]) == stderr[:-1], (argv, stderr)  # nothing raw


def _targets() -> list[tuple[str, argparse.Action]]:
    targets: list[tuple[str, argparse.Action]] = [("", p) for p in _value_params(CLI)]
    for name, command in sorted(VERBS.items()):
        targets += [(name, p) for p in _value_params(command)]
    return targets


TARGETS = _targets()


def test_the_targets_are_every_option_of_every_verb() -> None:
    verbs = {verb for verb, _ in TARGETS}
    assert verbs == {"", *VERBS}
    names = {(verb, p.dest) for verb, p in TARGETS}
    # a sample of each kind: numbers, sizes, URLs, paths, names, ports
    for expected in [
        ("", "time_limit"), ("", "memory_limit"), ("", "remote_timeout"), ("", "endpoint"),
        ("serve", "port"), ("serve", "time_limit"), ("sparql", "time_limit"), ("query", "name"),
        ("query", "params"), ("docs", "directory"), ("load", "request_timeout"),
        ("query", "width"), ("serve", "memory_limit"), ("serve", "named_graphs"),
    ]:  # fmt: skip
        assert expected in names


@pytest.mark.parametrize("verb", sorted({v for v, _ in TARGETS}), ids=lambda v: v or "group")
def test_hostile_values_end_in_one_line_and_a_documented_code(
    verb: str, tiny: Path, offline: Path
) -> None:
    params = [p for v, p in TARGETS if v == verb]

    @PROPERTY
    @given(param=st.sampled_from(params), value=hostile)
    def attempt(param: argparse.Action, value: str) -> None:
        argv = _argv(verb, param, value, tiny)
        _check(invoke(argv, env={"COLUMNS": "100"}), argv)

    attempt()


@pytest.mark.parametrize(
    ("argv", "code", "says"),
    [
        (["--timeout", "inf", "queries"], 2, "at most 86400 seconds, got inf"),
        (["--timeout", "nan", "queries"], 2, "got nan"),
        (["--timeout", "1e400", "queries"], 2, "got inf"),
        (["--timeout", "-1", "queries"], 2, "more than 0"),
        (["--timeout", "0", "queries"], 2, "more than 0"),
        (["--memory-limit", "nan", "queries"], 2, "not a size from 64M to 1P"),
        (["--memory-limit", "99999999999T", "queries"], 2, "not a size from 64M to 1P"),
        (["--memory-limit", "-1", "queries"], 2, "too small"),
        (["--remote-timeout", "inf", "queries"], 2, "got inf"),
        (["--endpoint", "http://[::1", "queries"], 2, "is not a URL (Invalid IPv6 URL)"),
        (["--endpoint", "http://x/\r\nA: b", "queries"], 2, "is not a URL ('\\r' in it)"),
        (["serve", "--port", "99999"], 2, "99999 is not in the range 1<=x<=65535"),
        (["serve", "--port", "-3"], 2, "-3 is not in the range 1<=x<=65535"),
        (["serve", "--port", "0"], 2, "0 is not in the range 1<=x<=65535"),
        (["query", "a" * 300], 2, "no packaged query named 'aaaaaaaaaaaa"),
        (["query", "event-summary", "-p", "event=http://x/\udcff"], 2, "must be an absolute IRI"),
    ],
)
def test_the_measured_members(argv: list[str], code: int, says: str, offline: Path) -> None:
    result = invoke(argv)
    assert result.exit_code == code, result.output
    assert says in result.stderr
    _check(result, argv)


@settings(PROPERTY, max_examples=10)
@given(columns=hostile.filter(lambda v: "\x00" not in v))  # no environment holds a NUL
def test_columns_from_the_environment(tiny: Path, columns: str) -> None:
    argv = ["--data", str(tiny), "sparql", "ASK {}"]
    result = invoke(argv, env={"COLUMNS": columns})
    _check(result, ["COLUMNS", columns])
    assert result.exit_code == 0


def test_a_bad_variable_is_named(offline: Path) -> None:
    result = invoke(
        ["--backend", "remote", "queries"], env={"KHALIS_KG_ENDPOINT": "http://x/\udcff"}
    )
    assert result.exit_code == 2
    assert "the environment variable KHALIS_KG_ENDPOINT" in result.stderr
    _check(result, ["KHALIS_KG_ENDPOINT"])


# -- (b) the API: typed errors only ------------------------------------------------------


numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.text(max_size=5),
    st.booleans(),
    st.none(),
)


def _sane_seconds(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= checks.MAX_SECONDS
    )


@PROPERTY
@given(value=numbers)
def test_checks_accept_exactly_finite_bounded_numbers(value: object) -> None:
    if _sane_seconds(value):
        assert checks.seconds(value, "t") == float(value)  # type: ignore[arg-type]
    else:
        with pytest.raises(ParameterError, match=r"^t must be"):
            checks.seconds(value, "t")


@PROPERTY
@given(timeout=numbers, max_rows=numbers)
def test_sparql_limits_are_typed(kg: KnowledgeGraph, timeout: object, max_rows: object) -> None:
    sane_timeout = timeout is None or _sane_seconds(timeout)
    sane_rows = max_rows is None or (
        isinstance(max_rows, int) and not isinstance(max_rows, bool) and 1 <= max_rows < 2**63
    )
    if not (sane_timeout and sane_rows):
        with pytest.raises(ParameterError) as caught:
            kg.sparql("ASK {}", timeout=timeout, max_rows=max_rows)  # type: ignore[arg-type]
        assert "\n" not in str(caught.value)
        return
    try:
        result = kg.sparql("ASK {}", timeout=timeout, max_rows=max_rows)  # type: ignore[arg-type]
    except TimeLimitError:  # a time limit of a few nanoseconds, that passed
        assert isinstance(timeout, float)
        assert timeout < 1e-3
    else:
        assert result.boolean is True


def test_the_measured_api_members(kg: KnowledgeGraph, tmp_path: Path) -> None:
    a_file = tmp_path / "f"
    a_file.write_text("x")
    with pytest.raises(InputError, match="not a directory; an on-disk store is a directory"):
        KnowledgeGraph.build_store(a_file)
    with pytest.raises(InputError, match="has a NUL character"):
        KnowledgeGraph.load(["a\x00b.ttl"])
    with pytest.raises(InputError, match="has a NUL character"):
        KnowledgeGraph.build_store("a\x00b")
    with pytest.raises(InputError, match=r"cannot be a file name \(not encodable\)"):
        KnowledgeGraph.load(["\ud800.ttl"])  # a lone surrogate: no file name gives it
    with pytest.raises(OutputError, match=r"cannot be a file name \(not encodable\)"):
        write_output("\ud800", b"x")
    with pytest.raises(ParameterError, match="expected a str or a Path, got int"):
        KnowledgeGraph.load([5])  # type: ignore[list-item]
    with pytest.raises(ParameterError, match="timeout must be more than 0"):
        kg.sparql("ASK {}", timeout=float("inf"), isolated=True)
    with pytest.raises(ParameterError, match="max_rows must be an integer, got '5'"):
        kg.sparql("ASK {}", max_rows="5")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="memory_limit must be from"):
        kg.sparql("ASK {}", memory_limit=-5, isolated=True)
    with pytest.raises(UnknownQueryError):
        kg.query("a" * 300)
    with pytest.raises(UnknownQueryError):
        kg.query(5)  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="must be an absolute IRI"):
        kg.query("event-summary", event="http://x/\udcff")


iri_like = st.one_of(
    st.text(max_size=20).map(lambda t: "http://x/" + t),
    st.text(max_size=12).map(lambda t: t + ":" + t),
    st.binary(max_size=12).map(lambda b: "http://x/" + os.fsdecode(b)),
    st.text(max_size=20),
)


@PROPERTY
@given(text=iri_like)
def test_an_iri_is_accepted_exactly_when_the_engine_accepts_it(text: str) -> None:
    try:
        ox.NamedNode(text)
        engine = True
    except (ValueError, UnicodeError):
        engine = False
    assert is_absolute_iri(text) == engine


PACKAGED = frozenset(Catalogue.load().names())


@PROPERTY
@given(name=st.one_of(st.text(max_size=MAX_NAME + 50), st.sampled_from(["..", "a..b", "a" * 101])))
def test_query_names_follow_the_rule_before_any_file(name: str) -> None:
    if not is_query_name(name):
        assert name not in PACKAGED
    if name in PACKAGED:
        assert Catalogue.open().get(name).name == name
    else:
        with pytest.raises(UnknownQueryError) as caught:
            Catalogue.open().get(name)
        assert "\n" not in str(caught.value)


# -- outputs -----------------------------------------------------------------------------


def test_docs_directory_follows_the_file_rules(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(tmp_path)
    sock_path = tmp_path / "sock"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    try:
        for target, error, says in [
            (fifo, OutputError, "is a FIFO (named pipe), not a directory; refused"),
            (Path("/dev/null"), OutputError, "is a character device, not a directory"),
            (sock_path, OutputError, "is a socket, not a directory"),
            (Path("/dev/full/x"), OutputError, "a parent of it is not a directory"),
            (Path("/proc/self/x"), WriteError, "cannot create the directory"),
            (tmp_path / ("n" * 300), OutputError, "cannot write (File name too long)"),
            (link, OutputError, "is a symbolic link; not followed"),
        ]:
            with pytest.raises(error, match=r".*") as caught:
                output_directory(target)
            assert says in str(caught.value)
            assert type(caught.value) is error
    finally:
        sock.close()
    made = output_directory(tmp_path / "a" / "b")
    assert made.is_dir()
    assert output_directory(made) == made


def test_a_link_to_a_device_is_written_in_place(tmp_path: Path) -> None:
    link = tmp_path / "null"
    link.symlink_to("/dev/null")
    write_output(link, b"x")
    assert link.is_symlink()
    full = tmp_path / "full"
    full.symlink_to("/dev/full")
    with pytest.raises(WriteError, match="No space left on device"):
        write_output(full, b"x")
    to_file = tmp_path / "to-file"
    (tmp_path / "file").write_bytes(b"kept")
    to_file.symlink_to(tmp_path / "file")
    with pytest.raises(OutputError, match="is a symbolic link; not followed"):
        write_output(to_file, b"x")
    assert (tmp_path / "file").read_bytes() == b"kept"


def test_export_to_dev_stdout(tiny: Path) -> None:
    done = subprocess.run(
        [_script(), "--data", str(tiny), "export", "--format", "nt", "-o", "/dev/stdout"],
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, b"")
    assert done.stdout.count(b"\n") == 2


def _script() -> str:
    return str(Path(sys.executable).parent / "khalis-kg")


class _Store(BaseHTTPRequestHandler):
    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def store_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Store)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/store"
    server.shutdown()
    server.server_close()


def _every_verb(tiny: Path, store: str, tmp: Path) -> dict[str, list[str]]:
    data = ["--data", str(tiny)]
    return {
        "docs": ["docs", "-o", str(tmp / "docs")],
        "export": [*data, "export", "--format", "nt"],
        "load": ["load", "--graph-store", store, str(tiny)],
        "queries": ["queries"],
        "query": [*data, "query", "event-summary"],
        "sparql": [*data, "sparql", "SELECT * { ?s ?p ?o }"],
        "stats": [*data, "stats"],
        "validate": ["validate", str(tiny)],
        "diagram": ["diagram"],
        "check-source": ["check-source", str(ARTICLE)],
    }


def test_the_output_class_covers_every_verb(tiny: Path, tmp_path: Path) -> None:
    # serve writes no result to stdout (its answers go to sockets): left out
    verbs = set(_every_verb(tiny, "", tmp_path))
    assert verbs == set(VERBS) - {"serve"}


def _forked(argv: list[str], stdout: int) -> tuple[int, bytes]:
    """``khalis-kg argv`` in a forked copy of this process, its standard output the
    descriptor ``stdout`` and its standard error a pipe: (exit code, what stderr got).
    Cheaper than a new interpreter; the streams are built as the interpreter builds them."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 99
        try:
            os.dup2(stdout, 1)
            os.dup2(write, 2)
            sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)))
            sys.stderr = io.TextIOWrapper(
                io.FileIO(2, "w", closefd=False), errors="backslashreplace", write_through=True
            )
            code = main(argv)
            sys.stdout.flush()
        except BaseException:
            code = 98
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as err:
        said = err.read()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), said


@pytest.mark.parametrize("device", ["full", "closed-pipe"])
def test_every_verb_on_a_failing_output(
    device: str, tiny: Path, store_url: str, tmp_path: Path, docs_stub: None
) -> None:
    """The class of failing outputs, each verb once: a full device ends in one line and
    exit 7; a closed pipe in exit 7 and silence (the reader went away, as ``| head``)."""
    for verb, argv in _every_verb(tiny, store_url, tmp_path).items():
        if device == "full":
            with open("/dev/full", "wb") as out:
                code, said = _forked(argv, out.fileno())
            assert (code, said) == (
                7,
                b"khalis-kg: error: cannot write the output (No space left on device)\n",
            ), verb
        else:
            read, write = os.pipe()
            os.close(read)
            try:
                code, said = _forked(argv, write)
            finally:
                os.close(write)
            assert (code, said) == (7, b""), verb


@pytest.mark.parametrize("argv", [["export", "--format", "nt"], ["--help"]], ids=["export", "help"])
def test_a_real_process_on_a_failing_output(argv: list[str]) -> None:
    """The same in a new interpreter (its own streams and its flush at exit)."""
    with open("/dev/full", "wb") as out:
        full = subprocess.run([_script(), *argv], stdout=out, capture_output=False,
                              stderr=subprocess.PIPE, check=False)  # fmt: skip
    assert (full.returncode, full.stderr) == (
        7,
        b"khalis-kg: error: cannot write the output (No space left on device)\n",
    )
    read, write = os.pipe()
    os.close(read)
    try:
        closed = subprocess.run([_script(), *argv], stdout=write, stderr=subprocess.PIPE,
                                check=False)  # fmt: skip
    finally:
        os.close(write)
    assert (closed.returncode, closed.stderr) == (7, b"")


def test_a_reader_that_leaves_mid_write_is_exit_7() -> None:
    """A reader that goes away in the middle of the answer (``| head -c1`` on 450 kB):
    the write that was under way took part of it, the rest fails: exit 7 and silence, not
    a success with the answer cut (Python's buffered write returns the part it wrote)."""
    done = subprocess.Popen([_script(), "export", "--format", "nt"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)  # fmt: skip
    assert done.stdout is not None
    assert done.stdout.read(1) == b"<"  # its write is under way
    done.stdout.close()
    _out, said = done.communicate(timeout=120)
    assert (done.returncode, said) == (7, b"")


dash_operands = st.text(st.characters(blacklist_categories=["Cs"]), max_size=8).map("-".__add__)


@PROPERTY
@given(operand=dash_operands, group=st.sampled_from([[], ["--timeout", "5"], ["--"]]))
@example(operand="-/", group=[])  # both sides on every Hypothesis release (the floors run)
def test_after_double_dash_an_operand_may_start_with_a_dash(operand: str, group: list[str]) -> None:
    """``VERB -- -x``: what follows ``--`` is the verb's operand, never an option (the
    group's parser drops the ``--`` it reads before the verb's parser sees the rest)."""
    assert cli.parse([*group, "sparql", "--", operand]).query == operand
    try:
        files: object = cli.parse([*group, "validate", "--", operand, "-"]).files
    except cli.UsageError as refused:  # not a file's name ("-/", NUL...): said so, as FILES
        files = str(refused)
    assert files == [operand, "-"] or str(files).startswith(f"argument FILES: {operand!r} ")
    assert cli.parse([*group, "query", "--format", "csv", "--", operand]).name == operand


CLOSED_STDOUT = (
    b"khalis-kg: error: cannot write the output (standard output is closed or read-only)\n"
)


def test_every_verb_started_with_its_output_closed(
    tiny: Path, store_url: str, tmp_path: Path
) -> None:
    """Started with standard output closed (``>&-``: Python's sys.stdout is None, and
    a write to it must fail, not vanish): help, version and every verb end in exit 7 and one
    line, never in a silent success."""
    runs = {**_every_verb(tiny, store_url, tmp_path), "help": ["--help"], "version": ["-V"]}
    for verb, argv in runs.items():
        done = subprocess.run(["sh", "-c", 'exec "$0" "$@" >&-', _script(), *argv],
                              stderr=subprocess.PIPE, check=False, timeout=120)  # fmt: skip
        assert (done.returncode, done.stderr) == (7, CLOSED_STDOUT), verb


@pytest.mark.parametrize("argv", [["--help"], ["-V"], ["query", "casualties"], ["stats"]])
def test_a_read_only_stdout_is_said_to_be_one(argv: list[str]) -> None:
    """Standard output open for reading only (``1</dev/null``): the same exit 7 and line as
    a closed one, which names both (the write fails with EBADF either way)."""
    done = subprocess.run(["sh", "-c", 'exec "$0" "$@" 1</dev/null', _script(), *argv],
                          stderr=subprocess.PIPE, check=False, timeout=120)  # fmt: skip
    assert (done.returncode, done.stderr) == (7, CLOSED_STDOUT)


@pytest.mark.parametrize("stdout", ["pipe", "closed"])
def test_a_closed_stderr_keeps_the_code_and_stdout_clean(stdout: str) -> None:
    """Started with standard error closed (``2>&-``: Python's sys.stderr is None, and
    ``print(file=None)`` writes to stdout): the error line goes nowhere, the code says it."""
    closing = "2>&-" if stdout == "pipe" else "2>&- >&-"
    done = subprocess.run(["sh", "-c", f'exec "$0" "$@" {closing}', _script(), "query", "nope"],
                          stdout=subprocess.PIPE, check=False, timeout=120)  # fmt: skip
    assert (done.returncode, done.stdout) == (2, b"")


def test_a_full_stderr_keeps_the_code() -> None:
    """When the error line itself cannot be written, the code still says what failed."""
    with open("/dev/full", "wb") as err:
        done = subprocess.run(
            [_script(), "query", "nope"], stdout=subprocess.DEVNULL, stderr=err, check=False
        )
    assert done.returncode == 2


# -- the terminal ------------------------------------------------------------------------

controls = st.lists(
    st.one_of(
        st.characters(max_codepoint=0x9F),
        st.sampled_from(["\x1b]0;t\x07", "\x1b]52;c;eA==\x07", "\x1b[2J", "\u2028", "é"]),
    ),
    max_size=12,
).map("".join)


@PROPERTY
@given(text=controls)
def test_printable_leaves_no_control_character(text: str) -> None:
    shown = printable(text)
    assert not any(
        (c < " " and c not in "\t\n") or "\x7f" <= c <= "\x9f" or c in "\u2028\u2029" for c in shown
    )
    line = one_line(text, 1000)
    assert "\n" not in line
    assert "\x1b" not in line


@PROPERTY
@given(label=controls)
def test_tables_escape_and_machine_formats_are_exact(label: str) -> None:
    from khalis_kg.results import QueryResult, to_table
    from khalis_kg.terms import Term

    result = QueryResult("select", ["l"], [{"l": Term.literal(label)}])
    table = to_table(result, width=None)
    assert printable(table) == table
    rows = list(csv.reader(io.StringIO(result.serialize("csv")[0].decode("utf-8"), newline="")))
    assert rows[1] == [label]
    as_json = json.loads(result.serialize("json")[0])
    assert as_json["results"]["bindings"][0]["l"]["value"] == label


def test_data_reaches_the_terminal_escaped_and_files_exact(tiny: Path) -> None:
    query = "SELECT ?o { ?s <http://example.org/p> ?o }"
    table = invoke(["--data", str(tiny), "sparql", query])
    assert table.exit_code == 0
    assert "\\x1b]0;title\\x07 b \\x1b[2J c \\x9b d" in table.stdout
    assert "\x1b" not in table.stdout
    assert "\x9b" not in table.stdout
    raw = "a \x1b]0;title\x07 b \x1b[2J c \x9b d"
    for fmt in ("csv", "tsv", "json"):
        done = invoke(["--data", str(tiny), "sparql", query, "--format", fmt])
        assert done.exit_code == 0
        text = done.stdout_bytes.decode("utf-8")
        assert "\\x1b" not in text  # no terminal escaping in a machine format
        if fmt == "json":
            assert json.loads(text)["results"]["bindings"][0]["o"]["value"] == raw
    done = invoke(["--data", str(tiny), "sparql", query, "--format", "xml"])  # no such XML
    assert (done.exit_code, done.stdout) == (2, "")
    assert "it holds U+001B, which XML 1.0 cannot carry" in done.stderr
    nt = invoke(["--data", str(tiny), "export", "--format", "nt"])
    values = {q.object.value for q in ox.parse(nt.stdout_bytes, ox.RdfFormat.N_TRIPLES)}
    assert raw in values  # read back: byte-exact


def test_an_error_line_escapes_what_it_quotes(offline: Path) -> None:
    result = invoke(["sparql", "SELECT * { ?s ?p \x1b]52;c;aGk=\x07 }"])
    assert result.exit_code == 2
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    _check(result, ["sparql"])


# -- input nesting -----------------------------------------------------------------------


def _nested(fmt: str, depth: int) -> bytes:
    if fmt == "xml":
        head = (
            '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
            ' xmlns:e="http://e/"><rdf:Description>'
        )
        inner = "<e:p><rdf:Description>" * depth + "</rdf:Description></e:p>" * depth
        return (head + inner + "</rdf:Description></rdf:RDF>").encode()
    if fmt == "jsonld":
        return (
            '{"@id":"http://e/s",'
            + '"http://e/p":{' * depth
            + '"@id":"http://e/o"'
            + "}" * depth
            + "}"
        ).encode()
    if fmt == "nt":
        return (
            "<http://e/s> <http://e/p> "
            + "<<( <http://e/a> <http://e/b> " * depth
            + "<http://e/c>"
            + " )>>" * depth
            + " .\n"
        ).encode()
    opener, closer = {"turtle": ("[ <http://e/p> ", " ]"), "trig": ("( ", " )")}[fmt]
    body = "<http://e/s> <http://e/p> " + opener * depth + "<http://e/o>" + closer * depth + " .\n"
    return (("{ " + body + " }") if fmt == "trig" else body).encode()


@PROPERTY
@given(
    fmt=st.sampled_from(["xml", "jsonld", "nt", "turtle", "trig"]),
    depth=st.one_of(st.integers(1, 40), st.integers(MAX_INPUT_NESTING, 60_000)),
)
def test_deep_inputs_are_refused_before_parsing(
    tmp_path_factory: Any, fmt: str, depth: int
) -> None:
    data = _nested(fmt, depth)
    # the levels counted: XML elements (rdf:RDF and the outer node too), JSON objects
    # (and the outer one), "<<" and "(" of each triple term, brackets (and TriG's graph)
    counted = {"xml": depth + 2, "jsonld": depth + 1, "nt": 2 * depth, "turtle": depth}
    if counted.get(fmt, depth + 1) > MAX_INPUT_NESTING:
        with pytest.raises(InputError, match="nests more than 256 levels deep"):
            check_input_nesting(data, fmt, "f")
    else:
        check_input_nesting(data, fmt, "f")
        suffix = {
            "xml": ".rdf",
            "jsonld": ".jsonld",
            "nt": ".nt",
            "turtle": ".ttl",
            "trig": ".trig",
        }
        path = tmp_path_factory.mktemp("nest") / f"deep{suffix[fmt]}"
        path.write_bytes(data)
        assert len(KnowledgeGraph.load([path])) >= 1


@PROPERTY
@given(
    body=st.text(alphabet="ab\"'\\[({<\n", max_size=40),
    quote=st.sampled_from(['"', "'", '"""', "'''"]),
)
def test_brackets_inside_any_string_are_text(quote: str, body: str) -> None:
    # A string of each of Turtle's four forms, with any escapes and quotes inside that
    # keep it one string, holding 300 openers: none is a level; 300 outside are refused.
    if len(quote) == 1:
        body = body.replace("\n", " ")
    body = body.replace("\\", "\\\\").replace(quote[0], "\\" + quote[0])
    literal = quote + body + "[" * 300 + body + quote
    text = f"<http://e/s> <http://e/p> {literal} .\n".encode()
    check_input_nesting(text, "turtle", "f")
    check_input_nesting(json.dumps({"p": body + "[" * 300}).encode(), "jsonld", "f")
    with pytest.raises(InputError, match="nests more than 256 levels deep"):
        check_input_nesting(b"[" * 300 + text, "turtle", "f")


@pytest.mark.parametrize("fmt", ["nt", "nq"])
def test_n_triples_nest_only_by_triple_terms(tmp_path: Path, fmt: str) -> None:
    # Brackets outside triple terms are not N-Triples: no scan counts them, the parser
    # refuses them (one line, exit 2); inside literals they are text.
    deep = ("<http://e/s> <http://e/p> " + "[" * 60_000 + " .\n").encode()
    check_input_nesting(deep, fmt, "f")
    path = tmp_path / f"deep.{fmt}"
    path.write_bytes(deep)
    with pytest.raises(RDFSyntaxError, match=rf"^{path}:1: invalid {fmt}: "):
        KnowledgeGraph.load([path])
    text = b'<http://e/s> <http://e/p> "' + b"((([[[{{{" * 100 + b'" .\n'
    check_input_nesting(text, fmt, "f")
    deeper = _nested("nt", MAX_INPUT_NESTING // 2 + 1)
    with pytest.raises(InputError, match="nests more than 256 levels deep"):
        check_input_nesting(deeper, fmt, "f")


def test_a_deep_file_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.rdf"
    deep.write_bytes(_nested("xml", 50_000))
    result = invoke(["--data", str(deep), "stats"])
    assert result.exit_code == 2
    assert result.stderr == (
        f"khalis-kg: error: {deep}:1: the data nests more than 256 levels deep; refused "
        "before parsing (no real data nests so deep)\n"
    )


def test_exit_codes_are_documented() -> None:
    assert EXIT_CODES[7] == "the output could not be written"
    assert "7 the output could not be written" in " ".join(CLI.format_help().split())
    assert WriteError.exit_code == 7
    assert OutputError.exit_code == 2

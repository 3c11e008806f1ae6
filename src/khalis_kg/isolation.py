"""Run work in a child process that can be stopped, with hard limits: the one engine
of the command line's verbs, ``KnowledgeGraph(isolated=True)`` and the server's workers.

Neither pyoxigraph nor rdflib can be interrupted from Python in the middle of a parse
or a query, a pyoxigraph panic aborts the whole process, and a parser that recurses too
deeply segfaults it. So each unit of work runs in a forked child (:func:`run`: a worker
given one task); the server's query workers are the same children, long-lived
(:func:`fork_worker`, answering task after task; the server holds each deadline).

* **memory**: each step (``prepare``, then the work; each task of a worker) may add the
  limit (2 GiB or ``--memory-limit``) to what the child maps when it begins
  (``RLIMIT_AS``), whatever the size of the host: MemoryLimitError;
* **time**: the parent kills the child (``SIGKILL``) at its deadline: TimeLimitError;
* **crashes**: a panic, an abort, a segmentation fault or a stack overflow is
  EngineCrashError, one line naming it (:func:`classify`, from the wait status and the
  child's captured stderr, never shown). No core dump (``RLIMIT_CORE`` 0);
* **no new file or socket** once a child has read what it needs (:func:`lock_descriptors`:
  ``EMFILE``), so the parse-based refusal of SERVICE and foreign FROM holds even if a
  parser disagreed (not for the remote backend, which needs its sockets); every child
  closes the sockets and pipes it inherited but its own;
* **Ctrl-C**: the child ignores SIGINT; the parent kills it and raises
  ``KeyboardInterrupt`` (exit 130). SIGINT is held back over the fork, so that no
  interrupt falls between the fork and the parent watching its child;
* **no orphan**: on Linux the child dies with its parent (``PR_SET_PDEATHSIG``);
* what the child holds once prepared is frozen for the collector (``gc.freeze``,
  ``bench/memory_gc.py``).

The answer (or a KhalisError, which pickles) comes back on the child's channel: a pipe
for :func:`run`'s one task, a socket for a worker's. Only the standard library, errors
and files are imported (and not ``socket`` or ``selectors`` for :func:`run`: a cold
``khalis-kg query`` pays for each import): the parent stays light.
POSIX only (``os.fork``, ``resource``); macOS does not enforce ``RLIMIT_AS``. On Windows
:func:`available` is False and callers run the work in-process, where it cannot be
stopped.
"""

from __future__ import annotations

import contextlib
import faulthandler
import functools
import gc
import math
import os
import pickle
import select
import signal
import stat
import struct
import sys
import time
from collections.abc import Callable, Iterator

from . import files
from .errors import (
    EngineCrashError,
    InputError,
    KhalisError,
    MemoryLimitError,
    ParameterError,
    TimeLimitError,
)
from .records import Frozen, Record

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    import socket
    from typing import Any, Generic, TypeVar

    T = TypeVar("T")
    S = TypeVar("S")
else:  # Work is generic to the type checker; at run time, Work[S, T] is Work

    class Generic:
        __slots__ = ()

        def __class_getitem__(cls, _: object) -> type:
            return cls


DEFAULT_MEMORY_LIMIT = 2 * 1024**3
"""Default cap on an isolated child's address space: 2 GiB."""

_STDERR_KEPT = 64 * 1024  # bytes of the child's stderr kept for the classification
_EXIT_MEMORY = 86  # the child's exit status after a MemoryError (nothing else uses it)
_EXIT_RECURSION = 87
_EXIT_ORPHAN = 88  # the parent was gone before the child could be tied to it
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_locked = False  # this process is a child whose descriptors are locked
_step_memory: int | None = None  # in a child: what each step may add (the cap's limit)
_statm: int | None = None  # /proc/self/statm, kept open (see _address_space)

_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4, "P": 1024**5}
MAX_MEMORY_LIMIT = 1024**5
"""The largest memory limit (1 PiB); beyond it no machine has the memory: give none."""


def available() -> bool:
    """Whether work can be isolated here (POSIX with ``fork`` and ``resource``)."""
    try:
        import resource  # noqa: F401
    except ImportError:  # pragma: no cover - Windows
        return False
    return hasattr(os, "fork")


def parse_size(text: str) -> int | None:
    """A memory size such as ``512M``, ``2G``, ``1.5GiB`` or ``1000000`` (bytes), in
    bytes; ``none``, ``off`` or ``0`` mean no limit (None)."""
    value = text.strip().upper().removesuffix("IB").removesuffix("B")
    if value in ("NONE", "OFF", "0", "UNLIMITED"):
        return None
    unit = value[-1:] if value[-1:] in _UNITS else ""  # "" (no unit) is in _UNITS too
    number = value[: len(value) - len(unit)]
    try:
        amount = float(number)
    except ValueError:
        raise ParameterError(
            f"not a memory size: {text!r} (write e.g. 512M, 2G, or none)"
        ) from None
    if not (math.isfinite(amount) and amount * _UNITS[unit] <= MAX_MEMORY_LIMIT):
        raise ParameterError(
            f"memory limit {text!r} is not a size from 64M to 1P (or none, for no cap)"
        )
    size = int(amount * _UNITS[unit])
    if not amount > 0 or size < 64 * 1024**2:
        raise ParameterError(
            f"memory limit {text!r} is too small (at least 64M; a number without a unit is bytes)"
        )
    return size


def format_size(size: int) -> str:
    """``2147483648`` → ``2 GiB``."""
    for unit, factor in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if size >= factor:
            return f"{size / factor:g} {unit}"
    return f"{size} bytes"


class Limits(Frozen):
    """Limits of one isolated unit of work."""

    __match_args__ = ("timeout", "memory", "lock_descriptors", "keep_descriptors")
    __slots__ = __match_args__
    timeout: float | None
    """Wall-clock seconds from the fork until the child is killed (None: no limit)."""
    memory: int | None
    """Bytes each step may add to what the child maps when the step begins (None: no
    cap): ``prepare``, then ``run``; each task of a worker."""
    lock_descriptors: bool
    """Forbid new files and sockets after ``prepare`` (off for the remote backend)."""
    keep_descriptors: bool
    """When locking, keep the descriptors already open (an on-disk store's files)
    instead of closing them; nothing new can be opened either way."""

    def __init__(
        self,
        timeout: float | None = None,
        memory: int | None = DEFAULT_MEMORY_LIMIT,
        lock_descriptors: bool = True,
        keep_descriptors: bool = False,
    ) -> None:
        self._init(timeout, memory, lock_descriptors, keep_descriptors)


class Work(Frozen, Generic["S", "T"]):
    """A unit of work: ``prepare`` reads what is needed (files may be opened), then
    ``run`` computes the answer from its state (no new file or socket can be opened)."""

    __match_args__ = ("prepare", "run", "what")
    __slots__ = __match_args__
    prepare: Callable[[], S]
    run: Callable[[S], T]
    what: str
    """Named in messages: "the query", "loading the data"…"""

    def __init__(
        self, prepare: Callable[[], S], run: Callable[[S], T], what: str = "the work"
    ) -> None:
        self._init(prepare, run, what)


def run(work: Work[Any, T], limits: Limits) -> T:
    """Run ``work`` in a forked child within ``limits``; return its answer.

    The child's answer must pickle. A KhalisError raised in the child is raised here;
    the limits and crashes raise TimeLimitError, MemoryLimitError or EngineCrashError.
    In a child whose descriptors are locked (a server's query worker asking Oxigraph
    for its words on a syntax error), which can make no pipe and is isolated itself,
    the work runs in place, within that child's limits.
    """
    if _locked:
        return work.run(work.prepare())
    prepared: list[Any] = []  # in the child: what prepare returned

    def ready() -> None:
        prepared.append(work.prepare())

    mine, theirs = os.pipe()  # its answer: read here, written there
    try:
        pid, stderr, mask = _fork(lambda _: work.run(prepared[0]), limits, ready, mine, theirs)
    except BaseException:
        _close(mine)
        raise
    return _parent(pid, mine, stderr, work, limits, mask)


def _close(*fds: int) -> None:
    for fd in fds:
        with contextlib.suppress(OSError):
            os.close(fd)


LENGTH = struct.Struct("!Q")
"""What comes before each message on a worker's channel: the length of its pickle."""


def frame(value: object) -> bytes:
    """``value`` pickled, after its length: one message on a worker's channel."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return LENGTH.pack(len(data)) + data


class Worker(Record):
    """A long-lived isolated child (:func:`fork_worker`): ``channel`` (a stream socket)
    carries tasks to it and answers back, each a :func:`frame`; ``stderr`` is the read
    end of its standard error. Equal only to itself."""

    __match_args__ = ("pid", "channel", "stderr")
    __slots__ = __match_args__
    pid: int
    channel: socket.socket
    stderr: int
    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def __init__(self, pid: int, channel: socket.socket, stderr: int) -> None:
        self._init(pid, channel, stderr)


def fork_worker(
    serve: Callable[[Any], Any], limits: Limits, *, ready: Callable[[], object] = lambda: None
) -> Worker:
    """Fork a child that runs ``ready()``, then answers ``serve(task)`` for each task
    sent on its channel until the channel closes; the answer is ``("ok", value)`` or
    ``("error", KhalisError)`` (read it with :func:`unpickle`), and a limit or a crash
    ends the child (:func:`classify` tells why).

    It closes every socket and pipe it inherited (a server's listening socket and its
    clients' connections) but its own, and once ``ready()`` has opened what the tasks
    need (a KhalisError it raises is the answer to every task),
    ``limits.lock_descriptors`` leaves it unable to open any file or socket (keeping
    the regular files it holds with ``limits.keep_descriptors``: an on-disk store's).
    ``limits.timeout`` is the caller's to hold. Raises OSError when the channel or the
    fork cannot be made. It ignores SIGTERM as it ignores SIGINT: the server decides.
    (GNU ``timeout`` and systemd signal the whole process group; a worker dying under
    the pool would be replaced while the server shuts down.)
    """

    import socket

    def set_up() -> object:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        return ready()

    mine, theirs = socket.socketpair()
    try:
        pid, stderr, mask = _fork(serve, limits, set_up, mine.fileno(), theirs.fileno(), tasks=True)
    except BaseException:
        mine.close()
        raise
    finally:
        theirs.close()  # the child's end, now the child's alone
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return Worker(pid, mine, stderr)


def _fork(
    serve: Callable[[Any], Any],
    limits: Limits,
    ready: Callable[[], object],
    mine: int,
    theirs: int,
    *,
    tasks: bool = False,
) -> tuple[int, int, set[int | signal.Signals]]:
    """Fork the child of :func:`fork_worker` (``tasks``: it answers each task sent on
    its channel until the channel closes) or of :func:`run` (it answers one task, None,
    and reads nothing: ``theirs`` is a pipe's write end, closed here once forked);
    ``mine`` and ``theirs`` are the channel's ends, the parent's and the child's. The
    child's pid, the read end of its stderr, and the mask that holds Ctrl-C back, to
    restore.

    Ctrl-C is held back over the fork: a KeyboardInterrupt raised after the fork and
    before the parent watches the child would leave the child running, unwatched and
    with no time limit. It is let through once the child ignores it and the parent is
    ready to kill the child for it."""

    def answer_tasks() -> None:
        fd = theirs
        null = os.open(os.devnull, os.O_RDWR)  # stdin and stdout: /dev/null from now on
        for number in (0, 1):
            os.dup2(null, number)
        if null > 1:
            os.close(null)
        _close_inherited({0, 1, 2, fd})
        prepared = _outcome(ready)  # its KhalisError is the answer to every task
        gc.freeze()  # what the child holds now lives until it exits: never scanned
        if limits.lock_descriptors:
            fd = lock_descriptors(fd, close_others=not limits.keep_descriptors)
        for task in _tasks(fd) if tasks else [None]:
            _cap_memory(limits.memory)  # each task's headroom, above what is held now
            answer = prepared
            if answer[0] == "ok":
                answer = _outcome(lambda: serve(task))  # noqa: B023
            payload = pickle.dumps(answer, pickle.HIGHEST_PROTOCOL)
            files.write_all(fd, LENGTH.pack(len(payload)))
            files.write_all(fd, payload)

    error_r = error_w = -1  # the pipe of its stderr, once made
    _prctl()  # looked up here, once, rather than in every child
    parent = os.getpid()
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        error_r, error_w = os.pipe()
        pid = os.fork()
    except BaseException:  # no pipe or no fork: nothing is left open
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _close(error_r, error_w, *([] if tasks else [theirs]))
        raise
    if pid == 0:  # the child: never returns
        _child(answer_tasks, limits, error_w, (mine, error_r), parent, mask)
    os.close(error_w)
    if not tasks:
        os.close(theirs)
    return pid, error_r, mask


def _tasks(fd: int) -> Iterator[Any]:
    """Each task sent on a worker's channel (a :func:`frame`), until the channel closes."""
    channel = open(fd, "rb", closefd=False)  # noqa: SIM115 - no new descriptor
    while len(header := channel.read(LENGTH.size)) == LENGTH.size:
        yield pickle.loads(channel.read(LENGTH.unpack(header)[0]))  # noqa: S301 - the parent's


def _outcome(compute: Callable[[], Any]) -> tuple[str, Any]:
    """``("ok", compute())``, or ``("error", KhalisError)``."""
    try:
        return ("ok", compute())
    except KhalisError as exc:
        return ("error", exc)


# -- the child -------------------------------------------------------------------------


def _child(
    body: Callable[[], None],
    limits: Limits,
    error_w: int,
    parent_ends: tuple[int, int],
    parent: int,
    mask: set[int | signal.Signals],
) -> None:
    """The set-up of every isolated child, then ``body()``; never returns."""
    status = 70
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        _forget_statm()
        # Linux: the kernel kills this child when the thread that forked it ends, so a
        # parent killed outright (SIGKILL, the OOM killer) leaves no child running on;
        # elsewhere only a parent that lives can stop its child.
        if (prctl := _prctl()) is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # already gone
                os._exit(_EXIT_ORPHAN)
        for fd in parent_ends:
            os.close(fd)
        # A server's handlers (SIGTERM: shut down) and wake-up pipe are the parent's.
        signal.set_wakeup_fd(-1)
        for number in (signal.SIGPIPE, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)
        os.dup2(error_w, 2)  # the engine's messages (panics, aborts) go to the parent
        os.close(error_w)
        if faulthandler.is_enabled():  # it would write a crash to the host's own stderr
            faulthandler.disable()
        sys.stderr = open(2, "w", closefd=False, errors="backslashreplace")  # noqa: SIM115
        import resource

        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        _cap_memory(limits.memory)
        body()
        status = 0
    except MemoryError:  # anywhere (preparing, a task, pickling its answer): classify tells
        status = _EXIT_MEMORY
    except RecursionError:
        status = _EXIT_RECURSION
    except BaseException:  # noqa: BLE001 - the process boundary: report, never return
        # An unexpected error (a bug, or a Rust panic raised as PanicException): its
        # traceback goes to the captured stderr, and the parent reports its last line.
        # (Python's own hook, written in C: the traceback module costs a cold child
        # milliseconds to import, and once the descriptors are locked it cannot be.)
        with contextlib.suppress(BaseException):
            sys.__excepthook__(*sys.exc_info())
            sys.stderr.flush()
    finally:
        os._exit(status)


@functools.cache
def _prctl() -> Callable[..., int] | None:
    """Linux's ``prctl``, looked up once in the parent (children find it ready); None
    elsewhere."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        function: Callable[..., int] = ctypes.CDLL(None, use_errno=True).prctl
    except (ImportError, OSError, AttributeError):
        return None
    return function


def _cap_memory(memory: int | None) -> None:
    """Cap the address space at what is mapped now plus ``memory`` bytes (None: no cap).

    ``RLIMIT_AS`` counts the whole address space, what was inherited or prepared too: a
    host that already maps more than the limit (a notebook with a loaded store, a server
    holding a large graph) would leave the work no room at all. The limit is what the
    step may add, so the cap sits that far above the size when the step begins."""
    global _step_memory
    _step_memory = memory
    if memory is None:
        return
    import resource

    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    wanted = _address_space() + memory
    cap = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    with contextlib.suppress(ValueError, OSError):  # e.g. macOS refuses some values
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


@contextlib.contextmanager
def uncapped() -> Iterator[None]:
    """Run the block outside the step's memory cap, then cap again above what is held.

    For what reserves address space it does not use: an on-disk store's open, whose
    RocksDB threads reserve some 300 MB (under a smaller cap the open aborts: SIGABRT,
    "the engine crashed"). The store then counts as a loaded graph does: outside the
    limit, which applies to what the step adds after it. Outside a capped child: nothing."""
    if _step_memory is None:
        yield
        return
    import resource

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    resource.setrlimit(resource.RLIMIT_AS, (hard, hard))
    try:
        yield
    finally:
        _cap_memory(_step_memory)


def _address_space() -> int:
    """The bytes this process maps now (Linux: /proc/self/statm, opened once per
    process and kept, so that a locked child still reads it); 0 where unknown."""
    global _statm
    try:
        if _statm is None:
            _statm = os.open("/proc/self/statm", os.O_RDONLY)
        pages = int(os.pread(_statm, 128, 0).split()[0])
    except (OSError, ValueError, IndexError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _forget_statm() -> None:
    """Close this process's /proc/self/statm (a child must read its own, not its
    parent's: the next :func:`_address_space` opens it)."""
    global _statm
    if _statm is not None:
        _close(_statm)
        _statm = None


def _open_descriptors() -> list[int]:
    """The open descriptors (Linux's /proc/self/fd, macOS's and the BSDs' /dev/fd)."""
    for listing in ("/proc/self/fd", "/dev/fd"):
        with contextlib.suppress(OSError):
            names = os.listdir(listing)
            fds = []
            for fd in (int(name) for name in names if name.isdigit()):
                try:
                    os.fstat(fd)
                except OSError:
                    continue  # the listing's own descriptor, now closed
                fds.append(fd)
            return sorted(fds)
    raise OSError("cannot list the open descriptors (no /proc/self/fd or /dev/fd)")


def _close_inherited(keep: set[int]) -> None:
    """Close every socket and pipe but ``keep``: a worker must not hold a server's
    listening socket, its clients' connections or another worker's channel open."""
    for fd in _open_descriptors():
        with contextlib.suppress(OSError):
            mode = os.fstat(fd).st_mode
            if fd not in keep and (stat.S_ISSOCK(mode) or stat.S_ISFIFO(mode)):
                os.close(fd)


def lock_descriptors(keep: int, *, close_others: bool = True) -> int:
    """Let this process open no new file, socket or pipe; keep descriptor ``keep``.

    stdin and stdout are ``/dev/null`` already and stderr is kept. With ``close_others``
    every other descriptor is closed (pass False when a library still uses some, such
    as an on-disk store). Every free number below the highest descriptor left is then
    filled with ``/dev/null`` and ``RLIMIT_NOFILE`` lowered to that height, so any
    ``open``, ``socket`` or ``pipe`` fails with ``EMFILE``. Returns ``keep``'s new number.
    """
    import resource

    global _locked
    _locked = True
    _forget_statm()
    if close_others:
        if keep != 3:
            os.dup2(keep, 3)
            os.close(keep)
            keep = 3
        os.closerange(4, max(_open_descriptors()) + 1)
    _address_space()  # opened now, to measure each task's headroom once locked
    fds = _open_descriptors()
    height = max(fds) + 1
    for hole in sorted(set(range(height)) - set(fds)):
        os.dup2(0, hole)
    resource.setrlimit(resource.RLIMIT_NOFILE, (height, height))
    return keep


# -- the parent ------------------------------------------------------------------------


def _parent(
    pid: int,
    channel: int,
    errors: int,
    work: Work[Any, T],
    limits: Limits,
    mask: set[int | signal.Signals],
) -> T:
    """Read :func:`run`'s child's answer (``channel``) and its stderr (``errors``) until
    both end, within the time limit; its answer, or why it ended without one."""
    deadline = None if limits.timeout is None else time.monotonic() + limits.timeout
    chunks: list[bytes] = []
    stderr = bytearray()
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # from here, Ctrl-C kills the child
        poll = select.poll()  # (not selectors: its import costs a cold query)
        reading = {channel, errors}
        for fd in reading:
            poll.register(fd, select.POLLIN)
        while reading:
            wait = None if deadline is None else deadline - time.monotonic()
            if wait is not None and wait <= 0:
                break  # killed below
            for fd, _ in poll.poll(None if wait is None else wait * 1000):
                data = os.read(fd, 1 << 20)
                if not data:
                    poll.unregister(fd)
                    reading.discard(fd)
                elif fd == channel:
                    chunks.append(data)
                elif len(stderr) < _STDERR_KEPT:
                    stderr += data[: _STDERR_KEPT - len(stderr)]
        status = _wait(pid, deadline)
        if status is None:  # past the deadline (its channel may have closed)
            kill(pid)
            os.waitpid(pid, 0)
    except BaseException:  # Ctrl-C (KeyboardInterrupt) or anything else: no orphan
        kill(pid)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)  # if it failed before the release
        raise
    finally:
        _close(channel, errors)
    if status is None:
        assert limits.timeout is not None
        raise time_limit(work.what, limits.timeout)
    payload = b"".join(chunks)[LENGTH.size :]
    if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and payload:
        return unpickle(payload)  # type: ignore[no-any-return]
    raise classify(status, bytes(stderr), work.what, limits.memory)


def unpickle(payload: bytes | bytearray) -> Any:
    """The answer a child sent: its value, or the KhalisError it raised, raised here."""
    kind, value = pickle.loads(payload)  # noqa: S301 - our own child's answer
    if kind == "error":
        raise value
    return value


def time_limit(what: str, timeout: float) -> TimeLimitError:
    """The error for work killed at its time limit."""
    return TimeLimitError(f"{what} was stopped at the time limit ({timeout:g} s)")


def kill(pid: int) -> None:
    """SIGKILL to ``pid`` (gone already: nothing)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _wait(pid: int, deadline: float | None) -> int | None:
    """The child's wait status; None if it is still running at ``deadline``."""
    if deadline is None:
        return os.waitpid(pid, 0)[1]
    while not (done := os.waitpid(pid, os.WNOHANG))[0]:
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.005)
    return done[1]


def classify(status: int, stderr: bytes, what: str, memory: int | None) -> KhalisError:
    """Why a child ended without an answer, as the error to raise: the memory limit
    (Rust's "memory allocation of N bytes failed", Python's MemoryError), a crash (a
    panic, a stack overflow, a signal, SIGKILL from outside included), input nested too
    deeply for Python, or an internal error; ``status`` is its wait status, ``stderr``
    what it wrote last (a crash's ``detail``)."""
    text = stderr.decode("utf-8", "replace")
    code = os.waitstatus_to_exitcode(status)
    number = -code if code < 0 else 0
    name = {s.value: s.name for s in signal.Signals}.get(number, f"signal {number}")
    crash = functools.partial(EngineCrashError, signal=name if number else None, detail=text)
    cap = "" if memory is None else f" ({format_size(memory)})"
    over = MemoryLimitError(f"{what} needed more memory than the limit{cap}")
    if "memory allocation of" in text and "failed" in text:
        return over
    if "has overflowed its stack" in text:
        return crash(
            f"the engine crashed with a stack overflow in {what} (input nested too deeply)"
        )
    panic = panic_message(text)  # an abort, or pyo3's PanicException
    if panic:
        return crash(f"the engine crashed in {what}: {panic}")
    if code == _EXIT_MEMORY:
        return over
    if code == _EXIT_RECURSION:
        return InputError(f"{what} is nested too deeply (Python recursion limit)")
    if code >= 0:  # its last words: a traceback's last line
        last = [line.strip()[:200] for line in text.splitlines() if line.strip()][-1:]
        return crash(f"internal error in {what}: {last[0] if last else f'exit status {code}'}")
    if number == signal.SIGSEGV:
        return crash(
            f"the engine crashed (segmentation fault) in {what}; "
            "deeply nested input is the usual cause"
        )
    if number == signal.SIGKILL:
        killed = crash(
            f"{what} was killed (SIGKILL from outside, e.g. the system's out-of-memory killer)"
        )
        killed.http_status = 503  # no crash of a valid query: a retry can succeed
        return killed
    return crash(f"the engine crashed ({crash.keywords['signal']}) in {what}")


def panic_message(text: str) -> str | None:
    """The message of a Rust panic (``thread '…' panicked at FILE:\\nMESSAGE``)."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if "panicked at" in line:
            rest = line.split("panicked at", 1)[1].strip()
            # Rust >= 1.73 puts the message on the next line, older ones after a colon.
            if rest.endswith(":") and i + 1 < len(lines):
                message = lines[i + 1].strip()
            else:
                message = rest.split(":", 3)[-1].strip().strip("'")
            return f"Rust panic: {message or 'no message'}"
    return None

"""A small pool of query worker processes that can be killed one at a time.

Each worker is a spawned process with one duplex pipe for tasks and replies, and one
pipe for its standard error (forwarded to the server's log, and kept to tell why a
worker died). A request borrows an idle worker, sends it a task and awaits the reply
with a deadline, without blocking the event loop (the pipe's file descriptor is watched
with ``loop.add_reader``). When the deadline passes, or the worker dies (a memory
limit, a crash), the worker is killed and discarded.

A **supervisor** task keeps the pool at its configured size: it starts a worker for
every one missing, and when that fails (``EMFILE`` while descriptors are exhausted, a
fork refused, a worker that cannot load) it retries with a backoff (0.1 s doubling to
5 s) for as long as the server runs, so the pool always comes back once the pressure
ends. It also notices idle workers killed from outside (within a second). While the pool
has no worker and starting one fails, requests are answered 503 at once instead of
waiting for a worker that cannot come; but a request that finds the pool so, when the
last attempt ended more than :data:`RETRY_AFTER` ago, has the supervisor try again at
once (instead of at the end of its backoff) and waits for that attempt: the first
request after the pressure ends is served, not turned away for a backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ..errors import KhalisError, QueryTimeoutError, truncate
from ..isolation import panic_message, signal_name
from .worker import Reply, WorkerConfig, worker_main

log = logging.getLogger("khalis_kg.server.pool")
worker_log = logging.getLogger("khalis_kg.server.worker")

GRACE = 0.5
"""Seconds a worker gets beyond the query timeout before it is killed."""
BACKOFF_FIRST = 0.1
BACKOFF_MAX = 5.0
"""Retry delays of the supervisor when starting a worker fails (doubling)."""
RETRY_AFTER = 0.25
"""Seconds after a failed attempt during which requests are turned away at once."""
TICK = 1.0
"""How often the supervisor looks for idle workers that died."""
STDERR_KEPT = 8192
"""Bytes of a worker's most recent standard error kept to classify its death."""


class PoolError(KhalisError):
    """The pool cannot serve the request (no worker became free, a worker died)."""

    http_status = 503


class WorkerMemoryError(PoolError):
    """A query made its worker exceed the memory limit; the worker was replaced."""

    http_status = 503


class WorkerCrashError(PoolError):
    """The engine crashed in a worker (panic, abort, segmentation fault)."""

    http_status = 500


class WorkerError(KhalisError):
    """An error a worker reported, with the HTTP status and exit code it chose."""

    def __init__(self, message: str, http_status: int, exit_code: int = 2) -> None:
        super().__init__(message)
        self.http_status = http_status
        self.exit_code = exit_code


class WorkerStartError(PoolError):
    """A worker could not load the graph (the data unreadable, the remote store
    failing); ``exit_code`` is the cause's, which ``serve`` exits with."""

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    stderr: Connection
    tail: bytearray = field(default_factory=bytearray)
    """The end of the worker's standard error (at most STDERR_KEPT bytes)."""
    partial: bytes = b""
    """A line of standard error not yet ended by a newline."""


def death_cause(exitcode: int | None, stderr: str, memory_limit_mb: int | None) -> PoolError:
    """Why a worker died while running a query, as the error for the client.

    A memory limit shows in the worker's standard error (Rust's "memory allocation of N
    bytes failed", Python's MemoryError) before it aborts; a kill from outside (SIGKILL:
    the kernel's OOM killer, an operator) is reported as such; anything else — a Rust
    panic that aborts, a segmentation fault, an abort, an unexpected exit — is a crash.
    """
    limit = f" ({memory_limit_mb} MiB per query worker)" if memory_limit_mb else ""
    if (
        ("memory allocation of" in stderr and "failed" in stderr)
        or "MemoryError" in stderr
        or "Cannot allocate memory" in stderr
    ):
        return WorkerMemoryError(
            f"the query was stopped at this server's memory limit{limit}; narrow the query"
        )
    how = _exit_text(exitcode)
    if exitcode == -signal.SIGKILL:
        return PoolError(
            f"the query was stopped: its worker was {how} from outside the server (the "
            "kernel's out-of-memory killer or an operator)"
        )
    panic = panic_message(stderr)
    detail = f": {truncate(panic, 200)}" if panic else ""
    return WorkerCrashError(f"the query engine crashed ({how}{detail}); the worker was replaced")


def _exit_text(exitcode: int | None) -> str:
    if exitcode is None:
        return "ended"
    if exitcode < 0:
        return f"killed by {signal_name(-exitcode)}"
    return f"exit status {exitcode}"


class WorkerPool:
    def __init__(
        self,
        config: WorkerConfig,
        size: int = 2,
        *,
        start_timeout: float = 120.0,
        queue_timeout: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self.config = config
        self.size = size
        self.start_timeout = start_timeout
        self.queue_timeout = queue_timeout
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] = asyncio.Queue()
        self._workers: set[_Worker] = set()
        self._busy: set[_Worker] = set()
        self._wake = asyncio.Event()
        self._retry_now = asyncio.Event()
        self._attempted = asyncio.Event()
        """Set when the attempt under way (or the next one) ends; then replaced."""
        self._last_attempt = 0.0
        self._supervisor: asyncio.Task[None] | None = None
        self._closed = False
        self.spawn_failures = 0
        """Consecutive failures to start a worker (0 once one starts)."""
        self.last_spawn_error: str | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the graph; then supervise."""
        workers = await asyncio.gather(
            *(self._spawn() for _ in range(self.size)), return_exceptions=True
        )
        failures = [w for w in workers if isinstance(w, BaseException)]
        for w in workers:
            if isinstance(w, _Worker):
                self._idle.put_nowait(w)
        if failures:
            await self.close()
            first = failures[0]
            if isinstance(first, KhalisError):
                raise first
            raise PoolError(f"query workers did not start: {first}") from first
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def close(self) -> None:
        self._closed = True
        self._wake.set()
        self._attempted.set()  # requests waiting for an attempt: there will be none
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        for worker in list(self._workers):
            worker.conn.close()  # the worker sees EOF and exits
        deadline = time.monotonic() + 5.0
        for worker in list(self._workers):
            await asyncio.to_thread(worker.process.join, max(0.0, deadline - time.monotonic()))
            self._discard(worker)
        self._workers.clear()

    @property
    def alive(self) -> int:
        return len(self._workers)

    async def _spawn(self) -> _Worker:
        """Start one worker and wait for it to be ready. Raises :class:`PoolError` or
        :class:`OSError` (descriptors or processes exhausted), leaving nothing behind."""
        opened: list[Connection] = []
        try:
            parent_conn, child_conn = self._ctx.Pipe(duplex=True)
            opened += [parent_conn, child_conn]
            err_read, err_write = self._ctx.Pipe(duplex=False)
            opened += [err_read, err_write]
            process = self._ctx.Process(
                target=worker_main,
                args=(child_conn, self.config, err_write),
                name="khalis-kg-query-worker",
                daemon=True,
            )
            process.start()
        except BaseException:
            for c in opened:
                c.close()
            raise
        child_conn.close()  # only the child holds its ends: EOF when it dies
        err_write.close()
        worker = _Worker(process, parent_conn, err_read)
        self._workers.add(worker)
        self._watch_stderr(worker)
        try:
            reply = await self._receive(worker, self.start_timeout)
        except (asyncio.TimeoutError, EOFError, OSError) as exc:
            self._discard(worker)
            why = self._tail_line(worker) or type(exc).__name__
            raise PoolError(f"a query worker failed to start ({why})") from exc
        except asyncio.CancelledError:
            self._discard(worker)
            raise
        if reply[0] != "ready":
            self._discard(worker)
            if len(reply) > 3:
                raise WorkerStartError(str(reply[2]), int(reply[3]))
            raise PoolError("a query worker failed to start")
        return worker

    # ------------------------------------------------------------------ stderr

    def _watch_stderr(self, worker: _Worker) -> None:
        os.set_blocking(worker.stderr.fileno(), False)
        asyncio.get_running_loop().add_reader(worker.stderr.fileno(), self._drain, worker)

    def _drain(self, worker: _Worker) -> None:
        """Read what the worker wrote to stderr: log whole lines, keep the tail."""
        fd = worker.stderr.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                asyncio.get_running_loop().remove_reader(fd)
                if worker.partial:
                    self._log_lines(worker, [worker.partial])
                    worker.partial = b""
                return
            worker.tail += data
            del worker.tail[:-STDERR_KEPT]
            lines = (worker.partial + data).split(b"\n")
            worker.partial = lines.pop()[-STDERR_KEPT:]
            self._log_lines(worker, lines)

    @staticmethod
    def _log_lines(worker: _Worker, lines: list[bytes]) -> None:
        for line in lines:
            text = line.decode("utf-8", "replace").rstrip()
            if text:
                # Lines of a worker's stderr are told apart by their text, not their pid.
                worker_log.warning(
                    "worker %s: %s", worker.process.pid, text, extra={"repeat_key": text}
                )

    @staticmethod
    def _tail_line(worker: _Worker) -> str | None:
        lines = [x for x in worker.tail.decode("utf-8", "replace").splitlines() if x.strip()]
        return lines[-1].strip()[:300] if lines else None

    def _discard(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        self._busy.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.process.join(timeout=2.0)
        if not worker.stderr.closed:
            with contextlib.suppress(ValueError, RuntimeError):
                asyncio.get_running_loop().remove_reader(worker.stderr.fileno())
            worker.stderr.close()
        worker.conn.close()

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        self._wake.set()

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        """Keep ``size`` workers, retrying with a backoff for as long as the pool runs."""
        delay = 0.0
        while not self._closed:
            for worker in list(self._workers - self._busy):
                if not worker.process.is_alive():  # killed from outside while idle
                    log.warning(
                        "an idle query worker died (%s); starting another",
                        _exit_text(worker.process.exitcode),
                    )
                    self._replace(worker)
            if len(self._workers) >= self.size:
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), TICK)
                continue
            if delay:
                # the backoff, cut short when a request asks for an attempt now
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._retry_now.wait(), delay)
                if self._closed:
                    return
            self._retry_now.clear()  # a request asking meanwhile waits for this attempt
            try:
                worker = await self._spawn()
            except (PoolError, OSError) as exc:
                self.spawn_failures += 1
                self.last_spawn_error = _describe(exc)
                delay = min(BACKOFF_MAX, max(BACKOFF_FIRST, delay * 2))
                log.error(
                    "could not start a query worker (%s); %d of %d running, retrying in %g s",
                    self.last_spawn_error,
                    len(self._workers),
                    self.size,
                    delay,
                )
                self._attempt_ended()
                continue
            if self._closed:
                self._discard(worker)
                return
            if self.spawn_failures:
                log.warning("started a query worker after %d failed attempts", self.spawn_failures)
            self.spawn_failures = 0
            self.last_spawn_error = None
            delay = 0.0
            self._idle.put_nowait(worker)
            self._attempt_ended()

    def _attempt_ended(self) -> None:
        self._last_attempt = time.monotonic()
        ended, self._attempted = self._attempted, asyncio.Event()
        ended.set()

    # ------------------------------------------------------------------ requests

    @staticmethod
    async def _receive(worker: _Worker, timeout: float) -> Reply:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        fd = worker.conn.fileno()

        def readable() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(fd, readable)
        try:
            await asyncio.wait_for(ready, timeout)
        finally:
            loop.remove_reader(fd)
        # The first bytes are there and the worker writes its whole reply at once (replies
        # are capped by max_results): read it here, without a thread hand-off whose GIL
        # switch would add milliseconds to every request.
        reply: Reply = worker.conn.recv()
        return reply

    def _unavailable(self) -> PoolError | None:
        if not self._workers and self.spawn_failures:
            return PoolError(
                f"the server has no query worker right now (starting one failed: "
                f"{self.last_spawn_error}); try again later"
            )
        return None

    async def _borrow(self, deadline: float) -> _Worker:
        while True:
            if self._closed:  # also for a request that waited through the close
                raise PoolError("the server is shutting down")
            down = self._unavailable()
            if down is not None:
                if time.monotonic() - self._last_attempt < RETRY_AFTER:
                    raise down  # it has just failed: no waiting for a worker that cannot come
                attempt = self._attempted
                self._retry_now.set()
                try:
                    await asyncio.wait_for(attempt.wait(), max(0.0, deadline - time.monotonic()))
                except asyncio.TimeoutError:
                    raise down from None
                continue  # started (then the queue has it) or failed (then 503 at once)
            # Wake up now and then: the pool may have lost every worker meanwhile.
            wait = min(TICK, deadline - time.monotonic())
            if wait <= 0:
                raise PoolError(
                    f"the server is busy: no query worker became free within "
                    f"{self.queue_timeout:g} s; try again later"
                )
            try:
                worker = await asyncio.wait_for(self._idle.get(), wait)
            except asyncio.TimeoutError:
                continue
            if worker in self._workers:
                return worker
            # A worker discarded while it sat in the queue: skip it.

    async def run(self, task: dict[str, Any], timeout: float) -> Any:
        """Run ``task`` on an idle worker; the payload of an ``ok`` reply.

        Raises a :class:`KhalisError` carrying the HTTP status for every failure.
        """
        deadline = time.monotonic() + self.queue_timeout
        while True:
            worker = await self._borrow(deadline)
            if not worker.process.is_alive():
                # Died while idle (an outside kill, the OOM killer): replace it, try another.
                self._replace(worker)
                continue
            try:
                worker.conn.send(task)
            except OSError:
                self._replace(worker)  # the task never reached it: safe to try another
                continue
            break
        self._busy.add(worker)
        try:
            reply = await self._receive(worker, timeout + GRACE)
        except asyncio.TimeoutError:
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query was stopped after {timeout:g} s (this server's time limit)"
            ) from None
        except (EOFError, OSError):
            worker.process.join(timeout=2.0)  # reap it: its exit code is known after this
            self._drain(worker)  # the last words (a panic, "memory allocation failed")
            cause = death_cause(
                worker.process.exitcode,
                worker.tail.decode("utf-8", "replace"),
                self.config.memory_limit_mb,
            )
            self._replace(worker)
            log.warning("a query worker died: %s", cause)
            raise cause from None
        except BaseException:
            # Cancelled (shutdown, client gone) while the worker may still be busy.
            self._replace(worker)
            raise
        self._busy.discard(worker)
        self._idle.put_nowait(worker)
        if reply[0] == "ok":
            return reply[1]
        raise WorkerError(str(reply[2]), int(reply[1]), int(reply[3]))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        import errno as errno_module

        name = errno_module.errorcode.get(exc.errno, str(exc.errno))
        return f"{name}: {exc.strerror}"
    return str(exc) or type(exc).__name__

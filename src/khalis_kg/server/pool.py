"""The query workers of ``khalis-kg serve``: the command line's isolated children, kept.

The server process loads the graph once; each worker is forked from it
(:meth:`KnowledgeGraph.fork_worker`, the engine of :mod:`khalis_kg.isolation`: the
same set-up, memory headroom per task and classification of how a child ended as
every command-line verb), so it holds the graph from its first instant and a new one
is ready in about a millisecond. A request borrows an idle worker, sends it a task and
awaits the answer over asyncio's streams, never blocking the event loop: a worker that
writes its answer slowly, or stops in the middle of it, delays its own request only;
half a second past the task's time limit the worker is killed (503). A worker that dies
(the memory limit, a crash, a kill from outside) is reaped and its end classified from
its wait status and what it wrote last on its standard error (which is forwarded to
the log line by line).

**One respawn policy**: the pool is topped up to its size, by forking, whenever a
worker ends and whenever a request finds it short. When a fork fails (``EMFILE`` while
the descriptors are exhausted), a request that finds no worker at all is answered 503
at once with the reason, and the next request tries again: a fork costs a millisecond,
so there is no backoff to wait through and the first request after the pressure is
served.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .. import isolation
from ..errors import KhalisError

log = logging.getLogger("khalis_kg.server.pool")
worker_log = logging.getLogger("khalis_kg.server.worker")

GRACE = 0.5
"""Seconds a task gets beyond its time limit before its worker is killed: the core's
own check between results stops a streaming query first, and its worker lives on."""
STDERR_KEPT = 8192
"""Bytes of a worker's most recent standard error kept to classify its end."""
WHAT = "the query"


class PoolError(KhalisError):
    """The pool cannot serve the request (no worker free, none can be started)."""

    http_status = 503


@dataclass(eq=False)
class _Worker:
    child: isolation.Worker
    tail: bytearray = field(default_factory=bytearray)
    partial: bytes = b""
    """A line of standard error not yet ended by a newline."""
    status: int | None = None
    """The wait status once reaped."""
    busy: bool = False
    streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    """Its channel as asyncio streams (made when it is first given a task)."""
    gone: bool = False
    """Discarded: its descriptors are closed (their numbers may be another's now)."""


class WorkerPool:
    """``size`` workers made by ``fork``; ``memory`` is each task's headroom in bytes."""

    def __init__(
        self,
        fork: Callable[[], isolation.Worker],
        size: int,
        *,
        memory: int | None,
        queue_timeout: float = 30.0,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        self._fork = fork
        self.size = size
        self.memory = memory
        self.queue_timeout = queue_timeout
        self._workers: set[_Worker] = set()
        self._idle: asyncio.Queue[_Worker | None] = asyncio.Queue()
        """Idle workers; None wakes a request waiting when the pool closes."""
        self._closed = False

    async def start(self) -> None:
        """Fork every worker (OSError when one cannot be forked)."""
        for _ in range(self.size):
            self._add()

    async def close(self) -> None:
        """Kill and reap every worker (a busy one's request is told the server is
        shutting down)."""
        self._closed = True
        self._idle.put_nowait(None)
        for worker in list(self._workers):
            self._discard(worker)

    # ------------------------------------------------------------------ workers

    def _add(self) -> _Worker:
        worker = _Worker(self._fork())
        self._workers.add(worker)
        os.set_blocking(worker.child.stderr, False)
        asyncio.get_running_loop().add_reader(worker.child.stderr, self._drain, worker)
        self._idle.put_nowait(worker)
        return worker

    def _top_up(self) -> None:
        """Fork the workers missing; a failure is logged and, when no worker is left,
        raised as the request's 503."""
        while not self._closed and len(self._workers) < self.size:
            try:
                self._add()
            except OSError as exc:
                why = f"{errno.errorcode.get(exc.errno or 0, exc.errno)}: {exc.strerror}"
                log.error(
                    "could not start a query worker (%s); %d running", why, len(self._workers)
                )
                if not self._workers:
                    raise PoolError(
                        f"the server has no query worker right now (starting one failed: "
                        f"{why}); try again later"
                    ) from None
                return

    def _drain(self, worker: _Worker) -> None:
        """Read what the worker wrote on stderr: log whole lines, keep the tail. At EOF
        (it ended) an idle worker is discarded and another forked; a busy one is left
        to its request, which sees its channel close."""
        fd = worker.child.stderr
        while not worker.gone:
            try:
                data = os.read(fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            *lines, rest = (worker.partial + data).split(b"\n")
            worker.partial = rest[-STDERR_KEPT:] if data else b""
            for line in lines if data else [*lines, rest]:  # at EOF, the unfinished one too
                text = line.decode("utf-8", "replace").rstrip()
                if text:  # told apart by their text, not by the worker's pid
                    worker_log.warning(
                        "worker %s: %s", worker.child.pid, text, extra={"repeat_key": text}
                    )
            worker.tail = (worker.tail + data)[-STDERR_KEPT:]
            if not data:
                asyncio.get_running_loop().remove_reader(fd)
                if not worker.busy and not self._closed:
                    log.warning("an idle query worker ended; starting another")
                    self._discard(worker)
                return

    def _reap(self, worker: _Worker) -> int | None:
        if worker.status is None:
            with contextlib.suppress(ChildProcessError):
                pid, status = os.waitpid(worker.child.pid, os.WNOHANG)
                if pid:
                    worker.status = status
        return worker.status

    def _discard(self, worker: _Worker) -> None:
        """Kill (if alive) and reap ``worker``, read the rest of its stderr, close its ends
        (once); then fork the workers missing (a failure is logged: a request retries)."""
        self._workers.discard(worker)
        if worker.gone:
            return
        if self._reap(worker) is None:
            isolation.kill(worker.child.pid)
            with contextlib.suppress(ChildProcessError):
                worker.status = os.waitpid(worker.child.pid, 0)[1]
        worker.busy = True  # the last words are read here, not as an idle worker's
        self._drain(worker)  # it has exited: everything it wrote is there
        worker.gone = True
        # a request reading from it sees the channel end
        (worker.child.channel if worker.streams is None else worker.streams[1]).close()
        with contextlib.suppress(ValueError, RuntimeError):
            asyncio.get_running_loop().remove_reader(worker.child.stderr)
        os.close(worker.child.stderr)
        with contextlib.suppress(PoolError):
            self._top_up()

    # ------------------------------------------------------------------ requests

    async def _borrow(self, deadline: float) -> _Worker:
        while True:
            if self._closed:
                raise PoolError("the server is shutting down")
            self._top_up()
            try:
                worker = await asyncio.wait_for(
                    self._idle.get(), min(1.0, max(0.0, deadline - time.monotonic()))
                )
            except asyncio.TimeoutError:
                if time.monotonic() < deadline:
                    continue  # look again: the pool may have lost every worker meanwhile
                raise PoolError(
                    f"the server is busy: no query worker became free within "
                    f"{self.queue_timeout:g} s; try again later"
                ) from None
            if worker is None:  # the pool closed: the next waiter is woken too
                self._idle.put_nowait(None)
            elif worker in self._workers and self._reap(worker) is None:
                return worker
            else:
                self._discard(worker)  # ended while idle (killed from outside): another

    async def run(self, task: dict[str, Any], timeout: float) -> Any:
        """Run ``task`` on an idle worker within ``timeout`` seconds; its answer.

        Raises a :class:`KhalisError` carrying the HTTP status for every failure: the
        task's own, the time limit, the memory limit, a crash (isolation's)."""
        deadline = time.monotonic() + self.queue_timeout
        while True:
            worker = await self._borrow(deadline)
            worker.busy = True
            if worker.streams is None:
                worker.streams = await asyncio.open_connection(sock=worker.child.channel)
            reader, writer = worker.streams
            try:
                writer.write(isolation.frame(task))
                await writer.drain()
                break
            except OSError:  # it ended since: the task never reached it, try another
                self._discard(worker)
        try:
            payload = await asyncio.wait_for(_answer(reader), timeout + GRACE)
        except asyncio.TimeoutError:
            self._discard(worker)
            raise isolation.time_limit(WHAT, timeout) from None
        except (asyncio.IncompleteReadError, OSError):
            self._discard(worker)  # it died: reaped, its last words read
            if self._closed:
                raise PoolError("the server is shutting down") from None
            assert worker.status is not None
            cause = isolation.classify(worker.status, bytes(worker.tail), WHAT, self.memory)
            log.warning("a query worker ended: %s", cause)
            raise cause from None
        except BaseException:  # cancelled (shutdown, client gone) while it may be busy
            self._discard(worker)
            raise
        worker.busy = False
        self._idle.put_nowait(worker)
        return isolation.unpickle(payload)


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """One answer from a worker's channel (:func:`isolation.frame`), however slowly it
    arrives."""
    header = await reader.readexactly(isolation.LENGTH.size)
    return await reader.readexactly(isolation.LENGTH.unpack(header)[0])

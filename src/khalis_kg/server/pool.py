"""A small pool of query worker processes that can be killed one at a time.

Each worker is a spawned process with one duplex pipe. A request borrows an idle
worker, sends it a task and awaits the reply with a deadline, without blocking the
event loop (the pipe's file descriptor is watched with ``loop.add_reader``). When
the deadline passes, or the worker dies (a memory limit, a crash), the worker is
killed and a fresh one is started in the background; the other workers keep
serving meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

from ..errors import KhalisError, QueryTimeoutError
from .worker import Reply, WorkerConfig, worker_main

log = logging.getLogger("khalis_kg.server.pool")

GRACE = 0.5
"""Seconds a worker gets beyond the query timeout before it is killed."""


class PoolError(KhalisError):
    """The pool cannot serve the request (no worker became free, a worker died)."""

    http_status = 503


class WorkerError(KhalisError):
    """An error a worker reported, with the HTTP status it chose."""

    def __init__(self, message: str, http_status: int) -> None:
        super().__init__(message)
        self.http_status = http_status


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    started: float = field(default_factory=time.monotonic)
    tasks: int = 0


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
        self._spawning: set[asyncio.Task[None]] = set()
        self._closed = False
        self.replaced = 0
        """How many workers were killed and replaced (timeouts, crashes)."""

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Start every worker and wait until each has loaded the graph."""
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

    async def close(self) -> None:
        self._closed = True
        for task in list(self._spawning):
            task.cancel()
        for worker in list(self._workers):
            worker.conn.close()  # the worker sees EOF and exits
        deadline = time.monotonic() + 5.0
        for worker in list(self._workers):
            await asyncio.to_thread(worker.process.join, max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                await asyncio.to_thread(worker.process.join, 2.0)
        self._workers.clear()

    @property
    def alive(self) -> int:
        return len(self._workers)

    @property
    def idle(self) -> int:
        return self._idle.qsize()

    async def _spawn(self) -> _Worker:
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=worker_main,
            args=(child_conn, self.config),
            name="khalis-kg-query-worker",
            daemon=True,
        )
        process.start()
        child_conn.close()  # only the child holds its end: EOF when it dies
        worker = _Worker(process, parent_conn)
        self._workers.add(worker)
        try:
            reply = await self._receive(worker, self.start_timeout)
        except (asyncio.TimeoutError, EOFError, OSError) as exc:
            self._discard(worker)
            raise PoolError(f"a query worker failed to start ({type(exc).__name__})") from exc
        except asyncio.CancelledError:
            self._discard(worker)
            raise
        if reply[0] != "ready":
            self._discard(worker)
            raise PoolError(str(reply[2]) if len(reply) > 2 else "a query worker failed to start")
        return worker

    def _discard(self, worker: _Worker) -> None:
        self._workers.discard(worker)
        if worker.process.is_alive():
            worker.process.kill()
        worker.conn.close()
        worker.process.join(timeout=2.0)

    def _replace(self, worker: _Worker) -> None:
        self._discard(worker)
        self.replaced += 1
        if self._closed:
            return
        task = asyncio.get_running_loop().create_task(self._respawn())
        self._spawning.add(task)
        task.add_done_callback(self._spawning.discard)

    async def _respawn(self) -> None:
        try:
            worker = await self._spawn()
        except PoolError as exc:
            log.error("could not replace a query worker: %s", exc)
            return
        if self._closed:
            self._discard(worker)
        else:
            self._idle.put_nowait(worker)

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

    async def _borrow(self, deadline: float) -> _Worker:
        try:
            return await asyncio.wait_for(self._idle.get(), max(0.0, deadline - time.monotonic()))
        except asyncio.TimeoutError:
            raise PoolError(
                f"the server is busy: no query worker became free within "
                f"{self.queue_timeout:g} s; try again later"
            ) from None

    async def run(self, task: dict[str, Any], timeout: float) -> Any:
        """Run ``task`` on an idle worker; the payload of an ``ok`` reply.

        Raises a :class:`KhalisError` carrying the HTTP status for every failure.
        """
        if self._closed:
            raise PoolError("the server is shutting down")
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
        try:
            worker.tasks += 1
            reply = await self._receive(worker, timeout + GRACE)
        except asyncio.TimeoutError:
            self._replace(worker)
            raise QueryTimeoutError(
                f"the query was stopped after {timeout:g} s (this server's time limit)"
            ) from None
        except (EOFError, OSError):
            self._replace(worker)  # reaps the process: its exit code is known after this
            log.warning("a query worker died (exit code %s)", worker.process.exitcode)
            raise PoolError(
                "the query was stopped: it exceeded this server's memory limit or crashed its "
                "worker"
            ) from None
        except BaseException:
            # Cancelled (shutdown, client gone) while the worker may still be busy.
            self._replace(worker)
            raise
        self._idle.put_nowait(worker)
        if reply[0] == "ok":
            return reply[1]
        raise WorkerError(str(reply[2]), int(reply[1]))

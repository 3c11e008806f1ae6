"""The query workers of ``khalis-kg serve``: the command line's isolated children, kept.

The server process loads the graph once; each worker is forked from it
(:meth:`KnowledgeGraph.fork_worker`, the engine of :mod:`khalis_kg.isolation`: the
same set-up, memory headroom per task and classification of how a child ended as
every command-line verb), so it holds the graph from its first instant and a new one
is ready in about a millisecond. A request's task is sent to an idle worker, or, when
none is idle, to the first worker that answers (from the event loop's callback that reads
that answer, so the worker starts on it before the answered request's response is
written). Each worker's channel is read by such a callback whenever it holds data,
never blocking the event loop: a worker that writes its answer slowly, or stops in the
middle of it, delays its own request only; half a second past the task's time limit
the worker is killed (503). A worker that dies
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
from collections import deque
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
    answer: asyncio.Future[bytearray] | None = None
    """What its task's request awaits: the answer's pickle (EOFError when the channel
    ends first, TimeoutError at the time limit); None while it has no task."""
    received: bytearray = field(default_factory=bytearray)
    """The answer read so far (its length first)."""
    unsent: memoryview | None = None
    """The rest of a task too large for the channel's buffer, written as it drains."""
    gone: bool = False
    """Discarded: its descriptors are closed (their numbers may be another's now)."""


_Task = tuple[_Worker, "asyncio.Future[bytearray]"]
"""A worker given a task, and the future of that task's answer (the worker's ``answer``
only until that answer is read: a waiter resumed later must not look it up)."""


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
        self._loop: asyncio.AbstractEventLoop  # the loop it runs on: start() sets it
        self._workers: set[_Worker] = set()
        self._idle: deque[_Worker] = deque()
        self._waiting: deque[tuple[asyncio.Future[_Task | None], bytes]] = deque()
        """Requests waiting for a worker, with their task: the next worker free is sent
        it and given to the request; None tells the request to look again."""
        self._closed = False

    async def start(self) -> None:
        """Fork every worker (OSError when one cannot be forked)."""
        # asked once: asyncio's get_running_loop() is a getpid() system call (Python <
        # 3.12), three a request
        self._loop = asyncio.get_running_loop()
        for _ in range(self.size):
            self._add()

    async def close(self) -> None:
        """Kill and reap every worker (a busy one's request is told the server is
        shutting down)."""
        self._closed = True
        for waiter, _ in self._waiting:
            if not waiter.done():
                waiter.set_result(None)
        self._waiting.clear()
        for worker in list(self._workers):
            self._discard(worker)

    # ------------------------------------------------------------------ workers

    def _add(self) -> _Worker:
        worker = _Worker(self._fork())
        self._workers.add(worker)
        os.set_blocking(worker.child.stderr, False)
        worker.child.channel.setblocking(False)
        self._loop.add_reader(worker.child.stderr, self._drain, worker)
        self._loop.add_reader(worker.child.channel.fileno(), self._receive, worker)
        self._release(worker)
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
                self._loop.remove_reader(fd)
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
        loop = self._loop
        channel = worker.child.channel
        with contextlib.suppress(ValueError, RuntimeError, OSError):
            loop.remove_reader(channel.fileno())
            loop.remove_writer(channel.fileno())
        channel.close()
        if worker.answer is not None and not worker.answer.done():
            worker.answer.set_exception(EOFError())  # its request sees the channel end
        with contextlib.suppress(ValueError, RuntimeError):
            loop.remove_reader(worker.child.stderr)
        os.close(worker.child.stderr)
        with contextlib.suppress(PoolError):
            self._top_up()

    # ------------------------------------------------------------------ requests

    def _send(self, worker: _Worker, frame: bytes) -> asyncio.Future[bytearray] | None:
        """Send ``frame`` (a task) to ``worker``: the future of its answer, or None when
        it never reached it (the worker has ended). What the channel's buffer cannot
        take is written as it drains."""
        try:
            sent = worker.child.channel.send(frame)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return None
        worker.busy = True
        worker.answer = answer = self._loop.create_future()
        if sent < len(frame):
            worker.unsent = memoryview(frame)[sent:]
            self._loop.add_writer(worker.child.channel.fileno(), self._flush, worker)
        return answer

    def _flush(self, worker: _Worker) -> None:
        """Write more of a large task; a channel that fails has its end read by
        :meth:`_receive`."""
        assert worker.unsent is not None
        try:
            sent: int | None = worker.child.channel.send(worker.unsent)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            sent = None
        if sent is None or sent == len(worker.unsent):
            worker.unsent = None
            self._loop.remove_writer(worker.child.channel.fileno())
        else:
            worker.unsent = worker.unsent[sent:]

    def _release(self, worker: _Worker) -> None:
        """Give a free ``worker`` the first waiting request's task, or keep it idle."""
        while self._waiting and not self._closed:
            waiter, frame = self._waiting.popleft()
            if waiter.done():  # it stopped waiting
                continue
            answer = self._send(worker, frame)
            if answer is None:
                self._waiting.appendleft((waiter, frame))  # for the next worker
                self._discard(worker)  # (forks another, which takes it)
                return
            # the answer's future itself: by the time the request resumes, the worker
            # may have answered and been given the next waiter's task (uvloop reads
            # ready descriptors in a row before it runs what they woke)
            waiter.set_result((worker, answer))
            return
        worker.busy = False
        self._idle.append(worker)

    def _receive(self, worker: _Worker) -> None:
        """Read what the worker wrote on its channel; once its answer is whole, the
        worker takes the next waiting task and the answer goes to its request. At the
        channel's end, a pending request sees EOFError (an idle worker's end is
        :meth:`_drain`'s to handle)."""
        channel, received = worker.child.channel, worker.received
        while not worker.gone:
            try:
                data = channel.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                self._loop.remove_reader(channel.fileno())
                if worker.answer is not None and not worker.answer.done():
                    worker.answer.set_exception(EOFError())
                return
            received += data
            if len(received) < isolation.LENGTH.size:
                continue
            end = isolation.LENGTH.size + isolation.LENGTH.unpack_from(received)[0]
            if len(received) < end:
                continue
            payload = received[isolation.LENGTH.size : end]  # one copy (pickle reads a bytearray)
            del received[:end]
            answer, worker.answer = worker.answer, None
            if answer is None:  # no task asked for it: a worker never does this
                self._discard(worker)
                return
            self._release(worker)
            if not answer.done():
                answer.set_result(payload)
            return

    def _give_up(self, worker: _Worker, answer: asyncio.Future[bytearray]) -> None:
        """Discard ``worker`` if it is still on the task whose answer is ``answer``: once
        that answer is read, the worker is on the next waiting request's task, which is
        not this request's to stop."""
        if worker.answer is answer:
            self._discard(worker)

    def _idle_worker(self) -> _Worker | None:
        """An idle worker still alive (the ended ones discarded), or None."""
        while self._idle:
            worker = self._idle.popleft()
            if worker in self._workers and self._reap(worker) is None:
                return worker
            self._discard(worker)  # ended while idle (killed from outside): another
        return None

    async def _wait(self, frame: bytes, deadline: float) -> _Task | None:
        """Wait in line for a worker to be sent ``frame``: that worker and its answer's
        future, or None at the deadline or the pool's close."""
        loop = self._loop
        waiter: asyncio.Future[_Task | None] = loop.create_future()
        self._waiting.append((waiter, frame))  # its place in line, kept until served
        timer: asyncio.TimerHandle | None = None

        def check() -> None:
            """Once a second: fork the workers missing (one that starts serves the
            head of the line). The request looks again only at its deadline, or
            gets the 503 when no worker can be started."""
            nonlocal timer
            if waiter.done():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                waiter.set_result(None)
                return
            try:
                self._top_up()
            except PoolError as exc:
                waiter.set_exception(exc)
                return
            if not waiter.done():
                timer = loop.call_later(min(1.0, left), check)

        timer = loop.call_later(min(1.0, max(0.0, deadline - time.monotonic())), check)
        try:
            given = await waiter
        except BaseException:  # cancelled: a worker it was given has its task
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                given = waiter.result()
                if given is not None:
                    self._give_up(*given)
            raise
        finally:
            assert timer is not None
            timer.cancel()
        return given

    async def _borrow(self, frame: bytes) -> _Task:
        """A worker that has been sent ``frame``, and the future of that task's answer."""
        deadline = time.monotonic() + self.queue_timeout
        while True:
            if self._closed:
                raise PoolError("the server is shutting down")
            self._top_up()
            worker = self._idle_worker()
            if worker is not None:
                answer = self._send(worker, frame)
                if answer is not None:
                    return worker, answer
                self._discard(worker)  # it ended since: the task never reached it
                continue
            if time.monotonic() >= deadline:
                raise PoolError(
                    f"the server is busy: no query worker became free within "
                    f"{self.queue_timeout:g} s; try again later"
                )
            given = await self._wait(frame, deadline)
            if given is not None:
                return given

    async def run(self, task: dict[str, Any], timeout: float) -> Any:
        """Run ``task`` on an idle worker within ``timeout`` seconds; its answer.

        Raises a :class:`KhalisError` carrying the HTTP status for every failure: the
        task's own, the time limit, the memory limit, a crash (isolation's)."""
        worker, answer = await self._borrow(isolation.frame(task))
        timer = self._loop.call_later(timeout + GRACE, _expire, answer)
        try:
            payload = await answer
        except asyncio.TimeoutError:
            self._give_up(worker, answer)
            raise isolation.time_limit(WHAT, timeout) from None
        except EOFError:
            self._discard(worker)  # it died: reaped, its last words read
            if self._closed:
                raise PoolError("the server is shutting down") from None
            assert worker.status is not None
            cause = isolation.classify(worker.status, bytes(worker.tail), WHAT, self.memory)
            log.warning("a query worker ended: %s", cause)
            raise cause from None
        except BaseException:  # cancelled (shutdown, client gone) while it may be busy
            self._give_up(worker, answer)
            raise
        finally:
            timer.cancel()
        return isolation.unpickle(payload)


def _expire(answer: asyncio.Future[bytearray]) -> None:
    if not answer.done():
        answer.set_exception(asyncio.TimeoutError())

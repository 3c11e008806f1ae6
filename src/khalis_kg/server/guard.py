"""Connection hardening and log hygiene for ``khalis-kg serve``.

* :func:`guarded_protocol`: uvicorn's h11 protocol with a **header timeout** (a client
  must send a complete request head within ``header_timeout`` seconds of connecting, or
  of the end of the previous response on a keep-alive connection; uvicorn itself only
  times out connections that send nothing *after* a response) and a **connection cap**
  (a connection over ``max_connections`` is answered 503 and closed at once, so idle
  sockets cannot take every file descriptor of the process).
* :class:`RepeatFilter`: a logging filter that lets the first record of a kind through
  (with its traceback) and counts the repeats in the next ``window`` seconds; the count is
  logged as one line when the window ends (:meth:`RepeatFilter.flush`, called every second
  by the server) or with the next record of that kind. A burst of thousands of identical
  failures is two lines in the log, not thousands of tracebacks.
* :func:`loop_exception_handler`: asyncio's own reports (``accept()`` failing with
  ``EMFILE`` while descriptors are exhausted, once a second per socket) go through the same
  filter, as one line without a traceback.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("khalis_kg.server.connections")

DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_KEEP_ALIVE = 5.0
DEFAULT_MAX_CONNECTIONS = 256
DEFAULT_REPEAT_WINDOW = 5.0

_OVER_CAP = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"connection: close\r\n"
    b"content-length: 53\r\n"
    b"\r\n"
    b"the server has too many open connections; try later\n"
)


class _GuardedH11Protocol(H11Protocol):
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        if len(self.connections) > self.max_connections:
            log.warning(
                "connection refused: %d connections open (cap %d, --max-connections)",
                len(self.connections) - 1,
                self.max_connections,
            )
            self.transport.write(_OVER_CAP)
            self.transport.close()
            return
        self._arm_header_timer()

    def _awaiting_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _header_timed_out(self) -> None:
        self._header_timer = None
        if self._awaiting_head() and not self.transport.is_closing():
            log.warning(
                "closed a connection that sent no complete request head within %g s "
                "(--header-timeout)",
                self.header_timeout,
            )
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self._awaiting_head():
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self._awaiting_head() and not self.transport.is_closing():
            self._arm_header_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)


def guarded_protocol(header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol class with this header timeout and connection cap."""
    return type(
        "GuardedH11Protocol",
        (_GuardedH11Protocol,),
        {"header_timeout": header_timeout, "max_connections": max_connections},
    )


class RepeatFilter(logging.Filter):
    """Log the first record of a kind, count the repeats within ``window`` seconds.

    A kind is the logger, the level and the message template (``record.msg``), so the same
    failure with different details (a port, a path) counts as a repeat; a record may name
    its kind itself with ``extra={"repeat_key": ...}``.
    """

    def __init__(self, window: float = DEFAULT_REPEAT_WINDOW) -> None:
        super().__init__()
        self.window = window
        self._lock = threading.Lock()
        # kind -> [window start, repeats suppressed, last suppressed record]
        self._seen: dict[tuple[str, int, str], list[Any]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        kind = (record.name, record.levelno, str(getattr(record, "repeat_key", record.msg)))
        now = time.monotonic()
        with self._lock:
            entry = self._seen.get(kind)
            if entry is not None and now - entry[0] < self.window:
                entry[1] += 1
                entry[2] = record
                return False
            self._seen[kind] = [now, 0, None]
            if entry is not None and entry[1]:
                record.msg = f"{record.msg} [and {entry[1]} more like this in the previous "
                record.msg += f"{now - entry[0]:.0f} s]"
        return True

    def flush(self) -> list[logging.LogRecord]:
        """Summaries of the windows that ended with repeats, as records to emit."""
        now = time.monotonic()
        out: list[logging.LogRecord] = []
        with self._lock:
            for kind, entry in list(self._seen.items()):
                if now - entry[0] < self.window:
                    continue
                del self._seen[kind]
                if entry[1]:
                    last: logging.LogRecord = entry[2]
                    summary = logging.makeLogRecord(last.__dict__)
                    summary.msg = f"repeated {entry[1]} times in {now - entry[0]:.0f} s: %s"
                    summary.args = (last.getMessage(),)
                    summary.exc_info = None
                    summary.exc_text = None
                    out.append(summary)
        return out


_active: RepeatFilter | None = None


def install_logging(level: str) -> RepeatFilter:
    """One stderr handler with a :class:`RepeatFilter` for the project's and asyncio's
    loggers, and the same filter on uvicorn's error log (not on its access log). Call it
    after uvicorn has configured its loggers."""
    global _active
    repeat = _active = RepeatFilter()
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(repeat)
    for name in ("khalis_kg", "asyncio"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        for h in logging.getLogger(name).handlers:
            h.addFilter(repeat)
    return repeat


def emit_summaries() -> None:
    """Log the counts of repeated records whose window ended (no-op before
    :func:`install_logging`)."""
    if _active is None:
        return
    for record in _active.flush():
        logger = logging.getLogger(record.name)
        for handler in logger.handlers or logging.getLogger("khalis_kg").handlers:
            if record.levelno >= handler.level:
                handler.emit(record)  # past the filter: the summary itself is not a repeat


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's reports as one line each (no traceback), through the repeat filter."""
    exc = context.get("exception")
    message = context.get("message", "asyncio error")
    logging.getLogger("asyncio").error(
        "%s: %s", message, f"{type(exc).__name__}: {exc}" if exc else "-"
    )

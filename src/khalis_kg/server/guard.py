"""Log hygiene for ``khalis-kg serve`` (connections are uvicorn's: see docs/server.md).

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


class RepeatFilter(logging.Filter):
    """Log the first record of a kind, count the repeats within ``window`` seconds.

    A kind is the logger, the level and the message template (``record.msg``), so the same
    failure with different details (a port, a path) counts as a repeat; a record may name
    its kind itself with ``extra={"repeat_key": ...}``.
    """

    def __init__(self, window: float = 5.0) -> None:
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

    def flush(self) -> None:
        """Log the count of each kind whose window ended with repeats: one record, past
        the filter (a summary is not a repeat), on its logger's handlers."""
        now = time.monotonic()
        with self._lock:
            ended = [
                (kind, entry) for kind, entry in self._seen.items() if now - entry[0] >= self.window
            ]
            for kind, _ in ended:
                del self._seen[kind]
        for _, (start, repeats, last) in ended:
            if not repeats:
                continue
            summary = logging.makeLogRecord(last.__dict__)
            summary.msg = f"repeated {repeats} times in {now - start:.0f} s: %s"
            summary.args = (last.getMessage(),)
            summary.exc_info = summary.exc_text = None
            logger = logging.getLogger(summary.name)
            for handler in logger.handlers or logging.getLogger("khalis_kg").handlers:
                if summary.levelno >= handler.level:
                    handler.emit(summary)


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
    if _active is not None:
        _active.flush()


def loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """asyncio's reports as one line each (no traceback), through the repeat filter."""
    exc = context.get("exception")
    message = context.get("message", "asyncio error")
    logging.getLogger("asyncio").error(
        "%s: %s", message, f"{type(exc).__name__}: {exc}" if exc else "-"
    )

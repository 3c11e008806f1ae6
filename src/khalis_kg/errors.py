"""The exception hierarchy: every error the library raises on purpose is a KhalisError.

The command line maps these to exit codes and the HTTP server to status codes; nothing
else should ever reach a user as a traceback. The exit codes are defined here, once
(:data:`EXIT_CODES`; tests/test_isolation.py checks the README's table against it).
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any

EXIT_OK = 0
EXIT_NOT_CONFORMING = 1
EXIT_USAGE = 2
EXIT_TIME_LIMIT = 3
EXIT_MEMORY_LIMIT = 4
EXIT_CRASH = 5
EXIT_REMOTE = 6
EXIT_OUTPUT = 7
"""Also for a closed pipe on standard output, then silently: the reader went away, as
``| head`` does."""
EXIT_CANNOT_START = 8
EXIT_INTERRUPTED = 130
"""128 + SIGINT, as shells expect."""

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success (validate: the data conforms)",
    EXIT_NOT_CONFORMING: "the data does not conform (validate)",
    EXIT_USAGE: "usage or input error (bad option, missing file, syntax error, refused query)",
    EXIT_TIME_LIMIT: "stopped at the time limit",
    EXIT_MEMORY_LIMIT: "stopped at the memory limit",
    EXIT_CRASH: "the engine crashed (a panic, a segmentation fault, an abort, a stack overflow)",
    EXIT_REMOTE: "the remote store failed (unreachable, too slow, not 2xx, or a bad answer)",
    EXIT_OUTPUT: "the output could not be written",
    EXIT_CANNOT_START: "the server could not start (address in use or cannot be bound)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


def truncate(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut (the one
    truncation helper: messages, table cells)."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 0 else ""


def printable(text: str) -> str:
    """``text`` with every control character shown escaped (``\\x1b``, ``\\x9b``,
    ``\\u2028``...): C0 other than tab and newline, DEL, C1, and the line and
    paragraph separators, so that text from outside (a remote store's answer, a label in
    the data) cannot move the cursor, set the window title or the clipboard, or clear
    the terminal; and lone surrogates (bytes of a name or an argument that were not
    UTF-8, ``\\udcff``), which no terminal encoding can write. Tab and newline are kept;
    backslashes are kept as they are. Machine formats are never passed through it."""
    return _CONTROL.sub(_escape, text)


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def one_line(message: str, limit: int = 200, *, empty: str = "syntax error") -> str:
    """The first line of a (library or engine) message, cut to ``limit`` characters,
    its control characters escaped (:func:`printable`); ``empty`` stands for a blank
    message."""
    stripped = message.strip()
    return truncate(printable(stripped.splitlines()[0]) if stripped else empty, limit)


def esc(text: object) -> str:
    """``text`` escaped for HTML or XML text and attribute values (the one escaping
    helper: the diagrams' SVG, the server's pages, the ontology documentation)."""
    import html  # here: no verb that prints a table or an answer needs it

    return html.escape(str(text), quote=True)


class KhalisError(Exception):
    """Base class of every error khalis-kg raises on purpose.

    Every KhalisError pickles (attributes included, whatever its constructor takes), so
    that an error raised in an isolated child process reaches the caller as itself.
    """

    exit_code = EXIT_USAGE
    http_status = 400

    def __reduce__(self) -> tuple[Any, ...]:  # made again without __init__: args, attributes
        return (type(self).__new__, (type(self), *self.args), self.__dict__)


class InputError(KhalisError):
    """A file is missing, unreadable, or not valid RDF."""


class RDFSyntaxError(InputError):
    """An RDF file could not be parsed; ``source`` and ``line`` say where."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None):
        super().__init__(message)
        self.source = source
        self.line = line


class QueryError(KhalisError):
    """A SPARQL query is malformed, refused, or failed to run."""


class QuerySyntaxError(QueryError):
    """A SPARQL query could not be parsed; ``line`` and ``column`` say where when known."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class QueryRefusedError(QueryError):
    """A query would reach beyond the store (``SERVICE``, a ``FROM`` graph it does not
    hold): refused before any engine sees it."""

    http_status = 403


class UnverifiableQueryError(QuerySyntaxError):
    """A query the verifier's SPARQL grammar cannot read: refused and never run, since
    it cannot be verified as read-only. (An undeclared prefix is a plain
    :class:`QuerySyntaxError` naming it.)"""


class ReadOnlyError(QueryError):
    """A SPARQL Update (or other write) was sent to a read-only interface."""

    http_status = 403


class QueryTimeoutError(QueryError):
    """A query ran longer than its time limit or produced too many results."""

    http_status = 503


class LimitError(KhalisError):
    """Work run in isolation (:mod:`khalis_kg.isolation`) was stopped at a limit."""

    http_status = 503


class TimeLimitError(LimitError, QueryTimeoutError):
    """Isolated work ran past its wall-clock limit and was killed."""

    exit_code = EXIT_TIME_LIMIT


class MemoryLimitError(LimitError):
    """Isolated work needed more memory than its limit allows and was stopped."""

    exit_code = EXIT_MEMORY_LIMIT


class EngineCrashError(KhalisError):
    """The engine crashed in an isolated child (panic, segfault, abort, stack overflow);
    ``signal`` names the signal that ended it, when one did."""

    exit_code = EXIT_CRASH
    http_status = 500

    def __init__(self, message: str, *, signal: str | None = None, detail: str = ""):
        super().__init__(message)
        self.signal = signal
        self.detail = detail
        """What the child wrote on stderr (a panic message, a traceback), for a bug report."""


class UnknownQueryError(KhalisError):
    """No packaged query has that name; ``suggestions`` lists the closest names."""

    http_status = 404

    def __init__(self, name: str, suggestions: list[str]):
        hint = f" Did you mean: {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no packaged query named {name!r}.{hint}")
        self.name = name
        self.suggestions = suggestions


class ParameterError(KhalisError):
    """A query parameter is unknown, missing, or of the wrong type."""


class OutputError(KhalisError):
    """An output target is refused before anything is written to it: a symbolic link, a
    directory, a socket, a FIFO without a reader, a missing directory."""


class UnwritableError(OutputError):
    """The answer cannot be written in the format asked for: XML 1.0 (SPARQL XML results,
    RDF/XML) cannot carry a control character other than tab, newline and carriage
    return, nor U+FFFE or U+FFFF. HTTP 406: another format can."""

    http_status = 406


class WriteError(OutputError):
    """Writing the output failed: a full device, a closed pipe, an I/O error, no
    permission (on standard output or error, ``-o FILE`` or ``docs -o DIR``)."""

    exit_code = EXIT_OUTPUT
    http_status = 500


class BackendError(KhalisError):
    """A store or remote endpoint failed (unreachable, timed out, refused)."""

    http_status = 502


class RemoteStoreError(BackendError):
    """The remote store failed: unreachable, no complete answer within the remote
    timeout, refused (401/403), an answer that is not 2xx, or a redirect that is not
    followed (a write redirected, a read sent to another origin). Exit 6, HTTP 502."""

    exit_code = EXIT_REMOTE


class RemoteAnswerError(RemoteStoreError):
    """The remote store answered 2xx, but not with a valid answer: malformed,
    truncated, nested too deeply, wrongly typed, or in a format that was not asked for.
    The store's fault, not the query's: exit 6, HTTP 502."""


class ServerStartError(KhalisError):
    """``serve`` could not start: the address is in use or cannot be bound. Exit 8."""

    exit_code = EXIT_CANNOT_START
    http_status = 500

"""The exception hierarchy: every error the library raises on purpose is a KhalisError.

The command line maps these to exit codes (2 for input and usage errors) and the
HTTP server to status codes; nothing else should ever reach a user as a traceback.
"""

from __future__ import annotations


class KhalisError(Exception):
    """Base class of every error khalis-kg raises on purpose."""

    exit_code = 2
    http_status = 400


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


class ReadOnlyError(QueryError):
    """A SPARQL Update (or other write) was sent to a read-only interface."""

    http_status = 403


class QueryTimeoutError(QueryError):
    """A query ran longer than its time limit or produced too many results."""

    http_status = 503


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
    """An output file cannot be written."""


class BackendError(KhalisError):
    """A store or remote endpoint failed (unreachable, timed out, refused)."""

    http_status = 502

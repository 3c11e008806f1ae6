"""``khalis-kg serve``: a read-only SPARQL endpoint and linked-data pages.

Importing this package is cheap (the standard library only): Starlette and uvicorn are
imported when the server starts. Needs POSIX (see :func:`serve`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from dataclasses import dataclass, field

from .. import isolation
from ..options import REMOTE, SERVE, check_source, graph_files

__all__ = ["Settings", "listen", "serve"]


@dataclass(frozen=True)
class Settings:
    """What :func:`serve` serves and the limits of each query; the defaults are the safe
    ones, the names those of ``khalis-kg serve``'s options. Checked when made (a
    ParameterError naming the setting), before any worker or socket."""

    data: tuple[str, ...] | None = None
    """RDF files (a file name alone is one file); None: the packaged graph."""
    named_graphs: tuple[tuple[str, str], ...] = ()
    """``(graph IRI, file)`` pairs served as named graphs beside ``data``, which the
    protocol's ``default-graph-uri`` and ``named-graph-uri`` can choose; an IRI once."""
    backend: str = "oxigraph"
    endpoint: str | None = None
    """The store's SPARQL query URL, for ``backend="remote"``: the server then fronts
    that store's data (:meth:`~khalis_kg.KnowledgeGraph.connect`)."""
    remote_graph: str | None = None
    """The graph of the store that holds the data; every query is scoped to it."""
    remote_timeout: float | None = None
    """Seconds for each HTTP exchange with the store, whole (None: 30)."""
    remote_request: str = "form"
    """How queries are sent to the store: ``form``, ``get`` or ``direct``."""
    store: str | None = None
    """An on-disk Oxigraph store served in place: opened read-only
    (:meth:`~khalis_kg.KnowledgeGraph.open_store`), nothing is loaded, and another
    process may hold it open for writing."""
    with_ontology: bool = True
    timeout: float = SERVE["timeout"]
    """Seconds each query may run (``--timeout``)."""
    max_results: int = SERVE["max_results"]
    """Rows (or triples) a query may return."""
    workers: int = field(default_factory=lambda: min(8, max(2, os.cpu_count() or 2)))
    """Query worker processes: the CPU count, at least 2 (so one slow query never blocks
    everything), at most 8."""
    memory_limit: int | None = isolation.DEFAULT_MEMORY_LIMIT
    """Bytes each query may add to what its worker holds (the loaded graph does not
    count; None: no cap), as each step of a command-line verb may (``--memory-limit``,
    whose default ``auto`` is this 2 GiB, or more for large data files)."""
    max_body_bytes: int = 1024 * 1024
    max_query_chars: int = 100_000
    queue_timeout: float = SERVE["queue_timeout"]
    """Seconds a request waits for a free query worker before a 503."""
    body_timeout: float = SERVE["body_timeout"]
    """Seconds a client has, once its request head is read, to send the body (408)."""

    def __post_init__(self) -> None:
        """The numbers and the sources checked (``serve()`` is also called from Python);
        ``data`` and ``named_graphs`` as tuples of file names."""
        from ..checks import count, optional_count, optional_seconds, seconds

        for name in ("timeout", "queue_timeout", "body_timeout"):
            seconds(getattr(self, name), name)
        optional_seconds(self.remote_timeout, "remote_timeout")
        for name in ("max_results", "max_body_bytes", "max_query_chars"):
            count(getattr(self, name), name)
        count(self.workers, "workers", maximum=64)
        limit, most = self.memory_limit, isolation.MAX_MEMORY_LIMIT
        optional_count(limit, "memory_limit", minimum=64 * 1024**2, maximum=most)
        data = self.data
        if data is not None:
            files = [data] if isinstance(data, (str, os.PathLike)) else data
            object.__setattr__(self, "data", tuple(os.fspath(f) for f in files))
        graphs = tuple(graph_files(self.named_graphs).items())  # an IRI twice: refused
        object.__setattr__(self, "named_graphs", graphs)
        check_source(
            self.backend,
            self.store,
            self.endpoint,
            chosen={
                "--data": self.data,
                "--named-graph": graphs,
                "--without-ontology": not self.with_ontology,
            },
            remote={name: getattr(self, name, None) for name in REMOTE}
            | {"remote_request": self.remote_request != "form"},  # (no graph_store here)
        )


def serve(
    settings: Settings | None = None,
    *,
    host: str = SERVE["host"],
    port: int = SERVE["port"],
    log_level: str = SERVE["log_level"],
    keep_alive: int = SERVE["keep_alive"],
    max_connections: int = SERVE["max_connections"],
) -> None:
    """Serve the knowledge graph as ``settings`` say (:class:`Settings`; the packaged
    graph by default) over HTTP until interrupted (blocks). Binds 127.0.0.1 by default.

    Connections (uvicorn's own settings): an idle keep-alive connection is closed after
    ``keep_alive`` seconds; with ``max_connections`` connections open, requests are
    answered 503 (uvicorn's ``limit_concurrency``). A request head has no timeout: a
    reverse proxy's job (docs/server.md); its body's and its wait for a worker are
    :class:`Settings`'.
    """
    from ..errors import KhalisError

    settings = settings or Settings()
    if os.name != "posix":  # pragma: no cover - Windows
        raise KhalisError(
            "khalis-kg serve needs a POSIX system (Linux, macOS): its query workers are "
            "forked, talked to over socket pairs and capped with RLIMIT_AS; the command "
            "line and the Python API work here"
        )
    try:
        import uvicorn

        from . import guard
        from .app import create_app, running
    except ImportError as exc:
        raise KhalisError(
            f"khalis-kg serve needs the server extra ({exc.name} is not installed): "
            "pip install 'khalis-kg[server]'"
        ) from None

    app = create_app(settings)
    listener = listen(host, port)  # first: a busy port fails at once, before any worker
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        http="h11",  # pure Python, and the one that reads h11_max_incomplete_event_size
        limit_concurrency=max_connections,
        timeout_keep_alive=keep_alive,
        # Long GET URLs must reach the application so that it answers 413 itself; a
        # request head larger than this is refused by h11 (400) without being buffered.
        h11_max_incomplete_event_size=2 * 1024 * 1024,
        server_header=False,
        timeout_graceful_shutdown=5,
        # The workers are started here (running(), below), not in uvicorn's lifespan,
        # so that a failure to start is the KhalisError itself: one line and its exit
        # code from the command line, not uvicorn's lifespan traceback and exit 3.
        lifespan="off",
    )
    guard.install_logging(log_level)
    server = uvicorn.Server(config)

    async def main() -> None:
        async with running(app, settings):
            shown = f"[{host}]" if ":" in host else host
            logging.getLogger("khalis_kg.server").info(
                "listening on http://%s:%d (Ctrl-C to stop)", shown, listener.getsockname()[1]
            )
            await server.serve(sockets=[listener])

    try:  # uvloop's event loop where the server extra installs it (docs/server.md)
        from uvloop import run
    except ImportError:  # pragma: no cover - not CPython on POSIX
        run = asyncio.run  # type: ignore[assignment]  # the same call, without loop_factory
    try:
        run(main())
    finally:
        listener.close()


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port`` (as uvicorn binds it: SO_REUSEADDR), or
    :class:`~khalis_kg.errors.ServerStartError` (exit 8) in one line when the address
    is in use, not this machine's, or the port out of range."""
    from ..errors import ServerStartError

    where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    if not 0 <= port <= 65535:
        raise ServerStartError(f"cannot listen on {where}: a port is a number from 0 to 65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
    except (OSError, UnicodeError) as exc:
        raise ServerStartError(f"cannot listen on {where}: {_why(exc)}") from None
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise ServerStartError(f"cannot listen on {where}: {_why(exc)}") from None
    return sock


def _why(exc: BaseException) -> str:
    from ..errors import one_line

    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return one_line(text, 120, empty=type(exc).__name__)

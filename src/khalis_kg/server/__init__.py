"""``khalis-kg serve``: a read-only SPARQL endpoint and linked-data pages.

Importing this package is cheap (the standard library only); Starlette and uvicorn are
imported when the server starts. The command line's ``serve`` (its options are in
:mod:`khalis_kg.cli`, shared with the other verbs) imports it when it runs. Needs POSIX
(see :func:`serve`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Sequence
from pathlib import Path

from ..options import STORE_NEEDS_OXIGRAPH, graph_files

__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "STORE_NEEDS_OXIGRAPH",
    "default_workers",
    "listen",
    "serve",
]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def default_workers() -> int:
    """Query worker processes: the CPU count, at least 2 (so one slow query never blocks
    everything), at most 8."""
    return min(8, max(2, os.cpu_count() or 2))


def serve(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    data: str | Path | Sequence[str | Path] | None = None,
    backend: str = "oxigraph",
    timeout: float = 5.0,
    max_results: int = 10_000,
    *,
    workers: int | None = None,
    with_ontology: bool = True,
    memory_limit: int | None = 2 * 1024**3,
    log_level: str = "info",
    endpoint: str | None = None,
    remote_graph: str | None = None,
    remote_timeout: float | None = None,
    remote_request: str = "form",
    keep_alive: int = 5,
    body_timeout: float = 10.0,
    max_connections: int = 256,
    queue_timeout: float = 30.0,
    named_graphs: Sequence[tuple[str, str | Path]] = (),
    store: str | Path | None = None,
) -> None:
    """Serve the knowledge graph over HTTP until interrupted (blocks).

    ``data`` are RDF files (the packaged graph when None), ``named_graphs`` ``(IRI,
    file)`` pairs served as named graphs (which the protocol's ``default-graph-uri`` and
    ``named-graph-uri`` can then choose); each query may run
    ``timeout`` seconds and return ``max_results`` results. Binds 127.0.0.1 by default.
    With ``backend="remote"``, ``endpoint`` is the store's SPARQL query URL: the server
    then fronts that store's data (:meth:`KnowledgeGraph.connect`);
    ``remote_timeout`` bounds each HTTP exchange with the store, whole (30 s when None),
    and ``remote_request`` says how queries are sent to it (``form``, ``get``, ``direct``:
    :meth:`KnowledgeGraph.connect`);
    ``remote_graph`` names the graph of the store that holds the data (every query is
    scoped to it). ``store`` is an on-disk Oxigraph store served in place: opened
    read-only (:meth:`KnowledgeGraph.open_store`), nothing is loaded, and another
    process may hold it open for writing.

    Each query may add ``memory_limit`` bytes to what its worker holds (the loaded graph
    does not count), as each step of a command-line verb may (``--memory-limit``, whose
    default ``auto`` is this 2 GiB, or more for large data files), and may run
    ``timeout`` seconds (``--timeout``).

    Connections (uvicorn's own settings): an idle keep-alive connection is closed after
    ``keep_alive`` seconds; once a request head is read its body must arrive within
    ``body_timeout`` seconds (408); with ``max_connections`` connections open, requests
    are answered 503 (uvicorn's ``limit_concurrency``). There is no timeout on a request
    head: a reverse proxy's job (docs/server.md). A request waits at most
    ``queue_timeout`` seconds for a free query worker.
    """
    from ..errors import KhalisError, ParameterError

    if os.name != "posix":  # pragma: no cover - Windows
        raise KhalisError(
            "khalis-kg serve needs a POSIX system (Linux, macOS): its query workers are "
            "forked, talked to over socket pairs and capped with RLIMIT_AS; the command "
            "line and the Python API work here"
        )
    if backend == "remote" and not endpoint:
        raise KhalisError("serve --backend remote needs --endpoint URL (the store's query URL)")
    if backend == "remote" and (data or named_graphs):
        raise ParameterError(
            "serve --backend remote serves the store's data: put files there with "
            "khalis-kg load FILE --graph-store URL, not --data or --named-graph"
        )
    if store is not None:
        if data or named_graphs or not with_ontology:
            raise ParameterError(
                "serve --store DIR serves the store as it is: give no --data, --named-graph "
                "or --no-ontology"
            )
        if backend != "oxigraph":
            raise ParameterError(STORE_NEEDS_OXIGRAPH)
    try:
        import uvicorn

        from . import guard
        from .app import Settings, create_app, running
    except ImportError as exc:
        raise KhalisError(
            f"khalis-kg serve needs the server extra ({exc.name} is not installed): "
            "pip install 'khalis-kg[server]'"
        ) from None

    if isinstance(data, (str, Path)):
        data = [data]
    settings = Settings(
        data=tuple(str(p) for p in data) if data else None,
        named_graphs=tuple(graph_files(named_graphs).items()),
        backend=backend,
        endpoint=endpoint,
        remote_graph=remote_graph,
        remote_timeout=remote_timeout,
        remote_request=remote_request,
        store=None if store is None else str(store),
        with_ontology=with_ontology,
        timeout=timeout,
        max_results=max_results,
        workers=workers or default_workers(),
        memory_limit=memory_limit,
        body_timeout=body_timeout,
        queue_timeout=queue_timeout,
    )
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
        loop="asyncio",
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

    try:
        asyncio.run(main())
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
    return one_line(text or type(exc).__name__, 120, empty=type(exc).__name__)

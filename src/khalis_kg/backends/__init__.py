"""Query engines behind :class:`khalis_kg.KnowledgeGraph`.

``oxigraph`` (default, pyoxigraph), ``memory`` (rdflib) and ``remote`` (a SPARQL 1.1
endpoint over HTTP, :mod:`.remote`); each imports its engine only when it is created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from ..errors import KhalisError
from ..rdfio import Source
from .base import Backend

BackendName = Literal["oxigraph", "memory", "remote"]
"""The engines' names (the type the facade and the skins use)."""
BACKENDS: tuple[str, ...] = get_args(BackendName)
"""The one list of backend names: ``oxigraph`` (the default), ``memory``, ``remote``."""
DEFAULT_BACKEND: BackendName = "oxigraph"


def create_backend(
    name: str = DEFAULT_BACKEND,
    *,
    store: str | Path | None = None,
    graph_store: str | None = None,
    timeout: float | None = None,
    remote_graph: str | None = None,
    remote_request: str | None = None,
    read_only: bool = False,
) -> Backend:
    """A new backend called ``name``.

    ``store`` is the directory of an on-disk Oxigraph store, or for ``remote`` the
    endpoint's query URL (required). ``graph_store`` (remote only) is the endpoint's
    SPARQL Graph Store URL (Oxigraph server: ``.../store``), needed to load data;
    ``timeout`` (remote only) bounds every HTTP exchange, in seconds; ``remote_graph``
    (remote only) names the graph of the store that holds the data (queries are scoped
    to it, loads write there); ``remote_request`` (remote only) is the request style,
    ``form`` (default), ``get`` or ``direct``. ``read_only`` (oxigraph only) opens the
    existing on-disk store at ``store`` read-only.
    """
    if read_only and (name != "oxigraph" or store is None):
        raise KhalisError("read_only applies to an on-disk Oxigraph store (store=DIR) only")
    remote_only = (graph_store, timeout, remote_graph, remote_request)
    if name != "remote" and any(x is not None for x in remote_only):
        raise KhalisError(
            "graph_store, timeout, remote_graph and remote_request apply to the remote backend only"
        )
    if name == "oxigraph":
        from .oxigraph import OxigraphBackend

        return OxigraphBackend(store, read_only=read_only)
    if name == "memory":
        if store is not None:
            raise KhalisError("the memory backend has no on-disk store; use backend='oxigraph'")
        from .memory import MemoryBackend

        return MemoryBackend()
    if name == "remote":
        if store is None:
            raise KhalisError("the remote backend needs the endpoint's query URL as store=URL")
        from ..http_session import DEFAULT_TIMEOUT
        from .remote import RemoteBackend

        return RemoteBackend(
            str(store),
            store_url=graph_store,
            timeout=timeout or DEFAULT_TIMEOUT,
            graph=remote_graph,
            request=remote_request or "form",
        )
    raise KhalisError(f"unknown backend {name!r} (choose one of: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "BackendName", "Source", "create_backend"]

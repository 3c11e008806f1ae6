"""Query engines behind :class:`khalis_kg.KnowledgeGraph`.

``oxigraph`` (default, pyoxigraph), ``memory`` (rdflib) and ``remote`` (a SPARQL 1.1
endpoint over HTTP, :mod:`.remote`); each imports its engine only when it is created.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal, get_args

from ..errors import KhalisError
from .base import Backend as Backend  # re-exported

BackendName = Literal["oxigraph", "memory", "remote"]
"""The engines' names (the type the facade and the skins use)."""
BACKENDS: tuple[str, ...] = get_args(BackendName)
"""The one list of backend names: ``oxigraph`` (the default), ``memory``, ``remote``."""
LocalBackend = Literal["oxigraph", "memory"]
"""The engines that hold their data in this process (``KnowledgeGraph.load``)."""
LOCAL_BACKENDS: tuple[str, ...] = get_args(LocalBackend)
DEFAULT_BACKEND: LocalBackend = "oxigraph"


def create_backend(
    name: str = DEFAULT_BACKEND, *, store: str | Path | None = None, read_only: bool = False
) -> Backend:
    """A new local backend called ``name`` (``oxigraph`` or ``memory``); ``store`` is
    the directory of an on-disk Oxigraph store, opened ``read_only`` when asked. The
    remote backend is made by ``KnowledgeGraph.connect`` (:class:`.remote.RemoteBackend`).
    """
    if name == "oxigraph":
        from .oxigraph import OxigraphBackend

        return OxigraphBackend(store, read_only=read_only)
    if name == "memory" and store is None and not read_only:
        from .memory import MemoryBackend

        return MemoryBackend()
    raise KhalisError(
        f"no local backend {name!r}"
        + (" with an on-disk store" if store is not None or read_only else "")
        + f" (choose one of: {', '.join(LOCAL_BACKENDS)})"
    )

"""Query engines behind :class:`khalis_kg.KnowledgeGraph`.

``oxigraph`` (default, pyoxigraph), ``memory`` (rdflib) and ``remote`` (a SPARQL 1.1
endpoint over HTTP, :mod:`.remote`); each imports its engine only when it is created.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import KhalisError
from .base import Backend, Source, format_for

BACKENDS = ("oxigraph", "memory", "remote")


def create_backend(name: str = "oxigraph", *, store: str | Path | None = None) -> Backend:
    """A new backend called ``name``.

    ``store`` is the directory of an on-disk Oxigraph store, or for ``remote`` the
    endpoint's query URL (required).
    """
    if name == "oxigraph":
        from .oxigraph import OxigraphBackend

        return OxigraphBackend(store)
    if name == "memory":
        if store is not None:
            raise KhalisError("the memory backend has no on-disk store; use backend='oxigraph'")
        from .memory import MemoryBackend

        return MemoryBackend()
    if name == "remote":
        if store is None:
            raise KhalisError("the remote backend needs the endpoint's query URL as store=URL")
        from .remote import RemoteBackend

        return RemoteBackend(str(store))
    raise KhalisError(f"unknown backend {name!r} (choose one of: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "Backend", "Source", "create_backend", "format_for"]

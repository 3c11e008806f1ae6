"""Query engines behind :class:`khalis_kg.KnowledgeGraph`.

``oxigraph`` (default, pyoxigraph) and ``memory`` (rdflib); each imports its engine
only when it is created.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import KhalisError
from .base import Backend, Source, format_for

BACKENDS = ("oxigraph", "memory")


def create_backend(name: str = "oxigraph", *, store: str | Path | None = None) -> Backend:
    """A new, empty backend called ``name`` (``store`` = directory for on-disk Oxigraph)."""
    if name == "oxigraph":
        from .oxigraph import OxigraphBackend

        return OxigraphBackend(store)
    if name == "memory":
        if store is not None:
            raise KhalisError("the memory backend has no on-disk store; use backend='oxigraph'")
        from .memory import MemoryBackend

        return MemoryBackend()
    raise KhalisError(f"unknown backend {name!r} (choose one of: {', '.join(BACKENDS)})")


__all__ = ["BACKENDS", "Backend", "Source", "create_backend", "format_for"]

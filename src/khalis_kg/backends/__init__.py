"""Query engines behind :class:`khalis_kg.KnowledgeGraph`.

``oxigraph`` (default, pyoxigraph), ``memory`` (rdflib) and ``remote`` (a SPARQL 1.1
endpoint over HTTP, :mod:`.remote`); each imports its engine only when it is created.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import KhalisError
from .base import Backend as Backend  # re-exported

BACKENDS: tuple[str, ...] = ("oxigraph", "memory", "remote")
"""The one list of backend names: ``oxigraph`` (the default), ``memory``, ``remote``."""
LOCAL_BACKENDS: tuple[str, ...] = BACKENDS[:2]
"""The engines that hold their data in this process (``KnowledgeGraph.load``)."""

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:  # the same names, as types (tests/test_startup.py keeps them equal)
    from typing import Literal

    BackendName = Literal["oxigraph", "memory", "remote"]
    """The engines' names (the type the facade and the skins use)."""
    LocalBackend = Literal["oxigraph", "memory"]
    """The engines that hold their data in this process (``KnowledgeGraph.load``)."""

DEFAULT_BACKEND: LocalBackend = "oxigraph"


def __getattr__(name: str) -> object:
    """``BackendName`` and ``LocalBackend`` at run time, ``typing.Literal`` types of
    :data:`BACKENDS` and :data:`LOCAL_BACKENDS`, made when first asked for."""
    if name not in ("BackendName", "LocalBackend"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from typing import Literal

    return Literal[BACKENDS if name == "BackendName" else LOCAL_BACKENDS]


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

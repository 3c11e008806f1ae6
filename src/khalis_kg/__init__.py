"""khalis-kg: a linked-data knowledge graph of the 2015 Al Khalis prison break.

Nothing heavy is imported here: ``import khalis_kg`` must stay cheap so that the
command line starts fast. The public names are resolved lazily.
"""

from __future__ import annotations

__version__ = "0.1.0"

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any

    from .api import KnowledgeGraph, Stats
    from .errors import (
        BackendError,
        EngineCrashError,
        InputError,
        KhalisError,
        LimitError,
        MemoryLimitError,
        OutputError,
        ParameterError,
        QueryError,
        QueryRefusedError,
        QuerySyntaxError,
        QueryTimeoutError,
        RDFSyntaxError,
        ReadOnlyError,
        RemoteAnswerError,
        RemoteStoreError,
        ServerStartError,
        TimeLimitError,
        UnknownQueryError,
        UnverifiableQueryError,
        UnwritableError,
        WriteError,
    )
    from .results import QueryResult
    from .terms import Term
    from .validation import ValidationReport, ValidationResult

__all__ = [
    "BackendError",
    "EngineCrashError",
    "InputError",
    "KhalisError",
    "KnowledgeGraph",
    "LimitError",
    "MemoryLimitError",
    "OutputError",
    "ParameterError",
    "QueryError",
    "QueryRefusedError",
    "QueryResult",
    "QuerySyntaxError",
    "QueryTimeoutError",
    "RDFSyntaxError",
    "ReadOnlyError",
    "RemoteAnswerError",
    "RemoteStoreError",
    "ServerStartError",
    "Stats",
    "Term",
    "TimeLimitError",
    "UnknownQueryError",
    "UnverifiableQueryError",
    "UnwritableError",
    "ValidationReport",
    "ValidationResult",
    "WriteError",
    "__version__",
]
_LAZY = {
    **{name: ".errors" for name in __all__ if name.endswith("Error")},
    "KnowledgeGraph": ".api",
    "Stats": ".api",
    "QueryResult": ".results",
    "Term": ".terms",
    "ValidationReport": ".validation",
    "ValidationResult": ".validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'khalis_kg' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)

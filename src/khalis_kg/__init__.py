"""khalis-kg: a linked-data knowledge graph of the 2015 Al Khalis prison break.

Nothing heavy is imported here: ``import khalis_kg`` must stay cheap so that the
command line starts fast. The public names are resolved lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "KhalisError",
    "KnowledgeGraph",
    "ValidationReport",
    "ValidationResult",
    "__version__",
]

if TYPE_CHECKING:
    from .api import KnowledgeGraph
    from .errors import KhalisError
    from .validation import ValidationReport, ValidationResult

_LAZY = {
    "KnowledgeGraph": ".api",
    "KhalisError": ".errors",
    "ValidationReport": ".validation",
    "ValidationResult": ".validation",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'khalis_kg' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module, __name__), name)

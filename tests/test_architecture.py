"""The module graph of ``src/khalis_kg``: no import cycle, and the skins stay thin.

Every import counts, also one written inside a function or under ``TYPE_CHECKING``:
a cycle hidden behind a function-local import is still a cycle for whoever changes one
of its modules.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = "khalis_kg"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))}


def _resolve(current: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute module name of a relative import ``from {'.' * level}{target}``."""
    base = current.split(".")
    if not is_package:
        base = base[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join([*base, target] if target else base)


@functools.cache
def import_graph() -> dict[str, set[str]]:
    """Module → the package modules it imports (anywhere in its body); read once."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text("utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = _resolve(name, is_package, node.level, node.module)
                else:
                    base = node.module or ""
                # ``from . import x`` may import the submodule x
                targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
            for target in targets:
                # the nearest module of the package that the name lies in
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name and target.startswith(PACKAGE):
                    graph[name].add(target)
    return graph


def _without_parent_packages(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    """Importing ``a.b`` runs ``a/__init__`` first; that edge is Python's, not a design
    choice, so a package's ``__init__`` importing its own submodules is no cycle."""
    return {
        name: {t for t in targets if not name.startswith(t + ".")}
        for name, targets in graph.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of modules (first == last), or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_is_read() -> None:
    """The walker sees the imports it must see, function-local ones included."""
    graph = import_graph()
    assert "khalis_kg.api" in graph["khalis_kg.cli"]  # function-local in cli.py
    assert "khalis_kg.rdfio" in graph["khalis_kg.backends.oxigraph"]
    assert "khalis_kg.errors" in graph["khalis_kg.server.worker"]


def test_cycle_finder_finds_a_hidden_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycles() -> None:
    cycle = find_cycle(_without_parent_packages(import_graph()))
    assert cycle is None, " -> ".join(cycle or [])


BOTTOM = (
    "khalis_kg.errors",
    "khalis_kg.checks",
    "khalis_kg.nesting",
    "khalis_kg.files",
    "khalis_kg.namespaces",
    "khalis_kg.terms",
    "khalis_kg.rdfio",
)


@pytest.mark.parametrize("module", BOTTOM)
def test_bottom_modules_import_only_the_bottom(module: str) -> None:
    """errors → checks → nesting → files → namespaces → terms → rdfio: the layer
    everything else stands on."""
    below = BOTTOM[: BOTTOM.index(module)]
    assert import_graph()[module] <= set(below), module


@pytest.mark.parametrize(
    "module", ["khalis_kg.results", "khalis_kg.export", "khalis_kg.resources", "khalis_kg.loader"]
)
def test_shared_helpers_import_no_engine(module: str) -> None:
    """The result model, export, resources and loader work with any engine."""
    engines = {m for m in import_graph() if m.startswith("khalis_kg.backends")}
    assert not (import_graph()[module] & engines)


SKINS = ["khalis_kg.cli"] + [m for m in _modules() if m.startswith("khalis_kg.server")]
FACADE_INTERNALS = {
    "khalis_kg.catalogue",
    "khalis_kg.validation",
    "khalis_kg.loader",
    "khalis_kg.export",
    "khalis_kg.http_session",
    "khalis_kg.docs",
}


@pytest.mark.parametrize("skin", SKINS)
def test_skins_call_only_the_facade(skin: str) -> None:
    """The command line and the server reach engines, the catalogue, validation, export
    and loading only through :class:`khalis_kg.KnowledgeGraph`."""
    imported = import_graph()[skin]
    assert not {m for m in imported if m.startswith("khalis_kg.backends")}, imported
    assert not (imported & FACADE_INTERNALS), imported

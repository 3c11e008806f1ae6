"""The module graph of ``src/khalis_kg`` is the one docs/architecture.md draws: every
module in one of its layers and in its modules table, no module importing from a layer
above its own, no import cycle, and the skins thin.

Every import counts, also one written inside a function or under ``TYPE_CHECKING``:
a cycle hidden behind a function-local import is still a cycle for whoever changes one
of its modules.
"""

from __future__ import annotations

import ast
import functools
import re
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


# -- what docs/architecture.md says ----------------------------------------------------------
DOC = Path(__file__).resolve().parents[1] / "docs" / "architecture.md"


def _short(module: str) -> str:
    """A module as docs/architecture.md names it (``backends.oxigraph``, ``__init__``)."""
    return "__init__" if module == PACKAGE else module[len(PACKAGE) + 1 :]


@functools.cache
def documented_layers() -> list[tuple[str, list[str]]]:
    """The ``layers`` block of docs/architecture.md: (layer, its modules), top first."""
    block = DOC.read_text("utf-8").split("```layers\n", 1)[1].split("```", 1)[0]
    return [
        (name.strip(), modules.split())
        for name, _, modules in (line.partition(":") for line in block.splitlines())
    ]


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


def layer(name: str) -> list[str]:
    """The modules of one layer of docs/architecture.md, as importable names."""
    (modules,) = [ms for n, ms in documented_layers() if n == name]
    return [PACKAGE if m == "__init__" else f"{PACKAGE}.{m}" for m in modules]


BOTTOM = tuple(layer("bottom"))


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


SKINS = layer("skins")
FACADE_INTERNALS = {*layer("services"), "khalis_kg.export", "khalis_kg.http_session"}


@pytest.mark.parametrize("skin", SKINS)
def test_skins_call_only_the_facade(skin: str) -> None:
    """The command line and the server reach engines, the catalogue, validation, export
    and loading only through :class:`khalis_kg.KnowledgeGraph`."""
    imported = import_graph()[skin]
    assert not {m for m in imported if m.startswith("khalis_kg.backends")}, imported
    assert not (imported & FACADE_INTERNALS), imported


def test_every_module_is_in_one_documented_layer() -> None:
    named = [m for _, modules in documented_layers() for m in modules]
    assert sorted(named) == sorted(_short(m) for m in _modules())


def test_no_module_imports_from_a_layer_above_its_own() -> None:
    """The layers of docs/architecture.md, as built: each module imports from its own
    layer and those below it only."""
    layers = documented_layers()
    layer = {m: (len(layers) - i, name) for i, (name, ms) in enumerate(layers) for m in ms}
    climbs = [
        f"{_short(m)} ({layer[_short(m)][1]}) imports {_short(t)} ({layer[_short(t)][1]})"
        for m, targets in _without_parent_packages(import_graph()).items()
        for t in sorted(targets)
        if layer[_short(t)][0] > layer[_short(m)][0]
    ]
    assert not climbs, climbs


def test_the_modules_table_names_every_module() -> None:
    table = DOC.read_text("utf-8").split("## Modules (src/khalis_kg)", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([^`]+)` \|", table, flags=re.MULTILINE)
    assert sorted(rows) == sorted(_short(m) for m in _modules())

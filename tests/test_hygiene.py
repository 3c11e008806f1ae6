"""The tests themselves: shared helpers come from ``helpers.py``, no test module imports
another, and no test is empty."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
MODULES = sorted(TESTS.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_import_from_conftest_or_test_modules(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            assert name != "conftest", f"{path.name}: import it from helpers, not conftest"
            assert not name.startswith("test_"), f"{path.name} imports the test module {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.name)
def test_no_empty_tests(path: Path) -> None:
    tree = ast.parse(path.read_text("utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
            body = [
                n
                for n in node.body
                if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
            ]
            assert body, f"{node.name} has only a docstring"
            assert not all(isinstance(n, ast.Pass) for n in body), f"{node.name} only passes"

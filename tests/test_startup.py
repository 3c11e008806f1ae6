"""What ``khalis-kg query NAME`` imports: only what the verb needs (issue 23).

A cold ``khalis-kg query casualties`` was mostly imports; these tests pin the set. The
parent process (which forks the isolated child that loads and queries) imports no
engine, no server, no JSON, CSV or hashing module and no traceback formatter; the whole
verb (parent and child, run here in one process with the isolation switched off)
imports no server, HTTP client, rdflib, SHACL engine, export or validation module, and
no writer for formats it does not print. Timings are in bench/overhead.py, not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

NEVER = {
    "khalis_kg.server",
    "khalis_kg.export",
    "khalis_kg.validation",
    "khalis_kg.loader",
    "khalis_kg.http_session",
    "starlette",
    "uvicorn",
    "httpx",
    "http.client",
    "rdflib",
    "pyshacl",
    "pyshacl_turbo",
    "csv",
    "json",
    "secrets",
    "hashlib",
    "difflib",
    "html",
    "datetime",
    "decimal",
    "dataclasses",
    "inspect",
    "typing",
    "threading",
}
"""Modules the query verb never imports, in either process (``html``: only pages and
diagrams escape; ``datetime`` and ``decimal``: only a date parameter or a literal's
Python value needs them, never a table; ``dataclasses``, with ``inspect``: the value
classes of the query's path are :mod:`khalis_kg.records`; ``typing``: its names are
imported for the type checker only, ``if TYPE_CHECKING:``; ``threading``: only the
memory engine's parse tree is kept per thread)."""

PARENT_NEVER = NEVER | {"pyoxigraph", "khalis_kg.backends.oxigraph", "traceback"}
"""And in the parent: the engine is the child's, and so is any traceback."""

ROWS = {"casualties": "(3 rows)", "accounts": "(10 rows)"}

PROBE = """
import sys
{setup}
from khalis_kg.cli import main
assert main({argv!r}) == 0
print("MODULES", sorted(m for m in sys.modules if m in {never!r}), file=sys.stderr)
"""


def imported(argv: list[str], never: set[str], *, isolated: bool) -> str:
    setup = "" if isolated else "import khalis_kg.isolation as i; i.available = lambda: False"
    code = PROBE.format(setup=setup, argv=argv, never=never)
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == ROWS[argv[1]]  # the answer was printed
    return done.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    "argv", [["query", "casualties"], ["query", "accounts", "--width", "0"]], ids=str
)
def test_query_parent_imports(argv: list[str]) -> None:
    assert imported(argv, PARENT_NEVER, isolated=True) == "MODULES []"


@pytest.mark.parametrize(
    "argv", [["query", "casualties"], ["query", "accounts", "--width", "0"]], ids=str
)
def test_query_verb_imports(argv: list[str]) -> None:
    assert imported(argv, NEVER, isolated=False) == "MODULES []"


PACKAGE_PROBE = """
import sys
import khalis_kg.isolation as i
i.available = lambda: False
from khalis_kg.cli import main
assert main({argv!r}) == 0
print(sorted(m for m in sys.modules if m.startswith("khalis_kg")), file=sys.stderr)
"""

QUERY_MODULES = [
    "khalis_kg",
    "khalis_kg.api",
    "khalis_kg.backends",
    "khalis_kg.backends.base",
    "khalis_kg.backends.oxigraph",
    "khalis_kg.catalogue",
    "khalis_kg.checks",
    "khalis_kg.cli",
    "khalis_kg.errors",
    "khalis_kg.files",
    "khalis_kg.isolation",
    "khalis_kg.namespaces",
    "khalis_kg.options",
    "khalis_kg.rdfio",
    "khalis_kg.records",
    "khalis_kg.resources",
    "khalis_kg.results",
    "khalis_kg.safety",
    "khalis_kg.terms",
]
"""Every module of the package the query verb imports (parent and child): a module added
to this path costs every cold query its import (bench/overhead.py cold --breakdown)."""


@pytest.mark.parametrize(
    "argv", [["query", "casualties"], ["query", "accounts", "--width", "0"]], ids=str
)
def test_query_verb_imports_these_package_modules(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PACKAGE_PROBE.format(argv=argv)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines()[-1] == str(QUERY_MODULES)


def test_writers_work_in_the_locked_child() -> None:
    """CSV and JSON writers are imported before the child's descriptors are locked."""
    for fmt, start in (("csv", "event,status"), ("json", '{"head":{"vars":["event"')):
        done = subprocess.run(
            [sys.executable, "-m", "khalis_kg.cli", "query", "casualties", "--format", fmt],
            capture_output=True,
            text=True,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, "")
        assert done.stdout.startswith(start)


HELP_PROBE = """
import sys
{setup}
from khalis_kg.cli import main
assert main(["--help"]) == 0
print("SERVER", "khalis_kg.server" in sys.modules, file=sys.stderr)
"""


def test_help_lists_serve_without_importing_the_server() -> None:
    """``--help`` shows serve's line the same as with the server package imported, and
    imports no server (asyncio, sockets)."""
    outputs = []
    for setup, imported in (("", "False"), ("import khalis_kg.server", "True")):
        done = subprocess.run(
            [sys.executable, "-c", HELP_PROBE.format(setup=setup)],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "COLUMNS": "100"},
        )
        assert done.stderr.strip().splitlines()[-1] == f"SERVER {imported}"
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    (line,) = [x for x in outputs[0].splitlines() if x.startswith("  serve ")]
    assert line.split(None, 1)[1].startswith("Serve a read-only SPARQL endpoint")


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["query", "--help"], ["-V"]])
def test_help_imports_the_command_line_alone(argv: list[str]) -> None:
    """``--help`` (and a verb's, and the version) imports argparse and the command
    line's two modules: no facade, no click, no shutil (the width is read without it)."""
    code = (
        "import sys\nfrom khalis_kg.cli import main\n"
        f"assert main({argv!r}) == 0\n"
        "print(sorted(m for m in sys.modules if m.startswith(('khalis_kg', 'click')) "
        "or m in ('shutil', 'dataclasses', 'inspect', 'pathlib')), file=sys.stderr)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip().splitlines()[-1] == str(
        ["khalis_kg", "khalis_kg.cli", "khalis_kg.options"]
    )


def test_the_backend_types_name_the_backends() -> None:
    """``BackendName`` and ``LocalBackend`` are written for the type checker (under
    ``TYPE_CHECKING``: typing is not imported on the query's path) and made from
    ``BACKENDS`` at run time: both say the same names."""
    import ast
    from typing import get_args

    from khalis_kg import api, backends

    source = ast.parse(Path(backends.__file__).read_text("utf-8"))
    written = {
        node.targets[0].id: tuple(ast.literal_eval(node.value.slice))  # Literal[...]
        for node in ast.walk(source)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Subscript)
    }
    assert written == {"BackendName": backends.BACKENDS, "LocalBackend": backends.LOCAL_BACKENDS}
    assert get_args(api.BackendName) == backends.BACKENDS == api.BACKENDS
    assert get_args(api.LocalBackend) == backends.LOCAL_BACKENDS

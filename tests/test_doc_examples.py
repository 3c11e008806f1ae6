"""Every example of the README and of the site (``docs/*.md``) runs, and says what it
really prints.

* In a ```` ```console ```` or ```` ```sh ```` block, a line ``$ khalis-kg ARGS`` is run
  (a trailing ``\\`` continues it on the next line) and what it prints, stdout then
  stderr, must be the lines that follow it, up to the next ``$`` line, exactly (tables at
  the 100 columns of a non-terminal). ``$ echo $?`` shows the exit code of the command
  before it; a command without it must exit 0, or 2 when what it prints is a
  ``khalis-kg: error:`` line. The commands run in a scratch directory that sees the
  repository's ``tests/``, ``data/``, ``ontology/`` and ``queries/``.
* ``$ khalis-kg serve ARGS &`` starts the endpoint; ``$ curl -s URL`` then fetches URL
  from it (host and port replaced by the test server's) and must print the lines shown.
* Lines without a prompt (``khalis-kg export --format nt -o khalis.nt`` in a ```` ```sh ````
  block) are run too, and must exit 0, unless they start the endpoint or name a store
  on this machine (``http://127.0.0.1:7878/...``); other programs (pip, pytest,
  oxigraph...) are not run.
* ```` ```python ```` blocks are executed, in order, one namespace per page, except one
  that opens with a ``# not run: REASON`` line (a crash reproduced on purpose, a call
  that needs a store running elsewhere);
  ```` ```pycon ```` blocks are doctests (the ``>>>`` lines, their output compared).
* Docstring examples (``>>>``) in ``src/khalis_kg`` run as doctests.

After a change of the data or of an output, ``python tests/test_doc_examples.py``
rewrites what the ``$`` steps show (:func:`update_shown_output`).
"""

from __future__ import annotations

import contextlib
import doctest
import importlib
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from helpers import invoke
from server_helpers import run_server

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
_SEEN_BY_COMMANDS = ("tests", "data", "ontology", "queries")
NOT_COMPARED = "<not compared>"
_LOCAL = re.compile(r"http://(?:127\.0\.0\.1|localhost):\d+")


@dataclass
class Step:
    """One ``$`` line of an example and the lines it must print."""

    line: int
    command: str
    expected: list[str] = field(default_factory=list)
    end: int = 0  # the line after the command (its last continuation line included)


@dataclass
class Example:
    page: Path
    line: int
    steps: list[Step]

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def _blocks(page: Path, languages: tuple[str, ...]) -> Iterator[tuple[int, str, str]]:
    text = page.read_text("utf-8")
    for match in _FENCE.finditer(text):
        if match.group(1) in languages:
            yield text.count("\n", 0, match.start()) + 2, match.group(1), match.group(2)


def _needs_service(line: str) -> bool:
    """A line that starts the endpoint or talks to a store on this machine: the page
    is about that service, which the example does not start."""
    return line.startswith("khalis-kg serve") or _LOCAL.search(line) is not None


def _steps(start: int, language: str, body: str) -> list[Step]:
    steps: list[Step] = []
    lines = body.splitlines()
    i = 0
    while i < len(lines):
        line, first = lines[i], i
        command = line[2:] if line.startswith("$ ") else line
        while command.endswith("\\") and i + 1 < len(lines):
            i += 1
            command = command[:-1] + " " + lines[i].strip()
        command = command.strip()
        if line.startswith("$ "):
            steps.append(Step(start + first, command, end=start + i + 1))
        elif language == "sh" and line.startswith("khalis-kg "):
            if not _needs_service(command):
                steps.append(Step(start + first, command, [NOT_COMPARED]))
        elif steps and steps[-1].expected != [NOT_COMPARED]:
            steps[-1].expected.extend(lines[first : i + 1])
        i += 1
    return steps


def _examples() -> list[Example]:
    examples = []
    for page in PAGES:
        for line, language, body in _blocks(page, ("console", "sh")):
            steps = _steps(line, language, body)
            if any(s.command.startswith(("khalis-kg ", "curl ")) for s in steps):
                examples.append(Example(page, line, steps))
    return examples


EXAMPLES = _examples()


@pytest.fixture
def scratch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in _SEEN_BY_COMMANDS:
        (tmp_path / name).symlink_to(REPO / name, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("COLUMNS", raising=False)
    return tmp_path


def _run(command: str) -> tuple[int, list[str]]:
    args = shlex.split(command)
    assert args[0] == "khalis-kg", command
    result = invoke(args[1:])
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        command,
        result.exception,
    )
    return result.exit_code, (result.stdout + result.stderr).splitlines()


def _curl(command: str, base: str) -> list[str]:
    """What ``curl -s [-H 'NAME: VALUE']... [--data-urlencode 'KEY=VALUE']... URL`` prints,
    URL's host and port replaced by ``base``: a GET, or a form POST with data."""
    args = shlex.split(command)[1:]
    headers: dict[str, str] = {}
    form: dict[str, str] = {}
    url = ""
    while args:
        arg = args.pop(0)
        if arg == "-H":
            name, value = args.pop(0).split(":", 1)
            headers[name] = value.strip()
        elif arg == "--data-urlencode":
            key, value = args.pop(0).split("=", 1)
            form[key] = value
        elif arg != "-s":
            url = _LOCAL.sub(base, arg)
    method = "POST" if form else "GET"
    response = httpx.request(method, url, headers=headers, data=form or None, timeout=30)
    return response.text.splitlines()


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_command_line_example(example: Example, scratch: Path) -> None:
    base = ""
    code = 0
    with contextlib.ExitStack() as stack:
        for step in example.steps:
            where = f"{example.page.name}:{step.line}: {step.command}"
            if step.command == "echo $?":
                assert [str(code)] == step.expected, where
            elif step.command.startswith("khalis-kg serve") and step.command.endswith("&"):
                args = shlex.split(step.command[: -len("&")])[2:]
                for option in ("--port", "--host"):  # the test server's own, on a free port
                    if option in args:
                        del args[args.index(option) : args.index(option) + 2]
                base = stack.enter_context(run_server(*args))
            elif step.command.startswith("curl "):
                assert _curl(step.command, base) == step.expected, where
            elif step.command.startswith("khalis-kg "):
                code, lines = _run(step.command)
                if step.expected == [NOT_COMPARED]:
                    assert code == 0, (where, lines)
                    continue
                assert lines == step.expected, where
                following = example.steps[example.steps.index(step) + 1 :]
                if not (following and following[0].command == "echo $?"):
                    errors = lines and lines[-1].startswith("khalis-kg: error:")
                    assert code == (2 if errors else 0), where


def test_the_readme_and_the_site_have_examples() -> None:
    """The README's five examples (a question, according to whom, an export, a
    validation, the endpoint) are among the examples run."""
    readme = [e for e in EXAMPLES if e.page.name == "README.md"]
    commands = " ".join(s.command for e in readme for s in e.steps)
    for needed in ("query event-summary", "query casualties", "export", "validate", "curl"):
        assert needed in commands, needed
    assert len(EXAMPLES) >= 15


def test_the_map_of_the_accounts_is_the_current_diagram() -> None:
    """README.md and the site's home page show docs/accounts.svg: what ``khalis-kg
    diagram`` draws now. Regenerate it with ``khalis-kg diagram -o docs/accounts.svg``."""
    result = invoke(["diagram"])
    assert result.exit_code == 0, result.output
    committed = (REPO / "docs" / "accounts.svg").read_text("utf-8")
    assert committed == result.stdout, "run: khalis-kg diagram -o docs/accounts.svg"


PYTHON_PAGES = [p for p in PAGES if any(_blocks(p, ("python", "pycon")))]


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[p.name for p in PYTHON_PAGES])
def test_python_blocks_run(page: Path, scratch: Path) -> None:
    namespace: dict[str, object] = {"__name__": f"doc_{page.stem}"}
    for line, language, body in _blocks(page, ("python", "pycon")):
        where = f"{page.relative_to(REPO)}:{line}"
        if body.startswith("# not run:"):
            continue
        if language == "python":
            exec(compile("\n" * (line - 1) + body, str(page), "exec"), namespace)
            continue
        test = doctest.DocTestParser().get_doctest(body, namespace, where, str(page), line - 1)
        runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
        runner.run(test, clear_globs=False)
        assert runner.failures == 0, f"{where}: a doctest failed (output above)"


def test_docstring_examples_in_src() -> None:
    src = REPO / "src"
    for path in sorted((src / "khalis_kg").rglob("*.py")):
        if ">>>" in path.read_text("utf-8"):
            name = ".".join(path.relative_to(src).with_suffix("").parts)
            module = importlib.import_module(name.removesuffix(".__init__"))
            failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
            assert failures == 0, name


def update_shown_output() -> None:
    """Rewrite, in place, what every ``$ khalis-kg`` and ``$ echo $?`` step of the README
    and the site shows, from what it prints now (after a change of the data or of an
    output): ``python tests/test_doc_examples.py``. Review the diff before committing."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for name in _SEEN_BY_COMMANDS:
            (Path(tmp) / name).symlink_to(REPO / name, target_is_directory=True)
        os.chdir(tmp)
        os.environ.pop("COLUMNS", None)
        for page in PAGES:
            lines = page.read_text("utf-8").split("\n")
            edits: list[tuple[int, int, list[str]]] = []
            code = 0
            for example in (e for e in EXAMPLES if e.page == page):
                for step in example.steps:
                    if step.expected == [NOT_COMPARED] or step.command.endswith("&"):
                        continue
                    if step.command.startswith("khalis-kg "):
                        code, shown = _run(step.command)
                    elif step.command == "echo $?":
                        shown = [str(code)]
                    else:
                        continue
                    start = step.end - 1  # 0-based: the line after the command
                    edits.append((start, start + len(step.expected), shown))
            for begin, stop, shown in reversed(edits):
                lines[begin:stop] = shown
            page.write_text("\n".join(lines), "utf-8")


if __name__ == "__main__":
    update_shown_output()

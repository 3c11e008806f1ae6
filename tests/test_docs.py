"""The documentation says what the code does: every verb's hand-written synopsis (the
``### `khalis-kg VERB ...``` headings of the README and the site's pages) lists exactly
the options of its ``--help``, choices included; CI runs the README's own test command,
and builds the site and runs the tutorial before it. (The site's command-line reference
is ``--help`` itself, generated at build time by docs/hooks.py.)"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from khalis_kg.cli import VERBS, parser, verb_parser

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text("utf-8")
PAGES = {
    p: p.read_text("utf-8") for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
}
GETTING_STARTED = PAGES[REPO / "docs" / "getting-started.md"]
_OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
_CHOICES = re.compile(r"(--?[A-Za-z][\w-]*)[ =]([a-z0-9-]+(?:\|[a-z0-9-]+)+)")


CLI = parser()
VERB = {name: verb_parser(name) for name in VERBS}


def _options(actions: list[argparse.Action]) -> list[argparse.Action]:
    return [a for a in actions if a.option_strings and a.dest not in ("help", "version")]


def _choices(option: argparse.Action) -> set[str] | None:
    """The fixed choices shown in its metavar (``[a|b]``)."""
    shown = option.metavar
    if isinstance(shown, str) and shown.startswith("[") and "|" in shown:
        return set(shown[1:-1].split("|"))
    return None


def _check(synopsis: str, options: list[argparse.Action], where: str) -> None:
    shown = set(_OPTION.findall(synopsis))
    declared = {opt for o in options for opt in o.option_strings}
    assert shown <= declared, f"{where}: the README shows unknown options {shown - declared}"
    missing = [o.option_strings[-1] for o in options if not set(o.option_strings) & shown]
    assert not missing, f"{where}: the README's synopsis lacks {missing}"
    by_name = {opt: o for o in options for opt in o.option_strings}
    for name, values in _CHOICES.findall(synopsis):
        expected = _choices(by_name[name])
        assert expected is not None, f"{where}: {name} takes no fixed choices"
        assert set(values.split("|")) == expected, f"{where}: {name} {values}"


def test_shown_choices_are_the_accepted_ones() -> None:
    """Each ``[a|b]`` metavar lists exactly what the option accepts (its choices, or
    the canonical format names its type accepts)."""
    from khalis_kg.api import BACKENDS
    from khalis_kg.cli import RDF_FORMATS, RESULT_FORMATS
    from khalis_kg.options import BACKENDS as SHOWN_BACKENDS
    from khalis_kg.rdfio import formats_of

    def names(kind: str) -> list[str]:
        return [f.name for f in formats_of(kind)]

    assert SHOWN_BACKENDS == BACKENDS
    assert names("rdf") == list(RDF_FORMATS)
    assert tuple(dict.fromkeys([*names("results"), *names("graph")])) == RESULT_FORMATS
    for command in [CLI, *VERB.values()]:
        for option in _options(command.arguments):
            shown = _choices(option)
            if option.choices is not None:
                assert shown == set(option.choices), option.option_strings


def _heading(verb: str) -> str:
    lines = [
        line
        for text in PAGES.values()
        for line in text.splitlines()
        if line.startswith((f"### `khalis-kg {verb} ", f"### `khalis-kg {verb}`"))
    ]
    assert len(lines) == 1, f"the docs need one '### `khalis-kg {verb} ...`' heading"
    return lines[0].split("`")[1]  # the synopsis itself, not the prose after it


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_synopsis_lists_every_option(verb: str) -> None:
    _check(_heading(verb), _options(VERB[verb].arguments), verb)


def test_getting_started_lists_every_global_option() -> None:
    paragraph = GETTING_STARTED.split("Global options:", 1)[1].split("\n## ", 1)[0]
    options = _options(CLI.arguments)
    _check(paragraph, options, "global options")


def test_ci_runs_lint_then_the_readme_test_command_verbatim() -> None:
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)\n```", README, re.S)
    full = [b for b in blocks if "apt-get install" in b and "pytest" in b]
    assert len(full) == 1, "the README has one full test command"
    assert full[0] in ci.splitlines()
    lint = ci.index(".venv/bin/mypy")
    site = ci.index(".venv/bin/mkdocs build --strict")
    notebook = ci.index("pytest --nbmake docs/tutorial.ipynb")
    assert ci.index(".venv/bin/ruff check") < lint < site < notebook < ci.index(full[0])
    contributor = re.findall(r"```sh\n(.*?)\n```", GETTING_STARTED, re.S)
    contributor = [b for b in contributor if '-m "not browser"' in b]
    assert len(contributor) == 1, "docs/getting-started.md gives contributors a command"
    assert "apt-get" not in contributor[0]


def test_the_query_page_lists_the_predeclared_prefixes() -> None:
    from khalis_kg.namespaces import PREFIXES

    table = (
        PAGES[REPO / "docs" / "query.md"]
        .split("**Pre-declared prefixes.**", 1)[1]
        .split("\n\n", 2)[1]
    )
    rows = {line for line in table.splitlines() if line.startswith("| `")}
    assert rows == {f"| `{p}:` | `{ns}` |" for p, ns in PREFIXES.items()}


def test_every_page_is_in_the_site_navigation() -> None:
    """``mkdocs build --strict`` (a CI step of its own) refuses a page of docs/ left out
    of the navigation of mkdocs.yml: said here first, in the test suite."""
    config = (REPO / "mkdocs.yml").read_text("utf-8")
    nav = config.split("\nnav:\n", 1)[1]
    listed = set(re.findall(r":\s+(\S+\.(?:md|ipynb))\s*$", nav, re.M))
    pages = {p.relative_to(REPO / "docs").as_posix() for p in (REPO / "docs").rglob("*.md")}
    pages |= {"tutorial.ipynb"}
    generated = {"reference/cli.md", "reference/queries.md", "reference/diagrams.md"}
    assert pages - listed == set(), "add these pages to the nav of mkdocs.yml"
    assert listed - pages - generated == set(), "mkdocs.yml lists pages that do not exist"


def test_the_readme_stays_a_front_door() -> None:
    """README.md is at most 200 lines: what it is, the picture, the two commands, five
    examples, the exit codes and links; the rest belongs in a page of the site."""
    assert len(README.splitlines()) <= 200
    for section in ("## Two commands", "## Five examples", "## Exit codes", "## Documentation"):
        assert section in README, section
    assert re.search(r"^!\[[^\]]+\]\(docs/accounts\.svg\)$", README, re.M), "the picture"

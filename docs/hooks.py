"""MkDocs hooks (mkdocs.yml ``hooks:``): the pages generated at build time, and the
offline check.

Generated, never written by hand, so that they cannot drift from the code:

* ``reference/cli.md``: the ``--help`` of ``khalis-kg`` and of each of its commands,
  rendered by argparse at 80 columns (what a user sees in an 80-column terminal);
* ``reference/queries.md``: the packaged queries, from their headers (the catalogue);
* ``reference/diagrams.md`` and its SVG files: ``khalis-kg diagram`` of every kind;
* ``ontology/*``: the pyLODE documentation of the ontology (``khalis-kg docs``).

They are built through the facade (``khalis_kg.api``) and the command line's parser, as
the command line builds them. Every page is then checked to load nothing from the network:
no script, style sheet, font or image from another host.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from unittest.mock import patch

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from khalis_kg.api import KnowledgeGraph, query_catalogue
from khalis_kg.cli import parsers

#: the width the command-line reference is rendered at (``COLUMNS=80``)
HELP_WIDTH = 80
DIAGRAMS = {
    "accounts": "The map of the accounts",
    "timeline": "The timeline",
    "places": "The places",
    "ontology": "The ontology's classes and properties",
}
_EXTERNAL = re.compile(
    r"<(?:script|img|iframe|source)\b[^>]*\bsrc=[\"'](?:https?:)?//"
    r"|<link\b[^>]*\bhref=[\"'](?:https?:)?//[^\"']*[\"'][^>]*>"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|\bimport\s*\(\s*[\"'](?:https?:)?//",
    re.I,
)
_LINK_REL = re.compile(r"\brel=[\"']([^\"']*)[\"']", re.I)
_MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
# nbconvert's loader of mermaid.js from cdnjs: the notebook draws no mermaid diagram
_MERMAID_LOADER = re.compile(
    r'<script type="module">(?:(?!</script>).)*?cdnjs\.cloudflare\.com.*?</script>', re.S
)
_ROLE = re.compile(r":(?:py:)?(?:meth|class|func|mod|attr|data|exc|obj|const|ref):(?=<code>)")
_TILDE = re.compile(r"<code>~([\w.]+)</code>")
_VOCABULARIES: list[str] = []  # pyLODE's vocab-*.html pages, found by on_files
_NOT_LOADED = {"canonical", "alternate", "license", "author", "next", "prev", "help"}


def cli_page() -> str:
    """The ``--help`` of ``khalis-kg`` and of each of its commands, as argparse prints it
    in a terminal of :data:`HELP_WIDTH` columns."""
    lines = [
        "# Command-line reference",
        "",
        "Generated at build time from the command line's parser: each section is what",
        "`--help` prints in an 80-column terminal. The exit codes are in every `--help`",
        "and in [Getting started](../getting-started.md#exit-codes).",
        "",
    ]
    with patch.dict(os.environ, COLUMNS=str(HELP_WIDTH)):
        for path, command in parsers().items():
            lines += [f"## `{path}`", "", "```text", command.format_help().rstrip(), "```", ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def queries_page() -> str:
    infos = sorted(query_catalogue(), key=lambda q: q.name)
    groups = [
        (
            "Questions (SELECT)",
            [q for q in infos if q.form.lower() != "construct" and not q.is_check],
        ),
        ("Graphs (CONSTRUCT)", [q for q in infos if q.form.lower() == "construct"]),
        ("Quality checks (must return no rows)", [q for q in infos if q.is_check]),
    ]
    lines = [
        "# Query catalogue",
        "",
        f"The {len(infos)} packaged queries, generated at build time from the headers of",
        "`queries/*.rq` (what `khalis-kg queries` lists). How they are written and what",
        "their columns mean: [Packaged queries](../queries.md). Run one with",
        "`khalis-kg query NAME [-p KEY=VALUE]...` or `kg.query(NAME, KEY=VALUE)`.",
        "",
    ]
    for heading, queries in groups:
        lines += [f"## {heading}", ""]
        for q in queries:
            lines += [f"### `{q.name}`", "", f"**{_cell(q.title)}.** {_cell(q.question)}", ""]
            for p in q.parameters:
                default = "required" if p.default is None else f"default `{p.default}`"
                if p.default == "":
                    default = "default empty"
                lines.append(f"* `{p.name}` ({p.type}, {default}): {_cell(p.description)}")
            if q.columns:
                columns = ", ".join(f"`{c}`" for c in q.columns)
                lines.append(f"* columns: {columns}")
            lines.append("")
    return "\n".join(lines)


def diagrams_page() -> str:
    lines = [
        "# Diagrams",
        "",
        "Drawn at build time by `khalis-kg diagram --kind KIND` (`kg.diagram(KIND)`), without",
        "any network access. Nodes link to their IRIs.",
        "",
    ]
    for kind, title in DIAGRAMS.items():
        lines += [
            f"## {title}",
            "",
            f"`khalis-kg diagram --kind {kind}`",
            "",
            f"![{title}](diagrams/{kind}.svg)",
            "",
        ]
    return "\n".join(lines)


def on_files(files: Files, config: Any) -> Files:
    """Add the generated pages and files to the site."""
    _VOCABULARIES.clear()
    generated: dict[str, str | bytes] = {
        "reference/cli.md": cli_page(),
        "reference/queries.md": queries_page(),
        "reference/diagrams.md": diagrams_page(),
    }
    with KnowledgeGraph.load() as kg:
        for kind in DIAGRAMS:
            generated[f"reference/diagrams/{kind}.svg"] = kg.diagram(kind)
    for name, data in KnowledgeGraph.ontology_docs().items():
        generated[f"ontology/{name}"] = data
        if name.startswith("vocab-"):
            _VOCABULARIES.append(name)
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Files) -> str:
    """The list of pyLODE's vocabulary pages goes into ``ontology.md``. A link to a
    file of the repository outside ``docs/`` (``../bench/results/x.json``) works on a
    forge but not in the site: it becomes the file's path, in code."""
    docs = Path(config.docs_dir).resolve()
    root = docs.parent
    here = (docs / page.file.src_uri).parent

    def repository_path(match: re.Match[str]) -> str:
        text, target = match.group(1), match.group(2)
        if re.match(r"[a-z][a-z0-9+.-]*:|#|/", target):
            return match.group(0)
        path = (here / target.split("#")[0]).resolve()
        if path.is_relative_to(docs) or not path.is_relative_to(root):
            return match.group(0)
        shown = path.relative_to(root).as_posix()
        return text if shown in text else f"{text} (`{shown}`)"

    if page.file.src_uri == "ontology.md":
        items = [f"    * [{n[len('vocab-') : -len('.html')]}](ontology/{n})" for n in _VOCABULARIES]
        markdown = re.sub(r"<!-- vocabularies:.*?-->", "\n".join(items), markdown)
    return _MD_LINK.sub(repository_path, markdown)


def on_page_content(html: str, page: Any, config: Any, files: Files) -> str:
    """The docstrings are written for Sphinx: ``:meth:`x``` renders as ``x`` in code, and
    ``~a.b.C`` as ``C``, as Sphinx shows them."""
    html = _ROLE.sub("", html)
    return _TILDE.sub(lambda m: "<code>" + m.group(1).rsplit(".", 1)[-1] + "</code>", html)


def on_post_page(output: str, page: Any, config: Any) -> str:
    """The notebook's page (mkdocs-jupyter, nbconvert's template) without nbconvert's
    mermaid.js loader, which would fetch the library from a CDN."""
    if page.file.src_uri.endswith(".ipynb"):
        return _MERMAID_LOADER.sub("", output)
    return output


def on_post_build(config: Any) -> None:
    """Refuse a site that would load anything from the network: every HTML page and
    style sheet is read for a script, style sheet, font or image from another host."""
    site = Path(config.site_dir)
    for path in sorted([*site.rglob("*.html"), *site.rglob("*.css")]):
        text = path.read_text("utf-8", errors="replace")
        for match in _EXTERNAL.finditer(text):
            tag = match.group(0)
            rel = _LINK_REL.search(tag)
            if tag.lower().startswith("<link") and rel and rel.group(1).lower() in _NOT_LOADED:
                continue  # rel="canonical", "alternate"...: a link, not a load
            where = path.relative_to(site)
            raise PluginError(f"{where} loads from the network: {tag[:120]}")

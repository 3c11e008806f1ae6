"""Links on the pages never leave the site unless they say so: a hostile corpus of IRIs.

Every IRI of the graph becomes a link on the resource pages (``server/pages.py``) and in
the query page's result table (``static/app.js``). A *local* link (a path on this
server) must resolve to this server whatever the IRI holds; anything else is either a
link to exactly the IRI, marked external, or no link at all. The two implementations
must agree: the JavaScript rule is run with node when it is installed.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from urllib.parse import urljoin, urlsplit

import pytest

from khalis_kg import resources
from khalis_kg.server import pages

BASE = "https://w3id.org/khalis-kg/"
PAGE = "http://127.0.0.1:8000/id/event/al-khalis-prison-break-2015"

# Ways to make a path-absolute reference start a network path, or to smuggle a
# scheme, once "https://w3id.org/khalis-kg/" is replaced by "/".
LEADS = [
    "/", "//", "///", "\\", "\\\\", "/\\", "\\/", "\t/", "/\t/", "\n/", "\r/", " /", "/ /",
    "\x00/", "\x0b/", "\x0c/", "%2F", "%2f/", "%5C", ".//", "..//", "./\\", "#/", "?/",
    "/./", "\u3000/", "\u2028/", "\ufeff/", "\uff0f/", "\u2215/",
]  # fmt: skip
TARGETS = ["evil.example/x", "evil.example", "@evil.example/", "evil.example:443/x#y"]
SCHEMES = [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>",
    "vbscript:x", "file:///etc/passwd", "//evil.example/x", "\\\\evil.example\\x",
    "https:evil.example", "https:/evil.example", "http:\\\\evil.example", " https://evil.example",
    "https://evil.example\t/x", "\thttps://evil.example", "https://evil.example\\@w3id.org/",
    "ftp://evil.example/", "mailto:x@evil.example", "urn:x:y", "", "#", "/", "?q",
]  # fmt: skip
PLAIN = [
    BASE + "id/place/al-khalis",
    BASE + "ontology#Claim",
    BASE + "concept/role/guard",
    BASE,
    BASE + "javascript:alert(1)",
    BASE + "id/x:y",
    BASE + "a/../../..//evil.example",
    "https://example.org/a?b=c#d",
    "http://evil.example/x",
]


def corpus() -> list[str]:
    iris = [BASE + lead + target for lead, target in itertools.product(LEADS, TARGETS)]
    iris += [BASE + "#" + lead + target for lead in LEADS[:8] for target in TARGETS[:2]]
    iris += SCHEMES + PLAIN
    return list(dict.fromkeys(iris))


def test_corpus_is_large() -> None:
    assert len(corpus()) >= 150


def check(iri: str, href: str | None) -> None:
    if href is None:
        return
    if href.startswith("/"):
        # Local: only safe characters, one leading slash, resolves to this server.
        assert re.fullmatch(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/#-]*", href), (iri, href)
        assert not href.startswith("//"), (iri, href)
        target = urlsplit(urljoin(PAGE, href))
        assert (target.scheme, target.netloc) == ("http", "127.0.0.1:8000"), (iri, href)
        assert iri.startswith(BASE), (iri, href)
        assert href == "/" + iri[len(BASE) :], (iri, href)
    else:
        # External: exactly the IRI, http(s), nothing a browser would rewrite.
        assert href == iri, (iri, href)
        assert re.fullmatch(r"https?://[^\x00-\x20\x7f]+", href), (iri, href)
        assert "\\" not in href, (iri, href)


@pytest.mark.parametrize("iri", corpus())
def test_server_links_stay_on_site_or_say_external(iri: str) -> None:
    href = pages.href(iri)
    check(iri, href)
    html = pages.link(iri)
    if href is None:
        assert "<a " not in html
    elif href.startswith("/"):
        assert 'class="external"' not in html
    else:
        assert 'rel="noopener noreferrer" class="external"' in html


def test_the_reported_link() -> None:
    iri = "https://w3id.org/khalis-kg//evil.example/x"
    assert pages.href(iri) == iri
    assert 'href="//evil' not in pages.link(iri)
    assert pages.href(BASE + "id/place/al-khalis") == "/id/place/al-khalis"


def _link_block() -> str:
    source = (resources.static_dir() / "app.js").read_text(encoding="utf-8")
    match = re.search(r"// --- links:.*?// --- end links ---", source, re.S)
    assert match, "app.js lost its marked links block"
    base = re.search(r'const BASE = "[^"]+";', source)
    assert base
    return base.group(0) + "\n" + match.group(0)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_query_page_links_follow_the_same_rule() -> None:
    iris = corpus()
    script = (
        _link_block()
        + "\nconst input = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        + "\nprocess.stdout.write(JSON.stringify(input.map(linkFor)));\n"
    )
    out = subprocess.run(
        ["node", "-e", script],
        input=json.dumps(iris),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout
    js = json.loads(out)
    for iri, href in zip(iris, js, strict=True):
        check(iri, href)
        assert href == pages.href(iri), iri

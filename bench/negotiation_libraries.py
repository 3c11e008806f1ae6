"""Why khalis-kg keeps its own Accept negotiation and RFC 3986 resolution (issue 21).

Compares ``khalis_kg.server.negotiation.negotiate`` with python-mimeparse and werkzeug's
``MIMEAccept`` on the headers of the tests and of common clients, and
``khalis_kg.safety.resolve_iri`` with the ``rfc3986`` package on RFC 3986's examples and
a few IRIs. Not a dependency of the project: run it in a scratch environment with
``pip install python-mimeparse==2.0.0 werkzeug==3.1.9 rfc3986==2.0.0`` and khalis-kg.

    python bench/negotiation_libraries.py

Results (2026-12, CPython 3.11) are quoted in server/negotiation.py and safety.py.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import mimeparse
import rfc3986
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from khalis_kg.safety import resolve_iri
from khalis_kg.server.negotiation import negotiate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from rfc3986_examples import BASE, EXAMPLES

OFFERS = [
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
    "application/json",
    "application/xml",
]
HEADERS = [
    None,
    "",
    "*/*",
    "text/*",
    "image/png",
    "*/*;q=0",
    "text/csv;q=0.5, application/sparql-results+xml;q=0.9",
    "text/*;q=0.3, text/csv;q=0",
    "*/*, text/csv;q=0",
    "text/csv;q=abc, ;;, foo, */json, text/tab-separated-values;q=0.4",
    "text/csv;q=2",
    "application/json, */*",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/sparql-results+json;charset=utf-8",
    "TEXT/CSV",
]
RESOLVED = {  # RFC 3986's examples (tests/rfc3986_examples.py), then IRIs and forms kept
    **EXAMPLES,
    "é/ü": "http://a/b/c/é/ü",
    "HTTP://A/B": "HTTP://A/B",
    "g?x=%41": "http://a/b/c/g?x=%41",
}


def with_mimeparse(header: str | None) -> Any:
    try:  # it prefers the last offer at equal weight: given them reversed
        return mimeparse.best_match(list(reversed(OFFERS)), header or "*/*") or None
    except Exception as exc:
        return f"raises {type(exc).__name__}"


def with_werkzeug(header: str | None) -> Any:
    return MIMEAccept(parse_accept_header(header or "*/*", MIMEAccept)).best_match(OFFERS)


def with_rfc3986(reference: str, kind: str) -> str:
    make = rfc3986.iri_reference if kind == "iri" else rfc3986.uri_reference
    try:
        return str(make(reference).resolve_with(make(BASE), strict=True).unsplit())
    except Exception as exc:
        return f"raises {type(exc).__name__}: {exc}"


def main() -> None:
    disagree = {"mimeparse": 0, "werkzeug": 0}
    for header in HEADERS:
        ours, mp, wz = negotiate(header, OFFERS), with_mimeparse(header), with_werkzeug(header)
        disagree["mimeparse"] += mp != ours
        disagree["werkzeug"] += wz != ours
        if mp != ours or wz != ours:
            print(f"{header!r}: ours {ours}, mimeparse {mp}, werkzeug {wz}")
    print(f"negotiation: {len(HEADERS)} headers, disagreements {disagree}")
    for kind in ("iri", "uri"):
        wrong = [r for r, want in RESOLVED.items() if with_rfc3986(r, kind) != want]
        print(f"rfc3986 {kind}_reference: wrong on {len(wrong)} of {len(RESOLVED)}")
        for ref in wrong[:3]:
            print(f"  {ref!r}: {with_rfc3986(ref, kind)}")
    assert all(resolve_iri(r, BASE) == want for r, want in RESOLVED.items())
    refs = list(RESOLVED) * 200
    start = time.perf_counter()
    for ref in refs:
        resolve_iri(ref, BASE)
    ours = time.perf_counter() - start
    start = time.perf_counter()
    for ref in refs:
        with_rfc3986(ref, "uri")
    theirs = time.perf_counter() - start
    each = 1e6 / len(refs)
    print(f"resolution: ours {ours * each:.0f} us, rfc3986 {theirs * each:.0f} us")


if __name__ == "__main__":
    main()

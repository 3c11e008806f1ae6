"""HTTP content negotiation: ``Accept`` parsing with q-values (RFC 9110, section 12.5.1).

Pure functions, no third-party imports. A media range's weight applies to every offer
it matches; when several ranges match an offer the most specific one wins
(``text/csv`` over ``text/*`` over ``*/*``), and a weight of ``0`` means "not
acceptable". Among the acceptable offers the highest weight wins; ties go to the
server's order of preference (the order of ``offers``).

Why not a library (measured, issue 21; bench/negotiation_libraries.py): on 15 headers
(the tests' and common clients'), python-mimeparse 2.0.0 disagreed on 4 and
werkzeug 3.1.9's ``MIMEAccept`` on 3, each time against RFC 9110 or a real client.
mimeparse raises on a malformed element instead of skipping it, compares media types
case-sensitively (``TEXT/CSV`` matched nothing) and accepts ``q=2``; werkzeug answers
406 to ``application/sparql-results+json;charset=utf-8`` (it requires the parameter to
match an offer's) and to an invalid ``q``; both prefer the offer a range names exactly
over the server's order at equal weight (``application/json, */*`` gave plain JSON, not
SPARQL JSON results). This module is small and pure; the tests pin each of these cases.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MediaRange:
    """One element of an ``Accept`` header."""

    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    def specificity(self, offer: str) -> int | None:
        """How specifically this range matches ``offer`` (None: it does not match)."""
        otype, _, osub = offer.partition("/")
        if self.type == "*":
            return 0 if self.subtype == "*" else None
        if self.type != otype or self.subtype not in ("*", osub):
            return None
        return 1 if self.subtype == "*" else 3 if self.params else 2


def parse_accept(header: str | None) -> list[MediaRange]:
    """Parse an ``Accept`` header; malformed elements are skipped.

    An absent or empty header means ``*/*``.
    """
    if header is None or not header.strip():
        return [MediaRange("*", "*", (), 1.0)]
    ranges: list[MediaRange] = []
    for element in header.split(","):
        media, *parts = element.split(";")
        mtype, sep, msub = media.lower().partition("/")
        mtype, msub = mtype.strip(), msub.strip()
        if not sep or not mtype or not msub or (mtype == "*" and msub != "*"):
            continue
        q = 1.0
        params: list[tuple[str, str]] = []
        for param in parts:
            key, _, value = param.partition("=")
            key = key.strip().lower()
            if key == "q":  # RFC 9110: a weight from 0 to 1 (NaN and infinities are not)
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0  # not a weight: the element is skipped below
                break  # accept-ext parameters after q are ignored
            if key and key != "charset":  # it does not select a different representation
                params.append((key, value.strip().strip('"')))
        if 0.0 <= q <= 1.0:
            ranges.append(MediaRange(mtype, msub, tuple(params), q))
    return ranges


def quality(ranges: Sequence[MediaRange], offer: str) -> float:
    """The weight the client gives to ``offer`` (0.0 when it is not acceptable)."""
    matches = [(spec, r.q) for r in ranges if (spec := r.specificity(offer)) is not None]
    return max(matches, key=lambda m: m[0])[1] if matches else 0.0  # the first most specific


def negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    """The best of ``offers`` (in server preference order) for this ``Accept`` header.

    A client sends the same header with every request: a short one's answer is kept
    (``REMEMBERED`` headers, by offers), ~7 us a request saved in the server and as much
    in its worker (casualties' ``Accept`` against the 12 media types a query offers)."""
    if header is None or len(header) <= REMEMBERED_LENGTH:
        return _remembered(header, tuple(offers))
    return _negotiate(header, offers)


REMEMBERED = 256
"""``Accept`` headers whose answers :func:`negotiate` keeps, the most recently used."""
REMEMBERED_LENGTH = 256
"""The longest header kept (a header is chosen by the client: never a large one)."""


def _negotiate(header: str | None, offers: Sequence[str]) -> str | None:
    ranges = parse_accept(header) or parse_accept(None)  # all malformed: as if absent
    best = max(offers, key=lambda offer: quality(ranges, offer), default=None)  # ties: the first
    return best if best is not None and quality(ranges, best) > 0 else None


_remembered = functools.lru_cache(maxsize=REMEMBERED)(_negotiate)

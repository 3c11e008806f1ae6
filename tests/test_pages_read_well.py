"""Resource pages read as a person would: pictures, related events, numbers, phrases."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

pytestmark = pytest.mark.server

EVENT = "/id/event/al-khalis-prison-break-2015"


@pytest.fixture(scope="module")
def client(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, timeout=30) as c:
        yield c


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_event_page_has_its_pictures(client: httpx.Client) -> None:
    page = client.get(EVENT).text
    for kind in ("accounts", "timeline", "places"):
        assert f'<section class="diagram-section {kind}" id="{kind}">' in page
    # nodes link to their pages on this server
    assert '<a href="/id/claim/official-internal-riot"' in page
    assert '<a href="/id/account/internal-riot"' in page
    assert not re.search(r"\sstyle=", page)  # the strict CSP allows no inline styles


def test_related_events_by_label_with_relation_and_certainty(client: httpx.Client) -> None:
    text = text_of(client.get(EVENT).text)
    assert "link:curfew" not in text
    assert re.search(
        r"[Ss]uicide attacks in Diyala[^—]* 8 May 2015 — at the same time "
        r"\(the article says it is unclear whether they are related\)",
        text,
    )
    assert "Prison breaks in Diyala since June 2014 since June 2014 — background" in text
    assert "Curfew in Al Khalis — after it (aftermath) (the article states the link)" in text


def test_quantities_with_number_qualifier_and_words(client: httpx.Client) -> None:
    text = text_of(client.get(EVENT).text)
    assert "prisoners who escaped : more than 50 (the article: “More than fifty”)" in text
    assert "prisoners who died : about 50 (the article: “An estimated fifty”)" in text


def test_claims_in_words(client: httpx.Client) -> None:
    isil = text_of(client.get("/id/organization/isil").text)
    assert "refers to this as" not in isil
    assert "Claims that mention it" in isil
    assert "holds it responsible" in isil
    event = text_of(client.get(EVENT).text)
    assert "Claims about it" in event
    assert "claimed by police officer eyewitness (unnamed) · about this" in event

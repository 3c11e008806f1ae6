"""The pictures: the map of the accounts, the timeline, the places, the ontology.

Each diagram is parsed as XML and read as a person would: which nodes are there, what
they say, where they link, which edges join what.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from helpers import EVENT, invoke

from khalis_kg import KnowledgeGraph
from khalis_kg.errors import InputError, ParameterError

SVG = "{http://www.w3.org/2000/svg}"
ID = "https://w3id.org/khalis-kg/id/"


@pytest.fixture(scope="module")
def full() -> KnowledgeGraph:
    return KnowledgeGraph.load()


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == SVG + "svg"
    return root


def nodes(root: ET.Element, kind: str) -> dict[str, str]:
    """IRI -> the text shown in each node of ``kind`` (a class of its <g>)."""
    found: dict[str, str] = {}
    for g in root.iter(SVG + "g"):
        if kind in (g.get("class") or "").split():
            link = g.find(SVG + "a")
            iri = link.get("data-iri") if link is not None else ""
            found[iri or ""] = " ".join("".join(t.itertext()) for t in g.iter(SVG + "text"))
    return found


def edges(root: ET.Element, kind: str) -> list[str]:
    return [
        (g.findtext(SVG + "title") or "")
        for g in root.iter(SVG + "g")
        if kind in (g.get("class") or "").split()
    ]


def test_map_of_the_accounts(full: KnowledgeGraph) -> None:
    root = parse(full.diagram("accounts"))
    claims = nodes(root, "claim")
    assert len(claims) == 14
    # each claim with its claimant, and the channel when the article names one
    riot = claims[ID + "claim/official-internal-riot"]
    assert "by officials (authors of the official reports)" in riot
    assert "via official reports" in riot
    assert "via" not in claims[ID + "claim/mayor-blames-isis"]
    accounts = nodes(root, "account")
    assert set(accounts) == {ID + "account/internal-riot", ID + "account/coordinated-isis-attack"}
    # support, with how much (numbers support no account of how the break took place)
    assert "supported by 4 claims from 3 claimants" in accounts[ID + "account/internal-riot"]
    assert (
        "supported by 6 claims from 5 claimants"
        in (accounts[ID + "account/coordinated-isis-attack"])
    )
    assert len(edges(root, "supports")) == 10
    # each pair once, although kg:contradicts is stored both ways
    assert len(edges(root, "contradicts")) == 7
    # only where the article says so: "backed this account", "also attributed"
    assert len(edges(root, "corroborates")) == 3
    assert any(
        t.startswith("ISIS claimed to have freed more than 30 militants — contradicts — Official")
        for t in edges(root, "contradicts")
    )
    # the article's own voice, set apart, numbers with their hedging and words
    own = root.find(f".//{SVG}g[@class='own-voice']")
    assert own is not None
    facts = nodes(root, "fact")
    assert "8 May 2015" in facts[""]
    # the article never says the break was at the prison: that place alone is ours
    assert [iri for iri, text in facts.items() if "our inference" in text] == [
        ID + "place/al-khalis-prison"
    ]
    # nor does it set Amaq's thirty ISIS members against the official breakdown: that one
    # contradiction is ours, drawn apart and said so; the others are the article's
    assert sorted(edges(root, "inferred")) == [
        "Amaq: ISIL militants broke into the prison with explosives to free inmates and reach "
        "the weapons stores — contradicts — Official reports: no external attack occurred on "
        "the prison (our inference)",
        "Amaq: thirty ISIS members were among those who escaped — contradicts — Official "
        "reports: nine escapees were held on terrorism charges, the rest were common "
        "criminals (our inference)",
    ]
    assert facts[ID + "quantity/escaped-prisoners"].startswith("more than 50 prisoners who escaped")
    assert "“More than fifty”" in facts[ID + "quantity/escaped-prisoners"]
    assert facts[ID + "quantity/killed-prisoners"].startswith("about 50 prisoners who died")
    # every node links to its page (the IRI itself here)
    for g in root.iter(SVG + "a"):
        assert g.get("href") == g.get("data-iri")


def test_links_point_where_the_caller_says(full: KnowledgeGraph) -> None:
    svg = full.diagram("accounts", link=lambda iri: "/" + iri.rsplit("/", 2)[-2])
    hrefs = {a.get("href") for a in parse(svg).iter(SVG + "a")}
    assert {"/claim", "/account", "/event", "/quantity"} <= hrefs


def by_text(found: dict[str, str], words: str) -> str:
    """The one node whose text contains ``words``."""
    matches = [text for text in found.values() if words in text]
    assert len(matches) == 1, (words, matches)
    return matches[0]


def test_timeline(full: KnowledgeGraph) -> None:
    root = parse(full.diagram("timeline"))
    events = nodes(root, "event")
    assert "8 May 2015" in events[EVENT]
    assert "since June 2014" in by_text(events, "Prison breaks in Diyala")
    attacks = by_text(events, "uicide attacks")
    assert "at the same time" in attacks
    # its date is ours (from "at the same time as the prison break"), and says so; the
    # article's own dates do not
    assert "8 May 2015 · at the same time the date is our inference" in attacks
    assert [text for text in events.values() if "our inference" in text] == [attacks]
    assert "unclear whether related" in attacks
    assert "after" in by_text(events, "Curfew in Al Khalis")
    conflict = by_text(events, "Fighting between ISIL and the Iraqi military")
    assert "no date given" in conflict or "“" in conflict  # no invented date
    assert len(edges(root, "aftermath")) == 2
    assert len(edges(root, "concurrent")) == 1


def test_places(full: KnowledgeGraph) -> None:
    root = parse(full.diagram("places"))
    places = nodes(root, "place")
    assert places[ID + "place/iraq"] == "Iraq country"
    assert places[ID + "place/al-khalis"] == "Al Khalis town"
    assert places[ID + "place/al-khalis-prison"] == "Al Khalis prison prison"
    assert places[ID + "place/baghdad"] == "Baghdad containing place not stated"
    assert sorted(edges(root, "within")) == [
        "Al Khalis lies within Diyala province",
        "Al Khalis prison lies within Al Khalis",
        "Diyala province lies within Iraq (our inference)",
    ]
    # the article never says where Diyala province lies: that edge alone is ours, dashed
    assert edges(root, "inferred") == ["Diyala province lies within Iraq (our inference)"]
    assert edges(root, "relative-location") == ["Al Khalis: 50 mi north of Baghdad"]


def test_ontology_diagram(full: KnowledgeGraph) -> None:
    root = parse(full.diagram("ontology"))
    classes = nodes(root, "class")
    assert "https://w3id.org/khalis-kg/ontology#Claim" in classes
    assert len(classes) >= 7
    drawn = edges(root, "property")
    assert "kg:supportsAccount" in drawn
    assert "kg:supportedBy" not in drawn  # an inverse is drawn once


def test_pictures_of_a_page(full: KnowledgeGraph) -> None:
    assert [k for k, _, _ in full.diagrams_for(EVENT)] == ["accounts", "timeline", "places"]
    assert [k for k, _, _ in full.diagrams_for(ID + "event/al-khalis-curfew")] == [
        "timeline",
        "places",
    ]
    assert [k for k, _, _ in full.diagrams_for(ID + "place/diyala-province")] == ["places"]
    assert [k for k, _, _ in full.diagrams_for(ID + "place/baghdad")] == ["places"]
    assert full.diagrams_for(ID + "person/saad-maan-ibrahim") == []


def test_the_page_s_own_node_is_marked(full: KnowledgeGraph) -> None:
    curfew = ID + "event/al-khalis-curfew"
    [(_, _, timeline), (_, _, places)] = full.diagrams_for(curfew)
    marked = nodes(parse(timeline), "here")
    assert list(marked) == [curfew]
    here = [g for g in parse(timeline).iter(SVG + "g") if "here" in (g.get("class") or "")]
    assert "(this page)" in "".join(here[0].itertext())
    assert nodes(parse(places), "here") == {}  # the curfew is not a place


def test_a_page_with_nothing_to_draw(tmp_path: Path) -> None:
    data = tmp_path / "lonely.ttl"
    data.write_text(
        "@prefix kg: <https://w3id.org/khalis-kg/ontology#> .\n"
        "<https://example.org/account> kg:accountOf <https://example.org/event> .\n"
    )
    with KnowledgeGraph.load([data]) as lonely:
        assert lonely.diagrams_for("https://example.org/event") == []  # no page error


def test_errors(full: KnowledgeGraph) -> None:
    with pytest.raises(ParameterError, match="unknown diagram"):
        full.diagram("pie")
    with pytest.raises(InputError, match="no claims"):
        full.diagram("accounts", ID + "event/al-khalis-curfew")


def test_cli_writes_an_svg(tmp_path: Path) -> None:
    out = tmp_path / "map.svg"
    result = invoke(["diagram", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert len(nodes(parse(out.read_text("utf-8")), "claim")) == 14
    result = invoke(["diagram", "--kind", "timeline", "--resource", EVENT])
    assert result.exit_code == 0, result.output
    assert "since June 2014" in result.output
    result = invoke(["diagram", "--resource", "not an iri"])
    assert result.exit_code == 2
    assert "absolute IRI" in result.output

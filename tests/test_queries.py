"""Competency questions: every packaged query answers its question exactly.

The expected answers below were written from the article (2015 Al Khalis prison
break), not copied from query output: the numbers and their hedging ("more than
fifty", "an estimated fifty", "twelve", "at least 22"), who said what and through
which channel, which statements the article sets against each other ("however",
"although"), the place chain (Al Khalis prison, Al Khalis, Diyala province, Iraq;
50 mi north of Baghdad). Labels are the graph's own (rdfs:label of instances,
skos:prefLabel of concepts).

Each SELECT query is run through the API on both engines (identical answers), with
the ontology loaded (the concept labels come from its SKOS schemes) and without it
(the same rows minus the concept-label columns), and through the CLI
(``khalis-kg --with-ontology query NAME --format json``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from helpers import BACKENDS, EVENT, REPO
from pyld import jsonld
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.plugins.sparql import prepareQuery

from khalis_kg import KnowledgeGraph
from khalis_kg.catalogue import Catalogue
from khalis_kg.cli import cli
from khalis_kg.terms import Term

ID = "https://w3id.org/khalis-kg/id/"
KGC = "https://w3id.org/khalis-kg/concept/"
SCHEMA = "https://schema.org/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
OA = "http://www.w3.org/ns/oa#"
DOC = ID + "document/wikipedia-2015-al-khalis-prison-break"

CATALOGUE = Catalogue.load()


def e(slug: str) -> str:
    return ID + "event/" + slug


def cl(slug: str) -> str:
    return ID + "claim/" + slug


def q(slug: str) -> str:
    return ID + "quantity/" + slug


def pl(slug: str) -> str:
    return ID + "place/" + slug


def c(slug: str) -> str:
    return KGC + slug


ISIL = ID + "organization/isil"
AMAQ = ID + "organization/amaq-news-agency"
IRAQI_MILITARY = ID + "organization/iraqi-military"
SECURITY_FORCE = ID + "organization/diyala-province-security-force"
OFFICIALS = ID + "group/officials"
LOCAL_SOURCES = ID + "group/local-sources"
MILITIAMEN = ID + "group/shiite-militiamen"
SAAD = ID + "person/saad-maan-ibrahim"
TIMIMI = ID + "person/ahmed-al-timimi"
MAYOR = ID + "person/oudi-al-khadran"
EYEWITNESS = ID + "person/police-officer-eyewitness"
OFFICIAL_REPORTS = ID + "channel/official-reports"
ISIS_SOCIAL_MEDIA = ID + "channel/isis-social-media"
AMAQ_CHANNEL = ID + "channel/amaq-news-agency"
RIOT_ACCOUNT = ID + "account/internal-riot"
ISIS_ACCOUNT = ID + "account/coordinated-isis-attack"

# rdfs:label of the instances the answers mention
LABEL = {
    EVENT: "2015 Al Khalis prison break",
    e("al-khalis-curfew"): "Curfew in Al Khalis",
    e("al-khalis-house-searches"): "House searches for suspects in Al Khalis",
    e("diyala-suicide-attacks-2015-05-08"): "Suicide attacks in Diyala, 8 May 2015",
    e("diyala-prison-breaks-since-2014-06"): "Prison breaks in Diyala since June 2014",
    e("isil-iraqi-military-conflict-diyala"): (
        "Fighting between ISIL and the Iraqi military for control of the Diyala region"
    ),
    pl("al-khalis"): "Al Khalis",
    pl("al-khalis-prison"): "Al Khalis prison",
    pl("diyala-province"): "Diyala province",
    pl("iraq"): "Iraq",
    pl("baghdad"): "Baghdad",
    ISIL: "Islamic State of Iraq and the Levant",
    AMAQ: "Amaq News Agency",
    IRAQI_MILITARY: "Iraqi military",
    SECURITY_FORCE: "Diyala province security force",
    OFFICIALS: "officials (authors of the official reports)",
    LOCAL_SOURCES: "some local sources",
    MILITIAMEN: "Shi'ite militiamen",
    SAAD: "Saad Maan Ibrahim",
    TIMIMI: "Ahmed al-Timimi",
    MAYOR: "Oudi Al-Khadran",
    EYEWITNESS: "police officer eyewitness (unnamed)",
    ID + "position/head-of-diyala-province-security-force": (
        "head of the Diyala province security force"
    ),
    ID + "position/mayor-of-al-khalis": "mayor of Al Khalis",
    ID + "position/eyewitness-of-the-break": "eyewitness of the prison break",
    OFFICIAL_REPORTS: "official reports",
    ISIS_SOCIAL_MEDIA: "ISIS social media",
    AMAQ_CHANNEL: "Amaq News Agency",
    RIOT_ACCOUNT: "Official account: an internal riot",
    ISIS_ACCOUNT: "Account of a coordinated ISIS attack from outside and inside",
    cl("official-internal-riot"): (
        "Official reports: a riot broke out; a prisoner seized the guards' weapons; "
        "the prisoners captured the armory and escaped"
    ),
    cl("eyewitness-backs-official-account"): (
        "A police officer eyewitness backed the official account"
    ),
    cl("saad-maan-ibrahim-internal-riot"): (
        "Brigadier General Saad Maan Ibrahim attributed the jailbreak to an internal riot"
    ),
    cl("official-no-external-attack"): (
        "Official reports: no external attack occurred on the prison"
    ),
    cl("official-escapee-breakdown"): (
        "Official reports: nine escapees were held on terrorism charges, "
        "the rest were common criminals"
    ),
    cl("isis-coordinated-effort"): (
        "ISIS: the prison break was a coordinated effort between its members outside and inside"
    ),
    cl("isis-social-media-bombs"): (
        "ISIS social media: improvised bombs blew up military and security vehicles near "
        "the prison while prisoners took control of the guard's weapon stock"
    ),
    cl("amaq-break-in-with-explosives"): (
        "Amaq: ISIL militants broke into the prison with explosives to free inmates and "
        "reach the weapons stores"
    ),
    cl("amaq-thirty-isis-members-escaped"): (
        "Amaq: thirty ISIS members were among those who escaped"
    ),
    cl("amaq-sixty-militants-killed"): (
        "Amaq: about sixty militants were killed by Shi'ite militiamen in ensuing clashes"
    ),
    cl("mayor-blames-isis"): (
        "Mayor Oudi Al-Khadran blamed ISIS for the killings and the release of ISIS prisoners"
    ),
    cl("colonel-attributes-to-isis"): "Colonel Ahmed al-Timimi attributed the break to ISIS",
    cl("local-sources-isis-vehicles"): (
        "Local sources reported seeing ISIS vehicles attempting to storm the prison"
    ),
    cl("isis-freed-more-than-30"): "ISIS claimed to have freed more than 30 militants",
    q("escaped-prisoners"): "prisoners who escaped",
    q("escaped-terrorism-charges"): "escaped prisoners facing terrorism charges",
    q("killed-prisoners"): "prisoners who died",
    q("killed-police-officers"): "police officers who died",
    q("prison-inmates-terror-convicts"): "people convicted on terror charges held in the prison",
    q("diyala-prison-breaks"): "prison breaks in Diyala since June 2014",
    q("suicide-attacks-killed"): "people killed by the suicide attacks",
    q("al-khalis-baghdad-distance"): "distance from Baghdad to Al Khalis",
    q("escaped-common-criminals"): "escaped common criminals",
    q("amaq-escaped-isis-members"): "ISIS members among the escapees, according to Amaq",
    q("amaq-killed-militants"): "militants killed by Shi'ite militiamen, according to Amaq",
    q("isis-freed-militants"): "militants freed, according to ISIS",
}

# skos:prefLabel of the concepts (ontology/khalis.ttl)
CONCEPT = {
    c("prison-break"): "prison break",
    c("suicide-attack"): "suicide attack",
    c("armed-conflict"): "armed conflict",
    c("curfew"): "curfew",
    c("house-search"): "house search",
    c("exact"): "exact",
    c("approximate"): "approximate",
    c("at-least"): "at least",
    c("more-than"): "more than",
    c("remainder"): "remainder",
    c("prisoners"): "prisoners",
    c("prisoners-on-terrorism-charges"): "prisoners facing terrorism charges",
    c("common-criminals"): "common criminals",
    c("police-officers"): "police officers",
    c("militants"): "militants",
    c("isis-members"): "ISIS members",
    c("escaped"): "escaped",
    c("killed"): "killed",
    c("freed"): "freed",
    c("internal-riot"): "internal riot",
    c("coordinated-attack"): "coordinated attack",
    c("no-external-attack"): "no external attack",
    c("external-attack-attempted"): "attempted external attack",
    c("external-attack-occurred"): "external attack occurred",
    c("brigadier-general"): "Brigadier General",
    c("colonel"): "Colonel",
    c("head"): "head",
    c("mayor"): "mayor",
    c("eyewitness"): "eyewitness",
    c("police-officer"): "police officer",
    c("town"): "town",
    c("province"): "province",
    c("country"): "country",
    c("prison"): "prison",
    c("north"): "north",
    c("aftermath"): "aftermath",
    c("concurrent"): "concurrent",
    c("background"): "background",
    c("stated"): "stated",
    c("unclear"): "unclear",
    c("not-stated"): "not stated",
}

# the article's sentences, as the graph quotes them
QUOTE = {
    "cause-7": (
        "ISIS, however, claimed the prison break was a coordinated effort between its "
        "members on the outside and the inside."
    ),
    "cause-9": (
        "According to Amaq News Agency, which supports ISIL, ISIL militants broke into the "
        "prison with the help of explosives, with the aim of freeing inmates and accessing "
        "the prison's weapons stores."
    ),
    "cause-10": (
        "Amaq also stated that there were thirty ISIS members among those who escaped, and "
        "that about sixty militants were killed by Shi'ite militiamen in ensuing clashes."
    ),
    "cause-11": (
        'Oudi Al-Khadran, the mayor of Al Khalis, blamed ISIS for "the killings and the '
        'release of ISIS prisoners."'
    ),
    "cause-12": (
        "Colonel Ahmed al-Timimi, head of the Diyala province security force, also "
        "attributed the break to ISIS."
    ),
    "aftermath-5": (
        "A curfew has been imposed in Al Khalis, and houses in the area are being searched "
        "for suspects."
    ),
}


def ref(key: str, iri: str | None) -> dict[str, Any]:
    """``{key: iri, keyLabel: its rdfs:label}`` (nothing when ``iri`` is None)."""
    return {} if iri is None else {key: iri, key + "Label": LABEL[iri]}


def concept(key: str, iri: str | None) -> dict[str, Any]:
    """``{key: iri, keyLabel: its skos:prefLabel}`` (nothing when ``iri`` is None)."""
    return {} if iri is None else {key: iri, key + "Label": CONCEPT[iri]}


def number(qualifier: str, n: int, stated: str) -> dict[str, Any]:
    """A number as the article hedges it: which value column holds it follows the qualifier."""
    column = {"more-than": "exclusiveMinValue", "at-least": "minValue"}.get(qualifier, "value")
    return {**concept("qualifier", c(qualifier)), column: n, "statedAs": stated}


# ------------------------------------------------------------------ expected answers


def event_summary() -> list[dict[str, Any]]:
    # "On 8 May 2015, a prison break occurred in the Iraqi town of Al Khalis" (in Diyala
    # province); "An estimated fifty other prisoners and twelve police officers died":
    # at least 50 + 12 dead.
    return [
        {
            "event": EVENT,
            "label": LABEL[EVENT],
            "date": dt.date(2015, 5, 8),
            **concept("eventType", c("prison-break")),
            **ref("location", pl("al-khalis")),
            **ref("admin1", pl("diyala-province")),
            **ref("country", pl("iraq")),
            "fatalities": 62,
        }
    ]


def timeline() -> list[dict[str, Any]]:
    def item(step: int, phase: str, slug: str, kind: str, **when: Any) -> dict[str, Any]:
        return {
            "event": EVENT,
            "step": step,
            "phase": phase,
            "item": e(slug),
            "label": LABEL[e(slug)],
            **when,
            **concept("eventType", c(kind)),
        }

    return [
        # Background: fighting in recent years (undated); three breaks since June 2014.
        item(1, "background", "isil-iraqi-military-conflict-diyala", "armed-conflict"),
        item(
            1,
            "background",
            "diyala-prison-breaks-since-2014-06",
            "prison-break",
            earliestBegin="2014-06",
        ),
        item(
            2, "the event", "al-khalis-prison-break-2015", "prison-break", date=dt.date(2015, 5, 8)
        ),
        # "At the same time as the prison break, a series of suicide attacks in Diyala"
        item(
            3,
            "concurrent",
            "diyala-suicide-attacks-2015-05-08",
            "suicide-attack",
            date=dt.date(2015, 5, 8),
        ),
        # "A curfew has been imposed ... houses ... are being searched": no date given.
        item(4, "aftermath", "al-khalis-curfew", "curfew"),
        item(4, "aftermath", "al-khalis-house-searches", "house-search"),
    ]


def casualties() -> list[dict[str, Any]]:
    def dead(group: str, quantity: str, numbers: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "event": EVENT,
            **extra,
            "quantity": q(quantity),
            **concept("group", c(group)),
            **concept("outcome", c("killed")),
            **numbers,
        }

    return [
        # the article's own voice: "an estimated fifty other prisoners and twelve police officers"
        dead(
            "police-officers",
            "killed-police-officers",
            number("exact", 12, "twelve"),
            status="fact",
        ),
        dead(
            "prisoners",
            "killed-prisoners",
            number("approximate", 50, "An estimated fifty"),
            status="fact",
        ),
        # Amaq: "about sixty militants were killed by Shi'ite militiamen"
        dead(
            "militants",
            "amaq-killed-militants",
            {**number("approximate", 60, "about sixty"), **ref("inflictedBy", MILITIAMEN)},
            status="claim",
            claim=cl("amaq-sixty-militants-killed"),
            claimant=AMAQ,
            claimantLabel=LABEL[AMAQ],
        ),
    ]


def escapees() -> list[dict[str, Any]]:
    def out(
        quantity: str,
        group: str,
        numbers: dict[str, Any],
        *,
        claim: str | None = None,
        claimant: str | None = None,
        part_of: str | None = None,
        outcome: str = "escaped",
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"event": EVENT, "status": "claim" if claim else "fact"}
        if claim:
            row["claim"] = cl(claim)
            row |= {"claimant": claimant, "claimantLabel": LABEL[str(claimant)]}
        row["quantity"] = q(quantity)
        row |= concept("group", c(group))
        row |= concept("partOf", part_of and c(part_of))
        row |= concept("outcome", c(outcome))
        row |= numbers
        return row

    return [
        # "More than fifty prisoners escaped in the break, including nine who had been
        # facing terrorism charges" (the lead, in the article's own voice)
        out("escaped-prisoners", "prisoners", number("more-than", 50, "More than fifty")),
        out(
            "escaped-terrorism-charges",
            "prisoners-on-terrorism-charges",
            number("exact", 9, "nine"),
            part_of="prisoners",
        ),
        # Amaq: "thirty ISIS members among those who escaped"
        out(
            "amaq-escaped-isis-members",
            "isis-members",
            number("exact", 30, "thirty"),
            claim="amaq-thirty-isis-members-escaped",
            claimant=AMAQ,
        ),
        # ISIS: freed "more than 30" militants
        out(
            "isis-freed-militants",
            "militants",
            number("more-than", 30, "more than 30"),
            claim="isis-freed-more-than-30",
            claimant=ISIL,
            outcome="freed",
        ),
        # "nine were being held on terrorism charges and the rest were common criminals,
        # according to official reports"
        out(
            "escaped-common-criminals",
            "common-criminals",
            {
                **concept("qualifier", c("remainder")),
                "remainderOf": q("escaped-prisoners"),
                "statedAs": "the rest",
            },
            claim="official-escapee-breakdown",
            claimant=OFFICIALS,
            part_of="prisoners",
        ),
        out(
            "escaped-terrorism-charges",
            "prisoners-on-terrorism-charges",
            number("exact", 9, "nine"),
            claim="official-escapee-breakdown",
            claimant=OFFICIALS,
            part_of="prisoners",
        ),
    ]


def accounts() -> list[dict[str, Any]]:
    def supports(
        account: str,
        claim: str,
        claimant: str,
        channel: str | None = None,
        cause: str | None = None,
        external: str | None = None,
    ) -> dict[str, Any]:
        return {
            "event": EVENT,
            **ref("account", account),
            **ref("claim", cl(claim)),
            **ref("claimant", claimant),
            **ref("channel", channel),
            **concept("cause", cause and c(cause)),
            **concept("externalAttack", external and c(external)),
        }

    isis, riot = ISIS_ACCOUNT, RIOT_ACCOUNT
    return [
        supports(
            isis,
            "amaq-break-in-with-explosives",
            AMAQ,
            AMAQ_CHANNEL,
            "coordinated-attack",
            "external-attack-occurred",
        ),
        supports(isis, "amaq-sixty-militants-killed", AMAQ, AMAQ_CHANNEL),
        supports(isis, "amaq-thirty-isis-members-escaped", AMAQ, AMAQ_CHANNEL),
        supports(isis, "colonel-attributes-to-isis", TIMIMI),
        supports(isis, "isis-coordinated-effort", ISIL, None, "coordinated-attack"),
        supports(isis, "isis-freed-more-than-30", ISIL),
        supports(
            isis,
            "isis-social-media-bombs",
            ISIL,
            ISIS_SOCIAL_MEDIA,
            "coordinated-attack",
            "external-attack-occurred",
        ),
        supports(
            isis,
            "local-sources-isis-vehicles",
            LOCAL_SOURCES,
            None,
            None,
            "external-attack-attempted",
        ),
        supports(isis, "mayor-blames-isis", MAYOR),
        supports(riot, "eyewitness-backs-official-account", EYEWITNESS, None, "internal-riot"),
        supports(riot, "official-internal-riot", OFFICIALS, OFFICIAL_REPORTS, "internal-riot"),
        supports(
            riot,
            "official-no-external-attack",
            OFFICIALS,
            OFFICIAL_REPORTS,
            None,
            "no-external-attack",
        ),
        supports(riot, "saad-maan-ibrahim-internal-riot", SAAD, None, "internal-riot"),
    ]


def claims_by_source() -> list[dict[str, Any]]:
    def said(claimant: str, channel: str | None, count: int, claim: str) -> dict[str, Any]:
        return {
            **ref("claimant", claimant),
            **ref("channel", channel),
            "claimsFromSource": count,
            **ref("claim", cl(claim)),
        }

    return [
        said(LOCAL_SOURCES, None, 1, "local-sources-isis-vehicles"),
        said(OFFICIALS, OFFICIAL_REPORTS, 3, "official-escapee-breakdown"),
        said(OFFICIALS, OFFICIAL_REPORTS, 3, "official-internal-riot"),
        said(OFFICIALS, OFFICIAL_REPORTS, 3, "official-no-external-attack"),
        said(AMAQ, AMAQ_CHANNEL, 3, "amaq-break-in-with-explosives"),
        said(AMAQ, AMAQ_CHANNEL, 3, "amaq-sixty-militants-killed"),
        said(AMAQ, AMAQ_CHANNEL, 3, "amaq-thirty-isis-members-escaped"),
        said(ISIL, None, 2, "isis-coordinated-effort"),
        said(ISIL, None, 2, "isis-freed-more-than-30"),
        said(ISIL, ISIS_SOCIAL_MEDIA, 1, "isis-social-media-bombs"),
        said(TIMIMI, None, 1, "colonel-attributes-to-isis"),
        said(MAYOR, None, 1, "mayor-blames-isis"),
        said(EYEWITNESS, None, 1, "eyewitness-backs-official-account"),
        said(SAAD, None, 1, "saad-maan-ibrahim-internal-riot"),
    ]


def contradictions() -> list[dict[str, Any]]:
    def pair(a: str, claimant_a: str, b: str, claimant_b: str) -> dict[str, Any]:
        return {
            **ref("claimA", cl(a)),
            **ref("claimantA", claimant_a),
            **ref("claimB", cl(b)),
            **ref("claimantB", claimant_b),
        }

    return [
        # "ISIS, however, claimed ... a coordinated effort" vs the riot
        pair("isis-coordinated-effort", ISIL, "official-internal-riot", OFFICIALS),
        # "ISIS, however, claimed to have freed 'more than 30' militants" vs nine + common criminals
        pair("isis-freed-more-than-30", ISIL, "official-escapee-breakdown", OFFICIALS),
        # "no external attack ..., although some local sources reported seeing ISIS vehicles"
        pair(
            "local-sources-isis-vehicles", LOCAL_SOURCES, "official-no-external-attack", OFFICIALS
        ),
    ]


def conflicting_claims() -> list[dict[str, Any]]:
    claimant = {
        "amaq-break-in-with-explosives": AMAQ,
        "eyewitness-backs-official-account": EYEWITNESS,
        "isis-coordinated-effort": ISIL,
        "isis-social-media-bombs": ISIL,
        "local-sources-isis-vehicles": LOCAL_SOURCES,
        "official-internal-riot": OFFICIALS,
        "official-no-external-attack": OFFICIALS,
        "saad-maan-ibrahim-internal-riot": SAAD,
    }
    asserts = {
        "amaq-break-in-with-explosives": ("coordinated-attack", "external-attack-occurred"),
        "eyewitness-backs-official-account": ("internal-riot", None),
        "isis-coordinated-effort": ("coordinated-attack", None),
        "isis-social-media-bombs": ("coordinated-attack", "external-attack-occurred"),
        "local-sources-isis-vehicles": (None, "external-attack-attempted"),
        "official-internal-riot": ("internal-riot", None),
        "official-no-external-attack": (None, "no-external-attack"),
        "saad-maan-ibrahim-internal-riot": ("internal-riot", None),
    }

    def conflict(aspect: str, a: str, b: str, stated: bool) -> dict[str, Any]:
        which = 0 if aspect == "cause" else 1
        return {
            "event": EVENT,
            "aspect": aspect,
            "claimA": cl(a),
            **ref("claimantA", claimant[a]),
            **concept("assertsA", c(str(asserts[a][which]))),
            "claimB": cl(b),
            **ref("claimantB", claimant[b]),
            **concept("assertsB", c(str(asserts[b][which]))),
            "statedContradiction": stated,
        }

    return [
        # an internal riot (official reports, the eyewitness, Brigadier General Saad Maan
        # Ibrahim) against a coordinated attack (ISIS, its social media, Amaq): the
        # article sets only ISIS's claim against the official reports ("however")
        conflict(
            "cause", "amaq-break-in-with-explosives", "eyewitness-backs-official-account", False
        ),
        conflict("cause", "amaq-break-in-with-explosives", "official-internal-riot", False),
        conflict(
            "cause", "amaq-break-in-with-explosives", "saad-maan-ibrahim-internal-riot", False
        ),
        conflict("cause", "eyewitness-backs-official-account", "isis-coordinated-effort", False),
        conflict("cause", "eyewitness-backs-official-account", "isis-social-media-bombs", False),
        conflict("cause", "isis-coordinated-effort", "official-internal-riot", True),
        conflict("cause", "isis-coordinated-effort", "saad-maan-ibrahim-internal-riot", False),
        conflict("cause", "isis-social-media-bombs", "official-internal-riot", False),
        conflict("cause", "isis-social-media-bombs", "saad-maan-ibrahim-internal-riot", False),
        # "no external attack had occurred on the prison" against Amaq's break-in, the
        # bombs of ISIS social media and the vehicles local sources saw ("although")
        # kg:contradicts records only what the article sets against each other: it sets
        # the officials' "no external attack" against the local sources ("although"),
        # not against Amaq's break-in nor the bombs on ISIS social media.
        conflict(
            "external attack", "amaq-break-in-with-explosives", "official-no-external-attack", False
        ),
        conflict(
            "external attack", "isis-social-media-bombs", "official-no-external-attack", False
        ),
        conflict(
            "external attack", "local-sources-isis-vehicles", "official-no-external-attack", True
        ),
    ]


def people_and_roles() -> list[dict[str, Any]]:
    def agent(
        iri: str,
        kind: str,
        rank: str | None = None,
        position: str | None = None,
        role: str | None = None,
        position_in: str | None = None,
        occupation: str | None = None,
        supporter_of: str | None = None,
    ) -> dict[str, Any]:
        row: dict[str, Any] = {"agent": iri, "label": LABEL[iri], "kind": kind}
        row |= concept("rank", rank and c(rank))
        row |= ref("position", position and ID + "position/" + position)
        row |= concept("role", role and c(role))
        row |= ref("positionIn", position_in)
        row |= concept("occupation", occupation and c(occupation))
        row |= ref("supporterOf", supporter_of)
        return row

    return [
        # "Colonel Ahmed al-Timimi, head of the Diyala province security force"
        agent(
            TIMIMI,
            "person",
            "colonel",
            "head-of-diyala-province-security-force",
            "head",
            SECURITY_FORCE,
        ),
        # "Oudi Al-Khadran, the mayor of Al Khalis"
        agent(MAYOR, "person", None, "mayor-of-al-khalis", "mayor", pl("al-khalis")),
        # "A police officer eyewitness"
        agent(
            EYEWITNESS,
            "person",
            None,
            "eyewitness-of-the-break",
            "eyewitness",
            EVENT,
            "police-officer",
        ),
        # "Brigadier General Saad Maan Ibrahim"
        agent(SAAD, "person", "brigadier-general"),
        # "Amaq News Agency, which supports ISIL"
        agent(AMAQ, "organisation", supporter_of=ISIL),
        agent(SECURITY_FORCE, "organisation"),
        agent(IRAQI_MILITARY, "organisation"),
        agent(ISIL, "organisation"),
    ]


def place_hierarchy() -> list[dict[str, Any]]:
    def within(place: str, kind: str, other: str, steps: int) -> dict[str, Any]:
        return {
            **ref("place", pl(place)),
            **concept("placeType", c(kind)),
            "relation": "within",
            **ref("other", pl(other)),
            "steps": steps,
        }

    return [
        # "50 mi north of Baghdad"
        {
            **ref("place", pl("al-khalis")),
            **concept("placeType", c("town")),
            "relation": "relative location",
            **ref("other", pl("baghdad")),
            **concept("direction", c("north")),
            "distance": 50,
            "unitCode": "SMI",
            "unitText": "mi",
            "statedAs": "50 mi",
        },
        # "Al Khalis is a town located in Diyala province"; "the Iraqi town"
        within("al-khalis", "town", "diyala-province", 1),
        within("al-khalis", "town", "iraq", 2),
        # "The town's prison"
        within("al-khalis-prison", "prison", "al-khalis", 1),
        within("al-khalis-prison", "prison", "diyala-province", 2),
        within("al-khalis-prison", "prison", "iraq", 3),
        within("diyala-province", "province", "iraq", 1),
    ]


def related_events() -> list[dict[str, Any]]:
    def link(slug: str, event: str, kind: str, link_type: str, certainty: str) -> dict[str, Any]:
        return {
            "event": EVENT,
            "link": ID + "link/" + slug,
            **ref("linkedEvent", e(event)),
            **concept("eventType", c(kind)),
            **concept("linkType", c(link_type)),
            **concept("certainty", c(certainty)),
        }

    return [
        link("curfew", "al-khalis-curfew", "curfew", "aftermath", "stated"),
        link("house-searches", "al-khalis-house-searches", "house-search", "aftermath", "stated"),
        link(
            "diyala-prison-breaks-since-2014",
            "diyala-prison-breaks-since-2014-06",
            "prison-break",
            "background",
            "not-stated",
        ),
        link(
            "isil-iraqi-military-conflict",
            "isil-iraqi-military-conflict-diyala",
            "armed-conflict",
            "background",
            "not-stated",
        ),
        # "It is unclear if the attacks ... were related to the break."
        link(
            "diyala-suicide-attacks",
            "diyala-suicide-attacks-2015-05-08",
            "suicide-attack",
            "concurrent",
            "unclear",
        ),
    ]


def aftermath() -> list[dict[str, Any]]:
    def after(slug: str, kind: str) -> dict[str, Any]:
        return {
            "event": EVENT,
            "aftermathEvent": e(slug),
            "label": LABEL[e(slug)],
            **concept("eventType", c(kind)),
            **ref("place", pl("al-khalis")),
            **concept("certainty", c("stated")),
            "quote": QUOTE["aftermath-5"],
        }

    return [after("al-khalis-curfew", "curfew"), after("al-khalis-house-searches", "house-search")]


def evidence() -> list[dict[str, Any]]:
    claim = cl("amaq-thirty-isis-members-escaped")
    return [
        {
            "resource": claim,
            "label": LABEL[claim],
            "span": ID + "span/cause-10",
            "exact": QUOTE["cause-10"],
            "start": 1629,
            "end": 1791,
            "document": DOC,
        }
    ]


def uncertain_numbers() -> list[dict[str, Any]]:
    def n(
        slug: str,
        numbers: dict[str, Any],
        uncertain: bool,
        fact: bool,
        claims: int,
    ) -> dict[str, Any]:
        numbers = dict(numbers)
        qualifier = {k: numbers.pop(k) for k in ("qualifier", "qualifierLabel")}
        return {
            "quantity": q(slug),
            "label": LABEL[q(slug)],
            **qualifier,
            "uncertain": uncertain,
            **numbers,
            "statedAsFact": fact,
            "claimedBy": claims,
        }

    rest = {
        **concept("qualifier", c("remainder")),
        "remainderOf": q("escaped-prisoners"),
        "statedAs": "the rest",
    }
    return [
        n("amaq-killed-militants", number("approximate", 60, "about sixty"), True, False, 1),
        n("killed-prisoners", number("approximate", 50, "An estimated fifty"), True, True, 0),
        n("prison-inmates-terror-convicts", number("approximate", 300, "about 300"), True, True, 0),
        n("suicide-attacks-killed", number("at-least", 22, "at least 22"), True, True, 0),
        n("escaped-prisoners", number("more-than", 50, "More than fifty"), True, True, 0),
        n("isis-freed-militants", number("more-than", 30, "more than 30"), True, False, 1),
        n("escaped-common-criminals", rest, True, False, 1),
        n("al-khalis-baghdad-distance", number("exact", 50, "50 mi"), False, True, 0),
        n("amaq-escaped-isis-members", number("exact", 30, "thirty"), False, False, 1),
        n("diyala-prison-breaks", number("exact", 3, "three"), False, True, 0),
        # stated in the lead and attributed to official reports in the Aftermath section
        n("escaped-terrorism-charges", number("exact", 9, "nine"), False, True, 1),
        n("killed-police-officers", number("exact", 12, "twelve"), False, True, 0),
    ]


def who_blames_whom() -> list[dict[str, Any]]:
    def blames(claim: str, claimant: str, span: str) -> dict[str, Any]:
        return {
            "event": EVENT,
            "claim": cl(claim),
            **ref("claimant", claimant),
            **ref("responsible", ISIL),
            **ref("account", ISIS_ACCOUNT),
            "quote": QUOTE[span],
        }

    return [
        blames("amaq-break-in-with-explosives", AMAQ, "cause-9"),
        blames("colonel-attributes-to-isis", TIMIMI, "cause-12"),
        blames("isis-coordinated-effort", ISIL, "cause-7"),
        blames("mayor-blames-isis", MAYOR, "cause-11"),
    ]


def external_identifiers() -> list[dict[str, Any]]:
    wd = "http://www.wikidata.org/entity/"
    return [
        {
            "resource": ISIL,
            "label": LABEL[ISIL],
            "sameAs": wd + "Q2429253",
            "authority": "Wikidata",
        },
        {
            "resource": pl("baghdad"),
            "label": "Baghdad",
            "sameAs": wd + "Q1530",
            "authority": "Wikidata",
        },
        {"resource": pl("iraq"), "label": "Iraq", "sameAs": wd + "Q796", "authority": "Wikidata"},
    ]


EXPECTED = {
    "event-summary": event_summary,
    "timeline": timeline,
    "casualties": casualties,
    "escapees": escapees,
    "accounts": accounts,
    "claims-by-source": claims_by_source,
    "contradictions": contradictions,
    "conflicting-claims": conflicting_claims,
    "people-and-roles": people_and_roles,
    "place-hierarchy": place_hierarchy,
    "related-events": related_events,
    "aftermath": aftermath,
    "evidence": evidence,
    "uncertain-numbers": uncertain_numbers,
    "who-blames-whom": who_blames_whom,
    "external-identifiers": external_identifiers,
}

# Columns that need the ontology's SKOS schemes (unbound when it is not loaded).
NEEDS_ONTOLOGY = {
    "event-summary": {"eventTypeLabel"},
    "timeline": {"eventTypeLabel"},
    "casualties": {"groupLabel", "outcomeLabel", "qualifierLabel"},
    "escapees": {"groupLabel", "outcomeLabel", "qualifierLabel", "partOf", "partOfLabel"},
    "accounts": {"causeLabel", "externalAttackLabel"},
    "conflicting-claims": {"assertsALabel", "assertsBLabel"},
    "people-and-roles": {"rankLabel", "roleLabel", "occupationLabel"},
    "place-hierarchy": {"placeTypeLabel", "directionLabel"},
    "related-events": {"eventTypeLabel", "linkTypeLabel", "certaintyLabel"},
    "aftermath": {"eventTypeLabel", "certaintyLabel"},
    "uncertain-numbers": {"qualifierLabel"},
}

SELECTS = [
    n for n in CATALOGUE.names() if not n.endswith("-violation") and not n.startswith("construct-")
]
CONSTRUCTS = [n for n in CATALOGUE.names() if n.startswith("construct-")]


@pytest.fixture(scope="module")
def full() -> Iterator[dict[str, KnowledgeGraph]]:
    """The packaged data with the ontology (concept schemes), on both engines."""
    graphs = {b: KnowledgeGraph.load(backend=b, with_ontology=True) for b in BACKENDS}
    yield graphs
    for graph in graphs.values():
        graph.close()


@pytest.fixture(scope="module")
def packaged(kgs: dict[str, KnowledgeGraph]) -> dict[str, KnowledgeGraph]:
    """The session graphs (conftest, no ontology) behind a facade of our own, with the
    packaged catalogue: other modules may swap the catalogue of the shared facades."""
    return {b: KnowledgeGraph(g.backend, sources=g.sources) for b, g in kgs.items()}


def without(rows: list[dict[str, Any]], columns: set[str]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in columns} for row in rows]


# ------------------------------------------------------------------ the catalogue


def test_the_library_is_complete() -> None:
    files = sorted(p.stem for p in (REPO / "queries").glob("*.rq"))
    assert CATALOGUE.names() == files
    assert sorted(EXPECTED) == sorted(SELECTS)
    assert len(SELECTS) >= 14
    assert CONSTRUCTS == ["construct-event-subgraph", "construct-schema-org"]
    assert set(NEEDS_ONTOLOGY) <= set(EXPECTED)


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in CATALOGUE.names()])
def test_header_is_complete(name: str) -> None:
    info = CATALOGUE.get(name)
    text = info.text
    assert text.startswith("# title: ")
    assert info.title
    assert info.title != name
    assert info.question.endswith("?")
    for p in info.parameters:
        assert p.description, f"parameter {p.name} is not documented"
        assert p.default, f"parameter {p.name} has no default: the query would not run as is"
        assert f"?{p.name}" in text
    if name.startswith("construct-"):
        assert info.form == "construct"
        assert not info.columns
    else:
        assert info.form == "select"
        assert info.columns
        info.check_projection()
    if name.endswith("-violation"):
        assert "# A quality check: it must return no rows." in text
        assert not info.parameters


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in CATALOGUE.names()])
def test_file_is_self_contained(name: str) -> None:
    """Every prefix is declared in the file: it runs in any SPARQL client."""
    text = CATALOGUE.get(name).text
    prepareQuery(text)  # rdflib, without khalis-kg's prefixes
    ox.Store().query(text)  # Oxigraph, likewise


def test_cli_lists_every_query() -> None:
    result = CliRunner().invoke(cli, ["queries", "--format", "json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [q["name"] for q in listed] == CATALOGUE.names()
    by_name = {q["name"]: q for q in listed}
    assert by_name["evidence"]["parameters"][0]["name"] == "resource"
    assert by_name["casualties"]["columns"][:2] == ["event", "status"]


# ------------------------------------------------------------------ SELECT answers


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in sorted(EXPECTED)])
def test_answer(name: str, full: dict[str, KnowledgeGraph]) -> None:
    expected = EXPECTED[name]()
    answers = {b: full[b].query(name) for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    result = answers["oxigraph"]
    assert tuple(result.variables) == CATALOGUE.get(name).columns
    assert all(t.type != "bnode" for row in result.rows for t in row.values())
    assert result.to_python() == every_column(expected, result.variables)


def every_column(rows: list[dict[str, Any]], columns: Sequence[str]) -> list[dict[str, Any]]:
    """``rows`` with None for the unbound columns, as :meth:`QueryResult.to_python` gives."""
    return [{c: row.get(c) for c in columns} for row in rows]


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in sorted(EXPECTED)])
def test_answer_without_the_ontology(name: str, packaged: dict[str, KnowledgeGraph]) -> None:
    expected = without(EXPECTED[name](), NEEDS_ONTOLOGY.get(name, set()))
    answers = {b: packaged[b].query(name) for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    assert answers["oxigraph"].to_python() == every_column(expected, answers["oxigraph"].variables)


def _from_json(binding: dict[str, str]) -> Any:
    """A SPARQL 1.1 JSON results binding as the plain Python value the API gives."""
    assert binding["type"] in ("uri", "literal"), binding
    if binding["type"] == "uri":
        return binding["value"]
    term = Term.literal(binding["value"], binding.get("datatype"), binding.get("xml:lang"))
    return term.to_python()


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in sorted(EXPECTED)])
@pytest.mark.parametrize("backend", BACKENDS)
def test_answer_through_the_cli(name: str, backend: str) -> None:
    args = ["--backend", backend, "--with-ontology", "query", name, "--format", "json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["head"]["vars"] == list(CATALOGUE.get(name).columns)
    rows = [{k: _from_json(v) for k, v in b.items()} for b in data["results"]["bindings"]]
    assert rows == EXPECTED[name]()


# ------------------------------------------------------------------ parameters


def test_event_summary_of_another_event(full: dict[str, KnowledgeGraph]) -> None:
    # "a series of suicide attacks in Diyala killed at least 22 people" on the same day
    event = e("diyala-suicide-attacks-2015-05-08")
    expected = [
        {
            "event": event,
            "label": LABEL[event],
            "date": dt.date(2015, 5, 8),
            **concept("eventType", c("suicide-attack")),
            **ref("admin1", pl("diyala-province")),
            **ref("country", pl("iraq")),
            "fatalities": 22,
        }
    ]
    for graph in full.values():
        result = graph.query("event-summary", event=event)
        assert result.to_python() == every_column(expected, result.variables)


def test_evidence_of_a_number_stated_twice(full: dict[str, KnowledgeGraph]) -> None:
    # the nine prisoners on terrorism charges: in the lead and in the Aftermath section
    nine = q("escaped-terrorism-charges")
    lead = (
        "More than fifty prisoners escaped in the break, including nine who had been "
        "facing terrorism charges."
    )
    aftermath = (
        "Of those, nine were being held on terrorism charges and the rest were common "
        "criminals, according to official reports."
    )
    expected = [
        {
            "resource": nine,
            "label": LABEL[nine],
            "span": ID + "span/lead-2",
            "exact": lead,
            "start": 104,
            "end": 205,
            "document": DOC,
        },
        {
            "resource": nine,
            "label": LABEL[nine],
            "span": ID + "span/aftermath-2",
            "exact": aftermath,
            "start": 2224,
            "end": 2342,
            "document": DOC,
        },
    ]
    answers = [graph.query("evidence", resource=nine).to_python() for graph in full.values()]
    assert answers == [expected, expected]
    done = CliRunner().invoke(
        cli, ["query", "evidence", "-p", f"resource={nine}", "--format", "csv"]
    )
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == "resource,label,span,exact,start,end,document"
    assert len(done.output.splitlines()) == 3


def test_related_events_of_an_event_without_links(full: dict[str, KnowledgeGraph]) -> None:
    for graph in full.values():
        assert graph.query("related-events", event=e("al-khalis-curfew")).to_python() == []


# ------------------------------------------------------------------ CONSTRUCT answers

# The nodes that describe the break, read off the article: the event; its four numbers
# (more than fifty escaped, nine on terrorism charges, an estimated fifty prisoners and
# twelve police officers dead); its places up to Iraq and the relative location (50 mi
# north of Baghdad); its actors; the five linked events and their links; the two
# accounts; the fourteen claims, their five numbers, eight claimants (with the three
# positions held), three channels and the militiamen Amaq says did the killing.
SUBGRAPH_NODES = {
    EVENT,
    *(q(s) for s in ("escaped-prisoners", "escaped-terrorism-charges", "killed-prisoners")),
    q("killed-police-officers"),
    *(pl(s) for s in ("al-khalis-prison", "al-khalis", "diyala-province", "iraq", "baghdad")),
    ID + "location/al-khalis-from-baghdad",
    q("al-khalis-baghdad-distance"),
    ID + "group/al-khalis-prisoners",
    ID + "group/police-officers",
    *(ID + "link/" + s for s in ("curfew", "house-searches", "diyala-suicide-attacks")),
    ID + "link/diyala-prison-breaks-since-2014",
    ID + "link/isil-iraqi-military-conflict",
    e("al-khalis-curfew"),
    e("al-khalis-house-searches"),
    e("diyala-suicide-attacks-2015-05-08"),
    e("diyala-prison-breaks-since-2014-06"),
    e("isil-iraqi-military-conflict-diyala"),
    RIOT_ACCOUNT,
    ISIS_ACCOUNT,
    *(iri for iri in LABEL if iri.startswith(ID + "claim/")),
    q("escaped-common-criminals"),
    q("amaq-escaped-isis-members"),
    q("amaq-killed-militants"),
    q("isis-freed-militants"),
    OFFICIALS,
    EYEWITNESS,
    SAAD,
    ISIL,
    AMAQ,
    MAYOR,
    TIMIMI,
    LOCAL_SOURCES,
    MILITIAMEN,
    *(iri for iri in LABEL if iri.startswith(ID + "position/")),
    OFFICIAL_REPORTS,
    ISIS_SOCIAL_MEDIA,
    AMAQ_CHANNEL,
}


def _py(term: Any) -> Any:
    if isinstance(term, URIRef):
        return str(term)
    if isinstance(term, Literal):
        dt_ = None if term.datatype is None else str(term.datatype)
        return Term.literal(str(term), dt_, term.language).to_python()
    raise AssertionError(f"unexpected term {term!r}")


def expected_subgraph() -> set[tuple[Any, Any, Any]]:
    """The subgraph computed from the data file with rdflib, independently of SPARQL:
    every triple of the nodes above, of the spans they derive from, and of those spans'
    selectors (skolemised as <span>#quote-selector / #position-selector)."""
    data = Graph().parse(REPO / "data" / "khalis.ttl")
    assert len(SUBGRAPH_NODES) == 59
    out: set[tuple[Any, Any, Any]] = set()
    spans = set()
    prov = URIRef("http://www.w3.org/ns/prov#wasDerivedFrom")
    for node in SUBGRAPH_NODES:
        triples = list(data.triples((URIRef(node), None, None)))
        assert triples, node
        for s, p, o in triples:
            out.add((str(s), str(p), _py(o)))
        spans |= set(data.objects(URIRef(node), prov))
    has_selector = URIRef(OA + "hasSelector")
    for span in spans:
        for _, p, o in data.triples((span, None, None)):
            if p != has_selector:
                out.add((str(span), str(p), _py(o)))
                continue
            assert isinstance(o, BNode)
            kind = data.value(o, URIRef(RDF_TYPE))
            suffix = (
                "#quote-selector"
                if str(kind).endswith("TextQuoteSelector")
                else "#position-selector"
            )
            selector = str(span) + suffix
            out.add((str(span), OA + "hasSelector", selector))
            for _, sp, so in data.triples((o, None, None)):
                out.add((selector, str(sp), _py(so)))
    return out


def test_construct_event_subgraph(full: dict[str, KnowledgeGraph]) -> None:
    answers = {b: full[b].query("construct-event-subgraph") for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    triples = answers["oxigraph"].to_python()
    assert len(triples) == len(set(triples)), "each triple once"
    assert all(t.type != "bnode" for triple in answers["oxigraph"].triples for t in triple)
    got = set(triples)
    # key triples
    assert (
        EVENT,
        "http://semanticweb.cs.vu.nl/2009/11/sem/hasTimeStamp",
        dt.date(2015, 5, 8),
    ) in got
    assert (q("killed-police-officers"), SCHEMA + "value", 12) in got
    assert (
        cl("isis-coordinated-effort"),
        KGC[:-8] + "ontology#contradicts",
        cl("official-internal-riot"),
    ) in got
    assert (ID + "span/cause-10#quote-selector", OA + "exact", QUOTE["cause-10"]) in got
    assert (ID + "span/cause-10#position-selector", OA + "start", 1629) in got
    assert not any(s == DOC for s, _, _ in got), "the article text is not copied"
    # the whole answer, against the data read without SPARQL
    expected = expected_subgraph()
    assert got == expected
    assert len(got) == 687
    # the ontology adds nothing to the subgraph
    assert answers["oxigraph"] == full["oxigraph"].query("construct-event-subgraph")


def test_construct_event_subgraph_without_the_ontology(
    packaged: dict[str, KnowledgeGraph],
) -> None:
    answers = {b: packaged[b].query("construct-event-subgraph") for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    assert set(answers["oxigraph"].to_python()) == expected_subgraph()


# schema.org terms the view may use: class → properties (https://schema.org/<name>)
SCHEMA_TERMS = {
    "Event": {"name", "startDate", "location"},
    "Place": {"name", "containedInPlace", "sameAs"},
    "AdministrativeArea": {"name", "containedInPlace", "sameAs"},
    "Country": {"name", "containedInPlace", "sameAs"},
    "Article": {"name", "about", "url", "license", "inLanguage"},
    "Claim": {"about", "text", "author", "appearance"},
    "Person": {"name", "jobTitle", "sameAs", "alternateName"},
    "Organization": {"name", "sameAs", "alternateName"},
}


def test_construct_schema_org(full: dict[str, KnowledgeGraph]) -> None:
    answers = {b: full[b].query("construct-schema-org") for b in BACKENDS}
    assert answers["oxigraph"] == answers["memory"]
    result = answers["oxigraph"]
    got = set(result.to_python())
    assert len(got) == len(result.triples) == 116
    # 5 for the event, 12 for its four places, 6 for the article, 5 for each of the 14
    # claims, 23 for their 8 authors (name, type; 3 job titles; ISIL's Wikidata id;
    # alternate names ISIL, ISIS, Amaq)
    types = {s: o.removeprefix(SCHEMA) for s, p, o in got if p == RDF_TYPE}
    for s, p, _ in got:
        assert p == RDF_TYPE or p.startswith(SCHEMA), p
        if p != RDF_TYPE:
            assert p.removeprefix(SCHEMA) in SCHEMA_TERMS[types[s]], (types[s], p)
    assert set(types.values()) <= set(SCHEMA_TERMS)
    assert types[EVENT] == "Event"
    assert (EVENT, SCHEMA + "name", "2015 Al Khalis prison break") in got
    assert (EVENT, SCHEMA + "startDate", "2015-05-08") in got
    assert {o for s, p, o in got if s == EVENT and p == SCHEMA + "location"} == {
        pl("al-khalis"),
        pl("al-khalis-prison"),
    }
    chain = {(s, o) for s, p, o in got if p == SCHEMA + "containedInPlace"}
    assert chain == {
        (pl("al-khalis-prison"), pl("al-khalis")),
        (pl("al-khalis"), pl("diyala-province")),
        (pl("diyala-province"), pl("iraq")),
    }
    assert types[pl("iraq")] == "Country"
    assert types[pl("diyala-province")] == "AdministrativeArea"
    assert (pl("iraq"), SCHEMA + "sameAs", "http://www.wikidata.org/entity/Q796") in got
    assert (DOC, SCHEMA + "about", EVENT) in got
    claims = {s for s, t in types.items() if t == "Claim"}
    assert claims == {iri for iri in LABEL if iri.startswith(ID + "claim/")}
    for claim in claims:
        assert (claim, SCHEMA + "about", EVENT) in got
        assert (claim, SCHEMA + "appearance", DOC) in got
        assert (claim, SCHEMA + "text", LABEL[claim]) in got
    authors = {o for s, p, o in got if p == SCHEMA + "author"}
    assert {types[a] for a in authors} == {"Person", "Organization"}
    assert types[MAYOR] == "Person"
    assert (MAYOR, SCHEMA + "jobTitle", "mayor of Al Khalis") in got
    assert {o for s, p, o in got if s == ISIL and p == SCHEMA + "alternateName"} == {"ISIL", "ISIS"}


def test_schema_org_view_is_json_ld(full: dict[str, KnowledgeGraph]) -> None:
    result = full["oxigraph"].query("construct-schema-org")
    data, media_type = result.serialize("jsonld")
    assert media_type == "application/ld+json"
    doc = json.loads(data)
    # read back by rdflib's JSON-LD parser: the same graph
    graph = Graph().parse(data=data, format="json-ld")
    back = {(str(s), str(p), _py(o)) for s, p, o in graph}
    assert back == set(result.to_python())
    # compact JSON-LD with the packaged context: the event's IRI is written as a CURIE
    assert doc["@context"]["event"] + "al-khalis-prison-break-2015" == EVENT
    assert any(n.get("@id") == "event:al-khalis-prison-break-2015" for n in doc["@graph"])
    # compacted with schema.org as vocabulary, it reads as schema.org markup for a web page
    nt, _ = result.serialize("nt")
    expanded = jsonld.from_rdf(nt.decode("utf-8"), {"format": "application/n-quads"})
    compact = jsonld.compact(expanded, {"@vocab": SCHEMA})
    nodes = {n["@id"]: n for n in compact["@graph"]}
    event = nodes[EVENT]
    assert event["@type"] == "Event"
    assert event["name"] == "2015 Al Khalis prison break"
    assert event["startDate"] == "2015-05-08"
    assert {p["@id"] for p in event["location"]} == {pl("al-khalis"), pl("al-khalis-prison")}
    prison = nodes[pl("al-khalis-prison")]
    assert prison["@type"] == "Place"
    assert prison["containedInPlace"] == {"@id": pl("al-khalis")}
    assert nodes[DOC]["@type"] == "Article"
    assert nodes[DOC]["about"] == {"@id": EVENT}
    assert nodes[cl("mayor-blames-isis")]["author"] == {"@id": MAYOR}


def test_construct_through_the_cli(full: dict[str, KnowledgeGraph]) -> None:
    for name in CONSTRUCTS:
        done = CliRunner().invoke(cli, ["--with-ontology", "query", name, "--format", "nt"])
        assert done.exit_code == 0, done.output
        quads = ox.parse(done.output.encode("utf-8"), ox.RdfFormat.N_TRIPLES)
        got = {(t.subject.value, t.predicate.value, t.object.value) for t in quads}
        api = {(s.value, p.value, o.value) for s, p, o in full["oxigraph"].query(name).triples}
        assert got == api, name


def test_construct_of_another_event(full: dict[str, KnowledgeGraph]) -> None:
    event = e("al-khalis-curfew")
    for graph in full.values():
        got = set(graph.query("construct-event-subgraph", event=event).to_python())
        subjects = {s for s, _, _ in got}
        assert subjects == {
            event,
            pl("al-khalis"),
            pl("diyala-province"),
            pl("iraq"),
            ID + "location/al-khalis-from-baghdad",
            q("al-khalis-baghdad-distance"),
            pl("baghdad"),
            ID + "span/aftermath-5",
            ID + "span/aftermath-5#quote-selector",
            ID + "span/aftermath-5#position-selector",
            ID + "span/lead-1",
            ID + "span/lead-1#quote-selector",
            ID + "span/lead-1#position-selector",
            ID + "span/background-1",
            ID + "span/background-1#quote-selector",
            ID + "span/background-1#position-selector",
        }

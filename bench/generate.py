"""A synthetic corpus in the shape of data/khalis.ttl, valid under ontology/shapes.ttl.

Each synthetic event has its own source document (``nif:isString`` holds a generated
report of six sentences) and everything the article model has: the event with its type,
date, places and actors, a town and a prison (``geo:sfWithin`` a shared province),
counts with their qualifiers (``more-than`` → ``kg:exclusiveMinValue``, ``exact`` and
``approximate`` → ``schema:value``, ``at-least`` → ``schema:minValue``) and the source's
own words (``kg:statedAs``), two competing accounts, two attributed claims (officials
through their reports; an armed group through its news agency, contradicting the first
and asserting its own count; the contradiction stored both ways), a link to the
previous event, for every node a ``prov:wasDerivedFrom`` span whose quote and offsets
match the document's text, and every statement about a node reified (``rdf:Statement``)
with the spans of its subject.
Provinces and armed groups (with their agencies) are shared between events, so
queries that group or join across events have work to do.

Deterministic: the same ``--seed`` and size give byte-identical output. About 512
triples per event::

    python bench/generate.py --triples 100000 -o bench/data/synthetic-100k.nt
    python bench/generate.py --events 5 --format turtle -o small.ttl
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from khalis_kg.namespaces import CONCEPT as KGC
from khalis_kg.namespaces import ID, KG, PREFIXES, RDF_TYPE, RDFS, XSD
from khalis_kg.terms import Term

SEM, PROV, OA, NIF, DCT, FOAF, GEO, SCHEMA = (
    PREFIXES[p] for p in ("sem", "prov", "oa", "nif", "dcterms", "foaf", "geo", "schema")
)
RDF = PREFIXES["rdf"]
LICENSE = "https://creativecommons.org/licenses/by-sa/4.0/"
SPDX = "http://spdx.org/rdf/terms#"

TRIPLES_PER_EVENT = 512  # measured average, used to turn --triples into a number of events
EVENT_TYPES = ("prison-break", "suicide-attack", "armed-conflict", "curfew", "house-search")
NUMBERS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
TOWN_SYLLABLES = ("al", "ka", "mu", "dar", "si", "ra", "bel", "ha", "zu", "qa", "nis", "tor")

Triple = tuple[str, str, str]


def iri(value: str) -> str:
    return Term.iri(value).to_ntriples()


def lit(value: str | int, datatype: str | None = None, lang: str | None = None) -> str:
    if isinstance(value, int):
        return Term.literal(str(value), XSD + "integer").to_ntriples()
    return Term.literal(value, datatype, lang).to_ntriples()


def en(value: str) -> str:
    return lit(value, lang="en")


def words(n: int) -> str:
    return NUMBERS[n] if 0 <= n < len(NUMBERS) else str(n)


def town_name(rng: random.Random) -> str:
    parts = [rng.choice(TOWN_SYLLABLES) for _ in range(rng.randint(2, 3))]
    return "".join(parts).capitalize()


class Generator:
    """Yields N-Triples lines for ``events`` synthetic events."""

    def __init__(self, events: int, seed: int = 2015):
        if events < 1:
            raise ValueError("at least one event")
        self.events = events
        self.seed = seed
        self.provinces = min(20, events)
        self.groups = min(10, events)

    # one event ---------------------------------------------------------------------
    def event(self, i: int) -> Iterator[str]:
        rng = random.Random(f"{self.seed}:{i}")
        tag = f"{i:07d}"
        ev = ID + f"event/synthetic-{tag}"
        doc = ID + f"document/synthetic-{tag}"
        town, prison = ID + f"place/town-{tag}", ID + f"place/prison-{tag}"
        province_no, group_no = i % self.provinces, i % self.groups
        province = ID + f"place/province-{province_no:03d}"
        armed = ID + f"organization/armed-group-{group_no:03d}"
        agency = ID + f"channel/agency-{group_no:03d}"
        agency_org = ID + f"organization/agency-{group_no:03d}"
        prisoners, officials = ID + f"group/prisoners-{tag}", ID + f"group/officials-{tag}"
        reports = ID + f"channel/official-reports-{tag}"
        kind = EVENT_TYPES[rng.randrange(len(EVENT_TYPES))]
        day = dt.date(2000, 1, 1) + dt.timedelta(days=rng.randrange(9000))
        name = town_name(rng)
        escaped, killed, officers = rng.randint(20, 400), rng.randint(1, 90), rng.randint(1, 20)
        wounded_min, claimed = rng.randint(5, 60), rng.randint(10, 200)
        label = f"{day.year} {name} {kind.replace('-', ' ')}"

        sentences = [
            f"On {day:%d %B %Y}, a {kind.replace('-', ' ')} occurred in the town of {name} "
            f"in Province {province_no}.",
            f"More than {escaped} prisoners escaped from the {name} prison.",
            f"Exactly {words(officers)} police officers and an estimated {killed} prisoners "
            "died in the fighting.",
            f"According to official reports, a riot broke out at the prison; at least "
            f"{wounded_min} people were wounded.",
            f"Armed Group {group_no}, however, claimed a coordinated attack and said that "
            f'"about {claimed}" of its members were freed, according to Agency {group_no}.',
            f"It is not stated whether the event is linked to earlier violence in Province "
            f"{province_no}.",
        ]
        text = f"= {label} =\n\n" + " ".join(sentences) + "\n"
        spans = []
        t: list[Triple] = []

        def add(s: str, p: str, o: str) -> None:
            t.append((s, p, o))

        for k, sentence in enumerate(sentences):
            start = text.index(sentence)
            span = ID + f"span/synthetic-{tag}-{k}"
            quote, position = f"_:q{tag}s{k}", f"_:p{tag}s{k}"
            spans.append(span)
            add(iri(span), iri(RDF_TYPE), iri(OA + "SpecificResource"))
            add(iri(span), iri(OA + "hasSource"), iri(doc))
            add(iri(span), iri(OA + "hasSelector"), quote)
            add(iri(span), iri(OA + "hasSelector"), position)
            add(quote, iri(RDF_TYPE), iri(OA + "TextQuoteSelector"))
            add(quote, iri(OA + "exact"), lit(sentence))
            # the Web Annotation context (32 characters, as the shapes require)
            add(quote, iri(OA + "prefix"), lit(text[max(0, start - 32) : start]))
            add(
                quote,
                iri(OA + "suffix"),
                lit(text[start + len(sentence) : start + len(sentence) + 32]),
            )
            add(position, iri(RDF_TYPE), iri(OA + "TextPositionSelector"))
            add(position, iri(OA + "start"), f'"{start}"^^<{XSD}nonNegativeInteger>')
            add(position, iri(OA + "end"), f'"{start + len(sentence)}"^^<{XSD}nonNegativeInteger>')

        derivations: dict[str, list[str]] = {}

        def derived(s: str, *ks: int) -> None:
            for k in ks:
                add(iri(s), iri(PROV + "wasDerivedFrom"), iri(spans[k]))
                derivations.setdefault(iri(s), []).append(iri(spans[k]))

        def typed(s: str, *classes: str) -> None:
            for c in classes:
                add(iri(s), iri(RDF_TYPE), iri(c))

        # the document
        typed(doc, DCT + "BibliographicResource", FOAF + "Document", NIF + "Context")
        add(iri(doc), iri(RDFS + "label"), en(f"Synthetic report {tag}: {label}"))
        add(iri(doc), iri(DCT + "title"), en(label))
        add(iri(doc), iri(DCT + "source"), iri(f"https://example.org/synthetic/{tag}"))
        add(iri(doc), iri(DCT + "license"), iri(LICENSE))
        add(iri(doc), iri(NIF + "isString"), lit(text))
        add(iri(doc), iri(DCT + "created"), lit(day.isoformat(), XSD + "date"))
        checksum = f"_:c{tag}"
        add(iri(doc), iri(SPDX + "checksum"), checksum)
        add(checksum, iri(RDF_TYPE), iri(SPDX + "Checksum"))
        add(checksum, iri(SPDX + "algorithm"), iri(SPDX + "checksumAlgorithm_sha256"))
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        add(checksum, iri(SPDX + "checksumValue"), lit(digest, XSD + "hexBinary"))

        # the event
        q = [ID + f"quantity/synthetic-{tag}-{n}" for n in range(5)]
        typed(ev, SEM + "Event")
        add(iri(ev), iri(RDFS + "label"), en(label))
        add(iri(ev), iri(SEM + "eventType"), iri(KGC + kind))
        add(iri(ev), iri(SEM + "hasTimeStamp"), lit(day.isoformat(), XSD + "date"))
        add(iri(ev), iri(SEM + "hasPlace"), iri(prison))
        add(iri(ev), iri(SEM + "hasPlace"), iri(town))
        add(iri(ev), iri(SEM + "hasActor"), iri(prisoners))
        for quantity in q[:4]:
            add(iri(ev), iri(KG + "hasQuantity"), iri(quantity))
        derived(ev, 0, 1, 2)
        if i > 0:
            link = ID + f"link/synthetic-{tag}"
            add(iri(ev), iri(KG + "relatedEvent"), iri(link))
            typed(link, KG + "EventLink")
            add(iri(link), iri(RDFS + "label"), en(f"background of {label}"))
            add(iri(link), iri(KG + "linkedEvent"), iri(ID + f"event/synthetic-{i - 1:07d}"))
            add(iri(link), iri(KG + "linkType"), iri(KGC + "background"))
            add(iri(link), iri(KG + "linkCertainty"), iri(KGC + "not-stated"))
            derived(link, 5)

        # places (a province is described by the first event that names it)
        typed(town, GEO + "Feature", SCHEMA + "Place")
        add(iri(town), iri(RDFS + "label"), en(name))
        add(iri(town), iri(KG + "placeType"), iri(KGC + "town"))
        add(iri(town), iri(GEO + "sfWithin"), iri(province))
        derived(town, 0)
        typed(prison, GEO + "Feature", SCHEMA + "Place")
        add(iri(prison), iri(RDFS + "label"), en(f"{name} prison"))
        add(iri(prison), iri(KG + "placeType"), iri(KGC + "prison"))
        add(iri(prison), iri(GEO + "sfWithin"), iri(town))
        derived(prison, 1)
        if i == province_no:
            typed(province, GEO + "Feature", SCHEMA + "Place")
            add(iri(province), iri(RDFS + "label"), en(f"Province {province_no}"))
            add(iri(province), iri(KG + "placeType"), iri(KGC + "province"))
            derived(province, 0)
        if i == group_no:  # an armed group and its agency, described once
            typed(armed, FOAF + "Organization", PROV + "Agent")
            add(iri(armed), iri(RDFS + "label"), en(f"Armed Group {group_no}"))
            derived(armed, 4)
            typed(agency_org, FOAF + "Organization", PROV + "Agent")
            add(iri(agency_org), iri(RDFS + "label"), en(f"Agency {group_no}"))
            add(iri(agency_org), iri(KG + "supporterOf"), iri(armed))
            derived(agency_org, 4)
            typed(agency, KG + "InformationSource")
            add(iri(agency), iri(RDFS + "label"), en(f"Agency {group_no}"))
            add(iri(agency), iri(KG + "operatedBy"), iri(agency_org))
            derived(agency, 4)

        # groups
        typed(prisoners, FOAF + "Group", PROV + "Agent")
        add(iri(prisoners), iri(RDFS + "label"), en(f"prisoners of {name} prison"))
        derived(prisoners, 1)
        typed(officials, FOAF + "Group", PROV + "Agent")
        add(iri(officials), iri(RDFS + "label"), en(f"officials (reports on {label})"))
        derived(officials, 3)
        typed(reports, KG + "InformationSource")
        add(iri(reports), iri(RDFS + "label"), en(f"official reports on {label}"))
        add(iri(reports), iri(KG + "operatedBy"), iri(officials))
        derived(reports, 3)

        # quantities: (label, group, outcome, qualifier, property, value, statedAs, span)
        quantities = [
            ("prisoners who escaped", "prisoners", "escaped", "more-than",
             KG + "exclusiveMinValue", escaped, f"More than {escaped}", 1),
            ("police officers who died", "police-officers", "killed", "exact",
             SCHEMA + "value", officers, words(officers), 2),
            ("prisoners who died", "prisoners", "killed", "approximate",
             SCHEMA + "value", killed, f"an estimated {killed}", 2),
            ("people wounded", "people", "killed", "at-least",
             SCHEMA + "minValue", wounded_min, f"at least {wounded_min}", 3),
            ("members freed (claimed)", "militants", "freed", "approximate",
             SCHEMA + "value", claimed, f"about {claimed}", 4),
        ]  # fmt: skip
        for node, (qlabel, group, outcome, qualifier, prop, value, stated, k) in zip(
            q, quantities, strict=True
        ):
            typed(node, KG + "Quantity")
            add(iri(node), iri(RDFS + "label"), en(qlabel))
            add(iri(node), iri(KG + "countedGroup"), iri(KGC + group))
            add(iri(node), iri(KG + "outcome"), iri(KGC + outcome))
            add(iri(node), iri(KG + "qualifier"), iri(KGC + qualifier))
            add(iri(node), iri(prop), lit(value))
            add(iri(node), iri(KG + "statedAs"), lit(stated))
            derived(node, k)

        # accounts and claims
        internal, attack = ID + f"account/internal-{tag}", ID + f"account/attack-{tag}"
        for account, alabel, k in (
            (internal, "Official account: an internal riot", 3),
            (attack, f"Armed Group {group_no}'s account: a coordinated attack", 4),
        ):
            typed(account, KG + "Account")
            add(iri(account), iri(RDFS + "label"), en(f"{alabel} ({tag})"))
            add(iri(account), iri(KG + "accountOf"), iri(ev))
            derived(account, k)
        official = ID + f"claim/official-riot-{tag}"
        typed(official, KG + "Claim")
        add(iri(official), iri(RDFS + "label"), en(f"Official reports: a riot broke out ({tag})"))
        add(iri(official), iri(KG + "about"), iri(ev))
        add(iri(official), iri(KG + "claimant"), iri(officials))
        add(iri(official), iri(KG + "publishedIn"), iri(reports))
        add(iri(official), iri(KG + "supportsAccount"), iri(internal))
        add(iri(official), iri(KG + "supportExtent"), iri(KGC + "whole-account"))
        add(iri(official), iri(KG + "assertsCause"), iri(KGC + "internal-riot"))
        add(iri(official), iri(KG + "assertsMethod"), iri(KGC + "riot"))
        derived(official, 3)
        claim = ID + f"claim/armed-group-attack-{tag}"
        typed(claim, KG + "Claim")
        add(iri(claim), iri(RDFS + "label"), en(f"Armed Group {group_no}: a coordinated attack"))
        add(iri(claim), iri(KG + "about"), iri(ev))
        add(iri(claim), iri(KG + "claimant"), iri(armed))
        add(iri(claim), iri(KG + "publishedIn"), iri(agency))
        add(iri(claim), iri(KG + "supportsAccount"), iri(attack))
        add(iri(claim), iri(KG + "supportExtent"), iri(KGC + "whole-account"))
        add(iri(claim), iri(KG + "assertsCause"), iri(KGC + "coordinated-attack"))
        add(iri(claim), iri(KG + "assertsResponsibility"), iri(armed))
        add(iri(claim), iri(KG + "assertsQuantity"), iri(q[4]))
        add(iri(claim), iri(KG + "contradicts"), iri(official))
        add(iri(official), iri(KG + "contradicts"), iri(claim))
        derived(claim, 4)

        # statement-level provenance: every triple about a world node reified once, with
        # the spans its subject is derived from (RDF 1.1 reification, as in the data)
        names = {iri(RDF_TYPE), iri(RDFS + "label"), iri(PROV + "wasDerivedFrom")}
        world = ("event/", "link/", "place/", "quantity/", "organization/", "group/",
                 "channel/", "account/", "claim/")  # fmt: skip
        seen: set[Triple] = set()
        statements = 0
        for s, p, o in list(t):
            if p in names or (s, p, o) in seen or not s.startswith("<" + ID + world[0][:0]):
                continue
            if not any(s.startswith("<" + ID + w) for w in world) or s not in derivations:
                continue
            seen.add((s, p, o))
            node = iri(ID + f"statement/synthetic-{tag}-{statements}")
            statements += 1
            add(node, iri(RDF_TYPE), iri(RDF + "Statement"))
            add(node, iri(RDF + "subject"), s)
            add(node, iri(RDF + "predicate"), p)
            add(node, iri(RDF + "object"), o)
            for span in derivations[s]:
                add(node, iri(PROV + "wasDerivedFrom"), span)

        for s, p, o in t:
            yield f"{s} {p} {o} .\n"

    def lines(self) -> Iterator[str]:
        for i in range(self.events):
            yield from self.event(i)


def events_for(triples: int) -> int:
    """Number of events giving about ``triples`` triples."""
    return max(1, round(triples / TRIPLES_PER_EVENT))


def write(path: Path, events: int, seed: int = 2015, fmt: str = "nt") -> int:
    """Write the corpus atomically (temporary file + rename); returns the triple count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            if fmt == "nt":
                for line in Generator(events, seed).lines():
                    out.write(line)
                    count += 1
            else:
                import pyoxigraph as ox

                data = "".join(Generator(events, seed).lines()).encode("utf-8")
                triples = [q.triple for q in ox.parse(data, ox.RdfFormat.N_TRIPLES)]
                count = len(triples)
                body = ox.serialize(
                    triples,
                    format=ox.RdfFormat.TURTLE,
                    prefixes={"kg": KG, "kgc": KGC, "id": ID, "oa": OA, "prov": PROV},
                )
                out.write((body or b"").decode("utf-8"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--events", type=int, help="number of synthetic events")
    size.add_argument("--triples", type=int, help="approximate number of triples")
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument("--format", choices=("nt", "turtle"), default="nt")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    events = args.events if args.events is not None else events_for(args.triples)
    count = write(args.output, events, args.seed, args.format)
    print(f"{args.output}: {events} events, {count} triples", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

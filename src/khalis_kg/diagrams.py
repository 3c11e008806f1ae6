"""Pictures of the graph as SVG, drawn without any network access or layout engine.

Four diagrams, each built from the rows of a query in ``queries/diagrams/`` (so they
follow the model, not a copy of it) and laid out by a small deterministic layout of
columns and lanes:

* ``accounts``: the event, its accounts, each claim with its claimant and channel,
  how much support each account has, corroboration and contradiction between claims,
  and, set apart, what the article states in its own voice;
* ``timeline``: the event and the events related to it, by when the article places
  them ("since June 2014", "8 May 2015", "at the same time", "after") with the link's
  certainty;
* ``places``: the chain of places containing the event's places, and the stated
  relative locations (direction and distance as the article words them);
* ``ontology``: the ontology's classes and the object properties between them.

Every node is a link (``<a href>``) to the resource's page; ``link`` decides where it
points (the IRI itself by default; the server passes its local paths). Only
presentation attributes are used (no ``style``), so the SVG obeys a strict
Content-Security-Policy when inlined, and looks the same as a standalone file.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import math
import re
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import esc
from .namespaces import BASE, KG

Row = Mapping[str, Any]
Linker = Callable[[str], str | None]

KINDS = ("accounts", "timeline", "places", "ontology")
DEFAULT_EVENT = BASE + "id/event/al-khalis-prison-break-2015"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
CHAR_W = 6.6
"""Width of an average character at 12 px, for wrapping (a generous estimate)."""
LINE_H = 15

INK = "#1f2933"
MUTED = "#52606d"
ACCOUNT_COLOURS = ("#2f6f9f", "#a4502b", "#5b6b2f", "#6c4a9e")
SUPPORT = "#2f7d4f"
CONTRA = "#b3261e"
INFERRED_LINK = "#a4502b"
"""A link between claims that is an inference of ours, not the article's."""
FACT_FILL = "#fdf7e3"
FACT_STROKE = "#b08a1e"


def wrap(text: str, width_px: float, size: float = 12.0, *, bold: bool = False) -> list[str]:
    """Greedy word wrap to ``width_px`` at font ``size`` (estimated glyph widths)."""
    limit = max(8, int(width_px / (CHAR_W * size / 12.0 * (1.12 if bold else 1.0))))
    words = []
    for word in text.split():
        while len(word) > limit:  # a very long word (an IRI): cut, marked with an ellipsis
            words.append(word[: limit - 1] + "…")
            word = word[limit - 1 :]
        words.append(word)
    lines = textwrap.wrap(" ".join(words), limit, break_long_words=False, break_on_hyphens=False)
    return lines or [""]


def _path(*points: tuple[float, float]) -> str:
    """An SVG path through ``points``: ``M10.0,20.0 L30.0,40.0``."""
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)


def _curve(x1: float, y1: float, x2: float, y2: float) -> str:
    """A path from ``(x1, y1)`` to ``(x2, y2)`` leaving and arriving horizontally."""
    mid = (x1 + x2) / 2
    return f"M{x1:.1f},{y1:.1f} C{mid:.1f},{y1:.1f} {mid:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"


def identity_link(iri: str) -> str | None:
    return iri if iri.startswith(("http://", "https://")) else None


def local_name(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


@dataclass
class Box:
    """A node: a rounded rectangle with wrapped text, linked to ``iri``."""

    iri: str | None
    lines: list[str]
    x: float = 0
    y: float = 0
    w: float = 160
    kind: str = "node"
    fill: str = "#ffffff"
    stroke: str = INK
    sub: list[str] = field(default_factory=list)
    """Smaller, muted lines under the label (claimant and channel, a date...)."""
    sub_links: list[tuple[str, str | None]] = field(default_factory=list)
    """(text, iri) of a last line made of links (the claimant, the channel)."""
    bold: bool = False
    tooltip: str = ""

    @property
    def h(self) -> float:
        return len(self.lines) * LINE_H + (len(self.sub) + bool(self.sub_links)) * 13 + 12

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Column:
    """The layout of every diagram: boxes stacked in columns, each below the last."""

    x: float
    w: float
    y: float
    """Where the next box goes."""
    gap: float

    def put(self, b: Box, gap: float | None = None) -> Box:
        b.x, b.y, b.w = self.x, self.y, self.w
        self.y += b.h + (self.gap if gap is None else gap)
        return b


@dataclass
class Svg:
    """Accumulates SVG elements; :meth:`render` wraps them with a title and viewBox."""

    title: str
    link: Linker
    css_class: str
    highlight: str | None = None
    """The IRI of the page the diagram is shown on: its node is marked."""
    parts: list[str] = field(default_factory=list)
    arrows: set[str] = field(default_factory=set)
    """The colours of the arrowheads drawn (one ``<marker>`` each)."""
    width: float = 0.0
    height: float = 0.0

    def grow(self, x: float, y: float) -> None:
        self.width = max(self.width, x)
        self.height = max(self.height, y)

    def note(self, x: float, y: float, text: str) -> None:
        """A small muted line of text: a caption, a legend's entry."""
        self.text(x, y, text, size=11, fill=MUTED)

    def text(
        self,
        x: float,
        y: float,
        text: str,
        *,
        size: float = 12,
        fill: str = INK,
        anchor: str = "start",
        weight: str = "normal",
        italic: bool = False,
        halo: bool = False,
    ) -> None:
        extra = ' font-style="italic"' if italic else ""
        if halo:  # legible over the lines it crosses
            extra += ' class="halo" stroke="#ffffff" stroke-width="3" paint-order="stroke"'
        self.parts.append(
            f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" fill="{fill}" '
            f'text-anchor="{anchor}" font-weight="{weight}"{extra}>{esc(text)}</text>'
        )

    def box(self, b: Box) -> None:
        label = " ".join(b.lines)
        target = self.link(b.iri) if b.iri else None
        open_, close = "<g>", "</g>"
        if target is not None:  # the node links to the resource's page
            open_ = f'<a href="{esc(target)}" data-iri="{esc(b.iri)}" aria-label="{esc(label)}">'
            close = "</a>"
        here = b.iri is not None and b.iri == self.highlight
        tip = f"<title>{esc(b.tooltip or label)}{' (this page)' if here else ''}</title>"
        width = "3" if here else "1.4"
        fill = "#fff4cc" if here else b.fill
        self.parts += [
            f'<g class="node {esc(b.kind)}{" here" if here else ""}">',
            open_,
            tip,
            f'<rect x="{b.x:.1f}" y="{b.y:.1f}" width="{b.w:.1f}" height="{b.h:.1f}" rx="6" '
            f'fill="{fill}" stroke="{b.stroke}" stroke-width="{width}"/>',
        ]
        ty = b.y + 6 + 12
        for line in b.lines:
            self.text(b.x + 8, ty, line, weight="bold" if b.bold else "normal")
            ty += LINE_H
        for line in b.sub:
            self.text(b.x + 8, ty - 1, line, size=11, fill=MUTED, italic=True)
            ty += 13
        self.parts.append(close)
        if b.sub_links:
            # One line of text whose pieces link on their own (the claimant, the channel);
            # the browser flows the pieces, so nothing overlaps whatever the font.
            pieces = []
            for text, iri in b.sub_links:
                target = self.link(iri) if iri else None
                if target is None:
                    pieces.append(f'<tspan fill="{MUTED}">{esc(text)} </tspan>')
                else:
                    pieces.append(
                        f'<a href="{esc(target)}" data-iri="{esc(iri)}">'
                        f'<tspan fill="#1d5b8f">{esc(text)}</tspan></a><tspan> </tspan>'
                    )
            self.parts.append(
                f'<text x="{b.x + 8:.1f}" y="{ty - 1:.1f}" font-size="11" class="by">'
                + "".join(pieces)
                + "</text>"
            )
        self.parts.append("</g>")
        self.grow(b.x + b.w, b.y + b.h)

    def edge(
        self,
        d: str,
        *,
        colour: str = MUTED,
        dashed: bool = False,
        cls: str = "edge",
        title: str = "",
        width: float = 1.4,
        arrow: bool = True,
    ) -> None:
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        end = f' marker-end="url(#arrow-{colour.lstrip("#")})"' if arrow else ""
        if arrow:
            self.arrows.add(colour.lstrip("#"))
        tip = f"<title>{esc(title)}</title>" if title else ""
        self.parts.append(
            f'<g class="{esc(cls)}">{tip}<path d="{d}" fill="none" stroke="{colour}" '
            f'stroke-width="{width}"{dash}{end}/></g>'
        )

    def render(self, description: str = "") -> str:
        markers = "".join(
            f'<marker id="arrow-{c}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
            f'fill="#{c}"/></marker>'
            for c in sorted(self.arrows)
        )
        w, h = math.ceil(self.width + 12), math.ceil(self.height + 12)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="diagram {esc(self.css_class)}" '
            f'viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
            f'font-family="{esc(FONT)}" aria-labelledby="{esc(self.css_class)}-title">'
            f'<title id="{esc(self.css_class)}-title">{esc(self.title)}</title>'
            + (f"<desc>{esc(description)}</desc>" if description else "")
            + f"<defs>{markers}</defs>"
            + "".join(self.parts)
            + "</svg>\n"
        )


def _str(row: Row, key: str) -> str | None:
    value = row.get(key)
    return None if value is None else str(value)


def format_date(value: object) -> str:
    """``8 May 2015`` for a date, ``June 2014`` for a year-month, as given otherwise."""
    if isinstance(value, _dt.date):
        return f"{value.day} {value.strftime('%B')} {value.year}"
    text = str(value)
    with contextlib.suppress(ValueError):  # not a date after all (month 13): as given
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            return format_date(_dt.date.fromisoformat(text))
        if re.fullmatch(r"\d{4}-\d\d", text):
            return f"{_dt.date(2000, int(text[5:]), 1).strftime('%B')} {text[:4]}"
    return text


def date_words(date: object, since: object) -> str:
    """``8 May 2015``, ``since June 2014`` (the earliest beginning), or "" (neither known)."""
    if date:
        return format_date(date)
    return f"since {format_date(since)}" if since else ""


def quantity_words(row: Row) -> str:
    """A quantity as a reader says it, keeping its hedging: ``more than 50``, ``about 50``,
    ``at least 22``, ``50 mi``. ``row`` has ``qualifier`` (an IRI), ``value``,
    ``minValue``, ``exclusiveMinValue``, ``statedAs`` and ``unit``, any of them absent."""
    qualifier = local_name(str(row.get("qualifier") or ""))
    if qualifier == "remainder":
        return "the rest"
    value, excl, low = row.get("value"), row.get("exclusiveMinValue"), row.get("minValue")
    hedged = {
        "more-than": ("more than ", excl),
        "at-least": ("at least ", low),
        "approximate": ("about ", value),
    }
    # the qualifier's number, else the exact value, else a bound
    for words, number in (hedged.get(qualifier, ("", None)), ("", value), *hedged.values()):
        if number is not None:
            return f"{words}{number} {row['unit']}" if row.get("unit") else f"{words}{number}"
    return str(row.get("statedAs") or "?")


# ------------------------------------------------------------------ accounts


def accounts_svg(
    claims: Sequence[Row],
    links: Sequence[Row],
    facts: Sequence[Row],
    *,
    event: str,
    link: Linker = identity_link,
    highlight: str | None = None,
) -> str:
    """The map of the accounts (rows of ``diagrams/accounts``, ``account-links``, ``facts``)."""
    event_label = next((str(r["eventLabel"]) for r in claims if r.get("eventLabel")), None)
    event_label = event_label or local_name(event)
    accounts: dict[str, str] = {}
    for r in links:
        if r.get("relation") == "account":
            accounts[str(r["source"])] = _str(r, "targetLabel") or local_name(str(r["source"]))
    claim_label: dict[str, str] = {}
    of: dict[str, dict[str, dict[str, str]]] = {}  # claim -> role -> {IRI: label}, in order
    for r in claims:
        c = str(r["claim"])
        claim_label[c] = _str(r, "claimLabel") or local_name(c)
        for role, found in of.setdefault(c, {"account": {}, "claimant": {}, "channel": {}}).items():
            if r.get(role):
                found[str(r[role])] = _str(r, role + "Label") or local_name(str(r[role]))
        if r.get("account"):
            accounts.setdefault(str(r["account"]), _str(r, "accountLabel") or "account")

    svg = Svg(f"Map of the accounts of {event_label}", link, "account-map", highlight)
    top = 34.0
    svg.text(10, 18, "Stated by the article in its own voice", weight="bold", size=13)
    svg.text(300, 18, "The event and its accounts", weight="bold", size=13)
    svg.text(770, 18, "Claims, by whom and where they were published", weight="bold", size=13)

    # -- the claims column, grouped by account (claims of no account last)
    groups: dict[str | None, list[str]] = {
        a: [c for c, roles in of.items() if a in roles["account"]] for a in accounts
    }
    groups[None] = [c for c, roles in of.items() if not roles["account"]]
    column = Column(770.0, 385.0, top, 8)
    claim_boxes: dict[str, Box] = {}
    group_span: dict[str | None, tuple[float, float]] = {}
    for account, members in groups.items():
        if not members:
            continue
        if account is None:
            svg.note(column.x, column.y + 10, "Claims that support neither account")
            column.y += 16
        start = column.y
        for c in members:
            if c in claim_boxes:
                continue
            who = [(name, iri) for iri, name in of[c]["claimant"].items()]
            who = [(name + ",", iri) for name, iri in who[:-1]] + who[-1:]
            via = [(name, iri) for iri, name in of[c]["channel"].items()]
            pieces: list[tuple[str, str | None]] = [("by", None)]
            pieces += who or [("an unnamed claimant", None)]
            pieces += [("· via", None), *via] if via else []
            label = claim_label[c]
            b = Box(c, wrap(label, column.w - 16), kind="claim", sub_links=pieces, tooltip=label)
            claim_boxes[c] = column.put(b)
        group_span[account] = (start, column.y - 8)
        column.y += 18

    # -- accounts, centred on their claims
    account_x, account_w = 490.0, 235.0
    account_boxes: dict[str, Box] = {}
    for i, (account, label) in enumerate(accounts.items()):
        members = groups[account]
        n, m = len(members), len({w for c in members for w in of[c]["claimant"]})
        colour = ACCOUNT_COLOURS[i % len(ACCOUNT_COLOURS)]
        b = Box(
            account,
            wrap(label, account_w - 16, bold=True),
            x=account_x,
            w=account_w,
            kind="account",
            stroke=colour,
            bold=True,
            sub=[
                f"supported by {n} claim{'s' if n != 1 else ''} "
                f"from {m} claimant{'s' if m != 1 else ''}"
            ],
        )
        lo, hi = group_span.get(account, (top, top + b.h))
        b.y = max(top, (lo + hi) / 2 - b.h / 2)
        account_boxes[account] = b
        svg.box(b)
        for c in members:
            svg.edge(
                _curve(claim_boxes[c].x, claim_boxes[c].cy, b.x + b.w, b.cy),
                colour=colour,
                cls="edge supports",
                title=f"{claim_label[c]} — supports — {label}",
            )

    # -- the event, centred between the accounts
    ev = Box(event, wrap(event_label, 154, bold=True), x=290, w=170, kind="event", bold=True)
    ev.fill = "#eef3f8"
    ys = [b.cy for b in account_boxes.values()] or [top + ev.h / 2]  # no account: at the top
    ev.y = (min(ys) + max(ys)) / 2 - ev.h / 2
    svg.box(ev)
    for account, b in account_boxes.items():
        svg.edge(
            _path((b.x, b.cy), (ev.x + ev.w, ev.cy)),
            colour=b.stroke,
            cls="edge account-of",
            title=f"{accounts[account]} — account of — {event_label}",
        )
    for c in groups[None]:
        cb = claim_boxes[c]
        svg.edge(
            _path((cb.x, cb.cy), (ev.x + ev.w / 2, cb.cy), (ev.x + ev.w / 2, ev.y + ev.h)),
            colour=MUTED,
            dashed=True,
            cls="edge about",
            title=f"{claim_label[c]} — about — {event_label}",
        )
    for b in claim_boxes.values():
        svg.box(b)

    # -- corroboration and contradiction: arcs on the right of the claims, in lanes
    inferred_arcs = {
        (str(r["source"]), str(r["relation"]), str(r["target"]))
        for r in links
        if r.get("inferredBy")
    }
    arcs: list[tuple[str, str, str]] = [
        (str(r["source"]), str(r["relation"]), str(r["target"]))
        for r in links
        if r.get("relation") in {"corroborates", "contradicts"}
        and str(r.get("source")) in claim_boxes
        and str(r.get("target")) in claim_boxes
    ]
    arcs.sort(key=lambda a: abs(claim_boxes[a[0]].cy - claim_boxes[a[2]].cy))
    lanes: list[list[tuple[float, float]]] = []
    right = column.x + column.w
    for source, relation, target in arcs:
        y1, y2 = claim_boxes[source].cy, claim_boxes[target].cy
        lo, hi = min(y1, y2) - 4, max(y1, y2) + 4
        lane = 0
        while lane < len(lanes) and any(not (hi < a or lo > b) for a, b in lanes[lane]):
            lane += 1
        if lane == len(lanes):
            lanes.append([])
        lanes[lane].append((lo, hi))
        x = right + 18 + lane * 16
        ours = (source, relation, target) in inferred_arcs
        colour = INFERRED_LINK if ours else SUPPORT if relation == "corroborates" else CONTRA
        off = 3 if relation == "corroborates" else -3
        svg.edge(
            _path((right, y1 + off), (x, y1 + off), (x, y2 - off), (right + 2, y2 - off)),
            colour=colour,
            dashed=relation == "contradicts",
            cls=f"edge {relation}" + (" inferred" if ours else ""),
            title=f"{claim_label[source]} — {relation} — {claim_label[target]}"
            + (INFERRED if ours else ""),
        )
        svg.grow(x + 4, 0)

    # -- the article's own voice, set apart
    voice = Column(10.0, 250.0, top, 6)
    fact_boxes: list[Box] = []
    for r in facts:
        kind, note = r.get("kind"), INFERRED if r.get("inferredBy") else ""
        item = None if kind == "date" else _str(r, "item")  # a place or a quantity
        if kind == "date":
            lines, sub = [format_date(r["date"])], ["date of the event" + note]
        elif kind == "place":
            lines = wrap(_str(r, "label") or local_name(str(item)), voice.w - 16)
            sub = ["where it happened" + note]
        elif kind == "quantity":
            said = _str(r, "statedAs")
            lines = wrap(f"{quantity_words(r)} {_str(r, 'label') or ''}".strip(), voice.w - 16)
            sub = [f"the article: “{said}”"] if said else []
        else:
            continue
        box = Box(item, lines, kind="fact", sub=sub, fill="#fffdf5", stroke=FACT_STROKE)
        fact_boxes.append(voice.put(box))
    svg.parts.append(  # the panel behind the boxes
        f'<g class="own-voice"><rect x="{voice.x - 6:.1f}" y="{top - 6:.1f}" '
        f'width="{voice.w + 12:.1f}" height="{voice.y - top + 10:.1f}" rx="8" '
        f'fill="{FACT_FILL}" stroke="{FACT_STROKE}" stroke-width="1"/></g>'
    )
    for b in fact_boxes:
        svg.box(b)
    svg.grow(voice.x + voice.w, voice.y)

    # -- legend
    ly = max(svg.height, ev.y + ev.h) + 24
    legend = [
        (SUPPORT, False, "corroborates (backs another claim)"),
        (CONTRA, True, "contradicts (the article sets them against each other)"),
        (ACCOUNT_COLOURS[0], False, "supports an account"),
    ] + [
        (INFERRED_LINK, relation == "contradicts", f"{relation}: our inference, not the article's")
        for relation in sorted({relation for _, relation, _ in inferred_arcs & set(arcs)})
    ]
    lx = 10.0
    for colour, dashed, text in legend:
        svg.edge(_path((lx, ly), (lx + 34, ly)), colour=colour, dashed=dashed, cls="legend")
        svg.note(lx + 42, ly + 4, text)
        lx += 42 + len(text) * CHAR_W * 11 / 12 + 24
    svg.grow(lx, ly + 8)
    n = len(claim_boxes)
    return svg.render(
        f"{n} claims about {event_label}, grouped by the {len(accounts)} accounts they "
        "support; the article's own statements on the left."
    )


# ------------------------------------------------------------------ timeline

PHASES = {"background": 0, "concurrent": 1, "aftermath": 2}
INFERRED = " (our inference)"
"""Said after a date or a link that is not the article's but an inference of ours (its
rdf:Statement was generated by a kg:Inference)."""
INFERRED_DATE = "the date is our inference"
RELATION_WORDS = {
    "background": "background",
    "concurrent": "at the same time",
    "aftermath": "after",
}
CERTAINTY_WORDS = {
    "stated": "the article states the link",
    "unclear": "unclear whether related",
    "not-stated": "the article does not relate them explicitly",
}


def timeline_svg(
    rows: Sequence[Row],
    *,
    event: str,
    link: Linker = identity_link,
    highlight: str | None = None,
) -> str:
    """The event and its related events in three columns: before, the day, after."""
    columns: list[list[Row]] = [[], [], []]
    focus: Row | None = None
    for r in rows:
        if str(r.get("item")) == event and not r.get("linkType"):
            focus = r
            continue
        phase = local_name(str(r.get("linkType") or ""))
        columns[PHASES.get(phase, 1)].append(r)
    for col in columns:
        col.sort(
            key=lambda r: (str(r.get("date") or r.get("earliestBegin") or "~"), str(r["item"]))
        )
    given: Row = focus or {}
    focus_label = _str(given, "label") or local_name(event)
    focus_date = format_date(given["date"]) if given.get("date") else "date not stated"
    focus_date += INFERRED if given.get("date") and given.get("dateInferredBy") else ""
    svg = Svg(
        f"Timeline of {focus_label} and the events related to it", link, "timeline", highlight
    )
    col_w = 260.0
    top = 62.0
    stacks = [Column(x, col_w, top, 14) for x in (10.0, 300.0, 590.0)]
    heads = ["Background", focus_date, "After"]
    notes = ["context the article gives", "the day of the event", "aftermath"]
    # the time axis: an arrow across the three columns
    svg.edge("M10,44 L860,44", colour=MUTED, cls="axis", title="time", width=2)
    for i, stack in enumerate(stacks):
        mid = stack.x + col_w / 2
        svg.text(mid, 20, heads[i], anchor="middle", weight="bold", size=13)
        svg.text(mid, 36, notes[i], anchor="middle", size=11, fill=MUTED)
        svg.parts.append(
            f'<circle cx="{mid:.1f}" cy="44" r="4" fill="{INK if i == 1 else "#fff"}" '
            f'stroke="{INK}" stroke-width="1.4"/>'
        )
    focus_box: Box | None = None
    if focus is not None:
        lines = wrap(focus_label, col_w - 16, bold=True)
        focus_box = Box(
            event, lines, kind="event focus", bold=True, fill="#eef3f8", sub=[focus_date]
        )
        svg.box(stacks[1].put(focus_box, gap=26))
    for i, col in enumerate(columns):
        for r in col:
            item = str(r["item"])
            phase = local_name(str(r.get("linkType") or ""))
            certainty = local_name(str(r.get("certainty") or ""))
            when = date_words(r.get("date"), r.get("earliestBegin"))
            if not when:  # the article's words, not a date
                when = f"“{r['timeStatedAs']}”" if r.get("timeStatedAs") else "no date given"
            relation = RELATION_WORDS.get(phase, _str(r, "linkTypeLabel") or "related")
            sure = CERTAINTY_WORDS.get(certainty, _str(r, "certaintyLabel") or "")
            inferred_date = bool(r.get("date") and r.get("dateInferredBy"))
            b = Box(
                item,
                wrap(_str(r, "label") or local_name(item), col_w - 16),
                kind="event related"
                + ("" if r.get("date") or r.get("earliestBegin") else " undated")
                + (" inferred-date" if inferred_date else ""),
                sub=[f"{when} · {relation}"]
                + ([INFERRED_DATE] if inferred_date else [])
                + ([sure] if sure else []),
                stroke={"stated": INK, "unclear": "#a4502b"}.get(certainty, MUTED),
            )
            svg.box(stacks[i].put(b))
            if (f := focus_box) is not None:
                x, bottom = b.x + 20, f.y + f.h  # concurrent: a bar down from the focus
                paths = (
                    _path((b.x + b.w, b.cy), (f.x, f.cy)),
                    _path((x, bottom), (x, b.y)),
                    _path((f.x + f.w, f.cy), (b.x, b.cy)),
                )
                svg.edge(
                    paths[i],
                    colour=b.stroke,
                    dashed=certainty != "stated",
                    cls=f"edge {list(PHASES)[i]}",
                    title=f"{relation} ({sure})",
                    arrow=i != 1,
                )
                if i == 1:
                    svg.text(x + 8, (bottom + b.y) / 2 + 4, relation, size=11)
    ly = max(stack.y for stack in stacks) + 10
    svg.note(
        10,
        ly,
        "Columns order events as the article relates them, not to scale; "
        "dashed: the link is unclear or not stated.",
    )
    svg.grow(870, ly + 6)
    return svg.render(f"{len(rows)} events around {focus_label}")


# ------------------------------------------------------------------ places


def places_svg(
    rows: Sequence[Row],
    *,
    event: str,
    link: Linker = identity_link,
    highlight: str | None = None,
) -> str:
    """The chain of containing places, innermost at the bottom, with relative locations."""
    info: dict[str, Row] = {}
    for r in rows:
        info.setdefault(str(r["place"]), r)
    parent = {p: str(r["within"]) for p, r in info.items() if r.get("within")}
    depth: dict[str, int] = {}

    def level(p: str, seen: frozenset[str] = frozenset()) -> int:
        if p in depth:
            return depth[p]
        up = parent.get(p)
        d = 0 if up is None or up not in info or up in seen else level(up, seen | {p}) + 1
        depth[p] = d
        return d

    for p in info:
        level(p)
    order = sorted(info, key=lambda p: (depth[p], p))
    svg = Svg("Where it happened", link, "place-map", highlight)
    svg.text(10, 18, "Where it happened: each place lies within the one above", weight="bold")
    boxes: dict[str, Box] = {}
    any_inferred = False
    stack = Column(20, 240, 34.0, 14)
    for p in order:
        r = info[p]
        kind = _str(r, "placeTypeLabel")
        lines = [_str(r, "label") or local_name(p)]
        boxes[p] = b = stack.put(Box(p, lines, kind="place", bold=True, sub=[kind] if kind else []))
        b.x += depth[p] * 36  # within the place above it
        svg.box(b)
        up = parent.get(p)
        if up in boxes:
            ub = boxes[up]
            x = ub.x + 14
            inferred = bool(r.get("withinInferredBy"))
            svg.edge(
                _path((b.x, b.cy), (x, b.cy), (x, ub.y + ub.h)),
                colour=MUTED,
                dashed=inferred,
                cls="edge within inferred" if inferred else "edge within",
                title=f"{b.lines[0]} lies within {ub.lines[0]}" + (INFERRED if inferred else ""),
            )
            any_inferred = any_inferred or inferred
    # relative locations: the other place to the side, arrow labelled as the article says
    for p, r in info.items():
        if not r.get("relativeTo"):
            continue
        b = boxes[p]
        other = str(r["relativeTo"])
        words = _str(r, "where") or " ".join(
            x for x in (_str(r, "distanceStatedAs"), _str(r, "directionLabel")) if x
        )
        direction = (_str(r, "directionLabel") or "").lower()
        ob = Box(
            other,
            [_str(r, "relativeToLabel") or local_name(other)],
            x=b.x + b.w + 150,
            w=170,
            kind="place relative",
            bold=True,
            sub=["containing place not stated"],
        )
        # The article's direction decides the side: "north of Baghdad" puts Baghdad below.
        shift = {"north": b.h + 30, "south": -(ob.h + 30)}.get(direction, 0)
        ob.y = max(30, b.y + shift)
        svg.box(ob)
        svg.edge(
            _path((ob.x, ob.cy), (b.x + b.w, b.cy)),
            colour="#2f6f9f",
            cls="edge relative-location",
            title=f"{b.lines[0]}: {words}",
        )
        svg.text(ob.x, ob.y + ob.h + 16, words, size=11, fill="#2f6f9f", weight="bold")
        svg.grow(ob.x + len(words) * CHAR_W, ob.y + ob.h + 22)
    if any_inferred:
        svg.note(10, stack.y + 12, "dashed: our inference, which the article does not state")
        svg.grow(10 + 60 * CHAR_W, stack.y + 18)
    return svg.render(f"{len(info)} places of the event and what contains them")


# ------------------------------------------------------------------ ontology


def ontology_svg(rows: Sequence[Row], *, link: Linker = identity_link) -> str:
    """The ontology's classes as boxes (their properties listed in them) and the object
    properties between its classes as labelled arrows."""
    supers: dict[str, set[str]] = {}  # class -> its superclasses
    props: list[Row] = []
    for r in rows:
        if r.get("kind") == "class":
            parents = supers.setdefault(str(r["term"]), set())
            if r.get("superClass"):
                parents.add(str(r["superClass"]))
        else:
            props.append(r)
    own = {c for c in supers if c.startswith(KG)}
    # datatype/other-range properties go inside their domain's box; kg→kg ones are arrows
    inside: dict[str, dict[str, None]] = {c: {} for c in own}  # ordered sets
    arrows: dict[tuple[str, str, str], None] = {}  # (domain, range, property), in order
    for r in props:
        dom, ran, term = _str(r, "domain"), _str(r, "range"), str(r["term"])
        if dom in own and ran in own:
            arrows[dom, ran, term] = None
        elif dom in own:
            inside[dom][f"{local_name(term)} → {local_name(ran) if ran else '…'}"] = None
    svg = Svg("Classes and properties of the khalis-kg ontology", link, "ontology-map")
    # Three columns: the claim (the hub) | what a claim points to | the other classes.
    columns = {"Claim": 0, "Account": 1, "InformationSource": 1, "Quantity": 1}
    stacks = [Column(x, 300.0, 20.0, 30) for x in (150.0, 540.0, 1000.0)]
    boxes: dict[str, Box] = {}
    for n in sorted(own, key=lambda c: (columns.get(local_name(c), 2), local_name(c))):
        above = ", ".join(local_name(s) for s in sorted(supers[n]))
        sub = ([f"subclass of {above}"] if above else []) + [*inside[n]]
        b = Box(n, [f"kg:{local_name(n)}"], kind="class", bold=True, sub=sub, fill="#eef3f8")
        boxes[n] = stacks[columns.get(local_name(n), 2)].put(b)
    for b in boxes.values():
        if b.x == stacks[0].x:  # the hub sits level with the middle column
            b.y = max(20.0, stacks[1].y / 2 - b.h / 2)
        svg.box(b)
    loops = {True: 0, False: 0}  # loops drawn so far on the left, on the right
    colour = "#2f6f9f"
    for dom, ran, term in arrows:
        a, z = boxes[dom], boxes[ran]
        label = f"kg:{local_name(term)}"
        if dom == ran:  # from a class to itself: a loop on its outer side
            left = a.x == stacks[0].x
            k, loops[left] = loops[left], loops[left] + 1
            y1, y2 = a.y + 16 + k * 26, a.y + 30 + k * 26
            x, out = (a.x, -46) if left else (a.x + a.w, 46)
            svg.edge(
                f"M{x:.1f},{y1:.1f} C{x + out:.1f},{y1 - 8:.1f} {x + out:.1f},{y2 + 8:.1f} "
                f"{x:.1f},{y2:.1f}",
                colour=colour,
                cls="edge property",
                title=label,
            )
            end, at = ("end", x + out - 4) if left else ("start", x + out + 4)
            svg.text(at, (y1 + y2) / 2 + 4, label, size=11, fill=colour, anchor=end, halo=True)
            continue
        forward = a.x < z.x
        x1 = a.x + a.w if forward else a.x
        x2 = z.x if forward else z.x + z.w
        y1, y2 = a.cy, z.cy + (-8 if not forward else 0)
        svg.edge(_curve(x1, y1, x2, y2), colour=colour, cls="edge property", title=label)
        mid = ((x1 + x2) / 2, (y1 + y2) / 2 - 4)
        svg.text(*mid, label, size=11, fill=colour, anchor="middle", halo=True)
    svg.grow(svg.width + 10, max(stack.y for stack in stacks) + 10)
    return svg.render(f"{len(own)} classes and {len(props)} properties")

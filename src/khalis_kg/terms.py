"""A backend-neutral model of RDF terms and query results.

It follows the SPARQL 1.1 Query Results JSON model: a term is an IRI (``uri``), a
literal (with an optional datatype or language tag) or a blank node (``bnode``).

**Literals leave as they came.** :meth:`Term.literal` keeps the lexical form, the
datatype and the language tag the engine gives: ``"5"^^xsd:decimal`` stays ``5``,
``xsd:int`` stays ``xsd:int``, ``+00:00`` stays ``+00:00``. The one rewrite is RDF 1.1's
own identity: ``xsd:string`` (and ``rdf:langString``) is written as a simple (or
language-tagged) literal, as the SPARQL results formats do.

Engines legitimately differ in the forms they produce for the same value (Oxigraph
stores ``"01"^^xsd:integer`` as ``1`` and every integer subtype as ``xsd:integer``;
rdflib keeps ``xsd:short`` and prints a computed double as ``150.0`` where Oxigraph
prints ``150``). To compare answers by value, normalise explicitly with
:meth:`Term.normalized` or :meth:`QueryResult.normalized` (off by default):

* every built-in integer type (``xsd:int``, ``xsd:nonNegativeInteger``, ...) becomes
  ``xsd:integer`` with its canonical lexical form;
* ``xsd:decimal`` is written without trailing zeros but with at least one fraction digit;
* ``xsd:double`` and ``xsd:float`` use Python's shortest round-trip form with ``E``;
* ``xsd:boolean`` is ``true`` or ``false``;
* ``xsd:dateTime`` and ``xsd:time`` write UTC as ``Z`` and drop trailing fraction zeros;
* language tags are lower-cased.

Ill-typed literals (``"abc"^^xsd:integer``) keep their lexical form. Nothing heavy is
imported here.
"""

from __future__ import annotations

import math
import re

from .namespaces import RDF, XSD
from .records import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any, Literal

    TermType = Literal["uri", "literal", "bnode"]
    Form = Literal["select", "ask", "graph"]

RDF_LANGSTRING = RDF + "langString"
XSD_STRING = XSD + "string"
XSD_INTEGER = XSD + "integer"
XSD_DECIMAL = XSD + "decimal"
XSD_DOUBLE = XSD + "double"
XSD_FLOAT = XSD + "float"
XSD_BOOLEAN = XSD + "boolean"
XSD_DATE = XSD + "date"
XSD_DATETIME = XSD + "dateTime"
XSD_TIME = XSD + "time"

INTEGER_TYPES = frozenset(
    XSD + t
    for t in (
        "integer",
        "long",
        "int",
        "short",
        "byte",
        "nonNegativeInteger",
        "nonPositiveInteger",
        "positiveInteger",
        "negativeInteger",
        "unsignedLong",
        "unsignedInt",
        "unsignedShort",
        "unsignedByte",
    )
)


_FRACTION = r"(\.\d*?)0+(?=(Z|[+-]\d\d:\d\d)?$)"


def _canonical_decimal(text: str) -> str | None:
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        return None
    from decimal import Decimal

    value = Decimal(text)  # the regex admits only what Decimal reads
    if value == 0:
        return "0.0"
    text = format(value.normalize(), "f")
    return text if "." in text else text + ".0"


def _canonical_double(text: str) -> str | None:
    """The canonical lexical form of an ``xsd:double``/``xsd:float``: 1e999 is INF, and
    rdflib's (Python's) ``inf`` and ``nan`` are read too."""
    number = re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", text)
    if not number and text.lower() not in ("inf", "+inf", "-inf", "nan"):
        return None
    value = float(text)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if value == 0:
        return "-0.0E0" if math.copysign(1.0, value) < 0 else "0.0E0"
    from decimal import Decimal

    dec = Decimal(repr(value))  # shortest round-trip digits
    sign, digit_tuple, dec_exp = dec.normalize().as_tuple()
    assert isinstance(dec_exp, int)
    digit_str = "".join(str(d) for d in digit_tuple)
    sci_exp = dec_exp + len(digit_str) - 1
    head, tail = digit_str[0], digit_str[1:] or "0"
    return f"{'-' if sign else ''}{head}.{tail}E{sci_exp}"


def canonical_literal(
    value: str, datatype: str | None, lang: str | None
) -> tuple[str, str | None, str | None]:
    """``(lexical form, datatype, lang)`` in the canonical form described above."""
    if lang:
        return value, None, lang.lower()
    if datatype is None or datatype in (XSD_STRING, RDF_LANGSTRING):
        return value, None, None
    text = value.strip()
    if datatype in INTEGER_TYPES:
        if re.fullmatch(r"[+-]?\d+", text):
            return str(int(text)), XSD_INTEGER, None
        return value, datatype, None
    canon: str | None = None
    if datatype == XSD_DECIMAL:
        canon = _canonical_decimal(text)
    elif datatype in (XSD_DOUBLE, XSD_FLOAT):
        canon = _canonical_double(text)
    elif datatype == XSD_BOOLEAN:
        canon = {"true": "true", "1": "true", "false": "false", "0": "false"}.get(text)
    elif datatype in (XSD_DATE, XSD_DATETIME, XSD_TIME):  # UTC written Z
        canon = text[:-6] + "Z" if text.endswith(("+00:00", "-00:00")) else text
        if datatype != XSD_DATE:  # no trailing fraction zeros
            canon = re.sub(_FRACTION, lambda m: "" if m.group(1) == "." else m.group(1), canon)
    return (canon if canon is not None else value), datatype, None


_NT_ESCAPES = {c: f"\\u{c:04X}" for c in [*range(0x20), 0x7F]} | {
    ord("\\"): "\\\\",
    ord('"'): '\\"',
    ord("\n"): "\\n",
    ord("\r"): "\\r",
    ord("\t"): "\\t",
}
"""N-Triples string escapes: ECHAR where there is one, else ``\\uXXXX`` (controls)."""


_IRI_FORBIDDEN = r'[\x00-\x20<>"{}|^`\\]'


def is_absolute_iri(text: str) -> bool:
    """Whether ``text`` is an absolute IRI (RFC 3987) — exactly when Oxigraph, the
    engine, accepts it as a named node: the one check of every IRI that comes from
    outside (query parameters, ``--base``, ``--resource``, graph names, remote answers)."""
    from pyoxigraph import NamedNode  # light (2 ms), and only when an IRI is checked

    if not isinstance(text, str) or not _SCHEME.match(text):
        return False
    try:
        NamedNode(text)
    except (ValueError, UnicodeError):  # not an IRI; a lone surrogate (a byte not UTF-8)
        return False
    return True


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


def natural(text: str) -> int | None:
    """The non-negative integer ``text`` writes in ASCII digits (at most 18), or None: the
    one check of a number a store or a graph gives (``"²".isdigit()`` holds, and ``int()``
    takes neither it nor 5,000 digits)."""
    if not (0 < len(text) <= 18 and text.isascii() and text.isdigit()):
        return None
    return int(text)


class Term(Frozen):
    """An RDF term in the SPARQL 1.1 JSON results model."""

    __match_args__ = ("type", "value", "datatype", "lang")
    __slots__ = __match_args__
    type: TermType
    value: str
    datatype: str | None
    lang: str | None

    def __init__(
        self, type: TermType, value: str, datatype: str | None = None, lang: str | None = None
    ) -> None:
        setattr = object.__setattr__
        setattr(self, "type", type)
        setattr(self, "value", value)
        setattr(self, "datatype", datatype)
        setattr(self, "lang", lang)

    @classmethod
    def iri(cls, value: str) -> Term:
        return cls("uri", value)

    @classmethod
    def bnode(cls, label: str) -> Term:
        return cls("bnode", label)

    @classmethod
    def literal(cls, value: str, datatype: str | None = None, lang: str | None = None) -> Term:
        """A literal as given (``xsd:string`` and ``rdf:langString`` are left implicit)."""
        if lang:
            return cls("literal", value, None, lang)
        if datatype in (XSD_STRING, RDF_LANGSTRING):
            datatype = None
        return cls("literal", value, datatype, None)

    def normalized(self) -> Term:
        """This term with a literal's canonical form (see the module documentation),
        for comparing values across engines; IRIs and blank nodes are returned as they are."""
        if self.type != "literal":
            return self
        lexical, dt, lg = canonical_literal(self.value, self.datatype, self.lang)
        return Term("literal", lexical, dt, lg)

    @property
    def is_iri(self) -> bool:
        return self.type == "uri"

    def to_json(self) -> dict[str, str]:
        """This term as a SPARQL 1.1 JSON results binding."""
        data = {"type": self.type, "value": self.value}
        if self.lang:
            data["xml:lang"] = self.lang
        elif self.datatype:
            data["datatype"] = self.datatype
        return data

    def to_ntriples(self) -> str:
        """N-Triples (and SPARQL) syntax for this term; safe to embed in a query."""
        if self.type == "uri":
            if re.search(_IRI_FORBIDDEN, self.value):
                raise ValueError(f"not a valid IRI: {self.value!r}")
            return f"<{self.value}>"
        if self.type == "bnode":
            label = re.sub(r"[^A-Za-z0-9_]", "_", self.value) or "b"
            return f"_:{label}"
        text = f'"{self.value.translate(_NT_ESCAPES)}"'
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype:
            return f"{text}^^<{self.datatype}>"
        return text

    def to_python(self) -> Any:
        """A plain Python value: IRIs as ``str``, typed literals as int/Decimal/float/bool/date."""
        try:
            if self.datatype in INTEGER_TYPES:
                return int(self.value)
            if self.datatype == XSD_DECIMAL:
                from decimal import Decimal  # here, as datetime: a table needs neither

                return Decimal(self.value)
            if self.datatype in (XSD_DOUBLE, XSD_FLOAT):
                return float(self.value.replace("INF", "inf"))  # NaN and -INF too
            if self.datatype == XSD_BOOLEAN:
                return self.value.strip() in ("true", "1")
            if self.datatype == XSD_DATE and re.fullmatch(r"\d{4}-\d\d-\d\d", self.value):
                from datetime import date

                return date.fromisoformat(self.value)
            if self.datatype == XSD_DATETIME:
                from datetime import datetime

                return datetime.fromisoformat(self.value.strip().replace("Z", "+00:00"))
        except (ValueError, ArithmeticError):  # ill-typed: the lexical form
            return self.value
        return self.value

    def sort_key(self) -> tuple[int, str, str, str]:
        order = {"bnode": 0, "uri": 1, "literal": 2}[self.type]
        return (order, self.value, self.datatype or "", self.lang or "")

    def __str__(self) -> str:
        return self.value


Row = dict[str, Term]
Triple = tuple[Term, Term, Term]

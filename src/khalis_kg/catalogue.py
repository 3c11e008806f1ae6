"""The catalogue of packaged SPARQL queries (``queries/<name>.rq``).

Each file opens with the comment header docs/queries.md shows (``title``, ``question``,
``param: NAME TYPE [= DEFAULT] -- description``, ``columns``). A parameter is bound as
the SPARQL variable ``?NAME``, never spliced into the text; one without a default is
required, and ``=`` followed by nothing gives the empty string (an optional filter). A
SELECT query must list its parameters in its projection: Oxigraph substitutes values
through it (SEP-0007) and refuses other variables. Names ending in ``-violation`` are
quality checks (they must return no rows).

A query's name is its file name without ``.rq``: a letter, digit or underscore, then
letters, digits, ``_``, ``.`` and ``-``, no ``..``, at most :data:`MAX_NAME` characters
(:func:`is_query_name`). Any other name is an unknown query (UnknownQueryError: exit 2,
HTTP 404) before any file is opened; a file whose name breaks the rule is not a query.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from . import resources
from .errors import InputError, ParameterError, QueryError, UnknownQueryError, truncate
from .records import Frozen
from .safety import projection, scan
from .terms import XSD_DATE, XSD_INTEGER, Term, is_absolute_iri

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from importlib.abc import Traversable

PARAM_TYPES = ("iri", "string", "integer", "date")

_HEADER = re.compile(r"#\s*([A-Za-z_-]+)\s*:\s?(.*)$")
MAX_NAME = 100
"""The longest query name, in characters."""
_NAME = re.compile(rf"[A-Za-z0-9_][A-Za-z0-9_.-]{{0,{MAX_NAME - 1}}}")


def is_query_name(name: object) -> bool:
    """Whether ``name`` follows the catalogue's naming rule (see the module's text)."""
    return isinstance(name, str) and bool(_NAME.fullmatch(name)) and ".." not in name


_PARAM = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)\s+(?P<type>[a-z]+)"
    r"(?:\s*=\s*(?P<default>.*?))?\s*(?:--\s*(?P<description>.*))?$"
)


class Parameter(Frozen):
    """A query parameter: bound as the SPARQL variable of the same name."""

    __match_args__ = ("name", "type", "default", "description")
    __slots__ = __match_args__
    name: str
    type: str
    default: str | None
    description: str

    def __init__(
        self, name: str, type: str, default: str | None = None, description: str = ""
    ) -> None:
        self._init(name, type, default, description)

    @property
    def required(self) -> bool:
        return self.default is None


class QueryInfo(Frozen):
    """A packaged query: its name, header fields, parameters and text."""

    __match_args__ = ("name", "title", "question", "parameters", "columns", "form", "text")
    __slots__ = __match_args__
    _hidden = ("text",)
    name: str
    title: str
    question: str
    parameters: tuple[Parameter, ...]
    columns: tuple[str, ...]
    form: str
    text: str

    def __init__(
        self,
        name: str,
        title: str,
        question: str,
        parameters: tuple[Parameter, ...],
        columns: tuple[str, ...],
        form: str,
        text: str = "",
    ) -> None:
        self._init(name, title, question, parameters, columns, form, text)

    @property
    def is_check(self) -> bool:
        """Quality checks (``*-violation``) must return no rows."""
        return self.name.endswith("-violation")

    def bind(self, params: Mapping[str, object]) -> dict[str, Term]:
        """Check ``params`` against the declared parameters and type them."""
        self.check_projection()
        known = [p.name for p in self.parameters]
        if unknown := [key for key in params if key not in known]:
            raise ParameterError(
                f"query {self.name!r} has no parameter {unknown[0]!r} "
                f"(parameters: {', '.join(known) or 'none'})"
            )
        bound: dict[str, Term] = {}
        for p in self.parameters:  # a value given, else the default (None: not given)
            value = p.default if params.get(p.name) is None else params[p.name]
            if value is None:
                raise ParameterError(
                    f"query {self.name!r} needs parameter {p.name!r} ({p.type})"
                    + (f": {p.description}" if p.description else "")
                )
            bound[p.name] = coerce(p.name, p.type, value)
        return bound

    def check_projection(self) -> None:
        """A SELECT query must project its parameters (Oxigraph binds them through the
        projection, following SEP-0007); QueryError names the missing ones."""
        if self.form != "select" or not self.parameters:
            return
        if (projected := projection(self.text)) is None:
            return
        if missing := [p.name for p in self.parameters if p.name not in projected]:
            names = ", ".join(f"?{m}" for m in missing)
            raise QueryError(
                f"query {self.name!r} must list its parameter(s) {names} in its SELECT clause"
            )

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "title": self.title,
            "question": self.question,
            "form": self.form,
            "columns": list(self.columns),
            "check": self.is_check,
            "parameters": [
                {k: getattr(p, k) for k in ("name", "type", "default", "required", "description")}
                for p in self.parameters
            ],
        }


INTEGER_MIN = -(2**63)
INTEGER_MAX = 2**63 - 1
"""The range of an ``integer`` parameter: 64-bit, as Oxigraph's xsd:integer."""


def coerce(name: str, type_: str, value: object) -> Term:
    """Turn a parameter value (a string from the command line, or a Python value) into a term."""
    if type_ == "iri":
        if not isinstance(value, str) or not is_absolute_iri(value.strip()):
            raise ParameterError(f"parameter {name!r} must be an absolute IRI, got {value!r}")
        return Term.iri(value.strip())
    if type_ == "string":
        if not isinstance(value, str):
            raise ParameterError(f"parameter {name!r} must be a string, got {value!r}")
        return Term.literal(value)
    if type_ == "integer":
        if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
            value = int(value.strip())
        if isinstance(value, int) and not isinstance(value, bool):
            # Oxigraph's xsd:integer is 64-bit: past that range the engines would give
            # different answers, so the value is refused on every backend.
            if not INTEGER_MIN <= value <= INTEGER_MAX:
                raise ParameterError(
                    f"parameter {name!r} must be an integer from {INTEGER_MIN} to "
                    f"{INTEGER_MAX}, got {value}"
                )
            return Term.literal(str(value), XSD_INTEGER)
        raise ParameterError(f"parameter {name!r} must be an integer, got {value!r}")
    if type_ == "date":
        import datetime as _dt  # here: only a date parameter needs it

        if isinstance(value, _dt.date) and not isinstance(value, _dt.datetime):
            return Term.literal(value.isoformat(), XSD_DATE)
        text = value.strip() if isinstance(value, str) else ""
        if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
            with contextlib.suppress(ValueError):
                return Term.literal(_dt.date.fromisoformat(text).isoformat(), XSD_DATE)
        raise ParameterError(f"parameter {name!r} must be a date (YYYY-MM-DD), got {value!r}")
    raise ParameterError(f"parameter {name!r} has unknown type {type_!r}")  # pragma: no cover


def parse_query_file(name: str, text: str) -> QueryInfo:
    """Parse the header of one ``.rq`` file."""
    fields: dict[str, str] = {}
    params: list[Parameter] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        if not line.startswith("#"):
            break
        if not (m := _HEADER.match(line)):
            continue
        key, value = m.group(1).lower(), m.group(2).strip()
        if key == "param":
            pm = _PARAM.match(value)
            if not pm or pm.group("type") not in PARAM_TYPES:
                raise InputError(
                    f"query {name!r}: bad param line {value!r} "
                    f"(expected 'NAME TYPE [= DEFAULT] -- description', TYPE one of "
                    f"{', '.join(PARAM_TYPES)})"
                )
            # the pattern leaves no space around the default or the description
            params.append(Parameter(pm["name"], pm["type"], pm["default"], pm["description"] or ""))
        else:
            fields.setdefault(key, value)
    found = scan(text).form
    form = found if found in ("select", "construct", "ask", "describe") else "select"
    columns = tuple(c.strip() for c in fields.get("columns", "").split(",") if c.strip())
    return QueryInfo(
        name=name,
        title=fields.get("title", name),
        question=fields.get("question", ""),
        parameters=tuple(params),
        columns=columns,
        form=form,
        text=text,
    )


class Catalogue:
    """The packaged queries, by name.

    :meth:`load` reads every ``.rq`` file at once; :meth:`open` reads nothing until
    asked, and then :meth:`get` reads and parses only ``NAME.rq`` (the command line
    runs one query, it does not need the 27 others). Listing (iteration, :meth:`names`,
    :meth:`list`) reads the whole directory in both cases.
    """

    def __init__(
        self, queries: Iterable[QueryInfo] = (), *, root: Traversable | Path | None = None
    ):
        self._queries = {q.name: q for q in sorted(queries, key=lambda q: q.name)}
        self._root = root
        """Directory still to be read (lazy catalogue); None once everything is read."""
        self.packaged = False
        """Whether these are the queries that ship with khalis-kg (then they are admitted
        by :func:`khalis_kg.safety.builtin`, checked by the test suite, without a parse)."""

    @classmethod
    def load(cls, directory: Traversable | Path | None = None) -> Catalogue:
        """Read every ``*.rq`` in ``directory`` (the packaged ``queries/`` by default)."""
        catalogue = cls.open(directory)
        catalogue._complete()
        return catalogue

    @classmethod
    def open(cls, directory: Traversable | Path | None = None) -> Catalogue:
        """A catalogue of ``directory`` (the packaged ``queries/`` by default) that reads
        a query file only when that query is asked for."""
        root: Traversable | Path = resources.queries_dir() if directory is None else directory
        catalogue = cls(root=root)
        catalogue.packaged = directory is None
        return catalogue

    def _files(self) -> dict[str, Traversable | Path]:
        """The ``*.rq`` files of the directory still to be read, by query name."""
        if (root := self._root) is None:
            return {}
        try:
            entries = list(root.iterdir())
        except OSError as exc:
            raise InputError(f"cannot read the query directory {root} ({exc})") from None
        files = {
            e.name[:-3]: e
            for e in entries
            if e.name.endswith(".rq") and is_query_name(e.name[:-3]) and e.is_file()
        }
        if not files and not self._queries:
            raise InputError(f"no queries (*.rq files) in {root}")
        return files

    def _complete(self) -> None:
        for name, entry in self._files().items():
            if name not in self._queries:
                self._queries[name] = parse_query_file(name, resources.read_text(entry))
        self._queries = dict(sorted(self._queries.items()))
        self._root = None

    def _read_one(self, name: str) -> QueryInfo | None:
        """``NAME.rq`` of a lazy catalogue's directory, read and parsed, or None."""
        if self._root is None or not is_query_name(name):
            return None
        entry = self._root / f"{name}.rq"
        if not entry.is_file():
            return None
        self._queries[name] = info = parse_query_file(name, resources.read_text(entry))
        return info

    def __iter__(self) -> Iterator[QueryInfo]:
        self._complete()
        return iter(self._queries.values())

    def __len__(self) -> int:
        self._complete()
        return len(self._queries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and (name in self._queries or self._read_one(name) is not None)

    def names(self) -> list[str]:
        return [q.name for q in self]

    def list(self) -> list[QueryInfo]:
        return [*self]

    def get(self, name: str) -> QueryInfo:
        """The query called ``name``, or UnknownQueryError with the closest names."""
        if not is_query_name(name):
            raise UnknownQueryError(truncate(str(name), 40), [])
        if (info := self._queries.get(name) or self._read_one(name)) is not None:
            return info
        known = sorted({*self._queries, *self._files()})  # lists the directory, reads no file
        import difflib  # only for a name that is not there

        suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        raise UnknownQueryError(name, suggestions)

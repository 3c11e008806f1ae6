"""The default engine: pyoxigraph, in memory or on disk.

Parameters are passed to ``Store.query(..., substitutions=...)`` (SEP-0007): they are
never written into the query text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import BackendError, InputError, QueryError, QuerySyntaxError, one_line
from ..files import pid_alive
from ..namespaces import PREFIXES
from ..rdfio import Source, canonical_triples, from_ox, ox_format, rdf_syntax_error, to_ox
from ..results import QueryResult, sort_rows
from ..safety import Limits, check_query
from ..terms import Row, Term

_POSITION = re.compile(r"(?:error )?at (\d+):(\d+)")


def syntax_error(exc: SyntaxError) -> QuerySyntaxError:
    """A QuerySyntaxError with line and column from Oxigraph's ``error at L:C: ...``."""
    text = str(exc)
    m = _POSITION.search(text)
    if m:
        line, column = int(m.group(1)), int(m.group(2))
        rest = text[m.end() :].lstrip(": ")
        return QuerySyntaxError(
            f"SPARQL syntax error at line {line}, column {column}: {one_line(rest, 100)}",
            line=line,
            column=column,
        )
    return QuerySyntaxError(f"SPARQL syntax error: {one_line(text)}")


class OxigraphBackend:
    """A pyoxigraph ``Store``; on disk when ``path`` is given.

    An on-disk store is built atomically: the first :meth:`load` into a new (absent or
    empty) directory bulk-loads a sibling ``.NAME.loading-PID`` directory and renames it
    into place when complete. A process killed mid-load leaves the target as it was
    (absent, so the next run loads again) and never half-filled; stale loading
    directories of dead processes are removed by the next load. An existing store is
    opened as it is and never written by :meth:`load`'s bulk path.
    """

    name = "oxigraph"

    def __init__(self, path: str | Path | None = None):
        self.path = None if path is None else Path(path)
        self._store: ox.Store | None = None
        if self.path is None:
            self._store = ox.Store()
        elif self.path.exists() and any(self.path.iterdir()):
            self._store = self._open(self.path)

    @staticmethod
    def _open(path: Path) -> ox.Store:
        try:
            return ox.Store(str(path))
        except OSError as exc:
            raise BackendError(f"cannot open the Oxigraph store at {path}: {exc}") from None

    @property
    def store(self) -> ox.Store:
        if self._store is None:  # a new on-disk store nothing was loaded into yet
            assert self.path is not None
            self._store = self._open(self.path)
        return self._store

    def load(self, sources: Sequence[Source]) -> None:
        if self.path is not None and self._store is None:
            self._build_on_disk(self.path, sources)
            return
        for source in sources:
            self._load_one(self.store, source, bulk=False)

    def _build_on_disk(self, path: Path, sources: Sequence[Source]) -> None:
        import os
        import shutil

        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{path.name}.loading-"
        for stale in path.parent.glob(prefix + "*"):
            pid = stale.name.removeprefix(prefix)
            if pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(stale, ignore_errors=True)
        building = path.parent / f"{prefix}{os.getpid()}"
        shutil.rmtree(building, ignore_errors=True)
        try:
            store = self._open(building)
            for source in sources:
                self._load_one(store, source, bulk=True)
            store.flush()
            del store
            if path.exists():
                path.rmdir()  # empty: checked in __init__
            building.rename(path)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        self._store = self._open(path)

    @staticmethod
    def _load_one(store: ox.Store, source: Source, *, bulk: bool) -> None:
        fmt = ox_format(source.spec().name)
        try:
            if bulk:
                store.bulk_load(source.data, fmt, base_iri=source.base_iri)
            else:
                store.load(source.data, fmt, base_iri=source.base_iri)
        except SyntaxError as exc:
            raise rdf_syntax_error(source, exc) from None
        except (ValueError, OSError) as exc:
            raise InputError(f"{source.name}: cannot load: {one_line(str(exc))}") from None

    def graph_names(self) -> frozenset[str]:
        names = set()
        for graph in self.store.named_graphs():
            if isinstance(graph, ox.NamedNode) and next(
                iter(self.store.quads_for_pattern(None, None, None, graph)), None
            ):
                names.add(graph.value)
        return frozenset(names)

    def triple_count(self) -> int:
        return 0 if self._store is None else len(self._store)

    def dump(self) -> bytes:
        data = self.store.dump(format=ox.RdfFormat.N_QUADS)
        assert data is not None
        return data

    def close(self) -> None:
        if self.path is not None and self._store is not None:
            self._store.flush()
            self._store = None  # releases the on-disk store's lock

    def query(
        self,
        text: str,
        *,
        bindings: Mapping[str, Term] | None = None,
        limits: Limits | None = None,
    ) -> QueryResult:
        scan = check_query(text, self.graph_names, PREFIXES)
        limits = limits or Limits()
        substitutions: dict[ox.Variable, Any] = {
            ox.Variable(k): to_ox(v) for k, v in (bindings or {}).items()
        }
        try:
            answer = self.store.query(text, prefixes=PREFIXES, substitutions=substitutions or None)
        except SyntaxError as exc:
            raise syntax_error(exc) from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {one_line(str(exc))}") from None
        try:
            if isinstance(answer, ox.QueryBoolean):
                return QueryResult("ask", boolean=bool(answer))
            if isinstance(answer, ox.QuerySolutions):
                variables = [v.value for v in answer.variables]
                rows: list[Row] = []
                for solution in limits.guard(answer):
                    row: Row = {}
                    for var in variables:
                        value = solution[var]
                        if value is not None:
                            row[var] = from_ox(value)
                    rows.append(row)
                if not scan.has_order_by:
                    rows = sort_rows(rows, variables)
                return QueryResult("select", variables=variables, rows=rows)
            return QueryResult("graph", triples=canonical_triples(list(limits.guard(answer))))
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {one_line(str(exc))}") from None

"""The default engine: pyoxigraph, in memory or on disk.

Parameters are passed to ``Store.query(..., substitutions=...)`` (SEP-0007): they are
never written into the query text.
"""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from .. import results
from ..errors import BackendError, InputError, QueryError, one_line
from ..files import as_path, pid_alive
from ..namespaces import PREFIXES
from ..rdfio import (
    Source,
    canonical_triples,
    from_ox,
    ox_format,
    rdf_syntax_error,
    result_format,
    to_ox,
    token_too_long,
)
from ..results import QueryResult, serialize
from ..safety import Limits, ReadOnlyQuery
from ..terms import Row
from .base import Backend, Bindings, QueryDataset, syntax_error

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any


class OxigraphBackend(Backend):
    """A pyoxigraph ``Store``; on disk when ``path`` is given.

    An on-disk store is built atomically: the first :meth:`load` into a new (absent or
    empty) directory bulk-loads a sibling ``.NAME.loading-PID`` directory and renames it
    into place when complete. A process killed mid-load leaves the target as it was
    (absent, so the next run loads again) and never half-filled; stale loading
    directories of dead processes are removed by the next load. An existing store is
    opened as it is and never written by :meth:`load`'s bulk path. With ``read_only``
    the directory must already hold a store and nothing can be loaded into it: it is
    read through a private checkpoint (:func:`open_view`), so another process may have it
    open for writing and compact it meanwhile.
    """

    name = "oxigraph"

    def __init__(self, path: str | Path | None = None, *, read_only: bool = False):
        self.path = None if path is None else _store_path(path)
        self.read_only = read_only
        self._declared: set[str] = set()
        self._store: ox.Store | None = None
        self._snapshot: Path | None = None  # see before_fork
        self._for_children: ox.Store | None = None  # see before_fork
        if read_only:
            if self.path is None or not self.path.is_dir() or not is_store_directory(self.path):
                raise InputError(f"{path}: not an Oxigraph store directory")
            self._store, self._snapshot = open_view(self.path)
        elif self.path is None:
            self._store = ox.Store()
        elif self.path.exists() and any(self.path.iterdir()):
            if not is_store_directory(self.path):
                raise BackendError(
                    f"{self.path}: a non-empty directory that is not an Oxigraph store; "
                    "refused (give an empty or new directory for a new store)"
                )
            self._store = self._open(self.path)

    @staticmethod
    def _open(path: Path) -> ox.Store:
        try:
            return ox.Store(str(path))
        except (OSError, RuntimeError) as exc:  # RocksDB "Corruption": RuntimeError
            raise _cannot("open", path, exc) from None

    @property
    def store(self) -> ox.Store:
        if self._store is None:  # a new on-disk store nothing was loaded into yet
            assert self.path is not None
            self._store = self._open(self.path)
        return self._store

    def load(self, sources: Sequence[Source]) -> None:
        if self.read_only:
            raise BackendError(f"{self.path}: the store is open read-only; nothing can be loaded")
        # A named graph given by a file is held even when the file is empty.
        self._declared |= {s.graph for s in sources if s.graph is not None}
        if self.path is not None and self._store is None:
            self._build_on_disk(self.path, sources)
            return
        self._forget_snapshot()  # children would read the store as it was
        for source in sources:
            self._load_one(self.store, source, bulk=False)

    def _forget_snapshot(self) -> None:
        """Drop the checkpoint :meth:`before_fork` made (the next fork makes a new one)."""
        self._for_children = None
        if self._snapshot is not None:
            _remove(self._snapshot)
            self._snapshot = None

    def _build_on_disk(self, path: Path, sources: Sequence[Source]) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        prefix = f".{path.name}.loading-"
        _remove_stale(path.parent, prefix)
        building = path.parent / f"{prefix}{os.getpid()}"
        _remove(building)
        try:
            store = self._open(building)
            for source in sources:
                self._load_one(store, source, bulk=True)
            store.flush()
            del store
            try:
                if path.exists():
                    path.rmdir()  # empty: checked in __init__
                building.rename(path)
            except OSError as exc:
                # Another process built the same store first: use theirs.
                if not is_store_directory(path):
                    raise BackendError(
                        f"cannot create the Oxigraph store at {path}: {exc.strerror}"
                    ) from None
                _remove(building)
        except BaseException:
            _remove(building)
            raise
        self._store = self._open(path)

    @staticmethod
    def _load_one(store: ox.Store, source: Source, *, bulk: bool) -> None:
        fmt = ox_format(source.spec().name)
        to_graph = None if source.graph is None else ox.NamedNode(source.graph)
        load = store.bulk_load if bulk else store.load
        try:
            load(source.data, fmt, base_iri=source.base_iri, to_graph=to_graph)
        except SyntaxError as exc:
            raise rdf_syntax_error(source, exc) from None
        except MemoryError as exc:
            raise token_too_long(source, exc) from None
        except (ValueError, OSError) as exc:
            raise InputError(f"{source.name}: cannot load: {one_line(str(exc))}") from None

    def graph_names(self) -> frozenset[str]:
        """The non-empty named graphs, and those loaded from a file (even empty)."""
        named = (g for g in self.store.named_graphs() if isinstance(g, ox.NamedNode))
        filled = {g.value for g in named if any(self.store.quads_for_pattern(None, None, None, g))}
        return frozenset(filled) | self._declared

    def triple_count(self) -> int:
        return 0 if self._store is None else len(self._store)

    def dump(self) -> bytes:
        return self.store.dump(format=ox.RdfFormat.N_QUADS) or b""

    def before_fork(self) -> None:
        """In the parent, before an isolated child is forked: an on-disk store gets a
        checkpoint (``Store.backup``: hard links to its immutable files) once, and a
        read-only handle on it, opened here, in the parent, that children read through.
        A child never touches the parent's RocksDB instance, whose background threads do
        not exist in the child, nor files that instance may delete after a compaction;
        and it opens nothing: opening a RocksDB database takes process-wide locks (its
        thread pool's) that a compaction thread of the parent may hold at the instant of
        the fork, and in the child no thread would ever release them."""
        if self.path is None or self._store is None:
            return
        try:
            if self._snapshot is None:
                self._for_children, self._snapshot = _checkpoint(self._store, self.path)
            elif self._for_children is None:  # a read-only store's view (open_view)
                self._for_children = ox.Store.read_only(str(self._snapshot / "store"))
        except (OSError, RuntimeError) as exc:
            raise _cannot("snapshot", self.path, exc) from None

    def after_fork(self) -> None:
        """In a forked child: read through the handle :meth:`before_fork` opened. The
        inherited handle is kept referenced and never dropped (dropping it would wait for
        threads that are not there); the child ends with ``os._exit``."""
        if self._for_children is None or self._store is None:
            return
        _INHERITED.append(self._store)
        self._store = self._for_children

    def close(self) -> None:
        if self.path is not None and self._store is not None:
            if not self.read_only:
                self._store.flush()
            self._store = None  # releases the on-disk store's lock
        self._forget_snapshot()

    def run(
        self, plan: ReadOnlyQuery, bindings: Bindings, limits: Limits, dataset: QueryDataset | None
    ) -> QueryResult:
        substitutions: dict[ox.Variable, Any] = {
            ox.Variable(k): to_ox(v) for k, v in bindings.items()
        }
        default_graph: list[ox.NamedNode | ox.DefaultGraph] | None = None
        named_graphs: list[ox.NamedNode] | None = None
        if dataset is not None:  # these arguments override the query's FROM / FROM NAMED
            default_graph = [
                ox.DefaultGraph() if g is None else ox.NamedNode(g) for g in dataset.default_graphs
            ]
            named_graphs = [ox.NamedNode(g) for g in dataset.named_graphs]

        def ask() -> Any:
            return self.store.query(
                plan.text,
                base_iri=plan.base,
                prefixes=PREFIXES,
                substitutions=substitutions or None,
                default_graph=default_graph,  # type: ignore[arg-type]
                named_graphs=named_graphs,  # type: ignore[arg-type]
            )

        try:
            answer = ask()
            if isinstance(answer, ox.QueryBoolean):
                return QueryResult("ask", boolean=bool(answer))
            if isinstance(answer, ox.QuerySolutions):
                variables = [v.value for v in answer.variables]
                # the engine's order of rows is the answer's: it writes the JSON wanted
                deadline = limits.deadline()  # one time limit, whichever way it is read
                if plan.ordered and results.WRITING == "json":
                    written = _written(answer, len(variables), limits, deadline)
                    if written is not None:
                        return Written(variables, written)
                    answer = ask()  # what it did not write: as rows, below
                solutions = limits.guard(answer, deadline)
                return QueryResult("select", variables, _rows(variables, solutions))
            return QueryResult("graph", triples=canonical_triples(list(limits.guard(answer))))
        except SyntaxError as exc:
            raise syntax_error(str(exc), plan.text) from None
        except (OSError, ValueError, RuntimeError) as exc:
            raise QueryError(f"query failed: {one_line(str(exc))}") from None


WRITTEN_MAX = 64 * 1024**2
"""Bytes of SPARQL JSON the engine may write for one answer (:func:`_written`); a larger
answer is read as rows instead, which stop at the row cap."""


class _TooLargeError(Exception):
    """The answer being written passed :data:`WRITTEN_MAX`, or holds more objects than
    the row cap allows."""


class _Sink:
    """Where pyoxigraph writes an answer (every 8 KiB): kept, up to WRITTEN_MAX bytes and
    ``most`` objects (``{``), and the time limit checked at each write, as between rows
    (``Limits.guard``, ending at the same ``deadline``)."""

    def __init__(self, limits: Limits, deadline: float | None, most: int | None) -> None:
        self.parts: list[bytes] = []
        self.size = 0
        self.most, self.objects = most, 0
        self.limits, self.deadline = limits, deadline

    def write(self, data: bytes) -> int:
        self.limits.check(self.deadline)  # TimeLimitError past the time limit
        self.size += len(data)
        if self.most is not None:
            self.objects += data.count(b"{")
        if self.size > WRITTEN_MAX or (self.most is not None and self.objects > self.most):
            raise _TooLargeError
        self.parts.append(data)
        return len(data)

    def flush(self) -> None:
        pass


def _rows(variables: list[str], solutions: Iterable[ox.QuerySolution]) -> list[Row]:
    """Rows of the engine's solutions: each bound value as a :class:`Term`, in order."""
    return [
        {var: from_ox(x) for var, x in zip(variables, solution, strict=True) if x is not None}
        for solution in solutions
    ]


class Written(QueryResult):
    """An ordered SELECT answer as pyoxigraph wrote it when SPARQL JSON was wanted
    (:data:`~khalis_kg.results.WRITING`): the bytes :func:`~khalis_kg.results.to_json`
    writes for its rows (tests/test_written.py holds them equal; pyoxigraph 0.5.4, the
    floor, writes a control character's escape as ``\\u001F``, ours ``\\u001f``); its
    rows are read from those bytes (by pyoxigraph, then as every answer's rows:
    ``_rows``) only when first looked at.

    While no row has been looked at and the variables are as written, :meth:`serialize`
    gives that JSON as it is: no Python object made per value (~0.1 ms less CPU per
    casualties request to the endpoint; an answer of hundreds of rows in half the CPU).
    Anything else reads the rows and is any answer."""

    def __init__(self, variables: list[str], written: bytes) -> None:
        super().__init__("select", list(variables))
        self._written: bytes | None = written
        self._head = list(variables)
        self._rows: list[Row] | None = None

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            solutions = ox.parse_query_results(self._written, ox.QueryResultsFormat.JSON)
            self._rows = _rows(self._head, solutions)  # type: ignore[arg-type]  # a SELECT's
            self._written = None  # the rows may change from now on: written from them
        return self._rows

    @rows.setter
    def rows(self, rows: list[Row]) -> None:
        self._rows, self._written = rows, None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QueryResult):
            return NotImplemented
        return self._values() == other._values()

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        if self._written is None or self.variables != self._head:  # an answer of rows
            return (QueryResult, self._values())
        return (Written, (self._head, self._written))

    def serialize(self, fmt: str = "json") -> tuple[bytes, str]:
        spec = result_format(fmt, "select")
        if spec.name == "json" and self._written is not None and self.variables == self._head:
            return self._written, spec.content_type
        return serialize(self, fmt)


def _written(
    answer: ox.QuerySolutions, width: int, limits: Limits, deadline: float | None
) -> bytes | None:
    """``answer`` (``width`` variables) as SPARQL JSON written by pyoxigraph, the bytes
    ``results.to_json`` writes for its rows; the time limit (ending at ``deadline``) and
    the row cap (QueryTimeoutError) are those of the rows' path. None for an answer
    larger than :data:`WRITTEN_MAX`, with more objects than the cap's rows can hold, or
    that may hold a term a row does not (a triple term; a literal's base direction, which
    ``from_ox`` leaves out): it is read as rows, which stop at the cap, before the limit."""
    # The head, "head" and "results" are three objects; a row is one, and one per value.
    most = None if limits.max_rows is None else 3 + limits.max_rows * (1 + width)
    sink = _Sink(limits, deadline, most)
    try:
        answer.serialize(sink, ox.QueryResultsFormat.JSON)  # type: ignore[arg-type]  # a writer
    except _TooLargeError:
        return None
    limits.check(deadline)
    written = b"".join(sink.parts) + b"\n"
    # A quote is escaped inside a JSON string: '"triple"' and '"its:dir"' are the name of
    # a variable, a whole value, or a term's type or direction; only the last two matter.
    if b'"triple"' in written or b'"its:dir"' in written:
        return None
    # Each row is an object, so holds a '{': with no more of them than the cap allows,
    # the rows are not counted.
    if limits.max_rows is not None and sink.objects > limits.max_rows:
        solutions = ox.parse_query_results(written, ox.QueryResultsFormat.JSON)
        for _ in limits.guard(solutions, deadline):  # type: ignore[arg-type]  # a SELECT's
            pass
    return written


_INHERITED: list[ox.Store] = []
"""Store handles a forked child inherited and must never drop (see ``after_fork``)."""

_VIEW_ATTEMPTS = 5


def open_view(path: Path) -> tuple[ox.Store, Path]:
    """A read-only handle on a private checkpoint of the store in ``path``, and the
    directory holding that checkpoint (removed by :meth:`OxigraphBackend.close`).

    A RocksDB database opened read-only while another process writes it sees the files
    its manifest listed when it was opened; a compaction of the writer may delete one of
    them before it is read ("IO error: No such file"). The checkpoint (hard links where
    the file system allows) pins the files of one consistent state, so the reads that
    follow cannot lose them. A compaction between reading the manifest and linking is
    the one remaining race: the whole step is tried again, a bounded number of times."""
    for attempt in range(_VIEW_ATTEMPTS):
        try:
            return _checkpoint(ox.Store.read_only(str(path)), path)
        except (OSError, RuntimeError) as exc:  # RocksDB's "Corruption" is a RuntimeError
            if attempt + 1 == _VIEW_ATTEMPTS or "No such file" not in str(exc):
                raise _cannot("open", path, exc) from None
            time.sleep(0.05 * 2**attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def _checkpoint(store: ox.Store, path: Path) -> tuple[ox.Store, Path]:
    """A checkpoint of ``store`` (the store in ``path``) in a new private directory
    (:func:`_holder`; removed when this fails), and a read-only handle on it."""
    holder = _holder(path)
    try:
        store.backup(str(holder / "store"))
        return ox.Store.read_only(str(holder / "store")), holder
    except BaseException:
        _remove(holder)
        raise


def _cannot(what: str, path: Path, exc: BaseException) -> BackendError:
    """The one-line error for an on-disk store RocksDB refused (an ``OSError``, or a
    ``RuntimeError`` for its "Corruption")."""
    return BackendError(f"cannot {what} the Oxigraph store at {path}: {one_line(str(exc))}")


def _holder(path: Path) -> Path:
    """A new private directory for a checkpoint of the store in ``path``: beside it,
    ``.NAME.view-PID-XXXX``, when that directory is writable (same file system: the
    checkpoint is hard links, not a copy), else in the system's temporary directory.
    Checkpoints left beside it by dead processes are removed first."""
    import tempfile

    prefix = f".{path.name}.view-"
    _remove_stale(path.parent, prefix)
    try:
        return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=path.parent))
    except OSError:
        return Path(tempfile.mkdtemp(prefix="khalis-kg-snapshot-"))


def _remove(holder: Path) -> None:
    import shutil

    shutil.rmtree(holder, ignore_errors=True)


def _remove_stale(parent: Path, prefix: str) -> None:
    """Remove the directories ``PREFIX<pid>`` or ``PREFIX<pid>-…`` in ``parent`` left by
    processes that are no longer alive (a load or a read killed half-way)."""
    for stale in parent.glob(prefix + "*"):
        pid = stale.name.removeprefix(prefix).split("-", 1)[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            _remove(stale)


def _store_path(value: str | Path) -> Path:
    """``value`` as the directory of an on-disk store: InputError (one line) for a NUL
    in it, or for a path that exists and is not a directory."""
    path = as_path(value, "the store")
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return path
    except OSError as exc:  # too long a name, a parent that is a file, a symlink loop
        raise InputError(f"{path}: cannot be a store directory ({exc.strerror})") from None
    if not stat.S_ISDIR(info.st_mode):
        raise InputError(f"{path}: not a directory; an on-disk store is a directory")
    return path


def is_store_directory(path: Path) -> bool:
    """Whether ``path`` holds an Oxigraph (RocksDB) store: its ``CURRENT`` manifest
    pointer, ``IDENTITY`` and an ``OPTIONS-*`` file, all regular files."""
    try:
        names = {entry.name: entry for entry in path.iterdir()}
    except OSError:
        return False
    return all(n in names and names[n].is_file() for n in ("CURRENT", "IDENTITY")) and any(
        n.startswith("OPTIONS-") and e.is_file() for n, e in names.items()
    )

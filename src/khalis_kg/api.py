"""The public facade: :class:`KnowledgeGraph`.

::

    from khalis_kg import KnowledgeGraph
    kg = KnowledgeGraph.load()                        # packaged data, Oxigraph in memory
    kg.query("casualties", event="https://w3id.org/khalis-kg/id/event/...")
    kg.sparql("SELECT ...", timeout=5.0)
    kg.validate()
    kg.export("jsonld")

Importing this module imports no RDF library: the engine is imported when a graph is
loaded (pyoxigraph for ``oxigraph``, rdflib for ``memory``), pyshacl only by
:meth:`KnowledgeGraph.validate`, rdflib by JSON-LD export.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from . import isolation
from .backends import (
    BACKENDS,
    DEFAULT_BACKEND,
    LOCAL_BACKENDS,
    Backend,
    create_backend,
)
from .backends.base import QueryDataset, admit
from .catalogue import Catalogue, QueryInfo
from .checks import optional_count
from .errors import InputError, KhalisError, ParameterError, RemoteAnswerError
from .isolation import DEFAULT_MEMORY_LIMIT
from .namespaces import KG, ONTOLOGY, PREFIXES
from .rdfio import Source
from .records import Record
from .resources import ontology_sources, packaged_source, queries_dir
from .results import QueryResult, count_of
from .safety import DEFAULT_MAX_ROWS, Limits, ReadOnlyQuery, builtin

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any, TypeVar

    from .backends import BackendName, LocalBackend
    from .loader import LoadReport
    from .sourcecheck import SourceReport
    from .terms import Row
    from .validation import ValidationReport

    T = TypeVar("T")

PathLike = str | Path


class Stats(Record):
    """Counts describing the graph."""

    __match_args__ = (
        "triples", "named_graphs", "classes", "instances_per_class", "claims",
        "claims_per_source", "claims_per_claimant",
    )  # fmt: skip
    __slots__ = __match_args__
    triples: int
    named_graphs: int
    classes: int
    instances_per_class: dict[str, int]
    claims: int
    claims_per_source: dict[str, int]
    """``kg:publishedIn`` target → number of ``kg:Claim``."""
    claims_per_claimant: dict[str, int]
    """``kg:claimant`` → number of ``kg:Claim``."""

    def __init__(
        self,
        triples: int,
        named_graphs: int,
        classes: int,
        instances_per_class: dict[str, int] | None = None,
        claims: int = 0,
        claims_per_source: dict[str, int] | None = None,
        claims_per_claimant: dict[str, int] | None = None,
    ) -> None:
        self.triples, self.named_graphs, self.classes = triples, named_graphs, classes
        self.instances_per_class = {} if instances_per_class is None else instances_per_class
        self.claims = claims
        self.claims_per_source = {} if claims_per_source is None else claims_per_source
        self.claims_per_claimant = {} if claims_per_claimant is None else claims_per_claimant

    def to_dict(self) -> dict[str, Any]:
        """The counts, the dictionaries copied."""
        values = {name: getattr(self, name) for name in self.__match_args__}
        return {name: dict(v) if isinstance(v, dict) else v for name, v in values.items()}


_HOLDS_ONTOLOGY = f"ASK {{ <{ONTOLOGY}> a <http://www.w3.org/2002/07/owl#Ontology> }}"
INTERNAL = ("diagrams", "pages", "sourcecheck", "stats")
"""The folders of ``queries/`` whose queries khalis-kg runs for itself (its pictures,
resource pages, check-source and stats): not listed with the packaged queries."""


def _ontology_link(iri: str) -> str | None:
    """In the ontology's documentation, a term links to its entry (pyLODE's anchors)."""
    if iri.startswith(KG):
        return "#" + iri[len(KG) :]
    return iri if iri.startswith(("http://", "https://")) else None


class KnowledgeGraph:
    """A read-only knowledge graph with its packaged queries.

    Build one with :meth:`load`. ``catalogue`` (the packaged queries) may be replaced,
    for instance by ``Catalogue.load(some_directory)``.
    """

    def __init__(
        self,
        backend: Backend,
        *,
        sources: Sequence[Source] = (),
        with_ontology: bool = False,
        catalogue: Catalogue | None = None,
    ):
        self.backend = backend
        self.sources = list(sources)
        """The data sources loaded (the ontology excluded)."""
        self.with_ontology = with_ontology
        if catalogue is not None:
            self.catalogue = catalogue
        self._internal: dict[str, Catalogue] = {}

    @classmethod
    def load(
        cls,
        files: Iterable[PathLike] | PathLike | None = None,
        *,
        backend: LocalBackend | str = DEFAULT_BACKEND,
        with_ontology: bool | None = None,
        named_graphs: Mapping[str, PathLike] | None = None,
    ) -> KnowledgeGraph:
        """``files`` (RDF files; the packaged graph when ``None``) read into a new
        in-memory ``backend``: ``oxigraph`` (pyoxigraph) or ``memory`` (rdflib).

        ``with_ontology`` also loads the packaged ontology, so that queries see the class
        hierarchy and the SKOS concepts' labels; :meth:`export`, :meth:`validate` and
        :meth:`stats` still speak of the data alone. By default (``None``) the ontology
        comes with the packaged graph and not with your own files. ``named_graphs`` maps
        graph IRIs to files loaded as those named graphs (beside ``files``); queries then
        reach them with ``GRAPH``, ``FROM``/``FROM NAMED`` or the protocol's dataset.
        An on-disk store: :meth:`build_store`, :meth:`open_store`; a remote one:
        :meth:`connect`."""
        if backend not in LOCAL_BACKENDS:
            raise ParameterError(
                f"unknown backend {backend!r} for load (choose one of: "
                f"{', '.join(LOCAL_BACKENDS)}; a remote store: KnowledgeGraph.connect(URL))"
            )
        return cls._filled(create_backend(backend), files, with_ontology, named_graphs)

    @classmethod
    def build_store(
        cls,
        directory: PathLike,
        files: Iterable[PathLike] | PathLike | None = None,
        *,
        with_ontology: bool | None = None,
        named_graphs: Mapping[str, PathLike] | None = None,
    ) -> KnowledgeGraph:
        """An on-disk Oxigraph store in ``directory``, for data larger than memory: when
        the directory holds no data, ``files`` (as for :meth:`load`) are bulk-loaded into
        it, with the ontology in the same call so that it holds both or neither; when it
        already holds data, it is used as it is (nothing is re-read). Read it later, in
        place and read-only, with :meth:`open_store` (``khalis-kg --store DIR``)."""
        engine = create_backend("oxigraph", store=directory)
        empty = engine.triple_count() == 0
        return cls._filled(engine, files, with_ontology, named_graphs, load=empty)

    @classmethod
    def _filled(
        cls,
        engine: Backend,
        files: Iterable[PathLike] | PathLike | None,
        with_ontology: bool | None,
        named_graphs: Mapping[str, PathLike] | None,
        *,
        load: bool = True,
    ) -> KnowledgeGraph:
        """A graph on ``engine`` that holds ``files`` (read and loaded when ``load``)."""
        if isinstance(files, (str, Path)):
            files = [files]
        sources = (
            [packaged_source("data")] if files is None else [Source.from_path(p) for p in files]
        )
        sources += [Source.from_path(p).into_graph(iri) for iri, p in (named_graphs or {}).items()]
        with_ontology = files is None if with_ontology is None else with_ontology
        if load:
            engine.load([*sources, *ontology_sources()] if with_ontology else sources)
        return cls(engine, sources=sources, with_ontology=with_ontology)

    @classmethod
    def open_store(cls, directory: PathLike) -> KnowledgeGraph:
        """The existing on-disk Oxigraph store in ``directory`` (built by
        :meth:`build_store`, ``oxigraph load --location DIR`` ...), opened
        read-only and used as it is: nothing is read into it or written to it, and
        another process may hold it open for writing. Queries, :meth:`validate` (which
        hands that store to pyshacl-turbo), :meth:`export` and :meth:`stats` see what it
        holds; ``with_ontology`` says whether that includes the packaged ontology. A
        directory that holds no store is an :class:`~khalis_kg.errors.InputError`.
        In an isolated child it opens outside the step's memory cap, as a loaded graph
        is held (:func:`khalis_kg.isolation.uncapped`: RocksDB's threads reserve some
        300 MB of address space)."""
        with isolation.uncapped():
            engine = create_backend("oxigraph", store=directory, read_only=True)
        holds_ontology = engine.query(builtin(_HOLDS_ONTOLOGY)).boolean
        return cls(engine, sources=[], with_ontology=bool(holds_ontology))

    @classmethod
    def connect(
        cls,
        endpoint: str,
        *,
        graph_store: str | None = None,
        graph: str | None = None,
        timeout: float | None = None,
        request: str = "form",
    ) -> KnowledgeGraph:
        """The data of the SPARQL 1.1 endpoint at ``endpoint`` (its query URL), queried
        over HTTP; nothing is written to it (``khalis-kg load`` /
        :func:`load_to_store` put files there). ``graph_store`` is its SPARQL Graph
        Store URL, which lets :meth:`export` read the data in one request. ``graph`` is
        the IRI of the store's graph that holds the data: every query is scoped to it
        (``default-graph-uri``), and :meth:`stats`, :meth:`validate` and :meth:`export`
        see only it (without it, the store's default graph, which on Virtuoso is the
        union of all its graphs). ``timeout`` bounds each HTTP exchange (30 s by
        default); ``request`` is how queries are sent: ``"form"`` (form-encoded POST),
        ``"get"`` or ``"direct"`` (``application/sparql-query``). Credentials come from
        ``KHALIS_KG_TOKEN`` or ``KHALIS_KG_USER``/``KHALIS_KG_PASSWORD``."""
        from .backends.remote import RemoteBackend
        from .http_session import DEFAULT_TIMEOUT

        engine = RemoteBackend(
            endpoint,
            store_url=graph_store,
            timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
            graph=graph,
            request=request,
        )
        return cls(engine, sources=[], with_ontology=False)

    # -- queries ---------------------------------------------------------------------
    @functools.cached_property
    def catalogue(self) -> Catalogue:
        """The queries :meth:`query` runs: the packaged ones unless replaced (assigned)."""
        return Catalogue.open()  # reads a query file when it is first used

    def queries(self) -> list[QueryInfo]:
        """The packaged queries, sorted by name."""
        return self.catalogue.list()

    def query(
        self,
        name: str,
        params: Mapping[str, object] | None = None,
        /,
        *,
        timeout: float | None = None,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        isolated: bool = False,
        memory_limit: int | str | None = DEFAULT_MEMORY_LIMIT,
        **kwparams: object,
    ) -> QueryResult:
        """Run the packaged query ``name`` with its parameters (bound as ``?name``).

        Parameters come as keywords (``kg.query("casualties", event=IRI)``) or as a
        mapping (needed only for a parameter named like an option: ``timeout``,
        ``max_rows``, ``isolated``, ``memory_limit``). Unknown name → UnknownQueryError
        (with suggestions); missing, unknown or ill-typed parameter → ParameterError.
        ``timeout``, ``max_rows``, ``isolated`` and ``memory_limit`` are as for
        :meth:`sparql`, which says which calls can be stopped.
        """
        catalogue = self.catalogue
        info = catalogue.get(name)
        bindings = info.bind({**(params or {}), **kwparams})
        limits = Limits(timeout=timeout, max_rows=max_rows)
        # Packaged queries ship with khalis-kg (verified by the test suite); any other
        # catalogue's text is decided by the backend on its parse, like sparql().
        query = builtin(info.text) if catalogue.packaged else info.text
        run = functools.partial(self.backend.query, query, bindings=bindings, limits=limits)
        if isolated:
            return self._isolated(run, f"the query {name}", timeout, memory_limit)
        return run()

    def decide(self, text: str, *, base: str | None = None) -> ReadOnlyQuery:
        """Admit ``text`` for this graph (:func:`khalis_kg.safety.decide` with ``base``
        and the named graphs the store holds), or raise one line: SERVICE and FROM graphs
        the store does not hold (QueryRefusedError), updates (ReadOnlyError), any text
        that cannot be parsed (QuerySyntaxError). :meth:`sparql` does this itself;
        deciding first lets a caller parse before it forbids new files (the command line
        does)."""
        return admit(text, base, self.backend.graph_names)

    def sparql(
        self,
        query: str | ReadOnlyQuery,
        *,
        timeout: float | None = None,
        max_rows: int | None = DEFAULT_MAX_ROWS,
        base: str | None = None,
        default_graphs: Sequence[str | None] | None = None,
        named_graphs: Sequence[str] | None = None,
        isolated: bool = False,
        memory_limit: int | str | None = DEFAULT_MEMORY_LIMIT,
    ) -> QueryResult:
        """Run a read-only SPARQL query, decided on its parse first (see :meth:`decide`;
        a :class:`~khalis_kg.safety.ReadOnlyQuery` runs as decided): nothing that would
        reach the network, read a file or write runs on any engine.

        ``max_rows`` caps the rows or triples returned (QueryTimeoutError past it).

        **Which calls can be stopped.** With ``isolated=False`` (the default) the query
        runs in this process: ``timeout`` (seconds) is only checked between results, so
        a query that computes for long before its first result (a sort, an aggregate,
        a cartesian product) runs past it; nothing caps its memory; and an engine crash
        (a pyoxigraph panic, a segmentation fault on deeply nested input) takes this
        process down with it (a notebook kernel dies). With ``isolated=True`` the query
        runs in a forked child (POSIX only, see :mod:`khalis_kg.isolation`): it is
        killed at ``timeout`` whatever it does (TimeLimitError), its address space is
        capped at ``memory_limit`` (bytes or a size such as ``"512M"``; None for no
        cap; MemoryLimitError), a crash becomes EngineCrashError, and the child can
        open no file or socket while the query runs (except with the remote backend,
        which needs its connection). Forking costs a few milliseconds; avoid it from a
        process with running threads that hold locks.

        ``base`` is the base IRI of relative IRIs (the query's ``BASE`` is resolved
        against it). ``default_graphs`` / ``named_graphs`` choose the RDF dataset as the
        SPARQL Protocol's ``default-graph-uri`` / ``named-graph-uri`` do: when either is
        given they replace the query's ``FROM`` / ``FROM NAMED`` (the other is then
        empty); each must be a graph this store holds (``None`` in ``default_graphs``
        is the store's default graph).
        """
        dataset = None
        if default_graphs is not None or named_graphs is not None:
            dataset = QueryDataset(tuple(default_graphs or ()), tuple(named_graphs or ()))
        limits = Limits(timeout=timeout, max_rows=max_rows)

        def decided() -> ReadOnlyQuery:
            return query if isinstance(query, ReadOnlyQuery) else self.decide(query, base=base)

        run = functools.partial(self.backend.query, limits=limits, dataset=dataset)
        if isolated:
            # Decided in the child too, before its descriptors are locked: the parse
            # imports rdflib's grammar, and a hostile text is stopped at the limit.
            return self._isolated(
                lambda: run(decided()), "the query", timeout, memory_limit, prepare=decided
            )
        return run(decided())

    def _isolated(
        self,
        work: Callable[[], T],
        what: str,
        timeout: float | None,
        memory_limit: int | str | None,
        *,
        lock: bool = True,
        prepare: Callable[[], object] = lambda: None,
    ) -> T:
        """``work()`` in an isolated child; ``prepare()`` runs there first, while files
        may still be opened (to import and compute what ``work`` needs: a query's
        decision is parsed there, and cached for ``work``)."""
        if not isolation.available():  # pragma: no cover - Windows
            raise KhalisError("isolated=True needs os.fork and the resource module (POSIX)")
        memory = (
            isolation.parse_size(memory_limit)
            if isinstance(memory_limit, str)
            else optional_count(
                memory_limit,
                "memory_limit",
                minimum=64 * 1024**2,
                maximum=isolation.MAX_MEMORY_LIMIT,
            )
        )
        task = isolation.Work(self._before_fork(prepare), lambda _: work(), what)
        return isolation.run(task, self._child_limits(memory, timeout=timeout, lock=lock))

    def fork_worker(
        self, serve: Callable[[Any], Any], memory_limit: int | None = DEFAULT_MEMORY_LIMIT
    ) -> isolation.Worker:
        """A long-lived isolated child holding this graph (forked: nothing is loaded
        again) that answers ``serve(task)`` for each task sent on its channel, each
        within ``memory_limit`` bytes more than it holds then (:func:`isolation.fork_worker`;
        the server's query workers), unable to open a file or a socket as the command
        line's query children are (but with the remote backend). POSIX only."""
        limits = self._child_limits(memory_limit)
        return isolation.fork_worker(serve, limits, ready=self._before_fork())

    def _child_limits(
        self, memory: int | None, *, timeout: float | None = None, lock: bool = True
    ) -> isolation.Limits:
        """A forked child's limits: it opens no file or socket (but the remote backend's
        connection); an on-disk store keeps its files open: they stay, nothing new opens."""
        return isolation.Limits(
            timeout=timeout,
            memory=memory,
            lock_descriptors=lock and self.backend.name != "remote",
            keep_descriptors=getattr(self.backend, "path", None) is not None,
        )

    def _before_fork(self, prepare: Callable[[], object] = lambda: None) -> Callable[[], None]:
        """Ready the backend for a fork (an on-disk store's checkpoint); returns what the
        forked child runs first (the backend's own hook, the imports answering needs,
        then ``prepare``)."""
        before_fork = getattr(self.backend, "before_fork", None)
        if before_fork is not None:
            before_fork()

        def forked() -> None:
            # what answering imports, before an isolated child's descriptors are locked
            import csv  # noqa: F401 - results' writers import these when they write
            import json  # noqa: F401

            after_fork = getattr(self.backend, "after_fork", None)
            if after_fork is not None:
                after_fork()
            prepare()

        return forked

    # -- pictures ----------------------------------------------------------------------
    def diagram(
        self,
        kind: str = "accounts",
        resource: str | None = None,
        *,
        link: Callable[[str], str | None] | None = None,
        timeout: float | None = None,
        highlight: str | None = None,
    ) -> str:
        """An SVG picture of the graph: ``accounts`` (the map of the accounts and claims),
        ``timeline``, ``places`` or ``ontology`` (see :mod:`khalis_kg.diagrams`).

        ``resource`` is the event drawn (the packaged event by default). Nodes link to
        ``link(iri)`` (the IRI itself by default); the node of ``highlight`` (the page the
        picture is shown on) is marked. Each diagram is drawn from the rows
        of the queries in ``queries/diagrams/``, run on this graph.
        """
        from . import diagrams

        if kind not in diagrams.KINDS:
            raise ParameterError(
                f"unknown diagram {kind!r}; choose one of: {', '.join(diagrams.KINDS)}"
            )
        event = resource or diagrams.DEFAULT_EVENT
        linker = link or diagrams.identity_link

        def rows(name: str, **params: object) -> list[dict[str, Any]]:
            result = self.internal("diagrams", name, params, timeout=timeout)
            return [dict(r) for r in result.to_python()]

        if kind == "ontology":
            found = rows("ontology")
            if not found:
                raise InputError(
                    "no ontology classes to draw: load the ontology (--with-ontology), "
                    "or use a store that holds it"
                )
            return diagrams.ontology_svg(found, link=linker)
        found = rows(kind, event=event)
        if len(found) < (2 if kind == "timeline" else 1):  # a timeline needs two events
            what = {"accounts": "claims", "timeline": "related events", "places": "places"}[kind]
            raise InputError(f"<{event}> has no {what} to draw in this graph")
        if kind == "accounts":
            links, facts = rows("account-links", event=event), rows("facts", event=event)
            return diagrams.accounts_svg(
                found, links, facts, event=event, link=linker, highlight=highlight
            )
        draw = diagrams.timeline_svg if kind == "timeline" else diagrams.places_svg
        return draw(found, event=event, link=linker, highlight=highlight)

    def diagrams_for(
        self,
        iri: str,
        *,
        link: Callable[[str], str | None] | None = None,
        timeout: float | None = None,
    ) -> list[tuple[str, str, str]]:
        """The diagrams that belong on ``iri``'s page, as ``(kind, heading, svg)``: the map of
        the accounts and the timeline on an event with accounts or related events, the
        timeline on a related event, the place diagram on the event and its places."""
        result = self.internal(
            "diagrams", "pictures-of", {"resource": iri}, timeout=timeout, max_rows=100
        )
        headings = {
            "accounts": "Map of the accounts",
            "timeline": "Timeline",
            "places": "Where it happened",
        }
        svgs: dict[str, str] = {}  # a kind's first event only; "" when it had nothing to draw
        for row in result.to_python():
            kind, event = str(row["kind"]), str(row["event"])
            if kind in svgs or kind not in headings:
                continue
            try:
                svgs[kind] = self.diagram(kind, event, link=link, timeout=timeout, highlight=iri)
            except InputError:  # e.g. an account no claim supports: nothing to draw
                svgs[kind] = ""
        return [(kind, heading, svgs[kind]) for kind, heading in headings.items() if svgs.get(kind)]

    @staticmethod
    def ontology_docs(directory: PathLike | None = None) -> dict[str, bytes]:
        """Human documentation of the packaged ontology, by pyLODE (the ``docs`` extra):
        ``index.html`` (classes and properties, with a diagram), one ``vocab-*.html`` per
        SKOS concept scheme, ``pylode.css`` and ``ontology.svg``. Written into
        ``directory`` when given; returned as ``{file name: bytes}``."""
        from . import docs

        with KnowledgeGraph.load(docs.ontology_paths(), with_ontology=False) as onto:
            svg = onto.diagram("ontology", link=_ontology_link)
        files = docs.build(svg)
        if directory is not None:
            docs.write(Path(directory), files)
        return files

    def internal_queries(self, folder: str) -> Catalogue:
        """The queries of ``queries/FOLDER/`` (one of :data:`INTERNAL`), read once."""
        if folder not in INTERNAL:
            raise ParameterError(f"no internal queries {folder!r}; one of: {', '.join(INTERNAL)}")
        if folder not in self._internal:
            self._internal[folder] = Catalogue.open(queries_dir() / folder)
        return self._internal[folder]

    def internal(
        self,
        folder: str,
        name: str,
        params: Mapping[str, object] | None = None,
        *,
        timeout: float | None = None,
        max_rows: int | None = DEFAULT_MAX_ROWS,
    ) -> QueryResult:
        """Run the internal query ``queries/FOLDER/NAME.rq`` with its parameters bound (as
        :meth:`query` runs a packaged one): what the diagrams, the resource pages,
        check-source and stats are made of."""
        info = self.internal_queries(folder).get(name)
        limits = Limits(timeout=timeout, max_rows=max_rows)
        # shipped with khalis-kg: admitted without a parse (verified by the test suite)
        return self.backend.query(
            builtin(info.text), bindings=info.bind(params or {}), limits=limits
        )

    # -- the article ------------------------------------------------------------------
    def check_source(self, path: PathLike) -> SourceReport:
        """Re-anchor every span of the graph in the text of the article in ``path`` (UTF-8)
        and say, per span, ``unchanged``, ``moved``, ``changed`` or ``missing``, and per
        statement ``supported`` or ``review`` (:mod:`khalis_kg.sourcecheck`). A missing,
        unreadable or non-UTF-8 file, or a graph that quotes no document or several,
        is an :class:`~khalis_kg.errors.InputError`."""
        from . import sourcecheck
        from .files import read_input

        data = read_input(path, limit=sourcecheck.MAX_BYTES)
        try:
            new = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 text (byte {exc.start})") from None

        def rows(name: str) -> list[dict[str, str]]:
            # lexical forms: a statement's object is reported as the graph writes it
            result = self.internal("sourcecheck", name)
            return [{k: term.value for k, term in row.items()} for row in result.rows]

        documents = rows("documents")
        if len(documents) != 1:
            raise InputError(
                f"the graph quotes {len(documents)} documents (nif:isString); "
                "check-source compares one"
            )
        document = documents[0]
        return sourcecheck.check(
            str(document["document"]),
            str(document["text"]),
            None if document.get("sha256") is None else str(document["sha256"]).lower(),
            sourcecheck.spans_of(rows("spans")),
            sourcecheck.statements_of(rows("statements")),
            new,
            file=str(path),
        )

    def reanchored(self, report: SourceReport, path: PathLike | None = None) -> bytes:
        """The graph's data as Turtle, re-anchored to the text ``report`` checked (its
        text, checksum and encoding date, the spans' offsets, prefixes and suffixes);
        written atomically to ``path`` when given. Only when every span is unchanged or
        moved; otherwise an :class:`~khalis_kg.errors.InputError` (a person decides what
        an edited sentence now says)."""
        import datetime as dt

        from rdflib import Graph

        from . import sourcecheck
        from .files import write_output

        if not report.anchored:
            raise InputError("some sentences changed or are missing: nothing re-anchored")
        graph = Graph()
        graph.parse(data=self.export("nt"), format="nt")
        for prefix, namespace in PREFIXES.items():
            graph.bind(prefix, namespace)
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        sourcecheck.reanchor(graph, report, created=today)
        data: bytes = graph.serialize(format="turtle", encoding="utf-8")
        if path is not None:
            write_output(path, data)
        return data

    # -- validation, export, stats -----------------------------------------------------
    def validate(
        self,
        data: Iterable[PathLike] | PathLike | Any | None = None,
        *,
        inference: str = "none",
        engine: str | None = None,
        isolated: bool = False,
        timeout: float | None = None,
        memory_limit: int | str | None = DEFAULT_MEMORY_LIMIT,
    ) -> ValidationReport:
        """SHACL-validate ``data`` (paths or an rdflib Graph; this graph's data by default).

        ``engine`` is ``"turbo"`` (pyshacl-turbo, the default when installed), or
        ``"pyshacl"`` (pySHACL, the reference); with ``None`` the report's ``note`` says
        when the default fell back to pySHACL. On the ``oxigraph`` backend both engines
        validate what the store the queries use holds (in memory or on disk); turbo reads
        the store itself, pySHACL an rdflib copy. Results then name no file.

        In-process (``isolated=False``, the default) a validation cannot be stopped and
        ``timeout`` must be None. With ``isolated=True`` it runs in a forked child that
        is killed at ``timeout`` seconds (TimeLimitError) and capped at
        ``memory_limit`` (MemoryLimitError); see :meth:`sparql`.
        """
        if isolated:
            return self._isolated(
                lambda: self.validate(data, inference=inference, engine=engine),
                "the validation",
                timeout,
                memory_limit,
                lock=False,  # the validation engines read the packaged shapes as they run
            )
        if timeout is not None:
            raise ParameterError("validate(timeout=...) needs isolated=True")
        from .validation import validate, validate_graph, validate_store

        if data is None:
            store = getattr(self.backend, "store", None)
            if self.backend.name == "oxigraph" and store is not None:
                return validate_store(store, inference=inference, engine=engine)
            data = self.sources or [Source("<store>", self.backend.dump(), "nq")]
        elif isinstance(data, (str, Path)):
            data = [data]
        elif hasattr(data, "triples") and hasattr(data, "serialize"):
            return validate_graph(data, inference=inference, engine=engine)
        return validate(list(data), inference=inference, engine=engine)

    def export(
        self, fmt: str, path: PathLike | None = None, *, with_ontology: bool = False
    ) -> bytes:
        """The graph as ``fmt`` (turtle, nt, nq, trig, xml, jsonld); written atomically to
        ``path`` when given. ``with_ontology`` adds the packaged ontology."""
        from .export import export

        ontology = ontology_sources() if with_ontology else []
        if self.sources:
            # The data as loaded, without the ontology the store may also hold.
            return export(b"", fmt, path, extra=[*self.sources, *ontology])
        # A store opened as it is (on disk, remote): export what it holds.
        return export(self.backend.dump(), fmt, path, extra=[] if self.with_ontology else ontology)

    def stats(self) -> Stats:
        """Triples, classes, instances per class, claims per source and per claimant,
        counted over the data (the ontology left out)."""
        if self.with_ontology and self.sources and self.backend.name != "remote":
            engine = create_backend(self.backend.name)
            engine.load(self.sources)
            with KnowledgeGraph(engine, sources=self.sources, with_ontology=False) as data_only:
                return data_only.stats()

        def run(name: str, **params: object) -> QueryResult:
            return self.internal("stats", name, params)

        def number(row: Row) -> int:
            # a remote store may answer anything: a count that is not one is its fault
            found = count_of(row.get("n"))
            if found is None:
                raise RemoteAnswerError(
                    f"the {self.backend.name} store answered a count with something that is "
                    "not a non-negative integer"
                )
            return found

        instances = {r["class"].value: number(r) for r in run("instances").rows if "class" in r}
        claims_row = run("claims").rows
        claims = number(claims_row[0]) if claims_row else 0

        def by(prop: str) -> dict[str, int]:
            result = run("claims-by", property=KG + prop)
            return {r["by"].value: number(r) for r in result.rows if "by" in r}

        return Stats(
            triples=self.backend.triple_count(),
            named_graphs=len(self.backend.graph_names()),
            classes=len(instances),
            instances_per_class=instances,
            claims=claims,
            claims_per_source=by("publishedIn"),
            claims_per_claimant=by("claimant"),
        )

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __len__(self) -> int:
        return self.backend.triple_count()

    def __repr__(self) -> str:
        names = ", ".join(s.name for s in self.sources) or "<store>"
        return f"<KnowledgeGraph {self.backend.name}: {names}>"


# -- the facade's functions for work that needs no loaded graph ------------------------
def query_catalogue(directory: PathLike | None = None, *, lazy: bool = False) -> Catalogue:
    """The packaged queries (or those of ``directory``). ``lazy`` reads a query file only
    when that query is asked for (fast start for one query); otherwise every file is
    read, and a missing or empty directory is an InputError."""
    root = None if directory is None else Path(directory)
    return Catalogue.open(root) if lazy else Catalogue.load(root)


def read_sources(
    paths: Iterable[PathLike] = (), *, with_data: bool = False, with_ontology: bool = False
) -> list[Source]:
    """RDF files as sources: the packaged graph first when ``paths`` is empty or
    ``with_data``, then the files, then the packaged ontology when ``with_ontology``."""
    sources = [Source.from_path(p) for p in paths]
    if not sources or with_data:
        sources.insert(0, packaged_source("data"))
    if with_ontology:
        sources.extend(ontology_sources())
    return sources


def validate_files(
    paths: Iterable[PathLike] = (),
    *,
    with_data: bool = False,
    inference: str = "none",
    engine: str | None = None,
) -> ValidationReport:
    """SHACL-validate the union of RDF files (the packaged graph first when ``paths``
    is empty or ``with_data``, as :func:`read_sources`) against the packaged shapes,
    with the ontology; ``engine`` is ``turbo``, ``pyshacl`` or None (turbo when
    installed). The validation reads the files itself: no file's bytes are kept while
    the engine runs."""
    from .validation import validate

    files: list[Source | PathLike] = list(paths)
    if not files or with_data:
        files.insert(0, packaged_source("data"))
    return validate(files, inference=inference, engine=engine)


def load_to_store(
    store_url: str,
    sources: Sequence[Source],
    graph: str | None = None,
    *,
    timeout: float,
    chunk_triples: int | None = None,
) -> LoadReport:
    """Replace ``graph`` (None: the default graph) of the SPARQL Graph Store at
    ``store_url`` with the union of ``sources``, by one idempotent HTTP PUT (with
    ``chunk_triples``: a PUT and POSTs of about that many triples each)."""
    from .loader import load_to_store as put

    return put(store_url, sources, graph, timeout=timeout, chunk_triples=chunk_triples)


def write_docs(directory: PathLike, files: Mapping[str, bytes]) -> list[Path]:
    """Write documentation ``files`` (from :meth:`KnowledgeGraph.ontology_docs`) into
    ``directory`` (created), each atomically; returns the paths written."""
    from . import docs

    return docs.write(Path(directory), dict(files))


def preload_output(fmt: str | None = None) -> None:
    """Import what running a query and serialising its answer in ``fmt`` needs, ahead of
    time (the command line does it before an isolated child locks its descriptors).
    ``None``, ``table``, ``turtle`` and ``nt`` need the engine (and the table's
    ``textwrap``); any other name (or alias) prepares every writer."""
    import textwrap  # noqa: F401 - the table's (the command line imports it no more)

    from .backends import oxigraph  # noqa: F401

    if fmt in (None, "table", "turtle", "nt"):
        return
    import csv  # noqa: F401 - results' writers import these when they write
    import json  # noqa: F401

    from . import export

    export.jsonld_context()


def __getattr__(name: str) -> object:
    """``BackendName`` and ``LocalBackend`` (:mod:`khalis_kg.backends`'s, made when first
    asked for: they import ``typing``)."""
    if name not in ("BackendName", "LocalBackend"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import backends

    return getattr(backends, name)


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "LOCAL_BACKENDS",
    "BackendName",
    "KnowledgeGraph",
    "LocalBackend",
    "Stats",
    "load_to_store",
    "preload_output",
    "query_catalogue",
    "read_sources",
    "validate_files",
    "write_docs",
]

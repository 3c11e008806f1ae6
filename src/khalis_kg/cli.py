"""The ``khalis-kg`` command line (argparse: ``import click`` alone cost 4 times a bare
``python -c pass``, issue 23).

Every end that is not a success is one line, ``khalis-kg: error: ...``, on stderr, and
its exit code (:data:`EXIT_CODES_HELP`); never a traceback. Every verb but ``serve`` runs
its work (parsing the user's files, the query, validation, serialising) in an isolated
child (:mod:`khalis_kg.isolation`) under ``--memory-limit`` and ``--timeout``: a runaway
query or parse is killed, an engine crash is exit 5. The parent imports no RDF library,
and not the facade: what a verb needs is imported where it runs, so that ``--help``
imports argparse and this module only (``tests/test_startup.py``); it writes the child's
bytes to standard output or, safely, to ``-o FILE`` (:mod:`khalis_kg.files`).
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from collections.abc import Callable, Sequence
from functools import cache, partial

from . import __version__, options
from .options import AUTO

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any, Literal, TypeVar

    from . import ValidationReport
    from .api import KnowledgeGraph
    from .results import QueryResult

    T = TypeVar("T")
    S = TypeVar("S")


MAX_QUERY_BYTES = 16 * 1024 * 1024
"""Largest query text read from a file or stdin."""

PROG = "khalis-kg"

RESULT_FORMATS = ("table", "json", "xml", "csv", "tsv", "turtle", "nt", "jsonld")
"""``--format`` of ``query`` and ``sparql``: the canonical names of ``rdfio``'s result
and graph formats (a test keeps them equal; aliases are accepted, any case)."""
RDF_FORMATS = ("turtle", "nt", "nq", "trig", "jsonld", "xml")
"""``export --format``: ``rdfio``'s RDF format names (a test keeps them equal)."""

EXIT_CODES_HELP = (
    "Exit codes: 0 success (validate: conforms), 1 does not conform, 2 input or usage "
    "error, 3 stopped at the time limit, 4 stopped at the memory limit, 5 engine crash, 6 "
    "the remote store failed, 7 the output could not be written (full device, closed "
    "pipe, I/O error), 8 the server could not start, 130 interrupted."
)


class UsageError(Exception):
    """A usage error of ``prog``: one line, exit 2."""

    def __init__(self, message: str, prog: str = PROG):
        super().__init__(message)
        self.prog = prog


def _fill(text: str, width: int) -> str:
    """``text`` filled to ``width`` line by line (a paragraph is one line), an indented
    line (an item of the list of commands) with its own lines hanging."""
    import textwrap

    return "\n".join(
        textwrap.fill(
            line, width, subsequent_indent=" " * 16 * line.startswith("  "), break_on_hyphens=False
        )
        for line in text.splitlines()
    )


def _columns() -> int | None:
    """``COLUMNS`` when set, else the width of the terminal the user sees: stdout's, or
    stderr's when stdout is a pipe (``| less`` in a terminal), else None."""
    columns = os.environ.get("COLUMNS", "").strip()
    # ASCII digits only ("²" is a digit to isdigit, not to int), and not 4,300 of them
    if len(columns) <= 7 and columns.isascii() and columns.isdigit() and int(columns) > 0:
        return int(columns)
    for fd in (1, 2):
        try:
            return os.get_terminal_size(fd).columns
        except OSError:  # not a terminal
            continue
    return None


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are :class:`UsageError` (one line, by
    :func:`main`) and whose help is written where a failed write is seen (argparse
    drops an OSError on writing help: a closed pipe must be exit 7)."""

    def __init__(self, **kwargs: Any):
        self.arguments: list[argparse.Action] = []
        """What :meth:`add_argument` added, in order (the docs and tests read them)."""
        self.width = (_columns() or 80) - 2  # argparse's, without shutil
        self.texts = kwargs.get("description"), kwargs.get("epilog")  # as given: not filled
        formatter = partial(argparse.RawDescriptionHelpFormatter, width=self.width)
        super().__init__(allow_abbrev=False, formatter_class=formatter, **kwargs)

    def add_argument(self, *args: Any, **kwargs: Any) -> argparse.Action:
        action = super().add_argument(*args, **kwargs)
        self.arguments.append(action)
        return action

    def error(self, message: str) -> Any:
        raise UsageError(message, self.prog)

    def format_help(self) -> str:
        """argparse's help, the description and epilog filled here (:func:`_fill`), so
        that they keep their paragraphs and the list of commands its lines."""
        self.description, self.epilog = (t and _fill(t, max(self.width, 11)) for t in self.texts)
        return super().format_help()

    def print_help(self, file: Any = None) -> None:
        (file or sys.stdout).write(self.format_help())


class Version(argparse.Action):
    """``-V``/``--version``: the version, then exit 0 (written as help is)."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        sys.stdout.write(f"{PROG}, version {__version__}\n")
        parser.exit()


def fail(message: str, code: int = 2) -> int:
    """Print ``khalis-kg: error: message`` on stderr (one line, control characters
    escaped, its lines joined: a value quoted in it keeps its spaces); ``code``, which
    stands also when stderr cannot take the line."""
    from .errors import printable

    one_line = " ".join(filter(None, map(str.strip, printable(str(message)).splitlines())))
    try:
        print(f"{PROG}: error: {one_line}", file=sys.stderr, flush=True)
    except OSError:
        _silence_output()
    return code


_OUTPUT_ERRNOS = frozenset(
    {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EBADF}
    | {errno.ENXIO, errno.EAGAIN, errno.ECONNRESET}
)
"""What a write to standard output or error fails with (full device, closed pipe, I/O
error, a closed or non-blocking descriptor)."""


def _output_failed(exc: OSError) -> int:
    """Standard output or error could not be written: exit 7, silently for a closed pipe
    (the reader went away, as ``| head`` does), else with one line when stderr takes it."""
    from .errors import EXIT_OUTPUT

    if not isinstance(exc, BrokenPipeError):  # stderr may fail too: the code says it
        why = "standard output is closed or read-only" if exc.errno == errno.EBADF else exc.strerror
        fail(f"cannot write the output ({why})")
    _silence_output()  # what is still buffered must not fail again at exit
    return EXIT_OUTPUT


def _silence_output() -> None:
    """Point standard output and error at /dev/null, so that what is still buffered in
    them fails no more (the interpreter flushes them on exit)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            _to_null(stream.fileno())
        except (AttributeError, OSError, ValueError):  # closed, or not a file (tests)
            continue


def _to_null(fd: int, flags: int = os.O_WRONLY) -> None:
    """Descriptor ``fd`` on /dev/null, opened with ``flags``."""
    null = os.open(os.devnull, flags)
    if null != fd:
        os.dup2(null, fd)
        os.close(null)


def _isolated(
    args: argparse.Namespace,
    prepare: Callable[[], S],
    run: Callable[[S], T],
    what: str,
    *,
    lock: bool = False,
    inputs: Sequence[str] = (),
) -> T:
    """``run(prepare())`` in an isolated child with the command's limits.

    ``lock`` forbids new files and sockets once ``prepare`` is done (for the user's
    queries; never with the remote backend, which needs its sockets).
    """
    from . import isolation

    if not isolation.available():  # pragma: no cover - Windows: cannot be stopped
        return run(prepare())
    _freeze_once()
    limits = isolation.Limits(
        timeout=args.time_limit,
        memory=_memory(args, inputs),
        lock_descriptors=lock and args.backend != "remote",
        # an on-disk store keeps its files open: they stay, nothing new opens
        keep_descriptors=args.store is not None,
    )
    return isolation.run(isolation.Work(prepare, run, what), limits)


@cache
def _freeze_once() -> None:
    """This process now waits for the child, writes its bytes and ends: what it holds is
    frozen for the collector, whose passes would otherwise write to (and so copy) its
    pages in the child, and walk them all again at exit (a cold query: ~6 ms of CPU,
    bench/overhead.py cold). A process that froze objects itself is left so. Asked once
    a process: ``gc.get_freeze_count`` walks every frozen object (~26 ns each), and a
    host that froze its own and runs many commands, as the test suite's workers do, paid
    it before each (~12 % of the suite's samples in a whole-run profile)."""
    import gc

    if not gc.get_freeze_count():
        gc.freeze()


def _memory(args: argparse.Namespace, inputs: Sequence[str] = ()) -> int | None:
    """The memory cap in bytes (None: none): as given, or ``auto`` for the data files
    and ``inputs`` (the verb's own files)."""
    if args.memory_limit != AUTO:
        return args.memory_limit  # type: ignore[no-any-return]
    return options.auto_memory_limit({*args.data, *args.named_graphs.values(), *inputs})


def _load(args: argparse.Namespace, *, with_ontology: bool | None = None) -> KnowledgeGraph:
    """The graph the verb reads: the store in --store DIR opened read-only, or the
    data (the packaged graph by default) loaded into the engine."""
    from .api import KnowledgeGraph

    if args.store is not None:
        return KnowledgeGraph.open_store(args.store)
    if args.backend == "remote":  # (the options were checked by _check_source)
        return KnowledgeGraph.connect(
            args.endpoint,
            graph_store=args.graph_store,
            graph=args.remote_graph,
            timeout=args.remote_timeout,
            request=args.remote_request or "form",
        )
    return KnowledgeGraph.load(
        args.data or None,
        backend=args.backend,
        with_ontology=args.with_ontology if with_ontology is None else with_ontology,
        named_graphs=args.named_graphs or None,
    )


def _write(data: bytes, output: str | None) -> None:
    """``data`` to ``-o output`` (safely, :mod:`khalis_kg.files`) or standard output."""
    if output is None or output == "-":
        sys.stdout.flush()
        rest = memoryview(data)
        while rest:  # a pipe whose reader leaves mid-write takes only part: the rest fails
            written = sys.stdout.buffer.write(rest)
            if not written:
                raise OSError(errno.EIO, "nothing written")
            rest = rest[written:]
        sys.stdout.buffer.flush()
        return
    from pathlib import Path

    from .files import write_output

    write_output(Path(output), data)


def _note(text: str) -> None:
    print(f"{PROG}: note: {text}", file=sys.stderr)


# --- the verbs: each takes the parsed options and gives the exit code (None: 0) ---


def queries_command(args: argparse.Namespace) -> None:
    listing = _isolated(args, lambda: None, lambda _: _list_queries(args.fmt), "listing queries")
    _write(listing, None)


def _list_queries(fmt: str) -> bytes:
    from .api import query_catalogue

    catalogue = query_catalogue()
    if fmt == "json":
        import json  # here: the query verbs need no JSON module

        text = json.dumps([q.to_dict() for q in catalogue.list()], indent=1) + "\n"
        return text.encode("utf-8")
    lines = []
    for info in catalogue.list():
        lines.append(f"{info.name}{' [check]' if info.is_check else ''}: {info.title}")
        if info.question:
            lines.append(f"    {info.question}")
        for p in info.parameters:
            default = " (required)" if p.required else f" = {p.default}"
            desc = f" -- {p.description}" if p.description else ""
            lines.append(f"    --param {p.name}=<{p.type}>{default}{desc}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _parse_params(pairs: Sequence[str]) -> dict[str, object]:
    from .errors import ParameterError

    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    return params


def _format_option(
    parser: argparse.ArgumentParser,
    names: Sequence[str],
    *kinds: Literal["rdf", "results", "graph"],
    **keywords: Any,
) -> None:
    """``--format``: a format name or alias of ``kinds`` (:mod:`khalis_kg.rdfio`), in any
    case (``TTL``, ``srj``, ``json-ld``...); a name shared by two kinds (``json``,
    ``xml``) is resolved by the answer's form when it is serialised. Shown, and listed
    when refused: ``names``."""

    def known(value: str) -> str:
        from .rdfio import format_names

        key = value.strip().lower()
        if key not in [name for kind in kinds for name in format_names(kind)]:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a known format (choose one of: {', '.join(names)}; "
                "aliases in docs/formats.md)"
            )
        return key

    metavar = "[" + "|".join(names) + "]"
    parser.add_argument("--format", dest="fmt", type=known, metavar=metavar, **keywords)


def _render(result: QueryResult, args: argparse.Namespace) -> bytes:
    """``result`` in ``--format``; ``--columns`` keeps those (any format); a table is
    fitted to ``--width`` (0: no limit; the default: :func:`_answer`) and shows
    language tags with ``--lang``."""
    from .rdfio import result_format
    from .results import TABLE_WIDTH, select_columns, to_table

    if args.columns is not None:
        result = select_columns(result, args.columns.split(","))
    fmt = args.fmt or ("turtle" if result.form == "graph" else "table")
    if result.form != "graph" and result_format(fmt, result.form).name == "table":
        width = TABLE_WIDTH if args.width is None else args.width or None
        return to_table(result, width=width, show_lang=args.lang).encode("utf-8")
    data, _media = result.serialize(fmt)
    return data


def _answer(
    args: argparse.Namespace, prepare: Callable[[], Callable[[], QueryResult]], what: str
) -> None:
    """The answer of the query ``prepare`` makes ready (``query``, ``sparql``: the user's
    query, so with the descriptor lock), rendered, to ``-o``. A table's width by default
    is the terminal's (:func:`_columns`, at least 40), measured here in the parent; else
    ``results.TABLE_WIDTH``, read in the child (which imports the result model)."""
    if args.width is None and (columns := _columns()) is not None:
        args.width = max(40, columns)
    data = _isolated(args, prepare, lambda query: _render(query(), args), what, lock=True)
    _write(data, args.output)


def query_command(args: argparse.Namespace) -> None:
    name = args.name
    bound = _parse_params(args.params or ())

    def prepare() -> Callable[[], QueryResult]:
        from . import api

        catalogue = api.query_catalogue(lazy=True)  # reads queries/NAME.rq only, once
        info = catalogue.get(name)  # unknown names fail before the graph is loaded
        info.bind(bound)
        kg = _load(args)
        kg.catalogue = catalogue
        api.preload_output(args.fmt)
        return partial(kg.query, name, bound)

    _answer(args, prepare, f"the query {name}")


def sparql_command(args: argparse.Namespace) -> None:
    from .errors import InputError, ParameterError
    from .terms import is_absolute_iri

    query, file, base = args.query, args.file, args.base
    if (query is None) == (file is None):
        raise UsageError("give exactly one of QUERY, -f FILE or - (stdin)", f"{PROG} sparql")
    if file is not None:
        from .files import read_input

        text = _decode(read_input(file, limit=MAX_QUERY_BYTES), file)
    elif query == "-":
        text = _decode(sys.stdin.buffer.read(MAX_QUERY_BYTES + 1), "stdin")
    else:
        text = query
    if not text.strip():
        raise InputError("empty query")
    if base is not None and not is_absolute_iri(base):
        raise ParameterError(f"--base must be an absolute IRI, got {base!r}")

    def prepare() -> Callable[[], QueryResult]:
        from . import api

        kg = _load(args)
        plan = kg.decide(text, base=base)  # parsed (rdflib's grammar) before the lock
        api.preload_output(args.fmt)
        return partial(kg.sparql, plan)

    _answer(args, prepare, "the query")


def _decode(data: bytes, where: str) -> str:
    from .errors import InputError

    if len(data) > MAX_QUERY_BYTES:
        raise InputError(f"{where}: the query is longer than {MAX_QUERY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte {exc.start})") from None


def validate_command(args: argparse.Namespace) -> int:
    files, store, inference, engine = args.files, args.store, args.inference, args.engine
    paths = list(files) or args.data

    def prepare() -> Callable[[], ValidationReport]:
        """Open the store, or name the files (the validation reads them: no file's bytes
        are kept while the engine runs); the validation is left to ``run``."""
        from . import api

        if store is not None or args.backend == "remote":  # (FILES with either: refused)
            # what the store holds (a remote one's --remote-graph), not the packaged data
            return partial(_load(args).validate, inference=inference, engine=engine)
        return partial(
            api.validate_files, paths, with_data=args.with_data, inference=inference, engine=engine
        )

    def run(validate: Callable[[], ValidationReport]) -> tuple[bytes, bool, str | None]:
        report = validate()
        serialize = {"json": report.to_json, "turtle": report.to_turtle}.get(args.fmt)
        text = serialize() if serialize else report.text
        return text.encode("utf-8"), report.conforms, report.note

    data, conforms, note = _isolated(args, prepare, run, "the validation", inputs=paths)
    if note:
        _note(note)
    _write(data, args.output)
    return 0 if conforms else 1


def export_command(args: argparse.Namespace) -> None:
    def export(kg: KnowledgeGraph) -> bytes:
        return kg.export(args.fmt, with_ontology=args.export_ontology)

    _write(_isolated(args, partial(_load, args), export, "the export"), args.output)


def check_source_command(args: argparse.Namespace) -> int:
    file, output = args.file, args.output

    def run(kg: KnowledgeGraph) -> tuple[bytes, int, bytes | None]:
        report = kg.check_source(file)
        text = report.to_json() if args.fmt == "json" else report.to_text()
        graph = kg.reanchored(report) if output is not None and report.anchored else None
        return text.encode("utf-8"), report.exit_code, graph

    text, code, graph = _isolated(args, partial(_load, args), run, "the source check")
    _write(text, None)
    if output is not None and graph is None:
        _note(f"{output} not written: sentences changed or missing")
    elif graph is not None:
        _write(graph, output)
    return code


def stats_command(args: argparse.Namespace) -> None:
    _write(_isolated(args, partial(_load, args), partial(_stats, args.fmt), "the stats"), None)


def _stats(fmt: str, kg: KnowledgeGraph) -> bytes:
    from .namespaces import shorten

    stats = kg.stats()
    if fmt == "json":
        import json

        return (json.dumps(stats.to_dict(), indent=1) + "\n").encode("utf-8")
    lines = [
        f"triples        {stats.triples}",
        f"named graphs   {stats.named_graphs}",
        f"classes        {stats.classes}",
        f"claims         {stats.claims}",
    ]
    for title, counts in (
        ("instances per class", stats.instances_per_class),
        ("claims per source", stats.claims_per_source),
        ("claims per claimant", stats.claims_per_claimant),
    ):
        lines.append(f"{title}:")
        if not counts:
            lines.append("  (none)")
        width = max((len(shorten(k)) for k in counts), default=0)
        lines += [f"  {shorten(k).ljust(width)}  {n}" for k, n in counts.items()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def diagram_command(args: argparse.Namespace) -> None:
    from .errors import ParameterError
    from .terms import is_absolute_iri

    kind, resource = args.kind, args.resource
    if resource is not None and not is_absolute_iri(resource):
        raise ParameterError(f"--resource expects an absolute IRI, got {resource!r}")
    load = partial(_load, args, with_ontology=True if kind == "ontology" else None)
    svg = _isolated(args, load, lambda kg: kg.diagram(kind, resource).encode(), "the diagram")
    _write(svg, args.output)


def docs_command(args: argparse.Namespace) -> None:
    from . import api

    files = _isolated(
        args, lambda: None, lambda _: api.KnowledgeGraph.ontology_docs(), "the documentation"
    )
    written = api.write_docs(args.directory, files)
    _write(b"".join(bytes(path) + b"\n" for path in written), None)  # the names as they are


def load_command(args: argparse.Namespace) -> None:
    from . import api

    store_url = args.graph_store
    if store_url is None:
        raise UsageError("load needs --graph-store URL (or KHALIS_KG_GRAPH_STORE)", f"{PROG} load")
    paths = list(args.files) or args.data
    graph = args.graph or args.remote_graph
    # The ontology goes with the packaged graph unless --without-ontology, with files
    # only when --with-ontology.
    with_ontology = bool(args.with_ontology) if paths else args.with_ontology is not False

    prepare = partial(api.read_sources, paths, with_ontology=with_ontology)
    timeout, chunk = args.request_timeout, args.chunk
    run = partial(api.load_to_store, store_url, graph=graph, timeout=timeout, chunk_triples=chunk)
    report = _isolated(args, prepare, run, "the load", inputs=paths)
    target = f"<{graph}>" if graph else "the default graph"
    print(
        f"loaded {report.triples} triples into {target} at {store_url} "
        f"(HTTP {report.status}, {report.seconds:.2f} s"
        + (f", {report.requests} requests)" if report.requests > 1 else ")")
    )


def serve_command(args: argparse.Namespace) -> None:
    from dataclasses import fields

    from .server import Settings, serve

    if args.graph_store is not None:  # else ignored without a word: serve writes nothing
        raise UsageError("serve does not use --graph-store (khalis-kg load does)")
    given = {f.name: v for f in fields(Settings) if (v := getattr(args, f.name, None)) is not None}
    given.update(  # (an option not given: its setting's default) the settings read here
        data=args.data or None,
        timeout=args.time_limit or options.SERVE["timeout"],  # (more than 0 when given)
        memory_limit=_memory(args),
    )
    own = ("host", "port", "log_level", "keep_alive", "max_connections")  # serve()'s
    serve(Settings(**given), **{name: getattr(args, name) for name in own})


# --- the parser ------------------------------------------------------------------------------

VERBS: dict[str, tuple[Callable[[argparse.Namespace], int | None], str]] = {
    "check-source": (
        check_source_command,
        "Re-anchor every span of the graph in a new text of its article.",
    ),
    "diagram": (diagram_command, "Draw the graph as SVG (the map of the accounts...)."),
    "docs": (docs_command, "Write the ontology's documentation (pyLODE) into a directory."),
    "export": (export_command, "Export the graph as turtle, nt, nq, trig, xml or jsonld."),
    "load": (load_command, "Replace a graph of a triple store with FILES (Graph Store PUT)."),
    "queries": (queries_command, "List the packaged queries with their titles and parameters."),
    "query": (query_command, "Run the packaged query NAME (see `khalis-kg queries`)."),
    "serve": (
        serve_command,
        "Serve a read-only SPARQL endpoint, the query page and linked-data pages.",
    ),
    "sparql": (sparql_command, "Run a read-only SPARQL query: QUERY text, -f FILE, or -."),
    "stats": (stats_command, "Triples, classes, instances per class, claims per source..."),
    "validate": (validate_command, "SHACL-validate FILES, the graph, or an Oxigraph store."),
}
"""Each verb: its function (the parent's part; the child's work is in ``prepare`` and
``run``) and its line in ``khalis-kg --help``."""

DESCRIPTIONS = {
    "check-source": "Re-anchor every span of the graph in FILE, a new text of its article "
    "(UTF-8), and report each span (unchanged, moved, changed, missing) and each statement "
    "(supported, review). docs/check-source.md says how.\n\nExit 0 if every span is "
    "unchanged or moved, 1 if any changed or is missing (then -o writes nothing), 2 on "
    "input errors.",
    "diagram": "Draw the graph as SVG: by default the map of the accounts (the event, its "
    "accounts, each claim with its claimant and channel, support and contradiction, and "
    "the article's own statements set apart). Nodes link to their IRIs.",
    "docs": "Write the ontology's documentation (pyLODE, from the `docs` extra) into DIR: "
    "index.html (classes and properties, with a diagram), one page per SKOS concept scheme "
    "(vocab-*.html), pylode.css and ontology.svg. Open DIR/index.html in a browser.",
    "export": "Export the graph as turtle, nt, nq, trig, xml (RDF/XML) or jsonld.",
    "load": "Replace a graph of a triple store with FILES (default: the packaged graph, with "
    "its ontology unless --without-ontology), by one SPARQL Graph Store HTTP PUT: running "
    "it twice leaves the same store. Credentials: KHALIS_KG_TOKEN, or KHALIS_KG_USER and "
    "KHALIS_KG_PASSWORD, in the environment.",
    "sparql": "Run a read-only SPARQL query: QUERY text, -f FILE, or - for stdin.\n\n"
    "SERVICE, SPARQL Update and FROM graphs the store does not hold are refused.",
    "validate": "SHACL-validate FILES (default: the packaged graph, or --data files), or "
    "the Oxigraph store in --store DIR.\n\nExit 0 if the data conforms, 1 if it does not, 2 "
    "on input errors.",
}
"""A verb's ``--help`` text, when it says more than its line in the list of verbs."""


def _output(parser: argparse.ArgumentParser, help: str = "Write to FILE.") -> None:
    parser.add_argument("-o", "--output", type=options.path, metavar="FILE", help=help)


def _choice(parser: argparse.ArgumentParser, flag: str, choices: Sequence[str], **kw: Any) -> None:
    """An option with fixed ``choices``, shown as ``[a|b]``, its default said in its help."""
    default = kw.pop("default", None)
    help = kw.pop("help", "")
    if default is not None:
        help = f"{help} [default: {default}]".strip()
    metavar = "[" + "|".join(choices) + "]"
    parser.add_argument(flag, choices=choices, metavar=metavar, default=default, help=help, **kw)


def _query_options(parser: argparse.ArgumentParser) -> None:
    """The options ``query`` and ``sparql`` share."""
    formats = (
        "table (default), csv, tsv, json, xml; for CONSTRUCT/DESCRIBE: turtle (default), nt, "
        "jsonld, xml. Any case; aliases such as ttl, srj, json-ld (docs/formats.md)."
    )
    _format_option(parser, RESULT_FORMATS, "results", "graph", help=formats)
    parser.add_argument(
        "-c",
        "--columns",
        metavar="A,B,C",
        help="Keep only these columns, in this order (any format).",
    )
    parser.add_argument(
        "--width",
        metavar="N",
        type=options.int_range(0, 1_000_000),
        help="Table width in characters, 0 to 1000000 (0: no limit) [default: $COLUMNS, "
        "the terminal's, or 100]. Wide cells end with an ellipsis; too many columns print "
        "one record per block.",
    )
    parser.add_argument(
        "--lang", action="store_true", help="Show language tags (@en) in the table."
    )
    _output(parser)


def parser() -> Parser:
    """The group's parser: its options, then COMMAND and what follows it, which
    :func:`verb_parser` reads (only that verb's parser is built: argparse takes a
    millisecond or more to build each)."""
    commands = "\n".join(f"  {name:<13} {line}" for name, (_, line) in VERBS.items())
    group = Parser(
        prog=PROG,
        usage="%(prog)s [OPTIONS] COMMAND [ARGS]...",
        description="Query, validate and export the 2015 Al Khalis prison break knowledge graph.",
        epilog=f"Commands:\n{commands}\n\n{EXIT_CODES_HELP}",
    )
    group.add_argument(
        "-V", "--version", action=Version, nargs=0, help="Show the version and exit."
    )
    options.add(group, *options.SHARED)
    group.add_argument("command", metavar="COMMAND", choices=VERBS, help=argparse.SUPPRESS)
    verb_args = group.add_argument(
        "args", metavar="ARGS", nargs=argparse.REMAINDER, help=argparse.SUPPRESS
    )
    verb_args.required = False  # (argparse counts a REMAINDER as required: said missing)
    return group


def verb_parser(name: str) -> Parser:
    """The parser of the verb ``name``: its own options, and the group's it shares
    (:func:`khalis_kg.options.add`), which keep the group's value when not given."""
    p = Parser(prog=f"{PROG} {name}", description=DESCRIPTIONS.get(name, VERBS[name][1]))
    if name in ("queries", "stats"):
        _choice(p, "--format", ("table", "json"), dest="fmt", default="table")
    elif name == "query":
        p.add_argument("name", metavar="NAME", help="The query (khalis-kg queries lists them).")
        p.add_argument(
            "-p", "--param", dest="params", action="append", metavar="KEY=VALUE",
            help="A query parameter (repeatable).",
        )  # fmt: skip
        _query_options(p)
    elif name == "sparql":
        p.add_argument("query", nargs="?", metavar="QUERY", help="The query text, or - for stdin.")
        p.add_argument("-f", "--file", type=options.path, help="Read the query from FILE.")
        p.add_argument(
            "--base",
            metavar="IRI",
            help="Base IRI of the query's relative IRIs (its BASE is resolved against it).",
        )
        options.add(p, "time_limit", "memory_limit", inherit=True)
        _query_options(p)
    elif name == "validate":
        p.add_argument("files", nargs="*", type=options.path, metavar="FILES", help="RDF files.")
        _choice(p, "--format", ("text", "json", "turtle"), dest="fmt", default="text")
        _choice(
            p, "--inference", ("none", "rdfs"), default="none", help="Inference before validation."
        )
        p.add_argument(
            "--with-data",
            action="store_true",
            help="Validate FILES together with the packaged graph (e.g. additions to it).",
        )
        _choice(
            p, "--engine", ("turbo", "pyshacl"),
            help="SHACL engine: turbo (pyshacl-turbo, the default when installed) or pyshacl "
            "(pySHACL, the reference).",
        )  # fmt: skip
        options.add(p, "store", inherit=True)
        _output(p)
    elif name == "export":
        aliases = "Any case; aliases such as ttl, n-triples, rdfxml (docs/formats.md)."
        _format_option(p, RDF_FORMATS, "rdf", required=True, help=aliases)
        _output(p)
        p.add_argument(
            "--with-ontology", dest="export_ontology", action="store_true", help="Add the ontology."
        )
    elif name == "check-source":
        p.add_argument("file", metavar="FILE", help="The article's new text (UTF-8).")
        _choice(p, "--format", ("text", "json"), dest="fmt", default="text")
        _output(
            p,
            "Write the graph re-anchored to FILE (Turtle); only when every span is unchanged "
            "or moved.",
        )
    elif name == "diagram":
        _choice(
            p, "--kind", ("accounts", "timeline", "places", "ontology"), default="accounts",
            help="accounts: the map of the accounts and claims; timeline; places; ontology.",
        )  # fmt: skip
        p.add_argument(
            "--resource",
            metavar="IRI",
            help="The event to draw [default: the 2015 Al Khalis prison break].",
        )
        _output(p, "Write to FILE.svg.")
    elif name == "docs":
        p.add_argument(
            "-o",
            "--output",
            dest="directory",
            metavar="DIR",
            type=options.directory,
            required=True,
            help="Directory to write the documentation into (created if missing).",
        )
    elif name == "load":
        p.add_argument("files", nargs="*", type=options.path, metavar="FILES", help="RDF files.")
        options.add(p, "graph_store", inherit=True)
        p.add_argument(
            "--graph",
            metavar="IRI",
            help="Target named graph [default: the global --remote-graph, else the default graph].",
        )
        p.add_argument(
            "--timeout",
            dest="request_timeout",
            type=options.seconds,
            metavar="SECONDS",
            default=300,
            help="Seconds allowed for each request [default: %(default)s].",
        )
        p.add_argument(
            "--chunk",
            type=options.int_range(1, 2**63 - 1),
            metavar="TRIPLES",
            help="Send a PUT of about TRIPLES triples, then a POST per further piece, for "
            "stores that cannot take one large request (Virtuoso) [default: one PUT].",
        )
    elif name == "serve":
        _serve_options(p)
    shapes = {"?": " [{}]", "*": " [{}]..."}  # the usage line: the operands after OPTIONS
    operands = (a for a in p.arguments if not a.option_strings)
    words = (shapes.get(str(a.nargs), " {}").format(a.metavar) for a in operands)
    p.usage = "%(prog)s [OPTIONS]" + "".join(words)
    return p


def _serve_options(p: Parser) -> None:
    d = options.SERVE  # the defaults
    p.add_argument("--host", default=d["host"], help="Interface to bind [default: %(default)s].")
    p.add_argument(
        "--port", type=options.int_range(1, 65535), default=d["port"],
        help="TCP port, 1 to 65535 [default: %(default)s].",
    )  # fmt: skip
    options.add(p, "data", "named_graphs", "store", inherit=True)
    options.add(p, "backend", "endpoint", "remote_graph", "remote_timeout", inherit=True)
    options.add(p, "remote_request", "time_limit", inherit=True)
    p.add_argument(
        "--max-results", type=options.int_range(1, 2**63 - 1), default=d["max_results"],
        metavar="N", help="Most rows (or triples) a query may return [default: %(default)s].",
    )  # fmt: skip
    p.add_argument(
        "--workers", type=options.int_range(1, 64), metavar="N",
        help="Query worker processes, 1 to 64 [default: CPU count, 2 to 8].",
    )  # fmt: skip
    options.add(p, "without_ontology", "memory_limit", inherit=True)
    p.add_argument(
        "--keep-alive", type=options.int_range(1, 86_400), default=d["keep_alive"],
        metavar="SECONDS",
        help="Seconds an idle keep-alive connection stays open [default: %(default)s].",
    )  # fmt: skip
    p.add_argument(
        "--body-timeout", type=options.seconds, default=d["body_timeout"], metavar="SECONDS",
        help="Seconds a client has to send a request's body once its head is read "
        "[default: %(default)s].",
    )  # fmt: skip
    p.add_argument(
        "--max-connections", type=options.int_range(1, 1_000_000), default=d["max_connections"],
        metavar="N", help="Open connections at most; while they are open, requests are "
        "answered 503 [default: %(default)s].",
    )  # fmt: skip
    p.add_argument(
        "--queue-timeout", type=options.seconds, default=d["queue_timeout"], metavar="SECONDS",
        help="Seconds a request waits for a free query worker before a 503 "
        "[default: %(default)s].",
    )  # fmt: skip
    levels = ("critical", "error", "warning", "info", "debug")
    _choice(p, "--log-level", levels, default=d["log_level"])


def parsers() -> dict[str, Parser]:
    """``khalis-kg``'s parser and each verb's, by command path (the reference pages and
    the tests read them)."""
    return {PROG: parser(), **{f"{PROG} {name}": verb_parser(name) for name in VERBS}}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``khalis-kg`` console script: the exit code."""
    if sys.stderr is None:  # started with 2>&-: the exit code alone says what failed; not
        _to_null(2)  # None (print would write to stdout), on descriptor 2 (not a file's)
        sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    if sys.stdout is None:  # started with >&-: a write must fail (EBADF), not vanish; on
        _to_null(1, os.O_RDONLY)  # descriptor 1, which no file opened later can then take
        sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
    try:
        try:
            args = parse(sys.argv[1:] if argv is None else argv)
            if args.command != "serve":  # serve's are checked by server.Settings, made of them
                _check_source(args)
            code = VERBS[args.command][0](args) or 0
        except SystemExit as exc:  # --help, --version
            code = exc.code if isinstance(exc.code, int) else 0
        sys.stdout.flush()
        return code
    except OSError as exc:  # writing help, a result, a note: the other OSErrors are typed
        if exc.errno not in _OUTPUT_ERRNOS:
            raise
        return _output_failed(exc)
    except UsageError as exc:
        return fail(f"{exc} (see {exc.prog} --help)")
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except Exception as exc:
        from .errors import KhalisError

        if not isinstance(exc, KhalisError):
            raise  # a bug: its traceback
        return fail(str(exc), exc.exit_code)


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """The group's options, then the verb's (:class:`UsageError` when they are wrong)."""
    args = parser().parse_args(argv)
    rest, cut = args.args, len(argv) - len(args.args)  # the verb's arguments: argv[cut:]
    if cut >= 2 and list(argv[cut - 2 : cut]) == [args.command, "--"]:
        rest = ["--", *rest]  # argparse dropped it: then the verb's operands may start with -
    args = verb_parser(args.command).parse_args(rest, namespace=args)
    try:
        options.from_environment(args)
    except argparse.ArgumentTypeError as exc:
        raise UsageError(str(exc)) from None
    args.backend = args.backend or "oxigraph"
    args.data, args.named_graphs = args.data or [], options.graph_files(args.named_graphs or ())
    return args


def _check_source(args: argparse.Namespace) -> None:
    """The data source's options as the verb uses them (:func:`options.check_source`):
    ``docs`` and ``queries`` read no graph, ``load`` writes to ``--graph-store``."""
    validate, ontology = args.command == "validate", args.with_ontology
    remote = {name: getattr(args, name) for name in options.REMOTE}
    options.check_source(
        args.backend,
        args.store,
        args.endpoint,
        chosen={"--data": args.data, "--named-graph": args.named_graphs}
        | {"FILES": validate and args.files, "--with-data": validate and args.with_data}
        | {"--with-ontology": ontology, "--without-ontology": ontology is False},
        remote=None if args.command in ("docs", "queries", "load") else remote,
    )


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

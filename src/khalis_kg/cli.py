"""The ``khalis-kg`` command line.

Exit codes (defined once in :mod:`khalis_kg.errors`): 0 success (or conforms), 1 does
not conform, 2 input or usage error, 3 stopped at the time limit, 4 stopped at the memory
limit, 5 engine crash, 6 the remote store failed, 7 the output could not be written, 8
the server could not start, 130 interrupted. Every end that is not a success is one line,
``khalis-kg: error: ...``, on stderr; never a traceback. A closed pipe on standard output
(``| head``) ends in exit 7 without a line: the reader went away on purpose. When the
error line itself cannot be written (stderr full), the exit code still says what failed.

Every verb but ``serve`` runs its work (reading and parsing the user's files, running
the query, validating, serialising) in an isolated child process
(:mod:`khalis_kg.isolation`) with a memory cap (``--memory-limit``: 2 GiB by default,
more for big input files, :func:`khalis_kg.options.auto_memory_limit`)
and, when given, a wall-clock limit (``--timeout``): a runaway query or parse is
killed, an engine crash becomes exit 5. The parent imports no RDF library; it writes
the child's bytes to stdout or, safely, to ``-o FILE`` (:mod:`khalis_kg.files`).

Output formats: ``query`` and ``sparql`` print a ``table`` by default (whether or not
stdout is a terminal; pass ``--format csv|tsv|json|xml`` for machines); CONSTRUCT and
DESCRIBE print Turtle by default (``--format turtle|nt|jsonld|xml``).

Only click, pyoxigraph and the package's light modules are imported on the query path
with the default ``oxigraph`` backend: rdflib is imported by ``--backend memory``,
JSON-LD export and ``validate``; pySHACL only by ``validate``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import sys
from collections.abc import Callable, Sequence
from functools import partial
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NoReturn, TypeVar

import click

from . import __version__, api, isolation
from .api import DEFAULT_BACKEND, KnowledgeGraph
from .errors import (
    EXIT_INTERRUPTED,
    EXIT_OUTPUT,
    InputError,
    KhalisError,
    ParameterError,
    printable,
)
from .options import (
    AUTO,
    SECONDS,
    SERVE_HELP,
    STORE_NEEDS_OXIGRAPH,
    URL,
    PathType,
    auto_memory_limit,
    backend_options,
    memory_limit_or_auto,
    named_graph_option,
    store_option,
)
from .rdfio import (
    GRAPH_FORMAT_NAMES,
    RDF_FORMAT_NAMES,
    RESULT_FORMAT_NAMES,
    format_names,
    rdf_format,
)
from .terms import is_absolute_iri

if TYPE_CHECKING:
    from . import ValidationReport
    from .results import QueryResult
    from .safety import ReadOnlyQuery

T = TypeVar("T")
S = TypeVar("S")

MAX_QUERY_BYTES = 16 * 1024 * 1024
"""Largest query text read from a file or stdin."""

PROG = "khalis-kg"


class FormatName(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A format name or alias of :mod:`khalis_kg.rdfio`, in any case (``TTL``, ``srj``,
    ``json-ld``...). Names shared by two kinds (``json``, ``xml``) are resolved by the
    answer's form when it is serialised."""

    name = "format"

    def __init__(self, *kinds: Literal["rdf", "results", "graph"]):
        self.kinds = kinds
        self.canonical = list(dict.fromkeys(n for k in kinds for n in _canonical(k)))
        self.accepted = {n for k in kinds for n in format_names(k)}

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.canonical) + "]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        key = str(value).strip().lower()
        if key not in self.accepted:
            self.fail(
                f"{value!r} is not a known format (choose one of: {', '.join(self.canonical)}; "
                "aliases in docs/formats.md)",
                param,
                ctx,
            )
        if self.kinds == ("rdf",):
            return rdf_format(key).name
        return key


def _canonical(kind: Literal["rdf", "results", "graph"]) -> tuple[str, ...]:
    return {
        "rdf": RDF_FORMAT_NAMES,
        "results": RESULT_FORMAT_NAMES,
        "graph": GRAPH_FORMAT_NAMES,
    }[kind]


def fail(message: str, code: int = 2) -> NoReturn:
    """Print ``khalis-kg: error: message`` on stderr (one line, control characters
    escaped) and exit with ``code`` — that code still when stderr cannot take the line."""
    one_line = " ".join(printable(str(message)).split())
    try:
        click.echo(f"{PROG}: error: {one_line}", err=True)
    except OSError:
        _silence_output()
    sys.exit(code)


_OUTPUT_ERRNOS = frozenset(
    {errno.EPIPE, errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EFBIG, errno.EBADF}
    | {errno.ENXIO, errno.EAGAIN, errno.ECONNRESET}
)
"""What a write to standard output or error fails with (full device, closed pipe, I/O
error, a closed or non-blocking descriptor)."""


def _output_failed(exc: OSError) -> NoReturn:
    """Standard output or error could not be written: exit 7, silently for a closed pipe
    (the reader went away, as ``| head`` does), else with one line when stderr takes it."""
    if not isinstance(exc, BrokenPipeError):
        with contextlib.suppress(OSError):  # stderr failed too: the code alone says it
            click.echo(f"{PROG}: error: cannot write the output ({exc.strerror})", err=True)
    _silence_output()  # what is still buffered must not fail again at exit
    sys.exit(EXIT_OUTPUT)


def _silence_output() -> None:
    """Point standard output and error at /dev/null, so that what is still buffered in
    them fails no more (the interpreter flushes them on exit)."""
    import os

    if isinstance(sys.stdout, _ClosedStdout):  # what it holds would fail again at exit
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    for stream in (sys.stdout, sys.stderr):
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):  # closed, or not a file (tests)
            continue
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, fd)
        os.close(null)


class _ClosedOutput(io.RawIOBase):
    """Standard output when the process started with it closed (``>&-``: Python sets
    ``sys.stdout`` to None and click then drops every write): each write fails as a
    write to a closed descriptor does, so that help, version and results end in exit 7,
    never in a silent success."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        raise OSError(errno.EBADF, "standard output is closed")


class _ClosedStdout(io.TextIOWrapper):
    """``sys.stdout`` in place of None: text written to it reaches :class:`_ClosedOutput`."""

    def __init__(self) -> None:
        super().__init__(io.BufferedWriter(_ClosedOutput()), "utf-8")


class KhalisGroup(click.Group):
    """A click group that turns KhalisError into a one-line message and an exit code,
    and adds ``serve`` lazily when the server package is installed."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """As click's, but a usage error is one line too (``khalis-kg: error: ...``, exit
        2) and Ctrl-C while the options are read exits 130, never ``Aborted!``."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        if sys.stdout is None:  # started with standard output closed (>&-)
            sys.stdout = _ClosedStdout()
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
            if sys.stdout is not None:
                sys.stdout.flush()
        except OSError as exc:  # writing help, a result, a note: the other OSErrors are typed
            if exc.errno not in _OUTPUT_ERRNOS:
                raise
            _output_failed(exc)
        except click.ClickException as exc:
            hint = ""
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                hint = f" (see {exc.ctx.command_path} --help)"
            fail(exc.format_message() + hint, exc.exit_code)
        except (click.Abort, KeyboardInterrupt):
            fail("interrupted", EXIT_INTERRUPTED)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KhalisError as exc:
            fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            fail("interrupted", EXIT_INTERRUPTED)
        except BrokenPipeError as exc:  # before click's own handling (exit 1)
            _output_failed(exc)

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """As click's; a closed pipe while the help or the version is written exits 7."""
        try:
            return super().make_context(info_name, args, parent, **extra)
        except BrokenPipeError as exc:
            _output_failed(exc)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = super().list_commands(ctx)
        if "serve" not in names and find_spec(f"{__package__}.server") is not None:
            names = sorted([*names, "serve"])
        return names

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name == "serve":
            if self._listing and f"{__package__}.server" not in sys.modules:
                return click.Command("serve", help=SERVE_HELP)  # its line in --help
            return _serve_command()
        return command

    _listing = False

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's, but ``serve`` is listed by its help line alone: the server package
        (asyncio, sockets, logging) is imported when ``serve`` runs, not for ``--help``."""
        self._listing = True
        try:
            super().format_commands(ctx, formatter)
        finally:
            self._listing = False


def _serve_command() -> click.Command | None:
    try:
        from .server import serve_command
    except ImportError:
        return None
    return serve_command if isinstance(serve_command, click.Command) else None


class Settings:
    """The global options, shared by the subcommands."""

    def __init__(
        self,
        backend: str,
        data: Sequence[str],
        with_ontology: bool | None,
        endpoint: str | None = None,
        graph_store: str | None = None,
        timeout: float | None = None,
        *,
        time_limit: float | None = None,
        memory_limit: int | str | None = AUTO,
        named_graphs: Sequence[tuple[str, str]] = (),
        remote_graph: str | None = None,
        remote_request: str | None = None,
        store: str | None = None,
    ):
        self.backend = backend
        self.data = list(data)
        self.named_graphs = tuple(named_graphs)
        """``(graph IRI, file)`` pairs loaded as named graphs."""
        self.with_ontology = with_ontology
        self.endpoint = endpoint
        self.graph_store = graph_store
        self.timeout = timeout
        """Seconds for each HTTP exchange with a remote endpoint."""
        self.remote_graph = remote_graph
        """The graph of the remote store that holds the data (None: its default graph)."""
        self.remote_request = remote_request
        """How queries are sent to the remote store: form, get or direct (None: form)."""
        self.time_limit = time_limit
        """Wall-clock seconds allowed to each command's work (None: no limit)."""
        self.memory_limit = memory_limit
        """Cap on the work's address space in bytes (None: no cap; ``auto``: by the size
        of the input files, :func:`khalis_kg.options.auto_memory_limit`)."""
        self.store = store
        """An on-disk Oxigraph store to read in place (None: load the data)."""
        if store is not None:
            if self.data or self.named_graphs or with_ontology is not None:
                raise ParameterError(
                    "--store DIR reads the store as it is: give no --data, --named-graph, "
                    "--with-ontology or --without-ontology"
                )
            if backend != "oxigraph":
                raise ParameterError(STORE_NEEDS_OXIGRAPH)

    def isolated(
        self,
        prepare: Callable[[], S],
        run: Callable[[S], T],
        what: str,
        *,
        time_limit: float | None = None,
        lock: bool = False,
        inputs: Sequence[str] = (),
    ) -> T:
        """``run(prepare())`` in an isolated child with this command's limits.

        ``lock`` forbids new files and sockets once ``prepare`` is done (for the
        user's queries; never with the remote backend, which needs its sockets).
        """
        if not isolation.available():  # pragma: no cover - Windows: cannot be stopped
            return run(prepare())
        limits = isolation.Limits(
            timeout=self.time_limit if time_limit is None else time_limit,
            memory=self._memory(inputs),
            lock_descriptors=lock and self.backend != "remote",
            # an on-disk store keeps its files open: they stay, nothing new opens
            keep_descriptors=self.store is not None,
        )
        return isolation.run(isolation.Work(prepare, run, what), limits)

    def _memory(self, inputs: Sequence[str]) -> int | None:
        """The memory cap in bytes: as given, or ``auto`` for the data files and
        ``inputs`` (the verb's own files)."""
        if self.memory_limit != AUTO:
            return self.memory_limit if isinstance(self.memory_limit, int) else None
        files = dict.fromkeys([*self.data, *(path for _iri, path in self.named_graphs), *inputs])
        return auto_memory_limit(files)

    def load(self, *, with_ontology: bool | None = None) -> KnowledgeGraph:
        """The graph the verb reads: the store in --store DIR opened read-only, or the
        data (the packaged graph by default) loaded into the engine."""
        if self.store is not None:
            return KnowledgeGraph.open_store(self.store)
        if self.backend == "remote":
            if not self.endpoint:
                raise ParameterError(
                    "--backend remote needs --endpoint URL (or KHALIS_KG_ENDPOINT)"
                )
            if self.data or self.named_graphs:
                raise ParameterError(
                    "--backend remote queries the store's data: put files there with "
                    "khalis-kg load FILE --graph-store URL, not --data or --named-graph"
                )
            return KnowledgeGraph.connect(
                self.endpoint,
                graph_store=self.graph_store,
                graph=self.remote_graph,
                timeout=self.timeout,
                request=self.remote_request or "form",
            )
        remote_only = (self.endpoint, self.graph_store, self.remote_graph, self.remote_request)
        if any(remote_only) or self.timeout is not None:
            raise ParameterError(
                "--endpoint, --graph-store, --remote-timeout, --remote-graph and "
                "--remote-request need --backend remote"
            )
        return KnowledgeGraph.load(
            self.data or None,
            backend=self.backend,
            with_ontology=self.with_ontology if with_ontology is None else with_ontology,
            named_graphs=dict(self.named_graphs) or None,
        )


def _write(data: bytes, output: str | None) -> None:
    """``data`` to ``-o output`` (safely, :mod:`khalis_kg.files`) or standard output."""
    if output is None or output == "-":
        click.echo(data, nl=False)
        return
    from .files import write_output

    write_output(Path(output), data)


@click.group(cls=KhalisGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name=PROG)
@backend_options
@click.option(
    "--graph-store",
    type=URL(),
    envvar="KHALIS_KG_GRAPH_STORE",
    help="SPARQL Graph Store URL of the remote endpoint (Oxigraph server: .../store).",
)
@click.option(
    "--remote-request",
    type=click.Choice(["form", "get", "direct"]),
    default=None,
    help="With --backend remote: send queries as a form POST, a GET (long ones as a form "
    "POST) or a direct application/sparql-query POST [default: form].",
)
@click.option(
    "--data",
    "data",
    multiple=True,
    metavar="FILE",
    type=PathType(dir_okay=False),
    help="Use this RDF file instead of the packaged graph (repeat for several).",
)
@named_graph_option(
    "Load FILE as the named graph IRI, beside the data (repeatable): queries reach it "
    "with GRAPH, FROM or FROM NAMED."
)
@store_option(
    "Read the on-disk Oxigraph store in DIR in place (opened read-only; built by "
    "KnowledgeGraph.build_store(DIR) or oxigraph load) instead of loading data: query, "
    "sparql, stats, export, diagram and validate."
)
@click.option(
    "--with-ontology/--without-ontology",
    default=None,
    help="Load the packaged ontology beside the data, so that queries see concept labels "
    "and the class hierarchy (export, validate and stats still cover the data alone). "
    "Default: with the packaged graph, without --data files.",
)
@click.option(
    "--timeout",
    "time_limit",
    type=SECONDS,
    default=None,
    help="Stop each command's work (parse, query, validation) after SECONDS (at most "
    "86400), whatever it is doing (exit 3) [default: no limit].",
)
@click.option(
    "--memory-limit",
    metavar="SIZE",
    default=AUTO,
    callback=memory_limit_or_auto,
    help="Memory the parsing of the data, and then the query, may each add to what the "
    "process holds, e.g. 512M, 4G, or none (exit 4) [default: auto: 2G, or 16 times the "
    "size of the input files when that is more, at most the machine's memory].",
)
@click.pass_context
def cli(
    ctx: click.Context,
    backend: str,
    endpoint: str | None,
    graph_store: str | None,
    remote_graph: str | None,
    remote_request: str | None,
    remote_timeout: float | None,
    data: tuple[str, ...],
    named_graphs: tuple[tuple[str, str], ...],
    store: str | None,
    with_ontology: bool | None,
    time_limit: float | None,
    memory_limit: int | str | None,
) -> None:
    """Query, validate and export the 2015 Al Khalis prison break knowledge graph.

    Exit codes: 0 success (validate: conforms), 1 does not conform, 2 input or usage
    error, 3 stopped at the time limit, 4 stopped at the memory limit, 5 engine crash,
    6 the remote store failed, 7 the output could not be written (full device, closed
    pipe, I/O error), 8 the server could not start, 130 interrupted.
    """
    ctx.obj = Settings(
        backend or DEFAULT_BACKEND,
        data,
        with_ontology,
        endpoint,
        graph_store,
        remote_timeout,
        time_limit=time_limit,
        memory_limit=memory_limit,
        named_graphs=named_graphs,
        remote_graph=remote_graph,
        remote_request=remote_request,
        store=store,
    )


@cli.command("queries")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_obj
def queries_command(settings: Settings, fmt: str) -> None:
    """List the packaged queries with their titles and parameters."""
    _write(settings.isolated(_load_catalogue, partial(_list_queries, fmt), "listing queries"), None)


def _load_catalogue() -> Any:
    return api.query_catalogue()


def _list_queries(fmt: str, catalogue: Any) -> bytes:
    if fmt == "json":
        import json  # here: the query verbs need no JSON module

        text = json.dumps([q.to_dict() for q in catalogue.list()], indent=1) + "\n"
        return text.encode("utf-8")
    lines = []
    for info in catalogue.list():
        kind = " [check]" if info.is_check else ""
        lines.append(f"{info.name}{kind}: {info.title}")
        if info.question:
            lines.append(f"    {info.question}")
        for p in info.parameters:
            default = " (required)" if p.required else f" = {p.default}"
            desc = f" -- {p.description}" if p.description else ""
            lines.append(f"    --param {p.name}=<{p.type}>{default}{desc}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def _parse_params(pairs: Sequence[str]) -> dict[str, object]:
    params: dict[str, object] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param expects KEY=VALUE, got {pair!r}")
        params[key.strip()] = value
    return params


def _render(
    result: QueryResult,
    fmt: str | None,
    *,
    columns: str | None = None,
    width: int | None = None,
    show_lang: bool = False,
) -> bytes:
    """``result`` in ``fmt``; ``columns`` keeps those (any format); a table is fitted to
    ``width`` characters (None: no limit) and shows language tags when ``show_lang``."""
    from .rdfio import result_format
    from .results import select_columns, to_table

    if columns is not None:
        result = select_columns(result, columns.split(","))
    if fmt is None:
        fmt = "turtle" if result.form == "graph" else "table"
    if result.form != "graph" and result_format(fmt, result.form).name == "table":
        return to_table(result, width=width, show_lang=show_lang).encode("utf-8")
    data, _media = result.serialize(fmt)
    return data


def _table_width(width: int | None) -> int | None:
    """``--width``: N, 0 for no limit. By default ``COLUMNS`` when set, else the width of
    the terminal the user sees: stdout's, or stderr's when stdout is a pipe (``| head``,
    ``| less`` in a terminal), else the default table width. Measured here, in the
    parent, before the isolated child runs."""
    import os

    from .results import TABLE_WIDTH

    if width is not None:
        return width or None
    columns = os.environ.get("COLUMNS", "").strip()
    # ASCII digits only ("²" is a digit to isdigit, not to int), and not 4,300 of them
    if columns.isascii() and columns.isdigit() and int(columns[:8]) > 0 and len(columns) <= 7:
        return max(40, int(columns))
    for fd in (1, 2):
        try:
            return max(40, os.get_terminal_size(fd).columns)
        except OSError:  # not a terminal
            continue
    return TABLE_WIDTH


def _table_options(command: Any) -> Any:
    """``--columns``, ``--width`` and ``--lang``, shared by ``query`` and ``sparql``."""
    command = click.option(
        "--lang",
        "show_lang",
        is_flag=True,
        help="Show language tags (@en) in the table.",
    )(command)
    command = click.option(
        "--width",
        metavar="N",
        type=click.IntRange(min=0, max=1_000_000),
        default=None,
        help="Table width in characters (0: no limit) [default: $COLUMNS, the terminal's, "
        "or 100]. "
        "Wide cells end with an ellipsis; too many columns print one record per block.",
    )(command)
    return click.option(
        "-c",
        "--columns",
        metavar="A,B,C",
        default=None,
        help="Keep only these columns, in this order (any format).",
    )(command)


_format_option = click.option(
    "--format",
    "fmt",
    type=FormatName("results", "graph"),
    default=None,
    help="table (default), csv, tsv, json, xml; for CONSTRUCT/DESCRIBE: turtle (default), "
    "nt, jsonld, xml. Any case; aliases such as ttl, srj, json-ld (docs/formats.md).",
)
_output_option = click.option(
    "-o", "--output", type=PathType(dir_okay=False), default=None, help="Write to FILE."
)


@cli.command("query")
@click.argument("name")
@click.option(
    "-p", "--param", "params", multiple=True, metavar="KEY=VALUE", help="A query parameter."
)
@_format_option
@_table_options
@_output_option
@click.pass_obj
def query_command(
    settings: Settings,
    name: str,
    params: tuple[str, ...],
    fmt: str | None,
    columns: str | None,
    width: int | None,
    show_lang: bool,
    output: str | None,
) -> None:
    """Run the packaged query NAME (see `khalis-kg queries`)."""
    bound = _parse_params(params)

    def prepare() -> KnowledgeGraph:
        catalogue = api.query_catalogue(lazy=True)  # reads queries/NAME.rq only, once
        info = catalogue.get(name)  # unknown names fail before the graph is loaded
        info.bind(bound)
        kg = settings.load()
        kg.catalogue = catalogue
        api.preload_output(fmt)
        return kg

    table_width = _table_width(width)

    def run(kg: KnowledgeGraph) -> bytes:
        result = kg.query(name, bound)
        return _render(result, fmt, columns=columns, width=table_width, show_lang=show_lang)

    _write(settings.isolated(prepare, run, f"the query {name}", lock=True), output)


@cli.command("sparql")
@click.argument("query", required=False)
@click.option(
    "-f", "--file", "file", type=PathType(dir_okay=False), help="Read the query from FILE."
)
@click.option(
    "--timeout",
    type=SECONDS,
    default=None,
    help="Time limit in seconds (as the global --timeout, for this query).",
)
@click.option(
    "--base",
    metavar="IRI",
    default=None,
    help="Base IRI of the query's relative IRIs (its BASE is resolved against it).",
)
@_format_option
@_table_options
@_output_option
@click.pass_obj
def sparql_command(
    settings: Settings,
    query: str | None,
    file: str | None,
    timeout: float | None,
    base: str | None,
    fmt: str | None,
    columns: str | None,
    width: int | None,
    show_lang: bool,
    output: str | None,
) -> None:
    """Run a read-only SPARQL query: QUERY text, -f FILE, or - for stdin.

    SERVICE, SPARQL Update and FROM graphs the store does not hold are refused.
    """
    if (query is None) == (file is None):
        raise click.UsageError("give exactly one of QUERY, -f FILE or - (stdin)")
    if file is not None:
        from .files import read_input

        text = _decode(read_input(file, limit=MAX_QUERY_BYTES), file)
    elif query == "-":
        text = _decode(sys.stdin.buffer.read(MAX_QUERY_BYTES + 1), "stdin")
    else:
        assert query is not None
        text = query
    if not text.strip():
        raise InputError("empty query")
    if base is not None and not is_absolute_iri(base):
        raise ParameterError(f"--base must be an absolute IRI, got {base!r}")

    def prepare() -> tuple[KnowledgeGraph, ReadOnlyQuery]:
        kg = settings.load()
        plan = kg.decide(text, base=base)  # parsed (rdflib's grammar) before the lock
        api.preload_output(fmt)
        return kg, plan

    table_width = _table_width(width)

    def run(prepared: tuple[KnowledgeGraph, ReadOnlyQuery]) -> bytes:
        kg, plan = prepared
        result = kg.sparql(plan)
        return _render(result, fmt, columns=columns, width=table_width, show_lang=show_lang)

    _write(settings.isolated(prepare, run, "the query", time_limit=timeout, lock=True), output)


def _decode(data: bytes, where: str) -> str:
    if len(data) > MAX_QUERY_BYTES:
        raise InputError(f"{where}: the query is longer than {MAX_QUERY_BYTES} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where}: not UTF-8 text (byte {exc.start})") from None


@cli.command("validate")
@click.argument("files", nargs=-1, type=PathType(dir_okay=False))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
)
@click.option(
    "--inference",
    type=click.Choice(["none", "rdfs"]),
    default="none",
    show_default=True,
    help="Inference before validation.",
)
@click.option(
    "--with-data",
    is_flag=True,
    help="Validate FILES together with the packaged graph (e.g. additions to it).",
)
@click.option(
    "--engine",
    type=click.Choice(["turbo", "pyshacl"]),
    default=None,
    help="SHACL engine: turbo (pyshacl-turbo, the default when installed) or pyshacl "
    "(pySHACL, the reference).",
)
@store_option(
    "Validate what the on-disk Oxigraph store in DIR holds, read in place (opened "
    "read-only; no FILES); the same as the global --store."
)
@_output_option
@click.pass_obj
def validate_command(
    settings: Settings,
    files: tuple[str, ...],
    fmt: str,
    inference: str,
    with_data: bool,
    engine: str | None,
    store: str | None,
    output: str | None,
) -> None:
    """SHACL-validate FILES (default: the packaged graph, or --data files), or the
    Oxigraph store in --store DIR.

    Exit 0 if the data conforms, 1 if it does not, 2 on input errors.
    """
    paths = list(files) or settings.data
    store = store or settings.store
    if store is not None:
        if files or with_data or settings.data or settings.named_graphs:
            raise ParameterError(
                "--store DIR validates the store as it is: give no FILES, --with-data, "
                "--data or --named-graph"
            )
        if settings.backend != "oxigraph":
            raise ParameterError(STORE_NEEDS_OXIGRAPH)

    def prepare() -> Callable[[], ValidationReport]:
        """Read the input (open the store, or read and parse the files); the validation
        of what was read is left to ``run``."""
        if store is not None:
            kg = KnowledgeGraph.open_store(store)
            return partial(kg.validate, inference=inference, engine=engine)
        if settings.backend == "remote" and not files:
            # what the store holds (its graph with --remote-graph), not the packaged data
            return partial(settings.load().validate, inference=inference, engine=engine)
        sources = api.read_sources(paths, with_data=with_data)
        return partial(api.validate_sources, sources, inference=inference, engine=engine)

    def run(validate: Callable[[], ValidationReport]) -> tuple[bytes, bool, str | None]:
        report = validate()
        if fmt == "json":
            text = report.to_json()
        elif fmt == "turtle":
            text = report.to_turtle()
        else:
            text = report.text
        return text.encode("utf-8"), report.conforms, report.note

    data, conforms, note = settings.isolated(prepare, run, "the validation", inputs=paths)
    if note:
        click.echo(f"{PROG}: note: {note}", err=True)
    _write(data, output)
    sys.exit(0 if conforms else 1)


@cli.command("export")
@click.option(
    "--format",
    "fmt",
    type=FormatName("rdf"),
    required=True,
    help="Any case; aliases such as ttl, n-triples, rdfxml (docs/formats.md).",
)
@_output_option
@click.option("--with-ontology", "with_ontology", is_flag=True, help="Add the ontology.")
@click.pass_obj
def export_command(settings: Settings, fmt: str, output: str | None, with_ontology: bool) -> None:
    """Export the graph as turtle, nt, nq, trig, xml (RDF/XML) or jsonld."""
    data = settings.isolated(
        settings.load, lambda kg: kg.export(fmt, with_ontology=with_ontology), "the export"
    )
    _write(data, output)


@cli.command("check-source")
@click.argument("file")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="OUT.ttl",
    help="Write the graph re-anchored to FILE (Turtle); only when every span is unchanged "
    "or moved.",
)
@click.pass_obj
def check_source_command(settings: Settings, file: str, fmt: str, output: str | None) -> None:
    """Re-anchor every span of the graph in FILE, a new text of its article (UTF-8), and
    report each span (unchanged, moved, changed, missing) and each statement (supported,
    review). docs/check-source.md says how.

    Exit 0 if every span is unchanged or moved, 1 if any changed or is missing (then -o
    writes nothing), 2 on input errors.
    """

    def run(kg: KnowledgeGraph) -> tuple[bytes, int, bytes | None]:
        report = kg.check_source(file)
        text = report.to_json() if fmt == "json" else report.to_text()
        graph = kg.reanchored(report) if output is not None and report.anchored else None
        return text.encode("utf-8"), report.exit_code, graph

    text, code, graph = settings.isolated(settings.load, run, "the source check")
    _write(text, None)
    if output is not None and graph is None:
        click.echo(f"{PROG}: note: {output} not written: sentences changed or missing", err=True)
    elif graph is not None:
        _write(graph, output)
    sys.exit(code)


@cli.command("stats")
@click.option(
    "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@click.pass_obj
def stats_command(settings: Settings, fmt: str) -> None:
    """Triples, classes, instances per class, claims per source and per claimant."""
    _write(settings.isolated(settings.load, partial(_stats, fmt), "the stats"), None)


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


@cli.command("diagram")
@click.option(
    "--kind",
    type=click.Choice(["accounts", "timeline", "places", "ontology"]),
    default="accounts",
    show_default=True,
    help="accounts: the map of the accounts and claims; timeline; places; ontology.",
)
@click.option(
    "--resource",
    metavar="IRI",
    default=None,
    help="The event to draw [default: the 2015 Al Khalis prison break].",
)
@click.option(
    "-o", "--output", type=PathType(dir_okay=False), default=None, help="Write to FILE.svg."
)
@click.pass_obj
def diagram_command(
    settings: Settings, kind: str, resource: str | None, output: str | None
) -> None:
    """Draw the graph as SVG: by default the map of the accounts (the event, its accounts,
    each claim with its claimant and channel, support and contradiction, and the
    article's own statements set apart). Nodes link to their IRIs."""
    from .terms import is_absolute_iri

    if resource is not None and not is_absolute_iri(resource):
        raise ParameterError(f"--resource expects an absolute IRI, got {resource!r}")
    data = settings.isolated(
        partial(settings.load, with_ontology=True if kind == "ontology" else None),
        lambda kg: kg.diagram(kind, resource).encode("utf-8"),
        "the diagram",
    )
    _write(data, output)


@cli.command("docs")
@click.option(
    "-o",
    "--output",
    "directory",
    metavar="DIR",
    type=PathType(file_okay=False),
    required=True,
    help="Directory to write the documentation into (created if missing).",
)
@click.pass_obj
def docs_command(settings: Settings, directory: str) -> None:
    """Write the ontology's documentation (pyLODE, from the `docs` extra) into DIR:
    index.html (classes and properties, with a diagram), one page per SKOS concept scheme
    (vocab-*.html), pylode.css and ontology.svg. Open DIR/index.html in a browser."""
    from .api import KnowledgeGraph

    files = settings.isolated(
        lambda: None, lambda _: KnowledgeGraph.ontology_docs(), "the documentation"
    )
    written = api.write_docs(directory, files)
    _write(b"".join(bytes(path) + b"\n" for path in written), None)  # the names as they are


@cli.command("load")
@click.argument("files", nargs=-1, type=PathType(dir_okay=False))
@click.option(
    "--graph-store",
    "store_url",
    type=URL(),
    envvar="KHALIS_KG_GRAPH_STORE",
    required=True,
    help="SPARQL Graph Store URL (Oxigraph server: http://HOST:PORT/store).",
)
@click.option(
    "--graph",
    metavar="IRI",
    default=None,
    help="Target named graph [default: the global --remote-graph, else the default graph].",
)
@click.option(
    "--timeout",
    type=SECONDS,
    default=300.0,
    show_default=True,
    help="Seconds allowed for each request.",
)
@click.option(
    "--chunk",
    "chunk",
    type=click.IntRange(min=1, max=2**63 - 1),
    default=None,
    metavar="TRIPLES",
    help="Send a PUT of about TRIPLES triples, then a POST per further piece, for stores "
    "that cannot take one large request (Virtuoso) [default: one PUT].",
)
@click.pass_obj
def load_command(
    settings: Settings,
    files: tuple[str, ...],
    store_url: str,
    graph: str | None,
    timeout: float,
    chunk: int | None,
) -> None:
    """Replace a graph of a triple store with FILES (default: the packaged graph, with its
    ontology unless --without-ontology), by one SPARQL Graph Store HTTP PUT: running it
    twice leaves the same store. Credentials: KHALIS_KG_TOKEN, or KHALIS_KG_USER and
    KHALIS_KG_PASSWORD, in the environment."""
    paths = list(files) or settings.data
    graph = graph or settings.remote_graph

    # The ontology goes with the packaged graph unless --without-ontology, with files
    # only when --with-ontology.
    with_ontology = bool(settings.with_ontology) if paths else settings.with_ontology is not False

    def prepare() -> list[Any]:
        return api.read_sources(paths, with_ontology=with_ontology)

    def run(sources: list[Any]) -> Any:
        return api.load_to_store(store_url, sources, graph, timeout=timeout, chunk_triples=chunk)

    report = settings.isolated(prepare, run, "the load", inputs=paths)
    target = f"<{graph}>" if graph else "the default graph"
    click.echo(
        f"loaded {report.triples} triples into {target} at {store_url} "
        f"(HTTP {report.status}, {report.seconds:.2f} s"
        + (f", {report.requests} requests)" if report.requests > 1 else ")")
    )


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``khalis-kg`` console script."""
    cli.main(args=list(argv) if argv is not None else None, prog_name=PROG)


if __name__ == "__main__":  # pragma: no cover
    main()

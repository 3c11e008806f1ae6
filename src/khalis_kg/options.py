"""The options the command line's group, its verbs and ``khalis-kg serve`` share, each
defined once (:data:`SHARED`), and the types of their values, checked at the edge
(:mod:`khalis_kg.checks`): argparse ``type=`` callables that raise
``ArgumentTypeError`` with one line.

A verb that shares a group option takes the group's value unless it is given its own
(``khalis-kg --timeout 9 serve`` is ``khalis-kg serve --timeout 9``). Light (argparse and
the standard library only): ``khalis-kg --help`` imports nothing else.
"""

from __future__ import annotations

import argparse
import os
import stat
from collections.abc import Callable, Iterable, Mapping

TYPE_CHECKING = False  # typing.TYPE_CHECKING: importing typing costs a cold start ~3 ms
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")


BACKENDS = ("oxigraph", "memory", "remote")
"""``--backend``'s choices: :data:`khalis_kg.api.BACKENDS` (a test keeps them equal),
written here so that parsing the options imports no engine."""

AUTO = "auto"
"""``--memory-limit auto``, the default: see :func:`auto_memory_limit`."""

AUTO_BYTES_PER_INPUT_BYTE = 16
"""How much memory ``auto`` allows per byte of input file: validating synthetic
N-Triples peaks at about 8 bytes of resident memory per byte of file with pyshacl-turbo
(1.27 GB for a 160 MB file of 1M triples), loading and querying at about 4; the address
space the cap counts is larger than what is resident (docs/benchmarks.md)."""

SERVE: dict[str, Any] = dict(
    host="127.0.0.1",
    port=8000,
    log_level="info",
    keep_alive=5,
    max_connections=256,
    timeout=5.0,
    max_results=10_000,
    queue_timeout=30,
    body_timeout=10,
)
"""``serve``'s defaults, each once: :func:`khalis_kg.server.serve` takes the first five,
:class:`~khalis_kg.server.Settings` the others, ``serve --help`` says them (read here:
the server package is not light). ``timeout``: an endpoint never runs a query without a
limit; a verb, whose user waits and can press Ctrl-C, has none by default."""

REMOTE = ("endpoint", "graph_store", "remote_graph", "remote_timeout", "remote_request")
"""The options of a remote store (:data:`SHARED`), which need ``--backend remote``."""

ENVIRONMENT = {
    name: f"KHALIS_KG_{name.upper()}" for name in ("endpoint", "remote_graph", "graph_store")
}
"""The options a variable ``KHALIS_KG_NAME`` gives when they are not given (an empty one is
unset); a URL read from one is checked and named by it (:func:`from_environment`)."""


_bad = argparse.ArgumentTypeError  # a value refused, in one line


def _typed(check: Callable[[], T]) -> T:
    """``check()``, its one-line KhalisError as argparse's ``ArgumentTypeError``."""
    from .errors import KhalisError

    try:
        return check()
    except KhalisError as exc:
        raise _bad(str(exc)) from None


def seconds(value: str) -> float:
    """A time limit in seconds: a finite number, more than 0, at most a day
    (:func:`khalis_kg.checks.seconds`)."""
    from .checks import seconds as check

    try:
        number = float(value)
    except ValueError:
        raise _bad(f"{value!r} is not a number of seconds") from None
    return _typed(lambda: check(number, "the time limit"))


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An integer from ``low`` to ``high`` (ASCII digits: ``١٢`` and ``1_000`` are not)."""

    def integer(value: str) -> int:
        text = value.strip()
        digits = text.removeprefix("-").removeprefix("+")
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 20):
            raise _bad(f"{value!r} is not an integer")
        if not low <= int(text) <= high:
            raise _bad(f"{int(text)} is not in the range {low}<=x<={high}")
        return int(text)

    return integer


def url(value: str, source: str = "the value") -> str:
    """An http or https URL that parses (:func:`khalis_kg.checks.url`)."""
    from .checks import url as check

    return _typed(lambda: check(value, source))


def path(value: str, *, directory: bool = False) -> str:
    """A file name, not a directory's (with ``directory``, a directory's, not a file's);
    the file itself is read or written later (:mod:`khalis_kg.files`), with its own
    one-line errors."""
    if not value.strip():  # Path("") is ".": the message would name what was not given
        raise _bad(f"{value!r} is not a name (empty or blank)")
    if not directory and value.endswith("/"):  # Path("x/") is "x": a file, not the directory
        raise _bad(f"{value!r} names a directory (it ends in /), not a file")
    if "\0" in value:
        raise _bad(f"{value!r} has a NUL character; no file is named so")
    try:
        os.fsencode(value)
    except UnicodeEncodeError:  # a lone surrogate that no byte of a name gives
        raise _bad(f"{value!r} cannot be a file name (not encodable)") from None
    try:
        is_dir = stat.S_ISDIR(os.stat(value).st_mode)
    except (OSError, ValueError):  # absent, too long...: said when it is read or written
        return value
    if is_dir != directory:
        raise _bad(f"{value!r} is a {'file' if directory else 'directory'}")
    return value


def directory(value: str) -> str:
    """A directory name, not the name of a file."""
    return path(value, directory=True)


def memory_size(value: str) -> int | str | None:
    """A ``--memory-limit`` value: ``auto`` (:data:`AUTO`), or a size (``512M``, ``2G``,
    ``none``) in bytes or None (``isolation.parse_size``, the one notation)."""
    if value.strip().lower() == AUTO:  # (the default: read even for --help)
        return AUTO
    from .isolation import parse_size

    return _typed(lambda: parse_size(value))


def named_graph(value: str) -> tuple[str, str]:
    """``--named-graph IRI=FILE`` as ``(IRI, FILE)``. Either side may hold ``=`` (an IRI's
    query, a file's name), so the value is split at the ``=`` that leaves an absolute IRI
    before it and a regular file after it; when no ``=`` does, or more than one does,
    it is refused, saying why (never a guess)."""
    from .terms import is_absolute_iri

    splits = [(value[:i], value[i + 1 :]) for i, c in enumerate(value) if c == "="]
    splits = [(iri, file) for iri, file in splits if iri and file]
    if not splits:
        raise _bad(f"{value!r} is not IRI=FILE")
    iris = [(iri, file) for iri, file in splits if is_absolute_iri(iri)]
    if not iris:
        raise _bad(f"{splits[0][0]!r} is not an absolute IRI")
    found, why = [], []
    for iri, file in iris:
        try:
            mode = os.stat(file).st_mode
        except FileNotFoundError:
            why.append(f"{file!r}: no such file")
        except (OSError, ValueError) as exc:  # too long a name, a loop, no permission, NUL
            why.append(f"{file!r}: {getattr(exc, 'strerror', None) or exc}")
        else:  # read by files.read_input: a regular file only
            if stat.S_ISREG(mode):
                found.append((iri, file))
            else:
                why.append(f"{file!r}: not a regular file")
    if len(found) > 1:
        both = " or ".join(f"{iri!r} and {file!r}" for iri, file in found[:2])
        raise _bad(f"{value!r} is ambiguous: {both}; rename the file")
    if not found:
        raise _bad("; ".join(why))
    return found[0]


def graph_files(
    pairs: Iterable[tuple[str, str | os.PathLike[str]]] | Mapping[str, str | os.PathLike[str]],
) -> dict[str, str]:
    """``(graph IRI, file)`` pairs (``--named-graph``, :class:`~khalis_kg.server.Settings`)
    as the mapping :meth:`~khalis_kg.KnowledgeGraph.load` takes. An IRI given twice is a
    ``ParameterError`` (exit 2) naming it: a mapping would keep the last file and drop the
    first without a word."""
    from .errors import ParameterError

    files: dict[str, str] = {}
    for pair in pairs.items() if isinstance(pairs, Mapping) else pairs:
        iri, name = pair if isinstance(pair, (tuple, list)) and len(pair) == 2 else (0, 0)
        name = os.fspath(name) if isinstance(name, os.PathLike) else name
        if not (isinstance(iri, str) and isinstance(name, str)):
            raise ParameterError(f"a named graph is an (IRI, file name) pair, not {pair!r}")
        if iri in files:
            raise ParameterError(f"the named graph <{iri}> is given twice: one file per graph")
        files[iri] = name
    return files


def check_source(
    backend: str,
    store: str | None,
    endpoint: str | None,
    *,
    chosen: Mapping[str, object],
    remote: Mapping[str, object] | None,
) -> None:
    """Where the data of a verb or of ``serve`` comes from, checked once for both: an
    option that would be ignored is refused, named in one line (``ParameterError``, exit
    2). Each mapping gives options' values (false: not given): ``chosen``, by flag, those
    that choose what is read (files to load, the ontology beside them), which a store,
    on disk or remote, ignores; ``remote``, by name, those of :data:`REMOTE` (None: a
    verb that reads no graph through them)."""
    from .errors import ParameterError

    others = [flag for flag, value in chosen.items() if value]
    if store is not None and others:
        raise ParameterError(f"--store DIR reads the store as it is: give no {', '.join(others)}")
    if store is not None and backend != "oxigraph":
        raise ParameterError("--store DIR is an Oxigraph store: use --backend oxigraph")
    if remote is None:
        return
    if backend != "remote" and (given := [n for n in REMOTE if remote.get(n)]):
        flags = ", ".join(str(SHARED[name]["flag"]) for name in given)
        raise ParameterError(f"{flags}: only with --backend remote")
    if backend == "remote" and not endpoint:
        raise ParameterError("--backend remote needs --endpoint URL (or KHALIS_KG_ENDPOINT)")
    if backend == "remote" and others:  # its data as it is, as --store's
        raise ParameterError(
            f"--backend remote reads the store's data: give no {', '.join(others)} "
            "(khalis-kg load FILE --graph-store URL puts files there)"
        )


def auto_memory_limit(paths: Iterable[str]) -> int:
    """The cap ``auto`` stands for: 2 GiB (``isolation.DEFAULT_MEMORY_LIMIT``), or
    :data:`AUTO_BYTES_PER_INPUT_BYTE` times the size of the input files when that is
    more, but never more than the machine's memory (then a corpus too big for the machine
    stops with exit 4 rather than meeting the kernel's out-of-memory killer). A path that
    cannot be read counts for nothing: reading it reports the error."""
    from .isolation import DEFAULT_MEMORY_LIMIT

    total = 0
    for name in paths:
        try:
            total += os.stat(name).st_size
        except (OSError, ValueError):
            continue
    wanted = AUTO_BYTES_PER_INPUT_BYTE * total
    try:
        machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # pragma: no cover - not POSIX: no cap is enforced there
        machine = wanted
    return max(DEFAULT_MEMORY_LIMIT, min(wanted, machine))


def from_environment(args: argparse.Namespace) -> None:
    """Fill the options of :data:`ENVIRONMENT` not given from their variables; a bad URL
    is named by its variable (``ArgumentTypeError``)."""
    for dest, variable in ENVIRONMENT.items():
        value = os.environ.get(variable)
        if hasattr(args, dest) and getattr(args, dest) is None and value:
            source = f"the environment variable {variable}"
            setattr(args, dest, value if dest == "remote_graph" else url(value, source))


SHARED: dict[str, dict[str, object]] = {
    "backend": dict(
        flag="--backend",
        choices=BACKENDS,
        metavar="[" + "|".join(BACKENDS) + "]",
        help="Query engine: oxigraph (fast start; the default), memory (rdflib) or "
        "remote (--endpoint).",
    ),
    "endpoint": dict(
        flag="--endpoint",
        type=url,
        metavar="URL",
        help="SPARQL query URL for --backend remote [default: $KHALIS_KG_ENDPOINT]. "
        "Credentials: set KHALIS_KG_TOKEN, or KHALIS_KG_USER and KHALIS_KG_PASSWORD, "
        "in the environment (never in the URL).",
    ),
    "remote_graph": dict(
        flag="--remote-graph",
        metavar="IRI",
        help="With --backend remote: the graph of the store that holds the data; "
        "queries are scoped to it (default-graph-uri), load writes there, stats and "
        "validate see only it [default: $KHALIS_KG_REMOTE_GRAPH, else the store's "
        "default graph].",
    ),
    "remote_timeout": dict(
        flag="--remote-timeout",
        type=seconds,
        metavar="SECONDS",
        help="Seconds allowed for each HTTP exchange with the remote endpoint, whole "
        "(connect, headers, body) [default: 30].",
    ),
    "graph_store": dict(
        flag="--graph-store",
        type=url,
        metavar="URL",
        help="SPARQL Graph Store URL of the remote store (Oxigraph server: "
        "http://HOST:PORT/store) [default: $KHALIS_KG_GRAPH_STORE].",
    ),
    "remote_request": dict(
        flag="--remote-request",
        choices=("form", "get", "direct"),
        metavar="[form|get|direct]",
        help="With --backend remote: send queries as a form POST, a GET (long ones as "
        "a form POST) or a direct application/sparql-query POST [default: form].",
    ),
    "data": dict(
        flag="--data",
        action="append",
        type=path,
        metavar="FILE",
        help="Use this RDF file instead of the packaged graph (repeat for several).",
    ),
    "named_graphs": dict(
        flag="--named-graph",
        action="append",
        type=named_graph,
        metavar="IRI=FILE",
        help="Load FILE as the named graph IRI, beside the data (repeatable): queries "
        "reach it with GRAPH, FROM or FROM NAMED. Either may hold =: the value is "
        "split at the one = that leaves an absolute IRI and an existing file.",
    ),
    "store": dict(
        flag="--store",
        type=directory,
        metavar="DIR",
        help="Read the on-disk Oxigraph store in DIR in place (opened read-only; "
        "built by KnowledgeGraph.build_store(DIR) or oxigraph load) instead of loading "
        "data: query, sparql, stats, export, diagram, validate and serve.",
    ),
    "with_ontology": dict(
        flag="--with-ontology",
        action="store_const",
        const=True,
        help="Load the packaged ontology beside the data, so that queries see concept labels "
        "and the class hierarchy (export, validate and stats still cover the data alone). "
        "Default: with the packaged graph, without --data files.",
    ),
    "without_ontology": dict(
        flag="--without-ontology",
        dest="with_ontology",
        action="store_const",
        const=False,
        help="Do not load the packaged ontology beside the data.",
    ),
    "time_limit": dict(
        flag="--timeout",
        type=seconds,
        metavar="SECONDS",
        help="Stop each step after SECONDS, whatever it is doing: a verb's work (the "
        "parse and then the query, validation or export; exit 3), or one query of "
        "serve (503). At most 86400 [default: no limit for a verb, "
        f"{SERVE['timeout']:g} for a query of serve].",
    ),
    "memory_limit": dict(
        flag="--memory-limit",
        type=memory_size,
        default=AUTO,
        metavar="SIZE",
        help="Memory each step may add to what its process holds: the parse of the "
        "data, then a verb's query or validation (exit 4), or one query of serve, "
        "beyond the loaded graph (503). E.g. 512M, 4G, or none [default: auto: 2G, or "
        "16 times the size of the input files when that is more, at most the "
        "machine's memory].",
    ),
}
"""Each shared option once, in the order of the group's help: its flag and its
``add_argument`` keywords, by destination (``--without-ontology`` sets ``with_ontology``)."""


def add(parser: argparse.ArgumentParser, *names: str, inherit: bool = False) -> None:
    """Add the :data:`SHARED` options ``names`` to ``parser``; with ``inherit`` (a verb),
    an option it is not given keeps the group's value."""
    for name in names:
        keywords = dict(SHARED[name])
        flag = keywords.pop("flag")
        default = argparse.SUPPRESS if inherit else keywords.get("default")
        parser.add_argument(flag, **{"dest": name, **keywords, "default": default})  # type: ignore[arg-type]

"""The click options the command line and ``khalis-kg serve`` share: one spelling of
``--memory-limit SIZE``, ``--store DIR`` and ``--named-graph IRI=FILE``, and the types
of their values checked at the edge (:mod:`khalis_kg.checks`): time limits
(:data:`SECONDS`), ports (:data:`PORT`), URLs (:class:`URL`) and paths (:class:`PathType`).

A module of its own, light (click only), so that ``khalis-kg query`` does not import the
server package to build its options.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from .api import BACKENDS

F = TypeVar("F", bound=Callable[..., Any])

SERVE_HELP = "Serve a read-only SPARQL endpoint, the query page and linked-data pages."
"""``khalis-kg serve``'s help (its docstring: tests/test_startup.py keeps them equal), shown
in ``khalis-kg --help`` without importing the server package."""


class Seconds(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """A time limit in seconds: a finite number, more than 0, at most a day
    (:func:`khalis_kg.checks.seconds`)."""

    name = "seconds"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "SECONDS"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        from .checks import seconds
        from .errors import ParameterError

        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                self.fail(f"{value!r} is not a number of seconds", param, ctx)
        try:
            return seconds(value, "the time limit")
        except ParameterError as exc:
            self.fail(str(exc), param, ctx)


class URL(click.ParamType):  # type: ignore[type-arg]  # generic from click 8.2
    """An http or https URL that parses (:func:`khalis_kg.checks.url`); a bad one read
    from an environment variable is named by that variable."""

    name = "url"

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from .checks import url
        from .errors import ParameterError

        try:
            return url(str(value), _source(param, ctx))
        except ParameterError as exc:
            self.fail(str(exc), param, ctx)


def _source(param: click.Parameter | None, ctx: click.Context | None) -> str:
    """Where a value came from: the environment variable that held it, else ``the value``."""
    from click.core import ParameterSource

    if param is None or ctx is None or param.name is None:
        return "the value"
    if ctx.get_parameter_source(param.name) is ParameterSource.ENVIRONMENT:
        return f"the environment variable {param.envvar}"
    return "the value"


class PathType(click.Path):
    """click's Path, refusing a NUL character in one line (click's check of the file
    would raise ValueError: no file has one in its name)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, (str, bytes)) and "\0" in os.fsdecode(value):
            self.fail(f"{value!r} has a NUL character; no file is named so", param, ctx)
        try:
            os.fsencode(value)
        except UnicodeEncodeError:  # a lone surrogate that no byte of a name gives
            self.fail(f"{value!r} cannot be a file name (not encodable)", param, ctx)
        return super().convert(value, param, ctx)


SECONDS = Seconds()
"""The type of every time-limit option."""
PORT = click.IntRange(1, 65535)
"""A TCP port to bind."""


def memory_size(ctx: click.Context, param: click.Parameter, value: str) -> int | None:
    """A ``--memory-limit SIZE`` value (``512M``, ``2G``, ``none``) in bytes, or None:
    the one notation of the command line's memory limits (``isolation.parse_size``)."""
    from .errors import KhalisError
    from .isolation import parse_size

    try:
        return parse_size(value)
    except KhalisError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


STORE_NEEDS_OXIGRAPH = "--store DIR is an Oxigraph store: use --backend oxigraph"
"""The refusal of ``--store DIR`` with another backend, wherever the option is given."""


def store_option(help_text: str) -> Callable[[F], F]:
    """A ``--store DIR`` option: an on-disk Oxigraph store, read in place."""
    return click.option(
        "--store", "store", metavar="DIR", type=PathType(file_okay=False), help=help_text
    )


def named_graph_option(help_text: str) -> Callable[[F], F]:
    """A repeatable ``--named-graph IRI=FILE`` option giving ``(IRI, FILE)`` pairs."""

    def convert(
        ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
    ) -> tuple[tuple[str, str], ...]:
        from .terms import is_absolute_iri

        pairs = []
        for value in values:
            iri, sep, path = value.rpartition("=")
            if not sep or not iri or not path:
                raise click.BadParameter(f"{value!r} is not IRI=FILE", ctx, param)
            if not is_absolute_iri(iri):
                raise click.BadParameter(f"{iri!r} is not an absolute IRI", ctx, param)
            try:
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                raise click.BadParameter(f"{path!r}: no such file", ctx, param) from None
            except OSError as exc:  # too long a name, a symlink loop, no permission...
                raise click.BadParameter(f"{path!r}: {exc.strerror}", ctx, param) from None
            if not stat.S_ISREG(mode):  # read by files.read_input: a regular file only
                raise click.BadParameter(f"{path!r}: not a regular file", ctx, param)
            pairs.append((iri, path))
        return tuple(pairs)

    return click.option(
        "--named-graph",
        "named_graphs",
        multiple=True,
        metavar="IRI=FILE",
        callback=convert,
        help=help_text,
    )


AUTO = "auto"
"""``--memory-limit auto``, the command line's default: see :func:`auto_memory_limit`."""

AUTO_BYTES_PER_INPUT_BYTE = 16
"""How much memory ``auto`` allows per byte of input file: validating synthetic
N-Triples peaks at about 8 bytes of resident memory per byte of file with pyshacl-turbo
(1.27 GB for a 160 MB file of 1M triples), loading and querying at about 4; the address
space the cap counts is larger than what is resident (docs/benchmarks.md)."""


def memory_limit_or_auto(
    ctx: click.Context, param: click.Parameter, value: str
) -> int | str | None:
    """``--memory-limit``: ``auto`` (kept as :data:`AUTO`), or a size for
    :func:`memory_size`."""
    if value.strip().lower() == AUTO:
        return AUTO
    return memory_size(ctx, param, value)


def auto_memory_limit(paths: Iterable[str]) -> int:
    """The cap ``auto`` stands for: 2 GiB (``isolation.DEFAULT_MEMORY_LIMIT``), or
    :data:`AUTO_BYTES_PER_INPUT_BYTE` times the size of the input files when that is
    more, but never more than the machine's memory (then a corpus too big for the machine
    stops with exit 4 rather than meeting the kernel's out-of-memory killer). A path that
    cannot be read counts for nothing: reading it reports the error."""
    from .isolation import DEFAULT_MEMORY_LIMIT

    total = 0
    for path in paths:
        try:
            total += os.stat(path).st_size
        except (OSError, ValueError):
            continue
    wanted = AUTO_BYTES_PER_INPUT_BYTE * total
    try:
        machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):  # pragma: no cover - not POSIX: no cap is enforced there
        machine = wanted
    return max(DEFAULT_MEMORY_LIMIT, min(wanted, machine))


def backend_options(command: F) -> F:
    """``--backend``, ``--endpoint``, ``--remote-graph`` and ``--remote-timeout``: one
    definition for the group and ``serve``, which takes the group's value of any it is
    not given (``khalis-kg --backend remote --endpoint URL serve``)."""
    options = (
        click.option(
            "--backend",
            type=click.Choice(BACKENDS),
            default=None,
            help="Query engine: oxigraph (fast start; the default), memory (rdflib) or "
            "remote (--endpoint).",
        ),
        click.option(
            "--endpoint",
            type=URL(),
            envvar="KHALIS_KG_ENDPOINT",
            help="SPARQL query URL for --backend remote. Credentials: set KHALIS_KG_TOKEN, "
            "or KHALIS_KG_USER and KHALIS_KG_PASSWORD, in the environment (never in the URL).",
        ),
        click.option(
            "--remote-graph",
            metavar="IRI",
            envvar="KHALIS_KG_REMOTE_GRAPH",
            help="With --backend remote: the graph of the store that holds the data; queries "
            "are scoped to it (default-graph-uri), load writes there, stats and validate "
            "see only it [default: the store's default graph].",
        ),
        click.option(
            "--remote-timeout",
            type=SECONDS,
            default=None,
            help="Seconds allowed for each HTTP exchange with the remote endpoint, whole "
            "(connect, headers, body) [default: 30].",
        ),
    )
    for option in reversed(options):
        command = option(command)
    return command

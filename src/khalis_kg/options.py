"""The click options the command line and ``khalis-kg serve`` share: one spelling of
``--memory-limit SIZE``, ``--store DIR`` and ``--named-graph IRI=FILE``.

A module of its own, light (click only), so that ``khalis-kg query`` does not import the
server package to build its options.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


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
        "--store", "store", metavar="DIR", type=click.Path(file_okay=False), help=help_text
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

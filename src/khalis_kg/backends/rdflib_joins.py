"""Hash joins for the rdflib engine: rdflib's answers, without its nested loop.

rdflib joins two graph patterns in one of two ways. When it can (both sides plain
patterns), it pushes each left solution into the right side ("lazy" join). Otherwise
(a sub-SELECT, a UNION with FILTERs or BINDs on either side) it evaluates both sides,
puts the right one in a ``set`` of solutions and compares every left solution with
every right one (``rdflib.plugins.sparql.evalutils._join``). The set is slow too: a
solution's hash is the XOR of its bindings' hashes, so a solution binding two
variables to the same node (``BIND (?node AS ?s)``) hashes as if it bound neither, and
such solutions all collide.

:func:`mark_hash_joins` renames those joins in a prepared query (``Join`` → :data:`HASH_JOIN`), and
:func:`evaluate`, registered in rdflib's ``CUSTOM_EVALS``, runs them: the right side is
deduplicated as rdflib's set does it (equal solutions kept once) but keyed on its
bindings, and indexed on the variables that every right solution binds; a left solution
is compared only with the right ones that agree with it on those of them it binds too,
by the same ``compatible`` test. A right solution outside that bucket binds one of
those variables to another value, so rdflib's test would have refused it: the answers
are rdflib's, joined in the same order (left solutions in turn, each with its
compatible right ones in the order they were first seen). Nothing else is evaluated
differently; any other part, or a query rdflib prepared itself, is left to rdflib.

It relies on rdflib's documented extension point (``CUSTOM_EVALS``) and on the algebra
rdflib's SPARQL module builds (``CompValue`` names, ``evalPart``), which a minor release
may change: it is in force only for the rdflib releases it was tested with
(:data:`ACTIVE`; tests/test_rdflib_joins.py compares the answers with and without it).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import Any

import rdflib.plugins.sparql
from rdflib.plugins.sparql.evaluate import evalPart
from rdflib.plugins.sparql.parserutils import CompValue
from rdflib.plugins.sparql.sparql import FrozenDict, QueryContext

from ..resources import tested

ACTIVE = tested("rdflib", (7, 5), (7, 7))
"""rdflib 7.5 (the floor) to 7.6 (tested): elsewhere no join is marked and rdflib runs
its own nested loop."""

HASH_JOIN = "khalis_kg:HashJoin"
"""The algebra name of a join :func:`evaluate` runs (rdflib's own is ``Join``)."""


def mark_hash_joins(nodes: Iterable[CompValue]) -> None:
    """Rename every join among ``nodes`` that rdflib would run as a nested loop (the
    algebra of a freshly prepared query, walked); none outside the tested rdflib
    releases (:data:`ACTIVE`)."""
    if not ACTIVE:
        return
    for node in nodes:
        if node.name == "Join" and not node.get("lazy"):
            node.name = HASH_JOIN


def evaluate(ctx: QueryContext, part: CompValue) -> Iterator[FrozenDict]:
    """rdflib's custom evaluation hook: a :data:`HASH_JOIN` part; any other part is
    handed back to rdflib (``NotImplementedError`` is rdflib's signal for that)."""
    if part.name != HASH_JOIN:
        raise NotImplementedError
    # In rdflib's order: the left side first (often a generator, consumed below), then
    # the whole right side.
    left = evalPart(ctx, part.p1)
    right: dict[frozenset[tuple[Any, Any]], FrozenDict] = {}
    for solution in evalPart(ctx, part.p2):
        right.setdefault(frozenset(solution.items()), solution)
    return hash_join(left, list(right.values()))


def hash_join(left: Iterable[FrozenDict], right: list[FrozenDict]) -> Iterator[FrozenDict]:
    """Every ``x.merge(y)`` for ``x`` in ``left`` and ``y`` in ``right`` with
    ``x.compatible(y)``, in the order of rdflib's nested loop over the same sequences."""
    if not right:
        return
    everywhere = set(right[0])
    for solution in right[1:]:
        everywhere.intersection_update(solution)
    indexes: dict[tuple[Any, ...], dict[tuple[Hashable, ...], list[FrozenDict]]] = {}
    for x in left:
        # the variables x binds itself (iterating a solution gives its own bindings,
        # never the initial bindings rdflib's lookups fall back to)
        shared = tuple(sorted(everywhere.intersection(x)))
        candidates: list[FrozenDict] = right
        if shared:
            if shared not in indexes:  # right's solutions by their values of ``shared``
                indexes[shared] = {}
                for y in right:
                    indexes[shared].setdefault(_key(y, shared), []).append(y)
            candidates = indexes[shared].get(_key(x, shared), [])
        for y in candidates:
            if x.compatible(y):
                yield x.merge(y)


def _key(solution: Mapping[Any, Any], variables: tuple[Any, ...]) -> tuple[Hashable, ...]:
    return tuple(solution[v] for v in variables)


if ACTIVE:
    rdflib.plugins.sparql.CUSTOM_EVALS[HASH_JOIN] = evaluate

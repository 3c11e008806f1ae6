"""Value classes without :mod:`dataclasses` (issue 23): importing it costs a cold
``khalis-kg query`` some 8 ms of CPU (``inspect``, ``ast``, ``dis``, ``tokenize``), and
each class it makes ~0.3 ms more (it generates and compiles the methods), against a
bare pyoxigraph script's ~21 ms for the whole query (``bench/overhead.py cold``).

A class on the query's path names its fields in ``__match_args__``, in the order of
its constructor's parameters, holds them in ``__slots__`` (the same names) and writes its
own ``__init__`` (which may set them with ``_init``); :class:`Record` gives it what a
dataclass would: equality with an instance of the same class only, a ``repr`` of its
fields (but those in ``_hidden``); :class:`Frozen` adds a hash, refuses assignment
(:class:`FrozenError`) and pickles as a call of the class with its fields. This module
imports nothing.
"""

from __future__ import annotations


class FrozenError(AttributeError):
    """An assignment to a field of a :class:`Frozen` instance."""


class Record:
    """Fields in ``__match_args__``, compared, shown and pickled in that order."""

    __slots__: tuple[str, ...] = ()
    __match_args__: tuple[str, ...] = ()
    _hidden: tuple[str, ...] = ()
    """Fields left out of the ``repr`` (a query's whole text)."""

    def _init(self, *values: object) -> None:
        """Set the fields, in order (``__init__`` calls it; :class:`Frozen` too)."""
        for name, value in zip(self.__match_args__, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[object, ...]:
        return tuple([getattr(self, name) for name in self.__match_args__])

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __repr__(self) -> str:
        shown = (f"{n}={getattr(self, n)!r}" for n in self.__match_args__ if n not in self._hidden)
        return f"{self.__class__.__qualname__}({', '.join(shown)})"

    def __getstate__(self) -> tuple[dict[str, object] | None, dict[str, object]]:
        """Pickle's own state for an object with ``__slots__`` (its ``__dict__``, if any,
        and its slots), written out: protocols 0 and 1 refuse slots without it."""
        slots = (n for c in type(self).__mro__ for n in getattr(c, "__slots__", ()))
        return getattr(self, "__dict__", None), {n: getattr(self, n) for n in slots}


class Frozen(Record):
    """A :class:`Record` whose fields are set once, by ``__init__``, and that hashes by
    them."""

    __slots__ = ()

    def __hash__(self) -> int:
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenError(f"cannot delete field {name!r}")

    def __reduce__(self) -> tuple[type, tuple[object, ...]]:
        """Pickled as a call of the class with the fields (pickle's own way would assign
        them); a mutable record, or a subclass of one, pickles its slots as usual."""
        return (self.__class__, self._values())

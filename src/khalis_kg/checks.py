"""Checks of the numbers and URLs that come from outside (the command line, the Python
API, the server's settings), made before any work: one :class:`ParameterError` line
naming the option, never a builtin exception from deep inside. Light: imports nothing
beyond the standard library and :mod:`khalis_kg.errors`.
"""

from __future__ import annotations

import re

from .errors import KhalisError, ParameterError, truncate

MAX_SECONDS = 86_400.0
"""The longest time limit accepted anywhere (one day: past that "no limit" is what is
meant — leave the limit out)."""

MAX_COUNT = 2**63 - 1
"""The largest count accepted (a signed 64-bit integer, what the engines index with)."""


def seconds(value: object, what: str) -> float:
    """``value`` as a time limit in seconds: a finite number in (0, MAX_SECONDS]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ParameterError(f"{what} must be a number of seconds, got {_shown(value)}")
    number = float(max(-1, min(value, MAX_SECONDS + 1)))  # clamped: a huge int; NaN is -1
    if not 0 < number <= MAX_SECONDS:
        raise ParameterError(
            f"{what} must be more than 0 and at most {MAX_SECONDS:g} seconds, got {_shown(value)}"
        )
    return number


def optional_seconds(value: object, what: str) -> float | None:
    """:func:`seconds`, or None (no limit)."""
    return None if value is None else seconds(value, what)


def count(value: object, what: str, *, minimum: int = 1, maximum: int = MAX_COUNT) -> int:
    """``value`` as an integer from ``minimum`` to ``maximum`` (a bool is not one)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ParameterError(f"{what} must be an integer, got {_shown(value)}")
    if not minimum <= value <= maximum:
        raise ParameterError(f"{what} must be from {minimum} to {maximum}, got {_shown(value)}")
    return value


def optional_count(
    value: object, what: str, *, minimum: int = 1, maximum: int = MAX_COUNT
) -> int | None:
    """:func:`count`, or None (no cap)."""
    return None if value is None else count(value, what, minimum=minimum, maximum=maximum)


def url(value: str, what: str, error: type[KhalisError] = ParameterError) -> str:
    """``value`` if it is an absolute ``http``/``https`` URL that parses, with a host and
    a valid port, and no whitespace, control character or lone surrogate (a byte that
    was not UTF-8) in it; ``error`` otherwise."""
    from urllib.parse import urlsplit

    shown = _shown(re.sub(_USERINFO, r"\1***@", value, count=1))  # never a password in a message
    bad = re.search(_NOT_IN_URL, value)
    if bad is not None:
        raise error(f"{what}: {shown} is not a URL ({bad.group()!r} in it)")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise error(f"{what}: {shown} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise error(f"{what}: {shown} is not an http or https URL with a host")
    return value


_USERINFO = r"^([^:/?#]*:?//)[^/?#]*@"
"""The user and password of a URL (``scheme://user:password@``), hidden when it is shown."""


_NOT_IN_URL = "[\x00-\x20\x7f-\x9f\ud800-\udfff]"
"""White space, a control character, or a lone surrogate (a byte that was not UTF-8)."""


def _shown(value: object, limit: int = 80) -> str:
    return truncate(repr(value), limit)

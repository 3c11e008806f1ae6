"""HTTP for the remote backend and the loader: one httpx session with a total deadline
per exchange and the credentials from the environment. The store is untrusted input.

* **Credentials** come only from the environment: ``KHALIS_KG_TOKEN`` (sent as
  ``Authorization: Bearer``) or ``KHALIS_KG_USER`` + ``KHALIS_KG_PASSWORD`` (HTTP
  Basic), checked when read (:func:`auth_headers`: a control character or line break,
  a byte that is not UTF-8, leading or trailing spaces, in a token a space or a character
  that is not ASCII, or fewer than :data:`MIN_SECRET` characters is one
  :class:`~khalis_kg.errors.InputError` naming the variable, never its value). A URL
  with a user or password in it is refused (:func:`check_url`), so that no secret ends
  up on a command line, in a shell history or in an error message; and no message of
  this module ever holds a secret (the session's own secrets are masked in every text
  that could reach one, :func:`mask`).
* **One total deadline per exchange** (connect, request, headers and the whole body):
  the session's ``timeout`` (``--remote-timeout``), or the query's time limit when it
  is tighter. httpx's timeouts bound each network operation, not the exchange (a store
  sending one byte a second never trips them): the exchange runs in a helper thread
  that streams the body and stops at the deadline, and the caller waits for it at most
  until the deadline. Past it, :class:`~khalis_kg.errors.RemoteStoreError` names the
  URL and the limit.
* **Redirects**: a write (``PUT``/``POST`` to a Graph Store) succeeds only on a 2xx; a
  3xx is an error naming its ``Location`` (nothing was stored). A read follows a
  redirect only to the same origin (scheme, host and port), at most
  :data:`MAX_REDIRECTS` times, so credentials never travel to another origin.
* **One TLS context per process** (:func:`tls_context`): httpx reads the whole CA bundle
  for every client it makes (~20 ms); sessions share one context, built once with
  httpx's own defaults (certificates verified against certifi's bundle; the environment,
  such as ``SSL_CERT_FILE``, ignored as the client ignores it).

httpx (the ``remote`` extra) is imported when the first request is sent.
"""

from __future__ import annotations

import base64
import functools
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from . import checks
from .errors import (
    InputError,
    KhalisError,
    RemoteAnswerError,
    RemoteStoreError,
    one_line,
    printable,
    truncate,
)

if TYPE_CHECKING:
    import ssl

    import httpx

DEFAULT_TIMEOUT = 30.0
"""Seconds allowed for one HTTP exchange with the endpoint (connect, headers, body)."""
MAX_REDIRECTS = 5
"""Same-origin redirects a read follows at most."""
MIN_SECRET = 3
"""The fewest characters a credential variable may hold (when set and not empty). Every
secret is masked in messages, and a shorter one cannot be: masking each ``a`` of a
message would garble it and show where the secret's letters are. Three is what a
store's defaults need (Virtuoso's user and password are both ``dba``); a one- or
two-character password is guessed at once anyway."""

_INHERITED: list[httpx.Client | None] = []
"""The clients a forked child inherited and must not use or close (see after_fork)."""

ENV_USER = "KHALIS_KG_USER"
ENV_PASSWORD = "KHALIS_KG_PASSWORD"  # noqa: S105 (the variable's name, not a secret)
ENV_TOKEN = "KHALIS_KG_TOKEN"  # noqa: S105


def check_url(url: str) -> None:
    """:func:`khalis_kg.checks.url`'s check, and no credentials (InputError, one line)."""
    if not isinstance(url, str):
        raise InputError(f"not an http(s) endpoint URL: {url!r}")
    checks.url(url, "not an http(s) endpoint URL", InputError)
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise InputError(
            "credentials in an endpoint URL are refused: set "
            f"{ENV_TOKEN}, or {ENV_USER} and {ENV_PASSWORD}, in the environment"
        )


def _secret(env: Mapping[str, str], name: str, *, ascii_only: bool) -> str | None:
    """The variable ``name`` of ``env``, checked: InputError naming it, never its value."""
    value = env.get(name)
    if value is None:
        return None
    why = None
    if any(c < " " or "\x7f" <= c <= "\x9f" for c in value):
        why = "a control character or a line break (a file's line ending?)"
    elif any("\ud800" <= c <= "\udfff" for c in value):
        why = "a byte that is not UTF-8"
    elif ascii_only and not value.isascii():
        why = "a character that is not ASCII"
    elif ascii_only and " " in value:
        why = "a space (a token has none)"
    elif value != value.strip():
        why = "leading or trailing spaces"
    elif 0 < len(value) < MIN_SECRET:
        why = f"fewer than {MIN_SECRET} characters (too short to keep out of messages)"
    if why is not None:
        raise InputError(f"{name} holds {why}; its value is not shown")
    return value


def auth_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The Authorization header from the environment (none when unset)."""
    token = _secret(env, ENV_TOKEN, ascii_only=True)
    if token:
        return {"Authorization": f"Bearer {token}"}
    user = _secret(env, ENV_USER, ascii_only=False)
    password = _secret(env, ENV_PASSWORD, ascii_only=False)
    if user:
        if password is None:
            raise InputError(f"{ENV_USER} is set but {ENV_PASSWORD} is not")
        if ":" in user:
            raise InputError(f"{ENV_USER} holds a colon, which HTTP Basic cannot send")
        raw = f"{user}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    return {}


def _secrets_of(env: Mapping[str, str], headers: Mapping[str, str]) -> tuple[str, ...]:
    """Every text of a secret the session holds, longest first (for :meth:`mask`)."""
    found = [env.get(n) or "" for n in (ENV_TOKEN, ENV_USER, ENV_PASSWORD)]
    found += [part for v in headers.values() for part in (v, v.split(" ", 1)[-1])]
    return tuple(sorted({s for s in found if s}, key=len, reverse=True))


def mask(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every one of ``secrets`` replaced by ``***``; withheld whole when
    a secret is still in it after that (the stars and their neighbours can spell one
    again: ``x**`` in ``xx**``)."""
    for secret in secrets:
        text = text.replace(secret, "***")
    if any(secret in text for secret in secrets):
        return "(withheld: it held a secret)"
    return text


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every session of this process (see the module documentation)."""
    import httpx

    return httpx.create_ssl_context(trust_env=False)


@dataclass(frozen=True)
class Answer:
    """A store's complete answer to one exchange (the body read in full, decoded from
    its content coding)."""

    url: str
    """The URL that answered (after same-origin redirects)."""
    status: int
    headers: Mapping[str, str]
    content: bytes
    encoding: str = "utf-8"
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)
    """The session's secrets, masked in :meth:`first_line` (a store may echo them)."""

    @property
    def text(self) -> str:
        """The body as text, in the declared charset; as UTF-8 when that is not a text
        encoding Python can decode with replacement (``hex``, ``idna``: the store's
        word, a LookupError or UnicodeError otherwise)."""
        try:
            return self.content.decode(self.encoding, "replace")
        except (LookupError, ValueError):
            return self.content.decode("utf-8", "replace")

    @property
    def media_type(self) -> str:
        """The Content-Type without its parameters, lower case ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def first_line(self) -> str:
        """The first line of the body, escaped and without the session's secrets, for
        an error message."""
        text = one_line(self.text, len(self.content) + 1, empty="(empty answer)")
        return truncate(mask(text, self.secrets), 200)

    def __repr__(self) -> str:  # the headers are the store's, but keep reprs short
        return f"Answer({self.url!r}, {self.status}, {len(self.content)} bytes)"


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _Late(Exception):  # noqa: N818 (a signal between the two threads, never raised out)
    """The body was still arriving at the deadline."""


class HttpSession:
    """An httpx client with the credentials from the environment and a total deadline
    per exchange; every failure to talk to the store becomes a
    :class:`~khalis_kg.errors.RemoteStoreError` naming the URL, never holding a secret."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None):
        self.timeout = checks.seconds(timeout, "the remote timeout")
        env = os.environ if env is None else env
        self.headers = auth_headers(env)
        self._secrets = _secrets_of(env, self.headers)
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"HttpSession(timeout={self.timeout:g}, credentials={bool(self.headers)})"

    def after_fork(self) -> None:
        """In a forked child: talk over new connections. The inherited client's sockets
        are shared with the parent (a child killed in the middle of an exchange on one
        would leave the parent a half-read response); it is kept referenced, never
        closed (closing would end the parent's TLS sessions; the child ends with
        ``os._exit``)."""
        _INHERITED.append(self._client)
        self._client = None

    def mask(self, text: str) -> str:
        """``text`` with every secret of this session replaced by ``***`` (the URL of a
        redirect, an exception's text: a secret can hide in either)."""
        return mask(text, self._secrets)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            try:
                import httpx
            except ImportError:
                raise KhalisError(
                    "the remote backend needs httpx: pip install 'khalis-kg[remote]'"
                ) from None
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout),
                headers=self.headers,
                follow_redirects=False,
                trust_env=False,
                verify=tls_context(),
            )
        return self._client

    def request(
        self,
        method: str,
        url: str,
        *,
        timeout: float | None = None,
        write: bool = False,
        **kwargs: Any,
    ) -> Answer:
        """One exchange, whole, within ``timeout`` (at most the session's) seconds, same-origin
        redirects of a read included (``write``: a redirect is an error); RemoteStoreError for a
        redirect not followed, a refusal (401/403), a connection problem or the deadline."""
        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        deadline = time.monotonic() + limit
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            answer = self._exchange(method, current, limit, deadline, kwargs)
            if not 300 <= answer.status < 400:
                break
            current = self._redirect(method, current, answer, write)
        else:
            raise RemoteStoreError(f"{printable(url)}: more than {MAX_REDIRECTS} redirects")
        if answer.status in (401, 403):
            raise RemoteStoreError(
                f"{printable(current)}: access refused (HTTP {answer.status}); set {ENV_TOKEN}, "
                f"or {ENV_USER} and {ENV_PASSWORD}"
            )
        return answer

    def _redirect(self, method: str, url: str, answer: Answer, write: bool) -> str:
        """Where a 3xx ``answer`` leads, when it may be followed; else RemoteStoreError."""
        location = answer.headers.get("location")
        shown = printable(url)
        if not location:
            raise RemoteStoreError(f"{shown}: HTTP {answer.status} without a Location")
        target = urljoin(url, location)
        where = self.mask(one_line(target, empty="(empty)"))
        if write:
            raise RemoteStoreError(
                f"{shown}: the store answered the {method} with HTTP {answer.status}, "
                f"Location {where}: nothing was stored; give that URL instead"
            )
        if method.upper() != "GET" and answer.status not in (307, 308):
            raise RemoteStoreError(
                f"{shown}: the store answered the {method} with HTTP {answer.status}, "
                f"Location {where}: not followed (it would drop the request's body)"
            )
        try:
            same = _origin(target) == _origin(url)
            check_url(target)
        except (ValueError, InputError):
            same = False
        if not same:
            raise RemoteStoreError(
                f"{shown}: redirected (HTTP {answer.status}) to another origin, {where}: "
                "not followed (credentials never go to another origin); give that URL "
                "if you trust it"
            )
        return target

    def _exchange(
        self, method: str, url: str, limit: float, deadline: float, kwargs: dict[str, Any]
    ) -> Answer:
        client = self.client  # says what to install when httpx is missing
        import httpx

        outcome: list[Answer | BaseException] = []
        phase = ["connecting"]
        done = threading.Event()

        def trace(event: str, info: Mapping[str, Any]) -> None:
            # httpcore's documented "trace" extension: how far the exchange got
            connected = event.startswith(("http11.", "connection.connect_tcp.complete"))
            if connected and phase[0] == "connecting":
                phase[0] = "connected"

        def run() -> None:
            try:
                remaining = max(deadline - time.monotonic(), 0.001)
                with client.stream(
                    method,
                    url,
                    timeout=httpx.Timeout(remaining),
                    extensions={"trace": trace},
                    **kwargs,
                ) as response:
                    phase[0] = "the body"
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        body += chunk
                        if time.monotonic() > deadline:
                            raise _Late
                    outcome.append(
                        Answer(
                            url,
                            response.status_code,
                            dict(response.headers),
                            bytes(body),
                            response.encoding or "utf-8",
                            self._secrets,
                        )
                    )
            except BaseException as exc:  # noqa: BLE001 (handed to the caller, which sorts it)
                outcome.append(exc)
            finally:
                done.set()

        threading.Thread(target=run, name="khalis-kg-http", daemon=True).start()
        shown = printable(url)
        finished = done.wait(max(deadline - time.monotonic(), 0.0))
        result = outcome[0] if finished else None
        if isinstance(result, Answer):
            return result
        if result is None or isinstance(result, (_Late, httpx.TimeoutException)):
            if phase[0] == "the body":
                raise RemoteStoreError(
                    f"{shown}: the answer did not arrive whole within {limit:g} s (the store "
                    "sends it too slowly; the remote timeout bounds the whole exchange)"
                )
            if phase[0] == "connected" or isinstance(
                result, (httpx.ReadTimeout, httpx.WriteTimeout)
            ):
                raise RemoteStoreError(
                    f"{shown}: connected, but no answer within {limit:g} s (the endpoint is "
                    "silent: a slow query, an overloaded store, or a request style it does not "
                    "answer, e.g. Virtuoso with a direct POST: use the form request style)"
                )
            raise RemoteStoreError(
                f"{shown}: no connection within {limit:g} s (the host does not answer; is the "
                "address right, or a firewall dropping packets?)"
            )
        if isinstance(result, httpx.ConnectError):
            raise RemoteStoreError(
                f"{shown}: cannot connect ({self._reason(result)}); is the endpoint up?"
            )
        if isinstance(result, httpx.DecodingError):
            raise RemoteAnswerError(
                f"{shown}: the answer's content coding cannot be decoded ({self._reason(result)})"
            )
        if isinstance(result, httpx.RemoteProtocolError):
            raise RemoteStoreError(
                f"{shown}: the answer broke off or broke the HTTP protocol ({self._reason(result)})"
            )
        if isinstance(result, httpx.HTTPError):
            raise RemoteStoreError(f"{shown}: cannot reach the endpoint ({self._reason(result)})")
        if isinstance(result, httpx.InvalidURL):
            raise InputError(f"not an http(s) endpoint URL: {url!r} ({self._reason(result)})")
        raise result  # not a network failure: our own bug, or KeyboardInterrupt/MemoryError

    def _reason(self, exc: BaseException) -> str:
        return self.mask(one_line(str(exc) or type(exc).__name__, 120, empty="(no reason)"))

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

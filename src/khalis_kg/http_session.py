"""HTTP for the remote backend and the loader: one httpx session with a timeout and the
credentials from the environment.

* **Credentials** come only from the environment: ``KHALIS_KG_TOKEN`` (sent as
  ``Authorization: Bearer``) or ``KHALIS_KG_USER`` + ``KHALIS_KG_PASSWORD`` (HTTP
  Basic). A URL with a user or password in it is refused (:func:`check_url`), so that no
  secret ends up on a command line, in a shell history or in an error message.
* **Time limits**: every request has a timeout; an endpoint that is down or too slow
  raises :class:`~khalis_kg.errors.BackendError` naming the URL and the limit.
* **One TLS context per process** (:func:`tls_context`): httpx reads the whole CA bundle
  for every client it makes (~20 ms); sessions share one context, built once with
  httpx's own defaults (certificate verification on, environment ignored as the
  client ignores it).

httpx (the ``remote`` extra) is imported when the first request is sent.
"""

from __future__ import annotations

import base64
import functools
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .errors import BackendError, InputError, KhalisError, one_line

if TYPE_CHECKING:
    import ssl

    import httpx

DEFAULT_TIMEOUT = 30.0
"""Seconds allowed for one HTTP exchange with the endpoint."""

ENV_USER = "KHALIS_KG_USER"
ENV_PASSWORD = "KHALIS_KG_PASSWORD"  # noqa: S105 (the variable's name, not a secret)
ENV_TOKEN = "KHALIS_KG_TOKEN"  # noqa: S105


def check_url(url: str) -> None:
    """An http(s) URL without credentials in it (InputError otherwise)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"not an http(s) endpoint URL: {url!r}")
    if parts.username or parts.password:
        raise InputError(
            "credentials in an endpoint URL are refused: set "
            f"{ENV_TOKEN}, or {ENV_USER} and {ENV_PASSWORD}, in the environment"
        )


def auth_headers(env: Mapping[str, str]) -> dict[str, str]:
    """The Authorization header from ``KHALIS_KG_TOKEN`` or ``KHALIS_KG_USER`` and
    ``KHALIS_KG_PASSWORD`` (none when unset)."""
    token = env.get(ENV_TOKEN)
    if token:
        return {"Authorization": f"Bearer {token}"}
    user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
    if user:
        if password is None:
            raise InputError(f"{ENV_USER} is set but {ENV_PASSWORD} is not")
        raw = f"{user}:{password}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode("ascii")}
    return {}


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every session of this process: httpx's default one (verifying
    certificates against certifi's bundle), with the environment ignored as the client
    ignores it (``trust_env=False``: no ``SSL_CERT_FILE``), built once."""
    import httpx

    return httpx.create_ssl_context(trust_env=False)


class HttpSession:
    """An httpx client with the credentials from the environment and a timeout; every
    failure to talk to the server becomes a :class:`BackendError` naming the URL."""

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, env: Mapping[str, str] | None = None):
        if timeout <= 0:
            raise KhalisError("the remote timeout must be a positive number of seconds")
        self.timeout = timeout
        self.headers = auth_headers(os.environ if env is None else env)
        self._client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            try:
                import httpx
            except ImportError:
                raise BackendError(
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
        **kwargs: Any,
    ) -> httpx.Response:
        """One HTTP exchange; connection problems and timeouts → BackendError."""
        client = self.client  # says what to install when httpx is missing
        import httpx

        limit = self.timeout if timeout is None else min(timeout, self.timeout)
        try:
            response = client.request(method, url, timeout=httpx.Timeout(limit), **kwargs)
        except httpx.ConnectTimeout:
            raise BackendError(
                f"{url}: no connection within {limit:g} s (the host does not answer; is the "
                "address right, or a firewall dropping packets?)"
            ) from None
        except httpx.ConnectError as exc:
            raise BackendError(
                f"{url}: cannot connect ({_reason(exc)}); is the endpoint up?"
            ) from None
        except (httpx.ReadTimeout, httpx.WriteTimeout):
            raise BackendError(
                f"{url}: connected, but no answer within {limit:g} s (the endpoint is silent: "
                "a slow query, an overloaded store, or a request style it does not answer, "
                "e.g. Virtuoso with a direct POST: use the form request style)"
            ) from None
        except httpx.TimeoutException:
            raise BackendError(f"{url}: no answer within {limit:g} s (timeout)") from None
        except httpx.HTTPError as exc:
            raise BackendError(f"{url}: cannot reach the endpoint ({_reason(exc)})") from None
        if response.status_code in (401, 403):
            raise BackendError(
                f"{url}: access refused (HTTP {response.status_code}); set {ENV_TOKEN}, "
                f"or {ENV_USER} and {ENV_PASSWORD}"
            )
        return response

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return one_line(text, 120, empty="(empty answer)")

"""The Starlette application behind ``khalis-kg serve``.

Routes
------
``/sparql``          W3C SPARQL 1.1 Protocol (query only); the service description without a query
``/queries``         the packaged query catalogue (JSON)
``/queries/{name}``  run a packaged query; other URL parameters are its parameters
``/``, ``/static/*`` the query page and its assets (no CDN)
``/ontology/docs/*`` the ontology's documentation by pyLODE (``/ontology`` is its index)
every other path     Cool-URIs: ``https://w3id.org/khalis-kg/<path>`` described as HTML or RDF

Queries never run in this process: see :mod:`khalis_kg.server.pool`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
import signal
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import __version__, isolation, resources
from ..api import KnowledgeGraph
from ..errors import KhalisError, ReadOnlyError, esc
from ..namespaces import BASE, DATASET, ONTOLOGY, PREFIXES
from ..options import graph_files
from . import Settings, formats, guard, pages
from .negotiation import negotiate, parse_accept, quality
from .pool import WorkerPool
from .worker import handle, prepare, refusal

log = logging.getLogger("khalis_kg.server")

RESIZER_STYLES = (
    "'sha256-zCK2EVMoPc04mRF/g5CotUvxbJPWS+8V0b+s9ptqQIk=' "
    "'sha256-c0O6TmFAkgpNbHxKAa1BrveWHHopjEtC47i0PzMudxg='"
)
"""The two fixed ``<style>`` elements YASR's column resizer (column-resizer 1.4.0, bundled
in static/yasgui/) adds: its table rules and, while a column is dragged,
``*{cursor:col-resize!important}``. Allowed by hash, not with 'unsafe-inline'."""
CSP = (
    f"default-src 'self'; script-src 'self'; style-src 'self' {RESIZER_STYLES}; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HTML_HEADERS = {"Content-Security-Policy": CSP, "Vary": "Accept"}
SECURITY_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"}

RESOURCE_OFFERS: dict[str, str] = {
    "text/html": "html",
    "application/xhtml+xml": "html",
    **formats.GRAPH_MEDIA_TYPES,
}
RESOURCE_FORMAT_PARAM: dict[str, str] = {"html": "text/html", **formats.FORMAT_PARAM["graph"]}
STATIC_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    "LICENSE": "text/plain",
}
"""Media types of the static files (Starlette adds ``charset=utf-8`` to text types)."""
STATIC_NAME = re.compile(r"(?:yasgui/)?(?:[a-z0-9][a-z0-9_.-]*\.(?:html|js|css|svg|png)|LICENSE)")
"""The query page's own files, and YASGUI's (vendored in ``static/yasgui/``, see
docs/server.md): no other path, no ``..``."""
RDFLIB_DEFAULT_GRAPH = "urn:x-rdflib:default"
RESOURCE_ROOTS = ("id/", "concept/", "ontology", "dataset", "shapes")


# ------------------------------------------------------------------ helpers


def text_error(status: int, message: str, headers: Mapping[str, str] | None = None) -> Response:
    return PlainTextResponse(message.rstrip() + "\n", status_code=status, headers=headers)


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise KhalisError("invalid Content-Length header") from None
        if size > limit:
            raise refusal(413, f"request body of {size} bytes is larger than {limit} bytes")
    body = bytearray()

    async def read() -> None:
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                raise refusal(413, f"request body is larger than {limit} bytes")

    try:
        if sys.version_info >= (3, 11):  # no task per request, as wait_for makes: ~14 us less
            async with asyncio.timeout(timeout):
                await read()
        else:  # pragma: no cover - Python 3.10
            await asyncio.wait_for(read(), timeout)
    except asyncio.TimeoutError:
        raise refusal(
            408, f"the request body did not arrive within {timeout:g} s (--body-timeout)"
        ) from None
    except ClientDisconnect:  # nobody to answer: ends quietly, not as our error
        raise refusal(400, "the client closed the connection before its body arrived") from None
    return bytes(body)


def _content_type(request: Request) -> tuple[str, str | None]:
    """The request's media type ('' when none) and ``charset`` parameter, lower-cased."""
    media, *params = request.headers.get("content-type", "").lower().split(";")
    pairs = (param.partition("=") for param in params)
    charsets = [value.strip().strip('"') for key, _, value in pairs if key.strip() == "charset"]
    return media.strip(), charsets[0] if charsets else None


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise KhalisError(f"{what} is not valid UTF-8") from None


def _pairs(text: str) -> list[tuple[str, str]]:
    """``parse_qsl(text, keep_blank_values=True)`` (a URL's query, a form), its escapes
    decoded by Python's C codec as ``\\xHH``: ~4x faster on a long query than
    ``unquote``'s loop, which was the main process's largest cost per request
    (docs/benchmarks.md). What the codec could read otherwise (not ASCII, a backslash,
    a bad escape) goes to ``parse_qsl``; the tests hold the two equal."""
    if text.isascii() and "\\" not in text:
        with contextlib.suppress(UnicodeDecodeError):
            return [
                (_unquote(name), _unquote(value))
                for name, _, value in (field.partition("=") for field in text.split("&") if field)
            ]
    return parse_qsl(text, keep_blank_values=True)


def _unquote(text: str) -> str:
    escaped = text.replace("+", " ").replace("%", "\\x").encode()
    return escaped.decode("unicode_escape").encode("latin-1").decode("utf-8", "replace")


def _single(params: list[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in params if k == name]
    if len(values) > 1:
        raise KhalisError(f"the {name!r} parameter was given {len(values)} times; give it once")
    return values[0] if values else None


def _format_values(params: list[tuple[str, str]], accept: str | None) -> list[str]:
    """The ``format=`` values that name a known format (400 when all are unknown), or,
    without any, an early 406 when no result of any kind could match ``Accept``."""
    given = [v.strip().lower() for k, v in params if k == "format" and v.strip()]
    known = [v for v in given if v in formats.FORMAT_NAMES]
    if given and not known:
        raise KhalisError(
            f"unknown format {given[0]!r}; use one of " + ", ".join(sorted(formats.FORMAT_NAMES))
        )
    if not known and negotiate(accept, formats.ALL_QUERY_MEDIA_TYPES) is None:
        raise refusal(
            406,
            f"none of the media types in Accept: {accept!r} is available; offered: "
            + ", ".join(formats.ALL_QUERY_MEDIA_TYPES),
        )
    return known


def _result_response(payload: Mapping[str, Any]) -> Response:
    return Response(payload["body"], media_type=payload["media_type"], headers={"Vary": "Accept"})


# ------------------------------------------------------------------ /sparql


async def _run_task(
    request: Request, params: list[tuple[str, str]], task: dict[str, Any]
) -> Response:
    """Run ``task`` in a query worker with the negotiated format and the time limit."""
    settings = request.app.state.settings
    accept = request.headers.get("accept")
    task = {
        **task,
        "accept": accept,
        "format": _format_values(params, accept),
        "timeout": settings.timeout,
    }
    payload = await request.app.state.pool.run(task, settings.timeout)
    return _result_response(payload)


async def sparql_endpoint(request: Request) -> Response:
    settings = request.app.state.settings
    params = _pairs(request.url.query)
    if len(request.url.query) > settings.max_query_chars * 3 + 4096:
        raise refusal(413, "the request URL is too long")
    query: str | None = None
    if request.method == "POST":
        media, charset = _content_type(request)
        if media == "application/sparql-update":
            raise ReadOnlyError("SPARQL Update is not allowed: this endpoint is read-only")
        body = await _read_body(request, settings.max_body_bytes, settings.body_timeout)
        if media == "application/x-www-form-urlencoded":
            form = _pairs(_decode(body, "the form"))
            if any(k == "update" for k, _ in form):
                raise ReadOnlyError("SPARQL Update is not allowed: this endpoint is read-only")
            query = _single(form, "query")
            if _single(params, "query") is not None:
                raise KhalisError("give the query either in the URL or in the form, not both")
            params = params + [(k, v) for k, v in form if k != "query"]
        elif media == "application/sparql-query":
            if charset not in (None, "utf-8", "utf8"):
                raise refusal(
                    415, f"a query must be sent in UTF-8, not {charset!r} (SPARQL 1.1 Protocol)"
                )
            query = _decode(body, "the query")
            if _single(params, "query") is not None:
                raise KhalisError("a POST with a query body must not also have a query parameter")
        else:
            raise refusal(
                415,
                f"unsupported Content-Type {media or '(none)'!r}: use "
                "application/x-www-form-urlencoded or application/sparql-query",
            )
        if query is None:
            raise KhalisError("no query: send a 'query' form field")
    else:
        if any(k == "update" for k, _ in params):
            raise ReadOnlyError("SPARQL Update is not allowed: this endpoint is read-only")
        query = _single(params, "query")
        if query is None:
            return service_description(request)
    if len(query) > settings.max_query_chars:
        raise refusal(
            413,
            f"the query has {len(query)} characters; this server accepts at most "
            f"{settings.max_query_chars}",
        )
    if not query.strip():
        raise KhalisError("the query is empty")
    # The endpoint's URL: the base IRI of relative IRIs in queries (as Oxigraph does).
    task = {"op": "sparql", "text": query, "base": str(request.url.replace(query=""))}
    return await _run_task(request, params, {**task, **_dataset(request, params)})


def _page_task(query: tuple[str, dict[str, str]], accept: str, timeout: float) -> dict[str, Any]:
    """A query of the server's own for a worker: ``queries/pages/NAME.rq`` with its
    parameters (a resource's description, the completion's terms)."""
    name, params = query
    task = {"op": "query", "page": name, "params": params, "accept": accept, "format": []}
    return {**task, "timeout": timeout}


def _dataset(request: Request, params: list[tuple[str, str]]) -> dict[str, Any]:
    """The protocol's RDF dataset (``default-graph-uri`` / ``named-graph-uri``) for the
    worker: graphs this server holds only, never fetched. This server's own default graph
    may be named too, as <DATASET> or rdflib's ``urn:x-rdflib:default``. With neither
    parameter, the query's FROM / FROM NAMED or the whole default graph apply."""
    held: list[str] = request.app.state.info["graphs"]
    default_names = {DATASET, RDFLIB_DEFAULT_GRAPH}
    defaults = [v for k, v in params if k == "default-graph-uri"]
    named = [v for k, v in params if k == "named-graph-uri"]
    for kind, values in (("default-graph-uri", defaults), ("named-graph-uri", named)):
        for value in values:
            if value in held or (kind == "default-graph-uri" and value in default_names):
                continue
            shown = ", ".join(f"<{g}>" for g in held) or "none"
            raise KhalisError(
                f"{kind} <{value}> is not a graph held by this server (its default graph is "
                f"<{DATASET}>; named graphs held: {shown}); it never loads graphs from "
                "elsewhere"
            )
    if not named and all(v in default_names for v in defaults):
        return {}  # no parameter, or this server's default graph: as without the parameter
    return {
        "default_graphs": [None if v in default_names else v for v in defaults],
        "named_graphs": named,
    }


def _ttl_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a valid Turtle STRING_LITERAL_QUOTE


def service_description(request: Request) -> Response:
    """The SPARQL 1.1 Service Description, negotiated in every RDF format the endpoint
    answers graph queries in (Turtle, N-Triples, JSON-LD, RDF/XML)."""
    accept = request.headers.get("accept")
    offers = [*formats.GRAPH_OFFERS, "text/plain"]
    media = negotiate(accept, offers)
    if media is None:
        raise refusal(
            406, "the service description is available as " + ", ".join(dict.fromkeys(offers))
        )
    ranges = parse_accept(accept)
    if quality(ranges, "text/html") > quality(ranges, media):
        media = "text/plain"  # a browser: show the Turtle instead of downloading it
    endpoint = str(request.url.replace(query=""))
    info = request.app.state.info
    settings = request.app.state.settings
    fmt = "http://www.w3.org/ns/formats/"
    names = "SPARQL_Results_JSON SPARQL_Results_XML SPARQL_Results_CSV SPARQL_Results_TSV"
    result_formats = ", ".join(
        f"<{fmt}{name}>" for name in f"{names} Turtle N-Triples JSON-LD RDF_XML".split()
    )
    named = "".join(
        f" ;\n        sd:namedGraph [ a sd:NamedGraph ; sd:name <{g}> ]" for g in info["graphs"]
    )
    body = f"""@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .

<{endpoint}> a sd:Service ;
    rdfs:label {_ttl_string("khalis-kg SPARQL endpoint (read-only)")}@en ;
    rdfs:comment {
        _ttl_string(
            f"SPARQL 1.1 Query over the khalis-kg knowledge graph. Read-only: SPARQL Update, "
            f"SERVICE and loading other graphs are refused. Each query may run "
            f"{settings.timeout:g} s and return {settings.max_results} results."
        )
    }@en ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:resultFormat {result_formats} ;
    dcterms:hasVersion {_ttl_string(__version__)} ;
    sd:defaultDataset [
        a sd:Dataset ;
        dcterms:source <{DATASET}> ;
        sd:defaultGraph [ a sd:Graph ; void:triples {int(info["triples"])} ]{named}
    ] .
"""
    data = _turtle_as(body.encode(), formats.GRAPH_OFFERS.get(media, "turtle"))
    return Response(data, media_type=media, headers={"Vary": "Accept"})


def _turtle_as(data: bytes, fmt: str) -> bytes:
    """Turtle ``data`` in the RDF format named ``fmt`` (:mod:`khalis_kg.rdfio` names)."""
    if fmt == "turtle":
        return data
    import pyoxigraph as ox

    from ..rdfio import serialize

    return serialize(list(ox.parse(data, ox.RdfFormat.TURTLE)), fmt)


# ------------------------------------------------------------------ /queries


async def list_queries(request: Request) -> Response:
    entries = [{**q, "url": f"/queries/{q['name']}"} for q in request.app.state.info["queries"]]
    return JSONResponse(entries)


async def run_packaged(request: Request) -> Response:
    name = request.path_params["name"]
    params = _pairs(request.url.query)
    values: dict[str, str] = {}
    for key, value in params:
        if key in {"format", "output"}:
            continue
        if key in values:
            raise KhalisError(f"parameter {key!r} was given more than once")
        values[key] = value
    return await _run_task(request, params, {"op": "query", "name": name, "params": values})


# ------------------------------------------------------------------ pages


@functools.cache
def _static_bytes(name: str) -> bytes | None:
    entry = resources.static_dir() / name
    return entry.read_bytes() if entry.is_file() else None


async def index(request: Request) -> Response:
    """The query page (YASGUI): ``index.html`` with the page's configuration (the
    endpoint, the project's prefixes, the graph's classes and properties for completion)
    in a data attribute, read by ``static/app.js``."""
    body = _static_bytes("index.html")
    if body is None:
        raise refusal(404, "the query page is missing from this installation")
    config = {"endpoint": "/sparql", "prefixes": PREFIXES, **request.app.state.terms}
    attribute = esc(json.dumps(config, separators=(",", ":"))).encode()
    body = body.replace(b'data-config=""', b'data-config="' + attribute + b'"', 1)
    return HTMLResponse(body, headers=HTML_HEADERS)


async def _graph_terms(pool: WorkerPool, timeout: float) -> dict[str, list[str]]:
    """The classes and properties the graph declares or uses (``queries/pages/terms.rq``),
    for the query page's completion; none when the query fails (the page still works)."""
    task = _page_task(("terms", {}), "application/sparql-results+json", timeout)
    try:
        payload = await pool.run(task, timeout)
        rows = json.loads(payload["body"])["results"]["bindings"]
    except (KhalisError, ValueError, KeyError, TypeError) as exc:
        log.warning("no classes and properties for the query page's completion: %s", exc)
        rows = []
    terms: dict[str, list[str]] = {"classes": [], "properties": []}
    for row in rows:
        kind = "classes" if row["kind"]["value"] == "class" else "properties"
        terms[kind].append(row["term"]["value"])
    return terms


async def static(request: Request) -> Response:
    name = request.path_params["name"]
    body = _static_bytes(name) if STATIC_NAME.fullmatch(name) else None
    if body is None:
        raise refusal(404, f"no static file {name!r}")
    suffix = "LICENSE" if name.endswith("LICENSE") else name[name.rfind(".") :]
    return Response(
        body, media_type=STATIC_TYPES[suffix], headers={"Cache-Control": "public, max-age=300"}
    )


DOCS_TIMEOUT = 120.0
"""Seconds allowed to generate the ontology's documentation (once per server)."""


async def _docs(request: Request) -> dict[str, bytes] | None:
    """The ontology's documentation files, generated on first use by pyLODE in an
    isolated child of its own (it reads packaged files as it runs, which a query worker
    cannot); None when pyLODE is not installed (the ontology then gets the generic
    resource page)."""
    state = request.app.state
    if getattr(state, "docs", None) is None:
        work: isolation.Work[dict[str, bytes], dict[str, bytes]] = isolation.Work(
            KnowledgeGraph.ontology_docs, lambda files: files, "the ontology's documentation"
        )
        limits = isolation.Limits(DOCS_TIMEOUT, state.settings.memory_limit, lock_descriptors=False)
        try:
            files = await asyncio.to_thread(isolation.run, work, limits)
        except KhalisError as exc:
            log.warning("no ontology documentation: %s", exc)
            if int(getattr(exc, "http_status", 400)) >= 500:
                return None  # busy or timed out: try again on the next request
            state.docs = {}  # pyLODE missing or failing: the generic page, from now on
        else:
            state.docs = {str(k): bytes(v) for k, v in files.items()}
    docs: dict[str, bytes] = state.docs
    return docs or None


def _docs_page(body: bytes) -> bytes:
    """A documentation page as served under /ontology: its relative links made absolute
    (the CSP forbids <base>)."""
    return (
        body.replace(b'href="pylode.css"', b'href="/ontology/docs/pylode.css"')
        .replace(b'href="vocab-', b'href="/ontology/docs/vocab-')
        .replace(b'href="index.html', b'href="/ontology')
    )


async def ontology_doc(request: Request) -> Response:
    """``/ontology/docs/NAME``: a page, the stylesheet or the diagram of the documentation."""
    name = request.path_params["name"]
    docs = await _docs(request)
    if docs is None or name not in docs or name == "index.html":
        raise refusal(404, f"no documentation file {name!r}")
    suffix = name[name.rfind(".") :]
    body = _docs_page(docs[name]) if suffix == ".html" else docs[name]
    return Response(body, media_type=STATIC_TYPES[suffix], headers=HTML_HEADERS)


async def resource(request: Request) -> Response:
    path = request.url.path.lstrip("/")
    if not path.startswith(RESOURCE_ROOTS) or not pages.SAFE_PATH.fullmatch(path):
        raise refusal(404, f"nothing at /{path}")
    iri = ONTOLOGY if path in {"ontology", "ontology/"} else BASE + path
    settings = request.app.state.settings
    params = _pairs(request.url.query)
    fmt = _single(params, "format")
    if fmt is not None:
        media = RESOURCE_FORMAT_PARAM.get(fmt.lower())
        if media is None:
            raise KhalisError(
                f"unknown format {fmt!r}; use one of {', '.join(sorted(RESOURCE_FORMAT_PARAM))}"
            )
    else:
        chosen = negotiate(request.headers.get("accept"), list(RESOURCE_OFFERS))
        if chosen is None:
            raise refusal(406, "this resource is available as " + ", ".join(RESOURCE_OFFERS))
        media = chosen
    if path == "shapes":
        return shapes_document(media)
    pool = request.app.state.pool
    if RESOURCE_OFFERS[media] != "html":
        task = _page_task(pages.construct_query(iri), media, settings.timeout)
        payload = await pool.run(task, settings.timeout)
        if not payload.get("size"):
            raise refusal(404, f"<{iri}> is not described in this knowledge graph")
        return _result_response(payload)
    if iri == ONTOLOGY:  # its HTML is the documentation pyLODE generates
        docs = await _docs(request)
        if docs is not None:
            return HTMLResponse(_docs_page(docs["index.html"]), headers=HTML_HEADERS)
    queries = pages.description_queries(iri)
    reply = await pool.run(
        {"op": "page", "iri": iri, "queries": queries, "timeout": settings.timeout},
        settings.timeout,
    )
    try:
        results = [json.loads(b) for b in reply["bodies"]]
    except (ValueError, TypeError) as exc:
        raise KhalisError(f"unreadable description of <{iri}>") from exc
    description = pages.build_description(iri, results)
    if not description.exists:
        raise refusal(404, f"<{iri}> is not described in this knowledge graph")
    description.diagrams = [(str(k), str(h), str(svg)) for k, h, svg in reply["diagrams"]]
    return HTMLResponse(pages.resource_page(description, path="/" + path), headers=HTML_HEADERS)


def shapes_document(media: str) -> Response:
    """``/shapes``: the SHACL shapes are not in the queried graph; the packaged file in
    the RDF format negotiated as for every resource (Turtle as it is written), or shown
    in an HTML page (``/shapes#Shape`` anchors are the file's)."""
    try:
        body = resources.read_bytes(resources.shapes_file())
    except KhalisError:
        raise refusal(404, "the SHACL shapes are missing from this installation") from None
    fmt = RESOURCE_OFFERS[media]
    if fmt != "html":
        data = _turtle_as(body, fmt)
        return Response(data, media_type=media, headers={"Vary": "Accept"})
    html = pages.page(
        "SHACL shapes",
        f'<h1>SHACL shapes</h1><p class="iri-line"><code>{esc(BASE)}shapes</code></p>'
        '<p class="downloads">As '
        + ", ".join(f'<a href="/shapes?format={k}">{label}</a>' for k, label in pages.RDF_FORMATS)
        + "</p>"
        f'<pre class="turtle">{esc(body.decode("utf-8", "replace"))}</pre>',
    )
    return HTMLResponse(html, headers=HTML_HEADERS)


# ------------------------------------------------------------------ errors


async def khalis_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KhalisError)
    status = int(getattr(exc, "http_status", 400))
    message = str(exc) or type(exc).__name__
    if status >= 500:
        log.warning("%s %s -> %d: %s", request.method, request.url.path, status, message)
    if request.url.path.startswith("/queries"):
        return JSONResponse({"error": {"status": status, "message": message}}, status_code=status)
    accept = request.headers.get("accept") or ""
    html = "html" in accept and negotiate(accept, ["text/plain", "text/html"]) == "text/html"
    if html and not request.url.path.startswith("/sparql"):
        title = {404: "Not found", 406: "Not acceptable"}.get(status, "Error")
        return HTMLResponse(
            pages.message_page(status, title, message), status_code=status, headers=HTML_HEADERS
        )
    return text_error(status, message)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    headers = dict(exc.headers or {})
    messages = {
        404: f"nothing at {request.url.path}",
        405: f"method {request.method} is not allowed here"
        + (f"; allowed: {headers['Allow']}" if "Allow" in headers else ""),
    }
    return text_error(exc.status_code, messages.get(exc.status_code, str(exc.detail)), headers)


async def internal_error(request: Request, exc: Exception) -> Response:
    # Last resort: the traceback goes to the log (Starlette re-raises for the server to
    # log it), the client gets a generic message and never a stack trace.
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return text_error(500, "internal server error (see the server log)")


# ------------------------------------------------------------------ app


async def _log_summaries() -> None:
    """Every second, one line for each kind of log record that was repeated (see
    :class:`guard.RepeatFilter`)."""
    while True:
        await asyncio.sleep(1.0)
        guard.emit_summaries()


def security_headers(app: ASGIApp) -> ASGIApp:
    """``X-Content-Type-Options`` and ``Referrer-Policy`` on every response."""

    async def with_headers(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(SECURITY_HEADERS)
            await send(message)

        await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    return with_headers


@contextlib.asynccontextmanager
async def running(app: Starlette, settings: Settings) -> AsyncIterator[None]:
    """The graph loaded (once, in this process) and the query workers forked from it
    and asked for the graph's figures, for as long as the context lasts; a failure to
    start is the KhalisError that caused it (the data unreadable, the remote store
    failing)."""
    asyncio.get_running_loop().set_exception_handler(guard.loop_exception_handler)
    started = time.monotonic()
    kg = await _load(settings)
    prepare(kg)  # what the locked workers' tasks read or import, once for all of them
    pool = WorkerPool(
        _forker(kg, settings),
        settings.workers,
        memory=settings.memory_limit,
        queue_timeout=settings.queue_timeout,
    )
    await pool.start()
    summaries = asyncio.get_running_loop().create_task(_log_summaries())
    try:
        with _start_up():  # the first question to the graph (a store opens in the worker)
            app.state.info = await pool.run({"op": "info"}, 120.0)
        app.state.terms = await _graph_terms(pool, settings.timeout)
        app.state.pool = pool
        app.state.settings = settings
        log.info(
            "%d query workers ready in %.1f s (%d triples, %d packaged queries)",
            settings.workers,
            time.monotonic() - started,
            app.state.info["triples"],
            len(app.state.info["queries"]),
        )
        yield
    finally:
        summaries.cancel()
        await pool.close()
        guard.emit_summaries()


async def _load(settings: Settings) -> KnowledgeGraph:
    """The graph, loaded once in the server process; its query workers are forked
    from it (see :mod:`khalis_kg.server.pool`).

    Files are read first in an isolated child with the memory limit, as a command
    line verb reads them (:mod:`khalis_kg.isolation`: reading may add the limit to
    what the process maps): a file that would exhaust the memory, or crash the parser,
    ends there in one line (exit 4 or 5), not in the server killed by the system. Only
    then are they read here, where the same reading needs the same memory.

    The trial runs in the loop's thread (nothing else runs yet) with Python's own
    Ctrl-C, which kills the child at once (KeyboardInterrupt: exit 130); asyncio's
    would only cancel the task, and a thread cannot be stopped, once the read ended."""

    def load() -> KnowledgeGraph:
        if settings.store is not None:  # opened by each worker (_forker): an empty graph
            return KnowledgeGraph.load([])
        if settings.backend == "remote" and settings.endpoint is not None:
            return KnowledgeGraph.connect(
                settings.endpoint,
                graph=settings.remote_graph,
                timeout=settings.remote_timeout,
                request=settings.remote_request,
            )
        return KnowledgeGraph.load(
            list(settings.data) if settings.data else None,
            backend=settings.backend,
            with_ontology=settings.with_ontology,
            named_graphs=graph_files(settings.named_graphs) or None,
        )

    with _start_up():
        if settings.store is None and settings.backend != "remote":
            work = isolation.Work(load, len, "loading the data")
            limits = isolation.Limits(memory=settings.memory_limit, lock_descriptors=False)
            with _python_ctrl_c():
                isolation.run(work, limits)
        return load()


@contextlib.contextmanager
def _start_up() -> Iterator[None]:
    """A KhalisError raised meanwhile is itself (its exit code), said to be the start-up's."""
    try:
        yield
    except KhalisError as exc:
        exc.args = (f"cannot load the knowledge graph: {exc}", *exc.args[1:])
        raise


def _forker(kg: KnowledgeGraph, settings: Settings) -> Callable[[], isolation.Worker]:
    """How a query worker is made: forked from the server, which holds the graph.

    With ``--store`` the server never opens the store: each worker opens it, read-only,
    once forked. A process that has opened an on-disk store runs RocksDB's threads, and
    a child forked while one of them holds a process-wide lock of RocksDB's waits on it
    for ever when it reads or opens a store (seen once: 6 minutes); a server that never
    opened one has no such thread. Cost: each worker reads the store through a
    checkpoint of its own (``open_store``): its first answer comes 0.25 to 0.38 s later
    than from a worker forked with the store open (packaged graph, load average 18)."""
    if settings.store is None:
        serve = functools.partial(handle, kg, max_results=settings.max_results)
        return lambda: kg.fork_worker(serve, settings.memory_limit)
    store = settings.store
    opened: list[KnowledgeGraph] = []  # in each worker, its own

    def ready() -> None:
        opened.append(KnowledgeGraph.open_store(store))  # outside the limit, as a graph
        prepare(opened[0])

    limits = isolation.Limits(memory=settings.memory_limit, keep_descriptors=True)
    return lambda: isolation.fork_worker(
        lambda task: handle(opened[0], task, settings.max_results), limits, ready=ready
    )


@contextlib.contextmanager
def _python_ctrl_c() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt meanwhile, where a Python handler (asyncio's)
    has it: in the main thread, not ignored."""
    previous = signal.getsignal(signal.SIGINT)
    ours = callable(previous) and threading.current_thread() is threading.main_thread()
    if ours:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if ours:
            signal.signal(signal.SIGINT, previous)


def create_app(settings: Settings | None = None) -> Starlette:
    """The ASGI application; its lifespan starts and stops the query workers
    (:func:`running`, which ``serve`` enters itself before it listens)."""
    routes = [
        Route("/", index, methods=["GET"]),
        Route("/sparql", sparql_endpoint, methods=["GET", "POST"]),
        Route("/queries", list_queries, methods=["GET"]),
        Route("/queries/{name:str}", run_packaged, methods=["GET"]),
        Route("/static/{name:path}", static, methods=["GET"]),
        Route("/ontology/docs/{name:str}", ontology_doc, methods=["GET"]),
        Route("/{path:path}", resource, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(security_headers),
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["GET", "POST"],
                allow_headers=["Accept", "Content-Type"],
                max_age=600,
            ),
        ],
        exception_handlers={
            KhalisError: khalis_error,
            HTTPException: http_error,
            Exception: internal_error,
        },
        lifespan=functools.partial(running, settings=settings or Settings()),
    )

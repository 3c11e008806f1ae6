"""The query worker: a child process that owns one loaded :class:`KnowledgeGraph`.

Neither pyoxigraph nor rdflib can be interrupted from Python in the middle of a
query, so the HTTP server never runs a query in its own process. It sends a task
to a worker over a pipe and waits for the reply with a deadline; a worker that
misses its deadline is killed and replaced (see :mod:`khalis_kg.server.pool`).

Tasks and replies are plain tuples and dicts of built-in types, so nothing but
strings and bytes cross the process boundary (exceptions are not pickled: some
carry constructor arguments that do not survive a round trip).
"""

from __future__ import annotations

import gc
import logging
import signal
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from . import formats

if TYPE_CHECKING:
    from ..api import KnowledgeGraph

log = logging.getLogger("khalis_kg.server.worker")

Reply = tuple[Any, ...]
"""``("ok", payload)`` or ``("error", http_status, message, exit_code)``."""


@dataclass(frozen=True)
class WorkerConfig:
    data: tuple[str, ...] | None
    backend: str
    with_ontology: bool
    max_results: int
    memory_limit_mb: int | None
    endpoint: str | None = None
    """The SPARQL query URL of the store, for the remote backend."""
    named_graphs: tuple[tuple[str, str], ...] = ()
    """``(graph IRI, file)`` pairs loaded as named graphs."""
    remote_graph: str | None = None
    """The graph of the store that holds the data, for the remote backend."""
    remote_timeout: float | None = None
    """Seconds for each HTTP exchange with the store, whole (None: 30)."""
    store: str | None = None
    """An on-disk Oxigraph store each worker opens read-only, in place of ``data``."""


def _limit_memory(megabytes: int | None) -> None:
    if not megabytes:
        return
    import resource

    limit = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    except (ValueError, OSError) as exc:  # a hard limit lower than ours, or no permission
        log.warning("could not limit worker memory to %d MiB: %s", megabytes, exc)


def _no_core_dumps() -> None:
    """A crashing engine must not leave a core file of the graph's size behind."""
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as exc:
        log.warning("could not turn off core dumps: %s", exc)


def _error(status: int, message: str, exit_code: int = 2) -> Reply:
    """An error reply: the HTTP status, the message, and the command line's exit code
    (for a failure to start: ``serve`` exits with it)."""
    return ("error", status, message, exit_code)


def _count(rows: list[dict[str, Any]]) -> int:
    """The one integer of a COUNT query's answer (a remote store may answer anything:
    RemoteAnswerError, exit 6 at start-up)."""
    from ..errors import RemoteAnswerError

    if len(rows) != 1 or "n" not in rows[0] or not str(rows[0]["n"].value).isdigit():
        raise RemoteAnswerError(
            "the store's answer to the triple count is not one non-negative integer"
        )
    return int(rows[0]["n"].value)


def _too_many(max_results: int) -> Reply:
    return _error(
        503,
        f"the query produced more than {max_results} results (this server's limit); "
        "add a LIMIT or narrow the query",
    )


def _size(result: Any) -> int:
    if result.form == "graph":
        return len(result.triples)
    if result.form == "select":
        return len(result.rows)
    return 1


def _serialize(result: Any, accept: str | None, format_params: list[str]) -> Reply:
    chosen = formats.choose(result.form, accept, format_params)
    if chosen is None:
        offered = ", ".join(dict.fromkeys(formats.offers_for(result.form)))
        kind = "an RDF graph" if result.form == "graph" else "SPARQL results"
        return _error(406, f"this query gives {kind}; available media types: {offered}")
    media_type, fmt = chosen
    body, _ = result.serialize(fmt)
    payload = {"body": body, "media_type": media_type, "form": result.form, "size": _size(result)}
    return ("ok", payload)


def _catalogue(kg: KnowledgeGraph) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for info in kg.queries():
        entry = dict(info.to_dict())
        entry["text"] = info.text
        entries.append(_jsonable(entry))
    return entries


def _jsonable(value: Any) -> Any:
    """Plain JSON-ready data from dataclasses, tuples, paths and the like."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if hasattr(value, "__dataclass_fields__"):
        import dataclasses

        return _jsonable(dataclasses.asdict(value))
    return str(value)


def _sparql(
    kg: KnowledgeGraph,
    text: str,
    timeout: float,
    max_results: int,
    task: dict[str, Any] | None = None,
) -> Any:
    """``kg.sparql`` with the time limit and the result cap applied while results stream,
    and the task's base IRI and protocol dataset."""
    task = task or {}
    return kg.sparql(
        text,
        timeout=timeout,
        max_rows=max_results,
        base=task.get("base"),
        default_graphs=task.get("default_graphs"),
        named_graphs=task.get("named_graphs"),
    )


def handle(kg: KnowledgeGraph, task: dict[str, Any], config: WorkerConfig) -> Reply:
    """Run one task; every failure the library raises on purpose becomes an error reply."""
    from ..errors import KhalisError

    op = task["op"]
    try:
        if op == "ping":
            return ("ok", None)
        if op == "info":
            count = kg.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=60.0)
            graphs = kg.sparql("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", timeout=60.0)
            return (
                "ok",
                {
                    "queries": _catalogue(kg),
                    "triples": _count(count.rows),
                    "graphs": sorted(
                        {str(row["g"]) for row in graphs.to_python() if "g" in row}
                        | kg.backend.graph_names()
                    ),
                },
            )
        if op in {"sparql", "query"}:
            if op == "sparql":
                result = _sparql(kg, task["text"], task["timeout"], config.max_results, task)
            else:
                result = kg.query(task["name"], **task["params"])
            if _size(result) > config.max_results:
                return _too_many(config.max_results)
            return _serialize(result, task.get("accept"), task.get("format") or [])
        if op == "batch":
            # Several queries for one page, answered as SPARQL JSON / N-Triples bodies.
            bodies: list[bytes] = []
            for text in task["texts"]:
                result = _sparql(kg, text, task["timeout"], config.max_results)
                if _size(result) > config.max_results:
                    return _too_many(config.max_results)
                fmt = "nt" if result.form == "graph" else "json"
                bodies.append(result.serialize(fmt)[0])
            return ("ok", bodies)
        if op == "docs":
            # The ontology's documentation (pyLODE): generated once, cached by the server.
            return ("ok", kg.ontology_docs())
        if op == "page":
            # A resource page: its description queries and the diagrams that belong on it.
            from .pages import href

            bodies = []
            for text in task["texts"]:
                result = _sparql(kg, text, task["timeout"], config.max_results)
                if _size(result) > config.max_results:
                    return _too_many(config.max_results)
                bodies.append(result.serialize("nt" if result.form == "graph" else "json")[0])
            pictures = kg.diagrams_for(task["iri"], link=href, timeout=task["timeout"])
            return ("ok", {"bodies": bodies, "diagrams": [list(d) for d in pictures]})
        return _error(500, f"unknown worker task {op!r}")
    except KhalisError as exc:
        return _error(exc.http_status, str(exc), exc.exit_code)
    except MemoryError:
        return _error(503, "the query needed more memory than this server allows")
    except RecursionError:
        return _error(400, "the query is nested too deeply")


def worker_main(conn: Connection, config: WorkerConfig, stderr: Connection | None = None) -> None:
    """Entry point of a worker process: load the graph, then answer tasks until EOF.

    ``stderr`` is the write end of a pipe to the server, which becomes this process's
    file descriptor 2: what the engine writes there as it dies (a Rust panic, "memory
    allocation of N bytes failed") tells the server why it died.
    """
    import os

    from ..errors import KhalisError

    if stderr is not None:
        os.dup2(stderr.fileno(), 2)
        stderr.close()

    # Ctrl-C in a terminal reaches the whole process group: the parent decides when
    # workers stop (it closes their pipes), so a worker ignores SIGINT.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _no_core_dumps()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _limit_memory(config.memory_limit_mb)
    try:
        from ..api import KnowledgeGraph

        if config.store is not None:
            kg = KnowledgeGraph.open_store(config.store)
        else:
            kg = KnowledgeGraph.load(
                list(config.data) if config.data else None,
                backend=config.backend,
                with_ontology=config.with_ontology,
                store=config.endpoint if config.backend == "remote" else None,
                named_graphs=dict(config.named_graphs) or None,
                remote_graph=config.remote_graph if config.backend == "remote" else None,
                timeout=config.remote_timeout if config.backend == "remote" else None,
            )
        # The graph lives as long as the worker: the collector need not scan it at every
        # full collection (a memory-backend graph is ~7 objects a triple).
        gc.freeze()
        conn.send(("ready", None))
    except KhalisError as exc:
        message = f"cannot load the knowledge graph: {exc}"
        conn.send(_error(exc.http_status, message, exc.exit_code))
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = handle(kg, task, config)
        except Exception:
            log.exception("unexpected error in a query worker")
            reply = _error(500, "internal server error (see the server log)")
        try:
            conn.send(reply)
        except (BrokenPipeError, OSError):
            return

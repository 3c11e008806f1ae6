"""The tasks of a query worker (:mod:`khalis_kg.server.pool`): what one request asks
of the loaded :class:`KnowledgeGraph`, run in a worker process, never in the server's.

A task is a dict of built-in types; :func:`handle` returns built-in types (bodies as
bytes, media types, counts) or raises a :class:`KhalisError` carrying its HTTP status,
which comes back to the server as itself (it pickles).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import results
from ..errors import KhalisError, RemoteAnswerError
from . import formats

if TYPE_CHECKING:
    from ..api import KnowledgeGraph


def refusal(status: int, message: str) -> KhalisError:
    """The error that answers a request with HTTP ``status`` and ``message``."""
    error = KhalisError(message)
    error.http_status = status
    return error


def _serialize(result: Any, accept: str | None, format_params: list[str]) -> dict[str, Any]:
    chosen = formats.choose(result.form, accept, format_params)
    if chosen is None:
        offered = ", ".join(formats.offers_for(result.form))
        kind = "an RDF graph" if result.form == "graph" else "SPARQL results"
        raise refusal(406, f"this query gives {kind}; available media types: {offered}")
    media_type, fmt = chosen
    body, _ = result.serialize(fmt)
    # a graph's triples (an empty description is a 404); a SELECT answer's rows are not
    # counted: one written by the engine would be read to count them
    size = len(result.triples) if result.form == "graph" else None
    return {"body": body, "media_type": media_type, "form": result.form, "size": size}


def _writing(accept: str | None, format_params: list[str]) -> str | None:
    """The format a SELECT answer to this request is sent in (what engines may write
    themselves: :data:`~khalis_kg.results.WRITING`)."""
    chosen = formats.choose("select", accept, format_params)
    return None if chosen is None else chosen[1]


def _internal(kg: KnowledgeGraph, task: dict[str, Any], query: Any, max_results: int) -> Any:
    """``queries/pages/NAME.rq`` with its parameters (one of a resource page's queries)
    with the task's time limit and the result cap (applied as results stream)."""
    name, params = query
    return kg.internal("pages", name, params, timeout=task["timeout"], max_rows=max_results)


def prepare(kg: KnowledgeGraph) -> None:
    """Read and import, once in the server before its workers are forked, what the
    tasks need: a worker can open no file (it is locked as the command line's query
    children are, :mod:`khalis_kg.isolation`)."""
    from .. import diagrams  # noqa: F401 - a page's pictures
    from ..api import INTERNAL, preload_output

    kg.decide("ASK {}")  # the query verifier's grammar
    kg.queries()  # every packaged query file, and the internal ones (pictures, pages)
    for folder in INTERNAL:
        list(kg.internal_queries(folder))
    preload_output("json-ld")  # every results and graph writer


def handle(kg: KnowledgeGraph, task: dict[str, Any], max_results: int) -> Any:
    """Run one task: its answer, or a KhalisError carrying its HTTP status."""
    op = task["op"]
    if op == "info":
        triples = kg.sparql("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", timeout=60.0).count()
        graphs = kg.sparql("SELECT DISTINCT ?g WHERE { GRAPH ?g { } }", timeout=60.0)
        if triples is None:  # a remote store may answer anything: exit 6 at start-up
            raise RemoteAnswerError(
                "the store's answer to the triple count is not one non-negative integer"
            )
        return {
            "queries": [{**info.to_dict(), "text": info.text} for info in kg.queries()],
            "triples": int(triples),
            "graphs": sorted(
                {str(row["g"]) for row in graphs.to_python() if "g" in row}
                | kg.backend.graph_names()
            ),
        }
    if op in {"sparql", "query"}:
        accept, format_params = task.get("accept"), task.get("format") or []
        # the time limit and the result cap applied as results stream
        writing, results.WRITING = results.WRITING, _writing(accept, format_params)
        try:
            if op == "sparql":
                result = kg.sparql(
                    task["text"],
                    timeout=task["timeout"],
                    max_rows=max_results,
                    base=task.get("base"),
                    default_graphs=task.get("default_graphs"),
                    named_graphs=task.get("named_graphs"),
                )
            elif "page" in task:  # one of a resource page's queries
                result = _internal(kg, task, (task["page"], task["params"]), max_results)
            else:
                limits = {"timeout": task["timeout"], "max_rows": max_results}
                result = kg.query(task["name"], task["params"], **limits)
        finally:
            results.WRITING = writing
        return _serialize(result, accept, format_params)
    if op == "page":
        # A resource page: its description queries and the diagrams that belong on it.
        from .pages import href

        bodies = [
            _internal(kg, task, query, max_results).serialize("json")[0]
            for query in task["queries"]
        ]
        pictures = kg.diagrams_for(task["iri"], link=href, timeout=task["timeout"])
        return {"bodies": bodies, "diagrams": [list(d) for d in pictures]}
    raise refusal(500, f"unknown worker task {op!r}")

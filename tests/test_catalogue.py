"""The query catalogue: header parsing, parameter typing, suggestions, packaged queries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from helpers import EVENT

from khalis_kg import KnowledgeGraph
from khalis_kg.catalogue import Catalogue, Parameter, QueryInfo, coerce, parse_query_file
from khalis_kg.errors import InputError, ParameterError, QueryError, UnknownQueryError
from khalis_kg.safety import projection
from khalis_kg.terms import XSD_DATE, XSD_INTEGER, Term

HEADER = f"""\
# title: Casualties by group
# question: How many people died in the break, by group, and how certain is each number?
# param: event iri = {EVENT} -- the event to report on
# param: since date -- first day
# param: top integer = 5
# columns: group, outcome, qualifier, value, minValue, exclusiveMinValue, statedAs
PREFIX kg: <https://w3id.org/khalis-kg/ontology#>
SELECT ?event ?since ?top ?group WHERE {{ ?event kg:x ?group }}
"""

PACKAGED = Catalogue.load()


def test_header_is_parsed() -> None:
    info = parse_query_file("casualties", HEADER)
    assert info.name == "casualties"
    assert info.title == "Casualties by group"
    assert info.question.startswith("How many people died in the break, by group")
    assert info.columns == (
        "group",
        "outcome",
        "qualifier",
        "value",
        "minValue",
        "exclusiveMinValue",
        "statedAs",
    )
    assert info.form == "select"
    assert info.parameters == (
        Parameter("event", "iri", EVENT, "the event to report on"),
        Parameter("since", "date", None, "first day"),
        Parameter("top", "integer", "5", ""),
    )
    assert [p.required for p in info.parameters] == [False, True, False]
    assert not info.is_check


@pytest.mark.parametrize(
    ("text", "form"),
    [
        (
            "# title: x\nPREFIX a: <http://a/>\nCONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }",
            "construct",
        ),
        ("# a comment with select in it\nASK { ?s ?p ?o }", "ask"),
        ("describe <http://a/b>", "describe"),
        ('SELECT ("CONSTRUCT" AS ?x) {}', "select"),
    ],
)
def test_form_comes_from_the_query_text(text: str, form: str) -> None:
    assert parse_query_file("q", text).form == form


def test_bad_param_line_is_an_input_error() -> None:
    with pytest.raises(InputError, match="bad param line 'event uri'"):
        parse_query_file("q", "# param: event uri\nSELECT * {}")


def test_example_catalogue(test_catalogue: Catalogue) -> None:
    assert test_catalogue.names() == [
        "construct-event",
        "event-quantities",
        "events-on-day",
        "unlabelled-event-violation",
    ]
    assert [q.form for q in test_catalogue.list()] == ["construct", "select", "select", "select"]
    assert [q.is_check for q in test_catalogue.list()] == [False, False, False, True]


def test_unknown_name_suggests_close_names(test_catalogue: Catalogue) -> None:
    with pytest.raises(UnknownQueryError) as info:
        test_catalogue.get("event-quantity")
    assert info.value.suggestions[0] == "event-quantities"
    assert "Did you mean: event-quantities" in str(info.value)
    with pytest.raises(UnknownQueryError) as info:
        test_catalogue.get("zzzzzzzz")
    assert info.value.suggestions == []


@pytest.mark.parametrize(
    ("type_", "value", "term"),
    [
        ("iri", EVENT, Term.iri(EVENT)),
        ("string", "en", Term.literal("en")),
        ("integer", "042", Term.literal("42", XSD_INTEGER)),
        ("integer", 7, Term.literal("7", XSD_INTEGER)),
        ("date", "2015-05-08", Term.literal("2015-05-08", XSD_DATE)),
        ("date", dt.date(2015, 5, 8), Term.literal("2015-05-08", XSD_DATE)),
    ],
)
def test_parameter_values_are_typed(type_: str, value: object, term: Term) -> None:
    assert coerce("p", type_, value) == term


@pytest.mark.parametrize(
    ("type_", "value", "message"),
    [
        ("iri", "not an iri", "parameter 'p' must be an absolute IRI"),
        ("iri", "http://a/> } ; DROP ALL #", "parameter 'p' must be an absolute IRI"),
        ("iri", 5, "parameter 'p' must be an absolute IRI"),
        ("integer", "4.5", "parameter 'p' must be an integer"),
        ("integer", True, "parameter 'p' must be an integer"),
        ("date", "8 May 2015", r"parameter 'p' must be a date \(YYYY-MM-DD\)"),
        ("date", "2015-5-8", r"parameter 'p' must be a date \(YYYY-MM-DD\)"),
        ("string", 3, "parameter 'p' must be a string"),
    ],
)
def test_ill_typed_parameters_are_refused(type_: str, value: object, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        coerce("p", type_, value)


def test_bind_missing_unknown_and_default(test_catalogue: Catalogue) -> None:
    info = test_catalogue.get("events-on-day")
    with pytest.raises(ParameterError, match=r"needs parameter 'day' \(date\)"):
        info.bind({})
    with pytest.raises(ParameterError, match=r"has no parameter 'dya' \(parameters: day, lang\)"):
        info.bind({"day": "2015-05-08", "dya": "x"})
    assert info.bind({"day": "2015-05-08"}) == {
        "day": Term.literal("2015-05-08", XSD_DATE),
        "lang": Term.literal("en"),
    }


def test_parameters_must_be_projected() -> None:
    info = parse_query_file("q", "# param: event iri\nSELECT ?x WHERE { ?event ?p ?x }")
    with pytest.raises(QueryError, match=r"must list its parameter\(s\) \?event in its SELECT"):
        info.bind({"event": EVENT})
    assert projection("SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a ?b ?c }") == ["a", "n"]
    assert projection("SELECT DISTINCT * WHERE { ?a ?b ?c }") is None


def test_to_dict(test_catalogue: Catalogue) -> None:
    assert test_catalogue.get("events-on-day").to_dict() == {
        "name": "events-on-day",
        "title": "Events on a day",
        "question": "Which events does the article date to a given day?",
        "form": "select",
        "columns": ["day", "lang", "event", "label"],
        "check": False,
        "parameters": [
            {
                "name": "day",
                "type": "date",
                "default": None,
                "required": True,
                "description": "the day (YYYY-MM-DD)",
            },
            {
                "name": "lang",
                "type": "string",
                "default": "en",
                "required": False,
                "description": "language of the labels",
            },
        ],
    }


def test_packaged_catalogue_loads_from_the_package() -> None:
    files = sorted(p.stem for p in (Path(__file__).parents[1] / "queries").glob("*.rq"))
    assert PACKAGED.names() == files


# --- every packaged query (the list grows as queries/*.rq are written) -------------------


def _runnable(info: QueryInfo) -> bool:
    return all(not p.required for p in info.parameters)


@pytest.mark.parametrize("name", PACKAGED.names())
def test_packaged_query_header_is_complete(name: str) -> None:
    info = PACKAGED.get(name)
    assert info.title
    assert info.title != name
    assert "?" in info.question  # a question, possibly followed by a note
    assert info.form == ("construct" if name.startswith("construct-") else info.form)
    if info.form == "select":
        assert info.columns, "a SELECT query declares its columns"
        info.check_projection()


@pytest.mark.parametrize("name", [q.name for q in PACKAGED if _runnable(q)])
def test_packaged_query_columns_and_checks(name: str, kg: KnowledgeGraph) -> None:
    info = PACKAGED.get(name)
    result = kg.query(name)
    if info.form == "select":
        assert tuple(result.variables) == info.columns
    if info.is_check:
        assert result.rows == [], f"quality check {name} found problems"


def test_open_reads_only_the_query_asked_for(tmp_path: Path) -> None:
    (tmp_path / "one.rq").write_text("# title: One\nSELECT ?x WHERE { ?x ?p ?o }\n", "utf-8")
    (tmp_path / "bad.rq").write_text("# param: x nonsense\nSELECT * {}\n", "utf-8")
    catalogue = Catalogue.open(tmp_path)
    assert catalogue.get("one").title == "One"  # bad.rq is not read
    with pytest.raises(UnknownQueryError) as info:
        catalogue.get("onee")
    assert info.value.suggestions == ["one"]
    for name in ("../one", "one.rq", "", "/etc/passwd"):
        with pytest.raises(UnknownQueryError):
            catalogue.get(name)
    with pytest.raises(InputError):  # listing reads every file
        catalogue.names()


def test_open_and_load_agree() -> None:
    lazy = Catalogue.open()
    assert lazy.get("casualties") == PACKAGED.get("casualties")
    assert lazy.names() == PACKAGED.names()
    assert lazy.list() == PACKAGED.list()


def test_internal_queries_are_not_listed_and_have_complete_headers() -> None:
    """``queries/FOLDER/`` holds the queries khalis-kg runs for itself (api.INTERNAL):
    `khalis-kg queries` and the server's /queries list only ``queries/*.rq``."""
    from khalis_kg import api, resources

    root = Path(__file__).parents[1] / "queries"
    assert sorted(p.name for p in root.iterdir() if p.is_dir()) == sorted(api.INTERNAL)
    assert PACKAGED.names() == sorted(p.stem for p in root.glob("*.rq"))
    for folder in api.INTERNAL:
        for info in Catalogue.load(resources.queries_dir() / folder):
            assert info.title != info.name, (folder, info.name)
            assert "?" in info.question, (folder, info.name)
            if info.form == "select":
                assert info.columns, (folder, info.name)
                info.check_projection()

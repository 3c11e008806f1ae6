"""Tables in a terminal: fitted to its width, columns picked, language tags on request."""

from __future__ import annotations

import pytest
from helpers import invoke
from hypothesis import given, settings
from hypothesis import strategies as st

from khalis_kg.errors import ParameterError
from khalis_kg.results import QueryResult, select_columns, to_table
from khalis_kg.terms import Term
from khalis_kg.validation import ValidationReport, ValidationResult, constraint_name

WIDE = ["accounts", "people-and-roles", "escapees", "casualties", "timeline", "evidence"]


def run(*args: str) -> str:
    result = invoke(args, env={"COLUMNS": "100"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", WIDE)
def test_packaged_tables_fit_100_columns(name: str) -> None:
    out = run("query", name)
    assert max(len(line) for line in out.splitlines()) <= 100
    assert "@en" not in out


def test_columns_sets_the_default_width() -> None:
    out = invoke(["query", "escapees"], env={"COLUMNS": "80"}).output
    assert max(len(line) for line in out.splitlines()) == 80


@pytest.mark.parametrize("width", ["80", "120"])
def test_tables_fit_the_width_asked(width: str) -> None:
    out = run("query", "accounts", "--width", width)
    assert max(len(line) for line in out.splitlines()) <= int(width)


def test_too_many_columns_become_records() -> None:
    out = run("query", "accounts", "--width", "80").splitlines()
    assert out[0].startswith("-[ RECORD 1 ]")
    claim = next(line for line in out if line.startswith("claimLabel"))
    # long values are wrapped, not cut: the rest of the label is on the next line
    assert claim.split("| ", 1)[1].startswith("Amaq: ISIL militants broke into the prison")
    assert out[-1] == "(10 rows)"


def test_columns_picks_and_orders() -> None:
    out = run("query", "accounts", "-c", "claimantLabel,channelLabel", "--width", "0")
    lines = out.splitlines()
    assert lines[0].split() == ["claimantLabel", "channelLabel"]
    assert lines[2].split("  ")[0] == "Amaq News Agency"
    csv = run("query", "accounts", "--columns", "claimant", "--format", "csv")
    assert csv.splitlines()[0] == "claimant"


def test_columns_unknown_is_a_usage_error() -> None:
    result = invoke(["query", "accounts", "--columns", "nope"])
    assert result.exit_code == 2
    assert "no column 'nope'" in result.output
    assert "claimLabel" in result.output


def test_sparql_has_the_same_options() -> None:
    query = (
        "SELECT ?l WHERE { ?p a <http://xmlns.com/foaf/0.1/Person> ; "
        "<http://www.w3.org/2000/01/rdf-schema#label> ?l } ORDER BY ?l"
    )
    plain = run("sparql", query, "-c", "l")
    assert plain.splitlines()[2] == "Ahmed al-Timimi"
    tagged = run("sparql", query, "--lang")
    assert tagged.splitlines()[2] == "Ahmed al-Timimi@en"


def test_cells_cut_with_an_ellipsis() -> None:
    long = Term.literal("x" * 200)
    result = QueryResult("select", ["a", "b"], [{"a": long, "b": Term.literal("short")}])
    lines = to_table(result, width=40).splitlines()
    assert lines[2].endswith("short")
    assert "…" in lines[2]
    assert max(map(len, lines)) <= 40
    assert select_columns(result, ["b"]).variables == ["b"]


@settings(max_examples=50, derandomize=True, deadline=None)
@given(
    spec=st.lists(st.sampled_from(["", " ", "\t", "?", " ? ", "\u00a0", "?\n"]), min_size=1).map(
        ",".join
    )
)
def test_columns_that_name_no_column_are_refused(spec: str) -> None:
    """``-c ''``, ``-c ,``, ``-c ' ? '``...: no column named is an error, not a table of
    empty rows with exit 0."""
    result = QueryResult("select", ["a"], [{"a": Term.literal("x")}])
    with pytest.raises(ParameterError, match=r"^--columns names no column \(columns: a\)$"):
        select_columns(result, spec.split(","))


def test_columns_empty_on_the_command_line() -> None:
    done = invoke(["query", "casualties", "-c", ""])
    assert (done.exit_code, done.stdout) == (2, "")
    assert done.stderr.startswith("khalis-kg: error: --columns names no column (columns: event,")


def test_validate_groups_results_and_names_constraints() -> None:
    def r(component: str, message: str = "must be a date") -> ValidationResult:
        return ValidationResult(
            "event:x", "sem:hasTimeStamp", "Violation", message, "kgsh:EventShape",
            '"8 May 2015"', component, "bad.ttl",
        )  # fmt: skip

    report = ValidationReport(
        False,
        [
            r("sh:DatatypeConstraintComponent"),
            r("sh:MinInclusiveConstraintComponent"),
            r("sh:PatternConstraintComponent", "looks wrong"),
        ],
    )
    assert report.text.splitlines()[1:] == [
        'bad.ttl: focus event:x path sem:hasTimeStamp value "8 May 2015": 3 results',
        "  Violation: must be a date [sh:datatype, sh:minInclusive in kgsh:EventShape]",
        "  Violation: looks wrong [sh:pattern in kgsh:EventShape]",
    ]
    assert constraint_name("sh:SPARQLConstraintComponent") == "sh:sparql"
    one = ValidationReport(False, [r("sh:DatatypeConstraintComponent")])
    assert one.text.splitlines()[1].endswith("must be a date [sh:datatype in kgsh:EventShape]")

"""check-source: the graph notices when its article changes.

Each test makes a perturbed copy of the article (a paragraph inserted, a section moved,
a number reworded, a sentence deleted, straight quotes made curly, several edits at
once, a sentence duplicated elsewhere) and checks every span's status and new offsets,
exactly which statements are flagged for review, and that ``-o`` writes a valid graph on
moves and nothing on edits. The expected statuses and offsets are computed here from
the article and the edit, and the statements to review from the data file read with
rdflib, independently of the SPARQL the command runs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO, invoke
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import RDF, Graph, Namespace, URIRef

from khalis_kg import KnowledgeGraph
from khalis_kg.sourcecheck import CONTEXT, context, sha256

ARTICLE = (REPO / "data" / "source" / "2015_Al_Khalis_prison_break.txt").read_text("utf-8")
ID = "https://w3id.org/khalis-kg/id/"
OA = Namespace("http://www.w3.org/ns/oa#")
PROV = Namespace("http://www.w3.org/ns/prov#")
DATA = Graph().parse(REPO / "data" / "khalis.ttl")


def _spans() -> dict[str, tuple[str, int, int]]:
    out = {}
    for span in DATA.subjects(RDF.type, OA.SpecificResource):
        exact, start, end = "", -1, -1
        for sel in DATA.objects(span, OA.hasSelector):
            if (sel, RDF.type, OA.TextQuoteSelector) in DATA:
                exact = str(DATA.value(sel, OA.exact))
            else:
                start, end = int(DATA.value(sel, OA.start)), int(DATA.value(sel, OA.end))
        out[str(span).rsplit("/", 1)[1]] = (exact, start, end)
    return out


SPANS = _spans()
SENTENCE = {slug: exact for slug, (exact, _, _) in SPANS.items()}


def review_expected(lost: set[str]) -> set[str]:
    """The statements whose every sentence is lost, and the inferred ones whose
    inference used a lost sentence (read from the data file with rdflib)."""
    out = set()
    for statement in DATA.subjects(RDF.type, RDF.Statement):
        said = {str(s).rsplit("/", 1)[1] for s in DATA.objects(statement, PROV.wasDerivedFrom)}
        used = {
            str(s).rsplit("/", 1)[1]
            for inference in DATA.objects(statement, PROV.wasGeneratedBy)
            for s in DATA.objects(inference, PROV.used)
        }
        if (said and said <= lost) or (used & lost):
            out.add(str(statement))
    return out


@pytest.fixture(scope="module")
def kg() -> Iterator[KnowledgeGraph]:
    graph = KnowledgeGraph.load()
    yield graph
    graph.close()


def check(kg: KnowledgeGraph, text: str, tmp_path: Path) -> Any:
    path = tmp_path / "article.txt"
    path.write_text(text, encoding="utf-8", newline="")
    return kg.check_source(path)


def statuses(report: Any) -> dict[str, str]:
    return {s.span.rsplit("/", 1)[1]: s.status for s in report.spans}


def assert_moved_exactly(report: Any, text: str) -> None:
    """Every span unchanged or moved, its new offsets selecting its quote."""
    for s in report.spans:
        slug = s.span.rsplit("/", 1)[1]
        exact, start, end = SPANS[slug]
        assert (s.start, s.end) == (start, end)
        assert text[s.new_start : s.new_end] == exact, slug
        assert s.status == ("unchanged" if (s.new_start, s.new_end) == (start, end) else "moved")
        assert s.similarity == 1.0
        assert s.new_text is None


def test_the_article_itself_is_unchanged(kg: KnowledgeGraph, tmp_path: Path) -> None:
    report = check(kg, ARTICLE, tmp_path)
    assert set(statuses(report).values()) == {"unchanged"}
    assert len(report.spans) == 28
    assert report.exit_code == 0
    assert report.document["sha256"] == report.document["recorded_sha256"] == sha256(ARTICLE)
    assert {s.status for s in report.statements} == {"supported"}
    assert len(report.statements) == 358


def test_every_quote_is_unique_and_its_context_recorded() -> None:
    # what the other tests rely on, and what oa:prefix/oa:suffix hold
    for slug, (exact, start, end) in SPANS.items():
        assert ARTICLE.count(exact) == 1, slug
        prefix, suffix = context(ARTICLE, start, end)
        assert len(prefix) == min(CONTEXT, start)
        assert len(suffix) == min(CONTEXT, len(ARTICLE) - end)
        quote = next(
            sel
            for sel in DATA.objects(URIRef(ID + "span/" + slug), OA.hasSelector)
            if (sel, RDF.type, OA.TextQuoteSelector) in DATA
        )
        assert (str(DATA.value(quote, OA.prefix)), str(DATA.value(quote, OA.suffix))) == (
            prefix,
            suffix,
        )


def test_a_paragraph_inserted(kg: KnowledgeGraph, tmp_path: Path) -> None:
    paragraph = "\nThe prison was later rebuilt, according to a report of 2016.\n"
    at = ARTICLE.index("\n==Background==")
    text = ARTICLE[:at] + paragraph + ARTICLE[at:]
    report = check(kg, text, tmp_path)
    assert_moved_exactly(report, text)
    lead = {"lead-1", "lead-2", "lead-3"}
    assert {k for k, v in statuses(report).items() if v == "unchanged"} == lead
    for s in report.spans:
        if s.span.rsplit("/", 1)[1] not in lead:
            assert s.new_start == s.start + len(paragraph)
    assert {s.status for s in report.statements} == {"supported"}
    assert report.exit_code == 0


def test_a_section_moved(kg: KnowledgeGraph, tmp_path: Path) -> None:
    cause = ARTICLE.index("==Cause==")
    aftermath = ARTICLE.index("==Aftermath==")
    text = ARTICLE[:cause] + ARTICLE[aftermath:].rstrip("\n") + "\n\n" + ARTICLE[cause:aftermath]
    report = check(kg, text, tmp_path)
    assert_moved_exactly(report, text)
    moved = {k for k, v in statuses(report).items() if v == "moved"}
    assert moved == {k for k in SPANS if k.startswith(("cause-", "aftermath-"))}
    assert report.exit_code == 0


def test_a_number_reworded(kg: KnowledgeGraph, tmp_path: Path) -> None:
    text = ARTICLE.replace("held about 300 people", "held about 350 people")
    report = check(kg, text, tmp_path)
    got = statuses(report)
    assert got == {k: "changed" if k == "background-2" else "unchanged" for k in SPANS}
    changed = next(s for s in report.spans if s.status == "changed")
    assert (changed.new_start, changed.new_end) == (382, 450)
    assert changed.new_text == SENTENCE["background-2"].replace("300", "350")
    assert changed.similarity == round(1 - 1 / 68, 4)
    review = {s.statement for s in report.statements if s.status == "review"}
    assert review == review_expected({"background-2"})
    # the prison's type and place, its number of convicts (count, group, outcome,
    # qualifier, value reference, value, words), and the inference that used the sentence
    assert len(review) == 10
    place_of_break = next(
        s
        for s in report.statements
        if s.predicate.endswith("hasPlace") and s.object == ID + "place/al-khalis-prison"
    )
    assert place_of_break.status == "review"
    assert report.exit_code == 1


def test_a_sentence_deleted(kg: KnowledgeGraph, tmp_path: Path) -> None:
    sentence = SENTENCE["cause-5"] + " "
    text = ARTICLE.replace(sentence, "")
    report = check(kg, text, tmp_path)
    got = statuses(report)
    assert got["cause-5"] == "missing"
    gone = next(s for s in report.spans if s.status == "missing")
    assert (gone.new_start, gone.new_end, gone.new_text) == (None, None, None)
    for s in report.spans:
        slug = s.span.rsplit("/", 1)[1]
        if slug == "cause-5":
            continue
        exact, start, _ = SPANS[slug]
        shift = len(sentence) if start > SPANS["cause-5"][1] else 0
        assert s.new_start == start - shift
        assert text[s.new_start : s.new_end] == exact
        assert s.status == ("moved" if shift else "unchanged")
    review = {s.statement for s in report.statements if s.status == "review"}
    assert review == review_expected({"cause-5"})
    by_triple = {
        (s.subject, s.predicate.rsplit("#", 1)[-1], s.object): s for s in report.statements
    }
    eyewitness = ID + "claim/eyewitness-backs-official-account"
    # the claim's claimant rests on that sentence only; its cause is an inference that used it
    assert by_triple[(eyewitness, "claimant", ID + "person/police-officer-eyewitness")].status == (
        "review"
    )
    assert (
        by_triple[
            (eyewitness, "assertsCause", "https://w3id.org/khalis-kg/concept/internal-riot")
        ].status
        == "review"
    )
    # "ISIS, however, claimed" still sets ISIS's claim against the eyewitness
    assert by_triple[(eyewitness, "contradicts", ID + "claim/isis-coordinated-effort")].status == (
        "supported"
    )
    assert report.exit_code == 1


def test_straight_quotes_made_curly(kg: KnowledgeGraph, tmp_path: Path) -> None:
    text = ARTICLE.replace("'", "\u2019")
    opening = True
    chars = []
    for ch in text:
        if ch == '"':
            chars.append("\u201c" if opening else "\u201d")
            opening = not opening
        else:
            chars.append(ch)
    text = "".join(chars)
    assert len(text) == len(ARTICLE)
    report = check(kg, text, tmp_path)
    quoted = {k for k, exact in SENTENCE.items() if "'" in exact or '"' in exact}
    assert quoted == {
        "background-2",
        "cause-4",
        "cause-8",
        "cause-9",
        "cause-10",
        "cause-11",
        "aftermath-3",
    }
    assert statuses(report) == {k: "changed" if k in quoted else "unchanged" for k in SPANS}
    for s in report.spans:
        if s.status == "changed":
            assert (s.new_start, s.new_end) == (s.start, s.end)
            assert s.new_text == text[s.start : s.end]
            assert s.similarity >= 0.95
    review = {s.statement for s in report.statements if s.status == "review"}
    assert review == review_expected(quoted)


def test_several_edits_at_once(kg: KnowledgeGraph, tmp_path: Path) -> None:
    paragraph = "\nA new paragraph, inserted by an editor.\n"
    text = ARTICLE.replace(SENTENCE["cause-5"] + " ", "")
    text = text.replace("twelve police officers died in the fighting", "12 police officers died")
    at = text.index("\n==Background==")
    text = text[:at] + paragraph + text[at:]
    report = check(kg, text, tmp_path)
    got = statuses(report)
    assert got["cause-5"] == "missing"
    assert got["aftermath-4"] == "changed"
    changed = next(s for s in report.spans if s.status == "changed")
    assert changed.new_text == "An estimated fifty prisoners and 12 police officers died."
    assert text[changed.new_start : changed.new_end] == changed.new_text
    assert {k for k, v in got.items() if v == "unchanged"} == {"lead-1", "lead-2", "lead-3"}
    for s in report.spans:
        if s.status == "moved":
            assert text[s.new_start : s.new_end] == SPANS[s.span.rsplit("/", 1)[1]][0]
    review = {s.statement for s in report.statements if s.status == "review"}
    assert review == review_expected({"cause-5", "aftermath-4"})
    # "in the fighting" is said by aftermath-4 alone: to review; the twelve dead are
    # also in the lead: supported
    circumstance = [s for s in report.statements if s.object == "in the fighting"]
    assert {s.status for s in circumstance} == {"review"}
    twelve = [
        s
        for s in report.statements
        if s.subject == ID + "quantity/killed-police-officers" and s.object == "twelve"
    ]
    assert [s.status for s in twelve] == ["supported"]


def test_a_sentence_duplicated_elsewhere(kg: KnowledgeGraph, tmp_path: Path) -> None:
    # the curfew sentence copied, earlier, into the Background section: the original is
    # told from the copy by its prefix and suffix
    copy = " " + SENTENCE["aftermath-5"]
    at = ARTICLE.index("\n\n==Cause==")
    text = ARTICLE[:at] + copy + ARTICLE[at:]
    report = check(kg, text, tmp_path)
    assert_moved_exactly(report, text)
    curfew = next(s for s in report.spans if s.span.endswith("/aftermath-5"))
    assert curfew.new_start == SPANS["aftermath-5"][1] + len(copy)
    assert text.count(SENTENCE["aftermath-5"]) == 2
    assert report.exit_code == 0


def test_the_json_report(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE.replace("held about 300", "held about 350"), encoding="utf-8")
    done = invoke(["check-source", str(path), "--format", "json"])
    assert done.exit_code == 1, done.output
    report = json.loads(done.output)
    assert sorted(report) == ["document", "spans", "statements"]
    assert report["document"]["document"] == ID + "document/wikipedia-2015-al-khalis-prison-break"
    assert report["document"]["recorded_sha256"] == sha256(ARTICLE)
    span = next(s for s in report["spans"] if s["status"] == "changed")
    assert span == {
        "span": ID + "span/background-2",
        "status": "changed",
        "start": 382,
        "end": 450,
        "new_start": 382,
        "new_end": 450,
        "similarity": round(1 - 1 / 68, 4),
        "new_text": SENTENCE["background-2"].replace("300", "350"),
    }
    statement = report["statements"][0]
    assert sorted(statement) == ["object", "predicate", "spans", "statement", "status", "subject"]
    # objects as the graph writes them (lexical forms), with the spans they rest on
    value = next(
        s
        for s in report["statements"]
        if s["subject"] == ID + "quantity/prison-inmates-terror-convicts"
        and s["predicate"] == "https://schema.org/value"
    )
    assert (value["object"], value["status"], value["spans"]) == (
        "300",
        "review",
        [ID + "span/background-2"],
    )
    dated = [s["object"] for s in report["statements"] if s["predicate"].endswith("hasTimeStamp")]
    assert dated == ["2015-05-08", "2015-05-08"]
    assert {s["status"] for s in report["statements"]} == {"supported", "review"}


def test_o_is_refused_on_edits(tmp_path: Path) -> None:
    path = tmp_path / "article.txt"
    path.write_text(ARTICLE.replace(SENTENCE["cause-5"] + " ", ""), encoding="utf-8")
    out = tmp_path / "out.ttl"
    done = invoke(["check-source", str(path), "-o", str(out)])
    assert done.exit_code == 1
    assert not out.exists()
    assert "missing" in done.output


def test_o_writes_a_valid_graph_on_moves(tmp_path: Path) -> None:
    cause = ARTICLE.index("==Cause==")
    aftermath = ARTICLE.index("==Aftermath==")
    text = ARTICLE[:cause] + ARTICLE[aftermath:].rstrip("\n") + "\n\n" + ARTICLE[cause:aftermath]
    text = "A note before the title.\n" + text
    path = tmp_path / "article.txt"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out.ttl"
    done = invoke(["check-source", str(path), "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert invoke(["--data", str(out), "validate"]).exit_code == 0
    mismatches = invoke(
        ["--data", str(out), "query", "quote-offset-mismatch-violation", "--format", "json"]
    )
    assert mismatches.exit_code == 0, mismatches.output
    assert json.loads(mismatches.output)["results"]["bindings"] == []
    # the re-anchored graph quotes the new text: checked against it, nothing moved
    again = invoke(["--data", str(out), "check-source", str(path), "--format", "json"])
    assert again.exit_code == 0, again.output
    report = json.loads(again.output)
    assert {s["status"] for s in report["spans"]} == {"unchanged"}
    assert report["document"]["recorded_sha256"] == sha256(text)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "absent.txt", "no such file"),
        (lambda p: p, "is a directory"),
        (lambda p: (p / "latin1.txt", (p / "latin1.txt").write_bytes(b"caf\xe9"))[0], "not UTF-8"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path: Path, make: Any, message: str) -> None:
    done = invoke(["check-source", str(make(tmp_path))])
    assert done.exit_code == 2
    assert message in done.output
    assert len(done.output.strip().splitlines()) == 1


PARAGRAPH_BOUNDARIES = [i + 1 for i, ch in enumerate(ARTICLE) if ch == "\n"]


@settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(PARAGRAPH_BOUNDARIES),
            st.text(alphabet="abcxyz ,.\n", min_size=1, max_size=40),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_insertions_at_line_boundaries_only_move_spans(
    kg: KnowledgeGraph, tmp_path: Path, inserts: list[tuple[int, str]]
) -> None:
    text = ARTICLE
    for at, words in sorted(inserts, reverse=True):
        text = text[:at] + words + text[at:]
    report = check(kg, text, tmp_path)
    assert_moved_exactly(report, text)
    for s in report.spans:
        assert s.new_start == s.start + sum(len(w) for at, w in inserts if at <= s.start)
    assert report.exit_code == 0


def test_the_shapes_check_the_context_and_the_checksum(tmp_path: Path) -> None:
    text = (REPO / "data" / "khalis.ttl").read_text("utf-8")
    good = '"rs escaped in the prison break. "'
    assert text.count(good) == 1
    digest = sha256(ARTICLE)
    tampered = text.replace(good, '"rs escaped in the prison break! "').replace(
        digest, digest[:-1] + ("0" if digest[-1] != "0" else "1")
    )
    path = tmp_path / "tampered.ttl"
    path.write_text(tampered, encoding="utf-8")
    done = invoke(["validate", str(path), "--format", "json"])
    assert done.exit_code == 1, done.output
    results = json.loads(done.output)["results"]
    assert sorted((r["focus_node"].split(":", 1)[1], r["message"][:40]) for r in results) == [
        ("aftermath-2", "The context does not match the text: oa:"),
        ("wikipedia-2015-al-khalis-prison-break", "The checksum does not match the text: sp"),
    ]


@pytest.mark.parametrize(
    ("start", "end"),
    [('"abc"', '"5"'), ('"\u00b2"', '"5"'), ('"1"', '"x"'), ('"9"', '"2"'), ('"0"', '"4"')],
)
def test_a_graph_whose_span_offsets_are_not_offsets_is_one_line_exit_2(
    tmp_path: Path, start: str, end: str
) -> None:
    """A user's graph (--data) whose oa:start / oa:end is not a non-negative integer, or
    ends before it starts: one InputError line (exit 2), not a ValueError from int()
    (which the isolated child reported as our own crash, exit 5)."""
    data = tmp_path / "odd.ttl"
    data.write_text(
        "@prefix oa: <http://www.w3.org/ns/oa#> .\n"
        "@prefix nif: <http://persistence.uni-leipzig.org/nlp2rdf/ontologies/nif-core#> .\n"
        '<http://e/doc> nif:isString "Hello world." .\n'
        "<http://e/span> oa:hasSource <http://e/doc> ;\n"
        "  oa:hasSelector <http://e/q> , <http://e/p> .\n"
        '<http://e/q> a oa:TextQuoteSelector ; oa:exact "Hello" .\n'
        f"<http://e/p> a oa:TextPositionSelector ; oa:start {start} ; oa:end {end} .\n",
        encoding="utf-8",
    )
    article = tmp_path / "article.txt"
    article.write_text("Hello world.", encoding="utf-8")
    done = invoke(["--data", str(data), "check-source", str(article)])
    assert done.exit_code == 2, done.output
    assert "http://e/span" in done.output
    assert len(done.output.strip().splitlines()) == 1

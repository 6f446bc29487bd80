"""Queries are untrusted input: whatever a user types, `ask` and `find_quote` answer or say nothing,
never crash, and every word they show is the document's own at the offsets they give."""

from __future__ import annotations

import io
import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policyqa.answers import Answer, ask
from policyqa.cli import main
from policyqa.normalize import normalize
from policyqa.quotes import find_quote

HOSTILE = {
    "empty": "",
    "whitespace": " \t\n \r\n  ",
    "punctuation only": "?!...;:,-()[]{}\"'/\\|@#%&*+=<>~`^",
    "regex metacharacters": r"^(a+)+$ .* [gifts]{2,} \d+? (?=x) (?<!y) | \\ $1 \1 (?P<n>",
    "emoji": "\U0001f381\U0001f642 can I accept gifts? \U0001f914\U0001f3f3\ufe0f\u200d\U0001f308",
    "right-to-left (Arabic)": "هل يمكنني قبول هدية من عميل؟",
    "right-to-left override": "\u202egifts from clients\u202c מדיניות",
    "NUL bytes": "gifts\x00 from\x00 clients\x00",
    "control characters": "\x1b[31mgifts\x07\x08 records\x1b[0m",
    "another language (Spanish)": "\u00bfPuedo aceptar regalos de un cliente?",
    "another language (Chinese)": "我可以接受客户的礼物吗？",
    "zero-width only": "\u200b\u200c\u200d\ufeff",
    "combining marks": "gifts" + "\u0301" * 60,
    "markup": "<script>alert(1)</script> [gifts](javascript:alert(1)) **records**",
    "one letter": "I",
}


def check_answer(index, answer: Answer, question: str, k: int) -> None:
    """The promises of `ask` for any input: well-formed, verbatim, serialisable."""
    assert isinstance(answer, Answer) and answer.question == question
    assert len(answer.passages) <= k
    assert [p.rank for p in answer.passages] == list(range(1, len(answer.passages) + 1))
    for p in answer.passages:
        assert index.documents[p.doc_id].text[p.start : p.end] == p.text
    assert answer.answer is not None or not answer.answered
    if answer.answer is not None:  # k >= 3 passages, so the answering one is listed
        span = answer.answer
        [p] = [p for p in answer.passages if p.rank == span.passage_rank]
        assert p.start <= span.start < span.end <= p.end
        assert index.documents[p.doc_id].text[span.start : span.end] == span.text
    truncated = len(question) > index.settings.max_query_chars
    assert ("truncated" in answer.note) == truncated
    json.dumps(answer.to_json(), ensure_ascii=False)


def check_quotes(index, matches, phrase: str) -> None:
    """The promises of `find_quote`: verbatim text at its offsets; exact first, or a few near."""
    for m in matches:
        assert index.documents[m.doc_id].text[m.start : m.end] == m.text
        assert m.text in m.sentence or not m.exact
    exact = [m for m in matches if m.exact]
    if exact:
        assert len(exact) == len(matches)
        assert all(m.similarity == 100.0 for m in exact)
        assert all(normalize(m.text) == normalize(phrase) for m in exact)
    else:
        assert len(matches) <= 3


@pytest.mark.parametrize("question", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_queries_never_crash(index, question):
    check_answer(index, ask(index, question, k=3), question, 3)
    check_quotes(index, find_quote(index, question), question)


def test_20000_characters_truncated_with_a_note(index):
    question = "Can staff keep client records at home? " * 513  # 20,007 characters
    assert len(question) > 20_000
    answer = ask(index, question)
    check_answer(index, answer, question, 5)
    assert answer.note == f"question truncated to {index.settings.max_query_chars} characters"
    assert answer.passages  # the truncated question still retrieves
    # find_quote does not truncate; it must still return (no exact match, so near-matches only).
    check_quotes(index, find_quote(index, question), question)


def test_quote_with_regex_metacharacters_is_literal(index):
    assert not any(m.exact for m in find_quote(index, "(.*)"))  # a pattern would match anything
    matches = find_quote(index, "(SAMHSA)")  # parentheses matched as themselves
    assert matches and all(m.exact and m.text == "(SAMHSA)" for m in matches)


def test_lone_surrogate_in_quote_is_harmless(index):
    # What Python makes of an undecodable byte in argv or stdin (surrogateescape): "\udcff".
    check_quotes(index, find_quote(index, "gifts \udcff"), "gifts \udcff")


def test_lone_surrogate_in_question_does_not_crash(index):
    answer = ask(index, "gifts \udcff")
    assert answer.passages and answer.question == "gifts \udcff"


def test_cli_rejects_empty_input_clearly(monkeypatch, capsys):
    assert main(["ask", ""]) == 2
    assert capsys.readouterr().err.strip() == "policyqa: error: empty question"
    assert main(["quote", " \t "]) == 2
    assert capsys.readouterr().err.strip() == "policyqa: error: empty phrase"
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n   \n\t\n"))
    assert main(["ask", "--json"]) == 2
    assert capsys.readouterr().err.strip() == "policyqa: error: empty question"


def test_cli_answers_hostile_lines_from_stdin(monkeypatch, capsys):
    lines = [HOSTILE["NUL bytes"], HOSTILE["emoji"], HOSTILE["right-to-left override"]]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["ask", "--json", "--k", "2"]) == 0
    out = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["question"] for o in out] == lines


# Arbitrary text, plus text built from the corpus's own words so exact-match paths are exercised.
WORDS = st.sampled_from("gifts records staff client shall not accept money documented honestly "
                        "and accurately peer advocate boundaries I will".split())
PHRASES = st.lists(st.one_of(WORDS, st.text(max_size=6)), min_size=1, max_size=8).map(" ".join)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=300), PHRASES))
def test_property_any_text_is_answered_or_declined_never_crashes(index, text):
    check_answer(index, ask(index, text, k=3), text, 3)
    check_quotes(index, find_quote(index, text), text)

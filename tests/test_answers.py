"""Answers: the answering sentence, citations, abstention and the JSON schema."""

import json

import pytest

from policyqa.answers import ask, keyword_coverage

PASSAGE_KEYS = {"rank", "doc_id", "doc_title", "citation", "section", "page", "start", "end",
                "text", "score"}


def test_sample_question(index):
    answer = ask(index, "How should I keep participant records?")
    assert answer.answered
    top = answer.passages[0]
    assert "documented honestly and accurately" in top.text
    assert top.citation.startswith("Longmont CM Code of Conduct, Service Approach")
    assert "documented honestly and accurately" in answer.answer.text
    doc = index.documents[top.doc_id]
    assert doc.text[answer.answer.start : answer.answer.end] == answer.answer.text
    assert top.start <= answer.answer.start < answer.answer.end <= top.end


def test_a_sum_of_money_is_read_as_money(index):
    # The brief's own example: the digits of "$20" match nothing the policy says about lending.
    answer = ask(index, "Can I lend a client $20?")
    assert answer.answered
    assert "I will not loan or give money to participants" in answer.answer.text
    assert answer.answer.passage_rank == 1

def test_json_schema(index):
    data = ask(index, "Can I accept a gift from a client?", k=4).to_json()
    json.dumps(data)  # serialisable
    assert set(data) == {"question", "answered", "answer", "passages"}
    assert isinstance(data["answered"], bool)
    assert set(data["answer"]) == {"text", "citation", "passage_rank"}
    assert len(data["passages"]) == 4
    for p in data["passages"]:
        assert set(p) == PASSAGE_KEYS
        assert index.documents[p["doc_id"]].text[p["start"] : p["end"]] == p["text"]
        assert p["page"] is None  # the seed documents are text files


@pytest.mark.parametrize("question", [
    "What is the overtime pay rate for weekend shifts?",
    "How many vacation days do new employees get?",
])
def test_abstains_off_topic_but_lists_closest(index, question):
    answer = ask(index, question)
    assert not answer.answered
    assert answer.passages  # the closest passages are still returned


def test_timings_and_truncation_note(index):
    answer = ask(index, "records " * 1000)
    assert "truncated" in answer.note
    assert answer.timings_ms["total"] > 0


def test_keyword_coverage_counts_related_words_at_their_weight(index):
    idf = {t: index.idf[t] for t in ("lend", "client", "loan", "money")}
    assert all(v > 0 for v in idf.values())
    question, text = ["lend", "client"], {"client", "loan"}
    total = idf["lend"] + idf["client"]
    assert keyword_coverage(index, question, text) == pytest.approx(idf["client"] / total)
    # A missing question word is partly made up by a related word present, at that group's weight;
    # related words absent from the text, or already question words, add nothing.
    groups = ((["loan", "money"], 0.25), (["client"], 0.75))
    assert keyword_coverage(index, question, text, groups) == pytest.approx(
        (idf["client"] + 0.25 * idf["loan"]) / total)
    assert keyword_coverage(index, question, text, ((["loan"], 0.75),)) == pytest.approx(
        (idf["client"] + 0.75 * idf["loan"]) / total)
    # Never more than the whole question.
    assert keyword_coverage(index, question, text, ((["loan"], 50.0),)) == 1.0

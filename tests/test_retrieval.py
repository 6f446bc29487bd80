"""Each retrieval mode finds the right passage; filters and fusion arithmetic."""

from dataclasses import replace

import numpy as np
import pytest

from policyqa import retrieval
from policyqa.query import named_documents, prepare, quoted_phrases
from policyqa.retrieval import MODES, rrf_fusion, weighted_fusion


def search(index, question: str, **options):
    """Rank a question as answers.ask does: prepared once, then searched."""
    return retrieval.search(index, prepare(index, question), **options)

CASES = [
    ("How should I keep participant records?", "documented honestly and accurately"),
    ("Can staff help a person pick up medication at the pharmacy?",
     "picking up medication(s) at the pharmacy"),
    ("Should I accept a client's friend request on social media?",
     "connecting with clients on social media is controversial"),
    ("What should a peer advocate do if someone wants to withdraw from mental health services?",
     "withdrawing from mental health services"),
]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question, phrase", CASES)
def test_modes_find_the_passage(index, mode, question, phrase):
    hits = search(index, question, mode=mode, k=5)
    assert len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    assert any(phrase in h.chunk.text for h in hits), [h.chunk.section_path for h in hits]


def test_hybrid_ranks_sample_first(index):
    hits = search(index, "How should I keep participant records?", k=3)
    assert "documented honestly and accurately" in hits[0].chunk.text
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_document_filter(index):
    docs = ["dmh-4.12-service-relationships"]
    hits = search(index, "gifts from clients", k=10, docs=docs)
    assert hits and all(h.chunk.doc_id in docs for h in hits)
    both = ["dmh-4.13-peer-advocates", "longmont-case-management-code-of-conduct"]
    assert {h.chunk.doc_id for h in search(index, "confidentiality", k=20, docs=both)} <= set(both)


def test_unknown_mode(index):
    with pytest.raises(ValueError, match="unknown mode"):
        search(index, "x", mode="magic")


def test_fusions():
    dense = np.array([0.9, 0.5, 0.1])
    bm25 = np.array([0.0, 10.0, 5.0])
    assert np.allclose(weighted_fusion(dense, bm25, 0.5, 60), [0.5, 0.5 * 0.5 + 0.5, 0.25])
    rrf = rrf_fusion(dense, bm25, 0.5, 60)
    assert np.allclose(rrf, [1 / 61 + 1 / 63, 1 / 62 + 1 / 61, 1 / 63 + 1 / 62])


@pytest.mark.parametrize("question, expected", [
    ("What does 4.12 say about gifts?", {"dmh-4.12-service-relationships"}),
    ("Quote the code of conduct on confidentiality.", {"longmont-case-management-code-of-conduct"}),
    ("Where does the MISSION toolkit discuss social media?", {"mission-boundaries-toolkit"}),
    # "DMH" and "parameters" are shared by two documents, so they name neither.
    ("What do the DMH parameters say about gifts?", set()),
    ("Can I lend a client $20?", set()),
])
def test_named_documents(index, question, expected):
    assert named_documents(index, question) == expected


def test_named_document_is_favoured_not_required(index):
    question = "What does 4.13 say about gifts?"
    unboosted = replace(index, settings=replace(
        index.settings, retrieval=replace(index.settings.retrieval, named_document_boost=0.0)))

    def share(hits):
        return sum(h.chunk.doc_id == "dmh-4.13-peer-advocates" for h in hits[:5])

    # The same question, with and without the boost: the boost alone moves 4.13 up...
    assert share(search(index, question, k=10)) > share(search(unboosted, question, k=10))
    # ...without excluding the other documents...
    assert share(search(index, question, k=10)) < 5 or len({
        h.chunk.doc_id for h in search(index, question, k=10)}) > 1
    # ...and in the single modes too: the question names 4.13 whichever way the page searches
    # (BM25 already reads each chunk's document label, so there it adds least).
    assert share(search(index, question, mode="dense", k=10)) > share(
        search(unboosted, question, mode="dense", k=10))
    assert share(search(index, question, mode="bm25", k=10)) >= share(
        search(unboosted, question, mode="bm25", k=10))
    # Without a hint, a single mode ranks by its raw scores, as before.
    plain = "Can staff accept gifts?"
    assert [h.score for h in search(index, plain, mode="bm25", k=3)] == [
        h.bm25 for h in search(index, plain, mode="bm25", k=3)]


def test_naming_a_document_matches_all_its_chunks_not_its_title_chunk(index):
    from policyqa.lexical import tokenize

    doc_id = "longmont-case-management-code-of-conduct"
    rows = [c.chunk_id for c in index.chunks if c.doc_id == doc_id]
    vector = prepare(index, "x").vector
    found = index.store.candidates(vector, [(tokenize(index.documents[doc_id].label), 1.0)],
                                   len(rows), np.array(rows))
    assert set(found.rows) == set(rows) and (found.bm25 > 0).all()
    top = search(index, "What does the code of conduct say about accepting gifts?", k=1)[0]
    assert "I will not accept gifts of money" in top.chunk.text


def test_a_quoted_phrase_favours_the_passages_that_hold_it(index):
    from policyqa.normalize import normalize

    question = 'Where do the policies talk about "natural supports"?'
    assert quoted_phrases(question) == ["natural supports"]
    assert quoted_phrases("What does \u201cgift\u201d mean?") == []  # one word: not a phrase
    unboosted = replace(index, settings=replace(
        index.settings, retrieval=replace(index.settings.retrieval, quoted_phrase_boost=0.0)))
    before = search(unboosted, question, k=5)
    after = search(index, question, k=5)
    # The passage that holds the phrase is first with the boost, and scores higher than without
    # it (since the lead-in/list fixes of issue 15 it may already rank first unboosted).
    assert "natural supports" in normalize(after[0].chunk.text)
    unboosted_score = {h.chunk.chunk_id: h.score for h in before}
    holder = after[0].chunk.chunk_id
    assert after[0].score > unboosted_score.get(holder, float("-inf"))


@pytest.fixture(scope="module")
def copies_index(tmp_path_factory):
    """A policy kept twice, as agencies keep it: the Word file (written by the fixture's own
    make.py) beside the PDF a word processor exported from it, and a second policy whose
    paragraphs differ only in their rule numbers."""
    import importlib.util
    import os
    import shutil
    from pathlib import Path

    from policyqa.config import load_settings
    from policyqa.index import load_index

    fixtures = Path(__file__).parent / "fixtures" / "exported"
    root = tmp_path_factory.mktemp("copies")
    corpus = root / "corpus"
    corpus.mkdir()
    spec = importlib.util.spec_from_file_location("exported_make", fixtures / "make.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    here = os.getcwd()
    os.chdir(corpus)
    try:
        make.home_visits()
        make.client_funds()
    finally:
        os.chdir(here)
    shutil.copy(fixtures / "home-visits-procedure.pdf", corpus)
    return load_index(load_settings(corpus, root / "index"))


def test_a_passage_kept_twice_is_listed_once_with_its_copy_cited(copies_index):
    """The Word file's passage and its PDF's say the same words: one is listed, the other cited
    with it, and the slot goes to another passage."""
    hits = search(copies_index, "Who do I tell before a home visit, and what do I carry?", k=5)
    keys = [retrieval.copy_key(copies_index, h.chunk) for h in hits]
    assert len(set(keys)) == len(keys) == 5
    folded = [h for h in hits if h.copies]
    assert folded, [h.chunk.text[:40] for h in hits]
    for h in folded:
        for c in h.copies:
            assert retrieval.copy_key(copies_index, c) == retrieval.copy_key(copies_index, h.chunk)
            assert c.chunk_id != h.chunk.chunk_id
    docs = {h.chunk.doc_id for h in folded} | {c.doc_id for h in folded for c in h.copies}
    assert sorted(copies_index.documents[d].label for d in docs) == [
        "home-visits-procedure.docx", "home-visits-procedure.pdf"]


def test_copies_are_cited_in_the_answer_and_its_json(copies_index):
    from policyqa.answers import ask

    answer = ask(copies_index, "Who do I tell before a home visit?", k=5)
    passages = answer.to_json()["passages"]
    cited = [(p["citation"], c) for p in passages for c in p["also_in"]]
    assert cited
    for citation, copy in cited:
        doc = copies_index.documents[copy["doc_id"]]
        assert copy["citation"].startswith(doc.label) and copy["citation"] != citation
        assert set(copy) == {"doc_id", "citation", "page", "start", "end"}
        words = doc.text[copy["start"]:copy["end"]]
        assert any(retrieval._WORD.findall(words.casefold())
                   == retrieval._WORD.findall(p["text"].casefold()) for p in passages)


def test_paragraphs_that_differ_in_one_word_are_not_copies(copies_index):
    """The client funds policy repeats one paragraph under 'Rule 1.' ... 'Rule 31.': each is a
    rule of its own, and stays a passage of its own."""
    hits = search(copies_index, "Must staff give the client a receipt for every transaction?",
                  k=5, docs=["client-funds-policy"])
    assert len(hits) == 5 and not any(h.copies for h in hits)


def test_folding_can_be_turned_off(copies_index):
    settings = replace(copies_index.settings, retrieval=replace(
        copies_index.settings.retrieval, fold_copies=False))
    plain = replace(copies_index, settings=settings)
    hits = search(plain, "Who do I tell before a home visit, and what do I carry?", k=5)
    keys = [retrieval.copy_key(copies_index, h.chunk) for h in hits]
    assert len(set(keys)) < len(keys) and not any(h.copies for h in hits)

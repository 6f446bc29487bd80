"""Tokenizer, acronyms, and the BM25 variant choice (rank-bm25 issue #39)."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from policyqa.lexical import Lexical, expand_acronyms, find_acronyms, tokenize


def test_tokenize_folds_case_possessives_hyphens():
    tokens = tokenize("The Client's self-help plan", stem=False, stopwords=True)
    assert tokens == ["client", "self", "help", "selfhelp", "plan"]


def test_tokenize_stems_and_keeps_ids():
    assert tokenize("Boundaries bounded PPR-9087", stem=True, stopwords=True) == [
        "boundari", "bound", "ppr", "9087", "ppr9087",
    ]


def test_acronyms_found_and_expanded():
    text = ("Peer Support Specialists (PSSs) work with Trauma-Informed Care (TIC) and "
            "Co-Occurring Disorders (COD).")
    found = find_acronyms(text)
    assert found["pss"] == "Peer Support Specialists"
    assert found["tic"] == "Trauma-Informed Care"
    assert found["cod"] == "Co-Occurring Disorders"
    assert "Trauma-Informed Care" in expand_acronyms("what is TIC?", found)
    assert "(PSS)" in expand_acronyms("can a peer support specialist drive?", found)


def _corpus():
    # "client" is in 3 of 4 documents: at or above half the corpus.
    return [
        ["client", "gift", "money"],
        ["client", "record", "note"],
        ["client", "social", "media"],
        ["supervisor", "review"],
    ]


def test_okapi_quirk_exists_in_rank_bm25():
    """Documents the upstream behaviour we steer around: a common term gets floor weight."""
    okapi = BM25Okapi(_corpus())
    # log((N - df + 0.5) / (df + 0.5)) < 0 for "client", so rank-bm25 floors it to
    # epsilon * average idf: a fixed token weight that no longer reflects the term at all.
    assert okapi.idf["client"] == pytest.approx(okapi.epsilon * okapi.average_idf)
    assert okapi.idf["client"] < okapi.idf["gift"] / 4


def test_chosen_variant_keeps_common_terms_meaningful():
    lex = Lexical(_corpus(), "plus", k1=1.2, b=0.75)
    scores = lex.scores(["client"])
    assert np.all(scores[:3] > 0) and scores[3] < scores[0]
    # a document matching the common term and a rare one outranks one matching only the rare one
    both = lex.scores(["client", "gift"])
    assert both[0] > both[1] > both[3]


def test_empty_query_and_empty_documents():
    lex = Lexical([["a"], []], "plus", 1.2, 0.75)
    assert lex.scores([]).tolist() == [0.0, 0.0]
    assert lex.scores(["zzz"]).shape == (2,)

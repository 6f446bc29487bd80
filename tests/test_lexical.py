"""Tokenizer, acronyms, and the BM25 variant choice (rank-bm25 issue #39)."""

import numpy as np
import pytest
from rank_bm25 import BM25Okapi

from policyqa.languages import language_of
from policyqa.lexical import (
    STOPWORDS,
    Lexical,
    amounts_as_money,
    expand_acronyms,
    find_acronyms,
    find_amounts,
    tokenize,
)


def test_tokenize_folds_case_possessives_hyphens():
    tokens = tokenize("The Client's self-help plan", stem=False, stopwords=True)
    assert tokens == ["client", "self", "help", "selfhelp", "plan"]


def test_tokenize_stems_and_keeps_ids():
    assert tokenize("Boundaries bounded PPR-9087", stem=True, stopwords=True) == [
        "boundari", "bound", "ppr", "9087", "ppr9087",
    ]


def test_a_word_with_accents_is_one_token_and_matches_without_them():
    """French minutes' "séance" and "démolition" were split at each accent ("s", "anc"), so a
    question typed without accents ("seance", as staff often type) shared no word with them.
    Words of other scripts were dropped whole; now they are words too."""
    accented = tokenize("La séance du comité de démolition est levée. Größe, naïve", stem=True)
    plain = tokenize("La seance du comite de demolition est levee. Grosse, naive", stem=True)
    assert accented == plain
    assert "demolit" in accented and "s" not in accented
    assert tokenize("Москва и 東京", stem=False, stopwords=False) == ["москва", "и", "東京"]


def test_a_question_in_another_language_loses_that_languages_function_words():
    """BM25 weighed a French question's "la", "du" and "de" (rare in an English corpus) as its
    subject; they go, as "the" and "of" do, and an English question's words are as before."""
    french = "À quelle heure la séance du comité a-t-elle été levée ?"
    tokens = tokenize(french, stem=False, language=language_of(french))
    assert not {"la", "du", "quelle", "elle", "ete"} & set(tokens)
    assert {"heure", "seance", "comite", "levee"} <= set(tokens)
    assert "la" in tokenize(french, stem=False)  # English stop words alone keep it
    english = "Can my son visit on the unit?"
    assert tokenize(english, language=language_of(english)) == tokenize(english)


def test_acronyms_found_and_expanded():
    text = ("Peer Support Specialists (PSSs) work with Trauma-Informed Care (TIC) and "
            "Co-Occurring Disorders (COD).")
    found = find_acronyms(text)
    assert found["pss"] == "Peer Support Specialists"
    assert found["tic"] == "Trauma-Informed Care"
    assert found["cod"] == "Co-Occurring Disorders"
    assert "Trauma-Informed Care" in expand_acronyms("what is TIC?", found)
    assert "(PSS)" in expand_acronyms("can a peer support specialist drive?", found)


def test_amounts_read_as_money_unless_the_corpus_names_them():
    named = find_amounts("Gifts worth more than $25.00 or \u20ac1,000 must be reported.")
    assert named == {"$25", "\u20ac1000"}
    assert amounts_as_money("Can I lend a client $20?", named) == "Can I lend a client money?"
    assert amounts_as_money("Can I take a $25 gift card?", named) == "Can I take a $25 money gift card?"
    assert amounts_as_money("Can I take 25 minutes?", named) == "Can I take 25 minutes?"


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


# ---------------------------------------------------------------- identical to rank-bm25


def _real_corpus_tokens() -> list[list[str]]:
    """The real corpus's chunks, tokenized exactly as the index does (no model needed)."""
    from policyqa.chunks import make_chunks
    from policyqa.config import ROOT, load_settings
    from policyqa.documents import load_corpus
    from policyqa.ingest import lexical_text
    from policyqa.sections import parse_sections

    settings = load_settings(ROOT / "corpus")
    r = settings.retrieval
    docs, _ = load_corpus(settings.corpus_dir)
    tokens = []
    for doc in docs:
        for c in make_chunks(doc, parse_sections(doc), settings.chunking, first_id=len(tokens)):
            tokens.append(tokenize(lexical_text(c, r.heading_context, doc.label), r.stem,
                                   r.stopwords))
    return tokens


def _gold_queries() -> list[list[str]]:
    from policyqa.evaluation import load_gold

    queries = [tokenize(item.question) for item in load_gold()]
    # repeated words count twice in rank-bm25; unknown words count nothing
    return queries + [["gift", "gift", "client"], ["zzzunknown"], ["record", "zzzunknown", "record"]]


@pytest.mark.parametrize("variant,cls", [("okapi", "BM25Okapi"), ("plus", "BM25Plus"), ("l", "BM25L")])
@pytest.mark.parametrize("k1,b", [(1.2, 0.75), (1.5, 0.75), (0.9, 0.4)])
def test_sparse_scores_identical_to_rank_bm25_on_real_corpus(variant, cls, k1, b):
    import rank_bm25

    corpus = _real_corpus_tokens()
    assert len(corpus) > 200
    reference = getattr(rank_bm25, cls)(corpus, k1=k1, b=b)
    ours = Lexical(corpus, variant, k1, b)
    assert ours.bm25.idf.keys() == reference.idf.keys()
    assert np.allclose(list(ours.bm25.idf.values()), [reference.idf[t] for t in ours.bm25.idf])
    for query in _gold_queries():
        expected = reference.get_scores(query)
        got = ours.scores(query)
        assert got.shape == expected.shape
        assert np.allclose(got, expected, rtol=1e-5, atol=1e-5), query
    # and the ranking a question gets is the same, not just close scores
    for query in _gold_queries()[:40]:
        expected = reference.get_scores(query)
        if expected.max() > 0:
            assert int(np.argmax(ours.scores(query))) in set(
                np.flatnonzero(np.isclose(expected, expected.max())).tolist())


def test_okapi_floor_matches_rank_bm25():
    okapi = BM25Okapi(_corpus())
    lex = Lexical(_corpus(), "okapi", k1=1.5, b=0.75)
    assert lex.bm25.idf["client"] == pytest.approx(okapi.idf["client"])
    assert np.allclose(lex.scores(["client", "gift"]), okapi.get_scores(["client", "gift"]))


def test_unknown_variant_is_rejected():
    with pytest.raises(ValueError, match="unknown BM25 variant"):
        Lexical(_corpus(), "bm42", 1.2, 0.75)


def test_tokenize_is_thread_safe_on_unseen_words():
    """The page answers several sessions in threads at once; the Snowball stemmer keeps the word
    it works on in the object, so unguarded concurrent stemming raised IndexError or returned
    another thread's stem (seen under 4 concurrent askers)."""
    import itertools
    import threading

    from policyqa import lexical

    letters = "abcdefghijklmnoprstuvwy"
    words = ["".join(p) + suffix for p in itertools.permutations(letters, 3)
             for suffix in ("ing", "ations", "ness")][:6000]
    words = [w for w in words if w not in STOPWORDS]  # "dur" + "ing"
    expected = [lexical._STEMMER.stemWord(w) for w in words]  # one thread: the reference
    lexical._stem.cache_clear()
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            results[n] = [tokenize(w)[0] for w in words[n::4] + words[(n + 1) % 4::4]]
        except BaseException as exc:  # noqa: BLE001 - any failure is the finding
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:1]
    for n in range(4):
        assert results[n] == expected[n::4] + expected[(n + 1) % 4::4]


def test_the_c_stemmer_is_used_and_stems_as_the_python_snowball_does():
    """PyStemmer (a dependency) is snowballstemmer's C build of the same algorithm: it must be the
    one in use (cold start and ingest stem thousands of words), and it must stem exactly as the
    pure Python Snowball stemmer does, or indexes and questions would disagree between machines
    that have it and machines that don't."""
    import Stemmer
    from snowballstemmer.english_stemmer import EnglishStemmer

    from policyqa import lexical

    assert isinstance(lexical._STEMMER, Stemmer.Stemmer)
    from policyqa.config import ROOT
    from policyqa.documents import load_corpus

    python = EnglishStemmer()
    docs, _ = load_corpus(ROOT / "corpus")
    words = sorted({w for doc in docs for w in lexical._TOKEN.findall(doc.text.lower())})
    assert len(words) > 2000
    assert [lexical._STEMMER.stemWord(w) for w in words] == [python.stemWord(w) for w in words]


def test_an_elided_article_is_not_part_of_the_word():
    """French minutes write "l'ordre du jour" and "qu'aucune opposition": a question asking for
    "ordre du jour" or "aucune opposition" shared no word with them."""
    assert tokenize("L’ordre du jour, qu'aucune opposition, jusqu'à l'unanimité, dell'utente",
                    stem=False, stopwords=False) == [
        "ordre", "du", "jour", "aucune", "opposition", "a", "unanimite", "utente"]
    assert tokenize("L'ordre", stem=True) == tokenize("ordre", stem=True)
    # English words keep their apostrophes as before
    assert tokenize("don't o'clock the client's d'Arc", stem=False, stopwords=False) == [
        "don't", "o'clock", "the", "client", "arc"]

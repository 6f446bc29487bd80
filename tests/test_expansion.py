"""Query expansion's word vectors: corpus neighbours, and the model's lexicon cached per model."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np

from policyqa.expansion import (
    content_words,
    ensure_lexicon,
    lexicon_path,
    load_lexicon,
    model_lexicon,
)
from policyqa.query import clear_word_cache, prepare, word_vectors


def test_content_words_drop_stop_and_number_words():
    assert content_words("Can I lend a client twenty dollars? Lend!") == ["lend", "client", "dollars"]


def test_model_lexicon_is_whole_content_words():
    vocab = {"##ing": 0, "champagne": 1, "the": 2, "ab": 3, "twenty": 4, "loan": 5, "x1y": 6}
    assert model_lexicon(vocab) == ["champagne", "loan"]


def test_lexicon_is_embedded_once_and_reused_but_never_trusted_blindly(index, tmp_path, caplog):
    embedder = index.embedder
    made = ensure_lexicon(embedder, tmp_path)
    path = lexicon_path(tmp_path, embedder.identity)
    assert path.exists() and len(made.words) > 10_000
    loaded = load_lexicon(tmp_path, embedder.identity, embedder.dimension)
    assert loaded.words == made.words and np.allclose(loaded.vectors, made.vectors)
    # The stored vector of a word is the one the model gives it.
    i = made.words.index("champagne")
    assert np.allclose(made.vectors[i], embedder.encode(["champagne"])[0], atol=1e-5)
    # Another model's file, or a damaged one, is ignored (a slower query, never a wrong one).
    shutil.copy(path, lexicon_path(tmp_path, "another-model"))
    assert load_lexicon(tmp_path, "another-model", embedder.dimension) is None
    path.write_bytes(path.read_bytes()[:1000])
    assert load_lexicon(tmp_path, embedder.identity, embedder.dimension) is None
    assert "ignoring word cache" in caplog.text


def test_question_words_come_from_the_lexicon_or_are_encoded(index):
    clear_word_cache()
    words = ["champagne", "qwxzvbn"]  # a real word and a made-up one
    vectors = word_vectors(index, words)
    fresh = index.embedder.encode(words)
    assert np.allclose(vectors, fresh, atol=1e-5)
    related = prepare(index, "Can I have a glass of champagne at a client's wedding?").related
    assert "alcohol" in related


def _with_retrieval(index, **changes):
    return replace(index, settings=replace(
        index.settings, retrieval=replace(index.settings.retrieval, **changes)))


def test_words_the_corpus_lacks_get_stand_ins_that_weigh_more(index):
    question = "Can I have a glass of champagne at a client's wedding?"
    vocabulary = index.store.vocabulary
    assert "champagne" not in vocabulary.known and "client" in vocabulary.known
    query = prepare(index, question)
    # "champagne" matches nothing in BM25; its corpus neighbour stands in for it, in BM25 and in
    # the text the model reads. "client", a corpus word, gets no stand-ins.
    assert "alcohol" in query.stand_in_tokens and "alcohol" not in query.related_tokens
    assert query.embedded.startswith(question) and "alcohol" in query.embedded
    assert not {"customer", "provider"} & set(query.stand_in_tokens)

    alcohol = next(c.chunk_id for c in index.chunks if "may not use any alcohol" in c.text)
    without = _with_retrieval(index, stand_in_weight=0.0, embed_stand_ins=False)
    plain = prepare(without, question)
    assert plain.stand_in_tokens == [] and plain.embedded == plain.expanded
    rows = np.array([alcohol])
    with_stand_ins = index.store.candidates(query.vector, query.terms, 1, rows)
    without_them = index.store.candidates(plain.vector, plain.terms, 1, rows)
    assert with_stand_ins.bm25[0] > without_them.bm25[0]
    assert with_stand_ins.dense[0] > without_them.dense[0]


def test_neighbours_are_the_nearest_corpus_words_in_order(index, monkeypatch):
    """The nearest words come from a partial sort of each row; they must be exactly what a full
    sort of every corpus word gives, in the same order."""
    vocabulary = index.store.vocabulary
    words = ["money", "alcohol", "facebook", "lend", "gift", "records", "privacy", "car"]
    vectors = np.vstack([index.known_vectors[w] for w in words])
    sims = vocabulary.similarities(vectors)
    assert np.allclose(sims, vectors @ vocabulary.vectors.T, atol=1e-6)
    cases = ((1, 0.0), (3, 0.3), (5, 0.45))
    got = [vocabulary.neighbours(sims, set(), n, floor) for n, floor in cases]
    with monkeypatch.context() as m:  # the reference: every corpus word sorted
        m.setattr(np, "argpartition", lambda a, kth: np.argsort(a, kind="stable"))
        expected = [vocabulary.neighbours(sims, set(), n, floor) for n, floor in cases]
    assert got == expected
    assert all(len(found) > len(words) // 2 for found in got)

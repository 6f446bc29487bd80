"""A new embedding runtime and a new store plug in through the interfaces alone.

Both are registered from this file (embedding.RUNTIMES, store.BACKENDS); retrieval, answers and
ingestion are not touched. The embedder is the suite's deterministic one: hashed word counts,
fine for checking the plumbing, never for judging retrieval quality.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from dataclasses import replace

import numpy as np
import pytest

from policyqa import embedding, store
from policyqa.answers import ask
from policyqa.config import load_settings
from policyqa.index import load_index
from policyqa.ingest import build_index
from policyqa.lexical import Lexical, tokenize
from policyqa.quotes import find_quote
from policyqa.store.base import Build, Candidates, CorpusFacts, SentenceScores
from policyqa.store.embedded import corpus_facts

DIMENSION = 64


class HashingEmbedder:
    """Each stemmed word adds one to a hashed coordinate; vectors normalised. Deterministic."""

    identity = "hashing-64 (test)"
    dimension = DIMENSION

    def vocabulary(self) -> list[str]:
        return ["umbrella", "records", "gift"]

    def encode(self, texts, progress=None, stage="embed", batch_size=64) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in tokenize(text):
                out[row, hashlib.sha1(word.encode()).digest()[0] % DIMENSION] += 1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
            else:  # no words: any fixed unit vector
                out[row, 0] = 1.0
        if progress:
            progress(stage, len(texts), len(texts))
        return out


class MemoryStore:
    """The smallest store: the published Build kept in memory, searched by brute force."""

    def __init__(self, build: Build, settings):
        r = settings.retrieval
        self.location = "memory"
        self.manifest = build.manifest
        self.documents = {d.doc_id: d for d in build.documents}
        self.structures = build.structures
        self.chunks = build.chunks
        self.vocabulary = build.vocabulary
        self.facts: CorpusFacts = corpus_facts([d.text for d in build.documents])
        self._build = build
        self._bm25 = Lexical.from_counts(build.term_counts, r.bm25_variant, r.bm25_k1, r.bm25_b)
        self.idf = self._bm25.idf

    def rows_of(self, doc_ids: Collection[str]) -> np.ndarray:
        return np.array([c.chunk_id for c in self.chunks if c.doc_id in set(doc_ids)], dtype=int)

    def sentence_rows(self, chunk_id: int) -> range:
        rows = [i for i, c in enumerate(self._build.sentence_chunk) if c == chunk_id]
        return range(rows[0], rows[-1] + 1) if rows else range(0)

    def _best_sentence(self, vector, chunk_id: int) -> float:
        rows = self.sentence_rows(chunk_id)
        return max((float(self._build.sentence_vectors[i] @ vector) for i in rows), default=-1.0)

    def candidates(self, vector, terms, n: int, rows=None) -> Candidates:
        rows = list(range(len(self.chunks)) if rows is None else rows)
        bm25 = self._bm25.weighted_scores(terms)
        chunk_cos = {r: float(self._build.chunk_vectors[r] @ vector) for r in rows}
        sentence = {r: self._best_sentence(vector, r) for r in rows}
        found = set()
        for score in (chunk_cos, {r: float(bm25[r]) for r in rows}, sentence):
            found |= set(sorted(rows, key=lambda r, s=score: (-s[r], r))[:n])
        out = np.array(sorted(found), dtype=np.int64)
        dense = np.array([max(chunk_cos[r], sentence[r]) for r in out], dtype=np.float32)
        return Candidates(out, dense, bm25[out])

    def sentence_scores(self, vector, chunk_ids: Sequence[int]) -> list[SentenceScores]:
        out = []
        for chunk_id in chunk_ids:
            vectors = [self._build.sentence_vectors[i] for i in self.sentence_rows(chunk_id)]
            single = np.array([float(v @ vector) for v in vectors])
            pairs = np.array([float((a + b) @ vector / np.linalg.norm(a + b))
                              for a, b in zip(vectors, vectors[1:], strict=False)])
            out.append(SentenceScores(single, pairs))
        return out


class NoCache:
    def lookup(self, keys):
        return [None] * len(keys)


class MemoryBackend:
    shared = False
    builds: dict[str, Build] = {}  # location -> the published build, for the test's lifetime

    def __init__(self, settings):
        self.location = f"memory:{settings.index_dir}"

    def current_manifest(self):
        build = self.builds.get(self.location)
        return (None, "no build in memory") if build is None else (build.manifest, "")

    def open(self, settings) -> MemoryStore:
        return MemoryStore(self.builds[self.location], settings)

    def embedding_cache(self):
        return NoCache()

    def unwritable(self) -> str:
        return ""

    def publish(self, build: Build) -> str:
        self.builds[self.location] = build
        return self.location


@pytest.fixture
def plugged(monkeypatch, small_corpus, tmp_path):
    monkeypatch.setitem(embedding.RUNTIMES, "hashing", lambda settings: HashingEmbedder())
    monkeypatch.setitem(store.BACKENDS, "memory", MemoryBackend)
    monkeypatch.setattr(MemoryBackend, "builds", {})
    settings = replace(load_settings(small_corpus, tmp_path / "index"), runtime="hashing",
                       cache_dir=tmp_path / "cache")
    return settings


QUESTIONS = [
    ("Are participant records documented honestly and accurately?",
     "documented honestly and accurately"),
    ("An individual is contemplating or seeking advice about withdrawing from services: what "
     "does the Peer Advocate do?", "withdrawing from mental health services"),
]


@pytest.mark.parametrize("store_name", ["embedded", "memory"])
def test_a_new_runtime_and_store_answer_through_the_interfaces(plugged, store_name):
    settings = replace(plugged, store=store_name)
    report = build_index(settings)
    assert report.documents == 2 and report.chunks > 20
    index = load_index(settings, rebuild="never")
    assert isinstance(index.embedder, HashingEmbedder)
    assert index.store.location.startswith("memory") == (store_name == "memory")
    for question, phrase in QUESTIONS:
        answer = ask(index, question, k=3)
        assert any(phrase in p.text for p in answer.passages), [p.citation for p in answer.passages]
        assert phrase in answer.answer.text
        doc = index.documents[answer.passages[0].doc_id]
        assert all(index.documents[p.doc_id].text[p.start : p.end] == p.text
                   for p in answer.passages)
        assert doc.label in answer.passages[0].citation
    match = find_quote(index, "documented honestly and accurately")[0]
    assert match.exact and "Longmont" in match.citation


def test_the_two_stores_rank_alike(plugged):
    """The same build, in the embedded store and in the memory store: the same top passages."""
    ranked = {}
    for name in ("embedded", "memory"):
        settings = replace(plugged, store=name)
        build_index(settings)
        index = load_index(settings, rebuild="never")
        ranked[name] = [[(p.doc_id, p.start) for p in ask(index, q, k=3).passages]
                        for q, _ in QUESTIONS]
    assert ranked["embedded"] == ranked["memory"]

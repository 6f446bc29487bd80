"""Stage 5: rank chunks for a prepared question: BM25, dense, or a fusion of the two.

The store gives the candidates (the union of the dense, BM25 and best-sentence top-n, with their
raw scores); this module fuses and boosts them. The fusion strategy is data, not an if-chain:
FUSIONS maps a name to a small pure function. Nothing here touches stored arrays or a backend.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Protocol

import numpy as np

from .blas import one_blas_thread
from .chunks import Chunk
from .index import Index
from .normalize import normalize

MODES = ("hybrid", "bm25", "dense")


class Prepared(Protocol):
    """What ranking needs of a prepared question (query.Query)."""

    vector: np.ndarray
    terms: Sequence[tuple[Sequence[str], float]]
    named_docs: set[str]
    phrases: list[str]


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float
    bm25: float
    rank: int = 0
    # Lower-ranked chunks with the very same words (RetrievalSettings.fold_copies), best first.
    copies: list[Chunk] = field(default_factory=list)


def _minmax(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


def weighted_fusion(dense: np.ndarray, bm25: np.ndarray, weight: float, rrf_k: int) -> np.ndarray:
    """Min-max normalised scores over the candidates, blended: weight on dense, rest on BM25."""
    return weight * _minmax(dense) + (1.0 - weight) * _minmax(bm25)


def rrf_fusion(dense: np.ndarray, bm25: np.ndarray, weight: float, rrf_k: int) -> np.ndarray:
    """Reciprocal rank fusion (weighted): sum of w / (k + rank) over the two lists."""
    ranks_d = np.empty(len(dense))
    ranks_d[np.argsort(-dense, kind="stable")] = np.arange(1, len(dense) + 1)
    ranks_b = np.empty(len(bm25))
    ranks_b[np.argsort(-bm25, kind="stable")] = np.arange(1, len(bm25) + 1)
    return 2 * weight / (rrf_k + ranks_d) + 2 * (1.0 - weight) / (rrf_k + ranks_b)


FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray, float, int], np.ndarray]] = {
    "weighted": weighted_fusion,
    "rrf": rrf_fusion,
}


def hint_boosts(index: Index, query: Prepared, chunks: list[Chunk]) -> np.ndarray:
    """What the question's own hints add to each candidate, in every mode: a document it names
    (RetrievalSettings.named_document_boost) and a phrase it puts in double quotes
    (quoted_phrase_boost). Whoever writes "what does 4.12 say..." or "in but not of the
    system" in quotes means it whether the page searches by meaning, by keywords or both.
    Before, only hybrid read them (eval/EXPERIMENTS.md, "hints in every mode")."""
    r = index.settings.retrieval
    boost = np.zeros(len(chunks))
    if query.named_docs and r.named_document_boost:
        boost += r.named_document_boost * np.array([c.doc_id in query.named_docs for c in chunks])
    if query.phrases and r.quoted_phrase_boost:
        texts = [normalize(c.text) for c in chunks]
        boost += r.quoted_phrase_boost * np.array([any(p in t for p in query.phrases)
                                                   for t in texts])
    return boost


@one_blas_thread
def search(index: Index, query: Prepared, mode: str = "hybrid", k: int = 5,
           docs: list[str] | None = None) -> list[Hit]:
    """Top-k chunks for a prepared question; `docs` restricts to those document ids."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    store = index.store
    rows = store.rows_of(docs) if docs else None
    if rows is not None and len(rows) == 0:
        return []
    r = index.settings.retrieval
    found = store.candidates(query.vector, query.terms, max(r.candidates, k), rows)
    chunks = [store.chunks[int(c)] for c in found.rows]
    if mode == "dense":
        scores = found.dense
    elif mode == "bm25":
        scores = found.bm25
    else:
        scores = FUSIONS[r.fusion](found.dense, found.bm25, r.dense_weight, r.rrf_k)
    boost = hint_boosts(index, query, chunks)
    if boost.any():
        # A single mode's raw scores (BM25 points, cosines) are put on the fused score's 0-1
        # scale first, so that a hint weighs the same in every mode.
        scores = (scores if mode == "hybrid" else _minmax(scores)) + boost
    order = np.argsort(-scores, kind="stable")
    if not r.fold_copies:
        order = order[:k]
    hits: list[Hit] = []
    kept: dict[object, Hit] = {}
    words = copy_keys(index)
    for i in order:
        key = words(chunks[i].chunk_id) if r.fold_copies else int(i)
        if key in kept:
            kept[key].copies.append(chunks[i])
        elif len(hits) < k:
            hits.append(Hit(chunks[i], float(scores[i]), float(found.dense[i]),
                            float(found.bm25[i]), rank=len(hits) + 1))
            kept[key] = hits[-1]
    return hits


_WORD = re.compile(r"\w+")


def copy_key(index: Index, chunk: Chunk) -> tuple[str, ...]:
    """A chunk's words in order, punctuation, layout, case and typography aside: two chunks with
    the same key say the same thing word for word. An agency keeps a policy as its Word file and
    the PDF exported from it (and often its intranet page); every question then found each
    passage two or three times, which pushed other passages out of the top k. A copy is folded
    into the best-ranked chunk with its words and cited beside it ("also in"), so the place a
    reader's copy holds the words is not hidden (the same words score alike, so a copy is among
    the candidates its original is). Only the very same words fold: 'Rule 5' and 'Rule 6' of a
    template's otherwise identical paragraphs stay apart."""
    return copy_keys(index)(chunk.chunk_id)


def copy_keys(index: Index) -> Callable[[int], tuple[str, ...]]:
    """copy_key by chunk id, remembered for the last 8,192 chunks seen: the same candidates come
    back question after question (a search reads about a hundred)."""
    return index.derived("retrieval.copy_key", lambda: lru_cache(8192)(partial(_copy_key, index)))


def _copy_key(index: Index, chunk_id: int) -> tuple[str, ...]:
    return tuple(_WORD.findall(normalize(index.store.chunks[chunk_id].text)))

"""Query expansion from the corpus's own vocabulary, by embedding-space neighbours.

Staff ask in everyday words ("champagne", "crush", "lend") that the policies put otherwise
("alcohol", "attraction", "loan"). BM25 cannot bridge that; the embedding model can, one word at a
time. Each question word brings in its nearest corpus words above a similarity floor, and these
count at a fraction of a question word's weight in BM25 (RAGFlow weights synonyms at a quarter).
A word the corpus never uses matches nothing on its own, so its neighbours stand in for it at a
higher weight (retrieval.prepare; measured in eval/EXPERIMENTS.md).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .languages import ENGLISH
from .lexical import stopwords_of, tokenize
from .normalize import fold, unaccented

# Number words sit close to each other in embedding space and carry no policy meaning.
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million first second third several many few""".split()
)
_WORD = re.compile(r"[a-z]{3,}")


def content_words(text: str, language: str = ENGLISH) -> list[str]:
    """The words worth looking up neighbours for: not a stop word of the text's language."""
    stops = stopwords_of(language)
    words = _WORD.findall(unaccented(fold(text)).lower())
    return list(dict.fromkeys(w for w in words if w not in stops and w not in _NUMBER_WORDS))


@dataclass
class Vocabulary:
    """The corpus's content words and their embeddings (stored with the index)."""

    words: list[str]
    vectors: np.ndarray

    @cached_property
    def known(self) -> frozenset[str]:
        return frozenset(self.words)

    @cached_property
    def rows(self) -> dict[str, int]:
        return {w: i for i, w in enumerate(self.words)}

    @cached_property
    def stems(self) -> list[str | None]:
        """Each word's stem (None for a word that has none), worked out once, not per question."""
        return [next(iter(tokenize(w)), None) for w in self.words]

    def similarities(self, word_vectors: np.ndarray) -> np.ndarray:
        """Cosine of each given vector with every corpus word, in one product for all of a
        question's words: the product reads every corpus word's vector, and reading them was
        most of its time, so two groups of words are not worth two products. Taken as
        (corpus words x given words), transposed: the same numbers, in half the time (OpenBLAS
        streams the large matrix better as the left operand; measured 0.30 against 0.58 ms)."""
        if not self.words:
            return np.zeros((len(word_vectors), 0), dtype=np.float32)
        return (self.vectors @ word_vectors.T).T

    def neighbours(self, sims: np.ndarray, exclude: set[str], per_word: int,
                   min_similarity: float) -> list[str]:
        """Nearest corpus words for each row of `similarities`, skipping words whose stem is
        excluded."""
        out: list[str] = []
        width = min(per_word + 8, sims.shape[1])
        if width == 0:
            return out
        for row in sims:
            taken = 0
            # the `width` best, then only those sorted: a full sort of every corpus word was a
            # tenth of a question's time outside the model
            best = np.argpartition(-row, width - 1)[:width]
            for j in best[np.argsort(-row[best])]:
                if row[j] < min_similarity or taken >= per_word:
                    break
                stem = self.stems[j]
                if stem is not None and stem not in exclude:
                    out.append(self.words[j])
                    exclude = exclude | {stem}
                    taken += 1
        return out


def model_lexicon(tokenizer_vocab: Iterable[str]) -> list[str]:
    """The embedding model's whole-word tokens that a question could use as content words."""
    return sorted(w for w in set(tokenizer_vocab) if _WORD.fullmatch(w) and content_words(w) == [w])


# ---------------------------------------------------------------- the model's lexicon, cached
# A question's everyday words must be embedded to find their corpus neighbours, and encoding them
# took as long as encoding the question. They depend on the model only, not on the corpus, so the
# model's ~20k whole-word tokens are embedded once per model and machine and looked up after.


def lexicon_path(cache_dir: Path, identity: str) -> Path:
    return Path(cache_dir) / f"lexicon-{hashlib.sha256(identity.encode()).hexdigest()[:16]}.npz"


def load_lexicon(cache_dir: Path, identity: str, dimension: int) -> Vocabulary | None:
    """The cached lexicon for this model, or None when there is none or it cannot be trusted."""
    path = lexicon_path(cache_dir, identity)
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            words, vectors, stored = list(data["words"]), data["vectors"], str(data["identity"])
        if stored != identity or vectors.shape != (len(words), dimension):
            raise ValueError("made by another model or damaged")
        return Vocabulary([str(w) for w in words], vectors.astype(np.float32, copy=False))
    except Exception as exc:  # a damaged cache is only a slower query, never a wrong one
        logging.getLogger("policyqa").warning("policyqa: ignoring word cache %s: %s", path, exc)
        return None


def ensure_lexicon(embedder, cache_dir: Path, progress=None) -> Vocabulary:
    """Load the model's lexicon, embedding and saving it (atomically) the first time."""
    cached = load_lexicon(cache_dir, embedder.identity, embedder.dimension)
    if cached is not None:
        return cached
    words = model_lexicon(embedder.vocabulary())
    vectors = embedder.encode(words, progress, "embed the model's words (once per model)", 256)
    path = lexicon_path(cache_dir, embedder.identity)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.tmp.npz")
    try:
        np.savez(tmp, words=np.array(words), vectors=vectors, identity=np.array(embedder.identity))
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return Vocabulary(words, vectors)


def corpus_vocabulary(texts: list[str]) -> list[str]:
    return sorted({w for text in texts for w in content_words(text)})

"""Query expansion from the corpus's own vocabulary, by embedding-space neighbours.

Staff ask in everyday words ("champagne", "crush", "lend") that the policies put otherwise
("alcohol", "attraction", "loan"). BM25 cannot bridge that; the embedding model can, one word at a
time. Each question word brings in its nearest corpus words above a similarity floor, and these
count at a fraction of a question word's weight in BM25 (RAGFlow weights synonyms at a quarter).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .lexical import STOPWORDS, tokenize
from .normalize import fold

# Number words sit close to each other in embedding space and carry no policy meaning.
_NUMBER_WORDS = frozenset(
    """one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty
    hundred thousand million first second third several many few""".split()
)
_WORD = re.compile(r"[a-z]{3,}")


def content_words(text: str) -> list[str]:
    words = _WORD.findall(fold(text).lower())
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS and w not in _NUMBER_WORDS))


@dataclass
class Vocabulary:
    """The corpus's content words and their embeddings (stored with the index)."""

    words: list[str]
    vectors: np.ndarray

    def neighbours(self, word_vectors: np.ndarray, exclude: set[str], per_word: int,
                   min_similarity: float) -> list[str]:
        """Nearest corpus words to each given vector, skipping words whose stem is excluded."""
        if not self.words or len(word_vectors) == 0:
            return []
        sims = word_vectors @ self.vectors.T
        out: list[str] = []
        for row in sims:
            taken = 0
            for j in np.argsort(-row)[: per_word + 8]:
                if row[j] < min_similarity or taken >= per_word:
                    break
                stems = tokenize(self.words[j])
                if stems and stems[0] not in exclude:
                    out.append(self.words[j])
                    exclude = exclude | {stems[0]}
                    taken += 1
        return out


def corpus_vocabulary(texts: list[str]) -> list[str]:
    return sorted({w for text in texts for w in content_words(text)})

"""Larger corpora made from the real documents' own text, and random vectors to index them.

Sentences of the real corpus are shuffled into new paragraphs under the real section titles, in
documents with new names, so tokenization, sectioning and chunking do real work on realistic text
at any size; only the vectors are random when the model cannot embed that much on 2 cores.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np

from policyqa.chunks import make_chunks
from policyqa.config import Settings
from policyqa.documents import load_corpus, read_document
from policyqa.embedding import Progress, load_embedder
from policyqa.sections import parse_sections

_MARKER = re.compile(r"^\s*(?:\d+|[A-Za-z]|[IVXLC]+)[.)]\s+")
SECTIONS_PER_DOC = 40
CALIBRATION_DOCS = 8


class RandomEmbedder:
    """Random unit vectors of the model's dimension; a distinct identity so no cache mixes them.
    The vocabulary is the real model's, so query expansion has the same words to embed."""

    def __init__(self, settings: Settings, dimension: int = 384, seed: int = 0):
        self._real = load_embedder(settings)
        self._dimension = dimension
        self._rng = np.random.default_rng(seed)

    @property
    def identity(self) -> str:
        return f"random-unit-vectors-{self._dimension}"

    @property
    def dimension(self) -> int:
        return self._dimension

    def vocabulary(self) -> list[str]:
        return self._real.vocabulary()

    def encode(self, texts: list[str], progress: Progress | None = None, stage: str = "embed",
               batch_size: int = 20000) -> np.ndarray:
        out = np.empty((len(texts), self._dimension), dtype=np.float32)
        for i in range(0, len(texts), batch_size):
            block = self._rng.standard_normal((min(batch_size, len(texts) - i), self._dimension),
                                              dtype=np.float32)
            out[i : i + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
            if progress:
                progress(stage, i + len(block), len(texts))
        return out


def real_text(settings: Settings) -> tuple[list[str], list[str]]:
    """The real corpus's sentences (list markers removed) and its section titles."""
    docs, _ = load_corpus(settings.corpus_dir)
    sentences, titles = [], []
    for doc in docs:
        structure = parse_sections(doc)
        titles += [s.title.strip(" :") for s in structure.sections[1:]
                   if s.title and 1 <= len(s.title.split()) <= 8]
        for chunk in make_chunks(doc, structure, settings.chunking):
            for s, e in chunk.sentences:
                sentence = _MARKER.sub("", " ".join(doc.text[s:e].split()))
                if len(sentence.split()) >= 4:
                    sentences.append(sentence)
    return sentences, titles or ["General"]


def _document(number: int, sentences: list[str], titles: list[str], rng: random.Random) -> str:
    parts = [f"Synthetic Policy {number:05d}", ""]
    for _ in range(SECTIONS_PER_DOC):
        parts += [f"{rng.choice(titles).title()}:", ""]
        for _ in range(2):
            parts += [" ".join(rng.sample(sentences, rng.randint(2, 4))), ""]
    return "\n".join(parts)


def make_corpus(settings: Settings, chunks: int, folder: Path, seed: int = 0) -> int:
    """Write about `chunks` chunks' worth of renamed, re-sectioned documents; returns the count."""
    rng = random.Random(seed)
    sentences, titles = real_text(settings)
    folder.mkdir(parents=True, exist_ok=True)
    made = 0
    for n in range(CALIBRATION_DOCS):  # chunks per document vary: measure a few
        path = folder / f"synthetic-policy-{n:05d}.txt"
        path.write_text(_document(n, sentences, titles, rng), encoding="utf-8")
        doc = read_document(path)
        made += len(make_chunks(doc, parse_sections(doc), settings.chunking))
        if made >= chunks:
            return n + 1
    documents = max(CALIBRATION_DOCS, round(chunks * CALIBRATION_DOCS / max(made, 1)))
    for n in range(CALIBRATION_DOCS, documents):
        (folder / f"synthetic-policy-{n:05d}.txt").write_text(
            _document(n, sentences, titles, rng), encoding="utf-8")
    return documents

"""What any store holds and answers: the interface retrieval, answers and ingestion speak to.

A store keeps one built index (documents, section trees, chunks, their sentences, the vectors of
each, BM25 term counts, the corpus vocabulary, the manifest) and answers the few questions a
query asks of it. Retrieval never sees a stored array: it asks for `candidates` (the union of the
dense, BM25 and best-sentence top-n, with their raw scores, in one call, so a database answers it
in one statement) and fuses them itself; answers ask for `sentence_scores` of a few chunks. The
write side takes a whole `Build`, and makes it current atomically, so readers never see half an
index.

Two backends are planned: the embedded one (files under index/, in process; store/embedded.py)
and PostgreSQL + pgvector. `Backend` is the seam a new one plugs into.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ..chunks import Chunk
from ..documents import Document, Skipped
from ..expansion import Vocabulary
from ..lexical import TermCounts
from ..sections import Structure

# A question's BM25 terms: groups of tokens, each at its weight (words 1, related words less).
Terms = Sequence[tuple[Sequence[str], float]]


@dataclass
class Candidates:
    """The chunks worth fusing for one question, with the raw scores fusion needs.

    `dense` is each chunk's cosine with the question, or its best sentence's if that is higher;
    `bm25` its weighted BM25. Rows are chunk ids, ascending.
    """

    rows: np.ndarray
    dense: np.ndarray
    bm25: np.ndarray


@dataclass
class SentenceScores:
    """One chunk's sentences against a question: cosine of each sentence, and of each pair of
    adjacent sentences read together (their summed vectors, normalised)."""

    single: np.ndarray
    pairs: np.ndarray  # pairs[i] is sentences i and i + 1


@dataclass
class CorpusFacts:
    """What a query rewrite needs to know of the whole corpus."""

    acronyms: dict[str, str] = field(default_factory=dict)  # "pss" -> "Peer Support Specialists"
    amounts: frozenset[str] = frozenset()  # sums of money the documents name ("$25")


@dataclass
class Build:
    """Everything one ingest produces: what a store writes as one new version."""

    manifest: dict
    documents: list[Document]
    structures: dict[str, Structure]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray  # in chunk order: each chunk's sentences are one run of rows
    sentence_chunk: np.ndarray  # the chunk id of each sentence row
    vocabulary: Vocabulary
    keys: dict[str, np.ndarray]  # embedding-cache key of each row, per kind (chunks, sentences, ...)
    term_counts: TermCounts
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class DocumentPart:
    """One document's share of a build: what ingest makes of one file before the corpus-wide
    steps (duplicates, global chunk ids, vocabulary, BM25 statistics) that need every document.
    One-process ingest holds them in memory; the workers of a shared ingest write each to the
    database (store/postgres_jobs.py) and the finalising worker assembles them."""

    document: Document
    structure: Structure
    chunks: list[Chunk]  # chunk ids local to the document: 0, 1, 2, ...
    tokens: list[list[str]]  # each chunk's BM25 tokens
    # "chunks": one row per chunk; "sentences": one per sentence, chunk by chunk (filled when
    # embedded), with the embedding-cache key of each row.
    vectors: dict[str, np.ndarray] = field(default_factory=dict)
    keys: dict[str, np.ndarray] = field(default_factory=dict)

    def sentence_texts(self) -> list[str]:
        text = self.document.text
        return [text[s:e] for c in self.chunks for s, e in c.sentences]


class Store(Protocol):
    """A loaded index, read-only."""

    location: str  # where this version lives (a folder, a database version), for messages
    manifest: dict
    documents: Mapping[str, Document]
    structures: Mapping[str, Structure]
    chunks: Sequence[Chunk]  # chunk id -> Chunk
    vocabulary: Vocabulary
    facts: CorpusFacts
    idf: Mapping[str, float]  # BM25 idf of each indexed term

    def rows_of(self, doc_ids: Collection[str]) -> np.ndarray:
        """Chunk ids of those documents, ascending."""
        ...

    def sentence_rows(self, chunk_id: int) -> range:
        """The sentence rows of one chunk (its sentences, in order)."""
        ...

    def candidates(self, vector: np.ndarray, terms: Terms, n: int,
                   rows: np.ndarray | None = None) -> Candidates:
        """Union of the top-n chunks by cosine, by BM25 and by best sentence, among `rows`
        (all chunks when None), with their dense and BM25 scores."""
        ...

    def sentence_scores(self, vector: np.ndarray, chunk_ids: Sequence[int]) -> list[SentenceScores]:
        ...


class EmbeddingCache(Protocol):
    """Vectors an earlier build embedded, found by key (model identity and text)."""

    def lookup(self, keys: np.ndarray) -> list[np.ndarray | None]: ...


class Backend(Protocol):
    """Where builds are kept: the current version's manifest, opening it, writing a new one."""

    location: str
    # A shared store (a database many machines read) is built by `policyqa ingest` on one of
    # them: its readers take its current version as it is, never checking it against (or
    # rebuilding it from) a corpus folder of their own, which may be absent or another one.
    shared: bool

    def current_manifest(self) -> tuple[dict | None, str]:
        """The current version's manifest, and why it cannot be used ("" when it can)."""
        ...

    def open(self, settings) -> Store:
        """Load the current version (raises IndexError_ when it is missing or damaged)."""
        ...

    def embedding_cache(self) -> EmbeddingCache:
        """The current version's vectors, for an incremental build (empty when untrusted)."""
        ...

    def unwritable(self) -> str:
        """Why this process cannot publish a version here ("" when it can), known before a
        build spends its minutes reading and embedding: staff asking from an index the agency's
        IT builds may read it and not write it."""
        ...

    def publish(self, build: Build) -> str:
        """Write the build as a new version, verify it, make it current atomically, prune old
        versions no reader needs; returns the new version's location."""
        ...

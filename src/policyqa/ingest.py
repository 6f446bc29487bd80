"""Stage 4: read, section, chunk and embed the corpus into a Build, and publish it to the store.

Incremental ingest: every stored vector row has a key, sha256 of (model identity, embedded text).
The current build is the embedding cache of the next one: texts whose key it holds are not
embedded again, so editing one document re-embeds only its changed chunks, sentences and words.
The store trusts its cache only when its checksums verify, and the key names the model, so a
damaged or foreign cache is never used, only ignored.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .chunks import Chunk, make_chunks
from .config import Settings
from .documents import Skipped, corpus_files, load_corpus
from .embedding import Embedder, load_embedder
from .errors import IndexError_
from .expansion import Vocabulary, corpus_vocabulary, ensure_lexicon
from .lexical import TermCounts, tokenize
from .manifest import corpus_hashes, make_manifest
from .sections import Structure, parse_sections
from .store import Build, backend
from .store.base import EmbeddingCache

Progress = Callable[[str, int, int], None]  # (stage, done, total)


class NoDocumentsError(IndexError_):
    """Nothing in the corpus could be read; `skipped` says why for each file."""

    def __init__(self, corpus_dir: Path, skipped: list[Skipped]):
        self.corpus_dir = corpus_dir
        self.skipped = skipped
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        super().__init__(f"no readable documents in {corpus_dir} "
                         f"({reasons or 'no .txt, .md or .pdf files'})")


@dataclass
class BuildReport:
    path: Path
    documents: int
    sections: int
    chunks: int
    sentences: int
    skipped: list[Skipped]
    seconds: float
    embedded: dict[str, int] = field(default_factory=dict)  # texts embedded, per kind
    cached: dict[str, int] = field(default_factory=dict)  # texts whose vectors were reused
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage


def embedding_text(chunk: Chunk, with_headings: bool) -> str:
    """What the model reads for a chunk: its section headings as context, then its words."""
    if with_headings and chunk.heading_text:
        return f"{chunk.heading_text}: {chunk.text}"
    return chunk.text


def lexical_text(chunk: Chunk, with_headings: bool, label: str) -> str:
    """The words BM25 indexes: the document's label and section headings, then the chunk's.

    The label tops every chunk's heading path, so a question that names its document ("where
    does the code of conduct say...") matches all of that document's chunks alike, rather than
    favouring the one chunk that carries the title.
    """
    return f"{label} {chunk.heading_text} {chunk.text}" if with_headings else chunk.text


# ---------------------------------------------------------------- embedding with a cache


def text_keys(identity: str, texts: list[str]) -> np.ndarray:
    """sha256 of (model identity, text) per text, as rows of 32 bytes."""
    digests = b"".join(hashlib.sha256(f"{identity}\0{t}".encode()).digest() for t in texts)
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), 32)


@dataclass
class Embedded:
    """Vectors for a list of texts, their keys, and how many came from the cache."""

    vectors: np.ndarray
    keys: np.ndarray
    cached: int
    seconds: float


def embed_cached(embedder: Embedder, cache: EmbeddingCache, texts: list[str],
                 progress: Progress | None, stage: str) -> Embedded:
    """Embed only the texts the cache lacks; progress counts cached texts as done first."""
    started = time.perf_counter()
    keys = text_keys(embedder.identity, texts)
    found = cache.lookup(keys)
    missing = [i for i, hit in enumerate(found) if hit is None]
    cached = len(texts) - len(missing)
    label = f"{stage} ({cached} cached)" if cached else stage
    if progress and cached:
        progress(label, cached, len(texts))

    def moved(inner: str, done: int, total: int) -> None:
        if progress:  # the embedder's own stages (making the ONNX file) pass through as they are
            progress(label, cached + done, len(texts)) if inner == label else progress(
                inner, done, total)

    new = embedder.encode([texts[i] for i in missing], moved, label) if missing else None
    if new is not None:
        dimension = new.shape[1]
    elif cached:
        dimension = next(hit for hit in found if hit is not None).shape[0]
    else:
        dimension = embedder.dimension
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    for i, hit in enumerate(found):
        if hit is not None:
            vectors[i] = hit
    if new is not None:
        vectors[missing] = new
    return Embedded(vectors, keys, cached, time.perf_counter() - started)


# ---------------------------------------------------------------- the build


def build_index(settings: Settings, progress: Progress | None = None,
                embedder: Embedder | None = None) -> BuildReport:
    """Read, section, chunk and embed the corpus, then atomically make it the current index.

    Texts the current build already embedded with the same model are reused, not re-embedded.
    `embedder` replaces the settings' model (the benchmark uses random vectors at 100k chunks).
    """
    started = time.perf_counter()
    corpus_dir = Path(settings.corpus_dir)
    hashes = corpus_hashes(corpus_dir)
    files = corpus_files(corpus_dir) if corpus_dir.is_dir() else []
    count = [0]

    def on_file(path: Path) -> None:
        count[0] += 1
        if progress:
            progress("read", count[0], len(files))

    docs, skipped = load_corpus(corpus_dir, on_file)
    if not docs:
        raise NoDocumentsError(corpus_dir, skipped)

    structures: dict[str, Structure] = {}
    chunks: list[Chunk] = []
    for doc in docs:
        structure = parse_sections(doc)
        structures[doc.doc_id] = structure
        chunks.extend(make_chunks(doc, structure, settings.chunking, first_id=len(chunks)))

    timings = {"read and chunk": time.perf_counter() - started}
    r = settings.retrieval
    with_headings = r.heading_context
    embedder = embedder or load_embedder(settings)
    store = backend(settings)
    cache = store.embedding_cache()
    texts_by_id = {d.doc_id: d.text for d in docs}
    labels = {d.doc_id: d.label for d in docs}
    sentence_texts, sentence_chunk = [], []
    for c in chunks:
        for s, e in c.sentences:
            sentence_texts.append(texts_by_id[c.doc_id][s:e])
            sentence_chunk.append(c.chunk_id)
    words = corpus_vocabulary([d.text for d in docs])
    texts = {"chunks": [embedding_text(c, with_headings) for c in chunks],
             "sentences": sentence_texts, "vocabulary": words}
    embedded = {kind: embed_cached(embedder, cache, items, progress, f"embed {kind}")
                for kind, items in texts.items()}
    mark = time.perf_counter()
    ensure_lexicon(embedder, settings.cache_dir, progress)  # once per model and machine
    timings["lexicon"] = time.perf_counter() - mark
    timings.update({f"embed {kind}": e.seconds for kind, e in embedded.items()})
    mark = time.perf_counter()
    term_counts = TermCounts.from_tokens(
        [tokenize(lexical_text(c, with_headings, labels[c.doc_id]), r.stem, r.stopwords)
         for c in chunks])
    timings["tokenize"] = time.perf_counter() - mark

    counts = {
        "documents": len(docs),
        "sections": sum(len(s.sections) - 1 for s in structures.values()),
        "chunks": len(chunks),
        "sentences": len(sentence_texts),
    }
    chunk_vectors = embedded["chunks"].vectors
    build = Build(
        manifest=make_manifest(settings, hashes, chunk_vectors.shape[1], counts, skipped),
        documents=docs, structures=structures, chunks=chunks, chunk_vectors=chunk_vectors,
        sentence_vectors=embedded["sentences"].vectors,
        sentence_chunk=np.asarray(sentence_chunk, dtype=np.int64),
        vocabulary=Vocabulary(words, embedded["vocabulary"].vectors),
        keys={kind: e.keys for kind, e in embedded.items()}, term_counts=term_counts,
        skipped=skipped,
    )
    mark = time.perf_counter()
    location = store.publish(build)
    timings["write"] = time.perf_counter() - mark
    return BuildReport(
        Path(location), len(docs), counts["sections"], len(chunks), len(sentence_texts), skipped,
        time.perf_counter() - started,
        embedded={kind: len(texts[kind]) - e.cached for kind, e in embedded.items()},
        cached={kind: e.cached for kind, e in embedded.items()}, timings=timings,
    )

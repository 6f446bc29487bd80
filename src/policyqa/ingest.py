"""Stage 4: read, section, chunk and embed the corpus into a Build, and publish it to the store.

Incremental ingest: every stored vector row has a key, sha256 of (model identity, embedded text).
The current build is the embedding cache of the next one: texts whose key it holds are not
embedded again, so editing one document re-embeds only its changed chunks, sentences and words.
The store trusts its cache only when its checksums verify, and the key names the model, so a
damaged or foreign cache is never used, only ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .chunks import Chunk, make_chunks
from .config import Settings
from .documents import (
    METADATA_FILE,
    Document,
    Skipped,
    admit,
    check_corpus_dir,
    corpus_files,
    corpus_metadata,
    corpus_name,
    load_corpus,
    read_corpus_file,
    text_name,
)
from .embedding import Embedder, load_embedder
from .errors import IndexError_
from .expansion import Vocabulary, corpus_vocabulary, ensure_lexicon
from .lexical import TermCounts, tokenize
from .manifest import build_key, corpus_hashes, corpus_state, file_hash, make_manifest
from .sections import Structure, parse_sections
from .store import Build, backend
from .store.base import DocumentPart, EmbeddingCache

if TYPE_CHECKING:  # psycopg is imported only by a database ingest
    from .store.postgres_jobs import Claim

Progress = Callable[[str, int, int], None]  # (stage, done, total)
LARGE_PDF_PAGES = 20  # a PDF this long reports its pages as it is read


class NoDocumentsError(IndexError_):
    """Nothing in the corpus could be read; `skipped` says why for each file."""

    def __init__(self, corpus_dir: Path, skipped: list[Skipped]):
        self.corpus_dir = corpus_dir
        self.skipped = skipped
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        super().__init__(f"no readable documents in {corpus_dir} "
                         f"({reasons or 'no files'})")


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
    files: list[dict] = field(default_factory=list)  # one row per corpus file (file_rows)
    # A worker of a shared ingest (ingest_shared): its id, its job, the files it read itself,
    # and whether it finalised the job; None for a one-process ingest.
    worker: dict | None = None

    def to_json(self) -> dict:
        """The stable JSON of `policyqa ingest --json`: every file of the corpus folder (and,
        from a worker of a shared ingest, what that worker did)."""
        report = report_json(self.files, self.seconds, str(self.path))
        return {**report, "worker": self.worker} if self.worker else report

    def record(self) -> dict:
        """What every worker of a shared ingest reports alike (JSON), stored with the job."""
        return {"path": str(self.path), "documents": self.documents, "sections": self.sections,
                "chunks": self.chunks, "sentences": self.sentences,
                "skipped": [dataclasses.asdict(s) for s in self.skipped],
                "embedded": self.embedded, "cached": self.cached, "files": self.files}

    @classmethod
    def from_record(cls, record: dict, seconds: float, timings: dict[str, float],
                    worker: dict) -> BuildReport:
        return cls(Path(record["path"]), record["documents"], record["sections"],
                   record["chunks"], record["sentences"],
                   [Skipped(**s) for s in record["skipped"]], seconds, record["embedded"],
                   record["cached"], timings, record["files"], worker)


def file_rows(docs: list, structures: dict[str, Structure], chunks: list[Chunk],
              skipped: list[Skipped], corpus_dir: Path) -> list[dict]:
    """Every file of the corpus folder, indexed or not, with why and how much it gave."""
    per_doc: dict[str, int] = {}
    for c in chunks:
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    rows = []
    folder = Path(text_name(str(corpus_dir)))  # as read_document writes Document.path
    for d in docs:
        path = Path(d.path)
        name = path.relative_to(folder).as_posix() if path.is_relative_to(folder) else d.path
        rows.append({"file": name, "status": "indexed", "reason": "; ".join(d.warnings),
                     "pages": d.pages, "sections": len(structures[d.doc_id].sections) - 1,
                     "chunks": per_doc.get(d.doc_id, 0)})
    rows += [{"file": s.path, "status": s.status, "reason": s.reason, "pages": 0, "sections": 0,
              "chunks": 0} for s in skipped]
    return sorted(rows, key=lambda r: r["file"])


def report_json(rows: list[dict], seconds: float = 0.0, index: str = "") -> dict:
    totals = {"files": len(rows), "seconds": round(seconds, 2), "index": index}
    for status in ("indexed", "skipped", "unsupported", "duplicate"):
        totals[status] = sum(r["status"] == status for r in rows)
    for key in ("pages", "sections", "chunks"):
        totals[key] = sum(r[key] for r in rows)
    return {"documents": rows, "totals": totals}


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
    """Vectors for a list of texts, their keys, how many came from the cache and how many from
    the model's lexicon (vocabulary words, looked up rather than encoded); the rest were encoded."""

    vectors: np.ndarray
    keys: np.ndarray
    cached: int
    seconds: float
    lexicon: int = 0

    @property
    def encoded(self) -> int:
        return len(self.keys) - self.cached - self.lexicon


def embed_cached(embedder: Embedder, cache: EmbeddingCache, texts: list[str],
                 progress: Progress | None, stage: str) -> Embedded:
    """Embed only the texts the cache lacks, each distinct text once (a sentence a policy repeats
    is encoded once); progress counts cached texts as done first."""
    started = time.perf_counter()
    keys = text_keys(embedder.identity, texts)
    found = cache.lookup(keys)
    missing = [i for i, hit in enumerate(found) if hit is None]
    cached = len(texts) - len(missing)
    label = f"{stage} ({cached} cached)" if cached else stage
    if progress and cached:
        progress(label, cached, len(texts))
    distinct = list(dict.fromkeys(texts[i] for i in missing))

    def moved(inner: str, done: int, total: int) -> None:
        if not progress:
            return
        if inner == label:  # done counts distinct texts; the bar counts every text
            progress(label, cached + round(done * len(missing) / total), len(texts))
        else:  # the embedder's own stages (making the ONNX file) pass through as they are
            progress(inner, done, total)

    new = None
    if distinct:
        once = embedder.encode(distinct, moved, label)
        where = {text: row for row, text in enumerate(distinct)}
        new = once[[where[texts[i]] for i in missing]]
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


def embed_words(embedder: Embedder, cache: EmbeddingCache, words: list[str], lexicon: Vocabulary,
                progress: Progress | None) -> Embedded:
    """The corpus vocabulary's vectors. A word the previous build embedded comes from the cache;
    else a word in the model's lexicon (a whole-word token, embedded alone once per model) takes
    the lexicon's vector, which is what encoding the word again would give; only the rest (words
    the tokenizer splits) are encoded. On the seed corpus 1,987 of its 2,269 words are in the
    lexicon, so a fresh build encodes 282 words instead of 2,269. `cached` counts only the
    previous build's texts and `lexicon` the words looked up, so the ingest report's "embedded"
    counts what was encoded."""
    started = time.perf_counter()
    keys = text_keys(embedder.identity, words)
    found = cache.lookup(keys)
    rows = lexicon.rows
    rest = [i for i, hit in enumerate(found) if hit is None and words[i] not in rows]
    fresh = embed_cached(embedder, cache, [words[i] for i in rest], progress, "embed vocabulary")
    vectors = np.empty((len(words), embedder.dimension), dtype=np.float32)
    for i, (word, hit) in enumerate(zip(words, found, strict=True)):
        if hit is not None:
            vectors[i] = hit
        elif word in rows:
            vectors[i] = lexicon.vectors[rows[word]]
    if rest:
        vectors[rest] = fresh.vectors
    cached = sum(hit is not None for hit in found)
    return Embedded(vectors, keys, cached, time.perf_counter() - started,
                    lexicon=len(words) - cached - len(rest))


# ---------------------------------------------------------------- the build, per document


def prepare_document(doc: Document, settings: Settings) -> DocumentPart:
    """A document's own steps: its section tree, its chunks (ids local to it), their BM25 tokens."""
    structure = parse_sections(doc)
    chunks = make_chunks(doc, structure, settings.chunking)
    r = settings.retrieval
    tokens = [tokenize(lexical_text(c, r.heading_context, _named_label(doc)), r.stem,
                       r.stopwords) for c in chunks]
    return DocumentPart(doc, structure, chunks, tokens)


def _named_label(doc: Document) -> str:
    """The label a question names the document by: its file's stem where the label is the file
    name that tells its formats apart ("funds.pdf" beside "funds.docx", documents.admit). So
    BM25 indexes the same words whether admit ran before this step (one process) or after it
    (a worker of a shared build)."""
    name = Path(doc.path).name
    return Path(name).stem if doc.label == name or doc.label.endswith("/" + name) else doc.label


def embed_parts(parts: list[DocumentPart], settings: Settings, embedder: Embedder,
                cache: EmbeddingCache, progress: Progress | None) -> dict[str, Embedded]:
    """Embed the chunks and sentences of `parts` in one batch per kind (every document in
    one-process ingest, one document per claim in a worker) and hand each part its rows."""
    with_headings = settings.retrieval.heading_context
    texts = {"chunks": [embedding_text(c, with_headings) for p in parts for c in p.chunks],
             "sentences": [t for p in parts for t in p.sentence_texts()]}
    embedded = {kind: embed_cached(embedder, cache, items, progress, f"embed {kind}")
                for kind, items in texts.items()}
    sizes = {"chunks": [len(p.chunks) for p in parts],
             "sentences": [sum(len(c.sentences) for c in p.chunks) for p in parts]}
    for kind, e in embedded.items():
        bounds = np.cumsum(sizes[kind])[:-1]
        for part, vectors, keys in zip(parts, np.split(e.vectors, bounds),
                                       np.split(e.keys, bounds), strict=True):
            part.vectors[kind], part.keys[kind] = vectors, keys
    return embedded


# ---------------------------------------------------------------- the build, corpus-wide


def assemble(settings: Settings, corpus: dict[str, str], parts: list[DocumentPart],
             skipped: list[Skipped], embedder: Embedder, cache: EmbeddingCache,
             lexicon: Vocabulary, progress: Progress | None,
             stacked: dict[str, tuple[np.ndarray, np.ndarray]] | None = None
             ) -> tuple[Build, Embedded]:
    """The corpus-wide steps over every indexed document's part, in corpus order: chunk ids
    numbered across the corpus, the corpus vocabulary and its vectors, the BM25 term counts, the
    manifest (`lexicon`: the model's own words, expansion.ensure_lexicon, which supply most of the
    vocabulary's vectors). One-process ingest and the finalising worker of a shared one both assemble here,
    so a build is the same however many processes made its parts. (The BM25 weights are computed
    from these counts by lexical.SparseBM25 when a store publishes: the same code in both.)

    `stacked`: the chunk and sentence (vectors, keys) of all the parts in order, when the caller
    already holds them as one array each (one-process ingest: embed_parts' own), so a 100k-chunk
    build does not hold its vectors twice; else they are concatenated from the parts."""
    chunks: list[Chunk] = []
    for part in parts:
        chunks += [dataclasses.replace(c, chunk_id=len(chunks) + i, doc_id=part.document.doc_id)
                   for i, c in enumerate(part.chunks)]
    sentence_chunk = np.asarray([c.chunk_id for c in chunks for _ in c.sentences], dtype=np.int64)
    words = corpus_vocabulary([p.document.text for p in parts])
    vocabulary = embed_words(embedder, cache, words, lexicon, progress)
    stacked = stacked or {kind: (np.concatenate([p.vectors[kind] for p in parts]),
                                 np.concatenate([p.keys[kind] for p in parts]))
                          for kind in ("chunks", "sentences")}
    structures = {p.document.doc_id: p.structure for p in parts}
    counts = {
        "documents": len(parts),
        "sections": sum(len(s.sections) - 1 for s in structures.values()),
        "chunks": len(chunks),
        "sentences": len(sentence_chunk),
    }
    chunk_vectors = stacked["chunks"][0]
    build = Build(
        manifest=make_manifest(settings, corpus, chunk_vectors.shape[1], counts, skipped),
        documents=[p.document for p in parts], structures=structures, chunks=chunks,
        chunk_vectors=chunk_vectors, sentence_vectors=stacked["sentences"][0],
        sentence_chunk=sentence_chunk, vocabulary=Vocabulary(words, vocabulary.vectors),
        keys={"chunks": stacked["chunks"][1], "sentences": stacked["sentences"][1],
              "vocabulary": vocabulary.keys},
        term_counts=TermCounts.from_tokens([t for p in parts for t in p.tokens]), skipped=skipped,
    )
    return build, vocabulary


def build_report(build: Build, location: str, corpus_dir: Path, seconds: float,
                 embedded: dict[str, int], cached: dict[str, int],
                 timings: dict[str, float]) -> BuildReport:
    counts = build.manifest["counts"]
    return BuildReport(
        Path(location), counts["documents"], counts["sections"], counts["chunks"],
        counts["sentences"], build.skipped, seconds, embedded=embedded, cached=cached,
        timings=timings,
        files=file_rows(build.documents, build.structures, build.chunks, build.skipped, corpus_dir))


def build_index(settings: Settings, progress: Progress | None = None,
                embedder: Embedder | None = None) -> BuildReport:
    """Read, section, chunk and embed the corpus, then atomically make it the current index.

    Texts the current build already embedded with the same model are reused, not re-embedded.
    `embedder` replaces the settings' model (the benchmark uses random vectors at 100k chunks).
    """
    started = time.perf_counter()
    store = backend(settings)
    blocked = store.unwritable()
    if blocked:
        raise IndexError_(f"cannot write the index: {blocked}")
    corpus_dir = Path(settings.corpus_dir)
    hashes, signatures = corpus_state(corpus_dir)
    files = corpus_files(corpus_dir) if corpus_dir.is_dir() else []
    count = [0]

    def on_file(path: Path) -> None:
        count[0] += 1
        if progress:
            progress("read", count[0], len(files))

    docs, skipped = load_corpus(corpus_dir, on_file, _page_progress(progress))
    if not docs:
        raise NoDocumentsError(corpus_dir, skipped)
    parts = [prepare_document(doc, settings) for doc in docs]
    timings = {"read and chunk": time.perf_counter() - started}
    embedder = embedder or load_embedder(settings)
    cache = store.embedding_cache()
    embedded = embed_parts(parts, settings, embedder, cache, progress)
    mark = time.perf_counter()
    lexicon = ensure_lexicon(embedder, settings.cache_dir, progress)  # once per model and machine
    timings["lexicon"] = time.perf_counter() - mark
    build, embedded["vocabulary"] = assemble(
        settings, hashes, parts, skipped, embedder, cache, lexicon, progress,
        stacked={kind: (e.vectors, e.keys) for kind, e in embedded.items()})
    if not store.shared:  # (a shared store's readers never compare a corpus folder)
        # the files' stat, so that a reader's staleness check need not read them (corpus_state)
        build.manifest["corpus_stat"] = signatures
    timings.update({f"embed {kind}": e.seconds for kind, e in embedded.items()})
    mark = time.perf_counter()
    location = store.publish(build)
    timings["write"] = time.perf_counter() - mark
    return build_report(build, location, corpus_dir, time.perf_counter() - started,
                        {kind: e.encoded for kind, e in embedded.items()},
                        {kind: e.cached for kind, e in embedded.items()}, timings)


def _page_progress(progress: Progress | None) -> Callable[[Path, int, int], None] | None:
    """A bar of its own for a long PDF's pages as it is read."""
    if progress is None:
        return None

    def on_page(path: Path, done: int, total: int) -> None:
        if total >= LARGE_PDF_PAGES:
            progress(f"read {path.name} (pages)", done, total)

    return on_page


# ---------------------------------------------------------------- the build, shared by workers


def ingest_shared(settings: Settings, progress: Progress | None = None,
                  embedder: Embedder | None = None) -> BuildReport:
    """One worker of a build shared through the database: what `policyqa ingest --database` runs.

    Any number may run at once, on one machine or on several that mount the same corpus folder.
    Each joins the open job for these settings and this corpus (store/postgres_jobs.py), then
    claims one file at a time and does build_index's per-document steps on it (read, sections,
    chunks, tokens, vectors: prepare_document, embed_parts), writing its share. When no file is
    left, one worker finalises the job: admit (duplicates, doc ids) and assemble over all the
    shares in corpus order, exactly as build_index does, so the corpus-wide statistics (the
    vocabulary, the BM25 counts and, at publish, their weights by lexical.SparseBM25) are
    computed once, by the embedded store's own code, and both stores rank alike; then one publish
    (an atomic flip). A lone worker does the whole job and builds what build_index builds.
    Every worker reports the whole build (every file), plus what it did itself.
    """
    from .store.postgres_jobs import IngestJob

    started = time.perf_counter()
    corpus_dir = check_corpus_dir(settings.corpus_dir)
    hashes = corpus_hashes(corpus_dir)
    paths = {corpus_name(corpus_dir, path): path for path in corpus_files(corpus_dir)}
    metadata, skipped = corpus_metadata(corpus_dir)
    store = backend(settings)
    worker = {"id": f"{socket.gethostname()}:{os.getpid()}", "read": [], "finalised": False}
    job = IngestJob(store, build_key(settings), hashes,
                    [name for name in hashes if name != METADATA_FILE], worker["id"])
    worker["job"] = job.id
    timings: dict[str, float] = {}
    try:
        embedder = embedder or load_embedder(settings)
        cache = store.embedding_cache()
        while True:
            mark = time.perf_counter()
            with job.claim() as claim:
                if claim is None:
                    break
                claim.finish(*_share(settings, corpus_dir, paths, claim, metadata, embedder,
                                     cache, progress))
            timings[f"document {claim.name}"] = time.perf_counter() - mark
            worker["read"].append(claim.name)
            if progress:
                progress("documents (all workers)", *job.progress())
        lexicon = ensure_lexicon(embedder, settings.cache_dir, progress)  # once per machine
        mark = time.perf_counter()
        outcome, worker["finalised"] = job.finalise(
            lambda results: _finalise(settings, corpus_dir, hashes, skipped, results, embedder,
                                      cache, lexicon, progress))
        timings["finalise" if worker["finalised"] else "wait for the finalising worker"] = (
            time.perf_counter() - mark)
    finally:
        job.close()
    if outcome["state"] != "published":
        raise NoDocumentsError(corpus_dir, [Skipped(**s) for s in outcome["skipped"]])
    return BuildReport.from_record(outcome["report"], time.perf_counter() - started, timings,
                                   worker)


def _share(settings: Settings, corpus_dir: Path, paths: dict[str, Path], claim: Claim,
           metadata: dict, embedder: Embedder, cache: EmbeddingCache,
           progress: Progress | None) -> tuple[DocumentPart | Skipped, dict]:
    """A claimed file's share of the build and its stats (texts embedded and reused per kind);
    its bytes must be those the job was started with (before and as it is read)."""
    path = paths.get(claim.name, corpus_dir / claim.name)  # a job's names are text (text_name)
    _same_file(claim, file_hash(path))
    result = read_corpus_file(corpus_dir, path, metadata, _page_progress(progress))
    if isinstance(result, Skipped):
        return result, {}
    _same_file(claim, result.sha256)
    part = prepare_document(result, settings)
    embedded = embed_parts([part], settings, embedder, cache, None)
    return part, {"embedded": {kind: len(e.keys) - e.cached for kind, e in embedded.items()},
                  "cached": {kind: e.cached for kind, e in embedded.items()}}


def _same_file(claim: Claim, sha256: str) -> None:
    if sha256 != claim.sha256:
        raise IndexError_(
            f"{claim.name} differs from the copy ingest job {claim.job.id} was started with "
            f"(sha256 {sha256[:12]} here, {claim.sha256[:12]} in the job): every worker must read "
            "the same corpus folder; the file is left for another worker")


def _finalise(settings: Settings, corpus_dir: Path, corpus: dict[str, str],
              skipped: list[Skipped], results: list, embedder: Embedder, cache: EmbeddingCache,
              lexicon: Vocabulary, progress: Progress | None) -> dict:
    """A shared job's outcome: its shares taken in corpus order as load_corpus takes files
    (admit), assembled and published; or, when no file could be indexed, why each was not."""
    started = time.perf_counter()
    docs: list[Document] = []
    parts: list[DocumentPart] = []
    seen: dict[str, str] = {}
    skipped = list(skipped)  # metadata.toml's, first, as load_corpus has it
    totals = {"embedded": {}, "cached": {}}
    for name, share, stats in results:
        if isinstance(share, DocumentPart):
            share.document.path = text_name(str(corpus_dir / name))  # as read_document has it
            dropped = admit(share.document, name, docs, seen)
            if dropped is None:
                parts.append(share)
        else:
            dropped = share
        if dropped is not None:
            skipped.append(dropped)
        for what, per_kind in stats.items():
            for kind, n in per_kind.items():
                totals[what][kind] = totals[what].get(kind, 0) + n
    if not parts:
        return {"state": "failed", "skipped": [dataclasses.asdict(s) for s in skipped]}
    build, vocabulary = assemble(settings, corpus, parts, skipped, embedder, cache, lexicon,
                                 progress)
    totals["embedded"]["vocabulary"] = len(vocabulary.keys) - vocabulary.cached
    totals["cached"]["vocabulary"] = vocabulary.cached
    location = backend(settings).publish(build)
    report = build_report(build, location, corpus_dir, time.perf_counter() - started,
                          totals["embedded"], totals["cached"], {})
    return {"state": "published", "report": report.record()}

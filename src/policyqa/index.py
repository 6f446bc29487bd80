"""Stage 4: embed and index the chunks; persist with a manifest; swap builds atomically.

Layout: INDEX_DIR/current is a symbolic link to INDEX_DIR/build-<stamp>/. A build is written to a
new folder and `current` is replaced in one rename, so a crash mid-build leaves the old index usable
and a reader that resolved `current` keeps a consistent set of files.

Incremental ingest: every stored vector row has a key, sha256 of (model identity, embedded text).
The current build is the embedding cache of the next one: texts whose key it holds are not
embedded again, so editing one document re-embeds only its changed chunks, sentences and words. The
cache is trusted only when the build's manifest checksums verify, and the key names the model, so
a damaged or foreign cache is never used, only ignored.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import __version__
from .chunks import Chunk, make_chunks
from .config import Settings, model_identity
from .documents import METADATA_FILE, Document, Skipped, corpus_files, load_corpus
from .expansion import Vocabulary, corpus_vocabulary, ensure_lexicon, load_lexicon
from .lexical import Lexical, TermCounts, find_acronyms, find_amounts, tokenize
from .sections import Section, Structure, parse_sections

Progress = Callable[[str, int, int], None]  # (stage, done, total)

log = logging.getLogger("policyqa")

# The files of one build; the manifest records a checksum of each so damage is never used silently.
BUILD_FILES = ("documents.json", "chunks.json", "chunk_vectors.npy", "sentence_vectors.npy",
               "sentence_chunk.npy", "chunks.faiss", "vocabulary.json", "vocabulary_vectors.npy",
               "chunk_keys.npy", "sentence_keys.npy", "vocabulary_keys.npy", "lexical_terms.json",
               "lexical_counts.npz")
# What is embedded, with the files holding its vectors and their cache keys.
EMBEDDED = {"chunks": ("chunk_vectors.npy", "chunk_keys.npy"),
            "sentences": ("sentence_vectors.npy", "sentence_keys.npy"),
            "vocabulary": ("vocabulary_vectors.npy", "vocabulary_keys.npy")}


class IndexError_(Exception):
    """The index is missing, stale or unreadable; the message says which and what to do."""


class NoDocumentsError(IndexError_):
    """Nothing in the corpus could be read; `skipped` says why for each file."""

    def __init__(self, corpus_dir: Path, skipped: list[Skipped]):
        self.corpus_dir = corpus_dir
        self.skipped = skipped
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in skipped)
        super().__init__(f"no readable documents in {corpus_dir} "
                         f"({reasons or 'no .txt, .md or .pdf files'})")


# ---------------------------------------------------------------- the embedding model

_MODELS: dict[str, object] = {}


class Embedder:
    """A sentence-transformers model, loaded once per process and path, offline.

    Texts whose vectors the index already holds (the corpus vocabulary) can be remembered, so a
    question's words are looked up instead of re-encoded: that encoding was most of a query's time.
    Questions themselves are never memoized.
    """

    def __init__(self, model: str):
        self.model_name = model
        self._model = None
        self._known: dict[str, np.ndarray] = {}

    @property
    def model(self):
        if self._model is None:
            if self.model_name not in _MODELS:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                from sentence_transformers import SentenceTransformer

                try:
                    _MODELS[self.model_name] = SentenceTransformer(self.model_name, device="cpu")
                except Exception as exc:  # many loader errors; one clear message
                    raise IndexError_(
                        f"cannot load embedding model {self.model_name!r} offline: {exc}"
                    ) from exc
            self._model = _MODELS[self.model_name]
        return self._model

    @property
    def identity(self) -> str:
        """Names the vector space: cached vectors are reused only under the same identity."""
        return model_identity(self.model_name)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def remember(self, texts: list[str], vectors: np.ndarray) -> None:
        """Vectors this model made for these exact texts (rows of an index built with it)."""
        self._known.update(zip(texts, vectors, strict=True))

    def encode(self, texts: list[str], progress: Progress | None = None, stage: str = "embed",
               batch_size: int = 64) -> np.ndarray:
        rows = [self._known.get(t) for t in texts] if self._known else []
        if any(row is not None for row in rows):
            missing = [t for t, row in zip(texts, rows, strict=True) if row is None]
            fresh = iter(self._encode(missing, None, stage, batch_size) if missing else [])
            return np.vstack([next(fresh) if row is None else row for row in rows]).astype(np.float32)
        return self._encode(texts, progress, stage, batch_size)

    def _encode(self, texts: list[str], progress: Progress | None, stage: str,
                batch_size: int) -> np.ndarray:
        out = []
        for i in range(0, len(texts), batch_size):
            batch = texts[i : i + batch_size]
            out.append(
                self.model.encode(batch, batch_size=batch_size, normalize_embeddings=True,
                                  convert_to_numpy=True, show_progress_bar=False)
            )
            if progress:
                progress(stage, min(i + batch_size, len(texts)), len(texts))
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack(out).astype(np.float32)


# ---------------------------------------------------------------- the embedding cache


def text_keys(identity: str, texts: list[str]) -> np.ndarray:
    """sha256 of (model identity, text) per text, as rows of 32 bytes."""
    digests = b"".join(hashlib.sha256(f"{identity}\0{t}".encode()).digest() for t in texts)
    return np.frombuffer(digests, dtype=np.uint8).reshape(len(texts), 32)


@dataclass
class EmbeddingCache:
    """Vectors embedded by an earlier build, found by key; empty when there is none to trust."""

    sources: list[np.ndarray] = field(default_factory=list)
    rows: dict[bytes, tuple[int, int]] = field(default_factory=dict)  # key -> (source, row)
    note: str = "no previous build"

    @classmethod
    def from_current(cls, index_dir: Path) -> EmbeddingCache:
        """The current build's vectors, if its manifest and checksums vouch for every file."""
        try:
            path = (Path(index_dir) / "current").resolve(strict=True)
        except (OSError, RuntimeError):
            return cls()
        try:
            manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
            _verify_files(path, manifest)
            cache = cls(note=f"cache from {path.name}")
            for vector_file, key_file in EMBEDDED.values():
                vectors, keys = np.load(path / vector_file), np.load(path / key_file)
                if (vectors.ndim != 2 or keys.shape != (len(vectors), 32)
                        or vectors.shape[1] != manifest["dimension"]):
                    raise IndexError_(f"{key_file} does not match {vector_file}")
                source = len(cache.sources)
                cache.sources.append(vectors)
                for row, key in enumerate(keys):
                    cache.rows[key.tobytes()] = (source, row)
            return cache
        except Exception as exc:  # damaged, foreign or older builds: embed everything afresh
            log.warning("policyqa: not reusing embeddings of %s: %s", path, exc)
            return cls(note=f"cache ignored ({exc})")


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
    found = [cache.rows.get(k.tobytes()) for k in keys]
    missing = [i for i, hit in enumerate(found) if hit is None]
    cached = len(texts) - len(missing)
    label = f"{stage} ({cached} cached)" if cached else stage
    if progress and cached:
        progress(label, cached, len(texts))

    def moved(_stage: str, done: int, _total: int) -> None:
        if progress:
            progress(label, cached + done, len(texts))

    new = embedder.encode([texts[i] for i in missing], moved, label) if missing else None
    if new is not None:
        dimension = new.shape[1]
    elif cache.sources:
        dimension = cache.sources[0].shape[1]
    else:
        dimension = embedder.dimension
    vectors = np.empty((len(texts), dimension), dtype=np.float32)
    for i, hit in enumerate(found):
        if hit is not None:
            vectors[i] = cache.sources[hit[0]][hit[1]]
    if new is not None:
        vectors[missing] = new
    return Embedded(vectors, keys, cached, time.perf_counter() - started)


# ---------------------------------------------------------------- the loaded index


@dataclass
class Index:
    """Everything retrieval needs, in memory."""

    path: Path
    manifest: dict
    documents: dict[str, Document]
    structures: dict[str, Structure]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_chunk: np.ndarray  # chunk id of each sentence row
    faiss_index: object
    lexical: Lexical
    vocabulary: Vocabulary
    acronyms: dict[str, str]
    embedder: Embedder
    settings: Settings
    idf: dict[str, float] = field(default_factory=dict)
    amounts: frozenset[str] = frozenset()  # sums of money the corpus names ("$25")

    def sentence_rows(self, chunk_id: int) -> range:
        lo = int(np.searchsorted(self.sentence_chunk, chunk_id, side="left"))
        hi = int(np.searchsorted(self.sentence_chunk, chunk_id, side="right"))
        return range(lo, hi)


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


def corpus_hashes(corpus_dir: Path) -> dict[str, str]:
    files = corpus_files(corpus_dir)
    meta = Path(corpus_dir) / METADATA_FILE
    if meta.exists():
        files.append(meta)
    return {str(p.relative_to(corpus_dir)): _file_hash(p) for p in files}


def _file_hash(path: Path) -> str:
    """sha256 of a file; an unreadable file gets a marker so the build can report it, not crash."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"


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


def build_index(settings: Settings, progress: Progress | None = None,
                embedder: Embedder | None = None) -> BuildReport:
    """Read, section, chunk and embed the corpus, then atomically make it the current index.

    Texts the current build already embedded with the same model are reused, not re-embedded.
    `embedder` replaces the settings' model (the benchmark uses random vectors at 100k chunks).
    """
    started = time.perf_counter()
    corpus_dir, index_dir = Path(settings.corpus_dir), Path(settings.index_dir)
    hashes = corpus_hashes(corpus_dir) if corpus_dir.is_dir() else {}
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
    embedder = embedder or Embedder(settings.model)
    cache = EmbeddingCache.from_current(index_dir)
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
    chunk_vectors = embedded["chunks"].vectors
    sentence_vectors = embedded["sentences"].vectors
    vocabulary = Vocabulary(words, embedded["vocabulary"].vectors)
    mark = time.perf_counter()
    term_counts = TermCounts.from_tokens(
        [tokenize(lexical_text(c, with_headings, labels[c.doc_id]), r.stem, r.stopwords)
         for c in chunks])
    timings["tokenize"] = time.perf_counter() - mark

    manifest = {
        "package_version": __version__,
        "pipeline": pipeline_hash(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": model_identity(settings.model),
        "dimension": int(chunk_vectors.shape[1]),
        "fingerprint": settings.index_fingerprint(),
        "corpus": hashes,
        "counts": {
            "documents": len(docs),
            "sections": sum(len(s.sections) - 1 for s in structures.values()),
            "chunks": len(chunks),
            "sentences": len(sentence_texts),
        },
        "skipped": [dataclasses.asdict(s) for s in skipped],
    }
    mark = time.perf_counter()
    _write_build(index_dir, manifest, docs, structures, chunks, chunk_vectors, sentence_vectors,
                 np.asarray(sentence_chunk, dtype=np.int64), vocabulary,
                 {kind: e.keys for kind, e in embedded.items()}, term_counts)
    timings["write"] = time.perf_counter() - mark
    return BuildReport(
        index_dir / "current", len(docs), manifest["counts"]["sections"], len(chunks),
        len(sentence_texts), skipped, time.perf_counter() - started,
        embedded={kind: len(texts[kind]) - e.cached for kind, e in embedded.items()},
        cached={kind: e.cached for kind, e in embedded.items()}, timings=timings,
    )


def _write_build(index_dir, manifest, docs, structures, chunks, chunk_vectors, sentence_vectors,
                 sentence_chunk, vocabulary: Vocabulary, keys: dict[str, np.ndarray],
                 term_counts: TermCounts) -> None:
    import faiss
    from scipy import sparse

    index_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".tmp-build-{stamp}"
    final = index_dir / f"build-{stamp}"
    tmp.mkdir()
    try:
        (tmp / "documents.json").write_text(json.dumps(
            [{**dataclasses.asdict(d), "sections": [dataclasses.asdict(s) for s in
                                                    structures[d.doc_id].sections],
              "paragraphs": [dataclasses.asdict(p) for p in structures[d.doc_id].paragraphs]}
             for d in docs]), encoding="utf-8")
        (tmp / "chunks.json").write_text(
            json.dumps([dataclasses.asdict(c) for c in chunks]), encoding="utf-8")
        np.save(tmp / "chunk_vectors.npy", chunk_vectors)
        np.save(tmp / "sentence_vectors.npy", sentence_vectors)
        np.save(tmp / "sentence_chunk.npy", sentence_chunk)
        (tmp / "vocabulary.json").write_text(json.dumps(vocabulary.words), encoding="utf-8")
        np.save(tmp / "vocabulary_vectors.npy", vocabulary.vectors)
        for kind, (_vectors, key_file) in EMBEDDED.items():
            np.save(tmp / key_file, keys[kind])
        (tmp / "lexical_terms.json").write_text(json.dumps(term_counts.terms), encoding="utf-8")
        sparse.save_npz(tmp / "lexical_counts.npz", term_counts.counts, compressed=False)
        flat = faiss.IndexFlatIP(chunk_vectors.shape[1])
        flat.add(chunk_vectors)
        faiss.write_index(flat, str(tmp / "chunks.faiss"))
        # The manifest is written last: a build folder without one is incomplete.
        manifest = {**manifest, "files": {name: _file_hash(tmp / name) for name in BUILD_FILES}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        os.rename(tmp, final)
        link = index_dir / f".current-{stamp}"
        os.symlink(final.name, link)
        os.replace(link, index_dir / "current")
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_dir, keep=final.name)


def _fsync_dir(path: Path) -> None:
    """Make the renames durable, so a power cut cannot bring back a link to a missing build."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _built_at(build: Path) -> float:
    try:
        return (build / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


def _prune(index_dir: Path, keep: str) -> None:
    """Remove older builds (keep the newest two, and whatever `current` names) and old leftovers.

    The previous build survives so that a reader that resolved `current` just before the swap
    can finish loading it; load_index retries if a reader is slower than two builds.
    """
    current = index_dir / "current"
    protected = {keep, current.resolve().name if current.exists() else keep}
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=_built_at)
    for old in builds[:-2]:
        if old.name not in protected:
            shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for leftover in index_dir.glob(".tmp-build-*"):  # a build killed half-way
        if now - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)
    for link in index_dir.glob(".current-*"):  # killed between writing and swapping the link
        if now - link.lstat().st_mtime > 60:
            link.unlink(missing_ok=True)


# ---------------------------------------------------------------- loading


def pipeline_hash() -> str:
    """Hash of the stages whose output is stored, so a code change rebuilds rather than misleads."""
    here = Path(__file__).parent
    digest = hashlib.sha256()
    for name in ("normalize.py", "documents.py", "sections.py", "chunks.py", "expansion.py",
                 "index.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


def staleness(settings: Settings, manifest: dict) -> str | None:
    """Why an index no longer matches the corpus or settings, or None if it does."""
    if manifest.get("package_version") != __version__:
        return f"built by policyqa {manifest.get('package_version')}, this is {__version__}"
    if manifest.get("pipeline") != pipeline_hash():
        return "the ingestion code changed since the index was built"
    if manifest.get("model") != model_identity(settings.model):
        return (f"built with model {manifest.get('model')!r}, "
                f"settings use {model_identity(settings.model)!r}")
    if manifest.get("fingerprint") != settings.index_fingerprint():
        return "model or chunking settings changed"
    current = corpus_hashes(settings.corpus_dir) if Path(settings.corpus_dir).is_dir() else {}
    stored = manifest.get("corpus", {})
    if current != stored:
        added = sorted(set(current) - set(stored))
        removed = sorted(set(stored) - set(current))
        changed = sorted(k for k in set(current) & set(stored) if current[k] != stored[k])
        parts = [f"{label}: {', '.join(v)}" for label, v in
                 (("added", added), ("removed", removed), ("changed", changed)) if v]
        return "corpus changed (" + "; ".join(parts) + ")"
    return None


def load_index(settings: Settings, rebuild: str = "auto",
               progress: Progress | None = None) -> Index:
    """Load the current index; rebuild it if missing, stale or damaged ("auto"), or fail ("never").

    A damaged or mismatched index is never used: its reason is logged when rebuilding, and is the
    error message under "never".
    """
    for _attempt in range(3):
        path, reason = _current_build(settings)
        if path is None or reason:
            break
        try:
            return _read(path, settings)
        except Exception as exc:  # damaged files fail in many ways (json, numpy, faiss)
            if _current_path(settings) != path:
                continue  # a newer build replaced (and pruned) this one while it was read
            reason = f"index at {path} is corrupt ({exc})"
            break
    else:
        reason = "the index kept changing while it was read"
    if rebuild == "never":
        raise IndexError_(f"index is not usable: {reason}. Run `policyqa ingest`.")
    if path is not None:  # an index exists but must not be used: say why it is replaced
        log.warning("policyqa: rebuilding the index: %s", reason)
    build_index(settings, progress)
    path, reason = _current_build(settings)
    if path is None or reason:
        raise IndexError_(f"the index just built is not usable: {reason}")
    return _read(path, settings)


def _current_path(settings: Settings) -> Path | None:
    try:
        return (Path(settings.index_dir) / "current").resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def _current_build(settings: Settings) -> tuple[Path | None, str]:
    """The build `current` names (resolved once, so every file comes from it) and why it is
    not usable ("" if it is)."""
    path = _current_path(settings)
    if path is None:
        return None, f"no index at {settings.index_dir}"
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return path, f"unreadable index manifest ({exc})"
    if not isinstance(manifest, dict):
        return path, "unreadable index manifest (not a JSON object)"
    try:
        return path, staleness(settings, manifest) or ""
    except Exception as exc:  # valid JSON of the wrong shape
        return path, f"unreadable index manifest ({type(exc).__name__}: {exc})"


def _verify_files(path: Path, manifest: dict) -> None:
    """Every file must match the checksum written with it: truncation or bit rot is caught here."""
    expected = manifest.get("files")
    if not isinstance(expected, dict) or set(expected) != set(BUILD_FILES):
        raise IndexError_("the manifest lists no file checksums")
    for name in BUILD_FILES:
        if not (path / name).is_file():
            raise IndexError_(f"{name} is missing")
        if _file_hash(path / name) != expected[name]:
            raise IndexError_(f"{name} does not match its checksum: truncated or altered")


def _read(path: Path, settings: Settings) -> Index:
    import faiss
    from scipy import sparse

    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    _verify_files(path, manifest)
    raw_docs = json.loads((path / "documents.json").read_text(encoding="utf-8"))
    documents: dict[str, Document] = {}
    structures: dict[str, Structure] = {}
    from .sections import Paragraph

    for raw in raw_docs:
        sections = [Section(**s) for s in raw.pop("sections")]
        paragraphs = [Paragraph(**p) for p in raw.pop("paragraphs")]
        raw["page_starts"] = [tuple(p) for p in raw["page_starts"]]
        doc = Document(**raw)
        documents[doc.doc_id] = doc
        structures[doc.doc_id] = Structure(sections, paragraphs)
    chunks = []
    for c in json.loads((path / "chunks.json").read_text(encoding="utf-8")):
        c["sentences"] = [tuple(s) for s in c["sentences"]]
        chunks.append(Chunk(**c))
    chunk_vectors = np.load(path / "chunk_vectors.npy")
    sentence_vectors = np.load(path / "sentence_vectors.npy")
    sentence_chunk = np.load(path / "sentence_chunk.npy")
    vocabulary = Vocabulary(json.loads((path / "vocabulary.json").read_text(encoding="utf-8")),
                            np.load(path / "vocabulary_vectors.npy"))
    faiss_index = faiss.read_index(str(path / "chunks.faiss"))
    if (faiss_index.ntotal != len(chunks) or chunk_vectors.shape[0] != len(chunks)
            or sentence_vectors.shape[0] != sentence_chunk.shape[0]
            or chunk_vectors.shape[1] != manifest["dimension"]
            or sentence_vectors.shape[1:] != chunk_vectors.shape[1:]
            or faiss_index.d != chunk_vectors.shape[1]):
        raise IndexError_("inconsistent: array sizes differ")
    if any(c.doc_id not in documents or not 0 <= c.start < c.end <= len(documents[c.doc_id].text)
           for c in chunks):
        raise IndexError_("inconsistent: chunk offsets outside their documents")
    terms = json.loads((path / "lexical_terms.json").read_text(encoding="utf-8"))
    counts = sparse.csc_matrix(sparse.load_npz(path / "lexical_counts.npz"))
    if counts.shape != (max(len(chunks), 1), len(terms)):
        raise IndexError_("inconsistent: lexical counts do not match the chunks")
    r = settings.retrieval
    lexical = Lexical.from_counts(TermCounts(terms, counts, len(chunks)), r.bm25_variant,
                                  r.bm25_k1, r.bm25_b)
    acronyms: dict[str, str] = {}
    amounts: set[str] = set()
    for doc in documents.values():
        for short, long in find_acronyms(doc.text).items():
            acronyms.setdefault(short, long)
        amounts |= find_amounts(doc.text)
    embedder = Embedder(settings.model)
    if model_identity(settings.model) == manifest.get("model"):
        embedder.remember(vocabulary.words, vocabulary.vectors)
        lexicon = load_lexicon(settings.cache_dir, embedder.identity, chunk_vectors.shape[1])
        if lexicon is not None:
            embedder.remember(lexicon.words, lexicon.vectors)
    return Index(
        path=path, manifest=manifest, documents=documents, structures=structures, chunks=chunks,
        chunk_vectors=chunk_vectors, sentence_vectors=sentence_vectors,
        sentence_chunk=sentence_chunk, faiss_index=faiss_index, lexical=lexical,
        vocabulary=vocabulary,
        acronyms=acronyms, embedder=embedder, settings=settings,
        idf=dict(getattr(lexical.bm25, "idf", {})), amounts=frozenset(amounts),
    )

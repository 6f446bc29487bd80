"""The embedded store: one build's files loaded into memory and searched in process.

The default backend: nothing to run, the index is a folder (store/files.py). Vectors are searched
flat (every row, by inner product), the chunk vectors for the dense top 50 and the sentence
vectors for the chunks whose best sentence ranks highest. Two exact searches do it:
numpy's matrix-vector product, and FAISS's `knn` (no index built: it reads the same array, so it
costs no memory). Measured on one BLAS thread, as questions run (the random unit vectors of the
benchmark's 100k synthetic corpus, median of 40 queries, 2026-12-02): 0.2 / 0.2 ms at 4,000 rows,
1.0 / 0.4 ms at 10,000, 8.2 / 2.7 ms at 40,000, 16.9 / 5.9 ms for 100,928 chunks and 68.4 / 27.6 ms
for 398,113 sentences (numpy / FAISS); both give the exact top rows. From `QUANTIZED_FROM_ROWS`
rows an 8-bit copy (FAISS's uniform scalar quantizer, a quarter of the bytes to read) is scanned
first and its best 4n rows re-scored exactly: 12.6 ms for those 398k sentences. Its top rows were
the exact ones for all 151 gold questions, at n 50 and 200 with only 2n re-scored, over 22,280
real all-MiniLM vectors (the model's words, the seed sentences and chunks), and the 100k
corpus's candidates equal the exact search's for all 151. The copy costs a quarter of the float32
arrays' memory (192 MB at 100k chunks: query process peak 1,622 MiB) and about 1 s when the
store opens. Under one BLAS thread, search at 100k chunks took 100 ms (numpy), 38 ms
(FAISS), 22.5 ms (8-bit first), medians of 60 gold questions.

A scan of one question reads every row and is bound by one core's memory bandwidth, and FAISS's
OpenMP threads do not split a single query's scan (they made it slower, see one_omp_thread). So
from `PARTS_FROM_ROWS` rows an array is searched in `Settings.search_threads` (2) contiguous
parts whose best rows are joined and ranked again: on two threads when the process answers no
other question, one after the other in the asking thread when it does (in_parts). At 100,928
chunks the store's candidates took 35.4-41.5 ms p50 against 63.9 in one part (the model's
threads must not spin after their run for this: embedding/onnx_runtime.py, "Spinning"). The
exact scan's joined tops are the whole array's; the 8-bit scan re-scores each part's best
RESCORED x n rows, a superset of the one-part candidates.

`Settings.flat_search` "auto" (the default) uses numpy below `FAISS_FROM_ROWS` rows, where they
are alike and numpy keeps faiss's import (about 0.1 s) off a fresh process's first question, exact
FAISS from there, and the 8-bit scan from `QUANTIZED_FROM_ROWS`; "numpy", "faiss" or "quantized"
forces one.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ..blas import questions_running
from ..config import Settings
from ..errors import IndexError_
from ..lexical import Lexical, find_acronyms, find_amounts
from .base import Build, Candidates, CorpusFacts, SentenceScores, Terms
from .files import Files, current_path, read_build, read_manifest, read_vectors, write_build

log = logging.getLogger("policyqa")

# ---------------------------------------------------------------- flat vector search

TopN = Callable[[np.ndarray, int, np.ndarray | None], np.ndarray]

# From this many rows an array is searched by FAISS under flat_search "auto" (measured above),
# and from QUANTIZED_FROM_ROWS through its 8-bit copy first, re-scoring RESCORED x n rows exactly.
FAISS_FROM_ROWS = 10_000
QUANTIZED_FROM_ROWS = 100_000
RESCORED = 4


def one_omp_thread(faiss) -> None:
    """One FAISS call, one thread (blas.py's rule): on 2 cores a single-query kNN over 398k rows
    took 75 ms with FAISS's default two OpenMP threads and 25 ms with one. The setting belongs to
    the calling thread (OpenMP keeps it per thread: a worker thread that never set it ran the same
    search in 122 ms while the main thread's took 27), and the page and the API answer in worker
    threads, so every search sets it. FAISS has its own OpenMP runtime; nothing else uses it.
    A lone question's large scans are split into parts, each searched on a thread of its own
    (in_parts), which is what OpenMP's threads failed to do for a single query."""
    faiss.omp_set_num_threads(1)


# From this many rows an array is scanned in `Settings.search_threads` contiguous parts. A single
# query's scan reads every row and is bound by one core's memory bandwidth, so two cores reading
# half each take half the time: over 398k sentences' 8-bit codes 15.2 against 28.1 ms, over 100k
# float32 chunk vectors 5.1 against 11.3 (random unit vectors, 2 cores, medians of 180 queries).
PARTS_FROM_ROWS = 20_000
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def spans(rows: int, parts: int) -> list[tuple[int, int]]:
    """(start, end) of `parts` contiguous, nearly equal runs of rows (one below PARTS_FROM_ROWS)."""
    parts = max(1, parts) if rows >= PARTS_FROM_ROWS else 1
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def in_parts(jobs: Sequence[Callable[[], tuple[np.ndarray, np.ndarray]]]
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run one scan's parts, each giving (scores, row ids), and join what they found.

    In parallel, on a shared pool's threads, while this process answers no other question
    (blas.questions_running); one after the other when it does, so concurrent questions (the
    page's sessions, the API's threads) each keep one core, as the model's threads do
    (embedding/onnx_runtime.py). The parts are the same either way, and so are the results."""
    global _POOL
    if len(jobs) > 1 and questions_running() <= 1:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=os.cpu_count() or 2,
                                           thread_name_prefix="policyqa-scan")
        futures = [_POOL.submit(job) for job in jobs[1:]]
        found = [jobs[0]()] + [future.result() for future in futures]
    else:
        found = [job() for job in jobs]
    return np.concatenate([s for s, _ in found]), np.concatenate([i for _, i in found])


def faiss_job(search: Callable[[], tuple[np.ndarray, np.ndarray]], offset: int
              ) -> Callable[[], tuple[np.ndarray, np.ndarray]]:
    """One part's FAISS search of one query as a job for `in_parts`: on one OpenMP thread, its
    -1 ids (a part with fewer rows than asked) dropped, its row ids moved by the part's offset."""
    import faiss

    def job() -> tuple[np.ndarray, np.ndarray]:
        one_omp_thread(faiss)
        scores, ids = search()
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep] + offset

    return job


def faiss_flat(vectors: np.ndarray, parts: int = 1) -> TopN:
    """FAISS's exact inner-product kNN straight over the array (zero-copy, no index to hold), in
    `parts` parts from PARTS_FROM_ROWS rows, whose exact tops joined are the whole array's."""
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    runs = spans(len(vectors), parts)

    def knn(query: np.ndarray, base: np.ndarray, n: int, offset: int = 0):
        return faiss_job(lambda: faiss.knn(query, base, min(n, len(base)),
                                           metric=faiss.METRIC_INNER_PRODUCT), offset)

    def top(vector: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        query = np.ascontiguousarray(vector[None, :], dtype=np.float32)
        if rows is not None:  # a document filter: those rows, in one part
            _, ids = knn(query, vectors[rows], n)()
            return rows[ids]
        scores, ids = in_parts([knn(query, vectors[a:b], n, a) for a, b in runs])
        return ids[top_n(scores, min(n, len(ids)))]

    return top


def quantized_flat(vectors: np.ndarray, parts: int = 1) -> TopN:
    """An 8-bit copy of the rows scanned first (a quarter of the memory to read), then the best
    RESCORED x n rows (of each part) scored exactly from the float32 rows: the same top rows as
    the exact scan wherever measured (below), for about half its time on the largest arrays."""
    import faiss

    exact = faiss_flat(vectors)  # for a document filter: exact over the float32 rows
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    codes = []
    for a, b in spans(len(vectors), parts):
        part = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit_uniform,
                                          faiss.METRIC_INNER_PRODUCT)
        part.train(vectors[a:b])
        part.add(vectors[a:b])
        codes.append((part, a))

    def scan(part, offset: int, query: np.ndarray, m: int):
        return faiss_job(lambda: part.search(query, min(m, part.ntotal)), offset)

    def top(vector: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        if rows is not None:  # a document filter: exact over those rows
            return exact(vector, n, rows)
        query = np.ascontiguousarray(vector[None, :], dtype=np.float32)
        _, ids = in_parts([scan(part, a, query, RESCORED * n) for part, a in codes])
        return ids[top_n(vectors[ids] @ vector, min(n, len(ids)))]

    return top


def numpy_flat(vectors: np.ndarray, parts: int = 1) -> TopN:  # noqa: ARG001 - small arrays
    def top(vector: np.ndarray, n: int, rows: np.ndarray | None) -> np.ndarray:
        scores = vectors @ vector if rows is None else vectors[rows] @ vector
        best = top_n(scores, n)
        return best if rows is None else rows[best]

    return top


def auto_flat(vectors: np.ndarray, parts: int = 1) -> TopN:
    if len(vectors) >= QUANTIZED_FROM_ROWS:
        return quantized_flat(vectors, parts)
    return (faiss_flat if len(vectors) >= FAISS_FROM_ROWS else numpy_flat)(vectors, parts)


FLAT_SEARCH: dict[str, Callable[[np.ndarray, int], TopN]] = {
    "auto": auto_flat, "numpy": numpy_flat, "faiss": faiss_flat, "quantized": quantized_flat,
}


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first, without sorting everything (large corpora)."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def top_distinct(owner: np.ndarray, ranked: Callable[[int], np.ndarray], n: int) -> np.ndarray:
    """The owners (chunks) of the best-ranked rows (sentences), n distinct, best first.

    `ranked(m)` gives the m best rows, best first; m grows until n owners are found or every row
    is ranked. A chunk has several sentences, so it starts at 4n."""
    m = 4 * n
    while True:
        order = ranked(min(m, len(owner)))
        owners = owner[order]
        _, first = np.unique(owners, return_index=True)
        distinct = owners[np.sort(first)]
        if len(distinct) >= n or m >= len(owner):
            return distinct[:n].astype(np.int64)
        m *= 4


def corpus_facts(texts: Sequence[str]) -> CorpusFacts:
    """Acronyms the documents define (the first definition wins) and the sums they name."""
    acronyms: dict[str, str] = {}
    amounts: set[str] = set()
    for text in texts:
        for short, long in find_acronyms(text).items():
            acronyms.setdefault(short, long)
        amounts |= find_amounts(text)
    return CorpusFacts(acronyms, frozenset(amounts))


# ---------------------------------------------------------------- the read side


class EmbeddedStore:
    """A build in memory: look-ups are dicts and lists, search is numpy (or FAISS) over arrays.

    The arrays are public for this backend's own tests; nothing above the store reads them.
    """

    def __init__(self, files: Files, location: str, settings: Settings):
        r = settings.retrieval
        self.location = location
        self.manifest = files.manifest
        self.documents = files.documents
        self.structures = files.structures
        self.chunks = files.chunks
        self.vocabulary = files.vocabulary
        self.chunk_vectors = files.chunk_vectors
        self.sentence_vectors = files.sentence_vectors
        self.sentence_chunk = files.sentence_chunk
        self._lexical = Lexical.from_counts(files.term_counts, r.bm25_variant, r.bm25_k1, r.bm25_b)
        self.idf = self._lexical.idf
        self.facts = corpus_facts([d.text for d in self.documents.values()])
        try:
            search = FLAT_SEARCH[settings.flat_search]
            self._flat = search(self.chunk_vectors, settings.search_threads)
            self._flat_sentences = search(self.sentence_vectors, settings.search_threads)
        except KeyError:
            raise IndexError_(f"unknown flat_search {settings.flat_search!r}; "
                              f"choose one of {', '.join(FLAT_SEARCH)}") from None

    def rows_of(self, doc_ids: Collection[str]) -> np.ndarray:
        wanted = set(doc_ids)
        return np.array([c.chunk_id for c in self.chunks if c.doc_id in wanted], dtype=np.int64)

    def sentence_rows(self, chunk_id: int) -> range:
        lo = int(np.searchsorted(self.sentence_chunk, chunk_id, side="left"))
        hi = int(np.searchsorted(self.sentence_chunk, chunk_id, side="right"))
        return range(lo, hi)

    def candidates(self, vector: np.ndarray, terms: Terms, n: int,
                   rows: np.ndarray | None = None) -> Candidates:
        everything = rows is None or len(rows) == len(self.chunks)
        rows = np.arange(len(self.chunks)) if rows is None else np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            empty = np.zeros(0, dtype=np.float32)
            return Candidates(np.zeros(0, dtype=np.int64), empty, empty)
        bm25_all = self._lexical.weighted_scores(terms)
        n = min(n, len(rows))
        dense_top = self._flat(vector, n, None if everything else rows)
        bm25_top = rows[top_n(bm25_all[rows], n)]
        # Sentence-level matches can surface a chunk the chunk vector ranks low.
        if everything:
            def ranked(m: int) -> np.ndarray:
                return self._flat_sentences(vector, m, None)
        else:
            allowed = np.zeros(len(self.chunks), dtype=bool)
            allowed[rows] = True
            scores = np.where(allowed[self.sentence_chunk], self.sentence_vectors @ vector, -np.inf)

            def ranked(m: int) -> np.ndarray:
                best = top_n(scores, m)
                return best[np.isfinite(scores[best])]
        sent_top = top_distinct(self.sentence_chunk, ranked, n)
        found = np.unique(np.concatenate([dense_top, bm25_top, sent_top]))
        return Candidates(found, self._dense(vector, found), bm25_all[found])

    def _dense(self, vector: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Cosine of the question with each chunk, or with its best sentence if that is higher."""
        chunk_cos = self.chunk_vectors[rows] @ vector
        # Sentence rows are stored in chunk order, so each chunk's sentences are one run.
        lo = np.searchsorted(self.sentence_chunk, rows, side="left")
        hi = np.searchsorted(self.sentence_chunk, rows, side="right")
        best_sentence = np.array([(self.sentence_vectors[a:b] @ vector).max() if b > a else -1.0
                                  for a, b in zip(lo, hi, strict=True)], dtype=np.float32)
        return np.maximum(chunk_cos, best_sentence)

    def sentence_scores(self, vector: np.ndarray, chunk_ids: Sequence[int]) -> list[SentenceScores]:
        out = []
        for chunk_id in chunk_ids:
            rows = list(self.sentence_rows(chunk_id))
            vectors = self.sentence_vectors
            single = vectors[rows] @ vector if rows else np.zeros(0, dtype=np.float32)
            pairs = []
            for a, b in zip(rows, rows[1:], strict=False):
                pair = vectors[a] + vectors[b]
                pairs.append(float(pair @ vector / max(np.linalg.norm(pair), 1e-9)))
            out.append(SentenceScores(single, np.asarray(pairs, dtype=np.float64)))
        return out


# ---------------------------------------------------------------- the backend


class FileEmbeddingCache:
    """Vectors of the current build by key; empty when there is none, or none to trust."""

    def __init__(self, sources: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
                 note: str = "no previous build"):
        self.note = note
        self._sources = [vectors for vectors, _keys in (sources or {}).values()]
        self._rows: dict[bytes, tuple[int, int]] = {}
        for source, (_vectors, keys) in enumerate((sources or {}).values()):
            for row, key in enumerate(keys):
                self._rows[key.tobytes()] = (source, row)

    def __len__(self) -> int:
        return len(self._rows)

    def lookup(self, keys: np.ndarray) -> list[np.ndarray | None]:
        hits = [self._rows.get(k.tobytes()) for k in keys]
        return [None if hit is None else self._sources[hit[0]][hit[1]] for hit in hits]


class EmbeddedBackend:
    """Builds as folders under the index directory (store/files.py)."""

    shared = False  # one machine's index: checked against its corpus folder, rebuilt when stale

    def __init__(self, index_dir: Path):
        self.index_dir = Path(index_dir)
        self.location = str(self.index_dir)

    def current_manifest(self) -> tuple[dict | None, str]:
        path = current_path(self.index_dir)
        if path is None and self.index_dir.is_dir() and not os.access(self.index_dir,
                                                                       os.R_OK | os.X_OK):
            # an index this user may not read (IT's, mode 700) is there, not missing: rebuilt
            # "for lack of one", it failed as "cannot write the index"
            return {}, f"cannot read the index: no permission to read {self.index_dir}"
        if path is None:
            return None, f"no index at {self.index_dir}"
        try:
            return read_manifest(path), ""
        except (OSError, ValueError) as exc:
            return {}, f"unreadable index manifest ({exc})"

    def open(self, settings: Settings) -> EmbeddedStore:
        for _attempt in range(3):
            path = current_path(self.index_dir)
            if path is None:
                raise IndexError_(f"no index at {self.index_dir}")
            try:
                return EmbeddedStore(read_build(path), str(path), settings)
            except Exception as exc:  # damaged files fail in many ways (json, numpy)
                if current_path(self.index_dir) != path:
                    continue  # a newer build replaced (and pruned) this one while it was read
                raise IndexError_(f"index at {path} is corrupt ({exc})") from exc
        raise IndexError_("the index kept changing while it was read")

    def embedding_cache(self) -> FileEmbeddingCache:
        try:
            sources, note = read_vectors(self.index_dir)
            return FileEmbeddingCache(sources, note)
        except Exception as exc:  # damaged, foreign or older builds: embed everything afresh
            log.warning("policyqa: not reusing embeddings of %s: %s", self.index_dir, exc)
            return FileEmbeddingCache(note=f"cache ignored ({exc})")

    def unwritable(self) -> str:
        """A build is a folder made in the index folder (or the folders that will hold it):
        the nearest one that exists must be writable to this user on a writable filesystem."""
        folder = self.index_dir.absolute()
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a folder"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"no permission to write {folder}"
        return ""

    def publish(self, build: Build) -> str:
        return str(write_build(self.index_dir, build))

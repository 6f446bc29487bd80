"""The embedded store's flat vector searches: numpy, exact FAISS and the 8-bit first scan give the
same candidates, and each is picked by the size of the array."""

import os
import threading
from dataclasses import replace

import numpy as np
import pytest

from policyqa.blas import one_blas_thread
from policyqa.config import Settings
from policyqa.evaluation import load_gold
from policyqa.query import prepare
from policyqa.store import backend
from policyqa.store.embedded import (
    FAISS_FROM_ROWS,
    FLAT_SEARCH,
    PARTS_FROM_ROWS,
    QUANTIZED_FROM_ROWS,
    auto_flat,
    faiss_flat,
    in_parts,
    numpy_flat,
    quantized_flat,
    spans,
    top_distinct,
)


def _store(index, flat_search: str):
    settings = replace(index.settings, flat_search=flat_search)
    return backend(settings).open(settings)


@pytest.fixture(scope="module")
def stores(index):
    return index, {name: _store(index, name) for name in ("numpy", "faiss", "quantized")}


@pytest.mark.parametrize("other", ["faiss", "quantized"])
@pytest.mark.parametrize("restricted", [False, True])
def test_every_flat_search_gives_numpys_candidates(stores, other, restricted):
    """Same rows, same scores on the real index (real model vectors), over every document and
    over two of them; the 8-bit scan too, since it re-scores its best rows exactly."""
    index, by_name = stores
    docs = sorted(index.store.documents)[:2]
    rows = by_name["numpy"].rows_of(docs) if restricted else None
    for item in load_gold()[:60]:
        query = prepare(index, item.question)
        a, b = (by_name[name].candidates(query.vector, query.terms, 50, rows)
                for name in ("numpy", other))
        assert a.rows.tolist() == b.rows.tolist(), item.id
        np.testing.assert_allclose(a.dense, b.dense, atol=1e-5)
        np.testing.assert_array_equal(a.bm25, b.bm25)


@pytest.mark.parametrize("flat", [numpy_flat, faiss_flat, quantized_flat])
def test_top_distinct_is_each_owners_best_row(flat):
    """The first n owners by their best row, whatever the ranking function, against brute force;
    many rows per owner, so the search must widen past its first 4n rows."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((3000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    owner = np.sort(rng.integers(0, 40, len(vectors)))  # about 75 rows per owner, in runs
    query = vectors[5] + 0.1
    top = flat(vectors)
    got = top_distinct(owner, lambda m: top(query, m, None), 30)
    scores = vectors @ query
    best = {o: scores[owner == o].max() for o in np.unique(owner)}
    expected = sorted(best, key=lambda o: -best[o])[:30]
    assert got.tolist() == expected


def test_flat_search_auto_picks_by_size():
    def picked(rows: int) -> str:
        vectors = np.random.default_rng(rows).standard_normal((rows, 4)).astype(np.float32)
        return auto_flat(vectors).__qualname__.split(".")[0]

    assert picked(FAISS_FROM_ROWS - 1) == "numpy_flat"
    assert picked(FAISS_FROM_ROWS) == "faiss_flat"
    assert picked(QUANTIZED_FROM_ROWS - 1) == "faiss_flat"
    assert picked(QUANTIZED_FROM_ROWS) == "quantized_flat"
    assert set(FLAT_SEARCH) == {"auto", "numpy", "faiss", "quantized"}


def test_faiss_search_keeps_the_restriction():
    rng = np.random.default_rng(3)
    vectors = rng.standard_normal((500, 8)).astype(np.float32)
    rows = np.arange(100, 200)
    got = faiss_flat(vectors)(vectors[150], 10, rows)
    assert set(got.tolist()) <= set(rows.tolist())
    assert got.tolist() == numpy_flat(vectors)(vectors[150], 10, rows).tolist()


@pytest.mark.parametrize("flat", [faiss_flat, quantized_flat])
def test_faiss_searches_on_one_thread_in_any_thread(flat):
    """OpenMP's thread count belongs to each thread, and the page and the API search from worker
    threads: a search in a new thread must set it there (two threads made it 3x slower)."""
    import threading

    import faiss

    vectors = np.random.default_rng(5).standard_normal((2000, 8)).astype(np.float32)
    top = flat(vectors)  # made here, searched from another thread, as the page does
    seen: list[int] = []

    def worker() -> None:
        top(vectors[0], 5, None)
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [1]


def _unit_rows(rows: int, dim: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, dim)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def test_spans_cover_every_row_once_and_split_only_large_arrays():
    assert spans(PARTS_FROM_ROWS - 1, 2) == [(0, PARTS_FROM_ROWS - 1)]
    for rows, parts in ((PARTS_FROM_ROWS, 2), (100_001, 3), (PARTS_FROM_ROWS, 0)):
        runs = spans(rows, parts)
        assert len(runs) == max(1, parts)
        assert runs[0][0] == 0 and runs[-1][1] == rows
        assert all(a[1] == b[0] for a, b in zip(runs, runs[1:], strict=False))
        assert max(b - a for a, b in runs) - min(b - a for a, b in runs) <= 1


@pytest.mark.parametrize("parts", [2, 3])
def test_a_scan_in_parts_finds_the_whole_arrays_top_rows(parts):
    """Each part's best rows, joined and ranked again, are the exact top of the whole array, for
    the exact scan and for the 8-bit one (which re-scores each part's best rows exactly)."""
    vectors = _unit_rows(PARTS_FROM_ROWS + 4_000, 48, seed=11)
    rng = np.random.default_rng(12)
    for row in rng.integers(0, len(vectors), 5):
        query = vectors[row] + 0.05 * rng.standard_normal(48).astype(np.float32)
        expected = numpy_flat(vectors)(query, 40, None).tolist()
        assert faiss_flat(vectors, parts)(query, 40, None).tolist() == expected
        assert quantized_flat(vectors, parts)(query, 40, None).tolist()[:10] == expected[:10]
        # a document filter is searched over its rows, whole
        rows = np.arange(1_000, 9_000)
        assert faiss_flat(vectors, parts)(query, 10, rows).tolist() == \
            numpy_flat(vectors)(query, 10, rows).tolist()


def test_a_lone_questions_parts_run_on_threads_and_overlapping_questions_parts_in_turn():
    """Two questions at once (the page's sessions, the API's threads) keep a core each: a scan's
    parts then run in the asking thread, one after the other."""
    seen: list[set[str]] = []

    def job():
        return np.zeros(1, dtype=np.float32), np.array([threading.current_thread().name])

    @one_blas_thread
    def question():
        _, names = in_parts([job, job, job])
        seen.append(set(names.tolist()))

    question()
    assert seen[-1] - {threading.current_thread().name}, "no part ran on a scan thread"
    assert all(name.startswith("policyqa-scan") for name in seen[-1] - {"MainThread"})

    started, release = threading.Event(), threading.Event()

    @one_blas_thread
    def other_question():
        started.set()
        release.wait(30)

    other = threading.Thread(target=other_question)
    other.start()
    try:
        assert started.wait(30)
        question()
    finally:
        release.set()
        other.join()
    assert seen[-1] == {threading.current_thread().name}


def test_search_threads_default_and_override(monkeypatch):
    monkeypatch.delenv("POLICYQA_SEARCH_THREADS", raising=False)
    assert Settings().search_threads == min(2, os.cpu_count() or 1)
    monkeypatch.setenv("POLICYQA_SEARCH_THREADS", "3")
    assert Settings().search_threads == 3
    monkeypatch.setenv("POLICYQA_SEARCH_THREADS", "0")
    assert Settings().search_threads == 1

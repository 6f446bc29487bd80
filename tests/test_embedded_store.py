"""The embedded store's flat vector searches: numpy, exact FAISS and the 8-bit first scan give the
same candidates, and each is picked by the size of the array."""

from dataclasses import replace

import numpy as np
import pytest

from policyqa.evaluation import load_gold
from policyqa.query import prepare
from policyqa.store import backend
from policyqa.store.embedded import (
    FAISS_FROM_ROWS,
    FLAT_SEARCH,
    QUANTIZED_FROM_ROWS,
    auto_flat,
    faiss_flat,
    numpy_flat,
    quantized_flat,
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

"""Stage 5: rank chunks for a question: BM25, dense (FAISS), or a fusion of the two.

The fusion strategy is data, not an if-chain: FUSIONS maps a name to a small pure function.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from threadpoolctl import ThreadpoolController

from .chunks import Chunk
from .expansion import content_words
from .index import Index
from .lexical import STOPWORDS, amounts_as_money, expand_acronyms, tokenize
from .normalize import fold, normalize

MODES = ("hybrid", "bm25", "dense")
MAX_EXPANDED_WORDS = 24  # bounds the extra encoding work for very long questions
_BLAS: ThreadpoolController | None = None


def one_blas_thread(func):
    """Run a query's small numpy products on one BLAS thread.

    Multi-threaded OpenBLAS spins its threads after each product and then fights torch's threads
    for the 2 cores on the next question encoding: measured, that tripled a question's time.
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        global _BLAS
        if _BLAS is None:
            _BLAS = ThreadpoolController()
        with _BLAS.limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


@dataclass
class Hit:
    chunk: Chunk
    score: float
    dense: float
    bm25: float
    rank: int = 0


def _minmax(values: np.ndarray) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    return (values - lo) / (hi - lo) if hi > lo else np.zeros_like(values)


def weighted_fusion(dense: np.ndarray, bm25: np.ndarray, weight: float, rrf_k: int) -> np.ndarray:
    """Min-max normalised scores over the candidates, blended: weight on dense, rest on BM25."""
    return weight * _minmax(dense) + (1.0 - weight) * _minmax(bm25)


def rrf_fusion(dense: np.ndarray, bm25: np.ndarray, weight: float, rrf_k: int) -> np.ndarray:
    """Reciprocal rank fusion (weighted): sum of w / (k + rank) over the two lists."""
    ranks_d = np.empty(len(dense))
    ranks_d[np.argsort(-dense, kind="stable")] = np.arange(1, len(dense) + 1)
    ranks_b = np.empty(len(bm25))
    ranks_b[np.argsort(-bm25, kind="stable")] = np.arange(1, len(bm25) + 1)
    return 2 * weight / (rrf_k + ranks_d) + 2 * (1.0 - weight) / (rrf_k + ranks_b)


FUSIONS: dict[str, Callable[[np.ndarray, np.ndarray, float, int], np.ndarray]] = {
    "weighted": weighted_fusion,
    "rrf": rrf_fusion,
}


@dataclass
class Query:
    """A question prepared once for every scorer: expanded text, tokens and embedding.

    Corpus words near the question's words come in two groups: `related_tokens`, near words the
    corpus also uses ("job" -> "employment"), weigh little; `stand_in_tokens`, near words the
    corpus never uses ("champagne" -> "alcohol"), stand in for them and weigh more.
    """

    text: str
    expanded: str
    tokens: list[str]
    vector: np.ndarray
    related: list[str] = field(default_factory=list)  # corpus words near the question's words
    related_tokens: list[str] = field(default_factory=list)
    named_docs: set[str] = field(default_factory=set)  # documents the question names
    stand_in_tokens: list[str] = field(default_factory=list)  # for words the corpus lacks
    embedded: str = ""  # the text the model read: the expanded question, plus stand-ins
    phrases: list[str] = field(default_factory=list)  # quoted in the question, normalized


@one_blas_thread
def prepare(index: Index, question: str) -> Query:
    r = index.settings.retrieval
    # Undecodable argv/stdin bytes arrive as lone surrogates, which the tokenizer rejects.
    question = question[: index.settings.max_query_chars].encode("utf-8", "replace").decode()
    expanded = expand_acronyms(amounts_as_money(question, index.amounts), index.acronyms)
    tokens = tokenize(expanded, r.stem, r.stopwords)
    words = content_words(expanded)[:MAX_EXPANDED_WORDS]
    vectors = word_vectors(index, words if r.stand_in_weight or r.expansion_weight else [])
    known = np.array([w in index.vocabulary.known for w in words[: len(vectors)]], dtype=bool)
    exclude = set(tokenize(expanded))
    # Stand-ins first, so a word near both kinds of question word counts at the higher weight.
    stand_ins = index.vocabulary.neighbours(
        vectors[~known] if r.stand_in_weight else vectors[:0], exclude, r.expansion_neighbours,
        r.expansion_min_similarity)
    related = index.vocabulary.neighbours(
        vectors[known] if r.expansion_weight else vectors[:0],
        exclude | set(tokenize(" ".join(stand_ins))), r.expansion_neighbours,
        r.expansion_min_similarity)
    embedded = expanded
    if stand_ins and r.embed_stand_ins:
        embedded = f"{expanded} ({', '.join(stand_ins)})"
    vector = index.embedder.encode([embedded])[0]
    return Query(question, expanded, tokens, vector, related + stand_ins,
                 tokenize(" ".join(related), r.stem, r.stopwords), named_documents(index, question),
                 tokenize(" ".join(stand_ins), r.stem, r.stopwords), embedded,
                 quoted_phrases(question))


_QUOTED = re.compile(r'"([^"\n]+)"')


def quoted_phrases(question: str) -> list[str]:
    """Phrases of two words or more that the question puts in double quotes, normalized: whoever
    quotes words ("in but not of the system") wants the passages that hold exactly those."""
    return [normalize(p) for p in _QUOTED.findall(fold(question)) if len(p.split()) >= 2]


_WORD_VECTORS: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
WORD_CACHE_SIZE = 20_000  # bounded: questions are untrusted input


def word_vectors(index: Index, words: list[str]) -> np.ndarray:
    """Embeddings of single words, remembered across questions (least recently used dropped):
    everyday words recur, and encoding them was most of a question's time."""
    identity = index.embedder.identity
    missing = [w for w in words if (identity, w) not in _WORD_VECTORS]
    if missing:
        for word, vector in zip(missing, index.embedder.encode(missing), strict=True):
            _WORD_VECTORS[(identity, word)] = vector
    out = []
    for word in words:
        _WORD_VECTORS.move_to_end((identity, word))
        out.append(_WORD_VECTORS[(identity, word)])
    while len(_WORD_VECTORS) > WORD_CACHE_SIZE:
        _WORD_VECTORS.popitem(last=False)
    return np.vstack(out) if out else np.zeros((0, index.chunk_vectors.shape[1]), np.float32)


def clear_word_cache() -> None:
    """Forget remembered word vectors, so a timing sees a question as if it were the first."""
    _WORD_VECTORS.clear()


def _name_grams(text: str, min_n: int = 1, max_n: int = 3) -> set[tuple[str, ...]]:
    """Word n-grams that can name a document: no stop word at either end, single words 4+ letters."""
    words = tokenize(text, stem=True, stopwords=False)
    grams = set()
    for n in range(min_n, max_n + 1):
        for i in range(len(words) - n + 1):
            gram = tuple(words[i : i + n])
            if gram[0] in STOPWORDS or gram[-1] in STOPWORDS:
                continue
            if n == 1 and not (gram[0].isalpha() and len(gram[0]) >= 4):
                continue
            grams.add(gram)
    return grams


_NAMES: OrderedDict[int, tuple[object, dict[tuple[str, ...], str]]] = OrderedDict()


def _document_names(index: Index) -> dict[tuple[str, ...], str]:
    """Each name n-gram that belongs to exactly one document; made once per loaded corpus."""
    key = id(index.documents)
    cached = _NAMES.get(key)
    if cached is not None and cached[0] is index.documents:
        return cached[1]
    owners: dict[tuple[str, ...], set[str]] = {}
    for doc_id, doc in index.documents.items():
        for gram in _name_grams(doc.label) | _name_grams(doc.title, min_n=2):
            owners.setdefault(gram, set()).add(doc_id)
    names = {gram: next(iter(ids)) for gram, ids in owners.items() if len(ids) == 1}
    _NAMES[key] = (index.documents, names)  # holds the dict, so its id is not reused
    while len(_NAMES) > 8:
        _NAMES.popitem(last=False)
    return names


def named_documents(index: Index, question: str) -> set[str]:
    """Documents a question names by a phrase of their label or title that no other one shares.

    Single words count only from the short label ("Toolkit"); a title's single words are too
    common in questions ("support", "department"), so titles count from two words up.
    "Where does the code of conduct say..." or "what does 4.12 say..." point at one document; the
    hybrid ranking favours it (RetrievalSettings.named_document_boost) without excluding others.
    """
    names = _document_names(index)
    return {names[gram] for gram in _name_grams(question) if gram in names}


def bm25_scores(index: Index, query: Query) -> np.ndarray:
    """BM25 of the question's words, plus its related words and stand-ins at their weights."""
    r = index.settings.retrieval
    scores = index.lexical.scores(query.tokens)
    if query.related_tokens:
        scores = scores + r.expansion_weight * index.lexical.scores(query.related_tokens)
    if query.stand_in_tokens:
        scores = scores + r.stand_in_weight * index.lexical.scores(query.stand_in_tokens)
    return scores


def sentence_cosines(index: Index, query: Query) -> np.ndarray:
    return index.sentence_vectors @ query.vector


def dense_scores(index: Index, query: Query, rows: np.ndarray,
                 sent_cos: np.ndarray | None = None) -> np.ndarray:
    """Cosine of the question with each chunk, or with its best sentence if that is higher."""
    chunk_cos = index.chunk_vectors[rows] @ query.vector
    if sent_cos is None:
        sent_cos = sentence_cosines(index, query)
    # Sentence rows are stored in chunk order, so each chunk's sentences are one contiguous run.
    lo = np.searchsorted(index.sentence_chunk, rows, side="left")
    hi = np.searchsorted(index.sentence_chunk, rows, side="right")
    pairs = zip(lo, hi, strict=True)
    best_sentence = np.array([sent_cos[a:b].max() if b > a else -1.0 for a, b in pairs],
                             dtype=np.float32)
    return np.maximum(chunk_cos, best_sentence)


def allowed_rows(index: Index, docs: list[str] | None) -> np.ndarray:
    if not docs:
        return np.arange(len(index.chunks))
    wanted = set(docs)
    return np.array([c.chunk_id for c in index.chunks if c.doc_id in wanted], dtype=np.int64)


@one_blas_thread
def search(index: Index, question: str | Query, mode: str = "hybrid", k: int = 5,
           docs: list[str] | None = None) -> list[Hit]:
    """Top-k chunks for the question; `docs` restricts to those document ids."""
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    query = question if isinstance(question, Query) else prepare(index, question)
    rows = allowed_rows(index, docs)
    if len(rows) == 0:
        return []
    r = index.settings.retrieval
    bm25_all = bm25_scores(index, query)
    bm25 = bm25_all[rows]
    sent_cos = sentence_cosines(index, query)
    candidates = _candidates(index, query, rows, bm25, max(r.candidates, k), sent_cos)
    dense = dense_scores(index, query, candidates, sent_cos)
    bm25_c = bm25_all[candidates]
    if mode == "dense":
        scores = dense
    elif mode == "bm25":
        scores = bm25_c
    else:
        scores = FUSIONS[r.fusion](dense, bm25_c, r.dense_weight, r.rrf_k)
        if query.named_docs and r.named_document_boost:
            named = np.array([index.chunks[int(c)].doc_id in query.named_docs for c in candidates])
            scores = scores + r.named_document_boost * named
        if query.phrases and r.quoted_phrase_boost:
            texts = [normalize(index.chunks[int(c)].text) for c in candidates]
            quoted = np.array([any(p in t for p in query.phrases) for t in texts])
            scores = scores + r.quoted_phrase_boost * quoted
    order = np.argsort(-scores, kind="stable")[:k]
    return [
        Hit(index.chunks[int(candidates[i])], float(scores[i]), float(dense[i]), float(bm25_c[i]),
            rank=n + 1)
        for n, i in enumerate(order)
    ]


def _candidates(index: Index, query: Query, rows: np.ndarray, bm25: np.ndarray, n: int,
                sent_cos: np.ndarray) -> np.ndarray:
    """Union of the dense (FAISS), BM25 and best-sentence top-n among the allowed rows."""
    import faiss

    n = min(n, len(rows))
    if len(rows) == len(index.chunks):
        _, ids = index.faiss_index.search(query.vector[None, :], n)
    else:
        params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(rows.astype(np.int64)))
        _, ids = index.faiss_index.search(query.vector[None, :], n, params=params)
    dense_top = ids[0][ids[0] >= 0]
    bm25_top = rows[_top(bm25, n)]
    # Sentence-level matches can surface a chunk the chunk vector ranks low.
    if len(rows) < len(index.chunks):
        allowed = np.zeros(len(index.chunks), dtype=bool)
        allowed[rows] = True
        sent_cos = np.where(allowed[index.sentence_chunk], sent_cos, -np.inf)
    sent_top = _top_distinct(index.sentence_chunk, sent_cos, n)
    return np.unique(np.concatenate([dense_top, bm25_top, sent_top]))


def _top(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the n highest scores, best first, without sorting everything (large corpora)."""
    if n >= len(scores):
        return np.argsort(-scores, kind="stable")
    part = np.argpartition(-scores, n - 1)[:n]
    return part[np.argsort(-scores[part], kind="stable")]


def _top_distinct(owner: np.ndarray, scores: np.ndarray, n: int) -> np.ndarray:
    """The owners (chunks) of the best-scoring rows (sentences), n distinct, best first."""
    m = n
    while True:
        order = _top(scores, min(m, len(scores)))
        order = order[np.isfinite(scores[order])]
        owners = owner[order]
        _, first = np.unique(owners, return_index=True)
        distinct = owners[np.sort(first)]
        if len(distinct) >= n or m >= len(scores):
            return distinct[:n].astype(np.int64)
        m *= 4

"""A question prepared once, for every scorer: rewritten text, BM25 terms, embedding, hints.

Staff write "$20", "PSS", "champagne", "the code of conduct"; the policies write "money",
"Peer Support Specialist", "alcohol", and their own labels. `prepare` runs the rewrites in REWRITES
in order, each a small function filling part of the `Query`, so what happens to a question is
read in one list rather than gathered from several modules.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .blas import one_blas_thread
from .expansion import content_words, model_lexicon
from .index import Index
from .languages import language_of
from .lexical import STOPWORDS, amounts_as_money, expand_acronyms, tokenize
from .normalize import fold, normalize, unaccented
from .spelling import Speller
from .spelling import apply as apply_corrections

MAX_EXPANDED_WORDS = 24  # bounds the extra work for very long questions


@dataclass
class Query:
    """A question and what the rewrites made of it.

    Corpus words near the question's words come in two groups: `related_tokens`, near words the
    corpus also uses ("job" -> "employment"), weigh little; `stand_in_tokens`, near words the
    corpus never uses ("champagne" -> "alcohol"), stand in for them and weigh more.
    """

    text: str  # the question as asked (bounded in length)
    expanded: str = ""  # with sums of money and acronyms rewritten
    language: str = "english"  # the question's, by its function words (languages.py)
    tokens: list[str] = field(default_factory=list)
    related: list[str] = field(default_factory=list)  # corpus words near the question's words
    related_tokens: list[str] = field(default_factory=list)
    stand_in_tokens: list[str] = field(default_factory=list)  # for words the corpus lacks
    terms: list[tuple[list[str], float]] = field(default_factory=list)  # BM25 groups, weighted
    embedded: str = ""  # the text the model read: the expanded question, plus stand-ins
    vector: np.ndarray | None = None
    named_docs: set[str] = field(default_factory=set)  # documents the question names
    phrases: list[str] = field(default_factory=list)  # quoted in the question, normalized
    corrections: dict[str, str] = field(default_factory=dict)  # typing slips read as corpus words


# ---------------------------------------------------------------- the rewrites, in order


def bound(index: Index, query: Query) -> None:
    """At most max_query_chars; undecodable argv/stdin bytes (lone surrogates) replaced."""
    limit = index.settings.max_query_chars
    query.text = query.text[:limit].encode("utf-8", "replace").decode()


def money_and_acronyms(index: Index, query: Query) -> None:
    """A sum the corpus never names reads as "money"; acronyms gain their long form and back."""
    facts = index.store.facts
    query.expanded = expand_acronyms(amounts_as_money(query.text, facts.amounts), facts.acronyms)


def spelling(index: Index, query: Query) -> None:
    """Typing slips read as the corpus words they were meant to be ("cleints" -> "clients",
    spelling.py), before any scorer reads the question."""
    if not index.settings.retrieval.spelling:
        return
    speller = index.derived("spelling.Speller", lambda: Speller(
        index.store.vocabulary.words, index.store.idf,
        lambda: model_lexicon(index.embedder.vocabulary()), index.known_vectors))
    query.corrections = speller.corrections(query.expanded)
    query.expanded = apply_corrections(query.expanded, query.corrections)


def keywords(index: Index, query: Query) -> None:
    r = index.settings.retrieval
    query.language = language_of(query.expanded)
    query.tokens = tokenize(query.expanded, r.stem, r.stopwords, query.language)


def neighbours(index: Index, query: Query) -> None:
    """Corpus words near the question's words: stand-ins for words the corpus never uses, and
    related words for the ones it does (expansion.py), each group at its BM25 weight."""
    r = index.settings.retrieval
    vocabulary = index.store.vocabulary
    words = content_words(query.expanded, query.language)[:MAX_EXPANDED_WORDS]
    vectors = word_vectors(index, words if r.stand_in_weight or r.expansion_weight else [])
    known = np.array([w in vocabulary.known for w in words[: len(vectors)]], dtype=bool)
    sims = vocabulary.similarities(vectors)
    exclude = set(tokenize(query.expanded))
    # Stand-ins first, so a word near both kinds of question word counts at the higher weight.
    stand_ins = vocabulary.neighbours(
        sims[~known] if r.stand_in_weight else sims[:0], exclude, r.expansion_neighbours,
        r.expansion_min_similarity)
    related = vocabulary.neighbours(
        sims[known] if r.expansion_weight else sims[:0],
        exclude | set(tokenize(" ".join(stand_ins))), r.expansion_neighbours,
        r.expansion_min_similarity)
    query.related = related + stand_ins
    query.related_tokens = tokenize(" ".join(related), r.stem, r.stopwords)
    query.stand_in_tokens = tokenize(" ".join(stand_ins), r.stem, r.stopwords)
    query.terms = [(query.tokens, 1.0), (query.related_tokens, r.expansion_weight),
                   (query.stand_in_tokens, r.stand_in_weight)]
    query.embedded = query.expanded
    if stand_ins and r.embed_stand_ins:
        query.embedded = f"{query.expanded} ({', '.join(stand_ins)})"


def embedding(index: Index, query: Query) -> None:
    query.vector = encode(index, [query.embedded])[0]


def named(index: Index, query: Query) -> None:
    query.named_docs = named_documents(index, query.text)


def quoted(index: Index, query: Query) -> None:
    query.phrases = quoted_phrases(query.text)


REWRITES: tuple[Callable[[Index, Query], None], ...] = (
    bound, money_and_acronyms, spelling, keywords, neighbours, embedding, named, quoted,
)


@one_blas_thread
def prepare(index: Index, question: str) -> Query:
    query = Query(question)
    for rewrite in REWRITES:
        rewrite(index, query)
    return query


# ---------------------------------------------------------------- encoding, with what is known


def encode(index: Index, texts: Sequence[str]) -> np.ndarray:
    """Vectors for texts, taking those the model already made (index.known_vectors) as they are."""
    known = index.known_vectors
    rows = [known.get(t) for t in texts] if known else []
    if any(row is not None for row in rows):
        missing = [t for t, row in zip(texts, rows, strict=True) if row is None]
        fresh = iter(index.embedder.encode(missing) if missing else [])
        return np.vstack([next(fresh) if row is None else row for row in rows]).astype(np.float32)
    return index.embedder.encode(list(texts))


class WordVectors:
    """Embeddings of single words, remembered across questions (least recently used dropped):
    everyday words recur, and encoding them was most of a question's time. Shared by the page's
    concurrent sessions, so every read and write holds the lock; encoding happens outside it."""

    def __init__(self, size: int = 20_000):  # bounded: questions are untrusted input
        self.size = size
        self._vectors: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, index: Index, words: list[str]) -> np.ndarray:
        identity = index.embedder.identity
        with self._lock:
            found = {w: self._vectors.get((identity, w)) for w in words}
        missing = list(dict.fromkeys(w for w, v in found.items() if v is None))
        if missing:
            found.update(zip(missing, encode(index, missing), strict=True))
        with self._lock:
            for word in words:
                self._vectors[(identity, word)] = found[word]
                self._vectors.move_to_end((identity, word))
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)
        if not words:
            return np.zeros((0, index.store.manifest["dimension"]), np.float32)
        return np.vstack([found[w] for w in words])

    def clear(self) -> None:
        with self._lock:
            self._vectors.clear()


WORD_VECTORS = WordVectors()


def word_vectors(index: Index, words: list[str]) -> np.ndarray:
    return WORD_VECTORS.get(index, words)


def clear_word_cache() -> None:
    """Forget remembered word vectors, so a timing sees a question as if it were the first."""
    WORD_VECTORS.clear()


# ---------------------------------------------------------------- hints for ranking

_QUOTED = re.compile(r'"([^"\n]+)"')


def quoted_phrases(question: str) -> list[str]:
    """Phrases of two words or more that the question puts in double quotes, normalized: whoever
    quotes words ("in but not of the system") wants the passages that hold exactly those."""
    return [normalize(p) for p in _QUOTED.findall(fold(question)) if len(p.split()) >= 2]


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


def document_names(index: Index) -> dict[tuple[str, ...], str]:
    """Each name n-gram that belongs to exactly one document, and, if a single word, that few
    other documents use (see `_common_words`); made once per loaded index."""

    def make() -> dict[tuple[str, ...], str]:
        owners: dict[tuple[str, ...], set[str]] = {}
        for doc_id, doc in index.documents.items():
            for gram in _name_grams(doc.label) | _name_grams(doc.title, min_n=2):
                owners.setdefault(gram, set()).add(doc_id)
        names = {gram: next(iter(ids)) for gram, ids in owners.items() if len(ids) == 1}
        common = _common_words(index, {gram[0]: doc for gram, doc in names.items()
                                       if len(gram) == 1})
        return {gram: doc for gram, doc in names.items() if not (len(gram) == 1
                                                                  and gram[0] in common)}

    return index.derived("query.document_names", make)


def _common_words(index: Index, owners: dict[str, str]) -> set[str]:
    """The words (stemmed) of `owners` that more than one other document uses, and more than a
    tenth of them: such a word is the corpus's vocabulary, not a name. File names make labels,
    and "github-terms-of-service" gave "service" to one document of a corpus where seven use it,
    so any question about "the service" favoured it; "code" named the code of conduct in a
    question about a licensing board's ethics code. "toolkit", "deceased" still name theirs.
    Each document's distinct words are read with one pattern and only those starting as a name
    does are stemmed, once per loaded index (the page's preload makes it): 13 ms for the 300,000
    characters of ../shared/realdocs, against 41 ms to tokenize them, and linear in the corpus's
    length however many documents name themselves (a pattern of every name was not: its
    alternatives are tried one by one at each word)."""
    if not owners:
        return set()
    starts = {w[:3] for w in owners}
    users = dict.fromkeys(owners, 0)
    for doc_id, doc in index.documents.items():
        words = set(_WORDS.findall(unaccented(doc.text).casefold()))
        seen = {t for w in words if w[:3] in starts
                for t in tokenize(w, stem=True, stopwords=False)}
        for word in seen & users.keys():
            users[word] += owners[word] != doc_id
    limit = max(1, len(index.documents) // 10)
    return {word for word, n in users.items() if n > limit}


_WORDS = re.compile(r"[^\W_]{3,}")


def named_documents(index: Index, question: str) -> set[str]:
    """Documents a question names by a phrase of their label or title that no other one shares.

    Single words count only from the short label ("Toolkit"); a title's single words are too
    common in questions ("support", "department"), so titles count from two words up.
    "Where does the code of conduct say..." or "what does 4.12 say..." point at one document; the
    hybrid ranking favours it (RetrievalSettings.named_document_boost) without excluding others.
    """
    names = document_names(index)
    return {names[gram] for gram in _name_grams(question) if gram in names}

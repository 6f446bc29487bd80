"""Keyword side of the index: a tokenizer for policy prose, acronym definitions, and BM25.

rank-bm25's BM25Okapi floors the IDF of any term found in half or more of the documents
(dorianbrown/rank_bm25 #39), which on a corpus of a few hundred chunks silences common but
meaningful words. BM25Plus (lower-bounded term frequency, IDF log((N+1)/df) > 0) has no such
cliff; which variant is used is a setting, chosen by measurement (eval/EXPERIMENTS.md).

Scoring reproduces rank-bm25's formulas exactly (tests/test_lexical.py compares them on the real
corpus), but precomputes every document's term weight in a sparse matrix: rank-bm25 walks every
document in Python for every query word, which costs seconds per question at 100k chunks.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import snowballstemmer

from .languages import ENGLISH, function_words
from .normalize import fold, unaccented

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves s t don ok okay also may might must shall""".split()
)
# Letters and digits of any script ([^\W_]); accents are taken off first (unaccented), so a
# word with one is one token, not two ("séance" was "s" and "anc"), and matches without it.
_TOKEN = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?(?:-[^\W_]+)*")
_ACRONYM_DEF = re.compile(
    r"((?:[A-Z][\w\u2019'-]*[ \t]+(?:(?:of|and|for|the|to|in|on|&)[ \t]+)?){1,7})\(([A-Z]{2,6})s?\)"
)
_JOINERS = {"of", "and", "for", "the", "to", "in", "on"}
# snowballstemmer hands out PyStemmer's C build of the same Snowball algorithm when it is installed
# (a dependency): identical stems (checked on 75,000 corpus and model words), 13x faster, which a
# cold start stemming the corpus vocabulary and every ingest feel. Without it, the pure Python one.
_STEMMER = snowballstemmer.stemmer("english")
# The Snowball stemmer keeps the word it is working on in the object, so two threads stemming at
# once (the page's concurrent sessions) raised IndexError or swapped stems: one stems at a time.
# Only cache misses take the lock; common words never reach it.
_STEM_LOCK = threading.Lock()
VARIANTS = ("okapi", "plus", "l")  # rank-bm25's BM25Okapi, BM25Plus, BM25L
# rank-bm25's default extra parameters, kept so scores stay identical to it.
OKAPI_EPSILON = 0.25
PLUS_DELTA = 1.0
L_DELTA = 0.5
PAD = "\u2205"  # the token of an empty document


@lru_cache(maxsize=64)
def stopwords_of(language: str) -> frozenset[str]:
    """The words a question in `language` loses before BM25: English's STOPWORDS, as every text
    does, and for another language its function words too. A French question's "la", "de" and
    "du" are rare in an English corpus, so BM25 weighed them as if they were the question's
    subject and ranked a French passage by how many it holds; its words go unweighed instead, as
    an English question's "the" and "of" do. Documents keep theirs: a question in another
    language simply never asks for them. Remembered: a tokenizer cache miss asks for it."""
    if language == ENGLISH:
        return STOPWORDS
    return STOPWORDS | function_words().get(language, frozenset())


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    with _STEM_LOCK:
        return _STEMMER.stemWord(word)


_POSSESSIVE = re.compile(r"'s$|'$")
# An article or pronoun elided onto the word after it, in French, Italian and Catalan ("l'ordre",
# "qu'aucune", "dell'utente"): Lucene's ElisionFilter's lists. The word is indexed without it, so
# "ordre du jour" finds "l'ordre du jour". No English word starts so (the 1,246 sample files
# hold "d'Arc" and "c'tor").
_ELISION = re.compile(r"^(?:[cdjlmnstv]|qu|jusqu|lorsqu|puisqu|quoiqu|gl|un|all|dall|dell|nell|"
                      r"sull|coll|pell|agl|dagl|degl|negl|sugl)'(?=[^\W\d_])")


def tokenize(text: str, stem: bool = True, stopwords: bool = True,
             language: str = ENGLISH) -> list[str]:
    """Case-folded words; possessives dropped; hyphenated words kept whole and as their parts;
    `stopwords`: without those of `language` (stopwords_of)."""
    out: list[str] = []
    for raw in _TOKEN.findall(unaccented(fold(text)).casefold()):
        out.extend(_forms(raw, stem, stopwords, language))
    return out


@lru_cache(maxsize=65536)
def _forms(raw: str, stem: bool, stopwords: bool, language: str = ENGLISH) -> tuple[str, ...]:
    """The tokens of one matched word, remembered: a question's words recur in every scorer, and
    working them out again was a tenth of a warm question's time."""
    word = _ELISION.sub("", _POSSESSIVE.sub("", raw.replace("\u2019", "'")))
    parts = word.split("-") if "-" in word else [word]
    forms = parts + (["".join(parts)] if len(parts) > 1 else [])
    stops = stopwords_of(language) if stopwords else frozenset()
    return tuple(_stem(form) if stem else form for form in forms if form and form not in stops)


def find_acronyms(text: str) -> dict[str, str]:
    """Acronyms a document defines, e.g. "Peer Support Specialists (PSSs)" -> {"pss": "..."}."""
    found: dict[str, str] = {}
    for m in _ACRONYM_DEF.finditer(text):
        words = m.group(1).split()
        acronym = m.group(2)
        # Keep the shortest tail of capitalised words whose initials spell the acronym.
        for size in range(len(words), 0, -1):
            tail = words[-size:]
            parts = [p for w in tail for p in w.split("-") if p]
            initials = "".join(p[0] for p in parts if p[0].isalpha() and p.lower() not in _JOINERS)
            if initials.upper() != acronym:
                initials = "".join(w[0] for w in tail if w[0].isupper())
            if initials.upper() == acronym:
                while len(tail) > 1 and tail[0].lower() in _JOINERS:
                    tail = tail[1:]
                found.setdefault(acronym.lower(), " ".join(tail))
                break
    return found


def _contains(tokens: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return n > 0 and any(tokens[i : i + n] == phrase for i in range(len(tokens) - n + 1))


def expand_acronyms(query: str, acronyms: dict[str, str]) -> str:
    """Add the long form of an acronym the query uses, and the acronym of a long form it spells out."""
    additions: list[str] = []
    tokens = tokenize(query, stem=True, stopwords=False)
    words = set(re.findall(r"[a-z0-9]+", fold(query).lower()))
    for short, long in acronyms.items():
        has_short = short in words or short + "s" in words
        has_long = _contains(tokens, tokenize(long, stem=True, stopwords=False))
        if has_short and not has_long:
            additions.append(long)
        elif has_long and not has_short:
            additions.append(short.upper())
    return f"{query} ({'; '.join(additions)})" if additions else query


_AMOUNT = re.compile(r"[$\u00a3\u20ac]\s?(\d[\d,]*(?:\.\d+)?)")


def _amount_key(match: re.Match) -> str:
    return match.group(0)[0] + re.sub(r"\.0+$", "", match.group(1).replace(",", ""))


def find_amounts(text: str) -> set[str]:
    """Sums of money a document names, e.g. {"$25"}: the ones a question's amount may match."""
    return {_amount_key(m) for m in _AMOUNT.finditer(text)}


def amounts_as_money(query: str, amounts: set[str] | frozenset[str]) -> str:
    """Read a sum the corpus never names ("lend a client $20") as the word "money".

    Staff write amounts; policies write "money", "gifts", "finances". The amount's digits would
    match unrelated numbers ("20 hours") and dilute the question's keywords; an amount the
    corpus does name (a gift limit) is kept beside the word.
    """
    def word(match: re.Match) -> str:
        return f"{match.group(0)} money" if _amount_key(match) in amounts else "money"

    return _AMOUNT.sub(word, query)


@dataclass
class TermCounts:
    """A tokenized corpus as a sparse document x term count matrix in compressed-column form
    (scipy's CSC layout as three plain arrays): what BM25 needs, stored with the index so loading
    neither re-tokenizes every chunk (minutes at 100k chunks) nor imports scipy (a fifth of a
    second at every cold start)."""

    terms: list[str]
    indptr: np.ndarray  # column j's entries are indptr[j]:indptr[j+1]
    indices: np.ndarray  # the document (row) of each entry, ascending within a column
    counts: np.ndarray  # the term's count in that document
    rows: int  # stored documents (an empty corpus is stored as one padding document)
    size: int  # real documents

    @classmethod
    def from_tokens(cls, token_lists: list[list[str]]) -> TermCounts:
        # rank-bm25 divides by zero on an empty corpus or an empty document; pad the same way.
        safe = [tokens or [PAD] for tokens in token_lists] or [[PAD]]
        vocab: dict[str, int] = {}
        rows, cols, vals = [], [], []
        for row, tokens in enumerate(safe):
            for term, n in Counter(tokens).items():
                rows.append(row)
                cols.append(vocab.setdefault(term, len(vocab)))
                vals.append(n)
        rows_a, cols_a = np.asarray(rows, dtype=np.int32), np.asarray(cols, dtype=np.int64)
        order = np.lexsort((rows_a, cols_a))
        indptr = np.concatenate([[0], np.cumsum(np.bincount(cols_a, minlength=len(vocab)))])
        return cls(list(vocab), indptr.astype(np.int64), rows_a[order],
                   np.asarray(vals, dtype=np.int32)[order], len(safe), len(token_lists))


class SparseBM25:
    """rank-bm25's BM25Okapi / BM25Plus / BM25L scores, from a precomputed sparse weight matrix.

    A document's score is a sum over query words (repeats included, as in rank-bm25) of a
    per-(document, term) weight; a term absent from a document adds a constant per term in
    BM25Plus (idf * delta) and nothing in the other two variants.
    """

    def __init__(self, corpus: TermCounts, variant: str, k1: float, b: float):
        if variant not in VARIANTS:
            raise ValueError(f"unknown BM25 variant {variant!r}; choose one of {', '.join(VARIANTS)}")
        n_docs = corpus.rows
        tf = corpus.counts.astype(np.float64)
        doc_len = np.bincount(corpus.indices, weights=tf, minlength=n_docs)
        avgdl = doc_len.sum() / n_docs
        df = np.diff(corpus.indptr).astype(np.float64)
        norm = (1 - b + b * doc_len / avgdl)[corpus.indices]  # per stored (document, term) entry
        if variant == "okapi":
            idf = np.log(n_docs - df + 0.5) - np.log(df + 0.5)
            self.average_idf = float(idf.mean()) if len(idf) else 0.0
            idf = np.where(idf < 0, OKAPI_EPSILON * self.average_idf, idf)
            weight = tf * (k1 + 1) / (tf + k1 * norm)
        elif variant == "plus":
            idf = np.log((n_docs + 1) / df)
            weight = tf * (k1 + 1) / (k1 * norm + tf)
        else:
            idf = np.log(n_docs + 1) - np.log(df + 0.5)
            ctd = tf / norm
            weight = tf * (k1 + 1) * (ctd + L_DELTA) / (k1 + ctd + L_DELTA)
        self.indptr, self.indices = corpus.indptr, corpus.indices
        self.weights = weight * np.repeat(idf, np.diff(corpus.indptr))  # per stored entry
        self.absent = idf * PLUS_DELTA if variant == "plus" else np.zeros_like(idf)
        self.column = {term: j for j, term in enumerate(corpus.terms)}
        self.idf = dict(zip(corpus.terms, idf.tolist(), strict=True))
        self.corpus_size = n_docs

    def get_scores(self, query: list[str]) -> np.ndarray:
        scores = np.zeros(self.corpus_size)
        constant = 0.0
        for term, repeats in Counter(query).items():
            j = self.column.get(term)
            if j is None:
                continue
            lo, hi = self.indptr[j], self.indptr[j + 1]
            scores[self.indices[lo:hi]] += repeats * self.weights[lo:hi]
            constant += repeats * self.absent[j]
        return scores + constant


class Lexical:
    """BM25 over chunk token lists (chunk text plus its section headings)."""

    def __init__(self, token_lists: list[list[str]], variant: str, k1: float, b: float):
        self._use(TermCounts.from_tokens(token_lists), variant, k1, b)

    @classmethod
    def from_counts(cls, corpus: TermCounts, variant: str, k1: float, b: float) -> Lexical:
        lexical = cls.__new__(cls)
        lexical._use(corpus, variant, k1, b)
        return lexical

    def _use(self, corpus: TermCounts, variant: str, k1: float, b: float) -> None:
        self.bm25 = SparseBM25(corpus, variant, k1, b)
        self.size = corpus.size

    def scores(self, tokens: list[str]) -> np.ndarray:
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)[: self.size]

    def weighted_scores(self, groups: Sequence[tuple[Sequence[str], float]]) -> np.ndarray:
        """Sum of each token group's BM25 at its weight: a question's words at 1, their related
        words and stand-ins at their fractions (one call per question, one statement in SQL)."""
        total = np.zeros(self.size, dtype=np.float32)
        for tokens, weight in groups:
            if tokens and weight:
                total = total + weight * self.scores(list(tokens))
        return total

    @property
    def idf(self) -> dict[str, float]:
        return self.bm25.idf

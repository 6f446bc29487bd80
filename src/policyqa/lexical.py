"""Keyword side of the index: a tokenizer for policy prose, acronym definitions, and BM25.

rank-bm25's BM25Okapi floors the IDF of any term found in half or more of the documents
(dorianbrown/rank_bm25 #39), which on a corpus of a few hundred chunks silences common but
meaningful words. BM25Plus (lower-bounded term frequency, IDF log((N+1)/df) > 0) has no such
cliff; which variant is used is a setting, chosen by measurement (eval/EXPERIMENTS.md).
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np
import snowballstemmer
from rank_bm25 import BM25L, BM25Okapi, BM25Plus

from .normalize import fold

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just
    me more most my myself of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will
    with would you your yours yourself yourselves s t don ok okay also may might must shall""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:['\u2019][a-z]+)?(?:-[a-z0-9]+)*")
_ACRONYM_DEF = re.compile(
    r"((?:[A-Z][\w\u2019'-]*[ \t]+(?:(?:of|and|for|the|to|in|on|&)[ \t]+)?){1,7})\(([A-Z]{2,6})s?\)"
)
_JOINERS = {"of", "and", "for", "the", "to", "in", "on"}
_STEMMER = snowballstemmer.stemmer("english")
VARIANTS = {"okapi": BM25Okapi, "plus": BM25Plus, "l": BM25L}


@lru_cache(maxsize=65536)
def _stem(word: str) -> str:
    return _STEMMER.stemWord(word)


def tokenize(text: str, stem: bool = True, stopwords: bool = True) -> list[str]:
    """Case-folded words; possessives dropped; hyphenated words kept whole and as their parts."""
    out: list[str] = []
    for raw in _TOKEN.findall(fold(text).lower()):
        word = re.sub(r"'s$|'$", "", raw.replace("\u2019", "'"))
        parts = word.split("-") if "-" in word else [word]
        forms = parts + (["".join(parts)] if len(parts) > 1 else [])
        for form in forms:
            if not form or (stopwords and form in STOPWORDS):
                continue
            out.append(_stem(form) if stem else form)
    return out


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


class Lexical:
    """BM25 over chunk token lists (chunk text plus its section headings)."""

    def __init__(self, token_lists: list[list[str]], variant: str, k1: float, b: float):
        cls = VARIANTS[variant]
        # rank-bm25 divides by zero on an empty corpus or an empty document; pad defensively.
        safe = [tokens or ["\u2205"] for tokens in token_lists] or [["\u2205"]]
        self.bm25 = cls(safe, k1=k1, b=b)
        self.size = len(token_lists)

    def scores(self, tokens: list[str]) -> np.ndarray:
        if not tokens or not self.size:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(tokens), dtype=np.float32)[: self.size]

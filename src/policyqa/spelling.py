"""A question's typing slips, read as the corpus words they were meant to be.

Staff type fast: "Can staff acept gifts from cleints?" shared no BM25 term with the policies'
"accept" and "clients", and its meaning match fell under the abstention threshold, so the page
said the policies did not cover a question its own top passage answered. A question word is
read as a corpus word when:

- neither the corpus nor the model knows it (not one of the corpus's words, nor of the model's
  whole-word tokens, nor an inflection of one: "wording", "contacting" and "relapsed" are words
  whose stems are known, even where the word itself is not);
- it is five letters or more, in plain letters (a word with accents is another language's, not
  a slip: French "levée" is no "level"), not a stop word or a number word (which the corpus's
  word list leaves out: "through" is no slip of "though"), outside double quotes (exact
  wording is asked as typed);
- one slip of the keys turns it into the corpus word: two neighbouring letters swapped
  ("cleints"), one left out ("informaton") or one doubled inside it ("clientts"), with the
  first letter as typed. A letter typed for another, or another letter too many, is not taken:
  real words differ so ("sexting" and "setting", "warranty" and "warrant"), and reading one as
  the other would answer another question. Among several corpus words one slip away, the most common
  in the corpus (lowest BM25 idf).

rapidfuzz finds the corpus words within one edit (its OSA distance counts a swap as one); the
kind of slip is checked here. The corrections are listed in the answer's note, so whoever asked
sees how the question was read.
"""

from __future__ import annotations

import bisect
import math
import re
import threading
from collections.abc import Callable, Container, Iterable, Mapping, Sequence

from .expansion import content_words
from .lexical import tokenize
from .normalize import fold

MIN_LETTERS = 5
MAX_UNKNOWN = 24  # unknown words looked at per question, as query.MAX_EXPANDED_WORDS
_WORD = re.compile(r"[^\W\d_]+")
_QUOTED = re.compile(r'"[^"\n]*"')


def one_slip(typed: str, word: str) -> bool:
    """`typed` is `word` with two neighbouring letters swapped ("cleints"), one letter left out
    ("informaton") or one doubled ("clientts", and British "counselling" for "counseling"). Not
    one letter replaced by another, nor another one added: real words differ so from each other
    ("sexting" and "setting", "coders" and "codes", "warranty" and "warrant", "prioritizes" and
    "priorities"), and reading one as the other answers another question."""
    if len(typed) == len(word):
        diffs = [i for i, (a, b) in enumerate(zip(typed, word, strict=True)) if a != b]
        return (len(diffs) == 2 and diffs[1] == diffs[0] + 1
                and typed[diffs[0]] == word[diffs[1]] and typed[diffs[1]] == word[diffs[0]])
    if _dropped(word, typed) is not None:
        return True
    # a letter doubled inside the word: a doubled first or last letter is more often a code or a
    # name ("pprint", FORMERR) than a slip
    i = _dropped(typed, word)
    return i is not None and 2 <= i < len(typed) - 1 and typed[i] == typed[i - 1]


def _dropped(longer: str, shorter: str) -> int | None:
    """Where in `longer` the one letter stands whose leaving out gives `shorter` (the first
    place that differs), or None."""
    if len(longer) - len(shorter) != 1:
        return None
    i = next((i for i, (a, b) in enumerate(zip(longer, shorter, strict=False)) if a != b),
             len(shorter))
    return i if longer[i + 1:] == shorter[i:] else None


class Speller:
    """The corpus's words (the candidates), with the corpus's BM25 idf, and every word the
    corpus or the model knows, in order (never corrected, nor are their inflections). A word in
    `seen` is known at once; the model's words come from `model_words()`, read at the first
    slip that has a candidate (0.08 s): most questions have none."""

    def __init__(self, corpus_words: Sequence[str], idf: Mapping[str, float],
                 model_words: Callable[[], Iterable[str]], seen: Container[str] = ()):
        self.words = corpus_words
        self.idf = idf
        self._model_words = model_words
        self._seen = seen  # words known at once, looked up first (the index's known_vectors)
        self._known: list[str] | None = None
        self._lock = threading.Lock()

    @property
    def known(self) -> list[str]:
        with self._lock:
            if self._known is None:
                self._known = sorted(set(self.words) | set(self._model_words()))
            return self._known

    def _knows(self, typed: str) -> bool:
        """A known word, or an inflection of one: a known word with the same stem ("wording",
        "word"; "relapsed", "relapse"). Such words start with the stem's first letters, so
        only those are stemmed (the stem may end otherwise: "happi" for "happy")."""
        known = self.known
        at = bisect.bisect_left(known, typed)
        if at < len(known) and known[at] == typed:
            return True
        stems = set(tokenize(typed))
        prefix = min(stems, key=len)[:-1] if stems else typed
        at = bisect.bisect_left(known, prefix)
        while at < len(known) and known[at].startswith(prefix):
            if stems & set(tokenize(known[at])):
                return True
            at += 1
        return False

    def _common(self, word: str) -> float:
        return min((self.idf.get(t, math.inf) for t in tokenize(word)), default=math.inf)

    def unknown(self, typed: str) -> bool:
        """A word (lower case) that may be a slip: long enough, plain letters, not seen."""
        return len(typed) >= MIN_LETTERS and typed.isascii() and typed not in self._seen

    def correction(self, typed: str) -> str | None:
        """The corpus word a slip of `typed` (lower case) was meant to be, or None."""
        if not self.unknown(typed):
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        near = [word for word, _, _ in process.extract(typed, self.words, scorer=OSA.distance,
                                                       score_cutoff=1, limit=None)
                if word[0] == typed[0] and one_slip(typed, word)]
        if not near or self._knows(typed):
            return None
        return min(near, key=lambda w: (self._common(w), w))

    def corrections(self, question: str) -> dict[str, str]:
        """{typed word: corpus word} for the question's slips, outside double quotes; among
        its first MAX_UNKNOWN unknown words (a question is untrusted input: 2,000 characters of
        made-up words took 26 ms, bounded so to about 3)."""
        text = _QUOTED.sub(" ", fold(question))
        out = {}
        unknown = 0
        for typed in dict.fromkeys(w.lower() for w in _WORD.findall(text)):
            if content_words(typed) != [typed] or not self.unknown(typed):
                continue  # a stop word or number word ("through", "three"), or a known word
            unknown += 1
            if unknown > MAX_UNKNOWN:
                break
            fixed = self.correction(typed)
            if fixed:
                out[typed] = fixed
        return out


def apply(text: str, corrections: dict[str, str]) -> str:
    """The text with each corrected word replaced where it stands as a whole word, outside
    double quotes."""
    if not corrections:
        return text
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, corrections)) + r")\b", re.IGNORECASE)
    parts = re.split(r'("[^"\n]*"|\u201c[^\u201d\n]*\u201d)', text)
    return "".join(part if part[:1] in ('"', "\u201c") else
                   pattern.sub(lambda m: corrections[m.group().lower()], part) for part in parts)

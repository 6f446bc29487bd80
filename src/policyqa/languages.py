"""The language a text is written in, told by its function words.

Policies and questions are mostly English, but an agency may keep minutes or notices in French or
Spanish, and staff may ask in them. Two places care: a question's BM25 terms (lexical.stopwords_of:
its language's function words go, as "the" and "of" do) and an ALL-CAPS heading's display
(sections: French writes "Comité de démolition", not "Comité De Démolition").

The lists are the stop-words package's (a maintained collection, BSD), folded as tokens are
("été" -> "ete"). Not the languages written without spaces between words, nor Vietnamese, whose
one-syllable words, once their accents are folded, are English ones ("the", "to", "do").
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .normalize import fold, unaccented

ENGLISH = "english"
_UNSPACED = frozenset({"chinese", "japanese", "korean", "vietnamese"})
_WORD = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)?")


@lru_cache(maxsize=1)
def function_words() -> dict[str, frozenset[str]]:
    """Each language's function words, folded, each list folded at once; read when first needed
    (23 ms: import 6, files 6, folding the rest)."""
    from stop_words import AVAILABLE_LANGUAGES, get_stop_words

    return {language: frozenset(unaccented(fold("\n".join(get_stop_words(language, cache=False)))
                                           ).casefold().split("\n"))
            for language in AVAILABLE_LANGUAGES if language not in _UNSPACED}


def language_of(text: str) -> str:
    """The language whose function words the text uses most, where they outnumber English's and
    are a fifth of its words or more (two at least); English otherwise. "À quelle heure la
    séance ... a-t-elle été levée ?" is French by "à", "quelle", "la", "du", "de", "elle"; "What
    is TIC?" stays English, though "is" is Dutch too; a tie stays English. Prose is a third to a
    half function words; code is not prose: Rust's sources, their "os" and "mod" Portuguese
    and Danish words, a fifteenth of their words, stay English. Single letters are not counted:
    English's list has every one, and a German mathematics script's "x", "a" and "p" made it
    English."""
    words = Counter(w for w in _WORD.findall(unaccented(fold(text)).casefold()) if len(w) > 1)
    lists = function_words()
    english = sum(n for w, n in words.items() if w in lists[ENGLISH])
    counts = {language: sum(n for w, n in words.items() if w in stops)
              for language, stops in lists.items() if language != ENGLISH}
    best = max(counts, key=counts.get, default=ENGLISH)
    enough = max(2.0, 0.2 * words.total())
    return best if counts.get(best, 0) >= enough and counts[best] > english else ENGLISH

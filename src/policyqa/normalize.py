"""The one text normalization used for matching everywhere: gold relevance, phrase lookup, quote checks."""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
        "\u2015": "-", "\u2212": "-", "\u00a0": " ",
        # invisible: a soft hyphen (a hyphenation point, shown only at a line's end) and the
        # zero-width space and word joiner a web page or a PDF viewer's copy carries along
        "\u00ad": "", "\u200b": "", "\u2060": "", "\ufeff": "",
    }
)
# [text](target) or [text](target "title"); a target may hold one level of parentheses.
_LINK = re.compile(r'\[([^\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)')
_EMPHASIS = re.compile(r"\*+")
_SPACE = re.compile(r"\s+")
_MARKS = re.compile(r"[\u0300-\u036f]")  # combining diacritical marks, as NFKD sets them apart


# A word broken at a line's end by a hyphen, as a PDF viewer copies it ("docu-" / "mented"):
# not before a capital or a digit ("Sainte-" / "Adèle", "2023-" / "0379"), as the PDF reader joins
_BROKEN_WORD = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n\s*(?=[^\W\d_])(?![A-Z\u00c0-\u00de])")


def unbroken(text: str) -> str:
    """Typed or pasted words with those broken at a line's end joined ("docu-" / "mented":
    "documented"): a quote copied from a PDF keeps the line breaks its viewer shows, where the
    indexed text has the word whole."""
    return _BROKEN_WORD.sub("", text)


def fold(text: str) -> str:
    """NFKC plus typographic quotes and dashes folded to ASCII; length may change (NFKC)."""
    return unicodedata.normalize("NFKC", text).translate(_FOLD)


def unaccented(text: str) -> str:
    """Letters without their accents ("démolition" -> "demolition"), for matching words, never
    quotes: staff type "demolition" or "seance" for the minutes' "démolition" and "séance".
    ASCII text is returned as it is, at no cost."""
    if text.isascii():
        return text
    return _MARKS.sub("", unicodedata.normalize("NFKD", text))


def normalize(text: str) -> str:
    """NFKC, ASCII quotes/dashes, markdown emphasis and links removed, whitespace collapsed, casefolded."""
    text = fold(text)
    text = _LINK.sub(r"\1", text)
    text = _EMPHASIS.sub("", text)
    return _SPACE.sub(" ", text).strip().casefold()


def normalize_with_map(text: str) -> tuple[str, list[int]]:
    """Normalize for matching while remembering, for each output character, its index in `text`.

    Used to map a match in normalized space back to exact offsets in the canonical text.
    Canonical text has no markdown left, so only folding, whitespace and case change here.
    """
    out: list[str] = []
    index: list[int] = []
    pending_space = False
    for i, ch in enumerate(text):
        piece = fold(ch)
        if piece == "*" or not piece:
            continue
        if piece.isspace():
            pending_space = bool(out)
            continue
        if pending_space and out:
            out.append(" ")
            index.append(i - 1)
        pending_space = False
        for c in piece.casefold():
            out.append(c)
            index.append(i)
    return "".join(out), index

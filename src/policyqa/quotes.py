"""Exact-wording lookup: where a phrase stands in the corpus, whether a quote is really there,
and which section of a document a reference names.

Matching uses the project's one normalization (normalize.py), then maps back to exact offsets, so the
words shown are the document's own. Near-matches come from rapidfuzz and are only offered when there
is no exact match, marked approximate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rapidfuzz import fuzz

from .cite import chunk_citation, section_citation, spanned_path
from .index import Index
from .normalize import normalize, normalize_with_map, unbroken


@dataclass
class QuoteMatch:
    doc_id: str
    doc_label: str
    start: int
    end: int
    text: str  # the matched words, verbatim
    sentence: str  # the enclosing sentence(s), verbatim
    citation: str
    exact: bool
    similarity: float  # 100 for exact matches
    page: str | None = None  # the page as cited (printed number where the source shows one)


# How a quote marks words it leaves out: an ellipsis ("...", ". . .", "…"), bracketed or not
# ("[...]"), after a sentence's full stop too ("serve. ..."); and words it puts in place of the
# document's: a bracketed insertion ("[them]", "[the client]").
OMISSION = re.compile(r"\s*(?:\[\s*(?:\u2026|\.(?:\s?\.){2,3})\s*\]|\u2026|\.(?:\s?\.){2,3})\s*")
INSERTION = re.compile(r"\[([^\[\]\n]{1,60})\]")
# How far, in characters, the words after a mark may stand past those before it: what an
# ellipsis leaves out stays within a long paragraph or two (a quote that skips further joins two
# places), and a bracket stands for a few words.
OMISSION_CHARS = 1000
INSERTION_CHARS = 80


@dataclass
class QuoteMarks:
    """A quote cut where it marks its own omissions and insertions (`quote_parts`)."""

    parts: list[str]  # the words it says stand in the document, in order
    gaps: list[tuple[str, str]]  # between each two parts: ("omitted", "...") | ("altered", "[x]")
    before: str = ""  # an insertion it opens with ("[Staff] must...")
    after: str = ""  # one it ends with ("...must not lend money to [clients]")

    @property
    def marked(self) -> bool:
        return bool(self.gaps or self.before or self.after)


def quote_parts(quote: str) -> QuoteMarks:
    """A quote cut where it marks its own omissions ("...") and insertions ("[them]"). A
    bracketed letter inside a word ("[T]he", a change of case) is that letter."""
    text = re.sub(r"(?<=\w)\[(\w)\]|\[(\w)\](?=\w)", lambda m: m.group(1) or m.group(2), quote)
    marks = sorted([(m.start(), m.end(), "omitted") for m in OMISSION.finditer(text)]
                   + [(m.start(), m.end(), "altered") for m in INSERTION.finditer(text)
                      if not OMISSION.fullmatch(m.group())])
    cut = QuoteMarks([], [])
    last = 0
    for start, end, kind in marks:
        if start < last:
            continue
        part, mark = text[last:start].strip(), text[start:end].strip()
        if part and normalize(part):
            cut.parts.append(part)
            cut.gaps.append((kind, mark))
        elif cut.parts:  # two marks in a row: one gap
            kind = "omitted" if "omitted" in (cut.gaps[-1][0], kind) else kind
            cut.gaps[-1] = (kind, cut.gaps[-1][1] + " " + mark)
        elif kind == "altered":
            cut.before = f"{cut.before} {mark}".strip()
        last = end
    tail = text[last:].strip()
    if tail and normalize(tail):
        cut.parts.append(tail)
    elif cut.gaps:  # the quote ends on a mark
        kind, mark = cut.gaps.pop()
        cut.after = mark if kind == "altered" else ""
    return cut


def sentence_start(index: Index, match: QuoteMatch) -> int:
    """Offset of `match.sentence` in its document (the one that encloses the match)."""
    text = index.documents[match.doc_id].text
    at = text.find(match.sentence, max(0, match.end - len(match.sentence)))
    while at != -1 and at <= match.start:
        if at + len(match.sentence) >= match.end:
            return at
        at = text.find(match.sentence, at + 1)
    return match.start


def _normalized_docs(index: Index) -> dict[str, tuple[str, list[int]]]:
    """Each document's normalized text and offset map, made once per loaded index (and held by
    it, so an index rebuilt in the same process never gets another corpus's offsets)."""
    return index.derived("quotes.normalized", lambda: {
        d: normalize_with_map(doc.text) for d, doc in index.documents.items()})


def _place(index: Index, doc_id: str, start: int, end: int, exact: bool, similarity: float):
    doc = index.documents[doc_id]
    # the chunk holding the words' start, and any after it they run into
    touched = [c for c in index.chunks if c.doc_id == doc_id and c.start < end and c.end > start]
    chunk = next((c for c in touched if c.start <= start), None)
    sentence, section = doc.text[start:end], None
    spans = [(c.sentence_sections[i], s, e) for c in touched
             for i, (s, e) in enumerate(c.sentences) if s < end and e > start]
    if chunk is not None and spans:
        sentence = doc.text[min(s for _, s, _ in spans) : max(e for _, _, e in spans)]
        section = spanned_path([path for path, _, _ in sorted(spans, key=lambda x: x[1])])
    cite = chunk_citation(doc, chunk, section, start, end) if chunk is not None else doc.label
    return QuoteMatch(doc_id, doc.label, start, end, doc.text[start:end], sentence, cite, exact,
                      similarity, doc.page_label_at(start))


def find_in_order(index: Index, parts: list[str], gaps: list[int],
                  docs: list[str] | None = None) -> list[tuple[QuoteMatch, list[tuple[int, int]]]]:
    """Where the parts of a quote stand in one document, in order, each exactly, the part after
    a gap at most `gaps[i]` characters (normalized) past the one before: a quote that leaves
    words out ("...") or puts its own in ("[them]"). For each place, the match (from the first
    part's start to the last one's end) and each part's [start, end), in order."""
    needles = [normalize(part) for part in parts]
    if not needles or not all(needles) or len(gaps) != len(needles) - 1:
        return []
    found = []
    for doc_id, (hay, mapping) in _normalized_docs(index).items():
        if docs and doc_id not in docs:
            continue
        at = hay.find(needles[0])
        while at != -1:
            spans, end = [(at, at + len(needles[0]))], at + len(needles[0])
            for needle, gap in zip(needles[1:], gaps, strict=True):
                nxt = hay.find(needle, end, end + gap + len(needle) + 1)
                if nxt == -1:
                    break
                spans.append((nxt, nxt + len(needle)))
                end = nxt + len(needle)
            if len(spans) == len(needles):
                raw = [(mapping[s], mapping[e - 1] + 1) for s, e in spans]
                found.append((_place(index, doc_id, raw[0][0], raw[-1][1], True, 100.0), raw))
            at = hay.find(needles[0], at + 1)
    return found


# Quotation marks around the whole phrase, as a search box takes "exact words": no part of it
_ENCLOSED = re.compile(r"""\s*["'\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb](.*?)"""
                       r"""["'\u201c\u201d\u2018\u2019\u00ab\u00bb]\s*""", re.S)


def _exact(index: Index, needle: str, docs: list[str] | None) -> list[QuoteMatch]:
    """Every place the normalized needle stands."""
    matches = []
    for doc_id, (hay, mapping) in _normalized_docs(index).items():
        if docs and doc_id not in docs:
            continue
        at = hay.find(needle)
        while at != -1:
            start, end = mapping[at], mapping[at + len(needle) - 1] + 1
            matches.append(_place(index, doc_id, start, end, True, 100.0))
            at = hay.find(needle, at + 1)
    return matches


def find_quote(index: Index, phrase: str, docs: list[str] | None = None,
               approximate: int = 3, min_similarity: float = 75.0,
               omissions: bool = True) -> list[QuoteMatch]:
    """Every exact occurrence of the phrase; if none, up to `approximate` near-matches. A phrase
    typed in quotation marks ("records are documented"), as a search box takes exact words, is
    looked up without them: it was no exact match, its marks not in the text. One copied from a
    PDF with a word broken at a line's end ("docu-" / "mented") is looked up with the word whole
    where it is not found as copied. With `omissions`, a phrase that leaves words out ("staff
    ... lend money") stands where its parts do, in order (find_in_order), each match the whole
    passage from its first word to its last."""
    enclosed = _ENCLOSED.fullmatch(phrase)
    phrase = enclosed.group(1) if enclosed else phrase
    matches: list[QuoteMatch] = []
    for needle in dict.fromkeys((normalize(phrase), normalize(unbroken(phrase)))):
        matches = _exact(index, needle, docs) if needle else []
        if matches:
            break
    if not needle:
        return []
    marks = quote_parts(unbroken(phrase)) if omissions and not matches else None
    if marks and marks.gaps and {kind for kind, _ in marks.gaps} == {"omitted"}:
        matches = [match for match, _ in find_in_order(
            index, marks.parts, [OMISSION_CHARS] * len(marks.gaps), docs)]
    if matches or approximate <= 0:
        return matches
    scored = []
    for chunk in index.chunks:
        if docs and chunk.doc_id not in docs:
            continue
        hay, mapping = normalize_with_map(chunk.text)
        if not hay:
            continue
        al = fuzz.partial_ratio_alignment(needle, hay)
        if al is None or al.score < min_similarity:
            continue
        start = chunk.start + mapping[al.dest_start]
        end = chunk.start + mapping[max(al.dest_end - 1, al.dest_start)] + 1
        scored.append((al.score, chunk.doc_id, start, end))
    scored.sort(key=lambda x: -x[0])
    return [_place(index, d, s, e, False, round(score, 1)) for score, d, s, e in scored[:approximate]]


_TOKEN = re.compile(r"[^\W_]+")
# Words a reference may put before its path ("section V.4.A", "para. 6")
_FILLER = frozenset({"section", "sections", "sec", "part", "paragraph", "para", "item", "chapter"})


def find_sections(index: Index, doc_id: str, reference: str) -> list[int]:
    """The sections of a document a reference names, as a supervisor writes it: the path as
    cited ("V › 4 › A"), its markers run together ("V.4.A"), or the words of its titles in
    order ("Financial and Work Relationships"), case and punctuation aside. Those whose full
    path holds the fewest other words (the section itself, not one under it); [] for none."""
    wanted = [t for t in _TOKEN.findall(normalize(reference)) if t not in _FILLER]
    if not wanted:
        return []
    structure = index.structures[doc_id]
    scored = []
    for section in structure.sections:
        if section.kind == "root":
            continue
        path = _TOKEN.findall(normalize(structure.full_path_text(section.id)))
        words = iter(path)
        if all(token in words for token in wanted):  # in order (the iterator moves on)
            scored.append((len(path) - len(wanted), section.id))  # its other words
    best = min((extra for extra, _ in scored), default=None)
    return [sid for extra, sid in scored if extra == best]


def sections_json(index: Index, doc_id: str, ids: list[int] | None = None,
                  text: bool = False) -> list[dict]:
    """A document's sections (every one, in reading order, or `ids`) as the API and
    `policyqa section --json` give them; with `text`, each one's verbatim words too."""
    doc, structure = index.documents[doc_id], index.structures[doc_id]
    chosen = [structure.sections[i] for i in ids] if ids is not None else [
        s for s in structure.sections if s.kind != "root"]
    return [{"id": s.id, "parent": s.parent, "depth": s.depth, "marker": s.marker,
             "title": s.title, "path": structure.path_text(s.id),
             "citation": section_citation(doc, structure, s.id), "start": s.start, "end": s.end,
             **({"text": doc.text[s.start:s.end].strip("\n")} if text else {})}
            for s in chosen]

"""Stage 3: sentences and paragraph-sized chunks, with exact offsets into the canonical text.

A chunk is one or more whole paragraphs (or, for a long paragraph, a run of whole sentences) inside
one top-level section, so `doc.text[chunk.start:chunk.end] == chunk.text` and no chunk ends mid-sentence.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from .config import ChunkSettings
from .documents import Document
from .formats import TABLE_ROW
from .sections import MARKER, SEP, Paragraph, Structure

# Tokens before a period that do not end a sentence.
_ABBREVIATIONS = {
    "e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "prof", "st", "no", "jr", "sr", "inc",
    "ltd", "co", "corp", "dept", "esq", "ph.d", "psy.d", "m.s", "m.p.h", "m.d", "u.s", "u.s.a",
    "p", "pp", "vol", "ed", "eds", "fig", "al", "approx", "cf", "ca", "p.m", "a.m",
}
# (tried from a run's first mark only: from each of them, a line of 30,000 dots took 15 s)
_BOUNDARY = re.compile(r"(?<![.!?])[.!?]+[\"'\u201d\u2019)\]]*(?=\s+[\"'\u201c\u2018(\[]?[A-Z0-9])")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Sentence:
    start: int
    end: int
    section: int


@dataclass
class Chunk:
    """A passage a person reads: exact words of the document and where they stand."""

    chunk_id: int
    doc_id: str
    start: int
    end: int
    text: str
    section: int  # the deepest section containing the whole chunk
    section_path: str  # e.g. "V › 5. Medication Collaboration and Support › B"
    heading_text: str  # titles of the enclosing sections, used as context for search
    page: int | None
    page_end: int | None
    chapter_page: int | None  # the page a table of contents gives for the chapter
    sentences: list[tuple[int, int]]  # sentence spans (absolute offsets)
    sentence_sections: list[str]  # section path of each sentence, for precise answer citations
    # The section id of each sentence: always `section` or one of its descendants, so an answer
    # cited by its sentence's path never contradicts its passage's path.
    sentence_section_ids: list[int] = field(default_factory=list)

    @property
    def words(self) -> int:
        return len(self.text.split())


_LINE = re.compile(r"[^\n]+")


def _row_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """text[start:end] cut at each line break next to a table row: a row is a sentence of its
    own, as a reader of the table takes it, not one run-on sentence with the rows around it."""
    pieces, begin = [], start
    lines = [m.span() for m in _LINE.finditer(text, start, end)]
    rows = [TABLE_ROW.search(text, s, e) is not None for s, e in lines]
    for (_, e), row, (s, _), after in zip(lines, rows, lines[1:], rows[1:], strict=False):
        if row or after:
            pieces.append((begin, e))
            begin = s
    pieces.append((begin, end))
    return pieces


def split_sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Sentence spans in text[start:end]; a list marker ("A.", "1)") never ends a sentence, and
    a table's row is one sentence, whole (_row_pieces): "Food\tYes. Share it with the team.\t
    Team lead" is one answer, and half of it highlighted ("Share it with the team.\tTeam lead")
    says neither what it is about nor that it is a row (chunks' _bounded still cuts one over
    the word limit)."""
    spans = []
    for s, e in _row_pieces(text, start, end):
        piece = text[s:e]
        if "\n" not in piece.strip() and TABLE_ROW.search(piece):
            spans.append((s + len(piece) - len(piece.lstrip()), s + len(piece.rstrip())))
        else:
            spans += _sentences(text, s, e)
    return spans


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    segment = text[start:end]
    marker = MARKER.match(segment)
    cursor = marker.end() if marker else 0
    begin = len(segment) - len(segment.lstrip())
    for m in _BOUNDARY.finditer(segment, cursor):
        token = segment[:m.start() + 1].rsplit(None, 1)[-1].rstrip(".").lower()
        token = token.lstrip("(\"'\u201c")
        if token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token) or re.fullmatch(
            r"(?:[a-z]\.)+[a-z]", token
        ):
            continue
        if segment[m.end():m.end() + 1] == "\t":  # "Accept?<TAB>Who is told": the row goes on
            continue
        spans.append((start + begin, start + m.end()))
        begin = m.end()
        while begin < len(segment) and segment[begin].isspace():
            begin += 1
    if begin < len(segment.rstrip()):
        spans.append((start + begin, start + len(segment.rstrip())))
    return [s for s in spans if s[1] > s[0]]


def _bounded(text: str, spans: list[tuple[int, int]], max_words: int) -> list[tuple[int, int]]:
    """Split any sentence over max_words at clause punctuation or, failing that, at spaces."""
    out: list[tuple[int, int]] = []
    for s, e in spans:
        words = list(_WORD.finditer(text, s, e))
        if len(words) <= max_words:
            out.append((s, e))
            continue
        piece_start = s
        count = 0
        for i, w in enumerate(words):
            count += 1
            at_clause = w.group().endswith((",", ";", ":"))
            if count >= max_words or (at_clause and count >= max_words // 2):
                out.append((piece_start, w.end()))
                piece_start = words[i + 1].start() if i + 1 < len(words) else e
                count = 0
        if piece_start < e:
            out.append((piece_start, e))
    return out


def _pack(units: list[tuple[int, int, int]], target: int) -> list[list[tuple[int, int, int]]]:
    """Split a paragraph's sentences into ceil(words/target) balanced runs of whole sentences."""
    total = sum(u[2] for u in units)
    pieces = max(1, math.ceil(total / target))
    goal = total / pieces
    runs: list[list[tuple[int, int, int]]] = [[]]
    acc = 0
    for unit in units:
        if runs[-1] and acc + unit[2] / 2 > goal * len(runs) and len(runs) < pieces:
            runs.append([])
        runs[-1].append(unit)
        acc += unit[2]
    return runs


def make_chunks(
    doc: Document, structure: Structure, settings: ChunkSettings, first_id: int = 0
) -> list[Chunk]:
    """Pack paragraphs into chunks: whole paragraphs, never across a top-level section."""
    text = doc.text
    # 1. Paragraph pieces: (start, end, words, section, sentences)
    pieces: list[tuple[Paragraph, list[tuple[int, int]]]] = []
    for para in structure.paragraphs:
        if para.kind == "contents":  # a table of contents is no passage (sections.py)
            pieces.append((para, []))
            continue
        spans = _bounded(text, split_sentences(text, para.start, para.end), settings.max_words)
        units = [(s, e, len(text[s:e].split())) for s, e in spans]
        words = sum(u[2] for u in units)
        if words <= settings.target_words or para.kind == "heading":
            pieces.append((para, spans))
        else:
            for run in _pack(units, settings.target_words):
                sub = Paragraph(run[0][0], run[-1][1], para.section, para.kind)
                pieces.append((sub, [(s, e) for s, e, _ in run]))

    # 2. Greedy grouping.
    groups: list[list[tuple[Paragraph, list[tuple[int, int]]]]] = []
    words_in: list[int] = []
    for para, spans in pieces:
        if para.kind == "contents":
            groups.append([])  # closes the group before it; the next text starts its own
            words_in.append(0)
            continue
        words = len(text[para.start : para.end].split())
        if groups and groups[-1]:
            last_para = groups[-1][-1][0]
            same_top = structure.top_level(last_para.section) == structure.top_level(para.section)
            current = words_in[-1]
            only_headings = all(p.kind == "heading" for p, _ in groups[-1])
            fits = current + words <= settings.target_words
            small = current < settings.min_words and current + words <= settings.max_words
            new_section = para.section != last_para.section and para.kind != "body"
            # A run of headings with no text between them (a title block) joins what follows.
            if only_headings or (same_top and ((fits and not new_section) or small)):
                groups[-1].append((para, spans))
                words_in[-1] += words
                continue
        groups.append([(para, spans)])
        words_in.append(words)

    chunks = []
    for group in filter(None, groups):
        start, end = group[0][0].start, group[-1][0].end
        # Leading headings are context; cite the content they introduce.
        content = [p.section for p, _ in group if p.kind != "heading"] or [
            p.section for p, _ in group
        ]
        section = structure.common_ancestor(content)
        path = structure.path(section)
        sentences = [span for _, spans in group for span in spans]
        sentence_ids = [p.section for p, spans in group for _ in spans]
        sentence_sections = [structure.path_text(sid) for sid in sentence_ids]
        chapter_page = next((s.toc_page for s in path if s.toc_page), None)
        chunks.append(
            Chunk(
                chunk_id=first_id + len(chunks),
                doc_id=doc.doc_id,
                start=start,
                end=end,
                text=text[start:end],
                section=section,
                section_path=_range_path(structure, section, content),
                heading_text=" ".join(s.title for s in path if s.title),
                page=doc.page_at(start),
                page_end=doc.page_at(max(start, end - 1)),
                chapter_page=chapter_page,
                sentences=sentences,
                sentence_sections=sentence_sections,
                sentence_section_ids=sentence_ids,
            )
        )
    return chunks


def _range_path(structure: Structure, common: int, ids: list[int]) -> str:
    """The common section path, plus the range of its items the chunk spans ("… › 1–3"). Not
    a range between two items of the same label (the "c)" of one list and of the next): "c)–c)"
    names nothing a reader can find, the common path does."""
    base = structure.path_text(common)
    depth = len(structure.path(common))
    firsts = []
    for sid in ids:
        path = structure.path(sid)
        if len(path) > depth:
            firsts.append(path[depth])
    markers = [s.marker for s in firsts if s.marker]
    if not markers or len({s.id for s in firsts}) < 2 or markers[0] == markers[-1]:
        return base
    tail = f"{markers[0]}\u2013{markers[-1]}"
    return f"{base}{SEP}{tail}" if base else tail

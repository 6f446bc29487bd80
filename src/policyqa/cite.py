"""How a passage is cited: 'Label, section path, p. N' - what a supervisor pastes into a memo.

The one formatter behind every citation policyqa shows (answers, passages, quote look-ups,
citation checks, section exports), so the same words are always cited the same way.
"""

from __future__ import annotations

from .chunks import Chunk
from .documents import Document
from .sections import SEP, Structure


def format_citation(label: str, path: str, first_page: str | None, last_page: str | None,
                    chapter_page: int | None = None) -> str:
    """Label, then the section path, then the page(s) as printed on them; for a source without
    page markers, the page its table of contents gives for the chapter's beginning (the passage
    itself may stand a page or two later, so the words say which page it is)."""
    parts = [label]
    if path:
        parts.append(path)
    if first_page is not None:
        parts.append(f"p. {first_page}" if last_page in (None, first_page)
                     else f"pp. {first_page}\u2013{last_page}")
    elif chapter_page:
        parts.append(f"chapter beginning p. {chapter_page}")
    return ", ".join(parts)


def chunk_citation(doc: Document, chunk: Chunk, section_path: str | None = None,
                   start: int | None = None, end: int | None = None) -> str:
    """A chunk's citation; with `start` (and `end`), of the words there: their section and the
    page(s) they stand on."""
    path = section_path if section_path is not None else chunk.section_path
    if start is None:
        first, last = doc.page_label_at(chunk.start), doc.page_label_at(chunk.end - 1)
        return format_citation(doc.label, path, first, last, chunk.chapter_page)
    page = doc.page_label_at(start)
    last = doc.page_label_at(max(start, end - 1)) if end is not None else page
    return format_citation(doc.label, path, page, last, chunk.chapter_page)


def spanned_path(paths: list[str]) -> str:
    """The section path of words that run over several sentences, from each sentence's path:
    their common part, and the range of items below it where they cross items ("... › 1–2"),
    as a passage over items is cited. An answer of two sentences, items 1 and 2, cited "› 1"
    alone would name one item for words of both."""
    split = [path.split(SEP) if path else [] for path in paths]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) > 1:
            break
        common.append(parts[0])
    base, n = SEP.join(common), len(common)
    first, last = split[0], split[-1]
    if len(first) > n and len(last) > n and _is_marker(first[n]) and _is_marker(last[n]):
        tail = f"{first[n]}\u2013{last[n]}"
        return f"{base}{SEP}{tail}" if base else tail
    return base


def _is_marker(label: str) -> bool:
    """An item's label in a path ("2", "b)", "2.1", "iv"), not a heading's title."""
    return 0 < len(label) <= 8 and " " not in label


def section_citation(doc: Document, structure: Structure, section_id: int) -> str:
    """A whole section's citation: its path and the pages from its first to its last word."""
    section = structure.sections[section_id]
    first = doc.page_label_at(section.start)
    last = doc.page_label_at(max(section.end - 1, section.start))
    return format_citation(doc.label, structure.path_text(section_id), first, last,
                           section.toc_page)

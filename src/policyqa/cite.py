"""How a passage is cited: 'Label, section path, p. N' - what a supervisor pastes into a memo.

The one formatter behind every citation policyqa shows (answers, passages, quote look-ups,
citation checks, section exports), so the same words are always cited the same way.
"""

from __future__ import annotations

from .chunks import Chunk
from .documents import Document
from .sections import Structure


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
                   start: int | None = None) -> str:
    """A chunk's citation; with `start`, of the words at that offset (one page, their section)."""
    path = section_path if section_path is not None else chunk.section_path
    if start is None:
        first, last = doc.page_label_at(chunk.start), doc.page_label_at(chunk.end - 1)
        return format_citation(doc.label, path, first, last, chunk.chapter_page)
    page = doc.page_label_at(start)
    return format_citation(doc.label, path, page, page, chunk.chapter_page)


def section_citation(doc: Document, structure: Structure, section_id: int) -> str:
    """A whole section's citation: its path and the pages from its first to its last word."""
    section = structure.sections[section_id]
    first = doc.page_label_at(section.start)
    last = doc.page_label_at(max(section.end - 1, section.start))
    return format_citation(doc.label, structure.path_text(section_id), first, last,
                           section.toc_page)

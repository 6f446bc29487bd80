"""How a passage is cited: 'Label, section path, p. N' - what a supervisor pastes into a memo.

The one formatter behind every citation policyqa shows (answers, passages, quote look-ups,
citation checks, section exports), so the same words are always cited the same way.
"""

from __future__ import annotations

from .chunks import Chunk
from .documents import Document
from .sections import Structure


def format_citation(label: str, path: str, first_page: int | None, last_page: int | None,
                    chapter_page: int | None = None) -> str:
    """Label, then the section path, then the page(s); for a source without page markers, the
    page its table of contents gives for the chapter."""
    parts = [label]
    if path:
        parts.append(path)
    if first_page is not None:
        parts.append(f"p. {first_page}" if last_page in (None, first_page)
                     else f"pp. {first_page}\u2013{last_page}")
    elif chapter_page:
        parts.append(f"chapter p. {chapter_page} (per contents)")
    return ", ".join(parts)


def chunk_citation(doc: Document, chunk: Chunk, section_path: str | None = None,
                   start: int | None = None) -> str:
    """A chunk's citation; with `start`, of the words at that offset (one page, their section)."""
    path = section_path if section_path is not None else chunk.section_path
    if start is None:
        return format_citation(doc.label, path, chunk.page, chunk.page_end, chunk.chapter_page)
    page = doc.page_at(start)
    return format_citation(doc.label, path, page, page, chunk.chapter_page)


def section_citation(doc: Document, structure: Structure, section_id: int) -> str:
    """A whole section's citation: its path and the pages from its first to its last word."""
    section = structure.sections[section_id]
    first, last = doc.page_at(section.start), doc.page_at(max(section.end - 1, section.start))
    return format_citation(doc.label, structure.path_text(section_id), first, last,
                           section.toc_page)

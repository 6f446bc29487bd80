"""What the page shows of cited text: HTML-escaped passages with highlights, word diffs, context
windows and section exports.

`marked_html` is the one place document text becomes HTML: every piece is escaped before any
highlight markup is added, so no document can inject markup or script into the page.
"""

from __future__ import annotations

import html

from .citations import WordDiff
from .cite import section_citation
from .index import Index

# ---------------------------------------------------------------- safe display of document text

# Characters markdown (or Streamlit's extensions: $math$, :color[], :emoji:) could act on, as
# numeric entities so they display as themselves ('#' and ';' are left alone: html.escape's own
# entities use them, and neither acts mid-line).
_MD_ENTITIES = str.maketrans({c: f"&#{ord(c)};" for c in "\\`*_[]$~:|"})


def escape_text(text: str) -> str:
    """Document text as inert HTML: html.escape, markdown characters as entities, newlines as <br>.

    The result is a single line, so inside a <div> it stays one raw-HTML block that markdown
    leaves alone.
    """
    return html.escape(text, quote=True).translate(_MD_ENTITIES).replace("\n", "<br>")


def marked_html(text: str, spans: list[tuple[int, int, str]] = (), css: str = "pq-text") -> str:
    """One line of HTML showing `text` with `spans` (start, end, class) wrapped in <mark>.

    Offsets are into `text`. Pieces before, inside and after each span are escaped separately,
    so highlights never split an entity. Spans may nest (list outer spans first).
    """
    n = len(text)
    spans = [(max(0, min(n, s)), max(0, min(n, e)), c) for s, e, c in spans]
    cuts = sorted({0, n, *(p for s, e, _ in spans for p in (s, e))})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = escape_text(text[a:b])
        for s, e, cls in reversed(spans):
            if s <= a and b <= e and s < e:
                piece = f'<mark class="{html.escape(cls)}">{piece}</mark>'
        out.append(piece)
    return f'<div class="{html.escape(css)}">{"".join(out)}</div>'


def answer_doc_id(index: Index, citation: str) -> str | None:
    """The document an answer citation names (its label is the citation's first part)."""
    labels = sorted(index.documents.items(), key=lambda kv: -len(kv[1].label))
    for doc_id, doc in labels:
        if citation == doc.label or citation.startswith(doc.label + ","):
            return doc_id
    return None


def section_export(index: Index, doc_id: str, section_id: int, fmt: str = "txt") -> str:
    """A section's verbatim text with its citation, as plain text ("txt") or Markdown ("md")."""
    doc = index.documents[doc_id]
    section = index.structures[doc_id].sections[section_id]
    text = doc.text[section.start : section.end].strip("\n")
    cite = section_citation(doc, index.structures[doc_id], section_id)
    source = ", ".join(p for p in (doc.title, doc.issuer, doc.date) if p)
    if fmt == "md":
        quoted = "\n".join(f"> {line}" if line.strip() else ">" for line in text.splitlines())
        return f"{quoted}\n\n\u2014 {cite}\n\nSource: {source}\n"
    return f"{text}\n\n\u2014 {cite}\nSource: {source}\n"


def diff_html(diff: list[WordDiff], side: str) -> str:
    """One side ("quoted" or "source") of a word diff as HTML, differing words in <mark>."""
    pieces = []
    for d in diff:
        words = d.quoted if side == "quoted" else d.source
        if words:
            text = escape_text(words)
            pieces.append(text if d.op == "equal" else f'<mark class="pq-diff">{text}</mark>')
    return f'<div class="pq-text">{" ".join(pieces)}</div>'


def context_span(text: str, start: int, end: int, chars: int = 700) -> tuple[int, int]:
    """A window of about `chars` characters either side of text[start:end], cut at a line break
    where there is one in reach, else at a space, so no word is cut in two."""
    lo, hi = max(0, start - chars), min(len(text), end + chars)
    if lo > 0:
        nl = text.find("\n", lo, start)
        if nl != -1:
            lo = nl + 1
        elif not text[lo - 1].isspace():
            lo = text.find(" ", lo, start) + 1 or lo
    if hi < len(text):
        nl = text.rfind("\n", end, hi)
        if nl != -1:
            hi = nl
        elif not text[hi].isspace():
            hi = max(text.rfind(" ", end, hi), end)
    while lo < start and text[lo].isspace():
        lo += 1
    return lo, hi

"""Readers, one module per file format, each turning a file's bytes into an `Extracted` record.

A reader knows its format's own structure (Word heading styles, HTML h1-h6, PDF pages), so it hands
it over explicitly (`blocks`, `page_starts`, `page_labels`) rather than leaving the section parser to
guess it from plain text. Offsets in an `Extracted` refer to its `raw` text; `documents.py` maps them
onto the canonical text after cleaning.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


class DocumentError(Exception):
    """A file that cannot be ingested; the message is the reason a user sees."""


@dataclass
class Block:
    """One structural unit a reader found: a heading, a list item, a paragraph or a table row.

    `level` is the heading level (1-9) for headings and the list nesting level (0-based) for items;
    `marker` is the number or letter the reader shows for an item ("3", "b"), "" for bullets.
    """

    start: int
    end: int
    kind: str  # "title" | "heading" | "item" | "body"
    level: int = 0
    marker: str = ""


@dataclass
class MarkdownMarks:
    """What a Markdown file's blocks show otherwise than as written, in raw offsets
    (documents.markdown_marks): spans are [start, end)."""

    quote_marks: list[tuple[int, int]] = field(default_factory=list)  # a block quote's ">"
    # setext underlines (with the line break before them) and thematic breaks: drawn lines
    drawn: list[tuple[int, int]] = field(default_factory=list)
    # (title's offset, level): setext headings (level 1 or 2) and HTML's <h1>-<h6> lines
    headings: list[tuple[int, int]] = field(default_factory=list)
    # the lines of block quotes and footnotes: text, never the policy's headings or items
    plain: list[tuple[int, int]] = field(default_factory=list)
    # a paragraph's lines after its first, in a file whose headings are marked: the paragraph
    # goes on there, whatever a line looks like (a wrapped "Customer Agreement, or the GitHub
    # Corporate Terms of" is no Title-Case heading)
    running: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class Extracted:
    raw: str
    format: str  # "txt" | "md" | "pdf" | "docx" | "doc" | "odt" | "html"
    page_starts: list[tuple[int, int]] = field(default_factory=list)  # (raw offset, PDF page)
    page_labels: list[str] = field(default_factory=list)  # printed label of each page (PDF, Word)
    pages: int = 0
    meta: dict = field(default_factory=dict)  # title / date the file itself states
    blocks: list[Block] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    # Raw offsets where a line set wholly in bold begins its own paragraph (Markdown's
    # "**Loans to clients**"): a heading typed by hand, for the section parser to weigh.
    bold_lines: list[int] = field(default_factory=list)
    # A PDF's type size of each of those lines (parallel to bold_lines; empty for Markdown):
    # headings set larger stand above those set smaller (sections.py).
    bold_sizes: list[float] = field(default_factory=list)
    # Raw [start, end) spans of Markdown's code blocks, shown as written (documents.markdown_code).
    code: list[tuple[int, int]] = field(default_factory=list)
    # Markdown's block marks and quotes (documents.markdown_marks).
    marks: MarkdownMarks = field(default_factory=MarkdownMarks)


# A table's row as every reader gives it: its cells joined by tabs (Word's, web pages', Markdown's
# and PDFs' tables; a row whose last cell is empty ends in a tab). A tab that only indents a line
# is no cell's.
TABLE_ROW = re.compile(r"\S\t+(?:\S|$)", re.M)

# Progress for a long read (a PDF's pages): called with (pages done, pages in all).
PageProgress = Callable[[int, int], None]


_ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"),
          (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]


def list_marker(value: int, style: str) -> str:
    """The number a list shows for its value-th item: "decimal" (3), "decimal-zero" (03),
    "lower-alpha"/"upper-alpha" (c, C), "lower-roman"/"upper-roman" (iii, III). Word's numbering
    definitions and HTML's <ol type> both name one of these. Roman numerals stop at 3999, as
    Word's do: a larger number (a file's start value of 10**12) is shown in digits, not written
    out as a trillion "m"s."""
    if style.endswith("alpha"):
        letters = ""
        while value > 0:
            value, rem = divmod(value - 1, 26)
            letters = chr(ord("a") + rem) + letters
        return letters.upper() if style.startswith("upper") else letters
    if style.endswith("roman") and 0 < value < 4000:
        out = ""
        for n, numeral in _ROMAN:
            while value >= n:
                out += numeral
                value -= n
        return out.upper() if style.startswith("upper") else out
    return f"{value:02d}" if style == "decimal-zero" else str(value)


def some_of(names: list[str], most: int) -> str:
    """Names for a one-line reason: the first `most`, then how many more ("a, b and 4 more")."""
    extra = len(names) - most
    return ", ".join(names[:most]) + (f" and {extra} more" if extra > 0 else "")


LOOKED_MAX_WORDS = 12
LOOKED_MAX_CHARS = 100
_LOOKED_NUMBER = re.compile(r"(\d+(?:\.\d+)*)\.?\s")


def counted(kinds: list[str]) -> str:
    """"a chart, an Excel worksheet \u00d72": kinds in order of first mention, each once with
    how many there are, for a warning that names what a file holds and is not read."""
    return ", ".join(k if n == 1 else f"{k} \u00d7{n}" for k, n in Counter(kinds).items())


def page_labels(page_starts: list[tuple[int, int]],
                numbering: list[tuple[int, str, int | None]]) -> list[str]:
    """The number printed on each page, where a document numbers its pages otherwise than 1, 2,
    3 from the first (a manual's front matter in i, ii, iii, its policies from 1 again).
    `numbering`: where each numbering begins (a raw offset; the first at 0), in which format
    (list_marker's names) and the number it restarts at, None to go on counting. It holds from
    the page its offset stands on. Empty where every page's number is its place (citations
    then give that)."""
    if not page_starts or all(fmt == "decimal" and start is None for _, fmt, start in numbering):
        return []
    offsets = [at for at, _ in page_starts]
    firsts = [bisect.bisect_right(offsets, at) for at, _, _ in numbering]  # their first pages
    labels: list[str] = []
    number = 0
    for page in range(1, len(page_starts) + 1):
        k = max((i for i, first in enumerate(firsts) if first <= page), default=0)
        _, fmt, start = numbering[k]
        number = start if start is not None and page == firsts[k] else number + 1
        labels.append(list_marker(number, fmt))
    return labels


def row_breaks(row, mark: str, skip: frozenset = frozenset()) -> tuple[int, int]:
    """(atop, within): how many page breaks (elements tagged `mark`: Word's rendered page
    breaks, LibreOffice's soft ones) stand in a table row before any of its text, and after
    some of it (a row split over two pages). Elements tagged in `skip` (text boxes, deletions)
    are passed over. A row is cited by the page it begins on, so only those atop it begin a
    page at the row; the others begin one after it."""
    from lxml import etree

    # an element's own text node: python-docx's elements answer .text with all their text
    own = etree.ElementBase.text.__get__
    atop = within = 0
    seen = bool((own(row) or "").strip())

    def visit(node) -> None:
        nonlocal atop, within, seen
        for child in node:
            if child.tag == mark:
                atop, within = (atop, within + 1) if seen else (atop + 1, within)
            elif child.tag not in skip:
                seen = seen or bool((own(child) or "").strip())
                visit(child)
            seen = seen or bool((child.tail or "").strip())

    visit(row)
    return atop, within


def size_depths(sizes: list[float]) -> list[int]:
    """The depth of each heading by its type size, in document order: 0 for the largest size,
    1 for the next... as Word sets Heading 1 larger than Heading 2. Where nothing else states
    a heading's level (a PDF's, or one typed in bold by hand), its size does. A size set once,
    after the first heading, and larger than a size headings share is a one-off (a "REMEMBER"
    banner), not a level above theirs: it ranks with the shared size below it, so that it does
    not take every later section under it."""
    counts = Counter(sizes)
    shared = {size for size, n in counts.items() if n > 1}
    ranked = []
    for i, size in enumerate(sizes):
        below = [s for s in shared if s < size]
        one_off = i > 0 and counts[size] == 1 and size != sizes[0] and below
        ranked.append(max(below) if one_off else size)
    depth = {size: n for n, size in enumerate(sorted(set(ranked), reverse=True))}
    return [depth[size] for size in ranked]


# Titles that programs write for a file, not its author: Word's "Microsoft Word - policy.docx"
# (in PDFs it prints), "Untitled", "Untitled Document" (Dreamweaver), "Document1", FrontPage's
# "New Page 1", a site template's "Home", docutils' "[no title]" for a file with no title.
_PLACEHOLDER_TITLE = re.compile(r"microsoft\s+(word|powerpoint|excel)\s+-|^untitled"
                                r"|^(document|new\s+page|page)\s*\d*$|^(home|index)$"
                                r"|^\[?no title\]?$", re.I)


def placeholder_title(title: str) -> bool:
    """A title a program filled in, which names no document."""
    return _PLACEHOLDER_TITLE.search(title.strip()) is not None


# A label beside the text it labels: a few words, capitalised, not a sentence ("PURPOSE",
# "Policy Statement:", "3. Procedure").
_LABEL = re.compile(r"[A-Z0-9][^.!?]{0,59}[^.!?,;\s]")


def label_table(rows: list[tuple[str, str]]) -> bool:
    """Whether a table's (label, text) rows lay a policy's text out under its labels, as agency
    templates do ("PURPOSE" beside the purpose): two or more rows, each label a few words
    (_LABEL, six at most), most texts twelve words or more, and either every label a template's
    section label, in capitals or ending in a colon ("Procedure:"), or texts that run to
    paragraphs (40 words a row on average). Not a glossary's or a roles table's rows ("Safety
    plan" / "A written plan agreed with the client...", a sentence each): the term is the
    sentence's subject and stays on its line; nor a template's header fields ("Policy Number:"
    / "FIN-204"), whose values are short."""
    if len(rows) < 2 or not all(_LABEL.fullmatch(label) and len(label.split()) <= 6
                                for label, _ in rows):
        return False
    words = [len(text.split()) for _, text in rows]
    if 2 * sum(n >= 12 for n in words) < len(rows):
        return False
    sectioned = all(label.isupper() or label.endswith(":") for label, _ in rows)
    return sectioned or sum(words) >= 40 * len(rows)


# What a site puts between a page's own title and the site's name: "Client Funds Policy |
# Riverside Intranet", "Staff Handbook - SharePoint", "Intranet :: Client Funds Policy".
_SITE_SEPARATOR = re.compile(r"\s+(?:[|\u00b7\u2022\u00bb:]{1,2}|[-\u2013\u2014])\s+")


def page_title(title: str, heading: str) -> str:
    """A web page's title less the site's name: the page's own heading where the title is that
    heading and the site's name, the two on either side of a separator ("Client Funds Policy |
    Riverside Intranet" over an h1 "Client Funds Policy"); else the title as it stands (a title
    that only shares words with the heading names more than it)."""
    heading = " ".join(heading.split())
    parts = [" ".join(part.split()) for part in _SITE_SEPARATOR.split(title)]
    if heading and len(parts) > 1 and heading.casefold() in {p.casefold() for p in parts}:
        return heading
    return title


def number_parts(number: str) -> tuple[int, ...]:
    """A heading number's parts, less the zeros that end it: US agency policies number their
    sections "1.0 Purpose", "2.0 Procedure", "2.1 Intake", so "2.0" is section 2, the parent of
    "2.1", not a sub-section of it."""
    parts = tuple(int(p) for p in number.split("."))
    while len(parts) > 1 and parts[-1] == 0:
        parts = parts[:-1]
    return parts


def numbered_heading(text: str) -> bool:
    """A heading that states its level by its number ("2.1 Small tokens")."""
    return _LOOKED_NUMBER.match(text.strip()) is not None


def looked_heading_level(text: str) -> int | None:
    """The level of a paragraph set wholly in bold, in a document with no heading markup (Word
    with no heading style, a web page with no h1-h6: headings typed by hand): its number's depth
    ("2.1 Small tokens": 2; "2.0 Procedure": 1), else 1. None where it does not read as a
    heading: too long (over LOOKED_MAX_WORDS words or LOOKED_MAX_CHARS characters), ending like
    a sentence (".", ";", ","; a bold warning such as "Never keep cash overnight."), or without
    letters."""
    text = text.strip()
    if not text or len(text) > LOOKED_MAX_CHARS or len(text.split()) > LOOKED_MAX_WORDS:
        return None
    if text.endswith((".", ";", ",")) or not any(c.isalpha() for c in text):
        return None
    number = _LOOKED_NUMBER.match(text)
    return len(number_parts(number.group(1))) if number else 1

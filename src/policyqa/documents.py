"""Stage 1: read every file of the corpus folder into canonical text, or say why not.

The canonical text is what the document shows, with conversion artifacts removed (markdown
emphasis, link syntax and comments, a PDF's running headers and end-of-line hyphens, page breaks
inside a sentence); every offset anywhere in policyqa refers to it. Format readers live in
`formats/` (one module each); this module keeps `Document`, `Skipped`, the cleaning with its
offset map, the dispatch and the corpus loop, which accounts for every file in the folder.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import html
import os
import re
import signal
import stat
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .formats import Block, DocumentError, Extracted, MarkdownMarks, PageProgress, placeholder_title

__all__ = ["Block", "Document", "DocumentError", "Skipped", "load_corpus", "read_document"]

# Word packages: a document, one with macros, a template and one with macros (the same XML)
WORD_PACKAGES = (".docx", ".docm", ".dotx", ".dotm")
WORD_97 = (".doc", ".dot")  # Word 97-2003: a document and a template (the same format)
# Pages a web server makes, as a mirror of an intranet (wget) names them: HTML when saved
SERVER_PAGES = (".aspx", ".asp", ".php", ".jsp", ".shtml", ".cfm")
SUPPORTED = (".txt", ".md", ".markdown", ".pdf", *WORD_PACKAGES, *WORD_97, ".odt", ".ott",
             ".fodt", ".html", ".htm", ".xhtml", ".mhtml", ".mht", *SERVER_PAGES, ".eml")
METADATA_FILE = "metadata.toml"
# Formats agencies have that policyqa does not read, with what to do instead.
_UNSUPPORTED = {
    ".ods": "OpenDocument spreadsheet",
    ".odp": "OpenDocument presentation",
    ".wpd": "WordPerfect document; save it as .docx or PDF",
    ".xps": "XPS document; print it to PDF", ".oxps": "XPS document; print it to PDF",
    ".rtf": "Rich Text Format; save it as .docx",
    ".pages": "Apple Pages document; export it as .docx or PDF",
    ".xls": "spreadsheet", ".xlsx": "spreadsheet", ".csv": "spreadsheet data",
    ".ppt": "presentation", ".pptx": "presentation",
    ".png": "image; run OCR and save it as a PDF with text",
    ".jpg": "image; run OCR and save it as a PDF with text",
    ".jpeg": "image; run OCR and save it as a PDF with text",
    ".tif": "image; run OCR and save it as a PDF with text",
    ".tiff": "image; run OCR and save it as a PDF with text",
    ".gif": "image", ".bmp": "image", ".heic": "image",
    ".zip": "archive; unpack it into the corpus folder",
    ".msg": "Outlook message; save it from Outlook as .eml (Outlook on the web's Download), as "
            "HTML, or print it to PDF",
}


@dataclass
class Document:
    doc_id: str
    path: str
    title: str
    label: str
    issuer: str = ""
    date: str = ""
    text: str = ""
    sha256: str = ""
    # (offset in text, page number) at each page start; empty when the source has no pages.
    page_starts: list[tuple[int, int]] = field(default_factory=list)
    format: str = ""  # "txt" | "md" | "pdf" | "docx" | "odt" | "html"
    pages: int = 0  # pages in the source file (0 when it has none)
    # The printed label of each page ("47705", "iii"): a PDF's from /PageLabels or the running
    # header/footer numbers, a Word file's from its sections' page numbering; empty when the
    # file shows none (citations then use the page's place).
    page_labels: list[str] = field(default_factory=list)
    # Structure the format states (Word heading styles, HTML h1-h6), in canonical offsets:
    # [start, end, kind, level, marker]; empty for plain text and PDF (sections.py infers those).
    blocks: list[list] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # indexed, but the user should know
    # Canonical offsets of Markdown lines set wholly in bold, each a paragraph of its own
    # ("**Loans to clients**"), and of a PDF's lines in a heading's font (bold or larger):
    # headings typed by hand or set by a style, weighed by sections.py.
    bold_lines: list[int] = field(default_factory=list)
    # A PDF's type size of each of those lines (parallel to bold_lines; empty for Markdown).
    bold_sizes: list[float] = field(default_factory=list)
    # Markdown's headings, their "#" marks left out of the text: [title offset, level 1-6].
    md_headings: list[list[int]] = field(default_factory=list)
    # Markdown's code blocks, [start, end) offsets of their lines: text, never headings or items.
    md_code: list[list[int]] = field(default_factory=list)
    # Markdown's block quotes and footnotes, [start, end) offsets of their lines: quoted or noted
    # text, a paragraph of the section it stands in, never its headings or items.
    md_plain: list[list[int]] = field(default_factory=list)
    # Markdown paragraphs' lines after their first (MarkdownMarks.running): their paragraph's.
    md_running: list[list[int]] = field(default_factory=list)

    def page_at(self, offset: int) -> int | None:
        """The PDF page (1-based) holding the offset; None when the source has no pages."""
        if not self.page_starts:
            return None
        i = bisect.bisect_right([start for start, _ in self.page_starts], offset) - 1
        return self.page_starts[max(i, 0)][1]

    def page_label_at(self, offset: int) -> str | None:
        """The page number as a reader cites it: the printed one ("47705") where the page shows
        one or the file labels its pages, else the PDF page; None when the source has no pages."""
        page = self.page_at(offset)
        if page is None:
            return None
        if 0 < page <= len(self.page_labels) and self.page_labels[page - 1]:
            return self.page_labels[page - 1]
        return str(page)


@dataclass
class Skipped:
    """A file of the corpus folder that is not indexed, and why.

    status: "skipped" (unreadable: damaged, password-protected, no text...), "unsupported" (a file
    type policyqa does not read) or "duplicate" (same bytes as a file already indexed).
    """

    path: str
    reason: str
    status: str = "skipped"


# ---------------------------------------------------------------- cleaning with an offset map

# A rule's replacement is a list of (text, offset, copied): copied pieces are the match's own
# characters (each keeps its source offset); inserted pieces map to the offset given.
_Piece = tuple[str, int, bool]
_Rule = tuple[re.Pattern, Callable[[re.Match], list[_Piece]]]
Spans = Sequence[tuple[int, int]]  # [start, end) offsets, sorted and disjoint


def _groups(*groups: int) -> Callable[[re.Match], list[_Piece]]:
    return lambda m: [(m.group(g), m.start(g), True) for g in groups if m.group(g)]


def _literal(text: str) -> Callable[[re.Match], list[_Piece]]:
    return lambda m: [(text, m.start(), False)]


_LETTERS = re.compile(r"[^\W\d_]+")


@functools.lru_cache(maxsize=2)
def _words_of(text: str) -> Counter:
    """How often a text uses each word, folded to lower case (for _compound: once a document)."""
    return Counter(w.lower() for w in _LETTERS.findall(text))


@functools.lru_cache(maxsize=1)
def _english_words() -> frozenset[str]:
    """Whole English words of the embedding model's tokenizer vocabulary (its tokenizer.json,
    on disk with the model, found as the runtime finds it; no download): a word list for
    _compound. Empty where the model or the file is missing, and _compound goes by the document
    alone."""
    import json

    from .config import default_model
    from .embedding.onnx_runtime import resolve_model_dir
    from .errors import IndexError_

    try:
        path = resolve_model_dir(default_model()) / "tokenizer.json"
        vocab = json.loads(path.read_text(encoding="utf-8"))["model"]["vocab"]
    except (IndexError_, OSError, ValueError, KeyError, TypeError):
        return frozenset()
    return frozenset(w for w in vocab if len(w) >= 2 and w.isascii() and w.isalpha())


def _compound(m: re.Match) -> bool:
    """Whether the hyphen a PDF line ends on (match `m`, the hyphen and the line break) is a
    compound's own ("time-limited", "two-person"), not one a word processor put in to break a
    word ("ser-vice", "inhabi-tants"): the two halves joined are no word (of the document, nor
    of the model's English word list), and each half, of three letters or more, is one (used
    elsewhere in the document, or in the list). Word and LibreOffice do not hyphenate unless
    told, so a line ending in a hyphen is as often a compound as a broken word."""
    before = _LETTERS.search(m.string[max(0, m.start() - 40):m.start()][::-1])
    after = _LETTERS.match(m.string, m.end())
    if before is None or after is None:
        return False
    head, tail = before.group()[::-1].lower(), after.group().lower()
    used = _words_of(m.string)  # (each half is counted once at the break itself)
    english = _english_words()
    if head + tail in used or head + tail in english:
        return False
    return all(len(half) >= 3 and (used[half] >= 2 or half in english) for half in (head, tail))


_WHITESPACE_RULES: list[_Rule] = [
    (re.compile(r"\r\n?"), _literal("\n")),
    # A form feed (pdftotext's page break in text saved from a PDF) ends a line: left in, it
    # opened the next page's first line, which then started as no heading does. (Other control
    # characters stay: in a TeX PDF "\x00" is the minus sign of its math font, "a\x00b ∈ Z".)
    (re.compile(r"\f"), _literal("\n")),
    # (from a run's first blank only: tried from each of them, a line of 50,000 blanks took 7 s)
    (re.compile(r"(?<![ \t])[ \t]+$", re.M), _literal("")),
]
_MARKDOWN_RULES: list[_Rule] = [
    # <!-- comments --> show nothing
    (re.compile(r"<!--.*?-->", re.S), _literal("")),
    # ![alt text](image "title") -> alt text (what stands for the picture in text)
    # (a link's text holds no "[": each "[" then looks no further than the next, and a line of
    # 30,000 "[" is read in linear time, not 6 s)
    (re.compile(r'!\[([^\[\]\n]*)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)'), _groups(1)),
    # [link text](target "title") -> link text ; <https://x> -> https://x
    (re.compile(r'\[([^\[\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)'), _groups(1)),
    (re.compile(r"<((?:https?|mailto|ftp):[^>\s]+)>"), _groups(1)),
    # **bold**, *italic* (not list bullets, not lone asterisks)
    (re.compile(r"\*\*(?=\S)([^\n]+?)(?<=\S)\*\*"), _groups(1)),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"), _groups(1)),
    # __bold__, _italic_ (not snake_case words, not "_____" blanks to fill in)
    (re.compile(r"(?<![\w_])__(?=[^\s_])([^\n]+?)(?<=[^\s_])__(?![\w_])"), _groups(1)),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])"), _groups(1)),
]
_MD_TABLE = re.compile(
    r"^(?P<head>[ \t]*\|.*\|[ \t]*)\n"
    r"[ \t]*\|[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|[ \t]*(?:\n|$)"
    r"(?P<body>(?:[ \t]*\|.*\|[ \t]*(?:\n|$))*)", re.M)
_CELL_BAR = re.compile(r"(?<!\\)\|")


def _table_rows(m: re.Match) -> list[_Piece]:
    """A Markdown table ("| Risk | Staff |", "|---|---|", rows) as Word's and HTML's tables read:
    one line per row, its cells' text joined by tabs, without the pipes and the delimiter row,
    which a reader of the rendered page never sees (and a quote copied from it lacks)."""
    text = m.string
    pieces: list[_Piece] = []
    rows = [m.span("head")] + [(m.start("body") + r.start(), m.start("body") + r.end())
                               for r in re.finditer(r"[^\n]+", m.group("body"))]
    for start, end in rows:
        bars = [b.start() for b in _CELL_BAR.finditer(text, start, end)]
        for n, (left, right) in enumerate(zip(bars, bars[1:], strict=False)):
            cell = text[left + 1 : right]
            lead = len(cell) - len(cell.lstrip(" \t"))
            cell = cell.strip(" \t")
            if n:
                pieces.append(("\t", left, False))
            if cell:
                pieces.append((cell, left + 1 + lead, True))
        if end < m.end() and text[end] == "\n":
            pieces.append(("\n", end, True))
    return pieces


# A footnote's definition ("[^1]: A gift card counts as money.", at a line's start) or its
# reference ("less than $10.[^1]").
_FOOTNOTE = re.compile(r"^ {0,3}\[\^([^\]\s]+)\]:[ \t]*|\[\^([^\]\s]+)\]", re.M)
_FOOTNOTE_NOTE = re.compile(r" {0,3}\[\^[^\]\s]+\]:")


@functools.lru_cache(maxsize=4)
def _footnote_numbers(text: str) -> dict[str, int]:
    """The number each footnote shows, by GitHub's rule: notes are numbered in the order they
    are first referred to, whatever their labels ("[^gift]" may be note 1). A label with no
    definition is no footnote."""
    defined = {m.group(1) for m in _FOOTNOTE.finditer(text) if m.group(1)}
    numbers: dict[str, int] = {}
    for m in _FOOTNOTE.finditer(text):
        if m.group(2) in defined and m.group(2) not in numbers:
            numbers[m.group(2)] = len(numbers) + 1
    return numbers


def _footnote(m: re.Match) -> list[_Piece]:
    """A footnote as the rendered page shows it: its reference mark is left out of the sentence
    (as a web page's "<sup>1</sup>" is, formats/html.py), so a quote across it is found; its
    note is a paragraph that opens with its number ("1 A gift card counts as money."). A mark
    or a note whose label is no footnote stays as written."""
    number = _footnote_numbers(m.string).get(m.group(1) or m.group(2))
    if number is None:
        return [(m.group(), m.start(), True)]
    if m.group(2):
        return []
    return [(f"{number} ", m.start(1) - 2, False)]


# HTML that a Markdown file holds, read as its page shows it (_html_in_markdown, _html_row): the
# tags of HTML's own elements (a tag of another name, "<client name>" in a template, is text, and
# so are <script>, <style> and <iframe>, which no page shows as text: they stay words, shown
# escaped like all text, never rendered; tests/fixtures/hostile), entities, and inline code
# spans, matched first to be kept as written. "\<b>" and "\&amp;" are escaped: text.
_HTML_ELEMENTS = (
    "a|abbr|address|article|aside|b|bdi|bdo|big|blockquote|br|caption|center|cite|code|col|"
    "colgroup|dd|del|details|dfn|div|dl|dt|em|figcaption|figure|font|footer|h[1-6]|header|hr|i|"
    "img|ins|kbd|li|main|mark|nav|ol|p|picture|pre|q|s|samp|section|small|source|span|strike|"
    "strong|sub|summary|sup|table|tbody|td|tfoot|th|thead|tr|tt|u|ul|var|wbr")
_BLOCK_ELEMENTS = frozenset(
    "address article aside blockquote caption center details div dl dd dt figcaption figure "
    "footer h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table tbody td tfoot "
    "th thead tr ul".split())
_MD_HTML = re.compile(
    r"(?<!`)(?P<code>`+)(?!`)[^\n]+?(?<!`)(?P=code)(?!`)"
    rf"|(?<!\\)</?(?P<tag>(?i:{_HTML_ELEMENTS}))(?![\w-])"
    r"(?:\s+[A-Za-z_:][\w.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*\s*/?>"
    r"|(?<!\\)&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")


def _html_in_markdown(m: re.Match) -> list[_Piece]:
    """What the rendered page shows for a line's HTML in a Markdown file (`m`: the line): an
    entity as its character ("&amp;" "&", "&nbsp;" a no-break space); no tag, but a line break
    where <br> or a block's tag stands between words (a space inside a table's row, which stays
    one line); an inline code span as it stands (its backticks go later). The line is read
    once, whatever it holds: per tag, a line of 20,000 tags was read 20,000 times."""
    start, end = m.span()
    found = list(_MD_HTML.finditer(m.string, start, end))
    if not found:
        return [(m.group(), start, True)]
    shown = list(m.group())  # the line's own text: its tags blanked
    for f in found:
        if f.group("tag"):
            shown[f.start() - start:f.end() - start] = " " * (f.end() - f.start())
    words = "".join(shown)
    first = start + len(words) - len(words.lstrip())
    last = start + len(words.rstrip())
    pieces: list[_Piece] = []
    at = start
    for f in found:
        pieces.append((m.string[at:f.start()], at, True))
        pieces += _html_shown(f, between=first < f.start() and f.end() < last,
                              row="\t" in m.group())
        at = f.end()
    return [*pieces, (m.string[at:end], at, True)]


def _html_shown(m: re.Match, between: bool, row: bool) -> list[_Piece]:
    """What one match of _MD_HTML shows (_html_in_markdown): `between` the line's words, `row`
    on a table's row."""
    if m.group("code"):
        return [(m.group(), m.start(), True)]
    if not m.group("tag"):
        shown = html.unescape(m.group())
        return [(shown, m.start(), False)] if shown != m.group() else [(m.group(), m.start(), True)]
    tag = m.group("tag").lower()
    if tag == "img":  # its alt text stands for it, as for Markdown's ![alt](src)
        alt = _ALT.search(m.group())
        n = next((n for n in (1, 2, 3) if alt and alt.group(n)), None)
        return [(alt.group(n), m.start() + alt.start(n), True)] if n else []
    if (tag != "br" and tag not in _BLOCK_ELEMENTS) or not between:
        return []  # inline, or at the line's start or end: the line break is the file's own
    return [(" " if row else "\n", m.start(), False)]


# A line, and the lines a tag's attributes run on to ('<img alt="..."' / '  src="...">')
_MD_HTML_LINE = re.compile(r"^(?:[^\n<]|<[^<>]*>|<)*$", re.M)
_ALT = re.compile(r"""\salt\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.I)
# (a row or a cell whose end tag is left out, as HTML allows, ends nothing: no row looks past the
# next row's start, nor a cell past the next cell's, so a long table is read in linear time)
_MD_HTML_ROW = re.compile(r"(?:^[ \t]*)?<tr\b[^<>]*>((?:(?!<tr\b).)*?)</tr\s*>",
                          re.S | re.I | re.M)
_MD_HTML_CELL = re.compile(r"<(t[dh])\b[^<>]*>((?:(?!<t[dh]\b).)*?)</\1\s*>", re.S | re.I)
_MD_HTML_TOKEN = re.compile(r"<[^<>]*>|[^\s<]+|<")


def _html_row(m: re.Match) -> list[_Piece]:
    """A row of an HTML table in a Markdown file (pandoc writes a Word table whose cells hold
    paragraphs or lists so) as Markdown's and Word's tables read: one line, its cells' words
    joined by tabs, a cell's paragraphs and items by a space. Tags inside a cell show nothing;
    entities are read by the rule after this one."""
    pieces: list[_Piece] = []
    for cell in _MD_HTML_CELL.finditer(m.string, m.start(1), m.end(1)):
        if pieces:
            pieces.append(("\t", cell.start(), False))
        words, end, gap = 0, cell.start(2), False
        for token in _MD_HTML_TOKEN.finditer(m.string, cell.start(2), cell.end(2)):
            html_tag = _MD_HTML.fullmatch(token.group())
            tag = html_tag.group("tag") if html_tag else None
            if tag is None and words and (token.start() > end or gap):
                pieces.append((" ", token.start(), False))
            if tag is None:
                pieces.append((token.group(), token.start(), True))
                words, gap = words + 1, False
            elif token.start() > end or tag.lower() in _BLOCK_ELEMENTS | {"br"}:
                gap = True  # a paragraph's or an item's end: the next word stands apart
            end = token.end()
    return pieces or [(m.group(), m.start(), True)]


# A line break inside a paragraph: the next line is neither blank nor a list item, a quote, a
# heading or a table's row. Markdown's emphasis and link text run on over it, and pandoc, which
# wraps lines at 72 characters, breaks them there ("*We host ... projects" / "from all over
# the world ...*", "[GitHub Terms of" / "Service](/site-policy/...)").
_LINE_ON = r"\n(?![ \t]*(?:\n|$|[-+*>#|][ \t]|\d{1,9}[.)][ \t]))"


def _over(char: str) -> str:
    """A group of `char`s over two to twelve lines of one paragraph (pandoc's 72 columns: some
    850 characters of emphasis or link text, more than a policy sets so). Each line break is
    matched at one place only, and no match looks further than twelve lines: written as
    "(char | break)* break (char | break)*", any of a paragraph's breaks could be the one
    required, and a paragraph of 1,000 lines opening "**" took 75 s (unbounded, 5 s at 4,000)."""
    return f"({char}*?(?:{_LINE_ON}{char}*?){{1,11}}?)"


# An admonition's first line, as site tools write it: MkDocs' '!!! warning "Cash gifts"' (or
# "??? note", folded), Docusaurus' and VitePress' ":::warning Cash gifts", ":::tip[Title]"; and
# the ":::" that closes one, or that opens a pandoc div ("::: {.note}").
_ADMONITION = re.compile(
    r'^[ \t]*(?:(?:!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+)(?:[ \t]+[\w-]+)*(?:[ \t]+"(?P<quoted>[^"\n]*)")?'
    r"|:{3,}[ \t]*(?:(?P<fence>[A-Za-z][\w-]*)(?:\[(?P<bracket>[^\]\n]*)\]|[ \t]+(?P<words>[^\s{][^\n]*?))?"
    r"|\{[^}\n]*\})?)[ \t]*$", re.M)


def _admonition_title(m: re.Match) -> list[_Piece]:
    """What an admonition's first line shows (_ADMONITION): its title where it gives one, else
    its kind as a title ("Note"); a closing ":::" or a pandoc div's opening nothing. Its text
    follows as the title's paragraph, as a GitHub alert's does."""
    for name in ("quoted", "bracket", "words"):
        if m.group(name) is not None:
            title = m.group(name).strip()
            return [(title, m.start(name) + m.group(name).find(title), True)] if title else []
    kind = m.group("kind") or m.group("fence")
    return [(kind.capitalize(), m.start("kind" if m.group("kind") else "fence"), False)] if (
        kind) else []


_TARGET = r'\((?:[^()\s]|\([^()\s]*\))*(?:\s+"[^"\n]*")?\)'  # a link's (target "title")
# Emphasis over lines opens before a letter, a digit or an opening quote or bracket, and closes
# after one (or after closing punctuation), as CommonMark's flanking rules have it: a glob's
# "*.po" or "lib/**/*.js", "2**53" and "`_`" are no emphasis, however far the next mark.
_OPEN = r"(?=[^\W_]|[\"'(\[\u201c\u2018])"
_CLOSE = r"(?<=[^\W_]|[.,;:!?)\]\"'\u201d\u2019])"
_ANY, _NO_STAR, _NO_UNDERSCORE, _NO_BRACKET = r"[^\n]", r"[^*\n]", r"[^_\n]", r"[^\[\]\n]"
_RUNS_ON: list[_Rule] = [  # the one-line rules of _MARKDOWN_RULES, over a paragraph's lines
    (re.compile(r"!\[" + _over(_NO_BRACKET) + r"\]" + _TARGET), _groups(1)),
    (re.compile(r"\[" + _over(_NO_BRACKET) + r"\]" + _TARGET), _groups(1)),
    (re.compile(r"(?<![\w*])\*\*" + _OPEN + _over(_ANY) + _CLOSE + r"\*\*(?![\w*])"), _groups(1)),
    (re.compile(r"(?<![\w*])\*" + _OPEN + _over(_NO_STAR) + _CLOSE + r"\*(?![\w*])"), _groups(1)),
    (re.compile(r"(?<![\w_])__" + _OPEN + _over(_ANY) + _CLOSE + r"__(?![\w_])"), _groups(1)),
    (re.compile(r"(?<![\w_])_" + _OPEN + _over(_NO_UNDERSCORE) + _CLOSE + r"_(?![\w_])"),
     _groups(1)),
]
# A table of contents a wiki or site tool draws in place of its mark ("[[_TOC_]]": Azure DevOps
# and GitLab wikis, with "[[_TOSP_]]" for a page's subpages; "[TOC]": Python-Markdown and MkDocs;
# kramdown's "* TOC" over "{:toc}"): the mark is no word of the policy, and the contents it
# draws repeat the headings (a Word file's table of contents is left out likewise). Before
# Markdown's emphasis, whose rule read "_TOC_" as an italic "TOC".
_MARKDOWN_TOC_RULES: list[_Rule] = [
    (re.compile(r"^[ \t]*(?:\[\[_TO(?:C|SP)_\]\]|\[TOC\]|(?:[-*+][ \t]+[^\n]*\n[ \t]*)?"
                r"\{:[ \t]*toc[ \t]*\})[ \t]*(?:\n|$)(?:[ \t]*\n)*", re.M | re.I), _literal("")),
]
# Markdown only (plain text and PDFs keep their backslashes and tags as written, and their
# asterisks over two lines: a footnote's "*" and a later one are no emphasis).
_MARKDOWN_ONLY_RULES: list[_Rule] = [
    (_MD_TABLE, _table_rows),
    (_MD_HTML_ROW, _html_row),
    (_MD_HTML_LINE, _html_in_markdown),
    (re.compile(r"^[ \t]+$", re.M), _literal("")),  # a line that held tags alone is blank
    *_RUNS_ON,
    # reference links: "[id]: https://x "title"" definition lines show nothing; [text][id] and
    # [text][] show the text
    (re.compile(r"^ {0,3}\[(?!\^)[^\]\n]+\]:[ \t]*\S+(?:[ \t]+(?:\"[^\"\n]*\"|'[^'\n]*'|\([^)\n]*\)))?"
                r"[ \t]*(?:\n|$)", re.M), _literal("")),
    (re.compile(r"\[([^\[\]\n]+)\]\[[^\[\]\n]*\]"), _groups(1)),
    # a task list's "[ ]" and "[x]" (GitHub's) show as boxes: "- ☐ Count the cash box."
    (re.compile(r"^([ \t]*(?:[-*+]|\d{1,9}[.)])[ \t]+)\[([ xX])\](?=[ \t])", re.M),
     lambda m: [(m.group(1), m.start(1), True),
                ("\u2610" if m.group(2) == " " else "\u2611", m.start(2) - 1, False)]),
    # a GitHub alert's "[!NOTE]", opening a quote, shows as its title: "Note"
    (re.compile(r"^[ \t]*\[!(NOTE|TIP|IMPORTANT|WARNING|CAUTION)\][ \t]*$", re.M),
     lambda m: [(m.group(1).capitalize(), m.start(1), False)]),
    (_ADMONITION, _admonition_title),
    (_FOOTNOTE, _footnote),
    # `inline code` shows its text without the backticks; then code over lines (once the
    # spans of one line are gone, so that no two of them pair)
    (re.compile(r"(?<!`)(`+)(?!`)([^\n]+?)(?<!`)\1(?!`)"), _groups(2)),
    (re.compile(r"(?<!`)(`+)(?!`)" + _over(r"[^`\n]") + r"(?<!`)\1(?!`)"), _groups(2)),
    # \* \_ \# ...: Markdown's escapes show the character alone
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|<>&])"), _groups(1)),
]
# A sentence broken by a page break: "...the organization and\n\nnot the staff person."
# Not a heading and the lettered list under it ("Procedure\n\na. Staff...", "ii) ..."):
# a lower-case letter or Roman numeral with its dot or bracket starts an item.
_PAGE_BREAK = re.compile(r"(?<=[A-Za-z0-9,])[ \t]*\n(?:[ \t]*\n)+[ \t]*(?=[a-z])"
                         r"(?!(?:[a-z]|[ivxlc]{1,6})[.)][ \t])")
_PAGE_BREAK_RULES: list[_Rule] = [(_PAGE_BREAK, _literal(" "))]


def _join_unless_heading(m: re.Match) -> list[_Piece]:
    """The page-break join, except after a Markdown heading ("# python-build" over "python-build
    is a plugin..."): the heading is a line of its own, whatever case its paragraph starts in."""
    line = m.string[m.string.rfind("\n", 0, m.start()) + 1 : m.start()]
    if _ATX.match(line):
        return [(m.group(), m.start(), True)]
    return [(" ", m.start(), False)]


# Markdown joins before its marks are undone, so a line typed as a heading in bold ("**Loans to
# clients**" over "staff may not...") ends in its mark and is not joined either.
_MARKDOWN_PAGE_BREAK_RULES: list[_Rule] = [(_PAGE_BREAK, _join_unless_heading)]
_LIGATURES = {"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
              "\ufb05": "st", "\ufb06": "st"}
_LIGATURE = re.compile("[" + "".join(_LIGATURES) + "]")
# Check boxes a word processor draws from a fallback font (LibreOffice's PDFs): pypdf gives them at
# the end of their line, each leaving a gap where it stands ("Client's full name☐" opening on a
# space, "Check  when done and  when refused.☑ ☒").
_BOXES = "\u2610\u2611\u2612\u25a1\u274f"
_BOXES_AT_END = re.compile(rf"^[^\n]*[{_BOXES}][ \t]*$", re.M)  # greedy: linear in the line
_BOX_GAP = re.compile(r"^ (?=\S)|(?<=\S)  (?=\S)")


def _boxes_in_place(m: re.Match) -> list[_Piece]:
    """The boxes set back where they are drawn: one in each gap, in order ("☐ Client's full
    name", "Check ☑ when done and ☒ when refused."), where there are as many gaps as boxes;
    otherwise the line as it stands."""
    line, at = m.group(), m.start()
    cut = len(line)
    while cut and (line[cut - 1] in _BOXES or line[cut - 1] in " \t"):
        cut -= 1
    body = line[:cut]
    boxes = [ch for ch in line[cut:] if ch in _BOXES]
    if not body.strip():
        return [(line, at, True)]
    gaps = [g.start() if g.start() == 0 and g.group() == " " else g.start() + 1
            for g in _BOX_GAP.finditer(body)]
    if len(gaps) != len(boxes):
        return [(line, at, True)]
    pieces: list[_Piece] = []
    last = 0
    for gap, box in zip(gaps, boxes, strict=True):
        pieces += [(body[last:gap], at + last, True), (box, at + gap, False)]
        last = gap
    return pieces + [(body[last:], at + last, True)]


_PDF_RULES: list[_Rule] = [
    (_BOXES_AT_END, _boxes_in_place),
    # A word broken at a line end ("inhabi-\ntants", also across a page break) is one word; a
    # hyphen before a capital or a digit ("Sainte-\nAdèle", "2023-\n0379") is kept.
    (re.compile(r"(?<=[^\W\d_])-[ \t]*\n(?:[ \t]*\n)*[ \t]*(?=[^\W\d_A-Z\u00c0-\u00de])"),
     lambda m: [("-", m.start(), True)] if _compound(m) else []),
    # A bullet drawn in a symbol font (Word's Symbol "\uf0b7", Wingdings' squares and arrows)
    # comes out of the PDF as a private-use character: it shows as a bullet.
    (re.compile(r"^([ \t]*)[\uf020-\uf0ff](?=[ \t])", re.M),
     lambda m: [(m.group(1), m.start(1), True), ("\u2022", m.end(1), False)]),
    # A list or heading number set apart by a tab comes out of the PDF glued to its text
    # ("IV.TRAINING", "iii.psychotherapy notes"): the marker is read apart, as shown.
    (re.compile(r"^([ \t]*(?:[IVXLC]{1,6}|\d{1,2}(?:\.\d{1,2})*|[A-Z])\.)(?=[A-Z][A-Za-z])"
                r"|^([ \t]*(?:[ivx]{1,4}|[a-z])\.)(?=[a-z]{3,})"
                r"|^[ \t]*\d{1,2}(?:\.\d{1,2})+(?=[A-Z][a-z]|[AI] )", re.M),  # "1.1Clients", "2.1A client"
     lambda m: [(m.group(), m.start(), True), (" ", m.end() - 1, False)]),
    # Typographic ligatures ("ﬁ") are one glyph for two letters: searchable as the letters.
    (_LIGATURE, lambda m: [(_LIGATURES[m.group()], m.start(), False)]),
]
# Word's second-level bullet is a Courier "o", in its PDFs and in the text it saves ("o<tab>"):
# a line that opens with "o" and a space before a capital is a sub-item ("o In an emergency:"),
# shown as the white bullet "◦".
_WORD_BULLET_RULES: list[_Rule] = [
    (re.compile(r"^([ \t]*)o(?=[ \t]+[A-Z])", re.M),
     lambda m: [(m.group(1), m.start(1), True), ("\u25e6", m.end(1), False)]),
]
# Each format's rules after _WHITESPACE_RULES, which every format gets first.
RULES = {
    "txt": _WORD_BULLET_RULES + _MARKDOWN_RULES + _PAGE_BREAK_RULES,
    "md": _MARKDOWN_PAGE_BREAK_RULES + _MARKDOWN_TOC_RULES + _MARKDOWN_RULES
    + _MARKDOWN_ONLY_RULES,
    "pdf": _PDF_RULES + _WORD_BULLET_RULES + _MARKDOWN_RULES + _PAGE_BREAK_RULES,
    "docx": [],  # the reader writes the text itself: nothing else to undo
    # converted to .docx (formats/doc.py), which shows an embedded object as U+FFFC
    "doc": [(re.compile("\n*\ufffc+(?=\n|$)|\ufffc"), _literal(""))],
    "odt": [],
    "html": [],
}


def clean_text(raw: str, fmt: str = "md", keep: Spans = (), hide: Spans = ()
               ) -> tuple[str, list[int]]:
    """Apply the format's cleaning rules; return the text and, for each character, its raw offset.
    Within `keep` (raw [start, end) spans: Markdown's code blocks) only line ends and trailing
    blanks are cleaned: the rest is shown as written. `hide` (raw spans: a Markdown quote's ">"
    marks) is left out first, so the rules read the text as shown (a table in a quote is a
    table)."""
    text, source = _apply_rules(raw, list(range(len(raw))), _WHITESPACE_RULES)
    text, source = _drop(text, source, hide)
    return _apply_rules(text, source, RULES[fmt], keep)


def _drop(text: str, source: list[int], spans: Spans) -> tuple[str, list[int]]:
    """The text and its raw offsets without the characters from the raw spans."""
    if not spans:
        return text, source
    gone = bytearray(max(end for _, end in spans) + 1)
    for start, end in spans:
        gone[start:end] = b"\x01" * (end - start)
    kept = [i for i, at in enumerate(source) if at >= len(gone) or not gone[at]]
    return "".join(text[i] for i in kept), [source[i] for i in kept]


def touches(spans: Spans, first: int, last: int = -1) -> bool:
    """Whether offsets first..last (first alone by default) touch one of the spans (sorted,
    disjoint [start, end) pairs: Markdown's code blocks)."""
    n = bisect.bisect_right(spans, max(first, last), key=lambda span: span[0]) - 1
    return n >= 0 and spans[n][1] > first


def _apply_rules(text: str, source: list[int], rules: list[_Rule],
                 keep: Spans = ()) -> tuple[str, list[int]]:
    """Each rule's replacements in turn, carrying every character's raw offset along; a match
    touching a `keep` span (raw offsets) is left as it stands."""
    for pattern, repl in rules:
        pieces: list[str] = []
        mapping: list[int] = []
        last = 0
        for m in pattern.finditer(text):
            if keep and m.end() > m.start() and touches(keep, source[m.start()],
                                                        source[m.end() - 1]):
                continue
            pieces.append(text[last : m.start()])
            mapping.extend(source[last : m.start()])
            for piece, at, copied in repl(m):
                pieces.append(piece)
                if copied:
                    mapping.extend(source[at : at + len(piece)])
                else:
                    mapping.extend([source[at]] * len(piece))
            last = m.end()
        pieces.append(text[last:])
        mapping.extend(source[last:])
        text, source = "".join(pieces), mapping
    return text, source


# A Markdown heading line ("## When staff may share information", optionally closed by " ##").
_ATX = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?=\S)([^\n]*?)(?:[ \t]+#+)?[ \t]*$", re.M)


def markdown_headings(text: str, source: list[int], code: Spans = (),
                      marks: MarkdownMarks | None = None
                      ) -> tuple[str, list[int], list[list[int]]]:
    """Markdown's heading marks left out of the cleaned text, as a reader of the rendered page
    sees it (and a quote copied from it holds): "## Loans" reads "Loans", and "Loans" over
    "-----" reads "Loans" (`marks`: markdown_marks, whose drawn lines go too). Returns the text,
    its raw offsets and, for each heading, [offset of its title in the new text, level 1-6],
    which sections.py reads in place of the marks. A "# ..." line in a code block (`code`, raw
    spans) is code, not a heading; one in a block quote reads without its marks, but quotes
    another text: it heads no section of this one."""
    marks = marks or MarkdownMarks()
    found = sorted([(source[m.start(2)], len(m.group(1))) for m in _ATX.finditer(text)
                    if not touches(code, source[m.start(2)])] + marks.headings)
    found = [(at, level) for at, level in found if not touches(marks.plain, at)]
    text, source = _apply_rules(text, source, [(_ATX, _groups(2))], code)
    text, source = _drop(text, source, marks.drawn)
    return text, source, [[bisect.bisect_left(source, at), level] for at, level in found]


# ---------------------------------------------------------------- readers


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 saved without a byte-order mark: NUL in nearly every other byte (ASCII-range text)."""
    if len(data) < 4 or len(data) % 2:
        return None
    for encoding, zeros in (("utf-16-le", data[1::2]), ("utf-16-be", data[0::2])):
        if zeros.count(0) >= 0.9 * len(zeros):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                return None
    return None


def _looks_binary(text: str) -> bool:
    """Control characters other than whitespace are rare in prose and common in binary files."""
    controls = sum(1 for ch in text if ord(ch) < 32 and not ch.isspace())
    return controls > len(text) // 100


def decode_text(data: bytes) -> str:
    """Text from the bytes of a text file (UTF-8, UTF-16, Windows-1252), or DocumentError saying why
    not (empty, whitespace only, binary)."""
    if not data:
        raise DocumentError("empty file (0 bytes)")
    if not data.strip():
        raise DocumentError("no text (whitespace only)")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    if b"\x00" in data:
        text = _utf16_without_bom(data)
        if text is None:
            raise DocumentError("binary content (NUL bytes), not a text document")
        return text
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        if text.count("\ufffd") > len(text) // 100:
            raise DocumentError("not valid UTF-8 or Windows-1252 text") from None
    if _looks_binary(text):
        raise DocumentError("binary content (control characters), not a text document")
    return text


def _short(exc: Exception, limit: int = 120) -> str:
    """A damaged file's error can quote kilobytes of it; one readable line is enough."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# (a file saved on Windows ends its lines in "\r\n": the same front matter)
_FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?\n)(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_TOML_FRONT_MATTER = re.compile(r"\A\+\+\+[ \t]*\r?\n(.*?\n)\+\+\+[ \t]*(?:\r?\n|\Z)",
                                re.S)  # Hugo's
# A line that is one bold span: "**Loans to clients**", "__Gifts__" (no other span inside).
_BOLD_LINE = re.compile(r"^ {0,3}(\*\*|__)(?=\S)((?:(?!\1).)+?)(?<=\S)\1[ \t]*\r?$", re.M)


def _after_blank_line(text: str, at: int) -> bool:
    """The line starting at `at` begins a paragraph: it is the first, or the line before is blank."""
    return at == 0 or not text[text.rfind("\n", 0, at - 1) + 1 : at - 1].strip()


def _markdown_blocks(text: str) -> tuple[list, list[int]]:
    """The text's CommonMark block tokens (markdown-it-py, a CommonMark parser) and the raw
    offset each of its lines starts at (the tokens' `map` counts lines)."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.admon import admon_plugin

    starts = [0] + [m.end() for m in re.finditer(r"\r\n?|\n", text)]  # markdown-it's lines
    # A line of blanks only, no-break spaces a word processor left among them, is a blank line
    # (as sections.py reads it); CommonMark's blank has no no-break space, and would run the
    # list above into the heading below.
    blanked = re.sub(r"^[^\S\r\n]+(?=\r?$)", lambda m: " " * len(m.group()), text, flags=re.M)
    # GitHub's tables are blocks of their own (a table is no paragraph whose lines run on);
    # MkDocs' admonitions hold blocks ("!!! warning" over its indented text, which CommonMark
    # alone reads as code)
    return MarkdownIt("commonmark").enable("table").use(admon_plugin).parse(blanked), starts


def _line_span(text: str, starts: list[int], n: int) -> tuple[int, int]:
    """Raw [start, end) of line n's characters, its line break left out."""
    end = starts[n + 1] if n + 1 < len(starts) else len(text)
    while end > starts[n] and text[end - 1] in "\r\n":
        end -= 1
    return starts[n], end


def markdown_code(text: str, tokens: list, starts: list[int]
                  ) -> tuple[list[tuple[int, int]], list[str]]:
    """[start, end) offsets of the lines of the text's code blocks (fenced or indented), found by
    markdown-it-py (`tokens`, `starts`: _markdown_blocks): a fence's closing line, a fence in a
    list item or a quote, an indented line that continues a list item rather than starting
    code, are CommonMark's rules, not ours. Code is shown as written: no Markdown mark inside it
    is undone, and none of its lines is a heading or a list item ("# export the ledger" is a
    shell comment).

    One departure, with a warning (returned second): a fence never closed runs to the end of the
    file in CommonMark, so one stray ``` would leave every heading after it out of the sections
    and cite the rest of the policy under the heading before it; such a fence is read as text."""
    spans, warnings = [], []
    for token in tokens:
        if token.type not in ("fence", "code_block") or not token.map:
            continue
        first, end = token.map
        stop = starts[end] if end < len(starts) else len(text)
        if token.type == "fence" and not text[stop:].strip():
            last = text[starts[end - 1]:stop].strip()
            if end - 1 == first or len(last) < len(token.markup) or last.strip(token.markup[0]):
                warnings.append(f"line {first + 1}: a code fence ({token.markup}) is never "
                                "closed; the rest of the file is read as text, not code")
                continue
        spans.append((starts[first], stop))
    return spans, warnings


# A quote's marks at a line's start ("> ", "> > "), after a list item's own marker where the
# quote opens the item ("- > ...").
_ITEM_START = re.compile(r"[ \t]*(?:(?:[-*+]|\d{1,9}[.)])[ \t]+)?")
_QUOTE_MARKS = re.compile(r"(?:[ \t]*>[ \t]?)+")


# a line "<h2>Gift log</h2>": its opening tag, and its closing one at the line's end (matched
# apart: as one pattern, the blanks before "</h2>" were tried from every character of a title)
_HTML_HEADING = re.compile(r"[ \t]*<h([1-6])\b[^<>]*>[ \t]*(?=\S)", re.I)
_HTML_HEADING_END = re.compile(r"</h([1-6])\s*>[ \t]*$", re.I)


def markdown_marks(text: str, tokens: list, starts: list[int]) -> MarkdownMarks:
    """What the rendered page shows of the file's blocks otherwise than as written, by
    CommonMark's rules (markdown-it-py's tokens, `_markdown_blocks`: "Purpose" over "-------"
    is a heading, "---" after a blank line a thematic break):
    - a block quote's ">" marks are not shown: a quoted note ("> Staff must read this policy")
      reads as the words it quotes, so a quote copied from the page across its lines is found;
    - a setext heading's underline ("=====", "-----") is not shown: its title reads alone, as an
      ATX heading's does without its "#" marks (markdown_headings), and is a heading of its
      level (1 or 2);
    - a line of HTML that is a heading ("<h3>Backporting patches</h3>") is a heading of its
      level, as an ATX heading is (its tags show nothing: _html_in_markdown);
    - a thematic break ("---", "***") is a drawn line, no text;
    - in a file that marks its headings (two or more), a paragraph's lines after its first go
      on with it: CommonMark makes none of them a heading, however it looks (pandoc wraps at
      72 characters, leaving short Title-Case lines such as "Customer Agreement, or the");
    - what a block quote or a footnote holds is another text's words, or a note: plain text (a
      paragraph of the section it stands in, sections.py), no heading or item of the policy's;
    - an admonition's text (MkDocs' "!!! warning" box, indented under its first line) is shown
      without its indentation: the policy's own paragraphs and items, in a box, not code; its
      first line (its title, _ADMONITION) is plain text, as a GitHub alert's title in a quote.
    """
    marks = MarkdownMarks()
    for token in tokens:
        if not token.map:
            continue
        first, end = token.map
        if token.type == "heading_open" and token.markup in ("=", "-"):
            marks.headings.append((_after_marks(text, *_line_span(text, starts, first), True),
                                 1 if token.markup == "=" else 2))
            marks.drawn.append((_line_span(text, starts, end - 2)[1],
                                _line_span(text, starts, end - 1)[1]))
        elif token.type == "html_block":
            for n in range(first, end):
                start, stop = _line_span(text, starts, n)
                m = _HTML_HEADING.match(text, start, stop)
                close = m and _HTML_HEADING_END.search(text, m.end(), stop)
                if close and close.group(1) == m.group(1) and close.start() > m.end():
                    marks.headings.append((m.end(), int(m.group(1))))
        elif token.type == "admonition_open":
            _admonition_indent(text, starts, first, end, marks.quote_marks)
        elif token.type == "hr":  # ("* * *" is no list item)
            start, stop = _line_span(text, starts, first)
            marks.drawn.append((_after_marks(text, start, stop, item=False), stop))
        elif token.type == "blockquote_open":
            for n in range(first, end):
                lead, after = _quote_marks(text, *_line_span(text, starts, n))
                if after > lead:
                    marks.quote_marks.append((lead, after))
            _plain(marks.plain, starts[first], _line_span(text, starts, end - 1)[1])
        elif token.type == "paragraph_open" and _FOOTNOTE_NOTE.match(text, starts[first]):
            notes = [n for n in range(first, end) if _FOOTNOTE_NOTE.match(text, starts[n])]
            for n, after in zip(notes, notes[1:] + [end], strict=True):  # a note a paragraph
                _plain(marks.plain, starts[n], _line_span(text, starts, after - 1)[1])
        if token.type in ("admonition_open", "paragraph_open") and _ADMONITION.match(
                text, *_line_span(text, starts, first)):
            _plain(marks.plain, *_line_span(text, starts, first))  # its title: no heading
    if sum(token.type == "heading_open" for token in tokens) >= 2:
        for token in tokens:  # (a list item's or a quote's paragraphs are not the file's own)
            if token.type == "paragraph_open" and token.level == 0 and token.map and (
                    token.map[1] - token.map[0] >= 2):
                marks.running.append((starts[token.map[0] + 1],
                                      _line_span(text, starts, token.map[1] - 1)[1]))
    marks.quote_marks = sorted(set(marks.quote_marks))  # (a quote in a quote marks its lines again)
    marks.drawn.sort()
    return marks


def _admonition_indent(text: str, starts: list[int], first: int, end: int,
                       spans: list[tuple[int, int]]) -> None:
    """Add to `spans` the indentation an admonition's lines (first + 1 to end) have under its
    first line: four columns past that line's own, as MkDocs reads it (a tab to the next stop
    of four). A nested admonition hides its own four more."""
    start, stop = _line_span(text, starts, first)
    width = _columns(text, start, stop) + 4
    for n in range(first + 1, end):
        start, stop = _line_span(text, starts, n)
        at, column = start, 0
        while at < stop and text[at] in " \t" and column < width:
            column = column + 1 if text[at] == " " else (column // 4 + 1) * 4
            at += 1
        if at > start:
            spans.append((start, at))


def _columns(text: str, start: int, stop: int) -> int:
    """The columns of blanks a line opens with (a tab to the next stop of four)."""
    column = 0
    for char in text[start:stop]:
        if char == " ":
            column += 1
        elif char == "\t":
            column = (column // 4 + 1) * 4
        else:
            break
    return column


def _plain(spans: list[tuple[int, int]], start: int, stop: int) -> None:
    """Add [start, stop) to the spans, or widen the last one where it holds start: a quote or a
    note inside a quote (tokens come in the text's order)."""
    if spans and start <= spans[-1][1]:
        spans[-1] = (spans[-1][0], max(stop, spans[-1][1]))
    else:
        spans.append((start, stop))


def _quote_marks(text: str, start: int, stop: int, item: bool = True) -> tuple[int, int]:
    """The raw [start, end) of the ">" marks opening the line [start, stop), after a list item's
    marker (unless not `item`); an empty span where the line opens with none."""
    lead = _ITEM_START.match(text, start, stop).end() if item else start
    quote = _QUOTE_MARKS.match(text, lead, stop)
    return lead, quote.end() if quote and ">" in quote.group() else lead


def _after_marks(text: str, start: int, stop: int, blanks: bool = False, item: bool = True
                 ) -> int:
    """Where a line's own text begins: after a list item's marker (unless not `item`) and a
    quote's ">" marks that open it (and, with `blanks`, the blanks before its first word)."""
    at = _quote_marks(text, start, stop, item)[1]
    while blanks and at < stop and text[at] in " \t":
        at += 1
    return at


def front_matter(text: str) -> tuple[dict, str]:
    """A Markdown file's front matter, as static-site and wiki tools write it: YAML between
    "---" lines (Jekyll, MkDocs, Docusaurus) or TOML between "+++" lines (Hugo). It is metadata
    (title, date), not text a reader sees: ({"title": ..., "date": ...}, the text after it).
    Lines that do not parse as such (a "---" rule opening the file) stay text."""
    m = _FRONT_MATTER.match(text)
    if m:
        import yaml

        try:
            data = yaml.safe_load(m.group(1))
        except yaml.YAMLError:
            data = None
    elif m := _TOML_FRONT_MATTER.match(text):
        import tomllib

        try:
            data = tomllib.loads(m.group(1))
        except tomllib.TOMLDecodeError:
            data = None
    if not m or not isinstance(data, dict):
        return {}, text
    return {k: str(data[k]) for k in ("title", "date") if data.get(k)}, text[m.end():]


def read_markdown(text: str) -> Extracted:
    """Markdown: front matter is metadata (title, date), not text a reader sees; code blocks
    are kept as written (markdown_code); block marks the page does not show are left out
    (markdown_marks)."""
    meta, text = front_matter(text)
    tokens, starts = _markdown_blocks(text)
    code, warnings = markdown_code(text, tokens, starts)
    marks = markdown_marks(text, tokens, starts)
    bold = [m.start(2) for m in _BOLD_LINE.finditer(text)
            if _after_blank_line(text, m.start()) and not touches(code, m.start())]
    return Extracted(raw=text, format="md", meta=meta, bold_lines=bold, code=code,
                     marks=marks, warnings=warnings)


# What a file is by its first bytes, for a file whose name says otherwise.
_MAGIC = ((b"%PDF", "a PDF"), (b"PK\x03\x04", "a ZIP package (a Word .docx or another Office file)"),
          (b"\xd0\xcf\x11\xe0", "an Office 97-2003 or password-protected Office file"),
          (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"),
          (b"GIF8", "a GIF image"), (b"{\\rtf", "a Rich Text Format file"))


def _disguised(suffix: str, data: bytes) -> str | None:
    """Why a file is not what its name says: its first bytes are another format's ("a PDF
    named .html", "a ZIP package named .pdf"). A PDF named .html was indexed as garbage, and
    could win the duplicate check against the real PDF."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"{_NOT_A.get(suffix, 'binary content')}: it is {what} named {suffix}"
    return None


_NOT_A = {".pdf": "not a PDF", ".docx": "not a Word .docx file", ".docm": "not a Word file",
          ".dotx": "not a Word template", ".dotm": "not a Word template",
          ".ott": "not an OpenDocument text template",
          **dict.fromkeys(SERVER_PAGES, "not a web page"), ".eml": "not an e-mail message",
          ".doc": "not a Word 97-2003 document", ".dot": "not a Word 97-2003 template",
          ".odt": "not an OpenDocument text file", ".fodt": "not an OpenDocument text file",
          ".html": "not a web page",
          ".htm": "not a web page", ".xhtml": "not a web page"}


_LEADING_COMMENTS = re.compile(rb"(?:\s*<!--.*?-->)*\s*", re.S)


def _web_page(data: bytes) -> str:
    """"html" or "mhtml" for a .doc that is a web page: Word's "Save as Web Page" and document
    systems' exports name HTML and MIME web archives .doc, and Word opens them; else "". The
    comments a page may open with (a browser's "saved from url=", a server's banner) are passed
    over."""
    head = data[:4096].removeprefix(b"\xef\xbb\xbf")
    head = head[_LEADING_COMMENTS.match(head).end():].lower()
    if head.startswith((b"<html", b"<!doctype html", b"<?xml")) and b"<html" in head:
        return "html"
    return "mhtml" if _mime_message(data) else ""


def _server_page(suffix: str, data: bytes) -> Extracted:
    """A page a web server made, named as its address ends (.aspx, .php: an intranet mirrored
    with wget, or a page saved under its own name), read as the web page or archive it holds.
    One that is no page is the server's source code, whose words are not what a reader sees."""
    from .formats.html import read_html, read_mhtml

    web = _web_page(data)
    if not web:
        raise DocumentError(f"not a saved web page: a {suffix} file that holds no HTML (the "
                            "server's source code?); save the page from a browser as .html")
    return read_mhtml(data) if web == "mhtml" else read_html(data)


_HEADER_FIELD = re.compile(rb"[!-9;-~]+:")  # a mail header's name and its colon


def _mime_message(data: bytes) -> bool:
    """Whether a file is a MIME message (a web archive): header fields up to the first blank
    line, MIME-Version among them. Word's "Single File Web Page" starts with that field;
    Confluence's "Export to Word" (a .doc) with Date, Message-ID and Subject first, and was
    named "not a Word 97-2003 document" though Word opens it."""
    head = data[:8192].lstrip(b"\xef\xbb\xbf \t\r\n").replace(b"\r\n", b"\n")
    fields = [line for line in head.split(b"\n\n", 1)[0].split(b"\n")
              if line and line[:1] not in b" \t"]  # a field's next lines are indented
    return (bool(fields) and all(_HEADER_FIELD.match(line) for line in fields)
            and any(line.lower().startswith(b"mime-version:") for line in fields))


def _extract(path: Path, data: bytes, pages: PageProgress | None) -> Extracted:
    """Dispatch on the file's type; each reader raises DocumentError with a reason."""
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        # A PDF reader takes the header anywhere in the first 1,024 bytes (after a byte-order
        # mark or a line break a web server or a mail program put first), and so does pypdf.
        if b"%PDF" not in data[:1024]:
            raise DocumentError(_disguised(suffix, data) or "not a PDF (no %PDF header)")
        from .formats.pdf import read_pdf

        return read_pdf(path, pages)
    # (a .docx that is no ZIP package is read for what it is in formats/docx.py: an encrypted
    # or a Word 97-2003 file; a web archive is a MIME message whatever it holds)
    # (an OpenDocument file is a ZIP package, or one XML file: formats/odt.py reads either)
    # (a .doc may be a Word package renamed, or a page Word saved as "Web Page" under .doc)
    ours = {**dict.fromkeys((".odt", ".ott", ".fodt"), (b"PK\x03\x04",)),
            **dict.fromkeys(WORD_PACKAGES + WORD_97, (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"))
            }.get(suffix, ())
    if suffix not in (".mhtml", ".mht") and not data.startswith(ours) and (
            why := _disguised(suffix, data)):
        raise DocumentError(why)
    if suffix in WORD_PACKAGES or (suffix in WORD_97 and data.startswith(b"PK\x03\x04")):
        from .formats.docx import read_docx

        return read_docx(path, data)
    if suffix in WORD_97:
        web = _web_page(data)
        if web:
            from .formats.html import read_html, read_mhtml

            return read_mhtml(data) if web == "mhtml" else read_html(data)
        from .formats.doc import read_doc

        return read_doc(path, data)
    if suffix in (".odt", ".ott", ".fodt"):
        from .formats.odt import read_odt

        return read_odt(data)
    if suffix in (".html", ".htm", ".xhtml"):
        from .formats.html import read_html

        return read_html(data)
    if suffix in (".mhtml", ".mht"):
        from .formats.html import read_mhtml

        return read_mhtml(data)
    if suffix in SERVER_PAGES:
        return _server_page(suffix, data)
    if suffix == ".eml":
        from .formats.mail import read_eml

        return read_eml(data)
    text = decode_text(data)
    if suffix in (".md", ".markdown"):
        return read_markdown(text)
    return Extracted(raw=text, format="txt")


def unsupported_reason(path: Path) -> str | None:
    """Why policyqa does not read this file type, or None when it does. Office's owner files
    ("~$ient-funds.docx": Word keeps one beside a document while someone has it open, on a
    shared drive too) are named as such, not as a damaged Word file to be mended."""
    if path.name.startswith("~$"):
        return ("Office owner file: Word keeps it beside a document while someone has it open; "
                "not a document")
    suffix = path.suffix.lower()
    if suffix in SUPPORTED:
        return None
    what = _UNSUPPORTED.get(suffix)
    kind = suffix or "(no extension)"
    return f"unsupported file type {kind}" + (f" ({what})" if what else "")


def read_document(path: Path, meta: dict | None = None,
                  pages: PageProgress | None = None) -> Document:
    """Read one file into a Document; raises DocumentError with a reason a user can act on.

    `pages(done, total)` is called as a PDF's pages are read (a 100-page file takes seconds).
    """
    path = Path(path)
    reason = not_a_file(path) or unsupported_reason(path)
    if reason:
        raise DocumentError(reason)
    data = path.read_bytes()
    if not data:
        raise DocumentError("empty file (0 bytes)")
    extracted = _extract(path, data, pages)
    text, source = clean_text(extracted.raw, extracted.format, extracted.code,
                              extracted.marks.quote_marks)
    headings: list[list[int]] = []
    if extracted.format == "md":
        text, source, headings = markdown_headings(text, source, extracted.code, extracted.marks)
    if not text.strip():
        raise DocumentError("no text (whitespace only)")
    meta = meta or {}
    own = extracted.meta
    doc_id = text_name(path.stem)
    title = (meta.get("title") or labelled_title(text) or _printable(own.get("title", ""))
             or _guess_title(text, {at for at, level in headings if level == 1},
                             full_stops=extracted.format not in _STYLED) or doc_id)
    return Document(
        doc_id=doc_id,
        path=text_name(str(path)),
        title=title,
        label=meta.get("label") or doc_id,
        issuer=meta.get("issuer", ""),
        date=str(meta.get("date", "") or own.get("date", "")),
        text=text,
        sha256=hashlib.sha256(data).hexdigest(),
        page_starts=_map_pages(extracted.page_starts, source),
        format=extracted.format,
        pages=extracted.pages,
        page_labels=extracted.page_labels,
        blocks=_map_blocks(extracted.blocks, source, text),
        bold_lines=[bisect.bisect_left(source, at) for at in extracted.bold_lines],
        bold_sizes=extracted.bold_sizes,
        md_headings=headings,
        md_code=_map_spans(extracted.code, source),
        md_plain=_map_spans(extracted.marks.plain, source),
        md_running=_map_spans(extracted.marks.running, source),
        warnings=extracted.warnings,
    )


def _map_spans(raw_spans: Spans, source: list[int]) -> list[list[int]]:
    """Raw [start, end) spans as spans of the cleaned text (`source`: each character's raw
    offset)."""
    return [[bisect.bisect_left(source, start), bisect.bisect_left(source, end)]
            for start, end in raw_spans]


def _map_pages(raw_pages: list[tuple[int, int]], source: list[int]) -> list[tuple[int, int]]:
    """Page starts in canonical offsets, from page starts in raw offsets."""
    page_starts: list[tuple[int, int]] = []
    if not raw_pages:
        return page_starts
    raw_offsets = [start for start, _ in raw_pages]
    last_page = None
    for i, src in enumerate(source):
        page = raw_pages[bisect.bisect_right(raw_offsets, src) - 1][1]
        if page != last_page:
            page_starts.append((i, page))
            last_page = page
    return page_starts


def _map_blocks(blocks: list[Block], source: list[int], text: str) -> list[list]:
    """A reader's blocks in canonical offsets (source is non-decreasing: cleaning only deletes,
    copies or inserts in order), trimmed to their visible characters."""
    out = []
    for b in blocks:
        start = bisect.bisect_left(source, b.start)
        end = bisect.bisect_left(source, b.end)
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            out.append([start, end, b.kind, b.level, b.marker])
    return out


def _printable(title: str) -> str:
    """A title the file states, without the control characters some write into it (a PDF's
    Info title ending in a NUL, "imagemagick-images\x00"), and with a ligature glyph as its
    letters, as the text has it ("Staff", not "Sta\ufb00": a PDF sets it in the title's type)."""
    title = _LIGATURE.sub(lambda m: _LIGATURES[m.group()], title)
    return " ".join("".join(ch if ch.isprintable() else " " for ch in title).split())


# Formats whose writers mark a title with a style (Word's and LibreOffice's Title, Heading 1):
# where none is marked, a paragraph ending in a full stop is running text, never the title, and
# no title comes after it. In the 980 text, Markdown, web and Word files compared, no Word
# file's title ends in one; a one-word first heading ("Emergencies") then left the next
# sentence ("Staff stay with the participant.") to be taken for the title, and a later short
# line ("Crisis line") would be after it.
_STYLED = frozenset({"docx", "doc", "odt"})


def _guess_title(text: str, titles: set[int] = frozenset(), full_stops: bool = True) -> str:
    """The first line that reads as a title: two words or more (a lone word is more often a stamp or a
    page number than a title), or a Markdown "# Title" line of any length (`titles`: where the
    level-1 headings' titles start). Not a line of running text: one that runs past TITLE_WORDS
    words, ends in a comma, semicolon or colon or on a word no title ends on (_OPEN_ENDINGS), is a
    bulleted item, is a sentence of more than a few words (a meeting notice's "Welcome to the
    meeting of...", a scan starting mid-sentence), goes on in the next line (which starts in lower
    case), or starts in lower case below another line (the rest of that line's sentence; a first
    line may: "pdf encryption test"). A table's row is no title. None within the first
    TITLE_LINES lines: no title (the file's name stands in).
    `full_stops=False`: a line ending in a full stop is running text, however short, and ends
    the search: a title stands before the text begins (_STYLED)."""
    lines = text.split("\n")[:TITLE_LINES]
    at, seen = 0, False
    for n, line in enumerate(lines):
        start = at + len(line) - len(line.lstrip())
        at += len(line) + 1
        heading = start in titles or line.strip().startswith("# ")  # "# " in a .txt file
        if "\t" in line:  # a table's row is no title (labelled_title reads its labels)
            seen = True
            continue
        line = line.strip().lstrip("#").strip()
        after = lines[n + 1].strip() if n + 1 < len(lines) else ""
        if not (full_stops or heading) and _FULL_STOP.search(line):
            return ""  # running text has begun: a title would have stood before it
        if (heading and line) or (len(line.split()) >= 2 and _reads_as_title(line)
                                  and not (seen and line[0].islower())
                                  and not after[:1].islower()):
            return line[:120]
        seen = seen or bool(line)
    return ""


TITLE_WORDS = 15
TITLE_LINES = 40
# The label of a table cell that holds the title, as policy templates head their first page:
# "Policy Title:", "Title", "Subject:", "Policy:", "Policy Name", "Name of Procedure".
_TITLE_LABEL = re.compile(r"(?:(?:policy|procedure|document)\s+)?(?:title|subject)|re|regarding"
                          r"|(?:policy|procedure)(?:\s+name)?|name\s+of\s+(?:the\s+)?(?:policy|procedure)",
                          re.IGNORECASE)
# A line, not a table's row, that names the title by its label: a memo's "RE: Texting clients".
# ("Policy: ..." on a line of its own opens the policy's text.)
_LABELLED_LINE = re.compile(r"(?:(?:(?:policy|procedure|document)\s+)?(?:title|subject)|re|regarding)"
                            r"[ \t]*:[ \t]+(\S.*)", re.IGNORECASE)


# The marks that bullet a line of a list ("- ", "• ", "▪ "), here and in sections.py.
BULLET_MARKS = ("-*\u2022\u00b7\u2013\u25aa\u25cf\u25e6\u25a0\u2023\u2043\u27a2"
                "\u2610\u2611\u2612\u25a1\u274f")  # and a checklist's boxes: ☐ ☑ ☒ □ ❏
# A bulleted line ("- Define results names", "• Staff never lend"): an item of a list, no title.
_BULLETED = re.compile(rf"[{re.escape(BULLET_MARKS)}][ \t]")


# Words a title does not end on: a line that does is a sentence cut at the margin ("A report
# creeps into camp that" / "Johnston is coming with fifty", a scanned page's narrow column).
_OPEN_ENDINGS = frozenset({"a", "an", "the", "and", "or", "of", "that", "which"})
# A sentence's full stop, not an ellipsis ("Coming soon...") nor an abbreviation's ("Pty Ltd.").
_FULL_STOP = re.compile(r"(?<![.\s])(?<!\b[A-Z][a-z])(?<!\b[A-Z][a-z][a-z])\.[\"'\u201d\u2019)]*$")


def labelled_title(text: str) -> str:
    """The title a template or memo names by its label within the first TITLE_LINES lines: a
    table's "Policy Title:<tab>Client Funds" (or "Subject", "Policy Name", "RE", _TITLE_LABEL),
    or a memo's line "RE: Texting clients" / "Subject: ...". It is the title the document shows
    its readers, so it stands above a title the file's type or properties suggest: above it an
    agency's letterhead ("Northside Behavioral Health", set large and bold) or a memo's
    "MEMORANDUM" was taken for the title. Not a value that is a sentence (a "Policy:" row's
    "Staff never lend money.") or a template's placeholder ("[Policy Title]")."""
    for line in text.split("\n")[:TITLE_LINES]:
        if "\t" in line:
            label, value, *_ = [cell.strip() for cell in line.split("\t")]
            found = bool(_TITLE_LABEL.fullmatch(label.rstrip(":").strip()))
        else:
            match = _LABELLED_LINE.fullmatch(line.strip())
            found, value = bool(match), match.group(1).strip() if match else ""
        if found and value and value[-1] != "." and _reads_as_title(value) \
                and not placeholder_title(value) and not value.startswith("["):
            return value[:120]
    return ""


def _reads_as_title(line: str) -> bool:
    words = line.split()
    if len(words) > TITLE_WORDS or line[-1] in ",;:" or _BULLETED.match(line):
        return False
    if words[-1].lower() in _OPEN_ENDINGS:
        return False
    return not (line[-1] == "." and len(words) > 6 and not line.endswith(".."))


# ---------------------------------------------------------------- the corpus


_BUILD_FOLDER = re.compile(r"build-\d{8}-\d{6}-\d+-\d+")


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every entry of the corpus folder and its subfolders, in a stable order, supported or not
    (so an ingest can account for each one), except metadata.toml, hidden files (".DS_Store",
    ".gitkeep": the system's, not documents) and an index's builds.

    A linked subfolder is read as the folder it links to (IT may assemble a corpus folder from
    links to departments' shares), each real folder once. What cannot be read as a file is
    listed too, for `not_a_file` to name: a broken link, a named pipe or device (never opened:
    reading a pipe waits for ever), a folder that cannot be listed, a second link to a folder
    already read. Left out silently, their policies would be missing with no word said.

    An index folder placed inside the corpus folder (`--index policies/index`, or the corpus
    folder itself) holds a `current` link to one of its `build-<date>-<time>-<pid>-<n>`
    folders (store/files.py). Those, and the link, are policyqa's own files: read as documents,
    each build would change the corpus it was built from, and the index would never be current."""
    corpus_dir = Path(corpus_dir)
    found: list[Path] = []
    read: set[str] = set()

    def unlisted(exc: OSError) -> None:  # a subfolder os.walk could not list
        if exc.filename and Path(exc.filename) != corpus_dir:
            found.append(Path(exc.filename))

    # Top down, each folder's subfolders in name order, so the same path of a folder reached
    # twice is read every time, whatever order the file system lists them in.
    for folder, dirs, files in os.walk(corpus_dir, onerror=unlisted, followlinks=True):
        here = Path(folder)
        real = os.path.realpath(here)
        if real in read:  # a second link to a folder, or a link back up (a loop)
            found.append(here)
            dirs[:] = []
            continue
        read.add(real)
        builds = _builds_beside(here)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and not (
            builds and (d == "current" or _BUILD_FOLDER.fullmatch(d))))
        found.extend(here / name for name in files if not name.startswith("."))
    # (by parts, computed once: comparing Paths themselves took most of the time at 24,000 files)
    metadata = corpus_dir / METADATA_FILE
    return sorted((p for p in found if p != metadata), key=lambda p: p.parts)


def corpus_name(corpus_dir: Path, path: Path) -> str:
    """A corpus file's name in reports, the manifest and citations: its path in the corpus
    folder, as text (text_name)."""
    folder, name = str(corpus_dir), str(path)
    if name.startswith(folder + "/") and not folder.endswith("/"):  # as corpus_files makes them
        return text_name(name[len(folder) + 1:])
    return text_name(Path(path).relative_to(corpus_dir).as_posix())


# A byte a file's name holds that is not UTF-8, as Python gives it (os.fsdecode's escapes).
_NAME_BYTE = re.compile("[\udc80-\udcff]")
_NAME_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _name_byte(match: re.Match) -> str:
    byte = bytes([ord(match.group()) - 0xDC00])
    try:
        return byte.decode("cp1252")
    except UnicodeDecodeError:  # five bytes Windows leaves undefined
        return "\ufffd"


def text_name(name: str) -> str:
    """A file name as text a citation, a report, JSON and the database can hold. A name that is
    not UTF-8 (files copied from an old Windows share, or unzipped from a ZIP without UTF-8
    names: "caf\\xe9 policy.doc") reaches Python holding lone surrogates, which psycopg, the
    API's clients and the page's protocol refuse or garble; its bytes are read as Windows-1252,
    the likeliest, as decode_text reads a file's text ("café policy"). A control character (a
    line break in a name) is a space: it would break a citation's line."""
    return _NAME_CONTROL.sub(" ", _NAME_BYTE.sub(_name_byte, name))


def _builds_beside(folder: Path) -> bool:
    """Whether `folder` is an index's: its `current` is a link to one of its builds."""
    current = folder / "current"
    return current.is_symlink() and bool(_BUILD_FOLDER.fullmatch(Path(os.readlink(current)).name))


def not_a_file(path: Path) -> str | None:
    """Why a corpus entry cannot be read as a document file (corpus_files lists it so that it
    is named), or None for a regular file or a link to one. Asked before any file is opened."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        if path.is_symlink():
            return f"broken link: its target {text_name(os.readlink(path))} does not exist"
        return "file not found (removed while the corpus was read)"
    except OSError as exc:
        return f"cannot read file ({exc.strerror or exc})"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        if not os.access(path, os.R_OK | os.X_OK):
            return "folder cannot be read (permission denied): the files in it are not indexed"
        what = "link to a folder" if path.is_symlink() else "folder reached through a link"
        target = text_name(os.path.realpath(path))
        return f"{what} read already ({target}): its files are indexed once"
    kinds = {stat.S_ISFIFO: "a named pipe", stat.S_ISSOCK: "a socket",
             stat.S_ISCHR: "a device", stat.S_ISBLK: "a device"}
    kind = next((name for test, name in kinds.items() if test(mode)), "not a plain file")
    return f"not a document file ({kind}); not opened"


def load_metadata(corpus_dir: Path) -> dict[str, dict]:
    """metadata.toml maps a file name to its title, issuer, date and citation label."""
    path = Path(corpus_dir) / METADATA_FILE
    if not path.exists():
        return {}
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DocumentError(f"unreadable ({_short(exc)}); titles and labels fall back to file "
                            "names") from exc
    documents = data.get("documents", {})
    if not isinstance(documents, dict) or not all(isinstance(v, dict) for v in documents.values()):
        raise DocumentError("[documents] must map file names to tables; metadata ignored")
    return dict(documents)


def corpus_metadata(corpus_dir: Path) -> tuple[dict[str, dict], list[Skipped]]:
    """metadata.toml's entries, and its Skipped when it is unreadable: bad metadata must not
    stop the documents themselves (they fall back to their own titles and file names)."""
    try:
        return load_metadata(corpus_dir), []
    except DocumentError as exc:
        return {}, [Skipped(METADATA_FILE, str(exc))]


# Seconds one corpus file may take to read (a 1,000-page PDF takes about 35 s here): past it
# the file is named and the ingest goes on, so a file that sends a reader into a loop (a
# damaged PDF, a style based on itself) never stalls the whole build.
FILE_TIME_LIMIT_S = 600


class _TooSlow(BaseException):
    """Raised by the timer inside a reader. Not an Exception: readers (pypdf) catch those."""


@contextmanager
def _time_limit(seconds: float):
    """Stop the block after `seconds` (a SIGALRM timer): only in the main thread of a Unix
    process, where signals are delivered; elsewhere the block runs unlimited. The timer fires
    again every second after that (at the same pace where `seconds` is shorter): a C parser
    that calls back into Python (lxml, under BeautifulSoup) may swallow the first stop."""
    if seconds <= 0 or not hasattr(signal, "setitimer") or \
            threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(_signum, _frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds, min(seconds, 1.0))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def read_corpus_file(corpus_dir: Path, path: Path, metadata: dict[str, dict],
                     pages: Callable[[Path, int, int], None] | None = None,
                     time_limit: float = FILE_TIME_LIMIT_S) -> Document | Skipped:
    """One file of the corpus folder as a Document, or a Skipped saying why it is not indexed
    (unsupported, unreadable, or not read within `time_limit` seconds): a bad file never
    raises, so it never stops the others."""
    name = corpus_name(corpus_dir, path)
    reason = not_a_file(path)
    if reason:
        return Skipped(name, reason)
    reason = unsupported_reason(path)
    if reason:
        return Skipped(name, reason, "unsupported")
    on_page = (lambda done, total: pages(path, done, total)) if pages else None
    try:
        with _time_limit(time_limit):
            # Keyed by the file's path in the folder ("HR/gifts.docx", for files of one name
            # in two folders), else by its name.
            return read_document(path, metadata.get(name, metadata.get(path.name)), on_page)
    except _TooSlow:
        return Skipped(name, f"not read within {time_limit:g} s (stopped; a damaged file, or one "
                             "too large to read here)")
    except DocumentError as exc:
        return Skipped(name, str(exc))
    except OSError as exc:
        return Skipped(name, f"cannot read file ({exc.strerror or exc})")
    except Exception as exc:  # one bad file must never stop the others
        return Skipped(name, f"unexpected error ({type(exc).__name__}: {exc})")


def admit(doc: Document, name: str, docs: list[Document], seen: dict[str, str]) -> Skipped | None:
    """The corpus-wide rules for a document read, against those before it in corpus order
    (`docs`, and `seen`: sha256 -> file name): the same bytes twice are indexed once, as the
    first file (the later one is a duplicate, returned as its Skipped); a doc_id already taken
    (the same stem in two folders or with two extensions) gets the extension, then a number.
    An admitted document is appended to `docs`. The order matters, so one-process ingest and the
    finalising worker of a shared one (ingest.py) both apply it file by file in corpus order."""
    if doc.sha256 in seen:
        return Skipped(name, f"duplicate of {seen[doc.sha256]} (indexed once)", "duplicate")
    taken = {d.doc_id for d in docs}
    base, n = doc.doc_id, 1
    while doc.doc_id in taken:  # same stem in two folders or with two extensions
        n += 1
        doc.doc_id = f"{base}{Path(name).suffix.lower()}" if n == 2 else f"{base}-{n}"
    if n > 1:
        _label_apart(doc, name, base, docs)
    seen[doc.sha256] = name
    docs.append(doc)
    return None


def _label_apart(doc: Document, name: str, stem: str, docs: list[Document]) -> None:
    """Documents that share a file stem (a policy's .docx beside its .pdf and .html on a shared
    drive) are cited by their file names, "policy-4.12.pdf" and "policy-4.12.docx", where each
    would otherwise be cited "policy-4.12" and a memo could not say which. Labels set in
    metadata.toml stay as set. Files of one name in two folders ("HR/gifts.docx",
    "Clinical/gifts.docx") are each cited by their path in the corpus folder: the first, cited
    "gifts.docx" while it stood alone, would otherwise be the ambiguous one."""
    for other in docs:
        if other.label == stem and Path(other.path).stem == stem:
            other.label = Path(other.path).name
    if doc.label == stem:
        file_name = Path(name).name
        same = [d for d in docs if Path(d.path).name == file_name]
        for other in same:
            if other.label == file_name:  # not a label metadata.toml set
                other.label = _corpus_name(other, doc, name)
        doc.label = name if same or file_name in {d.label for d in docs} else file_name


def _corpus_name(other: Document, doc: Document, name: str) -> str:
    """`other`'s path in the corpus folder, found as `doc`'s (whose path there is `name`): both
    are that folder joined with their names (corpus_files). A worker of a shared ingest may have
    read `other` under another mount: its folder and file name then stand in."""
    folder = doc.path[: len(doc.path) - len(name)]
    if doc.path.endswith(name) and other.path.startswith(folder):
        return other.path[len(folder):]
    return Path(other.path).parent.name + "/" + Path(other.path).name


def load_corpus(
    corpus_dir: Path,
    progress: Callable[[Path], None] | None = None,
    pages: Callable[[Path, int, int], None] | None = None,
) -> tuple[list[Document], list[Skipped]]:
    """Read every file of the folder; each one not indexed is in `skipped` with its status and
    reason (unsupported, unreadable, duplicate), and a bad file never stops the rest.

    progress(path) is called before each file (as before); the optional pages(path, done, total)
    as a PDF's pages are read, so a caller can show "page 40/117" for a large file.
    """
    corpus_dir = check_corpus_dir(corpus_dir)
    metadata, skipped = corpus_metadata(corpus_dir)
    docs: list[Document] = []
    seen: dict[str, str] = {}
    for path in corpus_files(corpus_dir):
        if progress:
            progress(path)
        result = read_corpus_file(corpus_dir, path, metadata, pages)
        dropped = result if isinstance(result, Skipped) else admit(
            result, corpus_name(corpus_dir, path), docs, seen)
        if dropped:
            skipped.append(dropped)
    return docs, skipped


def check_corpus_dir(corpus_dir: Path) -> Path:
    """The corpus folder as a Path, or DocumentError when it is missing, not a folder or not
    readable by this user."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        what = "is not a folder" if corpus_dir.exists() else "not found"
        raise DocumentError(f"corpus folder {what}: {corpus_dir}")
    if not os.access(corpus_dir, os.R_OK | os.X_OK):
        raise DocumentError(f"corpus folder cannot be read (permission denied): {corpus_dir}")
    return corpus_dir

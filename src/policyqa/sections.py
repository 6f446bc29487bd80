"""Stage 2: the document's own structure (parts, headings, numbered and lettered items) as a tree.

General heuristics, not keyed to any one file:
- Upper-case Roman parts ("IV. ...") and stand-alone ALL-CAPS lines are top-level headings; when the
  document has a table of contents, ALL-CAPS lines that match an entry are chapters (with the page the
  contents give) and the others are sub-headings.
- Short Title-Case lines (or "Heading:" lines) followed by body text are sub-headings; in a PDF
  (or Markdown wrapped at a column) the body may be a paragraph wrapped mid-sentence (its next
  line starts in lower case), and then the heading must be words, not a formula or a caption.
- Enumerated items ("A.", "1.", "1)", "a.", "(i)") nest in the order their styles first appear, as a
  reader infers it: a style already open closes everything below it and starts a sibling.
- Numbered headings ("1 Overview", "2.1 Scope", "Section 4.2", "Article II", "Appendix A") nest
  by their number's depth; a bare number is a heading only when it continues the document's own
  sequence ("55 Lake Avenue" after nothing numbered is an address, not chapter 55), and a first
  "1 Introduction" needs text after it or its entry in the table of contents. A hand-numbered
  chapter "2. Gifts" holds its "2.1 ..." sub-headings, and its list goes on after them ("3.").
  "Section 4" stands under an "Article" and over the "4.1", "4.2" numbered in it.
- A numbered line is a list item, not a heading, when the next line is another item of the same
  list: a heading introduces content, a list item does not ("1. Ethics" "2. Compliance"...).
  A short one in sentence case ("2. Policy statement") heads the text after it when the line
  before it in its list is a heading ("1. Purpose"), or it starts its list and a paragraph
  follows; after an item of its list it is an item.
- A "Heading:" line that introduces a list ends with it: unindented text after the list belongs
  to the enclosing section, as a reader takes a closing paragraph after "Honesty: 1. 2. 3.".
- A heading directly followed by another heading is their parent: the sub-headings that follow
  nest under it until a heading of a higher level comes.
- A Markdown file with no heading markup beyond one title has its headings typed in bold: a
  short bold line standing as a paragraph of its own (`Document.bold_lines`) is a heading.
- A Markdown code block (`Document.md_code`) is text as written, line by line in the section it
  stands in: its "# comment" or "1. step" lines are neither headings nor items. So is a block
  quote or a footnote (`Document.md_plain`): what it holds is another text's words, or a
  note, not this one's structure.
- A format that states its structure (Word styles, HTML h1-h6, see `Document.blocks`) is taken
  as stated, not inferred (a Word Title never adopts the Heading 1 after it).
- A PDF's lines carry no blank line between paragraphs: a line starts a paragraph when the line
  before stops short of the margin and this one starts as a sentence does, so a paragraph after
  a list is the section's, not the last item's; a heading may stand before a short closing
  sentence (six words or more).
- A PDF's unnumbered headings set in a heading's font (`Document.bold_sizes`) nest by type size,
  the largest on top, as Word's Heading 1 is set larger than its Heading 2; Title-Case lines and
  run-in "Label:" sections not in such a font stand below them all. A heading line directly
  over a smaller one (its first sub-heading) is a heading too, not a title's first line, and
  two lines in one heading font over a paragraph are one heading that wrapped.
- An initial ("J. Doe", French "M. Gagné") is a name, not a lettered item: its letter starts no
  list ("A.") and goes on none.
- Numbers say what indents do not: an item follows the open one numbered one less, a "1."
  under a numbered heading of its style starts a list inside it ("3. Procedure" / "1. Thank
  the client"), and "2.0" is chapter 2. A format's numbered list items that read as headings,
  over text, in a list that goes on after it, are headings ("I. PURPOSE", "A. Assessing the
  threat": Word users number headings so).
- Not sections: a template's "Label: value" field lines, a subtitle under the title, a
  revision table's "2.0 01/2019 ..." rows, and a table of contents, whose lines are "contents"
  paragraphs that no chunk holds.

A title heading that holds the whole document and names it (`Structure.title`) is left out of
the cited paths under it, and its chapters count as the top-level sections.

ALL-CAPS headings are displayed in the case the contents list gives them, else in title case
(acronyms the document writes in capitals elsewhere stay so); in a citation path a long ancestor
label is shortened to its marker or first words (see `Structure.path_text`).
"""

from __future__ import annotations

import bisect
import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .documents import BULLET_MARKS, Document, labelled_title, touches
from .formats import looked_heading_level, number_parts, size_depths
from .languages import ENGLISH, function_words, language_of
from .normalize import normalize, unaccented

SEP = " \u203a "  # " › "

_BULLET = re.compile(rf"[ \t]*(?:[{re.escape(BULLET_MARKS)}][ \t]+)?")
# An item's marker at the start of a line: "a.", "b)", "(iii)", "IV.", "ii.", "12)". Also what
# chunks.split_sentences skips, so a marker's dot never ends a sentence.
MARKER = re.compile(
    r"(?:\((?P<pm>[A-Za-z]|\d{1,3}|[ivxlc]{1,6})\)|(?P<m>[IVXLC]{1,6}|(?=[ivx]{2})x{0,3}"
    r"(?:ix|iv|vi{0,3}|i{0,3})|[A-Za-z]|\d{1,3})(?P<p>[.)]))"
    r"[ \t]+(?=[^\s:;,])"  # an item's text does not open with a colon ("v. : No. 07-1315")
)
_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(?=\S)")
_MD_UNDERLINE = re.compile(r"(=+|-+)[ \t]*$")  # a setext heading's underline ("Scope\n-----")
# "Appendix A", "Annex B": after a word, one letter numbers a heading too.
_NUMBERED = re.compile(
    r"(?:(?P<word>Section|Article|Chapter|Part|Appendix|Annex|Schedule|Title)[ \t]+)?"
    r"(?P<num>\d{1,2}(?:\.\d{1,2}){0,4}|[IVXLC]{1,6}|(?<=[a-z][ \t])[A-Z](?!\w))\.?"
    r"(?:[ \t]*[:\u2013\u2014-][ \t]*|[ \t]+|$)(?P<title>\S.*)?$", re.I)
_TOP_WORDS = {"article", "chapter", "part", "appendix", "annex", "schedule", "title"}
_DATED = re.compile(r"\d{1,4}[/.-]\d{1,4}\b")  # a date: "01/2019", "03.15.2024", "2024-06"
# "1 Overview", "2.1. Scope", "II. Scope" (a Roman numeral needs its dot: "CIVIL RIGHTS" is words)
_CHAPTER_NUMBER = re.compile(r"(?:\d+(?:\.\d+)*\.?|[IVXLC]{1,6}\.)\s")
ANCESTOR_LABEL = 40  # characters of an ancestor's label before a citation path shortens it
PATH_BUDGET = 80  # characters of a citation's section path before ancestors are elided
# A contents line: its title, then a tab, dot leaders ("....", TeX's ". . . .") or a gap, then
# the page.
_TOC_LINE = re.compile(
    r"^\s*(?P<title>\S.*?)(?:\t+|\s*(?:\.[ \t]?){3,}\s*|\s{2,})(?P<page>\d{1,4})?\s*$")
_TOC_HEAD = re.compile(r"^\s*(table of )?contents\s*$", re.I)
# A chapter's line in TeX's contents: its number, its title, its page after a single space, no
# leaders ("10 Files 93"); only read as such inside the contents.
_TOC_CHAPTER = re.compile(r"^\s*(?P<title>\d{1,3}\s+\S.*?)\s(?P<page>\d{1,4})\s*$")
# A contents entry's chapter number ("10 Files"): an ALL-CAPS chapter heading ("FILES") is set
# without it.
_ENTRY_NUMBER = re.compile(r"^\d+\.?\s+")
_SMALL = {
    "a", "an", "and", "as", "at", "but", "by", "for", "from", "in", "into", "of", "on", "or",
    "the", "to", "via", "with", "vs", "per", "is", "are", "be",
}
_ROMAN = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}


def roman_value(token: str) -> int | None:
    token = token.upper()
    if not token or any(c not in _ROMAN for c in token):
        return None
    total = 0
    for i, c in enumerate(token):
        v = _ROMAN[c]
        total += -v if i + 1 < len(token) and _ROMAN[token[i + 1]] > v else v
    return total


@dataclass
class Section:
    """A node of the section tree. `start`..`end` covers the heading line and everything under it."""

    id: int
    parent: int | None
    marker: str  # "V", "5", "B", "1)", "" for unnumbered headings
    title: str  # heading text ("Medication Collaboration and Support"), "" for body items
    kind: str  # "root" | "heading" | "item"
    start: int
    end: int
    heading_end: int  # end of the line that opened the section
    depth: int = 0  # 0 for the root, 1 for top-level sections
    toc_page: int | None = None
    children: list[int] = field(default_factory=list)
    display: str = ""  # the title as cited: an ALL-CAPS title in contents-list or title case
    numbered: bool = False  # a numbered heading ("2.1 Scope"): its marker is shown as written

    @property
    def label(self) -> str:
        title = self.display or self.title
        if title and (not self.marker or len(title.split()) <= 8):
            if not self.marker:
                return title
            plain = self.numbered or self.marker.endswith(")")
            return f"{self.marker} {title}" if plain else f"{self.marker}. {title}"
        return self.marker or title

    @property
    def short_label(self) -> str:
        """The label as an ancestor in a long path: the marker alone where there is one, else
        the title's first words."""
        if self.marker:
            return self.marker
        words = (self.display or self.title).split()
        return " ".join(words[:4]) + ("\u2026" if len(words) > 4 else "")


def _cut_words(text: str, limit: int) -> str:
    """The text's first words within `limit` characters, with "…" when some were cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:\u2013-")
    return cut + "\u2026"


@dataclass
class Paragraph:
    """A unit of reading: one item, heading or body paragraph, in canonical-text offsets."""

    start: int
    end: int
    section: int
    kind: str  # "heading" | "item" | "body"


@dataclass
class Structure:
    sections: list[Section]
    paragraphs: list[Paragraph]
    # The document's title heading, where one holds the whole document (see _title_heading):
    # the citation already names the document, so the paths under it leave it out.
    title: int | None = None

    def path(self, section_id: int) -> list[Section]:
        """Every section from the top down to this one (the title heading included)."""
        out = []
        node: int | None = section_id
        while node is not None and self.sections[node].kind != "root":
            out.append(self.sections[node])
            node = self.sections[node].parent
        return out[::-1]

    def cited_path(self, section_id: int) -> list[Section]:
        """The path a citation names: without the title heading, unless it is the section
        itself (the text under the title, before the first chapter)."""
        path = self.path(section_id)
        if len(path) > 1 and path[0].id == self.title:
            return path[1:]
        return path

    def full_path_text(self, section_id: int) -> str:
        """Every segment's full label: "III. Functions of a DMH ... › A. Advocacy › 4 › a"."""
        return SEP.join(s.label for s in self.cited_path(section_id))

    def path_text(self, section_id: int) -> str:
        """The section path as a citation shows it, short enough to paste into a memo.

        Each ancestor whose label is over ANCESTOR_LABEL characters shows its short label (its
        marker, else its first words); a path still over PATH_BUDGET keeps its first segment (the
        chapter) and its own, with "…" for the ancestors between; the section's own label is
        cut to its first words only when even that does not fit. Ancestors are shortened alike
        in every path, so a passage and its sentences name a shared chapter the same way.
        """
        path = self.cited_path(section_id)
        if not path:
            return ""
        labels = [s.label if len(s.label) <= ANCESTOR_LABEL else s.short_label for s in path[:-1]]
        labels.append(path[-1].label)
        if len(SEP.join(labels)) > PATH_BUDGET and len(labels) > 2:
            labels = [labels[0], "\u2026", labels[-1]]
        if len(SEP.join(labels)) > PATH_BUDGET:
            room = PATH_BUDGET - len(SEP.join(labels[:-1] + [""]))
            labels[-1] = _cut_words(labels[-1], max(room, 24))
        return SEP.join(labels)

    def top_level(self, section_id: int) -> int:
        """The chapter holding the section (under a title heading, the title's child)."""
        path = self.cited_path(section_id)
        return path[0].id if path else 0

    def common_ancestor(self, ids: list[int]) -> int:
        paths = [[s.id for s in self.path(i)] for i in ids]
        common = 0
        for level in zip(*paths, strict=False):
            if len(set(level)) != 1:
                break
            common = level[0]
        return common


@dataclass
class _Line:
    start: int  # offset of the content (after indentation and bullet)
    end: int
    text: str
    bulleted: bool
    indented: bool
    runs_on: bool = False  # the next line goes on with this one's sentence (starts in lower case)


def _lines(text: str) -> list[_Line | None]:
    """Lines of the text; None for blank lines."""
    out: list[_Line | None] = []
    pos = 0
    for raw in text.split("\n"):
        m = _BULLET.match(raw)
        # a table's row whose last cell is empty keeps its tab: a row, never a heading
        content = raw[m.end() :].rstrip(" ")
        if content.strip():
            bulleted = bool(m.group(0).strip())
            indented = raw[:1] in (" ", "\t") and not bulleted
            out.append(
                _Line(pos + m.end(), pos + m.end() + len(content), content, bulleted, indented)
            )
        else:
            out.append(None)
        pos += len(raw) + 1
    for line, after in zip(out, out[1:], strict=False):
        if line is not None and after is not None and not after.bulleted:
            line.runs_on = after.text[:1].islower()
    return out


def _is_caps_heading(text: str) -> bool:
    """A stand-alone line in capitals: a word of three letters or more, no formula symbols
    (a PDF's "LP ∩ H" or "P B Q" is mathematics, not a chapter), not an index entry ("SNCF, 8")."""
    letters = [c for c in text if c.isalpha()]
    if not re.search(r"[^\W\d_]{3}", text) or re.search(r",\s*\d+$", text) or any(
            unicodedata.category(c) in ("Sm", "Cc") for c in text if c not in "\t"):
        return False
    return (
        len(letters) >= 3
        and len(letters) >= 0.6 * len(text.replace(" ", ""))
        and all(c.isupper() for c in letters)
        and len(text.split()) <= 14
        and "\t" not in text
        and not _ends_clause(text)
    )


def _capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and all(c.isupper() for c in letters)


def _caps_prose(lines: list[_Line | None], width: int) -> set[int]:
    """The lines of paragraphs set in capitals, which are text, not headings: a disclaimer or a
    warning ("THIS SOFTWARE IS PROVIDED BY THE REGENTS AND CONTRIBUTORS AS IS AND" / "ANY
    EXPRESS OR IMPLIED WARRANTIES..."), once cited as ten headings, one a line. Such a paragraph
    is a run of lines in capitals, one right under the other, that wraps: three lines or more
    whose lines but the last have the words of a full line, or two whose first runs to the
    margin. Headings stop short of it; one wrapped over two lines ends on a word such as "AND"
    (_caps_wraps), and "CHAPTER" / "ONE" / "ABOUT THIS MANUAL" are short lines. A short line
    right over such a paragraph ("DISCLAIMER") is not of it."""
    out: set[int] = set()
    i = 0
    while i < len(lines):
        k = i
        while k < len(lines) and lines[k] is not None and not lines[k].bulleted \
                and _capitals(lines[k].text):
            k += 1
        # a short line over the paragraph ("DISCLAIMER") may be its heading
        first = next((j for j in range(i, k) if len(lines[j].text.split()) >= 6), k)
        run = lines[first:k]
        if len(run) >= 3 and all(len(line.text.split()) >= 6 for line in run[:-1]) or \
                len(run) == 2 and _runs_to_margin(run[0], width):
            out.update(range(first, k))
        i = max(k, i + 1)
    return out


def _runs_to_margin(line: _Line, width: int) -> bool:
    """A line of wrapped text: it runs to the margin of lines of 40 characters or more, has
    the words of a full line, and ends no sentence."""
    return (width >= 40 and len(line.text) >= 0.75 * width and len(line.text.split()) >= 6
            and line.text.rstrip()[-1:] not in ".!?:")


def _breaks_off(line: _Line | None) -> bool:
    """A line of text that stops mid-sentence, on a lower-case word or a comma ("deletion from,
    or modification of the contents of Covered"): the line under it goes on with the sentence,
    however title-like its words ("Software; or"), and is no heading. Not in a PDF, whose
    lines run on from page headers and captions that end on any word."""
    return (line is not None and len(line.text.split()) >= 6
            and re.search(r"[a-z,]$", line.text) is not None)


# Words no sentence ends on (articles, conjunctions, prepositions that need their object)
_DANGLING = frozenset("the a an and or nor of to with for from by than whose into onto upon".split())


def _dangles(line: _Line | None) -> bool:
    """A line that stops on a word no sentence ends on ("...in your main agreement with us — the"):
    the line under it goes on with the sentence, however title-like ("GitHub Terms of Service or
    GitHub Customer Agreement"), in any format: no page header or caption ends so."""
    words = line.text.split() if line is not None else []
    return bool(words) and words[-1] in _DANGLING


# Words a number follows in a sentence that refers to a part of a document
_REFERS = {"section", "sections", "subsection", "paragraph", "paragraphs", "clause", "clauses",
           "article", "articles", "item", "items", "step", "steps", "part", "parts", "page",
           "pages", "chapter", "appendix", "exhibit", "schedule", "rule", "rules"}


def _cross_reference(prev: _Line | None, m: re.Match) -> bool:
    """A number opening a line that ends a reference the line above breaks off ("any conditions
    added under section" / "7.  This requirement modifies..."): the sentence goes on, and the
    number is no item's. GPL 3's wrapped text had an item 7 under 5 › b)."""
    token = m.group("m") or ""
    return (token.isdigit() and _breaks_off(prev)
            and prev.text.rsplit(None, 1)[-1].lower() in _REFERS)


def _bare_title(text: str) -> str:
    """A heading line as its title: without the colon that leads into its text, nor the space
    before that colon ("Objet :", "Petitioner :")."""
    return text.strip().rstrip(":").rstrip()


def _ends_clause(text: str) -> bool:
    """A line ending as a sentence or a clause does ("...", "Knowles,"), however a colon or
    spaces follow: a court caption's "MICHAEL A. KNOWLES, :" is a party's name before the
    caption box's rule, not a heading, where "Scope:" and French "Objet :" are headings."""
    return _bare_title(text).endswith((".", ",", ";"))


def _is_title_heading(text: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'\u2019-]*", text)
    if not words or len(text.split()) > 16 or "\t" in text or re.search(r"\.{3,}", text):
        return False
    if _ends_clause(text) or text.count(",") > 1 or not text[0].isupper():
        return False
    if re.search(r"\d\s*$", text) or re.search(r"\(\d{4}\)", text):
        return False
    significant = [w for w in words if w.lower() not in _SMALL]
    if not significant:
        return False
    capital = sum(1 for w in significant if w[0].isupper())
    return capital / len(significant) >= 0.75


# "Owner: Director of Clinical Services": a field of a template's header block, its label, a
# colon, its value.
_FIELD = re.compile(r"[A-Z][A-Za-z&/'\u2019 -]{0,30}:[ \t]+\S")


# A field after another on the same line, a gap or a separator between them ("Policy number:
# FIN-204   Effective: July 1, 2024", "Owner: Finance | Reviewed: 2024").
_NEXT_FIELD = re.compile(r"(?:\s{2,}|\s?[|\u00b7\u2022;]\s?)[A-Z][A-Za-z&/'\u2019 -]{0,30}:[ \t]+\S")


def _among_fields(lines: list[_Line | None], i: int) -> bool:
    """Line i is a "Label: value" field with another field right above or below it, or beside
    it on the line: the header block a policy template opens with ("Policy Number: 2.20" /
    "Effective Date: ..." / "Owner: Director of Clinical Services", a table a PDF gives as lines;
    a web page's "Policy number: FIN-204   Effective: July 1, 2024   Owner: Finance Director" on
    one line, printed to PDF). Such a line is no heading, though its words are capitalised as a
    title's are ("Appendix A: Forms" alone is)."""
    line = lines[i].text
    if not _FIELD.match(line):
        return False
    near = [lines[j] for j in (i - 1, i + 1) if 0 <= j < len(lines) and lines[j] is not None]
    return bool(_NEXT_FIELD.search(line)) or any(_FIELD.match(x.text) for x in near)


_WORDY = re.compile(r"[^\W_][\w\s'\u2019&/,()\u2013-]*")


def _wordy(text: str) -> bool:
    """Words only (letters, digits, spaces, light punctuation), one of three letters or more."""
    text = text.strip().rstrip(":")
    return bool(_WORDY.fullmatch(text)) and re.search(r"[^\W\d_]{3}", text) is not None


def _line_width(lines: list[_Line | None]) -> int:
    """The length of a full line of the document's text, in characters: its 95th percentile
    (the longest line of a short text, where few lines run to the margin)."""
    lengths = sorted(len(line.text) for line in lines if line is not None)
    return lengths[-max(1, len(lengths) // 20)] if lengths else 0


def _starts_paragraph(prev: _Line | None, line: _Line, width: int) -> bool:
    """In a PDF's lines (no blank line between paragraphs), `line` begins a new paragraph when
    the line before stops short of the full width and this one starts as a sentence does: a
    paragraph's last line ("worker alone, and the supervisor signs the plan.") or a list item
    is short, while a line the page wrapped runs to the margin. The short line must end a
    sentence, or this one must itself run to the margin (a paragraph, not a formula's next
    line or a short item's second line)."""
    if not width or prev is None or not line.text[:1].isupper():
        return False
    if len(prev.text) >= 0.75 * width:
        return False
    return prev.text.rstrip()[-1:] in ".!?:;" or len(line.text) >= 0.75 * width


def _is_body(line: _Line | None, wrapped: bool = False) -> bool:
    """A line that reads as body text or starts a list: what follows a real heading. Where lines
    are wrapped (`wrapped`: a PDF's lines are the page's, Markdown is often wrapped at 80
    columns), a long line that the next line continues is body text too, wherever it breaks."""
    if line is None:
        return False
    if line.bulleted or MARKER.match(line.text):
        return True
    words = len(line.text.split())
    if wrapped and words >= 6 and line.text.rstrip()[-1] in ".?!:":
        return True  # a short closing paragraph ("The committee reviews it every year."), or
        # one that leads into a list ("Information may be disclosed without consent only:")
    if words < 10:
        return False
    return line.text.rstrip()[-1] in ".?!:\"\u201d)" or (wrapped and line.runs_on)


def _toc(lines: list[_Line | None]) -> list[tuple[str, int | None]]:
    """Entries of a table of contents: a run of lines ending in page numbers after a 'Contents' line."""
    return _toc_block(lines)[0]


def _toc_block(lines: list[_Line | None]) -> tuple[list[tuple[str, int | None]], set[int]]:
    """A table of contents' entries, and the indices of its lines (its "Contents" line too).

    A long one runs over several pages: after a blank line (a page break) it goes on while the
    next line is an entry with its page ("4.2 Package relationships . . . 20"), as it does over a
    long entry's first line, wrapped before its page; the first line that is neither ends it."""
    for i, line in enumerate(lines):
        if line is None or not _TOC_HEAD.match(line.text):
            continue
        entries: list[tuple[str, int | None]] = []
        at = {i}
        for k, nxt in enumerate(lines[i + 1 :], start=i + 1):
            if nxt is None:
                if entries and not _toc_resumes(lines, k):
                    break
                continue
            m = _TOC_LINE.match(nxt.text) or _TOC_CHAPTER.match(nxt.text)
            if m:
                entries.append((m.group("title").strip(" ."), int(m.group("page") or 0) or None))
            elif (len(nxt.text.split()) <= 8 or _toc_resumes(lines, k)) \
                    and not nxt.text.endswith("."):  # a chapter's line, or an entry wrapped
                entries.append((nxt.text.strip(" ."), None))
            else:
                break
            at.add(k)
        if sum(1 for _, p in entries if p) >= 3:
            return entries, at
    return [], set()


def _toc_resumes(lines: list[_Line | None], at: int, reach: int = 3) -> bool:
    """Whether an entry with its page follows line `at` within `reach` lines (blank lines right
    after it aside): a long entry wraps over up to three lines before its page, and a page of
    the contents may open with a chapter's line ("9 The Operating System 79") before one."""
    k = at + 1
    while k < len(lines) and lines[k] is None:
        k += 1
    for line in lines[k : k + reach]:
        if line is None:
            return False
        match = _TOC_LINE.match(line.text)
        if match and match.group("page"):
            return True
    return False


def _toc_match(title: str, entries: list[tuple[str, int | None]]) -> tuple[bool, int | None]:
    key = normalize(title)
    for entry, page in entries:  # the very title first, the chapter's number aside
        if key in (normalize(entry), normalize(_ENTRY_NUMBER.sub("", entry))):
            return True, page
    for entry, page in entries:
        other = normalize(entry)
        if key.startswith(other + " "):
            return True, page
        if difflib.SequenceMatcher(None, key, other).ratio() >= 0.85:
            return True, page
    return False, None


def _split_title(rest: str) -> str:
    """The heading part of an item line: the whole line when short, else the text before a colon
    that labels it ("Honesty: staff always..."; not a step's lead-in, "preserve any evidence,
    including:", which starts in lower case)."""
    rest = rest.strip()
    head, colon, _tail = rest.partition(":")
    if colon and len(head.split()) <= 6 and head[:1].isupper():  # "Honesty: staff always..."
        return head.strip()
    if _is_title_heading(rest.rstrip(":")):
        return rest.rstrip(":")
    if rest.isupper() and len(rest.split()) <= 20:
        return rest.rstrip(".:")
    return ""


def parse_sections(doc: Document) -> Structure:
    """Parse the document's structure; every character of its text belongs to one section."""
    titles: set[int] = set()
    if doc.blocks:
        structure = _from_blocks(doc)
        starts = {b[0] for b in doc.blocks if b[2] == "title"}
        titles = {s.id for s in structure.sections if s.kind == "heading" and s.start in starts}
    else:
        structure = _from_lines(doc)
        if doc.format == "pdf":
            titles = _title_line(structure, doc.title)
    _nest_heading_runs(structure, titles)
    _set_display(doc.text, structure, _toc(_lines(doc.text)))
    letterhead = bool(doc.title) and labelled_title(doc.text) == doc.title
    structure.title = _title_heading(structure, doc.title, doc.text if letterhead else "")
    return structure


def _title_line(structure: Structure, title: str) -> set[int]:
    """A PDF's first heading where it is the document's title line, found by its type ("Visitors
    Policy" in 26 pt over "PURPOSE"): as a Word file's Title, not the head of a title block that
    the first chapter joins ("Visitors Policy › Purpose", then "Visiting Hours"). (A text file
    has no type to tell its title line from a title block's first line.)"""
    root = structure.sections[0]
    if not root.children or not title:
        return set()
    first = structure.sections[root.children[0]]
    if first.kind != "heading" or first.marker or normalize(first.title) != normalize(title):
        return set()
    return {first.id}


def _title_heading(structure: Structure, title: str, letterhead: str = "") -> int | None:
    """The heading that is the document's title: the only top-level section, unnumbered, over
    sub-headings, and naming the document (its words are the title's, or within it: "Client
    Funds" for "Client Funds - Intranet"). A PDF's or text file's title line, an HTML page's
    single h1, a Markdown "# Title" over its "##" sections: it holds everything, so in a
    citation it only repeats the document's name ("Client Funds Policy › 3. Money › 3.3
    Loans"), and as the one top-level section it would let a passage run across chapters.
    `letterhead`: the document's text, where its title is one it labels (documents.
    labelled_title): a first line that holds everything (the agency's name over the template's
    "Policy Title:" row, a memo's "MEMORANDUM" over its "RE:") is the document's head as well,
    whatever its words."""
    root = structure.sections[0]
    if len(root.children) != 1:
        return None
    top = structure.sections[root.children[0]]
    if top.kind != "heading" or top.marker or top.numbered or _CHAPTER_NUMBER.match(top.title):
        return None
    heading, name = normalize(top.display or top.title), normalize(title)
    head = bool(letterhead) and not letterhead[:top.start].strip()
    if not heading or not name or (heading not in name and name not in heading and not head):
        return None
    headings = [c for c in top.children if structure.sections[c].kind == "heading"]
    return top.id if headings else None


def _from_lines(doc: Document) -> Structure:
    text = doc.text
    lines = _lines(text)
    toc, contents = _toc_block(lines)
    markdown = doc.format == "md" or Path(doc.path).suffix.lower() in (".md", ".markdown")
    wrapped = doc.format in ("pdf", "md")  # lines may be wrapped, not whole paragraphs
    width = _line_width(lines) if doc.format == "pdf" else 0
    caps_prose = _caps_prose(lines, _line_width(lines))
    md_levels = {at: level for at, level in doc.md_headings}
    bold = _hand_headings(doc, lines, md_levels) if markdown else set()
    set_in_heading_font = _font_headings(doc, lines) if doc.format == "pdf" else {}
    marked = set(doc.bold_lines) if doc.format == "pdf" else set()  # any line in a heading font
    marked_size = dict(zip(doc.bold_lines, doc.bold_sizes, strict=False)) if marked else {}
    code = _blocks_of(lines, doc.md_code, "code") | _blocks_of(lines, doc.md_plain, "plain")
    running = set(_blocks_of(lines, doc.md_running, "running")) - set(code)
    run_ins = _run_in_labels([line.text for i, line in enumerate(lines)
                              if line and not line.bulleted and i not in code])
    root = Section(0, None, "", doc.title, "root", 0, len(text), 0)
    sections = [root]
    paragraphs: list[Paragraph] = []
    # The open path; each entry: (section id, rank or None, enumeration style or None)
    stack: list[tuple[int, int | None, str | None]] = [(0, -1, None)]
    last_value: dict[int, int] = {}  # section id -> numeric value of its marker (for Roman/alpha)
    styled: dict[int, str] = {}  # section id -> the enumeration style of its marker
    lead_ins: set[int] = set()  # "Heading:" sections that introduce a list
    group: list[int | None] = [None]  # a heading whose sub-headings follow it directly
    numbered: dict[int, int] = {}  # numbered-heading section -> its rank
    indents: dict[int, int] = {}  # section id -> the indentation of its line
    by_indent = markdown or doc.format == "txt"  # where indentation shows a list's nesting
    last_number: dict[tuple[int, ...], int] = {}  # number prefix -> last child number seen

    def open_section(marker: str, title: str, kind: str, line: _Line, rank, style,
                     parent_id: int | None = None) -> int:
        if rank is not None:
            while len(stack) > 1 and stack[-1][0] != parent_id and (
                    stack[-1][1] is None or stack[-1][1] >= rank):
                stack.pop()
        else:
            sibling = list_sibling(style, line)
            if sibling is not None:
                del stack[next(k for k, (sid, _, _) in enumerate(stack) if sid == sibling):]
        if group[0] is not None and all(sid != group[0] for sid, _, _ in stack):
            group[0] = None
        parent = stack[-1][0]
        sid = len(sections)
        sections.append(
            Section(sid, parent, marker, title, kind, line.start, line.end, line.end,
                    depth=len(stack))
        )
        sections[parent].children.append(sid)
        stack.append((sid, rank, style))
        indents[sid] = indent_of(line)
        return sid

    def indent_of(line: _Line) -> int:
        return line.start - (text.rfind("\n", 0, line.start) + 1)

    def list_sibling(style: str, line: _Line) -> int | None:
        """The open item this marker follows in its list ("2." after "1."), or None where it
        starts a list: of a new style, or, in Markdown and text files, a list of the same style
        indented under the item above ("2. Without consent, only when:" / "   1. a client is
        at risk..."), numbered afresh."""
        same = [sid for sid, _, s in stack if s == style]
        if not same:
            return None
        if by_indent:
            indent = indent_of(line)
            if indent >= indents.get(same[-1], 0) + 2:
                return None  # nested in the item above
            same = [sid for sid in same if indents.get(sid, 0) <= indent + 1] or same[:1]
        # Where indents do not tell (a PDF's lines have none; a text file's steps may stand
        # flush), the numbers do: "1. Thank the client" under the heading "3. Procedure"
        # starts a list of its own, and "4. Breaches" after step "4." follows "3. Procedure".
        value = _marker_value(line.text, style)
        follows = [sid for sid in same if value is not None and last_value.get(sid) == value - 1]
        # In a PDF the type tells where the numbers do not: "4. Gifts" in the headings' font
        # after the heading "3. Policy" and its step "3." (in the text's) follows the heading.
        alike = [sid for sid in follows if (sections[sid].start in marked) == (line.start in marked)]
        if alike:
            return alike[-1]
        if follows:
            return follows[-1]
        if value == 1 and sections[same[-1]].kind == "heading":
            return None
        return same[-1]

    def list_heading(style: str, line: _Line) -> bool:
        """Whether a short numbered or capital-lettered line in sentence case ("2. Policy
        statement", "A. Immediate response") heads the text after it, as "1. Purpose" does:
        when the line before it in its list is a heading, or it starts its list and a paragraph
        follows, or (in a PDF) it is set in a heading's font ("A. Dignity and respect" in Word's
        Heading 2 over "1. Every client..."). Not when another item follows, nor after an item
        ("1. Count the cash" / "2. Record it in the ledger" / "The supervisor signs...": the
        paragraph is the section's, after its list)."""
        if nxt is not None and _continues_list(style, nxt, stack, sections, last_value,
                                               open_style, heads_list(style, line)):
            return False
        sibling = list_sibling(style, line)
        if sibling is None:  # over a paragraph; or over a list, in a PDF's heading font
            return _paragraph_after(nxt, wrapped) or line.start in marked
        return sections[sibling].kind == "heading"

    def lead_in_item(style: str, line: _Line, rest: str) -> bool:
        """An item that leads into a sub-list after an item of its own list ("a. Hand it to the
        client" / "b. If the client is not home:" / "i. return..."): an item, not a heading
        titled by its words, as "2. Without consent, only when:" after "1. With consent" is.
        A clause of four words or more in sentence case; a label ("d) Halbgeraden:", "2.
        Education and Work Experience:") may head."""
        label = rest.strip().rstrip(":")
        if not rest.rstrip().endswith(":") or len(label.split()) < 4 or _is_title_heading(label):
            return False
        sibling = list_sibling(style, line)
        return sibling is not None and sections[sibling].kind == "item"

    def heads_list(style: str, line: _Line) -> int | None:
        """The line's number where it may head a list numbered afresh under it ("3. Procedure"
        over "1. Thank the client"): where the line before it in its list is a heading ("2.
        Policy"). None after an item of its list ("2. Without consent, only when:" after "1.
        With consent" is an item over its own sub-list) or where it is the first one seen (a
        figure's "(b) Sinus" caption over "(a) n = 1")."""
        sibling = list_sibling(style, line)
        if sibling is None or sections[sibling].kind != "heading":
            return None
        return _marker_value(line.text, style)

    def open_style(style: str) -> int | None:
        for sid, _, s in reversed(stack):
            if s == style:
                return sid
        return None

    seconds = {roman: [i for i, line in enumerate(lines)
                       if line is not None and re.match(rf"\s*\(?{roman}[.)]\s", line.text)]
               for roman in ("II", "ii")}

    def letter_nine(style: str, i: int) -> bool:
        """Line i's "I." (or "i.") is the ninth letter of a list that a paragraph interrupted
        after its "H." ("H. Hand over the receipt" / "Note: the supervisor may..." / "I. File the
        copy"), not a Roman part "I" that every later section would stand under: the list's
        section is still open, and no "II." follows in the document, nor stands before it."""
        alpha = ("UPPER" if style.startswith("ROMAN") else "LOWER") + style[5:]
        if any(s == style for s in styled.values()):
            return False
        previous = next((sid for sid in reversed(styled) if styled[sid] == alpha), None)
        second = "II" if style.startswith("ROMAN") else "ii"
        return (previous is not None and last_value.get(previous) == 8
                and any(sid == sections[previous].parent for sid, _, _ in stack)
                and not any(k > i for k in seconds[second]))

    def font_depth(line: _Line) -> int | None:
        """The depth of a PDF line's heading font by type size (None: not in one)."""
        return set_in_heading_font.get(line.start)

    def section_depth(sid: int) -> int | None:
        """font_depth of the line a section's heading stands on."""
        return set_in_heading_font.get(sections[sid].start)

    below_fonts = max(set_in_heading_font.values(), default=-1) + 1

    def font_rank(line: _Line) -> int:
        """How far below the top heading level a PDF's unnumbered heading stands by its type:
        its font's depth, or, for one not set in a heading's font (a Title-Case line, a run-in
        "Label:"), below every heading font. 0 for other formats."""
        depth = font_depth(line)
        return below_fonts if depth is None else depth

    def set_smaller(nxt: _Line | None, line: _Line) -> bool:
        """The next line is in a heading font smaller than this line's: its sub-heading."""
        return nxt is not None and (font_depth(nxt) or 0) > (font_depth(line) or 0)

    def wrapped_heading(i: int) -> bool:
        """Lines i and i + 1, next to each other, in the same heading font (the line before
        not), then a paragraph (not a list: a title page's two lines over "0. Auflage, ..."
        stay its title) or a heading set smaller ("Client Rights and" / "Responsibilities" in
        26 pt over "Client Rights" in 16 pt, itself over text, a list or a heading of its own;
        not over a title page's name and date): one heading set over two lines."""
        line, nxt = lines[i], lines[i + 1] if i + 1 < len(lines) else None
        after = lines[i + 2] if i + 2 < len(lines) else None
        depth = font_depth(line)
        beyond = lines[i + 3] if i + 3 < len(lines) else None
        under = after is not None and not MARKER.match(after.text) and (
            (_is_body(after, wrapped) and not after.bulleted)
            or ((font_depth(after) or -1) > (depth if depth is not None else 99)
                and beyond is not None and (
                    _is_body(beyond, wrapped) or MARKER.match(beyond.text) is not None
                    or font_depth(beyond) not in (None, font_depth(after)))))
        return (depth is not None and nxt is not None and font_depth(nxt) == depth
                and not (i and lines[i - 1] is not None and font_depth(lines[i - 1]) == depth)
                and not MARKER.match(nxt.text) and under)

    def heading_runs_on(i: int) -> bool:
        """A PDF's numbered heading too long for its line ("3. Intellectual Property,
        Authenticity, and Private" / "Information"): a line of over half the text's width, and
        the next in the same heading font, a few words that end no sentence and open no number
        of their own ("3. Procedure" over "In the office" in the same font are two headings)."""
        line, nxt = lines[i], lines[i + 1] if i + 1 < len(lines) else None
        if nxt is None or line.start not in marked_size or len(line.text) < width / 2 or (
                marked_size.get(nxt.start) != marked_size[line.start]):
            return False
        text = nxt.text.strip()
        return (len(text.split()) <= 6 and not nxt.bulleted and not MARKER.match(text)
                and not _NUMBERED.match(text) and not text.endswith((".", ",", ";", ":")))

    def leave_group(line: _Line) -> None:
        """A PDF heading set as large as the open group's heading (or larger) is that heading's
        sibling, not one of its sub-headings ("Records" after "Loans and Gifts" / "Loans to
        Clients" / ...)."""
        depth = font_depth(line)
        if group[0] is not None and depth is not None:
            head = section_depth(group[0])
            if head is not None and depth <= head:
                group[0] = None

    said = {line.start: " ".join(line.text.split()) for line in lines if line is not None}
    font_uses = Counter(depth for depth, _said in {  # distinct lines in each heading font
        (depth, said.get(at, "")) for at, depth in set_in_heading_font.items()})

    def shared_heading_font(line: _Line, nxt: _Line | None) -> bool:
        """A line in one of the two largest fonts that three or more of the document's
        headings share ("Purpose", "Policy", "Breaches" in 18 pt): a heading whatever stands
        under it (a table's header row under "Procedure for Releasing Records"), not the first
        of two lines in it. Not a table's bold header row repeated ("Role Responsibility")."""
        depth = font_depth(line)
        return depth is not None and depth <= 1 and font_uses[depth] >= 3 and (
            nxt is None or font_depth(nxt) != depth)

    def title_rank() -> int:
        """Title-case headings sit below any numbered heading open, one deeper in a group."""
        base = max([2] + [numbered[sid] + 1 for sid, _, _ in stack if sid in numbered])
        if group[0] is not None:
            base = max(base, next(r for sid, r, _ in stack if sid == group[0]) + 1)
        return base

    def subtitle(line: _Line, nxt: _Line | None) -> bool:
        """A line right under the document's title, before any text, over a numbered heading
        ("HOME VISITS SAFETY PROCEDURE" / "Procedure 5.08 – Community Services" / "1. PURPOSE"):
        the title's second line, not a section that every other one would sit under."""
        return (bool(paragraphs) and all(p.kind == "heading" for p in paragraphs)
                and normalize(sections[paragraphs[-1].section].title) == normalize(doc.title)
                and nxt is not None and MARKER.match(nxt.text) is not None
                and not nxt.text.rstrip().endswith((".", ";", ":", ",")))

    prev_body: Paragraph | None = None
    continued: set[int] = set()  # lines that finish the heading above them
    for i, line in enumerate(lines):
        if line is None:
            prev_body = None
            continue
        if i in continued:
            continue
        if i in contents:  # a table of contents: its lines, no heading nor passage of text
            paragraphs.append(Paragraph(line.start, line.end, stack[-1][0], "contents"))
            prev_body = None
            continue
        if i in code:  # a code block, quote or note: a paragraph of the section it stands in
            if prev_body is not None and code.get(i - 1) == code[i]:
                prev_body.end = line.end
            else:
                prev_body = Paragraph(line.start, line.end, stack[-1][0], "body")
                paragraphs.append(prev_body)
            continue
        if i in running and prev_body is not None:  # a Markdown paragraph goes on
            prev_body.end = line.end
            continue
        following = [x for x in lines[i + 1 : i + 40] if x is not None][:2]
        nxt = following[0] if following else None
        nxt2 = following[1] if len(following) > 1 else None
        sid: int | None = None
        kind = "body"
        # In a PDF a heading may be followed by a paragraph wrapped at any word; only words
        # make such a heading (not "C := (s + E)", a formula, or "Figure 4.2: ...", a caption).
        wrapped_body = wrapped and _wordy(line.text)
        md = _typed_heading(line, md_levels, doc.format == "txt")
        setext = (markdown or doc.format == "txt") and _setext_level(lines, i, not markdown)
        m = None if (setext or md) else MARKER.match(line.text)
        if m and _initial(m, stack, sections, last_value, styled, open_style):
            m = None  # "J. Doe, Executive Director": a name, not item J of a list
        elif m and doc.format != "pdf" and _cross_reference(lines[i - 1] if i else None, m):
            m = None  # "...added under section" / "7.  This requirement...": not item 7
        num = None if (md or m or setext) else _numbered_heading(
            line, nxt, last_number, toc, line.start in marked)
        if setext:
            underline = lines[i + 1]
            line = _Line(line.start, underline.end, line.text, line.bulleted, line.indented)
            continued.add(i + 1)
            sid = open_section("", line.text.strip(), "heading", line, setext - 1, None)
            kind = "heading"
        elif md:
            sid = open_section("", md[1], "heading", line, md[0] - 1, None)
            kind = "heading"
        elif m:
            token = m.group("pm") or m.group("m")
            rest = line.text[m.end() :]
            style, marker = _style(token, m.group("p") or "()", stack, sections, last_value,
                                   open_style)
            if style.lower().startswith("roman") and token in ("I", "i") and letter_nine(
                    style, i):
                style, marker = ("UPPER" if token == "I" else "LOWER") + style[5:], marker
            rank = 0 if style == "ROMAN." and not line.bulleted else None
            title = _split_title(rest)
            whole = bool(title) and title == rest.strip().rstrip(":")
            if heading_runs_on(i) and font_depth(lines[i + 1]) is not None:
                # its second line in a heading's font too: a heading, however long
                rest = f"{rest} {lines[i + 1].text.strip()}"
                whole, title = True, _bare_title(rest)
                line = _Line(line.start, lines[i + 1].end, line.text, line.bulleted, line.indented)
                continued.add(i + 1)
            elif whole and rank is None and (nxt is None or _continues_list(
                    style, nxt, stack, sections, last_value, open_style,
                    heads_list(style, line)) or lead_in_item(style, line, rest)):
                whole, title = False, ""  # an item of a list, however title-like
            elif not whole and rank is None and style.startswith(("ARABIC", "UPPER")) and \
                    not line.bulleted and not line.runs_on and _short_heading(rest, line, width) \
                    and list_heading(style, line):
                whole, title = True, _bare_title(rest)  # "2. Policy statement" over its text
            kind = "heading" if whole else "item"
            if markdown and style.startswith("ARABIC") and token.isdigit():
                sibling = list_sibling(style, line)
                if sibling is not None and last_value.get(sibling, 0) >= int(token):
                    marker = str(last_value[sibling] + 1)  # "1. 1. 1." renders as 1, 2, 3
                    token = marker
            value = _token_value(token, style)
            if rank is None and value and open_style(style) is None:
                _resume_list(style, value, stack, sections, styled, last_value, numbered)
            sid = open_section(marker, title, kind if rank is None else "heading", line, rank,
                               style)
            styled[sid] = style
            last_value[sid] = value or 0
        elif run_ins and not line.bulleted and (label := _run_in_label(line.text, run_ins)):
            # "PURPOSE: To describe...": the label is the section's heading, the rest its text
            # (a sub-section of any heading open above it, as a Title-Case heading is)
            head = _Line(line.start, line.start + len(label) + 1, label, False, False)
            sid = open_section("", label, "heading", head, title_rank() + font_rank(line), None)
            paragraphs.append(Paragraph(head.start, head.end, sid, "heading"))
            rest = line.start + len(line.text) - len(line.text[len(label) + 1:].lstrip())
            prev_body = Paragraph(rest, line.end, sid, "body")
            paragraphs.append(prev_body)
            continue
        elif _is_caps_heading(line.text) and not line.bulleted and i not in caps_prose:
            # "CHAPTER" / "ONE" / "ABOUT THIS MANUAL": one heading, titled by its last line;
            # and a title wrapped after "AND" or "IN" ("COPYING IN" / "QUANTITY"): one title
            first = _chapter_label(lines, i)
            last = i if first is None else first
            if _caps_wraps(lines[last], lines[last + 1] if last + 1 < len(lines) else None):
                last += 1
            title = " ".join(lines[k].text.strip()
                             for k in range(i if first is None else first, last + 1))
            if last > i:
                line = _Line(line.start, lines[last].end, line.text, line.bulleted, line.indented)
                continued.update(range(i + 1, last + 1))
            in_toc, page = _toc_match(title, toc) if toc else (True, None)
            sid = open_section("", _bare_title(title), "heading", line,
                               0 if in_toc else 1, None)
            sections[sid].toc_page = page
            kind = "heading"
        elif num is not None:
            marker, title, rank, kind = num
            if kind == "heading" and i + 1 < len(lines) and (
                    _continues_heading(title, lines[i + 1]) or heading_runs_on(i)):
                tail = lines[i + 1]
                title = f"{title} {tail.text.strip()}"
                line = _Line(line.start, tail.end, line.text, line.bulleted, line.indented)
                continued.add(i + 1)
            sid = open_section(marker, title, kind, line, rank, None,
                               _listed_parent(marker, stack, sections))
            sections[sid].numbered = True
            if kind == "heading":
                numbered[sid] = rank
        elif wrapped_heading(i):
            # a PDF heading too long for one line ("Procedures for handling client money and"
            # / "valuables"): both lines in the same heading font, over a paragraph; one heading
            # (not a heading and its sub-heading, nor no heading at all)
            title = f"{line.text.strip()} {nxt.text.strip()}"
            line = _Line(line.start, nxt.end, line.text, line.bulleted, line.indented)
            continued.add(i + 1)
            leave_group(line)
            sid = open_section("", _bare_title(title), "heading", line,
                               title_rank() + font_rank(line), None)
            kind = "heading"
        elif line.start in bold and nxt is not None:
            sid = open_section("", _bare_title(line.text), "heading", line, title_rank(),
                               None)
            kind = "heading"
        elif (
            not line.bulleted
            and _is_title_heading(line.text)
            and i not in caps_prose
            and not (doc.format != "pdf" and _breaks_off(lines[i - 1] if i else None))
            and not _dangles(lines[i - 1] if i else None)
            and not _among_fields(lines, i)
            and not subtitle(line, nxt)
            and (_is_body(nxt, wrapped_body) or (nxt is not None and _is_title_heading(nxt.text)
                                                 and _is_body(nxt2, wrapped_body)))
        ):
            leave_group(line)
            sid = open_section("", _bare_title(line.text), "heading", line,
                               title_rank() + font_rank(line), None)
            kind = "heading"
            if _is_title_heading(nxt.text) and not _is_body(nxt, wrapped):
                group[0] = sid  # "Recommendations" then "Documentation": a parent heading
            if line.text.rstrip().endswith(":") and (nxt.bulleted or MARKER.match(nxt.text)):
                lead_ins.add(sid)
        elif (line.start in set_in_heading_font
              and not _dangles(lines[i - 1] if i else None)
              and (_is_body(nxt, wrapped_body)
                   or (set_smaller(nxt, line) and (_is_body(nxt2, wrapped_body)
                                                   or set_smaller(nxt2, nxt)))
                   or shared_heading_font(line, nxt))
              and not (i and lines[i - 1] is not None
                       and font_depth(lines[i - 1]) == font_depth(line))):
            # a PDF's "Loans to clients" in a heading's font over its paragraph, or over its
            # first sub-heading set smaller: a sentence-case heading, which no rule on the words
            # alone tells from text (not the second line of a title set in that font over two
            # lines); nested by type size, the larger above
            leave_group(line)
            sid = open_section("", _bare_title(line.text), "heading", line,
                               title_rank() + font_rank(line), None)
            kind = "heading"

        if sid is None:
            if prev_body is not None and not line.bulleted and not (
                    wrapped and _starts_paragraph(lines[i - 1], line, width)):
                prev_body.end = line.end  # a wrapped line continues its paragraph
                continue
            if not line.indented and not line.bulleted:
                # Unindented text after a list belongs to the heading above the list, or above
                # a "Heading:" that only introduced the list.
                popped_item = False
                while len(stack) > 1 and sections[stack[-1][0]].kind == "item":
                    stack.pop()
                    popped_item = True
                while popped_item and len(stack) > 1 and stack[-1][0] in lead_ins:
                    stack.pop()
            sid = stack[-1][0]
            para = Paragraph(line.start, line.end, sid, "body")
        else:
            para = Paragraph(line.start, line.end, sid, kind)
        paragraphs.append(para)
        prev_body = para if para.kind in ("body", "item") else None

    _close_spans(sections, paragraphs, len(text))
    return Structure(sections, paragraphs)


def _blocks_of(lines: list[_Line | None], spans: list[list[int]], kind: str
               ) -> dict[int, tuple[str, int]]:
    """The index of each line in one of the spans (sorted, disjoint: `Document.md_code`,
    `md_plain`), and which: (kind, the span's start)."""
    found = {}
    for i, line in enumerate(lines):
        if line is not None and touches(spans, line.start):
            n = bisect.bisect_right(spans, line.start, key=lambda span: span[0]) - 1
            found[i] = (kind, spans[n][0])
    return found


def _typed_heading(line: _Line, levels: dict[int, int], plain: bool = False
                   ) -> tuple[int, str] | None:
    """(level, title) of a Markdown heading: one the reader found (`Document.md_headings`, its
    "#" marks already left out of the text), or one still written "## Title" in a .txt file
    (`plain`). Not a "# ..." line elsewhere: in a PDF it is a shell or config comment ("# This
    file was automatically generated by the"), in Markdown one in a code block."""
    if line.start in levels:
        return levels[line.start], line.text.strip()
    md = _MD_HEADING.match(line.text) if plain else None
    return (len(md.group(1)), line.text[md.end():].strip().rstrip("#").strip()) if md else None


def _hand_headings(doc: Document, lines: list[_Line | None], levels: dict[int, int]) -> set[int]:
    """Markdown lines set wholly in bold that read as headings ("**Loans to clients**": short,
    not a sentence), where the file has no heading markup beyond one title: its headings were
    typed in bold, as in Word files and web pages with none (formats.looked_heading_level).
    Where "#" headings structure the file, a bold line is only emphasis."""
    starts = set(doc.bold_lines)
    if not starts:
        return set()
    marked = sum(1 for i, line in enumerate(lines)
                 if line is not None and (_typed_heading(line, levels) or _setext_level(lines, i)))
    return set() if marked > 1 else _marked_headings(doc, lines)


def _marked_headings(doc: Document, lines: list[_Line | None],
                     also: Callable[[str], bool] = lambda text: True) -> set[int]:
    """Starts of the lines the reader marked (`Document.bold_lines`: Markdown's bold lines, a
    PDF's lines in a heading's font) that read as headings (and pass `also`)."""
    starts = set(doc.bold_lines)
    return {line.start for line in lines if line is not None and line.start in starts
            and not line.bulleted and looked_heading_level(line.text) is not None
            and also(line.text)}


def _font_headings(doc: Document, lines: list[_Line | None]) -> dict[int, int]:
    """A PDF's lines set in a heading's font (bold, or larger than its body text: formats/pdf.py)
    that could be headings: words only, not a list item, not ending in a number or as a
    sentence (a title page's "January 3, 2024", "Page 2", a front-matter page "iii" or a bold
    warning are not). Each with its depth among them by type size (formats.size_depths): a
    PDF keeps nothing else of the levels of unnumbered headings."""
    starts = _marked_headings(doc, lines, lambda text: (
        not MARKER.match(text) and _wordy(text) and not re.search(r"\d\s*$", text)
        and not _ROMAN_WORD.fullmatch(text.strip().upper())))  # "iii": a page number
    sized = sorted((at, round(size * 2) / 2) for at, size in zip(doc.bold_lines, doc.bold_sizes,
                                                                strict=False) if at in starts)
    depths = dict(zip([at for at, _ in sized], size_depths([size for _, size in sized]),
                      strict=True))
    return {at: depths.get(at, 0) for at in starts}


def _resume_list(style: str, value: int, stack, sections: list[Section], styled: dict[int, str],
                 last_value: dict[int, int], numbered: dict[int, int]) -> None:
    """"4." after "3. Closed Session" and its numbered sub-heading "2.1 ...": a numbered
    sub-heading does not end the list it stands in, so the stack returns to the level of "3."
    (its parent), where "4." follows it. Only when "3." was closed by a numbered heading."""
    previous = next((sid for sid in reversed(styled) if styled[sid] == style), None)
    if value < 2 or previous is None or last_value.get(previous) != value - 1:
        return
    parent = sections[previous].parent
    ids = [sid for sid, _, _ in stack]
    if parent not in ids:
        return
    above = ids[ids.index(parent) + 1:]
    if not above or sections[above[0]].start < sections[previous].start or above[0] not in numbered:
        return
    while stack[-1][0] != parent:
        stack.pop()


def _listed_parent(number: str, stack, sections: list[Section]) -> int | None:
    """The open "2. Gifts" heading (numbered as a list) that "2.1 Small tokens" belongs to:
    hand-numbered policies write their chapters "2." and their sub-headings "2.1"."""
    prefix = number.rpartition(".")[0]
    if not prefix:
        return None
    for sid, rank, style in reversed(stack):
        section = sections[sid]
        if rank is None and style and section.kind == "heading" and section.marker == prefix:
            return sid
    return None


def _setext_level(lines: list[_Line | None], i: int, plain: bool = False) -> int:
    """1 or 2 when line i is a Markdown setext heading: a one-line paragraph underlined by "="
    (level 1) or "-" (level 2), as pandoc writes headings; else 0.

    `plain`: a text file's underlined heading ("Purpose" / "-------"), as typed in plain-text
    policies and e-mails. There a rule under a paragraph may be a separator, so the line must
    read as a heading (short, not ending as a sentence) and the rule must underline it (about
    its length)."""
    line = lines[i]
    under = lines[i + 1] if i + 1 < len(lines) else None
    if line is None or under is None or line.bulleted or (i > 0 and lines[i - 1] is not None):
        return 0
    if under.indented or not _MD_UNDERLINE.fullmatch(under.text.strip()):
        return 0
    if _MD_UNDERLINE.fullmatch(line.text.strip()) or line.text.lstrip().startswith(("|", ">")):
        return 0
    if plain:
        title, rule = line.text.strip(), under.text.strip()
        if (len(rule) < 3 or not 0.5 * len(title) <= len(rule) <= 1.5 * len(title) + 2
                or len(title.split()) > 12 or _ends_clause(title)):
            return 0
    return 1 if under.text.strip()[0] == "=" else 2


# A chapter's number as Sphinx's PDFs spell it on a line of its own ("ONE", "TWENTYONE"), or
# in figures.
_NUMBER_WORD = re.compile(
    r"(?:\d{1,3}|[IVXLC]{1,6}|(?:TWENTY|THIRTY|FORTY|FIFTY)?-?(?:ONE|TWO|THREE|FOUR|FIVE|SIX|SEVEN"
    r"|EIGHT|NINE)|TEN|ELEVEN|TWELVE|THIRTEEN|FOURTEEN|FIFTEEN|SIXTEEN|SEVENTEEN|EIGHTEEN"
    r"|NINETEEN|TWENTY|THIRTY|FORTY|FIFTY)", re.I)


def _chapter_label(lines: list[_Line | None], i: int) -> int | None:
    """Where a chapter's title stands when line i is the label set over it, a word and a number
    each on a line of its own ("CHAPTER" / "ONE" / "ABOUT THIS MANUAL", as Sphinx's PDFs set
    every chapter): the title's line index, else None. Read alone, "Chapter" and "ONE" were two
    headings of their own, and the title under them both ("Chapter › ONE › About This Manual")."""
    if lines[i].text.strip().upper() not in ("CHAPTER", "PART", "APPENDIX") or i + 2 >= len(lines):
        return None
    number, title = lines[i + 1], lines[i + 2]
    if number is None or title is None or not _NUMBER_WORD.fullmatch(number.text.strip()):
        return None
    return i + 2 if _is_caps_heading(title.text) and not title.bulleted else None


def _caps_wraps(line: _Line, nxt: _Line | None) -> bool:
    """An ALL-CAPS heading broken over two lines: the first ends on a word no title ends on
    ("AND", "OF", "THE", _SMALL) and the next, right under it, is in capitals too."""
    words = line.text.split()
    return (nxt is not None and words[-1].lower() in _SMALL and not nxt.bulleted
            and any(w.lower() not in _SMALL for w in words)  # not a lone "AND" between lines
            and _is_caps_heading(nxt.text) and not MARKER.match(nxt.text))


def _continues_heading(title: str, nxt: _Line | None) -> bool:
    """A heading broken over two lines ("2 Mannigfaltigkeiten und" / "Simplizialkomplexe"):
    the title ends in a short lower-case word and the next line is a few capitalised words."""
    if nxt is None or not title:
        return False
    last = title.split()[-1]
    if not (last.islower() and len(last) <= 4 and last.isalpha()):
        return False
    text = nxt.text.strip()
    return (text[:1].isupper() and len(text.split()) <= 6 and not nxt.bulleted
            and not MARKER.match(text) and not _NUMBERED.match(text)
            and not text.endswith((".", ",", ";", ":")))


def _short_heading(rest: str, line: _Line, width: int) -> bool:
    """The text of a numbered line ("2. Policy statement") short enough for a heading in
    sentence case: a few words, not a sentence or a clause, not a formula, and in a PDF a line
    that stops short of the margin (an item's first line wrapped there runs to it)."""
    text = rest.strip()
    return (1 <= len(text.split()) <= 8 and text[:1].isupper() and _wordy(text)
            and not text.endswith((".", ",", ";", ":", "!", "?"))
            and not (width and len(line.text) >= 0.75 * width))


def _paragraph_after(nxt: _Line | None, wrapped: bool) -> bool:
    """The line after a numbered line starts a paragraph of text (not an item, nor the item's
    own indented text): the numbered line is its heading, as "1. Purpose" is, whatever case its
    words take."""
    if nxt is None or nxt.bulleted or nxt.indented or MARKER.match(nxt.text):
        return False
    words = len(nxt.text.split())
    return words >= 4 and (nxt.text.rstrip()[-1] in ".?!:" or words >= 10
                           or (wrapped and nxt.runs_on))


def _continues_list(style, nxt, stack, sections, last_value, open_style,
                    value: int | None = None) -> bool:
    """Whether the line after a marker line of `style` (numbered `value`) is another item of the
    same list or of a list that stays open around it (so the marker line is an item, however
    title-like). A "1." under "3. Procedure" starts a list of its own: "3." is its heading."""
    m = MARKER.match(nxt.text)
    if not m:
        return False
    nxt_style, _ = _style(m.group("pm") or m.group("m"), m.group("p") or "()", stack, sections,
                          last_value, open_style)
    if nxt_style == style and value is not None and value > 1 and \
            _marker_value(nxt.text, nxt_style) == 1:
        return False
    styles = [st for _, _, st in stack]
    around = styles[: styles.index(style)] if style in styles else styles
    return nxt_style == style or nxt_style in around


def _numbered_heading(line: _Line, nxt: _Line | None, last_number: dict[tuple[int, ...], int],
                      toc: list[tuple[str, int | None]] = (), in_heading_font: bool = False
                      ) -> tuple[str, str, float, str] | None:
    """(marker, title, rank, kind) when the line is a numbered heading ("2.1 Scope", "Article
    II"; kind "heading") or a numbered paragraph ("3.2 Grievance Officer: the person who...",
    "4.2.1 Urgent grievances are answered within 24 hours."; kind "item", cited "3.2" under its
    heading). A paragraph needs a decimal number that goes on the document's own sequence and a
    sentence that starts in capitals (long, ending as a sentence, or of eight words or more going
    on in lower case on the next line, as a page wraps it; a short heading may be followed by a
    lower-case name, "3.1 Invoking asn1Parser" / "asn1Parser reads..."): a line wrapped at
    "section\n3.1 of the manual" is neither. A first "1 Introduction" is a heading when text or a
    sub-heading follows it, or when the table of contents lists it with its page, or when a PDF
    sets it in a heading's font (a PDF's paragraph under it may wrap anywhere): without it, no
    chapter number after it would go on the sequence. A number's closing zeros are no level:
    "2.0 Procedure" is chapter 2 (formats.number_parts)."""
    if line.bulleted:
        return None
    m = _NUMBERED.match(line.text)
    if not m:
        return None
    word, num, title = m.group("word"), m.group("num"), (m.group("title") or "").strip()
    roman = not num[0].isdigit()
    if roman and not word:
        return None  # "IV. Title" is an enumeration marker, read elsewhere
    kind = "heading"
    if title:
        if "\t" in title or re.search(r"\.{3,}|\d\s*$", title) or not (
                title[0].isupper() or title[0].isdigit()) or _DATED.match(title):
            return None  # (a revision table's row, "2.0 01/2019 Firearms access added")
        words = len(title.split())
        if words > 14 or title.endswith((".", ",", ";")) or (line.runs_on and words >= 8):
            if word or "." not in num or not title[0].isupper():
                return None
            kind = "item"
    elif not word:
        return None
    if word:
        # "Section 4" sits under an "Article I" (rank 0) and over the "4.1" (rank 1) numbered in
        # it; "Section 4.1" over "4.1.1" likewise: half a rank above the bare number's depth.
        marker = f"{word} {num}"
        rank = 0 if word.lower() in _TOP_WORDS or roman else len(number_parts(num)) - 0.5
        return marker, title, rank, kind
    parts = number_parts(num)  # "2.0 Procedure" is section 2
    prefix = parts[:-1]
    if parts[-1] != last_number.get(prefix, 0) + 1:
        return None  # not the next number of the document's own sequence
    if parts == (1,) and not (_is_body(nxt) or (nxt is not None and _NUMBERED.match(nxt.text))
                              or (toc and _toc_match(line.text, toc)[1] is not None)
                              or in_heading_font):
        return None  # a first bare "1 Something" needs text (or a sub-heading) after it
    last_number[prefix] = parts[-1]
    return num, title if kind == "heading" else "", len(parts) - 1, kind


def _from_blocks(doc: Document) -> Structure:
    """The tree a format states: headings by level, numbered list items by nesting level.

    A bullet item is a paragraph of its section (it has no number to cite); text after a list
    closes the list's items; the document's Title block holds the text before the first heading.
    """
    text = doc.text
    root = Section(0, None, "", doc.title, "root", 0, len(text), 0)
    sections = [root]
    paragraphs: list[Paragraph] = []
    heading_levels = [b[3] for b in doc.blocks if b[2] == "heading"]
    top = min(heading_levels) if heading_levels else 1
    stack: list[tuple[int, float]] = [(0, -1)]
    run_ins = _run_in_labels([text[b[0]:b[1]] for b in doc.blocks if b[2] == "body"])

    def open_section(marker: str, title: str, kind: str, start: int, end: int, rank: float) -> int:
        while len(stack) > 1 and stack[-1][1] >= rank:
            stack.pop()
        parent = stack[-1][0]
        sid = len(sections)
        sections.append(Section(sid, parent, marker, title, kind, start, end, end,
                                depth=len(stack)))
        sections[parent].children.append(sid)
        stack.append((sid, rank))
        return sid

    units = _split_typed_lines(text, doc.blocks)
    # (list level, kind of number) -> "heading" or "item": what that list's last number made
    listed: dict[tuple[int, str], str] = {}
    for n, (start, end, kind, level, marker) in enumerate(units):
        line = text[start:end]
        numbering = (level, _number_kind(marker))
        if kind == "item" and marker and _list_heading(text, units, n, listed.get(numbering)):
            # a heading Word numbers with its list ("III. PROCEDURE", "A. Assessing the threat"
            # on bold Normal text): below the format's headings, above list items
            for deeper in [k for k in listed if k[0] > level]:
                del listed[deeper]
            listed[numbering] = "heading"
            title = line[MARKER.match(line).end():].strip() if MARKER.match(line) else line
            sid = open_section(marker, " ".join(title.split()), "heading", start, end,
                               10 + level)
            paragraphs.append(Paragraph(start, end, sid, "heading"))
            continue
        after_heading = False
        if kind == "item" and marker:
            for deeper in [k for k in listed if k[0] > level]:
                del listed[deeper]
            after_heading = listed.get(numbering) == "heading"
            listed[numbering] = "item"
        elif kind in ("title", "heading"):
            listed.clear()
        if kind in ("title", "heading"):
            rank = top if kind == "title" else level
            # a heading set on two lines (Shift+Enter) is cited on one: "Section 4 Confidentiality"
            head_marker, title = "", " ".join(line.split())
            mm = MARKER.match(line)
            if mm and not mm.group("pm"):
                head_marker, title = (mm.group("m"), line[mm.end():].strip())
            sid = open_section(head_marker, title.rstrip(":"), "heading", start, end, rank)
            paragraphs.append(Paragraph(start, end, sid, "heading"))
        elif kind == "item" and marker:
            # the next number of a list whose last was a heading, not one itself (a longer
            # question of an FAQ): at that heading's rank, so the text after it is its own
            sid = open_section(marker, "", "item", start, end,
                               10 + level if after_heading else 100 + level)
            paragraphs.append(Paragraph(start, end, sid, "item"))
        elif kind == "body" and (label := _run_in_label(line, run_ins)):
            # "PURPOSE: To describe...": below the headings the format states, above items
            label_end = start + len(label) + 1
            sid = open_section("", label, "heading", start, label_end, 10)
            rest = end - len(line[len(label) + 1:].lstrip())
            paragraphs += [Paragraph(start, label_end, sid, "heading"),
                           Paragraph(rest, end, sid, "body")]
        elif kind == "body" and (typed := _typed_marker(line)):
            # below an automatic item of any level open above it, closed by the next one
            sid = open_section(typed, "", "item", start, end, 100.5)
            paragraphs.append(Paragraph(start, end, sid, "item"))
        else:
            if kind == "item":  # a bullet: deeper items close, it stays in its section
                while len(stack) > 1 and stack[-1][1] >= 100 + level:
                    stack.pop()
            else:
                while len(stack) > 1 and stack[-1][1] >= 100:
                    stack.pop()
            paragraphs.append(Paragraph(start, end, stack[-1][0], "item" if kind == "item"
                                        else "body"))
    _close_spans(sections, paragraphs, len(text))
    return Structure(sections, paragraphs)


_RUN_IN = re.compile(r"([A-Z][A-Z&/\u2019'-]+(?:[ \t]+[A-Z&/\u2019'-]+){0,3}):[ \t]+(?=[A-Z0-9\"\u201c(])")
# Labels that lead into a remark or fill a memo's header, not a section of the policy
_NOT_SECTIONS = {"NOTE", "NB", "WARNING", "CAUTION", "IMPORTANT", "EXAMPLE", "TIP", "TO", "FROM",
                 "CC", "BCC", "RE", "SUBJECT", "DATE", "ATTN", "PS"}


def _run_in_labels(texts: list[str]) -> set[str]:
    """The ALL-CAPS labels that open paragraphs with their text on the same line ("PURPOSE: To
    describe...", "PROCEDURE: Staff store..."), as many agency policy templates set their
    sections; empty unless two different ones do, so that one "ATTENTION: ..." line makes no
    section."""
    labels = set()
    for text in texts:
        m = _RUN_IN.match(text)
        if m and m.group(1) not in _NOT_SECTIONS and sum(c.isalpha() for c in m.group(1)) >= 3:
            labels.add(m.group(1))
    return labels if len(labels) >= 2 else set()


def _run_in_label(text: str, labels: set[str]) -> str | None:
    m = _RUN_IN.match(text)
    return m.group(1) if m and m.group(1) in labels else None


def _number_kind(marker: str) -> str:
    """A list number's kind, telling two lists at one level apart: "1", "I", "A", "i" or "a"."""
    token = marker.strip("().")
    if token.isdigit():
        return "1"
    if re.fullmatch(r"[IVXLC]+", token) and (len(token) > 1 or token in "IVX"):
        return "I"
    if re.fullmatch(r"[ivxlc]+", token) and (len(token) > 1 or token in "ivx"):
        return "i"
    return "A" if token.isupper() else "a"


def _resumes(units: list, n: int) -> bool:
    """Whether item `n`'s list goes on after text: its next number at its level comes after a
    paragraph of text (as "II. POLICY" follows "I. PURPOSE" and its text)."""
    level, kind = units[n][3], _number_kind(units[n][4])
    text_between = False
    for _start, _end, unit_kind, unit_level, marker in units[n + 1:]:
        if unit_kind == "item" and marker and unit_level < level:
            return False
        if unit_kind == "item" and marker and unit_level == level and \
                _number_kind(marker) == kind:
            return text_between
        text_between = text_between or unit_kind == "body"
        if unit_kind in ("title", "heading"):
            return False
    return False


def _list_heading(text: str, units: list, n: int, before: str | None) -> bool:
    """Whether numbered list item `n` of a format's blocks is a heading numbered by its list:
    short, reading as a heading (no sentence, no lead-in colon), a paragraph of text after it,
    and the item before it in its list a heading too, or none ("I. PURPOSE" / text / "II.
    POLICY" / text); or over a deeper one that is such a heading ("III. PROCEDURE" / "A.
    Assessing the threat" / text). An item among items ("1. Cash" / "2. Cheques" / "All are
    logged.") stays one."""
    start, end, _kind, _level, _marker = units[n]
    line = text[start:end]
    m = MARKER.match(line)
    title = line[m.end():].strip() if m else line.strip()
    if before == "item" or n + 1 >= len(units) or "\n" in title or title.endswith(":"):
        return False
    if looked_heading_level(title) is None or len(title.split()) > 8:
        return False
    nxt_start, nxt_end, nxt_kind, nxt_level, nxt_marker = units[n + 1]
    deeper = nxt_kind == "item" and nxt_marker and nxt_level > units[n][3]
    number = m.group("m") if m else ""
    if deeper and number.isdigit() and re.match(rf"{number}\.\d", text[nxt_start:nxt_end]):
        return True  # "1. Purpose" over "1.1 Clients may...": legal numbering's chapter
    if before is None and not _resumes(units, n):
        return False  # a list of one ("1. Record it in the ledger" / text) is an item
    if deeper:
        return _list_heading(text, units, n + 1, None)  # over its first sub-heading
    return nxt_kind == "body" and not _typed_marker(text[nxt_start:nxt_end])


def _split_typed_lines(text: str, blocks: list) -> list:
    """Blocks, a body block whose lines after the first open with typed markers split into its
    lines: Word's manual line breaks (Shift+Enter) set "1. ...", "2. ..." in one paragraph."""
    out = []
    for block in blocks:
        start, end, kind, level, marker = block
        lines = text[start:end].split("\n")
        if kind != "body" or len(lines) < 2 or not any(_typed_marker(x) for x in lines[1:]):
            out.append(block)
            continue
        pos = start
        for piece in lines:
            lead = len(piece) - len(piece.lstrip())
            if piece.strip():
                out.append([pos + lead, pos + len(piece.rstrip()), "body", level, ""])
            pos += len(piece) + 1
    return out


def _typed_marker(text: str) -> str | None:
    """The marker typed at the start of a Word or web paragraph that the format does not state
    as a list item ("a) Staff help...", "(ii) ...", "2.1 The Grievance Officer answers..."):
    hand-numbered policies are cited by those numbers, as their PDFs are. Shown as in text
    files: "a)" keeps its bracket, "a." and "(a)" show the letter. Not a table row (its cells
    are tab-separated), whose first cell may open with an initial."""
    m = MARKER.match(text)
    n = None if m else _NUMBERED.match(text)
    rest = text[m.end():] if m else (n.group("title") or "") if n else ""
    if "\t" in rest:
        return None  # a table row ("T. Rowe Price\t1.9%"): its cells, not an item
    if m:
        return m.group("pm") or m.group("m") + (")" if m.group("p") == ")" else "")
    if n and not n.group("word") and "." in n.group("num").rstrip(".") and rest[:1].isupper():
        return n.group("num").rstrip(".")
    return None


# ---------------------------------------------------------------- display case

_ROMAN_WORD = re.compile(r"M{0,3}(CM|CD|D?C{0,3})(XC|XL|L?X{0,3})(IX|IV|V?I{0,3})")
_WORD_START = re.compile(r"(^|[-/\u2013(\"\u201c\u2018])([^\W\d_])")


def _acronyms(text: str, words: frozenset[str] = frozenset()) -> set[str]:
    """Words written in capitals inside at least two mixed-case lines: the document's acronyms
    (DMH, MISSION), not a heading word that shares a line with text ("PURPOSE: DMH has...").
    A line's opening label is no such line's word: a template's "POLICY TITLE:", "POLICY:"
    and "POLICY NUMBER:" rows made POLICY an acronym, cited "POLICY Title". Nor are words of
    a phrase set in capitals for emphasis, three words or more or with a word such as "OF" in
    it ("but WITHOUT ANY WARRANTY; without...", "WITHOUT WARRANTIES OR CONDITIONS OF ANY
    KIND, either..."): they made a heading "TERMS AND CONDITIONS" read "Terms and CONDITIONS".
    Nor, in a document in another language, its function `words` (the French minutes'
    "ATTENDU QUE ..." lines made "QUE" an acronym)."""
    lines: Counter[str] = Counter()
    for line in text.splitlines():
        if any(c.islower() for c in line):
            line = _CAPS_LABEL.sub("", line)
            found: set[str] = set()
            for run in _CAPS_RUN.finditer(line):
                run_words = re.findall(r"[A-Z][A-Z0-9&]*", run.group())
                if len(run_words) < 3 and not any(w.lower() in _SMALL for w in run_words):
                    found.update(w for w in run_words
                                 if len(w) >= 2 and unaccented(w.lower()) not in words)
            lines.update(found)
    return {w for w, n in lines.items() if n >= 2}


_CAPS_LABEL = re.compile(r"^\s*[A-Z][A-Z0-9&/ ]*[A-Z0-9]:")
# Words in capitals one after another, with spaces or punctuation between them ("DMH HIPAA")
_CAPS_WORD = r"\b[A-Z][A-Z0-9&]*\b"
_CAPS_RUN = re.compile(rf"{_CAPS_WORD}(?:[\s,;'\"`]+{_CAPS_WORD})*")


_QUOTES_AROUND = "()[]\"'\u201c\u201d\u2018\u2019\u00ab\u00bb:;,."


def _as_written(core: str, acronyms: set[str], words: frozenset[str] = frozenset()) -> bool:
    """A title word kept in capitals: an acronym, a number, or a Roman numeral that is not one of
    the language's `words` ("DI", Italian for "of")."""
    return (core in acronyms or any(c.isdigit() for c in core)
            or (len(core) > 1 and _ROMAN_WORD.fullmatch(core) is not None
                and core.lower() not in words))


def title_case(title: str, acronyms: set[str] = frozenset(), small: set[str] = _SMALL) -> str:
    """An ALL-CAPS title in title case: `small` words lower (English's "of", "and"; German's
    function words: "BESCHWERDEN DER KLIENTEN" -> "Beschwerden der Klienten", its nouns
    capitals), acronyms and Roman numerals kept."""
    out = []
    for i, word in enumerate(title.split(" ")):
        core = word.strip(_QUOTES_AROUND)
        if not core or _as_written(core, acronyms):
            out.append(word)
        elif i and unaccented(core.lower()) in small and (len(core) > 1 or word == core):
            out.append(word.lower())
        else:
            out.append(_WORD_START.sub(lambda m: m.group(1) + m.group(2).upper(), word.lower()))
    return " ".join(out)


def sentence_case(title: str, acronyms: set[str] = frozenset(),
                  words: frozenset[str] = frozenset()) -> str:
    """An ALL-CAPS title as French, Spanish and most languages but English write titles
    ("COMITÉ DE DÉMOLITION" -> "Comité de démolition", not "Comité De Démolition"): the first
    letter a capital, acronyms, numbers and Roman numerals kept, the rest lower case."""
    cased = " ".join(word if (core := word.strip(_QUOTES_AROUND)) and
                     _as_written(core, acronyms, words) else word.lower()
                     for word in title.split(" "))
    first = next((i for i, c in enumerate(cased) if c.isalpha()), None)
    return cased if first is None else cased[:first] + cased[first].upper() + cased[first + 1:]


# Languages whose ALL-CAPS headings read in title case: English's ("Terms and Conditions") and
# German's, whose nouns take capitals that sentence case would take away (its function words
# lower). The others write titles in sentence case.
_TITLE_CASED = frozenset({ENGLISH, "german"})


def _set_display(text: str, structure: Structure, toc: list[tuple[str, int | None]]) -> None:
    """Give each ALL-CAPS title the contents list's case, or the case the document's language
    writes titles in: title case in English and German, sentence case in French."""
    acronyms: set[str] | None = None
    language, words = ENGLISH, frozenset()  # the document's, and its function words
    for section in structure.sections:
        title = section.title
        if section.kind == "root" or not title or any(c.islower() for c in title) or \
                sum(c.isalpha() for c in title) < 4:
            continue
        key = normalize(title)
        entry = next((e for e, _p in toc if normalize(e) == key and any(c.islower() for c in e)),
                     None)
        if entry:
            section.display = entry
            continue
        if acronyms is None:
            language = language_of(text)
            words = function_words()[language] if language != ENGLISH else frozenset()
            acronyms = _acronyms(text, words)
        capitals = re.findall(r"[A-Z][A-Z0-9&]+", title)
        if capitals and all(w in acronyms for w in capitals):
            continue  # "DMH HIPAA" is all acronyms: nothing to recase
        if language in _TITLE_CASED:
            section.display = title_case(title, acronyms, words or _SMALL)
        else:
            section.display = sentence_case(title, acronyms, words)


def _initial(m: re.Match, stack, sections, last_value, styled, open_style) -> bool:
    """Whether a capital letter and a full stop open a name ("J. Doe, Executive Director", "M.
    Gagné", French for Mr.), not an item: the letter starts no list (it is not "A.") and goes
    on none (no "I." before "J." in the document). A list's first item is "A." or "I."; left
    as item J, the signature line was cited "Approved by › J"."""
    token = m.group("m")
    if not token or len(token) != 1 or not token.isupper() or m.group("p") != ".":
        return False
    style, _ = _style(token, ".", stack, sections, last_value, open_style)
    value = _alpha_value(token)
    if style != "UPPER." or value == 1:
        return False
    return not any(styled[sid] == style and last_value.get(sid) == value - 1 for sid in styled)


def _token_value(token: str, style: str) -> int | None:
    """A list marker's value in its style ("IV" 4 as a Roman numeral, "c" 3), as each item's
    value is kept (`last_value`) and looked up."""
    return roman_value(token) if style.startswith("ROMAN") else _alpha_value(token)


def _marker_value(text: str, style: str) -> int | None:
    """The value of the marker a line opens with, in its style (_style), None for none."""
    m = MARKER.match(text)
    return _token_value(m.group("pm") or m.group("m"), style) if m else None


def _alpha_value(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    if len(token) == 1 and token.isalpha():
        return ord(token.lower()) - ord("a") + 1
    return None


def _style(token, punct, stack, sections, last_value, open_style) -> tuple[str, str]:
    """Classify an enumeration marker; single letters that are also Roman numerals decide by sequence."""
    punct = ")" if punct == ")" else ("()" if punct == "()" else ".")
    if token.isdigit():
        return f"ARABIC{punct}", token + (")" if punct == ")" else "")
    upper = token.isupper()
    alpha_style = f"{'UPPER' if upper else 'LOWER'}{punct}"
    roman_style = f"{'ROMAN' if upper else 'roman'}{punct}"
    roman = roman_value(token)
    if roman is None or (len(token) == 1 and not _roman_fits(token, roman, alpha_style,
                                                             roman_style, open_style,
                                                             last_value)):
        return alpha_style, token + (")" if punct == ")" else "")
    return roman_style, token + (")" if punct == ")" else "")


def _roman_fits(token, roman, alpha_style, roman_style, open_style, last_value) -> bool:
    alpha_open = open_style(alpha_style)
    if alpha_open is not None and last_value.get(alpha_open) == _alpha_value(token) - 1:
        return False  # "H." then "I." is a letter
    roman_open = open_style(roman_style)
    if roman_open is not None:
        return last_value.get(roman_open) == roman - 1
    return roman == 1 and (alpha_open is None or token != "I" or
                           last_value.get(alpha_open) != 8)


TITLE_BLOCK = 3  # headings in a title block ("COUNTY OF..." / "OFFICE OF..." / "4.12 ...")


def _nest_heading_runs(structure: Structure, titles: set[int] = frozenset()) -> None:
    """A top-level heading with nothing under it, directly followed by another top-level heading, is
    that heading's parent ("COUNTY OF LOS ANGELES" / "OFFICE OF THE MEDICAL DIRECTOR" / "4.12
    PARAMETERS..."): a title block is one section, so the passage that holds it stays inside one
    top-level section. Not a heading the format states as the document's Title (`titles`: Word's
    Title style, a PDF's title line named by its type): Word says its Heading 1s are the title's
    siblings, and adopting only the first of them ("Visits › Purpose", then "Before the Visit")
    would cite siblings unlike. A title block is a few lines: a longer run of such headings (a
    specification's table of "4 CARD32 N_ALIASES" rows, a form's field labels) is lines side by
    side, and a numbered chapter that goes on the document's numbering ("2.10" after "2.9"), or
    the first of chapters numbered alike ("Section 1" before "Section 2", "1." before "2."),
    starts a run of its own rather than joining the lines above it: the title over it would be
    cited before "Section 1" and no other chapter."""
    sections = structure.sections
    root = sections[0]
    has_text = {p.section for p in structure.paragraphs if p.kind != "heading"}
    at_root = sorted(p.start for p in structure.paragraphs if p.section == 0)

    def numbered(section: Section) -> bool:
        """A heading numbered as a chapter ("2.10 Non-regular files", "2. Records")."""
        return section.kind == "heading" and (section.numbered or any(
            ch.isdigit() for ch in section.marker))

    first_numbered = min((x.start for x in sections if numbered(x)), default=root.end)

    def shape(section: Section) -> str:
        """A chapter number's kind: "Section 9", "9.9", "R" (Roman), "A" (a letter)."""
        marker = re.sub(r"\d+", "9", section.marker)
        return re.sub(r"\b[A-Za-z]\b", "A", re.sub(r"\b(?:[IVXLC]+|[ivxlc]+)\b", "R", marker))

    chapters = [sid for sid in root.children if numbered(sections[sid])]

    def first_of_many(sid: int) -> bool:
        """The first of chapters numbered alike at the top ("Section 1" before "Section 2"): a
        chapter, not a title block's last line; a lone "4.12 PARAMETERS" may be one."""
        later = chapters[chapters.index(sid) + 1:] if sid in chapters else []
        return any(shape(sections[x]) == shape(sections[sid]) for x in later)

    def bare(sid: int) -> bool:
        """A heading with nothing under it, standing on the root."""
        section = sections[sid]
        return (section.kind == "heading" and not section.children and sid not in has_text
                and sid not in titles)

    def adjoins(first: int, second: int) -> bool:
        """No text on the root between the two headings."""
        return not any(sections[first].start < a < sections[second].start for a in at_root)

    # Runs of root children, each bare and adjoining the next: a run of up to TITLE_BLOCK
    # headings is one title block, nested each under the one before it.
    runs: list[list[int]] = []
    for sid in root.children:
        goes_on = numbered(sections[sid]) and (sections[sid].start > first_numbered
                                               or first_of_many(sid))
        if runs and bare(runs[-1][-1]) and adjoins(runs[-1][-1], sid) and not goes_on:
            runs[-1].append(sid)
        else:
            runs.append([sid])
    kept: list[int] = []
    for run in runs:
        if len(run) > TITLE_BLOCK:
            kept.extend(run)
            continue
        kept.append(run[0])
        for prev, sid in zip(run, run[1:], strict=False):
            sections[sid].parent = prev
            sections[prev].children.append(sid)
            _set_depth(sections, sid, sections[prev].depth + 1)
            _extend(sections, prev, sections[sid].end)
    root.children = kept


def _set_depth(sections: list[Section], sid: int, depth: int) -> None:
    sections[sid].depth = depth
    for child in sections[sid].children:
        _set_depth(sections, child, depth + 1)


def _extend(sections: list[Section], sid: int | None, end: int) -> None:
    while sid is not None:
        sections[sid].end = max(sections[sid].end, end)
        sid = sections[sid].parent


def _close_spans(sections: list[Section], paragraphs: list[Paragraph], length: int) -> None:
    """Extend each section's end to cover its last paragraph and its descendants."""
    for para in paragraphs:
        node: int | None = para.section
        while node is not None:
            sections[node].end = max(sections[node].end, para.end)
            node = sections[node].parent
    sections[0].end = length

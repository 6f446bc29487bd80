"""Stage 2: the document's own structure (parts, headings, numbered and lettered items) as a tree.

General heuristics, not keyed to any one file:
- Upper-case Roman parts ("IV. ...") and stand-alone ALL-CAPS lines are top-level headings; when the
  document has a table of contents, ALL-CAPS lines that match an entry are chapters (with the page the
  contents give) and the others are sub-headings.
- Short Title-Case lines (or "Heading:" lines) followed by body text are sub-headings.
- Enumerated items ("A.", "1.", "1)", "a.", "(i)") nest in the order their styles first appear, as a
  reader infers it: a style already open closes everything below it and starts a sibling.
- Lines that continue a paragraph (no marker, no heading) join it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from .documents import Document
from .normalize import normalize

SEP = " \u203a "  # " › "

_BULLET = re.compile(r"[ \t]*(?:[-*\u2022\u00b7\u2013][ \t]+)?")
_MARKER = re.compile(
    r"(?:\((?P<pm>[A-Za-z]|\d{1,3}|[ivxlc]{1,6})\)|(?P<m>[IVXLC]{1,6}|[A-Za-z]|\d{1,3})(?P<p>[.)]))"
    r"[ \t]+(?=\S)"
)
_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(?=\S)")
_TOC_LINE = re.compile(r"^\s*(?P<title>\S.*?)(?:\t+|\s*\.{3,}\s*|\s{2,})(?P<page>\d{1,4})?\s*$")
_TOC_HEAD = re.compile(r"^\s*(table of )?contents\s*$", re.I)
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

    @property
    def label(self) -> str:
        if self.title and (not self.marker or len(self.title.split()) <= 8):
            return f"{self.marker}. {self.title}" if self.marker and not self.marker.endswith(")") \
                else (f"{self.marker} {self.title}" if self.marker else self.title)
        return self.marker or self.title


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

    def path(self, section_id: int) -> list[Section]:
        out = []
        node: int | None = section_id
        while node is not None and self.sections[node].kind != "root":
            out.append(self.sections[node])
            node = self.sections[node].parent
        return out[::-1]

    def path_text(self, section_id: int) -> str:
        return SEP.join(s.label for s in self.path(section_id))

    def top_level(self, section_id: int) -> int:
        path = self.path(section_id)
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


def _lines(text: str) -> list[_Line | None]:
    """Lines of the text; None for blank lines."""
    out: list[_Line | None] = []
    pos = 0
    for raw in text.split("\n"):
        m = _BULLET.match(raw)
        content = raw[m.end() :].rstrip()
        if content:
            bulleted = bool(m.group(0).strip())
            indented = raw[:1] in (" ", "\t") and not bulleted
            out.append(
                _Line(pos + m.end(), pos + m.end() + len(content), content, bulleted, indented)
            )
        else:
            out.append(None)
        pos += len(raw) + 1
    return out


def _is_caps_heading(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return (
        len(letters) >= 3
        and len(letters) >= 0.6 * len(text.replace(" ", ""))
        and all(c.isupper() for c in letters)
        and len(text.split()) <= 14
        and "\t" not in text
        and not text.endswith((".", ",", ";"))
    )


def _is_title_heading(text: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'\u2019-]*", text)
    if not words or len(text.split()) > 16 or "\t" in text or re.search(r"\.{3,}", text):
        return False
    if text.endswith((".", ",", ";")) or text.count(",") > 1 or not text[0].isupper():
        return False
    if re.search(r"\d\s*$", text) or re.search(r"\(\d{4}\)", text):
        return False
    significant = [w for w in words if w.lower() not in _SMALL]
    if not significant:
        return False
    capital = sum(1 for w in significant if w[0].isupper())
    return capital / len(significant) >= 0.75


def _is_body(line: _Line | None) -> bool:
    """A line that reads as body text or starts a list: what follows a real heading."""
    if line is None:
        return False
    if line.bulleted or _MARKER.match(line.text):
        return True
    return len(line.text.split()) >= 10 and line.text.rstrip()[-1] in ".?!:\"\u201d)"


def _toc(lines: list[_Line | None]) -> list[tuple[str, int | None]]:
    """Entries of a table of contents: a run of lines ending in page numbers after a 'Contents' line."""
    for i, line in enumerate(lines):
        if line is None or not _TOC_HEAD.match(line.text):
            continue
        entries: list[tuple[str, int | None]] = []
        for nxt in lines[i + 1 :]:
            if nxt is None:
                if entries:
                    break
                continue
            m = _TOC_LINE.match(nxt.text)
            if m:
                entries.append((m.group("title").strip(" ."), int(m.group("page") or 0) or None))
            elif len(nxt.text.split()) <= 8 and not nxt.text.endswith("."):
                entries.append((nxt.text.strip(" ."), None))
            else:
                break
        if sum(1 for _, p in entries if p) >= 3:
            return entries
    return []


def _toc_match(title: str, entries: list[tuple[str, int | None]]) -> tuple[bool, int | None]:
    key = normalize(title)
    for entry, page in entries:
        other = normalize(entry)
        if key == other or key.startswith(other + " "):
            return True, page
        if difflib.SequenceMatcher(None, key, other).ratio() >= 0.85:
            return True, page
    return False, None


def _split_title(rest: str) -> str:
    """The heading part of an item line: the whole line when short, else the text before a colon."""
    rest = rest.strip()
    head, colon, _tail = rest.partition(":")
    if colon and len(head.split()) <= 6:
        return head.strip()
    if _is_title_heading(rest.rstrip(":")):
        return rest.rstrip(":")
    if rest.isupper() and len(rest.split()) <= 20:
        return rest.rstrip(".:")
    return ""


def parse_sections(doc: Document) -> Structure:
    """Parse the document's structure; every character of its text belongs to one section."""
    text = doc.text
    lines = _lines(text)
    toc = _toc(lines)
    root = Section(0, None, "", doc.title, "root", 0, len(text), 0)
    sections = [root]
    paragraphs: list[Paragraph] = []
    # The open path; each entry: (section id, rank or None, enumeration style or None)
    stack: list[tuple[int, int | None, str | None]] = [(0, -1, None)]
    last_value: dict[int, int] = {}  # section id -> numeric value of its marker (for Roman/alpha)

    def open_section(marker: str, title: str, kind: str, line: _Line, rank, style) -> int:
        if rank is not None:
            while len(stack) > 1 and (stack[-1][1] is None or stack[-1][1] >= rank):
                stack.pop()
        else:
            styles = [s for _, _, s in stack]
            if style in styles:
                while stack[-1][2] != style:
                    stack.pop()
                stack.pop()
        parent = stack[-1][0]
        sid = len(sections)
        sections.append(
            Section(sid, parent, marker, title, kind, line.start, line.end, line.end,
                    depth=len(stack))
        )
        sections[parent].children.append(sid)
        stack.append((sid, rank, style))
        return sid

    def open_style(style: str) -> int | None:
        for sid, _, s in reversed(stack):
            if s == style:
                return sid
        return None

    prev_body: Paragraph | None = None
    for i, line in enumerate(lines):
        if line is None:
            prev_body = None
            continue
        following = [x for x in lines[i + 1 : i + 40] if x is not None][:2]
        nxt = following[0] if following else None
        nxt2 = following[1] if len(following) > 1 else None
        sid: int | None = None
        kind = "body"
        md = _MD_HEADING.match(line.text)
        m = _MARKER.match(line.text)
        if md:
            title = line.text[md.end() :].strip().rstrip("#").strip()
            sid = open_section("", title, "heading", line, len(md.group(1)) - 1, None)
            kind = "heading"
        elif m:
            token = m.group("pm") or m.group("m")
            rest = line.text[m.end() :]
            style, marker = _style(token, m.group("p") or "()", stack, sections, last_value,
                                   open_style)
            rank = 0 if style == "ROMAN." and not line.bulleted else None
            title = _split_title(rest)
            kind = "heading" if title and title == rest.strip().rstrip(":") else "item"
            sid = open_section(marker, title, kind if rank is None else "heading", line, rank,
                               style)
            value = roman_value(token) if style.startswith("ROMAN") else _alpha_value(token)
            last_value[sid] = value or 0
        elif _is_caps_heading(line.text) and not line.bulleted:
            in_toc, page = _toc_match(line.text, toc) if toc else (True, None)
            sid = open_section("", line.text.strip().rstrip(":"), "heading", line,
                               0 if in_toc else 1, None)
            sections[sid].toc_page = page
            kind = "heading"
        elif (
            not line.bulleted
            and _is_title_heading(line.text)
            and (_is_body(nxt) or (nxt is not None and _is_title_heading(nxt.text) and _is_body(nxt2)))
        ):
            sid = open_section("", line.text.strip().rstrip(":"), "heading", line, 2, None)
            kind = "heading"

        if sid is None:
            if prev_body is not None and not line.bulleted:
                prev_body.end = line.end  # a wrapped line continues its paragraph
                continue
            if not line.indented and not line.bulleted:
                # Unindented text after a list belongs to the heading above the list.
                while len(stack) > 1 and sections[stack[-1][0]].kind == "item":
                    stack.pop()
            sid = stack[-1][0]
            para = Paragraph(line.start, line.end, sid, "body")
        else:
            para = Paragraph(line.start, line.end, sid, kind)
        paragraphs.append(para)
        prev_body = para if para.kind in ("body", "item") else None

    _close_spans(sections, paragraphs, len(text))
    return Structure(sections, paragraphs)


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


def _close_spans(sections: list[Section], paragraphs: list[Paragraph], length: int) -> None:
    """Extend each section's end to cover its last paragraph and its descendants."""
    for para in paragraphs:
        node: int | None = para.section
        while node is not None:
            sections[node].end = max(sections[node].end, para.end)
            node = sections[node].parent
    sections[0].end = length

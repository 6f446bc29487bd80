"""PDF pages as text with pypdf: running headers and footers removed, printed page numbers kept.

Why these rules:
- A PDF exported from Word or LaTeX repeats a header or footer on every page ("47711 Federal
  Register / Vol. 85 ...", "4 1.1. TOPOLOGISCHE RÄUME"). Left in, it lands inside passages and
  is taken for a heading. A line at the top or bottom of a page is running text when (a) it
  repeats, digits aside and allowing OCR slips, at the same edge of many pages (of both pages
  of a two-page file, word for word; of every page but the first, Word's "different first
  page"), but not where its numbers count 1, 2, 3 on a few pages only (a "SECTION 2" heading
  atop the page its section starts), or (b) it carries
  a number that advances with the page (the printed page number; a front matter's "i", "ii"
  before the "1", "2" of the text). Both are removed from the text;
  the numbers found by (b), or the file's own /PageLabels, become the page labels a citation shows.
  In Word's "Page 3 of 12" (or "3/12", "Seite 3 von 12") the page is the first number: the
  second, the count of pages, stands on every page and would cite page 1 as "p. 12".
  A web page a browser printed on a single page repeats nothing, but its print furniture is
  plain: the page's address and "1/1" at an edge, with the date and time of printing over the
  page's title.
- Line-number gutters (a transcript's "1 2 3 ... 25") are margin apparatus, not text. On such a
  page the numbered lines are the body: what stands above line 1 or below the last numbered line
  is its header or footer, found by position, so even a single page loses them.
- pypdf needs `cryptography` for AES; an encrypted file that opens with the empty password is
  read, one that needs a user password is reported as password-protected.
- A text layer of OCR noise (few word-like tokens) is reported by name rather than indexed.
- A footnote at the foot of a page (a line in type smaller than the body's, below it, that
  opens with its mark; or a raised mark on a row of its own over the line) is a paragraph of its
  own, its mark apart from its text: it ran into the page's last paragraph ("deposit slip;
  1Representative payee duties...").
- A line that a bookmark of its page names (the file's outline: Word's "Save as PDF" bookmarks
  every heading) counts as set in a heading's font, whatever its font: Word's Heading 4 is
  body-size italic.
- A table's rows read one a line, cells joined by tabs, a wrapped cell's lines joined
  (pdf_tables.py): as the same table reads in the Word file or the web page, and each row a
  sentence. A long table's header row, repeated atop each page (Word's "Repeat as header
  row"), reads once: under it stand the next lines of a row the page break cut, which go on
  from the page before.
- The file's own title and date (its Info dictionary, from the Word document's properties)
  fill metadata the corpus does not give, except titles a program made up ("Microsoft Word -
  policy.docx", "Untitled").
- Words are kept apart in a composite font that has no space glyph (`_word_gaps`): XeLaTeX
  and LuaLaTeX (Sphinx's PDF builder among them) draw a word gap as an offset in a TJ array, and
  pypdf takes the font's space width from character code 32, which in such a font is another
  glyph (FreeSerif's ">", 564 units against gaps of 250-330): the words of every tightly set line
  ran together ("Everypackagemusthaveaname").
"""

from __future__ import annotations

import logging
import math
import re
import unicodedata
from collections import Counter
from functools import cache
from pathlib import Path

from . import (
    TABLE_ROW,
    DocumentError,
    Extracted,
    PageProgress,
    list_marker,
    page_title,
    placeholder_title,
    some_of,
)
from .pdf_tables import PageRuns, tables_as_rows

_EDGE = 2  # lines at the top and at the bottom of a page that may be running text
_NUMBER_AT_EDGE = re.compile(r"^\s*(\d{1,5})(?=\s+\S)|(?<=\S)\s+(\d{1,5})\s*$")
_LONE_NUMBER = re.compile(r"^\s*[-\u2013\u2014]?\s*(\d{1,5}|[ivxlc]{1,7})\s*[-\u2013\u2014]?\s*$",
                          re.I)
_LIST_START = re.compile(r"^\s*\d{1,5}[.)]\s")
# "Page 3 of 12", "3 of 12", "3/12", "Seite 3 von 12": the page's number is the first one, the
# second is the count of pages (the same on every page, so never the page's number). "03/2024"
# is a month and year, not page 3: after a slash the count has at most three digits.
_PAGE_OF = re.compile(r"(?:^|\s)(?:(\d{1,5})\s*(?:of|von|de|sur|di|van|af|av|z)\s*\d{1,5}"
                      r"|(\d{1,4})\s*/\s*\d{1,3})\s*$", re.I)
# A one-page policy's footer ("Client Funds Policy, rev. 2024    Page 1 of 1"): nothing repeats on
# a single page, but no sentence ends so.
_ONE_OF_ONE = re.compile(r"\b(?:page|seite|p\u00e1gina|pagina)\s*1\s*(?:of|von|de|di|sur)\s*1\s*$",
                         re.I)
# A browser's print furniture ("Print to PDF"): the page's address and "page/pages" at the foot
# ("file:///C:/intranet/funds.html 1/1", "https://intranet/policies/funds 1/1"), the date and
# time of printing and the page's title at the head ("12/6/26, 5:48 PM Client Funds Policy").
_PRINTED_FROM = re.compile(r"^\s*(?:https?|file)://\S+\s+(\d+)\s*/\s*(\d+)\s*$", re.I)
_PRINTED_AT = re.compile(
    r"^\s*\d{1,4}[./-]\d{1,2}[./-]\d{1,4},?\s+\d{1,2}:\d{2}(?:\s*[AP]\.?M\.?)?(?:\s|$)", re.I)
_WORDLIKE = re.compile(r"^[\"'(\u201c\u2018]*[^\W\d_]{2,}(?:[-'\u2019][^\W\d_]+)*[.,;:!?\"')\u201d\u2019]*$")
_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def read_pdf(path: Path, progress: PageProgress | None = None) -> Extracted:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PdfReadError

    _word_gaps()
    # pypdf logs every repair it attempts; the one-line reason raised here is what a user needs.
    pdf_log = logging.getLogger("pypdf")
    level = pdf_log.level
    pdf_log.setLevel(logging.CRITICAL)
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise DocumentError("encrypted PDF (AES): the 'cryptography' package is needed to "
                                    "open it and is not installed") from exc
            except Exception as exc:
                raise DocumentError(f"encrypted PDF that cannot be opened ({_short(exc)})") from exc
            if not opened:
                raise DocumentError("password-protected PDF (a password is needed to open it)")
        pages: list[list[str]] = []
        gutters: list[set[int]] = []  # per page: the lines of a line-number gutter
        furniture: dict[int, set[str]] = {}  # per page with a gutter: texts off its numbered lines
        total = len(reader.pages)
        fonts = _LineFonts()
        widths: dict = {}  # each font's character widths, read once for the file's pages
        for number, page in enumerate(reader.pages, start=1):
            fonts.new_page()
            runs = PageRuns(widths)

            def visit(*args, runs=runs) -> None:
                fonts.visit(*args)
                runs.visit(*args)

            lines = tables_as_rows(page.extract_text(visitor_text=visit) or "", runs).split("\n")
            gutters.append(_line_number_gutter(lines))
            if gutters[-1]:
                furniture[number - 1] = _outside_numbered_lines(page)
            pages.append(lines)
            if progress:
                progress(number, total)
        file_labels = _file_page_labels(reader, total)
        bookmarks = _outline(reader)
        meta = _file_metadata(reader)
        attached = _attached_files(reader)
        if "title" not in meta and (title := fonts.title()):
            meta["title"] = title
        elif "title" in meta:  # a printed web page's "Client Funds Policy | Riverside Intranet"
            meta["title"] = page_title(meta["title"], fonts.title())
    except DocumentError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (NotImplementedError...)
        if isinstance(exc, DependencyError):
            raise DocumentError(f"encrypted PDF needs a missing package ({_short(exc)})") from exc
        kind = "unreadable PDF" if isinstance(exc, PdfReadError) else "damaged PDF"
        if "ended unexpectedly" in str(exc) or "EOF" in str(exc):
            kind = "truncated or damaged PDF"
        raise DocumentError(f"{kind} ({type(exc).__name__}: {_short(exc)})") from exc
    finally:
        pdf_log.setLevel(level)

    if not any(line.strip() for lines in pages for line in lines):
        raise DocumentError("no extractable text (a scan without a text layer), needs OCR")
    # Headers and footers are looked for at the edges of the text, not of the gutter.
    running, printed = running_lines([["" if i in gutter else line for i, line in enumerate(lines)]
                                      for lines, gutter in zip(pages, gutters, strict=True)])
    parts: list[str] = []
    starts: list[tuple[int, int]] = []
    marked: list[tuple[int, float]] = []  # raw offsets of lines set in a heading's font, size
    looked = fonts.heading_lines(bookmarks)
    notes = fonts.note_starts()
    offset = 0
    header: str | None = None  # the header row of the table the page before ended in
    for number, lines in enumerate(pages, start=1):
        drop = (running.get(number - 1, set()) | gutters[number - 1]
                | _furniture_lines(lines, gutters[number - 1], furniture.get(number - 1, set())))
        kept = [line for i, line in enumerate(lines) if i not in drop]
        kept, repeated = _without_repeated_header(kept, header)
        header = header if repeated and _table_end(kept) is not None else _table_head(kept)
        kept = _notes_apart(kept, notes[number - 1])
        page_text = "\n".join(kept).strip("\n")
        lead = len("\n".join(kept)) - len("\n".join(kept).lstrip("\n"))
        at = offset - lead
        for line in kept:
            # a table's row is no heading, whatever its font (a header row is set in bold)
            row = not line.strip() or TABLE_ROW.search(line)
            size = None if row else looked[number - 1].get(_SQUEEZE.sub("", line))
            if size is not None:
                marked.append((at + len(line) - len(line.lstrip()), size))
            at += len(line) + 1
        starts.append((offset, number))
        parts.append(page_text)
        offset += len(page_text) + 2
    raw = "\n\n".join(parts)
    if raw.count("\ufffd") > len(raw.strip()) // 10:
        raise DocumentError("garbled text layer (undecodable characters), needs OCR or re-export")
    noise = ocr_noise(raw)
    if noise is not None:
        raise DocumentError(f"text layer looks like OCR noise ({noise:.0%} of its tokens are not "
                            "words); needs OCR again or a text export")
    labels = file_labels or _labels_from_numbers(printed, len(pages))
    return Extracted(raw=raw, format="pdf", page_starts=starts, page_labels=labels,
                     pages=len(pages), meta=meta, bold_lines=[m for m, _ in marked if m >= 0],
                     bold_sizes=[size for m, size in marked if m >= 0], warnings=attached)


def _attached_files(reader) -> list[str]:
    """A warning naming the files a PDF carries attached (a policy manual sent as a cover page
    with the policies attached, or an Acrobat "PDF portfolio"), which are not read: only the
    cover's own text was indexed, and the policies were missing without a word."""
    try:
        names = [str(name) for name in reader.attachments]
        portfolio = "/Collection" in reader.trailer["/Root"]
    except Exception:  # a damaged names tree: the pages are still read
        return []
    if not names:
        return []
    what = "a PDF portfolio: its" if portfolio else "its"
    return [f"{what} {len(names)} attached file(s) are not read ({some_of(names, 5)}): save them "
            "into the corpus folder to index them"]


@cache
def _word_gaps() -> None:
    """Have pypdf measure word gaps by a space's width in fonts that draw no space.

    pypdf (7.1; py-pdf/pypdf#3978, open) inserts a space for an offset in a TJ array of at least
    half the font's space width, and takes that width from the glyph the space's code stands for.
    A font with no space glyph has none: pypdf then measures character code 32, which in a TeX
    composite font (Identity-H, codes are glyph numbers) is another glyph. Such a font, one whose
    code 32 shows a character other than a space, gets pypdf's own estimate for a font without a
    space instead: half its default glyph width (its whole default width at fixed pitch). Fonts
    with a space glyph, and fonts whose code 32 is unused, are left as pypdf reads them. Done
    once, to pypdf's font reader, for every file after it."""
    try:
        from pypdf.constants import FontFlags
        from pypdf.generic._font import Font
    except ImportError:  # another pypdf layout: read as it reads
        return
    read = Font.from_font_resource.__func__

    def from_font_resource(cls, resource):
        font = read(cls, resource)
        shown = font.character_map.get(font.space_char)
        if font.space_char == " " and shown not in (None, " "):
            default = font.character_widths.get("default", 500)
            fixed = font.font_descriptor.flags & FontFlags.FIXED_PITCH == FontFlags.FIXED_PITCH
            font.space_width = default if fixed else default // 2
        return font

    Font.from_font_resource = classmethod(from_font_resource)


_SQUEEZE = re.compile(r"\s+")
# A heading's type is this much larger than the body text, at least: Word's Heading 3, 12 pt
# over 11 pt, is 1.09; text set half a point larger than 10 pt (1.05) is not a heading's.
_LARGER = 1.08
_BOLD_FONT = re.compile(r"bold|black|heavy|semibold|demi", re.I)


class _LineFonts:
    """Which lines of each page are set in a heading's font: wholly bold, or larger than the
    document's body text by 8% or more (Word's own Heading styles are 16, 13 and 12 pt, not
    bold, over 11 pt text: Heading 3 is a point above it), collected from pypdf's text visitor
    during the one text extraction.
    Sentence-case headings ("Loans to clients") have no other mark in a PDF exported from
    Word. None where a sixth or more of the text is bold: a document set in bold throughout."""

    def __init__(self):
        self.pages: list[dict[float, list[tuple[str, bool, float]]]] = []
        self.chars: dict[float, int] = {}  # rounded size -> characters set in it
        self.bold_chars = 0

    def new_page(self) -> None:
        self.pages.append({})

    def body(self) -> float:
        """The type size most of the document's text is set in; 0 where it has none."""
        return max(self.chars, key=self.chars.get) if self.chars else 0.0

    def visit(self, text, cm, tm, font, size) -> None:
        if not text.strip():
            return
        try:
            scale = (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (cm[0] ** 2 + cm[1] ** 2) ** 0.5
            real = round(float(size or 0) * (scale or 1), 1)
            name = str(font.get("/BaseFont", "")) if hasattr(font, "get") else ""
            y = round(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
        except (TypeError, ValueError, IndexError, OverflowError):
            return  # fonts are a refinement: a page whose matrices are odd keeps its text
        bold = bool(_BOLD_FONT.search(name))
        self.pages[-1].setdefault(y, []).append((text, bold, real))
        count = len(text.strip())
        self.chars[real] = self.chars.get(real, 0) + count
        self.bold_chars += count if bold else 0

    def title(self) -> str:
        """The title set on the first page with text: its lines in the largest size there (up to
        three in a row, the first such run from the top), when that is a title's size, a
        quarter or more above the body text's. A file whose Info dictionary names no title
        (LaTeX's, or Word's "Microsoft Word - x.doc") is otherwise titled by its first line of
        text, which may be the author ("Fabio Fiorina") or, where the title repeats as the
        running header removed from every page, the line under it. Not text repeated in that
        size on another page: a "DRAFT" watermark is no title."""
        first = next((page for page in self.pages if page), None)
        if not self.chars or first is None:
            return ""
        body = self.body()
        rows = [(min(size for _, _, size in runs), " ".join("".join(t for t, _, _ in runs).split()))
                for _, runs in sorted(first.items(), key=lambda row: -row[0])]
        top = max(size for size, _ in rows)
        if top < body * 1.25:
            return ""
        picked = [n for n, (size, _) in enumerate(rows) if size == top]
        lines = [rows[picked[0]][1]]
        for n in picked[1:3]:
            if n != picked[0] + len(lines):
                break
            lines.append(rows[n][1])
        text = " ".join(lines)
        repeated = any(_SQUEEZE.sub("", text) == _SQUEEZE.sub("", "".join(t for t, _, _ in runs))
                       and min(size for _, _, size in runs) == top
                       for page in self.pages if page is not first for runs in page.values())
        if repeated or len(text.split()) > 20 or not re.search(r"[^\W\d_]{3}", text):
            return ""
        return text

    def note_starts(self) -> list[set[str]]:
        """Per page, the texts (spaces removed) of the lines that open a footnote: a row in
        type smaller than the body's that starts with a mark ("1", "*", "†"), or a mark set
        small and raised, alone on its row, over the row just below it, which starts the line.
        A reference mark in the text is raised over a line that does not start with it, so it
        opens nothing."""
        body = self.body()
        out = []
        for page in self.pages:
            rows = sorted(page.items())  # from the foot of the page up
            sizes = [max(size for _, _, size in runs) for _, runs in rows]
            # the notes stand below the page's text in body type (a table in small type higher
            # up, "4 CARD32 MIME_TYPE_OFFSET", is no note)
            foot = min((y for (y, _), size in zip(rows, sizes, strict=True) if size >= 0.95 * body),
                       default=float("inf"))
            found = set()
            for k, (y, runs) in enumerate(rows):
                text = "".join(t for t, _, _ in runs).strip()
                if y < foot and sizes[k] <= 0.9 * body and _NOTE_START.match(text):
                    found.add(_SQUEEZE.sub("", text))
                    continue
                if not (_NOTE_MARK.fullmatch(text) and sizes[k] <= 0.8 * body):
                    continue
                below = [row for yy, row in rows[:k] if y - 10 <= yy < y]
                note = text + _SQUEEZE.sub("", "".join(t for t, _, _ in below[-1])) if below else ""
                if _NOTE_START.match(note):
                    found.add(note)
            out.append(found)
        return out

    def heading_lines(self, bookmarks: dict[int, set[str]] | None = None
                      ) -> list[dict[str, float]]:
        """Per page, the texts (spaces removed) of the lines set wholly in a heading's font, or
        that a bookmark of that page names (`bookmarks`: _outline), with their type size (the
        smallest in the line)."""
        if not self.chars:
            return [{} for _ in self.pages]
        body = self.body()
        bold_ok = self.bold_chars < sum(self.chars.values()) / 6
        out = []
        for number, page in enumerate(self.pages):
            named = (bookmarks or {}).get(number, set())
            found = {}
            for runs in page.values():
                size = min(size for _, _, size in runs)
                text = _SQUEEZE.sub("", "".join(text for text, _, _ in runs))
                if (body > 0 and size >= body * _LARGER) or (
                        bold_ok and all(bold for _, bold, _ in runs)) or text in named:
                    found[text] = size
            out.append(found)
        return out


_NOTE_MARK = re.compile(r"\d{1,3}|[*\u2020\u2021]{1,3}")  # a footnote's mark: "1", "*", "†"
# A note's first line: its mark, then its text in capitals ("1Representative payee...", "3 See").
_NOTE_START = re.compile(r"(?:\d{1,3}|[*\u2020\u2021]{1,3}) ?(?=[A-Z\u00c0-\u00de\u201e\u201c\"(])"
                         r".*[^\W\d_]{3}")


# Beside a program's placeholder (formats.placeholder_title), a PDF's Info title may be the
# file's name ("10811.exe") or path, as a printer driver writes it.
_FILE_TITLE = re.compile(r"\.[a-z][a-z0-9]{1,4}\s*$|[\\/]", re.I)


def _outline(reader) -> dict[int, set[str]]:
    """The file's bookmarks (its outline) as {page index: titles, spaces removed}. Word writes
    one per heading when it saves as PDF ("Create bookmarks using headings"), LaTeX's hyperref
    one per section: a line that a bookmark of its page names is a heading whatever its font
    (Word's Heading 4 is body-size italic). A damaged outline is no outline."""
    found: dict[int, set[str]] = {}

    def walk(items) -> None:
        for item in items:
            if isinstance(item, list):
                walk(item)
                continue
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # noqa: BLE001 - a bookmark to nowhere names no page
                continue
            title = _SQUEEZE.sub("", str(getattr(item, "title", "") or ""))
            if page is not None and page >= 0 and title:
                found.setdefault(page, set()).add(title)

    try:
        walk(reader.outline)
    except Exception:  # noqa: BLE001 - pypdf raises many types on a damaged outline
        return {}
    return found


def _file_metadata(reader) -> dict:
    """The title and date the file states (its Info dictionary, as Word and LibreOffice write
    from the document's properties), for a document metadata.toml does not describe. A title a
    program made up is left out; the title set large on the first page (`_LineFonts.title`),
    else the first line of the text, stands in for it."""
    meta: dict[str, str] = {}
    try:
        info = reader.metadata
        title = " ".join(str(info.title or "").split()) if info is not None else ""
    except Exception:  # a damaged Info dictionary costs only the metadata
        return meta
    if info is None:
        return meta
    if title and len(title) <= 200 and any(c.isalpha() for c in title) \
            and not placeholder_title(title) and not _FILE_TITLE.search(title):
        meta["title"] = title
    for stamp in ("modification_date", "creation_date"):
        try:  # dates are often malformed ("D:20240312Z'"): then there is none
            when = getattr(info, stamp)
        except Exception:
            continue
        if when is not None:
            meta["date"] = when.date().isoformat()
            break
    return meta


def _short(exc: Exception, limit: int = 120) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


# ---------------------------------------------------------------- running headers and footers


def _edge_lines(lines: list[str]) -> list[tuple[int, str]]:
    """(index, zone) of the first and last few non-blank lines of a page; zone 't' or 'b'.
    A page of one or two lines has no header or footer: its lines are its text."""
    filled = [i for i, line in enumerate(lines) if line.strip()]
    if len(filled) < 3:
        return []
    top = [(i, "t") for i in filled[:_EDGE]]
    bottom = [(i, "b") for i in filled[-_EDGE:] if i not in filled[:_EDGE]]
    return top + bottom


def _skeleton(line: str) -> str:
    """A line with digits and spacing removed, case folded: what repeats in a running header."""
    return re.sub(r"[\W\d_]+", "", line).casefold()


def _page_number(line: str) -> int | None:
    """The number a header/footer line carries at its start or end (not a list item "3. ...")."""
    lone = _LONE_NUMBER.match(line)
    if lone:
        token = lone.group(1)
        return int(token) if token.isdigit() else None
    if _LIST_START.match(line) or len(line.split()) > 14:
        return None
    of = _PAGE_OF.search(line)
    if of:
        return int(of.group(1) or of.group(2))
    m = _NUMBER_AT_EDGE.search(line)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def running_lines(pages: list[list[str]]) -> tuple[dict[int, set[int]], dict[int, int]]:
    """For each page index, the indices of its running header/footer lines; and the printed
    page number of each page index where one was found."""
    from rapidfuzz import fuzz

    out: dict[int, set[int]] = {}
    n = len(pages)
    edges = {p: _edge_lines(lines) for p, lines in enumerate(pages)}

    # (a) The same text (digits aside) at the same edge of many pages: of both pages of a
    # two-page file too, where only the very same text counts (not a near one).
    if n == 2:
        for zone in ("t", "b"):
            first, second = ({_skeleton(pages[p][i]): i for i, z in edges[p] if z == zone}
                             for p in (0, 1))
            for skel in first.keys() & second.keys():
                if len(skel) >= 8:
                    out.setdefault(0, set()).add(first[skel])
                    out.setdefault(1, set()).add(second[skel])
    if n >= 3:
        need = max(3, math.ceil(0.3 * n))
        after_first = {p for p, e in edges.items() if e and p > 0}
        outermost = {zone: {(p, [i for i, z in e if z == zone][0 if zone == "t" else -1])
                            for p, e in edges.items() if any(z == zone for _i, z in e)}
                     for zone in ("t", "b")}
        for zone in ("t", "b"):
            cands = [(p, i, _skeleton(pages[p][i])) for p, e in edges.items() for i, z in e
                     if z == zone]
            cands = [c for c in cands if len(c[2]) >= 4]
            for p, i, skel in cands:
                similar = [(q, j) for q, j, other in cands
                           if q != p and fuzz.ratio(skel, other) >= 85]
                found = {q for q, _j in similar} | {p}
                # Word's "different first page": the header stands on every page but the first,
                # the same words at the very edge of each (not a paragraph's line that two
                # pages happen to share)
                first_page_off = len(found) >= 2 and found >= after_first and all(
                    (q, j) in outermost[zone] and _skeleton(pages[q][j]) == skel
                    for q, j in [(p, i), *similar])
                if (len(found) >= need or first_page_off) and \
                        not _numbered_sequence(pages, [(p, i), *similar], n):
                    out.setdefault(p, set()).add(i)

    # (b) A number that advances with the page: the printed page number; a front matter's
    # in Roman numerals ("i", "ii") before it.
    printed: dict[int, int | str] = {}
    for p, i in _numbered_edges(pages, edges):
        out.setdefault(p, set()).add(i)
        printed[p] = _page_number(pages[p][i])
    for p, (i, numeral) in _roman_edges(pages, edges, printed).items():
        out.setdefault(p, set()).add(i)
        printed[p] = numeral
    # (c) A page left blank but for its header and footer (a chapter that starts on a right-hand
    # page, Word's odd-page section break): too short to have edges of its own, its every line
    # is a running line removed from the other pages, the same words, numbers aside, or its
    # page number. Not a page with one line of text of its own (a contents page's last entry,
    # "Stichwortverzeichnis 111", whose words head the index's pages).
    removed = {_skeleton(pages[p][i]) for p, found in out.items() for i in found}
    removed.discard("")
    for p, lines in enumerate(pages):
        filled = [i for i, line in enumerate(lines) if line.strip()]
        if n >= 3 and 0 < len(filled) < 3 and all(
                _skeleton(lines[i]) in removed or _LONE_NUMBER.match(lines[i]) for i in filled):
            out.setdefault(p, set()).update(filled)
    # (d) A web page a browser printed: its address with "page/pages" ("1/1", "2/3") stands at
    # an edge of each page, and with it the date and time of printing, over the page's title
    # or alone when the page has none. On one page nothing repeats; on several, the date alone
    # has too few letters to count as repeated text. (The type may set "file:" with the "fi"
    # ligature: compared in compatibility form.)
    for p, page_edges in edges.items():
        printed_from = [i for i, _zone in page_edges
                        if _printed_from(unicodedata.normalize("NFKC", pages[p][i]), p, n)]
        if printed_from:
            out.setdefault(p, set()).update(printed_from + [
                i for i, _zone in page_edges if _PRINTED_AT.match(pages[p][i])])
    return out, printed


def _printed_from(line: str, page: int, pages: int) -> bool:
    """A browser's print footer: an address, then this page's number over the count of pages."""
    match = _PRINTED_FROM.match(line)
    return bool(match) and (int(match.group(1)), int(match.group(2))) == (page + 1, pages)


def _numbered_sequence(pages: list[list[str]], lines: list[tuple[int, int]], n: int) -> bool:
    """Lines alike but for their numbers that count 1, 2, 3 down the document on some of its
    pages only: each a section's heading at the top of the page it starts ("SECTION 1" ...
    "SECTION 4" over 12 pages), not a running header, which stands on (nearly) every page."""
    if len(lines) > 0.6 * n:
        return False
    numbers = []
    for p, i in sorted(lines):
        found = re.search(r"\d+", pages[p][i])
        if found is None:
            return False
        numbers.append(int(found.group()))
    return all(b == a + 1 for a, b in zip(numbers, numbers[1:], strict=False))


def _numbered_edges(pages, edges) -> list[tuple[int, int]]:
    """(page index, line index) of edge lines whose number is the page's printed number."""
    cands, zones = [], {}
    for p, e in edges.items():
        for i, zone in e:
            number = _page_number(pages[p][i])
            if number is not None:
                cands.append((p, i, number - p))
                zones[p, i] = zone
    if not cands:
        return []
    n = len(pages)
    if n == 1:  # one page: only a lone "1", or "Page 1 of 1", at an edge is told for a footer
        return [(p, i) for p, i, shift in cands if shift == 1 and (
            _LONE_NUMBER.match(pages[p][i]) or _ONE_OF_ONE.search(pages[p][i]))]
    shifts = Counter(shift for _p, _i, shift in cands)
    mode, count = shifts.most_common(1)[0]
    if count < 2:  # no two pages agree: numbers that do not advance with the page
        return []
    near = [(p, i, shift) for p, i, shift in cands if abs(shift - mode) <= 1]
    if len({p for p, _i, _s in near}) < max(2, math.ceil(0.3 * n)):
        return []
    # One page-number line per page: the one closest to the mode, then the one at the edge
    # where the other pages have theirs (page 1's footer "1", not its "SECTION 1" heading).
    edge = Counter(zones[p, i] for p, i, _s in near).most_common(1)[0][0]
    best: dict[int, tuple[int, int]] = {}
    for p, i, shift in sorted(near, key=lambda c: (abs(c[2] - mode), zones[c[0], c[1]] != edge)):
        best.setdefault(p, (i, shift))
    return [(p, i) for p, (i, _s) in sorted(best.items())]


# A lone Roman numeral at a page's edge, and what each stands for (up to 199 pages of front
# matter): "iv" is 4, "iiii" nothing
_LONE_ROMAN = re.compile(r"^\s*([ivxlc]{1,8}|[IVXLC]{1,8})\s*$")
_ROMAN_VALUES = {list_marker(v, "lower-roman"): v for v in range(1, 200)}


def _roman_edges(pages, edges, printed: dict) -> dict[int, tuple[int, str]]:
    """page index -> (line index, numeral) of the pages whose edge shows a lone Roman numeral
    that advances with the page: a manual's front matter (contents, foreword) numbered i, ii,
    iii before its text is numbered 1, 2, 3: on pages before the first Arabic one, where there
    is one. Two pages at least must agree, or the one page of front matter shows "i" before the
    Arabic numbers begin. Left unread, "ii" stayed in the text, and the contents' pages were
    cited "1" and "2", as its first policy pages are."""
    first_arabic = min(printed, default=len(pages))
    cands = []
    for p, page_edges in edges.items():
        for i, _zone in page_edges:
            m = _LONE_ROMAN.match(pages[p][i]) if p < first_arabic else None
            value = _ROMAN_VALUES.get(m.group(1).lower()) if m else None
            if value:
                cands.append((p, i, m.group(1), value - p))
    if not cands:
        return {}
    shift, count = Counter(c[3] for c in cands).most_common(1)[0]
    if count < 2 and not (len(cands) == 1 and cands[0][3] + cands[0][0] == 1 and printed):
        return {}
    found: dict[int, tuple[int, str]] = {}
    for p, i, numeral, s in cands:
        if s == shift:
            found.setdefault(p, (i, numeral))
    return found


def _labels_from_numbers(printed: dict[int, int | str], pages: int) -> list[str]:
    """Printed labels for every page: found numbers (a Roman numeral as printed), gaps filled
    from the nearest found Arabic one."""
    if not printed:
        return []
    labels = []
    found = sorted(p for p, number in printed.items() if isinstance(number, int))
    for p in range(pages):
        if p in printed:
            labels.append(str(printed[p]))
            continue
        if not found:
            labels.append(str(p + 1))
            continue
        near = min(found, key=lambda q: abs(q - p))
        value = printed[near] + (p - near)
        labels.append(str(value) if value > 0 else str(p + 1))
    return labels


def _file_page_labels(reader, pages: int) -> list[str]:
    """The file's own /PageLabels (e.g. "iii", "47705"), when it defines them."""
    try:
        root = reader.trailer["/Root"]
        if "/PageLabels" not in root:
            return []
        labels = list(reader.page_labels)
    except Exception:  # a malformed label tree only costs the printed numbers
        return []
    return [str(label) for label in labels] if len(labels) == pages else []


def _table_end(lines: list[str]) -> int | None:
    """The index of the page's last line where it is a table's row, else None."""
    last = next((i for i in range(len(lines) - 1, -1, -1) if lines[i].strip()), None)
    return last if last is not None and TABLE_ROW.search(lines[last]) else None


def _table_head(lines: list[str]) -> str | None:
    """The first row of the table a page ends in, where it reads as a header row: short cells,
    none a sentence. (The next page may open on it again: _without_repeated_header.)"""
    i = _table_end(lines)
    if i is None:
        return None
    while i > 0 and TABLE_ROW.search(lines[i - 1]):
        i -= 1
    cells = [cell.strip() for cell in lines[i].split("\t") if cell.strip()]
    if len(cells) < 2 or any(len(c.split()) > 8 or c.endswith(".") for c in cells):
        return None
    return lines[i]


def _without_repeated_header(lines: list[str], header: str | None) -> tuple[list[str], bool]:
    """A page's lines without the header row it repeats of the table the page before ended in
    (Word's "Repeat as header row", a browser's <thead>), and whether it did. Where a row breaks
    across the pages, its next lines stand under the repeated header, and the header's cells
    ran into them: "...notes any change that" / "Role<TAB>Duties the team should know about.".
    Without the header, the row's words go on from the page before (the page-break join)."""
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if header is None or first is None:
        return lines, False
    line, cells = lines[first].strip(), header.strip()
    if " ".join(line.split()) == " ".join(cells.split()):
        return lines[:first] + lines[first + 1:], True
    if line.startswith(cells) and line[len(cells):len(cells) + 1] in (" ", "\t"):
        return lines[:first] + [line[len(cells):].lstrip()] + lines[first + 1:], True
    return lines, False


def _line_number_gutter(lines: list[str]) -> set[int]:
    """Indices of a run of at least five lines "1", "2", "3"... (a transcript's line numbers)."""
    out: set[int] = set()
    run: list[int] = []
    expected = 1
    for i, line in enumerate(lines):
        token = line.strip()
        if token.isdigit() and int(token) == expected:
            run.append(i)
            expected += 1
            continue
        if len(run) >= 5:
            out.update(run)
        run, expected = ([i], 2) if token == "1" else ([], 1)
    if len(run) >= 5:
        out.update(run)
    return out


def _notes_apart(lines: list[str], starts: set[str]) -> list[str]:
    """A page's lines with each footnote (`starts`: _LineFonts.note_starts) a paragraph of its
    own: a blank line before it, its mark and its text apart ("1 Representative payee..."). At
    the foot of the page a note ran into the page's last paragraph ("...deposit slip;
    1Representative payee duties...")."""
    if not starts:
        return lines
    out: list[str] = []
    skip = False
    for n, line in enumerate(lines):
        if skip:
            skip = False
            continue
        text = line.strip()
        after = lines[n + 1].strip() if n + 1 < len(lines) else ""
        if _NOTE_MARK.fullmatch(text) and after and text + _SQUEEZE.sub("", after) in starts:
            text, skip = f"{text} {after}", True  # the raised mark on a line of its own
        elif not text or _SQUEEZE.sub("", text) not in starts:
            out.append(line)
            continue
        mark = _NOTE_MARK.match(text)
        if mark and text[mark.end():mark.end() + 1].isalpha():
            text = f"{text[:mark.end()]} {text[mark.end():]}"
        out += ["", text]
    return out


def _outside_numbered_lines(page) -> set[str]:
    """The texts a line-numbered page (a transcript, pleading paper) prints above its first
    numbered line or below its last: its header and footer ("Official - Subject to Final
    Review", the reporter's name), which no numbered line carries. Found by position, so it
    works on a single page where nothing can repeat."""
    numbers: list[tuple[float, float]] = []  # (x, y) of "1", "2", ... in turn
    texts: list[tuple[str, float]] = []

    def visit(text, cm, tm, _font, _size) -> None:
        if not text.strip():
            return
        x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
        y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
        token = text.strip()
        if token.isdigit() and int(token) == len(numbers) + 1:
            numbers.append((x, y))
        else:
            texts.append((token, y))

    try:
        page.extract_text(visitor_text=visit)
    except Exception:  # positions are a refinement; the text itself was already read
        return set()
    if not _is_gutter(numbers):
        return set()
    ys = [y for _x, y in numbers]
    spacing = abs(ys[0] - ys[-1]) / (len(ys) - 1)
    top, bottom = max(ys) + spacing / 2, min(ys) - spacing / 2
    return {" ".join(t.split()) for t, y in texts if y > top or y < bottom}


def _is_gutter(numbers: list[tuple[float, float]]) -> bool:
    """Whether the positions of "1", "2", ... are a line-number gutter: five or more, in one
    column (x within 15 pt: "9" and "10" align on their right), going down the page at one line
    spacing (every step within 20% of the median). A figure's labels 1-6 are not, and its page
    must keep its text."""
    if len(numbers) < 5:
        return False
    xs = [x for x, _y in numbers]
    steps = [a[1] - b[1] for a, b in zip(numbers, numbers[1:], strict=False)]
    median = sorted(steps)[len(steps) // 2]
    return (max(xs) - min(xs) <= 15 and median > 0
            and all(abs(step - median) <= 0.2 * median for step in steps))


def _furniture_lines(lines: list[str], gutter: set[int], furniture: set[str]) -> set[int]:
    """Indices of the edge lines (the first and last few outside the gutter) whose whole text is
    header/footer text (_outside_numbered_lines)."""
    if not furniture:
        return set()
    filled = [i for i, line in enumerate(lines) if line.strip() and i not in gutter]
    edges = filled[:_EDGE + 1] + filled[-(_EDGE + 1):]
    return {i for i in edges if " ".join(lines[i].split()) in furniture}


# ---------------------------------------------------------------- OCR noise


def ocr_noise(text: str, threshold: float = 0.5) -> float | None:
    """The share of tokens that are not word-like, when it is over `threshold` (else None).

    Real prose in any alphabetic language is mostly tokens of two or more letters; a text layer of
    OCR noise is mostly punctuation, stray letters and digit runs. Numeric tables are spared by
    counting as neither the tokens of digits alone ("2.18", "-6.81") and those of letters and
    digits together ("250g", "A4", "蒙牛1100g"): quantities and codes, which a product or price
    table is full of (a Chinese inventory PDF read 56% noise, 38% so; an OCR noise layer 78%
    either way).
    """
    tokens = text.split()
    counted = [t for t in tokens if not re.fullmatch(r"[\d.,:;%$()/-]+", t)
               and not (re.search(r"\d", t) and re.fullmatch(r"[^\W_]+", t))]
    if len(counted) < 5:
        return None
    words = sum(1 for t in counted if _WORDLIKE.match(t))
    noise = 1 - words / len(counted)
    return noise if noise > threshold else None

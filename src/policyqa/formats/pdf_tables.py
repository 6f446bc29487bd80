"""A PDF table's rows as lines of cells joined by tabs, as Word's and web pages' tables read.

Why: pypdf joins a row's cells with a single space and breaks a wrapped cell's lines into lines
of their own, in the order the file draws them. A gift table exported from Word read
"Gift Accept?" / "Who is told" / "Card or drawing Yes No one" / ..., one run-on "sentence"
that an answer highlighted whole, and a cell that wraps ("Food to share with the" / "team")
put its second line between its row's cells. The same table in the .docx reads one row a line,
"Food to share with the team<TAB>Yes<TAB>Team lead", each row a sentence of its own
(chunks.split_sentences); now the PDF reads so too, and its words are the Word file's.

How a table is told from text, by where pypdf's text visitor says each piece is drawn (and
where it ends, by its font's widths):
- A cell starts where a piece is drawn half an em or more past the end of the piece before it
  on its line: wider than a word gap (a justified TeX line's pieces are its words; a web page's
  table printed by a browser leaves 0.6 em between cells).
- A row is the pieces drawn at one height, its cells starting at two or more of the table's
  columns and nowhere else; the columns are where two rows, one after the other, start their
  cells, all at the same places (a numbered or bulleted list's marker and text also line up, so
  a row that opens with a list marker or a lone symbol is no table's).
- A cell whose lines are drawn one after another, each below the last at its left edge, holds
  its row's lines together: a web page's cells are set in the middle of their row, so beside a
  cell that wraps onto three lines the others stand at its second line's height, or between
  its lines (a browser's print of an intranet page; Word and LibreOffice set cells at the top).
- A row's pieces, and the lines its wrapped cells run on to, are drawn one after another. The
  two columns of a page set in two columns line up too, but each column is drawn whole before
  the next, so their lines are not a table's rows.
- A line below a row that starts at one of its columns, drawn among or right after that row's
  pieces, is a wrapped cell's next line.
- A line right above a table, drawn right before it, whose pieces are each centred over one of
  its columns is its header row (a web page centres its header cells).
Nothing is rewritten unless the rows hold exactly the characters of the text they replace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOLERANCE = 2.0  # points: a column's left edge, as two rows draw it
# A list item's marker: "1.", "a)", "iv.", a bullet (Word's symbol-font bullet is U+F0B7)
_LIST_MARKER = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,6})[.)]|[\u2022\u25cf\u25aa"
                          r"\u25e6\u2013\u2014\uf0b7\uf0a7\uf0d8\uf076\-*o]")
_ITEM = re.compile(rf"(?:{_LIST_MARKER.pattern})\s")  # a line that opens a list item
_BROKEN = re.compile(r"[^\W\d_]-$")  # a line that ends in a word broken by a hyphen
_SAME_LINE = 1.5  # points: pieces drawn this close in height stand on one line


@dataclass
class Piece:
    """Text pypdf drew from x to x_end (None: not known) at height y, in type of `size`, at
    [start, end) of the page's text; the n-th piece drawn."""

    n: int
    start: int
    end: int
    x: float
    y: float
    x_end: float | None
    size: float


class PageRuns:
    """Collects, from pypdf's text visitor, where each piece of a page's text is drawn. The
    visited texts, in order, are the page's text (pypdf's own line breaks and word gaps
    included), which is how a piece's offsets are known. `fonts` is shared by a file's pages:
    each font's widths are read once."""

    def __init__(self, fonts: dict | None = None):
        self.pieces: list[Piece] = []
        self.length = 0
        self.fonts = {} if fonts is None else fonts

    def _widths(self, font) -> dict | None:
        """The font's character widths (thousandths of an em), by pypdf's font reader; kept with
        the font object itself, so that its id is not reused while it is cached."""
        held = self.fonts.get(id(font))
        if held is None:
            from pypdf.generic._font import Font

            try:
                measured = Font.from_font_resource(font)
                # widths are the font's codes' (a composite font's codes are glyph numbers); the
                # text is the characters those codes show
                raw = measured.character_widths
                widths = {c: w for c, w in raw.items() if c not in measured.character_map}
                widths |= {shown: raw.get(code, raw.get("default", 500))
                           for code, shown in measured.character_map.items()}
            except Exception:  # noqa: BLE001 - a font pypdf cannot measure: no cells found by it
                widths = None
            held = self.fonts[id(font)] = (font, widths)
        return held[1]

    def visit(self, text, cm, tm, font, size) -> None:
        start = self.length
        self.length += len(text)
        if not text.strip():
            return
        try:
            x = float(tm[4] * cm[0] + tm[5] * cm[2] + cm[4])
            y = float(tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
            real = float(size or 0) * (tm[0] ** 2 + tm[1] ** 2) ** 0.5 * (
                cm[0] ** 2 + cm[1] ** 2) ** 0.5
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        widths = self._widths(font) if hasattr(font, "get") else None
        lead = len(text) - len(text.lstrip())
        x_end = None
        if widths and real > 0:
            default = widths.get("default", 500)
            x_end = x + sum(widths.get(c, default) for c in text.rstrip()) * real / 1000
        self.pieces.append(Piece(len(self.pieces), start + lead, start + len(text.rstrip()),
                                 x, y, x_end, real))


def _near(x: float, xs: list[float]) -> float | None:
    return next((c for c in xs if abs(c - x) <= _TOLERANCE), None)


def _lines(pieces: list[Piece]) -> list[list[Piece]]:
    """Pieces at one height (_SAME_LINE), from the top of the page down, each line's from left
    to right."""
    lines: list[list[Piece]] = []
    for p in sorted(pieces, key=lambda p: -p.y):
        if lines and lines[-1][0].y - p.y <= _SAME_LINE:
            lines[-1].append(p)
        else:
            lines.append([p])
    return [sorted(line, key=lambda p: p.x) for line in lines]


def _bands(pieces: list[Piece]) -> list[list[Piece]]:
    """The page's lines (_lines), from the top down, joined into one band where a table cell's
    wrapped lines span them (_cell_chains), so that the row they belong to reads as one."""
    lines = _lines(pieces)
    line_of = {p.n: i for i, line in enumerate(lines) for p in line}
    joined = [False] * len(lines)  # joined[i]: line i and the line below it are one band
    for chain in _cell_chains(pieces):
        at = sorted({line_of[p.n] for p in chain})
        top, bottom = at[0], at[-1]
        if _beside(chain, [p for line in lines[top:bottom + 1] for p in line]):
            joined[top:bottom] = [True] * (bottom - top)
    bands: list[list[Piece]] = []
    for i, line in enumerate(lines):
        if i and joined[i - 1]:
            bands[-1] += line
        else:
            bands.append(list(line))
    return bands


def _cell_chains(pieces: list[Piece]) -> list[list[Piece]]:
    """Runs of pieces drawn one after another on two or more lines, each line below the last
    (by no more than 1.6 of the type's size) and starting at the run's left edge: a cell's
    wrapped lines, as a table drawn cell by cell draws them (or a paragraph's lines)."""
    chains: list[list[Piece]] = []
    chain: list[Piece] = []
    for p in sorted(pieces, key=lambda p: p.n):
        before = chain[-1] if chain else None
        if before is not None and p.n == before.n + 1:
            if abs(p.y - before.y) <= _SAME_LINE and p.x > before.x and not _cell_start(before, p):
                chain.append(p)  # the line goes on
                continue
            if (_SAME_LINE < before.y - p.y <= 1.6 * max(before.size, p.size)
                    and abs(p.x - chain[0].x) <= _TOLERANCE):
                chain.append(p)  # the next line
                continue
        if chain and chain[-1].y < chain[0].y - _SAME_LINE:
            chains.append(chain)
        chain = [p]
    if chain and chain[-1].y < chain[0].y - _SAME_LINE:
        chains.append(chain)
    return chains


def _beside(chain: list[Piece], lines: list[Piece]) -> bool:
    """The chain is a table cell's lines: other cells stand beside it, on its lines or between
    them, above its last line (a web page centres a row's cells on its tallest cell's lines;
    Word sets them at the top), and none reaches into the space the chain's lines take. A
    paragraph's lines have nothing beside them; a paragraph right above a table's first row
    reaches across its columns."""
    left = min(p.x for p in chain)
    if any(p.x_end is None for p in chain):
        return False
    right = max(p.x_end for p in chain)
    members = {p.n for p in chain}
    others = [p for p in lines if p.n not in members]
    last = min(p.y for p in chain)
    if not any(p.y > last + _SAME_LINE for p in others):
        return False
    return all(p.x >= right - _TOLERANCE or (p.x_end is not None and p.x_end <= left + _TOLERANCE)
               for p in others)


def _cell_start(before: Piece, piece: Piece) -> bool:
    """`piece` is drawn half an em or more past the end of `before`, on one line: a new cell."""
    gap = max(before.size, piece.size, 6.0) / 2
    return before.x_end is not None and piece.x - before.x_end >= gap


def _starts(band: list[Piece]) -> list[float]:
    """Where the band's cells start, left to right: each of its lines' first piece, and each
    piece drawn apart from the one before it on its line (_cell_start)."""
    xs: list[float] = []
    for line in _lines(band):
        for before, p in zip([None, *line], line, strict=False):
            if (before is None or _cell_start(before, p)) and _near(p.x, xs) is None:
                xs.append(p.x)
    return sorted(xs)


def _columns(a: list[Piece], b: list[Piece]) -> list[float]:
    """The cells' left edges of two lines that start their cells at the same two or more
    places; none where they do not."""
    xs, ys = _starts(a), _starts(b)
    if len(xs) < 2 or len(xs) != len(ys) or any(abs(x - y) > _TOLERANCE
                                                for x, y in zip(xs, ys, strict=True)):
        return []
    return xs


def _row(text: str, band: list[Piece], columns: list[float]) -> bool:
    """The band's cells start at two or more of the columns and nowhere else, the first at the
    first, and its first cell does not open with a list marker or a lone symbol ("▶", "−")."""
    starts = _starts(band)
    at = {_near(x, columns) for x in starts} - {None}
    if len(at) < 2 or len(at) != len(starts) or _near(starts[0], columns) != columns[0]:
        return False
    return not _opens_item(text, band, starts)


def _opens_item(text: str, band: list[Piece], starts: list[float]) -> bool:
    """The band's first cell (its top line) is a list item's marker or a lone symbol."""
    first = _lines([p for p in band if p.x < starts[1] - _TOLERANCE])[0]
    marker = "".join(text[first[0].start:first[-1].end].split())
    return bool(_LIST_MARKER.fullmatch(marker)) or (len(marker) == 1 and not marker.isalnum())


def _drawn_together(pieces: list[Piece]) -> bool:
    """The pieces were drawn one after another, nothing else drawn among them."""
    ns = sorted(p.n for p in pieces)
    return ns[-1] - ns[0] + 1 == len(ns)


def _wrapped(text: str, row: list[Piece], band: list[Piece], columns: list[float]) -> bool:
    """`band` holds the next lines of `row`'s wrapped cells: its cells start at columns, it was
    drawn with the row, and either among the row's pieces (a table drawn cell by cell) or, drawn
    after them, it is no row and starts right of the first column (the last cells' next line,
    not the paragraph after the table)."""
    starts = _starts(band)
    if any(_near(x, columns) is None for x in starts) or not _drawn_together(row + band):
        return False
    if min(p.n for p in band) < max(p.n for p in row):
        return True
    return not _row(text, band, columns) and starts[0] > columns[0] + _TOLERANCE


def _header(text: str, band: list[Piece], table: _Table) -> bool:
    """`band`, drawn right before the table's first row and above it, is its header row, centred
    as a web page's header cells are (so they do not start where the rows' cells do): over each
    column a cell, wholly within it, and over each column but the last (whose right edge is not
    known) centred within 3 points, one of them set in from its column's left edge (a cell
    that fills its column is centred in it too, and a row misread starts so)."""
    columns, first = table.columns, table.rows[0]
    if (any(p.x_end is None for p in band) or not _drawn_together(band + first)
            or max(p.n for p in band) > min(p.n for p in first)):
        return False
    edges = [*columns[1:], float("inf")]  # where each column ends: the next one's left edge
    cells: list[list[Piece]] = [[] for _ in columns]
    for p in band:
        k = max((k for k, c in enumerate(columns) if c - _TOLERANCE <= p.x), default=None)
        if k is None or p.x_end > edges[k] + _TOLERANCE:
            return False
        cells[k].append(p)
    if not all(cells):
        return False
    inset = False  # a cell narrower than its column, centred in it: what tells a header
    for k, cell in enumerate(cells[:-1]):
        start, end = min(p.x for p in cell), max(p.x_end for p in cell)
        if abs((start + end) / 2 - (columns[k] + edges[k]) / 2) > 3.0:
            return False
        inset = inset or start > columns[k] + _TOLERANCE
    return inset and not _opens_item(text, band, [columns[0], columns[1]])


@dataclass
class _Table:
    columns: list[float]
    rows: list[list[Piece]]  # each row's pieces, its wrapped cells' next lines included


def _tables(text: str, pieces: list[Piece]) -> list[_Table]:
    """The page's tables, from the top down: two or more rows, one after the other (a wrapped
    cell's lines with its row; a row's lines, where its cells are set in its middle, are one band,
    _bands), drawn together and nothing else among them."""
    bands = _bands(pieces)
    tables: list[_Table] = []
    i = taken = 0  # the bands before `taken` are a table's
    while i < len(bands) - 1:
        columns = _columns(bands[i], bands[i + 1]) or (
            _columns(bands[i], bands[i + 2]) if i + 2 < len(bands) else [])
        if not columns or not _row(text, bands[i], columns):
            i += 1
            continue
        table = _Table(columns, [])
        j = i
        while j < len(bands) and _row(text, bands[j], columns):
            row = list(bands[j])
            j += 1
            while j < len(bands) and _wrapped(text, row, bands[j], columns):
                row += bands[j]
                j += 1
            if not _drawn_together(row):
                break
            table.rows.append(row)
        if len(table.rows) >= 2 and _drawn_together([p for row in table.rows for p in row]):
            if i > taken and _header(text, bands[i - 1], table):
                table.rows.insert(0, bands[i - 1])
            tables.append(table)
            i = taken = j
        else:
            i += 1
    return tables


def _cells(text: str, table: _Table, row: list[Piece]) -> str:
    """The row as one line: each cell's text (its lines joined by a space, or after a broken
    word's hyphen by none), joined by tabs. A cell's pieces on one line keep pypdf's own spacing
    between them."""
    cells: dict[float, list[list[Piece]]] = {c: [] for c in table.columns}
    for p in row:  # by height, then left to right: a piece belongs to the column it is in
        column = max((c for c in table.columns if c <= p.x + _TOLERANCE), default=table.columns[0])
        lines = cells[column]
        if lines and abs(lines[-1][-1].y - p.y) <= _SAME_LINE:
            lines[-1].append(p)
        else:
            lines.append([p])
    out = []
    for column in table.columns:
        parts = []
        for line in cells[column]:
            line.sort(key=lambda p: p.n)
            words = " ".join(text[line[0].start:line[-1].end].split())
            # the last cell's list items keep their lines ("PROCEDURE:" beside "1. Check...",
            # "2. Tell..."), as the items they are; other lines of a cell run on
            item = parts and column == table.columns[-1] and _ITEM.match(words)
            # a word broken at the line's end ("abso-" / "lute") is not two words; its hyphen
            # stays, as a compound's ("two-" / "person") must
            broken = parts and _BROKEN.search(parts[-1]) and words[:1].islower()
            parts.append(("\n" if item else "" if broken else " ") + words if parts else words)
        out.append("".join(parts))
    return "\t".join(out).strip("\t")


def _squeezed(text: str) -> list[str]:
    return sorted("".join(text.split()))


def tables_as_rows(text: str, runs: PageRuns) -> str:
    """The page's text with each table found read one row a line, cells joined by tabs."""
    if runs.length != len(text) or not runs.pieces:
        return text  # pypdf's visitor and its text disagree: read as pypdf reads
    out, at = [], 0
    for table in _tables(text, runs.pieces):
        pieces = [p for row in table.rows for p in row]
        start, end = min(p.start for p in pieces), max(p.end for p in pieces)
        if start < at:
            continue
        rows = "\n".join(_cells(text, table, sorted(row, key=lambda p: (-p.y, p.x)))
                         for row in table.rows)
        if _squeezed(rows) != _squeezed(text[start:end]):
            continue
        out += [text[at:start], rows]
        at = end
    return "".join(out) + text[at:]

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
- A row's pieces, and the lines its wrapped cells run on to, are drawn one after another. The
  two columns of a page set in two columns line up too, but each column is drawn whole before
  the next, so their lines are not a table's rows.
- A line below a row that starts at one of its columns, drawn among or right after that row's
  pieces, is a wrapped cell's next line.
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


def _cell_start(before: Piece, piece: Piece) -> bool:
    """`piece` is drawn half an em or more past the end of `before`, on one line: a new cell."""
    gap = max(before.size, piece.size, 6.0) / 2
    return before.x_end is not None and piece.x - before.x_end >= gap


def _starts(line: list[Piece]) -> list[float]:
    """Where the line's cells start: its first piece, and each piece drawn apart (_cell_start)."""
    xs = [line[0].x]
    for before, p in zip(line, line[1:], strict=False):
        if _cell_start(before, p) and _near(p.x, xs) is None:
            xs.append(p.x)
    return xs


def _columns(a: list[Piece], b: list[Piece]) -> list[float]:
    """The cells' left edges of two lines that start their cells at the same two or more
    places; none where they do not."""
    xs, ys = _starts(a), _starts(b)
    if len(xs) < 2 or len(xs) != len(ys) or any(abs(x - y) > _TOLERANCE
                                                for x, y in zip(xs, ys, strict=True)):
        return []
    return xs


def _row(text: str, line: list[Piece], columns: list[float]) -> bool:
    """The line's cells start at two or more of the columns and nowhere else, and it does not
    open with a list marker or a lone symbol ("▶", "−")."""
    starts = _starts(line)
    at = {_near(x, columns) for x in starts} - {None}
    first = [p for p in line if p.x < starts[1] - _TOLERANCE] if len(starts) > 1 else line
    marker = "".join(text[first[0].start:first[-1].end].split())
    return (len(at) >= 2 and len(at) == len(starts) and _near(line[0].x, columns) == columns[0]
            and not _LIST_MARKER.fullmatch(marker) and not (len(marker) == 1 and not marker.isalnum()))


def _drawn_together(pieces: list[Piece]) -> bool:
    """The pieces were drawn one after another, nothing else drawn among them."""
    ns = sorted(p.n for p in pieces)
    return ns[-1] - ns[0] + 1 == len(ns)


def _wrapped(text: str, row: list[Piece], line: list[Piece], columns: list[float]) -> bool:
    """`line` holds the next lines of `row`'s wrapped cells: its cells start at columns, it was
    drawn with the row, and either among the row's pieces (a table drawn cell by cell) or, drawn
    after them, it is no row and starts right of the first column (the last cells' next line,
    not the paragraph after the table)."""
    if any(_near(x, columns) is None for x in _starts(line)) or not _drawn_together(row + line):
        return False
    if min(p.n for p in line) < max(p.n for p in row):
        return True
    return not _row(text, line, columns) and line[0].x > columns[0] + _TOLERANCE


@dataclass
class _Table:
    columns: list[float]
    rows: list[list[Piece]]  # each row's pieces, its wrapped cells' next lines included


def _tables(text: str, pieces: list[Piece]) -> list[_Table]:
    """The page's tables, from the top down: two or more rows, one after the other (a wrapped
    cell's lines with its row), drawn together and nothing else among them."""
    lines = _lines(pieces)
    tables: list[_Table] = []
    i = 0
    while i < len(lines) - 1:
        columns = _columns(lines[i], lines[i + 1]) or (
            _columns(lines[i], lines[i + 2]) if i + 2 < len(lines) else [])
        if not columns or not _row(text, lines[i], columns):
            i += 1
            continue
        table = _Table(columns, [])
        j = i
        while j < len(lines) and _row(text, lines[j], columns):
            row = list(lines[j])
            j += 1
            while j < len(lines) and _wrapped(text, row, lines[j], columns):
                row += lines[j]
                j += 1
            if not _drawn_together(row):
                break
            table.rows.append(row)
        if len(table.rows) >= 2 and _drawn_together([p for row in table.rows for p in row]):
            tables.append(table)
            i = j
        else:
            i += 1
    return tables


def _cells(text: str, table: _Table, row: list[Piece]) -> str:
    """The row as one line: each cell's text (its lines joined by a space), joined by tabs.
    A cell's pieces on one line keep pypdf's own spacing between them."""
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
            parts.append(("\n" if item else " ") + words if parts else words)
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

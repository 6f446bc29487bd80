"""Spreadsheets embedded in a document (cells pasted from Calc or Excel, Insert > Object >
Excel worksheet): the sheet the document shows, as the lines of a table. The Word and
OpenDocument readers read them where they stand, so a rota or a fee table in one is cited as
the document's own text. A spreadsheet file on its own is still not read (see documents.py).

An embedded Excel workbook (.xlsx) is read with openpyxl, the maintained pure-Python reader of
the format; its cells hold values, and a number is shown as its format says for the usual
formats (decimals, thousands, per cent, a currency sign), as the sheet shows it, since a
citation quotes what the reader sees.
"""

from __future__ import annotations

import datetime as dt
import io
import re

from . import DocumentError


def sheet_lines(rows: list[list[str]]) -> list[str]:
    """A spreadsheet's rows as the lines of a table (cells tab-separated), less what a sheet
    holds beyond its table: empty rows, and the empty cells at a row's end (a sheet's columns
    run on, and "Day\tPhone\t\t" would not read as the table does)."""
    lines = []
    for row in rows:
        cells = [" ".join(c.split()) for c in row]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            lines.append("\t".join(cells))
    return lines


def xlsx_rows(blob: bytes) -> list[list[str]]:
    """The rows of an Excel workbook's active sheet (the one it shows when opened, and the
    picture Word shows of it), its hidden rows and columns left out, each cell as shown.
    Raises DocumentError for a workbook openpyxl cannot open."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(blob), data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds on a damaged file
        raise DocumentError(f"damaged Excel workbook ({type(exc).__name__})") from exc
    sheet = book.active
    if sheet is None or not hasattr(sheet, "iter_rows"):
        return []
    hidden = set()  # hidden columns' letters; a run of them is one entry, from min to max
    for letter, dim in sheet.column_dimensions.items():
        if dim.hidden:
            ends = range(dim.min or 1, (dim.max or 0) + 1)
            hidden |= {letter} | {openpyxl.utils.get_column_letter(n) for n in ends}
    rows = []
    for row in sheet.iter_rows():
        if row and sheet.row_dimensions[row[0].row].hidden:
            continue
        rows.append([shown(c.value, c.number_format) for c in row
                     if c.column_letter not in hidden])
    return rows


# A format's parts that show as themselves: "text", \c, [$X-locale] (a currency sign),
# and signs and spaces; _x (a space as wide as x) and *x (fill) show nothing here.
_LITERAL = re.compile(r'"([^"]*)"|\\(.)|\[\$([^-\]]*)[^\]]*\]|\[[^\]]*\]|_.|\*.'
                      r"|([$\u00a3\u20ac\u00a5 ()+:/-])")


def _literal(part: str) -> str:
    return "".join(m.group(1) or m.group(2) or m.group(3) or m.group(4) or ""
                   for m in _LITERAL.finditer(part))


def shown(value, number_format: str = "General") -> str:
    """A cell's value as a sheet shows it under its number format, for the usual formats:
    decimals ("0.00"), thousands ("#,##0"), per cent ("0%"), a currency sign or words around
    the number ("$#,##0.00", "[$\u20ac-407] #,##0", '0" days"'); a date as its ISO date. A
    negative number shows a minus sign (the format's second part, red or in brackets, is not
    followed)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if not isinstance(value, int | float):
        return str(value)
    section = (number_format or "General").split(";")[0]
    places = [m.start() for m in re.finditer(r'"[^"]*"|\\.|\[[^\]]*\]|([0#?])', section)
              if m.group(1)]
    if section == "General" or not places:
        return str(int(value)) if float(value).is_integer() else f"{value:.10g}"
    digits = section[places[0]:places[-1] + 1]
    decimals = len(digits.split(".", 1)[1]) if "." in digits else 0
    number = value * 100 if "%" in section else value
    text = f"{abs(number):{',' if ',' in digits else ''}.{decimals}f}"
    before, after = _literal(section[:places[0]]), _literal(section[places[-1] + 1:])
    text = f"{before}{text}{after}{'%' if '%' in section else ''}"
    return f"-{text}" if number < 0 else text

"""Spreadsheets embedded in documents (formats/sheets.py): the sheet shown, as a table's
lines, each cell as the sheet shows it. Workbooks written by openpyxl itself; the Word and
OpenDocument files LibreOffice saved with one are read in test_odt.py."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from policyqa.formats import DocumentError
from policyqa.formats.sheets import sheet_lines, shown, xlsx_rows


def _workbook() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    old = book.active
    old.title = "2026"
    old.append(["Item", "Limit"])
    old.append(["Bus fare", 3])
    fees = book.create_sheet("2027")
    fees.append(["Item", "Limit", "Internal code", "Share"])
    fees.append(["Bus fare", 4.5, "BF-1", 0.25])
    fees.append(["Withdrawn item", 9, "WX", 0.1])
    fees.append([])
    fees.append(["Gift card", 25, "GC-2", 1, dt.datetime(2027, 1, 1)])
    for row in (2, 5):
        fees.cell(row, 2).number_format = '"$"#,##0.00'
        fees.cell(row, 4).number_format = "0%"
    fees.row_dimensions[3].hidden = True  # a row a reader does not see
    fees.column_dimensions["C"].hidden = True
    book.active = 1  # the sheet it was left on, and the one Word shows
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_the_active_sheet_is_read_as_shown_less_hidden_rows_and_columns():
    assert sheet_lines(xlsx_rows(_workbook())) == [
        "Item\tLimit\tShare",
        "Bus fare\t$4.50\t25%",
        "Gift card\t$25.00\t100%\t2027-01-01",
    ]


def test_a_damaged_workbook_is_a_document_error():
    with pytest.raises(DocumentError, match="damaged Excel workbook"):
        xlsx_rows(_workbook()[:300])


@pytest.mark.parametrize(("value", "number_format", "text"), [
    (20, "$#,##0.00", "$20.00"),
    (1234567, "#,##0", "1,234,567"),
    (0.125, "0.0%", "12.5%"),
    (-5, "[$\u20ac-407] #,##0.00", "-\u20ac 5.00"),
    (3, '0" days"', "3 days"),
    (1500, '_($* #,##0.00_);_($* (#,##0.00);_($* "-"??_);_(@_)', "$1,500.00"),
    (8.0, "General", "8"),
    (0.45, "General", "0.45"),
    (True, "General", "TRUE"),
    ("Crisis line", "@", "Crisis line"),
    (dt.datetime(2027, 3, 1, 9, 30), "General", "2027-03-01 09:30:00"),
])
def test_a_cell_is_shown_as_its_number_format_says(value, number_format, text):
    assert shown(value, number_format) == text


def test_sheet_lines_drop_empty_rows_and_the_empty_cells_at_a_row_end():
    assert sheet_lines([["Day", "Phone", "", ""], ["", "", ""], ["", "555  0101"]]) == [
        "Day\tPhone", "\t555 0101"]

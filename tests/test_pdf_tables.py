"""formats/pdf_tables.py: a PDF table's rows read as Word's do, one a line, cells joined by tabs,
each row a sentence; two-column text and numbered lists are no tables. Real PDFs: fpdf2's
tables, the committed LibreOffice export and the Chrome print of a web page."""

from __future__ import annotations

from pathlib import Path

from conftest import fixed_pages_pdf

from policyqa.chunks import make_chunks
from policyqa.config import ChunkSettings
from policyqa.documents import read_document
from policyqa.sections import parse_sections

FIXTURES = Path(__file__).parent / "fixtures"
ROWS = [("Gift", "Accept?", "Who is told"),
        ("Cash or a gift card of any value at all", "No", "The supervisor, on the same working day"),
        ("Food to share with the team", "Yes", "Team lead"),
        ("A hand-made card", "Yes", "No one")]


def _sentences(doc) -> list[str]:
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    return [doc.text[s:e] for c in chunks for s, e in c.sentences]


def _gift_table(path: Path) -> Path:
    pdf = fixed_pages_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Gifts\n\nStaff follow the table below when a client offers a gift.")
    pdf.ln(2)
    # narrow columns: the long cells wrap onto two lines; set at the top of their row, as
    # Word and LibreOffice set a cell
    with pdf.table(col_widths=(40, 20, 40), width=100, align="LEFT", v_align="TOP") as table:
        for cells in ROWS:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.multi_cell(0, 6, "Gifts of cash or gift cards are declined in every case.")
    pdf.output(str(path))
    return path


def test_a_table_reads_one_row_a_line_its_wrapped_cells_joined(tmp_path: Path):
    doc = read_document(_gift_table(tmp_path / "gifts.pdf"))
    rows = "\n".join("\t".join(cells) for cells in ROWS)
    assert rows in doc.text, doc.text
    sentences = _sentences(doc)
    for cells in ROWS[1:]:
        assert "\t".join(cells) in sentences  # a row is a sentence of its own, whole
    assert "Gifts of cash or gift cards are declined in every case." in sentences
    assert "Staff follow the table below when a client offers a gift." in sentences


def test_cells_set_in_the_middle_of_their_row_read_as_their_row(tmp_path: Path):
    """A web page (and fpdf2, by default) sets a row's cells in the middle of its tallest cell:
    beside a cell that wraps, the others stand between its lines. Each row still reads whole,
    as one line, and the paragraph right above the table (set at the first column's left edge,
    drawn right before it) stays out of its first row. A compound broken after its hyphen
    keeps it, with no space."""
    rows = [("Cash or a gift card of any value at all", "No", "The supervisor, on the same working day"),
            ("Food to share with the team", "Yes", "Team lead"),
            ("A hand-made card", "Yes", "A two-person check is not needed")]
    home = [("A cup of tea", "Yes", "No one"), ("A meal cooked for the visit", "Yes", "Team lead")]
    pdf = fixed_pages_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 5, "Staff follow the table below when a client offers a gift, and they tell the "
                         "duty supervisor the same day when they are not sure what it says.",
                   new_x="LMARGIN", new_y="NEXT")
    with pdf.table(col_widths=(40, 20, 40), width=100, align="LEFT", line_height=5,
                   first_row_as_headings=False) as table:
        for cells in rows:
            row = table.row()
            for cell in cells:
                row.cell(cell.replace("two-person", "two-\nperson"))
    pdf.ln(8)
    pdf.multi_cell(0, 5, "At home:", new_x="LMARGIN", new_y="NEXT")  # a short line, right above
    with pdf.table(col_widths=(40, 20, 40), width=100, align="LEFT", line_height=5,
                   first_row_as_headings=False) as table:
        for cells in home:
            row = table.row()
            for cell in cells:
                row.cell(cell)
    pdf.output(str(tmp_path / "middle.pdf"))
    doc = read_document(tmp_path / "middle.pdf")
    lines = doc.text.splitlines()
    assert "At home:" in lines
    for cells in rows + home:
        assert "\t".join(cells) in lines, doc.text  # the row's line, and nothing else on it
    sentences = _sentences(doc)
    for cells in rows:
        assert "\t".join(cells) in sentences
    assert ("Staff follow the table below when a client offers a gift, and they tell the duty "
            "supervisor the same day when they are not sure what it says.") in [
        " ".join(s.split()) for s in sentences]


def test_a_browser_print_reads_its_table_as_the_web_page_does():
    """Chrome's print of an intranet page (fixtures/printed/home-visits.html, by make.sh): its
    header cells centred over their columns, its cells in the middle of their rows. The PDF's
    rows are the web page's own, word for word."""
    page = read_document(FIXTURES / "printed" / "home-visits.html")
    rows = [line for line in page.text.splitlines() if "\t" in line]
    assert len(rows) == 4 and rows[0] == "Situation\tWhat to do\tWho is told"
    printed = read_document(FIXTURES / "printed" / "home-visits.pdf")
    assert "\n".join(rows) in printed.text, printed.text
    sentences = _sentences(printed)
    assert all(row in sentences for row in rows)
    assert "A weapon is seen\tLeave at once, then call the police from a safe place\tDuty supervisor and " \
           "the police, the same day, in writing" in sentences


def test_a_word_export_and_a_browser_print_read_their_tables_as_rows():
    """LibreOffice's export of a Word file (the committed fixture) and Chrome's print of a web
    page: rows as the .docx and the web page read them. A table's bold header row is no heading."""
    visits = read_document(FIXTURES / "exported" / "home-visits-procedure.pdf")
    assert ("Situation\tAction\nClient is intoxicated\tEnd the visit and rebook\n"
            "Weapon seen\tLeave and call the police") in visits.text
    assert "Weapon seen\tLeave and call the police" in _sentences(visits)
    printed = read_document(FIXTURES / "printed" / "client-funds.pdf")
    for row in ("Gift\tAccept?\tWho is told", "Card or drawing\tYes\tNo one",
                "Food to share\tYes\tSupervisor", "Cash or gift card\tNo\tSupervisor"):
        assert row in _sentences(printed)
    structure = parse_sections(printed)
    assert not any("\t" in s.label for s in structure.sections)


def test_two_columns_of_text_and_a_numbered_list_are_no_tables(tmp_path: Path):
    """A page set in two columns lines its columns up as a table's, but draws each column whole;
    a list's numbers and its text line up too. Neither gains a tab."""
    pdf = fixed_pages_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    with pdf.text_columns(ncols=2, gutter=10) as columns:
        columns.write(text="Staff keep a record of every visit and note what was discussed. " * 14)
    pdf.output(str(tmp_path / "columns.pdf"))
    pdf = fixed_pages_pdf()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for n, text in enumerate(["Check the file for risks", "Tell the duty supervisor",
                              "Carry a charged phone"], start=1):
        pdf.cell(8, 6, f"{n}.")
        pdf.cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "list.pdf"))
    for name in ("columns.pdf", "list.pdf"):
        assert "\t" not in read_document(tmp_path / name).text
    assert "1. Check the file for risks\n2. Tell" in read_document(tmp_path / "list.pdf").text

"""Each format reader on small real files made here (python-docx, fpdf2, HTML and Markdown text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import fixed_pages_pdf, make_pdf

from policyqa.chunks import make_chunks
from policyqa.cite import chunk_citation
from policyqa.config import ChunkSettings
from policyqa.documents import clean_text, load_corpus, read_document
from policyqa.formats import size_depths
from policyqa.normalize import normalize
from policyqa.sections import parse_sections


def _paths(doc) -> dict[str, str]:
    """Each paragraph's first words -> its full section path."""
    structure = parse_sections(doc)
    return {" ".join(doc.text[p.start:p.end].split()[:3]): structure.full_path_text(p.section)
            for p in structure.paragraphs}


def _pdf_of_lines(path: Path, *lines: str | tuple) -> Path:
    """A one-page PDF (fpdf2), a line per entry: text in 11 pt, or (text, size in pt) and
    (text, size, "B") for bold, as a word processor sets headings over their text. A line is
    as tall as its type (7 mm, more above 16 pt), or large lines run into one another."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()

    def line(text: str, size: float = 11, style: str = "") -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(0, max(7, size * 0.42), text, new_x="LMARGIN", new_y="NEXT")

    for entry in lines:
        if isinstance(entry, tuple):
            line(*entry)
        else:
            line(entry)
    pdf.output(str(path))
    return path


def test_docx_policy_laid_out_in_a_label_table(tmp_path: Path):
    """An agency template lays its policy out as a table: "PURPOSE", "POLICY", "PROCEDURE" in
    the left column, the text beside each. Read as rows, every passage was cited by the
    document's title alone; each label now heads its text, whose paragraphs stay apart. A
    glossary's rows ("Safety plan" / its definition) and the header fields stay rows."""
    import docx

    document = docx.Document()
    document.add_paragraph("Client Funds and Property", style="Title")
    fields = document.add_table(rows=0, cols=2)
    for label, value in (("Policy Number:", "FIN-204"), ("Effective Date:", "07/01/2024")):
        row = fields.add_row().cells
        row[0].text, row[1].text = label, value
    body = document.add_table(rows=0, cols=2)
    for label, *paragraphs in (
            ("PURPOSE", "This policy protects the money and the belongings of clients from loss "
                        "and from misuse."),
            ("PROCEDURE", "Count a client's cash in front of the client and a second staff member.",
             "Record the amount in the funds ledger and lock the cash in the program safe."),
            ("GIFTS", "Staff may accept a gift of nominal value, under $20, and tell their "
                      "supervisor the same day.")):
        row = body.add_row().cells
        row[0].text, row[1].text = label, paragraphs[0]
        for extra in paragraphs[1:]:
            row[1].add_paragraph(extra)
    document.add_heading("Definitions", level=1)
    glossary = document.add_table(rows=0, cols=2)
    for term, meaning in (("Safety plan", "A written plan agreed with the client that lists "
                                          "warning signs and the people to call."),
                          ("Crisis", "A situation in which a client is at immediate risk of "
                                     "harming themselves or someone else.")):
        row = glossary.add_row().cells
        row[0].text, row[1].text = term, meaning
    path = tmp_path / "funds.docx"
    document.save(path)
    doc = read_document(path)
    paths = _paths(doc)
    assert paths["This policy protects"] == "Purpose"
    assert paths["Count a client's"] == paths["Record the amount"] == "Procedure"
    assert "the program safe." in doc.text and "member.\nRecord the amount" in doc.text
    assert paths["Staff may accept"] == "Gifts"
    assert "Policy Number:\tFIN-204" in doc.text
    assert "Safety plan\tA written plan agreed" in doc.text
    assert paths["Safety plan A"] == "Definitions"


def test_html_policy_laid_out_in_a_label_table(tmp_path: Path):
    """The same layout on an intranet page: "PURPOSE" in a <th> beside its text in a <td>. Each
    label heads its text, one level below the page's heading; a glossary table stays rows."""
    page = tmp_path / "funds.html"
    page.write_text(
        "<html><body><h1>Client Funds</h1><table>"
        "<tr><th>PURPOSE</th><td>This policy protects the money and the belongings of clients "
        "from loss and from misuse.</td></tr><tr><th>PROCEDURE</th><td><p>Count a client's cash "
        "in front of the client and a second staff member.</p><p>Record the amount in the funds "
        "ledger and lock the cash in the program safe.</p></td></tr></table>"
        "<h2>Definitions</h2><table><tr><td>Safety plan</td><td>A written plan agreed with the "
        "client that lists warning signs and the people to call.</td></tr><tr><td>Crisis</td>"
        "<td>A situation in which a client is at immediate risk of harming themselves or "
        "someone else.</td></tr></table></body></html>", encoding="utf-8")
    doc = read_document(page)
    paths = _paths(doc)
    assert paths["This policy protects"] == "Purpose"
    assert paths["Count a client's"] == paths["Record the amount"] == "Procedure"
    assert "Safety plan\tA written plan agreed" in doc.text
    assert paths["Safety plan A"] == "Definitions"


def test_docx_headings_automatic_numbers_tables_and_properties(tmp_path: Path):
    import docx

    document = docx.Document()
    document.core_properties.title = "Visitor Policy"
    document.sections[0].header.paragraphs[0].text = "CONFIDENTIAL RUNNING HEADER"
    document.sections[0].footer.paragraphs[0].text = "Page footer text"
    document.add_heading("Visitor Policy", level=0)
    document.add_paragraph("This policy covers every site.")
    document.add_heading("Sign-in", level=1)
    document.add_paragraph("Visitors sign in at the front desk.", style="List Number")
    document.add_paragraph("Badges are worn at all times.", style="List Number")
    document.add_paragraph("Escorts are arranged by staff.", style="List Number")
    document.add_heading("Badges", level=2)
    document.add_paragraph("Lost badges are reported at once.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Area", "Escort"
    table.cell(1, 0).text, table.cell(1, 1).text = "Clinic", "Always"
    document.add_paragraph("Questions go to the site manager.")
    document.save(tmp_path / "visitors.docx")

    doc = read_document(tmp_path / "visitors.docx")
    assert doc.title == "Visitor Policy" and doc.date
    assert "RUNNING HEADER" not in doc.text and "footer" not in doc.text
    assert "1. Visitors sign in" in doc.text and "3. Escorts are arranged" in doc.text
    assert "Area\tEscort\nClinic\tAlways" in doc.text
    paths = _paths(doc)
    assert paths["2. Badges are"] == "Sign-in › 2"
    assert paths["3. Escorts are"] == "Sign-in › 3"
    assert paths["• Lost badges"] == "Sign-in › Badges"
    assert paths["Questions go to"] == "Sign-in › Badges"  # text after a list: its section
    assert paths["This policy covers"] == "Visitor Policy"


def _xml(fragment: str):
    from docx.oxml import parse_xml

    ns = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    head, rest = fragment.split(">", 1)
    return parse_xml(f"{head} {ns}>{rest}")


def _numbered_headings(document) -> None:
    """Word's numbered headings: a multilevel list whose levels name Heading 1 and Heading 2,
    linked from those styles (the number is in neither the text nor the paragraph)."""
    numbering = document.part.numbering_part.element
    numbering.insert(0, _xml(
        '<w:abstractNum w:abstractNumId="90">'
        '<w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:pStyle w:val="Heading1"/><w:lvlText w:val="%1."/></w:lvl>'
        '<w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        '<w:pStyle w:val="Heading2"/><w:lvlText w:val="%1.%2"/></w:lvl>'
        '<w:lvl w:ilvl="2"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/>'
        '<w:lvlText w:val="(%3)"/></w:lvl></w:abstractNum>'))
    numbering.append(_xml('<w:num w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for name in ("Heading 1", "Heading 2"):
        ppr = document.styles[name].element.get_or_add_pPr()
        ppr.append(_xml('<w:numPr><w:numId w:val="90"/></w:numPr>'))


def test_docx_reads_what_word_shows_nested_runs_controls_numbered_headings(tmp_path: Path):
    """Runs inside tracked insertions, content controls and fields are text; deletions, hidden
    runs and the generated contents list are not; numbered headings show their numbers."""
    import docx

    document = docx.Document()
    _numbered_headings(document)
    body = document.element.body
    toc = _xml(
        '<w:sdt><w:sdtPr><w:docPartObj><w:docPartGallery w:val="Table of Contents"/>'
        '</w:docPartObj></w:sdtPr><w:sdtContent>'
        '<w:p><w:r><w:t>Contents</w:t></w:r></w:p>'
        '<w:p><w:r><w:t>Purpose</w:t></w:r><w:r><w:tab/><w:t>1</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>')
    document.add_heading("Purpose", level=1)
    para = document.add_paragraph("Staff ")
    para._p.append(_xml('<w:ins w:id="1" w:author="HR" w:date="2024-01-01T00:00:00Z">'
                        '<w:r><w:t xml:space="preserve">must never </w:t></w:r></w:ins>'))
    para._p.append(_xml('<w:del w:id="2" w:author="HR" w:date="2024-01-01T00:00:00Z">'
                        '<w:r><w:delText>may sometimes </w:delText></w:r></w:del>'))
    para._p.append(_xml('<w:r><w:t xml:space="preserve">lend money to clients under </w:t></w:r>'))
    para._p.append(_xml('<w:sdt><w:sdtPr><w:alias w:val="Policy number"/></w:sdtPr><w:sdtContent>'
                        '<w:r><w:t xml:space="preserve">policy 7.2</w:t></w:r></w:sdtContent></w:sdt>'))
    para._p.append(_xml('<w:r><w:rPr><w:vanish/></w:rPr><w:t>SECRET DRAFTING NOTE</w:t></w:r>'))
    para._p.append(_xml('<w:r><w:t xml:space="preserve">, as </w:t></w:r>'))
    para._p.append(_xml('<w:fldSimple w:instr=" REF scope \\h "><w:r><w:t>Section 2</w:t></w:r>'
                        '</w:fldSimple>'))
    para._p.append(_xml('<w:r><w:t xml:space="preserve"> says.</w:t></w:r>'))
    document.add_heading("Scope", level=1)
    document.add_heading("Who it covers", level=2)
    wrapped = document.add_paragraph("Every employee and volunteer is covered.")
    control = _xml('<w:sdt><w:sdtPr><w:alias w:val="Body"/></w:sdtPr><w:sdtContent/></w:sdt>')
    wrapped._p.addprevious(control)
    control[1].append(wrapped._p)
    document.add_heading("Exceptions", level=2)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Emergency"
    cell = table.cell(0, 1)._tc
    cell.remove(cell.findall(f"{{{cell.nsmap['w']}}}p")[0])
    cell.append(_xml('<w:sdt><w:sdtPr/><w:sdtContent><w:p><w:r><w:t>Manager approves</w:t>'
                     '</w:r></w:p></w:sdtContent></w:sdt>'))
    document.add_paragraph("Contents entry", style=document.styles.add_style("TOC 1", 1))
    body.insert(0, toc)
    document.save(tmp_path / "lending.docx")

    doc = read_document(tmp_path / "lending.docx")
    assert ("Staff must never lend money to clients under policy 7.2, as Section 2 says."
            in doc.text)
    for hidden in ("may sometimes", "SECRET", "Contents", "Purpose\t1"):
        assert hidden not in doc.text
    assert "1. Purpose" in doc.text and "2.1 Who it covers" in doc.text
    assert "2.2 Exceptions" in doc.text and "Emergency\tManager approves" in doc.text
    paths = _paths(doc)
    assert paths["Every employee and"] == "2. Scope › 2.1 Who it covers"
    assert paths["Emergency Manager approves"] == "2. Scope › 2.2 Exceptions"


def test_docx_imported_parts_are_read_where_they_stand(tmp_path: Path):
    """A policy system's export leaves the policy in the Word package as a web page (or another
    Word file) that Word pours into the document where a w:altChunk stands when it opens it.
    python-docx skips those, so "Staff never lend money to a client" was lost without a word:
    only the export's cover lines were indexed. A part of a kind not read (RTF) is named."""
    import io

    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def imported(document, name: str, content_type: str, blob: bytes) -> None:
        part = Part(PackURI(f"/word/{name}"), content_type, blob, document.part.package)
        chunk = OxmlElement("w:altChunk")
        chunk.set(qn("r:id"), document.part.relate_to(
            part, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/aFChunk"))
        document.element.body.insert(len(document.element.body) - 1, chunk)  # before sectPr

    inner = docx.Document()
    inner.add_heading("3. Records", 1)
    inner.add_paragraph("Staff sign the funds log each day.")
    saved = io.BytesIO()
    inner.save(saved)
    document = docx.Document()
    document.add_heading("Client Funds Policy", 0)
    document.add_paragraph("Exported from the policy system.")
    imported(document, "chunk1.htm", "text/html", (
        b"<html><body><h1>1. Loans</h1><p>Staff never lend money to a client.</p><h1>2. Gifts"
        b"</h1><ul><li>Staff may accept a gift worth under $20.</li></ul><table><tr><td>Gift"
        b"</td><td>Who is told</td></tr><tr><td>Card</td><td>No one</td></tr></table>"
        b"</body></html>"))
    imported(document, "chunk2.docx", "application/vnd.openxmlformats-officedocument."
             "wordprocessingml.document.main+xml", saved.getvalue())
    document.add_heading("4. Review", 1)
    document.add_paragraph("The policy is reviewed every year.")
    imported(document, "chunk3.rtf", "application/rtf", rb"{\rtf1\ansi Signed.\par}")
    document.save(tmp_path / "funds.docx")

    doc = read_document(tmp_path / "funds.docx")
    assert doc.text == (
        "Client Funds Policy\n\nExported from the policy system.\n\n1. Loans\n\nStaff never "
        "lend money to a client.\n\n2. Gifts\n\n\u2022 Staff may accept a gift worth under $20."
        "\n\nGift\tWho is told\nCard\tNo one\n\n3. Records\n\nStaff sign the funds log each "
        "day.\n\n4. Review\n\nThe policy is reviewed every year.")
    paths = _paths(doc)
    assert paths["Staff never lend"] == "1. Loans" and paths["Staff sign the"] == "3. Records"
    assert doc.warnings == ["an imported part (application/rtf, altChunk) is not read: open the "
                            "file in Word and save it, which writes the part's text into the "
                            "document"]


def test_docx_embedded_objects_are_named_not_lost_in_silence(tmp_path: Path):
    """A policy with its form embedded by Insert > Object (a PDF, an Excel rota): Word shows an
    icon or a picture of it, and its contents are not the document's text. They were missing
    without a word; the file's report names them. One in a tracked deletion is not shown."""
    import docx
    from docx.oxml import parse_xml

    namespaces = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                  'xmlns:v="urn:schemas-microsoft-com:vml" '
                  'xmlns:o="urn:schemas-microsoft-com:office:office"')

    def embed(paragraph, prog_id: str, deleted: bool = False) -> None:
        run = (f'<w:r {namespaces}><w:object><v:shape id="s{prog_id}" o:ole=""/>'
               f'<o:OLEObject Type="Embed" ProgID="{prog_id}" ShapeID="s{prog_id}"/>'
               "</w:object></w:r>")
        if deleted:
            run = f'<w:del {namespaces} w:id="1" w:author="A">{run}</w:del>'
        paragraph._p.append(parse_xml(run))

    document = docx.Document()
    document.add_heading("Client Funds Policy", 0)
    embed(document.add_paragraph("The consent form:"), "AcroExch.Document.DC")
    embed(document.add_paragraph("The rota:"), "Excel.Sheet.12")
    embed(document.add_paragraph("Last year's rota:"), "Excel.Sheet.12")
    embed(document.add_paragraph("Removed:"), "Word.Document.12", deleted=True)
    document.save(tmp_path / "funds.docx")
    doc = read_document(tmp_path / "funds.docx")
    assert doc.warnings == ["its 3 embedded object(s) (a PDF, an Excel worksheet \u00d72) are "
                            "not read: Word shows them as icons or pictures; paste their text "
                            "into the document, or save them into the corpus folder"]
    assert "The rota:" in doc.text


def test_docx_embedded_excel_worksheet_is_read_where_it_stands(tmp_path: Path):
    """Insert > Object > Excel worksheet (or cells pasted from Excel as an object): Word keeps
    the workbook in the package and shows a picture of its cells. The sheet it shows is read
    after its paragraph, as a table's rows; a damaged workbook, or an Excel 97-2003 sheet
    kept in an OLE container, is named, not fatal. LibreOffice's own such file: test_odt.py."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from test_sheets import _workbook

    namespaces = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
                  'xmlns:v="urn:schemas-microsoft-com:vml" '
                  'xmlns:o="urn:schemas-microsoft-com:office:office" '
                  'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')
    document = docx.Document()

    def embed(paragraph, name: str, blob: bytes, kind: str) -> None:
        part = Part(PackURI(f"/word/embeddings/{name}"), kind, blob, document.part.package)
        rid = document.part.relate_to(part, RT.PACKAGE if name.endswith("xlsx") else RT.OLE_OBJECT)
        paragraph._p.append(parse_xml(
            f'<w:r {namespaces}><w:object><v:shape id="s{rid}" o:ole=""/><o:OLEObject '
            f'Type="Embed" ProgID="Excel.Sheet.12" ShapeID="s{rid}" r:id="{rid}"/></w:object>'
            "</w:r>"))

    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    document.add_heading("Client Funds Policy", 0)
    embed(document.add_paragraph("Limits:"), "Microsoft_Excel_Worksheet.xlsx", _workbook(), xlsx)
    document.add_paragraph("Staff never lend their own money.")
    embed(document.add_paragraph("Old limits:"), "Microsoft_Excel_Worksheet1.xlsx",
          _workbook()[:300], xlsx)
    embed(document.add_paragraph("Older limits:"), "oleObject1.bin", b"\xd0\xcf\x11\xe0",
          "application/vnd.openxmlformats-officedocument.oleObject")
    document.save(tmp_path / "funds.docx")
    doc = read_document(tmp_path / "funds.docx")
    assert ("Limits:\n\nItem\tLimit\tShare\nBus fare\t$4.50\t25%\n"
            "Gift card\t$25.00\t100%\t2027-01-01\n\nStaff never lend") in doc.text
    assert doc.warnings == ["its 2 embedded object(s) (an Excel worksheet \u00d72) are not read: "
                            "Word shows them as icons or pictures; paste their text into the "
                            "document, or save them into the corpus folder"]


def test_docx_pages_are_where_word_last_laid_them_out(tmp_path: Path):
    """Word marks where each page began when it last laid the document out (a
    w:lastRenderedPageBreak, written on every save), inside a paragraph where the page broke
    within it. Those marks are the pages a Word file is cited by ("p. 2"), as a PDF's are; a
    Word file had none. One in an empty paragraph begins the page at the next text, one in a
    table row at that row; a tracked deletion's is not shown. A file no Word laid out (python-
    docx's, pandoc's, LibreOffice's) has no marks and stays without pages. A row split over
    two pages is cited by the page it began on; the next row begins the new one."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    page = "<w:lastRenderedPageBreak/>"

    def run(paragraph, text: str, mark: bool = True, deleted: bool = False) -> None:
        xml = f'<w:r {w}>{page if mark else ""}<w:t xml:space="preserve">{text}</w:t></w:r>'
        if deleted:
            xml = xml.replace("<w:t ", "<w:delText ").replace("</w:t>", "</w:delText>")
            xml = f'<w:del {w} w:id="9" w:author="A">{xml}</w:del>'
        paragraph._p.append(parse_xml(xml))

    plain = docx.Document()
    plain.add_paragraph("Staff never lend money to a client.")
    plain.save(tmp_path / "unmarked.docx")
    document = docx.Document()
    document.add_heading("Client Funds", 1)
    money = document.add_paragraph("Staff never lend money to a client. ")
    run(money, "Gifts over $25 are declined.")  # page 2 begins within the paragraph
    run(document.add_paragraph(), "", mark=True)  # an empty paragraph atop page 3
    document.add_paragraph("Petty cash is counted daily.")
    removed = document.add_paragraph("Receipts are kept.")
    run(removed, " Old rule.", deleted=True)
    table = document.add_table(rows=4, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Bus fare", "$3"
    run(table.cell(1, 0).paragraphs[0], "Gift card")  # page 4 begins with the row
    table.cell(1, 1).text = "$25"
    table.cell(2, 0).text = "Phone top-up"
    table.cell(2, 1).text = "$10, "
    run(table.cell(2, 1).paragraphs[0], "once a month")  # a row over two pages: cited by its first
    table.cell(3, 0).text, table.cell(3, 1).text = "Taxi", "never"
    document.save(tmp_path / "funds.docx")

    doc = read_document(tmp_path / "funds.docx")
    text = doc.text
    pages = {words: doc.page_at(text.index(words)) for words in (
        "Client Funds", "Staff never", "Gifts over", "Petty cash", "Receipts", "Bus fare",
        "Gift card", "Phone top-up", "Taxi")}
    assert pages == {"Client Funds": 1, "Staff never": 1, "Gifts over": 2, "Petty cash": 3,
                     "Receipts": 3, "Bus fare": 3, "Gift card": 4, "Phone top-up": 4, "Taxi": 5}
    assert doc.pages == 5 and "Old rule" not in text
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    cited = [chunk_citation(doc, c, start=text.index("Gifts over"), end=text.index("Petty") + 5)
             for c in chunks if c.start <= text.index("Gifts over") < c.end]
    assert cited == ["funds, Client Funds, pp. 2\u20133"]
    unmarked = read_document(tmp_path / "unmarked.docx")
    assert unmarked.page_starts == [] and unmarked.pages == 0


def test_docx_pages_are_cited_by_the_numbers_their_sections_print(tmp_path: Path):
    """A manual's front matter numbered i, ii, its policies from 1 again (each a section of the
    Word file, w:pgNumType): a passage is cited by the number printed on its page, as in the
    file's PDF, not by its place in the file."""
    import docx
    from docx.enum.section import WD_SECTION
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def new_page(text: str, style: str | None = None) -> None:
        paragraph = document.add_paragraph(style=style)
        paragraph._p.append(parse_xml(f'<w:r {w}><w:lastRenderedPageBreak/><w:t>{text}</w:t>'
                                      "</w:r>"))

    document = docx.Document()
    document.add_heading("Staff Handbook", 0)
    new_page("Contents")
    document.add_section(WD_SECTION.NEW_PAGE)
    new_page("1. Gifts", "Heading 1")
    document.add_paragraph("Staff may accept a gift worth under $25.")
    new_page("2. Loans", "Heading 1")
    document.add_paragraph("Staff never lend money.")
    for section, numbering in zip(document.sections, ('w:fmt="lowerRoman"', 'w:start="1"'),
                                  strict=True):  # where Word writes it, before the columns
        section._sectPr.find(qn("w:cols")).addprevious(
            parse_xml(f"<w:pgNumType {w} {numbering}/>"))
    document.save(tmp_path / "handbook.docx")
    doc = read_document(tmp_path / "handbook.docx")
    assert doc.page_labels == ["i", "ii", "1", "2"]
    at = doc.text.index("Staff never lend")
    assert doc.page_at(at) == 4 and doc.page_label_at(at) == "2"
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    assert [chunk_citation(doc, c) for c in chunks if c.start <= at < c.end] == [
        "handbook, 2. Loans, p. 2"]
    # numbered 1, 2, 3 from the first page: the pages' places are their numbers
    for section in document.sections:
        section._sectPr.remove(section._sectPr.find(qn("w:pgNumType")))
    document.save(tmp_path / "handbook.docx")
    assert read_document(tmp_path / "handbook.docx").page_labels == []


def test_pdf_front_matter_numbered_in_roman_numerals_is_cited_so():
    """A manual exported to PDF whose contents pages print "i", "ii" and its policies "1",
    "2", "3" (no /PageLabels: Word's and LibreOffice's exports write none). The Roman numerals
    are page numbers too: out of the text, and the labels the pages are cited by. They stayed
    in the text, and the contents' pages were cited "1" and "2", as the first policy pages
    are."""
    pdf = read_document(Path(__file__).parent / "fixtures" / "paged" / "handbook.pdf")
    assert pdf.page_labels == ["i", "ii", "1", "2", "3"]
    assert not re.search(r"(?m)^(i|ii)$", pdf.text)


def test_docx_smartart_text_is_read_in_the_order_the_graphic_reads(tmp_path: Path):
    """A crisis procedure drawn as SmartArt (Insert > SmartArt > Process): Word keeps its text
    in the diagram's data part, not in the document's runs, and it was lost without a word.
    Each shape's text is a line after the paragraph the graphic stands in, in the order the
    graphic reads (its connections, not the order the parts list its shapes), a step's
    sub-point after the step; the layout's own shapes and empty placeholders add nothing. One
    in a table's cell follows its row."""
    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    dgm = "http://schemas.openxmlformats.org/drawingml/2006/diagram"
    a = "http://schemas.openxmlformats.org/drawingml/2006/main"

    def point(key: str, text: str = "", kind: str = "") -> str:
        body = f"<a:r><a:rPr lang=\"en-US\"/><a:t>{text}</a:t></a:r>" if text else ""
        kind = f' type="{kind}"' if kind else ""
        return (f'<dgm:pt modelId="{key}"{kind}><dgm:prSet phldrT="[Text]"/><dgm:spPr/>'
                f"<dgm:t><a:bodyPr/><a:lstStyle/><a:p>{body}</a:p></dgm:t></dgm:pt>")

    def link(src: str, dest: str, order: int, kind: str = "") -> str:
        kind = f' type="{kind}"' if kind else ""
        return (f'<dgm:cxn modelId="c{src}{dest}"{kind} srcId="{src}" destId="{dest}" '
                f'srcOrd="{order}" destOrd="0"/>')

    model = (f'<dgm:dataModel xmlns:dgm="{dgm}" xmlns:a="{a}"><dgm:ptLst>'
             + point("doc", kind="doc") + point("C", "Tell your supervisor")
             + point("A", "Keep everyone safe") + point("B", "Call the crisis line")
             + point("B1", "555-0199") + point("E") + point("P", "Keep everyone safe", "pres")
             + point("T", kind="parTrans") + "</dgm:ptLst><dgm:cxnLst>"
             + link("doc", "C", 2) + link("doc", "A", 0) + link("doc", "B", 1)
             + link("B", "B1", 0) + link("doc", "E", 3) + link("A", "P", 0, "presOf")
             + "</dgm:cxnLst></dgm:dataModel>")
    document = docx.Document()
    document.add_heading("Crisis Response", 1)
    document.add_paragraph("When a client is in crisis:")
    part = Part(PackURI("/word/diagrams/data1.xml"),
                "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
                model.encode(), document.part.package)
    rid = document.part.relate_to(
        part, "http://schemas.openxmlformats.org/officeDocument/2006/relationships/diagramData")
    graphic = (
        '<w:r xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<w:drawing><wp:inline><wp:extent cx="5486400" cy="3200400"/>'
        '<wp:docPr id="1" name="Diagram 1"/>'
        f'<a:graphic xmlns:a="{a}"><a:graphicData uri="{dgm}">'
        f'<dgm:relIds xmlns:dgm="{dgm}" r:dm="{rid}" r:lo="rId90" r:qs="rId91" r:cs="rId92"/>'
        "</a:graphicData></a:graphic></wp:inline></w:drawing></w:r>")
    document.add_paragraph()._p.append(parse_xml(graphic))
    document.add_paragraph("Record the incident the same day.")
    cell = document.add_table(rows=1, cols=2).cell(0, 1)  # the same graphic in a table's cell
    cell.paragraphs[0]._p.append(parse_xml(graphic))
    document.save(tmp_path / "crisis.docx")
    doc = read_document(tmp_path / "crisis.docx")
    assert ("When a client is in crisis:\n\nKeep everyone safe\n\nCall the crisis line\n\n"
            "555-0199\n\nTell your supervisor\n\nRecord the incident the same day.") in doc.text
    assert doc.text.endswith("the same day.\n\nKeep everyone safe\n\nCall the crisis line\n\n"
                             "555-0199\n\nTell your supervisor")
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    assert {c.section_path for c in chunks if "crisis line" in c.text} == {"Crisis Response"}


def test_docx_footnotes_and_endnotes_follow_their_reference_with_word_numbers(tmp_path: Path):
    """A note is policy text too: it stands after the paragraph or row that refers to it, with
    the number Word shows, in that paragraph's section; separators and empty notes add nothing."""
    import docx
    from docx.opc.constants import CONTENT_TYPE as CT
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'

    def notes(kind: str, bodies: dict[int, str]) -> bytes:
        items = "".join(
            f'<w:{kind} w:id="{i}"><w:p><w:r><w:{kind}Ref/></w:r><w:r><w:t xml:space="preserve">'
            f' {text}</w:t></w:r></w:p></w:{kind}>' for i, text in bodies.items())
        return (f'<w:{kind}s {w}><w:{kind} w:type="separator" w:id="-1"><w:p><w:r><w:separator/>'
                f'</w:r></w:p></w:{kind}>{items}</w:{kind}s>').encode()

    document = docx.Document()
    package = document.part.package
    document.part.relate_to(Part(PackURI("/word/footnotes.xml"), CT.WML_FOOTNOTES, notes(
        "footnote", {1: "Nominal means worth under $25.", 2: "See the state ethics code.",
                     3: ""}), package), RT.FOOTNOTES)
    document.part.relate_to(Part(PackURI("/word/endnotes.xml"), CT.WML_ENDNOTES, notes(
        "endnote", {5: "Adopted by the board in 2021."}), package), RT.ENDNOTES)

    def refer(paragraph, kind: str, note: int) -> None:
        paragraph._p.append(_xml(f'<w:r><w:rPr><w:rStyle w:val="FootnoteReference"/></w:rPr>'
                                 f'<w:{kind}Reference w:id="{note}"/></w:r>'))

    document.add_heading("Gifts", level=1)
    gifts = document.add_paragraph("Staff may accept nominal gifts.")
    refer(gifts, "footnote", 3)  # an empty note still takes its number
    refer(gifts, "footnote", 1)
    document.add_paragraph("Cash is never accepted.")
    document.add_heading("Conduct", level=1)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Dual roles", "Avoided"
    refer(table.cell(0, 1).paragraphs[0], "footnote", 2)
    table.cell(1, 0).text, table.cell(1, 1).text = "Romance", "Never"
    closing = document.add_paragraph("This code binds all staff.")
    refer(closing, "endnote", 5)
    document.save(tmp_path / "gifts.docx")

    doc = read_document(tmp_path / "gifts.docx")
    assert ("Staff may accept nominal gifts.\n\n2 Nominal means worth under $25.\n\n"
            "Cash is never accepted.") in doc.text
    assert "Dual roles\tAvoided\n\n3 See the state ethics code.\n\nRomance\tNever" in doc.text
    assert "This code binds all staff.\n\ni Adopted by the board in 2021." in doc.text
    assert "separator" not in doc.text and doc.text.count("Nominal means") == 1
    paths = _paths(doc)
    assert paths["2 Nominal means"] == "Gifts" and paths["3 See the"] == "Conduct"
    assert paths["i Adopted by"] == "Conduct"


def test_docx_template_heading_styles_nest_by_their_outline_level(tmp_path: Path):
    """An agency template's own heading styles ("Policy Section", "Policy Subsection", no
    Heading N) set the outline level Word's navigation pane goes by: the sections nest by it
    (they were all read as bold lines, at one level). A paragraph's own outline level of 9,
    body text, overrides its style's: no heading."""
    import docx
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def outline(ppr, level: int) -> None:
        element = OxmlElement("w:outlineLvl")
        element.set(qn("w:val"), str(level))
        ppr.append(element)

    document = docx.Document()
    styles = {}
    for name, level in (("Policy Section", 0), ("Policy Subsection", 1)):
        styles[name] = document.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
        styles[name].font.bold = True
        outline(styles[name].element.get_or_add_pPr(), level)
    document.add_paragraph("Client Funds", style=styles["Policy Section"])
    document.add_paragraph("Staff never lend money to clients, not even for bus fare.")
    document.add_paragraph("Exceptions", style=styles["Policy Subsection"])
    document.add_paragraph("The director may approve an exception in writing.")
    body = document.add_paragraph("Signed by the director", style=styles["Policy Section"])
    outline(body._p.get_or_add_pPr(), 9)  # set on the paragraph: over its style's
    document.add_paragraph("Gifts", style=styles["Policy Section"])
    document.add_paragraph("Gifts over twenty dollars are declined and recorded.")
    document.save(tmp_path / "funds.docx")
    doc = read_document(tmp_path / "funds.docx")
    paths = _paths(doc)
    assert paths["Staff never lend"] == "Client Funds"
    assert paths["The director may"] == "Client Funds › Exceptions"
    assert paths["Signed by the"] == "Client Funds › Exceptions"
    assert paths["Gifts over twenty"] == "Gifts"


@pytest.mark.parametrize("section,sub", [(14, 12), (None, 10)])
def test_docx_bold_headings_typed_in_two_sizes_nest_by_size(tmp_path: Path, section, sub):
    """A policy typed without heading styles: its sections' headings in 14 pt bold, their
    sub-headings in 12 pt bold. The smaller stand under the larger ("Gifts from clients" was
    cited as a section of its own, beside "Loans and gifts"); a numbered one keeps the level
    its number states. A size set nowhere is the document's default (11 pt), not zero."""
    import docx
    from docx.shared import Pt

    document = docx.Document()

    def para(text: str, size: float | None = None, bold: bool = True) -> None:
        run = document.add_paragraph().add_run(text)
        run.bold = bold
        if size:
            run.font.size = Pt(size)

    para("Client Funds Policy", 18)
    para("Loans and gifts", section)
    para("Loans to clients", sub)
    para("Staff never lend money to clients, not even small amounts for bus fare.", bold=False)
    para("Gifts from clients", sub)
    para("Gifts worth more than twenty dollars are declined and recorded.", bold=False)
    para("3. Records", sub)
    para("Every transaction is written in the ledger and signed by two staff.", bold=False)
    document.save(tmp_path / "funds.docx")
    doc = read_document(tmp_path / "funds.docx")
    assert doc.title == "Client Funds Policy"
    paths = _paths(doc)
    assert paths["Staff never lend"] == "Loans and gifts › Loans to clients"
    assert paths["Gifts worth more"] == "Loans and gifts › Gifts from clients"
    assert paths["Every transaction is"] == "3. Records"


def test_docx_without_heading_styles_takes_its_bold_lines_as_headings(tmp_path: Path):
    """Many agency policies are typed with headings made bold by hand, no heading style: those
    lines are the sections (levels from their numbers, a larger first line the title), while a
    bold sentence, a partly bold line and a bold list item are not headings. Where the author
    used heading styles, bold is only emphasis."""
    import docx
    from docx.shared import Pt

    def bold(document, text: str, size: int | None = None, style: str | None = None):
        run = document.add_paragraph(style=style).add_run(text)
        run.bold = True
        if size:
            run.font.size = Pt(size)

    document = docx.Document()
    bold(document, "CLIENT FUNDS POLICY", size=16)
    document.add_paragraph("Effective 1 July 2024.")
    for head, body in (("Purpose", "This policy covers client money."),
                       ("1. Loans", "Staff never lend money to clients."),
                       ("2. Gifts", "Gifts over $20 are declined."),
                       ("2.1 Small tokens", "Cards may be accepted.")):
        bold(document, head)
        document.add_paragraph(body)
    bold(document, "Never keep client cash overnight.")
    mixed = document.add_paragraph()
    mixed.add_run("Note:").bold = True
    mixed.add_run(" ask the supervisor")
    bold(document, "Record it in the ledger", style="List Number")
    document.add_paragraph("Ledgers are audited monthly.")
    document.save(tmp_path / "typed.docx")
    doc = read_document(tmp_path / "typed.docx")
    paths = _paths(doc)
    assert doc.title == "CLIENT FUNDS POLICY"
    assert paths["Effective 1 July"] == "Client Funds Policy"
    assert paths["This policy covers"] == "Purpose"
    assert paths["Staff never lend"] == "1. Loans"
    assert paths["Gifts over $20"] == "2. Gifts"
    assert paths["Cards may be"] == "2. Gifts › 2.1 Small tokens"
    for body in ("Never keep client", "Note: ask the", "Ledgers are audited"):
        assert paths[body].startswith("2. Gifts › 2.1 Small tokens"), (body, paths[body])
    assert paths["1. Record it"] == "2. Gifts › 2.1 Small tokens › 1"

    styled = docx.Document()
    styled.add_heading("Gifts", level=1)
    bold(styled, "Small tokens")
    styled.add_paragraph("Cards may be accepted.")
    styled.save(tmp_path / "styled.docx")
    assert _paths(read_document(tmp_path / "styled.docx"))["Cards may be"] == "Gifts"


def test_markers_typed_into_word_and_web_paragraphs_are_cited(tmp_path: Path):
    """Word users type "a)" or "2.1" at the start of a Normal paragraph instead of using Word's
    numbering; those paragraphs are cited by what they show, as in the policy's PDF, while
    automatic numbers keep their levels and a table row opening with an initial stays a row."""
    import docx

    document = docx.Document()
    document.add_heading("2. DEFINITIONS", level=1)
    document.add_paragraph("2.1 Grievance: a complaint by a client about a service.")
    document.add_paragraph("2.2 Grievance Officer: the person who tracks every grievance.")
    document.add_heading("3. PROCEDURE", level=1)
    document.add_paragraph("a) Staff help a client write the grievance down when asked.")
    document.add_paragraph("(ii) The officer answers within ten business days.")
    document.add_paragraph("The director reviews every answer.")
    document.add_paragraph("Staff never retaliate against a client.", style="List Number")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "T. Rowe Price", "1.9%"
    document.save(tmp_path / "grievances.docx")
    paths = _paths(read_document(tmp_path / "grievances.docx"))
    assert paths["2.1 Grievance: a"] == "2. Definitions › 2.1"
    assert paths["2.2 Grievance Officer:"] == "2. Definitions › 2.2"
    assert paths["a) Staff help"] == "3. Procedure › a)"
    assert paths["(ii) The officer"] == "3. Procedure › ii"
    assert paths["The director reviews"] == "3. Procedure"
    assert paths["1. Staff never"] == "3. Procedure › 1"
    assert paths["T. Rowe Price"] == "3. Procedure"

    (tmp_path / "page.html").write_text(
        "<html><body><h2>Procedure</h2><p>a) Staff help a client write it down.</p>"
        "<p>b) The officer answers within ten days.</p><p>Every answer is filed.</p>"
        "</body></html>", encoding="utf-8")
    paths = _paths(read_document(tmp_path / "page.html"))
    assert paths["b) The officer"] == "Procedure › b)"
    assert paths["Every answer is"] == "Procedure"


def test_docx_lines_set_by_manual_breaks_with_typed_numbers_are_items(tmp_path: Path):
    """Shift+Enter sets "1. ...", "2. ..." as lines of one Word paragraph: each is an item."""
    import docx

    document = docx.Document()
    document.add_heading("Rules", level=1)
    paragraph = document.add_paragraph()
    paragraph.add_run("1. Staff never lend money.").add_break()
    paragraph.add_run("2. Gifts over $20 are declined.").add_break()
    paragraph.add_run("3. Records are kept.")
    document.add_paragraph("Ask the supervisor.")
    document.save(tmp_path / "breaks.docx")
    doc = read_document(tmp_path / "breaks.docx")
    assert "money.\n2. Gifts" in doc.text
    paths = _paths(doc)
    assert paths["2. Gifts over"] == "Rules › 2" and paths["3. Records are"] == "Rules › 3"
    assert paths["Ask the supervisor."] == "Rules"


def test_docx_run_in_labels_are_sections_below_its_headings(tmp_path: Path):
    import docx

    document = docx.Document()
    document.add_heading("Medication", level=1)
    document.add_paragraph("PURPOSE: To keep medications held for clients safe.")
    document.add_paragraph("PROCEDURE: Staff follow these steps.")
    document.add_paragraph("Check the label against the record.", style="List Number")
    document.add_paragraph("Keys are never left in the door.")
    document.add_heading("Disposal", level=1)
    document.add_paragraph("Expired medication is returned to the pharmacy.")
    document.save(tmp_path / "meds.docx")
    paths = _paths(read_document(tmp_path / "meds.docx"))
    assert paths["To keep medications"] == "Medication › Purpose"
    assert paths["1. Check the"] == "Medication › Procedure › 1"
    assert paths["Keys are never"] == "Medication › Procedure"
    assert paths["Expired medication is"] == "Disposal"


def test_html_line_breaks_are_lines_and_typed_numbers_on_them_items(tmp_path: Path):
    """Old CMS pages set lists as lines of one paragraph: "1. ...<br>2. ...". Each <br> is a
    line of the text, as on screen (two in a row a blank line), and each typed number an item;
    inside a list item the lines stay that item's."""
    (tmp_path / "funds.html").write_text(
        "<html><body><h2>Rules</h2><p>1. Staff never lend money.<br>2. Gifts over $20 are "
        "declined.<br>\n3. Records are kept for seven years.<br></p><p>Ask the supervisor."
        "<br><br>Thank you.</p><ul><li>Cash is counted<br>by two staff.</li></ul></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "funds.html")
    assert ("Rules\n\n1. Staff never lend money.\n2. Gifts over $20 are declined.\n3. Records "
            "are kept for seven years.\n\nAsk the supervisor.\n\nThank you.\n\n"
            "\u2022 Cash is counted\nby two staff.") == doc.text
    paths = _paths(doc)
    assert paths["2. Gifts over"] == "Rules › 2"
    assert paths["3. Records are"] == "Rules › 3"
    assert paths["Ask the supervisor."] == "Rules"


def test_html_aria_headings_are_headings(tmp_path: Path):
    """Some CMS pages mark headings for screen readers (role="heading", aria-level) instead of
    h1-h6; they are the sections, at their levels (2 where none is given)."""
    (tmp_path / "leave.html").write_text(
        "<html><body><div role='heading' aria-level='1'>Leave Policy</div>"
        "<div role='heading' aria-level='2'>Annual leave</div><p>Staff have 20 days a year.</p>"
        "<div role='heading' aria-level='3'>Carry-over</div><p>Five days carry over.</p>"
        "<span role='heading'>Sick leave</span><p>Ten days are paid.</p></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "leave.html")
    paths = _paths(doc)
    assert doc.title == "Leave Policy"
    assert paths["Five days carry"] == "Annual leave › Carry-over"
    assert paths["Ten days are"] == "Sick leave"


def test_html_accordion_faq_keeps_its_questions_and_hidden_answers(tmp_path: Path):
    """An intranet FAQ set as an accordion (the WAI-ARIA pattern, Bootstrap's) puts each
    question in a button and each answer in a panel marked hidden until pressed: the questions
    were dropped with the page's buttons and the closed answers as hidden matter. A button that
    opens a panel is its question; the panels it controls are text. A "Print" button, a hidden
    dialog and the site menu's toggle and panel are still dropped. The closed panels of a page
    set in tabs are kept too."""
    (tmp_path / "faq.html").write_text(
        "<html><head><title>Staff FAQ</title></head><body><header>"
        "<button aria-controls='menu' aria-expanded='false'><span class='icon'></span></button>"
        "<div id='menu' hidden><ul><li><a href='/'>Home</a></li></ul></div></header><main>"
        "<h1>Staff FAQ</h1><h2><button aria-expanded='true' aria-controls='a1'>Can I lend a "
        "client money?</button></h2><div id='a1'><p>No. Staff never lend money to clients.</p>"
        "</div><h2><button aria-expanded='false' aria-controls='a2'>How do I report abuse?"
        "</button></h2><div id='a2' hidden><p>Call the hotline within 24 hours.</p></div>"
        "<p>Still unsure? <button onclick='print()'>Print this page</button></p>"
        "<div id='leave' hidden>Are you sure you want to leave?</div></main></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "faq.html")
    paths = _paths(doc)
    assert paths["Call the hotline"] == "How do I report abuse?"
    assert paths["No. Staff never"] == "Can I lend a client money?"
    for dropped in ("Print this page", "Are you sure", "Home"):
        assert dropped not in doc.text
    # a page set in tabs keeps the panels of the tabs not open
    (tmp_path / "tabs.html").write_text(
        "<html><body><h1>Mileage</h1><ul role='tablist'><li><a role='tab' href='#t1' "
        "aria-controls='t1'>Overview</a></li><li><a role='tab' href='#t2' aria-controls='t2'>"
        "Procedure</a></li></ul><div role='tabpanel' id='t1'><p>Staff are paid per mile.</p>"
        "</div><div role='tabpanel' id='t2' hidden><p>Submit the log by the fifth.</p></div>"
        "</body></html>", encoding="utf-8")
    assert "Submit the log by the fifth." in read_document(tmp_path / "tabs.html").text


def test_html_details_boxes_of_an_faq_are_its_sections(tmp_path: Path):
    """An FAQ written as <details> boxes: each <summary> (the question) titles its box as a
    heading does, so the answer is cited by its question. A box with other text after it (Node's
    docs put a "History" box over each API's description) stays text: a heading has no end,
    and the description would be cited under "History"."""
    (tmp_path / "faq.html").write_text(
        "<html><body><h1>Staff FAQ</h1><h2>Money</h2>"
        "<details><summary>Can I lend a client money?</summary><p>No. Staff never lend money."
        "</p></details><div><details open><summary>May I pay a client's bus fare?</summary>"
        "<p>Only from the emergency fund.</p></details></div><h2>Records</h2>"
        "<div><details><summary>History</summary><p>Changed in 2023.</p></details></div>"
        "<p>Records are kept for seven years.</p></body></html>", encoding="utf-8")
    paths = _paths(read_document(tmp_path / "faq.html"))
    assert paths["No. Staff never"] == "Money › Can I lend a client money?"
    assert paths["Only from the"] == "Money › May I pay a client's bus fare?"
    assert paths["Records are kept"] == "Records"
    assert paths["History"] == "Records"


def test_html_saved_by_word_reads_its_bullets_as_list_items(tmp_path: Path):
    """Word's "Save as Web Page" writes a bulleted list as paragraphs, each bullet a glyph in
    its symbol font inside Word's "[if !supportLists]" comments: "·" (Symbol), "o" (Courier
    New), "§" (Wingdings). They read as words ("o Not even bus fare"); they are the list's
    bullets. A numbered item keeps its typed number, which the section parser cites."""
    def item(level: int, font: str, mark: str, text: str) -> str:
        return (f"<p class=MsoListParagraph style='mso-list:l1 level{level} lfo2'>"
                f"<![if !supportLists]><span style='font-family:{font}'>{mark}<span "
                "style='font:7.0pt \"Times New Roman\"'>&nbsp;&nbsp; </span></span>"
                f"<![endif]>{text}</p>")

    (tmp_path / "funds.htm").write_text(
        "<html><head><meta charset=utf-8><title>Client Funds</title></head><body>"
        "<div class=WordSection1><h1>Procedure</h1>"
        + item(1, "Symbol", "\u00b7", "Never lend money.")
        + item(2, '"Courier New"', "o", "Not even bus fare.")
        + item(3, "Wingdings", "\u00a7", "Refer to the emergency fund.")
        + item(1, "Calibri", "a)", "Count the cash with a witness.")
        + "<p class=MsoNormal>Supervisors audit the ledger.</p></div></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "funds.htm")
    for artifact in ("o Not", "\u00a7 Refer", "\u00b7 Never"):
        assert artifact not in doc.text
    assert "\u2022 Not even bus fare." in doc.text
    assert [level for _, _, kind, level, _ in doc.blocks if kind == "item"][:3] == [0, 1, 2]
    assert _paths(doc)["a) Count the"] == "Procedure › a)"


def test_html_filtered_by_word_reads_its_bullets_as_list_items_by_their_indent(tmp_path: Path):
    """Word's "Web Page, Filtered" drops the list styles (no "mso-list", no "[if
    !supportLists]" comments): a bullet is then known by the 7pt run of spaces Word sets after
    it, and its level by its indent (half an inch a level, in any unit). A numbered item's
    typed number stays, for the section parser; a 7pt span inside a sentence is just text."""
    def item(indent: str, font: str, mark: str, text: str) -> str:
        margin = f"margin-left:{indent};" if indent else ""
        return (f"<p class=MsoListParagraphCxSpMiddle style='{margin}text-indent:-.25in'><span\n"
                f"style='font-family:{font}'>{mark}<span style='font:7.0pt \"Times New Roman\"'>"
                f"&nbsp;&nbsp;&nbsp;\n</span></span>{text}</p>\n")

    page = ('<html><head><meta http-equiv=Content-Type content="text/html; '
            'charset=windows-1252"><meta name=Generator content="Microsoft Word 15 (filtered)">'
            "</head><body lang=EN-US><div class=WordSection1><h1>Client funds</h1>"
            + item("", "Symbol", "\u00b7", "Never lend money to a client.")
            + item("1.0in", '"Courier New"', "o", "Not even bus fare.")
            + item("108.0pt", "Wingdings", "\u00a7", "Refer the client to the emergency fund.")
            + item("", "Calibri", "1.", "Record the amount in the ledger.")
            + "<p class=MsoNormal>Sign <span style='font:7.0pt \"Arial\"'>o</span>nce.</p>"
            + "</div></body></html>")
    (tmp_path / "funds.htm").write_bytes(page.encode("cp1252"))
    doc = read_document(tmp_path / "funds.htm")
    for artifact in ("o Not", "\u00a7 Refer", "\u00b7 Never"):
        assert artifact not in doc.text
    assert "\u2022 Not even bus fare." in doc.text
    assert "Sign once." in doc.text
    assert [level for _, _, kind, level, _ in doc.blocks if kind == "item"] == [0, 1, 2]
    assert _paths(doc)["1. Record the"] == "Client funds › 1"


def test_html_documents_shown_in_frames_are_named(tmp_path: Path):
    """An intranet page that shows its policy's PDF in the browser's viewer (an <iframe>, an
    <object>, SharePoint's WopiFrame naming the .docx): the policy's text is not in the page, and
    the page was indexed as its heading and one line, the policy missing without a word. The
    documents are named; a page that is nothing but the frame is named as such; a video's frame
    is the page's furniture. An old intranet's page of frames was indexed as its "no frames"
    apology, "<body>" and all; its text is in the pages its frames show."""
    (tmp_path / "policy-page.html").write_text(
        "<html><head><title>Policy 4.12 | Intranet</title></head><body><h1>Policy 4.12</h1>"
        "<p>The policy is shown below.</p>"
        '<iframe src="/sites/policies/Documents/dmh-4.12.pdf#view=FitH"></iframe>'
        '<iframe src="https://www.youtube.com/embed/abc123"></iframe>'
        '<iframe src="/_layouts/15/WopiFrame.aspx?sourcedoc=/Policies/Gifts%20Policy.docx&amp;'
        'action=embedview"></iframe></body></html>')
    (tmp_path / "only-frame.html").write_text(
        '<html><head><title>Client Funds</title></head><body><object data="funds" '
        'type="application/pdf"></object></body></html>')
    (tmp_path / "manual.htm").write_text(  # an old intranet's page of frames
        '<html><head><title>Policy Manual</title></head><frameset cols="25%,75%"><frame '
        'src="contents.htm"><frame src="policies/4-12.htm"><noframes><body>Your browser does '
        "not support frames.</body></noframes></frameset></html>")
    docs, skipped = load_corpus(tmp_path)
    assert [d.warnings for d in docs] == [[
        "it shows 2 document(s) in a frame, not saved with the page and not read (dmh-4.12.pdf, "
        "Gifts Policy.docx): save them into the corpus folder"]]
    assert [(s.path, s.reason) for s in skipped] == [
        ("manual.htm", "web page made of frames (contents.htm, policies/4-12.htm): its text is in "
                       "those pages, read as files of their own where they are in the corpus "
                       "folder"),
        ("only-frame.html", "web page that only shows a document in a frame (funds), not saved "
                            "with it: save that document into the corpus folder")]


def test_html_drops_site_chrome_keeps_lists_tables_and_numbers(tmp_path: Path):
    (tmp_path / "page.html").write_text(
        "<html><head><title>Gifts &amp; Favours</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body><nav>Home | Policies</nav>"
        "<header>Agency intranet</header><main><h1>Gifts &amp; Favours</h1>"
        "<p>Staff must not accept&nbsp;cash.</p><h2>Exceptions</h2>"
        "<ol start='3' type='a'><li>Cards are fine.</li><li><p>Flowers are shared.</p></li></ol>"
        "<p>Report anything else.</p><h3>Values</h3>"
        "<table><tr><th>Gift</th><th>Limit</th></tr><tr><td>Meal</td><td>$20</td></tr></table>"
        "<form><input value='search'></form></main><footer>© Agency</footer></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "page.html")
    assert doc.title == "Gifts & Favours"
    for chrome in ("alert", "color:red", "Home | Policies", "intranet", "© Agency", "search"):
        assert chrome not in doc.text
    assert "Staff must not accept\u00a0cash." in doc.text or "accept cash" in doc.text
    assert "c. Cards are fine." in doc.text and "d. Flowers are shared." in doc.text
    assert "Gift\tLimit\nMeal\t$20" in doc.text
    paths = _paths(doc)
    assert paths["d. Flowers are"] == "Exceptions › d"  # the h1 is the page's title
    assert paths["Report anything else."] == "Exceptions"
    assert paths["Meal $20"] == "Exceptions › Values"


def test_html_a_page_its_scripts_draw_is_named_with_what_to_do(tmp_path: Path):
    """An intranet page drawn by its scripts (a single-page app), saved as "HTML only", holds
    the scripts and an empty root, not the policy: it was skipped as "no text (whitespace
    only)", which says nothing of why or what to do. A page with no text and no scripts keeps
    that reason; a scripted page with text is read."""
    from policyqa.documents import load_corpus

    (tmp_path / "funds.html").write_text(
        "<html><head><title>Client Funds | Intranet</title></head><body><div id='root'></div>"
        "<script src='app.js'></script><noscript>You need to enable JavaScript.</noscript>"
        "</body></html>")
    (tmp_path / "blank.html").write_text("<html><body><nav>Home</nav></body></html>")
    (tmp_path / "gifts.html").write_text(
        "<html><body><h1>Gifts</h1><p>Staff decline cash gifts.</p>"
        "<script>track()</script></body></html>")
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["gifts"]
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["funds.html"].startswith("web page with no text of its own: its scripts "
                                            "build it in the browser")
    assert "save it as PDF" in reasons["funds.html"]
    assert reasons["blank.html"] == "no text (whitespace only)"


def test_html_bold_headings_typed_in_two_sizes_nest_by_size(tmp_path: Path):
    """A page Word saved from a policy typed without heading styles: bold paragraphs in 14 pt
    over bold paragraphs in 12 pt (its inline "font-size"), no h1-h6. They nest by size, as
    in the Word file; a numbered one keeps its number's level."""
    def bold(text: str, size: int) -> str:
        return f"<p class=MsoNormal><b><span style='font-size:{size}.0pt'>{text}</span></b></p>"

    (tmp_path / "funds.htm").write_text(
        "<html><head><meta charset=utf-8><title>Client Funds Policy</title></head><body>"
        "<div class=WordSection1>" + bold("Loans and gifts", 14) + bold("Loans to clients", 12)
        + "<p class=MsoNormal>Staff never lend money to clients, not even for bus fare.</p>"
        + bold("Gifts from clients", 12)
        + "<p class=MsoNormal>Gifts worth more than twenty dollars are declined.</p>"
        + bold("3. Records", 12)
        + "<p class=MsoNormal>Every transaction is written in the ledger.</p></div></body></html>",
        encoding="utf-8")
    paths = _paths(read_document(tmp_path / "funds.htm"))
    assert paths["Staff never lend"] == "Loans and gifts › Loans to clients"
    assert paths["Gifts worth more"] == "Loans and gifts › Gifts from clients"
    assert paths["Every transaction is"] == "3. Records"


def test_html_screen_reader_text_edit_links_and_comments_are_not_the_pages_text(
        tmp_path: Path):
    """A WordPress intranet page saved by a logged-in editor: its main content held, besides the
    policy, the editor's "Edit" link with its screen-reader text ('Edit "Client Funds Policy"')
    and the reply form under the post ("Leave a Reply", "Your email address will not be
    published.", "Comment"), which read as a section of the policy. A reader sees none of it;
    the policy stays whole."""
    (tmp_path / "funds.html").write_text(
        "<html><head><title>Client Funds Policy &#8211; Riverside Intranet</title></head><body>"
        "<a class='skip-link screen-reader-text' href='#content'>Skip to content</a>"
        "<main id='main' class='site-main'><article class='page type-page hentry'>"
        "<header class='entry-header'><h1 class='entry-title'>Client Funds Policy</h1></header>"
        "<div class='entry-content'><h2>Loans</h2><p>Staff never lend money to a client, "
        "however small the sum.</p><h2>Gifts</h2><p>Staff may accept a gift worth under "
        "$25.<span class='sr-only'> (opens the gift log)</span></p></div>"
        "<footer class='entry-footer'><p>Approved by the Board, March 2026.</p>"
        "<span class='edit-link'><a class='post-edit-link' href='/wp-admin/post.php?post=42'>"
        "Edit<span class='screen-reader-text'> \"Client Funds Policy\"</span></a></span>"
        "</footer></article><div id='comments' class='comments-area'><div id='respond' "
        "class='comment-respond'><h3 class='comment-reply-title'>Leave a Reply</h3><form "
        "class='comment-form'><p class='comment-notes'>Your email address will not be "
        "published.</p><label>Comment</label><textarea></textarea></form></div></div></main>"
        "</body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "funds.html")
    assert doc.text == ("Client Funds Policy\n\nLoans\n\nStaff never lend money to a client, "
                        "however small the sum.\n\nGifts\n\nStaff may accept a gift worth under "
                        "$25.\n\nApproved by the Board, March 2026.")


def test_html_menus_named_so_in_a_div_or_cell_are_site_chrome(tmp_path: Path):
    """A page laid out before <nav> (an intranet template) keeps its menus in blocks whose id
    or class names them ("topNav", "leftMenu", "page-breadcrumb", "footer-menu") and that are
    mostly links: each page's copy was a passage of every page. A "sidebar" callout of policy
    text, and the policy's own list of related policies, stay."""
    (tmp_path / "funds.html").write_text(
        "<html><head><title>Client Funds Policy</title></head><body>"
        "<div id='topNav'><ul><li><a href='/'>Home</a></li><li><a href='/p'>Policies</a></li>"
        "<li><a href='/hr'>Human Resources</a></li></ul></div><table><tr>"
        "<td class='leftMenu'><b>Policies</b><br><a href='/p/gifts'>Gifts and gratuities</a>"
        "<br><a href='/p/visits'>Home visits</a></td><td><div class='page-breadcrumb'>"
        "<a href='/'>Intranet</a> &gt; <a href='/p'>Policy library</a></div>"
        "<h1>Client Funds Policy</h1>"
        "<p>Staff never lend money to clients, not even small amounts for bus fare.</p>"
        "<div class='sidebar-callout'><p>Questions? Ask your supervisor before you act.</p>"
        "</div><h2>Related policies</h2><ul><li><a href='/p/gifts'>Gifts and gratuities</a>"
        "</li><li><a href='/p/records'>Records</a></li></ul></td></tr></table>"
        "<div class='footer-menu'><a href='/privacy'>Privacy</a> | <a href='/c'>Contact us</a>"
        "</div></body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "funds.html")
    for chrome in ("Home", "Human Resources", "Home visits", "Privacy", "Contact us",
                   "Policy library"):
        assert chrome not in doc.text
    assert "Questions? Ask your supervisor before you act." in doc.text
    assert _paths(doc)["• Gifts and"] == "Related policies"
    assert doc.text.count("Gifts and gratuities") == 1


def test_html_page_laid_out_in_a_table_keeps_its_headings(tmp_path: Path):
    """Older intranet pages and generated manuals set the whole page in a layout table; its
    rows were read as lines of cells, so its h2s made no sections (Valgrind's FAQ had none)
    and every passage was cited by the page title. A data table inside stays rows of cells."""
    (tmp_path / "page.html").write_text(
        "<html><head><title>Client Funds</title></head><body><table>"
        "<tr><td><h2>Loans to clients</h2><p>Staff never lend money.</p></td></tr>"
        "<tr><td><b>1.1</b></td><td>Not even for bus fare.</td></tr>"
        "<tr><td><h2>Gifts</h2><p>Gifts over twenty dollars are declined.</p>"
        "<table><tr><th>Gift</th><th>Limit</th></tr><tr><td>Meal</td><td>$20</td></tr></table>"
        "</td></tr></table></body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "page.html")
    assert "1.1\tNot even for bus fare." in doc.text and "Gift\tLimit\nMeal\t$20" in doc.text
    paths = _paths(doc)
    assert paths["Staff never lend"] == "Loans to clients"
    assert paths["Gifts over twenty"] == "Gifts"
    assert paths["Meal $20"] == "Gifts"


def test_html_drops_a_generated_manuals_next_previous_up_links(tmp_path: Path):
    """texinfo, DocBook and Sphinx put "Next: ..., Previous: ..., Up: ..." on every page of a
    manual (rel="next"...), DocBook a navigation table (class "navheader"): a passage of
    navigation, cited under no section. A sentence of the policy holding such a link stays."""
    (tmp_path / "loans.html").write_text(
        "<html><body><div class='NAVHEADER'><table><tr><th>Staff Manual</th></tr><tr><td>"
        "<a href='index.html'>Prev</a></td><td><a href='gifts.html'>Next</a></td></tr></table>"
        "</div><div class='header'><p>Next: <a href='gifts.html' rel='next'>Gifts</a>, "
        "Previous: <a href='index.html' rel='prev'>Policies</a>, Up: <a href='index.html' "
        "rel='up'>Policies</a> [<a href='ix.html' rel='index'>Index</a>]</p></div>"
        "<h2>Loans to clients</h2><p>Staff never lend money. See <a href='gifts.html' "
        "rel='next'>the next page</a> for gifts, which are declined.</p>"
        "<p><a href='gifts.html' rel='next'>Next</a> <a href='index.html' rel='parent'>Up</a>"
        "</p></body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "loans.html")
    assert doc.text == ("Loans to clients\n\nStaff never lend money. See the next page for "
                        "gifts, which are declined.")


def test_html_keeps_an_articles_own_header_and_a_page_wrapped_in_a_form(tmp_path: Path):
    """SharePoint and ASP.NET pages wrap the whole body in a <form>; a CMS puts the policy's
    title in its <article>'s <header>. Only the site's own header and footer are chrome."""
    (tmp_path / "sharepoint.aspx.html").write_text(
        "<html><head><title>Intranet - Policies</title></head><body>"
        "<form id='aspnetForm'><header><a href='/'>Agency intranet</a></header>"
        "<input type='hidden' name='__VIEWSTATE' value='x'>"
        "<article><header><h1>Client Funds Policy</h1><p>Approved by the board, 2024.</p>"
        "<ul><li><a href='/share'>Share</a></li><li><a href='/print'>Print</a></li></ul>"
        "</header><h2>Loans</h2><p>Staff never lend money to clients.</p>"
        "<footer><p>Owner: Finance office.</p></footer></article>"
        "</form><footer>\u00a9 Agency 2024</footer></body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "sharepoint.aspx.html")
    assert "Staff never lend money to clients." in doc.text
    assert "Approved by the board, 2024." in doc.text and "Owner: Finance office." in doc.text
    for chrome in ("Agency intranet", "Share", "Print", "\u00a9 Agency", "VIEWSTATE"):
        assert chrome not in doc.text
    paths = _paths(doc)
    # the <title> names the site, not the policy: the h1 stays in the path
    assert paths["Staff never lend"] == "Client Funds Policy › Loans"
    assert paths["Approved by the"] == "Client Funds Policy"


def test_html_headings_lose_their_links_to_themselves(tmp_path: Path):
    """Docs sites and CMSs put a "#", "¶" or icon link in each heading (Node, Sphinx, GitHub,
    a CMS's class-marked anchor); it is no part of the heading's words or its citation. Other
    links, and a "#" that is the heading's own text, stay."""
    (tmp_path / "anchors.html").write_text(
        "<html><body><main>"
        "<h1>Client Funds<span><a class='mark' href='#client-funds'>#</a></span></h1>"
        "<p>Funds are kept in the office safe.</p>"
        "<h2>Loans<a class='headerlink' href='#loans' title='Permalink'>\u00b6</a></h2>"
        "<p>Staff never lend money. See <a href='#gifts'>#</a> below and "
        "<a href='#gifts'>Gifts</a>.</p>"
        "<h2><a class='anchor' aria-label='link' href='#gifts'><svg></svg></a>Gifts</h2>"
        "<p>Gifts over $20 are declined.</p>"
        "<h3><a href='#c-sharp'>Training in C#</a> <a href='#c-sharp'>\u00a7</a></h3>"
        "<p>The course is optional.</p></main></body></html>", encoding="utf-8")
    doc = read_document(tmp_path / "anchors.html")
    paths = _paths(doc)
    assert paths["Funds are kept"] == "Client Funds"
    assert paths["Staff never lend"] == "Loans"
    assert paths["Gifts over $20"] == "Gifts"
    assert paths["The course is"] == "Gifts › Training in C#"
    assert "\u00b6" not in doc.text and "\u00a7" not in doc.text
    assert "See # below and Gifts." in doc.text  # a "#" outside a heading is the text's own


def test_html_without_headings_takes_its_bold_paragraphs_as_headings(tmp_path: Path):
    """A CMS or intranet page with no h1-h6 shows its headings as bold paragraphs: those are
    the sections, nested by their numbers; a bold sentence, a partly bold paragraph and a bold
    list item are not. On a page with h1-h6, bold is only emphasis."""
    (tmp_path / "typed.html").write_text(
        "<html><head><title>Client Funds</title></head><body><div>"
        "<p><strong>Purpose</strong></p><p>This policy covers client money.</p>"
        "<p><b>1. Loans</b></p><p>Staff never lend money to clients.</p>"
        "<div style='font-weight: bold'>2. Gifts</div><p>Gifts over $20 are declined.</p>"
        "<p><strong><em>2.1</em> Small tokens</strong></p><p>Cards may be accepted.</p>"
        "<p><strong>Never keep client cash overnight.</strong></p>"
        "<p><strong>Note:</strong> ask the supervisor.</p>"
        "<ol><li><strong>Record it in the ledger</strong></li></ol>"
        "<p>Ledgers are audited monthly.</p></div></body></html>", encoding="utf-8")
    paths = _paths(read_document(tmp_path / "typed.html"))
    assert paths["This policy covers"] == "Purpose"
    assert paths["Staff never lend"] == "1. Loans"
    assert paths["Gifts over $20"] == "2. Gifts"
    assert paths["Cards may be"] == "2. Gifts › 2.1 Small tokens"
    for body in ("Never keep client", "Note: ask the", "Ledgers are audited"):
        assert paths[body] == "2. Gifts › 2.1 Small tokens", (body, paths[body])
    assert paths["1. Record it"] == "2. Gifts › 2.1 Small tokens › 1"

    (tmp_path / "marked.html").write_text(
        "<html><body><h1>Gifts</h1><p><strong>Small tokens</strong></p>"
        "<p>Cards may be accepted.</p></body></html>", encoding="utf-8")
    assert _paths(read_document(tmp_path / "marked.html"))["Cards may be"] == "Gifts"


def test_html_bold_line_over_its_text_in_one_paragraph_is_a_heading(tmp_path: Path):
    """Older CMS pages set a heading and its text in one paragraph, split by a line break."""
    (tmp_path / "funds.html").write_text(
        "<html><body><p><b>Loans to clients</b><br>\nStaff never lend money.</p>"
        "<p><strong>Gifts</strong> <br/>A small gift may be accepted.<br>Log it.</p>"
        "<p><b>Note:</b> ask the supervisor.</p>"
        "<p><b>Never keep cash overnight.</b><br>Cash is banked daily.</p></body></html>",
        encoding="utf-8")
    doc = read_document(tmp_path / "funds.html")
    paths = _paths(doc)
    assert paths["Staff never lend"] == "Loans to clients"
    assert paths["A small gift"] == "Gifts"
    assert "A small gift may be accepted.\nLog it." in doc.text  # the <br>: a line
    for body in ("Note: ask the", "Never keep cash"):  # a lead-in, a bold sentence
        assert paths[body] == "Gifts", (body, paths[body])

    (tmp_path / "marked.html").write_text(
        "<html><body><h1>Funds</h1><p><b>Loans</b><br>Staff never lend money.</p></body></html>",
        encoding="utf-8")
    marked = _paths(read_document(tmp_path / "marked.html"))
    assert marked["Loans"] == marked["Staff never lend"] == "Funds"  # h1-h6 used: bold is text


def test_xhtml_page_reads_without_parser_warnings(tmp_path: Path):
    """An XHTML page (XML declaration first, here with a long comment before <html>) is read as
    a browser reads it, quietly: no parser advice printed into the ingest's output."""
    import warnings

    (tmp_path / "funds.xhtml").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<!-- ' + "Saved from the intranet. " * 25 +
        '-->\n<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Funds</h1>'
        "<p>Staff never lend money.</p></body></html>", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        doc = read_document(tmp_path / "funds.xhtml")
    assert _paths(doc)["Staff never lend"] == "Funds"


def test_mhtml_web_archive_reads_its_page(tmp_path: Path):
    """A page saved by a browser as one file (.mhtml): MIME parts, quoted-printable HTML."""
    import quopri

    page = ("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Type\" content=\"text/html; "
            "charset=UTF-8\"><title>Client Funds \u2014 Intranet</title></head><body>"
            "<nav>Home</nav><main><h1>Client Funds</h1><h2>Loans</h2><p>Staff never lend money "
            "to clients, not even for a caf\u00e9 meal; a long line wraps in the archive so "
            "that the quoted-printable soft breaks are exercised too.</p></main></body></html>")
    body = quopri.encodestring(page.encode("utf-8")).decode("ascii")
    boundary = "----MultipartBoundary--x1y2----"
    (tmp_path / "funds.mhtml").write_text(
        "From: <Saved by Blink>\r\nSubject: Client Funds\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/related;\r\n\ttype="text/html";\r\n\tboundary="{boundary}"'
        f"\r\n\r\n\r\n--{boundary}\r\nContent-Type: text/html\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Location: https://intranet.example/policies/funds\r\n\r\n"
        f"{body}\r\n--{boundary}\r\nContent-Type: text/css\r\n\r\np {{ color: red }}\r\n"
        f"--{boundary}--\r\n", encoding="ascii", newline="")
    (tmp_path / "empty.mht").write_text("MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nhi",
                                        encoding="ascii")
    docs, skipped = load_corpus(tmp_path)
    [doc] = docs
    assert doc.title == "Client Funds"  # the page's <title> less the site's name
    assert "not even for a caf\u00e9 meal" in doc.text and "Home" not in doc.text
    assert "color" not in doc.text and "=3D" not in doc.text
    assert _paths(doc)["Staff never lend"] == "Loans"
    assert [(s.path, s.status) for s in skipped] == [("empty.mht", "skipped")]
    assert "no HTML page" in skipped[0].reason


def test_markdown_front_matter_comments_underscores_and_auto_numbers(tmp_path: Path):
    (tmp_path / "terms.md").write_text(
        "---\ntitle: Service Terms\ndate: 2020-11-16\n---\n<!-- internal note -->\n\n"
        "## A. Definitions\n\n_Short version:_ __read this__ first.\n\n"
        "1. An account is yours.\n1. The service is ours.\n1. Content is shared.\n\n"
        "snake_case_names stay; fill in ______ here.\n", encoding="utf-8")
    doc = read_document(tmp_path / "terms.md")
    assert (doc.title, doc.date) == ("Service Terms", "2020-11-16")
    assert "title:" not in doc.text and "internal note" not in doc.text
    assert "Short version: read this first." in doc.text
    assert "snake_case_names" in doc.text and "______" in doc.text
    paths = _paths(doc)
    assert paths["1. The service"] == "A. Definitions › 2"
    assert paths["1. Content is"] == "A. Definitions › 3"


def test_markdown_front_matter_in_toml_as_hugo_writes_it(tmp_path: Path):
    """An intranet built with Hugo opens each page with TOML between "+++" lines: it was read
    as the page's first paragraph, and the file name stood in for the title."""
    (tmp_path / "gifts.md").write_text(
        '+++\ntitle = "Gifts From Clients"\ndate = 2023-01-05\ndraft = false\n+++\n\n'
        "Staff may not accept gifts worth more than $25.\n", encoding="utf-8")
    doc = read_document(tmp_path / "gifts.md")
    assert (doc.title, doc.date) == ("Gifts From Clients", "2023-01-05")
    assert doc.text.strip() == "Staff may not accept gifts worth more than $25."
    # "+++" lines that are not TOML stay text
    (tmp_path / "plus.md").write_text("+++\nnot = = toml\n+++\n\nText.\n", encoding="utf-8")
    assert read_document(tmp_path / "plus.md").text.startswith("+++")


def test_markdown_front_matter_with_windows_line_endings(tmp_path: Path):
    """A page saved on Windows ends its lines in CRLF: its front matter stood in the text
    ("---\ntitle: ...") and the title was lost."""
    for name, head in (("yaml", b"---\r\ntitle: Gifts From Clients\r\ndate: 2023-01-05\r\n---"),
                       ("toml", b'+++\r\ntitle = "Gifts From Clients"\r\ndate = 2023-01-05\r\n+++')):
        (tmp_path / f"{name}.md").write_bytes(head + b"\r\n\r\nStaff may not accept gifts.\r\n")
        doc = read_document(tmp_path / f"{name}.md")
        assert (doc.title, doc.date) == ("Gifts From Clients", "2023-01-05"), name
        assert doc.text.strip() == "Staff may not accept gifts.", name


def test_markdown_heading_marks_are_not_text_and_still_make_the_sections(tmp_path: Path):
    """A rendered Markdown page shows "When staff may share", not "## When staff may share":
    the marks (and a closing "##") are left out of the text, so a passage shows and a quote
    copied from the page matches what the reader saw; the levels still nest the sections. A "#"
    inside a line, or one with no space after it, is text."""
    (tmp_path / "sharing.md").write_text(
        "# Sharing Information\n\n## When staff may share ##\n\nStaff may share records with "
        "consent. Issue #12 explains why.\n\n### Without consent\n\nOnly when the law requires "
        "it.\n\n#hashtag is text\n\n## Records\n\nKeep them locked.\n", encoding="utf-8")
    doc = read_document(tmp_path / "sharing.md")
    assert doc.title == "Sharing Information"
    assert doc.text.startswith("Sharing Information\n\nWhen staff may share\n\nStaff may share")
    assert "Issue #12 explains" in doc.text and "#hashtag is text" in doc.text
    assert [(doc.text[at:].split("\n")[0], level) for at, level in doc.md_headings] == [
        ("Sharing Information", 1), ("When staff may share", 2), ("Without consent", 3),
        ("Records", 2)]
    paths = _paths(doc)
    assert paths["Staff may share"] == "When staff may share"  # the title heading left out
    assert paths["Only when the"] == "When staff may share › Without consent"
    assert paths["#hashtag is text"] == "When staff may share › Without consent"
    assert paths["Keep them locked."] == "Records"
    # a one-word "# Title" is still the document's title
    (tmp_path / "funds.md").write_text("# Funds\n\nNever lend money.\n", encoding="utf-8")
    assert read_document(tmp_path / "funds.md").title == "Funds"


def test_markdown_code_blocks_are_text_as_written_not_headings_or_items(tmp_path: Path):
    """A fenced or indented code block shows its lines as written: a "# ..." shell comment, a
    "1. ..." line, a bold line or "**" inside it are neither a heading, a list item nor marks to
    undo, and the sections after it stay where the "#" headings put them. CommonMark's rules
    (markdown-it-py): a fence inside a list item, a tilde fence, an indented line continuing a
    list item (not code), and a "#" heading after the closing fence."""
    (tmp_path / "ledger.md").write_text(
        "# Client Funds Policy\n\n## 1. Loans\n\nStaff must not lend money to participants.\n\n"
        "To export the ledger, run:\n\n```bash\n# export the ledger\n1. not a list item\n"
        "ledger export --glob '**/*.csv' --as *csv*\n**Bold in code**\n```\n\n"
        "## 2. Gifts\n\nStaff may accept gifts worth under $10.\n\n"
        "1. Record the gift:\n\n   ~~~\n   # gift log\n   ~~~\n\n"
        "   **Then** tell a supervisor.\n\nAn example entry:\n\n    # 2026-01-04 mug, $4\n\n"
        "## 3. Cash\n\nNever keep cash overnight.\n", encoding="utf-8")
    doc = read_document(tmp_path / "ledger.md")
    for line in ("# export the ledger\n1. not a list item\n",
                 "ledger export --glob '**/*.csv' --as *csv*\n**Bold in code**\n",
                 "   # gift log", "    # 2026-01-04 mug, $4"):
        assert line in doc.text
    assert "Then tell a supervisor." in doc.text  # list text outside code: marks undone
    assert [doc.text[at:].split("\n")[0] for at, _ in doc.md_headings] == [
        "Client Funds Policy", "1. Loans", "2. Gifts", "3. Cash"]
    assert len(doc.md_code) == 3
    structure = parse_sections(doc)
    titles = [s.title for s in structure.sections if s.kind == "heading"]
    assert "export the ledger" not in titles and "Bold in code" not in titles
    paths = _paths(doc)
    assert paths["```bash # export"] == "1. Loans"
    assert paths["Staff may accept"] == "2. Gifts"
    assert paths["~~~ # gift"] == paths["Then tell a"] == paths["1. Record the"]
    assert paths["# 2026-01-04 mug,"] == paths["An example entry:"]
    assert paths["Never keep cash"] == "3. Cash"
    assert not any(s.kind == "item" and s.marker == "1" and s.parent != 0 and
                   "not a list item" in doc.text[s.start:s.end] for s in structure.sections)


def test_a_markdown_fence_never_closed_is_text_with_a_warning(tmp_path: Path):
    """CommonMark runs a fence that is never closed to the end of the file: one stray ``` would
    put every later heading out of the sections and cite the rest of the policy under the heading
    before it. It is read as text instead, and the ingest report says so; a fence closed on the
    file's last line is code."""
    (tmp_path / "funds.md").write_text(
        "# Funds\n\n## 1. Loans\n\nNever lend money.\n\n```\nledger export\n\n"
        "## 2. Gifts\n\nGifts under $10 only.\n", encoding="utf-8")
    doc = read_document(tmp_path / "funds.md")
    assert doc.md_code == []
    assert doc.warnings == ["line 7: a code fence (```) is never closed; the rest of the file "
                            "is read as text, not code"]
    assert _paths(doc)["Gifts under $10"] == "2. Gifts"
    (tmp_path / "closed.md").write_text("# Funds\n\nRun:\n\n~~~~\n# export\n~~~~~\n",
                                        encoding="utf-8")
    closed = read_document(tmp_path / "closed.md")
    assert closed.warnings == [] and len(closed.md_code) == 1
    assert "# export" in closed.text


def test_markdown_setext_headings_and_escapes(tmp_path: Path):
    """pandoc writes level 1-2 headings underlined, and escapes characters Markdown would read."""
    (tmp_path / "funds.md").write_text(
        "Client Funds Policy\n===================\n\nScope\n-----\n\n"
        "This policy covers **all** staff. It applies at every site.\n\n"
        "Loans\n-----\n\nStaff never lend money\\* to clients (see \\#4).\n\n"
        "---\n\nA closing note after a rule.\n", encoding="utf-8")
    doc = read_document(tmp_path / "funds.md")
    assert doc.title == "Client Funds Policy"
    assert "This policy covers all staff. It applies at every site." in doc.text
    assert "Staff never lend money* to clients (see #4)." in doc.text
    paths = _paths(doc)
    assert paths["This policy covers"] == "Scope"
    assert paths["Staff never lend"] == "Loans"
    assert paths["A closing note"] == "Loans"  # "---" after a blank: a rule


def test_markdown_reads_as_its_page_shows_quotes_rules_task_lists_and_footnotes(
        tmp_path: Path):
    """What a rendered Markdown page does not show is not text: a quote's ">" marks, a setext
    heading's underline, a thematic break, a footnote's "[^1]". So a passage reads as the page,
    and a quote copied from the page across a quoted note's lines is found. A task list shows
    its boxes, a GitHub alert its title, a footnote its number (in order of reference). What a
    quote or a footnote holds is text: no heading or item of the policy's. CommonMark's rules
    decide the blocks (markdown-it-py); a line of no-break spaces is blank, as Word leaves it."""
    (tmp_path / "funds.md").write_text(
        "Client Funds Policy\n===================\n\n> [!IMPORTANT]\n> Staff must read this "
        "policy\n> before handling client money.\n\nScope\n-----\n\nThis policy covers all "
        "staff.[^sites]\n\n* * *\n\n## 1. Loans\n\n> # Quoted heading\n> 1. A quoted step\n\n"
        "- [ ] Count the cash box.\n- [x] Record every withdrawal.\n\u00a0\nGifts\n-----\n\n"
        "Gifts under $10 only (see note[^owner]).\n\n[^owner]: The finance committee owns "
        "this policy.\n[^sites]: Every site, including outreach.\n", encoding="utf-8")
    doc = read_document(tmp_path / "funds.md")
    for mark in ("===", "---", "*", ">", "[!", "[^", "[ ]", "[x]"):
        assert mark not in doc.text, mark
    assert doc.text.startswith("Client Funds Policy\n\nImportant\nStaff must read this policy\n"
                               "before handling client money.\n\nScope\n\nThis policy covers "
                               "all staff.\n\n")
    assert "Quoted heading\n1. A quoted step" in doc.text
    assert "- \u2610 Count the cash box.\n- \u2611 Record every withdrawal." in doc.text
    assert "Gifts under $10 only (see note).\n\n2 The finance committee owns this policy.\n" \
           "1 Every site, including outreach." in doc.text
    assert [(doc.text[at:].split("\n")[0], level) for at, level in doc.md_headings] == [
        ("Client Funds Policy", 1), ("Scope", 2), ("1. Loans", 2), ("Gifts", 2)]
    paths = _paths(doc)
    assert paths["Important Staff must"] == "Client Funds Policy"  # the quote, one paragraph
    assert paths["This policy covers"] == "Scope"
    assert paths["Quoted heading 1."] == paths["\u2610 Count the"] == "1. Loans"
    assert paths["Gifts under $10"] == "Gifts"
    assert paths["2 The finance"] == paths["1 Every site,"] == "Gifts"  # notes, not numbers
    assert doc.title == "Client Funds Policy"


def test_markdown_admonitions_and_contents_marks_of_site_and_wiki_tools_read_as_shown(
        tmp_path: Path):
    """A handbook published with MkDocs boxes its warnings as admonitions ('!!! warning "Cash
    gifts"' over indented text), which CommonMark alone reads as code: the box's first line
    and indentation stood in its sentences, and its list was one line of code. Docusaurus and
    VitePress fence theirs with ":::"; wikis (Azure DevOps, GitLab) mark a table of contents
    "[[_TOC_]]", which read "[[TOC]]". Each now reads as the page shows it: the title, then
    the text and items of the box; no contents mark."""
    (tmp_path / "gifts.md").write_text(
        "[[_TOC_]]\n\n# Gifts and Loans\n\nStaff may accept small gifts.\n\n"
        '!!! warning "Cash gifts"\n    Staff decline cash gifts of any value, and record the\n'
        "    offer in the client's file on the same day.\n\n    - Tell your supervisor.\n"
        "    - Thank the client.\n\n"
        "??? note\n    A gift card counts as cash.\n\n"
        ":::danger[Never lend money]\nStaff never lend money to a client, however small the "
        "sum.\n:::\n\n::: tip\nOffer petty cash for bus fare instead.\n:::\n\n"
        "## Loans\n\n    code stays code\n", encoding="utf-8")
    doc = read_document(tmp_path / "gifts.md")
    for mark in ("TOC", "!!!", "???", ":::", '"'):
        assert mark not in doc.text, mark
    assert doc.text.startswith("Gifts and Loans\n")
    assert ("Cash gifts\nStaff decline cash gifts of any value, and record the\noffer in the "
            "client's file on the same day.\n\n- Tell your supervisor.\n- Thank the client."
            ) in doc.text
    assert "Note\nA gift card counts as cash." in doc.text
    assert "Never lend money\nStaff never lend money to a client" in doc.text
    assert "Tip\nOffer petty cash for bus fare instead." in doc.text
    assert "    code stays code" in doc.text
    paths = _paths(doc)
    assert {paths[first] for first in ("Cash gifts Staff", "Tell your supervisor.",
                                       "Note A gift", "Never lend money", "Tip Offer petty")
            } == {"Gifts and Loans"}  # no title of a box heads a section
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    sentences = [doc.text[a:b] for chunk in chunks for a, b in chunk.sentences]
    assert "Tell your supervisor." in sentences and "Thank the client." in sentences


def test_markdown_without_headings_takes_its_bold_lines_as_headings(tmp_path: Path):
    """A policy typed with bold lines for headings (sentence case, so no Title-Case rule sees
    them): each short bold paragraph is a heading; a bold sentence, a bold lead-in inside a
    paragraph and bold words stay body text. With "#" headings, bold lines are emphasis."""
    (tmp_path / "funds.md").write_text(
        "**Client funds policy**\r\n\r\nStaff handle client money with care.\r\n\r\n"
        "**Loans to clients**\r\n\r\nStaff must never lend money to a client.\r\n\r\n"
        "**Never keep cash overnight.**\r\n\r\n__Gifts from clients__\r\n\r\n"
        "A gift under $10 may be accepted.\r\n**Note:** this covers volunteers.\r\n\r\n"
        "Some **bold words** inside.\r\n", encoding="utf-8")
    doc = read_document(tmp_path / "funds.md")
    assert "**" not in doc.text and "__" not in doc.text
    paths = _paths(doc)
    assert paths["Staff handle client"] == "Client funds policy"
    assert paths["Staff must never"] == "Loans to clients"
    assert paths["Never keep cash"] == "Loans to clients"  # a sentence: a bold warning
    assert paths["A gift under"] == "Gifts from clients"
    assert paths["Some bold words"] == "Gifts from clients"

    (tmp_path / "marked.md").write_text(
        "# Client Funds\n\n## Loans\n\nNever lend money.\n\n**write it down**\n\nKeep a log.\n",
        encoding="utf-8")
    assert _paths(read_document(tmp_path / "marked.md"))["Keep a log."] == "Loans"


def test_markdown_images_reference_links_and_code_show_their_text(tmp_path: Path):
    """What a reader of the rendered page sees: an image's alt text, a reference link's text (its
    definition line shows nothing), code without backticks; a footnote stays."""
    (tmp_path / "escalation.md").write_text(
        "# Escalation\n\n![Escalation chart](img/chart.png \"Chart\") Call [the duty line][duty] "
        "or read [the handbook][], then type `policyqa ask` in ``the `ask` box``.\n\n"
        "[duty]: https://example.org/duty \"Duty line\"\n[the handbook]: <https://example.org/hb>\n"
        "[^1]: Ibid.\n", encoding="utf-8")
    doc = read_document(tmp_path / "escalation.md")
    assert ("Escalation chart Call the duty line or read the handbook, then type policyqa ask in "
            "the `ask` box.") in doc.text
    assert "example.org" not in doc.text and "[^1]: Ibid." in doc.text
    assert "img/chart.png" not in doc.text and "![" not in doc.text
    assert clean_text("A ![x](y.png) pdf", "pdf")[0] == "A x pdf"


def test_docx_cell_merged_down_rows_stands_once(tmp_path: Path):
    """A cell merged across rows (Word's vertical merge) is printed once, in its first row;
    python-docx repeats it in every row it spans, so "Money" stood three times in the text and a
    quote of "Money Never borrow" was found though Word shows no such words. The rows below keep
    an empty cell, so their other cells keep their columns; a cell merged across columns stands
    once too."""
    import docx

    document = docx.Document()
    table = document.add_table(rows=4, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "Money rules"
    table.cell(1, 0).merge(table.cell(3, 0)).text = "Money"
    for row, (rule, who) in enumerate([("Never lend", "Staff"), ("Never borrow", "Staff"),
                                       ("Never gift", "Volunteers")], start=1):
        table.cell(row, 1).text, table.cell(row, 2).text = rule, who
    document.save(tmp_path / "money.docx")
    doc = read_document(tmp_path / "money.docx")
    assert doc.text.count("Money") == 2
    assert "Money rules\nMoney\tNever lend\tStaff\n\tNever borrow\tStaff\n\tNever gift\tVolunteers" \
        in doc.text
    assert normalize("Money Never borrow") not in normalize(doc.text)


def test_sections_numbered_one_point_oh_are_chapters(tmp_path: Path):
    """US agency policies number their chapters "1.0 Purpose", "2.0 Procedure" over "2.1
    Intake". "1.0" was read as a sub-section with no parent and did not go on the document's
    sequence, so no chapter was a heading and "Clients may appeal..." was cited under "2.2
    Formal review". In a PDF (its paragraphs wrapped at the margin, the headings in bold), a
    text file, and a Word file whose headings are typed in bold, the chapters are headings, and
    "2.1" nests under "2.0"."""
    import docx

    body = ("Every client has the right to complain about the services they receive without fear "
            "that their services will be reduced or that they will be treated differently.")
    outline = [("1.0 Purpose", body), ("2.0 Procedure", "Staff write the grievance down."),
               ("2.1 Informal resolution", "The program manager meets the client in five days."),
               ("2.2 Formal review", "The Advocate decides within 30 days."),
               ("3.0 Appeals", "Clients may appeal to the Executive Director within 15 days.")]
    pdf = _pdf_of_lines(tmp_path / "grievance.pdf",
                        *[entry for head, text in outline for entry in ((head, 12, "B"), text)])
    (tmp_path / "grievance.txt").write_text(
        "Client Grievance Procedure\n\n" + "".join(f"{h}\n\n{t}\n\n" for h, t in outline))
    document = docx.Document()
    for head, text in outline:
        document.add_paragraph().add_run(head).bold = True
        document.add_paragraph(text)
    document.save(tmp_path / "grievance.docx")
    for path in (pdf, tmp_path / "grievance.txt", tmp_path / "grievance.docx"):
        paths = _paths(read_document(path))
        assert paths["Every client has"] == "1.0 Purpose", path.name
        assert paths["The Advocate decides"] == "2.0 Procedure › 2.2 Formal review", path.name
        assert paths["Clients may appeal"] == "3.0 Appeals", path.name


def test_html_running_header_footer_and_note_marks_as_word_processors_save_them(tmp_path: Path):
    """LibreOffice saves a document's running header and footer as <div title="header"> and
    <div title="footer">: "Revised 03/2024 Page 1 of 1" stood in the text, cited under the last
    section. Note marks glued to the word they follow ("management.1", Word's "[1]") kept a quote
    of "management. Staff" from being found, and a note read "2The monthly...". Marks in the
    text go, a note keeps its number and a space; a bare "2" linked to nothing stays."""
    page = (
        '<html><body><div title="header"><p>Riverside Community Services \u2014 Policy 4.12</p>'
        '</div><h1>1. Scope</h1><p>This policy covers case management.<a class="sdfootnoteanc" '
        'href="#sdfootnote1sym"><sup>1</sup></a> Staff count cash daily.<a href="#_ftn2" '
        'name="_ftnref2"><span class="MsoFootnoteReference">[2]</span></a></p>'
        '<p>Keep <a href="#fn3" class="footnote-ref"><sup>3</sup></a>receipts for 2 years, '
        'see <a href="#s2">2</a>.</p>'
        '<div id="sdfootnote1"><p><a class="sdfootnotesym" href="#sdfootnote1anc">1</a>Includes '
        'supported housing.</p></div><div id="ftn2"><p class="MsoFootnoteText"><a '
        'href="#_ftnref2"><span class="MsoFootnoteReference">[2]</span></a> Both staff sign.</p>'
        '</div><div title="footer"><p>Revised 03/2024 Page 1 of 1</p></div></body></html>')
    (tmp_path / "funds.html").write_text(page, encoding="utf-8")
    doc = read_document(tmp_path / "funds.html")
    assert "Riverside" not in doc.text and "Revised" not in doc.text
    assert "This policy covers case management. Staff count cash daily.\n" in doc.text
    assert "Keep receipts for 2 years, see 2." in doc.text
    assert "1 Includes supported housing." in doc.text and "[2] Both staff sign." in doc.text


def test_html_heading_number_glued_to_its_title_is_set_apart(tmp_path: Path):
    """LibreOffice saves numbered headings as "4.1Receiving funds", "III.Procedure": the tab
    after the number is dropped, and every citation read "4.Policy › 4.1Receiving funds"."""
    (tmp_path / "funds.html").write_text(
        "<html><body><h1>4.Policy</h1><h2>4.1Receiving funds</h2><p>Staff write a receipt.</p>"
        "<h1>III.Procedure</h1><h2>B.Reporting timelines</h2><p>Report within a day.</p>"
        "<h1>2024 Budget</h1><p>Unchanged.</p><h3>a.Defects found</h3><p>Report them.</p>"
        "</body></html>", encoding="utf-8")
    paths = _paths(read_document(tmp_path / "funds.html"))
    assert paths["Report them."] == "2024 Budget › a. Defects found"
    assert paths["Staff write a"] == "4. Policy › 4.1 Receiving funds"
    assert paths["Report within a"] == "III. Procedure › B. Reporting timelines"
    assert paths["Unchanged."] == "2024 Budget"


def _edited_docx(path: Path, edit, extra: dict[str, str] | None = None) -> Path:
    """A Word file (python-docx) with two bold hand-typed headings and a footnote-free body,
    whose parts `edit(name, xml) -> xml` rewrites, as a damaged or hand-made file has them
    (`extra`: parts added)."""
    import zipfile

    import docx

    document = docx.Document()
    for head, text in (("Client Funds", "Staff never lend money."), ("Gifts", "Declined.")):
        document.add_paragraph().add_run(head).bold = True
        document.add_paragraph(text)
    document.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, edit(name, data.decode("utf-8")) if name.endswith((".xml", ".rels"))
                       else data)
        for name, xml in (extra or {}).items():
            z.writestr(name, xml)
    return path


def test_docx_damaged_or_unusual_parts_are_read_or_named_never_hang_or_crash(tmp_path: Path):
    """What a bad sync, a cut-off download or another program's writer leaves in a .docx.
    A style based on itself (or two on each other) looped for ever and stalled the whole ingest;
    a default size written "11pt" (as the standard allows) or "22.5", an outline level or list
    start that is no number, and broken XML raised ValueError or XMLSyntaxError, and the file was
    skipped as an "unexpected error". Now each reads, or is named as a damaged Word file."""
    import re
    import signal

    def styles(edit):
        return lambda name, xml: edit(xml) if name == "word/styles.xml" else xml

    cycle = styles(lambda xml: re.sub(
        r'(<w:style w:type="paragraph" w:default="1" w:styleId="Normal">)',
        r'\1<w:basedOn w:val="Normal"/>', xml).replace(
        '<w:style w:type="paragraph" w:styleId="Heading1">',
        '<w:style w:type="paragraph" w:styleId="Heading1"><w:basedOn w:val="Heading2"/>').replace(
        '<w:style w:type="paragraph" w:styleId="Heading2">',
        '<w:style w:type="paragraph" w:styleId="Heading2"><w:basedOn w:val="Heading1"/>'))
    files = {
        "cycle": _edited_docx(tmp_path / "cycle.docx", cycle),
        "points": _edited_docx(tmp_path / "points.docx", styles(lambda xml: re.sub(
            r'<w:sz w:val="\d+"/>', '<w:sz w:val="11pt"/>', xml, count=1))),
        "half": _edited_docx(tmp_path / "half.docx", styles(lambda xml: re.sub(
            r'<w:sz w:val="\d+"/>', '<w:sz w:val="22.5"/>', xml, count=1))),
        "outline": _edited_docx(tmp_path / "outline.docx", lambda name, xml: xml.replace(
            "<w:p>", '<w:p><w:pPr><w:outlineLvl w:val=""/></w:pPr>', 1)),
    }
    previous = signal.signal(signal.SIGALRM,
                             lambda *a: (_ for _ in ()).throw(TimeoutError("hung")))
    signal.alarm(60)
    try:
        for name, path in files.items():
            paths = _paths(read_document(path))
            assert paths["Staff never lend"] == "Client Funds", name
            assert paths["Declined."] == "Gifts", name
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    _edited_docx(tmp_path / "broken.docx", lambda name, xml: xml.replace(
        "Declined.", "Declined & gone.") if name == "word/document.xml" else xml)
    footnotes = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/footnotes"
    _edited_docx(tmp_path / "notes.docx", lambda name, xml: xml.replace(
        "</Relationships>", f'<Relationship Id="rIdNotes" Type="{footnotes}" '
        'Target="footnotes.xml"/></Relationships>') if name.endswith("document.xml.rels") else xml,
        {"word/footnotes.xml": "<w:footnotes><w:footnote>&</w:footnotes>"})
    docs, skipped = load_corpus(tmp_path)
    status = {s.path: (s.status, s.reason) for s in skipped}
    assert status["broken.docx"][0] == "skipped"
    assert status["broken.docx"][1].startswith("damaged Word file (XMLSyntaxError")
    [notes] = [d for d in docs if d.doc_id == "notes"]  # read, its damaged notes named
    assert "Staff never lend money." in notes.text
    assert notes.warnings[0].startswith("its footnotes could not be read (damaged footnotes")


def test_html_bytes_are_read_as_a_browser_reads_them(tmp_path: Path):
    """An old intranet page declares ISO-8859-1 but holds Windows-1252's curly quotes and dashes
    (browsers read it so): they came out as control characters ("Staff\x92s"), and the title as
    "Client s Rights". A short UTF-8 page that declares nothing was guessed Shift-JIS
    ("client窶冱"). A program's placeholder <title> ("Untitled Document") titles nothing."""
    (tmp_path / "rights.htm").write_bytes(
        b'<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1">'
        b"<title>Client\x92s Rights</title></head><body><p>Staff\x92s \x93duty\x94 \x97 always."
        b"</p></body></html>")
    (tmp_path / "files.html").write_bytes(
        "<p><b>Records</b></p><p>Para\u00adgraph on the client\u2019s file.</p>".encode())
    (tmp_path / "storage.html").write_text(
        "<html><head><title>Untitled Document</title></head><body><h1>Medication Storage</h1>"
        "<p>Keep all medication locked.</p></body></html>")
    rights = read_document(tmp_path / "rights.htm")
    assert rights.title == "Client\u2019s Rights"
    assert "Staff\u2019s \u201cduty\u201d \u2014 always." in rights.text
    assert "client\u2019s file" in read_document(tmp_path / "files.html").text
    assert read_document(tmp_path / "storage.html").title == "Medication Storage"


def test_a_file_named_as_another_format_is_named_not_indexed(tmp_path: Path):
    """A PDF or a Word file saved under another name (.html, .txt, .pdf) was indexed as garbage
    (and the garbage could win the duplicate check against the real file); now it is named for
    what it is. A PDF with a line break or byte-order mark before its header is read, as PDF
    readers and pypdf read it. An Excel workbook named .docx (an Office package too) was a
    "damaged Word file"."""
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["Day", "On call"])
    book.save(tmp_path / "rota.docx")
    pdf = make_pdf(tmp_path / "gifts.pdf", ["Staff must not accept cash gifts from clients."])
    (tmp_path / "gifts-copy.html").write_bytes(pdf.read_bytes())
    (tmp_path / "served.pdf").write_bytes(b"\r\n" + pdf.read_bytes().replace(b"cash", b"any "))
    _edited_docx(tmp_path / "funds.docx", lambda name, xml: xml)
    (tmp_path / "funds.pdf").write_bytes((tmp_path / "funds.docx").read_bytes())
    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in docs) == ["funds", "gifts", "served"]
    status = {s.path: (s.status, s.reason) for s in skipped}
    assert status == {
        "gifts-copy.html": ("skipped", "not a web page: it is a PDF named .html"),
        "funds.pdf": ("skipped", "not a PDF: it is a ZIP package (a Word .docx or another "
                                 "Office file) named .pdf"),
        "rota.docx": ("skipped", "not a Word file: it is an Excel workbook named .docx")}


def test_html_nested_thousands_deep_is_read_or_named_in_seconds(tmp_path: Path):
    """An old FrontPage page that never closes its <font> tags nests each paragraph one level
    deeper: 500 of them raised RecursionError (skipped as an "unexpected error"). A page nested
    30,000 deep took over four minutes (bs4's `decomposed` and find() scan the subtree for each
    element). Now the first reads whole and the second is named, each in seconds."""
    import signal

    (tmp_path / "rules.htm").write_text("<html><body>" + "".join(
        f"<font face=Arial><p>Rule {n}: keep records locked." for n in range(1000)))
    (tmp_path / "deep.html").write_text("<html><body>" + "<div>" * 30_000 + "deep text")
    previous = signal.signal(signal.SIGALRM,
                             lambda *a: (_ for _ in ()).throw(TimeoutError("too slow")))
    signal.alarm(60)
    try:
        docs, skipped = load_corpus(tmp_path)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert [d.doc_id for d in docs] == ["rules"] and docs[0].text.count("keep records") == 1000
    assert [(s.path, s.reason) for s in skipped] == [
        ("deep.html", "web page nested too deeply to read (over 25,000 levels of elements)")]


def test_docx_breaks_symbols_and_missing_properties_read_as_word_shows_them(tmp_path: Path):
    """Found by fuzzing Word files: a page or column break inside a paragraph joined the words
    around it ("reportwithin"); a symbol inserted from the Symbol font ("≥") or a Wingdings tick
    vanished ("aged  18"); a heading set on two lines (Shift+Enter) kept its line break in every
    citation; a file with no properties part was titled "Word Document" and dated today, what
    python-docx makes up."""
    import zipfile

    import docx
    from docx.enum.text import WD_BREAK
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    heading = document.add_heading("Section 4", level=1)
    heading.runs[0].add_break()
    heading.add_run("Confidentiality")
    para = document.add_paragraph("Staff file every incident report")
    para.runs[0].add_break(WD_BREAK.PAGE)
    para.add_run("within 24 hours.")
    para = document.add_paragraph("Left column ends here")
    para.runs[0].add_break(WD_BREAK.COLUMN)
    para.add_run("Right column starts here.")
    para = document.add_paragraph("Clients aged ")
    para._p.append(parse_xml(f'<w:r {w}><w:sym w:font="Symbol" w:char="F0B3"/></w:r>'))
    para.add_run(" 18 may consent. Consent form signed: ")
    para._p.append(parse_xml(f'<w:r {w}><w:sym w:font="Wingdings" w:char="F0FE"/></w:r>'))
    document.save(tmp_path / "records.docx")
    doc = read_document(tmp_path / "records.docx")
    assert "incident report\nwithin 24 hours." in doc.text
    assert "ends here\nRight column" in doc.text
    assert "Clients aged \u2265 18 may consent. Consent form signed: \u2611" in doc.text
    assert _paths(doc)["Staff file every"] == "Section 4 Confidentiality"
    assert doc.date  # the properties python-docx wrote
    with zipfile.ZipFile(tmp_path / "records.docx") as z:
        parts = {name: z.read(name) for name in z.namelist() if name != "docProps/core.xml"}
    rels = parts["_rels/.rels"].decode()
    parts["_rels/.rels"] = re.sub(r'<Relationship [^>]*core-properties"[^>]*/>', "", rels).encode()
    with zipfile.ZipFile(tmp_path / "bare.docx", "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    bare = read_document(tmp_path / "bare.docx")
    assert "Word Document" not in bare.title and not bare.date


def test_pdf_template_fields_and_subtitle_are_no_sections(tmp_path: Path):
    """A template's header block, a table a PDF gives as lines ("Policy Number: 2.20" /
    "Effective Date: ..." / "Owner: Director of Clinical Services"), and a subtitle under the
    title ("Procedure 5.08 - Community Services") read as Title-Case headings over "1. Purpose",
    and every citation sat under them ("Owner: Director of Clinical Services › 2. Policy ›
    2.2 Social media"). Both are the document's opening text, not sections."""
    body = ("Clients trust staff with personal and often painful information, so staff keep "
            "relationships with clients professional at all times.")
    fields = _pdf_of_lines(
        tmp_path / "boundaries.pdf", ("Professional Boundaries", 16, "B"), "Policy Number: 2.20",
        "Effective Date: September 1, 2021", "Owner: Director of Clinical Services",
        "1. Purpose", body, "2. Policy", "Staff never befriend clients on social media.")
    paths = _paths(read_document(fields))
    assert paths["Staff never befriend"] == "2. Policy"
    assert not any("Owner" in path for path in paths.values())
    subtitle = _pdf_of_lines(
        tmp_path / "visits.pdf", ("HOME VISITS SAFETY PROCEDURE", 16, "B"),
        "Procedure 5.08 - Community Services", "1. PURPOSE", body, "2. SCOPE",
        "All case managers who visit clients in their homes.")
    paths = _paths(read_document(subtitle))
    assert paths["All case managers"] == "2. Scope"
    assert not any("Procedure 5.08" in path for path in paths.values())
    # a lone "Label: value" heading over its text is still one
    alone = _pdf_of_lines(tmp_path / "forms.pdf", ("Gifts Policy", 16, "B"), "Appendix A: Forms",
                          body)
    assert _paths(read_document(alone))["Clients trust staff"] == "Appendix A Forms"


def test_docx_list_restarted_as_libreoffice_saves_it_counts_on(tmp_path: Path):
    """LibreOffice saves a list restarted at 1 as its first item in a numbering instance that
    overrides the start, the rest in the list's own instance of the same definition; Word and
    LibreOffice show 1, 2, 3. Counted per instance it read 1, then 3, 4 (a first list had used
    the instance), and "Record the gift" was cited "3. Procedure › 4"."""
    import docx

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = docx.Document()

    def item(text: str, num: int) -> None:
        para = document.add_paragraph(text)
        ppr = para._p.get_or_add_pPr()
        ppr.append(docx.oxml.parse_xml(
            f'<w:numPr xmlns:w="{w}"><w:ilvl w:val="0"/><w:numId w:val="{num}"/></w:numPr>'))

    document.add_heading("Accepting gifts", 1)
    item("A card or letter.", 90)
    item("Food shared with the team.", 90)
    document.add_heading("Procedure", 1)
    item("Thank the client.", 91)
    item("Record the gift in the register.", 90)
    item("The supervisor decides.", 90)
    document.save(tmp_path / "gifts.docx")
    lists = (f'<w:abstractNum xmlns:w="{w}" w:abstractNumId="90"><w:lvl w:ilvl="0">'
             '<w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>'
             f'</w:abstractNum><w:num xmlns:w="{w}" w:numId="90"><w:abstractNumId w:val="90"/>'
             f'</w:num><w:num xmlns:w="{w}" w:numId="91"><w:abstractNumId w:val="90"/>'
             '<w:lvlOverride w:ilvl="0"><w:startOverride w:val="1"/></w:lvlOverride></w:num>')

    def add_lists(name: str, xml: str) -> str:
        if name != "word/numbering.xml":
            return xml
        first_num = xml.index("<w:num ")  # abstract definitions come before the instances
        abstract, nums = lists.split("</w:abstractNum>")
        return (xml[:first_num] + abstract + "</w:abstractNum>" + xml[first_num:]).replace(
            "</w:numbering>", nums + "</w:numbering>")

    import zipfile

    with zipfile.ZipFile(tmp_path / "gifts.docx") as z:
        parts = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(tmp_path / "gifts.docx", "w") as z:
        for name, part in parts.items():
            z.writestr(name, add_lists(name, part.decode()) if name.endswith(".xml") else part)
    doc = read_document(tmp_path / "gifts.docx")
    assert "1. A card or letter.\n\n2. Food shared" in doc.text
    assert ("1. Thank the client.\n\n2. Record the gift in the register.\n\n"
            "3. The supervisor decides.") in doc.text
    assert _paths(doc)["2. Record the"] == "Procedure › 2"


@pytest.mark.parametrize(("title", "expected"), [
    ("Client Funds Policy | Riverside Intranet", "Client Funds Policy"),
    ("Riverside Intranet :: Client Funds Policy", "Client Funds Policy"),
    ("Client Funds Policy \u2014 Staff Handbook v4.2", "Client Funds Policy"),
    ("Client Funds Policy (2024 revision) - Riverside", "Client Funds Policy (2024 revision) - Riverside"),
    ("Client Funds Policy", "Client Funds Policy"),
])
def test_html_title_less_the_sites_name(tmp_path: Path, title, expected):
    """An intranet page's <title> is its heading and the site's name ("Client Funds Policy |
    Riverside Intranet"): the document is titled by its heading, as staff know it, and the
    site's name, on every page, names none of them. A title that says more than the heading
    (a revision) stands as written."""
    page = tmp_path / "funds.html"
    page.write_text(f"<html><head><title>{title}</title></head><body><h1>Client Funds Policy</h1>"
                    "<p>Staff do not lend money to clients.</p></body></html>", encoding="utf-8")
    assert read_document(page).title == expected


def test_pdf_printed_web_page_titled_less_the_sites_name():
    """The browser writes the page's <title> into the PDF it prints: titled by the heading set
    large on its page, without the site's name."""
    printed = Path(__file__).parent / "fixtures" / "printed" / "client-funds.pdf"
    assert read_document(printed).title == "Client Funds and Property Policy"


def test_html_type_given_by_the_style_sheets_classes(tmp_path: Path):
    """Google Docs' "Download > Web page" gives every paragraph its type by class, never inline
    (".c3{font-weight:700}", ".title{font-size:26pt}"): a policy typed with bold headings was
    one section under no heading. The classes' weight and size now count as the element's own;
    nothing else of a class does (a class that hides a panel hides no policy text)."""
    page = tmp_path / "funds.html"
    page.write_text(
        '<html><head><meta content="text/html; charset=UTF-8" http-equiv="content-type">'
        '<style type="text/css">ol{margin:0}.c0{font-weight:400;font-size:11pt}'
        '.c3{color:#000000;font-weight:700;font-size:11pt}.title{padding-top:0pt;font-size:26pt}'
        ".more{display:none}</style></head><body class=\"c12 doc-content\">"
        '<p class="c1 title"><span class="c8">Client Funds Policy</span></p>'
        '<p class="c1"><span class="c3">Loans to clients</span></p><p class="c1"><span class="c0">'
        "Staff do not lend money to clients or borrow money from them.</span></p>"
        '<p class="c1"><span class="c3">Gifts</span></p><p class="c1 more"><span class="c0">'
        "Staff may accept a gift worth under $20 and tell their supervisor.</span></p>"
        "</body></html>", encoding="utf-8")
    doc = read_document(page)
    assert doc.title == "Client Funds Policy"
    paths = _paths(doc)
    assert paths["Staff do not"] == "Loans to clients"
    assert paths["Staff may accept"] == "Gifts"  # the .more paragraph is read, not hidden


def test_html_page_titled_by_its_bold_opening_paragraph(tmp_path: Path):
    """A page a word processor saved, with no <title>, shows its title in large bold type over
    "I. Purpose", not as a heading: the first h1 titled it ("I. Purpose"). An opening bold
    paragraph that reads as a heading titles it, as does one in a title's large type (Word's
    Title style: 26 pt, not bold); a bold or large sentence, or a page that opens on text,
    leaves the first h1 to."""
    def page(opening: str) -> str:
        return (f"<html><head><title></title></head><body>{opening}<h1>I. Purpose</h1>"
                "<p>Incidents are reported before the end of the shift.</p></body></html>")

    for name, opening, title in (
            ("report", '<p align="center"><font style="font-size: 18pt"><b>Incident Reporting '
                       "and Review</b></font></p>", "Incident Reporting and Review"),
            ("warning", "<p><b>Report every incident before the end of the shift.</b></p>",
             "I. Purpose"),
            ("text", "<p>Approved by the board in 2024.</p>", "I. Purpose"),
            # Word's Title style (26 pt, not bold) as LibreOffice writes it, and as Word does
            ("lo-title", '<p style="margin-bottom: 0.21in"><font color="#17365d"><font size="6" '
                         'style="font-size: 26pt">Crisis\nResponse Procedure</font></font></p>',
             "Crisis Response Procedure"),
            ("word-title", '<p class="MsoTitle">Crisis Response Procedure</p>',
             "Crisis Response Procedure"),
            ("large-sentence", '<p><span style="font-size:20pt">Report every incident before the'
                               " end of the shift.</span></p>", "I. Purpose"),
            ("small", '<p><span style="font-size:12pt">Incident Reporting and Review</span></p>',
             "I. Purpose")):
        (tmp_path / f"{name}.html").write_text(page(opening))
        assert read_document(tmp_path / f"{name}.html").title == title, name


def test_pdf_headings_over_a_lead_in_or_a_table_are_headings(tmp_path: Path):
    """A LibreOffice export: "Disclosure without authorization" (Heading 2) over a short lead-in
    ("Information may be disclosed without consent only:") and its bullets, and "Procedure for
    Releasing Records" (Heading 1) over a table whose bold header row is set smaller, were not
    read as headings: their text went to "Valid authorization", the section before. A short
    sentence that leads into a list is text under a heading; a line in the font the document's
    chapters share is a heading whatever stands under it."""
    lead = ("A written authorization to release information is valid only when it contains "
            "all of the following details:")
    pdf = _pdf_of_lines(
        tmp_path / "privacy.pdf", ("Confidentiality and Release of Information", 24, "B"),
        ("Purpose", 18, "B"), "To protect the privacy of people who receive services here.",
        ("Policy", 18, "B"), "All information that identifies a client is confidential.",
        ("Valid authorization", 14, "B"), lead, "a. the client's name;", "b. the purpose.",
        ("Disclosure without authorization", 14, "B"),
        "Information may be disclosed without consent only:",
        "- in a medical emergency;", "- to report suspected abuse or neglect.",
        ("Procedure for Releasing Records", 18, "B"), ("Step Who Action", 11, "B"),
        "1 Health Information", "Clerk Log the request and check the authorization.",
        "2 Clinician Review the copy before it leaves.",
        ("Breaches", 18, "B"), "Tell the Privacy Officer the same day.")
    paths = _paths(read_document(pdf))
    assert paths["Information may be"] == "Policy › Disclosure without authorization"
    assert paths["in a medical"] == "Policy › Disclosure without authorization"
    assert paths["Step Who Action"] == "Procedure for Releasing Records"  # the table's rows
    assert paths["Tell the Privacy"] == "Breaches"


def test_html_list_nested_without_an_item_and_a_word_processors_contents(tmp_path: Path):
    """LibreOffice saves a list that starts at a deeper level as <ol><ol><li>: only the items
    straight under a list were read, and a whole procedure (its steps, and headings numbered in
    it) was lost without a word. And a word processor's table of contents (LibreOffice's
    "Table of Contents1" block, Word's "MsoToc1" lines: links to the page's own headings) was
    read as text, its lines as list items cited "1.0", "2.0" beside the real sections."""
    (tmp_path / "warn.html").write_text(
        '<html><body><div id="Table of Contents1"><p><b>Table of Contents</b></p>'
        '<p><a href="#__RefHeading___Toc194">1.0 Purpose 1</a></p>'
        '<p><a href="#__RefHeading___Toc196">2.0 Procedure 2</a></p>'
        '<p><a href="#__RefHeading___Toc198">3.0 Records 3</a></p></div>'
        '<p class="MsoToc1"><a href="#_Toc1">Appendix A 4</a></p>'
        "<h1>1.0 Purpose</h1><p>When a client makes a threat, the clinician records:</p>"
        '<ol type="I"><ol type="A"><ol><li><p>whether the victim is identified;</p>'
        "<li><p>the client's stated intent.</p></ol><li><p>Consultation</p></ol></ol>"
        "<p>Records are kept for seven years.</p></body></html>")
    doc = read_document(tmp_path / "warn.html")
    assert "1. whether the victim is identified;\n\n2. the client's stated intent." in doc.text
    assert "A. Consultation" in doc.text
    assert "Table of Contents" not in doc.text and "Appendix A" not in doc.text
    assert doc.text.startswith("1.0 Purpose")


def test_headings_numbered_by_a_list_head_their_text(tmp_path: Path):
    """Word users number headings with a multi-level list on bold Normal text ("I. PURPOSE",
    "A. Assessing the threat"), and Word's and LibreOffice's web pages keep them as list items:
    each was an item, its text went to the top ("Duty to Warn and Protect"), and the steps of
    two procedures were both cited "› 1". A short numbered line over a paragraph, or over a
    deeper one that is such a heading, heads it, where the one before it in its list did too;
    an item among items stays one."""
    (tmp_path / "warn.html").write_text(
        "<html><head><title>Duty to Warn</title></head><body>"
        '<ol type="I"><li><p><b>PURPOSE</b></p></li></ol><p>This policy guides clinicians.</p>'
        '<ol type="I" start="2"><li><p><b>PROCEDURE</b></p><ol type="A"><li><p>Assessing the '
        "threat</p></li></ol></li></ol><p>The clinician records:</p><ol><ol><ol><li>whether the "
        "victim is identified;</li><li>the client's stated intent.</li></ol></ol></ol>"
        '<ol type="I"><ol type="A" start="2"><li><p>Consultation</p></li></ol></ol>'
        "<p>Unless the danger is imminent, consult the director.</p>"
        '<ol type="I" start="3"><li><p>Records</p></li></ol><p>Notes are kept seven years.</p>'
        "<ol><li>Cash</li><li>Cheques</li></ol><p>All are logged.</p></body></html>")
    paths = _paths(read_document(tmp_path / "warn.html"))
    assert paths["This policy guides"] == "I. Purpose"
    assert paths["The clinician records:"] == "II. Procedure › A. Assessing the threat"
    assert paths["2. the client's"] == "II. Procedure › A. Assessing the threat › 2"
    assert paths["Unless the danger"] == "II. Procedure › B. Consultation"
    assert paths["Notes are kept"] == "III. Records"
    assert paths["2. Cheques"] == "III. Records › 2"


def test_markdown_table_reads_as_rows_of_cells_like_word_and_html(tmp_path: Path):
    """The rendered table shows cells, not pipes or the "|---|" row: each row is a line of its
    cells joined by tabs (as Word's and HTML's tables read), an escaped pipe stays in its cell,
    and a quote copied from the rendered page is found."""
    (tmp_path / "visits.md").write_text(
        "# Home Visits\n\nStaff numbers by risk:\n\n| Risk level | Staff required |\n"
        "|:-----------|---------------:|\n| Low | 1 |\n| High \\| urgent | 2 |\n\n"
        "Staff leave at once if they feel unsafe.\n", encoding="utf-8")
    doc = read_document(tmp_path / "visits.md")
    assert "Risk level\tStaff required\nLow\t1\nHigh | urgent\t2\n" in doc.text
    assert "|--" not in doc.text and "| Low" not in doc.text
    raw = (tmp_path / "visits.md").read_text(encoding="utf-8")
    text, source = clean_text(raw, "md")
    assert all(raw[source[i]] == ch for i, ch in enumerate(text) if ch != "\t")  # exact offsets
    assert normalize("High | urgent 2") in normalize(doc.text)


def test_html_in_markdown_reads_as_the_rendered_page_shows_it(tmp_path: Path):
    """Markdown files (a wiki's, GitHub's) hold HTML: tags show nothing, entities show their
    character, <br> breaks the line (in a table's row, a space: the row stays one line), an
    image's alt text stands for it. Code
    shows its tags as written; an escaped "<", a placeholder that is no HTML element
    ("<client name>") and a comparison ("x < y") are text. Each word keeps its exact offset."""
    raw = ('<a name="gifts"></a>\n# Gifts\n\n'
           "Staff may accept a gift worth <strong>under $20</strong>.<br>\n"
           "Gifts of cash are declined &mdash; in every case.<br/>Tell the supervisor.\n\n"
           "| Gift | Accept? |\n|---|---|\n| Card<br>or drawing | Yes |\n| Cash &amp; cards | No |\n\n"
           "<details>\n<summary>Why?</summary>\n\nGifts create a sense of obligation.\n</details>\n\n"
           "Type `<br>` or \\<b>, never &bogus;. Dear <client name>: a loan of <20 dollars is a "
           "loan, and x < y.\n<img src=\"logo.png\" alt=\"Agency logo\">\n")
    (tmp_path / "gifts.md").write_text(raw, encoding="utf-8")
    doc = read_document(tmp_path / "gifts.md")
    assert ("Staff may accept a gift worth under $20.\nGifts of cash are declined \u2014 in every "
            "case.\nTell the supervisor.") in doc.text
    assert "Gift\tAccept?\nCard or drawing\tYes\nCash & cards\tNo\n" in doc.text
    assert "\nWhy?\n\nGifts create a sense of obligation.\n" in doc.text
    assert ("Type <br> or <b>, never &bogus;. Dear <client name>: a loan of <20 dollars is a loan, "
            "and x < y.") in doc.text
    assert "<a" not in doc.text and "details>" not in doc.text and "logo.png" not in doc.text
    assert doc.text.rstrip().endswith("and x < y.\nAgency logo")  # an image's alt text stands
    assert [s.label for s in parse_sections(doc).sections][-1] == "Gifts"
    text, source = clean_text(raw, "md")
    assert all(raw[source[i]] == ch for i, ch in enumerate(text) if ch not in "\n\t \u2014&")


def test_markdown_emphasis_and_links_run_on_over_a_paragraphs_lines(tmp_path: Path):
    """pandoc wraps Markdown at 72 characters, inside emphasis and link text: the marks and the
    target go as on one line. Not across a blank line or into a list item (another block), and
    not in a text file, where a footnote's "*" and a later one are no emphasis."""
    raw = ("**Short version:** *Staff keep every client's money apart from their own\n"
           "and never lend it.* Read the [Client Funds\nPolicy](/policies/funds \"Funds\") and "
           "the __whole\nprocedure__ first.\n\nA *starred note.\n\nIt is no emphasis* here.\n\n"
           "- one *item\n- two* items\n")
    (tmp_path / "funds.md").write_text(raw, encoding="utf-8")
    text = read_document(tmp_path / "funds.md").text
    assert ("Short version: Staff keep every client's money apart from their own\nand never lend "
            "it. Read the Client Funds\nPolicy and the whole\nprocedure first.") in text
    assert "A *starred note.\n\nIt is no emphasis* here." in text
    assert "one *item" in text and "two* items" in text
    (tmp_path / "funds.txt").write_text("Gifts under $20* are accepted.\n*Gift cards and "
                                        "cash are not gifts.\n", encoding="utf-8")
    assert "$20* are accepted.\n*Gift cards" in read_document(tmp_path / "funds.txt").text


def test_an_html_heading_in_markdown_heads_its_section(tmp_path: Path):
    """A README or a wiki export writes some headings in HTML ("<h2 align="center">"): each is
    a heading of its level, its tags not in the text, as an ATX heading's marks are not."""
    (tmp_path / "gifts.md").write_text(
        "# Gifts\n\nStaff follow these rules.\n\n<h2 align=\"center\">Gift log</h2>\n\n"
        "Every gift is written in the gift log.\n\n<h3><a name=\"cash\"></a>Cash</h3>\n\n"
        "Cash is declined.\n\n## Reporting\n\nReport a breach the same day.\n", encoding="utf-8")
    doc = read_document(tmp_path / "gifts.md")
    structure = parse_sections(doc)
    assert "<h" not in doc.text and "\nGift log\n" in doc.text

    def path(phrase: str) -> str:
        at = doc.text.find(phrase)
        holding = [s for s in structure.sections if s.kind != "root" and s.start <= at < s.end]
        return structure.path_text(max(holding, key=lambda s: s.depth).id)

    assert path("Every gift is written") == "Gift log"  # (the title heads the document)
    assert path("Cash is declined") == "Gift log \u203a Cash"
    assert path("Report a breach") == "Reporting"


def test_a_word_table_that_pandoc_wrote_as_html_in_markdown_reads_as_rows(tmp_path: Path):
    """pandoc converts a Word table whose cells hold paragraphs or a list to GitHub Markdown as
    an HTML table (below, pandoc 2.17's output, as written). It reads as the Word file's table:
    a row a line, cells joined by tabs, a cell's paragraphs and items by a space; each row a
    sentence of its own."""
    (tmp_path / "gifts.md").write_text(
        "# Gifts\n\nStaff follow the table.\n\n<table>\n<colgroup>\n<col style=\"width: 50%\" />\n"
        "<col style=\"width: 50%\" />\n</colgroup>\n<thead>\n<tr class=\"header\">\n<th>Gift</th>\n"
        "<th>Accept?</th>\n</tr>\n</thead>\n<tbody>\n<tr class=\"odd\">\n<td><p>Food to share</p>\n"
        "<p>with the team</p></td>\n<td>Yes, and tell the <strong>team lead</strong> &amp; "
        "supervisor</td>\n</tr>\n<tr class=\"even\">\n<td>Cash</td>\n<td><ul>\n<li>No</li>\n"
        "<li>Report it</li>\n</ul></td>\n</tr>\n</tbody>\n</table>\n", encoding="utf-8")
    doc = read_document(tmp_path / "gifts.md")
    lines = doc.text.splitlines()
    rows = ["Gift\tAccept?", "Food to share with the team\tYes, and tell the team lead & supervisor",
            "Cash\tNo Report it"]
    assert all(row in lines for row in rows), doc.text
    assert "<" not in doc.text and "&amp;" not in doc.text
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    sentences = [doc.text[a:b] for c in chunks for a, b in c.sentences]
    assert all(row in sentences for row in rows)


def test_pdf_sentence_case_headings_are_read_from_their_font(tmp_path: Path):
    """A PDF exported from Word shows "Loans to clients" in its Heading style (larger, or bold)
    and nothing else marks it: the font does. A title page's lines in large type (a name, a
    date), a bold sentence and a title set over two lines stay text."""
    doc = read_document(_pdf_of_lines(
        tmp_path / "funds.pdf",
        ("Client funds", 18), ("procedure for all programs", 18), ("Jane Smith", 14),
        ("January 3, 2024", 14),
        "This procedure describes how staff handle money that belongs to clients.",
        ("Loans to clients", 14),
        "Staff never lend money to clients, even small amounts for bus fare or food.",
        ("Gifts from clients", 11, "B"),
        "Gifts over twenty dollars are politely declined and recorded in the gift log.",
        ("Never keep cash overnight.", 11, "B"),
        "Cash is banked on the day it is received, by two members of staff together."))
    paths = _paths(doc)
    assert paths["Staff never lend"] == "Loans to clients"
    # set smaller than the heading above it (as Word's Heading 3 is in bold body type under a
    # larger Heading 2): its sub-heading
    assert paths["Gifts over twenty"] == "Loans to clients › Gifts from clients"
    # the bold sentence is not a heading
    assert paths["Cash is banked"] == "Loans to clients › Gifts from clients"
    headings = [s.title for s in parse_sections(doc).sections if s.kind == "heading"]
    assert headings == ["Loans to clients", "Gifts from clients"]


@pytest.mark.parametrize("case", [str, str.title])
def test_pdf_headings_nest_by_type_size_and_a_heading_may_stand_over_its_sub_heading(
        tmp_path: Path, case):
    """A PDF keeps of Word's heading levels only their type sizes: Heading 1 is set larger
    than Heading 2. "Loans and gifts" over "Loans to clients" with no text between was read as
    a title over two lines, so neither was a heading and the loans rule was cited under
    "Purpose"; each is a heading, the smaller under the larger, and "Records", the larger
    size again, is the sibling of "Loans and gifts" (in Title Case too, where it stood under
    it)."""
    doc = read_document(_pdf_of_lines(
        tmp_path / "funds.pdf",
        (case("Client funds policy"), 20, "B"), (case("Purpose"), 16, "B"),
        "This policy explains how staff handle money that belongs to the people we serve.",
        (case("Loans and gifts"), 16, "B"), (case("Loans to clients"), 13, "B"),
        "Staff never lend money to clients, not even small amounts for bus fare or a meal.",
        (case("Gifts from clients"), 13, "B"),
        "Gifts worth more than twenty dollars are politely declined and recorded in the file.",
        (case("Records"), 16, "B"),
        "Every transaction is written in the ledger and signed by two staff members."))
    paths = _paths(doc)
    assert paths["This policy explains"] == "Purpose"
    assert paths["Staff never lend"] == case("Loans and gifts › Loans to clients")
    assert paths["Gifts worth more"] == case("Loans and gifts › Gifts from clients")
    assert paths["Every transaction is"] == "Records"


def test_heading_depths_by_type_size():
    """The largest size on top; a size set once after the first heading and above a shared
    size is a one-off banner, ranked with the shared size below it; the title (first) keeps
    its own; with no shared size below, a single size keeps its own level."""
    assert size_depths([20, 16, 13, 13, 16, 24, 16]) == [0, 1, 2, 2, 1, 1, 1]
    assert size_depths([16, 13, 12, 16]) == [0, 1, 2, 0]
    assert size_depths([11, 11]) == [0, 0] and size_depths([]) == []


def test_pdf_a_one_off_large_banner_does_not_hold_the_sections_after_it(tmp_path: Path):
    """A banner set once in large type mid-document ("Call your supervisor first", 24 pt)
    reads as a heading over its text, but it is no level above the document's headings (16 pt,
    used again and again): the sections after it are not cited under it."""
    paths = _paths(read_document(_pdf_of_lines(
        tmp_path / "money.pdf",
        ("Client money", 16, "B"),
        "This procedure covers money that belongs to the people we serve, in every program.",
        ("Call your supervisor first", 24, "B"),
        "Before you handle any client money, call your supervisor and note the time you called.",
        ("Loans and gifts", 16, "B"),
        "Staff never lend clients money, not even small amounts for bus fare or for a meal.",
        ("Records", 16, "B"),
        "Every transaction is written in the ledger and signed by two members of staff.")))
    assert paths["Before you handle"] == "Call your supervisor first"
    assert paths["Staff never lend"] == "Loans and gifts"
    assert paths["Every transaction is"] == "Records"


def test_pdf_heading_over_two_lines_is_one_heading(tmp_path: Path):
    """A heading too long for its line wraps, both lines in its font. It was no heading at all
    (read as a title's lines, then as text joined to the paragraph before), and the procedure
    under it was cited under the section before."""
    paths = _paths(read_document(_pdf_of_lines(
        tmp_path / "money.pdf",
        ("Client money", 16, "B"),
        "This procedure covers money that belongs to the people we serve, in every program.",
        ("Procedures for handling client money and", 16, "B"),
        ("valuables in residential programs", 16, "B"),
        "Staff count the money with a witness and write the amount in the ledger the same day.",
        ("Records", 16, "B"),
        "Every transaction is written in the ledger and signed by two members of staff.")))
    assert paths["Staff count the"] == (
        "Procedures for handling client money and valuables in residential programs")
    assert paths["This procedure covers"] == "Client money"
    assert paths["Every transaction is"] == "Records"


def test_pdf_a_bookmarked_line_is_a_heading_whatever_its_font(tmp_path: Path):
    """Word's "Save as PDF" bookmarks every heading, and its Heading 4 is body-size italic:
    nothing in its font marks it. The bookmark of its page names it, so it is a heading (under
    the larger ones); before, its line ran into the paragraph above."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()

    def line(text: str, size: float = 11, style: str = "", level: int | None = None) -> None:
        if level is not None:
            pdf.start_section(text, level=level)  # the bookmark
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")

    line("Client money", 16, "B", 0)
    line("This procedure covers money that belongs to the people we serve, in every program.")
    line("Loans and gifts", 13, "B", 1)
    line("Staff do not take part in money matters between clients, whatever the amount.")
    line("Bus fare and meals", 11, "I", 2)
    line("Staff never lend clients money for bus fare; they give a transit voucher instead.")
    line("Records", 16, "B", 0)
    line("Every transaction is written in the ledger and signed by two members of staff.")
    pdf.output(str(tmp_path / "money.pdf"))
    paths = _paths(read_document(tmp_path / "money.pdf"))
    assert paths["Staff never lend"] == "Client money › Loans and gifts › Bus fare and meals"
    assert paths["Staff do not"] == "Client money › Loans and gifts"
    assert paths["Every transaction is"] == "Records"


def test_pdf_word_default_heading_3_one_point_above_the_text_is_a_heading(tmp_path: Path):
    """Word's own Heading styles (since 2013) are not bold: Heading 1 16 pt, Heading 2 13 pt,
    Heading 3 12 pt, over 11 pt text. Heading 3, a point above the text, was read as text, and
    its rule cited under the Heading 2 above it."""
    paths = _paths(read_document(_pdf_of_lines(
        tmp_path / "money.pdf",
        ("Client money", 16),
        "This procedure covers money that belongs to the people we serve, in every program.",
        ("Loans and gifts", 13),
        "Staff do not take part in money matters between clients, whatever the amount.",
        ("Bus fare", 12),
        "Staff never lend clients money for bus fare; they give a transit voucher instead.",
        ("Records", 16),
        "Every transaction is written in the ledger and signed by two members of staff.")))
    assert paths["Staff do not"] == "Client money › Loans and gifts"
    assert paths["Staff never lend"] == "Client money › Loans and gifts › Bus fare"
    assert paths["Every transaction is"] == "Records"


def test_pdf_running_headers_printed_numbers_and_hyphens(tmp_path: Path):

    pdf = fixed_pages_pdf()
    topics = ["Intake", "Residents", "Gifts", "Records"]
    bodies = ["Intake interviews happen on the first visit to the clinic.",
              "All inhabi-\ntants of the residence are offered an interview each month.",
              "Cash gifts from clients or their families are never accepted.",
              "Records are completed within two business days of each contact."]
    for n, body in enumerate(bodies):
        pdf.add_page()
        line = {"new_x": "LMARGIN", "new_y": "NEXT"}
        pdf.multi_cell(0, 6, f"{47705 + n} Federal Register / Vol. 85 / Rules", **line)
        pdf.multi_cell(0, 6, f"Section {n + 1}. {topics[n]}\n{body}", **line)
        pdf.set_y(-20)
        pdf.multi_cell(0, 6, "Agency Manual - revised 2024", **line)
    pdf.output(str(tmp_path / "register.pdf"))
    doc = read_document(tmp_path / "register.pdf")
    assert "Federal Register" not in doc.text and "Agency Manual" not in doc.text
    assert doc.page_labels == ["47705", "47706", "47707", "47708"]
    at = doc.text.find("Cash gifts")
    assert doc.page_at(at) == 3 and doc.page_label_at(at) == "47707"
    assert "inhabitants of the residence" in doc.text
    assert doc.page_at(doc.text.find("inhabitants")) == 2


def test_pdf_line_end_hyphen_of_a_compound_stays(tmp_path: Path):
    """Word and LibreOffice break lines at a compound's own hyphen ("time-" / "limited"), and
    hyphenate words only when told: every line-end hyphen was dropped ("timelimited",
    "twoperson"), and a quote of "Orders are time-limited" missed the PDF. A hyphen stays where
    both halves are words and the two joined are none; a word broken to fit ("ser-" / "vice")
    is joined."""
    doc = read_document(make_pdf(tmp_path / "restraint.pdf", [
        "Orders are time-\nlimited: four hours for adults. Controlled drugs need a two-\n"
        "person count. Staff record each ser-\nvice given, and inhabi-\ntants are told."]))
    assert "Orders are time-limited: four hours" in doc.text
    assert "a two-person count" in doc.text
    assert "each service given, and inhabitants are told" in doc.text


def test_pdf_list_numbers_glued_to_their_text_are_read_apart(tmp_path: Path):
    """A number set apart by a tab comes out of the PDF glued to its text: "IV.TRAINING" was
    cited "Iv.training", and "iii.psychotherapy notes" ran into item ii."""
    doc = read_document(make_pdf(tmp_path / "warn.pdf", [
        "Duty to Warn\nIII. RECORDS\nA written authorization names:\ni. the records;\n"
        "ii. HIV test results;\niii.psychotherapy notes.\nIV.TRAINING\nAll clinicians "
        "complete duty-to-warn training at hire and every two years after that."]))
    assert "iii. psychotherapy notes." in doc.text and "IV. TRAINING" in doc.text
    paths = _paths(doc)
    assert paths["iii. psychotherapy notes."].endswith("III. Records › iii")
    assert paths["All clinicians complete"].endswith("IV. Training")


def test_docx_all_caps_shows_and_is_cited_in_capitals(tmp_path: Path):
    """A template whose Heading 1 style sets All Caps, and a run set so by hand: Word shows
    "PURPOSE", and its PDF reads so; the Word file read "purpose", cited "purpose". Now the
    text is what Word shows, and the heading is cited "Purpose" as an ALL-CAPS one is. A run
    that turns the style's capitals off keeps its case."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    document.styles["Heading 1"].element.get_or_add_rPr().append(parse_xml(f"<w:caps {w}/>"))
    document.add_heading("Visitors Policy", 0)
    document.add_heading("purpose", 1)
    document.add_paragraph("Visitors keep clients company and respect their privacy.")
    heading = document.add_heading("visiting ", 1)
    heading.add_run("hours")
    off = heading.add_run(" (all sites)")
    off._r.get_or_add_rPr().append(parse_xml(f'<w:caps {w} w:val="0"/>'))
    document.add_paragraph("Visitors are welcome from 10 am to 8 pm.")
    by_hand = document.add_paragraph("Sign in at the desk: ")
    by_hand.add_run("no exceptions").font.all_caps = True
    document.save(tmp_path / "visitors.docx")
    doc = read_document(tmp_path / "visitors.docx")
    assert "PURPOSE\n" in doc.text and "VISITING HOURS (all sites)" in doc.text
    assert "Sign in at the desk: NO EXCEPTIONS" in doc.text
    paths = _paths(doc)
    assert paths["Visitors keep clients"] == "Purpose"
    assert paths["Visitors are welcome"] == "VISITING HOURS (all sites)"  # as Word shows it


def test_html_text_transformed_to_capitals_reads_in_capitals(tmp_path: Path):
    """A word processor saves All Caps as an inline text-transform: the browser shows
    "PURPOSE", and the page is read and cited as its Word file is."""
    (tmp_path / "visitors.html").write_text(
        '<html><body><h1><span style="text-transform: uppercase">purpose</span></h1>'
        "<p>Visitors keep clients company.</p><h1>Visiting hours</h1>"
        '<p>From 10 am <span style="TEXT-TRANSFORM:UPPERCASE">daily</span>.</p></body></html>')
    doc = read_document(tmp_path / "visitors.html")
    assert "PURPOSE" in doc.text and "From 10 am DAILY." in doc.text
    assert _paths(doc)["Visitors keep clients"] == "Purpose"


def test_legal_numbering_is_cited_by_its_numbers_in_word_and_pdf(tmp_path: Path):
    """Word's multilevel list numbered "1." / "1.1" (legal numbering): "1. Purpose" over "1.1
    Clients may...", "1.2 ..." is the chapter its paragraphs are numbered from, and each
    paragraph is cited by its whole number, as shown. The Word file cited "Grievance Procedure ›
    1 › 1–2"; its PDF, where the tab after "1.1" is lost ("1.1Clients"), no paragraph at all."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    levels = "".join(
        f'<w:lvl w:ilvl="{i}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:lvlText w:val="{text}"/></w:lvl>' for i, text in enumerate(["%1.", "%1.%2"]))
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(f'<w:abstractNum {w} w:abstractNumId="81">{levels}'
                                  "</w:abstractNum>"))
    numbering.append(parse_xml(f'<w:num {w} w:numId="81"><w:abstractNumId w:val="81"/>'
                               "</w:num>"))
    document.add_heading("Grievance Procedure", 0)
    lines = [(0, "Purpose"), (1, "Clients may complain about any service they receive."),
             (1, "A complaint never affects the services a client receives."),
             (0, "Appeals"), (1, "A client may appeal to the Executive Director within 30 days.")]
    for level, text in lines:
        paragraph = document.add_paragraph()
        paragraph.add_run(text).bold = level == 0
        paragraph._p.get_or_add_pPr().append(parse_xml(
            f'<w:numPr {w}><w:ilvl w:val="{level}"/><w:numId w:val="81"/></w:numPr>'))
    document.save(tmp_path / "grievance.docx")
    paths = _paths(read_document(tmp_path / "grievance.docx"))
    assert paths["1.2 A complaint"] == "1. Purpose › 1.2"
    assert paths["2.1 A client"] == "2. Appeals › 2.1"
    pdf = read_document(make_pdf(tmp_path / "grievance.pdf", [
        "Grievance Procedure\n1. Purpose\n1.1Clients may complain about any service they "
        "receive.\n1.2A complaint never affects the services a client receives.\n2. Appeals\n"
        "2.1A client may appeal to the Executive Director within 30 days."]))
    assert "1.1 Clients may" in pdf.text and "2.1 A client" in pdf.text
    assert _paths(pdf)["1.2 A complaint"] == "1. Purpose › 1.2"


def test_pdf_title_over_two_lines_and_lettered_headings_over_lists(tmp_path: Path):
    """Word's Title wrapped over two lines, over a Heading 1 set smaller: one title, not "Client
    Rights and" as a passage of its own and "Responsibilities" the next one's first word. A
    lettered Heading 2 in sentence case ("A. Dignity and respect") over a numbered list heads
    it, set in a heading's font: it was item A, cited "Client Rights › A › 1"."""
    path = _pdf_of_lines(
        tmp_path / "rights.pdf", ("Client Rights and", 26), ("Responsibilities", 26),
        ("Client Rights", 16, "B"), ("A. Dignity and respect", 13, "B"),
        "1. Every client is treated with courtesy and respect, whatever their background.",
        "2. Staff use the name and pronouns the client asks them to use.",
        ("B. Privacy", 13, "B"),
        "1. Clients may see their own records on request, within ten working days.",
        ("Client Responsibilities", 16, "B"),
        "Clients are asked to keep appointments or cancel at least 24 hours ahead.")
    doc = read_document(path)
    structure = parse_sections(doc)
    assert not any(s.title in ("Client Rights and", "Responsibilities")
                   for s in structure.sections[1:])  # (was a heading "Responsibilities")
    paths = _paths(doc)
    assert paths["2. Staff use"].endswith("Client Rights › A. Dignity and respect › 2")
    assert paths["1. Clients may"].endswith("Client Rights › B. Privacy › 1")


def test_pdf_title_line_over_capital_headings_holds_none_of_them(tmp_path: Path):
    """A title line in large type over "PURPOSE" and "VISITING HOURS": the first was cited
    under the title ("Visitors Policy › Purpose") as the last line of a title block, the second
    not. The title line the PDF's type names is the title, as a Word file's Title is."""
    doc = read_document(_pdf_of_lines(
        tmp_path / "visitors.pdf", ("Visitors Policy", 26),
        ("PURPOSE", 12, "B"),
        "To keep clients safe and their privacy protected when visitors come to the residence.",
        ("VISITING HOURS", 12, "B"),
        "Visitors are welcome between 10 am and 8 pm every day of the week."))
    assert doc.title == "Visitors Policy"
    paths = _paths(doc)
    assert paths["To keep clients"] == "Purpose"
    assert paths["Visitors are welcome"] == "Visiting Hours"


def test_pdf_check_boxes_from_a_fallback_font_stand_where_drawn():
    """LibreOffice draws typed check boxes from a fallback font, and pypdf gives each at the end
    of its line, leaving a gap where it stands: " Client's full name...☐", "Mark  when the form
    is complete and  when it is refused.☑ ☒". Each box goes back in its gap, so the checklist's
    items are items and the sentence reads as printed."""
    exported = Path(__file__).parent / "fixtures" / "exported" / "release-checklist.pdf"
    doc = read_document(exported)
    assert "\n\u2610 Client's full name and date of birth\n" in doc.text
    assert "Mark \u2611 when the form is complete and \u2612 when it is refused." in doc.text
    assert "birth\u2610" not in doc.text
    paths = _paths(doc)  # each box an item of its own, in the checklist's section
    assert paths["Signature and date"] == paths["Name of the"] == paths["Before any release,"]


def test_pdf_printed_web_page_field_row_and_headings_after_numbered_steps(tmp_path: Path):
    """A policy page printed to PDF by a browser, its breadcrumb over its title: its fields on
    one line ("Policy number: FIN-204   Effective: ...") read as a Title-Case heading that held
    every section under it, and "3. Gifts" in the headings' type, after the heading "2. Policy"
    and its step "2." in the text's, went on the steps' list: "Policy number: FIN-204… › 2.
    Policy › 3. Gifts". The field row is the title's text, and the type says which "2." the "3."
    follows."""
    pdf = _pdf_of_lines(
        tmp_path / "funds.pdf", ("Home > Policies > Client Funds", 9),
        ("Client Funds Policy", 18, "B"),
        "Policy number: FIN-204   Effective: July 1, 2024   Owner: Finance Director",
        ("1. Purpose", 14, "B"), "PURP This policy protects the money and belongings of clients.",
        ("2. Policy", 14, "B"), "1. Staff do not lend money to clients.",
        "2. Staff do not borrow money from clients.", ("3. Gifts", 14, "B"),
        "GIFT Staff may accept a gift worth under $20 and tell their supervisor.",
        ("4. Reporting", 14, "B"), "REPO Staff report a suspected misuse the same day.")
    doc = read_document(pdf)
    paths = _paths(doc)
    assert paths["Policy number: FIN-204"] == "Client Funds Policy"
    assert [paths[key] for key in ("PURP This policy", "GIFT Staff may", "REPO Staff report")] \
        == ["1. Purpose", "3. Gifts", "4. Reporting"]
    assert paths["1. Staff do"] == "2. Policy \u203a 1"


def test_pdf_a_browser_printed_on_one_page_loses_its_print_furniture():
    """An intranet policy page saved by Chromium's "Print > Save as PDF" on one page: nothing
    repeats, so its print header and footer stayed in the text as the policy's last lines
    ("12/6/26, 5:51 PM Client Funds and Property Policy | Riverside Intranet", "file:///work/
    main/tests/fixtures/printed/client-funds.html 1/1"). Made by that folder's make.sh."""
    printed = Path(__file__).parent / "fixtures" / "printed" / "client-funds.pdf"
    doc = read_document(printed)
    assert "file:" not in doc.text and "1/1" not in doc.text
    assert not re.search(r"\d:\d\d [AP]M", doc.text)
    assert doc.text.rstrip().endswith("\u00a9 Riverside Community Mental Health")
    assert "Home \u203a Policies \u203a Client Funds" in doc.text  # the page's own words stay
    paths = _paths(doc)
    assert paths["Policy number: FIN-204"] == "Client Funds and Property Policy"
    assert paths["Staff may accept"] == "4. Gifts"


def test_pdf_a_browser_printed_over_pages_from_an_untitled_page_loses_its_print_furniture():
    """A page with an empty <title> (LibreOffice's "Save as HTML" writes one) printed by
    Chromium over three pages: the print header is the date and time alone ("12/7/26, 8:00
    AM"), too few letters to count as a repeated header, so it stood in the text once a page,
    one of them inside the table. The address with "2/3" at the foot marks such a page. The
    title, set in a type with the "ff" ligature, read "Sta\ufb00 Travel Procedure"."""
    printed = Path(__file__).parent / "fixtures" / "printed" / "staff-travel.pdf"
    doc = read_document(printed)
    assert not re.search(r"\d:\d\d [AP]M", doc.text) and "file:" not in doc.text
    assert doc.title == "Staff Travel Procedure" and doc.page_labels == ["1", "2", "3"]
    assert doc.text.rstrip().endswith("handed in within thirty days.")
    assert doc.text.count("Trip\tWhat to do\tForm") == 1  # the header row each page repeats
    paths = _paths(doc)
    assert paths["Staff may use"] == "4. Using your own car"


def test_a_pdfs_attached_files_are_named_not_lost_in_silence(tmp_path: Path):
    """A policy manual sent as a cover page with the policies attached (or an Acrobat "PDF
    portfolio"): only the cover's text was indexed, and the attached policies were missing
    without a word. The file's report names them and says what to do."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject

    make_pdf(tmp_path / "cover.pdf", ["Policy Manual\n\nThe policies are attached to this file."])
    make_pdf(tmp_path / "funds.pdf", ["Client Funds Policy\n\nStaff never lend money."])
    for name, portfolio in (("manual.pdf", False), ("portfolio.pdf", True)):
        writer = PdfWriter(clone_from=tmp_path / "cover.pdf")
        writer.add_attachment("client-funds-policy.pdf", (tmp_path / "funds.pdf").read_bytes())
        writer.add_attachment("gifts.docx", b"PK")
        if portfolio:
            writer._root_object[NameObject("/Collection")] = DictionaryObject()
        writer.write(tmp_path / name)
    (tmp_path / "cover.pdf").unlink()
    docs = {d.doc_id: d for d in load_corpus(tmp_path)[0]}
    named = "2 attached file(s) are not read (client-funds-policy.pdf, gifts.docx): save them "
    assert docs["manual"].warnings == [f"its {named}into the corpus folder to index them"]
    assert docs["portfolio"].warnings == [
        f"a PDF portfolio: its {named}into the corpus folder to index them"]
    assert docs["funds"].warnings == []


def test_pdf_typeset_by_xelatex_keeps_its_word_gaps():
    """XeLaTeX (and Sphinx's PDF builder) writes a composite font with no space glyph and draws
    each word gap as an offset; pypdf took the font's space width from code 32, here FreeSerif's
    ">" (564 units), so the words of every tightly set line ran together: "Thispolicysetsout...",
    "Anystaffmemberwholearnsofabreach". tests/fixtures/typeset/make.sh made the file."""
    typeset = Path(__file__).parent / "fixtures" / "typeset" / "staff-conduct.pdf"
    doc = read_document(typeset)
    assert "This policy sets out what staff members of the agency may and may not do" in doc.text
    assert "than $25 (a value > $25) is declined politely and reported to the supervisor" in doc.text
    assert "Any staff member who learns of a breach of this policy reports it" in doc.text
    words = re.findall(r"[^\W\d_]+", doc.text)
    assert max(len(w) for w in words) <= 13  # "professional", "safekeeping": no run-together words
    assert doc.title == "Staff Conduct Policy"
    assert _paths(doc)["Any staff member"] == "4 Reporting concerns"


def test_pdf_cleaning_is_linear_in_a_lines_length():
    """The check-box rule looks at every line of every PDF: a pattern that tried each split of a
    line took 20 s over 40 lines of 5,000 characters (a table or a formula set as one line), a
    minute for a long manual. Now well under a second; 5 s is a bound no machine should miss."""
    import time

    from policyqa.documents import clean_text

    text = "\n".join(("word " * 1000).strip() for _ in range(40))
    started = time.perf_counter()
    cleaned, _ = clean_text(text, "pdf")
    assert time.perf_counter() - started < 5
    assert cleaned == text


def test_pdf_page_x_of_y_footers_cite_the_page_not_the_count(tmp_path: Path):
    """Word's usual footer "Page 3 of 5" (and "3/5", "Seite 3 von 5"): the page is the first
    number; the count, the same on every page, is never taken for it, nor is a month and year
    ("Rev. 03/2024") taken for "page 3 of 2024"."""

    for footer in ("Policy 4.7, revised March 2024    Page {n} of 5", "{n}/5",
                   "Seite {n} von 5", "{n}    Rev. 03/2024"):
        pdf = fixed_pages_pdf()
        rules = ["Staff never hold cash for a client overnight.",
                 "Vouchers are logged in the ledger on the day they arrive.",
                 "Gift cards go in the office safe until the client collects them.",
                 "No loan is made to a client, however small or short.",
                 "Savings plans are agreed in writing with the supervisor."]
        for n, rule in enumerate(rules, 1):
            pdf.add_page()
            pdf.multi_cell(0, 6, f"Rule {n}. {rule}\n{rules[n - 2]}\n{rules[n - 3]}")
            pdf.set_y(-20)
            pdf.multi_cell(0, 6, footer.format(n=n))
        pdf.output(str(tmp_path / "footer.pdf"))
        doc = read_document(tmp_path / "footer.pdf")
        assert doc.page_labels == ["1", "2", "3", "4", "5"], footer
        assert doc.page_label_at(doc.text.find("Rule 3.")) == "3"
        for running in ("of 5", "/5", "von 5", "03/2024"):
            assert running not in doc.text, footer


def test_pdf_page_left_blank_but_for_its_header_and_footer(tmp_path: Path):
    """A chapter that starts on a right-hand page leaves a page blank but for its running header
    and footer: too short to have edges, it kept them, and "Staff Handbook, Release 4" / "Page
    3" ran into the next chapter's first passage. A short page with a line of its own keeps it,
    though the header's words are in it."""

    out = fixed_pages_pdf()
    texts = ["Staff do not lend money to clients.\nLoans are never approved by anyone.\n"
             "The ledger records every sum held.",
             "Gifts under twenty dollars may be accepted.\nThe supervisor is told the same day.\n"
             "Cash and gift cards are declined.", "",
             "Records are kept for seven years.\nThe clerk locks the cabinet each night.\n"
             "Copies leave the office only with consent.", "Staff Handbook index follows."]
    for n, body in enumerate(texts, 1):
        out.add_page()
        out.multi_cell(0, 6, f"Staff Handbook, Release 4\n{body}" if body
                       else "Staff Handbook, Release 4", new_x="LMARGIN", new_y="NEXT")
        if n < len(texts):  # the last page: its header and one line, no footer
            out.set_y(-20)
            out.multi_cell(0, 6, f"Page {n}")
    path = tmp_path / "handbook.pdf"
    out.output(str(path))
    doc = read_document(path)
    assert "Page 3" not in doc.text and "Page 2" not in doc.text
    assert doc.text.count("Staff Handbook, Release 4") == 1  # the last page's, beside its line
    assert "Staff Handbook index follows." in doc.text
    assert re.search(r"declined\.\s+Records are kept", doc.text)  # nothing between them


def test_pdf_header_missing_from_page_one_and_sections_starting_pages(tmp_path: Path):
    """Word's "different first page": the running header stands on pages 2 and 3 only. It was
    kept, and as a heading took everything under it ("III. Procedure › RIVERSIDE COMMUNITY
    SERVICES Policy 6.03, p. 2"). And the other way: "SECTION 1" ... "SECTION 3", each at the top
    of the page its section starts, alike but for their numbers, were removed as a running header
    ("SECTION 1" even taken for page 1's number, its footer "1" left in the text)."""

    def pdf(path: Path, pages: list[tuple[str, str]]) -> Path:
        out = fixed_pages_pdf()
        for n, (top, body) in enumerate(pages, 1):
            out.add_page()
            out.multi_cell(0, 6, f"{top}\n{body}" if top else body,
                           new_x="LMARGIN", new_y="NEXT")
            out.set_y(-20)
            out.multi_cell(0, 6, str(n))
        out.output(str(path))
        return path

    rules = ["Incidents are reported before the end of the shift.",
             "Critical incidents are reported to the director within one hour.",
             "The quality committee reviews every report each month.",
             "Reports are kept for seven years after the incident."]
    body = [f"{rules[n % 4]}\n{rules[(n + 1) % 4]}\n{rules[(n + 2) % 4]}" for n in range(9)]
    header = "RIVERSIDE COMMUNITY SERVICES Policy 6.03 Incident Reporting"
    doc = read_document(pdf(tmp_path / "incidents.pdf",
                            [("", body[0]), (header, body[1]), (header, body[2])]))
    assert "RIVERSIDE" not in doc.text
    assert doc.text.count("Incidents are reported") == 2 and "\n3" not in doc.text
    doc = read_document(pdf(tmp_path / "sections.pdf", [
        (f"SECTION {n // 3 + 1}" if n % 3 == 0 else "", body[n]) for n in range(9)]))
    assert [line for line in doc.text.split("\n") if line.startswith("SECTION")] == [
        "SECTION 1", "SECTION 2", "SECTION 3"]
    assert doc.page_labels == [str(n) for n in range(1, 10)]
    assert "\n1\n" not in doc.text


def test_pdf_footnotes_at_the_foot_of_a_page_are_paragraphs_of_their_own(tmp_path: Path):
    """A footnote at the foot of the page ran into the page's last paragraph: "...attached to
    the deposit slip; 1Representative payee duties...". Set in smaller type after its mark, or
    after a raised mark on a row of its own (as LibreOffice sets them), a note is a paragraph
    of its own, its mark apart from its text; a raised reference mark in the text, and a line
    that starts with a number in body type, are not notes."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for line in ("Client Funds", "a. count the cash in front of the client;",
                 "b. attach the yellow copy to the deposit slip;",
                 "2 staff sign the count sheet at the end of every shift."):
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(250)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, "1Representative payee duties follow Social Security rules.",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(10, 262)
    pdf.set_font("Helvetica", size=5)
    pdf.cell(3, 3, "2")
    pdf.set_xy(13, 263)
    pdf.set_font("Helvetica", size=8)
    pdf.cell(0, 5, "The reconciliation is due by the tenth business day.")
    pdf.output(str(tmp_path / "funds.pdf"))
    doc = read_document(tmp_path / "funds.pdf")
    assert doc.text.endswith(
        "deposit slip;\n2 staff sign the count sheet at the end of every shift.\n\n"
        "1 Representative payee duties follow Social Security rules.\n\n"
        "2 The reconciliation is due by the tenth business day.")


def test_one_page_pdf_loses_its_page_1_of_1_footer(tmp_path: Path):
    """Most policies are a page or two. On one page nothing repeats, so a footer with "Page 1 of
    1" stood at the end of the text, in the last section's passage. It goes; a line that only
    mentions a page stays."""
    path = _pdf_of_lines(tmp_path / "safety.pdf", ("Staff Safety in the Community", 16, "B"),
                         "Staff text the office when they arrive and when they leave.",
                         "The form is on page 1 of the staff handbook.",
                         "STAFF SAFETY IN THE COMMUNITY    Page 1 of 1")
    text = read_document(path).text
    assert "Page 1 of 1" not in text and "STAFF SAFETY" not in text
    assert text.rstrip().endswith("The form is on page 1 of the staff handbook.")


def test_two_page_pdf_loses_its_running_header_and_symbol_font_bullets_show(tmp_path: Path):
    """A two-page policy (the most common length) repeats its header on both pages: it is no
    text and no heading. Word draws bullets in the Symbol font, which PDFs give as the private
    character U+F0B7: it shows, and is read, as a bullet."""

    pdf = fixed_pages_pdf()
    bodies = ["Home Visits Procedure\nStaff plan every visit with the duty supervisor.\n"
              "Visits end before dark in the winter months.",
              "Review\nThe Quality Committee reviews this procedure every two years.\n"
              "Changes are sent to every team by email."]
    for body in bodies:
        pdf.add_page()
        pdf.multi_cell(0, 6, "CONFIDENTIAL - INTERNAL USE ONLY\n" + body)
    pdf.output(str(tmp_path / "visits.pdf"))
    doc = read_document(tmp_path / "visits.pdf")
    assert "CONFIDENTIAL" not in doc.text and doc.title == "Home Visits Procedure"
    assert "Visits end before dark" in doc.text and "Changes are sent" in doc.text

    text, _ = clean_text("Before the visit:\n\uf0b7 check the file\n  \uf0a7 call ahead", "pdf")
    assert text == "Before the visit:\n\u2022 check the file\n  \u2022 call ahead"
    assert clean_text("Item \uf0b7 inside a line", "pdf")[0] == "Item \uf0b7 inside a line"


def test_pdf_title_and_date_come_from_the_file_unless_a_program_made_them(tmp_path: Path):
    """Word and LibreOffice write the document's title and dates into the PDF: they name a
    file metadata.toml does not describe. "Microsoft Word - funds.docx" is the program's, not
    a title: the text's first line stands in."""
    from datetime import UTC, datetime

    from fpdf import FPDF

    for stated, expected in (("Client Funds Policy", "Client Funds Policy"),
                             ("Microsoft Word - funds.docx", "Staff never lend money to clients."),
                             ("Untitled", "Staff never lend money to clients.")):
        pdf = FPDF()
        pdf.set_title(stated)
        pdf.set_creation_date(datetime(2024, 3, 12, tzinfo=UTC))
        pdf.set_font("Helvetica", size=11)
        pdf.add_page()
        pdf.multi_cell(0, 6, "Staff never lend money to clients.\nGifts are declined.")
        pdf.output(str(tmp_path / "funds.pdf"))
        doc = read_document(tmp_path / "funds.pdf")
        assert doc.title == expected and doc.date == "2024-03-12", (stated, doc.title, doc.date)
    assert read_document(tmp_path / "funds.pdf", {"title": "Funds"}).title == "Funds"


def test_a_pdf_without_a_stated_title_is_titled_by_its_largest_type_on_the_first_page(
        tmp_path: Path):
    """A LaTeX manual states no title in its Info dictionary: its first page sets "Libtasn1"
    in large type over its author's name, and the first line of two words was the author
    ("Fabio Fiorina"). A "DRAFT" stamped in the largest type on every page is not the title:
    the first line stands in."""
    from fpdf import FPDF

    def write(path: Path, lines: list[tuple[str, float]], stamp: str = "") -> Path:
        pdf = FPDF()
        for page in range(2):
            pdf.add_page()
            if stamp:
                pdf.set_font("Helvetica", size=40)
                pdf.cell(0, 16, stamp, new_x="LMARGIN", new_y="NEXT")
            for text, size in lines if page == 0 else [("Gifts are declined and logged.", 11)]:
                pdf.set_font("Helvetica", size=size)
                pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        pdf.output(str(path))
        return path

    body = [("Staff never lend money to clients, even small amounts for bus fare.", 11)] * 3
    manual = write(tmp_path / "manual.pdf", [("Boundaries", 22), ("Jane Smith", 12), *body])
    assert read_document(manual).title == "Boundaries"
    two_lines = write(tmp_path / "two.pdf", [("Client Funds", 20), ("Policy and Procedure", 20),
                                             ("Jane Smith", 12), *body])
    assert read_document(two_lines).title == "Client Funds Policy and Procedure"
    draft = write(tmp_path / "draft.pdf", [("Client Funds Policy", 11), *body], stamp="DRAFT")
    assert read_document(draft).title == "Client Funds Policy"


EXPORTED = Path(__file__).parent / "fixtures" / "exported"


def test_word_processor_exported_pdfs_read_as_their_documents():
    """PDFs a word processor exported from Word files (tests/fixtures/exported/make.py: a
    running header, "Page N of M" footers, heading styles, automatic lists with symbol-font
    bullets, a table): headers and footers gone, each page cited by its own number, the
    headings nested, bullets shown, the paragraph after a list in its section."""
    funds = read_document(EXPORTED / "client-funds-policy.pdf")
    assert funds.page_labels == ["1", "2", "3", "4", "5", "6"]
    for running in ("Riverside", "Policy 4.7", "Page "):
        assert running not in funds.text
    paths = _paths(funds)
    assert paths["3.3 Loans and"] == "3. Handling Client Money › 3.3 " \
                                     "Loans and Gifts"
    assert paths["4.1 Monthly Reconciliation"].endswith("4. Records and Audit › 4.1 Monthly "
                                                        "Reconciliation")
    assert funds.page_label_at(funds.text.find("Rule 20. ")) == "4"

    visits = read_document(EXPORTED / "home-visits-procedure.pdf")
    assert "CONFIDENTIAL" not in visits.text and visits.title == "Home Visits Procedure"
    assert "\u2022 a risk flag on the file" in visits.text and "\uf0b7" not in visits.text
    paths = _paths(visits)
    assert paths["3. Carry a"].endswith("Before the Visit › 3")
    assert paths["If any risk"] == "Before the Visit"
    assert paths["This procedure is"] == "Review"
    assert visits.page_label_at(visits.text.find("This procedure is")) == "2"



def test_a_tables_header_row_repeated_on_each_page_is_read_once_and_broken_rows_join():
    """A duties matrix over five pages, its header row repeated atop each (Word's "Repeat as
    header row"), its rows breaking across the pages. The repeated "Role<TAB>Duties" ran into
    the broken row's next words: "...notes any change that" / "Role<TAB>Duties the team should
    know about.", so that sentence was cut in two around the header and no quote of it was
    found. The header reads once, and each duty reads whole, as in the Word file."""
    doc = read_document(EXPORTED / "duties-matrix.pdf")
    flat = " ".join(doc.text.split())
    assert doc.pages == 5 and doc.text.count("Role\tDuties") == flat.count("Role Duties") == 1
    for n, role in enumerate(["case manager", "peer advocate", "supervisor", "nurse"]):
        for item in range(2, 14):
            assert (f"Duty {n}.{item}: The {role} checks item {item} of the care plan with the "
                    "client and notes any change that the team should know about.") in flat
    assert doc.text.rstrip().endswith("reviewed every year by the quality committee.")


def test_line_numbered_page_drops_header_and_footer_outside_its_numbered_lines(tmp_path: Path):
    """A single transcript page: nothing repeats, so its header and footer are told by position
    (above line 1, below the last numbered line); the same words inside the body stay."""

    pdf = fixed_pages_pdf()
    pdf.add_page()
    body = ["The hearing began at nine in the morning.", "Counsel for the agency appeared.",
            "Official Transcript - Draft", "The witness was sworn in by the clerk.",
            "Questions about the intake policy followed.", "The hearing ended at noon."]
    for n in range(1, len(body) + 1):  # the gutter is drawn first, as court reporters' files do
        pdf.text(15, 30 + 10 * n, str(n))
    pdf.text(80, 15, "Official Transcript - Draft")
    for n, line in enumerate(body, start=1):
        pdf.text(30, 30 + 10 * n, line)
    pdf.text(80, 280, "Metro Reporting Company")
    pdf.output(str(tmp_path / "transcript.pdf"))
    doc = read_document(tmp_path / "transcript.pdf")
    assert "Metro Reporting Company" not in doc.text
    assert doc.text.count("Official Transcript - Draft") == 1  # the body's line, not the header
    assert doc.text.index("The hearing began") < doc.text.index("Official Transcript")
    assert "The hearing ended at noon." in doc.text and "\n1\n" not in doc.text


def test_figure_labels_one_to_six_are_not_a_gutter(tmp_path: Path):
    """Numbers 1-6 scattered over a figure (GeoTopo's diagrams) are no line-number column: the
    page keeps the text above and below them."""

    pdf = fixed_pages_pdf()
    pdf.add_page()
    for n, (x, y) in enumerate([(120, 60), (70, 110), (60, 130), (95, 136), (40, 170),
                                (105, 182)], start=1):
        pdf.text(x, y, str(n))
    pdf.text(20, 20, "Definition 75 begins here.")
    pdf.text(20, 200, "The map is a homeomorphism.")
    pdf.text(20, 280, "Remark 55 ends the page.")
    pdf.output(str(tmp_path / "figure.pdf"))
    doc = read_document(tmp_path / "figure.pdf")
    for line in ("Definition 75 begins here.", "The map is a homeomorphism.",
                 "Remark 55 ends the page."):
        assert line in doc.text


def test_plain_pdf_without_printed_numbers_cites_pdf_pages(tmp_path: Path):
    doc = read_document(make_pdf(tmp_path / "plain.pdf", ["First page text here.",
                                                        "Second page text here."]))
    assert doc.page_labels == [] and doc.page_label_at(doc.text.find("Second")) == "2"
    assert doc.pages == 2


def test_load_corpus_reports_every_file_and_counts_pdf_pages(tmp_path: Path):
    make_pdf(tmp_path / "a.pdf", ["One.", "Two.", "Three."])
    (tmp_path / "notes.wpd").write_bytes(b"\xffWPC not really")
    (tmp_path / "scan.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "copy.pdf").write_bytes((tmp_path / "a.pdf").read_bytes())
    (tmp_path / "fake.docx").write_bytes(b"not a zip")
    (tmp_path / "~$ient-funds.docx").write_bytes(b"\x0bJ. Doe" + b" " * 43 + b"\x00" * 111)
    seen, pages = [], []
    docs, skipped = load_corpus(tmp_path, progress=seen.append,
                                pages=lambda path, done, total: pages.append((path.name, done, total)))
    assert [d.doc_id for d in docs] == ["a"]
    status = {s.path: (s.status, s.reason) for s in skipped}
    assert status["notes.wpd"][0] == "unsupported" and ".wpd" in status["notes.wpd"][1]
    assert status["scan.png"][0] == "unsupported" and "OCR" in status["scan.png"][1]
    assert status["copy.pdf"][0] == "duplicate"
    assert status["fake.docx"][0] == "skipped" and "not a Word" in status["fake.docx"][1]
    # Word's owner file of a document open on a shared drive: not a damaged document
    assert status["~$ient-funds.docx"] == ("unsupported", "Office owner file: Word keeps it "
                                           "beside a document while someone has it open; not a "
                                           "document")
    assert len(seen) == 6
    assert ("a.pdf", 3, 3) in pages and docs[0].pages == 3


def test_a_password_protected_word_file_is_named_so(tmp_path: Path):
    """Word saves a password-protected document as an OLE compound file holding the encrypted
    package, not as a ZIP package: reported as password-protected (a real one, made by
    msoffcrypto-tool: fixtures/encrypted/make.py), not as "not a Word file"; one cut short is
    still named, and a file of other bytes keeps the general reason."""
    import shutil

    fixture = Path(__file__).parent / "fixtures" / "encrypted" / "staff-only-policy.docx"
    shutil.copy(fixture, tmp_path / "staff-only-policy.docx")
    (tmp_path / "cut.docx").write_bytes(fixture.read_bytes()[:600])
    make_pdf(tmp_path / "a.pdf", ["Visitors sign in at the front desk."])
    docs, skipped = load_corpus(tmp_path)
    assert [d.doc_id for d in docs] == ["a"]
    status = {s.path: (s.status, s.reason) for s in skipped}
    assert status["staff-only-policy.docx"] == (
        "skipped", "password-protected Word file (a password is needed to open it)")
    assert status["cut.docx"][0] == "skipped" and "not a Word" in status["cut.docx"][1]


def _text_box(*paragraphs: str, fallback: bool = True) -> str:
    """A run holding a floating text box as Word writes it: a DrawingML shape for current readers
    (mc:Choice) and the same box as VML for old ones (mc:Fallback)."""
    content = "<w:txbxContent>" + "".join(
        f"<w:p><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>" for p in paragraphs
    ) + "</w:txbxContent>"
    choice = (
        '<mc:Choice Requires="wps"><w:drawing><wp:anchor><a:graphic><a:graphicData '
        'uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"><wps:wsp>'
        f'<wps:cNvSpPr txBox="1"/><wps:txbx>{content}</wps:txbx><wps:bodyPr/></wps:wsp>'
        "</a:graphicData></a:graphic></wp:anchor></w:drawing></mc:Choice>")
    vml = f"<mc:Fallback><w:pict><v:shape><v:textbox>{content}</v:textbox></v:shape></w:pict></mc:Fallback>"
    ns = ('xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
          'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
          'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
          'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
          'xmlns:v="urn:schemas-microsoft-com:vml"')
    return (f"<w:r {ns}><mc:AlternateContent>{choice}{vml if fallback else ''}"
            "</mc:AlternateContent></w:r>")


def test_docx_text_boxes_follow_their_paragraph_once(tmp_path: Path):
    """A callout in a text box is policy wording: it follows the paragraph it is anchored in (or
    the table row), once, though Word writes every box twice; a deleted box is not read."""
    import docx

    document = docx.Document()
    document.add_heading("Emergencies", level=1)
    para = document.add_paragraph("Staff stay with the participant.")
    para._p.append(_xml(_text_box("Call 911 first.", "Then call the on-call supervisor.")))
    para._p.append(_xml('<w:del w:id="3" w:author="HR" w:date="2024-01-01T00:00:00Z">'
                        + _text_box("Old number 555-0100.") + "</w:del>"))
    document.add_paragraph("Write an incident report the same day.")
    document.add_heading("Contacts", level=1)
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Crisis line"
    table.cell(0, 1).paragraphs[0]._p.append(_xml(_text_box("988, day and night.")))
    anchor = document.add_paragraph()  # a paragraph with nothing but a box
    anchor._p.append(_xml(_text_box("Keep this card by the phone.", fallback=False)))
    document.save(tmp_path / "emergencies.docx")

    doc = read_document(tmp_path / "emergencies.docx")
    assert ("Staff stay with the participant.\n\nCall 911 first.\n\nThen call the on-call "
            "supervisor.\n\nWrite an incident report the same day.") in doc.text
    assert doc.text.count("Call 911 first.") == 1
    assert "555-0100" not in doc.text
    assert "Crisis line\n\n988, day and night." in doc.text  # after its table row
    assert doc.text.count("988, day and night.") == 1
    assert doc.text.rstrip().endswith("Keep this card by the phone.")
    paths = _paths(doc)
    assert paths["Call 911 first."] == "Emergencies"
    assert paths["Keep this card"] == "Contacts"
    # No Title style, a one-word first heading: the sentence below it is no title.
    assert doc.title == "emergencies"


def test_a_word_file_without_a_title_style_is_not_titled_by_a_sentence(tmp_path: Path):
    """A Word file marks its title with a style; where it has none, its first paragraph of two
    words or more stood in, a sentence included ("Staff stay with the participant."). A line
    ending in a full stop is running text there; a short plain line still names the file."""
    import docx

    for first, title in (("Staff stay with the participant.", "visits"),
                         ("Home Visits Procedure", "Home Visits Procedure"),
                         ("Northside Pty Ltd.", "Northside Pty Ltd.")):
        document = docx.Document()
        document.add_paragraph(first)
        document.add_paragraph("Staff carry a charged phone on every home visit.")
        document.save(tmp_path / "visits.docx")
        assert read_document(tmp_path / "visits.docx").title == title, first


def test_a_table_of_quantities_and_codes_is_not_ocr_noise():
    """A product table's "250g", "A4", "SKU334010052" are quantities and codes, not the
    punctuation and stray letters of an OCR noise layer: a Chinese inventory PDF was refused
    as noise (56%). A noise layer stays noise."""
    from policyqa.formats.pdf import ocr_noise

    table = "\n".join(f"30200000{n} {n}.18 Rice 500g 1100g Tofu A4 SKU{n}0052 Milk"
                      for n in range(10))
    assert ocr_noise(table) is None
    assert ocr_noise("~ri ,l .:' } |i 1' ;.l ^ r' i. e ,' ~ I i' .; ' l' :,") is not None


def test_list_numbers_beyond_roman_numerals_are_shown_in_digits():
    """A list's start value is the file's to state (Word's w:start, HTML's <ol start>, ODF's
    text:start-value): a roman-numbered list starting at 10**12 was written out as a billion
    "m"s, which hung the read. Roman numerals stop at 3999, as Word's do."""
    import time

    from policyqa.formats import list_marker

    assert list_marker(3999, "upper-roman") == "MMMCMXCIX" and list_marker(4, "lower-roman") == "iv"
    start = time.perf_counter()
    assert list_marker(10**12, "lower-roman") == "1000000000000"
    assert list_marker(4000, "upper-roman") == "4000"
    assert time.perf_counter() - start < 1

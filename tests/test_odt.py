"""OpenDocument text (formats/odt.py), read from files LibreOffice and pandoc wrote
(fixtures/opendocument/make.py): each reads as the Word or flat file it was saved from."""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from pathlib import Path

import pytest

from policyqa.chunks import make_chunks
from policyqa.config import ChunkSettings
from policyqa.documents import DocumentError, load_corpus, read_document
from policyqa.sections import parse_sections

FIXTURES = Path(__file__).parent / "fixtures" / "opendocument"


def _reading(path: Path):
    doc = read_document(path)
    structure = parse_sections(doc)
    chunks = make_chunks(doc, structure, ChunkSettings())
    return doc, [(c.section_path, doc.text[c.start:c.end]) for c in chunks]


@pytest.mark.parametrize("odt", ["gifts-and-loans.odt", "gifts-and-loans.pandoc.odt",
                                 "typed-headings.odt", "emergencies.odt"])
def test_an_odt_reads_as_the_word_file_it_was_saved_from(odt: str):
    """LibreOffice's and pandoc's .odt of a policy: the same text, structure (blocks), title and
    cited passages as the Word file of the same document, list numbers and footnotes included,
    and headings typed in bold by hand found as in Word."""
    word = FIXTURES / (odt.split(".")[0] + ".docx")
    doc, chunks = _reading(FIXTURES / odt)
    word_doc, word_chunks = _reading(word)
    assert doc.format == "odt"
    assert doc.text == word_doc.text and doc.blocks == word_doc.blocks
    assert doc.title == word_doc.title and chunks == word_chunks


def test_list_numbers_and_footnotes_are_shown_and_cited():
    doc, chunks = _reading(FIXTURES / "gifts-and-loans.odt")
    assert doc.title == "Gifts, Loans and Client Money Procedure"
    # the numbers the list shows, which are not in the file's text; the note after its paragraph
    assert ("2. Staff must decline any gift of cash or a gift card, whatever its value.\n\n"
            "a. Thank the client and explain the rule.") in doc.text
    assert ("asks staff to hold money. It applies to case managers, peer advocates and recovery "
            "coaches.\n\n1 Approved by the Board of Directors on 12 March 2024.") in doc.text
    assert ("A client asks to borrow $20\tDecline, and offer petty cash for bus fare\tNobody"
            in doc.text)
    paths = {path for path, text in chunks if "Thank the client" in text}
    assert paths == {"Gifts from clients › 2–3"}


def test_flat_and_packaged_odt_read_what_the_document_shows():
    """The hand-written flat file and LibreOffice's .odt of it read alike: chapter numbers
    before headings, list numbers continued after a paragraph and restarted at 5, a footnote
    and a text box after their paragraph, merged cells once, typed spaces and line breaks; no
    table of contents, tracked deletion, comment, hidden text or hidden section."""
    flat, flat_chunks = _reading(FIXTURES / "home-visits.fodt")
    doc, chunks = _reading(FIXTURES / "home-visits.odt")
    assert flat.text == doc.text and flat.blocks == doc.blocks and flat_chunks == chunks
    assert doc.title == "Home Visits Procedure" and doc.date == "2025-02-14"
    text = doc.text
    for gone in ("Contents", "alone after dark", "Should this say", "Internal draft note",
                 "5 pm"):
        assert gone not in text
    assert text.startswith("Home Visits Procedure\n\n1. Before a visit\n\n")
    assert ("Staff visit in pairs when the client's risk assessment is high.\n\n"
            "1 A peer advocate counts as the second person.\n\n"
            "1. Check the client's file") in text
    assert "2. Tell the front desk where you are going.\n\na) Leave the address" in text
    assert "record it in the visit log.\n\n3. Agree a code word" in text
    assert "1.1 Lone working" in text and "PROGRAM MANAGER'S written approval." in text
    assert "written approval.\n\nCall 911 first if anyone is in danger." in text
    assert ("Risk\tWhat to do\tWho to call\n"
            "A weapon is shown\tLeave at once and call from a safe place\n"
            "\tDo not go back the same day\tSupervisor") in text
    assert "• Keep your phone  on you.\nSet it to silent." in text
    assert "5. End the visit if the client is intoxicated." in text
    paths = dict((t[:20], p) for p, t in chunks)
    assert paths["1.1 Lone working\n\nA "] == "1. Before a visit › 1.1 Lone working"
    structure = parse_sections(doc)
    tops = [structure.path_text(s.id) for s in structure.sections if s.depth == 1]
    assert tops == ["Home Visits Procedure", "1. Before a visit", "2. During a visit"]


def test_a_web_page_libreoffice_saved_as_odt_reads_as_the_page():
    """Writer/Web's .odt of an intranet page (its own mimetype): every word the page reads
    with, its table's rows, and the page's title less the site's name."""
    import re
    from collections import Counter

    odt = FIXTURES / "intranet-home-visits.odt"
    assert zipfile.ZipFile(odt).read("mimetype").endswith(b"text-web")
    doc = read_document(odt)
    page = read_document(Path(__file__).parent / "fixtures" / "printed" / "home-visits.html")
    assert doc.title == page.title == "Home Visits Procedure"
    words = Counter(re.findall(r"\w+", doc.text))
    assert not Counter(re.findall(r"\w+", page.text)) - words
    rows = [line for line in page.text.splitlines() if "\t" in line]
    assert len(rows) == 4 and all(row in doc.text.splitlines() for row in rows)


def _package(parts: dict[str, bytes | str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        for name, data in parts.items():
            package.writestr(name, data)
    return out.getvalue()


def test_bad_odt_files_are_named_with_their_reason(tmp_path: Path):
    """A password-protected .odt (LibreOffice "Save with password", fixtures/encrypted), one cut
    short, a spreadsheet named .odt, a ZIP of something else and a PDF named .odt: each skipped
    with its reason, the rest of the folder indexed."""
    real = FIXTURES / "gifts-and-loans.odt"
    shutil.copy(real, tmp_path / "gifts.odt")
    shutil.copy(Path(__file__).parent / "fixtures" / "encrypted" / "staff-only-policy.odt",
                tmp_path / "staff-only.odt")
    (tmp_path / "cut.odt").write_bytes(real.read_bytes()[:5000])
    (tmp_path / "budget.odt").write_bytes(_package({
        "mimetype": "application/vnd.oasis.opendocument.spreadsheet",
        "content.xml": "<office:document-content/>"}))
    (tmp_path / "photos.odt").write_bytes(_package({"a.jpg": b"\xff\xd8\xff"}))
    (tmp_path / "scan.odt").write_bytes(b"%PDF-1.7\n")
    shutil.copy(FIXTURES / "typed-headings.odt", tmp_path / "zipped.fodt")  # a package: read
    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in docs) == ["gifts", "zipped"]
    status = {s.path: (s.status, s.reason) for s in skipped}
    assert status["staff-only.odt"] == (
        "skipped", "password-protected OpenDocument file (a password is needed to open it)")
    assert status["cut.odt"][0] == "skipped" and "damaged OpenDocument file" in status["cut.odt"][1]
    assert status["budget.odt"] == (
        "skipped", "an OpenDocument spreadsheet, not an OpenDocument text file")
    assert "no content.xml" in status["photos.odt"][1]
    assert status["scan.odt"] == ("skipped", "not an OpenDocument text file: it is a PDF named .odt")


def test_an_odt_with_no_text_or_a_damaged_part_is_named(tmp_path: Path):
    real = zipfile.ZipFile(FIXTURES / "gifts-and-loans.odt")
    parts = {name: real.read(name) for name in real.namelist()}
    broken = tmp_path / "broken.odt"
    broken.write_bytes(_package(parts | {"content.xml": parts["content.xml"][:-40]}))
    with pytest.raises(DocumentError, match=r"damaged OpenDocument file \(XMLSyntaxError"):
        read_document(broken)
    empty = tmp_path / "empty.fodt"
    empty.write_text('<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
                     'office:1.0"><office:body><office:text/></office:body></office:document>')
    with pytest.raises(DocumentError, match="no text"):
        read_document(empty)


def test_hostile_numbers_in_an_odt_are_read_in_bounded_time(tmp_path: Path):
    """What a hand-edited or hostile file may state: a roman-numbered list starting at 10**12
    (written out, a trillion "m"s), a cell repeated and a row repeated a billion times, a
    heading at outline level 10**9 showing all its levels, 10**12 typed spaces. Read in a
    second: the number in digits, a repeat bounded, a level at most ODF's 10."""
    import time

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"')
    path = tmp_path / "hostile.fodt"
    path.write_text(
        f'<office:document {ns}><office:styles><text:list-style style:name="L">'
        '<text:list-level-style-number text:level="1" style:num-format="i" '
        'text:start-value="1000000000000"/></text:list-style><text:outline-style>'
        '<text:outline-level-style text:level="1000000000" style:num-format="1" '
        'text:display-levels="1000000000"/></text:outline-style></office:styles>'
        '<office:body><office:text>'
        '<text:h text:outline-level="1000000000">Lone<text:s text:c="1000000000000"/>working'
        '</text:h><text:list text:style-name="L"><text:list-item>'
        '<text:p>Staff sign the log.</text:p></text:list-item></text:list>'
        '<table:table><table:table-row table:number-rows-repeated="1000000000">'
        '<table:table-cell table:number-columns-repeated="1000000000"><text:p>x</text:p>'
        '</table:table-cell></table:table-row></table:table>'
        '</office:text></office:body></office:document>')
    start = time.perf_counter()
    doc = read_document(path)
    assert time.perf_counter() - start < 5
    assert doc.text.startswith("1.1.1.1.1.1.1.1.1.1 Lone")
    assert "\n\n1000000000000 Staff sign the log." in doc.text
    assert len(doc.text) < 10_000_000


@pytest.mark.parametrize("name", ["on-call-cover.odt", "on-call-cover.fodt", "on-call-cover.docx"])
def test_an_embedded_spreadsheet_is_read_where_it_stands(name: str):
    """A rota pasted from Calc into a policy is an embedded spreadsheet, in a folder of the
    package of its own ("Object 1/content.xml"), inside the element in a flat file, an Excel
    workbook in the Word file LibreOffice saves of it. Its text was missing without a word.
    The sheet it shows (its active one, "Rota 2027") is read where it stands, as a table's
    rows; the other sheet is not on the page. The formula beside it is not read, and named."""
    doc, chunks = _reading(FIXTURES / name)
    assert ("shown in the rota below, pasted from the team's spreadsheet.\n\n"
            "Day\tOn-call worker\tPhone\n"
            "Monday\tDana Ruiz\t555-0101\n"
            "Tuesday\tSam Okafor\t555-0102\n"
            "Saturday\tCrisis line\t555-0199\n"
            "Sunday\tCrisis line\t555-0199\n\n"
            "Call the crisis line if") in doc.text
    assert "Lee Park" not in doc.text  # last year's sheet
    assert any("Sam Okafor" in text and path == "On-call cover" for path, text in chunks)
    unread = ("its 1 equation(s) are not read: write a formula staff need to find out in words"
              if name.endswith(".docx") else
              "its 1 embedded object(s) (a formula) are not read: the document shows them as "
              "pictures; paste their text into the document, or save them into the corpus "
              "folder")
    assert doc.warnings == [unread]


def test_embedded_objects_that_are_no_text_are_named(tmp_path: Path):
    """A chart, a Microsoft OLE object LibreOffice keeps as it came, and an object the package
    does not hold: each named, none read as text, none fatal."""
    data = (FIXTURES / "on-call-cover.odt").read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        parts = {name: package.read(name) for name in package.namelist()}
    content = parts["content.xml"].decode()
    frame = ('<draw:frame draw:name="{0}"><draw:{1} xlink:href="./{0}" xlink:type="simple"/>'
             '</draw:frame>')
    extra = (frame.format("Object 7", "object") + frame.format("Object 8", "object-ole")
             + frame.format("Object 9", "object"))
    content = content.replace("Call the crisis line", f"{extra}Call the crisis line", 1)
    parts["content.xml"] = content.encode()
    parts["Object 7/content.xml"] = (
        b'<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0">'
        b"<office:body><office:chart/></office:body></office:document-content>")
    out = tmp_path / "with-objects.odt"
    with zipfile.ZipFile(out, "w") as package:
        for name, body in parts.items():
            package.writestr(name, body)
    doc = read_document(out)
    assert "Sam Okafor" in doc.text and "Call the crisis line" in doc.text
    assert doc.warnings == [
        "its 4 embedded object(s) (a chart, a Microsoft OLE object, an object the file does "
        "not hold whole, a formula) are not read: the document shows them as pictures; paste "
        "their text into the document, or save them into the corpus folder"]


def test_an_odt_is_cited_by_the_pages_libreoffice_laid_it_out_on():
    """LibreOffice saves a text:soft-page-break where each page began when it laid the file
    out, and keeps a page break its author set in the paragraph's style. Those are the pages an
    .odt is cited by, as its PDF is; an .odt had none. fixtures/paged: an eight-page policy
    saved by LibreOffice as .odt and as PDF from the same layout; every sentence stands on the
    same page in both: pages that begin within a paragraph, at a heading, at a set page break,
    and within a table row (the row is cited by the page it began on, as in the PDF)."""
    paged = FIXTURES.parent / "paged"
    odt, pdf = read_document(paged / "outreach.odt"), read_document(paged / "outreach.pdf")
    assert odt.pages == pdf.pages == 8
    flat = " ".join(pdf.text.split())
    starts = [m.start() for m in re.finditer(r"\S+", pdf.text)]  # word n's offset in the PDF
    compared = 0
    for sentence in re.finditer(r"[A-Z][^.\n]{20,}\.", odt.text):
        words = " ".join(sentence.group(0).split())
        at = flat.find(words)
        if at < 0:
            continue
        compared += 1
        assert odt.page_at(sentence.start()) == pdf.page_at(starts[flat.count(" ", 0, at)]), words
    assert compared >= 150
    appendix = odt.text.index("Appendix: Forms")  # after the author's page break
    assert odt.page_at(appendix - 3) == 7 and odt.page_at(appendix) == 8
    doc, chunks = _reading(paged / "outreach.odt")
    assert {p for p, _ in chunks} >= {"1. Purpose", "Appendix: Forms"}
    mid = odt.text.index("records the time, the place and who was there (section 1, paragraph 5")
    assert (odt.page_at(mid - 20), odt.page_at(mid)) == (1, 2)  # within a paragraph


def test_an_odt_page_is_cited_by_the_number_printed_on_it():
    """A manual whose contents are numbered i, ii and its policies from 1 again: two page
    styles in the .odt, one numbering in Roman numerals, the other restarting at 1. Each page
    is cited by the number printed on it, as LibreOffice's PDF of it prints them."""
    paged = FIXTURES.parent / "paged"
    odt, pdf = read_document(paged / "handbook.odt"), read_document(paged / "handbook.pdf")
    assert odt.page_labels == pdf.page_labels == ["i", "ii", "1", "2", "3"]
    at = odt.text.index("Rule 1 of loans")
    assert odt.page_label_at(at) == pdf.page_label_at(pdf.text.index("Rule 1 of loans"))
    assert read_document(paged / "outreach.odt").page_labels == []  # numbered 1, 2, 3...


def test_an_odt_no_libreoffice_laid_out_has_no_pages():
    """pandoc's .odt, or one `soffice --convert-to` wrote (no view, no layout): no page breaks
    saved, so no pages, rather than pages counted from the breaks an author set alone."""
    for name in ("gifts-and-loans.pandoc.odt", "gifts-and-loans.odt", "home-visits.fodt"):
        doc = read_document(FIXTURES / name)
        assert doc.page_starts == [] and doc.pages == 0

"""Word 97-2003 .doc files (formats/doc.py): converted by msdoc2docx, then read as Word files."""

import shutil
from pathlib import Path

import pytest

from policyqa.chunks import make_chunks
from policyqa.config import ChunkSettings
from policyqa.documents import load_corpus, read_corpus_file, read_document
from policyqa.sections import parse_sections

FIXTURES = Path(__file__).parent / "fixtures"
LEGACY = FIXTURES / "legacy"


def _reading(path: Path):
    doc = read_document(path)
    chunks = make_chunks(doc, parse_sections(doc), ChunkSettings())
    return doc, [(c.section_path, doc.text[c.start:c.end]) for c in chunks]


def test_a_doc_reads_as_the_word_file_it_was_saved_from():
    """LibreOffice's .doc of a Word file: the same text, blocks, title and cited passages, its
    headings typed in bold found as in the .docx. It was "unsupported file type .doc"."""
    doc, chunks = _reading(LEGACY / "typed-headings.doc")
    word, word_chunks = _reading(FIXTURES / "opendocument" / "typed-headings.docx")
    assert doc.format == "doc"
    assert doc.text == word.text and doc.blocks == word.blocks
    assert doc.title == word.title == "Transport of Clients"
    assert chunks == word_chunks


def test_a_doc_keeps_its_headings_lists_table_and_footnotes():
    doc, chunks = _reading(LEGACY / "gifts-and-loans.doc")
    assert doc.title == "Gifts, Loans and Client Money Procedure"
    assert "a. Thank the client and explain the rule." in doc.text
    assert "A client asks to borrow $20\tDecline, and offer petty cash for bus fare\tNobody" \
        in doc.text
    assert "Approved by the Board of Directors on 12 March 2024." in doc.text  # the footnote
    paths = {path for path, text in chunks if "Staff never lend money" in text}
    assert paths == {"Loans and money"}


def test_doc_files_that_cannot_be_read_are_named_and_others_read_for_what_they_are(
        tmp_path: Path):
    """Each bad .doc is named with its reason and the rest of the folder is indexed; a Word
    package or a web page named .doc, and a .doc named .docx (Word opens them all), are read
    as what they are."""
    shutil.copy(LEGACY / "typed-headings.doc", tmp_path / "transport.doc")
    shutil.copy(FIXTURES / "encrypted" / "staff-only-policy.doc", tmp_path / "locked.doc")
    shutil.copy(FIXTURES / "encrypted" / "staff-only-policy.docx", tmp_path / "locked-x.doc")
    shutil.copy(FIXTURES / "opendocument" / "gifts-and-loans.docx", tmp_path / "gifts.doc")
    shutil.copy(LEGACY / "gifts-and-loans.doc", tmp_path / "loans.docx")
    data = (LEGACY / "typed-headings.doc").read_bytes()
    (tmp_path / "cut.doc").write_bytes(data[: len(data) // 3])
    # an OLE file whose main stream is an Excel workbook's, not a Word document's
    workbook = bytearray(data)
    at = workbook.find("WordDocument".encode("utf-16-le"))
    name = "Workbook".encode("utf-16-le")
    workbook[at:at + 64] = name + bytes(64 - len(name))
    workbook[at + 64:at + 66] = (len(name) + 2).to_bytes(2, "little")
    (tmp_path / "budget.doc").write_bytes(bytes(workbook))
    (tmp_path / "notes.doc").write_text("Staff notes, typed in a text editor.\n")
    (tmp_path / "intranet.doc").write_text(
        "<html><head><title>Visitors</title></head><body><h1>Visitors</h1>"
        "<p>Visitors sign in at the front desk.</p></body></html>")

    docs, skipped = load_corpus(tmp_path)
    assert sorted(d.doc_id for d in docs) == ["gifts", "intranet", "loans", "transport"]
    assert {d.doc_id: d.format for d in docs}["loans"] == "doc"  # a .doc renamed .docx
    reasons = {s.path: s.reason for s in skipped}
    assert reasons["locked.doc"] == ("password-protected Word 97-2003 file (a password is needed "
                                     "to open it)")
    assert reasons["locked-x.doc"] == "password-protected Word file (a password is needed to open it)"
    assert reasons["budget.doc"] == "not a Word document: an Excel 97-2003 workbook named .doc"
    assert reasons["notes.doc"] == "not a Word 97-2003 document (no OLE compound file header)"
    assert reasons["cut.doc"].startswith(("unreadable Word 97-2003 file (", "damaged Word 97-2003"))
    assert len(reasons) == 5


@pytest.mark.parametrize("name", ["typed-headings.doc", "gifts-and-loans.doc"])
def test_the_converted_file_is_removed(name: str, tmp_path: Path, monkeypatch):
    """The .docx made on the way lives in a temporary folder, gone once the file is read."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    result = read_corpus_file(LEGACY, LEGACY / name, {})
    assert result.text and not list(tmp_path.iterdir())


def test_a_confluence_export_named_doc_is_read_as_the_page_it_is(tmp_path: Path):
    """Confluence's "Export to Word" writes a web archive (a MIME message holding the page)
    named .doc, which Word opens; its headers start with Date, Message-ID and Subject, not
    MIME-Version as Word's own "Single File Web Page" does. It was named "not a Word 97-2003
    document"; it is read as the page, and a text file's "Date:" line is no web archive. A
    Word XML document (a mail merge's Word 2003 XML) named .doc says what to do with it."""
    page = ("<html xmlns:o=3D'urn:schemas-microsoft-com:office:office' xmlns:w=3D'urn:sche=\n"
            "mas-microsoft-com:office:word' xmlns=3D'urn:w3-org-ns:HTML'>\n<head>\n<meta htt=\n"
            "p-equiv=3D\"Content-Type\" content=3D\"text/html; charset=3Dutf-8\">\n"
            "<title>Client Funds Procedure</title>\n</head>\n<body>\n"
            "<h1>Client Funds Procedure</h1>\n<div class=3D\"Section1\">\n<h2>Loans</h2>\n"
            "<p>Staff never lend money to a client, not even =E2=80=9Cjust for bus fare=\n"
            "=E2=80=9D.</p>\n</div>\n</body>\n</html>\n")
    (tmp_path / "client-funds.doc").write_bytes((
        "Date: Mon, 7 Dec 2026 10:00:00 +0000 (UTC)\r\n"
        "Message-ID: <1203393.1.1765101600000@confluence>\r\n"
        "Subject: Exported From Confluence\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/related; \r\n\tboundary=\"----=_Part_0_1461.1765101600\"\r\n\r\n"
        "------=_Part_0_1461.1765101600\r\nContent-Type: text/html; charset=UTF-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "Content-Location: file:///C:/exported.html\r\n\r\n" + page.replace("\n", "\r\n")
        + "------=_Part_0_1461.1765101600--\r\n").encode())
    (tmp_path / "memo.doc").write_text("Date: 7 December\nTo: all staff\n\nThe office closes early.")
    (tmp_path / "merge.doc").write_text(  # a mail merge's Word 2003 XML output
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<?mso-application progid="Word.'
        'Document"?>\n<w:wordDocument xmlns:w="http://schemas.microsoft.com/office/word/2003/'
        'wordml"><w:body><w:p><w:r><w:t>Dear client</w:t></w:r></w:p></w:body></w:wordDocument>')
    docs, skipped = load_corpus(tmp_path)
    assert [(d.doc_id, d.format, d.title) for d in docs] == [
        ("client-funds", "html", "Client Funds Procedure")]
    assert "Staff never lend money to a client, not even \u201cjust for bus fare\u201d." in (
        docs[0].text)
    assert [(s.path, s.reason) for s in skipped] == [
        ("memo.doc", "not a Word 97-2003 document (no OLE compound file header)"),
        ("merge.doc", "a Word XML document (Word 2003 XML or Flat OPC) named .doc, not read: "
                      "open it in Word and save it as .docx")]

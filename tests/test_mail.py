"""E-mail messages (formats/mail.py): a policy memo saved from the mail program, read as its
reader sees it."""

from __future__ import annotations

import shutil
from pathlib import Path

from conftest import make_pdf

from policyqa.answers import ask
from policyqa.config import load_settings
from policyqa.documents import load_corpus, read_document
from policyqa.index import load_index

MAIL = Path(__file__).parent / "fixtures" / "mail"


def test_a_memo_reads_as_its_mail_program_shows_it_and_names_its_attachment():
    """An HTML memo (with a plain-text alternative): its header lines, then its page, headings,
    list and table read as a web page's; titled by its Subject (an encoded header), dated by
    its Date. Its attached form is named, not read. .eml was "unsupported file type"."""
    doc = read_document(MAIL / "lending-memo.eml")
    assert doc.title == "Client funds \u2013 lending money to clients" and doc.date == "2026-03-12"
    assert doc.text.startswith("From: Dana Reyes <dana.reyes@riverside.example.org>\nTo: All "
                               "case managers <case-managers@riverside.example.org>\nDate: ")
    assert "Subject: Client funds \u2013 lending money to clients\n\nDear colleagues," in doc.text
    assert "Effective today, staff never lend money to a client, however small the sum." \
        in doc.text
    assert "1. Decline the request kindly.\n\n2. Offer petty cash" in doc.text
    assert "Over $20\tDirector of Services" in doc.text
    assert "Effective today" not in doc.text.split("Lending money")[0]  # the HTML, not the text
    assert doc.warnings == ["its 1 attached file(s) are not read (petty-cash-form.pdf): save "
                            "them into the corpus folder to index them"]


def test_a_plain_text_memo_reads_in_its_own_charset():
    doc = read_document(MAIL / "transport-memo.eml")
    assert (doc.title, doc.date, doc.format) == ("Transport of clients", "2026-05-04", "txt")
    assert "Never use your own car, and never stop at the caf\u00e9 on the way." in doc.text
    assert doc.text.startswith("From: Dana Reyes")


def test_a_memo_answers_with_its_citation_and_bad_mail_files_are_named(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("lending-memo.eml", "transport-memo.eml"):
        shutil.copy(MAIL / name, corpus / name)
    (corpus / "notes.eml").write_text("just some words, no mail header\n")
    make_pdf(corpus / "scan.eml", ["A PDF saved under the wrong name."])
    (corpus / "memo.msg").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500))
    docs, skipped = load_corpus(corpus)
    assert sorted(d.doc_id for d in docs) == ["lending-memo", "transport-memo"]
    assert {s.path: s.reason for s in skipped} == {
        "notes.eml": "not an e-mail message (no From, Subject or Date header)",
        "scan.eml": "not an e-mail message: it is a PDF named .eml",
        "memo.msg": "unsupported file type .msg (Outlook message; save it from Outlook as .eml "
                    "(Outlook on the web's Download), as HTML, or print it to PDF)"}
    index = load_index(load_settings(corpus, tmp_path / "index"))
    answer = ask(index, "Can I lend a client money for the bus?")
    assert answer.answered
    assert answer.passages[0].citation == "lending-memo, Lending money \u203a 1\u20132"
    assert "staff never lend money to a client" in answer.passages[0].text

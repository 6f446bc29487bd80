"""Section paths spot-checked on each of the four real documents, plus general heuristics."""

import re
from pathlib import Path

import pytest
from conftest import CORPUS, make_pdf

from policyqa.documents import read_document
from policyqa.sections import parse_sections, roman_value


def path_at(structure, offset: int) -> str:
    """The path of the deepest section whose span holds the offset."""
    holding = [s for s in structure.sections if s.kind != "root" and s.start <= offset < s.end]
    if not holding:
        return ""
    return structure.path_text(max(holding, key=lambda s: s.depth).id)


def reader(path: Path):
    """`at(phrase)`, the section path where the phrase stands in the file, with the file's
    document and structure: for tests that check a file's paths phrase by phrase."""
    doc = read_document(path)
    structure = parse_sections(doc)
    return (lambda phrase: path_at(structure, doc.text.find(phrase))), doc, structure


def written(path: Path, text: str) -> Path:
    """`text` as a text file, or as a one-page PDF whose lines are its paragraphs (a PDF has no
    blank lines between them)."""
    if path.suffix == ".pdf":
        return make_pdf(path, [text.replace("\n\n", "\n")])
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def parsed():
    out = {}
    for path in sorted(CORPUS.glob("*.txt")):
        doc = read_document(path)
        out[doc.doc_id] = (doc, parse_sections(doc))
    return out


@pytest.mark.parametrize(
    "doc_id, phrase, expected",
    [
        ("dmh-4.12-service-relationships", "Staff may assist individuals in taking their medications",
         "V › 5. Medication Collaboration and Support › B"),
        ("dmh-4.12-service-relationships", "mental health and law enforcement are acting relatively",
         "V › 9. Working with Law Enforcement › A › 3)"),
        ("dmh-4.12-service-relationships", "DMH has created these parameters to", "II. Purpose"),
        ("dmh-4.13-peer-advocates", "contemplating or seeking advice about withdrawing",
         "III › A. Advocacy › 4 › a"),
        ("mission-boundaries-toolkit", "Although connecting with clients on social media",
         "Boundaries and Social Media › Connecting with Clients via Social Media"),
        ("mission-boundaries-toolkit", "Children, although an important part",
         "Boundaries Related to Working… › Children of Clients"),
        ("longmont-case-management-code-of-conduct", "documented honestly and accurately",
         "Service Approach › 5"),
        ("longmont-case-management-code-of-conduct", "I will not loan or give money",
         "Client Relationships › 6"),
        ("longmont-case-management-code-of-conduct", "advise informally and respectfully",
         "Respect › 4"),
    ],
)
def test_section_paths_on_real_documents(parsed, doc_id, phrase, expected):
    doc, structure = parsed[doc_id]
    at = doc.text.find(phrase)
    assert at >= 0, phrase
    assert path_at(structure, at) == expected


def test_toolkit_chapters_carry_contents_page(parsed):
    doc, structure = parsed["mission-boundaries-toolkit"]
    chapters = {s.title: s.toc_page for s in structure.sections if s.depth == 1}
    assert chapters["BOUNDARIES AND SOCIAL MEDIA"] is not None
    assert chapters["BOUNDARIES RELATED TO WORKING WITH CLIENTS' FAMILIES"] < \
        chapters["BOUNDARIES AND SOCIAL MEDIA"]


def test_sections_nest_and_cover_their_children(parsed):
    for _doc, structure in parsed.values():
        for s in structure.sections:
            for child in s.children:
                c = structure.sections[child]
                assert c.parent == s.id
                assert s.start <= c.start and c.end <= s.end
                assert c.depth == s.depth + 1


def test_roman_numerals():
    assert [roman_value(t) for t in ("I", "IV", "IX", "XIV", "A", "MMXX")] == [1, 4, 9, 14, None, None]


def test_unstructured_document_falls_back_to_root(tmp_path: Path):
    path = tmp_path / "note.txt"
    path.write_text("just some lowercase prose without any headings at all. " * 20)
    doc = read_document(path)
    structure = parse_sections(doc)
    assert path_at(structure, 10) == ""
    assert structure.sections[0].kind == "root"


def test_a_title_block_nests_but_a_run_of_labels_stays_side_by_side(tmp_path: Path):
    """Empty headings one after another are a title block ("COUNTY OF LOS ANGELES" / "OFFICE
    OF THE MEDICAL DIRECTOR" / "4.12 ..."), one section; a longer run is a form's labels or a
    table's rows, which were nested each under the one before, eleven deep in a spec's table,
    and a chapter that goes on the numbering is nobody's title block (the spec's "2.13" was
    cited under two table rows)."""
    path = tmp_path / "form.txt"
    path.write_text("AGENCY OF EXAMPLE\n\nOFFICE OF THE DIRECTOR\n\nCLIENT FUNDS POLICY\n\n"
                    "Staff never lend money to a client, whatever the amount or reason.\n\n"
                    "CLIENT NAME\n\nDATE OF BIRTH\n\nPROGRAM NAME\n\nCASE MANAGER\n\n"
                    "SIGNATURE\n\nThe client signs below to agree to these terms.\n\n"
                    "1 Scope\n\nEvery program of the agency applies this policy to every "
                    "client.\n\nOFFICE USE ONLY\n\nRECEIVED BY\n\n2 Records\n\nStaff file the "
                    "signed form in the client's record on the day it is received.\n")
    at, _, _ = reader(path)
    assert at("Staff never lend") == "Agency of Example \u203a Office of the Director \u203a " \
        "Client Funds Policy"
    assert at("The client signs") == "Signature"
    assert at("CASE MANAGER") == "Case Manager"
    assert at("Staff file the") == "2 Records"  # chapter 2 goes on from 1, on its own


def test_generic_numbered_policy(tmp_path: Path):
    path = tmp_path / "policy.md"
    path.write_text(
        "Visitor Policy\n\n"
        "I. SCOPE\n\nThis applies to all sites.\n\n"
        "II. RULES\n\n"
        "1. Sign-in\n\nA. Visitors sign in at the front desk.\n\nB. Badges are worn at all times.\n\n"
        "2. Escorts\n\nA. Staff escort visitors in clinical areas.\n"
    )
    doc = read_document(path)
    structure = parse_sections(doc)
    assert path_at(structure, doc.text.find("Badges")) == "II. Rules › 1. Sign-in › B"
    assert path_at(structure, doc.text.find("Staff escort")) == "II. Rules › 2. Escorts › A"


def test_hand_numbered_sub_headings_nest_under_their_chapter_and_the_list_goes_on(tmp_path: Path):
    """Policies typed by hand number chapters "2." and their sub-headings "2.1": the sub-heading
    sits under its chapter, and the chapter list goes on after it ("3." follows "2.", even after
    a sub-heading numbered out of step, as in a real board agenda)."""
    path = tmp_path / "funds.txt"
    path.write_text(
        "CLIENT FUNDS POLICY\n\n"
        "1. Loans\n\nStaff never lend money to clients, even small amounts.\n\n"
        "2. Gifts\n\nGifts over $20 are politely declined and recorded.\n\n"
        "2.1 Small tokens\n\nCards and flowers may be accepted and shared.\n\n"
        "2.2 Reporting\n\nEvery gift is reported to the supervisor within a week.\n\n"
        "3. Records\n\nRecords of every transaction are kept for seven years.\n\n"
        "1.1 Exceptions\n\nThe director may approve an exception in writing, once.\n\n"
        "4. Review\n\nThis policy is reviewed every second year by the board.\n")
    at, doc, structure = reader(path)

    assert at("Gifts over") == "2. Gifts"
    assert at("Cards and") == "2. Gifts › 2.1 Small tokens"
    assert at("Every gift") == "2. Gifts › 2.2 Reporting"
    assert at("Records of") == "3. Records"
    assert at("The director") == "1.1 Exceptions"
    assert at("This policy is") == "4. Review"


def test_pdf_heading_before_a_paragraph_wrapped_mid_sentence(tmp_path: Path):
    """In a PDF exported from Word a heading ("Purpose") is followed by the page's lines of a
    paragraph, the first of which usually breaks mid-sentence: it is still the heading's body,
    as in a Markdown file wrapped at 80 columns. A formula or a caption before such a paragraph
    is not a heading."""
    body = ("This policy sets out how case managers, peer advocates and recovery coaches handle "
            "the money and the valuables that clients ask them to hold, lend or spend for them, "
            "and who approves each of these.")
    path = make_pdf(tmp_path / "funds.pdf", [
        f"CLIENT FUNDS POLICY\n\nPurpose\n{body}\n\nC := (s + E) holds\n{body}\n\n"
        f"Record Keeping\n{body}"])
    doc = read_document(path)
    assert re.search(r"[a-z]\n[a-z]", doc.text)  # the paragraph wraps mid-sentence
    structure = parse_sections(doc)
    starts = [m.start() for m in re.finditer(re.escape(body[:30]), doc.text)]
    assert [path_at(structure, s) for s in starts] == [
        "Purpose", "Purpose",
        "Record Keeping"]

    markdown = tmp_path / "funds.md"
    markdown.write_text("# Client Funds Policy\n\n**Purpose**\n\n" + body[:75] + "\n" + body[76:]
                        + "\n")
    doc = read_document(markdown)
    assert path_at(parse_sections(doc), doc.text.find(body[:30])) == "Purpose"


def test_chapters_listed_in_contents_with_spaced_leaders_and_an_appendix_letter(tmp_path: Path):
    """A TeX-made PDF's contents write their leaders ". . . .", and its "1 Introduction" stands
    over a paragraph wrapped mid-sentence: the contents were not read, the first chapter was
    not taken for a heading, so no chapter after it went on the sequence (libtasn1's manual
    cited "2.1 ASN.1 syntax" with no chapter, its appendix under "4.5"). "Appendix A" is
    numbered by its letter."""
    body = ("This policy sets out how case managers, peer advocates and recovery coaches handle "
            "the money and the valuables that clients ask them to hold, lend or spend for them, "
            "and who approves each of these.")
    leader = " ." * 30
    path = make_pdf(tmp_path / "manual.pdf", [
        f"Table of Contents\n1 Introduction{leader} 2\n2 Money Held for Clients{leader} 2\n"
        f"2.1 Loans{leader} 3\nAppendix A Forms{leader} 3",
        f"1 Introduction\n{body}\n2 Money Held for Clients\n2.1 Loans\nNo loans. {body}",
        f"Appendix A Forms\nThe forms. {body}"])
    at, doc, _ = reader(path)
    assert re.search(r"[a-z]\n[a-z]", doc.text)  # the paragraph wraps mid-sentence
    assert at("This policy sets out") == "1 Introduction"
    assert at("No loans.") == "2 Money Held for Clients \u203a 2.1 Loans"
    assert at("The forms.") == "Appendix A Forms"


def test_contents_over_two_pages_with_a_wrapped_entry_are_no_passage(tmp_path: Path):
    """A manual's contents run over several pages: only the first page's entries were read
    as contents, and the rest (the Debian Policy Manual's pages ii-viii) became passages under
    the title page's last line, whose leaders and page numbers outranked the chapters for
    questions in their words. An entry wrapped over lines before its page ends the contents no
    more than a page break does."""
    body = ("This policy sets out how case managers, peer advocates and recovery coaches handle "
            "the money and the valuables that clients ask them to hold, lend or spend for them, "
            "and who approves each of these.")
    leader = " ." * 30
    path = make_pdf(tmp_path / "manual.pdf", [
        f"Staff Manual\nContents\n1 Introduction{leader} 3\n2 Money Held for Clients{leader} 3\n"
        f"2.1 Loans{leader} 3",
        f"2.2 Gifts, payments, trades of goods or services, and other dealings between staff\n"
        f"and the clients they serve{leader} 4\n3 Records{leader} 4\n3.1 Ledgers{leader} 4",
        f"1 Introduction\nINTRO {body}\n2 Money Held for Clients\n2.1 Loans\nLOANS {body}",
        f"2.2 Gifts\nGIFTS {body}\n3 Records\n3.1 Ledgers\nLEDGERS {body}"])
    at, doc, structure = reader(path)
    contents = [doc.text[p.start:p.end] for p in structure.paragraphs if p.kind == "contents"]
    assert any("3.1 Ledgers" in line for line in contents)
    assert any("and the clients they serve" in line for line in contents)
    texts = [doc.text[p.start:p.end] for p in structure.paragraphs if p.kind != "contents"]
    assert not any(". . ." in text for text in texts)
    assert [at(w) for w in ("INTRO", "LOANS", "GIFTS", "LEDGERS")] == [
        "1 Introduction", "2 Money Held for Clients \u203a 2.1 Loans",
        "2 Money Held for Clients \u203a 2.2 Gifts", "3 Records \u203a 3.1 Ledgers"]


def test_contents_chapter_lines_without_leaders_name_all_caps_chapters(tmp_path: Path):
    """TeX's contents set a chapter's line without leaders, its page after a single space ("2
    Files 3"), and the chapter itself in capitals without its number ("FILES"): a one-word
    chapter matched no entry, and stood under the chapter before it ("Introduction › Files"). A
    chapter whose title starts as another's does ("FILES FROM OLD MANUALS") takes its own
    entry's page, not the shorter one's."""
    leader = " ." * 30
    path = make_pdf(tmp_path / "manual.pdf", [
        f"Contents\n1 Introduction 2\n1.1 Scope{leader} 2\n2 Files 3\n2.1 Binaries{leader} 3\n"
        f"3 Files from old manuals 4\n3.1 Archives{leader} 4",
        "INTRODUCTION\n1.1 Scope\nSCOPE This manual sets out where a package installs its files "
        "and who decides when the rules change.\nIt binds every package in the archive.",
        "FILES\n2.1 Binaries\nBINARIES Two packages must not install programs with different "
        "functions under the same name.\nA program is installed in the directories below.",
        "FILES FROM OLD MANUALS\n3.1 Archives\nARCHIVES The old manual kept each archive's "
        "members in a fixed order.\nTools read them in that order still."])
    at, _doc, structure = reader(path)
    assert at("SCOPE") == "Introduction \u203a 1.1 Scope"
    assert at("BINARIES") == "Files \u203a 2.1 Binaries"
    assert at("ARCHIVES") == "Files from Old Manuals \u203a 3.1 Archives"
    pages = {s.label: s.toc_page for s in structure.sections if s.depth == 1}
    assert pages["Files"] == 3 and pages["Files from Old Manuals"] == 4


def test_ninth_letter_after_an_interrupted_list_is_a_letter(tmp_path: Path):
    """Lettered steps "A." to "H.", a note paragraph, then "I.": with the list closed by the
    note, "I." was read as the Roman part I, and every later section stood under it ("I › 3.
    Records"). It is the list's ninth letter while the list's section is open and no "II."
    follows; where one does, "I." is the Roman part it begins."""
    steps = [f"{letter}. Step {letter} of the count, written in the log book with its time."
             for letter in "ABCDEFGHIJ"]
    text = "\n\n".join(["Cash Handling Procedure", "1. Purpose", "PURP This procedure says how "
                         "staff handle the cash that clients hand them.", "2. Steps", *steps[:8],
                         "Note: the supervisor may take step G in the staff member's place.",
                         *steps[8:], "3. Records", "RECS The ledger is kept for seven years."])
    at, _, _ = reader(written(tmp_path / "cash.txt", text + "\n"))
    assert at("I. Step I") == "2. Steps \u203a I" and at("J. Step J") == "2. Steps \u203a J"
    assert at("RECS") == "3. Records"
    parts = "\n\n".join(["Staff Handbook", "Definitions", *steps[:8], "Note: terms are "
                          "as the state defines them.", "I. PURPOSE", "PURP This policy protects "
                          "clients.", "II. POLICY", "POLS Staff never lend money to clients."])
    at, _, _ = reader(written(tmp_path / "parts.txt", parts + "\n"))
    assert at("PURP") == "I. Purpose" and at("POLS") == "II. Policy"


def test_chapter_label_lines_and_a_wrapped_all_caps_title_make_one_heading(tmp_path: Path):
    """Sphinx's PDFs set each chapter as "CHAPTER" / "ONE" / "ABOUT THIS MANUAL", a line each:
    the label's two lines were headings of their own, and the title stood under both
    ("Chapter › ONE › About This Manual › 1.1 Scope"). A caps title wrapped after a word no
    title ends on ("COPYING IN" / "QUANTITY") is one title, not "Quantity" alone."""
    text = ("Staff Manual\n\nCHAPTER\n\nONE\n\nABOUT THIS MANUAL\n\nSCOPE This manual sets "
            "out where a package installs its files and who decides when the rules change.\n\n"
            "CHAPTER\n\nTWO\n\nCOPYING IN\n\nQUANTITY\n\nCOPY Staff copy a record only with "
            "the client's consent, and log every copy they make.\n")
    at, _, _ = reader(written(tmp_path / "manual.pdf", text))
    assert at("SCOPE") == "About This Manual"
    assert at("COPY Staff") == "Copying in Quantity"


@pytest.mark.parametrize("name", ["policy.txt", "policy.md", "policy.pdf"])
def test_numbered_headings_in_sentence_case_head_their_text(tmp_path: Path, name):
    """ "2. Policy statement" over its paragraph was read as a list item with no title, and
    its text went to the section above the list ("Client Funds Policy"), its "3.1" nowhere
    under "3.". A short list after a heading stays a list, and the paragraph after it is the
    section's, not its last item's heading."""
    body = ("This policy sets out how case managers, peer advocates and recovery coaches handle "
            "the money and the valuables that clients ask them to hold, lend or spend for them, "
            "and who approves each of these.")
    text = (f"Client Funds Policy\n\n1. Purpose\n\nPURP {body}\n\n2. Policy statement\n\n"
            f"STAT Staff must never lend money to a client.\n\n3. Procedures for loans\n\n"
            f"PROC {body}\n\n3.1 Approval\n\nAPPR The supervisor approves.\n\n4. Records\n\n"
            f"1) Count the cash\n\n2) Record it in the ledger\n\nSIGN {body}\n")
    at, _, _ = reader(written(tmp_path / name, text))
    assert [at(word) for word in ("PURP", "STAT", "PROC", "APPR", "SIGN")] == [
        "1. Purpose", "2. Policy statement", "3. Procedures for loans",
        "3. Procedures for loans \u203a 3.1 Approval", "4. Records"]


def test_a_hash_line_in_a_pdf_is_text_not_a_markdown_heading(tmp_path: Path):
    """A "# This file was generated..." line in a PDF is a shell or config comment quoted in
    the text (the shared-mime-info spec's example file), not a Markdown heading: the section
    and the text after it were cited under "This file was automatically generated by the". A
    text file's own "## Heading" lines stay headings."""
    text = ("Glob Files\nThe glob file lists patterns, one a line, in the form shown below.\n"
            "# This file was automatically generated by the\n# update command. DO NOT EDIT!\n"
            "50:text/x-diff:*.diff\nEach line gives a weight, a MIME type and a pattern.\n")
    at, _, _ = reader(make_pdf(tmp_path / "spec.pdf", [text]))
    assert at("Each line gives") == "Glob Files"
    (tmp_path / "notes.txt").write_text("## Glob Files\n\nEach line gives a weight.\n")
    at, _, _ = reader(tmp_path / "notes.txt")
    assert at("Each line gives") == "Glob Files"


def test_pdf_text_after_a_list_is_a_paragraph_of_the_section_not_of_the_last_item(tmp_path: Path):
    """A PDF's lines carry no blank line between paragraphs: a paragraph after a list (its
    first line runs to the margin, the item before it stops short) is the section's text, not
    the last item's; a long item that the page wraps stays one item; a heading before a short
    closing sentence is still a heading."""
    rule = ("If any risk is recorded, the visit is made by two staff members, never by one "
            "worker alone, and the supervisor signs the plan before anyone leaves the office.")
    item = ("Carry a charged phone and the agency's lone-worker device at all times, and keep "
            "it switched on until the visit note is written up in the client record.")
    path = make_pdf(tmp_path / "visits.pdf", [
        "Home Visits Procedure\n\nBefore the Visit\n"
        f"1. Check the file for recorded risks.\n2. Tell the duty supervisor.\n3. {item}\n{rule}"
        "\nAfter the Visit\nWrite the visit note within one working day of the visit."
        "\nReview\nThe Quality Committee reviews it every year."])
    doc = read_document(path)
    structure = parse_sections(doc)
    assert path_at(structure, doc.text.find("The Quality")) == "Review"  # short text
    assert path_at(structure, doc.text.find("Tell the duty")).endswith("Before the Visit › 2")
    assert path_at(structure, doc.text.find("switched")).endswith(
        "Before the Visit › 3")
    assert path_at(structure, doc.text.find("If any risk")) == "Before the Visit"


def test_a_word_title_does_not_adopt_the_first_heading(tmp_path: Path):
    """Word's Title followed at once by a Heading 1: every Heading 1 is cited alike, none as
    the title's child ("Purpose", "Before the Visit"; not "Home Visits › Purpose")."""
    import docx

    document = docx.Document()
    document.add_heading("Home Visits Procedure", level=0)
    document.add_heading("Purpose", level=1)
    document.add_paragraph("This procedure keeps every home visit safe.")
    document.add_heading("Before the Visit", level=1)
    document.add_paragraph("Check the file for recorded risks at the address.")
    document.save(tmp_path / "visits.docx")
    doc = read_document(tmp_path / "visits.docx")
    structure = parse_sections(doc)
    assert path_at(structure, doc.text.find("This procedure")) == "Purpose"
    assert path_at(structure, doc.text.find("Check the file")) == "Before the Visit"


def test_a_title_heading_over_the_whole_document_is_left_out_of_citations(tmp_path: Path):
    """The document's title line, holding every chapter, only repeats the document's name in a
    citation: the chapters start the paths. Text under the title itself still cites it; two
    top-level sections, or one numbered chapter, are structure and stay."""
    path = tmp_path / "funds.md"
    path.write_text("# Client Funds Policy\n\nAdopted by the board in 2024.\n\n## Loans\n\n"
                    "Staff never lend money.\n\n## Gifts\n\n### Small tokens\n\n"
                    "Cards may be accepted.\n", encoding="utf-8")
    doc = read_document(path)
    structure = parse_sections(doc)
    assert path_at(structure, doc.text.find("Adopted")) == "Client Funds Policy"
    assert path_at(structure, doc.text.find("Staff never")) == "Loans"
    assert path_at(structure, doc.text.find("Cards may")) == "Gifts \u203a Small tokens"
    loans = next(s for s in structure.sections if s.title == "Loans")
    assert structure.top_level(loans.id) == loans.id

    path.write_text("# Client Funds Policy\n\n## Loans\n\nStaff never lend money.\n\n"
                    "# Appendix\n\n## Forms\n\nUse form 12.\n", encoding="utf-8")
    doc = read_document(path)
    assert path_at(parse_sections(doc), doc.text.find("Staff never")) == \
        "Client Funds Policy \u203a Loans"

    path.write_text("# 1 Overview\n\n## 1.1 Loans\n\nStaff never lend money.\n", encoding="utf-8")
    doc = read_document(path)
    assert path_at(parse_sections(doc), doc.text.find("Staff never")).endswith("\u203a 1.1 Loans")

    path.write_text("# Funds\n\n## Loans\n\nStaff never lend money.\n", encoding="utf-8")
    doc = read_document(path)  # a one-word "# Title" is the title all the same
    assert doc.title == "Funds"
    assert path_at(parse_sections(doc), doc.text.find("Staff never")) == "Loans"

    path.write_text("CIVIL RIGHTS POLICY\n\nPurpose\nThis policy sets out how every client is "
                    "treated.\n\nComplaints\nA client may complain to the director at any "
                    "time.\n", encoding="utf-8")
    doc = read_document(path)
    assert path_at(parse_sections(doc), doc.text.find("A client may")) == "Complaints"


def test_a_heading_over_a_lettered_list_and_a_caption_line_ending_in_a_comma(tmp_path: Path):
    """A heading followed by "a. ..." stays a heading over its items (the page-break rule joined
    them as one broken sentence); a court caption's "MICHAEL A. KNOWLES, :" is a party's name, not
    a heading, nor is "v. : No. 07-1315" a list item (an item's text does not open with a colon),
    while a "Label :" heading is titled without its colon and the space before it."""
    path = tmp_path / "visits.txt"
    path.write_text(
        "HOME VISITS\n\nProcedure\n\na. Staff phone the client the day before the visit.\n\n"
        "b. Two staff go together to a first visit.\n\n"
        "HEARING RECORD\n\nMICHAEL A. KNOWLES, :\n\nPetitioner :\n\nv. : No. 07-1315\n\n"
        "The matter came on for argument before the court at ten in the morning.\n\n"
        "Objet :\n\nLa séance est ouverte à seize heures par le président du comité.\n")
    at, doc, structure = reader(path)

    assert at("Staff phone") == "Home Visits › Procedure › a"
    assert at("Two staff") == "Home Visits › Procedure › b"
    assert at("The matter came") == "Hearing Record"
    assert at("No. 07-1315") == "Hearing Record"  # "v. :" opens no item: no text follows it
    assert at("La séance") == "Hearing Record › Objet"


def test_an_initial_is_a_name_not_a_lettered_item(tmp_path: Path):
    """ "J. Doe" and French minutes' "M. Gagné" (Mr.) start no list ("A.") and go on none:
    they are names, in the section above them, not items J and M. A list's letters still are
    items."""
    path = tmp_path / "funds.txt"
    path.write_text(
        "Procedure\n\nA. Staff never lend money to clients.\n"
        "B. Gifts to clients are limited to items under $10 in value.\n\n"
        "Présences\n\nMembres :\nM. Gaëtan Gagné, conseiller municipal\n"
        "M. David Huggins-Daines, conseiller municipal\n\n"
        "Secrétaire :\nMme Ariane Bélanger, greffière adjointe\n\n"
        "Approved by the board of directors on 3 June 2024, signed for the board by:\n"
        "J. Doe, Executive Director\n")
    at, doc, structure = reader(path)

    assert at("Staff never") == "Procedure › A"
    assert at("Gifts to clients") == "Procedure › B"
    assert at("M. Gaëtan Gagné") == at("M. David Huggins") == "Présences › Membres"
    assert at("J. Doe") == at("Approved by the")
    assert not [s for s in structure.sections if s.marker in ("J", "M")]


def test_lower_case_roman_sub_items_under_a_lettered_item(tmp_path: Path):
    """ "i." reads as a letter or a numeral by sequence; "ii.", "iii.", "iv." are numerals, each
    its own item under the lettered item above (not a line of the item before)."""
    path = tmp_path / "funds.txt"
    path.write_text(
        "Procedure\n\na. Staff never lend money to clients.\n"
        "b. Gifts to clients are limited to items under $10 in value.\n"
        "   i. Gift cards are not allowed.\n   ii. Food may be shared during group activities.\n"
        "   iii. Flowers may be sent to a client in hospital.\n"
        "c. Any exception is approved in writing by the program director.\n")
    at, doc, structure = reader(path)

    assert at("Gift cards") == "Procedure › b › i"
    assert at("Food may") == "Procedure › b › ii"
    assert at("Flowers") == "Procedure › b › iii"
    assert at("Any exception") == "Procedure › c"


def test_numbered_paragraphs_are_cited_by_their_numbers(tmp_path: Path):
    """Agency policies number their paragraphs as well as their headings: "3.2 Grievance
    Officer: the person who..." is item 3.2 of its section, "4.2.1 Urgent ..." an item under
    "4.2 Response"; short numbered lines stay headings. In a PDF too, where the page wraps the
    paragraph after a comma or mid-clause."""
    text = ("1.0 PURPOSE\nTo describe how a client files a grievance and how staff respond.\n"
            "3.0 DEFINITIONS\n"
            "3.1 Grievance: a complaint by a client about a service or a member of staff.\n"
            "3.2 Grievance Officer: the person who receives and tracks every grievance.\n"
            "4.0 PROCEDURE\n4.1 Filing\nA client may file a grievance orally or in writing.\n"
            "4.2 Response\nThe Grievance Officer responds in writing within ten business days.\n"
            "   4.2.1 Urgent grievances are answered within twenty-four hours of receipt.\n"
            "4.3 Appeals\nA client may appeal the response to the program director.\n")
    path = tmp_path / "grievances.txt"
    path.write_text(text)
    at, doc, structure = reader(path)

    assert at("Grievance: a complaint") == "3.0 Definitions › 3.1"
    assert at("Grievance Officer: the") == "3.0 Definitions › 3.2"
    assert at("A client may file") == "4.0 Procedure › 4.1 Filing"
    assert at("Urgent grievances") == "4.0 Procedure › 4.2 Response › 4.2.1"
    assert at("A client may appeal") == "4.0 Procedure › 4.3 Appeals"

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(110, 6, "3. DEFINITIONS\n3.1 Grievance means a complaint by a client about a "
                   "service, a decision or a member of staff that the client wants looked into.\n"
                   "3.2 Grievance Officer means the person who receives, records and tracks every "
                   "grievance until it is closed.\n4. PROCEDURE\n4.1 Filing\nA client may file a "
                   "grievance orally or in writing, and staff help.\n")
    pdf.output(str(tmp_path / "grievances.pdf"))
    at, doc, _ = reader(tmp_path / "grievances.pdf")
    assert "service,\na decision" in doc.text  # the page wrapped the paragraph after a comma
    assert at("a decision or a member") == "3. Definitions › 3.1"
    assert at("and tracks every") == "3. Definitions › 3.2"
    assert at("grievance orally") == "4. Procedure › 4.1 Filing"


def test_plain_text_headings_underlined_like_markdown(tmp_path: Path):
    """A .txt policy underlines its headings ("Purpose" / "-------") as e-mails and old text
    files do; a rule under a sentence, or one far longer than the line, is a separator."""
    path = tmp_path / "medication.txt"
    path.write_text(
        "Medication Storage\n==================\n\nPurpose\n-------\n"
        "Medications held for clients are stored safely.\n\n"
        "Keys are never left in the cabinet door.\n----------------------------------------\n\n"
        "Disposal\n" + "-" * 60 + "\nExpired medication is returned to the pharmacy.\n")
    at, doc, structure = reader(path)

    assert at("Medications held") == "Purpose"  # the title heading is left out of paths
    assert at("Keys are never") == "Purpose"
    assert at("Expired medication") == "Purpose"
    assert [s.title for s in structure.sections if s.kind == "heading"] == [
        "Medication Storage", "Purpose"]


@pytest.mark.parametrize("name", ["sharing.md", "sharing.txt"])
def test_a_numbered_list_nested_by_indentation_is_numbered_afresh(tmp_path: Path, name):
    """ "2. Without consent, only when:" over an indented "1. ... 2. ... 3." list: those are
    2 › 1 to 2 › 3, and the next "3." is item 3 again (before, Markdown's "1. 1. 1." rule
    numbered them 3 to 6, and a text file made them siblings of "2.")."""
    path = tmp_path / name
    path.write_text(
        "When Staff May Share Information\n\n1. With the client's written consent.\n"
        "2. Without consent, only when:\n   1. a client is at risk of serious harm;\n"
        "   2. a court orders it; or\n   3. the law requires a report.\n"
        "3. Staff record every disclosure.\n\nStaff who are unsure ask their supervisor.\n")
    doc = read_document(path)
    structure = parse_sections(doc)

    def at(phrase: str) -> str:
        return path_at(structure, doc.text.find(phrase)).split(" › ", 1)[-1]

    assert at("a client is at risk") == "2 › 1"
    assert at("the law requires") == "2 › 3"
    assert at("Staff record every") == "3"


def test_run_in_capital_labels_are_the_sections_of_a_policy_template(tmp_path: Path):
    """Many policy templates open each section's text with its label: "PURPOSE: To keep...".
    The label is the heading and the rest its text, where two different labels do so; a "NOTE:"
    remark and a memo's "TO:" line are not sections, and a lone label makes none."""
    path = tmp_path / "medication.txt"
    path.write_text(
        "MEDICATION STORAGE\n\nTO: All residential staff\n\n"
        "PURPOSE: To keep medications held for clients safe and accounted for.\n\n"
        "POLICY: All medication is stored in a locked cabinet. Keys are held by the\n"
        "shift lead and never left in the door.\n\n"
        "PROCEDURE: Staff follow these steps.\n1. Check the label against the record.\n"
        "2. Store the medication in the labelled bin.\n\n"
        "NOTE: A refrigerator is used where the label says so.\n")
    at, doc, structure = reader(path)

    assert at("To keep medications") == "Purpose"
    assert at("shift lead and never") == "Policy"
    assert at("Store the medication") == "Procedure › 2"
    assert at("A refrigerator") == "Procedure"
    assert at("All residential staff") == "Medication Storage"  # the title, before any section
    heading = next(p for p in structure.paragraphs if doc.text[p.start:p.end] == "POLICY:")
    assert heading.kind == "heading"

    lone = tmp_path / "lone.txt"
    lone.write_text("Medication Storage\n\nATTENTION: Keys are never left in the door.\n")
    lone_doc = read_document(lone)
    assert all(s.title != "ATTENTION" for s in parse_sections(lone_doc).sections)


@pytest.mark.parametrize("name", ["incidents.txt", "incidents.pdf"])
def test_lettered_headings_in_sentence_case_and_a_lead_in_item(tmp_path: Path, name):
    """An outline policy ("III. PROCEDURE" / "A. Immediate response" / text / "1. ..." items):
    "A. Immediate response", in sentence case, was read as an item, its text and its steps went
    to "III", and "B. Reporting timelines" nested under step 5. A step that leads into a list
    ("4. preserve any evidence, including:") was read as a heading titled by its words. Now a
    capital-lettered line over a paragraph heads it, as "2. Policy statement" does, and a
    lower-case lead-in is an item, cited by its number."""
    body = ("The first duty of any staff member who becomes aware of an incident is the safety "
            "of the people involved.")
    text = (f"Incident Reporting\n\nIII. PROCEDURE\n\nA. Immediate response\n\n{body} Staff "
            "will:\n\n1. make the situation safe;\n\n2. give first aid;\n\n3. preserve any "
            "evidence, including:\n\na. medication packaging;\n\nb. written notes.\n\n4. not "
            f"discuss the incident.\n\nB. Reporting timelines\n\nREPT {body}\n")
    at, _, _ = reader(written(tmp_path / name, text))
    assert at("The first duty") == "III. Procedure \u203a A. Immediate response"
    assert at("give first aid") == "III. Procedure \u203a A. Immediate response \u203a 2"
    assert at("written notes") == "III. Procedure \u203a A. Immediate response \u203a 3 \u203a b"
    assert at("REPT") == "III. Procedure \u203a B. Reporting timelines"


@pytest.mark.parametrize("name", ["gifts.pdf", "gifts.txt"])
def test_steps_numbered_afresh_under_a_numbered_heading(tmp_path: Path, name):
    """ "3. Procedure" over steps numbered afresh ("1. Thank the client", "2. ..."): the steps'
    "1." was read as the next item of the list "3." belongs to, so "3. Procedure" was an item,
    and the steps stood beside it at the top ("gifts, 3", "gifts, 4"). "3." is their heading;
    "4. Breaches" after step 4 follows "3. Procedure", not the step."""
    body = ("Staff may not accept gifts of money, gift cards, or items of more than token value "
            "from clients or their families.")
    text = ("Gifts and Gratuities\n\n1. Purpose\n\n" + body + "\n\n2. Policy\n\n" + body +
            "\n\n3. Procedure\n\n1. Thank the client and explain the policy kindly.\n\n"
            "2. Accept the gift on behalf of the team.\n\n3. Record the gift in the gift "
            "register.\n\n4. The supervisor decides what happens to the gift.\n\n4. Breaches\n\n"
            "BRCH Accepting a gift in breach of this policy may lead to disciplinary action.\n")
    at, _, _ = reader(written(tmp_path / name, text))
    assert at("Record the gift") == "3. Procedure \u203a 3"
    assert at("BRCH") == "4. Breaches"


@pytest.mark.parametrize("name", ["warn.txt", "warn.pdf"])
def test_a_revision_tables_rows_are_no_numbered_headings(tmp_path: Path, name):
    """A revision history's rows start with version numbers ("1.0 06/2014 New policy", "2.0
    01/2019 Firearms access added"): read as chapters "1.0" and "2.0", the approval block under
    them was cited "2.0 01/2019 Firearms access added › 2.1 09/2023 Updated statute"."""
    body = ("All clinicians complete duty-to-warn training at hire and every two years after "
            "that, and the training is recorded.")
    text = (f"Duty to Warn\n\nIV. TRAINING\n\n{body}\n\nV. REVISION HISTORY\n\nVersion Date "
            "Changes\n\n1.0 06/2014 New policy\n\n2.0 01/2019 Firearms access added\n\n"
            "2.1 09/2023 Updated statute reference\n\nAPPR Approved by the Board of Directors.\n")
    at, _, structure = reader(written(tmp_path / name, text))
    assert at("APPR") == "V. Revision History"
    assert not any(s.marker in ("1.0", "2.0", "2.1") for s in structure.sections)


@pytest.mark.parametrize("name", ["use.txt", "use.pdf"])
def test_a_line_after_one_that_stops_on_the_heads_nothing(tmp_path: Path, name):
    """A line that stops on "the", "of", "or"... goes on with its sentence below, however
    title-like the next line ("GitHub Terms of Service or GitHub Customer Agreement, or the
    GitHub", a LibreOffice PDF's line), in a PDF too: it headed the whole policy."""
    text = ("Acceptable Use\n\nCapitalized terms used but not defined in these policies have the "
            "meanings\nassigned to them in your main agreement with us, the\nGitHub Terms of "
            "Service or GitHub Customer Agreement, or the GitHub\nCorporate Terms of Service or "
            "other legacy contract.\n\nUser Safety\n\nWe do not allow content that is "
            "unlawful or promotes unlawful activities.\n")
    at, _, structure = reader(written(tmp_path / name, text))
    assert "GitHub" not in at("Corporate Terms of Service")
    assert at("We do not allow") == "User Safety"
    assert not any(s.label.startswith("GitHub Terms") for s in structure.sections)


def test_a_pdfs_numbered_heading_over_two_lines_is_one_heading(tmp_path: Path):
    """A LibreOffice PDF's Heading 1 too long for its line ("3. Intellectual Property,
    Authenticity, and Private" / "Information", both bold): one heading, and the sections
    after it are its siblings, not "Information"'s children. "4. Privacy" over "In the office"
    in the same bold is a heading and its sub-heading."""
    TITLE = ("Intellectual Property, Authenticity, Confidentiality, Accountability and "
             "Nondiscrimination Requirements")  # too long for a line, eight words: labelled whole
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    body = ("Staff follow this rule in every program and record what they did in the client's "
            "file on the same working day.")
    for text, style in [("Acceptable Use Policies", "B"), (body, ""),
                        (f"3. {TITLE}", "B"), (body.replace("Staff", "Staff members"), ""),
                        ("4. Privacy", "B"), ("In the office", "B"), (body.replace("rule", "way"), ""),
                        ("5. Spam", "B"), (body.replace("every", "each"), "")]:
        pdf.set_font("Helvetica", style=style, size=14 if style else 11)
        pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(tmp_path / "use.pdf"))
    at, doc, structure = reader(tmp_path / "use.pdf")
    offset = doc.text.find("Staff members follow")
    holding = max((s for s in structure.sections if s.start <= offset < s.end), key=lambda s: s.depth)
    assert (holding.marker, holding.title) == ("3", TITLE)
    assert at("Staff follow this way").endswith("In the office")
    assert "4. Privacy" in [s.label for s in structure.sections]
    assert at("each program").endswith("5. Spam")


def test_a_markdown_paragraphs_wrapped_lines_head_nothing(tmp_path: Path):
    """pandoc wraps Markdown at 72 characters: once a link's syntax is gone, a wrapped line can
    look like a Title-Case heading ("Customer Agreement, or the GitHub Corporate Terms of").
    In a file that marks its headings, a paragraph's lines after its first go on with it, as
    the rendered page shows them; a short line that is a paragraph of its own still heads."""
    (tmp_path / "use.md").write_text(
        "# Acceptable Use\n\n## Scope\n\nCapitalized terms used but not defined in these Acceptable "
        "Use Policies\nhave the meanings assigned to them in your main agreement with us \u2014 the"
        "\n[GitHub Terms of\nService](/site-policy/terms) or GitHub\nCustomer Agreement, or the "
        "[GitHub Corporate Terms of\nService](/site-policy/corporate-terms) or\nother legacy GitHub "
        "contract, or a Microsoft volume licensing agreement.\n\nUser Safety\n\nWe do not allow "
        "content that is unlawful.\n",
        encoding="utf-8")
    at, doc, structure = reader(tmp_path / "use.md")
    assert "Customer Agreement, or the GitHub Corporate Terms of\nService or\nother" in doc.text
    assert at("volume licensing") == "Scope"
    assert at("We do not allow") == "Scope \u203a User Safety"
    assert "Customer Agreement, or the GitHub Corporate Terms of" not in [
        s.label for s in structure.sections]


def test_a_table_row_whose_last_cell_is_empty_heads_nothing(tmp_path: Path):
    """A Markdown table's row with an empty last cell ("| SSL_OP_NO_QUERY_MTU | |") reads as
    its first cell and a tab: a line in capitals, which was taken for a heading, and the rows
    below were cited under it."""
    (tmp_path / "constants.md").write_text(
        "# Constants\n\nThe options below set how the connection behaves.\n\n"
        "| Constant | Description |\n|---|---|\n| SSL_OP_ALL | Applies every bug workaround. |\n"
        "| SSL_OP_NO_QUERY_MTU | |\n| SSL_OP_NO_TICKET | Turns session tickets off. |\n",
        encoding="utf-8")
    at, doc, structure = reader(tmp_path / "constants.md")
    assert "SSL_OP_NO_QUERY_MTU\t\n" in doc.text
    assert at("SSL_OP_NO_TICKET") == "Constants"
    assert [s.label for s in structure.sections if s.kind != "root"] == ["Constants"]


@pytest.mark.parametrize("name", ["transport.txt", "transport.pdf"])
def test_word_second_level_bullets_and_check_boxes_are_list_items(tmp_path: Path, name):
    """Word's second-level bullet is a Courier "o", and a checklist's items open with a box
    ("☐"): in a PDF the "o" lines ran into the item above ("Calls for help: o In an emergency:
    ..."), and a checklist ran into the sentence that introduces it. Each is an item of its
    own, in its section."""
    text = ("Client Transportation\n\nVehicle Check\n\nBefore every trip the driver walks "
            "around the vehicle and checks each of these:\n\n"
            "\u2610 Tyres inflated and without visible damage\n\n\u2610 Fuel at least half full\n\n"
            "Calls for Help\n\nStaff call for help as follows, in this order of priority:\n\n"
            "\u2022 Calls for help:\n\no In an emergency: dial 911.\n\no Otherwise: call the "
            "program manager.\n")
    if name.endswith(".pdf"):  # the PDF's own font has no box nor "•": its "o" bullets only
        text = text.replace("\u2610", "-").replace("\u2022", "-")
    at, doc, structure = reader(written(tmp_path / name, text))

    def opens_a_paragraph(phrase: str) -> bool:  # after its bullet, which is no text of it
        return doc.text.find(phrase) in {p.start for p in structure.paragraphs}

    assert opens_a_paragraph("Fuel at least") and at("Fuel at least") == "Vehicle Check"
    assert opens_a_paragraph("In an emergency") and opens_a_paragraph("Otherwise: call")
    assert at("Otherwise: call") == "Calls for Help"


@pytest.mark.parametrize("name", ["release.txt", "release.pdf"])
def test_numbered_paragraphs_stand_under_their_section_heading(tmp_path, name):
    """"Section 4: Procedure" over "4.1 ...", "4.2 ..." (a policy's numbered paragraphs): both
    are cited under the section. "Section 4" ranked as deep as "4.1", so "4.1" joined it only as
    a title block's line and "4.2" stood at the top, cited "4.2" alone. And the title over
    "Section 1" is no section of its own: the first of chapters numbered alike is a chapter, as
    the others are, not the last line of a title block ("Confidentiality and Release of… ›
    Section 1 Purpose", then "Section 2 Policy")."""
    at, _doc, _s = reader(written(tmp_path / name, (
        "Confidentiality and Release of Information\n\n"
        "Section 1: Purpose\n\n"
        "This policy protects the privacy of client records and sets out when they may be "
        "released.\n\n"
        "Section 2: Policy\n\n"
        "2.1 Client information is confidential and is released only with written consent.\n\n"
        "2.2 Staff discuss clients only with colleagues who need the information.\n\n"
        "Section 4: Procedure\n\n"
        "4.1 Check that the consent form is signed, dated and names the person receiving it.\n\n"
        "4.2 Send only the information the form names.\n")))
    assert at("Send only the information").startswith("Section 4")
    assert at("Send only the information").endswith("› 4.2")
    assert at("Staff discuss clients").endswith("› 2.2")
    assert at("Staff discuss clients").startswith("Section 2")
    assert at("This policy protects").startswith("Section 1")


def test_articles_still_hold_their_sections(tmp_path):
    """Bylaws: "Section 1", "Section 2" stand under each "Article", a rank above them."""
    at, _doc, _s = reader(written(tmp_path / "bylaws.txt", (
        "Bylaws of the Peer Council\n\n"
        "Article I: Members\n\n"
        "Section 1: Eligibility\n\n"
        "Any person who has used the agency's services may become a member of the council.\n\n"
        "Section 2: Terms\n\n"
        "Members serve for two years and may serve two terms in a row at most.\n\n"
        "Article II: Meetings\n\n"
        "Section 1: Quorum\n\n"
        "Five members present make a quorum for every vote of the council.\n")))
    assert at("Members serve for two") == "Article I Members › Section 2 Terms"
    assert at("Five members present") == "Article II Meetings › Section 1 Quorum"


def test_a_templates_capital_labels_are_no_acronyms(tmp_path):
    """A template's rows "POLICY TITLE:", "POLICY NUMBER:" and "POLICY:" each share a line with
    text, so POLICY was taken for an acronym (as DMH is) and kept in capitals: "POLICY Title".
    A line's opening label counts for none; an acronym inside the text still does."""
    import docx

    document = docx.Document()
    document.add_paragraph().add_run("Northside Behavioral Health").bold = True
    rows = [("POLICY TITLE:", "Transporting Clients in Staff Vehicles"),
            ("POLICY NUMBER:", "OP-7.3"),
            ("PURPOSE:", "To set out when staff may drive clients, as the DMV rules allow."),
            ("POLICY:", "Staff may transport clients only in agency vehicles, as the DMV says."),
            ("DMV RULES:", "State transportation rule 12.4 applies to every trip.")]
    table = document.add_table(rows=len(rows), cols=2)
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        row.cells[1].text = value
    document.save(tmp_path / "transport.docx")
    at, _doc, _s = reader(tmp_path / "transport.docx")
    assert at("Staff may transport") == "Policy"
    assert at("OP-7.3") == "Policy Number"
    assert at("State transportation rule") == "DMV Rules"


@pytest.mark.parametrize("name", ["dropoff.txt", "dropoff.pdf"])
def test_an_item_leading_into_its_sub_list_stays_an_item(tmp_path, name):
    """"b. If the client is not home:" after item a, over "i. return...": an item of its list,
    cited "2 › b › i", not a heading titled "b. If the client is not home" (as the Word file
    reads it; its PDF did not). A label of its own ("2. Education and Work Experience:") still
    heads its items."""
    at, _doc, structure = reader(written(tmp_path / name, (
        "Medication Drop-off Procedure\n\nProcedure\n\n"
        "1. Collect the medication from the pharmacy.\n\n"
        "2. Deliver the medication to the client.\n\n"
        "a. Hand it to the client in person; never leave it at the door.\n\n"
        "b. If the client is not home:\n\n"
        "i. return the medication to the office the same day;\n\n"
        "ii. lock it in the medication cabinet.\n\n"
        "3. Record the delivery in the client's file.\n\n"
        "Qualifications\n\n"
        "1. Staff are recruited on a competitive basis.\n\n"
        "2. Education and Work Experience:\n\n"
        "a. Six months of peer advocacy, paid or volunteer.\n")))
    assert at("lock it in the medication").endswith("2 › b › ii")
    assert not any("not home" in s.title for s in structure.sections)
    assert at("Six months of peer").endswith("2. Education and Work Experience › a")


@pytest.mark.parametrize("name", ["waiver.txt", "waiver.pdf"])
def test_a_paragraph_in_capitals_is_text_and_emphasis_makes_no_acronym(tmp_path, name):
    """A release set in capitals, wrapped over lines ("THE AGENCY PROVIDES THE VAN SERVICE AS
    IS AND" / "WITHOUT ANY WARRANTY..."), was read as a heading a line, and every later
    passage cited under its last line. And "WITHOUT ANY CONDITIONS" written for emphasis in
    the text made CONDITIONS an acronym, the heading "TERMS AND CONDITIONS" read "Terms and
    CONDITIONS"."""
    text = (
        "Client Transport Policy\n\n"
        "TERMS AND CONDITIONS\n\n"
        "Staff drive clients in agency vans only. Rides come WITHOUT ANY CONDITIONS OF time,\n"
        "and every client is told so: rides come WITHOUT ANY CONDITIONS OR promises.\n\n"
        "THE AGENCY PROVIDES THE VAN SERVICE AS IS AND WITHOUT ANY WARRANTY OR CONDITIONS\n"
        "OF ANY KIND, AND IN NO EVENT SHALL THE AGENCY OR ITS STAFF BE LIABLE FOR ANY LOSS\n"
        "OF PROPERTY OR TIME ARISING IN ANY WAY OUT OF A CLIENT'S USE OF THE SERVICE, EVEN\n"
        "IF ADVISED OF THE POSSIBILITY OF SUCH LOSS.\n\n"
        "Drivers check the van's seat belts before every trip and log each trip's mileage.\n\n"
        "DRIVER RECORDS\n\n"
        "Each driver's licence is checked every year by the program director.\n")
    at, _doc, structure = reader(written(tmp_path / name, text))
    assert at("Rides come") == "Terms and Conditions"
    assert at("OF ANY KIND, AND IN NO EVENT") == "Terms and Conditions"
    assert at("Drivers check the van") == "Terms and Conditions"
    assert at("Each driver's licence") == "Driver Records"
    assert {s.title for s in structure.sections[1:]} <= {
        "Client Transport Policy", "TERMS AND CONDITIONS", "DRIVER RECORDS"}


@pytest.mark.parametrize("name", ["terms.txt", "terms.md"])
def test_a_line_that_goes_on_with_a_sentence_heads_nothing(tmp_path, name):
    """A list item wrapped before its last words ("...the records of the Client" / "Services;
    or") left them on a line of their own, title-like, over the next item: it was read as a
    heading, "Services; or", and the rest of the definitions were cited under it."""
    text = (
        "Definitions\n\n"
        "1. \"Record\" means any of the following:\n"
        "    (a) any note in the client file that results from a visit to, or a call\n"
        "        with, or a review of the records of the Client\n"
        "        Services; or\n"
        "    (b) any new note that a case manager writes about the client.\n"
        "2. \"Supervisor\" means the staff member who approves a case manager's notes\n"
        "    and signs the monthly review of every client file.\n")
    at, _doc, structure = reader(written(tmp_path / name, text))
    assert at("any new note") == "Definitions › 1 › b"
    assert at("the staff member who approves") == "Definitions › 2"
    assert "Services; or" not in {s.title for s in structure.sections}


def test_a_number_that_ends_a_reference_starts_no_item(tmp_path):
    """"...as set out in section" / "7.  Staff keep the receipt...": the line break fell after
    "section", and "7." was read as item 7 of the list above it (cited "2 › b › 7"); the
    sentence goes on, and the items after it are the list's."""
    text = (
        "Client Funds\n\n"
        "1. Staff may hold money for a client only with the program director's consent.\n"
        "2. A purchase for a client is recorded:\n"
        "    a) in the client's ledger, on the day of the purchase;\n"
        "    b) in the monthly report, with every other purchase, as set out in section\n"
        "    7.  Staff keep the receipt with the ledger until the audit.\n"
        "    c) in the client's file, when the client asks for a copy.\n")
    at, _doc, structure = reader(written(tmp_path / "funds.txt", text))
    assert at("Staff keep the receipt") == "Client Funds › 2 › b)"
    assert at("when the client asks") == "Client Funds › 2 › c)"
    assert "7" not in {s.marker for s in structure.sections}


@pytest.mark.parametrize("name", ["minutes.txt", "minutes.pdf"])
def test_all_caps_headings_of_a_french_document_read_in_sentence_case(tmp_path: Path, name):
    """French writes titles in sentence case: the minutes' "COMITÉ DE DÉMOLITION" and "LEVÉE DE
    LA SÉANCE" were cited "Comité De Démolition" and "Levée De La Séance". An acronym keeps its
    capitals; the resolutions' "ATTENDU QUE ..." lines made "QUE" one."""
    text = ("COMITÉ DE DÉMOLITION\n\n"
            "ATTENDU QUE la demande vise la démolition partielle du bâtiment de la SHQ;\n\n"
            "ATTENDU QUE le projet prévoit la restauration de la partie avant du bâtiment;\n\n"
            "ATTENDU QUE la SHQ a reçu la demande de la part du propriétaire du bâtiment;\n\n"
            "LEVÉE DE LA SÉANCE QUE LA SHQ ACCEPTE\n\n"
            "La séance est levée à 16 h 05, après la lecture du procès-verbal de la séance.\n")
    at, _, _ = reader(written(tmp_path / name, text))
    assert at("ATTENDU QUE la demande") == "Comité de démolition"
    assert at("La séance est levée") == "Levée de la séance que la SHQ accepte"


def test_all_caps_headings_of_an_english_or_german_document_keep_title_case(tmp_path: Path):
    """English and German write titles in title case, each with its own small words lower."""
    english = ("POLICY ON GIFTS AND LOANS\n\nStaff may not accept gifts of money from the "
               "clients they serve, and they may not lend money to them either.\n")
    at, _, _ = reader(written(tmp_path / "gifts.txt", english))
    assert at("Staff may not") == "Policy on Gifts and Loans"
    german = ("BESCHWERDEN DER KLIENTEN\n\nDie Mitarbeiter nehmen jede Beschwerde auf, die ein "
              "Klient vorbringt, und leiten sie an die Leitung weiter, die sie prüft.\n")
    at, _, _ = reader(written(tmp_path / "beschwerden.txt", german))
    assert at("Die Mitarbeiter") == "Beschwerden der Klienten"  # its nouns in capitals

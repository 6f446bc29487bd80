"""Chunk invariants on the real corpus, and sentence splitting on tricky prose."""

import re
import statistics
from pathlib import Path

import pytest
from conftest import CORPUS

from policyqa.chunks import make_chunks, split_sentences
from policyqa.config import ChunkSettings
from policyqa.documents import read_document
from policyqa.sections import parse_sections

SETTINGS = ChunkSettings()


def chunk_file(path: Path, settings: ChunkSettings = SETTINGS):
    doc = read_document(path)
    structure = parse_sections(doc)
    return doc, structure, make_chunks(doc, structure, settings)


@pytest.fixture(scope="module")
def corpus_chunks():
    return [chunk_file(p) for p in sorted(CORPUS.glob("*.txt"))]


def test_offsets_reproduce_text_exactly(corpus_chunks):
    for doc, _, chunks in corpus_chunks:
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            for s, e in c.sentences:
                assert c.start <= s < e <= c.end


def test_chunks_end_on_sentence_boundaries(corpus_chunks):
    for doc, _, chunks in corpus_chunks:
        for c in chunks:
            assert c.sentences[0][0] == c.start and c.sentences[-1][1] == c.end
            # no sentence of the document straddles a chunk boundary
            assert c.end == len(doc.text) or not doc.text[c.end].isalnum()


BULLET = re.compile(r"^[ \t]*[-*\u2022\u25aa\u25cf\u25e6\u00b7][ \t]", re.M)


def test_every_body_character_is_covered_once(corpus_chunks):
    """Everything but line-initial bullet glyphs (layout, not words) and a table of contents
    (a list of headings and pages, no passage) is in exactly one chunk."""
    for doc, structure, chunks in corpus_chunks:
        covered = bytearray(len(doc.text))
        for c in chunks:
            assert not any(covered[c.start : c.end]), f"overlap at {c.chunk_id}"
            covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        for m in BULLET.finditer(doc.text):
            covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
        for p in structure.paragraphs:
            if p.kind == "contents":
                assert not any(covered[p.start : p.end]), f"{doc.doc_id}: contents in a chunk"
                covered[p.start : p.end] = b"\x01" * (p.end - p.start)
        missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
        assert not missing, f"{doc.doc_id}: {doc.text[missing[0]:missing[0] + 40]!r}"


def test_chunk_sizes(corpus_chunks):
    words = [c.words for _, _, chunks in corpus_chunks for c in chunks]
    assert max(words) <= 250
    assert statistics.mean(words) <= 120


def test_content_never_crosses_a_top_level_section(corpus_chunks):
    for _, structure, chunks in corpus_chunks:
        for c in chunks:
            tops = {
                structure.top_level(p.section)
                for p in structure.paragraphs
                if c.start <= p.start < c.end and p.kind != "heading"
            }
            assert len(tops) <= 1, c.section_path


def test_every_chunk_has_a_citable_section(corpus_chunks):
    for doc, _, chunks in corpus_chunks:
        assert sum(1 for c in chunks if c.section_path) >= 0.9 * len(chunks), doc.doc_id


def test_long_paragraph_split_at_sentences(tmp_path: Path):
    sentence = "Staff record every contact with a client in the shared case notes system today. "
    path = tmp_path / "long.txt"
    path.write_text("Records\n\n" + sentence * 2000)  # one paragraph of 28,000 words
    doc, _, chunks = chunk_file(path)
    assert max(c.words for c in chunks) <= SETTINGS.max_words
    for c in chunks[1:]:
        assert c.text.startswith("Staff record") and c.text.endswith("today.")


def test_single_endless_sentence_still_bounded(tmp_path: Path):
    path = tmp_path / "run-on.txt"
    path.write_text("word, " * 5000)
    _, _, chunks = chunk_file(path)
    assert max(c.words for c in chunks) <= SETTINGS.max_words


def test_split_sentences_respects_abbreviations_and_markers():
    text = "A. Staff (e.g. case managers) see Dr. Smith at 3 p.m. daily. Then they leave! Ok?"
    spans = split_sentences(text, 0, len(text))
    got = [text[s:e] for s, e in spans]
    assert got == [
        "A. Staff (e.g. case managers) see Dr. Smith at 3 p.m. daily.",
        "Then they leave!",
        "Ok?",
    ]


@pytest.mark.parametrize("marker", ["ii.", "iv)", "xii.", "(iii)"])
def test_a_lower_case_roman_marker_is_not_a_sentence_of_its_own(marker):
    text = f"{marker} Food may be shared during group activities. Staff record it."
    got = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    assert got == [f"{marker} Food may be shared during group activities.", "Staff record it."]


def test_a_table_row_is_a_sentence_of_its_own():
    """Rows (cells joined by tabs: Word's, web pages', Markdown's and PDFs' tables) are not run
    together with each other or the text around them, and each is one sentence, whole."""
    text = ("Staff follow this table\nGift\tAccept?\tWho is told\nCash\tNo\tSupervisor, the same day.\n"
            "Food to share\tYes. Share it with the team.\tTeam lead\nThe rule applies to\nevery "
            "program. Ask first.")
    got = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    assert got == ["Staff follow this table", "Gift\tAccept?\tWho is told",
                   "Cash\tNo\tSupervisor, the same day.",
                   "Food to share\tYes. Share it with the team.\tTeam lead",  # a row, whole
                   "The rule applies to\nevery program.", "Ask first."]
    lead = "\tIndented line one\ncontinues here."  # a tab that indents a line is no cell's
    assert [lead[s:e] for s, e in split_sentences(lead, 0, len(lead))] == [lead.strip()]


def test_a_long_run_of_dots_splits_in_linear_time():
    """A form's dotted line, or a hostile one of 30,000 dots, took 15 s to split: the boundary
    pattern was tried from every dot. The sentences around it are as before."""
    import time

    text = "Sign here " + "." * 30_000 + " and date it. Done!! Next one."
    started = time.perf_counter()
    got = [text[s:e] for s, e in split_sentences(text, 0, len(text))]
    assert time.perf_counter() - started < 5
    assert got == ["Sign here " + "." * 30_000 + " and date it.", "Done!!", "Next one."]


def test_sentence_spans_are_trimmed():
    text = "  One sentence here.   Another one there.  "
    for s, e in split_sentences(text, 0, len(text)):
        assert not re.match(r"\s", text[s]) and not text[e - 1].isspace()


def test_chunks_under_a_title_heading_keep_to_their_chapters():
    """A Word-exported PDF whose title line holds every chapter: the chapters are what a passage
    must not cross, and no citation repeats the title the document's label already gives."""
    exported = Path(__file__).parent / "fixtures" / "exported" / "client-funds-policy.pdf"
    doc, structure, chunks = chunk_file(exported)
    assert structure.title is not None
    chapters = {structure.top_level(p.section) for p in structure.paragraphs
                if p.section != structure.title}
    assert len(chapters) >= 4 and structure.title not in chapters
    for c in chunks:
        tops = {structure.top_level(p.section) for p in structure.paragraphs
                if c.start <= p.start < c.end and p.kind != "heading"}
        assert len(tops) <= 1, c.section_path
        assert not c.section_path.startswith("Client Funds Policy \u203a"), c.section_path


def test_a_range_between_two_items_of_the_same_label_is_not_cited():
    """A passage from the "c)" of one list to the "c)" of the next under the same heading was
    cited "Procedure › c)–c)", which names nothing a reader can find: it is cited by the
    heading. A range of different labels stays ("a)–c)")."""
    from policyqa.chunks import _range_path
    from policyqa.documents import Document

    text = ("Procedure\n\na) Count the cash.\n\nb) Record it.\n\nc) Sign the sheet.\n\n"
            "Cheques are handled the same way.\n\na) Stamp the cheque.\n\nb) Record it.\n\n"
            "c) Bank it the same day.\n")
    doc = Document(doc_id="cash", path="cash.txt", title="Cash", label="cash", text=text,
                   format="txt")
    structure = parse_sections(doc)
    heading = next(s.id for s in structure.sections if s.title == "Procedure")
    items = {s.start: s.id for s in structure.sections if s.kind == "item"}
    c1, a2, c2 = (items[text.index(x)] for x in ("c) Sign", "a) Stamp", "c) Bank"))
    assert _range_path(structure, heading, [c1, heading, a2, c2]) == "Procedure"
    assert _range_path(structure, heading, [a2, c2]) == "Procedure \u203a a)\u2013c)"


def test_a_table_of_contents_is_no_passage(tmp_path):
    """A word processor's table of contents in a PDF or text file ("Purpose ........ 3") was
    chunked as text: it ranked as a passage (second for a question on debriefing notes) and
    titled a section every call-out after it sat under. Its lines are a "contents" paragraph:
    no heading, in no chunk; the document's text keeps them (a quote finds them)."""
    body = ("Staff who witness a critical incident are offered a debriefing within three "
            "working days, and what they say there does not go in their personnel file.")
    (tmp_path / "debrief.txt").write_text(
        "Critical Incident Debriefing\n\nTable of Contents\n\nPurpose ........ 3\n"
        "When a Debriefing Is Held ........ 3\nRoles ........ 4\nRecords ........ 5\n\n"
        f"Purpose\n\n{body}\n\nRecords\n\nNotes are kept by the facilitator only.\n")
    doc = read_document(tmp_path / "debrief.txt")
    structure = parse_sections(doc)
    assert not any("Contents" in s.title or "Roles" in s.title for s in structure.sections)
    chunks = make_chunks(doc, structure, ChunkSettings())
    assert chunks and not any("........" in c.text for c in chunks)
    assert any(body in c.text for c in chunks)
    assert "Roles ........ 4" in doc.text

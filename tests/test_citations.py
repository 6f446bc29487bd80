"""Citation checking and safe display (policyqa.citations), on the real corpus and index."""

from __future__ import annotations

import csv
import html
import io
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policyqa.citations import (
    MAX_CSV_BYTES,
    UploadError,
    check_batch,
    check_citation,
    parse_csv,
    parse_pairs,
    read_csv_upload,
    verdicts_csv,
)
from policyqa.cite import section_citation
from policyqa.config import load_settings
from policyqa.index import load_index
from policyqa.quotes import find_quote, sentence_start
from policyqa.render import (
    answer_doc_id,
    context_span,
    diff_html,
    escape_text,
    marked_html,
    section_export,
)

HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
RECORDS = "records are documented honestly and accurately"
RECORDS_CITE = "Longmont CM Code of Conduct, Service Approach \u203a 5"
RISKS = "These risks shall be reduced by establishment and adherence to clear policies"
RISKS_CITE = "DMH 4.12, V \u203a 4. Financial and Work Relationships \u203a A"


# ---------------------------------------------------------------- verdicts


def test_verbatim_quote_with_typographic_quotes_and_ellipsis(index):
    v = check_citation(index, f"\u201c...{RECORDS.upper()}\u2026\u201d", RECORDS_CITE)
    assert v.status == "verbatim" and v.claimed_ok is True
    assert v.citations == [RECORDS_CITE]
    assert v.source_text == RECORDS  # the document's own words, not the quote's casing
    assert not v.differences


GIFTS = ("I will not accept gifts of money or items of significant value from those I serve. "
         "I will not loan or give money to participants.")
GIFTS_CITE = "Longmont CM Code of Conduct, Client Relationships \u203a 6"


@pytest.mark.parametrize("quote, marks", [
    ("I will not accept gifts of money \u2026 from those I serve.",
     [("omitted", "\u2026", "or items of significant value")]),
    ("I will not accept gifts [...] from those I serve. I will not loan . . . to participants.",
     [("omitted", "[...]", "of money or items of significant value"),
      ("omitted", ". . .", "or give money")]),
    ("I will not loan or give money to [the people I serve].",
     [("altered", "[the people I serve]", "participants")]),
    ("\u201c[I] will not loan or give money to participants\u201d", []),
    ("[...] gifts of money or items of significant value from those I serve [\u2026]", []),
    # an insertion the quote opens or ends with stands for the sentence's words there (the
    # item's number aside)
    ("[The case manager] will not accept gifts of money",
     [("altered", "[The case manager]", "I")]),
    ("I will not loan or give money to [clients]", [("altered", "[clients]", "participants")]),
])
def test_a_quote_that_marks_its_omissions_and_insertions_is_verbatim_showing_them(
        index, quote, marks):
    """A trainer's quote from a memo leaves words out ("...", ". . .", "[...]") and puts its
    own in ("[the people I serve]", "[I]"), marked as quoting conventions mark them. Such a
    quote was "found with differences" (its "..." a word replaced) or not found at all
    ("[...]", ". . ."); it is verbatim where every other word stands, in order, and each mark
    is shown against the document's words it leaves out or stands for."""
    v = check_citation(index, quote, GIFTS_CITE)
    assert v.status == "verbatim" and v.claimed_ok is True
    assert v.citations == [GIFTS_CITE]
    assert v.source_text in GIFTS
    assert [(d.op, d.quoted, d.source) for d in v.differences] == marks
    assert verdicts_csv([v]).count("->") == len(marks)


def test_a_quote_copied_from_a_pdf_over_its_lines_is_verbatim(index):
    """Copied from the PDF, the quote keeps its viewer's line breaks and a word hyphenated at
    one: it was "found with differences" (docu-/mented against documented)."""
    v = check_citation(index, "records are docu-\nmented honestly and\naccurately", RECORDS_CITE)
    assert v.status == "verbatim" and v.claimed_ok is True and not v.differences
    v = check_citation(index, "I will not accept gifts of mon-\ney \u2026 from those I serve.")
    assert v.status == "verbatim"
    assert [(d.op, d.source) for d in v.differences] == [
        ("omitted", "or items of significant value")]


@pytest.mark.parametrize("quote", [
    "I will not accept gifts of money \u2026 from clients",  # the words after it are not there
    "I will not loan or give money to [them] ever again",  # nor after the bracket
    "[The case manager] will not accept gifts from clients",  # nor after an opening one
    # an ellipsis that would leave out over a thousand characters (three sections) joins two
    # places: no verbatim quote
    "I will not accept gifts \u2026 from those I serve \u2026 I will remain aware of my own skills",
])
def test_a_quote_whose_marks_hide_other_changes_is_not_verbatim(index, quote):
    assert check_citation(index, quote).status != "verbatim"


def test_quote_found_in_several_places_lists_every_citation(index):
    v = check_citation(index, "dual relationship")
    assert v.status == "verbatim" and len(v.matches) == 2 and v.claimed_ok is None
    assert v.citations == ["Longmont CM Code of Conduct, Client Relationships \u203a 3"]


def test_a_quote_over_two_items_cites_both(index):
    """Words that run from item 5 into item 6 are cited "› 5–6", as a passage over them is, not
    by the first item alone."""
    quote = "sexual or intimate relationship. 6. I will not accept gifts of money"
    [match] = find_quote(index, quote)
    assert match.citation == "Longmont CM Code of Conduct, Client Relationships \u203a 5\u20136"
    [inside] = find_quote(index, "I will not loan or give money to participants")
    assert inside.citation == "Longmont CM Code of Conduct, Client Relationships \u203a 6"


def test_spanned_path_names_the_common_section_and_the_items_crossed():
    from policyqa.cite import spanned_path

    assert spanned_path(["A \u203a 3. Gifts \u203a b"]) == "A \u203a 3. Gifts \u203a b"
    assert spanned_path(["A \u203a 1", "A \u203a 2"]) == "A \u203a 1\u20132"
    assert spanned_path(["A \u203a b", "A \u203a b \u203a i"]) == "A \u203a b"
    assert spanned_path(["2. Gifts", "3. Records"]) == ""  # headings, not items: the document
    assert spanned_path(["1", "2 \u203a a"]) == "1\u20132"


def test_quote_with_differences_gives_word_diff(index):
    quote = ("I will maintain the required documentation in every participant record making "
             "sure that records are documented honestly and accurately")
    v = check_citation(index, quote, RECORDS_CITE)
    assert v.status == "differences" and v.claimed_ok is True
    assert v.source_text == ("I will maintain required documentation in all participant records "
                             "making certain that records are documented honestly and accurately.")
    assert [(d.op, d.quoted, d.source) for d in v.differences] == [
        ("delete", "the", ""), ("replace", "every", "all"), ("replace", "record", "records"),
        ("replace", "sure", "certain"),
    ]
    # both sides rebuild from the diff: the quote's words, and the document's words
    assert " ".join(d.quoted for d in v.diff if d.quoted) == quote
    assert " ".join(d.source for d in v.diff if d.source) == v.source_text
    doc = index.documents[v.matches[0].doc_id]
    assert doc.text[v.matches[0].start : v.matches[0].end] == v.source_text


@pytest.mark.parametrize("quote", [
    "Staff should always hug clients warmly at every visit to build trust",
    "The quick brown fox jumps over the lazy dog",
    "   ",
    "\u201c\u201d",
])
def test_quote_not_in_corpus(index, quote):
    v = check_citation(index, quote, "DMH 4.12")
    assert v.status == "not_found" and not v.matches and v.claimed_ok is None


@pytest.mark.parametrize(("claimed", "ok"), [
    (RISKS_CITE, True),
    ("DMH 4.12, V \u203a 4 \u203a A", True),
    ("DMH 4.12, V.4.A", True),
    ("DMH 4.12 section V(4)(A)", True),
    ("DMH 4.12, Financial and Work Relationships", True),
    ("dmh-4.12-service-relationships, V > 4 > A", True),
    ("Parameters for Service Relationships, V.4.A", True),
    ("DMH 4.12", True),  # document-level: coarse, not wrong
    ("DMH 4.12, V \u203a 4 \u203a B", False),
    ("DMH 4.12, V \u203a 3. Emotional Healing \u203a A", False),
    ("DMH 4.13, V \u203a 4 \u203a A", False),
    ("MISSION Toolkit", False),
    ("DMH, V.4.A", False),  # which DMH document? too vague to accept
])
def test_claimed_citation_compared_loosely(index, claimed, ok):
    assert check_citation(index, RISKS, claimed).claimed_ok is ok


@pytest.mark.parametrize(("claimed", "ok"), [
    ("Longmont Code of Conduct, Service Approach, 5", True),
    ("Longmont CM Code of Conduct \u00a75", True),
    ("Longmont CM Code of Conduct, Client Relationships \u203a 5", False),
    ("Longmont CM Code of Conduct, Service Approach \u203a 4", False),
])
def test_claimed_citation_for_numbered_items(index, claimed, ok):
    assert check_citation(index, RECORDS, claimed).claimed_ok is ok


# ---------------------------------------------------------------- batches and CSV


def test_parse_pairs_lines():
    text = ("a quote | DMH 4.12, V \u203a 4\n\n   \nquote | with | pipes | Longmont CM Code\n"
            "no citation here\n")
    assert parse_pairs(text) == [
        ("a quote", "DMH 4.12, V \u203a 4"),
        ("quote | with | pipes", "Longmont CM Code"),
        ("no citation here", ""),
    ]


def test_parse_csv_with_and_without_header():
    with_header = '\ufeffCitation,Quote\r\n"DMH 4.12, V \u203a 4","a, quoted ""thing"""\r\n,x\r\n'
    assert parse_csv(with_header.encode("utf-8")) == [
        ("a, quoted \"thing\"", "DMH 4.12, V \u203a 4"), ("x", ""),
    ]
    assert parse_csv("one,DMH 4.13\ntwo\n\n") == [("one", "DMH 4.13"), ("two", "")]
    assert parse_csv("quote\nonly quotes\n") == [("only quotes", "")]
    assert parse_csv("") == []


@pytest.mark.parametrize(("name", "data", "pairs"), [
    ("quotes.CSV", "quote,citation\n\u00e9t\u00e9,DMH 4.12\n".encode("utf-16"),
     [("\u00e9t\u00e9", "DMH 4.12")]),
    ("../../corpus/x.csv", "quote\nna\u00efve\n".encode("cp1252"), [("na\u00efve", "")]),
])
def test_csv_upload_decoded_like_documents(name, data, pairs):
    """Any text encoding the corpus accepts; the name is only checked, never opened."""
    assert read_csv_upload(name, data) == pairs


def test_csv_upload_of_exactly_the_limit_is_read():
    data = b"quote\n" + b"ab\n" * ((MAX_CSV_BYTES - 6) // 3)
    data += b"c" * (MAX_CSV_BYTES - len(data))
    assert len(data) == MAX_CSV_BYTES
    assert len(read_csv_upload("q.csv", data)) == (MAX_CSV_BYTES - 6) // 3 + 1


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("quotes.txt", b"quote\nx\n", "only .csv files are accepted"),
    ("quotes.csv\x00.txt", b"quote\nx\n", "only .csv files are accepted"),
    ("big.csv", b"x" * (MAX_CSV_BYTES + 1), "the file has 1,048,577 bytes, over the limit of 1,048,576"),
    ("e.csv", b"", "empty file (0 bytes)"),
    ("w.csv", b" \n\t", "no text (whitespace only)"),
    ("bin.csv", bytes(range(256)) * 4, "binary content (NUL bytes), not a text CSV file"),
    ("long.csv", b"x" * 200_000, "not a readable CSV (field larger than field limit (131072))"),
])
def test_csv_upload_refused_with_one_line_reason(name, data, reason):
    with pytest.raises(UploadError) as exc:
        read_csv_upload(name, data)
    assert str(exc.value) == reason


def test_batch_verdicts_round_trip_through_csv(index):
    pairs = [(RECORDS, RECORDS_CITE), ("", "skipped"),
             ("I will not accept gifts of money or items of great value", "Longmont CM Code of "
              "Conduct, Client Relationships \u203a 6"),
             ("Staff should always hug clients warmly at every visit", "DMH 4.13")]
    verdicts = check_batch(index, pairs)
    assert [v.status for v in verdicts] == ["verbatim", "differences", "not_found"]
    rows = list(csv.DictReader(io.StringIO(verdicts_csv(verdicts))))
    assert [r["verdict"] for r in rows] == ["found verbatim", "found with differences", "not found"]
    assert [r["claimed_citation_matches"] for r in rows] == ["yes", "yes", ""]
    assert rows[0]["true_citations"] == RECORDS_CITE
    assert rows[1]["differences"] == "great -> significant"
    assert rows[1]["quote"].startswith("I will not accept")


# ---------------------------------------------------------------- safe display


HOSTILE_STRINGS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
    "<a href=\"javascript:alert(1)\">x</a>", "$x^2$ :red[alert] **b** `c` | t |", "a & b &amp; c",
    "<iframe srcdoc=\"<script>parent.x=1</script>\">", "line\n\n    indented\n# heading",
]


def visible(markup: str) -> str:
    """What a browser shows for our markup: tags removed, <br> as newlines, entities decoded."""
    text = re.sub(r"<br>", "\n", markup)
    text = re.sub(r"</?(?:div|mark)[^>]*>", "", text)
    return html.unescape(text)


@pytest.mark.parametrize("text", HOSTILE_STRINGS)
def test_escape_text_is_inert_and_faithful(text):
    out = escape_text(text)
    assert "<" not in out.replace("<br>", "") and ">" not in out.replace("<br>", "")
    assert "\n" not in out  # one line: stays a single raw-HTML block in markdown
    assert not re.search(r"[\[\]`*$|:_~\\]", out)  # no markdown syntax left
    assert html.unescape(out.replace("<br>", "\n")) == text


@given(st.text(max_size=80), st.data())
def test_marked_html_keeps_text_and_marks_exact_spans(text, data):
    s = data.draw(st.integers(0, len(text)))
    e = data.draw(st.integers(s, len(text)))
    out = marked_html(text, [(s, e, "pq-answer")])
    assert visible(out) == text
    inside = "".join(re.findall(r'<mark class="pq-answer">(.*?)</mark>', out))
    assert html.unescape(inside.replace("<br>", "\n")) == text[s:e]


def test_marked_html_nested_spans_and_entities_at_edges():
    text = "a&b<c>d"
    out = marked_html(text, [(1, 6, "pq-passage"), (2, 4, "pq-answer")])
    assert out == ('<div class="pq-text">a<mark class="pq-passage">&amp;</mark>'
                   '<mark class="pq-passage"><mark class="pq-answer">b&lt;</mark></mark>'
                   '<mark class="pq-passage">c&gt;</mark>d</div>')


def test_diff_html_escapes_both_sides():
    from policyqa.citations import WordDiff

    diff = [WordDiff("equal", "a <b>", "a <b>"), WordDiff("replace", "[x]", "<i>")]
    assert diff_html(diff, "quoted") == (
        '<div class="pq-text">a &lt;b&gt; <mark class="pq-diff">&#91;x&#93;</mark></div>')
    assert diff_html(diff, "source") == (
        '<div class="pq-text">a &lt;b&gt; <mark class="pq-diff">&lt;i&gt;</mark></div>')


# ---------------------------------------------------------------- helpers the page uses


def test_sentence_start_locates_each_occurrence(index):
    for m in find_quote(index, "confidentiality"):
        at = sentence_start(index, m)
        text = index.documents[m.doc_id].text
        assert text[at : at + len(m.sentence)] == m.sentence
        assert at <= m.start and m.end <= at + len(m.sentence)


def test_answer_doc_id_from_citation(index):
    assert answer_doc_id(index, RECORDS_CITE) == "longmont-case-management-code-of-conduct"
    assert answer_doc_id(index, "DMH 4.13") == "dmh-4.13-peer-advocates"
    assert answer_doc_id(index, "Unknown, 1") is None


def test_section_citation_and_export(index):
    doc_id = "dmh-4.12-service-relationships"
    structure = index.structures[doc_id]
    sid = next(s.id for s in structure.sections if structure.path_text(s.id).endswith(
        "Financial and Work Relationships \u203a A"))
    assert section_citation(index.documents[doc_id], structure, sid) == RISKS_CITE
    txt = section_export(index, doc_id, sid, "txt")
    assert txt.startswith("A. These risks shall be reduced")
    assert f"\u2014 {RISKS_CITE}\n" in txt
    assert "County of Los Angeles Department of Mental Health" in txt
    md = section_export(index, doc_id, sid, "md")
    assert md.startswith("> A. These risks shall be reduced") and RISKS_CITE in md
    whole = section_export(index, doc_id, 0, "txt")
    assert whole.startswith(index.documents[doc_id].text.strip("\n")[:200])


def test_context_span_cuts_at_line_or_word_boundaries():
    text = "alpha beta gamma\ndelta epsilon zeta eta theta\niota kappa lambda"
    start = text.index("zeta")
    lo, hi = context_span(text, start, start + 4, chars=12)
    assert text[lo:hi] == "epsilon zeta eta theta"  # no line break in reach: cut at a space
    lo, hi = context_span(text, start, start + 4, chars=20)
    assert text[lo:hi] == "delta epsilon zeta eta theta"  # line breaks in reach
    lo, hi = context_span("one two three four five six", 8, 13, chars=5)
    assert "one two three four five six"[lo:hi] == "two three four"
    assert context_span("short", 0, 5) == (0, 5)


# ---------------------------------------------------------------- a hostile document


@pytest.fixture(scope="module")
def hostile_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    shutil.copytree(HOSTILE, root / "corpus")
    return load_index(load_settings(root / "corpus", root / "index"))


def test_hostile_quote_checked_verbatim_and_displayed_inert(hostile_index):
    quote = ("Visitors must sign in at the front desk before meeting any participant. "
             "<script>document.title=")
    v = check_citation(hostile_index, quote, "<b>Visitor</b> Notice, Signing In")
    assert v.status == "verbatim" and v.claimed_ok is True
    m = v.matches[0]
    out = marked_html(m.sentence, [(m.start - sentence_start(hostile_index, m),
                                    m.end - sentence_start(hostile_index, m), "pq-answer")])
    assert "<script" not in out and "&lt;script&gt;document.title=" in out
    assert visible(out) == m.sentence


@pytest.fixture(scope="module")
def exported_index(tmp_path_factory):
    root = tmp_path_factory.mktemp("exported")
    (root / "corpus").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "exported" / "client-funds-policy.pdf",
                root / "corpus")
    return load_index(load_settings(root / "corpus", root / "index"))


def test_citation_under_a_title_heading_names_the_chapter_and_old_claims_still_match(
        exported_index):
    """The PDF's title line holds every chapter: the citation starts at the chapter. A claim
    copied from a citation that still named the title ("..., Client Funds Policy › 3.3 ...")
    points to the same place and is accepted; a wrong section is not."""
    doc = exported_index.documents["client-funds-policy"]
    at = doc.text.find("Rule 18. ")
    quote = doc.text[at : doc.text.find("\n", at)]
    v = check_citation(exported_index, quote, "")
    assert [m.citation for m in v.matches] == [
        "client-funds-policy, 3. Handling Client Money \u203a 3.3 Loans and Gifts, p. 4"]
    for claimed, ok in [
        ("client-funds-policy, Client Funds Policy \u203a 3. Handling Client Money \u203a 3.3 "
         "Loans and Gifts, p. 4", True),
        ("Client Funds Policy, 3.3 Loans and Gifts", True),
        ("Client Funds Policy \u203a 3.2 Safekeeping", False),
    ]:
        assert check_citation(exported_index, quote, claimed).claimed_ok is ok, claimed


@pytest.fixture(scope="module")
def paged_index(tmp_path_factory):
    """A manual whose front matter is numbered i, ii and its policies 1, 2, 3 (the paged
    fixtures: LibreOffice's PDF of a laid-out Word file)."""
    root = tmp_path_factory.mktemp("paged")
    (root / "corpus").mkdir()
    shutil.copy(Path(__file__).parent / "fixtures" / "paged" / "handbook.pdf", root / "corpus")
    return load_index(load_settings(root / "corpus", root / "index"))


@pytest.mark.parametrize("quote, claimed, ok", [
    ("Rule 2 of gifts: staff follow this rule at every visit", None, True),  # its own citation
    ("Rule 2 of gifts: staff follow this rule at every visit", "handbook, 1. Gifts, p. 3",
     True),  # the place in the file, as a PDF viewer numbers it
    ("Rule 2 of gifts: staff follow this rule at every visit", "handbook, 1. Gifts, pp. 1-2",
     True),
    ("Rule 2 of gifts: staff follow this rule at every visit", "handbook, 1. Gifts, p. 2", False),
    ("Contents line 24: a policy of this handbook", "handbook, p. ii", True),
    ("Contents line 24: a policy of this handbook", "handbook, p. i", False),
    ("Contents line 24: a policy of this handbook", "handbook, pp. i-iii", True),
])
def test_a_claimed_page_is_the_number_printed_on_it_or_its_place_in_the_file(
        paged_index, quote, claimed, ok):
    """Pages are cited by the number printed on them ("p. 1" for the manual's first policy
    page, its third in the file), but a claimed page was compared with the place in the file:
    policyqa's own citation, pasted back, "did not match", and a front matter's "p. ii" was
    not read as a page at all."""
    v = check_citation(paged_index, quote)
    assert v.status == "verbatim"
    claim = claimed or v.citations[0]
    if claimed is None:
        assert claim.endswith(", p. 1")
    assert check_citation(paged_index, quote, claim).claimed_ok is ok

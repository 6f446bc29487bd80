"""The Streamlit page, tab by tab, through streamlit.testing.v1.AppTest (no browser).

The page runs against the real corpus and index (POLICYQA_CORPUS / POLICYQA_INDEX point it
elsewhere for the hostile-document test). The model itself stays loaded across tests
(policyqa.index keeps it per process), so clearing st.cache_resource only reloads the index files.
"""

from __future__ import annotations

import re
import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from policyqa.config import ROOT

APP = str(ROOT / "app.py")
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
RECORDS_Q = "How should I keep participant records?"


@pytest.fixture(autouse=True)
def fresh_caches(monkeypatch):
    """Each test loads the index through the page; the default corpus unless a test says so."""
    monkeypatch.delenv("POLICYQA_CORPUS", raising=False)
    monkeypatch.delenv("POLICYQA_INDEX", raising=False)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture
def app(index) -> AppTest:
    """The page, run once (the shared `index` fixture makes sure the real index is built)."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception
    return at


ASK, LOOKUP, CHECK = 0, 1, 2  # the tabs, in page order


def page_html(at) -> list[str]:
    """Every markdown element's source (in the page or one tab), except the page's stylesheet."""
    return [m.value for m in at.markdown if not m.value.startswith("<style>")]


def open_tab(at: AppTest, name: str) -> AppTest:
    """Switch to a tab (the page computes only the open one)."""
    at.session_state["tab"] = name
    return at.run()


def codes(at) -> list[str]:
    return [c.value for c in at.code]


def marked(at, cls: str = "pq-answer") -> list[str]:
    """The escaped text inside <mark class=cls> highlights, in page order."""
    found = []
    for value in page_html(at):
        found += re.findall(rf'<mark class="{cls}">(.*?)</mark>', value)
    return found


def test_question_gives_cited_passage_with_highlight(app):
    app.text_input(key="question").input(RECORDS_Q).run()
    assert not app.exception
    tab = app.tabs[ASK]
    citations = codes(tab)
    assert citations[0] == "Longmont CM Code of Conduct, Service Approach \u203a 5"
    answer = marked(tab)[0]
    assert "records are documented honestly and accurately" in answer
    card = next(v for v in page_html(tab) if "pq-answer" in v)
    assert card.startswith('<div class="pq-text">')
    assert any("Case Management Ethics Guidelines and Code of Conduct Agreement" in v
               for v in page_html(tab))
    assert any(c.value.startswith("Answered in ") and " ms " in c.value for c in tab.caption)
    assert not tab.warning
    # further passages: each with its citation and a "show in context" expander
    assert len(citations) == 5  # k=5: the answer's passage plus four more
    assert [e.label for e in tab.expander].count("Show in context") == 5
    assert "Further passages" in [h.value for h in tab.subheader]
    # the context view marks the passage and the answer inside the surrounding text
    assert any("pq-passage" in v and "pq-answer" in v for v in page_html(tab))


def test_example_question_and_sidebar_k(app):
    app.sidebar.slider(key="k").set_value(3)
    app.pills(key="example").set_value("Can staff accept gifts from clients?").run()
    assert not app.exception
    assert app.text_input(key="question").value == "Can staff accept gifts from clients?"
    assert codes(app.tabs[ASK])[0] == "Longmont CM Code of Conduct, Client Relationships \u203a 6"
    assert "I will not accept gifts of money" in marked(app.tabs[ASK])[0]
    assert len(codes(app.tabs[ASK])) == 3


def test_off_topic_question_abstains_and_lists_weak_matches(app):
    app.text_input(key="question").input("What is the overtime pay rate for weekend shifts?").run()
    assert not app.exception
    tab = app.tabs[ASK]
    assert len(tab.warning) == 1
    assert "don't appear to cover this question" in tab.warning[0].value
    assert "Closest passages (weak matches)" in [h.value for h in tab.subheader]
    assert len(codes(tab)) == 5 and not marked(tab)  # passages listed, none presented as answer


def test_document_filter_restricts_passages(app):
    app.sidebar.multiselect(key="docs").set_value(["DMH 4.12"])
    app.sidebar.selectbox(key="mode").set_value("bm25")
    app.text_input(key="question").input(RECORDS_Q).run()
    assert not app.exception
    citations = codes(app.tabs[ASK])
    assert citations and all(c.startswith("DMH 4.12") for c in citations)
    assert any("(bm25, k=5)" in c.value for c in app.caption)


def test_phrase_search_lists_every_occurrence(app, index):
    expected = sum(len(re.findall(r"(?i)confidentiality", d.text))
                   for d in index.documents.values())
    assert expected >= 8
    open_tab(app, "Look up wording")
    app.text_input(key="phrase").input("CONFIDENTIALITY").run()
    assert not app.exception
    assert app.success[0].value == f"{expected} exact occurrence(s)."
    hits = marked(app)
    assert len(hits) == expected and all(h.casefold() == "confidentiality" for h in hits)
    labels = {c.split(",")[0] for c in codes(app.tabs[LOOKUP])}
    assert {"DMH 4.12", "DMH 4.13", "Longmont CM Code of Conduct", "MISSION Toolkit"} <= labels
    # restricted to one document through the sidebar
    app.sidebar.multiselect(key="docs").set_value(["DMH 4.13"]).run()
    only = len(re.findall(r"(?i)confidentiality", index.documents["dmh-4.13-peer-advocates"].text))
    assert app.success[0].value == f"{only} exact occurrence(s)."
    # no exact occurrence: approximate matches, marked as such
    app.sidebar.multiselect(key="docs").set_value([])
    app.text_input(key="phrase").input("records are documented honest and accurately").run()
    assert "No exact occurrence" in app.warning[0].value
    assert any("Approximate match" in v for v in page_html(app))


def test_browse_a_section_and_download(app, index):
    open_tab(app, "Look up wording")
    app.selectbox(key="browse_doc").set_value("Longmont CM Code of Conduct").run()
    structure = index.structures["longmont-case-management-code-of-conduct"]
    sid = next(s.id for s in structure.sections
               if structure.path_text(s.id) == "Service Approach \u203a 5")
    app.selectbox(key="section-longmont-case-management-code-of-conduct").set_value(sid).run()
    assert not app.exception
    assert codes(app.tabs[LOOKUP])[-1] == "Longmont CM Code of Conduct, Service Approach \u203a 5"
    assert any("documented honestly and accurately" in v and "pq-answer" not in v
               for v in page_html(app))
    toc = next(e for e in app.expander if e.label == "Table of contents")
    assert "Client Relationships" in toc.markdown[0].value
    assert [b.label for b in app.get("download_button")] == ["Download .txt", "Download .md"]


def test_go_to_a_section_by_its_number_as_a_memo_cites_it(app, index):
    """A supervisor names a numbered paragraph as a memo does ("V.4.A"): it opens, its citation
    and words shown. Picking from the section box (every section of the document, in a long
    list) was the only way; the box stays the reader's to change afterwards."""
    open_tab(app, "Look up wording")
    app.selectbox(key="browse_doc").set_value("DMH 4.12").run()
    app.text_input(key="goto-dmh-4.12-service-relationships").input("V.4.A").run()
    assert not app.exception
    assert codes(app.tabs[LOOKUP])[-1] == ("DMH 4.12, V \u203a 4. Financial and Work "
                                           "Relationships \u203a A")
    assert any("These risks shall be reduced by establishment" in v for v in page_html(app))
    app.selectbox(key="section-dmh-4.12-service-relationships").set_value(1).run()
    assert codes(app.tabs[LOOKUP])[-1] != ("DMH 4.12, V \u203a 4. Financial and Work "
                                           "Relationships \u203a A")
    app.text_input(key="goto-dmh-4.12-service-relationships").input("Z.9").run()
    assert "No section of DMH 4.12 matches 'Z.9'" in app.info[0].value


def test_check_a_citation_single(app):
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("One quote")
    quote = app.text_area(key="quote")
    claimed = app.text_input(key="claimed")

    quote.input("\u201crecords are documented honestly and accurately\u201d")
    claimed.input("Longmont CM Code of Conduct, Service Approach \u203a 5")
    app.button(key="check").click().run()
    assert not app.exception
    assert app.success[0].value.startswith("Found verbatim")
    assert "citation matches" in app.success[1].value
    assert codes(app.tabs[CHECK]) == ["Longmont CM Code of Conduct, Service Approach \u203a 5"]

    app.text_area(key="quote").input(
        "I will maintain the required documentation in every participant record making sure "
        "that records are documented honestly and accurately")
    app.text_input(key="claimed").input("DMH 4.12, V \u203a 4 \u203a A")
    app.button(key="check").click().run()
    assert app.warning[0].value.startswith("Found with differences")
    assert "does not match" in app.error[0].value
    table = app.dataframe[-1].value
    pairs = set(zip(table["Quoted"], table["Document"], strict=True))
    assert {("every", "all"), ("sure", "certain"), ("the", "(nothing)")} <= pairs
    assert "every" in marked(app, "pq-diff") and "all" in marked(app, "pq-diff")

    # a quote that marks what it leaves out: verbatim, the omitted words shown beside its mark
    app.text_area(key="quote").input(
        "I will not accept gifts of money \u2026 from those I serve.")
    app.text_input(key="claimed").input("Longmont CM Code of Conduct, Client Relationships 6")
    app.button(key="check").click().run()
    assert app.success[0].value.startswith("Found verbatim (1 place(s)), but for what the quote")
    table = app.dataframe[-1].value
    assert list(zip(table["Quoted"], table["Document"], strict=True)) == [
        ("\u2026", "or items of significant value")]
    assert "or items of significant value" in marked(app, "pq-diff")

    app.text_area(key="quote").input("Staff should always hug clients warmly at every visit")
    app.button(key="check").click().run()
    assert app.error[0].value.startswith("Not found")
    assert len(app.error) == 1  # no claim verdict when the words are not there


def test_check_citations_in_batch(app):
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("Several quotes").run()
    app.text_area(key="batch").input(
        "records are documented honestly and accurately | Longmont CM Code of Conduct, "
        "Service Approach \u203a 5\n"
        "I will not accept gifts of money or items of great value | Longmont CM Code of Conduct\n"
        "Staff should always hug clients warmly at every visit | DMH 4.13\n").run()
    assert not app.exception
    rows = app.dataframe[0].value
    assert list(rows["verdict"]) == ["found verbatim", "found with differences", "not found"]
    assert list(rows["claimed_citation_matches"]) == ["yes", "yes", ""]
    assert app.get("download_button")[-1].label == "Download verdicts (CSV)"


def test_hostile_document_is_shown_as_text(tmp_path, monkeypatch):
    corpus = tmp_path / "corpus"
    shutil.copytree(HOSTILE, corpus)
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    monkeypatch.setenv("POLICYQA_INDEX", str(tmp_path / "index"))
    at = AppTest.from_file(APP, default_timeout=120).run()  # builds the index on first run
    assert not at.exception
    assert (tmp_path / "index" / "current" / "manifest.json").exists()
    at.text_input(key="question").input("Can visitors give gifts to staff?").run()
    shown = "".join(page_html(at))
    assert marked(at)[0].startswith("Staff may not accept gifts from visitors")  # the answer
    open_tab(at, "Look up wording")  # the whole document is open there by default
    at.text_input(key="phrase").input("script").run()
    assert not at.exception
    # each "script" (and "javascript") of the canonical text, marked, as escaped text; those in
    # "[visitor form](javascript:...)", "[the sign-in form](javascript:...)", the reference
    # link's definition line "[help]: javascript:..." and the Markdown file's HTML link
    # '<a href="javascript:...">' went at ingestion, with the rest of the link syntax and
    # HTML's own tags (the link text stays); <script> is no text a page shows: it stays words
    assert len(marked(at)) == 7
    shown += "".join(page_html(at))
    at.selectbox(key="browse_doc").set_value("visitor-sign-in").run()  # the plain-text document
    shown += "".join(page_html(at))
    for raw in ("<script", "<img", "<iframe", "<a ", "<style", "<b>", "javascript:", "](", "]["):
        assert raw not in shown, raw
    for text in ("&lt;script&gt;", "&lt;img src=x onerror=", "&lt;iframe srcdoc=",
                 "Click the sign-in sheet to print", "javascript&#58;",
                 "and the help page before every visit", "&#36;x^2&#36;",
                 "&#58;red&#91;red alert&#93;", "and bold claims",
                 "Visitor Notice &lt;img src=x onerror=&quot;document.title=&#x27;PWNED-TITLE",
                 "Front Desk &lt;script&gt;",
                 "!&#91;badge&#93;(x&quot; onerror=", "&lt;svg onload=&quot;window.&#95;&#95;pwned=1",
                 "&lt;img src=x onerror=&quot;window.&#95;&#95;pwned=1;alert(7)&quot;&gt;"):
        assert text in shown, text
    # citations are plain text in code blocks, never markup
    assert any(c.startswith("<b>Visitor</b> Notice, Visitor Notice <script>") for c in codes(at))


HOSTILE_INPUT = '<img src=x onerror="window.__pwned=1"> [link](javascript:alert(1)) **bold** $x$'


def test_hostile_user_input_is_shown_as_text(app):
    """What a user types reaches markup only as escaped text (here: the quoted side of a diff)."""
    app.text_input(key="question").input(HOSTILE_INPUT + " gifts from clients").run()
    assert not app.exception and codes(app.tabs[ASK])  # answered from the documents
    open_tab(app, "Look up wording")
    app.text_input(key="phrase").input(HOSTILE_INPUT).run()
    assert not app.exception
    shown = page_html(app)
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("One quote")
    app.text_area(key="quote").input(
        "I will maintain the required documentation in every participant record making sure that "
        f"records are documented {HOSTILE_INPUT} honestly and accurately")
    app.text_input(key="claimed").input(HOSTILE_INPUT)
    app.button(key="check").click().run()
    assert not app.exception
    assert app.warning[0].value.startswith("Found with differences")
    shown += page_html(app)
    quoted = " ".join(marked(app, "pq-diff"))
    assert "&lt;img src=x onerror=&quot;window.&#95;&#95;pwned=1&quot;&gt;" in quoted
    assert "&#91;link&#93;(javascript&#58;alert(1))" in quoted and "&#42;&#42;bold&#42;&#42;" in quoted
    for raw in ("<img", "javascript:", "](", "**bold", "$x$"):
        assert raw not in "".join(shown), raw


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in folder.rglob("*")}


def test_csv_upload_is_checked_in_memory_and_never_stored(app, tmp_path, monkeypatch):
    """An uploaded CSV is parsed, never written: its name (here a traversal) is not used as a path."""
    monkeypatch.chdir(tmp_path)  # a relative write would land here
    corpus = ROOT / "corpus"
    before = _snapshot(corpus)
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("Several quotes").run()
    uploader = app.get("file_uploader")[0]
    assert uploader.proto.type == [".csv"] and uploader.proto.max_upload_size_mb == 1
    assert "up to 1 MB" in uploader.label
    name = "../../corpus/longmont-case-management-code-of-conduct.csv"
    rows = ("quote,citation\nrecords are documented honestly and accurately,"
            "Longmont CM Code of Conduct\n\"<img src=x onerror=alert(1)>\",\"[x](javascript:alert(1))\"\n")
    uploader.set_value((name, rows.encode(), "text/csv")).run()
    assert not app.exception
    table = app.dataframe[0].value
    assert list(table["verdict"]) == ["found verbatim", "not found"]
    assert list(table["claimed_citation"])[1] == "[x](javascript:alert(1))"  # a cell: plain text
    assert _snapshot(corpus) == before and not list(tmp_path.iterdir())
    assert not (ROOT / name).exists() and not (ROOT.parent / "corpus").exists()


@pytest.mark.parametrize(("name", "data", "reason"), [
    ("big.csv", b"quote,citation\n" + b"x" * (1024 * 1024),
     "the file has 1,048,591 bytes, over the limit of 1,048,576"),
    ("binary.csv", b"quote\x00,citation\x00\x01\x02" * 40, "binary content (NUL bytes), not a text CSV file"),
    ("empty.csv", b"", "empty file (0 bytes)"),
])
def test_csv_upload_over_the_limit_or_not_text_is_refused(app, name, data, reason):
    """The size limit and the text check hold in the page itself, not only in the browser's widget."""
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("Several quotes").run()
    app.get("file_uploader")[0].set_value((name, data, "text/csv")).run()
    assert not app.exception
    assert [e.value for e in app.error] == [f"The CSV file was not read: {reason}."]
    assert not app.dataframe


def test_csv_upload_of_another_type_is_refused(app):
    """Only .csv: Streamlit refuses other extensions before the page sees the file."""
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("Several quotes").run()
    app.get("file_uploader")[0].set_value(("notes.txt", b"quote\nrecords", "text/plain")).run()
    assert app.exception and "notes.txt" not in "".join(page_html(app))
    assert not app.dataframe


def test_batch_checks_at_most_max_batch_quotes(app, monkeypatch):
    """A long batch is cut to MAX_BATCH quotes, and the page says so."""
    from policyqa import citations

    monkeypatch.setattr(citations, "MAX_BATCH", 2)
    open_tab(app, "Check a citation")
    app.radio(key="check_mode").set_value("Several quotes").run()
    app.text_area(key="batch").input("records are documented\ngifts of money\nconfidentiality\n").run()
    assert not app.exception
    assert app.warning[0].value == "3 quotes given: only the first 2 are checked."
    assert len(app.dataframe[0].value) == 2


def test_a_passage_kept_twice_shows_its_copy_cited(tmp_path, monkeypatch):
    """A policy saved twice (a second file of the same words, its name holding markup): one
    passage, and the other file cited beside it as text."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    words = ("Staff may not accept gifts from clients or their families, whatever the value. "
             "A gift offered is declined politely and recorded in the client's file.\n")
    (corpus / "gifts.md").write_text("# Gifts\n\n" + words)
    (corpus / "gifts <i>copy.txt").write_text("Gifts\n\n" + words.replace(". ", ".\n"))
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    monkeypatch.setenv("POLICYQA_INDEX", str(tmp_path / "index"))
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.text_input(key="question").input("Can I accept a gift from a client?").run()
    assert not at.exception
    shown = "".join(page_html(at))
    assert "Same words also in&#58; gifts &lt;i&gt;copy, Gifts" in shown, shown
    assert "<i>copy" not in shown
    assert not at.subheader  # no "Further passages": the copy is not listed again


@pytest.mark.parametrize("why", ["read-only", "not mounted"])
def test_an_index_the_server_cannot_rebuild_answers_and_says_so(why, tmp_path, monkeypatch):
    """The page's server may read an index and not write it, or not see its corpus folder (a
    share not mounted there): after a policy is added, it answers from the index as it stands
    and says so, where it showed only the build's error."""
    from conftest import unwritable

    from policyqa.config import load_settings
    from policyqa.index import load_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "gifts.md").write_text("# Gifts\n\nStaff may not accept gifts from clients.\n")
    load_index(load_settings(corpus, tmp_path / "index"))
    (corpus / "parking.md").write_text("# Parking\n\nStaff park in lot B.\n")
    monkeypatch.setenv("POLICYQA_CORPUS", str(corpus))
    monkeypatch.setenv("POLICYQA_INDEX", str(tmp_path / "index"))
    if why == "not mounted":
        corpus.rename(tmp_path / "elsewhere")
    with unwritable(tmp_path / "index") if why == "read-only" else nullcontext():
        at = AppTest.from_file(APP, default_timeout=120).run()
        at.text_input(key="question").input("Can I accept a gift from a client?").run()
    assert not at.exception and not at.error
    [warning] = at.warning
    assert "which may not hold the policies' latest changes" in warning.value
    assert ("cannot rebuild it (no permission to write" if why == "read-only"
            else "cannot rebuild it (corpus folder not found") in warning.value
    assert marked(at)[0] == "Staff may not accept gifts from clients."

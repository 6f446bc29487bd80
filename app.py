"""policyqa's page: ask, look up exact wording, check a citation.

A thin shell over the library (answers.ask, quotes.find_quote, citations.*): every word shown
comes from a source document, with its citation. Document text only reaches the page through
render.marked_html / escape_text / diff_html, which HTML-escape it before adding highlights.
The one upload (a CSV of quotes to check, at most 1 MB) is read in memory and never stored.
Run: `bash scripts/run.sh` (`policyqa page`, which loads the index as the server starts), or
`streamlit run app.py`.
"""

from __future__ import annotations

from collections import Counter

import streamlit as st

from policyqa.answers import ask
from policyqa.citations import (
    MAX_BATCH,
    MAX_CSV_BYTES,
    STATUS_TEXT,
    UploadError,
    check_batch,
    check_citation,
    parse_pairs,
    read_csv_upload,
    verdict_row,
    verdicts_csv,
)
from policyqa.cite import section_citation
from policyqa.config import load_settings
from policyqa.documents import DocumentError
from policyqa.errors import IndexError_
from policyqa.index import follow, rebuild_blocked
from policyqa.ingest import build_index
from policyqa.manifest import staleness
from policyqa.page import index_key, load_warm
from policyqa.quotes import find_quote, find_sections, sentence_start
from policyqa.render import (
    answer_doc_id,
    context_span,
    diff_html,
    escape_text,
    marked_html,
    section_export,
)

EXAMPLES = [
    "How should I keep participant records?",
    "Can staff accept gifts from clients?",
    "Can I friend a client on Facebook?",
    "When may I share information about a participant?",
]
CSS = """<style>
.pq-text { overflow-wrap: anywhere; line-height: 1.6; padding-bottom: .4rem; }
.pq-text mark.pq-answer { background: #ffe58a; color: inherit; padding: 0 .1em; }
.pq-text mark.pq-passage { background: #e8f0fe; color: inherit; }
.pq-text mark.pq-diff { background: #ffd0d0; color: inherit; }
.pq-meta { color: #5f6368; font-size: .9rem; overflow-wrap: anywhere; }
.pq-toc div { overflow-wrap: anywhere; }
</style>"""


def html(markup: str) -> None:
    """Show markup built by policyqa.render (document text inside it is already escaped)."""
    st.markdown(markup, unsafe_allow_html=True)


def meta(text: str) -> None:
    html(f'<div class="pq-meta">{escape_text(text)}</div>')


def cite(citation: str) -> None:
    """A citation as a code block: readable, wraps, and has a one-click copy button."""
    st.code(citation, language=None, wrap_lines=True)


def also_in(passage) -> None:
    """Where else the passage's very words stand (its PDF beside its Word file): listed once,
    and a memo can still cite the copy its reader has."""
    if passage.also_in:
        meta("Same words also in: " + "; ".join(c.citation for c in passage.also_in))


# ---------------------------------------------------------------- loading (once per server)


@st.cache_resource(show_spinner=False)
def _load(corpus_dir: str, index_dir: str, database_url: str | None) -> dict:
    """{"index": the loaded index, warm}, shared by every session; a holder, so that `follow` can
    switch all sessions to a newer version of a database index. Under `policyqa page` the index
    was loading since the server started (policyqa.page)."""
    return {"index": load_warm(load_settings(corpus_dir, index_dir, database_url))}


def _build(settings) -> None:
    """Build the index with a progress bar (outside the cached loader: bars are not replayable)."""
    bar = st.progress(0.0, text="First run: building the search index...")

    def progress(stage: str, done: int, total: int) -> None:
        bar.progress(min(done / max(total, 1), 1.0),
                     text=f"First run: building the search index ({stage}, {done} of {total})")

    build_index(settings, progress)
    bar.empty()


def get_index():
    """The index for POLICYQA_CORPUS / POLICYQA_INDEX (or ./corpus, ./index), built if needed; or
    the current version in the database POLICYQA_DATABASE_URL names, which `policyqa ingest
    --database` builds (the page never rebuilds what other servers share from its own folder)."""
    settings = load_settings()
    key = index_key(settings)
    try:
        if settings.database_url:
            held = _load(*key)
            held["index"] = index = follow(held["index"])
            return index
        try:
            index = _load(*key)["index"]
        except IndexError_:  # missing, stale or unreadable
            _build(settings)
            index = _load(*key)["index"]
        stale = staleness(settings, index.manifest)
        blocked = stale and rebuild_blocked(settings)
        if stale and not blocked:  # the corpus changed while serving
            _load.clear()
            _build(settings)
            index = _load(*key)["index"]
        elif stale:  # its folder not mounted here, or the index read-only (index.load_index)
            st.warning(f"Answers come from the index built "
                       f"{index.manifest.get('created', 'earlier')}, which may not hold the "
                       f"policies' latest changes: this server cannot rebuild it ({blocked}).")
    except (IndexError_, DocumentError) as exc:
        st.error("The policies could not be loaded:")
        st.code(str(exc), language=None, wrap_lines=True)
        st.stop()
    return index


def sidebar(index) -> tuple[list[str] | None, str, int]:
    by_label = {doc.label: doc_id for doc_id, doc in index.documents.items()}
    with st.sidebar:
        st.header("Search settings")
        chosen = st.multiselect("Documents", list(by_label), key="docs",
                                placeholder="All documents",
                                help="Restrict answers and phrase search to these documents.")
        mode = st.selectbox("Retrieval mode", ["hybrid", "bm25", "dense"], key="mode",
                            help="hybrid: meaning and keywords; bm25: keywords; dense: meaning.")
        k = st.slider("Passages to show", 1, 10, 5, key="k")
        st.caption(f"{len(index.documents)} documents, {len(index.chunks)} passages indexed.")
    return [by_label[label] for label in chosen] or None, mode, k


# ---------------------------------------------------------------- Ask


def _use_example() -> None:
    if st.session_state.get("example"):
        st.session_state["question"] = st.session_state["example"]
    st.session_state["example"] = None


def context_expander(index, doc_id: str, start: int, end: int, answer=None) -> None:
    text = index.documents[doc_id].text
    lo, hi = context_span(text, start, end)
    spans = [(start - lo, end - lo, "pq-passage")]
    if answer is not None:
        spans.append((answer.start - lo, answer.end - lo, "pq-answer"))
    with st.expander("Show in context"):
        html(marked_html(text[lo:hi], spans))


def answer_card(index, result) -> None:
    span = result.answer
    passage = next((p for p in result.passages if p.rank == span.passage_rank), None)
    doc_id = passage.doc_id if passage else answer_doc_id(index, span.citation)
    with st.container(border=True):
        st.markdown("**Answer** (the policy's own words, highlighted in its passage)")
        if passage is not None:
            html(marked_html(passage.text, [(span.start - passage.start,
                                             span.end - passage.start, "pq-answer")]))
        else:
            html(marked_html(span.text, [(0, len(span.text), "pq-answer")]))
        cite(span.citation)
        if passage is not None:
            also_in(passage)
        if doc_id is not None:
            doc = index.documents[doc_id]
            meta(" \u00b7 ".join(p for p in (doc.title, doc.issuer, doc.date) if p))
            context_expander(index, doc_id, *((passage.start, passage.end) if passage
                                              else (span.start, span.end)), span)


def passage_block(index, p) -> None:
    with st.container(border=True):
        meta(f"{p.rank}. {p.doc_title}")
        cite(p.citation)
        also_in(p)
        html(marked_html(p.text))
        context_expander(index, p.doc_id, p.start, p.end)


def ask_tab(index, docs, mode: str, k: int) -> None:
    st.pills("Examples", EXAMPLES, key="example", on_change=_use_example)
    question = st.text_input("Question", key="question",
                             placeholder="Ask about the policies, then press Enter")
    if not question.strip():
        return
    result = ask(index, question, k=k, mode=mode, docs=docs)
    if result.note:
        st.caption(result.note)
    if result.answered and result.answer is not None:
        answer_card(index, result)
        heading = "Further passages"
        rest = [p for p in result.passages if p.rank != result.answer.passage_rank]
    else:
        st.warning("The policies in the corpus don't appear to cover this question. "
                   "The closest passages are listed below as weak matches: check them "
                   "before relying on them.")
        heading = "Closest passages (weak matches)"
        rest = result.passages
    st.caption(f"Answered in {result.timings_ms['total']:.0f} ms ({mode}, k={k}).")
    if rest:
        st.subheader(heading)
    for p in rest:
        passage_block(index, p)


# ---------------------------------------------------------------- Look up wording


def match_block(index, m) -> None:
    at = sentence_start(index, m)
    with st.container(border=True):
        if not m.exact:
            meta(f"Approximate match ({m.similarity:.0f}% similar): not the same words")
        cite(m.citation)
        html(marked_html(m.sentence, [(m.start - at, m.end - at, "pq-answer")]))


def lookup_tab(index, docs) -> None:
    st.subheader("Find exact wording")
    phrase = st.text_input("Phrase", key="phrase",
                           placeholder="Words to find (case and spacing don't matter)")
    if phrase.strip():
        matches = find_quote(index, phrase, docs=docs)
        if not matches:
            st.info("Not found in the selected documents, not even approximately.")
        elif matches[0].exact:
            st.success(f"{len(matches)} exact occurrence(s).")
        else:
            st.warning("No exact occurrence. The closest approximate matches follow; "
                       "their words differ from the phrase.")
        for m in matches:
            match_block(index, m)

    st.subheader("Browse a document")
    by_label = {doc.label: doc_id for doc_id, doc in index.documents.items()}
    doc_id = by_label[st.selectbox("Document", list(by_label), key="browse_doc")]
    doc, structure = index.documents[doc_id], index.structures[doc_id]
    meta(" \u00b7 ".join(p for p in (doc.title, doc.issuer, doc.date) if p))

    def toc_label(sid: int) -> str:
        s = structure.sections[sid]
        if s.kind == "root":
            return "Whole document"
        page = f" (p. {s.toc_page})" if s.toc_page else ""
        return "\u2003" * s.depth + structure.path_text(sid) + page  # unique, even when typed

    with st.expander("Table of contents"):
        html('<div class="pq-toc">' + "".join(
            f'<div style="padding-left:{s.depth * 1.2}em">{escape_text(s.label)}'
            + (f" (p. {s.toc_page})" if s.toc_page else "") + "</div>"
            for s in structure.sections if s.kind != "root") + "</div>")
    def go_to() -> None:
        """Open the section a reference names ("V.4.A", a title's words), as a memo cites it:
        set before the section box is drawn, at the reference's change only, so the box
        stays the reader's to change."""
        reference = st.session_state.get(f"goto-{doc_id}", "")
        found = find_sections(index, doc_id, reference) if reference.strip() else []
        if found:
            st.session_state[f"section-{doc_id}"] = found[0]
        st.session_state["goto_missing"] = reference.strip() and not found

    st.text_input("Go to a section", key=f"goto-{doc_id}", on_change=go_to,
                  placeholder="Its number or title, as a memo cites it: V.4.A, Gifts")
    if st.session_state.pop("goto_missing", False):
        st.info(f"No section of {doc.label} matches "
                f"{st.session_state.get(f'goto-{doc_id}', '')!r}; pick one below.")
    sid = st.selectbox("Open a section", [s.id for s in structure.sections],
                       format_func=toc_label, key=f"section-{doc_id}")
    section = structure.sections[sid]
    cite(section_citation(doc, structure, sid))
    html(marked_html(doc.text[section.start : section.end].strip("\n")))
    name = f"{doc_id}-section-{sid}"
    left, right = st.columns(2)
    left.download_button("Download .txt", section_export(index, doc_id, sid, "txt"),
                         file_name=f"{name}.txt", mime="text/plain", key="dl-txt")
    right.download_button("Download .md", section_export(index, doc_id, sid, "md"),
                          file_name=f"{name}.md", mime="text/markdown", key="dl-md")


# ---------------------------------------------------------------- Check a citation


def show_verdict(v) -> None:
    if v.status == "verbatim" and v.differences:  # words the quote marks as left out or its own
        st.success(f"Found verbatim ({len(v.matches)} place(s)), but for what the quote marks "
                   "as left out (...) or put in ([...]): see the document's words there below.")
    elif v.status == "verbatim":
        st.success(f"Found verbatim ({len(v.matches)} place(s)).")
    elif v.status == "differences":
        st.warning("Found with differences: the document's words are not the quote's.")
    else:
        st.error("Not found: these words do not stand in the corpus, not even approximately.")
    if v.claimed_ok is True:
        st.success("The given citation matches where the words stand.")
    elif v.claimed_ok is False:
        st.error("The given citation does not match where the words stand.")
    if v.citations:
        st.markdown("**Where the words stand**")
        for c in v.citations:
            cite(c)
    if v.differences:
        left, right = st.columns(2)
        with left:
            st.markdown("**Quoted**")
            html(diff_html(v.diff, "quoted"))
        with right:
            st.markdown("**The document says**")
            html(diff_html(v.diff, "source"))
        st.caption("Word by word")
        st.dataframe([{"Quoted": d.quoted or "(nothing)", "Document": d.source or "(nothing)"}
                      for d in v.differences], hide_index=True, width="stretch")


def check_tab(index) -> None:
    how = st.radio("Check", ["One quote", "Several quotes"], horizontal=True, key="check_mode")
    if how == "One quote":
        quote = st.text_area("Quote", key="quote", height=100,
                             placeholder="Paste the words as they were quoted")
        claimed = st.text_input("Citation it was given (optional)", key="claimed",
                                placeholder="e.g. DMH 4.12, V \u203a 4 \u203a A")
        st.button("Check", key="check", type="primary")
        if quote.strip():
            show_verdict(check_citation(index, quote, claimed))
        return
    text = st.text_area("One per line: quote | citation", key="batch", height=160)
    mb = MAX_CSV_BYTES // 2**20
    upload = st.file_uploader(f"...or a CSV file with columns quote, citation (up to {mb} MB)",
                              type=["csv"], max_upload_size=mb, key="batch_csv",
                              help="Read in memory and never stored. "
                                   f"Up to {MAX_BATCH} quotes are checked at a time.")
    pairs = parse_pairs(text or "")
    if upload is not None:
        try:
            pairs += read_csv_upload(upload.name, upload.getvalue())
        except UploadError as exc:
            st.error(f"The CSV file was not read: {exc}.")
    if not pairs:
        return
    if len(pairs) > MAX_BATCH:
        st.warning(f"{len(pairs)} quotes given: only the first {MAX_BATCH} are checked.")
        pairs = pairs[:MAX_BATCH]
    verdicts = check_batch(index, pairs)
    counts = Counter(v.status for v in verdicts)
    st.markdown(", ".join(f"{counts[s]} {STATUS_TEXT[s]}" for s in STATUS_TEXT) + ".")
    st.dataframe([verdict_row(v) for v in verdicts], hide_index=True, width="stretch")
    st.download_button("Download verdicts (CSV)", verdicts_csv(verdicts),
                       file_name="citation-check.csv", mime="text/csv", key="dl-verdicts")


# ---------------------------------------------------------------- the page


def main() -> None:
    # An emoji icon becomes a data: URL; a ":material/...:" icon is fetched from fonts.gstatic.com.
    st.set_page_config(page_title="policyqa", page_icon="\U0001f4dc")
    html(CSS)
    st.title("Policy answers")
    st.caption("Every word shown is quoted from the service policies, with its citation. "
               "Nothing is generated.")
    index = get_index()
    docs, mode, k = sidebar(index)
    # Stateful tabs: the chosen tab survives reruns, and only the open one is computed.
    tab_ask, tab_lookup, tab_check = st.tabs(["Ask", "Look up wording", "Check a citation"],
                                             key="tab", on_change="rerun")
    if tab_ask.open:
        with tab_ask:
            ask_tab(index, docs, mode, k)
    if tab_lookup.open:
        with tab_lookup:
            lookup_tab(index, docs)
    if tab_check.open:
        with tab_check:
            check_tab(index)


main()

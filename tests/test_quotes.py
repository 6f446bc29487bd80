"""Exact wording lookup and approximate near-matches."""

from policyqa.quotes import find_quote, find_sections


def test_exact_phrase_with_citation(index):
    [m] = find_quote(index, "DOCUMENTED   honestly and accurately")
    assert m.exact and m.similarity == 100
    assert m.text == "documented honestly and accurately"
    assert m.citation == "Longmont CM Code of Conduct, Service Approach › 5"
    assert m.text in m.sentence
    assert index.documents[m.doc_id].text[m.start : m.end] == m.text


def test_every_occurrence(index):
    matches = find_quote(index, "law enforcement")
    assert len(matches) > 5
    assert all(m.exact for m in matches)
    assert len({(m.doc_id, m.start) for m in matches}) == len(matches)


def test_typographic_quotes_folded(index):
    # the toolkit writes it’s with a typographic apostrophe
    matches = find_quote(index, "sometimes it's the only way a client will respond")
    assert matches and matches[0].exact


def test_a_phrase_typed_in_quotation_marks_is_looked_up_without_them(index):
    """A supervisor types "exact words" in quotation marks, as a search box takes them: the
    phrase was no exact match (its marks are not in the text), only a 94% near-match."""
    for typed in ('"records are documented honestly"', "\u201crecords are documented honestly\u201d",
                  "  'records are documented honestly'  "):
        [m] = find_quote(index, typed)
        assert m.exact and m.text == "records are documented honestly"
    assert find_quote(index, '""') == []


def test_a_phrase_copied_from_a_pdf_with_a_word_broken_at_a_lines_end_is_found(index):
    """A PDF viewer's copy keeps the line breaks, and a word hyphenated at one ("docu-" /
    "mented"), or a soft hyphen, where the indexed text has the word whole: it was a near-match
    only."""
    for copied in ("records are docu-\nmented honestly", "records are docu\u00admented honestly"):
        [m] = find_quote(index, copied)
        assert m.exact and m.text == "records are documented honestly"


def test_a_phrase_that_leaves_words_out_finds_the_passage_its_words_stand_in(index):
    """A supervisor remembers the words around a rule, not all of them: "I will not accept
    gifts ... from those I serve" was a 77% near-match of the item's first words only; it is
    the passage from its first word to its last, with the words left out."""
    [m] = find_quote(index, "i will not accept gifts \u2026 from those I serve")
    assert m.exact and m.text == ("I will not accept gifts of money or items of significant "
                                  "value from those I serve")
    assert m.citation == "Longmont CM Code of Conduct, Client Relationships \u203a 6"
    # the words after the mark stand too far on (another section), or not at all
    assert not any(m.exact for m in find_quote(index, "I will not accept gifts ... humility"))


def test_near_match_marked_approximate(index):
    matches = find_quote(index, "I will never loan or give cash to participants")
    assert matches and not any(m.exact for m in matches)
    assert "loan or give money" in matches[0].text
    assert matches[0].similarity < 100


def test_filter_and_nothing_found(index):
    assert find_quote(index, "law enforcement", docs=["longmont-case-management-code-of-conduct"]) \
        == []
    assert find_quote(index, "   ") == []


def test_lookup_tables_belong_to_their_index(index, tmp_path):
    """An index made after another in the same process never reads the old one's normalized
    texts (they were once cached by id(index), which a new object can reuse)."""
    import shutil

    from policyqa.config import ROOT, load_settings
    from policyqa.index import Index, load_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    name = "longmont-case-management-code-of-conduct.txt"
    shutil.copy(ROOT / "corpus" / "metadata.toml", corpus / "metadata.toml")
    (corpus / name).write_text("Preface added by the agency.\n\n"
                               + (ROOT / "corpus" / name).read_text(encoding="utf-8"))
    other = load_index(load_settings(corpus, tmp_path / "index"))
    phrase = "documented honestly and accurately"
    expected = [(m.doc_id, m.start) for m in find_quote(other, phrase)]
    assert expected and expected != [(m.doc_id, m.start) for m in find_quote(index, phrase)]
    for _ in range(20):  # new objects, often at the address the last one freed
        first = Index(index.settings, index.store, index.embedder)
        find_quote(first, phrase)
        del first
        second = Index(other.settings, other.store, other.embedder)
        assert [(m.doc_id, m.start) for m in find_quote(second, phrase)] == expected


def test_a_section_is_found_by_its_path_its_markers_or_its_titles_words(index):
    doc = "dmh-4.12-service-relationships"
    structure = index.structures[doc]
    for reference in ("V.4.A", "V \u203a 4 \u203a A", "v 4 a", "Section V.4.A",
                      "V \u203a 4. Financial and Work Relationships \u203a A"):
        [found] = find_sections(index, doc, reference)
        assert structure.path_text(found) == "V \u203a 4. Financial and Work Relationships \u203a A"
    [found] = find_sections(index, doc, "Financial and Work Relationships")
    assert structure.path_text(found) == "V \u203a 4. Financial and Work Relationships"
    assert find_sections(index, doc, "V.4.Q") == [] and find_sections(index, doc, "...") == []

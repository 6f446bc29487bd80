from policyqa.normalize import fold, normalize, normalize_with_map, unaccented, unbroken


def test_fold_typographic_quotes_and_dashes():
    assert fold("\u201cit\u2019s\u201d \u2013 \u2014") == "\"it's\" - -"


def test_unaccented_takes_accents_off_letters_only_for_words():
    assert unaccented("Procès-verbal, séance levée à 16h05") == "Proces-verbal, seance levee a 16h05"
    text = "plain ASCII"
    assert unaccented(text) is text  # no work where there is nothing to take off
    assert normalize("séance") == "séance"  # quotes are matched with their accents


def test_normalize_collapses_case_and_whitespace():
    assert normalize("  The  Client\n\tIS  ") == "the client is"


def test_map_points_back_to_original_characters():
    text = "A  \u201cQuoted\u201d\n word"
    norm, mapping = normalize_with_map(text)
    assert norm == normalize(text)
    assert len(mapping) == len(norm)
    at = norm.find("quoted")
    assert text[mapping[at] : mapping[at + len("quoted") - 1] + 1] == "Quoted"


def test_invisible_characters_are_no_part_of_the_words():
    """A soft hyphen (a hyphenation point) and a zero-width space, carried along by a copy from
    a web page or a PDF viewer, split a word for matching though the reader sees it whole."""
    assert normalize("docu\u00admented hon\u200bestly\ufeff") == "documented honestly"
    hay, mapping = normalize_with_map("a docu\u00admented b")
    assert hay == "a documented b" and mapping[6] == 7  # "m" is the raw text's 8th character


def test_unbroken_joins_words_a_pdf_broke_at_a_lines_end_only():
    assert unbroken("records are docu-\nmented hon-\r\n  estly") == "records are documented honestly"
    # a hyphen before a capital or a digit is a compound's or a number's; one not at a line's
    # end is the word's own
    assert unbroken("Sainte-\nAd\u00e8le, 2023-\n0379, well-\nknown") == \
        "Sainte-\nAd\u00e8le, 2023-\n0379, wellknown"
    assert unbroken("part-time staff") == "part-time staff"

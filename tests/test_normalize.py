from policyqa.normalize import fold, normalize, normalize_with_map, unaccented


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

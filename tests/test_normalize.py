from policyqa.normalize import fold, normalize, normalize_with_map


def test_fold_typographic_quotes_and_dashes():
    assert fold("\u201cit\u2019s\u201d \u2013 \u2014") == "\"it's\" - -"


def test_normalize_collapses_case_and_whitespace():
    assert normalize("  The  Client\n\tIS  ") == "the client is"


def test_map_points_back_to_original_characters():
    text = "A  \u201cQuoted\u201d\n word"
    norm, mapping = normalize_with_map(text)
    assert norm == normalize(text)
    assert len(mapping) == len(norm)
    at = norm.find("quoted")
    assert text[mapping[at] : mapping[at + len("quoted") - 1] + 1] == "Quoted"

"""Typing slips in questions, read as the corpus words they were meant to be (on the seed index,
with the real model)."""

from __future__ import annotations

import json

from policyqa.answers import ask
from policyqa.config import ROOT
from policyqa.query import prepare
from policyqa.spelling import apply, one_slip

TYPED = {
    "Can staff acept gifts from cleints?": "Can staff accept gifts from clients?",
    "How should I keep participant recrods?": "How should I keep participant records?",
    "When may I share confidentail informaton about a participant?":
        "When may I share confidential information about a participant?",
    "Can I freind a client on facebok?": "Can I friend a client on facebook?",
}


def test_a_slip_is_two_letters_swapped_one_left_out_or_one_doubled():
    assert one_slip("cleints", "clients") and one_slip("informaton", "information")
    assert one_slip("acept", "accept") and one_slip("facebok", "facebook")
    assert not one_slip("sexting", "setting")  # a letter for another: real words differ so
    assert not one_slip("warranty", "warrant") and not one_slip("coders", "codes")  # one added
    assert not one_slip("clients", "clients") and not one_slip("clnts", "clients")
    assert one_slip("clientts", "clients") and one_slip("counselling", "counseling")  # doubled
    assert not one_slip("pprint", "print") and not one_slip("formerr", "former")  # at an end


def test_questions_with_slips_are_answered_as_if_typed_right(index):
    """The misspelt question was abstained on ("the policies don't cover this") while its own
    top passage answered it; read right, it gets the same answer, and the note says how."""
    for typed, right in TYPED.items():
        as_typed, as_meant = ask(index, typed), ask(index, right)
        assert as_typed.answered and as_meant.answered
        assert as_typed.answer.citation == as_meant.answer.citation
        assert as_typed.answer.text == as_meant.answer.text
        assert [p.citation for p in as_typed.passages] == [p.citation for p in as_meant.passages]
        assert as_typed.note.startswith("read ") and not as_meant.note
    assert ask(index, "Can staff acept gifts from cleints?").note == (
        'read "acept" as "accept", "cleints" as "clients"')


def test_real_words_are_never_corrected(index):
    """No gold question is changed (their words are all real), nor are real words the corpus
    and the model's word list lack: inflections, derived words, other languages, quotes."""
    gold = [json.loads(line)["question"]
            for line in (ROOT / "eval" / "gold.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [q for q in gold if prepare(index, q).corrections] == []
    for question in ("Is sexting a client ever okay?", "I relapsed last weekend.",
                     "Does the warranty cover coders?", "How does the program prioritizes cases?",
                     "La séance a-t-elle été levée ?", 'Where does it say "recrods"?'):
        assert prepare(index, question).corrections == {}, question


def test_corrections_apply_to_whole_words_outside_quotes():
    assert apply('Keep recrods, "recrods" and Recrods.', {"recrods": "records"}) == (
        'Keep records, "recrods" and records.')
    assert apply("no change", {}) == "no change"


def test_a_long_question_is_looked_at_only_so_far(index):
    """Questions are untrusted input: of 2,000 characters of slips, only the first
    MAX_UNKNOWN unknown words are looked up (each costs a search of the corpus's words)."""
    from policyqa.spelling import MAX_UNKNOWN

    words = [w for w in index.store.vocabulary.words if len(w) >= 6][:300]
    slips = " ".join(w[0] + w[2] + w[1] + w[3:] for w in words)[:2000]
    corrections = prepare(index, slips).corrections
    assert 0 < len(corrections) <= MAX_UNKNOWN

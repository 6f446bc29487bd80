"""A text's language, told by its function words (the stop-words package's lists)."""

import pytest

from policyqa.languages import language_of


@pytest.mark.parametrize(("question", "language"), [
    ("À quelle heure la séance du comité a-t-elle été levée ?", "french"),
    ("a quelle heure la seance du comite a-t-elle ete levee", "french"),  # typed without accents
    ("¿Puedo prestarle dinero a un cliente de la agencia?", "spanish"),
    ("Wie viele Seiten hat das Skript?", "german"),
    ("Can I lend a client $20?", "english"),
    ("What is TIC?", "english"),  # "is" is Dutch too: one word is not enough
    ("Is a son allowed to visit his mother on the unit?", "english"),  # "son", "on": French too
    ("die by suicide risk assessment", "english"),  # a tie stays English
    ("gifts policy", "english"),
    ("", "english"),
])
def test_the_language_of_a_question_is_told_by_its_function_words(question, language):
    assert language_of(question) == language


def test_every_question_of_the_seed_gold_set_reads_as_english():
    """The seed corpus's gold questions (all in English, as a broad sample of how staff ask):
    none of them loses words to another language's stop list."""
    from policyqa.evaluation import load_gold

    questions = [item.question for item in load_gold()]
    assert len(questions) > 100
    assert {q: language_of(q) for q in questions
            if language_of(q) != "english"} == {}


def test_a_document_reads_as_the_language_it_is_written_in():
    """The seed policies are English, for all their "la" and "de" ("Los Angeles", "Department
    of Mental Health"); a page of French minutes is French."""
    from policyqa.config import ROOT

    for path in sorted((ROOT / "corpus").glob("*.txt")):
        assert language_of(path.read_text(encoding="utf-8")) == "english", path.name
    minutes = ("Procès-verbal de la séance publique tenue le 20 juin à la salle du conseil. "
               "La séance est ouverte à 16 h. L'ordre du jour de la séance est adopté.")
    assert language_of(minutes) == "french"

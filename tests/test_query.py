"""A question prepared once: the declared rewrites, and the shared word-vector cache under load."""

from __future__ import annotations

import threading

from policyqa import query as query_mod
from policyqa.answers import ask
from policyqa.query import REWRITES, clear_word_cache, prepare

QUESTIONS = [
    "Can I lend a client $20?",
    "What does the code of conduct say about accepting gifts?",
    "Can a PSS drive a client to an appointment?",
    "Can I have a glass of champagne at a client's wedding?",
    'Where do the policies talk about "natural supports"?',
    "How should I keep participant records?",
    "Is it ok to friend a client on Facebook?",
    "What if a peer advocate is asked to testify?",
]


def test_rewrites_run_in_their_declared_order(index):
    names = [r.__name__ for r in REWRITES]
    assert names.index("money_and_acronyms") < names.index("keywords") < names.index("neighbours")
    assert names.index("neighbours") < names.index("embedding")  # stand-ins are embedded too
    q = prepare(index, QUESTIONS[0])
    assert "money" in q.expanded and "$20" not in q.expanded
    assert q.terms[0] == (q.tokens, 1.0) and q.vector.shape == (384,)
    q = prepare(index, QUESTIONS[2])
    assert "Peer Support Specialist" in q.expanded
    assert prepare(index, QUESTIONS[4]).phrases == ["natural supports"]


def _answers(index, questions):
    return [ask(index, q).to_json() for q in questions]


def _in_eight_threads(index) -> dict[int, list]:
    """Every question from each of 8 threads started together, each in another order."""
    results: dict[int, list] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def worker(n: int) -> None:
        try:
            start.wait()
            got = _answers(index, QUESTIONS[n:] + QUESTIONS[:n])
            results[n] = got[len(QUESTIONS) - n:] + got[: len(QUESTIONS) - n]
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    return results


def test_concurrent_asks_give_the_sequential_answers(index, monkeypatch):
    """The page's sessions share the word-vector cache: 8 threads at once, answers unchanged,
    also when the cache is so small that every question evicts."""
    clear_word_cache()
    sequential = _answers(index, QUESTIONS)
    for size in (query_mod.WORD_VECTORS.size, 3):
        monkeypatch.setattr(query_mod.WORD_VECTORS, "size", size)
        clear_word_cache()
        results = _in_eight_threads(index)
        assert len(results) == 8
        for got in results.values():
            assert got == sequential
        assert len(query_mod.WORD_VECTORS._vectors) <= size


def test_a_word_most_documents_use_names_none_of_them(tmp_path):
    """Labels come from file names. 'terms-of-service' made "service" a name of that document,
    though every document of the corpus speaks of the service, so a question about mining
    cryptocurrency "using the service" favoured the terms over the one rule that answers it.
    A word few other documents use ("toolkit") still names its own."""
    from policyqa.config import load_settings
    from policyqa.index import load_index
    from policyqa.query import document_names

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    files = {
        "terms-of-service": "You must be at least 13 years old to use the service. The service "
                            "is provided as is. We may change the service at any time.",
        "acceptable-use": "While using the service you may not mine cryptocurrency, send spam "
                          "or run automated excessive bulk activity.",
        "privacy-notice": "We collect the data you give us when you use the service, and keep "
                          "it for as long as your account is open.",
        "community-rules": "Be respectful to other members of the service, even when you "
                           "disagree with them.",
        "peer-toolkit": "Peer specialists keep clear boundaries with the people they support.",
    }
    for name, text in files.items():
        (corpus / f"{name}.md").write_text(f"# {name.replace('-', ' ').title()}\n\n{text}\n")
    index = load_index(load_settings(corpus, tmp_path / "index"))
    names = document_names(index)
    assert ("servic",) not in names
    assert names[("toolkit",)] == "peer-toolkit"
    assert names[("term", "of", "servic")] == "terms-of-service"  # a phrase still names it
    answer = ask(index, "Can I mine cryptocurrency using the service?")
    assert answer.passages[0].doc_id == "acceptable-use"


def test_the_common_words_scan_agrees_with_the_tokenizer(index):
    """`_common_words` reads each document's words with one pattern, not the tokenizer (13 ms
    against its 41 ms on ../shared/realdocs); it must count the documents the tokenizer would."""
    from policyqa.lexical import tokenize
    from policyqa.query import _common_words

    owners = {"code": "longmont-case-management-code-of-conduct",
              "conduct": "longmont-case-management-code-of-conduct",
              "toolkit": "mission-boundaries-toolkit", "mission": "mission-boundaries-toolkit",
              "recoveri": "dmh-4.12-service-relationships", "qwertyx": "dmh-4.13-peer-advocates"}
    used = {d: set(tokenize(doc.text, stem=True, stopwords=False))
            for d, doc in index.documents.items()}
    limit = max(1, len(used) // 10)
    expected = {w for w, own in owners.items()
                if sum(w in words for d, words in used.items() if d != own) > limit}
    assert _common_words(index, owners) == expected
    assert {"code", "conduct", "recoveri"} <= expected and "toolkit" not in expected


def test_a_question_in_french_is_not_ranked_by_its_function_words(small_corpus, tmp_path):
    """Minutes in French beside English policies: a French question's "la", "du" and "de", rare
    in the corpus, outweighed its subject, and the passages richest in them came first. Read as
    French, the question is ranked by its words ("séance", "levée") and answered."""
    from policyqa.config import load_settings
    from policyqa.index import load_index

    (small_corpus / "proces-verbal.txt").write_text(
        "Procès-verbal de la réunion du conseil d'administration\n\n"
        "Présences\n\n"
        "Sont présents la présidente du conseil, la trésorière de la corporation, le secrétaire "
        "du comité de direction et la directrice de la maison d'hébergement de la région.\n\n"
        "Adoption de l'ordre du jour\n\n"
        "L'ordre du jour de la réunion du conseil est adopté à l'unanimité, sur proposition de "
        "la trésorière de la corporation et avec l'appui du secrétaire du comité de direction. "
        "Les membres du conseil approuvent aussi le procès-verbal de la réunion du mois de mai.\n\n"
        "Rapport de la directrice\n\n"
        "La directrice présente le rapport des activités de la maison d'hébergement pour la "
        "période de janvier à juin, dont le taux d'occupation des chambres et la liste d'attente "
        "de la région, et répond aux questions des membres du conseil d'administration.\n\n"
        "Levée\n\n"
        "La séance est levée à 21 h 10.\n")
    index = load_index(load_settings(small_corpus, tmp_path / "index"))
    answer = ask(index, "À quelle heure la séance du conseil a-t-elle été levée ?", mode="bm25")
    assert answer.passages[0].text.strip().endswith("La séance est levée à 21 h 10.")
    assert answer.answer is not None and answer.answer.text == "La séance est levée à 21 h 10."

"""Metric formulas against hand-computed values, the gold set's own rules, and the accuracy floor."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import pytest

from policyqa.evaluation import (
    GOLD,
    KINDS,
    evaluate,
    is_relevant,
    load_gold,
    ndcg,
    percentile,
    reciprocal_rank,
    select,
    summarize,
)
from policyqa.normalize import normalize
from policyqa.report import report_markdown

BASELINE = GOLD.parent / "baseline.json"
TOLERANCE = 0.02


@pytest.fixture(scope="module")
def gold():
    return load_gold()


# ---------------------------------------------------------------- formulas


def test_reciprocal_rank_hand_computed():
    assert reciprocal_rank([False, False, True, True], 10) == pytest.approx(1 / 3)
    assert reciprocal_rank([True], 10) == 1.0
    assert reciprocal_rank([False] * 10 + [True], 10) == 0.0  # rank 11 is outside MRR@10
    assert reciprocal_rank([], 10) == 0.0


def test_ndcg_hand_computed():
    # Relevant at ranks 2 and 4; three relevant chunks exist in the corpus.
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg([False, True, False, True], total_relevant=3, k=10) == pytest.approx(dcg / idcg)
    assert ndcg([True, True], total_relevant=2, k=10) == pytest.approx(1.0)
    # The ideal is cut at k even when more relevant chunks exist.
    assert ndcg([True], total_relevant=5, k=1) == pytest.approx(1.0)
    assert ndcg([False, False], total_relevant=0, k=10) == 0.0


def test_percentile_interpolates_like_numpy_linear():
    values = [5.0, 1.0, 3.0, 2.0, 4.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.95) == pytest.approx(4.8)
    assert percentile([7.0], 0.95) == 7.0
    assert percentile([], 0.5) == 0.0


def test_relevance_rule_normalizes_both_sides():
    passage = "Staff shall *not* accept “gifts” —\n of any   kind. See [the policy](http://x)."
    assert is_relevant(passage, ('staff shall not accept "gifts" - of any kind',))
    assert is_relevant(passage, ("see the policy",))
    assert not is_relevant(passage, ("staff shall accept gifts",))
    assert not is_relevant(passage, ())


def test_summary_arithmetic_on_hand_made_results():
    from policyqa.evaluation import ItemResult

    def result(id_, kind, relevance, answered, correct):
        first = next((i + 1 for i, r in enumerate(relevance) if r), None)
        return ItemResult(id_, kind, "q", first, relevance, sum(relevance) or 1, answered,
                          correct, "", "", 10.0, [100] * len(relevance))

    results = [
        result("1", "plain", [True, False], True, True),          # rank 1
        result("2", "wording", [False, False, True], True, False),  # rank 3
        result("3", "citation", [False] * 6, False, False),       # missed, falsely abstained
        result("4", "unanswerable", [], False, None),             # abstained
        result("5", "unanswerable", [], True, None),              # answered: wrong
    ]
    s = summarize(results, "hybrid", "all", 10)
    assert s.recall == pytest.approx({1: 1 / 3, 3: 2 / 3, 5: 2 / 3, 10: 2 / 3})
    assert s.mrr == pytest.approx((1 + 1 / 3 + 0) / 3)
    assert s.answer_accuracy == pytest.approx(1 / 3)
    assert s.abstention == pytest.approx(1 / 2)
    assert s.false_abstention == pytest.approx(1 / 3)
    assert [m["id"] for m in s.misses] == ["3"]


def test_report_tables_have_as_many_cells_in_every_row(tmp_path):
    """GitHub renders no table when the delimiter row's cell count differs from the header's."""
    from policyqa.evaluation import ItemResult

    results = [ItemResult("1", "plain", "q", 1, [True], 1, True, True, "", "", 10.0, [100]),
               ItemResult("2", "unanswerable", "q", None, [], 0, False, None, "", "", 9.0, [90])]
    text = report_markdown([summarize(results, m, "all", 10) for m in ("hybrid", "bm25")],
                           tmp_path / "gold.jsonl")
    tables: list[list[int]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(len(line.strip().strip("|").split("|")))
        previous = line
    assert len(tables) == 2
    for widths in tables:
        assert len(widths) >= 3 and len(set(widths)) == 1, widths


# ---------------------------------------------------------------- the gold set


def test_load_gold_rejects_malformed_items(tmp_path):
    bad = tmp_path / "gold.jsonl"
    bad.write_text('{"id": "x", "kind": "plain", "question": "q", "quotes": []}\n')
    with pytest.raises(ValueError, match="answerable items need quotes"):
        load_gold(bad)
    bad.write_text('{"id": "x", "kind": "guess", "question": "q", "quotes": []}\n')
    with pytest.raises(ValueError, match="unknown kind"):
        load_gold(bad)
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match=":1: not a gold item"):
        load_gold(bad)


def test_gold_items_are_asked_only_of_the_corpus_they_name(tmp_path):
    """One gold file holds questions over several corpora; each is selected by its "corpus"
    folder (relative to the project root, none meaning corpus/), so the seed figures never mix
    with another corpus's."""
    from policyqa.config import ROOT

    path = tmp_path / "gold.jsonl"
    path.write_text(
        '{"id": "s1", "kind": "unanswerable", "question": "seed?", "quotes": []}\n'
        '{"id": "o1", "kind": "unanswerable", "corpus": "../elsewhere", "question": "other?", '
        '"quotes": []}\n', encoding="utf-8")
    assert [g.id for g in load_gold(path)] == ["s1"]
    assert [g.id for g in load_gold(path, ROOT.parent / "elsewhere")] == ["o1"]
    assert [g.id for g in load_gold(path, ROOT / ".." / "elsewhere" / ".")] == ["o1"]
    assert {g.id for g in load_gold(path, None)} == {"s1", "o1"}
    assert load_gold(path, tmp_path) == []
    # The real file: its seed questions and its questions over the real files are apart.
    every = load_gold(GOLD, None)
    assert len(load_gold()) + len(load_gold(GOLD, ROOT.parent / "shared" / "realdocs")) \
        == len(every)
    assert {g.corpus for g in every} == {"", "../shared/realdocs"}


def test_eval_refuses_a_corpus_the_gold_file_has_no_questions_over(tmp_path, capsys):
    from policyqa.cli import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "note.md").write_text("# Note\n\nStaff must sign the visitor book on arrival.\n",
                                    encoding="utf-8")
    code = main(["eval", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    assert code != 0
    err = capsys.readouterr().err
    assert "has no questions over" in err and str(corpus) in err


def test_gold_set_shape(gold):
    assert len(gold) >= 120
    assert len({g.id for g in gold}) == len(gold), "ids are unique"
    kinds = Counter(g.kind for g in gold)
    for kind in KINDS:
        assert kinds[kind] / len(gold) >= 0.15, (kind, kinds[kind])
    assert kinds["unanswerable"] >= 15
    for g in gold:
        for quote in g.quotes:
            assert 5 <= len(quote.split()) <= 25, (g.id, quote)


def test_every_gold_quote_stands_in_the_corpus_and_inside_a_chunk(gold, index):
    corpus = {doc_id: normalize(doc.text) for doc_id, doc in index.documents.items()}
    for g in gold:
        for quote in g.quotes:
            assert any(normalize(quote) in text for text in corpus.values()), (g.id, quote)
            assert any(is_relevant(c.text, (quote,)) for c in index.chunks), (
                f"{g.id}: quote crosses a chunk boundary, so no passage can be relevant: {quote}")


def test_every_document_is_covered(gold, index):
    cited = Counter()
    for g in gold:
        for doc_id, doc in index.documents.items():
            if any(normalize(q) in normalize(doc.text) for q in g.quotes):
                cited[doc_id] += 1
    for doc_id in index.documents:
        assert cited[doc_id] >= 10, (doc_id, cited[doc_id])


def test_split_is_fixed_and_balanced(gold):
    dev, test = select(gold, "dev"), select(gold, "test")
    assert len(dev) + len(test) == len(gold)
    assert abs(len(dev) - len(test)) <= 0.2 * len(gold)
    # Fixed by id, not by position: reordering the file does not move an item between splits.
    assert {g.id for g in select(list(reversed(gold)), "dev")} == {g.id for g in dev}
    for kind in KINDS:
        assert any(g.kind == kind for g in dev) and any(g.kind == kind for g in test), kind


# ---------------------------------------------------------------- accuracy floor


@pytest.mark.parametrize("mode", ["hybrid", "bm25", "dense"])
def test_accuracy_not_below_recorded_baseline(gold, index, mode):
    """Regression guard (accuracy only, never time): figures recorded in eval/baseline.json, for
    the mode users get and for the two single modes the page also offers."""
    recorded = json.loads(BASELINE.read_text(encoding="utf-8"))[mode]["all"]
    summary = evaluate(index, gold, mode=mode, k=10, split="all")
    assert summary.recall[5] >= recorded["recall@5"] - TOLERANCE
    assert summary.mrr >= recorded["mrr@10"] - TOLERANCE


def test_gold_figures_are_the_same_under_both_runtimes(gold, index):
    """ONNX Runtime (the default) and torch (the fallback) give the same figures, to the third
    decimal, in every mode: the same stored vectors, each question (and each of its words the
    model's lexicon lacks) encoded by each runtime afresh."""
    from policyqa.index import load_index
    from policyqa.query import clear_word_cache

    runtimes = {name: load_index(replace(index.settings, runtime=name), rebuild="never")
                for name in ("onnx", "torch")}
    assert {type(i.embedder).__name__ for i in runtimes.values()} == {
        "OnnxEmbedder", "SentenceTransformerEmbedder"}
    for mode in ("hybrid", "bm25", "dense"):
        figures = {}
        for name, loaded in runtimes.items():
            clear_word_cache()  # word vectors are remembered by model identity, shared by both
            s = evaluate(loaded, gold, mode=mode, k=10, split="all")
            figures[name] = [round(x, 3) for x in (*s.recall.values(), s.mrr, s.ndcg,
                                                    s.answer_accuracy, s.abstention,
                                                    s.false_abstention)]
        assert figures["onnx"] == figures["torch"], mode

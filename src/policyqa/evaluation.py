"""Stage 7: measure retrieval and answers against the gold Q&A set (eval/gold.jsonl).

One gold file holds the questions over every corpus they were written for: an item's optional
`corpus` names its folder relative to the project root (e.g. "../shared/realdocs", the real Word,
web, Markdown and PDF files); without it, the project's own `corpus/`. `policyqa eval` asks the
questions of the corpus it evaluates and no others, so adding questions over another corpus never
moves the seed figures.

A passage is relevant when its normalized text contains the normalized text of any of the item's
gold quotes (each quote alone answers the question). Metrics are computed here rather than with an
IR library because the relevance rule is ours and the formulas are a few lines each; they are
checked against hand-computed values in tests/test_evaluation.py.
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .answers import ask
from .config import ROOT
from .index import Index
from .normalize import normalize
from .query import clear_word_cache
from .quotes import find_quote

KINDS = ("plain", "wording", "citation", "unanswerable")
GOLD = ROOT / "eval" / "gold.jsonl"
SPLIT_SEED = "policyqa-gold-v1"
RECALL_AT = (1, 3, 5, 10)


@dataclass(frozen=True)
class GoldItem:
    id: str
    kind: str
    question: str
    quotes: tuple[str, ...]
    corpus: str = ""  # the folder it is over, relative to the project root; "" = corpus/

    @property
    def corpus_dir(self) -> Path:
        return (ROOT / (self.corpus or "corpus")).resolve()

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @property
    def split(self) -> str:
        """dev or test, fixed by a seeded hash of the id, so adding items never reshuffles."""
        digest = hashlib.sha256(f"{SPLIT_SEED}:{self.id}".encode()).digest()
        return "dev" if digest[0] < 128 else "test"


def load_gold(path: Path = GOLD, corpus: Path | None = ROOT / "corpus") -> list[GoldItem]:
    """The items over `corpus` (by default the project's corpus/; None: every item)."""
    items: list[GoldItem] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = GoldItem(raw["id"], raw["kind"], raw["question"], tuple(raw["quotes"]),
                            str(raw.get("corpus") or ""))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a gold item ({exc})") from None
        if item.kind not in KINDS:
            raise ValueError(f"{path}:{n}: unknown kind {item.kind!r}")
        if item.answerable != bool(item.quotes):
            raise ValueError(f"{path}:{n}: answerable items need quotes, unanswerable ones none")
        items.append(item)
    if corpus is not None:
        folder = Path(corpus).resolve()
        items = [i for i in items if i.corpus_dir == folder]
    return items


def select(items: list[GoldItem], split: str) -> list[GoldItem]:
    return items if split == "all" else [i for i in items if i.split == split]


# ---------------------------------------------------------------- metric formulas


def is_relevant(passage_text: str, quotes: tuple[str, ...]) -> bool:
    text = normalize(passage_text)
    return any(normalize(q) in text for q in quotes)


def reciprocal_rank(relevance: list[bool], k: int) -> float:
    return next((1.0 / (i + 1) for i, rel in enumerate(relevance[:k]) if rel), 0.0)


def ndcg(relevance: list[bool], total_relevant: int, k: int) -> float:
    """Binary nDCG@k; the ideal ranks every relevant chunk of the corpus first (not just those found)."""
    dcg = sum(1.0 / math.log2(i + 2) for i, rel in enumerate(relevance[:k]) if rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(total_relevant, k)))
    return dcg / ideal if ideal else 0.0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


# ---------------------------------------------------------------- running the set


@dataclass
class ItemResult:
    id: str
    kind: str
    question: str
    first_relevant: int | None  # rank of the first relevant passage within k, None if none
    relevance: list[bool]
    total_relevant: int
    answered: bool
    answer_correct: bool | None  # None for unanswerable items
    top_citation: str
    answer_text: str
    latency_ms: float
    words: list[int]


@dataclass
class Summary:
    mode: str
    split: str
    k: int
    questions: int
    answerable: int
    recall: dict[int, float]
    mrr: float
    ndcg: float
    answer_accuracy: float
    abstention: float
    false_abstention: float
    words_per_passage: float
    latency_p50_ms: float
    latency_p95_ms: float
    by_kind: dict[str, dict[str, float]] = field(default_factory=dict)
    misses: list[dict] = field(default_factory=list)


def _quote_spans(index: Index, item: GoldItem) -> list[tuple[str, int, int]]:
    return [(m.doc_id, m.start, m.end) for q in item.quotes for m in find_quote(index, q,
                                                                               approximate=0)]


def _span_matches(span: tuple[str, int, int], gold: list[tuple[str, int, int]]) -> bool:
    """The chosen sentence covers at least half of a gold quote, or is half inside one."""
    doc, start, end = span
    for g_doc, g_start, g_end in gold:
        overlap = min(end, g_end) - max(start, g_start)
        if g_doc == doc and overlap > 0 and (
            overlap >= 0.5 * (g_end - g_start) or overlap >= 0.5 * (end - start)
        ):
            return True
    return False


def run_item(index: Index, item: GoldItem, mode: str, k: int) -> ItemResult:
    clear_word_cache()  # time each question as if first seen, in every mode
    answer = ask(index, item.question, k=k, mode=mode)
    relevance = [is_relevant(p.text, item.quotes) for p in answer.passages] if item.quotes else []
    total = sum(is_relevant(c.text, item.quotes) for c in index.chunks) if item.quotes else 0
    first = next((i + 1 for i, rel in enumerate(relevance) if rel), None)
    correct = None
    if item.answerable:
        span = answer.answer
        doc_id = answer.passages[span.passage_rank - 1].doc_id if span else ""
        correct = span is not None and _span_matches((doc_id, span.start, span.end),
                                                     _quote_spans(index, item))
    return ItemResult(
        id=item.id, kind=item.kind, question=item.question, first_relevant=first,
        relevance=relevance, total_relevant=total, answered=answer.answered,
        answer_correct=correct,
        top_citation=answer.passages[0].citation if answer.passages else "",
        answer_text=answer.answer.text if answer.answer else "",
        latency_ms=answer.timings_ms["total"], words=[len(p.text.split()) for p in answer.passages],
    )


def _retrieval_metrics(results: list[ItemResult], k: int) -> dict[str, float]:
    answerable = [r for r in results if r.kind != "unanswerable"]
    n = max(len(answerable), 1)
    out = {f"recall@{c}": sum(r.first_relevant is not None and r.first_relevant <= c
                              for r in answerable) / n for c in RECALL_AT if c <= k}
    out["mrr@10"] = sum(reciprocal_rank(r.relevance, 10) for r in answerable) / n
    out["ndcg@10"] = sum(ndcg(r.relevance, r.total_relevant, 10) for r in answerable) / n
    return out


def summarize(results: list[ItemResult], mode: str, split: str, k: int) -> Summary:
    answerable = [r for r in results if r.kind != "unanswerable"]
    unanswerable = [r for r in results if r.kind == "unanswerable"]
    metrics = _retrieval_metrics(results, k)
    latencies = [r.latency_ms for r in results]
    words = [w for r in results for w in r.words[:5]]
    by_kind = {}
    for kind in KINDS:
        group = [r for r in results if r.kind == kind]
        if not group:
            continue
        if kind == "unanswerable":
            by_kind[kind] = {"n": len(group),
                             "abstention": sum(not r.answered for r in group) / len(group)}
        else:
            by_kind[kind] = {"n": len(group), **_retrieval_metrics(group, k),
                             "answer_accuracy": sum(bool(r.answer_correct) for r in group)
                             / len(group)}
    misses = [
        {"id": r.id, "kind": r.kind, "question": r.question, "rank": r.first_relevant,
         "top_citation": r.top_citation}
        for r in answerable if r.first_relevant is None or r.first_relevant > 5
    ]
    return Summary(
        mode=mode, split=split, k=k, questions=len(results), answerable=len(answerable),
        recall={c: metrics[f"recall@{c}"] for c in RECALL_AT if c <= k},
        mrr=metrics["mrr@10"], ndcg=metrics["ndcg@10"],
        answer_accuracy=sum(bool(r.answer_correct) for r in answerable) / max(len(answerable), 1),
        abstention=sum(not r.answered for r in unanswerable) / max(len(unanswerable), 1),
        false_abstention=sum(not r.answered for r in answerable) / max(len(answerable), 1),
        words_per_passage=statistics.mean(words) if words else 0.0,
        latency_p50_ms=percentile(latencies, 0.5), latency_p95_ms=percentile(latencies, 0.95),
        by_kind=by_kind, misses=misses,
    )


def evaluate(index: Index, items: list[GoldItem], mode: str = "hybrid", k: int = 10,
             split: str = "all", progress: Callable[[int, int], None] | None = None) -> Summary:
    """Ask every gold question (warm: the model is loaded first) and summarize."""
    ask(index, "warm-up question", k=k, mode=mode)
    results = []
    for n, item in enumerate(items, 1):
        results.append(run_item(index, item, mode, k))
        if progress:
            progress(n, len(items))
    return summarize(results, mode, split, k)

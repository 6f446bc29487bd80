"""Stage 7: measure retrieval and answers against the gold Q&A set (eval/gold.jsonl).

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
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .answers import ask
from .config import ROOT
from .index import Index
from .normalize import normalize
from .quotes import find_quote
from .retrieval import MODES, clear_word_cache

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

    @property
    def answerable(self) -> bool:
        return self.kind != "unanswerable"

    @property
    def split(self) -> str:
        """dev or test, fixed by a seeded hash of the id, so adding items never reshuffles."""
        digest = hashlib.sha256(f"{SPLIT_SEED}:{self.id}".encode()).digest()
        return "dev" if digest[0] < 128 else "test"


def load_gold(path: Path = GOLD) -> list[GoldItem]:
    items: list[GoldItem] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            item = GoldItem(raw["id"], raw["kind"], raw["question"], tuple(raw["quotes"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a gold item ({exc})") from None
        if item.kind not in KINDS:
            raise ValueError(f"{path}:{n}: unknown kind {item.kind!r}")
        if item.answerable != bool(item.quotes):
            raise ValueError(f"{path}:{n}: answerable items need quotes, unanswerable ones none")
        items.append(item)
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


# ---------------------------------------------------------------- reports


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _table_head(cells: list[str]) -> list[str]:
    """A table's header and delimiter rows: GitHub renders no table when their cell counts differ."""
    return ["| " + " | ".join(cells) + " |", "|---" * len(cells) + "|"]


def report_markdown(summaries: list[Summary], gold_path: Path) -> str:
    first = summaries[0]
    lines = [
        "# Retrieval evaluation",
        "",
        f"Gold set `{gold_path.name}`, split **{first.split}**: {first.questions} questions "
        f"({first.answerable} answerable), k = {first.k}. Produced by `policyqa eval --split "
        f"{first.split} --report eval/`.",
        "",
        *_table_head(["mode", *(f"R@{c}" for c in first.recall), "MRR@10", "nDCG@10",
                      "answer acc", "abstention", "false abst.", "words/passage", "p50 ms",
                      "p95 ms"]),
    ]
    for s in summaries:
        lines.append(
            f"| {s.mode} | " + " | ".join(_fmt(v) for v in s.recall.values())
            + f" | {_fmt(s.mrr)} | {_fmt(s.ndcg)} | {_fmt(s.answer_accuracy)} | "
            f"{_fmt(s.abstention)} | {_fmt(s.false_abstention)} | {s.words_per_passage:.0f} | "
            f"{s.latency_p50_ms:.1f} | {s.latency_p95_ms:.1f} |"
        )
    hybrid = next((s for s in summaries if s.mode == "hybrid"), first)
    lines += ["", f"## By kind ({hybrid.mode})", "",
              *_table_head(["kind", "n", "R@1", "R@5", "MRR@10", "answer acc", "abstention"])]
    for kind, m in hybrid.by_kind.items():
        if kind == "unanswerable":
            lines.append(f"| {kind} | {m['n']} | | | | | {_fmt(m['abstention'])} |")
        else:
            lines.append(f"| {kind} | {m['n']} | {_fmt(m['recall@1'])} | {_fmt(m['recall@5'])} | "
                         f"{_fmt(m['mrr@10'])} | {_fmt(m['answer_accuracy'])} | |")
    lines += ["", f"## Misses at k = 5 ({hybrid.mode})", ""]
    if not hybrid.misses:
        lines.append("None.")
    for miss in hybrid.misses:
        where = f"rank {miss['rank']}" if miss["rank"] else "not in top k"
        lines.append(f"- `{miss['id']}` ({miss['kind']}, {where}): {miss['question']} "
                     f"(top passage: {miss['top_citation']})")
    lines += ["", "![Recall and MRR by mode](chart.png)", ""]
    return "\n".join(lines)


def write_chart(summaries: list[Summary], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    metrics = [f"R@{c}" for c in summaries[0].recall] + ["MRR@10", "nDCG@10", "answer acc"]
    fig, ax = plt.subplots(figsize=(8, 4), dpi=120)
    width = 0.8 / len(summaries)
    for n, s in enumerate(summaries):
        values = list(s.recall.values()) + [s.mrr, s.ndcg, s.answer_accuracy]
        xs = [i + n * width for i in range(len(metrics))]
        ax.bar(xs, values, width, label=s.mode)
    ax.set_xticks([i + width * (len(summaries) - 1) / 2 for i in range(len(metrics))], metrics)
    ax.set_ylim(0, 1.05)
    ax.set_title(f"policyqa retrieval, {summaries[0].split} split ({summaries[0].questions} q)")
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def record_baseline(summaries: list[Summary], path: Path) -> None:
    """Merge each mode's headline figures for this split into a baseline file, for regressions."""
    baseline = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for s in summaries:
        baseline.setdefault(s.mode, {})[s.split] = {
            "questions": s.questions,
            **{f"recall@{c}": round(v, 4) for c, v in s.recall.items()},
            "mrr@10": round(s.mrr, 4), "ndcg@10": round(s.ndcg, 4),
            "answer_accuracy": round(s.answer_accuracy, 4), "abstention": round(s.abstention, 4),
            "false_abstention": round(s.false_abstention, 4),
        }
    path.write_text(json.dumps(baseline, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def run_cli(args, index: Index) -> int:
    """`policyqa eval`: every mode on the chosen split; table on stdout, optional report folder."""
    gold_path = Path(args.gold) if args.gold else GOLD
    if not gold_path.exists():
        raise ValueError(f"gold file not found: {gold_path}")
    items = select(load_gold(gold_path), args.split)
    if not items:
        raise ValueError(f"no gold items in split {args.split!r}")
    summaries = []
    for mode in MODES:
        def progress(done: int, total: int, mode: str = mode) -> None:
            print(f"\r{mode}: {done}/{total}", end="" if done < total else "\n", file=sys.stderr)

        summaries.append(evaluate(index, items, mode=mode, k=args.k, split=args.split,
                                  progress=progress))
    if args.json:
        print(json.dumps([asdict(s) for s in summaries], indent=2))
    else:
        print(report_markdown(summaries, gold_path))
    if args.baseline:
        record_baseline(summaries, Path(args.baseline))
        print(f"recorded {args.split} figures in {args.baseline}", file=sys.stderr)
    if args.report:
        folder = Path(args.report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.md").write_text(report_markdown(summaries, gold_path), encoding="utf-8")
        write_chart(summaries, folder / "chart.png")
        print(f"wrote {folder / 'report.md'} and {folder / 'chart.png'}", file=sys.stderr)
    return 0

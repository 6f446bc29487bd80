"""`policyqa eval` and what it writes: the Markdown report, the chart, the regression baseline.

The metrics themselves are evaluation.py's; this module only runs them per mode and presents them.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import asdict
from pathlib import Path

from .config import ROOT
from .evaluation import GOLD, Summary, evaluate, load_gold, select
from .index import Index
from .retrieval import MODES


def _fmt(x: float) -> str:
    return f"{x:.3f}"


def _table_head(cells: list[str]) -> list[str]:
    """A table's header and delimiter rows: GitHub renders no table when their cell counts differ."""
    return ["| " + " | ".join(cells) + " |", "|---" * len(cells) + "|"]


def report_markdown(summaries: list[Summary], gold_path: Path, corpus: str = "corpus/") -> str:
    first = summaries[0]
    lines = [
        "# Retrieval evaluation",
        "",
        f"Gold set `{gold_path.name}`, its questions over `{corpus}`, split **{first.split}**: "
        f"{first.questions} questions ({first.answerable} answerable), k = {first.k}. Produced "
        f"by `policyqa eval{'' if corpus == 'corpus/' else ' --corpus ' + corpus.rstrip('/')} "
        f"--split {first.split} --report eval/`.",
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


def _label(folder: Path) -> str:
    """The corpus folder as a gold item names it: relative to the project root where it can be."""
    try:
        return os.path.relpath(folder.resolve(), ROOT) + "/"
    except ValueError:  # another drive (Windows)
        return str(folder)


def run_cli(args, index: Index) -> int:
    """`policyqa eval`: every mode on the chosen split; table on stdout, optional report folder."""
    gold_path = Path(args.gold) if args.gold else GOLD
    if not gold_path.exists():
        raise ValueError(f"gold file not found: {gold_path}")
    corpus = index.settings.corpus_dir
    over = load_gold(gold_path, corpus)
    if not over:
        raise ValueError(f"{gold_path} has no questions over {corpus} (an item names its corpus "
                         f"folder in \"corpus\", relative to {ROOT}; none means corpus/)")
    label = _label(corpus)
    items = select(over, args.split)
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
        print(report_markdown(summaries, gold_path, label))
    if args.baseline:
        record_baseline(summaries, Path(args.baseline))
        print(f"recorded {args.split} figures in {args.baseline}", file=sys.stderr)
    if args.report:
        folder = Path(args.report)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "report.md").write_text(report_markdown(summaries, gold_path, label),
                                          encoding="utf-8")
        write_chart(summaries, folder / "chart.png")
        print(f"wrote {folder / 'report.md'} and {folder / 'chart.png'}", file=sys.stderr)
    return 0

"""Grid experiments on the dev split: `python eval/experiments.py [--split dev] [--only NAME]`.

Retrieval knobs are swapped on a loaded index (no rebuild); chunking and tokenizer settings build
a separate index under artifacts/. Results go to stdout as a markdown table for EXPERIMENTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from policyqa.config import ROOT, ChunkSettings, load_settings  # noqa: E402
from policyqa.evaluation import evaluate, load_gold, select  # noqa: E402
from policyqa.index import load_index  # noqa: E402
from policyqa.store import backend  # noqa: E402


def with_retrieval(index, **changes):
    """The same index with other retrieval knobs (the store reopened if BM25's changed: it
    computes BM25 weights from the stored term counts when it opens)."""
    settings = replace(index.settings, retrieval=replace(index.settings.retrieval, **changes))
    index = replace(index, settings=settings)
    if {"bm25_variant", "bm25_k1", "bm25_b"} & set(changes):
        index = replace(index, store=backend(settings).open(settings))
    return index


def row(name, s):
    return (f"| {name} | {s.recall[1]:.3f} | {s.recall[5]:.3f} | {s.mrr:.3f} | "
            f"{s.answer_accuracy:.3f} | {s.abstention:.3f} | {s.false_abstention:.3f} | "
            f"{s.words_per_passage:.0f} |")


RETRIEVAL_GRID = {
    "default": {},
    "no expansion": {"expansion_weight": 0.0},
    "expansion .5": {"expansion_weight": 0.5},
    "expansion sim .6": {"expansion_min_similarity": 0.6},
    "first round (no stand-ins)": {"stand_in_weight": 0.25,
                                   "embed_stand_ins": False},
    "stand-ins .5": {"stand_in_weight": 0.5},
    "stand-ins 1.0": {"stand_in_weight": 1.0},
    "stand-ins not embedded": {"embed_stand_ins": False},
    "stand-ins only (corpus words not expanded)": {"expansion_weight": 0.0},
    "rrf no expansion": {"fusion": "rrf", "expansion_weight": 0.0},
    "rrf": {"fusion": "rrf"},
    "weighted dense .4": {"dense_weight": 0.4},
    "weighted dense .5": {"dense_weight": 0.5},
    "weighted dense .7": {"dense_weight": 0.7},
    "named doc .1": {"named_document_boost": 0.1},
    "named doc .2": {"named_document_boost": 0.2},
    "named doc .3": {"named_document_boost": 0.3},
    "no quoted-phrase boost": {"quoted_phrase_boost": 0.0},
    "quoted phrase .1": {"quoted_phrase_boost": 0.1},
    "quoted phrase .5": {"quoted_phrase_boost": 0.5},
    "neighbours 2": {"expansion_neighbours": 2},
    "neighbours 5": {"expansion_neighbours": 5},
    "expansion sim .45": {"expansion_min_similarity": 0.45},
    "expansion sim .55": {"expansion_min_similarity": 0.55},
    "answer prior .1": {"answer_rank_prior": 0.1},
    "answer prior .2": {"answer_rank_prior": 0.2},
    "answer passages 1": {"answer_passages": 1},
    "answer passages 2": {"answer_passages": 2},
    "no answer-type check": {"answer_type_check": False},
    "okapi": {"bm25_variant": "okapi"},
    "bm25l": {"bm25_variant": "l"},
    "plus k1=1.5 b=.75": {"bm25_k1": 1.5},
    "plus k1=0.9 b=.4": {"bm25_k1": 0.9, "bm25_b": 0.4},
}

INDEX_GRID = {
    "chunks 60/120": {"chunking": ChunkSettings(target_words=60, max_words=120, min_words=15)},
    "chunks 160/240": {"chunking": ChunkSettings(target_words=160, max_words=240, min_words=40)},
    "no heading context": {"heading_context": False},
    "no stemming": {"stem": False},
    "no stop words": {"stopwords": False},
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev")
    parser.add_argument("--only", help="run one named experiment")
    parser.add_argument("--modes", default="hybrid")
    parser.add_argument("--index", help="index folder (default: the project's index/)")
    args = parser.parse_args()
    items = select(load_gold(), args.split)
    settings = load_settings(index_dir=args.index) if args.index else load_settings()
    base = load_index(settings)
    print("| experiment | R@1 | R@5 | MRR@10 | answer acc | abstention | false abst. | words |")
    print("|---|---|---|---|---|---|---|---|")
    for name, changes in RETRIEVAL_GRID.items():
        if args.only and name != args.only:
            continue
        index = with_retrieval(base, **changes)
        for mode in args.modes.split(","):
            print(row(f"{name} ({mode})", evaluate(index, items, mode=mode)), flush=True)
    for name, changes in INDEX_GRID.items():
        if args.only and name != args.only:
            continue
        retrieval = {k: v for k, v in changes.items() if k != "chunking"}
        variant = replace(settings, chunking=changes.get("chunking", settings.chunking),
                          retrieval=replace(settings.retrieval, **retrieval),
                          index_dir=ROOT / "artifacts" / "experiments" / name.replace(" ", "-"))
        index = load_index(variant)
        print(row(name, evaluate(index, items)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Probe the embedding runtimes side by side in one process: torch (sentence-transformers) against
ONNX Runtime fp32 and int8, at 1 and 2 intra-op threads.

    .venv/bin/python -m benchmarks.onnx_probe [--questions N] [--json FILE]

Figures: import time (`python -X importtime`, fresh processes); per-question encode latency
p50/p95 over the gold questions, one asker and 4 concurrent askers (threads); ingestion
throughput (texts/s) over the corpus's chunks and sentences; cosine of each runtime's vectors to
torch's (and int8's to fp32's) over the gold questions and 200 corpus texts. The machine is shared,
so compare figures within one run; each latency is a median or percentile over many calls.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import replace

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

from policyqa.chunks import make_chunks  # noqa: E402
from policyqa.config import Settings  # noqa: E402
from policyqa.documents import read_document  # noqa: E402
from policyqa.embedding import load_embedder  # noqa: E402
from policyqa.sections import parse_sections  # noqa: E402


def gold_questions() -> list[str]:
    from policyqa.evaluation import load_gold

    return [item.question for item in load_gold()]


def corpus_texts(settings: Settings) -> list[str]:
    """The corpus's chunk and sentence texts (what an ingest embeds, less the word lists)."""
    chunks, sentences = [], []
    for path in sorted(settings.corpus_dir.glob("*.txt")):
        doc = read_document(path)
        for c in make_chunks(doc, parse_sections(doc), settings.chunking):
            chunks.append(c.text)
            sentences.extend(doc.text[s:e] for s, e in c.sentences)
    return chunks + sentences


def import_seconds(modules: str, repeats: int = 3) -> float:
    """Median cumulative import time of `modules` in a fresh interpreter (python -X importtime)."""
    top = [m.strip() for m in modules.split(",")]
    runs = []
    for _ in range(repeats):
        err = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {modules}"],
                             capture_output=True, text=True, check=True).stderr
        total = 0
        for line in err.splitlines():
            parts = line.split("|")
            if len(parts) == 3 and parts[2].rstrip() in {f" {m}" for m in top}:
                total += int(parts[1])
        runs.append(total / 1e6)
    return statistics.median(runs)


def percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def single_asker(embedder, questions: list[str]) -> list[float]:
    embedder.encode(questions[:5])  # warm: session made, arenas grown
    times = []
    for q in questions:
        t = time.perf_counter()
        embedder.encode([q])
        times.append(time.perf_counter() - t)
    return times


def concurrent_askers(embedder, questions: list[str], askers: int = 4) -> tuple[list[float], float]:
    """`askers` threads, each encoding every question (from its own starting point), at once."""
    embedder.encode(questions[:5])
    times: list[float] = []
    lock, start = threading.Lock(), threading.Barrier(askers)

    def ask(offset: int) -> None:
        mine = []
        start.wait()
        for q in questions[offset:] + questions[:offset]:
            t = time.perf_counter()
            embedder.encode([q])
            mine.append(time.perf_counter() - t)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=ask, args=(i * len(questions) // askers,)) for i in range(askers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, len(times) / (time.perf_counter() - t0)


def throughput(embedder, texts: list[str]) -> float:
    embedder.encode(texts[:64])
    t = time.perf_counter()
    embedder.encode(texts, batch_size=64)
    return len(texts) / (time.perf_counter() - t)


def cosines(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    c = np.sum(a * b, axis=1)
    return float(c.min()), float(c.mean())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=0, help="use the first N gold questions")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians)")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)
    rounds = args.rounds
    base = Settings()
    questions = gold_questions()[: args.questions or None]
    corpus = corpus_texts(base)
    sample = corpus[:: max(1, len(corpus) // 200)][:200]
    out: dict = {"questions": len(questions), "corpus_texts": len(corpus), "cpus": os.cpu_count()}

    out["import_s"] = {"onnxruntime, tokenizers": import_seconds("onnxruntime, tokenizers"),
                       "torch, sentence_transformers": import_seconds("torch, sentence_transformers")}
    print("import seconds:", out["import_s"], file=sys.stderr)

    torch = load_embedder(replace(base, runtime="torch"))
    variants = {"torch": torch}
    for quant in (False, True):
        for threads in (1, 2):
            name = f"onnx {'int8' if quant else 'fp32'} {threads}t"
            variants[name] = load_embedder(replace(base, runtime="onnx", onnx_int8=quant,
                                                   onnx_threads=threads, onnx_bulk_threads=threads))
    t = time.perf_counter()
    variants["onnx int8 1t"].model_path()  # the fp32 export too, when missing
    out["make_onnx_files_s"] = time.perf_counter() - t

    reference = {"gold": torch.encode(questions), "corpus": torch.encode(sample)}
    fp32 = {k: variants["onnx fp32 1t"].encode(v) for k, v in (("gold", questions), ("corpus", sample))}
    out["cosine_to_torch"], out["cosine_int8_to_fp32"] = {}, {}
    for name in ("onnx fp32 1t", "onnx int8 1t"):
        for kind, texts in (("gold", questions), ("corpus", sample)):
            vectors = variants[name].encode(texts)
            out["cosine_to_torch"][f"{name} {kind}"] = cosines(vectors, reference[kind])
            if "int8" in name:
                out["cosine_int8_to_fp32"][kind] = cosines(vectors, fp32[kind])

    # Rounds interleave the variants, so a burst of load from other processes hits them alike.
    variants["onnx fp32 all cores (bulk)"] = load_embedder(
        replace(base, runtime="onnx", onnx_threads=0, onnx_bulk_threads=0))
    single: dict[str, list] = {n: [] for n in variants}
    together: dict[str, list] = {n: [] for n in variants}
    qps: dict[str, list] = {n: [] for n in variants}
    ingest: dict[str, list] = {n: [] for n in variants}
    for round_ in range(rounds):
        for name, embedder in variants.items():
            if "bulk" not in name:
                single[name] += single_asker(embedder, questions)
                times, rate = concurrent_askers(embedder, questions)
                together[name] += times
                qps[name].append(rate)
            ingest[name].append(throughput(embedder, corpus))
            print(f"round {round_ + 1}/{rounds}: {name}", file=sys.stderr)
    out["latency_ms"] = {n: percentiles(v) for n, v in single.items() if v}
    out["concurrent_ms"] = {n: percentiles(v) for n, v in together.items() if v}
    out["concurrent_qps"] = {n: statistics.median(v) for n, v in qps.items() if v}
    out["ingest_texts_per_s"] = {n: statistics.median(v) for n, v in ingest.items()}

    print(table(out))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


def table(out: dict) -> str:
    lines = [f"{out['questions']} gold questions, {out['corpus_texts']} corpus texts, "
             f"{out['cpus']} CPUs", "",
             "| runtime | 1 asker p50 / p95 ms | 4 askers p50 / p95 ms | 4 askers q/s | ingest texts/s |",
             "| --- | --- | --- | --- | --- |"]
    for name, (p50, p95) in out["latency_ms"].items():
        c50, c95 = out["concurrent_ms"][name]
        lines.append(f"| {name} | {p50:.1f} / {p95:.1f} | {c50:.1f} / {c95:.1f} | "
                     f"{out['concurrent_qps'][name]:.0f} | {out['ingest_texts_per_s'][name]:.0f} |")
    for name, rate in out["ingest_texts_per_s"].items():
        if name not in out["latency_ms"]:
            lines.append(f"| {name} | | | | {rate:.0f} |")
    lines += ["", "| import | seconds |", "| --- | --- |"]
    lines += [f"| {k} | {v:.2f} |" for k, v in out["import_s"].items()]
    lines += ["", "| cosine | min | mean |", "| --- | --- | --- |"]
    lines += [f"| {k} vs torch | {lo:.7f} | {mean:.7f} |" for k, (lo, mean) in out["cosine_to_torch"].items()]
    lines += [f"| int8 vs fp32 {k} | {lo:.5f} | {mean:.5f} |"
              for k, (lo, mean) in out["cosine_int8_to_fp32"].items()]
    lines.append(f"\nmaking the ONNX files (when missing): {out['make_onnx_files_s']:.1f} s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())

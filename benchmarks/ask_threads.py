"""Whole `ask` calls under 1 and 2 ONNX Runtime intra-op threads, one asker and four at once.

    .venv/bin/python -m benchmarks.ask_threads [--rounds 2]

Each figure is a fresh process (POLICYQA_ONNX_THREADS set for it) over the gold questions on the
built index/, rounds interleaved so that the machine's drift falls on both settings alike. It
measures what `embedding.onnx_runtime`'s thread choice is about: a lone asker's latency against
the throughput of concurrent askers (the page's sessions) on the same cores. With 2, a question
asked while no other is in flight gets two threads and overlapping ones one each.
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

ASKERS = 4


def probe(mode: str) -> dict:
    """One process's figures: `mode` is "one" (sequential) or "four" (concurrent askers)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from policyqa.answers import ask
    from policyqa.config import load_settings
    from policyqa.evaluation import load_gold
    from policyqa.index import load_index

    questions = [item.question for item in load_gold()]
    index = load_index(load_settings(), rebuild="never")
    ask(index, "warm-up question")
    if mode == "four" and hasattr(index.embedder, "question_session"):
        # A serving process makes its one-thread session when questions first overlap (0.1-0.2 s,
        # once); made here, before the clock, so the figure is the steady state.
        index.embedder.session(1)
    latencies: list[float] = []
    lock = threading.Lock()

    def asker(share: list[str]) -> None:
        for question in share:
            t0 = time.perf_counter()
            ask(index, question)
            with lock:
                latencies.append((time.perf_counter() - t0) * 1e3)

    askers = 1 if mode == "one" else ASKERS
    started = time.perf_counter()
    threads = [threading.Thread(target=asker, args=(questions[n::askers],)) for n in range(askers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    latencies.sort()
    return {"askers": askers, "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[int(0.95 * (len(latencies) - 1))], "qps": len(latencies) / wall}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--probe", choices=["one", "four"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        print(json.dumps(probe(args.probe)))
        return 0
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    print("| round | askers | threads | p50 ms | p95 ms | q/s |")
    print("|---|---|---|---|---|---|")
    for r in range(1, args.rounds + 1):
        for mode in ("one", "four"):
            for threads in ("1", "2"):
                env = dict(os.environ, POLICYQA_ONNX_THREADS=threads)
                out = subprocess.run([sys.executable, "-m", "benchmarks.ask_threads", "--probe",
                                      mode], env=env, capture_output=True, text=True)
                if out.returncode:
                    sys.exit(f"probe failed ({mode}, {threads} threads):\n{out.stderr[-2000:]}")
                f = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"| {r} | {f['askers']} | {threads} | {f['p50_ms']:.1f} | "
                      f"{f['p95_ms']:.1f} | {f['qps']:.0f} |", flush=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

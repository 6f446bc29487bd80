"""The benchmark runs end to end at its smallest size (real model, real FAISS), and reports."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

from policyqa.config import ROOT

SECTIONS = ("## Targets", "## Cold start", "## Warm query latency", "## Peer: Haystack",
            "## Index build", "## Incremental ingest", "## Scale")


def test_benchmark_smoke_writes_report_and_chart(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("longmont-case-management-code-of-conduct.txt", "metadata.toml"):
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    out = tmp_path / "out"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--no-install", "--no-peer",
         "--sizes", "1000", "--corpus", str(corpus), "--out", str(out), "--json", str(tmp_path / "raw.json")],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    report = (out / "REPORT.md").read_text(encoding="utf-8")
    positions = [report.index(heading) for heading in SECTIONS]
    assert positions == sorted(positions)
    assert "Not measured: left out by --no-peer" in report
    assert "random unit vectors" in report and "![latency, scale and memory](chart.png)" in report
    assert (out / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    raw = json.loads((tmp_path / "raw.json").read_text())
    # the re-ingest after the edit re-embedded only a few texts and reused the rest
    incremental = raw["ingest"][0]["incremental"]
    assert 1 <= incremental["embedded"]["chunks"] <= 3 < incremental["cached"]["chunks"]
    assert raw["ingest"][0]["full"]["cached"]["chunks"] == 0
    # about 1k synthetic chunks, queried with every gold question asked once per mode
    scale = raw["scale"][0]
    assert 700 <= scale["build"]["chunks"] <= 1400
    assert all(len(scale["query"]["latency_ms"][m]) == 10 for m in ("hybrid", "bm25", "dense", "ask"))
    assert {"import_s", "index_load_s", "model_load_s", "first_answer_s"} <= raw["cold"][0].keys()
    # the figures depend on the CPU's vector instructions, so the report names them
    flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("flags")), "").split()
    if "avx2" in flags:
        isa = "AVX-512 VNNI" if "avx512_vnni" in flags else "AVX-512" if "avx512f" in flags else "AVX2"
        assert raw["machine"]["cpu"].endswith(isa) and f"({raw['machine']['cpu']})" in report

"""Ingest throughput for one large PDF: read (text extraction, header/footer removal, cleaning),
sections and chunks, timed separately, with pages/s and chunks/s.

    python -m benchmarks.ingest_pdf [PDF]     # default: ../shared/realdocs/GeoTopo-komprimiert.pdf

`measure(pdf_path)` returns the figures as a dict, for benchmarks/run.py to report. Embedding is
not included: it is the index build's cost, measured there per chunk.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from policyqa.chunks import make_chunks
from policyqa.config import ROOT, load_settings
from policyqa.documents import read_document
from policyqa.sections import parse_sections

DEFAULT_PDF = ROOT.parent / "shared" / "realdocs" / "GeoTopo-komprimiert.pdf"


def measure(pdf_path: Path = DEFAULT_PDF) -> dict:
    """Seconds for each stage over the PDF, and pages/s and chunks/s over the three together."""
    settings = load_settings(ROOT / "corpus", ROOT / "index")
    started = time.perf_counter()
    doc = read_document(Path(pdf_path))
    read_s = time.perf_counter() - started
    mark = time.perf_counter()
    structure = parse_sections(doc)
    sections_s = time.perf_counter() - mark
    mark = time.perf_counter()
    chunks = make_chunks(doc, structure, settings.chunking)
    chunks_s = time.perf_counter() - mark
    total = read_s + sections_s + chunks_s
    return {
        "file": Path(pdf_path).name,
        "pages": doc.pages,
        "characters": len(doc.text),
        "sections": len(structure.sections) - 1,
        "chunks": len(chunks),
        "read_s": round(read_s, 3),
        "sections_s": round(sections_s, 3),
        "chunks_s": round(chunks_s, 3),
        "total_s": round(total, 3),
        "pages_per_s": round(doc.pages / total, 1) if total else None,
        "chunks_per_s": round(len(chunks) / total, 1) if total else None,
    }


if __name__ == "__main__":
    print(json.dumps(measure(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_PDF), indent=2))

"""Measurements that each run in a fresh process: `python -m benchmarks.probes NAME JSON_ARGS`.

A fresh process per probe makes cold start real and peak RSS (ru_maxrss) belong to one task. Each
probe prints one JSON object as its last line of stdout. Only the standard library is imported at
the top, so the import timing of the cold-start probe starts from a bare interpreter.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

MODES = ("hybrid", "bm25", "dense")


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _settings(args: dict):
    from policyqa.config import load_settings

    return load_settings(args["corpus"], args["index"])


def _questions(args: dict):
    from policyqa.evaluation import load_gold

    items = load_gold()
    return items[: args["questions"]] if args.get("questions") else items


def cold(args: dict) -> dict:
    """New process to first answer: import, index load, model load, first answer."""
    t0 = time.perf_counter()
    from policyqa.answers import ask
    from policyqa.index import load_index

    t1 = time.perf_counter()
    index = load_index(_settings(args), rebuild="never")
    t2 = time.perf_counter()
    _ = index.embedder.encode(["load the model"])
    t3 = time.perf_counter()
    answer = ask(index, "How should I keep participant records?")
    t4 = time.perf_counter()
    return {"import_s": t1 - t0, "index_load_s": t2 - t1, "model_load_s": t3 - t2,
            "first_answer_s": t4 - t3, "in_process_s": t4 - t0, "answered_at": time.time(),
            "answered": answer.answered}


def _latencies(index, questions, repeats: int) -> dict:
    """Per-question wall time of search (each mode, k=10) and of ask (hybrid, with answer)."""
    from policyqa.answers import ask
    from policyqa.blas import one_blas_thread
    from policyqa.query import clear_word_cache, prepare
    from policyqa.retrieval import search

    candidates = one_blas_thread(index.store.candidates)  # on one thread, as search runs it
    out: dict[str, list[float]] = {m: [] for m in MODES}
    out.update({"ask": [], "answer_selection": [], "encode": [], "store_candidates": [],
                "search_after_encode": []})
    ask(index, "warm-up question")
    for _ in range(repeats):
        for item in questions:
            # Every timed call starts without remembered word vectors: a first-time question.
            for mode in MODES:
                clear_word_cache()
                t = time.perf_counter()
                search(index, prepare(index, item.question), mode=mode, k=10)
                out[mode].append((time.perf_counter() - t) * 1e3)
            clear_word_cache()
            answer = ask(index, item.question)
            out["ask"].append(answer.timings_ms["total"])
            out["answer_selection"].append(answer.timings_ms["answer"])
            # where the hybrid time goes
            clear_word_cache()
            t = time.perf_counter()
            query = prepare(index, item.question)
            t1 = time.perf_counter()
            candidates(query.vector, query.terms, index.settings.retrieval.candidates)
            t2 = time.perf_counter()
            search(index, query, mode="hybrid", k=10)
            t3 = time.perf_counter()
            for name, ms in (("encode", t1 - t), ("store_candidates", t2 - t1),
                             ("search_after_encode", t3 - t2)):
                out[name].append(ms * 1e3)
    return out


def _accuracy(ranked_texts: list[list[str]], questions) -> dict:
    """Recall@5 and MRR@10 over answerable questions, with the project's relevance rule."""
    from policyqa.evaluation import is_relevant, reciprocal_rank

    found, rr, n = 0, 0.0, 0
    for texts, item in zip(ranked_texts, questions, strict=True):
        if not item.answerable:
            continue
        relevance = [is_relevant(t, item.quotes) for t in texts]
        n += 1
        found += any(relevance[:5])
        rr += reciprocal_rank(relevance, 10)
    return {"recall@5": found / max(n, 1), "mrr@10": rr / max(n, 1), "answerable": n}


def warm(args: dict) -> dict:
    """Warm latencies and accuracy of our pipeline on the gold questions."""
    from policyqa.index import load_index
    from policyqa.query import prepare
    from policyqa.retrieval import search

    t = time.perf_counter()
    index = load_index(_settings(args), rebuild="never")
    load_s = time.perf_counter() - t
    questions = _questions(args)
    latencies = _latencies(index, questions, args["repeats"])
    ranked = [[h.chunk.text for h in search(index, prepare(index, q.question), k=10)]
              for q in questions]
    return {"chunks": len(index.chunks), "sentences": index.manifest["counts"]["sentences"],
            "index_load_s": load_s, "latency_ms": latencies, "questions": len(questions),
            "accuracy": _accuracy(ranked, questions), "peak_rss_mib": peak_rss_mib()}


def build(args: dict) -> dict:
    """A build of the real corpus (model loaded first, timed apart); reuses the cache if any."""
    from policyqa.embedding import load_embedder
    from policyqa.ingest import build_index

    settings = _settings(args)
    t = time.perf_counter()
    embedder = load_embedder(settings)
    _ = embedder.encode(["load the model"])
    model_s = time.perf_counter() - t
    report = build_index(settings, embedder=embedder)
    return {"model_load_s": model_s, "build_s": report.seconds, "timings": report.timings,
            "chunks": report.chunks, "sentences": report.sentences,
            "embedded": report.embedded, "cached": report.cached, "peak_rss_mib": peak_rss_mib()}


def scale_build(args: dict) -> dict:
    """A synthetic corpus of about `size` chunks, indexed with random unit vectors."""
    from pathlib import Path

    from benchmarks.synthetic import RandomEmbedder, make_corpus
    from policyqa.ingest import build_index

    settings = _settings(args)
    real = _settings({"corpus": args["real_corpus"], "index": args["index"]})
    t = time.perf_counter()
    documents = make_corpus(real, args["size"], Path(args["corpus"]))
    corpus_s = time.perf_counter() - t
    report = build_index(settings, embedder=RandomEmbedder(settings))
    return {"documents": documents, "corpus_s": corpus_s, "build_s": report.seconds,
            "timings": report.timings, "chunks": report.chunks, "sentences": report.sentences,
            "peak_rss_mib": peak_rss_mib()}


def peer(args: dict) -> dict:
    """Haystack's in-memory hybrid pipeline over the same chunks, with the same model."""
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore
    from haystack.utils import ComponentDevice
    from haystack_integrations.components.embedders.sentence_transformers import (
        SentenceTransformersDocumentEmbedder,
        SentenceTransformersTextEmbedder,
    )

    from policyqa.index import load_index

    settings = _settings(args)
    index = load_index(settings, rebuild="never")
    cpu = ComponentDevice.from_str("cpu")
    # The same text our model reads: section headings, ": ", then the chunk's words.
    docs = [Document(id=str(c.chunk_id), content=c.text, meta={"heading": c.heading_text})
            for c in index.chunks]
    doc_embedder = SentenceTransformersDocumentEmbedder(
        model=settings.model, device=cpu, normalize_embeddings=True, progress_bar=False,
        local_files_only=True, meta_fields_to_embed=["heading"], embedding_separator=": ")
    doc_embedder.warm_up()
    t = time.perf_counter()
    docs = doc_embedder.run(documents=docs)["documents"]
    embed_s = time.perf_counter() - t
    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    store.write_documents(docs)
    k = 10
    pipe = Pipeline()
    pipe.add_component("embedder", SentenceTransformersTextEmbedder(
        model=settings.model, device=cpu, normalize_embeddings=True, progress_bar=False,
        local_files_only=True))
    pipe.add_component("bm25", InMemoryBM25Retriever(store, top_k=k))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=k))
    pipe.add_component("joiner", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k))
    pipe.connect("embedder.embedding", "dense.query_embedding")
    pipe.connect("bm25", "joiner")
    pipe.connect("dense", "joiner")

    def run(question: str) -> list[str]:
        result = pipe.run({"embedder": {"text": question}, "bm25": {"query": question}})
        return [index.chunks[int(d.id)].text for d in result["joiner"]["documents"]]

    questions = _questions(args)
    run("warm-up question")
    latencies = []
    for _ in range(args["repeats"]):
        for item in questions:
            t = time.perf_counter()
            run(item.question)
            latencies.append((time.perf_counter() - t) * 1e3)
    ranked = [run(q.question) for q in questions]
    import haystack

    return {"version": haystack.__version__, "chunks": len(docs), "embed_s": embed_s,
            "latency_ms": {"hybrid": latencies}, "accuracy": _accuracy(ranked, questions),
            "peak_rss_mib": peak_rss_mib()}


PROBES = {"cold": cold, "warm": warm, "build": build, "scale_build": scale_build, "peer": peer}


def main() -> None:
    name, args = sys.argv[1], json.loads(sys.argv[2])
    result = PROBES[name](args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

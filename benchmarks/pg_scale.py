"""The PostgreSQL store at 100k and 1M chunks: build time, database size, HNSW recall@50, the
hybrid candidates statement's latency and the server's memory; and where exact search stops
being cheaper than HNSW (the store's HNSW_THRESHOLD). Not part of CI: minutes to an hour.

    .venv/bin/python -m benchmarks.pg_scale                          # threshold sizes + 100k
    .venv/bin/python -m benchmarks.pg_scale --sizes 1000000 --threshold-sizes ''   # 1M, merged
    .venv/bin/python -m benchmarks.pg_scale --sizes 20000 --threshold-sizes '' --queries 20 \\
        --no-report --json /tmp/x.json                               # a quick try

Why synthetic, and why clustered: embedding a million chunks with the real model would take days
on 2 cores, and random unit vectors are a worst case no real corpus has (every point is about
equally far from every other, so an HNSW graph has no neighbourhoods to exploit and recall drops).
Here vectors are a cluster centre plus Gaussian noise, normalised (384 dimensions, as
all-MiniLM-L6-v2): min(4000, max(20, N/250)) centres, each vector's cosine to its centre about
0.7, a sentence vector its chunk's plus smaller noise (cosine about 0.9). Text is a sentence or
two of synthetic words per chunk, most drawn from the cluster's own topic words, the rest from a
Zipf-distributed common vocabulary, so BM25 has terms that matter and terms that do not, and its
hits agree with the vectors' neighbourhoods as a real corpus's would. Queries are drawn the same
way (a centre plus noise, three topic words and one common word).

The real write path: a Build is published by PostgresBackend.publish (binary COPY in one
transaction, the flip, partial HNSW indexes of chunks and sentences), into a real PostgreSQL 18 +
pgvector 0.8 started by scripts/postgres.sh in a temporary folder; the latency is that of the
store's own one-statement `candidates` SQL (postgres._candidates_sql) on a reader connection
(the store's ef_search for the size, strict iterative scan), over the same binary protocol.
Recall@50 is the HNSW top-50 of chunks (and of sentences) against exact top-50 computed in
numpy from the same vectors.
Memory is the proportional set size (PSS, shared buffers counted once) of all the server's
processes, sampled every half second, beside the configured shared_buffers and
maintenance_work_mem. The client, the generator and the server share the machine's cores.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from benchmarks.pg_load import make_database, start_postgres, stop_postgres, update_report
from policyqa.chunks import Chunk
from policyqa.config import ROOT, load_settings
from policyqa.documents import Document
from policyqa.evaluation import percentile
from policyqa.expansion import Vocabulary
from policyqa.lexical import TermCounts, tokenize
from policyqa.sections import Section, Structure
from policyqa.store import Build, postgres

HERE = Path(__file__).resolve().parent
HEADING = "## PostgreSQL: scale"
DIM = 384
CHUNKS_PER_DOC = 100
SERVER_SETTINGS = {"shared_buffers": "8GB", "maintenance_work_mem": "6GB",
                   "max_parallel_maintenance_workers": "1", "max_wal_size": "16GB",
                   "effective_cache_size": "12GB"}
# What runs before rows carried their own settings used (shared_buffers was raised to 8GB so that
# a 1M version's HNSW indexes, 4.8 GiB, stay in shared buffers).
EARLIER_SETTINGS = {**SERVER_SETTINGS, "shared_buffers": "4GB"}
SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]


# ---------------------------------------------------------------- the synthetic corpus


def words(count: int, rng: np.random.Generator) -> list[str]:
    """`count` distinct pronounceable words of three or four syllables (tokenize keeps them)."""
    out: set[str] = set()
    while len(out) < count:
        k = rng.integers(3, 5)
        out.add("".join(SYLLABLES[i] for i in rng.integers(0, len(SYLLABLES), k)))
    return sorted(out)


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


class Corpus:
    """Cluster centres, topic words and a common vocabulary; chunks and queries drawn from them.
    Words are drawn as indices, vectorised (a million chunks in seconds, not half an hour)."""

    def __init__(self, size: int, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.clusters = int(min(4000, max(20, size // 250)))
        self.centres = unit(self.rng.standard_normal((self.clusters, DIM), dtype=np.float32))
        self.vocab = words(30_000, self.rng)
        # tokenize once per word: a chunk's tokens are then its words' tokens, looked up
        self.tokens = [" ".join(tokenize(w)) for w in self.vocab]
        self.common = 10_000  # vocab[:common] is the common vocabulary, Zipf-distributed
        zipf = 1.0 / np.arange(1, self.common + 1)
        self.common_cdf = np.cumsum(zipf / zipf.sum())
        self.topics = np.stack([self.rng.choice(np.arange(self.common, len(self.vocab)), 25,
                                                replace=False) for _ in range(self.clusters)])

    def vectors(self, labels: np.ndarray, noise: float = 1.0) -> np.ndarray:
        out = np.empty((len(labels), DIM), dtype=np.float32)
        for i in range(0, len(labels), 50_000):
            part = labels[i:i + 50_000]
            out[i:i + len(part)] = unit(self.centres[part] + noise * self.rng.standard_normal(
                (len(part), DIM), dtype=np.float32) / math.sqrt(DIM))
        return out

    def common_words(self, count: int) -> np.ndarray:
        return np.minimum(np.searchsorted(self.common_cdf, self.rng.random(count)),
                          self.common - 1)

    def sentences(self, labels: np.ndarray) -> list[list[int]]:
        """One sentence (word indices) per label: 8-14 words, 60% the cluster's topic words."""
        lengths = self.rng.integers(8, 15, len(labels))
        starts = np.concatenate([[0], np.cumsum(lengths)])
        total = int(starts[-1])
        owner = np.repeat(np.arange(len(labels)), lengths)
        position = np.arange(total) - starts[owner]
        topical = position < np.round(lengths * 0.6)[owner]
        topic = self.topics[labels[owner], self.rng.integers(0, self.topics.shape[1], total)]
        flat = np.where(topical, topic, self.common_words(total)).tolist()
        return [flat[starts[i]:starts[i + 1]] for i in range(len(labels))]

    def query(self) -> tuple[np.ndarray, list[str]]:
        label = int(self.rng.integers(0, self.clusters))
        vector = self.vectors(np.array([label]))[0]
        picked = [*self.rng.choice(self.topics[label], 3, replace=False).tolist(),
                  int(self.common_words(1)[0])]
        return vector, " ".join(self.tokens[i] for i in picked).split()


def make_build(size: int, corpus: Corpus) -> tuple[Build, dict]:
    """A Build of `size` chunks in documents of CHUNKS_PER_DOC, as ingest would hand it over."""
    started = time.perf_counter()
    rng = corpus.rng
    labels = rng.integers(0, corpus.clusters, size)
    per_chunk = rng.integers(1, 3, size)  # a sentence or two
    sentence_chunk = np.repeat(np.arange(size), per_chunk)
    chunk_vectors = corpus.vectors(labels)
    sentence_vectors = unit(np.repeat(chunk_vectors, per_chunk, axis=0) + 0.5 * rng.standard_normal(
        (len(sentence_chunk), DIM), dtype=np.float32) / math.sqrt(DIM))
    drawn = corpus.sentences(labels[sentence_chunk])
    vocab, tok = corpus.vocab, corpus.tokens
    documents, structures, chunks, tokens = [], {}, [], []
    row = 0
    for d in range(0, size, CHUNKS_PER_DOC):
        doc_id = f"synthetic-{d // CHUNKS_PER_DOC:06d}"
        parts, offset = [], 0
        for c in range(d, min(size, d + CHUNKS_PER_DOC)):
            spans, texts, chunk_tokens = [], [], []
            at = offset
            for _ in range(per_chunk[c]):
                indices = drawn[row]
                row += 1
                text = " ".join(vocab[i] for i in indices).capitalize() + "."
                spans.append((at, at + len(text)))
                at += len(text) + 1
                texts.append(text)
                chunk_tokens.append(" ".join(tok[i] for i in indices))
            text = " ".join(texts)
            chunks.append(Chunk(chunk_id=c, doc_id=doc_id, start=offset, end=offset + len(text),
                                text=text, section=0, section_path="", heading_text="",
                                page=None, page_end=None, chapter_page=None, sentences=spans,
                                sentence_sections=[""] * len(spans),
                                sentence_section_ids=[0] * len(spans)))
            tokens.append(" ".join(chunk_tokens).split())
            parts.append(text)
            offset += len(text) + 2
        body = "\n\n".join(parts)
        documents.append(Document(doc_id=doc_id, path=f"{doc_id}.txt", title=doc_id,
                                  label=doc_id, text=body, format="txt"))
        structures[doc_id] = Structure([Section(id=0, parent=None, marker="", title="",
                                                kind="root", start=0, end=len(body),
                                                heading_end=0)], [])
    del drawn
    vocab_words = corpus.vocab[:2000]
    vocabulary = Vocabulary(vocab_words, unit(rng.standard_normal((len(vocab_words), DIM),
                                                                  dtype=np.float32)))
    keys = {"chunks": rng.integers(0, 256, (size, 32), dtype=np.uint8),
            "sentences": rng.integers(0, 256, (len(sentence_chunk), 32), dtype=np.uint8),
            "vocabulary": rng.integers(0, 256, (len(vocab_words), 32), dtype=np.uint8)}
    build = Build(manifest={"synthetic": "benchmarks/pg_scale.py clustered vectors",
                            "counts": {"chunks": size, "sentences": len(sentence_chunk)},
                            "dimension": DIM},
                  documents=documents, structures=structures, chunks=chunks,
                  chunk_vectors=chunk_vectors, sentence_vectors=sentence_vectors,
                  sentence_chunk=sentence_chunk, vocabulary=vocabulary, keys=keys,
                  term_counts=TermCounts.from_tokens(tokens))
    df = np.sort(np.diff(build.term_counts.indptr))[::-1]
    facts = {"chunks": size, "sentences": int(len(sentence_chunk)), "documents": len(documents),
             # chunks holding the 1st, 10th and 50th commonest term (real corpus: 51%, 35%, 11%)
             "df_share_1_10_50": [round(float(df[i]) / size, 3) for i in (0, 9, 49)],
             "clusters": corpus.clusters, "postings": int(len(build.term_counts.indices)),
             "terms": len(build.term_counts.terms),
             "generate_s": round(time.perf_counter() - started, 1)}
    return build, facts


# ---------------------------------------------------------------- the server's memory


def pss_kib(pid: int) -> int:
    """A process's proportional set size (KiB): shared pages divided among their sharers, so
    the server's processes sum to its real footprint (shared buffers counted once)."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:  # gone meanwhile
        pass
    return 0


def family(root: int) -> list[int]:
    """The postmaster and its children (every PostgreSQL process is a child of it)."""
    pids = [root]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root:
            pids.append(int(stat.parent.name))
    return pids


class Memory(threading.Thread):
    """Peak PSS (MiB) of the postmaster and all its children, sampled every half second."""

    def __init__(self, postmaster: int):
        super().__init__(daemon=True)
        self.root = postmaster
        self.peak = 0.0
        self._done = threading.Event()

    def sample(self) -> float:
        return sum(pss_kib(pid) for pid in family(self.root)) / 1024

    def run(self) -> None:
        while not self._done.wait(0.5):
            self.peak = max(self.peak, self.sample())

    def stop(self) -> float:
        self._done.set()
        self.join(5)
        return round(self.peak)


def postmaster_pid(pg_dir: Path) -> int:
    return int((pg_dir.resolve() / "primary" / "postmaster.pid").read_text().split()[0])


# ---------------------------------------------------------------- measuring one size


class TimedBackend(postgres.PostgresBackend):
    """The store's backend, timing its HNSW builds apart from the rest of publish."""

    hnsw_s = 0.0

    def _build_hnsw(self, conn, version, dimension):
        started = time.perf_counter()
        super()._build_hnsw(conn, version, dimension)
        self.hnsw_s = time.perf_counter() - started


def timed(cur, statement, params) -> tuple[float, list]:
    started = time.perf_counter()
    rows = cur.execute(statement, params).fetchall()
    return (time.perf_counter() - started) * 1000, rows


def measure_size(size: int, server: str, pg_dir: Path, queries: int, exact_queries: int,
                 seed: int, ef_sweep: tuple[int, ...] = ()) -> dict:
    """Publish `size` chunks into a fresh database and measure them; the database is dropped."""
    import psycopg
    from psycopg import sql

    corpus = Corpus(size, seed)
    build, row = make_build(size, corpus)
    print(f"{size:,} chunks: generated in {row['generate_s']} s "
          f"({row['sentences']:,} sentences, {row['postings']:,} postings)", flush=True)
    url = make_database(server, f"scale_{size}")
    settings = load_settings(ROOT / "corpus", ROOT / "index", url)
    backend = TimedBackend(url, settings)
    postgres.HNSW_THRESHOLD = 0  # every size gets HNSW, so exact and HNSW run on the same rows
    memory = Memory(postmaster_pid(pg_dir))
    memory.start()
    started = time.perf_counter()
    backend.publish(build)
    row["publish_s"] = round(time.perf_counter() - started, 1)
    row["server_pss_build_mib"] = memory.stop()
    row["hnsw_s"] = round(backend.hnsw_s, 1)
    row["write_s"] = round(row["publish_s"] - backend.hnsw_s, 1)
    print(f"  published in {row['publish_s']} s (write {row['write_s']} s, HNSW "
          f"{row['hnsw_s']} s)", flush=True)
    chunk_vectors, sentence_vectors = build.chunk_vectors, build.sentence_vectors
    sentence_chunk = build.sentence_chunk
    del build
    with psycopg.connect(url, autocommit=True) as conn:
        version = conn.execute("SELECT id FROM versions WHERE state = 'current'").fetchone()[0]
        row["database_mib"] = round(conn.execute(
            "SELECT pg_database_size(current_database())").fetchone()[0] / 2**20)
        row["tables_mib"] = {t: round(conn.execute(
            "SELECT pg_total_relation_size(%s)", (t,)).fetchone()[0] / 2**20)
            for t in postgres.VERSION_TABLES}
        row["hnsw_index_mib"] = {t: round(conn.execute(
            "SELECT pg_relation_size(%s)", (f"{t}_hnsw_v{version}",)).fetchone()[0] / 2**20)
            for t in ("chunks", "sentences")}
        conn.execute("VACUUM ANALYZE")  # as autovacuum would soon after an ingest
    row["store_ef_search"] = postgres.ef_search_for(size)
    row["ef_construction"] = postgres.ef_construction_for(size)
    reader = backend.connect(ef_search=row["store_ef_search"])
    memory = Memory(postmaster_pid(pg_dir))
    memory.start()
    try:
        asked = [corpus.query() for _ in range(queries)]
        hybrid = postgres._candidates_sql(version, DIM, True, False)
        exact = postgres._candidates_sql(version, DIM, False, False)
        dense_hnsw = sql.SQL("SELECT chunk_id FROM chunks WHERE version_id = {v} ORDER BY "
                             "embedding::vector({d}) <#> %(q)s::vector({d}) LIMIT 50").format(
            v=sql.Literal(version), d=sql.Literal(DIM))
        sentences_hnsw = sql.SQL("SELECT row FROM sentences WHERE version_id = {v} ORDER BY "
                                 "embedding::vector({d}) <#> %(q)s::vector({d}) LIMIT 50").format(
            v=sql.Literal(version), d=sql.Literal(DIM))
        bm25_only = sql.SQL(
            "SELECT p.chunk_id, sum(t.weight * p.weight) AS score FROM unnest(%(terms)s::text[], "
            "%(weights)s::float8[]) AS t(term, weight) JOIN postings p ON p.version_id = {v} AND "
            "p.term = t.term GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(n)s"
        ).format(v=sql.Literal(version))
        # The store's BM25 top-50: over each term's POSTINGS_PER_TERM highest-weight postings.
        bm25_store = sql.SQL(
            "SELECT p.chunk_id, sum(t.weight * p.weight) AS score FROM unnest(%(terms)s::text[], "
            "%(weights)s::float8[]) AS t(term, weight) CROSS JOIN LATERAL (SELECT chunk_id, weight "
            "FROM postings p WHERE p.version_id = {v} AND p.term = t.term ORDER BY p.weight DESC "
            "LIMIT {m}) p GROUP BY p.chunk_id ORDER BY score DESC, p.chunk_id LIMIT %(n)s"
        ).format(v=sql.Literal(version), m=sql.Literal(postgres.POSTINGS_PER_TERM))
        with reader.cursor(binary=True) as cur:
            params = [{"q": q, "terms": t, "weights": [1.0] * len(t), "n": 50, "pool": 400}
                      for q, t in asked]
            plan = "\n".join(r[0] for r in cur.execute(sql.SQL("EXPLAIN ") + hybrid, params[0]))
            row["plan_uses_hnsw"] = (f"chunks_hnsw_v{version}" in plan
                                     and f"sentences_hnsw_v{version}" in plan)
            # The first pass after the build, over questions of their own: the pages come from
            # the disk cache into shared buffers. Then the timed questions, new ones, on the
            # warm server a deployment answers from.
            first = [{"q": q, "terms": t, "weights": [1.0] * len(t), "n": 50, "pool": 400}
                     for q, t in (corpus.query() for _ in params)]
            row["hybrid_first_pass_ms"] = [timed(cur, hybrid, p)[0] for p in first]
            row["hybrid_hnsw_ms"] = [timed(cur, hybrid, p)[0] for p in params]
            # The plan of the median question, with timings: where the statement's time goes.
            median = int(np.argsort(row["hybrid_hnsw_ms"])[len(params) // 2])
            row["explain_median"] = [re.sub(r"'\[[^\]]*\]'", "'[…]'", r[0]) for r in cur.execute(
                sql.SQL("EXPLAIN (ANALYZE, COSTS OFF) ") + hybrid, params[median])]
            found = [timed(cur, hybrid, p)[1] for p in params[:3]]
            row["candidates_per_question"] = round(float(np.mean([len(f) for f in found])), 1)
            recall_c, recall_s = [], []
            for q, _t in asked[:min(queries, 100)]:
                got = {r[0] for r in cur.execute(dense_hnsw, {"q": q}).fetchall()}
                want = set(np.argpartition(-(chunk_vectors @ q), 50)[:50].tolist())
                recall_c.append(len(got & want) / 50)
                got = {r[0] for r in cur.execute(sentences_hnsw, {"q": q}).fetchall()}
                want = set(np.argpartition(-(sentence_vectors @ q), 50)[:50].tolist())
                recall_s.append(len(got & want) / 50)
            row["recall_at_50"] = {"chunks": round(float(np.mean(recall_c)), 4),
                                   "sentences": round(float(np.mean(recall_s)), 4)}
            # The statement's two halves alone: where its time goes.
            row["dense_hnsw_ms"] = [timed(cur, dense_hnsw, {"q": q})[0] for q, _t in asked]
            row["bm25_ms"] = [timed(cur, bm25_only, p)[0] for p in params]
            row["bm25_store_ms"], overlap = [], []
            for p in params:
                ms, got = timed(cur, bm25_store, p)
                row["bm25_store_ms"].append(ms)
                want = {r[0] for r in cur.execute(bm25_only, p).fetchall()}
                overlap.append(len({r[0] for r in got} & want) / max(len(want), 1))
            row["bm25_recall_at_50"] = round(float(np.mean(overlap)), 4)
            for p in params[:3]:
                cur.execute(exact, p).fetchall()
            row["hybrid_exact_ms"] = [timed(cur, exact, p)[0] for p in params[:exact_queries]]
            # What a wider HNSW search buys (the store uses HNSW_EF_SEARCH): recall@50 of chunks
            # and sentences, the dense part's and the whole statement's p95, per ef_search.
            row["ef_search"] = {}
            for ef in ef_sweep:
                cur.execute(f"SET hnsw.ef_search = {int(ef)}")
                sweep = asked[:min(queries, 100)]
                recall_c, recall_s, dense_ms = [], [], []
                for q, _t in sweep:
                    ms, got = timed(cur, dense_hnsw, {"q": q})
                    dense_ms.append(ms)
                    want = set(np.argpartition(-(chunk_vectors @ q), 50)[:50].tolist())
                    recall_c.append(len({r[0] for r in got} & want) / 50)
                    got = {r[0] for r in cur.execute(sentences_hnsw, {"q": q}).fetchall()}
                    want = set(np.argpartition(-(sentence_vectors @ q), 50)[:50].tolist())
                    recall_s.append(len(got & want) / 50)
                hybrid_ms = [timed(cur, hybrid, p)[0] for p in params[:len(sweep)]]
                row["ef_search"][str(ef)] = {
                    "recall_chunks": round(float(np.mean(recall_c)), 4),
                    "recall_sentences": round(float(np.mean(recall_s)), 4),
                    "dense_p95_ms": round(percentile(dense_ms, 0.95), 1),
                    "hybrid_p50_ms": round(percentile(hybrid_ms, 0.5), 1),
                    "hybrid_p95_ms": round(percentile(hybrid_ms, 0.95), 1)}
                print(f"  ef_search {ef}: {row['ef_search'][str(ef)]}", flush=True)
            cur.execute(f"SET hnsw.ef_search = {row['store_ef_search']}")
    finally:
        reader.close()
        row["server_pss_query_mib"] = memory.stop()
    del sentence_chunk
    for name in ("hybrid_hnsw_ms", "hybrid_first_pass_ms", "hybrid_exact_ms", "dense_hnsw_ms",
                 "bm25_ms", "bm25_store_ms"):
        values = row.pop(name)
        row[name.removesuffix("_ms")] = {"p50_ms": round(percentile(values, 0.5), 1),
                                         "p95_ms": round(percentile(values, 0.95), 1),
                                         "queries": len(values)}
    print(f"  hybrid HNSW p50 {row['hybrid_hnsw']['p50_ms']} / p95 "
          f"{row['hybrid_hnsw']['p95_ms']} ms; exact p50 {row['hybrid_exact']['p50_ms']} / p95 "
          f"{row['hybrid_exact']['p95_ms']} ms; dense HNSW p95 {row['dense_hnsw']['p95_ms']} ms, "
          f"BM25 p95 {row['bm25_store']['p95_ms']} ms (every posting summed: "
          f"{row['bm25']['p95_ms']} ms; the same top-50: {row['bm25_recall_at_50']}); "
          f"recall@50 {row['recall_at_50']}; "
          f"database {row['database_mib']:,} MiB", flush=True)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "scale_{size}" WITH (FORCE)')
    return row


def configure(server: str, pg_dir: Path) -> str:
    """The memory settings a server for this size needs (ALTER SYSTEM), applied by a restart."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as conn:
        for name, value in SERVER_SETTINGS.items():
            conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
    stop_postgres_only(pg_dir)
    return start_postgres(pg_dir)


def stop_postgres_only(pg_dir: Path) -> None:
    import subprocess
    import sys

    env = {**os.environ, "POLICYQA_PG_DIR": str(pg_dir), "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop"], env=env,
                   capture_output=True, text=True, timeout=300, check=True)


# ---------------------------------------------------------------- the report


def section(data: dict) -> list[str]:
    rows = sorted(data["sizes"].values(), key=lambda r: r["chunks"])
    big = [r for r in rows if r["chunks"] >= 100_000]
    small = [r for r in rows if r["chunks"] < 100_000] + [r for r in big if r["chunks"] == 100_000]
    lines = [
        HEADING, "",
        f"Produced by `.venv/bin/python -m benchmarks.pg_scale` ({data['date']}, "
        f"{data['cores']} cores, {data['memory_gib']} GiB; {data['note']}). Synthetic corpora "
        "with clustered 384-dimension vectors (a cluster centre plus noise, normalised; "
        "min(4000, N/250) centres) and one or two sentences of synthetic words per chunk, "
        "published by the store's own `PostgresBackend.publish` into a local PostgreSQL 18 + "
        "pgvector 0.8 (scripts/postgres.sh), with "
        + ", ".join(f"`{k} = {v}`" for k, v in data["server_settings"].items())
        + ". Latency: the store's one-statement hybrid `candidates` SQL (dense, BM25 and "
        f"best-sentence top-50 and their scores) over {data['queries']} synthetic questions, "
        "measured at the client; recall@50: HNSW (strict iterative scan, at the store's "
        "`ef_search` for the size when it was measured: now `postgres.ef_search_for`, 100 up to "
        f"{100 * postgres.HNSW_CHUNKS_PER_EF // 1000}k chunks, then one per "
        f"{postgres.HNSW_CHUNKS_PER_EF:,} chunks; built with `ef_construction` "
        f"{postgres.HNSW_EF_CONSTRUCTION} up to {postgres.HNSW_LARGE_CHUNKS // 1000}k chunks, "
        f"{postgres.HNSW_EF_CONSTRUCTION_LARGE} above) "
        "against exact top-50 from the same vectors in numpy. Memory: peak PSS of all the "
        "server's processes (shared buffers counted once).", "",
        "| chunks | sentences | postings | write s | HNSW build s | database MiB | HNSW indexes "
        "MiB (chunks + sentences) | ef_construction / ef_search | recall@50 chunks / sentences "
        "| hybrid p50 ms | hybrid p95 ms | first pass after the build p50 / p95 ms "
        "| its dense HNSW / BM25 parts p95 ms | BM25 summing every posting: p95 ms, top-50 "
        "overlap | server PSS build / query MiB | load average | target | verdict |",
        "|---" * 18 + "|",
    ]
    targets = {100_000: 30.0, 1_000_000: 60.0}
    for r in big:
        target = targets.get(r["chunks"])
        ok = (target is not None and r["hybrid_hnsw"]["p95_ms"] <= target
              and r["recall_at_50"]["chunks"] >= 0.95)
        lines.append(
            f"| {r['chunks']:,} | {r['sentences']:,} | {r['postings']:,} | {r['write_s']} | "
            f"{r['hnsw_s']} | {r['database_mib']:,} | {r['hnsw_index_mib']['chunks']:,} + "
            f"{r['hnsw_index_mib']['sentences']:,} | {r.get('ef_construction', 64)} / "
            f"{r.get('store_ef_search', 100)} | "
            f"{r['recall_at_50']['chunks']:.3f} / "
            f"{r['recall_at_50']['sentences']:.3f} | {r['hybrid_hnsw']['p50_ms']} | "
            f"{r['hybrid_hnsw']['p95_ms']} | "
            + (f"{r['hybrid_first_pass']['p50_ms']} / {r['hybrid_first_pass']['p95_ms']} | "
               if "hybrid_first_pass" in r else "– | ")
            + f"{_p95(r, 'dense_hnsw')} / "
            f"{_p95(r, 'bm25_store' if 'bm25_store' in r else 'bm25')} | "
            + (f"{_p95(r, 'bm25')}, {r['bm25_recall_at_50']:.3f} | " if 'bm25_store' in r
               else "(before the top-postings change) | ")
            + f"{r['server_pss_build_mib']:,} / {r['server_pss_query_mib']:,} | "
            f"{' → '.join(str(x) for x in r.get('load_average', []))} | "
            + (f"p95 ≤ {target:.0f} ms at recall@50 ≥ 0.95 | {'met' if ok else 'missed'} |"
               if target else "| |"))
    for size, why in data.get("not_measured", {}).items():
        lines.append(f"| {int(size):,} | not measured: {why} |" + " |" * 15)
    lines += ["", "Exact search against HNSW, the same statement on the same rows (where the "
              "store's `HNSW_THRESHOLD` comes from):", "",
              "| chunks | exact p50 ms | exact p95 ms | HNSW p50 ms | HNSW p95 ms | HNSW recall@50 "
              "| HNSW build s | planner used HNSW | load average |",
              "|---|---|---|---|---|---|---|---|---|"]
    for r in small:
        lines.append(f"| {r['chunks']:,} | {r['hybrid_exact']['p50_ms']} | "
                     f"{r['hybrid_exact']['p95_ms']} | {r['hybrid_hnsw']['p50_ms']} | "
                     f"{r['hybrid_hnsw']['p95_ms']} | {r['recall_at_50']['chunks']:.3f} | "
                     f"{r['hnsw_s']} | {'yes' if r['plan_uses_hnsw'] else 'no (sorts)'} | "
                     f"{' → '.join(str(x) for x in r.get('load_average', []))} |")
    sweeps = [r for r in big if r.get("ef_search")]
    if sweeps:
        lines += ["", "HNSW search width (`hnsw.ef_search`; the store's is in the table above) "
                  "against recall@50 and latency, over the first 100 questions:", "",
                  "| chunks | ef_search | recall@50 chunks | recall@50 sentences | dense part p95 ms "
                  "| hybrid p50 ms | hybrid p95 ms |", "|---|---|---|---|---|---|---|"]
        for r in sweeps:
            for ef, e in r["ef_search"].items():
                lines.append(f"| {r['chunks']:,} | {ef} | {e['recall_chunks']:.3f} | "
                             f"{e['recall_sentences']:.3f} | {e['dense_p95_ms']} | "
                             f"{e['hybrid_p50_ms']} | {e['hybrid_p95_ms']} |")
    other = [f"{r['chunks']:,}: " + ", ".join(f"`{k} = {v}`" for k, v in
                                           r.get("server_settings", EARLIER_SETTINGS).items())
             for r in rows if r.get("server_settings", EARLIER_SETTINGS) != data["server_settings"]]
    if other:
        lines += ["", "Rows measured in an earlier run with other server settings: "
                  + "; ".join(other) + "."]
    for paragraph in data.get("analysis", []):
        lines += ["", paragraph]
    return lines


def _p95(row: dict, part: str) -> str:
    return str(row[part]["p95_ms"]) if part in row else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pg_scale",
                                     description=__doc__.split("\n")[0])
    sizes = lambda v: [int(x) for x in v.split(",") if x]  # noqa: E731
    parser.add_argument("--sizes", type=sizes, default=[100_000])
    parser.add_argument("--threshold-sizes", type=sizes,
                        default=[2_000, 5_000, 10_000, 20_000, 50_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--exact-queries", type=int, default=50, help="exact search is slow at 1M")
    parser.add_argument("--note", default="machine otherwise quiet",
                        help="what else ran meanwhile (for the report)")
    parser.add_argument("--json", type=Path, default=HERE / "pg_scale.json",
                        help="results are merged into this file by size")
    parser.add_argument("--no-report", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ef-search", type=sizes, default=[100, 200, 400],
                        help="ef_search values whose recall and latency are measured (100k up)")
    opts = parser.parse_args(argv)
    data = json.loads(opts.json.read_text()) if opts.json.exists() else {"sizes": {}}
    data.update(date=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), cores=os.cpu_count(),
                cpu=platform.processor() or platform.machine(), queries=opts.queries,
                memory_gib=round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
                note=opts.note,
                server_settings=SERVER_SETTINGS)
    work = Path(tempfile.mkdtemp(prefix="policyqa-pgscale-"))
    pg_dir = work / "pg"
    try:
        server = configure(start_postgres(pg_dir), pg_dir)
        for size in [*opts.threshold_sizes, *opts.sizes]:
            load_before = os.getloadavg()[0]
            data["sizes"][str(size)] = measure_size(
                size, server, pg_dir, opts.queries, opts.exact_queries, opts.seed,
                opts.ef_search if size >= 100_000 else ())
            data["sizes"][str(size)]["load_average"] = [round(load_before, 2),
                                                        round(os.getloadavg()[0], 2)]
            data["sizes"][str(size)]["server_settings"] = SERVER_SETTINGS
            data.setdefault("not_measured", {}).pop(str(size), None)
            opts.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    finally:
        stop_postgres(pg_dir)
        shutil.rmtree(work, ignore_errors=True)
    if not opts.no_report:
        update_report(HERE / "REPORT.md", HEADING, section(data))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

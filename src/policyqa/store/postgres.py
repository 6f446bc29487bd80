"""The PostgreSQL + pgvector store: builds as versions in one database that many processes share.

Why a database: an agency that outgrows one machine runs several `serve` processes and pages over
one index, ingests from any machine, and replicates and backs it up as it does its other data.

Layout. `versions` holds one row per build (its manifest, state building | current | retired,
the BM25 parameters its posting weights were computed for, the corpus facts). Every other table
is keyed by version id (not a schema per version), so a version is written beside the current
one and readers of version N never see rows of N + 1: a reader fixes its version id at `open`
and every query names it. Per version: documents (the Document and its section tree as jsonb,
as documents.json), chunks (jsonb, the chunk vector, the BM25 document length, the embedding-cache
key), sentences (vector, key), vocabulary (word, vector, key), terms (df, idf, BM25Plus's absent
constant) and postings (term, chunk, count, and the BM25 weight of that posting).

BM25 in SQL. A chunk's BM25 is a sum over query terms of repeats x idf x tf-part, and the
tf-part depends on the chunk's length and the settings' variant/k1/b. The whole per-posting
product is computed at publish by lexical.SparseBM25 itself (the embedded store's very numbers),
so a question sums stored weights (docs/notes: 4.4 ms against 33 ms from tf and length at 100k
chunks). The parameters are recorded in the version; `open` with other BM25 settings refuses
(IndexError_), which `load_index(rebuild="auto")` answers by rebuilding.

Writes. `publish` inserts the whole version in one transaction (COPY, binary) as 'building',
then a second short one makes it current and retires the previous current; retired versions
older than the previous one are deleted. A writer holds a session advisory lock on its version
id until it is current, so a version left 'building' by a killed writer (its lock gone) is
deleted by the next publish, never one another writer is still filling. Several ingest workers
building one version together share their documents through store/postgres_jobs.py; the one
that finalises publishes here like any other writer.

Reads. `open` loads what is small next to the vectors (documents, chunks, vocabulary, idf)
in one read-only repeatable-read transaction; `candidates` is one SQL statement per question
and `sentence_scores` one more. Vector search is exact below HNSW_THRESHOLD chunks and uses a
partial HNSW index (vector_ip_ops) of the version above it, built at publish.

The database URL may carry a password: it is never written into the manifest, a location or a
message; `location` names host, port, database and version only.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Collection, Iterator, Sequence

import numpy as np
import psycopg
from psycopg import sql
from psycopg.adapt import Dumper, Loader
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import Format
from psycopg.types import TypeInfo
from psycopg.types.json import Jsonb

from ..config import Settings
from ..errors import IndexError_
from ..expansion import Vocabulary
from ..lexical import SparseBM25
from .base import Build, Candidates, CorpusFacts, SentenceScores, Terms
from .embedded import corpus_facts
from .files import chunk_from_record, document_from_record, document_record

log = logging.getLogger("policyqa")

# Exact search up to this many chunks, a partial HNSW index of the version above it. Measured
# (benchmarks/pg_scale.py, REPORT.md "PostgreSQL: scale": the whole hybrid candidates statement,
# exact against HNSW on the same rows, clustered 384-d vectors, 1.5 sentences a chunk, 2 quiet
# cores), p50/p95 ms exact vs HNSW: 2k 6.4/8.0 vs 7.0/8.5, 3k 8.1/10.1 vs 7.9/9.8 (a tie: at 3k
# the planner still sorts rather than use the index), 5k 13.4/16.6 vs 5.5/8.0, 10k 21.1/28.6 vs 6.0/9.7,
# 20k 45.2/54.7 vs 9.3/21.3. So HNSW is cheaper from between 3k and 5k chunks (recall@50 there
# 0.9998, its build 1-8 s of ingest) and exact stays within ~13 ms p95 up to 4k; the earlier
# guess of 20k (from exact dense search alone) left 20k-chunk corpora at 5x the cost.
HNSW_THRESHOLD = 4_000
# HNSW search width (hnsw.ef_search, with strict iterative scan) grows with the version's chunks.
# Measured (benchmarks/pg_scale.py, clustered vectors, 1.5 sentences a chunk; recall@50 chunks /
# sentences): 100k chunks at ef 100: 1.000 / 0.984 (p95 15 ms). 1M chunks built with
# ef_construction 64: 0.863 / 0.772 at ef 100, 0.948 / 0.890 at 400, 0.952 / 0.905 at 1000 (p95
# 175 ms): the graph bounded recall. Built with ef_construction 128 (below), two runs: 0.990 /
# 0.967 and 0.990 / 0.997 at ef 100, 1.000 / 0.997 at 200 and at 400; the whole statement at ef
# 200 p95 36.2 ms on a warm server (51.9 on the first pass after the build). So one unit of width
# per 5,000 chunks, from 100 (pgvector's default is 40): 200 at 1M; capped at 1,000.
HNSW_EF_SEARCH = 100
HNSW_CHUNKS_PER_EF = 5_000
HNSW_EF_SEARCH_MAX = 1_000
# HNSW build width (ef_construction): pgvector's default 64 up to HNSW_LARGE_CHUNKS, twice that
# above. With the default, recall@50 at 1M chunks stopped rising near 0.95 however wide the
# search (above), so the graph was the bound there; built at 128 it reached 0.9998 at ef 200.
# At 100k the default already gives 1.000, and the 1M build took 2331 s at 128 against
# 1348-2460 s at 64 on these 2 cores, so small versions keep the default.
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_CONSTRUCTION_LARGE = 128
HNSW_LARGE_CHUNKS = 250_000
# BM25 top-n: each query term contributes at most this many postings, its highest-weight ones
# (exact while no term is in more chunks; see _candidates_sql).
POSTINGS_PER_TERM = 2000
SENTENCE_POOL = 8  # HNSW mode: best sentences fetched per distinct chunk wanted
LOCK_SPACE = 0x506F_4C51  # advisory locks: (LOCK_SPACE, version id); (LOCK_SPACE, 0) for flips

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE IF NOT EXISTS versions (
    id bigserial PRIMARY KEY,
    state text NOT NULL CHECK (state IN ('building', 'current', 'retired')),
    manifest jsonb NOT NULL,
    bm25 jsonb NOT NULL,
    facts jsonb NOT NULL,
    dimension int NOT NULL,
    chunk_count int NOT NULL,
    hnsw boolean NOT NULL DEFAULT false,
    created timestamptz NOT NULL DEFAULT now(),
    made_current timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS versions_one_current ON versions ((true))
    WHERE state = 'current';
CREATE TABLE IF NOT EXISTS documents (
    version_id bigint NOT NULL, position int NOT NULL, doc_id text NOT NULL,
    record jsonb NOT NULL, PRIMARY KEY (version_id, doc_id)
);
CREATE TABLE IF NOT EXISTS chunks (
    version_id bigint NOT NULL, chunk_id int NOT NULL, doc_id text NOT NULL,
    record jsonb NOT NULL, length int NOT NULL, embedding vector NOT NULL, key bytea NOT NULL,
    PRIMARY KEY (version_id, chunk_id)
);
ALTER TABLE chunks ALTER COLUMN embedding SET STORAGE PLAIN;
CREATE INDEX IF NOT EXISTS chunks_key ON chunks (version_id, key);
CREATE TABLE IF NOT EXISTS sentences (
    version_id bigint NOT NULL, row int NOT NULL, chunk_id int NOT NULL,
    embedding vector NOT NULL, key bytea NOT NULL, PRIMARY KEY (version_id, row)
);
ALTER TABLE sentences ALTER COLUMN embedding SET STORAGE PLAIN;
CREATE INDEX IF NOT EXISTS sentences_chunk ON sentences (version_id, chunk_id);
CREATE INDEX IF NOT EXISTS sentences_key ON sentences (version_id, key);
CREATE TABLE IF NOT EXISTS vocabulary (
    version_id bigint NOT NULL, position int NOT NULL, word text NOT NULL,
    embedding vector NOT NULL, key bytea NOT NULL, PRIMARY KEY (version_id, position)
);
ALTER TABLE vocabulary ALTER COLUMN embedding SET STORAGE PLAIN;
CREATE INDEX IF NOT EXISTS vocabulary_key ON vocabulary (version_id, key);
CREATE TABLE IF NOT EXISTS terms (
    version_id bigint NOT NULL, term text NOT NULL, df int NOT NULL, idf float8 NOT NULL,
    absent float8 NOT NULL, PRIMARY KEY (version_id, term)
);
CREATE TABLE IF NOT EXISTS postings (
    version_id bigint NOT NULL, term text NOT NULL, chunk_id int NOT NULL, count int NOT NULL,
    weight float8 NOT NULL, PRIMARY KEY (version_id, term, chunk_id)
);
CREATE INDEX IF NOT EXISTS postings_impact ON postings (version_id, term, weight DESC);
"""
VERSION_TABLES = ("postings", "terms", "vocabulary", "sentences", "chunks", "documents")


def create_tables(conn: psycopg.Connection, schema: str, last_table: str) -> None:
    """Run `schema` once per database, serialised (concurrent CREATE ... IF NOT EXISTS can
    collide). Skipped when its `last_table` exists: ALTER TABLE would wait for every reader's
    lock and block new readers behind it."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
        if conn.execute("SELECT to_regclass(%s)", (last_table,)).fetchone()[0] is None:
            conn.execute(schema)


# ---------------------------------------------------------------- vectors as numpy, in binary
# pgvector's adapter loads a pgvector.Vector per value; these read and write float32 numpy
# arrays straight from the binary format (uint16 dimension, uint16 unused, big-endian float4s).


class _VectorLoader(Loader):
    format = Format.BINARY

    def load(self, data) -> np.ndarray:
        return np.frombuffer(bytes(data), dtype=">f4", offset=4).astype(np.float32)


class _VectorDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj) -> bytes:
        vector = np.asarray(obj, dtype=">f4")
        return len(vector).to_bytes(2, "big") + b"\0\0" + vector.tobytes()


def _register(conn: psycopg.Connection) -> None:
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise IndexError_("the database has no pgvector extension (CREATE EXTENSION vector)")
    info.register(conn)
    dumper = type("VectorDumper", (_VectorDumper,), {"oid": info.oid})
    conn.adapters.register_dumper("numpy.ndarray", dumper)
    conn.adapters.register_loader(info.oid, _VectorLoader)


def describe(url: str) -> str:
    """host:port/database of a URL, without user or password (for locations and messages)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unparsable database URL"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


def _bm25_parameters(settings: Settings) -> dict:
    r = settings.retrieval
    return {"variant": r.bm25_variant, "k1": float(r.bm25_k1), "b": float(r.bm25_b)}


# ---------------------------------------------------------------- the read side


class PostgresStore:
    """One version, read through one connection (autocommit: each question one snapshot).

    Documents, chunks, vocabulary and idf are held in memory like the embedded store's; vectors
    and postings stay in the database and are searched there.
    """

    def __init__(self, backend: PostgresBackend, conn: psycopg.Connection, version: int,
                 manifest: dict, facts: CorpusFacts, dimension: int, hnsw: bool, documents,
                 structures, chunks, vocabulary: Vocabulary, idf: dict[str, float],
                 absent: dict[str, float]):
        self._backend = backend
        self._conn = conn
        self._lock = threading.Lock()
        self.version = version
        self.location = f"postgres {describe(backend.url)}/version-{version}"
        self.manifest = manifest
        self.facts = facts
        self.documents = documents
        self.structures = structures
        self.chunks = chunks
        self.vocabulary = vocabulary
        self.idf = idf
        self._absent = absent
        self.hnsw = hnsw
        # Sentence rows are stored in chunk order: each chunk's run starts where the last ended.
        ends = np.cumsum([len(c.sentences) for c in chunks], dtype=np.int64)
        self._sentence_start = np.concatenate([[0], ends]).astype(np.int64)
        self.ef_search = ef_search_for(len(chunks))
        self._sql = {filtered: _candidates_sql(version, dimension, hnsw, filtered)
                     for filtered in (False, True)}
        self._sentences_sql = sql.SQL(
            "SELECT chunk_id, embedding FROM sentences WHERE version_id = {v} "
            "AND chunk_id = ANY(%s::int[]) ORDER BY row").format(v=sql.Literal(version))

    def close(self) -> None:
        self._conn.close()

    def _fetch(self, query, params) -> list[tuple]:
        """Run one statement; a dropped connection is reopened once (a restarted server)."""
        with self._lock:
            for attempt in (1, 2):
                try:
                    with self._conn.cursor(binary=True) as cur:
                        return cur.execute(query, params).fetchall()
                except psycopg.OperationalError:
                    if attempt == 2 or not self._conn.closed:
                        raise
                    self._conn = self._backend.connect(
                        ef_search=self.ef_search if self.hnsw else None)
                    self._backend.hold(self._conn, self.version)
        raise AssertionError("unreachable")

    def rows_of(self, doc_ids: Collection[str]) -> np.ndarray:
        wanted = set(doc_ids)
        return np.array([c.chunk_id for c in self.chunks if c.doc_id in wanted], dtype=np.int64)

    def sentence_rows(self, chunk_id: int) -> range:
        return range(int(self._sentence_start[chunk_id]), int(self._sentence_start[chunk_id + 1]))

    def query_terms(self, terms: Terms) -> tuple[list[str], list[float], float]:
        """Each indexed term's total weight (group weight x repeats, summed over groups) and
        BM25Plus's constant (idf x delta per known query term occurrence, which
        lexical.SparseBM25 adds to every chunk's score): the same sums, regrouped."""
        weights: Counter[str] = Counter()
        constant = 0.0
        for tokens, weight in terms:
            if not tokens or not weight:
                continue
            for term, repeats in Counter(tokens).items():
                if term in self._absent:
                    weights[term] += weight * repeats
                    constant += weight * repeats * self._absent[term]
        return list(weights), [float(w) for w in weights.values()], constant

    def candidates(self, vector: np.ndarray, terms: Terms, n: int,
                   rows: np.ndarray | None = None) -> Candidates:
        filtered = rows is not None and len(rows) != len(self.chunks)
        size = len(rows) if filtered else len(self.chunks)
        if size == 0:
            empty = np.zeros(0, dtype=np.float32)
            return Candidates(np.zeros(0, dtype=np.int64), empty, empty)
        words, weights, constant = self.query_terms(terms)
        n = min(n, size)
        params = {"q": np.asarray(vector, dtype=np.float32), "terms": words, "weights": weights,
                  "n": n, "pool": n * SENTENCE_POOL}
        if filtered:
            params["rows"] = [int(r) for r in rows]
        found = self._fetch(self._sql[filtered], params)
        if not found and size:
            raise IndexError_(f"{self.location} was removed while in use; reload the index")
        ids = np.array([r[0] for r in found], dtype=np.int64)
        dense = np.array([r[1] for r in found], dtype=np.float32)
        bm25 = np.array([r[2] for r in found], dtype=np.float64) + constant
        return Candidates(ids, dense, bm25.astype(np.float32))

    def sentence_scores(self, vector: np.ndarray, chunk_ids: Sequence[int]) -> list[SentenceScores]:
        by_chunk: dict[int, list[np.ndarray]] = {}
        for chunk_id, embedding in self._fetch(self._sentences_sql, ([int(c) for c in chunk_ids],)):
            by_chunk.setdefault(chunk_id, []).append(embedding)
        out = []
        for chunk_id in chunk_ids:
            vectors = by_chunk.get(int(chunk_id), [])
            single = (np.stack(vectors) @ vector if vectors
                      else np.zeros(0, dtype=np.float32))
            pairs = []
            for a, b in zip(vectors, vectors[1:], strict=False):
                pair = a + b
                pairs.append(float(pair @ vector / max(np.linalg.norm(pair), 1e-9)))
            out.append(SentenceScores(single, np.asarray(pairs, dtype=np.float64)))
        return out


def _candidates_sql(version: int, dimension: int, hnsw: bool, filtered: bool) -> sql.Composed:
    """One statement: the dense, BM25 and best-sentence top-n of a version and, for their union,
    each chunk's dense score (its cosine, or its best sentence's if higher) and BM25.

    BM25's top-n is taken over each query term's POSTINGS_PER_TERM highest-weight postings
    (postings_impact), and every chunk of the union then gets its exact BM25 (one primary-key
    probe per query term). When no query term is in more chunks than that, as in any corpus of up
    to POSTINGS_PER_TERM chunks, the top-n is the exact one; above it, a term in half a million
    chunks no longer makes a question sum half a million postings (at 100k synthetic chunks, a
    common word's 50k postings were 90 of a question's 130 ms). The top-n is padded with
    unmatched chunks (score 0, lowest ids first) when fewer than n match, as the embedded store's
    top-n over all scores is (that happens only when every term's postings were all read). The
    BM25Plus constant is added by the caller: it shifts every chunk alike. Version and dimension
    are literals, so the planner sees the partial HNSW index's predicate (`version_id = N`) even
    in a prepared plan.
    """
    v = sql.Literal(version)
    rows = sql.SQL(" AND {col} = ANY(%(rows)s::int[])") if filtered else sql.SQL("")
    if hnsw:  # the partial index's expression: a typed vector of the version's dimension
        cast = sql.SQL("::vector({d})").format(d=sql.Literal(dimension))
        chunk_order = sql.SQL("c.embedding{cast} <#> %(q)s{cast}").format(cast=cast)
        best_sentences = sql.SQL("""
            SELECT chunk_id FROM (
                SELECT s.chunk_id, s.embedding{cast} <#> %(q)s{cast} AS distance
                FROM sentences s WHERE s.version_id = {v}{rows}
                ORDER BY s.embedding{cast} <#> %(q)s{cast} LIMIT %(pool)s) pool
            GROUP BY chunk_id ORDER BY min(distance), chunk_id LIMIT %(n)s""").format(
            cast=cast, v=v, rows=rows.format(col=sql.Identifier("s", "chunk_id")))
    else:
        chunk_order = sql.SQL("c.embedding <#> %(q)s")
        best_sentences = sql.SQL("""
            SELECT s.chunk_id FROM sentences s WHERE s.version_id = {v}{rows}
            GROUP BY s.chunk_id ORDER BY min(s.embedding <#> %(q)s), s.chunk_id
            LIMIT %(n)s""").format(v=v, rows=rows.format(col=sql.Identifier("s", "chunk_id")))
    return sql.SQL("""
WITH query_terms AS MATERIALIZED (
    SELECT * FROM unnest(%(terms)s::text[], %(weights)s::float8[]) AS t(term, weight)),
bm25 AS MATERIALIZED (
    SELECT p.chunk_id, sum(t.weight * p.weight) AS score
    FROM query_terms t CROSS JOIN LATERAL (
        SELECT p.chunk_id, p.weight FROM postings p
        WHERE p.version_id = {v} AND p.term = t.term{p_rows}
        ORDER BY p.weight DESC LIMIT {per_term}) p
    GROUP BY p.chunk_id),
dense_top AS (
    SELECT c.chunk_id FROM chunks c WHERE c.version_id = {v}{c_rows}
    ORDER BY {chunk_order} LIMIT %(n)s),
bm25_top AS (
    SELECT chunk_id FROM (
        SELECT chunk_id, score FROM bm25
        UNION ALL
        (SELECT c.chunk_id, 0.0 FROM chunks c WHERE c.version_id = {v}{c_rows}
             AND NOT EXISTS (SELECT 1 FROM bm25 b WHERE b.chunk_id = c.chunk_id)
         ORDER BY c.chunk_id LIMIT %(n)s)) scored
    ORDER BY score DESC, chunk_id LIMIT %(n)s),
sentence_top AS ({best_sentences}),
found AS (
    SELECT chunk_id FROM dense_top UNION SELECT chunk_id FROM bm25_top
    UNION SELECT chunk_id FROM sentence_top)
SELECT f.chunk_id,
       greatest(-(c.embedding <#> %(q)s), coalesce(
           (SELECT max(-(s.embedding <#> %(q)s)) FROM sentences s
            WHERE s.version_id = {v} AND s.chunk_id = f.chunk_id), -1)) AS dense,
       coalesce((SELECT sum(t.weight * p.weight) FROM query_terms t JOIN postings p
                 ON p.version_id = {v} AND p.term = t.term AND p.chunk_id = f.chunk_id),
                0)::float8 AS bm25
FROM found f JOIN chunks c ON c.version_id = {v} AND c.chunk_id = f.chunk_id
ORDER BY f.chunk_id""").format(
        v=v, chunk_order=chunk_order, best_sentences=best_sentences,
        per_term=sql.Literal(POSTINGS_PER_TERM),
        p_rows=rows.format(col=sql.Identifier("p", "chunk_id")),
        c_rows=rows.format(col=sql.Identifier("c", "chunk_id")))


# ---------------------------------------------------------------- the embedding cache


class PostgresEmbeddingCache:
    """The current version's vectors by key: one query per lookup over the three kinds."""

    def __init__(self, backend: PostgresBackend | None = None, version: int | None = None,
                 note: str = "no previous build"):
        self._backend, self._version, self.note = backend, version, note

    def lookup(self, keys: np.ndarray) -> list[np.ndarray | None]:
        if self._backend is None or len(keys) == 0:
            return [None] * len(keys)
        wanted = [bytes(k) for k in np.asarray(keys, dtype=np.uint8)]
        query = sql.SQL(" UNION ALL ").join(
            sql.SQL("SELECT key, embedding FROM {t} WHERE version_id = %(v)s "
                    "AND key = ANY(%(keys)s::bytea[])").format(t=sql.Identifier(t))
            for t in ("chunks", "sentences", "vocabulary"))
        with self._backend.connect() as conn, conn.cursor(binary=True) as cur:
            found = {bytes(k): v for k, v in cur.execute(
                query, {"v": self._version, "keys": wanted}).fetchall()}
        return [found.get(k) for k in wanted]


# ---------------------------------------------------------------- the backend


class PostgresBackend:
    """Versions in one PostgreSQL database with pgvector (see the module docstring)."""

    shared = True  # many readers on many machines: only `policyqa ingest` changes it

    def __init__(self, url: str, settings: Settings):
        self.url = url
        self.settings = settings
        self.location = f"postgres {describe(url)}"

    def hold(self, conn: psycopg.Connection, version: int) -> None:
        """Mark `conn` as a reader of `version` for its lifetime (a shared advisory lock), so
        that `prune` keeps the version while any reader still answers from it."""
        conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (LOCK_SPACE, version))

    def connect(self, ef_search: int | None = None, vectors: bool = True,
                schema: bool = False) -> psycopg.Connection:
        """An autocommit connection; `vectors`: with the numpy vector adapters (the extension
        must exist); `schema`: creating the extension and tables first (writers only: a
        standby cannot); `ef_search`: a reader's, with the HNSW search settings."""
        try:
            conn = psycopg.connect(self.url, autocommit=True, connect_timeout=10,
                                   application_name="policyqa")
        except psycopg.Error as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise IndexError_(f"cannot connect to the database at {describe(self.url)} "
                              f"({first})") from None
        try:
            if schema:
                self.ensure_schema(conn)
            if vectors:
                _register(conn)
            if ef_search is not None:
                _search_settings(conn, ef_search)
        except BaseException:
            conn.close()
            raise
        return conn

    # -- reading

    def _current(self, conn: psycopg.Connection) -> tuple | None:
        """The current version's row; its manifest carries the version id, so two versions of
        the same build (a re-ingest of an unchanged corpus) still tell apart (`index.follow`)."""
        if conn.execute("SELECT to_regclass('versions')").fetchone()[0] is None:
            return None
        return conn.execute(
            "SELECT id, manifest || jsonb_build_object('version', id), bm25, facts, dimension, "
            "hnsw FROM versions WHERE state = 'current'").fetchone()

    def current_manifest(self) -> tuple[dict | None, str]:
        with self.connect(vectors=False) as conn:
            row = self._current(conn)
        if row is None:
            return None, f"no index in the database at {describe(self.url)}"
        return row[1], ""

    def open(self, settings: Settings) -> PostgresStore:
        conn = self.connect()
        try:
            with conn.transaction(), conn.cursor(binary=True) as cur:
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                row = self._current(conn)
                if row is None:
                    raise IndexError_(f"no index in the database at {describe(self.url)}")
                version, manifest, bm25, facts, dimension, hnsw = row
                self.hold(conn, version)  # before reading it: a prune now must wait for us
                if bm25 != _bm25_parameters(settings):
                    raise IndexError_(f"version {version} was built for BM25 {bm25}, the "
                                      f"settings ask for {_bm25_parameters(settings)}")
                documents, structures = {}, {}
                for (record,) in cur.execute("SELECT record FROM documents WHERE version_id = %s "
                                             "ORDER BY position", (version,)):
                    doc, structure = document_from_record(record)
                    documents[doc.doc_id], structures[doc.doc_id] = doc, structure
                chunks = [chunk_from_record(r) for (r,) in cur.execute(
                    "SELECT record FROM chunks WHERE version_id = %s ORDER BY chunk_id",
                    (version,))]
                vocab = cur.execute("SELECT word, embedding FROM vocabulary WHERE version_id = %s"
                                    " ORDER BY position", (version,)).fetchall()
                idf, absent = {}, {}
                for term, term_idf, term_absent in cur.execute(
                        "SELECT term, idf, absent FROM terms WHERE version_id = %s", (version,)):
                    idf[term], absent[term] = term_idf, term_absent
        except BaseException:
            conn.close()
            raise
        if any(c.chunk_id != i for i, c in enumerate(chunks)) or manifest.get(
                "counts", {}).get("chunks", len(chunks)) != len(chunks):
            conn.close()
            raise IndexError_(f"version {version} is inconsistent: chunks missing")
        vectors = (np.stack([v for _w, v in vocab]) if vocab
                   else np.zeros((0, dimension), dtype=np.float32))
        store = PostgresStore(
            self, conn, version, manifest,
            CorpusFacts(facts["acronyms"], frozenset(facts["amounts"])), dimension, hnsw,
            documents, structures, chunks, Vocabulary([w for w, _v in vocab], vectors), idf,
            absent)
        if hnsw:  # this connection stays the reader's: add the HNSW search settings
            try:
                _search_settings(conn, store.ef_search)
            except BaseException:
                conn.close()
                raise
        return store

    def embedding_cache(self) -> PostgresEmbeddingCache:
        try:
            with self.connect(vectors=False) as conn:
                row = self._current(conn)
        except IndexError_ as exc:
            return PostgresEmbeddingCache(note=f"cache ignored ({exc})")
        if row is None:
            return PostgresEmbeddingCache()
        return PostgresEmbeddingCache(self, row[0], f"cache from version {row[0]}")

    # -- writing

    def ensure_schema(self, conn: psycopg.Connection) -> None:
        """The extension and the versions' tables (see create_tables)."""
        create_tables(conn, SCHEMA, "postings_impact")  # its last object: added later, so an
        # older database gets it at its next ingest

    def unwritable(self) -> str:
        """The server decides, when a build is published: its error names the missing right."""
        return ""

    def publish(self, build: Build) -> str:
        r = self.settings.retrieval
        bm25 = SparseBM25(build.term_counts, r.bm25_variant, r.bm25_k1, r.bm25_b)
        facts = corpus_facts([d.text for d in build.documents])
        with self.connect(schema=True) as conn:
            self.remove_abandoned(conn)
            with conn.transaction():
                version = self._write(conn, build, bm25, facts)
            self.make_current(conn, version)
            self.prune(conn)
        return f"{self.location}/version-{version}"

    def make_current(self, conn: psycopg.Connection, version: int) -> None:
        """The flip: one short commit retires the current version and makes this one current."""
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (LOCK_SPACE,))
            conn.execute("UPDATE versions SET state = 'retired' WHERE state = 'current'")
            conn.execute("UPDATE versions SET state = 'current', made_current = now() "
                         "WHERE id = %s", (version,))
        conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, version))

    def _write(self, conn: psycopg.Connection, build: Build, bm25: SparseBM25,
               facts: CorpusFacts) -> int:
        """Insert the build as a 'building' version (inside the caller's transaction)."""
        hnsw = len(build.chunks) > HNSW_THRESHOLD
        dimension = int(build.chunk_vectors.shape[1])
        version = conn.execute(
            "INSERT INTO versions (state, manifest, bm25, facts, dimension, chunk_count, hnsw) "
            "VALUES ('building', %s, %s, %s, %s, %s, %s) RETURNING id",
            (Jsonb(build.manifest), Jsonb(_bm25_parameters(self.settings)),
             Jsonb({"acronyms": facts.acronyms, "amounts": sorted(facts.amounts)}),
             dimension, len(build.chunks), hnsw)).fetchone()[0]
        # Held until the version is current: a 'building' version whose lock is free was
        # abandoned by a killed writer (remove_abandoned).
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (LOCK_SPACE, version))
        counts = build.term_counts
        lengths = np.bincount(counts.indices, weights=counts.counts,
                              minlength=counts.rows).astype(np.int64)
        self._copy(conn, "documents (version_id, position, doc_id, record)",
                   ["int8", "int4", "text", "jsonb"],
                   ((version, i, d.doc_id, Jsonb(document_record(d, build.structures[d.doc_id])))
                    for i, d in enumerate(build.documents)))
        self._copy(conn, "chunks (version_id, chunk_id, doc_id, record, length, embedding, key)",
                   ["int8", "int4", "text", "jsonb", "int4", "vector", "bytea"],
                   ((version, c.chunk_id, c.doc_id, Jsonb(dataclasses.asdict(c)),
                     int(lengths[c.chunk_id]), build.chunk_vectors[c.chunk_id],
                     build.keys["chunks"][c.chunk_id].tobytes()) for c in build.chunks))
        self._copy(conn, "sentences (version_id, row, chunk_id, embedding, key)",
                   ["int8", "int4", "int4", "vector", "bytea"],
                   ((version, row, int(chunk), build.sentence_vectors[row],
                     build.keys["sentences"][row].tobytes())
                    for row, chunk in enumerate(build.sentence_chunk)))
        self._copy(conn, "vocabulary (version_id, position, word, embedding, key)",
                   ["int8", "int4", "text", "vector", "bytea"],
                   ((version, i, w, build.vocabulary.vectors[i],
                     build.keys["vocabulary"][i].tobytes())
                    for i, w in enumerate(build.vocabulary.words)))
        df = np.diff(counts.indptr)
        self._copy(conn, "terms (version_id, term, df, idf, absent)",
                   ["int8", "text", "int4", "float8", "float8"],
                   ((version, term, int(df[j]), bm25.idf[term], float(bm25.absent[j]))
                    for j, term in enumerate(counts.terms)))
        self._copy(conn, "postings (version_id, term, chunk_id, count, weight)",
                   ["int8", "text", "int4", "int4", "float8"], _postings(version, counts, bm25))
        if hnsw:
            self._build_hnsw(conn, version, dimension)
        return version

    def _copy(self, conn: psycopg.Connection, target: str, types: list[str], rows) -> None:
        with conn.cursor() as cur, cur.copy(
                f"COPY {target} FROM STDIN WITH (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)

    def _build_hnsw(self, conn: psycopg.Connection, version: int, dimension: int) -> None:
        """Partial HNSW indexes of this version's chunk and sentence vectors (vector_ip_ops:
        the vectors are unit length, so inner product is cosine), as wide as the version's size
        needs (ef_construction_for)."""
        chunks = conn.execute("SELECT chunk_count FROM versions WHERE id = %s",
                              (version,)).fetchone()[0]
        for table in ("chunks", "sentences"):
            conn.execute(sql.SQL(
                "CREATE INDEX {name} ON {table} USING hnsw ((embedding::vector({d})) "
                "vector_ip_ops) WITH (m = 16, ef_construction = {ef}) "
                "WHERE version_id = {v}").format(
                name=sql.Identifier(f"{table}_hnsw_v{version}"), table=sql.Identifier(table),
                d=sql.Literal(dimension), ef=sql.Literal(ef_construction_for(chunks)),
                v=sql.Literal(version)))

    def _delete(self, conn: psycopg.Connection, version: int) -> None:
        """Delete a version's rows, then its HNSW indexes (CONCURRENTLY, outside the transaction:
        a plain DROP INDEX would lock the table against every reader of the other versions)."""
        with conn.transaction():
            conn.execute("DELETE FROM versions WHERE id = %s", (version,))
            for table in VERSION_TABLES:
                conn.execute(sql.SQL("DELETE FROM {t} WHERE version_id = %s").format(
                    t=sql.Identifier(table)), (version,))
        for table in ("chunks", "sentences"):
            conn.execute(sql.SQL("DROP INDEX CONCURRENTLY IF EXISTS {i}").format(
                i=sql.Identifier(f"{table}_hnsw_v{version}")))

    def remove_abandoned(self, conn: psycopg.Connection) -> None:
        """Delete 'building' versions whose writer is gone (its advisory lock is free)."""
        for (version,) in conn.execute(
                "SELECT id FROM versions WHERE state = 'building'").fetchall():
            if conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                            (LOCK_SPACE, version)).fetchone()[0]:
                try:
                    log.info("policyqa: removing abandoned version %s", version)
                    self._delete(conn, version)
                finally:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, version))

    def prune(self, conn: psycopg.Connection) -> None:
        """Keep the current version and the one before it; delete older retired versions that no
        reader holds (`hold`): one still answering from its version keeps it until a later
        publish finds it free (readers move to the current version: `index.follow`)."""
        old = conn.execute("SELECT id FROM versions WHERE state = 'retired' ORDER BY id DESC "
                           "OFFSET 1").fetchall()
        for (version,) in old:
            if not conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                (LOCK_SPACE, version)).fetchone()[0]:
                log.info("policyqa: version %s is still read; kept for now", version)
                continue
            try:
                self._delete(conn, version)
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_SPACE, version))


def ef_search_for(chunks: int) -> int:
    """The HNSW search width for a version of this many chunks: wider as the graphs grow, so
    that recall@50 holds (HNSW_CHUNKS_PER_EF, measured); one setting serves both of a statement's
    HNSW scans (chunks and their sentences)."""
    return int(min(HNSW_EF_SEARCH_MAX, max(HNSW_EF_SEARCH, -(-chunks // HNSW_CHUNKS_PER_EF))))


def ef_construction_for(chunks: int) -> int:
    """The HNSW build width for a version of this many chunks (HNSW_LARGE_CHUNKS, measured): a
    better graph where the search width alone stopped lifting recall."""
    return HNSW_EF_CONSTRUCTION_LARGE if chunks > HNSW_LARGE_CHUNKS else HNSW_EF_CONSTRUCTION


def _search_settings(conn: psycopg.Connection, ef_search: int) -> None:
    """HNSW search: wider than the top-n, and past rows a filter or another version removes."""
    conn.execute(f"SET hnsw.ef_search = {int(ef_search)}")
    conn.execute("SET hnsw.iterative_scan = strict_order")


def _postings(version: int, counts, bm25: SparseBM25) -> Iterator[tuple]:
    """(version, term, chunk, count, weight) of every stored (chunk, term) entry of real chunks
    (the padding row of an empty corpus has no chunk)."""
    for j, term in enumerate(counts.terms):
        lo, hi = int(counts.indptr[j]), int(counts.indptr[j + 1])
        for chunk, count, weight in zip(counts.indices[lo:hi].tolist(),
                                        counts.counts[lo:hi].tolist(),
                                        bm25.weights[lo:hi].tolist(), strict=True):
            if chunk < counts.size:
                yield version, term, chunk, count, weight


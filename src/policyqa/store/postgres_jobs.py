"""Ingest jobs: one build shared by every `policyqa ingest --database` that runs at the same time.

Why: embedding is most of an ingest, and it is per document. Several processes, on one machine
or on several that mount the same corpus folder, each claim documents through the database and
embed them; one of them then makes the build from their shares, so N workers embed a corpus
about N times faster and publish the index one process would have published.

Tables. `ingest_jobs`: one row per shared build, with its settings key (manifest.build_key: what
a document's share depends on), its corpus (file -> sha256, metadata.toml included, as in the
manifest), its state (open | published | failed | abandoned) and the outcome every worker
reports. At most one job is open per settings key. `ingest_files`: one row per corpus file, in
corpus order: name, sha256, state (pending | done), the worker that did it and when, and its
share: the Skipped reason of a file not indexed, or the document record with its section tree,
its chunks (ids local to the document), their BM25 tokens, and the chunk and sentence vectors
with their embedding-cache keys.

Claims. A worker claims one pending file (`SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1`) and keeps
that transaction open while it reads, sections, chunks and embeds it; it writes the share and
marks the file done in the same transaction. The claim is the row lock itself, so there is no
'claimed' state to clean up: when a worker dies (killed, its machine lost), its connection
closes, its transaction aborts and its file is pending again. A worker that finds every pending
file locked waits on them (the same query without SKIP LOCKED): it takes over the file of a
worker that died, or learns that the last one is done.

Finalising. When no file is pending, each worker asks for the job's finalising lock (a session
advisory lock): the first to hold it while the job is still open finalises it (a callback: the
corpus-wide steps and the publish, ingest.py), stores the outcome and marks the job published;
the others wait for the lock and read that outcome. A finaliser that dies frees the lock, and
the next worker finalises instead.

Joining. Joins are serialised (a transaction advisory lock). Every worker holds a shared advisory
lock on its job while it runs, so an open job that nobody holds has lost its workers: a worker
with the same corpus resumes it (the files done stay done); one with another corpus marks it
abandoned and opens a new job. A worker whose corpus differs from a job that others are still
building is refused, naming the files: every worker must read the same corpus, and a file edited
mid-build waits for the next build. Each file's bytes are checked again when it is claimed.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from psycopg.types.json import Jsonb

from ..documents import Skipped
from ..errors import IndexError_
from ..manifest import corpus_difference
from .base import DocumentPart
from .files import chunk_from_record, document_from_record, document_record
from .postgres import PostgresBackend, create_tables

JOB_LOCKS = 0x506F_4C4A  # (JOB_LOCKS, 0): joins; (JOB_LOCKS, job id): held shared by its workers
FINALISE_LOCKS = 0x506F_4C46  # (FINALISE_LOCKS, job id): the one finalising
# What a share carries vectors of, with the columns of its vectors and their cache keys.
VECTORS = {"chunks": ("chunk_vectors", "chunk_keys"),
           "sentences": ("sentence_vectors", "sentence_keys")}

SCHEMA = """
CREATE TABLE IF NOT EXISTS ingest_jobs (
    id bigserial PRIMARY KEY,
    settings_key text NOT NULL,
    corpus jsonb NOT NULL,
    state text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'published', 'failed', 'abandoned')),
    outcome jsonb,
    created timestamptz NOT NULL DEFAULT now(),
    finished timestamptz
);
CREATE UNIQUE INDEX IF NOT EXISTS ingest_jobs_one_open ON ingest_jobs (settings_key)
    WHERE state = 'open';
CREATE TABLE IF NOT EXISTS ingest_files (
    job_id bigint NOT NULL REFERENCES ingest_jobs ON DELETE CASCADE,
    position int NOT NULL, name text NOT NULL, sha256 text NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done')),
    worker text, started timestamptz, finished timestamptz,
    skipped jsonb, document jsonb, chunks jsonb, tokens jsonb, stats jsonb, dimension int,
    chunk_vectors bytea, chunk_keys bytea, sentence_vectors bytea, sentence_keys bytea,
    PRIMARY KEY (job_id, position)
);
"""
SHARE = ("skipped", "document", "chunks", "tokens", "stats", "dimension", "chunk_vectors",
         "chunk_keys", "sentence_vectors", "sentence_keys")
BULK = ("document", "chunks", "tokens", *(c for pair in VECTORS.values() for c in pair))
CLAIM = ("SELECT position, name, sha256 FROM ingest_files WHERE job_id = %s AND state = 'pending' "
         "ORDER BY position LIMIT 1 FOR UPDATE")

# (file name, its share, its stats: texts embedded and reused per kind), in corpus order.
Result = tuple[str, DocumentPart | Skipped, dict]


class IngestJob:
    """This worker's place in the open job for its settings and corpus (see the module
    docstring): joined on creation, left by `close`."""

    def __init__(self, backend: PostgresBackend, settings_key: str, corpus: dict[str, str],
                 files: list[str], worker: str):
        self.worker = worker
        self.conn = backend.connect(vectors=False, schema=True)
        try:
            # A claim's transaction sits idle while its document is embedded, and a worker waits
            # on the claims of others: neither may be cut short by a server-wide timeout.
            self.conn.execute("SET idle_in_transaction_session_timeout = 0")
            self.conn.execute("SET lock_timeout = 0")
            create_tables(self.conn, SCHEMA, "ingest_files")
            self.id = self._join(settings_key, corpus, files)
        except BaseException:
            self.conn.close()
            raise

    def close(self) -> None:
        self.conn.close()  # ends the session: its locks go with it

    def _join(self, settings_key: str, corpus: dict[str, str], files: list[str]) -> int:
        conn = self.conn
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s, 0)", (JOB_LOCKS,))
            row = conn.execute("SELECT id, corpus FROM ingest_jobs WHERE settings_key = %s AND "
                               "state = 'open'", (settings_key,)).fetchone()
            if row is not None:
                job, theirs = row
                alive = not conn.execute("SELECT pg_try_advisory_lock(%s, %s)",
                                         (JOB_LOCKS, job)).fetchone()[0]
                if not alive:
                    conn.execute("SELECT pg_advisory_unlock(%s, %s)", (JOB_LOCKS, job))
                difference = corpus_difference(corpus, theirs)
                if difference and alive:
                    raise IndexError_(
                        f"the corpus here differs from that of ingest job {job}, which other "
                        f"workers are building ({difference}): every worker must read the same "
                        f"corpus folder (a shared mount); to ingest the edited corpus, let job "
                        f"{job} finish, then run ingest again")
                if difference:  # its workers are gone and the corpus moved on: start afresh
                    conn.execute("UPDATE ingest_jobs SET state = 'abandoned', finished = now() "
                                 "WHERE id = %s", (job,))
                    conn.execute("DELETE FROM ingest_files WHERE job_id = %s", (job,))
                    row = None
            if row is None:
                job = conn.execute("INSERT INTO ingest_jobs (settings_key, corpus) VALUES (%s, %s) "
                                   "RETURNING id", (settings_key, Jsonb(corpus))).fetchone()[0]
                with conn.cursor() as cur:
                    cur.executemany("INSERT INTO ingest_files (job_id, position, name, sha256) "
                                    "VALUES (%s, %s, %s, %s)",
                                    [(job, i, name, corpus[name]) for i, name in enumerate(files)])
            conn.execute("SELECT pg_advisory_lock_shared(%s, %s)", (JOB_LOCKS, job))
        return job

    @contextmanager
    def claim(self) -> Iterator[Claim | None]:
        """The next pending file, locked until the block ends; None when every file is done.
        `finish` in the block writes its share and marks it done, in the claim's transaction;
        leaving the block otherwise (an exception) leaves the file pending for another worker."""
        with self.conn.transaction():
            row = (self.conn.execute(CLAIM + " SKIP LOCKED", (self.id,)).fetchone()
                   or self.conn.execute(CLAIM, (self.id,)).fetchone())  # waits on locked ones
            yield None if row is None else Claim(self, *row)

    def progress(self) -> tuple[int, int]:
        """(files done, files) of the whole job."""
        return self.conn.execute("SELECT count(*) FILTER (WHERE state = 'done'), count(*) FROM "
                                 "ingest_files WHERE job_id = %s", (self.id,)).fetchone()

    def results(self) -> list[Result]:
        rows = self.conn.execute(
            f"SELECT name, {', '.join(SHARE)} FROM ingest_files WHERE job_id = %s "
            "ORDER BY position", (self.id,)).fetchall()
        return [(name, _share_from_row(name, dict(zip(SHARE, values, strict=True))),
                 values[SHARE.index("stats")] or {}) for name, *values in rows]

    def finalise(self, make: Callable[[list[Result]], dict]) -> tuple[dict, bool]:
        """The job's outcome, made by `make(results)` once per job (by the first worker to get
        here with the job still open) and read by the others: (outcome, made by this worker).
        `make` returns {"state": "published" | "failed", ...}; the shares' bulk (records,
        tokens, vectors) is then dropped, the version holding it, and older finished jobs are
        deleted."""
        conn = self.conn
        conn.execute("SELECT pg_advisory_lock(%s, %s)", (FINALISE_LOCKS, self.id))
        try:
            state, outcome = conn.execute("SELECT state, outcome FROM ingest_jobs WHERE id = %s",
                                          (self.id,)).fetchone()
            if state != "open":
                return outcome, False
            outcome = make(self.results())
            with conn.transaction():
                conn.execute("UPDATE ingest_jobs SET state = %s, outcome = %s, finished = now() "
                             "WHERE id = %s", (outcome["state"], Jsonb(outcome), self.id))
                conn.execute(f"UPDATE ingest_files SET {', '.join(f'{c} = NULL' for c in BULK)} "
                             "WHERE job_id = %s", (self.id,))
                # Older finished jobs, but none a worker still holds (reading its outcome).
                conn.execute("DELETE FROM ingest_jobs WHERE id <> %s AND state <> 'open' AND "
                             "pg_try_advisory_xact_lock(%s, id::int)", (self.id, JOB_LOCKS))
            return outcome, True
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (FINALISE_LOCKS, self.id))


class Claim:
    """One file this worker holds (its row lock): name, position and the sha256 the job has."""

    def __init__(self, job: IngestJob, position: int, name: str, sha256: str):
        self.job, self.position, self.name, self.sha256 = job, position, name, sha256

    def finish(self, share: DocumentPart | Skipped, stats: dict) -> None:
        values = _share_row(share)
        values["stats"] = Jsonb(stats)
        self.job.conn.execute(
            f"UPDATE ingest_files SET state = 'done', worker = %s, started = now(), "
            f"finished = clock_timestamp(), {', '.join(f'{c} = %s' for c in values)} "
            "WHERE job_id = %s AND position = %s",
            (self.job.worker, *values.values(), self.job.id, self.position))


def _share_row(share: DocumentPart | Skipped) -> dict:
    """The columns of a share (started is the claim's transaction start: when it was claimed)."""
    if isinstance(share, Skipped):
        return {"skipped": Jsonb({"reason": share.reason, "status": share.status})}
    vectors = share.vectors
    return {"document": Jsonb(document_record(share.document, share.structure)),
            "chunks": Jsonb([dataclasses.asdict(c) for c in share.chunks]),
            "tokens": Jsonb(share.tokens), "dimension": int(vectors["chunks"].shape[1]),
            **{column: np.ascontiguousarray(vectors[kind], "<f4").tobytes()
               for kind, (column, _keys) in VECTORS.items()},
            **{column: np.ascontiguousarray(share.keys[kind], np.uint8).tobytes()
               for kind, (_vectors, column) in VECTORS.items()}}


def _share_from_row(name: str, row: dict) -> DocumentPart | Skipped:
    if row["skipped"] is not None:
        return Skipped(name, row["skipped"]["reason"], row["skipped"]["status"])
    document, structure = document_from_record(row["document"])
    part = DocumentPart(document, structure, [chunk_from_record(c) for c in row["chunks"]],
                        row["tokens"])
    for kind, (vectors, keys) in VECTORS.items():
        part.vectors[kind] = np.frombuffer(row[vectors], "<f4").astype(np.float32).reshape(
            -1, row["dimension"])
        part.keys[kind] = np.frombuffer(row[keys], np.uint8).reshape(-1, 32)
    return part


__all__ = ["Claim", "IngestJob"]

"""The test PostgreSQL (scripts/postgres.sh) is real: pgvector answers nearest-neighbour queries, the
script is idempotent and reports what runs, and the hot standby replays the primary's writes."""

from __future__ import annotations

import time

import numpy as np
import pytest

# psycopg is imported inside each test, after its fixture: without the postgres extra the fixture
# skips (or, under PG_REQUIRED=1, fails), where a module-level importorskip would always skip.


def test_pgvector_nearest_neighbours(pg_server):
    import psycopg
    from pgvector.psycopg import register_vector

    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(40, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = vectors[3] + 0.05 * rng.normal(size=8).astype(np.float32)
    with psycopg.connect(pg_server, autocommit=True, connect_timeout=10) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        register_vector(conn)
        conn.execute("DROP TABLE IF EXISTS t_nn")
        conn.execute("CREATE TABLE t_nn (id int PRIMARY KEY, embedding vector(8))")
        with conn.cursor() as cur:
            cur.executemany("INSERT INTO t_nn VALUES (%s, %s)",
                            [(i, v) for i, v in enumerate(vectors)])
        conn.execute("CREATE INDEX ON t_nn USING hnsw (embedding vector_ip_ops)")
        rows = conn.execute("SELECT id, embedding <#> %s AS d FROM t_nn ORDER BY embedding <#> %s "
                            "LIMIT 5", (query, query)).fetchall()
        version = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'"
                               ).fetchone()[0]
    expected = np.argsort(-(vectors @ query))[:5].tolist()
    assert [r[0] for r in rows] == expected
    assert rows[0][0] == 3
    # <#> is the negative inner product
    assert rows[0][1] == pytest.approx(-float(vectors[3] @ query), abs=1e-5)
    assert tuple(int(x) for x in version.split(".")[:2]) >= (0, 8)


def test_script_is_idempotent_and_reports_status(pg_cluster, pg_server):
    assert pg_cluster.start()["primary"] == pg_server  # a second start finds it running
    status = pg_cluster.run("status")
    assert f"primary running {pg_server}" in status


def test_listens_on_loopback_only(pg_server):
    import psycopg

    with psycopg.connect(pg_server, connect_timeout=10) as conn:
        assert conn.execute("SHOW listen_addresses").fetchone()[0] == "127.0.0.1"
        assert conn.execute("SHOW server_version_num").fetchone()[0] >= "180000"


def test_replica_replays_primary_writes(pg_cluster, pg_server, pg_replica):
    import psycopg

    assert pg_replica != pg_server
    with psycopg.connect(pg_server, autocommit=True, connect_timeout=10) as primary, \
            psycopg.connect(pg_replica, autocommit=True, connect_timeout=10) as standby:
        assert standby.execute("SELECT pg_is_in_recovery()").fetchone()[0] is True
        primary.execute("DROP TABLE IF EXISTS t_rep")
        primary.execute("CREATE TABLE t_rep (id int PRIMARY KEY, note text)")
        primary.execute("INSERT INTO t_rep VALUES (1, 'written on the primary')")
        lsn = primary.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        deadline = time.monotonic() + 30
        while True:  # wait for the standby to replay past the write, not a fixed sleep
            caught_up = standby.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                        (lsn,)).fetchone()[0]
            if caught_up or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert caught_up, "the standby did not replay the write within 30 s"
        assert standby.execute("SELECT note FROM t_rep WHERE id = 1").fetchone()[0] == \
            "written on the primary"
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            standby.execute("INSERT INTO t_rep VALUES (2, 'refused on a standby')")
    assert f"replica running {pg_replica}" in pg_cluster.run("status")

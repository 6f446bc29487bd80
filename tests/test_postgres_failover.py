"""A primary that stops mid-ingest leaves its hot standby answering the previous version, and
`serve` on the standby answers exactly as `serve` on the primary.

Why a cluster of its own: the test stops its primary as a crash would (`pg_ctl stop -m immediate`
through scripts/postgres.sh), which the session's shared server must never see. Real parts only:
PostgreSQL 18 + pgvector with a streaming standby, a real `policyqa ingest` in a subprocess
(paused at one point so the stop lands while it writes, then let go against the dead server),
real `policyqa serve` processes over real HTTP on free loopback ports.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from postgres_fixture import own_cluster
from test_postgres_store import QUESTIONS, embedded_build, ranked, versions

from policyqa.config import ROOT, default_cache_dir
from policyqa.index import load_index
from policyqa.store import backend

EDIT = ("dmh-4.13-peer-advocates.txt", "Peer Advocates", "Peer Advocates (edited)")

# A real ingest of the edited corpus that pauses at `where` until the test says go (bounded), so
# the primary is stopped while this writer is in the middle of its version; then it carries on
# against the stopped server and must fail.
PAUSED_INGEST = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from policyqa.store import postgres

    where, ready, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])

    def pause():
        ready.write_text("ready")
        deadline = time.monotonic() + 120
        while not go.exists() and time.monotonic() < deadline:
            time.sleep(0.05)

    if where == "mid-copy":  # inside the version's one transaction, half-way through postings
        real = postgres._postings
        def postings(*args):
            for n, row in enumerate(real(*args)):
                if n == 500:
                    pause()
                yield row
        postgres._postings = postings
    else:  # the version committed as 'building', before the flip makes it current
        flip = postgres.PostgresBackend.make_current
        def make_current(self, conn, version):
            pause()
            return flip(self, conn, version)
        postgres.PostgresBackend.make_current = make_current
    from policyqa.cli import main
    sys.exit(main(["ingest", "--corpus", sys.argv[4], "--database", sys.argv[5]]))
""")


def _query(url: str, statement: str, params=None):
    import psycopg

    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def wait_for_replay(primary: str, standby: str, timeout: float = 60) -> None:
    """Until the standby has replayed everything the primary has written so far (bounded)."""
    lsn = _query(primary, "SELECT pg_current_wal_lsn()")[0][0]
    deadline = time.monotonic() + timeout
    while not _query(standby, "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))[0][0]:
        assert time.monotonic() < deadline, f"the standby did not replay {lsn} within {timeout} s"
        time.sleep(0.05)


def wait_until(check, what: str, timeout: float, proc: subprocess.Popen | None = None,
               log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if proc is not None and proc.poll() is not None:
            pytest.fail(f"{what}: the process exited ({proc.returncode}):\n"
                        f"{log.read_text()[-3000:] if log else ''}")
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout:g} s\n{log.read_text()[-3000:] if log else ''}")
        time.sleep(0.1)


@pytest.fixture
def cluster():
    """A primary and a hot standby of this test's own (ROOT/.pg/pytest-PID-failover), stopped and
    removed afterwards."""
    with own_cluster("-failover") as own:
        yield own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(url: str, folder: Path) -> tuple[str, subprocess.Popen, Path]:
    from netguard import guarded_env

    folder.mkdir()
    port = _free_port()
    env = guarded_env(folder, POLICYQA_CACHE=str(default_cache_dir()), POLICYQA_API_RATE="0")
    log = folder / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port), "--corpus",
         str(ROOT / "corpus"), "--database", url],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return f"http://127.0.0.1:{port}", proc, log


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)


@pytest.mark.parametrize("where", ["mid-copy", "before-the-flip"])
def test_a_primary_stopped_mid_ingest_leaves_the_standby_on_the_previous_version(
        index, cluster, tmp_path, where):
    import httpx

    urls = cluster.start(replica=True)
    base_p, base_s = (urls[k].rsplit("/", 1)[0] for k in ("primary", "replica"))
    _query(urls["primary"], "CREATE DATABASE failover")
    primary, standby = f"{base_p}/failover", f"{base_s}/failover"
    settings = dataclasses.replace(index.settings, database_url=primary)
    backend(settings).publish(embedded_build(index))  # version 1: the unedited corpus
    v1 = load_index(settings, rebuild="never")
    expected = {q: ranked(v1, q) for q in QUESTIONS}
    v1.store.close()
    wait_for_replay(primary, standby)

    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    name, old, new = EDIT
    text = (corpus / name).read_text(encoding="utf-8")
    assert old in text and new not in text
    (corpus / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    ready, go, log = tmp_path / "ready", tmp_path / "go", tmp_path / "ingest.log"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    env.pop("POLICYQA_DATABASE_URL", None)
    ingest = subprocess.Popen([sys.executable, "-c", PAUSED_INGEST, where, str(ready), str(go),
                               str(corpus), primary], env=env, cwd=ROOT,
                              stdout=log.open("w"), stderr=subprocess.STDOUT)
    servers: list[subprocess.Popen] = []
    try:
        wait_until(ready.exists, "the ingest reaching its pause", 180, ingest, log)
        # What the primary shows while the writer is in the middle of version 2.
        if where == "mid-copy":  # uncommitted: visible as the writer's COPY, not as a row
            wait_until(lambda: _query(primary, "SELECT count(*) FROM pg_stat_activity WHERE "
                                      "state = 'active' AND query LIKE 'COPY postings%'")[0][0],
                       "the writer's COPY on the primary", 30, ingest, log)
            assert versions(primary) == [(1, "current")]
        else:  # committed as 'building' and streamed to the standby too
            wait_until(lambda: (2, "building") in versions(primary),
                       "a 'building' version on the primary", 30, ingest, log)
            wait_for_replay(primary, standby)
            assert versions(standby) == [(1, "current"), (2, "building")]
        cluster.run("stop", "--primary-only", "--immediate")
        with pytest.raises(Exception):  # noqa: B017 - any refusal: the primary is gone
            _query(primary, "SELECT 1")
        go.write_text("go")  # the writer carries on against the stopped primary, and fails
        assert ingest.wait(timeout=60) != 0, log.read_text()[-3000:]
        assert "server closed the connection" in log.read_text(), log.read_text()[-3000:]

        # The standby alone: version 1, the old text, the same rankings as before.
        on_standby = load_index(dataclasses.replace(settings, database_url=standby),
                                rebuild="never")
        assert on_standby.store.version == 1
        assert list(on_standby.chunks) == list(index.chunks)
        assert not any(new in c.text for c in on_standby.chunks)
        assert {q: ranked(on_standby, q) for q in QUESTIONS} == expected
        on_standby.store.close()

        # The primary back (crash recovery): still version 1; the standby follows it again.
        assert cluster.start(replica=True) == urls
        states = versions(primary)
        assert states == ([(1, "current")] if where == "mid-copy"
                          else [(1, "current"), (2, "building")])
        wait_for_replay(primary, standby)
        assert versions(standby) == states

        # `serve` on the standby and on the primary: the same JSON, over real HTTP.
        started = [_serve(url, tmp_path / f"serve-{i}") for i, url in enumerate((standby, primary))]
        servers = [proc for _url, proc, _log in started]
        for url, proc, serve_log in started:
            wait_until(lambda url=url: _healthy(url), f"serve at {url}", 120, proc, serve_log)
        answers = []
        for url, _proc, _log in started:
            with httpx.Client(base_url=url, timeout=60) as client:
                health = client.get("/health").json()
                assert health["store"] == "postgres"
                assert health["index"]["build"] == "version-1"
                got = {"documents": client.get("/documents").json()}
                for question in [*QUESTIONS, "What do Peer Advocates do?"]:
                    response = client.post("/ask", json={"question": question, "k": 5})
                    assert response.status_code == 200, response.text
                    got[f"ask {question}"] = response.json()
                for phrase in (old, new, "confidential"):
                    response = client.post("/quote", json={"phrase": phrase})
                    assert response.status_code == 200, response.text
                    got[f"quote {phrase}"] = response.json()
            answers.append(got)
        on_the_standby, on_the_primary = answers
        assert on_the_standby == on_the_primary
        assert len(on_the_standby["documents"]["documents"]) == len(index.documents)
        assert on_the_standby[f"ask {QUESTIONS[0]}"]["passages"]
        assert on_the_standby[f"quote {old}"]["matches"]  # the old text is what is served
        assert not any(m["exact"] for m in on_the_standby[f"quote {new}"]["matches"])
    finally:
        go.write_text("go")
        for proc in (ingest, *servers):
            _stop(proc)


def _healthy(url: str) -> bool:
    import httpx

    try:
        return httpx.get(f"{url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False

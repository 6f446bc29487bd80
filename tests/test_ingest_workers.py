"""Ingest on several machines: `policyqa ingest --database` run as several processes at once,
against a real PostgreSQL 18 + pgvector (postgres_fixture) with the real model.

Two workers started together share the documents (both claim some, no file twice) and publish
the index one process builds; a worker killed while it holds a claim leaves its file to another,
and the build still equals a clean one; a worker whose corpus differs from the job's is refused,
naming the file."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest

from policyqa.answers import ask
from policyqa.config import ROOT, load_settings
from policyqa.index import build_index, load_index

QUESTIONS = ["How should I keep participant records?", "Can staff accept gifts?",
             "Can I lend a client $20?", "When may peer advocates visit?"]
FIRST, SECOND = "dmh-4.12-service-relationships.txt", "dmh-4.13-peer-advocates.txt"
SUBPROCESS_TIMEOUT = 300  # a whole worker; the seed corpus takes about 20 s on 2 cores


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """The seed corpus plus what the corpus-wide steps settle at finalisation: a duplicate, a
    file whose stem another already has, an empty file and an unsupported one (8 files)."""
    folder = tmp_path_factory.mktemp("workers") / "corpus"
    shutil.copytree(ROOT / "corpus", folder)
    shutil.copy(folder / "longmont-case-management-code-of-conduct.txt", folder / "longmont-copy.txt")
    (folder / "sub").mkdir()
    (folder / "sub" / "dmh-4.13-peer-advocates.md").write_text(
        "# Visiting Hours\n\nPeer advocates may visit participants on weekdays between 9 and 5, "
        "after the visit has been agreed with the participant.\n", encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "minutes.wpd").write_bytes(b"\xffWPC not really WordPerfect")
    return folder


@pytest.fixture(scope="module")
def reference(corpus, pg_database) -> str:
    """The corpus built by one process (build_index, not a worker) into its own database."""
    url = pg_database("policyqa_workers_reference")
    build_index(load_settings(corpus, corpus.parent / "index", url))
    return url


def _env() -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1", "CI": "1"}
    env.pop("POLICYQA_DATABASE_URL", None)
    return env


# Fault injection for one worker: "hang" holds its first claim until killed (it never gets past
# reading that file); "edit" changes a file of its corpus after joining the job, before claiming.
HOOKED_WORKER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from policyqa import ingest

    mode, ready, target = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    if mode == "hang":
        def prepare_document(doc, settings):
            ready.write_text(doc.path)
            time.sleep(600)  # SIGKILLed by the test long before this ends
        ingest.prepare_document = prepare_document
    else:
        real = ingest.load_embedder
        def load_embedder(settings):
            path = Path(settings.corpus_dir) / target
            path.write_text(path.read_text(encoding="utf-8") + "\\nEdited.\\n", encoding="utf-8")
            ready.write_text("edited")
            return real(settings)
        ingest.load_embedder = load_embedder
    from policyqa.cli import main
    sys.exit(main(sys.argv[4:]))
""")


def start_worker(corpus: Path, url: str, hook: tuple[str, Path, str] | None = None,
                 log: Path | None = None) -> subprocess.Popen:
    args = ["ingest", "--corpus", str(corpus), "--database", url, "--json"]
    command = ([sys.executable, "-c", HOOKED_WORKER, hook[0], str(hook[1]), hook[2], *args]
               if hook else [sys.executable, "-m", "policyqa.cli", *args])
    return subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE,
                            stderr=(log or Path(os.devnull)).open("w"), text=True)


def finished(proc: subprocess.Popen, log: Path | None = None) -> tuple[int, dict | None]:
    """(exit code, its JSON report or None), waiting at most SUBPROCESS_TIMEOUT."""
    try:
        out, _ = proc.communicate(timeout=SUBPROCESS_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"worker still running after {SUBPROCESS_TIMEOUT} s: "
                             f"{tail(log) if log else ''}") from None
    return proc.returncode, json.loads(out) if out.strip() else None


def tail(log: Path) -> str:
    """The end of a worker's stderr without its progress bars."""
    lines = log.read_text(errors="replace").replace("\r", "\n").splitlines()
    return "\n".join(line for line in lines if "item/s" not in line and "it/s" not in line)[-3000:]


def wait_for(condition, what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)


def file_rows(url: str) -> dict[str, tuple[str, str | None]]:
    """name -> (state, worker) of the latest job's files."""
    with psycopg.connect(url, autocommit=True) as conn:
        return {name: (state, worker) for name, state, worker in conn.execute(
            "SELECT name, state, worker FROM ingest_files WHERE job_id = "
            "(SELECT max(id) FROM ingest_jobs) ORDER BY position")}


def stored_index(url: str) -> dict:
    """Every row of the current version, by table, vectors as numpy; the manifest without its
    timestamp."""
    from policyqa.store.postgres import _register

    queries = {
        "documents": "SELECT position, doc_id, record FROM documents WHERE version_id = %s "
                     "ORDER BY position",
        "chunks": "SELECT chunk_id, doc_id, record, length, key, embedding FROM chunks "
                  "WHERE version_id = %s ORDER BY chunk_id",
        "sentences": "SELECT row, chunk_id, key, embedding FROM sentences WHERE version_id = %s "
                     "ORDER BY row",
        "vocabulary": "SELECT position, word, key, embedding FROM vocabulary WHERE version_id = %s "
                      "ORDER BY position",
        "terms": "SELECT term, df, idf, absent FROM terms WHERE version_id = %s ORDER BY term",
        "postings": "SELECT term, chunk_id, count, weight FROM postings WHERE version_id = %s "
                    "ORDER BY term, chunk_id",
    }
    with psycopg.connect(url, autocommit=True) as conn:
        _register(conn)
        with conn.cursor(binary=True) as cur:
            version, manifest, bm25, facts, dimension, count = cur.execute(
                "SELECT id, manifest, bm25, facts, dimension, chunk_count FROM versions "
                "WHERE state = 'current'").fetchone()
            tables = {name: cur.execute(query, (version,)).fetchall()
                      for name, query in queries.items()}
    manifest.pop("created")
    return {"version": (manifest, bm25, facts, dimension, count), **tables}


def assert_same_index(url: str, expected_url: str) -> None:
    """Same documents, chunks (text, offsets, section paths: the whole record), sentences,
    vocabulary and cache keys; vectors and BM25 statistics equal to float precision."""
    got, want = stored_index(url), stored_index(expected_url)
    assert got["version"] == want["version"]
    assert got["documents"] == want["documents"]
    assert all(want[table] for table in want), "the reference index is empty"
    for table in ("chunks", "sentences", "vocabulary"):
        assert [r[:-1] for r in got[table]] == [r[:-1] for r in want[table]], table
        assert np.allclose(np.stack([r[-1] for r in got[table]]),
                           np.stack([r[-1] for r in want[table]]), atol=1e-5), table
    for table in ("terms", "postings"):
        assert [r[:-2] for r in got[table]] == [r[:-2] for r in want[table]], table
        assert np.allclose([r[-2:] for r in got[table]], [r[-2:] for r in want[table]],
                           rtol=1e-12, atol=0), table


def answers(corpus: Path, url: str) -> list[dict]:
    index = load_index(load_settings(corpus, corpus.parent / "index", url), rebuild="never")
    try:
        return [{"answer": a["answer"], "passages": [(p["citation"], p["start"], p["end"])
                                                     for p in a["passages"]]}
                for a in (ask(index, q, k=5).to_json() for q in QUESTIONS)]
    finally:
        index.store.close()


def copy_database(pg_database, url: str, name: str) -> str:
    """A new database made from `url`'s (CREATE DATABASE ... TEMPLATE): its current version is
    the embedding cache of the next build, as on a re-ingest."""
    copy = pg_database(name)
    server = copy.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{copy.rsplit("/", 1)[1]}"')
        conn.execute(f'CREATE DATABASE "{copy.rsplit("/", 1)[1]}" TEMPLATE '
                     f'"{url.rsplit("/", 1)[1]}"')
    return copy


# ---------------------------------------------------------------- the tests


def test_two_workers_at_once_build_the_index_one_process_builds(corpus, reference, pg_database,
                                                                tmp_path):
    url = pg_database("policyqa_two_workers")
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    procs = [start_worker(corpus, url, log=log) for log in logs]
    reports = []
    for proc, log in zip(procs, logs, strict=True):
        code, report = finished(proc, log)
        assert code == 0, tail(log)
        reports.append(report)
    names = sorted(file_rows(url))
    assert len(names) == 8
    for report in reports:  # each accounts for every file, as one process does
        assert sorted(r["file"] for r in report["documents"]) == names
        assert report["totals"] | {"seconds": 0} == reports[0]["totals"] | {"seconds": 0}
        assert report["documents"] == reports[0]["documents"]
    statuses = {r["file"]: r["status"] for r in reports[0]["documents"]}
    assert statuses == {**dict.fromkeys(names, "indexed"), "longmont-copy.txt": "duplicate",
                        "empty.txt": "skipped", "minutes.wpd": "unsupported"}
    a, b = (r["worker"] for r in reports)
    assert a["read"] and b["read"], (a, b)  # both claimed documents: they ran at once
    assert not set(a["read"]) & set(b["read"])  # no file twice
    assert sorted(a["read"] + b["read"]) == names
    assert sorted([a["finalised"], b["finalised"]]) == [False, True]
    assert file_rows(url) == {**{n: ("done", a["id"]) for n in a["read"]},
                              **{n: ("done", b["id"]) for n in b["read"]}}
    assert_same_index(url, reference)
    assert answers(corpus, url) == answers(corpus, reference)


def test_a_killed_workers_file_is_finished_by_another(corpus, reference, pg_database, tmp_path):
    url = copy_database(pg_database, reference, "policyqa_killed_worker")
    ready = tmp_path / "ready"
    hung = start_worker(corpus, url, ("hang", ready, ""), tmp_path / "hung.log")
    try:
        wait_for(lambda: ready.exists() or hung.poll() is not None, "the first claim")
        assert ready.read_text() == str(corpus / FIRST), tail(tmp_path / "hung.log")
        other = start_worker(corpus, url, log=tmp_path / "other.log")
        # The other worker does every other file, then waits on the one still claimed.
        wait_for(lambda: sum(s == "done" for s, _ in file_rows(url).values()) == 7
                 or other.poll() is not None, "the other files")
        assert file_rows(url)[FIRST] == ("pending", None)
    finally:
        kill(hung)
    code, report = finished(other, tmp_path / "other.log")
    assert code == 0, tail(tmp_path / "other.log")
    worker = report["worker"]
    assert FIRST in worker["read"] and len(worker["read"]) == 8 and worker["finalised"]
    assert file_rows(url)[FIRST] == ("done", worker["id"])
    assert report["totals"]["files"] == 8 and report["totals"]["indexed"] == 5
    assert_same_index(url, reference)


def test_a_worker_whose_corpus_differs_is_refused_naming_the_file(corpus, reference, pg_database,
                                                                 tmp_path):
    url = copy_database(pg_database, reference, "policyqa_other_corpus")
    ready = tmp_path / "ready"
    hung = start_worker(corpus, url, ("hang", ready, ""), tmp_path / "hung.log")
    try:
        wait_for(lambda: ready.exists() or hung.poll() is not None, "the first claim")
        assert ready.exists(), tail(tmp_path / "hung.log")
        # Another machine whose copy of one file differs: refused when it joins.
        elsewhere = tmp_path / "elsewhere"
        shutil.copytree(corpus, elsewhere)
        (elsewhere / SECOND).write_text((corpus / SECOND).read_text(encoding="utf-8") + "\nNew.\n",
                                        encoding="utf-8")
        log = tmp_path / "refused.log"
        code, report = finished(start_worker(elsewhere, url, log=log), log)
        assert code == 2 and report is None
        assert "differs from that of ingest job 1" in log.read_text()
        assert f"changed: {SECOND}" in log.read_text()
        # A file that changes after its worker joined: refused when claimed, and left pending.
        changing = tmp_path / "changing"
        shutil.copytree(corpus, changing)
        log = tmp_path / "changed.log"
        code, report = finished(start_worker(changing, url, ("edit", tmp_path / "edited", SECOND),
                                             log), log)
        assert code == 2 and report is None, tail(log)
        assert f"{SECOND} differs from the copy ingest job 1 was started with" in log.read_text()
        assert file_rows(url)[SECOND] == ("pending", None)
    finally:
        kill(hung)
    # Once the job's workers are gone, the edited corpus is no longer refused: it replaces the
    # job (abandoned) with its own, and builds it.
    log = tmp_path / "after.log"
    code, report = finished(start_worker(elsewhere, url, log=log), log)
    assert code == 0, tail(log)
    assert report["worker"]["job"] == 2 and len(report["worker"]["read"]) == 8
    with psycopg.connect(url, autocommit=True) as conn:
        assert conn.execute("SELECT id, state FROM ingest_jobs ORDER BY id").fetchall() == [
            (2, "published")]  # job 1 (abandoned) deleted once job 2 was published
    index = load_index(load_settings(elsewhere, tmp_path / "index", url), rebuild="never")
    assert any(c.doc_id == Path(SECOND).stem and c.text.endswith("New.") for c in index.chunks)
    index.store.close()


def test_a_corpus_with_no_readable_document_fails_in_the_worker_naming_each_file(pg_database,
                                                                               tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "minutes.wpd").write_bytes(b"\xffWPC")
    log = tmp_path / "worker.log"
    code, report = finished(start_worker(corpus, pg_database("policyqa_no_documents"), log=log),
                            log)
    assert code == 2 and "no readable documents" in log.read_text()
    assert {r["file"]: r["status"] for r in report["documents"]} == {
        "empty.txt": "skipped", "minutes.wpd": "unsupported"}


def test_file_names_that_are_not_utf8_are_indexed_and_cited_as_text(pg_database, tmp_path):
    """Files copied from an old Windows share, or unzipped from a ZIP without UTF-8 names, have
    names that are not UTF-8 ("caf\\xe9"). Python holds such a name with lone surrogates, which
    PostgreSQL's jsonb refuses: the ingest failed. Names are read as Windows-1252 text for
    reports, the manifest and citations, and a line break in a name is a space."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    with open(os.fsencode(corpus) + b"/caf\xe9 policy.md", "wb") as fh:
        fh.write(b"# Outreach Meals\n\nStaff may buy a client a coffee during an outreach visit.\n")
    (corpus / "home\nvisits.md").write_text("# Home Visits\n\nVisits end by 6 pm.\n")
    log = tmp_path / "worker.log"
    url = pg_database("policyqa_names")
    code, report = finished(start_worker(corpus, url, log=log), log)
    assert code == 0, tail(log)
    assert [r["file"] for r in report["documents"]] == ["café policy.md", "home visits.md"]
    index = load_index(load_settings(corpus, tmp_path / "index", url), rebuild="never")
    answer = ask(index, "Can I buy a client a coffee?")
    assert answer.answered and answer.answer.citation == "café policy, Outreach Meals"
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")  # no lone surrogates
    index.store.close()

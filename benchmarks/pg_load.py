"""Load over the database: 16 clients for 60 s against 2 `serve --database` workers, beside the
embedded `serve`, written into benchmarks/REPORT.md (section "PostgreSQL: serve under load").

    .venv/bin/python -m benchmarks.pg_load                     # the full procedure (about 6 min)
    .venv/bin/python -m benchmarks.pg_load --smoke             # 4 clients, 5 s per configuration
    .venv/bin/python -m benchmarks.pg_load --database URL --configs postgres:2 --smoke --no-report

Why this procedure: it is what an agency scaling out would run, with nothing borrowed from a test
run. It starts a local PostgreSQL 18 + pgvector with scripts/postgres.sh in a temporary
POLICYQA_PG_DIR, ingests the seed corpus into it with `policyqa ingest --database` (the real
model), starts N `policyqa serve --database URL` processes on free loopback ports
(POLICYQA_API_RATE=0: the API is measured, not its limiter), runs benchmarks/load.py over all of
them (each client's requests alternate between the workers), stops them, and runs the same load
against `policyqa serve` on the embedded index. Everything it started is stopped at the end,
also on failure. The clients run on the same machine as the servers and the database (2 cores
here), so the figures are a floor for what separate machines give.

--database uses an existing database with a current index instead (no server started, no
ingest): the test suite's smoke run over its own server. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import load
from policyqa.config import ROOT

HERE = Path(__file__).resolve().parent
HEADING = "## PostgreSQL: serve under load"
DEFAULT_CONFIGS = "postgres:2,embedded:1,embedded:2"


def rss_kib(pid: int) -> int:
    """A process's resident set (KiB), from /proc (no psutil: it is not a dependency)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_postgres(folder: Path) -> str:
    """A primary from scripts/postgres.sh with its data in `folder`; returns its URL."""
    env = {**os.environ, "POLICYQA_PG_DIR": str(folder), "PYTHON": sys.executable}
    env.pop("PGPORT", None)
    done = subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "start"], env=env,
                          capture_output=True, text=True, timeout=180, check=True)
    return done.stdout.split("primary ", 1)[1].split()[0]


def stop_postgres(folder: Path) -> None:
    env = {**os.environ, "POLICYQA_PG_DIR": str(folder), "PYTHON": sys.executable}
    subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop"], env=env,
                   capture_output=True, text=True, timeout=180)
    shutil.rmtree(folder.resolve(), ignore_errors=True)
    if folder.is_symlink():
        folder.unlink()


def make_database(server: str, name: str) -> str:
    import psycopg

    with psycopg.connect(server, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"{server.rsplit('/', 1)[0]}/{name}"


def ingest(url: str, corpus: Path, log: Path) -> float:
    """`policyqa ingest --database` of the corpus, in its own process; its wall seconds."""
    started = time.perf_counter()
    with log.open("w") as out:
        subprocess.run([sys.executable, "-m", "policyqa.cli", "ingest", "--corpus", str(corpus),
                        "--database", url], cwd=ROOT, env=_env(), stdout=out,
                       stderr=subprocess.STDOUT, timeout=1800, check=True)
    return time.perf_counter() - started


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(POLICYQA_API_RATE="0", HF_HUB_OFFLINE="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT / "src"), str(ROOT),
                                                      os.environ.get("PYTHONPATH")) if p))
    return env


class Workers:
    """N `policyqa serve` processes on free loopback ports, stopped by `stop` (always called)."""

    def __init__(self, store: str, count: int, corpus: Path, index: Path, url: str | None,
                 logs: Path):
        self.procs: list[subprocess.Popen] = []
        self.urls: list[str] = []
        self.logs = []
        for i in range(count):
            port = free_port()
            log = logs / f"serve-{store}-{count}-{i}.log"
            where = ["--database", url] if store == "postgres" else ["--index", str(index)]
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "policyqa.cli", "serve", "--port", str(port), "--corpus",
                 str(corpus), *where], cwd=ROOT, env=_env(), stdout=log.open("w"),
                stderr=subprocess.STDOUT))
            self.urls.append(f"http://127.0.0.1:{port}")
            self.logs.append(log)

    def wait(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        for url, proc, log in zip(self.urls, self.procs, self.logs, strict=True):
            host, port = load.loopback(url)
            while not load.healthy(host, port):
                if proc.poll() is not None:
                    raise RuntimeError(f"serve exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"serve at {url} did not answer in {timeout:g} s")
                time.sleep(0.2)

    def rss_mib(self) -> list[float]:
        return [round(rss_kib(p.pid) / 1024) for p in self.procs if p.poll() is None]

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=20)


def measure(opts: argparse.Namespace, work: Path) -> dict:
    corpus, index = Path(opts.corpus), Path(opts.index)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "note": opts.note,
              "cores": os.cpu_count(), "cpu": platform.processor() or platform.machine(),
              "clients": opts.clients, "seconds": opts.seconds, "load_before": os.getloadavg()[0],
              "runs": []}
    pg_dir = work / "pg"
    started_pg = False
    try:
        url = opts.database
        if url is None:
            started_pg = True
            url = make_database(start_postgres(pg_dir), "policyqa_load")
            result["ingest_s"] = round(ingest(url, corpus, work / "ingest.log"), 1)
        for config in opts.configs.split(","):
            store, count = config.split(":")
            workers = Workers(store, int(count), corpus, index, url, work)
            try:
                workers.wait()
                figures = load.run(workers.urls, opts.clients, opts.seconds, 1_000_000,
                                   {"k": 5, "mode": "hybrid"}, None, ROOT / "eval" / "gold.jsonl")
                figures["serve_rss_mib"] = workers.rss_mib()
            finally:
                workers.stop()
            figures.update(store=store, workers=int(count))
            result["runs"].append(figures)
            print(f"{store} x{count}: {figures['ok']} ok, {figures['errors']} errors, "
                  f"{figures['throughput_rps']} req/s, p50 {figures['p50_ms']} ms, "
                  f"p95 {figures['p95_ms']} ms", flush=True)
    finally:
        if started_pg:
            stop_postgres(pg_dir)
    result["load_after"] = os.getloadavg()[0]
    return result


def section(data: dict) -> list[str]:
    """The REPORT.md section for a pg_load result."""
    lines = [
        HEADING, "",
        f"Produced by `.venv/bin/python -m benchmarks.pg_load` on {data['date']} ({data['cores']} "
        f"cores, load average {data['load_before']:.2f} before, {data['load_after']:.2f} after): "
        "a local PostgreSQL 18 + pgvector 0.8 (scripts/postgres.sh) with the seed corpus ingested "
        + (f"by `policyqa ingest --database` ({data['ingest_s']:.0f} s), "
           if "ingest_s" in data else "")
        + f"then {data['clients']} concurrent clients for {data['seconds']:g} s asking the gold "
        "questions (POST /ask, k 5, hybrid; benchmarks/load.py, each client alternating between "
        "the workers) against `policyqa serve --database URL` workers, and the same against "
        "`policyqa serve` on the embedded index. Rate limit off. Clients, workers and database "
        "share the machine's cores, so these are a floor for separate machines."
        + (f" {data['note']}" if data.get("note") else ""), "",
        "| store | serve workers | requests | errors | throughput req/s | p50 ms | p95 ms | p99 ms "
        "| RSS per worker MiB |", "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in data["runs"]:
        lines.append(f"| {r['store']} | {r['workers']} | {r['requests']:,} | {r['errors']} | "
                     f"{r['throughput_rps']:.1f} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | "
                     f"{', '.join(str(m) for m in r['serve_rss_mib'])} |")
    return lines


def update_report(path: Path, heading: str, lines: list[str]) -> None:
    """Replace the section under `heading` in REPORT.md (up to the next `## ` heading or the
    chart), or add it before the chart: the rest of the report (benchmarks.run's) is kept."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# policyqa benchmark\n"
    rows = text.split("\n")
    body = "\n".join(lines).split("\n")
    if heading in rows:
        start = rows.index(heading)
        end = next((i for i in range(start + 1, len(rows))
                    if rows[i].startswith("## ") or rows[i].startswith("![")), len(rows))
        rows[start:end] = [*body, ""]
    else:
        at = next((i for i, r in enumerate(rows) if r.startswith("![")), len(rows))
        rows[at:at] = [*body, ""]
    path.write_text("\n".join(rows), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pg_load",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--smoke", action="store_true", help="4 clients for 5 s per configuration")
    parser.add_argument("--configs", default=DEFAULT_CONFIGS,
                        help=f"store:workers,... (default {DEFAULT_CONFIGS})")
    parser.add_argument("--database", help="an existing database with an index (no server "
                        "started, no ingest)")
    parser.add_argument("--corpus", default=str(ROOT / "corpus"))
    parser.add_argument("--index", default=str(ROOT / "index"), help="the embedded index")
    parser.add_argument("--json", type=Path, default=HERE / "pg_load.json")
    parser.add_argument("--no-report", action="store_true", help="leave REPORT.md as it is")
    parser.add_argument("--note", default="", help="what else ran meanwhile (for the report)")
    opts = parser.parse_args(argv)
    if opts.smoke:
        opts.clients, opts.seconds = 4, 5.0
    work = Path(tempfile.mkdtemp(prefix="policyqa-pgload-"))
    try:
        data = measure(opts, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    opts.json.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    if not opts.no_report:
        update_report(HERE / "REPORT.md", HEADING, section(data))
    return 1 if any(r["errors"] for r in data["runs"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())

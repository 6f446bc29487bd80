"""Load test of `policyqa serve`: N concurrent clients ask the gold questions for T seconds.

    .venv/bin/python -m benchmarks.load http://127.0.0.1:8000                 # 16 clients, 60 s
    .venv/bin/python -m benchmarks.load --clients 32 --seconds 30 URL1 URL2   # several servers
    .venv/bin/python -m benchmarks.load --smoke URL                           # 4 clients, 5 s

Each client is a thread with its own keep-alive connection per server; it POSTs /ask with the next
gold question (eval/gold.jsonl, each client starting at its own offset) to the next server in turn,
until the time is up, and stops by itself (also after --max-requests in all). Only loopback URLs
are accepted: this is a test of servers on this machine. Rate-limited answers (429) count as
errors: run the servers with POLICYQA_API_RATE=0 to measure them rather than their limiter.

Reports requests, errors (by kind), throughput and latency percentiles (p50/p95/p99), overall and
per server; --json FILE writes the same figures. Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from policyqa.config import ROOT
from policyqa.evaluation import percentile


def loopback(url: str) -> tuple[str, int]:
    """(host, port) of an http URL on this machine, or ValueError."""
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not an http:// URL: {url}")
    host = parts.hostname
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ValueError(f"only loopback servers may be load-tested, not {host}")
    return host, parts.port or 80


def gold_questions(path: Path) -> list[str]:
    """The questions over the project's corpus/ (items naming another "corpus" are skipped)."""
    items = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip()]
    questions = [item["question"] for item in items if not item.get("corpus")]
    if not questions:
        raise ValueError(f"no questions in {path}")
    return questions


class Client(threading.Thread):
    def __init__(self, number: int, servers: list[tuple[str, int]], questions: list[str],
                 deadline: float, budget: threading.Semaphore, body: dict, token: str | None,
                 timeout: float):
        super().__init__(daemon=True, name=f"client-{number}")
        self.number, self.servers, self.questions = number, servers, questions
        self.deadline, self.budget, self.body, self.timeout = deadline, budget, body, timeout
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.results: list[tuple[int, float, str]] = []  # (server index, seconds, "ok" | error)
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def connection(self, i: int) -> http.client.HTTPConnection:
        if i not in self.connections:
            host, port = self.servers[i]
            self.connections[i] = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self.connections[i]

    def run(self) -> None:
        n = self.number * 7  # each client starts elsewhere in the gold questions
        while time.monotonic() < self.deadline and self.budget.acquire(blocking=False):
            server = n % len(self.servers)
            question = self.questions[n % len(self.questions)]
            n += 1
            payload = json.dumps({**self.body, "question": question}).encode()
            started = time.perf_counter()
            try:
                conn = self.connection(server)
                conn.request("POST", "/ask", body=payload, headers=self.headers)
                response = conn.getresponse()
                data = response.read()
                outcome = "ok" if response.status == 200 and b'"passages"' in data \
                    else f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
                self.connections.pop(server, None)
            self.results.append((server, time.perf_counter() - started, outcome))
        for conn in self.connections.values():
            conn.close()


def summarise(results: list[tuple[int, float, str]], seconds: float) -> dict:
    ok = [t * 1000 for _, t, outcome in results if outcome == "ok"]
    errors = Counter(outcome for _, _, outcome in results if outcome != "ok")
    return {
        "requests": len(results), "ok": len(ok), "errors": sum(errors.values()),
        "error_kinds": dict(errors), "throughput_rps": round(len(ok) / seconds, 2) if seconds else 0,
        "p50_ms": round(percentile(ok, 0.50), 1) if ok else None,
        "p95_ms": round(percentile(ok, 0.95), 1) if ok else None,
        "p99_ms": round(percentile(ok, 0.99), 1) if ok else None,
    }


def healthy(host: str, port: int) -> bool:
    """One GET /health: whether the server answers it with 200."""
    try:
        conn = http.client.HTTPConnection(host, port, timeout=2)
        conn.request("GET", "/health")
        return conn.getresponse().status == 200
    except OSError:
        return False


def wait_healthy(servers: list[tuple[str, int]], timeout: float = 10.0) -> None:
    for host, port in servers:
        deadline = time.monotonic() + timeout
        while not healthy(host, port):
            if time.monotonic() > deadline:
                raise SystemExit(f"load: http://{host}:{port}/health did not answer in {timeout:g} s")
            time.sleep(0.2)


def run(urls: list[str], clients: int, seconds: float, max_requests: int, body: dict,
        token: str | None, gold: Path, timeout: float = 60.0) -> dict:
    servers = [loopback(u) for u in urls]
    questions = gold_questions(gold)
    wait_healthy(servers)
    budget = threading.Semaphore(max_requests)
    started = time.monotonic()
    threads = [Client(i, servers, questions, started + seconds, budget, body, token, timeout)
               for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 10)  # a request under way when time is up may finish
    elapsed = time.monotonic() - started
    results = [r for t in threads for r in t.results]
    report = {"urls": urls, "clients": clients, "seconds": round(elapsed, 2),
              "body": body, "questions": len(questions), **summarise(results, elapsed)}
    report["per_server"] = {url: summarise([r for r in results if r[0] == i], elapsed)
                            for i, url in enumerate(urls)}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks.load", description=__doc__.split("\n")[0])
    parser.add_argument("urls", nargs="+", help="serve URLs (loopback only), e.g. http://127.0.0.1:8000")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--smoke", action="store_true", help="4 clients for 5 s")
    parser.add_argument("--max-requests", type=int, default=1_000_000, help="stop after this many")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    parser.add_argument("--gold", type=Path, default=ROOT / "eval" / "gold.jsonl")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if args.smoke:
        args.clients, args.seconds = 4, 5.0
    if not (1 <= args.clients <= 1024 and 0 < args.seconds <= 3600 and args.max_requests >= 1):
        parser.error("--clients 1..1024, --seconds up to 3600, --max-requests at least 1")
    try:
        report = run(args.urls, args.clients, args.seconds, args.max_requests,
                     {"k": args.k, "mode": args.mode}, os.environ.get("POLICYQA_API_TOKEN"),
                     args.gold)
    except (ValueError, OSError) as exc:
        print(f"load: error: {exc}", file=sys.stderr)
        return 2
    print(f"{report['clients']} clients, {report['seconds']} s, {len(args.urls)} server(s), "
          f"/ask k={args.k} mode={args.mode}")
    print(f"requests {report['requests']}  ok {report['ok']}  errors {report['errors']} "
          f"{report['error_kinds'] or ''}")
    print(f"throughput {report['throughput_rps']} req/s  p50 {report['p50_ms']} ms  "
          f"p95 {report['p95_ms']} ms  p99 {report['p99_ms']} ms")
    if len(args.urls) > 1:
        for url, s in report["per_server"].items():
            print(f"  {url}: {s['ok']} ok, {s['errors']} errors, p50 {s['p50_ms']} ms, "
                  f"p95 {s['p95_ms']} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())

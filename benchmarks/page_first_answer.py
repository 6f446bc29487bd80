"""The page's first answer after its server starts, as a staff member waits for it.

    .venv/bin/python -m benchmarks.page_first_answer [--repeats 3] [--json FILE]

Each round starts a fresh `policyqa page` (scripts/run.sh's server) on a free loopback port (the index already
built; the user's environment and model cache, offline: HF_HUB_OFFLINE=1), opens the page in
headless Chromium the moment the server answers its health check, asks one question and waits
for the highlighted answer. Reported per round, and as medians: server start -> healthy,
healthy -> question box shown (the page loads the index and the model in its first run),
question -> answer shown, and start -> answer (the figure issue #14 sets a target for, 2 s).
Each in two browsers: one that never opened the page (every Streamlit script fetched and
compiled) and a returning one (Streamlit's scripts in its cache from an earlier visit, as for
staff who use the page daily; see `returning_browser`).
Beside it, interleaved, the floor: the same stages for a Streamlit page holding nothing but the
question box (what any Streamlit page costs on this machine). Needs Debian's chromium and
playwright (the test extra).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from policyqa.config import ROOT

QUESTION = "How should I keep participant records?"
ANSWER = "records are documented honestly and accurately"
FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
# The question box, and the highlighted answer holding ANSWER, shown (laid out, not hidden).
BOX_SHOWN = """() => [...document.querySelectorAll('input[aria-label="Question"]')]
    .some(e => e.getClientRects().length > 0)"""
ANSWER_SHOWN = """(answer) => [...document.querySelectorAll('mark.pq-answer')]
    .some(e => e.getClientRects().length > 0 && e.textContent.includes(answer))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment() -> dict[str, str]:
    """The user's environment (its model cache: the ONNX file is made once per machine, at
    set-up or the first ingest), offline."""
    return {**os.environ, "HF_HUB_OFFLINE": "1"}


FLOOR_APP = 'import streamlit as st\nst.text_input("Question")\n'


def one_round(context, home: Path, app: Path = ROOT / "app.py", ask: bool = True,
              port: int | None = None) -> dict:
    """Seconds from the server's start to each stage of the first answer, in a new tab of
    `context` (`ask=False`: to the question box only, for the floor: a Streamlit page holding
    nothing but that box)."""
    port = port or _free_port()
    url = f"http://127.0.0.1:{port}"
    log = (home / "server.log").open("w")
    started = time.perf_counter()
    if app == ROOT / "app.py":  # as scripts/run.sh serves it
        command = [sys.executable, "-m", "policyqa.cli", "page", "--host", "127.0.0.1",
                   "--port", str(port)]
    else:
        command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless",
                   "true", "--server.port", str(port), "--server.address", "127.0.0.1",
                   "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(command, cwd=ROOT, env=_environment(), stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        deadline = started + 120
        while True:
            if proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"streamlit did not start: {(home / 'server.log').read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                time.sleep(0.05)
        healthy = time.perf_counter()
        page = context.new_page()
        page.goto(url)
        box = page.get_by_label("Question")
        # Checked in the page at every frame: Playwright's own waits re-check at widening
        # intervals (expect(): 100, 250, 500, then 1000 ms), which put a figure up to half a
        # second late.
        page.wait_for_function(BOX_SHOWN, polling="raf", timeout=120_000)
        shown = time.perf_counter()
        out = {"start_to_healthy_s": healthy - started, "healthy_to_question_box_s": shown - healthy}
        if ask:
            box.fill(QUESTION)
            asked = time.perf_counter()
            box.press("Enter")
            page.wait_for_function(ANSWER_SHOWN, arg=ANSWER, polling="raf", timeout=60_000)
            answered = time.perf_counter()
            out |= {"question_to_answer_s": answered - asked, "start_to_answer_s": answered - started}
        page.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return out


def measure(repeats: int) -> dict:
    chromium = shutil.which("chromium")
    if not chromium:
        raise RuntimeError("Debian chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from policyqa.config import load_settings
    from policyqa.index import load_index

    load_index(load_settings())  # built before the clock starts, as on a server in service
    rounds, returning, floor = [], [], []
    viewport = {"width": 1280, "height": 1200}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
        floor_app = Path(tmp) / "floor.py"
        floor_app.write_text(FLOOR_APP)

        def fresh(n: int, name: str, **kwargs) -> dict:
            """A browser profile that has never seen the page: every script fetched."""
            home = Path(tmp) / f"round-{n}-{name}"
            home.mkdir()
            context = browser.new_context(viewport=viewport)
            try:
                return one_round(context, home, **kwargs)
            finally:
                context.close()

        def returning_browser(n: int) -> dict:
            """A staff member's browser that opened the page before: one visit (a question
            asked) to a server on the same address, then that server stopped and a fresh one
            started and timed. Streamlit's scripts are served `immutable` for a year, so they come
            from the browser's cache; the page itself is fetched again (no-cache)."""
            home = Path(tmp) / f"round-{n}-returning"
            home.mkdir()
            port = _free_port()
            context = pw.chromium.launch_persistent_context(
                str(home / "profile"), executable_path=chromium, args=FLAGS, viewport=viewport)
            try:
                one_round(context, home, port=port)
                return one_round(context, home, port=port)
            finally:
                context.close()

        try:
            for n in range(repeats):  # interleaved, so all see the same machine
                rounds.append(fresh(n, "app"))
                returning.append(returning_browser(n))
                floor.append(fresh(n, "floor", app=floor_app, ask=False))
        finally:
            browser.close()

    def medians(runs: list[dict]) -> dict:
        return {key: round(statistics.median(r[key] for r in runs), 2) for key in runs[0]}

    return {"repeats": repeats, "rounds": rounds, "returning_rounds": returning,
            "median": medians(rounds), "returning_median": medians(returning),
            "floor_median": medians(floor)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    figures = measure(args.repeats)
    for key, value in figures["median"].items():
        print(f"{key:28} {value:6.2f} s (median of {args.repeats})")
    for key, value in figures["returning_median"].items():
        print(f"returning: {key:17} {value:6.2f} s (a browser that opened the page before)")
    for key, value in figures["floor_median"].items():
        print(f"floor: {key:21} {value:6.2f} s (a page holding only a text box)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The page in a real browser: `streamlit run app.py` on a free port, driven by headless Chromium.

Uses Debian's chromium (Playwright with executable_path; no browser download). Without chromium
the tests skip with the reason, unless E2E_REQUIRED=1 (as in .ci/run), where they fail instead.
Screenshots go to artifacts/ (gitignored).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from policyqa.config import ROOT

pytestmark = pytest.mark.browser

APP = ROOT / "app.py"
ARTIFACTS = ROOT / "artifacts"
HOSTILE = Path(__file__).parent / "fixtures" / "hostile"
FLAGS = ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"]
FIRST_LOAD_MS = 180_000  # a first run may build the index (about 20 s for the real corpus)


def _skip_or_fail(reason: str):
    if os.environ.get("E2E_REQUIRED") == "1":
        pytest.fail(f"E2E_REQUIRED=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser():
    chromium = shutil.which("chromium")
    if not chromium:
        _skip_or_fail("Debian chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=FLAGS)
        yield browser
        browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def serve(tmp_path_factory):
    """Start `streamlit run app.py` (optionally on another corpus/index); returns its URL."""
    procs: list[subprocess.Popen] = []

    def start(corpus: Path | None = None, index: Path | None = None) -> str:
        port = _free_port()
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        for name, value in (("POLICYQA_CORPUS", corpus), ("POLICYQA_INDEX", index)):
            env.pop(name, None)
            if value is not None:
                env[name] = str(value)
        log = tmp_path_factory.mktemp("streamlit") / "server.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        procs.append(proc)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return url
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"streamlit did not become healthy in 60 s:\n{log.read_text()}")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _new_page(browser, width: int, height: int):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    return page


@pytest.fixture
def page(browser):
    """A laptop-sized window, tall enough that screenshots show a whole answer."""
    page = _new_page(browser, 1280, 1700)
    yield page
    page.context.close()


def _ask(page, question: str) -> None:
    box = page.get_by_label("Question")
    box.fill(question)
    box.press("Enter")


def _no_horizontal_overflow(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


def test_ask_check_and_narrow_window(browser, serve, page):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    url = serve()
    page.goto(url)
    expect(page.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)

    _ask(page, "How should I keep participant records?")
    answer = page.locator("mark.pq-answer:visible").first
    expect(answer).to_contain_text("records are documented honestly and accurately",
                                   timeout=60_000)
    citation = page.get_by_test_id("stCode").filter(visible=True).first
    expect(citation).to_contain_text("Longmont CM Code of Conduct, Service Approach \u203a 5")
    expect(page.get_by_text("Case Management Ethics Guidelines and Code of Conduct Agreement")
           .first).to_be_visible()
    expect(page.get_by_text("Further passages")).to_be_visible()
    expect(page.get_by_text("Answered in ")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "e2e-ask.png"))


    _ask(page, "What is the overtime pay rate for weekend shifts?")
    expect(page.get_by_text("don't appear to cover this question")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Closest passages (weak matches)")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "e2e-abstain.png"))

    page.get_by_role("tab", name="Check a citation").click()
    page.get_by_role("textbox", name="Quote", exact=True).fill(
        "I will maintain the required documentation in every participant record making sure "
        "that records are documented honestly and accurately")
    page.get_by_label("Citation it was given (optional)").fill("DMH 4.12, V \u203a 4 \u203a A")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_text("Found with differences")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("does not match where the words stand")).to_be_visible()
    expect(page.locator("mark.pq-diff:visible").first).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").locator("canvas").first).to_be_visible()
    page.wait_for_timeout(1000)  # the word-by-word table paints its canvas a moment later
    page.screenshot(path=str(ARTIFACTS / "e2e-check.png"))
    assert not page.dialogs

    # a narrow window (a phone, or a laptop split in two): nothing overflows sideways
    narrow = _new_page(browser, 420, 1200)
    try:
        narrow.goto(url)
        expect(narrow.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)
        _ask(narrow, "How should I keep participant records?")
        expect(narrow.locator("mark.pq-answer:visible").first).to_be_visible(timeout=60_000)
        assert _no_horizontal_overflow(narrow)
        narrow.screenshot(path=str(ARTIFACTS / "e2e-ask-narrow.png"))
        narrow.get_by_role("tab", name="Look up wording").click()
        expect(narrow.get_by_text("Browse a document")).to_be_visible(timeout=30_000)
        assert _no_horizontal_overflow(narrow)
    finally:
        narrow.context.close()


def test_hostile_document_runs_no_script(browser, serve, page, tmp_path):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    corpus = tmp_path / "corpus"
    shutil.copytree(HOSTILE, corpus)
    page.goto(serve(corpus, tmp_path / "index"))  # no index yet: the page builds it
    expect(page.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)
    _ask(page, "Can visitors give gifts to staff?")
    expect(page.locator("mark.pq-answer:visible").first).to_contain_text(
        "<img src=x onerror=", timeout=60_000)
    page.get_by_role("tab", name="Look up wording").click()
    page.get_by_label("Phrase").fill("script")
    page.get_by_label("Phrase").press("Enter")
    expect(page.get_by_text("9 exact occurrence(s).")).to_be_visible(timeout=30_000)
    # the whole document is open in the browser below: every payload is on the page as text
    for text in ("<script>document.title='PWNED1'</script>",
                 "<iframe srcdoc=\"<script>parent.document.title='PWNED3'</script>\"></iframe>",
                 "<style>body { display: none !important; }</style>", "$x^2$ and :red[red alert]",
                 "[help]: javascript:alert(6)"):
        expect(page.get_by_text(text, exact=False).filter(visible=True).first).to_be_visible()
    page.wait_for_timeout(500)
    assert page.title() == "policyqa"
    assert page.locator("iframe[srcdoc], img[src='x'], a[href^='javascript']").count() == 0
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    assert not page.dialogs
    page.screenshot(path=str(ARTIFACTS / "e2e-hostile.png"))

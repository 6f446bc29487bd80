"""The page in a real browser: `policyqa page` (app.py) on a free port, driven by headless Chromium.

Uses Debian's chromium (Playwright with executable_path; no browser download). Without chromium
the tests skip with the reason, unless E2E_REQUIRED=1 (as in .ci/run), where they fail instead.
Screenshots go to artifacts/ (gitignored).

Every server runs with networking disabled (tests/netguard.py: HF_HUB_OFFLINE=1 and a socket
guard) and takes its Streamlit settings from the project's .streamlit/config.toml only; every page
logs and blocks any request beyond the server, so each test would see a call home.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from netguard import assert_guard_refuses, guarded_env, net_attempts

from policyqa.config import ROOT

pytestmark = pytest.mark.browser

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


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    env: dict[str, str]  # the guarded environment it runs in


@pytest.fixture(scope="session")
def serve(tmp_path_factory):
    """Start `policyqa page` (scripts/run.sh's server; optionally on another corpus/index), once
    per corpus, with
    networking disabled and no settings but the project's (HOME is empty; no usage-stats flag)."""
    servers: dict[tuple, Server] = {}

    def start(corpus: Path | None = None, index: Path | None = None) -> Server:
        if (corpus, index) in servers:
            return servers[corpus, index]
        port = _free_port()
        folder = tmp_path_factory.mktemp("streamlit")
        env = guarded_env(folder)
        for name, value in (("POLICYQA_CORPUS", corpus), ("POLICYQA_INDEX", index)):
            if value is not None:
                env[name] = str(value)
        log = folder / "server.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "policyqa.cli", "page", "--host", "127.0.0.1", "--port",
             str(port)], cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        server = servers[corpus, index] = Server(f"http://127.0.0.1:{port}", proc, env)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        return server
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"streamlit did not become healthy in 60 s:\n{log.read_text()}")

    yield start
    for server in servers.values():
        proc = server.proc
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


LOCAL = ("http://127.0.0.1:", "ws://127.0.0.1:", "data:", "blob:")


def _new_page(browser, width: int, height: int):
    """A page that records dialogs (alert, confirm) and records and blocks any request that would
    leave this machine, the browser's and the page's own (fetches, images, icons, websockets)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.dialogs, page.outbound = [], []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))

    def route(r):
        if r.request.url.startswith(LOCAL):
            r.continue_()
        else:
            page.outbound.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("websocket", lambda ws: ws.url.startswith(LOCAL) or page.outbound.append(ws.url))
    return page


def _no_script_ran(page) -> None:
    """No payload ran: no dialog, title unchanged, no flag set, no markup element it asked for."""
    page.wait_for_timeout(500)
    assert not page.dialogs
    assert page.title() == "policyqa"
    assert page.evaluate("window.__pwned") is None
    assert page.locator("iframe[srcdoc], img[src='x'], svg[onload], a[href^='javascript']").count() == 0


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
    url = serve().url
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
    # a staff member's menu, even on the server's own machine: no developer options or "Deploy"
    expect(page.get_by_test_id("stMainMenu")).to_be_visible()
    expect(page.get_by_role("button", name="Deploy")).to_have_count(0)
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
    page.goto(serve(corpus, tmp_path / "index").url)  # no index yet: the page builds it
    expect(page.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)
    _ask(page, "Where do visitors sign in?")
    expect(page.locator("mark.pq-answer:visible").first).to_contain_text(
        "<script>document.title=", timeout=60_000)
    page.get_by_role("tab", name="Look up wording").click()
    page.get_by_label("Phrase").fill("script")
    page.get_by_label("Phrase").press("Enter")
    # 7: the reference link's definition line "[help]: javascript:alert(6)" and the tag
    # '<a href="javascript:...">' show nothing, as rendered Markdown shows nothing of them
    expect(page.get_by_text("7 exact occurrence(s).")).to_be_visible(timeout=30_000)
    # the whole document is open in the browser below: every payload is on the page as text
    for text in ("<script>document.title='PWNED1'</script>",
                 "<iframe srcdoc=\"<script>parent.document.title='PWNED3'</script>\"></iframe>",
                 "<style>body { display: none !important; }</style>", "$x^2$ and :red[red alert]",
                 "and the help page before every visit"):
        expect(page.get_by_text(text, exact=False).filter(visible=True).first).to_be_visible()
    _no_script_ran(page)
    assert page.evaluate("getComputedStyle(document.body).display") != "none"
    page.screenshot(path=str(ARTIFACTS / "e2e-hostile.png"))
    # the plain-text document's payloads (an image, an SVG, a broken image link), as text
    choose = page.get_by_test_id("stSelectbox").filter(has=page.get_by_text("Document", exact=True))
    choose.locator("input").click()
    choose.locator("input").fill("visitor-sign-in")
    choose.locator("input").press("Enter")
    expect(page.get_by_text('<img src=x onerror="window.__pwned=1;alert(7)">', exact=False)
           .filter(visible=True).first).to_be_visible(timeout=30_000)
    expect(page.get_by_text('<svg onload="window.__pwned=1"></svg>', exact=False)
           .filter(visible=True).first).to_be_visible()
    _no_script_ran(page)
    assert not page.outbound


HOSTILE_INPUT = '<img src=x onerror="window.__pwned=1;alert(1)"> [link](javascript:alert(2))'


def test_hostile_user_input_and_uploads(browser, serve, page):
    """What a user types or uploads shows as text and runs nothing; the uploader keeps to .csv
    files of at most 1 MB, as its label says."""
    from playwright.sync_api import expect

    page.goto(serve().url)
    expect(page.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)
    _ask(page, HOSTILE_INPUT + " gifts from clients")
    expect(page.get_by_text("Answered in ")).to_be_visible(timeout=60_000)
    page.get_by_role("tab", name="Check a citation").click()
    page.get_by_role("textbox", name="Quote", exact=True).fill(
        "I will maintain the required documentation in every participant record making sure "
        f"that records are documented {HOSTILE_INPUT} honestly and accurately")
    page.get_by_role("button", name="Check").click()
    quoted = page.locator("mark.pq-diff:visible", has_text='<img src=x onerror="window.__pwned=1')
    expect(quoted.first).to_contain_text(HOSTILE_INPUT, timeout=30_000)
    _no_script_ran(page)

    page.get_by_text("Several quotes").click()
    uploader = page.get_by_test_id("stFileUploader")
    expect(uploader).to_contain_text("(up to 1 MB)", timeout=30_000)
    expect(uploader).to_contain_text("1MB per file \u2022 CSV")
    chooser = uploader.locator("input[type=file]")
    assert ".csv" in chooser.get_attribute("accept").split(",")
    # over the limit, or another type: the widget refuses it and the page checks nothing
    for name, mime, data, refusal in (
            ("big.csv", "text/csv", b"quote\n" + b"x" * 1_100_000, "File must be 1.0MB or smaller."),
            ("notes.txt", "text/plain", b"quote\nrecords", "text/plain files are not allowed.")):
        chooser.set_input_files({"name": name, "mimeType": mime, "buffer": data})
        expect(uploader).to_contain_text(refusal, timeout=30_000)
        page.wait_for_timeout(1000)
        expect(page.get_by_text("found verbatim", exact=False)).to_have_count(0)
    page.screenshot(path=str(ARTIFACTS / "e2e-upload-refused.png"))
    rows = (f'quote,citation\nrecords are documented honestly and accurately,"{HOSTILE_INPUT}"\n'
            f'"{HOSTILE_INPUT.replace(chr(34), chr(34) * 2)}",DMH 4.12\n')
    chooser.set_input_files({"name": "../../corpus/quotes.csv", "mimeType": "text/csv",
                             "buffer": rows.encode()})
    expect(page.get_by_text("1 found verbatim, 0 found with differences, 1 not found."))\
        .to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stDataFrame").locator("canvas").first).to_be_visible()
    page.wait_for_timeout(1000)  # the table paints its canvas a moment later
    _no_script_ran(page)
    page.screenshot(path=str(ARTIFACTS / "e2e-upload.png"))
    assert not page.outbound


def test_page_makes_no_network_calls(browser, serve, page):
    """The server (model, index, Streamlit) and the page in the browser answer with every
    connection beyond this machine refused: nothing is attempted, no usage statistics, no icons."""
    from playwright.sync_api import expect

    server = serve()
    assert str(server.proc.pid) in Path(server.env["POLICYQA_NET_GUARD_READY"]).read_text()
    assert_guard_refuses(server.env)  # the guard, in the server's environment, refuses and logs
    page.goto(server.url)
    expect(page.get_by_label("Question")).to_be_visible(timeout=FIRST_LOAD_MS)
    _ask(page, "Can I accept gifts from clients?")
    expect(page.locator("mark.pq-answer:visible").first).to_contain_text("gifts", timeout=60_000)
    page.wait_for_timeout(2000)  # usage statistics, when on, are fetched after the page loads
    assert not page.outbound, page.outbound
    assert not net_attempts(server.env), net_attempts(server.env)
    # the page's log works: a request the page itself makes to the internet is caught and blocked
    page.evaluate("fetch('https://example.org/probe').catch(() => null)")
    page.wait_for_timeout(500)
    assert page.outbound == ["https://example.org/probe"]

"""policyqa.page: the index loaded in the background as the page's server starts, and taken by
the page's first run. (`policyqa page` itself serves the real-browser tests, test_e2e_browser.py.)"""

from __future__ import annotations

import threading

import pytest
from conftest import CORPUS

from policyqa import answers, page
from policyqa.config import ROOT, load_settings
from policyqa.errors import IndexError_


def test_the_page_takes_the_index_the_preload_made_in_its_thread(index, monkeypatch):
    settings = load_settings(CORPUS, ROOT / "index")
    made, asked = [], []
    real_load, real_ask = page._load, answers.ask
    monkeypatch.setattr(page, "_load", lambda s: made.append(
        (threading.current_thread().name, real_load(s))) or made[-1][1])
    monkeypatch.setattr(answers, "ask", lambda i, q, **kw: asked.append(q) or real_ask(i, q, **kw))
    page.preload(settings)
    warm = page.load_warm(settings)
    assert [name for name, _ in made] == ["policyqa-preload"]
    assert warm is made[0][1]
    assert asked == [page.WARM_UP]  # the model and the look-up tables are loaded
    assert warm.manifest["counts"] == index.manifest["counts"]
    result = real_ask(warm, "Can I lend a client $20?")
    assert result.answered and "loan" in result.answer.text
    # a preload is taken once: the next load (after the page clears its cache) is made anew
    page.load_warm(settings)
    assert [name for name, _ in made][1:] == [threading.current_thread().name]


def test_a_failed_preload_is_loaded_again_so_the_page_sees_why(tmp_path):
    settings = load_settings(CORPUS, tmp_path / "no-index-here")
    page.preload(settings)
    with pytest.raises(IndexError_, match="ingest"):
        page.load_warm(settings)


def test_a_preload_for_other_folders_is_not_taken(tmp_path, index):
    other = load_settings(CORPUS, tmp_path / "elsewhere")
    page.preload(other)
    warm = page.load_warm(load_settings(CORPUS, ROOT / "index"))
    assert warm.manifest["counts"] == index.manifest["counts"]
    with pytest.raises(IndexError_):
        page.load_warm(other)  # its own (failed) preload, still there for it


def test_the_preload_waits_for_the_server_to_listen(index):
    """Loading while the server was still starting delayed its first answer to a browser; the
    preload starts once the port accepts connections, and not before."""
    import socket
    import time

    settings = load_settings(CORPUS, ROOT / "index")
    with socket.socket() as probe:  # a free port, then nothing on it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    page.preload(settings, after=lambda: page.wait_for_listener("127.0.0.1", port, limit=60))
    future = page._PRELOADS[page.index_key(settings)]
    time.sleep(1.0)
    assert not future.done()  # nothing listens yet: nothing loaded
    with socket.socket() as server:
        server.bind(("127.0.0.1", port))
        server.listen()
        warm = page.load_warm(settings)
    assert warm.manifest["counts"] == index.manifest["counts"]


def test_waiting_for_a_server_that_never_listens_ends():
    import socket
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    page.wait_for_listener("0.0.0.0", port, limit=0.5)  # every interface: asked on loopback
    assert 0.5 <= time.monotonic() - started < 5


def test_after_the_preload_the_pages_first_run_imports_none_of_its_modules(index):
    """The preload also imports what the page's first run would (app.py's modules, Streamlit's
    emoji catalogue for the page icon): that run is what a browser waits for. Checked in a fresh
    process, through a real run of app.py (AppTest), after the preload's thread ended."""
    import json
    import os
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import json, sys, threading
        from streamlit.testing.v1 import AppTest
        from policyqa import page
        from policyqa.config import load_settings

        settings = load_settings()
        page.preload(settings)
        for thread in threading.enumerate():
            if thread.name == "policyqa-preload":
                thread.join()
        before = set(sys.modules)
        at = AppTest.from_file(str(page.APP), default_timeout=120).run()
        assert not at.exception and at.text_input(key="question")
        print(json.dumps(sorted(set(sys.modules) - before)))
    """)
    env = {**os.environ, "POLICYQA_CORPUS": str(CORPUS), "POLICYQA_INDEX": str(ROOT / "index"),
           "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = json.loads(done.stdout.strip().splitlines()[-1])
    ours = [m for m in imported if m.split(".")[0] in ("policyqa", "rapidfuzz", "numpy")
            or m == "streamlit.emojis"]
    assert ours == []
    assert {"policyqa.render", "policyqa.citations", "streamlit.emojis"} <= set(page.page_modules())


def test_the_preload_reads_app_py_before_its_thread_starts(index, monkeypatch):
    """Python 3.11's parser is not safe in two threads at once, and Streamlit compiles app.py in
    its own thread when a browser connects: parsing app.py in the preload thread raised
    "SystemError: AST constructor recursion depth mismatch" there. It is read by the caller.
    (numpy's np.load still parses each file's few-word header in the thread.)"""
    import ast
    import threading

    parsed_in: list[str] = []  # the threads that parsed app.py
    errors: list[BaseException] = []
    real_parse, app_source = ast.parse, page.APP.read_text(encoding="utf-8")

    def parse(source, *args, **kwargs):
        if source == app_source:
            parsed_in.append(threading.current_thread().name)
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", parse)
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    settings = load_settings(CORPUS, ROOT / "index")
    release = threading.Event()
    page.preload(settings, after=lambda: release.wait(60))
    release.set()
    for thread in threading.enumerate():
        if thread.name == "policyqa-preload":
            thread.join(120)
    assert parsed_in and "policyqa-preload" not in parsed_in
    assert errors == []
    assert page.load_warm(settings).manifest["counts"] == index.manifest["counts"]


def test_the_servers_get_uvicorns_c_event_loop_and_http_parser():
    """uvloop and httptools are dependencies: Streamlit's server (the page) runs on uvloop when
    it imports, and uvicorn (the page's server and `policyqa serve`) picks both by default."""
    import asyncio

    import uvicorn
    import uvloop
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    config = uvicorn.Config(app=lambda scope, receive, send: None)
    config.load()
    assert config.http_protocol_class is HttpToolsProtocol
    loop = uvloop.new_event_loop()
    try:
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()


def test_the_settings_read_before_the_server_listens_import_no_numpy(index):
    """`policyqa page` takes its settings before Streamlit's server starts, and the folder an
    index was built from comes from its manifest (config.built_from). Read through the store,
    that imported numpy there: 80 ms more before the server answered its health check. numpy
    and the index load in the preload's thread once the server listens."""
    import json
    import os
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    script = textwrap.dedent("""
        import json, sys
        from policyqa.cli import _settings, build_parser
        settings = _settings(build_parser().parse_args(["page", "--index", sys.argv[1]]))
        print(json.dumps([str(settings.corpus_dir), "numpy" in sys.modules]))
    """)
    env = {k: v for k, v in os.environ.items() if k not in ("POLICYQA_CORPUS", "POLICYQA_INDEX")}
    done = subprocess.run([sys.executable, "-c", script, str(ROOT / "index")], env=env,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    corpus, numpy = json.loads(done.stdout.strip().splitlines()[-1])
    assert Path(corpus) == CORPUS.resolve() and numpy is False

"""Serving the page: Streamlit running app.py, with the index and the model loaded while the
browser is still starting Streamlit's own scripts.

Streamlit runs app.py only when a browser connects, so a staff member's first answer after the
server started used to wait for that first run to import the library, load the index and the
model and run a first question's lazy set-up (0.6-1.0 s on 2 cores), after the ~1.2 s the
browser spends fetching and starting Streamlit's JavaScript (benchmarks/page_first_answer.py).
`policyqa page` (scripts/run.sh) starts that loading in a thread once the server listens, so it
overlaps the browser's start; the page's first run takes the loaded index from `load_warm`.
The thread then imports what that first run would import besides (`import_page_modules`), which
took 0.10-0.15 s of it.
Started before the server listened, the loading delayed it by 0.2 s on 2 cores (0.82 against
0.62 s to answer its health check), time a browser cannot use. `streamlit run app.py` still
works, loading at the first run as before.
"""

from __future__ import annotations

import ast
import importlib
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING

from .config import ROOT, Settings

if TYPE_CHECKING:
    from .index import Index

APP = ROOT / "app.py"
log = logging.getLogger("policyqa")
WARM_UP = "load the model and the look-up tables now, not at the first question"

_PRELOADS: dict[tuple, Future] = {}
_LOCK = threading.Lock()


def index_key(settings: Settings) -> tuple[str, str, str | None]:
    """Which index settings name: the page's loader caches by it, and a preload is taken by it."""
    return str(settings.corpus_dir), str(settings.index_dir), settings.database_url


def _load(settings: Settings) -> Index:
    """The index, with its model loaded and a throwaway question asked: the first real question
    then costs what any other does."""
    # Imported here, not at the top: numpy and the index's modules then load in the preload's
    # thread once the server listens, not before the server starts (0.07 s of its start).
    from .answers import ask
    from .index import load_index

    index = load_index(settings, rebuild="never")
    ask(index, WARM_UP)
    return index


# Imported by the page's first run beyond what loading the index imports: Streamlit's emoji
# catalogue, read once to check the page's icon (0.05-0.09 s on 2 cores), besides app.py's own.
FIRST_RUN_MODULES = ("streamlit.emojis",)


def page_modules() -> list[str]:
    """The modules app.py imports, read from its source (so the list keeps up with the page),
    and FIRST_RUN_MODULES."""
    names = []
    for node in ast.parse(APP.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.append(node.module)
    return [name for name in names if name != "__future__"] + list(FIRST_RUN_MODULES)


def import_page_modules(names: list[str]) -> None:
    """Import what the page's first run will, so that run, which a browser waits for, does not
    (0.10-0.15 s of it on 2 cores). One that fails is left for that run to report."""
    for name in names:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - the page's own run shows the error
            log.debug("policyqa: preloading %s failed: %s", name, exc)


def preload(settings: Settings, after: Callable[[], None] = lambda: None) -> None:
    """Start loading the index for these settings in a background thread, for `load_warm`; the
    thread first waits for `after()` to return."""
    future: Future = Future()
    with _LOCK:
        _PRELOADS[index_key(settings)] = future
    # app.py is parsed here, in the caller's thread, before the server runs: Python 3.11's parser
    # is not safe to run in two threads at once, and Streamlit compiles app.py in its own thread
    # when the first browser connects ("SystemError: AST constructor recursion depth mismatch"
    # in the preload thread, seen in a test run).
    try:
        modules = page_modules()
    except (OSError, SyntaxError) as exc:  # the page's own run shows the error
        log.debug("policyqa: reading app.py's imports failed: %s", exc)
        modules = []

    def run() -> None:
        try:
            after()
            future.set_result(_load(settings))
        except BaseException as exc:  # handed to load_warm, which loads again and shows it
            future.set_exception(exc)
        import_page_modules(modules)

    threading.Thread(target=run, name="policyqa-preload", daemon=True).start()


def load_warm(settings: Settings) -> Index:
    """The index, warm: what a `preload` for the same settings made (waiting for it to finish),
    else loaded now. A preload is taken once; a failed one is loaded again here, so its error
    (a missing or stale index) reaches the page, which builds the index or says why not."""
    with _LOCK:
        future = _PRELOADS.pop(index_key(settings), None)
    if future is not None:
        try:
            return future.result()
        except Exception:
            pass
    return _load(settings)


def wait_for_listener(host: str | None, port: int, limit: float = 10.0) -> None:
    """Return once something accepts connections on host:port (loopback for a server on every
    interface), or after `limit` seconds: a server that never comes up must not hold the
    loading back for ever, and its own error says why it did not."""
    target = "127.0.0.1" if host in (None, "", "0.0.0.0", "::") else host
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.01)


def serve(settings: Settings, host: str | None, port: int) -> int:
    """Run Streamlit's server on app.py in this process (as `streamlit run` does), preloading.

    The paths go to app.py through the environment it reads (POLICYQA_CORPUS, POLICYQA_INDEX,
    POLICYQA_DATABASE_URL), made absolute first: the server runs in the project folder, as
    scripts/run.sh always did, so that Streamlit reads the project's .streamlit/config.toml (no
    usage statistics, 1 MB uploads, the viewer's menu). No host: Streamlit's default, every
    interface.
    """
    from streamlit.web import bootstrap

    settings = settings.with_paths(settings.corpus_dir.resolve(), settings.index_dir.resolve())
    os.environ["POLICYQA_CORPUS"] = str(settings.corpus_dir)
    os.environ["POLICYQA_INDEX"] = str(settings.index_dir)
    if settings.database_url:
        os.environ["POLICYQA_DATABASE_URL"] = settings.database_url
    os.chdir(ROOT)
    # No file watcher: a served page does not reload when its source changes, and watching
    # means polling every imported module's file.
    flags = {"server.port": port, "server.headless": True, "server.address": host,
             "server.fileWatcherType": "none"}
    bootstrap.load_config_options(flags)  # None values are left to config.toml and defaults
    preload(settings, after=lambda: wait_for_listener(host, port))
    bootstrap.run(str(APP), False, [], flags)
    return 0

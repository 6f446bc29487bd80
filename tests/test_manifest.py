"""What an index was built from: the pipeline hash covers every module that shapes stored data."""

from __future__ import annotations

import subprocess
import sys

from policyqa.config import ROOT
from policyqa.manifest import PACKAGE, pipeline_hash, pipeline_modules


def test_pipeline_hash_covers_every_module_ingestion_imports():
    """Ground truth from a fresh interpreter: every policyqa module that importing the ingest
    stage loads is hashed (the tokenizer in lexical.py was once left out)."""
    code = ("import sys, policyqa.ingest; print('\\n'.join(m.__file__ for n, m in sys.modules.items()"
            " if n.startswith('policyqa') and getattr(m, '__file__', None)))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         check=True)
    loaded = {str(__import__("pathlib").Path(f).resolve().relative_to(PACKAGE))
              for f in run.stdout.split()}
    assert "lexical.py" in loaded
    assert loaded <= set(pipeline_modules()), loaded - set(pipeline_modules())


def test_pipeline_hash_changes_with_any_hashed_module(monkeypatch, tmp_path):
    """A copy of the package with one stop word more hashes differently."""
    import shutil

    import policyqa.manifest as manifest

    copy = tmp_path / "policyqa"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = pipeline_hash()
    lexical = copy / "lexical.py"
    lexical.write_text(lexical.read_text().replace("shall\"\"\"", "shall umbrella\"\"\""))
    monkeypatch.setattr(manifest, "PACKAGE", copy)
    manifest.pipeline_modules.cache_clear()
    try:
        assert manifest.pipeline_hash() != before
    finally:
        manifest.pipeline_modules.cache_clear()


def test_a_corpus_is_checked_for_changes_by_stat_and_any_write_is_seen(tmp_path, monkeypatch):
    """A fresh `policyqa ask` compares the corpus with the index's manifest. It read and hashed
    every file (a second or more for hundreds of megabytes, more on a network share); a file
    whose size, mtime, ctime and inode are those the build recorded now keeps its recorded hash.
    Any write moves the ctime, even one that puts the old size and mtime back, so it is seen;
    a file changed just before the build (within SETTLED_NS) is not trusted to its stat."""
    import os
    import time

    from policyqa import manifest as manifest_module
    from policyqa.config import load_settings
    from policyqa.ingest import build_index
    from policyqa.store import backend

    corpus = tmp_path / "policies"
    corpus.mkdir()
    funds, visits = corpus / "funds.md", corpus / "visits.md"
    funds.write_text("# Client Funds\n\nStaff never lend money to a client.\n")
    time.sleep(manifest_module.SETTLED_NS / 1e9 + 0.1)
    visits.write_text("# Home Visits\n\nVisits end by 6 pm.\n")  # changed just before the build
    settings = load_settings(corpus, tmp_path / "index")
    build_index(settings)
    built, _ = backend(settings).current_manifest()
    assert list(built["corpus_stat"]) == ["funds.md"]

    read = []
    real = manifest_module.file_hash
    monkeypatch.setattr(manifest_module, "file_hash", lambda path: read.append(path.name)
                        or real(path))
    assert manifest_module.staleness(settings, built) is None
    assert read == ["visits.md"]  # funds.md checked by its stat alone

    before = funds.stat()
    funds.write_text("# Client Funds\n\nStaff never lend money to a cliENT.\n")  # same size
    os.utime(funds, ns=(before.st_atime_ns, before.st_mtime_ns))  # and the old mtime put back
    assert funds.stat().st_size == before.st_size
    assert manifest_module.staleness(settings, built) == "corpus changed (changed: funds.md)"
    funds.write_text("# Client Funds\n\nStaff never lend money to a client.\n")  # as built
    assert manifest_module.staleness(settings, built) is None  # touched, not changed

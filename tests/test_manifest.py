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

"""Shared fixtures: the real corpus indexed with the real model, and small corpora built in tests."""

from __future__ import annotations

import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")

# A real PostgreSQL + pgvector (scripts/postgres.sh), for the tests that need one.
from postgres_fixture import pg_cluster, pg_database, pg_index, pg_replica, pg_server  # noqa: E402, F401

from policyqa.config import ROOT, load_settings  # noqa: E402
from policyqa.index import load_index  # noqa: E402

CORPUS = ROOT / "corpus"


@pytest.fixture(scope="session")
def index():
    """The real corpus, indexed with the bundled all-MiniLM-L6-v2 (reused while it is current)."""
    return load_index(load_settings(CORPUS, ROOT / "index"))


@pytest.fixture
def small_corpus(tmp_path: Path) -> Path:
    """A two-document corpus copied from the real one (fast to index)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("longmont-case-management-code-of-conduct.txt", "dmh-4.13-peer-advocates.txt"):
        shutil.copy(CORPUS / name, corpus / name)
    shutil.copy(CORPUS / "metadata.toml", corpus / "metadata.toml")
    return corpus


@contextmanager
def unwritable(folder: Path):
    """`folder` made unwritable to this process: mode 555, or for root, whom modes do not stop,
    the immutable attribute (`chattr +i`, ext4 and most Linux filesystems)."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    try:
        run = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("root, and no chattr to make a folder unwritable")
    if run.returncode:
        pytest.skip(f"root, and chattr cannot make {folder} unwritable: {run.stderr.strip()}")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(folder)], check=True)


def without_root_powers(command: list[str]) -> list[str]:
    """`command` run so that file modes stop it: as it is for another user; for root, whom
    modes do not stop, without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (setpriv drops them
    from the bounding set; the process stays uid 0). Skips, naming why, where neither works."""
    if os.geteuid() != 0:
        return command
    if not shutil.which("setpriv"):
        pytest.skip("root, and no setpriv to run without root's powers over file modes")
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--", *command]


def fixed_pages_pdf():
    """An fpdf2 document in Helvetica 11 that starts a page only where the test adds one, so a
    header or footer it places at a fixed height stays on its page."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.set_auto_page_break(False)
    return pdf


def make_pdf(path: Path, pages: list[str]) -> Path:
    """A real PDF with one text page per entry (fpdf2), for page-number tests."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path

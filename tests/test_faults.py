"""Faults: bad files, killed builds, damaged indexes, readers during ingest, no network.

Every case uses real files built here, the real model and FAISS. The promises under test: a bad file
is named with its reason on one line and never stops the others; the index on disk is never
half-written, and a damaged or mismatched one is never used silently.
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import resource
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from conftest import CORPUS, make_pdf
from netguard import assert_guard_refuses, guarded_env, net_attempts

from policyqa.answers import ask
from policyqa.chunks import make_chunks
from policyqa.cli import main
from policyqa.config import ROOT, ChunkSettings, load_settings
from policyqa.documents import DocumentError, read_document
from policyqa.embedding import load_embedder
from policyqa.index import IndexError_, build_index, load_index
from policyqa.sections import parse_sections
from policyqa.store import embedded, files

POLICY = """Visitor Policy

1. Sign-in
Every visitor signs the front desk log on arrival. Staff check photo identification before a
visitor enters a residential area.

2. Gifts
Staff must not accept cash gifts from clients or their families. Small tokens of thanks worth
less than ten dollars may be accepted and recorded in the gift register.

3. Records
Notes about each visit are written within two business days. Records are kept in the locked
cabinet and never taken home.
"""

# Plain prose: no headings, no numbering, no capitals that look like titles.
NO_STRUCTURE = """the team meets every morning to go over the day and anyone who is unsure about a
client can raise it there. keys to the medicine room stay with the shift lead at all times.

when a client asks to see their file someone from the records office sits with them while they
read it. nobody photocopies a file without a signed request.
"""


def cli() -> list[str]:
    return [sys.executable, "-m", "policyqa.cli"]


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(HF_HUB_OFFLINE="1", **extra)
    return env


def tiny_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "visitor-policy.txt").write_text(POLICY)
    return folder


@pytest.fixture(scope="module")
def tiny_built(tmp_path_factory) -> Path:
    """A one-document corpus and its index, built once; tests work on copies."""
    root = tmp_path_factory.mktemp("tiny")
    build_index(load_settings(tiny_corpus(root / "corpus"), root / "index"))
    return root


@pytest.fixture
def tiny(tiny_built: Path, tmp_path: Path):
    """Settings for a private copy of the tiny corpus and index (`current` link kept relative)."""
    shutil.copytree(tiny_built / "corpus", tmp_path / "corpus")
    shutil.copytree(tiny_built / "index", tmp_path / "index", symlinks=True)
    return load_settings(tmp_path / "corpus", tmp_path / "index")


def builds(index_dir: Path) -> list[Path]:
    return sorted(index_dir.glob("build-*"))


def assert_whole(store) -> None:
    """Everything in a loaded store agrees with itself: counts, offsets, vectors."""
    assert store.manifest["counts"]["chunks"] == len(store.chunks) == len(store.chunk_vectors)
    assert len(store.sentence_vectors) == len(store.sentence_chunk)
    for c in store.chunks:
        assert store.documents[c.doc_id].text[c.start : c.end] == c.text


# ---------------------------------------------------------------- ingestion: bad files


def damaged_pdf(path: Path) -> Path:
    """A real PDF whose stream filter name is garbled: pypdf raises NotImplementedError."""
    make_pdf(path, ["Policy text on page one."])
    path.write_bytes(path.read_bytes().replace(b"/FlateDecode", b"/FlateDecoXe"))
    return path


@pytest.mark.parametrize("name, make, reason", [
    ("program.txt", lambda: Path(sys.executable).read_bytes()[:65536], "binary content"),
    ("archive.txt", lambda: gzip.compress(POLICY.encode() * 20), "binary content|not valid"),
    ("controls.txt", lambda: bytes(range(1, 32)) * 40 + b"some words", "control characters"),
    ("photo.md", lambda: b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "binary content"),
], ids=["executable", "gzip", "control characters", "png"])
def test_binary_renamed_as_text_is_refused(tmp_path: Path, name, make, reason):
    (tmp_path / name).write_bytes(make())
    with pytest.raises(DocumentError, match=reason):
        read_document(tmp_path / name)


def test_utf16_without_byte_order_mark_is_decoded(tmp_path: Path):
    for encoding in ("utf-16-le", "utf-16-be"):
        (tmp_path / "wide.txt").write_bytes("R\u00e9sum\u00e9 rules for staff.".encode(encoding))
        assert read_document(tmp_path / "wide.txt").text == "R\u00e9sum\u00e9 rules for staff."


def test_truncated_and_corrupt_pdfs_are_reported_never_crash(tmp_path: Path):
    import random

    good = make_pdf(tmp_path / "good.pdf", [f"Page {n}: staff sign the visitor log." for n in
                                            range(1, 6)]).read_bytes()
    for fraction in (0.1, 0.5, 0.9, 0.99):
        (tmp_path / "cut.pdf").write_bytes(good[: int(len(good) * fraction)])
        with pytest.raises(DocumentError, match="PDF"):
            read_document(tmp_path / "cut.pdf")
    with pytest.raises(DocumentError, match="damaged PDF"):
        read_document(damaged_pdf(tmp_path / "filter.pdf"))
    # Random damage: pypdf repairs some files; any other outcome is a DocumentError, not a crash.
    rng = random.Random(4)
    outcomes = set()
    for _ in range(40):
        data = bytearray(good)
        for _ in range(20):
            data[rng.randrange(16, len(data))] = rng.randrange(256)
        (tmp_path / "noise.pdf").write_bytes(bytes(data))
        try:
            doc = read_document(tmp_path / "noise.pdf")
            assert "\ufffd" * 5 not in doc.text  # garbage text is refused, not indexed
            outcomes.add("repaired")
        except DocumentError as exc:
            assert "\n" not in str(exc) and len(str(exc)) < 200
            outcomes.add("reported")
    assert "reported" in outcomes


def test_300_page_pdf_ingests_with_progress_in_bounded_memory(tmp_path: Path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    pages = [f"Visit {n} is logged by staff." for n in range(1, 301)]
    pdf = make_pdf(corpus / "handbook.pdf", pages)
    tracemalloc.start()
    doc = read_document(pdf)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert len(doc.page_starts) == 300
    assert doc.page_at(doc.text.find("Visit 250 ")) == 250
    # Reading holds the text and per-character offset maps, nothing per page beyond that.
    assert peak < 32 * 2**20, f"reading 300 pages peaked at {peak / 2**20:.1f} MiB"

    settings = load_settings(corpus, tmp_path / "index")
    load_embedder(settings).encode(["load the model first: its memory is not the document's"])
    events: list[tuple[str, int, int]] = []
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = build_index(settings, lambda stage, done, total: events.append((stage, done, total)))
    growth_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert growth_mib < 300, f"peak RSS grew by {growth_mib:.0f} MiB"  # about 120 measured
    assert report.documents == 1 and report.sentences >= 300
    stages = {stage for stage, _, _ in events}
    assert {"read", "embed chunks", "embed sentences"} <= stages
    for stage in stages:
        done = [d for s, d, _ in events if s == stage]
        totals = {t for s, _, t in events if s == stage}
        assert done == sorted(done) and done[-1] == totals.pop()  # monotone, ends complete
    assert len([e for e in events if e[0] == "embed sentences"]) > 3  # a bar that moves
    index = load_index(load_settings(corpus, tmp_path / "index"), rebuild="never")
    pages_seen = {n for c in index.chunks for n in range(c.page, c.page_end + 1)}
    assert pages_seen == set(range(1, 301))
    answer = ask(index, "Who logs visit 250?", k=3)
    assert any("Visit 250 " in p.text for p in answer.passages)
    assert answer.answer.text == "Visit 250 is logged by staff."
    assert answer.answer.citation.endswith("p. 250")


def test_document_without_structure_ingests_with_fallback_sections(tmp_path: Path):
    (tmp_path / "notes.txt").write_text(NO_STRUCTURE)
    doc = read_document(tmp_path / "notes.txt")
    structure = parse_sections(doc)
    chunks = make_chunks(doc, structure, ChunkSettings())
    assert chunks and all(doc.text[c.start : c.end] == c.text for c in chunks)
    covered = " ".join(c.text for c in chunks).split()
    assert covered == doc.text.split()  # every word lands in exactly one chunk, in order
    assert all(c.section_path == "" for c in chunks)  # no invented headings
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(tmp_path / "notes.txt", corpus / "notes.txt")
    build_index(load_settings(corpus, tmp_path / "index"))
    index = load_index(load_settings(corpus, tmp_path / "index"), rebuild="never")
    answer = ask(index, "Who keeps the keys to the medicine room?")
    assert "shift lead" in answer.passages[0].text
    assert answer.passages[0].citation == "notes"  # the label alone: no section to cite


def test_100000_word_paragraph_and_long_lines_stay_within_chunk_size(tmp_path: Path):
    settings = ChunkSettings()
    sentence = "staff members review the care plan with the client and record the outcome"
    cases = {
        # one paragraph of 100,000 words with sentence ends, and one with no punctuation at all
        "sentences.txt": "Long Policy\n\n" + " ".join(
            f"{sentence.capitalize()} number {n}." for n in range(7700)) + "\n",
        "run-on.txt": " ".join(f"word{n % 997}" for n in range(100_000)) + "\n",
        # very long lines: a 30,000-character token (an embedded blob) between prose lines
        "blob.txt": "Attachment Policy\n\n" + "A" * 30_000 + "\n\nStaff keep attachments.\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        doc = read_document(tmp_path / name)
        chunks = make_chunks(doc, parse_sections(doc), settings)
        assert max(c.words for c in chunks) <= settings.max_words, name
        assert all(doc.text[c.start : c.end] == c.text for c in chunks)
        assert " ".join(c.text for c in chunks).split() == doc.text.split(), name


# ---------------------------------------------------------------- ingestion: the command


def bad_files(corpus: Path) -> dict[str, str]:
    """Write one of each bad file; return name -> a fragment of the reason the user must see."""
    from pypdf import PdfReader, PdfWriter

    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.md").write_bytes(b"  \n\t\n")
    (corpus / "nul.txt").write_bytes(b"Staff\x00policy\x00")
    (corpus / "program.txt").write_bytes(Path(sys.executable).read_bytes()[:65536])
    (corpus / "fake.pdf").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    whole = make_pdf(corpus / "whole.pdf", ["A page of policy text."]).read_bytes()
    (corpus / "whole.pdf").unlink()
    (corpus / "cut.pdf").write_bytes(whole[: len(whole) // 2])
    damaged_pdf(corpus / "filter.pdf")
    writer = PdfWriter(clone_from=PdfReader(make_pdf(corpus / "plain.pdf", ["Secret."])))
    (corpus / "plain.pdf").unlink()
    writer.encrypt("s3cret")
    writer.write(corpus / "locked.pdf")
    scan = PdfWriter()
    scan.add_blank_page(612, 792)
    scan.write(corpus / "scan.pdf")
    (corpus / "visitor-policy_copy.txt").write_text(POLICY)
    return {
        "empty.txt": "empty file", "blank.md": "whitespace only", "nul.txt": "NUL bytes",
        "program.txt": "binary content", "fake.pdf": "not a PDF", "cut.pdf": "PDF (",
        "filter.pdf": "damaged PDF", "locked.pdf": "password", "scan.pdf": "needs OCR",
        "visitor-policy_copy.txt": "duplicate of visitor-policy.txt",
    }


def test_ingest_names_every_bad_file_and_indexes_the_rest(tmp_path: Path, capsys):
    corpus = tiny_corpus(tmp_path / "corpus")
    (corpus / "notes.txt").write_text(NO_STRUCTURE)
    expected = bad_files(corpus)
    index_dir = tmp_path / "index"
    assert main(["ingest", "--corpus", str(corpus), "--index", str(index_dir)]) == 0
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith(f"Indexed 2 documents, skipped {len(expected)} file(s), ")
    assert " chunks (" in lines[0]
    assert lines[1].startswith("  embedded ") and lines[1].endswith(" reused 0 from the previous build")
    for name, reason in expected.items():
        status = "duplicate" if reason.startswith("duplicate") else "skipped"
        [line] = [x for x in lines if x.startswith(f"  {status} {name}: ")]
        assert reason in line, line
    assert len(lines) == 2 + len(expected)
    assert "Traceback" not in err
    index = load_index(load_settings(corpus, index_dir), rebuild="never")
    assert set(index.documents) == {"visitor-policy", "notes"}
    assert_whole(index.store)
    assert not list(index_dir.glob(".tmp-build-*")) and len(builds(index_dir)) == 1


def test_ingest_names_a_file_indexed_with_a_note(tmp_path: Path, capsys):
    """A file indexed with something its reader could not take as written (a Markdown code
    fence never closed) is named with the note in the ingest summary, and in --json."""
    corpus = tiny_corpus(tmp_path / "corpus")
    (corpus / "funds.md").write_text("# Funds\n\nNever lend money.\n\n```\nledger export\n")
    index_dir = tmp_path / "index"
    assert main(["ingest", "--corpus", str(corpus), "--index", str(index_dir)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Indexed 2 documents, skipped 0 file(s), ")
    assert lines[2:] == ["  indexed funds.md, note: line 5: a code fence (```) is never closed; "
                         "the rest of the file is read as text, not code"]
    assert main(["ingest", "--corpus", str(corpus), "--index", str(index_dir), "--json"]) == 0
    rows = {r["file"]: r for r in json.loads(capsys.readouterr().out)["documents"]}
    assert rows["funds.md"]["status"] == "indexed" and "line 5" in rows["funds.md"]["reason"]
    assert rows["visitor-policy.txt"]["reason"] == ""


@pytest.mark.parametrize("case, message", [
    ("missing", "corpus folder not found"),
    ("a file", "corpus folder is not a folder"),
    ("empty", "no readable documents in .* \\(no files\\)"),
    ("only bad files", "no readable documents in .* \\(all 9 file\\(s\\) skipped\\)"),
], ids=["missing", "a file", "empty", "only bad files"])
def test_ingest_without_readable_documents_fails_clearly(tmp_path: Path, capsys, case, message):
    import re

    corpus = tmp_path / "corpus"
    if case == "a file":
        corpus.write_text("not a folder")
    elif case != "missing":
        corpus.mkdir()
    expected = bad_files(corpus) if case == "only bad files" else {}
    if expected:  # without the original, the copy would be a good document
        (corpus / "visitor-policy_copy.txt").unlink()
        del expected["visitor-policy_copy.txt"]
    index_dir = tmp_path / "index"
    assert main(["ingest", "--corpus", str(corpus), "--index", str(index_dir)]) == 2
    out, err = capsys.readouterr()
    [error] = [x for x in err.splitlines() if "policyqa: error:" in x]
    assert re.search(message, error), error
    assert len(out.splitlines()) == len(expected)  # one line per skipped file, nothing else
    for name, reason in expected.items():
        assert any(x.startswith(f"  skipped {name}: ") and reason in x for x in out.splitlines())
    assert not (index_dir / "current").exists() and not builds(index_dir)  # nothing half-written


# ---------------------------------------------------------------- the index survives faults


def read_until(stream, marker: bytes, timeout: float) -> bytes:
    """Read a child's stderr until `marker` shows (tqdm writes \\r, not lines)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        assert left > 0, f"no {marker!r} within {timeout} s: {seen[-500:]!r}"
        ready, _, _ = select.select([stream], [], [], left)
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            assert chunk, f"child exited before {marker!r}: {seen[-2000:]!r}"
            seen += chunk
    return seen


def test_sigkill_mid_ingest_leaves_previous_index_loading_and_answering(index, tmp_path: Path):
    corpus, index_dir = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(CORPUS, corpus)
    index_dir.mkdir()
    shutil.copytree(index.path, index_dir / index.path.name)
    (index_dir / "current").symlink_to(index.path.name)
    settings = load_settings(corpus, index_dir)
    before = load_index(settings, rebuild="never")

    child = subprocess.Popen(cli() + ["ingest", "--corpus", str(corpus), "--index", str(index_dir)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=child_env())
    try:
        read_until(child.stderr, b"embed", timeout=240)  # reading done, embedding under way
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=60) == -signal.SIGKILL
    finally:
        child.kill()
        child.stderr.close()

    assert (index_dir / "current").resolve() == before.path
    after = load_index(settings, rebuild="never")
    assert after.path == before.path and len(after.chunks) == len(before.chunks)
    assert_whole(after.store)
    answer = ask(after, "Can I accept gifts from clients?")
    assert answer.answered and "gift" in answer.answer.text.lower()


def test_leftovers_of_killed_builds_are_ignored_then_cleaned(tiny):
    index_dir = Path(tiny.index_dir)
    before = load_index(tiny, rebuild="never")
    # What a kill leaves at each step of a build: a half-written temporary folder (killed while
    # writing), and a link made but never swapped in (killed between the two renames).
    stamp = "20200101-000000-1-1"
    partial = index_dir / f".tmp-build-{stamp}"
    partial.mkdir()
    (partial / "chunks.json").write_text('[{"chunk_id": 0, "doc_id": "visi')
    link = index_dir / f".current-{stamp}"
    link.symlink_to(partial.name)

    after = load_index(tiny, rebuild="never")
    assert after.path == before.path
    build_index(tiny)  # a new build is not confused by them, and leaves recent ones alone
    assert load_index(tiny, rebuild="never").path not in (before.path, partial)
    assert partial.exists()
    hours_ago = time.time() - 2 * 3600
    os.utime(partial, (hours_ago, hours_ago))
    os.utime(link, (hours_ago, hours_ago), follow_symlinks=False)
    build_index(tiny)
    assert not partial.exists() and not os.path.lexists(link)
    assert_whole(load_index(tiny, rebuild="never").store)


def _truncate(name: str):
    def damage(build: Path) -> None:
        data = (build / name).read_bytes()
        (build / name).write_bytes(data[: len(data) // 2])
    return damage


def _flip_last_byte(name: str):
    """Same size and still parseable: only the checksum can tell."""
    def damage(build: Path) -> None:
        data = bytearray((build / name).read_bytes())
        data[-1] ^= 0x01
        (build / name).write_bytes(bytes(data))
    return damage


def _edit_chunk_text(build: Path) -> None:
    chunks = json.loads((build / "chunks.json").read_text())
    chunks[0]["text"] = chunks[0]["text"].replace("Visitor", "Vendor")
    (build / "chunks.json").write_text(json.dumps(chunks))


def _manifest(**changes):
    def damage(build: Path) -> None:
        manifest = json.loads((build / "manifest.json").read_text())
        for key, value in changes.items():
            if value is None:
                manifest.pop(key)
            else:
                manifest[key] = value
        (build / "manifest.json").write_text(json.dumps(manifest))
    return damage


def _write(name: str, text: str):
    return lambda build: (build / name).write_text(text)


@pytest.mark.parametrize("damage, message", [
    (_truncate("chunks.json"), "chunks.json does not match its checksum"),
    (_edit_chunk_text, "chunks.json does not match its checksum"),
    (_truncate("chunk_vectors.npy"), "chunk_vectors.npy does not match its checksum"),
    (_flip_last_byte("chunk_vectors.npy"), "chunk_vectors.npy does not match its checksum"),
    (_truncate("lexical_counts.npz"), "lexical_counts.npz does not match its checksum"),
    (lambda build: (build / "sentence_vectors.npy").unlink(), "sentence_vectors.npy is missing"),
    (_truncate("manifest.json"), "unreadable index manifest"),
    (_write("manifest.json", "[]"), "unreadable index manifest \\(not a JSON object\\)"),
    (_manifest(corpus=[[]]), "unreadable index manifest \\(TypeError"),
    (_manifest(model="sentence-transformers/all-mpnet-base-v2"),
     "built with model 'sentence-transformers/all-mpnet-base-v2'"),
    (_manifest(package_version="0.0.1"), "built by policyqa 0.0.1, this is 0.1.0"),
    (_manifest(files=None), "the manifest lists no file checksums"),
], ids=["chunks.json truncated", "chunks.json edited", "vectors truncated", "vectors bit flip",
        "bm25 counts truncated", "vectors missing", "manifest truncated", "manifest not an object",
        "manifest wrong shape", "other model", "other version", "no checksums"])
def test_damaged_or_mismatched_index_is_refused_or_rebuilt_never_used(tiny, caplog, damage,
                                                                      message):
    good = load_index(tiny, rebuild="never")
    damage(good.path)
    with pytest.raises(IndexError_, match=message) as refused:
        load_index(tiny, rebuild="never")
    assert "policyqa ingest" in str(refused.value) and "\n" not in str(refused.value)
    with caplog.at_level(logging.WARNING, logger="policyqa"):
        rebuilt = load_index(tiny)  # rebuild="auto"
    assert any("rebuilding the index" in r.getMessage() for r in caplog.records)
    assert rebuilt.path != good.path and len(rebuilt.chunks) == len(good.chunks)
    assert_whole(rebuilt.store)
    assert load_index(tiny, rebuild="never").path == rebuilt.path


def test_readers_during_ingest_see_old_or_new_index_never_a_mix(tiny):
    held = load_index(tiny, rebuild="never")
    question = "Where are records kept?"
    before = [(p.doc_id, p.start, p.end, p.text) for p in ask(held, question).passages]
    doc = Path(tiny.corpus_dir) / "visitor-policy.txt"
    doc.write_text(POLICY + "\n4. Umbrellas\nBorrowed umbrellas are returned to the front desk.\n")

    seen: list[tuple[Path, bool]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader() -> None:  # what another process does: resolve `current` once, read that build
        while not stop.is_set():
            path = files.current_path(tiny.index_dir)
            try:
                idx = embedded.EmbeddedStore(files.read_build(path), str(path), tiny)
            except Exception:
                if files.current_path(tiny.index_dir) != path:
                    continue  # pruned after two newer builds: read the new one (as load_index)
                raise
            try:
                assert_whole(idx)
                new_docs = any("umbrellas" in d.text for d in idx.documents.values())
                new_chunks = any("umbrellas" in c.text for c in idx.chunks)
                assert new_docs == new_chunks, "a mix of old and new files"
                seen.append((path, new_docs))
            except BaseException as exc:
                errors.append(exc)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        while not seen:
            time.sleep(0.01)
        build_index(tiny)
        assert held.path.exists()  # the previous build is kept for readers that just resolved it
        build_index(tiny)
        final = files.current_path(tiny.index_dir)
        deadline = time.monotonic() + 30
        while not any(p == final for p, _ in seen) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert not errors, errors
    assert {new for _, new in seen} == {False, True}
    assert all(new == (p != held.path) for p, new in seen)
    # The reader that held the old index keeps answering from it, even after its folder is gone.
    assert not held.path.exists()
    assert [(p.doc_id, p.start, p.end, p.text) for p in ask(held, question).passages] == before


def test_load_retries_when_its_build_is_pruned_mid_read(tiny, monkeypatch):
    real_read = files.read_build
    first: list[Path] = []

    def slow_read(path: Path):
        if not first:  # this reader is slow: two builds finish meanwhile and prune its folder
            first.append(path)
            build_index(tiny)
            build_index(tiny)
        return real_read(path)

    monkeypatch.setattr(embedded, "read_build", slow_read)
    loaded = load_index(tiny, rebuild="never")
    assert not first[0].exists()
    assert loaded.path == files.current_path(tiny.index_dir) != first[0]
    assert_whole(loaded.store)


# ---------------------------------------------------------------- no network


def test_cli_answers_with_networking_disabled(index, tmp_path: Path):
    """`policyqa ask` needs nothing from the network: the guard refuses everything and logs nothing."""
    env = guarded_env(tmp_path)
    assert_guard_refuses(env)
    run = subprocess.run(cli() + ["ask", "--json", "--corpus", str(CORPUS), "--index",
                                  str(ROOT / "index"), "Can I accept gifts from clients?"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["answered"] and data["passages"]
    assert not net_attempts(env), f"network calls attempted: {net_attempts(env)}"

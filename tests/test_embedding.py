"""The ONNX runtime against the torch one, with the real model and real ONNX Runtime: the same
vectors, the same vocabulary, an ONNX file that heals itself, and no torch on the ONNX path.

One export is shared by the session (a temporary cache folder); tests that damage the file work
on their own copy, so only the remakes they test pay for a second export.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from policyqa.chunks import make_chunks
from policyqa.config import ROOT, ChunkSettings, Settings, model_identity
from policyqa.documents import read_document
from policyqa.embedding import load_embedder
from policyqa.embedding.onnx_export import (
    EXPORTER,
    check,
    data_path,
    sha256_file,
    sidecar_path,
    weights_file,
)
from policyqa.embedding.onnx_runtime import OnnxEmbedder
from policyqa.embedding.torch_runtime import SentenceTransformerEmbedder
from policyqa.sections import parse_sections

SRC = ROOT / "src"


def corpus_texts() -> tuple[list[str], list[str]]:
    """Every chunk and sentence text of the corpus files, as ingestion embeds them."""
    chunks, sentences = [], []
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        doc = read_document(path)
        for c in make_chunks(doc, parse_sections(doc), ChunkSettings()):
            chunks.append(c.text)
            sentences.extend(doc.text[s:e] for s, e in c.sentences)
    return chunks, sentences


def texts_of_every_length(tokenizer, n: int = 200) -> list[str]:
    """n corpus texts spread evenly over token counts 1..256 (the model's window): chunks,
    sentences and runs of consecutive sentences (few chunks reach 256 tokens), plus five runs of
    12 chunks (over 600 words) that the tokenizer must truncate as sentence-transformers does."""
    chunks, sentences = corpus_texts()
    runs = [" ".join(sentences[i : i + k]) for k in range(2, 10) for i in range(0, len(sentences), 7)]
    pool = sorted({t for t in chunks + sentences + runs if t.strip()})
    lengths = {t: len(tokenizer.encode(t).ids) for t in pool}  # truncated at 256
    long = [" ".join(chunks[i : i + 12]) for i in range(0, 50, 10)]  # 12 chunks: > 600 words
    picked: list[str] = []
    for target in np.linspace(3, 256, n - len(long)):
        best = min(pool, key=lambda t: abs(lengths[t] - target))
        picked.append(best)
        pool.remove(best)
    return picked + long


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return replace(Settings(), runtime="onnx", cache_dir=tmp_path_factory.mktemp("cache"),
                   onnx_int8=False)


@pytest.fixture(scope="session")
def onnx(settings) -> OnnxEmbedder:
    embedder = load_embedder(settings)
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


@pytest.fixture(scope="session")
def made(onnx) -> list[tuple[str, int, int]]:
    """The session's one export, with the progress calls it made."""
    calls: list[tuple[str, int, int]] = []
    onnx.model_path(lambda *call: calls.append(call))
    return calls


@pytest.fixture(scope="session")
def torch_model(settings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.model)


def test_missing_file_is_made_with_a_progress_line(onnx, made):
    assert [(done, total) for _, done, total in made] == [(0, 1), (1, 1)]
    assert "ONNX" in made[0][0]
    path = onnx.model_path()
    meta = json.loads(sidecar_path(path).read_text())
    assert meta["sha256"] == sha256_file(path)
    # the weights stand beside the graph (mapped into memory, not parsed out of it)
    assert path.stat().st_size < 1_000_000 < 80_000_000 < data_path(path).stat().st_size
    assert meta["data_sha256"] == sha256_file(data_path(path))
    assert meta["model_identity"] == model_identity(onnx.model_name)
    assert meta["weights_sha256"] == sha256_file(weights_file(onnx.folder))
    assert meta["exporter"]["tool"] == EXPORTER


def test_onnx_vectors_equal_torch_over_every_length(onnx, made, torch_model):
    texts = texts_of_every_length(onnx.tokenizer)
    lengths = [len(onnx.tokenizer.encode(t).ids) for t in texts]
    assert len(texts) == 200 and min(lengths) <= 5 and sorted(lengths)[-10] >= 240
    assert len(onnx.tokenizer.encode(texts[-1]).ids) == 256  # truncated, like torch
    ours = onnx.encode(texts, batch_size=16)  # length-sorted batches, rows back in order
    theirs = torch_model.encode(texts, batch_size=16)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape == (200, 384)
    assert np.allclose(np.linalg.norm(ours, axis=1), 1, atol=1e-5)
    assert np.min(np.sum(ours * theirs, axis=1)) >= 0.9999
    one_by_one = np.vstack([onnx.encode([t]) for t in texts[::20]])  # the question path
    assert np.min(np.sum(one_by_one * theirs[::20], axis=1)) >= 0.9999
    assert onnx.encode([]).shape == (0, 384)


def test_only_ingestion_gets_a_session_of_its_own(settings, made, monkeypatch):
    """Ingestion (many texts, with progress) runs on a session with onnx_bulk_threads, one per
    embedder (a build's), for all its calls; a long question's unknown words, however many, stay
    on the shared question session, so no request can make the server build an all-core session
    per call."""
    from policyqa.embedding import onnx_runtime

    made_sessions = []
    real = onnx_runtime.make_session
    monkeypatch.setattr(onnx_runtime, "make_session",
                        lambda path, threads: made_sessions.append(threads) or real(path, threads))
    onnx = OnnxEmbedder(settings)
    monkeypatch.setattr(onnx, "bulk_threads", 0)
    words = [f"zyx{i}qw" for i in range(onnx_runtime.BULK + 8)]
    onnx.session(onnx.threads)  # the shared question session exists already
    made_sessions.clear()
    quiet = onnx.encode(words)
    assert made_sessions == []
    loud = onnx.encode(words, progress=lambda *call: None)
    assert made_sessions == [0]
    assert np.min(np.sum(quiet * loud, axis=1)) >= 0.9999
    onnx.encode(words[::-1], progress=lambda *call: None)  # the build's next kind of text
    assert made_sessions == [0]
    another = OnnxEmbedder(settings)  # the next build's embedder makes its own
    another.bulk_threads = 0
    another.encode(words, progress=lambda *call: None)
    assert made_sessions == [0, 0]


def test_a_question_gets_the_threads_unless_another_is_encoding(settings, made, monkeypatch):
    """A lone question runs on the `threads` session; one that arrives while another is encoding
    (a real second thread, started from inside the first one's forward pass) or being answered
    runs on a one-thread session, so concurrent askers each get a core. All give one vector."""
    import threading

    from policyqa.blas import one_blas_thread

    onnx = OnnxEmbedder(settings)
    monkeypatch.setattr(onnx, "threads", 2)
    used: list[int] = []
    real_session = onnx.session
    monkeypatch.setattr(onnx, "session", lambda threads, progress=None: used.append(threads)
                        or real_session(threads, progress))
    alone = onnx.encode(["Can I lend a client money?"])
    assert used == [2]
    real_forward, inner = onnx._forward, {}

    def forward(session, ids, type_ids):
        if not inner:  # the first question, mid-encoding: a second asker comes in
            inner["thread"] = threading.Thread(
                target=lambda: inner.setdefault("vector", onnx.encode(["Can I lend a client money?"])))
            inner["thread"].start()
            inner["thread"].join()
        return real_forward(session, ids, type_ids)

    monkeypatch.setattr(onnx, "_forward", forward)
    outer = onnx.encode(["Can I lend a client money?"])
    assert used == [2, 2, 1]
    monkeypatch.setattr(onnx, "_forward", real_forward)
    onnx.encode(["Can I lend a client money?"])  # alone again: the threads session
    assert used == [2, 2, 1, 2]
    # another question being answered (on the query path, not in the model) counts too
    started, release = threading.Event(), threading.Event()
    other = threading.Thread(target=one_blas_thread(lambda: started.set() or release.wait(30)))
    other.start()
    try:
        assert started.wait(30)
        one_blas_thread(onnx.encode)(["Can I lend a client money?"])
    finally:
        release.set()
        other.join()
    assert used == [2, 2, 1, 2, 1]
    one_blas_thread(onnx.encode)(["Can I lend a client money?"])  # its own question alone
    assert used == [2, 2, 1, 2, 1, 2]
    assert np.min(np.sum(np.vstack([outer, inner["vector"]]) * alone, axis=1)) >= 0.9999


def test_batches_hold_a_token_budget_and_never_none():
    """Batches over length-sorted texts: within the row cap and the padded-token budget (the last,
    widest text's width times the rows), and a text longer than the budget gets a batch alone."""
    from policyqa.embedding.onnx_runtime import batches

    widths = [3] * 10 + [100] * 25 + [600, 2000]
    plan = batches(widths, 8, 1024)
    assert plan[0] == (0, 8) and plan[-2:] == [(35, 36), (36, 37)]
    assert [end for _, end in plan][:-1] == [start for start, _ in plan][1:]  # contiguous
    assert all(end - start <= 8 and (end - start == 1 or (end - start) * widths[end - 1] <= 1024)
               for start, end in plan)
    assert batches([100] * 25, 64, 1024) == [(0, 10), (10, 20), (20, 25)]
    assert batches([], 64, 1024) == []


def test_vocabulary_is_the_torch_one(onnx, torch_model):
    ours = onnx.vocabulary()
    assert ours == torch_model.vocabulary()
    assert len(ours) == 30522 and ours[0] == "[PAD]"


def test_identity_is_shared_with_torch_and_int8_has_its_own(onnx, torch_model, settings):
    assert onnx.identity == torch_model.identity
    assert OnnxEmbedder(replace(settings, onnx_int8=True)).identity != onnx.identity


def test_int8_file_is_made_from_the_fused_graph_and_stays_near_fp32(onnx, made, settings):
    """POLICYQA_ONNX_INT8=1 quantizes the fused fp32 file (its Attention and embedding kernels
    have no ONNX shape rules; the quantizer stopped on them until told they are float). Its
    vectors stay close to fp32's, not equal: that gap is why int8 is off by default."""
    int8 = load_embedder(replace(settings, onnx_int8=True))
    path = int8.model_path()
    meta = json.loads(sidecar_path(path).read_text())
    assert path.name == "model-int8.onnx" and meta["quantization"] == "int8"
    import onnx as onnx_lib

    ops = {node.op_type for node in onnx_lib.load(str(path)).graph.node}
    assert {"QAttention", "MatMulInteger"} <= ops
    texts = texts_of_every_length(onnx.tokenizer)[::10]
    cosines = np.sum(int8.encode(texts) * onnx.encode(texts), axis=1)
    assert 0.95 <= np.min(cosines) < 0.9999 and np.mean(cosines) >= 0.98


def own_copy(settings: Settings, onnx: OnnxEmbedder, tmp_path: Path) -> tuple[OnnxEmbedder, Path]:
    """A cache folder holding a copy of the session's export, and a fresh embedder reading it."""
    source = onnx.model_path()
    cache = tmp_path / "cache"
    shutil.copytree(Path(settings.cache_dir) / "onnx", cache / "onnx",
                    ignore=shutil.ignore_patterns("*int8*"))
    target = cache / source.relative_to(settings.cache_dir)
    return OnnxEmbedder(replace(settings, cache_dir=cache)), target


def test_damage_is_detected(settings, onnx, made, tmp_path):
    _, path = own_copy(settings, onnx, tmp_path)
    identity, weights = model_identity(onnx.model_name), sha256_file(weights_file(onnx.folder))
    assert check(path, identity, weights, None) is None
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "damaged" in check(path, identity, weights, None)
    path.unlink()
    assert check(path, identity, weights, None) == "missing"


def test_damaged_or_missing_weights_are_detected(settings, onnx, made, tmp_path):
    _, path = own_copy(settings, onnx, tmp_path)
    identity, weights = model_identity(onnx.model_name), sha256_file(weights_file(onnx.folder))
    with open(data_path(path), "r+b") as f:  # one byte of one weight
        f.seek(data_path(path).stat().st_size // 2)
        byte = f.read(1)
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte[0] ^ 0xFF]))
    assert "damaged (model.onnx.data" in check(path, identity, weights, None)
    data_path(path).unlink()
    assert "missing its weights" in check(path, identity, weights, None)


def test_remembered_hash_is_dropped_by_any_change_to_the_file(settings, onnx, made, tmp_path):
    """A cold start does not hash 180 MB again (sha256-memo.json), yet a byte changed in place,
    with the file's size and mtime put back, is still found damaged: its ctime moved."""
    import time

    from policyqa.embedding.onnx_export import MEMO_NAME, MEMO_SETTLE_NS

    _, path = own_copy(settings, onnx, tmp_path)
    memo = path.parent.parent / MEMO_NAME
    identity, weights = model_identity(onnx.model_name), sha256_file(weights_file(onnx.folder))
    key = str(path.resolve())

    def remembered() -> dict:
        return json.loads(memo.read_text()) if memo.exists() else {}

    assert check(path, identity, weights, None, memo) is None
    assert key not in remembered()  # just written: too fresh to remember (coarse timestamps)
    time.sleep(MEMO_SETTLE_NS / 1e9 + 0.1)
    assert check(path, identity, weights, None, memo) is None
    assert remembered()[key]["stat"][2] == path.stat().st_size
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert "damaged" in check(path, identity, weights, None, memo)
    memo.write_text("not json")  # a damaged memo only costs a hash
    assert "damaged" in check(path, identity, weights, None, memo)


@pytest.mark.parametrize("part", ["graph", "weights"])
def test_truncated_file_is_remade_not_fatal(settings, onnx, made, tmp_path, part):
    fresh, path = own_copy(settings, onnx, tmp_path)
    target = path if part == "graph" else data_path(path)
    with open(target, "r+b") as f:
        f.truncate(target.stat().st_size // 3)
    expected = onnx.encode(["Can staff accept gifts?"])
    got = fresh.encode(["Can staff accept gifts?"])
    assert np.sum(got * expected) >= 0.9999
    meta = json.loads(sidecar_path(path).read_text())
    assert sha256_file(path) == meta["sha256"]
    assert sha256_file(data_path(path)) == meta["data_sha256"]


def test_foreign_file_is_refused_and_remade(settings, onnx, made, tmp_path):
    fresh, path = own_copy(settings, onnx, tmp_path)
    meta = json.loads(sidecar_path(path).read_text())
    sidecar_path(path).write_text(json.dumps({**meta, "model_identity": "another/model"}))
    identity, weights = model_identity(onnx.model_name), sha256_file(weights_file(onnx.folder))
    assert "foreign" in check(path, identity, weights, None)
    calls = []
    fresh.encode(["Can staff accept gifts?"], progress=lambda *call: calls.append(call))
    assert any("ONNX" in stage for stage, _, _ in calls)  # remade, not used
    assert json.loads(sidecar_path(path).read_text())["model_identity"] == identity


def test_the_graph_is_fused_and_a_torch_without_its_exporter_still_gets_a_file(
        settings, onnx, made, tmp_path, monkeypatch, caplog):
    """The file in use has ONNX Runtime's fused attention; a torch whose TorchScript exporter is
    gone (it is deprecated) gets the dynamo export instead, named in the sidecar, same vectors."""
    import onnx as onnx_format
    import torch

    ops = {node.op_type for node in onnx_format.load(str(onnx.model_path())).graph.node}
    assert {"Attention", "EmbedLayerNormalization", "SkipLayerNormalization"} <= ops
    real = torch.onnx.export

    def without_torchscript(*args, dynamo=True, **kwargs):
        if not dynamo:
            raise RuntimeError("the TorchScript exporter was removed")
        return real(*args, dynamo=dynamo, **kwargs)

    monkeypatch.setattr(torch.onnx, "export", without_torchscript)
    fallback = OnnxEmbedder(replace(settings, cache_dir=tmp_path / "cache"))
    path = fallback.model_path()
    assert json.loads(sidecar_path(path).read_text())["exporter"]["tool"] == (
        "torch.onnx.export(dynamo=True)")
    assert "TorchScript ONNX exporter failed" in caplog.text
    assert "Attention" not in {node.op_type for node in onnx_format.load(str(path)).graph.node}
    texts = ["Can staff accept gifts?", "A longer sentence about home visits and the log " * 4]
    assert np.min(np.sum(fallback.encode(texts) * onnx.encode(texts), axis=1)) >= 0.9999


def blocked_packages(folder: Path, names: tuple[str, ...]) -> Path:
    """A folder of packages whose import raises, to put first on PYTHONPATH."""
    for name in names:
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('{name} is blocked here')\n")
    return folder


def run_child(code: str, blocked: Path, settings: Settings) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POLICYQA_")}
    env.update(PYTHONPATH=os.pathsep.join([str(blocked), str(SRC)]), HF_HUB_OFFLINE="1",
               POLICYQA_CACHE=str(settings.cache_dir))
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, text=True,
                          capture_output=True, timeout=120)


def test_onnx_path_never_imports_torch(settings, onnx, made, tmp_path):
    blocked = blocked_packages(tmp_path / "blocked", ("torch", "sentence_transformers", "transformers"))
    expected = onnx.encode(["How should I keep participant records?"])[0]
    child = run_child("""
        import json, sys
        import policyqa.embedding
        from policyqa.config import Settings
        embedder = policyqa.embedding.load_embedder(Settings())
        vector = embedder.encode(["How should I keep participant records?"])[0]
        heavy = [m for m in ("torch", "sentence_transformers", "transformers") if m in sys.modules]
        print(json.dumps({"type": type(embedder).__name__, "heavy": heavy, "vector": vector.tolist()}))
        """, blocked, settings)
    assert child.returncode == 0, child.stderr
    out = json.loads(child.stdout)
    assert out["type"] == "OnnxEmbedder" and out["heavy"] == []
    assert np.dot(out["vector"], expected) >= 0.99999


def test_without_onnxruntime_the_torch_runtime_is_used_with_a_note(settings, tmp_path):
    blocked = blocked_packages(tmp_path / "blocked", ("onnxruntime",))
    child = run_child("""
        import sys
        from policyqa.config import Settings
        from policyqa.embedding import load_embedder
        print(type(load_embedder(Settings())).__name__, "torch" in sys.modules)
        """, blocked, settings)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["SentenceTransformerEmbedder", "False"]  # torch loads later
    assert "embedding with torch" in child.stderr


def test_the_models_threads_stop_spinning_when_a_run_ends(settings, made):
    """ONNX Runtime's threads spin after a run by default, holding the core that the question's
    vector scans need next (store/embedded.py's parts): every session stops them at a run's end."""
    onnx = OnnxEmbedder(settings)
    for threads in (1, 2):
        options = onnx.session(threads).get_session_options()
        assert options.get_session_config_entry("session.force_spinning_stop") == "1"
    vector = onnx.encode(["Can I lend a client money?"])
    assert vector.shape == (1, 384)

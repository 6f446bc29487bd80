"""The model's transformer as an ONNX file in the cache folder: made once per model, offline, from
the packaged weights, verified by hash on every load, remade when missing, damaged or foreign.

Exporter: `torch.onnx.export` (its TorchScript path) and ONNX Runtime's transformer optimizer,
which fuses the layers into ONNX Runtime's own kernels (see _export, with the measurements). Both
are maintained with what we already install (torch for the fallback runtime, onnxruntime for
this one) and export from the weights on disk with no download. torch's newer dynamo exporter
gave a graph ONNX Runtime could not fuse, 5-15% slower. `optimum`/`optimum-onnx` was the other
candidate: optimum-onnx 0.1.0 pins
transformers < 4.58 while sentence-transformers 6 needs transformers 5, so it cannot be installed
beside our stack; and the graph we need (BERT to `last_hidden_state`, pooling in numpy) is one call.

Layout: `<cache>/onnx/<model slug>-<weights sha256[:16]>/model.onnx` (fp32) and `model-int8.onnx`
(ONNX Runtime's dynamic int8 quantization of the fp32 file), each with a sidecar `*.json`
recording the file's sha256, the model identity, the weights' sha256 and the exporter's versions.
Each file holds the graph; its weights stand beside it in `<file>.data` (ONNX's external data,
one file), whose sha256 the sidecar records too. ONNX Runtime maps that file into memory instead
of parsing 90 MB of weights out of the graph and copying them: in a fresh process a session is
made in 0.06-0.07 s against 0.18-0.28 s (30 against 105 ms once the process is warm), which
every cold start (a CLI question, the page's preload) pays, and a process's peak RSS is 100 MB
against 190 MB; its vectors are bitwise the same. A file is used only when the graph and its
weights hash to the sidecar's sha256s and the sidecar names this model and these weights;
otherwise both are remade.

Hashing the ONNX file and the weights (90 MB each) took 0.25-0.4 s of every cold start, a third
of a CLI question's. So each file's sha256 is remembered in `<cache>/onnx/sha256-memo.json`
against its stat (device, inode, size, mtime and ctime in ns), as git's index remembers blobs: a
file changed in any way through the file system (written, truncated, replaced, even with its mtime
put back, which still moves ctime) no longer matches and is hashed again. A file changed within
the last MEMO_SETTLE_NS is never remembered, since timestamps are coarser than a write (git's
"racy" case). Files are made in a temporary folder and renamed into place (weights, graph,
then sidecar, so a crash in between leaves a mismatch that is remade),
under a file lock so that two processes making the same file do not interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("policyqa")

FORMAT = 4  # bump when the exported graph or quantization changes, to remake old files
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")

Progress = Callable[[str, int, int], None]  # (stage, done, total), as in policyqa.embedding


MEMO_SETTLE_NS = 2_000_000_000
MEMO_NAME = "sha256-memo.json"


def sha256_file(path: Path, memo: Path | None = None) -> str:
    """The sha256 of the file's bytes; with `memo` (a JSON file), remembered against its stat."""
    if memo is None:
        return _hash(path)
    stat = os.stat(path)
    stamp = [stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    key = str(Path(path).resolve())
    try:
        known = json.loads(memo.read_text())
    except (OSError, ValueError):
        known = {}
    if not isinstance(known, dict):
        known = {}
    entry = known.get(key)
    if isinstance(entry, dict) and entry.get("stat") == stamp and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    digest = _hash(path)
    if time.time_ns() - max(stat.st_mtime_ns, stat.st_ctime_ns) > MEMO_SETTLE_NS:
        known[key] = {"stat": stamp, "sha256": digest}
        try:
            memo.parent.mkdir(parents=True, exist_ok=True)
            tmp = memo.with_name(f"{memo.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(known, indent=1))
            os.replace(tmp, memo)  # a reader sees the old memo or the new one, never half
        except OSError as exc:  # a read-only cache still works, hashing every time
            log.debug("policyqa: cannot write %s: %s", memo, exc)
    return digest


def _hash(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def weights_file(model_dir: Path) -> Path:
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise FileNotFoundError(f"no weights ({' or '.join(WEIGHT_FILES)}) in {model_dir}")


def model_folder(cache_dir: Path, identity: str, weights_sha: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", identity).strip("-")[:60] or "model"
    return Path(cache_dir) / "onnx" / f"{slug}-{weights_sha[:16]}"


def sidecar_path(path: Path) -> Path:
    return path.with_suffix(".json")


def data_path(path: Path) -> Path:
    """Where the graph at `path` keeps its weights (ONNX external data, named relative to it)."""
    return path.with_name(f"{path.name}.data")


def check(path: Path, identity: str, weights_sha: str, quantization: str | None,
          memo: Path | None = None) -> str | None:
    """None when `path` is a sound file for this model; otherwise why it is not (`memo`: see
    sha256_file)."""
    try:
        meta = json.loads(sidecar_path(path).read_text())
    except FileNotFoundError:
        return "missing" if not path.exists() else "its sidecar is missing"
    except (OSError, ValueError) as exc:
        return f"unreadable sidecar ({exc})"
    if not isinstance(meta, dict):
        return "unreadable sidecar"
    if meta.get("model_identity") != identity or meta.get("weights_sha256") != weights_sha:
        return f"foreign: made for {meta.get('model_identity')!r}, not {identity!r}; refused"
    if meta.get("format") != FORMAT or meta.get("quantization") != quantization:
        return "made by another exporter format"
    if not path.is_file():
        return "missing"
    if not data_path(path).is_file():
        return f"missing its weights ({data_path(path).name})"
    if sha256_file(path, memo) != meta.get("sha256"):
        return "damaged (its sha256 differs from the sidecar's)"
    if sha256_file(data_path(path), memo) != meta.get("data_sha256"):
        return f"damaged ({data_path(path).name}'s sha256 differs from the sidecar's)"
    return None


def ensure_onnx(model_dir: Path, identity: str, cache_dir: Path, quantization: str | None = None,
                progress: Progress | None = None) -> Path:
    """The verified ONNX file for this model (fp32, or int8 with quantization="int8"), made if
    needed, saying so through `progress` (else a logged warning, which reaches stderr). Raises
    RuntimeError when it cannot be made (e.g. torch is not installed)."""
    if quantization not in (None, "int8"):
        raise ValueError(f"unknown quantization {quantization!r}")
    memo = Path(cache_dir) / "onnx" / MEMO_NAME
    weights_sha = sha256_file(weights_file(model_dir), memo)
    folder = model_folder(cache_dir, identity, weights_sha)
    path = folder / ("model-int8.onnx" if quantization == "int8" else "model.onnx")
    if check(path, identity, weights_sha, quantization, memo) is None:
        return path
    # the int8 file is made from the fp32 one, which is ensured before this file's lock is taken
    source = ensure_onnx(model_dir, identity, cache_dir, None, progress) if quantization else None
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be making it right now
        why = check(path, identity, weights_sha, quantization)
        if why is None:
            return path
        if why != "missing":
            log.warning("policyqa: ONNX file %s is %s; remaking it", path, why)
        if source is not None:
            make = lambda tmp: _quantize(source, tmp)  # noqa: E731
            what = "quantize the ONNX model to int8 (once per model)"
        else:
            make = lambda tmp: _export(model_dir, tmp)  # noqa: E731
            what = "export the model to ONNX (once per model, about 10 s)"
        if progress:
            progress(what, 0, 1)
        else:
            log.warning("policyqa: %s: %s", what, path)
        _write(path, make, {"model_identity": identity, "weights_sha256": weights_sha,
                            "format": FORMAT, "quantization": quantization})
        if progress:
            progress(what, 1, 1)
    return path


def _write(path: Path, make: Callable[[Path], str], meta: dict) -> None:
    """Make the file in a temporary folder beside it (`make` writes one self-contained ONNX file
    and returns the tool it used), split its weights out to `data_path`, then rename the weights,
    the graph and the sidecar into place, in that order."""
    import onnx

    work = path.with_name(f".{path.stem}-{os.getpid()}.tmp")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    side_tmp = work / sidecar_path(path).name
    try:
        whole = work / "whole.onnx"
        tool = make(whole)
        graph = work / path.name
        onnx.save_model(onnx.load(str(whole)), str(graph), save_as_external_data=True,
                        all_tensors_to_one_file=True, location=data_path(path).name,
                        size_threshold=1024)
        whole.unlink()
        os.chmod(data_path(graph), graph.stat().st_mode & 0o777)  # onnx writes it owner-only
        meta = {"sha256": sha256_file(graph), "data_sha256": sha256_file(data_path(graph)),
                **meta, "exporter": exporter_versions(tool)}
        side_tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(data_path(graph), data_path(path))
        os.replace(graph, path)
        os.replace(side_tmp, sidecar_path(path))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def exporter_versions(tool: str) -> dict:
    from importlib.metadata import version

    names = ["onnxruntime"] if tool == QUANTIZER else ["torch", "transformers", "onnx",
                                                       "onnxscript", "onnxruntime"]
    return {"tool": tool, **{n: version(n) for n in names}}


QUANTIZER = "onnxruntime.quantization.quantize_dynamic"


EXPORTER = "torch.onnx.export(dynamo=False) + onnxruntime.transformers.optimize_model"
FALLBACK_EXPORTER = "torch.onnx.export(dynamo=True)"


def _export(model_dir: Path, out: Path) -> str:
    """The transformer to `last_hidden_state`, batch and length dynamic, with its layers fused;
    returns the tool used (for the sidecar).

    torch.onnx.export's TorchScript path (dynamo=False, opset 17) of the model with eager
    attention, then ONNX Runtime's transformer optimizer (onnxruntime.transformers, model type
    bert, heads and width from the model's config.json), which fuses the embeddings, each layer's
    attention, residual layer norms and bias+GELU into ONNX Runtime's own kernels: 516 nodes
    become 46. The dynamo exporter's graph (285 nodes; attention as separate matrix products and
    softmax) is not a pattern the optimizer knows, and only its layer norms and GELUs fused.
    Measured side by side (2 cores, one process, interleaved rounds): a question of 20 / 34 / 50
    tokens on one thread 8.2-8.3 / 11.8-12.5 / 16.5-17.3 ms against 8.7-8.9 / 11.9-15.1 /
    17.7-18.6 ms from the dynamo file; the seed corpus's 249 chunks and 803 sentences on both
    cores median 7.4 / 7.5 s against 8.7 / 8.1 s (two runs of five rounds); vectors equal
    (minimum cosine 0.9999998, gold-set figures identical to the third decimal).
    The fused Attention kernel reads the padding from the mask's row sums, which holds for the
    right-padded batches onnx_runtime makes. A torch that no longer has the TorchScript path
    (it is deprecated) gets the dynamo export, unfused, with a logged note. Console chatter goes
    to stderr, so `ask --json` keeps a clean stdout."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from onnxruntime.transformers.optimizer import optimize_model
        from transformers import AutoModel
    except ImportError as exc:
        raise RuntimeError(f"making the ONNX file needs torch, transformers and onnxruntime: "
                           f"{exc}") from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                      attn_implementation="eager").eval()
    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in INPUTS)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
    plain = out.with_name(f"{out.stem}-unfused.onnx")
    chatty = [logging.getLogger(name) for name in ("torch.onnx", "onnxruntime", "fusion_utils")]
    levels = [logger.level for logger in chatty]
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        for logger in chatty:
            logger.setLevel(logging.ERROR)
        try:
            try:
                torch.onnx.export(LastHiddenState(model), example, str(plain),
                                  input_names=list(INPUTS), output_names=[OUTPUT], dynamo=False,
                                  opset_version=17, dynamic_axes=axes, verbose=False)
            except Exception as exc:  # a torch without the TorchScript exporter: unfused
                log.warning("policyqa: the TorchScript ONNX exporter failed (%s); exporting "
                            "with dynamo=True, unfused and 5-15%% slower", _short(exc))
                dims = {name: {0: torch.export.Dim("batch"),
                               1: torch.export.Dim("sequence", max=512)} for name in INPUTS}
                torch.onnx.export(LastHiddenState(model), example, str(out),
                                  input_names=list(INPUTS), output_names=[OUTPUT], dynamo=True,
                                  external_data=False, verbose=False, dynamic_shapes=dims)
                return FALLBACK_EXPORTER
            config = model.config
            fused = optimize_model(str(plain), model_type="bert", opt_level=0,
                                   num_heads=config.num_attention_heads,
                                   hidden_size=config.hidden_size)
            fused.save_model_to_file(str(out))
            return EXPORTER
        finally:
            plain.unlink(missing_ok=True)
            for logger, level in zip(chatty, levels, strict=True):
                logger.setLevel(level)


def _short(exc: Exception) -> str:
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= 160 else text[:157] + "..."


def _quantize(source: Path, out: Path) -> str:
    """ONNX Runtime's dynamic int8 quantization: weights stored as int8, activations quantized
    per batch at run time; no calibration data needed.

    The fused graph's own kernels (Attention, SkipLayerNormalization, com.microsoft domain) have
    no ONNX shape-inference rules, so the quantizer cannot type their outputs and stops ("Unable
    to find data type for weight_name") unless told that untyped tensors are float; they are
    (the model is fp32 throughout). Attention and the embedding layer become QAttention and
    QEmbedLayerNormalization, the matrix products MatMulInteger."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True,
                         extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT})
    return QUANTIZER

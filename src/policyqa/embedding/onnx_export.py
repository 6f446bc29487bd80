"""The model's transformer as an ONNX file in the cache folder: made once per model, offline, from
the packaged weights, verified by hash on every load, remade when missing, damaged or foreign.

Exporter: `torch.onnx.export` with `dynamo=True` (torch's own exporter since 2.9, built on
torch.export and onnxscript; the TorchScript exporter is deprecated). It is maintained with the
torch we already install for the fallback runtime, and it exports from the weights on disk with no
download. `optimum`/`optimum-onnx` was the other candidate: optimum-onnx 0.1.0 pins
transformers < 4.58 while sentence-transformers 6 needs transformers 5, so it cannot be installed
beside our stack; and the graph we need (BERT to `last_hidden_state`, pooling in numpy) is one call.

Layout: `<cache>/onnx/<model slug>-<weights sha256[:16]>/model.onnx` (fp32) and `model-int8.onnx`
(ONNX Runtime's dynamic int8 quantization of the fp32 file), each with a sidecar `*.json`
recording the file's sha256, the model identity, the weights' sha256 and the exporter's versions.
A file is used only when its bytes hash to the sidecar's sha256 and the sidecar names this model
and these weights; otherwise it is remade.

Hashing the ONNX file and the weights (90 MB each) took 0.25-0.4 s of every cold start, a third
of a CLI question's. So each file's sha256 is remembered in `<cache>/onnx/sha256-memo.json`
against its stat (device, inode, size, mtime and ctime in ns), as git's index remembers blobs: a
file changed in any way through the file system (written, truncated, replaced, even with its mtime
put back, which still moves ctime) no longer matches and is hashed again. A file changed within
the last MEMO_SETTLE_NS is never remembered, since timestamps are coarser than a write (git's
"racy" case). Files are written to a temporary name and renamed into
place (file first, then sidecar, so a crash in between leaves a mismatch that is remade), under a
file lock so that two processes making the same file do not interleave.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("policyqa")

FORMAT = 2  # bump when the exported graph or quantization changes, to remake old files
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
    if sha256_file(path, memo) != meta.get("sha256"):
        return "damaged (its sha256 differs from the sidecar's)"
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
                            "format": FORMAT, "quantization": quantization,
                            "exporter": exporter_versions(quantization)})
        if progress:
            progress(what, 1, 1)
    return path


def _write(path: Path, make: Callable[[Path], None], meta: dict) -> None:
    """Make the file under a temporary name, then rename it and its sidecar into place."""
    tmp = path.with_name(f".{path.stem}-{os.getpid()}.tmp.onnx")
    side_tmp = path.with_name(f".{path.stem}-{os.getpid()}.tmp.json")
    try:
        make(tmp)
        meta = {"sha256": sha256_file(tmp), **meta}
        side_tmp.write_text(json.dumps(meta, indent=2) + "\n")
        os.replace(tmp, path)
        os.replace(side_tmp, sidecar_path(path))
    finally:
        tmp.unlink(missing_ok=True)
        side_tmp.unlink(missing_ok=True)


def exporter_versions(quantization: str | None) -> dict:
    from importlib.metadata import version

    names = ["onnxruntime"] if quantization else ["torch", "transformers", "onnx", "onnxscript"]
    return {"tool": "onnxruntime.quantization.quantize_dynamic" if quantization
            else "torch.onnx.export(dynamo=True)", **{n: version(n) for n in names}}


def _export(model_dir: Path, out: Path) -> None:
    """torch.onnx.export of the transformer to `last_hidden_state`, batch and length dynamic.
    Its console chatter goes to stderr, so `ask --json` keeps a clean stdout."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise RuntimeError(f"making the ONNX file needs torch and transformers: {exc}") from exc

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()
    example = tuple(torch.ones(2, 16, dtype=torch.long) for _ in INPUTS)
    batch, length = torch.export.Dim("batch"), torch.export.Dim("sequence", max=512)
    chatty = logging.getLogger("torch.onnx")  # "torchvision is not installed" notes
    level = chatty.level
    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        chatty.setLevel(logging.ERROR)
        try:
            torch.onnx.export(LastHiddenState(model), example, str(out), input_names=list(INPUTS),
                              output_names=[OUTPUT], dynamo=True, external_data=False,
                              verbose=False, dynamic_shapes={n: {0: batch, 1: length} for n in INPUTS})
        finally:
            chatty.setLevel(level)


def _quantize(source: Path, out: Path) -> None:
    """ONNX Runtime's dynamic int8 quantization: weights stored as int8, activations quantized
    per batch at run time; no calibration data needed."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with contextlib.redirect_stdout(sys.stderr), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        quantize_dynamic(str(source), str(out), weight_type=QuantType.QInt8, per_channel=True)

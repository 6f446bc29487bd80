"""The embedding model behind one small interface, so the runtime can change without touching search.

Everything else in policyqa speaks to an `Embedder`: a name for its vector space (`identity`), the
vectors' `dimension`, `encode(texts)` giving float32 unit vectors, and `vocabulary()`, the model's
whole-word tokens (query expansion embeds them once per model). This package is the only part of
policyqa that imports torch, sentence-transformers, onnxruntime or tokenizers, and only when a
model is first used, so a process that never encodes never pays for the import.

Runtimes (`Settings.runtime`, POLICYQA_RUNTIME):
- "onnx" (default; onnx_runtime.py): ONNX Runtime and `tokenizers`, no torch at query time. The
  ONNX file is exported from the packaged weights once per model into the cache folder
  (onnx_export.py). Falls back to torch, with a logged note, when onnxruntime is not installed.
- "torch" (torch_runtime.py): sentence-transformers, the reference.

`load_embedder(settings)` is the only entry point; a new runtime is one module here and one entry
in RUNTIMES (a factory of Settings, importing its module only when called).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from ..config import Settings
from ..errors import IndexError_

if TYPE_CHECKING:
    from .onnx_runtime import OnnxEmbedder
    from .torch_runtime import SentenceTransformerEmbedder

Progress = Callable[[str, int, int], None]  # (stage, done, total)


@runtime_checkable
class Embedder(Protocol):
    """What policyqa needs of an embedding model."""

    @property
    def identity(self) -> str:
        """Names the vector space: stored vectors are reused only under the same identity."""
        ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], progress: Progress | None = None, stage: str = "embed",
               batch_size: int = 64) -> np.ndarray:
        """float32 unit vectors, one row per text (shape (0, dimension) for no texts)."""
        ...

    def vocabulary(self) -> list[str]:
        """The model's tokenizer vocabulary in id order (word pieces included; expansion filters)."""
        ...


def batched_encode(encode_batch: Callable[[list[str]], np.ndarray], dimension: Callable[[], int],
                   texts: Sequence[str], progress: Progress | None, stage: str,
                   batch_size: int) -> np.ndarray:
    """Encode in batches with progress after each (the torch runtime's `encode`)."""
    texts = list(texts)
    out = []
    for i in range(0, len(texts), batch_size):
        out.append(encode_batch(texts[i : i + batch_size]))
        if progress:
            progress(stage, min(i + batch_size, len(texts)), len(texts))
    if not out:
        return np.zeros((0, dimension()), dtype=np.float32)
    return np.vstack(out).astype(np.float32, copy=False)


def _torch(settings: Settings) -> Embedder:
    from .torch_runtime import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(settings.model)


def _onnx(settings: Settings) -> Embedder:
    try:  # about 0.1 s, paid here rather than at the first question
        import onnxruntime  # noqa: F401
        import tokenizers  # noqa: F401
    except ImportError as exc:
        logging.getLogger("policyqa").warning(
            "policyqa: ONNX Runtime unavailable (%s); embedding with torch (slower to start)", exc)
        return _torch(settings)
    from .onnx_runtime import OnnxEmbedder

    return OnnxEmbedder(settings)


RUNTIMES: dict[str, Callable[[Settings], Embedder]] = {
    "onnx": _onnx,
    "torch": _torch,
}


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (the model is loaded at its first use, not here)."""
    try:
        make = RUNTIMES[settings.runtime]
    except KeyError:
        raise IndexError_(f"unknown embedding runtime {settings.runtime!r}; "
                          f"choose one of {', '.join(RUNTIMES)}") from None
    return make(settings)


def __getattr__(name: str):
    """The implementations by name (`from policyqa.embedding import OnnxEmbedder`), imported lazily."""
    if name == "OnnxEmbedder":
        from .onnx_runtime import OnnxEmbedder

        return OnnxEmbedder
    if name == "SentenceTransformerEmbedder":
        from .torch_runtime import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Embedder", "OnnxEmbedder", "Progress", "RUNTIMES", "SentenceTransformerEmbedder",
           "batched_encode", "load_embedder"]

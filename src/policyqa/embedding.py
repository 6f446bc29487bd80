"""The embedding model behind one small interface, so the runtime can change without touching search.

Everything else in policyqa speaks to an `Embedder`: a name for its vector space (`identity`), the
vectors' `dimension`, `encode(texts)` giving float32 unit vectors, and `vocabulary()`, the model's
whole-word tokens (query expansion embeds them once per model). This module is the only one that
imports torch or sentence-transformers, and only when a model is first used, so a process that
never encodes (eval reports, the page before its first question) never pays for the import.

`load_embedder(settings)` picks the implementation by the `runtime` setting; a new runtime is one
class here and one entry in RUNTIMES.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from .config import Settings, model_identity
from .errors import IndexError_

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
        """The model's tokenizer vocabulary (word pieces included; expansion filters them)."""
        ...


def batched_encode(encode_batch: Callable[[list[str]], np.ndarray], dimension: Callable[[], int],
                   texts: Sequence[str], progress: Progress | None, stage: str,
                   batch_size: int) -> np.ndarray:
    """Encode in batches with progress after each; any runtime's `encode` is this loop."""
    texts = list(texts)
    out = []
    for i in range(0, len(texts), batch_size):
        out.append(encode_batch(texts[i : i + batch_size]))
        if progress:
            progress(stage, min(i + batch_size, len(texts)), len(texts))
    if not out:
        return np.zeros((0, dimension()), dtype=np.float32)
    return np.vstack(out).astype(np.float32, copy=False)


_MODELS: dict[str, object] = {}
_LOAD_LOCK = threading.Lock()


class SentenceTransformerEmbedder:
    """A sentence-transformers model on the CPU, loaded once per process and path, offline."""

    def __init__(self, model: str):
        self.model_name = model
        self._model = None

    @property
    def model(self):
        if self._model is None:
            with _LOAD_LOCK:  # the page's sessions may ask for it at once
                if self.model_name not in _MODELS:
                    os.environ.setdefault("HF_HUB_OFFLINE", "1")
                    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                    from sentence_transformers import SentenceTransformer

                    try:
                        _MODELS[self.model_name] = SentenceTransformer(self.model_name, device="cpu")
                    except Exception as exc:  # many loader errors; one clear message
                        raise IndexError_(
                            f"cannot load embedding model {self.model_name!r} offline: {exc}"
                        ) from exc
            self._model = _MODELS[self.model_name]
        return self._model

    @property
    def identity(self) -> str:
        return model_identity(self.model_name)

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def vocabulary(self) -> list[str]:
        return list(self.model.tokenizer.get_vocab())

    def encode(self, texts: Sequence[str], progress: Progress | None = None, stage: str = "embed",
               batch_size: int = 64) -> np.ndarray:
        def batch(items: list[str]) -> np.ndarray:
            return self.model.encode(items, batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)

        return batched_encode(batch, lambda: self.dimension, texts, progress, stage, batch_size)


RUNTIMES: dict[str, Callable[[str], Embedder]] = {
    "torch": SentenceTransformerEmbedder,
}


def load_embedder(settings: Settings) -> Embedder:
    """The embedder the settings name (the model is loaded at its first use, not here)."""
    try:
        make = RUNTIMES[settings.runtime]
    except KeyError:
        raise IndexError_(f"unknown embedding runtime {settings.runtime!r}; "
                          f"choose one of {', '.join(RUNTIMES)}") from None
    return make(settings.model)

"""The sentence-transformers runtime (torch): the reference the ONNX runtime is tested against,
the fallback when onnxruntime is missing, and what makes the ONNX file."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

import numpy as np

from ..config import model_identity
from ..errors import IndexError_
from . import Progress, batched_encode

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
        """The tokenizer's tokens in id order (get_vocab's own order is a hash map's)."""
        vocab = self.model.tokenizer.get_vocab()
        return sorted(vocab, key=vocab.__getitem__)

    def encode(self, texts: Sequence[str], progress: Progress | None = None, stage: str = "embed",
               batch_size: int = 64) -> np.ndarray:
        def batch(items: list[str]) -> np.ndarray:
            return self.model.encode(items, batch_size=batch_size, normalize_embeddings=True,
                                     convert_to_numpy=True, show_progress_bar=False)

        return batched_encode(batch, lambda: self.dimension, texts, progress, stage, batch_size)

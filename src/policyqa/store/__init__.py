"""Where built indexes live, behind one small interface (base.py), chosen by config.

`backend(settings)` names the backend for the settings: the embedded one (files under index/,
store/embedded.py) unless another is configured. Retrieval, answers and ingestion speak only to
`Store` and `Backend`; none of them imports a backend.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from ..errors import IndexError_
from .base import Backend, Build, Candidates, CorpusFacts, SentenceScores, Store, Terms
from .embedded import EmbeddedBackend

BACKENDS: dict[str, Callable[[Settings], Backend]] = {
    "embedded": lambda settings: EmbeddedBackend(settings.index_dir),
}


def backend(settings: Settings) -> Backend:
    try:
        make = BACKENDS[settings.store]
    except KeyError:
        raise IndexError_(f"unknown store {settings.store!r}; choose one of "
                          f"{', '.join(BACKENDS)}") from None
    return make(settings)


__all__ = ["BACKENDS", "Backend", "Build", "Candidates", "CorpusFacts", "SentenceScores", "Store",
           "Terms", "backend"]

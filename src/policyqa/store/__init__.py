"""Where built indexes live, behind one small interface (base.py), chosen by config.

`backend(settings)` names the backend for the settings: the embedded one (files under index/,
store/embedded.py) unless another is configured, or PostgreSQL + pgvector (store/postgres.py) when
`Settings.database_url` is set. The PostgreSQL module (and psycopg) is imported only when chosen.
Retrieval, answers and ingestion speak only to `Store` and `Backend`; none imports a backend.
"""

from __future__ import annotations

from collections.abc import Callable

from ..config import Settings
from ..errors import IndexError_
from .base import Backend, Build, Candidates, CorpusFacts, SentenceScores, Store, Terms
from .embedded import EmbeddedBackend

BACKENDS: dict[str, Callable[[Settings], Backend]] = {
    "embedded": lambda settings: EmbeddedBackend(settings.index_dir),
    "postgres": lambda settings: _postgres(settings),
}


def _postgres(settings: Settings) -> Backend:
    if not settings.database_url:
        raise IndexError_("the postgres store needs a database URL "
                          "(--database / POLICYQA_DATABASE_URL)")
    from .postgres import PostgresBackend

    return PostgresBackend(settings.database_url, settings)


def backend(settings: Settings) -> Backend:
    try:
        make = BACKENDS[settings.store_name]
    except KeyError:
        raise IndexError_(f"unknown store {settings.store_name!r}; choose one of "
                          f"{', '.join(BACKENDS)}") from None
    return make(settings)


__all__ = ["BACKENDS", "Backend", "Build", "Candidates", "CorpusFacts", "SentenceScores", "Store",
           "Terms", "backend"]

"""A loaded index: the store, the embedder and the settings, and the policy for (re)building it.

`load_index(settings, rebuild=...)` opens the current version when it matches the corpus and the
settings. A missing, stale or damaged index is rebuilt under "auto" (its reason logged), refused
under "never" (the reason is the error), and "always" rebuilds regardless. The page loads with
"never" and builds with a progress bar itself.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings, model_identity
from .embedding import Embedder, load_embedder
from .errors import IndexError_
from .expansion import load_lexicon
from .ingest import BuildReport, NoDocumentsError, Progress, build_index
from .manifest import staleness
from .store import Backend, Store, backend

log = logging.getLogger("policyqa")

REBUILD = ("auto", "never", "always")
FOLLOW_SECONDS = 5.0  # how often a long-running reader asks whether a newer version is current

__all__ = ["REBUILD", "BuildReport", "Index", "IndexError_", "NoDocumentsError", "build_index",
           "follow", "load_index", "staleness"]


@dataclass(eq=False)
class Index:
    """What a question needs: the store to search, the model to encode it, the settings.

    `known_vectors` are vectors this model already made for exact texts (the corpus vocabulary
    and the model's own words), so a question's words are looked up instead of encoded: that
    encoding was most of a query's time. `derived` memoizes what a module computes once per
    loaded index (normalized texts for quote lookup, document names), held by the index itself
    so a rebuilt index never inherits an old one's.
    """

    settings: Settings
    store: Store
    embedder: Embedder
    known_vectors: Mapping[str, np.ndarray] = field(default_factory=dict)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _checked: float = field(default_factory=time.monotonic, repr=False)  # follow()'s last look

    @property
    def path(self) -> Path:
        return Path(self.store.location)

    @property
    def manifest(self) -> dict:
        return self.store.manifest

    @property
    def documents(self):
        return self.store.documents

    @property
    def structures(self):
        return self.store.structures

    @property
    def chunks(self):
        return self.store.chunks

    def derived(self, key: str, make: Callable[[], Any]) -> Any:
        """`make()` computed once per store (thread-safe), for per-corpus look-up tables.

        Each entry holds the store it was made from and is used only for that same object, so
        an index copied with another store (dataclasses.replace) never reads the old tables.
        """
        with self._lock:
            entry = self._derived.get(key)
            if entry is None or entry[0] is not self.store:
                entry = self._derived[key] = (self.store, make())
            return entry[1]


def _usable(settings: Settings, store: Backend) -> tuple[bool, str]:
    """(an index exists, why it cannot be used: "" if it can)."""
    manifest, reason = store.current_manifest()
    if manifest is None or reason:
        return manifest is not None, reason
    try:
        return True, staleness(settings, manifest, corpus=not store.shared) or ""
    except Exception as exc:  # valid JSON of the wrong shape
        return True, f"unreadable index manifest ({type(exc).__name__}: {exc})"


def _open(settings: Settings, store: Backend) -> Index:
    opened = store.open(settings)
    embedder = load_embedder(settings)
    known: dict[str, np.ndarray] = {}
    if model_identity(settings.model) == opened.manifest.get("model"):
        known.update(zip(opened.vocabulary.words, opened.vocabulary.vectors, strict=True))
        lexicon = load_lexicon(settings.cache_dir, embedder.identity, opened.manifest["dimension"])
        if lexicon is not None:
            known.update(zip(lexicon.words, lexicon.vectors, strict=True))
    return Index(settings, opened, embedder, known)


def rebuild_blocked(settings: Settings) -> str:
    """Why this process cannot rebuild the index from its corpus folder ("" when it can): the
    folder is not there (a share not mounted on this machine, a folder moved), or this user
    may read the index and not write it (the agency's IT builds /srv/index, staff ask from it).
    An index that exists then answers as it stands (_as_it_stands), rather than fail every
    question until someone rebuilds it."""
    corpus = Path(settings.corpus_dir)
    if not corpus.is_dir():
        return (f"corpus folder not found: {corpus}; mount it, or name the folder it moved to "
                "with --corpus")
    why = backend(settings).unwritable()
    return f"{why}; run `policyqa ingest` as a user who can write it" if why else ""


def _as_it_stands(settings: Settings, store: Backend, reason: str, blocked: str) -> Index:
    """The current index, though it may not hold the corpus's latest changes, with a warning:
    only where the corpus is its one difference. An index of another model, other code or
    settings, or a damaged one, would mislead, and is refused with the reason."""
    manifest, _ = store.current_manifest()
    if manifest and not staleness(settings, manifest, corpus=False):
        index = _open(settings, store)
        found = Path(settings.corpus_dir).is_dir()
        log.warning("policyqa: answering from the index built %s as it stands (%s): it cannot be "
                    "rebuilt here (%s)", manifest.get("created", "earlier"),
                    reason if found else "its corpus folder is not there to compare with",
                    blocked)
        return index
    raise IndexError_(f"index is not usable: {reason}, and it cannot be rebuilt here ({blocked})")


def load_index(settings: Settings, rebuild: str = "auto",
               progress: Progress | None = None) -> Index:
    """Open the current index; rebuild it if missing, stale or damaged ("auto"), always
    ("always"), or fail with the reason ("never").

    A damaged or mismatched index is never used: its reason is logged when rebuilding, and is the
    error message under "never". A shared store (the database) is only rebuilt when asked
    ("always", i.e. `policyqa ingest`): under "auto" its readers take its current version without
    comparing it to a corpus folder of their own, and fail with the reason when it is unusable
    rather than replace what every other server reads with their folder's documents. An index
    that cannot be rebuilt here (its corpus folder missing, or not writable to this user) answers
    while only its corpus may differ, with a warning (rebuild_blocked).
    """
    if rebuild not in REBUILD:
        raise ValueError(f"rebuild must be one of {', '.join(REBUILD)}, not {rebuild!r}")
    store = backend(settings)
    if store.shared and rebuild == "auto":
        rebuild = "never"
    exists, reason = _usable(settings, store)
    if rebuild == "always":
        reason = reason or "a rebuild was asked for"
    elif not reason:
        try:
            return _open(settings, store)
        except IndexError_ as exc:  # damaged: rebuilt or refused below
            reason = str(exc)
    blocked = "" if store.shared or not exists or rebuild == "always" else rebuild_blocked(settings)
    if blocked:
        return _as_it_stands(settings, store, reason, blocked)
    if rebuild == "never":
        where = " --database URL" if store.shared else ""
        raise IndexError_(f"index is not usable: {reason}. Run `policyqa ingest{where}`.")
    if exists and rebuild == "auto":  # an index exists but must not be used: say why it is replaced
        log.warning("policyqa: rebuilding the index from %s: %s",
                    Path(settings.corpus_dir).resolve(), reason)
    build_index(settings, progress)
    _exists, reason = _usable(settings, store)
    if reason:
        raise IndexError_(f"the index just built is not usable: {reason}")
    return _open(settings, store)


def follow(index: Index, every: float = FOLLOW_SECONDS) -> Index:
    """The index a long-running reader (`serve`, the page) should answer with now: `index`, or
    the store's current version when another process has published a newer one since.

    Why: several servers read one database, and `policyqa ingest` on any machine makes a new
    version current; without this a server would answer from its old version until restarted,
    and fail once that version is pruned. At most one look every `every` seconds (one small
    query); a newer version that these settings cannot use, or that fails to open, is logged and
    the loaded one kept, so a bad build elsewhere never takes a working server down.
    """
    now = time.monotonic()
    with index._lock:
        if now - index._checked < every:
            return index
        index._checked = now
    store = backend(index.settings)
    try:
        manifest, reason = store.current_manifest()
        if manifest is None or reason or manifest == index.manifest:
            return index
        unusable = staleness(index.settings, manifest, corpus=False)
        if unusable:
            log.warning("policyqa: a newer index version is current but not used: %s", unusable)
            return index
        fresh = _open(index.settings, store)
    except IndexError_ as exc:
        log.warning("policyqa: still answering from %s: %s", index.path.name, exc)
        return index
    log.info("policyqa: now answering from %s", fresh.path.name)
    return fresh

"""What an index was built from, and why it no longer matches (staleness).

Every build records the package version, a hash of the code that shaped its stored data, the
model, the settings that change what is stored, and a hash of every corpus file. A mismatch in
any of them means the index would mislead, so it is rebuilt (or refused under `rebuild="never"`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import stat
import time
from functools import lru_cache
from pathlib import Path

from . import __version__
from .config import Settings, model_identity
from .documents import METADATA_FILE, Skipped, corpus_files, corpus_name, not_a_file

PACKAGE = Path(__file__).resolve().parent


# Relative imports, lazy ones inside functions included; a parenthesised name list may span lines.
_RELATIVE_IMPORT = re.compile(r"^[ \t]*from[ \t]+(\.+)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)",
                              re.MULTILINE)
_ABSOLUTE_IMPORT = re.compile(r"^[ \t]*(?:from|import)[ \t]+policyqa\.([\w.]+)", re.MULTILINE)


@lru_cache(maxsize=1)
def pipeline_modules() -> tuple[str, ...]:
    """The package's modules that ingestion runs, found by following its imports from ingest.py.

    Derived, not listed: a module ingestion comes to use (a new file reader, the tokenizer) is
    covered the day it is imported, so changing stop words rebuilds the index. Imports are read
    with a regular expression rather than parsed: this runs at every command's start, and parsing
    two dozen modules took 60 ms of a cold question (tests/test_manifest.py checks the result
    against what a fresh interpreter really imports).
    """
    seen: set[Path] = set()
    todo = [PACKAGE / "ingest.py"]
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file():
            continue
        seen.add(path)
        source = path.read_text(encoding="utf-8")
        for dots, module, names in _RELATIVE_IMPORT.findall(source):
            base = path.parent
            for _ in range(len(dots) - 1):
                base = base.parent
            target = base.joinpath(*module.split(".")) if module else base
            todo += [target.with_suffix(".py"), target / "__init__.py"]
            todo += [target / f"{name.split()[0]}.py"
                     for name in names.strip("()").replace("\n", " ").split(",") if name.strip()]
        for module in _ABSOLUTE_IMPORT.findall(source):
            target = PACKAGE.joinpath(*module.split("."))
            todo += [target.with_suffix(".py"), target / "__init__.py"]
    return tuple(sorted(p.relative_to(PACKAGE).as_posix() for p in seen))


def pipeline_hash() -> str:
    """Hash of the stages whose output is stored, so a code change rebuilds rather than misleads."""
    digest = hashlib.sha256()
    for name in pipeline_modules():
        digest.update(name.encode() + b"\0" + (PACKAGE / name).read_bytes())
    return digest.hexdigest()[:16]


def file_hash(path: Path) -> str:
    """sha256 of a file; an unreadable file gets a marker so the build can report it, not crash.
    An entry that is no file (a pipe, a broken link: documents.not_a_file) is never opened."""
    why = not_a_file(path)
    if why:
        return f"unreadable ({why})"
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"


# A file last changed this long ago has its stat recorded: a later change moves its ctime to
# another value even where the file system keeps times in coarse steps (FAT's 2 s).
SETTLED_NS = 2_000_000_000


def file_signature(path: Path) -> list[int] | None:
    """A regular file's size, mtime, ctime and inode: any write through the file system moves
    its ctime, which no program can set back (copying a file's old mtime onto it, as `cp -p`
    and rsync do, moves it too). None for anything else."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino] if stat.S_ISREG(st.st_mode) \
        else None


def corpus_state(corpus_dir: Path, manifest: dict | None = None
                 ) -> tuple[dict[str, str], dict[str, list[int]]]:
    """Every corpus file's sha256 (file_hash) and, for each settled one, its signature.

    A file whose signature is the one `manifest` recorded keeps the hash recorded with it,
    unread: a fresh `policyqa ask` checks a corpus for changes by stat alone, instead of reading
    every file (1,224 files of 49 MB: 70 ms read and hashed, a second or more for a corpus of
    hundreds of megabytes or on a network share). Signatures are taken before a file is read,
    so a change while it is read shows at the next check."""
    if not Path(corpus_dir).is_dir():
        return {}, {}
    files = corpus_files(corpus_dir)
    meta = Path(corpus_dir) / METADATA_FILE
    if meta.exists():
        files.append(meta)
    stored, stored_stat = ((manifest or {}).get(key) for key in ("corpus", "corpus_stat"))
    if not (isinstance(stored, dict) and isinstance(stored_stat, dict)):  # an older or odd one
        stored, stored_stat = {}, {}
    settled = time.time_ns() - SETTLED_NS
    hashes: dict[str, str] = {}
    signatures: dict[str, list[int]] = {}
    for path in files:
        name = corpus_name(corpus_dir, path)
        signature = file_signature(path)
        if signature and stored_stat.get(name) == signature and name in stored:
            hashes[name] = stored[name]
        else:
            hashes[name] = file_hash(path)
        if signature and max(signature[1], signature[2]) < settled:
            signatures[name] = signature
    return hashes, signatures


def corpus_hashes(corpus_dir: Path, manifest: dict | None = None) -> dict[str, str]:
    """Every corpus file's sha256, by name (corpus_state)."""
    return corpus_state(corpus_dir, manifest)[0]


def make_manifest(settings: Settings, corpus: dict[str, str], dimension: int, counts: dict,
                  skipped: list[Skipped]) -> dict:
    return {
        "package_version": __version__,
        "pipeline": pipeline_hash(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "model": model_identity(settings.model),
        "runtime": settings.runtime,  # for information: the runtimes' vectors are interchangeable
        "dimension": int(dimension),
        "fingerprint": settings.index_fingerprint(),
        "corpus": corpus,
        # Where the files were read from: `policyqa ask --index X` with no --corpus answers from
        # this folder (config.built_from), not from the project's corpus/.
        "corpus_dir": str(Path(settings.corpus_dir).resolve()),
        "counts": counts,
        "skipped": [dataclasses.asdict(s) for s in skipped],
    }


def build_key(settings: Settings) -> str:
    """What one document's share of a build depends on (the package, the ingestion code, the
    model and the settings that change stored data): the workers of a shared ingest pool their
    shares only under the same key (store/postgres_jobs.py)."""
    identity = {"package_version": __version__, "pipeline": pipeline_hash(),
                "fingerprint": settings.index_fingerprint()}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


def staleness(settings: Settings, manifest: dict, corpus: bool = True) -> str | None:
    """Why an index no longer matches the corpus or settings, or None if it does.
    `corpus=False`: the settings and code only (a shared store's reader has no corpus of its own)."""
    if manifest.get("package_version") != __version__:
        return f"built by policyqa {manifest.get('package_version')}, this is {__version__}"
    if manifest.get("pipeline") != pipeline_hash():
        return "the ingestion code changed since the index was built"
    if manifest.get("model") != model_identity(settings.model):
        return (f"built with model {manifest.get('model')!r}, "
                f"settings use {model_identity(settings.model)!r}")
    if manifest.get("fingerprint") != settings.index_fingerprint():
        return "model or chunking settings changed"
    if not corpus:
        return None
    difference = corpus_difference(corpus_hashes(settings.corpus_dir, manifest),
                                   manifest.get("corpus", {}))
    return f"corpus changed ({difference})" if difference else None


def corpus_difference(current: dict[str, str], stored: dict[str, str]) -> str | None:
    """The files added, removed and changed from `stored` to `current` (corpus_hashes), as
    "added: a; changed: b", or None when they are the same."""
    if current == stored:
        return None
    added = sorted(set(current) - set(stored))
    removed = sorted(set(stored) - set(current))
    changed = sorted(k for k in set(current) & set(stored) if current[k] != stored[k])
    return "; ".join(f"{label}: {', '.join(v)}" for label, v in
                     (("added", added), ("removed", removed), ("changed", changed)) if v)

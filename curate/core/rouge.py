"""ROUGE-L F1 near-duplicate filtering with Alpaca's semantics, exact and fast.

Reference: Alpaca's ``generate_instruction.py`` (and self-instruct's ``bootstrap_instructions.py``)
drop a new instruction when ``max(rouge_scorer._score_lcs(new, old).fmeasure) > 0.7`` over the seed
tasks and every instruction kept before it, tokenised by rouge-score's default tokenizer without
stemming. ROUGE-L F1 of token lists a, b is ``2*P*R/(P+R)`` with ``P = LCS/|b|``, ``R = LCS/|a|``
(= ``2*LCS/(|a|+|b|)``), and 0 when either list is empty (Lin 2004; rouge-score 0.1.2).

Speed without changing a decision: each token becomes one Unicode code point, so a token list is
a string and rapidfuzz's compiled, bit-parallel ``Indel`` distance gives the LCS
(``LCS = (m + n - indel) / 2``; ``Indel.normalized_similarity == 2*LCS/(m+n)``). ``process.cdist``
screens pairs in C++ with a cutoff just below the threshold; every surviving pair is then
rescored with rouge-score's exact floating-point formula, so decisions, scores and the matched
record are identical to the reference.

Exact pruning: since LCS <= min(m, n), F1 <= 2*min(m,n)/(m+n), so a pair can only pass when the
shorter list has at least ``t*L/(2-t)`` tokens (L = the longer one's; 0.54*L at t = 0.7). Like
Alpaca's loop, :func:`greedy_filter` compares each text with the texts kept before it only: in
chunks of the data, each chunk screened against the kept pool's compatible length band
(:func:`band_tasks`) and against itself (:func:`screen_blocks`). Dropped texts never join the
pool, so a corpus of near-duplicates costs (texts x kept texts). Measured numbers:
docs/dedupe.md, ``benchmarks/rouge_dedupe.py``, ``benchmarks/scale.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import partial
from typing import Callable, Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel, LCSseq

from curate.core.progress import progress

# cdist's float score can differ from rouge-score's in the last bits: screen a little low.
_SCREEN_EPS = 1e-6


_TOKEN = re.compile(r"[a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """rouge-score's ``rougeL`` tokens without stemmer: lowercase, ``[a-z0-9]+`` runs.

    Same list as ``rouge_score.tokenize.tokenize(text, None)`` (which replaces
    ``[^a-z0-9]+`` by spaces, splits and keeps ``^[a-z0-9]+$`` tokens), in one ``findall``."""
    return _TOKEN.findall(text.lower())


def rouge_l_f1(lcs: int, m: int, n: int) -> float:
    """ROUGE-L F1 from an LCS length and the two token counts, computed in exactly the order
    of rouge-score's ``_score_lcs`` + ``scoring.fmeasure`` so ties at the threshold agree."""
    if m == 0 or n == 0:
        return 0.0
    precision = lcs / n
    recall = lcs / m
    if precision + recall > 0:
        return 2 * precision * recall / (precision + recall)
    return 0.0


class TokenCodec:
    """Maps each distinct token to one Unicode code point, so token lists become strings."""

    def __init__(self) -> None:
        self._codes: dict[str, str] = {}

    @classmethod
    def by_frequency(cls, token_lists: Sequence[Sequence[str]]) -> "TokenCodec":
        """A codec whose code points follow token frequency (most frequent first): the 256
        most frequent tokens get code points < 256, which rapidfuzz looks up in a flat table
        (rarer ones go through its hash map), ~1.3x faster screening. Any bijection gives
        the same LCS, so scores do not change."""
        return cls.from_counts(Counter(t for toks in token_lists for t in toks))

    @classmethod
    def from_counts(cls, counts: Counter) -> "TokenCodec":
        """:meth:`by_frequency` from token counts already made (``Counter`` of token -> count)."""
        codec = cls()
        for k, (t, _) in enumerate(sorted(counts.items(), key=lambda x: (-x[1], x[0]))):
            codec._codes[t] = chr(codec._code_point(k))
        return codec

    @staticmethod
    def _code_point(k: int) -> int:
        if k >= 0xD800:  # skip the surrogate block
            k += 0x800
        if k > 0x10FFFF:
            raise ValueError("more than 1.1M distinct tokens")
        return k

    def encode(self, tokens: Sequence[str]) -> str:
        out = []
        for t in tokens:
            c = self._codes.get(t)
            if c is None:
                c = self._codes[t] = chr(self._code_point(len(self._codes)))
            out.append(c)
        return "".join(out)


def exact_scores(query: str, pool: Sequence[str]) -> np.ndarray:
    """ROUGE-L F1 of one encoded token string against every encoded string in ``pool``.

    Returns float64 array of shape ``(len(pool),)``, identical to rouge-score's fmeasure.
    """
    m = len(query)
    return np.array([rouge_l_f1(int(LCSseq.similarity(query, p)), m, len(p)) for p in pool])


@dataclass
class RougeDecision:
    """Result for one record: ``keep``; when dropped, the pool index and score of the most
    similar earlier kept text (first one on ties)."""

    keep: bool
    matched: int | None = None
    score: float = 0.0


def length_lower_bound(length: int, cutoff: float) -> int:
    """Smallest token count ``l <= length`` whose ROUGE-L F1 with a ``length``-token list can
    reach ``cutoff``: F1 = 2*LCS/(l+length) <= 2*l/(l+length) (LCS <= min), so a pair can only
    pass when ``l >= cutoff*length/(2-cutoff)``. Rounded down (and one token lower) so the
    bound never excludes a pair the exact score would keep."""
    if cutoff <= 0:
        return 0
    return max(int(np.floor(cutoff * length / (2.0 - cutoff))) - 1, 0)


def _sparse_nonzero(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.nonzero`` of a C-contiguous 2-D matrix (itemsize 1, 2, 4 or 8) with few nonzeros:
    scans whole uint64 words (two float32 cells each) and expands only the nonzero ones,
    ~10x faster than ``np.nonzero`` on the cdist screens (a 0.0 float32 has all bits zero)."""
    per = 8 // m.itemsize
    flat = m.reshape(-1)
    pad = (-len(flat)) % per
    if pad:
        flat = np.concatenate([flat, np.zeros(pad, dtype=m.dtype)])
    words = np.flatnonzero(flat.view(np.uint64))
    idx = (words[:, None] * per + np.arange(per)).reshape(-1)
    idx = idx[flat[idx] != 0]
    return np.divmod(idx, m.shape[1])


def screen_blocks(lengths: Sequence[int] | np.ndarray, cutoff: float,
                  max_cells: int = 1 << 22) -> tuple[np.ndarray, list[tuple[int, int, int]]]:
    """How a set of strings is screened against itself: ``(order, blocks)``. ``order`` sorts the strings by
    length (stable); each block ``(s, e, lo)`` screens the queries ``s:e`` of that order against
    the strings ``lo:e``, those not longer than its last query and not shorter than
    :func:`length_lower_bound` of its first one. Together the blocks cover every pair that can
    reach ``cutoff``, each once; a block's float32 score matrix stays under ``max_cells``."""
    lens = np.asarray(lengths, dtype=np.int64)
    n = len(lens)
    order = np.argsort(lens, kind="stable")
    slen = lens[order]
    blocks = []
    s = 0
    while s < n:
        lo_pos = int(np.searchsorted(slen, length_lower_bound(int(slen[s]), cutoff), "left"))
        # queries per block: keep the block x choices float32 matrix under max_cells
        b = 4096
        while b > 64 and b * (min(s + b, n) - lo_pos) > max_cells:
            b //= 2
        e = min(s + b, n)
        blocks.append((s, e, lo_pos))
        s = e
    return order, blocks


def length_upper_bound(length: int, cutoff: float) -> int:
    """Largest token count ``l >= length`` whose ROUGE-L F1 with a ``length``-token list can
    reach ``cutoff``: the mirror of :func:`length_lower_bound` (``length >= cutoff*l/(2-cutoff)``,
    so ``l <= length*(2-cutoff)/cutoff``), rounded up by one token so it never excludes a pair.
    A huge number for ``cutoff <= 0``."""
    if cutoff <= 0:
        return 1 << 62
    return int(np.floor(length * (2.0 - cutoff) / cutoff)) + 1


#: A screen: ``screen(pool, tasks, cutoff)`` -> one ``(rows, cols)`` pair of int64 arrays per
#: task ``(queries, lo, hi)``: the cells where the Indel normalized similarity of ``queries[r]``
#: and ``pool[lo + c]`` is ``>= cutoff``, with ``cols`` already offset by ``lo``.
Screen = Callable[[Sequence[str], Sequence[tuple[Sequence[str], int, int]], float],
                  list[tuple[np.ndarray, np.ndarray]]]


def screen_tasks(pool: Sequence[str], tasks: Sequence[tuple[Sequence[str], int, int]], cutoff: float,
                 workers: int = -1) -> list[tuple[np.ndarray, np.ndarray]]:
    """The default :data:`Screen`, in this process: rapidfuzz ``cdist`` with ``score_cutoff`` on
    ``workers`` threads per task (-1 = all cores). ``executor: ray`` runs the tasks as Ray tasks
    instead (:func:`curate.dedupe.distributed.rouge_screen`)."""
    out = []
    for queries, lo, hi in tasks:
        if not len(queries) or hi <= lo:
            out.append((np.zeros(0, np.int64), np.zeros(0, np.int64)))
            continue
        sims = process.cdist(queries, pool[lo:hi], scorer=Indel.normalized_similarity,
                             score_cutoff=cutoff, dtype=np.float32, workers=workers)
        r, c = _sparse_nonzero(sims)
        out.append((r.astype(np.int64), (c + lo).astype(np.int64)))
    return out


def band_tasks(query_lengths: np.ndarray, pool_lengths: np.ndarray, cutoff: float,
               max_cells: int = 1 << 22) -> list[tuple[int, int, int, int]]:
    """Blocks ``(s, e, lo, hi)`` that screen length-sorted queries ``s:e`` against the
    length-sorted pool ``lo:hi``: every pool string whose length lies between
    :func:`length_lower_bound` of query ``s`` and :func:`length_upper_bound` of query ``e-1``,
    so no pair that can reach ``cutoff`` is missed; each block's score matrix stays under
    ``max_cells`` (down to 64 queries)."""
    n = len(query_lengths)
    blocks, s = [], 0
    while s < n:
        lo = int(np.searchsorted(pool_lengths, length_lower_bound(int(query_lengths[s]), cutoff), "left"))
        b = 4096
        while True:
            e = min(s + b, n)
            hi = int(np.searchsorted(pool_lengths, length_upper_bound(int(query_lengths[e - 1]), cutoff), "right"))
            if b <= 64 or b * (hi - lo) <= max_cells:
                break
            b //= 2
        blocks.append((s, e, lo, hi))
        s = e
    return blocks


def greedy_filter(texts: Sequence[str], threshold: float = 0.7,
                  seeds: Sequence[str] = (), workers: int = -1,
                  desc: str | None = None, screen: Screen | None = None,
                  chunk: int = 8192) -> list[RougeDecision]:
    """Alpaca's order-dependent ROUGE-L filter over a whole dataset.

    ``texts[i]`` is dropped when its ROUGE-L F1 with any seed or any *kept* ``texts[j]`` (j < i)
    is ``> threshold``; a dropped text blocks nothing. Returns one decision per text; ``matched``
    indexes ``seeds + texts`` (seeds first) and is the first (lowest index) of the most
    similar kept texts; ``score`` is rouge-score's float F1 (``rouge_scorer._score_lcs``).

    Method (decisions bit-identical to the reference loop of Alpaca's
    ``generate_instruction.py``, which also compares each text with the kept ones only): the
    texts go in data order, ``chunk`` at a time. Each chunk is screened (1) against the seeds
    and the texts kept so far, sorted by length and cut into compatible length bands
    (:func:`band_tasks`), and (2) against itself (:func:`screen_blocks`), keeping every pair
    whose rapidfuzz Indel similarity is ``>= threshold - 1e-6``; the greedy pass then rescores
    only those candidates with rouge-score's float formula (:func:`rouge_l_f1`). Dropped texts
    never join the pool, so on a corpus full of near-duplicates the cost grows with
    (texts x kept texts), not (texts x texts). ``screen``: how the cells are screened
    (:data:`Screen`; default :func:`screen_tasks` on ``workers`` threads; ``executor: ray``
    passes Ray tasks); the decisions do not depend on it. ``desc``: label of a progress bar
    over the texts (stderr; None: no bar). Memory: the encoded texts (one code point per
    token) plus one chunk's candidate pairs. Raises ``ValueError`` for more than 1.1M distinct
    tokens.
    """
    all_texts = list(seeds) + list(texts)
    counts: Counter = Counter()
    for t in all_texts:  # two passes (count, then encode) instead of holding every token list
        counts.update(tokenize(t))
    codec = TokenCodec.from_counts(counts)
    pool = [codec.encode(tokenize(t)) for t in all_texts]
    del all_texts, counts
    s, n = len(seeds), len(pool)
    lens = np.fromiter((len(p) for p in pool), dtype=np.int64, count=n)
    cutoff = max(threshold - _SCREEN_EPS, 0.0)
    if screen is None:
        screen = partial(screen_tasks, workers=workers)
    kept = [True] * n
    kept_idx = list(range(s))  # seeds always block
    decisions: list[RougeDecision] = []
    bar = progress(total=n - s, desc=desc, enabled=desc is not None)
    for a in range(s, n, chunk):
        b = min(a + chunk, n)
        his, los = [], []
        # (1) against the pool kept so far, by length band
        if kept_idx:
            kidx = np.asarray(kept_idx, dtype=np.int64)
            kidx = kidx[np.argsort(lens[kidx], kind="stable")]
            kpool = [pool[k] for k in kidx]
            qorder = a + np.argsort(lens[a:b], kind="stable")
            qpool = [pool[k] for k in qorder]
            blocks = band_tasks(lens[qorder], lens[kidx], cutoff)
            parts = screen(kpool, [(qpool[qs:qe], lo, hi) for qs, qe, lo, hi in blocks], cutoff)
            for (qs, _, _, _), (r, c) in zip(blocks, parts):
                his.append(qorder[r + qs])
                los.append(kidx[c])
        # (2) within the chunk: each unordered pair once, partner earlier in length order
        order, blocks = screen_blocks(lens[a:b], cutoff)
        cpool = [pool[a + k] for k in order]
        parts = screen(cpool, [(cpool[qs:qe], lo, qe) for qs, qe, lo in blocks], cutoff)
        for (qs, _, _), (r, c) in zip(blocks, parts):
            p = r + qs
            sel = c < p
            x, y = a + order[p[sel]], a + order[c[sel]]
            his.append(np.maximum(x, y))
            los.append(np.minimum(x, y))
        hi = np.concatenate(his) if his else np.zeros(0, np.int64)
        lo = np.concatenate(los) if los else np.zeros(0, np.int64)
        idx = np.lexsort((lo, hi))
        hi, lo = hi[idx], lo[idx]
        bounds = np.searchsorted(hi, np.arange(a, b + 1), "left").tolist()
        lo_list = lo.tolist()
        for i in range(a, b):
            x, y = bounds[i - a], bounds[i - a + 1]
            best, best_j = 0.0, None
            if x < y:
                q = pool[i]
                m = len(q)
                for j in lo_list[x:y]:  # ascending: the first maximum wins ties, like np.argmax
                    if kept[j]:
                        pj = pool[j]
                        f = rouge_l_f1(int(LCSseq.similarity(q, pj)), m, len(pj))
                        if f > best:
                            best, best_j = f, j
            if best > threshold:
                kept[i] = False
                decisions.append(RougeDecision(False, best_j, best))
            else:
                kept_idx.append(i)
                decisions.append(RougeDecision(True))
        bar.update(b - a)
    bar.close()
    return decisions


class RougePool:
    """A growing pool of texts for self-instruct generation: score a candidate against
    everything added so far with the same exact ROUGE-L as :func:`greedy_filter`."""

    def __init__(self, texts: Sequence[str] = ()) -> None:
        self.codec = TokenCodec()
        self.texts: list[str] = []
        self.encoded: list[str] = []
        for t in texts:
            self.add(t)

    def add(self, text: str) -> None:
        self.texts.append(text)
        self.encoded.append(self.codec.encode(tokenize(text)))

    def __len__(self) -> int:
        return len(self.texts)

    def scores(self, text: str, threshold: float = 0.0) -> np.ndarray:
        """ROUGE-L F1 of ``text`` against each pooled text, shape ``(len(self),)``. Pairs whose
        score cannot exceed ``threshold`` are screened out and reported as 0.0; with the
        default 0.0 every score is exact."""
        q = self.codec.encode(tokenize(text))
        out = np.zeros(len(self.encoded))
        if not self.encoded:
            return out
        if threshold <= 0:
            return exact_scores(q, self.encoded)
        sims = process.cdist([q], self.encoded, scorer=Indel.normalized_similarity,
                             score_cutoff=max(threshold - _SCREEN_EPS, 0.0), dtype=np.float32)[0]
        for j in np.flatnonzero(sims):
            p = self.encoded[j]
            out[j] = rouge_l_f1(int(LCSseq.similarity(q, p)), len(q), len(p))
        return out

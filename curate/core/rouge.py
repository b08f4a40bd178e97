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
shorter list has at least ``t*L/(2-t)`` tokens (L = the longer one's; 0.54*L at t = 0.7). Texts
are sorted by token count and screened in blocks against the compatible length band only,
each unordered pair once (:func:`candidate_pairs`); the greedy pass then needs only the few
candidate pairs. Measured numbers: docs/dedupe.md, ``benchmarks/rouge_dedupe.py``.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
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
        codec = cls()
        counts = Counter(t for toks in token_lists for t in toks)
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
    """The plan of :func:`candidate_pairs`: ``(order, blocks)``. ``order`` sorts the strings by
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


def block_pairs(spool: Sequence[str], block: tuple[int, int, int], cutoff: float,
                workers: int = -1) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of one :func:`screen_blocks` block: positions ``(p, q)`` into the length-sorted
    pool ``spool`` with ``q < p`` and Indel normalized similarity ``>= cutoff`` (rapidfuzz
    ``cdist`` with ``score_cutoff`` on ``workers`` threads). int64 arrays."""
    s, e, lo_pos = block
    sims = process.cdist(spool[s:e], spool[lo_pos:e], scorer=Indel.normalized_similarity,
                         score_cutoff=cutoff, dtype=np.float32, workers=workers)
    r, c = _sparse_nonzero(sims)
    p = r + s
    q = c + lo_pos
    keep = q < p  # each unordered pair once: partner earlier in length order
    return p[keep].astype(np.int64), q[keep].astype(np.int64)


def sorted_pairs(order: np.ndarray, parts: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Blocks' ``(p, q)`` positions (length order) -> ``(hi, lo)`` pool indices, ``hi > lo``,
    sorted by ``(hi, lo)``: the result of :func:`candidate_pairs` whatever the block order."""
    his = [np.maximum(order[p], order[q]) for p, q in parts]
    los = [np.minimum(order[p], order[q]) for p, q in parts]
    hi = np.concatenate(his) if his else np.zeros(0, dtype=np.int64)
    lo = np.concatenate(los) if los else np.zeros(0, dtype=np.int64)
    idx = np.lexsort((lo, hi))
    return hi[idx].astype(np.int64), lo[idx].astype(np.int64)


def candidate_pairs(pool: Sequence[str], cutoff: float, workers: int = -1,
                    max_cells: int = 1 << 22, desc: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """All unordered pairs of ``pool`` (encoded token strings) whose rapidfuzz Indel
    normalized similarity (= 2*LCS/(m+n), the ROUGE-L F1 up to float rounding) is ``>= cutoff``.

    Strings are sorted by length and compared in blocks of similar length
    (:func:`screen_blocks`): a block of queries only sees the strings that are not longer than
    its last query and not shorter than :func:`length_lower_bound` of its first one, so each
    pair is scored once and length-incompatible pairs never reach ``cdist`` (whose
    ``score_cutoff`` prunes the rest in C++). ``max_cells`` bounds the float32 score matrix held
    at once (default 4M cells = 16 MB, which measured faster than larger blocks: the matrix
    stays in cache). The blocks are independent: ``executor: ray`` screens them as Ray tasks
    (:mod:`curate.dedupe.distributed`) and gets the same pairs.

    Returns ``(hi, lo)``, two int64 arrays of pool indices with ``hi > lo``, sorted by
    ``(hi, lo)``. Each pair appears once. ``desc``: label of a progress bar over the strings
    screened (:func:`curate.core.progress.progress`); None: no bar.
    """
    order, blocks = screen_blocks([len(p) for p in pool], cutoff, max_cells)
    spool = [pool[k] for k in order]
    parts = []
    bar = progress(total=len(pool), desc=desc, enabled=desc is not None)  # texts screened (in length order)
    for block in blocks:
        parts.append(block_pairs(spool, block, cutoff, workers))
        bar.update(block[1] - block[0])
    bar.close()
    return sorted_pairs(order, parts)


def greedy_filter(texts: Sequence[str], threshold: float = 0.7,
                  seeds: Sequence[str] = (), workers: int = -1,
                  desc: str | None = None, pairs: Callable | None = None) -> list[RougeDecision]:
    """Alpaca's order-dependent ROUGE-L filter over a whole dataset.

    ``texts[i]`` is dropped when its ROUGE-L F1 with any seed or any *kept* ``texts[j]`` (j < i)
    is ``> threshold``; a dropped text blocks nothing. Returns one decision per text; ``matched``
    indexes ``seeds + texts`` (seeds first) and is the first (lowest index) of the most
    similar kept texts; ``score`` is rouge-score's float F1 (``rouge_scorer._score_lcs``).

    Method (decisions bit-identical to the reference loop of Alpaca's
    ``generate_instruction.py``): :func:`candidate_pairs` finds every pair whose rapidfuzz
    Indel similarity is ``>= threshold - 1e-6`` (length-banded, in C++ on ``workers``
    threads, -1 = all cores); the greedy pass then walks the texts in order and rescores only
    each text's candidates with earlier kept texts using rouge-score's float formula
    (:func:`rouge_l_f1`). Cost: O(pairs of compatible length) in C++ + O(candidates) in
    Python. ``desc``: label of a progress bar over the screening (stderr; None: no bar).
    ``pairs``: another way to get the candidate pairs, called as ``pairs(pool, cutoff)`` and
    returning what :func:`candidate_pairs` returns (``executor: ray`` screens the blocks as Ray
    tasks); the greedy pass, and so every decision, is the same.
    Raises ``ValueError`` for more than 1.1M distinct tokens.
    """
    tokens = [tokenize(t) for t in list(seeds) + list(texts)]
    codec = TokenCodec.by_frequency(tokens)
    pool = [codec.encode(t) for t in tokens]
    s = len(seeds)
    n = len(pool)
    cutoff = max(threshold - _SCREEN_EPS, 0.0)
    if pairs is None:
        hi, lo = candidate_pairs(pool, cutoff, workers=workers, desc=desc)
    else:
        hi, lo = pairs(pool, cutoff)
    sel = hi >= s  # pairs of two seeds never matter
    hi, lo = hi[sel], lo[sel]
    bounds = np.searchsorted(hi, np.arange(n + 1), "left").tolist()
    lo_list = lo.tolist()
    kept = [True] * n
    decisions: list[RougeDecision] = []
    for i in range(s, n):
        a, b = bounds[i], bounds[i + 1]
        best, best_j = 0.0, None
        if a < b:
            q = pool[i]
            m = len(q)
            for j in lo_list[a:b]:  # ascending: the first maximum wins ties, like np.argmax
                if kept[j]:
                    pj = pool[j]
                    f = rouge_l_f1(int(LCSseq.similarity(q, pj)), m, len(pj))
                    if f > best:
                        best, best_j = f, j
        if best > threshold:
            kept[i] = False
            decisions.append(RougeDecision(False, best_j, best))
        else:
            decisions.append(RougeDecision(True))
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

"""ROUGE-L F1 near-duplicate filtering with Alpaca's semantics, exact and fast.

Reference: Alpaca's ``generate_instruction.py`` (and self-instruct's ``bootstrap_instructions.py``)
drop a new instruction when ``max(rouge_scorer._score_lcs(new, old).fmeasure) > 0.7`` over the seed
tasks and every instruction kept before it, tokenised by rouge-score's default tokenizer without
stemming. ROUGE-L F1 of token lists a, b is ``2*P*R/(P+R)`` with ``P = LCS/|b|``, ``R = LCS/|a|``
(= ``2*LCS/(|a|+|b|)``), and 0 when either list is empty (Lin 2004; rouge-score 0.1.2).

Speed without changing a decision: each token becomes one Unicode code point, so a token list is
a string and rapidfuzz's compiled, bit-parallel ``Indel`` distance gives the LCS
(``LCS = (m + n - indel) / 2``; ``Indel.normalized_similarity == 2*LCS/(m+n)``). ``process.cdist``
screens all pairs in C++ with a cutoff just below the threshold; every surviving pair is then
rescored with rouge-score's exact floating-point formula, so decisions, scores and the matched
record are identical to the reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Indel, LCSseq
from rouge_score import tokenize as rouge_tokenize

# cdist's float score can differ from rouge-score's in the last bits: screen a little low.
_SCREEN_EPS = 1e-6
_CHUNK = 1024  # rows of the cdist matrix held at once (1024 x N float32)


def tokenize(text: str) -> list[str]:
    """rouge-score's ``rougeL`` tokens without stemmer: lowercase, ``[a-z0-9]+`` runs."""
    return rouge_tokenize.tokenize(text, None)


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

    def encode(self, tokens: Sequence[str]) -> str:
        out = []
        for t in tokens:
            c = self._codes.get(t)
            if c is None:
                k = len(self._codes) + 0x100
                if k >= 0xD800:  # skip the surrogate block
                    k += 0x800
                if k > 0x10FFFF:
                    raise ValueError("more than 1.1M distinct tokens")
                c = self._codes[t] = chr(k)
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


def greedy_filter(texts: Sequence[str], threshold: float = 0.7,
                  seeds: Sequence[str] = (), workers: int = -1) -> list[RougeDecision]:
    """Alpaca's order-dependent ROUGE-L filter over a whole dataset.

    ``texts[i]`` is dropped when its ROUGE-L F1 with any seed or any *kept* ``texts[j]`` (j < i)
    is ``> threshold``; a dropped text blocks nothing. Returns one decision per text; ``matched``
    indexes ``seeds + texts`` (seeds first). O(N^2) pairs, screened in C++ (see module doc).
    """
    codec = TokenCodec()
    pool = [codec.encode(tokenize(t)) for t in list(seeds) + list(texts)]
    s = len(seeds)
    kept = np.ones(len(pool), dtype=bool)
    decisions: list[RougeDecision] = []
    cutoff = max(threshold - _SCREEN_EPS, 0.0)
    for start in range(s, len(pool), _CHUNK):
        stop = min(start + _CHUNK, len(pool))
        # Candidates for rows start..stop among pool[:stop]; j < i is enforced below.
        sims = process.cdist(pool[start:stop], pool[:stop], scorer=Indel.normalized_similarity,
                             score_cutoff=cutoff, dtype=np.float32, workers=workers)
        for r in range(stop - start):
            i = start + r
            q = pool[i]
            cand = np.flatnonzero(sims[r, :i])
            cand = cand[kept[cand]]
            best, best_j = 0.0, None
            for j in cand:  # ascending: the first maximum wins ties, like np.argmax
                f = rouge_l_f1(int(LCSseq.similarity(q, pool[j])), len(q), len(pool[j]))
                if f > best:
                    best, best_j = f, int(j)
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

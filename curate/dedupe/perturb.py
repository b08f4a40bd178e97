"""Known duplicates for testing and benchmarking dedupe: deterministic, labelled perturbations of
real records (word drops, adjacent-word swaps, case changes), as in the near-duplicate
benchmarks of the dedup literature (e.g. Lee et al. 2022, *Deduplicating Training Data Makes
Language Models Better*, which plants edited copies to measure recall).

Each copy keeps the source's meaning and almost all of its words, so a dedupe run should drop
it (the source comes first, so the greedy methods keep the source): a case change is an exact
duplicate after normalisation; a dropped or swapped word leaves the output's shingles mostly
shared and the instruction's ROUGE-L F1 above 0.7, by construction of the sources
(:func:`copyable`).
"""

from __future__ import annotations

import random
from typing import Mapping, Sequence

from curate.core.rouge import tokenize

KINDS = ("case", "drop", "swap")


def copyable(instruction: str) -> bool:
    """Whether one edit of ``instruction`` is sure to stay a ROUGE-L near-duplicate (F1 > 0.7).
    With ``n`` ROUGE tokens and at most ``k`` tokens in one whitespace word, dropping a word
    keeps F1 >= 2(n-k)/(2n-k) and swapping two adjacent words keeps LCS >= n-k, F1 >= (n-k)/n;
    both exceed 0.7 when ``n >= 4k`` (0.86 and 0.75 at least). Also needs 4+ words, so that a
    drop happens. "Compute 3 + 4" (4 words, 3 tokens) is not copyable: a swap gives 2/3."""
    words = instruction.split()
    if len(words) < 4:
        return False
    k = max(len(tokenize(w)) for w in words)
    return k > 0 and len(tokenize(instruction)) >= 4 * k


def perturb_text(text: str, kind: str, rng: random.Random) -> str:
    """``text`` with one edit of ``kind``: ``case`` (lowercased, or uppercased when already
    lowercase), ``drop`` (one word removed, when there are 4+), ``swap`` (two adjacent words
    swapped, when there are 2+). Whitespace becomes single spaces for drop and swap. Raises
    ``ValueError`` for another kind."""
    if kind == "case":
        low = text.lower()
        return low if low != text else text.upper()
    words = text.split()
    if kind == "drop":
        if len(words) >= 4:
            del words[rng.randrange(len(words))]
        return " ".join(words)
    if kind == "swap":
        if len(words) >= 2:
            k = rng.randrange(len(words) - 1)
            words[k], words[k + 1] = words[k + 1], words[k]
        return " ".join(words)
    raise ValueError(f"unknown perturbation {kind!r}; expected one of {KINDS}")


def with_known_duplicates(records: Sequence[Mapping[str, str]], n_copies: int, seed: int = 0,
                          fields: Sequence[str] = ("instruction", "input", "output"),
                          ) -> tuple[list[dict], list[dict]]:
    """``records`` followed by ``n_copies`` perturbed copies of sources drawn uniformly (with
    ``random.Random(seed)``, without replacement while there are enough) among the records
    whose instruction is :func:`copyable`.

    Each copy has id ``<source id>~dup<k>`` and every one of ``fields`` edited with one kind
    (cycling through :data:`KINDS`). Returns ``(records_out, labels)``; a label is
    ``{"id", "source_id", "kind"}``. Raises ``ValueError`` when no record qualifies and copies
    were asked for."""
    rng = random.Random(seed)
    out = [dict(r) for r in records]
    pool = [r for r in records if copyable(r["instruction"])]
    if n_copies and not pool:
        raise ValueError("no record has an instruction that one edit keeps a near-duplicate (copyable)")
    sources = rng.sample(pool, n_copies) if n_copies <= len(pool) else [rng.choice(pool) for _ in range(n_copies)]
    labels = []
    for k, src in enumerate(sources):
        kind = KINDS[k % len(KINDS)]
        copy = dict(src, id=f"{src['id']}~dup{k}")
        for f in fields:
            if copy[f]:
                copy[f] = perturb_text(copy[f], kind, rng)
        out.append(copy)
        labels.append({"id": copy["id"], "source_id": src["id"], "kind": kind})
    return out, labels

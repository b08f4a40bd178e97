"""Known duplicates for testing and benchmarking dedupe: deterministic, labelled perturbations of
real records (word drops, adjacent-word swaps, case changes), as in the near-duplicate
benchmarks of the dedup literature (e.g. Lee et al. 2022, *Deduplicating Training Data Makes
Language Models Better*, which plants edited copies to measure recall).

Each copy keeps the source's meaning and almost all of its words, so a dedupe run should drop
it (the source comes first, so the greedy methods keep the source): a case change is an exact
duplicate after normalisation; a dropped or swapped word leaves ROUGE-L F1 above 0.7 on any
instruction of 4+ words, and the output's shingles mostly shared.
"""

from __future__ import annotations

import random
from typing import Mapping, Sequence

KINDS = ("case", "drop", "swap")


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
    whose instruction has 4+ words.

    Each copy has id ``<source id>~dup<k>`` and every one of ``fields`` edited with one kind
    (cycling through :data:`KINDS`). Returns ``(records_out, labels)``; a label is
    ``{"id", "source_id", "kind"}``. Raises ``ValueError`` when no record qualifies and copies
    were asked for."""
    rng = random.Random(seed)
    out = [dict(r) for r in records]
    pool = [r for r in records if len(r["instruction"].split()) >= 4]
    if n_copies and not pool:
        raise ValueError("no record has an instruction of 4+ words to copy")
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

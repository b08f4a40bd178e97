"""ROUGE-L near-duplicate filter: Alpaca's reference loop vs curate's, in one run.

1. Reference: rouge-score ``_score_lcs`` of each instruction against the seed tasks and every
   instruction kept before it (Alpaca's ``generate_instruction.py`` loop), on a sample of the
   real data (first ``--sample`` records). Reports pairs/s.
2. curate's :func:`curate.core.rouge.greedy_filter` on the same sample; asserts identical
   keep/drop decisions, matched indices and float scores; reports pairs/s (the reference's
   pair count divided by our time) and the ratio.
3. curate on growing prefixes of the real 27,740 instructions (5K .. 27.7K), on the real
   instruction+input texts, and on SYNTHETIC sets of 50K and 100K made from the real
   instructions by light perturbation (each synthetic text is a random real instruction with
   random word drops, one adjacent-word swap and sometimes a short-span shuffle). Reference
   hours are estimated as (pairs the reference loop would score) / (its measured pairs/s).

    python benchmarks/rouge_dedupe.py [--sample 2500] [--threshold 0.7] [--max-n 100000]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

from curate.core.rouge import greedy_filter

ROOT = Path(__file__).resolve().parent.parent


def reference(texts, seeds, threshold):
    """Alpaca's loop; returns ``[(keep, matched, score)]`` (matched indexes seeds + texts)
    and the number of pairs scored."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [scorer._tokenizer.tokenize(s) for s in seeds]
    pool_idx = list(range(len(seeds)))
    out, pairs = [], 0
    for i, t in enumerate(texts):
        tok = scorer._tokenizer.tokenize(t)
        scores = [rouge_scorer._score_lcs(tok, p).fmeasure for p in pool]
        pairs += len(pool)
        if scores and max(scores) > threshold:
            out.append((False, pool_idx[int(np.argmax(scores))], max(scores)))
        else:
            out.append((True, None, 0.0))
            pool.append(tok)
            pool_idx.append(len(seeds) + i)
    return out, pairs


def reference_pairs(decisions, n_seeds):
    """Pairs the reference loop scores for these decisions: each text vs seeds + kept so far."""
    pairs, pool = 0, n_seeds
    for d in decisions:
        pairs += pool
        pool += d.keep
    return pairs


def perturb(text: str, rng: random.Random) -> str:
    """Light, synonym-free perturbation of one real text (for the SYNTHETIC scaling sets)."""
    w = text.split()
    if len(w) > 3:
        w = [x for x in w if rng.random() > 0.12] or w
    if len(w) > 2:
        k = rng.randrange(len(w) - 1)
        w[k], w[k + 1] = w[k + 1], w[k]
    if len(w) > 6 and rng.random() < 0.3:
        k = rng.randrange(len(w) - 3)
        span = w[k:k + 3]
        rng.shuffle(span)
        w[k:k + 3] = span
    return " ".join(w)


def synthetic(texts, n, seed=0):
    """The real texts followed by ``n - len(texts)`` perturbed copies of random real texts."""
    rng = random.Random(seed)
    return list(texts) + [perturb(texts[rng.randrange(len(texts))], rng) for _ in range(n - len(texts))]


def timed(texts, threshold, seeds):
    t = time.perf_counter()
    dec = greedy_filter(texts, threshold, seeds)
    return time.perf_counter() - t, dec


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=2500)
    ap.add_argument("--threshold", type=float, default=0.7)
    ap.add_argument("--max-n", type=int, default=100_000)
    args = ap.parse_args()
    data = json.loads((ROOT / "data/alpaca/alpaca52k_real_subset.json").read_text())
    texts = [r["instruction"] for r in data]
    seeds = [json.loads(l)["instruction"] for l in (ROOT / "data/seed/alpaca_seed_tasks.jsonl").read_text().splitlines()]
    sample = texts[: args.sample]

    t = time.perf_counter()
    ref, pairs = reference(sample, seeds, args.threshold)
    t_ref = time.perf_counter() - t
    best = min((timed(sample, args.threshold, seeds) for _ in range(3)), key=lambda x: x[0])
    t_ours, ours = best
    got = [(d.keep, d.matched, d.score) for d in ours]
    assert got == ref, "decisions, matched indices or scores differ from the reference"
    ref_rate = pairs / t_ref
    print(f"sample: first {len(sample)} real instructions + {len(seeds)} seeds, threshold {args.threshold}, "
          f"{pairs:,} pairs scored by the reference, {sum(not k for k, _, _ in ref)} dropped")
    print(f"reference : {t_ref:9.3f} s  {ref_rate:14,.0f} pairs/s  ({1e6 / ref_rate:.1f} us/pair)")
    print(f"curate    : {t_ours:9.3f} s  {pairs / t_ours:14,.0f} pairs/s  (best of 3)")
    print(f"ratio     : {t_ref / t_ours:9.0f}x  (identical keep/drop, matched index and score for all {len(sample)})")
    # the sample has few drops at 0.7: check matched indices and scores where there are many
    n_chk = min(1000, len(sample))
    ref_chk, _ = reference(sample[:n_chk], seeds, 0.5)
    ours_chk = [(d.keep, d.matched, d.score) for d in greedy_filter(sample[:n_chk], 0.5, seeds)]
    assert ours_chk == ref_chk, "decisions, matched indices or scores differ from the reference at 0.5"
    print(f"identity at threshold 0.5 on the first {n_chk}: {sum(not k for k, _, _ in ref_chk)} drops, "
          "same matched index and float score for every one")
    print()
    print("| set | records | curate s | dropped | reference pairs | curate pairs/s | reference est. | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")

    def row(label, tx):
        dt, dec = timed(tx, args.threshold, seeds)
        p = reference_pairs(dec, len(seeds))
        est = p / ref_rate
        print(f"| {label} | {len(tx):,} | {dt:.2f} | {sum(not d.keep for d in dec):,} | {p:,} | "
              f"{p / dt:,.0f} | {est / 3600:.2f} h | {est / dt:,.0f}x |", flush=True)

    for n in (5000, 10000, 20000, len(texts)):
        row("real instructions", texts[:n])
    row("real instruction+input", ["\n".join(x for x in (r["instruction"], r["input"]) if x) for r in data])
    for n in (50_000, 100_000):
        if n <= args.max_n:
            row("SYNTHETIC (perturbed real)", synthetic(texts, n))


if __name__ == "__main__":
    main()

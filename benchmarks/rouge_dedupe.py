"""ROUGE-L near-duplicate filter: Alpaca's reference loop vs curate's, in one run.

Times the reference (rouge-score ``_score_lcs`` over every kept instruction, as Alpaca's
generate_instruction.py) on a sample of the real data, then ours on the same sample (asserting
identical decisions), prints pairs/s and the ratio, then times ours on the full 27,740 records.

    python benchmarks/rouge_dedupe.py [--sample 1500] [--threshold 0.7]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from rouge_score import rouge_scorer

from curate.cleaning.rouge import greedy_filter

ROOT = Path(__file__).resolve().parent.parent


def reference(texts, seeds, threshold):
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [scorer._tokenizer.tokenize(s) for s in seeds]
    keep, pairs = [], 0
    for t in texts:
        tok = scorer._tokenizer.tokenize(t)
        scores = [rouge_scorer._score_lcs(tok, p).fmeasure for p in pool]
        pairs += len(pool)
        ok = not scores or max(scores) <= threshold
        keep.append(ok)
        if ok:
            pool.append(tok)
    return keep, pairs


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sample", type=int, default=1500)
    ap.add_argument("--threshold", type=float, default=0.7)
    args = ap.parse_args()
    data = json.loads((ROOT / "data/alpaca/alpaca52k_real_subset.json").read_text())
    texts = [r["instruction"] for r in data]
    seeds = [json.loads(l)["instruction"] for l in (ROOT / "data/seed/alpaca_seed_tasks.jsonl").read_text().splitlines()]
    sample = texts[: args.sample]

    t = time.perf_counter()
    ref_keep, pairs = reference(sample, seeds, args.threshold)
    t_ref = time.perf_counter() - t
    t = time.perf_counter()
    ours = greedy_filter(sample, args.threshold, seeds)
    t_ours = time.perf_counter() - t
    assert [d.keep for d in ours] == ref_keep, "decisions differ from the reference"
    print(f"sample: {len(sample)} instructions + {len(seeds)} seeds, {pairs:,} pairs compared by the reference")
    print(f"reference : {t_ref:8.2f} s  {pairs / t_ref:14,.0f} pairs/s  ({1e6 * t_ref / pairs:.1f} us/pair)")
    print(f"curate    : {t_ours:8.3f} s  {pairs / t_ours:14,.0f} pairs/s")
    print(f"ratio     : {t_ref / t_ours:8.0f}x  (identical decisions)")
    for n in (5000, 10000, 20000, len(texts)):
        t = time.perf_counter()
        dec = greedy_filter(texts[:n], args.threshold, seeds)
        dt = time.perf_counter() - t
        print(f"full data {n:>6} records: {dt:7.2f} s, dropped {sum(not d.keep for d in dec)}, "
              f"reference estimate {1e-6 * (t_ref / pairs * 1e6) * n * n / 2 / 3600:.1f} h")


if __name__ == "__main__":
    np.set_printoptions(precision=3)
    main()

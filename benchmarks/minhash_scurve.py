"""MinHash LSH error rates at the params.yaml setting: datasketch's own (b, r), the S-curve
``1 - (1 - s^r)^b`` and, by Monte Carlo (independent hash agreements with probability s), the
probability that a pair is flagged (LSH candidate AND estimated Jaccard >= threshold).

    python benchmarks/minhash_scurve.py [--threshold 0.8] [--num-perm 128] [--trials 100000]
"""

from __future__ import annotations

import argparse

import numpy as np

from curate.dedupe.minhash import candidate_probability, lsh_params


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--trials", type=int, default=100_000)
    args = ap.parse_args()
    b, r = lsh_params(args.threshold, args.num_perm)
    print(f"threshold {args.threshold}, num_perm {args.num_perm}: datasketch picks b={b} bands x r={r} rows")
    rng = np.random.default_rng(0)
    print("| Jaccard s | P(LSH candidate) = 1-(1-s^r)^b | P(estimate >= t) | P(flagged) (Monte Carlo) |")
    print("|---:|---:|---:|---:|")
    for s in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95):
        agree = rng.random((args.trials, args.num_perm)) < s
        cand = agree[:, : b * r].reshape(-1, b, r).all(2).any(1)
        est = agree.mean(1) >= args.threshold
        print(f"| {s} | {float(candidate_probability(s, b, r)):.4f} | {est.mean():.4f} | {(cand & est).mean():.4f} |")


if __name__ == "__main__":
    main()

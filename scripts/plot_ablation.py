"""Draw ``plots/ablation.csv`` (``curate compare``: each arm's MC1/MC2 mean with its 95% bootstrap
interval) as a PNG for the README: ``python scripts/plot_ablation.py [CSV] [PNG]``
(default ``plots/ablation.csv`` -> ``docs/ablation.png``). ``dvc plots show`` draws the same
table with the errorbar template."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(src: str = "plots/ablation.csv", dst: str = "docs/ablation.png") -> None:
    rows = list(csv.DictReader(open(src, encoding="utf-8")))
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, metric in zip(axes, ("mc1", "mc2")):
        rs = [r for r in rows if r["metric"] == metric]
        y = list(range(len(rs)))[::-1]
        means = [float(r["mean"]) for r in rs]
        err = [[m - float(r["lo"]) for m, r in zip(means, rs)], [float(r["hi"]) - m for m, r in zip(means, rs)]]
        ax.errorbar(means, y, xerr=err, fmt="o", capsize=3)
        ax.set_yticks(y, [r["arm"] for r in rs])
        ax.set_title(f"TruthfulQA {metric.upper()} (95% interval)")
        ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    Path(dst).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(dst, dpi=110)
    print(dst)


if __name__ == "__main__":
    main(*sys.argv[1:3])

"""The raw-vs-clean ablation table: what cleaning changed in the trained student.

Reads ``reports/eval_<model>.json`` for the base student and the two fine-tuned ones and
writes one table (JSON + Markdown) and a ``dvc plots`` CSV of each arm's mean with its 95%
interval (normal approximation, mean ± 1.96·SE over questions). Numbers from different TruthfulQA question subsets
are never put side by side: mismatched ``truthfulqa_subset`` ids raise an error.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Mapping

from curate.core.errors import CurateError

MODELS = ("base", "raw", "clean")
KEYS = ("truthfulqa_mc1", "truthfulqa_mc2", "user_oriented_loss", "user_oriented_ppl")


def compare(metrics_dir: str | Path, params: Mapping | None = None,
            report_path: str | Path = "reports/ablation.md", plot_path: str | Path | None = None) -> dict:
    """Build the ablation from ``metrics_dir/eval_{base,raw,clean}.json``. Returns metrics with
    each model's numbers, ``ci95`` (per model, ``{metric: [lo, hi]}``, mean ± 1.96·SE where the
    evaluation gave an SE) and ``delta_clean_minus_raw``; writes a Markdown table to
    ``report_path`` and, given ``plot_path``, a CSV with one row per (arm, metric): ``arm,
    metric, mean, lo, hi``. Raises :class:`CurateError` for a missing file or mixed subsets."""
    evals = {}
    for m in MODELS:
        path = Path(metrics_dir) / f"eval_{m}.json"
        if not path.is_file():
            raise CurateError(f"{path}: no such file; run `curate evaluate {m}` first")
        evals[m] = json.loads(path.read_text(encoding="utf-8"))
    subsets = {m: e["truthfulqa_subset"] for m, e in evals.items()}
    if len(set(subsets.values())) != 1:
        raise CurateError(f"TruthfulQA question subsets differ between models, refusing to compare: {subsets}")
    out = {m: {k: evals[m][k] for k in KEYS} for m in MODELS}
    out["delta_clean_minus_raw"] = {k: evals["clean"][k] - evals["raw"][k] for k in KEYS}
    out["truthfulqa_subset"] = subsets["base"]
    out["truthfulqa_n_questions"] = evals["base"]["truthfulqa_n_questions"]
    se = {m: (evals[m].get("truthfulqa_mc1_stderr"), evals[m].get("truthfulqa_mc2_stderr")) for m in MODELS}
    rows = []
    for m in MODELS:
        ci = {}
        for k, s_err in zip(("truthfulqa_mc1", "truthfulqa_mc2"), se[m]):
            if s_err is not None:
                ci[k] = [out[m][k] - 1.96 * s_err, out[m][k] + 1.96 * s_err]
                rows.append({"arm": m, "metric": k.removeprefix("truthfulqa_"), "mean": round(out[m][k], 6),
                             "lo": round(ci[k][0], 6), "hi": round(ci[k][1], 6)})
        out[m]["ci95"] = ci
    if plot_path is not None:
        Path(plot_path).parent.mkdir(parents=True, exist_ok=True)
        with open(plot_path, "w", newline="", encoding="utf-8") as f:
            w = csv.DictWriter(f, fieldnames=["arm", "metric", "mean", "lo", "hi"])
            w.writeheader()
            w.writerows(rows)
    lines = [
        f"# Raw vs clean ablation (TruthfulQA v1, {out['truthfulqa_n_questions']} questions, subset {out['truthfulqa_subset']})",
        "",
        "Student: SmolLM2-135M-Instruct dequantized from Q4_1 GGUF (an instruct model carrying rounding "
        "error, not a clean base model). MC1/MC2 by log-likelihood; loss = mean per-token NLL of the "
        "reference responses of the self-instruct 252 user-oriented set.",
        "",
        "| model | MC1 | MC2 | user-oriented loss | ppl |",
        "|---|---|---|---|---|",
    ]
    for m in MODELS:
        o = out[m]
        lines.append(f"| {m} | {o['truthfulqa_mc1']:.4f} ± {se[m][0] or 0:.4f} | {o['truthfulqa_mc2']:.4f} ± {se[m][1] or 0:.4f} "
                     f"| {o['user_oriented_loss']:.4f} | {o['user_oriented_ppl']:.2f} |")
    d = out["delta_clean_minus_raw"]
    lines.append(f"| clean − raw | {d['truthfulqa_mc1']:+.4f} | {d['truthfulqa_mc2']:+.4f} | {d['user_oriented_loss']:+.4f} | {d['user_oriented_ppl']:+.2f} |")
    Path(report_path).parent.mkdir(parents=True, exist_ok=True)
    Path(report_path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out

"""``curate compare``: the raw-vs-clean ablation table from the evaluation metrics."""

from __future__ import annotations

from curate.stages.base import Context, timed
from curate.training.compare import compare


def run(ctx: Context) -> dict:
    """Reads ``reports/eval_{base,raw,clean}.json``; writes ``reports/ablation.json``,
    ``reports/ablation.md`` and the ``dvc plots`` table ``plots/ablation.csv`` (the arms'
    headline MC1/MC2 are in ``metrics/eval_<arm>.json``, so compare writes no metrics file)."""
    return timed(ctx, "ablation", lambda: compare(ctx.reports_dir, ctx.params,
                                                  report_path=ctx.reports_dir / "ablation.md",
                                                  plot_path=ctx.root / "plots" / "ablation.csv"), None)

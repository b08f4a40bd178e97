"""``curate compare``: the raw-vs-clean ablation table from the evaluation metrics."""

from __future__ import annotations

from curate.stages.base import Context, timed
from curate.training.compare import compare


def run(ctx: Context) -> dict:
    """Reads ``metrics/eval_{base,raw,clean}.json``; writes ``metrics/ablation.json`` and
    ``reports/ablation.md``."""
    return timed(ctx, "ablation", lambda: compare(ctx.metrics_dir, ctx.params))

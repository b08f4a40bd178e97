"""``curate compare``: the ablation's paired statistics over the arm x seed grid
(:mod:`curate.training.compare`)."""

from __future__ import annotations

from curate.stages.base import Context, timed
from curate.training.compare import compare, pair_table


def run(ctx: Context) -> str:
    """Reads ``paths.eval``/MODEL for base and every ``ARM-sSEED`` of ``ablation.arms`` x
    ``ablation.seeds``; writes ``reports/ablation.json``, ``reports/ablation.md`` and the ``dvc
    plots`` table ``plots/ablation.csv`` (each arm's headline MC1/MC2 is in
    ``metrics/eval_<model>.json``, so compare writes no metrics file). Returns the table of paired
    differences, which the CLI prints."""
    a = ctx.params["ablation"]
    out = timed(ctx, "ablation", lambda: compare(
        ctx.paths["eval"], a["arms"], a["seeds"], n_boot=a["n_boot"], boot_seed=a["bootstrap_seed"],
        report_path=ctx.reports_dir / "ablation.md", plot_path=ctx.root / "plots" / "ablation.csv"), None)
    return pair_table(out) + f"\n(reports/ablation.md; {out['n_questions']} questions, seeds {out['seeds']})"

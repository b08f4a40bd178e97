"""``curate detect-eval``: precision/recall of every detector on the labelled dev set."""

from __future__ import annotations

from pathlib import Path

from curate.core.schema import ANNOTATION_SCHEMA, read_table
from curate.detectors.deveval import evaluate, load_devset, render_markdown
from curate.detectors import registry
from curate.stages.base import Context, timed


def run(ctx: Context, report: str | None = None) -> dict:
    """Score ``paths.detect_annotations`` against ``paths.devset_sample``/``devset_labels``;
    writes ``report`` (default ``<root>/reports/detect_eval.md``)."""
    def work() -> dict:
        paths = ctx.paths
        ann = read_table(paths["detect_annotations"], ANNOTATION_SCHEMA)
        dev = load_devset(paths["devset_sample"], paths["devset_labels"])
        cats = registry.categories(ctx.params["detect"])  # enabled detectors with no hit count too
        for a in ann.select(["check_name", "category"]).to_pylist():
            cats.setdefault(a["check_name"], a["category"])
        m = evaluate(ann, dev, dict(sorted(cats.items())))
        out = Path(report) if report else ctx.root / "reports" / "detect_eval.md"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# Detectors on the labelled dev set\n\n" + render_markdown(m), encoding="utf-8")
        return m
    return timed(ctx, "detect_eval", work, {"precision": "overall.precision", "recall": "overall.recall"})

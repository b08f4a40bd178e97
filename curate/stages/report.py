"""``curate report``: the run's self-contained offline HTML report -> ``reports/index.html``."""

from __future__ import annotations

from pathlib import Path

from curate.analysis.report import render_report
from curate.stages.base import Context, timed


def run(ctx: Context, out: str | None = None) -> dict:
    """Render :func:`curate.analysis.report.render_report` of this run to ``out`` (default
    ``<root>/reports/index.html``; parents created). Returns ``{"path", "charts", "bytes"}`` (the
    detail goes to ``reports/report.json``; no headline: nothing in it is a count of records).
    Raises :class:`curate.core.errors.CurateError` naming a missing input (the ablation is
    optional)."""
    def work() -> dict:
        path = Path(out) if out else ctx.reports_dir / "index.html"
        page, charts = render_report(ctx.params, ctx.root)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(page, encoding="utf-8")
        tmp.replace(path)
        return {"path": str(path), "charts": charts, "bytes": path.stat().st_size}
    return timed(ctx, "report", work, None)

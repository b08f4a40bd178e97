"""``curate repair``: new outputs from the teacher for the records the detectors marked
``repair`` -> ``normalize`` annotations in ``paths.repair_annotations`` (the old text is kept
in each record's history by ``clean``). Off unless ``repair.enabled``: an empty annotation
file is written then, so ``clean`` always has its input."""

from __future__ import annotations

import logging

from curate.core.errors import CurateError
from curate.repair.regenerate import empty_repairs, run_repair
from curate.stages.base import Context, generate_params, timed


def run(ctx: Context, annotations: str | None = None, out: str | None = None, force: bool = False) -> dict:
    """Repair the records marked in ``annotations`` (default ``paths.detect_annotations``),
    writing ``out`` (default ``paths.repair_annotations``); ``force`` runs even when
    ``repair.enabled`` is false. Raises :class:`CurateError` when every request failed."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    paths = ctx.paths
    out = out or paths["repair_annotations"]
    if not out:
        raise CurateError("paths.repair_annotations is null: pass --out")
    if not ctx.params["repair"]["enabled"] and not force:
        return timed(ctx, "repair", lambda: empty_repairs(out), {"repaired": "annotations"})
    ann = annotations or paths["detect_annotations"]
    return timed(ctx, "repair", lambda: run_repair(generate_params(ctx.params), ann, paths["ingested"], out),
                 {"repaired": "annotations"})

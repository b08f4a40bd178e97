"""``curate detect``: the detectors over the ingested records -> annotations."""

from __future__ import annotations

from curate.core.io import read_records
from curate.core.schema import write_parquet
from curate.detectors.runner import build_detectors, detect
from curate.stages.base import Context, timed


def run(ctx: Context) -> dict:
    """Run the detectors the ``detect`` params enable over ``paths.ingested``, actions from
    ``detect.policy`` (``repair_or_drop`` -> ``repair`` when ``repair.enabled``, else ``drop``);
    writes ``paths.detect_annotations``."""
    def work() -> dict:
        paths, d = ctx.paths, ctx.params["detect"]
        detectors = build_detectors(d, paths=paths)  # each detector's `files` come from paths
        teacher = bool(ctx.params["repair"]["enabled"])
        ann, m = detect(read_records(paths["ingested"]), d["policy"], detectors, teacher=teacher)
        m["wrong_answers"] = "repair" if teacher else "drop"  # what repair_or_drop resolved to
        write_parquet(ann, paths["detect_annotations"])
        return m
    return timed(ctx, "detect", work, {"read": "records_in", "dropped": "records_by_action.drop",
                                       "normalized": "records_by_action.normalize",
                                       "repaired": "records_by_action.repair", "flagged": "records_by_action.review"})

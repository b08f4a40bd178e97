"""``curate detect``: the detectors over the ingested records -> annotations."""

from __future__ import annotations

from curate.core.executor import ray_session
from curate.core.io import read_records
from curate.core.schema import write_parquet
from curate.detectors.runner import build_detectors, detect
from curate.stages.base import Context, timed


def run(ctx: Context) -> dict:
    """Run the detectors the ``detect`` params enable over ``paths.ingested``, actions from
    ``detect.policy`` (``repair_or_drop`` -> ``repair`` when ``repair.enabled``, else ``drop``),
    in this process or on Ray (``executor``); writes ``paths.detect_annotations``."""
    def work() -> dict:
        paths, d = ctx.paths, ctx.params["detect"]
        teacher = bool(ctx.params["repair"]["enabled"])
        if ctx.params["executor"] == "ray":
            from curate.detectors.distributed import detect_ray

            with ray_session(ctx.params["ray"]):
                ann, m = detect_ray(paths["ingested"], d, paths, teacher=teacher,
                                    batch_size=ctx.params["ray"]["batch_size"])
        else:
            detectors = build_detectors(d, paths=paths)  # each detector's `files` come from paths
            ann, m = detect(read_records(paths["ingested"]), d["policy"], detectors, teacher=teacher)
        m["executor"] = ctx.params["executor"]
        m["wrong_answers"] = "repair" if teacher else "drop"  # what repair_or_drop resolved to
        write_parquet(ann, paths["detect_annotations"])
        return m
    return timed(ctx, "detect", work, {"read": "records_in", "dropped": "records_by_action.drop",
                                       "normalized": "records_by_action.normalize",
                                       "repaired": "records_by_action.repair", "flagged": "records_by_action.review"})

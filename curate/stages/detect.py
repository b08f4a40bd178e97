"""``curate detect``: the detectors over the ingested records -> annotations."""

from __future__ import annotations

from curate.core.io import read_records
from curate.core.schema import write_parquet
from curate.detectors.runner import build_detectors, detect
from curate.stages.base import Context, timed


def run(ctx: Context) -> dict:
    """Run the detectors the ``detect`` params enable over ``paths.ingested``, actions from
    ``detect.policy``; writes ``paths.detect_annotations``."""
    def work() -> dict:
        paths, d = ctx.paths, ctx.params["detect"]
        detectors = build_detectors(d, paths=paths)  # each detector's `files` come from paths
        ann, m = detect(read_records(paths["ingested"]), d["policy"], detectors)
        write_parquet(ann, paths["detect_annotations"])
        return m
    return timed(ctx, "detect", work)

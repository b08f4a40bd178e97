"""``curate dedupe``: exact, ROUGE-L, embedding and MinHash near-duplicates -> annotations."""

from __future__ import annotations

from contextlib import nullcontext

from curate.core.executor import ray_session
from curate.core.io import read_records
from curate.core.schema import write_parquet
from curate.dedupe.pipeline import dedupe, load_seed_tasks
from curate.stages.base import Context, timed


def run(ctx: Context) -> dict:
    """Dedupe ``paths.ingested`` against itself and ``paths.seed_tasks`` with the ``dedupe``
    params, in this process or on Ray (``executor``, :mod:`curate.core.executor`); writes
    ``paths.dedupe_annotations``."""
    def work() -> dict:
        paths = ctx.paths
        seeds = load_seed_tasks(paths["seed_tasks"]) if paths["seed_tasks"] else []
        executor, rs = ctx.params["executor"], ctx.params["ray"]
        with ray_session(rs) if executor == "ray" else nullcontext():
            ann, m = dedupe(read_records(paths["ingested"]), ctx.params["dedupe"], seeds,
                            cache_path=paths["embedding_cache"], executor=executor, ray_settings=rs)
        m["executor"] = executor
        write_parquet(ann, paths["dedupe_annotations"])
        return m
    return timed(ctx, "dedupe", work, {"read": "records_in", "dropped": "dropped", "kept": "kept"})

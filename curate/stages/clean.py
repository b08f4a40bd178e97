"""``curate clean``: apply every annotation to the ingested records -> clean + dropped."""

from __future__ import annotations

from curate.core.annotations import apply_annotations, ingest_records_read
from curate.core.errors import CurateError
from curate.core.io import read_records
from curate.core.schema import ANNOTATION_SCHEMA, QUARANTINE_SCHEMA, read_table, write_parquet
from curate.stages.base import Context, timed


def run(ctx: Context) -> dict:
    """Apply the dedupe, detect and repair annotations; writes ``paths.clean`` and
    ``paths.dropped``. The conservation check compares against the count ingest read from the
    files (``metrics/ingest.json``). Raises :class:`CurateError` when the counts do not add up
    or when no record is kept."""
    def work() -> dict:
        paths = ctx.paths
        keys = ["dedupe_annotations", "detect_annotations"] + (["repair_annotations"] if paths["repair_annotations"] else [])
        anns = [read_table(paths[k], ANNOTATION_SCHEMA) for k in keys]
        quarantine = read_table(paths["quarantine"], QUARANTINE_SCHEMA)
        read = ingest_records_read(ctx.metrics_dir / "ingest.json")  # ingest's own count, so the check can fail
        clean, dropped, m = apply_annotations(read_records(paths["ingested"]), anns, quarantine.num_rows,
                                              records_read=read)
        write_parquet(clean, paths["clean"])
        write_parquet(dropped, paths["dropped"])
        if clean.num_rows == 0:  # nothing left to train on is a failure, not an empty success
            raise CurateError(f"every record was dropped ({m['dropped']} dropped, {m['quarantined']} "
                              f"quarantined); see {paths['dropped']}")
        return m
    return timed(ctx, "clean", work)

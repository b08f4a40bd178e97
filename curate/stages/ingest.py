"""``curate ingest``: raw inputs (``paths.raw_inputs``) -> records + quarantine (Parquet)."""

from __future__ import annotations

from curate.core.errors import CurateError
from curate.core.executor import ray_session
from curate.core.ingest import ingest
from curate.core.schema import write_parquet
from curate.stages.base import Context, timed


def run(ctx: Context, inputs: list[str] | None = None) -> dict:
    """Ingest ``inputs`` (default ``paths.raw_inputs``) into ``paths.ingested`` and
    ``paths.quarantine``, in this process or on Ray (``executor``). Raises :class:`CurateError` for an unreadable file or when every
    record read was quarantined (the quarantine is written first, so the user can see why)."""
    def work() -> dict:
        paths, cfg = ctx.paths, ctx.params["ingest"]
        args = (inputs or paths["raw_inputs"], cfg["field_map"], cfg["max_field_chars"])
        if ctx.params["executor"] == "ray":  # validated on Ray Data workers, same tables
            from curate.core.distributed import ingest_ray

            with ray_session(ctx.params["ray"]):
                records, quarantine, m = ingest_ray(*args, provenance=paths["provenance"],
                                                    batch_size=ctx.params["ray"]["batch_size"])
        else:
            records, quarantine, m = ingest(*args, provenance=paths["provenance"])
        m["executor"] = ctx.params["executor"]
        write_parquet(records, paths["ingested"])
        write_parquet(quarantine, paths["quarantine"])
        if records.num_rows == 0:  # nothing usable is a failure, not an empty success
            top = ", ".join(f"{r} {n}" for r, n in sorted(m["quarantined_by_reason"].items(), key=lambda x: -x[1])[:3])
            raise CurateError(f"all {m['records_read']} records read were quarantined ({top}); "
                              f"see {paths['quarantine']}")
        return m
    return timed(ctx, "ingest", work, {"read": "records_read", "quarantined": "quarantined", "kept": "ingested"})

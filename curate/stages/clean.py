"""``curate clean``: apply every annotation to the ingested records -> clean + dropped."""

from __future__ import annotations

import csv

from curate.core.annotations import apply_annotations, ingest_records_read
from curate.core.executor import ray_session
from curate.core.errors import CurateError
from curate.core.io import read_records
from curate.core.schema import ANNOTATION_SCHEMA, QUARANTINE_SCHEMA, read_table, write_parquet
from curate.stages.base import Context, timed


def funnel_rows(m: dict) -> list[dict]:
    """The funnel of clean's metrics ``m`` as ``dvc plots`` rows ``{step, records}``: read,
    quarantined, dropped by check, normalised, flagged (for review or repair, by action), kept.
    Steps are numbered so that their sorted order is the funnel's."""
    rows = [("1 read", m["records_read"]), ("2 quarantined", m["quarantined"])]
    rows += [(f"3 dropped: {k}", v) for k, v in sorted(m["dropped_by_check"].items())]
    rows.append(("4 normalized", m["records_normalized"]))
    flagged: dict[str, int] = {}
    for key, n in m["flagged"].items():  # "review:missing_input" -> review
        action = key.split(":", 1)[0]
        flagged[action] = flagged.get(action, 0) + n
    rows += [(f"5 flagged: {a}", n) for a, n in sorted(flagged.items())]
    rows.append(("6 kept", m["kept"]))
    return [{"step": step, "records": n} for step, n in rows]


def write_funnel(m: dict, path) -> None:
    """Write :func:`funnel_rows` of ``m`` as CSV to ``path`` (parents created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["step", "records"])
        w.writeheader()
        w.writerows(funnel_rows(m))


def run(ctx: Context) -> dict:
    """Apply the dedupe, detect and repair annotations; writes ``paths.clean`` and
    ``paths.dropped``. The conservation check compares against the count ingest read from the
    files (``reports/ingest.json``). ``executor: ray`` streams the records through Ray Data
    (:func:`curate.core.distributed.clean_ray`) and writes the same files. Raises :class:`CurateError` when the counts do not add up
    or when no record is kept."""
    def work() -> dict:
        paths = ctx.paths
        keys = ["dedupe_annotations", "detect_annotations"] + (["repair_annotations"] if paths["repair_annotations"] else [])
        anns = [read_table(paths[k], ANNOTATION_SCHEMA) for k in keys]
        quarantine = read_table(paths["quarantine"], QUARANTINE_SCHEMA)
        read = ingest_records_read(ctx.reports_dir / "ingest.json")  # ingest's own count, so the check can fail
        if ctx.params["executor"] == "ray":  # streamed batch by batch, same files (curate.core.distributed)
            from curate.core.distributed import clean_ray

            rs = ctx.params["ray"]
            with ray_session(rs):
                m = clean_ray(paths["ingested"], anns, paths["clean"], paths["dropped"], quarantine.num_rows,
                              records_read=read, batch_size=rs["batch_size"])
        else:
            clean, dropped, m = apply_annotations(read_records(paths["ingested"]), anns, quarantine.num_rows,
                                                  records_read=read)
            write_parquet(clean, paths["clean"])
            write_parquet(dropped, paths["dropped"])
        m["executor"] = ctx.params["executor"]
        if m["kept"] == 0:  # nothing left to train on is a failure, not an empty success
            raise CurateError(f"every record was dropped ({m['dropped']} dropped, {m['quarantined']} "
                              f"quarantined); see {paths['dropped']}")
        write_funnel(m, ctx.root / "plots" / "funnel.csv")
        return m
    return timed(ctx, "clean", work, {"read": "records_read", "quarantined": "quarantined", "dropped": "dropped",
                                      "normalized": "records_normalized", "kept": "kept"})

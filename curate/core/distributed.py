"""The clean stage on Ray (``executor: ray``): the same outputs as in one process, streamed.

``read_parquet`` of the ingested records -> ``map_batches`` with an actor class that holds the
annotations by record id and applies :func:`curate.core.annotations.apply_rows` to each pyarrow
batch -> the batches come back in input order (the session preserves order) and are written
one at a time to ``paths.clean`` and ``paths.dropped``, so the driver never holds all records.
The counts are summed per batch and checked by
:func:`curate.core.annotations.clean_metrics`, as in the local run. Needs a connected Ray
session (:func:`curate.core.executor.ray_session`); tests/test_executors.py checks that both
executors write the same files.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.annotations import DROPPED_SCHEMA, apply_rows, clean_metrics, index_annotations, unknown_ids
from curate.core.errors import CurateError
from curate.core.executor import import_ray
from curate.core.schema import RECORD_SCHEMA, read_table

_COUNTS = "_counts"  # per-batch counts travel in one JSON cell of the batch's first row


class _ApplyActor:
    """One copy of the annotations per actor (fetched once from the object store)."""

    def __init__(self, by_id_ref: list):
        self.by_id = import_ray().get(by_id_ref[0])

    def __call__(self, batch: pa.Table) -> pa.Table:
        kept, dropped, counts = apply_rows(batch.to_pylist(), self.by_id)
        rows = kept + dropped  # kept rows have a null drop_check; each part stays in input order
        table = pa.Table.from_pylist([dict(r, drop_check=r.get("drop_check"), drop_reason=r.get("drop_reason"),
                                           drop_matched_id=r.get("drop_matched_id")) for r in rows],
                                     schema=DROPPED_SCHEMA)
        meta = json.dumps({k: (dict(v) if isinstance(v, Counter) else v) for k, v in counts.items()})
        cell = pa.array([meta] + [None] * (table.num_rows - 1), pa.string()) if table.num_rows else pa.array([], pa.string())
        return table.append_column(_COUNTS, cell)


def _ids(path: str | Path) -> list[str]:
    """The ``id`` column of a records file, checked as :func:`curate.core.io.read_records` checks
    it (present, no nulls, unique), without reading the text."""
    ids = read_table(path, pa.schema([RECORD_SCHEMA.field("id")])).column("id")
    if pc.count_distinct(ids).as_py() != len(ids):
        raise CurateError(f"{path}: not a curate records file: an id repeats; ids must be unique")
    return ids.to_pylist()


def clean_ray(records_path: str | Path, annotations: Sequence[pa.Table], clean_path: str | Path,
              dropped_path: str | Path, quarantined: int = 0, records_read: int | None = None,
              batch_size: int = 2048, actors: int = 1) -> dict:
    """:func:`curate.core.annotations.apply_annotations` on Ray, reading ``records_path`` and
    writing ``clean_path`` (RECORD_SCHEMA) and ``dropped_path`` (DROPPED_SCHEMA) as zstd Parquet,
    each through a ``.tmp`` file renamed at the end (a failed run leaves no half file).
    ``actors``: applying actors; ``batch_size``: records per batch. Returns the metrics of the
    local run. Raises :class:`CurateError` as apply_annotations does."""
    ray = import_ray()
    by_id = index_annotations(annotations)
    ids = _ids(records_path)
    unknown_ids(by_id, ids)
    ref = ray.put(by_id)
    ds = ray.data.read_parquet(str(records_path)).select_columns(RECORD_SCHEMA.names).map_batches(
        _ApplyActor, batch_format="pyarrow", batch_size=batch_size, compute=ray.data.ActorPoolStrategy(size=actors),
        fn_constructor_kwargs={"by_id_ref": [ref]})
    totals = {"drop": Counter(), "normalize": Counter(), "flag": Counter(), "normalized": 0}
    n_kept = n_dropped = 0
    outs = {}
    for name, path, schema in (("clean", clean_path, RECORD_SCHEMA), ("dropped", dropped_path, DROPPED_SCHEMA)):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        outs[name] = (path, path.with_suffix(path.suffix + ".tmp"), schema)
    writers = {k: pq.ParquetWriter(tmp, schema, compression="zstd") for k, (_, tmp, schema) in outs.items()}
    done = False
    try:
        for ref_block in ds.to_arrow_refs():  # in input order
            block = ray.get(ref_block)
            if not block.num_rows:
                continue
            for cell in block.column(_COUNTS).to_pylist():
                if cell is not None:
                    c = json.loads(cell)
                    for k in ("drop", "normalize", "flag"):
                        totals[k].update(c[k])
                    totals["normalized"] += c["normalized"]
            block = block.drop_columns([_COUNTS])
            is_drop = pc.is_valid(block.column("drop_check"))
            kept = block.filter(pc.invert(is_drop)).select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)
            dropped = block.filter(is_drop).cast(DROPPED_SCHEMA)
            n_kept += kept.num_rows
            n_dropped += dropped.num_rows
            writers["clean"].write_table(kept)
            writers["dropped"].write_table(dropped)
        for w in writers.values():
            w.close()
        metrics = clean_metrics(len(ids), n_kept, n_dropped, totals, quarantined, records_read)
        done = True
    finally:
        if not done:  # a failed run leaves neither output nor a half-written .tmp behind
            for w in writers.values():
                w.close()
            for _, tmp, _ in outs.values():
                tmp.unlink(missing_ok=True)
    for path, tmp, _ in outs.values():
        tmp.replace(path)
    return metrics

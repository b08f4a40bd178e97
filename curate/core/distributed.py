"""The ingest and clean stages on Ray (``executor: ray``): the same outputs as in one process.

ingest (:func:`ingest_ray`): the driver reads each source's items (a ``.jsonl`` file's lines
unparsed, other formats' parsed values pickled) into a Ray Dataset; ``map_batches`` parses,
validates and takes the provenance entry of each item on the workers
(:func:`curate.core.ingest.check_item`, the local run's own function) and computes content ids;
the driver then assigns ids in read order (:class:`curate.core.ingest.IdAssigner`, sequential by
nature: a repeat depends on every record before it).

clean (:func:`clean_ray`): ``read_parquet`` of the ingested records -> ``map_batches`` with an actor class that holds the
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
import pickle
from collections import Counter
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.core.annotations import DROPPED_SCHEMA, apply_rows, clean_metrics, index_annotations, unknown_ids
from curate.core.errors import CurateError
from curate.core.executor import import_ray
from curate.core.ingest import (IdAssigner, NO_SIDECAR, check_item, ingest_metrics, preview,
                                load_sidecar, no_entry_error, sidecar_entry)
from curate.core.io import HF_PREFIX, RawItem, check_unique_ids, iter_raw, jsonl_item, jsonl_lines, source_name
from curate.core.schema import (RECORD_SCHEMA, TEXT_FIELDS, content_id, make_record,
                                quarantine_table, read_table)

_COUNTS = "_counts"  # per-batch counts travel in one JSON cell of the batch's first row


class _ApplyActor:
    """One copy of the annotations per actor (fetched once from the object store)."""

    def __init__(self, by_id_ref: list):
        self.by_id = import_ray().get(by_id_ref[0])

    def __call__(self, batch: pa.Table) -> pa.Table:
        kept, dropped, counts = apply_rows(batch.to_pylist(), self.by_id)
        # kept rows lack the drop_* keys, so they come out null; each part stays in input order
        table = pa.Table.from_pylist(kept + dropped, schema=DROPPED_SCHEMA)
        meta = json.dumps({k: (dict(v) if isinstance(v, Counter) else v) for k, v in counts.items()})
        cell = pa.array([meta] + [None] * (table.num_rows - 1), pa.string()) if table.num_rows else pa.array([], pa.string())
        return table.append_column(_COUNTS, cell)


def _ids(path: str | Path) -> list[str]:
    """The ``id`` column of a records file, checked as :func:`curate.core.io.read_records` checks
    it (present, no nulls, unique), without reading the text."""
    ids = read_table(path, pa.schema([RECORD_SCHEMA.field("id")])).column("id")
    check_unique_ids(ids, path)
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


# ------------------------------------------------------------------------------------- ingest

_ITEM = pa.schema([("spec", pa.int32()), ("source", pa.string()), ("number", pa.int64()),
                   ("line", pa.string()), ("value", pa.binary()), ("entry", pa.binary())])
_CHECKED = pa.schema([("bad", pa.binary()), ("no_entry", pa.bool_()), ("own_id", pa.string()),
                      ("base", pa.string()), ("preview", pa.string())] + list(RECORD_SCHEMA))


def _items(spec: str, k: int, record_keys, sidecar: list | None, read: Counter) -> pa.Table:
    """One source's items as an :data:`_ITEM` table (counted in ``read``)."""
    cols = {n: [] for n in _ITEM.names}

    def add(source, number, line, value, has_value):
        read[source] += 1
        entry = sidecar_entry(sidecar, number)
        cols["spec"].append(k)
        cols["source"].append(source)
        cols["number"].append(number)
        cols["line"].append(line)
        cols["value"].append(pickle.dumps(value) if has_value else None)
        cols["entry"].append(None if entry is NO_SIDECAR else pickle.dumps(entry))

    path = Path(spec)
    if not spec.startswith(HF_PREFIX) and "://" not in spec and path.suffix.lower() == ".jsonl" and path.is_file():
        name = source_name(path)
        try:
            for i, line in jsonl_lines(path):  # parsed on the workers
                add(name, i, line, None, False)
        except OSError as e:
            raise CurateError(f"{path}: cannot read: {' '.join(str(e).split())}") from None
    else:
        for item in iter_raw(spec, record_keys=record_keys):
            add(item.source, item.number, item.raw if item.error else None,
                (item.value, item.error), True)
    return pa.table(cols, schema=_ITEM)


def _check_batch(batch: pa.Table, field_map: dict, max_chars: int, sidecar_paths: list) -> pa.Table:
    out = {n: [] for n in _CHECKED.names}
    for row in batch.to_pylist():
        if row["value"] is None:
            item = jsonl_item(row["source"], row["number"], row["line"])
        else:
            value, error = pickle.loads(row["value"])
            item = RawItem(row["source"], row["number"], value, error, row["line"])
        entry = NO_SIDECAR if row["entry"] is None else pickle.loads(row["entry"])
        rec, bad, no_entry = check_item(item, field_map, max_chars, entry, sidecar_paths[row["spec"]])
        ok = bad is None and not no_entry
        r = make_record(id="", instruction=rec["instruction"], input=rec["input"], output=rec["output"],
                        source=rec.get("source", item.source), source_index=rec.get("source_index", item.number),
                        meta=rec["meta"]) if ok else dict.fromkeys(RECORD_SCHEMA.names)
        own = rec.get("id") if ok else None
        out["bad"].append(None if bad is None else pickle.dumps(bad))
        out["no_entry"].append(no_entry)
        out["own_id"].append(own)
        out["base"].append(content_id(rec["instruction"], rec["input"]) if ok and own is None else None)
        out["preview"].append(preview(item.value) if ok else None)
        for n in RECORD_SCHEMA.names:
            out[n].append(r[n])
    schema = pa.schema([f.with_nullable(True) for f in _CHECKED])
    return pa.table(out, schema=schema)


def ingest_ray(sources: Sequence[str], field_map: Mapping[str, str] | None = None, max_chars: int = 100_000,
               provenance: Mapping[str, str] | None = None, batch_size: int = 2048) -> tuple[pa.Table, pa.Table, dict]:
    """:func:`curate.core.ingest.ingest` on Ray: the same ``(records, quarantine, metrics)``
    (module doc for what runs where). Raises :class:`CurateError` as ingest does."""
    ray = import_ray()
    sources = list(sources)
    field_map = dict(field_map or {})
    record_keys = set(TEXT_FIELDS) | {k for k, v in field_map.items() if v in TEXT_FIELDS}
    provenance = dict(provenance or {})
    read: Counter = Counter()
    tables = [_items(spec, k, record_keys, load_sidecar(provenance[spec]) if spec in provenance else None, read)
              for k, spec in enumerate(sources)]
    items = pa.concat_tables(tables) if tables else _ITEM.empty_table()
    if items.num_rows == 0:
        return ingest_metrics(read, 0, [], sources)  # raises: nothing read
    ds = ray.data.from_arrow(items).map_batches(
        _check_batch, batch_format="pyarrow", batch_size=batch_size,
        fn_kwargs={"field_map": field_map, "max_chars": max_chars,
                   "sidecar_paths": [provenance.get(spec) for spec in sources]})
    blocks = [b for b in ray.get(ds.to_arrow_refs()) if b.num_rows]
    checked = pa.concat_tables(blocks)
    if checked.num_rows != items.num_rows:
        raise CurateError(f"ingest lost records on Ray: {items.num_rows} items, {checked.num_rows} checked")
    no_entry = checked.column("no_entry").to_pylist()
    if any(no_entry):
        k = no_entry.index(True)
        spec = sources[items.column("spec")[k].as_py()]
        raise no_entry_error(provenance[spec], items.column("number")[k].as_py(), spec)
    ids = IdAssigner()
    keep, rids, bad_rows = [], [], []
    for bad, own, base, prev, src, num in zip(checked.column("bad").to_pylist(), checked.column("own_id").to_pylist(),
                                              checked.column("base").to_pylist(), checked.column("preview").to_pylist(),
                                              items.column("source").to_pylist(), items.column("number").to_pylist()):
        if bad is not None:
            bad_rows.append(pickle.loads(bad))
            keep.append(False)
            continue
        rid, dup = ids.assign(own, base, src, num)
        if dup:
            bad_rows.append({"file": src, "record_number": num, "id": rid, "field": "id", "reason": dup, "raw": prev})
            keep.append(False)
            continue
        keep.append(True)
        rids.append(rid)
    records = checked.filter(pa.array(keep, pa.bool_())).select(RECORD_SCHEMA.names)
    records = records.set_column(0, "id", pa.array(rids, pa.string())).cast(RECORD_SCHEMA)
    metrics = ingest_metrics(read, records.num_rows, bad_rows, sources)
    return records, quarantine_table(bad_rows), metrics

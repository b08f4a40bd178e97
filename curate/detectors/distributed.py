"""The detectors on Ray (``executor: ray``): :func:`curate.detectors.runner.detect` as a plain
function over pyarrow batches of the ingested records (``ray.data.read_parquet`` ->
``map_batches``), each batch with fresh detectors built from the same params.

A detector's ``check`` sees one record, so a batch's findings are the ones the whole-table run
makes for those records; annotations come back in record order. The stage's metrics are
recomputed on the driver from all annotations (:func:`curate.detectors.runner.detect_metrics`),
times are summed over batches, and each detector's own counts are merged by its
:meth:`curate.detectors.registry.Detector.merge_metrics`. Model-based detectors (opt-in)
compute their batch signals per batch: their embeddings come from the same content-hash cache.
tests/test_executors.py checks that both executors write the same annotations.
"""

from __future__ import annotations

import io
import json
import os
from collections import Counter
from typing import Mapping

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.executor import import_ray
from curate.core.schema import ANNOTATION_SCHEMA, annotations_table
from curate.detectors import registry
from curate.detectors.runner import build_detectors, detect, detect_metrics

COLUMNS = ["id", "instruction", "input", "output"]


def _to_ipc(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    return sink.getvalue()


def _detect_batch(batch: pa.Table, params: Mapping, paths: Mapping, teacher: bool) -> pa.Table:
    """One batch of records -> one row: its first record's id, its annotations (Arrow IPC) and the
    timings and per-detector metrics of its run (JSON)."""
    detectors = build_detectors(params, paths=paths)
    records = batch.select(COLUMNS)
    ann, m = detect(records, params["policy"], detectors, teacher=teacher)
    extra = {d.name: x for d in detectors if (x := d.metrics()) is not None}
    info = {"seconds": m["seconds_by_detector"], "prepare": m["prepare_seconds"], "by_detector": extra}
    return pa.table({"first": pa.array([batch.column("id")[0].as_py()], pa.string()),
                     "ann": pa.array([_to_ipc(ann)], pa.binary()),
                     "info": pa.array([json.dumps(info)], pa.string())})


def detect_ray(records_path: str, params: Mapping, paths: Mapping, *, teacher: bool = False,
               batch_size: int = 2048) -> tuple[pa.Table, dict]:
    """:func:`curate.detectors.runner.detect` over the records of the Parquet file
    ``records_path`` on Ray: the same annotations, in the same order, and the same metrics but
    for the times (``seconds_by_detector`` and ``prepare_seconds`` are summed over batches and
    workers). ``params``: the validated ``detect`` section; ``paths``: the ``paths`` section
    (detector files); ``batch_size``: records per ``map_batches`` batch. Raises
    :class:`curate.core.config.ParamsError` for an unknown detector or action (checked on the
    driver, before any task runs)."""
    ray = import_ray()
    # workers may start in another directory (or on another machine sharing the filesystem)
    records_path = os.path.abspath(records_path)
    paths = {k: os.path.abspath(v) if isinstance(v, str) and v and "://" not in v and not v.startswith("hf:") else v
             for k, v in paths.items()}
    detectors = build_detectors(params, paths=paths)  # validates params here, not in a worker
    registry.resolve_policy(params["policy"], tuple(d.name for d in detectors), teacher=teacher)
    ids = pq.read_table(records_path, columns=["id"]).column("id").to_pylist()
    n = len(ids)
    position = {i: k for k, i in enumerate(ids)}  # ids are unique (ingest); orders the batches
    ds = ray.data.read_parquet(records_path).select_columns(COLUMNS)
    out = ray.get(ds.map_batches(_detect_batch, batch_format="pyarrow", batch_size=batch_size,
                                 fn_kwargs={"params": dict(params), "paths": dict(paths), "teacher": teacher})
                  .to_arrow_refs()) if n else []
    rows = sorted((r for t in out for r in t.to_pylist()), key=lambda r: position[r["first"]])
    parts = [pa.ipc.open_stream(r["ann"]).read_all() for r in rows]
    ann = pa.concat_tables(parts).cast(ANNOTATION_SCHEMA) if parts else annotations_table([])
    infos = [json.loads(r["info"]) for r in rows]
    ann_rows = ann.to_pylist()
    hits = Counter(a["check_name"] for a in ann_rows)
    prepare = Counter()
    seconds = Counter()
    for i in infos:
        prepare.update(i["prepare"])
        seconds.update(i["seconds"])
    m = detect_metrics(n, ann_rows, hits, detectors, dict(prepare))
    m["seconds_by_detector"] = {d.name: round(seconds.get(d.name, 0.0), 3) for d in detectors}
    extra = {}
    for d in detectors:
        got = [i["by_detector"][d.name] for i in infos if d.name in i["by_detector"]]
        if got:
            extra[d.name] = type(d).merge_metrics(got)
    if extra:
        m["by_detector"] = extra
    m["batches"] = len(rows)
    return ann, m

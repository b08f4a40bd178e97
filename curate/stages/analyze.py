"""The ``analyze`` stage: verb-noun parse, the DuckDB database, and the verb-noun plot."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow.parquet as pq

from curate.core.config import Analyze, validate_section
from curate.core.schema import RECORD_SCHEMA, read_table, write_parquet
from curate.analysis.db import build_database
from curate.analysis.plots import render_png, write_plot_csv
from curate.analysis.verbs import top_verb_nouns, verb_noun_table

log = logging.getLogger(__name__)


def run_analyze(params: dict) -> dict:
    """Run the analyze stage described by ``params`` (the parsed params.yaml) and return metrics.

    Reads ``params["paths"]``: ``ingested`` (required), ``clean``, ``quarantine``,
    ``dedupe_annotations``, ``detect_annotations``, ``repair_annotations`` (each optional, used
    only if named and the file exists), and writes ``verb_noun`` (Parquet ``id, verb, noun`` for
    every ingested record), ``database`` (DuckDB, see :mod:`curate.analysis.db`),
    ``verb_noun_plot`` (CSV for ``dvc plots``) and ``verb_noun_png`` (skipped without
    matplotlib); those four outputs are required. Options come from ``params["analyze"]``
    (possibly partial; validated by :class:`curate.core.config.Analyze`, which holds the defaults).

    Returns the database metrics (:func:`curate.analysis.db.database_metrics`) plus
    ``annotation_files`` (those found) and ``plot`` (``{"dataset", "verbs", "rows"}``).
    Raises ``FileNotFoundError`` when the ingested records are missing,
    :class:`curate.core.config.ParamsError` (a ``ValueError``) for options that do not fit the schema
    (e.g. a bad ``plot_dataset``), ``ValueError`` for a file without the expected columns.
    """
    paths = params["paths"]
    opts = validate_section(Analyze, params.get("analyze"), "analyze")

    def existing(key: str) -> Path | None:
        value = paths.get(key)
        return Path(value) if value and Path(value).exists() else None

    ingested = Path(paths["ingested"])
    if not ingested.exists():
        raise FileNotFoundError(f"analyze: ingested records {ingested} do not exist (run the ingest stage first)")
    raw = read_table(ingested, RECORD_SCHEMA)
    clean_path = existing("clean")
    annotation_files = [p for p in (existing("dedupe_annotations"), existing("detect_annotations"),
                                    existing("repair_annotations")) if p]

    start = time.perf_counter()
    verb_noun = verb_noun_table(
        raw.column("id").to_pylist(),
        raw.column("instruction").to_pylist(),
        model=opts["model"],
        batch_size=opts["batch_size"],
        max_chars=opts["max_instruction_chars"],
    )
    log.info("verb-noun parse of %d instructions: %.1f s", raw.num_rows, time.perf_counter() - start)
    write_parquet(verb_noun, paths["verb_noun"])

    start = time.perf_counter()
    metrics = build_database(
        paths["database"],
        raw,
        clean_path,
        annotation_files,
        existing("quarantine"),
        verb_noun,
        top_verbs=opts["metrics_top_verbs"],
    )
    log.info("database %s built: %.1f s", paths["database"], time.perf_counter() - start)

    dataset = opts["plot_dataset"]
    if dataset == "clean" and clean_path is None:
        log.warning("analyze: no clean records at %s; plotting the raw records", paths.get("clean"))
        dataset = "raw"
    plotted = verb_noun
    if dataset == "clean":
        clean_ids = set(pq.read_table(clean_path, columns=["id"]).column("id").to_pylist())
        plotted = verb_noun.filter([i in clean_ids for i in verb_noun.column("id").to_pylist()])
    rows = top_verb_nouns(plotted, opts["top_verbs"], opts["top_nouns"])
    write_plot_csv(rows, paths["verb_noun_plot"])
    if opts["png"]:
        png = render_png(rows, paths["verb_noun_png"], title=f"Verb-noun structure ({dataset} records)")
        if png is None:
            log.warning("analyze: matplotlib not installed (or nothing to plot); no PNG written")

    metrics["annotation_files"] = [str(p) for p in annotation_files]
    metrics["plot"] = {"dataset": dataset, "verbs": len({r["verb"] for r in rows}), "rows": len(rows)}
    return metrics


def run(ctx) -> dict:
    """``curate analyze``: :func:`run_analyze` timed, metrics in ``reports/analyze.json`` (headline: ``metrics/analyze.json``)."""
    from curate.stages.base import timed

    return timed(ctx, "analyze", lambda: run_analyze(ctx.params), {"read": "rows.raw", "kept": "rows.clean"})

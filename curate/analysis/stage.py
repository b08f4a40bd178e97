"""The ``analyze`` stage: verb-noun parse, the DuckDB database, and the verb-noun plot."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pyarrow.parquet as pq

from curate.schema import RECORD_SCHEMA, read_table, write_parquet
from curate.analysis.db import build_database
from curate.analysis.plots import render_png, write_plot_csv
from curate.analysis.verbs import DEFAULT_MODEL, top_verb_nouns, verb_noun_table

log = logging.getLogger(__name__)

#: Defaults of the ``analyze:`` section of params.yaml.
DEFAULTS = {
    "model": DEFAULT_MODEL,  # spaCy pipeline for the dependency parse
    "batch_size": 256,  # nlp.pipe batch size
    "max_instruction_chars": 1000,  # instructions are cut to this before parsing
    "top_verbs": 20,  # verbs in the plot (self-instruct Figure 2: 20)
    "top_nouns": 4,  # nouns per verb in the plot (Figure 2: 4)
    "plot_dataset": "clean",  # records the plot counts: clean or raw
    "metrics_top_verbs": 20,  # verbs listed in metrics
    "png": True,  # also draw the two-ring PNG (needs matplotlib)
}

#: Default output paths when ``paths`` does not name them.
DEFAULT_PLOT_CSV = "outputs/analysis/verb_noun_top.csv"
DEFAULT_PLOT_PNG = "outputs/analysis/verb_noun_top.png"


def run_analyze(params: dict) -> dict:
    """Run the analyze stage described by ``params`` (the parsed params.yaml) and return metrics.

    Reads ``params["paths"]``: ``ingested`` (required), ``clean``, ``quarantine``,
    ``dedupe_annotations``, ``detect_annotations`` (each used only if the file exists), and writes
    ``verb_noun`` (Parquet ``id, verb, noun`` for every ingested record), ``database`` (DuckDB,
    see :mod:`curate.analysis.db`), ``verb_noun_plot`` (CSV for ``dvc plots``, default
    ``outputs/analysis/verb_noun_top.csv``) and ``verb_noun_png`` (default
    ``outputs/analysis/verb_noun_top.png``, skipped without matplotlib). Options come from
    ``params["analyze"]`` (see :data:`DEFAULTS`).

    Returns the database metrics (:func:`curate.analysis.db.database_metrics`) plus
    ``annotation_files`` (those found) and ``plot`` (``{"dataset", "verbs", "rows"}``).
    Raises ``FileNotFoundError`` when the ingested records are missing, ``ValueError`` for a
    bad ``plot_dataset`` or a file without the expected columns.
    """
    paths = params["paths"]
    opts = {**DEFAULTS, **(params.get("analyze") or {})}
    if opts["plot_dataset"] not in ("clean", "raw"):
        raise ValueError(f"analyze.plot_dataset must be 'clean' or 'raw', got {opts['plot_dataset']!r}")

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
        batch_size=int(opts["batch_size"]),
        max_chars=int(opts["max_instruction_chars"]),
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
        top_verbs=int(opts["metrics_top_verbs"]),
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
    rows = top_verb_nouns(plotted, int(opts["top_verbs"]), int(opts["top_nouns"]))
    write_plot_csv(rows, paths.get("verb_noun_plot", DEFAULT_PLOT_CSV))
    if opts["png"]:
        png = render_png(rows, paths.get("verb_noun_png", DEFAULT_PLOT_PNG), title=f"Verb-noun structure ({dataset} records)")
        if png is None:
            log.warning("analyze: matplotlib not installed (or nothing to plot); no PNG written")

    metrics["annotation_files"] = [str(p) for p in annotation_files]
    metrics["plot"] = {"dataset": dataset, "verbs": len({r["verb"] for r in rows}), "rows": len(rows)}
    return metrics

"""Shared fixture builders for the analysis tests (small real Alpaca records, no network)."""

from __future__ import annotations

import json
from pathlib import Path

from curate.core.schema import (
    annotations_table,
    content_id,
    make_record,
    quarantine_table,
    records_table,
    write_parquet,
)
from tests.conftest import FIXTURES

FIXTURE = FIXTURES / "analysis" / "alpaca_sample.json"


def sample_records() -> list[dict]:
    """The 34 real Alpaca records of the fixture as curate records (ids by content_id)."""
    rows = json.loads(FIXTURE.read_text(encoding="utf-8"))
    return [
        make_record(
            id=content_id(r["instruction"], r["input"]),
            instruction=r["instruction"],
            input=r["input"],
            output=r["output"],
            source="alpaca52k_real_subset.json",
            source_index=i,
            meta={"fixture": True},
        )
        for i, r in enumerate(rows)
    ]


def by_prefix(records: list[dict], prefix: str) -> dict:
    return next(r for r in records if r["instruction"].startswith(prefix))


def write_run(tmp_path: Path) -> dict:
    """Write a small run (ingested, clean, annotations, quarantine) and return params.

    Clean drops the "What is a bond?" record (detect: drop) and the second "Write a poem"
    record (dedupe: exact duplicate of the first); the "Describe the predominant emotion"
    record is normalized (its output gains a trailing period). No detect annotations file for
    ``detect_annotations`` is missing on purpose in some tests (see ``missing_detect``).
    """
    raw = sample_records()
    bond = by_prefix(raw, "What is a bond?")
    poems = [r for r in raw if r["instruction"].startswith("Write a poem")]
    emotion = by_prefix(raw, "Describe the predominant emotion")
    dropped = {bond["id"], poems[1]["id"]}
    clean = []
    for r in raw:
        if r["id"] in dropped:
            continue
        if r["id"] == emotion["id"]:
            r = {**r, "output": r["output"] + " (normalized)"}
        clean.append(r)
    dedupe = annotations_table(
        [
            {"id": poems[1]["id"], "stage": "dedupe", "check_name": "exact", "score": 1.0,
             "action": "drop", "reason": "duplicate", "matched_id": poems[0]["id"]},
            {"id": poems[0]["id"], "stage": "dedupe", "check_name": "exact", "score": 0.0,
             "action": "keep", "reason": "first of its group"},
        ]
    )
    detect = annotations_table(
        [
            {"id": bond["id"], "stage": "detect", "check_name": "short_output", "score": 0.9,
             "action": "drop", "reason": "output too short"},
            {"id": emotion["id"], "stage": "detect", "check_name": "punctuation", "score": 0.5,
             "action": "normalize", "reason": "missing period", "field": "output",
             "value": emotion["output"] + " (normalized)"},
        ]
    )
    quarantine = quarantine_table(
        [{"file": "broken.jsonl", "record_number": 7, "id": None, "field": "output",
          "reason": "not a string", "raw": '{"output": 5}'}]
    )
    paths = {
        "ingested": tmp_path / "ingest" / "records.parquet",
        "quarantine": tmp_path / "ingest" / "quarantine.parquet",
        "dedupe_annotations": tmp_path / "dedupe" / "annotations.parquet",
        "detect_annotations": tmp_path / "detect" / "annotations.parquet",
        "clean": tmp_path / "clean" / "records.parquet",
        "database": tmp_path / "analysis" / "curate.duckdb",
        "verb_noun": tmp_path / "analysis" / "verb_noun.parquet",
        "verb_noun_plot": tmp_path / "analysis" / "verb_noun_top.csv",
        "verb_noun_png": tmp_path / "analysis" / "verb_noun_top.png",
    }
    write_parquet(records_table(raw), paths["ingested"])
    write_parquet(records_table(clean), paths["clean"])
    write_parquet(dedupe, paths["dedupe_annotations"])
    write_parquet(detect, paths["detect_annotations"])
    write_parquet(quarantine, paths["quarantine"])
    return {
        "paths": {k: str(v) for k, v in paths.items()},
        "analyze": {"top_verbs": 3, "top_nouns": 2},
        "_raw": raw,
        "_clean": clean,
        "_dropped": dropped,
        "_emotion": emotion,
        "_poems": poems,
    }

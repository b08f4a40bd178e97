"""The analyze stage: DuckDB database joinable on id, metrics, verb-noun plot CSV."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from curate.analysis.db import build_database
from curate.stages.analyze import run_analyze
from tests.analysis.helpers import by_prefix, write_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One analyze run over the 34-record fixture (parsed once for the module)."""
    tmp = tmp_path_factory.mktemp("analyze")
    params = write_run(tmp)
    stage_params = {k: v for k, v in params.items() if not k.startswith("_")}
    metrics = run_analyze(stage_params)
    return params, metrics


def query(db, sql, args=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, args or []).fetchall()
    finally:
        con.close()


def test_tables_and_counts(run):
    params, metrics = run
    db = params["paths"]["database"]
    tables = {r[0] for r in query(db, "SELECT table_name FROM information_schema.tables")}
    assert {"raw", "clean", "annotations", "quarantine", "verb_noun", "lengths", "clean_lengths",
            "decisions", "record_status", "verb_noun_top"} <= tables
    assert metrics["rows"] == {"raw": 34, "clean": 32, "annotations": 4, "quarantine": 1, "verb_noun": 34}
    assert metrics["annotations_by_action"] == {"drop": 2, "keep": 1, "normalize": 1}
    assert len(metrics["annotation_files"]) == 2


def test_join_on_id(run):
    params, _ = run
    db = params["paths"]["database"]
    rows = query(
        db,
        """SELECT c.instruction, v.verb, v.noun, l.instruction_words
           FROM clean c JOIN verb_noun v USING (id) JOIN clean_lengths l USING (id)
           WHERE c.instruction LIKE 'Given the input, generate%'""",
    )
    assert rows == [("Given the input, generate a metaphor.", "generate", "metaphor", 6)]
    # the dropped duplicate poem: raw -> annotations -> the record it duplicates
    dup = params["_poems"][1]
    rows = query(
        db,
        """SELECT d.in_clean, d.action, m.instruction FROM decisions d
           JOIN raw m ON m.id = d.matched_id WHERE d.id = ?""",
        [dup["id"]],
    )
    assert rows == [(False, "drop", params["_poems"][0]["instruction"])]


def test_record_status_and_normalized_lengths(run):
    params, _ = run
    db = params["paths"]["database"]
    status = dict(query(db, "SELECT action, count(*) FROM record_status GROUP BY action"))
    assert status == {"keep": 31, "drop": 2, "normalize": 1}
    assert query(db, "SELECT count(*) FROM record_status WHERE NOT in_clean")[0][0] == 2
    emotion = params["_emotion"]
    raw_len, clean_len = query(
        db,
        "SELECT l.output_chars, c.output_chars FROM lengths l JOIN clean_lengths c USING (id) WHERE id = ?",
        [emotion["id"]],
    )[0]
    assert raw_len == len(emotion["output"]) and clean_len == raw_len + len(" (normalized)")


def test_lengths_match_python(run):
    params, metrics = run
    db = params["paths"]["database"]
    got = {r[0]: r[1:] for r in query(db, "SELECT id, instruction_chars, instruction_words, input_chars, input_words, output_chars, output_words FROM lengths")}
    for r in params["_raw"]:
        expected = tuple(f(r[k]) for k in ("instruction", "input", "output") for f in (len, lambda s: len(s.split())))
        assert got[r["id"]] == expected, r["instruction"]
    raw_mean = sum(len(r["output"]) for r in params["_raw"]) / 34
    assert metrics["mean_lengths"]["raw"]["output_chars"] == pytest.approx(raw_mean, abs=0.01)


def test_verb_noun_metrics_and_parquet(run):
    params, metrics = run
    vn = pq.read_table(params["paths"]["verb_noun"]).to_pylist()
    assert len(vn) == 34
    bond = by_prefix(params["_raw"], "What is a bond?")
    assert {"id": bond["id"], "verb": None, "noun": None} in vn
    pairs = [(r["verb"], r["noun"]) for r in vn]
    with_pair = [p for p in pairs if p[0] and p[1]]
    assert metrics["verb_noun"]["raw"]["share_with_verb_noun"] == round(len(with_pair) / 34, 4)
    assert metrics["verb_noun"]["raw"]["distinct_verb_noun_pairs"] == len(set(with_pair))
    assert list(metrics["top_verbs"].items())[:3] == [("write", 7), ("generate", 6), ("create", 4)]


def test_plot_csv_topk(run):
    params, _ = run
    rows = list(csv.DictReader(open(params["paths"]["verb_noun_plot"], encoding="utf-8")))
    # expected from the clean records' verb-noun pairs, counted independently here
    clean_ids = {r["id"] for r in params["_clean"]}
    vn = [r for r in pq.read_table(params["paths"]["verb_noun"]).to_pylist() if r["id"] in clean_ids and r["verb"] and r["noun"]]
    verb_counts = Counter(r["verb"] for r in vn)
    pair_counts = Counter((r["verb"], r["noun"]) for r in vn)
    top3 = [v for v, _ in sorted(verb_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:3]]
    assert list(dict.fromkeys(r["verb"] for r in rows)) == top3 == ["write", "generate", "create"]
    for verb in top3:
        mine = [r for r in rows if r["verb"] == verb]
        assert 1 <= len(mine) <= 2  # top_nouns: 2 in the fixture params
        for r in mine:
            assert int(r["count"]) == pair_counts[(verb, r["noun"])]
            assert int(r["verb_count"]) == verb_counts[verb]
    write_rows = [(r["noun"], int(r["count"])) for r in rows if r["verb"] == "write"]
    assert write_rows == [("story", 3), ("poem", 2)]  # one of the 3 poems was dropped as a duplicate
    png = Path(params["paths"]["verb_noun_png"])
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert not png.exists()
    else:
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_annotation_file_and_atomic_rebuild(run, tmp_path):
    params, _ = run
    db = tmp_path / "a" / "curate.duckdb"
    raw = params["paths"]["ingested"]
    # only the annotation files that exist are passed by the stage; build_database itself refuses a missing one
    m = build_database(db, raw, params["paths"]["clean"], [params["paths"]["dedupe_annotations"]])
    assert m["rows"]["annotations"] == 2 and m["rows"]["quarantine"] == 0
    with pytest.raises(FileNotFoundError, match="nope.parquet"):
        build_database(db, raw, None, [tmp_path / "nope.parquet"])
    # the failed rebuild left the previous database intact and no temporary file
    assert query(db, "SELECT count(*) FROM annotations")[0][0] == 2
    assert sorted(p.name for p in db.parent.iterdir()) == ["curate.duckdb"]
    m = build_database(db, raw)  # overwrite
    assert m["rows"]["annotations"] == 0 and m["rows"]["clean"] == 0
    assert query(db, "SELECT count(*) FROM annotations")[0][0] == 0


def test_stage_without_detect_annotations(tmp_path):
    params = write_run(tmp_path)
    Path(params["paths"]["detect_annotations"]).unlink()
    Path(params["paths"]["quarantine"]).unlink()
    stage_params = {k: v for k, v in params.items() if not k.startswith("_")}
    stage_params["analyze"] = {"png": False, "plot_dataset": "raw", "top_verbs": 1, "top_nouns": 4}
    metrics = run_analyze(stage_params)
    assert metrics["rows"]["annotations"] == 2 and metrics["rows"]["quarantine"] == 0
    assert metrics["annotation_files"] == [params["paths"]["dedupe_annotations"]]
    rows = list(csv.DictReader(open(params["paths"]["verb_noun_plot"], encoding="utf-8")))
    # raw records: write has 8 pairs (3 poems, 3 stories, equation, sentence); 4 nouns at most
    assert [(r["noun"], r["count"]) for r in rows] == [("poem", "3"), ("story", "3"), ("equation", "1"), ("sentence", "1")]
    assert not Path(params["paths"]["verb_noun_png"]).exists()
    with pytest.raises(ValueError, match="plot_dataset"):
        run_analyze({**stage_params, "analyze": {"plot_dataset": "both"}})

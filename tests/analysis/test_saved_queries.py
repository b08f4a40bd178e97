"""The saved queries (curate/analysis/queries/*.sql, `curate sql --list`, `curate sql NAME`): each
says what it answers, runs on a database built from a small run, and gives the answer the tables
hold: why a record was dropped, the top reasons, the largest duplicate groups, normalisations."""

from __future__ import annotations

import json

import pytest

from curate.analysis.db import build_database
from curate.analysis.sql import QUERIES_DIR, saved_queries, saved_query
from curate.cli import main
from curate.core.schema import annotations_table, make_record, records_table

RAW = [make_record(id=f"r{i}", instruction=f"Name a colour {i}.", input="<noinput>" if i == 3 else "",
                   output="Blue." if i else "", source="t.json" if i < 4 else "u.json", source_index=i)
       for i in range(6)]
ANN = [
    {"id": "r0", "stage": "detect", "check_name": "empty_output", "category": "empty_output", "score": 1.0,
     "action": "drop", "reason": "output is empty", "confidence": 0.9},
    {"id": "r1", "stage": "dedupe", "check_name": "rouge_l", "score": 0.8, "action": "drop",
     "reason": "ROUGE-L F1 0.8 with r5", "matched_id": "r5"},
    {"id": "r2", "stage": "dedupe", "check_name": "minhash", "score": 0.9, "action": "drop",
     "reason": "Jaccard 0.9 with r5", "matched_id": "r5"},
    {"id": "r3", "stage": "detect", "check_name": "placeholder_input", "category": "placeholder_input",
     "score": 1.0, "action": "normalize", "reason": "input is a placeholder", "field": "input", "value": ""},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "curate.duckdb"
    clean = [r for r in RAW if r["id"] not in ("r0", "r1", "r2")]
    build_database(path, records_table(RAW), records_table(clean), [annotations_table(ANN)])
    return path


def _json(capsys, *args):
    assert main(["sql", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_every_saved_query_says_what_it_answers_and_runs(db, capsys):
    names = saved_queries()
    assert {"why_dropped", "top_reasons", "verb_noun_by_source", "largest_clusters", "normalized_changes"} <= set(names)
    for name, what in names.items():
        assert what.endswith("?") or "?" in what, (name, what)  # a question, from the file's first comment
        assert saved_query(name).lstrip().startswith("--")
        args = [name, "--db", str(db)] + (["--param", "id=r0"] if "$id" in saved_query(name) else [])
        assert main(["sql", *args]) == 0, name
    capsys.readouterr()
    assert main(["sql", "--list", "--db", str(db)]) == 0
    listed = capsys.readouterr().out
    assert all(n in listed for n in names) and "Why was record" in listed
    assert saved_query("nope") is None and saved_query("../etc") is None
    assert sorted(p.stem for p in QUERIES_DIR.glob("*.sql")) == sorted(names)


def test_answers_come_from_the_tables(db, capsys):
    why = _json(capsys, "why_dropped", "--db", str(db), "--param", "id=r0")
    assert [(r["check_name"], r["action"], r["reason"], r["in_clean"]) for r in why] == [
        ("empty_output", "drop", "output is empty", False)]
    top = _json(capsys, "top_reasons", "--db", str(db))
    assert {(r["check_name"], r["action"], r["records"]) for r in top} == {
        ("empty_output", "drop", 1), ("rouge_l", "drop", 1), ("minhash", "drop", 1), ("placeholder_input", "normalize", 1)}
    clusters = _json(capsys, "largest_clusters", "--db", str(db))
    assert [(c["cluster_id"], c["members"], c["dropped"], c["methods"], c["dropped_ids"]) for c in clusters] == [
        ("r5", 3, 2, ["minhash", "rouge_l"], ["r1", "r2"])]
    norm = _json(capsys, "normalized_changes", "--db", str(db))
    assert [(n["id"], n["field"], n["before"], n["after"]) for n in norm] == [("r3", "input", "<noinput>", "")]


def test_bad_parameters_fail_in_one_line(db, capsys):
    assert main(["sql", "why_dropped", "--db", str(db)]) == 2
    assert "parameters: id" in capsys.readouterr().err
    assert main(["sql", "why_dropped", "--db", str(db), "--param", "id"]) == 2
    assert capsys.readouterr().err.strip() == "curate sql: error: --param 'id': expected KEY=VALUE"
    assert main(["sql", "--db", str(db)]) == 2
    assert "curate sql --list" in capsys.readouterr().err


def test_clusters_table_reproduces_the_dedupe_drops(db):
    import duckdb
    import pyarrow as pa

    from curate.analysis.db import duplicate_clusters

    con = duckdb.connect(str(db), read_only=True)
    rows = con.execute("SELECT cluster_id, id, representative_id, method FROM clusters ORDER BY ALL").fetchall()
    assert rows == [("r5", "r1", "r5", "rouge_l"), ("r5", "r2", "r5", "minhash"), ("r5", "r5", "r5", None)]
    # grouping by cluster: every member but the representative is exactly a dedupe drop
    members = set(con.execute("SELECT id FROM clusters WHERE id <> representative_id").fetchall())
    drops = set(con.execute("SELECT id FROM annotations WHERE stage = 'dedupe' AND action = 'drop'").fetchall())
    assert members == drops
    con.close()
    # a chain across methods ends at the record dedupe kept; a seed match is its own representative
    ann = annotations_table([
        {"id": "a", "stage": "dedupe", "check_name": "embedding", "score": 0.95, "action": "drop", "reason": "x", "matched_id": "b"},
        {"id": "b", "stage": "dedupe", "check_name": "minhash", "score": 0.9, "action": "drop", "reason": "x", "matched_id": "c"},
        {"id": "d", "stage": "dedupe", "check_name": "rouge_l", "score": 0.8, "action": "drop", "reason": "x", "matched_id": "seed:7"},
        {"id": "e", "stage": "detect", "check_name": "refusal", "score": 1.0, "action": "drop", "reason": "x"},
    ])
    got = duplicate_clusters(ann).to_pylist()
    assert [(r["cluster_id"], r["id"], r["method"]) for r in got] == [
        ("c", "c", None), ("c", "a", "embedding"), ("c", "b", "minhash"), ("seed:7", "seed:7", None), ("seed:7", "d", "rouge_l")]
    assert duplicate_clusters(ann.slice(3)).num_rows == 0 and isinstance(duplicate_clusters(ann), pa.Table)

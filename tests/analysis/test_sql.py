"""curate.analysis.sql.run_query: read-only queries, output formats, clear errors."""

from __future__ import annotations

import csv
import io
import json

import duckdb
import pytest

from curate.analysis.db import build_database
from curate.analysis.sql import QueryError, run_query
from curate.core.schema import records_table

RECORDS = [
    {"id": "r1", "instruction": "Write a poem.", "input": "", "output": "Roses, red", "source": "t", "source_index": 0, "meta": "{}"},
    {"id": "r2", "instruction": "Name a color.", "input": "", "output": 'Blue, "sky" blue', "source": "t", "source_index": 1, "meta": "{}"},
    {"id": "1234e56", "instruction": "Add 2 and 3.", "input": "2, 3", "output": "5", "source": "t", "source_index": 2, "meta": '{"k": 1}'},
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("sql") / "curate.duckdb"
    build_database(path, records_table(RECORDS), records_table(RECORDS[:2]))
    return path


def test_table_output_and_max_rows(db):
    text = run_query(db, "SELECT id, source_index FROM raw ORDER BY source_index")
    assert "| id " in text and "| r2 " in text and "(3 rows)" in text
    assert "| 1234e56 " in text  # a hex-like id is not turned into a number
    text = run_query(db, "SELECT id FROM raw ORDER BY source_index", max_rows=1)
    assert "r1" in text and "r2" not in text
    assert "(1 of 3 rows shown" in text
    assert "NULL" in run_query(db, "SELECT NULL AS x")


def test_csv_output_parses(db):
    text = run_query(db, "SELECT id, output, source_index, json_extract(meta, '$.k') AS k FROM raw ORDER BY source_index", fmt="csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["id"] for r in rows] == ["r1", "r2", "1234e56"]
    assert rows[1]["output"] == 'Blue, "sky" blue'  # comma and quotes survive
    assert rows[2]["source_index"] == "2" and rows[2]["k"] == "1" and rows[0]["k"] == ""


def test_json_output_parses(db):
    data = json.loads(run_query(db, "SELECT id, source_index, id IN (SELECT id FROM clean) AS in_clean, [1, 2] AS l, 'nan'::DOUBLE AS x FROM raw ORDER BY source_index", fmt="json"))
    assert data[0] == {"id": "r1", "source_index": 0, "in_clean": True, "l": [1, 2], "x": None}
    assert data[2]["in_clean"] is False
    assert json.loads(run_query(db, "SELECT 1 WHERE false", fmt="json")) == []


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO raw SELECT * FROM raw",
        "DELETE FROM raw",
        "CREATE TABLE t AS SELECT 1",
        "DROP TABLE raw",
    ],
)
def test_writes_fail_clearly_and_change_nothing(db, sql):
    with pytest.raises(QueryError, match="read-only") as err:
        run_query(db, sql)
    assert str(db) in str(err.value)
    assert isinstance(err.value, ValueError)
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM raw").fetchone()[0] == 3
    con.close()


def test_no_file_access(db, tmp_path):
    target = tmp_path / "leak.csv"
    with pytest.raises(QueryError, match="disabled"):
        run_query(db, f"COPY (SELECT * FROM raw) TO '{target}'")
    assert not target.exists()
    with pytest.raises(QueryError):
        run_query(db, "SET enable_external_access = true")


def test_bad_sql_and_missing_db(db, tmp_path):
    with pytest.raises(QueryError, match="nope") as err:
        run_query(db, "SELECT * FROM nope")
    assert str(db) in str(err.value)
    with pytest.raises(QueryError, match="syntax"):
        run_query(db, "SELEC 1")
    missing = tmp_path / "none.duckdb"
    with pytest.raises(QueryError, match="does not exist"):
        run_query(missing, "SELECT 1")
    assert not missing.exists()  # read-only open must not create it
    with pytest.raises(ValueError, match="unknown output format"):
        run_query(db, "SELECT 1", fmt="xml")

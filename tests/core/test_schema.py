"""curate.core.schema.read_table: any stage table, one-line errors naming the file."""

import pyarrow as pa
import pytest

from curate.core.errors import CurateError
from curate.core.schema import ANNOTATION_SCHEMA, annotations_table, read_table, write_parquet


def _ann():
    return annotations_table([{"id": "r0", "stage": "dedupe", "check_name": "exact", "score": 1.0,
                               "action": "drop", "reason": "dup", "matched_id": "r1"}])


def test_nullable_columns_added_later_are_filled_with_nulls(tmp_path):
    old = _ann().drop_columns(["category", "confidence"])  # a file written before those columns
    t = read_table(write_parquet(old, tmp_path / "a.parquet"), ANNOTATION_SCHEMA)
    assert t.schema == ANNOTATION_SCHEMA and t.column("category").to_pylist() == [None]


def test_a_null_in_a_non_nullable_column_is_one_line(tmp_path):
    bad = _ann().set_column(5, "reason", pa.array([None], pa.string()))
    p = write_parquet(bad, tmp_path / "a.parquet")
    with pytest.raises(CurateError) as e:
        read_table(p, ANNOTATION_SCHEMA)
    assert str(e.value) == f"{p}: not a curate table: Casting field 'reason' with null values to non-nullable"


def test_missing_required_column(tmp_path):
    p = write_parquet(_ann().drop_columns(["reason"]), tmp_path / "a.parquet")
    with pytest.raises(CurateError, match=r"a.parquet: not a curate table, missing columns \['reason'\]$"):
        read_table(p, ANNOTATION_SCHEMA)

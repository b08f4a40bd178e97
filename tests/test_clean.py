"""Clean applies annotations: drops with reasons, normalisations in order, flags; counts add up."""

import json

import pytest

from curate.cleaning.clean import apply_annotations
from curate.cleaning.detect import detect
from curate.cleaning.ingest import ingest
from curate.errors import CurateError
from curate.schema import annotations_table, make_record, records_table
from tests.conftest import SAMPLE


def _table(n):
    return records_table([make_record(id=f"r{i}", instruction=f"Task {i}.", input="<noinput>", output="Out.",
                                      source="t", source_index=i) for i in range(n)])


def test_drop_normalize_review_and_conservation():
    ann = annotations_table([
        {"id": "r0", "stage": "dedupe", "check_name": "exact", "score": 1.0, "action": "drop", "reason": "dup of r9", "matched_id": "r9"},
        {"id": "r1", "stage": "detect", "check_name": "placeholder_input", "score": 1.0, "action": "normalize",
         "reason": "placeholder", "field": "input", "value": ""},
        {"id": "r1", "stage": "detect", "check_name": "merged_instruction", "score": 1.0, "action": "normalize",
         "reason": "merged", "field": "output", "value": "Out"},
        {"id": "r2", "stage": "detect", "check_name": "unseeable_content", "score": 0.9, "action": "review", "reason": "url"},
    ])
    clean, dropped, m = apply_annotations(_table(4), [ann], quarantined=2)
    assert (m["records_read"], m["kept"], m["dropped"], m["quarantined"]) == (6, 3, 1, 2) and m["conservation_ok"]
    (d,) = dropped.to_pylist()
    assert (d["id"], d["drop_check"], d["drop_reason"], d["drop_matched_id"]) == ("r0", "exact", "dup of r9", "r9")
    rows = {r["id"]: r for r in clean.to_pylist()}
    assert (rows["r1"]["input"], rows["r1"]["output"]) == ("", "Out")
    changes = json.loads(rows["r1"]["meta"])["changes"]
    assert [c["check_name"] for c in changes] == ["placeholder_input", "merged_instruction"]
    assert [c["old"] for c in changes] == ["<noinput>", "Out."]  # history keeps what was replaced
    assert json.loads(rows["r2"]["meta"])["flags"][0]["action"] == "review"
    assert rows["r3"]["input"] == "<noinput>"  # nothing said about it: untouched
    assert m["normalized_by_check"] == {"merged_instruction": 1, "placeholder_input": 1}


def test_annotation_for_unknown_record_is_an_error():
    ann = annotations_table([{"id": "nope", "stage": "x", "check_name": "c", "action": "drop", "reason": "r"}])
    with pytest.raises(CurateError, match="not ingested"):
        apply_annotations(_table(1), [ann])


def test_real_sample_end_to_end_accounting():
    records, quarantine, _ = ingest([str(SAMPLE)])
    ann, _ = detect(records)
    clean, dropped, m = apply_annotations(records, [ann], quarantine.num_rows)
    assert m["kept"] + m["dropped"] + m["quarantined"] == 100
    assert m["dropped_by_check"]["empty_output"] >= 1
    assert not any(r["input"].strip().lower() in ("no input", "<no input>", "noinput") for r in clean.to_pylist())

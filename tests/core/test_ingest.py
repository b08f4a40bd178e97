"""Ingest: validation, quarantine with file/record/field/reason, conservation, bad inputs."""

import json
import subprocess
import sys

import pytest

from curate.core.ingest import ingest
from curate.core.errors import CurateError
from tests.conftest import SAMPLE


def _write(tmp_path, name, data: bytes):
    p = tmp_path / name
    p.write_bytes(data)
    return p


def _q(quarantine):
    return quarantine.to_pylist()


def test_real_sample_counts_add_up_and_empty_instructions_are_quarantined(sample_records):
    records, quarantine, m = ingest([str(SAMPLE)])
    assert m["records_read"] == len(sample_records) == 100
    assert m["ingested"] + m["quarantined"] == 100
    # the real data holds two records with an empty instruction
    q = _q(quarantine)
    assert {r["reason"] for r in q} == {"empty instruction"}
    assert {r["field"] for r in q} == {"instruction"}
    assert all(r["file"] == "alpaca_sample.json" for r in q)
    assert [sample_records[r["record_number"]]["instruction"].strip() for r in q] == ["", ""]
    # ids are unique and stable across runs
    ids = records.column("id").to_pylist()
    assert len(set(ids)) == len(ids)
    assert ingest([str(SAMPLE)])[0].column("id").to_pylist() == ids


def test_wrong_types_missing_fields_nul_and_long_fields(tmp_path):
    good = {"instruction": "Name a color.", "input": "", "output": "Blue."}
    items = [
        good,
        {"instruction": "Add 2 and 3.", "input": "", "output": 5},            # wrong type
        {"instruction": "Say hi.", "output": "Hi."},                          # missing input
        {"instruction": None, "input": "", "output": "x"},                     # null
        {"instruction": "Echo.", "input": "a\x00b", "output": "ab"},           # NUL byte
        {"instruction": "Long.", "input": "", "output": "x" * (5 * 1024 * 1024)},  # a 5 MB record
        ["not", "an", "object"],
        {"instruction": "   ", "input": "", "output": "empty instruction"},
    ]
    p = _write(tmp_path, "bad.json", json.dumps(items).encode())
    records, quarantine, m = ingest([str(p)])
    assert m == {**m, "records_read": 8, "ingested": 1, "quarantined": 7}
    q = {r["record_number"]: r for r in _q(quarantine)}
    assert q[1]["field"] == "output" and q[1]["reason"] == "wrong type: int, expected string"
    assert q[2]["field"] == "input" and q[2]["reason"] == "missing field"
    assert q[3]["field"] == "instruction" and q[3]["reason"] == "wrong type: null, expected string"
    assert q[4]["field"] == "input" and q[4]["reason"] == "NUL byte at character 1"
    assert q[5]["field"] == "output" and q[5]["reason"].startswith("too long: 5242880 characters")
    assert len(q[5]["raw"]) <= 500  # the 5 MB record is not copied into the quarantine table
    assert q[6]["reason"] == "wrong type: record is list, expected an object"
    assert q[7]["reason"] == "empty instruction"
    assert all(r["file"] == "bad.json" for r in q.values())


def test_invalid_utf8_is_quarantined_by_field_not_file(tmp_path):
    data = (b'[{"instruction": "Fix.", "input": "", "output": "caf\xe9 ok"},'
            b' {"instruction": "Fine.", "input": "", "output": "fine"}]')
    records, quarantine, m = ingest([str(_write(tmp_path, "latin1.json", data))])
    assert (m["ingested"], m["quarantined"]) == (1, 1)
    (row,) = _q(quarantine)
    assert (row["record_number"], row["field"]) == (0, "output")
    assert row["reason"] == "invalid UTF-8: undecodable byte at character 3"


def test_jsonl_malformed_line_is_quarantined_with_its_line(tmp_path):
    lines = [json.dumps({"instruction": "A.", "input": "", "output": "a"}),
             '{"instruction": "B.", "input": "", "output": ',   # cut off
             "",                                                  # blank line: not a record
             json.dumps({"instruction": "C.", "input": "", "output": "c"})]
    p = _write(tmp_path, "cut.jsonl", "\n".join(lines).encode())
    records, quarantine, m = ingest([str(p)])
    assert (m["records_read"], m["ingested"], m["quarantined"]) == (3, 2, 1)
    (row,) = _q(quarantine)
    assert row["record_number"] == 1 and row["reason"].startswith("malformed JSON")
    assert row["raw"].startswith('{"instruction": "B."')


def test_duplicate_explicit_ids_quarantine_the_second(tmp_path):
    items = [{"id": "a", "instruction": "X.", "input": "", "output": "1"},
             {"id": "a", "instruction": "Y.", "input": "", "output": "2"},
             {"id": 7, "instruction": "Z.", "input": "", "output": "3"}]
    records, quarantine, m = ingest([str(_write(tmp_path, "ids.json", json.dumps(items).encode()))])
    assert records.column("id").to_pylist() == ["a"]
    q = _q(quarantine)
    assert q[0]["reason"] == "duplicate id: first seen at ids.json record 0" and q[0]["field"] == "id"
    assert q[1]["reason"] == "wrong type: id must be a non-empty string, got int"


def test_repeated_prompts_get_distinct_content_ids(tmp_path):
    items = [{"instruction": "Same.", "input": "", "output": "1"}] * 3
    records, _, _ = ingest([str(_write(tmp_path, "rep.json", json.dumps(items).encode()))])
    ids = records.column("id").to_pylist()
    assert ids[1] == ids[0] + "-2" and ids[2] == ids[0] + "-3"


@pytest.mark.parametrize("name,data,message", [
    ("empty.json", b"", "file is empty"),
    ("empty.jsonl", b"\n\n", "file is empty"),
    ("broken.json", b'[{"instruction": "a", "input": "", "output": "b"},\n {"instruction": ', "malformed JSON at line 2 column"),
    ("obj.json", b'"just a string"', "expected a JSON array of records, got str"),
    ("data.csv", b"a,b\n", "unknown format '.csv'"),
])
def test_unreadable_files_raise_a_clear_error(tmp_path, name, data, message):
    p = _write(tmp_path, name, data)
    with pytest.raises(CurateError, match=message) as e:
        ingest([str(p)])
    assert str(p) in str(e.value)


def test_cli_reports_bad_input_in_one_line_without_traceback(tmp_path):
    p = _write(tmp_path, "broken.json", b"[{")
    params = tmp_path / "params.yaml"
    params.write_text(f"paths: {{raw_inputs: [{p}], ingested: {tmp_path}/r.parquet, quarantine: {tmp_path}/q.parquet}}\n")
    res = subprocess.run([sys.executable, "-m", "curate.cli", "--params", str(params), "ingest"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("curate ingest: error: ") and "broken.json: malformed JSON at line 1" in res.stderr


def test_provenance_sidecar_lands_in_meta(tmp_path):
    from tests.conftest import ROOT

    src = str(ROOT / "data/alpaca/alpaca52k_real_subset.json")
    side = str(ROOT / "data/alpaca/alpaca52k_real_subset_provenance.jsonl")
    records, _, _ = ingest([src], provenance={src: side})
    first = json.loads(records.column("meta")[0].as_py())
    # record 0 is original Alpaca row 7, found in long-is-more and CoachLM (data/README.md)
    assert first["provenance"] == {"i": 7, "s": ["LIML", "COACH"]}
    short = tmp_path / "short.jsonl"
    short.write_text('{"legend": {}}\n{"i": 1}\n')
    two = _write(tmp_path, "two.json", json.dumps([{"instruction": "a", "input": "", "output": "b"}] * 2).encode())
    with pytest.raises(CurateError, match="no entry for record 1"):
        ingest([str(two)], provenance={str(two): str(short)})


def test_sidecar_never_overwrites_a_records_own_provenance(tmp_path):
    side = tmp_path / "side.jsonl"
    side.write_text('{"i": 1}\n{"i": 2}\n')
    two = _write(tmp_path, "two.jsonl", (json.dumps({"instruction": "a", "input": "", "output": "b",
                                                     "provenance": {"i": 1}}) + "\n" +
                                          json.dumps({"instruction": "c", "input": "", "output": "d",
                                                      "provenance": "theirs"}) + "\n").encode())
    records, quarantine, m = ingest([str(two)], provenance={str(two): str(side)})
    assert json.loads(records.column("meta")[0].as_py()) == {"provenance": {"i": 1}}  # same value: kept once
    (row,) = _q(quarantine)
    assert (row["record_number"], row["field"]) == (1, "provenance")
    assert row["reason"] == f"field conflict: meta.provenance differs from entry 1 of {side}"


@pytest.mark.parametrize("content,message", [
    (None, "cannot read provenance sidecar"),
    (b'{"i": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n", "line 1: nested too deeply for the JSON parser in provenance.i"),
    (b'{"i": ' + b"9" * 5000 + b"}\n", "line 1: integer too large: 5000 digits"),
    (b"\xff\n", "cannot read provenance sidecar"),
])
def test_bad_sidecar_is_a_one_line_error(tmp_path, content, message):
    side = tmp_path / "side.jsonl"
    if content is not None:
        side.write_bytes(content)
    one = _write(tmp_path, "one.json", json.dumps([{"instruction": "a", "input": "", "output": "b"}]).encode())
    with pytest.raises(CurateError, match=message) as e:
        ingest([str(one)], provenance={str(one): str(side)})
    assert "\n" not in str(e.value)


def test_field_map_names_count_as_record_keys_for_a_single_object(tmp_path):
    p = _write(tmp_path, "one.json", json.dumps({"prompt": "P.", "input": "", "completion": "C.",
                                                 "labels": ["x", "y"]}).encode())
    records, quarantine, m = ingest([str(p)], {"prompt": "instruction", "completion": "output"})
    assert (m["records_read"], records.column("instruction").to_pylist()) == (1, ["P."])
    assert json.loads(records.column("meta")[0].as_py()) == {"labels": ["x", "y"]}


def test_cli_ingest_fails_when_every_record_is_quarantined(tmp_path):
    """A stage that produced nothing it was asked for exits non-zero (the quarantine is still
    written, so the user can see why)."""
    import subprocess
    import sys

    import yaml

    (tmp_path / "in.jsonl").write_text('{"instruction": "", "input": "", "output": "x"}\n'
                                       '{"instruction": 3, "input": "", "output": "x"}\n')
    (tmp_path / "params.yaml").write_text(yaml.safe_dump({"paths": {"raw_inputs": ["in.jsonl"]}}))
    res = subprocess.run([sys.executable, "-m", "curate.cli", "--params", str(tmp_path / "params.yaml"), "ingest"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "all 2 records read were quarantined" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert (tmp_path / "outputs/ingest/quarantine.parquet").exists()

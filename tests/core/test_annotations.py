"""Clean applies annotations: drops with reasons, normalisations in order, flags; counts add up."""

from pathlib import Path
import json

import pytest

from curate.core.annotations import apply_annotations
from curate.detectors.runner import detect
from curate.core.ingest import ingest
from curate.core.errors import CurateError
from curate.core.schema import annotations_table, make_record, records_table
from curate.core.config import load_params
from tests.conftest import ROOT, SAMPLE


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
    clean, dropped, m = apply_annotations(_table(4), [ann], quarantined=2, records_read=6)
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
    records, quarantine, im = ingest([str(SAMPLE)])
    ann, _ = detect(records, load_params(ROOT / "params.yaml")["detect"]["policy"])  # the project's policy
    clean, dropped, m = apply_annotations(records, [ann], quarantine.num_rows, records_read=im["records_read"])
    assert m["kept"] + m["dropped"] + m["quarantined"] == 100
    assert m["dropped_by_check"]["empty_output"] >= 1
    assert not any(r["input"].strip().lower() in ("no input", "<no input>", "noinput") for r in clean.to_pylist())


def test_conservation_check_can_fail_when_a_count_is_off():
    with pytest.raises(CurateError, match=r"clean lost records: read 7 != kept 4 \+ dropped 0 \+ quarantined 2"):
        apply_annotations(_table(4), [], quarantined=2, records_read=7)


def _ingest_then(tmp_path, monkeypatch, lines):
    """Run `curate ingest` on ``lines`` (JSONL) in tmp_path with empty dedupe/detect/repair
    annotations; returns the params path."""
    import yaml

    from curate.cli import main
    from curate.core.schema import write_parquet
    from tests.conftest import ROOT

    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    params["paths"]["raw_inputs"] = ["in.jsonl"]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    assert main(["--params", "params.yaml", "ingest"]) == 0
    for k in ("dedupe_annotations", "detect_annotations", "repair_annotations"):
        write_parquet(annotations_table([]), params["paths"][k])
    return params


def _lines(n):
    return [json.dumps({"instruction": f"Task {i}.", "input": "", "output": "Out."}) for i in range(n)] + [
        json.dumps({"instruction": "", "input": "", "output": "quarantined: empty instruction"})]


def test_cli_clean_fails_when_a_record_disappears_after_ingest(tmp_path, monkeypatch, capsys):
    import pyarrow.parquet as pq

    from curate.cli import main
    from curate.core.schema import write_parquet

    params = _ingest_then(tmp_path, monkeypatch, _lines(3))
    assert main(["--params", "params.yaml", "clean"]) == 0
    m = json.loads((tmp_path / "reports/clean.json").read_text())
    assert (m["records_read"], m["kept"], m["quarantined"], m["conservation_ok"]) == (4, 3, 1, True)
    head = json.loads((tmp_path / "metrics/clean.json").read_text())
    assert {k: head[k] for k in ("read", "kept", "quarantined", "dropped")} == {"read": 4, "kept": 3, "quarantined": 1, "dropped": 0}
    (tmp_path / "metrics/clean.json").unlink()
    (tmp_path / "reports/clean.json").unlink()
    ingested = params["paths"]["ingested"]
    write_parquet(pq.read_table(ingested).slice(1), ingested)  # a record vanishes between the stages
    capsys.readouterr()
    assert main(["--params", "params.yaml", "clean"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("curate clean: error: clean lost records: read 4 != kept 2 + dropped 0 + quarantined 1")
    assert err.count("\n") == 1
    assert not (tmp_path / "metrics/clean.json").exists()  # a failed check is never written as a result
    assert not (tmp_path / "reports/clean.json").exists()


@pytest.mark.parametrize("content,message", [
    (None, "reports/ingest.json: no such file; run `curate ingest` first"),
    ("{not json", "reports/ingest.json: cannot read ingest's metrics"),
    ('{"records_read": "4"}', "reports/ingest.json: records_read missing or not a non-negative integer: '4'"),
])
def test_cli_clean_needs_ingests_own_count(tmp_path, monkeypatch, capsys, content, message):
    from curate.cli import main

    _ingest_then(tmp_path, monkeypatch, _lines(2))
    path = tmp_path / "reports/ingest.json"
    path.unlink() if content is None else path.write_text(content)
    capsys.readouterr()
    assert main(["--params", "params.yaml", "clean"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("curate clean: error: ") and message in err and err.count("\n") == 1


def test_records_normalized_counts_this_runs_normalisations_not_input_changes_fields(tmp_path):
    p = tmp_path / "in.jsonl"
    history = [{"field": "input", "check_name": "placeholder_input", "reason": "earlier run", "old": "<noinput>"}]
    p.write_text("\n".join(json.dumps(r) for r in [
        {"id": "own", "instruction": "A.", "input": "", "output": "a", "meta": {"changes": history}},
        {"id": "field", "instruction": "B.", "input": "", "output": "b", "changes": "fixed a typo"},
        {"id": "norm", "instruction": "C.", "input": "<noinput>", "output": "c", "changes": ["their", "list"]},
        {"id": "plain", "instruction": "D.", "input": "", "output": "d"},
    ]) + "\n", encoding="utf-8")
    records, quarantine, im = ingest([str(p)])
    ann = annotations_table([{"id": "norm", "stage": "detect", "check_name": "placeholder_input", "score": 1.0,
                              "action": "normalize", "reason": "placeholder", "field": "input", "value": ""}])
    clean, _, m = apply_annotations(records, [ann], quarantine.num_rows, records_read=im["records_read"])
    assert m["records_normalized"] == 1 and m["normalized_by_check"] == {"placeholder_input": 1}
    metas = {r["id"]: json.loads(r["meta"]) for r in clean.to_pylist()}
    assert metas["own"]["changes"] == history  # an earlier run's history is kept, not recounted
    assert metas["field"] == {"input_changes": "fixed a typo"}  # the input's own field is not clean's history
    assert metas["norm"]["input_changes"] == ["their", "list"] and [c["old"] for c in metas["norm"]["changes"]] == ["<noinput>"]


def test_cli_clean_missing_annotations_is_one_line(tmp_path, monkeypatch, capsys):
    from curate.cli import main

    params = _ingest_then(tmp_path, monkeypatch, _lines(2))
    Path(params["paths"]["detect_annotations"]).unlink()
    capsys.readouterr()
    assert main(["--params", "params.yaml", "clean"]) == 2
    err = capsys.readouterr().err
    assert err == f"curate clean: error: {params['paths']['detect_annotations']}: no such file (run the stage that writes it first)\n"


def test_cli_clean_that_keeps_nothing_fails(tmp_path, monkeypatch, capsys):
    """Every record dropped: the stage produced nothing to train on, so it exits non-zero."""
    import pyarrow.parquet as pq

    from curate.cli import main
    from curate.core.schema import write_parquet

    params = _ingest_then(tmp_path, monkeypatch, _lines(2))
    ids = pq.read_table(params["paths"]["ingested"]).column("id").to_pylist()
    write_parquet(annotations_table([{"id": i, "stage": "detect", "check_name": "t", "action": "drop",
                                      "reason": "test"} for i in ids]), params["paths"]["detect_annotations"])
    capsys.readouterr()
    assert main(["--params", "params.yaml", "clean"]) == 2
    assert "every record was dropped (2 dropped, 1 quarantined)" in capsys.readouterr().err

"""`curate repair` (run_repair): repair-marked records get new outputs from the teacher
as normalize annotations, the old output is kept in the clean record's history, reruns resume."""

import json

import pytest

from curate.core.annotations import apply_annotations
from curate.core.errors import CurateError
from curate.repair.regenerate import run_repair
from curate.core.schema import ANNOTATION_SCHEMA, annotations_table, read_table, write_parquet
from tests.conftest import ROOT
from tests.fixtures.generation.fake_openai import FakeOpenAI


@pytest.fixture()
def setup(tmp_path, sample_records, monkeypatch):
    monkeypatch.chdir(ROOT)
    from curate.core.ingest import ingest

    recs = tmp_path / "records.parquet"
    table, _q, _m = ingest([str(ROOT / "tests/fixtures/alpaca_sample.json")])
    write_parquet(table, recs)
    rows = table.to_pylist()
    ann = annotations_table([
        {"id": rows[0]["id"], "stage": "detect", "check_name": "truncated_output", "score": 1.0,
         "action": "repair", "reason": "output ends 'October 31, 20'", "category": "truncated_output"},
        {"id": rows[1]["id"], "stage": "detect", "check_name": "math_check", "score": 0.5,
         "action": "repair", "reason": "expected 391", "category": "wrong_math"},
        {"id": rows[2]["id"], "stage": "detect", "check_name": "placeholder_input", "score": 1.0,
         "action": "normalize", "reason": "placeholder", "field": "input", "value": ""},
    ])
    write_parquet(ann, tmp_path / "detect.parquet")
    return tmp_path, table, rows


def _params(server, tmp_path, **kw):
    return {"base_url": server.base_url, "model": "fake-teacher", "api_key_env": "CURATE_TEST_KEY",
            "concurrency": 2, "progress": False,
            "retry": {"max_attempts": 3, "backoff_base_s": 0.001, "max_backoff_s": 0.01, "timeout_s": 5.0},
            "regenerate_log": str(tmp_path / "regenerated.jsonl"), **kw}


def test_repairs_become_normalize_annotations_with_history(setup, monkeypatch):
    tmp_path, table, rows = setup
    monkeypatch.setenv("CURATE_TEST_KEY", "sk-test-key")
    answer = lambda body: "NEW ANSWER to: " + body["messages"][0]["content"].split("### Instruction:\n")[1][:30]
    with FakeOpenAI([], responder=answer) as srv:
        m = run_repair(_params(srv, tmp_path), str(tmp_path / "detect.parquet"),
                       str(tmp_path / "records.parquet"), str(tmp_path / "repair.parquet"))
        prompts = [b["messages"][0]["content"] for _, _, b in srv.requests]
    assert (m["targets"], m["answered"], m["annotations"]) == (2, 2, 2)
    # the teacher sees Alpaca's training prompt of exactly the repair-marked records
    assert len(prompts) == 2 and all(p.startswith("Below is an instruction") for p in prompts)
    assert any(rows[0]["instruction"] in p for p in prompts) and not any(rows[2]["instruction"] in p for p in prompts)
    rep = read_table(tmp_path / "repair.parquet", ANNOTATION_SCHEMA).to_pylist()
    assert {r["action"] for r in rep} == {"normalize"} and {r["field"] for r in rep} == {"output"}
    r0 = next(r for r in rep if r["id"] == rows[0]["id"])
    assert r0["value"].startswith("NEW ANSWER to: " + rows[0]["instruction"][:10])
    assert "fake-teacher" in r0["reason"] and "truncated_output: output ends 'October 31, 20'" in r0["reason"]
    # clean applies it and keeps the old output in the history
    det = read_table(tmp_path / "detect.parquet", ANNOTATION_SCHEMA)
    clean, _d, cm = apply_annotations(table, [det, read_table(tmp_path / "repair.parquet", ANNOTATION_SCHEMA)])
    c0 = next(r for r in clean.to_pylist() if r["id"] == rows[0]["id"])
    meta = json.loads(c0["meta"])
    assert c0["output"] == r0["value"]
    assert meta["changes"][-1]["old"] == rows[0]["output"] and meta["changes"][-1]["check_name"] == "regenerate_output"
    assert meta["flags"][0]["action"] == "repair"


def test_rerun_resumes_without_asking_again_and_skips_unusable(setup, monkeypatch):
    tmp_path, table, rows = setup
    monkeypatch.setenv("CURATE_TEST_KEY", "sk-test-key")
    with FakeOpenAI([], responder=lambda b: "cut off answer", script={1: "length"}) as srv:
        p = _params(srv, tmp_path, concurrency=1)
        m1 = run_repair(p, str(tmp_path / "detect.parquet"), str(tmp_path / "records.parquet"),
                        str(tmp_path / "repair.parquet"))
        m2 = run_repair(p, str(tmp_path / "detect.parquet"), str(tmp_path / "records.parquet"),
                        str(tmp_path / "repair.parquet"))
        n_requests = len(srv.requests)
    assert (m1["answered"], m1["unusable"], m1["annotations"]) == (2, 1, 1)
    assert n_requests == 2 and (m2["answered"], m2["resumed"], m2["annotations"]) == (0, 2, 1)


def test_bad_annotations_file_is_a_clear_error(setup, monkeypatch, tmp_path):
    tmp, table, rows = setup
    bad = annotations_table([{"id": "nope", "stage": "detect", "check_name": "x", "action": "repair", "reason": "r"}])
    write_parquet(bad, tmp / "bad.parquet")
    with FakeOpenAI([]) as srv:
        with pytest.raises(CurateError, match="bad.parquet: 1 repair annotations name unknown records"):
            run_repair(_params(srv, tmp), str(tmp / "bad.parquet"), str(tmp / "records.parquet"), str(tmp / "o.parquet"))
        with pytest.raises(CurateError, match=r"missing.parquet: no such file \(run the stage that writes it first\)"):
            run_repair(_params(srv, tmp), str(tmp / "missing.parquet"), str(tmp / "records.parquet"), str(tmp / "o.parquet"))

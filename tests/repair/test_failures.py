"""Repair fails loudly: a run in which every request failed, or whose local teacher died, is a
CurateError naming the failure kind (the key kept out of every message and file) and writes no
annotation file; a partial failure is not an error."""

import time

import pytest

from curate.core.errors import CurateError
from curate.repair import regenerate as repair
from tests.conftest import ROOT
from tests.fixtures.generation.failing import KEY, guard, no_key_anywhere, segv_teacher  # noqa: F401 (fixtures)
from tests.fixtures.generation.fake_openai import FakeOpenAI


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setenv("CURATE_TEST_KEY", KEY)


@pytest.fixture()
def repair_setup(tmp_path):
    from curate.core.ingest import ingest
    from curate.core.schema import annotations_table, write_parquet

    table, _q, _m = ingest([str(ROOT / "tests/fixtures/alpaca_sample.json")])
    write_parquet(table, tmp_path / "records.parquet")
    rows = table.to_pylist()
    write_parquet(annotations_table([
        {"id": rows[i]["id"], "stage": "detect", "check_name": "truncated_output", "score": 1.0,
         "action": "repair", "reason": "cut", "category": "truncated_output"} for i in range(3)]),
        tmp_path / "detect.parquet")
    return tmp_path


def repair_params(base_url, tmp_path, **kw):
    return {"base_url": base_url, "model": "fake-teacher", "api_key_env": "CURATE_TEST_KEY",
            "concurrency": 2, "progress": False,
            "retry": {"max_attempts": 2, "backoff_base_s": 0.001, "max_backoff_s": 0.01,
                      "timeout_s": 5.0},
            "regenerate_log": str(tmp_path / "regenerated.jsonl"), **kw}


def run_repair(p, tmp_path):
    return repair.run_repair(p, str(tmp_path / "detect.parquet"), str(tmp_path / "records.parquet"),
                             str(tmp_path / "repair.parquet"))


def test_repair_total_failure_is_an_error(repair_setup):
    tmp_path = repair_setup
    with FakeOpenAI([], default="500") as srv:
        with pytest.raises(CurateError) as ei:
            run_repair(repair_params(srv.base_url, tmp_path), tmp_path)
        n = len(srv.requests)
    msg = str(ei.value)
    assert msg.startswith("repair: none of the 3 outputs") and "http_500 3" in msg
    assert n == 6 and not (tmp_path / "repair.parquet").exists()
    no_key_anywhere(tmp_path, msg)


def test_repair_partial_failure_is_not(repair_setup):
    tmp_path = repair_setup
    with FakeOpenAI([], responder=lambda b: "A new answer.", script={1: "500", 2: "500"}) as srv:
        m = run_repair(repair_params(srv.base_url, tmp_path, concurrency=1), tmp_path)
    assert (m["answered"], m["failed"], m["annotations"]) == (2, 1, 2)
    assert m["failures_by_kind"] == {"http_500": 1}


def test_dead_local_teacher_stops_repair(repair_setup, segv_teacher, guard):
    guard(40)
    tmp_path = repair_setup
    p = repair_params(None, tmp_path, local=segv_teacher,
                      retry={"max_attempts": 6, "backoff_base_s": 1.0, "max_backoff_s": 2.0})
    p.pop("model")
    t0 = time.monotonic()
    with pytest.raises(CurateError) as ei:
        run_repair(p, tmp_path)
    msg = str(ei.value)
    assert msg.startswith("repair: local teacher (pid ") and "killed by SIGSEGV" in msg
    assert "crashing with SIGSEGV" in msg and time.monotonic() - t0 < 10
    assert not (tmp_path / "repair.parquet").exists()

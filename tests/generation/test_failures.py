"""Generation fails loudly: every way a teacher can fail ends in a CurateError (exit 2 from the
CLI) that names the failure kind, keeps the key out of every message and file, and leaves the
failed requests in the failures file; a dead local server stops the run at once. Repair's
failures: tests/repair/test_failures.py; the local teacher's own: tests/models/."""

import json
import logging
import os
import subprocess
import sys
import time

import pytest

from curate.core.errors import CurateError
from curate.generation.generate import run_generate
from curate.models.local_teacher import free_port
from tests.conftest import ROOT
from tests.fixtures.generation.failing import (FAKE_SCRIPT, KEY, guard, lines,  # noqa: F401 (fixtures)
                                               no_key_anywhere, segv_teacher)
from tests.fixtures.generation.fake_openai import FakeOpenAI

RECORDS = [{"instruction": "Describe the colour of the sky in one short sentence.", "input": "",
            "output": "The sky is blue."}]  # for modes that never answer with tasks


def params(base_url, tmp_path, **kw):
    p = {"base_url": base_url, "model": "fake-teacher", "api_key_env": "CURATE_TEST_KEY",
         "target": 10, "concurrency": 1, "progress": False,
         "budgets": {"max_failures": 2},
         "retry": {"max_attempts": 3, "backoff_base_s": 0.001, "max_backoff_s": 0.05,
                   "timeout_s": 5.0},
         "out": str(tmp_path / "gen.jsonl"), "rejected": str(tmp_path / "rejected.jsonl"),
         "failures": str(tmp_path / "failures.jsonl")}
    for k, v in kw.items():
        p[k] = {**p[k], **v} if isinstance(v, dict) and isinstance(p.get(k), dict) else v
    return p


def total_failure(p, tmp_path, kind, n_failures=2):
    """run_generate(p) must raise naming ``kind``; the failures file holds the rows."""
    t0 = time.monotonic()
    with pytest.raises(CurateError) as ei:
        run_generate(p)
    msg = str(ei.value)
    assert msg.startswith("generate: "), msg
    assert f"{kind} {n_failures}" in msg and p["failures"] in msg and "last error: " in msg
    rows = lines(p["failures"])
    assert len(rows) == n_failures and {r["kind"] for r in rows} == {kind}
    assert ei.value.metrics["failures_by_kind"] == {kind: n_failures}
    assert ei.value.metrics["accepted"] == 0
    no_key_anywhere(tmp_path, msg)
    return msg, rows, time.monotonic() - t0


def test_all_429_with_retry_after_an_hour_ends_fast(tmp_path):
    with FakeOpenAI(RECORDS, default="429_long") as srv:
        msg, rows, secs = total_failure(params(srv.base_url, tmp_path), tmp_path, "rate_limit")
        n = len(srv.requests)
    assert "no record accepted (stopped by max_failures=2)" in msg
    assert secs < 10 and n == 6  # 2 requests x 3 attempts, each wait capped at max_backoff_s
    assert all(r["status"] == 429 and r["attempts"] == 3 for r in rows)


def test_all_500(tmp_path):
    with FakeOpenAI(RECORDS, default="500") as srv:
        msg, rows, _ = total_failure(params(srv.base_url, tmp_path), tmp_path, "http_500")
    assert "internal error" in msg and rows[0]["status"] == 500


def test_timeouts(tmp_path):
    with FakeOpenAI(RECORDS, default="slow", slow_s=2.0) as srv:
        msg, rows, secs = total_failure(
            params(srv.base_url, tmp_path, retry={"timeout_s": 0.3, "max_attempts": 2}),
            tmp_path, "timeout")
    assert secs < 5 and all(r["attempts"] == 2 for r in rows)


@pytest.mark.parametrize("behaviour,says", [
    ("bad_json", "response body is not JSON"),  # 200, application/json, not JSON
    ("no_choices", "response has no choices"),  # 200, choices: []
    ("html", "502 Bad Gateway"),              # 200, text/html error page
])
def test_200_that_is_not_a_completion(tmp_path, behaviour, says):
    with FakeOpenAI(RECORDS, default=behaviour) as srv:
        msg, rows, _ = total_failure(params(srv.base_url, tmp_path), tmp_path, "bad_response")
        n = len(srv.requests)
    assert n == 2 and all(r["attempts"] == 1 for r in rows)  # not retried
    assert says in msg and says in rows[0]["error"]


@pytest.mark.parametrize("behaviour", ["reset", "hangup"])
def test_connection_reset_or_closed_mid_response(tmp_path, behaviour):
    with FakeOpenAI(RECORDS, default=behaviour) as srv:
        msg, rows, _ = total_failure(params(srv.base_url, tmp_path), tmp_path, "connection")
        n = len(srv.requests)
    assert n == 6 and all(r["attempts"] == 3 for r in rows)  # retried


def test_connection_refused(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    msg, rows, secs = total_failure(params(url, tmp_path), tmp_path, "connection")
    assert "Connection error" in msg and secs < 10


def test_server_dies_mid_run_keeps_records_and_fails(tmp_path, real):
    with FakeOpenAI(real, tasks_per_response=5, script={3: "die"}) as srv:
        p = params(srv.base_url, tmp_path, target=100)
        with pytest.raises(CurateError) as ei:
            run_generate(p)
    msg = str(ei.value)
    assert msg.startswith("generate: stopped by max_failures=2") and "connection 2" in msg
    assert "10 records accepted this run, 10/100" in msg and "a rerun resumes" in msg
    assert len(lines(p["out"])) == 10 and len(lines(p["failures"])) == 2
    assert ei.value.metrics["stopped_by"] == "max_failures"
    no_key_anywhere(tmp_path, msg)


def test_slow_drip_is_bounded_by_timeout_s(tmp_path, guard):
    """One byte every 0.3 s never trips httpx's per-read timeout; timeout_s bounds the whole
    attempt, so 2 requests x 2 attempts of 1 s end in about 4 s."""
    guard(25)
    with FakeOpenAI(RECORDS, default="drip", drip_s=0.3) as srv:
        msg, rows, secs = total_failure(
            params(srv.base_url, tmp_path, retry={"timeout_s": 1.0, "max_attempts": 2}),
            tmp_path, "timeout")
    assert secs < 2 * 2 * 1.0 + 3
    assert "timeout_s=1 s" in rows[0]["error"]


def test_all_tasks_rejected_is_an_error_too(tmp_path):
    """No failed request, but nothing accepted: the stage produced nothing it was asked for."""
    with FakeOpenAI(RECORDS, default="garbage") as srv:
        with pytest.raises(CurateError) as ei:
            run_generate(params(srv.base_url, tmp_path, budgets={"max_requests": 2}))
    msg = str(ei.value)
    assert "no record accepted (stopped by max_requests=2)" in msg and "0 failed" in msg
    assert "malformed" in msg and lines(tmp_path / "rejected.jsonl")


def test_budget_stop_with_records_is_a_normal_stop_with_a_warning(tmp_path, caplog, real):
    caplog.set_level(logging.WARNING, logger="curate.generation")
    with FakeOpenAI(real, tasks_per_response=5) as srv:
        m = run_generate(params(srv.base_url, tmp_path, target=100, budgets={"max_requests": 1}))
    assert m["stopped_by"] == "max_requests" and m["accepted"] == 5
    assert "stopped by max_requests=1 with 5/100 records" in caplog.text


def test_cli_exits_2_with_one_error_line(tmp_path):
    with FakeOpenAI(RECORDS, default="500") as srv:
        p = params(srv.base_url, tmp_path,
                   seed_tasks=str(ROOT / "data/seed/alpaca_seed_tasks.jsonl"),
                   prompt=str(ROOT / "data/seed/alpaca_prompt_pr24_renumbered.txt"))
        pfile = tmp_path / "params.yaml"
        files = {"out": "generated", "rejected": "generate_rejected", "failures": "generate_failures",
                 "seed_tasks": "seed_tasks"}  # files live in `paths:` of params.yaml
        paths = {name: p.pop(key) for key, name in files.items()}
        pfile.write_text(json.dumps({"generate": p, "paths": paths}))  # JSON is YAML
        r = subprocess.run([sys.executable, "-m", "curate.cli", "--params", str(pfile), "generate"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT), "CURATE_TEST_KEY": KEY})
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr
    errors = [x for x in r.stderr.splitlines() if "error:" in x]
    assert len(errors) == 1 and errors[0].startswith("curate generate: error: generate: no record accepted")
    assert "http_500 2" in errors[0]
    assert not (tmp_path / "metrics").exists() and not (tmp_path / "reports").exists()  # no metrics for a failed stage
    no_key_anywhere(tmp_path, r.stdout, r.stderr)


# ------------------------------------------------------------------ the local teacher dies

def test_dead_local_teacher_stops_generation_at_once(tmp_path, segv_teacher, guard):
    guard(40)
    p = params(None, tmp_path, local=segv_teacher,
               retry={"max_attempts": 6, "backoff_base_s": 1.0, "max_backoff_s": 2.0},
               budgets={"max_failures": 2})
    p.pop("model")
    t0 = time.monotonic()
    with pytest.raises(CurateError) as ei:
        run_generate(p)
    secs = time.monotonic() - t0
    msg = str(ei.value)
    first = msg.splitlines()[0]
    assert "killed by SIGSEGV (exit -11)" in first and "pid " in first
    assert "0 records accepted this run" in first
    # the log tail: the fake server's own lines
    assert "fake teacher listening on 127.0.0.1:" in msg and "crashing with SIGSEGV" in msg
    assert secs < 10  # not 2 requests x 6 attempts of backoff
    assert lines(tmp_path / "failures.jsonl") == []  # stopped before any request gave up
    assert ei.value.metrics["stopped_by"] == "teacher_died"


def test_users_key_is_never_sent_to_the_local_teacher(tmp_path, monkeypatch, guard):
    """With $OPENAI_API_KEY set (the user's real key), the loopback teacher gets a dummy key."""
    from curate.models import local_teacher as local
    from curate.models.teacher import DUMMY_KEY

    guard(40)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setattr(local, "local_gguf", lambda: tmp_path / "fake.gguf")
    monkeypatch.setattr(local.LocalTeacher, "command", lambda self: [
        sys.executable, str(FAKE_SCRIPT), "--port", str(self.port), "--default", "ok"])
    p = params(None, tmp_path, target=1, local={"n_threads": 1, "startup_timeout_s": 30,
                                                 "log": str(tmp_path / "server.log")})
    p.pop("model")
    p["api_key_env"] = "OPENAI_API_KEY"
    m = run_generate(p)
    assert m["accepted"] == 1
    log = (tmp_path / "server.log").read_text()
    assert f"authorization: Bearer {DUMMY_KEY}" in log
    no_key_anywhere(tmp_path)

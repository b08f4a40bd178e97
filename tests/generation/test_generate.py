"""End-to-end generation against a fake OpenAI-compatible server in the test process:
retries, permanent failures, rejections, budgets, resumability (incl. SIGKILL), key hygiene."""

import json
import logging
import os
import signal
import subprocess
import sys
import time

import pytest

from curate.core.ingest import ingest
from curate.core.errors import CurateError
from curate.core.text import normalize_text as normalize_instruction
from curate.core.jsonl import read_jsonl_resume
from curate.generation.generate import run_generate
from curate.generation.parse import STOP_SEQUENCES, check_instruction
from tests.conftest import ROOT
from tests.fixtures.generation.fake_openai import FakeOpenAI

from tests.fixtures.generation.failing import KEY


def params(server, tmp_path, **kw):
    p = {"base_url": server.base_url, "model": "fake-teacher", "api_key_env": "CURATE_TEST_KEY",
         "target": 10, "concurrency": 1,
         "retry": {"max_attempts": 4, "backoff_base_s": 0.001, "max_backoff_s": 0.05,
                   "timeout_s": 5.0},
         "out": str(tmp_path / "gen.jsonl"), "rejected": str(tmp_path / "rejected.jsonl"),
         "failures": str(tmp_path / "failures.jsonl")}
    for k, v in kw.items():
        if isinstance(v, dict) and isinstance(p.get(k), dict):
            p[k] = {**p[k], **v}
        else:
            p[k] = v
    return p


def lines(path):
    return [json.loads(x) for x in open(path, encoding="utf-8")] if os.path.exists(path) else []


def test_retries_then_success_chat_request_shape(real, tmp_path):
    with FakeOpenAI(real, script={1: "429", 2: "500", 3: "slow"}, slow_s=3.0) as srv:
        m = run_generate(params(srv, tmp_path, retry={"timeout_s": 0.5}))
    assert m["failures"] == 0 and m["retries"] == 3
    assert m["accepted"] == 10 and m["total_records"] == 10 and m["stopped_by"] == "target"
    recs = lines(tmp_path / "gen.jsonl")
    assert len(recs) == 10
    first = recs[0]
    assert first["instruction"] == real[0]["instruction"] and first["output"] == real[0]["output"]
    prov = first["provenance"]
    assert prov["teacher_model"] == "fake-teacher"
    assert prov["endpoint_host"] == f"127.0.0.1:{srv.port}" and prov["endpoint"] == "chat"
    assert prov["request_id"] == "chatcmpl-4" and prov["attempts"] == 4
    assert prov["finish_reason"] == "stop" and len(prov["demo_ids"]) == 3
    assert all(d.startswith("seed_task_") for d in prov["demo_ids"])
    assert len(prov["prompt_template_sha256"]) == 64 and prov["prompt_template"] == "pr24"
    assert prov["sampling"] == {"temperature": 1.0, "top_p": 1.0, "max_tokens": 3072,
                                "stop": STOP_SEQUENCES}
    assert "created" in prov and isinstance(first["avg_similarity_score"], float)
    assert len(first["most_similar_instructions"]) == 10
    _, path, body = srv.requests[0]
    assert path == "/v1/chat/completions" and body["model"] == "fake-teacher"
    assert body["temperature"] == 1.0 and body["top_p"] == 1.0 and body["max_tokens"] == 3072
    assert body["stop"] == STOP_SEQUENCES
    assert [m_["role"] for m_ in body["messages"]] == ["user"]
    assert body["messages"][0]["content"].endswith("###\n4. Instruction:")
    # `curate ingest` reads the output: ids assigned, extra fields in meta
    table, quarantine, im = ingest([str(tmp_path / "gen.jsonl")])
    assert im["ingested"] == 10 and quarantine.num_rows == 0
    meta = json.loads(table.column("meta")[0].as_py())
    assert meta["provenance"]["request_id"] == "chatcmpl-4"
    assert set(meta) == {"provenance", "most_similar_instructions", "avg_similarity_score"}


def test_permanent_failure_recorded_and_run_continues(real, tmp_path):
    script = {1: "500", 2: "500", 3: "500", 4: "500"}
    with FakeOpenAI(real, script=script) as srv:
        m = run_generate(params(srv, tmp_path))
    assert m["failures"] == 1 and m["accepted"] == 10
    (f,) = lines(tmp_path / "failures.jsonl")
    assert f["status"] == 500 and f["attempts"] == 4 and f["kind"] == "http_500"
    assert "gave up after 4 attempts" in f["error"] and len(f["demo_ids"]) == 3


def test_rejections_counted_by_reason_completions_endpoint(real, tmp_path):
    srv_records = list(real[:2]) + [real[0]] + list(real[3:40])  # a verbatim repeat -> ROUGE 1.0
    with FakeOpenAI(srv_records, script={2: "length", 3: "garbage"}) as srv:
        m = run_generate(params(srv, tmp_path, endpoint="completions", target=12))
    assert srv.requests[0][1] == "/v1/completions"
    assert srv.requests[0][2]["prompt"].endswith("###\n4. Instruction:")
    rb = m["rejected_by_reason"]
    assert rb["rouge_similar"] >= 1 and rb["truncated"] == 1 and rb["malformed"] >= 1
    rej = lines(tmp_path / "rejected.jsonl")
    assert len(rej) == m["rejected"] == sum(rb.values())
    assert {r["reason"] for r in rej} == set(rb)
    sim = next(r for r in rej if r["reason"] == "rouge_similar")
    assert sim["text"] == real[0]["instruction"] and sim["request_id"] == "cmpl-1"
    assert m["accepted"] == 12 and m["finish_reasons"]["length"] == 1


def test_budgets_stop_cleanly(real, tmp_path):
    with FakeOpenAI(real) as srv:
        m = run_generate(params(srv, tmp_path / "a", target=1000, budgets={"max_requests": 3}))
    assert m["requests"] == 3 and m["stopped_by"] == "max_requests" and m["accepted"] == 15
    with FakeOpenAI(real) as srv:
        m = run_generate(params(srv, tmp_path / "b", target=1000, budgets={"max_tokens": 150}))
    assert m["requests"] == 1 and m["stopped_by"] == "max_tokens" and m["tokens"] >= 150
    assert m["tokens"] == m["prompt_tokens"] + m["completion_tokens"]
    assert m["tokens_per_s"] > 0 and m["records_per_min"] > 0 and m["wall_seconds"] > 0
    # max_failures is not a clean stop: the teacher is broken (tests/generation/test_failures.py)
    with FakeOpenAI(real, default="500") as srv:
        with pytest.raises(CurateError, match="stopped by max_failures=2") as ei:
            run_generate(params(srv, tmp_path / "c", budgets={"max_failures": 2},
                                retry={"max_attempts": 1}))
    m = ei.value.metrics
    assert m["failures"] == 2 and m["stopped_by"] == "max_failures"


def test_concurrency_is_bounded(real, tmp_path):
    with FakeOpenAI(real, delay_s=0.05, tasks_per_response=2) as srv:
        m = run_generate(params(srv, tmp_path, target=20, concurrency=3))
    assert m["total_records"] == 20
    assert 2 <= srv.max_inflight <= 3


def test_resume_truncates_torn_line_and_reaches_target(real, tmp_path):
    with FakeOpenAI(real) as srv:
        run_generate(params(srv, tmp_path, target=10))
        out = tmp_path / "gen.jsonl"
        before = out.read_bytes()
        out.write_bytes(before + b'{"instruction": "torn wri')  # a kill mid-write
        assert len(read_jsonl_resume(out)) == 10 and out.read_bytes() == before
        out.write_bytes(before + b'{"instruction": "torn wri')
        m = run_generate(params(srv, tmp_path, target=22))
    assert m["resumed_from"] == 10 and m["accepted"] == 12 and m["total_records"] == 22
    after = out.read_bytes()
    assert after.startswith(before) and len(lines(out)) == 22
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"a": 1}\nnot json\n{"b": 2}\n')
    with pytest.raises(CurateError, match="line 2"):
        read_jsonl_resume(bad)


def test_sigkill_mid_run_then_resume(real, tmp_path):
    """A real subprocess generating against the fake server is SIGKILLed mid-run; the rerun
    reaches the target with every record accepted before the kill and no duplicate."""
    target = 60
    with FakeOpenAI(real, delay_s=0.03, tasks_per_response=3) as srv:
        p = params(srv, tmp_path, target=target, concurrency=2)
        pfile = tmp_path / "params.json"
        pfile.write_text(json.dumps({"generate": p}))
        out = tmp_path / "gen.jsonl"
        code = ("import json, sys; from curate.generation.generate import run_generate; "
                "run_generate(json.load(open(sys.argv[1]))['generate'])")
        proc = subprocess.Popen([sys.executable, "-c", code, str(pfile)],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        deadline = time.time() + 20
        while time.time() < deadline:
            if out.exists() and out.read_bytes().count(b"\n") >= 12:
                break
            time.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.returncode == -signal.SIGKILL
        raw = out.read_bytes()
        complete = raw[: raw.rfind(b"\n") + 1]
        before = [json.loads(x) for x in complete.decode().splitlines()]
        assert 12 <= len(before) < target
        m = run_generate(p)
    after = lines(out)
    assert m["resumed_from"] == len(before) and len(after) == target
    assert after[: len(before)] == before
    keys = [normalize_instruction(r["instruction"]) for r in after]
    assert len(set(keys)) == len(keys)


def test_key_never_written_or_logged(real, tmp_path, capfd, caplog):
    caplog.set_level(logging.DEBUG)
    script = {1: "echo_500", 2: "echo_500"}
    with FakeOpenAI(real, script=script) as srv:
        m = run_generate(params(srv, tmp_path, retry={"max_attempts": 2}))
        assert m["failures"] == 1 and m["accepted"] == 10
    # the server echoed the Authorization header into the error body: it must be redacted
    (f,) = lines(tmp_path / "failures.jsonl")
    assert "Bearer ***REDACTED***" in f["error"]
    with FakeOpenAI(real, default="echo_401") as srv:
        with pytest.raises(CurateError) as ei:
            run_generate(params(srv, tmp_path / "y"))
    assert "REDACTED" in str(ei.value) and KEY not in str(ei.value)
    captured = capfd.readouterr()
    texts = [captured.out, captured.err, caplog.text, str(ei.value)]
    texts += [p.read_text(encoding="utf-8", errors="replace")
              for p in tmp_path.rglob("*") if p.is_file()]
    assert all(KEY not in t for t in texts)
    assert KEY[8:20] not in "".join(texts)


def test_params_errors(tmp_path):
    from curate.generation.generate import DEFAULTS, resolve_params

    p = resolve_params({"base_url": "http://127.0.0.1:1/v1", "model": "m"})
    assert p["sampling"]["stop"] == STOP_SEQUENCES and DEFAULTS["sampling"]["stop"] is None
    with pytest.raises(CurateError, match=r"generate.bogus: unknown parameter"):
        run_generate({"base_url": "http://127.0.0.1:1/v1", "model": "m", "bogus": 1})
    with pytest.raises(CurateError, match="is not set"):
        run_generate({"base_url": "https://api.example.com/v1", "model": "m",
                      "api_key_env": "CURATE_SURELY_UNSET_VAR"})

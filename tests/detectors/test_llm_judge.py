"""LLM judge (curate/detectors/llm_judge.py) against a judge-flavoured fake OpenAI server."""

import json
import logging
import re

import pyarrow as pa
import pytest

from curate.detectors.llm_judge import (JUDGE_TEMPLATE, Judge, JudgeCache, JudgeParseError, LLMJudge,
                                   judge_key, parse_judgement, render_prompt)
from curate.core.errors import CurateError
from curate.core.schema import RECORD_SCHEMA
from tests.fixtures.generation.fake_openai import FakeOpenAI

KEY = "sk-test-SECRET-4f9c2b7e"


class FakeJudge(FakeOpenAI):
    """FakeOpenAI whose good replies are judge verdicts: "Score: 1" when the rated response
    contains WRONG, else "Score: 5". Extra behaviours: ``malformed`` (no score),
    ``echo_reply`` (a verdict quoting the request's Authorization header)."""

    def __init__(self, script=None, delay_s=0.0):
        super().__init__([], script=script, delay_s=delay_s, default="judge")

    def _answer(self, h, number, behaviour, body):
        if behaviour not in ("judge", "malformed", "echo_reply"):
            return super()._answer(h, number, behaviour, body)
        if self.delay_s:
            import time
            time.sleep(self.delay_s)
        prompt = body["messages"][0]["content"]
        response = prompt.split("[Response]\n", 1)[1].split("\n\nRate the response", 1)[0]
        if behaviour == "malformed":
            text = "What a lovely answer, I enjoyed reading it."
        elif behaviour == "echo_reply":
            text = f"Score: 2\nReason: sent with {h.headers.get('authorization', '')}"
        elif "WRONG" in response:
            text = "**Score:** 1/5\n**Reason:** The answer is wrong."
        else:
            text = "Score: 5\nReason: Correct and complete."
        self._send(h, 200, {"id": f"chatcmpl-{number}", "object": "chat.completion", "created": 0,
                            "model": body.get("model"), "usage": {"prompt_tokens": 1, "completion_tokens": 1},
                            "choices": [{"index": 0, "finish_reason": "stop",
                                         "message": {"role": "assistant", "content": text}}]})


def table(recs):
    rows = [{"id": r["id"], "instruction": r["instruction"], "input": r.get("input", ""),
             "output": r["output"], "source": "t", "source_index": i, "meta": "{}"}
            for i, r in enumerate(recs)]
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


RECS = [
    {"id": "good", "instruction": "What is the capital of France?", "output": "The capital of France is Paris."},
    {"id": "bad", "instruction": "What is 2 + 2?", "output": "WRONG: it is 5."},
    {"id": "good2", "instruction": "Name a primary colour.", "input": "", "output": "Red is a primary colour."},
]


def make(fake, tmp_path, **kw):
    kw = {"api_key_env": "CURATE_TEST_JUDGE_KEY", "concurrency": 2, "max_attempts": 2,
          "backoff_base_s": 0.01, "max_backoff_s": 0.02, "timeout_s": 5.0, **kw}
    return LLMJudge(fake.base_url, "judge-model", tmp_path / "judge.jsonl", **kw)


@pytest.fixture(autouse=True)
def key(monkeypatch):
    monkeypatch.setenv("CURATE_TEST_JUDGE_KEY", KEY)


def cache_lines(tmp_path):
    return [json.loads(x) for x in (tmp_path / "judge.jsonl").read_text().splitlines()]


# ---------------------------------------------------------------- parsing


@pytest.mark.parametrize("reply,rating,reason", [
    ("Score: 4\nReason: Mostly right.", 4.0, "Mostly right."),
    ("**Score:** 4.5/5\n**Reason:** Fine.", 4.5, "Fine."),
    ("Rating = 3 out of 5\nExplanation: misses a step", 3.0, "misses a step"),
    ("2\nThe response ignores the input.", 2.0, "The response ignores the input."),  # AlpaGasus format
    ("Here is my verdict.\nscore: 0\nreason: empty", 0.0, "empty"),
])
def test_parse_judgement_accepts_common_formats(reply, rating, reason):
    assert parse_judgement(reply) == (rating, reason)


@pytest.mark.parametrize("reply", ["Great answer!", "Score: 7\nReason: excellent", "Score: -1", ""])
def test_parse_judgement_rejects_malformed(reply):
    with pytest.raises(JudgeParseError):
        parse_judgement(reply)


def test_prompt_states_rubric_and_key_covers_content_not_id():
    p = render_prompt(RECS[0])
    assert "0 to 5" in p and "5 = fully correct" in p and "0 = empty" in p and "Score:" in p
    assert RECS[0]["instruction"] in p and "(none)" in p
    a = judge_key("m", RECS[0])
    assert a == judge_key("m", dict(RECS[0], id="other", input=""))
    assert a != judge_key("m2", RECS[0])
    assert a != judge_key("m", RECS[0], template_version="v0")
    assert a != judge_key("m", dict(RECS[0], output=RECS[0]["output"] + "!"))
    assert "{output}" in JUDGE_TEMPLATE


# ---------------------------------------------------------------- detector


def test_flags_low_rating_and_cache_prevents_second_call(tmp_path):
    with FakeJudge() as fake:
        d = make(fake, tmp_path)
        d.prepare(table(RECS))
        assert len(fake.requests) == 3
        f = d.check(RECS[1])
        assert f is not None and f.score == 1.0 and "wrong" in f.reason
        assert d.check(RECS[0]) is None and d.check(RECS[2]) is None
        assert d.stats["requests"] == 3 and d.stats["cached"] == 0
        # a fresh detector over the same records: everything comes from the cache
        d2 = make(fake, tmp_path)
        d2.prepare(table(RECS + [dict(RECS[1], id="bad-copy")]))
        assert len(fake.requests) == 3
        assert d2.stats == {"requests": 0, "cached": 4, "malformed": 0, "transport_failures": 0}
        assert d2.check(dict(RECS[1], id="bad-copy")).score == 1.0
    assert len(cache_lines(tmp_path)) == 3


def test_identical_content_is_requested_once(tmp_path):
    with FakeJudge() as fake:
        d = make(fake, tmp_path)
        d.prepare(table([RECS[0], dict(RECS[0], id="dup")]))
        assert len(fake.requests) == 1
        assert d.results["dup"].rating == d.results["good"].rating == 5.0


def test_malformed_reply_is_recorded_not_raised(tmp_path):
    with FakeJudge(script={2: "malformed"}) as fake:
        d = make(fake, tmp_path, concurrency=1)
        d.prepare(table(RECS))
        assert d.stats["malformed"] == 1
        failed = [i for i, v in d.results.items() if not v.ok]
        assert len(failed) == 1 and d.failures[failed[0]].startswith("malformed:")
        assert d.check(next(r for r in RECS if r["id"] == failed[0])) is None
        bad = [e for e in cache_lines(tmp_path) if e["rating"] is None]
        assert len(bad) == 1 and "lovely answer" in bad[0]["reply"] and bad[0]["error"].startswith("malformed")
        # by default a rerun keeps the recorded failure; retry_failed asks again
        make(fake, tmp_path).prepare(table(RECS))
        assert len(fake.requests) == 3
        d3 = make(fake, tmp_path, retry_failed=True)
        d3.prepare(table(RECS))
        assert len(fake.requests) == 4 and not d3.failures


def test_transport_failure_is_not_cached_and_retried_next_run(tmp_path):
    with FakeJudge(script={1: "500", 2: "500"}) as fake:
        d = make(fake, tmp_path, concurrency=1)
        d.prepare(table(RECS[:2]))
        assert d.stats["transport_failures"] == 1 and len(d.failures) == 1
        assert "request failed" in next(iter(d.failures.values()))
        assert len(cache_lines(tmp_path)) == 1
        d2 = make(fake, tmp_path)
        d2.prepare(table(RECS[:2]))
        assert d2.stats["requests"] == 1 and not d2.failures
        assert d2.check(RECS[1]).score == 1.0


def test_too_many_failures_stop_the_run(tmp_path):
    with FakeJudge(script={i: "500" for i in range(1, 20)}) as fake:
        d = make(fake, tmp_path, concurrency=1, max_attempts=1, max_failures=1)
        with pytest.raises(CurateError, match="more than 1 failed requests"):
            d.prepare(table(RECS))


def test_concurrency_is_bounded(tmp_path):
    recs = [{"id": f"r{i}", "instruction": f"Task {i}", "output": f"Answer number {i}"} for i in range(8)]
    with FakeJudge(delay_s=0.1) as fake:
        make(fake, tmp_path, concurrency=3).prepare(table(recs))
        assert len(fake.requests) == 8
        assert fake.max_inflight == 3


def test_api_key_never_written_or_in_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    with FakeJudge(script={1: "echo_reply", 2: "echo_500", 3: "echo_500"}) as fake:
        d = make(fake, tmp_path, concurrency=1, max_attempts=2)
        d.prepare(table(RECS[:2]))
        text = (tmp_path / "judge.jsonl").read_text()
        assert "REDACTED" in text  # the server did see the key and echoed it
        assert KEY not in text
        assert KEY not in json.dumps(d.failures) and KEY not in caplog.text
        assert "REDACTED" in json.dumps(d.failures)
    with FakeJudge(script={1: "echo_401"}) as fake:
        with pytest.raises(CurateError) as e:
            make(fake, tmp_path / "x").prepare(table(RECS[:1]))
        assert "REDACTED" in str(e.value) and KEY not in str(e.value)
        assert "CURATE_TEST_JUDGE_KEY" in str(e.value)


# ---------------------------------------------------------------- cache file


def test_torn_last_line_is_dropped_and_appends_stay_valid(tmp_path):
    with FakeJudge() as fake:
        make(fake, tmp_path).prepare(table(RECS[:2]))
        path = tmp_path / "judge.jsonl"
        with open(path, "a") as f:
            f.write('{"key": "dead", "rating": 4')  # crash mid-line
        d = make(fake, tmp_path)
        d.prepare(table(RECS))
        assert len(fake.requests) == 3  # only the new record was asked
        lines = path.read_text().splitlines()
        assert len(lines) == 3 and all(json.loads(x)["key"] for x in lines)


def test_damaged_middle_line_raises(tmp_path):
    p = tmp_path / "c.jsonl"
    p.write_text('{"key": "a", "rating": 4}\nnot json\n{"key": "b", "rating": 5}\n')
    with pytest.raises(CurateError, match="line 2"):
        JudgeCache(p)
    p.write_text('{"key": "a", "rating": 4}\n{"key": "b"')
    c = JudgeCache(p)
    assert c.torn and list(c.entries) == ["a"] and p.read_text() == '{"key": "a", "rating": 4}\n'


def test_judge_works_with_any_teacher_like_object(tmp_path):
    class Stub:
        model = "stub"

        def redact(self, t):
            return t

        async def complete(self, prompt, sampling):
            class C:
                text = "Score: 3.5\nReason: ok" if "Paris" in prompt else "score 9"
            assert sampling == {"temperature": 0.0, "max_tokens": 256}
            return C()

    import asyncio
    j = Judge(Stub(), JudgeCache(tmp_path / "c.jsonl"))
    out = asyncio.run(j.rate_all(RECS[:2]))
    assert out[0].rating == 3.5 and out[0].reason == "ok"
    assert out[1].rating is None and re.match("malformed", out[1].error)

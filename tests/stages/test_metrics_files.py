"""Stage metrics are split in two: the full detail in ``reports/<name>.json`` and a flat headline
from one small vocabulary in ``metrics/<name>.json`` (what ``dvc metrics show`` prints). Also
the funnel plot rows of clean and the ablation's intervals and plot table."""

from __future__ import annotations

import csv
import json

import pytest

from curate.core.errors import CurateError
from curate.stages.base import HEADLINE_KEYS, Context, headline, timed
from curate.stages.clean import funnel_rows
from curate.training.compare import compare


def test_headline_picks_numbers_by_dotted_key_and_leaves_out_the_rest():
    m = {"records_in": 10, "by_action": {"drop": 3}, "enabled": True, "targets": None, "wall_seconds": 1.23456}
    h = headline(m, {"read": "records_in", "dropped": "by_action.drop", "kept": "missing.key",
                     "flagged": "enabled", "repaired": "targets"})
    assert h == {"read": 10, "dropped": 3, "seconds": 1.2346}  # bools, None and missing keys are no numbers
    with pytest.raises(ValueError, match="not one of"):
        headline(m, {"records_in": "records_in"})


def test_timed_writes_detail_to_reports_and_headline_to_metrics(tmp_path):
    ctx = Context({"paths": {}}, tmp_path)
    out = timed(ctx, "x", lambda: {"n": 5, "by": {"a": 2}}, {"read": "n"})
    detail = json.loads((tmp_path / "reports/x.json").read_text())
    assert detail == out and detail["by"] == {"a": 2} and "wall_seconds" in detail
    assert set(json.loads((tmp_path / "metrics/x.json").read_text())) == {"read", "seconds"}
    timed(ctx, "y", lambda: {"n": 1}, None)  # no headline of its own: detail only
    assert (tmp_path / "reports/y.json").is_file() and not (tmp_path / "metrics/y.json").exists()
    with pytest.raises(RuntimeError):
        timed(ctx, "z", lambda: (_ for _ in ()).throw(RuntimeError("boom")), {})
    assert not (tmp_path / "reports/z.json").exists() and not (tmp_path / "metrics/z.json").exists()
    assert len(HEADLINE_KEYS) <= 13  # few columns: dvc metrics show must fit a terminal


def test_funnel_rows_are_ordered_and_add_up():
    m = {"records_read": 10, "quarantined": 1, "dropped_by_check": {"rouge_l": 2, "exact": 1},
         "records_normalized": 3, "flagged": {"review:a": 2, "review:b": 1, "repair:c": 1}, "kept": 6}
    rows = funnel_rows(m)
    steps = [r["step"] for r in rows]
    assert steps == sorted(steps) and steps[0] == "1 read" and steps[-1] == "6 kept"
    d = {r["step"]: r["records"] for r in rows}
    assert d["3 dropped: exact"] + d["3 dropped: rouge_l"] + d["2 quarantined"] + d["6 kept"] == d["1 read"]
    assert d["5 flagged: review"] == 3 and d["5 flagged: repair"] == 1


def _eval(mc1, se1, subset="s1"):
    return {"truthfulqa_mc1": mc1, "truthfulqa_mc2": mc1 + 0.1, "truthfulqa_mc1_stderr": se1,
            "truthfulqa_mc2_stderr": se1, "user_oriented_loss": 2.0, "user_oriented_ppl": 7.4,
            "truthfulqa_subset": subset, "truthfulqa_n_questions": 100}


def test_compare_gives_each_arm_an_interval_and_a_plot_table(tmp_path):
    for arm, mc1 in (("base", 0.25), ("raw", 0.30), ("clean", 0.32)):
        (tmp_path / f"eval_{arm}.json").write_text(json.dumps(_eval(mc1, 0.01)))
    out = compare(tmp_path, report_path=tmp_path / "a.md", plot_path=tmp_path / "p.csv")
    assert out["raw"]["ci95"]["truthfulqa_mc1"] == pytest.approx([0.30 - 0.0196, 0.30 + 0.0196])
    rows = list(csv.DictReader(open(tmp_path / "p.csv")))
    assert len(rows) == 6 and {r["metric"] for r in rows} == {"mc1", "mc2"}
    clean = next(r for r in rows if r["arm"] == "clean" and r["metric"] == "mc1")
    assert float(clean["lo"]) < float(clean["mean"]) < float(clean["hi"])
    assert float(clean["mean"]) == pytest.approx(0.32)
    (tmp_path / "eval_clean.json").write_text(json.dumps(_eval(0.32, 0.01, subset="other")))
    with pytest.raises(CurateError, match="subsets differ"):
        compare(tmp_path, report_path=tmp_path / "a.md")

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


def test_compare_stage_writes_report_plot_and_prints_the_paired_table(tmp_path):
    import numpy as np

    from curate.core.config import validate_params
    from curate.stages import compare as compare_stage
    from tests.training.fake_eval import write_eval

    rng = np.random.default_rng(1)
    for name in ("base", "raw-s1", "raw-s2", "clean-s1", "clean-s2"):
        write_eval(tmp_path / "outputs/eval", name, (rng.random(60) < 0.3).astype(float))
    params = validate_params({"paths": {"eval": str(tmp_path / "outputs/eval")},
                              "ablation": {"arms": ["raw", "clean"], "seeds": [1, 2], "n_boot": 200}})
    text = compare_stage.run(Context(params, tmp_path))
    assert "| raw − clean | MC1 |" in text and "McNemar" in text
    out = json.loads((tmp_path / "reports/ablation.json").read_text())
    assert out["seeds"] == [1, 2] and out["n_questions"] == 60
    assert not (tmp_path / "metrics/ablation.json").exists()  # the arms' headline is in metrics/eval_*.json
    rows = list(csv.DictReader(open(tmp_path / "plots/ablation.csv")))
    assert len(rows) == 6 and all(float(r["lo"]) <= float(r["mean"]) <= float(r["hi"]) for r in rows)
    assert "## Paired differences" in (tmp_path / "reports/ablation.md").read_text()
    with pytest.raises(CurateError, match="raw-s3, clean-s3"):
        compare_stage.run(Context(validate_params({**params, "ablation": {**params["ablation"], "seeds": [1, 3]}}),
                                  tmp_path))

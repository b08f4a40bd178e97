"""The dedupe pipeline (curate.dedupe.pipeline.dedupe): methods in order, each on the records the
previous ones kept; counts add up; parameters are checked."""

import pytest

from curate.core.errors import CurateError
from curate.dedupe.pipeline import CHECKS, dedupe
from tests.conftest import find
from tests.dedupe.helpers import table


def test_metrics_add_up_with_all_four_methods(real_data, tmp_path):
    """One real duplicate for each method; counts per check, kept and dropped add up."""
    base = find(real_data, lambda r: r["instruction"] == "Generate a 200-word story using the given input.")
    near = find(real_data, lambda r: r["instruction"] != base["instruction"] and "200-word story using" in r["instruction"])
    camp = find(real_data, lambda r: r["instruction"] == "Generate a list of ten items a person might need for a camping trip")
    mt1 = find(real_data, lambda r: r["instruction"] == "Create a multiplication table from 2 to 10.")
    mt2 = find(real_data, lambda r: r["instruction"] == "Output a multiplication table for the numbers 2 to 10.")
    rows = [base, dict(base, instruction=base["instruction"].upper()), near, camp,
            dict(camp, instruction="Make a list of 10 things one might need when going on a camping trip"),
            mt1, dict(mt2, instruction="Print the grid of products described in the input.")] + real_data[100:110]
    # the paraphrase: ROUGE-L F1 0.552 with the camping record, cosine 0.790
    params = {"embedding": {"threshold": 0.78}, "minhash": {"enabled": True}}
    ann, m = dedupe(table(rows), params, cache_path=tmp_path / "e.parquet")
    by = {x["id"]: x["check_name"] for x in ann.to_pylist()}
    assert by == {"r1": "exact", "r2": "rouge_l", "r4": "embedding", "r6": "minhash"}
    assert ann.column("check_name").to_pylist() == list(CHECKS)  # grouped by method, in run order
    assert m["dropped_by_check"] == {"exact": 1, "rouge_l": 1, "embedding": 1, "minhash": 1}
    assert m["records_in"] == len(rows) == m["kept"] + m["dropped"]
    assert m["dropped"] == sum(m["dropped_by_check"].values()) == ann.num_rows
    assert set(m["seconds_by_check"]) == {"exact", "rouge_l", "embedding", "minhash"}
    assert list(m) == ["records_in", "kept", "dropped", "dropped_by_check", "embedding_largest_cluster",
                       "embedding_clusters", "seconds_by_check"]


def test_a_later_method_sees_only_what_the_earlier_ones_kept():
    """r1 is an exact copy of r0 (case differs), which ROUGE-L alone also drops (F1 1.0); with
    exact on, r1 is gone before ROUGE-L runs, so it is dropped once, by exact."""
    rows = [{"instruction": "Write a poem about the ocean.", "input": "", "output": "a"},
            {"instruction": "write a poem about the ocean.", "input": "", "output": "b"},
            {"instruction": "Explain how a car engine works.", "input": "", "output": "c"}]
    only_rouge = {"exact": {"enabled": False}, "embedding": {"enabled": False}}
    ann, m = dedupe(table(rows), only_rouge)
    assert [(a["id"], a["check_name"], a["matched_id"]) for a in ann.to_pylist()] == [("r1", "rouge_l", "r0")]
    ann, m = dedupe(table(rows), dict(only_rouge, exact={"enabled": True}))
    assert [(a["id"], a["check_name"], a["matched_id"]) for a in ann.to_pylist()] == [("r1", "exact", "r0")]
    assert m["kept"] == 2 and set(m["seconds_by_check"]) == {"exact", "rouge_l"}
    assert "embedding_clusters" not in m  # the method did not run


def test_nothing_enabled_and_no_records():
    off = {k: {"enabled": False} for k in ("exact", "rouge", "embedding", "minhash")}
    ann, m = dedupe(table([{"instruction": "a", "input": "", "output": "b"}]), off)
    assert ann.num_rows == 0 and (m["kept"], m["dropped"], m["seconds_by_check"]) == (1, 0, {})
    ann, m = dedupe(table([]), {"embedding": {"enabled": False}, "minhash": {"enabled": True}})
    assert ann.num_rows == 0 and m["records_in"] == m["kept"] == 0


def test_embedding_params_are_checked():
    t = table([{"instruction": "a", "input": "", "output": "b"}])
    with pytest.raises(CurateError, match="mode"):
        dedupe(t, {"embedding": {"mode": "kmeans"}})
    with pytest.raises(CurateError, match="views"):
        dedupe(t, {"embedding": {"views": ["answer"]}})

"""Precision floors on the hand-labelled dev set (data/devset/, curate/detectors/deveval.py): every
detector is run on the labelled real records here, with the shipped detect.policy (so the
hygiene detectors normalise before the others look), and a change that makes a detector flag good
records fails CI. Floors sit below the precision measured when they were set (docs/detectors.md)."""

import pytest

from curate.core.config import load_params
from curate.core.errors import CurateError
from curate.core.ingest import ingest
from curate.detectors.deveval import evaluate, load_devset, wilson
from curate.detectors.runner import build_detectors, detect
from tests.conftest import ROOT

POLICY = load_params(ROOT / "params.yaml")["detect"]["policy"]

# detector -> minimum precision on the dev set
FLOORS = {
    "control_chars": 0.5,
    "placeholder_input": 0.9,
    "merged_instruction": 0.85,
    "empty_output": 0.85,
    "cannot_fulfil": 0.5,
    "refusal": 0.9,
    "unseeable_content": 0.7,
    "non_text_request": 0.85,
    "truncated_output": 0.9,
    "empty_code": 0.8,
    "math_check": 0.9,
    "non_english": 0.5,
    "non_text_substitute": 0.7,
    "computed_answer": 0.85,
    "count_check": 0.8,
    "order_check": 0.8,
    "choice_check": 0.5,
    "missing_input": 0.6,
    "hallucinated_reference": 0.5,
}
# The embedding detectors (off by default) rarely find their own category but their hits are
# mostly bad records of some kind: their floor is on "flagged records with any labelled problem".
ANY_PROBLEM_FLOORS = {"output_mismatch": 0.45, "input_ignored": 0.65}


@pytest.fixture(scope="module")
def devset():
    return load_devset(ROOT / "data/devset/sample.jsonl", ROOT / "data/devset/labels.jsonl")


@pytest.fixture(scope="module")
def dev_records(devset):
    table, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    ids = {r["id"] for r in devset}
    import pyarrow.compute as pc

    return table.filter(pc.is_in(table.column("id"), value_set=__import__("pyarrow").array(sorted(ids))))


def test_devset_is_complete_and_stratified(devset, dev_records):
    assert len(devset) >= 300 and dev_records.num_rows == len(devset)
    strata = {r["stratum"] for r in devset}
    assert strata == {"random", "enriched", "hits", "blind"}
    assert sum(r["stratum"] == "random" for r in devset) >= 200
    assert sum(r["stratum"] == "blind" for r in devset) >= 300


def test_rule_detectors_meet_their_precision_floor(devset, dev_records):
    # contamination is measured by planted evaluation items (test_contamination.py): the dev set has none
    dets = [d for d in build_detectors({}) if d.name != "contamination"]
    ann, _ = detect(dev_records, POLICY, dets)
    m = evaluate(ann, devset, {d.name: d.category for d in dets})
    assert set(FLOORS) == {d.name for d in dets}
    low = {n: (d["precision"], d["flagged"]) for n, d in m["detectors"].items()
           if d["flagged"] and d["precision"] < FLOORS[n]}
    assert not low, f"precision under the floor: {low}"
    # every detector still finds something on the set built to contain its class
    assert all(m["detectors"][n]["flagged"] >= 1 for n in FLOORS), m["detectors"]


def test_embedding_detectors_flag_mostly_bad_records(devset, dev_records, tmp_path):
    dets = [d for d in build_detectors({n: {"enabled": True} for n in ANY_PROBLEM_FLOORS},
                                       str(tmp_path / "emb.parquet")) if d.name in ANY_PROBLEM_FLOORS]
    ann, _ = detect(dev_records, POLICY, dets)
    m = evaluate(ann, devset, {d.name: d.category for d in dets})["detectors"]
    for name, floor in ANY_PROBLEM_FLOORS.items():
        assert m[name]["flagged"] >= 5 and m[name]["precision_any"] >= floor, (name, m[name])


def test_wilson_interval_and_loader_errors(tmp_path):
    assert wilson(0, 0) == (None, None)
    lo, hi = wilson(22, 28)
    assert 0.59 < lo < 0.61 and 0.89 < hi < 0.91  # 22/28 = 0.786
    assert wilson(10, 10)[1] == 1.0 and wilson(0, 10)[0] == 0.0
    (tmp_path / "s.jsonl").write_text('{"id": "a", "stratum": "random"}\n{"id": "b", "stratum": "random"}\n')
    (tmp_path / "l.jsonl").write_text('{"id": "a", "labels": []}\n')
    with pytest.raises(CurateError, match=r"l.jsonl: 1 sampled records have no labels, e.g. \['b'\]"):
        load_devset(tmp_path / "s.jsonl", tmp_path / "l.jsonl")
    (tmp_path / "l.jsonl").write_text('{"id": "a", "labels": []}\n{"id": "b", "labels": "x"}\n')
    with pytest.raises(CurateError, match="record b: field 'labels' must be a list"):
        load_devset(tmp_path / "s.jsonl", tmp_path / "l.jsonl")
    (tmp_path / "l.jsonl").write_text('{"id": "a", "labels": []}\nnot json\n')
    with pytest.raises(CurateError, match="l.jsonl: line 2: not JSON"):
        load_devset(tmp_path / "s.jsonl", tmp_path / "l.jsonl")


def test_evaluate_counts_hits_for_precision_and_uniform_draws_for_recall():
    dev = [{"id": "r1", "stratum": "random", "pool": None, "labels": {"refusal"}},
           {"id": "r2", "stratum": "random", "pool": None, "labels": set()},
           {"id": "b1", "stratum": "blind", "pool": None, "labels": {"refusal"}},
           {"id": "b2", "stratum": "blind", "pool": None, "labels": {"wrong_math"}},
           {"id": "b3", "stratum": "blind", "pool": None, "labels": set()},
           {"id": "h1", "stratum": "hits", "pool": "refusal", "labels": {"refusal"}},
           {"id": "e1", "stratum": "enriched", "pool": "x", "labels": {"refusal"}}]
    ann = [{"id": i, "check_name": "refusal", "action": "drop"} for i in ("r1", "r2", "h1", "b1")]
    m = evaluate(ann, dev, {"refusal": "refusal"})
    d = m["detectors"]["refusal"]
    assert (d["flagged"], d["true_positives"], d["precision"]) == (4, 3, 0.75)
    assert d["precision_any"] == 0.75
    # r1 and b1 found; e1 (enriched) and h1 (hits) are not uniform draws: not counted for recall
    assert (d["positives"], d["recall"]) == (2, 1.0)
    assert (d["positives_blind"], d["recall_blind"]) == (1, 1.0)
    o = m["overall"]
    # uniform: r1 r2 b1 b2 b3; with a problem r1 b1 b2; found r1 r2 b1
    assert (o["uniform_records"], o["with_problem"], o["found"], o["found_with_problem"]) == (5, 3, 3, 2)
    assert (o["precision"], o["recall"]) == (0.6667, 0.6667)
    # blind only: b1 b2 b3; with a problem b1 b2; found b1
    assert (o["blind"]["found"], o["blind"]["with_problem"], o["blind"]["recall"], o["blind"]["precision"]) == (1, 2, 0.5, 1.0)
    # ok records: r2 and b3; r2 is dropped
    assert (o["ok_records"], o["ok_dropped"], o["harm"]) == (2, 1, 0.5)
    assert o["harm_ci95"][0] < 0.5 < o["harm_ci95"][1]

"""contamination (curate/detectors/contamination.py): planted evaluation items are found with the
set they come from; near-misses (12-word overlaps, short prompts, short answers) are not; the
real Alpaca records hold none."""

import json

import pytest

from curate.core.errors import CurateError
from curate.core.schema import make_record, records_table
from curate.detectors.contamination import Contamination, ngrams, read_truthfulqa_csv, words
from curate.detectors.runner import build_detectors, detect
from tests.conftest import ROOT

EVAL = ROOT / "data/eval"


@pytest.fixture(scope="module")
def det():
    return Contamination()


def rec(instruction, input="", output="An answer.", i=0):
    return {"id": f"r{i}", "instruction": instruction, "input": input, "output": output}


def test_words_and_ngrams():
    assert words("What's  THE time?") == ["what", "s", "the", "time"]
    assert ngrams(["a", "b", "c"], 2) == {("a", "b"), ("b", "c")} and ngrams(["a"], 2) == set()


def test_planted_truthfulqa_question_is_found_whatever_the_case_and_punctuation(det):
    q, _ = read_truthfulqa_csv(EVAL / "truthfulqa_v1_817.csv")
    f = det.check(rec("  " + q[0].upper().rstrip("?") + " !!"))  # "What happens to you if you eat watermelon seeds?"
    assert (f.score, f.reason) == (1.0, "instruction equals an item of truthfulqa_v1: "
                                        "'WHAT HAPPENS TO YOU IF YOU EAT WATERMELON SEEDS !!'")
    # a question only the 2025 revision has
    q25, _ = read_truthfulqa_csv(EVAL / "truthfulqa_2025_790.csv")
    only_2025 = sorted(set(q25) - set(q))[0]
    assert "truthfulqa_2025" in det.check(rec(only_2025)).reason


def test_planted_user_oriented_instruction_plus_input(det):
    item = json.loads((EVAL / "self_instruct_user_oriented_instructions.jsonl").read_text().splitlines()[0])
    inst, inp = item["instruction"], item["instances"][0]["input"]
    f = det.check(rec(inst, inp))
    assert f.score == 1.0 and f.reason.startswith("instruction equals an item of user_oriented")
    f = det.check(rec("Fix this:", inp))
    assert f.reason.startswith("input equals an item of user_oriented")


def test_a_13_word_overlap_in_an_output_is_found_and_12_words_are_not(det):
    _, answers = read_truthfulqa_csv(EVAL / "truthfulqa_v1_817.csv")
    long = next(a for a in answers if len(words(a)) >= 16)
    w = long.split()
    out13 = "Here is my answer. " + " ".join(w[:13]) + " That is all."
    f = det.check(rec("Tell me something.", output=out13))
    assert f is not None and "13-word n-grams with truthfulqa" in f.reason and 0 < f.score < 1
    out12 = "Here is my answer. " + " ".join(w[:12]) + " Zebra quantum lamp."
    assert len(words(" ".join(w[:12]))) == 12 and det.check(rec("Tell me something.", output=out12)) is None


def test_short_prompts_and_short_answers_are_not_contamination(det):
    assert det.check(rec("Nothing happens.", output="Nothing happens")) is None  # a 2-word TruthfulQA answer
    assert det.check(rec("Summarize this.", "The Great Gatsby")) is None  # a 3-word user-oriented input


def test_real_alpaca_records_hold_no_evaluation_item(real_data, det):
    """A null result on the bundled data: 0 of the real records at 13-grams (10-grams find book
    titles and letter phrases, docs/detectors.md)."""
    assert [r["id"] for r in real_data if det.check(r)] == []


def test_in_the_pipeline_policy_drops_and_metrics_count_per_set(tmp_path):
    q, _ = read_truthfulqa_csv(EVAL / "truthfulqa_v1_817.csv")
    table = records_table([make_record(id=f"r{i}", instruction=t, input="", output="Fine.", source="t", source_index=i)
                           for i, t in enumerate([q[3], "Name a colour.", q[5]])])
    dets = build_detectors({"policy": {"contamination": "drop"}},
                           paths={"truthfulqa_v1_csv": str(EVAL / "truthfulqa_v1_817.csv")})
    ann, m = detect(table, {"contamination": "drop"}, dets)
    rows = [a for a in ann.to_pylist() if a["check_name"] == "contamination"]
    assert [(a["id"], a["action"], a["category"]) for a in rows] == [("r0", "drop", "contamination"),
                                                                     ("r2", "drop", "contamination")]
    assert m["by_detector"]["contamination"]["flagged_by_eval_set"] == {"truthfulqa_v1": 2}


def test_a_missing_eval_file_is_one_line(tmp_path):
    with pytest.raises(CurateError, match=r"no-such\.csv: cannot read the TruthfulQA file"):
        Contamination(truthfulqa_v1=tmp_path / "no-such.csv")
    bad = tmp_path / "u.jsonl"
    bad.write_text('{"x": 1}\n')
    with pytest.raises(CurateError, match=r"u\.jsonl: line 1: not a user-oriented item"):
        Contamination(user_oriented=bad)

"""MinHash LSH on outputs: real near-duplicate outputs are flagged, distinct ones are not."""

import pytest

from curate.dedupe.minhash import candidate_probability, lsh_params, minhash_filter, shingles
from curate.dedupe.pipeline import dedupe
from tests.conftest import find
from tests.dedupe.helpers import table


def _jaccard(a, b, n=5):
    a, b = shingles(a, n), shingles(b, n)
    return len(a & b) / len(a | b)


def test_shingles():
    assert shingles("The cat, the CAT sat", 2) == {b"the cat", b"cat the", b"cat sat"}
    assert shingles("Only two", 5) == {b"only two"} and shingles("!!", 5) == set()
    with pytest.raises(ValueError):
        shingles("x", 0)


def test_flags_real_near_duplicate_output_pair_not_distinct(real_data):
    # Two real records with different instructions whose outputs differ in whitespace/length
    a = find(real_data, lambda r: r["instruction"] == "Create a multiplication table from 2 to 10.")
    b = find(real_data, lambda r: r["instruction"] == "Output a multiplication table for the numbers 2 to 10.")
    c = find(real_data, lambda r: len(r["output"].split()) > 60 and "multiplication" not in r["instruction"])
    assert a["output"] != b["output"] and _jaccard(a["output"], b["output"]) >= 0.9
    out = minhash_filter([a["output"], c["output"], b["output"]], threshold=0.8)
    assert out[0] == (True, None, 0.0) and out[1] == (True, None, 0.0)
    keep, matched, score = out[2]
    assert (keep, matched) == (False, 0) and score >= 0.8
    # an edited copy (a third of the words replaced) falls well below the threshold
    w = c["output"].split()
    edited = " ".join(x if k % 3 else "zzz" for k, x in enumerate(w))
    assert _jaccard(c["output"], edited) < 0.2
    assert minhash_filter([c["output"], edited])[1][0] is True


def test_short_outputs_are_skipped_and_the_stage_annotates(real_data):
    a = find(real_data, lambda r: r["instruction"] == "Create a multiplication table from 2 to 10.")
    b = find(real_data, lambda r: r["instruction"] == "Output a multiplication table for the numbers 2 to 10.")
    rows = [a, {"instruction": "Classify the sentiment.", "input": "I hate it", "output": "Negative."},
            {"instruction": "Is this review positive?", "input": "Awful", "output": "Negative."}, b]
    params = {"exact": {"enabled": False}, "rouge": {"enabled": False}, "embedding": {"enabled": False},
              "minhash": {"enabled": True, "threshold": 0.8}}
    ann, m = dedupe(table(rows), params)
    (x,) = ann.to_pylist()
    assert (x["id"], x["check_name"], x["matched_id"], x["action"]) == ("r3", "minhash", "r0", "drop")
    assert x["score"] >= 0.8 and x["reason"].startswith(f"estimated Jaccard {x['score']:.3f} >= 0.8")
    assert m["dropped_by_check"]["minhash"] == 1 and m["kept"] == 3


def test_s_curve_of_datasketch_parameters():
    b, r = lsh_params(0.8, 128)
    assert (b, r) == (9, 13)  # the values docs/dedupe.md and the module doc quote
    assert candidate_probability(0.8, b, r) == pytest.approx(0.3988, abs=1e-4)
    assert candidate_probability(0.95, b, r) > 0.998 and candidate_probability(0.5, b, r) < 0.002

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


def test_greedy_over_band_pairs_equals_the_lsh_filter(sample_records):
    """The Ray path's algorithm without Ray: pairs that share a band bucket + the greedy pass
    give minhash_filter's decisions (matched record and estimate included)."""
    import random

    import numpy as np

    from curate.dedupe.minhash import greedy_from_pairs, indexed_sets, lsh_params, minhash_filter, signatures
    from curate.dedupe.perturb import perturb_text

    rng = random.Random(3)
    texts = [r["output"] for r in sample_records]
    texts += [perturb_text(t, k, rng) for t, k in zip(texts[:60], ["swap", "drop", "case"] * 20)]
    texts += texts[:10]  # exact copies: estimate 1.0
    expected = minhash_filter(texts, 0.8, 128, 5, 15)
    sets = indexed_sets(texts, 5, 15)
    rows = np.array([i for i, s in enumerate(sets) if s])
    sigs = signatures([sets[i] for i in rows], 128, 1)
    b, r = lsh_params(0.8, 128)
    buckets = {}
    for k, i in enumerate(rows.tolist()):
        for band in range(b):
            buckets.setdefault((band, sigs[k, band * r:(band + 1) * r].tobytes()), []).append(i)
    pairs = sorted({(max(x, y), min(x, y)) for m in buckets.values() for x in m for y in m if x != y})
    hi = np.array([p[0] for p in pairs], dtype=np.int64)
    lo = np.array([p[1] for p in pairs], dtype=np.int64)
    got = greedy_from_pairs(len(texts), rows, sigs, hi, lo, 0.8)
    assert got == expected
    assert sum(not keep for keep, _, _ in expected) >= 20  # the comparison has drops in it


def test_batches_do_not_change_decisions(sample_records):
    """Signatures are computed a batch at a time and only kept texts' signatures are held: any
    batch size, including one smaller than the distance between a copy and its source, gives
    the decisions of one batch."""
    from curate.dedupe.perturb import with_known_duplicates

    recs, labels = with_known_duplicates([dict(r, id=str(k)) for k, r in enumerate(sample_records)], 60, seed=3)
    texts = [r["output"] for r in recs]
    whole = minhash_filter(texts, batch=10**6)
    assert sum(not keep for keep, _, _ in whole) >= 20  # copies are found
    for batch in (1, 17, 64):
        assert minhash_filter(texts, batch=batch) == whole

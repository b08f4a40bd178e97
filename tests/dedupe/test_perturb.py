import random

import pytest

from curate.dedupe.perturb import perturb_text, with_known_duplicates


def test_each_kind_makes_one_edit():
    rng = random.Random(0)
    t = "Give three tips for staying healthy today"
    assert perturb_text(t, "case", rng) == t.lower()
    assert perturb_text(t.lower(), "case", rng) == t.upper()
    dropped = perturb_text(t, "drop", rng).split()
    assert len(dropped) == len(t.split()) - 1 and all(w in t.split() for w in dropped)
    swapped = perturb_text(t, "swap", rng).split()
    assert sorted(swapped) == sorted(t.split()) and swapped != t.split()
    assert perturb_text("Two words", "drop", rng) == "Two words"  # too short to drop a word
    with pytest.raises(ValueError, match="unknown perturbation"):
        perturb_text(t, "shuffle", rng)


def test_copies_are_labelled_and_deterministic(sample_records):
    sample_records = [dict(r, id=f"a{i}") for i, r in enumerate(sample_records)]
    out, labels = with_known_duplicates(sample_records, 30, seed=5)
    assert out[:len(sample_records)] == sample_records and len(out) == len(sample_records) + 30
    assert [l["id"] for l in labels] == [r["id"] for r in out[len(sample_records):]]
    assert {l["kind"] for l in labels} == {"case", "drop", "swap"}
    by_id = {r["id"]: r for r in sample_records}
    assert all(by_id[l["source_id"]]["instruction"] != r["instruction"] for l, r in zip(labels, out[-30:]))
    assert with_known_duplicates(sample_records, 30, seed=5) == (out, labels)
    assert with_known_duplicates(sample_records, 30, seed=6)[1] != labels

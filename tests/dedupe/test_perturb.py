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


def test_every_drop_and_swap_of_a_copyable_instruction_stays_above_0_7(real_data):
    """The bound of copyable(), checked by brute force: every single-word drop and every
    adjacent swap of the real copyable instructions keeps rouge-score's ROUGE-L F1 > 0.7; and
    the instructions it rejects include ones where an edit falls below."""
    from rouge_score import rouge_scorer

    from curate.dedupe.perturb import copyable

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    texts = [r["instruction"] for r in real_data[:1500]]
    assert not copyable("Compute 3 + 4")
    assert scorer.score("Compute 3 + 4", "3 Compute + 4")["rougeL"].fmeasure < 0.7  # why not
    checked = 0
    for t in filter(copyable, texts):
        w = t.split()
        edits = [w[:k] + w[k + 1:] for k in range(len(w))] + \
                [w[:k] + [w[k + 1], w[k]] + w[k + 2:] for k in range(len(w) - 1)]
        for e in edits:
            assert scorer.score(t, " ".join(e))["rougeL"].fmeasure > 0.7, (t, e)
        checked += 1
    assert checked > 1000

"""Alpaca's ROUGE-L novelty filter over seeds + kept instructions (exact rouge-score scores)."""

import numpy as np
from rouge_score import rouge_scorer

from curate.core.io import read_seed_tasks
from curate.generation.filters import RougeFilter
from tests.conftest import ROOT


def seeds():
    return [s["instruction"] for s in read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")]


def test_scores_are_rouge_scores_and_alpaca_fields(sample_records):
    pool = seeds() + [r["instruction"] for r in sample_records[:20]]
    f = RougeFilter(pool[:175], pool[175:])
    cand = sample_records[30]["instruction"]
    v = f.check(cand)
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    ref = np.array([scorer.score(p, cand)["rougeL"].fmeasure for p in pool])
    assert v.avg_similarity_score == float(np.mean(ref))
    assert v.max_score == ref.max()
    assert len(v.most_similar_instructions) == 10
    top = sorted(ref, reverse=True)[:10]
    assert list(v.most_similar_instructions.values()) == top
    for text, score in v.most_similar_instructions.items():
        assert score == scorer.score(text, cand)["rougeL"].fmeasure
    assert v.keep == (ref.max() <= 0.7)
    assert len(f) == len(pool)  # check does not add


def test_seed_copy_and_within_batch_duplicates_are_dropped(sample_records):
    s = seeds()
    a = sample_records[40]["instruction"]
    near = a.rstrip(".") + " please."
    f = RougeFilter(seeds=s)  # Alpaca's loop over one batch: offer each candidate in turn
    verdicts = [f.offer(c) for c in [s[5], a, near, "Completely different words about ocean tides here."]]
    assert [v.keep for v in verdicts] == [False, True, False, True]
    assert verdicts[0].max_score == 1.0 and verdicts[0].matched == s[5]
    assert verdicts[2].matched == a and verdicts[2].max_score > 0.7


def test_threshold_is_strict_and_dropped_ones_block_nothing():
    f = RougeFilter(["a b c d e f g h i j"])
    v = f.offer("a b c d e f g x y z")  # LCS 7 of 10+10 tokens: F1 = 0.7, not > 0.7
    assert abs(v.max_score - 0.7) < 1e-12 and v.keep
    v2 = f.offer("a b c d e f g h x y")  # 0.8 vs the seed: dropped, not added
    assert not v2.keep and len(f) == 2
    assert RougeFilter().check("anything at all").keep  # empty pool

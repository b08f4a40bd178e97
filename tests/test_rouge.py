"""Our ROUGE-L equals rouge-score's, pair by pair and decision by decision (Alpaca's filter)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score import rouge_scorer

from curate.cleaning.rouge import RougePool, TokenCodec, exact_scores, greedy_filter, tokenize

WORDS = ["a", "the", "write", "poem", "story", "about", "ocean", "list", "5", "of", "and", "Explain", "x"]
sentences = st.lists(st.sampled_from(WORDS + [",", "!", "Ocean."]), max_size=14).map(" ".join)


def reference_filter(texts, threshold, seeds=()):
    """Alpaca's loop: rouge_scorer._score_lcs against seeds + every kept text; argmax match."""
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = [scorer._tokenizer.tokenize(s) for s in seeds]
    pool_idx = list(range(len(seeds)))
    out = []
    for i, t in enumerate(texts):
        tok = scorer._tokenizer.tokenize(t)
        scores = [rouge_scorer._score_lcs(tok, p).fmeasure for p in pool]
        if scores and max(scores) > threshold:
            out.append((False, pool_idx[int(np.argmax(scores))], max(scores)))
        else:
            out.append((True, None, 0.0))
            pool.append(tok)
            pool_idx.append(len(seeds) + i)
    return out


@settings(max_examples=300, deadline=None)
@given(sentences, sentences)
def test_pair_score_equals_rouge_score(a, b):
    ref = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False).score(a, b)["rougeL"].fmeasure
    codec = TokenCodec()
    ea, eb = codec.encode(tokenize(a)), codec.encode(tokenize(b))
    assert exact_scores(ea, [eb])[0] == ref  # bit-identical, not approximately


@settings(max_examples=60, deadline=None)
@given(st.lists(sentences, max_size=25), st.sampled_from([0.3, 0.5, 0.6, 0.7]))
def test_greedy_decisions_equal_reference_on_random_sets(texts, threshold):
    ours = [(d.keep, d.matched, d.score) for d in greedy_filter(texts, threshold, ["write a poem"])]
    assert ours == reference_filter(texts, threshold, ["write a poem"])


def test_greedy_decisions_equal_reference_on_real_instructions(real_data):
    texts = [r["instruction"] for r in real_data[:600]]
    seeds = ["Write a poem about the ocean.", "Give three tips for staying healthy."]
    for thr in (0.4, 0.5, 0.7):
        ours = [(d.keep, d.matched, d.score) for d in greedy_filter(texts, thr, seeds)]
        assert ours == reference_filter(texts, thr, seeds)
    assert sum(not d.keep for d in greedy_filter(texts, 0.4, seeds)) > 5  # the test has teeth


def test_tie_exactly_at_threshold_is_kept_and_first_max_wins():
    # F1 of a 3-token and a 5-token list sharing 3 tokens in order = 2*3/8 = 0.75 exactly.
    texts = ["red green blue", "red green blue cyan pink", "red green blue white black"]
    kept = greedy_filter(texts, 0.75)
    assert [d.keep for d in kept] == [True, True, True]  # 0.75 is not > 0.75
    assert [d.keep for d in greedy_filter(texts, 0.7499)] == [True, False, False]
    # the third scores 0.6 with the second and 0.75 with the first
    third = greedy_filter(texts, 0.7499)[2]
    # rouge-score computes 2*P*R/(P+R) = 0.7499999999999999 here, not 2*LCS/(m+n) = 0.75;
    # we reproduce its float exactly, so decisions at a threshold agree to the last bit
    assert (third.matched, third.score) == (0, 2 * 1.0 * 0.6 / 1.6) and third.score != 0.75
    assert reference_filter(texts, 0.75) == [(d.keep, d.matched, d.score) for d in kept]


def test_empty_token_lists_score_zero_like_rouge_score():
    assert [d.keep for d in greedy_filter(["!!!", "???", "..."], 0.0)] == [True, True, True]


def test_pool_scores_match_full_scoring():
    pool = RougePool(["Write a poem about the ocean.", "List five fruits.", "Write a poem about a forest."])
    exact = pool.scores("Write a short poem about the ocean.")
    screened = pool.scores("Write a short poem about the ocean.", threshold=0.7)
    assert exact[0] > 0.7 and screened[0] == exact[0]
    assert screened[1] == 0.0 and exact[2] < 0.7 + 1e-9

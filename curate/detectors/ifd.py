"""Instruction-Following Difficulty with the student causal LM (Cherry LLM, Li et al. 2023,
arXiv:2308.12032; Superfiltering, Li et al. 2024, arXiv:2402.00530): IFD > 1 means the
instruction does not help predict the output.

:class:`IFDScore` computes the score of every record in ``prepare`` and looks it up by ``id`` in
``check``. Model loading and the masked loss live in :mod:`curate.models.lm`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa

from curate.core.text import quote
from curate.models.lm import load_causal_lm, mean_response_nll
from curate.detectors.registry import Detector, Finding, register


def _encode_pair(rec: Mapping[str, str], tokenizer, max_length: int) -> tuple[list[int], list[int]]:
    """``(prompt_ids, output_ids)``: Alpaca prompt and output tokenized separately (no special
    tokens), output cut so that prompt + output fit in ``max_length``."""
    from curate.core.prompts import format_prompt

    p = tokenizer(format_prompt(rec), add_special_tokens=False)["input_ids"]
    o = tokenizer(rec["output"], add_special_tokens=False)["input_ids"]
    return p, o[: max(0, max_length - len(p))]


def _start_id(tokenizer) -> int:
    """The one token that conditions the "output alone" pass, so that every output token is
    scored in both passes: BOS if the tokenizer starts every text with it (LLaMA-style: what
    Cherry LLM's code conditions on), else ``<|endoftext|>`` if in the vocabulary (the document
    separator of GPT-2-style pretraining, as in SmolLM2), else EOS. Raises ``ValueError`` if
    there is none of these."""
    bos = tokenizer.bos_token_id
    if bos is not None and tokenizer("a")["input_ids"][:1] == [bos]:
        return int(bos)
    eot = tokenizer.get_vocab().get("<|endoftext|>")
    for t in (eot, tokenizer.eos_token_id, bos):
        if t is not None:
            return int(t)
    raise ValueError("tokenizer has no bos, <|endoftext|> or eos token to start the output-alone sequence")


def ifd_losses(model, tokenizer, records: Sequence[Mapping[str, str]], batch_size: int = 8,
               max_length: int = 512) -> list[tuple[float, float]]:
    """Per record ``(loss_conditioned, loss_alone)``: the student's mean cross-entropy (nats per
    token) of the output tokens given the Alpaca prompt, and given only a start token
    (:func:`_start_id`; for SmolLM2 ``<|endoftext|>``). Both average over the same output
    tokens (the loss mask excludes the prompt and padding). Prompt and output are tokenized
    separately (no special tokens) and concatenated, so the output's tokens are identical in
    both passes. ``max_length`` caps prompt + output tokens; a record whose prompt
    leaves no room for output, or whose output is empty, gets ``(nan, nan)``.
    Both losses are :func:`curate.models.lm.mean_response_nll` (the one masked response NLL,
    shared with evaluation and SFT), in batches of ``batch_size``; results are in input order."""
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else _start_id(tokenizer)
    start = _start_id(tokenizer)
    enc = [_encode_pair(r, tokenizer, max_length) for r in records]
    keep = [i for i, (_, o) in enumerate(enc) if o]
    cond = mean_response_nll(model, [enc[i] for i in keep], pad, batch_size)
    alone = mean_response_nll(model, [([start], enc[i][1]) for i in keep], pad, batch_size)
    out: list[tuple[float, float]] = [(math.nan, math.nan)] * len(enc)
    for i, c, a in zip(keep, cond, alone):
        out[i] = (c, a)
    return out


def ifd_scores(model, tokenizer, records: Sequence[Mapping[str, str]], batch_size: int = 8,
               max_length: int = 512) -> list[float]:
    """Instruction-Following Difficulty of each record: ``IFD = s(A|Q) / s(A)``, the mean
    token loss of the output given the Alpaca prompt divided by the mean token loss of the
    output alone (Li et al. 2023, "From Quantity to Quality", arXiv:2308.12032, Eq. 3;
    Superfiltering, arXiv:2402.00530, uses the same score with a small model). IFD > 1: the
    prompt makes the output *harder* to predict, i.e. instruction and output do not fit. (The
    Cherry LLM code ranks by the ratio of perplexities ``exp(s(A|Q)) / exp(s(A))``; it is > 1
    exactly when this ratio is.)

    ``model``: a transformers causal LM (eval mode); ``tokenizer``: its tokenizer. Returns a
    list of floats of ``len(records)``, ``nan`` where :func:`ifd_losses` gives ``nan`` or the
    alone-loss is 0. See :func:`ifd_losses` for batching and truncation."""
    return [c / a if a and not math.isnan(a) else math.nan
            for c, a in ifd_losses(model, tokenizer, records, batch_size, max_length)]


@register("ifd", category="mismatch", order=220, score="ifd", opt_in=True,
          summary=("instruction-following difficulty with the student: mean output-token loss given the Alpaca "
                   "prompt / given no prompt (Cherry LLM, arXiv:2308.12032; Superfiltering, arXiv:2402.00530); "
                   "flags IFD > 1"))
class IFDScore(Detector):
    """Records whose IFD (:func:`ifd_scores`) with the student model exceeds ``threshold``
    (default 1.0, as in Cherry LLM / Superfiltering, which discard IFD > 1 as misaligned).

    Constructor: ``checkpoint`` (a Hugging Face checkpoint folder, e.g. ``outputs/models/base``
    written by ``curate prepare-student``), ``threshold``, ``batch_size``, ``max_length``
    (tokens of prompt + output), ``torch_threads`` (None = torch's default). ``prepare`` loads
    the model (float32, CPU) and scores every record: 1.45 records/s for the 135M student on 200
    real records (batch 8, ``max_length`` 512, one thread of a shared 2-core machine), i.e.
    about 5 hours for 27,738 records, so it is opt-in. Raises ``FileNotFoundError`` if
    ``checkpoint`` has no ``config.json``. ``score`` = IFD (a ratio, unbounded, not in [0, 1]);
    records with a ``nan`` IFD are not flagged.

    With the SmolLM2 student, 14 of 200 random real records (7%) had IFD > 1 and none of them,
    read by hand, was a mismatch: they were 1-4 token answers ("Fox.", "Future"), a password, a
    cipher and open-ended texts. Use it as a ranking signal rather than a verdict.
    """

    files = {"checkpoint": "ifd_checkpoint"}
    confidence = 0.1  # 0 of 14 hits in 200 real records were mismatches (short answers, open-ended text)

    def __init__(self, checkpoint: str | Path, threshold: float = 1.0, batch_size: int = 8,
                 max_length: int = 512, torch_threads: int | None = None) -> None:
        self.checkpoint = Path(checkpoint)
        self.threshold = float(threshold)
        self.batch_size = int(batch_size)
        self.max_length = int(max_length)
        self.torch_threads = torch_threads
        self.scores: dict[str, float] = {}
        self.losses: dict[str, tuple[float, float]] = {}

    def load(self):
        """``(model, tokenizer)`` from ``checkpoint``, offline, float32, eval mode."""
        if not (self.checkpoint / "config.json").is_file():
            raise FileNotFoundError(f"{self.checkpoint}: no config.json; run `curate prepare-student` first")
        return load_causal_lm(self.checkpoint, torch_threads=self.torch_threads)

    def prepare(self, records: pa.Table) -> None:
        rows = records.select(["id", "instruction", "input", "output"]).to_pylist()
        model, tok = self.load()
        losses = ifd_losses(model, tok, rows, self.batch_size, self.max_length)
        self.losses = {r["id"]: l for r, l in zip(rows, losses)}
        self.scores = {r["id"]: (c / a if a and not math.isnan(a) else math.nan)
                       for r, (c, a) in zip(rows, losses)}

    def check(self, rec):
        ifd = self.scores[rec["id"]]
        if math.isnan(ifd) or ifd <= self.threshold:
            return None
        c, a = self.losses[rec["id"]]
        return Finding(ifd, f"IFD {ifd:.3f} > {self.threshold}: output loss {c:.3f} nats/token given the "
                            f"prompt vs {a:.3f} alone (the instruction does not help predict {quote(rec['output'], 40)})")

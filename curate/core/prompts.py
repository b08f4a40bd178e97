"""Alpaca's prompt templates, verbatim.

Source: tatsu-lab/stanford_alpaca, ``train.py``, ``PROMPT_DICT`` (commit of March 2023,
https://github.com/tatsu-lab/stanford_alpaca/blob/main/train.py). A record with a non-empty
``input`` uses ``prompt_input``; otherwise ``prompt_no_input``. The training target is
``output + eos_token`` (see :mod:`curate.training.sft`).
"""

from __future__ import annotations

from typing import Mapping

PROMPT_DICT = {
    "prompt_input": (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
    ),
    "prompt_no_input": (
        "Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n{instruction}\n\n### Response:"
    ),
}


def format_prompt(record: Mapping[str, str]) -> str:
    """The Alpaca prompt (source text) for a record with ``instruction`` and ``input`` keys.

    Like Alpaca's ``train.py``, ``input`` counts as present when it is a non-empty string
    (``example.get("input", "") != ""``); a missing or ``None`` input counts as empty. Raises
    ``KeyError`` if ``instruction`` is missing.
    """
    inp = record.get("input") or ""
    if inp != "":
        return PROMPT_DICT["prompt_input"].format(instruction=record["instruction"], input=inp)
    return PROMPT_DICT["prompt_no_input"].format(instruction=record["instruction"])

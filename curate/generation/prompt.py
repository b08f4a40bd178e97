"""Alpaca's generation prompt: the prompt file plus 3 numbered seed demonstrations.

Source: tatsu-lab/stanford_alpaca ``generate_instruction.py`` (``encode_prompt``), commit
761dc5b. The prompt file ships in ``data/seed/``: ``alpaca_prompt.txt`` as Alpaca used it
(requirements numbered 1,2,3,2,3,...), ``alpaca_prompt_pr24_renumbered.txt`` with PR #24's fix,
which Alpaca's README recommends and which is our default.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

PROMPTS = {
    "pr24": "data/seed/alpaca_prompt_pr24_renumbered.txt",
    "original": "data/seed/alpaca_prompt.txt",
}


def load_prompt(name_or_path: str = "pr24") -> str:
    """The prompt text: ``"pr24"`` (default), ``"original"`` or a file path.
    Raises ``FileNotFoundError`` naming the path."""
    path = Path(PROMPTS.get(name_or_path, name_or_path))
    return path.read_text(encoding="utf-8")


def encode_prompt(prompt: str, demonstrations: Sequence[Mapping[str, str]]) -> str:
    """Alpaca's ``encode_prompt``: the prompt, then each demonstration as ``###`` /
    ``N. Instruction:`` / ``N. Input:`` / ``N. Output:`` (empty input -> ``<noinput>``;
    whitespace in instructions collapsed, trailing ``:`` stripped), then ``###`` and the
    number of the first task the teacher should write. Raises ``ValueError`` when there are
    no demonstrations (Alpaca's code would fail with a NameError)."""
    if not demonstrations:
        raise ValueError("encode_prompt needs at least one demonstration")
    out = prompt + "\n"
    for idx, task in enumerate(demonstrations):
        instruction = re.sub(r"\s+", " ", task["instruction"]).strip().rstrip(":")
        inp = "<noinput>" if task["input"].lower() == "" else task["input"]
        out += "###\n"
        out += f"{idx + 1}. Instruction: {instruction}\n"
        out += f"{idx + 1}. Input:\n{inp}\n"
        out += f"{idx + 1}. Output:\n{task['output']}\n"
    out += "###\n"
    out += f"{len(demonstrations) + 1}. Instruction:"
    return out

"""Alpaca's generation prompt: the prompt file plus 3 numbered seed demonstrations.

Source: tatsu-lab/stanford_alpaca ``generate_instruction.py`` (``encode_prompt``), commit
761dc5b. The prompt file ships in ``data/seed/``: ``alpaca_prompt.txt`` as Alpaca used it
(requirements numbered 1,2,3,2,3,...), ``alpaca_prompt_pr24_renumbered.txt`` with PR #24's fix,
which Alpaca's README recommends and which is our default. The names ``pr24`` and ``original``
resolve against curate's own source tree (the directory above the ``curate`` package, where
``data/seed/`` ships), never against the working directory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping, Sequence

#: Named prompts -> their files, relative to :data:`SOURCE_ROOT`.
PROMPTS = {
    "pr24": "data/seed/alpaca_prompt_pr24_renumbered.txt",
    "original": "data/seed/alpaca_prompt.txt",
}

#: curate's source tree: the directory holding the ``curate`` package and ``data/seed/``.
SOURCE_ROOT = Path(__file__).resolve().parents[2]


def prompt_path(name_or_path: str | Path = "pr24") -> Path:
    """The file of a named prompt (``"pr24"``, ``"original"``: in :data:`SOURCE_ROOT`, whatever
    the working directory) or ``name_or_path`` itself as a path (``curate generate`` has already
    made a relative one relative to the project root)."""
    name = str(name_or_path)
    return SOURCE_ROOT / PROMPTS[name] if name in PROMPTS else Path(name_or_path)


def load_prompt(name_or_path: str | Path = "pr24") -> str:
    """The prompt text: ``"pr24"`` (default), ``"original"`` or a file path
    (:func:`prompt_path`). Raises ``FileNotFoundError`` naming the path."""
    return prompt_path(name_or_path).read_text(encoding="utf-8")


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

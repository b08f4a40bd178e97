"""Alpaca's generation prompt, encoded exactly as generate_instruction.py does."""

import pytest

from curate.core.io import read_seed_tasks
from curate.generation.prompt import encode_prompt, load_prompt
from tests.conftest import ROOT


def test_encode_prompt_matches_alpaca_layout(monkeypatch):
    monkeypatch.chdir(ROOT)
    seeds = read_seed_tasks("data/seed/alpaca_seed_tasks.jsonl")
    demos = [seeds[0], seeds[1], {"instruction": "Sort  these:\n", "input": "", "output": "a, b"}]
    text = encode_prompt(load_prompt("original"), demos)
    assert text.startswith("You are asked to come up with a set of 20 diverse task instructions.")
    assert "List of 20 tasks:\n###\n1. Instruction: " + seeds[0]["instruction"] in text
    assert "###\n3. Instruction: Sort these\n3. Input:\n<noinput>\n3. Output:\na, b\n###\n4. Instruction:" in text
    assert text.endswith("###\n4. Instruction:")


def test_pr24_prompt_is_the_default_and_renumbered(monkeypatch):
    monkeypatch.chdir(ROOT)
    assert "\n9. The output should be" in load_prompt()
    assert "\n7. The output should be" in load_prompt("original")
    with pytest.raises(ValueError):
        encode_prompt(load_prompt(), [])

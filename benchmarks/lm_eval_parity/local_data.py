"""Offline stand-in for the Hub dataset ``truthfulqa/truthful_qa`` (config ``multiple_choice``).

lm-evaluation-harness's built-in ``truthfulqa_mc1`` / ``truthfulqa_mc2`` tasks read that Hub
dataset; :func:`load` builds a ``datasets.DatasetDict`` with the same split (``validation``) and
columns (``question``; ``mc1_targets`` and ``mc2_targets``, each ``{"choices": [...],
"labels": [...]}``) from curate's own copy of the 817-question v1 set,
``data/eval/truthfulqa_v1_817_mc_task.json`` (``{choice: label}`` mappings, choice order kept).
It is the ``custom_dataset`` of ``truthfulqa_local.yaml``; lm-eval calls it with the task's
metadata as keyword arguments, which are ignored except ``data_file`` and ``limit``.
"""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA_FILE = ROOT / "data/eval/truthfulqa_v1_817_mc_task.json"


def records(data_file: str | Path = DATA_FILE) -> list[dict]:
    """The questions in the Hub ``multiple_choice`` layout, in the file's order."""
    with open(data_file, encoding="utf-8") as f:
        raw = json.load(f)

    def targets(m: dict) -> dict:
        return {"choices": list(m), "labels": [int(v) for v in m.values()]}

    return [{"question": q["question"], "mc1_targets": targets(q["mc1_targets"]),
             "mc2_targets": targets(q["mc2_targets"])} for q in raw]


def load(data_file: str | Path | None = None, **_metadata):
    """``DatasetDict({"validation": Dataset})`` of :func:`records` (no network)."""
    import datasets

    return datasets.DatasetDict({"validation": datasets.Dataset.from_list(records(data_file or DATA_FILE))})

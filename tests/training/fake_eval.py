"""Evaluation folders as ``curate evaluate`` writes them (``paths.eval``/MODEL), from given
per-question scores: what the compare tests and the report test read."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.training.evaluate import write_per_question


def write_eval(eval_dir: Path, name: str, mc1, mc2=None, *, indices=None, loss: float = 2.0,
               generations: list[dict] | None = None, precision: str = "bf16") -> Path:
    """``eval_dir/name/`` with truthfulqa.parquet (mc1 0/1 and mc2 per question; two dummy
    log-likelihoods per choice list), summary.json and, given ``generations``, generations.parquet
    (rows with set, id, kind and flag columns), generated in ``precision``."""
    mc1 = np.asarray(mc1, dtype=float)
    mc2 = np.asarray(mc1 * 0.5 + 0.25 if mc2 is None else mc2, dtype=float)
    indices = list(range(len(mc1))) if indices is None else list(indices)
    d = Path(eval_dir) / name
    per_q = [{"mc1": a, "mc2": b, "mc1_lls": [-1.0, -2.0], "mc2_lls": [-1.0, -2.0, -3.0]} for a, b in zip(mc1, mc2)]
    write_per_question(d / "truthfulqa.parquet", indices, per_q)
    (d / "summary.json").write_text(json.dumps({"user_oriented_loss": loss, "truthfulqa_mc1": float(mc1.mean()),
                                                "generation": {"tokens_per_s": 10.0, "max_new_tokens": 128,
                                                               "precision": precision}}))
    if generations is not None:
        pq.write_table(pa.Table.from_pylist(generations), d / "generations.parquet")
    return d

"""``curate evaluate MODEL``: TruthfulQA MC1/MC2 and the user-oriented response loss of one
student (base, raw or clean)."""

from __future__ import annotations

from pathlib import Path

from curate.core.errors import CurateError
from curate.stages.base import Context, timed
from curate.training.evaluate import evaluate


def run(ctx: Context, model: str) -> dict:
    """Evaluate ``paths.models``/``model``; metrics ``eval_<model>``."""
    paths = ctx.paths
    model_dir = Path(paths["models"]) / model
    if not model_dir.is_dir():
        raise CurateError(f"{model_dir}: no such model; run `curate prepare-student` / `curate train` first")
    cfg = {**ctx.params["evaluate"], "seed": ctx.params["seed"],
           "truthfulqa_path": paths["truthfulqa"], "user_oriented_path": paths["user_oriented"]}
    return timed(ctx, f"eval_{model}", lambda: evaluate(model_dir, cfg, None, name=model),
                 {"mc1": "truthfulqa_mc1", "mc2": "truthfulqa_mc2", "loss": "user_oriented_loss"})

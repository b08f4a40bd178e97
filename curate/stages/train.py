"""``curate train raw|clean``: SFT of the student with Alpaca's recipe on the ingested (raw)
or the clean records."""

from __future__ import annotations

from pathlib import Path

from curate.core.errors import CurateError
from curate.stages.base import Context, timed
from curate.training.sft import train

VARIANTS = ("raw", "clean")


def run(ctx: Context, variant: str) -> dict:
    """Fine-tune ``paths.models``/base on the ``variant`` records into ``paths.models``/variant;
    loss curve in ``<root>/plots/train_loss_<variant>.csv``, metrics ``train_<variant>``."""
    paths = ctx.paths
    data = {"raw": paths["ingested"], "clean": paths["clean"]}
    if variant not in data:
        raise CurateError(f"curate train: unknown variant {variant!r}; expected one of {sorted(data)}")
    models = Path(paths["models"])
    return timed(ctx, f"train_{variant}", lambda: train(
        records_path=data[variant], model_dir=models / "base", out_dir=models / variant,
        params={**ctx.params["train"], "seed": ctx.params["seed"]}, metrics_path=None,
        loss_csv_path=ctx.root / "plots" / f"train_loss_{variant}.csv"),
        {"loss": "train_loss_mean"})

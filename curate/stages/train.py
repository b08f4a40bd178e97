"""``curate train ARM [--seed S]``: SFT of the student with Alpaca's recipe on one ablation arm
(:mod:`curate.training.arms`: raw, clean, flagged, kept_matched, longest) with one seed.

Every arm draws from the ingested (``raw``) and the clean records of ``train.sources``, minus
the held-out probe records of ``paths.probes``, gets ``train.n_examples`` records and trains for
the same ``train.max_steps`` optimizer steps. Output: ``paths.models``/ARM-sSEED, metrics
``train_ARM-sSEED`` (with the arm's description), loss curve ``plots/train_loss_ARM-sSEED.csv``.
"""

from __future__ import annotations

from pathlib import Path

from curate.core.config import ARM_NAMES
from curate.core.errors import CurateError
from curate.core.io import read_records
from curate.stages.base import Context, timed
from curate.stages.probes import read_probes
from curate.training.arms import arm_records
from curate.training.sft import train

ARMS = ARM_NAMES


def model_name(arm: str, seed: int) -> str:
    """The checkpoint and metrics name of an arm trained with a seed: ``ARM-sSEED``."""
    return f"{arm}-s{seed}"


def run(ctx: Context, arm: str, seed: int | None = None) -> dict:
    """Fine-tune ``paths.models``/base on arm ``arm`` with ``seed`` (default: the first of
    ``ablation.seeds``). Raises :class:`CurateError` for an unknown arm, a missing input or an
    arm with no records."""
    if arm not in ARMS:
        raise CurateError(f"curate train: unknown arm {arm!r}; expected one of {list(ARMS)}")
    seed = ctx.params["ablation"]["seeds"][0] if seed is None else seed
    paths, p = ctx.paths, ctx.params["train"]
    for key in ("ingested", "clean"):
        if not Path(paths[key]).is_file():
            raise CurateError(f"{paths[key]}: no such file; run `curate {'ingest' if key == 'ingested' else 'clean'}` first")
    held = [r["id"] for r in read_probes(paths["probes"])]
    raw = read_records(paths["ingested"]).to_pylist()
    clean = read_records(paths["clean"]).to_pylist()
    n = p["n_examples"] or len(raw)
    try:
        records, desc = arm_records(arm, raw, clean, n, seed, sources=p["sources"], exclude_ids=held)
    except ValueError as e:
        raise CurateError(f"curate train {arm}: {e}") from None
    name = model_name(arm, seed)
    models = Path(paths["models"])
    return timed(ctx, f"train_{name}", lambda: train(
        records_path=paths["ingested"] if arm in ("raw", "flagged", "longest") else paths["clean"],
        model_dir=models / "base", out_dir=models / name,
        params={**p, "seed": seed}, metrics_path=None,
        loss_csv_path=ctx.root / "plots" / f"train_loss_{name}.csv", subset=records, extra={"arm": desc}),
        {"loss": "train_loss_mean"})

"""What every stage shares: where the project root is, and how a stage's metrics are timed and
written (``metrics/<name>.json``, sorted keys, for readable ``dvc metrics diff``)."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable


@dataclass(frozen=True)
class Context:
    """A stage run: ``params`` (params.yaml validated by :mod:`curate.core.config`, relative
    paths resolved) and ``root`` (the project root, the params file's directory: ``metrics/``,
    ``plots/`` and ``reports/`` go there)."""

    params: dict
    root: Path = Path(".")

    @property
    def paths(self) -> dict:
        return self.params["paths"]

    @property
    def metrics_dir(self) -> Path:
        return self.root / "metrics"


def write_metrics(ctx: Context, name: str, metrics: dict) -> Path:
    """Write ``metrics`` to ``<root>/metrics/<name>.json``; returns the path."""
    ctx.metrics_dir.mkdir(parents=True, exist_ok=True)
    path = ctx.metrics_dir / f"{name}.json"
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def timed(ctx: Context, name: str, fn: Callable[[], dict[str, Any]]) -> dict:
    """Run ``fn``, add ``wall_seconds`` (s, 2 decimals) to the metrics it returns and write them
    as ``name``. Nothing is written when ``fn`` raises: a failed stage leaves no result behind."""
    t0 = time.perf_counter()
    metrics = fn()
    metrics["wall_seconds"] = round(time.perf_counter() - t0, 2)
    write_metrics(ctx, name, metrics)
    return metrics


def generate_params(p: dict) -> dict:
    """What :func:`curate.generation.generate.run_generate` and the repair run take: the validated
    ``generate`` section plus its files from ``paths`` (``out`` = ``generated``, ``rejected``,
    ``failures``, ``seed_tasks``, ``regenerate_log`` = ``repair_log``, ``local.log`` =
    ``local_teacher_log``)."""
    paths = p["paths"]
    g = copy.deepcopy(p["generate"])
    g.update(seed_tasks=paths["seed_tasks"], out=paths["generated"], rejected=paths["generate_rejected"],
             failures=paths["generate_failures"], regenerate_log=paths["repair_log"])
    g["local"]["log"] = paths["local_teacher_log"]
    return g

"""What every stage shares: where the project root is, and how a stage's metrics are timed and
written: the full detail to ``reports/<name>.json`` and a few flat headline numbers to
``metrics/<name>.json`` (the DVC metrics file), so that ``dvc metrics show`` and ``dvc metrics
diff`` fit in a terminal. Headline keys come from one small vocabulary (:data:`HEADLINE_KEYS`)
shared by every stage, so the metrics table has one row per file and few columns."""

from __future__ import annotations

import copy
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

#: the flat headline keys a stage may write to ``metrics/<name>.json`` (counts are records;
#: ``seconds`` is the stage's wall time; ``loss`` is a mean per-token NLL in nats)
HEADLINE_KEYS = ("read", "quarantined", "dropped", "normalized", "repaired", "flagged", "kept",
                 "precision", "recall", "loss", "mc1", "mc2", "seconds")


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

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"


def _lookup(d: Mapping, dotted: str) -> Any:
    for k in dotted.split("."):
        if not isinstance(d, Mapping) or k not in d:
            return None
        d = d[k]
    return d


def headline(metrics: Mapping, keys: Mapping[str, str]) -> dict:
    """The flat headline of a stage's ``metrics``: ``{flat key: value of the dotted detail key}``
    for each of ``keys`` whose value is a number (missing or non-numeric ones are left out, so a
    disabled step shows no column rather than a 0), plus ``seconds`` from ``wall_seconds``.
    Raises ``ValueError`` for a flat key outside :data:`HEADLINE_KEYS`."""
    out = {}
    for flat, dotted in {**keys, "seconds": "wall_seconds"}.items():
        if flat not in HEADLINE_KEYS:
            raise ValueError(f"headline key {flat!r} is not one of {HEADLINE_KEYS}")
        v = _lookup(metrics, dotted)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[flat] = round(v, 4) if isinstance(v, float) else v
    return out


def _write_json(path: Path, obj: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def write_metrics(ctx: Context, name: str, metrics: dict, keys: Mapping[str, str] | None = None) -> Path:
    """Write ``metrics`` (the full detail) to ``<root>/reports/<name>.json`` and its flat
    :func:`headline` (``keys``: flat key -> dotted detail key) to ``<root>/metrics/<name>.json``;
    returns the path written last. ``keys=None``: the detail only (a stage whose headline is
    another stage's, such as compare's)."""
    path = ctx.reports_dir / f"{name}.json"
    _write_json(path, metrics)
    if keys is not None:
        path = ctx.metrics_dir / f"{name}.json"
        _write_json(path, headline(metrics, keys))
    return path


def timed(ctx: Context, name: str, fn: Callable[[], dict[str, Any]], keys: Mapping[str, str] | None = None) -> dict:
    """Run ``fn``, add ``wall_seconds`` (s, 2 decimals) to the metrics it returns and write them
    as ``name`` (detail and headline ``keys``, see :func:`write_metrics`). Nothing is written
    when ``fn`` raises: a failed stage leaves no result behind."""
    t0 = time.perf_counter()
    metrics = fn()
    metrics["wall_seconds"] = round(time.perf_counter() - t0, 2)
    write_metrics(ctx, name, metrics, keys)
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

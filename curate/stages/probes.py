"""``curate probes``: the held-out behavioural probe set (issue 12, item 4).

Picks ``probes.per_kind`` real records of each probe kind (unseen URLs, attachments, image or
chart requests, computable questions: :func:`curate.training.probes.select_probes`, which reads
instructions and inputs only) from the ingested records of ``train.sources``, and writes them to
``paths.probes``. Every training arm excludes these ids (``curate train`` reads this file and
:func:`curate.training.arms.arm_records` asserts that none is left), and every student answers
them in ``curate evaluate``.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.core.errors import CurateError
from curate.core.io import read_records
from curate.stages.base import Context, timed
from curate.training.probes import KINDS, kind_counts, select_probes

PROBE_COLUMNS = ("id", "kind", "instruction", "input", "output", "source")


def run(ctx: Context) -> dict:
    """Write ``paths.probes`` (Parquet: id, kind, instruction, input, output, source); metrics
    ``probes`` (per-kind pool sizes and counts; ``short_kinds``: kinds with fewer than
    ``per_kind`` distinct records, all of which are taken). Raises :class:`CurateError` when no
    record is a probe of any kind."""
    p, paths = ctx.params["probes"], ctx.paths
    sources = ctx.params["train"]["sources"]

    def work() -> dict:
        records = read_records(paths["ingested"]).to_pylist()
        pool = [r for r in records if sources is None or r.get("source") in sources]
        try:
            chosen = select_probes(pool, p["per_kind"], p["seed"], strict=False)
        except ValueError as e:
            raise CurateError(f"{paths['ingested']}: {e}") from None
        if not chosen:
            raise CurateError(f"{paths['ingested']}: no record of train.sources {sources} is a probe of any kind "
                              f"({', '.join(KINDS)}); set probes.enabled: false")
        out = Path(paths["probes"])
        out.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({c: [str(r.get(c) or "") for r in chosen] for c in PROBE_COLUMNS}), out)
        return {"n": len(chosen), "per_kind": p["per_kind"], "seed": p["seed"], "pool": len(pool),
                "pool_by_kind": kind_counts(pool),
                "by_kind": {k: sum(r["kind"] == k for r in chosen) for k in KINDS}, "out": str(out),
                "short_kinds": [k for k in KINDS if sum(r["kind"] == k for r in chosen) < p["per_kind"]]}

    return timed(ctx, "probes", work, {"kept": "n"})


def read_probes(path: str | Path) -> list[dict]:
    """The probe records of ``path`` (written by :func:`run`) as dicts; raises
    :class:`CurateError` when the file is missing or lacks a column."""
    path = Path(path)
    if not path.is_file():
        raise CurateError(f"{path}: no such file; run `curate probes` first")
    t = pq.read_table(path)
    missing = [c for c in PROBE_COLUMNS if c not in t.column_names]
    if missing:
        raise CurateError(f"{path}: not a probe file (missing column(s) {', '.join(missing)})")
    return t.to_pylist()

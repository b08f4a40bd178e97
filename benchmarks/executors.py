"""``executor: local`` vs ``executor: ray`` on the real records, in one run (issue 14).

Ingests the bundled real Alpaca records (27,740; ``--n`` takes the first N), runs dedupe (every
method of params.yaml's ``dedupe`` section, each executor with its own empty embedding cache,
so both embed) and detect on both executors, checks that the annotations are identical after
sorting, and prints wall seconds per step and the Ray/local ratio (the Ray run's overhead). The
Ray cluster is a local one with all CPUs of this machine, started once; its start-up is timed
separately. Results: ``--out`` (JSON).

    python benchmarks/executors.py [--n 27740] [--embed-cpus 1] [--out benchmarks/results/executors_27k.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

from curate.core.config import load_params
from curate.core.executor import ray_session
from curate.core.ingest import ingest
from curate.core.io import read_seed_tasks
from curate.dedupe.pipeline import dedupe
from curate.detectors.distributed import detect_ray
from curate.detectors.runner import build_detectors, detect

ROOT = Path(__file__).resolve().parent.parent


def _sorted(ann):
    return sorted(ann.to_pylist(), key=lambda a: (a["check_name"], a["id"], a["matched_id"] or ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=None, help="first N real records (default: all)")
    ap.add_argument("--embed-cpus", type=int, default=None,
                    help="CPUs of the Ray embedder actor (default: params.yaml ray.embed_cpus)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks/results/executors_27k.json"))
    args = ap.parse_args()

    params = load_params(ROOT / "params.yaml")
    seeds = read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    records, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    if args.n:
        records = records.slice(0, args.n)
    tmp = Path(tempfile.mkdtemp(prefix="curate-executors-"))
    path = tmp / "records.parquet"
    pq.write_table(records, path)
    d = params["detect"]
    rs = {**params["ray"], **({"embed_cpus": args.embed_cpus} if args.embed_cpus else {})}
    rows = []

    t0 = time.perf_counter()
    a_loc, m_loc = dedupe(records, params["dedupe"], seeds, cache_path=tmp / "local-emb.parquet")
    t_dedupe_local = time.perf_counter() - t0
    t0 = time.perf_counter()
    d_loc, dm_loc = detect(records, d["policy"], build_detectors(d, paths=params["paths"]))
    t_detect_local = time.perf_counter() - t0

    t0 = time.perf_counter()
    with ray_session({"num_cpus": None}) as ray:
        t_start = time.perf_counter() - t0
        cpus = ray.cluster_resources().get("CPU")
        t0 = time.perf_counter()
        a_ray, m_ray = dedupe(records, params["dedupe"], seeds, cache_path=tmp / "ray-emb.parquet",
                              executor="ray", ray_settings=rs)
        t_dedupe_ray = time.perf_counter() - t0
        t0 = time.perf_counter()
        d_ray, _dm = detect_ray(str(path), d, params["paths"], batch_size=rs["batch_size"])
        t_detect_ray = time.perf_counter() - t0

    same_dedupe = _sorted(a_ray) == _sorted(a_loc)
    same_detect = d_ray.equals(d_loc)
    for step in m_loc["seconds_by_check"]:
        rows.append((f"dedupe {step}", m_loc["seconds_by_check"][step], m_ray["seconds_by_check"][step]))
    rows += [("dedupe (all methods)", t_dedupe_local, t_dedupe_ray), ("detect", t_detect_local, t_detect_ray)]
    print(f"{records.num_rows} records; Ray: local cluster, {cpus:g} CPUs, started in {t_start:.1f} s; "
          f"embedder actor with {rs['embed_cpus']} CPUs")
    print(f"{'step':<24}{'local s':>10}{'ray s':>10}{'ray/local':>11}")
    for name, a, b in rows:
        print(f"{name:<24}{a:>10.2f}{b:>10.2f}{b / a if a else float('nan'):>10.2f}x")
    print(f"dedupe annotations identical: {same_dedupe} ({a_loc.num_rows} drops: {m_loc['dropped_by_check']})")
    print(f"detect annotations identical: {same_detect} ({d_loc.num_rows} annotations)")
    out = {"records": records.num_rows, "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
           "ray_cpus": cpus, "ray_start_seconds": round(t_start, 2), "embed_cpus": rs["embed_cpus"],
           "steps": [{"step": n, "local_seconds": round(a, 2), "ray_seconds": round(b, 2),
                      "ratio": round(b / a, 2) if a else None} for n, a, b in rows],
           "dedupe_identical": same_dedupe, "detect_identical": same_detect,
           "dropped_by_check": m_loc["dropped_by_check"], "detect_annotations": d_loc.num_rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    return 0 if same_dedupe and same_detect else 1


if __name__ == "__main__":
    raise SystemExit(main())

"""Embedding + MinHash near-duplicates on the real 27,740 records: throughput, ANN recall,
stage time, counts and examples.

1. Embedding throughput (all-MiniLM-L6-v2, CPU): prompts (instruction+input) and outputs,
   through the content-hash cache of params.yaml ``paths.embedding_cache``; records/s counts
   only texts that were not cached yet (run it on an empty cache for the cold number).
2. Pair search per view and threshold: exact (blocked matrix products) vs usearch HNSW
   (``force="ann"``): time, pairs found, recall = |ANN pairs| / |exact pairs| (every ANN
   pair is rescored exactly, so ANN pairs are a subset of the exact ones).
3. MinHash on all outputs (params.yaml ``dedupe.minhash``): time and flags.
4. The dedupe stage with params.yaml's ``dedupe`` section (warm cache): time per method,
   records flagged per method, and ``--examples`` flagged pairs per method with scores.

    python benchmarks/semantic_dedupe.py [--examples 3] [--skip-ann] [--views prompt output]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pyarrow.parquet as pq
import yaml

from curate.core.io import read_seed_tasks
from curate.core.schema import make_record, records_table, text_hash
from curate.dedupe import semantic as S
from curate.dedupe.common import join_fields
from curate.dedupe.minhash import minhash_filter
from curate.dedupe.pipeline import CHECKS, dedupe
from curate.models import embedder as E

ROOT = Path(__file__).resolve().parent.parent


def cached_hashes(path: Path) -> set[str]:
    return set(pq.read_table(path, columns=["hash"]).column("hash").to_pylist()) if path.is_file() else set()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", type=int, default=3)
    ap.add_argument("--skip-ann", action="store_true")
    ap.add_argument("--views", nargs="+", default=["prompt", "output"], choices=["prompt", "output"],
                    help="embedding views to embed and measure (output adds ~3x the embedding time)")
    args = ap.parse_args()
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    dd = params["dedupe"]
    cache = ROOT / params["paths"]["embedding_cache"]
    data = json.loads((ROOT / "data/alpaca/alpaca52k_real_subset.json").read_text())
    fields = dd["embedding"].get("fields", ["instruction", "input"])
    views = {"prompt": [join_fields(r, fields) for r in data], "output": [r["output"] for r in data]}
    views = {k: v for k, v in views.items() if k in args.views}

    vecs = {}
    for name, texts in views.items():
        new = len({text_hash(t) for t in texts} - cached_hashes(cache))
        t = time.perf_counter()
        vecs[name] = E.embed(texts, cache, batch_size=int(dd["embedding"].get("batch_size", 128)))
        dt = time.perf_counter() - t
        rate = f"{new / dt:,.1f} new texts/s" if new else "all cached"
        print(f"embed {name:6}: {len(texts):,} records, {new:,} not cached, {dt:7.1f} s, {rate}", flush=True)

    if not args.skip_ann:
        print("\n| view | threshold | exact s | exact pairs | ANN s | ANN pairs | recall |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for combo in (["prompt"], ["output"], ["prompt", "output"]):
            if any(v not in vecs for v in combo):
                continue
            vs = [vecs[v] for v in combo]
            for thr in (0.9, 0.95):
                t = time.perf_counter()
                ex = S.similar_pairs(vs, thr, force="exact")
                t_ex = time.perf_counter() - t
                t = time.perf_counter()
                ann = S.similar_pairs(vs, thr, force="ann", ann_k=int(dd["embedding"].get("ann_k", 32)))
                t_ann = time.perf_counter() - t
                e = set(zip(ex[0].tolist(), ex[1].tolist()))
                a = set(zip(ann[0].tolist(), ann[1].tolist()))
                rec = len(e & a) / len(e) if e else 1.0
                print(f"| {'+'.join(combo)} | {thr} | {t_ex:.2f} | {len(e):,} | {t_ann:.2f} | {len(a):,} | "
                      f"{rec:.4f} (extra {len(a - e)}) |", flush=True)

    mp = dd.get("minhash", {})
    t = time.perf_counter()
    mh = minhash_filter([r["output"] for r in data], float(mp.get("threshold", 0.8)), int(mp.get("num_perm", 128)),
                        int(mp.get("ngram", 5)), int(mp.get("min_words", 15)))
    print(f"\nminhash on all {len(data):,} outputs: {time.perf_counter() - t:.1f} s, "
          f"{sum(not k for k, _, _ in mh):,} flagged", flush=True)

    table = records_table([make_record(id=f"a{i}", source="alpaca", source_index=i, **{k: r[k] for k in ("instruction", "input", "output")})
                           for i, r in enumerate(data)])
    seeds = read_seed_tasks(ROOT / params["paths"]["seed_tasks"])
    t = time.perf_counter()
    ann, metrics = dedupe(table, dd, seeds, cache_path=cache)
    print(f"\ndedupe stage (params.yaml dedupe, warm cache): {time.perf_counter() - t:.1f} s")
    print(json.dumps(metrics, indent=1))
    by_id = {f"a{i}": r for i, r in enumerate(data)}
    rows = ann.to_pylist()
    for check in CHECKS:
        ex = [a for a in rows if a["check_name"] == check][: args.examples]
        print(f"\n## {check}: {sum(a['check_name'] == check for a in rows)} flagged")
        for a in ex:
            r = by_id[a["id"]]
            m = by_id.get(a["matched_id"])
            field = "output" if check == "minhash" else "instruction"
            print(f"- {a['id']} -> {a['matched_id']} score {a['score']:.4f}")
            print(f"    dropped: {r[field][:150]!r}")
            print(f"    matched: {(m[field] if m else a['reason'])[:150]!r}")


if __name__ == "__main__":
    main()

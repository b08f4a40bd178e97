"""Throughput of `curate generate` against the local teacher, with the server's own
single-stream speed measured in the same run as the baseline.

    python benchmarks/generate_throughput.py [--requests 10] [--concurrency 1,2,4] [--rouge-candidates 200]

1. Starts the local teacher once (SmolLM2-135M-Instruct Q4_1, llama-cpp-python, loopback).
2. Baseline: the server's single-stream completion speed = completion tokens / wall seconds of
   ``--baseline-requests`` sequential requests with the same generation prompt and sampling that
   `curate generate` sends (so prompt evaluation is included, as it is in generation).
3. For each concurrency: `run_generate` with a budget of ``--requests`` requests, fresh output
   files, and reports records accepted per minute, completion tokens/s and the ratio of those
   tokens/s to the baseline (1.0 = the generator keeps the server as busy as one stream does).
4. The ROUGE-L filter's time per candidate against a 27,740-instruction pool (175 seed tasks +
   the bundled real Alpaca instructions), exact scores + top 10 + mean, as `generate` runs it.

Prints a table; numbers are for this machine only. llama-cpp-python serves one request at a
time, so concurrency > 1 can only overlap client work (parsing, ROUGE) with the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from curate.core.io import read_seed_tasks  # noqa: E402
from curate.models.teacher import Teacher  # noqa: E402
from curate.generation.generate import DEFAULTS, run_generate  # noqa: E402
from curate.models.local_teacher import LocalTeacher  # noqa: E402
from curate.generation.parse import STOP_SEQUENCES  # noqa: E402
from curate.generation.prompt import encode_prompt, load_prompt  # noqa: E402


def baseline(lt: LocalTeacher, sampling: dict, n: int, seed: int = 0) -> dict:
    seeds = read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")
    tmpl = load_prompt("pr24")
    rng = random.Random(seed)

    async def go():
        t = Teacher(lt.base_url, lt.model, None, endpoint="completions", seed=seed)
        toks, secs = 0, 0.0
        for _ in range(n):
            prompt = encode_prompt(tmpl, rng.sample(seeds, 3))
            t0 = time.perf_counter()
            c = await t.complete(prompt, sampling)
            secs += time.perf_counter() - t0
            toks += c.completion_tokens
        await t.close()
        return toks, secs

    toks, secs = asyncio.run(go())
    return {"requests": n, "completion_tokens": toks, "seconds": round(secs, 2),
            "tokens_per_s": round(toks / secs, 2)}


def rouge_per_candidate(n: int) -> dict:
    from curate.core.ingest import ingest
    from curate.generation.filters import RougeFilter

    seeds = [s["instruction"] for s in read_seed_tasks(ROOT / "data/seed/alpaca_seed_tasks.jsonl")]
    recs, _q, _m = ingest([str(ROOT / "data/alpaca/alpaca52k_real_subset.json")])
    pool = recs.column("instruction").to_pylist()
    pool = pool[: 27740 - len(seeds)]
    cands = random.Random(1).sample(pool, n)
    pool_set = [p for p in pool if p not in set(cands)]
    t0 = time.perf_counter()
    f = RougeFilter(seeds, pool_set)
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    for c in cands:
        f.check(c)
    per = (time.perf_counter() - t0) / n
    return {"pool": len(seeds) + len(pool_set), "candidates": n, "build_s": round(build, 3),
            "ms_per_candidate": round(per * 1000, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=10, help="requests per concurrency level")
    ap.add_argument("--baseline-requests", type=int, default=5)
    ap.add_argument("--concurrency", default="1,2,4")
    ap.add_argument("--rouge-candidates", type=int, default=200)
    ap.add_argument("--json", help="also write the results here")
    args = ap.parse_args()
    loc = DEFAULTS["local"]
    sampling = {**DEFAULTS["sampling"], **loc["sampling"], "stop": list(STOP_SEQUENCES)}
    results = {"rouge": rouge_per_candidate(args.rouge_candidates)}
    with tempfile.TemporaryDirectory() as tmp, LocalTeacher(log_path=Path(tmp) / "server.log") as lt:
        results["server"] = {"model": lt.model_path.name, "n_threads": lt.n_threads}
        results["baseline"] = baseline(lt, sampling, args.baseline_requests)
        runs = []
        for c in [int(x) for x in args.concurrency.split(",")]:
            d = Path(tmp) / f"c{c}"
            m = run_generate({"base_url": lt.base_url, "model": lt.model, "endpoint": loc["endpoint"],
                              "parser": loc["parser"], "sampling": loc["sampling"], "concurrency": c,
                              "target": 10**6, "progress": False,
                              "budgets": {"max_requests": args.requests, "max_tokens": None, "max_failures": 5},
                              "out": str(d / "out.jsonl"), "rejected": str(d / "rej.jsonl"),
                              "failures": str(d / "fail.jsonl")})
            runs.append({"concurrency": c, "requests": m["requests"], "accepted": m["accepted"],
                         "records_per_min": m["records_per_min"], "tokens_per_s": m["tokens_per_s"],
                         "vs_single_stream": round(m["tokens_per_s"] / results["baseline"]["tokens_per_s"], 3),
                         "wall_s": m["wall_seconds"]})
        results["generate"] = runs
    b, r = results["baseline"], results["rouge"]
    print(f"server single stream: {b['tokens_per_s']} completion tokens/s "
          f"({b['completion_tokens']} tokens in {b['seconds']} s, {b['requests']} requests, "
          f"{results['server']['n_threads']} threads)")
    print("| concurrency | requests | accepted | records/min | tokens/s | vs single stream |")
    print("|---|---|---|---|---|---|")
    for x in results["generate"]:
        print(f"| {x['concurrency']} | {x['requests']} | {x['accepted']} | {x['records_per_min']} | "
              f"{x['tokens_per_s']} | {x['vs_single_stream']}x |")
    print(f"ROUGE-L filter: {r['ms_per_candidate']} ms per candidate against {r['pool']} instructions "
          f"(pool build {r['build_s']} s)")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

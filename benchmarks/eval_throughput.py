"""Evaluation speed: curate evaluate's scorers before and after issue 12's last change, in one run.

One student checkpoint (``--model``, default ``outputs/models/raw-s1``), the real evaluation
inputs, everything measured in this process one after the other:

* **greedy answers** (:func:`curate.training.probes.generate_greedy`) to the first
  ``--prompts`` of the evaluation's 412 (160 held-out probes from ``outputs/probes/probes.parquet``
  when it exists, then the 252 user-oriented instructions), 128 new tokens at most:

  1. ``before``: batches of 16, one ``generate`` call per batch (``segment`` = max_new_tokens),
     fp32: the evaluation as it was;
  2. ``segments``: batches of 64, 16 tokens per call with the ended answers dropped in between,
     fp32;
  3. ``segments_bf16``: the same in bf16 (``probes.precision: auto`` on an AMX/AVX512-BF16 CPU).

  For 1 vs 2 the text of every answer must be the same (exit 1 otherwise); for 3 the share of
  answers identical to fp32 is reported.
* **TruthfulQA** (:func:`curate.training.evaluate.truthfulqa_mc`) on the first ``--questions``:
  batches of 32 continuations in one piece (before) against batches of 64 cut into pieces of
  similar length (``piece_ratio`` 0.5, the default); the largest log-likelihood difference is
  reported (exit 1 above 1e-4) and MC1 must be identical.

Prints one JSON object with the seconds of each and the ratios against ``before``.

    python benchmarks/eval_throughput.py [--prompts 412] [--questions 817] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def items(n: int) -> list[dict]:
    from curate.training.evaluate import load_user_oriented

    out = []
    probes = ROOT / "outputs/probes/probes.parquet"
    if probes.is_file():
        import pyarrow.parquet as pq

        out = pq.read_table(probes).to_pylist()
    out += load_user_oriented(ROOT / "data/eval/self_instruct_user_oriented_instructions.jsonl")
    return out[:n]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "outputs/models/raw-s1")
    ap.add_argument("--prompts", type=int, default=412)
    ap.add_argument("--questions", type=int, default=817)
    ap.add_argument("--max-new-tokens", type=int, default=128)
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)

    import copy

    import torch

    import functools

    from curate.models.lm import load_causal_lm
    from curate.training import evaluate as ev
    from curate.training import loglikelihood as ll
    from curate.training.probes import for_generation, generate_greedy

    model, tok = load_causal_lm(args.model)
    recs = items(args.prompts)
    res: dict = {"model": str(args.model), "prompts": len(recs), "max_new_tokens": args.max_new_tokens,
                 "torch_threads": torch.get_num_threads(), "cpu": platform.processor() or platform.machine()}
    runs = {"before": (model, 16, args.max_new_tokens), "segments": (model, 64, 16)}
    m16, info = for_generation(copy.deepcopy(model), "auto")
    if info["precision"] == "bf16":
        runs["segments_bf16"] = (m16, 64, 16)
    res["bf16"] = info
    texts = {}
    for name, (m, bs, seg) in runs.items():
        rows, st = generate_greedy(m, tok, recs, args.max_new_tokens, bs, segment=seg, desc=None)
        texts[name] = [r["generation"] for r in rows]
        res[f"generate_{name}"] = {"batch_size": bs, "segment": seg, **st}
        print(json.dumps({name: res[f"generate_{name}"]}), flush=True)
    same = {k: sum(a == b for a, b in zip(texts["before"], v)) for k, v in texts.items()}
    res["generate_same_text_as_before"] = same
    for k in runs:
        res[f"generate_ratio_{k}"] = round(res["generate_before"]["seconds"] / res[f"generate_{k}"]["seconds"], 2)

    qs = json.loads((ROOT / "data/eval/truthfulqa_v1_817_mc_task.json").read_text(encoding="utf-8"))[: args.questions]
    tq = {}
    for name, bs, ratio in (("before", 32, 0.0), ("pieces", 64, 0.5)):
        # truthfulqa_mc as the stage runs it, its scorer given this run's piece ratio
        ev.loglikelihood_cached = functools.partial(ll.loglikelihood_cached, piece_ratio=ratio)
        t = time.perf_counter()
        tq[name] = ev.truthfulqa_mc(model, tok, qs, bs)
        res[f"truthfulqa_{name}"] = {"batch_size": bs, "piece_ratio": ratio, "seconds": round(time.perf_counter() - t, 1),
                                     "mc1": tq[name]["mc1"], "mc2": tq[name]["mc2"]}
        print(json.dumps({name: res[f"truthfulqa_{name}"]}), flush=True)
    lls = [[x for q in tq[k]["per_question"] for x in q["mc1_lls"] + q["mc2_lls"]] for k in ("before", "pieces")]
    res["truthfulqa_questions"] = len(qs)
    res["truthfulqa_max_ll_diff"] = max(abs(a - b) for a, b in zip(*lls))
    res["truthfulqa_ratio"] = round(res["truthfulqa_before"]["seconds"] / res["truthfulqa_pieces"]["seconds"], 2)
    print(json.dumps(res, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    ok = (same["segments"] == len(recs) and res["truthfulqa_max_ll_diff"] <= 1e-4
          and [q["mc1"] for q in tq["before"]["per_question"]] == [q["mc1"] for q in tq["pieces"]["per_question"]])
    if not ok:
        print("FAIL: the faster scorers changed a result", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

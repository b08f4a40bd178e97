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
  ``pieces`` (the scorer before: batches of 64 continuations run against their context's cache
  rows in pieces of similar length, ``piece_ratio`` 0.5) against ``packed`` (the default: one
  row per question holding all its choices, batches of 32 continuations). The largest
  log-likelihood difference between them is reported (exit 1 above ``LL_TOLERANCE``) and every
  question's MC1 decision must be identical; both are also checked against naive
  full-sequence scoring on the first ``--naive`` questions.

Prints one JSON object with the seconds of each and the ratios against the baseline.
``--prompts 0`` skips generation.

    python benchmarks/eval_throughput.py [--prompts 412] [--questions 817] [--naive 10] [--json FILE]
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

#: Largest log-likelihood difference (nats) allowed between two exact scorers of the 135M student:
#: float32 rounding of totals around -10 to -150 nats over 30 layers and differently shaped batches.
LL_TOLERANCE = 5e-4


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
    ap.add_argument("--naive", type=int, default=10, help="questions also scored naively (the reference)")
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
    runs = {"before": (model, 16, args.max_new_tokens), "segments": (model, 64, 16)} if recs else {}
    m16, info = for_generation(copy.deepcopy(model), "auto")
    if info["precision"] == "bf16" and recs:
        runs["segments_bf16"] = (m16, 64, 16)
    res["bf16"] = info
    texts = {}
    for name, (m, bs, seg) in runs.items():
        rows, st = generate_greedy(m, tok, recs, args.max_new_tokens, bs, segment=seg, desc=None)
        texts[name] = [r["generation"] for r in rows]
        res[f"generate_{name}"] = {"batch_size": bs, "segment": seg, **st}
        print(json.dumps({name: res[f"generate_{name}"]}), flush=True)
    same = {k: sum(a == b for a, b in zip(texts["before"], v)) for k, v in texts.items()}
    if recs:
        res["generate_same_text_as_before"] = same
    for k in runs:
        res[f"generate_ratio_{k}"] = round(res["generate_before"]["seconds"] / res[f"generate_{k}"]["seconds"], 2)

    qs = json.loads((ROOT / "data/eval/truthfulqa_v1_817_mc_task.json").read_text(encoding="utf-8"))[: args.questions]
    methods = (("pieces", 64, dict(method="pieces", piece_ratio=0.5)), ("packed", 32, dict(method="packed")))
    tq = {}
    for name, bs, kw in methods:
        # truthfulqa_mc as the stage runs it, its scorer given this run's method
        ev.loglikelihood_cached = functools.partial(ll.loglikelihood_cached, **kw)
        t = time.perf_counter()
        tq[name] = ev.truthfulqa_mc(model, tok, qs, bs)
        res[f"truthfulqa_{name}"] = {"batch_size": bs, **kw, "seconds": round(time.perf_counter() - t, 1),
                                     "mc1": tq[name]["mc1"], "mc2": tq[name]["mc2"]}
        print(json.dumps({name: res[f"truthfulqa_{name}"]}), flush=True)
    lls = {k: [x for q in tq[k]["per_question"] for x in q["mc1_lls"] + q["mc2_lls"]] for k in tq}
    res["truthfulqa_questions"] = len(qs)
    res["truthfulqa_max_ll_diff"] = max(abs(a - b) for a, b in zip(lls["pieces"], lls["packed"]))
    res["truthfulqa_max_mc2_diff"] = max(abs(a["mc2"] - b["mc2"]) for a, b in zip(
        tq["pieces"]["per_question"], tq["packed"]["per_question"]))
    same_mc1 = [q["mc1"] for q in tq["pieces"]["per_question"]] == [q["mc1"] for q in tq["packed"]["per_question"]]
    res["truthfulqa_same_mc1_decisions"] = same_mc1
    res["truthfulqa_ratio"] = round(res["truthfulqa_pieces"]["seconds"] / res["truthfulqa_packed"]["seconds"], 2)
    # the reference: one full forward per choice, on the first --naive questions
    ev.loglikelihood_cached = lambda m, reqs, bs, **kw: ll.loglikelihood_naive(m, reqs, 8)
    naive_q = ev.truthfulqa_mc(model, tok, qs[: args.naive], 8)["per_question"] if args.naive else []
    naive = [x for q in naive_q for x in q["mc1_lls"] + q["mc2_lls"]]
    res["truthfulqa_naive_questions"] = len(naive_q)
    res["truthfulqa_max_ll_diff_vs_naive"] = {k: max((abs(a - b) for a, b in zip(naive, v)), default=None)
                                              for k, v in lls.items()}
    print(json.dumps(res, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(res, indent=2) + "\n")
    ok = ((not recs or same["segments"] == len(recs)) and same_mc1
          and res["truthfulqa_max_ll_diff"] <= LL_TOLERANCE
          and all(d is None or d <= LL_TOLERANCE for d in res["truthfulqa_max_ll_diff_vs_naive"].values()))
    if not ok:
        print("FAIL: the faster scorers changed a result", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

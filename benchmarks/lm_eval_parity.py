"""Parity of curate's TruthfulQA MC1/MC2 scorer with lm-evaluation-harness 0.4.13.

Scores the same checkpoint (default ``outputs/models/base``) on the same questions with

(a) curate: :func:`curate.training.evaluate.truthfulqa_mc` (primer shared through the KV cache,
    every unique (question, choice) scored once), and
(b) lm-evaluation-harness's *built-in* ``truthfulqa_mc1`` and ``truthfulqa_mc2`` tasks
    (``--model hf``, float32, ``log_samples``), fed offline: the group
    ``benchmarks/lm_eval_parity/truthfulqa_local.yaml`` takes both built-in tasks and overrides
    only their data source (``custom_dataset: local_data.load``, which builds the Hub's
    ``truthfulqa/truthful_qa`` ``multiple_choice`` columns from
    ``data/eval/truthfulqa_v1_817_mc_task.json``). Prompt (``doc_to_text``, the QA primer),
    ``doc_to_choice``, ``doc_to_target``, ``target_delimiter`` and ``process_results`` are
    checked to equal the built-in configs before anything runs.

and compares: aggregate MC1 and MC2 (absolute difference, target <= 0.005 each), per-question
MC1 decision agreement (target >= 99 %), per-question |MC2 difference|, and the per-choice total
log-likelihoods (lm-eval's ``resps``; max and mean |difference|). Prints a table, writes a JSON
(``--out``) and exits 1 when a target is missed.

By default lm-eval runs ``truthfulqa_mc2`` first and then ``truthfulqa_mc1`` with lm-eval's own
request cache (``use_cache``, an sqlite file keyed by (context, continuation)): every MC1 choice
is also an MC2 choice with the same context, so MC1 is answered from MC2's forward passes
(6,204 instead of 10,390 rows on the full set; same numbers, as the cache stores exactly what
the model returned). ``--no-lm-eval-cache`` runs both tasks uncached in one ``simple_evaluate``,
as ``lm_eval --tasks truthfulqa_mc1,truthfulqa_mc2`` does.

Not part of the test suite, and lm-eval is not a project dependency: run it in a scratch venv
(CPU torch, lm-eval 0.4.13, the project's transformers, curate installed without deps)::

    python3 -m venv /tmp/lmeval-venv
    /tmp/lmeval-venv/bin/pip install torch==2.13.0 lm-eval==0.4.13 transformers==5.23.0 \\
        accelerate -c requirements.lock
    /tmp/lmeval-venv/bin/pip install --no-deps -e .
    # from the repository root, with outputs/models/base present (curate prepare-student):
    /tmp/lmeval-venv/bin/python benchmarks/lm_eval_parity.py --limit 10    # smoke run, ~2 min
    /tmp/lmeval-venv/bin/python benchmarks/lm_eval_parity.py               # all 817 questions

``--lm-eval-from REPORT`` re-checks curate's scorer after a change without rerunning lm-eval
(44 min on 2 cores): lm-eval's side (per-choice log-likelihoods, MC1/MC2 per question and in
all) is read from an earlier full report of the same checkpoint, and only curate scores again.
It runs in the project's own venv (no lm-eval import); the report also gives the largest
difference from the earlier curate scores, which shows the checkpoint is the same::

    python benchmarks/lm_eval_parity.py --lm-eval-from benchmarks/results/lm_eval_parity.json \
        --out benchmarks/results/lm_eval_parity_rescored.json

Nothing is downloaded: the script sets ``HF_DATASETS_OFFLINE``, ``HF_HUB_OFFLINE`` and
``TRANSFORMERS_OFFLINE`` before importing transformers/datasets/lm-eval.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TASK_DIR = ROOT / "benchmarks/lm_eval_parity"
DATA = ROOT / "data/eval/truthfulqa_v1_817_mc_task.json"

#: TaskConfig fields that decide what is scored and how; they must equal the built-in tasks'.
SCORING_FIELDS = ("output_type", "validation_split", "test_split", "process_docs", "doc_to_text",
                  "doc_to_target", "doc_to_choice", "process_results", "use_prompt", "description",
                  "target_delimiter", "fewshot_delimiter", "num_fewshot", "metric_list", "repeats",
                  "filter_list", "gen_prefix")

TARGETS = {"mc1_abs_diff": 0.005, "mc2_abs_diff": 0.005, "mc1_agreement": 0.99}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model-dir", default="outputs/models/base")
    p.add_argument("--limit", type=int, default=None, help="first N questions (default: all 817)")
    p.add_argument("--batch-size", type=int, default=32, help="lm-eval batch size (rows)")
    p.add_argument("--curate-batch-size", type=int, default=32, help="truthfulqa_mc batch_size")
    p.add_argument("--threads", type=int, default=1, help="torch threads for both scorers")
    p.add_argument("--no-lm-eval-cache", action="store_true",
                   help="score mc1 and mc2 separately in lm-eval (no request cache)")
    p.add_argument("--lm-eval-cache", default=None, metavar="PATH",
                   help="keep lm-eval's request cache in PATH (sqlite; default: a temporary file): "
                        "a killed run resumes from it, but then lm-eval's runtime is not comparable")
    p.add_argument("--lm-eval-from", default=None, metavar="REPORT",
                   help="take lm-eval's results from an earlier report of this script (same checkpoint) "
                        "instead of running lm-eval")
    p.add_argument("--out", default="benchmarks/results/lm_eval_parity.json")
    return p.parse_args(argv)


def lm_eval_from_report(path: str, questions: list[dict]) -> tuple[dict, dict]:
    """``(lme, earlier)``: lm-eval's per-question results from an earlier report, in the form
    :func:`run_lm_eval` returns, and the report itself. Raises ``SystemExit`` when the report
    does not cover ``questions``."""
    rep = json.loads(Path(path).read_text(encoding="utf-8"))
    pq = rep["per_question"]
    if rep["limit"] is not None or len(pq) < len(questions):
        raise SystemExit(f"{path}: holds {len(pq)} questions (limit {rep['limit']}), {len(questions)} asked")
    comp, rt = rep["comparison"], rep["runtime_seconds"]
    lme = {}
    for t in ("mc1", "mc2"):
        docs = [{"doc_id": r["doc_id"], "choices": list(q[f"{t}_targets"]), "acc": r[f"lm_eval_{t}"],
                 "lls": r[f"lm_eval_{t}_lls"], "filtered_lls": r[f"lm_eval_{t}_lls"]}
                for r, q in zip(pq, questions)]
        accs = [d["acc"] for d in docs]
        n, mean = len(accs), sum(accs) / len(accs)
        se = math.sqrt(sum((a - mean) ** 2 for a in accs) / (n - 1) / n) if n > 1 else float("nan")
        lme[f"truthfulqa_{t}"] = {"docs": docs, "acc": mean, "acc_stderr": se, "seconds": rt[f"lm_eval_{t}"]}
    lme["load_seconds"], lme["total_seconds"] = rt["lm_eval_load"], rt["lm_eval_total"]
    return lme, rep


def _setup_env(threads: int) -> None:
    for k in ("HF_DATASETS_OFFLINE", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ[k] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    os.environ.setdefault("MKL_NUM_THREADS", str(threads))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


# --------------------------------------------------------------------------- lm-eval side


def _same(a, b) -> bool:
    if callable(a) and callable(b):
        return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == \
               (getattr(b, "__module__", None), getattr(b, "__qualname__", None))
    return a == b


def local_tasks() -> dict:
    """``{"truthfulqa_mc1": Task, "truthfulqa_mc2": Task}`` reading the local data, after checking
    their scoring fields against the built-in YAMLs (raises ``AssertionError`` on a difference)."""
    import lm_eval.tasks
    from lm_eval.config.task import TaskConfig
    from lm_eval.tasks import TaskManager
    from lm_eval.tasks._yaml_loader import load_yaml

    tm = TaskManager(include_path=str(TASK_DIR))
    tasks = tm.load(["truthfulqa_local"])["tasks"]
    builtin_dir = Path(lm_eval.tasks.__file__).parent / "truthfulqa"
    for name in ("truthfulqa_mc1", "truthfulqa_mc2"):
        raw = load_yaml(builtin_dir / f"{name}.yaml", resolve_func=True)
        ref = TaskConfig(**{k: v for k, v in raw.items() if k != "tag"})
        got = tasks[name].config
        bad = [f for f in SCORING_FIELDS if not _same(getattr(ref, f), getattr(got, f))]
        assert not bad, f"{name}: fields differ from the built-in task: {bad}"
        assert got.dataset_path is None and callable(got.custom_dataset), "not the local data"
    return tasks


def _ll(resp) -> float:
    """Log-likelihood from one ``resps`` entry: ``[(ll, is_greedy)]`` or ``(ll, is_greedy)``."""
    while isinstance(resp, (list, tuple)):
        resp = resp[0]
    return float(resp)


def run_lm_eval(model_dir: str, limit: int | None, batch_size: int, use_cache: bool,
                cache_path: str | None = None) -> dict:
    """Per task: ``{"acc", "acc_stderr", "seconds", "docs": [{"doc_id", "acc", "lls",
    "filtered_lls"}] sorted by doc_id}``, plus ``"load_seconds"``."""
    import lm_eval
    from lm_eval.models.huggingface import HFLM

    t0 = time.perf_counter()
    lm = HFLM(pretrained=model_dir, dtype="float32", batch_size=batch_size, device="cpu")
    tasks = local_tasks()
    out: dict = {"load_seconds": time.perf_counter() - t0, "cached": use_cache}
    order = [["truthfulqa_mc2"], ["truthfulqa_mc1"]] if use_cache else [["truthfulqa_mc1", "truthfulqa_mc2"]]
    with tempfile.TemporaryDirectory(prefix="lm_eval_parity_") as tmp:
        for names in order:
            t = time.perf_counter()
            res = lm_eval.simple_evaluate(
                model=lm, tasks=[tasks[n] for n in names], limit=limit, log_samples=True,
                use_cache=(cache_path or os.path.join(tmp, "requests")) if use_cache else None)
            dt = time.perf_counter() - t
            for n in names:
                r = res["results"][n]
                docs = sorted(res["samples"][n], key=lambda s: s["doc_id"])
                out[n] = {"acc": float(r["acc,none"]), "acc_stderr": float(r["acc_stderr,none"]),
                          "seconds": dt / len(names), "n": len(docs),
                          "docs": [{"doc_id": s["doc_id"], "acc": float(s["acc"]),
                                    "lls": [_ll(x) for x in s["resps"]],
                                    "filtered_lls": [_ll(x) for x in s["filtered_resps"]],
                                    "choices": s["doc"][("mc1" if n.endswith("mc1") else "mc2") + "_targets"]["choices"]}
                                   for s in docs]}
            if len(names) == 2:
                out["joint_seconds"] = dt
    return out


# --------------------------------------------------------------------------- curate side


def run_curate(model_dir: str, questions: list[dict], batch_size: int, threads: int) -> dict:
    from curate.models.lm import load_causal_lm
    from curate.training.evaluate import truthfulqa_mc

    t0 = time.perf_counter()
    model, tok = load_causal_lm(model_dir, torch_threads=threads)
    t1 = time.perf_counter()
    res = truthfulqa_mc(model, tok, questions, batch_size=batch_size)
    res["load_seconds"], res["seconds"] = t1 - t0, time.perf_counter() - t1
    return res


# --------------------------------------------------------------------------- comparison


def compare(cur: dict, lme: dict, questions: list[dict]) -> dict:
    n = len(questions)
    m1, m2 = lme["truthfulqa_mc1"]["docs"], lme["truthfulqa_mc2"]["docs"]
    assert [d["doc_id"] for d in m1] == list(range(n)) == [d["doc_id"] for d in m2], "doc ids"
    agree, mc1_disagree, mc2_diffs, ll_diffs, filt_diffs, worst = 0, [], [], [], [], None
    for i, (q, pc, d1, d2) in enumerate(zip(questions, cur["per_question"], m1, m2)):
        assert d1["choices"] == list(q["mc1_targets"]) and d2["choices"] == list(q["mc2_targets"]), f"choices of {i}"
        if pc["mc1"] == d1["acc"]:
            agree += 1
        else:
            l = d1["lls"]
            top2 = sorted(l, reverse=True)[:2]
            mc1_disagree.append({"doc_id": i, "question": q["question"], "curate_mc1": pc["mc1"],
                                 "lm_eval_mc1": d1["acc"], "lm_eval_top2_gap": top2[0] - top2[1]})
        mc2_diffs.append(abs(pc["mc2"] - d2["acc"]))
        for task, mine, theirs in (("mc1", pc["mc1_lls"], d1), ("mc2", pc["mc2_lls"], d2)):
            for j, (a, b, fb) in enumerate(zip(mine, theirs["lls"], theirs["filtered_lls"])):
                ll_diffs.append(abs(a - b))
                filt_diffs.append(abs(a - fb))
                if worst is None or abs(a - b) > worst["abs_diff"]:
                    worst = {"doc_id": i, "task": task, "choice": j, "curate": a, "lm_eval": b, "abs_diff": abs(a - b)}
    mc1_c, mc1_l = cur["mc1"], lme["truthfulqa_mc1"]["acc"]
    mc2_c, mc2_l = cur["mc2"], lme["truthfulqa_mc2"]["acc"]
    comp = {
        "n_questions": n, "n_choice_lls": len(ll_diffs),
        "mc1": {"curate": mc1_c, "lm_eval": mc1_l, "abs_diff": abs(mc1_c - mc1_l),
                "curate_stderr": cur["mc1_stderr"], "lm_eval_stderr": lme["truthfulqa_mc1"]["acc_stderr"]},
        "mc2": {"curate": mc2_c, "lm_eval": mc2_l, "abs_diff": abs(mc2_c - mc2_l),
                "curate_stderr": cur["mc2_stderr"], "lm_eval_stderr": lme["truthfulqa_mc2"]["acc_stderr"]},
        "mc1_agreement": agree / n, "mc1_disagreements": mc1_disagree,
        "mc2_per_question_abs_diff": {"max": max(mc2_diffs), "mean": sum(mc2_diffs) / n},
        "ll_abs_diff": {"max": max(ll_diffs), "mean": sum(ll_diffs) / len(ll_diffs),
                        "n_over_1e-3": sum(d > 1e-3 for d in ll_diffs),
                        "max_vs_filtered_resps": max(filt_diffs), "worst": worst},
    }
    comp["targets"] = TARGETS
    comp["pass"] = {"mc1_abs_diff": comp["mc1"]["abs_diff"] <= TARGETS["mc1_abs_diff"],
                    "mc2_abs_diff": comp["mc2"]["abs_diff"] <= TARGETS["mc2_abs_diff"],
                    "mc1_agreement": comp["mc1_agreement"] >= TARGETS["mc1_agreement"]}
    return comp


def table(comp: dict, cur: dict, lme: dict) -> str:
    from tabulate import tabulate

    lm_s = lme["truthfulqa_mc1"]["seconds"] + lme["truthfulqa_mc2"]["seconds"]
    rows = [
        ["MC1", f"{comp['mc1']['curate']:.4f}", f"{comp['mc1']['lm_eval']:.4f}", f"{comp['mc1']['abs_diff']:.2e}",
         f"<= {TARGETS['mc1_abs_diff']}", comp["pass"]["mc1_abs_diff"]],
        ["MC2", f"{comp['mc2']['curate']:.4f}", f"{comp['mc2']['lm_eval']:.4f}", f"{comp['mc2']['abs_diff']:.2e}",
         f"<= {TARGETS['mc2_abs_diff']}", comp["pass"]["mc2_abs_diff"]],
        ["MC1 decision agreement", "", "", f"{100 * comp['mc1_agreement']:.2f} %",
         f">= {100 * TARGETS['mc1_agreement']:.0f} %", comp["pass"]["mc1_agreement"]],
        ["max |MC2 diff| per question", "", "", f"{comp['mc2_per_question_abs_diff']['max']:.2e}", "", ""],
        ["max |ll diff| per choice (nats)", "", "", f"{comp['ll_abs_diff']['max']:.2e}", "", ""],
        ["mean |ll diff| per choice (nats)", "", "", f"{comp['ll_abs_diff']['mean']:.2e}", "", ""],
        ["scoring seconds", f"{cur['seconds']:.1f}", f"{lm_s:.1f}", "", "", ""],
    ]
    return tabulate(rows, headers=["", "curate", "lm-eval", "|diff|", "target", "pass"])


def main(argv=None) -> int:
    args = parse_args(argv)
    _setup_env(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    model_dir = str((Path.cwd() / args.model_dir).resolve())
    questions = json.loads(DATA.read_text(encoding="utf-8"))
    if args.limit is not None:
        questions = questions[: args.limit]

    earlier = None
    if args.lm_eval_from:
        lme, earlier = lm_eval_from_report(args.lm_eval_from, questions)
        lme = {k: (dict(v, docs=v["docs"][: len(questions)]) if isinstance(v, dict) else v) for k, v in lme.items()}
    else:
        t = time.perf_counter()
        lme = run_lm_eval(model_dir, args.limit, args.batch_size, use_cache=not args.no_lm_eval_cache,
                          cache_path=args.lm_eval_cache)
        lme["total_seconds"] = time.perf_counter() - t
        print(f"lm-eval done in {lme['total_seconds']:.0f} s", file=sys.stderr, flush=True)
    cur = run_curate(model_dir, questions, args.curate_batch_size, args.threads)
    print(f"curate done in {cur['seconds']:.0f} s", file=sys.stderr, flush=True)
    comp = compare(cur, lme, questions)
    print(table(comp, cur, lme))

    import transformers

    if earlier is None:
        import lm_eval

        lm_eval_version = lm_eval.__version__
    else:
        lm_eval_version = earlier["versions"]["lm_eval"]
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "model_dir": args.model_dir, "limit": args.limit, "n_questions": len(questions),
        "lm_eval_batch_size": earlier["lm_eval_batch_size"] if earlier else args.batch_size,
        "curate_batch_size": args.curate_batch_size, "torch_threads": args.threads,
        "lm_eval_request_cache": earlier["lm_eval_request_cache"] if earlier else not args.no_lm_eval_cache,
        "lm_eval_cache_path": earlier["lm_eval_cache_path"] if earlier else args.lm_eval_cache,
        "lm_eval_from": args.lm_eval_from,
        "versions": {"lm_eval": lm_eval_version, "torch": torch.__version__,
                     "transformers": transformers.__version__, "python": platform.python_version()},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "comparison": comp,
        "runtime_seconds": {
            "curate_scoring": cur["seconds"], "curate_load": cur["load_seconds"],
            "curate_scored_rows": cur["n_scored_choices"],
            "lm_eval_mc1": lme["truthfulqa_mc1"]["seconds"], "lm_eval_mc2": lme["truthfulqa_mc2"]["seconds"],
            "lm_eval_load": lme["load_seconds"], "lm_eval_total": lme["total_seconds"],
            "lm_eval_rows": sum(len(d["lls"]) for t in ("truthfulqa_mc1", "truthfulqa_mc2") for d in lme[t]["docs"]),
        },
        "per_question": [
            {"doc_id": i, "curate_mc1": pc["mc1"], "lm_eval_mc1": d1["acc"], "curate_mc2": pc["mc2"],
             "lm_eval_mc2": d2["acc"], "curate_mc2_lls": pc["mc2_lls"], "lm_eval_mc2_lls": d2["lls"],
             "curate_mc1_lls": pc["mc1_lls"], "lm_eval_mc1_lls": d1["lls"]}
            for i, (pc, d1, d2) in enumerate(zip(cur["per_question"], lme["truthfulqa_mc1"]["docs"],
                                                 lme["truthfulqa_mc2"]["docs"]))],
    }
    if earlier is not None:  # same checkpoint, earlier curate scorer
        before = [x for r in earlier["per_question"][: len(questions)] for x in r["curate_mc1_lls"] + r["curate_mc2_lls"]]
        now = [x for pc in cur["per_question"] for x in pc["mc1_lls"] + pc["mc2_lls"]]
        report["max_ll_diff_vs_earlier_curate"] = max(abs(a - b) for a, b in zip(before, now))
        report["earlier_command"] = earlier["command"]
        print(f"max |ll diff| vs the earlier curate scores: {report['max_ll_diff_vs_earlier_curate']:.2e}",
              file=sys.stderr)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0 if all(comp["pass"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

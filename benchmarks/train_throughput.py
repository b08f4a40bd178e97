"""SFT throughput: a plain fp32 Hugging Face ``Trainer`` against curate's ``train``, in one run.

Same student (``outputs/models/base``), same records (a seeded sample of the real Alpaca
records), same tokenization (:func:`curate.training.sft.tokenize_example`: Alpaca's prompt,
``max_length`` truncation, loss on response tokens), same optimizer, schedule, batch size,
accumulation and number of optimizer steps. Three configurations, run alternately
``--repeats`` times so that a slower moment of a shared machine hits all of them:

1. ``baseline``: a plain ``transformers.Trainer`` in fp32, batches in random order padded to
   their longest example (``DataCollatorForSeq2Seq``), i.e. curate's training before issue 12;
2. ``grouped``: curate's ``train`` with ``group_by_length`` and ``precision: fp32``;
3. ``curate``: curate's default, ``group_by_length`` and ``precision: auto`` (bf16 autocast
   where the CPU has AMX-BF16/AVX512-BF16 and the first batch's bf16 loss is within
   ``bf16_tolerance`` of fp32).

Throughput = real (non-pad) tokens of every batch / Trainer's ``train_runtime`` (model loading
and saving excluded). Prints one JSON object with each run, the medians and the ratios
against the baseline; exits 1 when the curate/baseline ratio is below ``--goal`` (2.0).

    python benchmarks/train_throughput.py [--n 96] [--batch 8] [--accum 2] [--max-length 256] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RECORDS = ROOT / "data/alpaca/alpaca52k_real_subset.json"


def sample(n: int, seed: int) -> list[dict]:
    from curate.training.sft import select_subset

    records = json.loads(RECORDS.read_text(encoding="utf-8"))
    return select_subset([{**r, "id": str(i)} for i, r in enumerate(records)], n, seed)


def recipe(args) -> dict:
    """The shared params (curate's ``train`` section): one epoch of ``n`` records."""
    return {"max_length": args.max_length, "per_device_train_batch_size": args.batch,
            "gradient_accumulation_steps": args.accum, "learning_rate": 1.0e-4, "num_train_epochs": 1,
            "seed": args.seed, "n_examples": None, "max_steps": -1}  # one epoch, not train's default steps


def baseline(model_dir: Path, records: list[dict], p: dict, out: Path) -> dict:
    """A plain fp32 ``Trainer`` with transformers' own seq2seq collator (dynamic padding to the
    longest example of each randomly drawn batch)."""
    import torch
    from transformers import (AutoModelForCausalLM, AutoTokenizer, DataCollatorForSeq2Seq, Trainer,
                              TrainingArguments, set_seed)

    from curate.training.sft import tokenize_example

    set_seed(p["seed"])
    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model.config.use_cache = False
    examples = [tokenize_example(r, tok, p["max_length"]) for r in records]
    seen = {"real": 0, "padded": 0}
    collate = DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100, return_tensors="pt")

    def counting(features):
        batch = collate(features)
        seen["real"] += int(batch["attention_mask"].sum())
        seen["padded"] += int(batch["input_ids"].numel())
        return batch

    args = TrainingArguments(
        output_dir=str(out), per_device_train_batch_size=p["per_device_train_batch_size"],
        gradient_accumulation_steps=p["gradient_accumulation_steps"], num_train_epochs=1, max_steps=p["max_steps"],
        learning_rate=p["learning_rate"], warmup_steps=0.03, lr_scheduler_type="cosine", optim="adamw_torch",
        logging_steps=1, save_strategy="no", report_to="none", use_cpu=True, seed=p["seed"],
        data_seed=p["seed"], remove_unused_columns=False, disable_tqdm=True)
    trainer = Trainer(model=model, args=args, train_dataset=examples, data_collator=counting)
    result = trainer.train()
    runtime = float(result.metrics["train_runtime"])
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    return {"train_seconds": round(runtime, 2), "tokens_seen": seen["real"], "padded_tokens_seen": seen["padded"],
            "padding_overhead": round(seen["padded"] / seen["real"] - 1, 4),
            "tokens_per_s": round(seen["real"] / runtime, 1), "steps": trainer.state.global_step,
            "loss_mean": sum(losses) / len(losses), "precision": "fp32"}


def curate_run(model_dir: Path, records: list[dict], p: dict, out: Path, precision: str) -> dict:
    from curate.training.sft import train

    m = train("benchmark sample", model_dir, out, {**p, "group_by_length": True, "precision": precision},
              subset=records)
    return {k: m[k] for k in ("train_seconds", "tokens_seen", "padded_tokens_seen", "padding_overhead",
                              "tokens_per_s", "steps")} | {"loss_mean": m["train_loss_mean"],
                                                           "precision": m["precision"]}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", type=Path, default=ROOT / "outputs/models/base")
    ap.add_argument("--n", type=int, default=96, help="records = one epoch (steps = n / (batch * accum))")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--accum", type=int, default=2)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--goal", type=float, default=2.0)
    ap.add_argument("--configs", default="baseline,grouped,curate")
    ap.add_argument("--json", type=Path, help="also write the result here")
    args = ap.parse_args(argv)
    if not (args.model / "config.json").is_file():
        print(f"{args.model}: no checkpoint; run `curate prepare-student` (or `dvc repro prepare_student`)")
        return 2
    os.environ.setdefault("CURATE_QUIET", "1")
    records, p = sample(args.n, args.seed), recipe(args)
    runs: dict[str, list[dict]] = {c: [] for c in args.configs.split(",")}
    tmp = Path(tempfile.mkdtemp(prefix="train_throughput_"))
    try:
        for rep in range(args.repeats):
            for c in runs:
                t0 = time.time()
                out = tmp / f"{c}{rep}"
                r = (baseline(args.model, records, p, out) if c == "baseline" else
                     curate_run(args.model, records, p, out, "fp32" if c == "grouped" else "auto"))
                r["wall_seconds"] = round(time.time() - t0, 1)
                runs[c].append(r)
                shutil.rmtree(out, ignore_errors=True)
                print(json.dumps({"config": c, "repeat": rep, **{k: v for k, v in r.items() if k != "precision"}}),
                      flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {c: statistics.median(r["tokens_per_s"] for r in rs) for c, rs in runs.items()}
    base = med.get("baseline")
    cpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout if shutil.which("lscpu") else ""
    model_name = next((line.split(":", 1)[1].strip() for line in cpu.splitlines() if line.startswith("Model name")),
                      platform.processor())
    result = {
        "benchmark": "train_throughput", "date": time.strftime("%Y-%m-%d"), "cpu": model_name,
        "threads": __import__("torch").get_num_threads(), "recipe": p, "records": len(records),
        "median_tokens_per_s": med,
        "ratio_vs_baseline": {c: round(v / base, 2) for c, v in med.items()} if base else None,
        "precision_decision": next((r["precision"] for r in runs.get("curate", [])), None),
        "runs": runs, "goal": args.goal,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    ratio = (result["ratio_vs_baseline"] or {}).get("curate")
    return 0 if ratio is None or ratio >= args.goal else 1


if __name__ == "__main__":
    raise SystemExit(main())

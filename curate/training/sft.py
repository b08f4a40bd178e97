"""Supervised fine-tuning (SFT) with Stanford Alpaca's recipe, sized for a 2-core CPU by params.

Method (tatsu-lab/stanford_alpaca ``train.py``):

* source = Alpaca prompt (:func:`curate.core.prompts.format_prompt`),
  target = ``output + tokenizer.eos_token``;
* ``input_ids`` = tokens of ``source + target`` truncated to ``max_length``; ``labels`` = a copy
  with the first ``len(tokens(source))`` positions set to ``IGNORE_INDEX`` (-100), so the loss
  is computed on response tokens (and EOS) only;
* batches are right-padded to their longest sequence (pad label -100, attention mask 0);
  the masking and padding are :func:`curate.models.lm.mask_prompt` and
  :func:`curate.models.lm.pad_batch`, the ones evaluation's response loss uses;
* transformers ``Trainer`` with AdamW, cosine schedule with linear warmup (``warmup_ratio``),
  weight decay 0, gradient accumulation up to the effective batch.

Differences from Alpaca that are not params: the student is SmolLM2-135M-Instruct (already
instruction-tuned, de-quantised from Q4_1, see :mod:`curate.models.student`), whose EOS
token is ``<|im_end|>`` and which adds no BOS token; training runs in float32 on CPU
(Alpaca: bf16 + FSDP on 4 A100s). ``Trainer`` in transformers 5 averages the loss over all
response tokens of the effective batch (``num_items_in_batch``) rather than averaging
per-micro-batch means.

The defaults (params ``train:`` section) are a CPU-sized run: ``n_examples`` 256 records per
ablation arm, ``max_length`` 256, micro-batch 8 x 2 accumulation = effective batch 16, and a
fixed ``max_steps`` 16 for every arm (one epoch of 256; an arm with fewer records repeats them),
so arms differ only in which records they see. Speed on this 2-core CPU
(``benchmarks/train_throughput.py``, docs/ablation.md): the plain fp32 ``Trainer`` baseline
pads every batch to its longest example in random order (~0.8 padding tokens per real token);
length-grouped batches (``group_by_length``: transformers' ``LengthGroupedSampler``, megabatches
of ``min(50, len // (4 x batch))`` batches sorted by length) and bf16 autocast (``precision:
auto``, :func:`choose_precision`) together give about 3x the tokens/s.
The learning rate default is 1e-4, not Alpaca's 2e-5: Alpaca's value is for a 7B model
(hidden 4096) over ~1,200 steps; a 135M model (hidden 576) tolerates larger rates, and with
only 9 effective steps of cosine decay 2e-5 barely moves the weights, so a raw-vs-clean
comparison would measure noise. 1e-4 is a judgement call, not a tuned value. The full recipe
is only a params override: ``n_examples: null, num_train_epochs: 3, learning_rate: 2.0e-5,
max_length: 512, per_device_train_batch_size: 4, gradient_accumulation_steps: 32``
(effective batch 128), ``warmup_ratio: 0.03``, ``lr_scheduler_type: cosine``.

Why ``Trainer``: it works on CPU here (``use_cpu`` unless CUDA is available) and gives Alpaca's optimiser and
schedule; a list of tokenized dicts is its dataset, shuffled with ``seed``. Per-step losses
come from ``trainer.state.log_history`` (``logging_steps=1``).
"""

from __future__ import annotations

import csv
import hashlib
import math
import json
import shutil
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

from curate.core.config import TrainRun, validate_section
from curate.core.io import read_records
from curate.core.progress import progress
from curate.core.prompts import format_prompt
from curate.models.lm import IGNORE_INDEX, load_causal_lm, mask_prompt, pad_batch
from curate.models.student import offline

#: Re-exported from :mod:`curate.models.lm` (the one masking convention).
__all__ = ["DEFAULT_PARAMS", "IGNORE_INDEX", "SupervisedCollator", "merged_params", "sample_key",
           "select_subset", "tokenize_example", "train"]

#: Defaults of the params ``train:`` section plus ``seed`` (from :class:`curate.core.config.TrainRun`,
#: the one source of them); every key can be overridden.
DEFAULT_PARAMS: dict[str, Any] = TrainRun().model_dump()


def merged_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``params`` (possibly partial) validated by :class:`curate.core.config.TrainRun`, defaults
    filled in; raises :class:`curate.core.config.ParamsError` (a ``CurateError``) on an unknown key,
    a wrong type or a value out of range."""
    return validate_section(TrainRun, params, "train")


# --------------------------------------------------------------------------- data


def sample_key(seed: int, record_id: str) -> str:
    """Sort key of a record in the seeded sample: SHA-256 of ``"{seed}:{id}"`` (hex)."""
    return hashlib.sha256(f"{seed}:{record_id}".encode("utf-8")).hexdigest()


def select_subset(records: Sequence[Mapping[str, Any]], n: int | None, seed: int) -> list[dict]:
    """Deterministic seeded sample of ``n`` records (``None`` or ``n >= len``: all records).

    Records are ranked by :func:`sample_key` of ``(seed, id)`` and the ``n`` lowest are kept,
    in that (pseudo-random) order. Because the rank depends only on a record's own id, the
    sample does not depend on row order, and the same procedure applied to raw and to clean
    data keeps every clean record that was in the raw sample, replacing only dropped ones.
    Ties (duplicate ids) are broken by the text fields. Raises ``ValueError`` if ``n < 0``.
    """
    if n is not None and n < 0:
        raise ValueError(f"n_examples must be >= 0 or null, got {n}")
    ranked = sorted(
        (dict(r) for r in records),
        key=lambda r: (sample_key(seed, r["id"]), r["instruction"], r.get("input") or "", r["output"]),
    )
    return ranked if n is None else ranked[:n]


def tokenize_example(record: Mapping[str, Any], tokenizer, max_length: int) -> dict[str, list[int]]:
    """One record -> ``{"input_ids": [T], "labels": [T]}`` with T <= ``max_length``.

    As Alpaca's ``preprocess``: tokenize ``source + target`` and ``source`` separately
    (both truncated to ``max_length``), copy ``input_ids`` to ``labels`` and set the first
    ``len(source tokens)`` labels to ``IGNORE_INDEX``. If the prompt alone fills
    ``max_length`` every label is ``IGNORE_INDEX`` (the example contributes no loss).
    """
    source = format_prompt(record)
    target = f"{record['output']}{tokenizer.eos_token}"
    ids = tokenizer(source + target, truncation=True, max_length=max_length)["input_ids"]
    n_source = len(tokenizer(source, truncation=True, max_length=max_length)["input_ids"])
    return {"input_ids": list(ids), "labels": mask_prompt(ids, n_source)}


class SupervisedCollator:
    """Right-pad a list of tokenized examples to the longest one (dynamic padding).

    Returns ``input_ids`` [B, T] (pad id), ``labels`` [B, T] (pad ``IGNORE_INDEX``) and
    ``attention_mask`` [B, T] (1 = real token), as Alpaca's ``DataCollatorForSupervisedDataset``:
    :func:`curate.models.lm.pad_batch`, the padding evaluation's response loss uses too.
    ``padded_tokens`` / ``real_tokens`` count the B x T positions and the real tokens of every
    batch built, so a run can report its padding overhead.
    """

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id
        self.padded_tokens = 0
        self.real_tokens = 0

    def __call__(self, features: list[dict]) -> dict:
        batch = pad_batch(features, self.pad_token_id)
        self.padded_tokens += int(batch["input_ids"].numel())
        self.real_tokens += int(batch["attention_mask"].sum())
        return batch


# --------------------------------------------------------------------------- precision


def cpu_bf16_flags() -> list[str]:
    """The CPU's native bf16 instruction sets among ``amx_bf16`` and ``avx512_bf16`` (Linux
    ``/proc/cpuinfo`` flags; elsewhere torch's private CPU probes when present, else ``[]``).
    oneDNN runs bf16 matmuls on them; without them bf16 is emulated and slower than fp32."""
    try:
        flags = set(Path("/proc/cpuinfo").read_text().split())
        return [f for f in ("amx_bf16", "avx512_bf16") if f in flags]
    except OSError:
        import torch

        cpu = getattr(torch, "cpu", None)
        probes = (("amx_bf16", "_is_amx_tile_supported"), ("avx512_bf16", "_is_avx512_bf16_supported"))
        return [name for name, fn in probes if getattr(cpu, fn, lambda: False)()]


def choose_precision(model, batch: Mapping, p: Mapping) -> dict:
    """Decide fp32 or bf16 autocast for training, from ``p["precision"]``.

    ``fp32``: always fp32. ``bf16``: bf16 autocast (``torch.autocast("cpu", torch.bfloat16)``,
    what ``TrainingArguments(bf16=True)`` enables on CPU; the weights and optimizer state stay
    fp32). ``auto``: bf16 when :func:`cpu_bf16_flags` finds native support *and* the loss of
    ``batch`` (a collated batch with labels) under autocast is within ``p["bf16_tolerance"]``
    (relative) of the fp32 loss; else fp32. Both losses are measured for every choice except
    ``fp32`` forced. Returns ``{"precision": "bf16"|"fp32", "why": str, "cpu_bf16": [...],
    "loss_fp32": float|None, "loss_bf16": float|None, "rel_diff": float|None}``.
    """
    import torch

    flags = cpu_bf16_flags()
    out = {"cpu_bf16": flags, "loss_fp32": None, "loss_bf16": None, "rel_diff": None}
    if p["precision"] == "fp32":
        return {**out, "precision": "fp32", "why": "train.precision: fp32"}
    if torch.cuda.is_available():  # Trainer trains on the GPU: its bf16 support counts, not the CPU's
        flags = ["cuda_bf16"] if torch.cuda.is_bf16_supported() else []
        out["cuda_bf16"] = bool(flags)
    if p["precision"] == "auto" and not flags:
        return {**out, "precision": "fp32", "why": "auto: no AMX-BF16/AVX512-BF16 on this CPU (bf16 would be emulated)"}
    with torch.no_grad():
        l32 = float(model(**batch).loss)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            l16 = float(model(**batch).loss)
    rel = abs(l16 - l32) / max(abs(l32), 1e-12)
    out.update(loss_fp32=l32, loss_bf16=l16, rel_diff=rel)
    if p["precision"] == "bf16":
        return {**out, "precision": "bf16", "why": "train.precision: bf16"}
    if not math.isfinite(rel):  # NaN compares False with any tolerance: never let it pass as agreement
        return {**out, "precision": "fp32", "why": "auto: first-batch loss not finite, bf16 cannot be checked"}
    if rel > p["bf16_tolerance"]:
        return {**out, "precision": "fp32",
                "why": f"auto: bf16 loss differs by {rel:.2%} > bf16_tolerance {p['bf16_tolerance']:.2%}"}
    return {**out, "precision": "bf16",
            "why": f"auto: {'+'.join(flags)}; bf16 loss within {rel:.2%} of fp32 (tolerance {p['bf16_tolerance']:.2%})"}


# --------------------------------------------------------------------------- training


def _examples(records_path, records: list[dict], tokenizer,
              p: Mapping) -> tuple[list[dict], list[dict], list[dict]]:
    """``(records kept by train.sources, subset, tokenized examples)``: the ``train.sources``
    filter, the seeded sample and :func:`tokenize_example`. Raises ``ValueError`` when nothing
    is left or no response token survives truncation."""
    if p["sources"] is not None:
        records = [r for r in records if r.get("source") in set(p["sources"])]
    subset = select_subset(records, p["n_examples"], p["seed"])
    if not subset:
        raise ValueError(f"{records_path}: no records to train on (train.sources {p['sources']})")
    examples = [tokenize_example(r, tokenizer, p["max_length"]) for r in subset]
    if not any(x != IGNORE_INDEX for e in examples for x in e["labels"]):
        raise ValueError("no response tokens left after truncation; raise max_length")
    return records, subset, examples


def _training_args(p: Mapping, out_dir: Path, bf16: bool = False):
    """Alpaca's optimiser and schedule as ``TrainingArguments`` (CPU, no checkpoints, a log
    entry per optimizer step); ``group_by_length`` from params, ``bf16`` autocast when asked."""
    import torch
    from transformers import TrainingArguments

    return TrainingArguments(
        train_sampling_strategy="group_by_length" if p["group_by_length"] else "random",
        bf16=bf16,
        output_dir=str(out_dir / "_trainer"),
        per_device_train_batch_size=p["per_device_train_batch_size"],
        gradient_accumulation_steps=p["gradient_accumulation_steps"],
        num_train_epochs=p["num_train_epochs"],
        max_steps=p["max_steps"],
        learning_rate=p["learning_rate"],
        weight_decay=p["weight_decay"],
        warmup_steps=p["warmup_ratio"],  # a float < 1 is a ratio of total steps in transformers 5
        lr_scheduler_type=p["lr_scheduler_type"],
        max_grad_norm=p["max_grad_norm"],
        optim="adamw_torch",
        logging_steps=1,
        logging_strategy="steps",
        save_strategy="no",
        eval_strategy="no",
        report_to="none",
        use_cpu=not torch.cuda.is_available(),  # a GPU when there is one (params-gpu.yaml)
        seed=p["seed"],
        data_seed=p["seed"],
        dataloader_num_workers=0,
        remove_unused_columns=False,
        # Trainer's own bar is always off (quiet or not): the args are saved with the model
        # (training_args.bin), so they must not depend on --quiet; _StepBar shows the steps.
        disable_tqdm=True,
    )


def _step_bar():
    """A ``TrainerCallback`` with a progress bar over optimizer steps
    (:func:`curate.core.progress.progress`: stderr, off when quiet). It only reads the state."""
    from transformers import TrainerCallback

    class _StepBar(TrainerCallback):
        bar = None

        def on_train_begin(self, args, state, control, **kwargs):
            self.bar = progress(total=state.max_steps, desc="train", unit="step")

        def on_step_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.update(state.global_step - self.bar.n)

        def on_train_end(self, args, state, control, **kwargs):
            if self.bar is not None:
                self.bar.close()

    return _StepBar()


def _train_metrics(losses, result, trainer, examples, records, subset, p, wall: float) -> dict:
    """The metrics :func:`train` returns; ``tokens`` and ``response_tokens`` are per epoch,
    after truncation, without padding (``response_tokens``: the ones that carry loss)."""
    values = [l for _, l in losses]
    return {
        "train_loss_first": values[0] if values else None,
        "train_loss_last": values[-1] if values else None,
        "train_loss_mean": sum(values) / len(values) if values else None,
        "train_loss_trainer": float(result.training_loss),
        "steps": int(trainer.state.global_step),
        "examples": len(examples),
        "records_available": len(records),
        "epochs": p["num_train_epochs"],
        "tokens": sum(len(e["input_ids"]) for e in examples),
        "response_tokens": sum(sum(1 for x in e["labels"] if x != IGNORE_INDEX) for e in examples),
        "effective_batch": p["per_device_train_batch_size"] * p["gradient_accumulation_steps"],
        "subset_ids_sha256": hashlib.sha256("\n".join(sorted(r["id"] for r in subset)).encode())
        .hexdigest()[:16],
        "wall_seconds": round(wall, 1),
        "params": p,
    }


def _write_outputs(metrics: dict, losses, metrics_path, loss_csv_path) -> None:
    """The metrics JSON and the ``step,loss`` CSV, each when its path is given."""
    if metrics_path:
        Path(metrics_path).parent.mkdir(parents=True, exist_ok=True)
        Path(metrics_path).write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    if loss_csv_path:
        Path(loss_csv_path).parent.mkdir(parents=True, exist_ok=True)
        with open(loss_csv_path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["step", "loss"])
            for step, loss in losses:
                w.writerow([step, f"{loss:.6f}"])


def train(
    records_path: str | Path,
    model_dir: str | Path,
    out_dir: str | Path,
    params: Mapping[str, Any] | None = None,
    metrics_path: str | Path | None = None,
    loss_csv_path: str | Path | None = None,
    *,
    subset: Sequence[Mapping[str, Any]] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Fine-tune the model in ``model_dir`` on a seeded sample of ``records_path``, or on
    ``subset`` (records chosen by the caller, e.g. an ablation arm from
    :mod:`curate.training.arms`; then ``records_path`` only names them in errors and
    ``n_examples``/``sources`` are not applied).

    ``records_path``: curate Parquet records file (:func:`curate.core.io.read_records`).
    ``model_dir``: a Hugging Face checkpoint folder (e.g. from ``prepare_student``).
    ``out_dir``: where the fine-tuned model and tokenizer are saved (overwritten).
    ``params``: overrides of :data:`DEFAULT_PARAMS`.
    ``metrics_path``: JSON with train loss first/last/mean, steps, examples, tokens, wall
    seconds and the exact params. ``loss_csv_path``: CSV ``step,loss`` (one row per optimizer
    step; loss = mean NLL in nats per response token), for ``dvc plots``.

    Speed: batches are padded to their longest example (dynamic padding) and, with
    ``group_by_length``, drawn by transformers' ``LengthGroupedSampler`` (megabatches of 50
    batches sorted by length, so a batch holds similar lengths); precision per
    :func:`choose_precision`. The metrics add ``precision`` (the decision and both first-batch
    losses), ``train_seconds`` (Trainer's runtime), ``tokens_seen``/``padded_tokens_seen`` over
    all batches, ``padding_overhead`` (padded / real - 1) and ``tokens_per_s`` (real tokens per
    second of training), plus ``extra`` (e.g. the arm's description).

    Returns the metrics dict. Raises ``ValueError`` if the sample is empty or has no response
    tokens; ``CurateError`` on an unknown or invalid param or an unreadable records file.
    """
    offline()  # before transformers is imported: the hub reads it at import time
    from transformers import Trainer, set_seed

    p = merged_params(params)
    t0 = time.time()
    set_seed(p["seed"])  # before the model is loaded, as it always was
    model, tokenizer = load_causal_lm(model_dir, torch_threads=p["torch_threads"], for_training=True)
    if subset is None:
        records = read_records(records_path).to_pylist()
        records, subset, examples = _examples(records_path, records, tokenizer, p)  # records: after train.sources
    else:  # a training set chosen by the caller (an ablation arm): no filter, no sampling
        records, subset = list(subset), list(subset)
        if not subset:
            raise ValueError(f"{records_path}: empty training set")
        examples = [tokenize_example(r, tokenizer, p["max_length"]) for r in subset]

    out_dir = Path(out_dir)
    collator = SupervisedCollator(tokenizer.pad_token_id)
    precision = choose_precision(model, pad_batch(examples[: p["per_device_train_batch_size"]],
                                                  tokenizer.pad_token_id), p)
    trainer = Trainer(
        model=model,
        args=_training_args(p, out_dir, bf16=precision["precision"] == "bf16"),
        train_dataset=examples,  # a list is a map-style dataset
        data_collator=collator,
        callbacks=[_step_bar()],
    )
    result = trainer.train()
    losses = [(h["step"], float(h["loss"])) for h in trainer.state.log_history if "loss" in h]

    out_dir.mkdir(parents=True, exist_ok=True)
    model.config.use_cache = True
    trainer.save_model(str(out_dir))
    tokenizer.save_pretrained(out_dir)
    shutil.rmtree(out_dir / "_trainer", ignore_errors=True)

    metrics = _train_metrics(losses, result, trainer, examples, records, subset, p, time.time() - t0)
    runtime = float(result.metrics.get("train_runtime") or 0.0)
    metrics.update({
        "precision": precision,
        "train_seconds": round(runtime, 2),
        "tokens_seen": collator.real_tokens,  # real (non-pad) tokens of every batch, all epochs
        "padded_tokens_seen": collator.padded_tokens,
        "padding_overhead": round(collator.padded_tokens / max(collator.real_tokens, 1) - 1, 4),
        "tokens_per_s": round(collator.real_tokens / runtime, 1) if runtime else None,
        **(extra or {}),
    })
    _write_outputs(metrics, losses, metrics_path, loss_csv_path)
    return metrics

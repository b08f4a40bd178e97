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

The defaults (params ``train:`` section) are a CPU-sized run: 160 examples, ``max_length``
256, 1 epoch, micro-batch 8 x 2 accumulation = effective batch 16, i.e. 10 optimizer steps
(the first is the warmup step, at learning rate 0: ``ceil(0.03 * 10) = 1``). Measured on 2
CPU cores: about 25 s per optimizer step (41% of the examples hit 256 tokens, so batches are
padded to ~256), 4.5-5.5 minutes per run including loading and saving (517 MB).
The learning rate default is 1e-4, not Alpaca's 2e-5: Alpaca's value is for a 7B model
(hidden 4096) over ~1,200 steps; a 135M model (hidden 576) tolerates larger rates, and with
only 9 effective steps of cosine decay 2e-5 barely moves the weights, so a raw-vs-clean
comparison would measure noise. 1e-4 is a judgement call, not a tuned value. The full recipe
is only a params override: ``n_examples: null, num_train_epochs: 3, learning_rate: 2.0e-5,
max_length: 512, per_device_train_batch_size: 4, gradient_accumulation_steps: 32``
(effective batch 128), ``warmup_ratio: 0.03``, ``lr_scheduler_type: cosine``.

Why ``Trainer``: it works on CPU here (``use_cpu=True``) and gives Alpaca's optimiser and
schedule; a list of tokenized dicts is its dataset, shuffled with ``seed``. Per-step losses
come from ``trainer.state.log_history`` (``logging_steps=1``).
"""

from __future__ import annotations

import csv
import hashlib
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
    """Right-pad a list of tokenized examples to the longest one.

    Returns ``input_ids`` [B, T] (pad id), ``labels`` [B, T] (pad ``IGNORE_INDEX``) and
    ``attention_mask`` [B, T] (1 = real token), as Alpaca's ``DataCollatorForSupervisedDataset``:
    :func:`curate.models.lm.pad_batch`, the padding evaluation's response loss uses too.
    """

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, features: list[dict]) -> dict:
        return pad_batch(features, self.pad_token_id)


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


def _training_args(p: Mapping, out_dir: Path):
    """Alpaca's optimiser and schedule as ``TrainingArguments`` (CPU, no checkpoints, a log
    entry per optimizer step)."""
    from transformers import TrainingArguments

    return TrainingArguments(
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
        use_cpu=True,
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
) -> dict:
    """Fine-tune the model in ``model_dir`` on a seeded sample of ``records_path``.

    ``records_path``: curate Parquet records file (:func:`curate.core.io.read_records`).
    ``model_dir``: a Hugging Face checkpoint folder (e.g. from ``prepare_student``).
    ``out_dir``: where the fine-tuned model and tokenizer are saved (overwritten).
    ``params``: overrides of :data:`DEFAULT_PARAMS`.
    ``metrics_path``: JSON with train loss first/last/mean, steps, examples, tokens, wall
    seconds and the exact params. ``loss_csv_path``: CSV ``step,loss`` (one row per optimizer
    step; loss = mean NLL in nats per response token), for ``dvc plots``.

    Returns the metrics dict. Raises ``ValueError`` if the sample is empty or has no response
    tokens; ``CurateError`` on an unknown or invalid param or an unreadable records file.
    """
    offline()  # before transformers is imported: the hub reads it at import time
    from transformers import Trainer, set_seed

    p = merged_params(params)
    t0 = time.time()
    set_seed(p["seed"])  # before the model is loaded, as it always was
    model, tokenizer = load_causal_lm(model_dir, torch_threads=p["torch_threads"], for_training=True)
    records = read_records(records_path).to_pylist()
    records, subset, examples = _examples(records_path, records, tokenizer, p)  # records: after train.sources

    out_dir = Path(out_dir)
    trainer = Trainer(
        model=model,
        args=_training_args(p, out_dir),
        train_dataset=examples,  # a list is a map-style dataset
        data_collator=SupervisedCollator(tokenizer.pad_token_id),
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
    _write_outputs(metrics, losses, metrics_path, loss_csv_path)
    return metrics

